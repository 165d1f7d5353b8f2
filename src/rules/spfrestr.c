/*
 * spfrestr.c - check_spf: SPF for the HELO name and MAIL FROM with the
 * options of postfix-policyd-spf-python, a Received-SPF or
 * Authentication-Results header, and the transaction's result kept for
 * later checks (greylisting by authorised domain).
 *
 * The evaluation asks for its DNS answers through eval_lookup(); when one
 * is missing it returns RS_PENDING and runs again, from the start, when
 * it arrives (answers already seen are kept by the evaluation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/config.h"
#include "rules/eval.h"
#include "spf/spf.h"
#include "util/inet.h"
#include "util/log.h"
#include "util/mem.h"

static struct dns_answer *lk_get(void *ctx, const char *name, int type)
{
    return eval_lookup(ctx, name, type);
}

static void lk_prefetch(void *ctx, const char *name, int type)
{
    eval_prefetch(ctx, name, type);
}

/* eval_spf - the SPF outcome of an identity, evaluated once; NULL: waiting */
const struct spf_outcome *eval_spf(struct eval *e, int helo_identity)
{
    struct spf_dns ops = {lk_get, lk_prefetch, e};
    struct spf_request rq;

    if (e->spf_done[helo_identity])
	return e->spf[helo_identity];
    if (e->spf[helo_identity] == NULL) {
	e->spf[helo_identity] = xmalloc(sizeof(struct spf_outcome));
	spf_outcome_init(e->spf[helo_identity]);
    }
    memset(&rq, 0, sizeof(rq));
    rq.ip = e->txn->client_address;
    rq.sender = e->txn->sender;
    rq.helo = e->txn->helo_name;
    rq.receiver = e->pol->myhostname;
    rq.now = time(NULL);
    if (spf_check(&ops, &rq, helo_identity, e->spf[helo_identity]) == SPF_PENDING)
	return NULL;
    e->spf_done[helo_identity] = 1;
    /* the transaction's fact, for later checks of it */
    txn_set_spf(e->txn, helo_identity ? TXN_SPF_HELO : TXN_SPF_MAIL_FROM,
		e->spf[helo_identity]->result, e->spf[helo_identity]->domain.s);
    return e->spf[helo_identity];
}

void    eval_spf_free(struct eval *e)
{
    for (int i = 0; i < 2; i++) {
	if (e->spf[i]) {
	    spf_outcome_free(e->spf[i]);
	    free(e->spf[i]);
	    e->spf[i] = NULL;
	}
    }
}

/* in_list - is name (case-insensitively) in a list parameter */
static int in_list(const struct strlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
	if (strcasecmp(l->v[i], name) == 0)
	    return 1;
    return 0;
}

/* in_domains - is name one of the domains, or below one? */
static int in_domains(const struct strlist *l, const char *name)
{
    size_t  n = strlen(name);

    for (size_t i = 0; i < l->n; i++) {
	size_t  d = strlen(l->v[i]);

	if (d <= n && strcasecmp(name + n - d, l->v[i]) == 0
	    && (d == n || name[n - d - 1] == '.'))
	    return 1;
    }
    return 0;
}

/* rejects - does this *_reject setting refuse this result? */
static int rejects(enum spf_setting setting, enum spf_result r)
{
    switch (setting) {
    case SPF_SET_FAIL:
    case SPF_SET_NULL:
	return r == SPF_FAIL;
    case SPF_SET_SOFTFAIL:
	return r == SPF_FAIL || r == SPF_SOFTFAIL;
    case SPF_SET_NOT_PASS:
	return r != SPF_PASS;
    default:
	return 0;			/* false, no_check */
    }
}

