"""harness - start the real mxshield daemon and talk the policy protocol to it.

Daemon      one `mxshield serve -c CONF` process on a free loopback port
            and/or unix sockets in a private temporary directory; its log
            (stderr) goes to a file the tests can search.
Client      one policy connection: send bytes, read "action=..." replies,
            notice when the daemon closes the connection.
request()   build a Postfix policy request (bytes) from attributes.
DaemonTest  unittest.TestCase with helpers that start daemons and clean up.

Nothing here connects anywhere but 127.0.0.1, ::1 and unix sockets the
test created.
"""

import errno
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BINARY = None          # set by run.py (--binary)


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid):
    """Resident set size of a process, kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized():
    """The daemon under test is built with AddressSanitizer (whose
    quarantine of freed memory makes its RSS no measure of leaks)."""
    with open(BINARY, "rb") as f:
        return b"__asan_init" in f.read()
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(REPO, "tests", "data", "proto")

# A command run without -c reads /etc/mxshield/mxshield.conf when it exists,
# and test_deb installs that file while other modules run: no test may read
# the machine's file by chance (a test of it names it: test_deb with -c,
# test_embedded_default with its own MXSHIELD_CONFIG).
os.environ["MXSHIELD_CONFIG"] = "/nonexistent/mxshield-tests/mxshield.conf"

START_TIMEOUT = 5.0
REPLY_TIMEOUT = 5.0

# Attributes of a typical Postfix 3.x RCPT-stage request, in Postfix's order.
BASE_ATTRS = [
    ("request", "smtpd_access_policy"),
    ("protocol_state", "RCPT"),
    ("protocol_name", "ESMTP"),
    ("client_address", "198.51.100.20"),
    ("client_name", "mail.sender.example"),
    ("reverse_client_name", "mail.sender.example"),
    ("helo_name", "mail.sender.example"),
    ("sender", "alice@sender.example"),
    ("recipient", "bob@our.example"),
    ("recipient_count", "0"),
    ("queue_id", ""),
    ("instance", "1a2b.5f3e9d1c.7.0"),
    ("size", "0"),
]

# The usual head of a test configuration ($name expansion on purpose).
COMMON_CONF = """\
myhostname = mx.our.example
mydomain = our.example
mydestination = $mydomain, $myhostname, localhost
mynetworks = 127.0.0.0/8 [::1]/128
table_check_interval = 1s
"""


def attrs_list(overrides=None, extra=None):
    """BASE_ATTRS with overrides (value None removes the attribute) and extras."""
    overrides = dict(overrides or {})
    out = []
    for name, value in BASE_ATTRS:
        if name in overrides:
            value = overrides.pop(name)
            if value is None:
                continue
        out.append((name, value))
    out.extend((k, v) for k, v in overrides.items() if v is not None)
    if extra:
        out.extend(extra)
    return out


def request(overrides=None, extra=None, eol=b"\n"):
    """One policy request as bytes, ended by an empty line."""
    lines = [("%s=%s" % (k, v)).encode() for k, v in attrs_list(overrides, extra)]
    return b"".join(l + eol for l in lines) + eol


class Closed(Exception):
    """The daemon closed the connection."""


class Client:
    """One policy client connection."""

    def __init__(self, family, addr, timeout=REPLY_TIMEOUT):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        if family != socket.AF_UNIX:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    @property
    def local_name(self):
        """How the daemon names this client in its log: host:port."""
        name = self.sock.getsockname()
        if self.sock.family == socket.AF_INET6:
            return "[%s]:%d" % (name[0], name[1])
        if self.sock.family == socket.AF_INET:
            return "%s:%d" % (name[0], name[1])
        return "unix"

    def send(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=None):
        """The next reply's first line ("action=..."); Closed on EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no reply within %.1fs (have %r)"
                                     % (timeout or self.timeout, self.buf[:200]))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                raise Closed("connection closed by daemon (pending %r)" % self.buf[:200])
            self.buf += data
        block, self.buf = self.buf.split(b"\n\n", 1)
        return block.decode("utf-8", "replace")

    def ask(self, overrides=None, extra=None):
        """Send one request and return its reply."""
        self.send(request(overrides, extra))
        return self.reply()

    def wait_closed(self, timeout=3.0):
        """True when the daemon closes the connection within timeout;
        False on timeout.  Data that arrives meanwhile is kept in .buf."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
            self.buf += data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with a TCP reset (SO_LINGER 0)."""
        import struct
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()


