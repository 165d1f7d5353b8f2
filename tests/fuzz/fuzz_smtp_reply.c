/*
 * fuzz_smtp_reply.c - libFuzzer target: the SMTP reply reader of
 * `mxshield relay-test` (src/cli/relay_test.c) over what a server sends:
 * multi-line replies, bare LF, missing codes, lines past RELAY_MAX_LINE,
 * replies past RELAY_MAX_LINES.  The input goes through a pipe, as the
 * socket would give it; the reader must stop at the first bad reply and
 * never read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/relay_test.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     p[2];

    if (size > 60000 || pipe(p) < 0)	/* within a pipe's buffer */
	return 0;
    if (size && write(p[1], data, size) != (ssize_t) size)
	abort();
    close(p[1]);
    if (relay_test_replies(p[0]) < 0)
	abort();
    close(p[0]);
    return 0;
}
