/*
 * redis.c - the state store in Redis, shared by several MX hosts.
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
 *	replies: redis_impl.h.
 *
 *	The connection: to the first of redis_servers that answers (with
 *	several, the one ROLE calls master), or to the master that the
 *	Sentinels name; then AUTH (ACL user and password), SELECT, and ROLE
 *	or PING, pipelined; it is up when the last of those is answered.
 *	Commands sent while it is being set up wait in hiredis's buffer
 *	behind the handshake.
 *
 *	When Redis is down or slow: an operation while there is no
 *	connection fails at once (STORE_ERROR: the caller's error action,
 *	greylist_error_action); a command without a reply within
 *	redis_command_timeout drops the connection, and with it every
 *	command in flight fails.  A replica's or a moving master's refusal
 *	(READONLY, LOADING, ...) also drops it, so that the Sentinels are
 *	asked again; another refusal (NOPERM, OOM) fails the operation and
 *	is logged at most once a minute.  Reconnection is retried after 100 ms, doubling to 2 s.
 *	The first failure is logged at once, then a summary at most once a
 *	minute, and the return once; the statistics (mxshield status) show
 *	mxshield_store_redis_up and when it went down.
 *
 * DIAGNOSTICS
 *	At open, one blocking connection (the daemon serves no one yet)
 *	checks the configuration: refused credentials are an error (the
 *	daemon does not start); a server that cannot be reached is logged,
 *	and the daemon starts and keeps trying.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/stats.h"
#include "store/redis_impl.h"
#include "util/log.h"
#include "util/mem.h"

#define RETRY_MIN_MS	100
#define RETRY_MAX_MS	2000
#define LOG_INTERVAL	60		/* seconds between reports of one outage */

enum rstate {
    RS_DOWN,				/* waiting to retry */
    RS_SENTINEL,			/* asking a Sentinel for the master */
    RS_CONNECTING,			/* connection and handshake in flight */
    RS_UP,				/* handshake answered */
};

struct rstore;

/* one command in flight: its callback and deadline */
struct rreq {
    struct rstore *s;
    store_cb cb;
    void   *arg;
    int     op;				/* 'g'et, 's'et, 'd'el, 'c'ounter */
    long long deadline_ms;
    struct rreq *prev, *next;		/* in flight, oldest first; or free */
};

struct rstore {
    struct store base;
    struct redis_conf c;
    struct event_base *ev;
    enum rstate state;
    int     closing;
    redisAsyncContext *ac;		/* the master */
    redisAsyncContext *sc;		/* a Sentinel being asked */
    struct redis_addr target;		/* where ac goes */
    size_t  next_server, next_sentinel;
    struct event *retry_ev, *connect_ev, *cmd_ev;
    long long up_by_ms;			/* connect_ev's deadline */
    long    backoff_ms;
    int     was_up;			/* reported up since the last outage */
    time_t  down_since, last_report;
    time_t  last_refusal;		/* a command refused was last logged */
    long    unreported;			/* failures since the last report */
    char    last_error[256];
    struct rreq *head, *tail, *free;	/* in flight; spare */
    struct buf key;
    struct redis_used marked;		/* tables this process marked used */
    struct redis_used asked;		/* tables store_empty() was asked about */
    int     used_state[REDIS_USED_MAX];	/* of asked: -1 unknown, 0 never used, 1 used */
    struct event *used_ev;		/* asks again every second */
    int     script_ok;			/* the counter script loaded on ac */
    time_t  last_script_warn;
};

static void rc_start(struct rstore *s);

/* now_ms - a monotonic clock in milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* arm - a timer in ms from now */
static void arm(struct event *ev, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(ev, &tv);
}

/* rc_failed - one failure: reported at once after being up, then summed
 * up once per LOG_INTERVAL */
