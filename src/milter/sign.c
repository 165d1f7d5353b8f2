/*
 * sign.c - DKIM signing in the milter (see sign.h).
 *
 * The session feeds the message of a client that signs (SASL or
 * mynetworks) here: header fields as Postfix sends them, body chunks,
 * then milter_sign_eom() adds one DKIM-Signature per key with
 * SMFIR_INSHEADER at the top.  A message the tables give no key, or
 * without exactly one From:, goes out unsigned; a table or key that fails
 * is logged at warning and the message goes out unsigned (never signed
 * with another key).  One log line per signed message.
 */
#include <string.h>
#include <time.h>

#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "milter/proto.h"
#include "milter/sign.h"
#include "util/log.h"

/* milter_signer_open - NULL when dkim_signing_table is empty */
struct dkim_signer *milter_signer_open(const struct config *conf, struct buf *err)
{
    struct dkim_signer *g;
    char    why[512];

    if (config_str(conf, P_DKIM_SIGNING_TABLE)[0] == 0)
	return NULL;
    if ((g = dkim_signer_open(conf, why, sizeof(why))) == NULL)
	buf_puts(err, why);
    return g;
}

struct dkim_msgsign *milter_sign_start(struct dkim_signer *g, int our_client)
{
    return g && our_client ? dkim_msgsign_new(g) : NULL;
}

/* milter_sign_header - name and value of a HEADER packet */
void    milter_sign_header(struct dkim_msgsign *m, const char *data, size_t len)
{
    struct milter_rd r = {data, data + len};
    const char *n, *v;
    size_t  nl, vl;
    struct buf val;

    if (milter_rd_str(&r, &n, &nl) < 0 || milter_rd_str(&r, &v, &vl) < 0)
	return;				/* the session refuses it itself */
    buf_init(&val);
    buf_append_crlf(&val, v, vl);
    dkim_msgsign_header(m, n, nl, val.s, val.len);
    buf_free(&val);
}

/* milter_sign_eom - the signatures as SMFIR_INSHEADER packets */
void    milter_sign_eom(struct dkim_msgsign *m, const char *queue_id, const char *peer,
			        uint32_t proto, uint32_t actions, struct buf *pkt)
{
    char    why[512];
    int     rc;
    struct buf b, names;

    if (m == NULL)
	return;
    if (!(actions & SMFIF_ADDHDRS)) {
	msg_warn("%s: milter client %s: not signed: the MTA does not let us add headers",
		 queue_id, peer);
	return;
    }
    rc = dkim_msgsign_finish(m, (long long) time(NULL), why, sizeof(why));
    if (rc < 0)
	msg_warn("%s: milter client %s: not signed: %s", queue_id, peer, why);
    if (rc <= 0)
	return;
    buf_init(&b);
    buf_init(&names);
    for (size_t i = 0; i < dkim_msgsign_count(m); i++) {
	const char *v = dkim_msgsign_value(m, i), *s;

	buf_reset(&b);
	milter_put_u32(&b, 0);
	buf_append(&b, "DKIM-Signature", 15);
	if ((proto & SMFIP_HDR_LEADSPC) == 0 && *v == ' ')
	    v++;			/* Postfix adds the space itself */
	for (; *v; v++)
	    if (*v != '\r')		/* folds as LF, as Postfix takes them */
		buf_putc(&b, *v);
	buf_append(&b, "", 1);
	milter_put(pkt, SMFIR_INSHEADER, b.s, b.len);
	/* " d=... s=..." for the log line */
	v = dkim_msgsign_value(m, i);
	if ((s = strstr(v, " d=")) != NULL)
	    buf_printf(&names, "%s%.*s", names.len ? ", " : "", (int) strcspn(s + 1, ";"), s + 1);
	if ((s = strstr(v, " s=")) != NULL)
	    buf_printf(&names, " %.*s", (int) strcspn(s + 1, ";"), s + 1);
    }
    msg_info("%s: milter client %s: from=%s: DKIM-Signature added: %s", queue_id, peer,
	     dkim_msgsign_from(m), names.s);
    buf_free(&b);
    buf_free(&names);
}
