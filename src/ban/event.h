/*
 * event.h - what a Postfix log line tells about a client: the events
 * auto-ban counts.
 *
 * src/ban/logev.c classifies lines (Postfix 3.7's own formats, after
 * the syslog or journal prefix); src/ban/follow.c reads them from a file
 * across rotation or from the systemd journal; src/ban/ban.c counts the
 * events per client and bans.  `mxshield ban scan` prints them.
 */
#ifndef MX_BAN_EVENT_H
#define MX_BAN_EVENT_H

#include <stddef.h>
#include <time.h>

/* Keep the names (ban_event_name) stable: they are configuration
 * (per-class maxretry), JSON output and statistics labels. */
enum ban_event_kind {
    BEV_AUTH_FAILED,			/* "auth-failed": SASL authentication failed */
    BEV_LOST_AFTER_AUTH,		/* "lost-after-auth" */
    BEV_LOST_CONNECTION,		/* "lost-connection": after another command */
    BEV_TOO_MANY_ERRORS,		/* "too-many-errors" */
    BEV_IMPROPER_PIPELINING,		/* "improper-pipelining" */
    BEV_REJECT,				/* "reject": NOQUEUE/queue-id reject (class in ev) */
    BEV_PREGREET,			/* "pregreet": postscreen */
    BEV_DNSBL,				/* "dnsbl": postscreen DNSBL rank */
    BEV_COMMAND_PIPELINING,		/* "command-pipelining": postscreen */
    BEV_HANGUP,				/* "hangup": postscreen */
    BEV_NON_SMTP_COMMAND,		/* "non-smtp-command": postscreen */
    BEV_RATE_LIMIT,			/* "rate-limit": anvil's warnings */
    BEV_COMMAND_LIMIT,			/* "command-limit": postscreen COMMAND
					 * TIME/COUNT/LENGTH LIMIT */
    BEV_COUNT,
};

/* the class of a reject (BEV_REJECT), from the command and reply */
enum ban_reject_class {
    BRJ_NONE,
    BRJ_CLIENT,				/* "client": CONNECT, client access, RBL */
    BRJ_RBL,				/* "rbl": a DNS list (reject_rbl_client ...) */
    BRJ_HELO,				/* "helo" */
    BRJ_SENDER,				/* "sender" */
    BRJ_RECIPIENT,			/* "recipient": unknown user, unverified */
    BRJ_RELAY,				/* "relay": relay access denied */
    BRJ_OTHER,				/* "other" */
    BRJ_COUNT,
};

#define BAN_HOST_MAX	46		/* INET6_ADDRSTRLEN */
#define BAN_USER_MAX	255		/* longest sasl_username kept */
#define LOGEV_LINE_MAX	8192		/* longer lines are no events (a
					 * syslog record is at most 8k) */

struct ban_event {
    enum ban_event_kind kind;
    enum ban_reject_class reject;	/* BRJ_NONE unless kind == BEV_REJECT */
    time_t  when;			/* UTC seconds; 0 when the line had no time */
    char    host[BAN_HOST_MAX];		/* client address, canonical text */
    char    user[BAN_USER_MAX + 1];	/* sasl_username, "" when none */
    int     has_user;
};

/* ban_event_name - "auth-failed", ...; NULL past BEV_COUNT */
const char *ban_event_name(enum ban_event_kind k);
const char *ban_reject_name(enum ban_reject_class c);

/* ban_event_lookup - the kind of a name, -1 when none */
int     ban_event_lookup(const char *name);

/* A classifier keeps a little state between lines (per Postfix process),
 * so that one failed AUTH logged twice (the failure, then "disconnect
 * ... auth=0/1") counts once. */
struct logev;

struct logev *logev_new(void);
void    logev_free(struct logev *l);

/* logev_line - classify one line (no newline); 1 and *ev filled when it
 * is an event, 0 when not.  now: the time that fills a year-less
 * timestamp's year. */
int     logev_line(struct logev *l, const char *line, size_t len, time_t now,
		           struct ban_event *ev);

#endif
