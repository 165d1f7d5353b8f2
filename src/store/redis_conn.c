/*
 * redis_conn.c - the daemon's connection to Redis: which server to talk
 * to, the handshake, and what happens while Redis is away.  The commands
 * that flow over it are store/redis.c's.
 *
 * SYNOPSIS
 *	redis_conn_open(s);		(from store_redis_open)
 *	redis_conn_drop(s, "why %s", ...);
 *	redis_conn_close(s);
 *
 * DESCRIPTION
 *	The connection: to the first of redis_servers that answers (with
 *	several, the one ROLE calls master), or to the master that the
 *	Sentinels name; then AUTH (ACL user and password), SELECT, SCRIPT
 *	LOAD of the counter script, and ROLE or PING, pipelined; it is up
 *	when the last of those is answered.  Commands sent while it is being
 *	set up wait in hiredis's buffer behind the handshake.
 *
 *	A connection that is lost, refused or not up within
 *	redis_connect_timeout is retried after 100 ms, doubling to 2 s.
 *	The first failure is logged at once, then a summary at most once a
 *	minute, and the return once; the statistics (mxshield status) show
 *	mxshield_store_redis_up and when it went down.
 *
 * DIAGNOSTICS
 *	A Sentinel that names no master, or names it by a host name (which
 *	hiredis would resolve, blocking the loop), is a failure like any
 *	other: logged, and asked again after the backoff.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stats/stats.h"
#include "store/redis_async_impl.h"
#include "util/log.h"

#define RETRY_MIN_MS	100
#define RETRY_MAX_MS	2000

/* rc_failed - one failure: reported at once after being up, then summed
 * up once per REDIS_LOG_INTERVAL */
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
    } else if (now - s->last_report >= REDIS_LOG_INTERVAL) {
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
    redis_arm(s->retry_ev, s->backoff_ms);
    s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
}

/* redis_conn_drop - give up the master connection: every command in flight
 * fails (hiredis calls their callbacks without a reply); retry later */
void    redis_conn_drop(struct rstore *s, const char *fmt,...)
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
	return;				/* gone: rc_lost or redis_conn_drop said so */
    if (r->type == REDIS_REPLY_ERROR && strcmp(step, "SCRIPT") == 0) {
	/* counters fail (check_rate's error action); the rest works */
	msg_warn("redis: %s:%d: cannot load the counter script: %s", s->target.host,
		 s->target.port, r->str);
	return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	redis_conn_drop(s, "%s refused: %s", step, r->str);
	return;
    }
    if (strcmp(step, "SCRIPT") == 0) {
	s->script_ok = 1;
	return;
    }
    if (strcmp(step, "ROLE") == 0 && redis_reply_role_master(r) != 1) {
	redis_conn_drop(s, "not a master (ROLE)");
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
    s->up_by_ms = redis_now_ms() + s->c.connect_timeout_ms;
    redis_arm(s->connect_ev, s->c.connect_timeout_ms);
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
	redis_conn_drop(s, "not ready within redis_connect_timeout");
    }
}

/* redis_conn_open - the connection's timers, and the first attempt */
void    redis_conn_open(struct rstore *s)
{
    s->backoff_ms = RETRY_MIN_MS;
    s->retry_ev = evtimer_new(s->ev, retry_cb, s);
    s->connect_ev = evtimer_new(s->ev, connect_timeout_cb, s);
    if (s->retry_ev == NULL || s->connect_ev == NULL)
	msg_fatal("redis: cannot create timers");
    rc_start(s);
}

/* redis_conn_close - the connections and their timers go */
void    redis_conn_close(struct rstore *s)
{
    sentinel_done(s);
    if (s->ac) {
	redisAsyncContext *ac = s->ac;

	s->ac = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
    }
    event_free(s->retry_ev);
    event_free(s->connect_ev);
}
