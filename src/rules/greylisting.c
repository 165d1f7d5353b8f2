/*
 * greylisting.c - the greylist restriction: postgrey's algorithm
 * (src/greylist) over the state store (src/store).
 *
 * The store answers through a callback.  Reads from LMDB answer at once;
 * writes answer at once from command-line tools and, in the daemon, when
 * the batch of the event loop's pass is committed (a networked backend
 * would answer later too).  A restriction whose write has not been
 * committed keeps its decision in a struct gl_wait, returns RS_PENDING
 * and, woken like a DNS lookup, answers from that decision: every write
 * is committed before the answer is sent.
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

/* one store read, kept until the restriction is done with it */
struct rec {
    int     done;
    enum store_status st;
    unsigned char val[64];
    size_t  len;
};

static void rec_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct rec *r = arg;

    r->done = 1;
    r->st = st;
    r->len = len < sizeof(r->val) ? len : sizeof(r->val);
    if (st == STORE_OK && val)
	memcpy(r->val, val, r->len);
}

/* sget - a read; with no database yet (mxshield check) nothing is found */
static void sget(struct eval *e, const char *table, const struct buf *key, struct rec *r)
{
    memset(r, 0, sizeof(*r));
    if (e->pol->store == NULL)
	rec_cb(r, STORE_NOTFOUND, NULL, 0);
    else
	store_get(e->pol->store, table, key->s, key->len, rec_cb, r);
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
    if (strcasecmp(config_str(e->pol->conf, P_GL_ERROR_ACTION), "dunno") == 0)
	return RS_DUNNO;
    e->temp_failure = 1;
    return eval_reject(e, 451, "4.3.0", "<%s>: Temporary greylisting database error",
		       e->req->recipient);
}

/* a decision whose writes are not committed yet */
struct gl_wait {
    struct eval *e;			/* NULL once the evaluation is gone */
    int     left;			/* writes not yet committed */
    int     waiting;			/* the walk waits: wake it */
    int     failed;
    int     known;			/* the triplet was in the database */
    int64_t now;
    struct gl_decision d;
    char   *detail;			/* trace detail so far */
};

/* gl_write_done - one write was committed (or failed) */
static void gl_write_done(void *arg, enum store_status st, const void *val, size_t len)
{
    struct gl_wait *w = arg;

    (void) val;
    (void) len;
    if (st == STORE_ERROR)
	w->failed = 1;
    if (--w->left > 0 || !w->waiting)
	return;
    if (w->e == NULL) {
	free(w->detail);
	free(w);
    } else if (w->e->wake) {
	w->e->wake(w->e->wake_ctx);	/* may finish and free the evaluation */
    }
}

/* greylist_eval_free - the evaluation is going away */
void    greylist_eval_free(struct eval *e)
{
    struct gl_wait *w = e->glw;

    if (w == NULL)
	return;
    e->glw = NULL;
    if (w->left > 0) {
	w->e = NULL;			/* freed by the last write's callback */
	return;
    }
    free(w->detail);
    free(w);
}

static enum rstatus gl_answer(struct eval *e, const struct gl_wait *w);

/* r_greylist - the greylist restriction */
enum rstatus r_greylist(struct eval *e, const struct rule *r, const char *rn, const char *rc)
{
    const struct request *q = e->req;
    const struct config *c = e->pol->conf;
    struct gl_conf g;
    struct gl_decision d;
    struct buf tkey, ckey;
    struct rec t, cl;
    struct gl_triplet trip;
    struct gl_client client;
    const char *why;
    int64_t now = time(NULL);
    enum rstatus st = RS_DUNNO;

