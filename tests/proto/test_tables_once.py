"""A table named in several ways (hash:F, texthash:F, lmdb:F read the same
source file) is loaded once: a duplicate entry is one warning, not one per
name, at start-up and when the file changes."""

import os
import time

from harness import DaemonTest


class TableOnce(DaemonTest):

    def test_duplicate_entry_warned_once(self):
        tmp = self.tmpdir()
        acc = os.path.join(tmp, "access")
        with open(acc, "w") as f:
            f.write("a@b.example REJECT\na@b.example OK\n")
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("sender_restrictions = check_sender_access hash:%s\n"
                    "recipient_restrictions = check_sender_access texthash:%s,\n"
                    "    check_recipient_access lmdb:%s, check_sender_access hash:%s\n"
                    % (acc, acc, acc, acc))
        st, out, err = self.run_cli("config", "-c", conf)
        self.assertEqual(st, 0, err)
        self.assertEqual(err.count("duplicate entry"), 1, err)
        # and it is one table: the first value wins under every name
        st, out, err = self.run_cli("check", "-c", conf, "sender=a@b.example",
                                    "recipient=x@our.example", "client_address=192.0.2.1")
        self.assertIn("action=554 5.7.1 <a@b.example>: Sender address rejected", out)

    def test_daemon_reload_warns_once(self):
        d = self.daemon("sender_restrictions = check_sender_access hash:@TMP@/access, "
                        "check_sender_access texthash:@TMP@/access\n",
                        files={"access": "a@b.example OK\n"})
        c = self.client(d)
        self.assertEqual(c.ask({"sender": "a@b.example"}), "action=DUNNO")
        time.sleep(1.1)
        with open(os.path.join(d.tmp, "access"), "w") as f:
            f.write("a@b.example REJECT\na@b.example OK\nz@b.example OK\n")
        d.wait_log("duplicate entry", timeout=5)
        time.sleep(1.5)
        self.assertEqual(d.read_log().count("duplicate entry"), 1, d.read_log()[-2000:])
