/*
 * policy.h - a configuration compiled for evaluation.
 *
 * policy_compile() turns a loaded configuration into restriction lists,
 * open tables and parsed networks.  Every unknown restriction, missing
 * table argument or unopenable table is reported as "FILE:LINE: ..." and
 * nothing is compiled, so a bad reload leaves the running policy alone.
 * A policy is reference counted: requests in flight keep the one they
 * started with while SIGHUP installs the next.
 */
#ifndef MX_RULES_POLICY_H
#define MX_RULES_POLICY_H

#include "conf/config.h"
#include "maps/access.h"
#include "rules/addr.h"
#include "rules/tables.h"
#include "util/inet.h"

struct rdef;

/* One compiled restriction. */
struct dns;
struct dnsxl;

struct rule {
    const struct rdef *def;		/* NULL: a restriction class */
    const char *name;			/* as written */
    struct map *map;			/* check_*_access table */
    char   *arg;			/* other argument */
    const struct rlist *class_list;	/* restriction class body */
    struct dnsxl *xl;			/* DNSBL/DNSWL domain and filter */
    int     scored;			/* "score N" before it: weigh, not decide */
    int     score;
};

struct rlist {
    struct rule *v;
    size_t  n;
    char   *name;			/* list or class name */
};

enum stage {
    STAGE_CLIENT, STAGE_HELO, STAGE_SENDER, STAGE_RELAY, STAGE_RCPT,
    STAGE_DATA, STAGE_COUNT,
};

struct policy {
    int     refs;
    struct config *conf;
    struct tables *tables;
    struct rlist stages[STAGE_COUNT];
    struct rlist *classes;
    size_t  nclasses;
    struct cidr *mynetworks;
    size_t  nmynetworks;
    struct domain_list *mynetworks_maps;	/* type:table entries */
    struct domain_list *mydest, *relay, *valias, *vmbox;
    struct addr_ctx addr;
    struct access_opts access;
    int     permit_ok;			/* policy_permit_action = OK */
    struct dns *dns;			/* resolver (not owned), or NULL */
    struct map **rbl_maps;		/* rbl_reply_maps (owned by tables) */
    size_t  nrbl_maps;
    int     uses_greylist;		/* a greylist restriction is configured */
    struct gl_whitelist *greylist_wl;	/* greylist_whitelist_* files */
    struct store *store;		/* state database (not owned), or NULL */
    int     store_absent;		/* no database yet (check): reads find nothing */
    struct cidr_list spf_skip;		/* spf_skip_addresses */
    struct cidr_list spf_whitelist;	/* spf_whitelist */
};

/* spfrestr.c: the SPF parameters compiled once */
int     spf_policy_compile(struct policy *p, struct buf *err);

/* greylisting.c: parameters, whitelists, and expiry in batches */
int     greylist_policy_compile(struct policy *p, struct buf *err);
struct gl_conf;
void    greylist_conf(const struct config *c, struct gl_conf *g);
struct greylist_cursor {
    char    key[2][512];
    size_t  len[2];
};
long    greylist_expire_step(struct store *s, const struct config *c, long long now,
			             struct greylist_cursor *cur, long batch);

struct policy *policy_compile(struct config *conf, struct buf *err);
void    policy_ref(struct policy *p);
void    policy_unref(struct policy *p);

/* rlist_compile - compile a restriction list value.  def_acl is the
 * stage whose check_*_access a bare type:table means (-1: none); with
 * allow_tables 0 (table results) restrictions that open tables are refused */
int     rlist_compile(struct policy *p, struct rlist *out, const char *name,
		              const char *value, const char *where, int def_acl,
		              int allow_tables, struct buf *err);
void    rlist_free(struct rlist *l);

/* dnsxl.c: "domain[=filter]" of reject_rbl_client and friends */
struct dnsxl *dnsxl_parse(const char *spec, struct buf *err);
void    dnsxl_free(struct dnsxl *xl);

/* dnsrestr.c: DNS parameters and rbl_reply_maps */
int     dns_policy_compile(struct policy *p, struct buf *err);

/* policy_mynetworks - 1 if addr is in mynetworks, 0 not, -1 lookup error */
int     policy_mynetworks(const struct policy *p, const char *addr);

#endif
