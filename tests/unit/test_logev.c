/*
 * test_logev.c - Postfix log lines to auto-ban events: every kind, every
 * timestamp form, IPv4 and IPv6, the lines left out, the AUTH failure
 * logged twice, the line-length limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ban/event.h"

/* 2026-12-05 06:00:00 UTC: year-less stamps fill in 2026 */
#define NOW	((time_t) 1796450400)

struct want {
    const char *line;
    const char *event;			/* NULL: no event */
    const char *host;
    const char *user;			/* NULL: none */
    const char *reject;			/* class of a reject, else NULL */
};

static const struct want cases[] = {
    /* SASL failures, Postfix 3.7 and 3.9+ (with sasl_username) */
    {"2026-12-05T06:01:02.123456+01:00 mx postfix/smtpd[100]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
     "auth-failed", "192.0.2.7", NULL, NULL},
    {"Dec  5 06:01:02 mx postfix/submission/smtpd[101]: warning: host.example[2001:db8::7]: SASL PLAIN authentication failed: authentication failure, sasl_username=alice@example.org",
     "auth-failed", "2001:db8::7", "alice@example.org", NULL},
    {"Dec  5 06:01:02 mx postfix/smtpd[102]: warning: unknown[198.51.100.2]:40022: SASL login authentication failed: bad, reason, sasl_username=(unavailable)",
     "auth-failed", "198.51.100.2", NULL, NULL},
    {"Dec  5 06:01:02 mx postfix/smtpd[103]: warning: unknown[198.51.100.3]: SASL CRAM-MD5 authentication failed: Invalid authentication mechanism",
     "auth-failed", "198.51.100.3", NULL, NULL},
    {"Dec  5 06:01:02 mx postfix/smtpd[104]: warning: unknown[198.51.100.4]: SASL LOGIN authentication failed: Connection lost to authentication server",
     NULL, NULL, NULL, NULL},
    /* IPv4-mapped IPv6 is the IPv4 client */
    {"Dec  5 06:01:02 mx postfix/smtpd[105]: warning: unknown[::ffff:192.0.2.9]: SASL LOGIN authentication failed: x",
     "auth-failed", "192.0.2.9", NULL, NULL},
    /* a name where the address belongs is no client */
    {"Dec  5 06:01:02 mx postfix/smtpd[105]: warning: unknown[example.com]: SASL LOGIN authentication failed: x",
     NULL, NULL, NULL, NULL},

    /* lost connections */
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: lost connection after AUTH from unknown[192.0.2.10]",
     "lost-after-auth", "192.0.2.10", NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: lost connection after CONNECT from unknown[2001:db8:0:0::10]",
     "lost-connection", "2001:db8::10", NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: lost connection after DATA (0 bytes) from unknown[192.0.2.11]",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: lost connection after DATA from unknown[192.0.2.11]",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: lost connection after END-OF-MESSAGE from unknown[192.0.2.11]",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: NOQUEUE: lost connection after EHLO from unknown[192.0.2.12]",
     "lost-connection", "192.0.2.12", NULL, NULL},
    {"Dec  5 06:01:03 mx postfix/smtpd[110]: timeout after EHLO from unknown[192.0.2.12]",
     NULL, NULL, NULL, NULL},

    /* errors and pipelining */
    {"Dec  5 06:01:04 mx postfix/smtpd[120]: too many errors after RCPT from a.example[192.0.2.20]",
     "too-many-errors", "192.0.2.20", NULL, NULL},
    {"Dec  5 06:01:04 mx postfix/smtpd[120]: improper command pipelining after CONNECT from unknown[192.0.2.21]: EHLO x\\r\\n",
     "improper-pipelining", "192.0.2.21", NULL, NULL},

    /* rejects, by class */
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.30]: 554 5.7.1 Service unavailable; Client host [192.0.2.30] blocked using zen.example; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
     "reject", "192.0.2.30", NULL, "rbl"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.31]: 450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.31]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
     "reject", "192.0.2.31", NULL, "client"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.32]: 504 5.5.2 <x>: Helo command rejected: need fully-qualified hostname; proto=ESMTP helo=<x>",
     "reject", "192.0.2.32", NULL, "helo"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: MAIL from unknown[192.0.2.33]: 450 4.1.8 <a@nx.example>: Sender address rejected: Domain not found; from=<a@nx.example> proto=ESMTP helo=<x>",
     "reject", "192.0.2.33", NULL, "sender"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: 4ZKx1T0bG2z9rwJ: reject: RCPT from unknown[2001:db8::34]: 550 5.1.1 <u@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@b> to=<u@example.org> proto=ESMTP helo=<x>",
     "reject", "2001:db8::34", NULL, "recipient"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.35]: 554 5.7.1 <u@else.example>: Relay access denied; from=<a@b> to=<u@else.example> proto=ESMTP helo=<x>",
     "reject", "192.0.2.35", NULL, "relay"},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: ABCDEF123: milter-reject: DATA from unknown[192.0.2.36]: 550 5.7.1 Command rejected; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
     "reject", "192.0.2.36", NULL, "other"},
    {"Dec  5 06:01:05 mx postfix/postscreen[131]: NOQUEUE: reject: RCPT from [192.0.2.37]:5555: 550 5.7.1 Service unavailable; client [192.0.2.37] blocked using zen.example; from=<a@b>, to=<c@d>, proto=ESMTP, helo=<x>",
     "reject", "192.0.2.37", NULL, "rbl"},
    /* rejects fail2ban does not count: greylisting, CONNECT, our own policy text */
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.38]: 450 4.2.0 <u@example.org>: Recipient address rejected: Greylisted; from=<a@b> to=<u@example.org> proto=ESMTP helo=<x>",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: CONNECT from unknown[192.0.2.39]: 554 5.7.1 <unknown[192.0.2.39]>: Client host rejected: banned; proto=SMTP",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:05 mx postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.40]: 550 5.1.1 <u@example.org>: Recipient address rejected: matched; from=<a@b>",
     NULL, NULL, NULL, NULL},

    /* postscreen */
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: PREGREET 14 after 0.08 from [192.0.2.50]:59415: EHLO x\\r\\n",
     "pregreet", "192.0.2.50", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: DNSBL rank 4 for [2001:db8::51]:41000",
     "dnsbl", "2001:db8::51", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: COMMAND PIPELINING from [192.0.2.52]:41000 after EHLO: MAIL FROM:<a@b>\\r\\n",
     "command-pipelining", "192.0.2.52", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: HANGUP after 1.2 from [192.0.2.53]:41000 in tests after SMTP handshake",
     "hangup", "192.0.2.53", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: NON-SMTP COMMAND from [192.0.2.54]:41000 after CONNECT: GET / HTTP/1.1",
     "non-smtp-command", "192.0.2.54", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: COMMAND COUNT LIMIT from [192.0.2.55]:41000 after RCPT",
     "command-limit", "192.0.2.55", NULL, NULL},
    {"Dec  5 06:01:06 mx postfix/postscreen[140]: CONNECT from [192.0.2.56]:41000 to [192.0.2.1]:25",
     NULL, NULL, NULL, NULL},

    {"Dec  5 06:01:06 mx postfix/smtpd[141]: warning: non-SMTP command from unknown[2001:db8::57]: GET / HTTP/1.1",
     "non-smtp-command", "2001:db8::57", NULL, NULL},

    /* smtpd's anvil limits */
    {"Dec  5 06:01:07 mx postfix/smtpd[150]: warning: Connection rate limit exceeded: 61 from unknown[192.0.2.60] for service smtp",
     "rate-limit", "192.0.2.60", NULL, NULL},
    {"Dec  5 06:01:07 mx postfix/smtpd[150]: warning: AUTH command rate limit exceeded: 11 from x.example[2001:db8::61] for service submission",
     "rate-limit", "2001:db8::61", NULL, NULL},
    /* anvil's own statistics are no event */
    {"Dec  5 06:01:07 mx postfix/anvil[151]: statistics: max connection rate 61/60s for (smtp:192.0.2.60) at Dec  5 06:01:07",
     NULL, NULL, NULL, NULL},

    /* a disconnect with failed AUTH and no failure line seen: counted */
    {"Dec  5 06:01:08 mx postfix/smtpd[160]: disconnect from unknown[192.0.2.70] ehlo=1 auth=0/1 quit=1 commands=2/3",
     "auth-failed", "192.0.2.70", NULL, NULL},
    {"Dec  5 06:01:08 mx postfix/smtpd[161]: disconnect from unknown[192.0.2.71] ehlo=1 auth=1/2 quit=1 commands=3/4",
     NULL, NULL, NULL, NULL},
    {"Dec  5 06:01:08 mx postfix/smtpd[162]: disconnect from unknown[192.0.2.72] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
     NULL, NULL, NULL, NULL},

    /* the prefix: other programs, the journal's forms */
    {"Dec  5 06:01:09 mx sshd[170]: lost connection after AUTH from unknown[192.0.2.80]",
     NULL, NULL, NULL, NULL},
    {"2026-12-05T06:01:09+00:00 mx dovecot[171]: warning: unknown[192.0.2.81]: SASL LOGIN authentication failed: x",
     NULL, NULL, NULL, NULL},
    {"postfix/smtpd[172]: lost connection after RSET from unknown[192.0.2.82]",
     "lost-connection", "192.0.2.82", NULL, NULL},
    {"too many errors after DATA from unknown[192.0.2.83]",
     "too-many-errors", "192.0.2.83", NULL, NULL},
    {"postfix-out/smtps/smtpd: too many errors after DATA from unknown[192.0.2.84]",
     "too-many-errors", "192.0.2.84", NULL, NULL},
};

