"""The milter as Postfix speaks to it: negotiation, DKIM/DMARC results in
one Authentication-Results header, the actions, foreign headers removed,
and the protocol under abuse (limits one byte past, garbage, a peer gone
mid-body, a body of many MB)."""

import os
import signal
import socket
import struct
import time

import dkim

import miltertalk as mt
from dnsserver import shared_nsd
from harness import DaemonTest, free_port, rss_kb, sanitized

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dkim", "keys")


def rsa_key():
    with open(os.path.join(KEYS, "rsa2048.pem"), "rb") as f:
        return f.read()


def ed_key():
    with open(os.path.join(KEYS, "ed25519.seed"), "rb") as f:
        return f.read().strip()


def message(frm="A <a@reject.dmarc.test>", body=b"Hello\r\n", extra=b""):
    return (b"From: " + frm.encode() + b"\r\nTo: b@our.example\r\nSubject: test\r\n"
            b"Date: Sat, 05 Dec 2026 06:00:00 +0000\r\nMessage-ID: <1@x>\r\n" + extra
            + b"\r\n" + body)


def signed(raw, domain=b"reject.dmarc.test", ed=False):
    if ed:
        return dkim.sign(raw, b"ed", domain, ed_key(), signature_algorithm=b"ed25519-sha256") + raw
    return dkim.sign(raw, b"rsa", domain, rsa_key()) + raw


class MilterTest(DaemonTest):
    extra = ""

    def setUp(self):
        self.nsd = shared_nsd()
        self.mport = free_port()
        self.d = self.daemon("milter_listen = inet:127.0.0.1:%d\n"
                             "dns_resolver = %s\ncontrol_socket =\n%s"
                             % (self.mport, self.nsd.addr, self.extra))

    def milter(self):
        m = mt.Milter(("127.0.0.1", self.mport))
        self.addCleanup(m.close)
        m.negotiate()
        return m

    def send(self, raw, ip="198.51.100.7", sender="x@nopolicy.dmarc.test", macros=None):
        m = self.milter()
        m.connect(ip)
        h, b = mt.split_message(raw)
        return m.message(sender, h, b, macros=macros)

    def ar(self, replies):
        for c, d in replies:
            if c == "i":
                idx = struct.unpack(">I", d[:4])[0]
                name, value, _ = d[4:].split(b"\0")
                self.assertEqual((idx, name), (0, b"Authentication-Results"))
                return value.decode()
        self.fail("no Authentication-Results in %r" % (replies,))


