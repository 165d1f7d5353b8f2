/*
 * conn.h - one policy client connection (used by service.c).
 *
 * conn_new() takes an accepted socket.  Lines are read until an empty
 * line ends a request; the request is evaluated and answered with
 * "action=...\n\n"; pipelined requests are answered in order, one at a
 * time.  Every limit (line length, attributes, request size) is checked
 * as bytes arrive; a client that breaks one is logged with the limit and
 * disconnected, and nobody else notices.
 */
#ifndef MX_POLICY_CONN_H
#define MX_POLICY_CONN_H

#include <event2/event.h>

struct policy_service;
struct conn;

struct conn *conn_new(struct policy_service *s, evutil_socket_t fd, const char *peer);
/* conn_shutdown - close now if idle, else after the answer in flight */
void    conn_shutdown(struct conn *c);
struct conn *conn_next(const struct conn *c);
/* conn_abort - close at once, the request in flight unanswered (exit) */
void    conn_abort(struct conn *c);

#endif
