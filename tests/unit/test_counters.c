/*
 * test_counters.c - the statistics the daemon's parts report, counted
 * exactly after known operations: decisions and requests through the
 * engine, DNS queries, shared lookups, cache hits, SERVFAILs and timeouts
 * against a scripted DNS server inside the test (UDP on loopback), DNS
 * list results per list, and store writes, commits, errors and commit
 * times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/config.h"
#include "dns/dns.h"
#include "policy/request.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "stats/stats.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"

#define V(...) ((const char *const[]) {__VA_ARGS__})

static char dir[64];

static int setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/mxcount.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char    cmd[128];

    (void) state;
    stats_free();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void quiet(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) text;
    (void) ctx;
}

/* compile - a policy from configuration text, or fail */
static struct policy *compile(const char *text)
{
    struct buf err;
    struct config *c;
    struct policy *p;

    buf_init(&err);
    c = config_parse_text(text, "test.cf", &err);
    if (c == NULL)
	fail_msg("config: %s", err.s);
    p = policy_compile(c, &err);
    if (p == NULL)
	fail_msg("compile: %s", err.s);
    buf_free(&err);
    return p;
}

/* request - a RCPT request from addr (freed by request_free) */
static void request(struct request *req, const char *addr, const char *rcpt)
{
    char    line[128];

    request_init(req);
    request_add_line(req, "protocol_state=RCPT", 19);
    snprintf(line, sizeof(line), "client_address=%s", addr);
    request_add_line(req, line, strlen(line));
    request_add_line(req, "client_name=mail.example.net", 28);
    request_add_line(req, "helo_name=mail.example.net", 26);
    request_add_line(req, "sender=alice@example.net", 24);
    snprintf(line, sizeof(line), "recipient=%s", rcpt);
    request_add_line(req, line, strlen(line));
}

/* run - evaluate one request synchronously; the action */
static char *run(struct policy *p, const char *addr, const char *rcpt)
{
    struct request req;
    char   *a;

    request(&req, addr, rcpt);
    a = eval_request(p, &req, NULL);
    request_free(&req);
    return a;
}

/* decisions by stage, restriction and action; requests by final action */
static void test_engine_counts(void **state)
{
    struct policy *p;
    char   *a;

    (void) state;
    p = compile("myhostname = mx.our.example\nmydestination = our.example\n"
		"client_restrictions = permit_mynetworks, reject_unknown_client_hostname\n"
		"recipient_restrictions = reject_unauth_destination\n"
		"mynetworks = 127.0.0.0/8\n");
    stats_reset();
    log_capture(quiet, NULL);
    /* from mynetworks: client list permits, recipient list rejects relaying */
    a = run(p, "127.0.0.1", "bob@elsewhere.example");
    assert_true(a[0] == '5');
    free(a);
    /* local recipient, from outside: nothing decides */
    a = run(p, "192.0.2.10", "bob@our.example");
    assert_string_equal(a, "DUNNO");
    free(a);
    a = run(p, "192.0.2.10", "bob@our.example");
    free(a);
    /* postmaster: accepted before any list */
    a = run(p, "192.0.2.10", "postmaster");
    assert_string_equal(a, "DUNNO");
    free(a);
    log_capture(NULL, NULL);

    assert_int_equal(stat_get_l(STAT_DECISIONS, V("client", "permit_mynetworks", "permit")), 1);
    assert_int_equal(stat_get_l(STAT_DECISIONS, V("recipient", "reject_unauth_destination",
						   "reject")), 1);
    assert_int_equal(stat_series_count(STAT_DECISIONS), 2);
    assert_int_equal(stat_get_l(STAT_REQUESTS, V("RCPT", "reject")), 1);
    assert_int_equal(stat_get_l(STAT_REQUESTS, V("RCPT", "dunno")), 3);
    assert_int_equal(stat_series_count(STAT_REQUESTS), 2);
    policy_unref(p);
}

