/*
 * arc.c - RFC 8617 chain validation, inside the DKIM verifier.
 *
 *	At the end of the headers the ARC sets are collected by instance:
 *	each instance 1..N must have exactly one ARC-Authentication-Results,
 *	ARC-Message-Signature and ARC-Seal, N at most ARC_MAX_INSTANCES.
 *	The newest seal must not say cv=fail, instance 1 must say cv=none
 *	and every later one cv=pass (RFC 8617 section 5.2).  Then the
 *	newest ARC-Message-Signature (with its own body hash, streamed like
 *	a DKIM signature's) and every ARC-Seal are verified with their keys.
 *
 *	The chain passes when all of that holds; it fails otherwise, and
 *	dkim_verify_arc_temporary() tells a failure that is only a key
 *	lookup's temporary failure.  The sealer is the newest seal's d=.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim/verify_impl.h"
#include "util/log.h"

/* arc_fail - the chain fails for a structural reason, nothing verified */
static void arc_fail(struct dkim_verify *v, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));

static void arc_fail(struct dkim_verify *v, const char *fmt,...)
{
    va_list ap;

    v->arc = ARC_FAIL;
    v->arc_n = -1;			/* decided */
    va_start(ap, fmt);
    vsnprintf(v->arc_reason, sizeof(v->arc_reason), fmt, ap);
    va_end(ap);
}

/* aar_instance - the i= that starts an ARC-Authentication-Results, or -1 */
static int aar_instance(const char *s, size_t len)
{
    size_t  p = 0;
    int     n = 0, digits = 0;

    while (p < len && isspace((unsigned char) s[p]))
	p++;
    if (p >= len || s[p++] != 'i')
	return -1;
    while (p < len && isspace((unsigned char) s[p]))
	p++;
    if (p >= len || s[p++] != '=')
	return -1;
    while (p < len && isspace((unsigned char) s[p]))
	p++;
    while (p < len && isdigit((unsigned char) s[p]) && digits < 3) {
	n = n * 10 + (s[p++] - '0');
	digits++;
    }
    while (p < len && isspace((unsigned char) s[p]))
	p++;
    if (digits == 0 || p >= len || s[p] != ';' || n < 1 || n > ARC_MAX_INSTANCES)
	return -1;
    return n;
}

/* arc_collect - sort the ARC fields by instance; 0, or -1 (decided) */
static int arc_collect(struct dkim_verify *v, int *count)
{
    for (size_t i = 0; i < v->nh; i++) {
	const char *name = v->h[i].name;
	enum dkim_sig_kind kind;
	int     inst, *slotp;

	if (strcasecmp(name, "ARC-Authentication-Results") == 0) {
	    kind = DKIM_KIND_DKIM;	/* not a signature */
	} else if (strcasecmp(name, "ARC-Message-Signature") == 0) {
	    kind = DKIM_KIND_AMS;
	} else if (strcasecmp(name, "ARC-Seal") == 0) {
	    kind = DKIM_KIND_AS;
	} else {
	    continue;
	}
	if (++*count > 3 * ARC_MAX_INSTANCES) {
	    arc_fail(v, "more than %d ARC header fields", 3 * ARC_MAX_INSTANCES);
	    return -1;
	}
	if (kind == DKIM_KIND_DKIM) {
	    if ((inst = aar_instance(v->h[i].value, v->h[i].vlen)) < 0) {
		arc_fail(v, "ARC-Authentication-Results without a valid i=");
		return -1;
	    }
	    if (inst > v->arc_top)
		v->arc_top = inst;
	    slotp = &v->arc_aar[inst];
	    if (*slotp >= 0) {
		arc_fail(v, "two ARC-Authentication-Results i=%d", inst);
		return -1;
	    }
	    *slotp = (int) i;
	} else {
	    int     k = dkim_vsig_add(v, kind, (int) i);
	    struct dkim_vsig *vs = &v->vs[k];

	    if (vs->state != VSIG_KEY) {
		arc_fail(v, "%s does not parse: %s", name, vs->reason);
		return -1;
	    }
	    inst = vs->sig.instance;
	    if (inst > v->arc_top)
		v->arc_top = inst;
	    slotp = kind == DKIM_KIND_AMS ? &v->arc_ams[inst] : &v->arc_as[inst];
	    if (*slotp >= 0) {
		arc_fail(v, "two %s i=%d", name, inst);
		return -1;
	    }
	    *slotp = k;
	}
	if (inst > v->arc_n)
	    v->arc_n = inst;
    }
    return 0;
}

