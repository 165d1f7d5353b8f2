/*
 * infer.h - which restriction made a decision.
 *
 * mxshield's lines say it (restriction=NAME); for Postfix's own lines the
 * restriction is recognised from the reply text, which Postfix words the
 * same way for each restriction ("Relay access denied" is
 * reject_unauth_destination).  A DNS list's domain is added ("blocked
 * using zen.spamhaus.org").  A text no restriction is known by gives
 * "other (CLASS rejected)", CLASS as Postfix names it.
 */
#ifndef MX_REPORT_INFER_H
#define MX_REPORT_INFER_H

#include "report/event.h"
#include "util/str.h"

void    infer_restriction(const struct event *ev, struct buf *out);

#endif
