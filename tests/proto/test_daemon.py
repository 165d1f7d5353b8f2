"""The daemon skeleton: privilege drop, tables the run-as user cannot read,
reload semantics of each class of parameter, the stop grace time, loop
stall warnings."""

import os
import pwd
import signal
import stat
import subprocess
import time

import harness
from harness import COMMON_CONF, DaemonTest, request

NOW = int(time.time())
GREYLISTED = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"


def attempt(t):
    return {"client_address": "192.0.2.5", "client_name": "mail.sender.example",
            "sender": "alice@sender.example", "recipient": "bob@our.example",
            "instance": "m%d" % t, "policy_test_time": str(t)}


class AsUser(DaemonTest):
    """Started as root with user = nobody."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.nobody = pwd.getpwnam("nobody")
        self.tmp = self.tmpdir()
        os.chmod(self.tmp, 0o755)       # nobody may reach what is meant for him

    def serve(self, conf, timeout=5, mode=0o644):
        """Run serve; (status or None if it kept running, stderr)."""
        path = os.path.join(self.tmp, "c.conf")
        with open(path, "w") as f:
            f.write(COMMON_CONF + "listen = inet:127.0.0.1:%d\n" % harness.free_port() + conf)
        os.chmod(path, mode)
        p = subprocess.Popen([harness.BINARY, "serve", "-c", path], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=timeout)
            return p.returncode, err
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate()
            return None, err

    def test_planted_symlink_in_data_directory(self):
        """The user owns data_directory: a link he plants there is never
        followed by root's hand-over of the database files."""
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "w") as f:
            f.write("root's file\n")
        os.chmod(victim, 0o600)
        db = os.path.join(self.tmp, "db")
        os.mkdir(db, 0o700)
        os.chown(db, self.nobody.pw_uid, self.nobody.pw_gid)
        os.symlink(victim, os.path.join(db, "data.mdb"))
        rc, err = self.serve("user = nobody\ndata_directory = %s\n"
                             "recipient_restrictions = greylist\n" % db, timeout=3)
        st = os.stat(victim)
        self.assertEqual((st.st_uid, st.st_gid), (0, 0), "root chowned the link's target")
        self.assertIsNotNone(rc, "daemon started with a planted link")
        self.assertNotEqual(rc, 0)
        self.assertIn("%s/data.mdb: is a symbolic link" % db, err)

    def test_data_directory_handed_over(self):
        """A database left by a run as root is the user's afterwards."""
        db = os.path.join(self.tmp, "db")
        os.mkdir(db, 0o700)
        with open(os.path.join(db, "lock.mdb"), "w"):
            pass
        d = self.daemon("user = nobody\ndata_directory = %s\n"
                        "recipient_restrictions = greylist\n" % db)
        self.assertEqual(self.client(d).ask(), GREYLISTED)
        for name in ("", "data.mdb", "lock.mdb"):
            st = os.stat(os.path.join(db, name))
            self.assertEqual(st.st_uid, self.nobody.pw_uid, name or db)

    def test_nothing_changed_by_name_at_start(self):
        """Under strace: the unix socket gets its owner and mode without
        chown/chmod by path, and the data directory's files are handed over
        through descriptors (fchownat with AT_EMPTY_PATH)."""
        import shutil
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        sockdir = os.path.join(self.tmp, "spool")
        os.mkdir(sockdir, 0o700)
        os.chown(sockdir, self.nobody.pw_uid, self.nobody.pw_gid)
        db = os.path.join(self.tmp, "db")
        os.mkdir(db, 0o700)
        with open(os.path.join(db, "lock.mdb"), "w"):
            pass
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write(COMMON_CONF + "listen = unix:%s/p.sock\nunix_socket_mode = 0600\n"
                    "unix_socket_owner = nobody\nuser = nobody\ndata_directory = %s\n"
                    "recipient_restrictions = greylist\n" % (sockdir, db))
        trace = os.path.join(self.tmp, "trace")
        log = open(os.path.join(self.tmp, "log"), "w")
        p = subprocess.Popen(["strace", "-f", "-o", trace, "-e",
                              "trace=chown,lchown,fchown,fchownat,chmod,fchmod,fchmodat",
                              harness.BINARY, "serve", "-c", conf],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        import re
        pid = None
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and p.poll() is None:
                with open(log.name) as f:
                    text = f.read()
                m = re.search(r"\[(\d+)\]: mxshield ready", text)
                if m:
                    pid = int(m.group(1))
                    break
                time.sleep(0.05)
        finally:
            # the daemon, not strace: it stops and strace follows
            os.kill(pid, signal.SIGTERM) if pid else p.kill()
            p.wait(10)
            log.close()
        with open(log.name) as f:
            self.assertIn("mxshield ready", f.read())
        st = os.lstat(os.path.join(db, "lock.mdb"))
        self.assertEqual(st.st_uid, self.nobody.pw_uid)
        with open(trace) as f:
            calls = [l for l in f.read().splitlines() if "(" in l and "resumed" not in l]
        by_name = [l for l in calls
                   if not ("fchownat(" in l and "AT_EMPTY_PATH" in l)
                   and not ("fchown(" in l or "fchmod(" in l)]
        self.assertEqual(by_name, [], "changed by name")

    def test_first_start_as_user_creates_data_directory(self):
        """Started as root with user = nobody and no data_directory yet:
        it is created, handed to the user, and the control socket is in it."""
        data = os.path.join(self.tmp, "fresh")
        d = self.daemon("user = nobody\ndata_directory = %s\n" % data)
        st = os.lstat(data)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (self.nobody.pw_uid, self.nobody.pw_gid, 0o700))
        self.assertTrue(stat.S_ISSOCK(os.lstat(os.path.join(data, "control")).st_mode))
        rc, out, err = self.run_cli("status", "-c", d.conf_path)
        self.assertEqual(rc, 0, err + d.read_log()[-1000:])

    def test_table_the_user_cannot_read_is_refused_at_start(self):
        table = os.path.join(self.tmp, "access")
        with open(table, "w") as f:
            f.write("bob@our.example REJECT\n")
        os.chmod(table, 0o600)
        # the configuration file readable by the user or not: the tables
        # are checked either way
        for mode in (0o644, 0o600):
            rc, err = self.serve("user = nobody\ndata_directory = %s/db\n"
                                 "recipient_restrictions = check_recipient_access hash:%s\n"
                                 % (self.tmp, table), timeout=3, mode=mode)
            self.assertIsNotNone(rc, "started with a table its user cannot read (%o)" % mode)
            self.assertNotEqual(rc, 0)
            self.assertIn(table, err)
            self.assertIn("as user nobody", err)


