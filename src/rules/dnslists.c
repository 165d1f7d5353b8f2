/*
 * dnslists.c - DNS list restrictions: reject_rbl_client, permit_dnswl_client,
 * the reject_rhsbl_* family and permit_rhswl_client, with Postfix's reply
 * filters, TXT reasons, default_rbl_reply and rbl_reply_maps, and list
 * health (a list answering with an error code is never a listing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/config.h"
#include "dns/dns.h"
#include "maps/map.h"
#include "rules/addr.h"
#include "rules/dnscheck.h"
#include "rules/dnsxl.h"
#include "rules/eval.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define RBL_TXT_LIMIT	500		/* as Postfix */

/*
 * List health: answers that mean "refused" are never a listing.  Each
 * list's trouble is logged at most once per dnsxl_error_log_interval,
 * with the count since the last message.
 */
struct list_health {
    struct list_health *next;
    char   *domain;
    time_t  last_log;
    unsigned long errors;		/* since start */
    unsigned long unlogged;
};

static struct list_health *health;

static void list_error(struct eval *e, const struct dnsxl *xl, const char *answer)
{
    struct list_health *h;
    time_t  now = time(NULL);

    for (h = health; h; h = h->next)
	if (strcasecmp(h->domain, xl->domain) == 0)
	    break;
    if (h == NULL) {
	h = xcalloc(1, sizeof(*h));
	h->domain = xstrdup(xl->domain);
	h->next = health;
	health = h;
    }
    h->errors++;
    h->unlogged++;
    eval_trace_detail(e, "list %s unavailable: answered %s (an error code, not a listing; "
		      "%lu such answers since start)", xl->domain, answer, h->errors);
    if (h->last_log == 0 || now - h->last_log >= e->pol->dnsxl_error_interval) {
	msg_warn("DNS list %s answered %s, which means the list refused the query, "
		 "not that the client is listed (%lu such answers since the last message); "
		 "mail is NOT being checked against it. Cause: most lists (Spamhaus, "
		 "dnswl.org) refuse queries that come through public or shared resolvers "
		 "or that exceed the free quota. Fix: set dns_resolver = recursive (or use "
		 "your own caching resolver), or use the list's registered data feed",
		 xl->domain, answer, h->unlogged);
	h->last_log = now;
	h->unlogged = 0;
    }
}

enum xl_result {
    XL_NOT_LISTED,
    XL_LISTED,
    XL_TEMP,
};

/* xl_query - is qname listed (A record passing the filter)?  */
static int xl_query(struct eval *e, const struct dnsxl *xl, const char *qname,
		            enum xl_result *res)
{
    struct dns_answer *a = eval_lookup(e, qname, DNS_T_A);

    if (a == NULL)
	return PENDING;
    *res = XL_NOT_LISTED;
    if (a->status == DNS_TEMPFAIL) {
	msg_warn("%s: RBL lookup error: %s", qname, a->why);
	stat_inc_l(STAT_DNSLIST_CHECKS, xl->domain, "tempfail");
	stat_set_l(STAT_DNSLIST_UP, 0, (const char *const[]) {xl->domain});
	*res = XL_TEMP;
	return 0;
    }
    stat_set_l(STAT_DNSLIST_UP, 1, (const char *const[]) {xl->domain});	/* an error code below resets it */
    if (a->status != DNS_OK) {
	stat_inc_l(STAT_DNSLIST_CHECKS, xl->domain, "not_listed");
	return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
	if (dnsxl_error_code(&a->rr[i].addr)) {
	    char    ip[64];

	    inet_format(&a->rr[i].addr, ip, sizeof(ip));
	    list_error(e, xl, ip);
	    stat_inc_l(STAT_DNSLIST_CHECKS, xl->domain, "refused");
	    stat_set_l(STAT_DNSLIST_UP, 0, (const char *const[]) {xl->domain});
	    return 0;
	}
    }
    for (size_t i = 0; i < a->n; i++)
	if (dnsxl_match(xl, &a->rr[i].addr))
	    *res = XL_LISTED;
    /* a listing is counted where it is acted on: a reject waits for TXT */
    if (*res != XL_LISTED)
	stat_inc_l(STAT_DNSLIST_CHECKS, xl->domain, "not_listed");
    if (*res != XL_LISTED)
	eval_trace_detail(e, "%s: answer does not pass the filter %s", qname, xl->spec);
    return 0;
}

/* rbl_expand - $names of a DNSBL reply template */
struct rbl_ctx {
    struct eval *e;
    const struct dnsxl *xl;
    const char *what;
    const char *rclass;
    const char *txt;
    char    code[8];
};

