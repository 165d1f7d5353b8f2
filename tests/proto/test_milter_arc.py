"""ARC sealing in the milter (arc_sign): an outside client's message gets
ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal through
SMFIR_INSHEADER (ARC-Seal topmost); the sealed message verifies as
arc=pass with `mxshield dkim` and with python3-dkim's arc_verify, keys
served by a private NSD; sealed again on the next hop it carries i=2
cv=pass and still verifies.  Our own clients' mail is signed, not sealed;
an unusable arc_sign key stops the daemon at start with its reason."""

import struct

import dkimkeys
import miltertalk as mt
from harness import free_port
from test_milter_sign import SignBase, message


class MilterArc(SignBase):
    extra = "arc_sign = r\nauthserv_id = mx.sign.test\n"

    def seal(self, raw, ip="198.51.100.7", qid="QA1"):
        """raw through the milter: the message as delivered, the ARC replies."""
        m = mt.Milter(("127.0.0.1", self.mport))
        self.addCleanup(m.close)
        m.negotiate()
        m.connect(ip, "client.test")
        h, b = mt.split_message(raw)
        replies = m.message("alice@sign.test", h, b, macros={"i": qid})
        self.assertEqual(replies[-1][0], "c", replies)
        top, arc = [], []
        for c, d in replies:
            if c == "i":
                self.assertEqual(struct.unpack(">I", d[:4])[0], 0)
                name, value, _ = d[4:].split(b"\0")
                top.insert(0, name + b":" + value.replace(b"\n", b"\r\n") + b"\r\n")
                if name.startswith(b"ARC-"):
                    arc.append(name)
        return b"".join(top) + raw, arc

    def arc_ours(self, msg):
        return dkimkeys.verify_ours(self, self.k, msg, self.nsd.addr)["arc"]["result"]

    def arc_theirs(self, msg):
        import dkim
        cv, _, why = dkim.arc_verify(msg, dnsfunc=dkimkeys.dnsfunc(self.records))
        return cv.decode(), why

    def test_outside_mail_sealed_and_verifies(self):
        raw = message(body=b"x" * 70000 + b"\r\nend\r\n")	# two body chunks
        sealed, arc = self.seal(raw)
        self.assertEqual(arc, [b"ARC-Authentication-Results", b"ARC-Message-Signature",
                               b"ARC-Seal"])
        self.assertTrue(sealed.startswith(b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=sign.test;"
                                          b" s=r;"), sealed[:200])
        self.assertIn(b"\r\nARC-Authentication-Results: i=1; mx.sign.test;", sealed)
        self.assertIn(b"arc=none", sealed)
        self.assertEqual(self.arc_ours(sealed), "pass")
        self.assertEqual(self.arc_theirs(sealed), ("pass", "success"))
        self.assertEqual(self.arc_ours(sealed.replace(b"end", b"END")), "fail")
        self.assertTrue(self.d.wait_log("ABC123: milter client ", ": ARC-Seal added: i=1 cv=none"))
        # the next hop seals over our chain: i=2, cv=pass
        again, arc = self.seal(sealed, qid="QA2")
        self.assertEqual(len(arc), 3)
        self.assertTrue(again.startswith(b"ARC-Seal: i=2; cv=pass;"), again[:100])
        self.assertIn(b"ARC-Authentication-Results: i=2; mx.sign.test;", again)
        self.assertEqual(self.arc_ours(again), "pass")
        self.assertEqual(self.arc_theirs(again), ("pass", "success"))

    def test_our_clients_signed_not_sealed(self):
        _, arc = self.seal(message(), ip="127.0.0.1", qid="QA3")
        self.assertEqual(arc, [])
        # the same message from outside is sealed, not signed
        sealed, arc = self.seal(message(), qid="QA4")
        self.assertEqual(len(arc), 3)
        self.assertNotIn(b"DKIM-Signature:", sealed)

    def test_ed25519_or_missing_key_refused(self):
        for name, want in (("e", "arc_sign: key e is ed25519-sha256: ARC verifiers take"
                                 " rsa-sha256 seals only"),
                           ("nokey", "arc_sign: dkim_key_table: has no key nokey")):
            with self.assertRaises(RuntimeError) as cm:
                self.daemon("milter_listen = inet:127.0.0.1:%d\ncontrol_socket =\n"
                            "dkim_key_table = inline:{ e=sign.test:e:%s/e.private }\n"
                            "arc_sign = %s\n" % (free_port(), self.k, name))
            self.assertIn(want, str(cm.exception))
