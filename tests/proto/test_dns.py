"""DNS restrictions against a real authoritative server (NSD serving
tests/data/dns/, see README.md there) and, for the faults a real server
will not produce, the scripted responder.  The daemon is always pointed at
them with dns_resolver; nothing leaves 127.0.0.1."""

import os
import signal
import time

import dnsserver
import harness
from harness import DaemonTest, request, rss_kb

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


def req(**kw):
    """A request whose client names Postfix could not resolve, so mxshield
    looks them up itself (dns_use_postfix_names only trusts real names)."""
    out = {"client_address": "192.0.2.10", "client_name": "unknown",
           "reverse_client_name": "unknown", "helo_name": "mail.good.test",
           "sender": "alice@good.test", "recipient": "bob@our.example"}
    out.update(kw)
    return out


def revname(addr):
    return ("action=450 4.7.1 Client host rejected: cannot find your reverse hostname, [%s]"
            % addr)


def hostname(addr, code=450):
    return ("action=%d %s.7.25 Client host rejected: cannot find your hostname, [%s]"
            % (code, str(code)[0], addr))


class DnsTest(DaemonTest):

    def dns_daemon(self, conf, resolver=None, files=None):
        return self.daemon("dns_resolver = %s\n" % (resolver or NSD.addr) + conf, files)


class ClientNames(DnsTest):

    def test_test_data(self):
        """The zone data the other tests rely on."""
        self.assertEqual(NSD.query("10.2.0.192.in-addr.arpa", "PTR"), (0, ["mail.good.test"]))
        self.assertEqual(NSD.query("15.2.0.192.in-addr.arpa", "PTR")[0], 3)
        self.assertEqual(NSD.query("nullmx.good.test", "MX"), (0, ["0 ."]))

    def test_reject_unknown_reverse_client_hostname(self):
        d = self.dns_daemon("client_restrictions = reject_unknown_reverse_client_hostname\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            # the PTR name need not resolve back
            (req(client_address="192.0.2.11"), "action=DUNNO"),
            (req(client_address="192.0.2.15"), revname("192.0.2.15")),
            (req(client_address="2001:db8::10"), "action=DUNNO"),
            (req(client_address="2001:db8::11"), revname("2001:db8::11")),
            # Postfix's own answer is used when it has one
            (req(client_address="192.0.2.15", reverse_client_name="ptr.sender.example"),
             "action=DUNNO"),
        ])

    def test_unknown_client_reject_code(self):
        d = self.dns_daemon("client_restrictions = reject_unknown_reverse_client_hostname\n"
                            "unknown_client_reject_code = 550\n")
        self.assertAnswers(d, [
            (req(client_address="192.0.2.15"),
             "action=550 5.7.1 Client host rejected: cannot find your reverse hostname, "
             "[192.0.2.15]"),
        ])

    def test_reject_unknown_client_hostname(self):
        d = self.dns_daemon("client_restrictions = reject_unknown_client_hostname\n"
                            "unknown_client_reject_code = 550\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            # PTR name resolves to another address: not confirmed
            (req(client_address="192.0.2.11"), hostname("192.0.2.11", 550)),
            # PTR name does not exist
            (req(client_address="192.0.2.12"), hostname("192.0.2.12", 550)),
            # PTR name is a CNAME to the address
            (req(client_address="192.0.2.13"), "action=DUNNO"),
            # two PTR names, the second one confirms
            (req(client_address="192.0.2.14"), "action=DUNNO"),
            (req(client_address="192.0.2.15"), hostname("192.0.2.15", 550)),
            # IPv6: PTR, then AAAA
            (req(client_address="2001:db8::10"), "action=DUNNO"),
            (req(client_address="2001:db8::11"), hostname("2001:db8::11", 550)),
            # a verified name from Postfix needs no lookup
            (req(client_address="192.0.2.15", client_name="mail.sender.example"),
             "action=DUNNO"),
        ])

    def test_legacy_name_and_default_code(self):
        d = self.dns_daemon("client_restrictions = reject_unknown_client\n")
        self.assertAnswers(d, [(req(client_address="192.0.2.11"), hostname("192.0.2.11"))])


