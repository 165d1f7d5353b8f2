/*
 * banrestr.c - reject_banned_client and check_rate: the auto-ban's
 * verdicts and rate counters (src/ban) read from the state store.
 *
 * reject_banned_client reads the client's ban records (its network at
 * ban_ipv4_prefix/ban_ipv6_prefix, and the escalation prefix) and
 * rejects while one is in force.  check_rate WHAT=LIMIT/WINDOW[/ACTION]
 * counts each evaluation in a sliding window per client address
 * (client), client network (client_net), SASL user (sasl_username),
 * sender (sender) or recipient domain (recipient_domain), and over the
 * limit defers (ACTION defer, rate_limit_reject_code), rejects (reject,
 * 554) or only logs (warn).
 *
 * Both wait for the store like greylisting (greylisting.c): a struct
 * ban_wait keeps the keys and reads across RS_PENDING; a store error is
 * a temporary failure (451 4.3.0), never a pass, except that
 * reject_banned_client still refuses a client this daemon knows to be
 * banned (ban/bancache.h: "bans keep enforcing what is known locally")
 * and check_rate follows rate_limit_error_action (defer, or dunno).
 * With a store that counts on its server (store_counter_hit: Redis),
 * check_rate counts there in one step and reads nothing first, so that
 * hosts sharing a counter lose no count to each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ban/ban.h"
#include "ban/bancache.h"
#include "rules/eval.h"
#include "rules/rate.h"
#include "store/store.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define RATE_VALUE_MAX	320		/* longest counted value kept in a key */

struct ban_wait;

struct bw_rec {
    struct ban_wait *w;
    int     done;
    enum store_status st;
    unsigned char val[STORE_VALUE_MAX];
    size_t  len;
};

enum bw_phase {
    BW_READING,
    BW_WRITING,
    BW_COUNTING,			/* store_counter_hit: one step on the server */
};

struct ban_wait {
    struct eval *e;			/* NULL once the evaluation is gone */
    const struct rule *rule;		/* whose wait this is */
    enum bw_phase phase;
    int     left;
    int     waiting;
    int     failed;
    int64_t now;
    struct bw_rec rec[2];
    char    key[2][BAN_NET_MAX];
    struct buf rkey;			/* check_rate's key */
    struct ban_counter counter;
    long    count;
    unsigned char out[STORE_VALUE_MAX];
    char   *detail;
};

/*
 * Waits are kept for reuse (the event loop is one thread): a connect-time
 * reject_banned_client on every connection allocates nothing once warm.
 */
#define BW_SPARE_MAX	64
static struct ban_wait *bw_spare[BW_SPARE_MAX];
static int bw_nspare;

static void bw_free(struct ban_wait *w)
{
    free(w->detail);
    w->detail = NULL;
    if (bw_nspare < BW_SPARE_MAX) {
	bw_spare[bw_nspare++] = w;
	return;
    }
    buf_free(&w->rkey);
    free(w);
}

/* ban_eval_free - the evaluation is going away */
void    ban_eval_free(struct eval *e)
{
    struct ban_wait *w = e->bw;

    if (w == NULL)
	return;
    e->bw = NULL;
    if (w->left > 0)
	w->e = NULL;			/* the last callback frees it */
    else
	bw_free(w);
}

static void bw_op_done(struct ban_wait *w)
{
    if (--w->left > 0)
	return;
    if (w->e == NULL)
	bw_free(w);
    else if (w->waiting && w->e->wake)
	w->e->wake(w->e->wake_ctx);
}

static void bw_rec_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct bw_rec *r = arg;

    r->done = 1;
    r->st = st;
    r->len = len < sizeof(r->val) ? len : sizeof(r->val);
    if (st == STORE_OK && val)
	memcpy(r->val, val, r->len);
    bw_op_done(r->w);
}

/*
 * Counters written but not yet acknowledged.  Reads see committed records
 * only (store.h): with group commit (store_sync_commits) or a networked
 * backend, two requests of one pass would both count from the same stored
 * value and a hit would be lost.  The newest value of a key whose write is
 * in flight is taken from here instead.  Bounded; past the bound a key is
 * not tracked (and may undercount by the writes of one pass).
 */
#define PEND_MAX	256
#define PEND_KEY_MAX	512

struct pend {
    char    key[PEND_KEY_MAX];
    size_t  klen;
    struct ban_counter c;
    int     puts;			/* writes in flight */
};
static struct pend pend[PEND_MAX];
static int npend;

static struct pend *pend_find(const char *k, size_t n)
{
    for (int i = 0; i < npend; i++)
	if (pend[i].klen == n && memcmp(pend[i].key, k, n) == 0)
	    return &pend[i];
    return NULL;
}

