/*
 * verify.c - one message's DKIM (and, through arc.c, ARC) verification.
 *
 *	Headers are kept (at most DKIM_MAX_HEADERS fields and
 *	DKIM_MAX_HEADER_BYTES bytes); at the end of the headers every
 *	signature is parsed once, its key lookup started, and one body hash
 *	made for each distinct (algorithm, canonicalisation, l=) that a
 *	signature needs.  Body chunks go through at most two canonicalisers
 *	(simple, relaxed) into those hashes and are then forgotten.  At the
 *	end each signature's key is read (waiting for DNS when needed), its
 *	body hash compared and its header hash checked.
 *
 *	Header selection for h= is linear: each field knows the previous
 *	field of the same name (found through one hash table of names), so
 *	a signature walks up from the bottom without searching.
 *
 * DIAGNOSTICS
 *	Results in RFC 8601's words, each with a one-line reason: see
 *	sig.c for neutral and policy; permerror when the key cannot be had
 *	or used, or the message's header passes a limit; temperror when DNS
 *	failed temporarily; fail when a hash does not match.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ctype.h>

#include "dkim/verify_impl.h"
#include "dns/dns.h"
#include "dns/lookupset.h"
#include "util/log.h"
#include "util/mem.h"

/* dkim_result_name - RFC 8601 words */
const char *dkim_result_name(enum dkim_result r)
{
    static const char *const names[] = {"none", "pass", "fail", "neutral", "policy",
    "temperror", "permerror"};

    return (unsigned) r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

const char *arc_result_name(enum arc_result r)
{
    return r == ARC_PASS ? "pass" : r == ARC_FAIL ? "fail" : "none";
}

/* dkim_conf_default - RFC 8301's minimum, DKIM_MAX_SIGNATURES */
void    dkim_conf_default(struct dkim_conf *c)
{
    c->min_rsa_bits = 1024;
    c->max_signatures = DKIM_MAX_SIGNATURES;
}

/* vtrace - one line of trace, when asked for */
void    dkim_vtrace(struct dkim_verify *v, const char *fmt,...)
{
    va_list ap;

    if (v->trace == NULL)
	return;
    va_start(ap, fmt);
    buf_vprintf(v->trace, fmt, ap);
    va_end(ap);
    buf_putc(v->trace, '\n');
}

/* dkim_verify_new - a verifier for one message */
struct dkim_verify *dkim_verify_new(const struct dkim_conf *c, struct lookupset *ls)
{
    struct dkim_verify *v = xcalloc(1, sizeof(*v));

    if (c)
	v->conf = *c;
    else
	dkim_conf_default(&v->conf);
    if (v->conf.min_rsa_bits < 1024)
	v->conf.min_rsa_bits = 1024;	/* RFC 8301: never fewer */
    v->ls = ls;
    v->now = (long long) time(NULL);
    return v;
}

void    dkim_verify_set_keys(struct dkim_verify *v,
		           struct dns_answer *(*fn) (void *, const char *), void *ctx)
{
    v->keyfn = fn;
    v->keyctx = ctx;
}

void    dkim_verify_set_time(struct dkim_verify *v, long long now)
{
    v->now = now;
}

void    dkim_verify_set_trace(struct dkim_verify *v, struct buf *trace)
{
    v->trace = trace;
}

void    dkim_verify_set_pool(struct dkim_verify *v, struct pool *p,
			             void (*wakeup) (void *), void *ctx)
{
    v->pool = p;
    v->wakeup = wakeup;
    v->wakeup_ctx = ctx;
}

/* dkim_verify_header - keep one header field, within the limits */
void    dkim_verify_header(struct dkim_verify *v, const char *name, size_t nlen,
			           const char *value, size_t vlen)
{
    struct dkim_hdr *h;

    if (v->eoh)
	return;				/* a header after the end of headers */
    if (v->nh >= DKIM_MAX_HEADERS || nlen + vlen > DKIM_MAX_HEADER_BYTES - v->hbytes) {
	v->overflow = 1;
	return;
    }
    if (v->nh == v->hcap) {
	v->hcap = v->hcap ? 2 * v->hcap : 32;
	v->h = xrealloc(v->h, v->hcap * sizeof(*v->h));
    }
    h = &v->h[v->nh++];
    h->prev_same = -1;

    /* folded lines joined by a bare LF (as a queue file keeps them) are
     * made CRLF, as they were on the wire and under the signature */
    size_t  bare = 0, o = 0;

    for (size_t i = 0; i < vlen; i++)
	bare += value[i] == '\n' && (i == 0 || value[i - 1] != '\r');

    /* name and value in one allocation, the name first (freed as one) */
    h->name = xmalloc(nlen + 1 + vlen + bare + 1);
    memcpy(h->name, name, nlen);
    h->name[nlen] = 0;
    h->nlen = strlen(h->name);		/* a NUL ends a name: nothing after it */
    h->value = h->name + nlen + 1;
    for (size_t i = 0; i < vlen; i++) {
	if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
	    h->value[o++] = '\r';
	h->value[o++] = value[i];
    }
    h->value[o] = 0;
    h->vlen = o;
    v->hbytes += nlen + o;
}

/* name_hash - of a header name, case-insensitively */
static unsigned name_hash(const char *s, size_t len)
{
    unsigned h = 2166136261u;

    for (size_t i = 0; i < len; i++)
	h = (h ^ (unsigned char) tolower((unsigned char) s[i])) * 16777619u;
    return h;
}

/* slot - the hash table slot of a name (empty or holding that name) */
static size_t slot(const struct dkim_verify *v, const char *name, size_t len)
{
    size_t  mask = v->tabsz - 1, i = name_hash(name, len) & mask;

    while (v->tab[i] >= 0) {
	const struct dkim_hdr *h = &v->h[v->tab[i]];

	if (h->nlen == len && strncasecmp(h->name, name, len) == 0)
	    break;
	i = (i + 1) & mask;
    }
    return i;
}

/* index_headers - each field's previous field of the same name */
static void index_headers(struct dkim_verify *v)
{
    v->tabsz = 16;
    while (v->tabsz < 2 * v->nh + 1)
	v->tabsz *= 2;
    v->tab = xmalloc(v->tabsz * sizeof(*v->tab));
    for (size_t i = 0; i < v->tabsz; i++)
	v->tab[i] = -1;
    for (size_t i = 0; i < v->nh; i++) {
	size_t  s = slot(v, v->h[i].name, v->h[i].nlen);

	v->h[i].prev_same = v->tab[s];
	v->tab[s] = (int) i;
    }
}

/* dkim_last_header - the bottom-most field of that name, or -1 */
int     dkim_last_header(const struct dkim_verify *v, const char *name)
{
    return v->tab[slot(v, name, strlen(name))];
}

/* dkim_vsig_result - a signature's outcome */
void    dkim_vsig_result(struct dkim_vsig *vs, enum dkim_result r, const char *fmt,...)
{
    va_list ap;

    vs->result = r;
    vs->state = VSIG_DONE;
    va_start(ap, fmt);
    vsnprintf(vs->reason, sizeof(vs->reason), fmt, ap);
    va_end(ap);
}

/* body_emit - canonical body bytes into every hash of that canonicalisation */
static void body_emit(struct dkim_verify *v, int relaxed, const char *p, size_t n)
{
    for (size_t i = 0; i < v->nbh; i++) {
	struct dkim_bodyhash *b = &v->bhs[i];
	size_t  take = n;

	if (b->relaxed != relaxed)
	    continue;
	b->seen += n;
	if (b->limit >= 0 && (unsigned long long) b->limit - b->hashed < take)
	    take = (size_t) ((unsigned long long) b->limit - b->hashed);
	if (take > 0)
	    EVP_DigestUpdate(b->md, p, take);
	b->hashed += take;
    }
}

static void emit_simple(void *ctx, const char *p, size_t n)
{
    body_emit(ctx, 0, p, n);
}

static void emit_relaxed(void *ctx, const char *p, size_t n)
{
    body_emit(ctx, 1, p, n);
}

/* body_hash - the body hash for (canonicalisation, l=), shared */
static int body_hash(struct dkim_verify *v, int relaxed, long long limit)
{
    for (size_t i = 0; i < v->nbh; i++)
	if (v->bhs[i].relaxed == relaxed && v->bhs[i].limit == limit)
	    return (int) i;
    v->bhs = xrealloc(v->bhs, (v->nbh + 1) * sizeof(*v->bhs));
    struct dkim_bodyhash *b = &v->bhs[v->nbh];

    memset(b, 0, sizeof(*b));
    b->relaxed = relaxed;
    b->limit = limit;
    if ((b->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(b->md, dkim_sha256_md(), NULL) != 1)
	msg_panic("dkim: cannot initialise SHA-256");
    v->canon_used[relaxed] = 1;
    return (int) v->nbh++;
}

/* dkim_vsig_add - parse the signature in header field hdr */
int     dkim_vsig_add(struct dkim_verify *v, enum dkim_sig_kind kind, int hdr)
{
    struct dkim_vsig *vs;
    enum dkim_result r;

    v->vs = xrealloc(v->vs, (v->nvs + 1) * sizeof(*v->vs));
    vs = &v->vs[v->nvs];
    memset(vs, 0, sizeof(*vs));
    vs->hdr = hdr;
    vs->bh = -1;
    vs->state = VSIG_KEY;
    r = dkim_sig_parse(&vs->sig, kind, v->h[hdr].value, v->h[hdr].vlen,
		       vs->reason, sizeof(vs->reason));
    if (r != DKIM_PASS) {
	vs->result = r;
	vs->state = VSIG_DONE;
    }
    return (int) v->nvs++;
}

/* dkim_vsig_prepare - start a parsed signature's key lookup and body hash */
void    dkim_vsig_prepare(struct dkim_verify *v, struct dkim_vsig *vs)
{
    struct dkim_sig *s = &vs->sig;

    if (vs->state != VSIG_KEY)
	return;
    if (s->kind == DKIM_KIND_DKIM && s->x >= 0 && v->now > s->x) {
	dkim_vsig_result(vs, DKIM_POLICY, "signature expired (x=%lld)", s->x);
	return;
    }
    if (strlen(s->s) + strlen(s->d) + 12 > DKIM_MAX_DOMAIN) {
	dkim_vsig_result(vs, DKIM_PERMERROR, "key name longer than %d", DKIM_MAX_DOMAIN);
	return;
    }
    snprintf(vs->keyname, sizeof(vs->keyname), "%s._domainkey.%s", s->s, s->d);
    if (v->keyfn == NULL && v->ls != NULL)
	lookupset_start(v->ls, vs->keyname, DNS_T_TXT);
    if (s->kind != DKIM_KIND_AS)
	vs->bh = body_hash(v, s->brelaxed, s->l);
}

/* dkim_verify_eoh - the headers are complete: parse, start lookups */
void    dkim_verify_eoh(struct dkim_verify *v)
{
    if (v->eoh)
	return;
    v->eoh = 1;
    index_headers(v);
    for (size_t i = 0; i < v->nh; i++) {
	if (strcasecmp(v->h[i].name, "DKIM-Signature") != 0)
	    continue;
	int     k = dkim_vsig_add(v, DKIM_KIND_DKIM, (int) i);	/* moves v->vs */
	struct dkim_vsig *vs = &v->vs[k];

	vs->index = (int) v->ndkim++;
	if (vs->state != VSIG_KEY)
	    continue;
	if (v->overflow)
	    dkim_vsig_result(vs, DKIM_PERMERROR, "message header past %d fields or %d bytes",
			     DKIM_MAX_HEADERS, DKIM_MAX_HEADER_BYTES);
	else if (v->ndkim > v->conf.max_signatures)
	    dkim_vsig_result(vs, DKIM_POLICY, "too many signatures (%zu verified)",
			     v->conf.max_signatures);
	else
	    dkim_vsig_prepare(v, vs);
    }
    dkim_arc_eoh(v);
    dkim_bodycanon_init(&v->canon[0], 0, emit_simple, v);
    dkim_bodycanon_init(&v->canon[1], 1, emit_relaxed, v);
}

/* dkim_verify_body - the next body bytes */
void    dkim_verify_body(struct dkim_verify *v, const void *data, size_t len)
{
    if (!v->eoh)
	dkim_verify_eoh(v);
    if (v->body_done)
	return;
    for (int c = 0; c < 2; c++)
	if (v->canon_used[c])
	    dkim_bodycanon_feed(&v->canon[c], data, len);
}

/* body_end - flush the canonicalisers, finish every body hash */
static void body_end(struct dkim_verify *v)
{
    for (int c = 0; c < 2; c++)
	if (v->canon_used[c])
	    dkim_bodycanon_end(&v->canon[c]);
    for (size_t i = 0; i < v->nbh; i++) {
	unsigned int len = 0;

	EVP_DigestFinal_ex(v->bhs[i].md, v->bhs[i].digest, &len);
    }
    v->body_done = 1;
}

/* header_data - the canonical header fields a DKIM-Signature or AMS signs */
static void header_data(const struct dkim_verify *v, const struct dkim_vsig *vs, struct buf *out)
{
    const struct dkim_sig *s = &vs->sig;
    int     sel[DKIM_MAX_SIGNED_HEADERS];

    for (size_t j = 0; j < s->nh; j++) {
	int     k = (int) j - 1;

	/* a name signed again takes the next field up (RFC 6376 5.4.2) */
	while (k >= 0 && strcmp(s->h[k], s->h[j]) != 0)
	    k--;
	sel[j] = k < 0 ? dkim_last_header(v, s->h[j])
	    : sel[k] < 0 ? -1 : v->h[sel[k]].prev_same;
	if (sel[j] >= 0) {
	    const struct dkim_hdr *h = &v->h[sel[j]];

	    dkim_canon_header(out, s->hrelaxed, h->name, h->nlen, h->value, h->vlen);
	}
    }
    dkim_canon_header(out, s->hrelaxed, v->h[vs->hdr].name, v->h[vs->hdr].nlen,
		      s->value_nob, s->value_nob_len);
    out->len -= 2;			/* the signature itself: no CRLF */
    out->s[out->len] = 0;
}

/* traced_before - has an earlier signature's key (the same name) been traced? */
static int traced_before(const struct dkim_verify *v, const struct dkim_vsig *vs)
{
    for (const struct dkim_vsig *p = v->vs; p < vs; p++)
	if (p->keyname[0] && strcasecmp(p->keyname, vs->keyname) == 0)
	    return 1;
    return 0;
}

/* key_answer - the key record's DNS answer; 0 while waiting */
static int key_answer(struct dkim_verify *v, struct dkim_vsig *vs, struct dns_answer **ap)
{
    int     cached = 0;

    if (v->keyfn) {
	*ap = v->keyfn(v->keyctx, vs->keyname);
    } else if (v->ls) {
	if ((*ap = lookupset_get(v->ls, vs->keyname, DNS_T_TXT, &cached)) == NULL)
	    return 0;
    } else {
	*ap = NULL;
    }
    if (v->trace && *ap && !traced_before(v, vs)) {
	struct buf t;

	buf_init(&t);
	lookupset_describe(&t, vs->keyname, DNS_T_TXT, *ap, cached);
	dkim_vtrace(v, "%s", t.s);
	buf_free(&t);
    }
    return 1;
}

/* dkim_vsig_check - verify a parsed signature: 1 done, 0 waiting for DNS */
int     dkim_vsig_check(struct dkim_verify *v, struct dkim_vsig *vs)
{
    struct dkim_sig *s = &vs->sig;
    struct dns_answer *a;
    struct dkim_key key;
    enum dkim_result r;
    char    why[160];

    if (vs->state == VSIG_DONE)
	return 1;
    if (vs->state == VSIG_CRYPTO)
	return 0;
    if (key_answer(v, vs, &a) == 0)
	return 0;

    /* the key */
    if (a == NULL || a->status == DNS_TEMPFAIL) {
	dkim_vsig_result(vs, DKIM_TEMPERROR, "key lookup %s: temporary failure%s%s",
			 vs->keyname, a && *a->why ? ": " : "", a ? a->why : "");
	return 1;
    }
    if (a->status != DNS_OK || a->n == 0) {
	dkim_vsig_result(vs, DKIM_PERMERROR, "no key for signature (%s %s)", vs->keyname,
			 a->status == DNS_NXDOMAIN ? "does not exist" : "has no TXT record");
	return 1;
    }
    if (a->n > 1) {
	dkim_vsig_result(vs, DKIM_PERMERROR, "%zu key records at %s", a->n, vs->keyname);
	return 1;
    }
    if (a->rr[0].text_altered) {
	dkim_vsig_result(vs, DKIM_PERMERROR, "key record too long or not printable ASCII");
	return 1;
    }
    r = dkim_key_get(&key, a->rr[0].text, strlen(a->rr[0].text), v->conf.min_rsa_bits,
		       why, sizeof(why));
    if (r != DKIM_PASS) {
	dkim_key_free(&key);
	dkim_vsig_result(vs, r, "%s", why);
	return 1;
    }
    if (key.type != (int) s->alg || !key.hash_sha256) {
	dkim_key_free(&key);
	dkim_vsig_result(vs, DKIM_PERMERROR, "key %s does not allow %s", vs->keyname, s->a);
	return 1;
    }
    if (s->kind == DKIM_KIND_DKIM && (key.flags & DKIM_KEY_FLAG_STRICT)
	&& strcasecmp(strrchr(s->i, '@') + 1, s->d) != 0) {
	dkim_key_free(&key);
	dkim_vsig_result(vs, DKIM_PERMERROR, "key has t=s and i= is a subdomain of d=");
	return 1;
    }
    vs->testing = (key.flags & DKIM_KEY_FLAG_TESTING) != 0;

    /* the body */
    if (vs->bh >= 0) {
	const struct dkim_bodyhash *b = &v->bhs[vs->bh];

	if (s->l >= 0 && b->seen < (unsigned long long) s->l) {
	    dkim_key_free(&key);
	    dkim_vsig_result(vs, DKIM_FAIL, "l=%lld is longer than the body (%llu bytes)",
			     s->l, b->seen);
	    return 1;
	}
	if (s->bhlen != sizeof(b->digest) || memcmp(s->bh, b->digest, s->bhlen) != 0) {
	    dkim_key_free(&key);
	    dkim_vsig_result(vs, DKIM_FAIL, "body hash did not verify");
	    return 1;
	}
    }

    /* the header: its data made here, hashed and checked here or on the pool */
    unsigned char h[32];
    struct buf d;
    int     ok;

    buf_init(&d);
    if (s->kind == DKIM_KIND_AS) {
	if (!v->arc_digested)
	    dkim_arc_seal_digests(v);
	memcpy(h, v->arc_digest[s->instance], sizeof(h));
    } else {
	header_data(v, vs, &d);
    }
    if (v->pool) {
	dkim_offload(v, vs, &key, s->kind == DKIM_KIND_AS ? NULL : &d, h);
	return 0;
    }
    if (s->kind != DKIM_KIND_AS)
	dkim_sha256(d.s, d.len, h);
    buf_free(&d);
    ok = dkim_crypto_verify(&key, h, s->sig, s->siglen);
    dkim_key_free(&key);
    dkim_vsig_conclude(v, vs, ok);
    return 1;
}

/* dkim_vsig_conclude - the result of a signature whose check was made */
void    dkim_vsig_conclude(struct dkim_verify *v, struct dkim_vsig *vs, int ok)
{
    const struct dkim_sig *s = &vs->sig;

    if (!ok) {
	dkim_vsig_result(vs, DKIM_FAIL, "signature did not verify");
	return;
    }
    if (vs->bh >= 0 && s->l >= 0 && v->bhs[vs->bh].seen > (unsigned long long) s->l)
	dkim_vsig_result(vs, DKIM_PASS, "good signature, %llu body bytes not signed (l=)%s",
			 v->bhs[vs->bh].seen - (unsigned long long) s->l,
			 vs->testing ? ", key in testing mode (t=y)" : "");
    else
	dkim_vsig_result(vs, DKIM_PASS, "good signature%s",
			 vs->testing ? ", key in testing mode (t=y)" : "");
}

/* dkim_verify_finish - 1 results ready, 0 waiting for DNS */
int     dkim_verify_finish(struct dkim_verify *v)
{
    if (v->finished)
	return 1;
    if (!v->eoh)
	dkim_verify_eoh(v);
    if (!v->body_done)
	body_end(v);

    /* on the loop, one at a time (traces in order); with a pool every
     * check that can go out goes out now */
    int     waiting = 0;

    for (size_t i = 0; i < v->nvs && (v->pool || !waiting); i++)
	if (dkim_vsig_check(v, &v->vs[i]) == 0)
	    waiting = 1;
    if (v->pool)
	dkim_offload_flush(v);		/* what was gathered: one job */
    if (waiting)
	return 0;
    dkim_arc_conclude(v);

    /* the results, in header order */
    v->res = xcalloc(v->ndkim + 1, sizeof(*v->res));
    for (size_t i = 0; i < v->ndkim; i++) {
	const struct dkim_vsig *vs = &v->vs[i];
	struct dkim_sig_result *r = &v->res[i];

	r->index = vs->index;
	r->result = vs->result;
	r->d = vs->sig.d;
	r->s = vs->sig.s;
	r->a = vs->sig.a;
	r->i = vs->sig.i;
	r->b = vs->sig.value_nob ? vs->sig.b8 : NULL;
	r->reason = vs->reason;
	dkim_vtrace(v, "dkim[%d] d=%s s=%s a=%s: %s (%s)", r->index, r->d ? r->d : "-",
		    r->s ? r->s : "-", r->a ? r->a : "-", dkim_result_name(r->result),
		    r->reason);
    }
    for (size_t i = v->ndkim; i < v->nvs; i++) {
	const struct dkim_vsig *vs = &v->vs[i];

	if (vs->keyname[0])
	    dkim_vtrace(v, "%s i=%d d=%s s=%s: %s (%s)", vs->sig.kind == DKIM_KIND_AS ?
			"ARC-Seal" : "ARC-Message-Signature", vs->sig.instance, vs->sig.d,
			vs->sig.s, dkim_result_name(vs->result), vs->reason);
    }
    dkim_vtrace(v, "arc: %s (%s)", arc_result_name(v->arc), v->arc_reason);
    v->finished = 1;
    return 1;
}

size_t  dkim_verify_count(const struct dkim_verify *v)
{
    return v->finished ? v->ndkim : 0;
}

const struct dkim_sig_result *dkim_verify_result(const struct dkim_verify *v, size_t i)
{
    return v->finished && i < v->ndkim ? &v->res[i] : NULL;
}

enum arc_result dkim_verify_arc(const struct dkim_verify *v, const char **sealer,
				        const char **reason)
{
    if (sealer)
	*sealer = v->finished ? v->sealer : NULL;
    if (reason)
	*reason = v->finished ? v->arc_reason : "";
    return v->finished ? v->arc : ARC_NONE;
}

int     dkim_verify_arc_temporary(const struct dkim_verify *v)
{
    return v->finished && v->arc == ARC_FAIL && v->arc_temp;
}

/* dkim_verify_free - everything of one message */
void    dkim_verify_free(struct dkim_verify *v)
{
    if (v == NULL)
	return;
    dkim_offload_forget(v);		/* checks still out: dropped on return */
    for (size_t i = 0; i < v->nh; i++) {
	free(v->h[i].name);		/* and its value */
    }
    free(v->h);
    free(v->tab);
    for (size_t i = 0; i < v->nvs; i++)
	dkim_sig_free(&v->vs[i].sig);
    free(v->vs);
    free(v->res);
    for (size_t i = 0; i < v->nbh; i++)
	EVP_MD_CTX_free(v->bhs[i].md);
    free(v->bhs);
    free(v);
}