static const char *rbl_lookup(const char *name, void *arg)
{
    struct rbl_ctx *c = arg;
    const struct txn *r = c->e->txn;

    if (strcmp(name, "rbl_code") == 0)
	return c->code;
    if (strcmp(name, "rbl_domain") == 0)
	return c->xl->domain;
    if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
	return c->txt;
    if (strcmp(name, "rbl_what") == 0)
	return c->what;
    if (strcmp(name, "rbl_class") == 0)
	return c->rclass;
    if (strcmp(name, "client_address") == 0)
	return r->client_address;
    if (strcmp(name, "client_name") == 0)
	return c->e->client_name;
    if (strcmp(name, "reverse_client_name") == 0)
	return c->e->reverse_name;
    if (strcmp(name, "helo_name") == 0)
	return r->helo_name;
    if (strcmp(name, "sender") == 0)
	return r->sender;
    if (strcmp(name, "recipient") == 0)
	return r->recipient;
    if (strcmp(name, "queue_id") == 0)
	return r->queue_id;
    return NULL;
}

/* rbl_reply - reject with default_rbl_reply or the rbl_reply_maps text */
static enum rstatus rbl_reply(struct eval *e, const struct dnsxl *xl, const char *qname,
			              const char *what, const char *rclass)
{
    struct dns_answer *t = eval_lookup(e, qname, DNS_T_TXT);
    struct rbl_ctx c;
    struct buf txt, out;
    const char *tpl = NULL;
    enum rstatus st;

    if (t == NULL)
	return RS_PENDING;
    stat_inc_l(STAT_DNSLIST_CHECKS, xl->domain, "listed");
    buf_init(&txt);
    for (size_t i = 0; t->status == DNS_OK && i < t->n && txt.len < RBL_TXT_LIMIT; i++) {
	if (i)
	    buf_puts(&txt, " / ");
	buf_puts(&txt, t->rr[i].text);
    }
    if (txt.len > RBL_TXT_LIMIT)
	txt.s[txt.len = RBL_TXT_LIMIT] = 0;
    for (size_t i = 0; i < e->pol->nrbl_maps && tpl == NULL; i++) {
	const char *v;
	enum map_result mr = map_get(e->pol->rbl_maps[i], xl->spec, &v);

	if (mr == MAP_NOTFOUND && strcmp(xl->spec, xl->domain) != 0)
	    mr = map_get(e->pol->rbl_maps[i], xl->domain, &v);
	if (mr == MAP_ERROR) {
	    buf_free(&txt);
	    return eval_server_error(e);
	}
	if (mr == MAP_FOUND)
	    tpl = v;
    }
    c.e = e;
    c.xl = xl;
    c.what = what;
    c.rclass = rclass;
    c.txt = txt.s;
    snprintf(c.code, sizeof(c.code), "%d", e->pol->code.rbl);
    buf_init(&out);
    if (tpl == NULL || template_expand(tpl, &out, rbl_lookup, &c, 0) < 0) {
	if (tpl != NULL)
	    msg_warn("bad rbl reply template for domain %s: %s", xl->domain, tpl);
	buf_reset(&out);
	if (template_expand(e->pol->default_rbl_reply, &out, rbl_lookup, &c, 0) < 0) {
	    msg_warn("bad default_rbl_reply template: %s", e->pol->default_rbl_reply);
	    buf_reset(&out);
	    buf_printf(&out, "%s Service unavailable; %s [%s] blocked using %s",
		       c.code, rclass, what, xl->domain);
	}
    }
    const char *s = out.s;

    if ((s[0] != '4' && s[0] != '5') || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9'
	|| s[3] != ' ') {
	msg_warn("rbl response code configuration error: %s", s);
	st = eval_reject(e, 450, "4.7.1", "Service unavailable");
    } else {
	char    dsn[16] = "4.7.1";
	const char *text = s + 4;
	size_t  dl = strspn(text, "0123456789.");

	/* an explicit enhanced status code in the template */
	if (dl >= 5 && dl < sizeof(dsn) && text[dl] == ' ' && text[1] == '.') {
	    memcpy(dsn, text, dl);
	    dsn[dl] = 0;
	    text += dl + 1;
	}
	st = eval_reject(e, atoi(s), dsn, "%s", *text ? text : "Service unavailable");
    }
    buf_free(&out);
    buf_free(&txt);
    return st;
}

