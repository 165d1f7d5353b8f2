/*
 * redis.c - the state store in Redis, shared by several MX hosts: the
 * daemon's command layer.
 *
 * SYNOPSIS
 *	o.backend = STORE_BACKEND_REDIS;
 *	o.redis.event_base = base;	(NULL: store/redis_sync.c, blocking)
 *	s = store_open(&o, err, errlen);
 *
 * DESCRIPTION
 *	The daemon's side: hiredis's asynchronous API on the daemon's
 *	libevent loop (store/redis_event.c), never a blocking call.  Every
 *	operation is one command (GET, SET with EX for a TTL, DEL, EVALSHA
 *	of the counter script: store/redis_counter.c) whose reply calls the
 *	store callback; the commands of one pass of the
 *	event loop go out in one write at its end (pipelined).  Keys and
 *	replies: redis_impl.h.  The connection they go over (servers,
 *	Sentinels, handshake, reconnection): store/redis_conn.c.
 *
 *	When Redis is down or slow: an operation while there is no
 *	connection fails at once (STORE_ERROR: the caller's error action,
 *	greylist_error_action); a command without a reply within
 *	redis_command_timeout drops the connection, and with it every
 *	command in flight fails.  A replica's or a moving master's refusal
 *	(READONLY, LOADING, ...) also drops it, so that the Sentinels are
 *	asked again; another refusal (NOPERM, OOM) fails the operation and
 *	is logged at most once a minute.
 *
 * DIAGNOSTICS
 *	At open, one blocking connection (the daemon serves no one yet)
 *	checks the configuration: refused credentials are an error (the
 *	daemon does not start); a server that cannot be reached is logged,
 *	and the daemon starts and keeps trying.
 */
#include <event2/event.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/stats.h"
#include "store/redis_async_impl.h"
#include "util/log.h"
#include "util/mem.h"

/* cmd_timeout_cb - the oldest command in flight is late: drop the
 * connection (its commands fail), or look again when it will be */
static void cmd_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;
    long long now = redis_now_ms();

    (void) fd;
    (void) what;
    if (s->head == NULL)
	return;
    if (s->head->deadline_ms > now) {
	redis_arm(s->cmd_ev, (long) (s->head->deadline_ms - now));
	return;
    }
    stat_inc(STAT_STORE_REDIS_TIMEOUTS);
    redis_conn_drop(s, "no reply within redis_command_timeout (%ld ms)", s->c.command_timeout_ms);
}

/* req_new - a request record, from the spare list when there is one */
static struct rreq *req_new(struct rstore *s, int op, store_cb cb, void *arg)
{
    struct rreq *q = s->free;

    if (q)
	s->free = q->next;
    else
	q = xmalloc(sizeof(*q));
    q->s = s;
    q->op = op;
    q->cb = cb;
    q->arg = arg;
    q->service = log_service_current();
    /* A command queued while the connection is being made is answered
     * only after the handshake: its time starts when the connection must
     * be up (connect_ev drops a connection that is not), so that a
     * connection slower than redis_command_timeout can still come up. */
    long long from = redis_now_ms();

    if (s->state != RS_UP && s->up_by_ms > from)
	from = s->up_by_ms;
    q->deadline_ms = from + s->c.command_timeout_ms;
    q->next = NULL;
    q->prev = s->tail;
    if (s->tail)
	s->tail->next = q;
    else
	s->head = q;
    s->tail = q;
    if (!evtimer_pending(s->cmd_ev, NULL))
	redis_arm(s->cmd_ev, s->c.command_timeout_ms);
    return q;
}

/* req_done - off the in-flight list, onto the spare list */
static void req_done(struct rstore *s, struct rreq *q)
{
    if (q->prev)
	q->prev->next = q->next;
    else
	s->head = q->next;
    if (q->next)
	q->next->prev = q->prev;
    else
	s->tail = q->prev;
    q->next = s->free;
    s->free = q;
}

/* reply_cb - a command's reply (NULL: the connection went) */
static void reply_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rreq *q = priv;
    struct rstore *s = q->s;
    const redisReply *r = reply;
    store_cb cb = q->cb;
    void   *arg = q->arg;
    int     op = q->op;
    const char *service = q->service;
    const void *val = NULL;
    size_t  len = 0;
    enum store_status st;

    req_done(s, q);
    if (op == 'g' || op == 'c')
	st = redis_reply_value(r, &val, &len);
    else if (op == 's')
	st = redis_reply_set(r);
    else
	st = redis_reply_del(r);
    if (st == STORE_ERROR) {
	stat_inc(STAT_STORE_REDIS_FAILED_OPS);
	if (op == 'c' && r && r->type == REDIS_REPLY_ERROR
	    && strncmp(r->str, "NOSCRIPT", 8) == 0 && s->script_ok && s->ac == ac
	    && ac->data == s) {
	    redis_conn_drop(s, "%s", r->str);	/* flushed: the handshake loads it again */
	} else if (redis_reply_elsewhere(r) && s->ac == ac && ac->data == s) {
	    redis_conn_drop(s, "%s", r->str);	/* READONLY, LOADING...: ask again */
	} else if (r && time(NULL) - s->last_refusal >= REDIS_LOG_INTERVAL) {
	    s->last_refusal = time(NULL);	/* NOPERM, OOM...: the same next time */
	    msg_warn("redis: %s:%d: command refused: %s", s->target.host, s->target.port,
		     r->type == REDIS_REPLY_ERROR ? r->str : "a reply of the wrong type");
	}
    }
    if (op == 'c' && st == STORE_NOTFOUND)
	st = STORE_ERROR;		/* the script always returns the record */
    if (cb) {
	const char *previous = log_service_enter(service);

	cb(arg, st, val, len);
	log_service_leave(previous);
    }
}

