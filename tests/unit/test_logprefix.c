/*
 * test_logprefix.c - the syslog prefix shared by auto-ban and mxshield
 * report: each time stamp form to UTC (with and without the mktime cache),
 * the year of a year-less stamp, host, program and pid, a line without a
 * tag; hostile input: every truncation of a line (read from an exact-size
 * copy, so ASan sees a byte past the end), NUL bytes, over-long and
 * out-of-range numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/logprefix.h"

#define NOW	1796428800			/* 2026-12-05T00:00:00Z */

/* parse - an exact-size copy of line (len bytes) through both clocks;
 * their results must agree */
static int parse(const char *line, size_t len, int64_t now, struct logprefix *p)
{
    char   *copy = malloc(len ? len : 1);
    struct logprefix_clock clk;
    struct logprefix q;
    int     rc, rc2;

    memcpy(copy, line, len);
    logprefix_clock_init(&clk);
    rc = logprefix_parse(&clk, copy, len, now, p);
    rc2 = logprefix_parse(NULL, copy, len, now, &q);
    assert_int_equal(rc, rc2);
    assert_int_equal(p->has_time, q.has_time);
    assert_true(p->time == q.time);
    if (rc == 0) {
	/* every span inside the line, the message its end */
	assert_true(p->prog >= copy && p->prog + p->prog_len <= copy + len);
	assert_true(p->prog_len > 0);
	assert_true(p->msg + p->msg_len == copy + len);
	assert_true(!p->has_time || (p->host > copy && p->host + p->host_len < p->prog));
	assert_true(p->pid >= 0 && p->pid <= 9999999999LL);
	/* make the spans relative to the caller's line */
	p->prog = line + (p->prog - copy);
	p->msg = line + (p->msg - copy);
	if (p->host)
	    p->host = line + (p->host - copy);
    }
    free(copy);
    return rc;
}

static int parse_str(const char *line, struct logprefix *p)
{
    return parse(line, strlen(line), NOW, p);
}

/* test_forms - every stamp form, host, program, pid and message */
static void test_forms(void **state)
{
    static const struct {
	const char *line;
	int     has_time;
	int64_t time;
	const char *host, *prog;
	int     has_pid;
	int64_t pid;
	const char *msg;
    } cases[] = {
	{"2026-12-05T08:00:01.012345+00:00 mx postfix/smtpd[812]: hello",
	 1, NOW + 8 * 3600 + 1, "mx", "postfix/smtpd", 1, 812, "hello"},
	{"2026-12-05T09:00:01+01:00 mx.example postfix/smtpd[1]: x",
	 1, NOW + 8 * 3600 + 1, "mx.example", "postfix/smtpd", 1, 1, "x"},
	{"2026-12-04T23:30:00-06:30 mx p[1]: x", 1, NOW + 6 * 3600, "mx", "p", 1, 1, "x"},
	{"2026-12-05T08:00:01+0000 mx a[1]: x", 1, NOW + 8 * 3600 + 1, "mx", "a", 1, 1, "x"},
	{"2026-12-05T08:00:01Z mx a[1]: x", 1, NOW + 8 * 3600 + 1, "mx", "a", 1, 1, "x"},
	{"2026-12-05t08:00:01z mx a[1]: x", 1, NOW + 8 * 3600 + 1, "mx", "a", 1, 1, "x"},
	{"2026-12-05 08:00:01.5Z mx a[1]: x", 1, NOW + 8 * 3600 + 1, "mx", "a", 1, 1, "x"},
	/* no zone: local time (UTC in this test) */
	{"2026-12-05T08:00:01 mx a[1]: x", 1, NOW + 8 * 3600 + 1, "mx", "a", 1, 1, "x"},
	{"Dec  5 08:00:01 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1, "mx",
	 "postfix/smtpd", 1, 1, "x"},
	{"Dec 05 08:00:01 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1, "mx",
	 "postfix/smtpd", 1, 1, "x"},
	{"Dec 5 08:00:01.250000 mx postfix/smtpd[1]: x", 1, NOW + 8 * 3600 + 1, "mx",
	 "postfix/smtpd", 1, 1, "x"},
	/* later than a day after now: last year's */
	{"Dec 25 00:00:00 mx p[1]: x", 1, NOW + 20 * 86400 - 365 * 86400, "mx", "p", 1, 1, "x"},
	{"Dec  6 00:00:00 mx p[1]: x", 1, NOW + 86400, "mx", "p", 1, 1, "x"},
	{"Dec  6 00:00:01 mx p[1]: x", 1, NOW + 86401 - 365 * 86400, "mx", "p", 1, 1, "x"},
	/* extra spaces before the host; no space after the colon */
	{"Dec  5 00:00:00   mx p[1]:x", 1, NOW, "mx", "p", 1, 1, "x"},
	/* no pid; a pid of ten digits */
	{"Dec  5 00:00:00 mx postfix/smtpd: x", 1, NOW, "mx", "postfix/smtpd", 0, 0, "x"},
	{"Dec  5 00:00:00 mx p[4294967296]: x", 1, NOW, "mx", "p", 1, 4294967296LL, "x"},
	{"Dec  5 00:00:00 mx p[9999999999]: x", 1, NOW, "mx", "p", 1, 9999999999LL, "x"},
	/* no stamp: the journal's identifier[pid] */
	{"postfix/smtpd[812]: NOQUEUE: x", 0, 0, NULL, "postfix/smtpd", 1, 812, "NOQUEUE: x"},
	{"p[1]: ", 0, 0, NULL, "p", 1, 1, ""},
	/* a broken stamp is read as no stamp */
	{"2026-13-05T08:00:01Z[1]: x", 0, 0, NULL, "2026-13-05T08", 0, 0, "00:01Z[1]: x"},
    };
    struct logprefix p;

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	if (parse_str(cases[i].line, &p) != 0)
	    fail_msg("case %zu: not parsed: %s", i, cases[i].line);
	assert_int_equal(p.has_time, cases[i].has_time);
	if (p.time != cases[i].time)
	    fail_msg("case %zu: time %lld, want %lld", i, (long long) p.time,
		     (long long) cases[i].time);
	if (cases[i].host) {
	    assert_int_equal(p.host_len, strlen(cases[i].host));
	    assert_memory_equal(p.host, cases[i].host, p.host_len);
	} else {
	    assert_null(p.host);
	}
	assert_int_equal(p.prog_len, strlen(cases[i].prog));
	assert_memory_equal(p.prog, cases[i].prog, p.prog_len);
	assert_int_equal(p.has_pid, cases[i].has_pid);
	assert_true(p.pid == cases[i].pid);
	assert_int_equal(p.msg_len, strlen(cases[i].msg));
	assert_memory_equal(p.msg, cases[i].msg, p.msg_len);
    }
}

