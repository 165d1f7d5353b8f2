/*
 * test_store.c - the LMDB store's group commit: writes of a batch wait for
 * store_commit(), reads see them before it, a failed write fails its whole
 * batch and nothing else; and a greylist decision through the engine that
 * waits for its commit, including an evaluation freed while it waits.
 * Then the same decisions over a backend that answers later (every
 * callback queued until the test delivers it), as a networked one would.
 * And a database written by mxshield 0.3 (format 1: the host's structs)
 * read by this one, its records rewritten in the portable encoding; and
 * store_sync, which must not wait for the disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "conf/config.h"
#include "greylist/greylist.h"
#include "policy/request.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "store/encode.h"
#include "store/hashdb.h"
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
    /* reads see committed records only: not the batch's writes */
    store_get(s, "triplets", "k1", 2, told_cb, &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, STORE_NOTFOUND);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(w1.st, STORE_OK);
    assert_int_equal(w2.calls, 1);
    assert_int_equal(w2.st, STORE_OK);
    store_get(s, "triplets", "k1", 2, told_cb, &r);	/* now they are there */
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.st, STORE_OK);
    assert_string_equal(r.val, "v1");
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

/* a key LMDB refuses (over 511 bytes) fails its write, not the batch */
static void test_long_key_fails_alone(void **state)
{
    struct store *s = open_store("k", 1 << 20);
    struct told a = {0}, b = {0}, c = {0};
    char    key[600];

    (void) state;
    memset(key, 'k', sizeof(key));
    store_batch(s, 1);
    store_put(s, "triplets", "before", 6, "1", 1, told_cb, &a);
    store_put(s, "triplets", key, sizeof(key), "2", 1, told_cb, &b);
    store_put(s, "triplets", "after", 5, "3", 1, told_cb, &c);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(a.st, STORE_OK);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.st, STORE_ERROR);
    assert_int_equal(c.st, STORE_OK);
    assert_int_equal(store_count(s, "triplets"), 2);
    /* and alone, outside a batch */
    store_batch(s, 0);
    store_put(s, "triplets", key, sizeof(key), "2", 1, told_cb, &b);
    assert_int_equal(b.calls, 2);
    assert_int_equal(b.st, STORE_ERROR);
    store_close(s);
}

/* the greylist restriction through the engine, answering after the commit */
static int woken;

static void wake(void *arg)
{
    (void) arg;
    woken++;
}

static struct policy *gl_policy_with(struct store **sp, const char *sub, const char *more)
{
    struct buf err, text;
    struct config *c;
    struct policy *p;

    buf_init(&err);
    buf_init(&text);
    buf_printf(&text, "data_directory = %s/%s\nrecipient_restrictions = greylist\n%s",
	       dir, sub, more);
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

static struct policy *gl_policy(struct store **sp, const char *sub)
{
    return gl_policy_with(sp, sub, "");
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

/* start - a request at a test time, evaluated up to its first wait */
static struct eval *start(struct policy *p, struct request *req, const char *rcpt, long when)
{
    char    line[64];
    struct eval *e;

