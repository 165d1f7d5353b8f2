/*
 * reply.c - replies, deferral flags and log lines, as Postfix's smtpd
 * makes them.
 *
 * eval_reject() is smtpd_check_reject(): it formats "CODE DSN text",
 * validates the code, honours warn_if_reject (log reject_warning, carry
 * on), defer_if_reject (a 5xx becomes the remembered 4xx), soft_bounce and
 * dry_run, and logs "QUEUEID: reject: RCPT from name[addr]: ...; from=<>
 * to=<> proto=ESMTP helo=<> restriction=NAME" so fail2ban filters written
 * for Postfix match and mxshield report can count by restriction.
 * eval_table_result() is check_table_result(): what an access table's
 * right-hand side means.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "rules/dnsxl.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

/* eval_trace_detail - add to the current restriction's trace detail */
void    eval_trace_detail(struct eval *e, const char *fmt,...)
{
    va_list ap;

    if (e->trace == NULL)
	return;
    if (e->tdetail.len)
	buf_puts(&e->tdetail, "; ");
    va_start(ap, fmt);
    buf_vprintf(&e->tdetail, fmt, ap);
    va_end(ap);
}

/* eval_log_whatsup - one Postfix-style decision log line */
void    eval_log_whatsup(struct eval *e, const char *whatsup, const char *text)
{
    const struct txn *r = e->txn;
    static struct buf b;		/* one line at a time: kept, not freed */

    /* "NOQUEUE: reject: RCPT from name[addr]: text; from=<> to=<> proto= helo=<>" */
    buf_reset(&b);
    buf_puts(&b, *r->queue_id ? r->queue_id : "NOQUEUE");
    buf_puts(&b, ": ");
    buf_puts(&b, whatsup);
    buf_puts(&b, ": ");
    buf_puts(&b, e->where);
    buf_puts(&b, " from ");
    buf_puts(&b, e->namaddr.s);
    buf_puts(&b, ": ");
    buf_puts(&b, text);
    buf_puts(&b, "; from=<");
    buf_puts(&b, r->sender);
    buf_putc(&b, '>');
    if (*r->recipient) {
	buf_puts(&b, " to=<");
	buf_puts(&b, r->recipient);
	buf_putc(&b, '>');
    }
    if (*r->protocol_name) {
	buf_puts(&b, " proto=");
	buf_puts(&b, r->protocol_name);
    }
    if (*r->helo_name) {
	buf_puts(&b, " helo=<");
	buf_puts(&b, r->helo_name);
	buf_putc(&b, '>');
    }
    /* mxshield's addition, last so that Postfix's filters still match:
     * which restriction decided (mxshield report counts by it) */
    if (e->rule_name) {
	buf_puts(&b, " restriction=");
	buf_puts(&b, e->rule_name);
    }
    msg_info_text(b.s);
}

/* dsn_ok - "d.ddd.ddd" with first digit 4 or 5 */
static int dsn_ok(const char *dsn)
{
    const char *cp = dsn;
    int     n;

    if (*cp != '4' && *cp != '5')
	return 0;
    if (*++cp != '.')
	return 0;
    for (n = 0, cp++; isdigit((unsigned char) *cp); cp++)
	n++;
    if (n < 1 || n > 3 || *cp != '.')
	return 0;
    for (n = 0, cp++; isdigit((unsigned char) *cp); cp++)
	n++;
    return n >= 1 && n <= 3 && (*cp == 0 || *cp == ' ');
}

/* format_reply - "CODE DSN text" into out, validated as Postfix does */
static void format_reply(struct buf *out, int code, const char *dsn,
			         const char *fmt, va_list ap)
{
    buf_reset(out);
    buf_put_long(out, code);
    buf_putc(out, ' ');
    buf_puts(out, dsn);
    buf_putc(out, ' ');
    if (strcmp(fmt, "%s") == 0)
	buf_puts(out, va_arg(ap, const char *));	/* the usual case, without printf */
    else
	buf_vprintf(out, fmt, ap);
    if (code < 400 || code > 599 || !dsn_ok(out->s + 4)) {
	msg_warn("SMTP reply code configuration error: %s", out->s);
	buf_reset(out);
	buf_puts(out, "450 4.7.1 Service unavailable");
    }
    if (out->len > 510) {
	out->s[510] = 0;
	out->len = 510;
    }
    str_copy_visible(out->s, out->s, strlen(out->s), 0, ' ');
    /* the DSN class follows the SMTP code */
    out->s[4] = out->s[0];
}

