/*
 * lmdb_triplets.c - the local store's "triplets" table in a hash file
 * (store/hashdb.c): opening it, moving LMDB's records over, writes at
 * once or at a batch's commit, the writers' lock held for a pass.
 *
 * Greylisting writes one new triplet per new (client, sender,
 * recipient): in LMDB that is a transaction with copy-on-write pages and
 * a free list (about 15 us); in the hash file it is a record appended to
 * its bucket page and published in the same pwrite.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats/stats.h"
#include "store/lmdb_triplets.h"
#include "util/log.h"
#include "util/mem.h"

struct triplets {
    struct hashdb *hdb;
    int     sync_commits;
    int     sticky;			/* lock from a write to the pass's end */
    int     locked;
    struct timespec locked_at;
    int     dirty;			/* written since the last sync */
    int     applying;
    unsigned char *q;			/* queued writes: klen, vlen+1 (0:
					 * delete), key, value */
    size_t  qlen, qcap;
    enum store_status *st;		/* their results, once applied */
    long    nq, stcap, napplied;
};

/* migrate - LMDB's records into the file, then the mark, then LMDB's
 * table emptied: interrupted anywhere, the next open does it again */
static int migrate(struct triplets *t, const char *file, MDB_env *env, MDB_dbi dbi,
		           char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_stat ms;
    long    n = 0;
    int     rc, op = MDB_FIRST;

    if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
	goto bad;
    if ((rc = mdb_stat(txn, dbi, &ms)) != 0) {
	mdb_txn_abort(txn);
	goto bad;
    }
    if (!(hashdb_flags(t->hdb) & HASHDB_F_MIGRATED) && ms.ms_entries > 0) {
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
	    mdb_txn_abort(txn);
	    goto bad;
	}
	hashdb_lock(t->hdb);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
	    op = MDB_NEXT;
	    if (hashdb_put(t->hdb, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != STORE_OK) {
		hashdb_unlock(t->hdb);
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		snprintf(err, errlen, "%s: cannot move the triplets over", file);
		return -1;
	    }
	    n++;
	}
	hashdb_unlock(t->hdb);
	mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    if (!(hashdb_flags(t->hdb) & HASHDB_F_MIGRATED)) {
	if (hashdb_sync(t->hdb) != 0 || hashdb_set_flag(t->hdb, HASHDB_F_MIGRATED) < 0
	    || hashdb_sync(t->hdb) != 0) {
	    snprintf(err, errlen, "%s: cannot write: %s", file, strerror(errno));
	    return -1;
	}
	if (n > 0)
	    msg_info("%s: %ld greylisting triplets moved over from LMDB", file, n);
    }
    if (ms.ms_entries == 0)
	return 0;
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
	goto bad;
    if ((rc = mdb_drop(txn, dbi, 0)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
	if (rc != 0)
	    mdb_txn_abort(txn);
	goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "%s: moving the triplets: %s", file, mdb_strerror(rc));
    return -1;
}

struct triplets *triplets_open(const struct store_opts *o, MDB_env *env, MDB_dbi dbi,
			               char *err, size_t errlen)
{
    struct triplets *t;
    struct hashdb *h;
    char    file[4096];
    struct stat st;

    err[0] = 0;
    snprintf(file, sizeof(file), "%s/triplets.db", o->path);
    if (o->readonly && (stat(file, &st) < 0 || st.st_size < 4096))
	return NULL;		/* LMDB's table, as before (or being created) */
    if ((h = hashdb_open(file, o->map_size, o->readonly, err, errlen)) == NULL) {
	char    aside[4096 + 32];

	if (o->readonly || o->on_corrupt != STORE_CORRUPT_MOVE)
	    return NULL;
	/* keep the evidence, start empty (as store_open does with LMDB) */
	snprintf(aside, sizeof(aside), "%s.corrupt-%ld", file, (long) time(NULL));
	msg_warn("%s; moving it aside to %s and starting with an empty table", err, aside);
	if (rename(file, aside) < 0) {
	    snprintf(err, errlen, "%s: cannot move the damaged file aside: %s", file,
		     strerror(errno));
	    return NULL;
	}
	if ((h = hashdb_open(file, o->map_size, 0, err, errlen)) == NULL)
	    return NULL;
	hashdb_set_flag(h, HASHDB_F_MIGRATED);	/* nothing left to move */
    }
    t = xcalloc(1, sizeof(*t));
    t->hdb = h;
    t->sync_commits = o->sync_commits;
    if (o->readonly) {
	if (hashdb_flags(h) & HASHDB_F_MIGRATED)
	    return t;
	triplets_close(t);			/* a move not finished: LMDB */
	return NULL;
    }
    if (migrate(t, file, env, dbi, err, errlen) < 0) {
	triplets_close(t);
	return NULL;
    }
    return t;
}

void    triplets_close(struct triplets *t)
{
    if (t == NULL)
	return;
    triplets_apply(t);
    triplets_pass_end(t);
    if (t->locked)
	hashdb_unlock(t->hdb);		/* writes the count */
    hashdb_close(t->hdb);
    free(t->q);
    free(t->st);
    free(t);
}

struct hashdb *triplets_db(struct triplets *t)
{
    return t->hdb;
}

void    triplets_sticky(struct triplets *t)
{
    t->sticky = 1;
}

/* committed - count a commit (a write outside a batch, or a batch) */
static void committed(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    stat_inc(STAT_STORE_COMMITS);
    stat_observe(STAT_STORE_COMMIT_SECONDS, (double) (t1.tv_sec - t0->tv_sec)
		 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9);
}

enum store_status triplets_write(struct triplets *t, const void *key, size_t klen,
				         const void *val, size_t vlen)
{
    enum store_status st;
    struct timespec t0;

    if (!t->applying)
	clock_gettime(CLOCK_MONOTONIC, &t0);
    stat_inc(STAT_STORE_WRITES);
    if (t->sticky && !t->locked && hashdb_lock(t->hdb) == 0) {
	t->locked = 1;
	clock_gettime(CLOCK_MONOTONIC, &t->locked_at);
    }
    st = val ? hashdb_put(t->hdb, key, klen, val, vlen) : hashdb_del(t->hdb, key, klen);
    if (st == STORE_ERROR)
	stat_inc(STAT_STORE_ERRORS);
    t->dirty = 1;
    if (t->sync_commits && !t->sticky && !t->applying && hashdb_sync(t->hdb) != 0) {
	msg_warn("store: sync: %s", strerror(errno));
	st = STORE_ERROR;
    }
    if (st != STORE_ERROR && !t->applying)
	committed(&t0);
    return st;
}

/* triplets_queue - a batch's write, kept until triplets_apply; its index */
long    triplets_queue(struct triplets *t, const void *key, size_t klen,
		               const void *val, size_t vlen)
{
    size_t  need = 4 + klen + (val ? vlen : 0);

    if (t->qlen + need > t->qcap) {
	t->qcap = t->qcap * 2 > t->qlen + need ? t->qcap * 2 : t->qlen + need + 4096;
	t->q = xrealloc(t->q, t->qcap);
    }
    unsigned char *p = t->q + t->qlen;

    if (klen > HASHDB_KEY_MAX || (val && vlen > HASHDB_VALUE_MAX)) {
	memcpy(p, "\0\0\xff\xff", 4);		/* refused when applied */
	t->qlen += 4;
	return t->nq++;
    }
    p[0] = (unsigned char) (klen >> 8);
    p[1] = (unsigned char) klen;
    p[2] = (unsigned char) (val ? (vlen + 1) >> 8 : 0);
    p[3] = (unsigned char) (val ? vlen + 1 : 0);
    memcpy(p + 4, key, klen);
    if (val)
	memcpy(p + 4 + klen, val, vlen);
    t->qlen += need;
    return t->nq++;
}

/* triplets_apply - the queued writes, in order; their results kept */
void    triplets_apply(struct triplets *t)
{
    size_t  off = 0;
    struct timespec t0;
    int     ok = 0;

    if (t->nq == 0)
	return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t->applying = 1;			/* one sync at the pass's end */
    if (!t->locked && hashdb_lock(t->hdb) == 0) {
	t->locked = 1;
	clock_gettime(CLOCK_MONOTONIC, &t->locked_at);
    }
    if (t->stcap < t->nq) {
	t->stcap = t->nq * 2;
	t->st = xrealloc(t->st, (size_t) t->stcap * sizeof(*t->st));
    }
    for (long i = 0; i < t->nq; i++) {
	const unsigned char *p = t->q + off;
	size_t  klen = (size_t) p[0] << 8 | p[1], vl1 = (size_t) p[2] << 8 | p[3];

	if (vl1 == 0xffff) {
	    stat_inc(STAT_STORE_WRITES);
	    stat_inc(STAT_STORE_ERRORS);
	    t->st[i] = STORE_ERROR;
	    off += 4;
	    continue;
	}
	t->st[i] = triplets_write(t, p + 4, klen, vl1 ? p + 4 + klen : NULL, vl1 ? vl1 - 1 : 0);
	ok |= t->st[i] != STORE_ERROR;
	off += 4 + klen + (vl1 ? vl1 - 1 : 0);
    }
    t->applying = 0;
    t->qlen = 0;
    t->napplied = t->nq;
    t->nq = 0;
    if (ok)
	committed(&t0);
}

/* triplets_status - the result of queued write i (after triplets_apply) */
enum store_status triplets_status(struct triplets *t, long i)
{
    return i >= 0 && i < t->napplied && t->st ? t->st[i] : STORE_ERROR;
}

/*
 * triplets_pass_end - the pass's writes synced (store_sync_commits); the
 * lock released if held for TRIPLETS_HOLD_MS or more.  A lock and an
 * unlock are two system calls (3 us on a virtual machine) for a pass of
 * a few requests; held across passes, another process's writer (purge,
 * import) waits at most that long under load, or until the daemon's next
 * pass (its sync timer: store_sync_interval) when it is idle.  -1 if
 * the sync failed.
 */
#define TRIPLETS_HOLD_MS	10

int     triplets_pass_end(struct triplets *t)
{
    struct timespec now;
    int     rc = 0;

    if (t->dirty && t->sync_commits && hashdb_sync(t->hdb) != 0) {
	msg_warn("store: sync: %s", strerror(errno));
	rc = -1;
    }
    t->dirty = 0;
    if (t->locked) {
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - t->locked_at.tv_sec) * 1000
	    + (now.tv_nsec - t->locked_at.tv_nsec) / 1000000 >= TRIPLETS_HOLD_MS) {
	    hashdb_unlock(t->hdb);
	    t->locked = 0;
	}
    }
    return rc;
}

long    triplets_release_due_ms(const struct triplets *t)
{
    struct timespec now;
    long    held;

    if (!t->locked)
	return -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    held = (long) ((now.tv_sec - t->locked_at.tv_sec) * 1000
		   + (now.tv_nsec - t->locked_at.tv_nsec) / 1000000);
    return held >= TRIPLETS_HOLD_MS ? 0 : TRIPLETS_HOLD_MS - held;
}
