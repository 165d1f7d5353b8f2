"""Lookup tables over the wire: types, access(5) lookup order, and tables
that reload themselves when their file changes (no postmap, no restart)."""

import os
import time

from harness import DaemonTest

CLIENT = "action=554 5.7.1 <%s>: Client host rejected: %s"
HELO = "action=554 5.7.1 <%s>: Helo command rejected: %s"
SENDER = "action=554 5.7.1 <%s>: Sender address rejected: %s"
RCPT = "action=554 5.7.1 <%s>: Recipient address rejected: %s"


class TableTypes(DaemonTest):

    def test_cidr_ipv4_and_ipv6(self):
        d = self.daemon("client_restrictions = check_client_access cidr:@TMP@/nets\n",
                        {"nets": "# comment\n"
                                 "192.0.2.128/25 OK\n"
                                 "192.0.2.0/24 REJECT cidr says no\n"
                                 "2001:db8::/32 REJECT v6 says no\n"})
        self.assertAnswers(d, [
            ({"client_name": "", "client_address": "192.0.2.77"},
             CLIENT % ("unknown[192.0.2.77]", "cidr says no")),
            ({"client_name": "", "client_address": "192.0.2.200"}, "action=DUNNO"),
            ({"client_name": "", "client_address": "2001:db8::5"},
             CLIENT % ("unknown[2001:db8::5]", "v6 says no")),
            ({"client_name": "", "client_address": "2001:db9::5"}, "action=DUNNO"),
            ({"client_name": "", "client_address": "198.51.100.1"}, "action=DUNNO"),
        ])

    def test_regexp_and_pcre(self):
        d = self.daemon("helo_restrictions = check_helo_access regexp:@TMP@/helo.re\n"
                        "sender_restrictions = check_sender_access pcre:@TMP@/sender.pcre\n",
                        {"helo.re": "/^dynamic-[0-9]+\\.example\\.net$/ REJECT dynamic helo\n"
                                    "/^localhost$/ REJECT you are not me\n",
                         "sender.pcre": "/^([^@]+)@spam\\.example$/ REJECT go away $1\n"
                                        "!/\\.(com|net|org|example)$/ REJECT odd tld\n"})
        self.assertAnswers(d, [
            ({"helo_name": "dynamic-42.example.net"},
             HELO % ("dynamic-42.example.net", "dynamic helo")),
            ({"helo_name": "localhost"}, HELO % ("localhost", "you are not me")),
            ({"helo_name": "static.example.net"}, "action=DUNNO"),
            ({"sender": "eve@spam.example"}, SENDER % ("eve@spam.example", "go away eve")),
            ({"sender": "eve@spam.info"}, SENDER % ("eve@spam.info", "odd tld")),
            ({"sender": "ann@good.example"}, "action=DUNNO"),
        ])

    def test_pattern_tables_see_folded_addresses(self):
        # Postfix 3.7's smtpd folds a mail address to lower case before
        # check_sender/recipient_access look it up (smtpd_resolve_addr), so a
        # line made case-sensitive by 'i' still matches ADMIN@...; HELO and
        # client names reach regexp/pcre tables as given.
        for kind in ("pcre", "regexp"):
            with self.subTest(kind=kind):
                table = ("/^admin@/i REJECT impersonation\n"
                         "/^([a-z]+)@caps\\.example$/i REJECT folded $1\n"
                         "/^Mail\\.Example$/i REJECT exact case\n"
                         "/^other\\.example$/ REJECT any case\n")
                d = self.daemon(
                    "client_restrictions = check_client_access %s:@TMP@/t\n"
                    "    check_reverse_client_hostname_access %s:@TMP@/t\n"
                    "helo_restrictions = check_helo_access %s:@TMP@/t\n"
                    "sender_restrictions = check_sender_access %s:@TMP@/t\n"
                    "recipient_restrictions = check_recipient_access %s:@TMP@/t\n"
                    % ((kind,) * 5), {"t": table})
                base = {"client_name": "", "reverse_client_name": "",
                        "client_address": "192.0.2.1"}

                def req(**kw):
                    r = dict(base)
                    r.update(kw)
                    return r
                self.assertAnswers(d, [
                    (req(sender="ADMIN@s.example"),
                     SENDER % ("ADMIN@s.example", "impersonation")),
                    (req(sender="Admin@S.Example"),
                     SENDER % ("Admin@S.Example", "impersonation")),
                    (req(sender="BOB@CAPS.example"),
                     SENDER % ("BOB@CAPS.example", "folded bob")),
                    (req(sender="ok@s.example", recipient="ADMIN@s.example"),
                     RCPT % ("ADMIN@s.example", "impersonation")),
                    (req(helo_name="MAIL.EXAMPLE"), "action=DUNNO"),
                    (req(helo_name="Mail.Example"),
                     HELO % ("Mail.Example", "exact case")),
                    (req(helo_name="OTHER.Example"),
                     HELO % ("OTHER.Example", "any case")),
                    (req(client_name="MAIL.EXAMPLE"), "action=DUNNO"),
                    (req(client_name="Mail.Example"),
                     CLIENT % ("Mail.Example[192.0.2.1]", "exact case")),
                    (req(reverse_client_name="OTHER.EXAMPLE"),
                     "action=554 5.7.1 <OTHER.EXAMPLE>: Unverified Client host"
                     " rejected: any case"),
                ])

    def test_hash_reads_source_or_dot_in(self):
        d = self.daemon("sender_restrictions = check_sender_access hash:@TMP@/plain,\n"
                        "    check_sender_access hash:@TMP@/withdotin\n",
                        {"plain": "a@sender.example REJECT from plain\n",
                         "withdotin.in": "b@sender.example REJECT from dot in\n"})
        self.assertFalse(os.path.exists(os.path.join(d.tmp, "withdotin")))
        self.assertAnswers(d, [
            ({"sender": "a@sender.example"}, SENDER % ("a@sender.example", "from plain")),
            ({"sender": "b@sender.example"}, SENDER % ("b@sender.example", "from dot in")),
            ({"sender": "c@sender.example"}, "action=DUNNO"),
        ])

    def test_access_lookup_order(self):
        table = ("user@example.com OK\n"
                 "example.com REJECT domain\n"
                 "postmaster@ REJECT localpart\n"
                 "192.0.2 REJECT octets\n"
                 "192.0.2.1 OK\n"
                 "<> REJECT null sender\n"
                 "trailing.example REJECT  spaces around   \n")
        d = self.daemon("client_restrictions = check_client_access texthash:@TMP@/t\n"
                        "sender_restrictions = check_sender_access texthash:@TMP@/t\n",
                        {"t": table})
        self.assertAnswers(d, [
            ({"sender": "user@example.com"}, "action=DUNNO"),
            ({"sender": "USER@Example.COM"}, "action=DUNNO"),
            ({"sender": "other@example.com"}, SENDER % ("other@example.com", "domain")),
            ({"sender": "postmaster@else.example"},
             SENDER % ("postmaster@else.example", "localpart")),
            ({"sender": ""}, SENDER % ("", "null sender")),
            ({"sender": "x@trailing.example"}, SENDER % ("x@trailing.example", "spaces around")),
            ({"client_name": "", "client_address": "192.0.2.1"}, "action=DUNNO"),
            ({"client_name": "", "client_address": "192.0.2.99"},
             CLIENT % ("unknown[192.0.2.99]", "octets")),
        ])

    def test_bare_table_is_list_check(self):
        """A bare type:table in a list is that list's check_*_access."""
        d = self.daemon("sender_restrictions = texthash:@TMP@/s\n",
                        {"s": "bad@sender.example REJECT bare table\n"})
        self.assertAnswers(d, [
            ({"sender": "bad@sender.example"}, SENDER % ("bad@sender.example", "bare table")),
        ])


