/*
 * tags.c - RFC 6376 section 3.2 tag-lists: "a=rsa-sha256; d=example.com".
 *
 *	dkim_tags_parse() splits a tag-list into at most DKIM_MAX_TAGS
 *	(name, value) pairs pointing into the text (which must outlive them),
 *	values trimmed of folding white space; the raw span of each value is
 *	kept so that b= can be emptied.  dkim_tags_get() finds a tag by name.
 *
 * DIAGNOSTICS
 *	A tag name that is not ALPHA *(ALPHA / DIGIT / "_"), a missing "=",
 *	a character outside VALCHAR in a value, a tag given twice, or more
 *	than DKIM_MAX_TAGS tags make the whole list invalid.  Empty elements
 *	(";;", a final ";") are tolerated: DNS key records carry them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_impl.h"
#include "util/mem.h"

/* FWS, leniently: any space, tab, CR or LF */
static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkim_tags_parse - split a tag-list; 0, or -1 and a reason */
int     dkim_tags_parse(const char *s, size_t len, struct dkim_tags *out, const char **why)
{
    size_t  p = 0;

    out->n = 0;
    while (p < len) {
	struct dkim_tag t;

	/* one element: [FWS] name [FWS] "=" [FWS] value [FWS] (";" | end) */
	while (p < len && is_ws((unsigned char) s[p]))
	    p++;
	if (p < len && s[p] == ';') {
	    p++;
	    continue;
	}
	if (p >= len)
	    break;
	if (!isalpha((unsigned char) s[p])) {
	    *why = "tag name does not start with a letter";
	    return -1;
	}
	t.name = s + p;
	while (p < len && (isalnum((unsigned char) s[p]) || s[p] == '_'))
	    p++;
	t.nlen = (size_t) (s + p - t.name);
	while (p < len && is_ws((unsigned char) s[p]))
	    p++;
	if (p >= len || s[p] != '=') {
	    *why = "tag without \"=\"";
	    return -1;
	}
	p++;
	t.raw_start = p;
	while (p < len && is_ws((unsigned char) s[p]))
	    p++;
	t.val = s + p;
	size_t  last = p;		/* just past the last VALCHAR */

	while (p < len && s[p] != ';') {
	    unsigned char c = (unsigned char) s[p];

	    if (is_ws(c)) {
		p++;
		continue;
	    }
	    if (c < 0x21 || c > 0x7e) {
		*why = "character not allowed in a tag value";
		return -1;
	    }
	    last = ++p;
	}
	t.vlen = last > (size_t) (t.val - s) ? last - (size_t) (t.val - s) : 0;
	t.raw_end = p;
	for (size_t i = 0; i < out->n; i++)
	    if (out->t[i].nlen == t.nlen && memcmp(out->t[i].name, t.name, t.nlen) == 0) {
		*why = "tag given twice";
		return -1;
	    }
	if (out->n >= DKIM_MAX_TAGS) {
	    *why = "too many tags";
	    return -1;
	}
	out->t[out->n++] = t;
	if (p < len)
	    p++;			/* the ';' */
    }
    return 0;
}

/* dkim_tags_get - the tag of that name (case-sensitive), or NULL */
const struct dkim_tag *dkim_tags_get(const struct dkim_tags *tl, const char *name)
{
    size_t  len = strlen(name);

    for (size_t i = 0; i < tl->n; i++)
	if (tl->t[i].nlen == len && memcmp(tl->t[i].name, name, len) == 0)
	    return &tl->t[i];
    return NULL;
}

/* dkim_tag_str - the value as a new string, white space removed if nows */
char   *dkim_tag_str(const struct dkim_tag *t, int nows)
{
    char   *r = xmalloc(t->vlen + 1), *o = r;

    for (size_t i = 0; i < t->vlen; i++)
	if (!nows || !is_ws((unsigned char) t->val[i]))
	    *o++ = t->val[i];
    *o = 0;
    return r;
}