/* pend_put - a write of c under k starts */
static void pend_put(const char *k, size_t n, const struct ban_counter *c)
{
    struct pend *p = pend_find(k, n);

    if (p == NULL) {
	if (npend >= PEND_MAX || n > PEND_KEY_MAX)
	    return;
	p = &pend[npend++];
	memcpy(p->key, k, n);
	p->klen = n;
	p->puts = 0;
    }
    p->c = *c;
    p->puts++;
}

/* pend_done - a write under k is acknowledged */
static void pend_done(const char *k, size_t n)
{
    struct pend *p = pend_find(k, n);

    if (p && --p->puts == 0)
	*p = pend[--npend];
}

static void bw_write_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct ban_wait *w = arg;

    (void) val;
    (void) len;
    if (st == STORE_ERROR)
	w->failed = 1;
    pend_done(w->rkey.s, w->rkey.len);
    bw_op_done(w);
}

static void bw_read(struct eval *e, struct ban_wait *w, int i, const char *table,
		            const char *key, size_t klen)
{
    struct bw_rec *r = &w->rec[i];

    memset(r, 0, sizeof(*r));
    r->w = w;
    w->left++;
    if (e->pol->store == NULL) {
	bw_rec_cb(r, STORE_NOTFOUND, NULL, 0);	/* no database yet (check) */
	return;
    }
    store_get(e->pol->store, table, key, klen, bw_rec_cb, r);
}

/* bw_pending - the walk waits for the phase's operations */
static enum rstatus bw_pending(struct eval *e, struct ban_wait *w)
{
    w->waiting = 1;
    free(w->detail);
    w->detail = e->trace ? xstrdup(e->tdetail.s) : NULL;
    return RS_PENDING;
}

static struct ban_wait *bw_new(struct eval *e, const struct rule *r)
{
    struct ban_wait *w;
    struct buf keep;

    if (bw_nspare > 0) {
	w = bw_spare[--bw_nspare];
	keep = w->rkey;			/* its memory is reused */
	buf_reset(&keep);
	memset(w, 0, sizeof(*w));
	w->rkey = keep;
    } else {
	w = xcalloc(1, sizeof(*w));
	buf_init(&w->rkey);
    }
    w->e = e;
    w->rule = r;
    w->now = time(NULL);
    e->bw = w;
    return w;
}

static enum rstatus bw_finish(struct eval *e, enum rstatus st)
{
    ban_eval_free(e);
    return st;
}

/* bw_trouble - the database failed: a temporary failure */
static enum rstatus bw_trouble(struct eval *e, const char *who, const char *what)
{
    msg_warn("%s: database %s failed for %s", who, what, e->namaddr.s);
    eval_trace_detail(e, "database %s failed", what);
    e->temp_failure = 1;
    return eval_reject(e, 451, "4.3.0", "Temporary database error");
}

/* bw_resume - woken: 1 and the wait when this rule's phase is complete */
static int bw_resume(struct eval *e, const struct rule *r, struct ban_wait **wp,
		             enum rstatus *st)
{
    struct ban_wait *w = e->bw;

    if (w == NULL || w->rule != r)
	return 0;
    if (w->left > 0) {
	*st = RS_PENDING;
	return -1;
    }
    w->waiting = 0;
    if (w->detail)
	buf_puts(&e->tdetail, w->detail);
    *wp = w;
    return 1;
}

/* banned_answer - the ban records are in; where a read failed, the bans
 * this daemon knows of (ban/bancache.h) still refuse */
static enum rstatus banned_answer(struct eval *e, struct ban_wait *w)
{
    struct ban_record rec, best = {0, 0, 0, 0};
    int     found = 0, failed = 0, known = 0;
    const char *which = NULL;

    for (int i = 0; i < 2; i++) {
	if (!w->rec[i].done)
	    continue;
	if (w->rec[i].st == STORE_ERROR) {
	    failed = 1;
	    if (!ban_cache_get(w->key[i], w->now, &rec))
		continue;
	    known = 1;
	} else if (w->rec[i].st == STORE_OK
		   && ban_record_decode(w->rec[i].val, w->rec[i].len, &rec) == 0
		   && ban_active(&rec, w->now)) {
	    ban_cache_put(w->key[i], &rec);
	} else {
	    ban_cache_del(w->key[i]);	/* lifted, or gone by its TTL */
	    continue;
	}
	if (!found || rec.expires > best.expires) {
	    best = rec;
	    found = 1;
	    which = w->key[i];
	}
    }
    if (!found && failed)
	return bw_finish(e, bw_trouble(e, "reject_banned_client", "read"));
    if (!found) {
	eval_trace_detail(e, "%s is not banned", w->key[0]);
	return bw_finish(e, RS_DUNNO);
    }
    if (failed)
	msg_warn("reject_banned_client: database read failed for %s: refused, %s banned%s",
		 e->namaddr.s, which, known ? " as known locally" : "");
    eval_trace_detail(e, "%s banned until %lld (%s, level %lld)%s", which,
		      (long long) best.expires, ban_reason_name(best.reason),
		      (long long) best.level, known ? " (known locally)" : "");
    enum rstatus st = eval_reject(e, e->pol->ban->reject_code, "5.7.1",
				  "Client host rejected: banned for %lld more seconds (%s)",
				  (long long) (best.expires - w->now),
				  ban_reason_name(best.reason));

