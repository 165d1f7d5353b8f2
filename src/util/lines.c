/*
 * lines.c - logical lines of configuration and table files (see lines.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/lines.h"
#include "util/mem.h"

/* lines_init - common set-up */
static void lines_init(struct lines *l, int flags)
{
    memset(l, 0, sizeof(*l));
    l->flags = flags;
    l->limit = LINES_LENGTH_LIMIT;
    buf_init(&l->logical);
}

/* lines_open - read path; -1 with errno set if it cannot be opened */
int     lines_open(struct lines *l, const char *path, int flags)
{
    lines_init(l, flags);
    if ((l->fp = fopen(path, "r")) == NULL)
	return -1;
    return 0;
}

/* lines_text - read a NUL-terminated text */
void    lines_text(struct lines *l, const char *text, int flags)
{
    lines_init(l, flags);
    l->text = text;
}

/* lines_fail - record an error at the current physical line */
static int lines_fail(struct lines *l, enum lines_error e, const char *why)
{
    l->error = e;
    l->why = why;
    l->errline = l->lineno;
    return -1;
}

/* lines_phys - read one physical line into l->phys: 1, 0 at end, -1 error */
static int lines_phys(struct lines *l, size_t *lenp)
{
    size_t  len;

    if (l->fp) {
	ssize_t n;

	errno = 0;
	if ((n = getline(&l->phys, &l->physcap, l->fp)) < 0) {
	    if (ferror(l->fp))
		return lines_fail(l, LINES_E_READ, strerror(errno ? errno : EIO));
	    return 0;
	}
	len = (size_t) n;
	l->lineno++;
	if (memchr(l->phys, 0, len) != NULL)
	    return lines_fail(l, LINES_E_NUL, "NUL character in text");
    } else {
	const char *eol;

	if (l->text == NULL || *l->text == 0)
	    return 0;
	eol = strchr(l->text, '\n');
	len = eol ? (size_t) (eol - l->text) + 1 : strlen(l->text);
	if (len + 1 > l->physcap) {
	    l->physcap = len + 1;
	    l->phys = xrealloc(l->phys, l->physcap);
	}
	memcpy(l->phys, l->text, len);
	l->phys[len] = 0;
	l->text += len;
	l->lineno++;
    }
    while (len > 0 && (l->phys[len - 1] == '\n' || l->phys[len - 1] == '\r'))
	l->phys[--len] = 0;
    if (len > l->limit)
	return lines_fail(l, LINES_E_LONG, "line too long");
    *lenp = len;
    return 1;
}

/* lines_next - the next logical line (see lines.h) */
int     lines_next(struct lines *l, char **line, int *lineno)
{
    size_t  len;
    int     rc;

    buf_reset(&l->logical);
    if (l->error == LINES_E_LEADING)
	l->error = LINES_OK;			/* the caller skips it and goes on */
    if (l->error != LINES_OK)
	return -1;
    for (;;) {
	char   *cp;

	if (l->held) {
	    l->held = 0;
	    len = strlen(l->phys);
	} else if (l->eof || (rc = lines_phys(l, &len)) == 0) {
	    l->eof = 1;
	    break;
	} else if (rc < 0) {
	    return -1;
	}
	if ((l->flags & LINES_HASH_ANYWHERE) && (cp = strchr(l->phys, '#')) != NULL) {
	    *cp = 0;
	    len = (size_t) (cp - l->phys);
	}
	/* comment and blank lines never end a logical line */
	for (cp = l->phys; isspace((unsigned char) *cp); cp++)
	     /* void */ ;
	if (*cp == 0 || *cp == '#')
	    continue;
	if (!(l->flags & LINES_JOIN)) {
	    buf_append(&l->logical, l->phys, len);
	    l->start = l->lineno;
	    break;
	}
	if (cp != l->phys) {
	    /* white space at the start: a continuation */
	    if (l->logical.len == 0) {
		lines_fail(l, LINES_E_LEADING, "logical line must not start with white space");
		*line = str_trim(l->phys);
		return -1;
	    }
	    if (l->logical.len + 1 + (len - (size_t) (cp - l->phys)) > l->limit)
		return lines_fail(l, LINES_E_LONG, "line too long");
	    buf_putc(&l->logical, ' ');
	    buf_append(&l->logical, cp, len - (size_t) (cp - l->phys));
	    continue;
	}
	if (l->logical.len > 0) {
	    /* the start of the next logical line: keep it for then */
	    l->held = 1;
	    break;
	}
	buf_append(&l->logical, l->phys, len);
	l->start = l->lineno;
    }
    if (l->logical.len == 0)
	return 0;
    *line = l->logical.s;
    *lineno = l->start;
    return 1;
}

/* lines_close - release (the file too) */
void    lines_close(struct lines *l)
{
    if (l->fp)
	fclose(l->fp);
    l->fp = NULL;
    free(l->phys);
    l->phys = NULL;
    buf_free(&l->logical);
}
