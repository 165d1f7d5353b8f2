/*
 * greylisting.c - the greylist restriction: postgrey's algorithm
 * (src/greylist) over the state store (src/store).
 *
 * The store answers through a callback, at once or later: LMDB answers
 * reads at once, and writes at once from command-line tools or, in the
 * daemon with store_sync_commits, when the batch of the event loop's pass
 * is committed; a networked backend answers both later.  A decision keeps
 * its keys, reads and verdict in a struct gl_wait, returns RS_PENDING
 * while a phase (reads, then writes) is outstanding and, woken like a DNS
 * lookup, goes on from there: every write is committed before the answer
 * is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "greylist/greylist.h"
#include "spf/spf.h"
#include "rules/eval.h"
#include "stats/stats.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

/* gl_conf_of - the greylisting parameters of a policy */
void    greylist_conf(const struct config *c, struct gl_conf *g)
{
    g->delay = config_int(c, P_GL_DELAY);
    g->max_age = config_int(c, P_GL_MAX_AGE);
    g->retry_window = config_int(c, P_GL_RETRY_WINDOW);
    g->awl_clients = config_int(c, P_GL_AWL);
    g->ipv4_prefix = (int) config_int(c, P_GL_IPV4_PREFIX);
    g->ipv6_prefix = (int) config_int(c, P_GL_IPV6_PREFIX);
    g->by_host = config_bool(c, P_GL_BY_HOST);
    g->privacy = config_bool(c, P_GL_PRIVACY);
}

/*
 * One decision across its store operations.  Keys, reads and the decision
 * live here, not on the stack: a backend may answer after r_greylist has
 * returned RS_PENDING (LMDB answers reads at once, and writes at once or
 * at the end of the event loop's pass).  The walk is woken when the last
 * operation of a phase completes; if the evaluation has gone meanwhile,
 * the last callback frees the record.
 */
struct gl_wait;

/* one store read, kept until the restriction is done with it */
struct rec {
    struct gl_wait *w;
    int     done;
    enum store_status st;
    unsigned char val[64];
    size_t  len;
};

enum gl_phase {
    GL_READING,				/* whitelist, client, triplet */
    GL_WRITING,				/* the decision's records */
};

struct gl_wait {
    struct eval *e;			/* NULL once the evaluation is gone */
    enum gl_phase phase;
    int     left;			/* store operations not yet complete */
    int     waiting;			/* the walk waits: wake it */
    int     failed;			/* a write failed */
    int     known;			/* the triplet was in the database */
    int     no_manual;			/* no manual whitelist entries at all */
    int     spf_keyed;			/* keyed on the SPF domain, not the network */
    int64_t now;
    struct gl_conf g;
    struct inet_addr addr;		/* the client's, parsed once */
    struct buf tkey, ckey, net;
    struct rec wl_addr, wl_net, client, triplet;
    struct gl_decision d;
    unsigned char tval[STORE_VALUE_MAX], cval[STORE_VALUE_MAX];	/* as written */
    char   *detail;			/* trace detail so far */
};

static void gl_wait_free(struct gl_wait *w)
{
    buf_free(&w->tkey);
    buf_free(&w->ckey);
    buf_free(&w->net);
    free(w->detail);
    free(w);
}

/* gl_op_done - one store operation completed */
static void gl_op_done(struct gl_wait *w)
{
    if (--w->left > 0)
	return;
    if (w->e == NULL)
	gl_wait_free(w);
    else if (w->waiting && w->e->wake)
	w->e->wake(w->e->wake_ctx);	/* may finish and free the evaluation */
}

static void rec_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct rec *r = arg;

    r->done = 1;
    r->st = st;
    r->len = len < sizeof(r->val) ? len : sizeof(r->val);
    if (st == STORE_OK && val)
	memcpy(r->val, val, r->len);	/* val is valid only now */
    if (r->w)
	gl_op_done(r->w);
}

/* gl_write_done - one write was committed (or failed) */
static void gl_write_done(void *arg, enum store_status st, const void *val, size_t len)
{
    struct gl_wait *w = arg;

    (void) val;
    (void) len;
    if (st == STORE_ERROR)
	w->failed = 1;
    gl_op_done(w);
}

