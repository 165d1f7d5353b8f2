/*
 * fuzz_engine.c - libFuzzer target: whole policy requests, as a hostile
 * client (through Postfix) can shape them, evaluated by a policy that uses
 * nearly every restriction.  There is no resolver (every lookup fails
 * temporarily, at once) and no database yet, as for `mxshield check`; DNS
 * restrictions are under warn_if_reject so evaluation goes on past them.
 * Every evaluation must end, with an action Postfix would accept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/request.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "util/log.h"
#include "util/str.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf[] =
"mydomain = example.net\n"
"myhostname = mx.example.net\n"
"mynetworks = 127.0.0.0/8, 10.0.0.0/8, [2001:db8:1::]/48\n"
"relay_domains = relay.example\n"
"smtpd_restriction_classes = strict\n"
"strict = reject_non_fqdn_sender, reject_non_fqdn_recipient\n"
"client_restrictions = check_client_access inline:{{192.0.2.66=REJECT go away},"
" 10.1=OK, 198.51.100.7=strict},"
" check_reverse_client_hostname_access inline:{bad.example=REJECT},"
" warn_if_reject reject_unknown_client_hostname,"
" warn_if_reject reject_unknown_reverse_client_hostname,"
" score 2 reject_rbl_client zen.example=127.0.0.[2..11],"
" score 1 reject_rhsbl_reverse_client dbl.example\n"
"helo_restrictions = reject_invalid_helo_hostname, warn_if_reject reject_non_fqdn_helo_hostname,"
" check_helo_access inline:{{localhost=REJECT you are not me}, {example.net=PREPEND X-Helo: seen}},"
" warn_if_reject reject_unknown_helo_hostname, score 1 reject_rhsbl_helo dbl.example\n"
"sender_restrictions = check_sender_access inline:{spammer@=REJECT, example.org=DUNNO,"
" <>=OK}, warn_if_reject reject_unknown_sender_domain, score 1 reject_rhsbl_sender dbl.example\n"
"relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination\n"
"recipient_restrictions = check_recipient_access inline:{postmaster@=OK,"
" {abuse@example.net=FILTER smtp:[127.0.0.1]:10025}, hold@=HOLD, strict@=strict},"
" warn_if_reject reject_unknown_recipient_domain, check_spf, check_score, greylist\n"
"score_reject_threshold = 5\n"
"score_defer_threshold = 3\n";

static struct policy *pol;

/* log lines are not printed; one holding a newline could forge another */
static void log_line(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) ctx;
    if (strchr(text, '\n') != NULL)
	abort();
}

static void setup(void)
{
    struct buf err;
    struct config *c;

    log_capture(log_line, NULL);
    buf_init(&err);
    if ((c = config_parse_text(conf, "fuzz.conf", &err)) == NULL
	|| (pol = policy_compile(c, &err)) == NULL) {
	fprintf(stderr, "fuzz_engine: %s\n", err.s);
	abort();
    }
    pol->store_absent = 1;		/* no database yet: nothing is known */
    buf_free(&err);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request r;
    struct trace t;
    const char *p = (const char *) data, *end = p + size;

    if (pol == NULL)
	setup();
    request_init(&r);
    request_add_line(&r, "request=smtpd_access_policy", 27);
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t  len = nl ? (size_t) (nl - p) : (size_t) (end - p);

	if (memchr(p, 0, len) == NULL)	/* the daemon refuses NULs */
	    (void) request_add_line(&r, p, len);
	p += len + (nl != NULL);
    }
    trace_init(&t);
    char   *action = eval_request(pol, &r, size & 1 ? &t : NULL);

    /* what goes back to Postfix: one line, never empty */
    if (*action == 0 || strchr(action, '\n') != NULL)
	abort();
    free(action);
    trace_free(&t);
    request_free(&r);
    return 0;
}
