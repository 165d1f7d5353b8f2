/*
 * engine.c - walk the restriction lists of one request, Postfix's way.
 *
 * The walk is an explicit stack of frames (a list and a position) instead
 * of recursion, so that a restriction waiting for a lookup can return
 * RS_PENDING and the walk resumes at the same place later without blocking
 * the event loop.  Restriction classes and restriction lists found in
 * access tables push a frame; a definitive answer in any frame ends the
 * whole list, as in Postfix's generic_checks().
 */
#include <stdlib.h>
#include <string.h>

#include "dns/lookupset.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

static const char *const stage_names[STAGE_COUNT] = {
    "client_restrictions", "helo_restrictions", "sender_restrictions",
    "relay_restrictions", "recipient_restrictions", "data_restrictions",
};

/* trace_init - empty trace */
void    trace_init(struct trace *t)
{
    t->v = NULL;
    t->n = 0;
}

/* trace_free - release a trace */
void    trace_free(struct trace *t)
{
    for (size_t i = 0; i < t->n; i++) {
	free(t->v[i].what);
	free(t->v[i].detail);
	free(t->v[i].result);
    }
    free(t->v);
    trace_init(t);
}

/* trace_add - append one entry */
static void trace_add(struct eval *e, int depth, const char *what,
		              const char *detail, const char *result)
{
    struct trace *t = e->trace;

    if (t == NULL)
	return;
    t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    t->v[t->n].depth = depth;
    t->v[t->n].what = xstrdup(what);
    t->v[t->n].detail = xstrdup(detail ? detail : "");
    t->v[t->n].result = xstrdup(result);
    t->n++;
}

/* status_name - trace text of a restriction result */
static const char *status_name(struct eval *e, int st)
{
    switch (st) {
    case RS_OK:
	return "OK";
    case RS_REJECT:
	return e->reply.s;
    default:
	return "DUNNO";
    }
}

/* stages_for - which lists apply at this protocol state */
static void stages_for(struct eval *e)
{
    const struct txn *r = e->txn;
    const char *ps = r->protocol_state;

    e->nstages = 0;
    if (*ps == 0)
	ps = "RCPT";
    e->where = ps;
    if (strcasecmp(ps, "DATA") == 0 || strcasecmp(ps, "BDAT") == 0) {
	e->stages[e->nstages++] = STAGE_DATA;
	return;
    }
    if (strcasecmp(ps, "CONNECT") == 0) {
	e->stages[e->nstages++] = STAGE_CLIENT;
	return;
    }
    int     helo = strcasecmp(ps, "HELO") == 0 || strcasecmp(ps, "EHLO") == 0;
    int     mail = strcasecmp(ps, "MAIL") == 0;
    int     rcpt = strcasecmp(ps, "RCPT") == 0 || strcasecmp(ps, "VRFY") == 0;

    if (!helo && !mail && !rcpt)
	return;				/* END-OF-MESSAGE, ETRN: no opinion */
    e->stages[e->nstages++] = STAGE_CLIENT;
    if (*r->helo_name)
	e->stages[e->nstages++] = STAGE_HELO;
    if (mail || rcpt)
	e->stages[e->nstages++] = STAGE_SENDER;
    if (rcpt) {
	e->stages[e->nstages++] = STAGE_RELAY;
	e->stages[e->nstages++] = STAGE_RCPT;
    }
}

/* eval_start - prepare the evaluation of one transaction */
struct eval *eval_start(struct policy *p, struct txn *t, struct trace *trace)
{
    struct eval *e = xcalloc(1, sizeof(*e));

    policy_ref(p);
    e->pol = p;
    e->txn = t;
    e->trace = trace;
    e->client_name = *t->client_name ? t->client_name : "unknown";
    e->reverse_name = *t->reverse_client_name ? t->reverse_client_name
	: e->client_name;
    buf_init(&e->namaddr);
    buf_puts(&e->namaddr, e->client_name);	/* name[address] */
    buf_putc(&e->namaddr, '[');
    buf_puts(&e->namaddr, *t->client_address ? t->client_address : "unknown");
    buf_putc(&e->namaddr, ']');
    buf_init(&e->dip.reply);
    buf_init(&e->dir.reply);
    buf_init(&e->reply);
    buf_init(&e->side);
    buf_init(&e->prepend);
    buf_init(&e->action);
    buf_init(&e->tmp);
    buf_init(&e->tdetail);
    buf_init(&e->score_hits);
    stages_for(e);
    return e;
}

