/*
 * stream.c - non-blocking byte stream: buffers, back-pressure, timeouts.
 *
 * I/O is done on the socket directly, not through a bufferevent: input
 * is read into one buffer that the protocol parses in place, and output
 * is written as soon as the protocol asks, so that a request costs one
 * read and one write system call and no epoll_ctl.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/stream.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct stream {
    evutil_socket_t fd;
    struct event *rev;			/* readable, or idle timeout */
    struct event *wev;			/* writable, armed when output waits */
    struct buf in;			/* bytes read, unconsumed from in_off */
    size_t  in_off;
    struct buf out;			/* queued output, written from out_off */
    size_t  out_off;
    struct stream_limits lim;
    const struct stream_ops *ops;
    void   *ctx;
    const char *service;		/* its log lines' name (at stream_new) */
    unsigned reading:1;			/* rev is armed */
    unsigned blocked:1;			/* the peer does not take its output */
    unsigned held:1;			/* the protocol is busy */
    unsigned eof:1;			/* the peer sent all it will send */
    unsigned closing:1;			/* close once the output is out */
};

/* end - the stream is over: tell the protocol, which frees it */
static int end(struct stream *s, enum stream_end why, int err)
{
    s->ops->gone(s->ctx, why, err);
    return -1;
}

/* set_reading - arm or disarm the read event; -1 when it cannot be armed */
static int set_reading(struct stream *s, int on)
{
    if (on && !s->reading) {
	if (event_add(s->rev, s->lim.idle) < 0)
	    return -1;
    } else if (!on && s->reading) {
	event_del(s->rev);
    }
    s->reading = on;
    return 0;
}

/* stream_flush - write what is queued */
int     stream_flush(struct stream *s)
{
    while (s->out_off < s->out.len) {
	ssize_t n = write(s->fd, s->out.s + s->out_off, s->out.len - s->out_off);

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    if (errno == EAGAIN || errno == EWOULDBLOCK) {
		/* read nothing more until the peer took its output, so that
		 * what is queued for it stays bounded */
		if (!s->blocked) {
		    s->blocked = 1;
		    (void) set_reading(s, 0);
		    if (event_add(s->wev, s->lim.write) < 0)
			return end(s, STREAM_WRITE_ERROR, ENOMEM);
		}
		return 0;
	    }
	    return end(s, s->closing ? STREAM_DONE : STREAM_WRITE_ERROR, errno);
	}
	s->out_off += (size_t) n;
    }
    buf_reset(&s->out);
    s->out_off = 0;
    if (s->blocked) {
	s->blocked = 0;
	event_del(s->wev);
    }
    if (s->closing)
	return end(s, STREAM_DONE, 0);
    return 0;
}

/* stream_close_after_write - read no more; end once the output is out */
int     stream_close_after_write(struct stream *s)
{
    s->closing = 1;
    (void) set_reading(s, 0);
    return stream_flush(s);
}

/* stream_closing - close_after_write was called */
int     stream_closing(const struct stream *s)
{
    return s->closing;
}

/* fill - read once into the input buffer; bytes read, 0 EOF, -1 */
static ssize_t fill(struct stream *s)
{
    ssize_t n;

    /* drop what was consumed, then make room for one read */
    if (s->in_off > 0) {
	memmove(s->in.s, s->in.s + s->in_off, s->in.len - s->in_off);
	s->in.len -= s->in_off;
	s->in_off = 0;
    }
    buf_reserve(&s->in, s->lim.read_size);
    do {
	n = read(s->fd, s->in.s + s->in.len, s->in.cap - s->in.len - 1);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
	s->in.len += (size_t) n;
	s->in.s[s->in.len] = 0;
    }
    return n;
}

/* read_ready - the socket has input, or was idle too long */
static void read_ready(struct stream *s, short what)
{
    ssize_t n;

    if (what & EV_TIMEOUT) {
	/* a peer waiting for its answer is not idle; the persistent event
	 * re-arms itself */
	if (!s->held)
	    (void) end(s, STREAM_IDLE_TIMEOUT, 0);
	return;
    }
    if (s->held && s->in.len - s->in_off >= s->lim.read_size) {
	/* enough read ahead: more once the protocol is done */
	(void) set_reading(s, 0);
	return;
    }
    if ((n = fill(s)) < 0) {
	if (errno != EAGAIN && errno != EWOULDBLOCK)
	    (void) end(s, STREAM_READ_ERROR, errno);
	return;
    }
    if (n == 0) {
	s->eof = 1;
	(void) set_reading(s, 0);
	if (!s->held)
	    (void) s->ops->eof(s->ctx);
	return;
    }
    if (s->held)
	return;				/* handed over at stream_resume */
    if (s->ops->input(s->ctx) < 0)
	return;
    (void) stream_flush(s);
}

/* read_cb - input, end of input, or the idle timeout */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct stream *s = arg;
    const char *previous = log_service_enter(s->service);

    (void) fd;
    read_ready(s, what);		/* may free s */
    log_service_leave(previous);
}

/* write_cb - the socket takes output again, or the write timed out */
static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct stream *s = arg;
    const char *previous = log_service_enter(s->service);

    (void) fd;
    if (what & EV_TIMEOUT)
	(void) end(s, STREAM_WRITE_TIMEOUT, 0);
    else if (stream_flush(s) == 0 && !s->blocked)
	(void) s->ops->drained(s->ctx);
    log_service_leave(previous);
}

/* stream_hold - the protocol is busy */
void    stream_hold(struct stream *s)
{
    s->held = 1;
}

/* stream_resume - read on, or report the end of input */
int     stream_resume(struct stream *s)
{
    s->held = 0;
    if (s->blocked || s->closing)
	return 0;
    if (s->eof)
	return s->ops->eof(s->ctx);
    /* re-adding the armed event restarts its idle timeout */
    s->reading = 0;
    if (set_reading(s, 1) < 0)
	return end(s, STREAM_READ_ERROR, ENOMEM);
    return 0;
}

/* stream_in - the unconsumed input */
char   *stream_in(struct stream *s, size_t *len)
{
    *len = s->in.len - s->in_off;
    return s->in.s + s->in_off;
}

/* stream_consume - drop n bytes of input */
void    stream_consume(struct stream *s, size_t n)
{
    s->in_off += n;
}

/* stream_write - queue output */
void    stream_write(struct stream *s, const char *data, size_t len)
{
    buf_append(&s->out, data, len);
}

/* stream_new - serve fd */
struct stream *stream_new(struct event_base *base, int fd, const struct stream_limits *lim,
			          const struct stream_ops *ops, void *ctx)
{
    struct stream *s = xcalloc(1, sizeof(*s));

    s->fd = fd;
    s->lim = *lim;
    s->ops = ops;
    s->ctx = ctx;
    s->service = log_service_current();	/* the handler that accepted fd */
    buf_init(&s->in);
    buf_init(&s->out);
    s->rev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, s);
    s->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, write_cb, s);
    if (s->rev == NULL || s->wev == NULL || set_reading(s, 1) < 0) {
	s->fd = -1;			/* the caller still owns it */
	stream_free(s);
	return NULL;
    }
    return s;
}

/* stream_free - close the socket, release everything */
void    stream_free(struct stream *s)
{
    if (s->rev)
	event_free(s->rev);
    if (s->wev)
	event_free(s->wev);
    buf_free(&s->in);
    buf_free(&s->out);
    if (s->fd >= 0)
	evutil_closesocket(s->fd);
    free(s);
}
