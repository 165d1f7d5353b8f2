"""DKIM and ARC verification through `mxshield dkim`, against the real NSD
serving tests/data/dns/dkim.test.zone (keys written by
tests/data/dkim/make.py), the scripted responder for SERVFAIL, and
messages signed by python3-dkim: the fixtures in tests/data/dkim/ and one
signed here, now, with a fresh body."""

import json
import os
import random
import string

import dnsserver
from harness import DaemonTest, REPO

DATA = os.path.join(REPO, "tests", "data", "dkim")
NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


def fixture(name):
    return os.path.join(DATA, name)


class Dkim(DaemonTest):

    def dkim(self, *args, resolver=None, stdin=None):
        rc, out, err = self.run_cli("dkim", "--resolver", resolver or NSD.addr, *args,
                                    stdin=stdin, timeout=30)
        self.assertEqual(rc, 0, err)
        return out

    def json(self, name=None, resolver=None, stdin=None, trace=False):
        args = ["--json"] + (["--trace"] if trace else []) + ([fixture(name)] if name else [])
        out = self.dkim(*args, resolver=resolver, stdin=stdin)
        return json.loads(out.strip().splitlines()[-1])

    def one(self, name, **kw):
        res = self.json(name, **kw)["dkim"]
        self.assertEqual(len(res), 1, res)
        return res[0]

    def test_algorithms_and_canonicalisations(self):
        for alg, s, a in (("rsa", "rsa", "rsa-sha256"), ("ed25519", "ed", "ed25519-sha256")):
            for c in ("simple-simple", "simple-relaxed", "relaxed-simple", "relaxed-relaxed"):
                r = self.one("%s-%s.eml" % (alg, c))
                self.assertEqual((r["result"], r["d"], r["s"], r["a"], r["i"], r["index"]),
                                 ("pass", "dkim.test", s, a, "@dkim.test", 0),
                                 "%s %s: %s" % (alg, c, r))
                self.assertEqual(r["reason"], "good signature")

    def test_failures(self):
        r = self.one("tampered-body.eml")
        self.assertEqual((r["result"], r["reason"]), ("fail", "body hash did not verify"))
        r = self.one("tampered-header.eml")
        self.assertEqual((r["result"], r["reason"]), ("fail", "signature did not verify"))
        r = self.one("nokey.eml")
        self.assertEqual(r["result"], "permerror")
        self.assertIn("nokey._domainkey.dkim.test does not exist", r["reason"])
        r = self.one("revoked.eml")
        self.assertEqual((r["result"], r["reason"]), ("permerror", "key revoked (empty p=)"))
        r = self.one("short.eml")
        self.assertEqual(r["result"], "policy")
        self.assertIn("512 bits", r["reason"])
        self.assertEqual(self.one("sha1.eml")["result"], "policy")
        # two TXT records at the key's name (NSD serves both)
        self.assertEqual(self.one("multi.eml")["result"], "permerror")

    def test_servfail_is_temperror(self):
        with dnsserver.Responder({"rsa._domainkey.dkim.test": "servfail"}) as resp:
            r = self.one("rsa-relaxed-relaxed.eml", resolver=resp.addr)
        self.assertEqual(r["result"], "temperror")
        self.assertIn("temporary failure", r["reason"])

    def test_lf_line_ends_and_stdin(self):
        with open(fixture("rsa-lf.eml")) as f:
            lf = f.read()
        self.assertNotIn("\r", lf)
        r = self.json(stdin=lf)["dkim"]
        self.assertEqual([x["result"] for x in r], ["pass"])
        # the same message with CRLF, from standard input
        with open(fixture("rsa-relaxed-relaxed.eml"), newline="") as f:
            crlf = f.read()
        self.assertEqual([x["result"] for x in self.json(stdin=crlf)["dkim"]], ["pass"])

    def test_length_and_two_signatures(self):
        r = self.one("length-appended.eml")
        self.assertEqual(r["result"], "pass")
        self.assertIn("25 body bytes not signed", r["reason"])
        res = self.json("two.eml")["dkim"]
        self.assertEqual([(x["index"], x["a"], x["result"]) for x in res],
                         [(0, "ed25519-sha256", "pass"), (1, "rsa-sha256", "pass")])

    def test_arc(self):
        out = self.json("arc-2.eml")
        self.assertEqual(out["arc"]["result"], "pass")
        self.assertEqual(out["arc"]["sealer"], "dkim.test")
        self.assertEqual(self.json("arc-2-tampered.eml")["arc"]["result"], "fail")
        self.assertEqual(self.json("arc-2-badseal.eml")["arc"]["result"], "fail")
        self.assertEqual(self.json("rsa-relaxed-relaxed.eml")["arc"]["result"], "none")

    def test_signed_now(self):
        """A message python3-dkim signs here, with a 20 KB body of its own."""
        import dkim
        with open(os.path.join(DATA, "keys", "rsa2048.pem"), "rb") as f:
            rsa = f.read()
        with open(os.path.join(DATA, "keys", "ed25519.seed"), "rb") as f:
            ed = f.read().strip()
        rnd = random.Random(12)
        lines = ["".join(rnd.choice(string.ascii_letters + "  \t") for _ in range(70))
                 for _ in range(280)]
        body = ("\r\n".join(lines) + "\r\n\r\n").encode()
        msg = (b"From: Carol <carol@dkim.test>\r\nTo: dave@example.net\r\n"
               b"Subject: signed now\r\n\r\n" + body)
        msg = dkim.sign(msg, b"rsa", b"dkim.test", rsa, canonicalize=(b"relaxed", b"simple"),
                        include_headers=[b"from", b"to", b"subject"]) + msg
        msg = dkim.sign(msg, b"ed", b"dkim.test", ed, signature_algorithm=b"ed25519-sha256",
                        canonicalize=(b"simple", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject"]) + msg
        path = os.path.join(self.tmpdir(), "now.eml")
        with open(path, "wb") as f:
            f.write(msg)
        out = self.dkim("--json", path)
        res = json.loads(out.strip().splitlines()[-1])["dkim"]
        self.assertEqual([(x["a"], x["result"]) for x in res],
                         [("ed25519-sha256", "pass"), ("rsa-sha256", "pass")])
        with open(path, "wb") as f:
            f.write(msg.replace(b"signed now", b"signed later"))
        res = json.loads(self.dkim("--json", path).strip().splitlines()[-1])["dkim"]
        self.assertEqual([x["result"] for x in res], ["fail", "fail"])

    def test_resolver_from_configuration(self):
        """-c FILE (anywhere): dns_resolver from the file, as the daemon."""
        conf = os.path.join(self.tmpdir(), "mxshield.conf")
        with open(conf, "w") as f:
            f.write("dns_resolver = %s\n" % NSD.addr)
        rc, out, err = self.run_cli("dkim", "--json", fixture("ed25519-simple-simple.eml"),
                                    "-c", conf, timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out.splitlines()[-1])["dkim"][0]["result"], "pass")

    def test_text_output_and_usage(self):
        out = self.dkim(fixture("nokey.eml"))
        self.assertIn("dkim[0]: permerror d=dkim.test s=nokey", out)
        self.assertIn("arc: none", out)
        out = self.dkim("--trace", fixture("ed25519-relaxed-relaxed.eml"))
        self.assertIn("DNS TXT ed._domainkey.dkim.test:", out)
        self.assertIn("dkim[0]: pass", out)
        rc, _, err = self.run_cli("dkim", "--bogus")
        self.assertEqual(rc, 2)
        self.assertIn("usage: mxshield dkim", err)
        rc, _, err = self.run_cli("dkim", os.path.join(DATA, "no-such-file.eml"))
        self.assertEqual(rc, 2)
        self.assertIn("no-such-file.eml", err)
        # no signature at all
        out = self.json(stdin="From: a@b.example\nSubject: x\n\nbody\n")
        self.assertEqual(out["dkim"], [])
        self.assertEqual(out["arc"]["result"], "none")
