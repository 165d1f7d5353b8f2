/*
 * hashdb.c - the extendible hash file: get, put, delete, and the
 * copy-on-write bucket splits and directory doublings behind put.
 *
 * The layout and the crash argument are in hashdb_impl.h; opening,
 * creating and closing the file in hashdb_open.c; the scan, the
 * consistency check and the free-list rebuild in hashdb_walk.c.
 *
 * Triplet values (store/encode.h: version 1, kind 1, two big-endian
 * 64-bit times, an optional client address) whose times fit 32 bits are
 * kept without the header and the zero high halves (8 bytes instead of
 * 18); hashdb_get rebuilds the exact bytes.  Any other value is kept as
 * it is.
 *
 * The file grows by ftruncate in chunks inside one mapping reserved at
 * open (store_map_size): no page past the end of the file is touched, and
 * a full map is STORE_ERROR, as LMDB's MDB_MAP_FULL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/encode.h"
#include "store/hashdb_impl.h"
#include "util/log.h"
#include "util/mem.h"


/* hdb_hash - SipHash-2-4 of the key under the file's random key */
#define ROTL(x, b) (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

/*
 * skew - a uniform hash made twice as dense at one end of the hash space
 * as at the other (the top 32 bits through u(4 - u)/3, u in [0, 1)).
 * With uniform hashing every bucket fills at the same pace and they all
 * split at about the same time, so the pages' fill swings between a half
 * and nine tenths as the table grows (bytes per record with it); skewed,
 * buckets at different places of the directory are at different stages
 * and the fill stays near its mean (spiral storage's idea).  Integer
 * arithmetic: the same bucket on every host.
 */
static uint64_t skew(uint64_t x)
{
    unsigned __int128 u = x >> 32;
    uint64_t g = (uint64_t) (u * (((unsigned __int128) 4 << 32) - u) / ((unsigned __int128) 3 << 32));

    return g << 32 | (x & 0xffffffffu);
}

