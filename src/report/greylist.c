/*
 * greylist.c - greylisting's effect, from mxshield's deferrals and its
 * "greylisting passed after N seconds" lines.
 *
 * A triplet is the client network (greylist_ipv4_prefix,
 * greylist_ipv6_prefix), the sender as greylisting normalises it and the
 * recipient folded to lower case.  Each deferral and pass is also filed under its sender and
 * recipient alone: the same pair seen from a second network is a sender
 * that retries from another network (a pool of outgoing servers), the
 * guides' reason to whitelist it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greylist/greylist.h"
#include "report/report_impl.h"
#include "util/inet.h"

/* gl_stats_init - nothing seen yet */
void    gl_stats_init(struct gl_stats *g, size_t limit)
{
    memset(g, 0, sizeof(*g));
    tally_init(&g->triplets, limit);
    tally_init(&g->pairs, limit);
    tally_init(&g->moved, limit);
}

/* gl_stats_free - release the tables */
void    gl_stats_free(struct gl_stats *g)
{
    tally_free(&g->triplets);
    tally_free(&g->pairs);
    tally_free(&g->moved);
}

/* network - the client's network as greylisting keys it, into b */
static void network(const struct report *r, struct span addr, struct buf *b)
{
    char    text[64], out[64];
    struct inet_addr a;
    int     len, bits;

    buf_reset(b);
    if (addr.len == 0 || addr.len >= sizeof(text)) {
	buf_append(b, addr.s, addr.len);
	return;
    }
    memcpy(text, addr.s, addr.len);
    text[addr.len] = 0;
    if (inet_parse(text, &a) < 0) {
	buf_puts(b, text);
	return;
    }
    len = a.family == AF_INET ? 4 : 16;
    bits = len == 4 ? r->o.ipv4_prefix : r->o.ipv6_prefix;
    if (bits < 0 || bits > len * 8)
	bits = len * 8;
    for (int i = 0; i < len; i++) {
	int     keep = bits - i * 8;

	if (keep <= 0)
	    a.b[i] = 0;
	else if (keep < 8)
	    a.b[i] &= (unsigned char) (0xff << (8 - keep));
    }
    inet_format(&a, out, sizeof(out));
    buf_printf(b, "%s/%d", out, bits);
}

