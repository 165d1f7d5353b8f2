/*
 * conn.c - one policy client connection.
 *
 * The parser is a small state machine over the bytes in the input
 * buffer: READING collects "name=value" lines into the request until an
 * empty line; EVALUATING waits for the engine (which may wait for DNS);
 * then the answer is queued and READING resumes with whatever the client
 * pipelined meanwhile.  CLOSING drains the output and closes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "conf/config.h"
#include "policy/conn.h"
#include "policy/request.h"
#include "policy/server_ctx.h"
#include "rules/engine.h"
#include "util/log.h"
#include "util/mem.h"

enum conn_state {
    CONN_READING,
    CONN_EVALUATING,
    CONN_CLOSING,
};

struct conn {
    struct conn *prev, *next;
    struct server_ctx *srv;
    struct bufferevent *bev;
    char    peer[128];
    enum conn_state state;
    struct request req;
    size_t  req_bytes;			/* bytes of the request so far */
    struct policy *pol;			/* policy of the request in flight */
    struct eval *eval;
    int     shutdown;			/* close after the current answer */
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* conn_free - release a connection */
static void conn_free(struct conn *c)
{
    if (c->eval)
	eval_free(c->eval);
    if (c->pol)
	policy_unref(c->pol);
    request_free(&c->req);
    bufferevent_free(c->bev);
    if (c->prev)
	c->prev->next = c->next;
    else
	c->srv->conns = c->next;
    if (c->next)
	c->next->prev = c->prev;
    server_conn_gone(c->srv, c);
    free(c);
}

/* conn_close_after_write - stop reading, flush the answers, then close */
static void conn_close_after_write(struct conn *c)
{
    c->state = CONN_CLOSING;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
	conn_free(c);
}

/* conn_limit - a client broke a limit: log it, drop the connection */
static void conn_limit(struct conn *c, const char *what, size_t got,
		               const char *param, long limit)
{
    msg_warn("policy client %s: %s (%zu > %s %ld); closing connection",
	     c->peer, what, got, param, limit);
    c->srv->limit_drops++;
    conn_close_after_write(c);		/* answers already due still go out */
}

/* conn_answer - queue the reply of the finished evaluation */
static void conn_answer(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    evbuffer_add_printf(out, "action=%s\n\n", eval_action(c->eval));
    if (msg_verbose)
	msg_info("policy client %s: action=%s", c->peer, eval_action(c->eval));
    eval_free(c->eval);
    c->eval = NULL;
    policy_unref(c->pol);
    c->pol = NULL;
    request_reset(&c->req);
    c->req_bytes = 0;
    c->srv->requests++;
    c->state = CONN_READING;
}

/* conn_wakeup - a lookup the evaluation waited for has completed */
static void conn_wakeup(void *arg)
{
    struct conn *c = arg;

    if (c->state != CONN_EVALUATING || eval_run(c->eval) != EVAL_DONE)
	return;
    conn_answer(c);
    if (c->shutdown) {
	conn_close_after_write(c);
	return;
    }
    bufferevent_enable(c->bev, EV_READ);
    conn_read_cb(c->bev, c);
}

/* conn_evaluate - start evaluating the request just completed */
static int conn_evaluate(struct conn *c)
{
    c->pol = c->srv->pol;
    policy_ref(c->pol);
    c->eval = eval_new(c->pol, &c->req, NULL);
    eval_set_wakeup(c->eval, conn_wakeup, c);
    c->state = CONN_EVALUATING;
    if (eval_run(c->eval) == EVAL_PENDING) {
	/* answer in order: read nothing more until this one is answered */
	bufferevent_disable(c->bev, EV_READ);
	return 0;
    }
    conn_answer(c);
    return 1;
}

