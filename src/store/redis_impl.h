/*
 * redis_impl.h - what the Redis backend's files share (store/redis*.c).
 *
 * KEYS
 *	Every record is one Redis string, the value in store/encode.h's
 *	bytes and the record's expiry as the key's TTL.  The key is
 *	<prefix><table>:{<subject>}<rest>, where the subject is the store
 *	key up to its first '/' and the rest is what follows (from the '/'),
 *	so the hash tag is the subject: a client's records in every table
 *	(clients "192.0.2.5", bans "192.0.2.5", rates "192.0.2.5/rule") and
 *	a network's (triplets "192.0.2.0/sender/recipient", whitelist
 *	"192.0.2.0/24") each hash to one Cluster slot, and any multi-key
 *	command or script over one subject stays on one node.  The format
 *	version is <prefix>meta:{version} (4 bytes, little-endian).
 *	<prefix>meta:{used}/<table> exists once the table has had a record:
 *	every writer sets it (once per process) with its first write to the
 *	table, so that the daemon can skip the reads of a table that has
 *	never had one (the manual whitelist, at most sites): store_empty().
 *
 * REPLIES
 *	redis_reply_*() turn a reply (parsed by hiredis, but from the
 *	network) into the store's three-way results; anything of an
 *	unexpected type or shape is an error, never a value.  They are pure,
 *	so that tests/fuzz/fuzz_redis.c runs them on any reply.
 */
#ifndef MX_STORE_REDIS_IMPL_H
#define MX_STORE_REDIS_IMPL_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "store/store.h"
#include "util/str.h"

#define REDIS_META_VERSION	"meta:{version}"
#define REDIS_META_USED		"meta:{used}/"	/* + table: it has had a record */
#define REDIS_USED_MAX		16		/* tables whose marker is tracked */
#define REDIS_TABLE_MAX		32
#define REDIS_HOST_MAX		256
#define REDIS_SCAN_COUNT	1000	/* keys asked per SCAN by the tools */
#define REDIS_ARRAY_MAX		100000	/* elements of one reply array */
#define REDIS_KEY_MAX		1024	/* longest store key read back */

/* a server's address, names resolved when the store is opened */
struct redis_addr {
    char    host[REDIS_HOST_MAX];
    int     port;
};

/* what both modes need of the configuration, copied at open */
struct redis_conf {
    struct redis_addr *servers, *sentinels;
    size_t  nservers, nsentinels;
    char   *master_name, *user, *password, *prefix;
    long    database;
    long    connect_timeout_ms, command_timeout_ms;
};

/* redis_conf_load - o checked and copied into c; -1 and err if wrong */
int     redis_conf_load(struct redis_conf *c, const struct store_redis_opts *o,
			        char *err, size_t errlen);
void    redis_conf_free(struct redis_conf *c);

/*
 * redis_sync_connect - a blocking connection to the master (asking the
 * Sentinels first if there are any), authenticated and on its database,
 * for the tools and for the daemon's check at start.  NULL and err on
 * failure; *auth_refused is set if the server refused the credentials
 * (a configuration error, not an outage); *server: which of redis_servers
 * answered as master.
 */
redisContext *redis_sync_connect(const struct redis_conf *c, char *err, size_t errlen,
				         int *auth_refused, size_t *server);

/* redis_sync_version - check (and, writable, set) the format version */
int     redis_sync_version(redisContext *rc, const struct redis_conf *c, int readonly,
			           char *err, size_t errlen);

/* store_redis_sync_open - the synchronous backend (command-line tools) */
struct store *store_redis_sync_open(const struct store_opts *o, char *err, size_t errlen);

/* redis_reader_bound - a reader that refuses (as out of memory: the
 * connection is dropped) an array of more than REDIS_ARRAY_MAX elements
 * or of a negative count, which hiredis 0.14 would allocate blindly */
void    redis_reader_bound(redisReader *r);

/* the tables this process has marked as used */
struct redis_used {
    char    name[REDIS_USED_MAX][REDIS_TABLE_MAX];
    int     n;
};

/* redis_used_note - 1: the table is new here, write its marker; 0: done
 * already; -1: no room to remember, write it every time */
int     redis_used_note(struct redis_used *u, const char *table);

/* redis_used_forget - the marker's write failed: write it next time */
void    redis_used_forget(struct redis_used *u, const char *table);

/* redis_event_attach - ac on the daemon's loop (store/redis_event.c) */
struct event_base;
int     redis_event_attach(redisAsyncContext *ac, struct event_base *base);

/* redis_key - <prefix><table>:{<key>} into out */
void    redis_key(struct buf *out, const char *prefix, const char *table,
		          const void *key, size_t klen);

/* redis_key_split - the store key inside a Redis key of this table
 * (valid until the next call); -1 if it is not one */
int     redis_key_split(const char *rkey, size_t len, const char *prefix, const char *table,
			        const char **key, size_t *klen);

/* redis_scan_pattern - a SCAN MATCH pattern for the keys of a table */
void    redis_scan_pattern(struct buf *out, const char *prefix, const char *table);

/* the counter script (store/redis_counter.c): KEYS[1] the counter,
 * ARGV now, window, n; returns the record as written.  REDIS_SKEW_MAX_TEXT
 * is BAN_SKEW_MAX (src/ban/ban.h), checked by tests/unit/test_ban.c */
#define REDIS_SKEW_MAX_TEXT	"10"
extern const char redis_counter_script[];
const char *redis_counter_sha(void);

/* redis_reply_value - a GET: OK with the bytes, NOTFOUND, or ERROR */
enum store_status redis_reply_value(const redisReply *r, const void **val, size_t *len);

/* redis_reply_set - a SET: OK or ERROR */
enum store_status redis_reply_set(const redisReply *r);

/* redis_reply_del - a DEL: OK (deleted), NOTFOUND, or ERROR */
enum store_status redis_reply_del(const redisReply *r);

/* redis_reply_scan - a SCAN reply: the next cursor (decimal, "" at the
 * end) and its array of keys; -1 if malformed */
int     redis_reply_scan(const redisReply *r, char *cursor, size_t cursor_size,
			         size_t *cursor_len, const redisReply **keys);

/* redis_reply_role_master - ROLE says master: 1, a replica: 0, error -1 */
int     redis_reply_role_master(const redisReply *r);

/* redis_reply_master_addr - SENTINEL get-master-addr-by-name: host, port */
int     redis_reply_master_addr(const redisReply *r, char host[REDIS_HOST_MAX], int *port);

/* redis_reply_version - the stored format version: 0 none, -1 malformed */
long    redis_reply_version(const redisReply *r);

/* redis_reply_auth_error - the error says the credentials were refused */
int     redis_reply_auth_error(const redisReply *r);

/* redis_reply_elsewhere - the error says this is not (or no longer) the
 * server to write to (READONLY, MOVED, ASK, LOADING, MASTERDOWN, ...) */
int     redis_reply_elsewhere(const redisReply *r);

/* redis_hostport - "host:port", "[v6]:port" or "host" (port 6379) */
int     redis_hostport(const char *spec, char host[REDIS_HOST_MAX], int *port);

#endif
