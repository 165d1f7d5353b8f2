/*
 * redis_sync.c - the Redis backend, blocking: for command-line tools
 * (mxshield greylist list, purge, migrate; mxshield check) and for the
 * daemon's one check at start, before it serves anyone.  The daemon
 * itself talks to Redis only asynchronously (store/redis.c).
 *
 * SYNOPSIS
 *	redis_conf_load(&c, &opts->redis, err, errlen);
 *	rc = redis_sync_connect(&c, err, errlen, &auth_refused);
 *	s = store_redis_sync_open(opts, err, errlen);
 *
 * DIAGNOSTICS
 *	Errors name the server and say what failed: the connection, the
 *	credentials (AUTH), the database (SELECT), or that the server is a
 *	replica.  Every command waits at most redis_command_timeout.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "store/redis_impl.h"
#include "util/log.h"
#include "util/mem.h"

/* resolve - host names to addresses, once, at open: the daemon's loop
 * never waits for a name lookup */
static int resolve(struct redis_addr *a, char *err, size_t errlen)
{
    struct addrinfo hints, *res;
    int     rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(a->host, NULL, &hints, &res)) != 0) {
	snprintf(err, errlen, "redis: cannot resolve \"%s\": %s", a->host, gai_strerror(rc));
	return -1;
    }
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, a->host, sizeof(a->host), NULL, 0,
		     NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0) {
	snprintf(err, errlen, "redis: cannot resolve \"%s\": %s", a->host, gai_strerror(rc));
	return -1;
    }
    return 0;
}

/* addr_list - "host:port ..." into a resolved array */
static int addr_list(const char *spec, const char *param, struct redis_addr **out, size_t *n,
		             char *err, size_t errlen)
{
    struct strlist l;
    int     rc = 0;

    strlist_init(&l);
    strlist_split(&l, spec ? spec : "", LIST_SEPS);
    *out = l.n ? xcalloc(l.n, sizeof(**out)) : NULL;
    *n = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
	struct redis_addr *a = &(*out)[(*n)++];

	if (redis_hostport(l.v[i], a->host, &a->port) < 0) {
	    snprintf(err, errlen, "%s: bad address \"%s\" (expected host:port)", param, l.v[i]);
	    rc = -1;
	} else {
	    rc = resolve(a, err, errlen);
	}
    }
    strlist_free(&l);
    return rc;
}

int     redis_conf_load(struct redis_conf *c, const struct store_redis_opts *o,
			        char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->master_name = xstrdup(o->master_name ? o->master_name : "");
    c->user = xstrdup(o->user ? o->user : "");
    c->password = xstrdup(o->password ? o->password : "");
    c->prefix = xstrdup(o->prefix ? o->prefix : "");
    c->database = o->database;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 1000;
    c->command_timeout_ms = o->command_timeout_ms > 0 ? o->command_timeout_ms : 1000;
    if (addr_list(o->servers, "redis_servers", &c->servers, &c->nservers, err, errlen) < 0
	|| addr_list(o->sentinels, "redis_sentinels", &c->sentinels, &c->nsentinels,
		     err, errlen) < 0)
	return -1;
    if (c->nsentinels && *c->master_name == 0) {
	snprintf(err, errlen, "redis_sentinels is set but redis_master_name is empty");
	return -1;
    }
    if (c->nsentinels == 0 && c->nservers == 0) {
	snprintf(err, errlen, "store = redis, but neither redis_servers nor redis_sentinels is set");
	return -1;
    }
    if (*c->user && *c->password == 0) {
	snprintf(err, errlen, "redis_user is set but redis_password is empty");
	return -1;
    }
    return 0;
}

void    redis_conf_free(struct redis_conf *c)
{
    free(c->servers);
    free(c->sentinels);
    free(c->master_name);
    free(c->user);
    free(c->password);
    free(c->prefix);
    memset(c, 0, sizeof(*c));
}

/* tv_ms - a timeval of ms milliseconds */
static struct timeval tv_ms(long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    return tv;
}

/* connect_to - a blocking connection with both timeouts */
static redisContext *connect_to(const struct redis_conf *c, const struct redis_addr *a,
				        char *err, size_t errlen)
{
    redisContext *rc = redisConnectWithTimeout(a->host, a->port, tv_ms(c->connect_timeout_ms));

    if (rc == NULL || rc->err) {
	snprintf(err, errlen, "redis %s:%d: cannot connect: %s", a->host, a->port,
		 rc ? rc->errstr : "out of memory");
	if (rc)
	    redisFree(rc);
	return NULL;
    }
    redisSetTimeout(rc, tv_ms(c->command_timeout_ms));
    redis_reader_bound(rc->reader);
    return rc;
}

