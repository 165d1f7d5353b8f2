"""Switching from postgrey and policyd-spf: `mxshield migrate` prints the
configuration, `mxshield greylist import-postgrey` takes over a database
written by Debian's real postgrey, and what postgrey had let through passes
mxshield at once."""

import os
import shutil
import signal
import subprocess
import time
import unittest

import dnsserver
from harness import DaemonTest, Client, free_port

POSTGREY = shutil.which("postgrey") or "/usr/sbin/postgrey"
DUMP = shutil.which("db_dump") or shutil.which("db5.3_dump")
T = int(time.time()) - 3 * 86400		# postgrey's clock, days ago
GREY = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"
NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


def pg_req(t, client, sender, rcpt="bob@our.example"):
    return {"request": "smtpd_access_policy", "client_address": client,
            "client_name": "unknown", "sender": sender, "recipient": rcpt,
            "policy_test_time": str(t), "instance": "i%d%s" % (t, rcpt)}


class ImportPostgrey(DaemonTest):

    def run_postgrey(self, dbdir, requests, stop="term"):
        """Run Debian's postgrey on dbdir, ask it every request, stop it
        (stop: "term" the clean way, "kill" with SIGKILL, None: leave it
        running); its answers."""
        port = free_port()
        user = ["--user=root", "--group=root"] if os.geteuid() == 0 else []
        log = open(os.path.join(dbdir, "..", "pg.log"), "w")
        p = subprocess.Popen([POSTGREY, "--inet=127.0.0.1:%d" % port, "--dbdir=" + dbdir]
                             + user, stdout=log, stderr=log)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.monotonic() + 30
        while True:
            try:
                c = Client(__import__("socket").AF_INET, ("127.0.0.1", port), 30)
                break
            except OSError:
                self.assertIsNone(p.poll(), "postgrey exited")
                self.assertLess(time.monotonic(), deadline, "postgrey did not start")
                time.sleep(0.1)
        answers = [c.ask(r) for r in requests]
        c.close()
        if stop is None:
            return answers
        if stop == "kill":
            p.kill()
            p.wait()
            return answers
        # Net::Server checks for a signal between select(2) calls: one that
        # lands just before postgrey blocks in select waits for the next
        # event.  Wake it with a connection and ask again, so that it always
        # exits the clean way (its BerkeleyDB is checkpointed at exit).
        deadline = time.monotonic() + 20
        while True:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(2)
                break
            except subprocess.TimeoutExpired:
                self.assertLess(time.monotonic(), deadline, "postgrey did not stop on SIGTERM")
                try:
                    __import__("socket").create_connection(("127.0.0.1", port), 1).close()
                except OSError:
                    pass
        return answers

    @unittest.skipUnless(os.path.exists(POSTGREY) and DUMP, "postgrey and db-util needed")
    def test_known_triplets_pass_at_once(self):
        tmp = self.tmpdir()
        pgdb = os.path.join(tmp, "pgdb")
        os.makedirs(pgdb)
        reqs = [
            # a delivery that got through greylisting: IPv4, a VERP sender
            pg_req(T, "192.0.2.5", "bounce-1234@lists.example"),
            pg_req(T + 400, "192.0.2.5", "bounce-1234@lists.example"),
            # IPv6, upper case in the request (postgrey keys 2001:db8:1:2:0:0:0:0)
            pg_req(T, "2001:DB8:1:2::5", "Carol@Sender.Example"),
            pg_req(T + 400, "2001:DB8:1:2::5", "Carol@Sender.Example"),
            # seen once, still waiting
            pg_req(T, "203.0.113.9", "dave@waiting.example"),
            # a domain whose SPF passes for 192.0.2.9
            pg_req(T, "192.0.2.9", "eve@pass.spf.test"),
            pg_req(T + 400, "192.0.2.9", "eve@pass.spf.test"),
        ]
        # a client postgrey whitelisted: five deliveries, an hour apart
        for h in range(5):
            rcpt = "r%d@our.example" % h
            reqs.append(pg_req(T + 3600 * (h + 1), "198.51.100.7", "frank@awl.example", rcpt))
            reqs.append(pg_req(T + 3600 * (h + 1) + 400, "198.51.100.7",
                               "frank@awl.example", rcpt))
        answers = self.run_postgrey(pgdb, reqs)
        self.assertTrue(answers[0].startswith("action=DEFER_IF_PERMIT"), answers[0])
        self.assertTrue(answers[1].startswith("action=PREPEND X-Greylist"), answers[1])

        db = os.path.join(tmp, "db")
        conf = os.path.join(tmp, "import.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s\n" % db)
        # -c after the subcommand, as after the command
        st, out, err = self.run_cli("greylist", "import-postgrey", pgdb, "-c", conf)
        self.assertEqual(st, 0, err)
        self.assertIn("imported: 9 triplets (9 also under the SPF domain's key), 4 clients",
                      out)

        # both keys of each triplet of the client's /24 are found by the client
        st, out, err = self.run_cli("greylist", "list", "-c", conf, "--client", "192.0.2.9")
        self.assertEqual(sorted(l.split()[0] for l in out.splitlines()),
                         ["192.0.2.0", "192.0.2.0", "spf:lists.example",
                          "spf:pass.spf.test"], out)

        d = self.daemon("dns_resolver = %s\ndata_directory = %s\n"
                        "greylist_allow_test_time = yes\n"
                        "recipient_restrictions = check_spf, greylist\n"
                        "spf_header_type = none\nspf_temperror_defer = no\n" % (NSD.addr, db))
        now = T + 5 * 3600 + 1000
        c = self.client(d)
        ask = lambda client, sender, rcpt="bob@our.example": c.ask(
            {"client_address": client, "sender": sender, "recipient": rcpt,
             "helo_name": "mail.example", "policy_test_time": str(now),
             "instance": "m%s%s" % (client, rcpt)})
        # known: pass at once, another host of the same network too
        self.assertEqual(ask("192.0.2.5", "bounce-98765@lists.example"), "action=DUNNO")
        self.assertEqual(ask("192.0.2.77", "bounce-1234@lists.example"), "action=DUNNO")
        self.assertEqual(ask("2001:db8:1:2::99", "carol@sender.example"), "action=DUNNO")
        # SPF passes: mxshield keys on the domain, and knows it too
        self.assertEqual(ask("192.0.2.9", "eve@pass.spf.test"), "action=DUNNO")
        # postgrey's auto-whitelisted client: anything from it passes
        self.assertEqual(ask("198.51.100.7", "new@other.example", "x@our.example"),
                         "action=DUNNO")
        # waiting since T: this retry is the first that passes
        got = ask("203.0.113.9", "dave@waiting.example")
        self.assertTrue(got.startswith("action=PREPEND X-Greylist: delayed"), got)
        # unknown to postgrey: greylisted as ever
        self.assertEqual(ask("192.0.2.5", "nobody@new.example"), GREY)

    @unittest.skipUnless(os.path.exists(POSTGREY) and DUMP, "postgrey and db-util needed")
    def test_killed_postgrey_loses_nothing_it_committed(self):
        """postgrey killed (or crashed): what it committed is in its
        environment's log, not yet in postgrey.db; the import recovers a
        copy first and finds it, and leaves postgrey's directory as it
        was."""
        tmp = self.tmpdir()
        pgdb = os.path.join(tmp, "pgdb")
        os.makedirs(pgdb)
        reqs = [pg_req(T, "192.0.2.%d" % (i % 3), "s%d@killed.example" % i) for i in range(6)]
        reqs.append(pg_req(T + 400, "192.0.2.0", "s0@killed.example"))
        answers = self.run_postgrey(pgdb, reqs, stop="kill")
        self.assertTrue(answers[-1].startswith("action=PREPEND X-Greylist"), answers[-1])
        before = {n: os.stat(os.path.join(pgdb, n)).st_mtime_ns for n in os.listdir(pgdb)}
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s\ngreylist_spf_key = no\n" % os.path.join(tmp, "db"))
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey", pgdb)
        self.assertEqual(st, 0, err)
        # the one that passed also made its client known
        self.assertEqual(out, "imported: 6 triplets (0 also under the SPF domain's key), "
                         "1 clients\n")
        self.assertEqual({n: os.stat(os.path.join(pgdb, n)).st_mtime_ns
                          for n in os.listdir(pgdb)}, before)

    @unittest.skipUnless(os.path.exists(POSTGREY) and DUMP, "postgrey and db-util needed")
    def test_running_postgrey_refused(self):
        tmp = self.tmpdir()
        pgdb = os.path.join(tmp, "pgdb")
        os.makedirs(pgdb)
        self.run_postgrey(pgdb, [pg_req(T, "192.0.2.1", "a@run.example")], stop=None)
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s\n" % os.path.join(tmp, "db"))
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey", pgdb)
        self.assertEqual(st, 1)
        self.assertIn("postgrey is still running on %s; stop it first" % pgdb, err)

    @unittest.skipUnless(DUMP and shutil.which("db_load"), "db-util needed")
    def test_by_host_keys_hashes_and_junk(self):
        """postgrey --lookup-by-host keys ("ADDR/32/..."), a record that is
        not postgrey's, and --privacy hashes, from a database made by
        db_load."""
        tmp = self.tmpdir()
        pgdb = os.path.join(tmp, "pg")
        os.makedirs(pgdb)
        text = ("192.0.2.7/32/a@b.example/bob@our.example\n%d,%d\n"
                "2001:db8:0:0:0:0:0:7/128/c@d.example/bob@our.example\n%d,%d\n"
                "junk\nnot,numbers\n"
                "%s\n%d,%d\n" % (T, T + 400, T, T + 400, "ab" * 20, T, T + 400))
        subprocess.run(["db_load", "-T", "-t", "btree", os.path.join(pgdb, "postgrey.db")],
                       input=text, text=True, check=True)
        db = os.path.join(tmp, "db")
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s\ngreylist_lookup_by_host = yes\n"
                    "greylist_spf_key = no\n" % db)
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey", pgdb)
        self.assertEqual(st, 0, err)
        self.assertEqual(out, "imported: 2 triplets (0 also under the SPF domain's key), "
                         "0 clients\nskipped: 1 records that are not postgrey's\n"
                         "skipped: 1 hashed records (postgrey --privacy): they need "
                         "greylist_privacy = yes\n")
        st, out, err = self.run_cli("greylist", "-c", conf, "list")
        self.assertEqual(sorted(l.split()[0] for l in out.splitlines()),
                         ["192.0.2.7", "2001:db8::7"], out)
        # running it again keeps what is there (nothing newer)
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey", pgdb)
        self.assertIn("kept: 2 records already in the database", out)

    def test_missing_database(self):
        tmp = self.tmpdir()
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s\n" % os.path.join(tmp, "db"))
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey",
                                    os.path.join(tmp, "nothing"))
        self.assertEqual(st, 1)
        self.assertIn("nothing/postgrey.db", err)


