/*
 * server.c - the metrics listener's connections (see http.h).
 *
 * One request per connection: the head is read (net/stream.h does the
 * I/O), parsed by http/parse.c, answered, and the connection closed once
 * the answer is out.  A deadline timer per connection, set at accept,
 * bounds the whole exchange: the stream's idle timeout alone would let a
 * client that sends a byte now and then hold its connection for ever.
 * Answers are built in full before they are queued (the largest, the
 * registry, is a few hundred kilobytes at most: STAT_MAX_SERIES per
 * family).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "http/history.h"
#include "http/http.h"
#include "http/page.h"
#include "http/parse.h"
#include "net/stream.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define HTTP_READ_SIZE	4096
#define HTTP_WORK	"metrics client"
#define HTTP_SERVICE	"metrics"	/* its log lines: mxshield/metrics */

struct http_service {
    struct daemon *d;
    struct http_conn *conns;
    size_t  nconns;
    int     stopping;
    struct daemon_timer *tick;		/* history samples */
    struct history hist;
};

struct http_conn {
    struct http_conn *prev, *next;
    struct http_service *svc;
    struct stream *st;
    struct event *deadline;
    struct timeval timeout;
    struct http_limits lim;
    size_t  seen;			/* parse.h: bytes searched for the head's end */
    int     answered;
    char    peer[128];
};

/* conn_free - release a connection */
static void conn_free(struct http_conn *c)
{
    struct http_service *svc = c->svc;

    if (c->deadline)
	event_free(c->deadline);
    stream_free(c->st);
    if (c->prev)
	c->prev->next = c->next;
    else
	svc->conns = c->next;
    if (c->next)
	c->next->prev = c->prev;
    free(c);
    svc->nconns--;
    if (svc->stopping && svc->nconns == 0)
	daemon_drained(svc->d);
}

/* status_text - the reason phrase of the codes we send */
static const char *status_text(int code)
{
    switch (code) {
    case 200:
	return "OK";
    case 400:
	return "Bad Request";
    case 404:
	return "Not Found";
    case 405:
	return "Method Not Allowed";
    case 414:
	return "URI Too Long";
    case 431:
	return "Request Header Fields Too Large";
    case 503:
	return "Service Unavailable";
    case 505:
	return "HTTP Version Not Supported";
    }
    return "Error";
}

/* Content types */
#define TYPE_TEXT	"text/plain; charset=utf-8"
#define TYPE_PROM	"text/plain; version=0.0.4; charset=utf-8"
#define TYPE_HTML	"text/html; charset=utf-8"
#define TYPE_JSON	"application/json"

/* The page needs nothing from elsewhere; say so to the browser. */
#define PAGE_CSP	"default-src 'none'; script-src 'unsafe-inline'; " \
			"style-src 'unsafe-inline'; connect-src 'self'; img-src data:; " \
			"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* http_head - status line and headers of an answer */
static void http_head(struct buf *out, int code, const char *type, size_t len)
{
    buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	       "Connection: close\r\nCache-Control: no-store\r\n"
	       "X-Content-Type-Options: nosniff\r\n", code, status_text(code), type, len);
    if (code == 405)
	buf_puts(out, "Allow: GET, HEAD\r\n");
    if (strcmp(type, TYPE_HTML) == 0)
	buf_puts(out, "Content-Security-Policy: " PAGE_CSP "\r\n");
    buf_puts(out, "\r\n");
}

/* conn_reply - queue an answer and close after it; 0 or -1 (stream ended) */
static int conn_reply(struct http_conn *c, int code, const char *type,
		              const char *body, size_t len, int head_only)
{
    struct buf out;

    buf_init(&out);
    http_head(&out, code, type, len);
    stream_write(c->st, out.s, out.len);
    buf_free(&out);
    if (!head_only)
	stream_write(c->st, body, len);
    c->answered = 1;
    return stream_close_after_write(c->st);
}

/* conn_error - an error answer with a one-line text body */
static int conn_error(struct http_conn *c, int code)
{
    char    text[80];
    int     n = snprintf(text, sizeof(text), "%d %s\n", code, status_text(code));

    return conn_reply(c, code, TYPE_TEXT, text, (size_t) n, 0);
}

/* conn_route - answer a parsed request */
static int conn_route(struct http_conn *c, const struct http_req *r)
{
    struct buf body;
    const char *page;
    size_t  len;
    int     rc;

    if (strcmp(r->path, "/") == 0) {
	page = http_page(&len);
	return conn_reply(c, 200, TYPE_HTML, page, len, r->head);
    }
    buf_init(&body);
    if (strcmp(r->path, "/metrics") == 0) {
	stats_render_prometheus(&body);
	rc = conn_reply(c, 200, TYPE_PROM, body.s, body.len, r->head);
    } else if (strcmp(r->path, "/dashboard.json") == 0) {
	http_dashboard_json(&c->svc->hist, &body);
	rc = conn_reply(c, 200, TYPE_JSON, body.s, body.len, r->head);
    } else {
	rc = conn_error(c, 404);
    }
    buf_free(&body);
    return rc;
}

/* conn_input - more of the request head */
static int conn_input(void *ctx)
{
    struct http_conn *c = ctx;
    struct http_req req;
    size_t  len;
    char   *in = stream_in(c->st, &len);
    int     rc;

    if (c->answered)
	return 0;			/* what follows the head is not read */
    rc = http_parse(in, len, &c->lim, &req, &c->seen);
    if (rc == HTTP_INCOMPLETE)
	return 0;
    if (rc != HTTP_OK) {
	if (rc == 431)
	    stat_inc_l(STAT_LIMIT_DROPS, req.headers > c->lim.headers_max
		       ? "metrics_header_limit" : "metrics_request_size_limit");
	msg_info("metrics client %s: request refused: %d %s", c->peer, rc, status_text(rc));
	return conn_error(c, rc);
    }
    return conn_route(c, &req);
}

