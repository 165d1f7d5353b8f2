/*
 * test_hashdb_readers.c - a reader without the lock (a read-only handle,
 * as `mxshield greylist list` or a second daemon has) against a writer in
 * another process that inserts enough keys to split buckets and double the
 * directory many times and updates the keys the reader looks up: the
 * reader never reports one of them missing, never fails, and every value
 * it gets is one that was stored for that key; a scan meanwhile visits
 * every one of them.  And a writer rewriting one long value over and over:
 * the reader never sees half of a new value (a torn append).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/encode.h"
#include "store/hashdb.h"

#define MAP	((size_t) 256 << 20)

#include "hashdb_fixture.h"
#define KNOWN	2000			/* the keys the reader looks up */
#define MORE	120000			/* the writer's new keys */

static size_t key_of(long i, char *k)
{
    return (size_t) sprintf(k, "192.0.%03ld/sender%07ld@example.org/rcpt@example.net",
			    i % 256, i);
}

/* the value of key i, version w: a triplet value (i, w) */
static size_t val_of(long i, long w, unsigned char *v)
{
    int64_t f[2] = {i, w};

    return store_value_encode(v, STORE_KIND_TRIPLET, f, 2);
}

/* seen - a scan's fn: the known keys it visits, counted once each */
struct seen {
    unsigned char mark[KNOWN];
    long    known;
};

static int seen(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct seen *s = arg;
    char    k[128];
    long    n;

    (void) val;
    (void) vlen;
    if (klen >= sizeof(k))
	return 0;
    memcpy(k, key, klen);
    k[klen] = 0;
    if (sscanf(k, "%*[^/]/sender%ld@", &n) == 1 && n >= 0 && n < KNOWN && !s->mark[n]) {
	s->mark[n] = 1;
	s->known++;
    }
    return 0;
}