static void rc_failed(struct rstore *s, const char *fmt,...)
{
    va_list ap;
    time_t  now = time(NULL);

    va_start(ap, fmt);
    vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
    va_end(ap);
    stat_inc(STAT_STORE_REDIS_FAILURES);
    stat_set(STAT_STORE_REDIS_UP, 0);
    if (s->closing)
	return;
    if (s->was_up || s->down_since == 0) {
	s->was_up = 0;
	s->down_since = now;
	s->last_report = now;
	s->unreported = 0;
	stat_set(STAT_STORE_REDIS_DOWN_SINCE, (int64_t) now);
	msg_warn("redis: %s; store operations fail until it is back (retrying)", s->last_error);
    } else if (now - s->last_report >= LOG_INTERVAL) {
	msg_warn("redis: still down after %ld s, %ld more failures, the last: %s",
		 (long) (now - s->down_since), s->unreported + 1, s->last_error);
	s->last_report = now;
	s->unreported = 0;
    } else {
	s->unreported++;
    }
}

/* rc_retry - try again after the backoff, which doubles */
static void rc_retry(struct rstore *s)
{
    s->state = RS_DOWN;
    if (s->closing)
	return;
    evtimer_del(s->connect_ev);
    arm(s->retry_ev, s->backoff_ms);
    s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
}

/* rc_drop - give up the master connection: every command in flight fails
 * (hiredis calls their callbacks without a reply); retry later */
static void rc_drop(struct rstore *s, const char *fmt,...)
{
    redisAsyncContext *ac = s->ac;
    char    why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    s->ac = NULL;
    s->marked.n = 0;			/* markers not acknowledged: again */
    rc_failed(s, "%s:%d: %s", s->target.host, s->target.port, why);
    rc_retry(s);
    if (ac) {
	ac->data = NULL;
	redisAsyncFree(ac);		/* deferred if inside its callback */
    }
}

/* rc_lost - hiredis closed the connection, or could not make it */
static void rc_lost(const redisAsyncContext *ac, const char *what)
{
    struct rstore *s = ac->data;

    if (s == NULL || s->ac != ac)
	return;				/* one we dropped ourselves */
    s->ac = NULL;
    s->marked.n = 0;
    rc_failed(s, "%s:%d: %s: %s", s->target.host, s->target.port, what,
	      ac->errstr[0] ? ac->errstr : "closed by the server");
    rc_retry(s);
}

static void rc_connect_cb(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK)
	rc_lost(ac, "cannot connect");
}

static void rc_disconnect_cb(const redisAsyncContext *ac, int status)
{
    (void) status;
    rc_lost(ac, "connection lost");
}

/* rc_up - the handshake is answered: commands flow */
static void rc_up(struct rstore *s)
{
    s->state = RS_UP;
    s->backoff_ms = RETRY_MIN_MS;
    evtimer_del(s->connect_ev);
    stat_set(STAT_STORE_REDIS_UP, 1);
    stat_set(STAT_STORE_REDIS_DOWN_SINCE, 0);
    if (s->down_since)
	msg_info("redis: connected to %s:%d after %ld s down (%ld failures not logged)",
		 s->target.host, s->target.port, (long) (time(NULL) - s->down_since),
		 s->unreported);
    s->was_up = 1;
    s->down_since = 0;
}

/* rc_handshake_cb - AUTH, SELECT, then ROLE or PING: the last says up */
static void rc_handshake_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rstore *s = ac->data;
    const redisReply *r = reply;
    const char *step = priv;

    if (s == NULL || s->ac != ac || r == NULL)
	return;				/* gone: rc_lost or rc_drop said so */
    if (r->type == REDIS_REPLY_ERROR && strcmp(step, "SCRIPT") == 0) {
	/* counters fail (check_rate's error action); the rest works */
	msg_warn("redis: %s:%d: cannot load the counter script: %s", s->target.host,
		 s->target.port, r->str);
	return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	rc_drop(s, "%s refused: %s", step, r->str);
	return;
    }
    if (strcmp(step, "SCRIPT") == 0) {
	s->script_ok = 1;
	return;
    }
    if (strcmp(step, "ROLE") == 0 && redis_reply_role_master(r) != 1) {
	rc_drop(s, "not a master (ROLE)");
	return;
    }
    if (strcmp(step, "ROLE") == 0 || strcmp(step, "PING") == 0)
	rc_up(s);
}

