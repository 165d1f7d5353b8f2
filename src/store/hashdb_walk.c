/*
 * hashdb_walk.c - what visits the whole hash file: the scan (expiry,
 * listing, migration) and the consistency check, which at a writer's open
 * also rebuilds the free list and the record count.
 *
 * The scan goes through the directory in slot order, and within a bucket
 * in hash order: its cursor is the hash of the next record (8 bytes), so
 * it stays right across splits and doublings between two calls.  A
 * reader racing a writer in another process (no lock) may see a record
 * twice (a split between two calls), never miss one.  Keys with the same 64-bit hash
 * are visited in one call (a batch may pass max for them), so that every
 * call moves the cursor on.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "store/hashdb_impl.h"
#include "util/mem.h"

static int by_hash(const void *a, const void *b)
{
    const struct hdb_item *x = a, *y = b;

    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* collect - the live records of bucket b in slots [lo, hi) from start,
 * in hash order; a writer kills superseded copies on the way (hdb_live) */
static size_t collect(struct hashdb *h, struct hdb_bucket *b, int d, uint32_t lo,
		              uint32_t hi, uint64_t start, struct hdb_item *it, int writes)
{
    size_t  n = hdb_live(h, b, hdb_used(b), it, writes), m = 0;

    for (size_t k = 0; k < n; k++) {
	uint32_t ix = hdb_index(it[k].hash, d);

	if (ix >= lo && ix < hi && it[k].hash >= start)
	    it[m++] = it[k];
    }
    qsort(it, m, sizeof(*it), by_hash);
    return m;
}

/*
 * hashdb_scan - under the lock (a writing scan, or the caller's) the
 * pages are read in place.  Without it each bucket is copied and the copy
 * used only if the generation and the intent did not move meanwhile (as
 * hashdb_get), from a directory read again for each bucket: a record
 * present throughout a scan is visited, however the file splits and
 * grows under it.
 */
long    hashdb_scan(struct hashdb *h, char *cursor, size_t cursor_size, size_t *cursor_len,
		            long max, store_scan_fn fn, void *arg)
{
    int     writes = fn != NULL && !h->readonly, d, tries = 0, shared = 0;
    int     snapping = !writes && h->locks == 0;
    struct hdb_bucket *snap = NULL;
    struct hdb_header *hd = HDR(h);
    uint64_t start = 0, total = 0, gen = 0;
    struct hdb_item *it;
    uint32_t *dir, i;
    long    n = 0;

    if (writes && hashdb_lock(h) < 0)
	return -1;
    if (*cursor_len == 8)
	for (int k = 0; k < 8; k++)
	    start = start << 8 | (unsigned char) cursor[k];
    *cursor_len = 0;
    it = xmalloc(HDB_RECS_MAX * sizeof(*it));
    if (snapping)
	snap = xmalloc(sizeof(*snap));
    for (;;) {
	struct hdb_bucket *b = NULL;
	uint32_t p, j = 0;
	int     moved;

	if (snapping && !shared) {
	    if (tries > 8)
		sched_yield();
	    if (tries == HDB_READ_TRIES) {
		while ((moved = flock(h->fd, LOCK_SH)) < 0 && errno == EINTR)
		     /* void */ ;
		if (moved < 0) {
		    n = -1;
		    goto out;
		}
		shared = 1;			/* no writer now */
	    }
	    gen = LOAD(hd->generation);
	    if (!shared && LOAD(hd->intent)) {
		tries++;
		continue;
	    }
	}
	if (hdb_dir(h, &dir, &d) == 0) {
	    total = 1ULL << d;
	    i = hdb_index(start, d);
	    p = LOAD(dir[i]);
	    for (j = i + 1; j < total && LOAD(dir[j]) == p; j++)
		 /* void */ ;
	    if (hdb_valid_page(h, p, LOAD(hd->npages)) && PAGE(h, p)->type == HDB_BUCKET) {
		b = PAGE(h, p);
		if (snapping) {
		    /* the fill word first (acquire): the records it takes in
		     * were written before it, so the copy holds them whole */
		    uint32_t f = LOAD(b->fill);

		    b = memcpy(snap, b, sizeof(*snap));
		    b->fill = f;
		}
	    }
	} else {
	    d = -1;
	}
	if (snapping && !shared) {
	    __atomic_thread_fence(__ATOMIC_ACQUIRE);	/* the copy made before */
	    moved = LOAD(hd->intent) || LOAD(hd->generation) != gen;
	    if (moved) {
		tries++;
		continue;
	    }
	}
	tries = 0;
	if (d < 0) {
	    n = -1;
	    goto out;
	}
	if (b != NULL) {
	    size_t  m = collect(h, b, d, i, j, start, it, writes);

	    for (size_t k = 0; k < m; k++) {
		struct hdb_rec r;
		size_t  vlen;
		int     verdict;

		if (n >= max && (k == 0 || it[k].hash != it[k - 1].hash)) {
		    if (cursor_size >= 8) {
			for (int q = 0; q < 8; q++)
			    cursor[q] = (char) (it[k].hash >> (56 - 8 * q));
			*cursor_len = 8;
		    }
		    goto out;
		}
		if (hdb_parse(b, hdb_used(b), it[k].off, &r) < 0)
		    continue;
		n++;
		vlen = hdb_value_out(h, &r);
		verdict = fn ? fn(arg, r.key, r.klen, h->vbuf, vlen) : 0;
		if (verdict < 0)
		    goto out;
		if (verdict == 1 && writes) {
		    hdb_kill(h, b, &r);
		    h->dcount--;
		}
	    }
	}
	if (j >= total)
	    break;
	start = (uint64_t) j << (64 - d);
    }
out:
    free(it);
    free(snap);
    if (shared)
	flock(h->fd, LOCK_UN);
    if (writes)
	hashdb_unlock(h);
    return n;
}

