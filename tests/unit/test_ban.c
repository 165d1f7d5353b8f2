/*
 * test_ban.c - the auto-ban policy with a controllable clock: counting
 * windows, per-event limits, repeat offenders and the cap, IPv6
 * prefixes, escalation, ignore lists; the records' bytes; the engine
 * over a real LMDB store (restart, expiry); check_rate's argument; the
 * nftables batch text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lmdb.h>

#include "ban/ban.h"
#include "ban/nft.h"
#include "conf/config.h"
#include "rules/rate.h"
#include "rules/tables.h"
#include "store/store.h"
#include "util/log.h"

static struct config *conf;
static struct tables *tabs;

/* compile - a ban_conf from configuration text */
static struct ban_conf *compile(const char *text)
{
    struct buf err;
    struct ban_conf *c;

    buf_init(&err);
    if (conf)
	config_free(conf);
    conf = config_parse_text(text, "test.cf", &err);
    assert_non_null(conf);
    if (tabs == NULL)
	tabs = tables_new();
    c = ban_conf_compile(conf, tabs, &err);
    if (c == NULL)
	fprintf(stderr, "%s\n", err.s);
    buf_free(&err);
    return c;
}

/* the stored state of one client, as the engine keeps it */
struct client {
    struct ban_reads in;
};

/* event - one event at now; the records updated as stored */
static enum ban_verdict event(const struct ban_conf *c, struct client *cl, int64_t now,
			              enum ban_event_kind kind, struct ban_decision *d)
{
    ban_decide(c, now, kind, &cl->in, d);
    switch (d->verdict) {
    case BAN_V_ALREADY:
	break;
    case BAN_V_COUNTED:
	cl->in.hits = d->hits;
	cl->in.have_hits = 1;
	break;
    case BAN_V_BAN:
	cl->in.have_hits = 0;
	cl->in.ban = d->ban;
	cl->in.have_ban = 1;
	cl->in.off = d->off;
	cl->in.have_off = 1;
	if (cl->in.wide_valid) {
	    cl->in.pfx = d->pfx;
	    cl->in.have_pfx = 1;
	}
	if (d->escalate) {
	    cl->in.wide = d->wide;
	    cl->in.have_wide = 1;
	}
	break;
    }
    return d->verdict;
}

static void test_maxretry_within_findtime(void **state)
{
    struct ban_conf *c = compile("");
    struct client cl;
    struct ban_decision d;

    (void) state;
    memset(&cl, 0, sizeof(cl));
    /* fail2ban's defaults: 5 in 10 minutes ban for 10 minutes */
    for (int i = 0; i < 4; i++)
	assert_int_equal(event(c, &cl, 1000 + i * 10, BEV_AUTH_FAILED, &d), BAN_V_COUNTED);
    assert_int_equal(d.count, 4);
    assert_int_equal(event(c, &cl, 1050, BEV_AUTH_FAILED, &d), BAN_V_BAN);
    assert_int_equal(d.count, 5);
    assert_int_equal(d.ban.expires, 1050 + 600);
    assert_int_equal(d.ban.level, 1);
    assert_string_equal(ban_reason_name(d.ban.reason), "auth-failed");
    /* while banned, refused attempts are not offences */
    assert_int_equal(event(c, &cl, 1100, BEV_REJECT, &d), BAN_V_ALREADY);
    assert_true(ban_active(&cl.in.ban, 1649));
    assert_false(ban_active(&cl.in.ban, 1650));
    ban_conf_free(c);
}

static void test_spread_out_events_never_ban(void **state)
{
    struct ban_conf *c = compile("");
    struct client cl;
    struct ban_decision d;

    (void) state;
    memset(&cl, 0, sizeof(cl));
    /* one event every 5 minutes: never 5 within any 10 minutes */
    for (int i = 0; i < 50; i++)
	assert_int_equal(event(c, &cl, 100000 + i * 300, BEV_LOST_CONNECTION, &d),
			 BAN_V_COUNTED);
    assert_true(d.count <= 4);
    /* one every 2 minutes: 5 within 10 minutes */
    memset(&cl, 0, sizeof(cl));
    int     banned = 0;

    for (int i = 0; i < 10 && !banned; i++)
	banned = event(c, &cl, 200000 + i * 120, BEV_LOST_CONNECTION, &d) == BAN_V_BAN;
    assert_true(banned);
    /* a window long past counts nothing: a fresh start */
    struct ban_counter k = {0, 1000, 4, 3};

    assert_int_equal(ban_counter_hit(&k, 1000 + 3 * 600, 600, 1), 1);
    /* a clock gone back starts again too */
    struct ban_counter b = {0, 5000, 4, 0};

    assert_int_equal(ban_counter_hit(&b, 4000, 600, 1), 1);
    ban_conf_free(c);
}

