/*
 * arcseal.h - ARC sealing (RFC 8617) of a message we forward: after the
 * verifier has judged the chain, one ARC set of the next instance:
 * ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal.
 */
#ifndef MX_DKIM_ARCSEAL_H
#define MX_DKIM_ARCSEAL_H

#include <stddef.h>

struct dkim_signkey;
struct dkim_sign_conf;
struct dkim_verify;

enum arc_seal_field {
    ARC_SEAL_AAR,			/* ARC-Authentication-Results */
    ARC_SEAL_AMS,			/* ARC-Message-Signature */
    ARC_SEAL_AS,			/* ARC-Seal */
};

struct arc_seal;
struct dkim_signer;

/* arc_seal_key - the key named by arc_sign in dkim_key_table (owned by
 * g): NULL and why when it is missing, unusable or not RSA */
const struct dkim_signkey *arc_seal_key(struct dkim_signer *g, const char *name,
				                char *why, size_t whylen);

/* arc_seal_new - a sealer with key k (the caller's, outliving it); c
 * gives the header list of the AMS (its canonicalisation is relaxed) */
struct arc_seal *arc_seal_new(const struct dkim_signkey *k, const struct dkim_sign_conf *c);

/* the message as dkim_verify_header() and dkim_verify_body() take it */
void    arc_seal_header(struct arc_seal *a, const char *name, size_t nlen,
			        const char *value, size_t vlen);
void    arc_seal_body(struct arc_seal *a, const void *data, size_t len);

/*
 * arc_seal_finish - after the verifier v (fed the same message) finished:
 * ar the value of our Authentication-Results (after the colon, "
 * authserv-id; results", folded with CRLF TAB or not at all).  1 sealed
 * (the values by arc_seal_value()), 0 not sealed and why (the chain
 * already has ARC_MAX_INSTANCES sets, or a key lookup failed temporarily
 * so that its result is unknown), -1 a limit was passed or signing
 * failed (why).
 */
int     arc_seal_finish(struct arc_seal *a, const struct dkim_verify *v, const char *ar,
			        long long now, char *why, size_t whylen);

/* arc_seal_value - a field's value after its colon, folded CRLF TAB; to be
 * inserted at the top, ARC-Seal topmost: AS, AMS, AAR from the top */
const char *arc_seal_value(const struct arc_seal *a, enum arc_seal_field f);
const char *arc_seal_name(enum arc_seal_field f);
/* arc_seal_cv - the cv= the seal carries (after 1) */
const char *arc_seal_cv(const struct arc_seal *a);
int     arc_seal_instance(const struct arc_seal *a);

void    arc_seal_free(struct arc_seal *a);

#endif
