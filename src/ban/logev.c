/*
 * logev.c - recognise the Postfix log lines auto-ban counts.
 *
 * SYNOPSIS
 *	struct logev *l = logev_new();
 *	if (logev_line(l, line, len, time(NULL), &ev))
 *	    ... ev.kind, ev.host, ev.user, ev.when ...
 *	logev_free(l);
 *
 * DESCRIPTION
 *	A line is a syslog record in one of three forms,
 *
 *	    2023-06-01T12:34:56.123456+02:00 host postfix/smtpd[123]: msg
 *	    Jun  1 12:34:56 host postfix/smtpd[123]: msg	(also Postfix's
 *							 maillog_file)
 *	    postfix/smtpd[123]: msg			(journal: identifier
 *							 and pid from its fields)
 *
 *	or a journal MESSAGE alone (the prefix is read by util/logprefix.c,
 *	shared with mxshield report).  The program must be Postfix's
 *	(postfix, postfix-NAME, with a service path such as
 *	postfix/submission/smtpd).  The messages are Postfix 3.7's, read in
 *	its source (smtpd.c, smtpd_sasl_glue.c, smtpd_check.c, postscreen,
 *	the anvil rate warnings smtpd logs), and the set recognised is a
 *	superset of what fail2ban 1.0's postfix filter in its aggressive
 *	mode matches: every line it matches is an event here except a
 *	"disconnect ... auth=0/N" that follows a failure line of the same
 *	process and client (one failed AUTH counts once), and what it
 *	deliberately leaves out is left out here too (a lost connection in
 *	DATA, "Connection lost to authentication server").  The rejects
 *	counted are the ones that filter counts (its reply codes and
 *	texts); events it does not know are DNSBL rank, COMMAND PIPELINING,
 *	NON-SMTP COMMAND (postscreen's, and smtpd's "non-SMTP command"
 *	warning), the rate-limit warnings, SASL mechanisms beyond
 *	LOGIN/PLAIN/CRAM-MD5/DIGEST-MD5, and Postfix 3.10's queue-id form of
 *	"lost connection".
 *
 *	No regular expressions: each test walks the line once, forward,
 *	so the work is linear in the line (at most LOGEV_LINE_MAX bytes;
 *	a longer line is no event).
 *
 *	The client is the address between the first "[" after "from " (or
 *	the start of a warning's text) and its "]", canonical (inet_parse:
 *	IPv4-mapped IPv6 becomes IPv4); a name there is no event.
 *
 * DIAGNOSTICS
 *	None: a line that is not understood is not an event.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ban/event.h"
#include "util/inet.h"
#include "util/logprefix.h"
#include "util/mem.h"

static const char *const event_names[BEV_COUNT] = {
    [BEV_AUTH_FAILED] = "auth-failed",
    [BEV_LOST_AFTER_AUTH] = "lost-after-auth",
    [BEV_LOST_CONNECTION] = "lost-connection",
    [BEV_TOO_MANY_ERRORS] = "too-many-errors",
    [BEV_IMPROPER_PIPELINING] = "improper-pipelining",
    [BEV_REJECT] = "reject",
    [BEV_PREGREET] = "pregreet",
    [BEV_DNSBL] = "dnsbl",
    [BEV_COMMAND_PIPELINING] = "command-pipelining",
    [BEV_HANGUP] = "hangup",
    [BEV_NON_SMTP_COMMAND] = "non-smtp-command",
    [BEV_RATE_LIMIT] = "rate-limit",
    [BEV_COMMAND_LIMIT] = "command-limit",
};

static const char *const reject_names[BRJ_COUNT] = {
    [BRJ_NONE] = "none",
    [BRJ_CLIENT] = "client",
    [BRJ_RBL] = "rbl",
    [BRJ_HELO] = "helo",
    [BRJ_SENDER] = "sender",
    [BRJ_RECIPIENT] = "recipient",
    [BRJ_RELAY] = "relay",
    [BRJ_OTHER] = "other",
};

/* ban_event_name - the stable name of a kind; NULL past BEV_COUNT */
const char *ban_event_name(enum ban_event_kind k)
{
    return (unsigned) k < BEV_COUNT ? event_names[k] : NULL;
}