    (void) r;
    (void) rn;
    (void) rc;
    if (e->glw) {
	/* woken: the decision's writes are committed */
	struct gl_wait *w = e->glw;

	if (w->left > 0)
	    return RS_PENDING;
	if (w->detail)
	    buf_puts(&e->tdetail, w->detail);
	st = gl_answer(e, w);
	greylist_eval_free(e);
	return st;
    }
    if (*q->client_address == 0 || *q->recipient == 0)
	return RS_DUNNO;
    if (config_bool(c, P_GL_SELECTIVE) && e->score < config_int(c, P_GL_MIN_SCORE)) {
	eval_trace_detail(e, "score %d is below greylist_min_score %ld: not greylisted",
			  e->score, config_int(c, P_GL_MIN_SCORE));
	return RS_DUNNO;
    }
    if (e->pol->greylist_wl
	&& (why = gl_whitelist_match(e->pol->greylist_wl, e->client_name, q->client_address,
				     q->recipient)) != NULL) {
	eval_trace_detail(e, "pass: %s", why);
	return RS_DUNNO;
    }
    if (config_bool(c, P_GL_TEST_TIME)) {
	const char *tt = request_get(q, "policy_test_time");

	if (tt && *tt)
	    now = strtoll(tt, NULL, 10);
    }
    greylist_conf(c, &g);
    buf_init(&tkey);
    buf_init(&ckey);
    /* check_spf ran before and SPF passed: key on the authorised domain */
    const char *auth = NULL;

    if (config_bool(c, P_GL_SPF_KEY) && e->spf_done[0] && e->spf[0]
	&& e->spf[0]->result == SPF_PASS && *q->sender) {
	auth = e->spf[0]->domain.s;
	eval_trace_detail(e, "SPF passed for %s: keyed on the domain, not the network", auth);
    }
    if (gl_triplet_key(&g, q->client_address, auth, q->sender, q->recipient, &tkey) < 0
	|| gl_client_key(&g, q->client_address, &ckey) < 0)
	goto done;			/* not an address: no opinion */
    if (e->pol->store == NULL && !e->pol->store_absent) {
	st = store_trouble(e, "open");
	goto done;
    }

    /* the manual whitelist: the client address or its key network */
    /* one snapshot for every read of this decision */
    if (e->pol->store && store_read_begin(e->pol->store) < 0) {
	st = store_trouble(e, "read");
	goto done;
    }
    int     no_manual = e->pol->store && store_empty(e->pol->store, "whitelist");

    memset(&t, 0, sizeof(t));
    if (no_manual)
	rec_cb(&t, STORE_NOTFOUND, NULL, 0);	/* no manual entries at all */
    else
	sget(e, "whitelist", &ckey, &t);
    if (t.done && t.st == STORE_NOTFOUND && !g.privacy && !no_manual) {
	struct buf net;

	buf_init(&net);
	gl_client_net(&g, q->client_address, &net);
	buf_printf(&net, "/%d", strchr(q->client_address, ':') ? g.ipv6_prefix : g.ipv4_prefix);
	sget(e, "whitelist", &net, &t);
	buf_free(&net);
    }
    if (!t.done || t.st == STORE_OK) {
	if (e->pol->store)
	    store_read_end(e->pol->store);
	if (!t.done)
	    goto pending;
	eval_trace_detail(e, "pass: manual whitelist");
	goto done;
    }

    sget(e, "clients", &ckey, &cl);
    sget(e, "triplets", &tkey, &t);
    if (e->pol->store)
	store_read_end(e->pol->store);
    if (!cl.done || !t.done)
	goto pending;
    if (cl.st == STORE_ERROR || t.st == STORE_ERROR) {
	st = store_trouble(e, "read");
	goto done;
    }
    if (cl.st == STORE_OK && cl.len == sizeof(client))
	memcpy(&client, cl.val, sizeof(client));
    if (t.st == STORE_OK && t.len == sizeof(trip))
	memcpy(&trip, t.val, sizeof(trip));
    gl_decide(&g, now, t.st == STORE_OK && t.len == sizeof(trip) ? &trip : NULL,
	      cl.st == STORE_OK && cl.len == sizeof(client) ? &client : NULL, &d);

    /* written before the answer goes out */
    struct gl_wait *w = xcalloc(1, sizeof(*w));

