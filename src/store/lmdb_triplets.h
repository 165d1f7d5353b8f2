/*
 * lmdb_triplets.h - the local store's "triplets" table in a hash file of
 * its own (store/hashdb.c), triplets.db beside LMDB's data.mdb.
 *
 * SYNOPSIS
 *	t = triplets_open(o, env, dbi, err, errlen);
 *	st = triplets_write(t, key, klen, val, vlen);	(val NULL: delete)
 *	i = triplets_queue(t, key, klen, val, vlen);
 *	triplets_apply(t); st = triplets_status(t, i);
 *	triplets_pass_end(t);
 *	triplets_close(t);
 *
 * DESCRIPTION
 *	triplets_open opens or creates the hash file (read-only: opens it
 *	only if it exists and holds the table; NULL with err empty means
 *	"read LMDB's table").  Opened for writing, a database whose LMDB
 *	"triplets" still has records has them moved over first: copied,
 *	then the file marked, then LMDB's table emptied, so that an
 *	interrupted move is done again at the next open.
 *
 *	triplets_write writes at once.  triplets_queue keeps a batch's
 *	write until triplets_apply (store_commit: reads never see an open
 *	batch); triplets_status is then its result.  triplets_sticky(t)
 *	keeps the writers' lock from a write to a triplets_pass_end at
 *	least TRIPLETS_HOLD_MS (10 ms) later (the daemon: not two system
 *	calls per write or per pass), which also syncs with
 *	store_sync_commits.
 */
#ifndef MX_STORE_LMDB_TRIPLETS_H
#define MX_STORE_LMDB_TRIPLETS_H

#include <lmdb.h>

#include "store/hashdb.h"
#include "store/store.h"

struct triplets;

struct triplets *triplets_open(const struct store_opts *o, MDB_env *env, MDB_dbi dbi,
			               char *err, size_t errlen);
void    triplets_close(struct triplets *t);
struct hashdb *triplets_db(struct triplets *t);
enum store_status triplets_write(struct triplets *t, const void *key, size_t klen,
				         const void *val, size_t vlen);
long    triplets_queue(struct triplets *t, const void *key, size_t klen,
		               const void *val, size_t vlen);
void    triplets_apply(struct triplets *t);
enum store_status triplets_status(struct triplets *t, long i);
void    triplets_sticky(struct triplets *t);
int     triplets_pass_end(struct triplets *t);
/* triplets_release_due_ms - ms until a pass's end releases the lock held
 * across passes; -1: not held */
long    triplets_release_due_ms(const struct triplets *t);

#endif