/* ban_reject_name - the stable name of a reject class; NULL past BRJ_COUNT */
const char *ban_reject_name(enum ban_reject_class c)
{
    return (unsigned) c < BRJ_COUNT ? reject_names[c] : NULL;
}

/* ban_event_lookup - the kind of a name, -1 when none */
int     ban_event_lookup(const char *name)
{
    for (int k = 0; k < BEV_COUNT; k++)
	if (strcmp(event_names[k], name) == 0)
	    return k;
    return -1;
}

 /*
  * The state between lines: per Postfix process (pid), the client whose
  * failed AUTH was last seen, so that the "disconnect ... auth=0/N" line
  * of the same session is not counted a second time.  A fixed table
  * indexed by pid: a collision forgets one session (that AUTH then counts
  * twice), it never grows.  And the last hour a local time stamp was
  * converted in, as mktime() is slow.
  */
#define LOGEV_SLOTS	512

struct logev_slot {
    long    pid;
    char    host[BAN_HOST_MAX];
};

struct logev {
    struct logev_slot slot[LOGEV_SLOTS];
    struct logprefix_clock clock;
};

/* logev_new - a classifier with no history */
struct logev *logev_new(void)
{
    struct logev *l = xcalloc(1, sizeof(*l));

    logprefix_clock_init(&l->clock);
    return l;
}

/* logev_free - release a classifier */
void    logev_free(struct logev *l)
{
    free(l);
}

 /*
  * A cursor over the line: p moves forward only.
  */
struct cur {
    const char *p;
    const char *e;
};

#define C_LEFT(c)	((size_t) ((c)->e - (c)->p))
#define IS_DIGIT(ch)	((ch) >= '0' && (ch) <= '9')
#define IS_UPPER(ch)	((ch) >= 'A' && (ch) <= 'Z')
#define IS_WORD(ch)	(IS_DIGIT(ch) || IS_UPPER(ch) || ((ch) >= 'a' && (ch) <= 'z') \
			 || (ch) == '_')

/* lit - skip a literal; 1 when it was there */
static int lit(struct cur *c, const char *s, size_t n)
{
    if (C_LEFT(c) < n || memcmp(c->p, s, n) != 0)
	return 0;
    c->p += n;
    return 1;
}

#define LIT(c, s)	lit((c), (s), sizeof(s) - 1)

/* digits - skip 1..max digits; their value, -1 when none */
static long digits(struct cur *c, int max)
{
    long    v = 0;
    int     n = 0;

    while (c->p < c->e && IS_DIGIT(*c->p) && n < max) {
	v = v * 10 + (*c->p++ - '0');
	n++;
    }
    return n ? v : -1;
}

/* word_end - the end of the token at p (up to a space or the end) */
static const char *word_end(const char *p, const char *e)
{
    while (p < e && *p != ' ')
	p++;
    return p;
}

/* find_byte - the first ch at or after p, or NULL */
static const char *find_byte(const char *p, const char *e, int ch)
{
    return p < e ? memchr(p, ch, (size_t) (e - p)) : NULL;
}

/* bracket_host - from p, skip to the first '[' and take the address up
 * to its ']' into ev->host; the cursor after ']'.  1 when an address. */
static int bracket_host(struct cur *c, struct ban_event *ev)
{
    const char *open = find_byte(c->p, c->e, '[');
    const char *close;
    char    tmp[BAN_HOST_MAX + 8];
    struct inet_addr a;
    size_t  n;

    if (open == NULL || (close = find_byte(open + 1, c->e, ']')) == NULL)
	return 0;
    n = (size_t) (close - open - 1);
    if (n == 0 || n >= sizeof(tmp) || open[1] == '[' || open[1] == 'I')
	return 0;				/* no "[[", no "IPv6:" literal */
    memcpy(tmp, open + 1, n);
    tmp[n] = 0;
    if (inet_parse(tmp, &a) != 0)
	return 0;
    inet_format(&a, ev->host, sizeof(ev->host));
    c->p = close + 1;
    return 1;
}

/* opt_port - skip ":digits" if there */
static void opt_port(struct cur *c)
{
    if (C_LEFT(c) >= 2 && c->p[0] == ':' && IS_DIGIT(c->p[1])) {
	c->p++;
	(void) digits(c, 10);
    }
}

