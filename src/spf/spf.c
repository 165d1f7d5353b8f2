/*
 * spf.c - RFC 7208 check_host(): record selection, mechanisms, modifiers,
 * macros, limits, explanations.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "spf/spf.h"
#include "spf/spf_impl.h"
#include "util/inet.h"
#include "util/mem.h"

const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = {"none", "neutral", "pass", "fail", "softfail",
    "temperror", "permerror"};

    return names[r];
}

void    spf_outcome_init(struct spf_outcome *o)
{
    memset(o, 0, sizeof(*o));
    buf_init(&o->domain);
    buf_init(&o->sender);
    buf_init(&o->explanation);
    buf_init(&o->problem);
    buf_init(&o->mechanism);
    buf_init(&o->trace);
}

void    spf_outcome_free(struct spf_outcome *o)
{
    buf_free(&o->domain);
    buf_free(&o->sender);
    buf_free(&o->explanation);
    buf_free(&o->problem);
    buf_free(&o->mechanism);
    buf_free(&o->trace);
}

static void trace(struct spf_ctx *c, int depth, const char *fmt,...)
    __attribute__((format(printf, 3, 4)));

static void trace(struct spf_ctx *c, int depth, const char *fmt,...)
{
    va_list ap;

    for (int i = 0; i < depth; i++)
	buf_puts(&c->o->trace, "  ");
    va_start(ap, fmt);
    buf_vprintf(&c->o->trace, fmt, ap);
    va_end(ap);
    buf_putc(&c->o->trace, '\n');
}

int spf_permerror(struct spf_ctx *c, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));

int spf_permerror(struct spf_ctx *c, const char *fmt,...)
{
    va_list ap;

    if (c->o->problem.len == 0) {
	va_start(ap, fmt);
	buf_vprintf(&c->o->problem, fmt, ap);
	va_end(ap);
    }
    return SPF_PERMERROR;
}

static int temperror(struct spf_ctx *c, const char *name, const struct dns_answer *a)
{
    if (c->o->problem.len == 0)
	buf_printf(&c->o->problem, "DNS lookup of %s failed: %s", name, a->why);
    return SPF_TEMPERROR;
}

/* lookup - an answer, or NULL (asked for; the evaluation waits) */
struct dns_answer *spf_lookup(struct spf_ctx *c, const char *name, int type)
{
    return c->dns->get(c->dns->ctx, name, type);
}

/* term parsing: name[:arg][/cidr[//cidr6]] */
struct term {
    char    qual;
    const char *name;			/* mechanism or modifier name */
    size_t  nlen;
    const char *arg;			/* after ':' or '=' */
    size_t  alen;
    int     modifier;
    int     len4, len6;			/* a, mx: dual cidr */
    int     has_cidr;
};

/* cidr_len - "/n": 0..max without leading zeros; -1 if bad */
static int cidr_len(const char *s, size_t n, int max)
{
    int     v = 0;

    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
	return -1;
    for (size_t i = 0; i < n; i++) {
	if (!isdigit((unsigned char) s[i]))
	    return -1;
	v = v * 10 + (s[i] - '0');
    }
    return v > max ? -1 : v;
}

static int name_is(const struct term *t, const char *n)
{
    return t->nlen == strlen(n) && strncasecmp(t->name, n, t->nlen) == 0;
}

/* mx_order - exchanges by preference, then name */
static int mx_order(const void *a, const void *b)
{
    const struct dns_rr *x = *(const struct dns_rr *const *) a;
    const struct dns_rr *y = *(const struct dns_rr *const *) b;

    if (x->pref != y->pref)
	return x->pref < y->pref ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* cidr_suffix - where a trailing "/n", "//n" or "/n//n" begins, else n */
static size_t cidr_suffix(const char *s, size_t n)
{
    size_t  start = n, j = n;

    while (j > 0 && isdigit((unsigned char) s[j - 1]))
	j--;
    if (j < n && j >= 2 && s[j - 1] == '/' && s[j - 2] == '/') {
	start = j - 2;			/* "//n" */
	n = j = start;
	while (j > 0 && isdigit((unsigned char) s[j - 1]))
	    j--;
    }
    if (j < n && j >= 1 && s[j - 1] == '/' && !(j >= 2 && s[j - 2] == '/'))
	start = j - 1;			/* "/n" */
    return start;
}

/* ip_syntax - ip4:/ip6: argument, strictly: an address, an optional /n */
static int ip_syntax(const struct term *t, int v6)
{
    char    net[64];
    unsigned char bin[16];
    const char *slash = memchr(t->arg, '/', t->alen);
    size_t  al = slash ? (size_t) (slash - t->arg) : t->alen;

    if (al == 0 || al >= sizeof(net))
	return -1;
    memcpy(net, t->arg, al);
    net[al] = 0;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, net, bin) != 1)
	return -1;
    if (slash && cidr_len(slash + 1, t->alen - al - 1, v6 ? 128 : 32) < 0)
	return -1;
    return 0;
}

