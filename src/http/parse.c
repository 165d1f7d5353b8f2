/*
 * parse.c - the head of an HTTP/1.x request (see parse.h).
 */
#include <string.h>

#include "http/parse.h"

/* head_end - length of the head up to and including its empty line, looking
 * for it from byte from on; 0: not yet */
static size_t head_end(const char *buf, size_t len, size_t from)
{
    const char *nl = memchr(buf + from, '\n', len - from);

    for (; nl != NULL; nl = memchr(nl + 1, '\n', len - (size_t) (nl + 1 - buf))) {
	size_t  at = (size_t) (nl - buf) + 1;	/* the next line starts here */

	if (at < len && buf[at] == '\n')
	    return at + 1;
	if (at + 1 < len && buf[at] == '\r' && buf[at + 1] == '\n')
	    return at + 2;
    }
    return 0;
}

/* token_char - tchar of RFC 9110 */
static int token_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	|| (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* http_parse - see parse.h */
int     http_parse(const char *buf, size_t len, const struct http_limits *lim,
		           struct http_req *req, size_t *seen)
{
    size_t  scan = len > lim->head_max ? lim->head_max : len;
    size_t  from = *seen > 3 ? *seen - 3 : 0;	/* an end may straddle reads */
    size_t  end = head_end(buf, scan, from < scan ? from : scan);
    const char *p, *eol, *sp1, *sp2, *q, *ver;
    size_t  n, vlen;

    req->head = 0;
    req->path[0] = 0;
    req->head_len = 0;
    req->headers = 0;
    if (end == 0) {
	*seen = scan;
	return len > lim->head_max ? 431 : HTTP_INCOMPLETE;
    }
    req->head_len = end;

    /* request line: METHOD SP target SP HTTP/1.x */
    eol = memchr(buf, '\n', end);
    n = (size_t) (eol - buf);
    if (n > 0 && buf[n - 1] == '\r')
	n--;
    if ((sp1 = memchr(buf, ' ', n)) == NULL
	|| (sp2 = memchr(sp1 + 1, ' ', n - (size_t) (sp1 + 1 - buf))) == NULL)
	return 400;
    for (p = buf; p < sp1; p++)
	if (!token_char((unsigned char) *p))
	    return 400;
    if (sp1 == buf)
	return 400;
    ver = sp2 + 1;
    vlen = (size_t) (buf + n - ver);
    if (vlen < 5 || memcmp(ver, "HTTP/", 5) != 0)
	return 400;
    if (vlen != 8 || ver[5] != '1' || ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
	return 505;
    if ((size_t) (sp2 - (sp1 + 1)) > HTTP_TARGET_MAX)
	return 414;
    if (sp1[1] != '/')
	return 400;
    for (p = sp1 + 1; p < sp2; p++)
	if ((unsigned char) *p <= ' ' || *p == 0x7f)
	    return 400;
    if ((size_t) (sp1 - buf) == 3 && memcmp(buf, "GET", 3) == 0)
	req->head = 0;
    else if ((size_t) (sp1 - buf) == 4 && memcmp(buf, "HEAD", 4) == 0)
	req->head = 1;
    else
	return 405;
    q = memchr(sp1 + 1, '?', (size_t) (sp2 - (sp1 + 1)));
    if (q == NULL)
	q = sp2;
    memcpy(req->path, sp1 + 1, (size_t) (q - (sp1 + 1)));
    req->path[q - (sp1 + 1)] = 0;

    /* header lines: name ":" value; no folding (RFC 9112 5.2) */
    for (p = eol + 1; p < buf + end; p = eol + 1) {
	eol = memchr(p, '\n', (size_t) (buf + end - p));
	n = (size_t) (eol - p);
	if (n > 0 && p[n - 1] == '\r')
	    n--;
	if (n == 0)
	    break;			/* the empty line */
	if (++req->headers > lim->headers_max)
	    return 431;
	for (q = p; q < p + n && token_char((unsigned char) *q); q++)
	     /* void */ ;
	if (q == p || q == p + n || *q != ':')
	    return 400;
	for (; q < p + n; q++)
	    if (*q == 0 || *q == '\r')
		return 400;
    }
    return HTTP_OK;
}