    w->e = e;
    w->now = now;
    w->d = d;
    w->known = t.st == STORE_OK;
    if (e->pol->store && !store_readonly(e->pol->store)) {
	w->left = 1;			/* until both writes are issued */
	if (d.write_triplet) {
	    w->left++;
	    store_put(e->pol->store, "triplets", tkey.s, tkey.len, &d.triplet,
		      sizeof(d.triplet), gl_write_done, w);
	}
	if (d.write_client) {
	    w->left++;
	    store_put(e->pol->store, "clients", ckey.s, ckey.len, &d.client,
		      sizeof(d.client), gl_write_done, w);
	}
	w->left--;
    } else {
	eval_trace_detail(e, "database opened read-only: nothing recorded");
    }
    if (w->left > 0) {
	/* the batch commits at the end of this pass of the event loop */
	w->waiting = 1;
	if (e->trace)
	    w->detail = xstrdup(e->tdetail.s);
	e->glw = w;
	goto pending;
    }
    st = gl_answer(e, w);
    free(w);
    goto done;

pending:
    st = RS_PENDING;
done:
    buf_free(&tkey);
    buf_free(&ckey);
    return st;
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
    const struct request *q = e->req;
    const struct config *c = e->pol->conf;
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
	eval_trace_detail(e, "pass: client auto-whitelisted");
	break;
    case GL_PASS:
	eval_trace_detail(e, "pass: triplet found");
	break;
    case GL_PASS_FIRST:
	eval_trace_detail(e, "pass: triplet found, delayed %ld s", d->delayed);
	buf_printf(&text, "greylisting passed after %ld seconds", d->delayed);
	eval_log_whatsup(e, "info", text.s);
	buf_reset(&text);
	if (*config_str(c, P_GL_HEADER) && new_instance(q->instance) && e->prepend.len == 0) {
	    gl_expand_header(config_str(c, P_GL_HEADER), d->delayed,
			     *config_str(c, P_MYHOSTNAME) ? config_str(c, P_MYHOSTNAME)
			     : host_name(), (time_t) w->now, &text);
	    buf_puts(&e->prepend, text.s);
	}
	break;
    case GL_GREYLIST:{
	    const char *tx;
	    char    dsn[16] = "4.2.0";

	    eval_trace_detail(e, "greylist: %s (%ld s left)",
			      w->known ? "early retry" : "new triplet", d->wait);
	    gl_expand_text(config_str(c, P_GL_TEXT), d->wait, q->recipient, &text);
	    tx = text.s;
	    /* a text that brings its own enhanced status code keeps it */
	    size_t  dl = strspn(tx, "0123456789.");

	    if (dl >= 5 && dl < sizeof(dsn) && tx[dl] == ' ' && tx[1] == '.') {
		memcpy(dsn, tx, dl);
		dsn[dl] = 0;
		tx += dl + 1;
	    }
	    if (strcasecmp(config_str(c, P_GL_ACTION), "defer") == 0)
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
};

static int expire_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct expire_ctx *x = arg;

    (void) key;
    (void) klen;
    if (x->clients) {
	struct gl_client cl;

	if (vlen != sizeof(cl))
	    return x->deleted++, 1;
	memcpy(&cl, val, sizeof(cl));
	if (gl_client_expired(&x->g, x->now, &cl))
	    return x->deleted++, 1;
	return 0;
    }
    struct gl_triplet t;

    if (vlen != sizeof(t))
	return x->deleted++, 1;
    memcpy(&t, val, sizeof(t));
    if (gl_triplet_expired(&x->g, x->now, &t))
	return x->deleted++, 1;
    return 0;
}

/* greylist_expire_step - one batch of each table; records deleted */
long    greylist_expire_step(struct store *s, const struct config *c, long long now,
			             struct greylist_cursor *cur, long batch)
{
    struct expire_ctx x;
    long    total = 0;

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
    }
    return total;
}

/* greylist_policy_compile - check the parameters, load the whitelists */
int     greylist_policy_compile(struct policy *p, struct buf *err)
{
    static const struct {
	enum param_id id;
	const char *a, *b;
    } choices[] = {
	{P_GL_ACTION, "defer_if_permit", "defer"},
	{P_GL_ERROR_ACTION, "defer", "dunno"},
	{P_STORE_ON_CORRUPT, "move", "refuse"},
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
