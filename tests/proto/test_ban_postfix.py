"""Auto-ban end to end: a real Postfix with Cyrus SASL (sasldb) asks
mxshield at connect (smtpd_client_restrictions, smtpd_delay_reject = no);
mxshield follows Postfix's maillog_file, counts failed AUTH attempts and
bans.  127.0.0.9 fails AUTH and is refused within a second of the
ban_maxretry-th failure while 127.0.0.10 is served; the ban survives a
restart of the daemon and then expires by itself."""

import os
import pwd
import smtplib
import subprocess
import time

import dnsserver
import postfix
from harness import DaemonTest

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


SASL_CF = """\
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {tmp}/etc/sasl
smtpd_sasl_local_domain = our.test
smtpd_sasl_security_options = noanonymous
smtpd_client_restrictions = check_policy_service {policy}
smtpd_delay_reject = no
"""

SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: {db}
"""

BAD, GOOD = "127.0.0.9", "127.0.0.10"
MAXRETRY = 3
BANTIME = 5


class SaslPostfix(postfix.PrivatePostfix):
    """The private Postfix with SASL AUTH against a sasldb of its own
    (user alice@our.test, password "secret"), asking the policy service
    at connect."""

    def start(self):
        self.prepare()
        # Debian's Postfix reads $config_directory/sasl/smtpd.conf
        sasl = os.path.join(self.etc, "sasl")
        os.makedirs(sasl, exist_ok=True)
        db = os.path.join(self.tmp, "sasldb2")	# postfix check wants etc/ root's
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", db, "-u", "our.test", "alice"],
                       input="secret", text=True, check=True)
        pfx = pwd.getpwnam("postfix")
        os.chown(db, pfx.pw_uid, pfx.pw_gid)
        os.chmod(db, 0o640)
        with open(os.path.join(sasl, "smtpd.conf"), "w") as f:
            f.write(SMTPD_CONF.format(db=db))
        saved = postfix.MAIN_CF
        postfix.MAIN_CF = saved + SASL_CF
        try:
            return super().start()
        finally:
            postfix.MAIN_CF = saved


def connect(pf, source):
    return smtplib.SMTP("127.0.0.1", pf.port, timeout=10, source_address=(source, 0))


class BanPostfix(DaemonTest):

    def setUp(self):
        self.pf = SaslPostfix(policy="")
        self.addCleanup(self.pf.stop)
        self.port = dnsserver.free_port()
        self.pf.policy = "inet:127.0.0.1:%d" % self.port
        self.conf = (
            "listen = inet:127.0.0.1:%d\n"
            "dns_resolver = %s\n"
            "mynetworks = 127.0.0.1/32\n"
            "client_restrictions = reject_banned_client\n"
            "ban_log = %s/maillog\n"
            "ban_maxretry = %d\n"
            "ban_bantime = %ds\n"
            % (self.port, NSD.addr, self.pf.tmp, MAXRETRY, BANTIME))
        self.d = self.daemon(self.conf, common=False)
        self.pf.start()

    def fail_auth(self, source):
        """One session whose AUTH fails; the time of the 535."""
        s = connect(self.pf, source)
        try:
            s.ehlo("client.test")
            # one AUTH command (login() would try LOGIN after PLAIN)
            s.user, s.password = "alice", "wrong"
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.auth("PLAIN", s.auth_plain)
            self.assertEqual(e.exception.smtp_code, 535, self.pf.log()[-3000:])
            return time.monotonic()
        finally:
            s.quit()

    def refused(self, source):
        """The reply at connect, as (code, text)."""
        try:
            s = connect(self.pf, source)
        except smtplib.SMTPConnectError as e:
            return e.smtp_code, e.smtp_error.decode()
        s.quit()
        return 220, ""

    def served(self, source):
        """A session that authenticates: 235."""
        s = connect(self.pf, source)
        try:
            s.ehlo("client.test")
            code, _ = s.login("alice", "secret")
            return code
        finally:
            s.quit()

    def wait_refused(self, source, timeout):
        deadline = time.monotonic() + timeout
        while True:
            code, text = self.refused(source)
            if code != 220 or time.monotonic() > deadline:
                return code, text
            time.sleep(0.05)

    def test_failed_auth_bans_survives_restart_and_expires(self):
        for i in range(MAXRETRY - 1):
            self.fail_auth(BAD)
        # below maxretry: still served
        time.sleep(0.5)
        self.assertEqual(self.refused(BAD)[0], 220, self.d.read_log()[-2000:])
        last = self.fail_auth(BAD)
        code, text = self.wait_refused(BAD, 3.0)
        took = time.monotonic() - last
        self.assertEqual(code, 554, self.d.read_log()[-2000:] + self.pf.log()[-2000:])
        self.assertIn("Client host rejected: banned for", text)
        self.assertIn("(auth-failed)", text)
        self.assertLess(took, 1.0, "refused %.2f s after the last failure" % took)
        line = self.d.wait_log("ban: client=127.0.0.9/32, reason=auth-failed", "level=1", "count=3")
        self.assertIsNotNone(line)
        self.assertRegex(line, r"^mxshield/ban\[\d+\]: ban: ")
        # the neighbour is served, and may authenticate
        self.assertEqual(self.refused(GOOD)[0], 220)
        self.assertEqual(self.served(GOOD), 235)

        # a restart: the ban is in the store
        self.d.stop()
        self.d.start()
        self.assertEqual(self.refused(BAD)[0], 554, self.d.read_log()[-2000:])
        code, out, err = self.run_cli("ban", "-c", self.d.conf_path, "list")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^127\.0\.0\.9/32 until=\S+ left=\d+s level=1 reason=auth-failed$")

        # and it expires by itself
        deadline = time.monotonic() + BANTIME + 5
        while self.refused(BAD)[0] != 220 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.refused(BAD)[0], 220, "still refused after the ban time")
        self.assertEqual(self.served(BAD), 235)
        line = self.d.wait_log("unban: client=127.0.0.9/32, reason=expired", timeout=3.0)
        self.assertIsNotNone(line)
        self.assertRegex(line, r"^mxshield/ban\[\d+\]: unban: ")
