/*
 * spf_macro.c - RFC 7208 section 7 macros, and the domain names they make:
 * validity (4.3), truncation (7.3), %{p}'s validated name (7.2).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "spf/spf_impl.h"
#include "util/mem.h"

/* valid_domain - RFC 7208 4.3: labels of 1..63, at most 253, two labels */
int spf_valid_domain(const char *d)
{
    size_t  len = strlen(d);
    const char *cp = d;

    if (len > 0 && d[len - 1] == '.')
	len--;
    if (len == 0 || len > 253 || memchr(d, '.', len) == NULL)
	return 0;
    while (cp < d + len) {
	const char *dot = memchr(cp, '.', (size_t) (d + len - cp));
	size_t  ll = dot ? (size_t) (dot - cp) : (size_t) (d + len - cp);

	if (ll == 0 || ll > 63)
	    return 0;
	cp += ll + 1;
    }
    return 1;
}

/* truncate - RFC 7208 7.3: drop left labels until at most 253 chars */
static void truncate_domain(struct buf *b)
{
    while (b->len > 253) {
	char   *dot = strchr(b->s, '.');

	if (dot == NULL)
	    break;
	size_t  drop = (size_t) (dot - b->s) + 1;

	memmove(b->s, b->s + drop, b->len - drop + 1);
	b->len -= drop;
    }
}

/* ptr_name - the reverse lookup name of the client */
void spf_ptr_name(const struct inet_addr *a, struct buf *out)
{
    char    text[64];

    inet_format(a, text, sizeof(text));
    buf_reset(out);
    buf_reserve(out, 128);
    dns_reverse_name(text, a->family == AF_INET ? "in-addr.arpa" : "ip6.arpa", out->s, 128);
    out->len = strlen(out->s);
}

int spf_addr_in(const struct dns_answer *a, const struct inet_addr *ip, int len4, int len6)
{
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	struct cidr cd;

	cd.net = a->rr[i].addr;
	if (cd.net.family != ip->family)
	    continue;
	cd.len = ip->family == AF_INET ? len4 : len6;
	if (cidr_match(&cd, ip))
	    return 1;
    }
    return 0;
}

/* validated_name - %{p}: a PTR name that resolves back; R_PENDING or 0 */
static int validated_name(struct spf_ctx *c, const char *domain, struct buf *out)
{
    struct buf q;
    struct dns_answer *ptr;
    const char *any = NULL;
    int     type = c->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;

    buf_init(&q);
    spf_ptr_name(&c->ip, &q);
    ptr = spf_lookup(c, q.s, DNS_T_PTR);
    buf_free(&q);
    if (ptr == NULL)
	return R_PENDING;
    for (size_t i = 0; ptr->status == DNS_OK && i < ptr->n && i < MAX_MX_PTR; i++) {
	struct dns_answer *a = spf_lookup(c, ptr->rr[i].name, type);

	if (a == NULL)
	    return R_PENDING;
	if (!spf_addr_in(a, &c->ip, 32, 128))
	    continue;
	size_t  nl = strlen(ptr->rr[i].name), dl = strlen(domain);

	if (strcasecmp(ptr->rr[i].name, domain) == 0
	    || (nl > dl && ptr->rr[i].name[nl - dl - 1] == '.'
		&& strcasecmp(ptr->rr[i].name + nl - dl, domain) == 0)) {
	    buf_puts(out, ptr->rr[i].name);
	    return 0;
	}
	if (any == NULL)
	    any = ptr->rr[i].name;
    }
    buf_puts(out, any ? any : "unknown");
    return 0;
}

/* one macro: %%, %_, %- (letter is that character) or %{...} */
struct macro {
    char    letter;
    long    keep;			/* digit transformer, 0: all */
    int     reverse;
    char    delims[16];
    const char *next;			/* after the macro */
};

/*
 * macro_parse - RFC 7208 7.1 macro at cp (a '%'): the letter (c, r and t
 * only with exp), the transformers, the delimiters.  0, or -1 and why.
 */
