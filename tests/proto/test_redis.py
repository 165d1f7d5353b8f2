"""Several MX hosts, one state: greylisting and the auto-whitelist in a
real redis-server (Debian's), started on loopback on free ports: two
daemons sharing one Redis, Redis killed in a burst and restarted, a
Sentinel failover, ACL users, a wrong password, and migration between
LMDB and Redis."""

import os
import re
import subprocess
import threading
import time

from harness import DaemonTest, free_port
from redis_server import RedisServer

NOW = int(time.time())
TEXT = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"
DBERR = "action=451 4.3.0 <bob@our.example>: Temporary greylisting database error"
PASS_HEADER = re.compile(r"^action=PREPEND X-Greylist: delayed (\d+) seconds by mxshield")

SEQ = [0]


def att(t, **kw):
    SEQ[0] += 1
    out = {"client_address": "192.0.2.5", "client_name": "mail.sender.example",
           "sender": "alice@sender.example", "recipient": "bob@our.example",
           "instance": "r%d" % SEQ[0], "policy_test_time": str(t)}
    out.update(kw)
    return out


class RedisTest(DaemonTest):

    def redis(self, conf_extra="", **kw):
        r = RedisServer(conf_extra, **kw)
        self.addCleanup(r.stop)
        return r

    def rd_daemon(self, servers, extra=""):
        conf = ("data_directory = @TMP@/db\ngreylist_allow_test_time = yes\n"
                "recipient_restrictions = greylist\nstore = redis\n"
                "redis_servers = %s\n%s" % (servers, extra))
        return self.daemon(conf)

    def status(self, d):
        rc, out, err = self.run_cli("status", "-c", d.conf_path)
        self.assertEqual(rc, 0, err)
        return dict(line.rsplit(" ", 1) for line in out.splitlines()[1:] if " " in line)


class Sharing(RedisTest):

    def test_deferred_on_first_passed_on_second(self):
        r = self.redis()
        d1 = self.rd_daemon(r.addr())
        d2 = self.rd_daemon(r.addr())
        c1, c2 = self.client(d1), self.client(d2)
        self.assertEqual(c1.ask(att(NOW)), TEXT)
        # the record is in Redis, with the retry window as its TTL
        key = "mxshield:triplets:{192.0.2.0}/alice@sender.example/bob@our.example"
        ttl = int(r.cli("TTL", key))
        self.assertTrue(2 * 86400 - 5 <= ttl <= 2 * 86400 + 1, ttl)
        self.assertEqual(c2.ask(att(NOW + 100)), TEXT)
        m = PASS_HEADER.match(c2.ask(att(NOW + 301)))
        self.assertIsNotNone(m)
        self.assertEqual(m.group(1), "301")
        # passed: kept for greylist_max_age from now on
        ttl = int(r.cli("TTL", key))
        self.assertTrue(35 * 86400 - 5 <= ttl <= 35 * 86400 + 1, ttl)
        self.assertEqual(c1.ask(att(NOW + 400)), "action=DUNNO")
        st = self.status(d1)
        self.assertEqual(st["mxshield_store_redis_up"], "1")

    def test_auto_whitelist_counts_shared(self):
        r = self.redis()
        extra = "greylist_auto_whitelist_clients = 2\n"
        d1 = self.rd_daemon(r.addr(), extra)
        d2 = self.rd_daemon(r.addr(), extra)
        c1, c2 = self.client(d1), self.client(d2)
        # one delivery counted through the first ...
        self.assertEqual(c1.ask(att(NOW, sender="a@s.example")), TEXT)
        self.assertRegex(c1.ask(att(NOW + 301, sender="a@s.example")), PASS_HEADER)
        self.assertEqual(r.cli("STRLEN", "mxshield:clients:{192.0.2.5}"), "18")
        # ... one through the second, an hour later: whitelisted
        self.assertEqual(c2.ask(att(NOW + 4000, sender="b@s.example")), TEXT)
        self.assertRegex(c2.ask(att(NOW + 4301, sender="b@s.example")), PASS_HEADER)
        d2.wait_log("greylist: whitelisted: mail.sender.example[192.0.2.5]")
        # the first sees the count of both: a new triplet passes at once
        self.assertEqual(c1.ask(att(NOW + 5000, sender="c@s.example")), "action=DUNNO")
        self.assertEqual(r.cli("STRLEN", "mxshield:triplets:{192.0.2.0}/c@s.example/bob@our.example"),
                         "0")

    def test_whitelist_reads_skipped_until_used(self):
        r = self.redis()
        d = self.rd_daemon(r.addr())
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        time.sleep(1.2)                 # the daemon has asked: never used
        self.assertEqual(r.cli("EXISTS", "mxshield:meta:{used}/triplets"), "1")
        self.assertEqual(r.cli("EXISTS", "mxshield:meta:{used}/whitelist"), "0")
        r.cli("CONFIG", "RESETSTAT")
        for i in range(10):
            self.assertEqual(c.ask(att(NOW, sender="n%d@x.example" % i)), TEXT)
        stats = r.cli("INFO", "commandstats")
        self.assertRegex(stats, r"cmdstat_get:calls=20,")   # client and triplet only
        # an entry added on any host is honoured within a second
        rc, out, err = self.run_cli("greylist", "-c", d.conf_path, "whitelist", "add",
                                    "192.0.2.5")
        self.assertEqual(rc, 0, err)
        self.assertEqual(r.cli("EXISTS", "mxshield:meta:{used}/whitelist"), "1")
        time.sleep(1.2)
        self.assertEqual(c.ask(att(NOW, sender="late@x.example")), "action=DUNNO")

    def test_key_prefix_and_database(self):
        r = self.redis()
        d = self.rd_daemon(r.addr(), "redis_key_prefix = mx1/\nredis_database = 3\n")
        self.assertEqual(self.client(d).ask(att(NOW)), TEXT)
        self.assertEqual(r.cli("-n", "3", "EXISTS",
                               "mx1/triplets:{192.0.2.0}/alice@sender.example/bob@our.example"),
                         "1")
        self.assertEqual(r.cli("-n", "3", "STRLEN", "mx1/meta:{version}"), "4")
        self.assertEqual(r.cli("DBSIZE"), "0")


