/*
 * store.h - persistent key/value state (greylisting now; bans and rates
 * later) behind one interface.
 *
 * Records live in named tables ("triplets", "clients", ...).  Operations
 * complete through a callback so that a networked backend (Redis, several
 * MX hosts sharing state) fits the same interface: a backend is a struct
 * store_ops, and a callback may run before the call returns or later, from
 * the event loop.  LMDB answers reads at once, and writes too unless
 * batching (store_batch: then at store_commit).  Callers handle both:
 * greylisting keeps its keys, reads and decision in one heap record across
 * either wait, and a value passed to a callback is valid only during it.
 *
 * Durability (LMDB): every write is committed before its callback runs,
 * so a record acknowledged to a client survives kill -9 at any moment
 * (the commit is in the kernel's page cache).  The file is synced to disk
 * every store_sync_interval (off the event loop: store_sync), or at every
 * commit, before its answers, with store_sync_commits = yes.
 */
#ifndef MX_STORE_STORE_H
#define MX_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_status {
    STORE_OK,
    STORE_NOTFOUND,
    STORE_ERROR,			/* temporary: the caller defers */
};

struct store;

typedef void (*store_cb) (void *arg, enum store_status st, const void *val, size_t len);
typedef int (*store_scan_fn) (void *arg, const void *key, size_t klen,
			              const void *val, size_t vlen);

/* a backend: what the functions below dispatch to */
struct store_ops {
    const char *name;
    void    (*close) (struct store *);
    void    (*get) (struct store *, const char *table, const void *key, size_t klen,
		            store_cb cb, void *arg);
    void    (*put) (struct store *, const char *table, const void *key, size_t klen,
		            const void *val, size_t vlen, store_cb cb, void *arg);
    void    (*del) (struct store *, const char *table, const void *key, size_t klen,
		            store_cb cb, void *arg);
    long    (*scan) (struct store *, const char *table, char *cursor, size_t cursor_size,
		             size_t *cursor_len, long max, store_scan_fn fn, void *arg);
    int     (*read_begin) (struct store *);
    void    (*read_end) (struct store *);
    int     (*empty) (struct store *, const char *table);
    void    (*batch) (struct store *, int on);
    int     (*commit) (struct store *);
    int     (*readonly) (const struct store *);
    int     (*sync) (struct store *);
    long    (*count) (struct store *, const char *table);
};

/* what a backend with expiry of its own adds (store_put_ttl), and a
 * shared one's counting on the server (store_counter_hit; may be NULL) */
struct store_ttl_ops {
    void    (*put_ttl) (struct store *, const char *table, const void *key, size_t klen,
			        const void *val, size_t vlen, long ttl, store_cb cb, void *arg);
    void    (*counter_hit) (struct store *, const char *table, const void *key, size_t klen,
			            int64_t now, long window, long n, store_cb cb, void *arg);
};

/* every backend's handle begins with this (zeroed, then ops set) */
struct store {
    const struct store_ops *ops;
    const struct store_ttl_ops *ttl;	/* NULL: records stay until deleted */
    long    (*pass_due) (struct store *);	/* NULL: store_pass_due_ms() is -1 */
};

/* what to do with a database that cannot be read */
enum store_corrupt {
    STORE_CORRUPT_REFUSE,		/* report and refuse to start */
    STORE_CORRUPT_MOVE,			/* report, move it aside, start empty */
};

enum store_backend {
    STORE_BACKEND_LMDB = 0,		/* the default: a zeroed store_opts */
    STORE_BACKEND_REDIS,
};

/* Redis (store/redis.c): where the server is and how to talk to it */
struct store_redis_opts {
    const char *servers;		/* "host:port ..." tried in turn */
    const char *sentinels;		/* "host:port ...": ask these for the master */
    const char *master_name;		/* the Sentinel master name */
    const char *user;			/* ACL user; empty: "default" */
    const char *password;		/* empty: no AUTH */
    const char *prefix;			/* before every key */
    long    database;			/* SELECT */
    long    connect_timeout_ms;
    long    command_timeout_ms;
    void   *event_base;			/* the daemon's loop (asynchronous); NULL:
					 * synchronous, for command-line tools */
};

struct store_opts {
    const char *path;			/* directory of the database */
    size_t  map_size;			/* LMDB map size, bytes */
    int     sync_commits;		/* fsync at every commit */
    enum store_corrupt on_corrupt;
    int     readonly;			/* command-line tools */
    enum store_backend backend;
    struct store_redis_opts redis;
};

struct store *store_open(const struct store_opts *o, char *err, size_t errlen);
struct store *store_lmdb_open(const struct store_opts *o, char *err, size_t errlen);
struct store *store_redis_open(const struct store_opts *o, char *err, size_t errlen);
void    store_close(struct store *s);

