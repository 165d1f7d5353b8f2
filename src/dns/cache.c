/*
 * cache.c - the answer cache: a hash table of entries threaded on one
 * least-recently-used list, charged in bytes (see cache.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns/cache.h"
#include "util/log.h"
#include "util/mem.h"

/* the age list: next is newer, prev older; the cache's head links both ends */
struct link {
    struct link *next, *prev;
};

struct entry {
    struct link age;			/* first: an entry is its link */
    struct entry *hnext;		/* bucket chain */
    struct dns_answer *a;
    time_t  expires;
    size_t  bytes;			/* what this entry is charged */
    unsigned long hash;
    char    key[];			/* "type/name" */
};

struct dns_cache {
    struct entry **bucket;
    size_t  mask;			/* buckets - 1, a power of two less one */
    struct link age;			/* age.next the oldest, age.prev the newest */
    size_t  count;
    size_t  bytes;
    size_t  max_bytes;
    size_t  max_entry;			/* largest entry kept */
    unsigned long seed;
};

/*
 * alloc_cost - what malloc(n) takes from the heap: glibc's chunk adds an
 * 8-byte header, rounds to 16 and is at least 32 bytes.  Charging this
 * rather than n keeps the bound true for many small allocations.
 */
static size_t alloc_cost(size_t n)
{
    size_t  c = (n + 8 + 15) & ~(size_t) 15;

    return c < 32 ? 32 : c;
}

/* dns_answer_bytes - the answer, its name, its records and their strings */
size_t  dns_answer_bytes(const struct dns_answer *a)
{
    size_t  b = alloc_cost(sizeof(*a)) + alloc_cost(strlen(a->qname) + 1);

    if (a->n > 0)
	b += alloc_cost(a->n * sizeof(*a->rr));
    for (size_t i = 0; i < a->n; i++) {
	if (a->rr[i].name)
	    b += alloc_cost(strlen(a->rr[i].name) + 1);
	if (a->rr[i].text)
	    b += alloc_cost(strlen(a->rr[i].text) + 1);
    }
    return b;
}

/* the smallest entry: a node with a short key and an answer without records */
#define MIN_ENTRY_BYTES	(alloc_cost(sizeof(struct entry) + 4) \
			 + alloc_cost(sizeof(struct dns_answer)) + alloc_cost(2))

/* dns_cache_new - a cache of at most max_bytes (0: keeps nothing) */
struct dns_cache *dns_cache_new(size_t max_bytes)
{
    struct dns_cache *c = xcalloc(1, sizeof(*c));
    size_t  most, n = 16;

    c->age.next = c->age.prev = &c->age;
    c->max_bytes = max_bytes;
    c->max_entry = max_bytes / DNS_CACHE_ENTRY_SHARE;
    if (max_bytes == 0)
	return c;

    /* never more entries than buckets: a lookup walks one short chain */
    most = max_bytes / MIN_ENTRY_BYTES;
    while (n < most && n < ((size_t) 1 << 40))
	n *= 2;
    c->bucket = xcalloc(n, sizeof(*c->bucket));
    c->mask = n - 1;
    c->bytes = alloc_cost(n * sizeof(*c->bucket));
    /* a seed the peers who choose the names cannot know (chain lengths) */
    if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t) sizeof(c->seed))
	c->seed = (unsigned long) (uintptr_t) c ^ (unsigned long) time(NULL);
    return c;
}

/* key_hash - FNV-1a from a per-cache seed */
static unsigned long key_hash(const struct dns_cache *c, const char *s)
{
    unsigned long h = 2166136261u ^ c->seed;

    while (*s)
	h = (h ^ (unsigned char) *s++) * 16777619u;
    return h ^ (h >> 29);
}

/* age_unlink / age_push - take an entry off the age list, put it at the new end */
static void age_unlink(struct entry *e)
{
    e->age.prev->next = e->age.next;
    e->age.next->prev = e->age.prev;
}

static void age_push(struct dns_cache *c, struct entry *e)
{
    e->age.next = &c->age;
    e->age.prev = c->age.prev;
    c->age.prev->next = &e->age;
    c->age.prev = &e->age;
}

/* find - the entry of key and the link that points at it */
static struct entry **find(struct dns_cache *c, const char *key, unsigned long h)
{
    struct entry **pp = &c->bucket[h & c->mask];

    for (; *pp; pp = &(*pp)->hnext)
	if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
	    break;
    return pp;
}

/* drop - remove the entry *pp points at */
static void drop(struct dns_cache *c, struct entry **pp)
{
    struct entry *e = *pp;

    *pp = e->hnext;
    age_unlink(e);
    c->count--;
    c->bytes -= e->bytes;
    dns_answer_unref(e->a);
    free(e);
}

/* evict_oldest - the least recently used entry goes */
static void evict_oldest(struct dns_cache *c)
{
    struct entry *e = (struct entry *) c->age.next;

    if (c->age.next == &c->age)
	msg_panic("dns cache: over its bound with no entries");
    drop(c, find(c, e->key, e->hash));
}

struct dns_answer *dns_cache_get(struct dns_cache *c, const char *key, time_t now)
{
    unsigned long h;
    struct entry **pp, *e;

    if (c->count == 0)
	return NULL;
    h = key_hash(c, key);
    pp = find(c, key, h);
    if ((e = *pp) == NULL)
	return NULL;
    if (e->expires <= now) {
	drop(c, pp);
	return NULL;
    }
    age_unlink(e);
    age_push(c, e);
    return e->a;
}

void    dns_cache_put(struct dns_cache *c, const char *key, struct dns_answer *a, time_t now)
{
    unsigned long h;
    struct entry **pp, *e;
    size_t  klen, bytes;

    if (c->max_bytes == 0 || a->status == DNS_TEMPFAIL || a->ttl == 0)
	return;
    h = key_hash(c, key);
    pp = find(c, key, h);
    if (*pp)
	drop(c, pp);			/* the newer answer replaces it */
    klen = strlen(key);
    bytes = alloc_cost(sizeof(*e) + klen + 1) + dns_answer_bytes(a);
    if (bytes > c->max_entry)
	return;
    while (c->bytes + bytes > c->max_bytes && c->count > 0)
	evict_oldest(c);
    if (c->count > c->mask)
	evict_oldest(c);		/* as many entries as buckets at most */
    if (c->bytes + bytes > c->max_bytes)
	return;				/* a bound too small for the bucket array */
    e = xmalloc(sizeof(*e) + klen + 1);
    memcpy(e->key, key, klen + 1);
    e->hash = h;
    e->bytes = bytes;
    e->expires = now + (time_t) a->ttl;
    dns_answer_ref(a);
    e->a = a;
    pp = &c->bucket[h & c->mask];	/* eviction may have changed the chain */
    e->hnext = *pp;
    *pp = e;
    age_push(c, e);
    c->count++;
    c->bytes += bytes;
}

size_t  dns_cache_count(const struct dns_cache *c)
{
    return c->count;
}

size_t  dns_cache_bytes(const struct dns_cache *c)
{
    return c->bytes;
}

void    dns_cache_free(struct dns_cache *c)
{
    if (c == NULL)
	return;
    while (c->count > 0)
	evict_oldest(c);
    free(c->bucket);
    free(c);
}
