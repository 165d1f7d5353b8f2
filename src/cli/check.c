/*
 * check.c - `mxshield check`: the same engine and configuration as the
 * daemon, evaluated once, with a trace of every restriction.
 */
#include <string.h>

#include <event2/event.h>

#include "cli/check.h"
#include "conf/config.h"
#include "dns/dns.h"
#include "store/redis_config.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

/* check_print - print action and trace */
void    check_print(FILE *fp, const char *action, const struct trace *t, int json)
{
    if (json) {
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"action\":");
	buf_json_str(&b, action);
	buf_puts(&b, ",\"trace\":[");
	for (size_t i = 0; i < t->n; i++) {
	    if (i)
		buf_putc(&b, ',');
	    buf_printf(&b, "{\"depth\":%d,\"restriction\":", t->v[i].depth);
	    buf_json_str(&b, t->v[i].what);
	    buf_puts(&b, ",\"detail\":");
	    buf_json_str(&b, t->v[i].detail);
	    buf_puts(&b, ",\"result\":");
	    buf_json_str(&b, t->v[i].result);
	    buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	fputs(b.s, fp);
	buf_free(&b);
	return;
    }
    for (size_t i = 0; i < t->n; i++) {
	const struct trace_entry *te = &t->v[i];

	fprintf(fp, "%*s%s", te->depth * 2, "", te->what);
	if (*te->detail)
	    fprintf(fp, ": %s", te->detail);
	if (*te->result)
	    fprintf(fp, " => %s", te->result);
	fputc('\n', fp);
    }
    fprintf(fp, "action=%s\n", action);
}

/* check_read_request - name=value lines up to an empty line or EOF */
int     check_read_request(FILE *fp, struct request *req, char *err, size_t errlen)
{
    char    line[65536];
    int     lineno = 0;

    while (fgets(line, sizeof(line), fp) != NULL) {
	size_t  len = strlen(line);

	lineno++;
	if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
	    snprintf(err, errlen, "stdin:%d: line too long", lineno);
	    return -1;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	    line[--len] = 0;
	if (len == 0)
	    break;
	if (request_add_line(req, line, len) < 0) {
	    snprintf(err, errlen, "stdin:%d: expected name=value, got \"%s\"", lineno, line);
	    return -1;
	}
    }
    return 0;
}

/* check_wake - an answer the evaluation waited for arrived */
static void check_wake(void *arg)
{
    event_base_loopbreak(arg);
}

/* check_evaluate - run the engine to the end, with DNS on a private loop */
char   *check_evaluate(struct policy *pol, struct txn *txn, struct trace *t)
{
    struct event_base *base = event_base_new();
    struct dns *dns;
    struct eval *e;
    char    why[256];
    char   *action;

    if (base == NULL)
	msg_fatal("cannot create event base");
    dns = dns_new(base, config_str(pol->conf, P_DNS_RESOLVER),
		  (int) config_int(pol->conf, P_DNS_TIMEOUT) * 1000,
		  (size_t) config_int(pol->conf, P_DNS_CACHE), why, sizeof(why));
    if (dns == NULL
	|| dns_set_transport(dns, config_str(pol->conf, P_DNS_TRANSPORT), why, sizeof(why)) < 0)
	msg_fatal("%s", why);
    pol->dns = dns;
    if (pol->uses_greylist || pol->uses_store) {
	/* read-only: an explanation records nothing */
	struct store_opts o;

	memset(&o, 0, sizeof(o));
	o.path = config_str(pol->conf, P_DATA_DIR);
	o.map_size = (size_t) config_int(pol->conf, P_STORE_MAP_SIZE) << 20;
	o.readonly = 1;
	redis_config_opts(pol->conf, &o, NULL);
	if ((pol->store = store_open(&o, why, sizeof(why))) == NULL)
	    pol->store_absent = 1;	/* no database yet: nothing is known */
    }
    e = eval_start(pol, txn, t);
    eval_set_wakeup(e, check_wake, base);
    while (eval_run(e) == EVAL_PENDING)
	event_base_dispatch(base);
    action = xstrdup(eval_action(e));
    eval_free(e);
    pol->dns = NULL;
    store_close(pol->store);
    pol->store = NULL;
    dns_free(dns);
    event_base_free(base);
    return action;
}
