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

#include "ban/nft.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

#define NFT_TABLE	"inet mxshield"
#define NFT_OUT_MAX	4096		/* nft's error output kept for the log */
#define NFT_TIMEOUT_MS	10000		/* one run, from fork to exit */

struct ban_nft {
    struct strlist argv;		/* the command, then -f - */
    char   *ports;			/* "{ 25, 465, 587 }" or NULL */
    int     v4prefix, v6prefix;
    long    timeout_ms;			/* one run may take this long */
    struct buf batch;
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

void    ban_nft_free(struct ban_nft *n)
{
    if (n == NULL)
	return;
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

/* run - the command with the script on its standard input; its exit
 * status, its output (both streams) in out.  This runs on the daemon's
 * loop: the whole exchange is bounded by n->timeout_ms, after which the
 * command (its process group) is killed and the run fails, so that an
 * nft that hangs, or that neither reads its input nor lets its output
 * be taken, cannot stop the policy service for good. */
static int run(struct ban_nft *n, const char *script, size_t len, char *out, size_t outlen)
{
    int     in[2], res[2], status = 0;
    pid_t   pid, w;
    size_t  got = 0, off = 0;
    ssize_t r;
    long long deadline = mono_ms() + n->timeout_ms, left;
    char    discard[512];

    if (pipe2(in, O_CLOEXEC) < 0)
	return snprintf(out, outlen, "pipe: %s", strerror(errno)), -1;
    if (pipe2(res, O_CLOEXEC) < 0) {
	close(in[0]);
	close(in[1]);
	return snprintf(out, outlen, "pipe: %s", strerror(errno)), -1;
    }
    if ((pid = fork()) < 0) {
	snprintf(out, outlen, "fork: %s", strerror(errno));
	close(in[0]), close(in[1]), close(res[0]), close(res[1]);
	return -1;
    }
    if (pid == 0) {
	signal(SIGPIPE, SIG_DFL);
	(void) setpgid(0, 0);			/* killed as a group if late */
	if (dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0 || dup2(res[1], 2) < 0)
	    _exit(126);
	execvp(n->argv.v[0], n->argv.v);
	dprintf(2, "%s: %s", n->argv.v[0], strerror(errno));
	_exit(127);
    }
    (void) setpgid(pid, pid);			/* whichever of the two runs first */
    close(in[0]);
    close(res[1]);
    (void) fcntl(in[1], F_SETFL, O_NONBLOCK);
    (void) fcntl(res[0], F_SETFL, O_NONBLOCK);
    out[0] = 0;
    if (len == 0) {
	close(in[1]);
	in[1] = -1;
    }
    /* the script in, the output out, until the output ends */
    while (res[0] >= 0) {
	struct pollfd p[2] = {{res[0], POLLIN, 0}, {in[1], POLLOUT, 0}};

	if ((left = deadline - mono_ms()) <= 0)
	    break;
	if (poll(p, in[1] >= 0 ? 2 : 1, (int) left) < 0 && errno != EINTR)
	    break;
	if (in[1] >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
	    if ((r = write(in[1], script + off, len - off)) > 0)
		off += (size_t) r;
	    if ((r < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
		close(in[1]);			/* all of it, or it will take no more */
		in[1] = -1;
	    }
	}
	if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
	    if (got + 1 < outlen)
		r = read(res[0], out + got, outlen - got - 1);
	    else
		r = read(res[0], discard, sizeof(discard));	/* kept: the first part */
	    if (r > 0 && got + 1 < outlen)
		got += (size_t) r;
	    out[got] = 0;
	    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		close(res[0]);
		res[0] = -1;
	    }
	}
    }
    if (in[1] >= 0)
	close(in[1]);
    if (res[0] >= 0)
	close(res[0]);
    /* its exit, within what is left of the time */
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && deadline - mono_ms() > 0)
	(void) poll(NULL, 0, 10);
    if (w == 0) {
	(void) kill(-pid, SIGKILL);
	(void) kill(pid, SIGKILL);
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
	    ;
	snprintf(out, outlen, "no result within %ld ms: killed", n->timeout_ms);
	return -1;
    }
    if (w < 0)
	return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int     ban_nft_flush(struct ban_nft *n)
{
    char    out[NFT_OUT_MAX];
    int     rc;

    if (n->batch.len == 0)
	return 0;
    rc = run(n, n->batch.s, n->batch.len, out, sizeof(out));
    if (rc != 0) {
	for (char *p = out; *p; p++)
	    if (*p == '\n')
		*p = ' ';
	msg_warn("ban: %s -f - failed (status %d): %s", n->argv.v[0], rc, out);
    }
    buf_reset(&n->batch);
    return rc == 0 ? 0 : -1;
}
