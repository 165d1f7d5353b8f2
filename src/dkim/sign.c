/*
 * sign.c - DKIM signing (RFC 6376) of our own mail, rsa-sha256 and
 * ed25519-sha256 (RFC 8463), one or more keys on one message.
 *
 *	dkim_signkey_load() reads a private key (PEM) that only its owner
 *	may read: a key file readable by group or others is refused with
 *	its name, as is anything but a regular file or an RSA key under
 *	1024 bits (RFC 8301).
 *	dkim_sign_new(), dkim_sign_add_key(), then the message as the
 *	verifier takes it: dkim_sign_header() per field, dkim_sign_body()
 *	chunks, dkim_sign_finish(); dkim_sign_value(i) is then the value of
 *	the i-th DKIM-Signature field (after the colon, folded with CRLF
 *	TAB).  The canonicalisation is the verifier's own (canon.c); the
 *	body is hashed as it arrives, never kept.  The headers signed are
 *	those of the configured list that the message has, every instance,
 *	and the oversigned names (From by default) once more, so that a
 *	field added later breaks the signature (RFC 6376 section 8.15).
 *
 * DIAGNOSTICS
 *	A key that cannot be used: -1 with a reason.  dkim_sign_finish():
 *	-1 with a reason when the message passed a header limit or OpenSSL
 *	failed; nothing is half-signed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "dkim/dkim_impl.h"
#include "dkim/sign.h"
#include "util/log.h"
#include "util/mem.h"

#define DKIM_MAX_KEY_FILE	65536	/* bytes of PEM read */

struct dkim_signkey {
    char   *domain, *selector;
    enum dkim_alg alg;
    EVP_PKEY *pk;
};

struct shdr {
    char   *name;
    size_t  nlen;
    char   *value;
    size_t  vlen;
};

struct dkim_sign {
    int     hrelaxed, brelaxed;
    char  **names;			/* headers to sign, lower case */
    size_t  nnames;
    char  **over;			/* oversigned names, lower case */
    size_t  nover;
    const struct dkim_signkey *keys[DKIM_SIGN_MAX_KEYS];
    size_t  nkeys;
    struct shdr *h;
    size_t  nh, hcap, hbytes;
    int     overflow;
    struct dkim_bodycanon canon;
    EVP_MD_CTX *md;
    char   *out[DKIM_SIGN_MAX_KEYS];	/* the signature values */
    int     arc_instance;		/* > 0: ARC-Message-Signatures (arcseal.c) */
};

const char *dkim_sign_default_headers =
    "from:reply-to:subject:date:to:cc:resent-date:resent-from:resent-sender:"
    "resent-to:resent-cc:in-reply-to:references:list-id:list-help:"
    "list-unsubscribe:list-subscribe:list-post:list-owner:list-archive:"
    "message-id:mime-version:content-type:content-transfer-encoding:"
    "content-id:content-description:sender";

/* dkim_signkey_load - a private key file that only its owner can read */
int     dkim_signkey_load(const char *path, const char *domain, const char *selector,
			          struct dkim_signkey **out, char *why, size_t whylen)
{
    struct stat st;
    char   *data = NULL;
    ssize_t n;
    size_t  len = 0;
    int     fd;
    BIO    *bio;
    EVP_PKEY *pk;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
	snprintf(why, whylen, "key file %s: %s", path, strerror(errno));
	return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	snprintf(why, whylen, "key file %s: not a regular file", path);
	close(fd);
	return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
	snprintf(why, whylen, "key file %s is accessible to group or others (mode %04o):"
		 " refused; chmod 600 %s", path, (unsigned) (st.st_mode & 07777), path);
	close(fd);
	return -1;
    }
    data = xmalloc(DKIM_MAX_KEY_FILE);
    while (len < DKIM_MAX_KEY_FILE && (n = read(fd, data + len, DKIM_MAX_KEY_FILE - len)) > 0)
	len += (size_t) n;
    close(fd);
    bio = BIO_new_mem_buf(data, (int) len);
    pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(data, DKIM_MAX_KEY_FILE);
    free(data);
    ERR_clear_error();
    if (pk == NULL) {
	snprintf(why, whylen, "key file %s: no PEM private key", path);
	return -1;
    }
    struct dkim_signkey *k = xcalloc(1, sizeof(*k));

    k->pk = pk;
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
	k->alg = DKIM_ALG_ED25519_SHA256;
    } else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA
	       && EVP_PKEY_get_bits(pk) >= DKIM_KEYGEN_MIN_BITS) {
	k->alg = DKIM_ALG_RSA_SHA256;
    } else {
	snprintf(why, whylen, "key file %s: neither Ed25519 nor RSA of %d bits or more",
		 path, DKIM_KEYGEN_MIN_BITS);
	EVP_PKEY_free(pk);
	free(k);
	return -1;
    }
    k->domain = xstrdup(domain);
    k->selector = xstrdup(selector);
    *out = k;
    return 0;
}

