/*
 * sign.h - DKIM signing in the milter: our own mail (SASL-authenticated
 * clients, mynetworks, and Postfix's non_smtpd_milters, whose local
 * submissions arrive as 127.0.0.1) gets the signatures that
 * dkim_signing_table and dkim_key_table choose for its From: address.
 */
#ifndef MX_MILTER_SIGN_H
#define MX_MILTER_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "util/str.h"

struct dkim_signer;
struct dkim_msgsign;

/* milter_signer_open - the signing tables of conf, NULL when none are
 * set; a table or option that cannot be used: NULL and err */
struct dkim_signer *milter_signer_open(const struct config *conf, struct buf *err);

/* milter_sign_start - a signer for the message of a signing client, or
 * NULL (no signer, or not our client) */
struct dkim_msgsign *milter_sign_start(struct dkim_signer *g, int our_client);

/* milter_sign_header - a HEADER packet's name and value (folds LF as
 * Postfix sends them; made CRLF for the canonicalisation) */
void    milter_sign_header(struct dkim_msgsign *m, const char *data, size_t len);

/* milter_sign_eom - sign; append an SMFIR_INSHEADER packet per signature
 * to pkt (nothing when the message is not signed; a failure is logged) */
void    milter_sign_eom(struct dkim_msgsign *m, const char *queue_id, const char *peer,
			        uint32_t proto, uint32_t actions, struct buf *pkt);

#endif