def free_port(host="127.0.0.1"):
    """A port nobody listens on right now (bind port 0, read it, release)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


class Daemon:
    """One mxshield serve process with its own configuration and log."""

    def __init__(self, tmpdir, conf, files=None, host="127.0.0.1"):
        self.tmp = tmpdir
        self.host = host
        self.conf_text = conf
        self.files = files or {}
        self.conf_path = os.path.join(tmpdir, "mxshield.conf")
        self.log_path = os.path.join(tmpdir, "mxshield.log")
        self.proc = None
        self.port = None
        self.unix_path = None
        self.expect_exit = False
        self.exit_status = None
        self.nofile = None                  # RLIMIT_NOFILE for the daemon

    def subst(self, text):
        return (text.replace("@TMP@", self.tmp)
                .replace("@PORT@", str(self.port)))

    def write_file(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(self.subst(content))
        return path

    def write_conf(self, text):
        """Write (or rewrite) the configuration file."""
        with open(self.conf_path, "w") as f:
            f.write(self.subst(text))

    def _compose(self):
        text = self.conf_text
        if not any(l.startswith("data_directory") for l in text.splitlines()):
            # the daemon creates data_directory at start: never the system's
            text = "data_directory = @TMP@/data\n" + text
        if not any(l.startswith("listen") for l in text.splitlines()):
            host = "[%s]" % self.host if ":" in self.host else self.host
            text = "listen = inet:%s:@PORT@\n" % host + text
        return text

    def start(self):
        last = ""
        for attempt in range(3):
            self.port = free_port(self.host)
            for name, content in self.files.items():
                self.write_file(name, content)
            self.conf_text_final = self._compose()
            self.write_conf(self.conf_text_final)
            self._find_ready_addr()
            self.log = open(self.log_path, "ab")
            limit = self.nofile

            def preexec():
                if limit:
                    import resource
                    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            self.proc = subprocess.Popen([BINARY, "serve", "-c", self.conf_path],
                                         stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=self.log,
                                         preexec_fn=preexec if limit else None)
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last = str(e)
                self.expect_exit = True     # reported here, not again at stop
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                self.log.close()
                if "in use" not in self.read_log():
                    raise
                self.expect_exit = False
        raise RuntimeError(last)

    def _find_ready_addr(self):
        listen = ""
        for line in self.subst(self.conf_text_final).splitlines():
            if line.startswith("listen"):
                listen = line.split("=", 1)[1]
        first = listen.replace(",", " ").split()[0]
        if first.startswith("unix:"):
            self.ready = (socket.AF_UNIX, first[5:])
            self.unix_path = first[5:]
        else:
            hostport = first[5:]
            host, port = hostport.rsplit(":", 1)
            host = host.strip("[]")
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.ready = (fam, (host, int(port)))

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mxshield exited with status %s at start-up:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            # the daemon logs "ready" once every listener is bound; a probe
            # connection instead would count against the connection limit
            # until the daemon noticed it closed
            if "mxshield ready" in self.read_log():
                return
            time.sleep(0.01)
        raise RuntimeError("mxshield did not accept within %.0fs:\n%s"
                           % (START_TIMEOUT, self.read_log()))

    def connect(self, timeout=REPLY_TIMEOUT):
        return Client(self.ready[0], self.ready[1], timeout)

    def connect_unix(self, path, timeout=REPLY_TIMEOUT):
        return Client(socket.AF_UNIX, path, timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, *needles, timeout=3.0, after=0):
        """The first log line (after byte offset `after`) containing every
        needle, or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.read_log()[after:].splitlines():
                if all(n in line for n in needles):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def log_size(self):
        return len(self.read_log())

    def wait_exit(self, timeout):
        try:
            self.exit_status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_status

    def stop(self):
        """Stop the daemon (SIGTERM, then SIGKILL); report an unexpected death."""
        if self.proc is None:
            return
        died = self.proc.poll() is not None and not self.expect_exit
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        if died:
            raise AssertionError("mxshield died during the test (status %s); log:\n%s"
                                 % (self.proc.returncode, self.read_log()[-3000:]))


ALL_DAEMONS = []


def kill_all():
    for d in ALL_DAEMONS:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


class DaemonTest(unittest.TestCase):
    """A test case that may start daemons; everything is cleaned up."""

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="mxproto.")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def daemon(self, conf, files=None, common=True, host="127.0.0.1", nofile=None):
        """Start `mxshield serve` with COMMON_CONF + conf and table files
        (name -> text; @TMP@ and @PORT@ are substituted everywhere);
        nofile: the daemon's limit on open files."""
        d = Daemon(self.tmpdir(), (COMMON_CONF if common else "") + conf, files, host)
        d.nofile = nofile
        ALL_DAEMONS.append(d)
        self.addCleanup(d.stop)
        d.start()
        return d

    def client(self, d, timeout=REPLY_TIMEOUT):
        c = d.connect(timeout)
        self.addCleanup(c.close)
        return c

    def assertAnswers(self, d, cases):
        """Ask every (overrides, expected-reply) on one connection; report
        every mismatch at once."""
        c = self.client(d)
        bad = []
        for overrides, expected in cases:
            try:
                got = c.ask(overrides)
            except (Closed, socket.timeout) as e:
                got = "<%s: %s>" % (type(e).__name__, e)
                c.close()
                c = self.client(d)
            if got != expected:
                bad.append("request %r\n      expected %r\n      got      %r"
                           % (overrides, expected, got))
        if bad:
            self.fail("%d of %d answers wrong:\n    " % (len(bad), len(cases))
                      + "\n    ".join(bad))

    def assertDaemonServes(self, d, msg=""):
        """The daemon is alive and answers a fresh connection."""
        self.assertTrue(d.alive(), "daemon died " + msg + "\n" + d.read_log()[-2000:])
        c = self.client(d)
        got = c.ask()
        self.assertTrue(got.startswith("action="), "no answer from daemon " + msg)
        c.close()

    def run_cli(self, *args, stdin=None, timeout=10):
        """Run the mxshield binary with arguments; (status, stdout, stderr)."""
        p = subprocess.run([BINARY] + list(args), input=stdin, capture_output=True,
                           timeout=timeout, text=True)
        return p.returncode, p.stdout, p.stderr


def raise_nofile(want):
    """Raise this process's descriptor limit towards want; return the result."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    except (ValueError, OSError):
        return soft
    return new
