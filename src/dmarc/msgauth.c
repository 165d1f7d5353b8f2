/*
 * msgauth.c - SPF, DKIM, ARC and DMARC of one message, and the action.
 * The Authentication-Results headers (foreign ones removed, ours
 * written) and the JSON report: dmarc/msgauth_ar.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/config.h"
#include "dmarc/msgauth_impl.h"
#include "dns/lookupset.h"
#include "util/mem.h"

/* RFC 5322 3.6: headers that may appear at most once */
static const char *const single_headers[] = {
    "from", "date", "sender", "reply-to", "to", "cc", "bcc", "message-id",
    "in-reply-to", "references", "subject",
};

_Static_assert(NSINGLE == sizeof(single_headers) / sizeof(single_headers[0]),
	       "NSINGLE in msgauth_impl.h");

static const char *const dm_names[] = {"none", "pass", "fail", "temperror", "permerror"};

/* action_word - a *_action parameter value */
static int action_word(const char *v, enum msgauth_action *a)
{
    static const char *const names[] = {"accept", "quarantine", "reject", "tempfail"};

    for (int i = 0; i < 4; i++)
	if (strcmp(v, names[i]) == 0) {
	    *a = (enum msgauth_action) i;
	    return 0;
	}
    return -1;
}

const char *msgauth_action_name(enum msgauth_action a)
{
    static const char *const names[] = {"accept", "quarantine", "reject", "tempfail"};

    return names[a];
}

/* msgauth_conf_new - the parameters, compiled */
struct msgauth_conf *msgauth_conf_new(const struct config *c, struct buf *err)
{
    struct msgauth_conf *mc = xcalloc(1, sizeof(*mc));
    const char *id = config_str(c, P_AUTHSERV_ID);
    char    why[256];

    if (*id == 0)
	id = config_str(c, P_MYHOSTNAME);
    mc->authserv_id = xstrdup(id);
    mc->receiver = xstrdup(config_str(c, P_MYHOSTNAME));
    strlist_init(&mc->trusted);
    strlist_add(&mc->trusted, id);
    strlist_split(&mc->trusted, config_str(c, P_TRUSTED_AUTHSERV_IDS), LIST_SEPS);
    strlist_init(&mc->sealers);
    strlist_split(&mc->sealers, config_str(c, P_ARC_TRUSTED_SEALERS), LIST_SEPS);
    dkim_conf_default(&mc->dkim);
    mc->reject_failures = config_bool(c, P_DMARC_REJECT_FAILURES);
    mc->hold_quarantine = config_bool(c, P_DMARC_HOLD_QUARANTINE);
    mc->required_headers = config_bool(c, P_DMARC_REQUIRED_HEADERS);
    if (action_word(config_str(c, P_DMARC_TEMPERROR_ACTION), &mc->temperror_action) < 0
	|| (mc->temperror_action != MSGAUTH_TEMPFAIL && mc->temperror_action != MSGAUTH_ACCEPT)) {
	buf_printf(err, "%s: dmarc_temperror_action: \"%s\" is neither tempfail nor accept",
		   config_where(c, P_DMARC_TEMPERROR_ACTION), config_str(c, P_DMARC_TEMPERROR_ACTION));
	goto bad;
    }
    if (action_word(config_str(c, P_DMARC_PERMERROR_ACTION), &mc->permerror_action) < 0
	|| mc->permerror_action == MSGAUTH_TEMPFAIL) {
	buf_printf(err, "%s: dmarc_permerror_action: \"%s\" is not reject, quarantine or accept",
		   config_where(c, P_DMARC_PERMERROR_ACTION), config_str(c, P_DMARC_PERMERROR_ACTION));
	goto bad;
    }
    if (dmarc_conf_init(&mc->dmarc, config_str(c, P_DMARC_MODE),
			config_str(c, P_DMARC_PSL_FILE), why, sizeof(why)) < 0) {
	buf_printf(err, "%s: %s", config_where(c, P_DMARC_MODE), why);
	goto bad;
    }
    return mc;
bad:
    msgauth_conf_free(mc);
    return NULL;
}

void    msgauth_conf_free(struct msgauth_conf *mc)
{
    if (mc == NULL)
	return;
    free(mc->authserv_id);
    free(mc->receiver);
    strlist_free(&mc->trusted);
    strlist_free(&mc->sealers);
    dmarc_conf_free(&mc->dmarc);
    free(mc);
}

const char *msgauth_conf_authserv_id(const struct msgauth_conf *mc)
{
    return mc->authserv_id;
}

struct msgauth *msgauth_new(const struct msgauth_conf *mc, struct lookupset *ls)
{
    struct msgauth *m = xcalloc(1, sizeof(*m));

