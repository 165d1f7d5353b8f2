/*
 * loadgen.c - mxshield-bench, a load generator for the Postfix SMTPD access
 *	policy delegation protocol.
 *
 * SYNOPSIS
 *	mxshield-bench [-c CONNS] [-n REQUESTS | -d SECONDS] [-m fixed|unique|mixed]
 *		[-s SEED] [-w WARMUP_REQS] [-t TIMEOUT] [-A attr=value]...
 *		[--json] TARGET
 *
 * DESCRIPTION
 *	Opens CONNS connections to TARGET (inet:HOST:PORT, inet:[IPv6]:PORT or
 *	unix:/path) and on each one sends the request Postfix 3.7 sends at RCPT
 *	for smtpd_recipient_restrictions, one at a time: send, wait for the
 *	whole "action=...\n\n" reply, send the next.  The latency of each
 *	request (send to complete reply, CLOCK_MONOTONIC) goes into a
 *	log-linear histogram (128 sub-buckets per power of two, so a reported
 *	percentile is within 0.4% of the true sample); the maximum is exact.
 *
 *	Modes: fixed sends one client/sender/recipient triplet; unique a new
 *	one per request (client 10.x.y.z from a counter, distinct local parts);
 *	mixed 90% from a pool of 1,000 repeating triplets and 10% unique.
 *	-A overrides or adds request attributes.
 *
 *	One thread and one event base.  Request texts are built once (fixed,
 *	the mixed pool) or rendered into a per-connection buffer (unique);
 *	replies are parsed straight from the read buffer and only a reply split
 *	across reads is kept in the connection's evbuffer.  A connection that
 *	fails is closed and not reopened.
 *
 * DIAGNOSTICS
 *	Exit 0 when every measured request got an "action=" reply; 1 when some
 *	did not (malformed reply, connection closed mid-request, timeout, I/O
 *	error), when the target cannot be reached or the run did not finish;
 *	2 on a usage error, including a TARGET that is not loopback or a unix
 *	socket: this tool is for one's own daemon, never someone else's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>

/* Limits: the run is bounded in connections, count and time. */
#define MAX_CONNS	10000
#define MAX_REQUESTS	100000000ULL
#define MAX_SECONDS	600		/* also the hard cap on any run */
#define MAX_WARMUP	10000000ULL
#define MAX_EXTRA_ATTRS	64
#define MAX_ACTIONS	32		/* distinct action words counted */
#define ACTION_WORD_MAX	32
#define POOL_SIZE	1000		/* mixed mode's repeating triplets */
#define READ_CHUNK	16384
#define REPLY_LIMIT	65536		/* longest reply kept while incomplete */
#define SLOT_MAX	80		/* longest generated attribute value */

/* Histogram: values below 2^HIST_BITS exact, above with HIST_HALF steps per octave. */
#define HIST_BITS	8
#define HIST_HALF	(1u << (HIST_BITS - 1))
#define HIST_BUCKETS	((64 - HIST_BITS + 2) * HIST_HALF)

enum gen_mode {
    MODE_FIXED, MODE_UNIQUE, MODE_MIXED,
};
static const char *const mode_names[] = {"fixed", "unique", "mixed"};

enum err_kind {
    ERR_BAD_REPLY, ERR_CLOSED, ERR_TIMEOUT, ERR_IO, ERR_UNSOLICITED,
    ERR_TOO_LONG, ERR_KINDS,
};
static const char *const err_names[] = {
    "bad_reply", "closed", "timeout", "io", "unsolicited", "reply_too_long",
};

/* Connection progress: one request in flight at most. */
enum conn_state {
    CONN_IDLE,				/* nothing in flight */
    CONN_WAITING,			/* request sent (maybe partly), reply pending */
    CONN_DEAD,				/* closed after an error */
};

/* Generated attribute values: the client/sender/recipient triplet. */
enum slot {
    SLOT_NONE, SLOT_ADDR, SLOT_NAME, SLOT_PORT, SLOT_SENDER, SLOT_RCPT, SLOT_INSTANCE,
    SLOT_COUNT,
};

struct triplet {
    char    val[SLOT_COUNT][SLOT_MAX];
    size_t  len[SLOT_COUNT];
};

/* One piece of the request template: literal text, or a generated slot. */
struct piece {
    enum slot slot;
    const char *text;
    size_t  len;
};

struct attr {
    const char *name;
    const char *value;
};

struct action_count {
    char    word[ACTION_WORD_MAX + 1];
    size_t  len;
    uint64_t count;
};

struct stats {
    uint64_t requests;			/* measured requests finished */
    uint64_t errors;
    uint64_t err_kind[ERR_KINDS];
    char    err_first[ERR_KINDS][160];	/* first example of each kind */
    uint64_t lat_n, lat_min, lat_max, lat_sum;
    uint64_t hist[HIST_BUCKETS];
    struct action_count actions[MAX_ACTIONS];
    size_t  nactions, last_action;
    uint64_t action_other;
};

struct conn {
    struct bench *b;
    unsigned id;
    int     fd;
    enum conn_state state;
    struct event *rev, *wev;
    struct evbuffer *in;		/* reply bytes split across reads */
    struct evbuffer *out;		/* request bytes the socket did not take */
    uint64_t seq;			/* issue number of the request in flight */
    uint64_t t_send;
    char   *scratch;			/* unique requests are rendered here */
};

