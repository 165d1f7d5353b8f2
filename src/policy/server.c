/*
 * server.c - listeners, signals, reload and graceful stop.
 *
 * DIAGNOSTICS
 *	Start-up problems (bad listen address, port in use, socket path) are
 *	fatal with the system error.  After start-up everything is logged as
 *	a warning and the service goes on.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf/config.h"
#include "dns/dns.h"
#include "greylist/greylist.h"
#include "store/store.h"
#include "policy/conn.h"
#include "policy/server.h"
#include "policy/server_ctx.h"
#include "util/log.h"
#include "util/mem.h"

/* server_conn_gone - a connection was freed (and unlinked) */
void    server_conn_gone(struct server_ctx *s, struct conn *c)
{
    (void) c;
    s->nconns--;
    if (s->stopping && s->nconns == 0)
	event_base_loopexit(s->base, NULL);
}

/* server_idle_timeout - policy_idle_timeout as a common timeout */
const struct timeval *server_idle_timeout(struct server_ctx *s)
{
    long    secs = config_int(s->pol->conf, P_IDLE_TIMEOUT);

    /* libevent keeps equal durations in one queue: no heap per re-arm */
    if (s->idle_tv == NULL || s->idle_secs != secs) {
	struct timeval tv;

	tv.tv_sec = secs;
	tv.tv_usec = 0;
	s->idle_tv = event_base_init_common_timeout(s->base, &tv);
	s->idle_secs = secs;
    }
    return s->idle_tv;
}

/* peer_name - printable address of an accepted peer */
static void peer_name(const struct sockaddr *sa, char *out, size_t len)
{
    char    host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
	const struct sockaddr_in *in = (const void *) sa;

	inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
	snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
	const struct sockaddr_in6 *in6 = (const void *) sa;

	inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
	snprintf(out, len, "unix");
    }
}

/* accept_cb - a new policy client */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		              struct sockaddr *sa, int salen, void *arg)
{
    struct server_ctx *s = arg;
    char    peer[128];

    (void) l;
    (void) salen;
    peer_name(sa, peer, sizeof(peer));
    if (s->stopping) {
	evutil_closesocket(fd);
	return;
    }
    if (s->nconns >= (size_t) s->conn_limit) {
	msg_warn("policy client %s: connection refused: %zu connections"
		 " reached policy_connection_limit", peer, s->nconns);
	evutil_closesocket(fd);
	return;
    }
    evutil_make_socket_nonblocking(fd);
    (void) conn_new(s, fd, peer);
}

#define ACCEPT_PAUSE_MS	250

/* accept_resume_cb - try accepting again after a pause */
static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server_ctx *s = arg;

    (void) fd;
    (void) what;
    for (size_t i = 0; !s->stopping && i < s->nlisteners; i++)
	evconnlistener_enable(s->listeners[i]);
}

/*
 * accept_error_cb - accept(2) failed.  Out of descriptors (or kernel
 * memory) the waiting connection stays queued and the listener would be
 * ready again at once: stop accepting for a moment instead of spinning,
 * and say so at most every 10 seconds.
 */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct server_ctx *s = arg;
    int     err = EVUTIL_SOCKET_ERROR();
    time_t  now = time(NULL);

    (void) l;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
	msg_warn("accept: %s", evutil_socket_error_to_string(err));
	return;
    }
    for (size_t i = 0; i < s->nlisteners; i++)
	evconnlistener_disable(s->listeners[i]);
    if (s->accept_resume == NULL
	&& (s->accept_resume = evtimer_new(s->base, accept_resume_cb, s)) == NULL)
	msg_fatal("cannot create a timer");
    struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};

    evtimer_add(s->accept_resume, &tv);
    s->accept_pauses++;
    if (now - s->accept_warned >= 10) {
	msg_warn("accept: %s; not accepting new connections for %d ms"
		 " (%lu pauses since the last warning; %zu connections open)",
		 evutil_socket_error_to_string(err), ACCEPT_PAUSE_MS, s->accept_pauses,
		 s->nconns);
	s->accept_warned = now;
	s->accept_pauses = 0;
    }
}

