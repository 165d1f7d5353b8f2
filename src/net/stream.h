/*
 * stream.h - one non-blocking byte stream, knowing nothing of protocols.
 *
 * A stream owns an accepted socket, an input buffer and an output
 * buffer.  It reads when the peer sends, hands the bytes to its protocol
 * (ops->input), and writes what the protocol queued (stream_write, then
 * stream_flush) at once: a request costs one read and one write system
 * call, and a write event is armed only when the kernel did not take
 * everything.
 *
 * Back-pressure: while output waits for a peer that does not read, the
 * stream reads nothing more from it (what is queued for it stays
 * bounded); it has the write timeout to take its data.  While the
 * protocol is busy with what it read (stream_hold), the stream keeps
 * reading up to one read's worth (so that a wait costs no epoll_ctl), then
 * stops; the idle timeout does not run out on a peer waiting for us.
 *
 * Timeouts and limits: limits.idle (no input while not held),
 * limits.write (output not taken), limits.read_size (bytes per read(2),
 * and what is read ahead while held).  The protocol bounds the input it
 * accepts (line and request sizes): it sees every byte as it arrives.
 *
 * Ending: stream_close_after_write() stops reading and frees the stream
 * once the output is out.  Every end (error, timeout, close after write)
 * is reported once through ops->gone(ctx, why, errno) and the protocol
 * then calls stream_free().
 *
 * Callbacks and the calls that may end the stream return -1 when it was
 * ended (and freed): the caller must then not touch it or its state.
 */
#ifndef MX_NET_STREAM_H
#define MX_NET_STREAM_H

#include <stddef.h>

#include <event2/event.h>

struct stream;

enum stream_end {
    STREAM_DONE,			/* closed after write, as asked */
    STREAM_IDLE_TIMEOUT,
    STREAM_WRITE_TIMEOUT,
    STREAM_READ_ERROR,			/* with an errno */
    STREAM_WRITE_ERROR,			/* with an errno */
};

struct stream_ops {
    /* input - new bytes (stream_in); 0, or -1 when the stream was ended */
    int     (*input) (void *ctx);
    /* drained - output that waited went out: read on; 0 or -1 */
    int     (*drained) (void *ctx);
    /* eof - the peer sent everything it will send; 0 or -1 */
    int     (*eof) (void *ctx);
    /* gone - the stream ends; the protocol calls stream_free */
    void    (*gone) (void *ctx, enum stream_end why, int err);
};

struct stream_limits {
    const struct timeval *idle;		/* no input for this long: gone */
    const struct timeval *write;	/* output not taken for this long: gone */
    size_t  read_size;			/* bytes per read(2) */
};

/* stream_new - serve fd (non-blocking); NULL if its events cannot be made.
 * Its callbacks log under the service name in force now (log_service_enter) */
struct stream *stream_new(struct event_base *base, int fd, const struct stream_limits *lim,
			          const struct stream_ops *ops, void *ctx);
void    stream_free(struct stream *s);

/* stream_in - the unconsumed input; stream_consume - drop n bytes of it */
char   *stream_in(struct stream *s, size_t *len);
void    stream_consume(struct stream *s, size_t n);

/* stream_write - queue output (no system call) */
void    stream_write(struct stream *s, const char *data, size_t len);
/* stream_flush - write what is queued; 0, or -1 when the stream ended */
int     stream_flush(struct stream *s);

/* stream_hold - the protocol is busy: deliver no input, no idle timeout */
void    stream_hold(struct stream *s);
/* stream_resume - read on (the idle time counts from now), or report an
 * end of input that came meanwhile; 0, or -1 when the stream ended */
int     stream_resume(struct stream *s);

/* stream_close_after_write - read no more; end once the output is out */
int     stream_close_after_write(struct stream *s);

/* stream_closing - close_after_write was called */
int     stream_closing(const struct stream *s);

#endif
