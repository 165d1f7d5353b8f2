/*
 * map.h - lookup tables with Postfix semantics.
 *
 * A table is named "type:name" as in main.cf.  Types:
 *   texthash:FILE          source text read directly
 *   hash:, btree:, lmdb:   the same source text (FILE, else FILE.in), so a
 *                          main.cf line pastes without a postmap step
 *   cidr:FILE              cidr_table(5)
 *   regexp:FILE, pcre:FILE regexp_table(5) / pcre_table(5) via PCRE2
 *   inline:{ k=v, ... }    inline table (Postfix 3.0 syntax)
 *   static:VALUE           always VALUE
 *
 * Results are three-way: MAP_FOUND, MAP_NOTFOUND, MAP_ERROR (a temporary
 * error, carried up as such).  The value pointer stays valid until the next
 * map_refresh() of that table; callers that keep it longer copy it.
 *
 * map_refresh() is cheap (one stat(2)); it reloads a table whose file
 * changed.  A table that fails to reload keeps its old contents and logs
 * why.  Keys of fixed-string tables are folded to lower case on load and
 * on lookup; pattern tables (cidr, regexp, pcre) see the key as given.
 */
#ifndef MX_MAPS_MAP_H
#define MX_MAPS_MAP_H

#include <stddef.h>

#include "util/filestamp.h"

enum map_result {
    MAP_ERROR = -1,
    MAP_NOTFOUND = 0,
    MAP_FOUND = 1,
};

struct map;

/* Backend interface: every table type fills one of these. */
struct map_ops {
    const char *type;			/* "texthash", "cidr", ... */
    int     pattern;			/* 1: full-key lookups only */
    /* load from path into a new private object; NULL + err on failure */
    void   *(*load) (const char *path, char *err, size_t errlen);
    /* look up key; *value points into the private object */
    enum map_result (*get) (void *priv, const char *key, const char **value);
    void    (*free) (void *priv);
};

/* map_open - open "type:name"; NULL and a message in err on failure */
struct map *map_open(const char *spec, char *err, size_t errlen);

/* map_get - look up a key */
enum map_result map_get(struct map *m, const char *key, const char **value);

/* map_is_pattern - 1 for cidr/regexp/pcre (no partial-key lookups) */
int     map_is_pattern(const struct map *m);

/* map_same - would "type:name" open this same table (same backend, same
 * file: hash:F and texthash:F)? */
int     map_same(const struct map *m, const char *spec);

/* map_spec - the "type:name" this table was opened with */
const char *map_spec(const struct map *m);

/* map_refresh - reload if the file changed; 1 reloaded, 0 not, -1 failed */
int     map_refresh(struct map *m);

/*
 * The same in three steps, so that the load can run away from the event
 * loop: map_reload_due() (on the loop: one stat) says whether the file
 * changed (1, with r filled; 0 not; -1 failed, logged once);
 * map_reload_load() reads the file into new private state, touching
 * nothing a lookup uses (any thread); map_reload_install() puts it in
 * force or logs why not (on the loop; 1 or -1); map_reload_discard()
 * drops a load that will not be installed.  The table must stay open
 * from due to install or discard.
 */
struct map_reload {
    struct map *m;
    struct filestamp st;		/* the file when it was found changed */
    void   *priv;			/* loaded state, or NULL */
    char    why[512];			/* why not */
};

int     map_reload_due(struct map *m, struct map_reload *r);
void    map_reload_load(struct map_reload *r);
int     map_reload_install(struct map_reload *r);
void    map_reload_discard(struct map_reload *r);

void    map_free(struct map *m);

/* map_type_known - 1 if "type" names a supported table type */
int     map_type_known(const char *type);

#endif
