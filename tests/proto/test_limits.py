"""Every network-facing limit: exactly at the limit works, one more closes
that connection (logged with the client and the limit), others go on."""

import os
import selectors
import socket
import time

import harness
from harness import DaemonTest, attrs_list, cpu_ticks, raise_nofile, request, rss_kb


LINE = 512
ATTRS = 30
REQ = 4096

LIMIT_CONF = """\
policy_line_length_limit = %d
policy_attribute_limit = %d
policy_request_size_limit = %d
recipient_restrictions = reject_unauth_destination
""" % (LINE, ATTRS, REQ)

RELAY = "action=554 5.7.1 <x@elsewhere.example>: Relay access denied"
ASK = {"recipient": "x@elsewhere.example"}


def request_with_line(length):
    """A request whose x_pad line is `length` bytes (without the newline)."""
    return request(ASK, [("x_pad", "a" * (length - len("x_pad=")))])


def request_with_attrs(n):
    base = attrs_list(ASK)
    pad = [("x_%d" % i, "1") for i in range(n - len(base))]
    req = request(ASK, pad)
    assert req.count(b"\n") - 1 == n
    return req


def request_of_size(size):
    """A request of exactly `size` bytes, final empty line included, with
    lines well below the line limit."""
    need = size - len(request(ASK))
    pads = []
    while need > 0:
        name = "x_p%d" % len(pads)
        overhead = len(name) + 2            # "=" and "\n"
        chunk = min(need - overhead, LINE - 40)
        if 0 < need - overhead - chunk < 20:
            chunk -= 30                     # leave room for one more line
        assert chunk >= 0
        pads.append((name, "b" * chunk))
        need -= overhead + chunk
    req = request(ASK, pads)
    assert len(req) == size, (len(req), size)
    return req


class Limits(DaemonTest):

    def setUp(self):
        self.d = self.daemon(LIMIT_CONF)

    def assertClosedForLimit(self, c, data, param):
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(c.wait_closed(), "connection not closed after exceeding " + param)
        self.assertEqual(c.buf, b"", "got a reply after exceeding " + param)
        line = self.d.wait_log(param, c.local_name)
        self.assertIsNotNone(line, "no log line naming %s and client %s; log:\n%s"
                             % (param, c.local_name, self.d.read_log()[-1500:]))

    def test_line_at_limit_accepted(self):
        c = self.client(self.d)
        c.send(request_with_line(LINE))
        self.assertEqual(c.reply(), RELAY)
        self.assertEqual(c.ask(ASK), RELAY)

    def test_line_over_limit_closes_others_unaffected(self):
        other = self.client(self.d)
        other.send(request(ASK)[:30])          # half a request, kept open
        c = self.client(self.d)
        self.assertClosedForLimit(c, request_with_line(LINE + 1), "policy_line_length_limit")
        other.send(request(ASK)[30:])
        self.assertEqual(other.reply(), RELAY)
        self.assertEqual(other.ask(ASK), RELAY)

    def test_unterminated_long_line_closes(self):
        c = self.client(self.d)
        self.assertClosedForLimit(c, b"request=smtpd_access_policy\nx_pad=" + b"z" * (LINE + 100),
                                  "policy_line_length_limit")

    def test_unterminated_line_one_past_limit_closes(self):
        """The limit holds while a line is still arriving: an unfinished
        line of exactly the limit waits for its newline; one byte more
        closes the connection."""
        req = request_with_line(LINE)
        cut = req.index(b"x_pad=") + LINE       # the x_pad line, without "\n"
        c = self.client(self.d)
        c.send(req[:cut])
        self.assertFalse(c.wait_closed(0.3), "closed at the limit")
        c.send(req[cut:])
        self.assertEqual(c.reply(), RELAY)
        bad = self.client(self.d)
        self.assertClosedForLimit(bad, req[:cut] + b"a", "policy_line_length_limit")

    def test_attributes_at_limit_accepted(self):
        c = self.client(self.d)
        c.send(request_with_attrs(ATTRS))
        self.assertEqual(c.reply(), RELAY)

    def test_attributes_over_limit_closes(self):
        other = self.client(self.d)
        c = self.client(self.d)
        self.assertClosedForLimit(c, request_with_attrs(ATTRS + 1), "policy_attribute_limit")
        self.assertEqual(other.ask(ASK), RELAY)

    def test_request_size_at_limit_accepted(self):
        c = self.client(self.d)
        c.send(request_of_size(REQ))
        self.assertEqual(c.reply(), RELAY)
        # the count starts again for the next request
        c.send(request_of_size(REQ))
        self.assertEqual(c.reply(), RELAY)

    def test_request_size_over_limit_closes(self):
        other = self.client(self.d)
        c = self.client(self.d)
        data = request_of_size(REQ + 1)
        self.assertLessEqual(data.count(b"\n") - 1, ATTRS)
        self.assertClosedForLimit(c, data, "policy_request_size_limit")
        self.assertEqual(other.ask(ASK), RELAY)


