/*
 * msgauth.h - one message's authentication: SPF, DKIM, ARC and DMARC, the
 * action OpenDMARC's users expect, and the one Authentication-Results
 * header that reports it.  The milter and `mxshield dmarc` share it.
 *
 *	conf = msgauth_conf_new(config, err);		once per configuration
 *	m = msgauth_new(conf, lookupset);		per message
 *	msgauth_envelope(m, ip, helo, sender);		SPF lookups start
 *	msgauth_header(m, name, value) ...		as Postfix sends them
 *	msgauth_eoh(m); msgauth_body(m, chunk) ...
 *	while (!msgauth_finish(m)) wait for the lookup set's wakeup;
 *	msgauth_action(m), msgauth_reply(m), msgauth_ar_value(m), ...
 *
 * Header values are given as the milter receives them with HDR_LEADSPC:
 * the text after the colon, folded lines joined by LF (CRLF accepted).
 * Authentication-Results and Received-SPF headers whose authserv-id (or
 * receiver=) is not ours or trusted are listed for deletion
 * (msgauth_delete): they were added elsewhere and must not be believed
 * by what reads the message after us.
 *
 * A From header that is missing, repeated, unparsable or names more than
 * one domain makes DMARC a permerror (never "none"), acted on as
 * dmarc_permerror_action says.  A DNS temporary failure on the way to a
 * DMARC result is a temperror, acted on as dmarc_temperror_action says.
 */
#ifndef MX_DMARC_MSGAUTH_H
#define MX_DMARC_MSGAUTH_H

#include <stddef.h>

#include "util/str.h"

struct config;
struct lookupset;
struct msgauth_conf;
struct msgauth;

enum msgauth_action {
    MSGAUTH_ACCEPT,
    MSGAUTH_QUARANTINE,
    MSGAUTH_REJECT,
    MSGAUTH_TEMPFAIL,
};

/* msgauth_conf_new - compile the parameters; NULL with the reason in err */
struct msgauth_conf *msgauth_conf_new(const struct config *c, struct buf *err);
void    msgauth_conf_free(struct msgauth_conf *mc);

/* msgauth_conf_authserv_id - the id we write (authserv_id or myhostname) */
const char *msgauth_conf_authserv_id(const struct msgauth_conf *mc);

struct msgauth *msgauth_new(const struct msgauth_conf *mc, struct lookupset *ls);
void    msgauth_free(struct msgauth *m);

/* msgauth_envelope - the SMTP facts (strings copied); SPF lookups start */
void    msgauth_envelope(struct msgauth *m, const char *ip, const char *helo,
			         const char *sender);

/* msgauth_header - one header field (name without colon) */
void    msgauth_header(struct msgauth *m, const char *name, size_t nlen,
		               const char *value, size_t vlen);
void    msgauth_eoh(struct msgauth *m);
void    msgauth_body(struct msgauth *m, const void *data, size_t len);

/* msgauth_set_pool - the signature checks on a pool's threads (see
 * dkim_verify_set_pool); wakeup(ctx) when they are back */
struct pool;
void    msgauth_set_pool(struct msgauth *m, struct pool *p, void (*wakeup) (void *),
			         void *ctx);

/* msgauth_finish - 1 decided, 0 waiting for DNS (call again on wakeup) */
int     msgauth_finish(struct msgauth *m);

/* results, valid after finish */
enum msgauth_action msgauth_action(const struct msgauth *m);
const char *msgauth_action_name(enum msgauth_action a);
/* msgauth_reply - "550 5.7.1 ..." for reject and tempfail, else "" */
const char *msgauth_reply(const struct msgauth *m);
/* msgauth_reason - one line: why the action (for logs and QUARANTINE) */
const char *msgauth_reason(const struct msgauth *m);
/* msgauth_ar_value - the header's value; fold between results ("\n\t"
 * for the milter, " " for one line); leading space included */
void    msgauth_ar_value(const struct msgauth *m, struct buf *out, const char *fold);
/* msgauth_delete - the i-th header to delete: name and 1-based index
 * among the headers of that name, highest index first; 0 when no more */
int     msgauth_delete(const struct msgauth *m, size_t i, const char **name, unsigned *index);
/* msgauth_json - the JSON object of `mxshield dmarc --json` */
void    msgauth_json(const struct msgauth *m, struct buf *out);
/* msgauth_set_trace - record the steps (call before the first header) */
void    msgauth_set_trace(struct msgauth *m);
/* msgauth_trace - what was looked at, one line each */
const char *msgauth_trace(const struct msgauth *m);
/* msgauth_dmarc_result - "pass", "fail", "none", "temperror", "permerror" */
const char *msgauth_dmarc_result(const struct msgauth *m);
/* msgauth_dkim - its DKIM/ARC verifier (results valid after finish) */
struct dkim_verify;
const struct dkim_verify *msgauth_dkim(const struct msgauth *m);

#endif
