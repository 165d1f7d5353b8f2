/*
 * mac.c - the one $name tokenizer and expander (see mac.h).
 */
#include <string.h>

#include "util/mac.h"

/* is_name - a character of a bare $name */
static int is_name(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	|| c == '_';
}

/* mac_parse - literal runs and expressions of text[0..len) */
int     mac_parse(const char *text, size_t len, mac_parse_fn fn, void *ctx,
		          const char **why)
{
    const char *cp = text, *end = text + len, *lit = text;
    int     rc;

    while (cp < end) {
	if (*cp != '$') {
	    cp++;
	    continue;
	}
	if (cp + 1 < end && cp[1] == '$') {
	    /* "$$": the literal so far with one '$' */
	    if ((rc = fn(MAC_LITERAL, lit, (size_t) (cp + 1 - lit), ctx)) != 0)
		return rc;
	    lit = cp += 2;
	    continue;
	}
	if (cp > lit && (rc = fn(MAC_LITERAL, lit, (size_t) (cp - lit), ctx)) != 0)
	    return rc;
	cp++;
	const char *name = cp;
	size_t  nlen;

	if (cp < end && (*cp == '{' || *cp == '(')) {
	    char    open = *cp, close = open == '{' ? '}' : ')';
	    int     level = 1;

	    for (name = ++cp; cp < end; cp++) {
		if (*cp == open)
		    level++;
		else if (*cp == close && --level == 0)
		    break;
	    }
	    if (cp == end) {
		*why = open == '{' ? "missing '}'" : "missing ')'";
		return MAC_ERR_SYNTAX;
	    }
	    nlen = (size_t) (cp++ - name);
	} else {
	    while (cp < end && is_name((unsigned char) *cp))
		cp++;
	    nlen = (size_t) (cp - name);
	}
	if (nlen == 0) {
	    *why = "empty name after '$'";
	    return MAC_ERR_SYNTAX;
	}
	if ((rc = fn(MAC_EXPR, name, nlen, ctx)) != 0)
	    return rc;
	lit = cp;
    }
    if (cp > lit && (rc = fn(MAC_LITERAL, lit, (size_t) (cp - lit), ctx)) != 0)
	return rc;
    return 0;
}

struct mac_state {
    struct buf *out;
    const struct mac_expander *x;
    struct buf *why;
    const char *top;			/* the text given, for messages */
    int     depth;
    size_t  steps;
};

static int expand_text(struct mac_state *st, const char *text, size_t len);

/* put - append, stopping at the output limit */
static int put(struct mac_state *st, const char *s, size_t len)
{
    size_t  room = st->x->out_limit > st->out->len ? st->x->out_limit - st->out->len : 0;

    if (len > room) {
	buf_append(st->out, s, room);
	if (st->why)
	    buf_printf(st->why, "%s expansion longer than %zu bytes in \"%s\"",
		       st->x->what, st->x->out_limit, st->top);
	return MAC_ERR_LIMIT;
    }
    buf_append(st->out, s, len);
    return 0;
}

/* expand_token - one literal run or expression */
static int expand_token(enum mac_token kind, const char *text, size_t len, void *ctx)
{
    struct mac_state *st = ctx;
    char    name[MAC_NAME_MAX + 1];
    size_t  n = 0;
    const char *value;

    if (kind == MAC_LITERAL)
	return put(st, text, len);
    if (++st->steps > MAC_STEP_LIMIT) {
	if (st->why)
	    buf_printf(st->why, "more than %d names to expand in \"%s\"",
		       MAC_STEP_LIMIT, st->top);
	return MAC_ERR_STEPS;
    }

    /* name, then nothing, "?text" or ":text" */
    while (n < len && is_name((unsigned char) text[n]))
	n++;
    if (n == 0 || n > MAC_NAME_MAX || (n < len && text[n] != '?' && text[n] != ':')) {
	if (st->why)
	    buf_printf(st->why, "bad %s reference \"%.*s\" in \"%s\"", st->x->what,
		       (int) len, text, st->top);
	return MAC_ERR_SYNTAX;
    }
    memcpy(name, text, n);
    name[n] = 0;
    value = st->x->lookup(name, st->x->ctx);
    if (n < len) {
	int     nonempty = value != NULL && *value != 0;

	if ((text[n] == '?') != nonempty)
	    return 0;
	return expand_text(st, text + n + 1, len - n - 1);
    }
    if (value == NULL) {
	if (st->why)
	    buf_printf(st->why, "undefined %s \"$%s\"", st->x->what, name);
	return MAC_ERR_UNDEF;
    }
    if (st->x->flags & MAC_EXP_RECURSE)
	return expand_text(st, value, strlen(value));
    return put(st, value, strlen(value));
}

/* expand_text - text one level deeper */
static int expand_text(struct mac_state *st, const char *text, size_t len)
{
    const char *why = NULL;
    int     rc;

    if (st->depth >= st->x->depth_limit) {
	if (st->why)
	    buf_printf(st->why, "%s expansion nested too deep (loop?) in \"%s\"",
		       st->x->what, st->top);
	return MAC_ERR_DEPTH;
    }
    st->depth++;
    rc = mac_parse(text, len, expand_token, st, &why);
    st->depth--;
    if (rc == MAC_ERR_SYNTAX && why != NULL && st->why)
	buf_printf(st->why, "%s in \"%.*s\"", why, (int) len, text);
    return rc;
}

/* mac_expand - append text with its expressions expanded */
int     mac_expand(struct buf *out, const char *text, const struct mac_expander *x,
		           struct buf *why)
{
    struct mac_state st;

    st.out = out;
    st.x = x;
    st.why = why;
    st.top = text;
    st.depth = 0;
    st.steps = 0;
    return expand_text(&st, text, strlen(text));
}