/* dkim_arc_eoh - collect and check the sets, start what must be verified */
void    dkim_arc_eoh(struct dkim_verify *v)
{
    size_t  first = v->nvs;
    int     count = 0, n;

    for (int i = 0; i <= ARC_MAX_INSTANCES; i++)
	v->arc_ams[i] = v->arc_as[i] = v->arc_aar[i] = -1;
    v->arc = ARC_NONE;
    snprintf(v->arc_reason, sizeof(v->arc_reason), "no ARC sets");
    if (arc_collect(v, &count) < 0 || count == 0)
	goto out;
    n = v->arc_n;
    if (v->arc_as[n] >= 0)
	v->sealer = v->vs[v->arc_as[n]].sig.d;
    if (v->overflow) {
	arc_fail(v, "message header past %d fields or %d bytes", DKIM_MAX_HEADERS,
		 DKIM_MAX_HEADER_BYTES);
	goto out;
    }
    for (int i = 1; i <= n; i++)
	if (v->arc_aar[i] < 0 || v->arc_ams[i] < 0 || v->arc_as[i] < 0) {
	    arc_fail(v, "ARC set i=%d is incomplete", i);
	    goto out;
	}
    if (v->vs[v->arc_as[n]].sig.cv == ARC_CV_FAIL) {
	arc_fail(v, "the newest ARC-Seal (i=%d) says cv=fail", n);
	goto out;
    }
    for (int i = 1; i <= n; i++) {
	enum arc_cv want = i == 1 ? ARC_CV_NONE : ARC_CV_PASS;

	if (v->vs[v->arc_as[i]].sig.cv != want) {
	    arc_fail(v, "ARC-Seal i=%d has cv=%s", i,
		     v->vs[v->arc_as[i]].sig.cv == ARC_CV_PASS ? "pass" :
		     v->vs[v->arc_as[i]].sig.cv == ARC_CV_NONE ? "none" : "fail");
	    goto out;
	}
    }
    dkim_vsig_prepare(v, &v->vs[v->arc_ams[n]]);
    for (int i = n; i >= 1; i--)
	dkim_vsig_prepare(v, &v->vs[v->arc_as[i]]);
out:
    /* the rest is not verified */
    for (size_t k = first; k < v->nvs; k++) {
	struct dkim_vsig *vs = &v->vs[k];

	/* prepared ones have their key name (or a result) */

	if (vs->state == VSIG_KEY && vs->keyname[0] == 0)
	    dkim_vsig_result(vs, DKIM_NONE, "not verified");
    }
}

/* dkim_arc_conclude - the chain's result from its verified signatures */
void    dkim_arc_conclude(struct dkim_verify *v)
{
    int     n = v->arc_n, temp = 0;
    char    first_temp[400] = "";

    if (n <= 0)
	return;				/* none, or decided at eoh */
    const struct dkim_vsig *order[ARC_MAX_INSTANCES + 1];
    const char *what[ARC_MAX_INSTANCES + 1];
    int     inst[ARC_MAX_INSTANCES + 1], k = 0;

    order[k] = &v->vs[v->arc_ams[n]];
    what[k] = "ARC-Message-Signature";
    inst[k++] = n;
    for (int i = n; i >= 1; i--) {
	order[k] = &v->vs[v->arc_as[i]];
	what[k] = "ARC-Seal";
	inst[k++] = i;
    }
    for (int j = 0; j < k; j++) {
	if (order[j]->result == DKIM_PASS)
	    continue;
	if (order[j]->result == DKIM_TEMPERROR) {
	    if (!temp)
		snprintf(first_temp, sizeof(first_temp), "%s i=%d: %s", what[j], inst[j],
			 order[j]->reason);
	    temp = 1;
	    continue;
	}
	v->arc = ARC_FAIL;
	snprintf(v->arc_reason, sizeof(v->arc_reason), "%s i=%d: %s: %s", what[j], inst[j],
		 dkim_result_name(order[j]->result), order[j]->reason);
	return;
    }
    if (temp) {
	v->arc = ARC_FAIL;
	v->arc_temp = 1;
	snprintf(v->arc_reason, sizeof(v->arc_reason), "%s", first_temp);
	return;
    }
    v->arc = ARC_PASS;
    snprintf(v->arc_reason, sizeof(v->arc_reason), "chain of %d verified", n);
}

