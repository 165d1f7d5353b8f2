/*
 * dnsrestr.c - the restrictions that need DNS, with Postfix's semantics,
 * codes and wording (smtpd_check.c): client names, HELO names and mail
 * domains (DNS lists are in dnslists.c); and check_score.
 *
 * Every restriction here asks eval_lookup() for what it needs; when an
 * answer is not there yet it returns RS_PENDING and is called again, from
 * the start, when the answer arrives.  So each function is written as a
 * pure function of the answers it sees, never of how often it ran.
 *
 * A temporary DNS failure never becomes a pass where the restriction could
 * have rejected, and never a 5xx: it gives 450, at once or through
 * defer_if_permit (reject_tempfail_action and friends).  The one place
 * Postfix gives the benefit of the doubt, a reject_rbl_* or reject_rhsbl_*
 * list that cannot be queried, follows rbl_tempfail_action: by default
 * "dunno", Postfix's skip (logged as "RBL lookup error"), so that a
 * main.cf pasted here decides as it did; defer_if_permit or defer when
 * asked.  permit_dnswl_client and permit_rhswl_client defer_if_reject on
 * such a failure, as Postfix does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "conf/config.h"
#include "dns/dns.h"
#include "maps/map.h"
#include "rules/addr.h"
#include "rules/dnscheck.h"
#include "rules/dnsxl.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

#define MAX_PTR_NAMES	5		/* PTR names tried for confirmation */

int dns_postfix_name_ok(const struct eval *e, const char *name)
{
    return e->pol->dns_postfix_names
	&& *name && strcasecmp(name, "unknown") != 0;
}

/* client_ptr_name - the PTR query name of the client address */
static int client_ptr_name(const struct eval *e, char *out, size_t len)
{
    struct inet_addr a;

    if (inet_parse(e->txn->client_address, &a) < 0)
	return -1;
    return dns_reverse_name(e->txn->client_address,
			    a.family == AF_INET ? "in-addr.arpa" : "ip6.arpa", out, len);
}

/* dns_reverse_status - the client's PTR name; PENDING while waiting */
int dns_reverse_status(struct eval *e, enum peer *st, const struct dns_answer **ans,
			          const char **name)
{
    char    q[128];
    struct dns_answer *a;

    *ans = NULL;
    *name = NULL;
    if (dns_postfix_name_ok(e, e->txn->reverse_client_name)) {
	*st = PEER_OK;
	*name = e->txn->reverse_client_name;
	eval_trace_detail(e, "reverse name %s (from Postfix)", *name);
	return 0;
    }
    if (client_ptr_name(e, q, sizeof(q)) < 0) {
	*st = PEER_PERM;
	return 0;
    }
    if ((a = eval_lookup(e, q, DNS_T_PTR)) == NULL)
	return PENDING;
    *ans = a;
    if (a->status == DNS_TEMPFAIL) {
	*st = PEER_TEMP;
	return 0;
    }
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	if (valid_hostname(a->rr[i].name)) {
	    *st = PEER_OK;
	    *name = a->rr[i].name;
	    return 0;
	}
    }
    *st = PEER_PERM;
    return 0;
}

/* same_addr - does an A/AAAA record hold the client address? */
static int same_addr(const struct inet_addr *rr, const struct inet_addr *client)
{
    size_t  n = client->family == AF_INET ? 4 : 16;

    return rr->family == client->family && memcmp(rr->b, client->b, n) == 0;
}

/* dns_forward_status - forward-confirmed client name; PENDING while waiting */
int dns_forward_status(struct eval *e, enum peer *st, const char **name)
{
    const struct dns_answer *ptr;
    const char *rname;
    struct inet_addr client;
    int     temp = 0, tried = 0;

    *name = NULL;
    if (dns_postfix_name_ok(e, e->txn->client_name)) {
	*st = PEER_OK;
	*name = e->txn->client_name;
	eval_trace_detail(e, "client name %s (from Postfix)", *name);
	return 0;
    }
    if (dns_reverse_status(e, st, &ptr, &rname) == PENDING)
	return PENDING;
    if (*st != PEER_OK)
	return 0;
    if (inet_parse(e->txn->client_address, &client) < 0) {
	*st = PEER_PERM;
	return 0;
    }
    /* each valid PTR name, until one resolves back to the client */
    for (size_t i = 0; i < (ptr ? ptr->n : 1) && tried < MAX_PTR_NAMES; i++) {
	const char *n = ptr ? ptr->rr[i].name : rname;
	struct dns_answer *a;

	if (!valid_hostname(n))
	    continue;
	tried++;
	a = eval_lookup(e, n, client.family == AF_INET ? DNS_T_A : DNS_T_AAAA);
	if (a == NULL)
	    return PENDING;
	if (a->status == DNS_TEMPFAIL)
	    temp = 1;
	for (size_t k = 0; a->status == DNS_OK && k < a->n; k++) {
	    if (same_addr(&a->rr[k].addr, &client)) {
		*st = PEER_OK;
		*name = n;
		return 0;
	    }
	}
    }
    *st = temp ? PEER_TEMP : PEER_FORGED;
    if (!temp)
	eval_trace_detail(e, "no PTR name resolves back to %s", e->txn->client_address);
    return 0;
}

