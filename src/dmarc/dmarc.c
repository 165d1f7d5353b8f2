/*
 * dmarc.c - policy discovery, Organizational Domains, alignment.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "dmarc/dmarc.h"
#include "dns/dns.h"
#include "dns/lookupset.h"

/* dmarc_conf_init - the mode, and the PSL for RFC 7489 */
int     dmarc_conf_init(struct dmarc_conf *c, const char *mode, const char *psl_file,
			        char *why, size_t whylen)
{
    memset(c, 0, sizeof(*c));
    if (strcmp(mode, "dmarcbis") == 0) {
	c->mode = DMARC_MODE_BIS;
	return 0;
    }
    if (strcmp(mode, "rfc7489") != 0) {
	snprintf(why, whylen, "dmarc_mode \"%s\" is neither dmarcbis nor rfc7489", mode);
	return -1;
    }
    c->mode = DMARC_MODE_RFC7489;
    c->psl = *psl_file ? psl_load_file(psl_file) : (void *) psl_latest(NULL);
    if (c->psl == NULL) {
	snprintf(why, whylen, "cannot load the Public Suffix List%s%s",
		 *psl_file ? " from " : "", psl_file);
	return -1;
    }
    return 0;
}

void    dmarc_conf_free(struct dmarc_conf *c)
{
    if (c->psl)
	psl_free(c->psl);
    c->psl = NULL;
}

/* dmarc_walk_names - the DMARCbis tree walk's names, lowest first */
int     dmarc_walk_names(const char *domain, const char *names[DMARC_WALK_MAX])
{
    int     labels = 1, n = 0;
    const char *cp;

    for (cp = domain; *cp; cp++)
	if (*cp == '.')
	    labels++;
    names[n++] = domain;
    cp = domain;
    /* eight or more labels: go on from the last seven */
    if (labels >= 8) {
	while (labels > 7) {
	    cp = strchr(cp, '.') + 1;
	    labels--;
	}
	names[n++] = cp;
    } else if (labels > 1) {
	cp = strchr(cp, '.') + 1;
	labels--;
	names[n++] = cp;
    }
    while (labels > 1 && n < DMARC_WALK_MAX) {
	cp = strchr(cp, '.') + 1;
	labels--;
	names[n++] = cp;
    }
    return n;
}

/* lookup - the DMARC record at _dmarc.NAME: FOUND, NOTFOUND, PENDING, TEMPFAIL */
static enum dmarc_status lookup(struct lookupset *ls, const char *name,
				        struct dmarc_record *rec, char *why, size_t whylen)
{
    char    q[300];
    struct dns_answer *a;
    int     valid = 0;
    char    err[128];

    if (snprintf(q, sizeof(q), "_dmarc.%s", name) > 253)
	return DMARC_NOTFOUND;		/* cannot be in the DNS */
    if ((a = lookupset_get(ls, q, DNS_T_TXT, NULL)) == NULL)
	return DMARC_PENDING;
    /* a top-level domain that does not answer (most do not serve
     * _dmarc at all) is read as publishing nothing: it cannot be an
     * Organizational Domain, and a failing TLD must not fail all mail */
    if (a->status == DNS_TEMPFAIL && strchr(name, '.') == NULL)
	return DMARC_NOTFOUND;
    if (a->status == DNS_TEMPFAIL) {
	snprintf(why, whylen, "DNS TXT %s: %s", q, a->why[0] ? a->why : "temporary failure");
	return DMARC_TEMPFAIL;
    }
    if (a->status != DNS_OK)
	return DMARC_NOTFOUND;
    for (size_t i = 0; i < a->n; i++) {
	struct dmarc_record r;
	const char *t = a->rr[i].text;

	if (t && dmarc_record_parse(t, strlen(t), &r, err, sizeof(err)) == 1) {
	    if (valid++ == 0)
		*rec = r;
	}
    }
    /* more than one record: as if none (RFC 7489 6.6.3, DMARCbis) */
    return valid == 1 ? DMARC_FOUND : DMARC_NOTFOUND;
}

/* start - ask every name of a walk at once: one round trip */
static void start(struct lookupset *ls, const char **names, int n)
{
    char    q[300];

    for (int i = 0; i < n; i++)
	if (snprintf(q, sizeof(q), "_dmarc.%s", names[i]) <= 253)
	    lookupset_start(ls, q, DNS_T_TXT);
}

/* author_exists - 1, 0 (NXDOMAIN), PENDING, TEMPFAIL */
static int author_exists(struct lookupset *ls, const char *domain)
{
    struct dns_answer *a = lookupset_get(ls, domain, DNS_T_A, NULL);

    if (a == NULL)
	return DMARC_PENDING;
    return a->status != DNS_NXDOMAIN;	/* a failure is no reason for np= */
}

/* psl_org - RFC 7489's Organizational Domain from the PSL */
static void psl_org(const struct dmarc_conf *c, const char *domain, char *org, size_t orglen)
{
    const char *r = c->psl ? psl_registrable_domain(c->psl, domain) : NULL;

    snprintf(org, orglen, "%s", r ? r : domain);
}

