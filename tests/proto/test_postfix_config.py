"""mxshield postfix-config: the lines for main.cf, and --check's findings
on Postfix configurations (one per line, naming the parameter and the fix;
exit 1 for an open relay)."""

import os
import shlex
import subprocess

from harness import DaemonTest

GOOD = """\
smtpd_helo_required = yes
disable_vrfy_command = yes
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks,
    reject_unauth_destination,
    check_policy_service unix:private/mxshield
smtpd_data_restrictions = reject_unauth_pipelining
mynetworks = 127.0.0.0/8 [::1]/128
"""

MASTER = """\
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
%s
"""


# main.cf as Debian 12's postfix postinst writes it for "Internet Site"
DEBIAN_MAIN_CF = """\
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = mx.our.example
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, our.example, localhost.our.example, , localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = all
inet_protocols = all
"""


class PostfixConfig(DaemonTest):

    def check(self, main, master_extra="", mx_conf=None):
        d = self.tmpdir()
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write(MASTER % master_extra)
        return self.run_cli(*(["postfix-config"] + (["-c", mx_conf] if mx_conf else [])
                              + ["--check", d]))

    def printed(self, *args):
        """postfix-config's output as {parameter: value}, every line that is
        not a comment being one postconf -e command, shell-quoted."""
        rc, out, err = self.run_cli("postfix-config", *args)
        self.assertEqual(rc, 0, err)
        settings = {}
        for line in out.splitlines():
            if line.startswith("#"):
                continue
            argv = shlex.split(line)
            self.assertEqual(argv[:2], ["postconf", "-e"], line)
            self.assertEqual(len(argv), 3, line)
            name, value = argv[2].split(" = ", 1)
            settings[name] = value
        return out, settings

    def test_prints_lines_for_the_socket(self):
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = unix:/var/spool/postfix/private/mxshield\n")
        out, settings = self.printed("-c", conf)
        self.assertEqual(settings["smtpd_recipient_restrictions"],
                         "permit_mynetworks, permit_sasl_authenticated, "
                         "reject_unauth_destination, check_policy_service unix:private/mxshield")
        self.assertEqual(settings["smtpd_relay_restrictions"],
                         "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
        self.assertEqual(settings["smtpd_policy_service_default_action"],
                         "451 4.3.5 Server configuration problem")
        self.assertEqual(settings["smtpd_data_restrictions"], "reject_unauth_pipelining")
        out, settings = self.printed("-c", conf, "--socket", "inet:127.0.0.1:10023")
        self.assertEqual(settings["smtpd_recipient_restrictions"].split(", ")[-1],
                         "check_policy_service inet:127.0.0.1:10023")

    def test_data_restrictions_are_asked_at_data(self):
        """mxshield.conf with data_restrictions: Postfix must ask at DATA,
        and --check says so when it does not."""
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = unix:/var/spool/postfix/private/mxshield\n"
                    "mynetworks = 127.0.0.0/8 [::1]/128\n"
                    "data_restrictions = reject_unauth_pipelining, permit\n")
        out, settings = self.printed("-c", conf)
        self.assertEqual(settings["smtpd_data_restrictions"],
                         "reject_unauth_pipelining, check_policy_service unix:private/mxshield")
        rc, out, err = self.check(GOOD, mx_conf=conf)
        self.assertEqual((rc, out), (0, "smtpd_data_restrictions: mxshield.conf has "
                                        "data_restrictions, but Postfix does not ask mxshield "
                                        "at DATA, so they never run; fix: postconf -e "
                                        "'smtpd_data_restrictions = reject_unauth_pipelining, "
                                        "check_policy_service unix:private/mxshield'\n"), err)
        rc, out, err = self.check(GOOD.replace(
            "smtpd_data_restrictions = reject_unauth_pipelining",
            "smtpd_data_restrictions = reject_unauth_pipelining,\n"
            "    check_policy_service unix:private/mxshield"), mx_conf=conf)
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_quoting(self):
        """A socket path with a quote and blanks stays one shell word."""
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = inet:127.0.0.1:10023\n")
        out, settings = self.printed("-c", conf, "--socket", "unix:/tmp/it's$HOME`x`")
        self.assertTrue(settings["smtpd_recipient_restrictions"].endswith(
            "check_policy_service unix:/tmp/it's$HOME`x`"), out)
        self.assertIn("""postconf -e 'smtpd_recipient_restrictions = permit_mynetworks, """
                      """permit_sasl_authenticated, reject_unauth_destination, """
                      """check_policy_service unix:/tmp/it'\\''s$HOME`x`'\n""", out)

    def test_printed_lines_pass_the_check(self):
        """The commands, run with the real postconf on a main.cf as Debian's
        postinst writes it, replace Debian's own lines (no duplicate, no
        warning from postconf) and leave nothing for --check to report."""
        d = self.tmpdir()
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(DEBIAN_MAIN_CF)
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write(MASTER % "")
        out, settings = self.printed()
        for line in out.splitlines():
            if line.startswith("#"):
                continue
            argv = shlex.split(line)
            p = subprocess.run([argv[0], "-c", d] + argv[1:], capture_output=True, text=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""), line)
        with open(os.path.join(d, "main.cf")) as f:
            names = [l.split("=")[0].strip() for l in f if l[0].isalpha() and "=" in l]
        self.assertEqual(sorted(set(names)), sorted(names), "a parameter set twice")
        self.assertEqual(names.count("smtpd_relay_restrictions"), 1)
        p = subprocess.run(["postconf", "-c", d, "-n"], capture_output=True, text=True)
        self.assertEqual(p.stderr, "")
        for name, value in settings.items():
            self.assertIn("%s = %s" % (name, value), p.stdout.splitlines())
        rc, out, err = self.run_cli("postfix-config", "--check", d)
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_good_configuration(self):
        rc, out, err = self.check(GOOD)
        self.assertEqual((rc, out), (0, "no findings\n"))

    def test_open_relay(self):
        rc, out, err = self.check(GOOD.replace(
            "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,\n"
            "    reject_unauth_destination\n", "smtpd_relay_restrictions =\n").replace(
            "smtpd_recipient_restrictions = permit_mynetworks,\n    reject_unauth_destination,\n",
            "smtpd_recipient_restrictions = permit_mynetworks,\n"))
        self.assertEqual(rc, 1, out)
        self.assertIn("open relay", out)
        self.assertIn("smtpd_relay_restrictions", out)
        self.assertIn("fix: smtpd_relay_restrictions = permit_mynetworks, "
                      "permit_sasl_authenticated, reject_unauth_destination", out)
        # and the policy service now sees relay attempts
        self.assertIn("check_policy_service comes before reject_unauth_destination", out)

    def test_permit_before_the_guard_is_an_open_relay(self):
        rc, out, err = self.check(GOOD.replace("smtpd_relay_restrictions = permit_mynetworks,",
                                               "smtpd_relay_restrictions = permit,").replace(
            "    reject_unauth_destination,\n    check_policy_service",
            "    check_policy_service"))
        self.assertEqual(rc, 1, out)
        self.assertIn("open relay", out)

    def test_mynetworks_everything(self):
        rc, out, err = self.check(GOOD.replace("mynetworks = 127.0.0.0/8 [::1]/128",
                                               "mynetworks = 0.0.0.0/0"))
        self.assertEqual(rc, 1)
        self.assertIn("mynetworks: open relay", out)

    def test_default_relay_restrictions_are_safe(self):
        main = "\n".join(l for l in GOOD.splitlines()
                         if "smtpd_relay_restrictions" not in l
                         and "permit_sasl_authenticated," not in l
                         and l.strip() != "reject_unauth_destination") + "\n"
        rc, out, err = self.check(main)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("open relay", out)

    def test_text_before_the_first_parameter_is_skipped(self):
        # as Postfix reads main.cf: indented text with nothing to continue
        # is skipped, not taken for a parameter (here an open relay)
        main = GOOD.replace("mynetworks = 127.0.0.0/8 [::1]/128\n", "")
        rc, out, err = self.check("  mynetworks = 0.0.0.0/0\n" + main)
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_master_cf_overrides(self):
        # seed 004's warning: mua_* restrictions uncommented but never defined
        rc, out, err = self.check(GOOD, "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
                                        "  -o smtpd_relay_restrictions=permit\n"
                                        "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,"
                                        "permit\n")
        self.assertEqual(rc, 1, out)
        self.assertEqual(out.splitlines(), [
            "master.cf line 5 (submission): -o smtpd_client_restrictions="
            "$mua_client_restrictions names a parameter that main.cf does not define, so the "
            "service runs with no smtpd_client_restrictions; fix: define it in main.cf or "
            "remove the -o line",
            "master.cf line 6 (submission): -o smtpd_relay_restrictions=permit: open relay: "
            "smtpd_recipient_restrictions (master.cf line 7: -o smtpd_recipient_restrictions="
            "permit_sasl_authenticated,permit) does not refuse relaying either; fix: permit "
            "only authenticated clients: -o smtpd_relay_restrictions="
            "permit_sasl_authenticated,reject"])
        # defined in main.cf, and a safe override: nothing to say
        rc, out, err = self.check(GOOD + "mua_client_restrictions = permit_sasl_authenticated, "
                                  "reject\n",
                                  "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
                                  "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n")
        self.assertEqual((rc, out), (0, "no findings\n"))

    def test_relay_and_recipient_lists_combine_per_service(self):
        """As Postfix's smtpd_check_rcpt(): a recipient is relayed only when
        neither smtpd_relay_restrictions nor smtpd_recipient_restrictions
        rejects it, so a permissive recipient list behind a guarded relay
        list is no open relay, whichever of main.cf and -o each comes from."""
        submission = "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,permit\n"
        # main.cf's relay list guards the service
        rc, out, err = self.check(GOOD, submission)
        self.assertEqual((rc, out), (0, "no findings\n"), err)
        # the service's own relay list guards it
        rc, out, err = self.check(GOOD, submission + "  -o smtpd_relay_restrictions="
                                  "permit_sasl_authenticated,reject\n")
        self.assertEqual((rc, out), (0, "no findings\n"), err)
        # through a main.cf parameter, as Debian's master.cf writes it
        rc, out, err = self.check(GOOD + "mua_relay_restrictions = permit_sasl_authenticated, "
                                  "reject\n", submission + "  -o smtpd_relay_restrictions="
                                  "$mua_relay_restrictions\n")
        self.assertEqual((rc, out), (0, "no findings\n"), err)
        # neither refuses: main.cf's relay list permits everything
        main = GOOD.replace("smtpd_relay_restrictions = permit_mynetworks, "
                            "permit_sasl_authenticated,\n    reject_unauth_destination\n",
                            "smtpd_relay_restrictions = permit_mynetworks, permit\n")
        rc, out, err = self.check(main, submission)
        self.assertEqual(rc, 1, out)
        self.assertEqual(out.splitlines(), [
            "master.cf line 5 (submission): -o smtpd_recipient_restrictions="
            "permit_sasl_authenticated,permit: open relay: smtpd_relay_restrictions (main.cf) "
            "does not refuse relaying either; fix: permit only authenticated clients: "
            "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject"])
        # the next service line ends the submission's overrides
        rc, out, err = self.check(GOOD, "  -o smtpd_relay_restrictions=permit\n"
                                  "smtps inet n - y - - smtpd\n" + submission)
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_master_cf_overrides_anywhere_on_a_line(self):
        # -o on the service line itself, two on one line, ${name} references
        rc, out, err = self.check(GOOD, "2525 inet n - y - - smtpd "
                                        "-o smtpd_relay_restrictions=permit\n"
                                        "  -o smtpd_client_restrictions=${mua_client} "
                                        "-o smtpd_recipient_restrictions=permit\n")
        self.assertEqual(rc, 1, out)
        self.assertEqual(out.splitlines(), [
            "master.cf line 6 (2525): -o smtpd_client_restrictions=${mua_client} names a "
            "parameter that main.cf does not define, so the service runs with no "
            "smtpd_client_restrictions; fix: define it in main.cf or remove the -o line",
            "master.cf line 5 (2525): -o smtpd_relay_restrictions=permit: open relay: "
            "smtpd_recipient_restrictions (master.cf line 6: -o smtpd_recipient_restrictions="
            "permit) does not refuse relaying either; fix: permit only authenticated clients: "
            "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject"])

    def test_old_policy_services(self):
        """main.cf still asking postgrey and policyd-spf (seed 001's
        spawned policy-spf service) instead of mxshield."""
        main = GOOD.replace("    check_policy_service unix:private/mxshield\n",
                            "    check_policy_service unix:private/policy-spf,\n"
                            "    check_policy_service unix:private/postgrey,\n"
                            "    check_policy_service inet:127.0.0.1:10023,\n"
                            "    check_policy_service unix:private/mxshield\n")
        spawn = ("policy-spf unix - n n - - spawn\n"
                 "  user=nobody argv=/usr/bin/policyd-spf\n")
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("listen = unix:/var/spool/postfix/private/mxshield\n"
                    "mynetworks = 127.0.0.0/8 [::1]/128\n")
        rc, out, err = self.check(main, spawn, mx_conf=conf)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines(), [
            "main.cf line 5: smtpd_recipient_restrictions: check_policy_service "
            "unix:private/policy-spf still asks policyd-spf; fix: remove it (mxshield at "
            "check_policy_service unix:private/mxshield does SPF) and put check_spf in "
            "mxshield's recipient_restrictions",
            "main.cf line 5: smtpd_recipient_restrictions: check_policy_service "
            "unix:private/postgrey still asks postgrey; fix: replace it by check_policy_service "
            "unix:private/mxshield and put greylist in mxshield's recipient_restrictions, then "
            "stop postgrey (systemctl disable --now postgrey)",
            "main.cf line 5: smtpd_recipient_restrictions: check_policy_service "
            "inet:127.0.0.1:10023 still asks postgrey; fix: replace it by check_policy_service "
            "unix:private/mxshield and put greylist in mxshield's recipient_restrictions, then "
            "stop postgrey (systemctl disable --now postgrey)",
            "master.cf line 6 (policy-spf): runs policyd-spf, which mxshield's check_spf "
            "replaces; fix: put check_spf in mxshield's recipient_restrictions, then remove "
            "this service and its check_policy_service"])
        # mxshield itself on postgrey's port (the embedded default) is not postgrey
        rc, out, err = self.check(GOOD.replace("unix:private/mxshield", "inet:127.0.0.1:10023"))
        self.assertEqual((rc, out), (0, "no findings\n"), err)

    def test_domains_and_networks_agree(self):
        """mxshield.conf's mydestination, relay_domains and mynetworks
        against main.cf's (Postfix's default mydestination when unset)."""
        conf = os.path.join(self.tmpdir(), "mx.conf")
        with open(conf, "w") as f:
            f.write("myhostname = mx.our.example\n"
                    "mydestination = $myhostname, localhost\n"
                    "relay_domains = backup.example\n"
                    "mynetworks = 127.0.0.0/8, [::1]/128\n")
        main = GOOD + ("myhostname = mx.our.example\nmydomain = our.example\n"
                       "relay_domains = Backup.example\n")
        rc, out, err = self.check(main, mx_conf=conf)
        self.assertEqual((rc, out.splitlines()), (0, [
            'mydestination: mxshield.conf (%s:2) has "mx.our.example, localhost", main.cf has '
            '"mx.our.example, localhost.our.example, localhost": mxshield\'s '
            'reject_unauth_destination and permit_auth_destination decide otherwise than '
            'Postfix; fix: mydestination = mx.our.example, localhost.our.example, localhost in '
            'mxshield.conf' % conf]), err)
        with open(conf, "a") as f:
            f.write("mydestination = $myhostname localhost.$mydomain localhost\n")
        rc, out, err = self.check(main, mx_conf=conf)
        self.assertEqual((rc, out), (0, "no findings\n"), err)
        rc, out, err = self.check(main.replace("relay_domains = Backup.example\n", ""),
                                  mx_conf=conf)
        self.assertEqual((rc, out.splitlines()), (0, [
            'relay_domains: mxshield.conf (%s:3) has "backup.example", main.cf has "": '
            'mxshield\'s reject_unauth_destination and permit_auth_destination decide '
            'otherwise than Postfix; fix: relay_domains =  in mxshield.conf' % conf]), err)

    def test_advice_left_undone(self):
        main = GOOD.replace("smtpd_helo_required = yes\n", "").replace(
            "disable_vrfy_command = yes\n", "").replace(
            "smtpd_data_restrictions = reject_unauth_pipelining\n", "")
        rc, out, err = self.check(main)
        self.assertEqual(rc, 0)
        found = out.splitlines()
        self.assertEqual(len(found), 3, out)
        self.assertTrue(found[0].startswith("smtpd_helo_required:"))
        self.assertTrue(found[1].startswith("disable_vrfy_command:"))
        self.assertIn("reject_unauth_pipelining", found[2])
