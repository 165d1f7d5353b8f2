/*
 * canon.c - RFC 6376 section 3.4 canonicalisation, simple and relaxed.
 *
 *	dkim_canon_header() appends one header field, canonicalised and
 *	ending in CRLF.  The body canonicaliser is a state machine fed
 *	chunks of any size (dkim_bodycanon_feed()) that emits the canonical
 *	body through a callback: runs of input that canonicalise to
 *	themselves (most of a body) are passed on in place, found with
 *	memchr() (simple) or a byte-class table (relaxed); the rest goes a
 *	byte at a time through a DKIM_CANON_OUT buffer.  Nothing of the body
 *	is kept but a count of the empty lines that may turn out to be
 *	trailing (and are then dropped).
 *
 *	Lines end in CRLF; a CR not followed by LF is an ordinary character.
 *	simple: an empty body is one CRLF; a last line without CRLF gets
 *	one.  relaxed: white space runs become one SP, white space at line
 *	ends goes; an empty body stays empty (RFC 6376 erratum 3986).
 */
#include <ctype.h>
#include <string.h>

#include "dkim/dkim_impl.h"

/* dkim_canon_header - one header field, canonicalised, CRLF appended */
void    dkim_canon_header(struct buf *out, int relaxed, const char *name, size_t nlen,
			          const char *value, size_t vlen)
{
    if (!relaxed) {
	buf_append(out, name, nlen);
	buf_putc(out, ':');
	buf_append(out, value, vlen);
	buf_append(out, "\r\n", 2);
	return;
    }
    /* relaxed: lower-case name without white space before the colon */
    while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
	nlen--;
    buf_reserve(out, nlen + vlen + 3);
    for (size_t i = 0; i < nlen; i++)
	buf_putc(out, tolower((unsigned char) name[i]));
    buf_putc(out, ':');

    /* value: unfolded, runs of WSP to one SP, none at either end */
    int     wsp = 0, started = 0;

    for (size_t i = 0; i < vlen; i++) {
	char    c = value[i];

	if (c == '\r' || c == '\n')
	    continue;
	if (c == ' ' || c == '\t') {
	    wsp = 1;
	    continue;
	}
	if (wsp && started)
	    buf_putc(out, ' ');
	wsp = 0;
	started = 1;
	buf_putc(out, c);
    }
    buf_append(out, "\r\n", 2);
}

/* dkim_bodycanon_init - a canonicaliser writing to emit(ctx, ...) */
void    dkim_bodycanon_init(struct dkim_bodycanon *c, int relaxed,
		            void (*emit) (void *, const char *, size_t), void *ctx)
{
    memset(c, 0, sizeof(*c));
    c->relaxed = relaxed;
    c->line_empty = 1;
    c->emit = emit;
    c->ctx = ctx;
}

static void flush(struct dkim_bodycanon *c)
{
    if (c->olen) {
	c->emit(c->ctx, c->out, c->olen);
	c->olen = 0;
    }
}

static inline void put(struct dkim_bodycanon *c, char ch)
{
    if (c->olen == sizeof(c->out))
	flush(c);
    c->out[c->olen++] = ch;
    c->any = 1;
}

/* content - a character that is neither white space nor a line end */
static inline void content(struct dkim_bodycanon *c, char ch)
{
    if (c->line_empty) {
	/* the empty lines held back were not trailing after all */
	for (; c->empty_lines > 0; c->empty_lines--) {
	    put(c, '\r');
	    put(c, '\n');
	}
	c->line_empty = 0;
    }
    if (c->wsp) {
	put(c, ' ');
	c->wsp = 0;
    }
    put(c, ch);
}

/* line_end - a CRLF */
static inline void line_end(struct dkim_bodycanon *c)
{
    c->wsp = 0;				/* relaxed: trailing white space goes */
    if (c->line_empty) {
	c->empty_lines++;
    } else {
	put(c, '\r');
	put(c, '\n');
    }
    c->line_empty = 1;
}

