/*
 * domain_check.c - `mxshield domain check`: are the records a domain
 * publishes for its mail right?
 *
 *   mxshield domain [-c FILE] check DOMAIN [--resolver HOST:PORT]
 *                   [--address IP]... [--json]
 *
 * Findings, one per line, "LEVEL CHECK: what; fix: what to do":
 *   spf	a record, and check_host() (src/spf/, so the RFC 7208
 *		limits of 10 DNS-querying terms and 2 void lookups are the
 *		engine's own) passing for every outbound address: --address,
 *		else the addresses of myhostname.  A run from 192.0.2.1
 *		(TEST-NET, matched by no sane record) walks every term, so a
 *		record past the limits is found even when our addresses match
 *		early.
 *   dkim	every key that dkim_signing_table gives postmaster@DOMAIN
 *		published at selector._domainkey.DOMAIN, and the same key.
 *   dmarc	one v=DMARC1 record at _dmarc.DOMAIN that the milter's DMARC
 *		parser (src/dmarc/record.c) takes, with p= none, quarantine
 *		or reject (the parser reads a bad p= as none); p=none
 *		and the absence of rua= are warnings; rua/ruf shown.
 *   mx		the MX hosts, each address with a forward-confirmed PTR; no MX
 *		at all: publish a null MX (RFC 7505) if the domain takes no
 *		mail; myhostname (the HELO name) with a forward-confirmed PTR
 *		naming it.
 *   mta-sts, tls-rpt	_mta-sts (v=STSv1; id=) and _smtp._tls
 *		(v=TLSRPTv1; rua=) TXT records (warnings when absent).
 * Exit 1 when a finding is an error, 0 otherwise, 2 usage; a DNS
 * failure is an error ("cannot check"), never a pass.
 */
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "cli/domain_check.h"
#include "dkim/dkim_impl.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "dmarc/record.h"
#include "dns/dns.h"
#include "dns/lookupset.h"
#include "spf/spf.h"
#include "util/inet.h"
#include "util/mem.h"
#include "util/str.h"

enum level {
    OK, WARN, ERR,
};

struct dc {
    const struct config *conf;
    struct event_base *base;
    struct dns *dns;
    struct lookupset *ls;
    const char *domain;
    int     json, errors;
    struct buf out;
};

static const char *const level_names[] = {"ok", "warning", "error"};

/* finding - one line (or one JSON object) */
static void finding(struct dc *c, enum level l, const char *check, const char *fix,
		            const char *fmt,...)
{
    struct buf what;
    va_list ap;

    buf_init(&what);
    va_start(ap, fmt);
    buf_vprintf(&what, fmt, ap);
    va_end(ap);
    if (l == ERR)
	c->errors++;
    if (c->json) {
	buf_printf(&c->out, "%s{\"level\":\"%s\",\"check\":\"%s\",\"finding\":",
		   c->out.len > 1 ? "," : "", level_names[l], check);
	buf_json_str(&c->out, what.s);
	buf_puts(&c->out, ",\"fix\":");
	if (fix)
	    buf_json_str(&c->out, fix);
	else
	    buf_puts(&c->out, "null");
	buf_putc(&c->out, '}');
    } else {
	buf_printf(&c->out, "%s %s: %s%s%s\n", level_names[l], check, what.s,
		   fix ? "; fix: " : "", fix ? fix : "");
    }
    buf_free(&what);
}

static void woken(void *ctx)
{
    (void) ctx;
}

/* q - one lookup, waited for */
static struct dns_answer *q(struct dc *c, const char *name, int type)
{
    struct dns_answer *a;

    if ((a = lookupset_get(c->ls, name, type, NULL)) != NULL)
	return a;
    lookupset_start(c->ls, name, type);
    while ((a = lookupset_get(c->ls, name, type, NULL)) == NULL)
	event_base_loop(c->base, EVLOOP_ONCE);
    return a;
}

/* txt_with - the TXT records at name starting with prefix: count, first */
static int txt_with(struct dc *c, const char *name, const char *prefix, const char **first,
		            enum dns_status *st)
{
    struct dns_answer *a = q(c, name, DNS_T_TXT);
    int     n = 0;

    *first = NULL;
    *st = a->status;
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	if (a->rr[i].text && strncasecmp(a->rr[i].text, prefix, strlen(prefix)) == 0) {
	    if (n++ == 0)
		*first = a->rr[i].text;
	}
    }
    return n;
}