class HeloAndDomains(DnsTest):

    def test_reject_unknown_helo_hostname(self):
        d = self.dns_daemon("helo_restrictions = reject_unknown_helo_hostname\n")
        nf = "action=450 4.7.1 <%s>: Helo command rejected: Host not found"
        self.assertAnswers(d, [
            (req(helo_name="mail.good.test"), "action=DUNNO"),
            (req(helo_name="helomx.good.test"), "action=DUNNO"),
            (req(helo_name="onlyaaaa.good.test"), "action=DUNNO"),
            (req(helo_name="chain.good.test"), "action=DUNNO"),
            # an MTA name may carry a null MX
            (req(helo_name="nullmx.good.test"), "action=DUNNO"),
            (req(helo_name="nope.good.test"), nf % "nope.good.test"),
            (req(helo_name="txtonly.good.test"), nf % "txtonly.good.test"),
            (req(helo_name="dangling.good.test"), nf % "dangling.good.test"),
            (req(helo_name="[192.0.2.1]"), "action=DUNNO"),
            (req(helo_name="[192.0.2.300]"),
             "action=501 5.5.2 <[192.0.2.300]>: Helo command rejected: invalid ip address"),
        ])

    def test_unknown_hostname_reject_code(self):
        d = self.dns_daemon("helo_restrictions = reject_unknown_hostname\n"
                            "unknown_hostname_reject_code = 550\n")
        self.assertAnswers(d, [
            (req(helo_name="nope.good.test"),
             "action=550 5.7.1 <nope.good.test>: Helo command rejected: Host not found"),
        ])

    def test_reject_unknown_sender_domain(self):
        d = self.dns_daemon("sender_restrictions = reject_unknown_sender_domain\n")
        nf = "action=450 4.1.8 <%s>: Sender address rejected: Domain not found"
        self.assertAnswers(d, [
            (req(sender="a@withmx.good.test"), "action=DUNNO"),
            (req(sender="a@onlya.good.test"), "action=DUNNO"),
            (req(sender="a@onlyaaaa.good.test"), "action=DUNNO"),
            # Postfix checks that an MX exists, not that it has an address
            (req(sender="a@mxnoaddr.good.test"), "action=DUNNO"),
            (req(sender="a@txtonly.good.test"), nf % "a@txtonly.good.test"),
            (req(sender="a@nope.good.test"), nf % "a@nope.good.test"),
            (req(sender="a@dangling.good.test"), nf % "a@dangling.good.test"),
            (req(sender="a@nullmx.good.test"),
             "action=550 5.7.27 <a@nullmx.good.test>: Sender address rejected: "
             "Domain nullmx.good.test does not accept mail (nullMX)"),
            # the null sender, our own domains and literals are not looked up
            (req(sender=""), "action=DUNNO"),
            (req(sender="a@our.example"), "action=DUNNO"),
            (req(sender="a@[192.0.2.1]"), "action=DUNNO"),
        ])

    def test_reject_unknown_recipient_domain(self):
        d = self.dns_daemon("recipient_restrictions = reject_unknown_recipient_domain\n"
                            "unknown_address_reject_code = 550\n")
        self.assertAnswers(d, [
            (req(recipient="b@withmx.good.test"), "action=DUNNO"),
            (req(recipient="b@txtonly.good.test"),
             "action=550 5.1.2 <b@txtonly.good.test>: Recipient address rejected: "
             "Domain not found"),
            (req(recipient="b@nullmx.good.test"),
             "action=556 5.1.10 <b@nullmx.good.test>: Recipient address rejected: "
             "Domain nullmx.good.test does not accept mail (nullMX)"),
            (req(recipient="bob@our.example"), "action=DUNNO"),
        ])


BLOCKED = "action=554 5.7.1 Service unavailable; %s [%s] blocked using %s%s"
DENIED = "action=554 5.7.1 <unknown[%s]>: Client host rejected: Access denied"


