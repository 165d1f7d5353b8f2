/*
 * engine.c - the auto-ban engine: events through the store, one at a
 * time, to bans in the log and in nftables.
 *
 * One job (an event, or a manual ban or unban) at a time: its reads,
 * then ban_decide(), then its writes, then the next job.  So a job reads
 * what the previous one wrote whatever the backend, and two events of
 * one client never both count from the same stale counter.  The store
 * may answer at once (LMDB) or later (from the loop): ban_pump() runs
 * every step that can run now and returns when one must wait.
 *
 * With a store that counts on its server (store_counter_hit: Redis,
 * shared by several hosts) the counters are not read and written back
 * here but counted there, in one step, once the reads say the client is
 * not banned already: another host's count of the same client in
 * between is never overwritten.  Every record is written with its
 * expiry as its TTL (store_put_ttl).
 *
 * The configuration is copied into the engine at each call (the
 * scalars; ban_ignore is looked up at once, when the event arrives), so
 * a reload never frees what a queued job needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ban/ban.h"
#include "ban/bancache.h"
#include "ban/nft.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

enum ban_job_type {
    JOB_EVENT,
    JOB_MANUAL,
};

struct ban_job {
    enum ban_job_type type;
    enum ban_event_kind kind;
    int64_t now;
    struct cidr net;
    long    seconds;			/* manual: 0 unbans */
    void    (*done) (void *, int);
    void   *arg;
};

enum ban_phase {
    PH_IDLE,
    PH_READ,
    PH_COUNT,				/* shared store: the hits counted on it */
    PH_COUNT_PFX,			/* and, for a ban, the wider prefix's */
    PH_WRITE,
};

/* the records a job reads */
enum {
    R_BAN, R_WIDE, R_HITS, R_OFF, R_PFX, R_COUNT,
};

struct ban_rec {
    struct ban_engine *b;
    int     done;
    enum store_status st;
    unsigned char val[STORE_VALUE_MAX];
    size_t  len;
};

struct ban_engine {
    struct store *s;
    struct ban_nft *nft;
    struct ban_conf conf;		/* scalars of the latest configuration */
    struct ban_job *q;			/* ring of jobs waiting */
    size_t  head, n;
    enum ban_phase phase;
    int     pumping;
    int     left;			/* store operations outstanding */
    int     failed;			/* a write failed */
    int     shared;			/* the store counts (store_counter_hit) */
    int     freed;			/* ban_engine_free() ran: the last callback frees */
    struct ban_job cur;
    struct ban_rec rec[R_COUNT];
    struct cidr wide;
    int     has_wide;
    char    net_key[BAN_NET_MAX], wide_key[BAN_NET_MAX], hit_key[BAN_NET_MAX + 32];
    struct ban_decision d;
    unsigned char out[4][STORE_VALUE_MAX];
    struct ban_stats st;
};

static void ban_pump(struct ban_engine *b);

struct ban_engine *ban_engine_new(struct store *s, struct ban_nft *nft)
{
    struct ban_engine *b = xcalloc(1, sizeof(*b));

    b->s = s;
    b->nft = nft;
    b->q = xcalloc(BAN_QUEUE_MAX, sizeof(*b->q));
    return b;
}

void    ban_engine_free(struct ban_engine *b)
{
    if (b == NULL)
	return;
    if (b->left > 0) {
	/* a store callback still holds it: freed by the last one, which
	 * must not touch what the owner frees next (the nft batch, the
	 * caller of a manual job) */
	b->n = 0;
	b->nft = NULL;
	b->freed = 1;
	return;
    }
    free(b->q);
    free(b);
}

size_t  ban_engine_pending(const struct ban_engine *b)
{
    return b->n + (b->phase != PH_IDLE);
}

void    ban_engine_stats(const struct ban_engine *b, struct ban_stats *st)
{
    *st = b->st;
}

/* take_conf - the scalars of a configuration, for the jobs to come */
static void take_conf(struct ban_engine *b, const struct ban_conf *c)
{
    b->conf = *c;
    memset(&b->conf.ignore, 0, sizeof(b->conf.ignore));
    b->conf.ignore_maps = NULL;
}