/* dns_prefetch_client - the PTR lookup, unless Postfix's names settle it */
void dns_prefetch_client(struct eval *e, const struct rule *r)
{
    char    q[128];

    (void) r;
    if (dns_postfix_name_ok(e, e->txn->client_name))
	return;
    if (client_ptr_name(e, q, sizeof(q)) == 0)
	eval_prefetch(e, q, DNS_T_PTR);
}

/* dns_tempfail - a temporary DNS failure, per a *_tempfail_action parameter */
enum rstatus dns_tempfail(struct eval *e, enum param_id act, const char *dsn,
			             const char *fmt,...)
    __attribute__((format(printf, 4, 5)));

enum rstatus dns_tempfail(struct eval *e, enum param_id act, const char *dsn,
			             const char *fmt,...)
{
    enum tf_action how = act == P_REJECT_TF_ACT ? e->pol->reject_tf
	: act == P_UNK_HELO_TF_ACT ? e->pol->unknown_helo_tf
	: act == P_UNK_ADDR_TF_ACT ? e->pol->unknown_address_tf : e->pol->rbl_tf;
    struct buf text;
    va_list ap;
    enum rstatus st;

    buf_init(&text);
    va_start(ap, fmt);
    buf_vprintf(&text, fmt, ap);
    va_end(ap);
    e->temp_failure = 1;
    if (how == TF_DUNNO) {
	eval_trace_detail(e, "temporary failure ignored (%s = dunno)", param_table[act].name);
	st = RS_DUNNO;
    } else if (how == TF_DEFER || e->warn_level != 0) {
	st = eval_reject(e, 450, dsn, "%s", text.s);
    } else {
	st = eval_defer_if(e, &e->dip, 450, dsn, "%s", text.s);
    }
    buf_free(&text);
    return st;
}

/* dns_client_name - the client's forward-confirmed name, or with reverse
 * only its PTR name: 1 with *st (and *name when PEER_OK), 0 when Postfix
 * sent no client address, PENDING while waiting */
int     dns_client_name(struct eval *e, int reverse, enum peer *st, const char **name)
{
    const struct dns_answer *a;

    if (*e->txn->client_address == 0)
	return 0;
    if ((reverse ? dns_reverse_status(e, st, &a, name)
	 : dns_forward_status(e, st, name)) == PENDING)
	return PENDING;
    return 1;
}

/* unknown_client - reject_unknown_client_hostname and, with reverse,
 * reject_unknown_reverse_client_hostname */
static enum rstatus unknown_client(struct eval *e, int reverse)
{
    enum peer st;
    const char *name;
    int     n = dns_client_name(e, reverse, &st, &name);

    if (n <= 0)
	return n == PENDING ? RS_PENDING : RS_DUNNO;
    if (st == PEER_OK)
	return RS_DUNNO;
    e->temp_failure = st == PEER_TEMP;
    return eval_reject(e, st >= PEER_PERM ? e->pol->code.unknown_client : 450,
		       reverse ? "4.7.1" : "4.7.25",
		       "Client host rejected: cannot find your %shostname, [%s]",
		       reverse ? "reverse " : "", e->txn->client_address);
}

/* r_unknown_client - reject_unknown_client_hostname */
static enum rstatus r_unknown_client(struct eval *e, const struct rule *r,
				             const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return unknown_client(e, 0);
}

/* r_unknown_reverse - reject_unknown_reverse_client_hostname */
static enum rstatus r_unknown_reverse(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return unknown_client(e, 1);
}

/* prefetch_helo - A, AAAA and MX of the HELO name */
static void prefetch_helo(struct eval *e, const struct rule *r)
{
    const char *h = e->txn->helo_name;

    (void) r;
    if (*h && *h != '[' && valid_hostname(h)) {
	eval_prefetch(e, h, DNS_T_A);
	eval_prefetch(e, h, DNS_T_AAAA);
	eval_prefetch(e, h, DNS_T_MX);
    }
}

