/*
 * sig.c - signature headers and key records, parsed once into structs.
 *
 *	dkim_sig_parse() reads a DKIM-Signature (RFC 6376 section 3.5), an
 *	ARC-Message-Signature or an ARC-Seal (RFC 8617 sections 4.1.2 and
 *	4.1.3) value.  dkim_key_parse() reads a key record (RFC 6376 section
 *	3.6.1, RFC 8463) and makes its OpenSSL key.
 *
 * DIAGNOSTICS
 *	A signature that cannot be read (tag-list syntax, a required tag
 *	missing or malformed, an unknown algorithm or canonicalisation)
 *	earns neutral (RFC 8601 section 2.7.1); rsa-sha1 (RFC 8301) earns
 *	policy; a value longer than DKIM_MAX_SIG_SIZE permerror.  A key
 *	record that cannot be used earns permerror; an RSA key shorter than
 *	the configured minimum or longer than DKIM_MAX_RSA_BITS earns policy.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim_impl.h"
#include "util/mem.h"

/* tag_is - does the tag's value equal s (case-insensitively)? */
static int tag_is(const struct dkim_tag *t, const char *s)
{
    return t->vlen == strlen(s) && strncasecmp(t->val, s, t->vlen) == 0;
}

/* list_has - does a colon-separated tag value list s? */
static int list_has(const struct dkim_tag *t, const char *s)
{
    size_t  slen = strlen(s), p = 0;

    while (p <= t->vlen) {
	size_t  e = p;

	while (e < t->vlen && t->val[e] != ':')
	    e++;
	size_t  a = p, b = e;

	while (a < b && isspace((unsigned char) t->val[a]))
	    a++;
	while (b > a && isspace((unsigned char) t->val[b - 1]))
	    b--;
	if (b - a == slen && strncasecmp(t->val + a, s, slen) == 0)
	    return 1;
	p = e + 1;
    }
    return 0;
}

/* domain_ok - a domain or selector: labels of letters, digits, - and _ */
static int domain_ok(const char *s)
{
    size_t  len = strlen(s), label = 0;

    if (len == 0 || len > DKIM_MAX_DOMAIN)
	return 0;
    for (const char *p = s; *p; p++) {
	if (*p == '.') {
	    if (label == 0)
		return 0;
	    label = 0;
	} else if (isalnum((unsigned char) *p) || *p == '-' || *p == '_') {
	    if (++label > 63)
		return 0;
	} else {
	    return 0;
	}
    }
    return label > 0;
}

/* decimal - a tag of digits: 0 and *out (capped at LLONG_MAX), or -1 */
static int decimal(const struct dkim_tag *t, long long *out)
{
    long long v = 0;

    if (t->vlen == 0 || t->vlen > 76)
	return -1;
    for (size_t i = 0; i < t->vlen; i++) {
	if (!isdigit((unsigned char) t->val[i]))
	    return -1;
	if (v > (LLONG_MAX - 9) / 10)
	    v = LLONG_MAX;
	else
	    v = v * 10 + (t->val[i] - '0');
    }
    *out = v;
    return 0;
}

#define BAD(res, ...) do { snprintf(why, whylen, __VA_ARGS__); return (res); } while (0)

/* parse_h - h=: the names, lower case; -1 on a bad name */
static int parse_h(struct dkim_sig *s, const struct dkim_tag *t)
{
    size_t  p = 0;

    while (p <= t->vlen) {
	size_t  e = p;

	while (e < t->vlen && t->val[e] != ':')
	    e++;
	size_t  a = p, b = e;

	while (a < b && isspace((unsigned char) t->val[a]))
	    a++;
	while (b > a && isspace((unsigned char) t->val[b - 1]))
	    b--;
	if (a == b || s->nh >= DKIM_MAX_SIGNED_HEADERS)
	    return -1;
	for (size_t k = a; k < b; k++)
	    if ((unsigned char) t->val[k] <= ' ' || (unsigned char) t->val[k] > '~')
		return -1;
	char   *n = xstrndup(t->val + a, b - a);

	str_lower(n);
	s->h = xrealloc(s->h, (s->nh + 1) * sizeof(*s->h));
	s->h[s->nh++] = n;
	p = e + 1;
    }
    return 0;
}

