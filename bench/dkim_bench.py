#!/usr/bin/python3
"""dkim_bench.py - DKIM verifications per second on 20 KB messages, side by side.

  /usr/bin/python3 bench/dkim_bench.py [--count N] [--peer-count N]

Signs 20 KB messages with python3-dkim and the test keys of tests/data/dkim/
(RSA-2048 and Ed25519, relaxed/relaxed and simple/simple, and one message
with both), then in one run:
Rates are verifications per second of the verifier's own CPU time (so that
they hold on a shared machine; wall-clock rates are in the C bench's output).
  mxshield    build/mxshield-dkimbench: our verifier, in process, keys
              from a table (no DNS), body fed in 64 KB milter chunks;
  dkimpy      python3-dkim's dkim.verify() on the same messages and keys
              (the verifier most Python milters use), in process;
  openssl     `openssl speed` for the bare RSA-2048 and Ed25519 verify:
              the ceiling a verifier cannot pass.
Needs `make build/mxshield-dkimbench`.  Prints a markdown table."""
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time

import dkim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(ROOT, "tests", "data", "dkim")
BENCH = os.path.join(ROOT, "build", "mxshield-dkimbench")


def body(size):
    rnd = random.Random(20)
    lines, n = [], 0
    while n < size:
        line = "".join(rnd.choice(string.ascii_letters + "   ,.") for _ in range(72))
        lines.append(line)
        n += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode()


def messages(tmp):
    with open(os.path.join(DATA, "keys", "rsa2048.pem"), "rb") as f:
        rsa = f.read()
    with open(os.path.join(DATA, "keys", "ed25519.seed"), "rb") as f:
        ed = f.read().strip()
    base = (b"From: Alice <alice@dkim.test>\r\nTo: bob@example.net\r\n"
            b"Subject: a 20 KB message\r\nDate: Fri, 05 Dec 2025 10:00:00 +0000\r\n"
            b"Message-ID: <bench@dkim.test>\r\nMIME-Version: 1.0\r\n\r\n" + body(20000))
    h = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"]
    out = []

    def put(name, msg):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(msg)
        out.append(path)
    for c in ((b"relaxed", b"relaxed"), (b"simple", b"simple")):
        cs = c[0].decode() + "-" + c[1].decode()
        put("rsa2048-%s.eml" % cs, dkim.sign(base, b"rsa", b"dkim.test", rsa, canonicalize=c,
                                             include_headers=h) + base)
        put("ed25519-%s.eml" % cs, dkim.sign(base, b"ed", b"dkim.test", ed, canonicalize=c,
                                             signature_algorithm=b"ed25519-sha256",
                                             include_headers=h) + base)
    m = dkim.sign(base, b"rsa", b"dkim.test", rsa, canonicalize=(b"relaxed", b"relaxed"),
                  include_headers=h) + base
    m = dkim.sign(m, b"ed", b"dkim.test", ed, canonicalize=(b"relaxed", b"relaxed"),
                  signature_algorithm=b"ed25519-sha256", include_headers=h) + m
    put("rsa2048+ed25519.eml", m)
    return out


def dkimpy_rate(path, count):
    """dkimpy's verifications per second of CPU time."""
    table = {}
    with open(os.path.join(DATA, "keys.txt")) as f:
        for line in f:
            name, rec = line.rstrip("\n").split("\t", 1)
            table[name + "."] = rec.encode()

    def dnsfunc(name, timeout=5):
        return table.get(name.decode())
    with open(path, "rb") as f:
        msg = f.read()
    nsig = msg.count(b"DKIM-Signature:")
    t0 = time.process_time()
    for _ in range(count):
        d = dkim.DKIM(msg)
        for i in range(nsig):
            if not d.verify(idx=i, dnsfunc=dnsfunc):
                raise SystemExit("dkimpy: %s does not verify" % path)
    return count / (time.process_time() - t0)


def openssl_speed():
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa2048", "ed25519"],
                         capture_output=True, text=True).stdout
    rsa = re.search(r"^rsa\s+2048 bits\s+\S+s\s+\S+s\s+\S+\s+(\S+)", out, re.M)
    ed = re.search(r"^\s*253 bits EdDSA \(Ed25519\)\s+\S+s\s+\S+s\s+\S+\s+(\S+)", out, re.M)
    return (float(rsa.group(1)) if rsa else None, float(ed.group(1)) if ed else None)


def main():
    count = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 3000
    pcount = (int(sys.argv[sys.argv.index("--peer-count") + 1])
              if "--peer-count" in sys.argv else 300)
    if not os.access(BENCH, os.X_OK):
        raise SystemExit("make build/mxshield-dkimbench first")
    with tempfile.TemporaryDirectory(prefix="dkimbench.") as tmp:
        paths = messages(tmp)
        ours = subprocess.run([BENCH, "-n", str(count), os.path.join(DATA, "keys.txt")] + paths,
                              capture_output=True, text=True, check=True).stdout
        rates = {}
        for line in ours.splitlines()[1:]:
            f = line.split()
            rates[f[0]] = (int(f[1]), int(f[2]), float(f[4]))
        print("| message (20 KB body) | bytes | signatures | mxshield verif./CPU-s "
              "| dkimpy verif./CPU-s | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for p in paths:
            name = os.path.basename(p)
            size, nsig, ours_rate = rates[name]
            peer = dkimpy_rate(p, pcount)
            print("| %s | %d | %d | %.0f | %.0f | %.0fx |"
                  % (name, size, nsig, ours_rate, peer, ours_rate / peer))
    rsa, ed = openssl_speed()
    print("\n" + ours)
    print("bare OpenSSL verify on this machine (openssl speed): RSA-2048 %s/s, Ed25519 %s/s"
          % (rsa, ed))


if __name__ == "__main__":
    main()