/* listen_unix - bind a unix socket with the configured mode and owner */
static evutil_socket_t listen_unix(const char *path, const struct config *conf)
{
    struct sockaddr_un sun;
    struct stat st;
    evutil_socket_t fd;

    if (strlen(path) >= sizeof(sun.sun_path))
	msg_fatal("listen unix:%s: path too long", path);
    if (lstat(path, &st) == 0) {
	if (!S_ISSOCK(st.st_mode))
	    msg_fatal("listen unix:%s: exists and is not a socket", path);
	if (unlink(path) < 0)
	    msg_fatal("listen unix:%s: remove stale socket: %s", path, strerror(errno));
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
	msg_fatal("socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	msg_fatal("listen unix:%s: bind: %s", path, strerror(errno));

    const char *mode = config_str(conf, P_UNIX_MODE);
    char   *end;
    long    m = strtol(mode, &end, 8);

    if (*mode == 0 || *end || m < 0 || m > 07777)
	msg_fatal("%s: unix_socket_mode: bad octal mode \"%s\"",
		  config_where(conf, P_UNIX_MODE), mode);
    if (chmod(path, (mode_t) m) < 0)
	msg_fatal("listen unix:%s: chmod: %s", path, strerror(errno));

    const char *owner = config_str(conf, P_UNIX_OWNER);
    const char *group = config_str(conf, P_UNIX_GROUP);
    uid_t   uid = (uid_t) -1;
    gid_t   gid = (gid_t) -1;

    if (*owner) {
	struct passwd *pw = getpwnam(owner);

	if (pw == NULL)
	    msg_fatal("%s: unix_socket_owner: unknown user \"%s\"",
		      config_where(conf, P_UNIX_OWNER), owner);
	uid = pw->pw_uid;
    }
    if (*group) {
	struct group *gr = getgrnam(group);

	if (gr == NULL)
	    msg_fatal("%s: unix_socket_group: unknown group \"%s\"",
		      config_where(conf, P_UNIX_GROUP), group);
	gid = gr->gr_gid;
    }
    if ((*owner || *group) && chown(path, uid, gid) < 0)
	msg_fatal("listen unix:%s: chown: %s", path, strerror(errno));
    if (listen(fd, 1024) < 0)
	msg_fatal("listen unix:%s: %s", path, strerror(errno));
    return fd;
}

/* listen_inet - bind inet:host:port (host may be [IPv6]) */
static evutil_socket_t listen_inet(const char *spec)
{
    struct sockaddr_storage ss;
    int     sslen = sizeof(ss);
    evutil_socket_t fd;
    int     on = 1;

    memset(&ss, 0, sizeof(ss));
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *) &ss, &sslen) < 0)
	msg_fatal("listen inet:%s: expected HOST:PORT or [IPv6]:PORT", spec);
    if (((struct sockaddr_in *) &ss)->sin_port == 0)
	msg_fatal("listen inet:%s: missing port", spec);
    if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
	msg_fatal("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss.ss_family == AF_INET6)
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (struct sockaddr *) &ss, (socklen_t) sslen) < 0)
	msg_fatal("listen inet:%s: bind: %s", spec, strerror(errno));
    if (listen(fd, 1024) < 0)
	msg_fatal("listen inet:%s: %s", spec, strerror(errno));
    return fd;
}

