"""`mxshield ban follow`: the log follower in the real program, on a log
rotated during a burst (by rename, then by copytruncate) and across a
restart: every event once, none lost, none repeated."""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import DaemonTest


def event_line(i):
    """one Postfix line that is an event for client 192.0.2.(i % 250), pid i"""
    return ("Dec  5 06:00:00 mx postfix/smtpd[%d]: lost connection after EHLO from "
            "unknown[10.%d.%d.%d]\n" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))


def noise_line(i):
    return "Dec  5 06:00:00 mx postfix/qmgr[900]: %010X: removed\n" % i


class Follower:
    def __init__(self, test, log, state, *extra):
        self.test = test
        self.proc = subprocess.Popen(
            [harness.BINARY, "ban", "follow", "--json", "--state", state] + list(extra) + [log],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        self.hosts = []

    def read_until(self, n, timeout=10.0):
        """collect events until n in all (or timeout); the hosts in order"""
        end = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while len(self.hosts) < n and time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.buf += chunk
            while b"\n" in self.buf:
                row, self.buf = self.buf.split(b"\n", 1)
                self.hosts.append(json.loads(row)["host"])
        return self.hosts

    def quiet(self, seconds=0.3):
        """nothing more comes"""
        n = len(self.hosts)
        self.read_until(n + 1, timeout=seconds)
        self.test.assertEqual(len(self.hosts), n, self.hosts[n:])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.test.assertEqual(self.proc.wait(timeout=10), 0, self.proc.stderr.read())
        self.proc.stdout.close()
        self.proc.stderr.close()


def want(a, b):
    return ["10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(a, b)]


class BanFollow(DaemonTest):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mxs-follow-")
        self.log = os.path.join(self.dir, "mail.log")
        self.state = os.path.join(self.dir, "follow.state")
        self.w = open(self.log, "a", buffering=1)

    def tearDown(self):
        self.w.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, a, b):
        for i in range(a, b):
            self.w.write(event_line(i))
            if i % 3 == 0:
                self.w.write(noise_line(i))

    def reopen(self):
        self.w.close()
        self.w = open(self.log, "a", buffering=1)

    def test_rotation_during_burst_and_restart(self):
        # the log starts empty: --from-start reads it whole, however late
        # the follower is ready
        f = Follower(self, self.log, self.state, "--from-start")
        self.addCleanup(lambda: f.proc.poll() is None and f.proc.kill())
        self.write(0, 1000)
        f.read_until(1000)
        # a burst, renamed in the middle, the writer late to reopen
        self.write(1000, 3000)
        os.rename(self.log, self.log + ".1")
        self.write(3000, 3200)
        self.reopen()
        self.write(3200, 5000)
        f.read_until(5000)
        # a burst, copied and truncated in the middle (logrotate copytruncate)
        self.write(5000, 7000)
        shutil.copyfile(self.log, self.log + ".1")
        os.truncate(self.log, 0)
        self.write(7000, 9000)
        f.read_until(9000)
        f.quiet()
        self.assertEqual(f.hosts, want(0, 9000))
        f.stop()

        # stopped: more lines; a restart resumes with exactly those
        self.write(9000, 9500)
        g = Follower(self, self.log, self.state)
        self.addCleanup(lambda: g.proc.poll() is None and g.proc.kill())
        g.read_until(500)
        g.quiet()
        self.assertEqual(g.hosts, want(9000, 9500))
        g.stop()

    def test_usage(self):
        st, out, err = self.run_cli("ban", "follow", "--json")
        self.assertEqual(st, 2)
        st, out, err = self.run_cli("ban", "follow", "--journal", self.log)
        self.assertEqual(st, 2)
        st, out, err = self.run_cli("ban", "follow", "/nonexistent-dir/mail.log")
        self.assertEqual(st, 1)
        self.assertIn("/nonexistent-dir", err)