uint64_t hdb_hash(const struct hashdb *h, const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t k0 = HDR(h)->sipkey[0], k1 = HDR(h)->sipkey[1];
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t m, b = (uint64_t) klen << 56;
    size_t  i, n = klen & ~(size_t) 7;

    for (i = 0; i < n; i += 8) {
	memcpy(&m, p + i, 8);		/* little-endian hosts (the endian mark) */
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
    }
    for (size_t j = 0; i + j < klen; j++)
	b |= (uint64_t) p[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return skew(v0 ^ v1 ^ v2 ^ v3);
}

/* hdb_valid_page - p is a page of the file, inside the map and npages */
int     hdb_valid_page(struct hashdb *h, uint32_t p, uint32_t npages)
{
    struct stat st;

    if (p < 1 || p >= npages || p >= h->maxpages)
	return 0;
    if (p < h->filepages)
	return 1;
    /* another process grew the file: look again before believing it */
    if (fstat(h->fd, &st) < 0)
	return 0;
    h->filepages = (uint32_t) ((size_t) st.st_size / HDB_PAGE > h->maxpages
			       ? h->maxpages : (size_t) st.st_size / HDB_PAGE);
    return p < h->filepages;
}

/* hdb_dir - the directory and its depth, if they lie inside the file */
int     hdb_dir(struct hashdb *h, uint32_t **dir, int *depth)
{
    uint64_t dw = LOAD(HDR(h)->dirword);
    uint32_t np = LOAD(HDR(h)->npages), first = (uint32_t) (dw >> 8);
    int     d = (int) (dw & 0xff);
    uint32_t pages;

    if (d > HDB_DEPTH_MAX)
	return -1;
    pages = (uint32_t) (((4UL << d) + HDB_PAGE - 1) / HDB_PAGE);
    if (!hdb_valid_page(h, first, np) || !hdb_valid_page(h, first + pages - 1, np))
	return -1;
    *dir = (uint32_t *) PAGE(h, first);
    *depth = d;
    return 0;
}

/* hdb_used - a bucket's used bytes as published, bounded by the page */
unsigned hdb_used(const struct hdb_bucket *b)
{
    unsigned used = LOAD(b->fill) & 0xffff;

    return used > HDB_DATA ? HDB_DATA : used;
}

/* same - the record is live and holds this key */
static int same(const struct hdb_rec *r, uint8_t tag, const void *key, size_t klen)
{
    return r->tag == tag && r->klen == klen && !(r->flags & HDB_R_DEAD)
	&& memcmp(r->key, key, klen) == 0;
}

/*
 * hdb_live - the records of page b that count: live, tagged with their
 * hash (as get looks for them), and not superseded by a later live copy
 * of their key (these two only in a damaged file), in
 * page order with their hashes, into it[HDB_RECS_MAX]; how many.  One
 * pass forward for the offsets, one backward remembering the keys seen in
 * an open-addressed table on the stack (the slot from the keyed hash and
 * the handle's random odd multiplier), so the work is linear in the page
 * whatever it holds.  With kill (a writer under the lock) a superseded
 * copy is marked dead as found, so that deleting the key's newest copy
 * (a scan's verdict) cannot bring an older one back.
 */
#define HDB_LIVE_SLOTS	2048		/* a power of 2, twice HDB_RECS_MAX or more */

_Static_assert(HDB_LIVE_SLOTS >= 2 * HDB_RECS_MAX, "hdb_live's table at most half full");

size_t  hdb_live(struct hashdb *h, struct hdb_bucket *b, unsigned used, struct hdb_item *it,
		         int kill)
{
    uint16_t slot[HDB_LIVE_SLOTS];	/* index + 1 in it[]; 0: empty */
    struct hdb_rec r, o;
    size_t  n = 0, m = 0;
    unsigned bits = 2;

    for (unsigned off = 0; n < HDB_RECS_MAX && hdb_parse(b, used, off, &r) == 0; off += r.len)
	if (!(r.flags & HDB_R_DEAD))
	    it[n++].off = off;
    while ((1u << bits) < 2 * n)
	bits++;
    memset(slot, 0, sizeof(slot[0]) << bits);
    h->live_recs += n;
    for (size_t i = n; i-- > 0;) {
	uint32_t s;

	if (hdb_parse(b, used, it[i].off, &r) < 0) {
	    it[i].off = UINT32_MAX;
	    continue;
	}
	it[i].hash = hdb_hash(h, r.key, r.klen);
	if (r.tag != (uint8_t) it[i].hash) {
	    it[i].off = UINT32_MAX;		/* damaged: get never finds it */
	    continue;
	}
	s = (uint32_t) ((it[i].hash * h->mix) >> (64 - bits));
	for (;; s = (s + 1) & ((1u << bits) - 1)) {
	    size_t  j;

	    h->live_probes++;
	    if (slot[s] == 0) {
		slot[s] = (uint16_t) (i + 1);
		break;
	    }
	    j = slot[s] - 1u;
	    if (it[j].hash == it[i].hash && hdb_parse(b, used, it[j].off, &o) == 0
		&& same(&o, r.tag, r.key, r.klen)) {
		if (kill)
		    hdb_kill(h, b, &r);
		it[i].off = UINT32_MAX;		/* superseded */
		break;
	    }
	}
    }
    for (size_t i = 0; i < n; i++)
	if (it[i].off != UINT32_MAX)
	    it[m++] = it[i];
    return m;
}

/* hdb_write - len bytes at a place of the map, through the file; -1
 * (logged, h->failed) if the file system refuses (ENOSPC, EIO) */
int     hdb_write(struct hashdb *h, const void *at, const void *src, size_t len)
{
    off_t   off = (off_t) ((const unsigned char *) at - h->map);
    ssize_t n;

    while ((n = pwrite(h->fd, src, len, off)) < 0 && errno == EINTR)
	 /* void */ ;
    if (n == (ssize_t) len) {
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* in order, for readers */
	return 0;
    }
    if (!h->failed)
	msg_warn("store: %s: write: %s", h->file, n < 0 ? strerror(errno) : "short write");
    h->failed = 1;
    return -1;
}

/* hdb_kill - mark a record dead (one byte written) */
void    hdb_kill(struct hashdb *h, struct hdb_bucket *b, const struct hdb_rec *r)
{
    const unsigned char *f = b->data + r->off + (r->len - r->klen - r->vlen) - 2;
    unsigned char v = (unsigned char) (*f | HDB_R_DEAD);

    hdb_write(h, f, &v, 1);
}

/* hdb_value_out - the value as it was given, into h->vbuf; its length */
size_t  hdb_value_out(struct hashdb *h, const struct hdb_rec *r)
{
    unsigned char *o = h->vbuf;

    if (!(r->flags & HDB_R_COMPACT) || r->vlen < 8) {
	memcpy(o, r->val, r->vlen);
	return r->vlen;
    }
    o[0] = STORE_VALUE_VERSION;
    o[1] = STORE_KIND_TRIPLET;
    memset(o + 2, 0, 4);
    memcpy(o + 6, r->val, 4);
    memset(o + 10, 0, 4);
    memcpy(o + 14, r->val + 4, r->vlen - 4);
    return r->vlen + 10;
}

/* compact - the stored form of a value: 8 bytes of times for a triplet
 * whose times fit 32 bits; its length, *flags gets HDB_R_COMPACT */
static size_t compact(const unsigned char *v, size_t len, unsigned char *out, uint8_t *flags)
{
    static const unsigned char zero[4];

    *flags = 0;
    if ((len == 18 || len == 18 + 5 || len == 18 + 17)
	&& v[0] == STORE_VALUE_VERSION && v[1] == STORE_KIND_TRIPLET
	&& memcmp(v + 2, zero, 4) == 0 && memcmp(v + 10, zero, 4) == 0) {
	memcpy(out, v + 6, 4);
	memcpy(out + 4, v + 14, len - 14);
	*flags = HDB_R_COMPACT;
	return len - 10;
    }
    memcpy(out, v, len);
    return len;
}

/* locate - the bucket of a hash: page, directory slot, depth */
static struct hdb_bucket *locate(struct hashdb *h, uint64_t hash, uint32_t *page,
				         uint32_t *slot, int *depth)
{
    uint32_t *dir, p;
    struct hdb_bucket *b;

    if (hdb_dir(h, &dir, depth) < 0)
	return NULL;
    *slot = hdb_index(hash, *depth);
    p = LOAD(dir[*slot]);
    if (!hdb_valid_page(h, p, LOAD(HDR(h)->npages)))
	return NULL;
    b = PAGE(h, p);
    if (b->type != HDB_BUCKET || b->ld > *depth)
	return NULL;
    *page = p;
    return b;
}

/* find - the newest live record of the key; -1 if none, -2 if damaged */
static int find(const struct hdb_bucket *b, unsigned used, uint8_t tag, const void *key,
		        size_t klen, struct hdb_rec *out)
{
    struct hdb_rec r;
    unsigned off = 0;
    int     found = -1;

    for (; off < used && hdb_parse(b, used, off, &r) == 0; off += r.len) {
	if (same(&r, tag, key, klen)) {
	    *out = r;
	    found = 0;
	}
    }
    return off < used && found < 0 ? -2 : found;
}

/* lookup - one try of hashdb_get: the value into h->vbuf (h->vlen), the
 * bucket's fill word in *fill */
static enum store_status lookup(struct hashdb *h, uint64_t hash, const void *key, size_t klen,
				        struct hdb_bucket **bp, uint32_t *fill, struct hdb_rec *r)
{
    struct hdb_bucket *b;
    uint32_t p, slot;
    int     d, rc;

    if ((*bp = b = locate(h, hash, &p, &slot, &d)) == NULL)
	return STORE_ERROR;
    *fill = LOAD(b->fill);
    if ((rc = find(b, hdb_used(b), (uint8_t) hash, key, klen, r)) == -2)
	return STORE_ERROR;
    if (rc < 0)
	return STORE_NOTFOUND;
    h->vlen = hdb_value_out(h, r);		/* before the page can change */
    return STORE_OK;
}

/*
 * hashdb_get - under the lock (the daemon's own lookups) one try.  A
 * reader without it can race another process's split, compaction or
 * doubling (a page freed and reused under it, an old directory) or an
 * append (the fill word moved on): the generation and the intent are
 * read before and after, and a try during which they changed, or a
 * miss during which the bucket's fill word changed, is made again; a
 * state still moving after HDB_READ_TRIES tries is read under a shared
 * lock.  So a key that is present is never reported missing, and a value
 * returned is one that was stored for the key.
 */
enum store_status hashdb_get(struct hashdb *h, const void *key, size_t klen,
			             const void **val, size_t *vlen)
{
    uint64_t hash = hdb_hash(h, key, klen), gen;
    struct hdb_header *hd = HDR(h);
    struct hdb_bucket *b;
    struct hdb_rec r;
    enum store_status st;
    uint32_t fill;
    int     shared = 0;

    if (h->locks > 0) {
	st = lookup(h, hash, key, klen, &b, &fill, &r);
    } else {
	for (int tries = 0;; tries++) {
	    if (tries == HDB_READ_TRIES) {
		while (flock(h->fd, LOCK_SH) < 0)
		    if (errno != EINTR) {
			msg_warn("store: %s: lock: %s", h->file, strerror(errno));
			return STORE_ERROR;
		    }
		shared = 1;			/* no writer now: one try */
		st = lookup(h, hash, key, klen, &b, &fill, &r);
		break;
	    }
	    if (tries > 8)
		sched_yield();
	    gen = LOAD(hd->generation);
	    if (LOAD(hd->intent))
		continue;
	    st = lookup(h, hash, key, klen, &b, &fill, &r);
	    __atomic_thread_fence(__ATOMIC_ACQUIRE);	/* the page read before */
	    if (LOAD(hd->intent) || LOAD(hd->generation) != gen)
		continue;
	    if (st == STORE_NOTFOUND && LOAD(b->fill) != fill)
		continue;
	    break;
	}
    }
    if (st == STORE_OK) {
	*vlen = h->vlen;
	*val = h->vbuf;
    }
    if (shared)
	flock(h->fd, LOCK_UN);
    return st;
}

/* extend - n new pages at the end, growing the file first; 0 if full */
static uint32_t extend(struct hashdb *h, uint32_t n)
{
    uint32_t np = HDR(h)->npages;

    if ((uint64_t) np + n > h->maxpages)
	return 0;
    if (np + n > h->filepages)
	(void) hdb_valid_page(h, np + n - 1, np + n);	/* another writer grew it? */
    if (np + n > h->filepages) {
	uint64_t want = (uint64_t) np + n;
	uint64_t grow = np / 8 > 256 ? np / 8 : 256;
	struct stat st;

	want = want + grow > h->maxpages ? h->maxpages : want + grow;
	if (fstat(h->fd, &st) == 0 && (uint64_t) st.st_size >= want * HDB_PAGE)
	    want = (uint64_t) st.st_size / HDB_PAGE;	/* never shrink it */
	else if (ftruncate(h->fd, (off_t) (want * HDB_PAGE)) < 0) {
	    msg_warn("store: %s: cannot grow: %s", h->file, strerror(errno));
	    return 0;
	}
	h->filepages = (uint32_t) (want > h->maxpages ? h->maxpages : want);
    }
    PUT(h, HDR(h)->npages, np + n);
    return h->failed ? 0 : np;
}

/* alloc - a page from the free list or the end; 0 if the map is full */
static uint32_t alloc(struct hashdb *h)
{
    uint32_t p = HDR(h)->freehead;

    if (p && hdb_valid_page(h, p, HDR(h)->npages) && PAGE(h, p)->type == HDB_FREE) {
	uint32_t next = PAGE(h, p)->next;

	PUT(h, HDR(h)->freehead, hdb_valid_page(h, next, HDR(h)->npages) ? next : 0);
	return p;
    }
    if (p)
	PUT(h, HDR(h)->freehead, 0);		/* damaged: the next open rebuilds it */
    return extend(h, 1);
}

static void release(struct hashdb *h, uint32_t p)
{
    struct hdb_bucket fb;

    memset(&fb, 0, HDB_BHDR);
    fb.type = HDB_FREE;
    fb.next = HDR(h)->freehead;
    hdb_write(h, PAGE(h, p), &fb, HDB_BHDR);
    PUT(h, HDR(h)->freehead, p);
}

void    hdb_init_bucket(struct hdb_bucket *b, int ld)
{
    memset(b, 0, HDB_BHDR);
    b->type = HDB_BUCKET;
    b->ld = (uint8_t) ld;
}

/* append - a record at the end of a bucket being built in memory; the
 * new used bytes */
static unsigned append(struct hdb_bucket *b, unsigned used, const void *key, size_t klen,
		               const void *val, size_t vlen, uint8_t flags, uint8_t tag)
{
    unsigned char *d = b->data + used;

    if (klen >= 0x80) {
	*d++ = (unsigned char) (0x80 | klen >> 8);
	*d++ = (unsigned char) klen;
    } else {
	*d++ = (unsigned char) klen;
    }
    *d++ = (unsigned char) vlen;
    *d++ = flags;
    *d++ = tag;
    memcpy(d, key, klen);
    memcpy(d + klen, val, vlen);
    return (unsigned) (d + klen + vlen - b->data);
}

/* hdb_apply_intent - finish a recorded repointing (also after a kill -9) */
void    hdb_apply_intent(struct hashdb *h)
{
    struct hdb_header *hd = HDR(h);
    uint32_t *dir;
    int     d;

    if (!hd->intent)
	return;
    if (hdb_dir(h, &dir, &d) == 0 && (int) hd->i_depth == d
	&& (uint64_t) hd->i_base + hd->i_n <= (1ULL << d) && hd->i_half <= hd->i_n
	&& hdb_valid_page(h, hd->i_old, hd->npages) && hdb_valid_page(h, hd->i_b0, hd->npages)
	&& (hd->i_b1 == 0 || hdb_valid_page(h, hd->i_b1, hd->npages))) {
	for (uint32_t j = 0; j < hd->i_n; j++)
	    if (dir[hd->i_base + j] == hd->i_old)
		PUT(h, dir[hd->i_base + j], j < hd->i_half ? hd->i_b0 : hd->i_b1);
	if (PAGE(h, hd->i_old)->type == HDB_BUCKET)
	    release(h, hd->i_old);
    }
    PUT(h, hd->generation, hd->generation + 1);
    if (!h->failed)
	PUT(h, hd->intent, 0);
}

/*
 * rewrite - split (two pages, one more bit of local depth) or compact
 * (one page) the bucket at directory slot `slot`, copy-on-write.  Live
 * records that are not superseded and that belong to the bucket's range
 * are copied.  -1 if the map is full.
 */
static int rewrite(struct hashdb *h, uint32_t old, uint32_t slot, int d, int split)
{
    struct hdb_bucket *ob = PAGE(h, old), nbuf[2], *nb[2] = {&nbuf[0], &nbuf[1]};
    struct hdb_header *hd = HDR(h);
    int     ld = ob->ld;
    uint32_t span = 1u << (d - ld), base = slot & ~(span - 1), np[2] = {0, 0};
    unsigned used = hdb_used(ob), nused[2] = {0, 0}, nrec[2] = {0, 0};
    struct hdb_rec r;
    size_t  n;

    if ((np[0] = alloc(h)) == 0 || (split && (np[1] = alloc(h)) == 0)) {
	if (np[0])
	    release(h, np[0]);
	return -1;
    }
    for (int k = 0; k < 1 + split; k++)
	hdb_init_bucket(nb[k], ld + split);
    n = hdb_live(h, ob, used, h->items, 0);
    for (size_t i = 0; i < n; i++) {
	uint64_t hash = h->items[i].hash;
	uint32_t ix = hdb_index(hash, d);
	int     k;

	if (ix < base || ix >= base + span || hdb_parse(ob, used, h->items[i].off, &r) < 0)
	    continue;				/* a stray from an old split */
	k = split ? (int) (hash >> (63 - ld) & 1) : 0;
	nused[k] = append(nb[k], nused[k], r.key, r.klen, r.val, r.vlen,
			  r.flags & HDB_R_COMPACT, r.tag);
	nrec[k]++;
    }
    /* the new pages whole, then the plan, then the repointing */
    for (int k = 0; k < 1 + split; k++) {
	nb[k]->fill = nused[k] | nrec[k] << 16;
	hdb_write(h, PAGE(h, np[k]), nb[k], HDB_BHDR + nused[k]);
    }
    uint32_t plan[7] = {old, np[0], np[1], base, split ? span / 2 : span, span, (uint32_t) d};

    hdb_write(h, &hd->i_old, plan, sizeof(plan));
    if (h->failed)
	return -1;
    PUT(h, hd->intent, 1);
    hdb_apply_intent(h);
    return h->failed ? -1 : 0;
}

/* grow_dir - double the directory into fresh pages, switch in one store */
static int grow_dir(struct hashdb *h)
{
    struct hdb_header *hd = HDR(h);
    uint32_t *dir, *nd, first, oldfirst, pages, oldpages;
    int     d;

    if (hdb_dir(h, &dir, &d) < 0 || d >= HDB_DEPTH_MAX)
	return -1;
    pages = (uint32_t) (((4UL << (d + 1)) + HDB_PAGE - 1) / HDB_PAGE);
    oldpages = (uint32_t) (((4UL << d) + HDB_PAGE - 1) / HDB_PAGE);
    if ((first = extend(h, pages)) == 0)
	return -1;
    nd = (uint32_t *) PAGE(h, first);
    for (uint32_t j = 0; j < 2u << d; j += HDB_PAGE / 4) {
	uint32_t chunk[HDB_PAGE / 4], m = (2u << d) - j < HDB_PAGE / 4 ? (2u << d) - j
	    : HDB_PAGE / 4;

	for (uint32_t q = 0; q < m; q++)
	    chunk[q] = dir[(j + q) >> 1];
	hdb_write(h, nd + j, chunk, m * 4);
    }
    if (h->failed)
	return -1;
    oldfirst = (uint32_t) (hd->dirword >> 8);
    PUT(h, hd->dirword, (uint64_t) first << 8 | (uint64_t) (d + 1));
    PUT(h, hd->generation, hd->generation + 1);
    for (uint32_t j = 0; j < oldpages; j++)
	release(h, oldfirst + j);
    return 0;
}

int     hashdb_lock(struct hashdb *h)
{
    if (h->readonly)
	return -1;
    if (h->locks++ > 0)
	return 0;
    while (flock(h->fd, LOCK_EX) < 0) {
	if (errno != EINTR) {
	    msg_warn("store: %s: lock: %s", h->file, strerror(errno));
	    h->locks--;
	    return -1;
	}
    }
    hdb_apply_intent(h);			/* a writer killed halfway */
    return 0;
}

/* hashdb_unlock - the count written once for the writes under the lock,
 * then the lock released */
void    hashdb_unlock(struct hashdb *h)
{
    if (h->locks > 0 && --h->locks == 0) {
	if (h->dcount) {
	    PUT(h, HDR(h)->count, HDR(h)->count + (uint64_t) h->dcount);
	    h->dcount = 0;
	}
	flock(h->fd, LOCK_UN);
    }
}

/* write - put (val) or delete (NULL) under the lock */
static enum store_status write_rec(struct hashdb *h, const void *key, size_t klen,
				           const void *val, size_t vlen)
{
    uint64_t hash = hdb_hash(h, key, klen);
    unsigned char sv[HASHDB_VALUE_MAX];
    uint8_t flags = 0;
    size_t  slen = val ? compact(val, vlen, sv, &flags) : 0;
    size_t  need = (klen >= 0x80 ? 5 : 4) + klen + slen;

    for (int tries = 0; tries < 2 * HDB_DEPTH_MAX + 8; tries++) {
	struct hdb_bucket *b;
	struct hdb_rec r;
	uint32_t p, slot, fill;
	unsigned used, dead;
	size_t  n;
	int     d, rc;

	if ((b = locate(h, hash, &p, &slot, &d)) == NULL)
	    return STORE_ERROR;
	fill = b->fill;
	used = hdb_used(b);
	if ((rc = find(b, used, (uint8_t) hash, key, klen, &r)) == -2)
	    return STORE_ERROR;
	if (val == NULL) {
	    if (rc < 0)
		return STORE_NOTFOUND;
	    /* every live copy (hashdb_impl.h) */
	    struct hdb_rec o;

	    for (unsigned off = 0; hdb_parse(b, used, off, &o) == 0; off += o.len)
		if (same(&o, (uint8_t) hash, key, klen))
		    hdb_kill(h, b, &o);
	    h->dcount--;
	    return h->failed ? STORE_ERROR : STORE_OK;
	}
	if (used + need <= HDB_DATA) {
	    /*
	     * The record past the fill word's end first, then the fill word
	     * that takes it in (the commit): a reader without the lock sees
	     * the page without the record or with all of it (one write's
	     * bytes land in no promised order, and the fill word is at the
	     * page's start), and a kill -9 between the two leaves bytes past
	     * the end that the next append overwrites.  An older copy of the
	     * key stays live until a rewrite drops it: the newer wins, and a
	     * reader finds one or the other, never neither.
	     */
	    struct hdb_bucket nb;
	    uint32_t nf;
	    unsigned nu;

	    nu = append(&nb, used, key, klen, sv, slen, flags, (uint8_t) hash);
	    nf = nu | ((fill >> 16) + 1) << 16;
	    if (hdb_write(h, b->data + used, nb.data + used, nu - used) < 0
		|| hdb_write(h, &b->fill, &nf, sizeof(nf)) < 0)
		return STORE_ERROR;
	    if (rc != 0)
		h->dcount++;
	    return STORE_OK;
	}
	/* full: reclaim dead and superseded records if that makes room,
	 * else split (either drops them) */
	dead = used;
	n = hdb_live(h, b, used, h->items, 0);
	for (size_t i = 0; i < n; i++)
	    if (hdb_parse(b, used, h->items[i].off, &r) == 0)
		dead -= r.len;
	if (dead >= need && dead >= HDB_DATA / 8)
	    rc = rewrite(h, p, slot, d, 0);
	else if (b->ld < d)
	    rc = rewrite(h, p, slot, d, 1);
	else
	    rc = grow_dir(h);
	if (rc < 0) {
	    msg_warn("store: %s: the map is full (store_map_size)", h->file);
	    return STORE_ERROR;
	}
    }
    msg_warn("store: %s: cannot place a key (%zu bytes)", h->file, klen);
    return STORE_ERROR;
}

static enum store_status locked_write(struct hashdb *h, const void *key, size_t klen,
				              const void *val, size_t vlen)
{
    enum store_status st;

    if (h->readonly || klen > HASHDB_KEY_MAX || vlen > HASHDB_VALUE_MAX)
	return STORE_ERROR;
    if (hashdb_lock(h) < 0)
	return STORE_ERROR;
    h->failed = 0;
    st = write_rec(h, key, klen, val, vlen);
    if (h->failed)
	st = STORE_ERROR;
    hashdb_unlock(h);
    return st;
}

enum store_status hashdb_put(struct hashdb *h, const void *key, size_t klen,
			             const void *val, size_t vlen)
{
    return locked_write(h, key, klen, val ? val : "", val ? vlen : 0);
}

enum store_status hashdb_del(struct hashdb *h, const void *key, size_t klen)
{
    return locked_write(h, key, klen, NULL, 0);
}

long    hashdb_count(struct hashdb *h)
{
    return (long) LOAD(HDR(h)->count) + h->dcount;
}

unsigned hashdb_flags(struct hashdb *h)
{
    return LOAD(HDR(h)->flags);
}

int     hashdb_set_flag(struct hashdb *h, unsigned flag)
{
    if (hashdb_lock(h) < 0)
	return -1;
    PUT(h, HDR(h)->flags, HDR(h)->flags | flag);
    hashdb_unlock(h);
    return h->failed ? -1 : 0;
}

void    hashdb_stats(struct hashdb *h, long *npages, int *depth)
{
    *npages = (long) LOAD(HDR(h)->npages);
    *depth = (int) (LOAD(HDR(h)->dirword) & 0xff);
}

/* hashdb_sync - the pages in use to the disk */
int     hashdb_sync(struct hashdb *h)
{
    if (h->readonly)
	return 0;
    return fdatasync(h->fd) < 0 ? errno : 0;
}
