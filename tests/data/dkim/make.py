#!/usr/bin/python3
"""make.py - the DKIM and ARC test fixtures, signed by python3-dkim (dkimpy),
an implementation independent of ours.

Writes, from the top of the repository:
  tests/data/dkim/keys/*          private keys (test keys only, nothing else)
  tests/data/dkim/keys.txt        "NAME<TAB>TXT record" for the unit tests
  tests/data/dns/dkim.test.zone   the same records for the NSD of the proto tests
  tests/data/dkim/*.eml           signed messages (expected results: README.md)

Keys are made once and kept (run with --new-keys to replace them);
messages are signed again on every run.  Run: /usr/bin/python3 tests/data/dkim/make.py
"""
import base64
import os
import subprocess
import sys

import time

import dkim
import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
ZONE = os.path.join(HERE, "..", "dns", "dkim.test.zone")
DOMAIN = b"dkim.test"
T = 1764900000                      # a fixed signing time (December 2025)


def rsa_key(name, bits):
    path = os.path.join(KEYS, name + ".pem")
    if not os.path.exists(path) or "--new-keys" in sys.argv:
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:%d" % bits, "-out", path], check=True,
                       stderr=subprocess.DEVNULL)
    pub = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read(), base64.b64encode(pub).decode()


def modulus_key(bits):
    """A public key of exactly that many bits (any odd modulus will do:
    only the size limit is tested, nothing is verified with it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa as rsa_mod
    k = rsa_mod.RSAPublicNumbers(65537, 2 ** (bits - 1) + 1).public_key()
    return base64.b64encode(k.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def ed_key(name):
    path = os.path.join(KEYS, name + ".seed")
    if not os.path.exists(path) or "--new-keys" in sys.argv:
        with open(path, "wb") as f:
            f.write(base64.b64encode(os.urandom(32)) + b"\n")
    with open(path, "rb") as f:
        seed = f.read().strip()
    sk = nacl.signing.SigningKey(base64.b64decode(seed))
    return seed, base64.b64encode(bytes(sk.verify_key)).decode()


BODY = (b"Hello,\r\n"
        b"\r\n"
        b"This  body has   runs of white space, \t trailing space  \r\n"
        b"and\ttabs, and empty lines at the end.\r\n"
        b"\r\n"
        b"\r\n")


def message(subject, body=BODY, extra=b""):
    return (b"Received: from client.example (client.example [192.0.2.1])\r\n"
            b"\tby mx.example with ESMTP id 4AbC1\r\n"
            b"From: Alice <alice@dkim.test>\r\n"
            b"To: Bob <bob@example.net>\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Date: Fri, 05 Dec 2025 10:00:00 +0000\r\n"
            b"Message-ID: <" + subject.replace(b" ", b"-") + b"@dkim.test>\r\n"
            + extra +
            b"MIME-Version: 1.0\r\n"
            b"\r\n" + body)


HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"]


def sign(msg, sel, key, canon=(b"relaxed", b"relaxed"), alg=b"rsa-sha256", **kw):
    sig = dkim.sign(msg, sel, DOMAIN, key, canonicalize=canon, signature_algorithm=alg,
                    include_headers=kw.pop("include_headers", HEADERS), **kw)
    return sig + msg


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def txt(record):
    """A zone file TXT rdata: character-strings of at most 255 bytes."""
    parts = [record[i:i + 200] for i in range(0, len(record), 200)]
    return " ".join('"%s"' % p for p in parts)


def main():
    time.time = lambda: T           # t= fixed: the same files on every run
    os.makedirs(KEYS, exist_ok=True)
    rsa, rsa_pub = rsa_key("rsa2048", 2048)
    rsa1024, rsa1024_pub = rsa_key("rsa1024", 1024)
    short, short_pub = rsa_key("rsa512", 512)
    ed, ed_pub = ed_key("ed25519")

    records = [
        ("rsa._domainkey", "v=DKIM1; k=rsa; p=" + rsa_pub),
        ("ed._domainkey", "v=DKIM1; k=ed25519; p=" + ed_pub),
        ("rsa1024._domainkey", "v=DKIM1; p=" + rsa1024_pub),
        ("short._domainkey", "v=DKIM1; k=rsa; p=" + short_pub),
        ("revoked._domainkey", "v=DKIM1; k=rsa; p="),
        ("testing._domainkey", "v=DKIM1; k=rsa; t=y; p=" + rsa_pub),
        ("wrongtype._domainkey", "v=DKIM1; k=ed25519; p=" + ed_pub),
        ("multi._domainkey", "v=DKIM1; p=" + rsa_pub),
        ("multi._domainkey", "v=DKIM1; p=" + rsa1024_pub),
        ("bits8192._domainkey", "v=DKIM1; p=" + modulus_key(8192)),
        ("bits8193._domainkey", "v=DKIM1; p=" + modulus_key(8193)),
    ]
    with open(os.path.join(HERE, "keys.txt"), "w") as f:
        for name, rec in records:
            f.write("%s.dkim.test\t%s\n" % (name, rec))
    with open(ZONE, "w") as f:
        f.write("; dkim.test - DKIM keys for tests/proto/test_dkim.py; written by\n"
                "; tests/data/dkim/make.py (do not edit by hand)\n"
                "$ORIGIN dkim.test.\n$TTL 300\n"
                "@ SOA ns.good.test. hostmaster.good.test. 1 3600 600 86400 60\n"
                "@ NS ns.good.test.\n")
        for name, rec in records:
            f.write("%s TXT %s\n" % (name, txt(rec)))

    # one signature each: algorithm x canonicalisation
    for alg, sel, key in ((b"rsa-sha256", b"rsa", rsa), (b"ed25519-sha256", b"ed", ed)):
        short_alg = "rsa" if alg.startswith(b"rsa") else "ed25519"
        for hc in (b"simple", b"relaxed"):
            for bc in (b"simple", b"relaxed"):
                m = message(b"%s %s/%s" % (alg, hc, bc))
                write("%s-%s-%s.eml" % (short_alg, hc.decode(), bc.decode()),
                      sign(m, sel, key, (hc, bc), alg))
    # the same, LF line ends (mxshield dkim reads both)
    m = sign(message(b"lf line ends"), b"rsa", rsa)
    write("rsa-lf.eml", m.replace(b"\r\n", b"\n"))
    # a changed body: fail
    m = sign(message(b"tampered"), b"rsa", rsa)
    write("tampered-body.eml", m.replace(b"runs of white", b"runs of WHITE"))
    # a changed signed header: fail (signature, not body hash)
    m = sign(message(b"tampered header"), b"ed", ed, alg=b"ed25519-sha256")
    write("tampered-header.eml", m.replace(b"To: Bob", b"To: Eve"))
    # no such key: permerror; revoked key: permerror; short key: policy
    write("nokey.eml", sign(message(b"no key"), b"nokey", rsa))
    write("revoked.eml", sign(message(b"revoked"), b"revoked", rsa))
    write("short.eml", sign(message(b"short key"), b"short", short))
    write("rsa1024.eml", sign(message(b"1024 bits"), b"rsa1024", rsa1024))
    write("testing.eml", sign(message(b"testing"), b"testing", rsa))
    write("wrongtype.eml", sign(message(b"wrong key type"), b"wrongtype", rsa))
    write("multi.eml", sign(message(b"two key records"), b"multi", rsa))
    # rsa-sha1 (RFC 8301: refused)
    write("sha1.eml", sign(message(b"sha1"), b"rsa", rsa, alg=b"rsa-sha1"))
    # l=: the signed part, then text added after signing
    m = sign(message(b"body length"), b"rsa", rsa, length=True)
    write("length.eml", m)
    write("length-appended.eml", m + b"Appended by a list.\r\n")
    # x= in the past: policy
    # (dkimpy cannot write x=: it goes in through the selector's value)
    write("expired.eml", sign(message(b"expired"), b"rsa; x=%d" % (T + 100), rsa))
    # two signatures (ed25519 over rsa), oversigned Subject
    m = sign(message(b"two signatures"), b"rsa", rsa,
             include_headers=HEADERS + [b"subject"])
    write("two.eml", sign(m, b"ed", ed, (b"relaxed", b"simple"), b"ed25519-sha256"))
    # an empty body
    write("empty-body.eml", sign(message(b"empty body", body=b""), b"rsa", rsa,
                                 (b"simple", b"simple")))

    # ARC: one hop, two hops, a changed body after the second hop
    srv1, srv2 = b"mx1.dkim.test", b"mx2.dkim.test"
    m = sign(message(b"arc chain"), b"rsa", rsa)
    m = b"Authentication-Results: " + srv1 + b"; dkim=pass header.d=dkim.test\r\n" + m
    arc1 = b"".join(dkim.arc_sign(m, b"rsa", DOMAIN, rsa, srv1, timestamp=T))
    m1 = arc1 + m
    write("arc-1.eml", m1)
    m = b"Authentication-Results: " + srv2 + b"; arc=pass; dkim=pass\r\n" + m1
    arc2 = b"".join(dkim.arc_sign(m, b"rsa", DOMAIN, rsa, srv2, timestamp=T + 60))
    m2 = arc2 + m
    write("arc-2.eml", m2)
    write("arc-2-tampered.eml", m2.replace(b"runs of white", b"runs of WHITE"))
    # the first hop's sealed results changed: the newest AMS holds, the seals do not
    write("arc-2-badseal.eml", m2.replace(b"i=1; mx1.dkim.test; dkim=pass", b"i=1; mx1.dkim.test; dkim=fail", 1))

    # ARC_MAX_INSTANCES: a chain of 50 hops (the seals' shared prefix is
    # hashed once, so 50 seals cost about what one costs)
    m = sign(message(b"fifty hops"), b"rsa", rsa)
    for hop in range(1, 51):
        srv = b"mx%d.dkim.test" % hop
        m = (b"Authentication-Results: " + srv + (b"; arc=pass" if hop > 1 else b"; dkim=pass")
             + b"\r\n" + m)
        m = b"".join(dkim.arc_sign(m, b"rsa", DOMAIN, rsa, srv, timestamp=T + hop)) + m
    write("arc-50.eml", m)

    # what dkimpy itself makes of them (a cross-check, printed)
    for name in sorted(os.listdir(HERE)):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(HERE, name), "rb") as f:
            data = f.read()
        try:
            if name.startswith("arc"):
                res = dkim.arc_verify(data, dnsfunc=dnsfunc(records))[0]
            else:
                res = dkim.verify(data, dnsfunc=dnsfunc(records))
        except Exception as e:
            res = "exception: %s" % e
        print("dkimpy %-28s %s" % (name, res))
    print("written: keys.txt, dkim.test.zone, %d messages"
          % len([n for n in os.listdir(HERE) if n.endswith(".eml")]))


def dnsfunc(records):
    table = {}
    for name, rec in records:
        table.setdefault(name + ".dkim.test.", []).append(rec.encode())

    def get(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        recs = table.get(name) or table.get(name + ".")
        return recs[0] if recs else None
    return get


if __name__ == "__main__":
    main()
