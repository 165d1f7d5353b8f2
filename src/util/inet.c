/*
 * inet.c - IPv4/IPv6 addresses and CIDR networks.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/inet.h"
#include "util/mem.h"
#include "util/str.h"

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* inet_parse - text to address; -1 if not an address */
int     inet_parse(const char *text, struct inet_addr *a)
{
    char    tmp[64];
    size_t  len = strlen(text);
    int     tagged = 0;

    /* strip "[...]" and the "IPv6:" tag of an address literal */
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
	text += 1;
	len -= 2;
    }
    if (len > 5 && strncasecmp(text, "IPv6:", 5) == 0) {
	text += 5;
	len -= 5;
	tagged = 1;
    }
    if (len == 0 || len >= sizeof(tmp))
	return -1;
    memcpy(tmp, text, len);
    tmp[len] = 0;

    memset(a, 0, sizeof(*a));
    if (strchr(tmp, ':') == NULL) {
	/* "IPv6:1.2.3.4" is no address literal (RFC 5321, Postfix) */
	if (tagged)
	    return -1;
	if (inet_pton(AF_INET, tmp, a->b) != 1)
	    return -1;
	a->family = AF_INET;
	return 0;
    }
    if (inet_pton(AF_INET6, tmp, a->b) != 1)
	return -1;
    if (memcmp(a->b, v4mapped, 12) == 0) {
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->family = AF_INET;
	return 0;
    }
    a->family = AF_INET6;
    return 0;
}

/* inet_format - canonical text of an address */
void    inet_format(const struct inet_addr *a, char *out, size_t outlen)
{
    /* dotted quads by hand: glibc's inet_ntop formats each with sprintf,
     * a visible cost on the greylisting path */
    if (a->family == AF_INET && outlen >= 16) {
	char   *cp = out;

	for (int i = 0; i < 4; i++) {
	    unsigned v = a->b[i];

	    if (i)
		*cp++ = '.';
	    if (v >= 100)
		*cp++ = (char) ('0' + v / 100);
	    if (v >= 10)
		*cp++ = (char) ('0' + v / 10 % 10);
	    *cp++ = (char) ('0' + v % 10);
	}
	*cp = 0;
	return;
    }
    if (inet_ntop(a->family, a->b, out, (socklen_t) outlen) == NULL && outlen > 0)
	out[0] = 0;
}

/* cidr_parse - "addr" or "addr/len"; host bits beyond len are an error */
int     cidr_parse(const char *text, struct cidr *c, char *err, size_t errlen)
{
    char    host[80];
    const char *slash = strchr(text, '/');
    size_t  hlen = slash ? (size_t) (slash - text) : strlen(text);
    int     max;

    if (hlen == 0 || hlen >= sizeof(host)) {
	snprintf(err, errlen, "bad network address: \"%s\"", text);
	return -1;
    }
    memcpy(host, text, hlen);
    host[hlen] = 0;
    if (inet_parse(host, &c->net) < 0) {
	snprintf(err, errlen, "bad network address: \"%s\"", text);
	return -1;
    }
    max = c->net.family == AF_INET ? 32 : 128;
    if (slash == NULL) {
	c->len = max;
	return 0;
    }
    /* an IPv4-mapped network is written with an IPv6 length */
    if (c->net.family == AF_INET && strchr(host, ':') != NULL) {
	char   *end;
	long    l = strtol(slash + 1, &end, 10);

	if (*end || slash[1] == 0 || l < 96 || l > 128) {
	    snprintf(err, errlen, "bad network mask length: \"%s\"", text);
	    return -1;
	}
	c->len = (int) l - 96;
    } else {
	char   *end;
	long    l;

	if (slash[1] < '0' || slash[1] > '9') {
	    snprintf(err, errlen, "bad network mask length: \"%s\"", text);
	    return -1;
	}
	l = strtol(slash + 1, &end, 10);
	if (*end || l < 0 || l > max) {
	    snprintf(err, errlen, "bad network mask length: \"%s\"", text);
	    return -1;
	}
	c->len = (int) l;
    }
    for (int bit = c->len; bit < max; bit++) {
	if (c->net.b[bit / 8] & (0x80 >> (bit % 8))) {
	    struct inet_addr net = c->net;
	    char    buf[64];

	    for (int b = c->len; b < max; b++)
		net.b[b / 8] &= (unsigned char) ~(0x80 >> (b % 8));
	    inet_format(&net, buf, sizeof(buf));
	    snprintf(err, errlen, "non-null host address bits in \"%s\", "
		     "perhaps you should use \"%s/%d\" instead", text, buf, c->len);
	    return -1;
	}
    }
    return 0;
}

/* cidr_match - 1 if a is inside c */
int     cidr_match(const struct cidr *c, const struct inet_addr *a)
{
    int     full = c->len / 8, rest = c->len % 8;

    if (a->family != c->net.family)
	return 0;
    if (memcmp(a->b, c->net.b, (size_t) full) != 0)
	return 0;
    if (rest) {
	unsigned char mask = (unsigned char) (0xff << (8 - rest));

	return (a->b[full] & mask) == (c->net.b[full] & mask);
    }
    return 1;
}

/* cidr_list_parse - "a.b.c.d/len [ipv6]/len addr ..." */
int     cidr_list_parse(const char *value, struct cidr_list *out, char *err, size_t errlen)
{
    struct strlist w;

    out->v = NULL;
    out->n = 0;
    strlist_init(&w);
    strlist_split(&w, value, LIST_SEPS);
    out->v = xcalloc(w.n + 1, sizeof(*out->v));
    for (size_t i = 0; i < w.n; i++) {
	char    text[128], why[256];
	const char *t = w.v[i];
	const char *close = t[0] == '[' ? strchr(t, ']') : NULL;

	if (t[0] == '[' && close == NULL) {
	    snprintf(err, errlen, "missing ']' in \"%s\"", t);
	    goto bad;
	}
	if (close)
	    snprintf(text, sizeof(text), "%.*s%s", (int) (close - t - 1), t + 1, close + 1);
	else
	    snprintf(text, sizeof(text), "%s", t);
	if (cidr_parse(text, &out->v[out->n], why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "bad network \"%s\": %s", t, why);
	    goto bad;
	}
	out->n++;
    }
    strlist_free(&w);
    return 0;
bad:
    strlist_free(&w);
    cidr_list_free(out);
    return -1;
}

int     cidr_list_match(const struct cidr_list *l, const char *addr)
{
    struct inet_addr a;

    if (inet_parse(addr, &a) < 0)
	return 0;
    for (size_t i = 0; i < l->n; i++)
	if (cidr_match(&l->v[i], &a))
	    return 1;
    return 0;
}

void    cidr_list_free(struct cidr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
