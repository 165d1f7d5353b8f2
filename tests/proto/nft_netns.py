"""nft_netns.py - run by test_ban_nft.py inside a network namespace of its
own (unshare -rn): never on the host's ruleset.

    nft_netns.py BINARY TMPDIR

Brings up lo with two IPv6 addresses, listens on port 2525 (IPv4 and
IPv6), bans through `mxshield ban add` and through the daemon following a
log, and prints one JSON object: what each probe saw."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

BINARY, TMP = sys.argv[1], sys.argv[2]
PORT = 2525
V6_BANNED, V6_OTHER = "2001:db8:1:2::9", "2001:db8:1:3::10"


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=20)


def serve(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, PORT))
    s.listen(16)

    def loop():
        while True:
            c, _ = s.accept()
            c.sendall(b"hello\n")
            c.close()
    threading.Thread(target=loop, daemon=True).start()


def probe(source, dest):
    """'open' when the server answered, 'dropped' when the SYN went
    unanswered for a second, else the error."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.bind((source, 0))
        s.connect((dest, PORT))
        return "open" if s.recv(16) == b"hello\n" else "short"
    except socket.timeout:
        return "dropped"
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


def main():
    out = {}
    sh("ip", "link", "set", "lo", "up")
    for a in (V6_BANNED, V6_OTHER):
        sh("ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad")
    serve(socket.AF_INET, "0.0.0.0")
    serve(socket.AF_INET6, "::")
    log = os.path.join(TMP, "mail.log")
    open(log, "w").close()
    conf = os.path.join(TMP, "mxshield.conf")
    with open(conf, "w") as f:
        f.write("data_directory = %s/data\nlisten = inet:127.0.0.1:10023\n"
                "control_socket =\n"
                "mynetworks = 127.0.0.1/32\nban_nftables = yes\nban_nftables_ports = %d\n"
                "ban_log = %s\nban_maxretry = 3\n" % (TMP, PORT, log))

    out["before"] = [probe("127.0.0.9", "127.0.0.1"), probe(V6_BANNED, V6_OTHER)]
    r = sh(BINARY, "ban", "-c", conf, "add", "127.0.0.9")
    out["add4"] = [r.returncode, r.stderr.strip()]
    r = sh(BINARY, "ban", "-c", conf, "add", "2001:db8:1:2::5", "--time", "1h")
    out["add6"] = [r.returncode, r.stderr.strip()]
    out["ruleset"] = sh("nft", "list", "table", "inet", "mxshield").stdout
    out["banned"] = [probe("127.0.0.9", "127.0.0.1"), probe("127.0.0.10", "127.0.0.1"),
                     probe(V6_BANNED, V6_OTHER), probe(V6_OTHER, V6_OTHER)]
    # a ban again with a new time: the element's timeout is replaced
    r = sh(BINARY, "ban", "-c", conf, "add", "127.0.0.9", "--time", "2h")
    out["readd"] = [r.returncode, r.stderr.strip()]
    out["ruleset2"] = sh("nft", "list", "set", "inet", "mxshield", "host4").stdout
    r = sh(BINARY, "ban", "-c", conf, "del", "127.0.0.9")
    out["del"] = [r.returncode, r.stderr.strip()]
    out["after_del"] = probe("127.0.0.9", "127.0.0.1")

    # the daemon: failed AUTH lines in the log it follows
    d = subprocess.Popen([BINARY, "serve", "-c", conf], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        with open(log, "a") as f:
            for i in range(3):
                f.write("Dec  5 06:10:0%d mx postfix/smtpd[123]: warning: unknown[127.0.0.11]:"
                        " SASL PLAIN authentication failed: authentication failure\n" % i)
        deadline = time.monotonic() + 3
        state = probe("127.0.0.11", "127.0.0.1")
        while state == "open" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = probe("127.0.0.11", "127.0.0.1")
        out["daemon"] = [state, probe("127.0.0.12", "127.0.0.1")]
    finally:
        d.terminate()
        out["daemon_log"] = d.communicate(timeout=10)[0].decode(errors="replace")
    print(json.dumps(out))


main()