class DnsLists(DnsTest):

    def test_reject_rbl_client(self):
        d = self.dns_daemon("client_restrictions = reject_rbl_client dnsbl.test\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            (req(client_address="192.0.2.99"),
             BLOCKED % ("Client host", "192.0.2.99", "dnsbl.test",
                        "; Listed: see https://dnsbl.test/query?ip=192.0.2.99")),
            # no filter: any 127.0.0.x code is a listing
            (req(client_address="192.0.2.95"),
             BLOCKED % ("Client host", "192.0.2.95", "dnsbl.test", "")),
            (req(client_address="2001:db8::99"),
             BLOCKED % ("Client host", "2001:db8::99", "dnsbl.test", "")),
            (req(client_address="2001:db8::10"), "action=DUNNO"),
        ])
        # several TXT records are joined with " / " (in either order)
        c = self.client(d)
        got = c.ask(req(client_address="192.0.2.97"))
        self.assertIn(got, [BLOCKED % ("Client host", "192.0.2.97", "dnsbl.test", "; " + t)
                            for t in ("exploited host / policy listing",
                                      "policy listing / exploited host")])

    def test_reply_filter(self):
        d = self.dns_daemon("client_restrictions = "
                            "reject_rbl_client dnsbl.test=127.0.0.[2;4..11]\n")
        self.assertAnswers(d, [
            (req(client_address="192.0.2.96"),
             BLOCKED % ("Client host", "192.0.2.96", "dnsbl.test", "")),
            # 127.0.0.12 is outside the filter
            (req(client_address="192.0.2.95"), "action=DUNNO"),
        ])

    def test_list_refusing_queries_is_unavailable_not_listed(self):
        d = self.dns_daemon("client_restrictions = reject_rbl_client dnsbl.test, "
                            "permit_dnswl_client dnswl.test, reject\n")
        self.assertAnswers(d, [
            (req(client_address="192.0.2.98"), DENIED % "192.0.2.98"),
            (req(client_address="192.0.2.94"), DENIED % "192.0.2.94"),
            # dnswl.org's over-quota answer is no permit either
            (req(client_address="192.0.2.93"), DENIED % "192.0.2.93"),
        ])
        line = d.wait_log("dnsbl.test answered 127.255.255.254")
        self.assertIsNotNone(line, d.read_log())
        self.assertIn("not that the client is listed", line)
        self.assertIn("dns_resolver", line)
        # logged once per interval, not per request
        c = self.client(d)
        mark = d.log_size()
        for _ in range(3):
            c.ask(req(client_address="192.0.2.98"))
        # log lines go out in order: once a later one is there, so is all before it
        self.assertEqual(c.ask(req(client_address="192.0.2.94")), DENIED % "192.0.2.94")
        self.assertIsNotNone(d.wait_log("[192.0.2.94]", after=mark))
        self.assertEqual(d.read_log().count("dnsbl.test answered 127.255.255.254"), 1)

    def test_reply_templates(self):
        d = self.dns_daemon("client_restrictions = reject_rbl_client dnsbl.test, "
                            "reject_rbl_client dnsbl2.test\n"
                            "maps_rbl_reject_code = 521\n"
                            "rbl_reply_maps = texthash:@TMP@/rbl_reply\n",
                            files={"rbl_reply": "dnsbl2.test 550 5.7.2 $client_address "
                                                "is on ${rbl_domain}${rbl_reason?: $rbl_reason}"
                                                "${rbl_reason:, no reason}\n"})
        self.assertAnswers(d, [
            (req(client_address="192.0.2.95"),
             "action=521 5.7.1 Service unavailable; Client host [192.0.2.95] "
             "blocked using dnsbl.test"),
        ])
        d2 = self.dns_daemon("client_restrictions = reject_rbl_client dnsbl2.test\n"
                             "rbl_reply_maps = texthash:@TMP@/rbl_reply\n",
                             files={"rbl_reply": "dnsbl2.test 550 5.7.2 $client_address "
                                                 "is on ${rbl_domain}${rbl_reason?: $rbl_reason}"
                                                 "${rbl_reason:, no reason}\n"})
        self.assertAnswers(d2, [
            (req(client_address="192.0.2.99"),
             "action=550 5.7.2 192.0.2.99 is on dnsbl2.test, no reason"),
        ])

    def test_rhsbl(self):
        d = self.dns_daemon(
            "client_restrictions = reject_rhsbl_client rhsbl.test, "
            "reject_rhsbl_reverse_client rhsbl.test\n"
            "helo_restrictions = reject_rhsbl_helo rhsbl.test\n"
            "sender_restrictions = reject_rhsbl_sender rhsbl.test\n"
            "recipient_restrictions = reject_rhsbl_recipient rhsbl.test\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            (req(sender="a@bad.test"),
             BLOCKED % ("Sender address", "a@bad.test", "rhsbl.test", "; bad.test sends spam")),
            (req(recipient="b@bad.test"),
             BLOCKED % ("Recipient address", "b@bad.test", "rhsbl.test",
                        "; bad.test sends spam")),
            (req(helo_name="other.good.test"),
             BLOCKED % ("Helo command", "other.good.test", "rhsbl.test", "")),
            # the verified client name (PTR h17.good.test -> 192.0.2.17)
            (req(client_address="192.0.2.17"),
             BLOCKED % ("Client host", "h17.good.test", "rhsbl.test", "")),
            # an unverified PTR name only for the reverse check
            (req(client_address="192.0.2.11"),
             BLOCKED % ("Unverified Client host", "other.good.test", "rhsbl.test", "")),
            # numeric last label: skipped, as Postfix does
            (req(helo_name="192.0.2.1"), "action=DUNNO"),
        ])

    def test_permit_dnswl_client(self):
        d = self.dns_daemon("client_restrictions = "
                            "permit_dnswl_client dnswl.test=127.0.[0..255].[1..3], reject\n"
                            "relay_restrictions = reject_unauth_destination\n")
        denied = DENIED
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            (req(client_address="192.0.2.19"), "action=DUNNO"),
            # 127.0.10.0: trust level 0 is outside the filter
            (req(client_address="192.0.2.16"), denied % "192.0.2.16"),
            (req(client_address="192.0.2.15"), denied % "192.0.2.15"),
            # never a permit for a destination we do not accept mail for
            (req(recipient="b@elsewhere.example"), denied % "192.0.2.10"),
        ])

    def test_permit_rhswl_client(self):
        d = self.dns_daemon("client_restrictions = permit_rhswl_client dnswl.test, reject\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            (req(client_address="192.0.2.17"),
             "action=554 5.7.1 <unknown[192.0.2.17]>: Client host rejected: Access denied"),
        ])

    def test_warn_if_reject(self):
        d = self.dns_daemon("client_restrictions = warn_if_reject reject_rbl_client dnsbl.test\n")
        self.assertAnswers(d, [(req(client_address="192.0.2.99"), "action=DUNNO")])
        line = d.wait_log("reject_warning")
        self.assertIsNotNone(line, d.read_log())
        self.assertIn("blocked using dnsbl.test", line)