/* gl_read - a read into r; with no database yet (mxshield check) nothing
 * is found */
static void gl_read(struct eval *e, struct gl_wait *w, const char *table,
		            const struct buf *key, struct rec *r)
{
    memset(r, 0, sizeof(*r));
    if (e->pol->store == NULL) {
	rec_cb(r, STORE_NOTFOUND, NULL, 0);
	return;
    }
    r->w = w;
    w->left++;
    store_get(e->pol->store, table, key->s, key->len, rec_cb, r);
}

/* gl_wait_for - the walk waits for the phase's operations */
static enum rstatus gl_wait_for(struct eval *e, struct gl_wait *w)
{
    w->waiting = 1;
    free(w->detail);
    w->detail = e->trace ? xstrdup(e->tdetail.s) : NULL;
    return RS_PENDING;
}

/* recent message instances, so that X-Greylist goes on a message once */
#define INSTANCES 20
static char *instances[INSTANCES];
static int next_instance;

static int new_instance(const char *inst)
{
    if (*inst == 0)
	return 1;
    for (int i = 0; i < INSTANCES; i++)
	if (instances[i] && strcmp(instances[i], inst) == 0)
	    return 0;
    free(instances[next_instance]);
    instances[next_instance] = xstrdup(inst);
    next_instance = (next_instance + 1) % INSTANCES;
    return 1;
}

/* store_trouble - the database failed: greylist_error_action */
static enum rstatus store_trouble(struct eval *e, const char *what)
{
    msg_warn("greylist: database %s failed for %s", what, e->namaddr.s);
    eval_trace_detail(e, "database %s failed", what);
    if (e->pol->gl.error_dunno)
	return RS_DUNNO;
    e->temp_failure = 1;
    return eval_reject(e, 451, "4.3.0", "<%s>: Temporary greylisting database error",
		       e->txn->recipient);
}

/* greylist_eval_free - the evaluation is going away */
void    greylist_eval_free(struct eval *e)
{
    struct gl_wait *w = e->glw;

    if (w == NULL)
	return;
    e->glw = NULL;
    if (w->left > 0)
	w->e = NULL;			/* freed by the last operation's callback */
    else
	gl_wait_free(w);
}

static enum rstatus gl_answer(struct eval *e, const struct gl_wait *w);
static enum rstatus gl_decided(struct eval *e, struct gl_wait *w);

/* gl_finish - the restriction's result; the decision record goes */
static enum rstatus gl_finish(struct eval *e, enum rstatus st)
{
    greylist_eval_free(e);
    return st;
}

/* r_greylist - the greylist restriction */
enum rstatus r_greylist(struct eval *e, const struct rule *r, const char *rn, const char *rc)
{
    const struct txn *q = e->txn;
    const struct policy_greylist *c = &e->pol->gl;
    struct gl_wait *w;
    const char *why, *entry = NULL;
    int64_t now = time(NULL);

    (void) r;
    (void) rn;
    (void) rc;
    if ((w = e->glw) != NULL) {
	/* woken: the phase's operations are complete */
	if (w->left > 0)
	    return RS_PENDING;
	w->waiting = 0;
	if (w->detail)
	    buf_puts(&e->tdetail, w->detail);
	if (w->phase == GL_READING)
	    return gl_decided(e, w);
	return gl_finish(e, gl_answer(e, w));
    }
    if (*q->client_address == 0 || *q->recipient == 0)
	return RS_DUNNO;
    if (c->selective && e->score < c->min_score) {
	eval_trace_detail(e, "score %d is below greylist_min_score %ld: not greylisted",
			  e->score, c->min_score);
	return RS_DUNNO;
    }
    if (e->pol->greylist_wl
	&& (why = gl_whitelist_match_entry(e->pol->greylist_wl, e->client_name,
					   q->client_address, q->recipient, &entry)) != NULL) {
	eval_trace_detail(e, "pass: %s %s", why, entry);
	return RS_DUNNO;
    }
    if (c->test_time) {
	if (*q->test_time)
	    now = strtoll(q->test_time, NULL, 10);
    }
    w = xcalloc(1, sizeof(*w));
    w->e = e;
    w->now = now;
    w->g = c->g;
    buf_init(&w->tkey);
    buf_init(&w->ckey);
    buf_init(&w->net);
    e->glw = w;

