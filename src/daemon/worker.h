/*
 * worker.h - slow work away from the event loop, one job at a time.
 *
 * worker_start() runs run(arg) on a thread (a pool of one, pool.h); when
 * it returns, the loop calls done(arg, 0) (labelled for the stall warning).  The job
 * must touch nothing the loop uses: only what it was given to read (and
 * the loop leaves alone until done) and what it allocates.  Its log lines
 * are deferred (log_defer) and logged by the loop just before done().
 * worker_free() waits for a job still running and calls done(arg, 1):
 * discard the result (a job its thread has not yet taken is not run).
 *
 * worker_start() returns 0 when the job started, 1 when another is still
 * running (try later); -1 (no thread) no longer happens: the thread is
 * started with the worker, and worker_new() is fatal without it.
 */
#ifndef MX_DAEMON_WORKER_H
#define MX_DAEMON_WORKER_H

#include <event2/event.h>

struct worker;

struct worker *worker_new(struct event_base *base);
int     worker_start(struct worker *w, const char *label, void (*run) (void *),
		             void (*done) (void *, int discard), void *arg);
int     worker_busy(const struct worker *w);
void    worker_free(struct worker *w);

#endif
