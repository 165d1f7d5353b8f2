/*
 * pool.h - a fixed set of threads doing slow work (signature checks, a
 * reload's compile) away from the event loop.
 *
 *	p = pool_new(base, n, name);		at start-up: n threads
 *	pool_submit(p, label, run, done, arg);	on the loop
 *	...	run(arg) on one of the threads, then done(arg, 0) on the loop
 *	pool_free(p);				at the end
 *
 * Jobs start in the order submitted; with several threads several run at
 * once and may end in any order.  A job must touch nothing the loop uses:
 * only what it was given to read (and the loop leaves alone until done)
 * and what it allocates; nothing of libevent, the store or the logger's
 * state.  Its log lines are deferred (log_defer) and logged by the loop
 * just before its done() (labelled with label for the stall warning).
 *
 * pool_free() waits for the jobs running, then calls done(arg, 1) for
 * every job not yet reported: discard the result (the jobs still queued
 * are never run).  A pool of 0 threads runs each job inside
 * pool_submit() and still reports it from the loop: the same contract,
 * without parallelism.
 *
 * DIAGNOSTICS
 *	pool_new() is fatal when its threads or pipe cannot be had (it runs
 *	at start-up); nothing after that can fail.
 */
#ifndef MX_DAEMON_POOL_H
#define MX_DAEMON_POOL_H

#include <stddef.h>

#include <event2/event.h>

struct pool;

/* pool_new - threads for this loop; threads < 0: one per online CPU */
struct pool *pool_new(struct event_base *base, int threads, const char *name);

/* pool_threads - how many threads it has */
int     pool_threads(const struct pool *p);

/* pool_submit - run(arg) on a thread, then done(arg, 0) on the loop, under
 * the log service name in force now (its lines too) */
void    pool_submit(struct pool *p, const char *label, void (*run) (void *),
		            void (*done) (void *, int discard), void *arg);

/* pool_pending - jobs submitted whose done() has not been called */
size_t  pool_pending(const struct pool *p);

/* pool_free - wait for the running jobs; done(arg, 1) for all not reported */
void    pool_free(struct pool *p);

/* pool_online_cpus - the number of online CPUs (at least 1) */
int     pool_online_cpus(void);

#endif
