/*
 * msgauth_ar.c - the Authentication-Results headers of one message: the
 * foreign ones (and Received-SPF) listed for removal, ours written from
 * the evaluation's results (dmarc/msgauth.c), and the same results as the
 * JSON of `mxshield dmarc --json`.
 *
 * SYNOPSIS
 *	msgauth_ar_seen(m, "Authentication-Results", value, len);
 *	while (msgauth_delete(m, i++, &name, &index)) ...
 *	msgauth_ar_value(m, out, "\n\t");
 *	msgauth_json(m, out);
 *
 * DESCRIPTION
 *	A header is foreign when its authserv-id (RFC 8601 2.2: its first
 *	token after any comment), or the receiver= of a Received-SPF
 *	(RFC 7208 9.1), is none of trusted_authserv_ids (ours first).
 *	Deletions are given from the last one seen, so that deleting one
 *	renumbers none still to come.  Values we write are quoted where RFC
 *	8601 wants it; comments and anything from outside are made safe
 *	(msgauth_sanitize), so a header we write stays one header.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc/msgauth_impl.h"
#include "util/mem.h"

/* ar_authserv_id - the authserv-id of an A-R value: its first token */
static void ar_authserv_id(const char *v, size_t len, char *out, size_t outlen)
{
    size_t  i = 0, n = 0;
    int     depth = 0;

    /* skip CFWS, then take up to ';', white space or '(' */
    for (; i < len; i++) {
	char    c = v[i];

	if (depth) {
	    if (c == '(')
		depth++;
	    else if (c == ')')
		depth--;
	    continue;
	}
	if (c == '(') {
	    depth = 1;
	    continue;
	}
	if (!isspace((unsigned char) c))
	    break;
    }
    for (; i < len && n + 1 < outlen; i++) {
	char    c = v[i];

	if (c == ';' || c == '(' || isspace((unsigned char) c))
	    break;
	out[n++] = c;
    }
    out[n] = 0;
}

/* rspf_receiver - receiver= of a Received-SPF key-value list */
static void rspf_receiver(const char *v, size_t len, char *out, size_t outlen)
{
    out[0] = 0;
    for (size_t i = 0; i + 9 <= len; i++) {
	if ((i == 0 || v[i - 1] == ' ' || v[i - 1] == ';' || v[i - 1] == '\t' || v[i - 1] == '\n')
	    && strncasecmp(v + i, "receiver=", 9) == 0) {
	    size_t  n = 0;

	    for (i += 9; i < len && n + 1 < outlen && v[i] != ';' && !isspace((unsigned char) v[i]); i++)
		out[n++] = v[i];
	    out[n] = 0;
	    return;
	}
    }
}

/* trusted - an authserv-id we keep */
static int trusted(const struct msgauth_conf *c, const char *id)
{
    for (size_t i = 0; i < c->trusted.n; i++)
	if (strcasecmp(c->trusted.v[i], id) == 0)
	    return 1;
    return 0;
}

/* add_del - remember a header to delete */
static void add_del(struct msgauth *m, const char *name, unsigned index)
{
    m->dels = xrealloc(m->dels, (m->ndels + 1) * sizeof(*m->dels));
    m->dels[m->ndels].name = name;
    m->dels[m->ndels].index = index;
    m->ndels++;
}

/* msgauth_ar_seen - listed for deletion unless its id is trusted */
void    msgauth_ar_seen(struct msgauth *m, const char *name, const char *value, size_t vlen)
{
    char    id[256];

    if (strcmp(name, "Authentication-Results") == 0) {
	m->nar++;
	ar_authserv_id(value, vlen, id, sizeof(id));
	if (!trusted(m->c, id))
	    add_del(m, "Authentication-Results", m->nar);
    } else {
	m->nrspf++;
	rspf_receiver(value, vlen, id, sizeof(id));
	if (!trusted(m->c, id))
	    add_del(m, "Received-SPF", m->nrspf);
    }
}

int     msgauth_delete(const struct msgauth *m, size_t i, const char **name, unsigned *index)
{
    if (i >= m->ndels)
	return 0;
    /* from the last one seen: deleting it renumbers nothing before it */
    *name = m->dels[m->ndels - 1 - i].name;
    *index = m->dels[m->ndels - 1 - i].index;
    return 1;
}