struct bench {
    /* settings */
    const char *target_text;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int     is_unix;
    enum gen_mode mode;
    unsigned nconns;
    uint64_t nreq;			/* 0: run for seconds */
    double  seconds;
    uint64_t warmup;
    uint64_t seed;
    const char *zone;			/* -z: unique names under this zone */
    double  timeout;
    int     json;
    struct attr attrs[MAX_EXTRA_ATTRS];
    size_t  nattrs;

    /* requests */
    struct piece pieces[2 * 40 + MAX_EXTRA_ATTRS];
    size_t  npieces;
    char   *literal;			/* storage for the pieces' text */
    size_t  req_max;			/* longest rendered request */
    char   *fixed_req;
    size_t  fixed_len;
    char   *pool;			/* POOL_SIZE requests, req_max apart */
    size_t  pool_len[POOL_SIZE];
    uint64_t unique_next;
    uint64_t rng;

    /* run */
    struct event_base *base;
    struct conn *conns;
    unsigned alive;
    uint64_t issued;
    int     started, stopping;
    uint64_t t_start, t_end;
    const char *stop_reason;
    struct event *deadline, *hardstop, *sigint;
    struct timeval io_timeout;
    struct stats st;
};

/* The RCPT-stage request of Postfix 3.7, in Postfix's order. */
static const struct {
    const char *name;
    const char *value;
    enum slot slot;
} postfix_attrs[] = {
    {"request", "smtpd_access_policy", SLOT_NONE}, {"protocol_state", "RCPT", SLOT_NONE},
    {"protocol_name", "ESMTP", SLOT_NONE}, {"client_address", 0, SLOT_ADDR},
    {"client_name", 0, SLOT_NAME}, {"reverse_client_name", 0, SLOT_NAME},
    {"client_port", 0, SLOT_PORT}, {"helo_name", 0, SLOT_NAME},
    {"sender", 0, SLOT_SENDER}, {"recipient", 0, SLOT_RCPT},
    {"recipient_count", "0", SLOT_NONE}, {"queue_id", "", SLOT_NONE},
    {"instance", 0, SLOT_INSTANCE}, {"size", "0", SLOT_NONE},
    {"etrn_domain", "", SLOT_NONE}, {"stress", "", SLOT_NONE},
    {"sasl_method", "", SLOT_NONE}, {"sasl_username", "", SLOT_NONE},
    {"sasl_sender", "", SLOT_NONE}, {"ccert_subject", "", SLOT_NONE},
    {"ccert_issuer", "", SLOT_NONE}, {"ccert_fingerprint", "", SLOT_NONE},
    {"ccert_pubkey_fingerprint", "", SLOT_NONE}, {"encryption_protocol", "", SLOT_NONE},
    {"encryption_cipher", "", SLOT_NONE}, {"encryption_keysize", "0", SLOT_NONE},
    {"policy_context", "", SLOT_NONE}, {"server_address", "127.0.0.1", SLOT_NONE},
    {"server_port", "25", SLOT_NONE}, {"compatibility_level", "3.6", SLOT_NONE},
    {"mail_version", "3.7.11", SLOT_NONE},
};
#define N_POSTFIX_ATTRS (sizeof(postfix_attrs) / sizeof(postfix_attrs[0]))

static const char *progname = "mxshield-bench";

/* usage - print the synopsis and exit 2 */
static void usage(const char *why)
{
    if (why)
	fprintf(stderr, "%s: %s\n", progname, why);
    fprintf(stderr,
	    "usage: %s [-c CONNS] [-n REQUESTS | -d SECONDS] [-m fixed|unique|mixed]\n"
	    "       [-s SEED] [-w WARMUP_REQS] [-t TIMEOUT] [-A attr=value]... [-z ZONE]\n"
	    "       [--json] TARGET\n"
	    "-z ZONE: unique/mixed names (client, HELO, sender domain) under ZONE.\n"
	    "TARGET is inet:HOST:PORT, inet:[IPv6]:PORT or unix:/path (loopback only).\n"
	    "Defaults: -c 8 -n 100000 -m fixed -s 1 -w 0 -t 10.  Limits: -c %d, -n %llu, -d %d.\n",
	    progname, MAX_CONNS, (unsigned long long) MAX_REQUESTS, MAX_SECONDS);
    exit(2);
}

/* die - report a run-time failure and exit 1 */
static void die(const char *fmt, const char *arg, int err)
{
    fprintf(stderr, "%s: ", progname);
    fprintf(stderr, fmt, arg);
    if (err)
	fprintf(stderr, ": %s", strerror(err));
    fputc('\n', stderr);
    exit(1);
}

/* xmalloc - allocate or exit; never returns NULL */
static void *xmalloc(size_t len)
{
    void   *p = calloc(1, len ? len : 1);

    if (p == NULL)
	die("out of memory (%s)", "allocation", errno);
    return p;
}

