/*
 * pool.c - a fixed set of threads fed through one lock-protected queue;
 * the loop hears of finished jobs through a pipe (no libevent locking
 * needed: the threads never touch the event base).
 *
 *	A finished job goes on the done list; the thread writes a byte to
 *	the pipe only when that list was empty, and the loop, woken by it,
 *	takes the whole list at once: one wake-up for a burst of results.
 *	The threads block every signal, so signals reach the loop's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/pool.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

#define POOL_MAX_THREADS	256

struct pool_job {
    struct pool_job *next;
    const char *label;
    const char *service;		/* the log name of who submitted it */
    void    (*run) (void *);
    void    (*done) (void *, int);
    void   *arg;
    struct buf log;			/* its deferred log lines */
};

struct job_list {
    struct pool_job *head, *tail;
};

struct pool {
    const char *name;
    struct event *ev;			/* the pipe's read end is readable */
    int     pipe[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;		/* the queue has work, or stopping */
    struct job_list queue;		/* submitted, not started */
    struct job_list done;		/* finished, not reported */
    int     stopping;
    size_t  pending;			/* submitted, not reported (loop only) */
    int     nthreads;
    pthread_t *tids;
};

static void list_put(struct job_list *l, struct pool_job *j)
{
    j->next = NULL;
    if (l->tail)
	l->tail->next = j;
    else
	l->head = j;
    l->tail = j;
}

static struct pool_job *list_get(struct job_list *l)
{
    struct pool_job *j = l->head;

    if (j && (l->head = j->next) == NULL)
	l->tail = NULL;
    return j;
}

/* run_job - the job, its log lines held */
static void run_job(struct pool_job *j)
{
    log_defer(&j->log);
    j->run(j->arg);
    log_defer(NULL);
}

/* finished - a job ran: on the done list, the loop woken if needed */
static void finished(struct pool *p, struct pool_job *j)
{
    int     wake;
    char    one = 1;

    pthread_mutex_lock(&p->lock);
    wake = p->done.head == NULL;
    list_put(&p->done, j);
    pthread_mutex_unlock(&p->lock);
    if (wake)
	while (write(p->pipe[1], &one, 1) < 0 && errno == EINTR)
	     /* full (EAGAIN): the loop has a byte to wake it already */ ;
}

/* pool_thread - take jobs until stopped */
static void *pool_thread(void *arg)
{
    struct pool *p = arg;
    struct pool_job *j;

    for (;;) {
	pthread_mutex_lock(&p->lock);
	while (!p->stopping && p->queue.head == NULL)
	    pthread_cond_wait(&p->cond, &p->lock);
	if (p->stopping) {
	    pthread_mutex_unlock(&p->lock);
	    return NULL;
	}
	j = list_get(&p->queue);
	pthread_mutex_unlock(&p->lock);
	run_job(j);
	finished(p, j);
    }
}

/* report - log a finished job's lines, hand over its result, free it */
static void report(struct pool *p, struct pool_job *j, int discard)
{
    struct daemon_work work;
    const char *previous = log_service_enter(j->service);

    daemon_work_begin(&work, j->label);
    log_replay(&j->log);
    buf_free(&j->log);
    p->pending--;
    j->done(j->arg, discard);
    free(j);
    daemon_work_end(&work);
    log_service_leave(previous);
}

/* take_done - the finished jobs, all at once */
static struct pool_job *take_done(struct pool *p)
{
    struct pool_job *j;

    pthread_mutex_lock(&p->lock);
    j = p->done.head;
    p->done.head = p->done.tail = NULL;
    pthread_mutex_unlock(&p->lock);
    return j;
}

/* done_cb - jobs ended */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pool *p = arg;
    struct pool_job *j, *next;
    char    drain[64];

    (void) what;
    while (read(fd, drain, sizeof(drain)) > 0)
	 /* drained before the list is taken: no wake-up is lost */ ;
    for (j = take_done(p); j; j = next) {
	next = j->next;
	report(p, j, 0);
    }
}

/* pool_online_cpus - sysconf's count, at least 1 */
int     pool_online_cpus(void)
{
    long    n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int) n;
}

/* pool_new - the pipe, its event and the threads; fatal on failure */
struct pool *pool_new(struct event_base *base, int threads, const char *name)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    sigset_t all, old;

    p->name = name;
    if (threads < 0)
	threads = pool_online_cpus();
    if (threads > POOL_MAX_THREADS)
	threads = POOL_MAX_THREADS;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
	msg_fatal("%s: pipe: %s", name, strerror(errno));
    p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST, done_cb, p);
    if (p->ev == NULL || event_add(p->ev, NULL) < 0)
	msg_fatal("%s: cannot arm the pool's event", name);
    p->tids = xcalloc((size_t) threads + 1, sizeof(*p->tids));
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (p->nthreads = 0; p->nthreads < threads; p->nthreads++)
	if ((errno = pthread_create(&p->tids[p->nthreads], NULL, pool_thread, p)) != 0)
	    msg_fatal("%s: cannot start a thread: %s", name, strerror(errno));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;
}

int     pool_threads(const struct pool *p)
{
    return p->nthreads;
}

size_t  pool_pending(const struct pool *p)
{
    return p->pending;
}

/* pool_submit - queue a job (or, with no threads, run it now) */
void    pool_submit(struct pool *p, const char *label, void (*run) (void *),
		            void (*done) (void *, int), void *arg)
{
    struct pool_job *j = xmalloc(sizeof(*j));

    j->label = label;
    j->service = log_service_current();
    j->run = run;
    j->done = done;
    j->arg = arg;
    buf_init(&j->log);
    p->pending++;
    if (p->nthreads == 0) {
	run_job(j);
	finished(p, j);
	return;
    }
    pthread_mutex_lock(&p->lock);
    if (p->stopping)
	msg_panic("%s: a job submitted to a pool being freed", p->name);
    list_put(&p->queue, j);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* pool_free - stop the threads; every job not reported is discarded */
void    pool_free(struct pool *p)
{
    struct pool_job *j;

    if (p == NULL)
	return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
	if ((errno = pthread_join(p->tids[i], NULL)) != 0)
	    msg_panic("%s: pthread_join: %s", p->name, strerror(errno));
    /* the threads are gone: the lists are the loop's alone */
    while ((j = list_get(&p->done)) != NULL)
	report(p, j, 1);
    while ((j = list_get(&p->queue)) != NULL)
	report(p, j, 1);
    event_free(p->ev);
    close(p->pipe[0]);
    close(p->pipe[1]);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}