class DefaultLimits(DaemonTest):

    def test_default_line_limit_2048(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        c.send(request_with_line(2048))
        self.assertEqual(c.reply(), RELAY)
        c2 = self.client(d)
        c2.send(request_with_line(2049))
        self.assertTrue(c2.wait_closed(), "2049-byte line accepted with the default limit")
        self.assertEqual(c2.buf, b"")
        self.assertEqual(c.ask(ASK), RELAY)

    def test_default_attribute_limit_100(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        c.send(request_with_attrs(100))
        self.assertEqual(c.reply(), RELAY)
        c.send(request_with_attrs(101))
        self.assertTrue(c.wait_closed(), "101 attributes accepted with the default limit")


class Connections(DaemonTest):

    def test_connection_limit(self):
        d = self.daemon("policy_connection_limit = 5\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        conns = [self.client(d) for _ in range(5)]
        for c in conns:
            self.assertEqual(c.ask(ASK), RELAY)
        sixth = self.client(d)
        self.assertTrue(sixth.wait_closed(2.0), "6th connection not closed at once")
        self.assertEqual(sixth.buf, b"")
        self.assertIsNotNone(d.wait_log("policy_connection_limit"),
                             "refusal not logged with policy_connection_limit")
        # the five are still served
        for c in conns:
            self.assertEqual(c.ask(ASK), RELAY)
        # one goes away: a new client gets its place
        conns[0].close()
        deadline = time.monotonic() + 3
        while True:
            c = self.client(d)
            c.send(request(ASK))
            try:
                self.assertEqual(c.reply(timeout=1), RELAY)
                break
            except Exception:
                c.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def test_1000_concurrent_connections(self):
        n = 1000
        got_limit = raise_nofile(n + 200)
        if got_limit < n + 50:
            self.skipTest("descriptor limit %d too low for %d connections" % (got_limit, n))
        table = "".join("r%d@our.example REJECT no r%d\n" % (i, i) for i in range(0, n, 7))
        d = self.daemon("recipient_restrictions = check_recipient_access texthash:@TMP@/rcpt\n",
                        {"rcpt": table})
        socks = []
        try:
            for i in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.settimeout(5)
                s.connect(d.ready[1])
            for i, s in enumerate(socks):
                s.sendall(request({"recipient": "r%d@our.example" % i}))
                s.setblocking(False)
            sel = selectors.DefaultSelector()
            bufs = {}
            for i, s in enumerate(socks):
                sel.register(s, selectors.EVENT_READ, i)
                bufs[i] = b""
            done = {}
            closed = []
            deadline = time.monotonic() + 20
            while len(done) + len(closed) < n and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=1):
                    i = key.data
                    try:
                        data = key.fileobj.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        closed.append(i)
                        sel.unregister(key.fileobj)
                        continue
                    bufs[i] += data
                    if b"\n\n" in bufs[i]:
                        done[i] = bufs[i].split(b"\n\n")[0].decode()
                        sel.unregister(key.fileobj)
            sel.close()
            self.assertEqual(closed, [], "%d connections closed without answer" % len(closed))
            self.assertEqual(len(done), n, "only %d of %d answered in time" % (len(done), n))
            wrong = [(i, done[i]) for i in range(n)
                     if done[i] != ("action=554 5.7.1 <r%d@our.example>: Recipient address "
                                    "rejected: no r%d" % (i, i) if i % 7 == 0 else "action=DUNNO")]
            self.assertEqual(wrong[:5], [], "%d wrong answers" % len(wrong))
        finally:
            for s in socks:
                s.close()
        self.assertDaemonServes(d, "after 1000 connections")

    def test_out_of_descriptors_pauses_accepting(self):
        # 40 open files in all, room for a hundred connections configured:
        # accept(2) fails with EMFILE; the daemon pauses accepting instead
        # of spinning on the queued connection, says so once, and takes the
        # queued connections when descriptors are free again
        # (no control socket: its descriptor would come out of the 40)
        d = self.daemon("policy_connection_limit = 100\ncontrol_socket =\n", nofile=40)
        pid = d.proc.pid
        held = []
        for _ in range(45):
            s = socket.create_connection(d.ready[1], timeout=5)
            self.addCleanup(s.close)
            held.append(s)
        time.sleep(0.3)
        t0 = cpu_ticks(pid)
        time.sleep(2.0)
        used = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
        self.assertLess(used, 0.5, "the daemon spun: %.2f s of CPU in 2 s" % used)
        log = d.read_log()
        self.assertIn("not accepting new connections", log)
        self.assertLess(log.count("accept: "), 5, log[-2000:])
        # free descriptors: the last queued connections are served
        for s in held[:15]:
            s.close()
        last = held[-1]
        last.settimeout(5)
        last.sendall(request(ASK))
        self.assertEqual(last.recv(4096), b"action=DUNNO\n\n")
        self.assertDaemonServes(d, "after running out of descriptors")

    def test_client_that_does_not_read_its_answers(self):
        # a client that sends and sends but never reads: the daemon stops
        # reading from it once its answers back up, so neither its memory
        # nor what the client can push grows; the answers all arrive when
        # the client reads at last, and other clients are served meanwhile
        d = self.daemon("")
        req = request(ASK)
        family, addr = d.ready
        s = socket.socket(family, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(addr)
        s.setblocking(False)
        rss0 = rss_kb(d.proc.pid)
        chunk = req * 256
        sent, stalled_since, t0 = 0, None, time.monotonic()
        while time.monotonic() - t0 < 3.0:
            try:
                sent += s.send(chunk[sent % len(req):])
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break
                time.sleep(0.01)
        grown = rss_kb(d.proc.pid) - rss0
        # (what the kernel's buffers hold is all the client could push)
        self.assertIsNotNone(stalled_since, "the daemon kept reading (%d bytes)" % sent)
        if not harness.sanitized():
            self.assertLess(grown, 24 << 10, "daemon grew by %d kB" % grown)
        self.assertDaemonServes(d, "while one client does not read")
        # finish the last request, then read every answer
        rest = (len(req) - sent % len(req)) % len(req)
        want, got, buf = (sent + rest) // len(req), 0, b""
        tail = req[len(req) - rest:] if rest else b""
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        deadline = time.monotonic() + 30
        while (got < want or tail) and time.monotonic() < deadline:
            for _, ev in sel.select(1.0):
                if ev & selectors.EVENT_WRITE and tail:
                    try:
                        tail = tail[s.send(tail):]
                    except BlockingIOError:
                        pass
                if ev & selectors.EVENT_READ:
                    data = s.recv(1 << 16)
                    self.assertTrue(data, "closed after %d of %d answers" % (got, want))
                    buf += data
                    *answers, buf = buf.split(b"\n\n")
                    for a in answers:
                        self.assertEqual(a, b"action=DUNNO")
                    got += len(answers)
            if not tail:
                sel.modify(s, selectors.EVENT_READ)
        sel.close()
        self.assertEqual((got, buf), (want, b""))

    def test_idle_timeout(self):
        d = self.daemon("policy_idle_timeout = 1s\n")
        # an idle connection that never said anything
        silent = self.client(d)
        # an idle connection after one answer
        c = self.client(d)
        self.assertEqual(c.ask(), "action=DUNNO")
        t0 = time.monotonic()
        # a busy connection: one request every 0.4s for 2.4s
        busy = self.client(d)
        for _ in range(6):
            self.assertEqual(busy.ask(), "action=DUNNO")
            time.sleep(0.4)
        self.assertTrue(c.wait_closed(3.0), "idle connection not closed after 1s")
        self.assertTrue(silent.wait_closed(1.0), "silent connection not closed after 1s")
        self.assertLess(time.monotonic() - t0, 4.0)
        # the busy one is still open: it never idled for 1s
        self.assertEqual(busy.ask(), "action=DUNNO")

    def test_idle_timeout_not_before(self):
        d = self.daemon("policy_idle_timeout = 2s\n")
        c = self.client(d)
        self.assertEqual(c.ask(), "action=DUNNO")
        t0 = time.monotonic()
        self.assertTrue(c.wait_closed(5.0), "idle connection not closed after 2s")
        self.assertGreater(time.monotonic() - t0, 1.5, "closed before policy_idle_timeout")
