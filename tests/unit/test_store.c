/*
 * test_store.c - the LMDB store's group commit: writes of a batch wait for
 * store_commit(), reads see them before it, a failed write fails its whole
 * batch and nothing else; and a greylist decision through the engine that
 * waits for its commit, including an evaluation freed while it waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "policy/request.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "store/store.h"
#include "util/str.h"

/* a callback's record of what it was told */
struct told {
    int     calls;
    enum store_status st;
    char    val[64];
};

static void told_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct told *t = arg;

    t->calls++;
    t->st = st;
    memset(t->val, 0, sizeof(t->val));
    if (st == STORE_OK && val && len < sizeof(t->val))
	memcpy(t->val, val, len);
}

static char dir[64];

static int setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/mxstore.XXXXXX");
    if (mkdtemp(dir) == NULL)
	return -1;
    return 0;
}

static int teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_store(const char *sub, size_t map_size)
{
    struct store_opts o;
    char    path[128], err[256];
    struct store *s;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.map_size = map_size;
    o.on_corrupt = STORE_CORRUPT_REFUSE;
    s = store_open(&o, err, sizeof(err));
    if (s == NULL)
	fail_msg("store_open: %s", err);
    return s;
}

static void test_batch_waits_for_commit(void **state)
{
    struct store *s = open_store("a", 1 << 20);
    struct told w1 = {0}, w2 = {0}, r = {0};

    (void) state;
    store_batch(s, 1);
    store_put(s, "triplets", "k1", 2, "v1", 2, told_cb, &w1);
    store_put(s, "triplets", "k2", 2, "v2", 2, told_cb, &w2);
    assert_int_equal(w1.calls, 0);		/* not committed: not told */
    assert_int_equal(w2.calls, 0);
    /* reads in the batch see its writes */
    store_get(s, "triplets", "k1", 2, told_cb, &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, STORE_OK);
    assert_string_equal(r.val, "v1");
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(w1.st, STORE_OK);
    assert_int_equal(w2.calls, 1);
    assert_int_equal(w2.st, STORE_OK);
    assert_int_equal(store_commit(s), 0);	/* nothing left */
    /* a delete of a missing key says so, after the commit */
    store_del(s, "triplets", "nope", 4, told_cb, &w1);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(w1.calls, 2);
    assert_int_equal(w1.st, STORE_NOTFOUND);
    store_close(s);

    /* committed means on file */
    s = open_store("a", 1 << 20);
    memset(&r, 0, sizeof(r));
    store_get(s, "triplets", "k2", 2, told_cb, &r);
    assert_int_equal(r.st, STORE_OK);
    assert_string_equal(r.val, "v2");
    assert_int_equal(store_count(s, "triplets"), 2);
    store_close(s);
}

static void test_close_commits_the_batch(void **state)
{
    struct store *s = open_store("b", 1 << 20);
    struct told w = {0}, r = {0};

    (void) state;
    store_batch(s, 1);
    store_put(s, "clients", "c", 1, "x", 1, told_cb, &w);
    store_close(s);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.st, STORE_OK);
    s = open_store("b", 1 << 20);
    store_get(s, "clients", "c", 1, told_cb, &r);
    assert_int_equal(r.st, STORE_OK);
    store_close(s);
}

