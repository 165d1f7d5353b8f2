/*
 * signtable.c - which keys sign a message: OpenDKIM's SigningTable and
 * KeyTable as Postfix tables (dkim_signing_table, dkim_key_table).
 *
 *	dkim_signer_open() opens the tables and reads the signing options
 *	(dkim_sign_headers, dkim_oversign_headers, dkim_canonicalization).
 *	dkim_signer_keys() looks the From: address up in the signing
 *	table: the address, then its domain, then each parent domain as
 *	".parent" (pattern tables: the address only), as OpenDKIM's
 *	SigningTable does without its '*' forms.  The value names one or
 *	more keys (one signature each, RFC 8463 dual signing).  Each name
 *	is looked up in the key table, whose value is OpenDKIM's
 *	"domain:selector:/path/to/key".  Keys are loaded once and kept.
 *	dkim_signer_start() gives a signer with those options.
 *
 * DIAGNOSTICS
 *	MAP_ERROR with a reason when a table fails, a key name is missing
 *	from the key table, a key table entry is malformed, or a key file
 *	cannot be used (readable by others, not a key): never a signature
 *	made with another key instead.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "util/mem.h"
#include "util/str.h"

struct loaded {
    char   *entry;			/* the key table's value */
    struct dkim_signkey *key;
};

struct dkim_signer {
    struct map **sign, **keys;
    size_t  nsign, nkeys;
    struct dkim_sign_conf conf;
    char   *headers, *oversign;
    struct loaded *loaded;
    size_t  nloaded;
};

/* open_list - every table of a list parameter */
static struct map **open_list(const char *value, size_t *n, char *why, size_t whylen)
{
    struct strlist l;
    struct map **v;

    strlist_init(&l);
    if (strlist_split_braces(&l, value, LIST_SEPS) < 0) {
	snprintf(why, whylen, "%s: unbalanced { }", value);
	strlist_free(&l);
	return NULL;
    }
    v = xcalloc(l.n + 1, sizeof(*v));
    for (*n = 0; *n < l.n; ++*n) {
	if ((v[*n] = map_open(l.v[*n], why, whylen)) == NULL) {
	    while ((*n)-- > 0)
		map_free(v[*n]);
	    free(v);
	    strlist_free(&l);
	    return NULL;
	}
    }
    strlist_free(&l);
    return v;
}

/* dkim_signer_open - the tables and options of conf; NULL and why */
struct dkim_signer *dkim_signer_open(const struct config *conf, char *why, size_t whylen)
{
    struct dkim_signer *g = xcalloc(1, sizeof(*g));
    const char *canon = config_str(conf, P_DKIM_CANON);

    if (strcmp(canon, "relaxed/relaxed") == 0 || strcmp(canon, "relaxed") == 0) {
	g->conf.hrelaxed = g->conf.brelaxed = 1;
    } else if (strcmp(canon, "relaxed/simple") == 0) {
	g->conf.hrelaxed = 1;
    } else if (strcmp(canon, "simple/relaxed") == 0) {
	g->conf.brelaxed = 1;
    } else if (strcmp(canon, "simple/simple") != 0 && strcmp(canon, "simple") != 0) {
	snprintf(why, whylen, "dkim_canonicalization = %s: not header/body of simple"
		 " or relaxed", canon);
	free(g);
	return NULL;
    }
    g->headers = xstrdup(config_str(conf, P_DKIM_SIGN_HEADERS));
    g->oversign = xstrdup(config_str(conf, P_DKIM_OVERSIGN_HEADERS));
    g->conf.headers = g->headers;
    g->conf.oversign = g->oversign;
    if ((g->sign = open_list(config_str(conf, P_DKIM_SIGNING_TABLE), &g->nsign, why,
			     whylen)) == NULL
	|| (g->keys = open_list(config_str(conf, P_DKIM_KEY_TABLE), &g->nkeys, why,
				whylen)) == NULL) {
	dkim_signer_free(g);
	return NULL;
    }
    return g;
}

/* dkim_signer_enabled - is there a signing table at all? */
int     dkim_signer_enabled(const struct dkim_signer *g)
{
    return g->nsign > 0;
}

/* lookup - the first table's answer for key */
static enum map_result lookup(struct map **v, size_t n, const char *key, const char **value,
			              int full_only)
{
    for (size_t i = 0; i < n; i++) {
	enum map_result r;

	if (!full_only && map_is_pattern(v[i]))
	    continue;
	if ((r = map_get(v[i], key, value)) != MAP_NOTFOUND)
	    return r;
    }
    return MAP_NOTFOUND;
}

/* signing_lookup - address, domain, .parent domains */
static enum map_result signing_lookup(struct dkim_signer *g, const char *addr,
				              const char **value)
{
    const char *at = strrchr(addr, '@'), *dom;
    enum map_result r;
    struct buf key;

    if ((r = lookup(g->sign, g->nsign, addr, value, 1)) != MAP_NOTFOUND || at == NULL)
	return r;
    if ((r = lookup(g->sign, g->nsign, at + 1, value, 0)) != MAP_NOTFOUND)
	return r;
    buf_init(&key);
    for (dom = strchr(at + 1, '.'); dom && r == MAP_NOTFOUND; dom = strchr(dom + 1, '.')) {
	buf_reset(&key);
	buf_puts(&key, dom);
	r = lookup(g->sign, g->nsign, key.s, value, 0);
    }
    buf_free(&key);
    return r;
}

