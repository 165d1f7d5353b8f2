#!/usr/bin/python3
"""banlog.py - auto-ban's log classifier side by side with fail2ban.

    /usr/bin/python3 bench/banlog.py [--lines N] [--keep FILE]

Generates a mail log of N lines (default 500000) as a busy Debian 12
Postfix writes it (rsyslog's RFC 3339 stamps): mostly ordinary traffic
(connect, disconnect, cleanup, qmgr, delivery) and about one line in four
an event (AUTH failures and their disconnects, lost connections, rejects,
postscreen).  Then classifies it with `mxshield ban scan` (best of 3) and
with Debian's fail2ban (`fail2ban-regex` with the postfix filter in
aggressive mode, once), and prints a markdown table: lines per second,
events found, and the ratio.  Needs build/mxshield and fail2ban
(scripts/deps test).  Writes the log to a temporary file unless --keep.
"""

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(HERE, "..", "build", "mxshield")


def generate(path, n, seed=13):
    """n lines of a mail log into path"""
    rnd = random.Random(seed)
    t0 = 1796450400.0
    users = ["info", "admin", "sales", "test", "office", "postmaster"]
    with open(path, "w") as f:
        i = 0
        pid = 10000
        while i < n:
            t = t0 + i * 0.01
            us = int((t % 1) * 1e6)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+00:00" % us
            pre = "%s mx1 postfix/%s[%d]: "
            a = "198.51.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))
            b = "2001:db8:%x::%x" % (rnd.randrange(65536), rnd.randrange(1, 65535))
            host = a if rnd.random() < 0.8 else b
            pid += 1
            r = rnd.random()
            qid = "%010X" % rnd.randrange(1 << 40)
            out = []
            if r < 0.55:
                # an ordinary delivery
                out = [
                    (pre % (stamp, "smtpd", pid)) + "connect from mail.example.net[%s]" % host,
                    (pre % (stamp, "smtpd", pid)) + "%s: client=mail.example.net[%s]" % (qid, host),
                    (pre % (stamp, "cleanup", pid + 1)) + "%s: message-id=<%d@example.net>" % (qid, i),
                    (pre % (stamp, "qmgr", 900)) + "%s: from=<a@example.net>, size=%d, nrcpt=1 (queue active)" % (qid, rnd.randrange(1000, 90000)),
                    (pre % (stamp, "smtpd", pid)) + "disconnect from mail.example.net[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" % host,
                    (pre % (stamp, "local", pid + 2)) + "%s: to=<u@example.org>, relay=local, delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (delivered to mailbox)" % qid,
                    (pre % (stamp, "qmgr", 900)) + "%s: removed" % qid,
                ]
            elif r < 0.70:
                # a password guesser
                out = [
                    (pre % (stamp, "submission/smtpd", pid)) + "connect from unknown[%s]" % host,
                    (pre % (stamp, "submission/smtpd", pid)) + "warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6" % host,
                    (pre % (stamp, "submission/smtpd", pid)) + "lost connection after AUTH from unknown[%s]" % host,
                    (pre % (stamp, "submission/smtpd", pid)) + "disconnect from unknown[%s] ehlo=1 auth=0/1 commands=1/2" % host,
                ]
            elif r < 0.80:
                out = [
                    (pre % (stamp, "smtpd", pid)) + "connect from unknown[%s]" % host,
                    (pre % (stamp, "smtpd", pid)) + "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <%s@elsewhere.example>: Relay access denied; from=<x@y.example> to=<%s@elsewhere.example> proto=ESMTP helo=<y.example>" % (host, rnd.choice(users), rnd.choice(users)),
                    (pre % (stamp, "smtpd", pid)) + "NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <%s@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<x@y.example> to=<%s@example.org> proto=ESMTP helo=<y.example>" % (host, rnd.choice(users), rnd.choice(users)),
                    (pre % (stamp, "smtpd", pid)) + "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/2 quit=1 commands=3/5" % host,
                ]
            elif r < 0.90:
                out = [
                    (pre % (stamp, "postscreen", 3000)) + "CONNECT from [%s]:%d to [192.0.2.1]:25" % (host, rnd.randrange(1024, 65535)),
                    (pre % (stamp, "postscreen", 3000)) + "PREGREET 11 after 0.21 from [%s]:%d: EHLO bot\\r\\n" % (host, rnd.randrange(1024, 65535)),
                    (pre % (stamp, "postscreen", 3000)) + "DISCONNECT [%s]:%d" % (host, rnd.randrange(1024, 65535)),
                ]
            else:
                out = [
                    (pre % (stamp, "smtpd", pid)) + "connect from unknown[%s]" % host,
                    (pre % (stamp, "smtpd", pid)) + "lost connection after CONNECT from unknown[%s]" % host,
                    (pre % (stamp, "smtpd", pid)) + "disconnect from unknown[%s] commands=0/0" % host,
                    (pre % (stamp, "smtp", pid + 3)) + "%s: to=<r@remote.example>, relay=mx.remote.example[192.0.2.77]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4ABC)" % qid,
                ]
            for line in out:
                f.write(line + "\n")
            i += len(out)
    return i


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_ours(path):
    """best of 3: (wall seconds, CPU seconds, events)"""
    best = None
    events = 0
    for _ in range(3):
        c = cpu_children()
        t = time.perf_counter()
        p = subprocess.run([BINARY, "ban", "scan", path], stdout=subprocess.PIPE, check=True)
        dt = time.perf_counter() - t
        cpu = cpu_children() - c
        events = p.stdout.count(b"\n")
        if best is None or dt < best[0]:
            best = (dt, cpu)
    return best[0], best[1], events


def run_fail2ban(path):
    """(wall seconds, CPU seconds, lines matched)"""
    c = cpu_children()
    t = time.perf_counter()
    p = subprocess.run(["fail2ban-regex", "--print-no-missed", path, "postfix[mode=aggressive]"],
                       capture_output=True, text=True, check=True)
    dt = time.perf_counter() - t
    cpu = cpu_children() - c
    m = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched", p.stdout)
    return dt, cpu, int(m.group(3)) if m else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=500000)
    ap.add_argument("--keep")
    args = ap.parse_args()
    fd, path = tempfile.mkstemp(suffix=".log")
    os.close(fd)
    if args.keep:
        path = args.keep
    try:
        n = generate(path, args.lines)
        ours, ocpu, ev = run_ours(path)
        f2b, fcpu, fev = run_fail2ban(path)
    finally:
        if not args.keep:
            os.unlink(path)
    print("| classifier | lines | seconds | lines/s | CPU s | lines/CPU s | events |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("| mxshield ban scan | {:,} | {:.3f} | {:,.0f} | {:.3f} | {:,.0f} | {:,} |".format(
        n, ours, n / ours, ocpu, n / max(ocpu, 1e-6), ev))
    print("| fail2ban-regex, postfix[mode=aggressive] | {:,} | {:.3f} | {:,.0f} | {:.3f} | {:,.0f} | {:,} |".format(
        n, f2b, n / f2b, fcpu, n / max(fcpu, 1e-6), fev))
    print("\nmxshield is %.0fx faster (wall clock), %.0fx (CPU time)" % (f2b / ours, fcpu / max(ocpu, 1e-6)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