class MigrateConfig(DaemonTest):

    def write(self, name, text):
        path = os.path.join(self.tmpdir(), name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_postgrey_defaults_file(self):
        path = self.write("postgrey", """\
# postgrey startup options, created for Debian
POSTGREY_OPTS="--inet=10023 --delay=60 --max-age=20 --retry-window=6h --lookup-by-host --auto-whitelist-clients=0 --whitelist-clients=/etc/a --greylist-action=DEFER --listen-queue-size=50"
POSTGREY_TEXT="Come back in %s seconds"
""")
        st, out, err = self.run_cli("migrate", "postgrey", path)
        self.assertEqual(st, 0, err)
        lines = [l for l in out.splitlines() if not l.startswith("#")]
        self.assertEqual(lines, [
            "listen = inet:127.0.0.1:10023",
            "greylist_delay = 60s",
            "greylist_max_age = 20d",
            "greylist_retry_window = 6h",
            "greylist_lookup_by_host = yes",
            "greylist_auto_whitelist_clients = 0",
            "greylist_action = defer",
            "greylist_text = Come back in %s seconds",
            "greylist_whitelist_clients = /etc/a",
            "greylist_whitelist_recipients = /etc/postgrey/whitelist_recipients, "
            "/etc/postgrey/whitelist_recipients.local",
        ])
        self.assertIn("# --listen-queue-size=50\n# no equivalent:", out)
        # what it prints is a configuration mxshield takes
        conf = self.write("mx.conf", out)
        st, out2, err = self.run_cli("config", "-c", conf)
        self.assertEqual(st, 0, err)
        self.assertIn("greylist_retry_window = 6h", out2)

    def test_policyd_spf_conf(self):
        path = self.write("policyd-spf.conf", """\
debugLevel = 1
TestOnly = 1
HELO_reject = SPF_Not_Pass
Mail_From_reject = Softfail
PermError_reject = True
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::1
Whitelist = 192.0.2.0/24
Domain_Whitelist = pobox.com
Domain_Whitelist_PTR = yahoo.com
Header_Type = AR
SPF_Enhanced_Status_Codes = No
Hide_Receiver = Yes
No_Mail = True
Frobnicate = 3
""")
        st, out, err = self.run_cli("migrate", "policyd-spf", path)
        self.assertEqual(st, 0, err)
        lines = [l for l in out.splitlines() if not l.startswith("#")]
        self.assertEqual(lines, [
            "spf_helo_reject = spf_not_pass",
            "spf_mail_from_reject = softfail",
            "spf_permerror_reject = yes",
            "spf_temperror_defer = no",
            "spf_skip_addresses = 127.0.0.0/8,::1",
            "spf_whitelist = 192.0.2.0/24",
            "spf_domain_whitelist = pobox.com",
            "spf_domain_whitelist_ptr = yahoo.com",
            "spf_header_type = ar",
            "spf_enhanced_status_codes = no",
        ])
        self.assertIn("# No_Mail = True\n# no equivalent:", out)
        self.assertIn("# Frobnicate = 3\n# unknown policyd-spf option", out)
        conf = self.write("mx.conf", out)
        st, out2, err = self.run_cli("config", "-c", conf)
        self.assertEqual(st, 0, err)

    def test_unreadable_file(self):
        st, out, err = self.run_cli("migrate", "postgrey", "/nonexistent/postgrey")
        self.assertEqual(st, 2)
        self.assertIn("/nonexistent/postgrey", err)
