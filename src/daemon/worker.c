/*
 * worker.c - one job at a time, on a pool (pool.c) of one thread: the
 * pool runs it and reports it on the loop; the worker only keeps the
 * one-at-a-time contract of worker.h.
 */
#include <stdlib.h>

#include "daemon/pool.h"
#include "daemon/worker.h"
#include "util/mem.h"

struct worker {
    struct pool *pool;
    int     running;			/* a job is out */
    void    (*run) (void *);
    void    (*done) (void *, int);
    void   *arg;
};

/* worker_run - on the pool's thread */
static void worker_run(void *arg)
{
    struct worker *w = arg;

    w->run(w->arg);
}

/* worker_done - on the loop: free for the next job, then the result
 * (whose handler may start that next job) */
static void worker_done(void *arg, int discard)
{
    struct worker *w = arg;

    w->running = 0;
    w->done(w->arg, discard);
}

/* worker_new - a worker for this loop; fatal at start-up on failure */
struct worker *worker_new(struct event_base *base)
{
    struct worker *w = xcalloc(1, sizeof(*w));

    w->pool = pool_new(base, 1, "worker");
    return w;
}

/* worker_start - run a job unless one is running */
int     worker_start(struct worker *w, const char *label, void (*run) (void *),
		             void (*done) (void *, int), void *arg)
{
    if (w->running)
	return 1;
    w->run = run;
    w->done = done;
    w->arg = arg;
    w->running = 1;
    pool_submit(w->pool, label, worker_run, worker_done, w);
    return 0;
}

int     worker_busy(const struct worker *w)
{
    return w->running;
}

/* worker_free - wait for a job still out, discard its result */
void    worker_free(struct worker *w)
{
    if (w == NULL)
	return;
    pool_free(w->pool);
    free(w);
}
