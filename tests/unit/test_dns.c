/*
 * test_dns.c - the DNS answer parser against well-formed and hostile
 * packets, reverse names, DNS list filters and reply templates; the
 * answer cache's byte bound and eviction order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/cache.h"
#include "dns/dns.h"
#include "util/mem.h"
#include "rules/dnsxl.h"
#include "rules/policy.h"
#include "dns_packet.h"

static void header(struct pkt *p, unsigned rcode, unsigned an, unsigned ns)
{
    p->n = 0;
    put16(p, 0x1234);
    put16(p, 0x8180 | rcode);
    put16(p, 1);
    put16(p, an);
    put16(p, ns);
    put16(p, 0);
}

static void question(struct pkt *p, const char *name, unsigned type)
{
    putname(p, name);
    put16(p, type);
    put16(p, 1);
}

/* rr - owner as a pointer to the question name (offset 12) or a name */
static void rr(struct pkt *p, const char *owner, unsigned type, uint32_t ttl)
{
    if (owner == NULL) {
	put16(p, 0xc00c);
    } else {
	putname(p, owner);
    }
    put16(p, type);
    put16(p, 1);
    put32(p, ttl);
}

static void rdata_a(struct pkt *p, unsigned a, unsigned b, unsigned c, unsigned d)
{
    put16(p, 4);
    put8(p, a);
    put8(p, b);
    put8(p, c);
    put8(p, d);
}

static void test_a_record(void **state)
{
    struct pkt p;
    struct dns_answer *a;
    char    text[64];

    (void) state;
    header(&p, 0, 2, 0);
    question(&p, "mail.good.test", DNS_T_A);
    rr(&p, NULL, DNS_T_A, 300);
    rdata_a(&p, 192, 0, 2, 10);
    rr(&p, NULL, DNS_T_A, 120);
    rdata_a(&p, 192, 0, 2, 11);
    a = dns_parse(p.b, p.n, "Mail.Good.Test.", DNS_T_A);
    assert_int_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 2);
    assert_int_equal(a->ttl, 120);		/* the smallest TTL */
    inet_format(&a->rr[1].addr, text, sizeof(text));
    assert_string_equal(text, "192.0.2.11");
    dns_answer_unref(a);
}

/*
 * Owner names are matched byte for byte: an SPF expansion can ask for
 * "macro%percent  space.test" (RFC 7208 7.1's %% and %_), whose spaces
 * must find the record; a label holding a '.' is not two labels.
 */
static void test_exact_owner_names(void **state)
{
    struct pkt p;
    struct dns_answer *a;
    char    text[64];

    (void) state;
    header(&p, 0, 3, 0);
    question(&p, "macro%percent  space.test", DNS_T_A);
    rr(&p, "macro%percent??space.test", DNS_T_A, 300);	/* not it */
    rdata_a(&p, 192, 0, 2, 1);
    rr(&p, "MACRO%percent  SPACE.test", DNS_T_A, 300);	/* it */
    rdata_a(&p, 192, 0, 2, 2);
    rr(&p, NULL, DNS_T_A, 300);				/* it too */
    rdata_a(&p, 192, 0, 2, 3);
    a = dns_parse(p.b, p.n, "macro%percent  space.test", DNS_T_A);
    assert_int_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 2);
    inet_format(&a->rr[0].addr, text, sizeof(text));
    assert_string_equal(text, "192.0.2.2");
    dns_answer_unref(a);

    /* "a.b" as one label, then as two; and a backslash in a label */
    header(&p, 0, 3, 0);
    question(&p, "a.b.test", DNS_T_A);
    put8(&p, 3);
    memcpy(p.b + p.n, "a.b", 3);
    p.n += 3;
    putname(&p, "test");
    put16(&p, DNS_T_A), put16(&p, 1), put32(&p, 300);
    rdata_a(&p, 192, 0, 2, 4);
    rr(&p, "a.b.test", DNS_T_A, 300);
    rdata_a(&p, 192, 0, 2, 5);
    rr(&p, "a\\.b.test", DNS_T_A, 300);
    rdata_a(&p, 192, 0, 2, 6);
    a = dns_parse(p.b, p.n, "a.b.test", DNS_T_A);
    assert_int_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 1);
    inet_format(&a->rr[0].addr, text, sizeof(text));
    assert_string_equal(text, "192.0.2.5");
    dns_answer_unref(a);
    a = dns_parse(p.b, p.n, "a\\.b.test", DNS_T_A);
    assert_int_equal(a->n, 1);
    inet_format(&a->rr[0].addr, text, sizeof(text));
    assert_string_equal(text, "192.0.2.6");
    dns_answer_unref(a);
}

