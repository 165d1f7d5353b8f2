/*
 * addr.c - host name syntax, domain lists and envelope address resolution.
 *
 * The resolver follows Postfix's trivial-rewrite closely enough that the
 * relay decisions agree: "user%elsewhere@our.domain" resolves to
 * user@elsewhere (percent hack), "elsewhere!user@our.domain" to
 * user@elsewhere (bang path), "user@elsewhere@our.domain" to
 * user@elsewhere, and any routing operator left in the local part of a
 * non-local address sets the "routed" flag.  An address longer than
 * RFC 5321 allows (util/mailaddr.h) is not resolved: a temporary failure.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules/addr.h"
#include "util/inet.h"
#include "util/log.h"
#include "util/mailaddr.h"
#include "util/mem.h"

/* valid_hostname - Postfix's host name syntax (ASCII only) */
int     valid_hostname(const char *name)
{
    const char *cp;
    int     label_len = 0, non_numeric = 0;

    if (*name == 0)
	return 0;
    for (cp = name; *cp; cp++) {
	unsigned char ch = (unsigned char) *cp;

	if (isalnum(ch) || ch == '_') {
	    if (++label_len > 63)
		return 0;
	    if (!isdigit(ch))
		non_numeric = 1;
	} else if (ch == '.') {
	    if (label_len == 0 || cp[1] == 0)
		return 0;
	    label_len = 0;
	} else if (ch == '-') {
	    non_numeric = 1;
	    if (++label_len == 1 || cp[1] == 0 || cp[1] == '.')
		return 0;
	} else {
	    return 0;
	}
    }
    if (!non_numeric)
	return 0;
    return (cp - name) <= 255;
}

/* valid_hostaddr - IPv4 dotted quad or IPv6 (optionally "IPv6:") text */
int     valid_hostaddr(const char *addr)
{
    struct inet_addr a;

    if (strncasecmp(addr, "IPv6:", 5) == 0)
	addr += 5;
    if (*addr == 0 || strchr(addr, '[') || strchr(addr, ']'))
	return 0;
    return inet_parse(addr, &a) == 0;
}

/* hostname_untruncate - drop one trailing dot, but not from "a.." */
const char *hostname_untruncate(const char *name, struct buf *out)
{
    size_t  len = strlen(name);

    buf_reset(out);
    if (len > 1 && name[len - 1] == '.' && name[len - 2] != '.')
	len--;
    buf_append(out, name, len);
    return out->s;
}

/*
 * Domain lists.
 */
struct domain_list {
    struct strlist names;		/* lower case; ".x" means subdomains */
    struct map **maps;
    size_t  nmaps;
    int     parent_matches;
};

/* domain_list_new - compile a list value; NULL + err on a bad table */
struct domain_list *domain_list_new(const char *value, int parent_matches,
				            struct tables *t, struct buf *err)
{
    struct domain_list *l = xcalloc(1, sizeof(*l));
    struct strlist words;

    strlist_init(&l->names);
    strlist_init(&words);
    strlist_split(&words, value, LIST_SEPS);
    l->parent_matches = parent_matches;
    for (size_t i = 0; i < words.n; i++) {
	const char *w = words.v[i];

	if (strchr(w, ':') && w[0] != '[') {
	    struct map *m = tables_open(t, w, err);

	    if (m == NULL) {
		strlist_free(&words);
		domain_list_free(l);
		return NULL;
	    }
	    l->maps = xrealloc(l->maps, (l->nmaps + 1) * sizeof(*l->maps));
	    l->maps[l->nmaps++] = m;
	} else {
	    strlist_add(&l->names, w);
	    str_lower(l->names.v[l->names.n - 1]);
	}
    }
    strlist_free(&words);
    return l;
}

/* match_one - does one list name match domain */
static int match_one(const struct domain_list *l, const char *name,
		             const char *domain)
{
    size_t  nlen, dlen = strlen(domain);

    if (strcasecmp(name, domain) == 0)
	return 1;
    if (name[0] == '.') {
	nlen = strlen(name);
	return dlen > nlen && strcasecmp(domain + dlen - nlen, name) == 0;
    }
    if (l->parent_matches) {
	nlen = strlen(name);
	return dlen > nlen && domain[dlen - nlen - 1] == '.'
	    && strcasecmp(domain + dlen - nlen, name) == 0;
    }
    return 0;
}

/* domain_list_match - FOUND, NOTFOUND, or ERROR from a table */
enum map_result domain_list_match(const struct domain_list *l, const char *domain)
{
    const char *value;

    if (l == NULL || *domain == 0)
	return MAP_NOTFOUND;
    for (size_t i = 0; i < l->names.n; i++)
	if (match_one(l, l->names.v[i], domain))
	    return MAP_FOUND;
    for (size_t i = 0; i < l->nmaps; i++) {
	const char *cp = domain;

	/* the domain, then (parent matching) each parent, then ".parent" */
	while (cp) {
	    enum map_result r = map_get(l->maps[i], cp, &value);

	    if (r != MAP_NOTFOUND)
		return r;
	    if (map_is_pattern(l->maps[i]))
		break;
	    const char *dot = strchr(cp + (cp[0] == '.'), '.');

	    if (dot == NULL)
		break;
	    if (l->parent_matches) {
		cp = dot + 1;
	    } else {
		r = map_get(l->maps[i], dot, &value);
		if (r != MAP_NOTFOUND)
		    return r;
		cp = dot + 1;
		if (strchr(cp, '.') == NULL)
		    break;
		/* keep looking at ".parent" forms only */
		while ((dot = strchr(cp, '.')) != NULL) {
		    r = map_get(l->maps[i], dot, &value);
		    if (r != MAP_NOTFOUND)
			return r;
		    cp = dot + 1;
		}
		break;
	    }
	}
    }
    return MAP_NOTFOUND;
}

