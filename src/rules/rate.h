/*
 * rate.h - check_rate's argument, compiled once: WHAT=LIMIT/WINDOW[/ACTION].
 *
 *	client=100/1m		per client address
 *	client_net=300/1m	per client network (ban_ipv4_prefix, ban_ipv6_prefix)
 *	sasl_username=500/1d/reject
 *	sender=200/1h/warn
 *	recipient_domain=1000/1h
 *
 * ACTION: defer (default: rate_limit_reject_code, 450 4.7.1), reject
 * (554 5.7.1) or warn (log only).  rate_spec_parse() refuses anything
 * else with the reason; the counting is in banrestr.c.
 */
#ifndef MX_RULES_RATE_H
#define MX_RULES_RATE_H

#include "util/str.h"

enum rate_what {
    RATE_CLIENT,
    RATE_CLIENT_NET,
    RATE_SASL_USER,
    RATE_SENDER,
    RATE_RCPT_DOMAIN,
};

enum rate_action {
    RATE_DEFER,
    RATE_REJECT,
    RATE_WARN,
};

struct rate_spec {
    enum rate_what what;
    long    limit;
    long    window;			/* seconds */
    enum rate_action action;
    char   *text;			/* WHAT=LIMIT/WINDOW, the key's prefix */
};

struct rate_spec *rate_spec_parse(const char *text, struct buf *err);
void    rate_spec_free(struct rate_spec *rs);
const char *rate_what_name(enum rate_what w);

#endif