/*
 * A NUL inside a label is a byte of the name, not its end: an owner
 * "good" + "test\0evil" is not good.test, and a CNAME to
 * "victim.test\0x" does not lead to victim.test's records.
 */
static void test_nul_in_label(void **state)
{
    struct pkt p;
    struct dns_answer *a;

    (void) state;
    header(&p, 0, 1, 0);
    question(&p, "good.test", DNS_T_A);
    putname(&p, "good");
    p.n--;				/* continue the name: label "test\0evil" */
    put8(&p, 9);
    memcpy(p.b + p.n, "test\0evil", 9);
    p.n += 9;
    put8(&p, 0);
    put16(&p, DNS_T_A), put16(&p, 1), put32(&p, 300);
    rdata_a(&p, 192, 0, 2, 66);
    a = dns_parse(p.b, p.n, "good.test", DNS_T_A);
    assert_int_equal(a->status, DNS_NODATA);
    assert_int_equal(a->n, 0);
    dns_answer_unref(a);

    /* the same byte in a CNAME's target */
    header(&p, 0, 2, 0);
    question(&p, "alias.test", DNS_T_A);
    rr(&p, NULL, DNS_T_CNAME, 300);
    put16(&p, 15);
    putname(&p, "victim");
    p.n--;				/* continue the name: label "test\0x" */
    put8(&p, 6);
    memcpy(p.b + p.n, "test\0x", 6);
    p.n += 6;
    put8(&p, 0);
    rr(&p, "victim.test", DNS_T_A, 300);
    rdata_a(&p, 192, 0, 2, 67);
    a = dns_parse(p.b, p.n, "alias.test", DNS_T_A);
    assert_int_not_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 0);
    dns_answer_unref(a);
}

static void test_cname_chain(void **state)
{
    struct pkt p;
    struct dns_answer *a;
    (void) state;
    header(&p, 0, 3, 0);
    question(&p, "www.good.test", DNS_T_A);
    /* www -> alias.good.test -> real.good.test -> A; plus a stray A */
    rr(&p, NULL, DNS_T_CNAME, 300);
    put16(&p, 17);
    putname(&p, "alias.good.test");
    rr(&p, "alias.good.test", DNS_T_CNAME, 60);
    put16(&p, 16);
    putname(&p, "real.good.test");
    rr(&p, "real.good.test", DNS_T_A, 300);
    rdata_a(&p, 198, 51, 100, 1);
    a = dns_parse(p.b, p.n, "www.good.test", DNS_T_A);
    assert_int_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->ttl, 60);		/* the chain's smallest TTL */
    assert_int_equal(a->rr[0].addr.b[0], 198);
    dns_answer_unref(a);

    /* records for another name are not the answer */
    header(&p, 0, 1, 0);
    question(&p, "www.good.test", DNS_T_A);
    rr(&p, "evil.test", DNS_T_A, 300);
    rdata_a(&p, 203, 0, 113, 66);
    a = dns_parse(p.b, p.n, "www.good.test", DNS_T_A);
    assert_int_equal(a->status, DNS_NODATA);
    dns_answer_unref(a);
}