static void test_event_limits_count_apart(void **state)
{
    struct ban_conf *c = compile("ban_event_limits = dnsbl=1/10m/1h, auth-failed=3\n"
				 "ban_events = auth-failed dnsbl reject\n");
    struct client cl;
    struct ban_decision d;

    (void) state;
    assert_non_null(c);
    assert_true(c->own[BEV_DNSBL]);
    assert_true(c->own[BEV_AUTH_FAILED]);
    assert_false(c->own[BEV_REJECT]);
    assert_false(c->counted[BEV_HANGUP]);
    assert_int_equal(c->cls[BEV_AUTH_FAILED].findtime, 600);	/* the default */
    memset(&cl, 0, sizeof(cl));
    assert_int_equal(event(c, &cl, 5000, BEV_DNSBL, &d), BAN_V_BAN);
    assert_int_equal(d.ban.expires - d.ban.since, 3600);
    memset(&cl, 0, sizeof(cl));
    assert_int_equal(event(c, &cl, 5000, BEV_AUTH_FAILED, &d), BAN_V_COUNTED);
    assert_int_equal(event(c, &cl, 5001, BEV_AUTH_FAILED, &d), BAN_V_COUNTED);
    assert_int_equal(event(c, &cl, 5002, BEV_AUTH_FAILED, &d), BAN_V_BAN);
    ban_conf_free(c);

    /* bad settings are refused with the parameter's name */
    assert_null(compile("ban_event_limits = nosuch=1\n"));
    assert_null(compile("ban_event_limits = dnsbl=0\n"));
    assert_null(compile("ban_event_limits = dnsbl=1/soon\n"));
    assert_null(compile("ban_events = auth-failed bogus\n"));
}

static void test_repeat_offenders_and_cap(void **state)
{
    struct ban_conf *c = compile("ban_maxretry = 1\nban_bantime = 10m\nban_maxtime = 50m\n"
				 "ban_history = 1d\n");
    struct client cl;
    struct ban_decision d;
    int64_t now = 1000000;
    const long want[] = {600, 1200, 2400, 3000, 3000};

    (void) state;
    memset(&cl, 0, sizeof(cl));
    for (int i = 0; i < 5; i++) {
	assert_int_equal(event(c, &cl, now, BEV_AUTH_FAILED, &d), BAN_V_BAN);
	assert_int_equal(d.ban.level, i + 1);
	assert_int_equal(d.ban.expires - d.ban.since, want[i]);
	now = d.ban.expires + 60;	/* offends again soon after */
    }
    /* forgotten ban_history after the last ban ends: a first ban again */
    now = cl.in.ban.expires + 86400 + 1;
    assert_int_equal(event(c, &cl, now, BEV_AUTH_FAILED, &d), BAN_V_BAN);
    assert_int_equal(d.ban.level, 1);
    assert_int_equal(d.ban.expires - d.ban.since, 600);
    ban_conf_free(c);

    /* without increment, always bantime */
    c = compile("ban_increment = no\n");
    assert_int_equal(ban_duration(c, 600, 7), 600);
    ban_conf_free(c);
    /* a level from the store is not a loop count (factor 1: no growth) */
    c = compile("ban_increment_factor = 1\n");
    assert_int_equal(ban_duration(c, 600, (long) 1 << 46), 600);
    ban_conf_free(c);
    /* nor are a stored counter's counts a way to overflow the estimate */
    struct ban_counter big = {0, 1000, (int64_t) 1 << 48, (int64_t) 1 << 48};

    assert_true(ban_counter_peek(&big, 1000 + 599, 600) > 0);
    assert_true(ban_counter_hit(&big, 1000 + 700, 600, 1) > 0);
    /* a huge level does not overflow */
    c = compile("ban_maxtime = 1w\nban_increment_factor = 1000\n");
    assert_int_equal(ban_duration(c, 600, 1000000), 7 * 86400);
    ban_conf_free(c);
}

