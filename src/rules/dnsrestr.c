/*
 * dnsrestr.c - the restrictions that need DNS, with Postfix's semantics,
 * codes and wording (smtpd_check.c), and weighted scoring.
 *
 * Every restriction here asks eval_lookup() for what it needs; when an
 * answer is not there yet it returns RS_PENDING and is called again, from
 * the start, when the answer arrives.  So each function is written as a
 * pure function of the answers it sees, never of how often it ran.
 *
 * A temporary DNS failure never becomes a pass where the restriction could
 * have rejected, and never a 5xx: it gives 450, at once or through
 * defer_if_permit (reject_tempfail_action and friends).  The one place
 * Postfix gives the benefit of the doubt, a DNSBL that cannot be reached,
 * follows rbl_tempfail_action (default: the same deferral; "dunno" is
 * Postfix's behaviour).
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
#include "rules/dnsxl.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

#define MAX_PTR_NAMES	5		/* PTR names tried for confirmation */
#define RBL_TXT_LIMIT	500		/* as Postfix */

enum peer {
    PEER_OK,
    PEER_TEMP,
    PEER_PERM,
    PEER_FORGED,			/* PTR name does not resolve back */
};

#define PENDING	(-1)

static int code(const struct eval *e, enum param_id id)
{
    return (int) config_int(e->pol->conf, id);
}

static int postfix_name_ok(const struct eval *e, const char *name)
{
    return config_bool(e->pol->conf, P_DNS_POSTFIX_NAMES)
	&& *name && strcasecmp(name, "unknown") != 0;
}

/* client_ptr_name - the PTR query name of the client address */
static int client_ptr_name(const struct eval *e, char *out, size_t len)
{
    struct inet_addr a;

    if (inet_parse(e->req->client_address, &a) < 0)
	return -1;
    return dns_reverse_name(e->req->client_address,
			    a.family == AF_INET ? "in-addr.arpa" : "ip6.arpa", out, len);
}

