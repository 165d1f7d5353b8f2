"""The restriction block of seed guide 004 ("Mail Server On Ubuntu 18.04
Part 4"), pasted as is with the guide's access_*.in files
(tests/data/proto/seed004/).

As is, it names check_policy_service for postgrey, so it is refused
naming that line and what replaces it (greylist).  Without check_policy_service and
the DNS restrictions it must load and answer as Postfix would with no
resolver at all; the DNS restrictions are tested with the test DNS server
in test_dns.py."""

import os
import shutil

from harness import DATA, DaemonTest

SEED = os.path.join(DATA, "seed004")
TABLES = ["access_client.in", "access_helo.in", "access_sender.in", "access_recipient.in"]
REMOVED = ("reject_unknown_client_hostname", "reject_unknown_sender_domain",
           "reject_unknown_recipient_domain", "check_policy_service")

HEAD = """\
myhostname = mail.dragon.lab
mydomain = dragon.lab
mydestination = $mydomain, $myhostname, lists.dragon.lab, localhost
mynetworks = 127.0.0.0/8 [::1]/128
"""


def block():
    with open(os.path.join(SEED, "restrictions.cf")) as f:
        return f.read()


def reduced_block():
    return "".join(l for l in block().splitlines(True)
                   if not any(r in l for r in REMOVED))


def c(name, addr, text):
    return "action=554 5.7.1 <%s[%s]>: Client host rejected: %s" % (name, addr, text)


def h(helo, text):
    return "action=554 5.7.1 <%s>: Helo command rejected: %s" % (helo, text)


def s(sender, text):
    return "action=554 5.7.1 <%s>: Sender address rejected: %s" % (sender, text)


def r(rcpt, text):
    return "action=554 5.7.1 <%s>: Recipient address rejected: %s" % (rcpt, text)


GOOD = {"client_name": "mail.good.example", "reverse_client_name": "mail.good.example",
        "client_address": "198.51.100.7", "helo_name": "mail.good.example",
        "sender": "someone@good.example", "recipient": "bob@dragon.lab"}


def req(**kw):
    out = dict(GOOD)
    out.update(kw)
    return out


class Seed004(DaemonTest):

    def setup_dir(self, conf_block):
        tmp = self.tmpdir()
        for t in TABLES:
            shutil.copy(os.path.join(SEED, t), os.path.join(tmp, t))
        conf = HEAD + conf_block.replace("/etc/postfix/", tmp + "/")
        path = os.path.join(tmp, "main.cf")
        with open(path, "w") as f:
            f.write(conf)
        return tmp, path, conf

    def test_block_as_is_refused_for_check_policy_service(self):
        """The DNS restrictions load; the postgrey check_policy_service line
        (greylisting is built in) is refused, naming the word
        and its line, by every command that reads the configuration."""
        self.assertIn("reject_unknown_client_hostname", block())
        tmp, path, conf = self.setup_dir(block())
        lineno = [i for i, l in enumerate(conf.splitlines(), 1)
                  if l.startswith("smtpd_recipient_restrictions")][0]
        for cmd in ("serve", "check", "config"):
            rc, out, err = self.run_cli(cmd, "-c", path, timeout=5)
            self.assertEqual(rc, 1, "%s accepted check_policy_service: %s" % (cmd, err))
            self.assertIn("check_policy_service", err)
            # postgrey's line names its replacement
            self.assertIn('postgrey is built in: write "greylist" instead', err)
            self.assertIn("%s:%d" % (path, lineno), err)
            self.assertNotIn("reject_unknown_client_hostname", err)

    def test_block_without_dns_restrictions(self):
        tmp, path, conf = self.setup_dir(reduced_block())
        for removed in REMOVED:
            self.assertNotIn(removed, conf)
        self.assertIn("reject_unauth_pipelining", conf)
        d = self.daemon(conf, common=False)
        spam = "Email address passed on to spammers"
        self.assertAnswers(d, [
            (req(), "action=DUNNO"),
            # access_sender.in: full address
            (req(sender="user@example.com"), s("user@example.com",
                                               "we do not want email from this guy")),
            # access_sender.in: parent domain, trailing blanks trimmed
            (req(sender="x@mail.bigfoot.com"), s("x@mail.bigfoot.com", "Source of spam.")),
            (req(sender="x@myfax.com"), s("x@myfax.com", "Scumbag spammer.")),
            # "spammer@" has no value: that line is skipped, the table still works
            (req(sender="spammer@good.example"), "action=DUNNO"),
            # reject_non_fqdn_sender
            (req(sender="joe"), "action=504 5.5.2 <joe>: Sender address rejected: "
                                "need fully-qualified address"),
            # access_client.in: host name and parent domain
            (req(client_name="foo.myfax.com", client_address="198.51.100.8"),
             c("foo.myfax.com", "198.51.100.8", "Getting a lot of spam from myfaxcom.")),
            (req(client_name="mail.spam.ru", client_address="198.51.100.9"),
             c("mail.spam.ru", "198.51.100.9", "Someone from Russia, probably a spammer.")),
            # access_client.in: address octet prefix
            (req(client_name="unknown", client_address="192.168.0.5"),
             c("unknown", "192.168.0.5", "Your IP address is not allowed here")),
            (req(client_name="unknown", client_address="172.16.9.9"),
             c("unknown", "172.16.9.9", "You cannot be 172.16.x.x")),
            # OK in the client list ends that list only
            (req(client_name="unknown", client_address="10.1.2.3", sender="user@example.com"),
             s("user@example.com", "we do not want email from this guy")),
            # helo checks
            (req(helo_name="foo"), "action=504 5.5.2 <foo>: Helo command rejected: "
                                   "need fully-qualified hostname"),
            # reject_non_fqdn_helo_hostname comes first in the guide's list
            (req(helo_name="bad_host!"), "action=504 5.5.2 <bad_host!>: Helo command rejected: "
                                         "need fully-qualified hostname"),
            (req(helo_name="mail.example.com"), h("mail.example.com",
                                                  "Nothing should come from here")),
            # access_recipient.in
            (req(recipient="from_spammer@dragon.lab"), r("from_spammer@dragon.lab", spam)),
            (req(recipient="from_spammer@lists.dragon.lab"),
             r("from_spammer@lists.dragon.lab", spam)),
            (req(recipient="from_playdotcom@dragon.lab"),
             r("from_playdotcom@dragon.lab", "Play.com tried to cover up they were hacked")),
            # relay control
            (req(recipient="someone@elsewhere.example"),
             "action=554 5.7.1 <someone@elsewhere.example>: Relay access denied"),
            (req(recipient="bob"), "action=504 5.5.2 <bob>: Recipient address rejected: "
                                   "need fully-qualified address"),
            # mynetworks: permitted through client/helo/sender/relay lists,
            # the recipient list still applies
            (req(client_address="127.0.0.1", client_name="localhost", helo_name="foo",
                 sender="user@example.com", recipient="friend@elsewhere.example"),
             "action=DUNNO"),
            (req(client_address="127.0.0.1", client_name="localhost",
                 recipient="from_spammer@anything.example"),
             r("from_spammer@anything.example", spam)),
        ])
