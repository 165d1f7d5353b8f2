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
    const struct config *c = e->pol->conf;

    if (e->spf_done[helo_identity])
	return e->spf[helo_identity];
    if (e->spf[helo_identity] == NULL) {
	e->spf[helo_identity] = xmalloc(sizeof(struct spf_outcome));
	spf_outcome_init(e->spf[helo_identity]);
    }
    memset(&rq, 0, sizeof(rq));
    rq.ip = e->req->client_address;
    rq.sender = e->req->sender;
    rq.helo = e->req->helo_name;
    rq.receiver = config_str(c, P_MYHOSTNAME);
    rq.now = time(NULL);
    if (spf_check(&ops, &rq, helo_identity, e->spf[helo_identity]) == SPF_PENDING)
	return NULL;
    e->spf_done[helo_identity] = 1;
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

static int in_list(const char *list, const char *name)
{
    struct strlist l;
    int     hit = 0;

    strlist_init(&l);
    strlist_split(&l, list, LIST_SEPS);
    for (size_t i = 0; i < l.n && !hit; i++)
	hit = strcasecmp(l.v[i], name) == 0;
    strlist_free(&l);
    return hit;
}

/* rejects - does this *_reject setting refuse this result? */
static int rejects(const char *setting, enum spf_result r)
{
    if (strcasecmp(setting, "fail") == 0 || strcasecmp(setting, "null") == 0)
	return r == SPF_FAIL;
    if (strcasecmp(setting, "softfail") == 0)
	return r == SPF_FAIL || r == SPF_SOFTFAIL;
    if (strcasecmp(setting, "spf_not_pass") == 0)
	return r != SPF_PASS;
    return 0;				/* false, no_check */
}

/* header - Received-SPF (RFC 7208 9.1) or Authentication-Results (RFC 8601) */
static void header(struct eval *e, const struct spf_outcome *o, int helo_identity)
{
    const struct config *c = e->pol->conf;
    const char *type = config_str(c, P_SPF_HEADER);
    const char *rcv = config_str(c, P_MYHOSTNAME);
    const char *ip = e->req->client_address;
    const char *who = o->sender.s;
    const char *res = spf_result_name(o->result);
    struct buf h;

    if (strcasecmp(type, "none") == 0 || e->prepend.len)
	return;
    buf_init(&h);
    if (strcasecmp(type, "ar") == 0) {
	buf_printf(&h, "Authentication-Results: %s; spf=%s smtp.%s=%s", rcv, res,
		   helo_identity ? "helo" : "mailfrom",
		   helo_identity ? e->req->helo_name : who);
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
		   ip, helo_identity ? who : (*e->req->sender ? e->req->sender : who),
		   e->req->helo_name, rcv, helo_identity ? "helo" : "mailfrom");
    }
    buf_puts(&e->prepend, h.s);
    buf_free(&h);
}

/* verdict - reject, defer or pass one identity's result */
static enum rstatus verdict(struct eval *e, const struct spf_outcome *o, int helo_identity,
			            const char *setting)
{
    const struct config *c = e->pol->conf;
    const char *what = helo_identity ? "SPF HELO" : "SPF";

    eval_trace_detail(e, "%s %s: %s%s%s%s%s", helo_identity ? "HELO" : "MAIL FROM",
		      o->sender.s, spf_result_name(o->result),
		      o->mechanism.len ? " (" : "", o->mechanism.s,
		      o->mechanism.len ? ")" : "",
		      o->problem.len ? "; " : "");
    if (o->problem.len)
	eval_trace_detail(e, "%s", o->problem.s);
    if (rejects(setting, o->result)) {
	if (o->result == SPF_FAIL)
	    return eval_reject(e, 550, "5.7.23", "Message rejected due to: %s fail - not "
			       "authorized. %s", what, o->explanation.s);
	return eval_reject(e, 550, "5.7.23", "Message rejected due to: %s %s - not authorized",
			   what, spf_result_name(o->result));
    }
    if (!helo_identity && o->result != SPF_PASS
	&& in_list(config_str(c, P_SPF_NOT_PASS_DOMAINS), o->domain.s))
	return eval_reject(e, 550, "5.7.23", "Message rejected due to: SPF %s - %s accepts "
			   "only mail that passes SPF", spf_result_name(o->result), o->domain.s);
    if (o->result == SPF_PERMERROR && config_bool(c, P_SPF_PERMERROR_REJECT))
	return eval_reject(e, 550, "5.7.24", "SPF permanent error: %s", o->problem.s);
    if (o->result == SPF_TEMPERROR && config_bool(c, P_SPF_TEMPERROR_DEFER)) {
	e->temp_failure = 1;
	return eval_defer_if(e, &e->dip, 451, "4.7.24", "SPF temporary error: %s",
			     o->problem.s);
    }
    return RS_DUNNO;
}

/* r_check_spf - the restriction */
enum rstatus r_check_spf(struct eval *e, const struct rule *r, const char *rn, const char *rc)
{
    const struct config *c = e->pol->conf;
    const struct request *q = e->req;
    const char *helo_set = config_str(c, P_SPF_HELO_REJECT);
    const char *mail_set = config_str(c, P_SPF_MAIL_REJECT);
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
    if (*q->helo_name && in_list(config_str(c, P_SPF_HELO_WHITELIST), q->helo_name)) {
	eval_trace_detail(e, "HELO %s is not checked (spf_helo_whitelist)", q->helo_name);
	return RS_DUNNO;
    }
    const char *at = strrchr(q->sender, '@');

    if (at && in_list(config_str(c, P_SPF_DOMAIN_WHITELIST), at + 1)) {
	eval_trace_detail(e, "sender domain %s is not checked (spf_domain_whitelist)", at + 1);
	return RS_DUNNO;
    }
    /* both identities at once: their lookups go out together */
    int     check_helo = *q->helo_name && strcasecmp(helo_set, "no_check") != 0
	&& !(strcasecmp(helo_set, "null") == 0 && *q->sender);
    int     check_mail = strcasecmp(mail_set, "no_check") != 0;

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
    return RS_DUNNO;
}

/* prefetch_spf - the SPF records of the sender domain and the HELO name
 * (only names check_host() looks up: no query for a malformed one) */
void    prefetch_spf(struct eval *e, const struct rule *r)
{
    const char *at = strrchr(e->req->sender, '@');

    (void) r;
    if (at && spf_valid_domain(at + 1))
	eval_prefetch(e, at + 1, DNS_T_TXT);
    if (*e->req->helo_name != '[' && spf_valid_domain(e->req->helo_name))
	eval_prefetch(e, e->req->helo_name, DNS_T_TXT);
}

/* spf_policy_compile - the address lists, parsed once (and checked) */
int     spf_policy_compile(struct policy *p, struct buf *err)
{
    static const enum param_id ids[] = {P_SPF_SKIP, P_SPF_WHITELIST};
    struct cidr_list *lists[] = {&p->spf_skip, &p->spf_whitelist};
    char    why[300];

    for (int i = 0; i < 2; i++) {
	if (cidr_list_parse(config_str(p->conf, ids[i]), lists[i], why, sizeof(why)) < 0) {
	    buf_printf(err, "%s: %s: %s", config_where(p->conf, ids[i]),
		       param_table[ids[i]].name, why);
	    return -1;
	}
    }
    return 0;
}
