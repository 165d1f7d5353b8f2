/*
 * test_dns_result.c - dns_result(): what libunbound's event callback
 * means.  A packet is read only when rcode is 0 (with an rcode libunbound
 * hands over a stale shared buffer: another query's answer, or the query
 * as sent); NXDOMAIN by rcode is NXDOMAIN; a bogus answer is a temporary
 * failure; a good answer is parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dns/dns.h"
#include "dns_packet.h"

/* packet - flags (QR, rcode) for name/A; with an A record 192.0.2.ADDR if addr */
static void packet(struct pkt *p, unsigned flags, const char *name, unsigned addr)
{
    p->n = 0;
    put16(p, 0);
    put16(p, flags);
    put16(p, 1);
    put16(p, addr ? 1 : 0);
    put16(p, 0);
    put16(p, 0);
    putname(p, name);
    put16(p, DNS_T_A);
    put16(p, 1);
    if (addr) {
	put16(p, 0xc00c);
	put16(p, DNS_T_A);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	put16(p, 4);
	put8(p, 192), put8(p, 0), put8(p, 2), put8(p, addr);
    }
}

static void expect(struct dns_answer *a, enum dns_status st, const char *why)
{
    assert_int_equal(a->status, st);
    if (why)
	assert_string_equal(a->why, why);
    dns_answer_unref(a);
}

/* a failure by rcode: whatever the buffer holds is not read */
static void test_rcode_wins_over_a_stale_buffer(void **state)
{
    struct pkt p;

    (void) state;
    /* the query as sent over TCP: QR clear, NOERROR, nothing: "no data" if read */
    packet(&p, 0x0100, "servfail.test", 0);
    expect(dns_result("servfail.test", DNS_T_A, 2, p.b, (int) p.n, 0, NULL),
	   DNS_TEMPFAIL, "resolver: SERVFAIL");
    /* another query's answer, NOERROR with a record */
    packet(&p, 0x8180, "other.test", 2);
    expect(dns_result("servfail.test", DNS_T_A, 2, p.b, (int) p.n, 0, NULL),
	   DNS_TEMPFAIL, "resolver: SERVFAIL");
    /* another query's NXDOMAIN */
    packet(&p, 0x8183, "servfail.test", 0);
    expect(dns_result("servfail.test", DNS_T_A, 5, p.b, (int) p.n, 0, NULL),
	   DNS_TEMPFAIL, "resolver: REFUSED");
    expect(dns_result("servfail.test", DNS_T_A, 9, p.b, (int) p.n, 0, NULL),
	   DNS_TEMPFAIL, "resolver: an error");
    expect(dns_result("servfail.test", DNS_T_A, 2, p.b, (int) p.n, 0, "no server"),
	   DNS_TEMPFAIL, "resolver: no server");
    /* NXDOMAIN by rcode, even with a NOERROR answer in the buffer */
    packet(&p, 0x8180, "gone.test", 2);
    expect(dns_result("gone.test", DNS_T_A, 3, p.b, (int) p.n, 0, NULL), DNS_NXDOMAIN, "");
}

static void test_no_packet(void **state)
{
    (void) state;
    expect(dns_result("a.test", DNS_T_A, 0, NULL, 0, 0, NULL),
	   DNS_TEMPFAIL, "resolver: no answer");
    expect(dns_result("a.test", DNS_T_A, 2, NULL, 0, 0, NULL),
	   DNS_TEMPFAIL, "resolver: SERVFAIL");
}

static void test_bogus_is_temporary(void **state)
{
    struct pkt p;

    (void) state;
    packet(&p, 0x8180, "signed.test", 7);
    expect(dns_result("signed.test", DNS_T_A, 0, p.b, (int) p.n, 1, "signature expired"),
	   DNS_TEMPFAIL, "resolver: DNSSEC validation failed: signature expired");
    expect(dns_result("signed.test", DNS_T_A, 0, p.b, (int) p.n, 1, NULL),
	   DNS_TEMPFAIL, "resolver: DNSSEC validation failed");
}

static void test_answers_are_read(void **state)
{
    struct pkt p;
    struct dns_answer *a;

    (void) state;
    for (int sec = 0; sec <= 2; sec += 2) {	/* insecure, secure */
	packet(&p, 0x8180, "mail.test", 7);
	a = dns_result("mail.test", DNS_T_A, 0, p.b, (int) p.n, sec, NULL);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->rr[0].ttl, 300);
	dns_answer_unref(a);
    }
    packet(&p, 0x8183, "gone.test", 0);
    expect(dns_result("gone.test", DNS_T_A, 0, p.b, (int) p.n, 0, NULL), DNS_NXDOMAIN, NULL);
    packet(&p, 0x8182, "fail.test", 0);
    expect(dns_result("fail.test", DNS_T_A, 0, p.b, (int) p.n, 0, NULL),
	   DNS_TEMPFAIL, "server answered SERVFAIL");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rcode_wins_over_a_stale_buffer),
	cmocka_unit_test(test_no_packet),
	cmocka_unit_test(test_bogus_is_temporary),
	cmocka_unit_test(test_answers_are_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
