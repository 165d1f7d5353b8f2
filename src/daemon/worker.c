/*
 * worker.c - one job at a time in a thread; the loop hears of its end
 * through a pipe (no libevent locking needed: the thread never touches
 * the event base).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/worker.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct worker {
    struct event *ev;			/* the pipe's read end is readable */
    int     pipe[2];
    int     running;			/* a thread is out */
    pthread_t tid;
    const char *label;
    void    (*run) (void *);
    void    (*done) (void *, int);
    void   *arg;
    struct buf log;			/* the job's log lines */
};

/* worker_thread - the job, with its log lines held */
static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    char    one = 1;

    log_defer(&w->log);
    w->run(w->arg);
    log_defer(NULL);
    while (write(w->pipe[1], &one, 1) < 0 && errno == EINTR)
	 /* the loop wakes up */ ;
    return NULL;
}

/* finish - join the thread, log its lines, hand over the result */
static void finish(struct worker *w, int discard)
{
    if ((errno = pthread_join(w->tid, NULL)) != 0)
	msg_panic("pthread_join: %s", strerror(errno));
    w->running = 0;
    log_replay(&w->log);
    buf_reset(&w->log);
    w->done(w->arg, discard);
}

/* done_cb - the job ended */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct daemon_work work;
    char    drain[16];

    (void) what;
    while (read(fd, drain, sizeof(drain)) > 0)
	 /* one byte per job */ ;
    if (!w->running)
	return;
    daemon_work_begin(&work, w->label);
    finish(w, 0);
    daemon_work_end(&work);
}

/* worker_new - a worker for this loop; fatal at start-up on failure */
struct worker *worker_new(struct event_base *base)
{
    struct worker *w = xcalloc(1, sizeof(*w));

    buf_init(&w->log);
    if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
	msg_fatal("pipe: %s", strerror(errno));
    w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, done_cb, w);
    if (w->ev == NULL || event_add(w->ev, NULL) < 0)
	msg_fatal("cannot arm the worker's event");
    return w;
}

/* worker_start - run a job unless one is running */
int     worker_start(struct worker *w, const char *label, void (*run) (void *),
		             void (*done) (void *, int), void *arg)
{
    if (w->running)
	return 1;
    w->label = label;
    w->run = run;
    w->done = done;
    w->arg = arg;
    if ((errno = pthread_create(&w->tid, NULL, worker_thread, w)) != 0) {
	msg_warn("%s: cannot start a thread: %s", label, strerror(errno));
	return -1;
    }
    w->running = 1;
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
    if (w->running)
	finish(w, 1);
    event_free(w->ev);
    close(w->pipe[0]);
    close(w->pipe[1]);
    buf_free(&w->log);
    free(w);
}
