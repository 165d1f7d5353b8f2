/*
 * text.c - texthash: (and hash:, btree:, lmdb: read from their source).
 *
 * The source is Postfix's "key whitespace value" format.  Keys are folded
 * to lower case; a duplicate key keeps its first value and is reported, as
 * postmap does.  Lookups use an open-addressing hash table sized to at
 * most half full, so a miss costs one or two probes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map_impl.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct text_entry {
    char   *key;			/* key and value share one allocation */
    char   *value;
    uint32_t hash;
};

struct text_map {
    struct text_entry *slots;
    size_t  mask;			/* slot count - 1 (a power of two) */
    size_t  count;
    const char *path;			/* for messages while loading */
};

/* text_hash - FNV-1a over the folded key */
static uint32_t text_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
	h ^= (unsigned char) s[i];
	h *= 16777619u;
    }
    return h;
}

/* text_find - slot holding key, or the empty slot where it belongs */
static struct text_entry *text_find(const struct text_map *t, const char *key,
				            size_t len, uint32_t h)
{
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
	struct text_entry *e = &t->slots[i];

	if (e->key == NULL)
	    return e;
	if (e->hash == h && strncmp(e->key, key, len) == 0 && e->key[len] == 0)
	    return e;
    }
}

/* text_grow - double the slot array */
static void text_grow(struct text_map *t)
{
    size_t  old = t->mask + 1;
    struct text_entry *slots = t->slots;

    t->mask = old * 2 - 1;
    t->slots = xcalloc(old * 2, sizeof(*t->slots));
    for (size_t i = 0; i < old; i++)
	if (slots[i].key)
	    *text_find(t, slots[i].key, strlen(slots[i].key), slots[i].hash) = slots[i];
    free(slots);
}

/* text_line - add one "key value" line */
static int text_line(void *ctx, char *line, int lineno, char *err, size_t errlen)
{
    (void) err;
    (void) errlen;
    struct text_map *t = ctx;
    char   *key = line, *value, *end;
    size_t  klen;
    uint32_t h;
    struct text_entry *e;

    klen = strcspn(key, " \t");
    value = key + klen;
    while (*value == ' ' || *value == '\t')
	value++;
    /* trailing white space is not part of the value */
    for (end = value + strlen(value); end > value && isspace((unsigned char) end[-1]);)
	*--end = 0;
    if (*value == 0) {
	/* as postmap: warn and skip the line (seed 004 has "spammer@") */
	msg_warn("%s, line %d: expected format: key whitespace value; "
		 "ignoring this line", t->path, lineno);
	return 0;
    }
    key[klen] = 0;
    str_lower(key);
    h = text_hash(key, klen);
    e = text_find(t, key, klen, h);
    if (e->key != NULL) {
	msg_warn("%s, line %d: duplicate entry: \"%s\"; keeping the first",
		 t->path, lineno, key);
	return 0;
    }
    size_t  vlen = strlen(value);

    e->key = xmalloc(klen + 1 + vlen + 1);
    memcpy(e->key, key, klen + 1);
    e->value = e->key + klen + 1;
    memcpy(e->value, value, vlen + 1);
    e->hash = h;
    if (++t->count * 2 > t->mask + 1)
	text_grow(t);
    return 0;
}

static void text_free(void *priv);

/* text_load - read the source file */
static void *text_load(const char *path, char *err, size_t errlen)
{
    struct text_map *t = xcalloc(1, sizeof(*t));

    t->mask = 15;
    t->slots = xcalloc(t->mask + 1, sizeof(*t->slots));
    t->path = path;
    if (map_read_lines(path, text_line, t, err, errlen) != 0) {
	text_free(t);
	return NULL;
    }
    t->path = NULL;
    return t;
}

/* text_get - look up the folded key */
static enum map_result text_get(void *priv, const char *key, const char **value)
{
    struct text_map *t = priv;
    char    small[256];
    char   *folded = small;
    size_t  len = strlen(key);
    struct text_entry *e;

