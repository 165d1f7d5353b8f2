#!/usr/bin/python3
"""milter.py - the milter benchmark: mxshield's milter side by side with
Debian's OpenDKIM (verify mode) chained with OpenDMARC, as
`smtpd_milters = opendkim, opendmarc` chains them, on the same messages,
keys and zones.

    /usr/bin/python3 bench/milter.py [--seconds N] [--conns "1 8"] [--msgs N] [--perf FILE]
                                     [--threads N]

Messages: 10 to 50 KB bodies, one (RSA 2048) or two (RSA 2048 and Ed25519)
DKIM signatures of reject.dmarc.test made here with python3-dkim and the
keys in tests/data/dkim/keys; the public keys and _dmarc records are in
tests/data/dns/dmarc.test.zone, served by NSD on 127.0.1.53:53 (port 53
because OpenDMARC and libspf2 read /etc/resolv.conf, which cannot name a
port: OpenDMARC runs in a private mount namespace whose resolv.conf names
127.0.1.53; OpenDKIM is pointed there by its Nameservers option).  The
client 198.51.100.7 fails SPF; DKIM passes and aligns, so every message
passes DMARC and every milter does the same work: SPF, one or two
signatures, DMARC.

mxshield runs twice: as configured by default (milter_verify_threads =
0: every check on the event loop) and with the signature checks on a
pool (--threads, default -1: one thread per CPU), so that the pool's
effect is measured in the same run.

Load: build/mxshield-milterload, "postfix" mode (4096-byte buffered
writes, no TCP_NODELAY: as Postfix drives milters) and "fast" mode.
Prints a markdown table.  Needs root (port 53, the mount namespace),
build/mxshield, build/mxshield-milterload, opendkim, opendmarc, nsd.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import dkim

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "proto"))
import dnsserver  # noqa: E402

DAEMON = os.path.join(REPO, "build", "mxshield")
LOAD = os.path.join(REPO, "build", "mxshield-milterload")
KEYS = os.path.join(REPO, "tests", "data", "dkim", "keys")
DNS_IP = "127.0.1.53"
WORDS = ("mail server message transport policy domain signature header body "
         "alignment report sender receiver forward list").split()


def make_messages(d, n):
    with open(os.path.join(KEYS, "rsa2048.pem"), "rb") as f:
        rsa = f.read()
    with open(os.path.join(KEYS, "ed25519.seed"), "rb") as f:
        ed = f.read().strip()
    rnd = random.Random(7)
    for i in range(n):
        size = rnd.randint(10 * 1024, 50 * 1024)
        lines, total = [], 0
        while total < size:
            line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 12))).encode()
            lines.append(line)
            total += len(line) + 2
        raw = (b"From: Alice <alice@reject.dmarc.test>\r\nTo: bob@our.test\r\n"
               b"Subject: benchmark message %d\r\nDate: Sat, 05 Dec 2026 06:00:00 +0000\r\n"
               b"Message-ID: <%d@reject.dmarc.test>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain\r\n\r\n" % (i, i) + b"\r\n".join(lines) + b"\r\n")
        sig = dkim.sign(raw, b"rsa", b"reject.dmarc.test", rsa)
        if i % 2:
            sig = dkim.sign(raw, b"ed", b"reject.dmarc.test", ed,
                            signature_algorithm=b"ed25519-sha256") + sig
        with open(os.path.join(d, "m%03d.eml" % i), "wb") as f:
            f.write(sig + raw)


def wait_port(port, proc, what):
    import socket
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited" % what)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen" % what)


def cpu_seconds(pid):
    """user + system CPU seconds of a process so far (/proc/PID/stat)"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_times():
    """the machine's jiffies: (total, steal) from /proc/stat"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[7] if len(v) > 7 else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", default="1 8")
    ap.add_argument("--msgs", type=int, default=40)
    ap.add_argument("--threads", type=int, default=-1,
                    help="milter_verify_threads of the pooled mxshield (default -1)")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record -g the daemon into FILE during its last no-stall run")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mxmilterbench.")
    procs = []
    try:
        msgdir = os.path.join(tmp, "msgs")
        os.mkdir(msgdir)
        make_messages(msgdir, args.msgs)
        nsd = dnsserver.NSD(ip=DNS_IP, port=53).start()
        procs.append(nsd)
        with open(os.path.join(tmp, "resolv.conf"), "w") as f:
            f.write("nameserver %s\n" % DNS_IP)

        ports = {k: dnsserver.free_port()
                 for k in ("mx", "policy", "mx0", "policy0", "dkim", "dmarc")}
        # mxshield, with its default pool and without one
        log = open(os.path.join(tmp, "mxshield.log"), "w")
        pids = {}
        for sfx, threads in (("", args.threads), ("0", 0)):
            conf = os.path.join(tmp, "mxshield%s.conf" % sfx)
            os.mkdir(os.path.join(tmp, "data" + sfx))
            with open(conf, "w") as f:
                f.write("data_directory = %s/data%s\nlisten = inet:127.0.0.1:%d\n"
                        "control_socket =\nmilter_listen = inet:127.0.0.1:%d\n"
                        "dns_resolver = %s:53\nmyhostname = mx.bench.test\n"
                        "mynetworks = 127.0.0.1/32\nmilter_verify_threads = %d\n"
                        % (tmp, sfx, ports["policy" + sfx], ports["mx" + sfx], DNS_IP,
                           threads))
            p = subprocess.Popen([DAEMON, "serve", "-c", conf], stdout=log, stderr=log)
            procs.append(p)
            wait_port(ports["mx" + sfx], p, "mxshield")
            pids[sfx] = p.pid
        # OpenDKIM, verifying, its libunbound forwarding to the NSD (not
        # through ResolverConfiguration: unbound's configuration parser is
        # not thread-safe and crashes OpenDKIM under concurrent messages)
        with open(os.path.join(tmp, "opendkim.conf"), "w") as f:
            f.write("Mode v\nSocket inet:%d@127.0.0.1\nAuthservID mx.bench.test\n"
                    "Nameservers %s\nSyslog no\nPidFile %s/opendkim.pid\n"
                    "UserID root\n" % (ports["dkim"], DNS_IP, tmp))
        od = subprocess.Popen(["/usr/sbin/opendkim", "-f", "-x", os.path.join(tmp, "opendkim.conf")],
                              stdout=log, stderr=log)
        procs.append(od)
        wait_port(ports["dkim"], od, "opendkim")
        # OpenDMARC, reading OpenDKIM's results, SPF itself, resolv.conf ours
        with open(os.path.join(tmp, "opendmarc.conf"), "w") as f:
            f.write("Socket inet:%d@127.0.0.1\nAuthservID mx.bench.test\n"
                    "TrustedAuthservIDs mx.bench.test\nSPFSelfValidate true\n"
                    "SPFIgnoreResults true\nRejectFailures true\nIgnoreHosts %s/ignore\n"
                    "PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat\n"
                    "Syslog false\nPidFile %s/opendmarc.pid\nUserID root\n"
                    % (ports["dmarc"], tmp, tmp))
        open(os.path.join(tmp, "ignore"), "w").close()
        dm = subprocess.Popen(
            ["unshare", "-m", "sh", "-c",
             "mount --bind %s/resolv.conf /etc/resolv.conf && exec /usr/sbin/opendmarc -f -c %s"
             % (tmp, os.path.join(tmp, "opendmarc.conf"))], stdout=log, stderr=log)
        procs.append(dm)
        wait_port(ports["dmarc"], dm, "opendmarc")

        rows = []
        machine0 = cpu_times()
        pooled = "mxshield, milter_verify_threads = %d" % args.threads
        targets = [("mxshield", ["inet:127.0.0.1:%d" % ports["mx0"]]),
                   (pooled, ["inet:127.0.0.1:%d" % ports["mx"]]),
                   ("OpenDKIM → OpenDMARC", ["inet:127.0.0.1:%d" % ports["dkim"],
                                             "inet:127.0.0.1:%d" % ports["dmarc"]])]
        for conns in args.conns.split():
            for mode in ("postfix", "fast"):
                for name, tg in targets:
                    opts = ["-c", conns, "-M", msgdir, "--json"]
                    if mode == "fast":
                        opts.append("--fast")
                    # warm the caches (DNS, keys) first
                    subprocess.run([LOAD, "-d", "1"] + opts + tg, capture_output=True)
                    perf = None
                    if args.perf and name == "mxshield" and mode == "fast" \
                            and conns == args.conns.split()[-1]:
                        perf = subprocess.Popen(["perf", "record", "-g", "-o", args.perf,
                                                 "-p", str(pids["0"])],
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                    pid = pids["0"] if name == "mxshield" else pids[""]
                    cpu0 = cpu_seconds(pid)
                    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    out = subprocess.run([LOAD, "-d", str(args.seconds)] + opts + tg,
                                         capture_output=True, text=True)
                    cpu = cpu_seconds(pid) - cpu0
                    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    load_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
                    if perf:
                        perf.send_signal(2)
                        perf.wait()
                    if not out.stdout.strip():
                        raise RuntimeError("%s: %s" % (name, out.stderr))
                    j = json.loads(out.stdout.strip().splitlines()[-1])
                    if name.startswith("mxshield") and j["messages"]:
                        j["cpu_us"] = cpu / j["messages"] * 1e6
                    if j["messages"]:
                        j["load_us"] = load_cpu / j["messages"] * 1e6
                    rows.append((name, conns, mode, j))
                    print("%s %s conns %s: %s" % (name, conns, mode, out.stdout.strip()),
                          file=sys.stderr)
        print("| milter | connections | driven | messages/s | p50 ms | p99 ms | max ms"
              " | mxshield CPU us/msg | load generator CPU us/msg |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, conns, mode, j in rows:
            print("| %s | %s | %s | %.0f | %.2f | %.2f | %.1f | %s | %s |%s"
                  % (name, conns, "as Postfix" if mode == "postfix" else "no stalls",
                     j["per_second"], j["p50_ms"], j["p99_ms"], j["max_ms"],
                     "%.0f" % j["cpu_us"] if "cpu_us" in j else "",
                     "%.0f" % j["load_us"] if "load_us" in j else "",
                     " (failed)" if j["failed"] else ""))
        print()
        for conns in args.conns.split():
            for mode in ("postfix", "fast"):
                got = {n: j for n, c, m, j in rows if c == conns and m == mode}
                chain = got["OpenDKIM → OpenDMARC"]["per_second"]
                print("%s connections, %s: mxshield %.1fx the chain, %.1fx with the pool"
                      % (conns, "as Postfix" if mode == "postfix" else "no stalls",
                         got["mxshield"]["per_second"] / chain if chain else 0,
                         got[pooled]["per_second"] / chain if chain else 0))
        machine1 = cpu_times()
        print("\nload average at the end: %s; steal during the runs: %.1f%%"
              % (open("/proc/loadavg").read().strip(),
                 100.0 * (machine1[1] - machine0[1]) / max(1, machine1[0] - machine0[0])))
        rss = open("/proc/%d/status" % pids["0"]).read()
        rss = [l for l in rss.splitlines() if l.startswith("VmRSS")][0].split()[1]
        print("\nmxshield resident memory after the runs: %s KB" % rss)
        # the log line of one message, to show what was decided
        with open(os.path.join(tmp, "mxshield.log")) as f:
            for line in f:
                if "action=" in line and "milter client" in line:
                    print("\nsample: " + line.strip()[:300], file=sys.stderr)
                    break
    finally:
        for p in reversed(procs):
            if isinstance(p, dnsserver.NSD):
                p.stop()
            elif p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    main()