/* eval_reject_text - reject with a formatted reply, smtpd_check_reject's way */
int     eval_reject_text(struct eval *e, const char *reply)
{
    struct buf text;
    int     warn = e->warn_level != 0 || e->pol->dry_run;

    if (e->scoring) {
	/* a scored restriction weighs in instead of deciding */
	eval_score_hit(e, !e->temp_failure, reply);
	return RS_DUNNO;
    }
    buf_init(&text);
    buf_puts(&text, reply);

    /* An earlier temporary error turns this rejection into a deferral. */
    if (!warn && e->dir.active && text.s[0] == '5') {
	e->dir.active = 0;
	e->warn_level = 0;
	buf_reset(&text);
	buf_puts(&text, e->dir.reply.s);
    }
    if (e->pol->soft_bounce && text.s[0] == '5') {
	text.s[0] = '4';
	text.s[4] = '4';
    }
    eval_log_whatsup(e, warn ? "reject_warning" : "reject", text.s);
    eval_trace_detail(e, "%s: %s", warn ? "reject_warning" : "reject", text.s);
    if (warn) {
	buf_free(&text);
	return RS_DUNNO;
    }
    buf_reset(&e->reply);
    buf_puts(&e->reply, text.s);
    buf_free(&text);
    return RS_REJECT;
}

/* eval_reject - format a reply and reject with it */
int     eval_reject(struct eval *e, int code, const char *dsn, const char *fmt,...)
{
    va_list ap;
    struct buf text;
    int     rc;

    buf_init(&text);
    va_start(ap, fmt);
    format_reply(&text, code, dsn, fmt, ap);
    va_end(ap);
    rc = eval_reject_text(e, text.s);
    buf_free(&text);
    return rc;
}

/* eval_defer_if - remember a deferral for later (defer_if_permit/reject) */
int     eval_defer_if(struct eval *e, struct defer_flag *f, int code,
		              const char *dsn, const char *fmt,...)
{
    va_list ap;

    if (e->scoring) {
	struct buf text;

	buf_init(&text);
	va_start(ap, fmt);
	format_reply(&text, code, dsn, fmt, ap);
	va_end(ap);
	eval_score_hit(e, 0, text.s);
	buf_free(&text);
	return RS_DUNNO;
    }
    if (e->warn_level != 0 || e->pol->dry_run) {
	struct buf text;

	buf_init(&text);
	va_start(ap, fmt);
	format_reply(&text, code, dsn, fmt, ap);
	va_end(ap);
	eval_log_whatsup(e, "reject_warning", text.s);
	eval_trace_detail(e, "reject_warning: %s", text.s);
	buf_free(&text);
	return RS_DUNNO;
    }
    va_start(ap, fmt);
    format_reply(&f->reply, code, dsn, fmt, ap);
    va_end(ap);
    f->active = 1;
    f->rule = e->rule_name;
    f->armed_by = e->cur_rule;
    f->stage = e->cur < e->nstages ? (int) e->stages[e->cur] : -1;
    eval_trace_detail(e, "%s armed: %s", f == &e->dip ? "defer_if_permit"
		      : "defer_if_reject", f->reply.s);
    return RS_DUNNO;
}

/* eval_permit - an explicit permit */
int     eval_permit(struct eval *e, const char *what)
{
    eval_trace_detail(e, "permit (%s)", what);
    return RS_OK;
}

/* eval_server_error - configuration problem: defer, never pass or bounce */
int     eval_server_error(struct eval *e)
{
    int     saved = e->warn_level;
    int     rc;

    e->warn_level = 0;
    rc = eval_reject(e, 451, "4.3.5", "Server configuration error");
    e->warn_level = saved;
    return rc;
}

/* dsn_fix - adapt a generic address DSN to the reply class */
static void dsn_fix(char *dsn, const char *reply_class)
{
    if (strncmp(dsn + 1, ".1.", 3) != 0)
	return;
    if (strcmp(reply_class, "Sender address") == 0 && strcmp(dsn + 1, ".1.1") == 0)
	dsn[4] = '7';
    else if (strcmp(reply_class, "Recipient address") != 0
	     && strcmp(reply_class, "Sender address") != 0)
	strcpy(dsn + 1, ".7.1");
}

