/*
 * infer.c - the restriction behind a reply, from the words Postfix (and
 * mxshield, which copies them) uses for each.
 *
 * The table is searched in order, each entry once over the text (bounded
 * by the line length limit), so a line costs a fixed number of passes.
 */
#include <string.h>

#include "report/infer.h"

static const struct {
    const char *words;			/* found anywhere in the reply text */
    const char *restriction;
} known[] = {
    {"Relay access denied", "reject_unauth_destination"},
    {"cannot find your reverse hostname", "reject_unknown_reverse_client_hostname"},
    {"cannot find your hostname", "reject_unknown_client_hostname"},
    {"Helo command rejected: need fully-qualified hostname", "reject_non_fqdn_helo_hostname"},
    {"Helo command rejected: Invalid name", "reject_invalid_helo_hostname"},
    {"Helo command rejected: Host not found", "reject_unknown_helo_hostname"},
    {"Sender address rejected: need fully-qualified address", "reject_non_fqdn_sender"},
    {"Recipient address rejected: need fully-qualified address", "reject_non_fqdn_recipient"},
    {"Sender address rejected: Domain not found", "reject_unknown_sender_domain"},
    {"Recipient address rejected: Domain not found", "reject_unknown_recipient_domain"},
    {"Sender address rejected: Domain ", "reject_unknown_sender_domain"},	/* nullMX */
    {"Recipient address rejected: Domain ", "reject_unknown_recipient_domain"},
    {"Recipient address rejected: User unknown", "reject_unlisted_recipient"},
    {"Sender address rejected: User unknown", "reject_unlisted_sender"},
    {"Sender address rejected: not owned by user", "reject_sender_login_mismatch"},
    {"Improper use of SMTP command pipelining", "reject_unauth_pipelining"},
    {"Error: send HELO/EHLO first", "smtpd_helo_required"},
    {"Multi-recipient bounce", "reject_multi_recipient_bounce"},
    {"] blocked using ", "reject_rbl_client"},
    {"Greylisted", "greylist"},
    {"SPF fail", "check_spf"},
    {"Server configuration problem", "check_policy_service"},
    {"Temporary lookup failure", "lookup failure"},
    {"defer_if_permit requested", "defer_if_permit"},
    {"defer_if_reject requested", "defer_if_reject"},
};

/* find - memmem over a span */
static const char *find(struct span sp, const char *w)
{
    return memmem(sp.s, sp.len, w, strlen(w));
}

/* rbl_kind - which DNS list restriction words a "blocked using" reply */
static const char *rbl_kind(struct span t)
{
    if (find(t, "Client host [") == NULL)
	return find(t, "Sender address [") ? "reject_rhsbl_sender"
	    : find(t, "Helo command [") ? "reject_rhsbl_helo"
	    : find(t, "Recipient address [") ? "reject_rhsbl_recipient"
	    : "reject_rhsbl_client";
    /* an address in the brackets: a DNSBL; a name: an RHSBL */
    const char *b = find(t, "Client host [") + 13;
    const char *end = t.s + t.len;

    for (; b < end && *b != ']'; b++)
	if (!((*b >= '0' && *b <= '9') || *b == '.' || *b == ':'
	      || (*b >= 'a' && *b <= 'f') || (*b >= 'A' && *b <= 'F')))
	    return "reject_rhsbl_client";
    return "reject_rbl_client";
}

/* infer_restriction - the restriction's name (with a DNS list's domain) */
void    infer_restriction(const struct event *ev, struct buf *out)
{
    const char *using, *cls;
    size_t  i;

    buf_reset(out);
    using = find(ev->text, " blocked using ");
    if (ev->restriction.len > 0) {
	buf_append(out, ev->restriction.s, ev->restriction.len);
    } else if (using) {
	buf_puts(out, rbl_kind(ev->text));
    } else {
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	    if (find(ev->text, known[i].words)) {
		buf_puts(out, known[i].restriction);
		break;
	    }
	if (i == sizeof(known) / sizeof(known[0])) {
	    /* "<x>: Sender address rejected: text": an access table or a
	     * policy service; name the class */
	    buf_puts(out, "other");
	    if ((cls = find(ev->text, " rejected: ")) != NULL) {
		const char *b = cls;

		while (b > ev->text.s && b[-1] != ':' && b[-1] != ';')
		    b--;
		while (*b == ' ')
		    b++;
		buf_puts(out, " (");
		buf_append(out, b, (size_t) (cls - b) + 9);
		buf_putc(out, ')');
	    }
	}
    }
    if (using && (strncmp(out->s, "reject_rbl", 10) == 0 || strncmp(out->s, "reject_rhsbl", 12) == 0
		  || strncmp(out->s, "permit_dns", 10) == 0)) {
	const char *d = using + 15, *end = ev->text.s + ev->text.len;

	for (i = 0; d + i < end && d[i] != ';' && d[i] != ' ' && i < 255; i++)
	    ;
	buf_putc(out, ' ');
	buf_append(out, d, i);
    }
}