/* header - Received-SPF (RFC 7208 9.1) or Authentication-Results (RFC 8601) */
static void header(struct eval *e, const struct spf_outcome *o, int helo_identity)
{
    enum spf_header type = e->pol->spf.header;
    const char *rcv = e->pol->myhostname;
    const char *ip = e->txn->client_address;
    const char *who = o->sender.s;
    const char *res = spf_result_name(o->result);
    struct buf h;

    if (type == SPF_HDR_NONE || e->prepend.len)
	return;
    buf_init(&h);
    if (type == SPF_HDR_AR) {
	buf_printf(&h, "Authentication-Results: %s; spf=%s smtp.%s=%s", rcv, res,
		   helo_identity ? "helo" : "mailfrom",
		   helo_identity ? e->txn->helo_name : who);
    } else {
	buf_printf(&h, "Received-SPF: %s (%s: ", res, rcv);
	switch (o->result) {
	case SPF_PASS:
	    buf_printf(&h, "domain of %s designates %s as permitted sender", who, ip);
	    break;
	case SPF_FAIL:
	    buf_printf(&h, "domain of %s does not designate %s as permitted sender", who, ip);
	    break;
	case SPF_SOFTFAIL:
	    buf_printf(&h, "domain of transitioning %s does not designate %s as permitted sender",
		       who, ip);
	    break;
	case SPF_NEUTRAL:
	    buf_printf(&h, "%s is neither permitted nor denied by domain of %s", ip, who);
	    break;
	case SPF_NONE:
	    buf_printf(&h, "domain of %s does not provide an SPF record", who);
	    break;
	case SPF_TEMPERROR:
	    buf_printf(&h, "error in processing during lookup of %s: %s", who, o->problem.s);
	    break;
	case SPF_PERMERROR:
	    buf_printf(&h, "domain of %s has an SPF record in error: %s", who, o->problem.s);
	    break;
	}
	buf_printf(&h, ") client-ip=%s; envelope-from=%s; helo=%s; receiver=%s; identity=%s;",
		   ip, helo_identity ? who : (*e->txn->sender ? e->txn->sender : who),
		   e->txn->helo_name, rcv, helo_identity ? "helo" : "mailfrom");
    }
    buf_puts(&e->prepend, h.s);
    buf_free(&h);
}

/* verdict - reject, defer or pass one identity's result */
static enum rstatus verdict(struct eval *e, const struct spf_outcome *o, int helo_identity,
			            enum spf_setting setting)
{
    const struct policy_spf *c = &e->pol->spf;
    const char *what = helo_identity ? "SPF HELO" : "SPF";
    /* RFC 7372's codes, or what Postfix adds to a bare 550 / defer */
    const char *auth = c->enhanced ? "5.7.23" : "5.7.1";
    const char *perm = c->enhanced ? "5.7.24" : "5.7.1";
    const char *temp = c->enhanced ? "4.7.24" : "4.7.1";

    eval_trace_detail(e, "%s %s: %s%s%s%s%s", helo_identity ? "HELO" : "MAIL FROM",
		      o->sender.s, spf_result_name(o->result),
		      o->mechanism.len ? " (" : "", o->mechanism.s,
		      o->mechanism.len ? ")" : "",
		      o->problem.len ? "; " : "");
    if (o->problem.len)
	eval_trace_detail(e, "%s", o->problem.s);
    if (rejects(setting, o->result)) {
	if (o->result == SPF_FAIL)
	    return eval_reject(e, 550, auth, "Message rejected due to: %s fail - not "
			       "authorized. %s", what, o->explanation.s);
	return eval_reject(e, 550, auth, "Message rejected due to: %s %s - not authorized",
			   what, spf_result_name(o->result));
    }
    if (!helo_identity && o->result != SPF_PASS
	&& in_list(&c->not_pass_domains, o->domain.s))
	return eval_reject(e, 550, auth, "Message rejected due to: SPF %s - %s accepts "
			   "only mail that passes SPF", spf_result_name(o->result), o->domain.s);
    if (o->result == SPF_PERMERROR && c->permerror_reject)
	return eval_reject(e, 550, perm, "SPF permanent error: %s", o->problem.s);
    if (o->result == SPF_TEMPERROR && c->temperror_defer) {
	e->temp_failure = 1;
	return eval_defer_if(e, &e->dip, 451, temp, "SPF temporary error: %s",
			     o->problem.s);
    }
    return RS_DUNNO;
}

