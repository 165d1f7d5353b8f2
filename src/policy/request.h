/*
 * request.h - one Postfix policy delegation request.
 *
 * A request is a list of name=value attributes.  request_add() copies each
 * attribute into one arena that keeps its storage from request to request
 * (no allocation per attribute once a connection is warm); the ones that
 * describe the mail transaction fill the request's struct txn
 * (src/mail/txn.h), which is what the restriction engine evaluates.
 * Unknown attributes are kept (for tracing) and otherwise ignored.  Every
 * field is a string, "" when absent.
 *
 * eval_new() and eval_request() evaluate a request's transaction: the
 * policy protocol's names for the engine's eval_start() and eval_sync().
 */
#ifndef MX_POLICY_REQUEST_H
#define MX_POLICY_REQUEST_H

#include <stddef.h>

#include "mail/txn.h"
#include "rules/engine.h"
#include "util/str.h"

struct request_attr {
    size_t  name;			/* offsets into the arena */
    size_t  value;
};

struct request {
    struct buf arena;			/* "name\0value\0" ... */
    struct request_attr *attrs;
    size_t  nattrs;
    size_t  cap;
    const char *request;		/* "smtpd_access_policy" */
    struct txn txn;			/* the transaction's attributes */
};

void    request_init(struct request *r);
void    request_reset(struct request *r);	/* keep storage */
void    request_free(struct request *r);
/* request_add - add name=value; a repeated name: the last one counts */
void    request_add(struct request *r, const char *name, size_t nlen,
		            const char *value, size_t vlen);
/* request_add_line - add "name=value"; -1 when there is no '=' */
int     request_add_line(struct request *r, const char *line, size_t len);
const char *request_get(const struct request *r, const char *name);

/* eval_new - start evaluating a request's transaction (eval_start) */
struct eval *eval_new(struct policy *p, struct request *req, struct trace *trace);

/* eval_request - evaluate a request that needs no lookups (eval_sync) */
char   *eval_request(struct policy *p, struct request *req, struct trace *trace);

#endif
