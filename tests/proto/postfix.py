"""postfix.py - a private Postfix instance for the end-to-end tests.

Debian's Postfix, started with `postfix -c DIR start` on 127.0.0.1:PORT
with its own configuration, queue, data and mailbox directories inside a
temporary directory; the system instance is never touched.  Mail for
bob@our.test and alice@our.test is delivered by virtual(8) into Maildirs
under TMP/mail.  smtpd_authorized_xclient_hosts lets the tests play any
client address, name and HELO through XCLIENT.

    pf = PrivatePostfix(policy="inet:127.0.0.1:10023").start()
    pf.session(addr="192.0.2.10", name="mail.good.test", helo="mail.good.test",
               sender="a@good.test", rcpt="bob@our.test", data=True)
    pf.delivered("bob")   # message texts in bob's Maildir
    pf.stop()
"""

import glob
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time

import dnsserver

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {tmp}/queue
data_directory = {tmp}/data
maillog_file = {tmp}/maillog
maillog_file_prefixes = {tmp}
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.our.test
mydomain = our.test
myorigin = our.test
mydestination =
relay_domains =
local_recipient_maps =
virtual_mailbox_domains = our.test
virtual_mailbox_base = {tmp}/mail
virtual_mailbox_maps = inline:{{ bob@our.test=bob/, alice@our.test=alice/ }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
mynetworks = 127.0.0.1/32
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service {policy}{after}
smtpd_policy_service_default_action = 451 4.3.5 Server configuration problem
smtpd_policy_service_timeout = {timeout}
smtpd_policy_service_max_idle = 300s
smtpd_policy_service_retry_delay = 1s
smtpd_delay_reject = yes
smtputf8_enable = no
biff = no
"""


class SMTPReply(Exception):
    def __init__(self, stage, code, text):
        super().__init__("%s: %d %s" % (stage, code, text))
        self.stage, self.code, self.text = stage, code, text


class PrivatePostfix:

    def __init__(self, policy, after="", timeout="10s"):
        self.tmp = tempfile.mkdtemp(prefix="mxpostfix.")
        os.chmod(self.tmp, 0o755)		# postfix and nobody traverse it
        self.policy = policy
        self.after = after
        self.timeout = timeout
        self.port = None
        self.etc = os.path.join(self.tmp, "etc")

    def postfix(self, *args):
        # postfix(1) logs its errors to maillog_file; a failure shows that log
        p = subprocess.run(["postfix", "-c", self.etc] + list(args),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("postfix %s failed (%d): %s%s\n%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr, self.log()[-3000:]))

    def prepare(self):
        """Directories, before anything (mxshield's socket) goes in them."""
        nobody = pwd.getpwnam("nobody")
        pfx = pwd.getpwnam("postfix")
        for d in ("etc", "queue", "data", "mail"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        os.chown(os.path.join(self.tmp, "data"), pfx.pw_uid, pfx.pw_gid)
        # private/ is Postfix's; a policy socket placed there (as the guides
        # do, for the chroot) needs it to exist before mxshield starts
        os.makedirs(os.path.join(self.tmp, "queue", "private"), exist_ok=True)
        os.chown(os.path.join(self.tmp, "queue", "private"), pfx.pw_uid, pfx.pw_gid)
        os.chmod(os.path.join(self.tmp, "queue", "private"), 0o700)
        os.chown(os.path.join(self.tmp, "mail"), nobody.pw_uid, nobody.pw_gid)
        return self

    def start(self):
        nobody = pwd.getpwnam("nobody")
        if not os.path.isdir(os.path.join(self.tmp, "queue", "private")):
            self.prepare()
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(tmp=self.tmp, uid=nobody.pw_uid, gid=nobody.pw_gid,
                                   policy=self.policy, after=self.after,
                                   timeout=self.timeout))
        # a port free when chosen may be taken before master binds it (tests
        # run in parallel): another port then, a few times
        for attempt in range(4):
            self.port = dnsserver.free_port()
            with open(os.path.join(self.etc, "master.cf"), "w") as f:
                f.write(MASTER_CF.format(port=self.port))
            self.postfix("check")
            try:
                self.postfix("start")
                break
            except RuntimeError as e:
                if "Address already in use" not in str(e) or attempt == 3:
                    raise
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                s = smtplib.SMTP("127.0.0.1", self.port, timeout=2)
                s.quit()
                return self
            except (OSError, smtplib.SMTPException):
                time.sleep(0.1)
        raise RuntimeError("private postfix did not answer:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.tmp, "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, needle, timeout=10):
        """Whether the maillog holds needle within timeout: postlogd
        writes it a moment after the event (a queue file can be there
        before the line that tells of it)."""
        deadline = time.monotonic() + timeout
        while needle not in self.log():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self):
        try:
            self.postfix("stop")
        except RuntimeError:
            pass
        # master takes a moment to go (its pid file stays behind)
        try:
            with open(os.path.join(self.tmp, "queue", "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        deadline = time.monotonic() + 10
        while pid and os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.tmp, True)

    def session(self, addr, name, helo, sender, rcpt, data=None, reverse=None):
        """One SMTP transaction through XCLIENT.  Returns the final reply
        (code, text) of the last command sent; raises SMTPReply for a
        refusal at any stage."""
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=60)
        try:
            s.ehlo("client.test")
            attrs = "ADDR=%s NAME=%s HELO=%s" % (addr, name, helo)
            if reverse:
                attrs += " REVERSE_NAME=%s" % reverse
            code, text = s.docmd("XCLIENT", attrs)
            if code != 220:
                raise SMTPReply("XCLIENT", code, text.decode())
            s.ehlo_resp = None
            code, text = s.ehlo(helo)
            code, text = s.mail(sender)
            if code != 250:
                raise SMTPReply("MAIL", code, text.decode())
            code, text = s.rcpt(rcpt)
            if code != 250:
                raise SMTPReply("RCPT", code, text.decode())
            if data is None:
                return code, text.decode()
            code, text = s.data(data)
            if code != 250:
                raise SMTPReply("DATA", code, text.decode())
            return code, text.decode()
        finally:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    def delivered(self, user, timeout=10):
        """The messages in user's Maildir, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(glob.glob(os.path.join(self.tmp, "mail", user, "new", "*")))
            if files or time.monotonic() > deadline:
                out = []
                for fn in files:
                    with open(fn, errors="replace") as f:
                        out.append(f.read())
                return out
            time.sleep(0.1)
