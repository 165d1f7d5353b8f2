/*
 * spf_impl.h - what spf.c (check_host, terms) and spf_macro.c (macros,
 * domain names) share.  Private to src/spf.
 */
#ifndef MX_SPF_SPF_IMPL_H
#define MX_SPF_SPF_IMPL_H

#include "spf/spf.h"
#include "util/inet.h"
#include "util/str.h"

#define MAX_DNS_TERMS	10		/* RFC 7208 4.6.4 */
#define MAX_VOID	2
#define MAX_MX_PTR	10
#define MAX_DEPTH	20
#define R_PENDING	(-1)

struct spf_ctx {
    const struct spf_dns *dns;
    const struct spf_request *rq;
    struct inet_addr ip;
    struct buf sender;			/* the identity: local@domain */
    const char *local;			/* into sender */
    const char *sdomain;
    int     dns_terms;
    int     voids;
    struct spf_outcome *o;
};

/* spf.c */
int     spf_permerror(struct spf_ctx *c, const char *fmt,...) __attribute__((format(printf, 2, 3)));
struct dns_answer *spf_lookup(struct spf_ctx *c, const char *name, int type);

/* spf_macro.c */
int     spf_valid_domain(const char *d);
void    spf_ptr_name(const struct inet_addr *a, struct buf *out);
int     spf_addr_in(const struct dns_answer *a, const struct inet_addr *ip, int len4, int len6);
/* macro-string into out; exp: c, r, t allowed.  0, SPF_PERMERROR or R_PENDING */
int     spf_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
		           int exp, struct buf *out);
/* RFC 7208 7.1 syntax before expansion; 0, or -1 and why */
int     spf_macro_syntax(const char *spec, size_t len, int exp, int domain_end,
			         char *why, size_t whylen);
/* a mechanism's target, expanded and truncated (its syntax checked before) */
int     spf_domain_spec(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
			        struct buf *out);

#endif
