/*
 * fuzz_dkim_sig.c - libFuzzer target: a DKIM-Signature, ARC-Message-
 * Signature or ARC-Seal value (the first byte picks which) through the
 * tag-list parser and dkim_sig_parse(); what parsed must hold together
 * (b= emptied shorter than the value, instance within 1..50, d= set).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_impl.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkim_sig s;
    struct dkim_tags tl;
    const char *why;
    char    reason[160];

    if (size < 1)
	return 0;
    enum dkim_sig_kind kind = data[0] % 3 == 0 ? DKIM_KIND_DKIM
	: data[0] % 3 == 1 ? DKIM_KIND_AMS : DKIM_KIND_AS;
    const char *v = (const char *) data + 1;
    size_t  len = size - 1;

    if (dkim_tags_parse(v, len, &tl, &why) == 0) {
	for (size_t i = 0; i < tl.n; i++)
	    if (tl.t[i].raw_start > tl.t[i].raw_end || tl.t[i].raw_end > len
		|| tl.t[i].val + tl.t[i].vlen > v + len)
		abort();
    }
    if (dkim_sig_parse(&s, kind, v, len, reason, sizeof(reason)) == DKIM_PASS) {
	if (s.d == NULL || s.s == NULL || s.value_nob == NULL || s.value_nob_len > len)
	    abort();
	if (kind != DKIM_KIND_DKIM && (s.instance < 1 || s.instance > 50))
	    abort();
	if (kind == DKIM_KIND_DKIM && (s.i == NULL || strrchr(s.i, '@') == NULL))
	    abort();
    } else if (reason[0] == 0) {
	abort();			/* every refusal says why */
    }
    dkim_sig_free(&s);
    return 0;
}
