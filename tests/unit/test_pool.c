/*
 * test_pool.c - the thread pool (src/daemon/pool.c): every job runs once
 * off the loop and is reported once on it with its own result; log lines
 * reach the loop; freeing the pool with jobs running and queued discards
 * them (the queued never run); a pool of 0 threads; the one-at-a-time
 * worker on top of it.  Then DKIM and ARC verification on a pool: every
 * fixture's verifier started at once gets the results it gets on the
 * loop, and a verifier freed while its checks are out is never touched
 * again (run under ASan: `make unit-asan`; under TSan: `make unit-tsan`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/pool.h"
#include "daemon/worker.h"
#include "dkim/dkim.h"
#include "dkim_fixture.h"
#include "util/log.h"
#include "util/str.h"

#define T_SIGNED 1764900000LL		/* make.py's signing time */

struct job {
    int     in;
    long    out;
    atomic_int ran;			/* times run */
    int     done;			/* times reported */
    int     discard;
    int     off_loop;			/* run on another thread than the loop's */
    int     sleep_ms;
    atomic_int *started;		/* set when it starts (may be NULL) */
};

static pthread_t loop_thread;

static void job_run(void *arg)
{
    struct job *j = arg;

    if (j->started)
	atomic_store(j->started, 1);
    j->off_loop = !pthread_equal(pthread_self(), loop_thread);
    if (j->sleep_ms)
	usleep((useconds_t) j->sleep_ms * 1000);
    j->out = (long) j->in * j->in;
    atomic_fetch_add(&j->ran, 1);
}

static void job_done(void *arg, int discard)
{
    struct job *j = arg;

    assert_true(pthread_equal(pthread_self(), loop_thread));
    j->done++;
    j->discard = discard;
}

/* loop_until - run the loop until the pool has nothing out (bounded) */
static void loop_until_idle(struct event_base *base, struct pool *p)
{
    for (int i = 0; i < 100000 && pool_pending(p) > 0; i++)
	event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(pool_pending(p), 0);
}

static void test_jobs_complete(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 2, "test");
    static struct job jobs[200];

    (void) state;
    loop_thread = pthread_self();
    assert_int_equal(pool_threads(p), 2);
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < 200; i++) {
	jobs[i].in = i + 1;
	pool_submit(p, "test job", job_run, job_done, &jobs[i]);
    }
    assert_int_equal(pool_pending(p), 200);
    loop_until_idle(base, p);
    for (int i = 0; i < 200; i++) {
	assert_int_equal(jobs[i].out, (long) (i + 1) * (i + 1));
	assert_int_equal(atomic_load(&jobs[i].ran), 1);
	assert_int_equal(jobs[i].done, 1);
	assert_int_equal(jobs[i].discard, 0);
	assert_int_equal(jobs[i].off_loop, 1);
    }
    pool_free(p);
    for (int i = 0; i < 200; i++)
	assert_int_equal(jobs[i].done, 1);	/* reported once, not again */
    event_base_free(base);
}

/* log lines of a job: held on the thread, logged by the loop */
static struct buf captured;
static int captured_off_loop;

static void capture(const char *level, const char *text, void *ctx)
{
    (void) ctx;
    if (!pthread_equal(pthread_self(), loop_thread))
	captured_off_loop = 1;
    buf_printf(&captured, "%s: %s|", level, text);
}

static void log_run(void *arg)
{
    msg_info("job %d says hello", *(int *) arg);
}

static void log_done(void *arg, int discard)
{
    (void) discard;
    buf_printf(&captured, "done %d|", *(int *) arg);
}

static void test_log_lines(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 1, "test");
    int     n = 7;

    (void) state;
    loop_thread = pthread_self();
    buf_init(&captured);
    captured_off_loop = 0;
    log_capture(capture, NULL);
    pool_submit(p, "test job", log_run, log_done, &n);
    loop_until_idle(base, p);
    log_capture(NULL, NULL);
    assert_string_equal(captured.s, ": job 7 says hello|done 7|");
    assert_int_equal(captured_off_loop, 0);
    buf_free(&captured);
    pool_free(p);
    event_base_free(base);
}