    m->c = mc;
    m->ls = ls;
    m->dkim = dkim_verify_new(&mc->dkim, ls);
    m->ip = xstrdup("");
    m->helo = xstrdup("");
    m->sender = xstrdup("");
    buf_init(&m->scratch);
    buf_init(&m->trace);
    spf_outcome_init(&m->spf);
    return m;
}

void    msgauth_free(struct msgauth *m)
{
    if (m == NULL)
	return;
    dkim_verify_free(m->dkim);
    free(m->ip);
    free(m->helo);
    free(m->sender);
    free(m->dels);
    for (int i = 0; i < FROM_KEEP; i++)
	free(m->from[i]);
    buf_free(&m->scratch);
    buf_free(&m->trace);
    spf_outcome_free(&m->spf);
    free(m);
}

void    msgauth_set_pool(struct msgauth *m, struct pool *p, void (*wakeup) (void *),
			         void *ctx)
{
    dkim_verify_set_pool(m->dkim, p, wakeup, ctx);
}

/* the lookup set answers spf_check() */
static struct dns_answer *spf_get(void *ctx, const char *name, int type)
{
    return lookupset_get(ctx, name, type, NULL);
}

static void spf_prefetch(void *ctx, const char *name, int type)
{
    lookupset_start(ctx, name, type);
}

/* run_spf - 1 decided, 0 waiting */
static int run_spf(struct msgauth *m)
{
    struct spf_dns ops = {spf_get, spf_prefetch, m->ls};
    struct spf_request rq;

    if (m->spf_done)
	return 1;
    memset(&rq, 0, sizeof(rq));
    rq.ip = m->ip;
    rq.sender = m->sender;
    rq.helo = m->helo;
    rq.receiver = m->c->receiver;
    rq.now = time(NULL);
    spf_outcome_free(&m->spf);
    spf_outcome_init(&m->spf);
    if (spf_check(&ops, &rq, *m->sender == 0, &m->spf) == SPF_PENDING)
	return 0;
    m->spf_done = 1;
    if (m->tracing) {
	buf_printf(&m->trace, "spf: %s for %s\n", spf_result_name(m->spf.result),
		   m->spf.sender.s ? m->spf.sender.s : "");
	if (m->spf.trace.s)
	    buf_puts(&m->trace, m->spf.trace.s);
    }
    return 1;
}

/* msgauth_envelope - the SMTP facts */
void    msgauth_envelope(struct msgauth *m, const char *ip, const char *helo,
			         const char *sender)
{
    free(m->ip);
    free(m->helo);
    free(m->sender);
    m->ip = xstrdup(ip ? ip : "");
    m->helo = xstrdup(helo ? helo : "");
    m->sender = xstrdup(sender ? sender : "");
    m->spf_done = 0;
    if (*m->ip)
	(void) run_spf(m);		/* its lookups start now */
}

/* name_is - header name comparison */
static int name_is(const char *n, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(n, want, len) == 0;
}

/* msgauth_header - one header field */
void    msgauth_header(struct msgauth *m, const char *name, size_t nlen,
		               const char *value, size_t vlen)
{
    for (size_t i = 0; i < NSINGLE; i++)
	if (name_is(name, nlen, single_headers[i]))
	    m->single[i]++;
    if (name_is(name, nlen, "From")) {
	for (int i = 0; i < FROM_KEEP; i++)
	    if (m->from[i] == NULL) {
		m->from[i] = xstrndup(value, vlen);
		break;
	    }
    } else if (name_is(name, nlen, "Authentication-Results")) {
	msgauth_ar_seen(m, "Authentication-Results", value, vlen);
    } else if (name_is(name, nlen, "Received-SPF")) {
	msgauth_ar_seen(m, "Received-SPF", value, vlen);
    }
    /* the verifier wants folded lines joined by CRLF */
    buf_reset(&m->scratch);
    buf_append_crlf(&m->scratch, value, vlen);
    dkim_verify_header(m->dkim, name, nlen, m->scratch.s ? m->scratch.s : "", m->scratch.len);
}

void    msgauth_eoh(struct msgauth *m)
{
    char    d[DMARC_DOMAIN_MAX + 1], why[160];

    dkim_verify_eoh(m->dkim);
    /* the policy lookups start with the key lookups */
    if (m->from[0] && m->from[1] == NULL
	&& dmarc_from_domain(m->from[0], strlen(m->from[0]), d, sizeof(d), why, sizeof(why)) == 0) {
	struct dmarc_found f;

	(void) dmarc_discover(m->ls, &m->c->dmarc, d, &f);
    }
}

void    msgauth_body(struct msgauth *m, const void *data, size_t len)
{
    dkim_verify_body(m->dkim, data, len);
}

