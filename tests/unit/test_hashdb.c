/*
 * test_hashdb.c - the extendible hash file (src/store/hashdb.c): insert,
 * get, update, delete, scan and count through splits and directory
 * doublings, a million keys, keys at the store's limit, reopening, two
 * writers on one file, damaged files refused or read within bounds,
 * triplet values stored compact and given back byte for byte; and kill -9
 * at random moments of a writer that reports every acknowledged key: all
 * of them are there afterwards and the file is consistent.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/encode.h"
#include "store/hashdb.h"

#define MAP	((size_t) 256 << 20)

#include "hashdb_fixture.h"

/* the key and value of number i: triplet-like text, an encoded triplet */
static size_t key_of(long i, char *k)
{
    return (size_t) sprintf(k, "192.0.%03ld/sender%07ld@example.org/rcpt@example.net",
			    i % 256, i);
}

static size_t val_of(long i, unsigned char *v)
{
    int64_t f[2] = {1700000000 + i, 1700000300 + i};

    return store_value_encode(v, STORE_KIND_TRIPLET, f, 2);
}

static void expect(struct hashdb *h, const void *k, size_t kl, const void *v, size_t vl)
{
    const void *got;
    size_t  len;

    assert_int_equal(hashdb_get(h, k, kl, &got, &len), STORE_OK);
    assert_int_equal(len, vl);
    assert_memory_equal(got, v, vl);
}

static void test_basic(void **state)
{
    struct hashdb *h = open_db(0);
    const void *v;
    size_t  len;

    (void) state;
    assert_int_equal(hashdb_get(h, "a", 1, &v, &len), STORE_NOTFOUND);
    assert_int_equal(hashdb_put(h, "a", 1, "one", 3), STORE_OK);
    assert_int_equal(hashdb_put(h, "b", 1, "two", 3), STORE_OK);
    assert_int_equal(hashdb_put(h, "", 0, "empty key", 9), STORE_OK);
    expect(h, "a", 1, "one", 3);
    expect(h, "", 0, "empty key", 9);
    assert_int_equal(hashdb_count(h), 3);
    assert_int_equal(hashdb_put(h, "a", 1, "uno", 3), STORE_OK);	/* same length */
    expect(h, "a", 1, "uno", 3);
    assert_int_equal(hashdb_put(h, "a", 1, "longer value", 12), STORE_OK);
    expect(h, "a", 1, "longer value", 12);
    assert_int_equal(hashdb_put(h, "b", 1, NULL, 0), STORE_OK);	/* empty value */
    expect(h, "b", 1, "", 0);
    assert_int_equal(hashdb_count(h), 3);
    assert_int_equal(hashdb_del(h, "a", 1), STORE_OK);
    assert_int_equal(hashdb_del(h, "a", 1), STORE_NOTFOUND);
    assert_int_equal(hashdb_get(h, "a", 1, &v, &len), STORE_NOTFOUND);
    assert_int_equal(hashdb_count(h), 2);
    check(h);
    hashdb_close(h);
}

/* keys up to the limit, one past it refused; a value past its limit too */
static void test_limits(void **state)
{
    struct hashdb *h = open_db(0);
    char    k[HASHDB_KEY_MAX + 1];
    unsigned char v[HASHDB_VALUE_MAX + 1];

    (void) state;
    memset(k, 'k', sizeof(k));
    memset(v, 'v', sizeof(v));
    for (size_t n = 120; n <= HASHDB_KEY_MAX; n += 13) {
	k[0] = (char) n;
	assert_int_equal(hashdb_put(h, k, n, v, n % 200), STORE_OK);
    }
    k[0] = 'X';
    assert_int_equal(hashdb_put(h, k, HASHDB_KEY_MAX, v, HASHDB_VALUE_MAX), STORE_OK);
    expect(h, k, HASHDB_KEY_MAX, v, HASHDB_VALUE_MAX);
    assert_int_equal(hashdb_put(h, k, HASHDB_KEY_MAX + 1, v, 1), STORE_ERROR);
    assert_int_equal(hashdb_put(h, k, 10, v, HASHDB_VALUE_MAX + 1), STORE_ERROR);
    for (size_t n = 120; n <= HASHDB_KEY_MAX; n += 13) {
	k[0] = (char) n;
	expect(h, k, n, v, n % 200);
    }
    check(h);
    hashdb_close(h);
}

