/*
 * test_http.c - the metrics listener's parts that need no socket: the
 * request head parser and its limits (at the limit and one byte or one
 * header past it), the space-saving top-N table, and the dashboard's
 * history ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/history.h"
#include "http/parse.h"
#include "stats/stats.h"
#include "stats/topn.h"
#include "util/str.h"

static int parse(const char *text, size_t head_max, size_t headers_max, struct http_req *r)
{
    struct http_limits lim = {head_max, headers_max};
    size_t  seen = 0;

    return http_parse(text, strlen(text), &lim, r, &seen);
}

/* table of heads and their results */
static void test_parse_table(void **state)
{
    static const struct {
	const char *in;
	int     rc;
	const char *path;
    } t[] = {
	{"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_OK, "/metrics"},
	{"GET / HTTP/1.0\n\n", HTTP_OK, "/"},
	{"HEAD /dashboard.json?x=1 HTTP/1.1\r\n\r\n", HTTP_OK, "/dashboard.json"},
	{"GET /metrics HTTP/1.1\r\nHost: x\r\n", HTTP_INCOMPLETE, NULL},
	{"GET /metrics HTTP/1.1\r\n", HTTP_INCOMPLETE, NULL},
	{"GET", HTTP_INCOMPLETE, NULL},
	{"POST /metrics HTTP/1.1\r\n\r\n", 405, NULL},
	{"get /metrics HTTP/1.1\r\n\r\n", 405, NULL},
	{"GET /metrics HTTP/2.0\r\n\r\n", 505, NULL},
	{"GET /metrics HTTP/1.10\r\n\r\n", 505, NULL},
	{"GET /metrics FOO/1.1\r\n\r\n", 400, NULL},
	{"GET metrics HTTP/1.1\r\n\r\n", 400, NULL},
	{"GET /metrics\r\n\r\n", 400, NULL},
	{" /metrics HTTP/1.1\r\n\r\n", 400, NULL},
	{"G(T /metrics HTTP/1.1\r\n\r\n", 400, NULL},
	{"GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", 400, NULL},
	{"GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", 400, NULL},
	{"GET /metrics HTTP/1.1\r\n folded: no\r\n\r\n", 400, NULL},
	{"GET /metrics HTTP/1.1\r\nA: b\rc\r\n\r\n", 400, NULL},
    };
    struct http_req r;

    (void) state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	int     rc = parse(t[i].in, 8192, 50, &r);

	if (rc != t[i].rc)
	    fail_msg("\"%s\": %d, expected %d", t[i].in, rc, t[i].rc);
	if (t[i].path)
	    assert_string_equal(r.path, t[i].path);
    }
    assert_int_equal(parse("HEAD / HTTP/1.1\r\n\r\n", 8192, 50, &r), HTTP_OK);
    assert_true(r.head);
}

/* a head of exactly head_max bytes is read; one byte more is 431 */
static void test_parse_size_limit(void **state)
{
    struct buf b;
    struct http_req r;
    size_t  max = 300;

    (void) state;
    buf_init(&b);
    buf_puts(&b, "GET / HTTP/1.1\r\nX: ");
    while (b.len < max - 4)
	buf_putc(&b, 'a');
    buf_puts(&b, "\r\n\r\n");
    assert_int_equal(b.len, max);
    assert_int_equal(parse(b.s, max, 50, &r), HTTP_OK);
    assert_int_equal(r.head_len, max);
    assert_int_equal(parse(b.s, max - 1, 50, &r), 431);
    /* without its end, more than head_max bytes is 431 at once */
    b.len -= 4;
    b.s[b.len] = 0;
    assert_int_equal(parse(b.s, max - 5, 50, &r), 431);
    assert_int_equal(parse(b.s, max, 50, &r), HTTP_INCOMPLETE);
    buf_free(&b);
}

/* headers_max header lines are read; one more is 431 */
static void test_parse_header_limit(void **state)
{
    struct buf b;
    struct http_req r;

    (void) state;
    buf_init(&b);
    buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 10; i++)
	buf_printf(&b, "H%d: v\r\n", i);
    buf_puts(&b, "\r\n");
    assert_int_equal(parse(b.s, 8192, 10, &r), HTTP_OK);
    assert_int_equal(r.headers, 10);
    assert_int_equal(parse(b.s, 8192, 9, &r), 431);
    buf_free(&b);
}

/* a target of HTTP_TARGET_MAX bytes is read; one more is 414 */
static void test_parse_target_limit(void **state)
{
    struct buf b;
    struct http_req r;

    (void) state;
    buf_init(&b);
    buf_puts(&b, "GET /");
    for (int i = 1; i < HTTP_TARGET_MAX; i++)
	buf_putc(&b, 'a');
    buf_puts(&b, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(b.s, 8192, 10, &r), HTTP_OK);
    assert_int_equal(strlen(r.path), HTTP_TARGET_MAX);
    buf_reset(&b);
    buf_puts(&b, "GET /");
    for (int i = 0; i < HTTP_TARGET_MAX; i++)
	buf_putc(&b, 'a');
    buf_puts(&b, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(b.s, 8192, 10, &r), 414);
    buf_free(&b);
}

