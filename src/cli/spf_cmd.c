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
#include "spf/spf.h"
#include "util/log.h"
#include "util/mem.h"

struct entry {
    char   *name;
    int     type;
    struct dns_answer *a;
    struct dns_wait *w;
};

struct cli_dns {
    struct dns *dns;
    struct entry **v;			/* each entry stays where it is */
    size_t  n;
};

static void entry_done(void *arg, struct dns_answer *a)
{
    struct entry *e = arg;

    e->a = a;
    e->w = NULL;
}

static struct entry *entry(struct cli_dns *c, const char *name, int type)
{
    for (size_t i = 0; i < c->n; i++)
	if (c->v[i]->type == type && strcasecmp(c->v[i]->name, name) == 0)
	    return c->v[i];
    return NULL;
}

static void start(struct cli_dns *c, const char *name, int type)
{
    struct entry *e;

    if (entry(c, name, type))
	return;
    e = xcalloc(1, sizeof(*e));
    e->name = xstrdup(name);
    e->type = type;
    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    c->v[c->n++] = e;
}

static void get_all(struct cli_dns *c)
{
    for (size_t i = 0; i < c->n; i++) {
	struct entry *e = c->v[i];

	if (e->a == NULL && e->w == NULL)
	    e->w = dns_lookup(c->dns, e->name, e->type, entry_done, e);
    }
}

static struct dns_answer *cli_get(void *ctx, const char *name, int type)
{
    struct cli_dns *c = ctx;
    struct entry *e = entry(c, name, type);

    if (e == NULL)
	start(c, name, type);
    return e ? e->a : NULL;
}

static void cli_prefetch(void *ctx, const char *name, int type)
{
    start(ctx, name, type);
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
	buf_puts(&b, ",\"trace\":[");
	const char *cp = o->trace.s;
	int     first = 1;

	while (*cp) {
	    const char *nl = strchr(cp, '\n');
	    size_t  len = nl ? (size_t) (nl - cp) : strlen(cp);
	    char   *line = xstrndup(cp, len);

	    if (!first)
		buf_putc(&b, ',');
	    buf_json_str(&b, line);
	    free(line);
	    first = 0;
	    cp += len + (nl != NULL);
	}
	buf_putc(&b, ']');
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
    struct cli_dns c;
    struct spf_dns ops = {cli_get, cli_prefetch, &c};
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
    memset(&c, 0, sizeof(c));
    c.dns = dns_new(base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
		    (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why, sizeof(why));
    if (c.dns == NULL) {
	fprintf(stderr, "mxshield spf: %s\n", why);
	return 2;
    }
    memset(&rq, 0, sizeof(rq));
    rq.ip = ip;
    rq.sender = sender;
    rq.helo = helo;
    rq.receiver = receiver ? receiver : config_str(conf, P_MYHOSTNAME);
    rq.now = time(NULL);
    spf_outcome_init(&o);
    for (;;) {
	if (spf_check(&ops, &rq, helo_id, &o) != SPF_PENDING)
	    break;
	get_all(&c);
	event_base_loop(base, EVLOOP_ONCE);
    }
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
    for (size_t i = 0; i < c.n; i++) {
	if (c.v[i]->w)
	    dns_cancel(c.v[i]->w);
	dns_answer_unref(c.v[i]->a);
	free(c.v[i]->name);
	free(c.v[i]);
    }
    free(c.v);
    dns_free(c.dns);
    event_base_free(base);
    return 0;
usage:
    fprintf(stderr, "usage: mxshield spf --ip ADDR --sender ADDR --helo NAME [--receiver NAME]\n"
	    "       [--resolver HOST:PORT] [--helo-identity] [--json] [--trace] [-c FILE]\n");
    return 2;
}
