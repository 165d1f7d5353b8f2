/*
 * packet.c - read the answer to one DNS question from a wire-format packet.
 *
 * The packet comes from the network through libunbound, so every length
 * and offset is checked: names may be compressed only backwards, with a
 * bounded number of jumps, labels of at most 63 bytes and names of at
 * most 255.  Bytes that cannot appear in a host name ('.' inside a label,
 * control characters, white space) are shown as '?', which no host name
 * syntax check accepts.  Owner names are compared with the name asked for
 * byte for byte (only ASCII case folded), so that a name with spaces or
 * '%' (an SPF macro expansion, RFC 7208 7) finds its records: there a
 * '.' or '\\' inside a label is written "\\." or "\\\\", which the name
 * asked for (labels split at every '.') can only match label for label.
 * In TXT text, bytes outside printable ASCII are
 * shown as '?' and the record says so (SPF refuses such a record).  A
 * malformed packet is a temporary failure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "util/mem.h"
#include "util/str.h"

#define DNS_MAX_NAME	256
#define DNS_MAX_EXACT	512		/* 255 wire bytes, each at most 2 */
#define DNS_MAX_TEXT	2048		/* longest TXT kept */
#define DNS_MAX_CHAIN	16		/* CNAMEs followed */
#define DNS_NEG_TTL	60		/* negative TTL without an SOA */

struct rr_raw {
    char    owner[DNS_MAX_EXACT];		/* exact (read_name's exact) */
    int     type;
    uint32_t ttl;
    size_t  rdoff, rdlen;
};

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/*
 * read_name - expand the name at *off into out (lower case, no trailing
 * dot, "" for the root); *off moves past the name as it appears in place.
 * exact: every byte as it is, '.' and '\\' in a label escaped with '\\',
 * a NUL written "\\0" so that it cannot end the string early (for
 * comparing); else bytes no host name has become '?' (for callers).
 */
static int read_name_as(const unsigned char *pkt, size_t len, size_t *off,
			        char *out, size_t outlen, int exact)
{
    size_t  pos = *off, total = 0, o = 0;
    int     jumps = 0, jumped = 0;

    for (;;) {
	if (pos >= len)
	    return -1;
	unsigned c = pkt[pos];

	if ((c & 0xc0) == 0xc0) {
	    if (pos + 1 >= len)
		return -1;
	    size_t  target = ((c & 0x3f) << 8) | pkt[pos + 1];

	    if (!jumped)
		*off = pos + 2;
	    if (target >= pos || ++jumps > 64)
		return -1;			/* only backwards; no loops */
	    pos = target;
	    jumped = 1;
	    continue;
	}
	if (c & 0xc0)
	    return -1;				/* extended label types */
	pos++;
	if (c == 0)
	    break;
	if (pos + c > len || (total += c + 1) > 255)
	    return -1;
	if (o > 0) {
	    if (o + 1 >= outlen)
		return -1;
	    out[o++] = '.';
	}
	for (unsigned i = 0; i < c; i++) {
	    unsigned char ch = pkt[pos + i];

	    if (o + 2 >= outlen)
		return -1;
	    if (exact && (ch == '.' || ch == '\\'))
		out[o++] = '\\';
	    else if (exact && ch == 0) {
		out[o++] = '\\';	/* a byte of the name, not its end */
		ch = '0';
	    } else if (!exact && (ch <= ' ' || ch >= 0x7f || ch == '.'))
		ch = '?';
	    else if (ch >= 'A' && ch <= 'Z')
		ch = (unsigned char) (ch - 'A' + 'a');
	    out[o++] = (char) ch;
	}
	pos += c;
    }
    out[o] = 0;
    if (!jumped)
	*off = pos;
    return 0;
}

static int read_name(const unsigned char *pkt, size_t len, size_t *off,
		             char *out, size_t outlen)
{
    return read_name_as(pkt, len, off, out, outlen, 0);
}

