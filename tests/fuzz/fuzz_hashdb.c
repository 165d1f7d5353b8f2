/*
 * fuzz_hashdb.c - libFuzzer target: a hash file (src/store/hashdb.c) is
 * data from disk.  The input is the file: opened read-only, it is read
 * (gets, a scan) within its bounds whatever it holds; opened for writing,
 * it is either refused by the walk or consistent enough to take puts,
 * deletes (some through a scan), splits and doublings, and to pass the
 * check afterwards.  A read outside the map is a crash (SEGV or SIGBUS).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/hashdb.h"
#include "util/log.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAP	((size_t) 4 << 20)	/* 1,024 pages: a full map is reached too */

static void quiet(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) text;
    (void) ctx;
}

static int drop_every_other(void *arg, const void *key, size_t klen, const void *val,
			            size_t vlen)
{
    long   *n = arg;

    (void) key;
    (void) klen;
    (void) val;
    (void) vlen;
    return (*n)++ % 2;
}

static void reads(struct hashdb *h)
{
    char    key[32], cursor[16];
    const void *v;
    size_t  vlen, clen = 0;
    long    calls = 0;

    for (int i = 0; i < 64; i++) {
	int     kl = snprintf(key, sizeof(key), "k%d", i);

	(void) hashdb_get(h, key, (size_t) kl, &v, &vlen);
    }
    do {
	if (hashdb_scan(h, cursor, sizeof(cursor), &clen, 7, NULL, NULL) < 0)
	    break;
    } while (clen > 0 && ++calls < 10000);
    (void) hashdb_count(h);
}

static void writes(struct hashdb *h, const uint8_t *data, size_t size)
{
    char    key[600], cursor[16], err[256];
    size_t  clen = 0;
    long    n = 0, calls = 0;

    for (size_t i = 0; i < 300; i++) {
	size_t  kl = (size_t) snprintf(key, sizeof(key), "k%zu/%u", i,
				       size ? data[i % size] : 0);

	if (i % 37 == 0)			/* long keys, to the limit */
	    kl = (size_t) (i % HASHDB_KEY_MAX) + 1, memset(key, 'a' + (int) (i % 26), kl);
	(void) hashdb_put(h, key, kl, data, size < 40 ? size : 40);
	if (i % 5 == 0)
	    (void) hashdb_del(h, key, kl);
    }
    do {
	if (hashdb_scan(h, cursor, sizeof(cursor), &clen, 50, drop_every_other, &n) < 0)
	    break;
    } while (clen > 0 && ++calls < 10000);
    if (hashdb_check(h, err, sizeof(err)) != 0) {
	fprintf(stderr, "fuzz_hashdb: after writes: %s\n", err);
	abort();
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char file[64];
    char    err[256];
    struct hashdb *h;
    int     fd;

    if (file[0] == 0) {
	snprintf(file, sizeof(file), "/tmp/fuzz_hashdb.%ld", (long) getpid());
	log_capture(quiet, NULL);
    }
    if ((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
	abort();
    if (size && write(fd, data, size) != (ssize_t) size)
	abort();
    close(fd);
    if ((h = hashdb_open(file, MAP, 1, err, sizeof(err))) != NULL) {
	reads(h);
	hashdb_close(h);
    }
    if ((h = hashdb_open(file, MAP, 0, err, sizeof(err))) != NULL) {
	reads(h);
	writes(h, data, size);
	hashdb_close(h);
    }
    unlink(file);
    return 0;
}
