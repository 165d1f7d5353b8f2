/*
 * lookup.c - the DNS lookups of one evaluation.
 *
 * A restriction asks eval_lookup() for (name, type).  The answer may be in
 * this evaluation already (prefetched, or asked by an earlier
 * restriction), in the resolver's cache, or not yet known: then the lookup
 * is started (or joined), the restriction returns RS_PENDING, and the walk
 * resumes at the same restriction when that answer arrives.  Prefetching
 * starts, when a request arrives, every lookup the configured restrictions
 * could need, so a request costs about one DNS round trip.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

struct eval_lookup {
    struct eval *e;
    char   *name;
    int     type;
    struct dns_answer *a;		/* NULL while waiting */
    struct dns_wait *w;
    int     cached;			/* answered from the resolver's cache */
};

/* find - this evaluation's lookup of (name, type), or NULL */
static struct eval_lookup *find(struct eval *e, const char *name, int type)
{
    for (size_t i = 0; i < e->nlookups; i++) {
	struct eval_lookup *l = e->lookups[i];

	if (l->type == type && strcasecmp(l->name, name) == 0)
	    return l;
    }
    return NULL;
}

/* lookup_done - an answer arrived; wake the walk if it waits for it */
static void lookup_done(void *arg, struct dns_answer *a)
{
    struct eval_lookup *l = arg;
    struct eval *e = l->e;

    l->w = NULL;
    l->a = a;
    e->outstanding--;
    if (e->blocked == l) {
	e->blocked = NULL;
	if (e->wake)
	    e->wake(e->wake_ctx);	/* may finish and free e */
    }
}

/* start - begin (or find) the lookup of (name, type) */
static struct eval_lookup *start(struct eval *e, const char *name, int type)
{
    struct eval_lookup *l = find(e, name, type);

    if (l != NULL)
	return l;
    l = xcalloc(1, sizeof(*l));
    l->e = e;
    l->name = xstrdup(name);
    l->type = type;
    e->lookups = xrealloc(e->lookups, (e->nlookups + 1) * sizeof(*e->lookups));
    e->lookups[e->nlookups++] = l;
    if (e->pol->dns == NULL) {
	l->a = dns_answer_new(name, type, DNS_TEMPFAIL, "no resolver configured");
	return l;
    }
    if ((l->a = dns_cached(e->pol->dns, name, type)) != NULL) {
	l->cached = 1;
	return l;
    }
    e->outstanding++;
    l->w = dns_lookup(e->pol->dns, name, type, lookup_done, l);
    return l;
}

/* eval_prefetch - start a lookup that a later restriction may need */
void    eval_prefetch(struct eval *e, const char *name, int type)
{
    if (name && *name)
	(void) start(e, name, type);
}

/* trace_answer - one line per lookup in the trace detail */
static void trace_answer(struct eval *e, struct eval_lookup *l)
{
    const struct dns_answer *a = l->a;
    struct buf b;

    if (e->trace == NULL)
	return;
    /* a restriction runs again from the start after each wait: show each
     * answer once per run */
    buf_init(&b);
    buf_printf(&b, "DNS %s %s:", dns_type_name(l->type), l->name);
    if (strstr(e->tdetail.s, b.s) != NULL) {
	buf_free(&b);
	return;
    }
    buf_reset(&b);
    for (size_t i = 0; i < a->n; i++) {
	char    addr[64];

	if (i)
	    buf_puts(&b, ", ");
	switch (l->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
	    inet_format(&a->rr[i].addr, addr, sizeof(addr));
	    buf_puts(&b, addr);
	    break;
	case DNS_T_MX:
	    buf_printf(&b, "%u %s", a->rr[i].pref, *a->rr[i].name ? a->rr[i].name : ".");
	    break;
	case DNS_T_TXT:
	    buf_printf(&b, "\"%s\"", a->rr[i].text);
	    break;
	default:
	    buf_puts(&b, a->rr[i].name ? a->rr[i].name : "?");
	}
    }
    if (a->status == DNS_OK)
	eval_trace_detail(e, "DNS %s %s: %s (ttl %u, %s)", dns_type_name(l->type), l->name,
			  b.s, a->ttl, l->cached ? "cached" : "");
    else
	eval_trace_detail(e, "DNS %s %s: %s%s%s (%s)", dns_type_name(l->type), l->name,
			  dns_status_name(a->status), *a->why ? ": " : "", a->why,
			  l->cached ? "cached" : "");
    /* the time taken, filled in after the parenthesis was opened */
    if (!l->cached && e->tdetail.len > 0 && e->tdetail.s[e->tdetail.len - 1] == ')') {
	e->tdetail.len--;
	buf_printf(&e->tdetail, "%.1f ms)", a->ms);
    }
    buf_free(&b);
}

/* eval_lookup - the answer, or NULL: the restriction returns RS_PENDING */
struct dns_answer *eval_lookup(struct eval *e, const char *name, int type)
{
    struct eval_lookup *l = start(e, name, type);

    if (l->a == NULL) {
	e->blocked = l;
	return NULL;
    }
    trace_answer(e, l);
    return l->a;
}

/* eval_lookups_free - cancel what is outstanding, release answers */
void    eval_lookups_free(struct eval *e)
{
    for (size_t i = 0; i < e->nlookups; i++) {
	struct eval_lookup *l = e->lookups[i];

	if (l->w)
	    dns_cancel(l->w);
	dns_answer_unref(l->a);
	free(l->name);
	free(l);
    }
    free(e->lookups);
    e->lookups = NULL;
    e->nlookups = 0;
}