/* now_ns - monotonic time in nanoseconds */
static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* rng_next - splitmix64: fast, seedable, good enough to pick from a pool */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* parse_u64 - a decimal number within [min, max], else a usage error */
static uint64_t parse_u64(const char *s, uint64_t min, uint64_t max, const char *what)
{
    char    msg[160], *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v < min || v > max) {
	snprintf(msg, sizeof(msg), "%s must be a number from %llu to %llu, not \"%s\"",
		 what, (unsigned long long) min, (unsigned long long) max, s);
	usage(msg);
    }
    return v;
}

/* parse_seconds - a duration in (0, MAX_SECONDS], else a usage error */
static double parse_seconds(const char *s, const char *what)
{
    char    msg[160], *end;
    double  v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !(v > 0) || v > MAX_SECONDS) {
	snprintf(msg, sizeof(msg), "%s must be more than 0 and at most %d seconds, not \"%s\"",
		 what, MAX_SECONDS, s);
	usage(msg);
    }
    return v;
}

/* refuse_target - a target we will not load: say why and exit 2 */
static void refuse_target(const char *target, const char *host)
{
    fprintf(stderr, "%s: refusing target \"%s\": host \"%s\" is not a loopback address.\n"
	    "%s: only 127.0.0.0/8, ::1 (numeric) or a unix: socket may be benchmarked.\n",
	    progname, target, host, progname);
    exit(2);
}

/* parse_target - inet:HOST:PORT, inet:[IPv6]:PORT or unix:/path, loopback only */
static void parse_target(struct bench *b, const char *target)
{
    char    host[INET6_ADDRSTRLEN + 8];
    const char *rest, *port, *colon;
    size_t  hlen;

    b->target_text = target;
    if (strncmp(target, "unix:", 5) == 0 || target[0] == '/') {
	struct sockaddr_un *sun = (struct sockaddr_un *) &b->addr;

	rest = target[0] == '/' ? target : target + 5;
	if (*rest == 0 || strlen(rest) >= sizeof(sun->sun_path))
	    usage("unix: socket path is empty or too long");
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, rest);
	b->addrlen = sizeof(*sun);
	b->is_unix = 1;
	return;
    }
    rest = strncmp(target, "inet:", 5) == 0 ? target + 5 : target;
    if (*rest == '[') {
	const char *close = strchr(rest, ']');

	if (close == NULL || close[1] != ':')
	    usage("bad TARGET: expected inet:[IPv6]:PORT");
	hlen = close - rest - 1;
	rest++;
	port = close + 2;
    } else {
	if ((colon = strrchr(rest, ':')) == NULL)
	    usage("bad TARGET: expected inet:HOST:PORT or unix:/path");
	hlen = colon - rest;
	port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host))
	usage("bad TARGET: missing or overlong host");
    memcpy(host, rest, hlen);
    host[hlen] = 0;
    if (strcmp(host, "localhost") == 0)
	strcpy(host, "127.0.0.1");

    uint16_t pnum = (uint16_t) parse_u64(port, 1, 65535, "TARGET port");
    struct sockaddr_in *sin = (struct sockaddr_in *) &b->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &b->addr;

    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
	    refuse_target(target, host);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(pnum);
	b->addrlen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
	if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
	    refuse_target(target, host);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(pnum);
	b->addrlen = sizeof(*sin6);
    } else {
	refuse_target(target, host);
    }
}

/* add_attr - record -A name=value; a repeated name replaces the earlier value */
static void add_attr(struct bench *b, char *arg)
{
    char   *eq = strchr(arg, '=');

    if (eq == NULL || eq == arg || strpbrk(arg, "\n\r"))
	usage("-A needs attr=value (non-empty name, no newlines)");
    *eq = 0;
    for (size_t i = 0; i < b->nattrs; i++)
	if (strcmp(b->attrs[i].name, arg) == 0) {
	    b->attrs[i].value = eq + 1;
	    return;
	}
    if (b->nattrs >= MAX_EXTRA_ATTRS)
	usage("too many -A options");
    b->attrs[b->nattrs].name = arg;
    b->attrs[b->nattrs].value = eq + 1;
    b->nattrs++;
}

/* find_attr - the -A value for name, or NULL */
static const char *find_attr(const struct bench *b, const char *name)
{
    for (size_t i = 0; i < b->nattrs; i++)
	if (strcmp(b->attrs[i].name, name) == 0)
	    return b->attrs[i].value;
    return NULL;
}

/* put_u64 - append v in decimal; return the new end */
static char *put_u64(char *p, uint64_t v)
{
    char    tmp[24], *t = tmp + sizeof(tmp);

    do {
	*--t = (char) ('0' + v % 10);
	v /= 10;
    } while (v);
    memcpy(p, t, tmp + sizeof(tmp) - t);
    return p + (tmp + sizeof(tmp) - t);
}