/* open_listeners - every "listen" entry */
static void open_listeners(struct server_ctx *s)
{
    struct strlist w;

    strlist_init(&w);
    strlist_split(&w, config_str(s->pol->conf, P_LISTEN), LIST_SEPS);
    if (w.n == 0)
	msg_fatal("%s: listen: no sockets to listen on", config_where(s->pol->conf, P_LISTEN));
    s->listeners = xcalloc(w.n, sizeof(*s->listeners));
    s->listener_names = xcalloc(w.n, sizeof(*s->listener_names));
    for (size_t i = 0; i < w.n; i++) {
	evutil_socket_t fd;

	if (strncmp(w.v[i], "inet:", 5) == 0)
	    fd = listen_inet(w.v[i] + 5);
	else if (strncmp(w.v[i], "unix:", 5) == 0)
	    fd = listen_unix(w.v[i] + 5, s->pol->conf);
	else
	    msg_fatal("%s: listen: \"%s\": use inet:HOST:PORT or unix:/path",
		      config_where(s->pol->conf, P_LISTEN), w.v[i]);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	s->listeners[i] = evconnlistener_new(s->base, accept_cb, s,
					     LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (s->listeners[i] == NULL)
	    msg_fatal("listen %s: cannot create listener", w.v[i]);
	evconnlistener_set_error_cb(s->listeners[i], accept_error_cb);
	s->listener_names[i] = xstrdup(w.v[i]);
	s->nlisteners++;
	msg_info("listening on %s", w.v[i]);
    }
    strlist_free(&w);
}

/* close_listeners - stop accepting; remove unix socket files */
static void close_listeners(struct server_ctx *s)
{
    for (size_t i = 0; i < s->nlisteners; i++) {
	evconnlistener_free(s->listeners[i]);
	if (strncmp(s->listener_names[i], "unix:", 5) == 0)
	    (void) unlink(s->listener_names[i] + 5);
	free(s->listener_names[i]);
    }
    free(s->listeners);
    free(s->listener_names);
    s->listeners = NULL;
    s->listener_names = NULL;
    s->nlisteners = 0;
}

static int store_attach(struct server_ctx *s, struct policy *pol, int fatal);

/* reload - SIGHUP: compile the new configuration, keep the old on error */
static void reload(struct server_ctx *s)
{
    struct buf err;
    struct config *conf;
    struct policy *pol;

    buf_init(&err);
    conf = config_load(s->config_path, &err);
    if (conf == NULL || (pol = policy_compile(conf, &err)) == NULL) {
	msg_warn("reload refused, previous configuration stays in force: %s", err.s);
	config_free(conf);
	buf_free(&err);
	return;
    }
    buf_free(&err);
    for (int id = 0; id < P_COUNT; id++) {
	if (!param_table[id].reloadable
	    && strcmp(config_str(conf, id), config_str(s->pol->conf, id)) != 0)
	    msg_warn("reload: %s changed; this takes effect at the next restart",
		     param_table[id].name);
    }
    pol->dns = s->dns;
    if (store_attach(s, pol, 0) < 0) {
	msg_warn("reload refused, previous configuration stays in force");
	policy_unref(pol);
	return;
    }
    policy_unref(s->pol);
    s->pol = pol;
    msg_info("reloaded configuration from %s",
	     s->config_path ? s->config_path : "(embedded default)");
}

/* signal_cb - SIGHUP reloads, SIGTERM/SIGINT stop */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct server_ctx *s = arg;

    (void) what;
    if (sig == SIGHUP) {
	reload(s);
	return;
    }
    if (s->stopping)
	return;
    msg_info("stopping on signal %d: answering requests in flight", (int) sig);
    s->stopping = 1;
    close_listeners(s);
    for (struct conn *c = s->conns, *next; c; c = next) {
	next = conn_next(c);
	conn_shutdown(c);
    }
    if (s->nconns == 0) {
	event_base_loopexit(s->base, NULL);
    } else {
	struct timeval grace = {10, 0};

	event_base_loopexit(s->base, &grace);
    }
}

/* refresh_cb - cheap change check of every table and whitelist */
static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server_ctx *s = arg;

    (void) fd;
    (void) what;
    tables_refresh(s->pol->tables);
    if (s->pol->greylist_wl)
	gl_whitelist_refresh(s->pol->greylist_wl);
}

