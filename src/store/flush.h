/*
 * flush.h - a flush to disk on a helper thread, asked for from the event
 * loop, which never waits for it.
 *
 * SYNOPSIS
 *	f = store_flush_start(fn, ctx, err, errlen);
 *	rc = store_flush_ask(f, &busy);
 *	rc = store_flush_stop(f);
 *
 * DESCRIPTION
 *	store_flush_start() starts a thread (every signal blocked: they are
 *	the loop's) that calls fn(ctx) each time it is asked to.  fn runs on
 *	that thread only and must touch nothing the loop changes without a
 *	lock (LMDB's mdb_env_sync() only msyncs the map).
 *
 *	store_flush_ask() asks for a flush and returns at once.  If one is
 *	running, the next starts when it ends (writes made meanwhile are in
 *	it); *busy is then set, once per such flush, for the caller to log.
 *	It returns how the last flush that ended since the previous ask did
 *	(fn's result: 0 for success).
 *
 *	store_flush_stop() waits for a flush in progress (none is started
 *	after it is called), ends the thread and returns the result of a
 *	flush that ended unreported, or 0.
 *
 * DIAGNOSTICS
 *	store_flush_start() returns NULL (err says why) if no thread can be
 *	had.
 */
#ifndef MX_STORE_FLUSH_H
#define MX_STORE_FLUSH_H

#include <stddef.h>

struct store_flush;

struct store_flush *store_flush_start(int (*fn) (void *ctx), void *ctx,
				              char *err, size_t errlen);
int     store_flush_ask(struct store_flush *f, int *busy);
int     store_flush_stop(struct store_flush *f);

#endif