    /* check_spf ran before and SPF passed: key on the authorised domain */
    const char *auth = NULL;

    const struct txn_spf *spf = &q->spf[TXN_SPF_MAIL_FROM];

    if (c->spf_key && spf->known && spf->result == SPF_PASS
	&& *spf->domain && *q->sender) {
	auth = spf->domain;
	w->spf_keyed = 1;
	eval_trace_detail(e, "SPF passed for %s: keyed on the domain, not the network", auth);
    }
    if (inet_parse(q->client_address, &w->addr) < 0)
	return gl_finish(e, RS_DUNNO);	/* not an address: no opinion */
    gl_triplet_key_addr(&w->g, &w->addr, auth, q->sender, q->recipient, &w->tkey);
    gl_client_key_addr(&w->g, &w->addr, &w->ckey);
    if (e->pol->store == NULL && !e->pol->store_absent)
	return gl_finish(e, store_trouble(e, "open"));

    /* every read at once, from one snapshot: the manual whitelist (the
     * client address or its key network), the client, the triplet */
    if (e->pol->store && store_read_begin(e->pol->store) < 0)
	return gl_finish(e, store_trouble(e, "read"));
    w->phase = GL_READING;
    w->left = 1;			/* until every read is issued */
    w->no_manual = e->pol->store && store_empty(e->pol->store, "whitelist");
    if (!w->no_manual) {
	gl_read(e, w, "whitelist", &w->ckey, &w->wl_addr);
	gl_whitelist_net_key_addr(&w->g, &w->addr, &w->net);
	gl_read(e, w, "whitelist", &w->net, &w->wl_net);
    }
    gl_read(e, w, "clients", &w->ckey, &w->client);
    gl_read(e, w, "triplets", &w->tkey, &w->triplet);
    if (e->pol->store)
	store_read_end(e->pol->store);
    if (--w->left > 0)
	return gl_wait_for(e, w);
    return gl_decided(e, w);
}

/* gl_decided - every read is in: decide, then write before answering */
static enum rstatus gl_decided(struct eval *e, struct gl_wait *w)
{
    struct gl_triplet trip;
    struct gl_client client;
    const struct rec *t = &w->triplet, *cl = &w->client;

    /* a read that failed is a temporary failure, never a pass */
    if ((w->wl_addr.done && w->wl_addr.st == STORE_ERROR)
	|| (w->wl_net.done && w->wl_net.st == STORE_ERROR)
	|| cl->st == STORE_ERROR || t->st == STORE_ERROR)
	return gl_finish(e, store_trouble(e, "read"));
    if ((w->wl_addr.done && w->wl_addr.st == STORE_OK)
	|| (w->wl_net.done && w->wl_net.st == STORE_OK)) {
	eval_trace_detail(e, "pass: manual whitelist");
	return gl_finish(e, RS_DUNNO);
    }
    /* a record that does not decode is as if never written: the write
     * below replaces it (a format 1 record is read, and rewritten) */
    int     have_t = t->st == STORE_OK
	&& gl_triplet_decode(t->val, t->len, &trip) != STORE_VALUE_BAD;
    int     have_c = cl->st == STORE_OK
	&& gl_client_decode(cl->val, cl->len, &client) != STORE_VALUE_BAD;

    gl_decide(&w->g, w->now, have_t ? &trip : NULL, have_c ? &client : NULL, &w->d);
    w->known = t->st == STORE_OK;

    /* written before the answer goes out */
    struct store *s = e->pol->store;

