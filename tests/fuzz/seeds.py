#!/usr/bin/python3
"""Write the fuzzing seed corpora (tests/fuzz/corpus/<target>/) from the
repository's own test data: SPF records of tests/data/dns/spf.test.zone,
DNS answers packed by hand, a policy request, the example configuration,
the whitelist files.  Run from the top of the repository; idempotent."""
import os
import re
import struct

ROOT = os.path.join("tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def qname(n):
    out = b""
    for label in n.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def packet(name, qtype, answers, rcode=0, tc=0):
    """A response: header, question, answer records (type, rdata)."""
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    p = struct.pack(">HHHHHH", 0x1234, flags, 1, len(answers), 0, 0)
    p += qname(name) + struct.pack(">HH", qtype, 1)
    for t, rdata in answers:
        p += b"\xc0\x0c" + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
    return p


def dns_seeds():
    types = {1: 0, 28: 1, 15: 2, 12: 3, 16: 4, 5: 5, 6: 6}   # fuzz_dns's first byte
    name = "example.com"
    seeds = {
        "a": (1, [(1, bytes([192, 0, 2, 1])), (1, bytes([192, 0, 2, 2]))]),
        "aaaa": (28, [(28, bytes.fromhex("20010db8000000000000000000000001"))]),
        "mx": (15, [(15, struct.pack(">H", 10) + qname("mx1.example.com")),
                    (15, struct.pack(">H", 20) + b"\x03mx2\xc0\x0c")]),
        "ptr": (12, [(12, qname("host.example.com"))]),
        "txt": (16, [(16, b"\x0fv=spf1 mx -all\x05 ~all")]),
        "cname": (1, [(5, qname("other.example.com")), (1, bytes([192, 0, 2, 9]))]),
    }
    for n, (t, ans) in seeds.items():
        put("fuzz_dns", n, bytes([types[t]]) + packet(name, t, ans))
    put("fuzz_dns", "nxdomain", bytes([0]) + packet(name, 1, [], rcode=3))
    put("fuzz_dns", "servfail", bytes([0]) + packet(name, 1, [], rcode=2))
    put("fuzz_dns", "truncated", bytes([4]) + packet(name, 16, [], tc=1))
    put("fuzz_dns", "loop", bytes([2]) + packet(name, 15, [(15, b"\x00\x0a\xc0\x2d")]))


def spf_seeds():
    recs = []
    with open("tests/data/dns/spf.test.zone") as f:
        for line in f:
            m = re.match(r'^\S+\s+TXT\s+(.*)$', line.strip())
            if m:
                recs.append("".join(re.findall(r'"([^"]*)"', m.group(1))))
    # each seed: one record for the sender's domain, the rest for the others
    for i, r in enumerate(recs):
        others = recs[i + 1:i + 4] + recs[:2]
        put("fuzz_spf", "rec%02d" % i, bytes([i % 32]) + "\n".join([r] + others).encode())
    # "@sender" / "@helo" lines: names past RFC 5321's sizes reach the macros
    local = "abcdefghi." * 192 + "x"
    sized = {
        "hostile-macros": "v=spf1 a:" + "%{s}" * 505 + " -all\n@sender " + local + "@example.com",
        "long-local-exists": "v=spf1 exists:%{l}.%{d} exists:%{lr-}.x.%{d2} -all\n@sender "
                             + "a." * 33 + "@example.com",
        "long-helo": "v=spf1 exists:%{h}.%{d} a:%{H}.%{d} -all\n@helo " + "h." * 130
                     + "example.com",
        "long-domain": "v=spf1 -all\n@sender u@" + "d." * 127 + "example.com",
        "exp-long": "v=spf1 -all exp=%{l}.example.com\n%{s}%{l}%{h}%{S}%{L}%{c}%{r}%{t}\n"
                    "@sender " + "q" * 70 + "@example.com",
    }
    for name, text in sized.items():
        put("fuzz_spf", name, b"\0" + text.encode())


def request_seeds():
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
           "client_address=192.0.2.1\nclient_name=mail.example.com\n"
           "reverse_client_name=mail.example.com\nhelo_name=mail.example.com\n"
           "sender=user@example.com\nrecipient=postmaster@example.net\n"
           "recipient_count=0\nqueue_id=\ninstance=123.456.7\nsize=12345\n"
           "etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
           "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
           "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
           "encryption_keysize=256\n\n")
    put("fuzz_request", "rcpt", req)
    put("fuzz_request", "twice", req + req.replace("192.0.2.1", "2001:db8::1"))
    put("fuzz_request", "bad", "noequals\n=value\nname=\n\n")


