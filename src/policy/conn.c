/*
 * conn.c - the policy delegation protocol on one client stream.
 *
 * The parser is a small state machine over the bytes in the stream's
 * input: READING collects "name=value" lines into the request until an
 * empty line; EVALUATING waits for the engine (which may wait for DNS),
 * with the stream held (it reads ahead one read's worth, then stops);
 * then the answer is queued and READING resumes with whatever the client
 * pipelined meanwhile.  CLOSING: the stream drains its output and ends.
 *
 * The I/O, back-pressure and timeouts are the stream's (net/stream.h);
 * every callback here is labelled for the daemon's stall warning.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "net/stream.h"
#include "policy/conn.h"
#include "policy/request.h"
#include "policy/service.h"
#include "rules/engine.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define CONN_READ_SIZE	16384		/* bytes per read(2) */
#define CONN_WORK	"policy client I/O and evaluation"

enum conn_state {
    CONN_READING,
    CONN_EVALUATING,
    CONN_CLOSING,
};

struct conn {
    struct conn *prev, *next;
    struct policy_service *svc;
    struct stream *st;
    char    peer[128];
    enum conn_state state;
    struct request req;
    size_t  req_bytes;			/* bytes of the request so far */
    struct policy *pol;			/* policy of the request in flight */
    struct eval *eval;
    int     shutdown;			/* close after the current answer */
    struct timespec t0;			/* the request in flight began to wait */
    int     timed;			/* ... t0 is set */
};

/* conn_free - release a connection */
static void conn_free(struct conn *c)
{
    if (c->eval)
	eval_free(c->eval);
    if (c->pol)
	policy_unref(c->pol);
    request_free(&c->req);
    stream_free(c->st);
    if (c->prev)
	c->prev->next = c->next;
    else
	c->svc->conns = c->next;
    if (c->next)
	c->next->prev = c->prev;
    service_conn_gone(c->svc, c);
    free(c);
}

/* conn_gone - the stream ended: log why, free the connection */
static void conn_gone(void *ctx, enum stream_end why, int err)
{
    struct conn *c = ctx;

    switch (why) {
    case STREAM_DONE:
	break;
    case STREAM_IDLE_TIMEOUT:
	if (msg_verbose)
	    msg_info("policy client %s: idle timeout", c->peer);
	break;
    case STREAM_WRITE_TIMEOUT:
	msg_info("policy client %s: write timeout", c->peer);
	break;
    case STREAM_READ_ERROR:
	msg_info("policy client %s: connection error: %s", c->peer, strerror(err));
	break;
    case STREAM_WRITE_ERROR:
	msg_info("policy client %s: write error: %s", c->peer, strerror(err));
	break;
    }
    conn_free(c);
}

/* conn_close_after_write - stop reading; close once the output is out */
static int conn_close_after_write(struct conn *c)
{
    c->state = CONN_CLOSING;
    return stream_close_after_write(c->st);
}

/* conn_limit - a client broke a limit: log it, drop the connection */
static int conn_limit(struct conn *c, const char *what, size_t got,
		              const char *param, long limit)
{
    msg_warn("policy client %s: %s (%zu > %s %ld); closing connection",
	     c->peer, what, got, param, limit);
    c->svc->limit_drops++;
    stat_inc_l(STAT_LIMIT_DROPS, param);
    (void) conn_close_after_write(c);	/* answers already due still go out */
    return -1;
}

/* conn_answer - queue the reply of the finished evaluation */
static void conn_answer(struct conn *c)
{
    const char *action = eval_action(c->eval);
    double  took = 0;

    /* a clock read costs a tenth of a whole answer on some machines: only
     * a decision that waited is timed; one made at once counts as 0 */
    if (c->timed) {
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double) (t1.tv_sec - c->t0.tv_sec) + (double) (t1.tv_nsec - c->t0.tv_nsec) * 1e-9;
	c->timed = 0;
    }
    stat_observe(STAT_DECISION_SECONDS, took);
    stream_write(c->st, "action=", 7);
    stream_write(c->st, action, strlen(action));
    stream_write(c->st, "\n\n", 2);
    if (msg_verbose)
	msg_info("policy client %s: action=%s", c->peer, action);
    eval_free(c->eval);
    c->eval = NULL;
    policy_unref(c->pol);
    c->pol = NULL;
    request_reset(&c->req);
    c->req_bytes = 0;
    c->svc->requests++;
    stat_inc(STAT_ANSWERS);
    c->state = CONN_READING;
}

static int conn_parse(struct conn *c);

/* conn_eof - the client finished sending: answer what it asked, then close */
static int conn_eof(void *ctx)
{
    struct conn *c = ctx;
    size_t  pending;

    (void) stream_in(c->st, &pending);
    if (c->req.nattrs > 0 || pending > 0) {
	msg_info("policy client %s: disconnected in the middle of a request", c->peer);
	conn_free(c);
	return -1;
    }
    return conn_close_after_write(c);
}

/* conn_resume - after answers went out: read on (or end) */
static int conn_resume(struct conn *c)
{
    if (c->state != CONN_READING)
	return 0;
    return stream_resume(c->st);
}

