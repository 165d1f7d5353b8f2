/*
 * server_ctx.h - state shared by server.c and conn.c.  Not a public API.
 */
#ifndef MX_POLICY_SERVER_CTX_H
#define MX_POLICY_SERVER_CTX_H

#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "rules/policy.h"

struct conn;

struct server_ctx {
    struct event_base *base;
    struct policy *pol;			/* current policy (one reference) */
    struct dns *dns;			/* the resolver, kept across reloads */
    struct store *store;		/* state database, opened when needed */
    struct greylist_cursor gl_cursor;	/* where expiry goes on */
    long    sync_ticks;
    const char *config_path;
    struct evconnlistener **listeners;
    char  **listener_names;
    size_t  nlisteners;
    struct conn *conns;			/* doubly linked list of clients */
    size_t  nconns;
    int     stopping;
    unsigned long requests;		/* answered since start */
    unsigned long limit_drops;		/* connections closed for a limit */
    long    conn_limit;			/* policy_connection_limit at start */
    struct event *accept_resume;	/* accepting paused: out of descriptors */
    time_t  accept_warned;		/* last warning about it */
    unsigned long accept_pauses;	/* since that warning */
    long    idle_secs;			/* policy_idle_timeout of idle_tv */
    const struct timeval *idle_tv;	/* a common timeout: O(1) re-arming */
};

void    server_conn_gone(struct server_ctx *s, struct conn *c);
/* server_idle_timeout - policy_idle_timeout as a common timeout */
const struct timeval *server_idle_timeout(struct server_ctx *s);

#endif
