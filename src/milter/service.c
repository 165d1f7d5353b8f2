/*
 * service.c - the milter as a handler of the daemon skeleton: its
 * sockets, its connections and their limit, its compiled configuration
 * (taken again at reload; messages in flight keep theirs), stopping, and
 * the pool of milter_verify_threads threads that check the signatures
 * (src/daemon/pool.h), freed after the sessions.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "daemon/pool.h"
#include "dmarc/msgauth.h"
#include "dkim/signtable.h"
#include "milter/milter.h"
#include "milter/arcseal.h"
#include "milter/sign.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

/* conf_new - the milter's parameters; NULL with err */
static struct milter_conf *conf_new(const struct config *c, struct buf *err)
{
    struct milter_conf *mc = xcalloc(1, sizeof(*mc));

    if ((mc->mc = msgauth_conf_new(c, err)) == NULL) {
	free(mc);
	return NULL;
    }
    mc->refs = 1;
    mc->packet_limit = (size_t) config_int(c, P_MILTER_PACKET_LIMIT);
    mc->header_limit = (size_t) config_int(c, P_MILTER_HEADER_LIMIT);
    mc->header_count = (size_t) config_int(c, P_MILTER_HEADER_COUNT);
    mc->ignore_auth = config_bool(c, P_DMARC_IGNORE_AUTH);
    mc->idle_secs = config_int(c, P_MILTER_IDLE_TIMEOUT);
    if (((mc->signer = milter_signer_open(c, err)) == NULL && err->len > 0)
	|| milter_arc_open(c, &mc->arc_signer, &mc->arc_key, err) < 0) {
	dkim_signer_free(mc->signer);
	msgauth_conf_free(mc->mc);
	free(mc);
	return NULL;
    }
    return mc;
}

void    milter_conf_unref(struct milter_conf *mc)
{
    if (--mc->refs > 0)
	return;
    msgauth_conf_free(mc->mc);
    dkim_signer_free(mc->signer);
    dkim_signer_free(mc->arc_signer);
    free(mc);
}

/* milter_session_gone - a session was freed */
void    milter_session_gone(struct milter_service *s)
{
    s->nsessions--;
    stat_set(STAT_MILTER_CONNECTIONS_OPEN, (int64_t) s->nsessions);
    if (s->stopping && s->nsessions == 0)
	daemon_drained(s->d);
}

/* milter_idle_timeout - milter_idle_timeout as a common timeout */
const struct timeval *milter_idle_timeout(struct milter_service *s)
{
    long    secs = s->conf->idle_secs;

    if (s->idle_tv == NULL || s->idle_secs != secs) {
	struct timeval tv = {secs, 0};
	const struct timeval *common = event_base_init_common_timeout(s->base, &tv);

	if (common == NULL)
	    return s->idle_tv;
	s->idle_tv = common;
	s->idle_secs = secs;
    }
    return s->idle_tv;
}

/* milter_accept - a new connection from Postfix */
static void milter_accept(void *ctx, int fd, const char *peer)
{
    struct milter_service *s = ctx;
    int     one = 1;

    if (s->nsessions >= (size_t) s->conn_limit) {
	msg_warn("milter client %s: connection refused: %zu connections"
		 " reached milter_connection_limit", peer, s->nsessions);
	close(fd);
	return;
    }
    /* our replies are whole: nothing gains from waiting to coalesce */
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (session_new(s, fd, peer) != NULL) {
	stat_inc(STAT_MILTER_CONNECTIONS);
	stat_set(STAT_MILTER_CONNECTIONS_OPEN, (int64_t) s->nsessions);
    }
}

/* milter_reload - the new configuration's parameters */
static void milter_reload(void *ctx)
{
    struct milter_service *s = ctx;
    struct milter_conf *mc;
    struct buf err;

    buf_init(&err);
    if ((mc = conf_new(daemon_config(s->d), &err)) == NULL) {
	msg_warn("milter: %s; keeping the previous milter settings", err.s);
    } else {
	milter_conf_unref(s->conf);
	s->conf = mc;
    }
    buf_free(&err);
}

static void milter_drain(void *ctx)
{
    struct milter_service *s = ctx;

    s->stopping = 1;
    for (struct msession *ms = s->sessions, *next; ms; ms = next) {
	next = session_next(ms);
	session_shutdown(ms);
    }
}

static size_t milter_busy(void *ctx)
{
    return ((struct milter_service *) ctx)->nsessions;
}

static void milter_close(void *ctx)
{
    struct milter_service *s = ctx;

    msg_info("milter stopped after %lu messages", s->messages);
    while (s->sessions)
	session_abort(s->sessions);
    pool_free(s->pool);			/* after the sessions: their jobs are orphans */
    milter_conf_unref(s->conf);
    free(s);
}

static const struct daemon_handler_ops milter_ops = {
    .name = "milter",
    .accept = milter_accept,
    .reload = milter_reload,
    .drain = milter_drain,
    .busy = milter_busy,
    .close = milter_close,
};

/* milter_service_attach - serve milter_listen */
void    milter_service_attach(struct daemon *d)
{
    const struct config *conf = daemon_config(d);
    const char *listen = config_str(conf, P_MILTER_LISTEN);
    struct milter_service *s;
    struct buf err;

    if (*listen == 0)
	return;
    s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->base = daemon_base(d);
    s->conn_limit = config_int(conf, P_MILTER_CONN_LIMIT);
    buf_init(&err);
    if ((s->conf = conf_new(conf, &err)) == NULL)
	msg_fatal("%s", err.s);
    if (daemon_listen(d, listen, NULL, &milter_ops, s, &err) < 0)
	msg_fatal("%s", err.s);
    if (config_int(conf, P_MILTER_VERIFY_THREADS) != 0)
	s->pool = pool_new(s->base, (int) config_int(conf, P_MILTER_VERIFY_THREADS),
			   "milter signature checks");
    buf_free(&err);
}
