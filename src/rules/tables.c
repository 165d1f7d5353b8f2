/*
 * tables.c - open each table of a policy once.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/tables.h"
#include "util/mem.h"

struct tables {
    struct map **v;
    size_t  n;
};

/* tables_new - empty set */
struct tables *tables_new(void)
{
    return xcalloc(1, sizeof(struct tables));
}

/* tables_open - open spec, or return the copy already open (under any of
 * its names: one load, one warning per duplicate entry) */
struct map *tables_open(struct tables *t, const char *spec, struct buf *err)
{
    char    why[512];
    struct map *m;

    for (size_t i = 0; i < t->n; i++)
	if (map_same(t->v[i], spec))
	    return t->v[i];
    why[0] = 0;
    if ((m = map_open(spec, why, sizeof(why))) == NULL) {
	buf_puts(err, why[0] ? why : "cannot open table");
	return NULL;
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    t->v[t->n++] = m;
    return m;
}

/* tables_refresh - reload the tables whose files changed */
void    tables_refresh(struct tables *t)
{
    for (size_t i = 0; i < t->n; i++)
	(void) map_refresh(t->v[i]);
}

/* tables_reload_due - the tables whose files changed, for map_reload_load
 * away from the loop; *out is the caller's to free */
size_t  tables_reload_due(struct tables *t, struct map_reload **out)
{
    size_t  n = 0;

    *out = NULL;
    for (size_t i = 0; i < t->n; i++) {
	struct map_reload r;

	if (map_reload_due(t->v[i], &r) <= 0)
	    continue;
	*out = xrealloc(*out, (n + 1) * sizeof(**out));
	(*out)[n++] = r;
    }
    return n;
}

/* tables_free - close all */
void    tables_free(struct tables *t)
{
    if (t == NULL)
	return;
    for (size_t i = 0; i < t->n; i++)
	map_free(t->v[i]);
    free(t->v);
    free(t);
}