static void enqueue(struct ban_engine *b, const struct ban_job *j)
{
    if (b->n >= BAN_QUEUE_MAX) {
	if (b->st.dropped++ % 1000 == 0)
	    msg_warn("ban: %d events waiting for the database: event dropped", BAN_QUEUE_MAX);
	if (j->done)
	    j->done(j->arg, -1);
	return;
    }
    b->q[(b->head + b->n++) % BAN_QUEUE_MAX] = *j;
    ban_pump(b);
}

/* ban_engine_event - an event from the log */
void    ban_engine_event(struct ban_engine *b, const struct ban_conf *c,
			         const struct ban_event *ev, int64_t now)
{
    struct ban_job j;
    int     ig;

    if ((unsigned) ev->kind >= BEV_COUNT || !c->counted[ev->kind])
	return;
    b->st.events++;
    {
	const char *label[1] = {ban_event_name(ev->kind)};

	stat_add_l(STAT_BAN_EVENTS, 1, label);
    }
    memset(&j, 0, sizeof(j));
    if (ban_net(ev->host, c->ipv4_prefix, c->ipv6_prefix, &j.net) < 0)
	return;
    if ((ig = ban_ignored(c, ev->host)) != 0) {
	if (ig < 0)
	    msg_warn("ban: ban_ignore lookup failed for %s: event not counted", ev->host);
	b->st.ignored++;
	return;
    }
    take_conf(b, c);
    j.type = JOB_EVENT;
    j.kind = ev->kind;
    j.now = now;
    enqueue(b, &j);
}

/* ban_engine_manual - mxshield ban add / del */
void    ban_engine_manual(struct ban_engine *b, const struct ban_conf *c,
			          const struct cidr *net, long seconds, int64_t now,
			          void (*done) (void *, int), void *arg)
{
    struct ban_job j;

    memset(&j, 0, sizeof(j));
    take_conf(b, c);
    j.type = JOB_MANUAL;
    j.net = *net;
    j.seconds = seconds;
    j.now = now;
    j.done = done;
    j.arg = arg;
    enqueue(b, &j);
}

/* op_done - one store operation of the current job completed */
static void op_done(struct ban_engine *b)
{
    b->left--;
    if (b->freed) {
	if (b->left == 0) {
	    free(b->q);
	    free(b);
	}
	return;
    }
    ban_pump(b);
}

static void rec_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct ban_rec *r = arg;

    r->done = 1;
    r->st = st;
    r->len = len < sizeof(r->val) ? len : sizeof(r->val);
    if (st == STORE_OK && val)
	memcpy(r->val, val, r->len);
    op_done(r->b);
}

static void write_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct ban_engine *b = arg;

    (void) val;
    (void) len;
    if (st == STORE_ERROR)
	b->failed = 1;
    op_done(b);
}

static void read_rec(struct ban_engine *b, int i, const char *table, const char *key)
{
    memset(&b->rec[i], 0, sizeof(b->rec[i]));
    b->rec[i].b = b;
    b->left++;
    store_get(b->s, table, key, strlen(key), rec_cb, &b->rec[i]);
}

/* start_job - the next job's keys and reads */
static void start_job(struct ban_engine *b)
{
    b->cur = b->q[b->head];
    b->head = (b->head + 1) % BAN_QUEUE_MAX;
    b->n--;
    b->failed = 0;
    memset(b->rec, 0, sizeof(b->rec));
    ban_net_text(&b->cur.net, b->net_key);
    b->has_wide = ban_wide(&b->conf, &b->cur.net, &b->wide);
    if (b->has_wide)
	ban_net_text(&b->wide, b->wide_key);
    b->phase = PH_READ;
    if (b->cur.type == JOB_MANUAL)
	return;				/* nothing to read */
    /* the network first: its records share a Redis hash tag (redis_impl.h) */
    snprintf(b->hit_key, sizeof(b->hit_key), "%s|%s", b->net_key,
	     b->conf.own[b->cur.kind] ? ban_event_name(b->cur.kind) : "*");
    b->left++;				/* until every read is issued */
    store_read_begin(b->s);
    read_rec(b, R_BAN, "bans", b->net_key);
    if (b->has_wide)
	read_rec(b, R_WIDE, "bans", b->wide_key);
    b->shared = store_has_counter(b->s);
    if (!b->shared) {
	read_rec(b, R_HITS, "banhits", b->hit_key);
	if (b->has_wide)
	    read_rec(b, R_PFX, "banprefix", b->wide_key);
    }
    read_rec(b, R_OFF, "offenders", b->net_key);
    store_read_end(b->s);
    b->left--;
}

