"""metrics_listen: /metrics in Prometheus's text format (checked by Debian's
promtool), the dashboard page in headless Chromium (Debian's chromium) and
its JSON feed, after known traffic; and the listener's limits, each at the
limit and one past it.

DNS comes from the scripted responder on loopback: dnsbl.test lists two
clients, down.test fails (SERVFAIL) for the greylisted one."""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser

import dnsserver
import harness
from harness import DaemonTest, free_port

REPO = harness.REPO
RULES = {
    "99.2.0.192.dnsbl.test": "a:127.0.0.2",
    "95.2.0.192.dnsbl.test": "a:127.0.0.2",
    "10.2.0.192.down.test": "servfail",
}
NOW = int(time.time())     # greylist records are expired against the real clock

TRAFFIC_CONF = """\
dns_timeout = 3s
greylist_allow_test_time = yes
client_restrictions = reject_rbl_client dnsbl.test, reject_rbl_client down.test
recipient_restrictions = greylist
"""


def att(client, sender, t, instance="i1"):
    return {"client_address": client, "client_name": "unknown",
            "reverse_client_name": "unknown", "helo_name": "mail.good.test",
            "sender": sender, "recipient": "bob@our.example", "instance": instance,
            "policy_test_time": str(t)}


def output_dir():
    """Where tests leave files for people (next to the binary under test)."""
    d = os.path.join(os.path.dirname(os.path.abspath(harness.BINARY)), "test-output")
    os.makedirs(d, exist_ok=True)
    return d


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def raw(port, data, timeout=5.0):
    """Send bytes, read until the daemon closes; the status code (None: none)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
    return int(m.group(1)) if m else None, got


class MetricsTest(DaemonTest):

    def metrics_daemon(self, conf, listen=None):
        """A daemon with metrics_listen on a free port (tried again if taken)."""
        for attempt in range(3):
            self.mport = free_port()
            spec = listen or "inet:127.0.0.1:%d" % self.mport
            try:
                return self.daemon("metrics_listen = %s\n" % spec + conf)
            except RuntimeError as e:
                if "in use" not in str(e) or attempt == 2:
                    raise

    def get(self, path, method="GET", port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.mport, timeout=5)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def traffic_daemon(self, extra=""):
        self.resp = dnsserver.Responder(RULES).start()
        self.addCleanup(self.resp.stop)
        return self.metrics_daemon("dns_resolver = %s\n" % self.resp.addr + TRAFFIC_CONF + extra)

    def send_rejects(self, d):
        """Four rejects by dnsbl.test: 192.0.2.99 three times, 192.0.2.95 once."""
        c = self.client(d)
        for i in range(3):
            self.assertIn("dnsbl.test", c.ask(att("192.0.2.99", "spam@bad.example", NOW)))
        self.assertIn("dnsbl.test", c.ask(att("192.0.2.95", "other@bad.example", NOW)))

    def send_greylist(self, d):
        """Greylisting: deferred twice, then passed (down.test fails each time)."""
        c = self.client(d)
        self.assertTrue(c.ask(att("192.0.2.10", "alice@good.test", NOW)).startswith("action=450"))
        self.assertTrue(c.ask(att("192.0.2.10", "alice@good.test", NOW + 60))
                        .startswith("action=450"))
        self.assertFalse(c.ask(att("192.0.2.10", "alice@good.test", NOW + 301, "i2"))
                         .startswith("action=450"))


class Exposition(MetricsTest):

    def test_promtool_and_values(self):
        d = self.traffic_daemon()
        self.send_rejects(d)
        self.send_greylist(d)
        st, hdr, body = self.get("/metrics")
        self.assertEqual(st, 200)
        self.assertEqual(hdr["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        text = body.decode()
        p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode() + text)
        self.assertEqual(p.stdout + p.stderr, b"")
        want = [
            'mxshield_requests_total{protocol_state="RCPT",action="reject"} 4',
            'mxshield_requests_total{protocol_state="RCPT",action="defer"} 2',
            'mxshield_requests_total{protocol_state="RCPT",action="prepend"} 1',
            'mxshield_decisions_total{stage="client",restriction="reject_rbl_client",'
            'action="reject"} 4',
            # greylisting defers through defer_if_permit: counted when it fires
            'mxshield_decisions_total{stage="recipient",restriction="greylist",'
            'action="defer"} 2',
            'mxshield_greylist_results_total{result="deferred"} 2',
            'mxshield_greylist_results_total{result="passed_first"} 1',
            'mxshield_dnslist_up{list="dnsbl.test"} 1',
            'mxshield_dnslist_up{list="down.test"} 0',
            'mxshield_dnslist_checks_total{list="dnsbl.test",result="listed"} 4',
            'mxshield_dnslist_checks_total{list="down.test",result="tempfail"} 3',
            'mxshield_decision_seconds_count 7',
            'mxshield_decision_seconds_bucket{le="+Inf"} 7',
            '# TYPE mxshield_decision_seconds histogram',
            '# TYPE mxshield_dnslist_up gauge',
        ]
        lines = text.splitlines()
        for w in want:
            self.assertIn(w, lines)
        m = re.search(r"^mxshield_dns_query_seconds_count (\d+)$", text, re.M)
        self.assertGreater(int(m.group(1)), 0)
        # the store committed the greylist records, and timed it
        m = re.search(r"^mxshield_store_commit_seconds_count (\d+)$", text, re.M)
        self.assertGreater(int(m.group(1)), 0)
        # the top rejected senders: the null sender from MAIL FROM on, and
        # no sender at all before it (the client is counted either way)
        c = self.client(d)
        self.assertIn("dnsbl.test", c.ask(att("192.0.2.95", "", NOW)))
        connect = att("192.0.2.95", "", NOW)
        connect.update(protocol_state="CONNECT", recipient="")
        self.assertIn("dnsbl.test", c.ask(connect))
        js = json.loads(self.get("/dashboard.json")[2])
        self.assertEqual({e["key"]: e["count"] for e in js["top_senders"]},
                         {"spam@bad.example": 3, "other@bad.example": 1, "<>": 1})
        self.assertEqual({e["key"]: e["count"] for e in js["top_clients"]},
                         {"192.0.2.99": 3, "192.0.2.95": 3})
        # a triplet that never comes back is pending once the expiry pass saw it
        c = self.client(d)
        self.assertTrue(c.ask(att("192.0.2.10", "new@good.test", NOW)).startswith("action=450"))
        deadline = time.monotonic() + 5
        while "\nmxshield_greylist_pending_triplets 1\n" not in self.get("/metrics")[2].decode():
            self.assertLess(time.monotonic(), deadline, "pending triplets never 1")
            time.sleep(0.2)

    def test_every_row_of_the_registry_is_served(self):
        """A row in stats.h is on /metrics with no other edit: every
        unlabelled family is there with HELP and TYPE (labelled ones from
        their first series)."""
        d = self.metrics_daemon("")
        with open(os.path.join(REPO, "src", "stats", "stats.h")) as f:
            rows = re.findall(r'X\(\w+, "(\w+)", (COUNTER|GAUGE|HISTOGRAM), (\d+),', f.read())
        self.assertGreater(len(rows), 20)
        text = self.get("/metrics")[2].decode()
        for name, kind, nlabels in rows:
            if nlabels == "0":
                self.assertIn("# TYPE %s %s\n" % (name, kind.lower()), text)
                self.assertIn("# HELP %s " % name, text)

    def test_unix_listener_head_404_405(self):
        tmp = self.tmpdir()
        path = os.path.join(tmp, "metrics.sock")
        self.metrics_daemon("", listen="unix:" + path)
        c = UnixHTTPConnection(path)
        c.request("GET", "/metrics")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn(b"# TYPE mxshield_answers_total counter", r.read())
        c.close()
        d2 = self.metrics_daemon("")
        st, hdr, body = self.get("/metrics", "HEAD")
        self.assertEqual((st, body), (200, b""))
        self.assertGreater(int(hdr["Content-Length"]), 1000)
        self.assertEqual(self.get("/nothing")[0], 404)
        st, hdr, _ = self.get("/metrics", "POST")
        self.assertEqual((st, hdr.get("Allow")), (405, "GET, HEAD"))
        self.assertTrue(d2.alive())


class Configuration(MetricsTest):

    def test_bad_listener_is_refused_with_its_line(self):
        conf = os.path.join(self.tmpdir(), "mxshield.conf")
        with open(conf, "w") as f:
            f.write("data_directory = /nonexistent\n\nmetrics_listen = inet:127.0.0.1\n")
        rc, out, err = self.run_cli("config", "-c", conf)
        self.assertNotEqual(rc, 0)
        self.assertIn(conf + ":3: metrics_listen: bad listener \"inet:127.0.0.1\"", err)
        with open(conf, "w") as f:
            f.write("metrics_listen = unix:/run/m.sock inet:[::1]:9723\n")
        rc, out, err = self.run_cli("config", "-c", conf)
        self.assertEqual(rc, 0, err)

    def test_off_by_default(self):
        d = self.daemon("")
        self.assertNotIn("metrics: listening", d.read_log())
        rc, out, err = self.run_cli("config", "-d")
        self.assertIn("\nmetrics_listen = \n", out)


class Limits(MetricsTest):

    CONF = ("metrics_request_size_limit = 300\nmetrics_header_limit = 5\n"
            "metrics_connection_limit = 3\nmetrics_timeout = 2s\n")

    def head_of(self, size):
        """A GET head of exactly size bytes."""
        start = b"GET /metrics HTTP/1.1\r\nX: "
        return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"

    def test_request_size(self):
        self.metrics_daemon(self.CONF)
        self.assertEqual(raw(self.mport, self.head_of(300))[0], 200)
        self.assertEqual(raw(self.mport, self.head_of(301))[0], 431)
        # no end of the head within the limit: refused as soon as it is past
        st, _ = raw(self.mport, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 400)
        self.assertEqual(st, 431)

    def test_header_count(self):
        self.metrics_daemon(self.CONF)
        head = b"GET /metrics HTTP/1.1\r\n"
        five = head + b"".join(b"H%d: v\r\n" % i for i in range(5)) + b"\r\n"
        six = head + b"".join(b"H%d: v\r\n" % i for i in range(6)) + b"\r\n"
        self.assertEqual(raw(self.mport, five)[0], 200)
        self.assertEqual(raw(self.mport, six)[0], 431)

    def test_connection_count(self):
        d = self.metrics_daemon(self.CONF)
        held = [socket.create_connection(("127.0.0.1", self.mport)) for i in range(3)]
        try:
            time.sleep(0.2)
            # (a request sent before the refusal could turn the close into a reset)
            st, got = raw(self.mport, b"")
            self.assertEqual(st, 503, got)
            held.pop().close()
            time.sleep(0.2)
            self.assertEqual(raw(self.mport, b"GET /metrics HTTP/1.1\r\n\r\n")[0], 200)
        finally:
            for s in held:
                s.close()
        self.assertIn('mxshield_limit_drops_total{limit="metrics_connection_limit"} 1',
                      self.get("/metrics")[2].decode())
        self.assertIsNotNone(d.wait_log("metrics_connection_limit"))

    def test_slow_client(self):
        """A client that keeps sending a byte now and then is still cut
        off at metrics_timeout; one that finishes in time is answered."""
        self.metrics_daemon(self.CONF)
        s = socket.create_connection(("127.0.0.1", self.mport), timeout=5)
        t0 = time.monotonic()
        closed = None
        data = b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"a" * 200
        try:
            for b in data:
                s.sendall(bytes([b]))
                time.sleep(0.1)
                if time.monotonic() - t0 > 4:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            s.settimeout(3)
            closed = s.recv(100) == b""
        except ConnectionResetError:
            closed = True
        elapsed = time.monotonic() - t0
        s.close()
        self.assertTrue(closed)
        self.assertGreater(elapsed, 1.8)
        self.assertLess(elapsed, 4.5)
        # slow but within the time: answered
        s = socket.create_connection(("127.0.0.1", self.mport), timeout=5)
        for part in (b"GET /metr", b"ics HTTP/1.1\r\n", b"\r\n"):
            s.sendall(part)
            time.sleep(0.3)
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200 OK"))
        s.close()
        self.assertIn('mxshield_limit_drops_total{limit="metrics_timeout"} 1',
                      self.get("/metrics")[2].decode())


class PageRefs(HTMLParser):
    """Every attribute that would make a browser fetch something."""

    def __init__(self):
        super().__init__()
        self.refs = []
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "poster", "data") and v:
                self.refs.append((tag, k, v))


# Left alone, Chromium asks the system's DNS server for Google's services
# at start.  Nothing may leave loopback: no background services, every host
# name but 127.0.0.1 unresolvable, and any other fetch sent to a dead proxy
# on loopback (loopback itself bypasses proxies).  Checked with strace -f:
# no packet to any other address.
CHROMIUM_QUIET = ["--no-first-run", "--disable-extensions", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-default-apps",
                  "--no-pings", "--disable-domain-reliability",
                  "--disable-client-side-phishing-detection", "--metrics-recording-only",
                  "--proxy-server=http://127.0.0.1:9",
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def chromium(*args, timeout=25):
    """Headless Chromium (Debian's), its own profile; stdout."""
    prof = tempfile.mkdtemp(prefix="mxchrome.")
    try:
        p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--user-data-dir=" + prof, "--hide-scrollbars"]
                           + CHROMIUM_QUIET + list(args),
                           capture_output=True, timeout=timeout)
        return p.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(prof, True)