class Protocol(MilterTest):

    def test_negotiation_takes_what_postfix_offers(self):
        m = mt.Milter(("127.0.0.1", self.mport))
        self.addCleanup(m.close)
        version, actions, proto = m.negotiate()
        self.assertEqual(version, 6)
        self.assertEqual(actions, 0x1 | 0x10 | 0x20 | 0x100)
        for flag in (0x1000, 0x2000, 0x80, 0x40000, 0x100000, 0x400, 0x8):
            self.assertTrue(proto & flag, hex(flag))
        self.assertFalse(proto & 0x4000, "MAIL must be answered (accept early)")
        self.assertIn(b"{auth_authen}", m.symlist)

    def test_rsa_signature_aligned_passes_with_one_header(self):
        r = self.send(signed(message()))
        ar = self.ar(r)
        self.assertTrue(ar.startswith(" mx.our.example;\n\t"), ar)
        self.assertIn("dkim=pass header.d=reject.dmarc.test header.i=@reject.dmarc.test "
                      "header.s=rsa header.a=rsa-sha256 header.b=", ar)
        self.assertIn("spf=fail smtp.mailfrom=x@nopolicy.dmarc.test", ar)
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=reject.dmarc.test "
                      "policy.dmarc=reject", ar)
        self.assertIn("arc=none", ar)
        self.assertEqual(r[-1], ("c", b""))
        self.assertEqual(sum(1 for c, _ in r if c == "i"), 1)

    def test_ed25519_signature_passes(self):
        ar = self.ar(self.send(signed(message(), ed=True)))
        self.assertIn("dkim=pass header.d=reject.dmarc.test", ar)
        self.assertIn("header.a=ed25519-sha256", ar)
        self.assertIn("dmarc=pass", ar)

    def test_spf_alone_aligns_relaxed(self):
        ar = self.ar(self.send(message(), ip="192.0.2.5", sender="b@bounce.reject.dmarc.test"))
        self.assertIn("spf=pass", ar)
        self.assertIn("dkim=none", ar)
        self.assertIn("dmarc=pass", ar)

    def test_strict_spf_alignment_fails_a_subdomain(self):
        r = self.send(message("a@strict.dmarc.test"), ip="192.0.2.5",
                      sender="b@bounce.strict.dmarc.test")
        self.assertEqual(r, [("y", b"550 5.7.1 Rejected by DMARC policy for strict.dmarc.test\0")])

    def test_reject_policy_failure_is_refused(self):
        raw = signed(message()).replace(b"Hello", b"HELLO")
        r = self.send(raw)
        self.assertEqual(r, [("y", b"550 5.7.1 Rejected by DMARC policy for reject.dmarc.test\0")])
        self.assertTrue(self.d.wait_log("action=reject", "dkim=fail"))

    def test_quarantine_goes_to_the_hold_queue(self):
        r = self.send(message("a@quar.dmarc.test"))
        cmds = [c for c, _ in r]
        self.assertIn("q", cmds)
        self.assertEqual(cmds[-1], "c")
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine)", self.ar(r))

    def test_none_policy_and_no_policy_accept(self):
        self.assertIn("dmarc=fail (p=none dis=none)", self.ar(self.send(message("a@none.dmarc.test"))))
        self.assertIn("dmarc=none header.from=nopolicy.dmarc.test",
                      self.ar(self.send(message("a@nopolicy.dmarc.test"))))

    def test_subdomain_policy_sp_and_np(self):
        r = self.send(message("a@exists.parent.dmarc.test"))
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine)", self.ar(r))
        r = self.send(message("a@nowhere.parent.dmarc.test"))
        self.assertEqual(r[0][0], "y", r)
        self.assertIn(b"nowhere.parent.dmarc.test", r[0][1])

    def test_testing_flag_is_one_step_milder(self):
        r = self.send(message("a@testing.dmarc.test"))
        self.assertIn("dmarc=fail (p=reject dis=quarantine)", self.ar(r))

    def test_from_problems_are_permerror_and_rejected(self):
        cases = [
            message("a@reject.dmarc.test", extra=b"From: b@none.dmarc.test\r\n"),
            message("a@reject.dmarc.test, b@none.dmarc.test"),
            message("undisclosed-recipients:;"),
            message("no domain here"),
        ]
        for raw in cases:
            r = self.send(raw)
            self.assertEqual(r[0][0], "y", raw)
            self.assertTrue(r[0][1].startswith(b"550 5.7.1 Message rejected: "), r)
        raw = message().replace(b"From: A <a@reject.dmarc.test>\r\n", b"")
        r = self.send(raw)
        self.assertTrue(r[0][1].startswith(b"550 5.7.1 Message rejected: no From header"), r)

    def test_dns_temporary_failure_is_tempfail_never_none(self):
        # NSD refuses names outside its zones: a temporary failure
        r = self.send(message("a@x.unserved.example"))
        self.assertEqual(r, [("y", b"451 4.7.5 Temporary error evaluating DMARC for "
                                   b"x.unserved.example, try again later\0")])

    def test_foreign_results_removed_trusted_kept(self):
        raw = (b"Authentication-Results: evil.example; dmarc=pass\r\n"
               b"Authentication-Results: mx.our.example; spf=pass smtp.mailfrom=x\r\n"
               b"Received-SPF: pass (x) receiver=evil.example;\r\n"
               b"Authentication-Results: (c) evil2.example; dkim=pass\r\n"
               + message("a@none.dmarc.test"))
        r = self.send(raw)
        dels = [(struct.unpack(">I", d[:4])[0], d[4:].split(b"\0")[0])
                for c, d in r if c == "m"]
        self.assertEqual(dels, [(3, b"Authentication-Results"), (1, b"Received-SPF"),
                                (1, b"Authentication-Results")])

    def test_authenticated_client_accepted_at_mail(self):
        m = self.milter()
        m.connect("198.51.100.7")
        m.event("H", mt.z("client.test"))
        r = m.event("M", mt.z("<x@none.dmarc.test>"), {"i": "Q1", "{auth_authen}": "joe"})
        self.assertEqual(r, [("a", b"")])

    def test_mynetworks_client_accepted_at_mail(self):
        m = self.milter()
        m.connect("127.0.0.1", "localhost")
        m.event("H", mt.z("localhost"))
        r = m.event("M", mt.z("<x@reject.dmarc.test>"), {"i": "Q3"})
        self.assertEqual(r, [("a", b"")])

    def test_unsigned_body_is_skipped(self):
        m = self.milter()
        m.connect()
        h, b = mt.split_message(message())
        m.event("H", mt.z("client.test"))
        m.event("M", mt.z("<x@nopolicy.dmarc.test>"), {"i": "Q2"})
        for n, v in h:
            m.event("L", mt.z(n, v))
        m.event("N")
        self.assertEqual(m.event("B", b"x" * 100), [("s", b"")])

    def test_several_messages_and_abort_on_one_connection(self):
        m = self.milter()
        m.connect("192.0.2.5")
        h, b = mt.split_message(signed(message()))
        for _ in range(3):
            r = m.message("b@bounce.reject.dmarc.test", h, b)
            self.assertEqual(r[-1], ("c", b""))
        m.event("H", mt.z("client.test"))
        m.event("M", mt.z("<x@nopolicy.dmarc.test>"))
        m.event("A")
        r = m.message("b@bounce.reject.dmarc.test", h, b)
        self.assertIn("dmarc=pass", self.ar(r))
        # QUIT_NC: the connection serves a new session, negotiated afresh
        m.event("K")
        m.negotiate()
        m.connect("192.0.2.5")
        r = m.message("b@bounce.reject.dmarc.test", h, b)
        self.assertIn("dmarc=pass", self.ar(r))
        m.event("Q")
        self.assertRaises(EOFError, m.read_packet)