/*
 * A scripted DNS server on loopback, answered from the test's own event
 * loop: a.test has an address, fail.test answers SERVFAIL, slow.test
 * never answers; under list.test, 10.2.0.192 is listed (127.0.0.2),
 * 11.2.0.192 gets the "refused" code 127.255.255.254; everything else
 * is NXDOMAIN.
 */
struct dnsd {
    int     fd;
    int     port;
    struct event *ev;
    int     packets;
};

static void dnsd_read(evutil_socket_t fd, short what, void *arg)
{
    struct dnsd *s = arg;
    unsigned char q[512], r[600];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n;
    size_t  off = 12, rl;
    char    name[256];
    size_t  nl = 0;
    int     rcode = 3;
    unsigned char ip[4] = {0, 0, 0, 0};

    (void) what;
    n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *) &from, &fl);
    if (n < 17)
	return;
    s->packets++;
    /* the question's name, as dotted text */
    while (off < (size_t) n && q[off] != 0 && nl + q[off] + 2 < sizeof(name)) {
	size_t  ll = q[off];

	if (off + 1 + ll > (size_t) n)
	    return;
	if (nl)
	    name[nl++] = '.';
	memcpy(name + nl, q + off + 1, ll);
	nl += ll;
	off += 1 + ll;
    }
    name[nl] = 0;
    off += 1 + 4;			/* root label, type, class */
    if (off > (size_t) n)
	return;
    if (strcasecmp(name, "slow.test") == 0)
	return;
    if (strcasecmp(name, "fail.test") == 0)
	rcode = 2;
    if (strcasecmp(name, "a.test") == 0) {
	rcode = 0;
	memcpy(ip, (unsigned char[]) {192, 0, 2, 1}, 4);
    }
    if (strcasecmp(name, "10.2.0.192.list.test") == 0) {
	rcode = 0;
	memcpy(ip, (unsigned char[]) {127, 0, 0, 2}, 4);
    }
    if (strcasecmp(name, "11.2.0.192.list.test") == 0) {
	rcode = 0;
	memcpy(ip, (unsigned char[]) {127, 255, 255, 254}, 4);
    }
    /* header: same id, QR RD RA, rcode; the question copied */
    memcpy(r, q, off);
    r[2] = 0x81;
    r[3] = (unsigned char) (0x80 | rcode);
    r[4] = 0, r[5] = 1;
    r[6] = 0, r[7] = rcode == 0 ? 1 : 0;
    memset(r + 8, 0, 4);
    rl = off;
    if (rcode == 0) {
	static const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4};

	memcpy(r + rl, rr, sizeof(rr));
	rl += sizeof(rr);
	memcpy(r + rl, ip, 4);
	rl += 4;
    }
    (void) sendto(fd, r, rl, 0, (struct sockaddr *) &from, fl);
}

static void dnsd_start(struct dnsd *s, struct event_base *base)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);

    memset(s, 0, sizeof(*s));
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(s->fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *) &sin, &sl), 0);
    s->port = ntohs(sin.sin_port);
    s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, dnsd_read, s);
    assert_int_equal(event_add(s->ev, NULL), 0);
}

static void dnsd_stop(struct dnsd *s)
{
    event_free(s->ev);
    close(s->fd);
}

static struct dns *resolver(struct event_base *base, const struct dnsd *s, int timeout_ms)
{
    char    spec[64], err[256];
    struct dns *d;

    snprintf(spec, sizeof(spec), "127.0.0.1:%d", s->port);
    d = dns_new(base, spec, timeout_ms, 1 << 20, err, sizeof(err));
    if (d == NULL)
	fail_msg("dns_new: %s", err);
    return d;
}

struct got {
    int     calls;
    enum dns_status st;
};

static void got_cb(void *arg, struct dns_answer *a)
{
    struct got *g = arg;

    g->calls++;
    g->st = a->status;
    dns_answer_unref(a);
}

