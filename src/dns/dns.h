/*
 * dns.h - asynchronous DNS on the daemon's event loop.
 *
 * One struct dns per process wraps a libunbound context created with
 * ub_ctx_create_event() on the daemon's libevent base: no threads, no
 * helper process.  In front of it sits an answer cache bounded in bytes,
 * least recently used answer evicted first (cache.h), that honours TTLs
 * (negative answers: the SOA minimum), and a table of lookups in flight
 * so that identical lookups share one query.
 *
 * dns_lookup() never calls back before it returns; the callback runs from
 * the event loop.  dns_cached() answers from the cache only.  Answers are
 * reference counted and immutable.
 *
 * Every lookup ends in one of: DNS_OK (records of the type asked for,
 * CNAME chains followed), DNS_NXDOMAIN, DNS_NODATA (name exists, no such
 * records), DNS_TEMPFAIL (timeout, SERVFAIL, REFUSED, malformed answer:
 * never to be read as "not listed" or "does not exist").
 */
#ifndef MX_DNS_DNS_H
#define MX_DNS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "util/inet.h"

#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

enum dns_status {
    DNS_OK,
    DNS_NXDOMAIN,
    DNS_NODATA,
    DNS_TEMPFAIL,
};

struct dns_rr {
    uint32_t ttl;
    uint16_t pref;			/* MX */
    char   *name;			/* MX exchange, PTR target (lower case) */
    char   *text;			/* TXT: character-strings concatenated */
    int     text_altered;		/* TXT: bytes outside printable ASCII shown as
					 * '?', or the text cut at DNS_MAX_TEXT */
    struct inet_addr addr;		/* A, AAAA */
};

struct dns_answer {
    int     refs;
    enum dns_status status;
    int     qtype;
    char   *qname;
    uint32_t ttl;			/* how long this answer may be used */
    size_t  n;
    struct dns_rr *rr;
    char    why[160];			/* TEMPFAIL reason, else "" */
    double  ms;				/* time the query took */
};

struct dns;
struct dns_wait;

typedef void (*dns_cb) (void *arg, struct dns_answer *a);

/*
 * dns_new - resolver per dns_resolver: "resolv.conf", "recursive", or a
 * list of servers "127.0.0.1:5353, [::1]:53".  The answer cache holds at
 * most cache_size bytes (0: no cache).  NULL and err on failure.
 */
struct dns *dns_new(struct event_base *base, const char *resolver,
		            int timeout_ms, size_t cache_size,
		            char *err, size_t errlen);
void    dns_free(struct dns *d);

/*
 * dns_set_transport - before the first lookup: "udp" (libunbound's
 * default: a new socket on a random source port per query, TCP only for
 * truncated answers) or "tcp" (queries pipelined over persistent TCP
 * connections to the servers).  -1 and err for another value.
 */
int     dns_set_transport(struct dns *d, const char *transport, char *err, size_t errlen);

/* dns_cached - a cached answer (one more reference), or NULL */
struct dns_answer *dns_cached(struct dns *d, const char *name, int type);

/*
 * dns_lookup - start (or join) a lookup; cb gets a reference it must
 * release with dns_answer_unref().  The handle cancels the callback.
 */
struct dns_wait *dns_lookup(struct dns *d, const char *name, int type,
			            dns_cb cb, void *arg);
void    dns_cancel(struct dns_wait *w);

void    dns_answer_ref(struct dns_answer *a);
void    dns_answer_unref(struct dns_answer *a);

const char *dns_type_name(int type);
const char *dns_status_name(enum dns_status s);

/* statistics */
struct dns_stats {
    unsigned long queries;		/* sent to the resolver */
    unsigned long shared;		/* joined a query in flight */
    unsigned long hits;			/* answered from the cache */
    unsigned long timeouts;
    unsigned long inflight;
};
void    dns_get_stats(const struct dns *d, struct dns_stats *s);

/*
 * dns_result - what libunbound's callback (rcode, packet, security status
 * 0 unchecked/insecure, 1 bogus, 2 secure) means for (name, type): the
 * packet is read only when rcode is 0; a new answer.
 */
struct dns_answer *dns_result(const char *name, int type, int rcode, const void *pkt,
			              int len, int sec, const char *why_bogus);

/* packet.c: parse an answer packet for (qname, qtype); a new answer */
struct dns_answer *dns_parse(const unsigned char *pkt, size_t len,
			             const char *qname, int qtype);
struct dns_answer *dns_answer_new(const char *qname, int qtype,
				          enum dns_status st, const char *why);

/* dns_reverse_name - "4.3.2.1" / IPv6 nibbles for a DNSxL or PTR zone */
int     dns_reverse_name(const char *addr, const char *zone, char *out, size_t outlen);

#endif
