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

/* dkim_txt_zone - append value as zone-file strings: "..." "..." */
void    dkim_txt_zone(struct buf *out, const char *value);

#endif
