/*
 * crypto.c - base64 and the signature check on OpenSSL 3 EVP.
 *
 *	dkim_base64() decodes b=, bh= and p= (white space ignored).
 *	dkim_crypto_pubkey() makes a key from p=: RSA as SubjectPublicKeyInfo
 *	(RFC 6376) or a bare RSAPublicKey (which some publish), Ed25519 as
 *	the 32 raw bytes (RFC 8463).  dkim_crypto_verify() checks a
 *	signature over the SHA-256 digest of the canonical header data:
 *	RSASSA-PKCS1-v1_5, or Ed25519 over the digest's bytes (RFC 8463
 *	section 3).  Working from the digest lets ARC hash the seals'
 *	shared prefix once.  OpenSSL's error queue is cleared after each failure so
 *	that one bad key leaves nothing behind for the next caller.
 *	dkim_sha256_md() is SHA-256 fetched from the provider once per
 *	process: EVP_sha256() makes OpenSSL 3 fetch it again (a lookup under
 *	its locks) every time a digest starts.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "dkim/dkim_impl.h"
#include "util/log.h"

/* b64tab - each byte's base64 value; -1 not base64, -2 white space, -3 '=' */
static signed char b64tab[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
    static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    memset(b64tab, -1, sizeof(b64tab));
    for (int i = 0; i < 64; i++)
	b64tab[(unsigned char) alphabet[i]] = (signed char) i;
    b64tab[' '] = b64tab['\t'] = b64tab['\r'] = b64tab['\n'] = -2;
    b64tab['='] = -3;
}

/* dkim_base64 - decode s (white space ignored) into out: length, or -1 */
long    dkim_base64(const char *s, size_t len, unsigned char *out, size_t outlen)
{
    unsigned long acc = 0;
    int     bits = 0, pad = 0;
    size_t  o = 0;

    pthread_once(&b64_once, b64_init);
    for (size_t i = 0; i < len; i++) {
	int     v = b64tab[(unsigned char) s[i]];

	if (v == -2)
	    continue;			/* white space */
	if (v == -3) {
	    if (++pad > 2)
		return -1;
	    continue;
	}
	if (pad || v < 0)
	    return -1;			/* data after padding, or not base64 */
	acc = (acc << 6) | (unsigned long) v;
	bits += 6;
	if (bits >= 8) {
	    bits -= 8;
	    if (o >= outlen)
		return -1;
	    out[o++] = (unsigned char) (acc >> bits);
	    acc &= (1UL << bits) - 1;
	}
    }
    if (bits >= 6)
	return -1;			/* a lone sextet cannot end the data */
    return (long) o;
}

/* dkim_crypto_pubkey - a public key from p=, or NULL */
EVP_PKEY *dkim_crypto_pubkey(int type, const unsigned char *der, size_t len)
{
    EVP_PKEY *pk = NULL;
    const unsigned char *p = der;

    if (type == DKIM_ALG_ED25519_SHA256) {
	if (len == 32)
	    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, len);
    } else {
	pk = d2i_PUBKEY(NULL, &p, (long) len);
	if (pk && (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || p != der + len)) {
	    EVP_PKEY_free(pk);
	    pk = NULL;
	}
	if (pk == NULL) {
	    p = der;
	    pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long) len);
	    if (pk && p != der + len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	    }
	}
    }
    ERR_clear_error();
    return pk;
}

/* dkim_crypto_verify - does sig hold for the SHA-256 digest h under key k?
 * RSA signs the digest (PKCS#1 v1.5, SHA-256); Ed25519 (RFC 8463) signs
 * the 32 bytes of the digest themselves */
int     dkim_crypto_verify(const struct dkim_key *k, const unsigned char h[32],
			           const unsigned char *sig, size_t siglen)
{
    int     ok = 0;

    if (k->type == DKIM_ALG_ED25519_SHA256) {
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();

	if (mctx && EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, k->pkey) == 1)
	    ok = EVP_DigestVerify(mctx, sig, siglen, h, 32) == 1;
	EVP_MD_CTX_free(mctx);
    } else {
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(k->pkey, NULL);

	if (pctx && EVP_PKEY_verify_init(pctx) == 1
	    && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
	    && EVP_PKEY_CTX_set_signature_md(pctx, dkim_sha256_md()) == 1)
	    ok = EVP_PKEY_verify(pctx, sig, siglen, h, 32) == 1;
	EVP_PKEY_CTX_free(pctx);
    }
    if (!ok)
	ERR_clear_error();
    return ok;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    if ((sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
	msg_panic("dkim: OpenSSL has no SHA-256");
}

/* dkim_sha256_md - SHA-256, fetched once per process (never freed) */
const EVP_MD *dkim_sha256_md(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md;
}

/* dkim_sha256 - the digest of len bytes */
void    dkim_sha256(const void *data, size_t len, unsigned char h[32])
{
    unsigned int hl = 32;

    if (EVP_Digest(data, len, h, &hl, dkim_sha256_md(), NULL) != 1)
	msg_panic("dkim: SHA-256 failed");
}