/* required - the RFC 5322 header counts; 0 ok, -1 with reason */
static int required(struct msgauth *m)
{
    for (size_t i = 0; i < NSINGLE; i++) {
	unsigned need = (i < 2);	/* From and Date must be there */

	if (m->single[i] > 1 || m->single[i] < need) {
	    snprintf(m->reason, sizeof(m->reason), "%s %s header", m->single[i] ? "more than one" : "no",
		     single_headers[i]);
	    return -1;
	}
    }
    return 0;
}

/* dmarc_run - the DMARC outcome; 1 decided, 0 waiting */
static int dmarc_run(struct msgauth *m)
{
    const struct dmarc_conf *dc = &m->c->dmarc;
    int     spf_al = 0, dkim_al = 0, temp = 0, r;
    char    why[160];

    if (m->from[0] == NULL || m->from[1] != NULL) {
	m->dm = DM_PERMERROR;
	snprintf(m->dm_why, sizeof(m->dm_why), "%s From header",
		 m->from[0] ? "more than one" : "no");
	return 1;
    }
    if (dmarc_from_domain(m->from[0], strlen(m->from[0]), m->from_domain,
			  sizeof(m->from_domain), why, sizeof(why)) < 0) {
	m->dm = DM_PERMERROR;
	m->from_domain[0] = 0;
	snprintf(m->dm_why, sizeof(m->dm_why), "From header: %s", why);
	msgauth_sanitize(m->dm_why);
	return 1;
    }
    switch (dmarc_discover(m->ls, dc, m->from_domain, &m->found)) {
    case DMARC_PENDING:
	return 0;
    case DMARC_TEMPFAIL:
	m->dm = DM_TEMPERROR;
	snprintf(m->dm_why, sizeof(m->dm_why), "%s", m->found.why);
	msgauth_sanitize(m->dm_why);
	return 1;
    case DMARC_NOTFOUND:
	m->dm = DM_NONE;
	return 1;
    case DMARC_FOUND:
	break;
    }
    m->have_policy = 1;
    if (m->tracing)
	buf_printf(&m->trace, "dmarc: policy of %s at _dmarc.%s: p=%s\n", m->from_domain,
		   m->found.where, dmarc_policy_name(dmarc_effective(&m->found)));

    /* SPF: a pass for an aligned domain */
    if (m->spf.result == SPF_PASS || m->spf.result == SPF_TEMPERROR) {
	r = dmarc_aligned(m->ls, dc, m->spf.domain.s, m->from_domain,
			  m->found.rec.aspf_strict, why, sizeof(why));
	if (r == DMARC_PENDING)
	    return 0;
	if (r == DMARC_TEMPFAIL)
	    temp = 1;
	else if (r == 1 && m->spf.result == SPF_PASS)
	    spf_al = 1;
	else if (r == 1)
	    temp = 1;			/* an aligned SPF answer we could not get */
    }
    /* DKIM: a pass for an aligned d= */
    for (size_t i = 0; i < dkim_verify_count(m->dkim) && !spf_al; i++) {
	const struct dkim_sig_result *s = dkim_verify_result(m->dkim, i);

	if (s->d == NULL || (s->result != DKIM_PASS && s->result != DKIM_TEMPERROR))
	    continue;
	r = dmarc_aligned(m->ls, dc, s->d, m->from_domain, m->found.rec.adkim_strict,
			  why, sizeof(why));
	if (r == DMARC_PENDING)
	    return 0;
	if (r == DMARC_TEMPFAIL || (r == 1 && s->result == DKIM_TEMPERROR))
	    temp = 1;
	else if (r == 1) {
	    dkim_al = 1;
	    break;
	}
    }
    if (spf_al || dkim_al) {
	m->dm = DM_PASS;
	snprintf(m->dm_why, sizeof(m->dm_why), "%s aligned", spf_al ? "spf" : "dkim");
    } else if (temp) {
	m->dm = DM_TEMPERROR;
	snprintf(m->dm_why, sizeof(m->dm_why), "a temporary error in an aligned identifier");
    } else {
	m->dm = DM_FAIL;
    }
    return 1;
}

