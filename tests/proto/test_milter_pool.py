"""The milter's signature checks on its thread pool (milter_verify_threads):
many connections whose ends of message are all out at once each get the
Authentication-Results of their own message (their own header.b=, their
own algorithm, fail where their body was changed), with the pool and
without it; connections reset while their checks are out cost nothing
else (run against the ASan build too); stopping with checks out."""

import re
import signal
import socket
import struct

import miltertalk as mt
from harness import DaemonTest, free_port
from dnsserver import shared_nsd
from test_milter import message, signed

NCONN = 40


def b_prefix(raw):
    """the first 8 characters of the top DKIM-Signature's b= (header.b)"""
    m = re.search(rb"\bb=([A-Za-z0-9+/=\s]+)", raw.split(b"\r\n\r\n")[0].split(b"bh=")[1])
    return re.sub(rb"\s", b"", m.group(1))[:8].decode()


class PoolTest(DaemonTest):
    threads = 4
    extra = ""

    def setUp(self):
        self.nsd = shared_nsd()
        self.mport = free_port()
        self.d = self.daemon("milter_listen = inet:127.0.0.1:%d\ndns_resolver = %s\n"
                             "control_socket =\nmilter_verify_threads = %d\n%s"
                             % (self.mport, self.nsd.addr, self.threads, self.extra))

    def up_to_body(self, raw):
        """a connection with everything of raw sent but the end of message"""
        m = mt.Milter(("127.0.0.1", self.mport), timeout=20)
        self.addCleanup(m.close)
        m.negotiate()
        m.connect("198.51.100.7")
        h, b = mt.split_message(raw)
        m.event("H", mt.z("c.test"))
        m.event("M", mt.z("<x@nopolicy.dmarc.test>"), {"i": "Q%d" % len(raw)})
        for n, v in h:
            m.event("L", mt.z(n, v))
        m.event("N")
        for i in range(0, len(b), 65535):
            r = m.event("B", b[i:i + 65535])
            self.assertEqual(r, [("c", b"")])
        return m

    def messages(self):
        """NCONN signed messages: RSA and Ed25519 by turns, every fifth
        changed after signing; (raw, algorithm, changed)"""
        out = []
        for i in range(NCONN):
            body = (b"message %d " % i) * (50 + 40 * i) + b"\r\n"
            ed = i % 2 == 1
            raw = signed(message(body=body), ed=ed)
            changed = i % 5 == 4
            if changed:
                raw = raw.replace(b"message %d " % i, b"massage %d " % i, 1)
            out.append((raw, "ed25519-sha256" if ed else "rsa-sha256", changed))
        return out


class Concurrent(PoolTest):
    def test_every_connection_gets_its_own_results(self):
        msgs = self.messages()
        conns = [self.up_to_body(raw) for raw, _, _ in msgs]
        for m in conns:                      # every end of message out at once
            m.s.sendall(mt.packet("E"))
        for m, (raw, alg, changed) in zip(conns, msgs):
            replies = []
            while not replies or replies[-1][0] not in "acdrtys":
                replies.append(m.read_packet())
            if changed:
                self.assertEqual(replies, [("y", b"550 5.7.1 Rejected by DMARC policy "
                                                 b"for reject.dmarc.test\0")])
                continue
            ars = [d for c, d in replies if c == "i"]
            self.assertEqual(len(ars), 1, replies)
            ar = ars[0].decode("latin-1")
            self.assertIn("dkim=pass header.d=reject.dmarc.test header.i=@reject.dmarc.test "
                          "header.s=%s header.a=%s header.b=%s"
                          % ("ed" if alg.startswith("ed") else "rsa", alg, b_prefix(raw)), ar)
            self.assertIn("dmarc=pass", ar)
            self.assertEqual(replies[-1], ("c", b""))
        self.assertTrue(self.d.wait_log("action=reject"))
        self.assertEqual(self.d.read_log().count("action=reject"), NCONN // 5)


class ConcurrentOnTheLoop(Concurrent):
    threads = 0


class ResetWhileOut(PoolTest):
    threads = 1

    def test_connections_reset_while_their_checks_are_out(self):
        msgs = self.messages()
        for _ in range(2):
            conns = [self.up_to_body(raw) for raw, _, _ in msgs]
            for m in conns:
                # the end of message, then a reset (SO_LINGER 0): the
                # daemon reads ECONNRESET while the checks are out
                m.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                m.s.sendall(mt.packet("E"))
                m.s.close()
        # still serving, with the right results
        raw, alg, _ = msgs[1]
        m = self.up_to_body(raw)
        r = m.event("E")
        self.assertIn("header.b=%s" % b_prefix(raw), "".join(
            d.decode("latin-1") for c, d in r if c == "i"))
        self.assertIsNone(self.d.proc.poll())


class StopWhileOut(PoolTest):
    threads = 1
    extra = "stop_grace_time = 0\n"

    def test_stopping_with_checks_out(self):
        msgs = self.messages()
        conns = [self.up_to_body(raw) for raw, _, _ in msgs]
        for m in conns:
            m.s.sendall(mt.packet("E"))
        self.d.expect_exit = True
        self.d.signal(signal.SIGTERM)
        self.assertEqual(self.d.wait_exit(20), 0)
        self.assertIn("milter stopped after", self.d.read_log())
        # each connection was answered before the daemon went, or closed
        for m in conns:
            try:
                while True:
                    c, _ = m.read_packet()
                    self.assertIn(c, "icy")     # Authentication-Results, the decision
                    if c in "cy":
                        break
            except (EOFError, ConnectionResetError):
                pass