/* split_dsn - "4.7.1 text" -> dsn, text; default dsn when absent */
static const char *split_dsn(const char *text, const char *def, char dsn[16])
{
    size_t  n = strcspn(text, " \t");

    if (n > 0 && n < 12) {
	char    cand[16];

	memcpy(cand, text, n);
	cand[n] = 0;
	if (dsn_ok(cand)) {
	    strcpy(dsn, cand);
	    text += n;
	    while (*text == ' ' || *text == '\t')
		text++;
	    return text;
	}
    }
    snprintf(dsn, 16, "%s", def);
    return text;
}

/* word_is - case-insensitive match of the command word */
static int word_is(const char *value, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(value, word, len) == 0;
}

/* eval_table_result - act on an access table's right-hand side */
int     eval_table_result(struct eval *e, const char *table, const char *value,
			          const char *datum, const char *reply_name,
			          const char *reply_class, int def_acl)
{
    size_t  cmd_len = strcspn(value, " \t");
    const char *text = value + cmd_len;
    char    dsn[16];
    int     code;

    while (*text == ' ' || *text == '\t')
	text++;
    eval_trace_detail(e, "%s: \"%s\" -> \"%s\"", table, datum, value);

    if (word_is(value, cmd_len, "DUNNO"))
	return RS_DUNNO;
    if (word_is(value, cmd_len, "REJECT")) {
	text = split_dsn(text, "5.7.1", dsn);
	dsn_fix(dsn, reply_class);
	return eval_reject(e, e->pol->code.access_reject, dsn,
			   "<%s>: %s rejected: %s", reply_name, reply_class,
			   *text ? text : "Access denied");
    }
    if (word_is(value, cmd_len, "DEFER")) {
	text = split_dsn(text, "4.7.1", dsn);
	dsn_fix(dsn, reply_class);
	return eval_reject(e, e->pol->code.access_defer, dsn,
			   "<%s>: %s rejected: %s", reply_name, reply_class,
			   *text ? text : "Access denied");
    }
    if (word_is(value, cmd_len, "INFO") || word_is(value, cmd_len, "WARN")) {
	eval_log_whatsup(e, word_is(value, cmd_len, "INFO") ? "info" : "warn", text);
	return RS_DUNNO;
    }
    if (word_is(value, cmd_len, "FILTER") || word_is(value, cmd_len, "REDIRECT")
	|| word_is(value, cmd_len, "HOLD") || word_is(value, cmd_len, "DISCARD")
	|| word_is(value, cmd_len, "BCC")) {
	int     is_filter = word_is(value, cmd_len, "FILTER");
	int     is_addr = word_is(value, cmd_len, "REDIRECT") || word_is(value, cmd_len, "BCC");

	if ((is_filter && strchr(text, ':') == NULL) || (is_addr && strchr(text, '@') == NULL)) {
	    msg_warn("access table %s entry \"%s\" has %.*s without a valid argument",
		     table, datum, (int) cmd_len, value);
	    return RS_DUNNO;
	}
	buf_reset(&e->tmp);
	buf_printf(&e->tmp, "<%s>: %s triggers %.*s%s%s", reply_name, reply_class,
		   (int) cmd_len, value, *text ? " " : "", text);
	eval_log_whatsup(e, value[0] == 'D' || value[0] == 'd' ? "discard" :
			 value[0] == 'H' || value[0] == 'h' ? "hold" :
			 value[0] == 'F' || value[0] == 'f' ? "filter" :
			 value[0] == 'B' || value[0] == 'b' ? "bcc" : "redirect",
			 e->tmp.s);
	/* The policy reply carries one action; the strongest one wins. */
	if (e->side.len == 0 || word_is(value, cmd_len, "DISCARD")) {
	    buf_reset(&e->side);
	    buf_append(&e->side, value, cmd_len);
	    for (char *cp = e->side.s; *cp; cp++)
		*cp = (char) toupper((unsigned char) *cp);
	    if (*text) {
		buf_putc(&e->side, ' ');
		buf_puts(&e->side, text);
	    }
	}
	if (word_is(value, cmd_len, "DISCARD")) {
	    e->discard = 1;
	    return eval_permit(e, "DISCARD");
	}
	return RS_DUNNO;
    }
    if (word_is(value, cmd_len, "DEFER_IF_PERMIT")) {
	text = split_dsn(text, "4.7.1", dsn);
	dsn_fix(dsn, reply_class);
	return eval_defer_if(e, &e->dip, e->pol->code.access_defer,
			     dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
			     *text ? text : "Service unavailable");
    }
    if (word_is(value, cmd_len, "DEFER_IF_REJECT")) {
	text = split_dsn(text, "4.7.1", dsn);
	dsn_fix(dsn, reply_class);
	return eval_defer_if(e, &e->dir, e->pol->code.access_defer,
			     dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
			     *text ? text : "Service unavailable");
    }
    if (word_is(value, cmd_len, "PREPEND")) {
	const char *colon = strchr(text, ':');

	if (*text == 0 || colon == NULL || colon == text
	    || strcspn(text, " \t:") != (size_t) (colon - text)) {
	    msg_warn("access table %s entry \"%s\" requires header: text", table, datum);
	    return RS_DUNNO;
	}
	if (e->prepend.len == 0)
	    buf_puts(&e->prepend, text);
	else
	    msg_warn("%s: only one PREPEND fits in a policy reply; not adding \"%s\"",
		     table, text);
	return RS_DUNNO;
    }
    if (str_is_digits(value))
	return eval_permit(e, table);
    if (cmd_len == 3 && *text && (value[0] == '4' || value[0] == '5')
	&& isdigit((unsigned char) value[1]) && isdigit((unsigned char) value[2])) {
	char    def[6] = "x.7.1";

	code = atoi(value);
	def[0] = value[0];
	text = split_dsn(text, def, dsn);
	dsn_fix(dsn, reply_class);
	return eval_reject(e, code, dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
			   *text ? text : "Access denied");
    }
    if (word_is(value, cmd_len, "OK") || word_is(value, cmd_len, "RELAY"))
	return eval_permit(e, table);

    /* Anything else: a list of restrictions or restriction classes. */
    if (strchr(value, ':') != NULL) {
	msg_warn("access table %s has entry with lookup table: %s", table, value);
	msg_warn("do not specify lookup tables inside access tables;"
		 " define a restriction class and name it instead");
	return eval_server_error(e);
    }
    const struct rlist *l;
    struct rlist *owned;
    struct buf err;

    buf_init(&err);
    if (result_list_get(e->pol, table, value, def_acl, &l, &owned, &err) < 0) {
	msg_warn("access table %s entry \"%s\": %s", table, datum, err.s);
	buf_free(&err);
	return eval_server_error(e);
    }
    buf_free(&err);
    if (l->n == 0) {
	msg_warn("access table %s entry %s has empty value", table, datum);
	if (owned) {
	    rlist_free(owned);
	    free(owned);
	}
	return RS_OK;
    }
    return eval_push(e, l, owned, reply_name, reply_class, def_acl);
}