/* test_table - each line's event, client, user and reject class */
static void test_table(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	const struct want *w = &cases[i];
	struct logev *l = logev_new();
	struct ban_event ev;
	int     got = logev_line(l, w->line, strlen(w->line), NOW, &ev);

	if (w->event == NULL) {
	    if (got)
		fail_msg("case %zu: event %s for a non-event: %s", i,
			 ban_event_name(ev.kind), w->line);
	    logev_free(l);
	    continue;
	}
	if (!got)
	    fail_msg("case %zu: no event: %s", i, w->line);
	if (strcmp(ban_event_name(ev.kind), w->event) != 0)
	    fail_msg("case %zu: %s, want %s", i, ban_event_name(ev.kind), w->event);
	assert_string_equal(ev.host, w->host);
	if (w->user) {
	    assert_int_equal(ev.has_user, 1);
	    assert_string_equal(ev.user, w->user);
	} else {
	    assert_int_equal(ev.has_user, 0);
	}
	assert_string_equal(ban_reject_name(ev.reject), w->reject ? w->reject : "none");
	logev_free(l);
    }
}

static int classify(struct logev *l, const char *line, struct ban_event *ev)
{
    return logev_line(l, line, strlen(line), NOW, ev);
}

/* test_times - the three timestamp forms to UTC */
static void test_times(void **state)
{
    struct logev *l = logev_new();
    struct ban_event ev;
    const char *tail = " mx postfix/smtpd[1]: lost connection after EHLO from x[192.0.2.1]";
    char    line[256];

    (void) state;
    snprintf(line, sizeof(line), "2026-12-05T07:00:00.5+01:00%s", tail);
    assert_int_equal(classify(l, line, &ev), 1);
    assert_int_equal(ev.when, NOW);
    snprintf(line, sizeof(line), "2026-12-05T05:00:00Z%s", tail);
    assert_int_equal(classify(l, line, &ev), 1);
    assert_int_equal(ev.when, NOW - 3600);
    snprintf(line, sizeof(line), "2026-12-04T23:30:00-06:30%s", tail);
    assert_int_equal(classify(l, line, &ev), 1);
    assert_int_equal(ev.when, NOW);

    /* year-less forms are local time: in UTC the stamp is exact */
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(line, sizeof(line), "Dec  5 06:00:00%s", tail);
    assert_int_equal(classify(l, line, &ev), 1);
    assert_int_equal(ev.when, NOW);
    snprintf(line, sizeof(line), "Dec 5 06:00:01.123456%s", tail);
    assert_int_equal(classify(l, line, &ev), 1);
    assert_int_equal(ev.when, NOW + 1);
    /* a date well ahead of now is last year's */
    snprintf(line, sizeof(line), "Dec 31 23:59:59%s", tail);
    assert_int_equal(logev_line(l, line, strlen(line), NOW + 30 * 86400, &ev), 1);
    assert_int_equal(ev.when, (time_t) 1798761599);	/* 2026-12-31T23:59:59Z */
    assert_int_equal(logev_line(l, line, strlen(line), (time_t) 1798848000, &ev), 1);
    assert_int_equal(ev.when, (time_t) 1798761599);	/* read on 2027-01-02 */
    /* the journal's form has no time of its own */
    assert_int_equal(classify(l, "postfix/smtpd[1]: lost connection after EHLO from x[192.0.2.1]", &ev), 1);
    assert_int_equal(ev.when, 0);
    /* a broken stamp is not Postfix's line */
    snprintf(line, sizeof(line), "2026-13-05T07:00:00Z%s", tail);
    assert_int_equal(classify(l, line, &ev), 0);
    logev_free(l);
}

