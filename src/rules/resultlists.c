/*
 * resultlists.c - restriction lists that access tables answer with,
 * compiled once per policy.
 *
 * An access table may answer with a list of restrictions or restriction
 * classes ("reject_non_fqdn_helo_hostname, permit").  The first request
 * that meets an answer compiles it; later ones find it by (table, stage,
 * text).  The cache holds at most RESULT_LISTS_MAX lists: a regexp table
 * that copies request text into its answers cannot grow it; past the
 * bound an answer is compiled for its request alone, as before.  A list
 * lives as long as the policy, so requests in flight may hold it across
 * their lookups; nothing is evicted.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/policy.h"
#include "util/mem.h"

#define RESULT_LISTS_MAX	1024	/* lists kept per policy */
#define RESULT_BUCKETS		256

struct result_list {
    struct result_list *next;
    unsigned hash;
    int     def_acl;
    char   *table;
    char   *value;
    struct rlist list;
};

struct result_lists {
    struct result_list *bucket[RESULT_BUCKETS];
    size_t  n;
};

/* result_lists_new - an empty cache */
struct result_lists *result_lists_new(void)
{
    return xcalloc(1, sizeof(struct result_lists));
}

/* result_lists_free - every list */
void    result_lists_free(struct result_lists *r)
{
    if (r == NULL)
	return;
    for (size_t i = 0; i < RESULT_BUCKETS; i++) {
	struct result_list *l, *next;

	for (l = r->bucket[i]; l; l = next) {
	    next = l->next;
	    rlist_free(&l->list);
	    free(l->table);
	    free(l->value);
	    free(l);
	}
    }
    free(r);
}

/* hash - FNV-1a of the key's parts */
static unsigned hash(const char *table, const char *value, int def_acl)
{
    unsigned h = 2166136261u ^ (unsigned) def_acl;

    for (const char *cp = table; *cp; cp++)
	h = (h ^ (unsigned char) *cp) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *cp = value; *cp; cp++)
	h = (h ^ (unsigned char) *cp) * 16777619u;
    return h;
}

/* result_list_get - the compiled list of one answer */
int     result_list_get(struct policy *p, const char *table, const char *value,
			        int def_acl, const struct rlist **list, struct rlist **owned,
			        struct buf *err)
{
    struct result_lists *r = p->results;
    unsigned h = hash(table, value, def_acl);
    struct result_list *l;

    *owned = NULL;
    for (l = r->bucket[h % RESULT_BUCKETS]; l; l = l->next) {
	if (l->hash == h && l->def_acl == def_acl && strcmp(l->value, value) == 0
	    && strcmp(l->table, table) == 0) {
	    *list = &l->list;
	    return 0;
	}
    }
    if (r->n >= RESULT_LISTS_MAX) {
	struct rlist *own = xcalloc(1, sizeof(*own));

	if (rlist_compile(p, own, table, value, table, def_acl, 0, err) < 0) {
	    free(own);
	    return -1;
	}
	*list = *owned = own;
	return 0;
    }
    l = xcalloc(1, sizeof(*l));
    if (rlist_compile(p, &l->list, table, value, table, def_acl, 0, err) < 0) {
	free(l);
	return -1;
    }
    l->hash = h;
    l->def_acl = def_acl;
    l->table = xstrdup(table);
    l->value = xstrdup(value);
    l->next = r->bucket[h % RESULT_BUCKETS];
    r->bucket[h % RESULT_BUCKETS] = l;
    r->n++;
    *list = &l->list;
    return 0;
}