#define MARK(m, p)	((m)[(p) / 8] |= (unsigned char) (1u << ((p) % 8)))
#define MARKED(m, p)	((m)[(p) / 8] & (1u << ((p) % 8)))

/* bucket_ok - every record inside the page, the count as published; the
 * live records that belong to slots [lo, hi) counted (a stray left by a
 * damaged file is never found, and a rewrite drops it) */
static int bucket_ok(struct hashdb *h, struct hdb_bucket *b, int d, uint64_t lo,
		             uint64_t hi, uint64_t *live)
{
    uint32_t fill = b->fill;
    unsigned used = fill & 0xffff, off = 0, n = 0;
    struct hdb_rec r;
    size_t  m;

    if (used > HDB_DATA)
	return -1;
    for (; off < used; off += r.len, n++)
	if (hdb_parse(b, used, off, &r) < 0)
	    return -1;
    m = hdb_live(h, b, used, h->items, 0);
    for (size_t k = 0; k < m; k++) {
	uint32_t ix = hdb_index(h->items[k].hash, d);

	*live += ix >= lo && ix < hi;
    }
    return n == fill >> 16 ? 0 : -1;
}

/*
 * hdb_walk - the directory names each bucket over exactly its aligned
 * range, no page twice, every record inside its page; with rebuild
 * (a writer, under the lock) every page reached by nothing is put on the
 * free list and the live records counted.
 */
int     hdb_walk(struct hashdb *h, int rebuild, char *err, size_t errlen)
{
    struct hdb_header *hd = HDR(h);
    uint32_t np = LOAD(hd->npages), *dir, first;
    unsigned char *seen;
    uint64_t live = 0, total;
    int     d, rc = -1;

    if (hdb_dir(h, &dir, &d) < 0) {
	snprintf(err, errlen, "%s: hash file directory is damaged", h->file);
	return -1;
    }
    seen = xcalloc((size_t) np / 8 + 1, 1);
    MARK(seen, 0);
    first = (uint32_t) (LOAD(hd->dirword) >> 8);
    for (uint32_t j = 0; j < ((4UL << d) + HDB_PAGE - 1) / HDB_PAGE; j++)
	MARK(seen, first + j);
    total = 1ULL << d;
    for (uint64_t i = 0; i < total;) {
	uint32_t p = LOAD(dir[i]);
	struct hdb_bucket *b;
	uint64_t span;

	if (!hdb_valid_page(h, p, np) || MARKED(seen, p)) {
	    snprintf(err, errlen, "%s: hash file directory slot %lu names page %u wrongly",
		     h->file, (unsigned long) i, (unsigned) p);
	    goto out;
	}
	b = PAGE(h, p);
	span = b->ld <= d ? 1ULL << (d - b->ld) : 0;
	if (b->type != HDB_BUCKET || span == 0 || (i & (span - 1)) != 0) {
	    snprintf(err, errlen, "%s: hash file page %u is not the bucket its slot needs",
		     h->file, (unsigned) p);
	    goto out;
	}
	for (uint64_t j = i; j < i + span; j++)
	    if (LOAD(dir[j]) != p) {
		snprintf(err, errlen, "%s: hash file directory slot %lu is inconsistent",
			 h->file, (unsigned long) j);
		goto out;
	    }
	if (bucket_ok(h, b, d, i, i + span, &live) < 0) {
	    snprintf(err, errlen, "%s: hash file bucket page %u is damaged", h->file,
		     (unsigned) p);
	    goto out;
	}
	MARK(seen, p);
	i += span;
    }
    if (rebuild) {
	uint32_t head = 0;

	for (uint32_t p = np - 1; p >= 1; p--) {
	    struct hdb_bucket fb;

	    if (MARKED(seen, p))
		continue;
	    memset(&fb, 0, HDB_BHDR);
	    fb.type = HDB_FREE;
	    fb.next = head;
	    hdb_write(h, PAGE(h, p), &fb, HDB_BHDR);
	    head = p;
	}
	PUT(h, hd->freehead, head);
	PUT(h, hd->count, live);
	if (h->failed) {
	    snprintf(err, errlen, "%s: cannot write the hash file", h->file);
	    goto out;
	}
    } else if (live != LOAD(hd->count)) {
	snprintf(err, errlen, "%s: hash file counts %lu records, holds %lu", h->file,
		 (unsigned long) LOAD(hd->count), (unsigned long) live);
	goto out;
    }
    rc = 0;
out:
    free(seen);
    return rc;
}

/* hashdb_check - the walk without changing anything */
int     hashdb_check(struct hashdb *h, char *err, size_t errlen)
{
    return hdb_walk(h, 0, err, errlen);
}
