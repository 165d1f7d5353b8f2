/*
 * source.c - the auto-ban source of the daemon (see source.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ban/ban.h"
#include "ban/event.h"
#include "ban/nft.h"
#include "ban/source.h"
#include "daemon/daemon.h"
#include "util/log.h"
#include "util/mem.h"

#define BAN_LINE_MAX	65536		/* longer log lines are skipped */
#define POLL_MS		100

struct ban_source {
    struct daemon *d;
    struct logev *lev;
    struct ban_engine *engine;		/* made once the store is open */
    struct ban_nft *nft;		/* ban_nftables = yes */
    int     nft_loaded;			/* active bans put back after a start */
    /* the interim reader */
    char   *path;
    int     fd;
    dev_t   dev;
    ino_t   ino;
    off_t   pos;
    char   *buf;
    size_t  len;
    int     skipping;			/* inside a line past BAN_LINE_MAX */
    struct daemon_timer *timer;
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
	msg_info("ban: %ld bans put back in nftables", x.n);
}

/* engine - the engine, once the daemon has opened the store */
static struct ban_engine *engine(struct ban_source *bs)
{
    struct store *s;

    if (bs->engine == NULL && (s = daemon_store(bs->d)) != NULL) {
	bs->engine = ban_engine_new(s, bs->nft);
	if (bs->nft && !bs->nft_loaded) {
	    bs->nft_loaded = 1;
	    nft_reload(bs, s);
	}
    }
    return bs->engine;
}

/* ban_source_line - one log line: classify, count, ban */
void    ban_source_line(struct ban_source *bs, const char *line, size_t len)
{
    struct ban_event ev;
    time_t  now = time(NULL);
    struct ban_engine *b;

    if (!logev_line(bs->lev, line, len, now, &ev))
	return;
    if ((b = engine(bs)) == NULL)
	return;
    /* the line's own time, unless it has none or is in the future */
    ban_engine_event(b, conf_of(bs), &ev, ev.when > 0 && ev.when <= now ? ev.when : now);
}

/* lines - hand every complete line in the buffer over */
static void lines(struct ban_source *bs)
{
    size_t  start = 0;
    char   *nl;

    while ((nl = memchr(bs->buf + start, '\n', bs->len - start)) != NULL) {
	size_t  n = (size_t) (nl - (bs->buf + start));

	if (!bs->skipping)
	    ban_source_line(bs, bs->buf + start, n);
	bs->skipping = 0;
	start += n + 1;
    }
    memmove(bs->buf, bs->buf + start, bs->len - start);
    bs->len -= start;
    if (bs->len == BAN_LINE_MAX) {	/* a line too long: drop it to its end */
	bs->skipping = 1;
	bs->len = 0;
    }
}

/* reopen - the file at path, from its start (or its end the first time) */
static void reopen(struct ban_source *bs, int at_end)
{
    struct stat st;

    if (bs->fd >= 0)
	close(bs->fd);
    bs->len = 0;
    bs->pos = 0;
    if ((bs->fd = open(bs->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
	if (errno != ENOENT)
	    msg_warn("ban: cannot open %s: %s", bs->path, strerror(errno));
	return;
    }
    if (fstat(bs->fd, &st) == 0) {
	bs->dev = st.st_dev;
	bs->ino = st.st_ino;
	if (at_end)
	    bs->pos = lseek(bs->fd, 0, SEEK_END);
    }
}

/* poll_file - the interim reader: what was appended since the last look */
static void poll_file(void *arg)
{
    struct ban_source *bs = arg;
    struct stat st;
    ssize_t n;
    int     rotated;

    if (bs->fd < 0) {
	reopen(bs, 0);
	if (bs->fd < 0)
	    return;
    }
    for (;;) {
	while ((n = read(bs->fd, bs->buf + bs->len, BAN_LINE_MAX - bs->len)) > 0) {
	    bs->len += (size_t) n;
	    bs->pos += n;
	    lines(bs);
	}
	/* renamed away (a new file at the path), or truncated in place */
	rotated = stat(bs->path, &st) == 0 && (st.st_ino != bs->ino || st.st_dev != bs->dev);
	if (!rotated && fstat(bs->fd, &st) == 0 && st.st_size < bs->pos) {
	    lseek(bs->fd, 0, SEEK_SET);
	    bs->pos = 0;
	    bs->len = 0;
	    continue;
	}
	if (rotated) {
	    reopen(bs, 0);
	    if (bs->fd >= 0)
		continue;
	}
	break;
    }
}

static size_t source_busy(void *ctx)
{
    struct ban_source *bs = ctx;

    return bs->engine ? ban_engine_pending(bs->engine) : 0;
}

static void source_close(void *ctx)
{
    struct ban_source *bs = ctx;

    daemon_timer_free(bs->timer);
    if (bs->engine && ban_engine_pending(bs->engine) == 0)
	ban_engine_free(bs->engine);	/* else its store callbacks still hold it */
    ban_nft_free(bs->nft);
    logev_free(bs->lev);
    if (bs->fd >= 0)
	close(bs->fd);
    free(bs->path);
    free(bs->buf);
    free(bs);
}

static const struct daemon_handler_ops source_ops = {
    "ban", NULL, NULL, NULL, source_busy, source_close,
};

/* ban_source_attach - the log source, as root before the drop */
void    ban_source_attach(struct daemon *d)
{
    const struct config *c = daemon_config(d);
    const char *log = config_str(c, P_BAN_LOG);
    struct ban_source *bs;
    char    why[512];

    if (strcmp(log, "none") == 0)
	return;
    if (strcmp(log, "journal") == 0)
	msg_fatal("%s: ban_log = journal: the journal reader is not in this build yet;"
		  " name the log file", config_where(c, P_BAN_LOG));
    if (*log != '/')
	msg_fatal("%s: ban_log: \"%s\" is neither an absolute file name, journal nor none",
		  config_where(c, P_BAN_LOG), log);
    bs = xcalloc(1, sizeof(*bs));
    bs->d = d;
    bs->fd = -1;
    bs->lev = logev_new();
    bs->path = xstrdup(log);
    bs->buf = xmalloc(BAN_LINE_MAX);
    if (config_bool(c, P_BAN_NFT)) {
	bs->nft = ban_nft_new(config_str(c, P_BAN_NFT_CMD), config_str(c, P_BAN_NFT_PORTS),
			      (int) config_int(c, P_BAN_V4_PREFIX),
			      (int) config_int(c, P_BAN_V6_PREFIX));
	if (ban_nft_setup(bs->nft, why, sizeof(why)) < 0)
	    msg_fatal("%s", why);
    }
    reopen(bs, 1);
    daemon_source(d, &source_ops, bs);
    bs->timer = daemon_timer_new(d, "auto-ban log reader", poll_file, bs);
    daemon_timer_set(bs->timer, POLL_MS);
    msg_info("ban: following %s", log);
}
