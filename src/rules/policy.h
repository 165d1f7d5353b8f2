/*
 * policy.h - a configuration compiled for evaluation.
 *
 * policy_compile() turns a loaded configuration into restriction lists,
 * open tables and parsed networks.  Every unknown restriction, missing
 * table argument or unopenable table is reported as "FILE:LINE: ..." and
 * nothing is compiled, so a bad reload leaves the running policy alone.
 * A policy is reference counted: requests in flight keep the one they
 * started with while SIGHUP installs the next.
 *
 * Compile once, evaluate many: every parameter a request needs is resolved
 * here into a field (numbers, flags, enums, split lists), and restriction
 * lists that access tables answer with are compiled once and kept
 * (resultlists.c), so evaluating a request touches no configuration text.
 */
#ifndef MX_RULES_POLICY_H
#define MX_RULES_POLICY_H

#include "conf/config.h"
#include "greylist/greylist.h"
#include "maps/access.h"
#include "rules/addr.h"
#include "rules/tables.h"
#include "stats/stats.h"
#include "util/inet.h"

struct rdef;

/* One compiled restriction. */
struct dns;
struct dnsxl;

enum stage {
    STAGE_CLIENT, STAGE_HELO, STAGE_SENDER, STAGE_RELAY, STAGE_RCPT,
    STAGE_DATA, STAGE_COUNT,
};

struct rule {
    const struct rdef *def;		/* NULL: a restriction class */
    const char *name;			/* as written */
    struct map *map;			/* check_*_access table */
    char   *arg;			/* other argument */
    const struct rlist *class_list;	/* restriction class body */
    struct dnsxl *xl;			/* DNSBL/DNSWL domain and filter */
    int     scored;			/* "score N" before it: weigh, not decide */
    int     score;
    /* mxshield_decisions_total of this rule by stage and permit/defer/reject */
    struct stat_ref counted[STAGE_COUNT][3];
};

struct rlist {
    struct rule *v;
    size_t  n;
    char   *name;			/* list or class name */
};

/* what a *_tempfail_action parameter says */
enum tf_action {
    TF_DEFER_IF_PERMIT,
    TF_DEFER,
    TF_DUNNO,
};

/* what spf_helo_reject / spf_mail_from_reject say */
enum spf_setting {
    SPF_SET_FALSE,			/* false, or any other word: never */
    SPF_SET_FAIL,			/* fail */
    SPF_SET_NULL,			/* null: fail, HELO checked for <> only */
    SPF_SET_SOFTFAIL,			/* softfail: fail and softfail */
    SPF_SET_NOT_PASS,			/* spf_not_pass: anything but pass */
    SPF_SET_NO_CHECK,			/* no_check: not evaluated */
};

/* spf_header_type */
enum spf_header {
    SPF_HDR_RECEIVED,			/* Received-SPF */
    SPF_HDR_AR,				/* Authentication-Results */
    SPF_HDR_NONE,
};

/* The reply codes of the restrictions. */
struct policy_codes {
    int     reject, defer, relay, bad_name, non_fqdn;
    int     unknown_client, unknown_name, unknown_address, rbl;
    int     access_reject, access_defer, score_reject, score_defer;
};

/* The parameters of greylisting a request needs. */
struct policy_greylist {
    struct gl_conf g;			/* the algorithm's parameters */
    int     selective;			/* greylist_selective */
    long    min_score;
    int     test_time;			/* greylist_allow_test_time */
    int     spf_key;
    int     action_defer;		/* greylist_action = defer */
    int     error_dunno;		/* greylist_error_action = dunno */
    const char *header;			/* greylist_header ("" none) */
    const char *text;			/* greylist_text */
};

/* The parameters of check_spf. */
struct policy_spf {
    enum spf_setting helo_reject, mail_reject;
    int     permerror_reject, temperror_defer;
    int     enhanced;			/* RFC 7372 codes, else 5.7.1 / 4.7.1 */
    const char *mail_pass_restr;	/* evaluated on a pass; "" none */
    const char *helo_pass_restr;
    enum spf_header header;
    struct strlist not_pass_domains, helo_whitelist, domain_whitelist;
    struct strlist domain_whitelist_ptr;	/* by the client's verified name */
};

struct result_lists;

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

    /* parameters, resolved at compile time */
    struct policy_codes code;
    long    max_recursion;		/* smtpd_restriction_recursion_limit */
    int     helo_required, dry_run, soft_bounce, untrust_route;
    const char *myhostname;
    int     dns_postfix_names;		/* dns_use_postfix_names */
    long    dnsxl_error_interval;
    const char *default_rbl_reply;
    enum tf_action reject_tf, unknown_helo_tf, unknown_address_tf, rbl_tf;
    long    score_reject, score_defer;
    struct policy_greylist gl;
    struct policy_spf spf;
    struct result_lists *results;	/* restriction lists of table results */
};

/* spfrestr.c: the SPF parameters compiled once */
int     spf_policy_compile(struct policy *p, struct buf *err);
void    spf_policy_free(struct policy *p);

/* greylisting.c: parameters, whitelists, and expiry in batches */
int     greylist_policy_compile(struct policy *p, struct buf *err);
struct gl_conf;
void    greylist_conf(const struct config *c, struct gl_conf *g);
struct greylist_cursor {
    char    key[2][512];
    size_t  len[2];
    long    pending;			/* triplets not yet passed, this pass so far */
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

/* resultlists.c: the restriction list of an access table's answer,
 * compiled once per policy (bounded; past the bound, *owned is a list of
 * this request's to free).  -1 with err when it does not compile */
int     result_list_get(struct policy *p, const char *table, const char *value,
			        int def_acl, const struct rlist **list, struct rlist **owned,
			        struct buf *err);
struct result_lists *result_lists_new(void);
void    result_lists_free(struct result_lists *r);

/* policy_mynetworks - 1 if addr is in mynetworks, 0 not, -1 lookup error */
int     policy_mynetworks(const struct policy *p, const char *addr);

#endif