/* hash_field - one field, relaxed, into a digest; crlf: with its CRLF */
static void hash_field(EVP_MD_CTX *md, struct buf *scratch, const struct dkim_hdr *h,
		               const char *value, size_t vlen, int crlf)
{
    buf_reset(scratch);
    dkim_canon_header(scratch, 1, h->name, h->nlen, value, vlen);
    EVP_DigestUpdate(md, scratch->s, scratch->len - (crlf ? 0 : 2));
}

/*
 * dkim_arc_seal_digests - what each ARC-Seal signs, hashed: the seal of
 * instance j covers the sets 1..j (AAR, AMS, AS each), its own b=
 * emptied and without the last CRLF.  The sets 1..j-1 are a prefix
 * shared by every later seal, hashed once and copied: linear in the
 * ARC fields' size, not quadratic in the number of instances.
 */
void    dkim_arc_seal_digests(struct dkim_verify *v)
{
    EVP_MD_CTX *run = EVP_MD_CTX_new(), *one = EVP_MD_CTX_new();
    struct buf scratch;

    if (run == NULL || one == NULL || EVP_DigestInit_ex(run, dkim_sha256_md(), NULL) != 1)
	msg_panic("dkim: cannot initialise SHA-256");
    buf_init(&scratch);
    for (int i = 1; i <= v->arc_n; i++) {
	const struct dkim_hdr *aar = &v->h[v->arc_aar[i]];
	const struct dkim_vsig *ams = &v->vs[v->arc_ams[i]];
	const struct dkim_vsig *as = &v->vs[v->arc_as[i]];
	const struct dkim_hdr *amsh = &v->h[ams->hdr], *ash = &v->h[as->hdr];
	unsigned int len = 0;

	hash_field(run, &scratch, aar, aar->value, aar->vlen, 1);
	hash_field(run, &scratch, amsh, amsh->value, amsh->vlen, 1);
	if (EVP_MD_CTX_copy_ex(one, run) != 1)
	    msg_panic("dkim: cannot copy a SHA-256 context");
	hash_field(one, &scratch, ash, as->sig.value_nob, as->sig.value_nob_len, 0);
	EVP_DigestFinal_ex(one, v->arc_digest[i], &len);
	hash_field(run, &scratch, ash, ash->value, ash->vlen, 1);
    }
    buf_free(&scratch);
    EVP_MD_CTX_free(run);
    EVP_MD_CTX_free(one);
    v->arc_digested = 1;
}

/* dkim_verify_arc_instance - the newest ARC instance seen, 0 when none
 * (of a broken chain: the highest read before the verifier gave up) */
int     dkim_verify_arc_instance(const struct dkim_verify *v)
{
    return v->arc_n > 0 ? v->arc_n : v->arc_top;
}

/* dkim_verify_arc_sets - the sets 1..N as an ARC-Seal of N+1 signs them:
 * relaxed, each field with its CRLF, AAR, AMS, AS per instance (RFC 8617
 * section 5.1.1); nothing unless the chain passed */
void    dkim_verify_arc_sets(const struct dkim_verify *v, struct buf *out)
{
    if (v->arc != ARC_PASS)
	return;
    for (int i = 1; i <= v->arc_n; i++) {
	const struct dkim_hdr *f[3] = {&v->h[v->arc_aar[i]], &v->h[v->vs[v->arc_ams[i]].hdr],
	&v->h[v->vs[v->arc_as[i]].hdr]};

	for (int j = 0; j < 3; j++)
	    dkim_canon_header(out, 1, f[j]->name, f[j]->nlen, f[j]->value, f[j]->vlen);
    }
}
