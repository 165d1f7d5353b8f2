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

/* map_spec - the "type:name" this table was opened with */
const char *map_spec(const struct map *m);

/* map_refresh - reload if the file changed; 1 reloaded, 0 not, -1 failed */
int     map_refresh(struct map *m);

void    map_free(struct map *m);

/* map_type_known - 1 if "type" names a supported table type */
int     map_type_known(const char *type);

#endif
