/*
 * topn.c - space-saving top-N counters (see topn.h).
 *
 * TOPN_SLOTS is small: a linear scan comparing 32-bit hashes first costs
 * less than keeping an index in step with evictions, and only rejected
 * requests pay it.
 */
#include <string.h>

#include "stats/topn.h"

struct topn top_rejected_clients;
struct topn top_rejected_senders;

/* key_hash - FNV-1a of at most TOPN_KEY_MAX bytes; *len gets the length used */
static uint32_t key_hash(const char *key, size_t *len)
{
    uint32_t h = 2166136261u;
    size_t  n;

    for (n = 0; n < TOPN_KEY_MAX && key[n]; n++)
	h = (h ^ (unsigned char) key[n]) * 16777619u;
    *len = n;
    return h;
}

/* topn_add - count one occurrence */
void    topn_add(struct topn *t, const char *key)
{
    size_t  len, min = 0;
    uint32_t h = key_hash(key, &len);
    struct topn_slot *s;

    t->total++;
    for (size_t i = 0; i < t->used; i++) {
	s = &t->slot[i];
	if (s->hash == h && strncmp(s->key, key, len) == 0 && s->key[len] == 0) {
	    s->count++;
	    return;
	}
	if (s->count < t->slot[min].count)
	    min = i;
    }
    if (t->used < TOPN_SLOTS) {
	s = &t->slot[t->used++];
	s->count = 1;
	s->error = 0;
    } else {
	/* the newcomer may have been counted before in the evicted slot */
	s = &t->slot[min];
	s->error = s->count;
	s->count++;
    }
    s->hash = h;
    memcpy(s->key, key, len);
    s->key[len] = 0;
}

/* topn_top - the largest counts, by selection (n and the table are small) */
size_t  topn_top(const struct topn *t, struct topn_entry *out, size_t n)
{
    unsigned char taken[TOPN_SLOTS] = {0};
    size_t  got;

    for (got = 0; got < n && got < t->used; got++) {
	size_t  best = TOPN_SLOTS;

	for (size_t i = 0; i < t->used; i++)
	    if (!taken[i] && (best == TOPN_SLOTS || t->slot[i].count > t->slot[best].count))
		best = i;
	taken[best] = 1;
	out[got].key = t->slot[best].key;
	out[got].count = t->slot[best].count;
	out[got].error = t->slot[best].error;
    }
    return got;
}

void    topn_reset(struct topn *t)
{
    memset(t, 0, sizeof(*t));
}
