"""End to end: a real Postfix (Debian's, a private instance on loopback)
asks mxshield through check_policy_service, over TCP and over a unix
socket inside Postfix's queue directory; real SMTP sessions check what a
sending server sees, and accepted mail is really delivered."""

import os
import time

import dnsserver
from harness import DaemonTest
from postfix import PrivatePostfix, SMTPReply

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


MSG = "From: alice@good.test\r\nTo: bob@our.test\r\nSubject: %s\r\n\r\nhello\r\n"
GOOD = dict(addr="192.0.2.10", name="mail.good.test", helo="mail.good.test",
            sender="alice@good.test", rcpt="bob@our.test")

POLICY = """\
myhostname = mx.our.test
myorigin = our.test
mydestination = our.test
client_restrictions = reject_rbl_client dnsbl.test
helo_restrictions = reject_non_fqdn_helo_hostname
sender_restrictions = reject_unknown_sender_domain
"""


def rcpt(dsn_text):
    """What Postfix sends for a policy reply "NNN dsn text" at RCPT: it names
    the recipient and the class, as for any access(5) result (postgrey's
    replies look the same)."""
    dsn, _, text = dsn_text.partition(" ")
    return "%s <bob@our.test>: Recipient address rejected: %s" % (dsn, text)


class Postfix(DaemonTest):

    def mx(self, conf="", listen=None):
        text = "dns_resolver = %s\n%s%s" % (NSD.addr, POLICY, conf)
        if listen:
            text = "listen = %s\n" % listen + text
        return self.daemon(text, common=False)

    def postfix(self, policy, **kw):
        pf = PrivatePostfix(policy, **kw).start()
        self.addCleanup(pf.stop)
        return pf

    def s(self, pf, **kw):
        args = dict(GOOD)
        args.update(kw)
        return pf.session(**args)

    def assertRefused(self, pf, stage, code, text, **kw):
        with self.assertRaises(SMTPReply) as r:
            self.s(pf, **kw)
        self.assertEqual((r.exception.stage, r.exception.code, r.exception.text),
                         (stage, code, text))

    def test_accepted_mail_is_delivered(self):
        d = self.mx()
        pf = self.postfix("inet:127.0.0.1:%d" % d.port)
        code, text = self.s(pf, data=MSG % "first")
        self.assertEqual(code, 250)
        msgs = pf.delivered("bob")
        self.assertEqual(len(msgs), 1, pf.log()[-2000:])
        self.assertIn("Subject: first", msgs[0])

    def test_rejects_with_postfix_wording(self):
        d = self.mx()
        pf = self.postfix("inet:127.0.0.1:%d" % d.port)
        self.assertRefused(pf, "RCPT", 554,
                           rcpt("5.7.1 Service unavailable; Client host [192.0.2.99] blocked "
                                "using dnsbl.test; Listed: see "
                                "https://dnsbl.test/query?ip=192.0.2.99"),
                           addr="192.0.2.99")
        self.assertRefused(pf, "RCPT", 504,
                           rcpt("5.5.2 <foo>: Helo command rejected: need fully-qualified "
                                "hostname"),
                           helo="foo")
        self.assertRefused(pf, "RCPT", 550,
                           rcpt("5.7.27 <x@nullmx.good.test>: Sender address rejected: Domain "
                                "nullmx.good.test does not accept mail (nullMX)"),
                           sender="x@nullmx.good.test")
        # Postfix's own relay check comes first, as the guides place it
        self.assertRefused(pf, "RCPT", 554, "5.7.1 <x@elsewhere.test>: Relay access denied",
                           rcpt="x@elsewhere.test")
        self.assertTrue(pf.wait_log("blocked using dnsbl.test"), pf.log()[-2000:])
        self.assertEqual(pf.delivered("bob", timeout=0), [])

    def test_dunno_leaves_postfix_restrictions_in_force(self):
        d = self.daemon("helo_restrictions = reject_non_fqdn_helo_hostname\n", common=False)
        pf = self.postfix("inet:127.0.0.1:%d" % d.port, after=", reject_non_fqdn_sender")
        self.assertRefused(pf, "RCPT", 504,
                           "5.5.2 <joe>: Sender address rejected: need fully-qualified address",
                           sender="joe")

    def test_greylisting_then_delivery_over_unix_socket(self):
        pf = PrivatePostfix("unix:private/mxshield").prepare()
        sock = os.path.join(pf.tmp, "queue", "private", "mxshield")
        db = os.path.join(self.tmpdir(), "db")
        self.mx("recipient_restrictions = greylist\ngreylist_delay = 2s\n"
                "data_directory = %s\nunix_socket_owner = postfix\nunix_socket_mode = 0660\n"
                % db, listen="unix:" + sock)
        pf.start()
        self.addCleanup(pf.stop)
        self.assertRefused(pf, "RCPT", 450, rcpt("4.2.0 Greylisted, see "
                                                 "http://postgrey.schweikert.ch/help/"
                                                 "our.test.html"))
        time.sleep(2.5)
        code, text = self.s(pf, data=MSG % "after greylisting")
        self.assertEqual(code, 250)
        msgs = pf.delivered("bob")
        self.assertEqual(len(msgs), 1)
        self.assertRegex(msgs[0], r"X-Greylist: delayed [2-9] seconds by mxshield-")

    def test_mxshield_down_then_back(self):
        pf = PrivatePostfix("unix:private/mxshield", timeout="5s").prepare()
        sock = os.path.join(pf.tmp, "queue", "private", "mxshield")
        conf = "unix_socket_owner = postfix\n"
        d = self.mx(conf, listen="unix:" + sock)
        pf.start()
        self.addCleanup(pf.stop)
        self.assertEqual(self.s(pf)[0], 250)
        d.stop()
        d.expect_exit = True
        # no policy answer: Postfix's smtpd_policy_service_default_action
        self.assertRefused(pf, "RCPT", 451, rcpt("4.3.5 Server configuration problem"))
        # back: Postfix reconnects and the same mail goes through
        self.mx(conf, listen="unix:" + sock)
        code, text = self.s(pf, data=MSG % "retried")
        self.assertEqual(code, 250)
        self.assertEqual(len(pf.delivered("bob")), 1)

    def test_slow_dns_within_postfix_policy_timeout(self):
        resp = dnsserver.Responder({"99.2.0.192.dnsbl.test": "delay:0.3:127.0.0.2"}).start()
        self.addCleanup(resp.stop)
        d = self.daemon("dns_resolver = %s\ndns_timeout = 5s\n"
                        "client_restrictions = reject_rbl_client dnsbl.test\n" % resp.addr,
                        common=False)
        pf = self.postfix("inet:127.0.0.1:%d" % d.port)
        self.assertRefused(pf, "RCPT", 554, rcpt("5.7.1 Service unavailable; Client host "
                                                 "[192.0.2.99] blocked using dnsbl.test"),
                           addr="192.0.2.99")
