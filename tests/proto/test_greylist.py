"""Greylisting through the daemon: postgrey's behaviour with a controllable
clock (policy_test_time, enabled by greylist_allow_test_time as postgrey's
policy-test does), persistence across restarts and kill -9, expiry under
load, whitelists, the greylist command and a damaged database."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

from harness import DaemonTest, request

NOW = int(time.time())
TEXT = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/%s.html"
HEADER = re.compile(r"^action=PREPEND X-Greylist: delayed (\d+) seconds by mxshield-[0-9.]+ "
                    r"at mx\.our\.example; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \S+$")


SEQ = [0]


def att(t, **kw):
    """One delivery attempt at time t; each one a message of its own unless
    an instance is given (Postfix's instance attribute names a message)."""
    SEQ[0] += 1
    out = {"client_address": "192.0.2.5", "client_name": "mail.sender.example",
           "sender": "alice@sender.example", "recipient": "bob@our.example",
           "instance": "m%d" % SEQ[0], "policy_test_time": str(t)}
    out.update(kw)
    return out


class GreylistTest(DaemonTest):

    def gl_daemon(self, extra="", datadir=None, files=None):
        self.datadir = datadir or os.path.join(self.tmpdir(), "db")
        conf = ("data_directory = %s\ngreylist_allow_test_time = yes\n"
                "recipient_restrictions = greylist\n%s" % (self.datadir, extra))
        self.conf_text = conf
        return self.daemon(conf, files)

    def greylist_cli(self, d, *args):
        conf = os.path.join(d.tmp, "mxshield.conf")
        return self.run_cli("greylist", "-c", conf, *args)


class Behaviour(GreylistTest):

    def test_delay_early_retry_pass_header(self):
        d = self.gl_daemon()
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT % "our.example")
        self.assertEqual(c.ask(att(NOW + 120)), TEXT % "our.example")
        got = c.ask(att(NOW + 301, instance="msg1"))
        m = HEADER.match(got)
        self.assertIsNotNone(m, got)
        self.assertEqual(m.group(1), "301")
        # the header goes on a message once: the same message again
        self.assertEqual(c.ask(att(NOW + 302, instance="msg1")), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW + 400)), "action=DUNNO")
        line = d.wait_log("Greylisted")
        self.assertIn("NOQUEUE: reject: RCPT from mail.sender.example[192.0.2.5]: 450 4.2.0", line)

    def test_retry_after_window_starts_over(self):
        d = self.gl_daemon()
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT % "our.example")
        self.assertEqual(c.ask(att(NOW + 2 * 86400 + 1)), TEXT % "our.example")
        self.assertEqual(c.ask(att(NOW + 2 * 86400 + 200)), TEXT % "our.example")
        self.assertRegex(c.ask(att(NOW + 2 * 86400 + 302)), HEADER)

    def test_subnet_keys(self):
        d = self.gl_daemon()
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT % "our.example")
        # another host of the same /24 retries: it passes
        self.assertRegex(c.ask(att(NOW + 300, client_address="192.0.2.200")), HEADER)
        # another network starts its own wait
        self.assertEqual(c.ask(att(NOW + 300, client_address="192.0.3.5")), TEXT % "our.example")
        # IPv6: the /64
        self.assertEqual(c.ask(att(NOW, client_address="2001:db8:1:2::5")), TEXT % "our.example")
        self.assertRegex(c.ask(att(NOW + 300, client_address="2001:db8:1:2:ffff::9")), HEADER)
        self.assertEqual(c.ask(att(NOW + 300, client_address="2001:db8:1:3::5")),
                         TEXT % "our.example")

    def test_sender_normalisation_in_keys(self):
        d = self.gl_daemon()
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW, sender="list+bounce-17@lists.example")),
                         TEXT % "our.example")
        # the next VERP bounce address of the same list is the same key
        self.assertRegex(c.ask(att(NOW + 300, sender="list+bounce-18@lists.example")), HEADER)

    def test_lookup_by_host(self):
        d = self.gl_daemon("greylist_lookup_by_host = yes\n")
        c = self.client(d)
        c.ask(att(NOW))
        self.assertEqual(c.ask(att(NOW + 300, client_address="192.0.2.200")),
                         TEXT % "our.example")

    def test_auto_whitelist(self):
        d = self.gl_daemon("greylist_auto_whitelist_clients = 2\n")
        c = self.client(d)
        t = NOW
        for i in range(2):
            rcpt = "user%d@our.example" % i
            self.assertEqual(c.ask(att(t, recipient=rcpt)), TEXT % "our.example")
            self.assertRegex(c.ask(att(t + 300, recipient=rcpt)), HEADER)
            t += 3600
        # a new triplet from that client passes at once
        self.assertEqual(c.ask(att(t, recipient="new@our.example")), "action=DUNNO")
        self.assertIsNotNone(d.wait_log("whitelisted: mail.sender.example[192.0.2.5]"))
        # other clients are still greylisted
        self.assertEqual(c.ask(att(t, client_address="198.51.100.1")), TEXT % "our.example")

    def test_defer_if_permit_lets_a_later_reject_win(self):
        d = self.daemon("data_directory = %s\n"
                        "recipient_restrictions = greylist, check_recipient_access "
                        "inline:{ { spam@our.example = REJECT no thanks } }\n"
                        % os.path.join(self.tmpdir(), "db"))
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW, recipient="spam@our.example")),
                         "action=554 5.7.1 <spam@our.example>: Recipient address rejected: "
                         "no thanks")
        # postgrey's --greylist-action=DEFER: at once
        d2 = self.gl_daemon("greylist_action = defer\n"
                            "greylist_text = 4.7.1 Come back in %s seconds\n")
        self.assertEqual(self.client(d2).ask(att(NOW)),
                         "action=450 4.7.1 Come back in 300 seconds")

    def test_selective_greylisting(self):
        d = self.daemon("data_directory = %s\n"
                        "helo_restrictions = score 2 reject_non_fqdn_helo_hostname\n"
                        "recipient_restrictions = greylist\n"
                        "greylist_selective = yes\ngreylist_min_score = 2\n"
                        "score_reject_threshold = 10\n"
                        % os.path.join(self.tmpdir(), "db"))
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW, helo_name="mail.sender.example")), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, helo_name="foo")), TEXT % "our.example")


