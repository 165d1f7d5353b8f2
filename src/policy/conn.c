/*
 * conn.c - one policy client connection.
 *
 * The parser is a small state machine over the bytes in the input
 * buffer: READING collects "name=value" lines into the request until an
 * empty line; EVALUATING waits for the engine (which may wait for DNS);
 * then the answer is queued and READING resumes with whatever the client
 * pipelined meanwhile (read while EVALUATING, up to one read's worth, so
 * that a wait costs no epoll_ctl).  CLOSING drains the output and closes.
 *
 * I/O is done on the socket directly, not through a bufferevent: after
 * each batch of input the answers are written at once, and a write event
 * is armed only when the kernel did not take everything.  A request then
 * costs one read and one write system call, with no epoll_ctl calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/config.h"
#include "policy/conn.h"
#include "policy/request.h"
#include "daemon/daemon.h"
#include "policy/service.h"
#include "rules/engine.h"
#include "util/log.h"
#include "util/mem.h"

#define CONN_READ_SIZE	16384		/* bytes per read(2) */

enum conn_state {
    CONN_READING,
    CONN_EVALUATING,
    CONN_CLOSING,
};

struct conn {
    struct conn *prev, *next;
    struct policy_service *svc;
    evutil_socket_t fd;
    struct event *rev;			/* readable, or idle timeout */
    struct event *wev;			/* writable, armed when output waits */
    struct buf in;			/* bytes read, parsed from in_off */
    size_t  in_off;
    struct buf out;			/* answers, written from out_off */
    size_t  out_off;
    const struct timeval *idle;		/* a common timeout of the base */
    int     reading;			/* rev is armed */
    char    peer[128];
    enum conn_state state;
    struct request req;
    size_t  req_bytes;			/* bytes of the request so far */
    struct policy *pol;			/* policy of the request in flight */
    struct eval *eval;
    int     shutdown;			/* close after the current answer */
    int     eof;			/* the client sent all it will send */
    int     blocked;			/* the client does not read its answers */
};

/* conn_free - release a connection */
static void conn_free(struct conn *c)
{
    if (c->eval)
	eval_free(c->eval);
    if (c->pol)
	policy_unref(c->pol);
    request_free(&c->req);
    event_free(c->rev);
    event_free(c->wev);
    buf_free(&c->in);
    buf_free(&c->out);
    evutil_closesocket(c->fd);
    if (c->prev)
	c->prev->next = c->next;
    else
	c->svc->conns = c->next;
    if (c->next)
	c->next->prev = c->prev;
    service_conn_gone(c->svc, c);
    free(c);
}

/* conn_reading - arm or disarm the read event */
static void conn_reading(struct conn *c, int on)
{
    if (on && !c->reading)
	event_add(c->rev, c->idle);
    else if (!on && c->reading)
	event_del(c->rev);
    c->reading = on;
}

/* conn_flush - write what is queued; 0 ok, -1 connection freed */
static int conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
	ssize_t n = write(c->fd, c->out.s + c->out_off, c->out.len - c->out_off);

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    if (errno == EAGAIN || errno == EWOULDBLOCK) {
		/* the client is not reading: read nothing more from it until
		 * it has taken its answers, so that what is queued for it
		 * stays bounded; it has policy_idle_timeout to do so */
		if (!c->blocked) {
		    c->blocked = 1;
		    conn_reading(c, 0);
		    event_add(c->wev, c->idle);
		}
		return 0;
	    }
	    if (msg_verbose || c->state != CONN_CLOSING)
		msg_info("policy client %s: write error: %s", c->peer, strerror(errno));
	    conn_free(c);
	    return -1;
	}
	c->out_off += (size_t) n;
    }
    buf_reset(&c->out);
    c->out_off = 0;
    if (c->blocked) {
	c->blocked = 0;
	event_del(c->wev);
    }
    if (c->state == CONN_CLOSING) {
	conn_free(c);
	return -1;
    }
    return 0;
}

/* conn_close_after_write - stop reading; close once the output is out */
static int conn_close_after_write(struct conn *c)
{
    c->state = CONN_CLOSING;
    conn_reading(c, 0);
    return conn_flush(c);
}

/* conn_limit - a client broke a limit: log it, drop the connection */
static int conn_limit(struct conn *c, const char *what, size_t got,
		              const char *param, long limit)
{
    msg_warn("policy client %s: %s (%zu > %s %ld); closing connection",
	     c->peer, what, got, param, limit);
    c->svc->limit_drops++;
    (void) conn_close_after_write(c);	/* answers already due still go out */
    return -1;
}

