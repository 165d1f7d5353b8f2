/*
 * test_inet.c - address parsing and formatting, CIDR networks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "util/inet.h"

/* parse - inet_parse, expecting success; returns the canonical text */
static const char *parse(const char *text, int family)
{
    static char out[64];
    struct inet_addr a;

    if (inet_parse(text, &a) != 0)
	fail_msg("inet_parse(\"%s\") failed", text);
    assert_int_equal(a.family, family);
    inet_format(&a, out, sizeof(out));
    return out;
}

/* bad - inet_parse, expecting failure */
static void bad(const char *text)
{
    struct inet_addr a;

    if (inet_parse(text, &a) == 0)
	fail_msg("inet_parse(\"%s\") accepted a non-address", text);
}

/* net - cidr_parse, expecting success */
static struct cidr net(const char *text)
{
    struct cidr c;
    char    err[256];

    err[0] = 0;
    if (cidr_parse(text, &c, err, sizeof(err)) != 0)
	fail_msg("cidr_parse(\"%s\"): %s", text, err);
    return c;
}

/* net_err - cidr_parse, expecting exactly this error */
static void net_err(const char *text, const char *want)
{
    struct cidr c;
    char    err[256];

    err[0] = 0;
    if (cidr_parse(text, &c, err, sizeof(err)) == 0)
	fail_msg("cidr_parse(\"%s\") accepted a bad network", text);
    assert_string_equal(err, want);
}

/* in - is the address inside the network? */
static int in(const char *network, const char *addr)
{
    struct cidr c = net(network);
    struct inet_addr a;

    if (inet_parse(addr, &a) != 0)
	fail_msg("inet_parse(\"%s\") failed", addr);
    return cidr_match(&c, &a);
}