/* term_syntax - RFC 7208 4.6: every term's syntax, before any is evaluated */
static int term_syntax(struct spf_ctx *c, const struct term *t, const char *w)
{
    char    why[300];
    int     dspec;

    if (t->modifier) {
	dspec = name_is(t, "redirect") || name_is(t, "exp");
	if (spf_macro_syntax(t->arg, t->alen, 0, dspec, why, sizeof(why)) < 0)
	    return spf_permerror(c, "%s: %s", w, why);
	return 0;
    }
    if (name_is(t, "ip4") || name_is(t, "ip6")) {
	if (ip_syntax(t, name_is(t, "ip6")) < 0)
	    return spf_permerror(c, "bad %s network \"%.*s\"", name_is(t, "ip6") ? "ip6" : "ip4",
				 (int) t->alen, t->arg);
	return 0;
    }
    if (t->arg && spf_macro_syntax(t->arg, t->alen, 0, 1, why, sizeof(why)) < 0)
	return spf_permerror(c, "%s: %s", w, why);
    return 0;
}

static int parse_term(struct spf_ctx *c, const char *w, size_t wl, struct term *t)
{
    size_t  i = 0;

    memset(t, 0, sizeof(*t));
    t->qual = '+';
    t->len4 = 32;
    t->len6 = 128;
    if (wl && strchr("+-~?", w[0])) {
	t->qual = w[0];
	i = 1;
    }
    t->name = w + i;
    while (i < wl && (isalnum((unsigned char) w[i]) || w[i] == '-' || w[i] == '_' || w[i] == '.'))
	i++;
    t->nlen = (size_t) (w + i - t->name);
    if (t->nlen == 0)
	return spf_permerror(c, "bad term \"%.*s\"", (int) wl, w);
    if (i < wl && w[i] == '=') {
	if (t->qual != '+' || w[0] == '+' || !isalpha((unsigned char) t->name[0]))
	    return spf_permerror(c, "bad modifier \"%.*s\"", (int) wl, w);
	t->modifier = 1;
	t->arg = w + i + 1;
	t->alen = wl - i - 1;
	return 0;
    }
    /* a mechanism: arguments, then a dual cidr for a and mx */
    const char *rest = w + i;
    size_t  rl = wl - i;
    int     am = (t->nlen == 1 && tolower((unsigned char) t->name[0]) == 'a')
	|| (t->nlen == 2 && strncasecmp(t->name, "mx", 2) == 0);

    if (rl && rest[0] == ':') {
	t->arg = rest + 1;
	t->alen = rl - 1;
	/* a '/' may be part of the domain-spec: the dual cidr is what ends it */
	if (am) {
	    size_t  k = cidr_suffix(t->arg, t->alen);

	    rest = t->arg + k;
	    rl = t->alen - k;
	    t->alen = k;
	} else {
	    rest += rl;
	    rl = 0;
	}
    }
    if (rl && rest[0] == '/') {
	if (!am)
	    return spf_permerror(c, "bad term \"%.*s\"", (int) wl, w);
	t->has_cidr = 1;
	if (rl > 1 && rest[1] == '/') {
	    if ((t->len6 = cidr_len(rest + 2, rl - 2, 128)) < 0)
		return spf_permerror(c, "bad cidr length in \"%.*s\"", (int) wl, w);
	} else {
	    const char *dd = NULL;

	    for (size_t k = 1; k + 1 < rl; k++)
		if (rest[k] == '/' && rest[k + 1] == '/')
		    dd = rest + k;
	    size_t  n4 = dd ? (size_t) (dd - rest - 1) : rl - 1;

	    if ((t->len4 = cidr_len(rest + 1, n4, 32)) < 0
		|| (dd && (t->len6 = cidr_len(dd + 2, (size_t) (rest + rl - dd - 2), 128)) < 0))
		return spf_permerror(c, "bad cidr length in \"%.*s\"", (int) wl, w);
	}
    } else if (rl) {
	return spf_permerror(c, "bad term \"%.*s\"", (int) wl, w);
    }
    return 0;
}

