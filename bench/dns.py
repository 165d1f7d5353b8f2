#!/usr/bin/python3
"""dns.py - the DNS benchmark: mxshield answering requests that each need
six DNS lookups, against a real NSD on loopback (bench/dns/*.zone), side
by side with what that NSD answers by itself.

    /usr/bin/python3 bench/dns.py [--seconds N] [--conns N]

1. NSD's own rate: Debian's dnsperf sends NSD names of the same kinds as
   mxshield's (per "request" one PTR, three DNSBL and two RHSBL A queries,
   every name new) over UDP, with as many queries outstanding as mxshield
   can have (CONNS x 6), for the same seconds.  Run before and after the
   mxshield rows; NSD's rate is the mean of the two.
2. Throughput: unique clients, HELO names and sender domains (so every
   lookup is new to the cache), CONNS connections, once per dns_transport
   (udp, tcp).  The queries are counted from NSD's own statistics
   (nsd-control stats_noreset), so mxshield's queries/s is what reached the
   server, reported as a fraction of NSD's rate.  CPU µs/query: the
   daemon's CPU time per query it sent, and NSD's processes' per query
   they received (over TCP NSD works harder per query than over UDP).
3. Latency: the scripted responder holds every answer back DELAY ms; one
   connection sends one request at a time.  If the six lookups ran one
   after the other a request would take 6 x DELAY; they run at once, so
   it takes about one DELAY.

Prints markdown tables, the machine's load and the hypervisor's steal.
Needs build/mxshield, build/mxshield-bench, nsd, nsd-control and dnsperf.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "proto"))
import dnsserver  # noqa: E402

DAEMON = os.path.join(REPO, "build", "mxshield")
BENCH = os.path.join(REPO, "build", "mxshield-bench")
LOOKUPS = 6

# six independent lookups per request: PTR, three DNSBLs, two RHSBLs
POLICY = """\
dns_use_postfix_names = no
client_restrictions = reject_unknown_reverse_client_hostname,
    reject_rbl_client bl1.bench.test, reject_rbl_client bl2.bench.test,
    reject_rbl_client bl3.bench.test
