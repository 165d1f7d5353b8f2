/*
 * test_redis.c - the Redis backend's keys and its reading of replies
 * (store/redis_reply.c), replies made by hiredis's own parser from wire
 * bytes; greylisting's TTLs (greylist/greylist.c); the store's TTL
 * interface on a backend without TTLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "greylist/greylist.h"
#include "store/redis_impl.h"

/* reply - the one reply in wire bytes */
static redisReply *reply(const char *wire, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void   *r = NULL;

    assert_non_null(rd);
    assert_int_equal(redisReaderFeed(rd, wire, len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &r), REDIS_OK);
    assert_non_null(r);
    redisReaderFree(rd);
    return r;
}

#define REPLY(lit) reply((lit), sizeof(lit) - 1)

static void test_keys(void **state)
{
    struct buf b;
    const char *k;
    size_t  kl;

    (void) state;
    buf_init(&b);
    redis_key(&b, "mxshield:", "clients", "192.0.2.5", 9);
    assert_string_equal(b.s, "mxshield:clients:{192.0.2.5}");
    assert_int_equal(redis_key_split(b.s, b.len, "mxshield:", "clients", &k, &kl), 0);
    assert_int_equal(kl, 9);
    assert_memory_equal(k, "192.0.2.5", 9);
    /* another table, another prefix, no braces: not ours */
    assert_int_equal(redis_key_split(b.s, b.len, "mxshield:", "triplets", &k, &kl), -1);
    assert_int_equal(redis_key_split(b.s, b.len, "mx:", "clients", &k, &kl), -1);
    assert_int_equal(redis_key_split("mxshield:clients:", 17, "mxshield:", "clients", &k, &kl),
		     -1);
    /* an empty key is a key */
    redis_key(&b, "p", "t", "", 0);
    assert_string_equal(b.s, "pt:{}");
    assert_int_equal(redis_key_split(b.s, b.len, "p", "t", &k, &kl), 0);
    assert_int_equal(kl, 0);
    /* the subject, up to the first '/', is the hash tag */
    static const char *const keys[][2] = {
	{"192.0.2.0/a@b.example/c@d.example", "p:t:{192.0.2.0}/a@b.example/c@d.example"},
	{"192.0.2.0/24", "p:t:{192.0.2.0}/24"},
	{"192.0.2.5/rule", "p:t:{192.0.2.5}/rule"},
	{"/x", "p:t:{}/x"},
	{"a}/b}/", "p:t:{a}}/b}/"},
	{"}", "p:t:{}}"},
	{"{x}", "p:t:{{x}}"},
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
	redis_key(&b, "p:", "t", keys[i][0], strlen(keys[i][0]));
	assert_string_equal(b.s, keys[i][1]);
	assert_int_equal(redis_key_split(b.s, b.len, "p:", "t", &k, &kl), 0);
	assert_int_equal(kl, strlen(keys[i][0]));
	assert_memory_equal(k, keys[i][0], kl);
    }
    assert_int_equal(redis_key_split("p:t:{a/b}", 9, "p:", "t", &k, &kl), -1);
    assert_int_equal(redis_key_split("p:t:{ab", 7, "p:", "t", &k, &kl), -1);
    /* glob characters of the prefix are quoted for SCAN MATCH */
    redis_scan_pattern(&b, "a*b?[x]", "triplets");
    assert_string_equal(b.s, "a\\*b\\?\\[x\\]triplets:{*");
    buf_free(&b);
}

static void test_values(void **state)
{
    redisReply *r;
    const void *v;
    size_t  len;

    (void) state;
    r = REPLY("$3\r\nabc\r\n");
    assert_int_equal(redis_reply_value(r, &v, &len), STORE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "abc", 3);
    assert_int_equal(redis_reply_set(r), STORE_ERROR);
    freeReplyObject(r);
    r = REPLY("$-1\r\n");
    assert_int_equal(redis_reply_value(r, &v, &len), STORE_NOTFOUND);
    freeReplyObject(r);
    /* anything else is an error, never a value */
    r = REPLY("-ERR no\r\n");
    assert_int_equal(redis_reply_value(r, &v, &len), STORE_ERROR);
    assert_null(v);
    freeReplyObject(r);
    r = REPLY(":5\r\n");
    assert_int_equal(redis_reply_value(r, &v, &len), STORE_ERROR);
    assert_int_equal(redis_reply_del(r), STORE_OK);
    freeReplyObject(r);
    r = REPLY("*1\r\n$1\r\nx\r\n");
    assert_int_equal(redis_reply_value(r, &v, &len), STORE_ERROR);
    freeReplyObject(r);
    assert_int_equal(redis_reply_value(NULL, &v, &len), STORE_ERROR);
    r = REPLY("+OK\r\n");
    assert_int_equal(redis_reply_set(r), STORE_OK);
    freeReplyObject(r);
    r = REPLY("+QUEUED\r\n");
    assert_int_equal(redis_reply_set(r), STORE_ERROR);
    freeReplyObject(r);
    r = REPLY(":0\r\n");
    assert_int_equal(redis_reply_del(r), STORE_NOTFOUND);
    freeReplyObject(r);
    r = REPLY(":-1\r\n");
    assert_int_equal(redis_reply_del(r), STORE_ERROR);
    freeReplyObject(r);
}

