/*
 * ban.h - auto-ban: fail2ban's Postfix jails as a policy over the store.
 *
 * SYNOPSIS
 *	struct ban_conf *c = ban_conf_compile(conf, tables, &err);
 *	ban_decide(c, now, kind, &reads, &decision);	pure: the tests use it
 *	struct ban_engine *b = ban_engine_new(store, nft);
 *	ban_engine_event(b, c, &ev, now);		the daemon's log follower
 *	ban_manual(b, c, net, seconds, done, arg);	mxshield ban add
 *
 * DESCRIPTION
 *	Events (src/ban/event.h) are counted per client network: the address
 *	for IPv4 (ban_ipv4_prefix, 32), the /64 for IPv6 (ban_ipv6_prefix).
 *	Events named in ban_event_limits are counted on their own with their
 *	own maxretry/findtime/bantime (one fail2ban jail each); every other
 *	event in ban_events shares the defaults (ban_maxretry, ban_findtime,
 *	ban_bantime: fail2ban's 5, 10m, 10m).  Counting is over a sliding
 *	window (two fixed windows, the older weighted by its overlap).
 *
 *	A network banned before is banned longer: the nth ban while its
 *	offender record lives lasts bantime * ban_increment_factor^(n-1), at
 *	most ban_maxtime (fail2ban's bantime.increment and its recidive jail
 *	in one); the record lives until ban_history after the ban ends.
 *	When ban_escalate_count networks of one wider prefix (ban_escalate_
 *	ipv4_prefix, ban_escalate_ipv6_prefix) are banned within
 *	ban_escalate_window, the wider prefix is banned too.
 *
 *	Clients in ban_ignore (default $mynetworks: CIDR networks and
 *	type:table lookups of the address) are never counted or banned.
 *
 *	All state is in the store, each record carrying its expiry as its
 *	first field (store/encode.h), so it survives restarts, is shared
 *	through a networked backend and dies by itself:
 *
 *	bans       NET                     STORE_KIND_BAN: expires, since, level, reason
 *	offenders  NET                     STORE_KIND_OFFENDER: expires, bans, last
 *	banhits    NET|CLASS               STORE_KIND_COUNTER (CLASS: an event name or *)
 *	banprefix  WIDENET                 STORE_KIND_COUNTER: banned networks in it
 *	rates      VALUE/WHAT=LIMIT/WINDOW STORE_KIND_COUNTER (src/rules/banrestr.c)
 *
 *	NET is canonical text, "192.0.2.9/32", "2001:db8:1:2::/64".  Each
 *	key begins with the client (its address or network) and a '/', the
 *	end of a Redis hash tag (store/redis_impl.h): a client's bans,
 *	counters and greylisting records share one Cluster slot.  Records
 *	are written with store_put_ttl(): Redis drops them at their expiry,
 *	LMDB's records go by ban_expire_step().
 *
 * DIAGNOSTICS
 *	One log line per ban and unban ("ban: client=NET, ..."); store
 *	errors are warnings and the event is dropped.
 */
#ifndef MX_BAN_BAN_H
#define MX_BAN_BAN_H

#include <stdint.h>
#include <time.h>

#include "ban/event.h"
#include "conf/config.h"
#include "store/encode.h"
#include "store/store.h"
#include "util/inet.h"
#include "util/str.h"

/* BAN_SERVICE - the log name of the auto-ban's lines (mxshield/ban) */
#define BAN_SERVICE	"ban"

struct tables;
struct domain_list;
struct ban_nft;

#define BAN_NET_MAX	64		/* "ffff:...:ffff/128" */
#define BAN_REASON_MANUAL 0		/* reason field: 0 manual, k+1 event k */
#define BAN_REASON_ESCALATION (BEV_COUNT + 1)

/* the limits of one counting class (fail2ban: a jail) */
struct ban_class {
    long    maxretry;
    long    findtime;
    long    bantime;
};

struct ban_conf {
    int     counted[BEV_COUNT];		/* ban_events */
    int     own[BEV_COUNT];		/* counted on its own (ban_event_limits) */
    struct ban_class cls[BEV_COUNT];	/* its limits (the defaults unless own) */
    struct ban_class def;
    int     increment;			/* ban_increment */
    long    factor;			/* ban_increment_factor */
    long    maxtime;			/* ban_maxtime */
    long    history;			/* ban_history */
    int     ipv4_prefix, ipv6_prefix;
    long    escalate_count;		/* 0: never */
    int     escalate_v4, escalate_v6;
    long    escalate_window;
    struct cidr_list ignore;		/* ban_ignore networks */
    struct domain_list *ignore_maps;	/* ban_ignore type:table entries */
    int     reject_code;		/* ban_reject_code */
    int     rate_error_dunno;		/* rate_limit_error_action = dunno */
};

struct ban_conf *ban_conf_compile(const struct config *c, struct tables *t, struct buf *err);
void    ban_conf_free(struct ban_conf *c);

/* ban_parse_time - "600", "10m", "1h", "2d", "1w"; -1 if not a time */
long    ban_parse_time(const char *s);

/* ban_ignored - 1 if the address is in ban_ignore, 0 not, -1 lookup error */
int     ban_ignored(const struct ban_conf *c, const char *addr);

/* ban_net - the network of an address at a prefix length (-1: the
 * configured one); its text into out.  -1 if not an address */
