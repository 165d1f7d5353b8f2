/*
 * dns.c - libunbound on the daemon's event base, an answer cache, and
 * shared lookups in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <unbound.h>
#include <unbound-event.h>

#include "dns/cache.h"
#include "dns/dns.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct dns_wait {
    struct dns_wait *next;
    struct dns_query *q;
    dns_cb  cb;
    void   *arg;
};

struct dns_query {
    struct dns_query *hnext;		/* hash chain of lookups in flight */
    struct dns *d;
    char   *key;			/* "type/name" */
    char   *name;
    int     type;
    int     async_id;
    int     running;			/* unbound query outstanding */
    int     starting;			/* inside ub_resolve_event() */
    int     orphan;			/* answered (timeout): unbound still runs */
    struct dns_answer *early;		/* answer to deliver from the loop */
    struct timeval start;
    struct event *timer;
    struct dns_wait *waiters;
};

#define QBUCKETS 1024

struct dns {
    struct event_base *base;
    struct ub_ctx *ub;
    int     timeout_ms;
    struct dns_query *inflight[QBUCKETS];
    struct dns_cache *cache;		/* bounded in bytes, LRU (cache.c) */
    struct dns_stats stats;
};

/* hash - FNV-1a */
static unsigned long hash(const char *s)
{
    unsigned long h = 2166136261u;

    while (*s)
	h = (h ^ (unsigned char) *s++) * 16777619u;
    return h;
}

/* make_key - "type/name", name folded to lower case without final dot */
static char *make_key(const char *name, int type)
{
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "%d/%s", type, name);
    str_lower(b.s);
    if (b.len > 0 && b.s[b.len - 1] == '.' && b.len > 1)
	b.s[--b.len] = 0;
    return buf_steal(&b);
}

/*
 * presentation - a name (its bytes, labels split at '.') as libunbound
 * reads it: ub_resolve_event() takes presentation format, where '\\'
 * starts an escape, so '\\' and bytes outside visible ASCII (spaces of
 * an SPF %_ expansion, RFC 7208 7) are written \DDD and reach the
 * server exactly as they were.
 */
static const char *presentation(const char *name, struct buf *out)
{
    const char *cp;

    for (cp = name; *cp; cp++)
	if (*cp == '\\' || (unsigned char) *cp <= ' ' || (unsigned char) *cp >= 0x7f)
	    break;
    if (*cp == 0)
	return name;			/* the usual case: no copy */
    buf_reset(out);
    for (cp = name; *cp; cp++) {
	unsigned char ch = (unsigned char) *cp;

	if (ch == '\\' || ch <= ' ' || ch >= 0x7f)
	    buf_printf(out, "\\%03u", ch);
	else
	    buf_putc(out, ch);
    }
    return out->s;
}

/*
 * name_fits - can the name be asked at all: labels of 1..63 bytes, at most
 * 253 bytes without the one trailing dot allowed (RFC 1035's 255 wire
 * octets); "." is the root.  Counted in bytes of the name, not of its
 * escaped presentation.  A name that fails cannot exist: Postfix's
 * dns_lookup() answers "not found" for it too, and libunbound would only
 * refuse it (a temporary failure a client's HELO name could cause).
 */
static int name_fits(const char *name)
{
    size_t  len = strlen(name), label = 0;

    if (strcmp(name, ".") == 0)
	return 1;
    if (len > 0 && name[len - 1] == '.')
	len--;
    if (len == 0 || len > 253)
	return 0;
    for (size_t i = 0; i < len; i++) {
	if (name[i] != '.') {
	    if (++label > 63)
		return 0;
	} else if (label == 0) {
	    return 0;
	} else {
	    label = 0;
	}
    }
    return label > 0;
}

/* dns_type_name - "A", "MX", ... */
const char *dns_type_name(int type)
{
    switch (type) {
    case DNS_T_A:
	return "A";
    case DNS_T_AAAA:
	return "AAAA";
    case DNS_T_MX:
	return "MX";
    case DNS_T_PTR:
	return "PTR";
    case DNS_T_TXT:
	return "TXT";
    case DNS_T_CNAME:
	return "CNAME";
    default:
	return "?";
    }
}