/* from_host - "from " then bracket_host (fail2ban's "from [^[]*\[HOST\]") */
static int from_host(struct cur *c, struct ban_event *ev)
{
    return LIT(c, "from ") && bracket_host(c, ev);
}

 /*
  * The syslog prefix (util/logprefix.c): timestamp, host, then
  * "program[pid]: ", the program Postfix's.
  */

/* postfix_tag - "postfix/..." or "postfix-NAME/...", a "/" before any
 * "[pid]", and a space after the ":" */
static int postfix_tag(const struct logprefix *p)
{
    return p->prog_len >= 8 && memcmp(p->prog, "postfix", 7) == 0
	&& (p->prog[7] == '/' || p->prog[7] == '-')
	&& memchr(p->prog, '/', p->prog_len) != NULL && p->msg[-1] == ' ';
}

/* prefix - skip the syslog prefix; 1 with the message at c->p, 0 when
 * the line is another program's */
static int prefix(struct logev *l, struct cur *c, time_t now, long *pid, time_t *when)
{
    struct logprefix p;
    int     ours;

    if (now == 0)
	now = time(NULL);
    ours = logprefix_parse(&l->clock, c->p, C_LEFT(c), (int64_t) now, &p) == 0
	&& postfix_tag(&p);

    *when = 0;
    *pid = 0;
    if (ours) {
	*when = (time_t) p.time;
	*pid = (long) p.pid;
	c->p = p.msg;
	return 1;
    }
    /* a stamped line is Postfix's or none; else a journal MESSAGE alone */
    return !p.has_time;
}

 /*
  * The messages.
  */

/* sasl_failed - after "warning: ": "NAME[ADDR]:PORT: SASL MECH
 * authentication failed: REASON[, sasl_username=USER]" */
static int sasl_failed(struct cur *c, struct ban_event *ev)
{
    const char *e;

    if (!bracket_host(c, ev))
	return 0;
    opt_port(c);
    if (!LIT(c, ": SASL "))
	return 0;
    e = word_end(c->p, c->e);
    if (e == c->p)
	return 0;
    c->p = e;
    if (!LIT(c, " authentication failed:"))
	return 0;
    /* not the client's fault (fail2ban excludes it too) */
    if (LIT(c, " Connection lost to authentication server"))
	return 0;

    /* Postfix 3.9 and later: ", sasl_username=USER" at the end */
    static const char key[] = ", sasl_username=";
    const char *last = NULL;

    for (const char *p = c->p; (p = find_byte(p, c->e, ',')) != NULL; p++)
	if ((size_t) (c->e - p) >= sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0)
	    last = p + sizeof(key) - 1;
    if (last && last < c->e && !(c->e - last == 13 && memcmp(last, "(unavailable)", 13) == 0)) {
	size_t  n = (size_t) (c->e - last);

	if (n > BAN_USER_MAX)
	    n = BAN_USER_MAX;
	memcpy(ev->user, last, n);
	ev->user[n] = 0;
	ev->has_user = 1;
    }
    ev->kind = BEV_AUTH_FAILED;
    return 1;
}

/* rate_limit - after "warning: ": smtpd's anvil limits, "Connection rate
 * limit exceeded: N from NAME[ADDR] for service S" and its kin */
static int rate_limit(struct cur *c, struct ban_event *ev)
{
    static const char *const what[] = {
	"Connection rate", "Connection concurrency", "Message delivery request rate",
	"Recipient address rate", "New TLS session rate", "AUTH command rate",
    };
    size_t  i;

    for (i = 0; i < sizeof(what) / sizeof(what[0]); i++)
	if (lit(c, what[i], strlen(what[i])))
	    break;
    if (i == sizeof(what) / sizeof(what[0]) || !LIT(c, " limit exceeded: ") || digits(c, 10) < 0
	|| !LIT(c, " ") || !from_host(c, ev) || !LIT(c, " for service "))
	return 0;
    ev->kind = BEV_RATE_LIMIT;
    return 1;
}

/* word_is_boundary - fail2ban's \b after a word: no word character next */
static int word_boundary(const struct cur *c)
{
    return c->p == c->e || !IS_WORD(*c->p);
}

