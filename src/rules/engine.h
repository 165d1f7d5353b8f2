/*
 * engine.h - evaluate one policy request the way Postfix's smtpd does.
 *
 * eval_start() prepares the evaluation of one transaction (src/mail/txn.h,
 * whatever protocol filled it); eval_run() runs it until it is done or
 * until a restriction must wait for a lookup (EVAL_PENDING); the caller then
 * calls eval_run() again when eval_set_wakeup()'s callback fires.  Lists are
 * evaluated in Postfix's order (client, helo, sender, then relay and
 * recipient at RCPT, as with smtpd_delay_reject = yes; data at DATA); each
 * list ends at its first definitive answer; a reject ends everything; the
 * defer_if_permit and defer_if_reject flags and warn_if_reject behave as in
 * Postfix.  eval_action() is the exact "action=" text for the reply.
 *
 * The optional trace records each restriction, what it looked up, what it
 * found and what it decided, for `mxshield check`.
 */
#ifndef MX_RULES_ENGINE_H
#define MX_RULES_ENGINE_H

#include "mail/txn.h"
#include "rules/policy.h"
#include "util/str.h"

enum eval_status {
    EVAL_DONE,
    EVAL_PENDING,
};

struct trace_entry {
    int     depth;
    char   *what;			/* restriction or event */
    char   *detail;			/* lookups and findings */
    char   *result;			/* DUNNO, OK, reject text, ... */
};

struct trace {
    struct trace_entry *v;
    size_t  n;
};

struct eval;

/* eval_start - the evaluation of a transaction; the engine records what it
 * establishes (SPF) in it, so it must outlive the evaluation */
struct eval *eval_start(struct policy *p, struct txn *txn, struct trace *trace);
enum eval_status eval_run(struct eval *e);
const char *eval_action(const struct eval *e);
void    eval_set_wakeup(struct eval *e, void (*fn) (void *), void *ctx);
void    eval_free(struct eval *e);

void    trace_init(struct trace *t);
void    trace_free(struct trace *t);

/* eval_sync - evaluate to the end a transaction that needs no lookups;
 * the action text, to be freed */
char   *eval_sync(struct policy *p, struct txn *txn, struct trace *trace);

#endif
