/*
 * tables.h - the tables one compiled policy uses, each opened once.
 *
 * tables_open() returns the already-open table for a spec seen before, so
 * two restrictions naming hash:/etc/postfix/access share one copy and one
 * reload check.  tables_refresh() runs the cheap change check on all.
 */
#ifndef MX_RULES_TABLES_H
#define MX_RULES_TABLES_H

#include "maps/map.h"
#include "util/str.h"

struct tables;

struct tables *tables_new(void);
struct map *tables_open(struct tables *t, const char *spec, struct buf *err);
void    tables_refresh(struct tables *t);
/* tables_reload_due - the tables whose files changed (see map.h) */
size_t  tables_reload_due(struct tables *t, struct map_reload **out);
void    tables_free(struct tables *t);

#endif
