/*
 * daemon.c - event loop, listeners, signals, reload, timers, resources.
 *
 * See daemon.h for the handler contract; reload.c has the slow work done
 * away from the loop (configuration compiles, table loads).  The loop runs one pass at a
 * time (event_base_loop(EVLOOP_ONCE)) so that work shared by a pass is
 * done once after it: the group commit of the store and the log flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "daemon/daemon_impl.h"
#include "daemon/privs.h"
#include "daemon/worker.h"
#include "dns/dns.h"
#include "greylist/greylist.h"
#include "net/listen.h"
#include "store/redis_config.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

#define ACCEPT_PAUSE_MS	250		/* out of descriptors: pause accepting */
#define LOG_HOLD_MS	10		/* held log lines go out this late */

/* Stall accounting of the pass in progress (one daemon per process). */
static struct {
    long    limit_ms;			/* event_loop_stall_limit */
    long    pass_ns;			/* labelled work in this pass */
    long    max_ns;			/* its longest piece */
    const char *max_label;
    int     depth;			/* nested labelled work counts once */
} stall;

/*
 * The coarse clock (one tick: a few ms) costs a sixth of the fine one,
 * and a sum of coarse measurements is still right on average (a piece of
 * work crosses a tick with a probability in proportion to its length):
 * enough to find passes of a hundred milliseconds.
 */
#define STALL_CLOCK	CLOCK_MONOTONIC_COARSE

/* ns_since - nanoseconds from t0 to now */
static long ns_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(STALL_CLOCK, &t);
    return (long) (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* daemon_work_begin - labelled work starts */
void    daemon_work_begin(struct daemon_work *w, const char *label)
{
    w->label = label;
    if (stall.depth++ == 0)
	clock_gettime(STALL_CLOCK, &w->t0);
}

/* daemon_work_end - labelled work ends: account for it */
void    daemon_work_end(struct daemon_work *w)
{
    long    ns;

    if (--stall.depth > 0)
	return;
    ns = ns_since(&w->t0);
    stall.pass_ns += ns;
    if (ns > stall.max_ns) {
	stall.max_ns = ns;
	stall.max_label = w->label;
    }
}

/* stall_check - after a pass: warn when it took too long */
static void stall_check(void)
{
    if (stall.pass_ns / 1000000 >= stall.limit_ms)
	msg_warn("event loop stalled: one pass took %ld ms (event_loop_stall_limit %ld);"
		 " slowest: %s, %ld ms", stall.pass_ns / 1000000, stall.limit_ms,
		 stall.max_label ? stall.max_label : "?", stall.max_ns / 1000000);
    stall.pass_ns = 0;
    stall.max_ns = 0;
    stall.max_label = NULL;
}

/* add_or_die - arm an event at start-up, or say why not */
static void add_or_die(struct event *ev, const struct timeval *tv, const char *what)
{
    if (ev == NULL || event_add(ev, tv) < 0)
	msg_fatal("cannot arm the %s event", what);
}

/* Accessors. */
struct event_base *daemon_base(const struct daemon *d)
{
    return d->base;
}

struct policy *daemon_policy(const struct daemon *d)
{
    return d->pol;
}

const struct config *daemon_config(const struct daemon *d)
{
    return d->pol->conf;
}

struct dns *daemon_dns(const struct daemon *d)
{
    return d->dns;
}

struct store *daemon_store(const struct daemon *d)
{
    return d->store;
}

int     daemon_stopping(const struct daemon *d)
{
    return d->stopping;
}

/* timer_cb - a labelled periodic timer */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct daemon_timer *t = arg;
    struct daemon_work w;
    const char *previous = log_service_enter(t->service);

    (void) fd;
    (void) what;
    daemon_work_begin(&w, t->label);
    t->fn(t->arg);
    daemon_work_end(&w);
    log_service_leave(previous);
}

