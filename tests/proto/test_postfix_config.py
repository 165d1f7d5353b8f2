"""mxshield postfix-config: the lines for main.cf, and --check's findings
on Postfix configurations (one per line, naming the parameter and the fix;
exit 1 for an open relay)."""

import os

from harness import DaemonTest

GOOD = """\
smtpd_helo_required = yes
disable_vrfy_command = yes
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks,
    reject_unauth_destination,
    check_policy_service unix:private/mxshield
smtpd_data_restrictions = reject_unauth_pipelining
mynetworks = 127.0.0.0/8 [::1]/128
"""

MASTER = """\
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
%s
"""


class PostfixConfig(DaemonTest):

    def check(self, main, master_extra=""):
        d = self.tmpdir()
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write(MASTER % master_extra)
        return self.run_cli("postfix-config", "--check", d)

    def test_prints_lines_for_the_socket(self):
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = unix:/var/spool/postfix/private/mxshield\n")
        rc, out, err = self.run_cli("postfix-config", "-c", conf)
        self.assertEqual(rc, 0, err)
        self.assertIn("check_policy_service unix:private/mxshield", out)
        lines = [l.strip() for l in out.splitlines()]
        rcpt = lines.index("smtpd_recipient_restrictions =")
        self.assertLess(lines.index("reject_unauth_destination,", rcpt),
                        lines.index("check_policy_service unix:private/mxshield", rcpt))
        self.assertIn("smtpd_policy_service_default_action = 451 4.3.5", out)
        self.assertIn("smtpd_data_restrictions = reject_unauth_pipelining", out)
        rc, out, err = self.run_cli("postfix-config", "-c", conf, "--socket",
                                    "inet:127.0.0.1:10023")
        self.assertIn("check_policy_service inet:127.0.0.1:10023", out)

    def test_printed_lines_pass_the_check(self):
        rc, out, err = self.run_cli("postfix-config")
        self.assertEqual(rc, 0, err)
        body = "\n".join(l for l in out.splitlines() if not l.startswith("#"))
        rc, out, err = self.check(body + "\n")
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_good_configuration(self):
        rc, out, err = self.check(GOOD)
        self.assertEqual((rc, out), (0, "no findings\n"))

    def test_open_relay(self):
        rc, out, err = self.check(GOOD.replace(
            "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,\n"
            "    reject_unauth_destination\n", "smtpd_relay_restrictions =\n").replace(
            "smtpd_recipient_restrictions = permit_mynetworks,\n    reject_unauth_destination,\n",
            "smtpd_recipient_restrictions = permit_mynetworks,\n"))
        self.assertEqual(rc, 1, out)
        self.assertIn("open relay", out)
        self.assertIn("smtpd_relay_restrictions", out)
        self.assertIn("fix: smtpd_relay_restrictions = permit_mynetworks, "
                      "permit_sasl_authenticated, reject_unauth_destination", out)
        # and the policy service now sees relay attempts
        self.assertIn("check_policy_service comes before reject_unauth_destination", out)

    def test_permit_before_the_guard_is_an_open_relay(self):
        rc, out, err = self.check(GOOD.replace("smtpd_relay_restrictions = permit_mynetworks,",
                                               "smtpd_relay_restrictions = permit,").replace(
            "    reject_unauth_destination,\n    check_policy_service",
            "    check_policy_service"))
        self.assertEqual(rc, 1, out)
        self.assertIn("open relay", out)

    def test_mynetworks_everything(self):
        rc, out, err = self.check(GOOD.replace("mynetworks = 127.0.0.0/8 [::1]/128",
                                               "mynetworks = 0.0.0.0/0"))
        self.assertEqual(rc, 1)
        self.assertIn("mynetworks: open relay", out)

    def test_default_relay_restrictions_are_safe(self):
        main = "\n".join(l for l in GOOD.splitlines()
                         if "smtpd_relay_restrictions" not in l
                         and "permit_sasl_authenticated," not in l
                         and l.strip() != "reject_unauth_destination") + "\n"
        rc, out, err = self.check(main)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("open relay", out)

    def test_text_before_the_first_parameter_is_skipped(self):
        # as Postfix reads main.cf: indented text with nothing to continue
        # is skipped, not taken for a parameter (here an open relay)
        main = GOOD.replace("mynetworks = 127.0.0.0/8 [::1]/128\n", "")
        rc, out, err = self.check("  mynetworks = 0.0.0.0/0\n" + main)
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_master_cf_overrides(self):
        # seed 004's warning: mua_* restrictions uncommented but never defined
        rc, out, err = self.check(GOOD, "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
                                        "  -o smtpd_relay_restrictions=permit\n")
        self.assertEqual(rc, 1, out)
        self.assertIn("master.cf line 5 (submission): -o smtpd_client_restrictions="
                      "$mua_client_restrictions names a parameter that main.cf does not define",
                      out)
        self.assertIn("master.cf line 6 (submission): -o smtpd_relay_restrictions=permit: "
                      "open relay", out)
        # defined in main.cf, and a safe override: nothing to say
        rc, out, err = self.check(GOOD + "mua_client_restrictions = permit_sasl_authenticated, "
                                  "reject\n",
                                  "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
                                  "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n")
        self.assertEqual((rc, out), (0, "no findings\n"))

    def test_master_cf_overrides_anywhere_on_a_line(self):
        # -o on the service line itself, two on one line, ${name} references
        rc, out, err = self.check(GOOD, "2525 inet n - y - - smtpd "
                                        "-o smtpd_relay_restrictions=permit\n"
                                        "  -o smtpd_client_restrictions=${mua_client} "
                                        "-o smtpd_recipient_restrictions=permit\n")
        self.assertEqual(rc, 1, out)
        self.assertIn("master.cf line 5 (2525): -o smtpd_relay_restrictions=permit: "
                      "open relay", out)
        self.assertIn("master.cf line 6 (2525): -o smtpd_client_restrictions="
                      "${mua_client} names a parameter that main.cf does not define", out)
        self.assertIn("master.cf line 6 (2525): -o smtpd_recipient_restrictions=permit: "
                      "open relay", out)

    def test_advice_left_undone(self):
        main = GOOD.replace("smtpd_helo_required = yes\n", "").replace(
            "disable_vrfy_command = yes\n", "").replace(
            "smtpd_data_restrictions = reject_unauth_pipelining\n", "")
        rc, out, err = self.check(main)
        self.assertEqual(rc, 0)
        found = out.splitlines()
        self.assertEqual(len(found), 3, out)
        self.assertTrue(found[0].startswith("smtpd_helo_required:"))
        self.assertTrue(found[1].startswith("disable_vrfy_command:"))
        self.assertIn("reject_unauth_pipelining", found[2])
