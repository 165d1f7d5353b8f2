#!/usr/bin/python3
"""spf.py - SPF evaluations side by side: mxshield's check_spf and Debian's
postfix-policyd-spf-python, same zone data (NSD on 127.0.0.53:53, serving
tests/data/dns), same load generator, same requests.

    /usr/bin/python3 bench/spf.py [--seconds N]

The record is big.spf.test: two includes and about twenty terms; the
client 198.19.1.77 matches in the second include, so every evaluation
walks the whole record.  Warm caches: the same client, sender and record again and again, each
request a new message (instance) to a new recipient.
policyd-spf runs one process per connection, as Postfix's spawn(8) runs
it, inside a private mount namespace whose /etc/resolv.conf names the
test server.  Needs root (port 53 on 127.0.0.53, the mount namespace).
"""

import argparse
import json
import os
import signal
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
ATTRS = ["-A", "client_address=198.19.1.77", "-A", "sender=news@big.spf.test",
         "-A", "helo_name=mail.good.test", "-A", "client_name=unknown",
         "-A", "reverse_client_name=unknown"]


def wait_port(port, proc, what):
    import socket
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("bench/spf.py: %s exited" % what)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("bench/spf.py: %s did not start" % what)


def load(port, conns, seconds):
    # unique: a new message each time (Postfix's instance), so policyd-spf
    # cannot answer from its per-message cache; the SPF attributes are fixed
    out = subprocess.run([BENCH, "--json", "-m", "unique", "-c", str(conns), "-d", str(seconds),
                          "-w", "50"] + ATTRS + ["inet:127.0.0.1:%d" % port],
                         capture_output=True, text=True)
    if not out.stdout.strip():
        sys.exit("bench/spf.py: load generator failed: " + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/spf.py: needs root")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mxspfbench.") as tmp, \
            dnsserver.NSD(ip="127.0.0.53", port=53) as nsd:
        # mxshield
        port = dnsserver.free_port()
        conf = os.path.join(tmp, "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = inet:127.0.0.1:%d\ndns_resolver = %s\ndata_directory = %s\n"
                    "recipient_restrictions = check_spf\nspf_helo_reject = no_check\n"
                    % (port, nsd.addr, os.path.join(tmp, "data")))
        log = open(os.path.join(tmp, "mx.log"), "w")
        p = subprocess.Popen([DAEMON, "serve", "-c", conf], stdout=log, stderr=log)
        wait_port(port, p, "mxshield")
        try:
            first = subprocess.run([BENCH, "-n", "1", "-c", "1"] + ATTRS +
                                   ["inet:127.0.0.1:%d" % port], capture_output=True, text=True)
            for conns in (1, 8):
                rows.append(("mxshield check_spf", conns, load(port, conns, a.seconds)))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait()
        # postfix-policyd-spf-python
        resolv = os.path.join(tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.53\n")
        pconf = os.path.join(tmp, "policyd-spf.conf")
        with open(pconf, "w") as f:
            f.write("debugLevel = 0\nTestOnly = 1\nHELO_reject = No_Check\n"
                    "Mail_From_reject = Fail\nPermError_reject = False\n"
                    "TempError_Defer = False\nskip_addresses = 127.0.0.0/8\n")
        port = dnsserver.free_port()
        b = subprocess.Popen(["unshare", "-m", "/usr/bin/python3",
                              os.path.join(HERE, "spawn_bridge.py"), str(port), resolv, "--",
                              "policyd-spf", pconf], stdout=subprocess.PIPE, text=True)
        b.stdout.readline()
        wait_port(port, b, "policyd-spf bridge")
        try:
            for conns in (1, 8):
                rows.append(("postfix-policyd-spf-python", conns, load(port, conns, a.seconds)))
        finally:
            b.kill()
            b.wait()
            subprocess.run(["pkill", "-f", "policyd-spf " + pconf])
    print("SPF: big.spf.test (2 includes, ~20 terms), client matching in the second include, "
          "warm caches, %d s per row, %d CPUs" % (a.seconds, os.cpu_count()))
    print()
    print("| policy service | conns | evaluations/s | p50 (us) | p99 (us) | answers |")
    print("|---|---:|---:|---:|---:|---|")
    for name, conns, r in rows:
        answers = ", ".join("%s: %d" % kv for kv in sorted(r.get("replies", {}).items()))
        print("| %s | %d | %.0f | %.0f | %.0f | %s |" % (name, conns, r["rps"], r["p50_us"],
                                                        r["p99_us"], answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
