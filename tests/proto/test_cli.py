"""`mxshield check` and `mxshield config`, and configuration errors."""

import json
import os

from harness import COMMON_CONF, DaemonTest, attrs_list, request

CONF = """\
helo_restrictions = reject_non_fqdn_helo_hostname
sender_restrictions = check_sender_access texthash:@TMP@/senders
recipient_restrictions = permit_mynetworks, reject_unauth_destination
"""
FILES = {"senders": "user@example.com REJECT we do not want email from this guy\n"}

CASES = [
    {"recipient": "user@elsewhere.example"},
    {"helo_name": "foo"},
    {"sender": "user@example.com"},
    {},
    {"client_address": "127.0.0.1", "recipient": "user@elsewhere.example"},
]


class Check(DaemonTest):

    def test_check_agrees_with_daemon(self):
        d = self.daemon(CONF, FILES)
        c = self.client(d)
        answers = set()
        for case in CASES:
            daemon_says = c.ask(case)
            answers.add(daemon_says)
            args = ["%s=%s" % kv for kv in attrs_list(case)]
            rc, out, err = self.run_cli("check", "-c", d.conf_path, *args)
            self.assertEqual(rc, 0, err)
            lines = out.rstrip("\n").split("\n")
            self.assertEqual(lines[-1], daemon_says, "text output for %r:\n%s" % (case, out))
            self.assertGreater(len(lines), 1, "no trace before the action line")

            rc, out, err = self.run_cli("check", "-c", d.conf_path, "--json", *args)
            self.assertEqual(rc, 0, err)
            obj = json.loads(out)
            self.assertEqual("action=" + obj["action"], daemon_says, out)
            self.assertIsInstance(obj["trace"], list)
            self.assertTrue(obj["trace"], "empty trace")

            # a policy request on stdin
            rc, out, err = self.run_cli("check", "-c", d.conf_path,
                                        stdin=request(case).decode())
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.rstrip("\n").split("\n")[-1], daemon_says)
        self.assertEqual(len(answers), len(CASES) - 1, "cases did not exercise distinct answers")

    def test_check_trace_names_deciding_restriction(self):
        d = self.daemon(CONF, FILES)
        args = ["%s=%s" % kv for kv in attrs_list({"recipient": "user@elsewhere.example"})]
        rc, out, err = self.run_cli("check", "-c", d.conf_path, *args)
        self.assertIn("reject_unauth_destination", out)
        rc, out, err = self.run_cli("check", "-c", d.conf_path, "--json", *args)
        obj = json.loads(out)
        self.assertIn("reject_unauth_destination", json.dumps(obj["trace"]))
        self.assertIn("permit_mynetworks", json.dumps(obj["trace"]))

    def test_config_prints_non_defaults(self):
        tmp = self.tmpdir()
        path = os.path.join(tmp, "c.conf")
        with open(path, "w") as f:
            f.write(COMMON_CONF + "recipient_restrictions = reject_unauth_destination\n"
                    "policy_attribute_limit = 42\n")
        rc, out, err = self.run_cli("config", "-c", path)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("myhostname = mx.our.example", lines)
        self.assertIn("policy_attribute_limit = 42", lines)
        self.assertTrue(any(l.startswith("recipient_restrictions = ") and
                            "reject_unauth_destination" in l for l in lines), out)
        self.assertFalse(any(l.startswith("policy_line_length_limit") for l in lines),
                         "a default setting printed:\n" + out)
        rc, out, err = self.run_cli("config", "-c", path, "-d")
        self.assertEqual(rc, 0, err)
        self.assertTrue(any(l.startswith("policy_line_length_limit = 2048") for l in out.splitlines()),
                        out[:2000])


