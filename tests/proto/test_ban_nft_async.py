"""Auto-ban with nftables: the policy service never waits for nft.  The
firewall command here sets up its table at start and then hangs on every
update (as an nft stuck on a busy netlink socket, or a wrapper waiting for
something, would): while a ban's update hangs, every policy request is
still answered at once, and the client is refused by reject_banned_client
from the store."""

import os
import time

from harness import DaemonTest

FAKE_NFT = """#!/bin/sh
# the table and its sets at start: done; a later batch: kept, then hang
in=$(cat)
case "$in" in
*"add chain"*) exit 0 ;;
esac
printf '%s\\n' "$in" > "$(dirname "$0")/batches.tmp"
mv "$(dirname "$0")/batches.tmp" "$(dirname "$0")/batches"
# what it holds of the daemon's: sockets (its own stdin, stdout are pipes)
ls -l /proc/$$/fd | grep -c socket: > "$(dirname "$0")/sockets.tmp"
mv "$(dirname "$0")/sockets.tmp" "$(dirname "$0")/sockets"
exec sleep 30
"""


class NftHangs(DaemonTest):

    def test_policy_answers_while_nft_hangs(self):
        tmp = self.tmpdir()
        fake = os.path.join(tmp, "fake-nft")
        with open(fake, "w") as f:
            f.write(FAKE_NFT)
        os.chmod(fake, 0o755)
        log = os.path.join(tmp, "maillog")
        open(log, "w").close()
        d = self.daemon("ban_nftables = yes\nban_nftables_command = %s\n"
                        "ban_log = %s\nban_maxretry = 3\n"
                        "client_restrictions = reject_banned_client\n" % (fake, log))
        c = self.client(d)
        self.assertIn("DUNNO", c.ask({"client_address": "192.0.2.11"}))
        with open(log, "a") as f:
            for i in range(3):
                f.write("%s mx postfix/smtpd[123]: warning: unknown[192.0.2.11]:"
                        " SASL LOGIN authentication failed: authentication failure\n"
                        % time.strftime("%b %e %H:%M:%S"))
        self.assertIsNotNone(d.wait_log("ban: client=192.0.2.11", timeout=5), d.read_log())
        # the update reached the command, which now hangs (up to 10 s before
        # it is killed): meanwhile every request is answered at once
        batches = os.path.join(tmp, "batches")
        deadline = time.monotonic() + 5
        while not os.path.exists(batches) and time.monotonic() < deadline:
            time.sleep(0.02)
        with open(batches) as f:
            self.assertIn("add element inet mxshield host4 { 192.0.2.11", f.read())
        # nft holds none of the daemon's sockets (its listeners, this
        # client's connection, the resolver's)
        sockets = os.path.join(tmp, "sockets")
        while not os.path.exists(sockets) and time.monotonic() < deadline:
            time.sleep(0.02)
        with open(sockets) as f:
            self.assertEqual(f.read().strip(), "0")
        slowest = 0.0
        for i in range(20):
            t0 = time.monotonic()
            reply = c.ask({"client_address": "192.0.2.%d" % (20 + i)})
            slowest = max(slowest, time.monotonic() - t0)
            self.assertIn("DUNNO", reply)
            time.sleep(0.05)
        self.assertLess(slowest, 0.5)
        self.assertIn("554", c.ask({"client_address": "192.0.2.11"}))