/* lower_append - append a span folded to lower case */
static void lower_append(struct buf *b, struct span s)
{
    for (size_t i = 0; i < s.len; i++) {
	char    c = s.s[i];

	buf_putc(b, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
}

/* sender_append - the sender as greylisting keys it (postgrey's
 * normalisation: lower case, BATV tag, +extension and digit runs gone) */
static void sender_append(struct buf *b, struct span s)
{
    struct buf raw, norm;

    buf_init(&raw);
    buf_init(&norm);
    if (s.len)
	buf_append(&raw, s.s, s.len);
    gl_sender_normalise(raw.s, &norm);
    buf_append(b, norm.s, norm.len);
    buf_free(&raw);
    buf_free(&norm);
}

/* pair_seen - file the sender and recipient under net; count a move */
static void pair_seen(struct report *r, const struct event *ev, const struct buf *net)
{
    struct gl_stats *g = &r->gl;
    struct tally_entry *e, *d;

    buf_reset(&r->key);
    sender_append(&r->key, ev->from);
    buf_putc(&r->key, '\t');
    lower_append(&r->key, ev->to);
    if ((e = tally_get(&g->pairs, r->key.s, r->key.len)) == NULL)
	return;
    tally_note(e, net->s, net->len);
    if (e->v[0] || strcmp(e->note, net->s) == 0)
	return;
    e->v[0] = 1;				/* counted once per pair */
    g->moved_pairs++;
    /* by the sender's domain: whitelist candidates */
    const char *at = memchr(ev->from.s ? ev->from.s : "", '@', ev->from.len);
    struct span dom = ev->from;

    if (at) {
	dom.s = at + 1;
	dom.len = ev->from.len - (size_t) (dom.s - ev->from.s);
    }
    buf_reset(&r->key);
    if (dom.len)
	lower_append(&r->key, dom);
    else
	buf_puts(&r->key, "<>");
    if ((d = tally_get(&g->moved, r->key.s, r->key.len)) != NULL)
	d->v[0]++;
}

/* triplet - the triplet's entry (NULL past the limit) */
static struct tally_entry *triplet(struct report *r, const struct event *ev, struct buf *net)
{
    network(r, ev->addr, net);
    buf_reset(&r->key);
    buf_append(&r->key, net->s, net->len);
    buf_putc(&r->key, '\t');
    sender_append(&r->key, ev->from);
    buf_putc(&r->key, '\t');
    lower_append(&r->key, ev->to);
    return tally_get(&r->gl.triplets, r->key.s, r->key.len);
}

/* gl_stats_defer - mxshield greylisted a triplet */
void    gl_stats_defer(struct report *r, const struct event *ev)
{
    struct tally_entry *e;
    struct buf net;

    buf_init(&net);
    if ((e = triplet(r, ev, &net)) != NULL)
	e->v[0]++;
    pair_seen(r, ev, &net);
    buf_free(&net);
}

/* gl_stats_pass - a greylisted triplet passed after delay seconds */
void    gl_stats_pass(struct report *r, const struct event *ev, long delay)
{
    struct gl_stats *g = &r->gl;
    struct tally_entry *e;
    struct buf net;

    buf_init(&net);
    if ((e = triplet(r, ev, &net)) != NULL)
	e->v[1] = 1;
    pair_seen(r, ev, &net);
    buf_free(&net);
    if (g->passes == 0 || delay < g->delay_min)
	g->delay_min = delay;
    if (g->passes == 0 || delay > g->delay_max)
	g->delay_max = delay;
    g->delay_sum += (double) delay;
    g->passes++;
}

/* gl_stats_print - the greylisting section */
void    gl_stats_print(const struct report *r, FILE *fp)
{
    const struct gl_stats *g = &r->gl;
    unsigned long greylisted = 0, passed = 0, early = 0, never = 0, gave_up = 0;
    struct buf key;

    buf_init(&key);
    for (size_t i = 0; i < g->triplets.cap; i++) {
	const struct tally_entry *e = g->triplets.slots[i];

	if (e == NULL || e->v[0] == 0)
	    continue;				/* passed, deferred before the period */
	greylisted++;
	if (e->v[1])
	    passed++;
	if (e->v[0] > 1 && e->v[1])
	    early++;
	if (e->v[0] > 1 && !e->v[1])
	    gave_up++;
	if (e->v[0] == 1 && !e->v[1]) {
	    /* its sender and recipient may have come back from elsewhere */
	    const char *tab = memchr(e->key, '\t', e->klen);
	    const struct tally_entry *p = tab ? tally_find(&g->pairs, tab + 1,
							     e->klen - (size_t) (tab + 1 - e->key)) : NULL;

	    if (p == NULL || p->v[0] == 0)
		never++;
	}
    }
    buf_free(&key);
    fprintf(fp, "Greylisting\n");
    if (greylisted == 0 && g->passes == 0) {
	fprintf(fp, "  nothing greylisted\n\n");
	return;
    }
    fprintf(fp, "  %8lu  triplets greylisted (client network, sender, recipient)\n", greylisted);
    fprintf(fp, "  %8lu  of them passed after the delay\n", passed);
    fprintf(fp, "  %8lu  of them retried too early at least once, then passed\n", early);
    fprintf(fp, "  %8lu  of them retried, not passed (gave up, or still waiting)\n", gave_up);
    fprintf(fp, "  %8lu  of them never retried from the same network or another\n", never);
    fprintf(fp, "  %8lu  sender/recipient pairs retried from another network\n", g->moved_pairs);
    if (g->passes)
	fprintf(fp, "  %8lu  passes; delay %ld s min, %.0f s average, %ld s max\n",
		g->passes, g->delay_min, g->delay_sum / (double) g->passes, g->delay_max);
    if (g->triplets.dropped)
	fprintf(fp, "  %8lu  triplets not tracked (more than %zu)\n", g->triplets.dropped,
		g->triplets.limit);
    if (g->moved.n > 0) {
	struct tally_entry **v = tally_sorted(&g->moved, 0);

	fprintf(fp, "  sender domains retrying from another network"
		" (greylist_whitelist_clients candidates):\n");
	for (size_t i = 0; v[i] && i < REPORT_TOP; i++)
	    fprintf(fp, "  %8ld  %s\n", v[i]->v[0], v[i]->key);
	free(v);
    }
    fputc('\n', fp);
}
