"""dkimkeys.py - DKIM keys for the scenario tests: made by `mxshield dkim
keygen`, their records served by a private NSD, verified by `mxshield dkim
--json` (ours) or by python3-dkim from the same records (theirs).

    records, lines = make_keys(test, domain, keydir, (("r", ["--bits", "1024"]), ...))
    nsd = serve(test, domain, lines)
    dkim.verify(msg, dnsfunc=dnsfunc(records))
    answer = verify_ours(test, keydir, msg, nsd.addr)
"""

import json
import os
import re
import subprocess

import dnsserver
from harness import BINARY


def strings_of(line):
    """The quoted strings of a zone-file TXT line, unescaped."""
    inner = line[line.index("(") + 1:line.rindex(")")]
    return [re.sub(r"\\(.)", r"\1", s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', inner)]


def make_keys(test, domain, keydir, specs):
    """A key per (selector, keygen options) in keydir: the records by
    query name, and the zone lines keygen printed, in that order."""
    records, lines = {}, []
    for sel, opts in specs:
        p = subprocess.run([BINARY, "dkim", "keygen", domain, sel, "--dir", keydir] + opts,
                           capture_output=True, text=True, timeout=60)
        test.assertEqual(p.returncode, 0, p.stderr)
        lines.append(p.stdout.strip())
        records["%s._domainkey.%s." % (sel, domain)] = "".join(strings_of(lines[-1]))
    return records, lines


def serve(test, domain, lines):
    """A started NSD serving domain with the zone lines, stopped at cleanup."""
    zones = test.tmpdir()
    with open(os.path.join(zones, domain + ".zone"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n@ SOA ns.%s. h.%s. 1 3600 600 86400 60\n@ NS ns.%s.\n"
                % (domain, domain, domain, domain) + "\n".join(lines) + "\n")
    nsd = dnsserver.NSD(zones_dir=zones).start()
    test.addCleanup(nsd.stop)
    return nsd


def dnsfunc(records):
    """python3-dkim's DNS lookup, answered from records."""
    return lambda name, timeout=5: records.get(name.decode(), "").encode()


def verify_ours(test, d, msg, resolver):
    """`mxshield dkim --json` on msg (written into d): its JSON answer."""
    path = os.path.join(d, "verify.eml")
    with open(path, "wb") as f:
        f.write(msg)
    rc, out, err = test.run_cli("dkim", "--resolver", resolver, "--json", path, timeout=30)
    test.assertEqual(rc, 0, err)
    return json.loads(out.strip().splitlines()[-1])
