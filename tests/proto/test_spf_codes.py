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
