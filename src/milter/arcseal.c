/*
 * arcseal.c - ARC sealing in the milter (see arcseal.h).
 *
 * The milter cannot know where a message goes next, so with arc_sign set
 * every message of a client that is not ours (neither SASL nor
 * mynetworks) is sealed, as OpenARC does: the sealer is fed the message
 * alongside the checks; at the end of the message, when they finished,
 * the ARC-Authentication-Results carries the same results as our
 * Authentication-Results, and the three fields are inserted at the top
 * (AAR first, so that ARC-Seal ends up topmost).  A message rejected or
 * deferred is not sealed; a seal that cannot be made is logged at
 * warning and the message goes on unsealed.  One log line per seal.
 */
#include <string.h>
#include <time.h>

#include "dkim/arcseal.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "dmarc/msgauth.h"
#include "milter/arcseal.h"
#include "milter/proto.h"
#include "util/log.h"

int     milter_arc_open(const struct config *conf, struct dkim_signer **g,
			        const struct dkim_signkey **k, struct buf *err)
{
    const char *name = config_str(conf, P_ARC_SIGN);
    char    why[512];

    *g = NULL;
    *k = NULL;
    if (*name == 0)
	return 0;
    if ((*g = dkim_signer_open(conf, why, sizeof(why))) == NULL
	|| (*k = arc_seal_key(*g, name, why, sizeof(why))) == NULL) {
	buf_printf(err, "%s: arc_sign: %s", config_where(conf, P_ARC_SIGN), why);
	dkim_signer_free(*g);
	*g = NULL;
	return -1;
    }
    return 0;
}

struct arc_seal *milter_arc_start(struct dkim_signer *g, const struct dkim_signkey *k)
{
    return g && k ? arc_seal_new(k, dkim_signer_conf(g)) : NULL;
}

void    milter_arc_header(struct arc_seal *a, const char *data, size_t len)
{
    struct milter_rd r = {data, data + len};
    const char *n, *v;
    size_t  nl, vl;
    struct buf val;

    if (milter_rd_str(&r, &n, &nl) < 0 || milter_rd_str(&r, &v, &vl) < 0)
	return;				/* the session refuses it itself */
    buf_init(&val);
    buf_append_crlf(&val, v, vl);
    arc_seal_header(a, n, nl, val.s ? val.s : "", val.len);
    buf_free(&val);
}

void    milter_arc_eom(struct arc_seal *a, const struct msgauth *m, const char *queue_id,
		               const char *peer, uint32_t proto, uint32_t actions,
		               struct buf *pkt)
{
    char    why[512];
    struct buf ar, b;

    if (a == NULL)
	return;
    if (!(actions & SMFIF_ADDHDRS)) {
	msg_warn("%s: milter client %s: not ARC-sealed: the MTA does not let us add headers",
		 queue_id, peer);
	return;
    }
    buf_init(&ar);
    msgauth_ar_value(m, &ar, "\r\n\t");
    switch (arc_seal_finish(a, msgauth_dkim(m), ar.s, (long long) time(NULL), why,
			    sizeof(why))) {
    case 1:
	break;
    case 0:
	msg_info("%s: milter client %s: %s", queue_id, peer, why);
	buf_free(&ar);
	return;
    default:
	msg_warn("%s: milter client %s: not ARC-sealed: %s", queue_id, peer, why);
	buf_free(&ar);
	return;
    }
    buf_init(&b);
    for (int f = ARC_SEAL_AAR; f <= ARC_SEAL_AS; f++) {
	const char *v = arc_seal_value(a, f), *name = arc_seal_name(f);

	buf_reset(&b);
	milter_put_u32(&b, 0);
	buf_append(&b, name, strlen(name) + 1);
	if ((proto & SMFIP_HDR_LEADSPC) == 0 && *v == ' ')
	    v++;			/* Postfix adds the space itself */
	for (; *v; v++)
	    if (*v != '\r')		/* folds as LF, as Postfix takes them */
		buf_putc(&b, *v);
	buf_append(&b, "", 1);
	milter_put(pkt, SMFIR_INSHEADER, b.s, b.len);
    }
    msg_info("%s: milter client %s: ARC-Seal added: i=%d cv=%s", queue_id, peer,
	     arc_seal_instance(a), arc_seal_cv(a));
    buf_free(&b);
    buf_free(&ar);
}