/* rc_connect - a connection to s->target, the handshake queued behind it */
static void rc_connect(struct rstore *s)
{
    redisAsyncContext *ac = redisAsyncConnect(s->target.host, s->target.port);
    int     want_master = s->c.nsentinels > 0 || s->c.nservers > 1;

    if (ac == NULL || ac->err) {
	rc_failed(s, "%s:%d: cannot connect: %s", s->target.host, s->target.port,
		  ac ? ac->errstr : "out of memory");
	if (ac)
	    redisAsyncFree(ac);
	rc_retry(s);
	return;
    }
    s->ac = ac;
    ac->data = s;
    redis_reader_bound(ac->c.reader);
    s->state = RS_CONNECTING;
    redis_event_attach(ac, s->ev);
    redisAsyncSetConnectCallback(ac, rc_connect_cb);
    redisAsyncSetDisconnectCallback(ac, rc_disconnect_cb);
    if (*s->c.password) {
	if (*s->c.user)
	    redisAsyncCommand(ac, rc_handshake_cb, "AUTH", "AUTH %s %s", s->c.user, s->c.password);
	else
	    redisAsyncCommand(ac, rc_handshake_cb, "AUTH", "AUTH %s", s->c.password);
    }
    if (s->c.database)
	redisAsyncCommand(ac, rc_handshake_cb, "SELECT", "SELECT %ld", s->c.database);
    s->script_ok = 0;
    redisAsyncCommand(ac, rc_handshake_cb, "SCRIPT", "SCRIPT LOAD %s", redis_counter_script);
    if (want_master)
	redisAsyncCommand(ac, rc_handshake_cb, "ROLE", "ROLE");
    else
	redisAsyncCommand(ac, rc_handshake_cb, "PING", "PING");
}

/* sentinel_done - the Sentinel's connection is no longer needed */
static void sentinel_done(struct rstore *s)
{
    redisAsyncContext *sc = s->sc;

    s->sc = NULL;
    if (sc) {
	sc->data = NULL;
	redisAsyncFree(sc);
    }
}

/* numeric_host - an IPv4 or IPv6 address, not a name */
static int numeric_host(const char *host)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void sentinel_reply_cb(redisAsyncContext *sc, void *reply, void *priv)
{
    struct rstore *s = sc->data;
    const struct redis_addr *a = priv;

    if (s == NULL || s->sc != sc)
	return;
    if (redis_reply_master_addr(reply, s->target.host, &s->target.port) < 0) {
	const redisReply *r = reply;

	rc_failed(s, "sentinel %s:%d: no address for master \"%s\"%s%s", a->host, a->port,
		  s->c.master_name, r && r->type == REDIS_REPLY_ERROR ? ": " : "",
		  r && r->type == REDIS_REPLY_ERROR ? r->str : "");
	sentinel_done(s);
	rc_retry(s);
	return;
    }
    sentinel_done(s);
    if (!numeric_host(s->target.host)) {
	/* hiredis would resolve it, blocking the loop */
	rc_failed(s, "sentinel %s:%d: master \"%s\" announced as a host name (%s), not an "
		  "address", a->host, a->port, s->c.master_name, s->target.host);
	rc_retry(s);
	return;
    }
    rc_connect(s);
}

static void sentinel_lost(const redisAsyncContext *sc, const char *what)
{
    struct rstore *s = sc->data;

    if (s == NULL || s->sc != sc)
	return;
    s->sc = NULL;
    rc_failed(s, "sentinel: %s: %s", what, sc->errstr[0] ? sc->errstr : "closed");
    rc_retry(s);
}

static void sentinel_connect_cb(const redisAsyncContext *sc, int status)
{
    if (status != REDIS_OK)
	sentinel_lost(sc, "cannot connect");
}

static void sentinel_disconnect_cb(const redisAsyncContext *sc, int status)
{
    (void) status;
    sentinel_lost(sc, "connection lost");
}

