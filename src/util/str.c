/*
 * str.c - growable strings and string lists.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

/* An empty buffer points here and owns no storage (cap 0): making one
 * costs no allocation, which matters for the many short-lived buffers of an
 * evaluation. */
static char buf_empty[1];

/* buf_init - empty buffer */
void    buf_init(struct buf *b)
{
    b->s = buf_empty;
    b->len = b->cap = 0;
}

/* buf_grow - make room for n more bytes plus a NUL */
void    buf_grow(struct buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
	return;
    size_t  cap = b->cap ? b->cap : 64;

    while (cap < b->len + n + 1)
	cap *= 2;
    if (b->cap == 0) {
	/* from the shared empty string (or a never-initialised buffer) */
	b->s = xmalloc(cap);
	b->s[0] = 0;
    } else {
	b->s = xrealloc(b->s, cap);
    }
    b->cap = cap;
}

/* buf_reserve - room for n more bytes plus a NUL, without changing len */
void    buf_reserve(struct buf *b, size_t n)
{
    buf_grow(b, n);
}

/* buf_free - release storage; the buffer is empty and usable again */
void    buf_free(struct buf *b)
{
    if (b->cap)
	free(b->s);
    b->s = buf_empty;
    b->len = b->cap = 0;
}

/* buf_reset - make empty, keep storage */
void    buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->cap)
	b->s[0] = 0;
    else
	b->s = buf_empty;
}


/* buf_vprintf - append formatted text */
void    buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int     n;

    /* first into the room there is; measure and retry only if too small */
    va_copy(ap2, ap);
    if (b->cap > b->len) {
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
	    b->s[b->len] = 0;
	    return;
	}
	if ((size_t) n < b->cap - b->len) {
	    b->len += (size_t) n;
	    return;
	}
    } else {
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
	    return;
    }
    buf_grow(b, (size_t) n);
    vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
    b->len += (size_t) n;
}

/* buf_put_long - append a number in decimal, without printf */
void    buf_put_long(struct buf *b, long v)
{
    char    tmp[24], *cp = tmp + sizeof(tmp);
    unsigned long u = v < 0 ? 0UL - (unsigned long) v : (unsigned long) v;

    do {
	*--cp = (char) ('0' + u % 10);
	u /= 10;
    } while (u);
    if (v < 0)
	*--cp = '-';
    buf_append(b, cp, (size_t) (tmp + sizeof(tmp) - cp));
}

/* buf_printf - append formatted text */
void    buf_printf(struct buf *b, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* buf_steal - hand the storage to the caller; b is left empty */
char   *buf_steal(struct buf *b)
{
    char   *s = b->cap ? b->s : xstrdup("");

    b->s = buf_empty;
    b->len = b->cap = 0;
    return s;
}

/* strlist_init - empty list */
void    strlist_init(struct strlist *l)
{
    l->v = NULL;
    l->n = l->cap = 0;
}

/* strlist_addn - append a copy of len bytes */
void    strlist_addn(struct strlist *l, const char *s, size_t len)
{
    if (l->n + 1 >= l->cap) {
	l->cap = l->cap ? l->cap * 2 : 8;
	l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = xstrndup(s, len);
    l->v[l->n] = NULL;
}

/* strlist_add - append a copy */
void    strlist_add(struct strlist *l, const char *s)
{
    strlist_addn(l, s, strlen(s));
}

/* strlist_free - release all */
void    strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
	free(l->v[i]);
    free(l->v);
    strlist_init(l);
}

/* strlist_split - append the tokens of value separated by seps */
void    strlist_split(struct strlist *l, const char *value, const char *seps)
{
    const char *cp = value;

    while (*cp) {
	cp += strspn(cp, seps);
	if (*cp == 0)
	    break;
	size_t  n = strcspn(cp, seps);

	strlist_addn(l, cp, n);
	cp += n;
    }
}

/*
 * strlist_split_braces - as strlist_split, but text inside { } is part of
 * its word, separators and all (Postfix's "inline:{ a=b, c=d }"); a word
 * that is all one { } group loses the braces.  -1 on an unbalanced brace.
 */
int     strlist_split_braces(struct strlist *l, const char *value, const char *seps)
{
    const char *cp = value;

    while (*cp) {
	cp += strspn(cp, seps);
	if (*cp == 0)
	    break;
	const char *start = cp;
	int     depth = 0;

	while (*cp && (depth > 0 || strchr(seps, *cp) == NULL)) {
	    if (*cp == '{')
		depth++;
	    else if (*cp == '}' && --depth < 0)
		return -1;
	    cp++;
	}
	if (depth != 0)
	    return -1;
	size_t  n = (size_t) (cp - start);

	if (n >= 2 && start[0] == '{' && start[n - 1] == '}') {
	    /* a { } group: the words inside */
	    char   *inner = xstrndup(start + 1, n - 2);
	    int     rc = strlist_split_braces(l, inner, seps);

	    free(inner);
	    if (rc < 0)
		return -1;
	    continue;
	}
	strlist_addn(l, start, n);
    }
    return 0;
}

/* visible - a byte that may stay in a log line or a reply */
static int visible(unsigned char c, int high_ok)
{
    return c >= 0x20 && c != 0x7f && (high_ok || c < 0x7f);
}

/*
 * str_copy_visible - len bytes from src to dst (they may be the same),
 * each control character (below 0x20, and 0x7f) replaced by repl, and so
 * is each byte above 0x7f unless high_ok.  Eight bytes are tested at a
 * time: a log line or a reply is copied at about a byte per instruction.
 */
void    str_copy_visible(char *dst, const char *src, size_t len, int high_ok, char repl)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t  i = 0;

    for (; i + 8 <= len; i += 8) {
	uint64_t w, del;

	memcpy(&w, src + i, 8);
	del = w ^ (0x7f * ones);
	/* a byte below 0x20, a byte equal to 0x7f, a byte with its top bit */
	if ((((w - 0x20 * ones) & ~w) | ((del - ones) & ~del) | (high_ok ? 0 : w)) & highs) {
	    for (size_t j = i; j < i + 8; j++)
		dst[j] = visible((unsigned char) src[j], high_ok) ? src[j] : repl;
	} else {
	    memcpy(dst + i, &w, 8);
	}
    }
    for (; i < len; i++)
	dst[i] = visible((unsigned char) src[i], high_ok) ? src[i] : repl;
}

