/*
 * fuzz_http.c - libFuzzer target: the head of an HTTP request as a metrics
 * client could send it.  The first two bytes choose the limits; the rest
 * is parsed whole and again one byte at a time (as slow clients send it),
 * which must give the same result; what an accepted head yields must obey
 * the limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_limits lim;
    struct http_req whole, part;
    size_t  seen = 0, i;
    int     rc, rc2 = HTTP_INCOMPLETE;
    const char *in;

    if (size < 2)
	return 0;
    lim.head_max = 16 + data[0] * 4;
    lim.headers_max = data[1] % 32;
    in = (const char *) data + 2;
    size -= 2;

    rc = http_parse(in, size, &lim, &whole, &seen);
    if (rc == HTTP_OK) {
	if (whole.head_len > size || whole.head_len > lim.head_max
	    || whole.headers > lim.headers_max || whole.path[0] != '/'
	    || strlen(whole.path) > HTTP_TARGET_MAX)
	    abort();
    }
    seen = 0;
    for (i = 1; i <= size && rc2 == HTTP_INCOMPLETE; i++)
	rc2 = http_parse(in, i, &lim, &part, &seen);
    if (rc2 != rc)
	abort();
    if (rc == HTTP_OK && (part.head_len != whole.head_len || strcmp(part.path, whole.path) != 0))
	abort();
    return 0;
}
