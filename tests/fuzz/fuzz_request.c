/*
 * fuzz_request.c - libFuzzer target: Postfix policy attribute lines, as a
 * hostile client could send them, into one request; then every well-known
 * attribute and a lookup by name are read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/request.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request r;
    const char *p = (const char *) data, *end = p + size;
    volatile size_t sink = 0;

    request_init(&r);
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t  len = nl ? (size_t) (nl - p) : (size_t) (end - p);

	if (request_add_line(&r, p, len) < 0) {
	    request_reset(&r);			/* as a connection would */
	}
	p += len + (nl != NULL);
    }
    const struct txn *t = &r.txn;
    const char *f[] = {r.request, t->protocol_state, t->protocol_name, t->helo_name,
	t->queue_id, t->sender, t->recipient, t->client_address, t->client_name,
	t->reverse_client_name, t->instance, t->sasl_method, t->sasl_username,
	t->sasl_sender, t->ccert_fingerprint, t->encryption_protocol, t->stress, t->size,
	t->test_time, request_get(&r, "recipient"), request_get(&r, "nosuch")};

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
	if (f[i])
	    sink += strlen(f[i]);
    (void) sink;
    request_free(&r);
    return 0;
}
