/*
 * fuzz_records.c - libFuzzer target: stored values are outside data (a
 * database from disk, later a server's answers).  The first byte picks the
 * kind (triplet, client, manual whitelist entry) and the time; the rest is
 * the value.  A value that decodes must re-encode to a value that decodes
 * to the same fields, and greylisting's arithmetic on it must stay defined
 * (UBSan: signed overflow).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greylist/greylist.h"
#include "store/encode.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct gl_conf g = {
	.delay = 300, .max_age = 35 * 86400, .retry_window = 2 * 86400, .awl_clients = 5,
	.ipv4_prefix = 24, .ipv6_prefix = 64,
    };
    unsigned char out[STORE_VALUE_MAX];
    struct gl_decision d;
    struct gl_triplet t, t2;
    struct gl_client c, c2;
    int64_t now, when, when2;

    if (size < 1)
	return 0;
    now = (data[0] & 0x80) ? 1700000000 : 0;
    switch (data[0] % 3) {
    case 0:
	if (gl_triplet_decode(data + 1, size - 1, &t) == STORE_VALUE_BAD)
	    return 0;
	gl_decide(&g, now, &t, NULL, &d);
	(void) gl_triplet_expired(&g, now, &t);
	if (gl_triplet_decode(out, gl_triplet_encode(&t, out), &t2) != STORE_VALUE_OK
	    || t2.first != t.first || t2.last != t.last)
	    abort();
	break;
    case 1:
	if (gl_client_decode(data + 1, size - 1, &c) == STORE_VALUE_BAD)
	    return 0;
	gl_decide(&g, now, NULL, &c, &d);
	(void) gl_client_expired(&g, now, &c);
	if (gl_client_decode(out, gl_client_encode(&c, out), &c2) != STORE_VALUE_OK
	    || c2.count != c.count || c2.last != c.last)
	    abort();
	break;
    default:
	if (gl_wl_entry_decode(data + 1, size - 1, &when) == STORE_VALUE_BAD)
	    return 0;
	if (gl_wl_entry_decode(out, gl_wl_entry_encode(when, out), &when2) != STORE_VALUE_OK
	    || when2 != when)
	    abort();
	break;
    }
    return 0;
}