static void test_ipv6_prefix(void **state)
{
    struct ban_conf *c = compile("");
    struct cidr a, b, w;
    char    t[BAN_NET_MAX];

    (void) state;
    assert_int_equal(ban_net("2001:db8:1:2::5", c->ipv4_prefix, c->ipv6_prefix, &a), 0);
    assert_int_equal(ban_net("2001:db8:1:2:ffff::9", c->ipv4_prefix, c->ipv6_prefix, &b), 0);
    ban_net_text(&a, t);
    assert_string_equal(t, "2001:db8:1:2::/64");
    ban_net_text(&b, t);
    assert_string_equal(t, "2001:db8:1:2::/64");	/* one host, one key */
    assert_int_equal(ban_net("192.0.2.77", c->ipv4_prefix, c->ipv6_prefix, &a), 0);
    ban_net_text(&a, t);
    assert_string_equal(t, "192.0.2.77/32");
    assert_int_equal(ban_wide(c, &a, &w), 1);
    ban_net_text(&w, t);
    assert_string_equal(t, "192.0.2.0/24");
    assert_int_equal(ban_net("unknown", 32, 64, &a), -1);
    /* stored keys read back */
    assert_int_equal(ban_net_parse("2001:db8:1:2::/64", &a), 0);
    assert_int_equal(a.len, 64);
    assert_int_equal(ban_net_parse("[2001:db8::]/48", &a), 0);
    assert_int_equal(ban_net_parse("192.0.2.9", &a), 0);
    assert_int_equal(a.len, 32);
    assert_int_equal(ban_net_parse("192.0.2.9/24", &a), -1);	/* host bits */
    ban_conf_free(c);

    c = compile("ban_ipv6_prefix = 56\nban_escalate_ipv6_prefix = 40\n");
    assert_int_equal(ban_net("2001:db8:1:2ff::5", c->ipv4_prefix, c->ipv6_prefix, &a), 0);
    ban_net_text(&a, t);
    assert_string_equal(t, "2001:db8:1:200::/56");
    assert_int_equal(ban_wide(c, &a, &w), 1);
    ban_net_text(&w, t);
    assert_string_equal(t, "2001:db8::/40");
    ban_conf_free(c);
}

static void test_escalation(void **state)
{
    struct ban_conf *c = compile("ban_maxretry = 1\nban_escalate_count = 3\n");
    struct ban_counter pfx = {0, 0, 0, 0};
    int     have_pfx = 0;
    struct ban_decision d;

    (void) state;
    /* three /64s of one /48 banned: the /48 with the third */
    for (int i = 0; i < 3; i++) {
	struct client cl;

	memset(&cl, 0, sizeof(cl));
	cl.in.wide_valid = 1;
	cl.in.pfx = pfx;
	cl.in.have_pfx = have_pfx;
	assert_int_equal(event(c, &cl, 7000 + i, BEV_AUTH_FAILED, &d), BAN_V_BAN);
	assert_int_equal(d.escalate, i == 2);
	pfx = d.pfx;
	have_pfx = 1;
    }
    assert_int_equal(d.pfx_count, 3);
    assert_string_equal(ban_reason_name(d.wide.reason), "escalation");
    assert_int_equal(d.wide.expires, d.ban.expires);
    /* a client of the banned /48 is not counted */
    struct client other;

    memset(&other, 0, sizeof(other));
    other.in.wide_valid = 1;
    other.in.have_wide = 1;
    other.in.wide = d.wide;
    assert_int_equal(event(c, &other, 7010, BEV_AUTH_FAILED, &d), BAN_V_ALREADY);
    ban_conf_free(c);

    /* off */
    c = compile("ban_escalate_count = 0\n");
    struct cidr a, w;

    assert_int_equal(ban_net("2001:db8::1", 32, 64, &a), 0);
    assert_int_equal(ban_wide(c, &a, &w), 0);
    ban_conf_free(c);
}

static void test_ignore_lists(void **state)
{
    char    path[] = "/tmp/test_ban_XXXXXX";
    int     fd = mkstemp(path);
    char    text[512];
    struct ban_conf *c;

    (void) state;
    /* default: mynetworks */
    c = compile("mynetworks = 127.0.0.0/8 [::1]/128 198.51.100.0/24\n");
    assert_int_equal(ban_ignored(c, "127.0.0.9"), 1);
    assert_int_equal(ban_ignored(c, "::1"), 1);
    assert_int_equal(ban_ignored(c, "198.51.100.20"), 1);
    assert_int_equal(ban_ignored(c, "192.0.2.1"), 0);
    ban_conf_free(c);
    /* CIDR lists and a table */
    assert_true(fd >= 0);
    assert_true(write(fd, "203.0.113.0/24 OK\n", 18) == 18);
    close(fd);
    snprintf(text, sizeof(text), "ban_ignore = [2001:db8::]/32 fe80::/10 abcd::1 cidr:%s\n",
	     path);
    c = compile(text);
    assert_non_null(c);
    assert_int_equal(ban_ignored(c, "2001:db8:5::1"), 1);
    assert_int_equal(ban_ignored(c, "fe80::9"), 1);	/* IPv6 text is not a table */
    assert_int_equal(ban_ignored(c, "abcd::1"), 1);
    assert_int_equal(ban_ignored(c, "203.0.113.9"), 1);
    assert_int_equal(ban_ignored(c, "127.0.0.1"), 0);	/* not the default any more */
    ban_conf_free(c);
    unlink(path);
    assert_null(compile("ban_ignore = 192.0.2.0/33\n"));
}

