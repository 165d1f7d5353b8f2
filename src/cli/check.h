/*
 * check.h - `mxshield check`: explain one transaction.
 */
#ifndef MX_CLI_CHECK_H
#define MX_CLI_CHECK_H

#include <stdio.h>

#include "policy/request.h"
#include "rules/engine.h"

/* check_evaluate - run the engine to the end, with DNS on a private loop */
char   *check_evaluate(struct policy *pol, struct txn *txn, struct trace *t);

/* check_print - the action and the trace, as text or one JSON object */
void    check_print(FILE *fp, const char *action, const struct trace *t, int json);

/* check_read_request - a transaction as policy request lines (name=value)
 * from a stream, into req->txn; -1 on bad input */
int     check_read_request(FILE *fp, struct request *req, char *err, size_t errlen);

#endif
