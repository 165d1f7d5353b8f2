/*
 * addr.h - host names, domain lists and address resolution as Postfix's
 * smtpd and trivial-rewrite see them.
 *
 * valid_hostname()   Postfix's rules: letters, digits, '-', '_'; labels of
 *                    1..63; at most 255; not all-numeric.
 * valid_hostaddr()   IPv4 or IPv6 address text ("IPv6:" prefix allowed).
 * domain_list_*      mydestination-style lists: names, ".parent" forms,
 *                    parent-domain matching when configured, type:table.
 * addr_resolve()     what trivial-rewrite does to an envelope address:
 *                    qualify with @$myorigin, strip local domains, apply
 *                    the percent hack and bang paths, then classify the
 *                    destination (local, virtual, relay, other) and flag
 *                    sender-specified routing left in the local part.
 */
#ifndef MX_RULES_ADDR_H
#define MX_RULES_ADDR_H

#include "maps/map.h"
#include "rules/tables.h"
#include "util/str.h"

int     valid_hostname(const char *name);
int     valid_hostaddr(const char *addr);
/* strip one trailing dot (not "..") into out; returns out->s */
const char *hostname_untruncate(const char *name, struct buf *out);

struct domain_list;

struct domain_list *domain_list_new(const char *value, int parent_matches,
				            struct tables *t, struct buf *err);
enum map_result domain_list_match(const struct domain_list *l, const char *domain);
void    domain_list_free(struct domain_list *l);

enum resolve_class {
    RESOLVE_LOCAL, RESOLVE_ALIAS, RESOLVE_VIRTUAL, RESOLVE_RELAY, RESOLVE_DEFAULT,
};

struct addr_ctx {
    const char *myorigin;
    const char *myhostname;
    int     percent_hack;
    int     swap_bangpath;
    const struct domain_list *local;	/* mydestination */
    const struct domain_list *alias;	/* virtual_alias_domains */
    const struct domain_list *virtual;	/* virtual_mailbox_domains */
    const struct domain_list *relay;	/* relay_domains */
};

struct resolved {
    struct buf addr;			/* canonical user@domain */
    enum resolve_class cls;
    int     routed;			/* routing operators left in local part */
};

/* addr_canonical - qualify an address as smtpd's rewriting does */
void    addr_canonical(const struct addr_ctx *c, const char *addr, struct buf *out);

/* addr_resolve - 0 ok, -1 temporary lookup failure */
int     addr_resolve(const struct addr_ctx *c, const char *addr, struct resolved *r);

#endif