/* send - a command, or at once a failure while there is no connection */
static void send_cmd(struct rstore *s, int op, store_cb cb, void *arg, const char *fmt,...)
{
    va_list ap;
    int     rc = REDIS_ERR;

    if (s->ac && s->state >= RS_CONNECTING) {
	struct rreq *q = req_new(s, op, cb, arg);

	va_start(ap, fmt);
	rc = redisvAsyncCommand(s->ac, reply_cb, q, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK)
	    req_done(s, q);
    }
    if (rc != REDIS_OK) {
	stat_inc(STAT_STORE_REDIS_FAILED_OPS);
	if (cb)
	    cb(arg, STORE_ERROR, NULL, 0);
    }
}

static void ra_get(struct store *st, const char *table, const void *key, size_t klen,
		           store_cb cb, void *arg)
{
    struct rstore *s = (struct rstore *) st;

    redis_key(&s->key, s->c.prefix, table, key, klen);
    send_cmd(s, 'g', cb, arg, "GET %b", s->key.s, s->key.len);
}

/* marked_cb - the marker's write: on failure, write it again next time */
static void marked_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rstore *s = ac->data;

    if (s && redis_reply_set(reply) != STORE_OK)
	redis_used_forget(&s->marked, priv);
}

/* used_cb - EXISTS of a table's marker */
static void used_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rstore *s = ac->data;
    const redisReply *r = reply;
    int     i = (int) (intptr_t) priv;

    if (s && r && r->type == REDIS_REPLY_INTEGER)
	s->used_state[i] = r->integer > 0;
}

/* used_check - ask whether the tables asked about have had a record */
static void used_check(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;

    (void) fd;
    (void) what;
    if (s->ac == NULL || s->state != RS_UP)
	return;
    for (int i = 0; i < s->asked.n; i++)
	if (s->used_state[i] != 1)	/* once used, always read */
	    redisAsyncCommand(s->ac, used_cb, (void *) (intptr_t) i,
			      "EXISTS %s" REDIS_META_USED "%s", s->c.prefix, s->asked.name[i]);
}

/* mark_used - the table has a record now, for every host's store_empty() */
static void mark_used(struct rstore *s, const char *table)
{
    int     n;

    if (s->ac && s->state >= RS_CONNECTING && (n = redis_used_note(&s->marked, table)) != 0) {
	for (int i = 0; n > 0 && i < s->marked.n; i++)
	    if (strcmp(s->marked.name[i], table) == 0)
		table = s->marked.name[i];	/* lives as long as the store */
	redisAsyncCommand(s->ac, n > 0 ? marked_cb : NULL, (void *) table,
			  "SET %s" REDIS_META_USED "%s 1", s->c.prefix, table);
    }
}

static void ra_put_ttl(struct store *st, const char *table, const void *key, size_t klen,
		               const void *val, size_t vlen, long ttl, store_cb cb, void *arg)
{
    struct rstore *s = (struct rstore *) st;

    stat_inc(STAT_STORE_WRITES);
    mark_used(s, table);
    redis_key(&s->key, s->c.prefix, table, key, klen);
    if (ttl > 0)
	send_cmd(s, 's', cb, arg, "SET %b %b EX %ld", s->key.s, s->key.len, val, vlen, ttl);
    else
	send_cmd(s, 's', cb, arg, "SET %b %b", s->key.s, s->key.len, val, vlen);
}

/* ra_counter_hit - the counter script (store/redis_counter.c) */
static void ra_counter_hit(struct store *st, const char *table, const void *key, size_t klen,
			           int64_t now, long window, long n, store_cb cb, void *arg)
{
    struct rstore *s = (struct rstore *) st;

    stat_inc(STAT_STORE_WRITES);
    mark_used(s, table);
    redis_key(&s->key, s->c.prefix, table, key, klen);
    send_cmd(s, 'c', cb, arg, "EVALSHA %s 1 %b %lld %ld %ld", redis_counter_sha(), s->key.s,
	     s->key.len, (long long) now, window, n);
}

