/*
 * greylist_migrate.c - `mxshield greylist migrate --to redis|lmdb`: copy
 * the greylisting records (triplets, auto-whitelist clients, manual
 * whitelist) from the LMDB database in data_directory into Redis, or
 * back.
 *
 * Records already expired are left behind; the rest go with the TTL that
 * greylisting would give them (Redis) or as they are (LMDB expires by
 * scanning).  A record that does not decode is skipped and counted.
 * The source is opened read-only; run it with the daemons stopped (or
 * pointing at the source) so that no record changes meanwhile.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/greylist_migrate.h"
#include "cli/load.h"
#include "conf/config.h"
#include "store/store.h"
#include "util/log.h"

struct mig_ctx {
    const struct gl_conf *g;
    struct store *dst;
    int64_t now;
    int     table;			/* 0 triplets, 1 clients, 2 whitelist */
    long    copied[3], expired, bad, failed, pending;
};

static const char *const tables[3] = {"triplets", "clients", "whitelist"};

static void put_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct mig_ctx *x = arg;

    (void) val;
    (void) len;
    if (st != STORE_OK)
	x->failed++;
}

/* mig_fn - one record: checked, its TTL computed, written */
static int mig_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct mig_ctx *x = arg;
    struct gl_triplet t;
    struct gl_client cl;
    int64_t added;
    long    ttl = 0;

    switch (x->table) {
    case 0:
	if (gl_triplet_decode(val, vlen, &t) == STORE_VALUE_BAD)
	    return x->bad++, 0;
	ttl = gl_triplet_ttl(x->g, x->now, &t);
	break;
    case 1:
	if (gl_client_decode(val, vlen, &cl) == STORE_VALUE_BAD)
	    return x->bad++, 0;
	ttl = gl_client_ttl(x->g, x->now, &cl);
	break;
    default:
	if (gl_wl_entry_decode(val, vlen, &added) == STORE_VALUE_BAD)
	    return x->bad++, 0;
	ttl = 0;				/* kept until deleted */
    }
    if (x->table != 2 && ttl <= 0)
	return x->expired++, 0;
    store_put_ttl(x->dst, tables[x->table], key, klen, val, vlen, ttl, put_cb, x);
    x->copied[x->table]++;
    if (++x->pending >= 10000) {
	store_commit(x->dst);
	x->pending = 0;
    }
    return 0;
}

int     greylist_migrate(const struct config *c, const struct gl_conf *g, int argc, char **argv)
{
    struct mig_ctx x;
    struct store *src;
    enum store_backend to;

    if (argc != 3 || strcmp(argv[1], "--to") != 0
	|| (strcmp(argv[2], "redis") != 0 && strcmp(argv[2], "lmdb") != 0)) {
	fprintf(stderr, "usage: mxshield greylist migrate --to redis|lmdb\n");
	return 2;
    }
    to = strcmp(argv[2], "redis") == 0 ? STORE_BACKEND_REDIS : STORE_BACKEND_LMDB;
    memset(&x, 0, sizeof(x));
    x.g = g;
    x.now = time(NULL);
    src = load_store(c, to == STORE_BACKEND_REDIS ? STORE_BACKEND_LMDB : STORE_BACKEND_REDIS, 1);
    x.dst = load_store(c, to, 0);
    store_batch(x.dst, 1);
    for (x.table = 0; x.table < 3; x.table++) {
	char    cursor[512];
	size_t  clen = 0;

	do {
	    if (store_scan(src, tables[x.table], cursor, sizeof(cursor), &clen, 1000,
			   mig_fn, &x) < 0)
		msg_fatal("cannot read the %s table", tables[x.table]);
	} while (clen > 0);
    }
    store_commit(x.dst);
    store_sync(x.dst);
    store_close(x.dst);
    store_close(src);
    printf("migrated to %s: %ld triplets, %ld clients, %ld whitelist entries"
	   " (%ld expired and %ld unreadable left behind)\n", argv[2],
	   x.copied[0], x.copied[1], x.copied[2], x.expired, x.bad);
    if (x.failed) {
	fprintf(stderr, "mxshield greylist migrate: %ld writes failed\n", x.failed);
	return 1;
    }
    return 0;
}