/* reject_text - the reply text fail2ban's filter counts: the class, or -1 */
static int reject_text(struct cur *c, const char *cmd)
{
    static const struct {
	const char *text;
	int     cls;
    } tail[] = {
	{"Service unavailable", BRJ_CLIENT},	/* RBL decided below */
	{"Client host rejected", BRJ_CLIENT},
	{"Command rejected", BRJ_OTHER},
	{"Data command rejected", BRJ_OTHER},
	{"Relay access denied", BRJ_RELAY},
	{"Host not found", BRJ_NONE},
	{"Domain not found", BRJ_NONE},
	{"need fully-qualified hostname", BRJ_NONE},
	{"match", BRJ_NONE},
	{"User unknown", BRJ_NONE},
	{"user unknown", BRJ_NONE},
	{"Undeliverable address", BRJ_NONE},
	{"undeliverable address", BRJ_NONE},
    };
    int     cls = BRJ_NONE;

    /* "<addr>: " or ": " */
    if (C_LEFT(c) && *c->p == '<') {
	const char *gt = find_byte(c->p, c->e, '>');

	if (gt && gt + 2 < c->e + 1 && (size_t) (c->e - gt) >= 3 && gt[1] == ':' && gt[2] == ' ')
	    c->p = gt + 3;
    } else {
	(void) LIT(c, ": ");
    }
    if (LIT(c, "Helo command rejected: "))
	cls = BRJ_HELO;
    else if (LIT(c, "Sender address rejected: "))
	cls = BRJ_SENDER;
    else if (LIT(c, "Recipient address rejected: "))
	cls = BRJ_RECIPIENT;
    for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
	struct cur t = *c;

	if (!lit(&t, tail[i].text, strlen(tail[i].text)) || !word_boundary(&t))
	    continue;
	if (cls != BRJ_NONE)
	    return cls;
	if (i == 0) {
	    /* "Service unavailable; Client host [a] blocked using list" */
	    if (LIT(&t, "; Client host [") || LIT(&t, "; client ["))
		return BRJ_RBL;
	    return BRJ_CLIENT;
	}
	if (tail[i].cls != BRJ_NONE)
	    return tail[i].cls;
	/* a bare text: the command says what was refused */
	if (strcmp(cmd, "RCPT") == 0 || strcmp(cmd, "VRFY") == 0)
	    return BRJ_RECIPIENT;
	if (strcmp(cmd, "MAIL") == 0)
	    return BRJ_SENDER;
	if (strcmp(cmd, "EHLO") == 0 || strcmp(cmd, "HELO") == 0)
	    return BRJ_HELO;
	return BRJ_OTHER;
    }
    return -1;
}

/* reject - after "ID: reject: " or "ID: milter-reject: ": "CMD from
 * NAME[ADDR]:PORT: 5x4 5.x.y TEXT" with CMD of four capitals */
static int reject(struct cur *c, struct ban_event *ev)
{
    char    cmd[5];
    int     cls;

    if (C_LEFT(c) < 5 || !IS_UPPER(c->p[0]) || !IS_UPPER(c->p[1]) || !IS_UPPER(c->p[2])
	|| !IS_UPPER(c->p[3]) || c->p[4] != ' ')
	return 0;
    memcpy(cmd, c->p, 4);
    cmd[4] = 0;
    c->p += 5;
    if (!from_host(c, ev))
	return 0;
    opt_port(c);
    /* [45][50][04] [45]\.\d\.\d+ */
    if (C_LEFT(c) < 10 || !LIT(c, ": ") || (c->p[0] != '4' && c->p[0] != '5')
	|| (c->p[1] != '5' && c->p[1] != '0') || (c->p[2] != '4' && c->p[2] != '0')
	|| c->p[3] != ' ' || (c->p[4] != '4' && c->p[4] != '5') || c->p[5] != '.'
	|| !IS_DIGIT(c->p[6]) || c->p[7] != '.')
	return 0;
    c->p += 8;
    if (digits(c, 10) < 0 || !LIT(c, " "))
	return 0;
    if ((cls = reject_text(c, cmd)) < 0)
	return 0;
    ev->kind = BEV_REJECT;
    ev->reject = (enum ban_reject_class) cls;
    return 1;
}