/* r_check_spf - the restriction */
enum rstatus r_check_spf(struct eval *e, const struct rule *r, const char *rn, const char *rc)
{
    const struct policy_spf *c = &e->pol->spf;
    const struct txn *q = e->txn;
    enum spf_setting helo_set = c->helo_reject;
    enum spf_setting mail_set = c->mail_reject;
    const struct spf_outcome *ho = NULL, *mo = NULL;
    enum rstatus st;

    (void) r;
    (void) rn;
    (void) rc;
    if (*q->client_address == 0)
	return RS_DUNNO;
    if (cidr_list_match(&e->pol->spf_skip, q->client_address)
	|| cidr_list_match(&e->pol->spf_whitelist, q->client_address)) {
	eval_trace_detail(e, "client %s is not checked (spf_skip_addresses, spf_whitelist)",
			  q->client_address);
	return RS_DUNNO;
    }
    if (*q->helo_name && in_list(&c->helo_whitelist, q->helo_name)) {
	eval_trace_detail(e, "HELO %s is not checked (spf_helo_whitelist)", q->helo_name);
	return RS_DUNNO;
    }
    /* Domain_Whitelist_PTR: the name Postfix verified (forward-confirmed,
     * as SPF's ptr mechanism validates one); no lookup of our own */
    if (c->domain_whitelist_ptr.n && strcasecmp(e->client_name, "unknown") != 0
	&& *e->client_name && in_domains(&c->domain_whitelist_ptr, e->client_name)) {
	eval_trace_detail(e, "client %s is not checked (spf_domain_whitelist_ptr)",
			  e->client_name);
	return RS_DUNNO;
    }
    const char *at = strrchr(q->sender, '@');

    if (at && in_list(&c->domain_whitelist, at + 1)) {
	eval_trace_detail(e, "sender domain %s is not checked (spf_domain_whitelist)", at + 1);
	return RS_DUNNO;
    }
    /* both identities at once: their lookups go out together */
    int     check_helo = *q->helo_name && helo_set != SPF_SET_NO_CHECK
	&& !(helo_set == SPF_SET_NULL && *q->sender);
    int     check_mail = mail_set != SPF_SET_NO_CHECK;

    if (check_helo)
	ho = eval_spf(e, 1);
    if (check_mail)
	mo = eval_spf(e, 0);
    if ((check_helo && ho == NULL) || (check_mail && mo == NULL))
	return RS_PENDING;
    if (check_helo && (st = verdict(e, ho, 1, helo_set)) != RS_DUNNO)
	return st;
    if (check_mail && (st = verdict(e, mo, 0, mail_set)) != RS_DUNNO)
	return st;
    if (mo)
	header(e, mo, 0);
    else if (ho)
	header(e, ho, 1);

    /* policyd-spf's *_pass_restriction: a restriction class on a pass,
     * evaluated here as an access table result would be (MAIL FROM first) */
    if (mo && mo->result == SPF_PASS && *c->mail_pass_restr) {
	eval_trace_detail(e, "MAIL FROM passed: spf_mail_from_pass_restriction");
	return eval_table_result(e, "spf_mail_from_pass_restriction", c->mail_pass_restr,
				 c->mail_pass_restr, q->sender, "Sender address", STAGE_SENDER);
    }
    if (ho && ho->result == SPF_PASS && *c->helo_pass_restr) {
	eval_trace_detail(e, "HELO passed: spf_helo_pass_restriction");
	return eval_table_result(e, "spf_helo_pass_restriction", c->helo_pass_restr,
				 c->helo_pass_restr, q->helo_name, "Helo command", STAGE_HELO);
    }
    return RS_DUNNO;
}

