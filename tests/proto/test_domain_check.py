"""`mxshield domain check` against NSD serving tests/data/dns/dc-good.test,
dc-bad.test and 100.51.198.in-addr.arpa: a domain whose records are right
passes (exit 0); each mistake is found, as an error (exit 1) or a
warning, with its fix; a DNS failure is an error, never a pass."""

import json
import os
import shutil

import dnsserver
from harness import DaemonTest, REPO

NSD = None
KEY = os.path.join(REPO, "tests", "data", "dkim", "keys", "rsa2048.pem")


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


class DomainCheck(DaemonTest):

    def conf(self, domain):
        d = self.tmpdir()
        key = os.path.join(d, "k.pem")
        shutil.copy(KEY, key)
        os.chmod(key, 0o600)
        path = os.path.join(d, "mxshield.conf")
        with open(path, "w") as f:
            f.write("myhostname = mx.dc-good.test\n"
                    "dkim_signing_table = inline:{ %s=k }\n"
                    "dkim_key_table = inline:{ k=%s:rsa:%s }\n" % (domain, domain, key))
        return path

    def check(self, domain, *extra, resolver=None, want=None):
        rc, out, err = self.run_cli("domain", "-c", self.conf(domain), "check", domain,
                                    "--resolver", resolver or NSD.addr, *extra, timeout=30)
        if want is not None:
            self.assertEqual(rc, want, out + err)
        return rc, out

    def lines(self, out, level, check):
        return [l for l in out.splitlines() if l.startswith("%s %s: " % (level, check))]

    def test_good_domain(self):
        rc, out = self.check("dc-good.test", want=0)
        self.assertNotIn("error", out)
        self.assertNotIn("warning", out)
        for want in ('ok spf: record "v=spf1 mx ip4:198.51.100.26 -all" parses within the limits',
                     "ok spf: 198.51.100.25 is authorised (mx)",
                     "ok dkim: rsa._domainkey.dc-good.test publishes the signing key",
                     "ok dmarc: policy p=reject; rua=mailto:dmarc@dc-good.test;"
                     " ruf=mailto:forensic@dc-good.test",
                     "ok mx: mx.dc-good.test (198.51.100.25): PTR mx.dc-good.test confirmed",
                     "ok helo: mx.dc-good.test (198.51.100.25): PTR mx.dc-good.test confirmed",
                     "ok mta-sts: v=STSv1; id=2026120501",
                     "ok tls-rpt: v=TLSRPTv1; rua=mailto:tlsrpt@dc-good.test"):
            self.assertIn(want, out.splitlines())
        # the addresses given replace myhostname's
        rc, out = self.check("dc-good.test", "--address", "198.51.100.26", want=0)
        self.assertIn("ok spf: 198.51.100.26 is authorised (ip4:198.51.100.26)", out)
        rc, out = self.check("dc-good.test", "--address", "203.0.113.1", want=1)
        self.assertIn("error spf: outbound address 203.0.113.1 is not authorised: fail;"
                      " fix: add ip4:/ip6:", out)
        # a domain that sends and receives nothing
        rc, out = self.check("nomail.dc-good.test")
        self.assertIn("ok spf: nomail.dc-good.test sends no mail (v=spf1 -all)", out)
        self.assertIn("ok mx: null MX: nomail.dc-good.test receives no mail", out)

    def test_broken_domain(self):
        rc, out = self.check("dc-bad.test", want=1)
        self.assertEqual(self.lines(out, "error", "spf"),
                         ["error spf: outbound address 198.51.100.25 is not authorised: fail;"
                          " fix: add ip4:/ip6: (or a mechanism) that matches the address"])
        [dk] = self.lines(out, "error", "dkim")
        self.assertIn("rsa._domainkey.dc-bad.test: the published key is not the private"
                      " key's public half", dk)
        [dm] = self.lines(out, "error", "dmarc")
        self.assertIn('"v=DMARC1; p=maybe": no valid p= policy; fix: add p=none', dm)
        [mx] = self.lines(out, "error", "mx")
        self.assertIn("mx.dc-bad.test (198.51.100.66): no forward-confirmed PTR,"
                      " PTR elsewhere.dc-bad.test; fix:", mx)
        self.assertEqual(len(self.lines(out, "warning", "mta-sts")), 1)
        self.assertEqual(len(self.lines(out, "warning", "tls-rpt")), 1)

    def test_spf_limits_and_records(self):
        rc, out = self.check("many.dc-bad.test", want=1)
        self.assertIn("error spf: the record is a permerror: more than 10 DNS-querying terms;"
                      " fix:", out)
        rc, out = self.check("void.dc-bad.test", want=1)
        self.assertIn("error spf: the record is a permerror: more than 2 void lookups;", out)
        self.assertIn("warning mx: void.dc-bad.test has no MX record; fix: publish MX records,"
                      " or a null MX", out)
        rc, out = self.check("two.dc-bad.test", want=1)
        self.assertIn("error spf: 2 SPF records at two.dc-bad.test: permerror;", out)
        self.assertIn("warning dmarc: policy p=none; rua=-; ruf=-; fix: move to"
                      " p=quarantine", out)
        self.assertIn("warning dmarc: no rua=: nobody sees the reports;", out)
        rc, out = self.check("syntax.dc-bad.test", want=1)
        self.assertIn('error dmarc: "v=DMARC1; p=reject; rua mailto:d@dc-bad.test" is not a valid'
                      ' DMARC record: malformed tag "rua mailto:d@dc-bad.test"; fix:', out)
        rc, out = self.check("nothing.dc-bad.test", want=1)
        self.assertIn("error spf: no SPF record at nothing.dc-bad.test;", out)
        self.assertIn("error dmarc: no DMARC record at _dmarc.nothing.dc-bad.test;", out)
        self.assertIn("error dkim: rsa._domainkey.nothing.dc-bad.test: no key record;", out)

    def test_dns_failure_is_an_error(self):
        with dnsserver.Responder({"dc-good.test": "servfail"}) as resp:
            rc, out = self.check("dc-good.test", resolver=resp.addr, want=1)
        self.assertIn("error spf: cannot check: the TXT lookup of dc-good.test failed", out)
        self.assertNotIn("ok spf", out)

    def test_json_and_usage(self):
        rc, out = self.check("two.dc-bad.test", "--json", want=1)
        res = json.loads(out)
        self.assertIn({"level": "error", "check": "spf",
                       "finding": "2 SPF records at two.dc-bad.test: permerror",
                       "fix": "merge them into one record (RFC 7208 section 4.5)"}, res)
        self.assertTrue(all(set(x) == {"level", "check", "finding", "fix"} for x in res))
        for args in ((), ("check",), ("check", "not a domain"), ("check", "a.test", "--bogus"),
                     ("verify", "a.test")):
            rc, _, err = self.run_cli("domain", *args)
            self.assertEqual(rc, 2, args)
            self.assertIn("usage: mxshield domain", err)