class TableReload(DaemonTest):

    def test_table_edit_applies_on_same_connection(self):
        d = self.daemon("recipient_restrictions = check_recipient_access hash:@TMP@/rcpt,\n"
                        "    check_recipient_access hash:@TMP@/legacy,\n"
                        "    check_recipient_access regexp:@TMP@/rcpt.re\n",
                        {"rcpt": "old@our.example REJECT old entry\n",
                         "legacy.in": "# nothing yet\n",
                         "rcpt.re": "/^re-old@/ REJECT regexp entry\n"})
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "newbie@our.example"}), "action=DUNNO")
        self.assertEqual(c.ask({"recipient": "legacy@our.example"}), "action=DUNNO")
        self.assertEqual(c.ask({"recipient": "re-old@our.example"}),
                         RCPT % ("re-old@our.example", "regexp entry"))

        # edit in place, a .in source, and break the regexp table
        with open(os.path.join(d.tmp, "rcpt"), "a") as f:
            f.write("newbie@our.example REJECT added while running\n")
        with open(os.path.join(d.tmp, "legacy.in"), "a") as f:
            f.write("legacy@our.example REJECT added to the .in file\n")
        with open(os.path.join(d.tmp, "rcpt.re"), "w") as f:
            f.write("/^re-old@( REJECT broken pattern\n")
        time.sleep(2.5)
        self.assertEqual(c.ask({"recipient": "newbie@our.example"}),
                         RCPT % ("newbie@our.example", "added while running"))
        self.assertEqual(c.ask({"recipient": "old@our.example"}),
                         RCPT % ("old@our.example", "old entry"))
        self.assertEqual(c.ask({"recipient": "legacy@our.example"}),
                         RCPT % ("legacy@our.example", "added to the .in file"))
        # a table that fails to load keeps its previous contents
        self.assertEqual(c.ask({"recipient": "re-old@our.example"}),
                         RCPT % ("re-old@our.example", "regexp entry"))

        # replace the file the way editors do: write elsewhere, rename over
        tmp = os.path.join(d.tmp, "rcpt.tmp")
        with open(tmp, "w") as f:
            f.write("newbie@our.example OK\n")
        os.rename(tmp, os.path.join(d.tmp, "rcpt"))
        time.sleep(2.5)
        self.assertEqual(c.ask({"recipient": "newbie@our.example"}), "action=DUNNO")
        self.assertEqual(c.ask({"recipient": "old@our.example"}), "action=DUNNO")
