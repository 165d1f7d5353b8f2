/*
 * redis_event.c - hiredis's asynchronous context on the daemon's libevent
 * loop, with fewer system calls than hiredis's own adapter.
 *
 * SYNOPSIS
 *	redis_event_attach(ac, base);
 *
 * DESCRIPTION
 *	hiredis 0.14's libevent adapter uses one-shot events: every reply
 *	read and every write costs two epoll_ctl calls besides the read or
 *	write.  Here the read event is persistent (added once), and a write
 *	on a connected context is not armed in epoll at all: it is made
 *	active, so that it runs once at the end of the current pass of the
 *	loop, after every command that pass's work issued (one write for
 *	all of them).  Only when the socket cannot take it all (hiredis asks
 *	for the write event again from inside that write), and while the
 *	connection is being made, is a real EV_WRITE event armed.
 */
#include <event2/event.h>
#include <hiredis/async.h>

#include "store/redis_impl.h"
#include "util/log.h"
#include "util/mem.h"

struct redis_event {
    redisAsyncContext *ac;
    struct event *rev;			/* persistent */
    struct event *wev;			/* the socket is writable */
    struct event *flush;		/* the end of this pass */
    int     reading, flushing;
    int     scheduled;			/* flush is active */
    int    *gone;			/* set when freed inside a write */
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct redis_event *e = arg;

    (void) fd;
    (void) what;
    redisAsyncHandleRead(e->ac);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct redis_event *e = arg;

    (void) fd;
    (void) what;
    int     gone = 0;

    e->scheduled = 0;
    e->flushing = 1;			/* asked again from inside: arm wev */
    e->gone = &gone;
    redisAsyncHandleWrite(e->ac);	/* may free the context, and e */
    if (!gone) {
	e->flushing = 0;
	e->gone = NULL;
    }
}

static void add_read(void *p)
{
    struct redis_event *e = p;

    if (!e->reading && event_add(e->rev, NULL) == 0)
	e->reading = 1;
}

static void del_read(void *p)
{
    struct redis_event *e = p;

    if (e->reading) {
	event_del(e->rev);
	e->reading = 0;
    }
}

static void add_write(void *p)
{
    struct redis_event *e = p;

    if (e->flushing || !(e->ac->c.flags & REDIS_CONNECTED))
	event_add(e->wev, NULL);	/* wait for the socket */
    else if (!e->scheduled) {
	e->scheduled = 1;
	event_active(e->flush, EV_WRITE, 0);
    }
}

static void del_write(void *p)
{
    struct redis_event *e = p;

    event_del(e->wev);
    if (e->scheduled) {
	event_del(e->flush);
	e->scheduled = 0;
    }
}

static void cleanup(void *p)
{
    struct redis_event *e = p;

    if (e->gone)
	*e->gone = 1;
    event_free(e->rev);
    event_free(e->wev);
    event_free(e->flush);
    free(e);
}

int     redis_event_attach(redisAsyncContext *ac, struct event_base *base)
{
    struct redis_event *e;

    if (ac->ev.data != NULL)
	return REDIS_ERR;
    e = xcalloc(1, sizeof(*e));
    e->ac = ac;
    e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_read, e);
    e->wev = event_new(base, ac->c.fd, EV_WRITE, on_write, e);
    e->flush = event_new(base, -1, 0, on_write, e);
    if (e->rev == NULL || e->wev == NULL || e->flush == NULL)
	msg_fatal("redis: cannot create events");
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = e;
    add_read(e);
    event_add(e->wev, NULL);		/* the connection's completion */
    return REDIS_OK;
}