/* dmarc_discover - the policy for domain */
enum dmarc_status dmarc_discover(struct lookupset *ls, const struct dmarc_conf *c,
				         const char *domain, struct dmarc_found *out)
{
    const char *names[DMARC_WALK_MAX + 1];
    char    org[DMARC_DOMAIN_MAX + 1];
    int     n, exists;

    memset(out, 0, sizeof(*out));
    if (c->mode == DMARC_MODE_BIS) {
	n = dmarc_walk_names(domain, names);
    } else {
	psl_org(c, domain, org, sizeof(org));
	names[0] = domain;
	names[1] = org;
	n = strcmp(org, domain) == 0 ? 1 : 2;
    }
    start(ls, names, n);
    lookupset_start(ls, domain, DNS_T_A);
    for (int i = 0; i < n; i++) {
	enum dmarc_status st = lookup(ls, names[i], &out->rec, out->why, sizeof(out->why));

	if (st == DMARC_NOTFOUND)
	    continue;
	if (st != DMARC_FOUND)
	    return st;
	snprintf(out->where, sizeof(out->where), "%s", names[i]);
	out->at_author = i == 0;
	if (out->at_author) {
	    out->author_exists = 1;
	} else {
	    if ((exists = author_exists(ls, domain)) == DMARC_PENDING)
		return DMARC_PENDING;
	    out->author_exists = exists;
	}
	return DMARC_FOUND;
    }
    return DMARC_NOTFOUND;
}

/* dmarc_effective - the policy that applies */
enum dmarc_policy dmarc_effective(const struct dmarc_found *f)
{
    const struct dmarc_record *r = &f->rec;

    if (f->at_author)
	return r->p;
    if (!f->author_exists && r->np != DMARC_POLICY_UNSET)
	return r->np;
    if (r->sp != DMARC_POLICY_UNSET)
	return r->sp;
    return r->p;
}

/* dmarc_org_domain - DMARCbis 4.10.2, or the PSL */
enum dmarc_status dmarc_org_domain(struct lookupset *ls, const struct dmarc_conf *c,
				           const char *domain, char *org, size_t orglen,
				           char *why, size_t whylen)
{
    const char *names[DMARC_WALK_MAX];
    struct dmarc_record rec;
    enum dmarc_status st[DMARC_WALK_MAX];
    const char *pick = NULL;
    int     n;

    if (c->mode == DMARC_MODE_RFC7489) {
	psl_org(c, domain, org, orglen);
	return DMARC_FOUND;
    }
    n = dmarc_walk_names(domain, names);
    start(ls, names, n);
    /* every answer first: pending ones all start now */
    for (int i = 0; i < n; i++)
	st[i] = lookup(ls, names[i], &rec, why, whylen);
    for (int i = 0; i < n; i++) {
	if (st[i] == DMARC_PENDING)
	    return DMARC_PENDING;
    }
    for (int i = 0; i < n; i++) {
	if (st[i] == DMARC_TEMPFAIL)
	    return DMARC_TEMPFAIL;
	if (st[i] != DMARC_FOUND)
	    continue;
	(void) lookup(ls, names[i], &rec, why, whylen);
	if (rec.psd == DMARC_PSD_NO) {
	    pick = names[i];
	    break;
	}
	if (rec.psd == DMARC_PSD_YES && i > 0) {
	    /* one label below the public suffix domain, towards domain */
	    const char *cp = domain, *below = domain;

	    while (cp && cp != names[i]) {
		below = cp;
		cp = strchr(cp, '.');
		if (cp)
		    cp++;
	    }
	    pick = below;
	    break;
	}
	pick = names[i];			/* the fewest labels so far */
    }
    snprintf(org, orglen, "%s", pick ? pick : domain);
    return DMARC_FOUND;
}

/* common_parent - the names share a parent of two labels or more: only
 * then can their Organizational Domains be one (no lookups otherwise) */
static int common_parent(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b), n = 0;
    int     dots = 0;

    while (n < la && n < lb && tolower((unsigned char) a[la - 1 - n])
	   == tolower((unsigned char) b[lb - 1 - n])) {
	n++;
	if (a[la - n] == '.')
	    dots++;
    }
    /* the shared tail must start at a label boundary of both */
    if (n == la || n == lb)
	return dots >= 1;
    if (a[la - n] == '.')
	return dots >= 2;
    /* stopped inside a label: count only the whole labels shared */
    return dots >= 2;
}

/* dmarc_aligned - identifier alignment */
int     dmarc_aligned(struct lookupset *ls, const struct dmarc_conf *c, const char *id,
		              const char *from, int strict, char *why, size_t whylen)
{
    char    o1[DMARC_DOMAIN_MAX + 1], o2[DMARC_DOMAIN_MAX + 1];
    enum dmarc_status s1, s2;

    if (*id == 0)
	return 0;
    if (strcasecmp(id, from) == 0)
	return 1;
    if (strict || !common_parent(id, from))
	return 0;
    s1 = dmarc_org_domain(ls, c, id, o1, sizeof(o1), why, whylen);
    s2 = dmarc_org_domain(ls, c, from, o2, sizeof(o2), why, whylen);
    if (s1 == DMARC_PENDING || s2 == DMARC_PENDING)
	return DMARC_PENDING;
    if (s1 == DMARC_TEMPFAIL || s2 == DMARC_TEMPFAIL)
	return DMARC_TEMPFAIL;
    return strcasecmp(o1, o2) == 0;
}
