/*
 * engine.h - evaluate one policy request the way Postfix's smtpd does.
 *
 * eval_new() prepares an evaluation; eval_run() runs it until it is done or
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

#include "policy/request.h"
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

struct eval *eval_new(struct policy *p, const struct request *req,
		              struct trace *trace);
enum eval_status eval_run(struct eval *e);
const char *eval_action(const struct eval *e);
void    eval_set_wakeup(struct eval *e, void (*fn) (void *), void *ctx);
void    eval_free(struct eval *e);

void    trace_init(struct trace *t);
void    trace_free(struct trace *t);

/* Convenience: evaluate synchronously (no lookups pending) */
char   *eval_request(struct policy *p, const struct request *req,
		             struct trace *trace);

#endif
