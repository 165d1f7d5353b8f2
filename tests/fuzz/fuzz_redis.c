/*
 * fuzz_redis.c - libFuzzer target: what a Redis server answers.  hiredis
 * parses the bytes into replies (its reader, bounded as the backend's
 * are: redis_reader_bound); every reply then goes through the backend's
 * reading of it (store/redis_impl.h): a GET's value, decoded as each kind
 * of record, a SET's and a DEL's status, a SCAN step with its keys split
 * back into store keys (built again, each must be the same key), ROLE,
 * the Sentinel's master address, the format version and the error
 * classes.  Nothing may crash, and a value accepted must re-encode to the
 * same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "greylist/greylist.h"
#include "store/redis_impl.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* one_reply - every reading of one reply */
static void one_reply(const redisReply *r)
{
    const void *val;
    size_t  len, klen;
    struct gl_triplet t, t2;
    struct gl_client c;
    struct inet_addr a;
    int64_t added;
    unsigned char out[STORE_VALUE_MAX];
    char    cursor[32], host[REDIS_HOST_MAX];
    size_t  clen = 0;
    const redisReply *keys;
    const char *key;
    int     port;

    if (redis_reply_value(r, &val, &len) == STORE_OK) {
	if (gl_triplet_decode_client(val, len, &t, &a) != STORE_VALUE_BAD) {
	    if (gl_triplet_decode(out, gl_triplet_encode(&t, out), &t2) != STORE_VALUE_OK
		|| t2.first != t.first || t2.last != t.last)
		abort();
	}
	(void) gl_client_decode(val, len, &c);
	(void) gl_wl_entry_decode(val, len, &added);
    }
    (void) redis_reply_set(r);
    (void) redis_reply_del(r);
    if (redis_reply_scan(r, cursor, sizeof(cursor), &clen, &keys) == 0) {
	if (clen >= sizeof(cursor) || strlen(cursor) != clen)
	    abort();
	for (size_t i = 0; i < keys->elements; i++) {
	    const redisReply *k = keys->element[i];
	    struct buf back;

	    if (redis_key_split(k->str, k->len, "mxshield:", "triplets", &key, &klen) < 0)
		continue;
	    /* a key read back is the key that was written */
	    buf_init(&back);
	    redis_key(&back, "mxshield:", "triplets", key, klen);
	    if (back.len != k->len || memcmp(back.s, k->str, k->len) != 0)
		abort();
	    buf_free(&back);
	}
    }
    (void) redis_reply_role_master(r);
    if (redis_reply_master_addr(r, host, &port) == 0 && (port < 1 || port > 65535))
	abort();
    (void) redis_reply_version(r);
    (void) redis_reply_auth_error(r);
    (void) redis_reply_elsewhere(r);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *rd = redisReaderCreate();
    void   *reply;
    int     n = 0;

    if (rd == NULL)
	return 0;
    redis_reader_bound(rd);		/* as every connection's */
    if (redisReaderFeed(rd, (const char *) data, size) == REDIS_OK) {
	while (n++ < 64 && redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
	    one_reply(reply);
	    freeReplyObject(reply);
	}
    }
    redisReaderFree(rd);
    return 0;
}
