/*
 * milter.h - the milter service: DKIM, ARC and DMARC for Postfix's
 * smtpd_milters, as a handler of the daemon skeleton.
 *
 * milter_service_attach() binds every milter_listen socket (nothing when
 * it is empty).  Each connection is one Postfix SMTP session speaking the
 * milter protocol (proto.h), served on the daemon's loop by session.c;
 * the message's checks are msgauth's (src/dmarc/msgauth.h).
 *
 * Below: what session.c shares with service.c, not a public API.
 */
#ifndef MX_MILTER_MILTER_H
#define MX_MILTER_MILTER_H

#include <stddef.h>

#include <event2/event.h>

struct daemon;
struct msgauth_conf;
struct dkim_signer;
struct dkim_signkey;
struct msession;

/* milter_service_attach - serve milter_listen, if set */
void    milter_service_attach(struct daemon *d);

/* a compiled configuration shared by the messages that started with it */
struct milter_conf {
    int     refs;
    struct msgauth_conf *mc;
    size_t  packet_limit;		/* milter_packet_size_limit */
    size_t  header_limit;		/* milter_header_size_limit */
    size_t  header_count;		/* milter_header_count_limit */
    int     ignore_auth;		/* dmarc_ignore_authenticated_clients */
    long    idle_secs;
    struct dkim_signer *signer;		/* dkim_signing_table, or NULL */
    struct dkim_signer *arc_signer;	/* arc_sign's key table, or NULL */
    const struct dkim_signkey *arc_key;	/* arc_sign's key (in arc_signer) */
};

void    milter_conf_unref(struct milter_conf *mc);

struct milter_service {
    struct daemon *d;
    struct event_base *base;
    struct msession *sessions;
    size_t  nsessions;
    long    conn_limit;
    int     stopping;
    struct milter_conf *conf;		/* current */
    const struct timeval *idle_tv;	/* common timeout */
    long    idle_secs;
    unsigned long messages;
    struct pool *pool;			/* signature checks, or NULL: on the loop */
    size_t  in_message;			/* sessions in MESSAGE or EVALUATING */
};

/* session_new - serve an accepted connection; NULL when it cannot be */
struct msession *session_new(struct milter_service *s, int fd, const char *peer);
struct msession *session_next(struct msession *ms);
/* session_shutdown - stopping: close now if idle, else after the reply */
void    session_shutdown(struct msession *ms);
/* session_abort - drop at once */
void    session_abort(struct msession *ms);
/* service_session_gone - a session was freed and unlinked */
void    milter_session_gone(struct milter_service *s);
const struct timeval *milter_idle_timeout(struct milter_service *s);

#endif