/* step - one byte through the state machine (the slow path) */
static void step(struct dkim_bodycanon *c, char ch)
{
    if (c->cr) {
	c->cr = 0;
	if (ch == '\n') {
	    line_end(c);
	    return;
	}
	content(c, '\r');			/* a lone CR */
    }
    if (ch == '\r')
	c->cr = 1;
    else if (c->relaxed && (ch == ' ' || ch == '\t'))
	c->wsp = 1;
    else
	content(c, ch);
}

/*
 * The fast path.  In the middle of a line with nothing pending (no CR,
 * no white space, no held-back empty lines) most input canonicalises to
 * itself; run_simple() and run_relaxed() return where that stops being
 * sure, and the bytes up to there are hashed in place, without a copy.
 * What remains (a CRLF that may start trailing empty lines, white space
 * that relaxed changes, a CR at the end of the chunk) takes the state
 * machine one byte at a time, and then the fast path again.
 */

/* run_simple - the end of the bytes from p[i] that simple leaves alone */
static size_t run_simple(const char *p, size_t i, size_t n)
{
    const char *cr;

    while ((cr = memchr(p + i, '\r', n - i)) != NULL) {
	i = (size_t) (cr - p);
	if (i + 1 >= n)
	    return i;			/* a CR at the end: undecided */
	if (p[i + 1] != '\n') {
	    i++;			/* a lone CR is content */
	    continue;
	}
	if (i + 2 >= n || p[i + 2] == '\r')
	    return i;			/* maybe an empty line: held back */
	i += 2;				/* a line end, content follows */
    }
    return n;
}

/* byte classes for relaxed: 0 content, 1 SP, 2 HTAB, 3 CR */
static const unsigned char relaxed_class[256] = {[' '] = 1,['\t'] = 2,['\r'] = 3};

/* run_relaxed - the end of the bytes from p[i] that relaxed leaves alone */
static size_t run_relaxed(const char *p, size_t i, size_t n)
{
    const unsigned char *u = (const unsigned char *) p;

    for (;;) {
	while (i < n && relaxed_class[u[i]] == 0)
	    i++;
	if (i >= n)
	    return n;
	switch (relaxed_class[u[i]]) {
	case 1:				/* one SP between content stays */
	    if (i + 1 < n && relaxed_class[u[i + 1]] == 0) {
		i += 2;
		continue;
	    }
	    return i;
	case 2:				/* a tab becomes SP */
	    return i;
	default:			/* CR */
	    if (i + 1 < n && u[i + 1] != '\n') {
		i++;			/* a lone CR is content */
		continue;
	    }
	    if (i + 2 < n && relaxed_class[u[i + 2]] == 0) {
		i += 3;			/* a line end, content follows */
		continue;
	    }
	    return i;
	}
    }
}

/* dkim_bodycanon_feed - the next body bytes */
void    dkim_bodycanon_feed(struct dkim_bodycanon *c, const char *p, size_t n)
{
    size_t  i = 0;

    while (i < n) {
	if (!c->cr && !c->wsp && !c->line_empty) {
	    size_t  j = c->relaxed ? run_relaxed(p, i, n) : run_simple(p, i, n);

	    if (j > i) {
		flush(c);		/* what the state machine wrote first */
		c->emit(c->ctx, p + i, j - i);
		c->any = 1;
		i = j;
		if (i == n)
		    break;
	    }
	}
	step(c, p[i++]);
    }
    flush(c);
}

/* dkim_bodycanon_end - the body is complete */
void    dkim_bodycanon_end(struct dkim_bodycanon *c)
{
    if (c->cr) {
	c->cr = 0;
	content(c, '\r');
    }
    c->wsp = 0;
    if (!c->line_empty) {
	put(c, '\r');			/* a last line without CRLF */
	put(c, '\n');
    }
    if (!c->relaxed && !c->any) {
	put(c, '\r');			/* simple: an empty body is CRLF */
	put(c, '\n');
    }
    flush(c);
}