static struct dns_answer *spf_get(void *ctx, const char *name, int type)
{
    return lookupset_get(((struct dc *) ctx)->ls, name, type, NULL);
}

static void spf_prefetch(void *ctx, const char *name, int type)
{
    lookupset_start(((struct dc *) ctx)->ls, name, type);
}

/* spf_run - check_host() for postmaster@domain from ip */
static enum spf_result spf_run(struct dc *c, const char *ip, struct spf_outcome *o)
{
    struct spf_dns d = {spf_get, spf_prefetch, c};
    struct buf sender;
    struct spf_request rq;

    buf_init(&sender);
    buf_printf(&sender, "postmaster@%s", c->domain);
    memset(&rq, 0, sizeof(rq));
    rq.ip = ip;
    rq.sender = sender.s;
    rq.helo = c->domain;
    rq.now = time(NULL);
    spf_outcome_init(o);
    while (spf_check(&d, &rq, 0, o) == SPF_PENDING)
	event_base_loop(c->base, EVLOOP_ONCE);
    buf_free(&sender);
    return o->result;
}

/* outbound - the addresses mail leaves from: --address, else myhostname's */
static void outbound(struct dc *c, struct strlist *given, struct strlist *out)
{
    const char *host = config_str(c->conf, P_MYHOSTNAME);
    static const int types[] = {DNS_T_A, DNS_T_AAAA};

    for (size_t i = 0; i < given->n; i++)
	strlist_add(out, given->v[i]);
    if (out->n || host[0] == 0)
	return;
    for (size_t t = 0; t < 2; t++) {
	struct dns_answer *a = q(c, host, types[t]);

	for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	    char    text[64];

	    inet_format(&a->rr[i].addr, text, sizeof(text));
	    strlist_add(out, text);
	}
    }
}

static void check_spf(struct dc *c, struct strlist *given)
{
    struct spf_outcome o;
    struct strlist addrs;
    const char *rec;
    enum dns_status st;
    int     n = txt_with(c, c->domain, "v=spf1", &rec, &st);

    if (st == DNS_TEMPFAIL) {
	finding(c, ERR, "spf", "retry; check the domain's name servers",
		"cannot check: the TXT lookup of %s failed", c->domain);
	return;
    }
    if (n == 0) {
	finding(c, ERR, "spf", "publish \"v=spf1 mx -all\" (or the addresses mail leaves from)",
		"no SPF record at %s", c->domain);
	return;
    }
    if (n > 1) {
	finding(c, ERR, "spf", "merge them into one record (RFC 7208 section 4.5)",
		"%d SPF records at %s: permerror", n, c->domain);
	return;
    }
    /* every term walked: a source that matches nothing */
    if (spf_run(c, "192.0.2.1", &o) == SPF_PERMERROR) {
	finding(c, ERR, "spf", "fix the record; flatten includes to stay within 10 lookups"
		" and 2 void lookups", "the record is a permerror: %s", o.problem.s);
	spf_outcome_free(&o);
	return;
    }
    if (o.result == SPF_TEMPERROR) {
	finding(c, ERR, "spf", "retry; check the name servers of the included domains",
		"cannot check: %s", o.problem.s);
	spf_outcome_free(&o);
	return;
    }
    finding(c, OK, "spf", NULL, "record \"%s\" parses within the limits", rec);
    spf_outcome_free(&o);
    if (strcasecmp(rec, "v=spf1 -all") == 0) {
	finding(c, OK, "spf", NULL, "%s sends no mail (v=spf1 -all)", c->domain);
	return;
    }
    strlist_init(&addrs);
    outbound(c, given, &addrs);
    if (addrs.n == 0)
	finding(c, WARN, "spf", "set myhostname or give --address", "no outbound address"
		" to check (myhostname not set or without addresses)");
    for (size_t i = 0; i < addrs.n; i++) {
	enum spf_result r = spf_run(c, addrs.v[i], &o);

	if (r == SPF_PASS)
	    finding(c, OK, "spf", NULL, "%s is authorised (%s)", addrs.v[i], o.mechanism.s);
	else
	    finding(c, ERR, "spf", "add ip4:/ip6: (or a mechanism) that matches the address",
		    "outbound address %s is not authorised: %s%s%s", addrs.v[i],
		    spf_result_name(r), o.problem.len ? ": " : "", o.problem.s);
	spf_outcome_free(&o);
    }
    strlist_free(&addrs);
}

