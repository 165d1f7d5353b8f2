/*
 * tally.c - a small open-addressing hash table of counters.
 *
 * Linear probing, doubled at 50% load; FNV-1a hashes.  Only the report
 * uses it: entries are never removed.
 */
#include <stdlib.h>
#include <string.h>

#include "report/tally.h"
#include "util/mem.h"

/* hash - FNV-1a of the key */
static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
	h ^= (unsigned char) s[i];
	h *= 1099511628211ULL;
    }
    return h;
}

/* tally_init - empty table of at most limit keys */
void    tally_init(struct tally *t, size_t limit)
{
    memset(t, 0, sizeof(*t));
    t->limit = limit;
}

/* tally_free - release the table and its entries */
void    tally_free(struct tally *t)
{
    for (size_t i = 0; i < t->cap; i++)
	if (t->slots[i]) {
	    free(t->slots[i]->key);
	    free(t->slots[i]->note);
	    free(t->slots[i]);
	}
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* slot - where key is, or the empty slot where it would go */
static size_t slot(const struct tally *t, const char *key, size_t klen, uint64_t h)
{
    size_t  i = (size_t) h & (t->cap - 1);

    while (t->slots[i] && !(t->slots[i]->hash == h && t->slots[i]->klen == klen
			    && memcmp(t->slots[i]->key, key, klen) == 0))
	i = (i + 1) & (t->cap - 1);
    return i;
}

/* grow - double the table */
static void grow(struct tally *t)
{
    size_t  old = t->cap;
    struct tally_entry **v = t->slots;

    t->cap = old ? old * 2 : 64;
    t->slots = xcalloc(t->cap, sizeof(*t->slots));
    for (size_t i = 0; i < old; i++)
	if (v[i])
	    t->slots[slot(t, v[i]->key, v[i]->klen, v[i]->hash)] = v[i];
    free(v);
}

/* tally_find - the entry of key, or NULL */
struct tally_entry *tally_find(const struct tally *t, const char *key, size_t klen)
{
    if (t->cap == 0)
	return NULL;
    return t->slots[slot(t, key, klen, hash(key, klen))];
}

/* tally_get - the entry of key, made when new; NULL past the limit */
struct tally_entry *tally_get(struct tally *t, const char *key, size_t klen)
{
    uint64_t h = hash(key, klen);
    size_t  i;

    if (t->cap && t->slots[i = slot(t, key, klen, h)])
	return t->slots[i];
    if (t->n >= t->limit) {
	t->dropped++;
	return NULL;
    }
    if ((t->n + 1) * 2 > t->cap)
	grow(t);
    i = slot(t, key, klen, h);
    struct tally_entry *e = xcalloc(1, sizeof(*e));

    e->key = xmalloc(klen + 1);		/* NUL bytes included */
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->klen = klen;
    e->hash = h;
    t->slots[i] = e;
    t->n++;
    return e;
}

/* tally_note - keep a note on the entry unless it has one */
void    tally_note(struct tally_entry *e, const char *s, size_t len)
{
    if (e->note == NULL)
	e->note = xstrndup(s, len);
}

static int sort_col;

/* by_col - v[sort_col] descending, then key ascending */
static int by_col(const void *a, const void *b)
{
    const struct tally_entry *x = *(struct tally_entry * const *) a;
    const struct tally_entry *y = *(struct tally_entry * const *) b;

    if (x->v[sort_col] != y->v[sort_col])
	return x->v[sort_col] < y->v[sort_col] ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* tally_sorted - the entries by v[col] descending; free() the array */
struct tally_entry **tally_sorted(const struct tally *t, int col)
{
    struct tally_entry **v = xcalloc(t->n + 1, sizeof(*v));
    size_t  n = 0;

    for (size_t i = 0; i < t->cap; i++)
	if (t->slots[i])
	    v[n++] = t->slots[i];
    sort_col = col;
    qsort(v, n, sizeof(*v), by_col);
    return v;
}
