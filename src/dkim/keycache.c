/*
 * keycache.c - parsed DKIM keys kept between messages.
 *
 *	Making an OpenSSL 3 key from p= (its decoder framework) costs more
 *	than the signature check itself; the same few keys sign most mail.
 *	dkim_key_get() answers from a cache of DKIM_KEY_CACHE records,
 *	keyed by the record's exact text and the minimum RSA size, least
 *	recently used first out; what it hands out holds its own reference,
 *	released by dkim_key_free() as before.  Only records that parsed
 *	are kept, so an error is always reported afresh.  A new record text
 *	(a rotated key) is a new entry: nothing stale is ever used.
 *	The cache is shared by every verifier of the process, under a mutex.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_impl.h"
#include "util/mem.h"

struct kc_entry {
    char   *text;			/* NULL: empty slot */
    size_t  len;
    uint32_t hash;
    int     min_bits;
    struct dkim_key key;
    unsigned long used;
};

static struct kc_entry cache[DKIM_KEY_CACHE];
static unsigned long clock_tick;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t text_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
	h = (h ^ (unsigned char) s[i]) * 16777619u;
    return h;
}

/* dkim_key_get - dkim_key_parse(), through the cache */
enum dkim_result dkim_key_get(struct dkim_key *k, const char *text, size_t len,
			              int min_rsa_bits, char *why, size_t whylen)
{
    uint32_t h = text_hash(text, len);
    struct kc_entry *e, *victim = &cache[0];
    enum dkim_result r;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < DKIM_KEY_CACHE; i++) {
	e = &cache[i];
	if (e->text && e->hash == h && e->len == len && e->min_bits == min_rsa_bits
	    && memcmp(e->text, text, len) == 0) {
	    e->used = ++clock_tick;
	    *k = e->key;
	    EVP_PKEY_up_ref(k->pkey);
	    pthread_mutex_unlock(&lock);
	    return DKIM_PASS;
	}
	if (e->used < victim->used)
	    victim = e;
    }
    pthread_mutex_unlock(&lock);

    /* parse outside the lock; keep it if it is a key */
    if ((r = dkim_key_parse(k, text, len, min_rsa_bits, why, whylen)) != DKIM_PASS)
	return r;
    pthread_mutex_lock(&lock);
    if (victim->text) {
	free(victim->text);
	dkim_key_free(&victim->key);
    }
    victim->text = xmalloc(len + 1);
    memcpy(victim->text, text, len);
    victim->text[len] = 0;
    victim->len = len;
    victim->hash = h;
    victim->min_bits = min_rsa_bits;
    victim->key = *k;
    EVP_PKEY_up_ref(k->pkey);
    victim->used = ++clock_tick;
    pthread_mutex_unlock(&lock);
    return DKIM_PASS;
}

/* dkim_key_cache_flush - forget every key (tests) */
void    dkim_key_cache_flush(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < DKIM_KEY_CACHE; i++)
	if (cache[i].text) {
	    free(cache[i].text);
	    dkim_key_free(&cache[i].key);
	    memset(&cache[i], 0, sizeof(cache[i]));
	}
    pthread_mutex_unlock(&lock);
}
