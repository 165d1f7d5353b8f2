"""dnsserver.py - DNS servers for the tests, on loopback only.

NSD        the real authoritative server (Debian's nsd) serving the zone
           files in tests/data/dns/ on a free 127.0.0.1 port, everything
           (configuration, pid file, logs) in a temporary directory.
Responder  a scripted UDP+TCP responder for what a real server will not
           do on purpose: never answer, SERVFAIL, REFUSED, truncate (TC
           over UDP, the full answer over TCP), answer late, send garbage.

Both have .port, .addr ("127.0.0.1:PORT", a dns_resolver value) and stop(),
and are context managers.  query() asks over UDP and returns
(rcode, [answer rdata as text]) for assertions about the data itself.
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ZONES = os.path.join(REPO, "tests", "data", "dns")

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA = 1, 2, 5, 6, 12, 15, 16, 28
TYPES = {"A": T_A, "CNAME": T_CNAME, "PTR": T_PTR, "MX": T_MX, "TXT": T_TXT, "AAAA": T_AAAA}


def die_with_parent():
    """In the child: get SIGTERM when the test runner dies (PR_SET_PDEATHSIG),
    so no nsd outlives a killed test run."""
    import ctypes
    import signal
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise RuntimeError("no free port")


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(pkt, off):
    """(name, offset after the name in place)."""
    labels, end, jumps = [], None, 0
    while True:
        n = pkt[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | pkt[off + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("pointer loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(pkt[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if end is not None else off)


def make_query(name, qtype, qid=0x4D58):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) \
        + struct.pack(">HH", qtype, 1)


def parse_answer(pkt):
    """(rcode, [rdata text]) of a response packet."""
    rcode = pkt[3] & 0x0F
    qd, an = struct.unpack(">HH", pkt[4:8])
    off = 12
    for _ in range(qd):
        _, off = decode_name(pkt, off)
        off += 4
    out = []
    for _ in range(an):
        _, off = decode_name(pkt, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", pkt[off:off + 10])
        off += 10
        rd = pkt[off:off + rdlen]
        if rtype == T_A:
            out.append(socket.inet_ntop(socket.AF_INET, rd))
        elif rtype == T_AAAA:
            out.append(socket.inet_ntop(socket.AF_INET6, rd))
        elif rtype in (T_PTR, T_CNAME, T_NS):
            out.append(decode_name(pkt, off)[0])
        elif rtype == T_MX:
            out.append("%d %s" % (struct.unpack(">H", rd[:2])[0],
                                  decode_name(pkt, off + 2)[0] or "."))
        elif rtype == T_TXT:
            parts, i = [], 0
            while i < len(rd):
                parts.append(rd[i + 1:i + 1 + rd[i]].decode("ascii", "replace"))
                i += 1 + rd[i]
            out.append("".join(parts))
        off += rdlen
    return rcode, out


def udp_query(port, name, qtype, timeout=2.0, ip="127.0.0.1"):
    if isinstance(qtype, str):
        qtype = TYPES[qtype]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(make_query(name, qtype), (ip, port))
        return parse_answer(s.recv(65535))
    finally:
        s.close()


class NSD:
    """Debian's nsd serving tests/data/dns/*.zone on 127.0.0.1:PORT."""

    def __init__(self, zones_dir=ZONES, ip="127.0.0.1", port=None):
        self.zones_dir = zones_dir
        self.tmp = tempfile.mkdtemp(prefix="mxdns.")
        self.proc = None
        self.ip = ip
        self.fixed_port = port
        self.port = None

    @property
    def addr(self):
        return "%s:%d" % (self.ip, self.port)

    def start(self):
        binary = shutil.which("nsd") or "/usr/sbin/nsd"
        zones = sorted(f[:-5] for f in os.listdir(self.zones_dir) if f.endswith(".zone"))
        for attempt in range(5):
            self.port = self.fixed_port or free_port()
            conf = os.path.join(self.tmp, "nsd.conf")
            with open(conf, "w") as f:
                f.write("server:\n"
                        "  ip-address: %s\n"
                        "  port: %d\n"
                        "  do-ip6: no\n"
                        "  username: \"\"\n"
                        "  chroot: \"\"\n"
                        "  server-count: 1\n"
                        "  zonesdir: \"%s\"\n"
                        "  database: \"\"\n"
                        "  zonelistfile: \"%s/zone.list\"\n"
                        "  xfrdfile: \"%s/xfrd.state\"\n"
                        "  xfrdir: \"%s\"\n"
                        "  pidfile: \"%s/nsd.pid\"\n"
                        "  logfile: \"%s/nsd.log\"\n"
                        "  verbosity: 1\n"
                        # response rate limiting would drop answers under load
                        "  rrl-ratelimit: 0\n"
                        "  rrl-whitelist-ratelimit: 0\n"
                        "remote-control:\n"
                        "  control-enable: no\n"
                        % (self.ip, self.port, self.zones_dir, self.tmp, self.tmp, self.tmp,
                           self.tmp, self.tmp))
                for z in zones:
                    f.write("zone:\n  name: %s\n  zonefile: %s.zone\n" % (z, z))
            self.proc = subprocess.Popen([binary, "-d", "-c", conf],
                                         preexec_fn=die_with_parent,
                                         stdout=subprocess.DEVNULL,
                                         stderr=open(os.path.join(self.tmp, "stderr"), "w"))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    rcode, ans = udp_query(self.port, zones[0], T_SOA, timeout=0.2,
                                           ip=self.ip)
                    if rcode == 0:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop_process()
        raise RuntimeError("nsd did not start: %s" % self.log())

    def log(self):
        out = ""
        for name in ("stderr", "nsd.log"):
            try:
                with open(os.path.join(self.tmp, name)) as f:
                    out += f.read()
            except OSError:
                pass
        return out[-2000:]

    def query(self, name, qtype):
        return udp_query(self.port, name, qtype, ip=self.ip)

    def stop_process(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self.stop_process()
        shutil.rmtree(self.tmp, True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


_SHARED = None


def shared_nsd():
    """One NSD serving tests/data/dns for every test module of a run,
    stopped when the run ends."""
    global _SHARED
    if _SHARED is None:
        import atexit
        _SHARED = NSD().start()
        atexit.register(_SHARED.stop)
    return _SHARED


class Responder:
    """Scripted faults.  rules maps a query name (lower case, no final dot)
    to one of: "timeout", "servfail", "refused", "truncate:A.B.C.D",
    "delay:SECONDS:A.B.C.D", "garbage", "a:A.B.C.D", "txt:TEXT",
    "mx:NAME,NAME...", or "delayservfail:SECONDS".  Other names:
    NXDOMAIN (or, with default_ptr, a PTR record for PTR queries); delay
    holds every answer back that long.  Every query seen is appended to .seen as (name, qtype)."""

    def __init__(self, rules, delay=0.0, default_ptr=None):
        """delay: seconds before every answer; default_ptr: answer PTR
        queries for unlisted names with this name instead of NXDOMAIN."""
        self.rules = {k.lower().rstrip("."): v for k, v in rules.items()}
        self.delay = delay
        self.default_ptr = default_ptr
        self.seen = []
        self.port = None
        self.stopping = False
        self.threads = []

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.port = free_port()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.udp.settimeout(0.2)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _answer(self, query, over_tcp):
        """Response bytes, or None for no answer."""
        qid = query[:2]
        name, off = decode_name(query, 12)
        qtype = struct.unpack(">H", query[off:off + 2])[0]
        question = query[12:off + 4]
        name = name.lower()
        self.seen.append((name, qtype))
        rule = self.rules.get(name, "nxdomain")
        kind, _, arg = rule.partition(":")

        def reply(rcode, answers=b"", count=0, tc=False):
            flags = 0x8400 | rcode | (0x0200 if tc else 0) | 0x0100
            return qid + struct.pack(">HHHHH", flags, 1, count, 0, 0) + question + answers

        def a_record(ip):
            return struct.pack(">HHHIH", 0xC00C, T_A, 1, 60, 4) + socket.inet_aton(ip)

        if self.delay:
            time.sleep(self.delay)
        if kind == "timeout":
            return None
        if name not in self.rules and qtype == T_PTR and self.default_ptr:
            target = encode_name(self.default_ptr)
            return reply(0, struct.pack(">HHHIH", 0xC00C, T_PTR, 1, 60, len(target))
                         + target, 1)
        if kind == "servfail":
            return reply(2)
        if kind == "refused":
            return reply(5)
        if kind == "garbage":
            return qid + b"\x84\x00\x00\x01\x00\x05\x00\x00\x00\x00\xff\xff\xff"
        if kind == "delay":
            secs, _, ip = arg.partition(":")
            time.sleep(float(secs))
            return reply(0, a_record(ip), 1) if qtype == T_A else reply(0)
        if kind == "truncate":
            if not over_tcp:
                return reply(0, tc=True)
            return reply(0, a_record(arg), 1) if qtype == T_A else reply(0)
        if kind == "a":
            return reply(0, a_record(arg), 1) if qtype == T_A else reply(0)
        if kind == "txt":
            if qtype != T_TXT:
                return reply(0)
            data = arg.encode()
            rdata = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                             for i in range(0, len(data), 255))
            return reply(0, struct.pack(">HHHIH", 0xC00C, T_TXT, 1, 60, len(rdata)) + rdata, 1)
        if kind == "mx":
            if qtype != T_MX:
                return reply(0)
            names = arg.split(",")
            ans = b""
            for i, n in enumerate(names):
                rdata = struct.pack(">H", 10 * (i + 1)) + encode_name(n)
                ans += struct.pack(">HHHIH", 0xC00C, T_MX, 1, 60, len(rdata)) + rdata
            return reply(0, ans, len(names))
        if kind == "delayservfail":
            time.sleep(float(arg))
            return reply(2)
        return reply(3)

    def _udp_loop(self):
        while not self.stopping:
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            # each query on its own thread, so a delayed answer delays no other
            threading.Thread(target=self._udp_one, args=(data, peer), daemon=True).start()

    def _udp_one(self, data, peer):
        try:
            out = self._answer(data, False)
            if out is not None:
                self.udp.sendto(out, peer)
        except Exception:
            pass

    def _tcp_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(2)
            try:
                hdr = conn.recv(2)
                if len(hdr) == 2:
                    n = struct.unpack(">H", hdr)[0]
                    data = b""
                    while len(data) < n:
                        chunk = conn.recv(n - len(data))
                        if not chunk:
                            break
                        data += chunk
                    out = self._answer(data, True)
                    if out is not None:
                        conn.sendall(struct.pack(">H", len(out)) + out)
            except (OSError, ValueError, IndexError):
                pass
            finally:
                conn.close()

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(1)
        self.udp.close()
        self.tcp.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    # dnsserver.py nsd [ZONES_DIR]: serve until killed, print the port
    import sys
    if len(sys.argv) >= 2 and sys.argv[1] == "nsd":
        n = NSD(sys.argv[2] if len(sys.argv) > 2 else ZONES).start()
        print(n.port, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            n.stop()
    else:
        sys.exit("usage: dnsserver.py nsd [ZONES_DIR]")
