/*
 * ban.c - the auto-ban policy: parameters, keys, records and the
 * decision, as pure functions (the engine in engine.c does the I/O).
 *
 * Store tables and keys (every value's first field is its expiry, in
 * seconds since the epoch: a Redis backend may map it to the key's TTL):
 *
 *	bans       "NET"                     expires, since, level, reason
 *	offenders  "NET"                     expires, bans, last ban
 *	banhits    "NET|CLASS"               expires, window start, count, previous
 *	banprefix  "WIDENET"                 expires, window start, count, previous
 *	rates      "VALUE/WHAT=LIMIT/WINDOW" expires, window start, count, previous
 *
 * NET and WIDENET are canonical network texts, "192.0.2.9/32",
 * "2001:db8:1:2::/64"; CLASS is an event name (ban_event_limits) or "*".
 * Reason: 0 manual, 1 + enum ban_event_kind, BEV_COUNT + 1 escalation.
 * Keys begin with the client and a '/' (a Redis hash tag: ban.h); the
 * counters' keys were "CLASS|NET" and "WHAT/LIMIT/WINDOW|VALUE" at first:
 * such records are no longer read (counting starts again once) and LMDB's
 * expiry scan drops them as any other.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ban/ban.h"
#include "rules/addr.h"
#include "util/log.h"
#include "util/mem.h"

#define LIST_SEPS	", \t\r\n"

/* ban_parse_time - seconds with Postfix's suffixes */
long    ban_parse_time(const char *s)
{
    char   *end;
    long    v, mult = 1;

    if (!isdigit((unsigned char) *s))
	return -1;
    v = strtol(s, &end, 10);
    switch (*end) {
    case 0:
    case 's':
	break;
    case 'm':
	mult = 60;
	break;
    case 'h':
	mult = 3600;
	break;
    case 'd':
	mult = 86400;
	break;
    case 'w':
	mult = 7 * 86400;
	break;
    default:
	return -1;
    }
    if (*end && end[1])
	return -1;
    if (v < 0 || v > 100L * 365 * 86400 / mult)
	return -1;
    return v * mult;
}

/* parse_limits - ban_event_limits: EVENT=MAXRETRY[/FINDTIME[/BANTIME]] */
static int parse_limits(struct ban_conf *c, const char *value, const char *where,
			        struct buf *err)
{
    struct strlist w;
    int     rc = 0;

    strlist_init(&w);
    strlist_split(&w, value, LIST_SEPS);
    for (size_t i = 0; i < w.n && rc == 0; i++) {
	char   *eq = strchr(w.v[i], '='), *f[3] = {NULL, NULL, NULL};
	int     k, nf = 0;

	if (eq == NULL) {
	    buf_printf(err, "%s: ban_event_limits: \"%s\": expected EVENT=MAXRETRY[/FINDTIME[/BANTIME]]",
		       where, w.v[i]);
	    rc = -1;
	    break;
	}
	*eq = 0;
	if ((k = ban_event_lookup(w.v[i])) < 0) {
	    buf_printf(err, "%s: ban_event_limits: unknown event \"%s\"", where, w.v[i]);
	    rc = -1;
	    break;
	}
	for (char *p = eq + 1; p && nf < 3; nf++) {
	    f[nf] = p;
	    if ((p = strchr(p, '/')) != NULL)
		*p++ = 0;
	}
	struct ban_class cl = c->def;
	long    v;

	if (!str_is_digits(f[0]) || (cl.maxretry = atol(f[0])) < 1 || cl.maxretry > 1000000
	    || (f[1] && (v = ban_parse_time(f[1])) < 1) || (f[2] && ban_parse_time(f[2]) < 1)) {
	    buf_printf(err, "%s: ban_event_limits: bad limits for \"%s\"", where, w.v[i]);
	    rc = -1;
	    break;
	}
	if (f[1])
	    cl.findtime = ban_parse_time(f[1]);
	if (f[2])
	    cl.bantime = ban_parse_time(f[2]);
	c->cls[k] = cl;
	c->own[k] = 1;
    }
    strlist_free(&w);
    return rc;
}