/* decide - the disposition and the action */
static void decide(struct msgauth *m)
{
    const struct msgauth_conf *c = m->c;
    const char *dom = m->from_domain;

    m->action = MSGAUTH_ACCEPT;
    m->disposition = DMARC_POLICY_NONE;
    m->arc = dkim_verify_arc(m->dkim, &m->arc_sealer, NULL);
    switch (m->dm) {
    case DM_PERMERROR:
	m->action = c->permerror_action;
	if (m->action == MSGAUTH_QUARANTINE && !c->hold_quarantine)
	    m->action = MSGAUTH_ACCEPT;
	snprintf(m->reason, sizeof(m->reason), "DMARC permerror: %s", m->dm_why);
	snprintf(m->reply, sizeof(m->reply), "550 5.7.1 Message rejected: %s", m->dm_why);
	break;
    case DM_TEMPERROR:
	m->action = c->temperror_action;
	snprintf(m->reason, sizeof(m->reason), "DMARC temperror for %s: %s", dom, m->dm_why);
	snprintf(m->reply, sizeof(m->reply),
		 "451 4.7.5 Temporary error evaluating DMARC for %s, try again later", dom);
	break;
    case DM_FAIL:{
	    enum dmarc_policy p = dmarc_effective(&m->found);

	    /* t=y (DMARCbis) or pct= below 100 (RFC 7489 only: DMARCbis
	     * dropped it): one step milder */
	    if (m->found.rec.testing
		|| (c->dmarc.mode == DMARC_MODE_RFC7489 && m->found.rec.pct < 100
		    && (random() % 100) >= m->found.rec.pct)) {
		if (p == DMARC_POLICY_REJECT)
		    p = DMARC_POLICY_QUARANTINE;
		else
		    p = DMARC_POLICY_NONE;
	    }
	    if (p != DMARC_POLICY_NONE && m->arc == ARC_PASS && m->arc_sealer) {
		for (size_t i = 0; i < c->sealers.n; i++)
		    if (strcasecmp(c->sealers.v[i], m->arc_sealer) == 0)
			m->arc_override = 1;
		if (m->arc_override)
		    p = DMARC_POLICY_NONE;
	    }
	    m->disposition = p;
	    snprintf(m->reason, sizeof(m->reason), "DMARC fail for %s, policy %s%s", dom,
		     dmarc_policy_name(p), m->arc_override ? " (overridden: trusted ARC sealer)" : "");
	    if (p == DMARC_POLICY_REJECT && c->reject_failures) {
		m->action = MSGAUTH_REJECT;
		snprintf(m->reply, sizeof(m->reply),
			 "550 5.7.1 Rejected by DMARC policy for %s", dom);
	    } else if (p != DMARC_POLICY_NONE && c->hold_quarantine) {
		m->action = MSGAUTH_QUARANTINE;
	    }
	    break;
	}
    default:
	snprintf(m->reason, sizeof(m->reason), "DMARC %s for %s", dm_names[m->dm],
		 *dom ? dom : "(no domain)");
	break;
    }
    if (m->action != MSGAUTH_REJECT && c->required_headers) {
	char    save[sizeof(m->reason)];

	memcpy(save, m->reason, sizeof(save));
	if (required(m) < 0) {
	    m->action = MSGAUTH_REJECT;
	    snprintf(m->reply, sizeof(m->reply),
		     "550 5.7.1 Message does not follow RFC 5322: %.200s", m->reason);
	} else {
	    memcpy(m->reason, save, sizeof(save));
	}
    }
    if (m->action != MSGAUTH_REJECT && m->action != MSGAUTH_TEMPFAIL)
	m->reply[0] = 0;
    if (m->tracing)
	buf_printf(&m->trace, "dmarc: %s%s%s; action %s: %s\n", dm_names[m->dm],
		   *m->dm_why ? ": " : "", m->dm_why, msgauth_action_name(m->action), m->reason);
}

/* msgauth_finish - evaluate what can be; 1 decided */
int     msgauth_finish(struct msgauth *m)
{
    int     ready = 1;

    if (m->decided)
	return 1;
    if (!run_spf(m))
	ready = 0;
    if (!m->dkim_done) {
	if (dkim_verify_finish(m->dkim))
	    m->dkim_done = 1;
	else
	    ready = 0;
    }
    if (!ready)
	return 0;
    if (!dmarc_run(m))
	return 0;
    decide(m);
    m->decided = 1;
    return 1;
}

enum msgauth_action msgauth_action(const struct msgauth *m)
{
    return m->action;
}

const char *msgauth_reply(const struct msgauth *m)
{
    return m->reply;
}

const char *msgauth_reason(const struct msgauth *m)
{
    return m->reason;
}

const char *msgauth_dmarc_result(const struct msgauth *m)
{
    return dm_names[m->dm];
}

/* msgauth_set_trace - keep the SPF, DKIM and DMARC steps (before headers) */
void    msgauth_set_trace(struct msgauth *m)
{
    m->tracing = 1;
    dkim_verify_set_trace(m->dkim, &m->trace);
}

const char *msgauth_trace(const struct msgauth *m)
{
    return m->trace.s ? m->trace.s : "";
}

/* msgauth_dkim - the verifier, for the ARC sealer (milter/arcseal.c) */
const struct dkim_verify *msgauth_dkim(const struct msgauth *m)
{
    return m->dkim;
}
