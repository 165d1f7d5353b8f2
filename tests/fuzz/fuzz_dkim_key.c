/*
 * fuzz_dkim_key.c - libFuzzer target: a key record as DNS gives it
 * (RFC 6376 3.6.1, RFC 8463) through dkim_key_parse(): tag-list, v=, k=,
 * h=, s=, t=, and p= into OpenSSL (SubjectPublicKeyInfo, bare RSA, raw
 * Ed25519).  A record that parsed has a key; one that did not says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dkim/dkim_impl.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkim_key k;
    char    why[160];
    enum dkim_result r = dkim_key_parse(&k, (const char *) data, size, 1024, why, sizeof(why));

    if (r == DKIM_PASS && k.pkey == NULL)
	abort();
    if (r != DKIM_PASS && why[0] == 0)
	abort();
    dkim_key_free(&k);
    return 0;
}