void    dkim_signkey_free(struct dkim_signkey *k)
{
    if (k == NULL)
	return;
    EVP_PKEY_free(k->pk);
    free(k->domain);
    free(k->selector);
    free(k);
}

const char *dkim_signkey_domain(const struct dkim_signkey *k)
{
    return k->domain;
}

const char *dkim_signkey_selector(const struct dkim_signkey *k)
{
    return k->selector;
}

/* dkim_signkey_matches - does a published key record hold k's public
 * half?  1 yes, 0 no (why), -1 the record is not a usable key (why) */
int     dkim_signkey_matches(const struct dkim_signkey *k, const char *record,
			             char *why, size_t whylen)
{
    struct dkim_key dk;
    int     rc;

    memset(&dk, 0, sizeof(dk));
    if (dkim_key_parse(&dk, record, strlen(record), DKIM_KEYGEN_MIN_BITS, why, whylen)
	!= DKIM_PASS) {
	dkim_key_free(&dk);
	return -1;
    }
    rc = dk.pkey && EVP_PKEY_eq(k->pk, dk.pkey) == 1;
    if (!rc)
	snprintf(why, whylen, "the published key is not the private key's public half");
    dkim_key_free(&dk);
    ERR_clear_error();
    return rc;
}

/* split_names - a header-name list (':' ',' or white space between) */
static char **split_names(const char *list, size_t *n)
{
    char  **v = NULL;
    size_t  cap = 0;
    const char *cp = list ? list : "";

    *n = 0;
    while (*cp) {
	size_t  len = strcspn(cp, ":, \t");

	if (len > 0) {
	    if (*n == cap)
		v = xrealloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
	    v[*n] = xstrndup(cp, len);
	    for (char *p = v[*n]; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	    ++*n;
	}
	cp += len;
	if (*cp)
	    cp++;
    }
    return v;
}

static void emit_body(void *ctx, const char *p, size_t n)
{
    struct dkim_sign *s = ctx;

    if (EVP_DigestUpdate(s->md, p, n) != 1)
	msg_panic("dkim: SHA-256 failed");
}

/* dkim_sign_new - a signer for one message */
struct dkim_sign *dkim_sign_new(const struct dkim_sign_conf *c)
{
    struct dkim_sign *s = xcalloc(1, sizeof(*s));

    s->hrelaxed = c->hrelaxed;
    s->brelaxed = c->brelaxed;
    s->names = split_names(c->headers ? c->headers : dkim_sign_default_headers, &s->nnames);
    s->over = split_names(c->oversign ? c->oversign : "from", &s->nover);
    if ((s->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
	msg_panic("dkim: SHA-256 failed");
    dkim_bodycanon_init(&s->canon, s->brelaxed, emit_body, s);
    return s;
}

/* dkim_sign_add_key - sign with k too (k stays the caller's); -1 when full */
int     dkim_sign_add_key(struct dkim_sign *s, const struct dkim_signkey *k)
{
    if (s->nkeys >= DKIM_SIGN_MAX_KEYS)
	return -1;
    s->keys[s->nkeys++] = k;
    return 0;
}

/* dkim_sign_set_arc - make ARC-Message-Signatures of instance i instead:
 * i= in place of v=, relaxed/relaxed; first before any body byte is fed,
 * again before finish to give the instance once known */
void    dkim_sign_set_arc(struct dkim_sign *s, int instance)
{
    if (s->arc_instance == 0) {
	s->hrelaxed = s->brelaxed = 1;
	dkim_bodycanon_init(&s->canon, 1, emit_body, s);
    }
    s->arc_instance = instance;
}

/* bytes_dup - len bytes exactly (NUL included), NUL-terminated */
static char *bytes_dup(const char *p, size_t len)
{
    char   *s = xmalloc(len + 1);

    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* dkim_sign_header - one field, as dkim_verify_header() takes it */
void    dkim_sign_header(struct dkim_sign *s, const char *name, size_t nlen,
			         const char *value, size_t vlen)
{
    if (s->nh >= DKIM_MAX_HEADERS || s->hbytes + nlen + vlen > DKIM_MAX_HEADER_BYTES) {
	s->overflow = 1;
	return;
    }
    if (s->nh == s->hcap)
	s->h = xrealloc(s->h, (s->hcap = s->hcap ? 2 * s->hcap : 32) * sizeof(*s->h));
    s->h[s->nh].name = bytes_dup(name, nlen);
    s->h[s->nh].nlen = nlen;
    s->h[s->nh].value = bytes_dup(value, vlen);
    s->h[s->nh].vlen = vlen;
    s->hbytes += nlen + vlen;
    s->nh++;
}

/* dkim_sign_body - the next body bytes, lines ending in CRLF */
void    dkim_sign_body(struct dkim_sign *s, const void *data, size_t len)
{
    dkim_bodycanon_feed(&s->canon, data, len);
}

/* name_is - does field h have this (lower case) name?  Exactly as the
 * verifier selects fields (a name given with white space before the colon
 * matches nothing: callers pass names as Postfix does, without it) */
static int name_is(const struct shdr *h, const char *name)
{
    return h->nlen == strlen(name) && strncasecmp(h->name, name, h->nlen) == 0;
}

/* headers_signed - h= and the canonical fields it names, bottom-up per
 * name (RFC 6376 section 5.4.2), oversigned names once more */
static void headers_signed(const struct dkim_sign *s, struct buf *hlist, struct buf *data)
{
    for (size_t j = 0; j < s->nnames; j++) {
	const char *name = s->names[j];
	int     over = 0;

	for (size_t k = 0; k < j; k++)
	    if (strcmp(s->names[k], name) == 0)
		goto next;			/* listed twice */
	for (size_t i = s->nh; i-- > 0;) {
	    if (!name_is(&s->h[i], name))
		continue;
	    buf_printf(hlist, "%s%s", hlist->len ? ":" : "", name);
	    dkim_canon_header(data, s->hrelaxed, s->h[i].name, s->h[i].nlen, s->h[i].value,
			      s->h[i].vlen);
	}
	for (size_t k = 0; k < s->nover; k++)
	    over |= strcmp(s->over[k], name) == 0;
	if (over)
	    buf_printf(hlist, "%s%s", hlist->len ? ":" : "", name);
next:	;
    }
}

/* fold_list - append a ':' list, folding with CRLF TAB at ':' before column 76 */
static void fold_list(struct buf *out, const char *list, size_t *col)
{
    for (const char *cp = list; *cp;) {
	size_t  len = strcspn(cp, ":");

	if (*col + len + 1 > 76) {
	    buf_puts(out, "\r\n\t");
	    *col = 1;
	}
	buf_append(out, cp, len);
	*col += len;
	cp += len;
	if (*cp == ':') {
	    buf_putc(out, ':');
	    (*col)++;
	    cp++;
	}
    }
}

/* put_b64 - base64 of len bytes */
static void put_b64(struct buf *b, const unsigned char *p, size_t len)
{
    size_t  need = 4 * ((len + 2) / 3);

    buf_grow(b, need);
    EVP_EncodeBlock((unsigned char *) b->s + b->len, p, (int) len);
    b->len += need;
    b->s[b->len] = 0;
}

/* sign_digest - RSA PKCS#1 v1.5 over the digest, or Ed25519 over its bytes */
static int sign_digest(const struct dkim_signkey *k, const unsigned char h[32],
		               unsigned char *sig, size_t *siglen)
{
    int     ok = 0;

    if (k->alg == DKIM_ALG_ED25519_SHA256) {
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();

	ok = mctx && EVP_DigestSignInit(mctx, NULL, NULL, NULL, k->pk) == 1
	    && EVP_DigestSign(mctx, sig, siglen, h, 32) == 1;
	EVP_MD_CTX_free(mctx);
    } else {
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(k->pk, NULL);

	ok = pctx && EVP_PKEY_sign_init(pctx) == 1
	    && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
	    && EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1
	    && EVP_PKEY_sign(pctx, sig, siglen, h, 32) == 1;
	EVP_PKEY_CTX_free(pctx);
    }
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* dkim_signkey_sign - sign a SHA-256 digest with k (arcseal.c); 0, or -1 */
int     dkim_signkey_sign(const struct dkim_signkey *k, const unsigned char h[32],
			          unsigned char *sig, size_t *siglen)
{
    return sign_digest(k, h, sig, siglen);
}

const char *dkim_signkey_alg(const struct dkim_signkey *k)
{
    return k->alg == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* dkim_sign_finish - after the body: make every signature; 0, or -1 */
int     dkim_sign_finish(struct dkim_sign *s, long long now, char *why, size_t whylen)
{
    unsigned char bh[32], h[32], sig[DKIM_MAX_SIGLEN];
    unsigned int bhl = sizeof(bh);
    struct buf hlist, data, val;
    int     rc = 0;

    if (s->overflow) {
	snprintf(why, whylen, "message headers past the limit (%d fields, %d bytes):"
		 " not signed", DKIM_MAX_HEADERS, DKIM_MAX_HEADER_BYTES);
	return -1;
    }
    dkim_bodycanon_end(&s->canon);
    if (EVP_DigestFinal_ex(s->md, bh, &bhl) != 1)
	msg_panic("dkim: SHA-256 failed");
    buf_init(&hlist);
    buf_init(&data);
    buf_init(&val);
    headers_signed(s, &hlist, &data);
    for (size_t i = 0; i < s->nkeys && rc == 0; i++) {
	const struct dkim_signkey *k = s->keys[i];
	size_t  head = data.len, col, siglen = sizeof(sig);

	buf_reset(&val);
	if (s->arc_instance > 0)
	    buf_printf(&val, " i=%d;", s->arc_instance);
	else
	    buf_puts(&val, " v=1;");
	buf_printf(&val, " a=%s; c=%s/%s; d=%s; s=%s;\r\n\tt=%lld; h=",
		   k->alg == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256",
		   s->hrelaxed ? "relaxed" : "simple", s->brelaxed ? "relaxed" : "simple",
		   k->domain, k->selector, now);
	col = val.len - (size_t) (strrchr(val.s, '\t') - val.s) + 7;
	fold_list(&val, hlist.s, &col);
	buf_puts(&val, ";\r\n\tbh=");
	put_b64(&val, bh, sizeof(bh));
	buf_puts(&val, ";\r\n\tb=");
	/* the signature signs itself with b= empty, without its CRLF */
	if (s->arc_instance > 0)
	    dkim_canon_header(&data, 1, "ARC-Message-Signature", 21, val.s, val.len);
	else
	    dkim_canon_header(&data, s->hrelaxed, "DKIM-Signature", 14, val.s, val.len);
	data.len -= 2;
	data.s[data.len] = 0;
	dkim_sha256(data.s, data.len, h);
	data.len = head;
	data.s[data.len] = 0;
	if (sign_digest(k, h, sig, &siglen) < 0) {
	    snprintf(why, whylen, "signing with %s._domainkey.%s failed", k->selector, k->domain);
	    rc = -1;
	    break;
	}
	struct buf b64;

	buf_init(&b64);
	put_b64(&b64, sig, siglen);
	for (size_t off = 0; off < b64.len; off += 72) {
	    if (off)
		buf_puts(&val, "\r\n\t ");
	    buf_append(&val, b64.s + off, b64.len - off > 72 ? 72 : b64.len - off);
	}
	buf_free(&b64);
	s->out[i] = buf_steal(&val);
	buf_init(&val);
    }
    buf_free(&hlist);
    buf_free(&data);
    buf_free(&val);
    return rc;
}

size_t  dkim_sign_count(const struct dkim_sign *s)
{
    return s->nkeys;
}

/* dkim_sign_value - the i-th DKIM-Signature value (after finish) */
const char *dkim_sign_value(const struct dkim_sign *s, size_t i)
{
    return i < s->nkeys ? s->out[i] : NULL;
}

void    dkim_sign_free(struct dkim_sign *s)
{
    if (s == NULL)
	return;
    for (size_t i = 0; i < s->nnames; i++)
	free(s->names[i]);
    free(s->names);
    for (size_t i = 0; i < s->nover; i++)
	free(s->over[i]);
    free(s->over);
    for (size_t i = 0; i < s->nh; i++) {
	free(s->h[i].name);
	free(s->h[i].value);
    }
    free(s->h);
    for (size_t i = 0; i < DKIM_SIGN_MAX_KEYS; i++)
	free(s->out[i]);
    EVP_MD_CTX_free(s->md);
    free(s);
}
