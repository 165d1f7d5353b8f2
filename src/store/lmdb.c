/*
 * lmdb.c - the embedded store: its operations.
 *
 * One LMDB environment in a directory, one named database per table plus
 * "meta" holding the format version (opened, checked and upgraded by
 * store/lmdb_env.c).  Every write is committed before the
 * caller is told (MDB_WRITEMAP, MDB_NOSYNC: the commit reaches the kernel,
 * which is what kill -9 needs; store_sync() or store_sync_commits take it
 * to the disk).  Outside a batch each write is its own transaction; in a
 * batch (the daemon with store_sync_commits) the writes of one pass of the
 * event loop share one transaction and their callbacks run after its
 * commit.  The periodic flush (store_sync) runs on a thread of its own
 * and never makes the event loop wait for the disk.  Values are stored
 * as store/encode.h's bytes.  The "triplets" table is a hash file of
 * its own (store/lmdb_triplets.c, store/hashdb.c) once opened for writing
 * by this version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "stats/stats.h"
#include "store/encode.h"
#include "store/flush.h"
#include "store/lmdb_impl.h"
#include "store/lmdb_triplets.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

static int (*flush_fn) (void *env);	/* test knob: instead of mdb_env_sync */

#define L(base) ((struct lmdb *) (base))

static void lm_close(struct store *);
static void lm_get(struct store *, const char *, const void *, size_t, store_cb, void *);
static void lm_put(struct store *, const char *, const void *, size_t, const void *, size_t,
		           store_cb, void *);
static void lm_del(struct store *, const char *, const void *, size_t, store_cb, void *);
static long lm_scan(struct store *, const char *, char *, size_t, size_t *, long,
		            store_scan_fn, void *);
static int lm_read_begin(struct store *);
static void lm_read_end(struct store *);
static int lm_empty(struct store *, const char *);
static void lm_batch(struct store *, int);
static int lm_commit(struct store *);
static int lm_readonly(const struct store *);
static int lm_sync(struct store *);
static long lm_count(struct store *, const char *);
static long lm_pass_due(struct store *);

static const struct store_ops lmdb_ops = {
    "lmdb", lm_close, lm_get, lm_put, lm_del, lm_scan, lm_read_begin, lm_read_end, lm_empty,
    lm_batch, lm_commit, lm_readonly, lm_sync, lm_count,
};

/* absent - a table this version knows that a database opened read-only
 * does not have (written by an older mxshield): empty, not an error */
static int absent(const struct lmdb *s, const char *name)
{
    if (!s->readonly)
	return 0;
    for (int i = 0; i < s->ntables; i++)
	if (strcmp(s->names[i], name) == 0)
	    return 0;
    for (int i = 0; lmdb_tables[i]; i++)
	if (strcmp(lmdb_tables[i], name) == 0)
	    return 1;
    return 0;
}

/* in_hash - the table is the hash file's (store/lmdb_triplets.c) */
static int in_hash(const struct lmdb *s, const char *name)
{
    return s->tr != NULL && strcmp(name, "triplets") == 0;
}

/* table - the dbi of a table name */
static int table(struct lmdb *s, const char *name, MDB_dbi *dbi)
{
    for (int i = 0; i < s->ntables; i++) {
	if (strcmp(s->names[i], name) == 0) {
	    *dbi = s->dbi[i];
	    return 0;
	}
    }
    msg_warn("store: unknown table \"%s\"", name);
    return -1;
}

/* attach_triplets - the triplets table's hash file, once LMDB is open */
static struct store *attach_triplets(struct lmdb *s, const struct store_opts *o,
				             char *err, size_t errlen)
{
    MDB_dbi dbi = 0;

    for (int i = 0; i < s->ntables; i++)
	if (strcmp(s->names[i], "triplets") == 0)
	    dbi = s->dbi[i];
    if ((s->tr = triplets_open(o, s->env, dbi, err, errlen)) == NULL && err[0]) {
	lm_close(&s->base);
	return NULL;
    }
    return &s->base;
}

/* store_open - open or create; moves a bad database aside if told to */
struct store *store_lmdb_open(const struct store_opts *o, char *err, size_t errlen)
{
    struct lmdb *s = xcalloc(1, sizeof(*s));