/* daemon_timer_new - a timer, not armed */
struct daemon_timer *daemon_timer_new(struct daemon *d, const char *label,
				              void (*fn) (void *), void *arg)
{
    struct daemon_timer *t = xcalloc(1, sizeof(*t));

    t->d = d;
    t->label = label;
    t->service = log_service_current();
    t->fn = fn;
    t->arg = arg;
    if ((t->ev = event_new(d->base, -1, EV_PERSIST, timer_cb, t)) == NULL)
	msg_fatal("cannot create the %s timer", label);
    return t;
}

/* daemon_timer_set - (re-)arm with a period, or disarm */
void    daemon_timer_set(struct daemon_timer *t, long millis)
{
    struct timeval tv;

    if (millis == t->millis && evtimer_pending(t->ev, NULL))
	return;
    t->millis = millis;
    if (millis <= 0) {
	event_del(t->ev);
	return;
    }
    tv.tv_sec = millis / 1000;
    tv.tv_usec = (millis % 1000) * 1000;
    if (event_add(t->ev, &tv) < 0)
	msg_warn("cannot arm the %s timer: it will not run", t->label);
}

void    daemon_timer_free(struct daemon_timer *t)
{
    if (t == NULL)
	return;
    event_free(t->ev);
    free(t);
}

/* add_handler - remember a handler */
static struct daemon_handler *add_handler(struct daemon *d, const struct daemon_handler_ops *ops,
					          void *ctx)
{
    d->handlers = xrealloc(d->handlers, (d->nhandlers + 1) * sizeof(*d->handlers));
    d->handlers[d->nhandlers].ops = ops;
    d->handlers[d->nhandlers].ctx = ctx;
    return &d->handlers[d->nhandlers++];
}

/* accept_cb - a new connection for a listener's handler */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		              struct sockaddr *sa, int salen, void *arg)
{
    struct daemon_listener *dl = arg;
    struct daemon_handler *h = &dl->d->handlers[dl->handler];
    struct daemon_work w;
    char    peer[128];

    (void) l;
    (void) salen;
    if (dl->d->stopping) {
	evutil_closesocket(fd);
	return;
    }
    listen_peer_name(sa, peer, sizeof(peer));
    if (evutil_make_socket_nonblocking(fd) < 0) {
	msg_warn("%s client %s: cannot make the socket non-blocking: %s", h->ops->name,
		 peer, strerror(errno));
	evutil_closesocket(fd);
	return;
    }
    const char *previous = log_service_enter(h->ops->name);

    daemon_work_begin(&w, h->ops->name);
    h->ops->accept(h->ctx, fd, peer);
    daemon_work_end(&w);
    log_service_leave(previous);
}

/* accept_resume_cb - try accepting again after a pause */
static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void) fd;
    (void) what;
    for (size_t i = 0; !d->stopping && i < d->nlisteners; i++)
	if (evconnlistener_enable(d->listeners[i].l) < 0)
	    msg_warn("listen %s: cannot resume accepting", d->listeners[i].spec.text);
}

/*
 * accept_error_cb - accept(2) failed.  Out of descriptors (or kernel
 * memory) the waiting connection stays queued and the listener would be
 * ready again at once: stop accepting for a moment instead of spinning,
 * and say so at most every 10 seconds.
 */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct daemon_listener *dl = arg;
    struct daemon *d = dl->d;
    int     err = EVUTIL_SOCKET_ERROR();
    time_t  now = time(NULL);
    struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};

    (void) l;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
	msg_warn("accept %s: %s", dl->spec.text, evutil_socket_error_to_string(err));
	return;
    }
    for (size_t i = 0; i < d->nlisteners; i++)
	evconnlistener_disable(d->listeners[i].l);
    if (d->accept_resume == NULL)
	d->accept_resume = evtimer_new(d->base, accept_resume_cb, d);
    if (d->accept_resume == NULL || evtimer_add(d->accept_resume, &tv) < 0) {
	/* better to spin than to stop serving for good */
	msg_warn("cannot arm the accept pause timer; accepting again at once");
	accept_resume_cb(-1, 0, d);
	return;
    }
    d->accept_pauses++;
    if (now - d->accept_warned >= 10) {
	msg_warn("accept: %s; not accepting new connections for %d ms"
		 " (%lu pauses since the last warning)",
		 evutil_socket_error_to_string(err), ACCEPT_PAUSE_MS, d->accept_pauses);
	d->accept_warned = now;
	d->accept_pauses = 0;
    }
}