class Failure(RedisTest):

    def burst(self, d, n, kill=None):
        """n new triplets over 8 connections at once; kill() runs after the
        first quarter.  Every answer and how long it took."""
        answers, lock = [], threading.Lock()
        started = threading.Event()

        def worker(k):
            c = d.connect(5)
            try:
                for i in range(k, n, 8):
                    if i == n // 4:
                        started.set()
                    t0 = time.monotonic()
                    got = c.ask(att(NOW, sender="s%d@burst.example" % i))
                    with lock:
                        answers.append((got, time.monotonic() - t0))
            finally:
                c.close()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        if kill:
            started.wait(10)
            kill()
        for t in threads:
            t.join(30)
        self.assertEqual(len(answers), n)
        return answers

    def test_killed_in_a_burst_and_restarted(self):
        r = self.redis()
        d = self.rd_daemon(r.addr(), "redis_command_timeout = 300\n")
        answers = self.burst(d, 400, kill=r.kill)
        kinds = {a for a, _ in answers}
        # a temporary failure is never a pass: deferred, or a database error
        self.assertLessEqual(kinds, {TEXT, DBERR}, kinds)
        self.assertIn(DBERR, kinds)
        self.assertLess(max(t for _, t in answers), 1.0)
        # while it is down: at once, and visible in mxshield status
        c = self.client(d)
        t0 = time.monotonic()
        self.assertEqual(c.ask(att(NOW, sender="down@x.example")), DBERR)
        self.assertLess(time.monotonic() - t0, 0.5)
        st = self.status(d)
        self.assertEqual(st["mxshield_store_redis_up"], "0")
        self.assertGreater(int(st["mxshield_store_redis_down_since"]), 0)
        time.sleep(1.5)                 # several retries, one report
        log = d.read_log()
        self.assertEqual(log.count("store operations fail until it is back"), 1, log[-3000:])
        # back on the same port: reconnected with backoff, working again
        r.start()
        d.wait_log("redis: connected to 127.0.0.1:%d after" % r.port, timeout=5)
        self.assertEqual(c.ask(att(NOW, sender="back@x.example")), TEXT)
        self.assertRegex(c.ask(att(NOW + 301, sender="back@x.example")), PASS_HEADER)
        self.assertEqual(self.status(d)["mxshield_store_redis_up"], "1")

    def test_down_with_error_action_dunno(self):
        r = self.redis()
        d = self.rd_daemon(r.addr(), "greylist_error_action = dunno\n")
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        r.kill()
        d.wait_log("store operations fail until it is back")
        self.assertEqual(c.ask(att(NOW, sender="other@x.example")), "action=DUNNO")

    def test_slow_redis_times_out(self):
        r = self.redis()
        d = self.rd_daemon(r.addr(), "redis_command_timeout = 200\n")
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        # a server that stops answering (DEBUG SLEEP is refused by default:
        # SIGSTOP does the same)
        os.kill(r.proc.pid, 19)
        try:
            t0 = time.monotonic()
            self.assertEqual(c.ask(att(NOW, sender="slow@x.example")), DBERR)
            took = time.monotonic() - t0
            self.assertTrue(0.15 < took < 1.0, took)
            d.wait_log("no reply within redis_command_timeout (200 ms)")
        finally:
            os.kill(r.proc.pid, 18)
        d.wait_log("redis: connected to", timeout=5)
        self.assertEqual(c.ask(att(NOW, sender="slow@x.example")), TEXT)

    def test_down_at_start(self):
        port = free_port()
        d = self.rd_daemon("127.0.0.1:%d" % port)
        d.wait_log("cannot connect")
        self.assertEqual(self.client(d).ask(att(NOW)), DBERR)
        r = self.redis(port=port)
        d.wait_log("redis: connected to 127.0.0.1:%d" % r.port, timeout=5)
        self.assertEqual(self.client(d).ask(att(NOW)), TEXT)