/* rc_start - (re)connect: ask the next Sentinel, or try the next server */
static void rc_start(struct rstore *s)
{
    s->up_by_ms = now_ms() + s->c.connect_timeout_ms;
    arm(s->connect_ev, s->c.connect_timeout_ms);
    if (s->c.nsentinels == 0) {
	s->target = s->c.servers[s->next_server++ % s->c.nservers];
	rc_connect(s);
	return;
    }
    const struct redis_addr *a = &s->c.sentinels[s->next_sentinel++ % s->c.nsentinels];
    redisAsyncContext *sc = redisAsyncConnect(a->host, a->port);

    if (sc == NULL || sc->err) {
	rc_failed(s, "sentinel %s:%d: cannot connect: %s", a->host, a->port,
		  sc ? sc->errstr : "out of memory");
	if (sc)
	    redisAsyncFree(sc);
	rc_retry(s);
	return;
    }
    s->sc = sc;
    sc->data = s;
    redis_reader_bound(sc->c.reader);
    s->state = RS_SENTINEL;
    redis_event_attach(sc, s->ev);
    redisAsyncSetConnectCallback(sc, sentinel_connect_cb);
    redisAsyncSetDisconnectCallback(sc, sentinel_disconnect_cb);
    redisAsyncCommand(sc, sentinel_reply_cb, (void *) a, "SENTINEL get-master-addr-by-name %s",
		      s->c.master_name);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    rc_start(arg);
}

/* connect_timeout_cb - not up within redis_connect_timeout */
static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;

    (void) fd;
    (void) what;
    if (s->state == RS_UP || s->state == RS_DOWN)
	return;
    if (s->sc) {
	sentinel_done(s);
	rc_failed(s, "sentinel: no answer within redis_connect_timeout");
	rc_retry(s);
    } else {
	rc_drop(s, "not ready within redis_connect_timeout");
    }
}

/* cmd_timeout_cb - the oldest command in flight is late: drop the
 * connection (its commands fail), or look again when it will be */
static void cmd_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;
    long long now = now_ms();

    (void) fd;
    (void) what;
    if (s->head == NULL)
	return;
    if (s->head->deadline_ms > now) {
	arm(s->cmd_ev, (long) (s->head->deadline_ms - now));
	return;
    }
    stat_inc(STAT_STORE_REDIS_TIMEOUTS);
    rc_drop(s, "no reply within redis_command_timeout (%ld ms)", s->c.command_timeout_ms);
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
    /* A command queued while the connection is being made is answered
     * only after the handshake: its time starts when the connection must
     * be up (connect_ev drops a connection that is not), so that a
     * connection slower than redis_command_timeout can still come up. */
    long long from = now_ms();

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
	arm(s->cmd_ev, s->c.command_timeout_ms);
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
	    rc_drop(s, "%s", r->str);	/* flushed: the handshake loads it again */
	} else if (redis_reply_elsewhere(r) && s->ac == ac && ac->data == s) {
	    rc_drop(s, "%s", r->str);	/* READONLY, LOADING...: ask again */
	} else if (r && time(NULL) - s->last_refusal >= LOG_INTERVAL) {
	    s->last_refusal = time(NULL);	/* NOPERM, OOM...: the same next time */
	    msg_warn("redis: %s:%d: command refused: %s", s->target.host, s->target.port,
		     r->type == REDIS_REPLY_ERROR ? r->str : "a reply of the wrong type");
	}
    }
    if (op == 'c' && st == STORE_NOTFOUND)
	st = STORE_ERROR;		/* the script always returns the record */
    if (cb)
	cb(arg, st, val, len);
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
    sentinel_done(s);
    if (s->ac) {
	redisAsyncContext *ac = s->ac;

	s->ac = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
    }
    while (s->free) {
	struct rreq *q = s->free;

	s->free = q->next;
	free(q);
    }
    event_free(s->retry_ev);
    event_free(s->connect_ev);
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
    s->backoff_ms = RETRY_MIN_MS;
    s->retry_ev = evtimer_new(s->ev, retry_cb, s);
    s->connect_ev = evtimer_new(s->ev, connect_timeout_cb, s);
    s->cmd_ev = evtimer_new(s->ev, cmd_timeout_cb, s);
    s->used_ev = event_new(s->ev, -1, EV_PERSIST, used_check, s);
    if (s->retry_ev == NULL || s->connect_ev == NULL || s->cmd_ev == NULL || s->used_ev == NULL)
	msg_fatal("redis: cannot create timers");
    arm(s->used_ev, 1000);
    rc_start(s);
    return &s->base;
}
