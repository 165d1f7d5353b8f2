/*
 * source.c - the auto-ban source of the daemon (see source.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ban/ban.h"
#include "ban/bancache.h"
#include "ban/event.h"
#include "ban/follow.h"
#include "ban/nft.h"
#include "ban/source.h"
#include "daemon/daemon.h"
#include "store/redis_config.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"


struct ban_source {
    struct daemon *d;
    struct logev *lev;
    struct ban_engine *engine;		/* made once the store is open */
    struct ban_nft *nft;		/* ban_nftables = yes */
    int     nft_loaded;			/* active bans put back after a start */
};

static const struct ban_conf *conf_of(struct ban_source *bs)
{
    return daemon_policy(bs->d)->ban;
}

/* nft_reload - after a start, the bans in the store go back in the sets */
struct reload_ctx {
    struct ban_nft *nft;
    int64_t now;
    long    n;
};

static int reload_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct reload_ctx *x = arg;
    struct ban_record r;
    struct cidr net;
    char    text[BAN_NET_MAX];

    if (klen >= sizeof(text) || ban_record_decode(val, vlen, &r) < 0 || !ban_active(&r, x->now))
	return 0;
    memcpy(text, key, klen);
    text[klen] = 0;
    if (ban_net_parse(text, &net) < 0)
	return 0;
    ban_nft_add(x->nft, &net, (long) (r.expires - x->now));
    ban_cache_put(text, &r);
    x->n++;
    return 0;
}

static void nft_reload(struct ban_source *bs, struct store *s)
{
    struct reload_ctx x = {bs->nft, time(NULL), 0};
    char    cursor[512];
    size_t  clen = 0;

    do {
	if (store_scan(s, "bans", cursor, sizeof(cursor), &clen, 10000, reload_fn, &x) < 0) {
	    msg_warn("ban: cannot read the bans for nftables");
	    return;
	}
    } while (clen > 0);
    if (ban_nft_flush(bs->nft) == 0 && x.n)
	msg_info(ban_nft_busy(bs->nft) ? "ban: %ld bans going back in nftables"
		 : "ban: %ld bans put back in nftables", x.n);
}

/*
 * nft_reload_blocking - the same from a store of its own, blocking, before
 * the event loop runs: the daemon's Redis store only talks asynchronously
 * and never scans (its records expire by TTL), and one SCAN at start,
 * before anyone is served, is simpler than a scan in steps on the loop.
 * Redis down at start: the bans are not put back (warned); the policy's
 * reject_banned_client still refuses them once Redis answers.
 */
static void nft_reload_blocking(struct ban_source *bs, const struct config *c)
{
    struct store_opts o;
    struct store *s;
    char    why[512];

    memset(&o, 0, sizeof(o));
    o.path = config_str(c, P_DATA_DIR);
    o.readonly = 1;
    redis_config_opts(c, &o, NULL);
    if ((s = store_open(&o, why, sizeof(why))) == NULL) {
	msg_warn("ban: bans not put back in nftables: %s", why);
	return;
    }
    nft_reload(bs, s);
    store_close(s);
}

/* engine - the engine, once the daemon has opened the store */
static struct ban_engine *engine(struct ban_source *bs)
{
    struct store *s;

    if (bs->engine == NULL && (s = daemon_store(bs->d)) != NULL) {
	bs->engine = ban_engine_new(s, bs->nft);
	/* from now on nft runs in the background: the loop never waits for it */
	if (bs->nft)
	    ban_nft_async(bs->nft, daemon_base(bs->d));
	if (bs->nft && !bs->nft_loaded) {
	    bs->nft_loaded = 1;
	    nft_reload(bs, s);
	}
    }
    return bs->engine;
}

/* ban_source_line - one log line: classify, count, ban.  when: the
 * journal entry's time, 0 when the line carries its own */
void    ban_source_line(struct ban_source *bs, const char *line, size_t len, time_t when)
{
    struct ban_event ev;
    time_t  now = time(NULL);
    struct ban_engine *b;

    if (!logev_line(bs->lev, line, len, now, &ev))
	return;
    if (ev.when == 0)
	ev.when = when;
    if ((b = engine(bs)) == NULL)
	return;
    /* the line's own time, unless it has none or is in the future */
    ban_engine_event(b, conf_of(bs), &ev, ev.when > 0 && ev.when <= now ? ev.when : now);
}

static size_t source_busy(void *ctx)
{
    struct ban_source *bs = ctx;

    /* a firewall update still out is work in progress too */
    return (bs->engine ? ban_engine_pending(bs->engine) : 0)
	+ (bs->nft && ban_nft_busy(bs->nft) ? 1 : 0);
}

static void source_close(void *ctx)
{
    struct ban_source *bs = ctx;

    ban_engine_free(bs->engine);	/* jobs still queued are dropped */
    ban_nft_free(bs->nft);
    logev_free(bs->lev);
    free(bs);
}

static const struct daemon_handler_ops source_ops = {
    BAN_SERVICE, NULL, NULL, NULL, source_busy, source_close,
};

/* on_line - the follower's callback */
static void on_line(void *arg, const char *line, size_t len, time_t when)
{
    const char *previous = log_service_enter(BAN_SERVICE);

    ban_source_line(arg, line, len, when);
    log_service_leave(previous);
}

/* ban_source_attach - the log source, as root before the drop */
void    ban_source_attach(struct daemon *d)
{
    const struct config *c = daemon_config(d);
    const char *log = config_str(c, P_BAN_LOG);
    struct ban_source *bs;
    struct follow *f;
    struct buf err, state;
    char    why[512];
    int     journal;

    if (strcmp(log, "none") == 0)
	return;
    journal = strcmp(log, "journal") == 0;
    if (!journal && *log != '/')
	msg_fatal("%s: ban_log: \"%s\" is neither an absolute file name, journal nor none",
		  config_where(c, P_BAN_LOG), log);
    bs = xcalloc(1, sizeof(*bs));
    bs->d = d;
    bs->lev = logev_new();
    if (config_bool(c, P_BAN_NFT)) {
	bs->nft = ban_nft_new(config_str(c, P_BAN_NFT_CMD), config_str(c, P_BAN_NFT_PORTS),
			      (int) config_int(c, P_BAN_V4_PREFIX),
			      (int) config_int(c, P_BAN_V6_PREFIX));
	if (ban_nft_setup(bs->nft, why, sizeof(why)) < 0)
	    msg_fatal("%s", why);
	if (strcasecmp(config_str(c, P_STORE), "redis") == 0) {
	    nft_reload_blocking(bs, c);
	    bs->nft_loaded = 1;
	}
    }
    /* the position is kept in data_directory: a restart resumes there */
    buf_init(&err);
    buf_init(&state);
    buf_printf(&state, "%s/%s", config_str(c, P_DATA_DIR),
	       journal ? "ban_journal.state" : "ban_log.state");
    if (journal)
	f = follow_journal(daemon_base(d), NULL, state.s, 0, on_line, bs, &err);
    else
	f = follow_file(daemon_base(d), log, state.s, 0, on_line, bs, &err);
    if (f == NULL)
	msg_fatal("%s: ban_log: %s", config_where(c, P_BAN_LOG), err.s);
    buf_free(&err);
    buf_free(&state);
    daemon_source(d, &source_ops, bs);
    daemon_source(d, &follow_handler_ops, f);

    const char *previous = log_service_enter(BAN_SERVICE);

    msg_info("ban: following %s", journal ? "the journal" : log);
    log_service_leave(previous);
}