helo_restrictions = reject_rhsbl_helo rhs.bench.test
sender_restrictions = reject_rhsbl_sender rhs.bench.test
"""


class BenchNSD:
    """NSD serving bench/dns/ on a free 127.0.0.1 port, as the tests run
    it (one server process, no rate limit), plus a local control socket
    for its query counter."""

    def __init__(self, tmp):
        self.tmp = os.path.join(tmp, "nsd")
        os.mkdir(self.tmp)
        self.conf = os.path.join(self.tmp, "nsd.conf")
        self.proc = None
        self.port = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        zdir = os.path.join(HERE, "dns")
        zones = sorted(f[:-5] for f in os.listdir(zdir) if f.endswith(".zone"))
        t = self.tmp
        for _ in range(5):
            self.port = dnsserver.free_port()
            with open(self.conf, "w") as f:
                f.write('server:\n  ip-address: 127.0.0.1\n  port: %d\n  do-ip6: no\n'
                        '  username: ""\n  chroot: ""\n  server-count: 1\n'
                        '  zonesdir: "%s"\n  database: ""\n'
                        '  zonelistfile: "%s/zone.list"\n  xfrdfile: "%s/xfrd.state"\n'
                        '  xfrdir: "%s"\n  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n'
                        '  verbosity: 1\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'
                        'remote-control:\n  control-enable: yes\n'
                        '  control-interface: %s/nsd.ctl\n'
                        % (self.port, zdir, t, t, t, t, t, t))
                for z in zones:
                    f.write("zone:\n  name: %s\n  zonefile: %s.zone\n" % (z, z))
            self.proc = subprocess.Popen([shutil.which("nsd") or "/usr/sbin/nsd", "-d",
                                          "-c", self.conf],
                                         preexec_fn=dnsserver.die_with_parent,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if dnsserver.udp_query(self.port, zones[0], dnsserver.T_SOA,
                                           timeout=0.2)[0] == 0:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop()
        sys.exit("bench/dns.py: nsd did not start")

    def queries(self):
        """NSD's count of queries received since it started."""
        out = subprocess.run(["nsd-control", "-c", self.conf, "stats_noreset"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("num.queries="):
                return int(line.split("=")[1])
        sys.exit("bench/dns.py: nsd-control stats_noreset: no num.queries:\n" + out)

    def cpu(self):
        """CPU seconds of NSD's processes so far (the one started becomes
        xfrd, its child main, main's child the server; main starts a new
        server for every nsd-control stats and reaps the old one)."""
        pids, i = [self.proc.pid], 0
        while i < len(pids):
            out = subprocess.run(["pgrep", "-P", str(pids[i])], capture_output=True,
                                 text=True).stdout
            pids += [int(p) for p in out.split()]
            i += 1
        return sum(proc_cpu(p, children=True) for p in pids)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_times():
    """(total, steal) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[7] if len(v) > 7 else 0


def steal_since(t0):
    t1 = cpu_times()
    return 100.0 * (t1[1] - t0[1]) / max(1, t1[0] - t0[0])


def query_file(path, n, first):
    """Per "request" k: the six names mxshield asks for a unique request
    (bench/loadgen.c's naming, numbers from FIRST on so no name repeats
    one of mxshield's rows)."""
    with open(path, "w") as f:
        for k in range(first, first + n):
            v = (k * 2654435761) & 0xFFFFFF
            o1, o2, o3 = v >> 16, (v >> 8) & 0xFF, v & 0xFF
            f.write("%d.%d.%d.10.in-addr.arpa PTR\n" % (o3, o2, o1))
            for bl in ("bl1", "bl2", "bl3"):
                f.write("%d.%d.%d.10.%s.bench.test A\n" % (o3, o2, o1, bl))
            f.write("mail-%d-%d-%d.bench.test.rhs.bench.test A\n" % (o1, o2, o3))
            f.write("d%d.bench.test.rhs.bench.test A\n" % k)


def dnsperf(nsd, qfile, seconds, outstanding):
    """NSD's answered queries/s under dnsperf (and the lost count)."""
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(nsd.port), "-d", qfile,
                          "-n", "1", "-l", str(seconds), "-q", str(outstanding)],
                         capture_output=True, text=True).stdout
    qps = lost = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Queries per second:"):
            qps = float(line.split()[-1])
        elif line.startswith("Queries lost:"):
            lost = int(line.split()[2])
    if qps is None:
        sys.exit("bench/dns.py: dnsperf failed:\n" + out)
    return qps, lost


def start_daemon(tmp, resolver, port, extra=""):
    conf = os.path.join(tmp, "mxshield.conf")
    with open(conf, "w") as f:
        f.write("listen = inet:127.0.0.1:%d\ndns_resolver = %s\ndata_directory = %s\n%s%s"
                % (port, resolver, os.path.join(tmp, "data"), extra, POLICY))
    log = open(os.path.join(tmp, "daemon.log"), "w")
    p = subprocess.Popen([DAEMON, "serve", "-c", conf], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(os.path.join(tmp, "daemon.log")) as f:
            if "mxshield ready" in f.read():
                return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    with open(os.path.join(tmp, "daemon.log")) as f:
        sys.exit("bench/dns.py: mxshield did not start:\n" + f.read())


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def proc_cpu(pid, children=False):
    """A process's user+system seconds so far (0 once it is gone), with
    children: and those of its children it has reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = [int(x) for x in f.read().rsplit(")", 1)[1].split()[11:15]]
    except OSError:
        return 0.0
    return (v[0] + v[1] + (v[2] + v[3] if children else 0)) / os.sysconf("SC_CLK_TCK")


def bench(port, args, mode="unique"):
    out = subprocess.run([BENCH, "--json", "-m", mode, "-z", "bench.test"] + args
                         + ["inet:127.0.0.1:%d" % port], capture_output=True, text=True)
    if not out.stdout.strip():
        sys.exit("bench/dns.py: mxshield-bench failed: " + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--delay-ms", type=int, default=50)
    a = ap.parse_args()
    for f in (DAEMON, BENCH):
        if not os.access(f, os.X_OK):
            sys.exit("bench/dns.py: %s not found; run make first" % f)
    for prog in ("dnsperf", "nsd-control"):
        if shutil.which(prog) is None:
            sys.exit("bench/dns.py: %s not found (scripts/deps bench installs it)" % prog)

    warmup = 200
    outstanding = a.conns * LOOKUPS
    load0 = os.getloadavg()
    t_all = cpu_times()
    rows = []			# (what, conns, result dict or None, queries/s, queries/request)
    nsd_rates = []
    with tempfile.TemporaryDirectory(prefix="mxbench.") as tmp:
        qfile = os.path.join(tmp, "queries.txt")
        # enough names for 200,000 queries/s; never reached on 2 cores
        query_file(qfile, a.seconds * 200000 // LOOKUPS, 1 << 30)
        nsd = BenchNSD(tmp).start()
        try:
            def nsd_row():
                t0 = cpu_times()
                q0, c0 = nsd.queries(), nsd.cpu()
                qps, lost = dnsperf(nsd, qfile, a.seconds, outstanding)
                q1, c1 = nsd.queries(), nsd.cpu()
                nsd_rates.append(qps)
                r = {"nsd_us": (c1 - c0) * 1e6 / max(1, q1 - q0)}
                rows.append(("NSD alone: dnsperf, UDP, %d queries outstanding, lost %d"
                             % (outstanding, lost), None, r, qps, None, steal_since(t0)))

            # 1. NSD alone, then mxshield per transport, then NSD alone again
            nsd_row()
            for transport in ("udp", "tcp"):
                port = dnsserver.free_port()
                d = start_daemon(tmp, nsd.addr, port, "dns_transport = %s\n" % transport)
                try:
                    t0 = cpu_times()
                    q0, c0, n0 = nsd.queries(), proc_cpu(d.pid), nsd.cpu()
                    r = bench(port, ["-c", str(a.conns), "-d", str(a.seconds),
                                     "-w", str(warmup)])
                    q1, c1, n1 = nsd.queries(), proc_cpu(d.pid), nsd.cpu()
                    steal = steal_since(t0)
                    if transport == "udp":
                        rm = bench(port, ["-c", str(a.conns), "-d", str(a.seconds),
                                          "-w", str(warmup)], mode="mixed")
                finally:
                    stop(d)
                reqs = r["requests"] + warmup
                qpr = (q1 - q0) / max(1, reqs)
                r["cpu_us"] = (c1 - c0) * 1e6 / max(1, q1 - q0)
                r["nsd_us"] = (n1 - n0) * 1e6 / max(1, q1 - q0)
                rows.append(("mxshield, dns_transport = %s, every name new" % transport,
                             a.conns, r, r["rps"] * qpr, qpr, steal))
                if transport == "udp":
                    rows.append(("mxshield, dns_transport = udp, mixed: 90% of requests "
                                 "repeat (cache)", a.conns, rm, None, None, None))
            nsd_row()
        finally:
            nsd.stop()

        # 2. latency with every answer held back delay_ms
        resp = dnsserver.Responder({}, delay=a.delay_ms / 1000.0,
                                   default_ptr="mail.bench.test").start()
        try:
            port = dnsserver.free_port()
            d = start_daemon(tmp, resp.addr, port)
            try:
                r2 = bench(port, ["-c", "1", "-n", "40", "-t", "30"])
            finally:
                stop(d)
            queries = len(resp.seen)
        finally:
            resp.stop()
        rows.append(("mxshield, each answer delayed %d ms" % a.delay_ms, 1, r2, None, None,
                     None))

    nsd_rate = sum(nsd_rates) / len(nsd_rates)
    print("DNS benchmark: six lookups per request (PTR, 3 DNSBL, 2 RHSBL), NSD %s on "
          "loopback, %d s per row, %d CPUs, %s; load average %.2f before, %.2f after; "
          "steal %.1f%% over the run"
          % (nsd_version(), a.seconds, os.cpu_count(), os.uname().release, load0[0],
             os.getloadavg()[0], steal_since(t_all)))
    print()
    print("| what | conns | req/s | queries/s | of NSD's rate | queries/req "
          "| daemon CPU µs/query | NSD CPU µs/query | p50 (µs) | p99 (µs) | errors | steal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    bad = False
    for what, conns, r, qps, qpr, steal in rows:
        cell = lambda v, fmt: (fmt % v) if v is not None else ""  # noqa: E731
        g = (r or {}).get
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
              % (what, cell(conns, "%d"), cell(g("rps"), "%.0f"), cell(qps, "%.0f"),
                 cell(qps / nsd_rate if qps and conns else None, "%.3f"), cell(qpr, "%.2f"),
                 cell(g("cpu_us"), "%.1f"), cell(g("nsd_us"), "%.1f"),
                 cell(g("p50_us"), "%.0f"),
                 cell(g("p99_us"), "%.0f"), cell(g("errors"), "%d"),
                 cell(steal, "%.1f%%")))
        bad = bad or bool(g("errors"))
    print()
    print("NSD's rate: %.0f queries/s (mean of the runs before and after)." % nsd_rate)
    for what, conns, r, qps, qpr, steal in rows:
        if qps and conns:
            print("%s: %.0f queries/s = %.3f of NSD's rate." % (what, qps, qps / nsd_rate))
    p50_ms = r2["p50_us"] / 1000.0
    print("With every DNS answer %d ms late, a request took %.1f ms (p50): %.2f round trips "
          "of the %d lookups it needs (%d queries reached the server for %d requests)."
          % (a.delay_ms, p50_ms, p50_ms / a.delay_ms, LOOKUPS, queries, 40))
    return 1 if bad else 0


def nsd_version():
    out = subprocess.run(["nsd", "-v"], capture_output=True, text=True)
    words = (out.stdout + out.stderr).split()
    return words[2] if len(words) > 2 and words[0] == "NSD" else "?"


if __name__ == "__main__":
    sys.exit(main())