/* reverse_status - the client's PTR name; PENDING while waiting */
static int reverse_status(struct eval *e, enum peer *st, const struct dns_answer **ans,
			          const char **name)
{
    char    q[128];
    struct dns_answer *a;

    *ans = NULL;
    *name = NULL;
    if (postfix_name_ok(e, e->req->reverse_client_name)) {
	*st = PEER_OK;
	*name = e->req->reverse_client_name;
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

/* forward_status - forward-confirmed client name; PENDING while waiting */
static int forward_status(struct eval *e, enum peer *st, const char **name)
{
    const struct dns_answer *ptr;
    const char *rname;
    struct inet_addr client;
    int     temp = 0, tried = 0;

    *name = NULL;
    if (postfix_name_ok(e, e->req->client_name)) {
	*st = PEER_OK;
	*name = e->req->client_name;
	eval_trace_detail(e, "client name %s (from Postfix)", *name);
	return 0;
    }
    if (reverse_status(e, st, &ptr, &rname) == PENDING)
	return PENDING;
    if (*st != PEER_OK)
	return 0;
    if (inet_parse(e->req->client_address, &client) < 0) {
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
	eval_trace_detail(e, "no PTR name resolves back to %s", e->req->client_address);
    return 0;
}

/* prefetch_client - the PTR lookup, unless Postfix's names settle it */
static void prefetch_client(struct eval *e, const struct rule *r)
{
    char    q[128];

    (void) r;
    if (postfix_name_ok(e, e->req->client_name))
	return;
    if (client_ptr_name(e, q, sizeof(q)) == 0)
	eval_prefetch(e, q, DNS_T_PTR);
}

/* tempfail - a temporary DNS failure, per a *_tempfail_action parameter */
static enum rstatus tempfail(struct eval *e, enum param_id act, const char *dsn,
			             const char *fmt,...)
    __attribute__((format(printf, 4, 5)));

static enum rstatus tempfail(struct eval *e, enum param_id act, const char *dsn,
			             const char *fmt,...)
{
    const char *how = config_str(e->pol->conf, act);
    struct buf text;
    va_list ap;
    enum rstatus st;

    buf_init(&text);
    va_start(ap, fmt);
    buf_vprintf(&text, fmt, ap);
    va_end(ap);
    e->temp_failure = 1;
    if (strcasecmp(how, "dunno") == 0) {
	eval_trace_detail(e, "temporary failure ignored (%s = dunno)", param_table[act].name);
	st = RS_DUNNO;
    } else if (strcasecmp(how, "defer") == 0 || e->warn_level != 0) {
	st = eval_reject(e, 450, dsn, "%s", text.s);
    } else {
	st = eval_defer_if(e, &e->dip, 450, dsn, "%s", text.s);
    }
    buf_free(&text);
    return st;
}

/* r_unknown_client - reject_unknown_client_hostname */
static enum rstatus r_unknown_client(struct eval *e, const struct rule *r,
				             const char *rn, const char *rc)
{
    enum peer st;
    const char *name;

    (void) r;
    (void) rn;
    (void) rc;
    if (*e->req->client_address == 0)
	return RS_DUNNO;
    if (forward_status(e, &st, &name) == PENDING)
	return RS_PENDING;
    if (st == PEER_OK)
	return RS_DUNNO;
    e->temp_failure = st == PEER_TEMP;
    return eval_reject(e, st >= PEER_PERM ? code(e, P_UNK_CLIENT_CODE) : 450, "4.7.25",
		       "Client host rejected: cannot find your hostname, [%s]",
		       e->req->client_address);
}

/* r_unknown_reverse - reject_unknown_reverse_client_hostname */
static enum rstatus r_unknown_reverse(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    enum peer st;
    const struct dns_answer *a;
    const char *name;

    (void) r;
    (void) rn;
    (void) rc;
    if (*e->req->client_address == 0)
	return RS_DUNNO;
    if (reverse_status(e, &st, &a, &name) == PENDING)
	return RS_PENDING;
    if (st == PEER_OK)
	return RS_DUNNO;
    e->temp_failure = st == PEER_TEMP;
    return eval_reject(e, st >= PEER_PERM ? code(e, P_UNK_CLIENT_CODE) : 450, "4.7.1",
		       "Client host rejected: cannot find your reverse hostname, [%s]",
		       e->req->client_address);
}

/* prefetch_helo - A, AAAA and MX of the HELO name */
static void prefetch_helo(struct eval *e, const struct rule *r)
{
    const char *h = e->req->helo_name;

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
    const char *h = e->req->helo_name;
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
	return tempfail(e, P_UNK_HELO_TF_ACT, "4.7.1",
			"<%s>: Helo command rejected: Host not found", h);
    return eval_reject(e, code(e, P_UNK_NAME_CODE), "4.7.1",
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
    prefetch_domain(e, e->req->sender);
}

static void prefetch_rcpt_domain(struct eval *e, const struct rule *r)
{
    (void) r;
    prefetch_domain(e, e->req->recipient);
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
	st = tempfail(e, P_UNK_ADDR_TF_ACT, dsn, "<%s>: %s rejected: Domain not found", addr, rc);
    else
	st = eval_reject(e, code(e, P_UNK_ADDR_CODE), dsn,
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
    return unknown_domain(e, e->req->sender, "Sender address");
}

static enum rstatus r_unknown_rcpt_domain(struct eval *e, const struct rule *r,
					          const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return unknown_domain(e, e->req->recipient, "Recipient address");
}

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
    if (h->last_log == 0 || now - h->last_log >= config_int(e->pol->conf, P_DNSXL_ERROR_INTERVAL)) {
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
	*res = XL_TEMP;
	return 0;
    }
    if (a->status != DNS_OK)
	return 0;
    for (size_t i = 0; i < a->n; i++) {
	if (dnsxl_error_code(&a->rr[i].addr)) {
	    char    ip[64];

	    inet_format(&a->rr[i].addr, ip, sizeof(ip));
	    list_error(e, xl, ip);
	    return 0;
	}
    }
    for (size_t i = 0; i < a->n; i++)
	if (dnsxl_match(xl, &a->rr[i].addr))
	    *res = XL_LISTED;
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
    const struct request *r = c->e->req;

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
    snprintf(c.code, sizeof(c.code), "%d", code(e, P_RBL_CODE));
    buf_init(&out);
    if (tpl == NULL || template_expand(tpl, &out, rbl_lookup, &c, 0) < 0) {
	if (tpl != NULL)
	    msg_warn("bad rbl reply template for domain %s: %s", xl->domain, tpl);
	buf_reset(&out);
	if (template_expand(config_str(e->pol->conf, P_DEF_RBL_REPLY), &out, rbl_lookup, &c, 0) < 0) {
	    msg_warn("bad default_rbl_reply template: %s", config_str(e->pol->conf, P_DEF_RBL_REPLY));
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
    return tempfail(e, P_RBL_TF_ACT, "4.7.1",
		    "Service unavailable; %s [%s] not checked against %s: "
		    "temporary DNS failure", rclass, what, xl->domain);
}

/* client_xl_name - the DNSxL query name for the client address */
static int client_xl_name(const struct eval *e, const struct dnsxl *xl, char *out, size_t len)
{
    return dns_reverse_name(e->req->client_address, xl->domain, out, len);
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
	return rbl_temp(e, r->xl, e->req->client_address, "Client host");
    if (res == XL_NOT_LISTED)
	return RS_DUNNO;
    return rbl_reply(e, r->xl, q, e->req->client_address, "Client host");
}

/* dnswl_safe - never allowlist a recipient we do not accept mail for */
static int dnswl_safe(struct eval *e)
{
    if (strcasecmp(e->where, "RCPT") == 0 && *e->req->recipient
	&& eval_auth_destination(e, e->req->recipient) != 1) {
	eval_trace_detail(e, "not for an unauthorised destination");
	return 0;
    }
    return 1;
}

/* r_dnswl_client - permit_dnswl_client */
static enum rstatus r_dnswl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    char    q[300];
    enum xl_result res;

    (void) rn;
    (void) rc;
    if (!dnswl_safe(e) || client_xl_name(e, r->xl, q, sizeof(q)) < 0)
	return RS_DUNNO;
    if (xl_query(e, r->xl, q, &res) == PENDING)
	return RS_PENDING;
    if (res == XL_TEMP) {
	e->temp_failure = 1;
	return eval_defer_if(e, &e->dir, 450, "4.7.1", "<%s>: %s rejected: %s",
			     e->req->client_address, "Client host", "Service unavailable");
    }
    if (res == XL_LISTED)
	return eval_permit(e, r->name);
    return RS_DUNNO;
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
    if (postfix_name_ok(e, e->req->client_name))
	prefetch_rhs(e, r, e->req->client_name);
    else
	prefetch_client(e, r);
}

static void prefetch_rhsbl_reverse(struct eval *e, const struct rule *r)
{
    if (postfix_name_ok(e, e->req->reverse_client_name))
	prefetch_rhs(e, r, e->req->reverse_client_name);
    else
	prefetch_client(e, r);
}

static void prefetch_rhsbl_helo(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->req->helo_name);
}

static void prefetch_rhsbl_sender(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->req->sender);
}

static void prefetch_rhsbl_rcpt(struct eval *e, const struct rule *r)
{
    prefetch_rhs(e, r, e->req->recipient);
}

/* r_rhsbl_client - reject_rhsbl_client: the verified client name */
static enum rstatus r_rhsbl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    enum peer st;
    const char *name;

    (void) rn;
    (void) rc;
    if (*e->req->client_address == 0)
	return RS_DUNNO;
    if (forward_status(e, &st, &name) == PENDING)
	return RS_PENDING;
    return st == PEER_OK ? rhsbl(e, r, name, "Client host") : RS_DUNNO;
}

/* r_rhsbl_reverse - reject_rhsbl_reverse_client: the PTR name */
static enum rstatus r_rhsbl_reverse(struct eval *e, const struct rule *r,
				            const char *rn, const char *rc)
{
    enum peer st;
    const struct dns_answer *a;
    const char *name;

    (void) rn;
    (void) rc;
    if (*e->req->client_address == 0)
	return RS_DUNNO;
    if (reverse_status(e, &st, &a, &name) == PENDING)
	return RS_PENDING;
    return st == PEER_OK ? rhsbl(e, r, name, "Unverified Client host") : RS_DUNNO;
}

static enum rstatus r_rhsbl_helo(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->req->helo_name ? rhsbl(e, r, e->req->helo_name, "Helo command") : RS_DUNNO;
}

static enum rstatus r_rhsbl_sender(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->req->sender ? rhsbl(e, r, e->req->sender, "Sender address") : RS_DUNNO;
}

static enum rstatus r_rhsbl_rcpt(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return *e->req->recipient ? rhsbl(e, r, e->req->recipient, "Recipient address") : RS_DUNNO;
}

/* r_rhswl_client - permit_rhswl_client */
static enum rstatus r_rhswl_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    enum peer st;
    const char *name;
    char    q[600];
    enum xl_result res;

    (void) rn;
    (void) rc;
    if (*e->req->client_address == 0 || !dnswl_safe(e))
	return RS_DUNNO;
    if (forward_status(e, &st, &name) == PENDING)
	return RS_PENDING;
    if (st != PEER_OK || domain_xl_name(r->xl, name, q, sizeof(q)) < 0)
	return RS_DUNNO;
    if (xl_query(e, r->xl, q, &res) == PENDING)
	return RS_PENDING;
    if (res == XL_TEMP) {
	e->temp_failure = 1;
	return eval_defer_if(e, &e->dir, 450, "4.7.1", "<%s>: %s rejected: %s",
			     name, "Client host", "Service unavailable");
    }
    if (res == XL_LISTED)
	return eval_permit(e, r->name);
    return RS_DUNNO;
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
    {"reject_unknown_client_hostname", 0, r_unknown_client, NULL, prefetch_client},
    {"reject_unknown_client", 0, r_unknown_client, NULL, prefetch_client},
    {"reject_unknown_reverse_client_hostname", 0, r_unknown_reverse, NULL, prefetch_client},
    {"reject_unknown_helo_hostname", 0, r_unknown_helo, NULL, prefetch_helo},
    {"reject_unknown_hostname", 0, r_unknown_helo, NULL, prefetch_helo},
    {"reject_unknown_sender_domain", 0, r_unknown_sender_domain, NULL, prefetch_sender_domain},
    {"reject_unknown_recipient_domain", 0, r_unknown_rcpt_domain, NULL, prefetch_rcpt_domain},
    {"reject_rbl_client", RDEF_ARG_DNSXL, r_rbl_client, NULL, prefetch_rbl_client},
    {"reject_rbl", RDEF_ARG_DNSXL, r_rbl_client, NULL, prefetch_rbl_client},
    {"permit_dnswl_client", RDEF_ARG_DNSXL, r_dnswl_client, NULL, prefetch_rbl_client},
    {"reject_rhsbl_client", RDEF_ARG_DNSXL, r_rhsbl_client, NULL, prefetch_rhsbl_client},
    {"reject_rhsbl_reverse_client", RDEF_ARG_DNSXL, r_rhsbl_reverse, NULL, prefetch_rhsbl_reverse},
    {"reject_rhsbl_helo", RDEF_ARG_DNSXL, r_rhsbl_helo, NULL, prefetch_rhsbl_helo},
    {"reject_rhsbl_sender", RDEF_ARG_DNSXL, r_rhsbl_sender, NULL, prefetch_rhsbl_sender},
    {"reject_rhsbl_recipient", RDEF_ARG_DNSXL, r_rhsbl_rcpt, NULL, prefetch_rhsbl_rcpt},
    {"permit_rhswl_client", RDEF_ARG_DNSXL, r_rhswl_client, NULL, prefetch_rhsbl_client},
    {"check_score", 0, r_check_score, NULL, NULL},
};

/* dns_rdef_find - a restriction of this file, or NULL */
const struct rdef *dns_rdef_find(const char *name)
{
    for (size_t i = 0; i < sizeof(dns_rdefs) / sizeof(dns_rdefs[0]); i++)
	if (strcasecmp(dns_rdefs[i].name, name) == 0)
	    return &dns_rdefs[i];
    return NULL;
}

/* dns_policy_compile - check the DNS parameters, open rbl_reply_maps */
int     dns_policy_compile(struct policy *p, struct buf *err)
{
    static const enum param_id acts[] = {P_REJECT_TF_ACT, P_UNK_HELO_TF_ACT,
    P_UNK_ADDR_TF_ACT, P_RBL_TF_ACT};
    struct strlist maps;

    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
	const char *v = config_str(p->conf, acts[i]);

	if (strcasecmp(v, "defer_if_permit") != 0 && strcasecmp(v, "defer") != 0
	    && !(acts[i] == P_RBL_TF_ACT && strcasecmp(v, "dunno") == 0)) {
	    buf_printf(err, "%s: %s: bad value \"%s\" (expected defer_if_permit or defer%s)",
		       config_where(p->conf, acts[i]), param_table[acts[i]].name, v,
		       acts[i] == P_RBL_TF_ACT ? " or dunno" : "");
	    return -1;
	}
    }
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
