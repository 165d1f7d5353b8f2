/*
 * topn.h - the most frequent keys of a stream, in bounded memory.
 *
 * The space-saving algorithm (Metwally, Agrawal, El Abbadi 2005): TOPN_SLOTS
 * counters; a key not counted takes the slot of the smallest count and
 * starts from that count plus one, remembering it as its possible
 * overcount (error).  Every key seen more than total/TOPN_SLOTS times is
 * in the table, and count - error <= true count <= count.
 *
 *	topn_add(&top_rejected_clients, "192.0.2.1");	no allocation
 *	n = topn_top(&top_rejected_clients, out, 10);	largest first
 *
 * Keys longer than TOPN_KEY_MAX bytes are counted by their first
 * TOPN_KEY_MAX bytes.  A table is not thread-safe (the daemon's loop is
 * its only writer).  Two tables are fed by the engine with every rejected
 * request: its client address and its sender ("<>" for the null sender).
 */
#ifndef MX_STATS_TOPN_H
#define MX_STATS_TOPN_H

#include <stddef.h>
#include <stdint.h>

#define TOPN_SLOTS	64
#define TOPN_KEY_MAX	127

struct topn_slot {
    uint64_t count;
    uint64_t error;			/* count may be this much too high */
    uint32_t hash;
    char    key[TOPN_KEY_MAX + 1];
};

struct topn {
    struct topn_slot slot[TOPN_SLOTS];
    size_t  used;
    uint64_t total;			/* keys added */
};

struct topn_entry {
    const char *key;
    uint64_t count;
    uint64_t error;
};

/* topn_add - count one occurrence of key */
void    topn_add(struct topn *t, const char *key);

/* topn_top - at most n entries, largest count first; the number given.
 * The keys stay valid until the next topn_add. */
size_t  topn_top(const struct topn *t, struct topn_entry *out, size_t n);

void    topn_reset(struct topn *t);

extern struct topn top_rejected_clients;
extern struct topn top_rejected_senders;

#endif
