/*
 * hashdb.h - an extendible hash file for the local store's largest table
 * ("triplets"): an insert is a few cache lines in a shared file mapping.
 *
 * SYNOPSIS
 *	h = hashdb_open("/var/lib/mxshield/triplets.db", map_size, readonly,
 *			err, sizeof(err));
 *	st = hashdb_get(h, key, klen, &val, &vlen);
 *	st = hashdb_put(h, key, klen, val, vlen);
 *	st = hashdb_del(h, key, klen);
 *	n = hashdb_scan(h, cursor, sizeof(cursor), &clen, max, fn, arg);
 *	n = hashdb_count(h);
 *	rc = hashdb_sync(h);
 *	hashdb_lock(h); ... hashdb_unlock(h);
 *	hashdb_close(h);
 *
 * DESCRIPTION
 *	Keys and values are bytes, as the store API gives them; hashdb_get
 *	returns exactly the bytes hashdb_put was given.  Results are
 *	enum store_status (STORE_OK, STORE_NOTFOUND, STORE_ERROR).  A value
 *	returned by hashdb_get, or handed to a scan's fn, is valid until
 *	the next call on the handle.
 *
 *	Every write is in the kernel's page cache before the call returns
 *	(pwrite: it survives kill -9 at any moment, an append's fill word
 *	written last commits it; hashdb_sync takes it to the disk).  The
 *	file is mapped read-only for reading.  Writers in several processes
 *	serialise with flock(2) on the
 *	file, taken per write, per scan, or from hashdb_lock to
 *	hashdb_unlock; readers take no lock.  hashdb_get without the lock
 *	never reports a present key missing while another process splits,
 *	compacts or grows the file, and returns only a value that was
 *	stored for the key (it tries again when the structure moved under
 *	it; under the lock it reads once).
 *
 *	hashdb_scan visits records in the order of their keyed hash; the
 *	cursor is 8 bytes (a hash), fn as for store_scan (1: delete).
 *
 * DIAGNOSTICS
 *	hashdb_open refuses (NULL, err) a file that is not a hash file of
 *	this version, or whose structure is damaged when opened for writing
 *	(hashdb_check).  Read-only handles check every page number and
 *	record against the file and the page: a damaged file reads as
 *	missing records or STORE_ERROR, never outside the map.  A full map
 *	(store_map_size) is STORE_ERROR.
 */
#ifndef MX_STORE_HASHDB_H
#define MX_STORE_HASHDB_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define HASHDB_KEY_MAX		511	/* as LMDB's: the store's key limit */
#define HASHDB_VALUE_MAX	255
#define HASHDB_F_MIGRATED	1u	/* LMDB's "triplets" moved over */

struct hashdb;

struct hashdb *hashdb_open(const char *file, size_t map_size, int readonly,
			           char *err, size_t errlen);
void    hashdb_close(struct hashdb *h);
enum store_status hashdb_get(struct hashdb *h, const void *key, size_t klen,
			             const void **val, size_t *vlen);
enum store_status hashdb_put(struct hashdb *h, const void *key, size_t klen,
			             const void *val, size_t vlen);
enum store_status hashdb_del(struct hashdb *h, const void *key, size_t klen);
long    hashdb_scan(struct hashdb *h, char *cursor, size_t cursor_size, size_t *cursor_len,
		            long max, store_scan_fn fn, void *arg);
long    hashdb_count(struct hashdb *h);
int     hashdb_sync(struct hashdb *h);
int     hashdb_lock(struct hashdb *h);
void    hashdb_unlock(struct hashdb *h);

/* hashdb_flags / hashdb_set_flag - the header's flag word (HASHDB_F_*) */
unsigned hashdb_flags(struct hashdb *h);
int     hashdb_set_flag(struct hashdb *h, unsigned flag);

/* hashdb_check - walk the whole structure; 0, or -1 and why */
int     hashdb_check(struct hashdb *h, char *err, size_t errlen);

/* hashdb_stats - pages in the file, directory depth (tests, bench) */
void    hashdb_stats(struct hashdb *h, long *npages, int *depth);

#endif
