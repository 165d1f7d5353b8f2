/*
 * dnsxl.h - DNS list arguments ("domain=filter"), answer checks and reply
 * templates.  Private to src/rules.
 */
#ifndef MX_RULES_DNSXL_H
#define MX_RULES_DNSXL_H

#include "rules/policy.h"
#include "util/inet.h"
#include "util/str.h"

struct dnsxl {
    char   *spec;			/* as written: domain[=filter] */
    char   *domain;
    int     filter;			/* octets[] apply */
    unsigned char octets[4][32];	/* allowed values of each octet */
};

int     dnsxl_match(const struct dnsxl *xl, const struct inet_addr *a);
int     dnsxl_error_code(const struct inet_addr *a);
int     template_expand(const char *tpl, struct buf *out,
			        const char *(*lookup) (const char *name, void *ctx),
			        void *ctx, int depth);

#endif