static void test_negative_answers(void **state)
{
    struct pkt p;
    struct dns_answer *a;

    (void) state;
    /* NXDOMAIN with an SOA: negative TTL = min(SOA TTL, minimum) */
    header(&p, 3, 0, 1);
    question(&p, "nope.good.test", DNS_T_A);
    rr(&p, "good.test", DNS_T_SOA, 900);
    size_t  len_at = p.n;

    put16(&p, 0);
    size_t  start = p.n;

    putname(&p, "ns.good.test");
    putname(&p, "hostmaster.good.test");
    put32(&p, 1);
    put32(&p, 3600);
    put32(&p, 600);
    put32(&p, 86400);
    put32(&p, 45);
    p.b[len_at] = (unsigned char) ((p.n - start) >> 8);
    p.b[len_at + 1] = (unsigned char) ((p.n - start) & 0xff);
    a = dns_parse(p.b, p.n, "nope.good.test", DNS_T_A);
    assert_int_equal(a->status, DNS_NXDOMAIN);
    assert_int_equal(a->ttl, 45);
    dns_answer_unref(a);

    /* NOERROR without records: no data */
    header(&p, 0, 0, 0);
    question(&p, "txtonly.good.test", DNS_T_MX);
    a = dns_parse(p.b, p.n, "txtonly.good.test", DNS_T_MX);
    assert_int_equal(a->status, DNS_NODATA);
    dns_answer_unref(a);

    /* SERVFAIL and REFUSED are temporary, with the reason */
    header(&p, 2, 0, 0);
    question(&p, "x.test", DNS_T_A);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    assert_non_null(strstr(a->why, "SERVFAIL"));
    dns_answer_unref(a);
    header(&p, 5, 0, 0);
    question(&p, "x.test", DNS_T_A);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    assert_non_null(strstr(a->why, "REFUSED"));
    dns_answer_unref(a);
}

static void test_mx_txt_ptr(void **state)
{
    struct pkt p;
    struct dns_answer *a;

    (void) state;
    /* null MX */
    header(&p, 0, 1, 0);
    question(&p, "nullmx.test", DNS_T_MX);
    rr(&p, NULL, DNS_T_MX, 300);
    put16(&p, 3);
    put16(&p, 0);
    put8(&p, 0);
    a = dns_parse(p.b, p.n, "nullmx.test", DNS_T_MX);
    assert_int_equal(a->status, DNS_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->rr[0].pref, 0);
    assert_string_equal(a->rr[0].name, "");
    dns_answer_unref(a);

    /* TXT: character-strings joined, control characters shown as '?' */
    header(&p, 0, 1, 0);
    question(&p, "2.0.0.127.dnsbl.test", DNS_T_TXT);
    rr(&p, NULL, DNS_T_TXT, 300);
    put16(&p, 12);
    put8(&p, 5);
    memcpy(p.b + p.n, "spam ", 5);
    p.n += 5;
    put8(&p, 5);
    memcpy(p.b + p.n, "s\nurc", 5);
    p.n += 5;
    a = dns_parse(p.b, p.n, "2.0.0.127.dnsbl.test", DNS_T_TXT);
    assert_int_equal(a->status, DNS_OK);
    assert_string_equal(a->rr[0].text, "spam s?urc");
    dns_answer_unref(a);

    /* PTR: upper case folded, a dot or a space inside a label is '?' */
    header(&p, 0, 1, 0);
    question(&p, "10.2.0.192.in-addr.arpa", DNS_T_PTR);
    rr(&p, NULL, DNS_T_PTR, 300);
    put16(&p, 17);
    put8(&p, 5);
    memcpy(p.b + p.n, "Ma.l ", 5);
    p.n += 5;
    put8(&p, 4);
    memcpy(p.b + p.n, "GOOD", 4);
    p.n += 4;
    put8(&p, 4);
    memcpy(p.b + p.n, "test", 4);
    p.n += 4;
    put8(&p, 0);
    a = dns_parse(p.b, p.n, "10.2.0.192.in-addr.arpa", DNS_T_PTR);
    assert_int_equal(a->status, DNS_OK);
    assert_string_equal(a->rr[0].name, "ma?l?.good.test");
    dns_answer_unref(a);
}

