"""Auto-ban in nftables, inside a network namespace this test creates
(unshare -rn runs nft_netns.py there): a banned source's packets are
dropped and an unbanned one's are not, for IPv4 hosts and IPv6 /64s,
through `mxshield ban add|del` and through the daemon following a log.
The host's own ruleset is never touched (checked)."""

import json
import os
import subprocess
import sys

import harness
from harness import DaemonTest

HERE = os.path.dirname(os.path.abspath(__file__))


def host_tables():
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


class BanNft(DaemonTest):

    def test_banned_sources_dropped_in_a_namespace(self):
        before = host_tables()
        tmp = self.tmpdir()
        p = subprocess.run(["unshare", "-rn", sys.executable, os.path.join(HERE, "nft_netns.py"),
                            os.path.abspath(harness.BINARY), tmp],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        out = json.loads(p.stdout)
        log = out.get("daemon_log", "")
        self.assertEqual(out["before"], ["open", "open"])
        self.assertEqual(out["add4"][0], 0, out["add4"])
        self.assertEqual(out["add6"][0], 0, out["add6"])
        rs = out["ruleset"]
        self.assertIn("table inet mxshield", rs)
        self.assertRegex(rs, r"set host4 \{[^}]*elements = \{ 127\.0\.0\.9 timeout 10m")
        self.assertRegex(rs, r"set net6 \{[^}]*elements = \{ 2001:db8:1:2::/64 timeout 1h")
        self.assertIn("ip saddr @host4 tcp dport 2525 drop", rs)
        # banned: dropped; the neighbours: served
        self.assertEqual(out["banned"], ["dropped", "open", "dropped", "open"])
        # banned again: the timeout replaced (delete and add in one batch)
        self.assertEqual(out["readd"][0], 0, out["readd"])
        self.assertRegex(out["ruleset2"], r"127\.0\.0\.9 timeout 2h")
        self.assertEqual(out["del"][0], 0, out["del"])
        self.assertEqual(out["after_del"], "open")
        # the daemon bans from the log it follows, in nftables too
        self.assertEqual(out["daemon"], ["dropped", "open"], log)
        self.assertIn("ban: client=127.0.0.11/32, reason=auth-failed", log)
        self.assertEqual(host_tables(), before)
        self.assertNotIn("mxshield", host_tables())
