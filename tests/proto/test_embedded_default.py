"""The embedded default configuration (what `make run` and a bare
`mxshield serve` without /etc/mxshield/mxshield.conf use): postgrey's
greylisting plus the guides' low-risk checks; how a configuration is
chosen without -c, and that `make run` keeps the embedded default even when
a standard file exists.  MXSHIELD_CONFIG stands in for
/etc/mxshield/mxshield.conf (a temporary file: the real /etc is never
touched); DNS goes to the test server through -o dns_resolver."""

import os
import re
import shlex
import subprocess
import time

import dnsserver
import harness
from harness import REPO, DaemonTest, free_port, request

NSD = None

EMBEDDED = [
    "listen = inet:127.0.0.1:10023",
    "helo_restrictions = permit_mynetworks, permit_sasl_authenticated, "
    "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    "sender_restrictions = permit_mynetworks, permit_sasl_authenticated, "
    "reject_non_fqdn_sender, reject_unknown_sender_domain",
    "recipient_restrictions = reject_non_fqdn_recipient, permit_mynetworks, "
    "permit_sasl_authenticated, greylist",
]

# an /etc-like file that answers differently from the embedded default
ETC_CONF = "recipient_restrictions = reject\n"

GOOD = {"client_address": "192.0.2.10", "client_name": "unknown",
        "reverse_client_name": "unknown", "helo_name": "mail.good.test",
        "sender": "alice@withmx.good.test", "recipient": "bob@our.example"}


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


def req(**kw):
    out = dict(GOOD)
    out.update(kw)
    return out