static void test_parse_ipv4(void **state)
{
    (void) state;
    struct inet_addr a;
    static const unsigned char want[16] = {192, 0, 2, 1};

    assert_int_equal(inet_parse("192.0.2.1", &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_memory_equal(a.b, want, sizeof(want));	/* rest zeroed */
    assert_string_equal(parse("0.0.0.0", AF_INET), "0.0.0.0");
    assert_string_equal(parse("255.255.255.255", AF_INET), "255.255.255.255");
    /* address literal form */
    assert_string_equal(parse("[192.0.2.1]", AF_INET), "192.0.2.1");
}

static void test_parse_ipv6(void **state)
{
    (void) state;
    struct inet_addr a;
    static const unsigned char want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    assert_int_equal(inet_parse("2001:db8::1", &a), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_memory_equal(a.b, want, sizeof(want));
    assert_string_equal(parse("2001:0DB8:0000:0:0:0:0:0001", AF_INET6), "2001:db8::1");
    assert_string_equal(parse("::", AF_INET6), "::");
    assert_string_equal(parse("::1", AF_INET6), "::1");
    assert_string_equal(parse("fe80::1:2:3:4", AF_INET6), "fe80::1:2:3:4");
    /* IPv4-compatible (not mapped) stays IPv6 */
    assert_string_equal(parse("::192.0.2.1", AF_INET6), "::192.0.2.1");
}

static void test_parse_literals(void **state)
{
    (void) state;
    assert_string_equal(parse("[2001:db8::1]", AF_INET6), "2001:db8::1");
    assert_string_equal(parse("IPv6:2001:db8::1", AF_INET6), "2001:db8::1");
    assert_string_equal(parse("ipv6:2001:db8::2", AF_INET6), "2001:db8::2");
    assert_string_equal(parse("[IPv6:2001:db8::3]", AF_INET6), "2001:db8::3");
    /* the IPv6: tag needs IPv6 text, as in RFC 5321 and Postfix */
    bad("IPv6:192.0.2.1");
    bad("[IPv6:192.0.2.1]");
    bad("IPv6:");
    bad("[IPv6:]");
}

static void test_parse_v4mapped(void **state)
{
    (void) state;
    struct inet_addr a;
    static const unsigned char want[16] = {192, 0, 2, 1};

    assert_int_equal(inet_parse("::ffff:192.0.2.1", &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_memory_equal(a.b, want, sizeof(want));
    assert_string_equal(parse("::FFFF:c000:0201", AF_INET), "192.0.2.1");
    assert_string_equal(parse("[::ffff:192.0.2.9]", AF_INET), "192.0.2.9");
    assert_string_equal(parse("IPv6:::ffff:192.0.2.8", AF_INET), "192.0.2.8");
    /* not the mapped prefix: stays IPv6 */
    assert_string_equal(parse("::fffe:192.0.2.1", AF_INET6), "::fffe:c000:201");
    assert_string_equal(parse("1::ffff:192.0.2.1", AF_INET6), "1::ffff:c000:201");
}

static void test_parse_garbage(void **state)
{
    (void) state;
    static const char *const junk[] = {
	"", " ", "[]", "[", "]", "example.com", "localhost", "unknown",
	"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1..2.3", "01.2.3.4x",
	" 192.0.2.1", "192.0.2.1 ", "192.0.2.1/32", "[192.0.2.1", "192.0.2.1]",
	"[[192.0.2.1]]", "2001:db8::g", "2001:db8:::1", "1:2:3:4:5:6:7:8:9",
	"2001:db8::1%eth0", ":", ":::", "IPv4:192.0.2.1", "IPv6:[2001:db8::1]",
	"::ffff:192.0.2.256",
    };
    char    longtext[200];

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
	bad(junk[i]);
    /* longer than any address: no overflow, just no */
    memset(longtext, '1', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = 0;
    bad(longtext);
    memcpy(longtext, "::", 2);
    bad(longtext);
}

static void test_format(void **state)
{
    (void) state;
    struct inet_addr a;
    char    out[64];
    char    tiny[4];

    assert_int_equal(inet_parse("2001:DB8:0:0:1:0:0:1", &a), 0);
    inet_format(&a, out, sizeof(out));
    assert_string_equal(out, "2001:db8::1:0:0:1");
    assert_int_equal(inet_parse("10.20.30.40", &a), 0);
    inet_format(&a, out, sizeof(out));
    assert_string_equal(out, "10.20.30.40");
    /* every width of octet, formatted by hand for IPv4 */
    static const char *const quads[] = {
	"0.0.0.0", "0.9.10.99", "100.199.200.255", "255.255.255.255", "1.20.255.4",
    };
    for (size_t i = 0; i < sizeof(quads) / sizeof(quads[0]); i++) {
	assert_int_equal(inet_parse(quads[i], &a), 0);
	inet_format(&a, out, sizeof(out));
	assert_string_equal(out, quads[i]);
    }
    assert_int_equal(inet_parse("10.20.30.40", &a), 0);
    /* too small a buffer gives an empty string, not a truncated address */
    memset(tiny, 'x', sizeof(tiny));
    inet_format(&a, tiny, sizeof(tiny));
    assert_string_equal(tiny, "");
}

static void test_cidr_parse(void **state)
{
    (void) state;
    struct cidr c;
    static const unsigned char v4[16] = {192, 0, 2, 0};
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};

    c = net("192.0.2.0/24");
    assert_int_equal(c.net.family, AF_INET);
    assert_int_equal(c.len, 24);
    assert_memory_equal(c.net.b, v4, sizeof(v4));
    c = net("192.0.2.0");
    assert_int_equal(c.len, 32);
    c = net("192.0.2.0/32");
    assert_int_equal(c.len, 32);
    c = net("0.0.0.0/0");
    assert_int_equal(c.len, 0);
    c = net("2001:db8::/32");
    assert_int_equal(c.net.family, AF_INET6);
    assert_int_equal(c.len, 32);
    assert_memory_equal(c.net.b, v6, sizeof(v6));
    c = net("2001:db8::1");
    assert_int_equal(c.len, 128);
    c = net("2001:db8::1/128");
    assert_int_equal(c.len, 128);
    c = net("::/0");
    assert_int_equal(c.net.family, AF_INET6);
    assert_int_equal(c.len, 0);
    c = net("[2001:db8::]/48");
    assert_int_equal(c.len, 48);
    c = net("192.0.2.128/025");			/* decimal, not octal */
    assert_int_equal(c.len, 25);
    c = net("2001:db8:8000::/33");		/* bit 32 is in the prefix */
    assert_int_equal(c.len, 33);

    /* IPv4-mapped networks are IPv4, written with an IPv6 length */
    c = net("::ffff:192.0.2.0/120");
    assert_int_equal(c.net.family, AF_INET);
    assert_int_equal(c.len, 24);
    assert_memory_equal(c.net.b, v4, sizeof(v4));
    c = net("::ffff:0.0.0.0/96");
    assert_int_equal(c.len, 0);
    c = net("::ffff:192.0.2.0");
    assert_int_equal(c.len, 32);
}

static void test_cidr_parse_errors(void **state)
{
    (void) state;
    /* lengths: one past the maximum, signs, junk */
    net_err("192.0.2.0/33", "bad network mask length: \"192.0.2.0/33\"");
    net_err("2001:db8::/129", "bad network mask length: \"2001:db8::/129\"");
    net_err("192.0.2.0/", "bad network mask length: \"192.0.2.0/\"");
    net_err("192.0.2.0/-1", "bad network mask length: \"192.0.2.0/-1\"");
    net_err("192.0.2.0/+8", "bad network mask length: \"192.0.2.0/+8\"");
    net_err("192.0.2.0/ 8", "bad network mask length: \"192.0.2.0/ 8\"");
    net_err("192.0.2.0/24x", "bad network mask length: \"192.0.2.0/24x\"");
    net_err("192.0.2.0/24/8", "bad network mask length: \"192.0.2.0/24/8\"");
    net_err("192.0.2.0/99999999999999999999",
	    "bad network mask length: \"192.0.2.0/99999999999999999999\"");
    net_err("::ffff:192.0.2.0/95", "bad network mask length: \"::ffff:192.0.2.0/95\"");
    net_err("::ffff:192.0.2.0/129", "bad network mask length: \"::ffff:192.0.2.0/129\"");
    net_err("::ffff:192.0.2.0/", "bad network mask length: \"::ffff:192.0.2.0/\"");

    /* addresses */
    net_err("", "bad network address: \"\"");
    net_err("/24", "bad network address: \"/24\"");
    net_err("192.0.2/24", "bad network address: \"192.0.2/24\"");
    net_err("example.com/24", "bad network address: \"example.com/24\"");
    net_err("192.0.2.0 /24", "bad network address: \"192.0.2.0 /24\"");

    /* host bits set beyond the prefix: suggest the network */
    net_err("192.0.2.1/24", "non-null host address bits in \"192.0.2.1/24\", "
	    "perhaps you should use \"192.0.2.0/24\" instead");
    net_err("10.1.2.3/8", "non-null host address bits in \"10.1.2.3/8\", "
	    "perhaps you should use \"10.0.0.0/8\" instead");
    net_err("192.0.2.129/25", "non-null host address bits in \"192.0.2.129/25\", "
	    "perhaps you should use \"192.0.2.128/25\" instead");
    net_err("192.0.2.1/31", "non-null host address bits in \"192.0.2.1/31\", "
	    "perhaps you should use \"192.0.2.0/31\" instead");
    net_err("1.2.3.4/0", "non-null host address bits in \"1.2.3.4/0\", "
	    "perhaps you should use \"0.0.0.0/0\" instead");
    net_err("2001:db8::1/32", "non-null host address bits in \"2001:db8::1/32\", "
	    "perhaps you should use \"2001:db8::/32\" instead");
    net_err("2001:db8:4000::/33", "non-null host address bits in \"2001:db8:4000::/33\", "
	    "perhaps you should use \"2001:db8::/33\" instead");
    net_err("::1/127", "non-null host address bits in \"::1/127\", "
	    "perhaps you should use \"::/127\" instead");
}

static void test_cidr_match_v4(void **state)
{
    (void) state;
    assert_true(in("192.0.2.0/24", "192.0.2.0"));
    assert_true(in("192.0.2.0/24", "192.0.2.255"));
    assert_false(in("192.0.2.0/24", "192.0.1.255"));
    assert_false(in("192.0.2.0/24", "192.0.3.0"));
    /* a prefix not on a byte boundary */
    assert_false(in("192.0.2.128/25", "192.0.2.127"));
    assert_true(in("192.0.2.128/25", "192.0.2.128"));
    assert_true(in("192.0.2.128/25", "192.0.2.255"));
    assert_false(in("10.0.0.0/9", "10.128.0.0"));
    assert_true(in("10.0.0.0/9", "10.127.255.255"));
    assert_false(in("128.0.0.0/1", "127.255.255.255"));
    assert_true(in("128.0.0.0/1", "128.0.0.0"));
    assert_true(in("192.0.2.6/31", "192.0.2.7"));
    assert_false(in("192.0.2.6/31", "192.0.2.8"));
    /* hosts */
    assert_true(in("192.0.2.1", "192.0.2.1"));
    assert_false(in("192.0.2.1", "192.0.2.2"));
    assert_false(in("192.0.2.1/32", "192.0.2.0"));
    /* /0 holds every IPv4 address and nothing else */
    assert_true(in("0.0.0.0/0", "0.0.0.0"));
    assert_true(in("0.0.0.0/0", "255.255.255.255"));
    assert_false(in("0.0.0.0/0", "::"));
    assert_false(in("0.0.0.0/0", "2001:db8::1"));
    /* an IPv4-mapped address is matched by IPv4 networks */
    assert_true(in("192.0.2.0/24", "::ffff:192.0.2.77"));
    assert_true(in("::ffff:192.0.2.0/120", "192.0.2.77"));
    assert_false(in("::ffff:192.0.2.0/120", "192.0.3.77"));
}

static void test_cidr_match_v6(void **state)
{
    (void) state;
    assert_true(in("2001:db8::/32", "2001:db8::"));
    assert_true(in("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(in("2001:db8::/32", "2001:db9::"));
    assert_false(in("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_true(in("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff"));
    assert_false(in("2001:db8::/65", "2001:db8:0:0:8000::"));
    assert_true(in("2001:db8::/127", "2001:db8::1"));
    assert_false(in("2001:db8::/127", "2001:db8::2"));
    assert_true(in("2001:db8::5", "2001:db8:0::5"));
    assert_false(in("2001:db8::5", "2001:db8::4"));
    assert_true(in("::/0", "::"));
    assert_true(in("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    /* family mismatch */
    assert_false(in("::/0", "192.0.2.1"));
    assert_false(in("::/0", "::ffff:192.0.2.1"));	/* that is IPv4 */
    assert_false(in("::c000:200/120", "192.0.2.1"));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_ipv4),
	cmocka_unit_test(test_parse_ipv6),
	cmocka_unit_test(test_parse_literals),
	cmocka_unit_test(test_parse_v4mapped),
	cmocka_unit_test(test_parse_garbage),
	cmocka_unit_test(test_format),
	cmocka_unit_test(test_cidr_parse),
	cmocka_unit_test(test_cidr_parse_errors),
	cmocka_unit_test(test_cidr_match_v4),
	cmocka_unit_test(test_cidr_match_v6),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
