/*
 * arcseal.h - ARC sealing in the milter (arc_sign): the mail of other
 * clients, which this host receives and may forward, gets an ARC set
 * (RFC 8617) over its verified chain once the checks are done.
 */
#ifndef MX_MILTER_ARCSEAL_H
#define MX_MILTER_ARCSEAL_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "util/str.h"

struct dkim_signer;
struct dkim_signkey;
struct arc_seal;
struct msgauth;

/* milter_arc_open - arc_sign's key: 0 (*g NULL when arc_sign is empty),
 * or -1 and err (no such key, unusable, not RSA) */
int     milter_arc_open(const struct config *conf, struct dkim_signer **g,
			        const struct dkim_signkey **k, struct buf *err);

/* milter_arc_start - a sealer for a message, or NULL (k NULL) */
struct arc_seal *milter_arc_start(struct dkim_signer *g, const struct dkim_signkey *k);

/* milter_arc_header - a HEADER packet (folds LF made CRLF) */
void    milter_arc_header(struct arc_seal *a, const char *data, size_t len);

/* milter_arc_eom - seal after m's checks finished; append the three
 * SMFIR_INSHEADER packets to pkt (nothing when not sealed: logged) */
void    milter_arc_eom(struct arc_seal *a, const struct msgauth *m, const char *queue_id,
		               const char *peer, uint32_t proto, uint32_t actions,
		               struct buf *pkt);

#endif
