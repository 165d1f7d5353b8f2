/*
 * lookupset.c - the DNS lookups of one evaluation: each (name, type)
 * started once, answered from the set, the resolver's cache or the
 * network, the waiting caller woken when its answer arrives.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/lookupset.h"
#include "util/inet.h"
#include "util/log.h"
#include "util/mem.h"

struct lookup {
    struct lookupset *ls;
    char   *name;
    int     type;
    struct dns_answer *a;		/* NULL while waiting */
    struct dns_wait *w;
    int     cached;			/* answered from the resolver's cache */
};

struct lookupset {
    struct dns *dns;			/* not owned; NULL: no resolver */
    struct lookup **v;			/* each lookup stays where it is */
    size_t  n;
    size_t  outstanding;		/* lookups without an answer */
    struct lookup *blocked;		/* the one the caller waits for */
    void    (*wake) (void *);
    void   *wake_ctx;
    const char *wake_service;		/* the log name wake runs under */
};

/* lookupset_new - an empty set */
struct lookupset *lookupset_new(struct dns *dns)
{
    struct lookupset *ls = xcalloc(1, sizeof(*ls));

    ls->dns = dns;
    return ls;
}

/* lookupset_free - cancel what is outstanding, release answers */
void    lookupset_free(struct lookupset *ls)
{
    if (ls == NULL)
	return;
    for (size_t i = 0; i < ls->n; i++) {
	struct lookup *l = ls->v[i];

	if (l->w)
	    dns_cancel(l->w);
	dns_answer_unref(l->a);
	free(l->name);
	free(l);
    }
    free(ls->v);
    free(ls);
}

/* lookupset_set_wakeup - who to call when a missed answer arrives */
void    lookupset_set_wakeup(struct lookupset *ls, void (*fn) (void *), void *ctx)
{
    ls->wake = fn;
    ls->wake_ctx = ctx;
    ls->wake_service = log_service_current();
}

/* find - the set's lookup of (name, type), or NULL */
static struct lookup *find(const struct lookupset *ls, const char *name, int type)
{
    for (size_t i = 0; i < ls->n; i++) {
	struct lookup *l = ls->v[i];

	if (l->type == type && strcasecmp(l->name, name) == 0)
	    return l;
    }
    return NULL;
}

/* lookup_done - an answer arrived; wake the caller if it waits for it */
static void lookup_done(void *arg, struct dns_answer *a)
{
    struct lookup *l = arg;
    struct lookupset *ls = l->ls;

    l->w = NULL;
    l->a = a;
    ls->outstanding--;
    if (ls->blocked == l) {
	ls->blocked = NULL;
	if (ls->wake) {
	    const char *previous = log_service_enter(ls->wake_service);

	    ls->wake(ls->wake_ctx);	/* may free the set */
	    log_service_leave(previous);
	}
    }
}

/* start - begin (or find) the lookup of (name, type) */
static struct lookup *start(struct lookupset *ls, const char *name, int type)
{
    struct lookup *l = find(ls, name, type);

    if (l != NULL)
	return l;
    l = xcalloc(1, sizeof(*l));
    l->ls = ls;
    l->name = xstrdup(name);
    l->type = type;
    ls->v = xrealloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
    ls->v[ls->n++] = l;
    if (ls->dns == NULL) {
	l->a = dns_answer_new(name, type, DNS_TEMPFAIL, "no resolver configured");
	return l;
    }
    if ((l->a = dns_cached(ls->dns, name, type)) != NULL) {
	l->cached = 1;
	return l;
    }
    ls->outstanding++;
    l->w = dns_lookup(ls->dns, name, type, lookup_done, l);
    return l;
}

/* lookupset_start - start a lookup that a later check may need */
void    lookupset_start(struct lookupset *ls, const char *name, int type)
{
    if (name && *name)
	(void) start(ls, name, type);
}

/* lookupset_get - the answer, or NULL: the wakeup comes when it arrives */
struct dns_answer *lookupset_get(struct lookupset *ls, const char *name, int type,
				         int *cached)
{
    struct lookup *l = start(ls, name, type);

    if (l->a == NULL) {
	ls->blocked = l;
	return NULL;
    }
    if (cached)
	*cached = l->cached;
    return l->a;
}

/* lookupset_outstanding - lookups without an answer */
size_t  lookupset_outstanding(const struct lookupset *ls)
{
    return ls->outstanding;
}

/* lookupset_describe - one line for a trace */
void    lookupset_describe(struct buf *out, const char *name, int type,
			           const struct dns_answer *a, int cached)
{
    buf_printf(out, "DNS %s %s: ", dns_type_name(type), name);
    if (a->status != DNS_OK) {
	buf_printf(out, "%s%s%s (", dns_status_name(a->status), *a->why ? ": " : "", a->why);
    } else {
	for (size_t i = 0; i < a->n; i++) {
	    char    addr[64];

	    if (i)
		buf_puts(out, ", ");
	    switch (type) {
	    case DNS_T_A:
	    case DNS_T_AAAA:
		inet_format(&a->rr[i].addr, addr, sizeof(addr));
		buf_puts(out, addr);
		break;
	    case DNS_T_MX:
		buf_printf(out, "%u %s", a->rr[i].pref, *a->rr[i].name ? a->rr[i].name : ".");
		break;
	    case DNS_T_TXT:
		buf_printf(out, "\"%s\"", a->rr[i].text);
		break;
	    default:
		buf_puts(out, a->rr[i].name ? a->rr[i].name : "?");
	    }
	}
	buf_printf(out, " (ttl %u, ", a->ttl);
    }
    if (cached)
	buf_puts(out, "cached)");
    else
	buf_printf(out, "%.1f ms)", a->ms);
}