/* loop_until - run the loop until *calls reaches want (or about 10 s pass) */
static void loop_until(struct event_base *base, const int *calls, int want)
{
    for (int i = 0; i < 10000 && *calls < want; i++) {
	struct timeval tv = {0, 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
    }
    assert_int_equal(*calls, want);
}

/* queries, shared lookups, cache hits, answers by outcome, SERVFAIL, timeout */
static void test_dns_counts(void **state)
{
    struct event_base *base = event_base_new();
    struct dnsd srv;
    struct dns *d, *quick;
    struct dns_answer *a;
    struct got g1 = {0}, g2 = {0}, g3 = {0}, g4 = {0};

    (void) state;
    log_capture(quiet, NULL);
    dnsd_start(&srv, base);
    d = resolver(base, &srv, 5000);
    quick = resolver(base, &srv, 300);	/* for the lookup that times out */
    stats_reset();

    /* one answer, then from the cache */
    (void) dns_lookup(d, "a.test", DNS_T_A, got_cb, &g1);
    assert_int_equal(stat_get(STAT_DNS_INFLIGHT), 1);
    loop_until(base, &g1.calls, 1);
    assert_int_equal(g1.st, DNS_OK);
    a = dns_cached(d, "a.test", DNS_T_A);
    assert_non_null(a);
    dns_answer_unref(a);
    assert_null(dns_cached(d, "b.test", DNS_T_A));

    /* two lookups of one name share one query: SERVFAIL */
    (void) dns_lookup(d, "fail.test", DNS_T_A, got_cb, &g2);
    (void) dns_lookup(d, "fail.test", DNS_T_A, got_cb, &g2);
    loop_until(base, &g2.calls, 2);
    assert_int_equal(g2.st, DNS_TEMPFAIL);

    /* no answer within the timeout */
    (void) dns_lookup(quick, "slow.test", DNS_T_A, got_cb, &g3);
    loop_until(base, &g3.calls, 1);
    assert_int_equal(g3.st, DNS_TEMPFAIL);

    /* NXDOMAIN */
    (void) dns_lookup(d, "none.test", DNS_T_A, got_cb, &g4);
    loop_until(base, &g4.calls, 1);
    assert_int_equal(g4.st, DNS_NXDOMAIN);
    log_capture(NULL, NULL);

    assert_int_equal(stat_get(STAT_DNS_QUERIES), 4);
    assert_int_equal(stat_get(STAT_DNS_SHARED), 1);
    assert_int_equal(stat_get(STAT_DNS_CACHE_HITS), 1);
    assert_int_equal(stat_get(STAT_DNS_SERVFAILS), 1);
    assert_int_equal(stat_get(STAT_DNS_TIMEOUTS), 1);
    assert_int_equal(stat_get(STAT_DNS_INFLIGHT), 0);
    assert_int_equal(stat_get_l(STAT_DNS_ANSWERS, V("ok")), 1);
    assert_int_equal(stat_get_l(STAT_DNS_ANSWERS, V("tempfail")), 2);
    assert_int_equal(stat_get_l(STAT_DNS_ANSWERS, V("nxdomain")), 1);
    assert_true(srv.packets >= 4);
    dns_free(d);
    dns_free(quick);
    dnsd_stop(&srv);
    event_base_free(base);
}

static int woken;

static void wake(void *arg)
{
    (void) arg;
    woken++;
}

/* eval_async - evaluate with lookups on the loop; the action */
static char *eval_async(struct policy *p, struct event_base *base, const char *addr)
{
    struct request req;
    struct eval *e;
    char   *a;

    request(&req, addr, "bob@our.example");
    e = eval_new(p, &req, NULL);
    eval_set_wakeup(e, wake, NULL);
    woken = 0;
    while (eval_run(e) == EVAL_PENDING) {
	int     want = woken + 1;

	loop_until(base, &woken, want);
    }
    a = strdup(eval_action(e));
    eval_free(e);
    request_free(&req);
    return a;
}

/* DNS list results per list: listed, refused, not listed */
static void test_dnslist_counts(void **state)
{
    struct event_base *base = event_base_new();
    struct dnsd srv;
    struct policy *p;
    char   *a;

    (void) state;
    log_capture(quiet, NULL);
    dnsd_start(&srv, base);
    p = compile("myhostname = mx.our.example\nmydestination = our.example\n"
		"client_restrictions = reject_rbl_client list.test\n");
    p->dns = resolver(base, &srv, 2000);
    stats_reset();
    a = eval_async(p, base, "192.0.2.10");
    assert_true(a[0] == '5');
    free(a);
    a = eval_async(p, base, "192.0.2.11");
    assert_string_equal(a, "DUNNO");
    free(a);
    a = eval_async(p, base, "192.0.2.12");
    assert_string_equal(a, "DUNNO");
    free(a);
    a = eval_async(p, base, "192.0.2.12");	/* from the resolver's cache */
    free(a);
    log_capture(NULL, NULL);

    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, V("list.test", "listed")), 1);
    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, V("list.test", "refused")), 1);
    assert_int_equal(stat_get_l(STAT_DNSLIST_CHECKS, V("list.test", "not_listed")), 2);
    assert_int_equal(stat_series_count(STAT_DNSLIST_CHECKS), 3);
    assert_int_equal(stat_get_l(STAT_DECISIONS, V("client", "reject_rbl_client", "reject")), 1);
    /* A for .10, .11 and .12, TXT for the listed .10; the last .12 from the cache */
    assert_int_equal(stat_get(STAT_DNS_QUERIES), 4);
    assert_int_equal(stat_get(STAT_DNS_CACHE_HITS), 1);
    dns_free(p->dns);
    p->dns = NULL;
    policy_unref(p);
    dnsd_stop(&srv);
    event_base_free(base);
}