/* str_lower - fold ASCII to lower case in place */
void    str_lower(char *s)
{
    for (; *s; s++)
	*s = (char) tolower((unsigned char) *s);
}

/* str_trim - strip leading and trailing white space in place */
char   *str_trim(char *s)
{
    char   *end;

    while (isspace((unsigned char) *s))
	s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1]))
	*--end = 0;
    return s;
}

/* str_is_digits - non-empty and all decimal digits */
int     str_is_digits(const char *s)
{
    if (*s == 0)
	return 0;
    for (; *s; s++)
	if (!isdigit((unsigned char) *s))
	    return 0;
    return 1;
}

/* str_ulong - leading decimal digits of s, checked against max as they are read */
int     str_ulong(const char *s, const char **end, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    int     over = 0;
    const char *cp;

    for (cp = s; *cp >= '0' && *cp <= '9'; cp++) {
	unsigned d = (unsigned) (*cp - '0');

	/* never multiply past max: the test comes before the arithmetic */
	if (over || d > max || v > (max - d) / 10)
	    over = 1;
	else
	    v = v * 10 + d;
    }
    if (end)
	*end = cp;
    if (cp == s)
	return -1;
    if (over)
	return -2;
    *out = v;
    return 0;
}

/* json_str_n - the first len bytes of s as a JSON string, with the quotes */
static void json_str_n(struct buf *b, const char *s, size_t len)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '"' || c == '\\') {
	    buf_putc(b, '\\');
	    buf_putc(b, c);
	} else if (c < 0x20) {
	    buf_printf(b, "\\u%04x", c);
	} else {
	    buf_putc(b, c);
	}
    }
    buf_putc(b, '"');
}

/* buf_json_str - append s as a JSON string literal */
void    buf_json_str(struct buf *b, const char *s)
{
    json_str_n(b, s, strlen(s));
}

/* buf_json_lines - the lines of text (a trace) as a JSON array of strings */
void    buf_json_lines(struct buf *b, const char *text)
{
    const char *cp = text;

    buf_putc(b, '[');
    while (*cp) {
	const char *nl = strchr(cp, '\n');
	size_t  len = nl ? (size_t) (nl - cp) : strlen(cp);

	if (cp != text)
	    buf_putc(b, ',');
	json_str_n(b, cp, len);
	cp += len + (nl != NULL);
    }
    buf_putc(b, ']');
}

void    buf_append_crlf(struct buf *b, const char *s, size_t len)
{
    buf_reserve(b, len);
    for (size_t i = 0; i < len; i++) {
	if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
	    buf_putc(b, '\r');
	buf_putc(b, s[i]);
    }
}
