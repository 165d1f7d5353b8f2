/*
 * spf_cmd.c - `mxshield spf`: one check_host() evaluation, explained.
 *
 *   mxshield spf --ip ADDR --sender ADDR --helo NAME [--receiver NAME]
 *                [--resolver HOST:PORT] [--helo-identity] [--json] [--trace] [-c FILE]
 *
 * The exit status is 0 whatever the SPF result; 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cli/spf_cmd.h"
#include "conf/config.h"
#include "dns/dns.h"
#include "dns/lookupset.h"
#include "spf/spf.h"
#include "util/log.h"
#include "util/mem.h"

/* the lookup set answers spf_check() */
static struct dns_answer *cli_get(void *ctx, const char *name, int type)
{
    return lookupset_get(ctx, name, type, NULL);
}

static void cli_prefetch(void *ctx, const char *name, int type)
{
    lookupset_start(ctx, name, type);
}

static void json_line(FILE *fp, const struct spf_outcome *o, int with_trace)
{
    struct buf b;

    buf_init(&b);
    buf_puts(&b, "{\"result\":");
    buf_json_str(&b, spf_result_name(o->result));
    buf_puts(&b, ",\"explanation\":");
    buf_json_str(&b, o->result == SPF_FAIL ? o->explanation.s : "");
    buf_puts(&b, ",\"domain\":");
    buf_json_str(&b, o->domain.s);
    buf_puts(&b, ",\"identity\":");
    buf_json_str(&b, o->sender.s);
    buf_puts(&b, ",\"mechanism\":");
    buf_json_str(&b, o->mechanism.s);
    buf_puts(&b, ",\"problem\":");
    buf_json_str(&b, o->problem.s);
    if (with_trace) {
	buf_puts(&b, ",\"trace\":");
	buf_json_lines(&b, o->trace.s);
    }
    buf_puts(&b, "}\n");
    fputs(b.s, fp);
    buf_free(&b);
}

int     cmd_spf(const struct config *conf, int argc, char **argv)
{
    const char *ip = NULL, *sender = NULL, *helo = NULL, *receiver = NULL;
    const char *resolver = NULL;
    int     json = 0, with_trace = 0, helo_id = 0;
    struct spf_request rq;
    struct spf_outcome o;
    struct dns *dns;
    struct lookupset *ls;
    struct spf_dns ops = {cli_get, cli_prefetch, NULL};
    struct event_base *base;
    char    why[256];

    for (int i = 0; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--ip") == 0)
	    ip = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--sender") == 0)
	    sender = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--helo") == 0)
	    helo = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--receiver") == 0)
	    receiver = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--resolver") == 0)
	    resolver = argv[++i];
	else if (strcmp(a, "--json") == 0)
	    json = 1;
	else if (strcmp(a, "--trace") == 0)
	    with_trace = 1;
	else if (strcmp(a, "--helo-identity") == 0)
	    helo_id = 1;
	else
	    goto usage;
    }
    if (ip == NULL || sender == NULL || helo == NULL)
	goto usage;
    if ((base = event_base_new()) == NULL)
	msg_fatal("cannot create event base");
    dns = dns_new(base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
		    (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why, sizeof(why));
    if (dns == NULL) {
	fprintf(stderr, "mxshield spf: %s\n", why);
	return 2;
    }
    memset(&rq, 0, sizeof(rq));
    rq.ip = ip;
    rq.sender = sender;
    rq.helo = helo;
    rq.receiver = receiver ? receiver : config_str(conf, P_MYHOSTNAME);
    rq.now = time(NULL);
    ops.ctx = ls = lookupset_new(dns);
    spf_outcome_init(&o);
    while (spf_check(&ops, &rq, helo_id, &o) == SPF_PENDING)
	event_base_loop(base, EVLOOP_ONCE);	/* until answers arrive */
    if (json) {
	json_line(stdout, &o, with_trace);
    } else {
	printf("result: %s\n", spf_result_name(o.result));
	printf("identity: %s\n", o.sender.s);
	if (o.mechanism.len)
	    printf("mechanism: %s\n", o.mechanism.s);
	if (o.result == SPF_FAIL)
	    printf("explanation: %s\n", o.explanation.s);
	if (o.problem.len)
	    printf("problem: %s\n", o.problem.s);
	if (with_trace)
	    fputs(o.trace.s, stdout);
    }
    spf_outcome_free(&o);
    lookupset_free(ls);
    dns_free(dns);
    event_base_free(base);
    return 0;
usage:
    fprintf(stderr, "usage: mxshield spf --ip ADDR --sender ADDR --helo NAME [--receiver NAME]\n"
	    "       [--resolver HOST:PORT] [--helo-identity] [--json] [--trace] [-c FILE]\n");
    return 2;
}