class ConfigErrors(DaemonTest):

    def conf(self, text):
        tmp = self.tmpdir()
        path = os.path.join(tmp, "bad.conf")
        with open(path, "w") as f:
            f.write(text.replace("@TMP@", tmp))
        return path, text.count("\n")

    def assertRefused(self, path, *needles, commands=("serve", "check", "config")):
        for cmd in commands:
            args = [cmd, "-c", path]
            if cmd == "check":
                args += ["recipient=a@b.example"]
            rc, out, err = self.run_cli(*args, timeout=5)
            self.assertEqual(rc, 1, "%s exit status with a bad config (stderr %r)" % (cmd, err))
            for n in needles:
                self.assertIn(n, err, "%s: message lacks %r" % (cmd, n))

    def test_unknown_parameter(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "# a comment\n"
                            "myhostname = mx.our.example\n"
                            "bogus_parameter = yes\n")
        self.assertRefused(path, "%s:%d" % (path, n), "bogus_parameter")

    def test_unknown_restriction(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "myhostname = mx.our.example\n"
                            "recipient_restrictions = reject_unauth_destination, reject_evrything\n")
        self.assertRefused(path, "%s:%d" % (path, n), "reject_evrything")

    def test_unknown_restriction_prefixed_name(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "smtpd_sender_restrictions = check_sendr_access hash:/nonexistent\n"
                            "myhostname = mx.our.example\n")
        self.assertRefused(path, "%s:2" % path, "check_sendr_access")

    def test_not_yet_supported(self):
        for restriction in ("check_client_mx_access hash:/nonexistent", "check_helo_ns_access hash:/x"):
            path, n = self.conf("listen = inet:127.0.0.1:1\n"
                                "client_restrictions = permit_mynetworks, %s\n" % restriction)
            self.assertRefused(path, "%s:%d" % (path, n), restriction.split()[0],
                               "not yet supported")

    def test_bad_value(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "policy_line_length_limit = lots\n")
        self.assertRefused(path, "%s:%d" % (path, n), "policy_line_length_limit")

    def test_unknown_table_type(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "sender_restrictions = check_sender_access nosuchtype:@TMP@/x\n")
        self.assertRefused(path, "%s:%d" % (path, n), "nosuchtype")

    def test_missing_table_file(self):
        path, n = self.conf("listen = inet:127.0.0.1:1\n"
                            "sender_restrictions = check_sender_access hash:@TMP@/absent\n")
        self.assertRefused(path, "absent")

    def test_pasted_policy_service_names_the_replacement(self):
        """A main.cf line calling postgrey or policyd-spf: the error names
        the restriction that does the job; any other service keeps the
        general message."""
        cases = [
            ("inet:127.0.0.1:10023", '"greylist" instead'),
            ("unix:postgrey/socket", '"greylist" instead'),
            ("unix:private/postgrey", '"greylist" instead'),
            ("unix:private/policyd-spf", '"check_spf" instead'),
            ("unix:private/policy-spf", '"check_spf" instead'),
            ("inet:127.0.0.1:12345", "mxshield is the policy service"),
        ]
        for target, hint in cases:
            path, n = self.conf("listen = inet:127.0.0.1:1\n"
                                "recipient_restrictions = reject_unauth_destination,\n"
                                "    check_policy_service %s\n" % target)
            self.assertRefused(path, "%s:2: recipient_restrictions: " % path,
                               "check_policy_service", hint)
            if hint.startswith('"'):
                self.assertRefused(path, '"check_policy_service %s": ' % target)


class MapQuery(DaemonTest):

    def test_map_query_like_postmap(self):
        tmp = self.tmpdir()
        path = os.path.join(tmp, "access")
        with open(path + ".in", "w") as f:
            f.write("# comment\nuser@example.com   REJECT go away  \nexample.net OK\n")
        rc, out, err = self.run_cli("map", "query", "hash:" + path, "user@example.com")
        self.assertEqual((rc, out), (0, "REJECT go away\n"), err)
        rc, out, err = self.run_cli("map", "query", "hash:" + path, "nobody@example.com")
        self.assertEqual((rc, out), (1, ""), err)