    return bw_finish(e, st);
}

/* r_reject_banned_client - the client's network or its wider prefix is banned */
enum rstatus r_reject_banned_client(struct eval *e, const struct rule *r, const char *rn,
				            const char *rc)
{
    const struct ban_conf *c = e->pol->ban;
    struct ban_wait *w;
    struct cidr net, wide;
    enum rstatus st;

    (void) rn;
    (void) rc;
    switch (bw_resume(e, r, &w, &st)) {
    case 1:
	return banned_answer(e, w);
    case -1:
	return st;
    }
    if (ban_net(e->txn->client_address, c->ipv4_prefix, c->ipv6_prefix, &net) < 0)
	return RS_DUNNO;		/* not an address ("unknown"): no opinion */
    if (e->pol->store == NULL && !e->pol->store_absent)
	return bw_trouble(e, "reject_banned_client", "open");
    if (e->pol->store && store_read_begin(e->pol->store) < 0)
	return bw_trouble(e, "reject_banned_client", "read");
    w = bw_new(e, r);
    ban_net_text(&net, w->key[0]);
    w->left = 1;			/* until the reads are issued */
    bw_read(e, w, 0, "bans", w->key[0], strlen(w->key[0]));
    if (ban_wide(c, &net, &wide)) {
	ban_net_text(&wide, w->key[1]);
	bw_read(e, w, 1, "bans", w->key[1], strlen(w->key[1]));
    }
    if (e->pol->store)
	store_read_end(e->pol->store);
    if (--w->left > 0)
	return bw_pending(e, w);
    return banned_answer(e, w);
}

/* rate_value - what a rule counts for this request; NULL: nothing */
static const char *rate_value(struct eval *e, const struct rate_spec *rs,
			              char text[BAN_NET_MAX])
{
    const struct txn *q = e->txn;
    const struct ban_conf *c = e->pol->ban;
    struct cidr net;
    const char *at;

    switch (rs->what) {
    case RATE_CLIENT:
	return *q->client_address ? q->client_address : NULL;
    case RATE_CLIENT_NET:
	if (ban_net(q->client_address, c->ipv4_prefix, c->ipv6_prefix, &net) < 0)
	    return NULL;
	ban_net_text(&net, text);
	return text;
    case RATE_SASL_USER:
	return *q->sasl_username ? q->sasl_username : NULL;
    case RATE_SENDER:
	return *q->sender ? q->sender : NULL;
    case RATE_RCPT_DOMAIN:
	if ((at = strrchr(q->recipient, '@')) == NULL || at[1] == 0)
	    return NULL;
	return at + 1;
    }
    return NULL;
}

/* rate_trouble - the database failed: rate_limit_error_action, a
 * temporary failure (defer) or no opinion (dunno); never a reject */
static enum rstatus rate_trouble(struct eval *e, const char *what)
{
    if (!e->pol->ban->rate_error_dunno)
	return bw_trouble(e, "check_rate", what);
    msg_warn("check_rate: database %s failed for %s: not counted (rate_limit_error_action"
	     " = dunno)", what, e->namaddr.s);
    eval_trace_detail(e, "database %s failed: not counted", what);
    return RS_DUNNO;
}

/* rate_answer - the counter is written: the action when over */
static enum rstatus rate_answer(struct eval *e, const struct rule *r, struct ban_wait *w)
{
    const struct rate_spec *rs = r->rate;

    if (w->failed)
	return bw_finish(e, rate_trouble(e, "write"));
    eval_trace_detail(e, "%s: %ld in %lds (limit %ld)", w->rkey.s, w->count, rs->window,
		      rs->limit);
    if (w->count <= rs->limit)
	return bw_finish(e, RS_DUNNO);
    const char *label[1] = {rate_what_name(rs->what)};

    stat_add_l(STAT_RATE_LIMITED, 1, label);

    enum rstatus st = RS_DUNNO;