    s->base.ops = &lmdb_ops;
    s->base.pass_due = lm_pass_due;

    s->readonly = o->readonly;
    s->sync_commits = o->sync_commits;
    s->path = xstrdup(o->path);
    if (lmdb_env_open(s, o, err, errlen) == 0)
	return attach_triplets(s, o, err, errlen);
    lm_close(&s->base);
    return NULL;
}

static void lm_close(struct store *base)
{
    struct lmdb *s = L(base);
    int     rc;

    if (s == NULL)
	return;
    while (store_commit(&s->base) > 0)
	 /* void */ ;
    if (s->flusher && (rc = store_flush_stop(s->flusher)) != 0)	/* waits for it */
	msg_warn("store: %s: sync: %s", s->path, mdb_strerror(rc));
    if (s->env && !s->readonly)
	mdb_env_sync(s->env, 1);
    if (s->tr && !s->readonly)
	hashdb_sync(triplets_db(s->tr));
    triplets_close(s->tr);
    lmdb_env_release(s);
    free(s->waiters);
    free(s->path);
    free(s);
}

/* store_get - read one record */
static void lm_get(struct store *base, const char *tname, const void *key, size_t klen,
		          store_cb cb, void *arg)
{
    struct lmdb *s = L(base);

    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {klen, (void *) key}, v;
    int     rc;

    if (in_hash(s, tname)) {
	const void *val;
	size_t  len;
	enum store_status st = hashdb_get(triplets_db(s->tr), key, klen, &val, &len);

	cb(arg, st, st == STORE_OK ? val : NULL, st == STORE_OK ? len : 0);
	return;
    }
    if (absent(s, tname)) {
	cb(arg, STORE_NOTFOUND, NULL, 0);
	return;
    }
    if (table(s, tname, &dbi) < 0) {
	cb(arg, STORE_ERROR, NULL, 0);
	return;
    }
    /* reads see committed records only, never the open batch: an answer
     * built on a write must wait for that write's commit, and only the
     * writer's does.  The read transaction is renewed, not created. */
    if (s->reading)
	txn = s->rcur;
    else {
	rc = s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc != 0) {
	    msg_warn("store: %s: read: %s", s->path, mdb_strerror(rc));
	    cb(arg, STORE_ERROR, NULL, 0);
	    return;
	}
	txn = s->rtxn;
    }
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0)
	cb(arg, STORE_OK, v.mv_data, v.mv_size);	/* valid until the abort */
    else if (rc == MDB_NOTFOUND)
	cb(arg, STORE_NOTFOUND, NULL, 0);
    else {
	msg_warn("store: %s: read: %s", s->path, mdb_strerror(rc));
	cb(arg, STORE_ERROR, NULL, 0);
    }
    if (txn == s->rtxn && !s->reading)
	mdb_txn_reset(txn);
}

/* store_read_begin - several reads from one snapshot, until store_read_end */
static int lm_read_begin(struct store *base)
{
    struct lmdb *s = L(base);

    int     rc;

    rc = s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
    if (rc != 0) {
	msg_warn("store: %s: read: %s", s->path, mdb_strerror(rc));
	return -1;
    }
    s->rcur = s->rtxn;
    s->reading = 1;
    return 0;
}

static void lm_read_end(struct store *base)
{
    struct lmdb *s = L(base);

    if (s->reading && s->rcur == s->rtxn)
	mdb_txn_reset(s->rtxn);
    s->reading = 0;
    s->rcur = NULL;
}

/* store_empty - 1 if a table has no records (inside store_read_begin) */
static int lm_empty(struct store *base, const char *tname)
{
    struct lmdb *s = L(base);

    MDB_dbi dbi;
    MDB_stat st;

    if (in_hash(s, tname))
	return hashdb_count(triplets_db(s->tr)) == 0;
    if (!s->reading || table(s, tname, &dbi) < 0 || mdb_stat(s->rcur, dbi, &st) != 0)
	return 0;
    return st.ms_entries == 0;
}