/* eval_free - release an evaluation */
void    eval_free(struct eval *e)
{
    if (e == NULL)
	return;
    while (e->depth > 0) {
	struct frame *f = &e->stack[--e->depth];

	if (f->owned) {
	    rlist_free(f->owned);
	    free(f->owned);
	}
    }
    greylist_eval_free(e);
    ban_eval_free(e);
    eval_spf_free(e);
    lookupset_free(e->lookups);
    buf_free(&e->namaddr);
    buf_free(&e->dip.reply);
    buf_free(&e->dir.reply);
    buf_free(&e->reply);
    buf_free(&e->side);
    buf_free(&e->prepend);
    buf_free(&e->action);
    buf_free(&e->tmp);
    buf_free(&e->tdetail);
    buf_free(&e->score_hits);
    policy_unref(e->pol);
    free(e);
}

/* eval_set_wakeup - who to call when a pending lookup completes */
void    eval_set_wakeup(struct eval *e, void (*fn) (void *), void *ctx)
{
    e->wake = fn;
    e->wake_ctx = ctx;
}

/* lookups_woken - an answer the walk waits for arrived */
static void lookups_woken(void *arg)
{
    struct eval *e = arg;

    if (e->wake)
	e->wake(e->wake_ctx);		/* may finish and free e */
}

/* lookups - the evaluation's lookup set, made on first use */
static struct lookupset *lookups(struct eval *e)
{
    if (e->lookups == NULL) {
	e->lookups = lookupset_new(e->pol->dns);
	lookupset_set_wakeup(e->lookups, lookups_woken, e);
    }
    return e->lookups;
}

/* eval_prefetch - start a lookup that a later restriction may need */
void    eval_prefetch(struct eval *e, const char *name, int type)
{
    lookupset_start(lookups(e), name, type);
}

/* eval_lookup - the answer, or NULL: the restriction returns RS_PENDING */
struct dns_answer *eval_lookup(struct eval *e, const char *name, int type)
{
    struct dns_answer *a;
    int     cached;

    if ((a = lookupset_get(lookups(e), name, type, &cached)) == NULL)
	return NULL;
    if (e->trace != NULL) {
	struct buf b;

	/* a restriction runs again from the start after each wait: show
	 * each answer once per run */
	buf_init(&b);
	buf_printf(&b, "DNS %s %s:", dns_type_name(type), name);
	if (strstr(e->tdetail.s, b.s) == NULL) {
	    buf_reset(&b);
	    lookupset_describe(&b, name, type, a, cached);
	    eval_trace_detail(e, "%s", b.s);
	}
	buf_free(&b);
    }
    return a;
}

/* eval_push - start evaluating a nested list */
int     eval_push(struct eval *e, const struct rlist *l, struct rlist *owned,
		          const char *reply_name, const char *reply_class, int def_acl)
{
    if (e->depth >= EVAL_MAX_DEPTH
	|| e->depth > e->pol->max_recursion) {
	msg_warn("restriction %s causes unreasonable recursion", l->name);
	if (owned) {
	    rlist_free(owned);
	    free(owned);
	}
	return eval_server_error(e);
    }
    struct frame *f = &e->stack[e->depth++];

    f->list = l;
    f->idx = 0;
    f->owned = owned;
    f->reply_name = reply_name;
    f->reply_class = reply_class;
    f->def_acl = def_acl;
    return RS_PUSHED;
}

/* pop - drop the top frame */
static void pop(struct eval *e)
{
    struct frame *f = &e->stack[--e->depth];

    if (f->owned) {
	rlist_free(f->owned);
	free(f->owned);
    }
}

/* rule_done - the restriction at the top frame finished without deciding */
static void rule_done(struct eval *e)
{
    if (e->warn_level >= e->depth)
	e->warn_level = 0;
    e->stack[e->depth - 1].idx++;
}