static void check_dkim(struct dc *c)
{
    const struct dkim_signkey *keys[DKIM_SIGN_MAX_KEYS];
    struct dkim_signer *g;
    struct buf addr, name;
    size_t  n = 0;
    char    why[512];
    enum map_result r;

    if ((g = dkim_signer_open(c->conf, why, sizeof(why))) == NULL) {
	finding(c, ERR, "dkim", "fix the configuration", "%s", why);
	return;
    }
    buf_init(&addr);
    buf_init(&name);
    buf_printf(&addr, "postmaster@%s", c->domain);
    r = dkim_signer_keys(g, addr.s, keys, &n, why, sizeof(why));
    if (r == MAP_NOTFOUND)
	finding(c, WARN, "dkim", "make a key (mxshield dkim keygen) and name it in"
		" dkim_signing_table and dkim_key_table", "no signing key for %s", c->domain);
    else if (r == MAP_ERROR)
	finding(c, ERR, "dkim", "fix the tables or the key file", "%s", why);
    for (size_t i = 0; i < n; i++) {
	const char *rec;
	enum dns_status st;
	int     m;

	buf_reset(&name);
	buf_printf(&name, "%s._domainkey.%s", dkim_signkey_selector(keys[i]),
		   dkim_signkey_domain(keys[i]));
	m = txt_with(c, name.s, "", &rec, &st);
	if (st == DNS_TEMPFAIL)
	    finding(c, ERR, "dkim", "retry", "cannot check: the TXT lookup of %s failed", name.s);
	else if (m == 0)
	    finding(c, ERR, "dkim", "publish the record mxshield dkim keygen printed",
		    "%s: no key record", name.s);
	else if (m > 1)
	    finding(c, ERR, "dkim", "publish exactly one record", "%s: %d TXT records", name.s, m);
	else if (dkim_signkey_matches(keys[i], rec, why, sizeof(why)) != 1)
	    finding(c, ERR, "dkim", "publish the record of the key in dkim_key_table",
		    "%s: %s", name.s, why);
	else
	    finding(c, OK, "dkim", NULL, "%s publishes the signing key", name.s);
    }
    buf_free(&addr);
    buf_free(&name);
    dkim_signer_free(g);
}

static void check_dmarc(struct dc *c)
{
    struct buf name;
    const char *rec, *why;
    enum dns_status st;
    struct dkim_tags tl;
    const struct dkim_tag *p, *rua, *ruf;
    struct dmarc_record dr;
    char    bad[256];
    int     n;

    buf_init(&name);
    buf_printf(&name, "_dmarc.%s", c->domain);
    n = txt_with(c, name.s, "v=DMARC1", &rec, &st);
    if (st == DNS_TEMPFAIL) {
	finding(c, ERR, "dmarc", "retry", "cannot check: the TXT lookup of %s failed", name.s);
    } else if (n == 0) {
	finding(c, ERR, "dmarc", "publish \"v=DMARC1; p=none; rua=mailto:dmarc@DOMAIN\" and"
		" tighten p= once the reports are clean", "no DMARC record at %s", name.s);
    } else if (n > 1) {
	finding(c, ERR, "dmarc", "publish exactly one", "%d DMARC records at %s", n, name.s);
    } else if (dmarc_record_parse(rec, strlen(rec), &dr, bad, sizeof(bad)) < 0) {
	finding(c, ERR, "dmarc", "correct the record's syntax (RFC 7489 section 6.4)",
		"\"%s\" is not a valid DMARC record: %s", rec, bad);
    } else if (dkim_tags_parse(rec, strlen(rec), &tl, &why) < 0
	       || (tl.n > 0 && (tl.t[0].nlen != 1 || tl.t[0].name[0] != 'v'))) {
	finding(c, ERR, "dmarc", "write it as tag=value pairs starting with v=DMARC1",
		"\"%s\" is not a DMARC record: %s", rec, why ? why : "v= not first");
    } else if ((p = dkim_tags_get(&tl, "p")) == NULL
	       || !((p->vlen == 4 && strncasecmp(p->val, "none", 4) == 0)
		    || (p->vlen == 10 && strncasecmp(p->val, "quarantine", 10) == 0)
		    || (p->vlen == 6 && strncasecmp(p->val, "reject", 6) == 0))) {
	finding(c, ERR, "dmarc", "add p=none, p=quarantine or p=reject",
		"\"%s\": no valid p= policy", rec);
    } else {
	rua = dkim_tags_get(&tl, "rua");
	ruf = dkim_tags_get(&tl, "ruf");
	finding(c, p->val[0] == 'n' || p->val[0] == 'N' ? WARN : OK, "dmarc",
		p->val[0] == 'n' || p->val[0] == 'N' ? "move to p=quarantine, then p=reject,"
		" once the aggregate reports show only your own mail failing" : NULL,
		"policy p=%.*s; rua=%.*s; ruf=%.*s", (int) p->vlen, p->val,
		rua ? (int) rua->vlen : 1, rua ? rua->val : "-",
		ruf ? (int) ruf->vlen : 1, ruf ? ruf->val : "-");
	if (rua == NULL)
	    finding(c, WARN, "dmarc", "add rua=mailto:... to receive aggregate reports",
		    "no rua=: nobody sees the reports");
    }
    buf_free(&name);
}

