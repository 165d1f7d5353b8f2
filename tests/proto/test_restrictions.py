"""Restriction evaluation and Postfix's exact reply texts, over the wire."""

from harness import DaemonTest

RELAY = "action=554 5.7.1 <%s>: Relay access denied"


class Replies(DaemonTest):

    def test_reject_unauth_destination(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n"
                        "relay_domains = relay.example\n")
        self.assertAnswers(d, [
            ({"recipient": "user@elsewhere.example"}, RELAY % "user@elsewhere.example"),
            ({"recipient": "bob@our.example"}, "action=DUNNO"),
            ({"recipient": "bob@mx.our.example"}, "action=DUNNO"),     # $myhostname
            ({"recipient": "bob@OUR.Example"}, "action=DUNNO"),        # case
            ({"recipient": "x@relay.example"}, "action=DUNNO"),
            ({"recipient": "x@sub.relay.example"}, "action=DUNNO"),    # parent matches
            ({"recipient": "x@notrelay.example"}, RELAY % "x@notrelay.example"),
        ])

    def test_reject_unauth_destination_logged_like_postfix(self):
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "user@elsewhere.example"}),
                         RELAY % "user@elsewhere.example")
        want = ("NOQUEUE: reject: RCPT from mail.sender.example[198.51.100.20]: 554 5.7.1 "
                "<user@elsewhere.example>: Relay access denied; from=<alice@sender.example> "
                "to=<user@elsewhere.example> proto=ESMTP helo=<mail.sender.example>")
        self.assertIsNotNone(d.wait_log(want), "log lacks %r:\n%s" % (want, d.read_log()))

    def test_permit_mynetworks(self):
        d = self.daemon("recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
        self.assertAnswers(d, [
            ({"client_address": "127.0.0.5", "recipient": "u@elsewhere.example"}, "action=DUNNO"),
            ({"client_address": "::1", "recipient": "u@elsewhere.example"}, "action=DUNNO"),
            ({"client_address": "198.51.100.20", "recipient": "u@elsewhere.example"},
             RELAY % "u@elsewhere.example"),
            ({"client_address": "2001:db8::1", "recipient": "u@elsewhere.example"},
             RELAY % "u@elsewhere.example"),
        ])

    def test_policy_permit_action_ok(self):
        d = self.daemon("recipient_restrictions = permit_mynetworks, reject_unauth_destination\n"
                        "policy_permit_action = OK\n")
        self.assertAnswers(d, [
            ({"client_address": "127.0.0.5", "recipient": "u@elsewhere.example"}, "action=OK"),
            # no explicit permit: still DUNNO
            ({"recipient": "u@our.example"}, "action=DUNNO"),
            ({"recipient": "u@elsewhere.example"}, RELAY % "u@elsewhere.example"),
        ])

    def test_helo_replies(self):
        d = self.daemon("helo_restrictions = reject_invalid_helo_hostname,"
                        " reject_non_fqdn_helo_hostname\n")
        self.assertAnswers(d, [
            ({"helo_name": "foo"},
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            ({"helo_name": "bad_host!"},
             "action=501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"),
            ({"helo_name": "mail.good.example"}, "action=DUNNO"),
            ({"helo_name": "[192.0.2.1]"}, "action=DUNNO"),
        ])

    def test_helo_required(self):
        d = self.daemon("smtpd_helo_required = yes\n")
        self.assertAnswers(d, [
            ({"helo_name": None}, "action=503 5.5.1 Error: send HELO/EHLO first"),
            ({"helo_name": ""}, "action=503 5.5.1 Error: send HELO/EHLO first"),
            ({"helo_name": "mail.sender.example"}, "action=DUNNO"),
        ])

    def test_non_fqdn_sender_and_recipient(self):
        d = self.daemon("sender_restrictions = reject_non_fqdn_sender\n"
                        "recipient_restrictions = reject_non_fqdn_recipient\n")
        self.assertAnswers(d, [
            ({"sender": "joe"},
             "action=504 5.5.2 <joe>: Sender address rejected: need fully-qualified address"),
            ({"sender": ""}, "action=DUNNO"),           # the null sender is fine
            ({"recipient": "bob"},
             "action=504 5.5.2 <bob>: Recipient address rejected: need fully-qualified address"),
            ({"recipient": "bob@our"},
             "action=504 5.5.2 <bob@our>: Recipient address rejected: need fully-qualified address"),
            ({}, "action=DUNNO"),
        ])

    def test_check_sender_access(self):
        table = ("user@example.com REJECT we do not want email from this guy\n"
                 "plain@example.com REJECT\n"
                 "later@example.com DEFER come back tomorrow\n"
                 "code5@example.com 550 Go away\n"
                 "code4@example.com 451 Slow down\n"
                 "dsn@example.com 550 5.1.8 Bad sender domain\n"
                 "friend@example.com OK\n"
                 "skip@example.com DUNNO\n"
                 "example.com REJECT whole domain\n")
        d = self.daemon("sender_restrictions = check_sender_access hash:@TMP@/senders\n",
                        {"senders": table})
        s = "action=%s <%s>: Sender address rejected: %s"
        self.assertAnswers(d, [
            ({"sender": "user@example.com"},
             s % ("554 5.7.1", "user@example.com", "we do not want email from this guy")),
            ({"sender": "plain@example.com"}, s % ("554 5.7.1", "plain@example.com", "Access denied")),
            ({"sender": "later@example.com"},
             s % ("450 4.7.1", "later@example.com", "come back tomorrow")),
            ({"sender": "code5@example.com"}, s % ("550 5.7.1", "code5@example.com", "Go away")),
            ({"sender": "code4@example.com"}, s % ("451 4.7.1", "code4@example.com", "Slow down")),
            ({"sender": "dsn@example.com"},
             s % ("550 5.1.8", "dsn@example.com", "Bad sender domain")),
            ({"sender": "friend@example.com"}, "action=DUNNO"),
            ({"sender": "skip@example.com"}, "action=DUNNO"),
            ({"sender": "other@example.com"}, s % ("554 5.7.1", "other@example.com", "whole domain")),
            ({"sender": "other@sub.example.com"},
             s % ("554 5.7.1", "other@sub.example.com", "whole domain")),
            ({"sender": "user@example.org"}, "action=DUNNO"),
        ])

    def test_check_client_access_reply_name(self):
        d = self.daemon("client_restrictions = check_client_access texthash:@TMP@/clients\n",
                        {"clients": "192.0.2.9 REJECT\n"
                                    "bad.example REJECT bad name\n"})
        c = "action=554 5.7.1 <%s>: Client host rejected: %s"
        self.assertAnswers(d, [
            ({"client_name": "unknown", "client_address": "192.0.2.9"},
             c % ("unknown[192.0.2.9]", "Access denied")),
            ({"client_name": "", "client_address": "192.0.2.9"},
             c % ("unknown[192.0.2.9]", "Access denied")),
            ({"client_name": "host.bad.example", "client_address": "192.0.2.10"},
             c % ("host.bad.example[192.0.2.10]", "bad name")),
            ({"client_name": "mail.good.example", "client_address": "192.0.2.10"}, "action=DUNNO"),
        ])

    def test_reject_and_defer(self):
        d = self.daemon("smtpd_restriction_classes = deferring\n"
                        "deferring = defer\n"
                        "recipient_restrictions = check_recipient_access texthash:@TMP@/r, reject\n",
                        {"r": "later@our.example deferring\n"
                              "fine@our.example OK\n"})
        self.assertAnswers(d, [
            ({"recipient": "rcpt@x.example"},
             "action=554 5.7.1 <rcpt@x.example>: Recipient address rejected: Access denied"),
            ({"recipient": "later@our.example"},
             "action=450 4.3.2 <later@our.example>: Recipient address rejected: Try again later"),
            ({"recipient": "fine@our.example"}, "action=DUNNO"),
        ])

    def test_defer_restriction(self):
        d = self.daemon("recipient_restrictions = defer\n")
        self.assertAnswers(d, [
            ({"recipient": "rcpt@x.example"},
             "action=450 4.3.2 <rcpt@x.example>: Recipient address rejected: Try again later"),
        ])

    def test_postmaster_always_accepted(self):
        d = self.daemon("client_restrictions = reject\n"
                        "recipient_restrictions = reject\n")
        self.assertAnswers(d, [
            ({"recipient": "postmaster"}, "action=DUNNO"),
            ({"recipient": "someone@our.example"},
             "action=554 5.7.1 <mail.sender.example[198.51.100.20]>: Client host rejected: "
             "Access denied"),
        ])

    def test_percent_hack_and_bang_path(self):
        d = self.daemon("mydestination = our.example\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        self.assertAnswers(d, [
            ({"recipient": "user%elsewhere.example@our.example"},
             RELAY % "user%elsewhere.example@our.example"),
            ({"recipient": "user@our.example"}, "action=DUNNO"),
            ({"recipient": "elsewhere.example!user@our.example"},
             RELAY % "elsewhere.example!user@our.example"),
            ({"recipient": "user%our.example@our.example"}, "action=DUNNO"),
        ])

    def test_warn_if_reject(self):
        d = self.daemon("recipient_restrictions = warn_if_reject reject_unauth_destination,\n"
                        "    check_recipient_access texthash:@TMP@/r\n",
                        {"r": "tabled@elsewhere.example REJECT tabled\n"})
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "user@elsewhere.example"}), "action=DUNNO")
        self.assertIsNotNone(d.wait_log("reject_warning: RCPT from", "Relay access denied",
                                        "user@elsewhere.example"),
                             "no reject_warning logged:\n" + d.read_log())
        # warn_if_reject applies to the next restriction only
        self.assertEqual(c.ask({"recipient": "tabled@elsewhere.example"}),
                         "action=554 5.7.1 <tabled@elsewhere.example>: Recipient address "
                         "rejected: tabled")

    def test_dry_run(self):
        d = self.daemon("dry_run = yes\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        c = self.client(d)
        self.assertEqual(c.ask({"recipient": "user@elsewhere.example"}), "action=DUNNO")
        self.assertIsNotNone(d.wait_log("reject_warning", "Relay access denied"),
                             "dry_run did not log reject_warning:\n" + d.read_log())

    def test_soft_bounce(self):
        d = self.daemon("soft_bounce = yes\n"
                        "recipient_restrictions = reject_unauth_destination\n")
        self.assertAnswers(d, [
            ({"recipient": "user@elsewhere.example"},
             "action=454 4.7.1 <user@elsewhere.example>: Relay access denied"),
        ])

    def test_list_order_and_permit_scope(self):
        d = self.daemon("client_restrictions = check_client_access texthash:@TMP@/c\n"
                        "helo_restrictions = reject_non_fqdn_helo_hostname\n"
                        "sender_restrictions = permit, reject\n"
                        "recipient_restrictions = reject_unauth_destination\n",
                        {"c": "192.0.2.66 REJECT client first\n"
                              "192.0.2.77 OK\n"})
        self.assertAnswers(d, [
            # client list is evaluated before helo
            ({"client_address": "192.0.2.66", "client_name": "", "helo_name": "foo"},
             "action=554 5.7.1 <unknown[192.0.2.66]>: Client host rejected: client first"),
            # OK in the client list ends only that list
            ({"client_address": "192.0.2.77", "helo_name": "foo"},
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            # permit ends only the sender list: the recipient list still runs
            ({"recipient": "x@elsewhere.example"}, RELAY % "x@elsewhere.example"),
            ({}, "action=DUNNO"),
        ])

    def test_smtpd_prefix_aliases(self):
        d = self.daemon("smtpd_recipient_restrictions = reject_unauth_destination\n"
                        "smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n")
        self.assertAnswers(d, [
            ({"recipient": "x@elsewhere.example"}, RELAY % "x@elsewhere.example"),
            ({"helo_name": "foo"},
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
        ])

    def test_data_restrictions_only_at_data(self):
        d = self.daemon("data_restrictions = reject\n")
        self.assertAnswers(d, [
            ({"protocol_state": "RCPT"}, "action=DUNNO"),
            ({"protocol_state": "DATA"},
             "action=554 5.7.1 <DATA>: Data command rejected: Access denied"),
        ])

    def test_recipient_delimiter(self):
        d = self.daemon("recipient_delimiter = +\n"
                        "recipient_restrictions = check_recipient_access texthash:@TMP@/r\n",
                        {"r": "bob@our.example REJECT no bob\n"})
        r = "action=554 5.7.1 <%s>: Recipient address rejected: no bob"
        self.assertAnswers(d, [
            ({"recipient": "bob@our.example"}, r % "bob@our.example"),
            ({"recipient": "bob+tag@our.example"}, r % "bob+tag@our.example"),
            ({"recipient": "bobby@our.example"}, "action=DUNNO"),
        ])


class AccessActions(DaemonTest):

    def test_defer_if_permit(self):
        d = self.daemon("sender_restrictions = check_sender_access texthash:@TMP@/s\n"
                        "recipient_restrictions = reject_unauth_destination\n",
                        {"s": "maybe@sender.example DEFER_IF_PERMIT maybe later\n"
                              "silent@sender.example DEFER_IF_PERMIT\n"})
        self.assertAnswers(d, [
            ({"sender": "maybe@sender.example"},
             "action=450 4.7.1 <maybe@sender.example>: Sender address rejected: maybe later"),
            ({"sender": "silent@sender.example"},
             "action=450 4.7.1 <silent@sender.example>: Sender address rejected: "
             "Service unavailable"),
            # a real reject wins over defer_if_permit
            ({"sender": "maybe@sender.example", "recipient": "x@elsewhere.example"},
             RELAY % "x@elsewhere.example"),
        ])

    def test_defer_if_reject(self):
        d = self.daemon("sender_restrictions = check_sender_access texthash:@TMP@/s,\n"
                        "    check_sender_access texthash:@TMP@/s2\n"
                        "recipient_restrictions = reject_unauth_destination\n",
                        {"s": "unsure@sender.example DEFER_IF_REJECT not sure about you\n"
                              "vague@sender.example DEFER_IF_REJECT\n",
                         "s2": "unsure@sender.example REJECT no\n"
                               "vague@sender.example REJECT no\n"
                               "other@sender.example REJECT plain no\n"})
        self.assertAnswers(d, [
            # a later 5xx in the same stage becomes the remembered 4xx
            ({"sender": "unsure@sender.example"},
             "action=450 4.7.1 <unsure@sender.example>: Sender address rejected: "
             "not sure about you"),
            ({"sender": "vague@sender.example"},
             "action=450 4.7.1 <vague@sender.example>: Sender address rejected: "
             "Service unavailable"),
            ({"sender": "other@sender.example"},
             "action=554 5.7.1 <other@sender.example>: Sender address rejected: plain no"),
        ])

    def test_defer_if_reject_is_per_stage(self):
        """As in Postfix (SMTPD_CHECK_RESET), defer_if_reject armed in the
        sender stage does not soften a reject in the recipient stage."""
        d = self.daemon("sender_restrictions = check_sender_access texthash:@TMP@/s\n"
                        "recipient_restrictions = reject_unauth_destination\n",
                        {"s": "unsure@sender.example DEFER_IF_REJECT not sure about you\n"})
        self.assertAnswers(d, [
            ({"sender": "unsure@sender.example"}, "action=DUNNO"),
            ({"sender": "unsure@sender.example", "recipient": "x@elsewhere.example"},
             RELAY % "x@elsewhere.example"),
        ])

    def test_prepend(self):
        d = self.daemon("sender_restrictions = check_sender_access texthash:@TMP@/s\n"
                        "recipient_restrictions = reject_unauth_destination\n",
                        {"s": "tagme@sender.example PREPEND X-Tagged: yes please\n"})
        self.assertAnswers(d, [
            ({"sender": "tagme@sender.example"}, "action=PREPEND X-Tagged: yes please"),
            ({"sender": "tagme@sender.example", "recipient": "x@elsewhere.example"},
             RELAY % "x@elsewhere.example"),
            ({}, "action=DUNNO"),
        ])

    def test_restriction_names_and_classes_as_values(self):
        d = self.daemon("smtpd_restriction_classes = no_relay, picky\n"
                        "no_relay = reject_unauth_destination\n"
                        "picky = reject_non_fqdn_helo_hostname, permit\n"
                        "sender_restrictions = check_sender_access texthash:@TMP@/s\n",
                        {"s": "strict@sender.example no_relay\n"
                              "named@sender.example reject_unauth_destination\n"
                              "fussy@sender.example picky\n"})
        self.assertAnswers(d, [
            ({"sender": "strict@sender.example", "recipient": "x@elsewhere.example"},
             RELAY % "x@elsewhere.example"),
            ({"sender": "strict@sender.example"}, "action=DUNNO"),
            ({"sender": "named@sender.example", "recipient": "y@elsewhere.example"},
             RELAY % "y@elsewhere.example"),
            ({"sender": "fussy@sender.example", "helo_name": "foo"},
             "action=504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
            ({"sender": "fussy@sender.example"}, "action=DUNNO"),
            # other senders: no relay control configured at all
            ({"sender": "someone@sender.example", "recipient": "x@elsewhere.example"},
             "action=DUNNO"),
        ])

    def test_config_syntax(self):
        """main.cf syntax: continuation lines, comments inside them, $name,
        ${name} and $(name) expansion."""
        d = self.daemon("# a comment\n"
                        "relay_domains = ${mydomain}2\n"
                        "recipient_restrictions =\n"
                        "    # an indented comment inside the list\n"
                        "    permit_mynetworks,\n"
                        "\treject_unauth_destination\n"
                        "mydestination = $myhostname, $(mydomain)\n")
        self.assertAnswers(d, [
            ({"recipient": "x@our.example"}, "action=DUNNO"),
            ({"recipient": "x@mx.our.example"}, "action=DUNNO"),
            ({"recipient": "x@our.example2"}, "action=DUNNO"),
            ({"recipient": "x@localhost"}, RELAY % "x@localhost"),
            ({"client_address": "127.0.0.1", "recipient": "x@else.example"}, "action=DUNNO"),
            ({"recipient": "x@else.example"}, RELAY % "x@else.example"),
        ])