/* ask_sentinels - the master's address from the first Sentinel that knows */
static int ask_sentinels(const struct redis_conf *c, struct redis_addr *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nsentinels; i++) {
	const struct redis_addr *a = &c->sentinels[i];
	redisContext *rc = connect_to(c, a, err, errlen);
	redisReply *r;

	if (rc == NULL)
	    continue;
	r = redisCommand(rc, "SENTINEL get-master-addr-by-name %s", c->master_name);
	if (r && redis_reply_master_addr(r, m->host, &m->port) == 0) {
	    freeReplyObject(r);
	    redisFree(rc);
	    return 0;
	}
	snprintf(err, errlen, "redis sentinel %s:%d: no address for master \"%s\"%s%s",
		 a->host, a->port, c->master_name, r && r->type == REDIS_REPLY_ERROR ? ": " : "",
		 r && r->type == REDIS_REPLY_ERROR ? r->str : rc->err ? rc->errstr : "");
	if (r)
	    freeReplyObject(r);
	redisFree(rc);
    }
    return -1;
}

/* handshake - AUTH, SELECT and, if the server could be a replica, ROLE */
static int handshake(redisContext *rc, const struct redis_conf *c, const struct redis_addr *a,
		             int want_master, char *err, size_t errlen, int *auth_refused)
{
    redisReply *r = NULL;
    int     ok = 0;

    if (*c->password) {
	r = *c->user ? redisCommand(rc, "AUTH %s %s", c->user, c->password)
	    : redisCommand(rc, "AUTH %s", c->password);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    *auth_refused = r != NULL;
	    snprintf(err, errlen, "redis %s:%d: authentication as \"%s\" refused: %s",
		     a->host, a->port, *c->user ? c->user : "default",
		     r ? r->str : rc->errstr);
	    goto out;
	}
	freeReplyObject(r);
    }
    if (c->database) {
	r = redisCommand(rc, "SELECT %ld", c->database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    *auth_refused = redis_reply_auth_error(r);
	    snprintf(err, errlen, "redis %s:%d: SELECT %ld (redis_database) failed: %s",
		     a->host, a->port, c->database, r ? r->str : rc->errstr);
	    goto out;
	}
	freeReplyObject(r);
    }
    r = redisCommand(rc, want_master ? "ROLE" : "PING");
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	*auth_refused = redis_reply_auth_error(r);
	snprintf(err, errlen, "redis %s:%d: %s failed: %s%s", a->host, a->port,
		 want_master ? "ROLE" : "PING", r ? r->str : rc->errstr,
		 redis_reply_auth_error(r) ? " (PING and ROLE must be allowed)" : "");
	goto out;
    }
    if (want_master && redis_reply_role_master(r) != 1) {
	snprintf(err, errlen, "redis %s:%d: not a master", a->host, a->port);
	goto out;
    }
    ok = 1;
  out:
    if (r)
	freeReplyObject(r);
    return ok ? 0 : -1;
}

redisContext *redis_sync_connect(const struct redis_conf *c, char *err, size_t errlen,
				         int *auth_refused, size_t *server)
{
    struct redis_addr m;
    redisContext *rc;

    *auth_refused = 0;
    *server = 0;
    if (c->nsentinels) {
	if (ask_sentinels(c, &m, err, errlen) < 0)
	    return NULL;
	if ((rc = connect_to(c, &m, err, errlen)) == NULL)
	    return NULL;
	if (handshake(rc, c, &m, 1, err, errlen, auth_refused) < 0) {
	    redisFree(rc);
	    return NULL;
	}
	return rc;
    }
    for (size_t i = 0; i < c->nservers; i++) {
	if ((rc = connect_to(c, &c->servers[i], err, errlen)) == NULL)
	    continue;
	if (handshake(rc, c, &c->servers[i], c->nservers > 1, err, errlen, auth_refused) == 0) {
	    *server = i;
	    return rc;
	}
	redisFree(rc);
	if (*auth_refused)
	    return NULL;
    }
    return NULL;
}

int     redis_sync_version(redisContext *rc, const struct redis_conf *c, int readonly,
			           char *err, size_t errlen)
{
    unsigned char v[4] = {STORE_FORMAT_VERSION, 0, 0, 0};
    struct buf key;
    redisReply *r;
    long    have;
    int     ok = -1;

    buf_init(&key);
    buf_printf(&key, "%s%s", c->prefix, REDIS_META_VERSION);
    if (!readonly) {
	/* written once; a user who may not write is told now, not per answer */
	r = redisCommand(rc, "SET %b %b NX", key.s, key.len, v, sizeof(v));
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    snprintf(err, errlen, "redis: cannot write %s: %s", key.s, r ? r->str : rc->errstr);
	    if (r)
		freeReplyObject(r);
	    buf_free(&key);
	    return -1;
	}
	freeReplyObject(r);
    }
    r = redisCommand(rc, "GET %b", key.s, key.len);
    have = redis_reply_version(r);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
	snprintf(err, errlen, "redis: cannot read %s: %s", key.s, r ? r->str : rc->errstr);
    else if (have < 0)
	snprintf(err, errlen, "redis: %s is not a format version", key.s);
    else if (have > STORE_FORMAT_VERSION)
	snprintf(err, errlen, "redis: format %ld (%s) is newer than this mxshield's %d",
		 have, key.s, STORE_FORMAT_VERSION);
    else
	ok = 0;
    if (r)
	freeReplyObject(r);
    buf_free(&key);
    return ok;
}