/* test_bad - no tag where one must be; has_time says whether a stamp was */
static void test_bad(void **state)
{
    static const struct {
	const char *line;
	int     has_time;
    } bad[] = {
	{"", 0}, {" ", 0}, {":", 0}, {"[1]: x", 0}, {"p[12: x", 0}, {"p[]: x", 0}, {"p[1] x", 0},
	{"p[1]", 0}, {"p", 0}, {"no tag here", 0},
	{"Dec  5 08:00:01", 1}, {"Dec  5 08:00:01 ", 1}, {"Dec  5 08:00:01 mx", 1},
	{"Dec  5 08:00:01 mx ", 1}, {"Dec  5 08:00:01 mx nothing here", 1},
	{"Dec  5 08:00:01mx p[1]: x", 1},
	/* a pid of eleven digits, and one far past any integer */
	{"Dec  5 08:00:01 mx p[12345678901]: x", 1},
	{"p[99999999999999999999999999999999]: x", 0},
	/* out of range: each is then no stamp, and no tag either */
	{"Xyz  5 08:00:01 mx p[1]: x", 0}, {"Dec 32 08:00:01 mx p[1]: x", 0},
	{"Dec  0 08:00:01 mx p[1]: x", 0}, {"Dec  5 24:00:01 mx p[1]: x", 0},
	{"Dec  5 08:60:01 mx p[1]: x", 0}, {"Dec  5 08:00:61 mx p[1]: x", 0},
	{"Dec 123 08:00:01 mx p[1]: x", 0}, {"Dec  5 8:00:01 mx p[1]: x", 0},
	{"2026-13-05 08:00:01Z mx p[1]: x", 0}, {"2026-00-05 08:00:01Z mx p[1]: x", 0},
	{"2026-12-32 08:00:01Z mx p[1]: x", 0}, {"20266-12-05 08:00:01Z mx p[1]: x", 0},
	{"2026-12-05 08:00:01+24:00 mx p[1]: x", 0}, {"2026-12-05 08:00:01+01:60 mx p[1]: x", 0},
	{"2026-12-05 08:00:01+1 mx p[1]: x", 0}, {"2026-12-05 08:00 mx p[1]: x", 0},
	{"2026-12-05 mx p[1]: x", 0},
	{"p\t[1]: x", 0}, {"p\001[1]: x", 0},
    };
    struct logprefix p;

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	if (parse_str(bad[i].line, &p) != -1)
	    fail_msg("case %zu: parsed: %s", i, bad[i].line);
	if (p.has_time != bad[i].has_time)
	    fail_msg("case %zu: has_time %d: %s", i, p.has_time, bad[i].line);
    }
}

