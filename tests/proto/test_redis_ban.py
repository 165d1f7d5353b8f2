"""Auto-ban and check_rate through a shared Redis (Debian's redis-server on
loopback, free ports): a ban made by one daemon (from the log it follows,
or `mxshield ban add` with its configuration) is enforced by another;
rate counts are shared; every ban and counter record carries its expiry
as a TTL and disappears with it; `mxshield ban list|stats|add|del` on
Redis; Redis down: the bans this daemon knows are still enforced, the
rest is a temporary failure (or, for check_rate, rate_limit_error_action),
never a pass or a 5xx by accident; the bans go back into nftables at a
start; the counter script moves its windows as the C code does."""

import os
import re
import socket
import stat
import struct
import subprocess
import threading
import time

from harness import DaemonTest, request
from redis_server import RedisServer

DUNNO = "action=DUNNO"
BANNED = re.compile(r"^action=554 5\.7\.1 Client host rejected: banned for (\d+) more "
                    r"seconds \((manual|lost-connection)\)$")
DBERR = "action=451 4.3.0 Temporary database error"
OVER = "action=450 4.7.1 Rate limit exceeded: %d per %ds for %s"


def req(client="192.0.2.1", **kw):
    out = {"client_address": client, "client_name": "unknown", "sasl_username": None}
    out.update(kw)
    return out


def event_line(host, pid):
    """a Postfix line that is a lost-connection event for host, stamped now"""
    return ("%s mx postfix/smtpd[%d]: lost connection after EHLO from unknown[%s]\n"
            % (time.strftime("%b %e %H:%M:%S"), pid, host))


def counter(r, key):
    """the fields of a counter record in Redis (store/encode.h), or None"""
    s = socket.create_connection(("127.0.0.1", r.port), 5)
    k = key.encode()
    s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k))
    data = b""
    while b"\r\n" not in data:
        data += s.recv(4096)
    head, rest = data.split(b"\r\n", 1)
    if head == b"$-1":
        return None
    n = int(head[1:])
    while len(rest) < n + 2:
        rest += s.recv(4096)
    s.close()
    val = rest[:n]
    assert len(val) == 34 and val[:2] == b"\x01\x06", val
    return struct.unpack(">4q", val[2:])   # expires, start, count, previous


class RedisBanTest(DaemonTest):

    def redis(self):
        r = RedisServer()
        self.addCleanup(r.stop)
        return r

    def rd_daemon(self, r, extra=""):
        return self.daemon("data_directory = @TMP@/db\nstore = redis\nredis_servers = %s\n%s"
                           % (r.addr(), extra))

    def ban(self, d, *args):
        code, out, err = self.run_cli("ban", "-c", d.conf_path, *args)
        self.assertEqual(code, 0, err)
        return out, err

    def ask(self, d, client):
        c = self.client(d)
        got = c.ask(req(client=client))
        c.close()
        return got

    def assertBanned(self, got, reason="manual", most=3600):
        m = BANNED.match(got)
        self.assertIsNotNone(m, got)
        self.assertEqual(m.group(2), reason, got)
        self.assertTrue(0 < int(m.group(1)) <= most, got)

    def ttl(self, r, key):
        return int(r.cli("TTL", key))

    def wait_for(self, what, fn, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if fn():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)