/* eval_score_hit - the scored rule decided (sure) or could not tell */
void    eval_score_hit(struct eval *e, int sure, const char *what)
{
    const struct rule *r = e->scoring;

    e->scored_any = 1;
    if (sure) {
	e->score += r->score;
	if (e->score_hits.len)
	    buf_puts(&e->score_hits, ", ");
	buf_printf(&e->score_hits, "%s%s%s %+d", r->name, r->xl ? " " : "",
		   r->xl ? r->xl->domain : "", r->score);
	eval_trace_detail(e, "score %+d (now %d): %s", r->score, e->score, what);
    } else {
	if (r->score > 0)
	    e->score_unsure += r->score;
	eval_trace_detail(e, "score %+d unknown (temporary failure): %s", r->score, what);
    }
}

/* eval_score_apply - compare the score with the thresholds */
enum rstatus eval_score_apply(struct eval *e)
{
    long    rej = e->pol->score_reject, def = e->pol->score_defer;

    e->score_checked = 1;
    if (!e->scored_any) {
	eval_trace_detail(e, "score 0: nothing scored");
	return RS_DUNNO;
    }
    if (e->score >= rej)
	return eval_reject(e, e->pol->code.score_reject, "5.7.1",
			   "Client host rejected: score %d reached %ld (%s)",
			   e->score, rej, e->score_hits.s);
    if (e->score + e->score_unsure >= rej)
	return eval_reject(e, 450, "4.7.1",
			   "Client host rejected: score %d, and checks that could "
			   "add %d failed temporarily; try again later",
			   e->score, e->score_unsure);
    if (def > 0 && e->score >= def)
	return eval_reject(e, e->pol->code.score_defer, "4.7.1",
			   "Client host rejected: score %d reached %ld (%s); try again later",
			   e->score, def, e->score_hits.s);
    eval_trace_detail(e, "score %d below %ld", e->score, def > 0 && def < rej ? def : rej);
    return RS_DUNNO;
}
