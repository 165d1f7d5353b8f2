/*
 * fuzz_dkim_canon.c - libFuzzer target: canonicalisation.  The body is
 * canonicalised whole and in chunks of a size taken from the first byte:
 * both must give the same bytes (the streaming state machine forgets
 * nothing at a chunk boundary) and the same bytes as a plain
 * line-by-line reading of RFC 6376 section 3.4.3/3.4.4 (reference(),
 * which checks the streaming fast path); relaxed output has no white space before
 * a CRLF and no runs of it; both end in CRLF unless empty.  The same
 * input as a header value goes through both header canonicalisations.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_impl.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void collect(void *ctx, const char *p, size_t n)
{
    buf_append(ctx, p, n);
}

static void canon(struct buf *out, int relaxed, const char *p, size_t n, size_t chunk)
{
    struct dkim_bodycanon c;

    dkim_bodycanon_init(&c, relaxed, collect, out);
    for (size_t i = 0; i < n; i += chunk)
	dkim_bodycanon_feed(&c, p + i, n - i < chunk ? n - i : chunk);
    dkim_bodycanon_end(&c);
}

/* reference - the body canonicalised whole, line by line, the slow way */
static void reference(struct buf *out, int relaxed, const char *p, size_t n)
{
    size_t  i = 0, keep = 0;		/* out->len after the last non-empty line */

    while (i < n) {
	size_t  e = i, next;

	while (e < n && !(p[e] == '\r' && e + 1 < n && p[e + 1] == '\n'))
	    e++;
	next = e < n ? e + 2 : n;	/* a last line without CRLF ends at n */
	size_t  start = out->len;

	if (!relaxed) {
	    buf_append(out, p + i, e - i);
	} else {
	    int     wsp = 0;

	    for (size_t k = i; k < e; k++) {
		if (p[k] == ' ' || p[k] == '\t') {
		    wsp = 1;
		    continue;
		}
		if (wsp)
		    buf_putc(out, ' ');
		wsp = 0;
		buf_putc(out, p[k]);
	    }
	}
	int     empty = out->len == start;

	buf_append(out, "\r\n", 2);
	if (!empty)
	    keep = out->len;
	i = next;
    }
    out->len = keep;			/* trailing empty lines go */
    if (!relaxed && keep == 0)
	buf_append(out, "\r\n", 2);	/* simple: an empty body is CRLF */
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf whole, parts, h;

    if (size < 1 || size > 65536)
	return 0;
    size_t  chunk = 1 + data[0] % 17;
    const char *p = (const char *) data + 1;
    size_t  n = size - 1;

    buf_init(&whole);
    buf_init(&parts);
    buf_init(&h);
    for (int relaxed = 0; relaxed < 2; relaxed++) {
	buf_reset(&whole);
	buf_reset(&parts);
	canon(&whole, relaxed, p, n, n + 1);
	canon(&parts, relaxed, p, n, chunk);
	if (whole.len != parts.len || memcmp(whole.s, parts.s, whole.len) != 0)
	    abort();
	buf_reset(&parts);
	reference(&parts, relaxed, p, n);
	if (whole.len != parts.len || memcmp(whole.s, parts.s, whole.len) != 0)
	    abort();
	if (whole.len > 0 && (whole.len < 2 || memcmp(whole.s + whole.len - 2, "\r\n", 2) != 0))
	    abort();
	if (relaxed) {
	    for (size_t i = 0; i + 1 < whole.len; i++) {
		if (whole.s[i] == '\t' || (whole.s[i] == ' ' && whole.s[i + 1] == ' '))
		    abort();
		if (whole.s[i] == ' ' && whole.s[i + 1] == '\r' && i + 2 < whole.len
		    && whole.s[i + 2] == '\n')
		    abort();
	    }
	    if (whole.len >= 4 && memcmp(whole.s + whole.len - 4, "\r\n\r\n", 4) == 0)
		abort();		/* trailing empty lines are dropped */
	} else if (whole.len == 0) {
	    abort();			/* simple: at least CRLF */
	}
	buf_reset(&h);
	dkim_canon_header(&h, relaxed, "Subject", 7, p, n);
	if (h.len < 10)
	    abort();
    }
    buf_free(&whole);
    buf_free(&parts);
    buf_free(&h);
    return 0;
}