/* stage_begin - set up a list as Postfix's smtpd_check_* does */
static void stage_begin(struct eval *e, enum stage s)
{
    const char *rn, *rc;

    switch (s) {
    case STAGE_CLIENT:
	e->dip.active = 0;
	rn = e->namaddr.s;
	rc = "Client host";
	break;
    case STAGE_HELO:
	e->dip.active = e->dip_client;
	rn = e->txn->helo_name;
	rc = "Helo command";
	break;
    case STAGE_SENDER:
	e->dip.active = e->dip_client || e->dip_helo;
	rn = e->txn->sender;
	rc = "Sender address";
	break;
    case STAGE_RELAY:
    case STAGE_RCPT:
	if (s == STAGE_RELAY)
	    e->dip.active = e->dip_sender;
	rn = e->txn->recipient;
	rc = "Recipient address";
	break;
    case STAGE_DATA:
    default:
	e->dip.active = e->dip_client || e->dip_helo || e->dip_sender;
	rn = "DATA";
	rc = "Data command";
	break;
    }
    if (s != STAGE_RCPT) {
	e->warn_level = 0;
	e->dir.active = 0;
    }
    e->depth = 0;
    e->stage_status = RS_DUNNO;
    if (e->pol->stages[s].n > 0)
	(void) eval_push(e, &e->pol->stages[s], NULL, rn, rc, (int) s);
    trace_add(e, 0, stage_names[s], NULL, e->pol->stages[s].n ? "" : "(empty)");
}

/* stage_end - remember deferral flags as Postfix does between stages */
static void stage_end(struct eval *e, enum stage s)
{
    if (s == STAGE_CLIENT)
	e->dip_client = e->dip.active;
    else if (s == STAGE_HELO)
	e->dip_helo = e->dip.active;
    else if (s == STAGE_SENDER)
	e->dip_sender = e->dip.active;
}

/* prefetch_list - start the lookups of a list and the classes it names */
static void prefetch_list(struct eval *e, const struct rlist *l, int depth)
{
    if (depth > 8)
	return;
    for (size_t i = 0; i < l->n; i++) {
	const struct rule *r = &l->v[i];

	if (r->class_list)
	    prefetch_list(e, r->class_list, depth + 1);
	else if (r->def && r->def->prefetch)
	    r->def->prefetch(e, r);
    }
}

/* walk - run the frames of the current list; RS_PENDING or its result */
static int walk(struct eval *e)
{
    while (e->depth > 0) {
	struct frame *f = &e->stack[e->depth - 1];

	if (f->idx >= f->list->n || e->discard) {
	    pop(e);
	    if (e->depth > 0)
		rule_done(e);
	    continue;
	}
	const struct rule *r = &f->list->v[f->idx];
	int     st;

	if (r->def == NULL && r->class_list == NULL) {
	    /* warn_if_reject: applies to the next restriction */
	    if (e->warn_level == 0)
		e->warn_level = e->depth;
	    trace_add(e, e->depth, r->name, NULL, "next restriction only warns");
	    f->idx++;
	    continue;
	}
	buf_reset(&e->tdetail);
	if (r->class_list) {
	    trace_add(e, e->depth, r->name, "restriction class", "");
	    st = eval_push(e, r->class_list, NULL, f->reply_name, f->reply_class,
			   f->def_acl);
	} else {
	    e->scoring = r->scored ? r : NULL;
	    e->temp_failure = 0;
	    e->rule_name = r->def->name;
	    e->cur_rule = r;
	    st = r->def->fn(e, r, f->reply_name, f->reply_class);
	    if (st == RS_PENDING)
		return RS_PENDING;
	    if (e->scoring && st == RS_OK) {
		eval_score_hit(e, 1, "permit");
		st = RS_DUNNO;
	    }
	    e->scoring = NULL;
	    if (st != RS_PUSHED)
		trace_add(e, e->depth, r->name, e->tdetail.s, status_name(e, st));
	    else
		trace_add(e, e->depth, r->name, e->tdetail.s, "evaluating table result");
	}
	if (st == RS_PUSHED)
	    continue;
	if (st == RS_DUNNO) {
	    rule_done(e);
	    continue;
	}
	/* A definitive answer ends this list and every list it is nested in. */
	eval_count_decision(e, (int) e->stages[e->cur], r, st);
	while (e->depth > 0)
	    pop(e);
	e->warn_level = 0;
	return st;
    }
    return RS_DUNNO;
}