/* prefetch_spf - the SPF records of the sender domain and the HELO name
 * (only names check_host() looks up: no query for a malformed one) */
void    prefetch_spf(struct eval *e, const struct rule *r)
{
    const char *at = strrchr(e->txn->sender, '@');

    (void) r;
    if (at && spf_valid_domain(at + 1))
	eval_prefetch(e, at + 1, DNS_T_TXT);
    if (*e->txn->helo_name != '[' && spf_valid_domain(e->txn->helo_name))
	eval_prefetch(e, e->txn->helo_name, DNS_T_TXT);
}

/* spf_setting - the meaning of a *_reject word; anything unknown never rejects */
static enum spf_setting spf_setting(const char *v)
{
    static const struct {
	const char *word;
	enum spf_setting setting;
    } words[] = {
	{"fail", SPF_SET_FAIL}, {"null", SPF_SET_NULL}, {"softfail", SPF_SET_SOFTFAIL},
	{"spf_not_pass", SPF_SET_NOT_PASS}, {"no_check", SPF_SET_NO_CHECK},
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (strcasecmp(v, words[i].word) == 0)
	    return words[i].setting;
    return SPF_SET_FALSE;
}

/* spf_policy_compile - the parameters resolved, the address lists parsed
 * once (and checked) */
int     spf_policy_compile(struct policy *p, struct buf *err)
{
    static const enum param_id ids[] = {P_SPF_SKIP, P_SPF_WHITELIST};
    struct cidr_list *lists[] = {&p->spf_skip, &p->spf_whitelist};
    struct policy_spf *c = &p->spf;
    const char *h = config_str(p->conf, P_SPF_HEADER);
    char    why[300];

    for (int i = 0; i < 2; i++) {
	if (cidr_list_parse(config_str(p->conf, ids[i]), lists[i], why, sizeof(why)) < 0) {
	    buf_printf(err, "%s: %s: %s", config_where(p->conf, ids[i]),
		       param_table[ids[i]].name, why);
	    return -1;
	}
    }
    c->helo_reject = spf_setting(config_str(p->conf, P_SPF_HELO_REJECT));
    c->mail_reject = spf_setting(config_str(p->conf, P_SPF_MAIL_REJECT));
    c->permerror_reject = config_bool(p->conf, P_SPF_PERMERROR_REJECT);
    c->temperror_defer = config_bool(p->conf, P_SPF_TEMPERROR_DEFER);
    c->enhanced = config_bool(p->conf, P_SPF_ENHANCED);
    c->mail_pass_restr = config_str(p->conf, P_SPF_MAIL_PASS_RESTR);
    c->helo_pass_restr = config_str(p->conf, P_SPF_HELO_PASS_RESTR);
    c->header = strcasecmp(h, "none") == 0 ? SPF_HDR_NONE
	: strcasecmp(h, "ar") == 0 ? SPF_HDR_AR : SPF_HDR_RECEIVED;
    strlist_split(&c->not_pass_domains, config_str(p->conf, P_SPF_NOT_PASS_DOMAINS), LIST_SEPS);
    strlist_split(&c->helo_whitelist, config_str(p->conf, P_SPF_HELO_WHITELIST), LIST_SEPS);
    strlist_split(&c->domain_whitelist, config_str(p->conf, P_SPF_DOMAIN_WHITELIST), LIST_SEPS);
    strlist_split(&c->domain_whitelist_ptr, config_str(p->conf, P_SPF_DOMAIN_WL_PTR), LIST_SEPS);
    return 0;
}

/* spf_policy_free - what spf_policy_compile made */
void    spf_policy_free(struct policy *p)
{
    strlist_free(&p->spf.not_pass_domains);
    strlist_free(&p->spf.helo_whitelist);
    strlist_free(&p->spf.domain_whitelist);
    strlist_free(&p->spf.domain_whitelist_ptr);
}
