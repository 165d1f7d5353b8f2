/*
 * spf_impl.h - what spf.c (check_host, terms) and spf_macro.c (macros,
 * domain names) share.  Private to src/spf.
 */
#ifndef MX_SPF_SPF_IMPL_H
#define MX_SPF_SPF_IMPL_H

#include "spf/spf.h"
#include "util/inet.h"
#include "util/mailaddr.h"
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
    size_t  local_len;
    const char *sdomain;
    int     local_long;			/* local-part past ADDR_LOCAL_MAX */
    int     sender_long;		/* local@domain past ADDR_TEXT_MAX */
    int     helo_long;			/* HELO name past ADDR_DOMAIN_MAX */
    int     oversized;			/* the last expansion used one of those */
    struct buf pname;			/* %{p} for pname_domain, once per run */
    struct buf pname_domain;
    int     pname_done;
    int     dns_terms;
    int     voids;
    struct spf_outcome *o;
};

/* spf.c */
int     spf_permerror(struct spf_ctx *c, const char *fmt,...) __attribute__((format(printf, 2, 3)));
struct dns_answer *spf_lookup(struct spf_ctx *c, const char *name, int type);

/* spf_macro.c */
void    spf_ptr_name(const struct inet_addr *a, struct buf *out);
int     spf_addr_in(const struct dns_answer *a, const struct inet_addr *ip, int len4, int len6);
/* macro-string into out, at most SPF_EXPAND_MAX bytes; exp: c, r, t
 * allowed.  0, SPF_PERMERROR or R_PENDING.  A local-part, sender or HELO
 * name longer than RFC 5321 allows stops it: c->oversized and "" (exp:
 * SPF_PERMERROR, the default explanation is given) */
int     spf_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
		           int exp, struct buf *out);
/* RFC 7208 7.1 syntax before expansion; 0, or -1 and why */
int     spf_macro_syntax(const char *spec, size_t len, int exp, int domain_end,
			         char *why, size_t whylen);
/* RFC 7208 7.3: at most 253 characters, whole labels dropped from the left */
void    spf_truncate_domain(struct buf *b);
/* a mechanism's target, expanded and truncated (its syntax checked
 * before); "" (no domain) when it used an oversized input */
int     spf_domain_spec(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
			        struct buf *out);

#endif