/* msgauth_sanitize - text fit for a comment and an SMTP reply */
void    msgauth_sanitize(char *s)
{
    for (; *s; s++)
	if (*s == '(' || *s == ')' || *s == '\\' || *s == '%' || *s == '"'
	    || (unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
	    *s = '?';
}

/* plain - an RFC 8601 value that needs no quoting */
static int plain(const char *s)
{
    if (*s == 0)
	return 0;
    for (; *s; s++)
	if ((unsigned char) *s <= ' ' || strchr("()<>,;:\\\"[]", *s) || (unsigned char) *s >= 0x7f)
	    return 0;
    return 1;
}

/* put_value - a property value: as it is, or quoted */
static void put_value(struct buf *out, const char *v)
{
    if (plain(v)) {
	buf_puts(out, v);
	return;
    }
    buf_putc(out, '"');
    for (; *v; v++)
	if (*v == '"' || *v == '\\')
	    buf_putc(out, '?');
	else if ((unsigned char) *v >= ' ' && (unsigned char) *v < 0x7f)
	    buf_putc(out, *v);
    buf_putc(out, '"');
}

/* put_comment - " (text)" with the text made safe */
static void put_comment(struct buf *out, const char *text)
{
    char    t[400];

    if (text == NULL || *text == 0)
	return;
    snprintf(t, sizeof(t), "%s", text);
    msgauth_sanitize(t);
    buf_printf(out, " (%s)", t);
}

/* msgauth_ar_value - the Authentication-Results value */
void    msgauth_ar_value(const struct msgauth *m, struct buf *out, const char *fold)
{
    size_t  n = dkim_verify_count(m->dkim);

    buf_printf(out, " %s;%s", m->c->authserv_id, fold);
    /* spf */
    buf_printf(out, "spf=%s", spf_result_name(m->spf.result));
    if (*m->sender) {
	buf_puts(out, " smtp.mailfrom=");
	put_value(out, plain(m->sender) ? m->sender : m->spf.domain.s);
    } else {
	buf_puts(out, " smtp.helo=");
	put_value(out, m->helo);
    }
    /* dkim, one result per signature */
    if (n == 0)
	buf_printf(out, ";%sdkim=none", fold);
    for (size_t i = 0; i < n; i++) {
	const struct dkim_sig_result *s = dkim_verify_result(m->dkim, i);

	buf_printf(out, ";%sdkim=%s", fold, dkim_result_name(s->result));
	if (s->result != DKIM_PASS)
	    put_comment(out, s->reason);
	if (s->d) {
	    buf_puts(out, " header.d=");
	    put_value(out, s->d);
	}
	if (s->i) {
	    buf_puts(out, " header.i=");
	    put_value(out, s->i);
	}
	if (s->s) {
	    buf_puts(out, " header.s=");
	    put_value(out, s->s);
	}
	if (s->a) {
	    buf_puts(out, " header.a=");
	    put_value(out, s->a);
	}
	if (s->b) {
	    buf_puts(out, " header.b=");
	    put_value(out, s->b);
	}
    }
    /* dmarc */
    buf_printf(out, ";%sdmarc=%s", fold, msgauth_dmarc_result(m));
    if (m->have_policy) {
	buf_printf(out, " (p=%s dis=%s%s)", dmarc_policy_name(dmarc_effective(&m->found)),
		   dmarc_policy_name(m->disposition), m->arc_override ? " override=arc" : "");
    } else if (m->dm == DM_PERMERROR || m->dm == DM_TEMPERROR) {
	put_comment(out, m->dm_why);
    }
    if (m->from_domain[0]) {
	buf_puts(out, " header.from=");
	put_value(out, m->from_domain);
    }
    if (m->have_policy)
	buf_printf(out, " policy.dmarc=%s", dmarc_policy_name(dmarc_effective(&m->found)));
    /* arc */
    buf_printf(out, ";%sarc=%s", fold, arc_result_name(m->arc));
    if (m->arc_sealer && m->arc != ARC_NONE) {
	char    t[300];

	snprintf(t, sizeof(t), "sealed by %.280s", m->arc_sealer);
	put_comment(out, t);
    }
}

/* json_str - a JSON string or null */
static void json_str(struct buf *b, const char *s)
{
    if (s == NULL)
	buf_puts(b, "null");
    else
	buf_json_str(b, s);
}

/* msgauth_json - the object of `mxshield dmarc --json` */
void    msgauth_json(const struct msgauth *m, struct buf *b)
{
    struct buf ar;
    size_t  n = dkim_verify_count(m->dkim);

    buf_puts(b, "{\"spf\": {\"result\": ");
    json_str(b, spf_result_name(m->spf.result));
    buf_puts(b, ", \"domain\": ");
    json_str(b, m->spf.domain.s ? m->spf.domain.s : "");
    buf_puts(b, "}, \"dkim\": [");
    for (size_t i = 0; i < n; i++) {
	const struct dkim_sig_result *s = dkim_verify_result(m->dkim, i);

	buf_printf(b, "%s{\"index\": %d, \"result\": ", i ? ", " : "", s->index);
	json_str(b, dkim_result_name(s->result));
	buf_puts(b, ", \"d\": ");
	json_str(b, s->d);
	buf_puts(b, ", \"s\": ");
	json_str(b, s->s);
	buf_puts(b, ", \"a\": ");
	json_str(b, s->a);
	buf_puts(b, ", \"i\": ");
	json_str(b, s->i);
	buf_puts(b, ", \"reason\": ");
	json_str(b, s->reason ? s->reason : "");
	buf_puts(b, "}");
    }
    buf_puts(b, "], \"arc\": {\"result\": ");
    json_str(b, arc_result_name(m->arc));
    buf_puts(b, "}, \"dmarc\": {\"result\": ");
    json_str(b, msgauth_dmarc_result(m));
    buf_puts(b, ", \"header_from\": ");
    json_str(b, m->from_domain);
    buf_puts(b, ", \"policy\": ");
    json_str(b, dmarc_policy_name(m->have_policy ? dmarc_effective(&m->found) : DMARC_POLICY_NONE));
    buf_puts(b, ", \"disposition\": ");
    json_str(b, dmarc_policy_name(m->disposition));
    buf_puts(b, "}, \"authentication_results\": ");
    buf_init(&ar);
    buf_puts(&ar, "Authentication-Results:");
    msgauth_ar_value(m, &ar, " ");
    json_str(b, ar.s);
    buf_free(&ar);
    buf_puts(b, ", \"action\": ");
    json_str(b, msgauth_action_name(m->action));
    buf_puts(b, "}");
}