/* daemon_listen - bind every listener of a list value for a handler */
int     daemon_listen(struct daemon *d, const char *listen_value, const struct listen_unix *lu,
		              const struct daemon_handler_ops *ops, void *ctx, struct buf *err)
{
    const struct config *conf = d->pol->conf;
    struct listen_spec *specs;
    struct listen_unix conf_lu;
    struct listen_fd fds[LISTEN_MAX_ADDRS];
    size_t  first = d->nlisteners;
    int     n, nfd;

    if ((n = listen_parse_list(listen_value, &specs, err)) < 0)
	return -1;
    if (n == 0) {
	buf_printf(err, "%s: listen: no sockets to listen on", ops->name);
	free(specs);
	return -1;
    }
    if (lu == NULL) {
	if (listen_unix_parse(config_str(conf, P_UNIX_MODE), config_str(conf, P_UNIX_OWNER),
			      config_str(conf, P_UNIX_GROUP), &conf_lu, err) < 0) {
	    free(specs);
	    return -1;
	}
	lu = &conf_lu;
    }
    for (int i = 0; i < n; i++) {
	if ((nfd = listen_open(&specs[i], lu, fds, err)) < 0) {
	    /* undo this handler's listeners: nothing half-bound */
	    while (d->nlisteners > first) {
		d->nlisteners--;
		listen_unlink(&d->listeners[d->nlisteners].spec, &d->listeners[d->nlisteners].lf);
		close(d->listeners[d->nlisteners].lf.fd);
	    }
	    free(specs);
	    return -1;
	}
	d->listeners = xrealloc(d->listeners, (d->nlisteners + (size_t) nfd)
				* sizeof(*d->listeners));
	for (int j = 0; j < nfd; j++) {
	    struct daemon_listener *dl = &d->listeners[d->nlisteners++];

	    memset(dl, 0, sizeof(*dl));
	    dl->d = d;
	    dl->handler = d->nhandlers;
	    dl->spec = specs[i];
	    dl->lf = fds[j];
	}
    }
    const char *previous = log_service_enter(ops->name);

    for (int i = 0; i < n; i++)
	msg_info("%s: listening on %s", ops->name, specs[i].text);
    log_service_leave(previous);
    free(specs);
    add_handler(d, ops, ctx);
    return 0;
}

/* enable_listeners - create the libevent listeners once the array is final */
static void enable_listeners(struct daemon *d)
{
    for (size_t i = 0; i < d->nlisteners; i++) {
	struct daemon_listener *dl = &d->listeners[i];

	dl->l = evconnlistener_new(d->base, accept_cb, dl, LEV_OPT_CLOSE_ON_FREE, -1,
				   dl->lf.fd);
	if (dl->l == NULL)
	    msg_fatal("listen %s: cannot create listener", dl->spec.text);
	evconnlistener_set_error_cb(dl->l, accept_error_cb);
    }
}

/*
 * close_listeners - remove our unix socket files; stop accepting.  The
 * file goes first, while we still listen: closed, the socket is stale to a
 * starting instance, which replaces the file, and the new one may get the
 * inode number that listen_unlink() takes for ours.
 */
static void close_listeners(struct daemon *d)
{
    for (size_t i = 0; i < d->nlisteners; i++) {
	listen_unlink(&d->listeners[i].spec, &d->listeners[i].lf);
	if (d->listeners[i].l)
	    evconnlistener_free(d->listeners[i].l);
	else
	    close(d->listeners[i].lf.fd);
    }
    free(d->listeners);
    d->listeners = NULL;
    d->nlisteners = 0;
}

/* daemon_source - a handler without a listener */
void    daemon_source(struct daemon *d, const struct daemon_handler_ops *ops, void *ctx)
{
    add_handler(d, ops, ctx);
}