/* parse_ignore - ban_ignore: networks, and type:table lookups */
static int parse_ignore(struct ban_conf *c, const char *value, struct tables *t,
			        const char *where, struct buf *err)
{
    struct strlist w;
    struct buf nets, maps;
    char    why[256];
    int     rc = 0;

    strlist_init(&w);
    buf_init(&nets);
    buf_init(&maps);
    strlist_split(&w, value, LIST_SEPS);
    for (size_t i = 0; i < w.n; i++) {
	struct cidr_list one;

	/* a network ("fe80::/10" too) when it parses as one; else
	 * "type:name" is a table; anything else is reported below */
	memset(&one, 0, sizeof(one));
	if (cidr_list_parse(w.v[i], &one, why, sizeof(why)) == 0 || strchr(w.v[i], ':') == NULL
	    || w.v[i][0] == '[')
	    buf_printf(&nets, "%s ", w.v[i]);
	else
	    buf_printf(&maps, "%s ", w.v[i]);
	cidr_list_free(&one);
    }
    if (cidr_list_parse(nets.s ? nets.s : "", &c->ignore, why, sizeof(why)) < 0) {
	buf_printf(err, "%s: ban_ignore: %s", where, why);
	rc = -1;
    } else if (maps.len && t == NULL) {
	buf_printf(err, "%s: ban_ignore: tables are not available here", where);
	rc = -1;
    } else if (maps.len && (c->ignore_maps = domain_list_new(maps.s, 0, t, err)) == NULL) {
	rc = -1;
    }
    strlist_free(&w);
    buf_free(&nets);
    buf_free(&maps);
    return rc;
}

/* ban_conf_compile - the ban parameters, checked */
struct ban_conf *ban_conf_compile(const struct config *conf, struct tables *t, struct buf *err)
{
    struct ban_conf *c = xcalloc(1, sizeof(*c));
    struct strlist w;

    c->def.maxretry = config_int(conf, P_BAN_MAXRETRY);
    c->def.findtime = config_int(conf, P_BAN_FINDTIME);
    c->def.bantime = config_int(conf, P_BAN_BANTIME);
    c->increment = config_bool(conf, P_BAN_INCREMENT);
    c->factor = config_int(conf, P_BAN_FACTOR);
    c->maxtime = config_int(conf, P_BAN_MAXTIME);
    c->history = config_int(conf, P_BAN_HISTORY);
    c->ipv4_prefix = (int) config_int(conf, P_BAN_V4_PREFIX);
    c->ipv6_prefix = (int) config_int(conf, P_BAN_V6_PREFIX);
    c->escalate_count = config_int(conf, P_BAN_ESC_COUNT);
    c->escalate_v4 = (int) config_int(conf, P_BAN_ESC_V4);
    c->escalate_v6 = (int) config_int(conf, P_BAN_ESC_V6);
    c->escalate_window = config_int(conf, P_BAN_ESC_WINDOW);
    c->reject_code = (int) config_int(conf, P_BAN_REJECT_CODE);
    for (int k = 0; k < BEV_COUNT; k++)
	c->cls[k] = c->def;
    {
	const char *v = config_str(conf, P_RATE_ERROR_ACTION);

	if (strcasecmp(v, "defer") != 0 && strcasecmp(v, "dunno") != 0) {
	    buf_printf(err, "%s: rate_limit_error_action: bad value \"%s\" (expected defer or"
		       " dunno)", config_where(conf, P_RATE_ERROR_ACTION), v);
	    goto bad;
	}
	c->rate_error_dunno = strcasecmp(v, "dunno") == 0;
    }

    strlist_init(&w);
    strlist_split(&w, config_str(conf, P_BAN_EVENTS), LIST_SEPS);
    for (size_t i = 0; i < w.n; i++) {
	int     k = ban_event_lookup(w.v[i]);

	if (k < 0) {
	    buf_printf(err, "%s: ban_events: unknown event \"%s\"",
		       config_where(conf, P_BAN_EVENTS), w.v[i]);
	    strlist_free(&w);
	    goto bad;
	}
	c->counted[k] = 1;
    }
    strlist_free(&w);
    if (parse_limits(c, config_str(conf, P_BAN_LIMITS), config_where(conf, P_BAN_LIMITS), err) < 0
	|| parse_ignore(c, config_str(conf, P_BAN_IGNORE), t, config_where(conf, P_BAN_IGNORE),
			err) < 0)
	goto bad;
    return c;
bad:
    ban_conf_free(c);
    return NULL;
}

void    ban_conf_free(struct ban_conf *c)
{
    if (c == NULL)
	return;
    cidr_list_free(&c->ignore);
    if (c->ignore_maps)
	domain_list_free(c->ignore_maps);
    free(c);
}

/* ban_ignored - ban_ignore */
int     ban_ignored(const struct ban_conf *c, const char *addr)
{
    if (cidr_list_match(&c->ignore, addr))
	return 1;
    if (c->ignore_maps) {
	enum map_result r = domain_list_match(c->ignore_maps, addr);

	return r == MAP_ERROR ? -1 : r == MAP_FOUND;
    }
    return 0;
}

