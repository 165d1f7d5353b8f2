/*
 * spf_macro.c - RFC 7208 section 7 macros, and the domain names they make:
 * validity (4.3), truncation (7.3), %{p}'s validated name (7.2).
 */
#include <ctype.h>
#include <stdint.h>
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

/*
 * truncate_domain - RFC 7208 7.3: drop left labels (with their dots) until
 * at most 253 characters are left.  Where to cut is found in one pass: the
 * first dot from which no more than 253 characters follow, else the last
 * dot (a last label longer than 253 stays: it is no domain); then one move.
 */
void    spf_truncate_domain(struct buf *b)
{
    size_t  cut = 0;

    if (b->len <= DNS_NAME_MAX)
	return;
    for (size_t i = 0; i < b->len; i++) {
	if (b->s[i] != '.')
	    continue;
	cut = i + 1;
	if (b->len - cut <= DNS_NAME_MAX)
	    break;
    }
    if (cut == 0)
	return;
    memmove(b->s, b->s + cut, b->len - cut + 1);
    b->len -= cut;
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

static int find_validated_name(struct spf_ctx *c, const char *domain, struct buf *out);

/* validated_name - %{p}: a PTR name that resolves back; R_PENDING or 0 */
static int validated_name(struct spf_ctx *c, const char *domain, struct buf *out)
{
    int     rc;

    /* a record may hold hundreds of %{p}: the answer is the same for each */
    if (c->pname_done && strcmp(c->pname_domain.s, domain) == 0) {
	buf_append(out, c->pname.s, c->pname.len);
	return 0;
    }
    buf_reset(&c->pname);
    if ((rc = find_validated_name(c, domain, &c->pname)) != 0)
	return rc;
    buf_reset(&c->pname_domain);
    buf_puts(&c->pname_domain, domain);
    c->pname_done = 1;
    buf_append(out, c->pname.s, c->pname.len);
    return 0;
}

/* find_validated_name - the PTR names of the client, checked */
static int find_validated_name(struct spf_ctx *c, const char *domain, struct buf *out)
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

/*
 * nibble_case - which of an IPv6 address's 32 nibbles are written as
 * upper-case letters in its text (bit i: nibble i, most significant
 * first).  %{i} keeps the case the address was given in: RFC 7208 7.4
 * writes 2001:db8::cb01 as "...b.c...", and the RFC's test suite, from
 * its reference implementation, CAFE:BABE::1 as "...E.B.A.B.E.F.A.C".
 * The text was accepted by inet_parse(); groups that would fall outside
 * the address are ignored.  An embedded IPv4 part has no letters.
 */
static uint32_t nibble_case(const char *text)
{
    size_t  len = strlen(text);
    const char *end, *gap;
    uint32_t mask = 0;

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
	text++, len -= 2;
    if (len > 5 && strncasecmp(text, "IPv6:", 5) == 0)
	text += 5, len -= 5;
    end = text + len;
    gap = NULL;
    for (const char *cp = text; cp + 1 < end; cp++)
	if (cp[0] == ':' && cp[1] == ':') {
	    gap = cp;
	    break;
	}
    /* two passes: the groups before the gap from the left, after it from
     * the right (counted first); without a gap, all from the left */
    for (int side = 0; side < 2; side++) {
	const char *from = side == 0 ? text : gap ? gap + 2 : end;
	const char *to = side == 0 ? (gap ? gap : end) : end;
	int     groups = 0, g;

	if (from >= to)
	    continue;
	for (const char *cp = from; cp <= to; cp++)
	    if (cp == to || *cp == ':')
		groups++;
	if (memchr(from, '.', (size_t) (to - from)) != NULL)
	    groups++;			/* a trailing IPv4 part is two groups */
	g = side == 0 ? 0 : 8 - groups;
	for (const char *cp = from; cp < to && g >= 0 && g < 8; g++) {
	    const char *e = memchr(cp, ':', (size_t) (to - cp));
	    size_t  n = (size_t) ((e ? e : to) - cp);

	    if (n <= 4 && memchr(cp, '.', n) == NULL)
		for (size_t k = 0; k < n; k++)
		    if (isupper((unsigned char) cp[k]))
			mask |= (uint32_t) 1 << (g * 4 + (int) (4 - n + k));
	    if (e == NULL)
		break;
	    cp = e + 1;
	}
    }
    return mask;
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

/* put - append n bytes within SPF_EXPAND_MAX; -1 past it */
static int put(struct buf *out, const char *s, size_t n)
{
    if (out->len + n > SPF_EXPAND_MAX)
	return -1;
    buf_append(out, s, n);
    return 0;
}

/* put_part - one part of a macro value; URL-escaped for an upper-case letter */
static int put_part(struct buf *out, const char *p, size_t n, int upper)
{
    static const char hex[] = "0123456789ABCDEF";

    if (!upper)
	return put(out, p, n);
    for (size_t i = 0; i < n; i++) {
	unsigned char ch = (unsigned char) p[i];
	char    esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};

	if (isalnum(ch) || strchr("-._~", ch) != NULL) {
	    if (put(out, p + i, 1) < 0)
		return -1;
	} else if (put(out, esc, 3) < 0) {
	    return -1;
	}
    }
    return 0;
}

/*
 * transform - RFC 7208 7.3: split a value on the delimiters, reverse the
 * parts (r), keep the right-hand ones (digits), join them with '.'.
 * Linear: the parts are found by scanning, never copied into a list.
 * 0, or -1 past SPF_EXPAND_MAX.
 */
static int transform(const struct macro *m, const char *v, size_t vlen, int upper,
		             struct buf *out)
{
    unsigned char delim[256] = {0};
    size_t  nparts = 1, keep;

    for (const char *d = m->delims; *d; d++)
	delim[(unsigned char) *d] = 1;
#define IS_DELIM(ch) (delim[(unsigned char) (ch)])
    for (size_t i = 0; i < vlen; i++)
	nparts += IS_DELIM(v[i]);
    keep = m->keep > 0 && (size_t) m->keep < nparts ? (size_t) m->keep : nparts;
    if (!m->reverse) {
	/* the last keep parts: from after the keep-th delimiter from the end */
	size_t  start = 0, seen = 0;

	for (size_t i = vlen; i-- > 0;)
	    if (IS_DELIM(v[i]) && ++seen == keep) {
		start = i + 1;
		break;
	    }
	for (size_t i = start, p = start; i <= vlen; i++) {
	    if (i < vlen && !IS_DELIM(v[i]))
		continue;
	    if ((p > start && put(out, ".", 1) < 0) || put_part(out, v + p, i - p, upper) < 0)
		return -1;
	    p = i + 1;
	}
	return 0;
    }
    /* reversed, the last keep parts are the first keep, last one first */
    size_t  end = vlen, seen = 0;

    for (size_t i = 0; i < vlen; i++)
	if (IS_DELIM(v[i]) && ++seen == keep) {
	    end = i;
	    break;
	}
    for (size_t e = end;;) {
	size_t  b = e;			/* the part v[b..e) */

	while (b > 0 && !IS_DELIM(v[b - 1]))
	    b--;
	if ((e < end && put(out, ".", 1) < 0) || put_part(out, v + b, e - b, upper) < 0)
	    return -1;
	if (b == 0)
	    break;
	e = b - 1;
    }
#undef IS_DELIM
    return 0;
}

/*
 * expand - RFC 7208 7: macro-string into out.  exp: the c, r, t letters
 * are allowed (explanations).  0, SPF_PERMERROR (bad syntax, or longer
 * than SPF_EXPAND_MAX) or R_PENDING.
 */
int spf_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
		          int exp, struct buf *out)
{
    const char *cp = spec, *end = spec + len;
    struct buf val;
    int     rc = 0;

    buf_reset(out);
    buf_init(&val);
    c->oversized = 0;
    while (cp < end) {
	/* a run of literal text at once */
	const char *pct = memchr(cp, '%', (size_t) (end - cp));
	size_t  lit = (size_t) ((pct ? pct : end) - cp);

	if (put(out, cp, lit) < 0)
	    goto too_long;
	if ((cp += lit) == end)
	    break;

	struct macro m;
	char    why[300];

	if (macro_parse(cp, end, exp, &m, why, sizeof(why)) < 0) {
	    rc = spf_permerror(c, "%s", why);
	    goto done;
	}
	cp = m.next;
	if (m.letter == '%' || m.letter == '_' || m.letter == '-') {
	    const char *t = m.letter == '%' ? "%" : m.letter == '_' ? " " : "%20";

	    if (put(out, t, strlen(t)) < 0)
		goto too_long;
	    continue;
	}
	/* the letter's value, without copying what is already a string */
	const char *v = NULL;
	size_t  vlen = 0;

	buf_reset(&val);
	switch (tolower((unsigned char) m.letter)) {
	case 's':
	    v = c->sender.s, vlen = c->sender.len;
	    c->oversized = c->sender_long;
	    break;
	case 'l':
	    v = c->local, vlen = c->local_len;
	    c->oversized = c->local_long;
	    break;
	case 'o':
	    v = c->sdomain;
	    break;
	case 'd':
	    v = domain;
	    break;
	case 'i':
	    if (c->ip.family == AF_INET) {
		buf_printf(&val, "%u.%u.%u.%u", c->ip.b[0], c->ip.b[1], c->ip.b[2], c->ip.b[3]);
	    } else {
		static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
		uint32_t uc = nibble_case(c->rq->ip);

		for (int n = 0; n < 32; n++) {
		    unsigned v = n % 2 ? c->ip.b[n / 2] & 0xf : c->ip.b[n / 2] >> 4;

		    if (n > 0)
			buf_putc(&val, '.');
		    buf_putc(&val, (uc >> n) & 1 ? upper[v] : lower[v]);
		}
	    }
	    break;
	case 'p':
	    if ((rc = validated_name(c, domain, &val)) == R_PENDING)
		goto done;
	    break;
	case 'v':
	    v = c->ip.family == AF_INET ? "in-addr" : "ip6";
	    break;
	case 'h':
	    v = c->rq->helo;
	    c->oversized = c->helo_long;
	    break;
	case 'c':{				/* c, r, t: only with exp (macro_parse) */
		char    text[64];

		inet_format(&c->ip, text, sizeof(text));
		buf_puts(&val, text);
		break;
	    }
	case 'r':
	    v = c->rq->receiver && *c->rq->receiver ? c->rq->receiver : "unknown";
	    break;
	default:
	    buf_printf(&val, "%lld", (long long) c->rq->now);
	    break;
	}
	if (c->oversized) {
	    /* longer than RFC 5321 allows: no name is made of it (the caller
	     * sees c->oversized), nor an explanation (the default is given) */
	    buf_reset(out);
	    if (exp)
		rc = spf_permerror(c, "%%{%c} is longer than RFC 5321 allows", m.letter);
	    goto done;
	}
	if (v == NULL)
	    v = val.s, vlen = val.len;
	else if (vlen == 0)
	    vlen = strlen(v);
	if (transform(&m, v, vlen, isupper((unsigned char) m.letter), out) < 0)
	    goto too_long;
    }
    goto done;

too_long:
    rc = spf_permerror(c, "\"%.*s%s\" expands to more than %d bytes",
		       (int) (len > 60 ? 60 : len), spec, len > 60 ? "..." : "", SPF_EXPAND_MAX);
done:
    buf_free(&val);
    return rc;
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
    if (c->oversized) {
	/* a local-part, sender or HELO name longer than RFC 5321 allows
	 * never goes into a DNS name: the target is no domain */
	buf_reset(out);
	return 0;
    }
    spf_truncate_domain(out);
    if (out->len > 0 && out->s[out->len - 1] == '.')
	out->s[--out->len] = 0;
    /* the syntax was checked before expansion; a name that expands to no
     * domain is not an error: it matches nothing (the caller sees it) */
    return 0;
}
