/*
 * daemon_impl.h - the skeleton's insides, shared by daemon.c and reload.c.
 * Not a public API: handlers use daemon.h.
 */
#ifndef MX_DAEMON_DAEMON_IMPL_H
#define MX_DAEMON_DAEMON_IMPL_H

#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "ban/ban.h"
#include "daemon/daemon.h"
#include "net/listen.h"
#include "rules/policy.h"

struct worker;

struct daemon_handler {
    const struct daemon_handler_ops *ops;
    void   *ctx;
};

struct daemon_listener {
    struct daemon *d;
    size_t  handler;			/* index: the array may move */
    struct evconnlistener *l;
    struct listen_spec spec;
    struct listen_fd lf;
};

struct daemon_timer {
    struct daemon *d;
    struct event *ev;
    const char *label;
    const char *service;		/* log name in force when it was made */
    void    (*fn) (void *);
    void   *arg;
    long    millis;
};

struct daemon {
    struct event_base *base;
    const char *config_path;
    struct policy *pol;			/* current policy (one reference) */
    struct dns *dns;
    struct store *store;		/* opened when a policy needs it */
    struct daemon_handler *handlers;
    size_t  nhandlers;
    struct daemon_listener *listeners;
    size_t  nlisteners;
    int     stopping;
    int     closing;			/* handlers are being closed (exit) */
    /* start-up values of what a reload does not change */
    long    sync_interval;		/* store_sync_interval */
    /* timers and signals */
    struct daemon_timer *store_timer;	/* expiry step, periodic sync */
    struct daemon_timer *table_timer;	/* table change check */
    struct event *sig_ev[3];
    struct event *flush_ev;		/* held log lines */
    struct event *pass_ev;		/* a pass the store asked for */
    struct event *accept_resume;	/* accepting paused: out of descriptors */
    struct greylist_cursor gl_cursor;
    struct ban_cursor ban_cursor;	/* auto-ban and rate records' expiry */
    long    sync_ticks;
    /* slow work off the loop: reload compiles, table loads */
    struct worker *worker;
    int     reload_again;		/* SIGHUP while the worker was busy */
    time_t  accept_warned;
    unsigned long accept_pauses;
};

/* daemon.c */
int     daemon_store_attach(struct daemon *d, struct policy *pol, int fatal);

/* daemon_handlers_call - every handler's reload, drain or close (those it
 * has), each under its own log name (ops->name: mxshield/milter) */
enum daemon_call {
    DAEMON_RELOAD, DAEMON_DRAIN, DAEMON_CLOSE,
};
void    daemon_handlers_call(struct daemon *d, enum daemon_call which);
void    daemon_apply_reloadable(struct daemon *d);

/* reload.c */
void    daemon_reload_start(struct daemon *d);
void    daemon_table_check(void *arg);

#endif