/* daemon_store_attach - open the state database the first time a policy needs it */
int     daemon_store_attach(struct daemon *d, struct policy *pol, int fatal)
{
    struct store_opts o;
    char    why[512];

    if (!(pol->uses_greylist || pol->uses_store) || d->store) {
	pol->store = d->store;
	return 0;
    }
    memset(&o, 0, sizeof(o));
    o.path = config_str(pol->conf, P_DATA_DIR);
    o.map_size = (size_t) config_int(pol->conf, P_STORE_MAP_SIZE) << 20;
    o.sync_commits = config_bool(pol->conf, P_STORE_SYNC_COMMITS);
    o.on_corrupt = strcasecmp(config_str(pol->conf, P_STORE_ON_CORRUPT), "refuse") == 0
	? STORE_CORRUPT_REFUSE : STORE_CORRUPT_MOVE;
    redis_config_opts(pol->conf, &o, d->base);
    if ((d->store = store_open(&o, why, sizeof(why))) == NULL) {
	if (fatal)
	    msg_fatal("%s", why);
	msg_warn("%s", why);
	return -1;
    }
    /* a commit that flushes to disk is worth sharing (one fsync per pass of
     * the event loop); one that only writes memory is cheaper at once,
     * answering without waiting for the rest of the pass */
    store_batch(d->store, o.sync_commits);
    pol->store = d->store;
    return 0;
}

/* daemon_apply_reloadable - what the skeleton itself reads of a configuration */
void    daemon_apply_reloadable(struct daemon *d)
{
    const struct config *conf = d->pol->conf;

    stall.limit_ms = config_int(conf, P_LOOP_STALL_LIMIT);
    daemon_timer_set(d->table_timer, config_int(conf, P_TABLE_CHECK) * 1000);
}

/* daemon_handlers_call - reload, drain or close each handler, under its name */
void    daemon_handlers_call(struct daemon *d, enum daemon_call which)
{
    for (size_t i = 0; i < d->nhandlers; i++) {
	const struct daemon_handler_ops *ops = d->handlers[i].ops;
	void    (*fn) (void *) = which == DAEMON_RELOAD ? ops->reload
	    : which == DAEMON_DRAIN ? ops->drain : ops->close;

	if (fn) {
	    const char *previous = log_service_enter(ops->name);

	    fn(d->handlers[i].ctx);
	    log_service_leave(previous);
	}
    }
}

/* busy - work still open in every handler */
static size_t busy(struct daemon *d)
{
    size_t  n = 0;

    for (size_t i = 0; i < d->nhandlers; i++)
	if (d->handlers[i].ops->busy)
	    n += d->handlers[i].ops->busy(d->handlers[i].ctx);
    return n;
}

/* daemon_drained - a handler finished work while stopping */
void    daemon_drained(struct daemon *d)
{
    if (d->stopping && !d->closing && busy(d) == 0)
	event_base_loopexit(d->base, NULL);
}

/* stop - SIGTERM/SIGINT: finish what is in flight within the grace time */
static void stop(struct daemon *d, int sig)
{
    long    grace = config_int(d->pol->conf, P_STOP_GRACE);

    msg_info("stopping on signal %d: answering requests in flight", sig);
    d->stopping = 1;
    close_listeners(d);
    daemon_handlers_call(d, DAEMON_DRAIN);
    if (busy(d) == 0) {
	event_base_loopexit(d->base, NULL);
    } else {
	struct timeval tv = {grace, 0};

	if (event_base_loopexit(d->base, &tv) < 0)
	    event_base_loopbreak(d->base);
    }
}

/* signal_cb - SIGHUP reloads, SIGTERM/SIGINT stop */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    struct daemon_work w;

    (void) what;
    if (sig == SIGHUP) {
	daemon_work_begin(&w, "reload (starting the compile)");
	daemon_reload_start(d);
	daemon_work_end(&w);
	return;
    }
    if (!d->stopping)
	stop(d, (int) sig);
}