class EmbeddedDefault(DaemonTest):

    def etc(self, present=True):
        """An environment whose standard configuration file is a temporary
        one (present or not)."""
        path = os.path.join(self.tmpdir(), "mxshield.conf")
        if present:
            with open(path, "w") as f:
                f.write(ETC_CONF)
        env = dict(os.environ)
        env["MXSHIELD_CONFIG"] = path
        return env, path

    def cli(self, env, *args):
        p = subprocess.run([harness.BINARY] + list(args), capture_output=True, text=True,
                           env=env, timeout=10)
        return p.returncode, p.stdout, p.stderr

    def serve(self, argv, env):
        """Start a daemon with argv (after the binary) plus a private port and
        the test DNS server; return (process, log path, port)."""
        port = free_port("127.0.0.1")
        log = os.path.join(self.tmpdir(), "log")
        logf = open(log, "wb")
        self.addCleanup(logf.close)
        p = subprocess.Popen([harness.BINARY] + argv +
                             ["-o", "listen=inet:127.0.0.1:%d" % port,
                              "-o", "dns_resolver=" + NSD.addr],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)

        def stop():
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        self.addCleanup(stop)
        deadline = time.monotonic() + harness.START_TIMEOUT
        while "mxshield ready" not in open(log).read():
            self.assertIsNone(p.poll(), open(log).read())
            self.assertLess(time.monotonic(), deadline, open(log).read())
            time.sleep(0.02)
        return p, log, port

    def test_config_prints_it_exactly(self):
        env, path = self.etc(present=True)
        rc, out, err = self.cli(env, "config", "--embedded-default")
        self.assertEqual((rc, out.splitlines()), (0, EMBEDDED), err)
        # without the option the standard file wins, when it exists
        rc, out, err = self.cli(env, "config")
        self.assertEqual((rc, out), (0, ETC_CONF), err)
        env, path = self.etc(present=False)
        rc, out, err = self.cli(env, "config")
        self.assertEqual((rc, out.splitlines()), (0, EMBEDDED), err)
        # both ways of choosing at once: refused
        rc, out, err = self.cli(env, "config", "-c", path, "--embedded-default")
        self.assertEqual(rc, 1)
        self.assertIn("-c %s and --embedded-default: choose one" % path, err)

    def test_serve_says_which_configuration(self):
        env, path = self.etc(present=True)
        data = self.tmpdir()
        p, log, port = self.serve(["serve", "-o", "data_directory=" + data], env)
        first = open(log).read().splitlines()[0]
        self.assertRegex(first, r"^mxshield/policy\[\d+\]: configuration: %s \(found, no -c "
                         r"given; --embedded-default uses the embedded default\)$"
                         % re.escape(path))
        env, path = self.etc(present=False)
        p, log, port = self.serve(["serve", "-o", "data_directory=" + data], env)
        first = open(log).read().splitlines()[0]
        self.assertRegex(first, r"^mxshield/policy\[\d+\]: configuration: embedded default "
                         r"\(no -c, no %s\)$" % re.escape(path))

    def test_make_run_uses_the_embedded_default(self):
        """`make run`'s command line, run with a standard file present:
        the embedded default answers, and its database goes to RUN_DIR."""
        run_dir = os.path.join(self.tmpdir(), "run")
        out = subprocess.run(["make", "-s", "-n", "-C", REPO, "run", "RUN_DIR=" + run_dir],
                             capture_output=True, text=True, timeout=60).stdout
        serve = [l for l in out.splitlines() if re.search(r"mxshield serve", l)]
        self.assertEqual(len(serve), 1, out)
        argv = shlex.split(serve[0])
        self.assertEqual(argv[1:], ["serve", "--embedded-default",
                                    "-o", "data_directory=" + run_dir], serve[0])
        os.makedirs(run_dir)
        env, path = self.etc(present=True)
        p, log, port = self.serve(argv[1:], env)
        first = open(log).read().splitlines()[0]
        self.assertRegex(first, r"configuration: embedded default \(--embedded-default\)$")
        c = self.client_at(port)
        grey = "action=450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"
        self.assertEqual(c.ask(req()), grey)
        self.assertTrue(os.path.exists(os.path.join(run_dir, "data.mdb")))
        self.assertEqual(c.ask(req(helo_name="foo")),
                         "action=504 5.5.2 <foo>: Helo command rejected: "
                         "need fully-qualified hostname")
        # its control socket is in RUN_DIR too: status reaches it
        rc, out, err = self.cli(env, "status", "--embedded-default",
                                "-o", "data_directory=" + run_dir)
        self.assertEqual(rc, 0, err)
        self.assertTrue(any(l.startswith("mxshield_") for l in out.splitlines()), out)

    def client_at(self, port):
        c = harness.Client(harness.socket.AF_INET, ("127.0.0.1", port))
        self.addCleanup(c.close)
        return c

    def test_policy_answers(self):
        """Each restriction of the embedded default, once each way."""
        env, path = self.etc(present=False)
        p, log, port = self.serve(["serve", "--embedded-default",
                                   "-o", "data_directory=" + self.tmpdir()], env)
        c = self.client_at(port)
        grey = ("action=450 4.2.0 Greylisted, see "
                "http://postgrey.schweikert.ch/help/our.example.html")
        cases = [
            # a new triplet from a proper client: greylisted, as by postgrey
            (req(), grey),
            # the same triplet again before greylist_delay: still greylisted
            (req(), grey),
            # HELO checks
            (req(helo_name="foo", recipient="c@our.example"),
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            (req(helo_name="bad_host!.example", recipient="c@our.example"),
             "action=501 5.5.2 <bad_host!.example>: Helo command rejected: "
             "Invalid name"),
            # sender checks
            (req(sender="joe", recipient="c@our.example"),
             "action=504 5.5.2 <joe>: Sender address rejected: need fully-qualified address"),
            (req(sender="a@nope.good.test", recipient="c@our.example"),
             "action=450 4.1.8 <a@nope.good.test>: Sender address rejected: Domain not found"),
            # recipient check, for everyone
            (req(client_address="127.0.0.1", recipient="bob"),
             "action=504 5.5.2 <bob>: Recipient address rejected: "
             "need fully-qualified address"),
            # our own networks and authenticated clients are not greylisted
            (req(client_address="127.0.0.1", recipient="d@our.example"), "action=DUNNO"),
            (req(recipient="e@our.example", sasl_username="alice",
                 sasl_method="PLAIN"), "action=DUNNO"),
            # relay control is Postfix's: a foreign recipient is only greylisted
            (req(recipient="x@elsewhere.example"),
             "action=450 4.2.0 Greylisted, see "
             "http://postgrey.schweikert.ch/help/elsewhere.example.html"),
        ]
        bad = []
        for attrs, want in cases:
            got = c.ask(attrs)
            if got != want:
                bad.append("%r\n  want %r\n  got  %r" % (attrs, want, got))
        self.assertFalse(bad, "\n".join(bad))


class BuildDependencies(DaemonTest):

    def test_make_names_missing_packages(self):
        """`make` without the libraries, as an ordinary user: it names the
        missing Debian packages and the command that installs them, and
        stops (as root it would install them).  A dpkg-query that finds
        nothing stands in for a fresh machine."""
        stub = self.tmpdir()
        os.chmod(stub, 0o755)
        with open(os.path.join(stub, "dpkg-query"), "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.chmod(os.path.join(stub, "dpkg-query"), 0o755)
        argv = ["make", "-s", "-C", REPO, "build-deps-check", "PKGS=no-such-library-mxshield"]
        if os.geteuid() == 0:
            if not os.path.exists("/usr/bin/setpriv"):
                self.skipTest("root without setpriv: cannot run make as an ordinary user")
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
        env = dict(os.environ, PATH=stub + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("scripts/deps: missing Debian packages: gcc make pkg-config "
                      "libevent-dev libpcre2-dev libunbound-dev liblmdb-dev libssl-dev",
                      p.stderr)
        self.assertIn("sudo apt-get install gcc make", p.stderr)