/* rbl_temp - a DNSBL could not be asked */
static enum rstatus rbl_temp(struct eval *e, const struct dnsxl *xl, const char *what,
			             const char *rclass)
{
    return dns_tempfail(e, P_RBL_TF_ACT, "4.7.1",
		    "Service unavailable; %s [%s] not checked against %s: "
		    "temporary DNS failure", rclass, what, xl->domain);
}

/* client_xl_name - the DNSxL query name for the client address */
static int client_xl_name(const struct eval *e, const struct dnsxl *xl, char *out, size_t len)
{
    return dns_reverse_name(e->txn->client_address, xl->domain, out, len);
}

static void prefetch_rbl_client(struct eval *e, const struct rule *r)
{
    char    q[300];

    if (client_xl_name(e, r->xl, q, sizeof(q)) == 0)
	eval_prefetch(e, q, DNS_T_A);
}

/* r_rbl_client - reject_rbl_client */
static enum rstatus r_rbl_client(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    char    q[300];
    enum xl_result res;

    (void) rn;
    (void) rc;
    if (client_xl_name(e, r->xl, q, sizeof(q)) < 0)
	return RS_DUNNO;
    if (xl_query(e, r->xl, q, &res) == PENDING)
	return RS_PENDING;
    if (res == XL_TEMP)
	return rbl_temp(e, r->xl, e->txn->client_address, "Client host");
    if (res == XL_NOT_LISTED)
	return RS_DUNNO;
    return rbl_reply(e, r->xl, q, e->txn->client_address, "Client host");
}

/* dnswl_safe - never allowlist a recipient we do not accept mail for */
static int dnswl_safe(struct eval *e)
{
    if (strcasecmp(e->where, "RCPT") == 0 && *e->txn->recipient
	&& eval_auth_destination(e, e->txn->recipient) != 1) {
	eval_trace_detail(e, "not for an unauthorised destination");
	return 0;
    }
    return 1;
}

/* allowlisted - permit_dnswl_client and permit_rhswl_client, once the
 * query name q for the client (shown as what) is known: permit when
 * listed; a list that cannot be queried defers if the answer would be a
 * reject (Postfix's defer_if_reject) */
static enum rstatus allowlisted(struct eval *e, const struct rule *r, const char *q,
				        const char *what)
{
    enum xl_result res;

    if (xl_query(e, r->xl, q, &res) == PENDING)
	return RS_PENDING;
    if (res == XL_TEMP) {
	e->temp_failure = 1;
	return eval_defer_if(e, &e->dir, 450, "4.7.1", "<%s>: %s rejected: %s",
			     what, "Client host", "Service unavailable");
    }
    if (res == XL_LISTED) {
	stat_inc_l(STAT_DNSLIST_CHECKS, r->xl->domain, "listed");
	return eval_permit(e, r->name);
    }
    return RS_DUNNO;
}

/* r_dnswl_client - permit_dnswl_client */
static enum rstatus r_dnswl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    char    q[300];

    (void) rn;
    (void) rc;
    if (!dnswl_safe(e) || client_xl_name(e, r->xl, q, sizeof(q)) < 0)
	return RS_DUNNO;
    return allowlisted(e, r, q, e->txn->client_address);
}

/* domain_xl_name - "domain.list" for an RHSBL, or -1 when Postfix skips */
static int domain_xl_name(const struct dnsxl *xl, const char *what, char *out, size_t len)
{
    const char *d = strrchr(what, '@');
    const char *dot;

    d = d ? d + 1 : what;
    if (*d == 0 || *d == '[')
	return -1;
    /* names ending in a numeric label look like addresses to the lists */
    dot = strrchr(d, '.');
    if (str_is_digits(dot ? dot + 1 : d) || !valid_hostname(d))
	return -1;
    if ((size_t) snprintf(out, len, "%s.%s", d, xl->domain) >= len)
	return -1;
    return 0;
}

/* rhsbl - reject_rhsbl_* for one name or address */
static enum rstatus rhsbl(struct eval *e, const struct rule *r, const char *what,
			          const char *rclass)
{
    char    q[600];
    enum xl_result res;

    if (what == NULL || domain_xl_name(r->xl, what, q, sizeof(q)) < 0)
	return RS_DUNNO;
    if (xl_query(e, r->xl, q, &res) == PENDING)
	return RS_PENDING;
    if (res == XL_TEMP)
	return rbl_temp(e, r->xl, what, rclass);
    if (res == XL_NOT_LISTED)
	return RS_DUNNO;
    return rbl_reply(e, r->xl, q, what, rclass);
}

static void prefetch_rhs(struct eval *e, const struct rule *r, const char *what)
{
    char    q[600];

    if (what && *what && domain_xl_name(r->xl, what, q, sizeof(q)) == 0)
	eval_prefetch(e, q, DNS_T_A);
}