/* triplet values are stored in 8 bytes (+ address) and given back exactly;
 * anything else, including times past 32 bits, as it is */
static void test_compact_values(void **state)
{
    struct hashdb *h = open_db(0);
    unsigned char v[STORE_VALUE_MAX], a[16] = {0x20, 0x01, 0x0d, 0xb8};
    int64_t f[2] = {1700000000, 1700000999}, big[2] = {(int64_t) 1 << 33, 5};
    size_t  n;
    long    pages0, pages1;
    int     depth;

    (void) state;
    n = store_value_encode(v, STORE_KIND_TRIPLET, f, 2);
    assert_int_equal(hashdb_put(h, "t", 1, v, n), STORE_OK);
    expect(h, "t", 1, v, n);
    n += store_addr_encode(6, a, v + n);
    assert_int_equal(n, 35);
    assert_int_equal(hashdb_put(h, "t6", 2, v, n), STORE_OK);
    expect(h, "t6", 2, v, n);
    n = store_value_encode(v, STORE_KIND_TRIPLET, big, 2);
    assert_int_equal(hashdb_put(h, "big", 3, v, n), STORE_OK);
    expect(h, "big", 3, v, n);
    n = store_value_encode(v, STORE_KIND_CLIENT, f, 2);	/* another kind */
    assert_int_equal(hashdb_put(h, "c", 1, v, n), STORE_OK);
    expect(h, "c", 1, v, n);
    hashdb_close(h);
    unlink(file);
    /* compact records: a new file's first bucket holds as many 52-byte-key
     * triplets as 4 + 52 + 8 byte records fit in its 4080 bytes (with
     * 18-byte values it would split after 52) */
    h = open_db(0);
    hashdb_stats(h, &pages0, &depth);
    long    fit = 0;

    for (long i = 0; i < 1000; i++) {
	char    k[128];
	size_t  kl = key_of(i + 10000, k);

	assert_int_equal(kl, 52);
	n = val_of(i, v);
	assert_int_equal(hashdb_put(h, k, kl, v, n), STORE_OK);
	hashdb_stats(h, &pages1, &depth);
	if (pages1 != pages0)
	    break;
	fit++;
    }
    assert_int_equal(fit, 4080 / (4 + 52 + 8));
    check(h);
    hashdb_close(h);
}

struct scanned {
    long    n, deleted;
    unsigned char *seen;
};

static int scan_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct scanned *s = arg;
    char    k[128];
    unsigned char v[STORE_VALUE_MAX];
    long    i;

    assert_true(klen < sizeof(k));
    memcpy(k, key, klen);
    k[klen] = 0;
    assert_int_equal(sscanf(strchr(k, '/') + 1, "sender%ld@", &i), 1);
    assert_int_equal(vlen, val_of(i, v));
    assert_memory_equal(val, v, vlen);
    assert_int_equal(s->seen[i], 0);	/* once each */
    s->seen[i] = 1;
    s->n++;
    if (i % 3 == 0) {
	s->deleted++;
	return 1;
    }
    return 0;
}

/* many keys: splits and doublings; a scan in small batches sees each once
 * and deletes what it is told; reopened, everything is still there */