/* hostile packets: every one a temporary failure, none a crash */
static void test_hostile(void **state)
{
    struct pkt p;
    struct dns_answer *a;

    (void) state;
    /* short header */
    a = dns_parse((const unsigned char *) "\x12\x34\x81", 3, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* a compression pointer to itself */
    header(&p, 0, 1, 0);
    question(&p, "x.test", DNS_T_A);
    size_t  self = p.n;

    put8(&p, 0xc0 | (unsigned) (self >> 8));
    put8(&p, (unsigned) (self & 0xff));
    put16(&p, DNS_T_A);
    put16(&p, 1);
    put32(&p, 1);
    rdata_a(&p, 1, 2, 3, 4);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* a pointer forward (past the end) */
    header(&p, 0, 1, 0);
    question(&p, "x.test", DNS_T_A);
    put16(&p, 0xc000 | 1000);
    put16(&p, DNS_T_A);
    put16(&p, 1);
    put32(&p, 1);
    rdata_a(&p, 1, 2, 3, 4);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* rdata length beyond the packet */
    header(&p, 0, 1, 0);
    question(&p, "x.test", DNS_T_A);
    rr(&p, NULL, DNS_T_A, 1);
    put16(&p, 400);
    put32(&p, 0);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* an A record with 5 bytes of data */
    header(&p, 0, 1, 0);
    question(&p, "x.test", DNS_T_A);
    rr(&p, NULL, DNS_T_A, 1);
    put16(&p, 5);
    put32(&p, 0x7f000002);
    put8(&p, 9);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* a label longer than 63 bytes (0x40 is a reserved label type) */
    header(&p, 0, 0, 0);
    put8(&p, 64);
    memset(p.b + p.n, 'a', 64);
    p.n += 64;
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, 1);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* a name longer than 255 bytes */
    header(&p, 0, 0, 0);
    for (int i = 0; i < 5; i++) {
	put8(&p, 63);
	memset(p.b + p.n, 'b', 63);
	p.n += 63;
    }
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, 1);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* more records announced than present */
    header(&p, 0, 3, 0);
    question(&p, "x.test", DNS_T_A);
    rr(&p, NULL, DNS_T_A, 1);
    rdata_a(&p, 127, 0, 0, 2);
    a = dns_parse(p.b, p.n, "x.test", DNS_T_A);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    dns_answer_unref(a);

    /* every truncation of a valid packet is handled */
    header(&p, 0, 1, 0);
    question(&p, "x.test", DNS_T_MX);
    rr(&p, NULL, DNS_T_MX, 1);
    put16(&p, 2 + 9);
    put16(&p, 10);
    putname(&p, "mx.test");
    for (size_t cut = 0; cut < p.n; cut++) {
	a = dns_parse(p.b, cut, "x.test", DNS_T_MX);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	dns_answer_unref(a);
    }
    a = dns_parse(p.b, p.n, "x.test", DNS_T_MX);
    assert_int_equal(a->status, DNS_OK);
    assert_string_equal(a->rr[0].name, "mx.test");
    dns_answer_unref(a);
}

static void test_reverse_names(void **state)
{
    char    out[256];

    (void) state;
    assert_int_equal(dns_reverse_name("192.0.2.10", "in-addr.arpa", out, sizeof(out)), 0);
    assert_string_equal(out, "10.2.0.192.in-addr.arpa");
    assert_int_equal(dns_reverse_name("::ffff:192.0.2.99", "dnsbl.test", out, sizeof(out)), 0);
    assert_string_equal(out, "99.2.0.192.dnsbl.test");
    assert_int_equal(dns_reverse_name("2001:db8::1", "ip6.arpa", out, sizeof(out)), 0);
    assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(dns_reverse_name("not-an-address", "x", out, sizeof(out)), -1);
    assert_int_equal(dns_reverse_name("192.0.2.10", "in-addr.arpa", out, 10), -1);
}

static void test_dnsxl_filters(void **state)
{
    struct buf err;
    struct dnsxl *xl;
    struct inet_addr a;

    (void) state;
    buf_init(&err);
    xl = dnsxl_parse("zen.spamhaus.org=127.0.0.[2..11]", &err);
    assert_non_null(xl);
    assert_string_equal(xl->domain, "zen.spamhaus.org");
    inet_parse("127.0.0.2", &a);
    assert_true(dnsxl_match(xl, &a));
    inet_parse("127.0.0.11", &a);
    assert_true(dnsxl_match(xl, &a));
    inet_parse("127.0.0.12", &a);
    assert_false(dnsxl_match(xl, &a));
    inet_parse("127.0.0.1", &a);
    assert_false(dnsxl_match(xl, &a));
    dnsxl_free(xl);

    xl = dnsxl_parse("list.dnswl.org=127.0.[0..255].[1;3]", &err);
    assert_non_null(xl);
    inet_parse("127.0.15.3", &a);
    assert_true(dnsxl_match(xl, &a));
    inet_parse("127.0.15.2", &a);
    assert_false(dnsxl_match(xl, &a));
    dnsxl_free(xl);

    xl = dnsxl_parse("bl.test", &err);
    assert_non_null(xl);
    assert_false(xl->filter);
    inet_parse("127.0.0.77", &a);
    assert_true(dnsxl_match(xl, &a));
    dnsxl_free(xl);

    static const char *bad[] = {"x.test=127.0.0", "x.test=127.0.0.256", "x.test=127.0.0.[3..2]",
	"x.test=127.0.0.[1", "x.test=127.0.0.1.5", "x.test=a.b.c.d", "nodot", "=127.0.0.2",
    "x.test=127.0.0.[1;]"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	buf_reset(&err);
	assert_null(dnsxl_parse(bad[i], &err));
	assert_true(err.len > 0);
    }
    /* answers that mean "refused", never "listed" */
    inet_parse("127.255.255.254", &a);
    assert_true(dnsxl_error_code(&a));
    inet_parse("127.255.255.252", &a);
    assert_true(dnsxl_error_code(&a));
    inet_parse("127.0.0.255", &a);
    assert_true(dnsxl_error_code(&a));
    inet_parse("198.51.100.1", &a);
    assert_true(dnsxl_error_code(&a));
    inet_parse("127.0.0.2", &a);
    assert_false(dnsxl_error_code(&a));
    buf_free(&err);
}