static void prefetch_rhsbl_client(struct eval *e, const struct rule *r)
{
    if (dns_postfix_name_ok(e, e->txn->client_name))
	prefetch_rhs(e, r, e->txn->client_name);
    else
	dns_prefetch_client(e, r);
}

static void prefetch_rhsbl_reverse(struct eval *e, const struct rule *r)
{
    if (dns_postfix_name_ok(e, e->txn->reverse_client_name))
	prefetch_rhs(e, r, e->txn->reverse_client_name);
    else
	dns_prefetch_client(e, r);
}

static void prefetch_rhsbl_helo(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->txn->helo_name);
}

static void prefetch_rhsbl_sender(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->txn->sender);
}

static void prefetch_rhsbl_rcpt(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->txn->recipient);
}

/* rhsbl_client - the client's name (reverse: its unverified PTR name) */
static enum rstatus rhsbl_client(struct eval *e, const struct rule *r, int reverse)
{
    enum peer st;
    const char *name;
    int     n = dns_client_name(e, reverse, &st, &name);

    if (n <= 0)
	return n == PENDING ? RS_PENDING : RS_DUNNO;
    if (st != PEER_OK)
	return RS_DUNNO;
    return rhsbl(e, r, name, reverse ? "Unverified Client host" : "Client host");
}

/* r_rhsbl_client - reject_rhsbl_client: the verified client name */
static enum rstatus r_rhsbl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return rhsbl_client(e, r, 0);
}

/* r_rhsbl_reverse - reject_rhsbl_reverse_client: the PTR name */
static enum rstatus r_rhsbl_reverse(struct eval *e, const struct rule *r,
				            const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return rhsbl_client(e, r, 1);
}

static enum rstatus r_rhsbl_helo(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->txn->helo_name ? rhsbl(e, r, e->txn->helo_name, "Helo command") : RS_DUNNO;
}

static enum rstatus r_rhsbl_sender(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->txn->sender ? rhsbl(e, r, e->txn->sender, "Sender address") : RS_DUNNO;
}

static enum rstatus r_rhsbl_rcpt(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->txn->recipient ? rhsbl(e, r, e->txn->recipient, "Recipient address") : RS_DUNNO;
}

/* r_rhswl_client - permit_rhswl_client */
static enum rstatus r_rhswl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    enum peer st;
    const char *name;
    char    q[600];

    (void) rn;
    (void) rc;
    if (*e->txn->client_address == 0 || !dnswl_safe(e))
	return RS_DUNNO;
    if (dns_forward_status(e, &st, &name) == PENDING)
	return RS_PENDING;
    if (st != PEER_OK || domain_xl_name(r->xl, name, q, sizeof(q)) < 0)
	return RS_DUNNO;
    return allowlisted(e, r, q, name);
}

static const struct rdef list_rdefs[] = {
    {"reject_rbl_client", RDEF_ARG_DNSXL, r_rbl_client, NULL, prefetch_rbl_client},
    {"reject_rbl", RDEF_ARG_DNSXL, r_rbl_client, NULL, prefetch_rbl_client},
    {"permit_dnswl_client", RDEF_ARG_DNSXL, r_dnswl_client, NULL, prefetch_rbl_client},
    {"reject_rhsbl_client", RDEF_ARG_DNSXL, r_rhsbl_client, NULL, prefetch_rhsbl_client},
    {"reject_rhsbl_reverse_client", RDEF_ARG_DNSXL, r_rhsbl_reverse, NULL, prefetch_rhsbl_reverse},
    {"reject_rhsbl_helo", RDEF_ARG_DNSXL, r_rhsbl_helo, NULL, prefetch_rhsbl_helo},
    {"reject_rhsbl_sender", RDEF_ARG_DNSXL, r_rhsbl_sender, NULL, prefetch_rhsbl_sender},
    {"reject_rhsbl_recipient", RDEF_ARG_DNSXL, r_rhsbl_rcpt, NULL, prefetch_rhsbl_rcpt},
    {"permit_rhswl_client", RDEF_ARG_DNSXL, r_rhswl_client, NULL, prefetch_rhsbl_client},
};

/* dnslist_rdef_find - a restriction of this file, or NULL */
const struct rdef *dnslist_rdef_find(const char *name)
{
    for (size_t i = 0; i < sizeof(list_rdefs) / sizeof(list_rdefs[0]); i++)
	if (strcasecmp(list_rdefs[i].name, name) == 0)
	    return &list_rdefs[i];
    return NULL;
}