static void test_many_and_scan(void **state)
{
    const long N = 300000;		/* a few seconds; bench/greylist.py does 1M */
    struct hashdb *h = open_db(0);
    struct scanned sc = {0, 0, calloc(N, 1)};
    char    k[128], cursor[64];
    unsigned char v[STORE_VALUE_MAX];
    size_t  clen = 0, kl, vl;
    long    pages, n;
    int     depth;
    struct stat st;

    (void) state;
    assert_int_equal(hashdb_lock(h), 0);	/* as the daemon: one lock a pass */
    for (long i = 0; i < N; i++) {
	kl = key_of(i, k);
	vl = val_of(i, v);
	assert_int_equal(hashdb_put(h, k, kl, v, vl), STORE_OK);
	if (i % 1000 == 999) {
	    hashdb_unlock(h);
	    assert_int_equal(hashdb_lock(h), 0);
	}
    }
    hashdb_unlock(h);
    assert_int_equal(hashdb_count(h), N);
    hashdb_stats(h, &pages, &depth);
    assert_true(depth >= 12);			/* it did double, many times */
    assert_int_equal(stat(file, &st), 0);
    printf("hashdb: %ld keys: %ld pages, depth %d, %.1f bytes a key\n", N, pages, depth,
	   (double) pages * 4096 / N);
    /* 64-byte records (4 + 52 + 8): pages about 0.7 full (ln 2) at any
     * size, not swinging between a half and nine tenths (hashdb.c, skew):
     * under 100 bytes a key */
    assert_true((double) N * 64 / ((double) pages * 4096) >= 0.66);
    for (long i = 0; i < N; i += 997) {
	kl = key_of(i, k);
	vl = val_of(i, v);
	expect(h, k, kl, v, vl);
    }
    do {
	n = hashdb_scan(h, cursor, sizeof(cursor), &clen, 50000, scan_fn, &sc);
	assert_true(n >= 0 && n <= 50000);
    } while (clen > 0);
    assert_int_equal(sc.n, N);
    assert_int_equal(hashdb_count(h), N - sc.deleted);
    check(h);
    hashdb_close(h);

    h = open_db(0);				/* reopened: the walk agrees */
    check(h);
    assert_int_equal(hashdb_count(h), N - sc.deleted);
    for (long i = 0; i < N; i += 101) {
	const void *got;
	size_t  len;

	kl = key_of(i, k);
	if (i % 3 == 0)
	    assert_int_equal(hashdb_get(h, k, kl, &got, &len), STORE_NOTFOUND);
	else
	    expect(h, k, kl, v, val_of(i, v));
    }
    /* deleted space is reused: the file does not grow for the same keys */
    hashdb_stats(h, &pages, &depth);
    for (long i = 0; i < N; i += 3) {
	kl = key_of(i, k);
	assert_int_equal(hashdb_put(h, k, kl, v, val_of(i, v)), STORE_OK);
    }
    long    after;

    hashdb_stats(h, &after, &depth);
    assert_true(after <= pages + pages / 10);
    check(h);
    hashdb_close(h);
    free(sc.seen);
}

/* two handles (two writers, as daemon and purge): each sees the other's
 * writes, splits included; a read-only handle too */
static void test_two_writers(void **state)
{
    struct hashdb *a = open_db(0), *b = open_db(0), *r;
    char    k[128];
    unsigned char v[STORE_VALUE_MAX];

    (void) state;
    for (long i = 0; i < 20000; i++) {
	size_t  kl = key_of(i, k);

	assert_int_equal(hashdb_put(i % 2 ? a : b, k, kl, v, val_of(i, v)), STORE_OK);
    }
    r = open_db(1);
    for (long i = 0; i < 20000; i++) {
	size_t  kl = key_of(i, k), vl = val_of(i, v);

	expect(a, k, kl, v, vl);
	expect(b, k, kl, v, vl);
	expect(r, k, kl, v, vl);
    }
    assert_int_equal(hashdb_count(r), 20000);
    assert_int_equal(hashdb_put(r, "x", 1, "y", 1), STORE_ERROR);
    check(a);
    hashdb_close(r);
    hashdb_close(a);
    hashdb_close(b);
}