/* conn_answer - queue the reply of the finished evaluation */
static void conn_answer(struct conn *c)
{
    const char *action = eval_action(c->eval);

    buf_append(&c->out, "action=", 7);
    buf_puts(&c->out, action);
    buf_append(&c->out, "\n\n", 2);
    if (msg_verbose)
	msg_info("policy client %s: action=%s", c->peer, action);
    eval_free(c->eval);
    c->eval = NULL;
    policy_unref(c->pol);
    c->pol = NULL;
    request_reset(&c->req);
    c->req_bytes = 0;
    c->svc->requests++;
    c->state = CONN_READING;
}

static int conn_parse(struct conn *c);

/* conn_eof - the client finished sending: answer what it asked, then close */
static void conn_eof(struct conn *c)
{
    if (c->req.nattrs > 0 || c->in.len > c->in_off) {
	msg_info("policy client %s: disconnected in the middle of a request", c->peer);
	conn_free(c);
	return;
    }
    (void) conn_close_after_write(c);
}

/*
 * conn_resume - after an answer went out: end the connection if the
 * client has finished, else read on; the idle time counts from now
 * (re-adding the armed event restarts its timeout).
 */
static void conn_resume(struct conn *c)
{
    if (c->state != CONN_READING || c->blocked)
	return;
    if (c->eof) {
	conn_eof(c);
	return;
    }
    event_add(c->rev, c->idle);
    c->reading = 1;
}

/* conn_wakeup - a lookup the evaluation waited for has completed */
static void conn_wakeup(void *arg)
{
    struct conn *c = arg;

    if (c->state != CONN_EVALUATING || eval_run(c->eval) != EVAL_DONE)
	return;
    conn_answer(c);
    if (c->shutdown) {
	(void) conn_close_after_write(c);
	return;
    }
    if (conn_parse(c) < 0)
	return;
    if (conn_flush(c) < 0)
	return;
    conn_resume(c);
}

/* conn_evaluate - start evaluating the request just completed */
static int conn_evaluate(struct conn *c)
{
    c->pol = daemon_policy(c->svc->d);
    policy_ref(c->pol);
    c->eval = eval_new(c->pol, &c->req, NULL);
    eval_set_wakeup(c->eval, conn_wakeup, c);
    c->state = CONN_EVALUATING;
    if (eval_run(c->eval) == EVAL_PENDING)
	return 0;			/* answers go out in order */
    conn_answer(c);
    return 1;
}

/*
 * conn_parse - answer the complete requests in the input buffer.
 * Returns 0, or -1 when the connection was closed or freed.
 */
static int conn_parse(struct conn *c)
{
    const struct config *conf = daemon_config(c->svc->d);
    size_t  line_limit = (size_t) config_int(conf, P_LINE_LIMIT);
    size_t  attr_limit = (size_t) config_int(conf, P_ATTR_LIMIT);
    size_t  req_limit = (size_t) config_int(conf, P_REQ_LIMIT);

    while (c->state == CONN_READING) {
	char   *line = c->in.s + c->in_off;
	size_t  pending = c->in.len - c->in_off;
	char   *nl = memchr(line, '\n', pending);

	if (nl == NULL) {
	    /* no newline yet: an over-long line is refused before it ends */
	    if (pending > line_limit)
		return conn_limit(c, "line too long", pending, "policy_line_length_limit",
				  (long) line_limit);
	    if (c->req_bytes + pending > req_limit)
		return conn_limit(c, "request too large", c->req_bytes + pending,
				  "policy_request_size_limit", (long) req_limit);
	    return 0;
	}
	size_t  linelen = (size_t) (nl - line);

	if (linelen > line_limit)
	    return conn_limit(c, "line too long", linelen, "policy_line_length_limit",
			      (long) line_limit);
	c->req_bytes += linelen + 1;
	if (c->req_bytes > req_limit)
	    return conn_limit(c, "request too large", c->req_bytes,
			      "policy_request_size_limit", (long) req_limit);
	c->in_off += linelen + 1;

	/* strip a CR before the LF, as Postfix's reader tolerates */
	size_t  textlen = linelen;

	if (textlen > 0 && line[textlen - 1] == '\r')
	    textlen--;
	if (textlen == 0) {
	    if (c->req.nattrs == 0) {
		/* an empty request: nothing to evaluate, as Postfix never sends */
		msg_warn("policy client %s: empty request; closing connection", c->peer);
		(void) conn_close_after_write(c);
		return -1;
	    }
	    if (!conn_evaluate(c))
		return 0;
	    if (c->shutdown) {
		(void) conn_close_after_write(c);
		return -1;
	    }
	    continue;
	}
	if (memchr(line, 0, textlen) != NULL || request_add_line(&c->req, line, textlen) < 0) {
	    msg_warn("policy client %s: malformed attribute line (expected name=value);"
		     " closing connection", c->peer);
	    (void) conn_close_after_write(c);
	    return -1;
	}
	if (c->req.nattrs > attr_limit)
	    return conn_limit(c, "too many attributes", c->req.nattrs, "policy_attribute_limit",
			      (long) attr_limit);
    }
    return 0;
}