class Abuse(MilterTest):
    extra = "milter_header_count_limit = 20\n"

    def assertClosed(self, m):
        m.s.settimeout(3)
        try:
            while m.s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        self.assertTrue(self.d.alive())

    def assertServes(self):
        r = self.send(signed(message()))
        self.assertIn("dmarc=pass", self.ar(r))

    def test_packet_one_byte_past_the_limit(self):
        m = self.milter()
        m.connect()
        m.s.sendall(struct.pack(">I", 262144) + b"B" + b"x" * 262143)
        # exactly the limit is taken (the body reply comes back)
        self.assertIn(m.read_packet()[0], "cs")
        m.s.sendall(struct.pack(">I", 262145) + b"B")
        self.assertClosed(m)
        self.assertTrue(self.d.wait_log("packet too large > milter_packet_size_limit"))
        self.assertServes()

    def test_header_one_byte_past_the_limit(self):
        for size, closed in ((102400, False), (102401, True)):
            m = self.milter()
            m.connect()
            m.event("H", mt.z("c.test"))
            m.event("M", mt.z("<x@none.dmarc.test>"))
            name = "X-Big"
            m.event("L", mt.z(name, "v" * (size - len(name))))
            if closed:
                self.assertClosed(m)
            else:
                h, b = mt.split_message(message("a@none.dmarc.test"))
                for n, v in h:
                    m.event("L", mt.z(n, v))
                m.event("N")
                self.assertEqual(m.event("E")[-1], ("c", b""))
        self.assertTrue(self.d.wait_log("header too large > milter_header_size_limit"))
        self.assertServes()

    def test_header_count_one_past_the_limit(self):
        for count, closed in ((20, False), (21, True)):
            m = self.milter()
            m.connect()
            m.event("H", mt.z("c.test"))
            m.event("M", mt.z("<x@none.dmarc.test>"))
            h, b = mt.split_message(message("a@none.dmarc.test"))
            h += [("X-N", b" %d" % i) for i in range(count - len(h))]
            for n, v in h:
                m.event("L", mt.z(n, v))
            if closed:
                self.assertClosed(m)
            else:
                m.event("N")
                self.assertEqual(m.event("E")[-1], ("c", b""))
        self.assertTrue(self.d.wait_log("too many headers > milter_header_count_limit"))
        self.assertServes()

    def test_garbage_and_malformed_packets(self):
        for junk in (b"GET / HTTP/1.0\r\n\r\n", b"\0\0\0\0", mt.packet("Z"),
                     mt.packet("O", b"\0\0"), ):
            s = socket.create_connection(("127.0.0.1", self.mport), timeout=3)
            s.sendall(junk)
            try:
                self.assertEqual(s.recv(100), b"")
            except ConnectionResetError:
                pass
            s.close()
        m = self.milter()
        m.s.sendall(mt.packet("C", b"noterminator"))
        self.assertClosed(m)
        m = self.milter()
        m.connect()
        m.event("M", mt.z("<x@none.dmarc.test>"))
        m.s.sendall(mt.packet("L", b"name-only\0"))
        self.assertClosed(m)
        self.assertServes()

    def test_disconnect_mid_body(self):
        for _ in range(5):
            m = self.milter()
            m.connect()
            h, b = mt.split_message(signed(message(body=b"x" * 100000 + b"\r\n")))
            m.event("H", mt.z("c.test"))
            m.event("M", mt.z("<x@none.dmarc.test>"))
            for n, v in h:
                m.event("L", mt.z(n, v))
            m.event("N")
            m.s.sendall(mt.packet("B", b[:30000])[:20000])
            m.close()
        self.assertServes()

    def test_memory_per_connection_is_bounded(self):
        h, b = mt.split_message(signed(message()))
        before = rss_kb(self.d.proc.pid)
        conns = []
        for _ in range(200):
            m = self.milter()
            m.connect()
            m.event("H", mt.z("c.test"))
            m.event("M", mt.z("<x@none.dmarc.test>"))
            for n, v in h:
                m.event("L", mt.z(n, v))
            m.event("N")
            m.event("B", b[:3000])
            conns.append(m)
        per = (rss_kb(self.d.proc.pid) - before) / 200
        limit = 512 if sanitized() else 128      # ASan's redzones and quarantine
        self.assertLess(per, limit, "%.1f KB per connection in the middle of a message" % per)

    def test_body_of_many_megabytes(self):
        line = b"0123456789" * 7 + b"\r\n"
        body = line * (16 * 1024 * 1024 // len(line))
        raw = signed(message(body=body))
        self.assertIn("dkim=pass", self.ar(self.send(raw)))
        # the second message of that size costs nothing more: no body kept
        before = rss_kb(self.d.proc.pid)
        t0 = time.monotonic()
        r = self.send(raw)
        self.assertIn("dkim=pass", self.ar(r))
        self.assertLess(time.monotonic() - t0, 20)
        grown = rss_kb(self.d.proc.pid) - before
        self.assertLess(grown, 1024, "the body is not kept: %d KB" % grown)


class UnixAndReload(DaemonTest):

    def test_unix_socket_and_reload(self):
        nsd = shared_nsd()
        conf = ("milter_listen = unix:@TMP@/milter.sock\ndns_resolver = %s\n"
                "control_socket =\n" % nsd.addr)
        d = self.daemon(conf)
        path = os.path.join(d.tmp, "milter.sock")

        def ar():
            m = mt.Milter(path)
            self.addCleanup(m.close)
            m.negotiate()
            m.connect("198.51.100.7")
            h, b = mt.split_message(message("a@none.dmarc.test"))
            r = m.message("x@nopolicy.dmarc.test", h, b)
            return [v for c, v in r if c == "i"][0]

        self.assertIn(b"\0 mx.our.example;\n\tspf=", ar())
        d.write_conf(d.conf_text_final + "authserv_id = mx.renamed.example\n")
        mark = d.log_size()
        d.signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reload", after=mark, timeout=5), d.read_log()[-1000:])
        deadline = time.monotonic() + 5
        while b"mx.renamed.example" not in ar() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(b"\0 mx.renamed.example;\n\tspf=", ar())


def list_message():
    """alice@reject.dmarc.test's signed message after a mailing list at
    dmarc.test added a footer (her signature fails) and sealed it (ARC)."""
    raw = message()
    raw = dkim.sign(raw, b"rsa", b"reject.dmarc.test", rsa_key()) + raw
    raw = (b"Authentication-Results: list.dmarc.test; dkim=pass header.d=reject.dmarc.test;"
           b" dmarc=pass header.from=reject.dmarc.test\r\n" + raw)
    raw = raw.replace(b"Hello\r\n", b"Hello\r\n-- \r\nlist footer\r\n")
    return b"".join(dkim.arc_sign(raw, b"rsa", b"dmarc.test", rsa_key(),
                                  b"list.dmarc.test")) + raw


class ArcUntrusted(MilterTest):

    def test_a_passing_chain_of_an_untrusted_sealer_changes_nothing(self):
        r = self.send(list_message())
        self.assertEqual(r, [("y", b"550 5.7.1 Rejected by DMARC policy for reject.dmarc.test\0")])
        self.assertTrue(self.d.wait_log("arc=pass"))


class ArcTrusted(MilterTest):
    extra = "arc_trusted_sealers = dmarc.test\n"

    def test_a_trusted_sealer_overrides_a_dmarc_failure(self):
        ar = self.ar(self.send(list_message()))
        self.assertIn("dkim=fail", ar)
        self.assertIn("dmarc=fail (p=reject dis=none override=arc) header.from=reject.dmarc.test",
                      ar)
        self.assertIn("arc=pass (sealed by dmarc.test)", ar)
        # a broken chain overrides nothing
        raw = list_message().replace(b"list footer", b"list FOOTER")
        r = self.send(raw)
        self.assertEqual(r[0][0], "y", r)


class RequiredHeaders(MilterTest):
    extra = "dmarc_required_headers = yes\n"

    def test_rfc5322_counts(self):
        ok = message("a@none.dmarc.test")
        self.assertEqual(self.send(ok)[-1], ("c", b""))
        r = self.send(ok.replace(b"Date: Sat, 05 Dec 2026 06:00:00 +0000\r\n", b""))
        self.assertEqual(r, [("y", b"550 5.7.1 Message does not follow RFC 5322: no date header\0")])
        r = self.send(ok.replace(b"Subject: test\r\n", b"Subject: a\r\nSubject: b\r\n"))
        self.assertEqual(r, [("y", b"550 5.7.1 Message does not follow RFC 5322: "
                                   b"more than one subject header\0")])

    def test_postfix_config_prints_the_milter_lines(self):
        st, out, err = self.run_cli("postfix-config", "-c", self.d.conf_path)
        self.assertEqual(st, 0, err)
        self.assertIn("postconf -e 'smtpd_milters = inet:127.0.0.1:%d'\n" % self.mport, out)
        self.assertIn("postconf -e 'non_smtpd_milters = $smtpd_milters'\n", out)
        self.assertIn("postconf -e 'milter_default_action = tempfail'\n", out)


class ConnectionLimit(MilterTest):
    extra = "milter_connection_limit = 2\n"

    def test_one_connection_past_the_limit_is_refused(self):
        a, b = self.milter(), self.milter()
        s = socket.create_connection(("127.0.0.1", self.mport), timeout=3)
        self.addCleanup(s.close)
        try:
            self.assertEqual(s.recv(10), b"")
        except ConnectionResetError:
            pass
        self.assertTrue(self.d.wait_log("reached milter_connection_limit"))
        a.close()
        time.sleep(0.2)
        self.assertServes()

    def assertServes(self):
        r = self.send(signed(message()))
        self.assertIn("dmarc=pass", self.ar(r))