static void test_records(void **state)
{
    unsigned char v[STORE_VALUE_MAX];
    struct ban_record r = {1700000600, 1700000000, 3, 1}, r2;
    struct ban_offender o = {1700100000, 3, 1700000000}, o2;
    struct ban_counter k = {1700001200, 1700000000, 4, 2}, k2;
    size_t  n;

    (void) state;
    n = ban_record_encode(&r, v);
    assert_int_equal(n, 2 + 4 * 8);
    assert_int_equal(v[1], STORE_KIND_BAN);
    assert_int_equal(ban_record_decode(v, n, &r2), 0);
    assert_memory_equal(&r, &r2, sizeof(r));
    assert_int_equal(ban_counter_decode(v, n, &k2), -1);	/* another kind */
    assert_int_equal(ban_record_decode(v, n - 1, &r2), -1);
    n = ban_offender_encode(&o, v);
    assert_int_equal(ban_offender_decode(v, n, &o2), 0);
    assert_memory_equal(&o, &o2, sizeof(o));
    n = ban_counter_encode(&k, v);
    assert_int_equal(ban_counter_decode(v, n, &k2), 0);
    assert_memory_equal(&k, &k2, sizeof(k));
    /* the expiry is the first field, big-endian, for every kind */
    assert_int_equal(v[2 + 7], (unsigned char) (1700001200 & 0xff));
    /* 32 bytes is not a format 1 value of these kinds */
    assert_int_equal(ban_counter_decode(v, 32, &k2), -1);
    assert_int_equal(store_kind_of_table("bans"), STORE_KIND_BAN);
    assert_int_equal(store_kind_of_table("rates"), STORE_KIND_COUNTER);
}

/* the engine over LMDB */
static int unbans;

static void count_unbans(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) ctx;
    if (strncmp(text, "unban: client=192.0.2.50/32, reason=expired", 43) == 0)
	unbans++;
}

static struct store *open_store(const char *dir)
{
    struct store_opts o;
    char    why[256];
    struct store *s;

    memset(&o, 0, sizeof(o));
    o.path = dir;
    o.map_size = 16 << 20;
    s = store_open(&o, why, sizeof(why));
    assert_non_null(s);
    return s;
}

struct get_ctx {
    enum store_status st;
    struct ban_record r;
};

static void get_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct get_ctx *g = arg;

    g->st = st;
    if (st == STORE_OK)
	assert_int_equal(ban_record_decode(val, len, &g->r), 0);
}

static void test_engine_store_restart_expiry(void **state)
{
    char    dir[] = "/tmp/test_ban_db_XXXXXX";
    struct ban_conf *c = compile("ban_maxretry = 3\nban_bantime = 100\n");
    struct ban_event ev;
    struct ban_engine *b;
    struct store *s;
    struct get_ctx g;
    struct ban_stats st;
    struct ban_cursor cur;

    (void) state;
    assert_non_null(mkdtemp(dir));
    s = open_store(dir);
    b = ban_engine_new(s, NULL);
    memset(&ev, 0, sizeof(ev));
    ev.kind = BEV_AUTH_FAILED;
    strcpy(ev.host, "192.0.2.50");
    for (int i = 0; i < 3; i++)
	ban_engine_event(b, c, &ev, 5000 + i);
    strcpy(ev.host, "127.0.0.1");	/* mynetworks: ignored */
    for (int i = 0; i < 5; i++)
	ban_engine_event(b, c, &ev, 5000 + i);
    assert_int_equal(ban_engine_pending(b), 0);
    ban_engine_stats(b, &st);
    assert_int_equal(st.bans, 1);
    assert_int_equal(st.ignored, 5);
    ban_engine_free(b);
    store_close(s);

    /* a restart: the ban is still there */
    s = open_store(dir);
    memset(&g, 0, sizeof(g));
    store_get(s, "bans", "192.0.2.50/32", 13, get_cb, &g);
    assert_int_equal(g.st, STORE_OK);
    assert_int_equal(g.r.expires, 5002 + 100);
    store_get(s, "bans", "127.0.0.1/32", 12, get_cb, &g);
    assert_int_equal(g.st, STORE_NOTFOUND);

    /* expiry: nothing before its time, the unban line after */
    memset(&cur, 0, sizeof(cur));
    log_capture(count_unbans, NULL);
    assert_int_equal(ban_expire_step(s, 5101, &cur, 100), 0);
    memset(&cur, 0, sizeof(cur));
    assert_true(ban_expire_step(s, 5102 + 86400 * 2, &cur, 100) >= 2);	/* ban, offender */
    log_capture(NULL, NULL);
    assert_int_equal(unbans, 1);
    store_get(s, "bans", "192.0.2.50/32", 13, get_cb, &g);
    assert_int_equal(g.st, STORE_NOTFOUND);
    store_close(s);
    ban_conf_free(c);
    char    cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* escalation through the engine: three hosts of one /24 banned, then
 * the /24; a fourth host's events are not counted (it is banned) */
static int escalations;

static void count_escalations(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) ctx;
    static const char want[] = "ban: client=198.51.100.0/24, reason=escalation,";

    if (strncmp(text, want, sizeof(want) - 1) == 0)
	escalations++;
}

