/*
 * dmarc.h - DMARC policy discovery, Organizational Domains and identifier
 * alignment, over the caller's lookup set.
 *
 * Two modes: DMARCbis (RFC 9989, the default) finds the policy and the
 * Organizational Domain by the DNS tree walk (at most 8 _dmarc queries,
 * psd= tags deciding where an organization ends); RFC 7489 mode asks
 * _dmarc at the author domain and then at its registrable domain from
 * the Public Suffix List (libpsl, Debian's publicsuffix file).
 *
 * Every function is re-run from the start until it is decided: it asks
 * lookupset_get() for each name; a missing answer starts the lookup and
 * the function returns DMARC_PENDING (the lookup set wakes the caller).
 * A DNS temporary failure is DMARC_TEMPFAIL, never "no record".
 */
#ifndef MX_DMARC_DMARC_H
#define MX_DMARC_DMARC_H

#include "dmarc/record.h"

struct lookupset;

#define DMARC_WALK_MAX	8		/* DMARCbis: names queried per walk */

enum dmarc_mode {
    DMARC_MODE_BIS,
    DMARC_MODE_RFC7489,
};

struct dmarc_conf {
    enum dmarc_mode mode;
    void   *psl;			/* RFC 7489: a psl_ctx_t, NULL: none loaded */
};

/* dmarc_conf_init - mode by name ("dmarcbis" or "rfc7489"), loading the
 * Public Suffix List file (empty: libpsl's default) for rfc7489;
 * 0, or -1 with why */
int     dmarc_conf_init(struct dmarc_conf *c, const char *mode, const char *psl_file,
			        char *why, size_t whylen);
void    dmarc_conf_free(struct dmarc_conf *c);

enum dmarc_status {
    DMARC_PENDING = -2,
    DMARC_TEMPFAIL = -1,
    DMARC_NOTFOUND = 0,
    DMARC_FOUND = 1,
};

/* the policy that applies to an author domain */
struct dmarc_found {
    struct dmarc_record rec;
    char    where[DMARC_DOMAIN_MAX + 1];	/* the record's domain */
    int     at_author;			/* found at the author domain itself */
    int     author_exists;		/* 0: NXDOMAIN (np= applies) */
    char    why[160];			/* TEMPFAIL: the lookup that failed */
};

/* dmarc_discover - the policy record for domain */
enum dmarc_status dmarc_discover(struct lookupset *ls, const struct dmarc_conf *c,
				         const char *domain, struct dmarc_found *out);

/* dmarc_org_domain - the Organizational Domain of domain into org
 * (DMARC_FOUND), or PENDING / TEMPFAIL (why) */
enum dmarc_status dmarc_org_domain(struct lookupset *ls, const struct dmarc_conf *c,
				           const char *domain, char *org, size_t orglen,
				           char *why, size_t whylen);

/* dmarc_aligned - 1 aligned, 0 not, PENDING or TEMPFAIL (why) */
int     dmarc_aligned(struct lookupset *ls, const struct dmarc_conf *c, const char *id,
		              const char *from, int strict, char *why, size_t whylen);

/* dmarc_effective - p, sp or np as it applies to the author domain */
enum dmarc_policy dmarc_effective(const struct dmarc_found *f);

/* dmarc_walk_names - the names a tree walk asks _dmarc at, lowest first */
int     dmarc_walk_names(const char *domain, const char *names[DMARC_WALK_MAX]);

#endif
