/*
 * tally.h - counters by key, for the report.
 *
 * A hash table of byte-string keys (copied), each with four counters, a
 * time and a note (a text kept from the first time the key was seen).
 * At most `limit` keys are kept: tally_get() returns NULL for a new key
 * past it and counts it in t->dropped, so that a log of millions of
 * distinct clients costs bounded memory.  tally_sorted() lists the
 * entries by v[col] descending (then by key).
 */
#ifndef MX_REPORT_TALLY_H
#define MX_REPORT_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally_entry {
    char   *key;
    size_t  klen;
    long    v[4];
    int64_t t;
    char   *note;
    uint64_t hash;
};

struct tally {
    struct tally_entry **slots;
    size_t  cap;			/* a power of two */
    size_t  n;
    size_t  limit;
    unsigned long dropped;		/* new keys refused past the limit */
};

void    tally_init(struct tally *t, size_t limit);
void    tally_free(struct tally *t);
/* tally_get - the entry of key, made (zeroed) when new; NULL past the limit */
struct tally_entry *tally_get(struct tally *t, const char *key, size_t klen);
/* tally_find - the entry of key, or NULL */
struct tally_entry *tally_find(const struct tally *t, const char *key, size_t klen);
/* tally_note - keep a note on the entry unless it has one */
void    tally_note(struct tally_entry *e, const char *s, size_t len);
/* tally_sorted - the entries by v[col] descending; free() the array */
struct tally_entry **tally_sorted(const struct tally *t, int col);

#endif