/* after_from - "WORD from NAME[ADDR]" after a fixed text ("too many
 * errors after ", "improper command pipelining after ") */
static int after_from(struct cur *c, struct ban_event *ev)
{
    const char *e = word_end(c->p, c->e);

    if (e == c->p)
	return 0;
    c->p = e;
    return LIT(c, " ") && from_host(c, ev);
}

/* lost - after "lost connection after ": "CMD from NAME[ADDR]", CMD in
 * capitals and not DATA (data-phase aborts are lawful, fail2ban agrees) */
static int lost(struct cur *c, struct ban_event *ev)
{
    const char *w = c->p;

    while (c->p < c->e && IS_UPPER(*c->p))
	c->p++;
    if (c->p == w || (c->p - w >= 4 && memcmp(w, "DATA", 4) == 0))
	return 0;
    ev->kind = (c->p - w == 4 && memcmp(w, "AUTH", 4) == 0) ? BEV_LOST_AFTER_AUTH
	: BEV_LOST_CONNECTION;
    return LIT(c, " ") && from_host(c, ev);
}

/* failed_auth_stats - after "disconnect from ": "NAME[ADDR]" then
 * counters "name=N ..." up to "auth=0/N" (no AUTH succeeded) */
static int failed_auth_stats(struct cur *c, struct ban_event *ev)
{
    struct cur t = *c;

    if (!bracket_host(&t, ev))
	return 0;
    c->p = word_end(c->p, c->e);		/* the "NAME[ADDR]" word */
    while (LIT(c, " ")) {
	const char *e = word_end(c->p, c->e);

	if (LIT(c, "auth=0/")) {
	    /* [1-9] or two digits or more */
	    if (C_LEFT(c) >= 1 && IS_DIGIT(c->p[0])
		&& (c->p[0] != '0' || (C_LEFT(c) >= 2 && IS_DIGIT(c->p[1]))))
		return 1;
	    return 0;
	}
	/* any other counter: "\S+=\d+" */
	const char *q = e;

	while (q > c->p && IS_DIGIT(q[-1]))
	    q--;
	if (q == e || q - c->p < 2 || q[-1] != '=')
	    return 0;
	c->p = e;
    }
    return 0;
}

/* postscreen - "PREGREET N after T from [ADDR]:P", "HANGUP after T from",
 * "DNSBL rank N for [ADDR]:P", "COMMAND PIPELINING from", "NON-SMTP
 * COMMAND from", "COMMAND TIME|COUNT|LENGTH LIMIT from" */
static int postscreen(struct cur *c, struct ban_event *ev)
{
    if (LIT(c, "PREGREET ")) {
	ev->kind = BEV_PREGREET;
	return digits(c, 10) >= 0 && LIT(c, " after ") && after_from(c, ev);
    }
    if (LIT(c, "HANGUP after ")) {
	ev->kind = BEV_HANGUP;
	return after_from(c, ev);
    }
    if (LIT(c, "DNSBL rank ")) {
	ev->kind = BEV_DNSBL;
	return digits(c, 10) >= 0 && LIT(c, " for ") && bracket_host(c, ev);
    }
    if (LIT(c, "NON-SMTP COMMAND ")) {
	ev->kind = BEV_NON_SMTP_COMMAND;
	return from_host(c, ev);
    }
    if (LIT(c, "COMMAND ")) {
	if (LIT(c, "PIPELINING ")) {
	    ev->kind = BEV_COMMAND_PIPELINING;
	    return from_host(c, ev);
	}
	ev->kind = BEV_COMMAND_LIMIT;
	return (LIT(c, "TIME ") || LIT(c, "COUNT ") || LIT(c, "LENGTH "))
	    && LIT(c, "LIMIT ") && from_host(c, ev);
    }
    return 0;
}

/* queue_id - skip "NOQUEUE: " or "QUEUEID: " (\w+: ) */
static int queue_id(struct cur *c)
{
    const char *p = c->p;

    while (p < c->e && IS_WORD(*p))
	p++;
    if (p == c->p || c->e - p < 2 || p[0] != ':' || p[1] != ' ')
	return 0;
    c->p = p + 2;
    return 1;
}

