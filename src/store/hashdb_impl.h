/*
 * hashdb_impl.h - the layout of the hash file, shared by hashdb.c (reads,
 * writes, splits), hashdb_open.c (open, create, close) and hashdb_walk.c
 * (scan, check, free-list rebuild).
 *
 * The file is 4096-byte pages in host byte order (an endian mark in the
 * header refuses a file from another kind of host).  It is mapped
 * read-only and written with pwrite(2): a store through a shared writable
 * map costs a write fault on every page after each flush to disk (the
 * kernel write-protects a page to clean it), which at a million triplets
 * is most of a request's time; pwrite lands in the same page cache, in
 * order, and survives kill -9 as well.  An insert is two pwrites: the
 * record past the page's used end, then the fill word that takes it in
 * (one write's bytes may land in any order, so one write of both could
 * show a reader without the lock the new fill word before the record).
 *
 *	page 0		the header (struct hdb_header)
 *	directory	2^depth page numbers (u32) in consecutive pages; the
 *			header's dirword (first page << 8 | depth) names it
 *			and switches in one aligned 64-bit store
 *	buckets		struct hdb_bucket: a fill word (bytes used | records
 *			<< 16) published by one aligned store after the
 *			record it adds is written; local depth; records
 *	free pages	type HDB_FREE, the next free page in "next"
 *
 * A record: key length (1 byte below 128, else 2: 0x80|high, low),
 * stored value length (1 byte), flags (HDB_R_DEAD, HDB_R_COMPACT), a tag
 * (the hash's low byte: most non-matching records cost no memcmp), the
 * key, the value.  A key's records are all in dir[hash >> (64 - depth)];
 * the last live one is its value (an update appends the new record and
 * leaves the old one live: the newer wins, a reader finds one or the
 * other, and the next rewrite, or a writing scan, drops the older; a
 * delete marks every copy dead).
 *
 * A bucket is split or compacted copy-on-write: the new pages are written
 * whole, the plan (old page, new pages, directory range) is recorded in
 * the header's intent fields, the directory entries that still name the
 * old page are repointed one aligned store each, the old page is freed
 * and the intent cleared.  A writer that takes the lock after a kill -9
 * finds the intent and finishes the repointing (idempotent), so every key
 * stays reachable in exactly one bucket.  Every structural change bumps
 * the header's generation before anything it freed can be reused:
 * hashdb_get without the lock reads the generation and the intent before
 * and after, and tries again if they moved (or, after a miss, if the
 * bucket's fill word did).
 */
#ifndef MX_STORE_HASHDB_IMPL_H
#define MX_STORE_HASHDB_IMPL_H

#include <stdint.h>

#include "store/hashdb.h"

#define HDB_PAGE	4096
#define HDB_BHDR	16
#define HDB_DATA	(HDB_PAGE - HDB_BHDR)
#define HDB_VERSION	1
#define HDB_ENDIAN	0x01020304u
#define HDB_DEPTH_MAX	24		/* a 64 MB directory */
#define HDB_BUCKET	0xB7
#define HDB_FREE	0xF7
#define HDB_R_DEAD	1
#define HDB_R_COMPACT	2
#define HDB_RECS_MAX	(HDB_DATA / 4)	/* the shortest record is 4 bytes */
#define HDB_READ_TRIES	64		/* then a reader takes a shared lock */

struct hdb_header {
    char    magic[8];			/* "mxshhdb\n" */
    uint32_t version;
    uint32_t page_size;
    uint32_t endian;
    uint32_t flags;			/* HASHDB_F_* */
    uint64_t dirword;			/* directory page << 8 | depth */
    uint64_t generation;		/* bumped by every structural change */
    uint64_t sipkey[2];			/* bucket placement: random per file */
    uint64_t count;			/* live records */
    uint32_t npages;			/* pages in use (the file may be longer) */
    uint32_t freehead;			/* first free page, 0: none */
    uint32_t intent;			/* 1: the repointing below is under way */
    uint32_t i_old, i_b0, i_b1, i_base, i_half, i_n, i_depth;
};

