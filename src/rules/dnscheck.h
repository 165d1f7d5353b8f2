/*
 * dnscheck.h - what the DNS restrictions share (dnsrestr.c, dnslists.c).
 * Private to src/rules.
 */
#ifndef MX_RULES_DNSCHECK_H
#define MX_RULES_DNSCHECK_H

#include "conf/params.h"
#include "dns/dns.h"
#include "rules/eval.h"

/* how the client's name lookups ended */
enum peer {
    PEER_OK,
    PEER_TEMP,
    PEER_PERM,
    PEER_FORGED,			/* PTR name does not resolve back */
};

#define PENDING	(-1)			/* waiting for an answer */

/* a name Postfix sent and resolved already (not "unknown") */
int     dns_postfix_name_ok(const struct eval *e, const char *name);

/* the client's PTR name / forward-confirmed name; PENDING while waiting */
int     dns_reverse_status(struct eval *e, enum peer *st, const struct dns_answer **ans,
			           const char **name);
int     dns_forward_status(struct eval *e, enum peer *st, const char **name);
/* either of them for a restriction: 0 without a client address, 1 when known */
int     dns_client_name(struct eval *e, int reverse, enum peer *st, const char **name);
void    dns_prefetch_client(struct eval *e, const struct rule *r);

/* a temporary DNS failure, per a *_tempfail_action parameter */
enum rstatus dns_tempfail(struct eval *e, enum param_id act, const char *dsn,
			          const char *fmt,...) __attribute__((format(printf, 4, 5)));

/* dnslists.c: reject_rbl_client and the other DNS list restrictions */
const struct rdef *dnslist_rdef_find(const char *name);

#endif
