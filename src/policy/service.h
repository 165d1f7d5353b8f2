/*
 * service.h - the policy protocol as a handler of the daemon skeleton.
 *
 * policy_service_attach() binds every "listen" socket for the Postfix
 * SMTPD access policy delegation protocol (see conn.h); the skeleton
 * (daemon/daemon.h) does the rest.  Below it: what conn.c shares with
 * service.c, not a public API.
 */
#ifndef MX_POLICY_SERVICE_H
#define MX_POLICY_SERVICE_H

#include <stddef.h>
#include <time.h>

#include <event2/event.h>

struct daemon;
struct conn;

/* policy_service_attach - serve the policy protocol on "listen" */
void    policy_service_attach(struct daemon *d);

struct policy_service {
    struct daemon *d;
    struct event_base *base;
    struct conn *conns;			/* doubly linked list of clients */
    size_t  nconns;
    int     stopping;
    unsigned long requests;		/* answered since start */
    unsigned long limit_drops;		/* connections closed for a limit */
    long    conn_limit;			/* policy_connection_limit at start */
    long    idle_secs;			/* policy_idle_timeout of idle_tv */
    const struct timeval *idle_tv;	/* a common timeout: O(1) re-arming */
};

/* service_conn_gone - a connection was freed (and unlinked) */
void    service_conn_gone(struct policy_service *s, struct conn *c);
/* service_idle_timeout - policy_idle_timeout as a common timeout */
const struct timeval *service_idle_timeout(struct policy_service *s);

#endif
