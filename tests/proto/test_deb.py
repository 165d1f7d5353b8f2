"""The Debian package: `make deb` builds it with dpkg-buildpackage; lintian
finds no error; dpkg installs it (binary, man page, the example
configuration as a conffile, the systemd unit, which systemd-analyze
verifies, the system user and /var/lib/mxshield); the installed
/usr/sbin/mxshield passes the Postfix end-to-end tests (test_postfix.py);
and a purge leaves nothing behind: no file, directory, user or group.

It changes the machine (dpkg -i, then --purge), so it runs as root, once
per make check (with build/mxshield, not again with the ASan build), and
refuses to touch a machine where mxshield is already installed."""

import grp
import os
import pwd
import stat
import subprocess
import sys
import time

import harness
from harness import DaemonTest

VERSION = None
with open(os.path.join(harness.REPO, "src/util/version.h")) as f:
    for line in f:
        if "MXSHIELD_VERSION" in line and '"' in line:
            VERSION = line.split('"')[1]

PATHS = ["/usr/sbin/mxshield", "/usr/share/man/man8/mxshield.8.gz",
         "/etc/mxshield/mxshield.conf", "/lib/systemd/system/mxshield.service",
         "/usr/share/doc/mxshield/copyright"]


def run(argv, timeout=600, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class Package(DaemonTest):
    proto_timeout = 900         # run.py's budget: a package build and the Postfix tests

    def setUp(self):
        if "build-asan" in (harness.BINARY or ""):
            self.skipTest("the package test runs once per make check, with build/mxshield")
        if os.geteuid() != 0:
            self.skipTest("installing a package needs root (make check runs as root)")
        if run(["dpkg-query", "-W", "-f=${Status}", "mxshield"]).stdout.endswith("installed") \
                or user_exists("mxshield") or os.path.exists("/etc/mxshield") \
                or os.path.exists("/var/lib/mxshield"):
            self.fail("mxshield is installed on this machine (package, user mxshield, "
                      "/etc/mxshield or /var/lib/mxshield): the package test would replace "
                      "and purge it; remove it first")

    def purge(self):
        run(["dpkg", "--purge", "mxshield"])

    def test_build_install_run_purge(self):
        times = {}
        t0 = time.monotonic()
        p = run(["make", "-s", "deb"], cwd=harness.REPO, timeout=1200)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        times["build"] = time.monotonic() - t0
        deb = os.path.join(harness.REPO, "build-deb", "mxshield_%s_%s.deb" % (
            VERSION, run(["dpkg", "--print-architecture"]).stdout.strip()))
        self.assertTrue(os.path.exists(deb), deb)

        t0 = time.monotonic()
        p = run(["lintian", "--fail-on", "error", deb])
        errors = [l for l in p.stdout.splitlines() if l.startswith("E:")]
        self.assertEqual(errors, [], p.stdout)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        times["lintian"] = time.monotonic() - t0

        # install
        t0 = time.monotonic()
        self.addCleanup(self.purge)
        p = run(["dpkg", "-i", deb])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        times["install"] = time.monotonic() - t0
        installed = run(["dpkg", "-L", "mxshield"]).stdout.split()
        for path in PATHS:
            self.assertTrue(os.path.exists(path), path)
            self.assertIn(path, installed)
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "mxshield"]).stdout
        self.assertIn("/etc/mxshield/mxshield.conf", conffiles)
        with open("/etc/mxshield/mxshield.conf") as f, \
                open(os.path.join(harness.REPO, "etc/mxshield.conf.example")) as g:
            self.assertEqual(f.read(), g.read())
        u = pwd.getpwnam("mxshield")
        self.assertEqual(u.pw_dir, "/var/lib/mxshield")
        self.assertEqual(u.pw_shell, "/usr/sbin/nologin")
        self.assertLess(u.pw_uid, 1000)                      # a system user
        st = os.stat("/var/lib/mxshield")
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (u.pw_uid, 0o700))
        # the unit: the packaged path, hardened, and valid for systemd
        with open("/lib/systemd/system/mxshield.service") as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/mxshield serve -c /etc/mxshield/mxshield.conf", unit)
        self.assertIn("ProtectSystem=strict", unit)
        self.assertIn("ReadWritePaths=/var/lib/mxshield -/var/spool/postfix/private", unit)
        p = run(["systemd-analyze", "verify", "--man=no", "/lib/systemd/system/mxshield.service"])
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        # not enabled: the configuration needs this host's names first
        self.assertFalse(os.path.exists(
            "/etc/systemd/system/multi-user.target.wants/mxshield.service"))
        # the installed configuration loads as it is (its user exists now)
        p = run(["/usr/sbin/mxshield", "config", "-c", "/etc/mxshield/mxshield.conf"])
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run(["/usr/sbin/mxshield", "--version"])
        self.assertEqual(p.stdout.strip(), "mxshield " + VERSION)

        # the installed daemon through the Postfix end-to-end tests
        t0 = time.monotonic()
        p = run([sys.executable, os.path.join(harness.REPO, "tests/proto/run.py"),
                 "--binary", "/usr/sbin/mxshield", "-j", "1", "-k", "test_postfix.Postfix."],
                timeout=900)
        self.assertEqual(p.returncode, 0, p.stdout[-4000:] + p.stderr[-2000:])
        self.assertRegex(p.stdout, r"proto: [1-9]\d* passed, 0 failed")
        times["postfix tests"] = time.monotonic() - t0

        # purge: nothing left
        t0 = time.monotonic()
        p = run(["dpkg", "--purge", "mxshield"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        times["purge"] = time.monotonic() - t0
        left = [f for f in installed if f not in ("/.", "/etc", "/lib", "/lib/systemd",
                                                  "/lib/systemd/system", "/usr", "/usr/sbin",
                                                  "/usr/share", "/usr/share/doc",
                                                  "/usr/share/man", "/usr/share/man/man8")
                and os.path.lexists(f)]
        self.assertEqual(left, [])
        for path in ("/etc/mxshield", "/var/lib/mxshield", "/usr/share/doc/mxshield"):
            self.assertFalse(os.path.lexists(path), path)
        self.assertFalse(user_exists("mxshield"))
        self.assertFalse(group_exists("mxshield"))
        self.assertNotEqual(run(["dpkg-query", "-W", "-f=${Status}", "mxshield"]).stdout,
                            "install ok installed")
        print("package test times: " + ", ".join("%s %.1f s" % kv for kv in times.items()))
