/*
 * nft.c - banned networks in nftables, through `nft -f -` (see nft.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ban/ban.h"
#include "ban/nft.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

#define NFT_TABLE	"inet mxshield"
#define NFT_OUT_MAX	4096		/* nft's error output kept for the log */
#define NFT_TIMEOUT_MS	10000		/* one run, from fork to exit */
#define NFT_STOP_MS	1000		/* what a run still out at stop is given */

struct ban_nft {
    struct strlist argv;		/* the command, then -f - */
    char   *ports;			/* "{ 25, 465, 587 }" or NULL */
    int     v4prefix, v6prefix;
    long    timeout_ms;			/* one run may take this long */
    struct buf batch;
    struct event_base *base;		/* runs in the background on this loop */
    struct nft_run *running;		/* the run that is out */
};

struct ban_nft *ban_nft_new(const char *command, const char *ports, int v4prefix, int v6prefix)
{
    struct ban_nft *n = xcalloc(1, sizeof(*n));
    struct strlist p;
    struct buf b;

    strlist_init(&n->argv);
    strlist_split(&n->argv, command, " \t");
    strlist_add(&n->argv, "-f");
    strlist_add(&n->argv, "-");
    strlist_init(&p);
    strlist_split(&p, ports, ", \t");
    if (p.n) {
	buf_init(&b);
	buf_puts(&b, "tcp dport { ");
	for (size_t i = 0; i < p.n; i++)
	    buf_printf(&b, "%s%s", i ? ", " : "", p.v[i]);
	buf_puts(&b, " } ");
	n->ports = buf_steal(&b);
    }
    strlist_free(&p);
    n->v4prefix = v4prefix;
    n->v6prefix = v6prefix;
    n->timeout_ms = NFT_TIMEOUT_MS;
    buf_init(&n->batch);
    return n;
}

static void run_finish(struct nft_run *r);

void    ban_nft_free(struct ban_nft *n)
{
    if (n == NULL)
	return;
    if (n->running) {
	/* the daemon stops with a run out: it ends (or is killed) first */
	run_finish(n->running);
	n->running = NULL;
    }
    strlist_free(&n->argv);
    free(n->ports);
    buf_free(&n->batch);
    free(n);
}

void    ban_nft_timeout(struct ban_nft *n, long ms)
{
    n->timeout_ms = ms;
}

const char *ban_nft_script(const struct ban_nft *n)
{
    return n->batch.s ? n->batch.s : "";
}

/* set_of - the set a network goes to */
static const char *set_of(const struct ban_nft *n, const struct cidr *net)
{
    if (net->net.family == AF_INET)
	return net->len == 32 ? "host4" : net->len == n->v4prefix ? "net4" : "wide4";
    return net->len == 128 ? "host6" : net->len == n->v6prefix ? "net6" : "wide6";
}

/* element - "192.0.2.9" or "2001:db8:1:2::/64" */
static void element(const struct cidr *net, struct buf *out)
{
    char    a[48];

    inet_format(&net->net, a, sizeof(a));
    if (net->len == (net->net.family == AF_INET ? 32 : 128))
	buf_puts(out, a);
    else
	buf_printf(out, "%s/%d", a, net->len);
}

/* ban_nft_setup - the table, its sets and chain, whatever was there */
int     ban_nft_setup(struct ban_nft *n, char *err, size_t errlen)
{
    static const struct {
	const char *name, *type, *flags, *match;
    } sets[] = {
	{"host4", "ipv4_addr", "timeout", "ip"},
	{"net4", "ipv4_addr", "interval, timeout", "ip"},
	{"wide4", "ipv4_addr", "interval, timeout", "ip"},
	{"host6", "ipv6_addr", "timeout", "ip6"},
	{"net6", "ipv6_addr", "interval, timeout", "ip6"},
	{"wide6", "ipv6_addr", "interval, timeout", "ip6"},
    };
    struct buf s;
    int     rc;

    buf_init(&s);
    buf_puts(&s, "add table " NFT_TABLE "\n");
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
	buf_printf(&s, "add set " NFT_TABLE " %s { type %s; flags %s; }\n",
		   sets[i].name, sets[i].type, sets[i].flags);
    buf_puts(&s, "add chain " NFT_TABLE " input { type filter hook input priority filter - 1;"
	     " policy accept; }\n");
    buf_puts(&s, "flush chain " NFT_TABLE " input\n");
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
	buf_printf(&s, "add rule " NFT_TABLE " input %s saddr @%s %sdrop\n",
		   sets[i].match, sets[i].name, n->ports ? n->ports : "");
    /* the setup goes first, with whatever is already queued */
    buf_puts(&s, ban_nft_script(n));
    buf_reset(&n->batch);
    buf_puts(&n->batch, s.s);
    buf_free(&s);
    rc = ban_nft_flush(n);
    if (rc < 0)
	snprintf(err, errlen, "cannot set up nftables table %s with \"%s\" (see the warning above)",
		 NFT_TABLE, n->argv.v[0]);
    return rc;
}