    fill(req, rcpt);
    snprintf(line, sizeof(line), "policy_test_time=%ld", when);
    request_add_line(req, line, strlen(line));
    e = eval_new(p, req, NULL);
    eval_set_wakeup(e, wake, NULL);
    return e;
}

/*
 * A decision in the same pass as a write it would build on does not see
 * that write: here the write that auto-whitelists the client.  The second
 * triplet is decided from the committed state (a new triplet), so its
 * answer, too, waits for the commit; it is never sent ahead of a record
 * that could still be lost.
 */
static void test_no_answer_from_an_uncommitted_write(void **state)
{
    struct store *s;
    struct policy *p = gl_policy_with(&s, "w", "greylist_allow_test_time = yes\n"
				      "greylist_auto_whitelist_clients = 1\n");
    struct request r1, r2, r3;
    struct eval *a, *b;

    (void) state;
    a = start(p, &r1, "one@our.example", 1000000);
    assert_int_equal(eval_run(a), EVAL_PENDING);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(eval_run(a), EVAL_DONE);
    assert_string_equal(eval_action(a), "450 4.2.0 Greylisted, see "
			"http://postgrey.schweikert.ch/help/our.example.html");
    eval_free(a);
    request_free(&r1);

    /* one pass: the retry passes and whitelists the client ... */
    a = start(p, &r2, "one@our.example", 1000400);
    assert_int_equal(eval_run(a), EVAL_PENDING);
    /* ... and a new triplet of the same client does not see it */
    b = start(p, &r3, "two@our.example", 1000400);
    woken = 0;
    assert_int_equal(eval_run(b), EVAL_PENDING);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(woken, 2);
    assert_int_equal(eval_run(a), EVAL_DONE);
    assert_true(strncmp(eval_action(a), "PREPEND X-Greylist: delayed 400 seconds", 39) == 0);
    assert_int_equal(eval_run(b), EVAL_DONE);
    assert_string_equal(eval_action(b), "450 4.2.0 Greylisted, see "
			"http://postgrey.schweikert.ch/help/our.example.html");
    eval_free(a);
    eval_free(b);
    request_free(&r2);
    request_free(&r3);
    policy_unref(p);
    store_close(s);
}

/*
 * "later": a backend wrapped around LMDB whose callbacks all wait for
 * later_deliver(), as a networked store's answers would; values are copied,
 * since the inner store's are valid only during its callback.
 */
struct pending {
    store_cb cb;
    void   *arg;
    enum store_status st;
    unsigned char val[64];
    size_t  len;
};

struct later {
    struct store base;
    struct store *inner;
    int     fail_reads;			/* answer every read STORE_ERROR */
    struct pending q[16];
    size_t  n;
    struct pending *cur;		/* being filled by the inner callback */
};

static void later_capture(void *arg, enum store_status st, const void *val, size_t len)
{
    struct later *l = arg;

    l->cur->st = st;
    l->cur->len = len < sizeof(l->cur->val) ? len : sizeof(l->cur->val);
    if (st == STORE_OK && val)
	memcpy(l->cur->val, val, l->cur->len);
}

static struct pending *later_queue(struct later *l, store_cb cb, void *arg)
{
    assert_true(l->n < sizeof(l->q) / sizeof(l->q[0]));
    l->cur = &l->q[l->n++];
    memset(l->cur, 0, sizeof(*l->cur));
    l->cur->cb = cb;
    l->cur->arg = arg;
    return l->cur;
}

/* later_deliver - answer everything asked so far; how many */
static size_t later_deliver(struct store *s)
{
    struct later *l = (struct later *) s;
    struct pending q[16];
    size_t  n = l->n;

    memcpy(q, l->q, n * sizeof(q[0]));
    l->n = 0;				/* callbacks may ask again */
    for (size_t i = 0; i < n; i++)
	if (q[i].cb)
	    q[i].cb(q[i].arg, q[i].st, q[i].st == STORE_OK ? q[i].val : NULL, q[i].len);
    return n;
}

static void later_get(struct store *s, const char *t, const void *k, size_t kl,
		              store_cb cb, void *arg)
{
    struct later *l = (struct later *) s;
    struct pending *p = later_queue(l, cb, arg);

    if (l->fail_reads)
	p->st = STORE_ERROR;
    else
	store_get(l->inner, t, k, kl, later_capture, l);
}

static void later_put(struct store *s, const char *t, const void *k, size_t kl,
		              const void *v, size_t vl, store_cb cb, void *arg)
{
    struct later *l = (struct later *) s;

    later_queue(l, cb, arg);
    store_put(l->inner, t, k, kl, v, vl, later_capture, l);
}

static void later_del(struct store *s, const char *t, const void *k, size_t kl,
		              store_cb cb, void *arg)
{
    struct later *l = (struct later *) s;

    later_queue(l, cb, arg);
    store_del(l->inner, t, k, kl, later_capture, l);
}

static void later_close(struct store *s)
{
    struct later *l = (struct later *) s;

    store_close(l->inner);
    free(l);
}

/* what a networked backend cannot promise: no snapshot, no emptiness */
static int later_read_begin(struct store *s)
{
    (void) s;
    return 0;
}

static void later_read_end(struct store *s)
{
    (void) s;
}

static int later_empty(struct store *s, const char *t)
{
    (void) s;
    (void) t;
    return 0;
}

static long later_scan(struct store *s, const char *t, char *c, size_t cs, size_t *cl,
		               long max, store_scan_fn fn, void *arg)
{
    return store_scan(((struct later *) s)->inner, t, c, cs, cl, max, fn, arg);
}

static void later_batch(struct store *s, int on)
{
    (void) s;
    (void) on;
}

static int later_commit(struct store *s)
{
    (void) s;
    return 0;
}

static int later_readonly(const struct store *s)
{
    (void) s;
    return 0;
}

static int later_sync(struct store *s)
{
    return store_sync(((struct later *) s)->inner);
}

static long later_count(struct store *s, const char *t)
{
    return store_count(((struct later *) s)->inner, t);
}

static const struct store_ops later_ops = {
    "later", later_close, later_get, later_put, later_del, later_scan, later_read_begin,
    later_read_end, later_empty, later_batch, later_commit, later_readonly, later_sync,
    later_count,
};

static struct policy *later_policy(struct store **sp, const char *sub)
{
    struct policy *p = gl_policy(sp, sub);
    struct later *l = calloc(1, sizeof(*l));