    switch (rs->action) {
    case RATE_WARN:
	msg_info("check_rate: %s: over the limit: %ld in %lds (limit %ld)",
		 e->namaddr.s, w->count, rs->window, rs->limit);
	break;
    case RATE_DEFER:
	st = eval_reject(e, e->pol->rate_code, e->pol->rate_code < 500 ? "4.7.1" : "5.7.1",
			 "Rate limit exceeded: %ld per %lds for %s", rs->limit, rs->window,
			 rate_what_name(rs->what));
	break;
    case RATE_REJECT:
	st = eval_reject(e, 554, "5.7.1", "Rate limit exceeded: %ld per %lds for %s",
			 rs->limit, rs->window, rate_what_name(rs->what));
	break;
    }
    return bw_finish(e, st);
}

/* rate_hit - counted on the server: the estimate from the record written */
static enum rstatus rate_hit(struct eval *e, const struct rule *r, struct ban_wait *w)
{
    struct bw_rec *rec = &w->rec[0];

    if (rec->st != STORE_OK || ban_counter_decode(rec->val, rec->len, &w->counter) < 0)
	return bw_finish(e, rate_trouble(e, "count"));
    w->count = ban_counter_peek(&w->counter, w->now, r->rate->window);
    return rate_answer(e, r, w);
}

/* rate_counted - the counter is read: count, write, then answer */
static enum rstatus rate_counted(struct eval *e, const struct rule *r, struct ban_wait *w)
{
    struct bw_rec *rec = &w->rec[0];
    struct store *s = e->pol->store;

    if (rec->st == STORE_ERROR)
	return bw_finish(e, rate_trouble(e, "read"));
    memset(&w->counter, 0, sizeof(w->counter));
    const struct pend *p = pend_find(w->rkey.s, w->rkey.len);

    if (p)
	w->counter = p->c;		/* newer than what the store has */
    else if (rec->st == STORE_OK)
	(void) ban_counter_decode(rec->val, rec->len, &w->counter);	/* bad: starts again */
    w->count = ban_counter_hit(&w->counter, w->now, r->rate->window, 1);
    w->phase = BW_WRITING;
    if (s == NULL || store_readonly(s)) {
	eval_trace_detail(e, "database opened read-only: not counted");
	return rate_answer(e, r, w);
    }
    w->left = 1;
    pend_put(w->rkey.s, w->rkey.len, &w->counter);
    store_put_ttl(s, "rates", w->rkey.s, w->rkey.len, w->out,
		  ban_counter_encode(&w->counter, w->out), ban_ttl(w->counter.expires, w->now),
		  bw_write_cb, w);
    if (--w->left > 0)
	return bw_pending(e, w);
    return rate_answer(e, r, w);
}

/* r_check_rate - count this request; over the limit, the rule's action */
enum rstatus r_check_rate(struct eval *e, const struct rule *r, const char *rn, const char *rc)
{
    struct ban_wait *w;
    char    tmp[BAN_NET_MAX];
    const char *v;
    enum rstatus st;

    (void) rn;
    (void) rc;
    switch (bw_resume(e, r, &w, &st)) {
    case 1:
	return w->phase == BW_READING ? rate_counted(e, r, w)
	    : w->phase == BW_COUNTING ? rate_hit(e, r, w) : rate_answer(e, r, w);
    case -1:
	return st;
    }
    if ((v = rate_value(e, r->rate, tmp)) == NULL) {
	eval_trace_detail(e, "no %s in this request: not counted", rate_what_name(r->rate->what));
	return RS_DUNNO;
    }
    if (e->pol->store == NULL && !e->pol->store_absent)
	return bw_trouble(e, "check_rate", "open");
    w = bw_new(e, r);
    w->phase = BW_READING;
    /* the key: the value (bounded; case folded), then the rule as
     * written; the value first, up to a '/', is the Redis hash tag */
    size_t  n = strlen(v);

    buf_append(&w->rkey, v, n < RATE_VALUE_MAX ? n : RATE_VALUE_MAX);
    for (size_t i = 0; i < w->rkey.len; i++)
	if (w->rkey.s[i] >= 'A' && w->rkey.s[i] <= 'Z')
	    w->rkey.s[i] = (char) (w->rkey.s[i] - 'A' + 'a');
    buf_printf(&w->rkey, "/%s", r->rate->text);
    w->left = 1;
    if (e->pol->store && store_has_counter(e->pol->store) && !store_readonly(e->pol->store)) {
	/* shared (Redis): counted on the server, no read-modify-write */
	struct bw_rec *rec = &w->rec[0];

	w->phase = BW_COUNTING;
	memset(rec, 0, sizeof(*rec));
	rec->w = w;
	w->left++;
	store_counter_hit(e->pol->store, "rates", w->rkey.s, w->rkey.len, w->now,
			  r->rate->window, 1, bw_rec_cb, rec);
	if (--w->left > 0)
	    return bw_pending(e, w);
	return rate_hit(e, r, w);
    }
    bw_read(e, w, 0, "rates", w->rkey.s, w->rkey.len);
    if (--w->left > 0)
	return bw_pending(e, w);
    return rate_counted(e, r, w);
}