/* r_unknown_helo - reject_unknown_helo_hostname: no A, AAAA or MX */
static enum rstatus r_unknown_helo(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    const char *h = e->txn->helo_name;
    static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX};
    int     temp = 0;

    (void) r;
    (void) rn;
    (void) rc;
    if (*h == 0)
	return RS_DUNNO;
    if (*h == '[')
	return eval_invalid_hostaddr(e, h);
    if (valid_hostname(h)) {
	for (size_t i = 0; i < 3; i++) {
	    struct dns_answer *a = eval_lookup(e, h, types[i]);

	    if (a == NULL)
		return RS_PENDING;
	    if (a->status == DNS_OK)
		return RS_DUNNO;	/* a null MX is fine for an MTA name */
	    if (a->status == DNS_TEMPFAIL)
		temp = 1;
	    if (a->status == DNS_NXDOMAIN)
		break;			/* no other type can exist */
	}
    }
    if (temp)
	return dns_tempfail(e, P_UNK_HELO_TF_ACT, "4.7.1",
			"<%s>: Helo command rejected: Host not found", h);
    return eval_reject(e, e->pol->code.unknown_name, "4.7.1",
		       "<%s>: Helo command rejected: Host not found", h);
}

/* mail_domain - the DNS domain of a sender/recipient to check, or NULL */
static const char *mail_domain(struct eval *e, const char *addr, struct resolved *res)
{
    const char *at;

    buf_init(&res->addr);
    res->routed = 0;
    if (*addr == 0 || addr_resolve(&e->pol->addr, addr, res) < 0)
	return NULL;
    if ((at = strrchr(res->addr.s, '@')) == NULL)
	return NULL;
    /* our own destinations and address literals are not looked up */
    if (res->cls == RESOLVE_LOCAL || res->cls == RESOLVE_ALIAS || res->cls == RESOLVE_VIRTUAL)
	return NULL;
    if (at[1] == '[')
	return NULL;
    return at + 1;
}

/* prefetch_domain - MX, A and AAAA of a mail address's domain */
static void prefetch_domain(struct eval *e, const char *addr)
{
    struct resolved res;
    const char *d = mail_domain(e, addr, &res);

    if (d && valid_hostname(d)) {
	eval_prefetch(e, d, DNS_T_MX);
	eval_prefetch(e, d, DNS_T_A);
	eval_prefetch(e, d, DNS_T_AAAA);
    }
    buf_free(&res.addr);
}

static void prefetch_sender_domain(struct eval *e, const struct rule *r)
{
    (void) r;
    prefetch_domain(e, e->txn->sender);
}

static void prefetch_rcpt_domain(struct eval *e, const struct rule *r)
{
    (void) r;
    prefetch_domain(e, e->txn->recipient);
}

/* unknown_domain - reject_unknown_{sender,recipient}_domain */
static enum rstatus unknown_domain(struct eval *e, const char *addr, const char *rc)
{
    struct resolved res;
    const char *d = mail_domain(e, addr, &res);
    int     sender = strcmp(rc, "Sender address") == 0;
    const char *dsn = sender ? "4.1.8" : "4.1.2";
    enum rstatus st = RS_DUNNO;
    int     temp = 0, found = 0;

    if (d == NULL) {
	buf_free(&res.addr);
	return RS_DUNNO;
    }
    if (valid_hostname(d)) {
	struct dns_answer *mx = eval_lookup(e, d, DNS_T_MX);

	if (mx == NULL) {
	    buf_free(&res.addr);
	    return RS_PENDING;
	}
	if (mx->status == DNS_OK) {
	    if (mx->n == 1 && mx->rr[0].name[0] == 0) {
		/* RFC 7505: the domain accepts no mail */
		st = eval_reject(e, sender ? 550 : 556, sender ? "5.7.27" : "5.1.10",
				 "<%s>: %s rejected: Domain %s does not accept mail (nullMX)",
				 addr, rc, d);
		buf_free(&res.addr);
		return st;
	    }
	    found = 1;
	} else if (mx->status == DNS_NXDOMAIN) {
	    /* the name does not exist: no A or AAAA either */
	} else {
	    /* no MX, or the MX lookup failed: Postfix goes on to A, AAAA */
	    if (mx->status == DNS_TEMPFAIL)
		temp = 1;
	    static const int types[] = {DNS_T_A, DNS_T_AAAA};

	    for (size_t i = 0; i < 2 && !found; i++) {
		struct dns_answer *a = eval_lookup(e, d, types[i]);

		if (a == NULL) {
		    buf_free(&res.addr);
		    return RS_PENDING;
		}
		if (a->status == DNS_OK)
		    found = 1;
		else if (a->status == DNS_TEMPFAIL)
		    temp = 1;
	    }
	}
    }
    if (found)
	st = RS_DUNNO;
    else if (temp)
	st = dns_tempfail(e, P_UNK_ADDR_TF_ACT, dsn, "<%s>: %s rejected: Domain not found", addr, rc);
    else
	st = eval_reject(e, e->pol->code.unknown_address, dsn,
			 "<%s>: %s rejected: Domain not found", addr, rc);
    buf_free(&res.addr);
    return st;
}