/* ban_nft_add - add, or refresh the timeout: add (no-op if present),
 * delete, add, all in the one batch */
void    ban_nft_add(struct ban_nft *n, const struct cidr *net, long seconds)
{
    const char *set = set_of(n, net);
    struct buf e;

    buf_init(&e);
    element(net, &e);
    buf_printf(&n->batch, "add element " NFT_TABLE " %s { %s timeout %lds }\n", set, e.s, seconds);
    buf_printf(&n->batch, "delete element " NFT_TABLE " %s { %s }\n", set, e.s);
    buf_printf(&n->batch, "add element " NFT_TABLE " %s { %s timeout %lds }\n", set, e.s, seconds);
    buf_free(&e);
}

/* ban_nft_del - remove (added first, so that a missing one is no error) */
void    ban_nft_del(struct ban_nft *n, const struct cidr *net)
{
    const char *set = set_of(n, net);
    struct buf e;

    buf_init(&e);
    element(net, &e);
    buf_printf(&n->batch, "add element " NFT_TABLE " %s { %s timeout 1s }\n", set, e.s);
    buf_printf(&n->batch, "delete element " NFT_TABLE " %s { %s }\n", set, e.s);
    buf_free(&e);
}

/* mono_ms - a monotonic clock in milliseconds */
static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One run of the command: the script on its standard input, its output
 * (both streams) kept, its exit status.  The whole exchange is bounded by
 * the timeout, after which the command (its process group) is killed and
 * the run fails, so that an nft that hangs, or that neither reads its
 * input nor lets its output be taken, cannot hold the daemon.
 */
struct nft_run {
    struct ban_nft *n;
    pid_t   pid;
    int     in, res;			/* our ends of its stdin, its stdout+stderr */
    struct buf script;
    size_t  off;			/* written so far */
    char    out[NFT_OUT_MAX];
    size_t  got;
    long long deadline;
    struct event *ev_in, *ev_res, *ev_wait;
};

/* spawn - start the command; 0, or -1 with the reason in r->out */
static int spawn(struct ban_nft *n, struct nft_run *r)
{
    int     in[2], res[2];

    r->n = n;
    r->in = r->res = -1;
    r->out[0] = 0;
    r->deadline = mono_ms() + n->timeout_ms;
    if (pipe2(in, O_CLOEXEC) < 0)
	return snprintf(r->out, sizeof(r->out), "pipe: %s", strerror(errno)), -1;
    if (pipe2(res, O_CLOEXEC) < 0) {
	close(in[0]);
	close(in[1]);
	return snprintf(r->out, sizeof(r->out), "pipe: %s", strerror(errno)), -1;
    }
    if ((r->pid = fork()) < 0) {
	snprintf(r->out, sizeof(r->out), "fork: %s", strerror(errno));
	close(in[0]), close(in[1]), close(res[0]), close(res[1]);
	return -1;
    }
    if (r->pid == 0) {
	signal(SIGPIPE, SIG_DFL);
	(void) setpgid(0, 0);			/* killed as a group if late */
	if (dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0 || dup2(res[1], 2) < 0)
	    _exit(126);
	/* nothing of the daemon's: its clients, resolver sockets, databases */
	(void) close_range(3, ~0U, 0);
	execvp(n->argv.v[0], n->argv.v);
	dprintf(2, "%s: %s", n->argv.v[0], strerror(errno));
	_exit(127);
    }
    (void) setpgid(r->pid, r->pid);		/* whichever of the two runs first */
    close(in[0]);
    close(res[1]);
    r->in = in[1];
    r->res = res[0];
    (void) fcntl(r->in, F_SETFL, O_NONBLOCK);
    (void) fcntl(r->res, F_SETFL, O_NONBLOCK);
    if (r->script.len == 0) {
	close(r->in);
	r->in = -1;
    }
    return 0;
}