static int macro_parse(const char *cp, const char *end, int exp, struct macro *m,
		               char *why, size_t whylen)
{
    memset(m, 0, sizeof(*m));
    if (cp + 1 < end && (cp[1] == '%' || cp[1] == '_' || cp[1] == '-')) {
	m->letter = cp[1];
	m->next = cp + 2;
	return 0;
    }
    const char *close = cp + 1 < end && cp[1] == '{' ? memchr(cp, '}', (size_t) (end - cp)) : NULL;

    if (close == NULL || close - cp < 3 || strchr("slodiphcrtvSLODIPHCRTV", cp[2]) == NULL) {
	snprintf(why, whylen, "bad macro at \"%.*s\"", (int) (end - cp), cp);
	return -1;
    }
    m->letter = cp[2];
    if (!exp && strchr("crtCRT", m->letter) != NULL) {
	snprintf(why, whylen, "macro %%{%c} is allowed only in explanations", m->letter);
	return -1;
    }
    const char *t = cp + 3;

    while (t < close && isdigit((unsigned char) *t)) {
	m->keep = m->keep * 10 + (*t - '0');
	if (m->keep > 128)
	    m->keep = 128;
	t++;
    }
    if (t > cp + 3 && m->keep == 0) {
	snprintf(why, whylen, "a zero digit transformer at \"%.*s\"", (int) (end - cp), cp);
	return -1;
    }
    if (t < close && (*t == 'r' || *t == 'R')) {
	m->reverse = 1;
	t++;
    }
    for (size_t dn = 0; t < close; t++) {
	if (strchr(".-+,/_=", *t) == NULL) {
	    snprintf(why, whylen, "bad macro delimiter '%c' at \"%.*s\"", *t,
		     (int) (end - cp), cp);
	    return -1;
	}
	if (dn < sizeof(m->delims) - 1)
	    m->delims[dn++] = *t, m->delims[dn] = 0;
    }
    if (!*m->delims)
	strcpy(m->delims, ".");
    m->next = close + 1;
    return 0;
}

/*
 * expand - RFC 7208 7: macro-string into out.  exp: the c, r, t letters
 * are allowed (explanations).  0, SPF_PERMERROR (bad syntax) or R_PENDING.
 */
int spf_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
		          int exp, struct buf *out)
{
    const char *cp = spec, *end = spec + len;

    buf_reset(out);
    while (cp < end) {
	if (*cp != '%') {
	    buf_putc(out, *cp++);
	    continue;
	}
	struct macro m;
	char    why[300];

	if (macro_parse(cp, end, exp, &m, why, sizeof(why)) < 0)
	    return spf_permerror(c, "%s", why);
	if (m.letter == '%' || m.letter == '_' || m.letter == '-') {
	    buf_puts(out, m.letter == '%' ? "%" : m.letter == '_' ? " " : "%20");
	    cp = m.next;
	    continue;
	}
	char    letter = m.letter;
	int     upper = isupper((unsigned char) letter);
	struct buf val;

	buf_init(&val);
	switch (tolower((unsigned char) letter)) {
	case 's':
	    buf_puts(&val, c->sender.s);
	    break;
	case 'l':
	    buf_puts(&val, c->local);
	    break;
	case 'o':
	    buf_puts(&val, c->sdomain);
	    break;
	case 'd':
	    buf_puts(&val, domain);
	    break;
	case 'i':
	    if (c->ip.family == AF_INET) {
		buf_printf(&val, "%u.%u.%u.%u", c->ip.b[0], c->ip.b[1], c->ip.b[2], c->ip.b[3]);
	    } else {
		for (int i = 0; i < 16; i++)
		    buf_printf(&val, "%s%x.%x", i ? "." : "", c->ip.b[i] >> 4, c->ip.b[i] & 0xf);
	    }
	    break;
	case 'p':{
		int     rc = validated_name(c, domain, &val);

		if (rc == R_PENDING) {
		    buf_free(&val);
		    return R_PENDING;
		}
		break;
	    }
	case 'v':
	    buf_puts(&val, c->ip.family == AF_INET ? "in-addr" : "ip6");
	    break;
	case 'h':
	    buf_puts(&val, c->rq->helo);
	    break;
	default:			/* c, r, t: only with exp (macro_parse) */
	    if (tolower((unsigned char) letter) == 'c') {
		char    text[64];

		inet_format(&c->ip, text, sizeof(text));
		buf_puts(&val, text);
	    } else if (tolower((unsigned char) letter) == 'r') {
		buf_puts(&val, c->rq->receiver && *c->rq->receiver ? c->rq->receiver : "unknown");
	    } else {
		buf_printf(&val, "%lld", (long long) c->rq->now);
	    }
	    break;
	}
	/* split on the delimiters, reverse, keep the right-hand parts, join with '.' */
	struct strlist parts;

	strlist_init(&parts);
	for (const char *p = val.s;;) {
	    size_t  n = strcspn(p, m.delims);

	    strlist_addn(&parts, p, n);
	    if (p[n] == 0)
		break;
	    p += n + 1;
	}
	if (m.reverse)
	    for (size_t i = 0; i < parts.n / 2; i++) {
		char   *tmp = parts.v[i];

		parts.v[i] = parts.v[parts.n - 1 - i];
		parts.v[parts.n - 1 - i] = tmp;
	    }
	size_t  first = m.keep > 0 && (size_t) m.keep < parts.n ? parts.n - (size_t) m.keep : 0;

	for (size_t i = first; i < parts.n; i++) {
	    const char *p = parts.v[i];

	    if (i > first)
		buf_putc(out, '.');
	    for (; *p; p++) {
		if (upper && !(isalnum((unsigned char) *p) || strchr("-._~", *p)))
		    buf_printf(out, "%%%02X", (unsigned char) *p);
		else
		    buf_putc(out, *p);
	    }
	}
	strlist_free(&parts);
	buf_free(&val);
	cp = m.next;
    }
    return 0;
}