class SlowHandshake(RedisTest):
    """A Redis whose every new connection answers only after a delay (a
    server far away, a loaded Sentinel setup): the connection comes up
    although commands were waiting on it longer than
    redis_command_timeout, since their time counts from the connection's
    being up, not from their queueing."""

    def proxy(self, target, delay):
        import socket
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        stop = threading.Event()
        self.addCleanup(stop.set)
        self.addCleanup(ls.close)
        host, port = target.rsplit(":", 1)

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def serve(c):
            try:
                u = socket.create_connection((host, int(port)))
            except OSError:
                c.close()
                return
            time.sleep(delay)           # nothing relayed before the delay
            threading.Thread(target=pipe, args=(c, u), daemon=True).start()
            threading.Thread(target=pipe, args=(u, c), daemon=True).start()

        def accept():
            while not stop.is_set():
                try:
                    c, _ = ls.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(c,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return "127.0.0.1:%d" % ls.getsockname()[1]

    def test_connection_slower_than_command_timeout_comes_up(self):
        r = self.redis()
        addr = self.proxy(r.addr(), 0.8)
        d = self.rd_daemon(addr, "redis_command_timeout = 300\n"
                                 "redis_connect_timeout = 3000\n")
        c = self.client(d)
        answers = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            got = c.ask(att(NOW, sender="s%d@x.example" % len(answers)))
            answers.append(got)
            if got == TEXT:
                break
            self.assertEqual(got, DBERR)    # only a temporary failure meanwhile
            time.sleep(0.1)
        self.assertEqual(answers[-1], TEXT, answers[-5:])


class Auth(RedisTest):

    # the least the README says a user needs
    ACL = ("user default off\n"
           "user mx on >s3cret ~mxshield:* +get +set +del +ping +role +scan +select\n")

    def test_acl_user(self):
        r = self.redis(self.ACL)
        d = self.rd_daemon(r.addr(), "redis_user = mx\nredis_password = s3cret\n"
                           "redis_database = 2\n")
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        self.assertRegex(c.ask(att(NOW + 301)), PASS_HEADER)
        self.assertNotEqual(r.cli("-n", "2", "GET", "mxshield:clients:{192.0.2.5}",
                                  user="mx", password="s3cret"), "")
        # the tools too
        rc, out, err = self.run_cli("greylist", "-c", d.conf_path, "list")
        self.assertEqual(rc, 0, err)
        self.assertIn("alice@sender.example", out)

    def test_wrong_password_fails_at_start(self):
        r = self.redis(self.ACL)
        with self.assertRaises(RuntimeError) as e:
            self.rd_daemon(r.addr(), "redis_user = mx\nredis_password = wrong\n")
        self.assertIn('redis 127.0.0.1:%d: authentication as "mx" refused: WRONGPASS' % r.port,
                      str(e.exception))

    def test_refused_command_fails_the_operation(self):
        r = self.redis("user default off\nuser admin on >adm ~* +@all\n"
                       "user mx on >s3cret ~mxshield:* +get +del +ping +scan\n")
        # SET refused: the version cannot be written, said at start
        with self.assertRaises(RuntimeError) as e:
            self.rd_daemon(r.addr(), "redis_user = mx\nredis_password = s3cret\n")
        self.assertIn("redis: cannot write mxshield:meta:{version}: NOPERM", str(e.exception))
        # allowed at start, refused later: each operation fails (451), the
        # refusal is logged once, the connection stays
        self.assertEqual(r.cli("ACL", "SETUSER", "mx", "+set", user="admin", password="adm"),
                         "OK")
        d = self.rd_daemon(r.addr(), "redis_user = mx\nredis_password = s3cret\n")
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        self.assertEqual(r.cli("ACL", "SETUSER", "mx", "-set", user="admin", password="adm"),
                         "OK")
        self.assertEqual(c.ask(att(NOW, sender="x@y.example")), DBERR)
        self.assertEqual(c.ask(att(NOW, sender="z@y.example")), DBERR)
        deadline = time.monotonic() + 3
        while d.read_log().count("greylist: database write failed") < 2:
            self.assertLess(time.monotonic(), deadline, d.read_log())
            time.sleep(0.02)
        log = d.read_log()
        self.assertEqual(log.count("command refused: NOPERM"), 1, log)
        self.assertNotIn("connection lost", log)
        self.assertEqual(self.status(d)["mxshield_store_redis_up"], "1")

    def test_password_only(self):
        r = self.redis("requirepass pw1\n")
        d = self.rd_daemon(r.addr(), "redis_password = pw1\n")
        self.assertEqual(self.client(d).ask(att(NOW)), TEXT)
        with self.assertRaises(RuntimeError) as e:
            self.rd_daemon(r.addr())
        self.assertIn("NOAUTH", str(e.exception))


class Sentinel(RedisTest):

    def wait_for(self, what, fn, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fn():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def test_failover_followed(self):
        master = self.redis()
        replica = self.redis("replicaof 127.0.0.1 %d\n" % master.port)
        self.wait_for("the replica's sync",
                      lambda: "master_link_status:up" in replica.cli("INFO", "replication"))
        sentinel = self.redis("sentinel monitor mx 127.0.0.1 %d 1\n"
                              "sentinel down-after-milliseconds mx 300\n"
                              "sentinel failover-timeout mx 2000\n" % master.port,
                              sentinel=True)
        self.wait_for("the sentinel to see the replica",
                      lambda: str(replica.port) in sentinel.cli("SENTINEL", "replicas", "mx"))
        d = self.rd_daemon("127.0.0.1:1", "redis_sentinels = %s\nredis_master_name = mx\n"
                           % sentinel.addr())
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        # on the replica before the master goes (WAIT would only cover
        # redis-cli's own writes)
        key = "mxshield:triplets:{192.0.2.0}/alice@sender.example/bob@our.example"
        self.wait_for("the record on the replica", lambda: replica.cli("EXISTS", key) == "1")
        master.kill()
        # asked again after the failover, the sentinel names the replica
        d.wait_log("redis: connected to 127.0.0.1:%d after" % replica.port, timeout=20)
        self.assertEqual(replica.cli("ROLE").splitlines()[0], "master")
        self.assertRegex(c.ask(att(NOW + 301)), PASS_HEADER)
        self.assertEqual(self.status(d)["mxshield_store_redis_up"], "1")


class Migrate(RedisTest):

    def test_lmdb_to_redis_and_back(self):
        r = self.redis()
        tmp = self.tmpdir()
        lm = self.daemon("data_directory = %s/db\ngreylist_allow_test_time = yes\n"
                         "recipient_restrictions = greylist\n" % tmp)
        c = self.client(lm)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        # passed long ago, still remembered; and one left to expire
        self.assertEqual(c.ask(att(NOW - 86400, sender="old@x.example")), TEXT)
        self.assertRegex(c.ask(att(NOW - 86400 + 301, sender="old@x.example")), PASS_HEADER)
        self.assertEqual(c.ask(att(NOW - 3 * 86400, sender="gone@x.example")), TEXT)
        conf = os.path.join(tmp, "mig.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s/db\nstore = lmdb\nredis_servers = %s\n"
                    % (tmp, r.addr()))
        # stopped at once: its expiry step (every second) would delete the
        # record left to expire before the migration can leave it behind
        lm.expect_exit = True
        lm.stop()
        rc, out, err = self.run_cli("greylist", "-c", conf, "whitelist", "add", "198.51.100.7")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_cli("greylist", "-c", conf, "migrate", "--to", "redis")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "migrated to redis: 2 triplets, 1 clients, "
                         "1 whitelist entries (1 expired and 0 unreadable left behind)")
        key = "mxshield:triplets:{192.0.2.0}/alice@sender.example/bob@our.example"
        ttl = int(r.cli("TTL", key))
        # the TTL counts from NOW (the module's clock), down since then
        late = time.time() - NOW
        self.assertTrue(2 * 86400 - late - 2 <= ttl <= 2 * 86400 + 1, (ttl, late))
        self.assertEqual(r.cli("TTL", "mxshield:whitelist:{198.51.100.7}"), "-1")

        # a daemon on Redis goes on from there
        d = self.rd_daemon(r.addr())
        c = self.client(d)
        self.assertRegex(c.ask(att(NOW + 301)), PASS_HEADER)
        self.assertEqual(c.ask(att(NOW + 302, sender="old@x.example")), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_address="198.51.100.7")), "action=DUNNO")
        rc, out, err = self.run_cli("greylist", "-c", d.conf_path, "list")
        self.assertEqual(rc, 0, err)
        self.assertIn("alice@sender.example", out)

        # and back into an empty LMDB database
        tmp2 = self.tmpdir()
        conf2 = os.path.join(tmp2, "back.conf")
        with open(conf2, "w") as f:
            f.write("data_directory = %s/db\nstore = lmdb\nredis_servers = %s\n"
                    % (tmp2, r.addr()))
        rc, out, err = self.run_cli("greylist", "-c", conf2, "migrate", "--to", "lmdb")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "migrated to lmdb: 2 triplets, 1 clients, "
                         "1 whitelist entries (0 expired and 0 unreadable left behind)")
        lm2 = self.daemon("data_directory = %s/db\ngreylist_allow_test_time = yes\n"
                          "recipient_restrictions = greylist\n" % tmp2)
        c = self.client(lm2)
        self.assertEqual(c.ask(att(NOW + 400)), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, client_address="198.51.100.7")), "action=DUNNO")
        self.assertEqual(c.ask(att(NOW, sender="new@x.example")), TEXT)

    def test_usage(self):
        rc, out, err = self.run_cli("greylist", "migrate", "--to", "nowhere")
        self.assertEqual(rc, 2)
        self.assertIn("usage: mxshield greylist migrate --to redis|lmdb", err)


