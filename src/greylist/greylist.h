/*
 * greylist.h - postgrey's greylisting, as a pure function of the stored
 * records and the time, plus postgrey's whitelist file formats.
 *
 * The key of a delivery attempt is the client network (IPv4 /24, IPv6
 * /64 by default, or the exact address), the sender normalised as postgrey
 * does (lower case, BATV prvs= tag removed, +extension removed, digit runs
 * replaced by '#'), and the recipient.  gl_decide() takes the triplet's
 * record and the client's auto-whitelist record and says what to answer
 * and what to store; it never touches the store itself, so the tests run
 * it with any clock.
 */
#ifndef MX_GREYLIST_GREYLIST_H
#define MX_GREYLIST_GREYLIST_H

#include <stdint.h>
#include <time.h>

#include "store/encode.h"
#include "util/inet.h"
#include "util/str.h"

struct gl_conf {
    long    delay;			/* greylist_delay, seconds */
    long    max_age;			/* greylist_max_age, seconds */
    long    retry_window;		/* greylist_retry_window, seconds */
    long    awl_clients;		/* deliveries before a client is whitelisted; 0: off */
    int     ipv4_prefix;
    int     ipv6_prefix;
    int     by_host;			/* key on the exact address */
    int     privacy;			/* store keys hashed */
};

/* the stored record of a triplet */
struct gl_triplet {
    int64_t first;			/* first seen (after the retry window) */
    int64_t last;			/* last seen */
};

/* the stored record of a client (auto-whitelist) */
struct gl_client {
    int64_t count;			/* successful deliveries, one per hour */
    int64_t last;
};

/*
 * The stored forms of the records, in store/encode.h's bytes; decoding
 * also reads a format 1 record (STORE_VALUE_LEGACY) and refuses anything
 * else (STORE_VALUE_BAD).  A triplet keyed on an SPF domain also keeps
 * the client address (encode.h), so that it can be found by client:
 * gl_triplet_encode_client with a client, gl_triplet_decode_client reads
 * it (family 0 when the record has none).  A manual whitelist entry
 * stores when it was added.
 */
size_t  gl_triplet_encode(const struct gl_triplet *t, unsigned char out[STORE_VALUE_MAX]);
enum store_decoded gl_triplet_decode(const void *val, size_t len, struct gl_triplet *t);
size_t  gl_triplet_encode_client(const struct gl_triplet *t, const struct inet_addr *client,
				         unsigned char out[STORE_VALUE_MAX]);
enum store_decoded gl_triplet_decode_client(const void *val, size_t len, struct gl_triplet *t,
					            struct inet_addr *client);
size_t  gl_client_encode(const struct gl_client *cl, unsigned char out[STORE_VALUE_MAX]);
enum store_decoded gl_client_decode(const void *val, size_t len, struct gl_client *cl);
size_t  gl_wl_entry_encode(int64_t added, unsigned char out[STORE_VALUE_MAX]);
enum store_decoded gl_wl_entry_decode(const void *val, size_t len, int64_t *added);

enum gl_verdict {
    GL_GREYLIST,			/* too early: defer */
    GL_PASS_FIRST,			/* passes now, first time: X-Greylist */
    GL_PASS,				/* passed before */
    GL_PASS_AWL,			/* client auto-whitelisted */
};

struct gl_decision {
    enum gl_verdict verdict;
    long    wait;			/* seconds still to wait (GL_GREYLIST) */
    long    delayed;			/* seconds it was delayed (GL_PASS_FIRST) */
    int     write_triplet;
    struct gl_triplet triplet;		/* to store */
    int     write_client;
    struct gl_client client;		/* to store */
    int     newly_whitelisted;		/* the client just reached awl_clients */
};

void    gl_decide(const struct gl_conf *c, int64_t now,
		          const struct gl_triplet *t,	/* NULL: not seen */
		          const struct gl_client *cl,	/* NULL: not seen */
		          struct gl_decision *d);

/* gl_expired - may a triplet record be deleted now (postgrey's clean-up)? */
int     gl_triplet_expired(const struct gl_conf *c, int64_t now, const struct gl_triplet *t);
int     gl_client_expired(const struct gl_conf *c, int64_t now, const struct gl_client *cl);

/* gl_triplet_ttl, gl_client_ttl - seconds from now until the record is
 * expired by the rules above (a store's TTL: Redis); <= 0: already is */
long    gl_triplet_ttl(const struct gl_conf *c, int64_t now, const struct gl_triplet *t);
long    gl_client_ttl(const struct gl_conf *c, int64_t now, const struct gl_client *cl);

/* keys */
void    gl_sender_normalise(const char *sender, struct buf *out);
int     gl_client_net(const struct gl_conf *c, const char *addr, struct buf *out);
/*
 * auth_domain: SPF passed for this sender domain: it replaces the network.
 * A key longer than GL_KEY_MAX (a long address; LMDB keys end at 511
 * bytes) is stored as its SHA-1, as every key is with privacy.
 */
#define GL_KEY_MAX	400
int     gl_triplet_key(const struct gl_conf *c, const char *addr, const char *auth_domain,
		               const char *sender, const char *recipient, struct buf *out);
int     gl_client_key(const struct gl_conf *c, const char *addr, struct buf *out);
/* the same keys of an address parsed once (the policy hot path) */
void    gl_triplet_key_addr(const struct gl_conf *c, const struct inet_addr *a,
			            const char *auth_domain, const char *sender,
			            const char *recipient, struct buf *out);
void    gl_client_key_addr(const struct gl_conf *c, const struct inet_addr *a, struct buf *out);
void    gl_whitelist_net_key_addr(const struct gl_conf *c, const struct inet_addr *a,
				          struct buf *out);
/* gl_whitelist_net_key - the manual whitelist's key for the client's
 * network ("192.0.2.0/24"), whatever the triplets key on; hashed with privacy */
int     gl_whitelist_net_key(const struct gl_conf *c, const char *addr, struct buf *out);

/* reply texts: postgrey's %s (seconds) and %r (recipient domain) */
void    gl_expand_text(const char *tpl, long wait, const char *recipient, struct buf *out);
/* X-Greylist header: %t delay, %v version, %h host, %d date */
void    gl_expand_header(const char *tpl, long delayed, const char *host, time_t now,
			         struct buf *out);

/* whitelists in postgrey's formats, reloaded when their files change */
struct gl_whitelist;

struct gl_whitelist *gl_whitelist_load(const char *client_files, const char *recipient_files,
				               char *err, size_t errlen);
/* gl_whitelist_refresh - reload changed files; keeps the old on error */
void    gl_whitelist_refresh(struct gl_whitelist *w);
/* why it matched ("client whitelist" ...), or NULL */
const char *gl_whitelist_match(const struct gl_whitelist *w, const char *client_name,
			               const char *client_addr, const char *recipient);
/* gl_whitelist_match_entry - the same, and *entry: the matching entry as
 * "file:line pattern", valid until the next gl_whitelist_refresh */
const char *gl_whitelist_match_entry(const struct gl_whitelist *w, const char *client_name,
				             const char *client_addr, const char *recipient,
				             const char **entry);
void    gl_whitelist_free(struct gl_whitelist *w);

#endif
