/*
 * dmarc_cmd.c - `mxshield dmarc`: one message through the milter's checks.
 *
 *   mxshield dmarc [-c FILE] [--resolver HOST:PORT] --ip ADDR --helo NAME
 *                  --mailfrom ADDR [--json] [--trace] [MESSAGE]
 *
 * MESSAGE is a file (standard input without one), CRLF or LF line ends.
 * Headers are given to the checks as Postfix gives them to a milter
 * (folded lines joined by LF, the text after the colon kept), the body
 * with CRLF line ends.  Exit status 0 whatever the result; 2 for a usage
 * error or an unreadable message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cli/dmarc_cmd.h"
#include "conf/config.h"
#include "dmarc/msgauth.h"
#include "dns/dns.h"
#include "dns/lookupset.h"
#include "util/log.h"
#include "util/mem.h"

#define MESSAGE_MAX	(64 * 1024 * 1024)	/* bytes read from MESSAGE */

/* read_all - the whole message; NULL with errno */
static char *read_all(FILE *fp, size_t *len)
{
    struct buf b;
    char    chunk[65536];
    size_t  n;

    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
	if (b.len + n > MESSAGE_MAX) {
	    buf_free(&b);
	    errno = EFBIG;
	    return NULL;
	}
	buf_append(&b, chunk, n);
    }
    if (ferror(fp)) {
	buf_free(&b);
	return NULL;
    }
    *len = b.len;
    if (b.s == NULL)
	buf_puts(&b, "");
    return buf_steal(&b);
}

/* flush_header - give one unfolded-as-LF header to the checks */
static void flush_header(struct msgauth *m, struct buf *h)
{
    char   *colon;

    if (h->len == 0)
	return;
    if ((colon = memchr(h->s, ':', h->len)) != NULL) {
	size_t  nlen = (size_t) (colon - h->s);

	while (nlen > 0 && (h->s[nlen - 1] == ' ' || h->s[nlen - 1] == '\t'))
	    nlen--;
	msgauth_header(m, h->s, nlen, colon + 1, h->len - (size_t) (colon + 1 - h->s));
    }
    buf_reset(h);
}

/* feed - the message, split as a milter receives it */
static void feed(struct msgauth *m, const char *msg, size_t len)
{
    const char *cp = msg, *end = msg + len;
    struct buf h, body;
    int     in_headers = 1;

    buf_init(&h);
    buf_init(&body);
    while (cp < end) {
	const char *nl = memchr(cp, '\n', (size_t) (end - cp));
	const char *next = nl ? nl + 1 : end;
	size_t  ll = (size_t) ((nl ? nl : end) - cp);

	if (ll > 0 && cp[ll - 1] == '\r')
	    ll--;
	if (in_headers) {
	    if (ll == 0) {
		flush_header(m, &h);
		msgauth_eoh(m);
		in_headers = 0;
	    } else if ((cp[0] == ' ' || cp[0] == '\t') && h.len > 0) {
		buf_putc(&h, '\n');
		buf_append(&h, cp, ll);
	    } else {
		flush_header(m, &h);
		buf_append(&h, cp, ll);
	    }
	} else {
	    buf_append(&body, cp, ll);
	    buf_append(&body, "\r\n", 2);
	    if (body.len >= 65535) {
		msgauth_body(m, body.s, body.len);
		buf_reset(&body);
	    }
	}
	cp = next;
    }
    if (in_headers) {
	flush_header(m, &h);
	msgauth_eoh(m);
    }
    if (body.len)
	msgauth_body(m, body.s, body.len);
    buf_free(&h);
    buf_free(&body);
}

int     cmd_dmarc(const struct config *conf, int argc, char **argv)
{
    const char *ip = NULL, *helo = NULL, *from = NULL, *resolver = NULL, *file = NULL;
    int     json = 0, trace = 0;
    struct msgauth_conf *mc;
    struct msgauth *m;
    struct dns *dns;
    struct lookupset *ls;
    struct event_base *base;
    struct buf err, out;
    char    why[256], *msg;
    size_t  len = 0;
    FILE   *fp;

    for (int i = 0; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--ip") == 0)
	    ip = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--helo") == 0)
	    helo = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--mailfrom") == 0)
	    from = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--resolver") == 0)
	    resolver = argv[++i];
	else if (strcmp(a, "--json") == 0)
	    json = 1;
	else if (strcmp(a, "--trace") == 0)
	    trace = 1;
	else if (i == argc - 1 && a[0] != '-')
	    file = a;
	else
	    goto usage;
    }
    if (ip == NULL || helo == NULL || from == NULL)
	goto usage;
    if (file) {
	if ((fp = fopen(file, "rb")) == NULL) {
	    fprintf(stderr, "mxshield dmarc: %s: %s\n", file, strerror(errno));
	    return 2;
	}
    } else {
	fp = stdin;
    }
    msg = read_all(fp, &len);
    if (fp != stdin)
	fclose(fp);
    if (msg == NULL) {
	fprintf(stderr, "mxshield dmarc: %s: %s\n", file ? file : "standard input",
		strerror(errno));
	return 2;
    }
    buf_init(&err);
    if ((mc = msgauth_conf_new(conf, &err)) == NULL) {
	fprintf(stderr, "mxshield dmarc: %s\n", err.s);
	return 2;
    }
    if ((base = event_base_new()) == NULL)
	msg_fatal("cannot create event base");
    dns = dns_new(base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
		  (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why, sizeof(why));
    if (dns == NULL) {
	fprintf(stderr, "mxshield dmarc: %s\n", why);
	return 2;
    }
    ls = lookupset_new(dns);
    m = msgauth_new(mc, ls);
    if (trace)
	msgauth_set_trace(m);
    if (from[0] == '<' && from[strlen(from) - 1] == '>') {
	char   *bare = xstrndup(from + 1, strlen(from) - 2);

	msgauth_envelope(m, ip, helo, bare);
	free(bare);
    } else {
	msgauth_envelope(m, ip, helo, from);
    }
    feed(m, msg, len);
    while (!msgauth_finish(m))
	event_base_loop(base, EVLOOP_ONCE);	/* until answers arrive */

    buf_init(&out);
    if (trace)
	fputs(msgauth_trace(m), stdout);
    buf_puts(&out, "Authentication-Results:");
    msgauth_ar_value(m, &out, "\n\t");
    printf("%s\n", out.s);
    printf("action: %s%s%s\n", msgauth_action_name(msgauth_action(m)),
	   *msgauth_reply(m) ? " " : "", msgauth_reply(m));
    if (json) {
	buf_reset(&out);
	msgauth_json(m, &out);
	printf("%s\n", out.s);
    }
    buf_free(&out);
    buf_free(&err);
    msgauth_free(m);
    lookupset_free(ls);
    msgauth_conf_free(mc);
    dns_free(dns);
    event_base_free(base);
    free(msg);
    return 0;
usage:
    fprintf(stderr, "usage: mxshield dmarc [-c FILE] [--resolver HOST:PORT] --ip ADDR --helo NAME\n"
	    "       --mailfrom ADDR [--json] [--trace] [MESSAGE]\n");
    return 2;
}
