/*
 * lmdb_env.c - the embedded store's environment: the directory, the LMDB
 * environment and one named database per table, and "meta" with the
 * format version.  The operations on it: store/lmdb.c.
 *
 * SYNOPSIS
 *	lmdb_env_open(s, opts, err, errlen);
 *	lmdb_env_release(s);
 *
 * DESCRIPTION
 *	A new database is marked with this version's format; a format 1
 *	database opened for writing has its values rewritten in format 2
 *	(store/encode.h) and is then marked format 2.  Opened read-only,
 *	a database is read as it is, and tables it does not have (an older
 *	mxshield's) are left out.
 *
 * DIAGNOSTICS
 *	A database that cannot be opened or carries an unknown format
 *	version is reported with its path; by configuration
 *	(store_on_corrupt) the directory is moved aside to
 *	<path>.corrupt-<time> and a new one created, or the open fails and
 *	the daemon refuses to start.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/encode.h"
#include "store/lmdb_impl.h"
#include "util/log.h"
#include "util/mem.h"

const char *const lmdb_tables[] = {"triplets", "clients", "whitelist",
    /* auto-ban and rate limits (src/ban/ban.c) */
    "bans", "offenders", "banhits", "banprefix", "rates", NULL};

/*
 * upgrade_values - rewrite every format 1 value in format 2, 10,000
 * records per transaction (a large database never makes one huge
 * transaction); values already in format 2, or not decodable, are left.
 */
#define UPGRADE_BATCH	10000

static int upgrade_values(struct lmdb *s, const char *path, char *err, size_t errlen)
{
    long    total = 0;
    int     rc = 0;

    for (int i = 0; i < s->ntables; i++) {
	enum store_kind kind = store_kind_of_table(s->names[i]);
	unsigned char from[512];	/* where the next batch starts (LMDB keys: 511) */
	size_t  fromlen = 0;
	int     more = kind != 0;

	while (more) {
	    MDB_txn *txn;
	    MDB_cursor *cur;
	    MDB_val k, v;
	    int     op = fromlen ? MDB_SET_RANGE : MDB_FIRST;
	    long    n = 0;

	    more = 0;
	    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto bad;
	    if ((rc = mdb_cursor_open(txn, s->dbi[i], &cur)) != 0) {
		mdb_txn_abort(txn);
		goto bad;
	    }
	    k.mv_size = fromlen;
	    k.mv_data = from;
	    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		unsigned char val[STORE_VALUE_MAX], key[512];
		size_t  len;

		op = MDB_NEXT;
		if (k.mv_size > sizeof(key))
		    continue;			/* LMDB never has one */
		memcpy(key, k.mv_data, k.mv_size);
		if (n++ == UPGRADE_BATCH) {
		    memcpy(from, key, k.mv_size);
		    fromlen = k.mv_size;
		    more = 1;
		    break;
		}
		if ((len = store_value_upgrade(kind, v.mv_data, v.mv_size, val)) == 0)
		    continue;
		MDB_val nk = {k.mv_size, key}, nv = {len, val};

		if ((rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT)) != 0)
		    break;
		total++;
	    }
	    mdb_cursor_close(cur);
	    if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		goto bad;
	    }
	    if ((rc = mdb_txn_commit(txn)) != 0)
		goto bad;
	}
    }
    msg_info("%s: database format 1 upgraded to format %d: %ld records rewritten",
	     path, STORE_FORMAT_VERSION, total);
    return 0;
bad:
    snprintf(err, errlen, "%s: cannot upgrade the database to format %d: %s",
	     path, STORE_FORMAT_VERSION, mdb_strerror(rc));
    return -1;
}