static void test_reader_during_splits(void **state)
{
    char    err[256], k[128];
    unsigned char v[STORE_VALUE_MAX];
    struct hashdb *h = hashdb_open(file, MAP, 0, err, sizeof(err)), *r;
    long    lookups = 0, missing = 0, errors = 0, wrong = 0, pages, scans = 0, short_scans = 0;
    int     depth0, depth, status;
    pid_t   pid;

    (void) state;
    assert_non_null(h);
    for (long i = 0; i < KNOWN; i++)
	assert_int_equal(hashdb_put(h, k, key_of(i, k), v, val_of(i, 0, v)), STORE_OK);
    hashdb_stats(h, &pages, &depth0);
    hashdb_close(h);
    assert_non_null(r = hashdb_open(file, MAP, 1, err, sizeof(err)));
    if ((pid = fork()) == 0) {
	char    ck[128];
	unsigned char cv[STORE_VALUE_MAX];

	if ((h = hashdb_open(file, MAP, 0, err, sizeof(err))) == NULL)
	    _exit(2);
	for (long i = KNOWN; i < KNOWN + MORE; i++) {
	    if (hashdb_put(h, ck, key_of(i, ck), cv, val_of(i, 0, cv)) != STORE_OK)
		_exit(3);
	    if (i % 4 == 0) {			/* an update of a known key */
		long    n = i / 4 % KNOWN;

		if (hashdb_put(h, ck, key_of(n, ck), cv, val_of(n, i, cv)) != STORE_OK)
		    _exit(4);
	    }
	}
	hashdb_close(h);
	_exit(0);
    }
    for (;;) {
	int     done = waitpid(pid, &status, WNOHANG) == pid;

	for (long i = 0; i < KNOWN; i++) {
	    const void *got;
	    size_t  len;
	    int64_t f[2];
	    enum store_status st = hashdb_get(r, k, key_of(i, k), &got, &len);

	    lookups++;
	    if (st == STORE_NOTFOUND)
		missing++;
	    else if (st != STORE_OK)
		errors++;
	    else if (store_value_decode(got, len, STORE_KIND_TRIPLET, f, 2) != STORE_VALUE_OK
		     || f[0] != i || f[1] < 0 || f[1] >= KNOWN + MORE || (f[1] && f[1] / 4 % KNOWN != i))
		wrong++;
	}
	if (lookups / KNOWN % 4 == 0) {		/* a whole scan now and then */
	    static struct seen sn;
	    char    cursor[8];
	    size_t  clen = 0;

	    memset(&sn, 0, sizeof(sn));
	    do
		assert_true(hashdb_scan(r, cursor, sizeof(cursor), &clen, 500, seen, &sn) >= 0);
	    while (clen > 0);
	    scans++;
	    short_scans += sn.known != KNOWN;
	}
	if (done)
	    break;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    hashdb_stats(r, &pages, &depth);
    print_message("%ld lookups and %ld scans while the directory went from depth %d to %d\n",
		  lookups, scans, depth0, depth);
    assert_true(depth >= depth0 + 5);		/* doublings happened under it */
    assert_true(lookups >= 20 * KNOWN);
    assert_true(scans >= 5);
    if (missing || errors || wrong || short_scans)
	fail_msg("%ld lookups: %ld missing, %ld failed, %ld wrong values; %ld of %ld scans "
		 "missed keys", lookups, missing, errors, wrong, short_scans, scans);
    hashdb_close(r);
}

/*
 * One key of a long value (COPIES equal words: a version), rewritten by
 * another process WRITES times into a page it shares with a few other
 * keys (appends, then compactions when full): every value the reader
 * gets is whole and no older than the one before.  With the fill word and
 * the record in one pwrite, a reader saw a torn value ~1 in 3 million
 * reads (the fill word, at the page's start, lands first).
 */
#define COPIES	30
#define WRITES	400000

static void test_no_torn_values(void **state)
{
    char    err[256];
    uint64_t v[COPIES], last = 0;
    struct hashdb *h = hashdb_open(file, MAP, 0, err, sizeof(err)), *r;
    long    reads = 0, torn = 0, back = 0, missing = 0;
    int     status;
    pid_t   pid;

    (void) state;
    assert_non_null(h);
    for (int i = 0; i < COPIES; i++)
	v[i] = 1;
    assert_int_equal(hashdb_put(h, "k", 1, v, sizeof(v)), STORE_OK);
    for (int j = 0; j < 6; j++) {
	char    k[32];

	assert_int_equal(hashdb_put(h, k, (size_t) snprintf(k, sizeof(k), "other%d", j), v,
				    sizeof(v)),
			 STORE_OK);
    }
    assert_non_null(r = hashdb_open(file, MAP, 1, err, sizeof(err)));
    if ((pid = fork()) == 0) {
	for (uint64_t c = 2; c < 2 + WRITES; c++) {
	    for (int i = 0; i < COPIES; i++)
		v[i] = c;
	    if (hashdb_put(h, "k", 1, v, sizeof(v)) != STORE_OK)
		_exit(3);
	}
	_exit(0);
    }
    hashdb_close(h);
    for (;;) {
	int     done = waitpid(pid, &status, WNOHANG) == pid;

	for (int n = 0; n < 1000; n++) {
	    const void *got;
	    size_t  len;
	    uint64_t w[COPIES];
	    int     bad;

	    reads++;
	    if (hashdb_get(r, "k", 1, &got, &len) != STORE_OK) {
		missing++;
		continue;
	    }
	    if ((bad = len != sizeof(w)) == 0) {
		memcpy(w, got, sizeof(w));
		for (int i = 1; i < COPIES; i++)
		    bad |= w[i] != w[0];
	    }
	    if (bad) {
		torn++;
		continue;
	    }
	    back += w[0] < last;
	    last = w[0];
	}
	if (done)
	    break;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("%ld reads while %d values were written\n", reads, WRITES);
    assert_true(last == 1 + WRITES);
    if (torn || back || missing)
	fail_msg("%ld reads: %ld torn values, %ld older than the one before, %ld missing",
		 reads, torn, back, missing);
    hashdb_close(r);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_reader_during_splits, setup, teardown),
	cmocka_unit_test_setup_teardown(test_no_torn_values, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
