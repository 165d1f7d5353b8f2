/*
 * map.c - open, look up and refresh tables of any type.
 *
 * A struct map pairs a backend (struct map_ops) with the file it was loaded
 * from and that file's identity at load time (device, inode, size,
 * modification and change times).  map_refresh() compares one stat(2)
 * against that identity and reloads only when it differs; a reload that
 * fails keeps the old contents, logs why once per change, and is retried
 * when the file changes again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/map_impl.h"
#include "util/filestamp.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct map {
    char   *spec;			/* "type:name" as configured */
    const struct map_ops *ops;
    char   *path;			/* file read, or NULL (inline, static) */
    void   *priv;			/* backend state */
    struct filestamp id;		/* identity of the file loaded */
    struct filestamp bad;		/* identity of the last failed reload */
    int     have_bad;
};

static const struct {
    const char *type;
    const struct map_ops *ops;
    int     source_in;			/* accept FILE.in when FILE is absent */
    int     no_file;			/* name is the content, not a path */
} map_types[] = {
    {"texthash", &map_text_ops, 0, 0},
    {"hash", &map_text_ops, 1, 0},
    {"btree", &map_text_ops, 1, 0},
    {"lmdb", &map_text_ops, 1, 0},
    {"cidr", &map_cidr_ops, 0, 0},
    {"regexp", &map_regexp_ops, 0, 0},
    {"pcre", &map_pcre_ops, 0, 0},
    {"inline", &map_inline_ops, 0, 1},
    {"static", &map_static_ops, 0, 1},
};

#define NTYPES (sizeof(map_types) / sizeof(map_types[0]))

/* find_type - table row for "type", or -1 */
static int find_type(const char *type, size_t len)
{
    for (size_t i = 0; i < NTYPES; i++)
	if (strlen(map_types[i].type) == len
	    && strncasecmp(map_types[i].type, type, len) == 0)
	    return (int) i;
    return -1;
}

/* map_type_known - 1 if "type" names a supported table type */
int     map_type_known(const char *type)
{
    return find_type(type, strlen(type)) >= 0;
}

/* map_open - open "type:name"; NULL and a message in err on failure */
struct map *map_open(const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    struct map *m;
    int     t;

    if (colon == NULL || colon == spec) {
	snprintf(err, errlen, "table \"%s\": expected type:name", spec);
	return NULL;
    }
    if ((t = find_type(spec, (size_t) (colon - spec))) < 0) {
	snprintf(err, errlen, "table \"%s\": unsupported table type \"%.*s\"",
		 spec, (int) (colon - spec), spec);
	return NULL;
    }
    if (colon[1] == 0) {
	snprintf(err, errlen, "table \"%s\": missing table name", spec);
	return NULL;
    }
    m = xcalloc(1, sizeof(*m));
    m->spec = xstrdup(spec);
    m->ops = map_types[t].ops;
    if (map_types[t].no_file) {
	m->priv = m->ops->load(colon + 1, err, errlen);
    } else {
	struct buf path;

	/* hash:FILE reads FILE, the postmap source; else FILE.in */
	buf_init(&path);
	buf_puts(&path, colon + 1);
	if (map_types[t].source_in && filestamp_get(path.s, &m->id) < 0 && errno == ENOENT) {
	    buf_puts(&path, ".in");
	    if (filestamp_get(path.s, &m->id) < 0) {
		buf_reset(&path);
		buf_puts(&path, colon + 1);
	    }
	}
	m->path = buf_steal(&path);
	if (filestamp_get(m->path, &m->id) < 0) {
	    snprintf(err, errlen, "table %s: open %s: %s", spec, m->path, strerror(errno));
	} else {
	    char    why[512];

	    why[0] = 0;
	    m->priv = m->ops->load(m->path, why, sizeof(why));
	    if (m->priv == NULL)
		snprintf(err, errlen, "table %s: %s", spec, why);
	}
    }
    if (m->priv == NULL) {
	map_free(m);
	return NULL;
    }
    return m;
}

/* map_get - look up a key */
enum map_result map_get(struct map *m, const char *key, const char **value)
{
    return m->ops->get(m->priv, key, value);
}

/* map_is_pattern - 1 for cidr/regexp/pcre */
int     map_is_pattern(const struct map *m)
{
    return m->ops->pattern;
}

/* map_same - would spec open the table m already holds?  hash:, btree:,
 * lmdb: and texthash: all read the same source file, so that a table
 * named in several ways is loaded, and its warnings given, once */