/*
 * The synchronous store: every call sends its command and waits for the
 * reply; callbacks run before the call returns.
 */
struct rsync {
    struct store base;
    struct redis_conf c;
    redisContext *rc;
    int     readonly;
    struct redis_used used;
    struct buf key, pat;
};

/* rs_reply - a command's reply; NULL (logged) if the connection failed */
static redisReply *rs_reply(struct rsync *s, redisReply *r)
{
    if (r == NULL)
	msg_warn("redis: %s", s->rc->errstr);
    else if (r->type == REDIS_REPLY_ERROR)
	msg_warn("redis: %s", r->str);
    return r;
}

static void rs_close(struct store *st)
{
    struct rsync *s = (struct rsync *) st;

    redisFree(s->rc);
    redis_conf_free(&s->c);
    buf_free(&s->key);
    buf_free(&s->pat);
    free(s);
}

static void rs_get(struct store *st, const char *table, const void *key, size_t klen,
		           store_cb cb, void *arg)
{
    struct rsync *s = (struct rsync *) st;
    redisReply *r;
    const void *val;
    size_t  len;
    enum store_status status;

    redis_key(&s->key, s->c.prefix, table, key, klen);
    r = rs_reply(s, redisCommand(s->rc, "GET %b", s->key.s, s->key.len));
    status = redis_reply_value(r, &val, &len);
    cb(arg, status, val, len);
    if (r)
	freeReplyObject(r);
}

static void rs_put_ttl(struct store *st, const char *table, const void *key, size_t klen,
		               const void *val, size_t vlen, long ttl, store_cb cb, void *arg)
{
    struct rsync *s = (struct rsync *) st;
    redisReply *r;
    enum store_status status;

    if (redis_used_note(&s->used, table) != 0) {
	/* the table has a record now: readers may not skip it */
	r = rs_reply(s, redisCommand(s->rc, "SET %s" REDIS_META_USED "%s 1", s->c.prefix, table));
	if (redis_reply_set(r) != STORE_OK)
	    redis_used_forget(&s->used, table);
	if (r)
	    freeReplyObject(r);
    }
    redis_key(&s->key, s->c.prefix, table, key, klen);
    if (ttl > 0)
	r = redisCommand(s->rc, "SET %b %b EX %ld", s->key.s, s->key.len, val, vlen, ttl);
    else
	r = redisCommand(s->rc, "SET %b %b", s->key.s, s->key.len, val, vlen);
    status = redis_reply_set(rs_reply(s, r));
    if (r)
	freeReplyObject(r);
    if (cb)
	cb(arg, status, NULL, 0);
}

/* rs_counter_hit - the counter script (store/redis_counter.c), by EVAL */
static void rs_counter_hit(struct store *st, const char *table, const void *key, size_t klen,
			           int64_t now, long window, long n, store_cb cb, void *arg)
{
    struct rsync *s = (struct rsync *) st;
    redisReply *r;
    const void *val = NULL;
    size_t  len = 0;
    enum store_status status;

    if (redis_used_note(&s->used, table) != 0) {
	r = rs_reply(s, redisCommand(s->rc, "SET %s" REDIS_META_USED "%s 1", s->c.prefix, table));
	if (redis_reply_set(r) != STORE_OK)
	    redis_used_forget(&s->used, table);
	if (r)
	    freeReplyObject(r);
    }
    redis_key(&s->key, s->c.prefix, table, key, klen);
    r = rs_reply(s, redisCommand(s->rc, "EVAL %s 1 %b %lld %ld %ld", redis_counter_script,
				 s->key.s, s->key.len, (long long) now, window, n));
    status = redis_reply_value(r, &val, &len);
    cb(arg, status == STORE_OK ? STORE_OK : STORE_ERROR, val, len);
    if (r)
	freeReplyObject(r);
}

static void rs_put(struct store *st, const char *table, const void *key, size_t klen,
		           const void *val, size_t vlen, store_cb cb, void *arg)
{
    rs_put_ttl(st, table, key, klen, val, vlen, 0, cb, arg);
}