static void test_engine_escalation(void **state)
{
    char    dir[] = "/tmp/test_ban_esc_XXXXXX";
    struct ban_conf *c = compile("ban_maxretry = 1\nban_escalate_count = 3\n");
    struct ban_event ev;
    struct ban_engine *b;
    struct store *s;
    struct get_ctx g;
    struct ban_stats st;

    (void) state;
    assert_non_null(mkdtemp(dir));
    s = open_store(dir);
    b = ban_engine_new(s, NULL);
    memset(&ev, 0, sizeof(ev));
    ev.kind = BEV_PREGREET;
    log_capture(count_escalations, NULL);
    for (int i = 1; i <= 4; i++) {
	snprintf(ev.host, sizeof(ev.host), "198.51.100.%d", i);
	ban_engine_event(b, c, &ev, 9000 + i);
    }
    log_capture(NULL, NULL);
    ban_engine_stats(b, &st);
    assert_int_equal(st.bans, 3);
    assert_int_equal(st.escalations, 1);
    assert_int_equal(st.already, 1);	/* the fourth: inside the banned /24 */
    assert_int_equal(escalations, 1);
    memset(&g, 0, sizeof(g));
    store_get(s, "bans", "198.51.100.0/24", 15, get_cb, &g);
    assert_int_equal(g.st, STORE_OK);
    assert_string_equal(ban_reason_name(g.r.reason), "escalation");
    assert_int_equal(g.r.expires, 9003 + 600);
    store_get(s, "bans", "198.51.100.4/32", 15, get_cb, &g);
    assert_int_equal(g.st, STORE_NOTFOUND);
    ban_engine_free(b);
    store_close(s);
    ban_conf_free(c);
    char    cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* a database written before the ban tables, opened read-only (mxshield
 * check, ban list): the tables are empty, not an error */
static int scan_count(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void) key, (void) klen, (void) val, (void) vlen;
    ++*(int *) arg;
    return 0;
}