/* a full map fails the batch it happens in, all of it, and only it */
static void test_failed_write_fails_its_batch(void **state)
{
    struct store *s = open_store("c", 256 * 1024);
    struct told first = {0}, *t;
    char    key[64], val[512];
    int     n, failed_at = -1;

    (void) state;
    memset(val, 'v', sizeof(val));
    store_batch(s, 1);
    store_put(s, "triplets", "first", 5, "1", 1, told_cb, &first);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(first.st, STORE_OK);

    t = calloc(2000, sizeof(*t));
    for (n = 0; n < 2000; n++) {
	snprintf(key, sizeof(key), "key-%06d", n);
	store_put(s, "triplets", key, strlen(key), val, sizeof(val), told_cb, &t[n]);
	if (t[n].calls) {
	    failed_at = n;			/* refused at once: no batch left */
	    break;
	}
    }
    assert_int_equal(store_commit(s), 1);
    for (int i = 0; i < 2000 && i <= n; i++) {
	if (i == failed_at)
	    continue;
	assert_int_equal(t[i].calls, 1);
	assert_int_equal(t[i].st, STORE_ERROR);	/* not one acknowledged */
    }
    free(t);
    /* the earlier batch is intact, and the next batch works */
    struct told r = {0}, w = {0};

    store_get(s, "triplets", "first", 5, told_cb, &r);
    assert_int_equal(r.st, STORE_OK);
    assert_int_equal(store_count(s, "triplets"), 1);
    store_put(s, "triplets", "second", 6, "2", 1, told_cb, &w);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(w.st, STORE_OK);
    store_close(s);
}

/* the greylist restriction through the engine, answering after the commit */
static int woken;

static void wake(void *arg)
{
    (void) arg;
    woken++;
}

static struct policy *gl_policy(struct store **sp, const char *sub)
{
    struct buf err, text;
    struct config *c;
    struct policy *p;

    buf_init(&err);
    buf_init(&text);
    buf_printf(&text, "data_directory = %s/%s\nrecipient_restrictions = greylist\n", dir, sub);
    c = config_parse_text(text.s, "test.cf", &err);
    if (c == NULL)
	fail_msg("config: %s", err.s);
    p = policy_compile(c, &err);
    if (p == NULL)
	fail_msg("compile: %s", err.s);
    *sp = open_store(sub, 1 << 20);
    store_batch(*sp, 1);
    p->store = *sp;
    buf_free(&err);
    buf_free(&text);
    return p;
}

static void fill(struct request *req, const char *rcpt)
{
    char    line[128];

    request_init(req);
    request_add_line(req, "protocol_state=RCPT", 19);
    request_add_line(req, "client_address=192.0.2.10", 25);
    request_add_line(req, "sender=alice@example.net", 24);
    snprintf(line, sizeof(line), "recipient=%s", rcpt);
    request_add_line(req, line, strlen(line));
}

static void test_greylist_answers_after_commit(void **state)
{
    struct store *s;
    struct policy *p = gl_policy(&s, "d");
    struct request req;
    struct eval *e;

    (void) state;
    fill(&req, "bob@our.example");
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    woken = 0;
    assert_int_equal(eval_run(e), EVAL_PENDING);
    assert_int_equal(woken, 0);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(woken, 1);
    assert_int_equal(eval_run(e), EVAL_DONE);
    assert_string_equal(eval_action(e), "450 4.2.0 Greylisted, see "
			"http://postgrey.schweikert.ch/help/our.example.html");
    eval_free(e);
    request_free(&req);

    assert_int_equal(store_count(s, "triplets"), 1);	/* recorded */
    policy_unref(p);
    store_close(s);
}

static void test_evaluation_freed_while_waiting(void **state)
{
    struct store *s;
    struct policy *p = gl_policy(&s, "e");
    struct request req;
    struct eval *e;

    (void) state;
    fill(&req, "carol@our.example");
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    woken = 0;
    assert_int_equal(eval_run(e), EVAL_PENDING);
    eval_free(e);			/* the client went away */
    request_free(&req);
    assert_int_equal(store_commit(s), 1);	/* no one to wake; nothing freed twice */
    assert_int_equal(woken, 0);
    assert_int_equal(store_count(s, "triplets"), 1);	/* recorded all the same */
    policy_unref(p);
    store_close(s);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_batch_waits_for_commit),
	cmocka_unit_test(test_close_commits_the_batch),
	cmocka_unit_test(test_failed_write_fails_its_batch),
	cmocka_unit_test(test_greylist_answers_after_commit),
	cmocka_unit_test(test_evaluation_freed_while_waiting),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
