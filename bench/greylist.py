#!/usr/bin/python3
"""greylist.py - greylisting side by side: mxshield and Debian's postgrey,
same machine, same load generator (build/mxshield-bench), same requests.

    /usr/bin/python3 bench/greylist.py [--seconds N] [--million N] [--postgrey-n N]

Rows: fixed and unique triplets at 1, 8 and 64 connections, requests/s and
latency.  Then each daemon's RSS and database size after N distinct
triplets (--million, default 1,000,000, for mxshield; --postgrey-n,
default 100,000, for postgrey, which at ~1,500 requests/s would need
about 11 minutes per million).  Prints markdown tables.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "proto"))
import dnsserver  # noqa: E402  (free_port)

DAEMON = os.path.join(REPO, "build", "mxshield")
BENCH = os.path.join(REPO, "build", "mxshield-bench")
POSTGREY = shutil.which("postgrey") or "/usr/sbin/postgrey"


def wait_port(port, proc, what):
    import socket
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("bench/greylist.py: %s exited at start-up" % what)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("bench/greylist.py: %s did not start" % what)


def start_mxshield(tmp, port):
    db = os.path.join(tmp, "mxdb")
    conf = os.path.join(tmp, "mx.conf")
    with open(conf, "w") as f:
        f.write("listen = inet:127.0.0.1:%d\ndata_directory = %s\n"
                "recipient_restrictions = greylist\n" % (port, db))
    log = open(os.path.join(tmp, "mx.log"), "w")
    p = subprocess.Popen([DAEMON, "serve", "-c", conf], stdout=log, stderr=log)
    wait_port(port, p, "mxshield")
    return p, db


def start_postgrey(tmp, port):
    db = os.path.join(tmp, "pgdb")
    os.makedirs(db)
    log = open(os.path.join(tmp, "pg.log"), "w")
    p = subprocess.Popen([POSTGREY, "--inet=127.0.0.1:%d" % port, "--dbdir=" + db,
                          "--pidfile=" + os.path.join(tmp, "pg.pid"),
                          "--user=root", "--group=root"], stdout=log, stderr=log)
    wait_port(port, p, "postgrey")
    return p, db


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def rss_kb(pid):
    """RSS of the process and its children (postgrey forks none; safe)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def du_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for n in files:
            total += os.stat(os.path.join(root, n)).st_blocks * 512
    return total / 1e6


def load(port, args):
    out = subprocess.run([BENCH, "--json"] + args + ["inet:127.0.0.1:%d" % port],
                         capture_output=True, text=True)
    if not out.stdout.strip():
        sys.exit("bench/greylist.py: load generator failed: " + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--million", type=int, default=1000000)
    ap.add_argument("--postgrey-n", type=int, default=100000)
    a = ap.parse_args()
    for f in (DAEMON, BENCH, POSTGREY):
        if not os.access(f, os.X_OK):
            sys.exit("bench/greylist.py: %s not found (make; scripts/deps test)" % f)
    rows, mem = [], []
    with tempfile.TemporaryDirectory(prefix="mxglbench.") as tmp:
        for name, start in (("mxshield", start_mxshield), ("postgrey", start_postgrey)):
            port = dnsserver.free_port()
            sub = os.path.join(tmp, name)
            os.makedirs(sub)
            p, db = start(sub, port)
            try:
                for mode in ("fixed", "unique"):
                    for conns in (1, 8, 64):
                        r = load(port, ["-m", mode, "-c", str(conns), "-d", str(a.seconds),
                                        "-w", "100", "-s", str(conns + len(rows))])
                        rows.append((name, mode, conns, r))
            finally:
                stop(p)
            # memory and disk after N distinct triplets, on a fresh database
            n = a.million if name == "mxshield" else a.postgrey_n
            sub = os.path.join(tmp, name + "-fill")
            os.makedirs(sub)
            port = dnsserver.free_port()
            p, db = start(sub, port)
            try:
                t0 = time.monotonic()
                r = load(port, ["-m", "unique", "-c", "8", "-n", str(n), "-s", "99"])
                took = time.monotonic() - t0
                mem.append((name, n, rss_kb(p.pid) / 1024.0, du_mb(db), took, r["errors"]))
            finally:
                stop(p)
    print("Greylisting: %d CPUs, %s, %d s per row; every request a greylist decision "
          "(unique: a new triplet, written before the answer)" %
          (os.cpu_count(), os.uname().release, a.seconds))
    print()
    print("| daemon | triplets | conns | req/s | p50 (us) | p99 (us) | max (us) | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, mode, conns, r in rows:
        print("| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %d |"
              % (name, mode, conns, r["rps"], r["p50_us"], r["p99_us"], r["max_us"], r["errors"]))
    print()
    print("| daemon | distinct triplets | RSS (MB) | database (MB) | time to load (s) | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, rss, db, took, err in mem:
        print("| %s | %d | %.1f | %.1f | %.0f | %d |" % (name, n, rss, db, took, err))
    mx = {(m, c): r["rps"] for nm, m, c, r in rows if nm == "mxshield"}
    pg = {(m, c): r["rps"] for nm, m, c, r in rows if nm == "postgrey"}
    print()
    print("mxshield / postgrey, unique triplets at 8 connections: %.0fx"
          % (mx[("unique", 8)] / max(pg[("unique", 8)], 1)))
    return 1 if any(r["errors"] for _, _, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