class Scoring(DnsTest):

    CONF = ("client_restrictions =\n"
            "    score 2 reject_unknown_reverse_client_hostname,\n"
            "    score 3 reject_rbl_client dnsbl.test,\n"
            "    score 1 reject_non_fqdn_helo_hostname,\n"
            "    score -3 permit_dnswl_client dnswl.test,\n"
            "    check_score\n"
            "score_reject_threshold = 5\n")

    def test_the_example_from_the_issue(self):
        d = self.dns_daemon(self.CONF)
        self.assertAnswers(d, [
            # no PTR alone passes
            (req(client_address="192.0.2.15"), "action=DUNNO"),
            # one DNSBL hit alone passes
            (req(client_address="192.0.2.17"), "action=DUNNO"),
            # no PTR + a DNSBL hit + a non-FQDN HELO rejects
            (req(client_address="192.0.2.18", helo_name="foo"),
             "action=554 5.7.1 Client host rejected: score 6 reached 5 "
             "(reject_unknown_reverse_client_hostname +2, reject_rbl_client dnsbl.test +3, "
             "reject_non_fqdn_helo_hostname +1)"),
            # a DNSWL hit cancels one DNSBL hit
            (req(client_address="192.0.2.19", helo_name="foo"), "action=DUNNO"),
        ])

    def test_defer_threshold_and_implicit_check(self):
        d = self.dns_daemon("client_restrictions = score 2 reject_unknown_reverse_client_hostname,"
                            " score 3 reject_rbl_client dnsbl.test\n"
                            "score_reject_threshold = 5\nscore_defer_threshold = 3\n")
        self.assertAnswers(d, [
            (req(client_address="192.0.2.15"), "action=DUNNO"),
            (req(client_address="192.0.2.17"),
             "action=450 4.7.1 Client host rejected: score 3 reached 3 "
             "(reject_rbl_client dnsbl.test +3); try again later"),
            (req(client_address="192.0.2.18"),
             "action=554 5.7.1 Client host rejected: score 5 reached 5 "
             "(reject_unknown_reverse_client_hostname +2, reject_rbl_client dnsbl.test +3)"),
        ])