/* dns_status_name - for traces and logs */
const char *dns_status_name(enum dns_status s)
{
    switch (s) {
    case DNS_OK:
	return "ok";
    case DNS_NXDOMAIN:
	return "NXDOMAIN";
    case DNS_NODATA:
	return "no data";
    case DNS_TEMPFAIL:
	return "temporary failure";
    }
    return "?";
}

void    dns_answer_ref(struct dns_answer *a)
{
    a->refs++;
}

void    dns_answer_unref(struct dns_answer *a)
{
    if (a == NULL || --a->refs > 0)
	return;
    for (size_t i = 0; i < a->n; i++) {
	free(a->rr[i].name);
	free(a->rr[i].text);
    }
    free(a->rr);
    free(a->qname);
    free(a);
}

/* dns_cached - a cached answer (one more reference), or NULL */
struct dns_answer *dns_cached(struct dns *d, const char *name, int type)
{
    char   *key = make_key(name, type);
    struct dns_answer *a = dns_cache_get(d->cache, key, time(NULL));

    free(key);
    if (a == NULL)
	return NULL;
    d->stats.hits++;
    stat_inc(STAT_DNS_CACHE_HITS);
    dns_answer_ref(a);
    return a;
}

/* query_unlink - remove from the in-flight table */
static void query_unlink(struct dns_query *q)
{
    struct dns_query **pp = &q->d->inflight[hash(q->key) % QBUCKETS];

    for (; *pp; pp = &(*pp)->hnext) {
	if (*pp == q) {
	    *pp = q->hnext;
	    q->d->stats.inflight--;
	    stat_set(STAT_DNS_INFLIGHT, (int64_t) q->d->stats.inflight);
	    return;
	}
    }
}

/* query_free - release a query nobody waits for any more */
static void query_free(struct dns_query *q)
{
    if (q->timer)
	event_free(q->timer);
    free(q->key);
    free(q->name);
    free(q);
}

/* query_finish - hand the answer to every waiter, then forget the query */
static void query_finish(struct dns_query *q, struct dns_answer *a)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    a->ms = (double) (now.tv_sec - q->start.tv_sec) * 1000.0
	+ (double) (now.tv_usec - q->start.tv_usec) / 1000.0;
    stat_observe(STAT_DNS_QUERY_SECONDS, a->ms / 1000.0);
    dns_cache_put(q->d->cache, q->key, a, time(NULL));
    stat_inc_l(STAT_DNS_ANSWERS, a->status == DNS_OK ? "ok" : a->status == DNS_NXDOMAIN
	       ? "nxdomain" : a->status == DNS_NODATA ? "nodata" : "tempfail");
    query_unlink(q);
    evtimer_del(q->timer);
    while (q->waiters) {
	struct dns_wait *w = q->waiters;

	q->waiters = w->next;
	dns_answer_ref(a);
	w->cb(w->arg, a);
	free(w);
    }
    dns_answer_unref(a);
    if (q->running)
	q->orphan = 1;			/* unbound still owns it: freed later */
    else
	query_free(q);
}

/*
 * dns_result - the answer libunbound's event callback reports.  A packet
 * is an answer to the query only when rcode is 0: libunbound reports a
 * failure by rcode alone and hands over its shared buffer as it happens
 * to be (services/mesh.c, mesh_do_callback): the last packet received,
 * perhaps another query's answer, or with tcp-upstream this query as it
 * was sent, which parses as "no data".  Read as an answer, a SERVFAIL
 * would become "does not exist" or "not listed".  An answer that failed
 * validation (sec 1, bogus) is a temporary failure, as a validating
 * server's SERVFAIL would be.
 */
