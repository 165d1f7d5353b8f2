"""make install into a staging directory: the program, its man page, the
example configuration (which loads as it is) and the systemd unit."""

import os
import subprocess

import harness
from harness import DaemonTest


class Install(DaemonTest):

    def test_make_install(self):
        dest = self.tmpdir()
        p = subprocess.run(["make", "-s", "install", "DESTDIR=" + dest, "PREFIX=/usr/local",
                            "BUILD=build"],
                           cwd=harness.REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        binary = os.path.join(dest, "usr/local/sbin/mxshield")
        for f in (binary, "usr/local/share/man/man8/mxshield.8",
                  "etc/mxshield/mxshield.conf", "etc/mxshield/mxshield.conf.example",
                  "etc/systemd/system/mxshield.service"):
            self.assertTrue(os.path.exists(os.path.join(dest, f)), f)
        with open(os.path.join(dest, "etc/systemd/system/mxshield.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/local/sbin/mxshield serve", unit)
        self.assertIn("NoNewPrivileges=yes", unit)
        self.assertIn("ProtectSystem=strict", unit)
        # the example configuration loads once its user exists (README step 2);
        # without it, the check says which user is missing
        installed = os.path.join(dest, "etc/mxshield/mxshield.conf")
        p = subprocess.run([binary, "config", "-c", installed], capture_output=True, text=True)
        if p.returncode != 0:
            self.assertIn('user: unknown user "mxshield"', p.stderr)
        with open(installed) as f:
            text = f.read().replace("user = mxshield", "user = nobody")
        copy = os.path.join(self.tmpdir(), "mxshield.conf")
        with open(copy, "w") as f:
            f.write(text)
        p = subprocess.run([binary, "config", "-c", copy], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("listen = unix:/var/spool/postfix/private/mxshield", p.stdout)
        # an existing configuration is never overwritten
        conf = os.path.join(dest, "etc/mxshield/mxshield.conf")
        with open(conf, "w") as f:
            f.write("# mine\n")
        p = subprocess.run(["make", "-s", "install", "DESTDIR=" + dest, "PREFIX=/usr/local",
                            "BUILD=build"],
                           cwd=harness.REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(conf) as f:
            self.assertEqual(f.read(), "# mine\n")
