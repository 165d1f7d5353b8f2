/*
 * lmdb_impl.h - the embedded store's handle, shared by store/lmdb.c (the
 * store operations: reads, writes, batches, scans, the flush) and
 * store/lmdb_env.c (the environment: opened, its format checked and
 * upgraded, a damaged one moved aside).
 */
#ifndef MX_STORE_LMDB_IMPL_H
#define MX_STORE_LMDB_IMPL_H

#include <stddef.h>

#include <lmdb.h>

#include "store/store.h"

#define MAX_TABLES	16

struct triplets;
struct store_flush;

struct lmdb {
    struct store base;			/* first: the interface */
    MDB_env *env;
    MDB_dbi dbi[MAX_TABLES];
    char   *names[MAX_TABLES];
    int     ntables;
    MDB_dbi meta;
    int     readonly;
    int     sync_commits;
    char   *path;
    MDB_txn *rtxn;			/* reused read transaction (reset/renew) */
    int     reading;			/* held open by store_read_begin() */
    MDB_txn *rcur;			/* what reads use while reading */

    /* group commit */
    int     batching;
    MDB_txn *wtxn;			/* the open batch */
    int     wfailed;			/* a write failed: the batch is lost */
    struct waiter {
	store_cb cb;
	void   *arg;
	enum store_status st;
	long    pend;			/* a triplet write at commit, or -1 */
	const char *service;		/* the writer's log name */
    }      *waiters;
    size_t  nwaiters, waiters_cap;

    struct triplets *tr;		/* "triplets" in a hash file, or NULL */

    struct store_flush *flusher;	/* store_sync's thread, once asked */
};

/* lmdb_tables - the tables this version knows, NULL-terminated */
extern const char *const lmdb_tables[];

/* lmdb_env_open - the directory, environment and tables, the format
 * checked (and upgraded); a database that cannot be opened is moved
 * aside and a new one made if o->on_corrupt says so.  -1 and err */
int     lmdb_env_open(struct lmdb *s, const struct store_opts *o, char *err, size_t errlen);

/* lmdb_env_release - the environment closed, the table names freed */
void    lmdb_env_release(struct lmdb *s);

#endif