/* toplabel - RFC 7208 7.1: letters, digits, inner hyphens; not all digits */
static int toplabel(const char *s, size_t n)
{
    int     alpha = 0, hyphen = 0;

    if (n == 0 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
	return 0;
    for (size_t i = 0; i < n; i++) {
	if (isalpha((unsigned char) s[i]))
	    alpha = 1;
	else if (s[i] == '-')
	    hyphen = 1;
	else if (!isdigit((unsigned char) s[i]))
	    return 0;
    }
    return alpha || hyphen;
}

/*
 * spf_macro_syntax - RFC 7208 7.1 syntax of a macro-string as written in
 * a record, before anything is expanded: literals are visible ASCII (and
 * spaces in explanation text), macros are %{letter digits [r] delimiters},
 * %%, %_ or %-; c, r and t only in explanations.  With domain_end, it is a
 * domain-spec: it ends with a macro or with "." and a top label.  0 or -1
 * with the reason in why.
 */
int     spf_macro_syntax(const char *spec, size_t len, int exp, int domain_end,
			         char *why, size_t whylen)
{
    const char *cp = spec, *end = spec + len;
    int     ends_macro = 0;

    if (len == 0 && domain_end) {
	snprintf(why, whylen, "empty domain-spec");
	return -1;
    }
    while (cp < end) {
	unsigned char ch = (unsigned char) *cp;

	ends_macro = 0;
	if (ch != '%') {
	    if (ch < 0x21 || ch > 0x7e) {
		if (!(exp && ch == ' ')) {
		    snprintf(why, whylen, "character 0x%02x in \"%.*s\"", ch, (int) len, spec);
		    return -1;
		}
	    }
	    cp++;
	    continue;
	}
	struct macro m;

	if (macro_parse(cp, end, exp, &m, why, whylen) < 0)
	    return -1;
	cp = m.next;
	ends_macro = 1;
    }
    if (!domain_end || ends_macro)
	return 0;
    /* "." toplabel [ "." ] */
    size_t  n = len;

    if (n > 0 && spec[n - 1] == '.')
	n--;
    const char *dot = NULL;

    for (size_t i = n; i-- > 0;)
	if (spec[i] == '.') {
	    dot = spec + i;
	    break;
	}
    if (dot == NULL || !toplabel(dot + 1, (size_t) (spec + n - dot - 1))) {
	snprintf(why, whylen, "\"%.*s\" does not end in a top-level domain name", (int) len, spec);
	return -1;
    }
    return 0;
}

/* domain_spec - expand a mechanism's target; R_PENDING, PERMERROR or 0 */
int spf_domain_spec(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
		               struct buf *out)
{
    int     rc;

    if (len == 0)
	return spf_permerror(c, "empty domain-spec");
    if ((rc = spf_expand(c, spec, len, domain, 0, out)) != 0)
	return rc;
    truncate_domain(out);
    if (out->len > 0 && out->s[out->len - 1] == '.')
	out->s[--out->len] = 0;
    /* the syntax was checked before expansion; a name that expands to no
     * domain is not an error: it matches nothing (the caller sees it) */
    return 0;
}