/* store_attach - open the state database the first time a policy needs it */
static int store_attach(struct server_ctx *s, struct policy *pol, int fatal)
{
    struct store_opts o;
    char    why[512];

    if (!pol->uses_greylist || s->store) {
	pol->store = s->store;
	return 0;
    }
    memset(&o, 0, sizeof(o));
    o.path = config_str(pol->conf, P_DATA_DIR);
    o.map_size = (size_t) config_int(pol->conf, P_STORE_MAP_SIZE) << 20;
    o.sync_commits = config_bool(pol->conf, P_STORE_SYNC_COMMITS);
    o.on_corrupt = strcasecmp(config_str(pol->conf, P_STORE_ON_CORRUPT), "refuse") == 0
	? STORE_CORRUPT_REFUSE : STORE_CORRUPT_MOVE;
    if ((s->store = store_open(&o, why, sizeof(why))) == NULL) {
	if (fatal)
	    msg_fatal("%s", why);
	msg_warn("%s", why);
	return -1;
    }
    /* a commit that flushes to disk is worth sharing (one fsync per pass of
     * the event loop); one that only writes memory is cheaper at once,
     * answering without waiting for the rest of the pass */
    store_batch(s->store, o.sync_commits);
    pol->store = s->store;
    return 0;
}

/* log_flush_cb - held log lines go out at most LOG_HOLD_MS late */
#define LOG_HOLD_MS	10

static void log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    log_flush();
}

/*
 * run_loop - the event loop, with work done once per pass: with group
 * commit the writes of every decision of the pass are committed together
 * (their answers go out right after).  Log lines are held and written
 * when 64 KB have gathered or LOG_HOLD_MS after the first, whichever
 * comes first: under load one write(2) per few hundred lines.
 */
static void run_loop(struct server_ctx *s)
{
    struct event *flush_ev = evtimer_new(s->base, log_flush_cb, NULL);
    const struct timeval hold = {0, LOG_HOLD_MS * 1000};

    if (flush_ev == NULL)
	msg_fatal("cannot create the log flush timer");
    log_hold_lines(1);
    while (!event_base_got_exit(s->base) && !event_base_got_break(s->base)) {
	if (event_base_loop(s->base, EVLOOP_ONCE) != 0)
	    break;
	if (s->store)
	    while (store_commit(s->store) > 0)
		 /* answers whose records are now committed went out */ ;
	if (log_held() && !evtimer_pending(flush_ev, NULL))
	    evtimer_add(flush_ev, &hold);
    }
    log_hold_lines(0);
    event_free(flush_ev);
}

/* store_cb_timer - flush to disk, and one small step of expiry */
static void store_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server_ctx *s = arg;
    long    n;

    (void) fd;
    (void) what;
    if (s->store == NULL)
	return;
    n = greylist_expire_step(s->store, s->pol->conf, (long long) time(NULL), &s->gl_cursor,
			     config_int(s->pol->conf, P_GL_EXPIRE_BATCH));
    if (n > 0)
	msg_info("greylist: expired %ld records", n);
    if (++s->sync_ticks >= config_int(s->pol->conf, P_STORE_SYNC_INTERVAL)) {
	s->sync_ticks = 0;
	store_sync(s->store);
    }
}

/*
 * drop_privileges - become the configured user after the sockets are bound:
 * supplementary groups, then the group, then the user, every step checked,
 * and a check that root cannot be regained.  The state directory is handed
 * to that user first, so the database opens after the drop.
 */