class Whitelists(GreylistTest):

    def test_files_and_manual_entries(self):
        d = self.gl_daemon("greylist_whitelist_clients = @TMP@/clients, @TMP@/clients.local\n"
                           "greylist_whitelist_recipients = @TMP@/recipients\n",
                           files={"clients": "sender.example\n/^mx[0-9]+\\.bulk\\.test$/\n"
                                             "203.0.113\n",
                                  "recipients": "postmaster@\nopen.test\n"})
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_name="mx7.bulk.test")), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_name="x.test", client_address="203.0.113.9")),
                         "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_name="x.test", recipient="postmaster@x.test")),
                         "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_name="x.test", recipient="a@b.open.test")),
                         "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_name="x.test")), TEXT % "our.example")
        # the .local file appears while the daemon runs
        with open(os.path.join(d.tmp, "clients.local"), "w") as f:
            f.write("x.test\n")
        time.sleep(2.2)
        self.assertEqual(c.ask(att(NOW, client_name="x.test", recipient="z@our.example")),
                         "action=DUNNO")
        # a manual entry through the command, while the daemon runs
        rc, out, err = self.greylist_cli(d, "whitelist", "add", "198.51.100.0/24")
        self.assertEqual(rc, 0, err)
        self.assertEqual(c.ask(att(NOW, client_name="y.test", client_address="198.51.100.3")),
                         "action=DUNNO")
        rc, out, err = self.greylist_cli(d, "whitelist", "del", "198.51.100.0/24")
        self.assertEqual(rc, 0, err)
        self.assertEqual(c.ask(att(NOW, client_name="y.test", client_address="198.51.100.3")),
                         TEXT % "our.example")
        rc, out, err = self.greylist_cli(d, "whitelist", "add", "198.51.0.0/16")
        self.assertEqual(rc, 2)
        self.assertIn("/24", err)


    def test_manual_network_entries_in_every_key_mode(self):
        # a network entry applies whether triplets key on the network, the
        # host, or hashes (privacy)
        for extra in ("", "greylist_lookup_by_host = yes\n", "greylist_privacy = yes\n"):
            with self.subTest(extra=extra):
                d = self.gl_daemon(extra)
                c = self.client(d)
                ask = att(NOW, client_name="y.test", client_address="198.51.100.3")
                self.assertEqual(c.ask(ask), TEXT % "our.example")
                rc, out, err = self.greylist_cli(d, "whitelist", "add", "198.51.100.0/24")
                self.assertEqual(rc, 0, err)
                self.assertEqual(c.ask(ask), "action=DUNNO")
                rc, out, err = self.greylist_cli(d, "whitelist", "add", "198.51.100.7")
                self.assertEqual(rc, 0, err)
                rc, out, err = self.greylist_cli(d, "whitelist", "del", "198.51.100.0/24")
                self.assertEqual(rc, 0, err)
                self.assertEqual(c.ask(ask), TEXT % "our.example")
                self.assertEqual(c.ask(att(NOW, client_name="y.test",
                                           client_address="198.51.100.7")), "action=DUNNO")
                # removing what is not there says so
                rc, out, err = self.greylist_cli(d, "whitelist", "del", "198.51.100.0/24")
                self.assertEqual(rc, 1, out)
                self.assertIn("not whitelisted", err)
                d.stop()
                d.expect_exit = True


