/*
 * parse.h - the head of one HTTP/1.x request, as the metrics listener reads it.
 *
 * http_parse() looks at the bytes a client sent so far.  The head (request
 * line and header lines, up to the empty line; CRLF or bare LF) must fit in
 * lim->head_max bytes and have at most lim->headers_max header lines.  Only
 * GET and HEAD are served, and nothing here reads a body: the listener
 * answers and closes.  *seen (0 for a new request) remembers how far the
 * bytes were searched for the end of the head, so that a client sending
 * one byte at a time costs one pass over its bytes in all, bounded by
 * head_max.
 *
 * Results: HTTP_INCOMPLETE (wait for more), HTTP_OK (req is filled;
 * its strings point into buf), or the status code to answer with:
 * 400 malformed, 405 another method, 414 a target longer than
 * HTTP_TARGET_MAX, 431 head or header count past the limit, 505 not
 * HTTP/1.x.
 */
#ifndef MX_HTTP_PARSE_H
#define MX_HTTP_PARSE_H

#include <stddef.h>

#define HTTP_INCOMPLETE	0
#define HTTP_OK		1
#define HTTP_TARGET_MAX	1024

struct http_limits {
    size_t  head_max;			/* bytes of request line and headers */
    size_t  headers_max;		/* header lines */
};

struct http_req {
    int     head;			/* HEAD: no body in the answer */
    char    path[HTTP_TARGET_MAX + 1];	/* target without the query */
    size_t  head_len;			/* bytes of the head, empty line included */
    size_t  headers;			/* header lines */
};

int     http_parse(const char *buf, size_t len, const struct http_limits *lim,
		           struct http_req *req, size_t *seen);

#endif
