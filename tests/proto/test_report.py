"""mxshield report on logs the real daemon (and a real Postfix) wrote:
known traffic (greylisting on the policy_test_time clock, rejects,
warn_if_reject, dry_run) and exact counts; and the test log in
tests/data/report/, whose report the README shows."""

import os
import re
import time

import harness
from harness import DaemonTest

NOW = int(time.time())
SEQ = [0]


def att(t, **kw):
    SEQ[0] += 1
    out = {"client_address": "192.0.2.5", "client_name": "mail.sender.example",
           "sender": "alice@sender.example", "recipient": "bob@our.example",
           "instance": "r%d" % SEQ[0], "policy_test_time": str(t)}
    out.update(kw)
    return out


GREYLISTED = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"


class Report(DaemonTest):

    def report(self, log, *args, conf=None):
        path = os.path.join(self.tmpdir(), "mail.log")
        with open(path, "w") as f:
            f.write(log)
        argv = ["report"] + (["-c", conf] if conf else []) + list(args) + [path]
        status, out, err = self.run_cli(*argv)
        self.assertEqual(status, 0, err)
        return out

    def test_known_traffic(self):
        db = os.path.join(self.tmpdir(), "db")
        d = self.daemon("data_directory = %s\ngreylist_allow_test_time = yes\n"
                        "helo_restrictions = reject_non_fqdn_helo_hostname\n"
                        "sender_restrictions = warn_if_reject reject_non_fqdn_sender\n"
                        "recipient_restrictions = reject_unauth_destination, greylist\n" % db)
        c = self.client(d)
        # three non-FQDN HELOs, two relay attempts
        for i in range(3):
            self.assertTrue(c.ask(att(NOW, client_address="203.0.113.5", client_name="bad.example",
                                      helo_name="foo")).startswith("action=504 5.5.2"))
        for i in range(2):
            self.assertTrue(c.ask(att(NOW, recipient="x@elsewhere.example"))
                            .startswith("action=554 5.7.1"))
        # a non-FQDN sender only warns (warn_if_reject), then is greylisted
        self.assertEqual(c.ask(att(NOW, client_address="198.51.100.20", sender="joe")), GREYLISTED)
        # greylisting: deferred, too early, passed after 301 s
        self.assertEqual(c.ask(att(NOW)), GREYLISTED)
        self.assertEqual(c.ask(att(NOW + 120)), GREYLISTED)
        self.assertIn("PREPEND X-Greylist", c.ask(att(NOW + 301)))
        # never retried
        self.assertEqual(c.ask(att(NOW, client_address="192.0.2.77", sender="carol@once.example")),
                         GREYLISTED)
        # a pool: retries from another /24, which passes after 401 s
        pool = dict(sender="dave@pool.example")
        self.assertEqual(c.ask(att(NOW, client_address="198.51.100.9", **pool)), GREYLISTED)
        self.assertEqual(c.ask(att(NOW + 400, client_address="203.0.113.9", **pool)), GREYLISTED)
        self.assertIn("PREPEND X-Greylist",
                      c.ask(att(NOW + 801, client_address="203.0.113.9", **pool)))
        self.assertIsNotNone(d.wait_log("passed after 401 seconds"))
        log = d.read_log()
        self.assertIn("helo=<foo> restriction=reject_non_fqdn_helo_hostname", log)

        # a second daemon in trial mode: everything is a reject_warning
        dry = self.daemon("dry_run = yes\nrecipient_restrictions = reject_unauth_destination\n")
        c2 = self.client(dry)
        for i in range(2):
            self.assertEqual(c2.ask(att(NOW, recipient="x@elsewhere.example")), "action=DUNNO")
        self.assertIsNotNone(dry.wait_log("reject_warning", "x@elsewhere.example"))
        time.sleep(0.05)
        log += dry.read_log()

        out = self.report(log, conf=os.path.join(d.tmp, "mxshield.conf"))
        for want in [
            "         6  mxshield  defer    450 4.2.0  greylist",
            "         3  mxshield  reject   504 5.5.2  reject_non_fqdn_helo_hostname",
            "         2  mxshield  reject   554 5.7.1  reject_unauth_destination",
            # clients and senders (greylisting not counted)
            "         3         0  bad.example[203.0.113.5]",
            "         2         0  mail.sender.example[192.0.2.5]",
            "         5         0  alice@sender.example",
            # greylisting's effect
            "         5  triplets greylisted (client network, sender, recipient)",
            "         2  of them passed after the delay",
            "         1  of them retried too early at least once, then passed",
            "         0  of them retried, not passed (gave up, or still waiting)",
            "         2  of them never retried from the same network or another",
            "         1  sender/recipient pairs retried from another network",
            "         2  passes; delay 301 s min, 351 s average, 401 s max",
            "         1  pool.example",
            # what warn_if_reject and dry_run would have rejected
            "         2  mxshield  reject   554 5.7.1  reject_unauth_destination",
            "         1  mxshield  reject   504 5.5.2  reject_non_fqdn_sender",
            "         1         0  joe",
        ]:
            self.assertIn(want + "\n", out, out)
        decisions = out.split("Decisions by restriction and reply\n")[1].split("\n\n")[0]
        self.assertEqual(len(decisions.splitlines()), 4, decisions)   # heading + 3 rows
        warned = out.split("Would have been rejected")[1].split("\n\n")[0]
        self.assertEqual(len(warned.splitlines()), 4, warned)         # title, heading, 2 rows
        self.assertRegex(out, r"\d+ lines: 16 mxshield decisions, 0 Postfix rejects")

    def test_postfix_repeats_counted_once(self):
        """Through a real Postfix: mxshield's reject is logged by both, and
        counted once; Postfix's own relay check is Postfix's."""
        import dnsserver
        from postfix import PrivatePostfix, SMTPReply
        # no lookups here: a loopback port without a server stands in
        d = self.daemon("dns_resolver = 127.0.0.1:%d\n"
                        "helo_restrictions = reject_non_fqdn_helo_hostname\n"
                        % dnsserver.free_port())
        pf = PrivatePostfix("inet:127.0.0.1:%d" % d.port).start()
        self.addCleanup(pf.stop)
        good = dict(addr="192.0.2.10", name="mail.good.test", helo="mail.good.test",
                    sender="alice@good.test", rcpt="bob@our.test")
        for kw in (dict(helo="foo"), dict(rcpt="x@elsewhere.test")):
            args = dict(good)
            args.update(kw)
            with self.assertRaises(SMTPReply):
                pf.session(**args)
        self.assertIsNotNone(d.wait_log("helo=<foo>"))
        self.assertTrue(pf.wait_log("Relay access denied", timeout=5))
        # Postfix's maillog_file first: its repetition is read before mxshield's line
        out = self.report(pf.log() + d.read_log())
        self.assertIn("         1  mxshield  reject   504 5.5.2  reject_non_fqdn_helo_hostname\n", out)
        self.assertIn("         1  postfix   reject   554 5.7.1  reject_unauth_destination\n", out)
        self.assertIn("2 Postfix rejects (1 of them repeating mxshield's answer)", out)
        # the client's two rejects, not three
        self.assertIn("         2         0  mail.good.test[192.0.2.10]\n", out)

    def test_data_log(self):
        """The test log (three time stamp forms, a journal line, Postfix's
        repetitions, a line over the limit) gives the README's report."""
        data = os.path.join(harness.REPO, "tests/data/report")
        with open(os.path.join(data, "mail.log")) as f:
            log = f.read()
        with open(os.path.join(data, "report.txt")) as f:
            want = f.read()
        env_tz = os.environ.get("TZ")
        os.environ["TZ"] = "UTC"
        try:
            got = self.report(log, "--since", "2026-12-01T00:00:00Z",
                              conf=os.path.join(data, "mxshield.conf"))
        finally:
            if env_tz is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = env_tz
        # year-less time stamps take the year that puts them before now
        got = re.sub(r" to \d{4}-12-05 ", " to 2026-12-05 ", got)
        self.assertEqual(got, want)
        status, out, err = self.run_cli("report", "-c", os.path.join(data, "mxshield.conf"),
                                        "--since", "yesterday")
        self.assertEqual(status, 2)
        self.assertIn("--since yesterday: expected", err)