static const char *tlookup(const char *name, void *ctx)
{
    (void) ctx;
    if (strcmp(name, "rbl_code") == 0)
	return "554";
    if (strcmp(name, "rbl_reason") == 0)
	return "listed";
    if (strcmp(name, "empty") == 0)
	return "";
    return NULL;
}

static void test_templates(void **state)
{
    struct buf b;

    (void) state;
    buf_init(&b);
    assert_int_equal(template_expand("$rbl_code x${rbl_reason?; $rbl_reason}", &b, tlookup, NULL, 0), 0);
    assert_string_equal(b.s, "554 x; listed");
    buf_reset(&b);
    assert_int_equal(template_expand("a${empty?; no}b${empty:yes}c$$", &b, tlookup, NULL, 0), 0);
    assert_string_equal(b.s, "abyesc$");
    buf_reset(&b);
    assert_int_equal(template_expand("$(rbl_code)", &b, tlookup, NULL, 0), 0);
    assert_string_equal(b.s, "554");
    buf_reset(&b);
    assert_int_equal(template_expand("$unknown", &b, tlookup, NULL, 0), -1);
    buf_reset(&b);
    assert_int_equal(template_expand("${rbl_code", &b, tlookup, NULL, 0), -1);
    buf_free(&b);
}

/* an answer of n TXT records of len bytes each, as dns_parse makes them */
static struct dns_answer *txt_answer(const char *name, size_t n, size_t len)
{
    struct dns_answer *a = dns_answer_new(name, DNS_T_TXT, n ? DNS_OK : DNS_NODATA, NULL);

    a->ttl = 3600;
    if (n > 0)
	a->rr = xcalloc(n, sizeof(*a->rr));
    for (size_t i = 0; i < n; i++) {
	a->rr[i].ttl = 3600;
	a->rr[i].text = xmalloc(len + 1);
	memset(a->rr[i].text, 'x', len);
	a->rr[i].text[len] = 0;
    }
    a->n = n;
    return a;
}

static void cache_key(char *key, size_t size, int i)
{
    snprintf(key, size, "16/name-%06d.example.test", i);
}

/* heap bytes in use (glibc); 0 where the allocator does not say (ASan) */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

/* a cache of 1 MB fed 4,000 answers of 8 TXT records of 2,000 bytes:
 * never more than 1 MB charged, nor more heap than that (and 16 KB for
 * whatever else the test allocates); an answer
 * over 1/16 of the bound is not kept */
