#!/usr/bin/python3
"""dns.py - the DNS benchmark: mxshield answering requests that each need
six DNS lookups, against a real NSD on loopback (bench/dns/*.zone).

    /usr/bin/python3 bench/dns.py [--seconds N] [--conns N]

1. Throughput: unique clients, HELO names and sender domains (so every
   lookup is new to the cache), CONNS connections: requests/s and p99.
2. Latency: the scripted responder holds every answer back DELAY ms; one
   connection sends one request at a time.  If the six lookups ran one
   after the other a request would take 6 x DELAY; they run at once, so
   it takes about one DELAY.

Prints a markdown table.  Needs build/mxshield and build/mxshield-bench.
"""

import argparse
import json
import os
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

# six independent lookups per request: PTR, three DNSBLs, two RHSBLs
POLICY = """\
dns_use_postfix_names = no
client_restrictions = reject_unknown_reverse_client_hostname,
    reject_rbl_client bl1.bench.test, reject_rbl_client bl2.bench.test,
    reject_rbl_client bl3.bench.test
helo_restrictions = reject_rhsbl_helo rhs.bench.test
sender_restrictions = reject_rhsbl_sender rhs.bench.test
"""


def start_daemon(tmp, resolver, port):
    conf = os.path.join(tmp, "mxshield.conf")
    with open(conf, "w") as f:
        f.write("listen = inet:127.0.0.1:%d\ndns_resolver = %s\n%s" % (port, resolver, POLICY))
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

    rows = []
    with tempfile.TemporaryDirectory(prefix="mxbench.") as tmp:
        # 1. throughput against NSD
        with dnsserver.NSD(os.path.join(HERE, "dns")) as nsd:
            port = dnsserver.free_port()
            d = start_daemon(tmp, nsd.addr, port)
            try:
                r = bench(port, ["-c", str(a.conns), "-d", str(a.seconds), "-w", "200"])
                rm = bench(port, ["-c", str(a.conns), "-d", str(a.seconds), "-w", "200"],
                           mode="mixed")
            finally:
                stop(d)
        rows.append(("NSD on loopback, every name new (6 queries per request)", a.conns, r))
        rows.append(("NSD on loopback, mixed: 90% of requests repeat (cache)", a.conns, rm))

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
        rows.append(("each answer delayed %d ms" % a.delay_ms, 1, r2))

    print("DNS benchmark: six lookups per request (PTR, 3 DNSBL, 2 RHSBL), "
          "%d CPUs, %s" % (os.cpu_count(), os.uname().release))
    print()
    print("| DNS server | conns | req/s | p50 (us) | p99 (us) | max (us) | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, conns, r in rows:
        print("| %s | %d | %.1f | %.0f | %.0f | %.0f | %d |"
              % (name, conns, r["rps"], r["p50_us"], r["p99_us"], r["max_us"], r["errors"]))
    print()
    p50_ms = r2["p50_us"] / 1000.0
    print("With every DNS answer %d ms late, a request took %.1f ms (p50): %.2f round trips "
          "of the %d lookups it needs (%d queries reached the server for %d requests)."
          % (a.delay_ms, p50_ms, p50_ms / a.delay_ms, 6, queries, 40))
    bad = any(r["errors"] for _, _, r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