static void ra_put(struct store *st, const char *table, const void *key, size_t klen,
		           const void *val, size_t vlen, store_cb cb, void *arg)
{
    ra_put_ttl(st, table, key, klen, val, vlen, 0, cb, arg);
}

static void ra_del(struct store *st, const char *table, const void *key, size_t klen,
		           store_cb cb, void *arg)
{
    struct rstore *s = (struct rstore *) st;

    stat_inc(STAT_STORE_WRITES);
    redis_key(&s->key, s->c.prefix, table, key, klen);
    send_cmd(s, 'd', cb, arg, "DEL %b", s->key.s, s->key.len);
}

/* ra_scan - not on the event loop: SCAN is for the tools (records expire
 * by their TTLs, so the daemon never scans) */
static long ra_scan(struct store *st, const char *table, char *cursor, size_t cursor_size,
		            size_t *cursor_len, long max, store_scan_fn fn, void *arg)
{
    (void) st;
    (void) table;
    (void) cursor;
    (void) cursor_size;
    (void) max;
    (void) fn;
    (void) arg;
    *cursor_len = 0;
    return 0;
}

static int ra_noop(struct store *st)
{
    (void) st;
    return 0;
}

static void ra_read_end(struct store *st)
{
    (void) st;
}

/* ra_empty - the table never had a record, as of the last second's
 * check; 0 when unsure (not asked yet, or no room to remember) */
static int ra_empty(struct store *st, const char *table)
{
    struct rstore *s = (struct rstore *) st;

    for (int i = 0; i < s->asked.n; i++)
	if (strcmp(s->asked.name[i], table) == 0)
	    return s->used_state[i] == 0;
    if (redis_used_note(&s->asked, table) > 0) {
	s->used_state[s->asked.n - 1] = -1;
	used_check(-1, 0, s);
    }
    return 0;
}

static void ra_batch(struct store *st, int on)
{
    (void) st;
    (void) on;
}

static int ra_readonly(const struct store *st)
{
    (void) st;
    return 0;
}

static long ra_count(struct store *st, const char *table)
{
    (void) st;
    (void) table;
    return -1;
}


/* ra_close - every command in flight fails; the connections go */
static void ra_close(struct store *st)
{
    struct rstore *s = (struct rstore *) st;

    s->closing = 1;
    redis_conn_close(s);
    while (s->free) {
	struct rreq *q = s->free;

	s->free = q->next;
	free(q);
    }
    event_free(s->cmd_ev);
    event_free(s->used_ev);
    stat_set(STAT_STORE_REDIS_UP, 0);
    redis_conf_free(&s->c);
    buf_free(&s->key);
    free(s);
}

static const struct store_ops redis_ops = {
    "redis", ra_close, ra_get, ra_put, ra_del, ra_scan, ra_noop, ra_read_end, ra_empty,
    ra_batch, ra_noop, ra_readonly, ra_noop, ra_count,
};

static const struct store_ttl_ops ra_ttl_ops = {ra_put_ttl, ra_counter_hit};

/* store_redis_open - the daemon's store, or a tool's (no event base) */
struct store *store_redis_open(const struct store_opts *o, char *err, size_t errlen)
{
    struct rstore *s;
    redisContext *rc;
    int     auth_refused;
    char    why[512];

    if (o->redis.event_base == NULL || o->readonly)
	return store_redis_sync_open(o, err, errlen);
    s = xcalloc(1, sizeof(*s));
    s->base.ops = &redis_ops;
    s->base.ttl = &ra_ttl_ops;
    if (redis_conf_load(&s->c, &o->redis, err, errlen) < 0) {
	redis_conf_free(&s->c);
	free(s);
	return NULL;
    }

    /* one blocking check before serving: credentials, database, format */
    if ((rc = redis_sync_connect(&s->c, why, sizeof(why), &auth_refused,
				 &s->next_server)) == NULL
	|| redis_sync_version(rc, &s->c, 0, why, sizeof(why)) < 0) {
	if (auth_refused || rc) {
	    snprintf(err, errlen, "%s", why);
	    if (rc)
		redisFree(rc);
	    redis_conf_free(&s->c);
	    free(s);
	    return NULL;
	}
	msg_warn("%s; starting anyway, store operations fail until it answers", why);
	s->down_since = time(NULL);
	stat_set(STAT_STORE_REDIS_DOWN_SINCE, (int64_t) s->down_since);
    } else {
	redisFree(rc);
	s->was_up = 1;
    }
    s->ev = o->redis.event_base;
    buf_init(&s->key);
    s->cmd_ev = evtimer_new(s->ev, cmd_timeout_cb, s);
    s->used_ev = event_new(s->ev, -1, EV_PERSIST, used_check, s);
    if (s->cmd_ev == NULL || s->used_ev == NULL)
	msg_fatal("redis: cannot create timers");
    redis_arm(s->used_ev, 1000);
    redis_conn_open(s);
    return &s->base;
}