/* conn_wakeup - a lookup the evaluation waited for has completed */
static void conn_wakeup(void *arg)
{
    struct conn *c = arg;
    struct daemon_work w;

    if (c->state != CONN_EVALUATING || eval_run(c->eval) != EVAL_DONE)
	return;
    daemon_work_begin(&w, CONN_WORK);
    conn_answer(c);
    if (c->shutdown)
	(void) conn_close_after_write(c);
    else if (conn_parse(c) == 0 && stream_flush(c->st) == 0)
	(void) conn_resume(c);
    daemon_work_end(&w);
}

/* conn_evaluate - evaluate the request just completed; 1 answered, 0 pending */
static int conn_evaluate(struct conn *c)
{
    c->pol = daemon_policy(c->svc->d);
    policy_ref(c->pol);
    c->eval = eval_new(c->pol, &c->req, NULL);
    eval_set_wakeup(c->eval, conn_wakeup, c);
    c->state = CONN_EVALUATING;
    if (eval_run(c->eval) == EVAL_PENDING) {
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->timed = 1;
	stream_hold(c->st);		/* answers go out in order */
	return 0;
    }
    conn_answer(c);
    return 1;
}

/*
 * conn_parse - answer the complete requests in the input.
 * Returns 0, or -1 when the connection was closed or freed.  The input
 * is walked with a local offset and consumed once, before anything else
 * can look at it.
 */
static int conn_parse(struct conn *c)
{
    const struct config *conf = daemon_config(c->svc->d);
    size_t  line_limit = (size_t) config_int(conf, P_LINE_LIMIT);
    size_t  attr_limit = (size_t) config_int(conf, P_ATTR_LIMIT);
    size_t  req_limit = (size_t) config_int(conf, P_REQ_LIMIT);
    size_t  avail, used = 0;
    char   *in = stream_in(c->st, &avail);

#define CONSUMED() (stream_consume(c->st, used), used = 0)

    while (c->state == CONN_READING) {
	char   *line = in + used;
	size_t  pending = avail - used;
	char   *nl = memchr(line, '\n', pending);

	if (nl == NULL) {
	    CONSUMED();
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

	if (linelen > line_limit) {
	    CONSUMED();
	    return conn_limit(c, "line too long", linelen, "policy_line_length_limit",
			      (long) line_limit);
	}
	c->req_bytes += linelen + 1;
	if (c->req_bytes > req_limit) {
	    CONSUMED();
	    return conn_limit(c, "request too large", c->req_bytes,
			      "policy_request_size_limit", (long) req_limit);
	}
	used += linelen + 1;

	/* strip a CR before the LF, as Postfix's reader tolerates */
	size_t  textlen = linelen;

	if (textlen > 0 && line[textlen - 1] == '\r')
	    textlen--;
	if (textlen == 0) {
	    CONSUMED();
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
	    in = stream_in(c->st, &avail);
	    continue;
	}
	if (memchr(line, 0, textlen) != NULL || request_add_line(&c->req, line, textlen) < 0) {
	    CONSUMED();
	    msg_warn("policy client %s: malformed attribute line (expected name=value);"
		     " closing connection", c->peer);
	    (void) conn_close_after_write(c);
	    return -1;
	}
	if (c->req.nattrs > attr_limit) {
	    CONSUMED();
	    return conn_limit(c, "too many attributes", c->req.nattrs, "policy_attribute_limit",
			      (long) attr_limit);
	}
    }
    CONSUMED();
    return 0;
#undef CONSUMED
}

/* conn_input - the stream read something */
static int conn_input(void *ctx)
{
    struct conn *c = ctx;
    struct daemon_work w;
    int     rc;

    daemon_work_begin(&w, CONN_WORK);
    rc = conn_parse(c);
    daemon_work_end(&w);
    return rc;
}

/* conn_drained - the client took its answers: the requests it sent meanwhile */
static int conn_drained(void *ctx)
{
    struct conn *c = ctx;
    struct daemon_work w;
    int     rc;

    daemon_work_begin(&w, CONN_WORK);
    rc = conn_parse(c);
    if (rc == 0)
	rc = stream_flush(c->st);
    if (rc == 0)
	rc = conn_resume(c);
    daemon_work_end(&w);
    return rc;
}

static const struct stream_ops conn_stream_ops = {
    .input = conn_input,
    .drained = conn_drained,
    .eof = conn_eof,
    .gone = conn_gone,
};

/* conn_new - serve a new client; NULL (fd closed) when it cannot be */
struct conn *conn_new(struct policy_service *s, evutil_socket_t fd, const char *peer)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    struct stream_limits lim;

    c->svc = s;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    lim.idle = service_idle_timeout(s);
    lim.write = lim.idle;		/* a client has as long to read as to write */
    lim.read_size = CONN_READ_SIZE;
    if ((c->st = stream_new(s->base, fd, &lim, &conn_stream_ops, c)) == NULL) {
	msg_warn("policy client %s: cannot set up its events; closing connection", peer);
	evutil_closesocket(fd);
	free(c);
	return NULL;
    }
    request_init(&c->req);
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

/* conn_abort - close at once: the daemon is going away */
void    conn_abort(struct conn *c)
{
    conn_free(c);
}

/* conn_next - the next connection in the service's list */
struct conn *conn_next(const struct conn *c)
{
    return c->next;
}