/* finish - final policy action text */
static void finish(struct eval *e)
{
    buf_reset(&e->action);
    if (e->status != RS_REJECT && e->dip.active) {
	int     saved = e->warn_level;

	e->warn_level = 0;
	e->dir.active = 0;
	e->rule_name = e->dip.rule;
	e->status = eval_reject_text(e, e->dip.reply.s);
	e->warn_level = saved;
	if (e->status == RS_REJECT)
	    eval_count_flag(e, &e->dip);
    }
    if (e->status == RS_REJECT)
	buf_puts(&e->action, e->reply.s);
    else if (e->side.len)
	buf_puts(&e->action, e->side.s);
    else if (e->prepend.len)
	buf_printf(&e->action, "PREPEND %s", e->prepend.s);
    else if (e->status == RS_OK && e->pol->permit_ok)
	buf_puts(&e->action, "OK");
    else
	buf_puts(&e->action, "DUNNO");
    trace_add(e, 0, "result", NULL, e->action.s);
    eval_count_result(e);
    e->done = 1;
}

/* eval_run - evaluate until done or waiting for a lookup */
enum eval_status eval_run(struct eval *e)
{
    const struct txn *r = e->txn;

    if (e->done)
	return EVAL_DONE;
    if (!e->prefetched) {
	/* every lookup the lists may need, started at once */
	e->prefetched = 1;
	for (int i = 0; i < e->nstages; i++)
	    prefetch_list(e, &e->pol->stages[e->stages[i]], 0);
    }

    /* Postfix's special cases before any list. */
    if (e->cur == 0 && !e->in_stage) {
	if (e->nstages > 0 && e->stages[e->nstages - 1] == STAGE_RCPT
	    && strcasecmp(r->recipient, "postmaster") == 0) {
	    trace_add(e, 0, "postmaster", "RFC 5321: unqualified postmaster is always accepted", "DUNNO");
	    e->status = RS_DUNNO;
	    finish(e);
	    return EVAL_DONE;
	}
	if (e->pol->helo_required && *r->helo_name == 0
	    && e->nstages > 0 && e->stages[e->nstages - 1] >= STAGE_SENDER) {
	    int     saved = e->warn_level;

	    e->warn_level = 0;
	    e->rule_name = "smtpd_helo_required";
	    e->cur_rule = NULL;
	    e->status = eval_reject(e, 503, "5.5.1", "Error: send HELO/EHLO first");
	    e->warn_level = saved;
	    trace_add(e, 0, "smtpd_helo_required", "no HELO/EHLO given", status_name(e, e->status));
	    if (e->status == RS_REJECT) {
		finish(e);
		return EVAL_DONE;
	    }
	}
    }
    while (e->cur < e->nstages) {
	enum stage s = e->stages[e->cur];

	if (!e->in_stage) {
	    stage_begin(e, s);
	    e->in_stage = 1;
	}
	int     st = walk(e);

	if (st == RS_PENDING)
	    return EVAL_PENDING;
	e->in_stage = 0;
	stage_end(e, s);
	e->cur++;
	e->status = st;
	if (st == RS_REJECT)
	    break;
    }
    /* scored restrictions without a check_score: thresholds at the end */
    if (e->scored_any && !e->score_checked && e->status != RS_REJECT && e->status != RS_OK) {
	int     st;

	buf_reset(&e->tdetail);
	e->rule_name = "check_score";
	e->cur_rule = NULL;
	st = eval_score_apply(e);
	trace_add(e, 0, "check_score", e->tdetail.s, status_name(e, st));
	buf_reset(&e->tdetail);
	if (st == RS_REJECT)
	    e->status = st;
    }
    finish(e);
    return EVAL_DONE;
}

/* eval_action - the reply's action text */
const char *eval_action(const struct eval *e)
{
    return e->done ? e->action.s : "DUNNO";
}

/* eval_sync - evaluate a transaction that needs no lookups */
char   *eval_sync(struct policy *p, struct txn *txn, struct trace *trace)
{
    struct eval *e = eval_start(p, txn, trace);
    char   *action;

    if (eval_run(e) != EVAL_DONE)
	msg_panic("eval_sync: evaluation is waiting for a lookup");
    action = xstrdup(eval_action(e));
    eval_free(e);
    return action;
}