def config_seeds():
    with open("etc/mxshield.conf.example") as f:
        put("fuzz_config", "example", f.read())
    put("fuzz_config", "classes",
        "smtpd_restriction_classes = strict\nstrict = reject_unknown_client_hostname\n"
        "recipient_restrictions = check_spf, greylist, strict\n"
        "myhostname = mx.$mydomain\nmydomain = example.com\n"
        "greylist_delay = 5m\nlisten = inet:127.0.0.1:10023\n  , unix:/tmp/p.sock\n")
    put("fuzz_config", "loop", "a = $b\nb = ${a}\nmyhostname = $(a)\n")


def maps_seeds():
    kinds = ["texthash", "cidr", "regexp", "pcre", "inline", "whitelist"]

    def k(n):
        return bytes([kinds.index(n)])
    put("fuzz_maps", "texthash", k("texthash") + b"example.com OK\nuser@ REJECT no\n# c\n@example.com DUNNO\n")
    put("fuzz_maps", "cidr", k("cidr") + b"192.0.2.0/24 OK\n2001:db8::/32 REJECT\n!10.0.0.0/8 DUNNO\nif 192.0.2.0/24\n192.0.2.1 550 no\nendif\n")
    put("fuzz_maps", "regexp", k("regexp") + b"/^user@(.*)$/ REJECT $1\n!/x/ OK\nif /a/\n/b/i DUNNO\nendif\n")
    put("fuzz_maps", "pcre", k("pcre") + b"/^(?<u>[a-z]+)@example\\.com$/ PREPEND X-U: $1\n/(a+)+$/ OK\n")
    put("fuzz_maps", "inline", k("inline") + b"{ example.com = OK, { user@ = REJECT spaced text } }")
    # postgrey's formats: hostnames (and their subdomains), /regexps/,
    # CIDR, partial addresses, recipient local parts and domains
    put("fuzz_maps", "whitelist", k("whitelist") + b"# Debian's style\n"
        b"example.com\n/^mail\\d*\\.example\\.org$/\n192.0.2.0/24\n10.1\n"
        b"2001:db8::/32\npostmaster@\nabuse@example.net\n\n  spaced.example  # x\n")
    for n in ("whitelist_clients", "whitelist_recipients"):
        path = os.path.join("/etc/postgrey", n)     # Debian's postgrey package
        if os.path.exists(path):
            with open(path, "rb") as f:
                put("fuzz_maps", "debian_" + n, k("whitelist") + f.read())


def keys_seeds():
    put("fuzz_keys", "v4", b"\x00192.0.2.1\0prvs=1234abcd=User+tag123@Example.COM\0postmaster@example.net\0%s seconds, %r")
    put("fuzz_keys", "v6", b"\x09" + b"2001:db8::1\0SRS0=ab=cd=example.com=user@x.org\0user@[192.0.2.1]\0X-Greylist: delayed %t seconds by mxshield-%v at %h; %d")
    put("fuzz_keys", "cidr", b"\x02" + b"192.0.2.0/24\0192.0.2.1\0" + b"10.0.0.0/8, [2001:db8::]/32 !192.0.2.0/24\0")


def records_seeds():
    """fuzz_records: first byte kind (0 triplet, 1 client, 2 whitelist;
    0x80: a current clock), then a value: encoded, format 1 (little-endian
    host structs), and one with a negative field."""
    enc = lambda kind, *f: bytes([1, kind]) + b"".join(struct.pack(">q", v) for v in f)
    old = lambda *f: b"".join(struct.pack("<q", v) for v in f)
    put("fuzz_records", "triplet", b"\x80" + enc(1, 1700000000, 1700000300))
    put("fuzz_records", "client", b"\x81" + enc(2, 7, 1700000000))
    put("fuzz_records", "whitelist", b"\x82" + enc(3, 1700000000))
    put("fuzz_records", "triplet_v1", b"\x80" + old(1700000000, 1700000000))
    put("fuzz_records", "client_v1", b"\x01" + old(4, 990000))
    put("fuzz_records", "whitelist_v1", b"\x02" + old(1700000000))
    put("fuzz_records", "triplet_negative", b"\x80" + enc(1, -(1 << 62), 1700000000))
    # found by this target before fields were range-checked: last - first overflowed
    put("fuzz_records", "triplet_v1_overflow",
        bytes.fromhex("7eff00f153196500" "8000f15300000000" "65"))


if __name__ == "__main__":
    dns_seeds()
    spf_seeds()
    request_seeds()
    config_seeds()
    maps_seeds()
    keys_seeds()
    records_seeds()
