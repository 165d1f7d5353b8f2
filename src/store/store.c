/*
 * store.c - the store interface: each call goes to the backend's
 * store_ops: LMDB (store/lmdb.c) or Redis (store/redis.c), which answers
 * later, over the network.
 */
#include "store/store.h"

struct store *store_open(const struct store_opts *o, char *err, size_t errlen)
{
    if (o->backend == STORE_BACKEND_REDIS)
	return store_redis_open(o, err, errlen);
    return store_lmdb_open(o, err, errlen);
}

void    store_close(struct store *s)
{
    if (s)
	s->ops->close(s);
}

void    store_get(struct store *s, const char *table, const void *key, size_t klen,
		          store_cb cb, void *arg)
{
    s->ops->get(s, table, key, klen, cb, arg);
}

void    store_put(struct store *s, const char *table, const void *key, size_t klen,
		          const void *val, size_t vlen, store_cb cb, void *arg)
{
    s->ops->put(s, table, key, klen, val, vlen, cb, arg);
}

void    store_del(struct store *s, const char *table, const void *key, size_t klen,
		          store_cb cb, void *arg)
{
    s->ops->del(s, table, key, klen, cb, arg);
}

long    store_scan(struct store *s, const char *table, char *cursor, size_t cursor_size,
		           size_t *cursor_len, long max, store_scan_fn fn, void *arg)
{
    return s->ops->scan(s, table, cursor, cursor_size, cursor_len, max, fn, arg);
}

int     store_read_begin(struct store *s)
{
    return s->ops->read_begin(s);
}

void    store_read_end(struct store *s)
{
    s->ops->read_end(s);
}

int     store_empty(struct store *s, const char *table)
{
    return s->ops->empty(s, table);
}

void    store_batch(struct store *s, int on)
{
    s->ops->batch(s, on);
}

int     store_commit(struct store *s)
{
    return s->ops->commit(s);
}

int     store_readonly(const struct store *s)
{
    return s->ops->readonly(s);
}

int     store_sync(struct store *s)
{
    return s->ops->sync(s);
}

long    store_count(struct store *s, const char *table)
{
    return s->ops->count(s, table);
}

void    store_put_ttl(struct store *s, const char *table, const void *key, size_t klen,
		              const void *val, size_t vlen, long ttl, store_cb cb, void *arg)
{
    if (s->ttl)
	s->ttl->put_ttl(s, table, key, klen, val, vlen, ttl, cb, arg);
    else
	s->ops->put(s, table, key, klen, val, vlen, cb, arg);
}

int     store_expires(const struct store *s)
{
    return s->ttl != NULL;
}

void    store_counter_hit(struct store *s, const char *table, const void *key, size_t klen,
			          int64_t now, long window, long n, store_cb cb, void *arg)
{
    if (store_has_counter(s))
	s->ttl->counter_hit(s, table, key, klen, now, window, n, cb, arg);
    else
	cb(arg, STORE_ERROR, NULL, 0);	/* a caller's bug: store_has_counter first */
}

int     store_has_counter(const struct store *s)
{
    return s->ttl != NULL && s->ttl->counter_hit != NULL;
}

long    store_pass_due_ms(struct store *s)
{
    return s->pass_due ? s->pass_due(s) : -1;
}