/* test_auth_once - a failure line then its disconnect count once; another
 * process's disconnect, or another client's, still counts */
static void test_auth_once(void **state)
{
    struct logev *l = logev_new();
    struct ban_event ev;

    (void) state;
    assert_int_equal(classify(l, "Dec  5 06:00:00 mx postfix/smtpd[7]: connect from unknown[192.0.2.9]", &ev), 0);
    assert_int_equal(classify(l, "Dec  5 06:00:01 mx postfix/smtpd[7]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: x", &ev), 1);
    assert_int_equal(classify(l, "Dec  5 06:00:02 mx postfix/smtpd[8]: disconnect from unknown[192.0.2.9] ehlo=1 auth=0/1 quit=1 commands=2/3", &ev), 1);
    assert_int_equal(classify(l, "Dec  5 06:00:02 mx postfix/smtpd[7]: disconnect from unknown[192.0.2.9] ehlo=1 auth=0/1 quit=1 commands=2/3", &ev), 0);
    /* the slot is spent: the next session's disconnect counts */
    assert_int_equal(classify(l, "Dec  5 06:00:03 mx postfix/smtpd[7]: disconnect from unknown[192.0.2.9] ehlo=1 auth=0/1 quit=1 commands=2/3", &ev), 1);
    assert_int_equal(ev.kind, BEV_AUTH_FAILED);
    /* a new connection forgets an old failure */
    assert_int_equal(classify(l, "Dec  5 06:00:04 mx postfix/smtpd[7]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: x", &ev), 1);
    assert_int_equal(classify(l, "Dec  5 06:00:05 mx postfix/smtpd[7]: connect from unknown[192.0.2.9]", &ev), 0);
    assert_int_equal(classify(l, "Dec  5 06:00:06 mx postfix/smtpd[7]: disconnect from unknown[192.0.2.9] auth=0/2", &ev), 1);
    logev_free(l);
}