/* slot - the dedup slot of a process */
static struct logev_slot *slot(struct logev *l, long pid)
{
    return &l->slot[(unsigned long) pid % LOGEV_SLOTS];
}

/* auth_failed - a SASL failure line: remember its client for the
 * disconnect line of the same session */
static void auth_seen(struct logev *l, long pid, const struct ban_event *ev)
{
    struct logev_slot *s = slot(l, pid);

    s->pid = pid;
    memcpy(s->host, ev->host, sizeof(s->host));
}

/* auth_disconnect - a "disconnect ... auth=0/N" line: 1 to count it, 0
 * when its failure line was counted */
static int auth_disconnect(struct logev *l, long pid, struct ban_event *ev)
{
    struct logev_slot *s = slot(l, pid);

    if (s->pid == pid && s->host[0] && strcmp(s->host, ev->host) == 0) {
	s->host[0] = 0;
	return 0;
    }
    ev->kind = BEV_AUTH_FAILED;
    return 1;
}

/* message - classify the text after the prefix */
static int message(struct logev *l, struct cur *c, long pid, struct ban_event *ev)
{
    struct cur t = *c;

    /* one test per first byte; a queue id may begin with any of them */
    switch (*c->p) {
    case 'w':
	if (!LIT(&t, "warning: "))
	    break;
	struct cur w = t;

	if (rate_limit(&w, ev))
	    return 1;
	/* smtpd_forbidden_commands: "non-SMTP command from NAME[ADDR]: ..." */
	w = t;
	if (LIT(&w, "non-SMTP command ") && from_host(&w, ev)) {
	    ev->kind = BEV_NON_SMTP_COMMAND;
	    return 1;
	}
	if (sasl_failed(&t, ev)) {
	    auth_seen(l, pid, ev);
	    return 1;
	}
	return 0;
    case 'l':
	if (LIT(&t, "lost connection after ") && lost(&t, ev))
	    return 1;
	break;
    case 't':
	ev->kind = BEV_TOO_MANY_ERRORS;
	if (LIT(&t, "too many errors after ") && after_from(&t, ev))
	    return 1;
	break;
    case 'i':
	ev->kind = BEV_IMPROPER_PIPELINING;
	if (LIT(&t, "improper command pipelining after ") && after_from(&t, ev))
	    return 1;
	break;
    case 'c':
	/* a new session of this process: forget the last one */
	if (LIT(&t, "connect from ")) {
	    slot(l, pid)->host[0] = 0;
	    return 0;
	}
	break;
    case 'd':
	if (LIT(&t, "disconnect from ")) {
	    if (failed_auth_stats(&t, ev))
		return auth_disconnect(l, pid, ev);
	    return 0;
	}
	break;
    case 'P':
    case 'H':
    case 'D':
    case 'N':
    case 'C':
	if (postscreen(&t, ev))
	    return 1;
	break;
    }

    /* "NOQUEUE: reject: ...", "ID: milter-reject: ...", and Postfix
     * 3.10's "NOQUEUE: lost connection after ..." */
    if (!queue_id(c))
	return 0;
    if (LIT(c, "reject: ") || LIT(c, "milter-reject: "))
	return reject(c, ev);
    if (LIT(c, "lost connection after "))
	return lost(c, ev);
    ev->kind = BEV_TOO_MANY_ERRORS;
    return LIT(c, "too many errors after ") && after_from(c, ev);
}

/* logev_line - classify one line; 1 and *ev when an event */
int     logev_line(struct logev *l, const char *line, size_t len, time_t now,
		           struct ban_event *ev)
{
    struct cur c;
    long    pid;
    time_t  when;

    if (len > LOGEV_LINE_MAX)
	return 0;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	len--;
    c.p = line;
    c.e = line + len;
    if (!prefix(l, &c, now, &pid, &when) || c.p >= c.e)
	return 0;
    ev->reject = BRJ_NONE;
    ev->host[0] = 0;
    ev->user[0] = 0;
    ev->has_user = 0;
    if (!message(l, &c, pid, ev))
	return 0;
    ev->when = when;
    return 1;
}