/* store_tick - one small step of expiry; flush to disk now and then */
static void store_tick(void *arg)
{
    struct daemon *d = arg;
    long    n;

    if (d->store == NULL)
	return;
    n = greylist_expire_step(d->store, d->pol->conf, (long long) time(NULL), &d->gl_cursor,
			     config_int(d->pol->conf, P_GL_EXPIRE_BATCH));
    if (n > 0)
	msg_info("greylist: expired %ld records", n);
    if (d->pol->uses_store) {
	const char *previous = log_service_enter(BAN_SERVICE);	/* unban lines */

	ban_expire_step(d->store, (int64_t) time(NULL), &d->ban_cursor,
			config_int(d->pol->conf, P_GL_EXPIRE_BATCH));
	log_service_leave(previous);
    }
    if (++d->sync_ticks >= d->sync_interval) {
	d->sync_ticks = 0;
	store_sync(d->store);
    }
}

/* pass_cb - nothing: firing ends a pass of the loop, whose end commits */
static void pass_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
}

/* log_flush_cb - held log lines go out at most LOG_HOLD_MS late */
static void log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct daemon_work w;

    (void) fd;
    (void) what;
    (void) arg;
    daemon_work_begin(&w, "log write (a slow reader of standard error?)");
    log_flush();
    daemon_work_end(&w);
}

/*
 * run_loop - the event loop, with work done once per pass: with group
 * commit the writes of every decision of the pass are committed together
 * (their answers go out right after).  Log lines are held and written
 * when 64 KB have gathered or LOG_HOLD_MS after the first, whichever
 * comes first: under load one write(2) per few hundred lines.
 */
static void run_loop(struct daemon *d)
{
    const struct timeval hold = {0, LOG_HOLD_MS * 1000};

    log_hold_lines(1);
    while (!event_base_got_exit(d->base) && !event_base_got_break(d->base)) {
	if (event_base_loop(d->base, EVLOOP_ONCE) != 0)
	    break;
	if (d->store) {
	    struct daemon_work w;

	    daemon_work_begin(&w, "store commit");
	    while (store_commit(d->store) > 0)
		 /* answers whose records are now committed went out */ ;
	    daemon_work_end(&w);
	    /* a pass due even if nothing else happens: the store lets go of
	     * what it holds across passes (another process's writer waits) */
	    long    due = store_pass_due_ms(d->store);

	    if (due >= 0 && !evtimer_pending(d->pass_ev, NULL)) {
		struct timeval tv = {due / 1000, (due % 1000) * 1000};

		if (evtimer_add(d->pass_ev, &tv) < 0)
		    msg_warn("cannot arm the store's pass timer");
	    }
	}
	if (stall.pass_ns)
	    stall_check();
	if (log_held() && !evtimer_pending(d->flush_ev, NULL) && evtimer_add(d->flush_ev, &hold) < 0)
	    log_flush();
    }
    log_hold_lines(0);
}

/*
 * loop_base_new - the event base, its epoll changes batched when that is
 * safe: an event deleted and added again in one pass of the loop then
 * costs no epoll_ctl at all.  libunbound switches each TCP stream between
 * writing and reading for every query (four epoll_ctl a query without
 * the batching, perf: 13% of the daemon's time under DNS load).  Batched,
 * a descriptor's removal reaches epoll only after it was closed, which
 * removes it from epoll only if no other process holds it: a child that
 * inherited it would leave a stale registration waking the loop for a
 * descriptor it no longer has (libevent: unsafe with dup()ed descriptors).
 * The daemon's only child, nft for the auto-ban, closes every descriptor
 * but its own three before it runs (close_range in ban/nft.c), so for the
 * microseconds between fork and that no descriptor is held for longer.
 */
static struct event_base *loop_base_new(int batch_changes)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
	return NULL;
    if (batch_changes)
	(void) event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

/* daemon_new - event loop and resolver; the policy is taken over */
struct daemon *daemon_new(const char *config_path, struct policy *pol)
{
    struct daemon *d = xcalloc(1, sizeof(*d));
    char    why[256];