    assert_non_null(l);
    store_batch(*sp, 0);		/* the inner store answers at once */
    l->base.ops = &later_ops;
    l->inner = *sp;
    *sp = &l->base;
    p->store = *sp;
    return p;
}

#define GREYLISTED "450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/our.example.html"

/* run - one request to its answer, delivering the backend's answers */
static char *run(struct policy *p, struct store *s, const char *rcpt, int *rounds)
{
    struct request req;
    struct eval *e;
    char   *action;

    fill(&req, rcpt);
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    woken = 0;
    *rounds = 0;
    while (eval_run(e) == EVAL_PENDING) {
	int     before = woken;

	assert_true(later_deliver(s) > 0);	/* it waits for something asked */
	assert_int_equal(woken, before + 1);	/* and is woken once for it */
	++*rounds;
    }
    action = strdup(eval_action(e));
    eval_free(e);
    request_free(&req);
    return action;
}

static void test_later_backend_decides(void **state)
{
    struct store *s;
    struct policy *p = later_policy(&s, "f");
    char   *a;
    int     rounds;

    (void) state;
    /* reads, then the new triplet's write: two waits */
    a = run(p, s, "dave@our.example", &rounds);
    assert_string_equal(a, GREYLISTED);
    assert_int_equal(rounds, 2);
    free(a);
    assert_int_equal(store_count(s, "triplets"), 1);
    /* an early retry: found, still greylisted (its record is rewritten) */
    a = run(p, s, "dave@our.example", &rounds);
    assert_string_equal(a, GREYLISTED);
    free(a);
    /* a manual whitelist entry for the client: the reads alone decide */
    int64_t now = 1;

    store_put(s, "whitelist", "192.0.2.10", 10, &now, sizeof(now), NULL, NULL);
    assert_int_equal(later_deliver(s), 1);
    a = run(p, s, "erin@our.example", &rounds);
    assert_string_equal(a, "DUNNO");
    assert_int_equal(rounds, 1);
    free(a);
    assert_int_equal(store_count(s, "triplets"), 1);	/* nothing recorded */
    policy_unref(p);
    store_close(s);
}

static void test_later_backend_read_error_defers(void **state)
{
    struct store *s;
    struct policy *p = later_policy(&s, "g");
    char   *a;
    int     rounds;

    (void) state;
    ((struct later *) s)->fail_reads = 1;
    a = run(p, s, "frank@our.example", &rounds);
    assert_string_equal(a, "451 4.3.0 <frank@our.example>: Temporary greylisting database error");
    assert_int_equal(rounds, 1);
    free(a);
    assert_int_equal(store_count(s, "triplets"), 0);
    policy_unref(p);
    store_close(s);
}

static void test_later_backend_client_gone(void **state)
{
    struct store *s;
    struct policy *p = later_policy(&s, "h");
    struct request req;
    struct eval *e;

    (void) state;
    /* gone while the reads are out: they land in freed-and-kept memory,
     * nothing is decided or written */
    fill(&req, "gina@our.example");
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    woken = 0;
    assert_int_equal(eval_run(e), EVAL_PENDING);
    eval_free(e);
    request_free(&req);
    assert_true(later_deliver(s) >= 2);
    assert_int_equal(woken, 0);
    assert_int_equal(later_deliver(s), 0);
    assert_int_equal(store_count(s, "triplets"), 0);

    /* gone while the write is out: the triplet is recorded all the same */
    fill(&req, "gina@our.example");
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    assert_int_equal(eval_run(e), EVAL_PENDING);
    later_deliver(s);			/* the reads */
    assert_int_equal(woken, 1);
    assert_int_equal(eval_run(e), EVAL_PENDING);	/* the write is out */
    eval_free(e);
    request_free(&req);
    assert_int_equal(later_deliver(s), 1);
    assert_int_equal(woken, 1);
    assert_int_equal(store_count(s, "triplets"), 1);
    policy_unref(p);
    store_close(s);
}

/*
 * A database written the way mxshield 0.3 wrote it: the format version a
 * host-order uint32 1, each value the host's struct.  (raw: LMDB itself.)
 */
struct raw_rec {
    const char *table, *key;
    const void *val;
    size_t  len;
};

static void raw_write(const char *sub, const void *version, size_t vlen,
		              const struct raw_rec *recs, size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k, v;
    char    path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 9), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 16 << 20), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_WRITEMAP, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (const char *const *t = (const char *const[]) {"meta", "triplets", "clients",
	 "whitelist", NULL}; *t; t++)
	assert_int_equal(mdb_dbi_open(txn, *t, MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    k.mv_data = (void *) "version";
    k.mv_size = 7;
    v.mv_data = (void *) version;
    v.mv_size = vlen;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    for (size_t i = 0; i < n; i++) {
	assert_int_equal(mdb_dbi_open(txn, recs[i].table, 0, &dbi), 0);
	k.mv_data = (void *) recs[i].key;
	k.mv_size = strlen(recs[i].key);
	v.mv_data = (void *) recs[i].val;
	v.mv_size = recs[i].len;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static size_t raw_get(const char *sub, const char *table, const char *key,
		              unsigned char *out, size_t size);

/* hash_get - a triplet as stored in the hash file (store/hashdb.c), which
 * holds the table since it was moved there; LMDB's copy must be gone */
static size_t hash_get(const char *sub, const char *key, unsigned char *out, size_t size)
{
    struct hashdb *h;
    const void *v;
    char    path[128], err[256];
    size_t  len = 0, vlen;

    assert_int_equal(raw_get(sub, "triplets-in-lmdb", key, out, size), 0);
    snprintf(path, sizeof(path), "%s/%s/triplets.db", dir, sub);
    if ((h = hashdb_open(path, 16 << 20, 1, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    if (hashdb_get(h, key, strlen(key), &v, &vlen) == STORE_OK && vlen <= size) {
	memcpy(out, v, vlen);
	len = vlen;
    }
    hashdb_close(h);
    return len;
}

/* raw_get - a value as stored, into out; its length (0: none) */
static size_t raw_get(const char *sub, const char *table, const char *key,
		              unsigned char *out, size_t size)
{
    if (strcmp(table, "triplets") == 0)
	return hash_get(sub, key, out, size);
    if (strcmp(table, "triplets-in-lmdb") == 0)
	table = "triplets";

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {strlen(key), (void *) key}, v;
    char    path[128];
    size_t  len = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 9), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
    if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size <= size) {
	memcpy(out, v.mv_data, v.mv_size);
	len = v.mv_size;
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return len;
}

/* be64 - 8 bytes big-endian at p */
static void be64(unsigned char *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
	p[i] = (unsigned char) (v & 0xff);
}

/* decide - one request at a test time, its writes committed; its action */
static char *decide(struct policy *p, struct store *s, const char *rcpt, long when)
{
    struct request req;
    struct eval *e = start(p, &req, rcpt, when);
    char   *action;

    while (eval_run(e) == EVAL_PENDING)
	assert_int_equal(store_commit(s), 1);
    action = strdup(eval_action(e));
    eval_free(e);
    request_free(&req);
    return action;
}

static void test_format1_database_is_read_and_upgraded(void **state)
{
    uint32_t one = 1;
    struct gl_triplet t = {1000000, 1000000};
    struct gl_client cl = {4, 990000};
    struct gl_conf g;
    struct buf tkey, ckey;
    struct store *s;
    struct store_opts o;
    struct policy *p;
    unsigned char raw[64], want[18];
    char    err[256], path[128], *a;

    (void) state;
    memset(&g, 0, sizeof(g));
    g.ipv4_prefix = 24;
    g.ipv6_prefix = 64;
    buf_init(&tkey);
    buf_init(&ckey);
    assert_int_equal(gl_triplet_key(&g, "192.0.2.10", NULL, "alice@example.net",
				    "one@our.example", &tkey), 0);
    assert_int_equal(gl_client_key(&g, "192.0.2.10", &ckey), 0);
    struct raw_rec recs[] = {
	{"triplets", tkey.s, &t, sizeof(t)},
	{"clients", ckey.s, &cl, sizeof(cl)},
    };

    raw_write("v1", &one, sizeof(one), recs, 2);

    /* read-only (mxshield greylist list before the daemon restarts):
     * readable, left as it is */
    snprintf(path, sizeof(path), "%s/v1", dir);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.map_size = 1 << 20;
    o.readonly = 1;
    assert_non_null(s = store_open(&o, err, sizeof(err)));
    assert_int_equal(store_count(s, "triplets"), 1);
    store_close(s);
    assert_int_equal(raw_get("v1", "meta", "version", raw, sizeof(raw)), 4);
    assert_memory_equal(raw, &one, 4);

    /* the daemon: the old triplet's retry passes after 400 s, and the
     * old client count (4) reaches the auto-whitelist (5) */
    p = gl_policy_with(&s, "v1", "greylist_allow_test_time = yes\n");
    a = decide(p, s, "one@our.example", 1000400);
    assert_true(strncmp(a, "PREPEND X-Greylist: delayed 400 seconds", 39) == 0);
    free(a);
    a = decide(p, s, "two@our.example", 1000500);
    assert_string_equal(a, "DUNNO");	/* auto-whitelisted */
    free(a);
    policy_unref(p);
    store_close(s);

    /* both records rewritten portably; the database marked format 2 */
    want[0] = STORE_VALUE_VERSION;
    want[1] = STORE_KIND_TRIPLET;
    be64(want + 2, 1000000);
    be64(want + 10, 1000400);
    assert_int_equal(raw_get("v1", "triplets", tkey.s, raw, sizeof(raw)), 18);
    assert_memory_equal(raw, want, 18);
    want[1] = STORE_KIND_CLIENT;
    be64(want + 2, 5);
    be64(want + 10, 1000400);
    assert_int_equal(raw_get("v1", "clients", ckey.s, raw, sizeof(raw)), 18);
    assert_memory_equal(raw, want, 18);
    assert_int_equal(raw_get("v1", "meta", "version", raw, sizeof(raw)), 4);
    assert_memory_equal(raw, "\2\0\0\0", 4);
    buf_free(&tkey);
    buf_free(&ckey);
}

/* a format this mxshield does not know is refused, with its number */
static void test_unknown_format_refused(void **state)
{
    struct store_opts o;
    char    err[256], path[128];

    (void) state;
    raw_write("v3", "\3\0\0\0", 4, NULL, 0);
    snprintf(path, sizeof(path), "%s/v3", dir);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.map_size = 1 << 20;
    o.on_corrupt = STORE_CORRUPT_REFUSE;
    assert_null(store_open(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "database format version 3"));
}

/*
 * A flush that takes as long as the test likes: it records the thread it
 * runs on and waits (at most 5 s) to be released.
 */
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cond = PTHREAD_COND_INITIALIZER;
static pthread_t hook_caller;
static int hook_calls, hook_on_caller, hook_release, hook_result;

static void hook_wait(int *flag, int want)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (*flag < want)
	if (pthread_cond_timedwait(&hook_cond, &hook_lock, &until) == ETIMEDOUT)
	    break;
}

static int slow_flush(void *env)
{
    (void) env;
    pthread_mutex_lock(&hook_lock);
    hook_calls++;
    hook_on_caller |= pthread_equal(pthread_self(), hook_caller);
    pthread_cond_broadcast(&hook_cond);
    hook_wait(&hook_release, 1);
    pthread_mutex_unlock(&hook_lock);
    return hook_result;
}

/* store_sync asks for a flush and returns while the disk is still busy;
 * the flush runs on another thread; a second ask meanwhile returns at
 * once too; a failed flush is reported by the next call */
static void test_sync_does_not_wait_for_the_disk(void **state)
{
    struct store *s;
    struct told w = {0};

    (void) state;
    hook_caller = pthread_self();
    hook_calls = hook_on_caller = hook_release = hook_result = 0;
    store_lmdb_flush_hook(slow_flush);
    s = open_store("sync", 1 << 20);
    store_put(s, "triplets", "k", 1, "v", 1, told_cb, &w);
    assert_int_equal(w.st, STORE_OK);

    assert_int_equal(store_sync(s), 0);	/* returned: the flush waits for us */
    pthread_mutex_lock(&hook_lock);
    hook_wait(&hook_calls, 1);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_on_caller, 0);
    pthread_mutex_unlock(&hook_lock);
    assert_int_equal(store_sync(s), 0);	/* absorbed by the one running */
    store_put(s, "triplets", "k2", 2, "v", 1, told_cb, &w);	/* the loop goes on */
    assert_int_equal(w.st, STORE_OK);

    /* released, the second flush runs and fails: the next ask says so */
    pthread_mutex_lock(&hook_lock);
    hook_result = EIO;
    hook_release = 1;
    pthread_cond_broadcast(&hook_cond);
    hook_wait(&hook_calls, 2);
    assert_int_equal(hook_calls, 2);
    pthread_mutex_unlock(&hook_lock);
    int     rc = 0;

    for (int i = 0; i < 500 && rc == 0; i++) {
	usleep(10000);
	rc = store_sync(s);
    }
    assert_int_equal(rc, -1);
    store_close(s);			/* waits for the thread; flushes itself */
    store_lmdb_flush_hook(NULL);
    assert_int_equal(hook_on_caller, 0);	/* the thread is gone: no race */
}

/* scan_check - every triplet "tNNNNN" is format 2 with first NNNNN */
struct scan_tally {
    long    ok, legacy, bad;
};

static int scan_check(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct scan_tally *x = arg;
    struct gl_triplet t;
    enum store_decoded rc = gl_triplet_decode(val, vlen, &t);

    if (rc == STORE_VALUE_LEGACY)
	x->legacy++;
    else if (rc == STORE_VALUE_BAD)
	x->bad++;
    else if (klen == 6 && ((const char *) key)[0] == 't'
	     && t.first == atol((const char *) key + 1) && t.last == t.first + 1)
	x->ok++;
    return 0;
}

/* the upgrade at open rewrites every format 1 value, over several batches;
 * a format 2 value and an undecodable one are left as they are */
static void test_format1_upgrade_in_batches(void **state)
{
    enum { N = 25003 };
    static char keys[N][16];
    static struct gl_triplet vals[N];
    static struct raw_rec recs[N + 3];
    struct gl_triplet done = {7, 8};
    unsigned char enc[STORE_VALUE_MAX], raw[64];
    int64_t added = 1700000000;
    struct scan_tally x = {0, 0, 0};
    struct store *s;
    char    cursor[512];
    size_t  clen = 0;
    uint32_t one = 1;

    (void) state;
    for (int i = 0; i < N; i++) {
	snprintf(keys[i], sizeof(keys[i]), "t%05d", i);
	vals[i].first = i;
	vals[i].last = i + 1;
	recs[i] = (struct raw_rec) {"triplets", keys[i], &vals[i], sizeof(vals[i])};
    }
    recs[N] = (struct raw_rec) {"triplets", "z-new", enc, gl_triplet_encode(&done, enc)};
    recs[N + 1] = (struct raw_rec) {"whitelist", "192.0.2.0/24", &added, sizeof(added)};
    recs[N + 2] = (struct raw_rec) {"clients", "junk", "12345", 5};
    raw_write("up", &one, sizeof(one), recs, N + 3);

    s = open_store("up", 16 << 20);
    do {
	assert_true(store_scan(s, "triplets", cursor, sizeof(cursor), &clen, 100000,
			       scan_check, &x) >= 0);
    } while (clen > 0);
    store_close(s);
    assert_int_equal(x.ok, N);
    assert_int_equal(x.legacy, 0);
    assert_int_equal(x.bad, 0);
    assert_int_equal(raw_get("up", "triplets", "z-new", raw, sizeof(raw)), 18);
    assert_memory_equal(raw, enc, 18);
    assert_int_equal(raw_get("up", "whitelist", "192.0.2.0/24", raw, sizeof(raw)), 10);
    assert_int_equal(gl_wl_entry_decode(raw, 10, &added), STORE_VALUE_OK);
    assert_true(added == 1700000000);
    assert_int_equal(raw_get("up", "clients", "junk", raw, sizeof(raw)), 5);
    assert_int_equal(raw_get("up", "meta", "version", raw, sizeof(raw)), 4);
    assert_memory_equal(raw, "\2\0\0\0", 4);
}

/*
 * Triplets written to LMDB by an earlier mxshield move into the hash file
 * at the first open for writing; a read-only open before that reads LMDB's;
 * a move cut short (the file has some, unmarked; LMDB still has all) is
 * done again, and nothing is lost or doubled.
 */
static void test_triplets_move_to_hash_file(void **state)
{
    static const char two[4] = {2, 0, 0, 0};
    unsigned char enc[3][STORE_VALUE_MAX], raw[64];
    char    keys[3][64], path[160], err[256];
    struct raw_rec recs[3];
    struct store_opts o;
    struct store *s;
    struct hashdb *h;
    size_t  len[3];

    (void) state;
    for (int i = 0; i < 3; i++) {
	int64_t f[2] = {1700000000 + i, 1700000300 + i};

	snprintf(keys[i], sizeof(keys[i]), "192.0.2/s%d@x.example/r@y.example", i);
	len[i] = store_value_encode(enc[i], STORE_KIND_TRIPLET, f, 2);
	recs[i] = (struct raw_rec) {"triplets", keys[i], enc[i], len[i]};
    }
    raw_write("mv", two, sizeof(two), recs, 3);
    /* read-only first: LMDB's table, no file made */
    snprintf(path, sizeof(path), "%s/mv", dir);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.map_size = 16 << 20;
    o.readonly = 1;
    assert_non_null(s = store_open(&o, err, sizeof(err)));
    assert_int_equal(store_count(s, "triplets"), 3);
    store_close(s);
    snprintf(path, sizeof(path), "%s/mv/triplets.db", dir);
    assert_int_equal(access(path, F_OK), -1);
    /* a move cut short: one record in an unmarked file */
    assert_non_null(h = hashdb_open(path, 16 << 20, 0, err, sizeof(err)));
    assert_int_equal(hashdb_put(h, keys[1], strlen(keys[1]), enc[1], len[1]), STORE_OK);
    assert_int_equal(hashdb_flags(h) & HASHDB_F_MIGRATED, 0);
    hashdb_close(h);
    /* the daemon's open finishes it */
    s = open_store("mv", 16 << 20);
    assert_int_equal(store_count(s, "triplets"), 3);
    store_close(s);
    for (int i = 0; i < 3; i++) {
	assert_int_equal(raw_get("mv", "triplets", keys[i], raw, sizeof(raw)), len[i]);
	assert_memory_equal(raw, enc[i], len[i]);
    }
    assert_non_null(h = hashdb_open(path, 16 << 20, 1, err, sizeof(err)));
    assert_int_equal(hashdb_flags(h) & HASHDB_F_MIGRATED, HASHDB_F_MIGRATED);
    assert_int_equal(hashdb_count(h), 3);
    hashdb_close(h);
    /* and read-only afterwards: the file's */
    o.path = path;
    snprintf(path, sizeof(path), "%s/mv", dir);
    o.path = path;
    assert_non_null(s = store_open(&o, err, sizeof(err)));
    assert_int_equal(store_count(s, "triplets"), 3);
    store_close(s);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_batch_waits_for_commit),
	cmocka_unit_test(test_close_commits_the_batch),
	cmocka_unit_test(test_failed_write_fails_its_batch),
	cmocka_unit_test(test_long_key_fails_alone),
	cmocka_unit_test(test_greylist_answers_after_commit),
	cmocka_unit_test(test_evaluation_freed_while_waiting),
	cmocka_unit_test(test_no_answer_from_an_uncommitted_write),
	cmocka_unit_test(test_later_backend_decides),
	cmocka_unit_test(test_later_backend_read_error_defers),
	cmocka_unit_test(test_later_backend_client_gone),
	cmocka_unit_test(test_format1_database_is_read_and_upgraded),
	cmocka_unit_test(test_format1_upgrade_in_batches),
	cmocka_unit_test(test_unknown_format_refused),
	cmocka_unit_test(test_sync_does_not_wait_for_the_disk),
	cmocka_unit_test(test_triplets_move_to_hash_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
