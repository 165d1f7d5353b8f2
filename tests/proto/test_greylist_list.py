"""`mxshield greylist list`: triplets keyed on the SPF domain are found by
their client, and times are printed as ISO 8601 dates in UTC."""

import os
import re
import time

import dnsserver
from harness import DaemonTest

NSD = None
NOW = 1764900000			# 2025-12-05T02:00:00Z


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


class ListByClient(DaemonTest):

    def test_spf_keyed_triplet_found_by_client(self):
        db = os.path.join(self.tmpdir(), "db")
        d = self.daemon("dns_resolver = %s\ndata_directory = %s\n"
                        "greylist_allow_test_time = yes\n"
                        "recipient_restrictions = check_spf, greylist\n" % (NSD.addr, db))
        c = self.client(d)
        got = c.ask({"client_address": "192.0.2.9", "sender": "eve@pass.spf.test",
                     "recipient": "bob@our.example", "helo_name": "mail.example",
                     "policy_test_time": str(NOW), "instance": "a1"})
        self.assertTrue(got.startswith("action=450 4.2.0 Greylisted"), got)
        # the records are a year old by the daemon's own clock: its expiry
        # step would delete them between two of the commands below
        d.stop()
        d.expect_exit = True                # stopped here, not died
        conf = os.path.join(d.tmp, "mxshield.conf")
        # -c after the subcommand
        st, out, err = self.run_cli("greylist", "list", "--client", "192.0.2.9", "-c", conf)
        self.assertEqual(st, 0, err)
        self.assertEqual(out, "spf:pass.spf.test eve@pass.spf.test bob@our.example "
                         "first=2025-12-05T02:00:00Z last=2025-12-05T02:00:00Z pending "
                         "client=192.0.2.9\n")
        # another host of the client's /24 finds it too; another network does not
        st, out, err = self.run_cli("greylist", "-c", conf, "list", "--client", "192.0.2.200")
        self.assertEqual(st, 0, err)
        self.assertIn("client=192.0.2.9", out)
        st, out, err = self.run_cli("greylist", "-c", conf, "list", "--client", "198.51.100.9")
        self.assertEqual((st, out), (0, ""))

    def test_network_key_shows_its_network(self):
        db = os.path.join(self.tmpdir(), "db")
        d = self.daemon("data_directory = %s\ngreylist_allow_test_time = yes\n"
                        "recipient_restrictions = greylist\n" % db)
        c = self.client(d)
        c.ask({"client_address": "203.0.113.7", "sender": "a@b.example",
               "recipient": "bob@our.example", "policy_test_time": str(NOW)})
        c.ask({"client_address": "203.0.113.7", "sender": "a@b.example",
               "recipient": "bob@our.example", "policy_test_time": str(NOW + 301)})
        d.stop()                            # its expiry step: as above
        d.expect_exit = True
        conf = os.path.join(d.tmp, "mxshield.conf")
        st, out, err = self.run_cli("greylist", "list", "-c", conf, "--client", "203.0.113.7")
        self.assertEqual(out, "203.0.113.0 a@b.example bob@our.example "
                         "first=2025-12-05T02:00:00Z last=2025-12-05T02:05:01Z passed "
                         "client=203.0.113.0\n")
