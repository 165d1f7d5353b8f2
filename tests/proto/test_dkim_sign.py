"""`mxshield dkim sign`: keys made by `mxshield dkim keygen`, chosen through
dkim_signing_table and dkim_key_table; the signed message verifies with
python3-dkim (an independent implementation, keys from the printed
records) and with `mxshield dkim` against a private NSD serving those
records; RSA, Ed25519 and both at once; a key file others can read is
refused by name."""

import os
import subprocess

import dkimkeys
from harness import DaemonTest, BINARY

DOMAIN = "sign.test"
MSG = (b"From: Alice <alice@sign.test>\r\nTo: bob@example.net\r\n"
       b"Subject: signed by mxshield\r\nDate: Sat, 5 Dec 2026 07:00:00 +0000\r\n"
       b"Message-ID: <m1@sign.test>\r\n\r\nHello Bob,\r\n\r\n  indented  line \r\n")


class Sign(DaemonTest):

    def setUp(self):
        self.d = self.tmpdir()
        self.records, lines = dkimkeys.make_keys(
            self, DOMAIN, self.d, (("r", ["--bits", "1024"]), ("e", ["--type", "ed25519"])))
        with open(os.path.join(self.d, "signing"), "w") as f:
            f.write("alice@sign.test r, e\nsign.test e\n.sign.test r\n")
        with open(os.path.join(self.d, "keys"), "w") as f:
            f.write("r %s:r:%s/r.private\ne %s:e:%s/e.private\n" % (DOMAIN, self.d, DOMAIN, self.d))
        self.nsd = dkimkeys.serve(self, DOMAIN, lines)

    def conf(self, extra=""):
        path = os.path.join(self.d, "mxshield.conf")
        with open(path, "w") as f:
            f.write("dkim_signing_table = texthash:%s/signing\n"
                    "dkim_key_table = hash:%s/keys\n%s" % (self.d, self.d, extra))
        return path

    def sign(self, msg, extra="", want=0):
        p = subprocess.run([BINARY, "dkim", "sign", "-c", self.conf(extra)], input=msg,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, want, p.stderr)
        return p.stdout, p.stderr.decode()

    def ours(self, msg):
        return [(x["s"], x["a"], x["result"])
                for x in dkimkeys.verify_ours(self, self.d, msg, self.nsd.addr)["dkim"]]

    def theirs(self, msg):
        """python3-dkim's verdict on every signature, keys from the records."""
        import dkim
        d = dkim.DKIM(msg)
        dnsfunc = dkimkeys.dnsfunc(self.records)
        n = len([l for l in msg.split(b"\n") if l.lower().startswith(b"dkim-signature:")])
        res = []
        for i in range(n):
            try:
                res.append(d.verify(idx=i, dnsfunc=dnsfunc))
            except dkim.ValidationError:	# a body hash mismatch is raised
                res.append(False)
        return res

    def test_dual_signed_verifies_with_both_implementations(self):
        signed, _ = self.sign(MSG)
        self.assertTrue(signed.endswith(MSG))
        self.assertEqual(self.ours(signed), [("r", "rsa-sha256", "pass"),
                                             ("e", "ed25519-sha256", "pass")])
        self.assertEqual(self.theirs(signed), [True, True])
        # tampered: both implementations say no
        bad = signed.replace(b"Hello Bob", b"Hello Eve")
        self.assertEqual([x[2] for x in self.ours(bad)], ["fail", "fail"])
        self.assertEqual(self.theirs(bad), [False, False])

    def test_each_type_and_canonicalisation(self):
        for canon in ("simple/simple", "relaxed/simple", "simple/relaxed", "relaxed/relaxed"):
            for sender, sel, alg in ((b"carol@sign.test", "e", "ed25519-sha256"),
                                     (b"dave@mail.sign.test", "r", "rsa-sha256")):
                msg = MSG.replace(b"alice@sign.test", sender)
                signed, _ = self.sign(msg, "dkim_canonicalization = %s\n" % canon)
                self.assertIn(("c=%s;" % canon).encode(), signed)
                self.assertEqual(self.ours(signed), [(sel, alg, "pass")], canon)
                self.assertEqual(self.theirs(signed), [True], canon)

    def test_lf_message_and_no_key(self):
        lf = MSG.replace(b"\r\n", b"\n")
        signed, _ = self.sign(lf)
        self.assertNotIn(b"\r", signed)
        self.assertTrue(signed.endswith(lf))
        self.assertEqual([x[2] for x in self.ours(signed)], ["pass", "pass"])
        out, err = self.sign(MSG.replace(b"alice@sign.test", b"x@elsewhere.test"), want=1)
        self.assertEqual(out, MSG.replace(b"alice@sign.test", b"x@elsewhere.test"))
        self.assertIn("no key for x@elsewhere.test: not signed", err)
        # two From: fields (RFC 5322 allows one): never signed
        two = b"From: eve@sign.test\r\n" + MSG
        out, err = self.sign(two, want=1)
        self.assertEqual(out, two)
        self.assertIn("without exactly one From: address", err)

    def opendkim(self, msg):
        """opendkim -t (test mode), keys from TestPublicKeys: its verdict line."""
        keys = os.path.join(self.d, "opendkim.keys")
        with open(keys, "w") as f:
            for name, rec in self.records.items():
                f.write("%s %s\n" % (name.rstrip("."), rec))
        conf = os.path.join(self.d, "opendkim.conf")
        with open(conf, "w") as f:
            f.write("Mode v\nSyslog no\nTestPublicKeys %s\n" % keys)
        path = os.path.join(self.d, "opendkim.eml")
        with open(path, "wb") as f:
            f.write(msg)
        p = subprocess.run(["opendkim", "-x", conf, "-t", path], capture_output=True,
                           text=True, timeout=30)
        return p.stdout + p.stderr

    def test_opendkim_verifies_each_type(self):
        """opendkim (Debian's 2.11, another implementation) checks the first
        signature of a message: one of each type."""
        for sender, sel in ((b"carol@sign.test", "e"), (b"dave@mail.sign.test", "r")):
            signed, _ = self.sign(MSG.replace(b"alice@sign.test", sender))
            out = self.opendkim(signed)
            self.assertIn("verification (s=%s, d=sign.test" % sel, out)
            self.assertIn("succeeded", out)
            out = self.opendkim(signed.replace(b"Hello Bob", b"Hello Eve"))
            self.assertIn("failed", out)
            self.assertNotIn("succeeded", out)

    def test_inline_tables(self):
        """OpenDKIM's Domain/Selector/KeyFile as two inline tables."""
        path = os.path.join(self.d, "inline.conf")
        with open(path, "w") as f:
            f.write("dkim_signing_table = inline:{ sign.test=k }\n"
                    "dkim_key_table = inline:{ k=sign.test:e:%s/e.private }\n" % self.d)
        p = subprocess.run([BINARY, "dkim", "sign", "-c", path], input=MSG,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ours(p.stdout), [("e", "ed25519-sha256", "pass")])

    def test_key_readable_by_others_is_refused(self):
        os.chmod(os.path.join(self.d, "e.private"), 0o640)
        out, err = self.sign(MSG, want=2)
        self.assertEqual(out, b"")
        self.assertIn("key file %s/e.private is accessible to group or others (mode 0640)"
                      % self.d, err)
        # a key name the key table lacks
        with open(os.path.join(self.d, "signing"), "w") as f:
            f.write("sign.test missing\n")
        out, err = self.sign(MSG, want=2)
        self.assertIn("dkim_key_table: has no key missing", err)
