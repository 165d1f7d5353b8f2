/*
 * control.c - the control socket: one command per connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "conf/config.h"
#include "control/control.h"
#include "daemon/daemon.h"
#include "net/listen.h"
#include "net/stream.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define CONTROL_TIMEOUT	10		/* seconds to send the command or read */

struct control {
    struct daemon *d;
    struct ctl_conn *conns;
    size_t  nconns;
    int     stopping;
    struct timeval timeout;
};

struct ctl_conn {
    struct ctl_conn *prev, *next;
    struct control *ctl;
    struct stream *st;
};

/* ctl_free - release one connection */
static void ctl_free(struct ctl_conn *c)
{
    struct control *ctl = c->ctl;

    stream_free(c->st);
    if (c->prev)
	c->prev->next = c->next;
    else
	ctl->conns = c->next;
    if (c->next)
	c->next->prev = c->prev;
    free(c);
    ctl->nconns--;
    if (ctl->stopping && ctl->nconns == 0)
	daemon_drained(ctl->d);
}

/* ctl_reply - answer one line and close */
static int ctl_reply(struct ctl_conn *c, const char *text)
{
    stream_write(c->st, text, strlen(text));
    return stream_close_after_write(c->st);
}

/* ctl_input - the command line, once it is complete */
static int ctl_input(void *ctx)
{
    struct ctl_conn *c = ctx;
    size_t  len;
    char   *in = stream_in(c->st, &len);
    char   *nl = memchr(in, '\n', len);
    struct buf out;
    int     rc;

    if (stream_closing(c->st))
	return 0;
    if (nl == NULL) {
	if (len > CONTROL_LINE_MAX)
	    return ctl_reply(c, "error: command longer than 256 bytes\n");
	return 0;
    }
    if ((size_t) (nl - in) > CONTROL_LINE_MAX)
	return ctl_reply(c, "error: command longer than 256 bytes\n");
    *nl = 0;
    if (nl > in && nl[-1] == '\r')
	nl[-1] = 0;
    if (strcmp(in, "status") != 0)
	return ctl_reply(c, "error: unknown command (expected status)\n");
    buf_init(&out);
    buf_puts(&out, CONTROL_VERSION_LINE "\n");
    stats_render(&out);
    rc = ctl_reply(c, out.s);
    buf_free(&out);
    return rc;
}

/* ctl_drained - output went out: nothing more to read for this protocol */
static int ctl_drained(void *ctx)
{
    (void) ctx;
    return 0;
}

/* ctl_eof - the client hung up before a whole command */
static int ctl_eof(void *ctx)
{
    struct ctl_conn *c = ctx;

    ctl_free(c);
    return -1;
}

/* ctl_gone - the stream ended */
static void ctl_gone(void *ctx, enum stream_end why, int err)
{
    struct ctl_conn *c = ctx;

    if (why != STREAM_DONE && why != STREAM_IDLE_TIMEOUT)
	msg_info("control client: %s", strerror(err));
    ctl_free(c);
}

static const struct stream_ops ctl_stream_ops = {
    .input = ctl_input,
    .drained = ctl_drained,
    .eof = ctl_eof,
    .gone = ctl_gone,
};

/* ctl_accept - a new control client */
static void ctl_accept(void *ctx, int fd, const char *peer)
{
    struct control *ctl = ctx;
    struct ctl_conn *c = xcalloc(1, sizeof(*c));
    struct stream_limits lim;

    (void) peer;
    lim.idle = &ctl->timeout;
    lim.write = &ctl->timeout;
    lim.read_size = 1024;
    if ((c->st = stream_new(daemon_base(ctl->d), fd, &lim, &ctl_stream_ops, c)) == NULL) {
	msg_warn("control client: cannot set up its events; closing connection");
	close(fd);
	free(c);
	return;
    }
    c->ctl = ctl;
    c->next = ctl->conns;
    if (ctl->conns)
	ctl->conns->prev = c;
    ctl->conns = c;
    ctl->nconns++;
}

