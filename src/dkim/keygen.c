/*
 * keygen.c - DKIM key generation (`mxshield dkim keygen`).
 *
 *	dkim_keygen() makes an RSA key (RFC 8301: 1024 bits at least) or an
 *	Ed25519 key (RFC 8463) with OpenSSL 3 EVP.  The private key goes to
 *	a file created with O_EXCL|O_NOFOLLOW and mode 0600, so that it is
 *	never readable by group or world, not even for a moment, and an
 *	existing file or a symbolic link planted at the path is never
 *	written through.  RSA keys are written as PKCS#1 ("RSA PRIVATE
 *	KEY"), which OpenDKIM, python3-dkim and rspamd all read; Ed25519 as
 *	PKCS#8.  The record's p= is the SubjectPublicKeyInfo for RSA
 *	(RFC 6376 section 3.6.1) and the raw 32-byte key for Ed25519
 *	(RFC 8463 section 4.2), base64.
 *
 * DIAGNOSTICS
 *	-1 with a one-line reason: bad size, the file exists, a system or
 *	OpenSSL error.  A half-written file is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim/sign.h"
#include "util/mem.h"
#include "util/str.h"

/* put_base64 - append len bytes as base64 */
static void put_base64(struct buf *b, const unsigned char *p, size_t len)
{
    size_t  need = 4 * ((len + 2) / 3);

    buf_grow(b, need);
    EVP_EncodeBlock((unsigned char *) b->s + b->len, p, (int) len);
    b->len += need;
    b->s[b->len] = 0;
}

/* make_key - a fresh key of the given type, NULL on failure */
static EVP_PKEY *make_key(enum dkim_keytype type, int bits)
{
    if (type == DKIM_KEY_ED25519)
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
}

/* public_record - the TXT value for pk */
static int public_record(EVP_PKEY *pk, enum dkim_keytype type, struct buf *rec)
{
    unsigned char *der = NULL, raw[32];
    size_t  rawlen = sizeof(raw);
    int     len;

    if (type == DKIM_KEY_ED25519) {
	if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) != 1 || rawlen != 32)
	    return -1;
	buf_puts(rec, "v=DKIM1; k=ed25519; p=");
	put_base64(rec, raw, rawlen);
	return 0;
    }
    if ((len = i2d_PUBKEY(pk, &der)) <= 0)
	return -1;
    buf_puts(rec, "v=DKIM1; k=rsa; p=");
    put_base64(rec, der, (size_t) len);
    OPENSSL_free(der);
    return 0;
}

/* private_pem - the private key as PEM in a memory BIO */
static BIO *private_pem(EVP_PKEY *pk, enum dkim_keytype type)
{
    BIO    *mem = BIO_new(BIO_s_mem());
    int     ok;

    if (mem == NULL)
	return NULL;
    if (type == DKIM_KEY_RSA)
	ok = PEM_write_bio_PrivateKey_traditional(mem, pk, NULL, NULL, 0, NULL, NULL);
    else
	ok = PEM_write_bio_PrivateKey(mem, pk, NULL, NULL, 0, NULL, NULL);
    if (ok != 1) {
	BIO_free(mem);
	return NULL;
    }
    return mem;
}

/* write_new - create path (never existing, never a link) with data, 0600 */
static int write_new(const char *path, const char *data, size_t len, char *why,
		             size_t whylen)
{
    int     fd;
    size_t  off = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
	snprintf(why, whylen, "%s: %s", path, strerror(errno));
	return -1;
    }
    /* 0600 & ~umask may be less (0400): make it exactly owner read-write */
    if (fchmod(fd, 0600) < 0)
	goto fail;
    while (off < len) {
	ssize_t n = write(fd, data + off, len - off);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    goto fail;
	off += (size_t) n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
	fd = -1;
	goto fail;
    }
    return 0;
fail:
    snprintf(why, whylen, "%s: %s", path, strerror(errno ? errno : EIO));
    if (fd >= 0)
	close(fd);
    unlink(path);
    return -1;
}

/* dkim_keygen - make a key, write its private half, give the record */
int     dkim_keygen(const char *path, enum dkim_keytype type, int bits,
		            struct buf *record, char *why, size_t whylen)
{
    EVP_PKEY *pk;
    BIO    *pem = NULL;
    char   *data;
    long    len;
    int     rc = -1;

    if (type == DKIM_KEY_RSA && (bits < DKIM_KEYGEN_MIN_BITS || bits > DKIM_KEYGEN_MAX_BITS)) {
	snprintf(why, whylen, "RSA key size %d bits: must be %d to %d (RFC 8301)", bits,
		 DKIM_KEYGEN_MIN_BITS, DKIM_KEYGEN_MAX_BITS);
	return -1;
    }
    if ((pk = make_key(type, bits)) == NULL) {
	snprintf(why, whylen, "key generation failed: %s",
		 ERR_reason_error_string(ERR_get_error()));
	ERR_clear_error();
	return -1;
    }
    if (public_record(pk, type, record) < 0 || (pem = private_pem(pk, type)) == NULL) {
	snprintf(why, whylen, "cannot encode the key: %s",
		 ERR_reason_error_string(ERR_get_error()));
	ERR_clear_error();
	goto out;
    }
    len = BIO_get_mem_data(pem, &data);
    rc = write_new(path, data, (size_t) len, why, whylen);
out:
    BIO_free(pem);			/* BIO_s_mem clears its memory on free */
    EVP_PKEY_free(pk);
    return rc;
}

/* dkim_txt_zone - value as quoted strings of at most 255 bytes each */
void    dkim_txt_zone(struct buf *out, const char *value)
{
    size_t  len = strlen(value), off = 0;

    do {
	size_t  n = len - off > 255 ? 255 : len - off;

	buf_printf(out, "%s\"", off ? " " : "");
	for (size_t i = 0; i < n; i++) {
	    if (value[off + i] == '"' || value[off + i] == '\\')
		buf_putc(out, '\\');
	    buf_putc(out, value[off + i]);
	}
	buf_putc(out, '"');
	off += n;
    } while (off < len);
}
