/*
 * event.h - one decision line, as Postfix's smtpd and mxshield log it:
 *
 *	ID: WHAT: STAGE from NAME[ADDR]: CODE DSN TEXT; from=<S> to=<R>
 *	    proto=P helo=<H> restriction=NAME
 *
 * ID is a queue id or NOQUEUE; WHAT is reject, reject_warning, info, warn,
 * hold, discard ...; from=, to=, proto=, helo= and (mxshield's)
 * restriction= may be absent, but one of from=, proto=, helo= is there
 * (Postfix logs a reject before MAIL FROM without from=).  event_parse() is linear in the message, never allocates and
 * returns -1 for any other line; the spans point into the message.
 */
#ifndef MX_REPORT_EVENT_H
#define MX_REPORT_EVENT_H

#include <stddef.h>

struct span {
    const char *s;
    size_t  len;
};

struct event {
    struct span what;			/* reject, reject_warning, info ... */
    struct span stage;			/* RCPT, MAIL, CONNECT, DATA ... */
    struct span name;			/* client name */
    struct span addr;			/* client address */
    int     code;			/* 0 when the text has none */
    struct span dsn;			/* "5.7.1", may be empty */
    struct span text;			/* after CODE DSN */
    struct span reply;			/* CODE DSN TEXT, whole */
    struct span from, to, helo;		/* without the <> */
    struct span restriction;		/* mxshield's lines only */
    int     has_to;
};

int     event_parse(const char *msg, size_t len, struct event *ev);

/* span_eq - does the span hold exactly s? */
int     span_eq(struct span sp, const char *s);

#endif