/* test_hostile - every truncation of good lines, and NUL bytes anywhere:
 * no read past the end (ASan), and a NUL matches nothing */
static void test_hostile(void **state)
{
    static const char *const lines[] = {
	"2026-12-05T08:00:01.012345+01:00 mx postfix/smtpd[812]: hello",
	"2026-12-05T08:00:01+0100 mx postfix/smtpd[812]: hello",
	"Dec  5 08:00:01.250000 mx postfix/smtpd[1]: x",
	"Dec 5 08:00:01 mx p: x",
	"postfix/smtpd[812]: x",
    };
    struct logprefix p;
    char    buf[128];

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
	size_t  len = strlen(lines[i]);

	/* cut before the tag's colon: never a stamped line */
	size_t  colon = (size_t) (strstr(lines[i], ": ") - lines[i]);

	for (size_t n = 0; n < len; n++) {
	    int     rc = parse(lines[i], n, NOW, &p);

	    if (n <= colon && rc == 0 && p.has_time)
		fail_msg("line %zu cut at %zu: parsed", i, n);
	}
	assert_int_equal(parse(lines[i], len, NOW, &p), 0);
	/* a NUL in place of each byte of the prefix: never a stamp or tag
	 * that reaches past it */
	for (size_t n = 0; n < len; n++) {
	    memcpy(buf, lines[i], len);
	    buf[n] = 0;
	    if (parse(buf, len, NOW, &p) == 0)
		assert_false(p.prog <= buf + n && buf + n < p.prog + p.prog_len);
	}
    }
    /* NULs are no digits, spaces or colons */
    assert_int_equal(parse("Dec\0 5 08:00:01 mx p[1]: x", 26, NOW, &p), -1);
    assert_int_equal(parse("p[1\0]: x", 8, NOW, &p), -1);
    assert_int_equal(parse("p\0[1]: x", 8, NOW, &p), -1);
    assert_int_equal(parse("Dec  5 08:00:01 m\0x p[1]: x", 27, NOW, &p), 0);
    assert_int_equal(p.host_len, 3);
}

/* test_tag - a tag alone, as a journal line's second one is read */
static void test_tag(void **state)
{
    struct logprefix p;
    const char *s = "mxshield/policy[9]: x";

    (void) state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(logprefix_tag(s, strlen(s), &p), 20);
    assert_int_equal(p.prog_len, 15);
    assert_true(p.pid == 9);
    assert_int_equal(p.msg_len, 1);
    /* not a tag: out is left alone */
    p.prog_len = 77;
    assert_int_equal(logprefix_tag("NOQUEUE x", 9, &p), 0);
    assert_int_equal(logprefix_tag("a[1]", 4, &p), 0);
    assert_int_equal(p.prog_len, 77);
}

/* test_rfc3339_loose - the command line's forms: a date, minutes */
static void test_rfc3339_loose(void **state)
{
    int64_t t = -1;

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05", 10, LOGPREFIX_LOOSE, &t), 10);
    assert_true(t == NOW);
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05 08:30", 16, LOGPREFIX_LOOSE, &t), 16);
    assert_true(t == NOW + 8 * 3600 + 1800);
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05T08:30+01:00", 22, LOGPREFIX_LOOSE, &t),
		     22);
    assert_true(t == NOW + 7 * 3600 + 1800);
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05T24:30", 16, LOGPREFIX_LOOSE, &t), 0);
    /* not loose: seconds required */
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05", 10, 0, &t), 0);
    assert_int_equal(logprefix_rfc3339(NULL, "2026-12-05 08:30", 16, 0, &t), 0);
}

/* test_clock_cache - the cached hour is the stamp's, also across years */
static void test_clock_cache(void **state)
{
    struct logprefix_clock clk;
    struct logprefix p;
    static const char *const lines[] = {
	"Dec 31 23:59:59 mx p[1]: x", "Jan  1 00:00:00 mx p[1]: x",
	"Dec 31 23:00:00 mx p[1]: x", "Dec 31 23:59:59 mx p[1]: x",
    };
    static const int64_t want[] = {1798761599, 1798761600, 1798758000, 1798761599};

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    logprefix_clock_init(&clk);
    for (size_t i = 0; i < 4; i++) {
	/* read on 2027-01-01T12:00Z */
	assert_int_equal(logprefix_parse(&clk, lines[i], strlen(lines[i]), 1798804800, &p), 0);
	assert_true(p.time == want[i]);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_forms),
	cmocka_unit_test(test_bad),
	cmocka_unit_test(test_hostile),
	cmocka_unit_test(test_tag),
	cmocka_unit_test(test_rfc3339_loose),
	cmocka_unit_test(test_clock_cache),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