class Shared(RedisBanTest):

    def test_manual_ban_through_the_first_enforced_by_the_second(self):
        r = self.redis()
        d1 = self.rd_daemon(r, "client_restrictions = reject_banned_client\n")
        d2 = self.rd_daemon(r, "client_restrictions = reject_banned_client\n")
        self.assertEqual(self.ask(d2, "192.0.2.9"), DUNNO)
        _, err = self.ban(d1, "add", "192.0.2.9", "--time", "1h")
        self.assertIn("ban: client=192.0.2.9/32, reason=manual, time=3600s", err)
        # in Redis with its expiry as the TTL, under the client's hash tag
        ttl = self.ttl(r, "mxshield:bans:{192.0.2.9}/32")
        self.assertTrue(3590 <= ttl <= 3600, ttl)
        self.assertBanned(self.ask(d2, "192.0.2.9"))
        self.assertBanned(self.ask(d1, "192.0.2.9"))
        self.assertEqual(self.ask(d2, "192.0.2.10"), DUNNO)
        # the tools read Redis
        out, _ = self.ban(d2, "list")
        self.assertRegex(out, r"^192\.0\.2\.9/32 until=\S+ left=\d+s level=1 reason=manual\n$")
        out, _ = self.ban(d2, "stats")
        self.assertIn("bans 1\n", out)
        self.assertIn("bans_manual 1\n", out)
        # lifted through the second: the first no longer refuses
        self.ban(d2, "del", "192.0.2.9")
        self.assertEqual(r.cli("EXISTS", "mxshield:bans:{192.0.2.9}/32"), "0")
        self.assertEqual(self.ask(d1, "192.0.2.9"), DUNNO)
        self.assertEqual(self.ban(d1, "list")[0], "")

    def test_ban_from_the_log_of_the_first_enforced_by_the_second(self):
        r = self.redis()
        d1 = self.rd_daemon(r, "ban_log = @TMP@/maillog\nban_maxretry = 2\n"
                            "ban_bantime = 1h\nban_history = 1d\n"
                            "client_restrictions = reject_banned_client\n")
        d2 = self.rd_daemon(r, "client_restrictions = reject_banned_client\n")
        self.assertIsNotNone(d1.wait_log("ban: following"))
        log = os.path.join(d1.tmp, "maillog")
        with open(log, "a") as f:
            f.write(event_line("10.1.2.3", 100))
        # one event: counted, under the network's hash tag, with a TTL
        self.wait_for("the counter", lambda: r.cli("EXISTS", "mxshield:banhits:{10.1.2.3}/32|*") == "1")
        ttl = self.ttl(r, "mxshield:banhits:{10.1.2.3}/32|*")
        self.assertTrue(0 < ttl <= 1200, ttl)   # two windows of ban_findtime
        self.assertEqual(self.ask(d2, "10.1.2.3"), DUNNO)
        with open(log, "a") as f:
            f.write(event_line("10.1.2.3", 101))
        line = d1.wait_log("ban: client=10.1.2.3/32, reason=lost-connection")
        self.assertIsNotNone(line)
        # logged from Redis's reply, under the auto-ban's name
        self.assertRegex(line, r"^mxshield/ban\[\d+\]: ban: ")
        self.assertBanned(self.ask(d2, "10.1.2.3"), "lost-connection")
        ttl = self.ttl(r, "mxshield:bans:{10.1.2.3}/32")
        self.assertTrue(3590 <= ttl <= 3600, ttl)
        ttl = self.ttl(r, "mxshield:offenders:{10.1.2.3}/32")
        self.assertTrue(3600 + 86390 <= ttl <= 3600 + 86400, ttl)
        self.assertEqual(r.cli("EXISTS", "mxshield:banhits:{10.1.2.3}/32|*"), "0")
        out, _ = self.ban(d2, "stats")
        self.assertIn("bans 1\n", out)
        self.assertIn("offenders 1\n", out)

    def test_ban_hits_shared_and_counted_on_the_server(self):
        """Two daemons' logs with events of one client at once: every
        event counted once in the shared counter; maxretry reached across
        the two hosts bans the client on both."""
        r = self.redis()
        conf = ("ban_log = @TMP@/maillog\nban_maxretry = %d\nban_bantime = 1h\n"
                "client_restrictions = reject_banned_client\n")
        d1, d2 = self.rd_daemon(r, conf % 1000), self.rd_daemon(r, conf % 1000)
        for d in (d1, d2):
            self.assertIsNotNone(d.wait_log("ban: following"))
        logs = [open(os.path.join(d.tmp, "maillog"), "a") for d in (d1, d2)]
        for i in range(100):
            for f in logs:
                f.write(event_line("10.5.5.5", 1000 + i))
        for f in logs:
            f.close()
        key = "mxshield:banhits:{10.5.5.5}/32|*"
        self.wait_for("200 events", lambda: (counter(r, key) or (0, 0, 0))[2] >= 200, 10)
        time.sleep(0.3)
        expires, start, count, prev = counter(r, key)
        self.assertEqual(count, 200)
        self.assertEqual(expires, start + 1200)
        # maxretry 3: one event on each host, then one more on the first
        r2 = self.redis()
        d3, d4 = self.rd_daemon(r2, conf % 3), self.rd_daemon(r2, conf % 3)
        for d, pid in ((d3, 1), (d4, 2)):
            self.assertIsNotNone(d.wait_log("ban: following"))
            with open(os.path.join(d.tmp, "maillog"), "a") as f:
                f.write(event_line("10.6.6.6", pid))
        key = "mxshield:banhits:{10.6.6.6}/32|*"
        self.wait_for("2 events", lambda: (counter(r2, key) or (0, 0, 0))[2] == 2)
        self.assertEqual(self.ask(d4, "10.6.6.6"), DUNNO)
        with open(os.path.join(d3.tmp, "maillog"), "a") as f:
            f.write(event_line("10.6.6.6", 3))
        self.assertIsNotNone(d3.wait_log("ban: client=10.6.6.6/32, reason=lost-connection, "
                                          "time=3600s, level=1, count=3"))
        self.assertBanned(self.ask(d4, "10.6.6.6"), "lost-connection")
        self.assertIsNone(counter(r2, key))     # deleted with the ban

    def test_records_disappear_with_their_ttl(self):
        r = self.redis()
        d = self.rd_daemon(r, "client_restrictions = reject_banned_client\n")
        self.ban(d, "add", "192.0.2.20", "--time", "2s")
        self.assertIn(self.ttl(r, "mxshield:bans:{192.0.2.20}/32"), (1, 2))
        self.assertBanned(self.ask(d, "192.0.2.20"), most=2)
        self.wait_for("the TTL", lambda: r.cli("EXISTS", "mxshield:bans:{192.0.2.20}/32") == "0")
        self.assertEqual(self.ask(d, "192.0.2.20"), DUNNO)
        # gone by its TTL: no expiry scan, no unban line on Redis
        time.sleep(1.2)
        self.assertNotIn("unban:", d.read_log())

    def test_rate_counts_shared(self):
        r = self.redis()
        conf = "client_restrictions = check_rate client=3/1m\n"
        d1, d2 = self.rd_daemon(r, conf), self.rd_daemon(r, conf)
        self.assertAnswers(d1, [(req(), DUNNO), (req(), DUNNO)])
        self.assertAnswers(d2, [(req(), DUNNO), (req(), OVER % (3, 60, "client"))])
        self.assertAnswers(d1, [(req(), OVER % (3, 60, "client")),
                                (req(client="192.0.2.2"), DUNNO)])
        key = "mxshield:rates:{192.0.2.1}/client=3/1m"
        ttl = self.ttl(r, key)
        self.assertTrue(0 < ttl <= 120, ttl)    # two windows
        out, _ = self.ban(d1, "stats")
        self.assertIn("rate_counters 2\n", out)

    def test_rate_counts_shared_under_concurrency(self):
        """Two daemons counting one client at once lose no count."""
        r = self.redis()
        conf = "client_restrictions = check_rate client=1000/1h/warn\n"
        d1, d2 = self.rd_daemon(r, conf), self.rd_daemon(r, conf)
        n = 100
        data = request(req(client="192.0.2.77"))

        def burst(d):
            cs = [self.client(d) for _ in range(10)]
            for _ in range(n // 10):
                for c in cs:
                    c.send(data)
                for c in cs:
                    self.assertEqual(c.reply(), DUNNO)
        ts = [threading.Thread(target=burst, args=(d,)) for d in (d1, d2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(self.ask(d1, "192.0.2.77"), DUNNO)
        # `mxshield check` reads the counter (read-only: counts itself, writes not)
        trace = self.run_cli("check", "-c", d1.conf_path, "client_address=192.0.2.77")[1]
        self.assertIn("192.0.2.77/client=1000/1h: %d in 3600s" % (2 * n + 2), trace)

class Down(RedisBanTest):

    def test_known_bans_enforced_while_redis_is_down(self):
        r = self.redis()
        d = self.rd_daemon(r, "redis_command_timeout = 300\nban_log = @TMP@/maillog\n"
                           "ban_maxretry = 1\nban_bantime = 1h\n"
                           "client_restrictions = reject_banned_client\n")
        self.assertIsNotNone(d.wait_log("ban: following"))
        self.ban(d, "add", "192.0.2.9", "--time", "1h")
        self.assertBanned(self.ask(d, "192.0.2.9"))        # read: known here now
        self.assertEqual(self.ask(d, "192.0.2.10"), DUNNO)
        # a ban this daemon makes is known without a read
        with open(os.path.join(d.tmp, "maillog"), "a") as f:
            f.write(event_line("10.9.9.9", 200))
        self.assertIsNotNone(d.wait_log("ban: client=10.9.9.9/32, reason=lost-connection"))
        # a ban only in Redis, never read here
        self.ban(d, "add", "192.0.2.11", "--time", "1h")
        r.kill()
        self.assertBanned(self.ask(d, "192.0.2.9"))
        self.assertBanned(self.ask(d, "10.9.9.9"), "lost-connection")
        # unknown here: a temporary failure, neither a pass nor a 5xx
        self.assertEqual(self.ask(d, "192.0.2.11"), DBERR)
        self.assertEqual(self.ask(d, "192.0.2.10"), DBERR)
        self.assertIsNotNone(d.wait_log("refused, 192.0.2.9/32 banned as known locally"))
        # back: Redis answers again, and a lift there is seen
        r.start()                       # empty: the test's Redis keeps nothing
        self.wait_for("Redis back", lambda: self.ask(d, "192.0.2.10") == DUNNO, 10)
        self.ban(d, "add", "192.0.2.11", "--time", "1h")
        self.assertBanned(self.ask(d, "192.0.2.11"))

    def test_known_ban_lifted_is_forgotten(self):
        r = self.redis()
        d = self.rd_daemon(r, "redis_command_timeout = 300\n"
                           "client_restrictions = reject_banned_client\n")
        self.ban(d, "add", "192.0.2.9", "--time", "1h")
        self.assertBanned(self.ask(d, "192.0.2.9"))
        self.ban(d, "del", "192.0.2.9")
        self.assertEqual(self.ask(d, "192.0.2.9"), DUNNO)   # read: forgotten
        r.kill()
        self.assertEqual(self.ask(d, "192.0.2.9"), DBERR)

    def test_rate_error_action(self):
        r = self.redis()
        d1 = self.rd_daemon(r, "redis_command_timeout = 300\n"
                            "client_restrictions = check_rate client=1/1m/reject\n")
        d2 = self.rd_daemon(r, "redis_command_timeout = 300\nrate_limit_error_action = dunno\n"
                            "client_restrictions = check_rate client=1/1m/reject\n")
        self.assertAnswers(d1, [(req(), DUNNO), (req(), "action=554 5.7.1 Rate limit exceeded:"
                                                 " 1 per 60s for client")])
        r.kill()
        # over the limit before, but the counter cannot be read: never a reject
        self.assertAnswers(d1, [(req(), DBERR), (req(client="192.0.2.2"), DBERR)])
        self.assertAnswers(d2, [(req(), DUNNO), (req(client="192.0.2.2"), DUNNO)])
        self.assertIsNotNone(d2.wait_log("check_rate: database count failed for unknown[192.0.2.1]:"
                                          " not counted (rate_limit_error_action = dunno)"))

    def test_bad_rate_error_action(self):
        r = self.redis()
        d = self.rd_daemon(r, "client_restrictions = check_rate client=1/1m\n")
        d.write_conf(d.conf_text + "rate_limit_error_action = pass\n")
        code, out, err = self.run_cli("check", "-c", d.conf_path, "client_address=192.0.2.1")
        self.assertNotEqual(code, 0)
        self.assertIn("rate_limit_error_action: bad value \"pass\" (expected defer or dunno)",
                      out + err)


def counter_script():
    """the Lua counter script, from its C source (store/redis_counter.c)"""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "src", "store", "redis_counter.c")) as f:
        src = f.read()
    with open(os.path.join(here, "..", "..", "src", "store", "redis_impl.h")) as f:
        skew = re.search(r'#define REDIS_SKEW_MAX_TEXT\s+"(\d+)"', f.read()).group(1)
    body = src[src.index("redis_counter_script[] ="):]
    body = body[:body.index(";\n")].replace('" REDIS_SKEW_MAX_TEXT "', skew)
    return "".join(bytes(m, "ascii").decode("unicode_escape")
                   for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body))


