/*
 * inet.h - IPv4/IPv6 addresses and CIDR networks.
 *
 * inet_parse() accepts dotted IPv4, IPv6 text, and "[...]" / "IPv6:"
 * address-literal forms.  IPv4-mapped IPv6 (::ffff:a.b.c.d) is reported as
 * IPv4 so that IPv4 rules match it.  cidr_parse() accepts "addr" or
 * "addr/len" and rejects host bits set beyond the prefix, as cidr_table(5)
 * does.
 */
#ifndef MX_UTIL_INET_H
#define MX_UTIL_INET_H

#include <stddef.h>

struct inet_addr {
    int     family;			/* AF_INET or AF_INET6 */
    unsigned char b[16];		/* 4 or 16 bytes used */
};

struct cidr {
    struct inet_addr net;
    int     len;			/* prefix length */
};

/* inet_parse - 0 on success, -1 if not an address */
int     inet_parse(const char *text, struct inet_addr *a);

/* inet_format - canonical text of an address */
void    inet_format(const struct inet_addr *a, char *out, size_t outlen);

/* cidr_parse - 0 on success, -1 with a reason in err */
int     cidr_parse(const char *text, struct cidr *c, char *err, size_t errlen);

/* cidr_match - 1 if a is inside c */
int     cidr_match(const struct cidr *c, const struct inet_addr *a);

/* a parsed list of networks ("net/len", "[ipv6]/len", addresses) */
struct cidr_list {
    struct cidr *v;
    size_t  n;
};

/* cidr_list_parse - every word of a list value; -1 with the bad word in err */
int     cidr_list_parse(const char *value, struct cidr_list *out, char *err, size_t errlen);
int     cidr_list_match(const struct cidr_list *l, const char *addr);
void    cidr_list_free(struct cidr_list *l);

#endif
