/*
 * fuzz_msgauth.c - libFuzzer target: a whole message (headers from any
 * sender: From, Authentication-Results, Received-SPF, DKIM-Signature,
 * ARC sets) through the milter's checks, without a resolver (every
 * lookup a temporary failure).  What goes back to Postfix must hold
 * together: the Authentication-Results value has no line break but the
 * folds we put there, the SMTP reply is one line, the JSON one line, and
 * deletions name headers that were seen.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "dmarc/msgauth.h"
#include "dns/lookupset.h"
#include "util/log.h"
#include "util/str.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct msgauth_conf *mc;

static void quiet(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) text;
    (void) ctx;
}

static void setup(void)
{
    struct buf err;
    struct config *c;

    log_capture(quiet, NULL);
    buf_init(&err);
    if ((c = config_parse_text("myhostname = mx.example.net\n"
			       "trusted_authserv_ids = trusted.example\n"
			       "arc_trusted_sealers = list.example\n"
			       "dmarc_required_headers = yes\n", "fuzz.conf", &err)) == NULL
	|| (mc = msgauth_conf_new(c, &err)) == NULL) {
	fprintf(stderr, "fuzz_msgauth: %s\n", err.s);
	abort();
    }
    config_free(c);			/* the compiled conf keeps nothing of it */
    buf_free(&err);
}

/* one_line - no CR or LF in s */
static void one_line(const char *s)
{
    if (strpbrk(s, "\r\n") != NULL)
	abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size;
    struct lookupset *ls;
    struct msgauth *m;
    struct buf h, out;
    const char *name;
    unsigned index;

    if (mc == NULL)
	setup();
    ls = lookupset_new(NULL);
    m = msgauth_new(mc, ls);
    msgauth_envelope(m, "192.0.2.1", "helo.example", "a@example.org");
    buf_init(&h);
    /* headers up to an empty line, folds joined by LF as Postfix sends them */
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t  len = nl ? (size_t) (nl - p) : (size_t) (end - p);

	if (len == 0) {
	    p++;
	    break;
	}
	if ((*p == ' ' || *p == '\t') && h.len) {
	    buf_putc(&h, '\n');
	    buf_append(&h, p, len);
	} else {
	    const char *colon;

	    if (h.len && (colon = memchr(h.s, ':', h.len)) != NULL)
		msgauth_header(m, h.s, (size_t) (colon - h.s), colon + 1,
			       h.len - (size_t) (colon + 1 - h.s));
	    buf_reset(&h);
	    buf_append(&h, p, len);
	}
	p += len + (nl != NULL);
    }
    if (h.len) {
	const char *colon = memchr(h.s, ':', h.len);

	if (colon)
	    msgauth_header(m, h.s, (size_t) (colon - h.s), colon + 1,
			   h.len - (size_t) (colon + 1 - h.s));
    }
    msgauth_eoh(m);
    if (p < end)
	msgauth_body(m, p, (size_t) (end - p));
    if (!msgauth_finish(m))
	abort();			/* no resolver: nothing to wait for */
    buf_init(&out);
    msgauth_ar_value(m, &out, " ");
    one_line(out.s);
    buf_reset(&out);
    msgauth_json(m, &out);
    one_line(out.s);
    one_line(msgauth_reply(m));
    one_line(msgauth_reason(m));
    for (size_t i = 0; msgauth_delete(m, i, &name, &index); i++)
	if (index == 0 || (strcmp(name, "Authentication-Results") && strcmp(name, "Received-SPF")))
	    abort();
    buf_free(&out);
    buf_free(&h);
    msgauth_free(m);
    lookupset_free(ls);
    return 0;
}