/* test_length_limit - LOGEV_LINE_MAX bytes classify, one more does not */
static void test_length_limit(void **state)
{
    struct logev *l = logev_new();
    struct ban_event ev;
    const char *head = "Dec  5 06:00:00 mx postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: ";
    char   *line = malloc(LOGEV_LINE_MAX + 2);
    size_t  hl = strlen(head);

    (void) state;
    memcpy(line, head, hl);
    memset(line + hl, 'x', LOGEV_LINE_MAX + 1 - hl);
    assert_int_equal(logev_line(l, line, LOGEV_LINE_MAX, NOW, &ev), 1);
    assert_int_equal(logev_line(l, line, LOGEV_LINE_MAX + 1, NOW, &ev), 0);
    free(line);
    logev_free(l);
}

/* test_names - names are stable and round-trip */
static void test_names(void **state)
{
    (void) state;
    for (int k = 0; k < BEV_COUNT; k++) {
	assert_non_null(ban_event_name(k));
	assert_int_equal(ban_event_lookup(ban_event_name(k)), k);
    }
    assert_null(ban_event_name(BEV_COUNT));
    assert_int_equal(ban_event_lookup("nonesuch"), -1);
    assert_string_equal(ban_event_name(BEV_AUTH_FAILED), "auth-failed");
    assert_string_equal(ban_reject_name(BRJ_RELAY), "relay");
    assert_null(ban_reject_name(BRJ_COUNT));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_table),
	cmocka_unit_test(test_times),
	cmocka_unit_test(test_auth_once),
	cmocka_unit_test(test_length_limit),
	cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