/* put_str - append a NUL-terminated string; return the new end */
static char *put_str(char *p, const char *s)
{
    size_t  n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

/* put_octets - append "a.b.c" with the given separator; return the new end */
static char *put_octets(char *p, unsigned a, unsigned b, unsigned c, char sep)
{
    p = put_u64(p, a);
    *p++ = sep;
    p = put_u64(p, b);
    *p++ = sep;
    return put_u64(p, c);
}

/* triplet_make - the fixed triplet, or else the unique one numbered k */
static void triplet_make(const struct bench *b, int fixed, uint64_t k, struct triplet *t)
{
    char   *p;

    if (fixed) {
	static const char *const v[SLOT_COUNT] = {
	    "", "10.1.2.3", "mail.example.net", "40000",
	    "alice@example.net", "bob@example.com", "7e3f.66a1b2c3.4d5e6.0",
	};

	for (int s = 1; s < SLOT_COUNT; s++) {
	    t->len[s] = strlen(v[s]);
	    memcpy(t->val[s], v[s], t->len[s]);
	}
	return;
    }
    /* An odd multiplier is a bijection mod 2^24: 16M distinct clients. */
    uint32_t v = (uint32_t) (k * 2654435761ULL + b->seed * 40503ULL) & 0xFFFFFF;
    unsigned o1 = v >> 16, o2 = (v >> 8) & 0xFF, o3 = v & 0xFF;

    p = put_octets(put_str(t->val[SLOT_ADDR], "10."), o1, o2, o3, '.');
    t->len[SLOT_ADDR] = p - t->val[SLOT_ADDR];
    p = put_octets(put_str(t->val[SLOT_NAME], "mail-"), o1, o2, o3, '-');
    p = put_str(p, b->zone ? "." : ".example.net");
    if (b->zone)
	p = put_str(p, b->zone);
    t->len[SLOT_NAME] = p - t->val[SLOT_NAME];
    p = put_u64(t->val[SLOT_PORT], 1024 + k % 64000);
    t->len[SLOT_PORT] = p - t->val[SLOT_PORT];

    p = put_str(t->val[SLOT_SENDER], "u");
    p = put_u64(p, k);
    if (b->zone) {
	/* a sender domain of its own: every DNS lookup is a new one */
	p = put_u64(put_str(p, "@d"), k);
	p = put_str(put_str(p, "."), b->zone);
    } else {
	p = put_str(p, "@example.org");
    }
    t->len[SLOT_SENDER] = p - t->val[SLOT_SENDER];

    /* a new triplet is a new message: its own instance */
    p = put_u64(put_str(t->val[SLOT_INSTANCE], "7e3f."), k);
    p = put_str(p, ".0");
    t->len[SLOT_INSTANCE] = p - t->val[SLOT_INSTANCE];

    p = put_str(t->val[SLOT_RCPT], "r");
    p = put_u64(p, k);
    p = put_str(p, "@example.com");
    t->len[SLOT_RCPT] = p - t->val[SLOT_RCPT];
}

/* render - write the request for a triplet into out; return its length */
static size_t render(const struct bench *b, const struct triplet *t, char *out)
{
    char   *p = out;

    for (size_t i = 0; i < b->npieces; i++) {
	const struct piece *pc = &b->pieces[i];

	if (pc->slot == SLOT_NONE) {
	    memcpy(p, pc->text, pc->len);
	    p += pc->len;
	} else {
	    memcpy(p, t->val[pc->slot], t->len[pc->slot]);
	    p += t->len[pc->slot];
	}
    }
    return p - out;
}

/* build_template - the request as literal pieces and slots, -A applied */
static void build_template(struct bench *b)
{
    size_t  cap = 64, used = 0, slots = 0;
    char   *lit;

    /* Size the literal store first so pieces can point into it. */
    for (size_t i = 0; i < N_POSTFIX_ATTRS; i++)
	cap += strlen(postfix_attrs[i].name) + 2 + strlen(postfix_attrs[i].value ?
							    postfix_attrs[i].value : "");
    for (size_t i = 0; i < b->nattrs; i++)
	cap += strlen(b->attrs[i].name) + strlen(b->attrs[i].value) + 2;
    b->literal = lit = xmalloc(cap);

#define EMIT_TEXT(s, n) do { \
	if (b->npieces && b->pieces[b->npieces - 1].slot == SLOT_NONE) \
	    b->pieces[b->npieces - 1].len += (n); \
	else \
	    b->pieces[b->npieces++] = (struct piece) {SLOT_NONE, lit + used, (n)}; \
	memcpy(lit + used, (s), (n)); \
	used += (n); \
    } while (0)
#define EMIT_STR(s) EMIT_TEXT((s), strlen(s))

    for (size_t i = 0; i < N_POSTFIX_ATTRS; i++) {
	const char *name = postfix_attrs[i].name;
	const char *over = find_attr(b, name);

	EMIT_STR(name);
	EMIT_STR("=");
	if (over) {
	    EMIT_STR(over);
	} else if (postfix_attrs[i].slot != SLOT_NONE) {
	    b->pieces[b->npieces++] = (struct piece) {postfix_attrs[i].slot, NULL, 0};
	    slots++;
	} else {
	    EMIT_STR(postfix_attrs[i].value);
	}
	EMIT_STR("\n");
    }
    for (size_t i = 0; i < b->nattrs; i++) {
	int     standard = 0;

	for (size_t j = 0; j < N_POSTFIX_ATTRS; j++)
	    standard |= strcmp(postfix_attrs[j].name, b->attrs[i].name) == 0;
	if (!standard) {
	    EMIT_STR(b->attrs[i].name);
	    EMIT_STR("=");
	    EMIT_STR(b->attrs[i].value);
	    EMIT_STR("\n");
	}
    }
    EMIT_STR("\n");
#undef EMIT_STR
#undef EMIT_TEXT
    b->req_max = used + slots * SLOT_MAX;
}