/* feed - write what the command takes now; its stdin closed at the end */
static void feed(struct nft_run *r)
{
    ssize_t w = write(r->in, r->script.s + r->off, r->script.len - r->off);

    if (w > 0)
	r->off += (size_t) w;
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || r->off == r->script.len) {
	close(r->in);				/* all of it, or it will take no more */
	r->in = -1;
    }
}

/* drain - read what it said; the first NFT_OUT_MAX bytes are kept */
static void drain(struct nft_run *r)
{
    char    discard[512];
    ssize_t got;

    if (r->got + 1 < sizeof(r->out))
	got = read(r->res, r->out + r->got, sizeof(r->out) - r->got - 1);
    else
	got = read(r->res, discard, sizeof(discard));
    if (got > 0 && r->got + 1 < sizeof(r->out))
	r->got += (size_t) got;
    r->out[r->got] = 0;
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
	close(r->res);
	r->res = -1;
    }
}

/* reap - its exit status, waiting at most until the deadline; late: killed */
static int reap(struct nft_run *r, int block)
{
    int     status = 0;
    pid_t   w;

    if (r->in >= 0)
	close(r->in);
    if (r->res >= 0)
	close(r->res);
    r->in = r->res = -1;
    while ((w = waitpid(r->pid, &status, WNOHANG)) == 0 && block && r->deadline - mono_ms() > 0)
	(void) poll(NULL, 0, 10);
    if (w == 0 && (block || r->deadline - mono_ms() <= 0)) {
	(void) kill(-r->pid, SIGKILL);
	(void) kill(r->pid, SIGKILL);
	while ((w = waitpid(r->pid, &status, 0)) < 0 && errno == EINTR)
	    ;
	snprintf(r->out, sizeof(r->out), "no result within %ld ms: killed", r->n->timeout_ms);
	return -1;
    }
    if (w == 0)
	return -2;				/* still running */
    if (w < 0)
	return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* drive - the exchange to its end, blocking (the command line, and a run
 * still out when the daemon stops) */
static int drive(struct nft_run *r)
{
    long long left;
    int     rc;

    /* a command that exits without reading it all: EPIPE, not death (the
     * command line does not ignore SIGPIPE as the daemon does) */
    void    (*old) (int) = signal(SIGPIPE, SIG_IGN);

    while (r->res >= 0) {
	struct pollfd p[2] = {{r->res, POLLIN, 0}, {r->in, POLLOUT, 0}};

	if ((left = r->deadline - mono_ms()) <= 0)
	    break;
	if (poll(p, r->in >= 0 ? 2 : 1, (int) left) < 0 && errno != EINTR)
	    break;
	if (r->in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP)))
	    feed(r);
	if (p[0].revents & (POLLIN | POLLERR | POLLHUP))
	    drain(r);
    }
    rc = reap(r, 1);
    if (old != SIG_ERR)
	signal(SIGPIPE, old);
    return rc;
}

/* report - a failed run is a warning with what the command said */
static int report(const struct nft_run *r, int rc)
{
    char    out[NFT_OUT_MAX];

    if (rc == 0)
	return 0;
    snprintf(out, sizeof(out), "%s", r->out);
    for (char *p = out; *p; p++)
	if (*p == '\n')
	    *p = ' ';
    msg_warn("ban: %s -f - failed (status %d): %s", r->n->argv.v[0], rc, out);
    return -1;
}

static void run_free(struct nft_run *r)
{
    if (r->ev_in)
	event_free(r->ev_in);
    if (r->ev_res)
	event_free(r->ev_res);
    if (r->ev_wait)
	event_free(r->ev_wait);
    buf_free(&r->script);
    free(r);
}

static void start_async(struct ban_nft *n);

/* run_finish - a background run to its end here, blocking: the daemon
 * stops.  It gets at most NFT_STOP_MS more; the bans are in the store and
 * go back in the sets at the next start. */
