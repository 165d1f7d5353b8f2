/*
 * fuzz_spf.c - libFuzzer target: check_host() over SPF records an attacker
 * publishes.  The input is lines: the first is the TXT record of the
 * sender's domain, the others the TXT records of every other name (picked
 * by a hash of the name, so includes and redirects reach them).  A, AAAA,
 * MX and PTR answers follow from the name's hash too: found, not found,
 * or a temporary failure.  Answers are made at once, never pending.
 * A line "@sender TEXT" or "@helo TEXT" is no record: it sets the sender
 * or the HELO name (long or odd ones reach the macros and the limits).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "spf/spf.h"
#include "util/mem.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct world {
    char  **txt;			/* TXT records, [0] the sender's domain */
    size_t  ntxt;
    struct dns_answer **made;		/* everything handed out, freed at the end */
    size_t  nmade;
    const char *home;			/* "@sender"'s domain: gets [0] too */
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

static struct dns_answer *keep(struct world *w, struct dns_answer *a)
{
    w->made = xrealloc(w->made, (w->nmade + 1) * sizeof(*w->made));
    w->made[w->nmade++] = a;
    return a;
}

static void add(struct dns_answer *a, struct dns_rr rr)
{
    a->rr = xrealloc(a->rr, (a->n + 1) * sizeof(*a->rr));
    a->rr[a->n++] = rr;
}

static struct dns_answer *get(void *ctx, const char *name, int type)
{
    struct world *w = ctx;
    uint32_t h = hash(name) * 31u + (uint32_t) type;
    struct dns_rr rr;
    char    host[300];

    if (h % 11 == 0)
	return keep(w, dns_answer_new(name, type, DNS_TEMPFAIL, "fuzz: timed out"));
    if (h % 7 == 0)
	return keep(w, dns_answer_new(name, type, DNS_NXDOMAIN, NULL));
    struct dns_answer *a = keep(w, dns_answer_new(name, type, DNS_OK, NULL));

    memset(&rr, 0, sizeof(rr));
    rr.ttl = 300;
    switch (type) {
    case DNS_T_TXT:
	if (w->ntxt == 0)
	    break;
	size_t  i = strcmp(name, "example.com") == 0
	    || (w->home && strcasecmp(name, w->home) == 0) ? 0 : 1 + h % (w->ntxt > 1 ? w->ntxt - 1 : 1);

	if (i >= w->ntxt)
	    i = 0;
	rr.text = xstrdup(w->txt[i]);
	add(a, rr);
	if (h % 13 == 0) {			/* now and then two records */
	    rr.text = xstrdup(w->txt[(i + 1) % w->ntxt]);
	    add(a, rr);
	}
	break;
    case DNS_T_A:
	rr.addr.family = AF_INET;
	rr.addr.b[0] = 192;
	rr.addr.b[2] = 2;
	rr.addr.b[3] = (unsigned char) (h % 3);	/* 192.0.2.0-2: the client is .1 */
	add(a, rr);
	break;
    case DNS_T_AAAA:
	rr.addr.family = AF_INET6;
	rr.addr.b[0] = 0x20;
	rr.addr.b[1] = 0x01;
	rr.addr.b[2] = 0x0d;
	rr.addr.b[3] = 0xb8;
	rr.addr.b[15] = (unsigned char) (h % 3);
	add(a, rr);
	break;
    case DNS_T_MX:
    case DNS_T_PTR:
	for (int k = 0; k < 1 + (int) (h % 3); k++) {
	    snprintf(host, sizeof(host), "h%d.%s", k, type == DNS_T_PTR ? "example.com" : name);
	    rr.name = xstrdup(host);
	    rr.pref = (uint16_t) k;
	    add(a, rr);
	}
	break;
    default:
	a->status = DNS_NODATA;
	break;
    }
    if (a->n == 0 && a->status == DNS_OK)
	a->status = DNS_NODATA;
    return a;
}

static void prefetch(void *ctx, const char *name, int type)
{
    (void) ctx;
    (void) name;
    (void) type;
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world w;
    struct spf_dns dns = {get, prefetch, &w};
    struct spf_outcome o;
    char   *text, *p, *nl;
    volatile size_t sink = 0;

    if (size < 1 || size > 20000)
	return 0;
    memset(&w, 0, sizeof(w));
    text = xmalloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    const char *sender = NULL, *helo = NULL;

    for (p = text;; p = nl + 1) {
	nl = strchr(p, '\n');
	if (nl)
	    *nl = 0;
	if (strncmp(p, "@sender ", 8) == 0) {
	    sender = p + 8;
	} else if (strncmp(p, "@helo ", 6) == 0) {
	    helo = p + 6;
	} else {
	    w.txt = xrealloc(w.txt, (w.ntxt + 1) * sizeof(*w.txt));
	    w.txt[w.ntxt++] = p;
	}
	if (nl == NULL)
	    break;
    }
    if (sender && strrchr(sender, '@'))
	w.home = strrchr(sender, '@') + 1;
    struct spf_request rq = {
	.ip = data[0] & 1 ? "2001:db8::1" : "192.0.2.1",
	.sender = sender ? sender : data[0] & 2 ? "" : "user+tag@example.com",
	.helo = helo ? helo : data[0] & 4 ? "example.com" : "mail.example.com",
	.receiver = data[0] & 8 ? NULL : "mx.example.net",
	.now = 1700000000,
    };

    spf_outcome_init(&o);
    if (spf_check(&dns, &rq, (data[0] & 16) != 0, &o) == 0) {
	sink += strlen(spf_result_name(o.result));
	sink += o.domain.len + o.explanation.len + o.problem.len + o.mechanism.len;
	if (o.explanation.len)
	    sink += strlen(o.explanation.s);
    } else {
	abort();			/* every answer was there: never pending */
    }
    (void) sink;
    spf_outcome_free(&o);
    for (size_t i = 0; i < w.nmade; i++)
	dns_answer_unref(w.made[i]);
    free(w.made);
    free(w.txt);
    free(text);
    return 0;
}
