"""DKIM signing in the milter: mail of SASL-authenticated clients and of
mynetworks (where Postfix's non_smtpd_milters put local submissions,
127.0.0.1) gets DKIM-Signature headers (RSA and Ed25519 at once) through
SMFIR_INSHEADER; the signed message verifies with `mxshield dkim`
against a private NSD serving the keygen records, and with python3-dkim.
Other clients' mail, and addresses without a key, are not signed."""

import os
import struct

import dkimkeys
import miltertalk as mt
from harness import DaemonTest, free_port

DOMAIN = "sign.test"


def message(frm="Alice <alice@sign.test>", body=b"Hello,\r\n\r\n  a body  \r\n"):
    return (b"From: " + frm.encode() + b"\r\nTo: bob@example.net,\r\n\tcarol@example.net\r\n"
            b"Subject: our own mail\r\nDate: Sat, 05 Dec 2026 07:00:00 +0000\r\n"
            b"Message-ID: <s1@sign.test>\r\n\r\n" + body)


class SignBase(DaemonTest):
    extra = ""

    def setUp(self):
        self.k = self.tmpdir()
        self.records, lines = dkimkeys.make_keys(
            self, DOMAIN, self.k, (("r", ["--bits", "1024"]), ("e", ["--type", "ed25519"])))
        self.nsd = dkimkeys.serve(self, DOMAIN, lines)
        with open(os.path.join(self.k, "signing"), "w") as f:
            f.write("sign.test r, e\n")
        self.mport = free_port()
        self.d = self.daemon(
            "milter_listen = inet:127.0.0.1:%d\ndns_resolver = %s\ncontrol_socket =\n"
            "dkim_signing_table = hash:%s/signing\n"
            "dkim_key_table = inline:{ r=sign.test:r:%s/r.private, e=sign.test:e:%s/e.private }\n"
            "%s" % (self.mport, self.nsd.addr, self.k, self.k, self.k, self.extra))

    def send(self, raw, ip, macros=None, sender="alice@sign.test", replies_out=None):
        m = mt.Milter(("127.0.0.1", self.mport))
        self.addCleanup(m.close)
        m.negotiate()
        m.connect(ip, "localhost" if ip == "127.0.0.1" else "client.test")
        h, b = mt.split_message(raw)
        replies = m.message(sender, h, b, macros=macros)
        sigs = []
        for c, d in replies:
            if c == "i":
                idx = struct.unpack(">I", d[:4])[0]
                name, value, _ = d[4:].split(b"\0")
                if name == b"DKIM-Signature":
                    self.assertEqual(idx, 0)
                    sigs.append(value)
        self.assertEqual(replies[-1][0], "c", replies)
        if replies_out is not None:
            replies_out.extend(replies)
        return sigs

    def with_sigs(self, raw, sigs):
        return b"".join(b"DKIM-Signature:" + v.replace(b"\n", b"\r\n") + b"\r\n"
                        for v in sigs) + raw

    def ours(self, msg):
        return sorted((x["s"], x["a"], x["result"])
                      for x in dkimkeys.verify_ours(self, self.k, msg, self.nsd.addr)["dkim"])

    def theirs(self, msg):
        import dkim
        d = dkim.DKIM(msg)
        return [d.verify(idx=i, dnsfunc=dkimkeys.dnsfunc(self.records)) for i in range(2)]



class MilterSign(SignBase):

    def test_authenticated_client_signed_both_ways(self):
        raw = message(body=b"x" * 70000 + b"\r\nend\r\n")	# two body chunks
        sigs = self.send(raw, "198.51.100.7", {"i": "QS1", "{auth_authen}": "alice"})
        self.assertEqual(len(sigs), 2, sigs)
        self.assertTrue(all(v.startswith(b" v=1; a=") for v in sigs))
        self.assertNotIn(b"\r", b"".join(sigs))
        signed = self.with_sigs(raw, sigs)
        self.assertEqual(self.ours(signed), [("e", "ed25519-sha256", "pass"),
                                             ("r", "rsa-sha256", "pass")])
        self.assertEqual(self.theirs(signed), [True, True])
        self.assertEqual([x[2] for x in self.ours(signed.replace(b"end", b"END"))],
                         ["fail", "fail"])
        self.assertTrue(self.d.wait_log("ABC123: milter client ", ": from=alice@sign.test:"
                                        " DKIM-Signature added: d=sign.test s=r, d=sign.test s=e"))

    def test_mynetworks_and_local_submission_signed(self):
        raw = message()
        sigs = self.send(raw, "127.0.0.1", {"i": "QS2"})
        self.assertEqual(len(sigs), 2)
        self.assertEqual([x[2] for x in self.ours(self.with_sigs(raw, sigs))], ["pass", "pass"])

    def test_others_not_signed(self):
        raw = message()
        # an outside client: checked, not signed
        self.assertEqual(self.send(raw, "198.51.100.7", {"i": "QS3"}), [])
        # our client, a From: the tables give no key
        self.assertEqual(self.send(message("x@elsewhere.test"), "127.0.0.1", {"i": "QS4"},
                                   sender="x@elsewhere.test"), [])
        # two From: fields: never signed
        two = b"From: eve@sign.test\r\n" + raw
        self.assertEqual(self.send(two, "127.0.0.1", {"i": "QS5"}), [])

    def test_key_readable_by_others_not_used(self):
        os.chmod(os.path.join(self.k, "e.private"), 0o644)
        self.assertEqual(self.send(message(), "127.0.0.1", {"i": "QS6"}), [])
        # (miltertalk sends the queue id ABC123 after MAIL, as Postfix does)
        self.assertTrue(self.d.wait_log("ABC123: milter client ", ": not signed: key file ",
                                        "e.private is accessible to group or others (mode 0644)"))


class CheckedAndSigned(SignBase):
    """dmarc_ignore_authenticated_clients = no: our client's message is both
    checked (Authentication-Results) and signed."""
    extra = "dmarc_ignore_authenticated_clients = no\n"

    def test_checked_and_signed(self):
        raw = message()
        replies = []
        sigs = self.send(raw, "198.51.100.7", {"i": "QS7", "{auth_authen}": "alice"},
                         replies_out=replies)
        self.assertEqual(len(sigs), 2)
        names = [d[4:].split(b"\0")[0] for c, d in replies if c == "i"]
        self.assertIn(b"Authentication-Results", names)
        self.assertEqual([x[2] for x in self.ours(self.with_sigs(raw, sigs))], ["pass", "pass"])
