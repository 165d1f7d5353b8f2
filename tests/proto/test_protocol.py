"""Policy delegation protocol: framing, pipelining, malformed input."""

import random
import socket
import time

from harness import Closed, DaemonTest, request

RELAY_DENIED = "action=554 5.7.1 <%s>: Relay access denied"

# Recipients r0..rN@our.example; every third one is refused by the table,
# each with its own text, so that answers can be told apart.
RCPT_TABLE = "".join("r%d@our.example REJECT no r%d here\n" % (i, i)
                     for i in range(0, 1000, 3))


def rcpt_expected(i):
    if i % 3 == 0:
        return ("action=554 5.7.1 <r%d@our.example>: Recipient address rejected: "
                "no r%d here" % (i, i))
    return "action=DUNNO"


RCPT_CONF = """\
recipient_restrictions = reject_unauth_destination,
    check_recipient_access texthash:@TMP@/rcpt
"""


class Protocol(DaemonTest):

    def test_basic_dunno(self):
        d = self.daemon("")
        c = self.client(d)
        self.assertEqual(c.ask(), "action=DUNNO")

    def test_basic_dunno_with_passing_restrictions(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        self.assertAnswers(d, [
            ({"recipient": "bob@our.example"}, "action=DUNNO"),
            ({"recipient": "user@elsewhere.example"}, RELAY_DENIED % "user@elsewhere.example"),
        ])

    def test_many_requests_one_connection(self):
        d = self.daemon(RCPT_CONF, {"rcpt": RCPT_TABLE})
        c = self.client(d)
        for i in range(300):
            self.assertEqual(c.ask({"recipient": "r%d@our.example" % i}), rcpt_expected(i),
                             "request %d" % i)

    def test_pipelined_50_in_one_write(self):
        d = self.daemon(RCPT_CONF, {"rcpt": RCPT_TABLE})
        c = self.client(d)
        c.send(b"".join(request({"recipient": "r%d@our.example" % i}) for i in range(50)))
        got = [c.reply() for _ in range(50)]
        self.assertEqual(got, [rcpt_expected(i) for i in range(50)])

    def test_one_byte_writes(self):
        d = self.daemon(RCPT_CONF, {"rcpt": RCPT_TABLE})
        c = self.client(d)
        data = request({"recipient": "r3@our.example"}) + request({"recipient": "r4@our.example"},
                                                                  eol=b"\r\n")
        for i in range(len(data)):
            c.send(data[i:i + 1])
            if i % 4 == 0:
                time.sleep(0.0005)
        self.assertEqual(c.reply(), rcpt_expected(3))
        self.assertEqual(c.reply(), rcpt_expected(4))

    def test_crlf_tolerated(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        c.send(request({"recipient": "x@elsewhere.example"}, eol=b"\r\n"))
        self.assertEqual(c.reply(), RELAY_DENIED % "x@elsewhere.example")
        c.send(request({"recipient": "x@our.example"}, eol=b"\r\n"))
        self.assertEqual(c.reply(), "action=DUNNO")

    def test_unknown_attributes_ignored(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        extra = [("x_future_attribute", "whatever"), ("policy_context", "submission"),
                 ("compatibility_level", "3.6")]
        self.assertEqual(c.ask({"recipient": "x@elsewhere.example"}, extra),
                         RELAY_DENIED % "x@elsewhere.example")
        self.assertEqual(c.ask({"recipient": "x@our.example"}, extra), "action=DUNNO")

    def test_empty_request_closes(self):
        d = self.daemon("")
        c = self.client(d)
        self.assertEqual(c.ask(), "action=DUNNO")
        c.send(b"\n")
        self.assertTrue(c.wait_closed(), "empty request did not close the connection")
        self.assertEqual(c.buf, b"", "an empty request got a reply")
        self.assertDaemonServes(d)

    def test_empty_crlf_request_closes(self):
        d = self.daemon("")
        c = self.client(d)
        c.send(b"\r\n")
        self.assertTrue(c.wait_closed(), "empty CRLF request did not close the connection")
        self.assertEqual(c.buf, b"")
        self.assertDaemonServes(d)

    def test_line_without_equals_closes(self):
        d = self.daemon("")
        c = self.client(d)
        c.send(b"request=smtpd_access_policy\nthis line has no equals sign\n\n")
        self.assertTrue(c.wait_closed(), "line without '=' did not close the connection")
        self.assertEqual(c.buf, b"", "a malformed request got a reply")
        self.assertDaemonServes(d)

    def test_nul_in_line_closes(self):
        d = self.daemon("")
        c = self.client(d)
        c.send(b"request=smtpd_access_policy\nhelo_name=mail\x00.example\n\n")
        self.assertTrue(c.wait_closed(), "NUL in a line did not close the connection")
        self.assertEqual(c.buf, b"")
        self.assertDaemonServes(d)

    def test_binary_garbage_closes(self):
        d = self.daemon("")
        rnd = random.Random(4711)
        for n in (64, 1000, 5000, 70000):
            c = self.client(d)
            # ends in a newline: a complete (if absurd) line must be judged
            garbage = b"\x00" + bytes(rnd.getrandbits(8) for _ in range(n)) + b"\n\n"
            try:
                c.send(garbage)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(c.wait_closed(), "garbage (%d bytes) did not close" % n)
            self.assertNotIn(b"action=", c.buf)
            c.close()
        self.assertDaemonServes(d, "after binary garbage")

    def test_abrupt_disconnects(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        half = request()[:40]
        # FIN in the middle of a request
        c = self.client(d)
        c.send(half)
        c.close()
        # RST in the middle of a request
        c = self.client(d)
        c.send(half)
        c.abort()
        # many pipelined requests, then gone before reading a single reply
        c = self.client(d)
        c.send(request({"recipient": "x@elsewhere.example"}) * 200)
        c.abort()
        c = self.client(d)
        c.send(request() * 50)
        c.close()
        time.sleep(0.2)
        self.assertDaemonServes(d, "after abrupt disconnects")
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "x@elsewhere.example"}),
                         RELAY_DENIED % "x@elsewhere.example")

    def test_answers_before_malformed_line_are_sent(self):
        """A complete request pipelined before a malformed line was
        evaluated: its answer must reach the client before the close."""
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        c.send(request({"recipient": "x@elsewhere.example"}) + b"garbage line\n")
        self.assertTrue(c.wait_closed(), "malformed line did not close the connection")
        self.assertEqual(c.buf.decode(errors="replace"),
                         RELAY_DENIED % "x@elsewhere.example" + "\n\n")

    def test_partial_request_waits(self):
        """Half a request gets no answer until the rest arrives."""
        d = self.daemon("")
        c = self.client(d)
        data = request()
        c.send(data[:-1])
        with self.assertRaises(socket.timeout):
            c.reply(timeout=0.3)
        c.send(data[-1:])
        self.assertEqual(c.reply(), "action=DUNNO")

    def test_connection_survives_after_reject(self):
        d = self.daemon("recipient_restrictions = reject\n")
        c = self.client(d)
        for i in range(3):
            self.assertEqual(c.ask({"recipient": "u%d@our.example" % i}),
                             "action=554 5.7.1 <u%d@our.example>: Recipient address "
                             "rejected: Access denied" % i)