/*
 * ctl_drain - stop: a reply going out may finish; a client that has not
 * sent a whole command yet (a command is answered as soon as its line is
 * complete) is closed, as an idle policy client is, so that it cannot hold
 * the exit for the grace time.
 */
static void ctl_drain(void *ctx)
{
    struct control *ctl = ctx;

    ctl->stopping = 1;
    for (struct ctl_conn *c = ctl->conns, *next; c; c = next) {
	next = c->next;
	if (!stream_closing(c->st))
	    ctl_free(c);
    }
}

static size_t ctl_busy(void *ctx)
{
    return ((struct control *) ctx)->nconns;
}

/* ctl_close - exit: drop every connection */
static void ctl_close(void *ctx)
{
    struct control *ctl = ctx;

    while (ctl->conns)
	ctl_free(ctl->conns);
    free(ctl);
}

static const struct daemon_handler_ops control_ops = {
    .name = "control",
    .accept = ctl_accept,
    .drain = ctl_drain,
    .busy = ctl_busy,
    .close = ctl_close,
};

/* control_attach - bind control_socket, owner-only */
void    control_attach(struct daemon *d)
{
    const char *path = config_str(daemon_config(d), P_CONTROL_SOCKET);
    struct control *ctl;
    struct listen_unix lu;
    struct buf spec, err;

    if (*path == 0)
	return;
    ctl = xcalloc(1, sizeof(*ctl));
    ctl->d = d;
    ctl->timeout.tv_sec = CONTROL_TIMEOUT;
    lu.mode = 0600;
    lu.uid = (uid_t) -1;
    lu.gid = (gid_t) -1;
    buf_init(&spec);
    buf_init(&err);
    buf_printf(&spec, "unix:%s", path);
    if (daemon_listen(d, spec.s, &lu, &control_ops, ctl, &err) < 0) {
	msg_warn("%s: control_socket: %s; running without a control socket"
		 " (mxshield status will not reach this daemon)",
		 config_where(daemon_config(d), P_CONTROL_SOCKET), err.s);
	free(ctl);
    }
    buf_free(&spec);
    buf_free(&err);
}

/* control_query - the client side */
int     control_query(const char *path, const char *command, struct buf *out,
		              struct buf *err)
{
    struct sockaddr_un sun;
    struct timeval tv = {CONTROL_TIMEOUT, 0};
    struct buf reply;
    char    chunk[4096];
    ssize_t n;
    int     fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
	buf_printf(err, "control socket %s: path too long", path);
	return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	buf_printf(err, "socket: %s", strerror(errno));
	return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	|| setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
	buf_printf(err, "setsockopt: %s", strerror(errno));
	close(fd);
	return -1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	buf_printf(err, "cannot connect to %s: %s (is mxshield running with this"
		   " configuration?)", path, strerror(errno));
	close(fd);
	return -1;
    }
    buf_init(&reply);
    buf_puts(&reply, command);
    buf_putc(&reply, '\n');
    if (write(fd, reply.s, reply.len) != (ssize_t) reply.len) {
	buf_printf(err, "write to %s: %s", path, strerror(errno));
	buf_free(&reply);
	close(fd);
	return -1;
    }
    buf_reset(&reply);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
	buf_append(&reply, chunk, (size_t) n);
    if (n < 0) {
	buf_printf(err, "read from %s: %s", path,
		   errno == EAGAIN ? "timed out" : strerror(errno));
	buf_free(&reply);
	close(fd);
	return -1;
    }
    close(fd);

    const char *first_end = memchr(reply.s, '\n', reply.len);
    size_t  vlen = strlen(CONTROL_VERSION_LINE);

    if (first_end == NULL || (size_t) (first_end - reply.s) != vlen
	|| memcmp(reply.s, CONTROL_VERSION_LINE, vlen) != 0) {
	buf_printf(err, "%s: unexpected reply \"%.*s\"", path,
		   (int) (first_end ? first_end - reply.s : (long) reply.len), reply.s);
	buf_free(&reply);
	return -1;
    }
    buf_append(out, first_end + 1, reply.len - vlen - 1);
    buf_free(&reply);
    return 0;
}