/* conn_fill - read once into the input buffer; bytes read, 0 EOF, -1 */
static ssize_t conn_fill(struct conn *c)
{
    ssize_t n;

    /* drop what was parsed, then make room for one read */
    if (c->in_off > 0) {
	memmove(c->in.s, c->in.s + c->in_off, c->in.len - c->in_off);
	c->in.len -= c->in_off;
	c->in_off = 0;
    }
    buf_reserve(&c->in, CONN_READ_SIZE);
    do {
	n = read(c->fd, c->in.s + c->in.len, c->in.cap - c->in.len - 1);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
	c->in.len += (size_t) n;
	c->in.s[c->in.len] = 0;
    }
    return n;
}

/* conn_read_cb - input, end of input, or the idle timeout */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    ssize_t n;

    (void) fd;
    if (what & EV_TIMEOUT) {
	/* a client waiting for its answer is not idle (the lookups have
	 * their own timeouts); the persistent event re-arms itself */
	if (c->state == CONN_EVALUATING)
	    return;
	if (msg_verbose)
	    msg_info("policy client %s: idle timeout", c->peer);
	conn_free(c);
	return;
    }
    if (c->state == CONN_EVALUATING && c->in.len - c->in_off >= CONN_READ_SIZE) {
	/* enough pipelined: read more once the request in flight is answered */
	conn_reading(c, 0);
	return;
    }
    n = conn_fill(c);
    if (n < 0) {
	if (errno == EAGAIN || errno == EWOULDBLOCK)
	    return;
	msg_info("policy client %s: connection error: %s", c->peer, strerror(errno));
	conn_free(c);
	return;
    }
    if (n == 0) {
	c->eof = 1;
	conn_reading(c, 0);
	if (c->state == CONN_EVALUATING)
	    return;			/* after the answer */
	conn_eof(c);
	return;
    }
    if (c->state == CONN_EVALUATING)
	return;				/* parsed after the answer */
    if (conn_parse(c) < 0)
	return;
    (void) conn_flush(c);
}

/* conn_write_cb - the socket can take more output, or the write timed out */
static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void) fd;
    if (what & EV_TIMEOUT) {
	msg_info("policy client %s: write timeout", c->peer);
	conn_free(c);
	return;
    }
    if (conn_flush(c) < 0 || c->blocked)
	return;
    /* the client took its answers: the requests it sent meanwhile */
    if (conn_parse(c) < 0 || conn_flush(c) < 0)
	return;
    conn_resume(c);
}

/* conn_new - serve a new client */
struct conn *conn_new(struct policy_service *s, evutil_socket_t fd, const char *peer)
{
    struct conn *c = xcalloc(1, sizeof(*c));

    c->svc = s;
    c->fd = fd;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    request_init(&c->req);
    evutil_make_socket_nonblocking(fd);
    buf_init(&c->in);
    buf_init(&c->out);
    c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    if (c->rev == NULL || c->wev == NULL)
	msg_fatal("policy client %s: cannot create events", peer);
    c->idle = service_idle_timeout(s);
    conn_reading(c, 1);
    c->next = s->conns;
    if (s->conns)
	s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    return c;
}

/* conn_shutdown - close when idle; answer the request in flight first */
void    conn_shutdown(struct conn *c)
{
    if (c->state == CONN_EVALUATING) {
	c->shutdown = 1;
	return;
    }
    if (c->state == CONN_READING)
	(void) conn_close_after_write(c);
}

/* conn_abort - close at once: the server is going away */
void    conn_abort(struct conn *c)
{
    conn_free(c);
}

/* conn_next - the next connection in the server's list */
struct conn *conn_next(const struct conn *c)
{
    return c->next;
}
