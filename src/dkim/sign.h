/*
 * sign.h - our own mail: DKIM key generation and signing.
 *
 *	dkim_keygen() makes an RSA or Ed25519 key, writes its private half
 *	as PEM to a new file that only its owner can read, and gives the
 *	TXT record to publish.  dkim_txt_zone() splits a record's value
 *	into the quoted strings of at most 255 bytes that DNS needs.
 */
#ifndef MX_DKIM_SIGN_H
#define MX_DKIM_SIGN_H

#include <stddef.h>

struct buf;

enum dkim_keytype {
    DKIM_KEY_RSA,
    DKIM_KEY_ED25519,
};

#define DKIM_KEYGEN_MIN_BITS	1024		/* RFC 8301 section 3.2 */
#define DKIM_KEYGEN_MAX_BITS	4096		/* verifiers may refuse more */
#define DKIM_KEYGEN_DEF_BITS	2048

/* dkim_keygen - new key at path (created, never replaced, mode 0600);
 * record gets the TXT value "v=DKIM1; k=...; p=...".  0, or -1 and why */
int     dkim_keygen(const char *path, enum dkim_keytype type, int bits,
		            struct buf *record, char *why, size_t whylen);

/* dkim_signkey_load - a PEM private key (RSA >= 1024 bits or Ed25519)
 * for d=domain s=selector; refused when the file is a link, not regular,
 * or accessible to group or others.  0, or -1 and why naming the file */
struct dkim_signkey;
int     dkim_signkey_load(const char *path, const char *domain, const char *selector,
			          struct dkim_signkey **out, char *why, size_t whylen);
const char *dkim_signkey_domain(const struct dkim_signkey *k);
const char *dkim_signkey_selector(const struct dkim_signkey *k);
/* dkim_signkey_matches - 1 the key record publishes k's public half, 0
 * another key, -1 not a usable key record (why in both cases) */
int     dkim_signkey_matches(const struct dkim_signkey *k, const char *record,
			             char *why, size_t whylen);
void    dkim_signkey_free(struct dkim_signkey *k);
/* dkim_signkey_sign - the signature of a SHA-256 digest (siglen in: the
 * room, out: the length); 0, or -1.  dkim_signkey_alg - its a= value */
int     dkim_signkey_sign(const struct dkim_signkey *k, const unsigned char h[32],
			          unsigned char *sig, size_t *siglen);
const char *dkim_signkey_alg(const struct dkim_signkey *k);

#define DKIM_SIGN_MAX_KEYS	4	/* signatures added to one message */

/* OpenDKIM's default list of fields to sign (RFC 6376 section 5.4.1) */
extern const char *dkim_sign_default_headers;

struct dkim_sign_conf {
    int     hrelaxed, brelaxed;		/* c=relaxed/relaxed: 1, 1 */
    const char *headers;		/* names, ':' ',' or space; NULL default */
    const char *oversign;		/* signed once more; NULL "from" */
};

struct dkim_sign;

/* dkim_sign_new ... dkim_sign_finish - the message as dkim_verify_*()
 * takes it (header values with their leading space, body lines in CRLF)
 * then one signature per key added: finish gives 0, or -1 and why */
struct dkim_sign *dkim_sign_new(const struct dkim_sign_conf *c);
int     dkim_sign_add_key(struct dkim_sign *s, const struct dkim_signkey *k);
/* dkim_sign_set_arc - ARC-Message-Signature values of instance i (i= for
 * v=, relaxed/relaxed) instead; first before the body, again before
 * finish to set the instance (arcseal.c) */
void    dkim_sign_set_arc(struct dkim_sign *s, int instance);
void    dkim_sign_header(struct dkim_sign *s, const char *name, size_t nlen,
			         const char *value, size_t vlen);
void    dkim_sign_body(struct dkim_sign *s, const void *data, size_t len);
int     dkim_sign_finish(struct dkim_sign *s, long long now, char *why, size_t whylen);

/* the DKIM-Signature field values, in the order the keys were added:
 * the text after "DKIM-Signature:", folded with CRLF TAB */
size_t  dkim_sign_count(const struct dkim_sign *s);
const char *dkim_sign_value(const struct dkim_sign *s, size_t i);
void    dkim_sign_free(struct dkim_sign *s);

/* dkim_txt_zone - append value as zone-file strings: "..." "..." */
void    dkim_txt_zone(struct buf *out, const char *value);

#endif