class TemporaryFailures(DnsTest):
    """Timeouts, SERVFAIL, garbage: 450, never 5xx, never a pass where the
    restriction would have rejected."""

    RULES = {
        "15.2.0.192.in-addr.arpa": "servfail",
        "timeout.test": "timeout",
        "servfail.test": "servfail",
        "garbage.test": "garbage",
        "refused.test": "refused",
        "50.2.0.192.dnsbl.test": "timeout",
        "51.2.0.192.dnsbl.test": "truncate:127.0.0.2",
        "52.2.0.192.dnsbl.test": "servfail",
        "53.2.0.192.dnsbl.test": "delay:0.2:127.0.0.2",
        "sf.example.rhsbl.test": "servfail",
        "to.example.rhsbl.test": "timeout",
        "54.2.0.192.dnswl.test": "servfail",
    }

    def setUp(self):
        self.resp = dnsserver.Responder(self.RULES).start()
        self.addCleanup(self.resp.stop)

    def fault_daemon(self, conf):
        return self.dns_daemon("dns_timeout = 2s\n" + conf, resolver=self.resp.addr)

    def test_reverse_lookup_servfail_is_450_whatever_the_code(self):
        d = self.fault_daemon("client_restrictions = reject_unknown_reverse_client_hostname\n"
                              "unknown_client_reject_code = 550\n")
        self.assertAnswers(d, [(req(client_address="192.0.2.15"), revname("192.0.2.15"))])

    def test_helo_timeout_defers_if_permitted(self):
        nf = "action=450 4.7.1 <timeout.test>: Helo command rejected: Host not found"
        started = time.monotonic()
        d2 = self.fault_daemon("helo_restrictions = reject_unknown_helo_hostname\n"
                               "recipient_restrictions = check_recipient_access "
                               "inline:{ { spam@our.example = REJECT go away } }\n")
        self.assertAnswers(d2, [
            (req(helo_name="timeout.test"), nf),
            (req(helo_name="timeout.test", recipient="spam@our.example"),
             "action=554 5.7.1 <spam@our.example>: Recipient address rejected: go away"),
        ])
        self.assertLess(time.monotonic() - started, 20)

    def test_tempfail_action_defer(self):
        d = self.fault_daemon("helo_restrictions = reject_unknown_helo_hostname, permit\n"
                              "reject_tempfail_action = defer\n")
        self.assertAnswers(d, [
            (req(helo_name="servfail.test"),
             "action=450 4.7.1 <servfail.test>: Helo command rejected: Host not found"),
        ])

    def test_sender_domain_failures(self):
        d = self.fault_daemon("sender_restrictions = reject_unknown_sender_domain\n")
        nf = "action=450 4.1.8 <a@%s>: Sender address rejected: Domain not found"
        self.assertAnswers(d, [
            (req(sender="a@servfail.test"), nf % "servfail.test"),
            (req(sender="a@garbage.test"), nf % "garbage.test"),
            (req(sender="a@refused.test"), nf % "refused.test"),
            (req(sender="a@timeout.test"), nf % "timeout.test"),
        ])

    LISTS = ("client_restrictions = reject_rbl_client dnsbl.test\n"
             "sender_restrictions = reject_rhsbl_sender rhsbl.test\n")

    def test_dnsbl_failures_are_skipped_as_postfix(self):
        # Postfix's default: a list that cannot be queried is skipped (and
        # logged), so a main.cf pasted here decides as it did there
        d = self.fault_daemon(self.LISTS)
        self.assertAnswers(d, [
            (req(client_address="192.0.2.50"), "action=DUNNO"),
            (req(client_address="192.0.2.52"), "action=DUNNO"),
            (req(sender="a@sf.example"), "action=DUNNO"),
            (req(sender="a@to.example"), "action=DUNNO"),
            # truncated over UDP, complete over TCP
            (req(client_address="192.0.2.51"),
             BLOCKED % ("Client host", "192.0.2.51", "dnsbl.test", "")),
            # slow, but within dns_timeout
            (req(client_address="192.0.2.53"),
             BLOCKED % ("Client host", "192.0.2.53", "dnsbl.test", "")),
        ])
        self.assertIsNotNone(d.wait_log("52.2.0.192.dnsbl.test: RBL lookup error"))
        self.assertIsNotNone(d.wait_log("sf.example.rhsbl.test: RBL lookup error"))

    def test_dnsbl_failures_deferred_when_asked(self):
        temp = ("action=450 4.7.1 Service unavailable; %s [%s] not checked "
                "against %s: temporary DNS failure")
        for how in ("defer_if_permit", "defer"):
            d = self.fault_daemon(self.LISTS + "rbl_tempfail_action = %s\n" % how)
            self.assertAnswers(d, [
                (req(client_address="192.0.2.50"),
                 temp % ("Client host", "192.0.2.50", "dnsbl.test")),
                (req(client_address="192.0.2.52"),
                 temp % ("Client host", "192.0.2.52", "dnsbl.test")),
                (req(sender="a@sf.example"),
                 temp % ("Sender address", "a@sf.example", "rhsbl.test")),
                (req(sender="a@to.example"),
                 temp % ("Sender address", "a@to.example", "rhsbl.test")),
            ])
            self.assertIsNotNone(d.wait_log("52.2.0.192.dnsbl.test: RBL lookup error"))

    def test_name_too_long_for_dns_is_not_listed(self):
        # a valid 250-character sender domain with the list's domain
        # appended is 261 characters, more than DNS can carry: not found
        # (as Postfix's dns_lookup() says), never a temporary failure
        dom = ".".join(["x" * 63, "y" * 63, "z" * 63, "w" * 50, "example"])
        self.assertEqual(len(dom), 250)
        d = self.fault_daemon(self.LISTS + "rbl_tempfail_action = defer\n")
        self.assertAnswers(d, [
            (req(sender="a@" + dom), "action=DUNNO"),
            (req(sender="a@sf.example"),
             "action=450 4.7.1 Service unavailable; Sender address [a@sf.example] not "
             "checked against rhsbl.test: temporary DNS failure"),
        ])

    def test_dnswl_failure_defers_if_reject(self):
        # Postfix: permit_dnswl_client that cannot be queried is
        # DEFER_IF_REJECT, whatever rbl_tempfail_action says
        d = self.fault_daemon("client_restrictions = permit_dnswl_client dnswl.test, "
                              "reject\n")
        self.assertAnswers(d, [
            (req(client_address="192.0.2.54"),
             "action=450 4.7.1 <192.0.2.54>: Client host rejected: Service unavailable"),
        ])