    if (len >= sizeof(small))
	folded = xmalloc(len + 1);
    for (size_t i = 0; i <= len; i++)
	folded[i] = (char) tolower((unsigned char) key[i]);
    e = text_find(t, folded, len, text_hash(folded, len));
    if (folded != small)
	free(folded);
    if (e->key == NULL)
	return MAP_NOTFOUND;
    *value = e->value;
    return MAP_FOUND;
}

/* text_free - release */
static void text_free(void *priv)
{
    struct text_map *t = priv;

    for (size_t i = 0; i <= t->mask; i++)
	free(t->slots[i].key);
    free(t->slots);
    free(t);
}

const struct map_ops map_text_ops = {"texthash", 0, text_load, text_get, text_free};

/*
 * inline:{ key=value, { key = value with spaces } } - Postfix 3.0 syntax.
 * The table is built once from the configuration text.
 */
static void *inline_load(const char *text, char *err, size_t errlen)
{
    struct text_map *t = xcalloc(1, sizeof(*t));
    size_t  len = strlen(text);
    const char *cp, *end;

    t->mask = 15;
    t->slots = xcalloc(t->mask + 1, sizeof(*t->slots));
    t->path = "inline table";
    if (len < 2 || text[0] != '{' || text[len - 1] != '}') {
	snprintf(err, errlen, "inline table: expected {key=value, ...}");
	text_free(t);
	return NULL;
    }
    cp = text + 1;
    end = text + len - 1;
    while (cp < end) {
	const char *start, *stop;
	struct buf line;

	while (cp < end && (isspace((unsigned char) *cp) || *cp == ','))
	    cp++;
	if (cp >= end)
	    break;
	if (*cp == '{') {
	    start = cp + 1;
	    if ((stop = memchr(start, '}', (size_t) (end - start))) == NULL) {
		snprintf(err, errlen, "inline table: missing '}' in \"%s\"", text);
		text_free(t);
		return NULL;
	    }
	    cp = stop + 1;
	} else {
	    start = cp;
	    while (cp < end && !isspace((unsigned char) *cp) && *cp != ',')
		cp++;
	    stop = cp;
	}
	const char *eq = memchr(start, '=', (size_t) (stop - start));

	if (eq == NULL) {
	    snprintf(err, errlen, "inline table: missing '=' after \"%.*s\"",
		     (int) (stop - start), start);
	    text_free(t);
	    return NULL;
	}
	/* "key = value" becomes the source line "key value" */
	buf_init(&line);
	buf_append(&line, start, (size_t) (eq - start));
	char   *k = str_trim(line.s);
	struct buf kv;
	int     rc = -1;

	buf_init(&kv);
	if (*k == 0 || strpbrk(k, " \t") != NULL) {
	    snprintf(err, errlen, "inline table: bad key in \"%.*s\"",
		     (int) (stop - start), start);
	} else {
	    buf_puts(&kv, k);
	    buf_putc(&kv, ' ');
	    buf_append(&kv, eq + 1, (size_t) (stop - eq - 1));
	    rc = text_line(t, kv.s, 1, err, errlen);
	}
	buf_free(&line);
	buf_free(&kv);
	if (rc != 0) {
	    text_free(t);
	    return NULL;
	}
    }
    t->path = NULL;
    return t;
}

const struct map_ops map_inline_ops = {"inline", 0, inline_load, text_get, text_free};

/*
 * static:VALUE - every lookup finds VALUE; static:{ text with spaces } is
 * the text inside the braces, trimmed, as Postfix's dict_static reads it.
 */
static void *static_load(const char *value, char *err, size_t errlen)
{
    size_t  len = strlen(value);

    if (len >= 2 && value[0] == '{' && value[len - 1] == '}') {
	const char *b = value + 1, *e = value + len - 1;

	while (b < e && (*b == ' ' || *b == '\t'))
	    b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
	    e--;
	if (b == e) {
	    snprintf(err, errlen, "table \"static:%s\": empty value", value);
	    return NULL;
	}
	return xstrndup(b, (size_t) (e - b));
    }
    return xstrdup(value);
}

static enum map_result static_get(void *priv, const char *key, const char **value)
{
    (void) key;
    *value = priv;
    return MAP_FOUND;
}

const struct map_ops map_static_ops = {"static", 0, static_load, static_get, free};
