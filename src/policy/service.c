/*
 * service.c - the policy protocol as a handler of the daemon skeleton:
 * the connections, their limit, and stopping them.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "policy/conn.h"
#include "policy/service.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

/* service_conn_gone - a connection was freed (and unlinked) */
void    service_conn_gone(struct policy_service *s, struct conn *c)
{
    (void) c;
    s->nconns--;
    stat_set(STAT_CONNECTIONS_OPEN, (int64_t) s->nconns);
    if (s->stopping && s->nconns == 0)
	daemon_drained(s->d);
}

/* service_idle_timeout - policy_idle_timeout as a common timeout */
const struct timeval *service_idle_timeout(struct policy_service *s)
{
    long    secs = config_int(daemon_config(s->d), P_IDLE_TIMEOUT);

    /* libevent keeps equal durations in one queue: no heap per re-arm */
    if (s->idle_tv == NULL || s->idle_secs != secs) {
	struct timeval tv;
	const struct timeval *common;

	tv.tv_sec = secs;
	tv.tv_usec = 0;
	if ((common = event_base_init_common_timeout(s->base, &tv)) == NULL) {
	    msg_warn("cannot create a common timeout; using a plain one");
	    return s->idle_tv;
	}
	s->idle_tv = common;
	s->idle_secs = secs;
    }
    return s->idle_tv;
}

/* policy_accept - a new policy client */
static void policy_accept(void *ctx, int fd, const char *peer)
{
    struct policy_service *s = ctx;

    if (s->nconns >= (size_t) s->conn_limit) {
	msg_warn("policy client %s: connection refused: %zu connections"
		 " reached policy_connection_limit", peer, s->nconns);
	stat_inc(STAT_CONNECTIONS_REFUSED);
	close(fd);
	return;
    }
    if (conn_new(s, fd, peer) != NULL) {
	stat_inc(STAT_CONNECTIONS);
	stat_set(STAT_CONNECTIONS_OPEN, (int64_t) s->nconns);
    }
}

/* policy_drain - stop: close idle clients, answer those in flight */
static void policy_drain(void *ctx)
{
    struct policy_service *s = ctx;

    s->stopping = 1;
    for (struct conn *c = s->conns, *next; c; c = next) {
	next = conn_next(c);
	conn_shutdown(c);
    }
}

/* policy_busy - connections still open */
static size_t policy_busy(void *ctx)
{
    return ((struct policy_service *) ctx)->nconns;
}

/* policy_close - the daemon exits: drop every connection */
static void policy_close(void *ctx)
{
    struct policy_service *s = ctx;

    msg_info("stopped after %lu requests", s->requests);
    while (s->conns)
	conn_abort(s->conns);
    free(s);
}

static const struct daemon_handler_ops policy_ops = {
    .name = "policy",
    .accept = policy_accept,
    .drain = policy_drain,
    .busy = policy_busy,
    .close = policy_close,
};

/* raise_nofile - allow the connection limit plus some spare descriptors */
static void raise_nofile(long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
	return;
    if ((long) rl.rlim_cur >= want)
	return;
    rl.rlim_cur = (rlim_t) want;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
	rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || (long) rl.rlim_cur < want)
	msg_warn("open file limit %ld is below policy_connection_limit + 64 = %ld",
		 (long) rl.rlim_cur, want);
}

/* policy_service_attach - serve the policy protocol on "listen" */
void    policy_service_attach(struct daemon *d)
{
    struct policy_service *s = xcalloc(1, sizeof(*s));
    const struct config *conf = daemon_config(d);

    s->d = d;
    s->base = daemon_base(d);
    s->conn_limit = config_int(conf, P_CONN_LIMIT);	/* not reloadable */
    raise_nofile(s->conn_limit + 64);
    struct buf err;

    buf_init(&err);
    if (daemon_listen(d, config_str(conf, P_LISTEN), NULL, &policy_ops, s, &err) < 0)
	msg_fatal("%s", err.s);
    buf_free(&err);
}