class Lookups(DnsTest):

    def test_check_shows_lookups(self):
        tmp = self.tmpdir()
        conf = os.path.join(tmp, "mxshield.conf")
        with open(conf, "w") as f:
            f.write("dns_resolver = %s\n"
                    "client_restrictions = reject_unknown_client_hostname\n"
                    "helo_restrictions = reject_unknown_helo_hostname\n" % NSD.addr)
        rc, out, err = self.run_cli("check", "-c", conf, "client_address=192.0.2.10",
                                    "client_name=unknown", "helo_name=ttl60.good.test",
                                    "recipient=bob@example.org")
        self.assertEqual(rc, 0, err)
        self.assertIn("DNS PTR 10.2.0.192.in-addr.arpa: mail.good.test (ttl 300, ", out)
        self.assertIn("DNS A mail.good.test: 192.0.2.10 (ttl 300, ", out)
        self.assertIn("DNS A ttl60.good.test: 192.0.2.60 (ttl 60, ", out)
        self.assertRegex(out, r"\(ttl 300, [0-9.]+ ms\)")
        self.assertTrue(out.rstrip().endswith("action=DUNNO"), out)

    def test_seed_blocks_with_dns(self):
        """Restriction blocks of the guides that use DNS load and answer."""
        d = self.dns_daemon(
            "smtpd_client_restrictions = permit_mynetworks, reject_unknown_client_hostname,"
            " reject_rbl_client dnsbl.test, reject_rhsbl_client rhsbl.test\n"
            "smtpd_helo_required = yes\n"
            "smtpd_helo_restrictions = permit_mynetworks, reject_non_fqdn_hostname,"
            " reject_invalid_hostname, reject_unknown_hostname\n"
            "smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender,"
            " reject_unknown_sender_domain, reject_rhsbl_sender rhsbl.test\n"
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,"
            " reject_unknown_recipient_domain, reject_non_fqdn_recipient\n")
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            (req(client_address="127.0.0.1", helo_name="foo", sender="x@nope.test"),
             "action=DUNNO"),
            (req(client_address="192.0.2.99"),
             hostname("192.0.2.99")),
            (req(sender="a@bad.test"),
             BLOCKED % ("Sender address", "a@bad.test", "rhsbl.test", "; bad.test sends spam")),
            (req(helo_name="nope.good.test"),
             "action=450 4.7.1 <nope.good.test>: Helo command rejected: Host not found"),
        ])


SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "proto")