static void rs_del(struct store *st, const char *table, const void *key, size_t klen,
		           store_cb cb, void *arg)
{
    struct rsync *s = (struct rsync *) st;
    redisReply *r;
    enum store_status status;

    redis_key(&s->key, s->c.prefix, table, key, klen);
    r = rs_reply(s, redisCommand(s->rc, "DEL %b", s->key.s, s->key.len));
    status = redis_reply_del(r);
    if (r)
	freeReplyObject(r);
    if (cb)
	cb(arg, status, NULL, 0);
}

/* rs_scan - one SCAN step, the values fetched in one pipeline */
static long rs_scan(struct store *st, const char *table, char *cursor, size_t cursor_size,
		            size_t *cursor_len, long max, store_scan_fn fn, void *arg)
{
    struct rsync *s = (struct rsync *) st;
    const redisReply *keys;
    redisReply *r, *v;
    long    seen = 0;
    int     stop = 0;

    redis_scan_pattern(&s->pat, s->c.prefix, table);
    r = rs_reply(s, redisCommand(s->rc, "SCAN %s MATCH %b COUNT %ld",
				 *cursor_len ? cursor : "0", s->pat.s, s->pat.len,
				 max > 0 ? max : REDIS_SCAN_COUNT));
    if (r == NULL || redis_reply_scan(r, cursor, cursor_size, cursor_len, &keys) < 0) {
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    for (size_t i = 0; i < keys->elements; i++)
	redisAppendCommand(s->rc, "GET %b", keys->element[i]->str, keys->element[i]->len);
    for (size_t i = 0; i < keys->elements; i++) {
	const redisReply *k = keys->element[i];
	const char *key;
	size_t  klen, vlen;
	const void *val;
	int     what;

	if (redisGetReply(s->rc, (void **) &v) != REDIS_OK) {
	    freeReplyObject(r);
	    return -1;
	}
	if (!stop && redis_reply_value(v, &val, &vlen) == STORE_OK
	    && redis_key_split(k->str, k->len, s->c.prefix, table, &key, &klen) == 0) {
	    seen++;
	    if ((what = fn(arg, key, klen, val, vlen)) < 0) {
		stop = 1;		/* the rest of this step is not visited */
	    } else if (what == 1 && !s->readonly) {
		redisReply *d = redisCommand(s->rc, "DEL %b", k->str, k->len);

		if (d)
		    freeReplyObject(d);
	    }
	}
	freeReplyObject(v);
    }
    freeReplyObject(r);
    return seen;
}

static int rs_noop(struct store *st)
{
    (void) st;
    return 0;
}

static void rs_read_end(struct store *st)
{
    (void) st;
}

static int rs_empty(struct store *st, const char *table)
{
    (void) st;
    (void) table;
    return 0;
}

static void rs_batch(struct store *st, int on)
{
    (void) st;
    (void) on;
}

static int rs_readonly(const struct store *st)
{
    return ((const struct rsync *) st)->readonly;
}

static int count_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void) key;
    (void) klen;
    (void) val;
    (void) vlen;
    ++*(long *) arg;
    return 0;
}

static long rs_count(struct store *st, const char *table)
{
    char    cursor[32];
    size_t  clen = 0;
    long    n = 0;

    do {
	if (rs_scan(st, table, cursor, sizeof(cursor), &clen, REDIS_SCAN_COUNT, count_fn, &n) < 0)
	    return -1;
    } while (clen > 0);
    return n;
}

static const struct store_ops rsync_ops = {
    "redis", rs_close, rs_get, rs_put, rs_del, rs_scan, rs_noop, rs_read_end, rs_empty,
    rs_batch, rs_noop, rs_readonly, rs_noop, rs_count,
};

static const struct store_ttl_ops rs_ttl_ops = {rs_put_ttl, rs_counter_hit};

struct store *store_redis_sync_open(const struct store_opts *o, char *err, size_t errlen)
{
    struct rsync *s = xcalloc(1, sizeof(*s));
    int     auth_refused;
    size_t  server;

    s->base.ops = &rsync_ops;
    s->base.ttl = &rs_ttl_ops;
    s->readonly = o->readonly;
    buf_init(&s->key);
    buf_init(&s->pat);
    if (redis_conf_load(&s->c, &o->redis, err, errlen) < 0
	|| (s->rc = redis_sync_connect(&s->c, err, errlen, &auth_refused, &server)) == NULL
	|| redis_sync_version(s->rc, &s->c, o->readonly, err, errlen) < 0) {
	if (s->rc)
	    redisFree(s->rc);
	s->rc = NULL;
	redis_conf_free(&s->c);
	buf_free(&s->key);
	buf_free(&s->pat);
	free(s);
	return NULL;
    }
    return s->base.ops == NULL ? NULL : &s->base;
}
