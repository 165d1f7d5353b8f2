/*
 * redis_async_impl.h - what the daemon's Redis store shares between its
 * command layer (store/redis.c: the store operations, the commands in
 * flight, the table markers) and its connection (store/redis_conn.c: the
 * Sentinels, the handshake, reconnection, outage reports).
 *
 * One struct rstore per store; both halves run on the daemon's event loop
 * only, so nothing in it is locked.
 */
#ifndef MX_STORE_REDIS_ASYNC_IMPL_H
#define MX_STORE_REDIS_ASYNC_IMPL_H

#include <event2/event.h>
#include <hiredis/async.h>
#include <time.h>

#include "store/redis_impl.h"

#define REDIS_LOG_INTERVAL	60	/* seconds between reports of one outage */

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
    const char *service;		/* the caller's log name */
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

/* redis_now_ms - a monotonic clock in milliseconds */
static inline long long redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* redis_arm - a timer in ms from now */
static inline void redis_arm(struct event *ev, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(ev, &tv);
}

/* redis_conn_open - the connection's timers, and the first attempt
 * (store/redis_conn.c); s->c, s->ev and the check at open already done */
void    redis_conn_open(struct rstore *s);

/* redis_conn_drop - give up the master connection: every command in
 * flight fails; retry later.  fmt says why (logged with the server) */
void    redis_conn_drop(struct rstore *s, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));

/* redis_conn_close - the connections and their timers go (s->closing is
 * set: nothing more is logged or retried) */
void    redis_conn_close(struct rstore *s);

#endif