/* build_requests - prebuild what can be prebuilt for the chosen mode */
static void build_requests(struct bench *b)
{
    struct triplet t;

    build_template(b);
    triplet_make(b, 1, 0, &t);
    b->fixed_req = xmalloc(b->req_max);
    b->fixed_len = render(b, &t, b->fixed_req);
    if (b->mode == MODE_MIXED) {
	b->pool = xmalloc(b->req_max * POOL_SIZE);
	for (size_t i = 0; i < POOL_SIZE; i++) {
	    triplet_make(b, 0, i, &t);
	    b->pool_len[i] = render(b, &t, b->pool + i * b->req_max);
	}
	b->unique_next = POOL_SIZE;		/* unique ones never repeat the pool */
    }
}

/* request_next - the text of the next request for connection c */
static const char *request_next(struct bench *b, struct conn *c, size_t *len)
{
    struct triplet t;

    if (b->mode == MODE_FIXED) {
	*len = b->fixed_len;
	return b->fixed_req;
    }
    if (b->mode == MODE_MIXED) {
	uint64_t r = rng_next(&b->rng);

	if (r % 10 != 0) {			/* 90%: one of the pool */
	    size_t  i = (size_t) ((r / 10) % POOL_SIZE);

	    *len = b->pool_len[i];
	    return b->pool + i * b->req_max;
	}
    }
    triplet_make(b, 0, b->unique_next++, &t);
    *len = render(b, &t, c->scratch);
    return c->scratch;
}

/* hist_index - bucket of a latency in ns */
static size_t hist_index(uint64_t v)
{
    unsigned top, shift;

    if (v < (1u << HIST_BITS))
	return (size_t) v;
    top = 63 - (unsigned) __builtin_clzll(v);
    shift = top - (HIST_BITS - 1);
    return (size_t) shift * HIST_HALF + (size_t) (v >> shift);
}

/* hist_mid - the middle value of a bucket */
static uint64_t hist_mid(size_t i)
{
    unsigned shift;

    if (i < (1u << HIST_BITS))
	return i;
    shift = (unsigned) (i / HIST_HALF) - 1;
    return ((uint64_t) (i % HIST_HALF + HIST_HALF) << shift) + ((1ULL << shift) - 1) / 2;
}

/* stats_percentile - latency in ns at quantile q (0..1) */
static uint64_t stats_percentile(const struct stats *st, double q)
{
    uint64_t rank, cum = 0;

    if (st->lat_n == 0)
	return 0;
    rank = (uint64_t) (q * (double) st->lat_n + 0.999999);
    if (rank < 1)
	rank = 1;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
	cum += st->hist[i];
	if (cum >= rank) {
	    uint64_t v = hist_mid(i);

	    return v > st->lat_max ? st->lat_max : v < st->lat_min ? st->lat_min : v;
	}
    }
    return st->lat_max;
}

/* stats_action - count one reply's action word */
static void stats_action(struct stats *st, const char *w, size_t len)
{
    struct action_count *a;

    if (len > ACTION_WORD_MAX)
	len = ACTION_WORD_MAX;
    a = &st->actions[st->last_action];
    if (st->nactions && a->len == len && memcmp(a->word, w, len) == 0) {
	a->count++;
	return;
    }
    for (size_t i = 0; i < st->nactions; i++) {
	a = &st->actions[i];
	if (a->len == len && memcmp(a->word, w, len) == 0) {
	    a->count++;
	    st->last_action = i;
	    return;
	}
    }
    if (st->nactions == MAX_ACTIONS) {
	st->action_other++;
	return;
    }
    a = &st->actions[st->nactions];
    memcpy(a->word, w, len);
    a->len = len;
    a->count = 1;
    st->last_action = st->nactions++;
}

/* stats_error - count one error and keep the first example of its kind */
static void stats_error(struct stats *st, enum err_kind kind, unsigned conn,
			        const char *what, const char *text, size_t len)
{
    char   *dst = st->err_first[kind];
    size_t  cap = sizeof(st->err_first[kind]);

    st->errors++;
    if (st->err_kind[kind]++ == 0) {
	int     n = snprintf(dst, cap, "connection %u: %s", conn, what);

	/* Quote the start of a bad reply, newlines made visible. */
	for (size_t i = 0; text && i < len && n > 0 && (size_t) n + 4 < cap; i++) {
	    unsigned char ch = (unsigned char) text[i];

	    if (ch == '\n') {
		dst[n++] = '\\';
		dst[n++] = 'n';
	    } else {
		dst[n++] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char) ch : '?';
	    }
	    dst[n] = 0;
	}
	if (text && n > 0 && (size_t) n + 2 < cap) {
	    dst[n++] = '"';
	    dst[n] = 0;
	}
    }
}

static void conn_send(struct conn *);

/* bench_stop - end the measured run now */
static void bench_stop(struct bench *b, const char *reason)
{
    if (b->stopping)
	return;
    b->stopping = 1;
    b->t_end = now_ns();
    b->stop_reason = reason;
    event_base_loopbreak(b->base);
}

