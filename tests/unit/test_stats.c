/*
 * test_stats.c - the statistics registry: the table is well formed, updates
 * count exactly, label sets are bounded, the rendering is the documented
 * "name{labels} value" text and the iterator gives the same lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "stats/stats.h"
#include "util/log.h"

static int teardown(void **state)
{
    (void) state;
    stats_free();
    return 0;
}

/* every row: a Prometheus name, counters end in _total, help, labels as declared */
static void test_table(void **state)
{
    (void) state;
    for (int id = 0; id < STAT_COUNT; id++) {
	const char *n = stat_name(id);
	size_t  len = strlen(n);

	assert_true(strncmp(n, "mxshield_", 9) == 0);
	assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_"), len);
	if (stat_kind(id) == STAT_KIND_COUNTER)
	    assert_true(len > 6 && strcmp(n + len - 6, "_total") == 0);
	else
	    assert_true(len <= 6 || strcmp(n + len - 6, "_total") != 0);
	assert_true(strlen(stat_help(id)) > 10);
	assert_true(stat_nlabels(id) >= 0 && stat_nlabels(id) <= STAT_MAX_LABELS);
	if (stat_kind(id) == STAT_KIND_HISTOGRAM)
	    assert_int_equal(stat_nlabels(id), 0);
	for (int j = 0; j < id; j++)
	    assert_string_not_equal(stat_name(j), n);
    }
}

/* unlabelled counters and gauges: exact values and their lines */
static void test_plain(void **state)
{
    struct buf b;

    (void) state;
    stat_inc(STAT_DNS_QUERIES);
    stat_inc(STAT_DNS_QUERIES);
    stat_add(STAT_DNS_QUERIES, 40);
    stat_set(STAT_DNS_INFLIGHT, 7);
    stat_set(STAT_DNS_INFLIGHT, -3);
    assert_int_equal(stat_get(STAT_DNS_QUERIES), 42);
    assert_int_equal(stat_get(STAT_DNS_INFLIGHT), -3);
    buf_init(&b);
    stats_render(&b);
    assert_non_null(strstr(b.s, "\nmxshield_dns_queries_total 42\n"));
    assert_non_null(strstr(b.s, "\nmxshield_dns_queries_inflight -3\n"));
    assert_non_null(strstr(b.s, "\nmxshield_store_commits_total 0\n"));
    /* a labelled family without series prints nothing */
    assert_null(strstr(b.s, "mxshield_decisions_total"));
    assert_null(strstr(b.s, "# HELP"));
    stats_reset();
    assert_int_equal(stat_get(STAT_DNS_QUERIES), 0);
    buf_free(&b);
}

/* labelled series: one per distinct label set, in order of creation */
static void test_labels(void **state)
{
    struct buf b;
    const char *k1[] = {"client_restrictions", "reject_rbl_client", "reject"};

    (void) state;
    stat_inc_l(STAT_DECISIONS, "client_restrictions", "reject_rbl_client", "reject");
    stat_inc_l(STAT_DECISIONS, "recipient_restrictions", "permit_mynetworks", "permit");
    stat_add_l(STAT_DECISIONS, 2, k1);
    /* "a" + "bc" is not "ab" + "c" */
    stat_inc_l(STAT_DNSLIST_CHECKS, "a", "bc");
    stat_inc_l(STAT_DNSLIST_CHECKS, "ab", "c");
    assert_int_equal(stat_get_l(STAT_DECISIONS, k1), 3);
    assert_int_equal(stat_get_l(STAT_DECISIONS, ((const char *const[]) {
	"recipient_restrictions", "permit_mynetworks", "permit"})), 1);
    assert_int_equal(stat_get_l(STAT_DECISIONS, ((const char *const[]) {
	"helo_restrictions", "permit_mynetworks", "permit"})), 0);
    assert_int_equal(stat_series_count(STAT_DECISIONS), 2);
    assert_int_equal(stat_series_count(STAT_DNSLIST_CHECKS), 2);
    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, ((const char *const[]) {"a", "bc"})), 1);

    buf_init(&b);
    stats_render(&b);
    assert_non_null(strstr(b.s, "\nmxshield_decisions_total{stage=\"client_restrictions\","
			   "restriction=\"reject_rbl_client\",action=\"reject\"} 3\n"
			   "mxshield_decisions_total{stage=\"recipient_restrictions\","
			   "restriction=\"permit_mynetworks\",action=\"permit\"} 1\n"));
    assert_non_null(strstr(b.s, "\nmxshield_dnslist_checks_total{list=\"a\",result=\"bc\"} 1\n"));
    buf_free(&b);
}

/* values that need escaping come out escaped */
static void test_escape(void **state)
{
    struct buf b;

    (void) state;
    stat_inc_l(STAT_DNSLIST_CHECKS, "q\"uo\\te\nd", "listed");
    buf_init(&b);
    stats_render(&b);
    assert_non_null(strstr(b.s, "{list=\"q\\\"uo\\\\te\\nd\",result=\"listed\"} 1\n"));
    buf_free(&b);
}