class Reload(DaemonTest):

    def test_restart_parameter_keeps_its_value(self):
        """greylist_privacy needs a restart: after SIGHUP a triplet that
        passed still passes (its key is still the plain one)."""
        db = os.path.join(self.tmpdir(), "db")
        d = self.daemon("data_directory = %s\ngreylist_allow_test_time = yes\n"
                        "recipient_restrictions = greylist\n" % db)
        c = self.client(d)
        self.assertEqual(c.ask(attempt(NOW)), GREYLISTED)
        self.assertTrue(c.ask(attempt(NOW + 400)).startswith("action=PREPEND X-Greylist"))
        d.write_conf(d.conf_text_final + "greylist_privacy = yes\n")
        mark = d.log_size()
        d.signal(signal.SIGHUP)
        self.assertIsNotNone(d.wait_log("greylist_privacy changed; this takes effect at the"
                                        " next restart", after=mark))
        self.assertIsNotNone(d.wait_log("reloaded configuration", after=mark))
        self.assertEqual(c.ask(attempt(NOW + 500)), "action=DUNNO")
        c2 = self.client(d)
        self.assertEqual(c2.ask(attempt(NOW + 600)), "action=DUNNO")

    def test_reloadable_timer_is_armed_again(self):
        """table_check_interval is reloadable: 1h at start, 1s after SIGHUP."""
        d = self.daemon("table_check_interval = 1h\n"
                        "recipient_restrictions = check_recipient_access hash:@TMP@/t\n",
                        {"t": "bob@our.example REJECT first\n"})
        c = self.client(d)
        first = "action=554 5.7.1 <bob@our.example>: Recipient address rejected: first"
        self.assertEqual(c.ask(), first)
        d.write_conf(d.conf_text_final.replace("table_check_interval = 1h",
                                               "table_check_interval = 1s"))
        mark = d.log_size()
        d.signal(signal.SIGHUP)
        self.assertIsNotNone(d.wait_log("reloaded configuration", after=mark))
        time.sleep(0.2)
        d.write_file("t", "bob@our.example REJECT second, longer text\n")
        deadline = time.monotonic() + 4
        got = None
        while time.monotonic() < deadline:
            got = c.ask()
            if got != first:
                break
            time.sleep(0.1)
        self.assertEqual(got, "action=554 5.7.1 <bob@our.example>: Recipient address "
                              "rejected: second, longer text")