/* bench_check_done - stop when the count is reached or nobody is left */
static void bench_check_done(struct bench *b)
{
    if (b->nreq && b->st.requests >= b->nreq)
	bench_stop(b, NULL);
    else if (b->alive == 0)
	bench_stop(b, "all connections closed");
}

/* conn_fail - count the error, close the connection and never reuse it */
static void conn_fail(struct conn *c, enum err_kind kind, const char *what,
		              const char *text, size_t len)
{
    struct bench *b = c->b;
    int     counted = c->state == CONN_WAITING && c->seq >= b->warmup;

    if (counted || kind == ERR_UNSOLICITED)
	stats_error(&b->st, kind, c->id, what, text, len);
    if (counted)
	b->st.requests++;
    event_del(c->rev);
    event_del(c->wev);
    close(c->fd);
    c->fd = -1;
    c->state = CONN_DEAD;
    b->alive--;
    bench_check_done(b);
}

/* on_deadline - the -d time is up: stop */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    bench_stop(arg, NULL);
}

/* on_hardstop - no run lasts longer than MAX_SECONDS, warm-up included */
static void on_hardstop(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    bench_stop(arg, "hard time limit reached (600 s)");
}

/* on_sigint - ^C: stop and report what was measured */
static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    bench_stop(arg, "interrupted");
}

/* measured_start - the first measured request is being sent */
static void measured_start(struct bench *b)
{
    b->started = 1;
    b->t_start = now_ns();
    if (b->nreq == 0) {
	struct timeval tv;

	tv.tv_sec = (time_t) b->seconds;
	tv.tv_usec = (suseconds_t) ((b->seconds - (double) tv.tv_sec) * 1e6);
	b->deadline = evtimer_new(b->base, on_deadline, b);
	evtimer_add(b->deadline, &tv);
    }
}

/* conn_send - send the next request if the run wants one */
static void conn_send(struct conn *c)
{
    struct bench *b = c->b;
    const char *req;
    size_t  len;
    ssize_t n;

    if (b->stopping || (b->nreq && b->issued >= b->warmup + b->nreq))
	return;
    req = request_next(b, c, &len);
    c->seq = b->issued++;
    if (c->seq == b->warmup)
	measured_start(b);
    c->state = CONN_WAITING;
    c->t_send = now_ns();
    n = send(c->fd, req, len, MSG_NOSIGNAL);
    if (n == (ssize_t) len)
	return;
    if (n < 0) {
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
	    conn_fail(c, ERR_IO, strerror(errno), NULL, 0);
	    return;
	}
	n = 0;
    }
    /* The socket took part of it: queue the rest and wait for room. */
    evbuffer_add(c->out, req + n, len - (size_t) n);
    event_add(c->wev, NULL);
}

/* on_writable - flush a request the socket did not take at once */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void) what;
    if (evbuffer_write(c->out, fd) < 0 && errno != EAGAIN && errno != EINTR) {
	conn_fail(c, ERR_IO, strerror(errno), NULL, 0);
	return;
    }
    if (evbuffer_get_length(c->out) == 0)
	event_del(c->wev);
}

/* reply_done - one complete reply (up to and including its empty line) */
static int reply_done(struct conn *c, const char *p, size_t len, uint64_t now)
{
    struct bench *b = c->b;
    struct stats *st = &b->st;

    if (c->state != CONN_WAITING) {
	conn_fail(c, ERR_UNSOLICITED, "reply without a request: \"", p, len < 40 ? len : 40);
	return -1;
    }
    c->state = CONN_IDLE;
    if (c->seq < b->warmup)
	return 0;

    /* A measured reply: latency, then action word or error. */
    uint64_t lat = now - c->t_send;

    st->requests++;
    st->lat_n++;
    st->lat_sum += lat;
    if (lat > st->lat_max)
	st->lat_max = lat;
    if (st->lat_n == 1 || lat < st->lat_min)
	st->lat_min = lat;
    st->hist[hist_index(lat)]++;
    if (len >= 7 && memcmp(p, "action=", 7) == 0) {
	size_t  w = 7;

	while (w < len && p[w] != ' ' && p[w] != '\t' && p[w] != '\n')
	    w++;
	stats_action(st, p + 7, w - 7);
    } else {
	stats_error(st, ERR_BAD_REPLY, c->id, "reply not \"action=...\": \"",
		    p, len < 60 ? len : 60);
    }
    bench_check_done(b);
    return 0;
}

/* reply_end - length of the first reply in p (through its empty line), 0 if incomplete */
static size_t reply_end(const char *p, size_t len)
{
    const char *nn;

    if (len && p[0] == '\n')
	return 1;
    if ((nn = memmem(p, len, "\n\n", 2)) == NULL)
	return 0;
    return (size_t) (nn - p) + 2;
}