static void test_cache_txt_bound(void **state)
{
    const size_t bound = 1 << 20;
    struct dns_cache *c;
    struct dns_answer *a;
    char    key[64];
    size_t  heap0, most = 0;

    (void) state;
    heap0 = heap_in_use();
    c = dns_cache_new(bound);
    assert_true(dns_cache_bytes(c) < bound / 16);	/* the bucket array */
    for (int i = 0; i < 4000; i++) {
	cache_key(key, sizeof(key), i);
	a = txt_answer(key, 8, 2000);
	assert_true(dns_answer_bytes(a) > 8 * 2000);
	dns_cache_put(c, key, a, 1000);
	dns_answer_unref(a);		/* the cache holds the only reference */
	assert_true(dns_cache_bytes(c) <= bound);
	if (heap0 && heap_in_use() > heap0 + bound + 16384)	/* + stdio, cmocka */
	    fail_msg("heap grew by %zu bytes at %d, cache says %zu", heap_in_use() - heap0, i, dns_cache_bytes(c));
	if (dns_cache_count(c) > most)
	    most = dns_cache_count(c);
    }
    /* full, not flushed: it holds what fits of 16 KB answers */
    assert_true(most >= 50 && most <= 64);
    assert_true(dns_cache_count(c) >= most - 1);
    assert_true(dns_cache_bytes(c) > bound - 2 * (bound / 16));

    /* too big for the cache: not kept, and nothing else goes for it */
    size_t  before = dns_cache_count(c);

    a = txt_answer("16/huge.example.test", 40, 2000);
    assert_true(dns_answer_bytes(a) > bound / 16);
    dns_cache_put(c, "16/huge.example.test", a, 1000);
    assert_null(dns_cache_get(c, "16/huge.example.test", 1000));
    assert_int_equal(dns_cache_count(c), before);
    dns_answer_unref(a);
    dns_cache_free(c);
    if (heap0)
	assert_true(heap_in_use() <= heap0 + 16384);
}

/* least recently used goes first: an entry just read survives, the oldest
 * goes; one insertion into a full cache evicts one entry, never all */
/* the largest answer kept: costing exactly bound / 16, and one byte more */
static void test_cache_entry_share(void **state)
{
    const char *key = "16/share.example.test";
    struct dns_cache *c;
    struct dns_answer *a = txt_answer(key, 4, 1000);
    size_t  cost, before;

    (void) state;
    /* what the entry costs: the bytes charged for it in a roomy cache */
    c = dns_cache_new(1 << 24);
    before = dns_cache_bytes(c);
    dns_cache_put(c, key, a, 1000);
    assert_non_null(dns_cache_get(c, key, 1000));
    cost = dns_cache_bytes(c) - before;
    assert_true(cost > dns_answer_bytes(a));	/* the node and key too */
    dns_cache_free(c);

    c = dns_cache_new(cost * DNS_CACHE_ENTRY_SHARE);
    dns_cache_put(c, key, a, 1000);
    assert_ptr_equal(dns_cache_get(c, key, 1000), a);
    assert_true(dns_cache_bytes(c) <= cost * DNS_CACHE_ENTRY_SHARE);
    dns_cache_free(c);

    c = dns_cache_new(cost * DNS_CACHE_ENTRY_SHARE - 1);
    dns_cache_put(c, key, a, 1000);
    assert_null(dns_cache_get(c, key, 1000));
    assert_int_equal(dns_cache_count(c), 0);
    dns_cache_free(c);
    assert_int_equal(a->refs, 1);		/* every cache let go of it */
    dns_answer_unref(a);
}

static void test_cache_lru(void **state)
{
    struct dns_cache *c = dns_cache_new(64 << 10);
    struct dns_answer *a;
    char    key[64];
    int     n = 0;
    size_t  full;

    (void) state;
    /* fill with equal answers until the first eviction */
    for (;;) {
	cache_key(key, sizeof(key), n);
	a = txt_answer(key, 1, 100);
	dns_cache_put(c, key, a, 1000);
	dns_answer_unref(a);
	if (dns_cache_count(c) < (size_t) n + 1)
	    break;
	n++;
    }
    full = dns_cache_count(c);
    assert_int_equal(full, (size_t) n);	/* name-0 went for name-n */
    cache_key(key, sizeof(key), 0);
    assert_null(dns_cache_get(c, key, 1000));
    /* name-1 is now the oldest: read it, and name-2 goes next instead */
    cache_key(key, sizeof(key), 1);
    assert_non_null(dns_cache_get(c, key, 1000));
    cache_key(key, sizeof(key), n + 1);
    a = txt_answer(key, 1, 100);
    dns_cache_put(c, key, a, 1000);
    dns_answer_unref(a);
    assert_int_equal(dns_cache_count(c), full);
    cache_key(key, sizeof(key), 1);
    assert_non_null(dns_cache_get(c, key, 1000));
    cache_key(key, sizeof(key), 2);
    assert_null(dns_cache_get(c, key, 1000));
    cache_key(key, sizeof(key), 3);
    assert_non_null(dns_cache_get(c, key, 1000));

    /* many more insertions: the count stays at full, never drops to 0 */
    for (int i = n + 2; i < n + 2 + 10 * n; i++) {
	cache_key(key, sizeof(key), i);
	a = txt_answer(key, 1, 100);
	dns_cache_put(c, key, a, 1000);
	dns_answer_unref(a);
	assert_int_equal(dns_cache_count(c), full);
    }
    dns_cache_free(c);
}

