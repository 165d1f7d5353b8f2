/*
 * report.c - read the mail log: frame each line, pick mxshield's and
 * Postfix smtpd's decision lines, count them.
 *
 * Postfix logs the reject of a policy service again, as its own
 * ("<rcpt>: Recipient address rejected: " + the service's text).  Such a
 * Postfix line is held among the last REPORT_MATCH_WINDOW Postfix rejects
 * until mxshield's line for the same client, sender, recipient and text
 * turns up (in either order: two programs' lines reach the log each in its
 * own time); a line that finds no partner is Postfix's own decision.
 * Partners share a hash of client address, sender, recipient and
 * mxshield's text (in Postfix's, what follows its first " rejected: "),
 * so a search costs at most REPORT_MATCH_WINDOW integer comparisons and
 * one full comparison per match, however alike the lines are.
 */
#include <stdlib.h>
#include <string.h>

#include "report/infer.h"
#include "report/logline.h"
#include "report/report_impl.h"
#include "util/mem.h"

/* report_key - parts joined with tabs */
void    report_key(struct buf *b, const char *const *parts, const size_t *lens, int n)
{
    buf_reset(b);
    for (int i = 0; i < n; i++) {
	if (i)
	    buf_putc(b, '\t');
	buf_append(b, parts[i], lens[i]);
    }
}

/* report_new - an empty report */
struct report *report_new(const struct report_opts *opts)
{
    struct report *r = xcalloc(1, sizeof(*r));
    size_t  lim;

    r->o = *opts;
    if (r->o.syslog_name == NULL)
	r->o.syslog_name = "mxshield";
    r->name_len = strlen(r->o.syslog_name);
    lim = r->o.key_limit ? r->o.key_limit : REPORT_KEY_LIMIT;
    buf_init(&r->line);
    buf_init(&r->scratch);
    buf_init(&r->key);
    tally_init(&r->decisions, lim);
    tally_init(&r->clients, lim);
    tally_init(&r->senders, lim);
    tally_init(&r->warnings, lim);
    tally_init(&r->warn_clients, lim);
    tally_init(&r->warn_senders, lim);
    gl_stats_init(&r->gl, lim);
    return r;
}

/* ring_drop - forget the oldest entry */
static void ring_drop(struct ring *g)
{
    free(g->v[g->head].msg);
    g->v[g->head].msg = NULL;
    g->head = (g->head + 1) % REPORT_MATCH_WINDOW;
    g->n--;
}

/* ring_take - remove entry i (0: oldest), keeping the order */
static void ring_take(struct ring *g, size_t i)
{
    for (; i > 0; i--) {
	size_t  to = (g->head + i) % REPORT_MATCH_WINDOW,
	        from = (g->head + i - 1) % REPORT_MATCH_WINDOW;
	struct pending tmp = g->v[to];

	g->v[to] = g->v[from];
	g->v[from] = tmp;
    }
    ring_drop(g);
}

/* hash_span - FNV-1a over a span, continuing h */
static uint64_t hash_span(uint64_t h, struct span s)
{
    for (size_t i = 0; i < s.len; i++) {
	h ^= (unsigned char) s.s[i];
	h *= 1099511628211ULL;
    }
    h ^= 0xff;				/* a field separator no byte equals */
    return h * 1099511628211ULL;
}

/* match_hash - what mxshield's reject and Postfix's repetition share */
static uint64_t match_hash(const struct event *ev, int postfix)
{
    uint64_t h = 1469598103934665603ULL;
    struct span text = ev->text;

    if (postfix) {
	const char *r = memmem(text.s, text.len, " rejected: ", 11);

	if (r == NULL)
	    return 0;
	text.len -= (size_t) (r + 11 - text.s);
	text.s = r + 11;
    }
    h = hash_span(h, ev->addr);
    h = hash_span(h, ev->from);
    h = hash_span(h, ev->to);
    return hash_span(h, text);
}

/* ring_push - keep a copy of the message and its parts */
static struct pending *ring_push(struct ring *g, const char *msg, size_t len, int postfix)
{
    struct pending *p = &g->v[(g->head + g->n) % REPORT_MATCH_WINDOW];

    p->msg = xmalloc(len + 1);		/* NUL bytes included */
    memcpy(p->msg, msg, len);
    p->msg[len] = 0;
    (void) event_parse(p->msg, len, &p->ev);
    p->match = match_hash(&p->ev, postfix);
    g->n++;
    return p;
}

