/*
 * fuzz_milter.c - libFuzzer target: milter packets from the MTA.  The
 * input is a byte stream framed as the session frames it; every packet's
 * fields are read as the session reads them (strings, words, macro
 * pairs).  Framing must never read past the input nor accept a packet
 * past the limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "milter/proto.h"

#define LIMIT	4096

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *) data;
    size_t  off = 0;

    while (off < size) {
	int     cmd, v8;
	const char *d, *s;
	size_t  dl, sl;
	uint32_t v32;
	uint16_t v16;
	long    n = milter_packet(in + off, size - off, LIMIT, &cmd, &d, &dl);

	if (n <= 0)
	    break;
	if ((size_t) n > size - off || dl + 5 != (size_t) n || dl >= LIMIT)
	    abort();
	struct milter_rd r = {d, d + dl};

	switch (cmd) {
	case SMFIC_OPTNEG:
	    (void) (milter_rd_u32(&r, &v32) == 0 && milter_rd_u32(&r, &v32) == 0
		    && milter_rd_u32(&r, &v32) == 0);
	    break;
	case SMFIC_CONNECT:
	    if (milter_rd_str(&r, &s, &sl) == 0 && milter_rd_u8(&r, &v8) == 0 && v8 != 'U')
		(void) (milter_rd_u16(&r, &v16) == 0 && milter_rd_str(&r, &s, &sl) == 0);
	    break;
	case SMFIC_MACRO:
	    if (milter_rd_u8(&r, &v8) == 0)
		while (r.p < r.end && milter_rd_str(&r, &s, &sl) == 0
		       && milter_rd_str(&r, &s, &sl) == 0)
		    if (s + sl >= r.end)
			abort();
	    break;
	default:
	    while (milter_rd_str(&r, &s, &sl) == 0)
		if (s + sl >= r.end || s[sl] != 0)
		    abort();
	    break;
	}
	off += (size_t) n;
    }
    return 0;
}
