/*
 * http.h - the metrics listener: Prometheus's /metrics and the dashboard.
 *
 *	http_attach(d);		before daemon_run(), still root
 *
 * Binds every listener of metrics_listen (nothing when it is empty; the
 * listener syntax of net/listen.h: inet:HOST:PORT, inet:[IPv6]:PORT, or
 * unix:/path for a reverse proxy, created with unix_socket_mode) and
 * serves on it, one request per connection (the answer closes it):
 *
 *	GET /metrics		the statistics registry, Prometheus text format
 *	GET /			the dashboard page (HTML, script and style inline)
 *	GET /dashboard.json	what the page polls: the last hour, DNS list
 *				health, the top rejected clients and senders
 *
 * Limits, all reloadable: metrics_request_size_limit (bytes of request
 * line and headers; 431 past it), metrics_header_limit (header lines;
 * 431), metrics_connection_limit (more are answered 503 and closed) and
 * metrics_timeout (a connection is closed after it, however slowly its
 * client kept sending).  HEAD is answered without a body; any other
 * method gets 405.
 *
 * DIAGNOSTICS
 *	A listener that cannot be bound is fatal at start-up, as for the
 *	policy service.  A misbehaving client costs its connection only.
 */
#ifndef MX_HTTP_HTTP_H
#define MX_HTTP_HTTP_H

struct daemon;

void    http_attach(struct daemon *d);

#endif