    w->phase = GL_WRITING;
    if (s == NULL || store_readonly(s)) {
	eval_trace_detail(e, "database opened read-only: nothing recorded");
	return gl_finish(e, gl_answer(e, w));
    }
    w->left = 1;			/* until every write is issued */
    if (w->d.write_triplet) {
	w->left++;
	size_t  tlen;

	/* a key without the network keeps the client, to be found by it */
	if (w->spf_keyed)
	    tlen = gl_triplet_encode_client(&w->d.triplet, &w->addr, w->tval);
	else
	    tlen = gl_triplet_encode(&w->d.triplet, w->tval);
	store_put_ttl(s, "triplets", w->tkey.s, w->tkey.len, w->tval, tlen,
		      gl_triplet_ttl(&w->g, w->now, &w->d.triplet), gl_write_done, w);
    }
    if (w->d.write_client) {
	w->left++;
	store_put_ttl(s, "clients", w->ckey.s, w->ckey.len, w->cval,
		      gl_client_encode(&w->d.client, w->cval),
		      gl_client_ttl(&w->g, w->now, &w->d.client), gl_write_done, w);
    }
    if (--w->left > 0)
	return gl_wait_for(e, w);	/* the batch commits at the end of this pass */
    return gl_finish(e, gl_answer(e, w));
}

/* host_name - this host's name for X-Greylist, asked once */
static const char *host_name(void)
{
    static char host[256];

    if (*host == 0 && gethostname(host, sizeof(host) - 1) < 0)
	snprintf(host, sizeof(host), "localhost");
    return host;
}

/* gl_answer - the reply of a decision whose writes are done */
static enum rstatus gl_answer(struct eval *e, const struct gl_wait *w)
{
    const struct txn *q = e->txn;
    const struct policy_greylist *c = &e->pol->gl;
    const struct gl_decision *d = &w->d;
    enum rstatus st = RS_DUNNO;
    struct buf text;

    if (w->failed)
	return store_trouble(e, "write");
    if (d->newly_whitelisted)
	msg_info("greylist: whitelisted: %s", e->namaddr.s);
    buf_init(&text);
    switch (d->verdict) {
    case GL_PASS_AWL:
	stat_inc_l(STAT_GREYLIST_RESULTS, "auto_whitelisted");
	eval_trace_detail(e, "pass: client auto-whitelisted");
	break;
    case GL_PASS:
	stat_inc_l(STAT_GREYLIST_RESULTS, "passed");
	eval_trace_detail(e, "pass: triplet found");
	break;
    case GL_PASS_FIRST:
	stat_inc_l(STAT_GREYLIST_RESULTS, "passed_first");
	eval_trace_detail(e, "pass: triplet found, delayed %ld s", d->delayed);
	buf_printf(&text, "greylisting passed after %ld seconds", d->delayed);
	eval_log_whatsup(e, "info", text.s);
	buf_reset(&text);
	if (*c->header && new_instance(q->instance) && e->prepend.len == 0) {
	    gl_expand_header(c->header, d->delayed,
			     *e->pol->myhostname ? e->pol->myhostname
			     : host_name(), (time_t) w->now, &text);
	    buf_puts(&e->prepend, text.s);
	}
	break;
    case GL_GREYLIST:{
	    const char *tx;
	    char    dsn[16] = "4.2.0";

	    stat_inc_l(STAT_GREYLIST_RESULTS, "deferred");

	    eval_trace_detail(e, "greylist: %s (%ld s left)",
			      w->known ? "early retry" : "new triplet", d->wait);
	    gl_expand_text(c->text, d->wait, q->recipient, &text);
	    tx = text.s;
	    /* a text that brings its own enhanced status code keeps it */
	    size_t  dl = strspn(tx, "0123456789.");

	    if (dl >= 5 && dl < sizeof(dsn) && tx[dl] == ' ' && tx[1] == '.') {
		memcpy(dsn, tx, dl);
		dsn[dl] = 0;
		tx += dl + 1;
	    }
	    if (c->action_defer)
		st = eval_reject(e, 450, dsn, "%s", tx);
	    else
		st = eval_defer_if(e, &e->dip, 450, dsn, "%s", tx);
	    break;
	}
    }
    buf_free(&text);
    return st;
}

/*
 * Expiry in small batches: each call examines at most greylist_expire_batch
 * records from where the last one stopped, so no answer ever waits for a
 * clean-up (postgrey's nightly clean-up stalls Postfix).
 */
struct expire_ctx {
    struct gl_conf g;
    int64_t now;
    int     clients;
    long    deleted;
    long    pending;			/* kept triplets not yet passed */
};