int     map_same(const struct map *m, const char *spec)
{
    const char *colon = strchr(spec, ':');
    int     t;

    if (strcmp(m->spec, spec) == 0)
	return 1;
    if (colon == NULL || colon == spec || colon[1] == 0
	|| (t = find_type(spec, (size_t) (colon - spec))) < 0
	|| map_types[t].ops != m->ops || map_types[t].no_file || m->path == NULL)
	return 0;
    if (strcmp(colon + 1, m->path) == 0)
	return 1;
    /* hash:FILE read FILE.in because FILE is absent */
    size_t  n = strlen(colon + 1);

    return map_types[t].source_in && strncmp(colon + 1, m->path, n) == 0
	&& strcmp(m->path + n, ".in") == 0 && access(colon + 1, F_OK) < 0;
}

/* map_spec - the "type:name" this table was opened with */
const char *map_spec(const struct map *m)
{
    return m->spec;
}

/* map_reload_due - on the loop: has the file changed (one stat)? */
int     map_reload_due(struct map *m, struct map_reload *r)
{
    if (m->path == NULL)
	return 0;
    memset(r, 0, sizeof(*r));
    r->m = m;
    if (filestamp_get(m->path, &r->st) < 0) {
	/* an editor replacing the file: keep serving the old contents */
	if (!m->have_bad || m->bad.present) {
	    msg_warn("table %s: %s: %s; keeping the previous contents",
		     m->spec, m->path, strerror(errno));
	    m->bad = r->st;
	    m->have_bad = 1;
	}
	return -1;
    }
    if (filestamp_same(&r->st, &m->id))
	return 0;
    if (m->have_bad && filestamp_same(&r->st, &m->bad))
	return -1;
    return 1;
}

/* map_reload_load - any thread: read the file into new private state;
 * reads only the table's path and type, which never change */
void    map_reload_load(struct map_reload *r)
{
    r->why[0] = 0;
    r->priv = r->m->ops->load(r->m->path, r->why, sizeof(r->why));
}

/* map_reload_install - on the loop: the new contents, or why not */
int     map_reload_install(struct map_reload *r)
{
    struct map *m = r->m;

    if (r->priv == NULL) {
	msg_warn("table %s: reload failed: %s; keeping the previous contents",
		 m->spec, r->why);
	m->bad = r->st;
	m->have_bad = 1;
	return -1;
    }
    m->ops->free(m->priv);
    m->priv = r->priv;
    r->priv = NULL;
    m->id = r->st;
    m->have_bad = 0;
    msg_info("table %s: reloaded %s", m->spec, m->path);
    return 1;
}

/* map_reload_discard - drop a load that will not be installed */
void    map_reload_discard(struct map_reload *r)
{
    if (r->priv)
	r->m->ops->free(r->priv);
    r->priv = NULL;
}

/* map_refresh - reload if the file changed; 1 reloaded, 0 not, -1 failed */
int     map_refresh(struct map *m)
{
    struct map_reload r;
    int     due;

    if ((due = map_reload_due(m, &r)) <= 0)
	return due;
    map_reload_load(&r);
    return map_reload_install(&r);
}

/* map_free - release */
void    map_free(struct map *m)
{
    if (m == NULL)
	return;
    if (m->priv)
	m->ops->free(m->priv);
    free(m->path);
    free(m->spec);
    free(m);
}

/* map_read_lines - logical lines of a table source file */
int     map_read_lines(const char *path, map_line_fn fn, void *ctx,
		               char *err, size_t errlen)
{
    struct lines l;
    char   *line;
    int     lineno, rc;

    if (lines_open(&l, path, LINES_JOIN) < 0) {
	snprintf(err, errlen, "open %s: %s", path, strerror(errno));
	return -1;
    }
    while ((rc = lines_next(&l, &line, &lineno)) > 0)
	if ((rc = fn(ctx, line, lineno, err, errlen)) != 0)
	    break;
    if (rc < 0 && l.error == LINES_E_READ)
	snprintf(err, errlen, "read %s: %s", path, l.why);
    else if (rc < 0 && l.error == LINES_E_LONG)
	snprintf(err, errlen, "%s, line %d: %s (more than %d bytes)", path, l.errline,
		 l.why, LINES_LENGTH_LIMIT);
    else if (rc < 0 && l.error != LINES_OK)
	snprintf(err, errlen, "%s, line %d: %s", path, l.errline, l.why);
    lines_close(&l);
    return rc;
}