static void told_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    (void) val;
    (void) len;
    *(enum store_status *) arg = st;
}

/* store writes, commits (single and batched), errors and commit times */
static void test_store_counts(void **state)
{
    struct store_opts o;
    char    path[128], err[256], key[600];
    struct store *s;
    enum store_status st = STORE_NOTFOUND;

    (void) state;
    snprintf(path, sizeof(path), "%s/db", dir);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.map_size = 1 << 20;
    o.on_corrupt = STORE_CORRUPT_REFUSE;
    s = store_open(&o, err, sizeof(err));
    if (s == NULL)
	fail_msg("store_open: %s", err);
    log_capture(quiet, NULL);
    stats_reset();

    /* outside a batch: one commit per write; a key too long fails alone */
    store_put(s, "triplets", "a", 1, "1", 1, told_cb, &st);
    assert_int_equal(st, STORE_OK);
    store_put(s, "triplets", "b", 1, "2", 1, told_cb, &st);
    memset(key, 'k', sizeof(key));
    store_put(s, "triplets", key, sizeof(key), "3", 1, told_cb, &st);
    assert_int_equal(st, STORE_ERROR);
    assert_int_equal(stat_get(STAT_STORE_WRITES), 3);
    assert_int_equal(stat_get(STAT_STORE_COMMITS), 2);
    assert_int_equal(stat_get(STAT_STORE_ERRORS), 1);
    assert_int_equal(stat_get(STAT_STORE_COMMIT_SECONDS), 2);

    /* in a batch: three writes (one refused), one commit */
    store_batch(s, 1);
    store_put(s, "triplets", "c", 1, "1", 1, told_cb, &st);
    store_del(s, "triplets", "a", 1, told_cb, &st);
    store_put(s, "triplets", key, sizeof(key), "3", 1, told_cb, &st);
    assert_int_equal(stat_get(STAT_STORE_COMMITS), 2);
    assert_int_equal(store_commit(s), 1);
    assert_int_equal(stat_get(STAT_STORE_WRITES), 6);
    assert_int_equal(stat_get(STAT_STORE_COMMITS), 3);
    assert_int_equal(stat_get(STAT_STORE_ERRORS), 2);
    assert_int_equal(stat_get(STAT_STORE_COMMIT_SECONDS), 3);
    /* nothing to commit: not a commit */
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(stat_get(STAT_STORE_COMMITS), 3);
    log_capture(NULL, NULL);
    store_close(s);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_engine_counts),
	cmocka_unit_test(test_dns_counts),
	cmocka_unit_test(test_dnslist_counts),
	cmocka_unit_test(test_store_counts),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