struct dns_answer *dns_result(const char *name, int type, int rcode, const void *pkt,
			              int len, int sec, const char *why_bogus)
{
    static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
    "NOTIMP", "REFUSED"};
    char    why[200];

    if (rcode == 3)
	return dns_answer_new(name, type, DNS_NXDOMAIN, "");
    if (rcode != 0 || pkt == NULL || len <= 0) {
	snprintf(why, sizeof(why), "resolver: %s", why_bogus ? why_bogus
		 : rcode > 0 && rcode < 6 ? rcodes[rcode] : rcode ? "an error" : "no answer");
	return dns_answer_new(name, type, DNS_TEMPFAIL, why);
    }
    if (sec == 1) {
	snprintf(why, sizeof(why), "resolver: DNSSEC validation failed%s%s",
		 why_bogus ? ": " : "", why_bogus ? why_bogus : "");
	return dns_answer_new(name, type, DNS_TEMPFAIL, why);
    }
    return dns_parse(pkt, (size_t) len, name, type);
}

/* ub_callback - unbound finished a query */
static void ub_callback(void *arg, int rcode, void *pkt, int len, int sec,
			        char *why_bogus, int ratelimited)
{
    struct dns_query *q = arg;
    struct dns_answer *a;

    (void) ratelimited;
    q->running = 0;
    if (q->orphan) {
	query_free(q);			/* its waiters had a timeout */
	return;
    }
    if (rcode == 2)
	stat_inc(STAT_DNS_SERVFAILS);
    a = dns_result(q->name, q->type, rcode, pkt, len, sec, why_bogus);
    if (a->status == DNS_TEMPFAIL && msg_verbose)
	msg_info("dns: %s %s: %s", dns_type_name(q->type), q->name, a->why);
    if (q->starting) {
	q->early = a;			/* answered from unbound's cache */
	return;
    }
    query_finish(q, a);
}

/* query_timer - deliver an early answer, or time the lookup out */
static void query_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dns_query *q = arg;
    struct dns_answer *a = q->early;
    char    why[80];

    (void) fd;
    (void) what;
    q->early = NULL;
    if (a == NULL) {
	q->d->stats.timeouts++;
	stat_inc(STAT_DNS_TIMEOUTS);
	snprintf(why, sizeof(why), "timed out after %d ms", q->d->timeout_ms);
	a = dns_answer_new(q->name, q->type, DNS_TEMPFAIL, why);
	msg_warn("dns: %s %s: %s", dns_type_name(q->type), q->name, why);
    }
    query_finish(q, a);
}

/* dns_lookup - start or join a lookup */
struct dns_wait *dns_lookup(struct dns *d, const char *name, int type,
			            dns_cb cb, void *arg)
{
    char   *key = make_key(name, type);
    struct dns_query *q;
    struct dns_wait *w = xcalloc(1, sizeof(*w));
    unsigned long h = hash(key) % QBUCKETS;
    struct timeval tv;
    int     err;

    w->cb = cb;
    w->arg = arg;
    for (q = d->inflight[h]; q; q = q->hnext)
	if (strcmp(q->key, key) == 0)
	    break;
    if (q != NULL) {
	free(key);
	d->stats.shared++;
	stat_inc(STAT_DNS_SHARED);
	w->q = q;
	w->next = q->waiters;
	q->waiters = w;
	return w;
    }
    q = xcalloc(1, sizeof(*q));
    q->d = d;
    q->key = key;
    q->name = xstrdup(name);
    q->type = type;
    gettimeofday(&q->start, NULL);
    q->hnext = d->inflight[h];
    d->inflight[h] = q;
    d->stats.inflight++;
    stat_set(STAT_DNS_INFLIGHT, (int64_t) d->stats.inflight);
    w->q = q;
    q->waiters = w;
    q->timer = evtimer_new(d->base, query_timer, q);
    if (!name_fits(name)) {
	/* no such name: answered from the loop, nothing sent, nothing kept */
	q->early = dns_answer_new(name, type, DNS_NXDOMAIN, "not a valid domain name");
	q->early->ttl = 0;
	err = 0;
    } else {
	struct buf pres;

	d->stats.queries++;
	stat_inc(STAT_DNS_QUERIES);
	q->running = 1;
	q->starting = 1;
	buf_init(&pres);
	err = ub_resolve_event(d->ub, presentation(name, &pres), type, 1, q, ub_callback,
			       &q->async_id);
	buf_free(&pres);
	q->starting = 0;
    }
    if (err != 0) {
	char    why[160];

	q->running = 0;
	snprintf(why, sizeof(why), "cannot start lookup: %s", ub_strerror(err));
	msg_warn("dns: %s %s: %s", dns_type_name(type), name, why);
	q->early = dns_answer_new(name, type, DNS_TEMPFAIL, why);
    }
    /* callbacks run from the loop, never before dns_lookup() returns */
    tv.tv_sec = q->early ? 0 : d->timeout_ms / 1000;
    tv.tv_usec = q->early ? 0 : (d->timeout_ms % 1000) * 1000;
    evtimer_add(q->timer, &tv);
    return w;
}