/* fed one byte at a time, the head is found where it ends, CRLF split too */
static void test_parse_bytewise(void **state)
{
    const char *in = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    struct http_limits lim = {8192, 50};
    struct http_req r;
    size_t  seen = 0, n = strlen(in);

    (void) state;
    for (size_t i = 1; i < n; i++)
	assert_int_equal(http_parse(in, i, &lim, &r, &seen), HTTP_INCOMPLETE);
    assert_int_equal(http_parse(in, n, &lim, &r, &seen), HTTP_OK);
    assert_string_equal(r.path, "/metrics");
    assert_int_equal(r.head_len, n);
}

/* space-saving: heavy keys are found with exact counts; the table stays bounded */
static void test_topn(void **state)
{
    struct topn t;
    struct topn_entry e[5];
    char    key[32];

    (void) state;
    topn_reset(&t);
    for (int i = 0; i < 1000; i++) {
	topn_add(&t, "192.0.2.1");
	if (i % 2 == 0)
	    topn_add(&t, "198.51.100.7");
	snprintf(key, sizeof(key), "203.0.113.%d", i % 250);	/* noise, once each x4 */
	topn_add(&t, key);
    }
    assert_int_equal(t.used, TOPN_SLOTS);
    assert_int_equal(topn_top(&t, e, 5), 5);
    assert_string_equal(e[0].key, "192.0.2.1");
    assert_true(e[0].count - e[0].error <= 1000 && e[0].count >= 1000);
    assert_string_equal(e[1].key, "198.51.100.7");
    assert_true(e[1].count - e[1].error <= 500 && e[1].count >= 500);
    assert_true(e[1].count < e[0].count);

    /* a long key is counted by its first TOPN_KEY_MAX bytes */
    char    longkey[TOPN_KEY_MAX + 10];

    topn_reset(&t);
    memset(longkey, 'x', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = 0;
    topn_add(&t, longkey);
    longkey[TOPN_KEY_MAX + 2] = 0;
    topn_add(&t, longkey);
    assert_int_equal(topn_top(&t, e, 5), 1);
    assert_int_equal(e[0].count, 2);
    assert_int_equal(strlen(e[0].key), TOPN_KEY_MAX);
}

/* the ring keeps deltas per tick, HISTORY_SAMPLES at most, and a partial last sample */
static void test_history(void **state)
{
    static struct history h;
    struct buf b;

    (void) state;
    history_init(&h, 1000);
    stat_inc_l(STAT_REQUESTS, "RCPT", "reject");
    stat_inc_l(STAT_REQUESTS, "CONNECT", "dunno");
    stat_inc_l(STAT_DECISIONS, "client", "reject_rbl_client", "reject");
    stat_inc_l(STAT_GREYLIST_RESULTS, "deferred");
    history_tick(&h, 1010);
    stat_inc_l(STAT_REQUESTS, "RCPT", "defer");
    buf_init(&b);
    history_json(&h, 1015, &b);
    assert_non_null(strstr(b.s, "\"t\":[1010,1015]"));
    assert_non_null(strstr(b.s, "\"requests\":[2,1]"));
    assert_non_null(strstr(b.s, "\"rejects\":[1,0]"));
    assert_non_null(strstr(b.s, "\"defers\":[0,1]"));
    assert_non_null(strstr(b.s, "\"greylist_deferred\":[1,0]"));
    assert_non_null(strstr(b.s, "{\"name\":\"reject_rbl_client\",\"reject\":[1,0],\"defer\":[0,0]}"));
    for (int i = 0; i < HISTORY_SAMPLES + 5; i++)
	history_tick(&h, 1020 + 10 * i);
    assert_int_equal(h.n, HISTORY_SAMPLES);
    buf_reset(&b);
    history_json(&h, 5000, &b);
    /* the oldest kept is the sixth of the later ticks */
    assert_non_null(strstr(b.s, "\"t\":[1070,"));
    /* a reset counter counts again from zero, never a huge delta */
    stats_reset();
    stat_inc_l(STAT_REQUESTS, "RCPT", "reject");
    history_tick(&h, 6000);
    assert_int_equal(h.v[(h.head + HISTORY_SAMPLES - 1) % HISTORY_SAMPLES][HS_REQUESTS], 1);
    buf_free(&b);
    stats_free();
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_table),
	cmocka_unit_test(test_parse_size_limit),
	cmocka_unit_test(test_parse_header_limit),
	cmocka_unit_test(test_parse_target_limit),
	cmocka_unit_test(test_parse_bytewise),
	cmocka_unit_test(test_topn),
	cmocka_unit_test(test_history),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