/* fcrdns - 1 the address's PTR names a host whose addresses include it;
 * *ptr gets the first PTR name ("" none); -1 a lookup failed */
static int fcrdns(struct dc *c, const struct inet_addr *ip, char *ptr, size_t ptrlen)
{
    char    text[64], rev[128];
    struct dns_answer *a;

    ptr[0] = 0;
    inet_format(ip, text, sizeof(text));
    if (dns_reverse_name(text, ip->family == AF_INET ? "in-addr.arpa" : "ip6.arpa", rev,
			 sizeof(rev)) < 0)
	return 0;
    a = q(c, rev, DNS_T_PTR);
    if (a->status == DNS_TEMPFAIL)
	return -1;
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	char   *host = xstrdup(a->rr[i].name);
	struct dns_answer *f = q(c, host, ip->family == AF_INET ? DNS_T_A : DNS_T_AAAA);

	if (i == 0)
	    snprintf(ptr, ptrlen, "%s", host);
	for (size_t j = 0; f->status == DNS_OK && j < f->n; j++) {
	    char    t2[64];

	    inet_format(&f->rr[j].addr, t2, sizeof(t2));
	    if (strcmp(t2, text) == 0) {
		snprintf(ptr, ptrlen, "%s", host);
		free(host);
		return 1;
	    }
	}
	free(host);
    }
    return 0;
}

/* check_host - each address of host has a forward-confirmed PTR */
static void check_host(struct dc *c, const char *check, const char *host, int helo)
{
    static const int types[] = {DNS_T_A, DNS_T_AAAA};
    int     naddr = 0;

    for (size_t t = 0; t < 2; t++) {
	struct dns_answer *a = q(c, host, types[t]);

	if (a->status == DNS_TEMPFAIL)
	    finding(c, ERR, check, "retry", "cannot check: the %s lookup of %s failed",
		    dns_type_name(types[t]), host);
	for (size_t i = 0; a->status == DNS_OK && i < a->n; i++) {
	    struct inet_addr ip = a->rr[i].addr;
	    char    text[64], ptr[256];
	    int     r = fcrdns(c, &ip, ptr, sizeof(ptr));

	    naddr++;
	    inet_format(&ip, text, sizeof(text));
	    if (r < 0)
		finding(c, ERR, check, "retry", "cannot check the PTR of %s", text);
	    else if (r == 0)
		finding(c, ERR, check, "ask the address's owner for a PTR naming a host that"
			" resolves back to it", "%s (%s): no forward-confirmed PTR%s%s", host,
			text, ptr[0] ? ", PTR " : "", ptr);
	    else if (helo && strcasecmp(ptr, host) != 0)
		finding(c, WARN, check, "make the PTR name myhostname (or set myhostname,"
			" and Postfix's smtp_helo_name, to the PTR name)",
			"%s (%s): PTR %s does not match the HELO name", host, text, ptr);
	    else
		finding(c, OK, check, NULL, "%s (%s): PTR %s confirmed", host, text, ptr);
	}
    }
    if (naddr == 0)
	finding(c, ERR, check, "publish an A or AAAA record", "%s has no address", host);
}