class Stop(DaemonTest):

    def test_stop_grace_time(self):
        """A request waiting for DNS holds the exit for stop_grace_time, no
        longer; the exit status is still 0."""
        import dnsserver
        resp = dnsserver.Responder({"timeout.test": "timeout"}).start()
        self.addCleanup(resp.stop)
        d = self.daemon("dns_resolver = %s\ndns_timeout = 30s\nstop_grace_time = 1s\n"
                        "helo_restrictions = reject_unknown_helo_hostname\n" % resp.addr)
        c = self.client(d)
        c.send(request({"helo_name": "timeout.test"}))
        deadline = time.monotonic() + 3
        while not any(q[0] == "timeout.test" for q in resp.seen) and time.monotonic() < deadline:
            time.sleep(0.02)
        d.expect_exit = True
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        status = d.wait_exit(5)
        took = time.monotonic() - t0
        self.assertEqual(status, 0)
        self.assertGreater(took, 0.9)
        self.assertLess(took, 2.5)
        self.assertIsNotNone(d.wait_log("still open after stop_grace_time"))


class Stalls(DaemonTest):

    def test_reload_compiles_off_the_loop(self):
        """SIGHUP compiles the new policy (a large table) in a worker: the
        running policy keeps answering meanwhile, then the new one takes
        over."""
        d = self.daemon("recipient_restrictions = check_recipient_access hash:@TMP@/small\n",
                        {"small": "probe@our.example REJECT old\n"})
        old = "action=554 5.7.1 <probe@our.example>: Recipient address rejected: old"
        new = "action=554 5.7.1 <probe@our.example>: Recipient address rejected: new"
        c = self.client(d)
        probe = {"recipient": "probe@our.example"}
        self.assertEqual(c.ask(probe), old)
        d.write_file("big", "probe@our.example REJECT new\n" + "".join(
            "user%d@big.example REJECT\n" % i for i in range(150000)))
        d.write_conf(d.conf_text_final.replace("hash:@TMP@/small", "hash:@TMP@/big"))
        d.signal(signal.SIGHUP)
        answers = []
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            got = c.ask(probe)
            answers.append(got)
            if got == new:
                break
        self.assertEqual(answers[-1], new)
        self.assertEqual(set(answers[:-1]), {old} if len(answers) > 1 else set())
        self.assertGreaterEqual(len(answers) - 1, 3,
                                "the loop stopped answering while the reload compiled")

    def test_table_reload_off_the_loop(self):
        """A large table that changed is read by the worker: no answer
        waits for it, then the new contents are in force."""
        d = self.daemon("recipient_restrictions = check_recipient_access hash:@TMP@/big\n",
                        {"big": "probe@our.example REJECT old\n"})
        old = "action=554 5.7.1 <probe@our.example>: Recipient address rejected: old"
        new = "action=554 5.7.1 <probe@our.example>: Recipient address rejected: new"
        c = self.client(d)
        probe = {"recipient": "probe@our.example"}
        self.assertEqual(c.ask(probe), old)
        d.write_file("big.tmp", "probe@our.example REJECT new\n" + "".join(
            "user%d@big.example REJECT\n" % i for i in range(400000)))
        os.rename(os.path.join(d.tmp, "big.tmp"), os.path.join(d.tmp, "big"))
        answers, slowest = [], 0.0
        start = time.monotonic()
        deadline = start + 25
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            got = c.ask(probe)
            slowest = max(slowest, time.monotonic() - t0)
            answers.append(got)
            if got == new:
                break
        self.assertEqual(answers[-1], new)
        self.assertTrue(d.wait_log("table hash:%s/big: reloaded" % d.tmp))
        # an answer that waited for the load would take as long as the
        # load; on a loaded host (ASan, other work) a scheduling delay of
        # a good part of a second is not that
        took = time.monotonic() - start
        self.assertLess(slowest, max(0.25, took / 5),
                        "an answer waited %.2fs for the table load (%.2fs)" % (slowest, took))

    def test_sighup_while_the_worker_is_busy_and_stop_during_a_compile(self):
        """A SIGHUP while a table is being read runs after that job; a
        SIGTERM during a compile waits for it, drops its result, exits 0."""
        d = self.daemon("recipient_restrictions = check_recipient_access hash:@TMP@/big\n",
                        {"big": "probe@our.example REJECT old\n"})
        big = "probe@our.example REJECT new\n" + "".join(
            "user%d@big.example REJECT\n" % i for i in range(200000))
        mark = d.log_size()
        d.write_file("big.tmp", big)
        os.rename(os.path.join(d.tmp, "big.tmp"), os.path.join(d.tmp, "big"))
        # the next tick starts reading it; a SIGHUP meanwhile must not be lost
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            d.signal(signal.SIGHUP)
            if d.wait_log("table hash:%s/big: reloaded" % d.tmp, after=mark, timeout=0.05):
                break
        self.assertIsNotNone(d.wait_log("reloaded configuration", after=mark, timeout=20))
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "probe@our.example"}),
                         "action=554 5.7.1 <probe@our.example>: Recipient address rejected: new")
        # now stop in the middle of a compile of the large table
        mark = d.log_size()
        d.signal(signal.SIGHUP)
        time.sleep(0.05)
        d.expect_exit = True
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(20), 0, d.read_log()[mark:])

    def test_slow_pass_is_named(self):
        """A pass of the loop longer than event_loop_stall_limit is logged
        with what took the time: here greylist whitelists reloading, which
        stay on the loop."""
        db = os.path.join(self.tmpdir(), "db")
        d = self.daemon("event_loop_stall_limit = 5\ndata_directory = %s\n"
                        "greylist_whitelist_clients = @TMP@/wl\n"
                        "recipient_restrictions = greylist\n" % db,
                        {"wl": "mail.example.com\n"})
        mark = d.log_size()
        time.sleep(0.1)
        d.write_file("wl", "".join("/^mx%d\\.example\\.(com|net|org)$/\n" % i
                                   for i in range(5000)))
        line = d.wait_log("event loop stalled", "slowest: table change check",
                          after=mark, timeout=20)
        self.assertIsNotNone(line, d.read_log()[mark:])
        self.assertDaemonServes(d)