static void drop_privileges(const struct config *conf)
{
    const char *name = config_str(conf, P_RUN_USER);
    struct passwd *pw;
    const char *dir = config_str(conf, P_DATA_DIR);

    if (*name == 0)
	return;
    if ((pw = getpwnam(name)) == NULL)
	msg_fatal("%s: user: unknown user \"%s\"", config_where(conf, P_RUN_USER), name);
    if (getuid() != 0 && geteuid() != 0) {
	if (geteuid() == pw->pw_uid)
	    return;
	msg_fatal("user = %s: only root can change to that user", name);
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
	msg_fatal("data_directory %s: %s", dir, strerror(errno));
    {
	static const char *const files[] = {"", "/data.mdb", "/lock.mdb"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
	    char    path[4096];

	    snprintf(path, sizeof(path), "%s%s", dir, files[i]);
	    if (chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
		msg_fatal("chown %s: %s", path, strerror(errno));
	}
    }
    if (setgroups(1, &pw->pw_gid) < 0)
	msg_fatal("setgroups: %s", strerror(errno));
    if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
	msg_fatal("setresgid(%ld): %s", (long) pw->pw_gid, strerror(errno));
    if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
	msg_fatal("setresuid(%ld): %s", (long) pw->pw_uid, strerror(errno));
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
	msg_fatal("privilege drop to %s failed: root could be regained", name);
    msg_info("running as user %s (uid %ld)", name, (long) pw->pw_uid);
}

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

/* server_run - serve until stopped */
int     server_run(const char *config_path, struct policy *pol)
{
    struct server_ctx s;
    struct event *ev_hup, *ev_term, *ev_int, *ev_refresh, *ev_store;
    struct timeval tv;

    memset(&s, 0, sizeof(s));
    s.config_path = config_path;
    s.pol = pol;
    signal(SIGPIPE, SIG_IGN);
    s.conn_limit = config_int(pol->conf, P_CONN_LIMIT);	/* not reloadable */
    raise_nofile(s.conn_limit + 64);
    if ((s.base = event_base_new()) == NULL)
	msg_fatal("cannot create event base");
    open_listeners(&s);
    {
	char    why[256];

	s.dns = dns_new(s.base, config_str(pol->conf, P_DNS_RESOLVER),
			(int) config_int(pol->conf, P_DNS_TIMEOUT) * 1000,
			(size_t) config_int(pol->conf, P_DNS_CACHE), why, sizeof(why));
	if (s.dns == NULL)
	    msg_fatal("%s", why);
	pol->dns = s.dns;
    }
    drop_privileges(pol->conf);
    store_attach(&s, pol, 1);
    ev_store = event_new(s.base, -1, EV_PERSIST, store_timer_cb, &s);
    tv.tv_sec = 1;
    tv.tv_usec = 0;
    event_add(ev_store, &tv);
    ev_hup = evsignal_new(s.base, SIGHUP, signal_cb, &s);
    ev_term = evsignal_new(s.base, SIGTERM, signal_cb, &s);
    ev_int = evsignal_new(s.base, SIGINT, signal_cb, &s);
    event_add(ev_hup, NULL);
    event_add(ev_term, NULL);
    event_add(ev_int, NULL);
    ev_refresh = event_new(s.base, -1, EV_PERSIST, refresh_cb, &s);
    tv.tv_sec = config_int(pol->conf, P_TABLE_CHECK);
    tv.tv_usec = 0;
    event_add(ev_refresh, &tv);
    msg_info("mxshield ready: configuration %s", config_path ? config_path : "(embedded default)");

    run_loop(&s);

    if (s.nconns)
	msg_warn("stopped with %zu connections still open", s.nconns);
    msg_info("stopped after %lu requests", s.requests);
    /* their evaluations go first: nothing may resume once the store,
     * the policy or the resolver is gone (deleting unbound's context
     * answers every query still out) */
    while (s.conns)
	conn_abort(s.conns);
    if (!s.stopping)
	close_listeners(&s);
    if (s.accept_resume)
	event_free(s.accept_resume);
    event_free(ev_hup);
    event_free(ev_term);
    event_free(ev_int);
    event_free(ev_refresh);
    event_free(ev_store);
    policy_unref(s.pol);
    store_close(s.store);
    dns_free(s.dns);
    event_base_free(s.base);
    return 0;
}
