/*
 * dkim_impl.h - the DKIM verifier's insides, shared by its files and its
 * tests: tag-lists (tags.c), canonicalisation (canon.c), signature and
 * key records (sig.c), base64 and OpenSSL (crypto.c), ARC (arc.c).
 * Nothing outside src/dkim/, tests/unit/test_dkim*.c and the fuzzers
 * includes it.
 */
#ifndef MX_DKIM_DKIM_IMPL_H
#define MX_DKIM_DKIM_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dkim/dkim.h"
#include "util/str.h"

/* Limits on what a message can make the verifier do. */
#define DKIM_MAX_TAGS		64	/* tags in one tag-list */
#define DKIM_MAX_SIG_SIZE	16384	/* one signature header's value */
#define DKIM_MAX_SIGNED_HEADERS	128	/* names in h= */
#define DKIM_MAX_KEY_SIZE	2048	/* a key record (DNS_MAX_TEXT) */
#define DKIM_MAX_RSA_BITS	8192	/* larger keys are refused (cost) */
#define DKIM_MAX_SIGLEN		1024	/* decoded b= */
#define DKIM_MAX_DOMAIN		253

/* tags.c: RFC 6376 section 3.2 tag-lists */
struct dkim_tag {
    const char *name;
    size_t  nlen;
    const char *val;			/* trimmed of surrounding white space */
    size_t  vlen;
    size_t  raw_start;			/* offset just after '=' */
    size_t  raw_end;			/* offset of the ';' or the end */
};

struct dkim_tags {
    struct dkim_tag t[DKIM_MAX_TAGS];
    size_t  n;
};

/* dkim_tags_parse - 0, or -1 with *why a constant reason */
int     dkim_tags_parse(const char *s, size_t len, struct dkim_tags *out, const char **why);
const struct dkim_tag *dkim_tags_get(const struct dkim_tags *tl, const char *name);
/* dkim_tag_str - the value as a new string; nows: white space removed */
char   *dkim_tag_str(const struct dkim_tag *t, int nows);

/* canon.c: RFC 6376 section 3.4 */
void    dkim_canon_header(struct buf *out, int relaxed, const char *name, size_t nlen,
			          const char *value, size_t vlen);

#define DKIM_CANON_OUT	4096

struct dkim_bodycanon {
    int     relaxed;
    int     cr;				/* a CR was seen, its LF not yet */
    int     wsp;			/* relaxed: white space pending */
    int     line_empty;			/* nothing of this line emitted */
    int     any;			/* anything emitted at all */
    unsigned long long empty_lines;	/* CRLFs held back (maybe trailing) */
    void    (*emit) (void *ctx, const char *p, size_t n);
    void   *ctx;
    size_t  olen;
    char    out[DKIM_CANON_OUT];
};

void    dkim_bodycanon_init(struct dkim_bodycanon *c, int relaxed,
		            void (*emit) (void *, const char *, size_t), void *ctx);
void    dkim_bodycanon_feed(struct dkim_bodycanon *c, const char *p, size_t n);
void    dkim_bodycanon_end(struct dkim_bodycanon *c);

/* sig.c: DKIM-Signature, ARC-Message-Signature and ARC-Seal */
enum dkim_alg {
    DKIM_ALG_RSA_SHA256,
    DKIM_ALG_ED25519_SHA256,
    DKIM_ALG_RSA_SHA1,			/* parsed to be refused (RFC 8301) */
};

enum dkim_sig_kind {
    DKIM_KIND_DKIM,
    DKIM_KIND_AMS,
    DKIM_KIND_AS,
};

enum arc_cv {
    ARC_CV_NONE,
    ARC_CV_PASS,
    ARC_CV_FAIL,
};

struct dkim_sig {
    enum dkim_sig_kind kind;
    enum dkim_alg alg;
    int     hrelaxed, brelaxed;
    char   *d, *s, *a, *i;		/* owned; i defaults to "@d" */
    char    b8[9];			/* the first 8 characters of b= */
    char  **h;				/* lower case names of h= */
    size_t  nh;
    long long l;			/* -1: no l= */
    long long t, x;			/* -1: absent */
    unsigned char bh[64];
    size_t  bhlen;
    unsigned char sig[DKIM_MAX_SIGLEN];
    size_t  siglen;
    int     instance;			/* ARC i= */
    enum arc_cv cv;			/* ARC-Seal cv= */
    char   *value_nob;			/* the header value with b= emptied */
    size_t  value_nob_len;
};

/*
 * dkim_sig_parse - a signature header's value into s; DKIM_PASS when it
 * parsed, else the result it earns (neutral, policy) and a reason in why
 */
enum dkim_result dkim_sig_parse(struct dkim_sig *s, enum dkim_sig_kind kind,
				        const char *value, size_t vlen,
				        char *why, size_t whylen);
void    dkim_sig_free(struct dkim_sig *s);

#define DKIM_KEY_FLAG_TESTING	1	/* t=y */
#define DKIM_KEY_FLAG_STRICT	2	/* t=s */

struct dkim_key {
    int     type;			/* DKIM_ALG_RSA_SHA256 or ED25519 */
    int     flags;
    int     hash_sha256;		/* h= absent or lists sha256 */
    int     revoked;			/* p= empty */
    EVP_PKEY *pkey;
    int     bits;
};

/* dkim_key_parse - a key record's text: DKIM_PASS, or permerror / policy
 * with a reason */
enum dkim_result dkim_key_parse(struct dkim_key *k, const char *text, size_t len,
				        int min_rsa_bits, char *why, size_t whylen);
void    dkim_key_free(struct dkim_key *k);

/* keycache.c: dkim_key_parse() through a cache of keys that parsed */
#define DKIM_KEY_CACHE		128
enum dkim_result dkim_key_get(struct dkim_key *k, const char *text, size_t len,
			              int min_rsa_bits, char *why, size_t whylen);
void    dkim_key_cache_flush(void);

/* crypto.c */
/* dkim_base64 - decode, white space ignored: the length, or -1 */
long    dkim_base64(const char *s, size_t len, unsigned char *out, size_t outlen);
/* dkim_crypto_verify - 1 the signature over a SHA-256 digest holds, 0 not */
int     dkim_crypto_verify(const struct dkim_key *k, const unsigned char h[32],
			           const unsigned char *sig, size_t siglen);
void    dkim_sha256(const void *data, size_t len, unsigned char h[32]);
/* dkim_sha256_md - SHA-256 fetched once per process, for EVP_DigestInit_ex */
const EVP_MD *dkim_sha256_md(void);
EVP_PKEY *dkim_crypto_pubkey(int type, const unsigned char *der, size_t len);

#endif