static int conn_drained(void *ctx)
{
    (void) ctx;
    return 0;
}

/* conn_eof - the client stopped sending before a whole head */
static int conn_eof(void *ctx)
{
    struct http_conn *c = ctx;

    if (c->answered)
	return 0;
    conn_free(c);
    return -1;
}

/* conn_gone - the stream ended */
static void conn_gone(void *ctx, enum stream_end why, int err)
{
    struct http_conn *c = ctx;

    if (why == STREAM_READ_ERROR || why == STREAM_WRITE_ERROR)
	msg_info("metrics client %s: %s", c->peer, strerror(err));
    conn_free(c);
}

static const struct stream_ops http_stream_ops = {
    .input = conn_input,
    .drained = conn_drained,
    .eof = conn_eof,
    .gone = conn_gone,
};

/* conn_deadline - metrics_timeout after accept: the client had its time */
static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    const char *previous = log_service_enter(HTTP_SERVICE);

    (void) fd;
    (void) what;
    msg_info("metrics client %s: %s after %ld s; closing connection", c->peer,
	     c->answered ? "answer not taken" : "no whole request", (long) c->timeout.tv_sec);
    stat_inc_l(STAT_LIMIT_DROPS, "metrics_timeout");
    conn_free(c);
    log_service_leave(previous);
}

/* refuse - past metrics_connection_limit: say so if the socket takes it */
static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
	TYPE_TEXT "\r\nContent-Length: 24\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
	"503 Service Unavailable\n";

    ssize_t n = write(fd, busy, sizeof(busy) - 1);

    (void) n;				/* a socket that does not take it is closed anyway */
    close(fd);
}

/* http_accept - a new metrics client */
static void http_accept(void *ctx, int fd, const char *peer)
{
    struct http_service *svc = ctx;
    const struct config *conf = daemon_config(svc->d);
    struct http_conn *c;
    struct stream_limits lim;

    if (svc->nconns >= (size_t) config_int(conf, P_METRICS_CONN_LIMIT)) {
	msg_warn("metrics client %s: refused: %zu connections open (metrics_connection_limit)",
		 peer, svc->nconns);
	stat_inc_l(STAT_LIMIT_DROPS, "metrics_connection_limit");
	refuse(fd);
	return;
    }
    c = xcalloc(1, sizeof(*c));
    c->svc = svc;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->timeout.tv_sec = config_int(conf, P_METRICS_TIMEOUT);
    c->lim.head_max = (size_t) config_int(conf, P_METRICS_REQ_LIMIT);
    c->lim.headers_max = (size_t) config_int(conf, P_METRICS_HEADER_LIMIT);
    lim.idle = &c->timeout;
    lim.write = &c->timeout;
    lim.read_size = HTTP_READ_SIZE;
    c->deadline = evtimer_new(daemon_base(svc->d), conn_deadline, c);
    if (c->deadline == NULL || evtimer_add(c->deadline, &c->timeout) < 0
	|| (c->st = stream_new(daemon_base(svc->d), fd, &lim, &http_stream_ops, c)) == NULL) {
	msg_warn("metrics client %s: cannot set up its events; closing connection", peer);
	if (c->deadline)
	    event_free(c->deadline);
	close(fd);
	free(c);
	return;
    }
    c->next = svc->conns;
    if (svc->conns)
	svc->conns->prev = c;
    svc->conns = c;
    svc->nconns++;
}

/* http_drain - stop: answers going out finish; unanswered clients are closed */
static void http_drain(void *ctx)
{
    struct http_service *svc = ctx;

    svc->stopping = 1;
    daemon_timer_set(svc->tick, 0);
    for (struct http_conn *c = svc->conns, *next; c; c = next) {
	next = c->next;
	if (!c->answered)
	    conn_free(c);
    }
}

static size_t http_busy(void *ctx)
{
    return ((struct http_service *) ctx)->nconns;
}

/* http_close - exit: drop every connection */
static void http_close(void *ctx)
{
    struct http_service *svc = ctx;

    while (svc->conns)
	conn_free(svc->conns);
    daemon_timer_free(svc->tick);
    free(svc);
}

/* http_tick - one sample of the dashboard's history */
static void http_tick(void *arg)
{
    struct http_service *svc = arg;

    history_tick(&svc->hist, time(NULL));
}

static const struct daemon_handler_ops http_ops = {
    .name = HTTP_SERVICE,
    .accept = http_accept,
    .drain = http_drain,
    .busy = http_busy,
    .close = http_close,
};

/* http_attach - bind metrics_listen, if set */
void    http_attach(struct daemon *d)
{
    const struct config *conf = daemon_config(d);
    const char *value = config_str(conf, P_METRICS_LISTEN);
    struct http_service *svc;
    struct buf err;

    if (*value == 0)
	return;
    svc = xcalloc(1, sizeof(*svc));
    svc->d = d;
    buf_init(&err);
    if (daemon_listen(d, value, NULL, &http_ops, svc, &err) < 0)
	msg_fatal("%s: metrics_listen: %s", config_where(conf, P_METRICS_LISTEN), err.s);
    buf_free(&err);
    history_init(&svc->hist, time(NULL));
    svc->tick = daemon_timer_new(d, "dashboard history sample", http_tick, svc);
    daemon_timer_set(svc->tick, HISTORY_STEP * 1000L);
}