/* mask - clear the host bits past len */
static void mask(struct inet_addr *a, int len)
{
    int     bytes = a->family == AF_INET ? 4 : 16;

    for (int i = 0; i < bytes; i++) {
	int     keep = len - 8 * i;

	if (keep <= 0)
	    a->b[i] = 0;
	else if (keep < 8)
	    a->b[i] &= (unsigned char) (0xff << (8 - keep));
    }
}

/* ban_net - the network of an address at a prefix */
int     ban_net(const char *addr, int v4len, int v6len, struct cidr *net)
{
    if (inet_parse(addr, &net->net) < 0)
	return -1;
    net->len = net->net.family == AF_INET ? v4len : v6len;
    mask(&net->net, net->len);
    return 0;
}

void    ban_net_text(const struct cidr *net, char out[BAN_NET_MAX])
{
    char    a[48];

    inet_format(&net->net, a, sizeof(a));
    snprintf(out, BAN_NET_MAX, "%s/%d", a, net->len);
}

/* ban_net_parse - an address (a host) or a network */
int     ban_net_parse(const char *text, struct cidr *net)
{
    char    why[128];
    struct buf b;
    const char *slash = strchr(text, '/');
    int     rc;

    if (slash == NULL) {
	if (inet_parse(text, &net->net) < 0)
	    return -1;
	net->len = net->net.family == AF_INET ? 32 : 128;
	return 0;
    }
    buf_init(&b);
    if (text[0] == '[' && slash > text && slash[-1] == ']') {
	buf_append(&b, text + 1, (size_t) (slash - text - 2));
	buf_puts(&b, slash);
    } else {
	buf_puts(&b, text);
    }
    rc = cidr_parse(b.s, net, why, sizeof(why));
    buf_free(&b);
    return rc;
}

/* ban_wide - the escalation prefix */
int     ban_wide(const struct ban_conf *c, const struct cidr *net, struct cidr *wide)
{
    int     len = net->net.family == AF_INET ? c->escalate_v4 : c->escalate_v6;

    if (c->escalate_count <= 0 || len >= net->len)
	return 0;
    *wide = *net;
    wide->len = len;
    mask(&wide->net, len);
    return 1;
}

/* records: their fields in store/encode.h's bytes */
size_t  ban_record_encode(const struct ban_record *r, unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[4] = {r->expires, r->since, r->level, r->reason};

    return store_value_encode(out, STORE_KIND_BAN, f, 4);
}

int     ban_record_decode(const void *val, size_t len, struct ban_record *r)
{
    int64_t f[4];

    if (store_value_decode(val, len, STORE_KIND_BAN, f, 4) != STORE_VALUE_OK)
	return -1;
    r->expires = f[0], r->since = f[1], r->level = f[2], r->reason = f[3];
    return 0;
}

size_t  ban_offender_encode(const struct ban_offender *r, unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[3] = {r->expires, r->bans, r->last};

    return store_value_encode(out, STORE_KIND_OFFENDER, f, 3);
}

int     ban_offender_decode(const void *val, size_t len, struct ban_offender *r)
{
    int64_t f[3];

    if (store_value_decode(val, len, STORE_KIND_OFFENDER, f, 3) != STORE_VALUE_OK)
	return -1;
    r->expires = f[0], r->bans = f[1], r->last = f[2];
    return 0;
}

size_t  ban_counter_encode(const struct ban_counter *r, unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[4] = {r->expires, r->start, r->count, r->prev};

    return store_value_encode(out, STORE_KIND_COUNTER, f, 4);
}

int     ban_counter_decode(const void *val, size_t len, struct ban_counter *r)
{
    int64_t f[4];

    if (store_value_decode(val, len, STORE_KIND_COUNTER, f, 4) != STORE_VALUE_OK)
	return -1;
    r->expires = f[0], r->start = f[1], r->count = f[2], r->prev = f[3];
    return 0;
}

/* counts past this mean nothing, and keep the arithmetic below in range
 * whatever a stored record says */
#define COUNT_MAX	((int64_t) 1 << 32)

/* skew - a time a little before the window's start (another host's
 * clock, sharing the counter through Redis) counts in that window;
 * further back, the clock went back: roll starts again */
static int64_t skew(const struct ban_counter *c, int64_t now)
{
    return now < c->start && now >= c->start - BAN_SKEW_MAX ? c->start : now;
}

/* roll - move the counter's windows forward to the one holding now
 * (store/redis_counter.c does the same on the server: keep them alike) */
static void roll(struct ban_counter *c, int64_t now, long window)
{
    if (c->count > COUNT_MAX)
	c->count = COUNT_MAX;
    if (c->prev > COUNT_MAX)
	c->prev = COUNT_MAX;
    if (c->start == 0 || now < c->start || now >= c->start + 2 * (int64_t) window) {
	/* new, clock gone back, or both windows over */
	c->prev = 0;
	c->count = 0;
	c->start = now;
    } else if (now >= c->start + window) {
	c->prev = c->count;
	c->count = 0;
	c->start += window;
    }
}