/* on_readable - read replies; a reply split across reads waits in c->in */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char    buf[READ_CHUNK];
    ssize_t n;
    size_t  off = 0, end;
    uint64_t now;

    if (what & EV_TIMEOUT) {
	if (c->state == CONN_WAITING)
	    conn_fail(c, ERR_TIMEOUT, "no complete reply within the timeout", NULL, 0);
	return;
    }
    if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
	    return;
	if (n < 0)
	    conn_fail(c, ERR_IO, strerror(errno), NULL, 0);
	else
	    conn_fail(c, ERR_CLOSED, c->state == CONN_WAITING ?
		      "closed by the server while awaiting a reply" :
		      "closed by the server", NULL, 0);
	return;
    }
    now = now_ns();

    /* Common case: nothing pending, parse straight from buf. */
    if (evbuffer_get_length(c->in) == 0) {
	while (off < (size_t) n && (end = reply_end(buf + off, (size_t) n - off)) > 0) {
	    if (reply_done(c, buf + off, end, now) < 0)
		return;
	    off += end;
	}
	if (off < (size_t) n)
	    evbuffer_add(c->in, buf + off, (size_t) n - off);
    } else {
	evbuffer_add(c->in, buf, (size_t) n);
	for (;;) {
	    size_t  have = evbuffer_get_length(c->in);
	    char    first;
	    struct evbuffer_ptr pos;

	    if (have == 0)
		break;
	    evbuffer_copyout(c->in, &first, 1);
	    if (first == '\n') {
		end = 1;
	    } else {
		pos = evbuffer_search(c->in, "\n\n", 2, NULL);
		if (pos.pos < 0)
		    break;
		end = (size_t) pos.pos + 2;
	    }
	    if (reply_done(c, (const char *) evbuffer_pullup(c->in, (ssize_t) end), end, now) < 0)
		return;
	    evbuffer_drain(c->in, end);
	}
    }
    if (evbuffer_get_length(c->in) > REPLY_LIMIT) {
	conn_fail(c, ERR_TOO_LONG, "reply longer than the limit", NULL, 0);
	return;
    }
    if (c->state == CONN_IDLE)
	conn_send(c);
}

/* connect_one - a connected, non-blocking socket to the target, or exit 1 */
static int connect_one(struct bench *b)
{
    struct pollfd pfd;
    int     fd, err = 0, one = 1;
    socklen_t elen = sizeof(err);

    if ((fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
	die("socket for %s", b->target_text, errno);
    if (connect(fd, (struct sockaddr *) &b->addr, b->addrlen) < 0) {
	if (errno != EINPROGRESS && errno != EAGAIN)
	    die("cannot connect to %s", b->target_text, errno);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, (int) (b->timeout * 1000)) != 1)
	    die("timed out connecting to %s", b->target_text, 0);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)
	    die("cannot connect to %s", b->target_text, err ? err : errno);
    }
    if (!b->is_unix)
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* json_str - print s as a JSON string */
static void json_str(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = (unsigned char) s[i];

	if (ch == '"' || ch == '\\')
	    printf("\\%c", ch);
	else if (ch < 0x20 || ch >= 0x7f)
	    printf("\\u%04x", ch);
	else
	    putchar(ch);
    }
    putchar('"');
}

/* report - the table, or one JSON object on one line */
static void report(const struct bench *b)
{
    const struct stats *st = &b->st;
    double  secs = b->started ? (double) (b->t_end - b->t_start) / 1e9 : 0;
    double  rps = secs > 0 ? (double) st->requests / secs : 0;
    double  p50 = stats_percentile(st, 0.50) / 1e3, p99 = stats_percentile(st, 0.99) / 1e3;
    double  p999 = stats_percentile(st, 0.999) / 1e3, max = st->lat_max / 1e3;
    double  mean = st->lat_n ? (double) st->lat_sum / (double) st->lat_n / 1e3 : 0;

    if (b->json) {
	printf("{\"target\":");
	json_str(b->target_text, strlen(b->target_text));
	printf(",\"mode\":\"%s\",\"connections\":%u,\"requests\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"seconds\":%.3f,\"rps\":%.1f,\"p50_us\":%.1f"
	       ",\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f,\"replies\":{",
	       mode_names[b->mode], b->nconns, st->requests, st->errors, secs, rps,
	       p50, p99, p999, max, mean);
	for (size_t i = 0; i < st->nactions; i++) {
	    if (i)
		putchar(',');
	    json_str(st->actions[i].word, st->actions[i].len);
	    printf(":%" PRIu64, st->actions[i].count);
	}
	if (st->action_other)
	    printf("%s\"(other)\":%" PRIu64, st->nactions ? "," : "", st->action_other);
	printf("},\"error_kinds\":{");
	for (int k = 0, first = 1; k < ERR_KINDS; k++)
	    if (st->err_kind[k]) {
		printf("%s\"%s\":%" PRIu64, first ? "" : ",", err_names[k], st->err_kind[k]);
		first = 0;
	    }
	printf("},\"complete\":%s}\n", b->stop_reason ? "false" : "true");
	return;
    }
    printf("target        %s\n", b->target_text);
    printf("mode          %s\n", mode_names[b->mode]);
    printf("connections   %u\n", b->nconns);
    printf("requests      %" PRIu64 "\n", st->requests);
    printf("errors        %" PRIu64 "\n", st->errors);
    printf("seconds       %.3f\n", secs);
    printf("requests/s    %.1f\n", rps);
    printf("latency p50   %.1f us\n", p50);
    printf("latency p99   %.1f us\n", p99);
    printf("latency p99.9 %.1f us\n", p999);
    printf("latency max   %.1f us\n", max);
    printf("replies       ");
    for (size_t i = 0; i < st->nactions; i++)
	printf("%s%.*s: %" PRIu64, i ? ", " : "", (int) st->actions[i].len,
	       st->actions[i].len ? st->actions[i].word : "(empty)", st->actions[i].count);
    if (st->action_other)
	printf("%s(other): %" PRIu64, st->nactions ? ", " : "", st->action_other);
    printf("%s\n", st->nactions || st->action_other ? "" : "none");
    for (int k = 0; k < ERR_KINDS; k++)
	if (st->err_kind[k])
	    printf("error %-14s %" PRIu64 "  first: %s\n", err_names[k], st->err_kind[k],
		   st->err_first[k]);
    if (b->stop_reason)
	printf("incomplete    %s\n", b->stop_reason);
}

