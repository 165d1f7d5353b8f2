"""Seed 003's recipe: "reject senders claiming our own domain on port 25
unless authenticated or from our networks".  The guide rejects the domain
in smtpd_sender_restrictions and relies on users sending on 587/465;
mxshield sees which service asks through the server_port and
policy_context attributes Postfix sends, so the rule applies on port 25
only: check_server_port_access / check_policy_context_access, keyed by the
attribute, whose result names a restriction class."""

import os

import dnsserver
from harness import DaemonTest
from postfix import PrivatePostfix, SMTPReply

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


OWN = "our.test REJECT Use port 587 with authentication to send as our.test\n"
REJECT = ("action=554 5.7.1 <bob@our.test>: Sender address rejected: "
          "Use port 587 with authentication to send as our.test")

RECIPE = """\
mynetworks = 127.0.0.0/8 192.168.1.0/24
smtpd_restriction_classes = port25_own_domain
port25_own_domain = check_sender_access texthash:@TMP@/own_domains
sender_restrictions = permit_mynetworks, permit_sasl_authenticated,
    %s
"""


class Recipe(DaemonTest):

    def ask_all(self, d, extra):
        c = self.client(d)
        base = {"client_address": "203.0.113.5", "client_name": "x.example",
                "sender": "bob@our.test", "recipient": "alice@our.test"}
        out = []
        for kw in [{}, {"sasl_username": "bob"}, {"client_address": "192.168.1.5"},
                   {"sender": "eve@elsewhere.test"}]:
            r = dict(base)
            r.update(extra)
            r.update(kw)
            out.append(c.ask(r))
        return out

    def test_server_port(self):
        d = self.daemon(RECIPE % "check_server_port_access inline:{ 25=port25_own_domain }",
                        files={"own_domains": OWN})
        self.assertEqual(self.ask_all(d, {"server_port": "25"}),
                         [REJECT, "action=DUNNO", "action=DUNNO", "action=DUNNO"])
        # submission, and a Postfix too old to send server_port: not this rule
        self.assertEqual(self.ask_all(d, {"server_port": "587"}), ["action=DUNNO"] * 4)
        self.assertEqual(self.ask_all(d, {}), ["action=DUNNO"] * 4)

    def test_policy_context(self):
        d = self.daemon(RECIPE % "check_policy_context_access inline:{ mx=port25_own_domain }",
                        files={"own_domains": OWN})
        self.assertEqual(self.ask_all(d, {"policy_context": "mx"}),
                         [REJECT, "action=DUNNO", "action=DUNNO", "action=DUNNO"])
        self.assertEqual(self.ask_all(d, {"policy_context": "submission"}),
                         ["action=DUNNO"] * 4)

    def test_with_postfix(self):
        """A real Postfix sends server_port and its policy context: a static
        table matches any port, so the rule applies only because Postfix
        sent the attribute."""
        for restriction, main_cf in [
                ("check_server_port_access static:port25_own_domain", ""),
                ("check_policy_context_access inline:{ mx=port25_own_domain }",
                 "\nsmtpd_policy_service_policy_context = mx")]:
            d = self.daemon("dns_resolver = %s\n" % NSD.addr
                            + RECIPE % restriction, files={"own_domains": OWN})
            pf = PrivatePostfix("inet:127.0.0.1:%d" % d.port, after=main_cf).start()
            self.addCleanup(pf.stop)
            with self.assertRaises(SMTPReply) as r:
                pf.session(addr="203.0.113.5", name="x.example", helo="x.example",
                           sender="bob@our.test", rcpt="alice@our.test")
            self.assertEqual((r.exception.stage, r.exception.code), ("RCPT", 554),
                             restriction)
            self.assertIn("Use port 587 with authentication to send as our.test",
                          r.exception.text)
            # another sender from the same client, and ours from our network
            code, _ = pf.session(addr="203.0.113.5", name="x.example", helo="x.example",
                                 sender="eve@elsewhere.test", rcpt="alice@our.test")
            self.assertEqual(code, 250)
            code, _ = pf.session(addr="192.168.1.5", name="pc.our.test", helo="pc.our.test",
                                 sender="bob@our.test", rcpt="alice@our.test")
            self.assertEqual(code, 250)