static int check_host(struct spf_ctx *c, const char *domain, int depth, int want_exp);

static enum spf_result qualifier(char q)
{
    return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

static int is_void(const struct dns_answer *a)
{
    return a->status == DNS_NXDOMAIN || a->status == DNS_NODATA
	|| (a->status == DNS_OK && a->n == 0);
}

/* prefetch_rest - start the lookups of the terms after a wait */
static void prefetch_rest(struct spf_ctx *c, struct strlist *w, size_t from, const char *domain)
{
    struct buf t;
    struct term tm;
    int     addr_type = c->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;

    /* no more than the terms the DNS limit lets run: a record of a
     * thousand terms costs a thousand expansions on every run otherwise */
    int     budget = MAX_DNS_TERMS - c->dns_terms;

    buf_init(&t);
    for (size_t i = from; i < w->n && budget > 0; i++) {
	if (parse_term(c, w->v[i], strlen(w->v[i]), &tm) != 0)
	    break;
	int     type = 0;

	if (tm.modifier && name_is(&tm, "redirect"))
	    type = DNS_T_TXT;
	else if (!tm.modifier && name_is(&tm, "include"))
	    type = DNS_T_TXT;
	else if (!tm.modifier && name_is(&tm, "a"))
	    type = addr_type;
	else if (!tm.modifier && name_is(&tm, "mx"))
	    type = DNS_T_MX;
	else if (!tm.modifier && name_is(&tm, "exists"))
	    type = DNS_T_A;
	if (type == 0)
	    continue;
	budget--;
	if (tm.alen == 0) {
	    if (type != DNS_T_TXT)
		c->dns->prefetch(c->dns->ctx, domain, type);
	    continue;
	}
	/* macros other than %{p} expand without DNS */
	if (memmem(tm.arg, tm.alen, "%{p", 3) || memmem(tm.arg, tm.alen, "%{P", 3))
	    continue;
	if (spf_domain_spec(c, tm.arg, tm.alen, domain, &t) == 0 && spf_valid_domain(t.s))
	    c->dns->prefetch(c->dns->ctx, t.s, type);
    }
    buf_free(&t);
}

/* explain - the exp= text for a fail; R_PENDING or 0 */
static int explain(struct spf_ctx *c, const char *spec, size_t len, const char *domain)
{
    struct buf name, text;
    struct dns_answer *a;
    int     rc = 0;
    struct spf_outcome *o = c->o;
    struct buf saved;

    buf_init(&name);
    buf_init(&text);
    buf_init(&saved);
    buf_puts(&saved, o->problem.s);
    if (spf_domain_spec(c, spec, len, domain, &name) != 0 || !spf_valid_domain(name.s))
	goto done;			/* as if there were no exp= */
    if ((a = spf_lookup(c, name.s, DNS_T_TXT)) == NULL) {
	rc = R_PENDING;
	goto done;
    }
    if (a->status != DNS_OK || a->n != 1 || a->rr[0].text_altered)
	goto done;			/* none, several, or not ASCII: the default */
    if ((rc = spf_expand(c, a->rr[0].text, strlen(a->rr[0].text), domain, 1, &text)) != 0) {
	if (rc != R_PENDING)
	    rc = 0;			/* a broken explanation: the default */
	goto done;
    }
    if (text.len) {
	buf_reset(&o->explanation);
	buf_puts(&o->explanation, text.s);
    }
done:
    /* a failed explanation is no error of the evaluation */
    buf_reset(&o->problem);
    buf_puts(&o->problem, saved.s);
    buf_free(&saved);
    buf_free(&name);
    buf_free(&text);
    return rc;
}

/* check_host - RFC 7208 4: the result for one domain */
static int check_host(struct spf_ctx *c, const char *domain, int depth, int want_exp)
{
    struct dns_answer *txt;
    const char *record = NULL;
    struct strlist w;
    int     result = SPF_NEUTRAL, matched = 0, rc;
    const char *redirect = NULL, *exp = NULL;
    size_t  redirect_len = 0, exp_len = 0;
    struct buf target;
    struct term tm;
    int     addr_type = c->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
    size_t  cur = 0;

    if (depth > MAX_DEPTH)
	return spf_permerror(c, "include/redirect nesting too deep");
    if (!spf_valid_domain(domain)) {
	trace(c, depth, "%s: not a valid domain: none", domain);
	return SPF_NONE;
    }
    if ((txt = spf_lookup(c, domain, DNS_T_TXT)) == NULL)
	return R_PENDING;
    if (txt->status == DNS_TEMPFAIL)
	return temperror(c, domain, txt);
    int     count = 0, altered = 0;

    for (size_t i = 0; txt->status == DNS_OK && i < txt->n; i++) {
	const char *t = txt->rr[i].text;

	if (strncasecmp(t, "v=spf1", 6) == 0 && (t[6] == 0 || t[6] == ' ')) {
	    record = t;
	    altered = txt->rr[i].text_altered;
	    count++;
	}
    }
    if (count == 0) {
	trace(c, depth, "%s: no SPF record: none", domain);
	return SPF_NONE;
    }
    if (count > 1)
	return spf_permerror(c, "%s has %d SPF records", domain, count);
    if (altered)
	return spf_permerror(c, "%s: the SPF record holds bytes outside printable ASCII"
			     " or is too long to read whole", domain);
    trace(c, depth, "%s: \"%s\"", domain, record);

    strlist_init(&w);
    strlist_split(&w, record + 6, " ");
    buf_init(&target);
    /* modifiers first: at most one redirect and one exp; syntax of all */
    for (size_t i = 0; i < w.n; i++) {
	if ((rc = parse_term(c, w.v[i], strlen(w.v[i]), &tm)) != 0) {
	    result = rc;
	    goto out;
	}
	if (!tm.modifier) {
	    static const char *const mech[] = {"all", "include", "a", "mx", "ptr", "ip4", "ip6",
	    "exists", NULL};
	    int     known = 0;

	    for (int k = 0; mech[k]; k++)
		known |= name_is(&tm, mech[k]);
	    if (!known) {
		result = spf_permerror(c, "unknown mechanism \"%s\"", w.v[i]);
		goto out;
	    }
	    if ((name_is(&tm, "include") || name_is(&tm, "exists")
		 || name_is(&tm, "ip4") || name_is(&tm, "ip6")) && tm.arg == NULL) {
		result = spf_permerror(c, "\"%s\" needs an argument", w.v[i]);
		goto out;
	    }
	    if (name_is(&tm, "all") && tm.arg) {
		result = spf_permerror(c, "bad term \"%s\"", w.v[i]);
		goto out;
	    }
	}
	if ((rc = term_syntax(c, &tm, w.v[i])) != 0) {
	    result = rc;
	    goto out;
	}
	if (!tm.modifier)
	    continue;
	if (name_is(&tm, "redirect") || name_is(&tm, "exp")) {
	    int     is_r = name_is(&tm, "redirect");

	    if ((is_r && redirect) || (!is_r && exp)) {
		result = spf_permerror(c, "more than one %s= in %s", is_r ? "redirect" : "exp", domain);
		goto out;
	    }
	    if (is_r) {
		redirect = tm.arg;
		redirect_len = tm.alen;
	    } else {
		exp = tm.arg;
		exp_len = tm.alen;
	    }
	}
    }
    /* the mechanisms, left to right */
    for (size_t i = 0; i < w.n && !matched; i++) {
	cur = i;
	parse_term(c, w.v[i], strlen(w.v[i]), &tm);
	if (tm.modifier)
	    continue;
	int     m = 0;

	if (name_is(&tm, "all")) {
	    m = 1;
	} else if (name_is(&tm, "ip4") || name_is(&tm, "ip6")) {
	    int     v6 = name_is(&tm, "ip6");
	    char    net[128];
	    struct cidr cd;
	    const char *slash = memchr(tm.arg, '/', tm.alen);
	    size_t  al = slash ? (size_t) (slash - tm.arg) : tm.alen;
	    int     max = v6 ? 128 : 32;

	    snprintf(net, sizeof(net), "%.*s", (int) (al < 127 ? al : 127), tm.arg);
	    cd.len = slash ? cidr_len(slash + 1, tm.alen - al - 1, max) : max;
	    if (cd.len < 0 || inet_parse(net, &cd.net) < 0 || (strchr(net, ':') != NULL) != v6
		|| (!v6 && cd.net.family != AF_INET)) {
		result = spf_permerror(c, "bad %s network \"%.*s\"", v6 ? "ip6" : "ip4",
				   (int) tm.alen, tm.arg);
		goto out;
	    }
	    if (v6 && cd.net.family == AF_INET) {
		/* an IPv4-mapped network: its length counts the 96 prefix bits */
		if (cd.len < 96) {
		    m = 0;
		    goto decided;
		}
		cd.len -= 96;
	    }
	    /* host bits beyond the length are allowed in SPF */
	    for (int bit = cd.len; bit < (cd.net.family == AF_INET ? 32 : 128); bit++)
		cd.net.b[bit / 8] &= (unsigned char) ~(0x80 >> (bit % 8));
	    m = cidr_match(&cd, &c->ip);
	} else {
	    /* every other mechanism queries the DNS */
	    if (++c->dns_terms > MAX_DNS_TERMS) {
		result = spf_permerror(c, "more than %d DNS-querying terms", MAX_DNS_TERMS);
		goto out;
	    }
	    const char *tgt = domain;

	    if (tm.arg) {
		if ((rc = spf_domain_spec(c, tm.arg, tm.alen, domain, &target)) != 0) {
		    result = rc;
		    goto wait_or_out;
		}
		tgt = target.s;
		if (c->oversized) {
		    static const char why[] = "uses a local-part, sender or HELO name longer than"
			" RFC 5321 allows";

		    if (name_is(&tm, "include")) {
			result = spf_permerror(c, "%s %s", w.v[i], why);
			goto out;
		    }
		    trace(c, depth, "%s %s: no domain, no match", w.v[i], why);
		    m = 0;
		    goto decided;
		}
		if (!name_is(&tm, "include") && !spf_valid_domain(tgt)) {
		    /* expanded to no domain: nothing to look up, no match */
		    trace(c, depth, "%s: \"%s\" is not a domain: no match", w.v[i], tgt);
		    m = 0;
		    goto decided;
		}
	    }
	    if (name_is(&tm, "include")) {
		struct buf sub;

		buf_init(&sub);
		buf_puts(&sub, tgt);
		rc = check_host(c, sub.s, depth + 1, 0);
		buf_free(&sub);
		if (rc == R_PENDING || rc == SPF_TEMPERROR || rc == SPF_PERMERROR) {
		    result = rc;
		    goto wait_or_out;
		}
		if (rc == SPF_NONE) {
		    result = spf_permerror(c, "include:%s has no SPF record", tgt);
		    goto out;
		}
		m = rc == SPF_PASS;
	    } else if (name_is(&tm, "a") || name_is(&tm, "exists")) {
		int     ex = name_is(&tm, "exists");
		struct dns_answer *a = spf_lookup(c, tgt, ex ? DNS_T_A : addr_type);

		if (a == NULL) {
		    result = R_PENDING;
		    goto wait_or_out;
		}
		if (a->status == DNS_TEMPFAIL) {
		    result = temperror(c, tgt, a);
		    goto out;
		}
		if (is_void(a) && ++c->voids > MAX_VOID) {
		    result = spf_permerror(c, "more than %d void lookups", MAX_VOID);
		    goto out;
		}
		m = ex ? a->status == DNS_OK && a->n > 0 : spf_addr_in(a, &c->ip, tm.len4, tm.len6);
	    } else if (name_is(&tm, "mx")) {
		struct dns_answer *mx = spf_lookup(c, tgt, DNS_T_MX);

		if (mx == NULL) {
		    result = R_PENDING;
		    goto wait_or_out;
		}
		if (mx->status == DNS_TEMPFAIL) {
		    result = temperror(c, tgt, mx);
		    goto out;
		}
		if (is_void(mx) && ++c->voids > MAX_VOID) {
		    result = spf_permerror(c, "more than %d void lookups", MAX_VOID);
		    goto out;
		}
		if (mx->status == DNS_OK && mx->n > MAX_MX_PTR) {
		    result = spf_permerror(c, "%s has more than %d MX records", tgt, MAX_MX_PTR);
		    goto out;
		}
		/* ask for every exchange's addresses at once, then look at
		 * them by preference (resolvers rotate the records), waiting
		 * where one is missing: the result does not depend on the
		 * order the records or the answers come in */
		const struct dns_rr *ex[MAX_MX_PTR];
		size_t  nex = 0;

		for (size_t k = 0; mx->status == DNS_OK && k < mx->n; k++)
		    if (*mx->rr[k].name) {
			ex[nex++] = &mx->rr[k];
			c->dns->prefetch(c->dns->ctx, mx->rr[k].name, addr_type);
		    }
		qsort(ex, nex, sizeof(ex[0]), mx_order);
		for (size_t k = 0; k < nex && !m; k++) {
		    struct dns_answer *a = spf_lookup(c, ex[k]->name, addr_type);

		    if (a == NULL) {
			result = R_PENDING;
			goto wait_or_out;
		    }
		    if (a->status == DNS_TEMPFAIL) {
			result = temperror(c, ex[k]->name, a);
			goto out;
		    }
		    m = spf_addr_in(a, &c->ip, tm.len4, tm.len6);
		}
	    } else if (name_is(&tm, "ptr")) {
		struct buf q;
		struct dns_answer *ptr;

		buf_init(&q);
		spf_ptr_name(&c->ip, &q);
		ptr = spf_lookup(c, q.s, DNS_T_PTR);
		buf_free(&q);
		if (ptr == NULL) {
		    result = R_PENDING;
		    goto wait_or_out;
		}
		int     pending = 0;
		size_t  tl = strlen(tgt);

		for (size_t k = 0; ptr->status == DNS_OK && k < ptr->n && k < MAX_MX_PTR; k++)
		    c->dns->prefetch(c->dns->ctx, ptr->rr[k].name, addr_type);
		for (size_t k = 0; ptr->status == DNS_OK && k < ptr->n && k < MAX_MX_PTR && !m; k++) {
		    const char *n = ptr->rr[k].name;
		    size_t  nl = strlen(n);

		    if (!(strcasecmp(n, tgt) == 0
			  || (nl > tl && n[nl - tl - 1] == '.' && strcasecmp(n + nl - tl, tgt) == 0)))
			continue;
		    struct dns_answer *a = spf_lookup(c, n, addr_type);

		    if (a == NULL) {
			pending = 1;
			continue;
		    }
		    m = spf_addr_in(a, &c->ip, 32, 128);
		}
		if (!m && pending) {
		    result = R_PENDING;
		    goto wait_or_out;
		}
	    }
	}
decided:
	trace(c, depth, "%s: %s", w.v[i], m ? "match" : "no match");
	if (m) {
	    matched = 1;
	    result = qualifier(tm.qual);
	    buf_reset(&c->o->mechanism);
	    buf_puts(&c->o->mechanism, w.v[i]);
	}
    }
    if (!matched && redirect) {
	if (++c->dns_terms > MAX_DNS_TERMS) {
	    result = spf_permerror(c, "more than %d DNS-querying terms", MAX_DNS_TERMS);
	    goto out;
	}
	if ((rc = spf_domain_spec(c, redirect, redirect_len, domain, &target)) != 0) {
	    result = rc;
	    goto out;
	}
	if (c->oversized) {
	    result = spf_permerror(c, "redirect=%.*s uses a local-part, sender or HELO name"
				   " longer than RFC 5321 allows", (int) redirect_len, redirect);
	    goto out;
	}
	struct buf sub;

	buf_init(&sub);
	buf_puts(&sub, target.s);
	trace(c, depth, "redirect=%s", sub.s);
	rc = check_host(c, sub.s, depth + 1, want_exp);
	buf_free(&sub);
	if (rc == SPF_NONE)
	    rc = spf_permerror(c, "redirect=%s has no SPF record", target.s);
	result = rc;
	goto out;
    }
    if (!matched) {
	buf_reset(&c->o->mechanism);
	buf_puts(&c->o->mechanism, "default");
    }
    if (result == SPF_FAIL && want_exp && exp) {
	if (explain(c, exp, exp_len, domain) == R_PENDING)
	    result = R_PENDING;
    }
    goto out;

wait_or_out:
    if (result == R_PENDING)
	/* before waiting, ask for what the rest of this record needs */
	prefetch_rest(c, &w, cur + 1, domain);
out:
    buf_free(&target);
    strlist_free(&w);
    return result;
}

int     spf_check(const struct spf_dns *dns, const struct spf_request *rq,
		          int helo_identity, struct spf_outcome *o)
{
    struct spf_ctx c;
    const char *at;
    int     rc;

    memset(&c, 0, sizeof(c));
    c.dns = dns;
    c.rq = rq;
    c.o = o;
    buf_reset(&o->trace);
    buf_reset(&o->problem);
    buf_reset(&o->explanation);
    buf_reset(&o->mechanism);
    buf_reset(&o->domain);
    buf_init(&c.sender);
    if (inet_parse(rq->ip, &c.ip) < 0) {
	o->result = SPF_PERMERROR;
	buf_printf(&o->problem, "\"%s\" is not an IP address", rq->ip);
	buf_free(&c.sender);
	return 0;
    }
    /* the identity: the sender, or postmaster@helo */
    if (helo_identity || *rq->sender == 0)
	buf_printf(&c.sender, "postmaster@%s", rq->helo);
    else if ((at = strrchr(rq->sender, '@')) == rq->sender || at == NULL)
	buf_printf(&c.sender, "postmaster@%s", at ? at + 1 : rq->sender);
    else
	buf_puts(&c.sender, rq->sender);
    at = strrchr(c.sender.s, '@');
    c.sdomain = at + 1;
    c.local_len = (size_t) (at - c.sender.s);
    c.local = xstrndup(c.sender.s, c.local_len);
    buf_puts(&o->domain, c.sdomain);
    buf_reset(&o->sender);
    buf_puts(&o->sender, c.sender.s);

    /*
     * RFC 5321's sizes (util/mailaddr.h).  A domain past them is no DNS
     * name: "none" (RFC 7208 4.3), before anything looks at it.  A longer
     * local-part, sender or HELO name is checked as usual (the domain
     * decides, and padding must not escape a fail), but never goes into a
     * DNS name: a term whose target needs it has no domain.
     */
    c.local_long = c.local_len > ADDR_LOCAL_MAX;
    c.sender_long = c.sender.len > ADDR_TEXT_MAX;
    c.helo_long = strlen(rq->helo) > ADDR_DOMAIN_MAX;
    buf_init(&c.pname);
    buf_init(&c.pname_domain);
    if (!spf_valid_domain(c.sdomain)) {
	size_t  dl = strlen(c.sdomain);

	trace(&c, 0, "%.64s%s: not a valid domain name (%zu characters; RFC 7208 4.3): none",
		  c.sdomain, dl > 64 ? "..." : "", dl);
	rc = SPF_NONE;
    } else {
	if (c.local_long || c.sender_long)
	    trace(&c, 0, "the local-part (%zu) or the sender (%zu) is longer than RFC 5321's"
		      " %d or %d: %%{l} and %%{s} make no domain", c.local_len, c.sender.len,
		      ADDR_LOCAL_MAX, ADDR_TEXT_MAX);
	rc = check_host(&c, c.sdomain, 0, 1);
    }
    free((char *) c.local);
    buf_free(&c.pname);
    buf_free(&c.pname_domain);
    if (rc == R_PENDING) {
	buf_free(&c.sender);
	return SPF_PENDING;
    }
    o->result = (enum spf_result) rc;
    if (o->result == SPF_FAIL && o->explanation.len == 0) {
	/* the default explanation */
	char    ip[64];

	inet_format(&c.ip, ip, sizeof(ip));
	buf_printf(&o->explanation, "%s is not a designated mail server for %s", ip, c.sdomain);
    }
    buf_free(&c.sender);
    return 0;
}