/* dns_cancel - the waiter is gone; the query itself runs on */
void    dns_cancel(struct dns_wait *w)
{
    struct dns_query *q = w->q;
    struct dns_wait **pp;

    for (pp = &q->waiters; *pp; pp = &(*pp)->next) {
	if (*pp == w) {
	    *pp = w->next;
	    free(w);
	    return;
	}
    }
}

/* add_server - "127.0.0.1:5353", "[::1]:53", "::1", "192.0.2.1" */
static int add_server(struct ub_ctx *ub, const char *spec, char *err, size_t errlen)
{
    char    host[128], at[160];
    const char *port = NULL;
    struct inet_addr a;

    if (spec[0] == '[') {
	const char *close = strchr(spec, ']');

	if (close == NULL || (size_t) (close - spec) >= sizeof(host)) {
	    snprintf(err, errlen, "dns_resolver: bad server \"%s\"", spec);
	    return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int) (close - spec - 1), spec + 1);
	if (close[1] == ':')
	    port = close + 2;
	else if (close[1] != 0) {
	    snprintf(err, errlen, "dns_resolver: bad server \"%s\"", spec);
	    return -1;
	}
    } else if (strchr(spec, ':') && strchr(spec, ':') == strrchr(spec, ':')) {
	const char *colon = strchr(spec, ':');

	snprintf(host, sizeof(host), "%.*s", (int) (colon - spec), spec);
	port = colon + 1;
    } else {
	snprintf(host, sizeof(host), "%s", spec);
    }
    if (inet_parse(host, &a) < 0) {
	snprintf(err, errlen, "dns_resolver: \"%s\" is not an IP address "
		 "(expected resolv.conf, recursive, or HOST[:PORT] ...)", spec);
	return -1;
    }
    if (port) {
	char   *end;
	long    p = strtol(port, &end, 10);

	if (*port == 0 || *end || p < 1 || p > 65535) {
	    snprintf(err, errlen, "dns_resolver: bad port in \"%s\"", spec);
	    return -1;
	}
	snprintf(at, sizeof(at), "%s@%ld", host, p);
    } else {
	snprintf(at, sizeof(at), "%s", host);
    }
    int     rc = ub_ctx_set_fwd(ub, at);

    if (rc != 0) {
	snprintf(err, errlen, "dns_resolver: %s: %s", spec, ub_strerror(rc));
	return -1;
    }
    return 0;
}

/* set_option - one unbound option; errors are ours (fixed names) */
static void set_option(struct ub_ctx *ub, const char *name, const char *value)
{
    int     rc = ub_ctx_set_option(ub, name, value);

    if (rc != 0)
	msg_warn("dns: unbound option %s %s: %s", name, value, ub_strerror(rc));
}