/* ban_ttl - a record's time to live from its expiry: at least 1 s, so
 * that a backend with TTLs (Redis) never keeps it for good */
long    ban_ttl(int64_t expires, int64_t now)
{
    int64_t t = expires - now;

    return t < 1 ? 1 : t > STORE_FIELD_MAX ? (long) STORE_FIELD_MAX : (long) t;
}

/* count_rec - a counter counted on the store's server, its record read back */
static void count_rec(struct ban_engine *b, int i, const char *table, const char *key,
		              long window)
{
    memset(&b->rec[i], 0, sizeof(b->rec[i]));
    b->rec[i].b = b;
    b->left++;
    store_counter_hit(b->s, table, key, strlen(key), b->cur.now, window, 1, rec_cb, &b->rec[i]);
}

/* put - a record that dies at its expiry (its first field) */
static void put(struct ban_engine *b, const char *table, const char *key,
		        const unsigned char *val, size_t len, int64_t expires)
{
    b->left++;
    store_put_ttl(b->s, table, key, strlen(key), val, len, ban_ttl(expires, time(NULL)),
		  write_cb, b);
}

static void del(struct ban_engine *b, const char *table, const char *key)
{
    b->left++;
    store_del(b->s, table, key, strlen(key), write_cb, b);
}

/* found - a read that found a record that decodes */
static int found(const struct ban_rec *r)
{
    return r->done && r->st == STORE_OK;
}

