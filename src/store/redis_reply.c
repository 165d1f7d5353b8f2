/*
 * redis_reply.c - keys and replies of the Redis backend (redis_impl.h):
 * pure functions, no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/redis_impl.h"

static redisReplyObjectFunctions bounded;
static void *(*default_array) (const redisReadTask *, int);

/* bounded_array - hiredis's array, within REDIS_ARRAY_MAX */
static void *bounded_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > REDIS_ARRAY_MAX)
	return NULL;
    return default_array(task, elements);
}

void    redis_reader_bound(redisReader *r)
{
    if (r->fn == &bounded)
	return;
    if (default_array == NULL) {
	bounded = *r->fn;		/* hiredis's own, but for arrays */
	default_array = bounded.createArray;
	bounded.createArray = bounded_array;
    }
    r->fn = &bounded;
}

void    redis_key(struct buf *out, const char *prefix, const char *table,
		          const void *key, size_t klen)
{
    const char *slash = memchr(key, '/', klen);
    size_t  sl = slash ? (size_t) (slash - (const char *) key) : klen;

    buf_reset(out);
    buf_puts(out, prefix);
    buf_puts(out, table);
    buf_puts(out, ":{");
    buf_append(out, key, sl);		/* the subject: the hash tag */
    buf_putc(out, '}');
    buf_append(out, (const char *) key + sl, klen - sl);
}

int     redis_key_split(const char *rkey, size_t len, const char *prefix, const char *table,
			        const char **key, size_t *klen)
{
    size_t  pl = strlen(prefix), tl = strlen(table), start = pl + tl + 2, end;
    static char joined[REDIS_KEY_MAX];

    if (len < start + 1 || memcmp(rkey, prefix, pl) != 0
	|| memcmp(rkey + pl, table, tl) != 0 || memcmp(rkey + pl + tl, ":{", 2) != 0)
	return -1;
    /* the subject has no '/': it ends at the first "}/", or at a '}' last */
    for (end = start; end + 1 < len; end++)
	if (rkey[end] == '}' && rkey[end + 1] == '/')
	    break;
    if (end + 1 >= len) {
	if (rkey[len - 1] != '}')
	    return -1;
	end = len - 1;
    }
    if (memchr(rkey + start, '/', end - start) || len - 3 - pl - tl > sizeof(joined))
	return -1;
    memcpy(joined, rkey + start, end - start);
    memcpy(joined + (end - start), rkey + end + 1, len - end - 1);
    *key = joined;
    *klen = len - 3 - pl - tl;
    return 0;
}

/* glob_escape - text, its glob characters quoted for MATCH */
static void glob_escape(struct buf *out, const char *text)
{
    for (const char *cp = text; *cp; cp++) {
	if (strchr("*?[]\\^", *cp))
	    buf_putc(out, '\\');
	buf_putc(out, *cp);
    }
}

void    redis_scan_pattern(struct buf *out, const char *prefix, const char *table)
{
    buf_reset(out);
    glob_escape(out, prefix);
    glob_escape(out, table);
    buf_puts(out, ":{*");
}

enum store_status redis_reply_value(const redisReply *r, const void **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    if (r == NULL)
	return STORE_ERROR;
    if (r->type == REDIS_REPLY_NIL)
	return STORE_NOTFOUND;
    if (r->type != REDIS_REPLY_STRING || (r->str == NULL && r->len))
	return STORE_ERROR;
    *val = r->str;
    *len = r->len;
    return STORE_OK;
}

enum store_status redis_reply_set(const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_STATUS && r->len == 2 && memcmp(r->str, "OK", 2) == 0)
	return STORE_OK;
    return STORE_ERROR;
}

enum store_status redis_reply_del(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 0)
	return STORE_ERROR;
    return r->integer > 0 ? STORE_OK : STORE_NOTFOUND;
}

int     redis_reply_scan(const redisReply *r, char *cursor, size_t cursor_size,
			         size_t *cursor_len, const redisReply **keys)
{
    const redisReply *c, *k;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
	return -1;
    c = r->element[0];
    k = r->element[1];
    if (c == NULL || c->type != REDIS_REPLY_STRING || c->len == 0 || c->len >= cursor_size
	|| strspn(c->str, "0123456789") != c->len
	|| k == NULL || k->type != REDIS_REPLY_ARRAY)
	return -1;
    for (size_t i = 0; i < k->elements; i++)
	if (k->element[i] == NULL || k->element[i]->type != REDIS_REPLY_STRING)
	    return -1;
    if (c->len == 1 && c->str[0] == '0') {
	*cursor_len = 0;		/* the end */
	cursor[0] = 0;
    } else {
	memcpy(cursor, c->str, c->len);
	cursor[c->len] = 0;
	*cursor_len = c->len;
    }
    *keys = k;
    return 0;
}