/* estimate - the current window plus the part of the previous one that
 * the sliding window still covers */
static long estimate(const struct ban_counter *c, int64_t now, long window)
{
    int64_t into = now - c->start;
    int64_t older = window > 0 ? c->prev * (window - into) / window : 0;

    return (long) (c->count + (older > 0 ? older : 0));
}

long    ban_counter_hit(struct ban_counter *c, int64_t now, long window, long n)
{
    now = skew(c, now);
    roll(c, now, window);
    if (c->count + n <= COUNT_MAX)
	c->count += n;
    c->expires = c->start + 2 * (int64_t) window;
    return estimate(c, now, window);
}

long    ban_counter_peek(const struct ban_counter *c, int64_t now, long window)
{
    struct ban_counter t = *c;

    now = skew(&t, now);
    roll(&t, now, window);
    return estimate(&t, now, window);
}

/* ban_duration - bantime grown by the factor per earlier ban, capped */
long    ban_duration(const struct ban_conf *c, long bantime, long level)
{
    const long forever = 100L * 365 * 86400;
    long    cap = c->maxtime > 0 ? c->maxtime : forever;
    long    d = bantime;

    if (!c->increment || c->factor <= 1)
	return d;			/* (level comes from the store: no loop to it) */
    for (long i = 1; i < level && d < cap; i++)
	d = c->factor > 1 && d > cap / c->factor ? cap : d * (c->factor > 1 ? c->factor : 1);
    return d > cap ? cap : d;
}

const char *ban_reason_name(int64_t reason)
{
    if (reason == BAN_REASON_MANUAL)
	return "manual";
    if (reason == BAN_REASON_ESCALATION)
	return "escalation";
    if (reason >= 1 && reason <= BEV_COUNT)
	return ban_event_name((enum ban_event_kind) (reason - 1));
    return "unknown";
}

int     ban_active(const struct ban_record *r, int64_t now)
{
    return r->expires > now;
}

/* ban_decide - count the event; ban when its class has reached maxretry */
void    ban_decide(const struct ban_conf *c, int64_t now, enum ban_event_kind kind,
		           const struct ban_reads *in, struct ban_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->cls = &c->cls[kind];
    /* a banned client's refused attempts are not new offences */
    if ((in->have_ban && ban_active(&in->ban, now))
	|| (in->have_wide && ban_active(&in->wide, now))) {
	d->verdict = BAN_V_ALREADY;
	return;
    }
    if (in->have_hits)
	d->hits = in->hits;
    if (in->hits_counted)
	d->count = ban_counter_peek(&d->hits, now, d->cls->findtime);
    else
	d->count = ban_counter_hit(&d->hits, now, d->cls->findtime, 1);
    if (d->count < d->cls->maxretry) {
	d->verdict = BAN_V_COUNTED;
	return;
    }

    /* banned: longer for a repeat offender */
    long    level = 1;

    if (in->have_off && in->off.expires > now)
	level = in->off.bans + 1;
    long    secs = ban_duration(c, d->cls->bantime, level);

    d->verdict = BAN_V_BAN;
    d->ban.since = now;
    d->ban.expires = now + secs;
    d->ban.level = level;
    d->ban.reason = 1 + (int64_t) kind;
    d->off.bans = level;
    d->off.last = now;
    d->off.expires = d->ban.expires + c->history;

    /* several networks of one wider prefix banned: the prefix too */
    if (!in->wide_valid)
	return;
    if (in->have_pfx)
	d->pfx = in->pfx;
    if (in->pfx_counted)
	d->pfx_count = ban_counter_peek(&d->pfx, now, c->escalate_window);
    else
	d->pfx_count = ban_counter_hit(&d->pfx, now, c->escalate_window, 1);
    if (d->pfx_count >= c->escalate_count) {
	d->escalate = 1;
	d->wide.since = now;
	d->wide.expires = d->ban.expires;
	d->wide.level = level;
	d->wide.reason = BAN_REASON_ESCALATION;
    }
}

/* ban_log_ban - one line per ban, Postfix's name=value style */
void    ban_log_ban(const char *net, const struct ban_record *r, long count, const char *extra)
{
    msg_info("ban: client=%s, reason=%s, time=%llds, level=%lld, count=%ld%s%s", net,
	     ban_reason_name(r->reason), (long long) (r->expires - r->since),
	     (long long) r->level, count, extra && *extra ? ", " : "", extra ? extra : "");
}