/* freed with one job running and four queued: all discarded, the queued never run */
static void test_free_with_jobs_out(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 1, "test");
    struct job jobs[5];
    atomic_int started = 0;

    (void) state;
    loop_thread = pthread_self();
    memset(jobs, 0, sizeof(jobs));
    jobs[0].sleep_ms = 100;
    jobs[0].started = &started;
    for (int i = 0; i < 5; i++) {
	jobs[i].in = i;
	pool_submit(p, "test job", job_run, job_done, &jobs[i]);
    }
    while (!atomic_load(&started))
	usleep(1000);
    pool_free(p);
    assert_int_equal(atomic_load(&jobs[0].ran), 1);	/* waited for */
    for (int i = 0; i < 5; i++) {
	assert_int_equal(jobs[i].done, 1);
	assert_int_equal(jobs[i].discard, 1);
	if (i > 0)
	    assert_int_equal(atomic_load(&jobs[i].ran), 0);
    }
    event_base_free(base);
}

/* no threads: run inside pool_submit, reported by the loop later */
static void test_zero_threads(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 0, "test");
    struct job j;

    (void) state;
    loop_thread = pthread_self();
    memset(&j, 0, sizeof(j));
    j.in = 12;
    assert_int_equal(pool_threads(p), 0);
    pool_submit(p, "test job", job_run, job_done, &j);
    assert_int_equal(j.out, 144);
    assert_int_equal(j.off_loop, 0);
    assert_int_equal(j.done, 0);	/* never inside submit */
    loop_until_idle(base, p);
    assert_int_equal(j.done, 1);
    assert_int_equal(j.discard, 0);
    pool_free(p);

    /* -1: one per online CPU */
    p = pool_new(base, -1, "test");
    assert_int_equal(pool_threads(p), pool_online_cpus());
    assert_true(pool_online_cpus() >= 1);
    pool_free(p);
    event_base_free(base);
}

/* the worker: one job at a time, the next one startable from done() */
static struct worker *the_worker;
static int worker_chain;

static void chain_done(void *arg, int discard)
{
    struct job *j = arg;

    job_done(arg, discard);
    if (!discard && worker_chain-- > 0)
	assert_int_equal(worker_start(the_worker, "again", job_run, chain_done, j), 0);
}

static void test_worker(void **state)
{
    struct event_base *base = event_base_new();
    struct job a, b;

    (void) state;
    loop_thread = pthread_self();
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.in = 3;
    the_worker = worker_new(base);
    worker_chain = 2;
    assert_int_equal(worker_start(the_worker, "a", job_run, chain_done, &a), 0);
    assert_int_equal(worker_start(the_worker, "b", job_run, job_done, &b), 1);	/* busy */
    for (int i = 0; i < 100000 && (worker_busy(the_worker) || worker_chain >= 0); i++)
	event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(a.done, 3);	/* itself and twice again */
    assert_int_equal(a.out, 9);
    assert_int_equal(b.done, 0);

    /* freed with a job running: waited for, discarded */
    atomic_int started = 0;

    b.sleep_ms = 20;
    b.started = &started;
    assert_int_equal(worker_start(the_worker, "b", job_run, job_done, &b), 0);
    while (!atomic_load(&started))
	usleep(1000);
    worker_free(the_worker);
    assert_int_equal(atomic_load(&b.ran), 1);
    assert_int_equal(b.done, 1);
    assert_int_equal(b.discard, 1);
    event_base_free(base);
}

/* DKIM and ARC on a pool */
static struct keytab keys;

static const char *const messages[] = {
    "rsa-simple-simple.eml", "rsa-relaxed-relaxed.eml", "ed25519-simple-simple.eml",
    "ed25519-relaxed-relaxed.eml", "tampered-body.eml", "tampered-header.eml",
    "nokey.eml", "testing.eml", "length-appended.eml", "two.eml", "arc-1.eml",
    "arc-2.eml", "arc-2-badseal.eml", "arc-2-tampered.eml", "arc-50.eml", "rsa1024.eml",
};

#define NMSG (sizeof(messages) / sizeof(messages[0]))

static int woken[NMSG];

static void wake(void *ctx)
{
    woken[(int *) ctx - woken]++;
}

/* start - a message's verifier fed whole; with a pool, its checks out */
static struct dkim_verify *start(size_t i, struct pool *p)
{
    char    path[256];
    size_t  len;
    char   *msg;
    struct dkim_verify *v = dkim_verify_new(NULL, NULL);