static void quiet(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) text;
    (*(int *) ctx)++;
}

/* one past STAT_MAX_SERIES label sets: counted as "other", warned once */
static void test_bounded(void **state)
{
    char    name[32];
    int     logged = 0;
    struct buf b;

    (void) state;
    log_capture(quiet, &logged);
    for (int i = 0; i < STAT_MAX_SERIES + 3; i++) {
	snprintf(name, sizeof(name), "list%d.example", i);
	stat_inc_l(STAT_DNSLIST_CHECKS, name, "listed");
    }
    /* existing series still count by themselves */
    stat_inc_l(STAT_DNSLIST_CHECKS, "list0.example", "listed");
    log_capture(NULL, NULL);
    assert_int_equal(logged, 1);
    assert_int_equal(stat_series_count(STAT_DNSLIST_CHECKS), STAT_MAX_SERIES + 1);
    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, ((const char *const[]) {
	"list0.example", "listed"})), 2);
    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, ((const char *const[]) {
	"other", "other"})), 3);
    buf_init(&b);
    stats_render(&b);
    assert_non_null(strstr(b.s, "\nmxshield_dnslist_checks_total{list=\"other\",result=\"other\"} 3\n"));
    buf_free(&b);
}

/* the histogram: cumulative buckets, sum and count */
static void test_histogram(void **state)
{
    struct buf b;

    (void) state;
    stat_observe(STAT_STORE_COMMIT_SECONDS, 0.00005);	/* first bucket */
    stat_observe(STAT_STORE_COMMIT_SECONDS, 0.002);	/* le 0.005 */
    stat_observe(STAT_STORE_COMMIT_SECONDS, 0.005);	/* le 0.005: bounds are inclusive */
    stat_observe(STAT_STORE_COMMIT_SECONDS, 60);	/* +Inf only */
    stat_observe(STAT_STORE_COMMIT_SECONDS, -1);	/* clock step: as 0 */
    assert_int_equal(stat_get(STAT_STORE_COMMIT_SECONDS), 5);
    buf_init(&b);
    stats_render_prometheus(&b);
    assert_non_null(strstr(b.s, "# TYPE mxshield_store_commit_seconds histogram\n"
			   "mxshield_store_commit_seconds_bucket{le=\"0.0001\"} 2\n"
			   "mxshield_store_commit_seconds_bucket{le=\"0.0005\"} 2\n"
			   "mxshield_store_commit_seconds_bucket{le=\"0.001\"} 2\n"
			   "mxshield_store_commit_seconds_bucket{le=\"0.005\"} 4\n"));
    assert_non_null(strstr(b.s, "mxshield_store_commit_seconds_bucket{le=\"5\"} 4\n"
			   "mxshield_store_commit_seconds_bucket{le=\"+Inf\"} 5\n"
			   "mxshield_store_commit_seconds_sum 60.007050\n"
			   "mxshield_store_commit_seconds_count 5\n"));
    assert_non_null(strstr(b.s, "# HELP mxshield_dns_queries_total DNS queries sent to the resolver\n"
			   "# TYPE mxshield_dns_queries_total counter\n"
			   "mxshield_dns_queries_total 0\n"));
    buf_free(&b);
}

/* the iterator gives exactly the rendered lines */
static void test_iter(void **state)
{
    struct stats_iter it;
    struct stat_sample s;
    struct buf a, b;

    (void) state;
    stat_inc(STAT_ANSWERS);
    stat_inc_l(STAT_REQUESTS, "RCPT", "dunno");
    stat_observe(STAT_STORE_COMMIT_SECONDS, 0.5);
    buf_init(&a);
    buf_init(&b);
    stats_render(&a);
    stats_iter_init(&it);
    while (stats_iter_next(&it, &s)) {
	buf_printf(&b, "%s%s", s.name, s.suffix);
	if (*s.labels)
	    buf_printf(&b, "{%s}", s.labels);
	if (s.value == (double) (long long) s.value)
	    buf_printf(&b, " %lld\n", (long long) s.value);
	else
	    buf_printf(&b, " %.6f\n", s.value);
    }
    assert_string_equal(a.s, b.s);
    assert_non_null(strstr(a.s, "mxshield_requests_total{protocol_state=\"RCPT\",action=\"dunno\"} 1\n"));
    buf_free(&a);
    buf_free(&b);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_table, teardown),
	cmocka_unit_test_teardown(test_plain, teardown),
	cmocka_unit_test_teardown(test_labels, teardown),
	cmocka_unit_test_teardown(test_escape, teardown),
	cmocka_unit_test_teardown(test_bounded, teardown),
	cmocka_unit_test_teardown(test_histogram, teardown),
	cmocka_unit_test_teardown(test_iter, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