static enum rstatus r_unknown_sender_domain(struct eval *e, const struct rule *r,
					            const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return unknown_domain(e, e->txn->sender, "Sender address");
}

static enum rstatus r_unknown_rcpt_domain(struct eval *e, const struct rule *r,
					          const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return unknown_domain(e, e->txn->recipient, "Recipient address");
}

/* r_check_score - apply the score thresholds here */
static enum rstatus r_check_score(struct eval *e, const struct rule *r,
				          const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return eval_score_apply(e);
}

static const struct rdef dns_rdefs[] = {
    {"reject_unknown_client_hostname", 0, r_unknown_client, NULL, dns_prefetch_client},
    {"reject_unknown_client", 0, r_unknown_client, NULL, dns_prefetch_client},
    {"reject_unknown_reverse_client_hostname", 0, r_unknown_reverse, NULL, dns_prefetch_client},
    {"reject_unknown_helo_hostname", 0, r_unknown_helo, NULL, prefetch_helo},
    {"reject_unknown_hostname", 0, r_unknown_helo, NULL, prefetch_helo},
    {"reject_unknown_sender_domain", 0, r_unknown_sender_domain, NULL, prefetch_sender_domain},
    {"reject_unknown_recipient_domain", 0, r_unknown_rcpt_domain, NULL, prefetch_rcpt_domain},
    {"check_score", 0, r_check_score, NULL, NULL},
};

/* dns_rdef_find - a restriction of this file, or NULL */
const struct rdef *dns_rdef_find(const char *name)
{
    const struct rdef *d;

    if ((d = dnslist_rdef_find(name)) != NULL)
	return d;
    for (size_t i = 0; i < sizeof(dns_rdefs) / sizeof(dns_rdefs[0]); i++)
	if (strcasecmp(dns_rdefs[i].name, name) == 0)
	    return &dns_rdefs[i];
    return NULL;
}

/* dns_policy_compile - the DNS parameters, checked and resolved; rbl_reply_maps */
int     dns_policy_compile(struct policy *p, struct buf *err)
{
    static const enum param_id acts[] = {P_REJECT_TF_ACT, P_UNK_HELO_TF_ACT,
    P_UNK_ADDR_TF_ACT, P_RBL_TF_ACT};
    enum tf_action *how[] = {&p->reject_tf, &p->unknown_helo_tf, &p->unknown_address_tf,
    &p->rbl_tf};
    struct strlist maps;

    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
	const char *v = config_str(p->conf, acts[i]);

	if (strcasecmp(v, "defer_if_permit") == 0)
	    *how[i] = TF_DEFER_IF_PERMIT;
	else if (strcasecmp(v, "defer") == 0)
	    *how[i] = TF_DEFER;
	else if (acts[i] == P_RBL_TF_ACT && strcasecmp(v, "dunno") == 0)
	    *how[i] = TF_DUNNO;
	else {
	    buf_printf(err, "%s: %s: bad value \"%s\" (expected defer_if_permit or defer%s)",
		       config_where(p->conf, acts[i]), param_table[acts[i]].name, v,
		       acts[i] == P_RBL_TF_ACT ? " or dunno" : "");
	    return -1;
	}
    }
    p->code.unknown_client = (int) config_int(p->conf, P_UNK_CLIENT_CODE);
    p->code.unknown_name = (int) config_int(p->conf, P_UNK_NAME_CODE);
    p->code.unknown_address = (int) config_int(p->conf, P_UNK_ADDR_CODE);
    p->code.rbl = (int) config_int(p->conf, P_RBL_CODE);
    p->dns_postfix_names = config_bool(p->conf, P_DNS_POSTFIX_NAMES);
    p->dnsxl_error_interval = config_int(p->conf, P_DNSXL_ERROR_INTERVAL);
    p->default_rbl_reply = config_str(p->conf, P_DEF_RBL_REPLY);
    strlist_init(&maps);
    strlist_split(&maps, config_str(p->conf, P_RBL_REPLY_MAPS), LIST_SEPS);
    for (size_t i = 0; i < maps.n; i++) {
	struct map *m = tables_open(p->tables, maps.v[i], err);

	if (m == NULL) {
	    strlist_free(&maps);
	    return -1;
	}
	p->rbl_maps = xrealloc(p->rbl_maps, (p->nrbl_maps + 1) * sizeof(*p->rbl_maps));
	p->rbl_maps[p->nrbl_maps++] = m;
    }
    strlist_free(&maps);
    return 0;
}