/* span_same - equal spans */
static int span_same(struct span a, struct span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

/* repeats - is Postfix's line pf the repetition of mxshield's mx? */
static int repeats(const struct event *pf, const struct event *mx)
{
    return mx->text.len > 0 && span_same(pf->addr, mx->addr)
	&& span_same(pf->from, mx->from) && span_same(pf->to, mx->to)
	&& pf->text.len > mx->text.len
	&& memcmp(pf->text.s + pf->text.len - mx->text.len, mx->text.s, mx->text.len) == 0;
}

/* ring_match - the newest entry that ev repeats (or is repeated by) */
static long ring_match(const struct ring *g, const struct event *ev, int ev_is_postfix)
{
    uint64_t h = match_hash(ev, ev_is_postfix);

    for (size_t k = g->n; k-- > 0;) {
	const struct pending *p = &g->v[(g->head + k) % REPORT_MATCH_WINDOW];

	if (p->match == h && (ev_is_postfix ? repeats(ev, &p->ev) : repeats(&p->ev, ev)))
	    return (long) k;
    }
    return -1;
}

/* is_greylist - a greylisting deferral (mxshield's, or postgrey's via Postfix) */
static int is_greylist(const char *restriction)
{
    return strcmp(restriction, "greylist") == 0;
}

/* count_party - the client and the sender of a reject */
static void count_party(struct report *r, struct tally *clients, struct tally *senders,
			        const struct event *ev, int col)
{
    struct tally_entry *e;
    const char *parts[4] = {ev->name.s, "[", ev->addr.s, "]"};
    size_t  lens[4] = {ev->name.len, 1, ev->addr.len, 1};

    buf_reset(&r->key);
    for (int i = 0; i < 4; i++)
	buf_append(&r->key, parts[i], lens[i]);
    if ((e = tally_get(clients, r->key.s, r->key.len)) != NULL) {
	e->v[col]++;
	e->v[2]++;
    }
    if ((e = ev->from.len ? tally_get(senders, ev->from.s, ev->from.len)
	 : tally_get(senders, "<>", 2)) != NULL) {
	e->v[col]++;
	e->v[2]++;
    }
}

/* count - one decision of mxshield ("mxshield") or of Postfix */
static void count(struct report *r, const char *source, const struct event *ev)
{
    int     warning = span_eq(ev->what, "reject_warning");
    const char *action;
    struct tally_entry *e;
    char    code[24];

    infer_restriction(ev, &r->scratch);
    if (span_eq(ev->what, "reject"))
	action = ev->code >= 500 ? "reject" : "defer";
    else if (warning)
	action = ev->code >= 500 ? "reject" : "defer";
    else
	action = NULL;
    if (ev->code && ev->dsn.len)
	snprintf(code, sizeof(code), "%d %.*s", ev->code, (int) (ev->dsn.len < 12 ? ev->dsn.len : 12),
		 ev->dsn.s);
    else if (ev->code)
	snprintf(code, sizeof(code), "%d", ev->code);
    else
	snprintf(code, sizeof(code), "-");

    const char *parts[4] = {source, r->scratch.s, action ? action : ev->what.s, code};
    size_t  lens[4] = {strlen(source), r->scratch.len, action ? strlen(action) : ev->what.len,
    strlen(code)};

    report_key(&r->key, parts, lens, 4);
    if ((e = tally_get(warning ? &r->warnings : &r->decisions, r->key.s, r->key.len)) != NULL) {
	e->v[0]++;
	tally_note(e, ev->reply.s, ev->reply.len);
    }
    if (warning) {
	count_party(r, &r->warn_clients, &r->warn_senders, ev, ev->code >= 500 ? 0 : 1);
	return;
    }
    if (action == NULL)
	return;
    if (is_greylist(r->scratch.s)) {
	if (strcmp(source, "mxshield") == 0 && ev->code < 500)
	    gl_stats_defer(r, ev);
	return;
    }
    count_party(r, &r->clients, &r->senders, ev, ev->code >= 500 ? 0 : 1);
}

/* pass_delay - "greylisting passed after N seconds": N, or -1 */
static long pass_delay(const struct event *ev)
{
    static const char pre[] = "greylisting passed after ";
    const char *s = ev->text.s;
    size_t  len = ev->text.len, i = sizeof(pre) - 1;
    long    v = 0;

    if (len <= i || memcmp(s, pre, i) != 0)
	return -1;
    for (; i < len && s[i] >= '0' && s[i] <= '9' && v < 100000000; i++)
	v = v * 10 + (s[i] - '0');
    return i < len && s[i] == ' ' ? v : -1;
}

/* mx_line - one of mxshield's lines */
static void mx_line(struct report *r, const char *msg, size_t len)
{
    struct event ev;
    long    k, delay;

    if (event_parse(msg, len, &ev) < 0)
	return;
    r->tot.mxshield++;
    if (span_eq(ev.what, "info") && (delay = pass_delay(&ev)) >= 0) {
	gl_stats_pass(r, &ev, delay);
	return;
    }
    count(r, "mxshield", &ev);
    if (!span_eq(ev.what, "reject"))
	return;
    /* Postfix's repetition may have come first */
    if ((k = ring_match(&r->pf_recent, &ev, 0)) >= 0) {
	r->tot.repeats++;
	ring_take(&r->pf_recent, (size_t) k);
	return;
    }
    if (r->mx_recent.n == REPORT_MATCH_WINDOW)
	ring_drop(&r->mx_recent);
    ring_push(&r->mx_recent, msg, len, 0);
}

/* pf_flush_oldest - the oldest held Postfix reject is Postfix's own */
static void pf_flush_oldest(struct report *r)
{
    count(r, "postfix", &r->pf_recent.v[r->pf_recent.head].ev);
    ring_drop(&r->pf_recent);
}

/* pf_line - one of Postfix smtpd's lines */
static void pf_line(struct report *r, const char *msg, size_t len)
{
    struct event ev;
    long    k;

    if (event_parse(msg, len, &ev) < 0
	|| !(span_eq(ev.what, "reject") || span_eq(ev.what, "reject_warning")))
	return;
    r->tot.postfix++;
    if (!span_eq(ev.what, "reject") || memmem(ev.text.s, ev.text.len, " rejected: ", 11) == NULL) {
	count(r, "postfix", &ev);
	return;
    }
    if ((k = ring_match(&r->mx_recent, &ev, 1)) >= 0) {
	r->tot.repeats++;
	ring_take(&r->mx_recent, (size_t) k);
	return;
    }
    if (r->pf_recent.n == REPORT_MATCH_WINDOW)
	pf_flush_oldest(r);
    ring_push(&r->pf_recent, msg, len, 1);
}

/* is_smtpd - "postfix/smtpd", "postfix-out/smtpd", "smtpd" */
static int is_smtpd(const char *p, size_t len)
{
    return (len == 5 && memcmp(p, "smtpd", 5) == 0)
	|| (len > 6 && memcmp(p + len - 6, "/smtpd", 6) == 0);
}

/* one_line - frame a line and hand it on */
static void one_line(struct report *r, const char *s, size_t len)
{
    struct logline ll;

    r->tot.lines++;
    if (logline_parse(s, len, r->o.now, &ll) < 0)
	return;
    if (ll.has_time) {
	if (r->o.has_since && ll.time < r->o.since) {
	    r->tot.before++;
	    return;
	}
	if (!r->has_first || ll.time < r->first)
	    r->first = ll.time;
	if (!r->has_first || ll.time > r->last)
	    r->last = ll.time;
	r->has_first = 1;
    }
    int     mine = ll.prog_len >= r->name_len && memcmp(ll.prog, r->o.syslog_name, r->name_len) == 0
	&& (ll.prog_len == r->name_len || ll.prog[r->name_len] == '/');

    if (!mine && !is_smtpd(ll.prog, ll.prog_len))
	return;
    unsigned long seen = r->tot.mxshield + r->tot.postfix;

    if (mine)
	mx_line(r, ll.msg, ll.msg_len);
    else
	pf_line(r, ll.msg, ll.msg_len);
    if (!ll.has_time && r->tot.mxshield + r->tot.postfix > seen)
	r->tot.no_time++;
}

/* report_feed - more of the log, cut anywhere */
void    report_feed(struct report *r, const char *data, size_t len)
{
    while (len > 0) {
	const char *nl = memchr(data, '\n', len);
	size_t  n = nl ? (size_t) (nl - data) : len;

	if (!r->skipping) {
	    if (r->line.len + n > REPORT_LINE_LIMIT) {
		r->skipping = 1;
		r->tot.too_long++;
		buf_reset(&r->line);
	    } else {
		buf_append(&r->line, data, n);
	    }
	}
	if (nl == NULL)
	    return;
	if (!r->skipping) {
	    size_t  l = r->line.len;

	    if (l > 0 && r->line.s[l - 1] == '\r')
		l--;
	    one_line(r, r->line.s, l);
	} else {
	    r->tot.lines++;
	}
	r->skipping = 0;
	buf_reset(&r->line);
	data = nl + 1;
	len -= n + 1;
    }
}

/* report_end - the last line (without a newline), held rejects */
void    report_end(struct report *r)
{
    if (r->line.len > 0 && !r->skipping)
	one_line(r, r->line.s, r->line.len);
    else if (r->skipping)
	r->tot.lines++;
    buf_reset(&r->line);
    r->skipping = 0;
    while (r->pf_recent.n > 0)
	pf_flush_oldest(r);
}

/* report_totals - counters for tests */
void    report_totals(const struct report *r, struct report_totals *t)
{
    *t = r->tot;
}

/* report_free - release everything */
void    report_free(struct report *r)
{
    while (r->mx_recent.n > 0)
	ring_drop(&r->mx_recent);
    while (r->pf_recent.n > 0)
	ring_drop(&r->pf_recent);
    tally_free(&r->decisions);
    tally_free(&r->clients);
    tally_free(&r->senders);
    tally_free(&r->warnings);
    tally_free(&r->warn_clients);
    tally_free(&r->warn_senders);
    gl_stats_free(&r->gl);
    buf_free(&r->line);
    buf_free(&r->scratch);
    buf_free(&r->key);
    free(r);
}