class State(GreylistTest):

    def test_persistence_across_restart(self):
        d = self.gl_daemon()
        self.assertEqual(self.client(d).ask(att(NOW)), TEXT % "our.example")
        d.stop()
        d.expect_exit = True
        d2 = self.gl_daemon(datadir=self.datadir)
        self.assertRegex(self.client(d2).ask(att(NOW + 300)), HEADER)

    def test_kill_9_during_a_burst_loses_nothing_acknowledged(self):
        # commit per write, and group commit (with store_sync_commits)
        for extra in ("", "store_sync_commits = yes\n"):
            with self.subTest(extra=extra):
                self.kill_9_during_a_burst(extra)

    def kill_9_during_a_burst(self, extra):
        d = self.gl_daemon(extra)
        acked = []
        lock = threading.Lock()

        def burst(n):
            c = d.connect()
            try:
                for i in range(100000):
                    r = "r%d-%d@our.example" % (n, i)
                    if c.ask(att(NOW, recipient=r)) != TEXT % "our.example":
                        return
                    with lock:
                        acked.append(r)
            except Exception:
                return
            finally:
                c.close()

        threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.expect_exit = True
        for t in threads:
            t.join(10)
        self.assertGreater(len(acked), 100)
        d2 = self.gl_daemon(datadir=self.datadir)
        c = self.client(d2)
        lost = [r for r in acked if not HEADER.match(c.ask(att(NOW + 300, recipient=r)))]
        self.assertEqual(lost, [], "%d of %d acknowledged triplets lost" % (len(lost), len(acked)))

    def test_group_commit_pipelined_and_concurrent(self):
        # with store_sync_commits the decisions of one pass of the event
        # loop share one commit and one flush; each answer still comes
        # after its record, in order per client
        d = self.gl_daemon("store_sync_commits = yes\n")
        clients = [d.connect() for _ in range(4)]
        for n, c in enumerate(clients):
            c.send(b"".join(request(att(NOW, recipient="g%d-%d@our.example" % (n, i)))
                            for i in range(150)))
        for c in clients:
            for i in range(150):
                self.assertEqual(c.reply(), TEXT % "our.example")
            c.close()
        c = self.client(d)
        for n in range(4):
            for i in (0, 77, 149):
                self.assertRegex(c.ask(att(NOW + 300, recipient="g%d-%d@our.example" % (n, i))),
                                 HEADER)
        rc, out, err = self.greylist_cli(d, "stats")
        self.assertEqual(rc, 0, err)
        self.assertIn("triplets: 600\n", out)

    def test_client_done_sending_while_its_record_is_written(self):
        for extra in ("", "store_sync_commits = yes\n"):
            with self.subTest(extra=extra):
                self.client_done_sending(extra)

    def client_done_sending(self, extra):
        # the request and the end of input arrive together: the answer
        # still goes out, then the connection closes
        d = self.gl_daemon(extra)
        c = d.connect()
        c.send(request(att(NOW, recipient="half@our.example")) * 2)
        c.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(c.reply(), TEXT % "our.example")
        self.assertEqual(c.reply(), TEXT % "our.example")
        self.assertTrue(c.wait_closed())
        # gone before its answer: the record is written all the same
        c = d.connect()
        c.send(request(att(NOW, recipient="gone@our.example")))
        c.abort()
        time.sleep(0.2)
        self.assertDaemonServes(d, "after a client left mid-decision")
        self.assertRegex(self.client(d).ask(att(NOW + 300, recipient="gone@our.example")),
                         HEADER)

    def test_expiry_in_batches_under_load(self):
        d = self.gl_daemon("greylist_expire_batch = 200\n")
        c = self.client(d)
        old = NOW - 40 * 86400
        for i in range(1000):
            c.ask(att(old, recipient="old%d@our.example" % i))
        for i in range(50):
            c.ask(att(NOW, recipient="new%d@our.example" % i))
        # answers keep coming while the old records go, a few hundred a second
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self.assertEqual(c.ask(att(NOW, recipient="new0@our.example")), TEXT % "our.example")
            rc, out, err = self.greylist_cli(d, "stats")
            self.assertEqual(rc, 0, err)
            if "triplets: 50\n" in out:
                break
            time.sleep(0.3)
        self.assertIn("triplets: 50\n", out)
        self.assertIsNotNone(d.wait_log("greylist: expired"))

    def test_check_records_nothing(self):
        d = self.gl_daemon()
        conf = os.path.join(d.tmp, "mxshield.conf")
        rc, out, err = self.run_cli("check", "-c", conf, "client_address=192.0.2.5",
                                    "sender=a@sender.example", "recipient=bob@our.example")
        self.assertEqual(rc, 0, err)
        self.assertIn("action=450 4.2.0 Greylisted", out)
        self.assertIn("nothing recorded", out)
        rc, out, err = self.greylist_cli(d, "stats")
        self.assertIn("triplets: 0\n", out)

    def test_list_stats_purge(self):
        d = self.gl_daemon()
        c = self.client(d)
        c.ask(att(NOW))
        c.ask(att(NOW + 300))
        c.ask(att(NOW, recipient="other@our.example"))
        c.ask(att(NOW + 300, recipient="other@our.example", client_address="198.51.100.9"))
        rc, out, err = self.greylist_cli(d, "list", "--recipient", "bob@our.example")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count("\n"), 1, out)
        self.assertIn("192.0.2.0 alice@sender.example bob@our.example", out)
        self.assertIn("passed", out)
        rc, out, err = self.greylist_cli(d, "stats")
        self.assertIn("triplets: 3\n", out)
        self.assertIn("passed: 1\n", out)
        self.assertIn("pending: 2\n", out)
        self.assertIn("retried from another network: 1\n", out)
        rc, out, err = self.greylist_cli(d, "purge", "--all")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.greylist_cli(d, "stats")
        self.assertIn("triplets: 0\n", out)

    def test_privacy(self):
        d = self.gl_daemon("greylist_privacy = yes\n")
        c = self.client(d)
        c.ask(att(NOW))
        rc, out, err = self.greylist_cli(d, "list")
        self.assertNotIn("sender.example", out)
        self.assertRegex(out, r"^[0-9a-f]{40} first=")


class Damaged(GreylistTest):

    def damage(self):
        os.makedirs(self.dbdir, exist_ok=True)
        with open(os.path.join(self.dbdir, "data.mdb"), "wb") as f:
            f.write(b"this is not an LMDB file" * 1000)

    def test_refuse(self):
        self.dbdir = os.path.join(self.tmpdir(), "db")
        self.damage()
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = inet:127.0.0.1:1\ndata_directory = %s\n"
                    "store_on_corrupt = refuse\nrecipient_restrictions = greylist\n" % self.dbdir)
        rc, out, err = self.run_cli("serve", "-c", conf, timeout=5)
        self.assertEqual(rc, 1)
        self.assertIn(self.dbdir, err)
        self.assertIn("cannot open database", err)

    def test_move_aside(self):
        self.dbdir = os.path.join(self.tmpdir(), "db")
        self.damage()
        d = self.gl_daemon(datadir=self.dbdir)
        self.assertEqual(self.client(d).ask(att(NOW)), TEXT % "our.example")
        line = d.wait_log("moving it aside")
        self.assertIsNotNone(line, d.read_log())
        aside = [n for n in os.listdir(os.path.dirname(self.dbdir)) if ".corrupt-" in n]
        self.assertEqual(len(aside), 1)