/* damaged files: refused when opened for writing, read within bounds */
static void test_damaged(void **state)
{
    struct hashdb *h = open_db(0);
    char    k[128], err[256];
    unsigned char v[STORE_VALUE_MAX];
    int     fd;

    (void) state;
    for (long i = 0; i < 3000; i++)
	assert_int_equal(hashdb_put(h, k, key_of(i, k), v, val_of(i, v)), STORE_OK);
    hashdb_close(h);
    /* a directory slot pointing past the end */
    fd = open(file, O_RDWR);
    assert_true(fd >= 0);
    uint64_t dw;
    uint32_t bad = 0x7fffffff;

    assert_int_equal(pread(fd, &dw, 8, 24), 8);
    assert_int_equal(pwrite(fd, &bad, 4, (off_t) (dw >> 8) * 4096 + 4), 4);
    close(fd);
    assert_null(hashdb_open(file, MAP, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "directory slot"));
    h = open_db(1);				/* read-only: no walk, but bounds */
    for (long i = 0; i < 3000; i++) {
	const void *got;
	size_t  len;
	enum store_status st = hashdb_get(h, k, key_of(i, k), &got, &len);

	assert_true(st == STORE_OK || st == STORE_ERROR);
    }
    hashdb_close(h);
    /* not a hash file; another version; cut short */
    fd = open(file, O_RDWR);
    assert_int_equal(pwrite(fd, "junkjunk", 8, 0), 8);
    close(fd);
    assert_null(hashdb_open(file, MAP, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not a hash file"));
    fd = open(file, O_RDWR);
    assert_int_equal(pwrite(fd, "mxshhdb\n\x09", 9, 0), 9);
    close(fd);
    assert_null(hashdb_open(file, MAP, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "version 9"));
    fd = open(file, O_RDWR);
    assert_int_equal(pwrite(fd, "\x01", 1, 8), 1);
    assert_int_equal(ftruncate(fd, 8192), 0);
    close(fd);
    assert_null(hashdb_open(file, MAP, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "damaged"));
    unlink(file);
}

/*
 * kill -9: a child inserts and updates keys, writing each acknowledged
 * (key number, value version) to a pipe; it is killed at a random moment.
 * The file, reopened for writing, is consistent and holds every
 * acknowledged key with its last acknowledged value (or a newer one the
 * child wrote but could not report).
 */
static void test_kill9(void **state)
{
    const int rounds = 40;
    unsigned seed = (unsigned) time(NULL);
    long    next = 0;
    static long ver[200000];

    (void) state;
    srand(seed);
    for (int round = 0; round < rounds; round++) {
	int     fds[2];
	pid_t   pid;
	long    ack[2];

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
	    struct hashdb *h = open_db(0);
	    char    k[128];
	    unsigned char v[STORE_VALUE_MAX];

	    close(fds[0]);
	    for (long i = next;; i++) {
		long    n = i % 5 == 4 ? i / 7 : i;	/* some updates */
		long    w = i;
		int64_t f[2] = {n, w};
		size_t  vl = store_value_encode(v, STORE_KIND_TRIPLET, f, 2);

		if (hashdb_put(h, k, key_of(n, k), v, vl) != STORE_OK)
		    _exit(2);
		ack[0] = n;
		ack[1] = w;
		if (write(fds[1], ack, sizeof(ack)) != sizeof(ack))
		    _exit(3);
	    }
	}
	close(fds[1]);
	usleep((useconds_t) (rand() % 20000));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (read(fds[0], ack, sizeof(ack)) == sizeof(ack)) {
	    assert_true(ack[0] < 200000);
	    ver[ack[0]] = ack[1] + 1;
	    if (ack[1] + 1 > next)
		next = ack[1] + 1;
	}
	close(fds[0]);
	if (next >= 150000)
	    next = 0;
	struct hashdb *h = open_db(0);

	check(h);
	for (long n = 0; n < 200000; n++) {
	    char    k[128];
	    const void *got;
	    size_t  len;
	    int64_t f[2];

	    if (ver[n] == 0)
		continue;
	    if (hashdb_get(h, k, key_of(n, k), &got, &len) != STORE_OK)
		fail_msg("seed %u round %d: key %ld lost", seed, round, n);
	    assert_int_equal(store_value_decode(got, len, STORE_KIND_TRIPLET, f, 2),
			     STORE_VALUE_OK);
	    assert_int_equal(f[0], n);
	    if (f[1] < ver[n] - 1)
		fail_msg("seed %u round %d: key %ld: value %ld older than acknowledged %ld",
			 seed, round, n, (long) f[1], ver[n] - 1);
	}
	hashdb_close(h);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
	cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	cmocka_unit_test_setup_teardown(test_compact_values, setup, teardown),
	cmocka_unit_test_setup_teardown(test_many_and_scan, setup, teardown),
	cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
	cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
    };

    if (getenv("HASHDB_TEST"))		/* one test, by name */
	cmocka_set_test_filter(getenv("HASHDB_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
