/*
 * arcseal.c - ARC sealing (RFC 8617 section 5.1) of a message we forward.
 *
 *	The message is fed as to the verifier; the ARC-Message-Signature
 *	is made by the DKIM signer in its ARC mode (sign.c: the same key
 *	handling, header selection and canonicalisation, i= for v=,
 *	relaxed/relaxed).  At the end the verifier's chain result gives
 *	the instance and cv=: no chain, instance 1 and cv=none; a chain
 *	that passed, N+1 and cv=pass, the seal signing every set 1..N then
 *	ours (AAR, AMS, AS each, relaxed, its own b= empty); a chain that
 *	failed, N+1 and cv=fail, the seal signing our set only (section
 *	5.1.2: the chain is dead, later verifiers stop at our seal).
 *
 *	The key is RSA: an Ed25519 key is refused for ARC (RFC 8463 defines
 *	it for DKIM; ARC verifiers, python3-dkim's among them, take
 *	rsa-sha256 seals only).
 *
 * DIAGNOSTICS
 *	Not sealed (0): the chain already has ARC_MAX_INSTANCES sets, or
 *	its result is fail only because a key lookup failed temporarily
 *	(a seal would make a temporary failure permanent).  -1: the
 *	message passed a header limit or OpenSSL failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim/arcseal.h"
#include "dkim/dkim_impl.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "util/mem.h"

struct arc_seal {
    const struct dkim_signkey *k;
    struct dkim_sign *ams;
    int     instance;
    const char *cv;
    char   *val[3];
};

static const char *names[3] = {
    "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal",
};

/* arc_seal_key - the arc_sign key of g's dkim_key_table; RSA only */
const struct dkim_signkey *arc_seal_key(struct dkim_signer *g, const char *name,
				                char *why, size_t whylen)
{
    const struct dkim_signkey *k = dkim_signer_key(g, name, why, whylen);

    if (k && strcmp(dkim_signkey_alg(k), "rsa-sha256") != 0) {
	snprintf(why, whylen, "key %s is %s: ARC verifiers take rsa-sha256 seals only;"
		 " name an RSA key", name, dkim_signkey_alg(k));
	return NULL;
    }
    return k;
}

struct arc_seal *arc_seal_new(const struct dkim_signkey *k, const struct dkim_sign_conf *c)
{
    struct arc_seal *a = xcalloc(1, sizeof(*a));

    a->k = k;
    a->ams = dkim_sign_new(c);
    dkim_sign_set_arc(a->ams, 1);
    dkim_sign_add_key(a->ams, k);
    return a;
}

void    arc_seal_header(struct arc_seal *a, const char *name, size_t nlen,
			        const char *value, size_t vlen)
{
    dkim_sign_header(a->ams, name, nlen, value, vlen);
}

void    arc_seal_body(struct arc_seal *a, const void *data, size_t len)
{
    dkim_sign_body(a->ams, data, len);
}

/* seal_value - the ARC-Seal's value and signature over sets + our AAR, AMS */
static int seal_value(struct arc_seal *a, struct buf *sets, long long now, struct buf *out)
{
    unsigned char h[32], sig[DKIM_MAX_SIGLEN];
    size_t  siglen = sizeof(sig), need;
    struct buf b64;

    dkim_canon_header(sets, 1, names[ARC_SEAL_AAR], strlen(names[ARC_SEAL_AAR]),
		      a->val[ARC_SEAL_AAR], strlen(a->val[ARC_SEAL_AAR]));
    dkim_canon_header(sets, 1, names[ARC_SEAL_AMS], strlen(names[ARC_SEAL_AMS]),
		      a->val[ARC_SEAL_AMS], strlen(a->val[ARC_SEAL_AMS]));
    buf_printf(out, " i=%d; cv=%s; a=%s; d=%s; s=%s;\r\n\tt=%lld; b=", a->instance, a->cv,
	       dkim_signkey_alg(a->k), dkim_signkey_domain(a->k),
	       dkim_signkey_selector(a->k), now);
    /* the seal signs itself with b= empty, without its CRLF */
    dkim_canon_header(sets, 1, names[ARC_SEAL_AS], strlen(names[ARC_SEAL_AS]), out->s,
		      out->len);
    dkim_sha256(sets->s, sets->len - 2, h);
    if (dkim_signkey_sign(a->k, h, sig, &siglen) < 0)
	return -1;
    buf_init(&b64);
    need = 4 * ((siglen + 2) / 3);
    buf_grow(&b64, need);
    EVP_EncodeBlock((unsigned char *) b64.s, sig, (int) siglen);
    b64.len = need;
    b64.s[need] = 0;
    for (size_t off = 0; off < b64.len; off += 72) {
	if (off)
	    buf_puts(out, "\r\n\t ");
	buf_append(out, b64.s + off, b64.len - off > 72 ? 72 : b64.len - off);
    }
    buf_free(&b64);
    return 0;
}

int     arc_seal_finish(struct arc_seal *a, const struct dkim_verify *v, const char *ar,
			        long long now, char *why, size_t whylen)
{
    enum arc_result r = dkim_verify_arc(v, NULL, NULL);
    int     n = dkim_verify_arc_instance(v);
    struct buf sets, val;
    int     rc;

    if (r == ARC_FAIL && dkim_verify_arc_temporary(v)) {
	snprintf(why, whylen, "not ARC-sealed: the chain's result is unknown (a key lookup"
		 " failed temporarily)");
	return 0;
    }
    if (n >= ARC_MAX_INSTANCES) {
	snprintf(why, whylen, "not ARC-sealed: the chain has %d sets already",
		 ARC_MAX_INSTANCES);
	return 0;
    }
    a->instance = n + 1;
    a->cv = r == ARC_PASS ? "pass" : r == ARC_FAIL ? "fail" : "none";
    if (r == ARC_NONE && n > 0)
	a->cv = "fail";			/* fields but no chain: broken */
    buf_init(&val);
    buf_printf(&val, " i=%d;%s", a->instance, ar);
    a->val[ARC_SEAL_AAR] = buf_steal(&val);
    dkim_sign_set_arc(a->ams, a->instance);
    if (dkim_sign_finish(a->ams, now, why, whylen) < 0)
	return -1;
    a->val[ARC_SEAL_AMS] = xstrdup(dkim_sign_value(a->ams, 0));
    buf_init(&sets);
    buf_init(&val);
    if (r == ARC_PASS)
	dkim_verify_arc_sets(v, &sets);
    if ((rc = seal_value(a, &sets, now, &val)) < 0)
	snprintf(why, whylen, "ARC-sealing with %s._domainkey.%s failed",
		 dkim_signkey_selector(a->k), dkim_signkey_domain(a->k));
    else
	a->val[ARC_SEAL_AS] = buf_steal(&val);
    buf_free(&sets);
    buf_free(&val);
    return rc < 0 ? -1 : 1;
}

const char *arc_seal_value(const struct arc_seal *a, enum arc_seal_field f)
{
    return a->val[f];
}

const char *arc_seal_name(enum arc_seal_field f)
{
    return names[f];
}

const char *arc_seal_cv(const struct arc_seal *a)
{
    return a->cv;
}

int     arc_seal_instance(const struct arc_seal *a)
{
    return a->instance;
}

void    arc_seal_free(struct arc_seal *a)
{
    if (a == NULL)
	return;
    dkim_sign_free(a->ams);
    for (int i = 0; i < 3; i++)
	free(a->val[i]);
    free(a);
}
