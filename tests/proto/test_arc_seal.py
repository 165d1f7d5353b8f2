"""ARC sealing (RFC 8617), `mxshield dkim arc-seal`: keys made by
`mxshield dkim keygen` and served by a private NSD; the sealed message
verifies as arc=pass with our verifier (`mxshield dkim`) and with
python3-dkim's arc_verify (an independent implementation): a message
without a chain gets i=1 cv=none, one sealed before by python3-dkim
(a passing chain of 1) gets i=2 cv=pass, a broken chain gets cv=fail."""

import os
import subprocess

import dkimkeys
from harness import DaemonTest, BINARY

DOMAIN = "seal.test"
MSG = (b"From: Alice <alice@example.org>\r\nTo: list@seal.test\r\n"
       b"Subject: forwarded by mxshield\r\nDate: Sat, 5 Dec 2026 07:00:00 +0000\r\n"
       b"Message-ID: <m1@example.org>\r\n\r\nHello list,\r\n\r\n  indented  line \r\n")


class ArcSeal(DaemonTest):

    def setUp(self):
        self.d = self.tmpdir()
        # r, e: ours; p: the earlier forwarder's (python3-dkim signs with it)
        self.records, lines = dkimkeys.make_keys(
            self, DOMAIN, self.d, (("r", ["--bits", "1024"]), ("e", ["--type", "ed25519"]),
                                   ("p", ["--bits", "1024"])))
        with open(os.path.join(self.d, "keys"), "w") as f:
            f.write("r %s:r:%s/r.private\ne %s:e:%s/e.private\n" % (DOMAIN, self.d, DOMAIN, self.d))
        self.nsd = dkimkeys.serve(self, DOMAIN, lines)

    def seal(self, msg, key="r", want=0):
        path = os.path.join(self.d, "mxshield.conf")
        with open(path, "w") as f:
            f.write("dkim_key_table = hash:%s/keys\narc_sign = %s\nauthserv_id = mx.seal.test\n"
                    % (self.d, key))
        p = subprocess.run([BINARY, "dkim", "arc-seal", "-c", path, "--resolver", self.nsd.addr],
                           input=msg, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, want, p.stderr)
        return p.stdout, p.stderr.decode()

    def ours(self, msg):
        return dkimkeys.verify_ours(self, self.d, msg, self.nsd.addr)["arc"]["result"]

    def theirs(self, msg, full=False):
        import dkim
        cv, data, why = dkim.arc_verify(msg, dnsfunc=dkimkeys.dnsfunc(self.records))
        if full:
            return cv, data, why
        return cv.decode(), why

    def python_sealed(self):
        """MSG forwarded once by a sealer python3-dkim runs (a chain of 1)."""
        import dkim
        with open(os.path.join(self.d, "p.private"), "rb") as f:
            key = f.read()
        msg = b"Authentication-Results: fwd.seal.test; spf=pass smtp.mailfrom=example.org\r\n" + MSG
        hdrs = dkim.arc_sign(msg, b"p", DOMAIN.encode(), key, b"fwd.seal.test",
                             include_headers=[b"from", b"to", b"subject", b"date"])
        self.assertEqual(len(hdrs), 3)
        sealed = b"".join(hdrs) + msg
        self.assertEqual(dkim.arc_verify(sealed, dnsfunc=dkimkeys.dnsfunc(self.records))[0],
                         b"pass")
        return sealed

    def test_first_seal(self):
        sealed, _ = self.seal(MSG)
        self.assertTrue(sealed.endswith(MSG))
        top = sealed[:len(sealed) - len(MSG)]
        # ARC-Seal on top, then ARC-Message-Signature, then the results
        self.assertEqual([l.split(b":")[0] for l in top.split(b"\r\n") if l[:1].isalpha()],
                         [b"ARC-Seal", b"ARC-Message-Signature", b"ARC-Authentication-Results"])
        self.assertIn(b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=seal.test; s=r;", sealed)
        self.assertIn(b"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed;", sealed)
        self.assertIn(b"ARC-Authentication-Results: i=1; mx.seal.test;", sealed)
        self.assertIn(b"arc=none", sealed)
        self.assertEqual(self.ours(sealed), "pass")
        self.assertEqual(self.theirs(sealed), ("pass", "success"))
        # tampered body: both implementations say fail
        bad = sealed.replace(b"Hello list", b"Hello Eve")
        self.assertEqual(self.ours(bad), "fail")
        self.assertEqual(self.theirs(bad)[0], "fail")
        # a message with LF line ends is sealed and given back with LF
        lf, _ = self.seal(MSG.replace(b"\r\n", b"\n"))
        self.assertNotIn(b"\r", lf)
        self.assertEqual(self.ours(lf), "pass")
        self.assertEqual(self.theirs(lf), ("pass", "success"))

    def test_chain_of_one_gets_instance_two(self):
        first = self.python_sealed()
        sealed, _ = self.seal(first)
        self.assertTrue(sealed.endswith(first))
        self.assertIn(b"ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=seal.test; s=r;", sealed)
        self.assertIn(b"ARC-Message-Signature: i=2;", sealed)
        self.assertIn(b"arc=pass", sealed)
        self.assertEqual(self.ours(sealed), "pass")
        self.assertEqual(self.theirs(sealed), ("pass", "success"))
        # and a third hop over a chain of 2
        third, _ = self.seal(sealed)
        self.assertIn(b"ARC-Seal: i=3; cv=pass; a=rsa-sha256;", third)
        self.assertEqual(self.ours(third), "pass")
        self.assertEqual(self.theirs(third), ("pass", "success"))

    def test_broken_chain_gets_cv_fail(self):
        first = self.python_sealed().replace(b"Hello list", b"Hello Eve")
        self.assertEqual(self.ours(first), "fail")
        sealed, _ = self.seal(first)
        self.assertIn(b"ARC-Seal: i=2; cv=fail; a=rsa-sha256; d=seal.test; s=r;", sealed)
        self.assertIn(b"arc=fail", sealed)
        # the chain stays failed for every later verifier; python3-dkim
        # verifies our ARC-Message-Signature and stops at our cv=fail
        self.assertEqual(self.ours(sealed), "fail")
        cv, data, why = self.theirs(sealed, full=True)
        self.assertIsNone(cv)
        self.assertEqual(why, "ARC-Seal[2] reported failure, the chain is terminated")
        self.assertEqual((data[0]["instance"], data[0]["ams-valid"]), (2, True))
        # incomplete set (its ARC-Seal removed): structurally broken
        lines = self.python_sealed().split(b"\r\n")
        i = next(k for k, l in enumerate(lines) if l.startswith(b"ARC-Seal:"))
        j = i + 1
        while lines[j][:1] in (b" ", b"\t"):
            j += 1
        broken = b"\r\n".join(lines[:i] + lines[j:])
        sealed, _ = self.seal(broken)
        self.assertIn(b"ARC-Seal: i=2; cv=fail;", sealed)
        self.assertEqual(self.ours(sealed), "fail")

    def test_refused_without_key(self):
        out, err = self.seal(MSG, key="missing", want=2)
        self.assertEqual(out, b"")
        self.assertIn("arc_sign: dkim_key_table: has no key missing", err)
        os.chmod(os.path.join(self.d, "r.private"), 0o640)
        out, err = self.seal(MSG, want=2)
        self.assertIn("is accessible to group or others", err)
        # Ed25519 is DKIM's (RFC 8463), not ARC's: refused by name
        out, err = self.seal(MSG, key="e", want=2)
        self.assertIn("arc_sign: key e is ed25519-sha256: ARC verifiers take rsa-sha256"
                      " seals only", err)
