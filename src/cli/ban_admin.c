/*
 * ban_admin.c - look at and manage the auto-ban state, also while the
 * daemon runs (LMDB allows several processes; the daemon reads the
 * bans table at each reject_banned_client).
 *
 *   mxshield ban [-c FILE] list [--json]
 *   mxshield ban [-c FILE] add ADDR|NET/LEN [--time DURATION]
 *   mxshield ban [-c FILE] del ADDR|NET/LEN
 *   mxshield ban [-c FILE] stats
 *
 * add bans ADDR's network (ban_ipv4_prefix, ban_ipv6_prefix), or NET/LEN
 * as written, for DURATION (default ban_bantime); del lifts it.  With
 * ban_nftables = yes both also update nftables at once.  With store =
 * redis every subcommand works on the shared Redis (SCAN for list and
 * stats; add writes the ban with its TTL), so a ban added here is
 * enforced by every daemon sharing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ban/ban.h"
#include "ban/nft.h"
#include "cli/ban_admin.h"
#include "cli/load.h"
#include "cli/scan.h"
#include "conf/config.h"
#include "rules/policy.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

static void iso_time(int64_t when, char *out, size_t len)
{
    time_t  t = (time_t) when;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	snprintf(out, len, "%lld", (long long) when);
}

struct list_ctx {
    int64_t now;
    int     json;
    long    shown;
    long    by_reason[BAN_REASON_ESCALATION + 2];
};

static int list_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct list_ctx *x = arg;
    struct ban_record r;
    char    until[32], since[32];

    if (ban_record_decode(val, vlen, &r) < 0 || !ban_active(&r, x->now))
	return 0;
    x->shown++;
    if (r.reason >= 0 && r.reason <= BAN_REASON_ESCALATION)
	x->by_reason[r.reason]++;
    if (x->json < 0)
	return 0;			/* counting only */
    iso_time(r.expires, until, sizeof(until));
    iso_time(r.since, since, sizeof(since));
    if (x->json)
	printf("{\"client\": \"%.*s\", \"since\": \"%s\", \"until\": \"%s\", \"left\": %lld,"
	       " \"level\": %lld, \"reason\": \"%s\"}\n", (int) klen, (const char *) key,
	       since, until, (long long) (r.expires - x->now), (long long) r.level,
	       ban_reason_name(r.reason));
    else
	printf("%.*s until=%s left=%llds level=%lld reason=%s\n", (int) klen,
	       (const char *) key, until, (long long) (r.expires - x->now),
	       (long long) r.level, ban_reason_name(r.reason));
    return 0;
}

/* count_live - records not yet expired, whatever their kind */
struct live_ctx {
    int64_t now;
    enum store_kind kind;
    long    n;
};

static int live_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct live_ctx *x = arg;
    int64_t f[4];

    (void) key;
    (void) klen;
    if (store_value_decode(val, vlen, x->kind, f, x->kind == STORE_KIND_OFFENDER ? 3 : 4)
	== STORE_VALUE_OK && f[0] > x->now)
	x->n++;
    return 0;
}

static int ban_admin(struct policy *pol, const char *sub, int argc, char **argv);

static void manual_done(void *arg, int rc)
{
    *(int *) arg = rc;
}