/* dns_new - a resolver per dns_resolver */
struct dns *dns_new(struct event_base *base, const char *resolver,
		            int timeout_ms, size_t cache_size,
		            char *err, size_t errlen)
{
    struct dns *d = xcalloc(1, sizeof(*d));
    struct strlist servers;
    int     rc;

    d->base = base;
    d->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    d->cache = dns_cache_new(cache_size);
    if ((d->ub = ub_ctx_create_event(base)) == NULL) {
	snprintf(err, errlen, "dns: cannot create the resolver context");
	dns_free(d);
	return NULL;
    }
    /* servers on loopback (a local cache, the test server) are allowed */
    set_option(d->ub, "do-not-query-localhost:", "no");
    set_option(d->ub, "num-queries-per-thread:", "4096");
    set_option(d->ub, "outgoing-range:", "8192");
    strlist_init(&servers);
    strlist_split(&servers, resolver, LIST_SEPS);
    if (servers.n == 1 && strcasecmp(servers.v[0], "resolv.conf") == 0) {
	if ((rc = ub_ctx_resolvconf(d->ub, NULL)) != 0) {
	    snprintf(err, errlen, "dns_resolver: /etc/resolv.conf: %s", ub_strerror(rc));
	    goto bad;
	}
    } else if (servers.n == 1 && strcasecmp(servers.v[0], "recursive") == 0) {
	/* full recursion from the root: unbound's built-in hints */
    } else if (servers.n == 0) {
	snprintf(err, errlen, "dns_resolver: empty (expected resolv.conf, recursive, "
		 "or HOST[:PORT] ...)");
	goto bad;
    } else {
	for (size_t i = 0; i < servers.n; i++)
	    if (add_server(d->ub, servers.v[i], err, errlen) < 0)
		goto bad;
    }
    if (!(servers.n == 1 && strcasecmp(servers.v[0], "recursive") == 0)) {
	/*
	 * Forwarding: the servers answer for every zone, including the
	 * private and documentation reverse zones and .test, which
	 * unbound would otherwise answer itself with NXDOMAIN.
	 */
	static const char *const zones[] = {
	    "test.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	    "113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", "home.arpa.",
	};

	set_option(d->ub, "unblock-lan-zones:", "yes");
	set_option(d->ub, "insecure-lan-zones:", "yes");
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
	    char    v[128];

	    snprintf(v, sizeof(v), "%s transparent", zones[i]);
	    set_option(d->ub, "local-zone:", v);
	}
    }
    strlist_free(&servers);
    return d;
bad:
    strlist_free(&servers);
    dns_free(d);
    return NULL;
}

/*
 * dns_set_transport - "tcp": libunbound's tcp-upstream.  Every query then
 * goes over a TCP connection that is kept open and carries many queries
 * at once (unbound's stream reuse, matched by query id), so a query costs
 * a write and a read instead of a socket's whole life (socket, bind to a
 * random port, connect, two event changes, send, receive, close).  TCP
 * needs no source-port randomisation against off-path spoofing: a forged
 * answer would have to guess the connection's sequence numbers.
 */
int     dns_set_transport(struct dns *d, const char *transport, char *err, size_t errlen)
{
    int     rc;

    if (strcasecmp(transport, "udp") == 0)
	return 0;
    if (strcasecmp(transport, "tcp") != 0) {
	snprintf(err, errlen, "dns_transport: \"%s\" is neither udp nor tcp", transport);
	return -1;
    }
    if ((rc = ub_ctx_set_option(d->ub, "tcp-upstream:", "yes")) != 0) {
	snprintf(err, errlen, "dns_transport: %s", ub_strerror(rc));
	return -1;
    }
    return 0;
}

/* dns_free - release (queries still in unbound are abandoned) */
void    dns_free(struct dns *d)
{
    if (d == NULL)
	return;
    if (d->ub)
	ub_ctx_delete(d->ub);
    dns_cache_free(d->cache);
    free(d);
}

/* dns_get_stats - counters */
void    dns_get_stats(const struct dns *d, struct dns_stats *s)
{
    *s = d->stats;
}