class SeedBlocks(DnsTest):
    """The seed guides' restriction blocks, pasted as they are (with their
    tables), against the test DNS data; only postgrey's
    check_policy_service line is taken out (greylisting is a later part)."""

    HEAD = ("myhostname = mx.our.test\nmydomain = our.test\n"
            "mydestination = $mydomain, $myhostname, localhost\n"
            "relay_domains = txtonly.good.test, nullmx.good.test\n"
            "mynetworks = 127.0.0.0/8\n")

    # what Postfix would send for these clients
    GOOD = {"client_address": "192.0.2.10", "client_name": "mail.good.test",
            "reverse_client_name": "mail.good.test", "helo_name": "mail.good.test",
            "sender": "alice@good.test", "recipient": "bob@our.test"}
    NO_PTR = {"client_address": "192.0.2.15", "client_name": "unknown",
              "reverse_client_name": "unknown"}
    UNCONFIRMED = {"client_address": "192.0.2.11", "client_name": "unknown",
                   "reverse_client_name": "other.good.test"}

    def seed(self, name, tables=(), head=None):
        tmp = self.tmpdir()
        for t in tables:
            with open(os.path.join(SEEDS, name, t)) as f, open(os.path.join(tmp, t), "w") as o:
                o.write(f.read())
        with open(os.path.join(SEEDS, name, "restrictions.cf")) as f:
            block = f.read()
        self.assertIn("reject_", block)
        kept = "".join(l for l in block.splitlines(True) if "check_policy_service" not in l)
        return self.dns_daemon((head or self.HEAD) + kept.replace("/etc/postfix/", tmp + "/"))

    def r(self, *extra, **kw):
        out = dict(self.GOOD)
        for e in extra:
            out.update(e)
        out.update(kw)
        return out

    def test_seed000(self):
        d = self.seed("seed000", ["helo_access"])
        self.assertAnswers(d, [
            (self.r(), "action=DUNNO"),
            (self.r(self.NO_PTR), revname("192.0.2.15")),
            # helo_access allows a name that has no address
            (self.r(helo_name="email-webtest-prod-2.local"), "action=DUNNO"),
            (self.r(helo_name="nope.good.test"),
             "action=450 4.7.1 <nope.good.test>: Helo command rejected: Host not found"),
            (self.r(helo_name="foo"),
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            (self.r(recipient="b@elsewhere.good.test"),
             "action=450 4.7.1 <b@elsewhere.good.test>: Relay access denied"),
            (self.r(self.NO_PTR, client_address="127.0.0.1", helo_name="foo"), "action=DUNNO"),
        ])

    def test_seed001(self):
        d = self.seed("seed001", ["sender_access"])
        self.assertAnswers(d, [
            (self.r(), "action=DUNNO"),
            (self.r(client_address="192.0.2.99"),
             BLOCKED % ("Client host", "192.0.2.99", "zen.spamhaus.org",
                        "; https://www.spamhaus.org/query/ip/192.0.2.99")),
            # zen refusing the query is no listing
            (self.r(client_address="192.0.2.98"), "action=DUNNO"),
            (self.r(client_address="192.0.2.97"),
             BLOCKED % ("Client host", "192.0.2.97", "dnsbl.sorbs.net", "")),
            (self.r(self.UNCONFIRMED),
             BLOCKED % ("Unverified Client host", "other.good.test", "dbl.spamhaus.org", "")),
            (self.r(helo_name="other.good.test"),
             BLOCKED % ("Helo command", "other.good.test", "dbl.spamhaus.org", "")),
            (self.r(sender="a@bad.test"),
             BLOCKED % ("Sender address", "a@bad.test", "dbl.spamhaus.org", "")),
            (self.r(sender="spam@good.test"),
             "action=554 5.7.1 <spam@good.test>: Sender address rejected: Access denied"),
            (self.r(sender="x@onlya.good.test"),
             "action=554 5.7.1 <x@onlya.good.test>: Sender address rejected: Access denied"),
            (self.r(sender="x@txtonly.good.test"),
             "action=450 4.1.8 <x@txtonly.good.test>: Sender address rejected: "
             "Domain not found"),
            (self.r(recipient="b@txtonly.good.test"),
             "action=450 4.1.2 <b@txtonly.good.test>: Recipient address rejected: "
             "Domain not found"),
            (self.r(recipient="b@nullmx.good.test"),
             "action=556 5.1.10 <b@nullmx.good.test>: Recipient address rejected: "
             "Domain nullmx.good.test does not accept mail (nullMX)"),
            (self.r(recipient="b@elsewhere.good.test"),
             "action=554 5.7.1 <b@elsewhere.good.test>: Relay access denied"),
            (self.r(helo_name=""), "action=503 5.5.1 Error: send HELO/EHLO first"),
            (self.r(client_address="127.0.0.1", sender="x@txtonly.good.test"), "action=DUNNO"),
        ])

    def test_seed003(self):
        d = self.seed("seed003")
        self.assertAnswers(d, [
            (self.r(), "action=DUNNO"),
            (self.r(self.NO_PTR), revname("192.0.2.15")),
            (self.r(helo_name="foo"),
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            (self.r(client_address="192.0.2.99"),
             BLOCKED % ("Client host", "192.0.2.99", "zen.spamhaus.org",
                        "; https://www.spamhaus.org/query/ip/192.0.2.99")),
            (self.r(client_address="192.0.2.98"), "action=DUNNO"),
            (self.r(recipient="b@txtonly.good.test"),
             "action=450 4.1.2 <b@txtonly.good.test>: Recipient address rejected: "
             "Domain not found"),
        ])

    def test_seed004(self):
        head = ("myhostname = mail.dragon.lab\nmydomain = dragon.lab\n"
                "mydestination = $mydomain, $myhostname, lists.dragon.lab, localhost\n"
                "mynetworks = 127.0.0.0/8 [::1]/128\n")
        d = self.seed("seed004", ["access_client.in", "access_helo.in", "access_sender.in",
                                  "access_recipient.in"], head=head)
        self.assertAnswers(d, [
            (self.r(recipient="bob@dragon.lab"), "action=DUNNO"),
            (self.r(self.UNCONFIRMED, recipient="bob@dragon.lab"),
             hostname("192.0.2.11")),
            (self.r(self.NO_PTR, recipient="bob@dragon.lab"), hostname("192.0.2.15")),
            (self.r(sender="x@txtonly.good.test", recipient="bob@dragon.lab"),
             "action=450 4.1.8 <x@txtonly.good.test>: Sender address rejected: "
             "Domain not found"),
            (self.r(recipient="from_spammer@dragon.lab"),
             "action=554 5.7.1 <from_spammer@dragon.lab>: Recipient address rejected: "
             "Email address passed on to spammers"),
        ])


class SharedAndEarly(DnsTest):
    """Identical lookups in flight are one query; an answer that needs no
    lookup does not wait for the lookups started in advance."""

    def test_identical_lookups_share_one_query(self):
        # answers late, but within unbound's first retransmission timeout
        resp = dnsserver.Responder({}, delay=0.2).start()
        self.addCleanup(resp.stop)
        d = self.dns_daemon("dns_timeout = 5s\n"
                            "client_restrictions = reject_rbl_client dnsbl.test\n",
                            resolver=resp.addr)
        clients = [self.client(d) for _ in range(5)]
        for c in clients:
            c.send(request(req(client_address="192.0.2.44")))
        for c in clients:
            self.assertEqual(c.reply(), "action=DUNNO")
        asked = [n for n, t in resp.seen if n == "44.2.0.192.dnsbl.test"]
        self.assertEqual(len(asked), 1, resp.seen)

    def test_idle_timeout_does_not_cut_a_decision(self):
        # the client waits for an answer: it is not idle, however long the
        # lookups take (within dns_timeout)
        resp = dnsserver.Responder({"47.2.0.192.dnsbl.test": "delay:1.2:127.0.0.2"}).start()
        self.addCleanup(resp.stop)
        d = self.dns_daemon("dns_timeout = 8s\npolicy_idle_timeout = 1s\n"
                            "client_restrictions = reject_rbl_client dnsbl.test\n",
                            resolver=resp.addr)
        # the responder answers one query at a time, each 1.2 s late, and
        # libunbound gives up on a socket and asks again meanwhile: the answer
        # that counts comes about 5 s on, past the usual patience of 5 s
        c = self.client(d, timeout=15)
        started = time.monotonic()
        self.assertEqual(c.ask(req(client_address="192.0.2.47")),
                         "action=554 5.7.1 Service unavailable; Client host [192.0.2.47] "
                         "blocked using dnsbl.test")
        answered = time.monotonic()
        self.assertGreaterEqual(answered - started, 1.1)
        # and once answered, idle again: closed a timeout after the answer
        self.assertTrue(c.wait_closed(3.0), "idle connection not closed after 1s")
        self.assertGreater(time.monotonic() - answered, 0.8, "idle time counted the wait")

    def test_stop_with_lookups_out(self):
        # SIGTERM while a decision waits for a lookup that outlives the
        # grace period: the connection is dropped unanswered and nothing
        # resumes once the store and resolver are gone (deleting
        # unbound's context answers every query still out)
        resp = dnsserver.Responder({"48.2.0.192.dnsbl.test": "timeout"}).start()
        self.addCleanup(resp.stop)
        d = self.dns_daemon("dns_timeout = 60s\ndata_directory = @TMP@/db\n"
                            "recipient_restrictions = reject_rbl_client dnsbl.test, greylist\n",
                            resolver=resp.addr)
        c = self.client(d)
        c.send(request(req(client_address="192.0.2.48")))
        deadline = time.monotonic() + 3
        while ("48.2.0.192.dnsbl.test", 1) not in resp.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        d.expect_exit = True
        d.signal(signal.SIGTERM)
        status = d.wait_exit(20)
        log = d.read_log()
        self.assertEqual(status, 0, log[-3000:])
        self.assertNotIn("AddressSanitizer", log)
        self.assertIn("stopped with 1 connections still open", log)
        self.assertTrue(c.wait_closed(2.0))
        self.assertEqual(c.buf, b"", "answered after the stop")

    def test_permit_before_a_slow_lookup_answers_at_once(self):
        resp = dnsserver.Responder({"46.2.0.192.dnsbl.test": "timeout",
                                    "1.0.0.127.dnsbl.test": "timeout"}).start()
        self.addCleanup(resp.stop)
        d = self.dns_daemon("dns_timeout = 3s\n"
                            "client_restrictions = permit_mynetworks, "
                            "reject_rbl_client dnsbl.test\n"
                            "rbl_tempfail_action = defer_if_permit\n",
                            resolver=resp.addr)
        c = self.client(d)
        started = time.monotonic()
        self.assertEqual(c.ask(req(client_address="127.0.0.1")), "action=DUNNO")
        self.assertLess(time.monotonic() - started, 1.5)
        # the lookup was started (prefetched) all the same
        deadline = time.monotonic() + 2
        while ("1.0.0.127.dnsbl.test", 1) not in resp.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn(("1.0.0.127.dnsbl.test", 1), resp.seen)
        # when the list needs the answer, it waits for it: here until the
        # lookup times out, which is a temporary failure
        started = time.monotonic()
        self.assertEqual(c.ask(req(client_address="192.0.2.46")),
                         "action=450 4.7.1 Service unavailable; Client host [192.0.2.46] "
                         "not checked against dnsbl.test: temporary DNS failure")
        self.assertGreaterEqual(time.monotonic() - started, 2.5)


class DnsCache(DnsTest):

    def test_large_txt_answers_stay_within_dns_cache_size(self):
        """dns_cache_size bounds the answer cache in bytes: after a warm-up
        that fills it (and libunbound's own bounded caches), 800 more names
        whose TXT answers are 32 KB each (big.test: about 26 MB in all) do
        not grow the daemon.  Counted in answers, they all stayed."""
        if harness.sanitized():
            self.skipTest("RSS is no measure under ASan (freed memory is quarantined)")
        d = self.dns_daemon("dns_cache_size = 2097152\n"
                            "recipient_restrictions = check_spf\n")
        c = self.client(d)

        def ask(i):
            self.assertEqual(c.ask(req(sender="a@n%d.big.test" % i)),
                             "action=PREPEND Received-SPF: none (mx.our.example: domain of "
                             "a@n%d.big.test does not provide an SPF record) "
                             "client-ip=192.0.2.10; envelope-from=a@n%d.big.test; "
                             "helo=mail.good.test; receiver=mx.our.example; identity=mailfrom;"
                             % (i, i))
        for i in range(300):
            ask(i)
        rss0 = rss_kb(d.proc.pid)
        for i in range(300, 1100):
            ask(i)
        grown = rss_kb(d.proc.pid) - rss0
        self.assertLess(grown, 8 * 1024, "RSS grew by %d kB" % grown)