    d->config_path = config_path;
    d->pol = pol;
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
	msg_fatal("cannot ignore SIGPIPE: %s", strerror(errno));
    if ((d->base = loop_base_new(1)) == NULL)
	msg_fatal("cannot create event base");
    d->dns = dns_new(d->base, config_str(pol->conf, P_DNS_RESOLVER),
		     (int) config_int(pol->conf, P_DNS_TIMEOUT) * 1000,
		     (size_t) config_int(pol->conf, P_DNS_CACHE), why, sizeof(why));
    if (d->dns == NULL
	|| dns_set_transport(d->dns, config_str(pol->conf, P_DNS_TRANSPORT), why, sizeof(why)) < 0)
	msg_fatal("%s", why);
    pol->dns = d->dns;
    d->sync_interval = config_int(pol->conf, P_STORE_SYNC_INTERVAL);
    privs_prepare(pol->conf);
    return d;
}

/*
 * recompile_as_user - after the drop, compile the configuration (read by
 * root before it) again as the user, who re-reads every table on reload:
 * a table only root can read would work until the first reload, then
 * refuse every reload.  The file itself is read again on reload only: an
 * unreadable one is a warning now.
 */
static void recompile_as_user(struct daemon *d, struct config *conf)
{
    const char *user = config_str(d->pol->conf, P_RUN_USER);
    struct buf err;
    struct policy *pol;

    if (d->config_path && access(d->config_path, R_OK) < 0)
	msg_warn("%s: %s (as user %s): every reload will be refused until the user"
		 " can read it", d->config_path, strerror(errno), user);
    buf_init(&err);
    if ((pol = policy_compile(conf, &err)) == NULL)
	msg_fatal("%s: as user %s, who re-reads every table on reload: make it readable"
		  " by that user", err.s, user);
    buf_free(&err);
    pol->dns = d->dns;
    policy_unref(d->pol);
    d->pol = pol;
}

/* daemon_run - drop privileges, serve until stopped */
int     daemon_run(struct daemon *d)
{
    static const int sigs[3] = {SIGHUP, SIGTERM, SIGINT};

    struct config *again = NULL;
    struct buf err;

    /* the configuration for the compile as the user, read while root */
    buf_init(&err);
    if (*config_str(d->pol->conf, P_RUN_USER)
	&& (again = config_load(d->config_path, &err)) == NULL)
	msg_fatal("%s", err.s);
    buf_free(&err);
    if (privs_drop(d->pol->conf))
	recompile_as_user(d, again);
    else
	config_free(again);
    daemon_store_attach(d, d->pol, 1);
    enable_listeners(d);
    d->store_timer = daemon_timer_new(d, "store expiry and sync", store_tick, d);
    daemon_timer_set(d->store_timer, 1000);
    d->table_timer = daemon_timer_new(d, "table change check and greylist whitelist reload",
				      daemon_table_check, d);
    daemon_apply_reloadable(d);
    for (int i = 0; i < 3; i++) {
	d->sig_ev[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
	add_or_die(d->sig_ev[i], NULL, "signal");
    }
    if ((d->flush_ev = evtimer_new(d->base, log_flush_cb, NULL)) == NULL)
	msg_fatal("cannot create the log flush timer");
    if ((d->pass_ev = evtimer_new(d->base, pass_cb, NULL)) == NULL)
	msg_fatal("cannot create the store's pass timer");
    d->worker = worker_new(d->base);
    msg_info("mxshield ready: configuration %s",
	     d->config_path ? d->config_path : "(embedded default)");

    run_loop(d);

    if (d->stopping && busy(d))
	msg_warn("stopped with %zu connections still open after stop_grace_time", busy(d));
    /* handlers go first: nothing may resume once the store, the policy
     * or the resolver is gone (deleting unbound's context answers every
     * query still out) */
    d->closing = 1;			/* no more daemon_drained() */
    daemon_handlers_call(d, DAEMON_CLOSE);
    close_listeners(d);
    worker_free(d->worker);		/* a job still out: waited for, dropped */
    if (d->accept_resume)
	event_free(d->accept_resume);
    for (int i = 0; i < 3; i++)
	event_free(d->sig_ev[i]);
    event_free(d->flush_ev);
    event_free(d->pass_ev);
    daemon_timer_free(d->store_timer);
    daemon_timer_free(d->table_timer);
    policy_unref(d->pol);
    store_close(d->store);
    dns_free(d->dns);
    event_base_free(d->base);
    free(d->handlers);
    free(d);
    return 0;
}