static void check_mx(struct dc *c)
{
    struct dns_answer *a = q(c, c->domain, DNS_T_MX);
    const char *me = config_str(c->conf, P_MYHOSTNAME);
    struct strlist hosts;

    if (a->status == DNS_TEMPFAIL) {
	finding(c, ERR, "mx", "retry", "cannot check: the MX lookup of %s failed", c->domain);
	return;
    }
    if (a->status != DNS_OK || a->n == 0) {
	finding(c, WARN, "mx", "publish MX records, or a null MX (\"MX 0 .\", RFC 7505) if"
		" the domain receives no mail", "%s has no MX record", c->domain);
    } else if (a->n == 1 && (a->rr[0].name[0] == 0 || strcmp(a->rr[0].name, ".") == 0)) {
	finding(c, OK, "mx", NULL, "null MX: %s receives no mail", c->domain);
    } else {
	strlist_init(&hosts);
	for (size_t i = 0; i < a->n; i++)
	    strlist_add(&hosts, a->rr[i].name);
	for (size_t i = 0; i < hosts.n; i++) {
	    if (hosts.v[i][0] == 0 || strcmp(hosts.v[i], ".") == 0)
		finding(c, ERR, "mx", "a null MX must be the only MX (RFC 7505)",
			"null MX among other MX records");
	    else
		check_host(c, "mx", hosts.v[i], 0);
	}
	strlist_free(&hosts);
    }
    if (me[0])
	check_host(c, "helo", me, 1);
}

static void check_txt(struct dc *c, const char *check, const char *label, const char *prefix,
		              const char *fix)
{
    struct buf name;
    const char *rec;
    enum dns_status st;
    int     n;

    buf_init(&name);
    buf_printf(&name, "%s.%s", label, c->domain);
    n = txt_with(c, name.s, prefix, &rec, &st);
    if (st == DNS_TEMPFAIL)
	finding(c, ERR, check, "retry", "cannot check: the TXT lookup of %s failed", name.s);
    else if (n == 0)
	finding(c, WARN, check, fix, "no %s record at %s", prefix, name.s);
    else if (n > 1)
	finding(c, ERR, check, "publish exactly one", "%d %s records at %s", n, prefix, name.s);
    else
	finding(c, OK, check, NULL, "%s", rec);
    buf_free(&name);
}

int     cmd_domain(const struct config *conf, int argc, char **argv)
{
    const char *resolver = NULL;
    struct strlist given;
    struct inet_addr ip;
    struct dc c;
    char    why[256];

    memset(&c, 0, sizeof(c));
    c.conf = conf;
    strlist_init(&given);
    if (argc < 2 || strcmp(argv[0], "check") != 0)
	goto usage;
    for (int i = 1; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--resolver") == 0)
	    resolver = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--address") == 0 && inet_parse(argv[i + 1], &ip) == 0)
	    strlist_add(&given, argv[++i]);
	else if (strcmp(a, "--json") == 0)
	    c.json = 1;
	else if (a[0] != '-' && c.domain == NULL && spf_valid_domain(a))
	    c.domain = a;
	else
	    goto usage;
    }
    if (c.domain == NULL)
	goto usage;
    if ((c.base = event_base_new()) == NULL)
	return 2;
    c.dns = dns_new(c.base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
		    (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why, sizeof(why));
    if (c.dns == NULL) {
	fprintf(stderr, "mxshield domain check: %s\n", why);
	return 2;
    }
    c.ls = lookupset_new(c.dns);
    lookupset_set_wakeup(c.ls, woken, NULL);
    buf_init(&c.out);
    if (c.json)
	buf_putc(&c.out, '[');
    check_spf(&c, &given);
    check_dkim(&c);
    check_dmarc(&c);
    check_mx(&c);
    check_txt(&c, "mta-sts", "_mta-sts", "v=STSv1",
	      "publish \"v=STSv1; id=YYYYMMDD01\" and the policy at"
	      " https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461)");
    check_txt(&c, "tls-rpt", "_smtp._tls", "v=TLSRPTv1",
	      "publish \"v=TLSRPTv1; rua=mailto:tlsrpt@DOMAIN\" (RFC 8460)");
    if (c.json)
	buf_puts(&c.out, "]\n");
    fputs(c.out.s, stdout);
    buf_free(&c.out);
    strlist_free(&given);
    lookupset_free(c.ls);
    dns_free(c.dns);
    event_base_free(c.base);
    return c.errors ? 1 : 0;
usage:
    strlist_free(&given);
    fprintf(stderr, "usage: mxshield domain [-c FILE] check DOMAIN [--resolver HOST:PORT]"
	    " [--address IP]... [--json]\n");
    return 2;
}
