/*
 * test_report.c - mxshield report's parsers: the three time stamp forms
 * and a journal line, --since, the decision line's fields (with hostile
 * addresses), the restriction behind Postfix's wording, the line length
 * limit (at it and one byte past), and Postfix's repetition of
 * mxshield's reject counted once whatever the order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/event.h"
#include "report/infer.h"
#include "report/logline.h"
#include "report/report.h"
#include "util/mem.h"

#define NOW	1796428800			/* 2026-12-05T00:00:00Z */

static void test_time_forms(void **state)
{
    static const struct {
	const char *line;
	int     has_time;
	int64_t time;
	const char *prog, *msg;
    } cases[] = {
	{"2026-12-05T08:00:01.012345+00:00 mx mxshield/policy[812]: hello",
	 1, NOW + 8 * 3600 + 1, "mxshield/policy", "hello"},
	{"2026-12-05T09:00:01+01:00 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1,
	 "postfix/smtpd", "x"},
	{"2026-12-05T08:00:01+0000 mx a[1]: x", 1, NOW + 8 * 3600 + 1, "a", "x"},
	{"Dec  5 08:00:01 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1, "postfix/smtpd", "x"},
	{"Dec 05 08:00:01 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1, "postfix/smtpd", "x"},
	{"Dec 05 08:00:01.250000 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1,
	 "postfix/smtpd", "x"},
	/* later than a day after now: last year's */
	{"Dec 25 00:00:00 mx p[1]: x", 1, NOW + 20 * 86400 - 365 * 86400, "p", "x"},
	{"Dec 05 08:00:01 mx mxshield[9]: mxshield/policy[9]: x", 1, NOW + 8 * 3600 + 1,
	 "mxshield/policy", "x"},
	{"mxshield/policy[812]: NOQUEUE: x", 0, 0, "mxshield/policy", "NOQUEUE: x"},
    };
    static const char *const bad[] = {
	"", "Dec  5 08:00:01", "Dec  5 08:00:01 mx", "Dec  5 08:00:01 mx nothing here",
	"Xyz  5 08:00:01 mx p[1]: x", "2026-13-05T08:00:01Z mx p[1]: x", "p[12: x", "[1]: x",
    };
    struct logline ll;

    (void) state;
    setenv("TZ", "UTC", 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	assert_int_equal(logline_parse(cases[i].line, strlen(cases[i].line), NOW, &ll), 0);
	assert_int_equal(ll.has_time, cases[i].has_time);
	if (ll.has_time)
	    assert_int_equal(ll.time, cases[i].time);
	assert_int_equal(ll.prog_len, strlen(cases[i].prog));
	assert_memory_equal(ll.prog, cases[i].prog, ll.prog_len);
	assert_int_equal(ll.msg_len, strlen(cases[i].msg));
	assert_memory_equal(ll.msg, cases[i].msg, ll.msg_len);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	assert_int_equal(logline_parse(bad[i], strlen(bad[i]), NOW, &ll), -1);
}

static void test_since(void **state)
{
    int64_t t;

    (void) state;
    setenv("TZ", "UTC", 1);
    assert_int_equal(logline_since("2h", NOW, &t), 0);
    assert_int_equal(t, NOW - 7200);
    assert_int_equal(logline_since("7d", NOW, &t), 0);
    assert_int_equal(t, NOW - 7 * 86400);
    assert_int_equal(logline_since("2026-12-05", NOW, &t), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(logline_since("2026-12-05 08:30", NOW, &t), 0);
    assert_int_equal(t, NOW + 8 * 3600 + 1800);
    assert_int_equal(logline_since("2026-12-05T08:30:10Z", NOW, &t), 0);
    assert_int_equal(t, NOW + 8 * 3600 + 1810);
    assert_int_equal(logline_since("2026-12-05T09:30:10+01:00", NOW, &t), 0);
    assert_int_equal(t, NOW + 8 * 3600 + 1810);
    assert_int_equal(logline_since("yesterday", NOW, &t), -1);
    assert_int_equal(logline_since("2x", NOW, &t), -1);
    assert_int_equal(logline_since("2026-12-05T08:30:10Zjunk", NOW, &t), -1);
}

/* sp - a span as a string */
static const char *sp(struct span s)
{
    static char b[4][256];
    static int n;

    n = (n + 1) % 4;
    snprintf(b[n], sizeof(b[n]), "%.*s", (int) s.len, s.s ? s.s : "");
    return b[n];
}

static void test_event(void **state)
{
    const char *m = "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service "
	"unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; see x; "
	"from=<a; from=<b@x> to=<c>@our.test> proto=ESMTP helo=<h> x> restriction=reject_rbl_client";
    struct event ev;
    struct buf b;

    (void) state;
    assert_int_equal(event_parse(m, strlen(m), &ev), 0);
    assert_string_equal(sp(ev.what), "reject");
    assert_string_equal(sp(ev.stage), "RCPT");
    assert_string_equal(sp(ev.name), "unknown");
    assert_string_equal(sp(ev.addr), "192.0.2.1");
    assert_int_equal(ev.code, 554);
    assert_string_equal(sp(ev.dsn), "5.7.1");
    /* the last "; from=<" starts the fields: a sender holding one is cut */
    assert_string_equal(sp(ev.from), "b@x");
    assert_string_equal(sp(ev.to), "c>@our.test");
    assert_string_equal(sp(ev.helo), "h> x");
    assert_string_equal(sp(ev.restriction), "reject_rbl_client");
    buf_init(&b);
    infer_restriction(&ev, &b);
    assert_string_equal(b.s, "reject_rbl_client zen.spamhaus.org");

    static const struct {
	const char *reply, *restriction;
    } pf[] = {
	{"554 5.7.1 <x@y>: Relay access denied", "reject_unauth_destination"},
	{"450 4.7.1 Client host rejected: cannot find your reverse hostname, [1.2.3.4]",
	 "reject_unknown_reverse_client_hostname"},
	{"504 5.5.2 <x@y>: Recipient address rejected: <foo>: Helo command rejected: need "
	 "fully-qualified hostname", "reject_non_fqdn_helo_hostname"},
	{"554 5.7.1 Service unavailable; Sender address [s.example] blocked using dbl.test",
	 "reject_rhsbl_sender dbl.test"},
	{"554 5.7.1 Service unavailable; Client host [mail.example] blocked using dbl.test",
	 "reject_rhsbl_client dbl.test"},
	{"550 5.7.1 <x@y>: Sender address rejected: Go away", "other (Sender address rejected)"},
	{"550 5.7.1 whatever", "other"},
    };
    for (size_t i = 0; i < sizeof(pf) / sizeof(pf[0]); i++) {
	char    line[512];

	snprintf(line, sizeof(line), "NOQUEUE: reject: RCPT from a[1.2.3.4]: %s; from=<s> "
		 "to=<r> proto=ESMTP helo=<h>", pf[i].reply);
	assert_int_equal(event_parse(line, strlen(line), &ev), 0);
	assert_int_equal(ev.restriction.len, 0);
	infer_restriction(&ev, &b);
	assert_string_equal(b.s, pf[i].restriction);
    }
    /* a reject before MAIL FROM: no from= */
    m = "NOQUEUE: reject: CONNECT from a[192.0.2.9]: 554 5.7.1 <a[192.0.2.9]>: Client host "
	"rejected: Access denied; proto=SMTP";
    assert_int_equal(event_parse(m, strlen(m), &ev), 0);
    assert_int_equal(ev.from.len, 0);
    assert_string_equal(sp(ev.stage), "CONNECT");
    assert_string_equal(sp(ev.text), "<a[192.0.2.9]>: Client host rejected: Access denied");
    infer_restriction(&ev, &b);
    assert_string_equal(b.s, "other (Client host rejected)");
    buf_free(&b);
    static const char *const bad[] = {
	"connect from unknown[1.2.3.4]",
	"NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 no fields",
	"NOQUEUE: reject: RCPT from unknown: 554 5.7.1 x; from=<a>",
	"NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 x; from=<a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	assert_int_equal(event_parse(bad[i], strlen(bad[i]), &ev), -1);
}

/* run - the report of text, fed one byte at a time or whole */
static char *run(const char *text, int bytewise, struct report_totals *t)
{
    struct report_opts o = {.syslog_name = "mxshield", .ipv4_prefix = 24, .ipv6_prefix = 64,
    .now = NOW};
    struct report *r = report_new(&o);
    char   *out = NULL;
    size_t  len = 0;
    FILE   *fp = open_memstream(&out, &len);

    if (bytewise)
	for (size_t i = 0; text[i]; i++)
	    report_feed(r, text + i, 1);
    else
	report_feed(r, text, strlen(text));
    report_end(r);
    report_print(r, fp);
    report_totals(r, t);
    report_free(r);
    fclose(fp);
    return out;
}

static void test_line_limit(void **state)
{
    const char *pre = "mxshield/policy[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: "
	"554 5.7.1 <r@x>: Relay access denied; from=<";
    const char *post = "> to=<r@x> proto=ESMTP helo=<h> restriction=reject_unauth_destination";
    struct report_totals t;
    struct buf line;

    (void) state;
    for (int extra = 0; extra <= 1; extra++) {
	buf_init(&line);
	buf_puts(&line, pre);
	while (line.len < REPORT_LINE_LIMIT + (size_t) extra - strlen(post))
	    buf_putc(&line, 's');
	buf_puts(&line, post);
	assert_int_equal(line.len, REPORT_LINE_LIMIT + extra);
	buf_puts(&line, "\n");
	char   *once = xstrdup(line.s);

	buf_puts(&line, once);			/* twice: the second line is read after */
	free(once);
	for (int bytewise = 0; bytewise <= 1; bytewise++) {
	    free(run(line.s, bytewise, &t));
	    assert_int_equal(t.lines, 2);
	    assert_int_equal(t.too_long, extra ? 2 : 0);
	    assert_int_equal(t.mxshield, extra ? 0 : 2);
	}
	buf_free(&line);
    }
}

static void test_repeats(void **state)
{
    const char *mx = "mxshield/policy[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 504 5.5.2 "
	"<foo>: Helo command rejected: need fully-qualified hostname; from=<s@x> to=<r@y> "
	"proto=ESMTP helo=<foo> restriction=reject_non_fqdn_helo_hostname\n";
    const char *pf = "postfix/smtpd[2]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 504 5.5.2 "
	"<r@y>: Recipient address rejected: <foo>: Helo command rejected: need "
	"fully-qualified hostname; from=<s@x> to=<r@y> proto=ESMTP helo=<foo>\n";
    const char *other = "postfix/smtpd[2]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 504 5.5.2 "
	"<r@z>: Recipient address rejected: <foo>: Helo command rejected: need "
	"fully-qualified hostname; from=<s@x> to=<r@z> proto=ESMTP helo=<foo>\n";
    struct report_totals t;
    char    text[2048], *out;

    (void) state;
    /* either order: one decision, mxshield's */
    for (int order = 0; order < 2; order++) {
	snprintf(text, sizeof(text), "%s%s%s", order ? pf : mx, order ? mx : pf, other);
	out = run(text, 0, &t);
	assert_int_equal(t.repeats, 1);
	assert_non_null(strstr(out, "         1  mxshield  reject   504 5.5.2  "
			       "reject_non_fqdn_helo_hostname\n"));
	/* the one for another recipient had no partner: Postfix's own */
	assert_non_null(strstr(out, "         1  postfix   reject   504 5.5.2  "
			       "reject_non_fqdn_helo_hostname\n"));
	free(out);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_time_forms),
	cmocka_unit_test(test_since),
	cmocka_unit_test(test_event),
	cmocka_unit_test(test_line_limit),
	cmocka_unit_test(test_repeats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
