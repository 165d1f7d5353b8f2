"""spf_enhanced_status_codes (policyd-spf's SPF_Enhanced_Status_Codes):
RFC 7372's codes by default, 5.7.1 / 4.7.1 with "no"."""

import dnsserver
from harness import DaemonTest

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


class EnhancedCodes(DaemonTest):

    def answers(self, extra):
        d = self.daemon("dns_resolver = %s\nrecipient_restrictions = check_spf\n"
                        "spf_permerror_reject = yes\n%s" % (NSD.addr, extra))
        c = self.client(d)
        out = []
        for sender in ("u@pass.spf.test", "u@badcidr.spf.test"):
            out.append(c.ask({"client_address": "198.51.100.9", "sender": sender,
                              "helo_name": "mail.good.test"}).split(" ")[:2])
        return out

    def test_default_rfc7372(self):
        self.assertEqual(self.answers(""), [["action=550", "5.7.23"], ["action=550", "5.7.24"]])

    def test_off(self):
        self.assertEqual(self.answers("spf_enhanced_status_codes = no\n"),
                         [["action=550", "5.7.1"], ["action=550", "5.7.1"]])


class PassRestriction(DaemonTest):
    """spf_mail_from_pass_restriction / spf_helo_pass_restriction
    (policyd-spf's Mail_From_pass_restriction, HELO_pass_restriction): a
    restriction class applied when the identity passes."""

    CLASSES = ("smtpd_restriction_classes = mfrom_passed, helo_passed\n"
               "mfrom_passed = check_recipient_access inline:{ { bob@our.example=REJECT no mail to bob } }\n"
               "helo_passed = reject\n")

    def ask(self, d, sender, helo="mail.good.test", ip="192.0.2.9"):
        return self.client(d).ask({"client_address": ip, "sender": sender, "helo_name": helo,
                                   "recipient": "bob@our.example"})

    def test_mail_from_pass(self):
        d = self.daemon("dns_resolver = %s\nrecipient_restrictions = check_spf\n"
                        "spf_header_type = none\nspf_mail_from_reject = false\n%s"
                        "spf_mail_from_pass_restriction = mfrom_passed\n"
                        % (NSD.addr, self.CLASSES))
        self.assertEqual(self.ask(d, "u@pass.spf.test"),
                         "action=554 5.7.1 <bob@our.example>: Recipient address rejected: "
                         "no mail to bob")
        # not a pass: the class does not apply
        self.assertEqual(self.ask(d, "u@pass.spf.test", ip="203.0.113.9"), "action=DUNNO")

    def test_helo_pass(self):
        d = self.daemon("dns_resolver = %s\nrecipient_restrictions = check_spf\n"
                        "spf_header_type = none\nspf_mail_from_reject = no_check\n"
                        "spf_helo_reject = false\n%s"
                        "spf_helo_pass_restriction = helo_passed\n"
                        % (NSD.addr, self.CLASSES))
        self.assertEqual(self.ask(d, "u@x.test", helo="pass.spf.test"),
                         "action=554 5.7.1 <pass.spf.test>: Helo command rejected: "
                         "Access denied")
        self.assertEqual(self.ask(d, "u@x.test", helo="pass.spf.test", ip="203.0.113.9"),
                         "action=DUNNO")

    def test_without_it(self):
        d = self.daemon("dns_resolver = %s\nrecipient_restrictions = check_spf\n"
                        "spf_header_type = none\n%s" % (NSD.addr, self.CLASSES))
        self.assertEqual(self.ask(d, "u@pass.spf.test"), "action=DUNNO")


class DomainWhitelistPtr(DaemonTest):
    """spf_domain_whitelist_ptr (Domain_Whitelist_PTR): a client whose
    verified name is in a listed domain is not checked."""

    def test_by_verified_name(self):
        d = self.daemon("dns_resolver = %s\nrecipient_restrictions = check_spf\n"
                        "spf_header_type = none\n"
                        "spf_domain_whitelist_ptr = forwarder.test\n" % NSD.addr)
        c = self.client(d)
        ask = lambda name: c.ask({"client_address": "203.0.113.9", "client_name": name,
                                  "sender": "u@pass.spf.test", "helo_name": "x.test"})
        self.assertEqual(ask("mx1.forwarder.test"), "action=DUNNO")
        self.assertEqual(ask("forwarder.test"), "action=DUNNO")
        fail = ask("mx1.notforwarder.test")
        self.assertTrue(fail.startswith("action=550 5.7.23"), fail)
        fail = ask("unknown")
        self.assertTrue(fail.startswith("action=550 5.7.23"), fail)