class Servers(RedisTest):

    def test_the_master_of_several(self):
        master = self.redis()
        replica = self.redis("replicaof 127.0.0.1 %d\n" % master.port)
        d = self.rd_daemon("%s, %s" % (replica.addr(), master.addr()))
        c = self.client(d)
        self.assertEqual(c.ask(att(NOW)), TEXT)
        self.assertRegex(c.ask(att(NOW + 301)), PASS_HEADER)
        self.assertEqual(master.cli("EXISTS", "mxshield:clients:{192.0.2.5}"), "1")
        self.assertNotIn("warning", d.read_log())


class Import(RedisTest):

    def test_import_postgrey_into_redis(self):
        """postgrey's records (a database made by db_load) go into Redis with
        the TTLs greylisting's expiry gives them."""
        r = self.redis()
        tmp = self.tmpdir()
        pgdb = os.path.join(tmp, "pg")
        os.makedirs(pgdb)
        t = NOW - 3 * 86400
        text = ("192.0.2.7/32/a@b.example/bob@our.example\n%d,%d\n"
                "192.0.2.8/32/c@d.example/bob@our.example\n%d,%d\n" % (t, t + 400, t, t + 100))
        subprocess.run(["db_load", "-T", "-t", "btree", os.path.join(pgdb, "postgrey.db")],
                       input=text, text=True, check=True)
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("data_directory = %s/db\ngreylist_lookup_by_host = yes\n"
                    "greylist_spf_key = no\nstore = redis\nredis_servers = %s\n"
                    % (tmp, r.addr()))
        before = time.time()
        st, out, err = self.run_cli("greylist", "-c", conf, "import-postgrey", pgdb)
        self.assertEqual(st, 0, err)
        self.assertIn("imported: 2 triplets", out)
        # passed: greylist_max_age after its last sighting
        ttl = int(r.cli("TTL", "mxshield:triplets:{192.0.2.7}/a@b.example/bob@our.example"))
        # greylist_max_age from t + 400, as of the import (between
        # `before` and now)
        hi = 35 * 86400 - (before - (t + 400))
        lo = 35 * 86400 - (time.time() - (t + 400))
        self.assertTrue(lo - 2 <= ttl <= int(hi) + 2, (ttl, lo, hi))
        # never passed, not retried within the retry window: already expired
        self.assertIn(r.cli("TTL", "mxshield:triplets:{192.0.2.8}/c@d.example/bob@our.example"),
                      ("1", "0", "-2"))
