/*
 * str.h - growable strings and string lists.
 *
 * struct buf is a NUL-terminated byte buffer that grows as needed
 * (Postfix's VSTRING in miniature).  struct strlist is a growable array of
 * owned strings.  strlist_split() splits a Postfix list value on commas and
 * white space.
 */
#ifndef MX_UTIL_STR_H
#define MX_UTIL_STR_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char   *s;
    size_t  len;
    size_t  cap;
};

void    buf_init(struct buf *b);
void    buf_free(struct buf *b);
void    buf_reset(struct buf *b);
void    buf_reserve(struct buf *b, size_t n);	/* room for n more bytes */
void    buf_grow(struct buf *b, size_t n);	/* room for n more bytes plus a NUL */

/* buf_append, buf_puts, buf_putc - append; inline, as parsing and log
 * lines call them for every attribute and field */
static inline void buf_append(struct buf *b, const char *s, size_t len)
{
    if (b->len + len + 1 > b->cap)
	buf_grow(b, len);
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = 0;
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, int c)
{
    if (b->len + 2 > b->cap)
	buf_grow(b, 1);
    b->s[b->len++] = (char) c;
    b->s[b->len] = 0;
}
void    buf_put_long(struct buf *b, long v);

/* buf_append_crlf - append s, a lone LF made CRLF (a header value whose
 * folded lines a queue file or Postfix joined by bare LF, as the wire
 * and DKIM have them) */
void    buf_append_crlf(struct buf *b, const char *s, size_t len);
void    buf_printf(struct buf *b, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));
void    buf_vprintf(struct buf *b, const char *fmt, va_list ap);
char   *buf_steal(struct buf *b);	/* caller owns; buf_init b to reuse */

struct strlist {
    char  **v;
    size_t  n;
    size_t  cap;
};

void    strlist_init(struct strlist *l);
void    strlist_add(struct strlist *l, const char *s);
void    strlist_addn(struct strlist *l, const char *s, size_t len);
void    strlist_free(struct strlist *l);
void    strlist_split(struct strlist *l, const char *value, const char *seps);
int     strlist_split_braces(struct strlist *l, const char *value, const char *seps);

#define LIST_SEPS ", \t\r\n"

void    str_lower(char *s);
void    str_copy_visible(char *dst, const char *src, size_t len, int high_ok, char repl);
char   *str_trim(char *s);		/* in place; returns start */
int     str_is_digits(const char *s);

/*
 * str_ulong - the decimal digits at the start of s, as a value no larger
 * than max, computed without overflow.  *end (when end is not NULL) is
 * set past every digit.  0: done; -1: no digit; -2: more than max (*out
 * untouched).
 */
int     str_ulong(const char *s, const char **end, unsigned long max,
		          unsigned long *out);
/* JSON string escaping into a buffer (with the quotes) */
void    buf_json_str(struct buf *b, const char *s);
/* the lines of text, each without its newline, as a JSON array of strings */
void    buf_json_lines(struct buf *b, const char *text);

#endif
