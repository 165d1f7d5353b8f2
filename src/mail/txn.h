/*
 * txn.h - one mail transaction as the checks see it, whatever protocol
 * brought it.
 *
 * The policy protocol (src/policy/request.c) fills one from Postfix's
 * name=value attributes; `mxshield check` from the same lines; the milter
 * will fill one from its SMTP callbacks.  The restriction engine
 * (src/rules/) reads the facts and records what it established for the
 * transaction (the SPF results) so that later checks of the same
 * transaction (greylisting now, DMARC with the milter) share them.
 *
 * Every string is "" when unknown, never NULL; the strings belong to
 * whoever filled the transaction and live as long as it.
 */
#ifndef MX_MAIL_TXN_H
#define MX_MAIL_TXN_H

#include "spf/spf.h"

#define TXN_DOMAIN_MAX	255		/* longest domain a fact keeps */

/* an SPF result established for this transaction */
struct txn_spf {
    int     known;			/* evaluated (result and domain are set) */
    enum spf_result result;
    char    domain[TXN_DOMAIN_MAX + 1];	/* "" when longer than a DNS name */
};

enum txn_spf_identity {
    TXN_SPF_MAIL_FROM,
    TXN_SPF_HELO,
    TXN_SPF_COUNT,
};

struct txn {
    /* the SMTP session */
    const char *protocol_state;		/* CONNECT HELO EHLO MAIL RCPT DATA ... */
    const char *protocol_name;		/* SMTP, ESMTP */
    const char *client_address;
    const char *client_name;		/* verified name, "unknown" when none */
    const char *reverse_client_name;
    const char *helo_name;
    int     seen_helo;			/* a HELO/EHLO name was given (maybe empty) */
    const char *stress;			/* "yes" when the MTA is overloaded */
    /* the message */
    const char *queue_id;
    const char *instance;		/* one value per message */
    const char *sender;
    const char *recipient;
    const char *size;
    /* SASL */
    const char *sasl_method;
    const char *sasl_username;
    const char *sasl_sender;
    /* which Postfix service asked: its port, and its
     * smtpd_policy_service_policy_context (master.cf -o) */
    const char *server_port;
    const char *policy_context;
    /* TLS */
    const char *ccert_fingerprint;
    const char *encryption_protocol;
    /* a clock for tests (greylist_allow_test_time); "" for the real one */
    const char *test_time;

    /* what the checks established, [enum txn_spf_identity] */
    struct txn_spf spf[TXN_SPF_COUNT];
};

/* txn_clear - every fact unknown */
void    txn_clear(struct txn *t);

/* txn_set_spf - record an SPF result for one identity */
void    txn_set_spf(struct txn *t, enum txn_spf_identity id, enum spf_result result,
		            const char *domain);

#endif