static void test_older_database_read_only(void **state)
{
    char    dir[] = "/tmp/test_ban_old_XXXXXX";
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {7, (void *) "version"}, v = {4, (void *) "\2\0\0\0"};
    const char *old[] = {"triplets", "clients", "whitelist"};
    struct store_opts o;
    char    why[256], cursor[64];
    size_t  clen = 0;
    int     n = 0;
    struct get_ctx g;

    (void) state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    for (int i = 0; i < 3; i++)
	assert_int_equal(mdb_dbi_open(txn, old[i], MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    memset(&o, 0, sizeof(o));
    o.path = dir;
    o.map_size = 16 << 20;
    o.readonly = 1;
    struct store *s = store_open(&o, why, sizeof(why));

    assert_non_null(s);
    memset(&g, 0, sizeof(g));
    store_get(s, "bans", "192.0.2.1/32", 12, get_cb, &g);
    assert_int_equal(g.st, STORE_NOTFOUND);
    assert_int_equal(store_scan(s, "rates", cursor, sizeof(cursor), &clen, 10, scan_count, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_count(s, "offenders"), 0);
    store_close(s);
    char    cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_rate_spec(void **state)
{
    struct buf err;
    struct rate_spec *r;

    (void) state;
    buf_init(&err);
    r = rate_spec_parse("sasl_username=500/1d/reject", &err);
    assert_non_null(r);
    assert_int_equal(r->what, RATE_SASL_USER);
    assert_int_equal(r->limit, 500);
    assert_int_equal(r->window, 86400);
    assert_int_equal(r->action, RATE_REJECT);
    assert_string_equal(r->text, "sasl_username=500/1d");
    rate_spec_free(r);
    r = rate_spec_parse("client_net=30/60", &err);
    assert_non_null(r);
    assert_int_equal(r->action, RATE_DEFER);
    rate_spec_free(r);
    const char *bad[] = {"client", "nobody=1/1m", "client=0/1m", "client=5", "client=5/x",
	"client=5/1m/drop", "client=-1/1m",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	buf_reset(&err);
	assert_null(rate_spec_parse(bad[i], &err));
	assert_true(err.len > 0);
    }
    buf_free(&err);
}

static void test_nft_batch(void **state)
{
    struct ban_nft *n = ban_nft_new("nft", "25 587", 32, 64);
    struct cidr a;

    (void) state;
    assert_int_equal(ban_net_parse("192.0.2.9", &a), 0);
    ban_nft_add(n, &a, 600);
    assert_int_equal(ban_net_parse("2001:db8:1:2::/64", &a), 0);
    ban_nft_add(n, &a, 60);
    assert_int_equal(ban_net_parse("2001:db8::/48", &a), 0);
    ban_nft_del(n, &a);
    /* refresh: add, delete, add in the one batch */
    assert_string_equal(ban_nft_script(n),
			"add element inet mxshield host4 { 192.0.2.9 timeout 600s }\n"
			"delete element inet mxshield host4 { 192.0.2.9 }\n"
			"add element inet mxshield host4 { 192.0.2.9 timeout 600s }\n"
			"add element inet mxshield net6 { 2001:db8:1:2::/64 timeout 60s }\n"
			"delete element inet mxshield net6 { 2001:db8:1:2::/64 }\n"
			"add element inet mxshield net6 { 2001:db8:1:2::/64 timeout 60s }\n"
			"add element inet mxshield wide6 { 2001:db8::/48 timeout 1s }\n"
			"delete element inet mxshield wide6 { 2001:db8::/48 }\n");
    ban_nft_free(n);
}

/* a store that answers only when closed (Redis with commands in flight
 * at SIGTERM: ra_close fails them all) */
struct late_store {
    struct store base;
    int     n;
    store_cb cb[8];
    void   *arg[8];
};

static void late_keep(struct store *st, store_cb cb, void *arg)
{
    struct late_store *s = (struct late_store *) st;

    assert_true(s->n < 8);
    s->cb[s->n] = cb;
    s->arg[s->n++] = arg;
}

static void late_close(struct store *st)
{
    struct late_store *s = (struct late_store *) st;

    for (int i = 0; i < s->n; i++)
	s->cb[i](s->arg[i], STORE_ERROR, NULL, 0);
    s->n = 0;
}

static void late_get(struct store *st, const char *table, const void *key, size_t klen,
		             store_cb cb, void *arg)
{
    (void) table, (void) key, (void) klen;
    late_keep(st, cb, arg);
}

static void late_put(struct store *st, const char *table, const void *key, size_t klen,
		             const void *val, size_t vlen, store_cb cb, void *arg)
{
    (void) table, (void) key, (void) klen, (void) val, (void) vlen;
    late_keep(st, cb, arg);
}

static int late_zero(struct store *st)
{
    (void) st;
    return 0;
}

static void late_void(struct store *st)
{
    (void) st;
}

static int manual_done_calls;

static void manual_done(void *arg, int rc)
{
    (void) arg;
    (void) rc;
    manual_done_calls++;
}

/* the engine freed (stop) while a write is out: the store's late
 * failure must not reach the nft batch or the manual job's caller,
 * both gone by then, and the engine is freed with the last callback */
static void test_engine_free_with_store_op_out(void **state)
{
    static const struct store_ops late_ops = {
	.name = "late", .close = late_close, .get = late_get, .put = late_put,
	.read_begin = late_zero, .read_end = late_void,
    };
    struct late_store s = {.base = {.ops = &late_ops}};
    struct ban_conf *c = compile("");
    struct ban_nft *n = ban_nft_new("/bin/false", "", 24, 64);
    struct ban_engine *b = ban_engine_new(&s.base, n);
    struct cidr net;

    (void) state;
    assert_int_equal(ban_net("192.0.2.7", 32, 128, &net), 0);
    manual_done_calls = 0;
    ban_engine_manual(b, c, &net, 600, 5000, manual_done, NULL);
    assert_int_equal(s.n, 1);			/* the ban's write, out */
    ban_engine_free(b);				/* what source_close does at stop */
    ban_nft_free(n);
    store_close(&s.base);			/* then the daemon's store */
    assert_int_equal(manual_done_calls, 0);
    ban_conf_free(c);
}

/* ms_since - milliseconds since t0 (monotonic) */
static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* write_script - an executable shell script at path */
static void write_script(const char *path, const char *text)
{
    FILE   *fp;

    assert_non_null(fp = fopen(path, "w"));
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0755), 0);
}

/* an nft that hangs, reading nothing, with a batch larger than a pipe
 * holds: the run (on the daemon's loop) ends at its timeout, killed, and
 * fails; a command that works still works */
static void test_nft_hung_command_is_killed(void **state)
{
    char    dir[] = "/tmp/test_ban_nft_XXXXXX", script[128], ok[128];
    struct ban_nft *n;
    struct cidr net;
    struct timespec t0;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/hang", dir);
    write_script(script, "#!/bin/sh\nexec sleep 20\n");
    n = ban_nft_new(script, "", 24, 64);
    ban_nft_timeout(n, 300);
    for (int i = 0; i < 2000; i++) {
	char    a[32];

	snprintf(a, sizeof(a), "10.%d.%d.1", i / 250, i % 250);
	assert_int_equal(ban_net(a, 32, 128, &net), 0);
	ban_nft_add(n, &net, 600);
    }
    assert_true(strlen(ban_nft_script(n)) > 65536);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ban_nft_flush(n), -1);
    assert_true(ms_since(&t0) < 3000);
    ban_nft_free(n);

    /* the same with a command that takes it all and succeeds */
    snprintf(ok, sizeof(ok), "%s/ok", dir);
    write_script(ok, "#!/bin/sh\nexec cat >/dev/null\n");
    n = ban_nft_new(ok, "", 24, 64);
    for (int i = 0; i < 2000; i++) {
	char    a[32];

	snprintf(a, sizeof(a), "10.%d.%d.1", i / 250, i % 250);
	assert_int_equal(ban_net(a, 32, 128, &net), 0);
	ban_nft_add(n, &net, 600);
    }
    assert_int_equal(ban_nft_flush(n), 0);
    ban_nft_free(n);
    unlink(script);
    unlink(ok);
    rmdir(dir);
}

/* a script for the nft command: its input appended to LOG, then it
 * sleeps S seconds (0: exits at once) */
static void nft_script(const char *path, const char *log, int sleep_s)
{
    char    text[512];

    if (sleep_s)
	snprintf(text, sizeof(text), "#!/bin/sh\ncat >> %s\nexec sleep %d\n", log, sleep_s);
    else
	snprintf(text, sizeof(text), "#!/bin/sh\ncat >> %s\n", log);
    write_script(path, text);
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    event_base_loopbreak(arg);
}

/* run_loop_ms - the loop for ms milliseconds */
static void run_loop_ms(struct event_base *base, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *ev = evtimer_new(base, stop_loop, base);

    evtimer_add(ev, &tv);
    event_base_dispatch(base);
    event_free(ev);
}

static char *slurp(const char *path)
{
    static char text[65536];
    FILE   *fp = fopen(path, "r");
    size_t  n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;

    if (fp)
	fclose(fp);
    text[n] = 0;
    return text;
}

/* in the daemon nft runs in the background: a flush returns at once even
 * when the command hangs, the loop goes on, the hung run is killed at its
 * timeout, and batches flushed meanwhile follow it in order, in one run */
static void test_nft_async_never_blocks(void **state)
{
    char    dir[] = "/tmp/test_ban_nft_XXXXXX", hang[128], ok[128], log[128];
    struct event_base *base = event_base_new();
    struct ban_nft *n;
    struct cidr net;
    struct timespec t0;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(hang, sizeof(hang), "%s/hang", dir);
    snprintf(ok, sizeof(ok), "%s/ok", dir);
    snprintf(log, sizeof(log), "%s/got", dir);
    nft_script(hang, log, 20);
    nft_script(ok, log, 0);

    n = ban_nft_new(hang, "", 24, 64);
    ban_nft_timeout(n, 1500);
    ban_nft_async(n, base);
    assert_int_equal(ban_net("10.0.0.1", 32, 128, &net), 0);
    ban_nft_add(n, &net, 600);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ban_nft_flush(n), 0);
    assert_true(ms_since(&t0) < 200);
    assert_true(ban_nft_busy(n));
    /* two more batches while it hangs: they wait, then go as one */
    assert_int_equal(ban_net("10.0.0.2", 32, 128, &net), 0);
    ban_nft_add(n, &net, 600);
    assert_int_equal(ban_nft_flush(n), 0);
    assert_int_equal(ban_net("10.0.0.3", 32, 128, &net), 0);
    ban_nft_add(n, &net, 600);
    assert_int_equal(ban_nft_flush(n), 0);
    run_loop_ms(base, 150);
    assert_true(ban_nft_busy(n));		/* the loop ran; nft still hangs */
    assert_null(strstr(slurp(log), "10.0.0.2"));
    /* the first run is killed at 1.5 s; the second one starts (and hangs) */
    for (int i = 0; i < 300 && strstr(slurp(log), "10.0.0.3") == NULL; i++)
	run_loop_ms(base, 20);
    assert_true(ban_nft_busy(n));
    char   *got = slurp(log), *a = strstr(got, "10.0.0.1"), *b = strstr(got, "10.0.0.2"),
	   *c = strstr(got, "10.0.0.3");

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    /* freed with a run out: it gets a second, then is killed */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ban_nft_free(n);
    assert_true(ms_since(&t0) < 3000);

    /* a command that works: done in the background, nothing left out */
    unlink(log);
    n = ban_nft_new(ok, "", 24, 64);
    ban_nft_async(n, base);
    ban_nft_add(n, &net, 600);
    assert_int_equal(ban_nft_flush(n), 0);
    for (int i = 0; i < 100 && ban_nft_busy(n); i++)
	run_loop_ms(base, 20);
    assert_false(ban_nft_busy(n));
    assert_non_null(strstr(slurp(log), "10.0.0.3"));
    ban_nft_free(n);
    event_base_free(base);
    unlink(hang);
    unlink(ok);
    unlink(log);
    rmdir(dir);
}