/* domain_list_free - release */
void    domain_list_free(struct domain_list *l)
{
    if (l == NULL)
	return;
    strlist_free(&l->names);
    free(l->maps);
    free(l);
}

/*
 * Address resolution.
 */

/* is_local - 1 local, 0 not, -1 error: mydestination or our address literal */
static int is_local(const struct addr_ctx *c, const char *domain)
{
    enum map_result r = domain_list_match(c->local, domain);

    return r == MAP_ERROR ? -1 : r == MAP_FOUND;
}

/* addr_canonical - qualify as smtpd's "local" rewriting context does */
void    addr_canonical(const struct addr_ctx *c, const char *addr, struct buf *out)
{
    const char *at = strrchr(addr, '@');

    buf_reset(out);
    if (*addr == 0)
	return;
    if (at != NULL) {
	buf_puts(out, addr);
	/* strip a trailing dot of the domain, not ".." or "@." */
	if (out->len > 2 && out->s[out->len - 1] == '.'
	    && out->s[out->len - 2] != '.' && out->s[out->len - 2] != '@')
	    out->s[--out->len] = 0;
	return;
    }
    const char *bang = c->swap_bangpath ? strchr(addr, '!') : NULL;
    const char *pct = c->percent_hack ? strrchr(addr, '%') : NULL;

    if (bang != NULL) {
	/* site!user -> user@site */
	buf_puts(out, bang + 1);
	buf_putc(out, '@');
	buf_append(out, addr, (size_t) (bang - addr));
    } else if (pct != NULL) {
	buf_append(out, addr, (size_t) (pct - addr));
	buf_putc(out, '@');
	buf_puts(out, pct + 1);
    } else {
	buf_puts(out, addr);
	buf_putc(out, '@');
	buf_puts(out, c->myorigin);
    }
}

/* addr_resolve - classify the destination of an envelope address */
int     addr_resolve(const struct addr_ctx *c, const char *addr, struct resolved *r)
{
    struct buf cur, saved;
    int     loops = 0, rc = 0;
    int     max_loops = (int) strlen(addr) + 100;

    buf_init(&cur);
    buf_init(&saved);
    r->routed = 0;
    r->cls = RESOLVE_DEFAULT;
    /*
     * Each turn of the loop below strips one domain or routing operator and
     * copies the rest: quadratic in the length.  An address longer than
     * RFC 5321's path is not classified: a temporary failure (the caller's
     * 451), never a relay permission nor a 5xx that Postfix would not give.
     */
    if (strlen(addr) > ADDR_TEXT_MAX) {
	msg_warn("address of %zu octets is longer than RFC 5321's %d: not resolved",
		 strlen(addr), ADDR_TEXT_MAX);
	rc = -1;
	goto done;
    }
    addr_canonical(c, addr, &cur);
    if (cur.len == 0)
	buf_puts(&cur, "MAILER-DAEMON");

    for (;;) {
	char   *at;

	if (++loops > max_loops) {
	    rc = -1;
	    goto done;
	}
	/* Strip (and save) @domain if local; stop at a remote domain. */
	if ((at = strrchr(cur.s, '@')) != NULL) {
	    char   *domain = at + 1;
	    size_t  dlen = strlen(domain);

	    if (dlen > 1 && domain[dlen - 1] == '.' && domain[dlen - 2] != '.')
		domain[--dlen] = 0;
	    int     loc = *domain ? is_local(c, domain) : 1;

	    if (loc < 0) {
		rc = -1;
		goto done;
	    }
	    if (loc == 0)
		break;
	    buf_reset(&saved);
	    buf_puts(&saved, at);
	    *at = 0;
	    cur.len = (size_t) (at - cur.s);
	}
	/* Routing operators left: rewrite and try again. */
	if (strchr(cur.s, '@')
	    || (c->swap_bangpath && strchr(cur.s, '!'))
	    || (c->percent_hack && strchr(cur.s, '%'))) {
	    struct buf tmp;

	    buf_init(&tmp);
	    addr_canonical(c, cur.s, &tmp);
	    buf_reset(&cur);
	    buf_puts(&cur, tmp.s);
	    buf_free(&tmp);
	    continue;
	}
	if (cur.len == 0)
	    buf_puts(&cur, "MAILER-DAEMON");
	if (saved.len == 0) {
	    buf_putc(&cur, '@');
	    buf_puts(&cur, c->myhostname);
	    continue;
	}
	buf_puts(&cur, saved.s);
	r->cls = RESOLVE_LOCAL;
	goto done;
    }

    /* Remote or virtual destination: classify the domain. */
    {
	char   *at = strrchr(cur.s, '@');
	const char *domain = at + 1;
	enum map_result m;

	*at = 0;
	if (strchr(cur.s, '@') || (c->swap_bangpath && strchr(cur.s, '!'))
	    || (c->percent_hack && strchr(cur.s, '%')))
	    r->routed = 1;
	*at = '@';
	if ((m = domain_list_match(c->alias, domain)) == MAP_FOUND)
	    r->cls = RESOLVE_ALIAS;
	else if (m == MAP_NOTFOUND
		 && (m = domain_list_match(c->virtual, domain)) == MAP_FOUND)
	    r->cls = RESOLVE_VIRTUAL;
	else if (m == MAP_NOTFOUND
		 && (m = domain_list_match(c->relay, domain)) == MAP_FOUND)
	    r->cls = RESOLVE_RELAY;
	if (m == MAP_ERROR)
	    rc = -1;
    }

done:
    buf_reset(&r->addr);
    buf_puts(&r->addr, cur.s);
    buf_free(&cur);
    buf_free(&saved);
    return rc;
}