void    store_get(struct store *s, const char *table, const void *key, size_t klen,
		          store_cb cb, void *arg);
void    store_put(struct store *s, const char *table, const void *key, size_t klen,
		          const void *val, size_t vlen, store_cb cb, void *arg);
void    store_del(struct store *s, const char *table, const void *key, size_t klen,
		          store_cb cb, void *arg);

/*
 * store_scan - visit up to max records of a table from *cursor (a key;
 * empty: the start).  fn returns 1 to delete the record, 0 to keep it,
 * -1 to stop.  *cursor is set to where the next scan continues ("" after
 * the last record).  Returns records visited, or -1 on error.  Used for
 * expiry in small batches and for the command-line listing.
 */
long    store_scan(struct store *s, const char *table, char *cursor, size_t cursor_size,
		           size_t *cursor_len, long max, store_scan_fn fn, void *arg);

/*
 * store_read_begin / store_read_end - the reads between them see one
 * snapshot at the cost of one (a networked backend: no-ops).
 * store_empty - a table has no records (between them; 0 if unsure).
 */
int     store_read_begin(struct store *s);
void    store_read_end(struct store *s);
int     store_empty(struct store *s, const char *table);

/*
 * Group commit.  After store_batch(s, 1), writes join one open
 * transaction and their callbacks wait for store_commit(), which commits
 * it and then calls them (an answer still goes out only after its record
 * is committed).  The daemon commits after each pass of its event loop,
 * so a burst of decisions costs one commit.  Reads see committed records
 * only, never the open batch (as with a networked backend): a decision
 * read from a write not yet committed could be answered before that
 * write is safe, or lost with it.  store_commit returns 1 if there was a
 * batch (its callbacks may have started the next one), 0 if not.
 * A caller that has called store_batch (on or off) calls store_commit
 * after each pass of its work: the local store's triplets file keeps its
 * writers' lock from a write until one of those (store/lmdb_triplets.h).
 */
void    store_batch(struct store *s, int on);
int     store_commit(struct store *s);

/* store_readonly - opened for reading only (mxshield check) */
int     store_readonly(const struct store *s);

/*
 * store_sync - start a flush to disk and return at once, never waiting
 * for the disk (LMDB: on a helper thread; a flush still running absorbs
 * the request).  -1 if the previous flush failed (logged).  The daemon
 * calls it every store_sync_interval from its timer; store_close()
 * waits for the flush in progress and flushes once more, synchronously.
 */
int     store_sync(struct store *s);

/* store_lmdb_flush_hook - test knob: LMDB's flusher calls fn(env) in
 * place of mdb_env_sync(env, 1); NULL restores it */
void    store_lmdb_flush_hook(int (*fn) (void *env));

/* store_count - records in a table, -1 on error */
long    store_count(struct store *s, const char *table);

/* store_pass_due_ms - in how many ms the backend wants its caller's
 * store_commit() even if nothing else happens (the local store releases
 * the triplets writers' lock there, so that another process's writer does
 * not wait for the next request); -1: nothing due */
long    store_pass_due_ms(struct store *s);

/*
 * store_put_ttl - store_put, and the record may go ttl seconds from now
 * (ttl <= 0: kept until deleted).  A backend with expiry of its own
 * (Redis: the key's TTL) drops the record then; one without (LMDB)
 * ignores ttl and the caller's scans expire the record from its value,
 * so a value must always carry what its expiry is decided from (bans:
 * the end of the ban; rates: the window).  store_expires - 1 if the
 * backend drops records by themselves (no expiry scans needed: Redis),
 * 0 if its records stay until deleted (LMDB).
 */
void    store_put_ttl(struct store *s, const char *table, const void *key, size_t klen,
		              const void *val, size_t vlen, long ttl, store_cb cb, void *arg);
int     store_expires(const struct store *s);

/*
 * store_counter_hit - count n at now in the STORE_KIND_COUNTER record
 * under key, a sliding window of window seconds (ban_counter_hit's
 * arithmetic, src/ban/ban.c), in one step on the server: several hosts
 * counting one key at once lose no count.  The record is kept until its
 * expiry (a TTL).  cb gets STORE_OK and the record as written (the
 * caller estimates from it: ban_counter_peek), or STORE_ERROR.
 * store_has_counter - 1 if the backend has it (Redis); 0: the caller
 * reads, counts and writes (LMDB: one process writes the database).
 */
void    store_counter_hit(struct store *s, const char *table, const void *key, size_t klen,
			          int64_t now, long window, long n, store_cb cb, void *arg);
int     store_has_counter(const struct store *s);

/*
 * The database format: 2 since values are store/encode.h's bytes (1: the
 * host's structs, still read).  Every backend keeps it, as a 4-byte
 * little-endian number under "version" in its meta table.
 */
#define STORE_FORMAT_VERSION	2

#endif