/* dkim_sig_parse - one signature header's value into s */
enum dkim_result dkim_sig_parse(struct dkim_sig *s, enum dkim_sig_kind kind,
				        const char *value, size_t vlen,
				        char *why, size_t whylen)
{
    struct dkim_tags tl;
    const struct dkim_tag *t;
    const char *err;

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->l = s->t = s->x = -1;
    if (vlen > DKIM_MAX_SIG_SIZE)
	BAD(DKIM_PERMERROR, "signature longer than %d bytes", DKIM_MAX_SIG_SIZE);
    if (dkim_tags_parse(value, vlen, &tl, &err) < 0)
	BAD(DKIM_NEUTRAL, "bad tag-list: %s", err);

    /* the tags shown in results first, even if something else is wrong */
    if ((t = dkim_tags_get(&tl, "d")) != NULL) {
	s->d = dkim_tag_str(t, 1);
	str_lower(s->d);
    }
    if ((t = dkim_tags_get(&tl, "s")) != NULL)
	s->s = dkim_tag_str(t, 1);
    if ((t = dkim_tags_get(&tl, "a")) != NULL)
	s->a = dkim_tag_str(t, 1);
    if (kind == DKIM_KIND_DKIM && (t = dkim_tags_get(&tl, "i")) != NULL)
	s->i = dkim_tag_str(t, 1);
    if ((t = dkim_tags_get(&tl, "b")) != NULL) {
	size_t  k = 0;

	for (size_t j = 0; j < t->vlen && k < 8; j++)
	    if (!isspace((unsigned char) t->val[j]))
		s->b8[k++] = t->val[j];
	s->b8[k] = 0;
	/* the value hashed: b= emptied, everything else as it came */
	s->value_nob_len = vlen - (t->raw_end - t->raw_start);
	s->value_nob = xmalloc(s->value_nob_len + 1);
	memcpy(s->value_nob, value, t->raw_start);
	memcpy(s->value_nob + t->raw_start, value + t->raw_end, vlen - t->raw_end);
	s->value_nob[s->value_nob_len] = 0;
    }

    /* v= */
    t = dkim_tags_get(&tl, "v");
    if (kind == DKIM_KIND_DKIM && (t == NULL || !tag_is(t, "1")))
	BAD(DKIM_NEUTRAL, t ? "unknown version" : "no v= tag");

    /* a= */
    if ((t = dkim_tags_get(&tl, "a")) == NULL)
	BAD(DKIM_NEUTRAL, "no a= tag");
    if (tag_is(t, "rsa-sha256"))
	s->alg = DKIM_ALG_RSA_SHA256;
    else if (tag_is(t, "ed25519-sha256"))
	s->alg = DKIM_ALG_ED25519_SHA256;
    else if (tag_is(t, "rsa-sha1"))
	BAD(DKIM_POLICY, "rsa-sha1 is not accepted (RFC 8301)");
    else
	BAD(DKIM_NEUTRAL, "unknown algorithm");

    /* b=, bh= */
    if ((t = dkim_tags_get(&tl, "b")) == NULL || s->value_nob == NULL)
	BAD(DKIM_NEUTRAL, "no b= tag");
    long    n = dkim_base64(t->val, t->vlen, s->sig, sizeof(s->sig));

    if (n <= 0)
	BAD(DKIM_NEUTRAL, "b= is not base64 or too long");
    s->siglen = (size_t) n;
    if (kind != DKIM_KIND_AS) {
	if ((t = dkim_tags_get(&tl, "bh")) == NULL)
	    BAD(DKIM_NEUTRAL, "no bh= tag");
	if ((n = dkim_base64(t->val, t->vlen, s->bh, sizeof(s->bh))) <= 0)
	    BAD(DKIM_NEUTRAL, "bh= is not base64 or too long");
	s->bhlen = (size_t) n;
    }

    /* c= (an ARC-Seal is always relaxed, RFC 8617 section 4.1.3) */
    s->hrelaxed = kind == DKIM_KIND_AS;
    if (kind != DKIM_KIND_AS && (t = dkim_tags_get(&tl, "c")) != NULL) {
	const char *slash = memchr(t->val, '/', t->vlen);
	size_t  hl = slash ? (size_t) (slash - t->val) : t->vlen;
	struct dkim_tag h = *t, b = *t;

	h.vlen = hl;
	if (tag_is(&h, "relaxed"))
	    s->hrelaxed = 1;
	else if (!tag_is(&h, "simple"))
	    BAD(DKIM_NEUTRAL, "unknown canonicalization");
	if (slash) {
	    b.val = slash + 1;
	    b.vlen = t->vlen - hl - 1;
	    if (tag_is(&b, "relaxed"))
		s->brelaxed = 1;
	    else if (!tag_is(&b, "simple"))
		BAD(DKIM_NEUTRAL, "unknown canonicalization");
	}
    }

    /* d=, s= */
    if (s->d == NULL || !domain_ok(s->d))
	BAD(DKIM_NEUTRAL, s->d ? "bad d= domain" : "no d= tag");
    if (s->s == NULL || !domain_ok(s->s))
	BAD(DKIM_NEUTRAL, s->s ? "bad s= selector" : "no s= tag");

    /* h= */
    t = dkim_tags_get(&tl, "h");
    if (kind == DKIM_KIND_AS) {
	if (t != NULL)
	    BAD(DKIM_NEUTRAL, "h= in an ARC-Seal");
    } else {
	int     from = 0;

	if (t == NULL)
	    BAD(DKIM_NEUTRAL, "no h= tag");
	if (parse_h(s, t) < 0)
	    BAD(DKIM_NEUTRAL, "bad h= list (or more than %d names)", DKIM_MAX_SIGNED_HEADERS);
	for (size_t k = 0; k < s->nh; k++) {
	    from |= strcmp(s->h[k], "from") == 0;
	    if (kind == DKIM_KIND_AMS && strcmp(s->h[k], "arc-seal") == 0)
		BAD(DKIM_NEUTRAL, "h= signs ARC-Seal");
	}
	if (kind == DKIM_KIND_DKIM && !from)
	    BAD(DKIM_NEUTRAL, "From is not signed");
    }

    /* i=: the identity (DKIM), the instance (ARC) */
    if (kind == DKIM_KIND_DKIM) {
	if (s->i == NULL) {
	    s->i = xmalloc(strlen(s->d) + 2);
	    sprintf(s->i, "@%s", s->d);
	} else {
	    const char *at = strrchr(s->i, '@');
	    size_t  il, dl = strlen(s->d);

	    if (at == NULL)
		BAD(DKIM_NEUTRAL, "i= without @");
	    il = strlen(at + 1);
	    if (!(il == dl && strcasecmp(at + 1, s->d) == 0)
		&& !(il > dl && at[il - dl] == '.' && strcasecmp(at + 1 + il - dl, s->d) == 0))
		BAD(DKIM_NEUTRAL, "i= is not within d=");
	}
    } else {
	long long inst;

	if ((t = dkim_tags_get(&tl, "i")) == NULL || decimal(t, &inst) < 0
	    || inst < 1 || inst > 50)
	    BAD(DKIM_NEUTRAL, "bad or missing instance i=");
	s->instance = (int) inst;
    }

    /* l=, q=, t=, x= */
    if ((t = dkim_tags_get(&tl, "l")) != NULL) {
	if (kind == DKIM_KIND_AS || decimal(t, &s->l) < 0)
	    BAD(DKIM_NEUTRAL, "bad l= tag");
    }
    if ((t = dkim_tags_get(&tl, "q")) != NULL && !list_has(t, "dns/txt"))
	BAD(DKIM_NEUTRAL, "q= without dns/txt");
    if ((t = dkim_tags_get(&tl, "t")) != NULL && decimal(t, &s->t) < 0)
	BAD(DKIM_NEUTRAL, "bad t= tag");
    if ((t = dkim_tags_get(&tl, "x")) != NULL && decimal(t, &s->x) < 0)
	BAD(DKIM_NEUTRAL, "bad x= tag");
    if (s->x >= 0 && s->t >= 0 && s->x < s->t)
	BAD(DKIM_NEUTRAL, "x= before t=");

    /* cv= */
    if (kind == DKIM_KIND_AS) {
	if ((t = dkim_tags_get(&tl, "cv")) == NULL)
	    BAD(DKIM_NEUTRAL, "no cv= tag");
	if (tag_is(t, "none"))
	    s->cv = ARC_CV_NONE;
	else if (tag_is(t, "pass"))
	    s->cv = ARC_CV_PASS;
	else if (tag_is(t, "fail"))
	    s->cv = ARC_CV_FAIL;
	else
	    BAD(DKIM_NEUTRAL, "bad cv= tag");
    }
    return DKIM_PASS;
}