class Control(DaemonTest):

    def ctl(self, d, data):
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(os.path.join(d.tmp, "ctl"))
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        return out.decode()

    def test_status_prints_the_counters(self):
        d = self.daemon("control_socket = @TMP@/ctl\npolicy_connection_limit = 2\n"
                        "policy_line_length_limit = 64\n")
        st = os.lstat(os.path.join(d.tmp, "ctl"))
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        c = self.client(d)
        for _ in range(3):
            self.assertEqual(c.ask(), "action=DUNNO")
        bad = self.client(d)
        bad.send(b"x" * 65 + b"\n")
        self.assertTrue(bad.wait_closed())
        second = self.client(d)
        self.assertEqual(second.ask(), "action=DUNNO")
        third = self.client(d)              # the limit is 2: refused
        self.assertTrue(third.wait_closed())
        rc, out, err = self.run_cli("status", "-c", d.conf_path)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("mxshield_answers_total 4", lines)
        self.assertIn("mxshield_connections_total 3", lines)
        self.assertIn("mxshield_connections_open 2", lines)
        self.assertIn("mxshield_connections_refused_total 1", lines)
        self.assertIn('mxshield_limit_drops_total{limit="policy_line_length_limit"} 1', lines)
        self.assertIn('mxshield_requests_total{protocol_state="RCPT",action="dunno"} 4', lines)

    def test_control_protocol_errors(self):
        d = self.daemon("control_socket = @TMP@/ctl\n")
        self.assertEqual(self.ctl(d, b"bogus\n"),
                         "error: unknown command (expected status)\n")
        self.assertEqual(self.ctl(d, b"x" * 256 + b"\n"),
                         "error: unknown command (expected status)\n")
        self.assertEqual(self.ctl(d, b"x" * 257),
                         "error: command longer than 256 bytes\n")
        self.assertTrue(self.ctl(d, b"status\n").startswith("mxshield-control 1\n"))
        self.assertDaemonServes(d)

    def test_first_start_creates_data_directory(self):
        """No data_directory yet and the default control_socket inside it:
        the first start creates the directory (0700, ours) before binding,
        so `mxshield status` reaches the daemon without a restart."""
        data = os.path.join(self.tmpdir(), "fresh")
        d = self.daemon("data_directory = %s\n" % data)
        st = os.lstat(data)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (os.geteuid(), 0o700))
        self.assertNotIn("running without a control socket", d.read_log())
        rc, out, err = self.run_cli("status", "-c", d.conf_path)
        self.assertEqual(rc, 0, err + d.read_log()[-1000:])
        self.assertIn("mxshield_connections_open 0", out.splitlines())

    def test_silent_control_client_does_not_hold_the_stop(self):
        """A control client that sent no (whole) command is closed at
        SIGTERM, as an idle policy client is: the daemon exits at once, not
        after the control socket's 10 s timeout or stop_grace_time."""
        import socket
        d = self.daemon("control_socket = @TMP@/ctl\nstop_grace_time = 30s\n")
        silent = socket.socket(socket.AF_UNIX)
        self.addCleanup(silent.close)
        silent.connect(os.path.join(d.tmp, "ctl"))
        partial = socket.socket(socket.AF_UNIX)
        self.addCleanup(partial.close)
        partial.connect(os.path.join(d.tmp, "ctl"))
        partial.sendall(b"sta")
        self.assertDaemonServes(d)          # both accepted by now
        d.expect_exit = True
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.read_log()[-1000:])
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertIsNone(d.wait_log("still open after stop_grace_time", timeout=0))

    def test_status_without_a_daemon(self):
        tmp = self.tmpdir()
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("control_socket = %s/none\n" % tmp)
        rc, out, err = self.run_cli("status", "-c", conf)
        self.assertNotEqual(rc, 0)
        self.assertIn("cannot connect to %s/none" % tmp, err)

    def test_busy_control_socket_does_not_stop_the_service(self):
        d = self.daemon("control_socket = @TMP@/ctl\n")
        d2 = harness.Daemon(d.tmp, COMMON_CONF + "control_socket = %s/ctl\n" % d.tmp)
        d2.log_path += ".2"
        d2.conf_path += ".2"
        harness.ALL_DAEMONS.append(d2)
        self.addCleanup(d2.stop)
        d2.start()
        self.assertIsNotNone(d2.wait_log("control_socket", "address already in use",
                                         "running without a control socket"))
        self.assertDaemonServes(d2)
        rc, out, err = self.run_cli("status", "-c", d.conf_path)
        self.assertEqual(rc, 0, err)