    dkim_verify_set_keys(v, keytab_get, &keys);
    dkim_verify_set_time(v, T_SIGNED);
    if (p)
	dkim_verify_set_pool(v, p, wake, &woken[i]);
    snprintf(path, sizeof(path), "tests/data/dkim/%s", messages[i]);
    msg = read_file(path, &len);
    feed(v, msg, len, 1000);
    free(msg);
    return v;
}

/* outcome - every result of a finished verifier, as one line */
static void outcome(const struct dkim_verify *v, struct buf *out)
{
    const char *reason;

    buf_reset(out);
    for (size_t k = 0; k < dkim_verify_count(v); k++) {
	const struct dkim_sig_result *r = dkim_verify_result(v, k);

	buf_printf(out, "%d %s %s (%s)|", r->index, r->a ? r->a : "-",
		   dkim_result_name(r->result), r->reason);
    }
    buf_printf(out, "arc %s", arc_result_name(dkim_verify_arc(v, NULL, &reason)));
    buf_printf(out, " (%s)", reason);
}

static void test_dkim_on_pool(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 2, "test");
    struct dkim_verify *v[NMSG];
    int     at_once[NMSG];
    struct buf want, got;

    (void) state;
    loop_thread = pthread_self();
    buf_init(&want);
    buf_init(&got);
    memset(woken, 0, sizeof(woken));

    /* every message's checks out at once (none for a message whose
     * signatures all fail before the check: no key, a body hash) */
    for (size_t i = 0; i < NMSG; i++) {
	v[i] = start(i, p);
	at_once[i] = dkim_verify_finish(v[i]);
	assert_int_equal(dkim_verify_finish(v[i]), at_once[i]);	/* nothing sent twice */
	assert_int_equal(at_once[i], strcmp(messages[i], "nokey.eml") == 0
			 || strcmp(messages[i], "tampered-body.eml") == 0);
    }
    assert_int_equal(pool_pending(p), NMSG - 2);	/* one job per message */
    loop_until_idle(base, p);

    /* each woken once, with the results it has on the loop */
    for (size_t i = 0; i < NMSG; i++) {
	struct dkim_verify *inline_v = start(i, NULL);

	assert_int_equal(dkim_verify_finish(inline_v), 1);
	assert_int_equal(woken[i], !at_once[i]);
	assert_int_equal(dkim_verify_finish(v[i]), 1);
	outcome(inline_v, &want);
	outcome(v[i], &got);
	if (strcmp(want.s, got.s) != 0)
	    fail_msg("%s: on the pool %s, on the loop %s", messages[i], got.s, want.s);
	dkim_verify_free(inline_v);
	dkim_verify_free(v[i]);
    }
    assert_non_null(strstr(got.s, "pass"));	/* rsa1024.eml, last */
    buf_free(&want);
    buf_free(&got);
    pool_free(p);
    event_base_free(base);
}

/* verifiers freed with their checks out, and the pool freed with some out */
static void test_dkim_freed_while_out(void **state)
{
    struct event_base *base = event_base_new();
    struct pool *p = pool_new(base, 1, "test");
    struct dkim_verify *v;

    (void) state;
    loop_thread = pthread_self();
    memset(woken, 0, sizeof(woken));
    for (size_t i = 0; i < NMSG; i++) {
	v = start(i, p);
	(void) dkim_verify_finish(v);
	dkim_verify_free(v);
    }
    assert_true(pool_pending(p) > 0);
    loop_until_idle(base, p);
    for (size_t i = 0; i < NMSG; i++)
	assert_int_equal(woken[i], 0);	/* nobody left to wake */

    /* the pool goes first: the verifier's checks become temporary errors */
    v = start(0, p);
    assert_int_equal(dkim_verify_finish(v), 0);
    pool_free(p);
    assert_int_equal(woken[0], 0);
    assert_int_equal(dkim_verify_finish(v), 1);
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_TEMPERROR);
    assert_string_equal(dkim_verify_result(v, 0)->reason, "signature check abandoned (stopping)");
    dkim_verify_free(v);
    event_base_free(base);
}

static int setup(void **state)
{
    (void) state;
    memset(&keys, 0, sizeof(keys));
    keytab_load(&keys);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    keytab_free(&keys);
    return 0;
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_jobs_complete),
	cmocka_unit_test(test_log_lines),
	cmocka_unit_test(test_free_with_jobs_out),
	cmocka_unit_test(test_zero_threads),
	cmocka_unit_test(test_worker),
	cmocka_unit_test(test_dkim_on_pool),
	cmocka_unit_test(test_dkim_freed_while_out),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