/* timed_commit - mdb_txn_commit, counted and timed when it succeeds */
static int timed_commit(MDB_txn *txn)
{
    struct timespec t0, t1;
    int     rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = mdb_txn_commit(txn);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0) {
	stat_inc(STAT_STORE_COMMITS);
	stat_observe(STAT_STORE_COMMIT_SECONDS, (double) (t1.tv_sec - t0.tv_sec)
		     + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    return rc;
}

/* write - put or delete in its own committed transaction */
static int write_one(struct lmdb *s, const char *tname, const void *key, size_t klen,
		             const void *val, size_t vlen)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {klen, (void *) key}, v = {vlen, (void *) val};
    int     rc;

    stat_inc(STAT_STORE_WRITES);
    if (s->readonly || table(s, tname, &dbi) < 0) {
	stat_inc(STAT_STORE_ERRORS);
	return STORE_ERROR;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
	goto bad;
    rc = val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
    if (rc == MDB_NOTFOUND) {
	mdb_txn_abort(txn);
	return STORE_NOTFOUND;
    }
    if (rc != 0) {
	mdb_txn_abort(txn);
	goto bad;
    }
    if ((rc = timed_commit(txn)) != 0)
	goto bad;
    return STORE_OK;
bad:
    stat_inc(STAT_STORE_ERRORS);
    msg_warn("store: %s: write: %s", s->path, mdb_strerror(rc));
    return STORE_ERROR;
}

/* add_waiter - a callback to call after the commit */
static void add_waiter(struct lmdb *s, store_cb cb, void *arg, enum store_status st, long pend)
{
    if (s->nwaiters == s->waiters_cap) {
	s->waiters_cap = s->waiters_cap ? 2 * s->waiters_cap : 64;
	s->waiters = xrealloc(s->waiters, s->waiters_cap * sizeof(*s->waiters));
    }
    s->waiters[s->nwaiters].cb = cb;
    s->waiters[s->nwaiters].arg = arg;
    s->waiters[s->nwaiters].st = st;
    s->waiters[s->nwaiters].pend = pend;
    s->waiters[s->nwaiters].service = log_service_current();
    s->nwaiters++;
}

/* batch_write - a write joins the open batch; its callback waits */
static void batch_write(struct lmdb *s, const char *tname, const void *key, size_t klen,
			        const void *val, size_t vlen, store_cb cb, void *arg)
{
    MDB_dbi dbi;
    MDB_val k = {klen, (void *) key}, v = {vlen, (void *) val};
    enum store_status st = STORE_OK;
    int     rc = 0;

    stat_inc(STAT_STORE_WRITES);
    if (s->readonly || table(s, tname, &dbi) < 0) {
	stat_inc(STAT_STORE_ERRORS);
	if (cb)
	    cb(arg, STORE_ERROR, NULL, 0);
	return;
    }
    if (s->wtxn == NULL && !s->wfailed && (rc = mdb_txn_begin(s->env, NULL, 0, &s->wtxn)) != 0) {
	msg_warn("store: %s: write: %s", s->path, mdb_strerror(rc));
	stat_inc(STAT_STORE_ERRORS);
	s->wtxn = NULL;
	if (cb)
	    cb(arg, STORE_ERROR, NULL, 0);
	return;
    }
    if (s->wfailed) {
	st = STORE_ERROR;
    } else {
	rc = val ? mdb_put(s->wtxn, dbi, &k, &v, 0) : mdb_del(s->wtxn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND) {
	    st = STORE_NOTFOUND;
	} else if (rc == MDB_BAD_VALSIZE) {
	    /* refused before anything changed: this write fails, not the batch */
	    msg_warn("store: %s: write: %s (key of %zu bytes)", s->path, mdb_strerror(rc), klen);
	    st = STORE_ERROR;
	} else if (rc != 0) {
	    /* LMDB: the transaction can now only be aborted */
	    msg_warn("store: %s: write: %s", s->path, mdb_strerror(rc));
	    s->wfailed = 1;
	    st = STORE_ERROR;
	}
    }
    if (st == STORE_ERROR)
	stat_inc(STAT_STORE_ERRORS);
    add_waiter(s, cb, arg, st, -1);
}

/* hash_write - a triplets write: at once, or queued for the commit */
static void hash_write(struct lmdb *s, const void *key, size_t klen, const void *val,
		               size_t vlen, store_cb cb, void *arg)
{
    if (s->batching) {
	add_waiter(s, cb, arg, STORE_OK, triplets_queue(s->tr, key, klen, val, vlen));
	return;
    }
    enum store_status st = s->readonly ? STORE_ERROR
	: triplets_write(s->tr, key, klen, val, vlen);

    if (cb)
	cb(arg, st, NULL, 0);
}

static void lm_put(struct store *base, const char *tname, const void *key, size_t klen,
		          const void *val, size_t vlen, store_cb cb, void *arg)
{
    struct lmdb *s = L(base);

    if (in_hash(s, tname)) {
	hash_write(s, key, klen, val ? val : "", val ? vlen : 0, cb, arg);
	return;
    }
    if (s->batching) {
	batch_write(s, tname, key, klen, val ? val : "", val ? vlen : 0, cb, arg);
	return;
    }
    enum store_status st = write_one(s, tname, key, klen, val ? val : "", val ? vlen : 0);

    if (cb)
	cb(arg, st, NULL, 0);
}

static void lm_del(struct store *base, const char *tname, const void *key, size_t klen,
		          store_cb cb, void *arg)
{
    struct lmdb *s = L(base);

    if (in_hash(s, tname)) {
	hash_write(s, key, klen, NULL, 0, cb, arg);
	return;
    }
    if (s->batching) {
	batch_write(s, tname, key, klen, NULL, 0, cb, arg);
	return;
    }
    enum store_status st = write_one(s, tname, key, klen, NULL, 0);

    if (cb)
	cb(arg, st, NULL, 0);
}

/* store_batch - writes join one transaction per store_commit() */
static void lm_batch(struct store *base, int on)
{
    struct lmdb *s = L(base);

    if (!on)
	while (store_commit(&s->base) > 0)
	     /* void */ ;
    s->batching = on;
    if (s->tr)
	triplets_sticky(s->tr);		/* the caller commits after each pass */
}

/* store_commit - commit the batch, then tell its writers; 1 if any */
static int lm_commit(struct store *base)
{
    struct lmdb *s = L(base);

    enum store_status fail = STORE_OK;
    struct waiter *w;
    size_t  n;
    int     rc;

    if (s->wtxn == NULL && s->nwaiters == 0) {
	if (s->tr)
	    triplets_pass_end(s->tr);	/* the lock held for the pass */
	return 0;
    }
    if (s->tr)
	triplets_apply(s->tr);
    if (s->wtxn) {
	if (s->wfailed) {
	    mdb_txn_abort(s->wtxn);
	    fail = STORE_ERROR;
	} else if ((rc = timed_commit(s->wtxn)) != 0) {
	    stat_inc(STAT_STORE_ERRORS);
	    msg_warn("store: %s: commit: %s", s->path, mdb_strerror(rc));
	    fail = STORE_ERROR;
	}
	s->wtxn = NULL;
    }
    s->wfailed = 0;
    if (s->tr && triplets_pass_end(s->tr) < 0)
	fail = STORE_ERROR;
    /* the callbacks may start the next batch */
    w = s->waiters;
    n = s->nwaiters;
    s->waiters = NULL;
    s->nwaiters = s->waiters_cap = 0;
    for (size_t i = 0; i < n; i++)
	if (w[i].pend >= 0)
	    w[i].st = triplets_status(s->tr, w[i].pend);
    for (size_t i = 0; i < n; i++)
	if (w[i].cb) {
	    const char *previous = log_service_enter(w[i].service);

	    w[i].cb(w[i].arg, fail != STORE_OK ? fail : w[i].st, NULL, 0);
	    log_service_leave(previous);
	}
    free(w);
    return 1;
}

/* store_scan - a batch of records from a cursor position */
static long lm_scan(struct store *base, const char *tname, char *cursor, size_t cursor_size,
		           size_t *cursor_len, long max, store_scan_fn fn, void *arg)
{
    struct lmdb *s = L(base);

    MDB_txn *txn = NULL;		/* mdb_txn_begin leaves it alone on failure */
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_val k, v;
    long    n = 0;
    int     rc, op, writes = fn != NULL && !s->readonly;

    if (in_hash(s, tname)) {
	while (store_commit(&s->base) > 0)
	     /* void */ ;
	return hashdb_scan(triplets_db(s->tr), cursor, cursor_size, cursor_len, max, fn, arg);
    }
    if (absent(s, tname)) {
	*cursor_len = 0;
	return 0;
    }
    if (table(s, tname, &dbi) < 0)
	return -1;
    while (store_commit(&s->base) > 0)		/* one write transaction at a time */
	 /* void */ ;
    if ((rc = mdb_txn_begin(s->env, NULL, writes ? 0 : MDB_RDONLY, &txn)) != 0
	|| (rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
	msg_warn("store: %s: scan: %s", s->path, mdb_strerror(rc));
	if (rc != 0 && txn)
	    mdb_txn_abort(txn);
	return -1;
    }
    if (*cursor_len > 0) {
	k.mv_size = *cursor_len;
	k.mv_data = cursor;
	op = MDB_SET_RANGE;
    } else {
	op = MDB_FIRST;
    }
    *cursor_len = 0;
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
	op = MDB_NEXT;
	if (n >= max) {
	    /* where the next batch starts */
	    if (k.mv_size <= cursor_size) {
		memcpy(cursor, k.mv_data, k.mv_size);
		*cursor_len = k.mv_size;
	    }
	    break;
	}
	n++;
	int     verdict = fn ? fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size) : 0;

	if (verdict < 0)
	    break;
	if (verdict == 1 && writes && (rc = mdb_cursor_del(cur, 0)) != 0) {
	    msg_warn("store: %s: delete: %s", s->path, mdb_strerror(rc));
	    break;
	}
    }
    mdb_cursor_close(cur);
    if (writes) {
	if ((rc = timed_commit(txn)) != 0) {
	    stat_inc(STAT_STORE_ERRORS);
	    msg_warn("store: %s: commit: %s", s->path, mdb_strerror(rc));
	    return -1;
	}
    } else {
	mdb_txn_abort(txn);
    }
    return n;
}