class Dashboard(MetricsTest):

    def test_page_is_self_contained(self):
        self.metrics_daemon("")
        st, hdr, body = self.get("/")
        self.assertEqual(st, 200)
        self.assertEqual(hdr["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", hdr["Content-Security-Policy"])
        p = PageRefs()
        p.feed(body.decode())
        self.assertIn("script", p.tags)
        self.assertEqual(p.refs, [])
        self.assertNotIn("@import", body.decode())

    def test_json_and_chromium_render_known_traffic(self):
        d = self.traffic_daemon()
        self.send_rejects(d)
        # one whole sample of the ring, then more traffic in the next one
        deadline = time.monotonic() + 15
        while len(json.loads(self.get("/dashboard.json")[2])["t"]) < 2:
            self.assertLess(time.monotonic(), deadline, "no history sample after 15 s")
            time.sleep(0.2)
        self.send_greylist(d)
        js = json.loads(self.get("/dashboard.json")[2])
        self.assertEqual(js["version"], 1)
        self.assertEqual(sum(js["requests"]), 7)
        self.assertEqual(js["rejects"][-2:], [4, 0])
        self.assertEqual(sum(js["defers"]), 2)
        self.assertEqual(js["greylist_deferred"][-1], 2)
        self.assertEqual(js["greylist_passed"][-1], 1)

        # one run of the browser: the rendered DOM, and a picture for people
        shot = os.path.join(output_dir(), "dashboard.png")
        if os.path.exists(shot):
            os.unlink(shot)
        dom = chromium("--virtual-time-budget=3000", "--window-size=1280,820",
                       "--screenshot=" + shot, "--dump-dom", "http://127.0.0.1:%d/" % self.mport)
        self.assertIn("data-updated=", dom, dom[:3000])

        def attr_of(pattern):
            m = re.search(pattern, dom)
            self.assertIsNotNone(m, "%s not in the rendered page:\n%s" % (pattern, dom[:5000]))
            return m.group(1)
        # requests chart: 7 requests, 4 rejects, 2 defers
        self.assertEqual(attr_of(r'<polyline[^>]*data-name="requests" data-total="(\d+)"'), "7")
        self.assertEqual(attr_of(r'<polyline[^>]*data-name="rejects" data-total="(\d+)"'), "4")
        self.assertEqual(attr_of(r'<polyline[^>]*data-name="defers" data-total="(\d+)"'), "2")
        self.assertGreaterEqual(int(attr_of(r'id="chart-requests"[^>]*data-samples="(\d+)"')), 2)
        # by restriction
        self.assertEqual(attr_of(r'data-restriction="reject_rbl_client" data-reject="(\d+)"'), "4")
        self.assertEqual(attr_of(r'data-restriction="greylist" data-reject="0" '
                                 r'data-defer="(\d+)"'), "2")
        self.assertEqual(attr_of(r'data-name="reject_rbl_client:reject" data-total="(\d+)"'),
                         "4")
        # greylisting
        self.assertEqual(attr_of(r'<polyline[^>]*data-name="deferred" data-total="(\d+)"'), "2")
        self.assertEqual(attr_of(r'<polyline[^>]*data-name="passed" data-total="(\d+)"'), "1")
        # DNS list health
        self.assertEqual(attr_of(r'data-list="dnsbl.test" data-up="(\d)"'), "1")
        self.assertEqual(attr_of(r'data-list="down.test" data-up="(\d)"'), "0")
        self.assertEqual(attr_of(r'data-list="down.test" data-up="0" data-listed="0" '
                                 r'data-not-listed="0" data-tempfail="(\d+)"'), "3")
        # top rejected clients and senders, largest first
        self.assertEqual(re.findall(r'data-key="([^"]+)" data-count="(\d+)"', dom),
                         [("192.0.2.99", "3"), ("192.0.2.95", "1"),
                          ("spam@bad.example", "3"), ("other@bad.example", "1")])

        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(shot), 20000)
