/*
 * daemon.h - the one daemon skeleton every service plugs into.
 *
 * The model is Postfix's event_server_main(): the skeleton owns the event
 * loop, the listeners, the signals (SIGHUP reloads, SIGTERM/SIGINT stop),
 * the privilege drop, the timers and the shared resources (configuration
 * and compiled policy, resolver, state store, tables).  A service is only
 * a handler:
 *
 *	struct daemon *d = daemon_new(config_path, pol);	as root
 *	if (daemon_listen(d, "inet:127.0.0.1:10023", NULL, &policy_ops, ctx, err) < 0)
 *	    msg_fatal("%s", err->s);
 *	daemon_source(d, &follower_ops, ctx);		no socket of its own
 *	return daemon_run(d);				drop, serve, stop
 *
 * daemon_listen() binds at once (still root) and hands every accepted
 * connection, non-blocking, to ops->accept; unix sockets are created with
 * lu, or with unix_socket_mode/owner/group when lu is NULL.  A bad or busy
 * listener is an error for the caller to judge (fatal for the policy
 * service, a warning for the control socket); nothing stays half-bound.
 * Every handler registers before daemon_run().
 * A source (the coming mail-log follower) registers the same ops without a
 * socket and arms its own events on daemon_base() or a daemon timer.
 *
 * Handler contract (struct daemon_handler_ops):
 *   accept(ctx, fd, peer)  a new connection; the handler owns fd (it may
 *                          refuse it: close and return).  NULL for a source.
 *   reload(ctx)            a new configuration is in force (optional): the
 *                          handler reads reloadable parameters again.
 *   drain(ctx)             stop: take no new work, finish what is in
 *                          flight, call daemon_drained() as work ends.
 *   busy(ctx)              units of work still open; the daemon exits when
 *                          every handler says 0, or after stop_grace_time.
 *   close(ctx)             exit: drop everything at once and free ctx.  It
 *                          runs before the store, policy and resolver go.
 *
 * Log names: what the loop runs for a handler logs as mxshield/NAME, NAME
 * its ops->name: the skeleton enters it (log_service_enter) for accept,
 * reload, drain and close, and what the handler starts from there keeps
 * it: its streams, lookup sets' wakeups, pool jobs, store replies and
 * daemon timers.  Events a handler makes itself name it in their callback.
 *
 * Resources: daemon_policy() is the current compiled policy (requests in
 * flight keep a reference to the one they started with), daemon_config()
 * its configuration; parameters that need a restart keep their start-up
 * values across reloads.  A reload compiles in a worker thread while the
 * loop answers with the running policy, and swaps the new one in on the
 * loop; a table whose file changed is likewise read by the worker and put
 * in force by the loop.  policy_compile() and a table type's load() must
 * therefore touch nothing but what they are given and what they allocate
 * (their log lines are deferred to the loop by log_defer()).  daemon_dns() and daemon_store() stay the same
 * for the life of the process.
 *
 * Loop stalls: the skeleton adds up the time each pass of the loop spends
 * in labelled work; past event_loop_stall_limit it logs a warning naming
 * the slowest label.  Handlers label their callbacks with
 * daemon_work_begin()/daemon_work_end() (cheap: two clock reads).
 *
 * DIAGNOSTICS
 *	Start-up problems are fatal with the system error; after start-up
 *	everything is a warning and the service goes on.
 */
#ifndef MX_DAEMON_DAEMON_H
#define MX_DAEMON_DAEMON_H

#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "rules/policy.h"

struct daemon;
struct dns;
struct store;

struct daemon_handler_ops {
    const char *name;			/* "policy", "control": for log lines */
    void    (*accept) (void *ctx, int fd, const char *peer);
    void    (*reload) (void *ctx);
    void    (*drain) (void *ctx);
    size_t  (*busy) (void *ctx);
    void    (*close) (void *ctx);
};

/* daemon_new - event loop and resolver for pol (taken over); fatal on error */
struct daemon *daemon_new(const char *config_path, struct policy *pol);

struct listen_unix;

/* daemon_listen - bind every listener of a list value for a handler;
 * 0, or -1 with the reason in err */
int     daemon_listen(struct daemon *d, const char *listen_value, const struct listen_unix *lu,
		              const struct daemon_handler_ops *ops, void *ctx, struct buf *err);

/* daemon_source - a handler without a listener */
void    daemon_source(struct daemon *d, const struct daemon_handler_ops *ops, void *ctx);

/* daemon_run - drop privileges, serve until stopped; the exit status */
int     daemon_run(struct daemon *d);

struct event_base *daemon_base(const struct daemon *d);
struct policy *daemon_policy(const struct daemon *d);
const struct config *daemon_config(const struct daemon *d);
struct dns *daemon_dns(const struct daemon *d);
struct store *daemon_store(const struct daemon *d);
int     daemon_stopping(const struct daemon *d);

/* daemon_drained - a handler finished work while stopping: exit if idle */
void    daemon_drained(struct daemon *d);

/* Timers: a label for stall warnings, a callback, a period. */
struct daemon_timer;

struct daemon_timer *daemon_timer_new(struct daemon *d, const char *label,
				              void (*fn) (void *), void *arg);
/* daemon_timer_set - run every millis (0: disarm); re-arming restarts it */
void    daemon_timer_set(struct daemon_timer *t, long millis);
void    daemon_timer_free(struct daemon_timer *t);

/* Labelled work, for the stall warning. */
struct daemon_work {
    struct timespec t0;
    const char *label;
};

void    daemon_work_begin(struct daemon_work *w, const char *label);
void    daemon_work_end(struct daemon_work *w);

#endif