/* TTLs: an expired answer is not returned and is dropped; a newer answer
 * replaces an older one; TEMPFAIL and TTL 0 are not kept; size 0 keeps
 * nothing */
static void test_cache_ttl(void **state)
{
    struct dns_cache *c = dns_cache_new(64 << 10), *none = dns_cache_new(0);
    struct dns_answer *a = txt_answer("16/t.test", 1, 10), *b = txt_answer("16/t.test", 2, 10);
    struct dns_answer *tf = dns_answer_new("16/f.test", DNS_T_TXT, DNS_TEMPFAIL, "x");

    (void) state;
    a->ttl = 60;
    dns_cache_put(c, "16/t.test", a, 1000);
    assert_ptr_equal(dns_cache_get(c, "16/t.test", 1059), a);
    assert_null(dns_cache_get(c, "16/t.test", 1060));
    assert_int_equal(dns_cache_count(c), 0);
    dns_cache_put(c, "16/t.test", a, 1000);
    dns_cache_put(c, "16/t.test", b, 1000);
    assert_int_equal(dns_cache_count(c), 1);
    assert_ptr_equal(dns_cache_get(c, "16/t.test", 1000), b);
    dns_cache_put(c, "16/f.test", tf, 1000);
    assert_null(dns_cache_get(c, "16/f.test", 1000));
    b->ttl = 0;
    dns_cache_put(c, "16/z.test", b, 1000);
    assert_null(dns_cache_get(c, "16/z.test", 1000));
    dns_cache_put(none, "16/t.test", a, 1000);
    assert_null(dns_cache_get(none, "16/t.test", 1000));
    assert_int_equal(dns_cache_bytes(none), 0);
    dns_cache_free(c);
    dns_cache_free(none);
    dns_answer_unref(a);
    dns_answer_unref(b);
    dns_answer_unref(tf);
}

/* a template's text is cut at 4096 bytes, past what a reply keeps */
static void test_template_limit(void **state)
{
    struct buf tpl, b;

    (void) state;
    buf_init(&tpl);
    buf_init(&b);
    for (int i = 0; i < 1400; i++)
	buf_puts(&tpl, "$rbl_code");
    assert_int_equal(template_expand(tpl.s, &b, tlookup, NULL, 0), 0);
    assert_int_equal(b.len, 4096);
    buf_reset(&b);
    buf_reset(&tpl);
    /* nested ?text: five levels below the template, not six */
    buf_puts(&tpl, "${empty:${empty:${empty:${empty:${empty:five}}}}}");
    assert_int_equal(template_expand(tpl.s, &b, tlookup, NULL, 0), 0);
    assert_string_equal(b.s, "five");
    buf_reset(&b);
    buf_reset(&tpl);
    buf_puts(&tpl, "${empty:${empty:${empty:${empty:${empty:${empty:six}}}}}}");
    assert_int_equal(template_expand(tpl.s, &b, tlookup, NULL, 0), -1);
    buf_free(&tpl);
    buf_free(&b);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_a_record),
	cmocka_unit_test(test_exact_owner_names),
	cmocka_unit_test(test_nul_in_label),
	cmocka_unit_test(test_cname_chain),
	cmocka_unit_test(test_negative_answers),
	cmocka_unit_test(test_mx_txt_ptr),
	cmocka_unit_test(test_hostile),
	cmocka_unit_test(test_reverse_names),
	cmocka_unit_test(test_dnsxl_filters),
	cmocka_unit_test(test_templates),
	cmocka_unit_test(test_cache_txt_bound),
	cmocka_unit_test(test_cache_entry_share),
	cmocka_unit_test(test_cache_lru),
	cmocka_unit_test(test_cache_ttl),
	cmocka_unit_test(test_template_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