static void run_finish(struct nft_run *r)
{
    long long stop = mono_ms() + NFT_STOP_MS;

    if (r->deadline > stop)
	r->deadline = stop;
    if (r->ev_in)
	event_del(r->ev_in);
    event_del(r->ev_res);
    event_del(r->ev_wait);
    report(r, drive(r));
    run_free(r);
}

/* done - the background run ended: the next batch, if one is waiting */
static void done(struct nft_run *r, int rc)
{
    struct ban_nft *n = r->n;

    report(r, rc);
    n->running = NULL;
    run_free(r);
    if (n->batch.len)
	start_async(n);
}

/* rearm - the timer again, in ms, never past the deadline */
static void rearm(struct nft_run *r, long long ms)
{
    long long left = r->deadline - mono_ms();

    if (ms > left)
	ms = left > 0 ? left : 0;
    struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) (ms % 1000) * 1000};

    event_add(r->ev_wait, &tv);
}

/* wait_step - the deadline, or (once the output has ended) has it exited? */
static void wait_step(struct nft_run *r)
{
    int     rc;

    if (r->deadline - mono_ms() <= 0) {
	done(r, reap(r, 1));			/* late: killed */
	return;
    }
    if (r->res >= 0) {
	rearm(r, r->deadline - mono_ms());	/* still talking: the deadline */
	return;
    }
    if ((rc = reap(r, 0)) != -2) {
	done(r, rc);
	return;
    }
    rearm(r, 20);				/* output closed, not yet exited */
}

/* on_wait - the command's timer, as the auto-ban's work */
static void on_wait(evutil_socket_t fd, short what, void *arg)
{
    const char *previous = log_service_enter(BAN_SERVICE);

    (void) fd;
    (void) what;
    wait_step(arg);
    log_service_leave(previous);
}

/* on_io - the command's pipes, on the loop */
static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct nft_run *r = arg;
    const char *previous = log_service_enter(BAN_SERVICE);

    (void) what;
    if (fd == r->in) {
	feed(r);
	if (r->in < 0)
	    event_del(r->ev_in);
    } else {
	drain(r);
	if (r->res < 0) {
	    event_del(r->ev_res);
	    if (r->ev_in)
		event_del(r->ev_in);
	    event_del(r->ev_wait);
	    wait_step(r);
	}
    }
    log_service_leave(previous);
}

/* start_async - the batch to a command of its own, in the background */
static void start_async(struct ban_nft *n)
{
    struct nft_run *r = xcalloc(1, sizeof(*r));

    buf_init(&r->script);
    buf_append(&r->script, n->batch.s, n->batch.len);
    buf_reset(&n->batch);
    if (spawn(n, r) < 0) {
	report(r, -1);
	run_free(r);
	return;
    }
    r->ev_res = event_new(n->base, r->res, EV_READ | EV_PERSIST, on_io, r);
    r->ev_wait = evtimer_new(n->base, on_wait, r);
    if (r->in >= 0)
	r->ev_in = event_new(n->base, r->in, EV_WRITE | EV_PERSIST, on_io, r);
    if (r->ev_res == NULL || r->ev_wait == NULL || (r->in >= 0 && r->ev_in == NULL)
	|| event_add(r->ev_res, NULL) < 0 || (r->ev_in && event_add(r->ev_in, NULL) < 0)) {
	/* no events: the run is finished here, as the command line does */
	report(r, drive(r));
	run_free(r);
	return;
    }
    rearm(r, n->timeout_ms);
    n->running = r;
}

int     ban_nft_flush(struct ban_nft *n)
{
    struct nft_run r = {0};
    int     rc;

    if (n->batch.len == 0)
	return 0;
    if (n->base) {
	if (n->running == NULL)
	    start_async(n);
	return 0;				/* else it follows the run that is out */
    }
    buf_init(&r.script);
    buf_append(&r.script, n->batch.s, n->batch.len);
    buf_reset(&n->batch);
    rc = spawn(n, &r) < 0 ? -1 : drive(&r);
    rc = report(&r, rc);
    buf_free(&r.script);
    return rc;
}

void    ban_nft_async(struct ban_nft *n, struct event_base *base)
{
    n->base = base;
}

int     ban_nft_busy(const struct ban_nft *n)
{
    return n->running != NULL;
}
