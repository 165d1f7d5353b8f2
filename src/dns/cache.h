/*
 * cache.h - the resolver's answer cache: bounded in bytes, least recently
 * used answer evicted first (internal to src/dns; dns.c is its user).
 *
 * SYNOPSIS
 *	c = dns_cache_new(max_bytes);
 *	a = dns_cache_get(c, key, now);		borrowed, or NULL
 *	dns_cache_put(c, key, answer, now);	takes its own reference
 *	dns_cache_free(c);
 *
 * DESCRIPTION
 *	The cache never holds more than max_bytes: every entry is charged what
 *	it costs the allocator (the entry node with its key, the answer, its
 *	name, its records and their strings, each rounded to a malloc chunk),
 *	and the bucket array is charged once.  Inserting past the bound evicts
 *	from the least recently used end; a lookup moves its entry to the
 *	other end.  Lookup, insertion and eviction are O(1): one hash bucket
 *	(never more entries than buckets), a doubly-linked list for the age.
 *	An answer costing more than max_bytes / DNS_CACHE_ENTRY_SHARE is not
 *	kept, so one huge TXT answer cannot empty the cache.  An expired
 *	answer is dropped when it is next asked for, or when it reaches the
 *	old end.  max_bytes 0: nothing is cached.
 */
#ifndef MX_DNS_CACHE_H
#define MX_DNS_CACHE_H

#include <stddef.h>
#include <time.h>

#include "dns/dns.h"

#define DNS_CACHE_ENTRY_SHARE	16	/* largest answer: this part of the bound */

struct dns_cache;

struct dns_cache *dns_cache_new(size_t max_bytes);
void    dns_cache_free(struct dns_cache *c);

/* dns_cache_get - a live answer (no new reference), or NULL */
struct dns_answer *dns_cache_get(struct dns_cache *c, const char *key, time_t now);

/* dns_cache_put - keep an answer until now + its TTL (TEMPFAIL, TTL 0 and
 * oversized answers are not kept; an older answer for the key goes) */
void    dns_cache_put(struct dns_cache *c, const char *key, struct dns_answer *a, time_t now);

/* what the cache holds: entries, and bytes charged (bucket array included) */
size_t  dns_cache_count(const struct dns_cache *c);
size_t  dns_cache_bytes(const struct dns_cache *c);

/* dns_answer_bytes - what an answer costs the allocator */
size_t  dns_answer_bytes(const struct dns_answer *a);

#endif