int     ban_net(const char *addr, int v4len, int v6len, struct cidr *net);
void    ban_net_text(const struct cidr *net, char out[BAN_NET_MAX]);
/* ban_net_parse - "ADDR" or "NET/LEN" as stored; -1 if neither */
int     ban_net_parse(const char *text, struct cidr *net);
/* ban_wide - the escalation prefix of a network; 0 if none (not wider) */
int     ban_wide(const struct ban_conf *c, const struct cidr *net, struct cidr *wide);

/* the records, decoded */
struct ban_record {
    int64_t expires, since, level, reason;
};
struct ban_offender {
    int64_t expires, bans, last;
};
struct ban_counter {
    int64_t expires, start, count, prev;
};

size_t  ban_record_encode(const struct ban_record *r, unsigned char out[STORE_VALUE_MAX]);
int     ban_record_decode(const void *val, size_t len, struct ban_record *r);
size_t  ban_offender_encode(const struct ban_offender *r, unsigned char out[STORE_VALUE_MAX]);
int     ban_offender_decode(const void *val, size_t len, struct ban_offender *r);
size_t  ban_counter_encode(const struct ban_counter *r, unsigned char out[STORE_VALUE_MAX]);
int     ban_counter_decode(const void *val, size_t len, struct ban_counter *r);

/*
 * ban_counter_hit - count n at now in a sliding window of window seconds
 * (c: the stored counter, or all zeros); returns the estimate of hits in
 * the last window, this one included.  c->expires is set.
 * A now up to BAN_SKEW_MAX seconds before the window's start counts in
 * it (hosts sharing counters disagree on the time a little); further
 * back, counting starts again.
 */
#define BAN_SKEW_MAX	10
long    ban_counter_hit(struct ban_counter *c, int64_t now, long window, long n);
/* ban_counter_peek - the estimate without counting */
long    ban_counter_peek(const struct ban_counter *c, int64_t now, long window);

/* ban_duration - how long the level-th ban lasts (level 1: bantime) */
long    ban_duration(const struct ban_conf *c, long bantime, long level);

/* ban_reason_name - "auth-failed", "manual", "escalation" */
const char *ban_reason_name(int64_t reason);

/* what ban_decide reads: found or not (a failed read never gets here) */
struct ban_reads {
    int     have_ban, have_wide, have_hits, have_off, have_pfx;
    struct ban_record ban, wide;
    struct ban_counter hits, pfx;
    struct ban_offender off;
    int     wide_valid;			/* there is a wider prefix */
    int     hits_counted, pfx_counted;	/* hits, pfx: counted already, on the
					 * server (store_counter_hit) */
};

enum ban_verdict {
    BAN_V_ALREADY,			/* banned already: not counted */
    BAN_V_COUNTED,			/* counted, below maxretry */
    BAN_V_BAN,				/* banned now */
};

struct ban_decision {
    enum ban_verdict verdict;
    long    count;			/* events in the window, this one too */
    const struct ban_class *cls;
    struct ban_counter hits;		/* to write (COUNTED), or deleted (BAN) */
    struct ban_record ban;		/* BAN: the ban */
    struct ban_offender off;		/* BAN: the offender record */
    struct ban_counter pfx;		/* BAN with a wider prefix: its counter */
    int     escalate;			/* BAN: the wider prefix too */
    long    pfx_count;
    struct ban_record wide;		/* escalate: its ban */
};

/* ban_decide - what an event does, as a pure function of the records */
void    ban_decide(const struct ban_conf *c, int64_t now, enum ban_event_kind kind,
		           const struct ban_reads *in, struct ban_decision *d);

/* ban_active - does a ban record ban at now */
int     ban_active(const struct ban_record *r, int64_t now);

/*
 * The engine: events in, one at a time through the store (a read sees
 * the previous event's writes whatever the backend), bans out to the
 * log and to nftables.  A full queue (BAN_QUEUE_MAX) drops events with
 * a warning.  ban_engine_manual bans or (seconds 0) unbans a network
 * now; done(arg, 0 or -1) when stored.
 */
#define BAN_QUEUE_MAX	10000
struct ban_engine;

struct ban_engine *ban_engine_new(struct store *s, struct ban_nft *nft);
void    ban_engine_event(struct ban_engine *b, const struct ban_conf *c,
			         const struct ban_event *ev, int64_t now);
void    ban_engine_manual(struct ban_engine *b, const struct ban_conf *c,
			          const struct cidr *net, long seconds, int64_t now,
			          void (*done) (void *, int), void *arg);
size_t  ban_engine_pending(const struct ban_engine *b);
/* ban_engine_free - queued jobs are dropped; with a store operation
 * still out (its callback holds the engine) the last callback frees it,
 * touching neither the nft batch nor a manual job's caller */
void    ban_engine_free(struct ban_engine *b);

/* statistics since start */
struct ban_stats {
    unsigned long events, ignored, already, bans, escalations, dropped, errors;
};
void    ban_engine_stats(const struct ban_engine *b, struct ban_stats *st);

/*
 * ban_expire_step - up to batch records of each ban table from where the
 * last call stopped; expired bans are deleted with an unban log line,
 * other expired records silently.  Records deleted, -1 on error.  With
 * a store that expires records itself (store_expires: Redis) it does
 * nothing: they go silently, without an unban line.
 */
struct ban_cursor {
    char    key[5][512];
    size_t  len[5];
};
long    ban_expire_step(struct store *s, int64_t now, struct ban_cursor *cur, long batch);

/* ban_ttl - seconds from now to expires, at least 1 (store_put_ttl) */
long    ban_ttl(int64_t expires, int64_t now);

/* ban_log_ban - the log line of a ban */
void    ban_log_ban(const char *net, const struct ban_record *r, long count,
		            const char *extra);

#endif
