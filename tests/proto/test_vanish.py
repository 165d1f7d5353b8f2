"""Clients that vanish while their work is pending: DNS lookups still out
(a scripted server answers late) and greylist writes waiting for their
commit (store_sync_commits: one commit per pass of the loop).  Clients
close (FIN) or reset (RST) at once, at about the time the answers arrive,
or with requests pipelined; others asking the same lookups stay and must
get their answers.  The daemon must survive, log no sanitizer report
(make proto-asan runs this against the ASan+UBSan build), answer the next
client correctly and exit cleanly on SIGTERM."""

import os
import random
import signal
import socket
import threading
import time

import dnsserver
from harness import DaemonTest, request

DELAY = 0.3
GREYLISTED = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def attrs(i, sender="alice"):
    return {"client_address": "192.0.2.%d" % (10 + i % 20), "client_name": "mail.sender.example",
            "sender": "%s@sender.example" % sender, "recipient": "bob@our.example",
            "instance": "v%d" % i}


class Vanish(DaemonTest):

    def setUp(self):
        self.resp = dnsserver.Responder({}, delay=DELAY).start()
        self.addCleanup(self.resp.stop)
        self.db = os.path.join(self.tmpdir(), "db")
        self.d = self.daemon("dns_resolver = %s\n"
                             "data_directory = %s\n"
                             "store_sync_commits = yes\n"
                             "client_restrictions = reject_rbl_client dnsbl.test\n"
                             "sender_restrictions = reject_rhsbl_sender dbl.test\n"
                             "recipient_restrictions = greylist\n"
                             % (self.resp.addr, self.db))

    def assertNoSanitizerReport(self, when):
        log = self.d.read_log()
        for word in SANITIZER:
            self.assertNotIn(word, log, "%s:\n%s" % (when, log[-4000:]))

    def vanish(self, i, how, after):
        """Send a request (how many: pipelined), wait, then go: FIN or RST."""
        try:
            c = self.d.connect()
            n = 5 if how == "pipelined" else 1
            c.send(b"".join(request(attrs(i)) for _ in range(n)))
            if after:
                time.sleep(after)
            if how == "rst":
                c.abort()
            else:
                c.close()
        except OSError as e:
            self.errors.append("client %d: %s" % (i, e))

    def stay(self, i):
        """A client asking what vanished clients asked: it gets its answer."""
        try:
            c = self.d.connect(timeout=5 + 10 * DELAY)
            self.answers.append(c.ask(attrs(i)))
            c.close()
        except Exception as e:
            self.errors.append("staying client %d: %s" % (i, e))

    def test_clients_vanish_with_dns_and_commits_pending(self):
        rnd = random.Random(11)
        self.errors, self.answers = [], []
        for wave in range(3):
            threads = []
            for i in range(60):
                if i % 10 == 9:
                    t = threading.Thread(target=self.stay, args=(i,))
                else:
                    how = ("fin", "rst", "pipelined")[i % 3]
                    # at once, while the lookups are out, or about when the
                    # answers arrive and the greylist writes wait for their commit
                    after = (0, rnd.uniform(0, DELAY),
                             DELAY + rnd.uniform(-0.05, 0.1))[(i // 3) % 3]
                    t = threading.Thread(target=self.vanish, args=(i, how, after))
                threads.append(t)
                t.start()
            for t in threads:
                t.join(30)
            self.assertTrue(self.d.alive(), "daemon died in wave %d:\n%s"
                            % (wave, self.d.read_log()[-4000:]))
        self.assertEqual(self.errors, [])
        self.assertEqual(self.answers, [GREYLISTED] * 18)

        # every late answer has arrived; nothing went wrong meanwhile
        time.sleep(3 * DELAY)
        self.assertNoSanitizerReport("after the clients vanished")
        c = self.client(self.d, timeout=5 + 10 * DELAY)
        self.assertEqual(c.ask(attrs(99, sender="carol")), GREYLISTED)
        c.close()

        # and a clean exit: no leak or error report at shutdown
        self.d.expect_exit = True
        self.d.signal(signal.SIGTERM)
        self.assertEqual(self.d.wait_exit(10), 0, self.d.read_log()[-4000:])
        self.assertNoSanitizerReport("at exit")