static int expire_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct expire_ctx *x = arg;

    (void) key;
    (void) klen;
    if (x->clients) {
	struct gl_client cl;

	if (gl_client_decode(val, vlen, &cl) == STORE_VALUE_BAD)
	    return x->deleted++, 1;
	if (gl_client_expired(&x->g, x->now, &cl))
	    return x->deleted++, 1;
	return 0;
    }
    struct gl_triplet t;

    if (gl_triplet_decode(val, vlen, &t) == STORE_VALUE_BAD)
	return x->deleted++, 1;
    if (gl_triplet_expired(&x->g, x->now, &t))
	return x->deleted++, 1;
    if (t.last - t.first < x->g.delay)
	x->pending++;
    return 0;
}

/* greylist_expire_step - one batch of each table; records deleted */
long    greylist_expire_step(struct store *s, const struct config *c, long long now,
			             struct greylist_cursor *cur, long batch)
{
    struct expire_ctx x;
    long    total = 0;

    if (store_expires(s)) {
	cur->len[0] = cur->len[1] = 0;	/* records go by themselves (Redis TTLs) */
	return 0;
    }
    memset(&x, 0, sizeof(x));
    greylist_conf(c, &x.g);
    x.now = now;
    for (int i = 0; i < 2; i++) {
	x.clients = i;
	x.deleted = 0;
	if (store_scan(s, i ? "clients" : "triplets", cur->key[i], sizeof(cur->key[i]),
		       &cur->len[i], batch, expire_fn, &x) < 0)
	    return -1;
	total += x.deleted;
	if (i == 0) {
	    /* mxshield_greylist_pending_triplets: set after each whole pass */
	    cur->pending += x.pending;
	    if (cur->len[0] == 0) {
		stat_set(STAT_GREYLIST_PENDING, cur->pending);
		cur->pending = 0;
	    }
	}
    }
    return total;
}

/* greylist_policy_compile - the parameters, checked and resolved; the whitelists */
int     greylist_policy_compile(struct policy *p, struct buf *err)
{
    static const struct {
	enum param_id id;
	const char *a, *b;
    } choices[] = {
	{P_GL_ACTION, "defer_if_permit", "defer"},
	{P_GL_ERROR_ACTION, "defer", "dunno"},
	{P_STORE_ON_CORRUPT, "move", "refuse"},
	{P_STORE, "lmdb", "redis"},
    };
    char    why[512];

    for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
	const char *v = config_str(p->conf, choices[i].id);

	if (strcasecmp(v, choices[i].a) != 0 && strcasecmp(v, choices[i].b) != 0) {
	    buf_printf(err, "%s: %s: bad value \"%s\" (expected %s or %s)",
		       config_where(p->conf, choices[i].id), param_table[choices[i].id].name,
		       v, choices[i].a, choices[i].b);
	    return -1;
	}
    }
    greylist_conf(p->conf, &p->gl.g);
    p->gl.selective = config_bool(p->conf, P_GL_SELECTIVE);
    p->gl.min_score = config_int(p->conf, P_GL_MIN_SCORE);
    p->gl.test_time = config_bool(p->conf, P_GL_TEST_TIME);
    p->gl.spf_key = config_bool(p->conf, P_GL_SPF_KEY);
    p->gl.action_defer = strcasecmp(config_str(p->conf, P_GL_ACTION), "defer") == 0;
    p->gl.error_dunno = strcasecmp(config_str(p->conf, P_GL_ERROR_ACTION), "dunno") == 0;
    p->gl.header = config_str(p->conf, P_GL_HEADER);
    p->gl.text = config_str(p->conf, P_GL_TEXT);
    if (!p->uses_greylist)
	return 0;
    why[0] = 0;
    p->greylist_wl = gl_whitelist_load(config_str(p->conf, P_GL_WL_CLIENTS),
				       config_str(p->conf, P_GL_WL_RCPTS), why, sizeof(why));
    if (p->greylist_wl == NULL) {
	buf_printf(err, "%s: greylist whitelist: %s",
		   config_where(p->conf, P_GL_WL_CLIENTS), why);
	return -1;
    }
    return 0;
}