/* load_key - a key table entry "domain:selector:path", loaded once */
static const struct dkim_signkey *load_key(struct dkim_signer *g, const char *name,
					           const char *entry, char *why, size_t whylen)
{
    const char *c1, *c2;
    char   *domain, *selector;
    struct dkim_signkey *k;

    for (size_t i = 0; i < g->nloaded; i++)
	if (strcmp(g->loaded[i].entry, entry) == 0)
	    return g->loaded[i].key;
    if ((c1 = strchr(entry, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL
	|| c1 == entry || c2 == c1 + 1 || c2[1] == 0) {
	snprintf(why, whylen, "dkim_key_table: %s = %s: not domain:selector:/path/to/key",
		 name, entry);
	return NULL;
    }
    domain = xstrndup(entry, (size_t) (c1 - entry));
    selector = xstrndup(c1 + 1, (size_t) (c2 - c1 - 1));
    if (dkim_signkey_load(c2 + 1, domain, selector, &k, why, whylen) < 0)
	k = NULL;
    free(domain);
    free(selector);
    if (k == NULL)
	return NULL;
    g->loaded = xrealloc(g->loaded, (g->nloaded + 1) * sizeof(*g->loaded));
    g->loaded[g->nloaded].entry = xstrdup(entry);
    g->loaded[g->nloaded++].key = k;
    return k;
}

/* dkim_signer_keys - the keys for a From: address (lower case) */
enum map_result dkim_signer_keys(struct dkim_signer *g, const char *addr,
				         const struct dkim_signkey **keys, size_t *n,
				         char *why, size_t whylen)
{
    const char *value, *entry;
    enum map_result r;
    struct strlist names;

    *n = 0;
    if ((r = signing_lookup(g, addr, &value)) == MAP_ERROR)
	snprintf(why, whylen, "dkim_signing_table: lookup of %s failed", addr);
    if (r != MAP_FOUND)
	return r;
    strlist_init(&names);
    strlist_split(&names, value, LIST_SEPS);
    for (size_t i = 0; i < names.n && r == MAP_FOUND; i++) {
	if (*n >= DKIM_SIGN_MAX_KEYS) {
	    snprintf(why, whylen, "dkim_signing_table: %s: more than %d keys", addr,
		     DKIM_SIGN_MAX_KEYS);
	    r = MAP_ERROR;
	} else if ((r = lookup(g->keys, g->nkeys, names.v[i], &entry, 1)) != MAP_FOUND) {
	    snprintf(why, whylen, "dkim_key_table: %s key %s", r == MAP_ERROR
		     ? "lookup failed for" : "has no", names.v[i]);
	    r = MAP_ERROR;
	} else if ((keys[*n] = load_key(g, names.v[i], entry, why, whylen)) == NULL) {
	    r = MAP_ERROR;
	} else {
	    ++*n;
	}
    }
    strlist_free(&names);
    if (r != MAP_FOUND)
	*n = 0;
    return r;
}

/* dkim_signer_key - the key named name in dkim_key_table (arc_sign) */
const struct dkim_signkey *dkim_signer_key(struct dkim_signer *g, const char *name,
					           char *why, size_t whylen)
{
    const char *entry;
    enum map_result r;

    if ((r = lookup(g->keys, g->nkeys, name, &entry, 1)) != MAP_FOUND) {
	snprintf(why, whylen, "dkim_key_table: %s key %s", r == MAP_ERROR
		 ? "lookup failed for" : "has no", name);
	return NULL;
    }
    return load_key(g, name, entry, why, whylen);
}

/* dkim_signer_conf - the configured signing options (header list) */
const struct dkim_sign_conf *dkim_signer_conf(const struct dkim_signer *g)
{
    return &g->conf;
}

/* dkim_signer_start - a signer for one message with the configured options */
struct dkim_sign *dkim_signer_start(const struct dkim_signer *g)
{
    return dkim_sign_new(&g->conf);
}

/* dkim_from_address - the address of a From: value, lower case; NULL
 * when there is none (the caller then does not sign) */
char   *dkim_from_address(const char *value)
{
    const char *lt = strrchr(value, '<'), *p, *e;
    char   *addr;

    if (lt && (e = strchr(lt, '>')) != NULL) {
	p = lt + 1;
    } else {
	for (p = value; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
	    ;
	for (e = p; *e && !strchr(" \t\r\n(,;", *e); e++)
	    ;
    }
    if (e == p || memchr(p, '@', (size_t) (e - p)) == NULL)
	return NULL;
    addr = xstrndup(p, (size_t) (e - p));
    for (char *q = addr; *q; q++)
	*q = (char) tolower((unsigned char) *q);
    return addr;
}

void    dkim_signer_free(struct dkim_signer *g)
{
    if (g == NULL)
	return;
    for (size_t i = 0; g->sign && i < g->nsign; i++)
	map_free(g->sign[i]);
    for (size_t i = 0; g->keys && i < g->nkeys; i++)
	map_free(g->keys[i]);
    free(g->sign);
    free(g->keys);
    for (size_t i = 0; i < g->nloaded; i++) {
	free(g->loaded[i].entry);
	dkim_signkey_free(g->loaded[i].key);
    }
    free(g->loaded);
    free(g->headers);
    free(g->oversign);
    free(g);
}