/* open_env - environment, tables and version check; -1 + err */
static int open_env(struct lmdb *s, const struct store_opts *o, char *err, size_t errlen)
{
    MDB_txn *txn;
    int     rc;
    /*
     * Writes go to the shared map (MDB_WRITEMAP): a commit is memory
     * writes that survive kill -9.  Without store_sync_commits they reach
     * the disk at the next store_sync(); with it, LMDB syncs every commit
     * in the order that keeps the file consistent after a power loss.
     */
    unsigned flags = MDB_WRITEMAP | MDB_NOTLS | (o->readonly ? MDB_RDONLY : 0)
	| (o->sync_commits ? 0 : MDB_NOSYNC | MDB_MAPASYNC);

    if ((rc = mdb_env_create(&s->env)) != 0
	|| (rc = mdb_env_set_maxdbs(s->env, MAX_TABLES + 1)) != 0
	|| (rc = mdb_env_set_mapsize(s->env, o->map_size)) != 0) {
	snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
	return -1;
    }
    if ((rc = mdb_env_open(s->env, o->path, flags, 0600)) != 0) {
	snprintf(err, errlen, "%s: cannot open database: %s", o->path, mdb_strerror(rc));
	return -1;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, o->readonly ? MDB_RDONLY : 0, &txn)) != 0) {
	snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
	return -1;
    }
    unsigned dflags = o->readonly ? 0 : MDB_CREATE;

    if ((rc = mdb_dbi_open(txn, "meta", dflags, &s->meta)) != 0)
	goto bad;
    for (int i = 0; lmdb_tables[i]; i++) {
	if ((rc = mdb_dbi_open(txn, lmdb_tables[i], dflags, &s->dbi[s->ntables])) != 0) {
	    /* read-only, a database older than the table: it has none */
	    if (rc == MDB_NOTFOUND && o->readonly)
		continue;
	    goto bad;
	}
	s->names[s->ntables++] = xstrdup(lmdb_tables[i]);
    }
    /*
     * The format version: written when new, checked when not.  Format 2
     * writes it as 4 bytes little-endian, whatever the host; format 1
     * wrote the host's uint32 (little-endian where it ran, so that 0.3
     * reads "2" and names the version it cannot read).  A format 1
     * database opened for writing has its values rewritten in format 2
     * (upgrade_values) and is then marked format 2, after which an older
     * mxshield refuses it rather than take its values for damaged ones.
     * Opened read-only it is read as it is (store/encode.h reads both).
     */
    MDB_val k = {7, (void *) "version"}, v;
    unsigned char want[4] = {STORE_FORMAT_VERSION, 0, 0, 0};
    int     upgrade = 0;

    rc = mdb_get(txn, s->meta, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
	goto bad;
    if (rc == 0) {
	uint32_t have, host;

	if (v.mv_size != sizeof(have)) {
	    mdb_txn_abort(txn);
	    snprintf(err, errlen, "%s: database format record is damaged", o->path);
	    return -1;
	}
	memcpy(&host, v.mv_data, sizeof(host));
	have = (uint32_t) ((const unsigned char *) v.mv_data)[3] << 24
	    | (uint32_t) ((const unsigned char *) v.mv_data)[2] << 16
	    | (uint32_t) ((const unsigned char *) v.mv_data)[1] << 8
	    | (uint32_t) ((const unsigned char *) v.mv_data)[0];
	if (have != STORE_FORMAT_VERSION && host == 1)
	    have = 1;
	if (have != STORE_FORMAT_VERSION && have != 1) {
	    mdb_txn_abort(txn);
	    snprintf(err, errlen, "%s: database format version %u, this mxshield reads 1 and %u",
		     o->path, (unsigned) have, (unsigned) STORE_FORMAT_VERSION);
	    return -1;
	}
	upgrade = have == 1 && !o->readonly;
    }
    if (upgrade) {
	/* every value first, then the version: an upgrade cut short is
	 * taken up again at the next start (done records are skipped) */
	if ((rc = mdb_txn_commit(txn)) != 0) {
	    snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
	    return -1;
	}
	if (upgrade_values(s, o->path, err, errlen) < 0)
	    return -1;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
	    snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
	    return -1;
	}
	rc = MDB_NOTFOUND;		/* the version is written below */
    }
    if ((rc == MDB_NOTFOUND || memcmp(v.mv_data, want, sizeof(want)) != 0) && !o->readonly) {
	v.mv_size = sizeof(want);
	v.mv_data = want;
	if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
	    goto bad;
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
	snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
	return -1;
    }
    return 0;
bad:
    mdb_txn_abort(txn);
    snprintf(err, errlen, "%s: cannot read database: %s", o->path, mdb_strerror(rc));
    return -1;
}

/* lmdb_env_release - the environment closed, the table names freed */
void    lmdb_env_release(struct lmdb *s)
{
    if (s->rtxn)
	mdb_txn_abort(s->rtxn);
    s->rtxn = NULL;
    if (s->env)
	mdb_env_close(s->env);
    s->env = NULL;
    for (int i = 0; i < s->ntables; i++)
	free(s->names[i]);
    s->ntables = 0;
}

/* lmdb_env_open - open or create; moves a bad database aside if told to */
int     lmdb_env_open(struct lmdb *s, const struct store_opts *o, char *err, size_t errlen)
{
    if (!o->readonly && mkdir(o->path, 0700) < 0 && errno != EEXIST) {
	snprintf(err, errlen, "%s: cannot create directory: %s", o->path, strerror(errno));
	return -1;
    }
    if (open_env(s, o, err, errlen) == 0)
	return 0;
    lmdb_env_release(s);
    if (o->readonly || o->on_corrupt != STORE_CORRUPT_MOVE)
	return -1;
    /* keep the evidence, start empty */
    char    aside[4096];

    snprintf(aside, sizeof(aside), "%s.corrupt-%ld", o->path, (long) time(NULL));
    msg_warn("%s; moving it aside to %s and starting with an empty database", err, aside);
    if (rename(o->path, aside) < 0 || mkdir(o->path, 0700) < 0) {
	snprintf(err, errlen, "%s: cannot move the damaged database aside: %s",
		 o->path, strerror(errno));
	return -1;
    }
    return open_env(s, o, err, errlen);
}