class CounterScript(RedisBanTest):

    def test_windows_as_in_c(self):
        """The script moves its windows as ban.c's roll() does (the cases
        of tests/unit/test_ban.c and test_bancache.c)."""
        r = self.redis()
        script = counter_script()
        key = "mxshield:rates:{t}/x"

        def hit(now, window=600, n=1):
            p = subprocess.run(
                ["redis-cli", "-p", str(r.port), "EVAL", script, "1", key, str(now),
                 str(window), str(n)], capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
            return counter(r, key)

        self.assertEqual(hit(1000), (2200, 1000, 1, 0))
        self.assertEqual(hit(1599), (2200, 1000, 2, 0))
        self.assertEqual(self.ttl(r, key), 2200 - 1599)
        # the next window: the count becomes the previous one
        self.assertEqual(hit(1600), (2800, 1600, 1, 2))
        # a clock up to 10 s behind the window's start: the same window
        self.assertEqual(hit(1590), (2800, 1600, 2, 2))
        # further back: the clock went back, counting starts again
        self.assertEqual(hit(1589), (2789, 1589, 1, 0))
        # a window long past counts nothing
        self.assertEqual(hit(1589 + 3 * 600), (4589, 3389, 1, 0))
        # n at once; a value that is not a counter starts again
        self.assertEqual(hit(3390, n=5), (4589, 3389, 6, 0))
        r.cli("SET", key, "garbage")
        self.assertEqual(hit(5000), (6200, 5000, 1, 0))
        # the count is capped at 2^32, as in C
        self.assertEqual(hit(5001, n=2 ** 32), (6200, 5000, 1, 0))
        self.assertEqual(hit(5002, n=2 ** 32 - 1), (6200, 5000, 2 ** 32, 0))


class Acl(RedisBanTest):

    def test_documented_acl_and_one_without_scripts(self):
        """The README's ACL counts; without the script commands the
        counters fail (temporarily) and nothing else does."""
        perms = "~mxshield:* +get +set +del +ping +role +scan +select"
        r = RedisServer("user default off\n"
                        "user mx on >pw %s +evalsha +eval +script|load\n"
                        "user noscript on >pw %s\n" % (perms, perms))
        self.addCleanup(r.stop)
        conf = ("redis_user = %s\nredis_password = pw\n"
                "client_restrictions = reject_banned_client, check_rate client=1/1m\n")
        d = self.rd_daemon(r, conf % "mx")
        self.assertAnswers(d, [(req(), DUNNO), (req(), OVER % (1, 60, "client"))])
        d2 = self.rd_daemon(r, conf % "noscript")
        self.assertIsNotNone(d2.wait_log("cannot load the counter script"))
        self.assertAnswers(d2, [(req(client="192.0.2.3"), DBERR)])
        self.ban(d2, "add", "192.0.2.4")         # the rest works: SET, GET
        self.assertBanned(self.ask(d2, "192.0.2.4"), most=600)


class Restore(RedisBanTest):

    def test_bans_back_in_nftables_at_start(self):
        r = self.redis()
        tmp = self.tmpdir()
        rec = os.path.join(tmp, "nft.batches")
        fake = os.path.join(tmp, "fake-nft")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ncat >> %s\necho '# --' >> %s\n" % (rec, rec))
        os.chmod(fake, stat.S_IRWXU)
        first = self.rd_daemon(r)
        self.ban(first, "add", "192.0.2.9", "--time", "1h")
        self.ban(first, "add", "2001:db8:1:2::5", "--time", "2h")
        d = self.rd_daemon(r, "ban_log = @TMP@/maillog\nban_nftables = yes\n"
                           "ban_nftables_command = %s\n" % fake)
        self.assertIsNotNone(d.wait_log("ban: 2 bans put back in nftables"))
        with open(rec) as f:
            batches = f.read()
        self.assertRegex(batches, r"192\.0\.2\.9 timeout 3\d\d\ds")
        self.assertRegex(batches, r"2001:db8:1:2::/64 timeout 7\d\d\ds")