struct hdb_bucket {
    uint32_t fill;			/* used bytes | records << 16 */
    uint8_t type;			/* HDB_BUCKET or HDB_FREE */
    uint8_t ld;				/* local depth */
    uint16_t pad;
    uint32_t next;			/* free pages: the next one */
    uint32_t pad2;
    unsigned char data[HDB_DATA];
};

/* one record that counts: its offset in data[] and its keyed hash */
struct hdb_item {
    uint64_t hash;
    unsigned off;
};

struct hashdb {
    int     fd;
    int     readonly;
    unsigned char *map;
    size_t  mapsize;
    uint32_t maxpages;			/* what the map can hold */
    uint32_t filepages;			/* the file's length as last seen */
    int     locks;			/* nesting of hashdb_lock */
    int     failed;			/* a write to the file failed */
    long    dcount;			/* records added under the lock, not yet
					 * in the header's count (written at
					 * unlock; recounted at a writer's open) */
    char   *file;
    uint64_t mix;			/* odd, random per handle: hdb_live's table */
    struct hdb_item *items;		/* HDB_RECS_MAX: rewrite's and the walk's */
    unsigned long live_recs;		/* hdb_live: records looked at, and */
    unsigned long live_probes;		/* key comparisons (tests: linear) */
    size_t  vlen;				/* hashdb_get's value: its length */
    unsigned char vbuf[HASHDB_VALUE_MAX + 16];	/* the value handed out */
};

/* one parsed record */
struct hdb_rec {
    unsigned off, len;			/* in data[] */
    unsigned klen, vlen;
    uint8_t flags, tag;
    const unsigned char *key, *val;
};

#define HDR(h)		((struct hdb_header *) (h)->map)
#define PAGE(h, p)	((struct hdb_bucket *) ((h)->map + (size_t) (p) * HDB_PAGE))
#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
/* PUT - a field of the map written through the file (hdb_write) */
#define PUT(h, x, v)	do { \
	__typeof__(x) v_ = (v); \
	hdb_write((h), &(x), &v_, sizeof(v_)); \
    } while (0)

uint64_t hdb_hash(const struct hashdb *h, const void *key, size_t klen);
int     hdb_valid_page(struct hashdb *h, uint32_t p, uint32_t npages);
int     hdb_dir(struct hashdb *h, uint32_t **dir, int *depth);
size_t  hdb_live(struct hashdb *h, struct hdb_bucket *b, unsigned used, struct hdb_item *it,
		         int kill);
unsigned hdb_used(const struct hdb_bucket *b);
size_t  hdb_value_out(struct hashdb *h, const struct hdb_rec *r);
void    hdb_kill(struct hashdb *h, struct hdb_bucket *b, const struct hdb_rec *r);
int     hdb_write(struct hashdb *h, const void *at, const void *src, size_t len);
int     hdb_walk(struct hashdb *h, int rebuild, char *err, size_t errlen);
void    hdb_init_bucket(struct hdb_bucket *b, int ld);
void    hdb_apply_intent(struct hashdb *h);

/* hdb_parse - the record at off, if it lies whole inside used; -1 if not */
static inline int hdb_parse(const struct hdb_bucket *b, unsigned used, unsigned off,
			            struct hdb_rec *r)
{
    const unsigned char *d = b->data;
    unsigned hl = 4;

    if (off + 4 > used)
	return -1;
    r->klen = d[off];
    if (r->klen & 0x80) {
	r->klen = (r->klen & 0x7f) << 8 | d[off + 1];
	hl = 5;
	if (off + 5 > used)
	    return -1;
    }
    r->vlen = d[off + hl - 3];
    r->flags = __atomic_load_n(&d[off + hl - 2], __ATOMIC_ACQUIRE);
    r->tag = d[off + hl - 1];
    r->len = hl + r->klen + r->vlen;
    if (off + r->len > used)
	return -1;
    r->off = off;
    r->key = d + off + hl;
    r->val = r->key + r->klen;
    return 0;
}

static inline uint32_t hdb_index(uint64_t hash, int depth)
{
    return depth ? (uint32_t) (hash >> (64 - depth)) : 0;
}

#endif