/* store_lmdb_flush_hook - test knob: the flusher calls fn(env) instead
 * of mdb_env_sync(env, 1); NULL: the real thing */
void    store_lmdb_flush_hook(int (*fn) (void *env))
{
    flush_fn = fn;
}

/* lm_flush - the flush the helper thread runs */
static int lm_flush(void *ctx)
{
    struct lmdb *s = ctx;

    int     rc = flush_fn ? flush_fn(s->env) : mdb_env_sync(s->env, 1);

    if (rc == 0 && s->tr)
	rc = hashdb_sync(triplets_db(s->tr));
    return rc;
}

/*
 * store_sync - ask for a flush to disk and return at once (flush.h).  A
 * flush still running when the next is asked for is logged once; one that
 * failed is reported at the next call.  With store_sync_commits every
 * commit is already on the disk: nothing to do.
 */
static int lm_sync(struct store *base)
{
    struct lmdb *s = L(base);
    int     rc, busy = 0;
    char    why[256];

    if (s->readonly || s->sync_commits)
	return 0;
    if (s->flusher == NULL
	&& (s->flusher = store_flush_start(lm_flush, s, why, sizeof(why))) == NULL) {
	msg_warn("store: %s: %s; flushing on the event loop", s->path, why);
	rc = mdb_env_sync(s->env, 1);
    } else {
	rc = store_flush_ask(s->flusher, &busy);
    }
    if (rc != 0)
	msg_warn("store: %s: sync: %s", s->path, mdb_strerror(rc));
    if (busy)
	msg_warn("store: %s: the last flush to disk has not finished yet (slow disk?)",
		 s->path);
    return rc ? -1 : 0;
}

static long lm_count(struct store *base, const char *tname)
{
    struct lmdb *s = L(base);

    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;

    if (in_hash(s, tname))
	return hashdb_count(triplets_db(s->tr));
    if (absent(s, tname))
	return 0;
    if (table(s, tname, &dbi) < 0 || mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
	return -1;
    if (mdb_stat(txn, dbi, &st) != 0) {
	mdb_txn_abort(txn);
	return -1;
    }
    mdb_txn_abort(txn);
    return (long) st.ms_entries;
}

static int lm_readonly(const struct store *base)
{
    const struct lmdb *s = (const struct lmdb *) base;

    return s->readonly;
}

/* lm_pass_due - the triplets lock held across passes is let go ~10 ms on */
static long lm_pass_due(struct store *base)
{
    struct lmdb *s = L(base);

    return s->tr ? triplets_release_due_ms(s->tr) : -1;
}