int     redis_reply_role_master(const redisReply *r)
{
    const redisReply *e;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
	return -1;
    e = r->element[0];
    if (e == NULL || e->type != REDIS_REPLY_STRING)
	return -1;
    return e->len == 6 && memcmp(e->str, "master", 6) == 0;
}

int     redis_reply_master_addr(const redisReply *r, char host[REDIS_HOST_MAX], int *port)
{
    const redisReply *h, *p;
    char    digits[8];
    char   *end;
    long    n;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
	return -1;
    h = r->element[0];
    p = r->element[1];
    if (h == NULL || p == NULL || h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING
	|| h->len == 0 || h->len >= REDIS_HOST_MAX || memchr(h->str, 0, h->len)
	|| p->len == 0 || p->len >= sizeof(digits) || strspn(p->str, "0123456789") != p->len)
	return -1;
    memcpy(digits, p->str, p->len);
    digits[p->len] = 0;
    n = strtol(digits, &end, 10);
    if (n < 1 || n > 65535)
	return -1;
    memcpy(host, h->str, h->len);
    host[h->len] = 0;
    *port = (int) n;
    return 0;
}

long    redis_reply_version(const redisReply *r)
{
    const unsigned char *p;

    if (r == NULL)
	return -1;
    if (r->type == REDIS_REPLY_NIL)
	return 0;
    if (r->type != REDIS_REPLY_STRING || r->len != 4)
	return -1;
    p = (const unsigned char *) r->str;
    return (long) ((unsigned long) p[0] | (unsigned long) p[1] << 8
		   | (unsigned long) p[2] << 16 | (unsigned long) p[3] << 24);
}

/* error_starts - an error reply beginning with word */
static int error_starts(const redisReply *r, const char *word)
{
    size_t  wl = strlen(word);

    return r && r->type == REDIS_REPLY_ERROR && r->len >= wl
	&& strncasecmp(r->str, word, wl) == 0;
}

int     redis_reply_auth_error(const redisReply *r)
{
    static const char *const words[] = {
	"WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR AUTH",
	"ERR Client sent AUTH",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (error_starts(r, words[i]))
	    return 1;
    return 0;
}

int     redis_reply_elsewhere(const redisReply *r)
{
    static const char *const words[] = {
	"READONLY", "MOVED", "ASK", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (error_starts(r, words[i]))
	    return 1;
    return 0;
}

int     redis_hostport(const char *spec, char host[REDIS_HOST_MAX], int *port)
{
    const char *colon, *hs = spec;
    size_t  hl;
    long    n = 6379;
    char   *end;

    if (*spec == '[') {
	const char *rb = strchr(spec, ']');

	if (rb == NULL)
	    return -1;
	hs = spec + 1;
	hl = (size_t) (rb - hs);
	colon = rb[1] == ':' ? rb + 1 : NULL;
	if (rb[1] && !colon)
	    return -1;
    } else {
	colon = strrchr(spec, ':');
	if (colon && strchr(spec, ':') != colon)
	    colon = NULL;			/* a bare IPv6 address */
	hl = colon ? (size_t) (colon - spec) : strlen(spec);
    }
    if (hl == 0 || hl >= REDIS_HOST_MAX)
	return -1;
    if (colon) {
	n = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || n < 1 || n > 65535)
	    return -1;
    }
    memcpy(host, hs, hl);
    host[hl] = 0;
    *port = (int) n;
    return 0;
}

int     redis_used_note(struct redis_used *u, const char *table)
{
    for (int i = 0; i < u->n; i++)
	if (strcmp(u->name[i], table) == 0)
	    return 0;
    if (u->n >= REDIS_USED_MAX || strlen(table) >= REDIS_TABLE_MAX)
	return -1;
    strcpy(u->name[u->n++], table);
    return 1;
}

void    redis_used_forget(struct redis_used *u, const char *table)
{
    for (int i = 0; i < u->n; i++)
	if (strcmp(u->name[i], table) == 0) {
	    memmove(u->name[i], u->name[i + 1], (size_t) (u->n - i - 1) * REDIS_TABLE_MAX);
	    u->n--;
	    return;
	}
}
