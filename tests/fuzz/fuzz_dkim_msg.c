/*
 * fuzz_dkim_msg.c - libFuzzer target: a whole message through the
 * verifier as `mxshield dkim` reads it: header fields (DKIM-Signature,
 * ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results among
 * others), the body in chunks, keys from a fixed table (the test keys of
 * tests/data/dkim/: rsa and ed at dkim.test), other names not found or
 * a temporary failure by their hash.  Every result must be one of the
 * known ones with a reason; never pending.  An input starting with
 * "RAW\n" skips the message reader: each line up to an empty one is a
 * field whose name (up to the first ':') and value go to the verifier
 * as they are, NUL and all, as a careless caller might pass them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/dkim_cmd.h"
#include "dkim/dkim.h"
#include "dns/dns.h"
#include "util/mem.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rsa_key[] = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtg1SzR6vxo4Pz/2U5dufdQyzcIIGa/57konWAEV5M8iY1fZqsQ3zUmqNGmGA7yvFJc/vESZhfUPjsA9R2yUz6AkuNMhC0wD3iZLNw5H+SxYBvA0RU0iSBNYAeLNWKvPPNsnCw6bLbTKouFaa3QAE5SWnMtMcwbS0am5LG3GjlyjKOER1yYBJn0mC+2I8VTj3hsIJcu0j2EyvJsiNB88CjvFpMg4o09PTPiiSnMcSvKa6rU4X5RshDUcCUButDpIu8aqQL2uCPS82IUNK4AYX1SqHC9IKDJn06KU696USs/Eu9W2RcRIsBo+FGnqj0yi13nqzTaV8Qqg1b5yFswRhNwIDAQAB";
static const char ed_key[] = "v=DKIM1; k=ed25519; p=3RCnDAu5E5hnO1W9NOiTflzq8tS2RutzUsiMcsTQ9Pw=";

static struct dns_answer *made[4096];
static size_t nmade;

static struct dns_answer *get(void *ctx, const char *name)
{
    struct dns_answer *a;
    unsigned h = 2166136261u;
    const char *text = NULL;

    (void) ctx;
    for (const char *p = name; *p; p++)
	h = (h ^ (unsigned char) *p) * 16777619u;
    if (strcasecmp(name, "rsa._domainkey.dkim.test") == 0)
	text = rsa_key;
    else if (strcasecmp(name, "ed._domainkey.dkim.test") == 0)
	text = ed_key;
    if (text) {
	a = dns_answer_new(name, DNS_T_TXT, DNS_OK, NULL);
	a->rr = xcalloc(1, sizeof(*a->rr));
	a->rr[0].text = xstrdup(text);
	a->n = 1;
    } else {
	a = dns_answer_new(name, DNS_T_TXT, h % 5 == 0 ? DNS_TEMPFAIL : DNS_NXDOMAIN, NULL);
    }
    if (nmade == sizeof(made) / sizeof(made[0]))
	abort();
    made[nmade++] = a;
    return a;
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE   *fp;
    struct dkim_verify *v;
    const char *sealer, *reason;

    if (size > 200000)
	return 0;
    v = dkim_verify_new(NULL, NULL);
    dkim_verify_set_keys(v, get, NULL);
    dkim_verify_set_time(v, 1764900000);
    if (size >= 4 && memcmp(data, "RAW\n", 4) == 0) {
	const char *p = (const char *) data + 4, *end = (const char *) data + size;

	while (p < end) {
	    const char *nl = memchr(p, '\n', (size_t) (end - p));
	    const char *e = nl ? nl : end, *colon = memchr(p, ':', (size_t) (e - p));

	    if (e == p) {
		p++;
		break;			/* the empty line: the body follows */
	    }
	    if (colon)
		dkim_verify_header(v, p, (size_t) (colon - p), colon + 1, (size_t) (e - colon - 1));
	    p = nl ? nl + 1 : end;
	}
	dkim_verify_eoh(v);
	if (p < end)
	    dkim_verify_body(v, p, (size_t) (end - p));
    } else {
	if ((fp = fmemopen((void *) data, size, "rb")) == NULL) {
	    dkim_verify_free(v);
	    return 0;
	}
	dkim_feed_message(fp, v);
	fclose(fp);
    }
    if (dkim_verify_finish(v) != 1)
	abort();
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
	const struct dkim_sig_result *r = dkim_verify_result(v, i);

	if (r->index != (int) i || r->reason == NULL || r->result == DKIM_NONE
	    || r->result > DKIM_PERMERROR)
	    abort();
    }
    enum arc_result ar = dkim_verify_arc(v, &sealer, &reason);

    if (reason == NULL || (ar == ARC_PASS && sealer == NULL))
	abort();
    dkim_verify_free(v);
    for (size_t i = 0; i < nmade; i++)
	dns_answer_unref(made[i]);
    nmade = 0;
    return 0;
}
