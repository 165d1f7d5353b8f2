"""Listeners, reload on SIGHUP, graceful stop on SIGTERM."""

import os
import signal
import socket
import stat
import subprocess
import time
import unittest

import harness
from harness import COMMON_CONF, Daemon, DaemonTest, ALL_DAEMONS, ipv6_loopback_available, request

RELAY = "action=554 5.7.1 <%s>: Relay access denied"
ASK = {"recipient": "x@elsewhere.example"}


class Listeners(DaemonTest):

    def test_unix_socket_with_mode(self):
        d = self.daemon("listen = unix:@TMP@/policy.sock\n"
                        "unix_socket_mode = 0660\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        path = os.path.join(d.tmp, "policy.sock")
        st = os.stat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), "not a socket")
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        c = self.client(d)
        self.assertEqual(c.sock.family, socket.AF_UNIX)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")
        self.assertEqual(c.ask(), "action=DUNNO")

    def test_unix_socket_stale_after_crash(self):
        """A socket file left by a killed daemon does not stop the next one."""
        conf = ("listen = unix:@TMP@/policy.sock\n"
                "recipient_restrictions = reject_unauth_destination\n")
        d = self.daemon(conf)
        d.proc.kill()
        d.proc.wait()
        d.expect_exit = True
        self.assertTrue(os.path.exists(os.path.join(d.tmp, "policy.sock")))
        d2 = Daemon(d.tmp, COMMON_CONF + conf)
        d2.log_path += ".2"
        ALL_DAEMONS.append(d2)
        self.addCleanup(d2.stop)
        d2.start()
        c = self.client(d2)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")

    def test_inet_and_unix_together(self):
        d = self.daemon("listen = inet:127.0.0.1:@PORT@, unix:@TMP@/p.sock\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        a = self.client(d)
        u = d.connect_unix(os.path.join(d.tmp, "p.sock"))
        self.addCleanup(u.close)
        self.assertEqual(a.sock.family, socket.AF_INET)
        self.assertEqual(a.ask(ASK), RELAY % "x@elsewhere.example")
        self.assertEqual(u.ask(ASK), RELAY % "x@elsewhere.example")

    def test_ipv6_listener(self):
        if not ipv6_loopback_available():
            self.skipTest("::1 is not available")
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n", host="::1")
        c = self.client(d)
        self.assertEqual(c.sock.family, socket.AF_INET6)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")
        self.assertEqual(c.ask(), "action=DUNNO")

    def test_listen_port_in_use_fails(self):
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        tmp = self.tmpdir()
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("listen = inet:127.0.0.1:%d\ndata_directory = %s/data\n" % (port, tmp))
        rc, out, err = self.run_cli("serve", "-c", conf, timeout=5)
        self.assertNotEqual(rc, 0)
        self.assertIn(str(port), err)

    def test_second_instance_leaves_a_live_unix_socket_alone(self):
        """A second daemon with the same configuration refuses to start, as
        with a TCP port in use; the running one stays reachable."""
        d = self.daemon("listen = unix:@TMP@/policy.sock\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        path = os.path.join(d.tmp, "policy.sock")
        ino = os.stat(path).st_ino
        p = subprocess.Popen([harness.BINARY, "serve", "-c", d.conf_path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            self.fail("second instance took over the socket and kept running: " + err[-500:])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unix:%s: address already in use" % path, err)
        self.assertEqual(os.stat(path).st_ino, ino, "socket file replaced")
        c = self.client(d)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")

    def test_stuck_instance_with_a_full_queue_is_refused_at_once(self):
        """A process listening on the socket but not accepting (its queue
        full) is still the socket's owner: the second instance refuses to
        start at once, it does not wait in connect(2) for it forever."""
        tmp = self.tmpdir()
        path = os.path.join(tmp, "policy.sock")
        srv = socket.socket(socket.AF_UNIX)
        self.addCleanup(srv.close)
        srv.bind(path)
        srv.listen(0)
        for _ in range(64):
            c = socket.socket(socket.AF_UNIX)
            self.addCleanup(c.close)
            c.setblocking(False)
            try:
                c.connect(path)
            except BlockingIOError:
                break
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("listen = unix:%s\ndata_directory = %s/data\n" % (path, tmp))
        try:
            rc, out, err = self.run_cli("serve", "-c", conf, timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("serve hung on the socket of a stuck instance")
        self.assertNotEqual(rc, 0)
        self.assertIn("unix:%s: address already in use" % path, err)
        self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode), "socket file removed")

    def test_socket_file_removed_while_still_listening(self):
        """At exit the socket file is removed before the listening socket is
        closed: once closed, a starting instance finds the file stale,
        replaces it, and the new file may get the same inode number, which
        the check before our unlink would take for ours."""
        import re
        import shutil
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        tmp = self.tmpdir()
        path = os.path.join(tmp, "policy.sock")
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write(COMMON_CONF + "listen = unix:%s\ndata_directory = %s/data\n" % (path, tmp))
        trace = os.path.join(tmp, "trace")
        log = open(os.path.join(tmp, "log"), "w")
        p = subprocess.Popen(["strace", "-f", "-yy", "-o", trace, "-e", "trace=close,unlink",
                              harness.BINARY, "serve", "-c", conf],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        pid = None
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and p.poll() is None and pid is None:
                with open(log.name) as f:
                    m = re.search(r"\[(\d+)\]: mxshield ready", f.read())
                pid = int(m.group(1)) if m else None
                time.sleep(0.05)
        finally:
            os.kill(pid, signal.SIGTERM) if pid else p.kill()
            p.wait(10)
            log.close()
        self.assertIsNotNone(pid, "daemon did not start")
        self.assertFalse(os.path.exists(path), "socket file left behind")
        with open(trace) as f:
            calls = [l for l in f.read().splitlines() if path in l]
        unlinked = [i for i, l in enumerate(calls) if "unlink(" in l]
        closed = [i for i, l in enumerate(calls) if "close(" in l]
        self.assertTrue(unlinked and closed, "\n".join(calls))
        self.assertLess(unlinked[0], closed[0], "\n".join(calls))

    def test_unix_socket_created_with_owner_and_mode(self):
        """The socket is made with its owner and mode (no chown by name)."""
        if os.geteuid() != 0:
            self.skipTest("needs root")
        import pwd
        nobody = pwd.getpwnam("nobody")
        tmp = self.tmpdir()
        os.chmod(tmp, 0o755)
        sockdir = os.path.join(tmp, "spool")
        os.mkdir(sockdir, 0o700)
        os.chown(sockdir, nobody.pw_uid, nobody.pw_gid)
        d = Daemon(tmp, COMMON_CONF + "listen = unix:%s/p.sock\n"
                   "unix_socket_mode = 0600\nunix_socket_owner = nobody\n"
                   "unix_socket_group = nogroup\n" % sockdir)
        ALL_DAEMONS.append(d)
        self.addCleanup(d.stop)
        d.start()
        st = os.lstat(os.path.join(sockdir, "p.sock"))
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (nobody.pw_uid, nobody.pw_gid, 0o600))
        c = self.client(d)
        self.assertEqual(c.ask(), "action=DUNNO")

    def test_listener_host_name(self):
        """inet:localhost:PORT: accepted by `config`, bound by `serve`."""
        d = self.daemon("listen = inet:localhost:@PORT@\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        rc, out, err = self.run_cli("config", "-c", d.conf_path)
        self.assertEqual(rc, 0, err)
        c = harness.Client(socket.AF_INET, ("127.0.0.1", d.port))
        self.addCleanup(c.close)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")

    def test_bad_listener_refused_by_every_command(self):
        tmp = self.tmpdir()
        for word in ("inet:bad_host!:10023", "inet:127.0.0.1:0", "inet:[::1:10023",
                     "inet:127.0.0.1", "unix:relative/path", "tcp:127.0.0.1:10023",
                     "inet:[no.v6]:10023", "inet:127.0.0.1:65536"):
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                f.write("listen = %s\n" % word)
            for cmd in (["config", "-c", conf], ["postfix-config", "-c", conf],
                        ["serve", "-c", conf]):
                rc, out, err = self.run_cli(*cmd, timeout=5)
                self.assertNotEqual(rc, 0, "%s accepted %s" % (cmd[0], word))
                self.assertIn(word, err, "%s: %s" % (cmd[0], word))


class Signals(DaemonTest):

    def test_sighup_broken_config_keeps_old_policy(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")
        good = d.conf_text_final
        for bad_line in ("bogus_parameter = 1", "recipient_restrictions = reject_everything"):
            text = good + "# broken below\n" + bad_line + "\n"
            lineno = text.count("\n")
            d.write_conf(text)
            mark = d.log_size()
            d.signal(signal.SIGHUP)
            word = bad_line.split()[-1] if "reject" in bad_line else "bogus_parameter"
            line = d.wait_log("%s:%d" % (d.conf_path, lineno), word, after=mark)
            self.assertIsNotNone(line, "refused reload not logged with %s:%d and %r; log:\n%s"
                                 % (d.conf_path, lineno, word, d.read_log()[mark:]))
            self.assertTrue(d.alive(), "daemon exited on a broken reload")
            # old policy on the old connection and on a new one
            self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")
            c2 = self.client(d)
            self.assertEqual(c2.ask(ASK), RELAY % "x@elsewhere.example")
            self.assertEqual(c2.ask(), "action=DUNNO")

    def test_sighup_good_config_changes_policy(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n",
                        {"new": "bob@our.example REJECT reloaded table\n"})
        c = self.client(d)
        self.assertEqual(c.ask(ASK), RELAY % "x@elsewhere.example")
        self.assertEqual(c.ask(), "action=DUNNO")
        half = request()
        c.send(half[:50])                      # a request in the middle of arriving
        d.write_conf(d.conf_text_final.replace(
            "recipient_restrictions = reject_unauth_destination",
            "recipient_restrictions = check_recipient_access hash:@TMP@/new"))
        d.signal(signal.SIGHUP)
        time.sleep(0.3)
        c.send(half[50:])
        first = c.reply()
        self.assertIn(first, ("action=DUNNO",
                              "action=554 5.7.1 <bob@our.example>: Recipient address "
                              "rejected: reloaded table"))
        deadline = time.monotonic() + 3
        got = None
        while time.monotonic() < deadline:
            got = c.ask()
            if got != "action=DUNNO":
                break
            time.sleep(0.05)
        self.assertEqual(got, "action=554 5.7.1 <bob@our.example>: Recipient address "
                              "rejected: reloaded table")
        self.assertEqual(c.ask(ASK), "action=DUNNO")   # relay check is gone
        c2 = self.client(d)
        self.assertEqual(c2.ask(), got)

    def test_sigterm_graceful_exit_0(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        idle = self.client(d)
        self.assertEqual(idle.ask(ASK), RELAY % "x@elsewhere.example")
        partial = self.client(d)
        partial.send(request()[:20])
        fresh = self.client(d)
        d.expect_exit = True
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        status = d.wait_exit(5)
        self.assertIsNotNone(status, "daemon did not exit within 5s of SIGTERM")
        self.assertEqual(status, 0, "exit status after SIGTERM; log:\n" + d.read_log()[-1500:])
        self.assertLess(time.monotonic() - t0, 3.0)
        for c in (idle, partial, fresh):
            self.assertTrue(c.wait_closed(1.0), "connection left open after exit")
        with self.assertRaises(OSError):
            d.connect(timeout=1)

    def test_sigterm_idle_daemon(self):
        d = self.daemon("")
        d.expect_exit = True
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0)
