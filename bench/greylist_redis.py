#!/usr/bin/python3
"""greylist_redis.py - greylisting through Redis and through LMDB side by
side: the same daemon, the same load generator (build/mxshield-bench),
unique triplets (each request reads three records and writes two),
8 and 64 connections, in one run.

    /usr/bin/python3 bench/greylist_redis.py [--seconds N] [--transport unix|inet]

Redis is Debian's redis-server, started here on a free loopback port
without persistence (save "", appendonly no: the daemon's side is what is
measured).  The CPU columns: the daemon's own time per request, and
redis-server's.  Target (issue 14): Redis at least half of LMDB's
requests/s, p99 below 2 ms at 8 connections.  Prints a markdown table.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import greylist as gb  # noqa: E402  (start/stop/load helpers)

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def start_redis(tmp):
    port = gb.dnsserver.free_port()
    conf = os.path.join(tmp, "redis.conf")
    with open(conf, "w") as f:
        f.write("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n"
                "logfile %s\n" % (port, tmp, os.path.join(tmp, "redis.log")))
    p = subprocess.Popen([REDIS, conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gb.wait_ready("inet:127.0.0.1:%d" % port, p, "redis-server")
    return p, port


def start_daemon(tmp, target, store_conf):
    conf = os.path.join(tmp, "mx.conf")
    with open(conf, "w") as f:
        f.write("listen = %s\ndata_directory = %s\nrecipient_restrictions = greylist\n%s"
                % (target, os.path.join(tmp, "mxdb"), store_conf))
    log = open(os.path.join(tmp, "mx.log"), "w")
    p = subprocess.Popen([gb.DAEMON, "serve", "-c", conf], stdout=log, stderr=log)
    gb.wait_ready(target, p, "mxshield")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--transport", choices=("unix", "inet"), default="unix")
    ap.add_argument("--max-steal", type=float, default=5.0)
    ap.add_argument("--tries", type=int, default=3)
    a = ap.parse_args()
    for f in (gb.DAEMON, gb.BENCH, REDIS):
        if not os.access(f, os.X_OK):
            sys.exit("bench/greylist_redis.py: %s not found (make; scripts/deps test)" % f)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mxglredis.") as tmp:
        for name in ("lmdb", "redis"):
            sub = os.path.join(tmp, name)
            os.makedirs(sub)
            rp = None
            store_conf = ""
            if name == "redis":
                rp, port = start_redis(sub)
                store_conf = "store = redis\nredis_servers = 127.0.0.1:%d\n" % port
            target = gb.endpoint(sub, a.transport)
            p = start_daemon(sub, target, store_conf)
            try:
                for conns in (8, 64):
                    r0 = gb.cpu_ticks(rp.pid) if rp else 0
                    r = gb.quiet_load(p.pid, target,
                                      ["-m", "unique", "-c", str(conns), "-d", str(a.seconds),
                                       "-w", "100", "-s", str(conns + len(rows))],
                                      a.max_steal, a.tries)
                    r1 = gb.cpu_ticks(rp.pid) if rp else 0
                    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
                    # redis CPU over every try of the row, per request of the last:
                    # exact when tries is 1, an upper bound otherwise
                    r["redis_cpu_us"] = ((r1 - r0) * tick_us / max(r["requests"], 1) / r["tries"]
                                         if rp else 0.0)
                    rows.append((name, conns, r))
            finally:
                gb.stop(p)
                if rp:
                    gb.stop(rp)
    print("Greylisting, unique triplets, %s socket: %d CPUs, %s, %d s per row, "
          "load average %s" % (a.transport, os.cpu_count(), os.uname().release, a.seconds,
                               " ".join("%.2f" % x for x in os.getloadavg())))
    print()
    print("| store | conns | req/s | p50 (us) | p99 (us) | max (us) | daemon CPU (us/req) "
          "| redis-server CPU (us/req) | steal | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, conns, r in rows:
        print("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.1f | %s | %.0f%% | %d |"
              % (name, conns, r["rps"], r["p50_us"], r["p99_us"], r["max_us"], r["cpu_us"],
                 "%.1f" % r["redis_cpu_us"] if name == "redis" else "-", r["steal"],
                 r["errors"]))
    print()
    res = {(n, c): r for n, c, r in rows}
    for conns in (8, 64):
        lm, rd = res[("lmdb", conns)], res[("redis", conns)]
        print("%d connections: redis / lmdb = %.2f of the requests/s; redis p99 %.0f us"
              % (conns, rd["rps"] / max(lm["rps"], 1), rd["p99_us"]))
    return 1 if any(r["errors"] for _, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
