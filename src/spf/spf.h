/*
 * spf.h - RFC 7208 check_host().
 *
 * The evaluation is a pure function of the DNS answers it sees: it asks
 * its lookup provider for (name, type); when an answer is not there yet
 * the provider starts the lookup and spf_check() returns SPF_PENDING, to
 * be called again from the start when the answer arrives.  Before it
 * returns SPF_PENDING it asks for the other names the current record will
 * need, so they are looked up at once.  Limits (10 DNS-querying terms, 10
 * MX or PTR names, 2 void lookups) are counted afresh on every run, which
 * makes the outcome independent of how often it ran.
 */
#ifndef MX_SPF_SPF_H
#define MX_SPF_SPF_H

#include <time.h>

#include "dns/dns.h"
#include "util/str.h"

enum spf_result {
    SPF_NONE,
    SPF_NEUTRAL,
    SPF_PASS,
    SPF_FAIL,
    SPF_SOFTFAIL,
    SPF_TEMPERROR,
    SPF_PERMERROR,
};

struct spf_dns {
    /* the answer, or NULL: started, not there yet */
    struct dns_answer *(*get) (void *ctx, const char *name, int type);
    void    (*prefetch) (void *ctx, const char *name, int type);
    void   *ctx;
};

struct spf_request {
    const char *ip;			/* client address */
    const char *sender;			/* MAIL FROM, "" for the null sender */
    const char *helo;
    const char *receiver;		/* %{r}; "unknown" when NULL */
    time_t  now;			/* %{t} */
};

struct spf_outcome {
    enum spf_result result;
    struct buf domain;			/* the identity's domain */
    struct buf sender;			/* the identity checked (postmaster@helo ...) */
    struct buf explanation;		/* fail: exp= text, else the default */
    struct buf problem;			/* permerror/temperror: why */
    struct buf mechanism;		/* the term that decided */
    struct buf trace;			/* each term and lookup, one per line */
};

#define SPF_PENDING	(-1)

/*
 * SPF_EXPAND_MAX - the most one macro-string (a mechanism's target, an
 * explanation) may expand to, in bytes, before the RFC 7208 7.3
 * truncation of a domain name to 253.  Ours, not the RFC's: no sensible
 * record comes near it (a target of four %{S} of a 254-octet sender is
 * at most about 3 KB), and it bounds the work a record can make of each term.
 * Past it: permerror (RFC 7208 4.6.4 allows limits on processing).
 */
#define SPF_EXPAND_MAX	4096

void    spf_outcome_init(struct spf_outcome *o);
void    spf_outcome_free(struct spf_outcome *o);

/*
 * spf_check - check_host() for MAIL FROM (helo_identity 0) or for the HELO
 * name (1).  0 when decided (o->result), SPF_PENDING when waiting.
 */
int     spf_check(const struct spf_dns *dns, const struct spf_request *rq,
		          int helo_identity, struct spf_outcome *o);

const char *spf_result_name(enum spf_result r);

/* spf_valid_domain - RFC 7208 4.3: labels of 1..63, at most 253, two labels */
int     spf_valid_domain(const char *d);

#endif