/* decide - every read is in: decide and write */
static void decide(struct ban_engine *b)
{
    struct ban_reads in;
    struct ban_decision *d = &b->d;
    enum ban_phase was = b->phase;

    b->phase = PH_WRITE;
    b->left++;				/* until every write is issued */
    if (b->cur.type == JOB_MANUAL) {
	if (b->cur.seconds > 0) {
	    memset(d, 0, sizeof(*d));
	    d->verdict = BAN_V_BAN;
	    d->ban.since = b->cur.now;
	    d->ban.expires = b->cur.now + b->cur.seconds;
	    d->ban.level = 1;
	    d->ban.reason = BAN_REASON_MANUAL;
	    put(b, "bans", b->net_key, b->out[0], ban_record_encode(&d->ban, b->out[0]),
		d->ban.expires);
	} else {
	    del(b, "bans", b->net_key);
	}
	b->left--;
	return;
    }
    for (int i = 0; i < R_COUNT; i++) {
	if (b->rec[i].done && b->rec[i].st == STORE_ERROR) {
	    if (b->st.errors++ % 100 == 0)
		msg_warn("ban: database read failed: event for %s dropped", b->net_key);
	    b->failed = -1;
	    b->left--;
	    return;
	}
    }
    memset(&in, 0, sizeof(in));
    in.have_ban = found(&b->rec[R_BAN])
	&& ban_record_decode(b->rec[R_BAN].val, b->rec[R_BAN].len, &in.ban) == 0;
    in.have_wide = found(&b->rec[R_WIDE])
	&& ban_record_decode(b->rec[R_WIDE].val, b->rec[R_WIDE].len, &in.wide) == 0;
    in.have_hits = found(&b->rec[R_HITS])
	&& ban_counter_decode(b->rec[R_HITS].val, b->rec[R_HITS].len, &in.hits) == 0;
    in.have_off = found(&b->rec[R_OFF])
	&& ban_offender_decode(b->rec[R_OFF].val, b->rec[R_OFF].len, &in.off) == 0;
    in.have_pfx = found(&b->rec[R_PFX])
	&& ban_counter_decode(b->rec[R_PFX].val, b->rec[R_PFX].len, &in.pfx) == 0;
    in.wide_valid = b->has_wide;

    /*
     * A shared store (Redis) counts on its server, so that hosts counting
     * one client lose nothing to each other: the event's hits once the
     * client is known not to be banned, then, if they ban it, the wider
     * prefix's; each counter is written there, never here.
     */
    if (b->shared) {
	const struct ban_class *cl = &b->conf.cls[b->cur.kind];
	int     banned = (in.have_ban && ban_active(&in.ban, b->cur.now))
	    || (in.have_wide && ban_active(&in.wide, b->cur.now));

	in.hits_counted = was >= PH_COUNT;
	in.pfx_counted = was >= PH_COUNT_PFX;
	if (was == PH_READ && !banned) {
	    b->phase = PH_COUNT;
	    count_rec(b, R_HITS, "banhits", b->hit_key, cl->findtime);
	    b->left--;
	    return;
	}
	if (was == PH_COUNT && b->has_wide && in.have_hits
	    && ban_counter_peek(&in.hits, b->cur.now, cl->findtime) >= cl->maxretry) {
	    b->phase = PH_COUNT_PFX;
	    count_rec(b, R_PFX, "banprefix", b->wide_key, b->conf.escalate_window);
	    b->left--;
	    return;
	}
	if ((was >= PH_COUNT && !in.have_hits) || (was == PH_COUNT_PFX && !in.have_pfx)) {
	    if (b->st.errors++ % 100 == 0)
		msg_warn("ban: database count failed: event for %s dropped", b->net_key);
	    b->failed = -1;
	    b->left--;
	    return;
	}
    }
    ban_decide(&b->conf, b->cur.now, b->cur.kind, &in, d);
    switch (d->verdict) {
    case BAN_V_ALREADY:
	b->st.already++;
	break;
    case BAN_V_COUNTED:
	if (b->shared)
	    break;			/* written by the count */
	put(b, "banhits", b->hit_key, b->out[0], ban_counter_encode(&d->hits, b->out[0]),
	    d->hits.expires);
	break;
    case BAN_V_BAN:
	put(b, "bans", b->net_key, b->out[0], ban_record_encode(&d->ban, b->out[0]),
	    d->ban.expires);
	put(b, "offenders", b->net_key, b->out[1], ban_offender_encode(&d->off, b->out[1]),
	    d->off.expires);
	del(b, "banhits", b->hit_key);
	if (b->has_wide) {
	    if (!b->shared)		/* else written by the count */
		put(b, "banprefix", b->wide_key, b->out[2],
		    ban_counter_encode(&d->pfx, b->out[2]), d->pfx.expires);
	    if (d->escalate)
		put(b, "bans", b->wide_key, b->out[3], ban_record_encode(&d->wide, b->out[3]),
		    d->wide.expires);
	}
	break;
    }
    b->left--;
}

/* count_ban - mxshield_bans_total */
static void count_ban(int64_t reason)
{
    const char *label[1] = {ban_reason_name(reason)};

    stat_add_l(STAT_BANS, 1, label);
}