static void test_scan(void **state)
{
    char    cur[8];
    size_t  cl = 99;
    const redisReply *keys;
    redisReply *r;

    (void) state;
    r = REPLY("*2\r\n$2\r\n17\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), 0);
    assert_string_equal(cur, "17");
    assert_int_equal(cl, 2);
    assert_int_equal(keys->elements, 2);
    freeReplyObject(r);
    r = REPLY("*2\r\n$1\r\n0\r\n*0\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), 0);
    assert_int_equal(cl, 0);
    freeReplyObject(r);
    /* malformed: a cursor not digits, one too long, a key not a string */
    r = REPLY("*2\r\n$2\r\n1x\r\n*0\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), -1);
    freeReplyObject(r);
    r = REPLY("*2\r\n$8\r\n12345678\r\n*0\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), -1);
    freeReplyObject(r);
    r = REPLY("*2\r\n$1\r\n5\r\n*1\r\n:1\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), -1);
    freeReplyObject(r);
    r = REPLY("*1\r\n$1\r\n5\r\n");
    assert_int_equal(redis_reply_scan(r, cur, sizeof(cur), &cl, &keys), -1);
    freeReplyObject(r);
}

static void test_role_sentinel_version(void **state)
{
    char    host[REDIS_HOST_MAX];
    int     port;
    redisReply *r;

    (void) state;
    r = REPLY("*3\r\n$6\r\nmaster\r\n:10\r\n*0\r\n");
    assert_int_equal(redis_reply_role_master(r), 1);
    freeReplyObject(r);
    r = REPLY("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:10\r\n");
    assert_int_equal(redis_reply_role_master(r), 0);
    freeReplyObject(r);
    r = REPLY("-NOPERM no\r\n");
    assert_int_equal(redis_reply_role_master(r), -1);
    assert_true(redis_reply_auth_error(r));
    assert_false(redis_reply_elsewhere(r));
    freeReplyObject(r);
    r = REPLY("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
    assert_int_equal(redis_reply_master_addr(r, host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6380);
    freeReplyObject(r);
    r = REPLY("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n");
    assert_int_equal(redis_reply_master_addr(r, host, &port), -1);
    freeReplyObject(r);
    r = REPLY("*2\r\n$3\r\na\0b\r\n$2\r\n10\r\n");
    assert_int_equal(redis_reply_master_addr(r, host, &port), -1);
    freeReplyObject(r);
    r = REPLY("*-1\r\n");			/* unknown master name */
    assert_int_equal(redis_reply_master_addr(r, host, &port), -1);
    freeReplyObject(r);
    r = REPLY("$4\r\n\x02\0\0\0\r\n");
    assert_int_equal(redis_reply_version(r), 2);
    freeReplyObject(r);
    r = REPLY("$-1\r\n");
    assert_int_equal(redis_reply_version(r), 0);
    freeReplyObject(r);
    r = REPLY("$3\r\n\x02\0\0\r\n");
    assert_int_equal(redis_reply_version(r), -1);
    freeReplyObject(r);
    r = REPLY("-READONLY You can't write against a read only replica.\r\n");
    assert_true(redis_reply_elsewhere(r));
    assert_false(redis_reply_auth_error(r));
    freeReplyObject(r);
    r = REPLY("-WRONGPASS invalid username-password pair\r\n");
    assert_true(redis_reply_auth_error(r));
    freeReplyObject(r);
}

static void test_hostport(void **state)
{
    char    h[REDIS_HOST_MAX];
    int     p;

    (void) state;
    assert_int_equal(redis_hostport("127.0.0.1:6380", h, &p), 0);
    assert_string_equal(h, "127.0.0.1");
    assert_int_equal(p, 6380);
    assert_int_equal(redis_hostport("redis.example", h, &p), 0);
    assert_int_equal(p, 6379);
    assert_int_equal(redis_hostport("[::1]:7000", h, &p), 0);
    assert_string_equal(h, "::1");
    assert_int_equal(p, 7000);
    assert_int_equal(redis_hostport("::1", h, &p), 0);
    assert_string_equal(h, "::1");
    assert_int_equal(redis_hostport("h:0", h, &p), -1);
    assert_int_equal(redis_hostport("h:65536", h, &p), -1);
    assert_int_equal(redis_hostport("h:12x", h, &p), -1);
    assert_int_equal(redis_hostport(":1", h, &p), -1);
    assert_int_equal(redis_hostport("[::1", h, &p), -1);
    assert_int_equal(redis_hostport("[::1]x", h, &p), -1);
}

/* an array longer than REDIS_ARRAY_MAX, or of a negative count, is refused */
static void test_reader_bound(void **state)
{
    static const char *const bad[] = {"*100001\r\n", "*-2\r\n", "*2\r\n*100001\r\n"};
    static const char ok[] = "*2\r\n*0\r\n*-1\r\n";

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	redisReader *rd = redisReaderCreate();
	void   *r = NULL;

	redis_reader_bound(rd);
	assert_int_equal(redisReaderFeed(rd, bad[i], strlen(bad[i])), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &r), REDIS_ERR);
	assert_null(r);
	redisReaderFree(rd);
    }
    redisReader *rd = redisReaderCreate();
    void   *r = NULL;

    redis_reader_bound(rd);
    assert_int_equal(redisReaderFeed(rd, ok, sizeof(ok) - 1), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &r), REDIS_OK);
    assert_non_null(r);
    assert_int_equal(((redisReply *) r)->elements, 2);
    freeReplyObject(r);
    redisReaderFree(rd);
}

/* greylisting's TTLs end where its expiry rules begin */
static void test_ttls(void **state)
{
    const struct gl_conf g = {.delay = 300, .max_age = 35 * 86400, .retry_window = 2 * 86400};
    struct gl_triplet t = {1000000, 1000000};
    struct gl_client cl = {3, 1000000};
    int64_t now = 1000000;
    long    ttl;

    (void) state;
    ttl = gl_triplet_ttl(&g, now, &t);	/* not passed: the retry window */
    assert_int_equal(ttl, 2 * 86400 + 1);
    assert_false(gl_triplet_expired(&g, now + ttl - 1, &t));
    assert_true(gl_triplet_expired(&g, now + ttl, &t));
    t.first = t.last - 300;		/* passed: max age */
    ttl = gl_triplet_ttl(&g, now, &t);
    assert_int_equal(ttl, 35 * 86400 + 1);
    assert_false(gl_triplet_expired(&g, now + ttl - 1, &t));
    assert_true(gl_triplet_expired(&g, now + ttl, &t));
    assert_true(gl_triplet_ttl(&g, now + 36 * 86400, &t) <= 0);
    ttl = gl_client_ttl(&g, now, &cl);
    assert_false(gl_client_expired(&g, now + ttl - 1, &cl));
    assert_true(gl_client_expired(&g, now + ttl, &cl));
}

static void got_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    (void) val;
    (void) len;
    *(enum store_status *) arg = st;
}

/* store_put_ttl on a backend without TTLs (LMDB) is store_put; the
 * store opened for store = redis without a server fails with a reason */
static void test_ttl_interface(void **state)
{
    char    dir[] = "/tmp/mxredis-unit.XXXXXX", err[512];
    struct store_opts o;
    struct store *s;
    enum store_status st = STORE_ERROR;

    (void) state;
    assert_non_null(mkdtemp(dir));
    memset(&o, 0, sizeof(o));
    o.path = dir;
    o.map_size = 1 << 20;
    s = store_open(&o, err, sizeof(err));
    assert_non_null(s);
    assert_false(store_expires(s));
    store_put_ttl(s, "clients", "k", 1, "v", 1, 60, got_cb, &st);
    store_commit(s);
    assert_int_equal(st, STORE_OK);
    st = STORE_ERROR;
    store_get(s, "clients", "k", 1, got_cb, &st);
    assert_int_equal(st, STORE_OK);
    store_close(s);
    char    cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);

    o.backend = STORE_BACKEND_REDIS;
    o.redis.servers = "127.0.0.1:1";
    o.redis.prefix = "mxshield:";
    assert_null(store_open(&o, err, sizeof(err)));
    assert_string_equal(err, "redis 127.0.0.1:1: cannot connect: Connection refused");
    o.redis.servers = "127.0.0.1:99999";
    assert_null(store_open(&o, err, sizeof(err)));
    assert_string_equal(err, "redis_servers: bad address \"127.0.0.1:99999\" (expected host:port)");
    o.redis.servers = "";
    assert_null(store_open(&o, err, sizeof(err)));
    assert_string_equal(err, "store = redis, but neither redis_servers nor redis_sentinels is set");
    o.redis.servers = "127.0.0.1:1";
    o.redis.user = "u";
    assert_null(store_open(&o, err, sizeof(err)));
    assert_string_equal(err, "redis_user is set but redis_password is empty");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_values),
	cmocka_unit_test(test_scan),
	cmocka_unit_test(test_role_sentinel_version),
	cmocka_unit_test(test_hostport),
	cmocka_unit_test(test_reader_bound),
	cmocka_unit_test(test_ttls),
	cmocka_unit_test(test_ttl_interface),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