/* run - connect everything, start every connection, loop until done */
static void run(struct bench *b)
{
    struct timeval cap = {MAX_SECONDS, 0};

    if ((b->base = event_base_new()) == NULL)
	die("cannot create the %s", "event base", errno);
    b->io_timeout.tv_sec = (time_t) b->timeout;
    b->io_timeout.tv_usec = (suseconds_t) ((b->timeout - (double) (time_t) b->timeout) * 1e6);
    const struct timeval *tmo = event_base_init_common_timeout(b->base, &b->io_timeout);

    b->conns = xmalloc(sizeof(*b->conns) * b->nconns);
    for (unsigned i = 0; i < b->nconns; i++) {
	struct conn *c = &b->conns[i];

	c->b = b;
	c->id = i;
	c->fd = connect_one(b);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->scratch = xmalloc(b->req_max);
	c->rev = event_new(b->base, c->fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(b->base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
	if (!c->in || !c->out || !c->rev || !c->wev)
	    die("out of memory (%s)", "libevent", errno);
	event_add(c->rev, tmo);
	b->alive++;
    }
    b->hardstop = evtimer_new(b->base, on_hardstop, b);
    evtimer_add(b->hardstop, &cap);
    b->sigint = evsignal_new(b->base, SIGINT, on_sigint, b);
    event_add(b->sigint, NULL);

    for (unsigned i = 0; i < b->nconns && !b->stopping; i++)
	conn_send(&b->conns[i]);
    if (!b->stopping)
	event_base_dispatch(b->base);
    if (!b->stopping)
	bench_stop(b, "event loop ended");
    if (!b->started)
	b->stop_reason = b->stop_reason ? b->stop_reason : "warm-up did not finish";
}

int     main(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'J'},
	{"help", no_argument, NULL, 'h'},
	{0, 0, 0, 0},
    };
    static struct bench bench;
    struct bench *b = &bench;
    int     ch, have_n = 0, have_d = 0;

    b->nconns = 8;
    b->nreq = 100000;
    b->mode = MODE_FIXED;
    b->seed = 1;
    b->timeout = 10;
    while ((ch = getopt_long(argc, argv, "c:n:d:m:s:w:t:A:z:h", longopts, NULL)) != -1) {
	switch (ch) {
	case 'c':
	    b->nconns = (unsigned) parse_u64(optarg, 1, MAX_CONNS, "-c CONNS");
	    break;
	case 'n':
	    b->nreq = parse_u64(optarg, 1, MAX_REQUESTS, "-n REQUESTS");
	    have_n = 1;
	    break;
	case 'd':
	    b->seconds = parse_seconds(optarg, "-d SECONDS");
	    have_d = 1;
	    break;
	case 'm':
	    for (b->mode = MODE_FIXED; strcmp(optarg, mode_names[b->mode]) != 0; b->mode++)
		if (b->mode == MODE_MIXED)
		    usage("-m must be fixed, unique or mixed");
	    break;
	case 's':
	    b->seed = parse_u64(optarg, 0, UINT64_MAX, "-s SEED");
	    break;
	case 'w':
	    b->warmup = parse_u64(optarg, 0, MAX_WARMUP, "-w WARMUP_REQS");
	    break;
	case 't':
	    b->timeout = parse_seconds(optarg, "-t TIMEOUT");
	    break;
	case 'A':
	    add_attr(b, optarg);
	    break;
	case 'z':
	    if (strlen(optarg) == 0 || strlen(optarg) > 32 || strspn(optarg,
		"abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(optarg))
		usage("-z ZONE: a lower-case domain of at most 32 characters");
	    b->zone = optarg;
	    break;
	case 'J':
	    b->json = 1;
	    break;
	default:
	    usage(NULL);
	}
    }
    if (have_n && have_d)
	usage("give -n or -d, not both");
    if (have_d)
	b->nreq = 0;
    if (optind != argc - 1)
	usage("exactly one TARGET is needed");
    parse_target(b, argv[optind]);
    b->rng = b->seed;

    signal(SIGPIPE, SIG_IGN);
    build_requests(b);
    run(b);
    report(b);
    return b->st.errors || b->stop_reason ? 1 : 0;
}