/* manual - add (seconds > 0) or del through the engine, as the daemon does */
static int manual(struct policy *pol, const char *what, long seconds)
{
    const struct ban_conf *c = pol->ban;
    struct cidr net;
    struct store *s;
    struct ban_nft *nft = NULL;
    struct ban_engine *b;
    int     rc = 1;
    char    why[512];

    if (strchr(what, '/') == NULL) {
	if (ban_net(what, c->ipv4_prefix, c->ipv6_prefix, &net) < 0)
	    msg_fatal("ban: \"%s\" is not an address or a network", what);
    } else if (ban_net_parse(what, &net) < 0) {
	msg_fatal("ban: \"%s\" is not an address or a network (host bits set?)", what);
    }
    if (config_bool(pol->conf, P_BAN_NFT)) {
	nft = ban_nft_new(config_str(pol->conf, P_BAN_NFT_CMD),
			  config_str(pol->conf, P_BAN_NFT_PORTS), c->ipv4_prefix, c->ipv6_prefix);
	if (ban_nft_setup(nft, why, sizeof(why)) < 0)
	    msg_warn("%s", why);
    }
    s = load_store(pol->conf, LOAD_STORE_CONFIGURED, 0);
    b = ban_engine_new(s, nft);
    ban_engine_manual(b, c, &net, seconds, (int64_t) time(NULL), manual_done, &rc);
    if (ban_engine_pending(b))
	msg_panic("ban: the database did not answer at once");
    ban_engine_free(b);
    store_close(s);
    ban_nft_free(nft);
    return rc == 0 ? 0 : 1;
}

int     cmd_ban_admin(const char *config_path, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    struct policy *pol;
    int     rc;

    if (argc == 0) {
	fprintf(stderr, "usage: mxshield ban [-c FILE] list [--json] | add ADDR|NET/LEN"
		" [--time DURATION] | del ADDR|NET/LEN | stats\n");
	return 2;
    }
    pol = load_policy(config_path);
    rc = ban_admin(pol, sub, argc, argv);
    policy_unref(pol);
    return rc;
}

/* ban_admin - one subcommand */
static int ban_admin(struct policy *pol, const char *sub, int argc, char **argv)
{

    if (strcmp(sub, "list") == 0) {
	struct list_ctx x;
	struct store *s = load_store(pol->conf, LOAD_STORE_CONFIGURED, 1);

	memset(&x, 0, sizeof(x));
	x.now = time(NULL);
	x.json = argc > 1 && strcmp(argv[1], "--json") == 0;
	scan_all(s, "bans", list_fn, &x);
	store_close(s);
	return 0;
    }
    if (strcmp(sub, "stats") == 0) {
	static const struct {
	    const char *table;
	    enum store_kind kind;
	    const char *label;
	} t[] = {
	    {"offenders", STORE_KIND_OFFENDER, "offenders"},
	    {"banhits", STORE_KIND_COUNTER, "counting"},
	    {"banprefix", STORE_KIND_COUNTER, "prefixes_counting"},
	    {"rates", STORE_KIND_COUNTER, "rate_counters"},
	};
	struct list_ctx x;
	struct store *s = load_store(pol->conf, LOAD_STORE_CONFIGURED, 1);

	memset(&x, 0, sizeof(x));
	x.now = time(NULL);
	x.json = -1;
	scan_all(s, "bans", list_fn, &x);
	printf("bans %ld\n", x.shown);
	for (int r = 0; r <= BAN_REASON_ESCALATION; r++)
	    if (x.by_reason[r])
		printf("bans_%s %ld\n", ban_reason_name(r), x.by_reason[r]);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	    struct live_ctx l = {x.now, t[i].kind, 0};

	    scan_all(s, t[i].table, live_fn, &l);
	    printf("%s %ld\n", t[i].label, l.n);
	}
	store_close(s);
	return 0;
    }
    if (strcmp(sub, "add") == 0 && (argc == 2 || (argc == 4 && strcmp(argv[2], "--time") == 0))) {
	long    secs = argc == 4 ? ban_parse_time(argv[3]) : pol->ban->def.bantime;

	if (secs < 1)
	    msg_fatal("ban add: bad --time \"%s\"", argv[3]);
	return manual(pol, argv[1], secs);
    }
    if (strcmp(sub, "del") == 0 && argc == 2)
	return manual(pol, argv[1], 0);
    fprintf(stderr, "usage: mxshield ban [-c FILE] list [--json] | add ADDR|NET/LEN [--time DURATION]"
	    " | del ADDR|NET/LEN | stats\n");
    return 2;
}