/* exact_name - a name asked for as read_name_as(exact) writes it */
static int exact_name(const char *name, char *out, size_t outlen)
{
    size_t  o = 0, n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
	n--;
    for (size_t i = 0; i < n; i++) {
	unsigned char ch = (unsigned char) name[i];

	if (o + 3 > outlen)
	    return -1;
	if (ch == '\\')
	    out[o++] = '\\';
	out[o++] = (char) (ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    out[o] = 0;
    return 0;
}

/* dns_answer_new - an answer without records */
struct dns_answer *dns_answer_new(const char *qname, int qtype,
				          enum dns_status st, const char *why)
{
    struct dns_answer *a = xcalloc(1, sizeof(*a));

    a->refs = 1;
    a->status = st;
    a->qtype = qtype;
    a->qname = xstrdup(qname);
    a->ttl = st == DNS_TEMPFAIL ? 0 : DNS_NEG_TTL;
    snprintf(a->why, sizeof(a->why), "%s", why ? why : "");
    return a;
}

/* add_rr - decode one record of the type asked for into the answer */
static int add_rr(struct dns_answer *a, const unsigned char *pkt, size_t len,
		          const struct rr_raw *r)
{
    struct dns_rr rr;
    char    name[DNS_MAX_NAME];
    size_t  off = r->rdoff;

    memset(&rr, 0, sizeof(rr));
    rr.ttl = r->ttl;
    switch (r->type) {
    case DNS_T_A:
	if (r->rdlen != 4)
	    return -1;
	rr.addr.family = AF_INET;
	memcpy(rr.addr.b, pkt + off, 4);
	break;
    case DNS_T_AAAA:
	if (r->rdlen != 16)
	    return -1;
	rr.addr.family = AF_INET6;
	memcpy(rr.addr.b, pkt + off, 16);
	/* an IPv4-mapped AAAA is an IPv4 address, as inet_parse() sees it */
	break;
    case DNS_T_MX:
	if (r->rdlen < 3)
	    return -1;
	rr.pref = get16(pkt + off);
	off += 2;
	if (read_name(pkt, len, &off, name, sizeof(name)) < 0 || off != r->rdoff + r->rdlen)
	    return -1;
	rr.name = xstrdup(name);
	break;
    case DNS_T_PTR:
    case DNS_T_CNAME:
	if (read_name(pkt, len, &off, name, sizeof(name)) < 0 || off != r->rdoff + r->rdlen)
	    return -1;
	rr.name = xstrdup(name);
	break;
    case DNS_T_TXT:{
	    struct buf t;

	    buf_init(&t);
	    while (off < r->rdoff + r->rdlen) {
		size_t  sl = pkt[off++];

		if (off + sl > r->rdoff + r->rdlen) {
		    buf_free(&t);
		    return -1;
		}
		if (t.len + sl > DNS_MAX_TEXT)
		    rr.text_altered = 1;	/* cut: SPF must not read it */
		for (size_t i = 0; i < sl && t.len < DNS_MAX_TEXT; i++) {
		    unsigned char ch = pkt[off + i];

		    if (ch < ' ' || ch >= 0x7f) {
			rr.text_altered = 1;
			ch = '?';
		    }
		    buf_putc(&t, (char) ch);
		}
		off += sl;
	    }
	    size_t  tl = t.len;

	    rr.text = xrealloc(buf_steal(&t), tl + 1);	/* what the cache charges */
	    break;
	}
    default:
	return 0;
    }
    a->rr[a->n++] = rr;			/* sized by the caller */
    return 0;
}

/* dns_parse - the answer to (qname, qtype) in pkt */
struct dns_answer *dns_parse(const unsigned char *pkt, size_t len,
			             const char *qname, int qtype)
{
    struct rr_raw *rrs = NULL;
    size_t  nrr = 0, rrs_cap = 0, match = 0, off = 12;
    unsigned qd, an, ns, rcode;
    struct dns_answer *a;
    char    name[DNS_MAX_NAME];
    char    cur[DNS_MAX_EXACT], name2[DNS_MAX_EXACT];
    uint32_t ttl = UINT32_MAX, neg_ttl = DNS_NEG_TTL;

    if (len < 12)
	return dns_answer_new(qname, qtype, DNS_TEMPFAIL, "malformed answer: short header");
    rcode = pkt[3] & 0x0f;
    qd = get16(pkt + 4);
    an = get16(pkt + 6);
    ns = get16(pkt + 8);
    for (unsigned i = 0; i < qd; i++) {
	if (read_name(pkt, len, &off, name, sizeof(name)) < 0 || off + 4 > len)
	    return dns_answer_new(qname, qtype, DNS_TEMPFAIL, "malformed answer: question");
	off += 4;
    }
    /* answer and authority records, raw */
    for (unsigned i = 0; i < an + ns; i++) {
	struct rr_raw r;

	if (read_name_as(pkt, len, &off, r.owner, sizeof(r.owner), 1) < 0 || off + 10 > len) {
	    free(rrs);
	    return dns_answer_new(qname, qtype, DNS_TEMPFAIL, "malformed answer: record");
	}
	r.type = get16(pkt + off);
	r.ttl = get32(pkt + off + 4) & 0x7fffffff;
	r.rdlen = get16(pkt + off + 8);
	r.rdoff = off + 10;
	off = r.rdoff + r.rdlen;
	if (off > len) {
	    free(rrs);
	    return dns_answer_new(qname, qtype, DNS_TEMPFAIL, "malformed answer: record data");
	}
	if (i >= an) {
	    /* authority: the SOA gives the negative TTL (RFC 2308) */
	    if (r.type == DNS_T_SOA) {
		size_t  o = r.rdoff;

		if (read_name(pkt, len, &o, name, sizeof(name)) == 0
		    && read_name(pkt, len, &o, name, sizeof(name)) == 0
		    && o + 20 <= r.rdoff + r.rdlen) {
		    uint32_t min = get32(pkt + o + 16);

		    neg_ttl = r.ttl < min ? r.ttl : min;
		}
	    }
	    continue;
	}
	if (nrr == rrs_cap) {
	    rrs_cap = rrs_cap ? 2 * rrs_cap : 8;	/* linear in the packet */
	    rrs = xrealloc(rrs, rrs_cap * sizeof(*rrs));
	}
	rrs[nrr++] = r;
    }

    if (rcode != 0 && rcode != 3) {
	static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	"NOTIMP", "REFUSED"};
	char    why[64];

	snprintf(why, sizeof(why), "server answered %s",
		 rcode < 6 ? names[rcode] : "an error");
	free(rrs);
	return dns_answer_new(qname, qtype, DNS_TEMPFAIL, why);
    }

    /* follow the CNAME chain from the name asked for */
    if (exact_name(qname, cur, sizeof(cur)) < 0)
	strcpy(cur, "\\");		/* longer than a name: matches no owner */
    for (int hops = 0; hops < DNS_MAX_CHAIN && qtype != DNS_T_CNAME; hops++) {
	int     moved = 0;

	for (size_t i = 0; i < nrr; i++) {
	    if (rrs[i].type == DNS_T_CNAME && strcmp(rrs[i].owner, cur) == 0) {
		size_t  o = rrs[i].rdoff;

		if (read_name_as(pkt, len, &o, name2, sizeof(name2), 1) == 0) {
		    if (rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
		    snprintf(cur, sizeof(cur), "%s", name2);
		    moved = 1;
		    break;
		}
	    }
	}
	if (!moved)
	    break;
    }
    a = dns_answer_new(qname, qtype, DNS_NODATA, NULL);
    for (size_t i = 0; i < nrr; i++)
	match += rrs[i].type == qtype && strcmp(rrs[i].owner, cur) == 0;
    if (match > 0)
	a->rr = xcalloc(match, sizeof(*a->rr));	/* one exact allocation */
    for (size_t i = 0; i < nrr; i++) {
	if (rrs[i].type != qtype || strcmp(rrs[i].owner, cur) != 0)
	    continue;
	if (add_rr(a, pkt, len, &rrs[i]) < 0) {
	    free(rrs);
	    dns_answer_unref(a);
	    return dns_answer_new(qname, qtype, DNS_TEMPFAIL, "malformed answer: record data");
	}
	if (rrs[i].ttl < ttl)
	    ttl = rrs[i].ttl;
    }
    free(rrs);
    if (a->n > 0) {
	a->status = DNS_OK;
	a->ttl = ttl;
    } else {
	a->status = rcode == 3 ? DNS_NXDOMAIN : DNS_NODATA;
	a->ttl = neg_ttl;
    }
    return a;
}

/* dns_reverse_name - reversed IPv4 octets or IPv6 nibbles, then zone */
int     dns_reverse_name(const char *addr, const char *zone, char *out, size_t outlen)
{
    struct inet_addr a;
    struct buf b;
    int     rc = 0;

    if (inet_parse(addr, &a) < 0)
	return -1;
    buf_init(&b);
    if (a.family == AF_INET) {
	buf_printf(&b, "%u.%u.%u.%u", a.b[3], a.b[2], a.b[1], a.b[0]);
    } else {
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
	    buf_putc(&b, hex[a.b[i] & 0xf]);
	    buf_putc(&b, '.');
	    buf_putc(&b, hex[a.b[i] >> 4]);
	    if (i)
		buf_putc(&b, '.');
	}
    }
    if (zone && *zone) {
	buf_putc(&b, '.');
	buf_puts(&b, zone);
    }
    if (b.len >= outlen)
	rc = -1;
    else
	memcpy(out, b.s, b.len + 1);
    buf_free(&b);
    return rc;
}