/* dkim_sig_free - what dkim_sig_parse() allocated */
void    dkim_sig_free(struct dkim_sig *s)
{
    free(s->d);
    free(s->s);
    free(s->a);
    free(s->i);
    for (size_t k = 0; k < s->nh; k++)
	free(s->h[k]);
    free(s->h);
    free(s->value_nob);
    memset(s, 0, sizeof(*s));
}

/* dkim_key_parse - a key record's text into k */
enum dkim_result dkim_key_parse(struct dkim_key *k, const char *text, size_t len,
				        int min_rsa_bits, char *why, size_t whylen)
{
    struct dkim_tags tl;
    const struct dkim_tag *t;
    const char *err;
    unsigned char der[DKIM_MAX_KEY_SIZE];
    long    n;

    memset(k, 0, sizeof(*k));
    if (len > DKIM_MAX_KEY_SIZE)
	BAD(DKIM_PERMERROR, "key record longer than %d bytes", DKIM_MAX_KEY_SIZE);
    if (dkim_tags_parse(text, len, &tl, &err) < 0)
	BAD(DKIM_PERMERROR, "bad key record: %s", err);
    if ((t = dkim_tags_get(&tl, "v")) != NULL && (t != &tl.t[0] || !tag_is(t, "DKIM1")))
	BAD(DKIM_PERMERROR, "bad key record: v= is not DKIM1 first");
    k->type = DKIM_ALG_RSA_SHA256;
    if ((t = dkim_tags_get(&tl, "k")) != NULL) {
	if (tag_is(t, "ed25519"))
	    k->type = DKIM_ALG_ED25519_SHA256;
	else if (!tag_is(t, "rsa"))
	    BAD(DKIM_PERMERROR, "unknown key type k=");
    }
    k->hash_sha256 = (t = dkim_tags_get(&tl, "h")) == NULL || list_has(t, "sha256");
    if ((t = dkim_tags_get(&tl, "s")) != NULL && !list_has(t, "*") && !list_has(t, "email"))
	BAD(DKIM_PERMERROR, "key not for email (s=)");
    if ((t = dkim_tags_get(&tl, "t")) != NULL) {
	k->flags |= list_has(t, "y") ? DKIM_KEY_FLAG_TESTING : 0;
	k->flags |= list_has(t, "s") ? DKIM_KEY_FLAG_STRICT : 0;
    }
    if ((t = dkim_tags_get(&tl, "p")) == NULL)
	BAD(DKIM_PERMERROR, "bad key record: no p= tag");
    if (t->vlen == 0) {
	k->revoked = 1;
	BAD(DKIM_PERMERROR, "key revoked (empty p=)");
    }
    if ((n = dkim_base64(t->val, t->vlen, der, sizeof(der))) <= 0)
	BAD(DKIM_PERMERROR, "bad key record: p= is not base64");
    if ((k->pkey = dkim_crypto_pubkey(k->type, der, (size_t) n)) == NULL)
	BAD(DKIM_PERMERROR, "bad key record: p= is no %s key",
	    k->type == DKIM_ALG_RSA_SHA256 ? "RSA" : "Ed25519");
    k->bits = EVP_PKEY_get_bits(k->pkey);
    if (k->type == DKIM_ALG_RSA_SHA256 && k->bits < min_rsa_bits)
	BAD(DKIM_POLICY, "RSA key of %d bits, fewer than %d (RFC 8301)", k->bits, min_rsa_bits);
    if (k->type == DKIM_ALG_RSA_SHA256 && k->bits > DKIM_MAX_RSA_BITS)
	BAD(DKIM_POLICY, "RSA key of %d bits, more than %d", k->bits, DKIM_MAX_RSA_BITS);
    return DKIM_PASS;
}

/* dkim_key_free - the OpenSSL key */
void    dkim_key_free(struct dkim_key *k)
{
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}
