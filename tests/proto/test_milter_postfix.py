"""End to end: a real Postfix (a private instance on loopback) with
smtpd_milters pointing at mxshield.  Mail signed here (python3-dkim, keys
in tests/data/dkim/keys, public halves served by the test NSD) arrives
with the right Authentication-Results; a p=reject failure is refused with
the reply a sender sees; p=quarantine lands in the hold queue; with
mxshield down, Postfix applies milter_default_action."""

import glob
import os
import shutil
import tempfile
import time

import dkim

import dnsserver
from harness import ALL_DAEMONS, COMMON_CONF, Daemon, DaemonTest, free_port
from postfix import PrivatePostfix, SMTPReply

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dkim", "keys")
NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


def message(frm, subject="test", body=b"Hello Bob,\r\n\r\nSigned here.\r\n", extra=b""):
    return (extra + b"From: " + frm.encode() + b"\r\nTo: bob@our.test\r\nSubject: "
            + subject.encode() + b"\r\nDate: Sat, 05 Dec 2026 06:00:00 +0000\r\n"
            b"Message-ID: <%d@test>\r\n\r\n" % time.monotonic_ns() + body)


def signed(raw, ed=False):
    if ed:
        with open(os.path.join(KEYS, "ed25519.seed"), "rb") as f:
            key = f.read().strip()
        return dkim.sign(raw, b"ed", b"reject.dmarc.test", key,
                         signature_algorithm=b"ed25519-sha256") + raw
    with open(os.path.join(KEYS, "rsa2048.pem"), "rb") as f:
        return dkim.sign(raw, b"rsa", b"reject.dmarc.test", f.read()) + raw


# an address whose SPF fails for every sender domain of dmarc.test
FOREIGN = dict(addr="198.51.100.7", name="unknown", helo="client.example",
               sender="x@nopolicy.dmarc.test", rcpt="bob@our.test")


class MilterPostfix(DaemonTest):
    """One mxshield and one Postfix for the class (Postfix takes seconds to
    start and stop); each test's mail has its own Subject."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mxproto.")
        cls.mport = free_port()
        cls.mx = Daemon(cls.tmp, COMMON_CONF + "dns_resolver = %s\n"
                        "milter_listen = inet:127.0.0.1:%d\ncontrol_socket =\n"
                        % (NSD.addr, cls.mport))
        ALL_DAEMONS.append(cls.mx)
        cls.mx.start()
        # PrivatePostfix writes "after" at the end of the restriction line:
        # the milter settings go on lines of their own
        cls.pf = PrivatePostfix(
            "inet:127.0.0.1:%d" % cls.mx.port,
            after="\nsmtpd_milters = inet:127.0.0.1:%d\nmilter_default_action = tempfail\n"
                  "milter_protocol = 6" % cls.mport).start()

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        cls.mx.stop()
        shutil.rmtree(cls.tmp, True)

    def mail(self, subject, want=1, timeout=10):
        """bob's messages with this Subject, waiting for want of them."""
        deadline = time.monotonic() + timeout
        while True:
            got = [t for t in self.pf.delivered("bob", timeout=0)
                   if "\nSubject: %s\n" % subject in t]
            if len(got) >= want or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def send(self, raw, **kw):
        args = dict(FOREIGN)
        args.update(kw)
        return self.pf.session(data=raw, **args)

    def test_signed_mail_arrives_with_authentication_results(self):
        raw = signed(message("Alice <alice@reject.dmarc.test>", "signed"))
        forged = b"Authentication-Results: mx.evil.example; dmarc=pass header.from=x\r\n"
        self.assertEqual(self.send(forged + raw)[0], 250)
        raw = signed(message("alice@reject.dmarc.test", "signed"), ed=True)
        self.assertEqual(self.send(raw)[0], 250)
        got = self.mail("signed", 2)
        self.assertEqual(len(got), 2, self.pf.log()[-3000:])
        for text in got:
            head = text.split("\n\n", 1)[0]
            self.assertEqual(head.count("Authentication-Results:"), 1, head)
            self.assertNotIn("mx.evil.example", head)
            ar = head[head.index("Authentication-Results:"):]
            ar = ar[:ar.index("\n", ar.index("arc="))]
            self.assertTrue(ar.startswith("Authentication-Results: mx.our.example;\n\t"), ar)
            self.assertIn("spf=fail smtp.mailfrom=x@nopolicy.dmarc.test", ar)
            self.assertIn("dkim=pass header.d=reject.dmarc.test header.i=@reject.dmarc.test", ar)
            self.assertIn("dmarc=pass (p=reject dis=none) header.from=reject.dmarc.test "
                          "policy.dmarc=reject", ar)
            # the header is above the signature it reports on
            self.assertLess(head.index("Authentication-Results:"), head.index("DKIM-Signature:"))
        self.assertTrue(any("header.a=rsa-sha256" in t for t in got))
        self.assertTrue(any("header.a=ed25519-sha256" in t for t in got))

    def test_reject_policy_failure_is_refused(self):
        raw = signed(message("alice@reject.dmarc.test", "refused"))
        raw = raw.replace(b"Signed here", b"Changed")
        with self.assertRaises(SMTPReply) as cm:
            self.send(raw)
        self.assertEqual((cm.exception.stage, cm.exception.code), ("DATA", 550))
        self.assertEqual(cm.exception.text,
                         "5.7.1 Rejected by DMARC policy for reject.dmarc.test")
        self.assertEqual(self.mail("refused", timeout=0.5), [])

    def test_quarantine_lands_in_the_hold_queue(self):
        self.assertEqual(self.send(message("alice@quar.dmarc.test", "held"))[0], 250)
        hold = os.path.join(self.pf.tmp, "queue", "hold", "*")
        deadline = time.monotonic() + 10
        while not glob.glob(hold) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(len(glob.glob(hold)), 1, self.pf.log()[-2000:])
        self.assertTrue(self.pf.wait_log("milter triggers HOLD action"), self.pf.log()[-2000:])
        self.assertEqual(self.mail("held", timeout=0.5), [])

    def test_zz_mxshield_down_gives_milter_default_action(self):
        # the last test of the class: the daemon does not come back
        self.mx.stop()
        self.mx.expect_exit = True          # stopped here, not died
        with self.assertRaises(SMTPReply) as cm:
            self.send(message("alice@none.dmarc.test", "down"))
        self.assertEqual(cm.exception.code // 100, 4, str(cm.exception))
        self.assertEqual(self.mail("down", timeout=0.5), [])
