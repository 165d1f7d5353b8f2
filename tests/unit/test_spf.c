/*
 * test_spf.c - SPF macro expansion and the sizes of its inputs: the RFC
 * 7208 7.4 examples, the 7.3 truncation against a plain model of it, a
 * hostile record and sender that must cost next to nothing, the
 * expansion cap one byte past, and RFC 5321's sizes of the local-part,
 * sender, domain, label and HELO name one byte past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spf/spf.h"
#include "spf/spf_impl.h"
#include "util/mailaddr.h"
#include "util/mem.h"

/*
 * A DNS made of rules: the TXT record of names ending in a suffix, an A
 * record (192.0.2.99) for names ending in ".ok.test"; the rest NXDOMAIN.
 * Every name asked is counted.
 */
static const char *txt_suffix, *txt_record;
static const char *a_exact;		/* this name's A record is the client */
static const char *exp_name = "exp.test", *exp_text = "%{l} may not send for %{d}";
static struct dns_answer *made[4096];
static size_t nmade, asked;

static int ends_with(const char *s, const char *suffix)
{
    size_t  n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static struct dns_answer *get(void *ctx, const char *name, int type)
{
    struct dns_answer *a;
    struct dns_rr rr;

    (void) ctx;
    asked++;
    memset(&rr, 0, sizeof(rr));
    if (type == DNS_T_TXT && strcmp(name, exp_name) == 0) {
	a = dns_answer_new(name, type, DNS_OK, NULL);
	rr.text = xstrdup(exp_text);
    } else if (type == DNS_T_TXT && txt_suffix && ends_with(name, txt_suffix)) {
	a = dns_answer_new(name, type, DNS_OK, NULL);
	rr.text = xstrdup(txt_record);
    } else if (type == DNS_T_A && a_exact && strcmp(name, a_exact) == 0) {
	/* the client, 192.0.2.3 */
	a = dns_answer_new(name, type, DNS_OK, NULL);
	rr.addr.family = AF_INET;
	rr.addr.b[0] = 192, rr.addr.b[2] = 2, rr.addr.b[3] = 3;
    } else if (type == DNS_T_A && ends_with(name, ".ok.test")) {
	a = dns_answer_new(name, type, DNS_OK, NULL);
	rr.addr.family = AF_INET;
	rr.addr.b[0] = 192, rr.addr.b[2] = 2, rr.addr.b[3] = 99;
    } else {
	a = dns_answer_new(name, type, DNS_NXDOMAIN, NULL);
    }
    if (a->status == DNS_OK) {
	a->rr = xcalloc(1, sizeof(*a->rr));
	a->rr[0] = rr;
	a->n = 1;
    }
    assert_true(nmade < sizeof(made) / sizeof(made[0]));
    return made[nmade++] = a;
}

static void prefetch(void *ctx, const char *name, int type)
{
    (void) ctx;
    (void) name;
    (void) type;
}

static void forget(void)
{
    for (size_t i = 0; i < nmade; i++)
	dns_answer_unref(made[i]);
    nmade = asked = 0;
}

/* check - spf_check of sender (helo for the HELO identity) with a record */
static enum spf_result check(const char *suffix, const char *record, const char *sender,
			             const char *helo, int helo_identity, struct spf_outcome *o)
{
    struct spf_dns dns = {get, prefetch, NULL};
    struct spf_request rq = {"192.0.2.3", sender, helo, "mx.test", 1700000000};

    txt_suffix = suffix;
    txt_record = record;
    assert_int_equal(spf_check(&dns, &rq, helo_identity, o), 0);
    forget();
    return o->result;
}

/* repeat - n copies of s */
static char *repeat(const char *s, size_t n)
{
    size_t  l = strlen(s);
    char   *out = xmalloc(l * n + 1);

    for (size_t i = 0; i < n; i++)
	memcpy(out + i * l, s, l);
    out[l * n] = 0;
    return out;
}

/* labels - a dotted name of exactly len characters ending in suffix */
static char *labels(size_t len, const char *suffix)
{
    size_t  sl = strlen(suffix);
    char   *out = xmalloc(len + 1);

    assert_true(len > sl);
    for (size_t i = 0; i < len - sl; i++)
	out[i] = (i % 10 == 9) ? '.' : 'a';
    if (out[len - sl - 1] == '.')
	out[len - sl - 1] = 'b';
    memcpy(out + len - sl, suffix, sl + 1);
    return out;
}

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* expand - spf_expand of spec in a context as RFC 7208 7.4 sets it */
static void expand_ok(const char *sender, const char *ip, const char *spec, const char *want)
{
    struct spf_ctx c;
    struct spf_outcome o;
    struct spf_request rq = {ip, sender, "mx.example.org", "mx.test", 1700000000};
    struct buf out;
    const char *at = strrchr(sender, '@');

    memset(&c, 0, sizeof(c));
    spf_outcome_init(&o);
    buf_init(&out);
    buf_init(&c.sender);
    buf_puts(&c.sender, sender);
    c.rq = &rq;
    c.o = &o;
    c.local = xstrndup(sender, (size_t) (at - sender));
    c.local_len = (size_t) (at - sender);
    c.sdomain = at + 1;
    assert_int_equal(inet_parse(ip, &c.ip), 0);
    assert_int_equal(spf_expand(&c, spec, strlen(spec), c.sdomain, 1, &out), 0);
    assert_string_equal(out.s, want);
    free((char *) c.local);
    buf_free(&c.sender);
    buf_free(&out);
    spf_outcome_free(&o);
}

/* RFC 7208 7.4's examples, and the URL escaping of upper-case letters */
static void test_rfc_examples(void **state)
{
    static const struct {
	const char *spec, *want;
    } t[] = {
	{"%{s}", "strong-bad@email.example.com"},
	{"%{o}", "email.example.com"},
	{"%{d}", "email.example.com"},
	{"%{d4}", "email.example.com"},
	{"%{d3}", "email.example.com"},
	{"%{d2}", "example.com"},
	{"%{d1}", "com"},
	{"%{dr}", "com.example.email"},
	{"%{d2r}", "example.email"},
	{"%{l}", "strong-bad"},
	{"%{l-}", "strong.bad"},
	{"%{lr}", "strong-bad"},
	{"%{lr-}", "bad.strong"},
	{"%{l1r-}", "strong"},
	{"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
	{"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
	{"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	{"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	{"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
	{"%{S}", "strong-bad%40email.example.com"},
	{"%{l1}", "strong-bad"},
	{"%{d9r}", "com.example.email"},
	{"a%%b%_c%-d", "a%b c%20d"},
	{"%{ir-}", "192.0.2.3"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
	expand_ok("strong-bad@email.example.com", "192.0.2.3", t[i].spec, t[i].want);
    expand_ok("strong-bad@email.example.com", "2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
	      "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
    /* empty parts stay, in order and reversed */
    expand_ok("a..b.@x.test", "192.0.2.3", "%{l}", "a..b.");
    expand_ok("a..b.@x.test", "192.0.2.3", "%{lr}", ".b..a");
    expand_ok("a..b.@x.test", "192.0.2.3", "%{l2r}", ".a");
    expand_ok("a..b.@x.test", "192.0.2.3", "%{l2}", "b.");
}

/*
 * The RFC 7208 test suite (rfc7208-tests.yml, from the reference
 * implementation): macro-mania-in-domain, %%, %_ and %- in a domain-spec
 * are looked up as expanded, spaces and all; v-macro-ip6, %{c} is the
 * address in its canonical text and %{ir} keeps the case it was given in.
 */
static void test_suite_macros(void **state)
{
    struct spf_outcome o;

    (void) state;
    spf_outcome_init(&o);
    a_exact = "macro%percent  space%20url-space.example.com";
    assert_int_equal(check("e1a.example.com",
			   "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all",
			   "test@e1a.example.com", "mail.example.com", 0, &o), SPF_PASS);
    a_exact = NULL;
    spf_outcome_free(&o);

    expand_ok("test@e4.example.com", "CAFE:BABE::1", "%{c} is queried as %{ir}.%{v}.arpa",
	      "cafe:babe::1 is queried as 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	      ".E.B.A.B.E.F.A.C.ip6.arpa");
    expand_ok("test@e4.example.com", "cafe:babe::1", "%{c} %{ir}",
	      "cafe:babe::1 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c");
    /* each nibble as written, groups before and after "::" */
    expand_ok("test@e4.example.com", "2001:DB8::cB01", "%{i}",
	      "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.B.0.1");
    expand_ok("test@e4.example.com", "[IPv6:Fe80::A:b]", "%{i}",
	      "F.e.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.A.0.0.0.b");
    expand_ok("test@e4.example.com", "::FFFF:1.2.3.4", "%{c}", "1.2.3.4");
}

/* truncate_model - RFC 7208 7.3 as written: drop the first label, again */
static void truncate_model(char *s)
{
    while (strlen(s) > 253) {
	char   *dot = strchr(s, '.');

	if (dot == NULL)
	    break;
	memmove(s, dot + 1, strlen(dot + 1) + 1);
    }
}

static void test_truncation(void **state)
{
    char    model[5000];
    struct buf b;

    (void) state;
    buf_init(&b);
    srand(11);
    for (int round = 0; round < 3000; round++) {
	size_t  len = (size_t) (rand() % 600);

	for (size_t i = 0; i < len; i++) {
	    int     r = rand() % (round % 3 == 0 ? 4 : 70);

	    model[i] = r == 0 ? '.' : 'a' + r % 26;
	}
	model[len] = 0;
	buf_reset(&b);
	buf_puts(&b, model);
	truncate_model(model);
	spf_truncate_domain(&b);
	assert_string_equal(b.s, model);
	assert_int_equal(b.len, strlen(model));
    }
    /* exactly 253 stays, 254 loses its first label */
    char   *n = labels(253, ".test");

    buf_reset(&b);
    buf_puts(&b, n);
    spf_truncate_domain(&b);
    assert_string_equal(b.s, n);
    free(n);
    n = labels(254, ".test");
    buf_reset(&b);
    buf_puts(&b, n);
    spf_truncate_domain(&b);
    assert_string_equal(b.s, strchr(n, '.') + 1);
    free(n);
    buf_free(&b);
}

/*
 * The record of issue 11: hundreds of %{s} in 2 KB, and a 1.9 KB sender
 * of many labels.  It used to cost half a second (a 950 KB expansion,
 * then one memmove per label).  Now the sender is longer than RFC 5321
 * allows, so %{s} makes no name: no match, and -all fails it, at once.
 * With the longest sender RFC 5321 allows (254) the expansion stops at
 * SPF_EXPAND_MAX: permerror, at once too.
 */
static void test_hostile_record_is_cheap(void **state)
{
    struct spf_outcome o;
    char   *macros = repeat("%{s}", 505);
    char    record[2100];
    char   *local = repeat("abcdefghi.", 192);
    char   *domain = labels(ADDR_TEXT_MAX - 2, ".hostile.test");
    char    sender[2000];

    (void) state;
    snprintf(record, sizeof(record), "v=spf1 a:%s -all", macros);
    assert_true(strlen(record) > 2000 && strlen(record) <= 2048);
    spf_outcome_init(&o);
    for (int longest = 0; longest <= 1; longest++) {
	double  t0, used = 0;
	int     runs = 0;

	if (longest)
	    snprintf(sender, sizeof(sender), "u@%s", domain);
	else
	    snprintf(sender, sizeof(sender), "%sx@h.hostile.test", local);
	assert_true(longest ? strlen(sender) == ADDR_TEXT_MAX : strlen(sender) > 1900);
	/* five runs, or fewer when one already took too long (before the fix) */
	while (runs < 5 && used < 1.0) {
	    t0 = cpu_seconds();
	    check(".hostile.test", record, sender, "mx.test", 0, &o);
	    used += cpu_seconds() - t0;
	    runs++;
	}
	printf("hostile record, %zu-octet sender: %.3f ms of CPU per check\n", strlen(sender),
	       used / runs * 1e3);
	assert_true(used / runs < 0.010);
	if (longest) {
	    assert_int_equal(o.result, SPF_PERMERROR);
	    assert_non_null(strstr(o.problem.s, "expands to more than 4096 bytes"));
	} else {
	    assert_int_equal(o.result, SPF_FAIL);
	    assert_non_null(strstr(o.trace.s, "longer than RFC 5321 allows: no domain, no match"));
	}
    }
    spf_outcome_free(&o);
    free(macros);
    free(local);
    free(domain);
}

/* SPF_EXPAND_MAX itself: a target of exactly that many bytes, then one more */
static void test_expansion_cap(void **state)
{
    struct spf_outcome o;
    char    record[SPF_EXPAND_MAX + 100];

    (void) state;
    spf_outcome_init(&o);
    for (int extra = 0; extra <= 1; extra++) {
	/* "cap.test." (9) and literal labels ending in .ok.test: truncated
	 * to 253, the name still ends there and has an A record */
	char   *lit = labels(SPF_EXPAND_MAX + (size_t) extra - 9, ".ok.test");

	snprintf(record, sizeof(record), "v=spf1 exists:%%{d}.%s -all", lit);
	enum spf_result r = check("cap.test", record, "u@cap.test", "mx.test", 0, &o);

	if (extra == 0) {
	    assert_int_equal(r, SPF_PASS);
	} else {
	    assert_int_equal(r, SPF_PERMERROR);
	    assert_non_null(strstr(o.problem.s, "expands to more than 4096 bytes"));
	}
	free(lit);
    }
    spf_outcome_free(&o);
}

/* RFC 5321's local-part (64) and sender (254) sizes for %{l} and %{s} */
static void test_local_part_and_sender_sizes(void **state)
{
    struct spf_outcome o;
    char    sender[600];

    (void) state;
    spf_outcome_init(&o);
    for (int extra = 0; extra <= 1; extra++) {
	char   *local = labels(ADDR_LOCAL_MAX + (size_t) extra, "z");

	snprintf(sender, sizeof(sender), "%s@l.test", local);
	assert_int_equal(check("l.test", "v=spf1 exists:%{l}.ok.test -all", sender, "mx.test",
			       0, &o), extra ? SPF_FAIL : SPF_PASS);
	if (extra)
	    assert_non_null(strstr(o.trace.s, "longer than RFC 5321 allows: no domain"));
	/* the domain alone still decides: no escape from a fail by padding */
	assert_int_equal(check("l.test", "v=spf1 -all", sender, "mx.test", 0, &o), SPF_FAIL);
	free(local);
    }
    for (int extra = 0; extra <= 1; extra++) {
	/* 40 + 1 + 213 = 254: the longest sender, then 255 */
	char   *local = labels(40, "z");
	char   *domain = labels(213 + (size_t) extra, ".s.test");

	snprintf(sender, sizeof(sender), "%s@%s", local, domain);
	free(local);
	assert_int_equal(strlen(sender), ADDR_TEXT_MAX + (size_t) extra);
	assert_int_equal(check(".s.test", "v=spf1 exists:%{s}.ok.test -all", sender, "mx.test",
			       0, &o), extra ? SPF_FAIL : SPF_PASS);
	free(domain);
    }
    /* an explanation of %{l}: given for 64, the default for 65 */
    for (int extra = 0; extra <= 1; extra++) {
	char   *local = labels(ADDR_LOCAL_MAX + (size_t) extra, "z");

	snprintf(sender, sizeof(sender), "%s@l.test", local);
	assert_int_equal(check("l.test", "v=spf1 -all exp=exp.test", sender, "mx.test", 0, &o),
			 SPF_FAIL);
	if (extra)
	    assert_string_equal(o.explanation.s,
				"192.0.2.3 is not a designated mail server for l.test");
	else
	    assert_true(strncmp(o.explanation.s, local, ADDR_LOCAL_MAX) == 0
			&& strcmp(o.explanation.s + ADDR_LOCAL_MAX, " may not send for l.test") == 0);
	assert_int_equal(o.problem.len, 0);
	free(local);
    }
    spf_outcome_free(&o);
}

/* RFC 7208 4.3 / RFC 1035: a domain of 254 characters or a 64-octet label: none */
static void test_domain_sizes(void **state)
{
    struct spf_outcome o;
    char    sender[600];

    (void) state;
    spf_outcome_init(&o);
    for (int extra = 0; extra <= 1; extra++) {
	char   *domain = labels(DNS_NAME_MAX + (size_t) extra, ".d.test");

	snprintf(sender, sizeof(sender), "u@%s", domain);
	assert_int_equal(check(".d.test", "v=spf1 -all", sender, "mx.test", 0, &o),
			 extra ? SPF_NONE : SPF_FAIL);
	if (extra)
	    assert_non_null(strstr(o.trace.s, "not a valid domain name (254 characters"));
	/* the same name as HELO identity */
	assert_int_equal(check(".d.test", "v=spf1 -all", "", domain, 1, &o),
			 extra ? SPF_NONE : SPF_FAIL);
	free(domain);
    }
    for (int extra = 0; extra <= 1; extra++) {
	char   *label = repeat("q", DNS_LABEL_MAX + (size_t) extra);

	snprintf(sender, sizeof(sender), "u@%s.d.test", label);
	assert_int_equal(check(".d.test", "v=spf1 -all", sender, "mx.test", 0, &o),
			 extra ? SPF_NONE : SPF_FAIL);
	free(label);
    }
    spf_outcome_free(&o);
}

/* RFC 5321's domain size (255) for %{h} */
static void test_helo_size(void **state)
{
    struct spf_outcome o;

    (void) state;
    spf_outcome_init(&o);
    for (int extra = 0; extra <= 1; extra++) {
	char   *helo = labels(ADDR_DOMAIN_MAX + (size_t) extra, ".ok.test");

	/* truncated to 253, the name still ends in .ok.test */
	assert_int_equal(check("h.test", "v=spf1 exists:%{h} -all", "u@h.test", helo, 0, &o),
			 extra ? SPF_FAIL : SPF_PASS);
	free(helo);
    }
    spf_outcome_free(&o);
}

/* a record of a thousand terms: each is parsed, only ten may look up */
static void test_many_terms(void **state)
{
    struct spf_outcome o;
    char   *terms = repeat(" a:%{d}.ok.test", 130);
    char    record[2100];
    double  t0;

    (void) state;
    snprintf(record, sizeof(record), "v=spf1%s -all", terms);
    spf_outcome_init(&o);
    t0 = cpu_seconds();
    assert_int_equal(check("m.test", record, "u@m.test", "mx.test", 0, &o), SPF_PERMERROR);
    assert_true(cpu_seconds() - t0 < 0.010);
    assert_non_null(strstr(o.problem.s, "more than 10 DNS-querying terms"));
    spf_outcome_free(&o);
    free(terms);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc_examples),
	cmocka_unit_test(test_suite_macros),
	cmocka_unit_test(test_truncation),
	cmocka_unit_test(test_hostile_record_is_cheap),
	cmocka_unit_test(test_expansion_cap),
	cmocka_unit_test(test_local_part_and_sender_sizes),
	cmocka_unit_test(test_domain_sizes),
	cmocka_unit_test(test_helo_size),
	cmocka_unit_test(test_many_terms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