/* conn_read_cb - parse whatever arrived, answering complete requests */
static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    const struct config *conf = c->srv->pol->conf;
    size_t  line_limit = (size_t) config_int(conf, P_LINE_LIMIT);
    size_t  attr_limit = (size_t) config_int(conf, P_ATTR_LIMIT);
    size_t  req_limit = (size_t) config_int(conf, P_REQ_LIMIT);

    while (c->state == CONN_READING) {
	size_t  len;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &len, EVBUFFER_EOL_LF);

	if (eol.pos < 0) {
	    size_t  pending = evbuffer_get_length(in);

	    /* no newline yet: an over-long line is refused before it ends */
	    if (pending > line_limit) {
		conn_limit(c, "line too long", pending, "policy_line_length_limit",
			   (long) line_limit);
		return;
	    }
	    if (c->req_bytes + pending > req_limit) {
		conn_limit(c, "request too large", c->req_bytes + pending,
			   "policy_request_size_limit", (long) req_limit);
		return;
	    }
	    return;
	}
	size_t  linelen = (size_t) eol.pos;

	if (linelen > line_limit) {
	    conn_limit(c, "line too long", linelen, "policy_line_length_limit",
		       (long) line_limit);
	    return;
	}
	c->req_bytes += linelen + len;
	if (c->req_bytes > req_limit) {
	    conn_limit(c, "request too large", c->req_bytes,
		       "policy_request_size_limit", (long) req_limit);
	    return;
	}
	char   *line = (char *) evbuffer_pullup(in, (ev_ssize_t) (linelen + len));

	/* strip a CR before the LF, as Postfix's reader tolerates */
	size_t  textlen = linelen;

	if (textlen > 0 && line[textlen - 1] == '\r')
	    textlen--;
	if (textlen == 0) {
	    evbuffer_drain(in, linelen + len);
	    if (c->req.nattrs == 0) {
		/* an empty request: nothing to evaluate, as Postfix never sends */
		msg_warn("policy client %s: empty request; closing connection", c->peer);
		conn_free(c);
		return;
	    }
	    if (!conn_evaluate(c))
		return;
	    if (c->shutdown) {
		conn_close_after_write(c);
		return;
	    }
	    continue;
	}
	if (memchr(line, 0, textlen) != NULL || request_add_line(&c->req, line, textlen) < 0) {
	    msg_warn("policy client %s: malformed attribute line (expected name=value);"
		     " closing connection", c->peer);
	    conn_close_after_write(c);
	    return;
	}
	evbuffer_drain(in, linelen + len);
	if (c->req.nattrs > attr_limit) {
	    conn_limit(c, "too many attributes", c->req.nattrs, "policy_attribute_limit",
		       (long) attr_limit);
	    return;
	}
    }
}

/* conn_write_cb - output drained */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void) bev;
    if (c->state == CONN_CLOSING)
	conn_free(c);
}

/* conn_event_cb - EOF, error or idle timeout */
static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void) bev;
    if (what & BEV_EVENT_TIMEOUT) {
	if (c->state == CONN_EVALUATING)
	    return;
	if (msg_verbose)
	    msg_info("policy client %s: idle timeout", c->peer);
	conn_free(c);
	return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)
	&& c->req.nattrs == 0) {
	/* the client finished sending: answer what it asked, then close */
	if (c->state == CONN_EVALUATING) {
	    c->shutdown = 1;
	    return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
	    conn_close_after_write(c);
	    return;
	}
    }
    if (what & BEV_EVENT_ERROR)
	msg_info("policy client %s: connection error: %s", c->peer,
		 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else if (c->req.nattrs > 0 && c->state == CONN_READING)
	msg_info("policy client %s: disconnected in the middle of a request", c->peer);
    conn_free(c);
}

/* conn_new - serve a new client */
struct conn *conn_new(struct server_ctx *s, evutil_socket_t fd, const char *peer)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    struct timeval idle;

    c->srv = s;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    request_init(&c->req);
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
	msg_warn("policy client %s: cannot create buffer; closing", peer);
	evutil_closesocket(fd);
	free(c);
	return NULL;
    }
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    idle.tv_sec = config_int(s->pol->conf, P_IDLE_TIMEOUT);
    idle.tv_usec = 0;
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
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
	conn_close_after_write(c);
}

/* conn_next - the next connection in the server's list */
struct conn *conn_next(const struct conn *c)
{
    return c->next;
}