/* `mxshield ban add` runs nft itself, without ignoring SIGPIPE: a
 * command that exits without reading a large batch must not kill it */
static void test_nft_command_exits_early(void **state)
{
    char    dir[] = "/tmp/test_ban_nft_XXXXXX", quit[128];
    struct cidr net;
    pid_t   pid;
    int     status;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(quit, sizeof(quit), "%s/quit", dir);
    write_script(quit, "#!/bin/sh\nexec 0<&-\nsleep 0.3\necho refused >&2\nexit 1\n");
    if ((pid = fork()) == 0) {
	struct ban_nft *n = ban_nft_new(quit, "", 24, 64);

	signal(SIGPIPE, SIG_DFL);
	for (int i = 0; i < 3000; i++) {
	    char    a[32];

	    snprintf(a, sizeof(a), "10.%d.%d.1", i / 250, i % 250);
	    if (ban_net(a, 32, 128, &net) < 0)
		_exit(3);
	    ban_nft_add(n, &net, 600);
	}
	_exit(ban_nft_flush(n) == -1 ? 0 : 4);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));		/* not killed by SIGPIPE */
    assert_int_equal(WEXITSTATUS(status), 0);
    unlink(quit);
    rmdir(dir);
}

static void test_parse_time(void **state)
{
    (void) state;
    assert_int_equal(ban_parse_time("600"), 600);
    assert_int_equal(ban_parse_time("10m"), 600);
    assert_int_equal(ban_parse_time("2h"), 7200);
    assert_int_equal(ban_parse_time("1w"), 604800);
    assert_int_equal(ban_parse_time("1x"), -1);
    assert_int_equal(ban_parse_time("1mm"), -1);
    assert_int_equal(ban_parse_time(""), -1);
    assert_int_equal(ban_parse_time("99999999999999999w"), -1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_maxretry_within_findtime),
	cmocka_unit_test(test_spread_out_events_never_ban),
	cmocka_unit_test(test_event_limits_count_apart),
	cmocka_unit_test(test_repeat_offenders_and_cap),
	cmocka_unit_test(test_ipv6_prefix),
	cmocka_unit_test(test_escalation),
	cmocka_unit_test(test_ignore_lists),
	cmocka_unit_test(test_records),
	cmocka_unit_test(test_engine_store_restart_expiry),
	cmocka_unit_test(test_engine_escalation),
	cmocka_unit_test(test_older_database_read_only),
	cmocka_unit_test(test_rate_spec),
	cmocka_unit_test(test_nft_batch),
	cmocka_unit_test(test_engine_free_with_store_op_out),
	cmocka_unit_test(test_nft_hung_command_is_killed),
	cmocka_unit_test(test_nft_async_never_blocks),
	cmocka_unit_test(test_nft_command_exits_early),
	cmocka_unit_test(test_parse_time),
    };
    int     rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (conf)
	config_free(conf);
    if (tabs)
	tables_free(tabs);
    return rc;
}
