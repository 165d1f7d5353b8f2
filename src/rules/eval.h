/*
 * eval.h - the insides of one evaluation, shared by engine.c (the walk
 * over the lists), restrictions.c (what each restriction does) and
 * reply.c (replies, deferral flags and log lines).  Not a public API.
 */
#ifndef MX_RULES_EVAL_H
#define MX_RULES_EVAL_H

#include "rules/engine.h"

/* Result of one restriction, as Postfix's SMTPD_CHECK_*. */
enum rstatus {
    RS_DUNNO = 0,
    RS_OK = 1,
    RS_REJECT = 2,
    RS_PENDING = 3,			/* waiting for a lookup */
    RS_PUSHED = 4,			/* a nested list was pushed */
};

#define EVAL_MAX_DEPTH	64

struct frame {
    const struct rlist *list;
    size_t  idx;
    struct rlist *owned;		/* list compiled from a table result */
    const char *reply_name;
    const char *reply_class;
    int     def_acl;			/* default check_*_access: enum stage */
};

struct defer_flag {
    int     active;
    struct buf reply;
    const char *rule;			/* the restriction that armed it */
    const struct rule *armed_by;	/* the same, for mxshield_decisions_total */
    int     stage;			/* the stage it was armed in */
};

struct eval {
    struct policy *pol;
    struct txn *txn;			/* what is evaluated (not owned) */
    struct trace *trace;

    /* request facts, derived once */
    const char *client_name;		/* "unknown" when absent */
    const char *reverse_name;
    struct buf namaddr;			/* name[addr] */
    const char *where;			/* RCPT, MAIL, DATA, ... */

    /* walk */
    enum stage stages[STAGE_COUNT];
    int     nstages;
    int     cur;			/* index into stages */
    int     in_stage;
    struct frame stack[EVAL_MAX_DEPTH];
    int     depth;
    int     warn_level;			/* warn_if_reject depth, 0 = off */
    int     recursion;
    const char *rule_name;		/* deciding now: logged as restriction= */
    const struct rule *cur_rule;	/* the same rule (NULL: no rule of the policy) */

    /* Postfix's deferral flags */
    struct defer_flag dip, dir;
    int     dip_client, dip_helo, dip_sender;

    /* outcome */
    int     status;			/* RS_DUNNO RS_OK RS_REJECT */
    int     stage_status;
    int     done;
    int     discard;
    struct buf reply;			/* reject/defer text */
    struct buf side;			/* HOLD, DISCARD, FILTER, REDIRECT */
    struct buf prepend;
    struct buf action;

    /* scratch */
    struct buf tmp;
    struct buf tdetail;			/* trace detail of the current rule */

    void    (*wake) (void *);
    void   *wake_ctx;

    /* DNS lookups, made when the first is started (src/dns/lookupset.h) */
    struct lookupset *lookups;
    int     prefetched;

    /* weighted scoring */
    const struct rule *scoring;		/* the scored rule being run */
    int     temp_failure;		/* this rule's answer is a temporary one */
    int     score;			/* weights of the hits */
    int     score_unsure;		/* positive weights not known (tempfail) */
    int     scored_any;
    int     score_checked;
    struct buf score_hits;		/* "name +3, ..." */

    /* a greylist decision waiting for its writes (greylisting.c) */
    struct gl_wait *glw;
    /* a ban check or rate count waiting for the store (banrestr.c) */
    struct ban_wait *bw;

    /* SPF results of this transaction: [0] MAIL FROM, [1] HELO */
    struct spf_outcome *spf[2];
    int     spf_done[2];
};

/* reply.c */
int     eval_reject(struct eval *e, int code, const char *dsn,
		            const char *fmt,...) __attribute__((format(printf, 4, 5)));
int     eval_reject_text(struct eval *e, const char *reply);
int     eval_defer_if(struct eval *e, struct defer_flag *f, int code,
		              const char *dsn, const char *fmt,...)
    __attribute__((format(printf, 5, 6)));
int     eval_permit(struct eval *e, const char *what);
void    eval_log_whatsup(struct eval *e, const char *whatsup, const char *text);
int     eval_server_error(struct eval *e);
/* scoring: a scored rule decided; apply the thresholds */
void    eval_score_hit(struct eval *e, int sure, const char *what);
enum rstatus eval_score_apply(struct eval *e);
int     eval_table_result(struct eval *e, const char *table, const char *value,
			          const char *datum, const char *reply_name,
			          const char *reply_class, int def_acl);
void    eval_trace_detail(struct eval *e, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));

/* counters.c: mxshield_decisions_total and mxshield_requests_total */
void    eval_count_flag(const struct eval *e, const struct defer_flag *f);
void    eval_count_decision(const struct eval *e, int stage, const struct rule *r, int st);
void    eval_count_result(const struct eval *e);

/* engine.c */
struct dns_answer;
/* eval_lookup - an answer from the evaluation's lookup set, traced; NULL:
 * the restriction returns RS_PENDING and runs again when it arrives */
struct dns_answer *eval_lookup(struct eval *e, const char *name, int type);
/* eval_prefetch - start a lookup that a later restriction may need */
void    eval_prefetch(struct eval *e, const char *name, int type);
int     eval_push(struct eval *e, const struct rlist *l, struct rlist *owned,
		          const char *reply_name, const char *reply_class, int def_acl);

/* spfrestr.c */
struct spf_outcome;
/* eval_spf - the (cached) SPF outcome of one identity; NULL: pending */
const struct spf_outcome *eval_spf(struct eval *e, int helo_identity);
void    eval_spf_free(struct eval *e);
enum rstatus r_check_spf(struct eval *e, const struct rule *r, const char *rn, const char *rc);
void    prefetch_spf(struct eval *e, const struct rule *r);

/* greylisting.c */
enum rstatus r_greylist(struct eval *e, const struct rule *r, const char *rn, const char *rc);
void    greylist_eval_free(struct eval *e);

/* banrestr.c */
enum rstatus r_reject_banned_client(struct eval *e, const struct rule *r, const char *rn,
				            const char *rc);
enum rstatus r_check_rate(struct eval *e, const struct rule *r, const char *rn, const char *rc);
void    ban_eval_free(struct eval *e);
#define RDEF_ARG_RATE	3		/* needs_map: followed by WHAT=LIMIT/WINDOW[/ACTION] */

/* restrictions.c */
int     eval_auth_destination(struct eval *e, const char *rcpt);
enum rstatus eval_invalid_hostaddr(struct eval *e, const char *name);
const struct rdef *dns_rdef_find(const char *name);
#define RDEF_ARG_DNSXL	2		/* needs_map: followed by domain[=filter] */

struct rdef {
    const char *name;
    int     needs_map;			/* 1: followed by type:table */
    enum rstatus (*fn) (struct eval *e, const struct rule *r,
			        const char *reply_name, const char *reply_class);
    const char *unsupported;		/* non-NULL: why it is refused */
    /* start the lookups this restriction may need (NULL: none) */
    void    (*prefetch) (struct eval *e, const struct rule *r);
};

const struct rdef *rdef_find(const char *name);
const struct rdef *rdef_default_acl(int stage);

#endif
