"""`mxshield dkim keygen`: the record it prints, served by a private NSD,
verifies (with `mxshield dkim`) a message python3-dkim signs with the key
it wrote; the key file is created owner-only whatever the umask, never
through a link or over an existing file; RFC 8301's 1024-bit floor."""

import base64
import json
import os
import stat
import subprocess

import dnsserver
from dkimkeys import strings_of
from harness import DaemonTest, BINARY

DOMAIN = "keygen.test"


def keygen(*args, umask=0o022):
    p = subprocess.run([BINARY, "dkim", "keygen"] + list(args), capture_output=True,
                       text=True, timeout=60, preexec_fn=lambda: os.umask(umask))
    return p.returncode, p.stdout, p.stderr


class Keygen(DaemonTest):

    def make(self, d, selector, *opts, umask=0o022):
        rc, out, err = keygen(DOMAIN, selector, "--dir", d, *opts, umask=umask)
        self.assertEqual(rc, 0, err)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertTrue(lines[0].startswith("%s._domainkey.%s. IN TXT ( \"" % (selector, DOMAIN)),
                        lines[0])
        for s in strings_of(lines[0]):
            self.assertLessEqual(len(s), 255)
        path = os.path.join(d, selector + ".private")
        self.assertIn(path, err)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        return lines[0], path

    def test_record_verifies_what_the_key_signs(self):
        import dkim
        from cryptography.hazmat.primitives import serialization
        d = self.tmpdir()
        rsa_line, rsa_path = self.make(d, "r2048")
        r1024_line, r1024_path = self.make(d, "r1024", "--bits", "1024", "--type", "rsa")
        ed_line, ed_path = self.make(d, "ed", "--type", "ed25519")
        # 2048 bits do not fit one string of 255; the pieces make the record
        rsa_value = "".join(strings_of(rsa_line))
        self.assertGreater(len(strings_of(rsa_line)), 1)
        self.assertTrue(rsa_value.startswith("v=DKIM1; k=rsa; p=MII"), rsa_value)
        ed_value = "".join(strings_of(ed_line))
        self.assertRegex(ed_value, r"^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$")
        # the record's p= is the key's own public half
        with open(ed_path, "rb") as f:
            self.assertIn(b"-----BEGIN PRIVATE KEY-----", f.read())
            f.seek(0)
            edkey = serialization.load_pem_private_key(f.read(), None)
        pub = edkey.public_key().public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)
        self.assertEqual(ed_value.split("p=")[1], base64.b64encode(pub).decode())
        seed = base64.b64encode(edkey.private_bytes(serialization.Encoding.Raw,
                                                    serialization.PrivateFormat.Raw,
                                                    serialization.NoEncryption()))
        # serve the printed lines as they are
        zones = self.tmpdir()
        with open(os.path.join(zones, DOMAIN + ".zone"), "w") as f:
            f.write("$ORIGIN %s.\n$TTL 300\n@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n"
                    "@ NS ns.%s.\n%s\n%s\n%s\n"
                    % (DOMAIN, DOMAIN, DOMAIN, DOMAIN, rsa_line, r1024_line, ed_line))
        nsd = dnsserver.NSD(zones_dir=zones).start()
        self.addCleanup(nsd.stop)
        rcode, ans = nsd.query("r2048._domainkey." + DOMAIN, "TXT")
        self.assertEqual(rcode, 0)
        msg = (b"From: Alice <alice@keygen.test>\r\nTo: bob@example.net\r\n"
               b"Subject: keygen\r\n\r\nA body signed with a fresh key.\r\n")
        signed = msg
        with open(rsa_path, "rb") as f:
            signed = dkim.sign(signed, b"r2048", DOMAIN.encode(), f.read()) + signed
        with open(r1024_path, "rb") as f:
            signed = dkim.sign(signed, b"r1024", DOMAIN.encode(), f.read()) + signed
        signed = dkim.sign(signed, b"ed", DOMAIN.encode(), seed,
                           signature_algorithm=b"ed25519-sha256") + signed
        path = os.path.join(self.tmpdir(), "m.eml")
        for body, want in ((signed, "pass"), (signed.replace(b"fresh", b"stale"), "fail")):
            with open(path, "wb") as f:
                f.write(body)
            rc, out, err = self.run_cli("dkim", "--resolver", nsd.addr, "--json", path,
                                        timeout=30)
            self.assertEqual(rc, 0, err)
            res = json.loads(out.strip().splitlines()[-1])["dkim"]
            self.assertEqual([(x["s"], x["a"], x["result"]) for x in res],
                             [("ed", "ed25519-sha256", want), ("r1024", "rsa-sha256", want),
                              ("r2048", "rsa-sha256", want)], res)

    def test_key_file_is_owner_only_and_never_replaced(self):
        d = self.tmpdir()
        for umask, sel in ((0o000, "open"), (0o277, "tight")):
            rc, out, err = keygen(DOMAIN, sel, "--type", "ed25519", "--dir", d, umask=umask)
            self.assertEqual(rc, 0, err)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, sel + ".private")).st_mode),
                             0o600, sel)
        # an existing key is never overwritten
        path = os.path.join(d, "open.private")
        with open(path, "rb") as f:
            before = f.read()
        rc, out, err = keygen(DOMAIN, "open", "--type", "ed25519", "--dir", d)
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("open.private: File exists", err)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before)
        # nor written through a symbolic link planted at the path
        target = os.path.join(d, "target")
        with open(target, "w") as f:
            f.write("untouched\n")
        os.symlink(target, os.path.join(d, "link.private"))
        rc, out, err = keygen(DOMAIN, "link", "--dir", d)
        self.assertEqual(rc, 1)
        self.assertIn("link.private", err)
        with open(target) as f:
            self.assertEqual(f.read(), "untouched\n")

    def test_sizes_and_usage(self):
        d = self.tmpdir()
        rc, _, err = keygen(DOMAIN, "small", "--bits", "1023", "--dir", d)
        self.assertEqual(rc, 1)
        self.assertIn("1023 bits: must be 1024 to 4096 (RFC 8301)", err)
        self.assertFalse(os.path.exists(os.path.join(d, "small.private")))
        rc, _, err = keygen(DOMAIN, "big", "--bits", "4097", "--dir", d)
        self.assertEqual(rc, 1)
        rc, _, err = keygen(DOMAIN, "ed", "--type", "ed25519", "--bits", "2048", "--dir", d)
        self.assertEqual(rc, 2)
        self.assertIn("--bits is for RSA keys only", err)
        rc, _, err = keygen(DOMAIN, "../escape", "--dir", d)
        self.assertEqual(rc, 2)
        self.assertIn("bad domain or selector", err)
        for args in ((DOMAIN,), (DOMAIN, "s", "--type", "dsa"), (DOMAIN, "s", "extra", "x"),
                     (DOMAIN, "s", "--bits", "12x")):
            rc, _, err = keygen(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn("usage: mxshield dkim keygen", err)
        self.assertEqual(os.listdir(d), [])
