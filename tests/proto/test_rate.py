"""check_rate through the daemon: counting per client address, client
network, SASL user, sender and recipient domain in the store, the limit
itself passes and one more does not, each action, requests without the
value not counted, counters kept across a restart; reject_banned_client
answers from bans made by `mxshield ban add` while the daemon runs."""

import os
import time

from harness import DaemonTest, request

DUNNO = "action=DUNNO"
OVER = "action=450 4.7.1 Rate limit exceeded: %d per %ds for %s"
REJECT = "action=554 5.7.1 Rate limit exceeded: %d per %ds for %s"


def req(client="192.0.2.1", **kw):
    out = {"client_address": client, "client_name": "unknown", "sasl_username": None}
    out.update(kw)
    return out


class RateTest(DaemonTest):

    def rate_daemon(self, conf, datadir=None):
        self.datadir = datadir or os.path.join(self.tmpdir(), "db")
        return self.daemon("data_directory = %s\n%s" % (self.datadir, conf))

    def test_client_limit_and_one_past(self):
        d = self.rate_daemon("client_restrictions = check_rate client=3/1m\n")
        self.assertAnswers(d, [
            (req(), DUNNO), (req(), DUNNO), (req(), DUNNO),
            (req(), OVER % (3, 60, "client")),
            (req(client="192.0.2.2"), DUNNO),
            (req(), OVER % (3, 60, "client")),
        ])
        # the counter is in the store: a restart keeps it
        d.stop()
        d.expect_exit = True
        d2 = self.rate_daemon("client_restrictions = check_rate client=3/1m\n",
                              datadir=self.datadir)
        self.assertAnswers(d2, [(req(), OVER % (3, 60, "client")),
                                (req(client="192.0.2.2"), DUNNO)])

    def test_group_commit_counts_every_request_of_a_pass(self):
        # with store_sync_commits the writes of one pass of the loop are
        # committed together and reads see only committed records: the
        # requests of one burst must still each count once
        d = self.rate_daemon("store_sync_commits = yes\n"
                             "client_restrictions = check_rate client=5/1m\n")
        clients = [self.client(d) for _ in range(20)]
        data = request(req())
        for c in clients:
            c.send(data)
        got = [c.reply() for c in clients]
        self.assertEqual(got.count(DUNNO), 5, got)
        self.assertEqual(got.count(OVER % (5, 60, "client")), 15, got)

    def test_client_net_counts_an_ipv6_64(self):
        d = self.rate_daemon("client_restrictions = check_rate client_net=2/1h/reject\n")
        self.assertAnswers(d, [
            (req(client="2001:db8:1:2::1"), DUNNO),
            (req(client="2001:db8:1:2::ffff"), DUNNO),
            (req(client="2001:db8:1:2:3::9"), REJECT % (2, 3600, "client_net")),
            (req(client="2001:db8:1:3::1"), DUNNO),
        ])

    def test_sasl_user_sender_and_recipient_domain(self):
        d = self.rate_daemon(
            "recipient_restrictions = check_rate sasl_username=2/1d/reject,"
            " check_rate recipient_domain=3/1h\n"
            "sender_restrictions = check_rate sender=1/1h/warn\n")
        self.assertAnswers(d, [
            # without a login nothing is counted for sasl_username
            (req(recipient="a@x.example"), DUNNO),
            (req(recipient="b@x.example", sasl_username="alice"), DUNNO),
            (req(recipient="c@y.example", sasl_username="ALICE"), DUNNO),
            (req(recipient="d@y.example", sasl_username="alice"),
             REJECT % (2, 86400, "sasl_username")),
            (req(recipient="e@y.example", sasl_username="bob"), DUNNO),
            # y.example: c, e (d was refused before this rule), then f, g
            (req(recipient="f@y.example"), DUNNO),
            (req(recipient="g@y.example"), OVER % (3, 3600, "recipient_domain")),
        ])
        # warn: logged, never refused
        self.assertIsNotNone(d.wait_log("check_rate:", "over the limit"))

    def test_bad_argument_is_refused(self):
        code, out, err = self.run_cli("config", "-o", "client_restrictions=check_rate client=5",
                                      "--embedded-default")
        self.assertNotEqual(code, 0)
        self.assertIn("expected LIMIT/WINDOW", err)

    def test_ban_add_while_running(self):
        d = self.rate_daemon("client_restrictions = reject_banned_client\n")
        self.assertAnswers(d, [(req(client="203.0.113.5"), DUNNO)])
        code, out, err = self.run_cli("ban", "-c", d.conf_path, "add", "203.0.113.5",
                                      "--time", "1h")
        self.assertEqual(code, 0, err)
        self.assertIn("ban: client=203.0.113.5/32, reason=manual, time=3600s", err)
        # the remaining time counts down from 3600 (a slow host may
        # have crossed a second between the add and the question)
        c = self.client(d)
        got = c.ask(req(client="203.0.113.5"))
        self.assertIn(got, ["action=554 5.7.1 Client host rejected: banned for %d more "
                            "seconds (manual)" % n for n in (3600, 3599, 3598)])
        self.assertEqual(c.ask(req(client="203.0.113.6")), DUNNO)
        c.close()
        code, out, err = self.run_cli("ban", "-c", d.conf_path, "del", "203.0.113.5")
        self.assertEqual(code, 0, err)
        self.assertAnswers(d, [(req(client="203.0.113.5"), DUNNO)])
        code, out, err = self.run_cli("ban", "-c", d.conf_path, "add", "not-an-address")
        self.assertNotEqual(code, 0)
        self.assertIn("not an address", err)