/* finish - the job's writes are done: log, firewall, tell the caller */
static void finish(struct ban_engine *b)
{
    const struct ban_decision *d = &b->d;
    int     ok = b->failed == 0;
    char    extra[128];

    b->phase = PH_IDLE;
    if (b->failed > 0 && b->st.errors++ % 100 == 0)
	msg_warn("ban: database write failed for %s", b->net_key);
    if (b->cur.type == JOB_MANUAL) {
	if (ok && b->cur.seconds > 0) {
	    ban_cache_put(b->net_key, &d->ban);
	    count_ban(d->ban.reason);
	    ban_log_ban(b->net_key, &d->ban, 0, NULL);
	    if (b->nft)
		ban_nft_add(b->nft, &b->cur.net, b->cur.seconds);
	} else if (ok) {
	    ban_cache_del(b->net_key);
	    msg_info("unban: client=%s, reason=manual", b->net_key);
	    if (b->nft)
		ban_nft_del(b->nft, &b->cur.net);
	}
	if (b->cur.done)
	    b->cur.done(b->cur.arg, ok ? 0 : -1);
	return;
    }
    if (!ok || d->verdict != BAN_V_BAN)
	return;
    b->st.bans++;
    ban_cache_put(b->net_key, &d->ban);
    count_ban(d->ban.reason);
    snprintf(extra, sizeof(extra), "findtime=%lds", d->cls->findtime);
    ban_log_ban(b->net_key, &d->ban, d->count, extra);
    if (b->nft)
	ban_nft_add(b->nft, &b->cur.net, (long) (d->ban.expires - d->ban.since));
    if (d->escalate) {
	b->st.escalations++;
	ban_cache_put(b->wide_key, &d->wide);
	count_ban(d->wide.reason);
	snprintf(extra, sizeof(extra), "within=%s", b->net_key);
	ban_log_ban(b->wide_key, &d->wide, d->pfx_count, extra);
	if (b->nft)
	    ban_nft_add(b->nft, &b->wide, (long) (d->wide.expires - d->wide.since));
    }
}

/* ban_pump - run every step that can run now */
static void ban_pump(struct ban_engine *b)
{
    if (b->pumping)
	return;				/* a callback inside a step: the loop below goes on */
    b->pumping = 1;
    for (;;) {
	if (b->left > 0)
	    break;			/* waiting for the store */
	if (b->phase == PH_READ || b->phase == PH_COUNT || b->phase == PH_COUNT_PFX)
	    decide(b);
	else if (b->phase == PH_WRITE)
	    finish(b);
	else if (b->n > 0)
	    start_job(b);
	else
	    break;
    }
    b->pumping = 0;
    if (b->phase == PH_IDLE && b->n == 0 && b->nft)
	ban_nft_flush(b->nft);		/* one nft batch per burst */
}

/*
 * Expiry in small batches, as for greylisting: every record carries its
 * expiry; an expired ban is logged as an unban.
 */
struct expire_ctx {
    int64_t now;
    int     bans;
    long    deleted;
};

static int expire_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct expire_ctx *x = arg;
    int64_t f[4];
    enum store_kind kind = x->bans == 1 ? STORE_KIND_BAN
	: x->bans == 2 ? STORE_KIND_OFFENDER : STORE_KIND_COUNTER;
    size_t  n = kind == STORE_KIND_OFFENDER ? 3 : 4;

    if (store_value_decode(val, vlen, kind, f, n) != STORE_VALUE_OK)
	return x->deleted++, 1;		/* unreadable: as if expired */
    if (f[0] > x->now)
	return 0;
    if (x->bans == 1)
	stat_inc(STAT_UNBANS);
    if (x->bans == 1)
	msg_info("unban: client=%.*s, reason=expired, level=%lld", (int) klen,
		 (const char *) key, (long long) f[2]);
    x->deleted++;
    return 1;
}

long    ban_expire_step(struct store *s, int64_t now, struct ban_cursor *cur, long batch)
{
    static const char *const tables[5] = {"bans", "offenders", "banhits", "banprefix", "rates"};
    struct expire_ctx x;
    long    total = 0;

    if (store_expires(s))
	return 0;			/* the backend drops them (Redis TTLs): silently */
    for (int i = 0; i < 5; i++) {
	memset(&x, 0, sizeof(x));
	x.now = now;
	x.bans = i == 0 ? 1 : i == 1 ? 2 : 0;
	if (store_scan(s, tables[i], cur->key[i], sizeof(cur->key[i]), &cur->len[i], batch,
		       expire_fn, &x) < 0)
	    return -1;
	total += x.deleted;
    }
    return total;
}
