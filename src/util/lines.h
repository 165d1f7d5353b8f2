/*
 * lines.h - logical lines of a configuration or table file.
 *
 * The one reader for main.cf-syntax configuration, lookup tables (texthash,
 * cidr, regexp, pcre) and postgrey whitelist files.  It drops the newline
 * (and any CRs before it), skips blank lines and lines whose first
 * non-blank character is '#', and numbers the lines for error messages.
 *
 * With LINES_JOIN, as in Postfix, a line that begins with white space
 * continues the previous logical line: it is appended after one space,
 * without its leading white space; comment and blank lines in between do
 * not end the logical line.  Without it every line stands alone.  With
 * LINES_HASH_ANYWHERE a '#' anywhere starts a comment (postgrey's files).
 *
 * DIAGNOSTICS
 *	lines_next() returns -1 and sets l->error (a lines_error) and
 *	l->why (text without location) for a read error, a NUL byte, a
 *	logical line longer than LINES_LENGTH_LIMIT, or (LINES_JOIN) a
 *	continuation before any text; l->errline is the physical line.
 *	Callers add the file name in their own style.
 */
#ifndef MX_UTIL_LINES_H
#define MX_UTIL_LINES_H

#include <stdio.h>

#include "util/str.h"

/* the longest logical line of a configuration or table file, in bytes */
#define LINES_LENGTH_LIMIT	(64 * 1024)

#define LINES_JOIN		(1<<0)	/* white space at the start continues */
#define LINES_HASH_ANYWHERE	(1<<1)	/* '#' ends any line */

enum lines_error { LINES_OK, LINES_E_READ, LINES_E_NUL, LINES_E_LONG, LINES_E_LEADING };

struct lines {
    FILE   *fp;				/* reading a file, or */
    const char *text;			/* the rest of a text in memory */
    int     flags;
    size_t  limit;			/* LINES_LENGTH_LIMIT */
    char   *phys;			/* the physical line read */
    size_t  physcap;
    int     held;			/* phys starts the next logical line */
    int     eof;
    struct buf logical;
    int     lineno;			/* physical lines read */
    int     start;			/* first line of the last logical line */
    enum lines_error error;
    const char *why;
    int     errline;
};

/* lines_open - read path; -1 with errno set if it cannot be opened */
int     lines_open(struct lines *l, const char *path, int flags);

/* lines_text - read a NUL-terminated text */
void    lines_text(struct lines *l, const char *text, int flags);

/*
 * lines_next - the next logical line: 1 with *line (writable, valid until
 * the next call) and *lineno (where it starts); 0 at the end; -1 on error.
 * After LINES_E_LEADING, *line is the offending line, trimmed, and the
 * next call goes on after it (Postfix warns and skips such text); after
 * any other error every call returns -1.
 */
int     lines_next(struct lines *l, char **line, int *lineno);

/* lines_close - release (the file too) */
void    lines_close(struct lines *l);

#endif
