/*
 * flush.c - the helper thread of store_flush_*() (see flush.h).  The loop
 * and the thread share only the fields below, under the lock.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/flush.h"
#include "util/mem.h"

struct store_flush {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int     (*fn) (void *ctx);
    void   *ctx;
    int     want;			/* a flush was asked for */
    int     running;			/* one is in progress */
    int     stop;
    int     finished;			/* a flush ended since the loop last asked */
    int     result;			/* how the last one ended */
    int     busy_told;			/* the running flush was reported busy */
};

/* flush_main - flush whenever asked, until told to stop */
static void *flush_main(void *arg)
{
    struct store_flush *f = arg;
    int     rc;

    pthread_mutex_lock(&f->lock);
    for (;;) {
	while (!f->want && !f->stop)
	    pthread_cond_wait(&f->wake, &f->lock);
	if (f->stop)
	    break;
	f->want = 0;
	f->running = 1;
	pthread_mutex_unlock(&f->lock);
	rc = f->fn(f->ctx);
	pthread_mutex_lock(&f->lock);
	f->running = 0;
	f->busy_told = 0;
	f->finished = 1;
	f->result = rc;
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

struct store_flush *store_flush_start(int (*fn) (void *ctx), void *ctx,
				              char *err, size_t errlen)
{
    struct store_flush *f = xcalloc(1, sizeof(*f));
    sigset_t all, old;
    int     rc;

    f->fn = fn;
    f->ctx = ctx;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&f->thread, NULL, flush_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
	snprintf(err, errlen, "cannot start the flush thread: %s", strerror(rc));
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return NULL;
    }
    return f;
}

int     store_flush_ask(struct store_flush *f, int *busy)
{
    int     result = 0;

    pthread_mutex_lock(&f->lock);
    if (f->finished)
	result = f->result;
    f->finished = 0;
    *busy = f->running && !f->busy_told;
    if (*busy)
	f->busy_told = 1;
    f->want = 1;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    return result;
}

int     store_flush_stop(struct store_flush *f)
{
    int     result;

    if (f == NULL)
	return 0;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    result = f->finished ? f->result : 0;
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return result;
}
