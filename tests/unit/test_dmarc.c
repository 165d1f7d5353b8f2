/*
 * test_dmarc.c - DMARC records, From header domains, tree-walk names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc/dmarc.h"
#include "dns/lookupset.h"
#include "dmarc/record.h"

static int parse(const char *t, struct dmarc_record *r)
{
    char    why[200];

    return dmarc_record_parse(t, strlen(t), r, why, sizeof(why));
}

static void test_records(void **state)
{
    struct dmarc_record r;

    (void) state;
    assert_int_equal(parse("v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=s; pct=20", &r), 1);
    assert_int_equal(r.p, DMARC_POLICY_REJECT);
    assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
    assert_int_equal(r.np, DMARC_POLICY_NONE);
    assert_true(r.adkim_strict && r.aspf_strict);
    assert_int_equal(r.pct, 20);
    assert_int_equal(parse(" v = DMARC1 ;p=Quarantine;t=y;psd=y", &r), 1);
    assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
    assert_true(r.testing);
    assert_int_equal(r.psd, DMARC_PSD_YES);
    assert_int_equal(r.sp, DMARC_POLICY_UNSET);
    /* absent or invalid p: none (a typo never rejects) */
    assert_int_equal(parse("v=DMARC1; rua=mailto:x@example.com", &r), 1);
    assert_int_equal(r.p, DMARC_POLICY_NONE);
    assert_int_equal(parse("v=DMARC1; p=rejekt", &r), 1);
    assert_int_equal(r.p, DMARC_POLICY_NONE);
    /* not DMARC at all */
    assert_int_equal(parse("v=spf1 -all", &r), 0);
    assert_int_equal(parse("v=DMARC10; p=reject", &r), 0);
    assert_int_equal(parse("p=reject; v=DMARC1", &r), 0);
    assert_int_equal(parse("", &r), 0);
    /* defaults for values out of range */
    assert_int_equal(parse("v=DMARC1; p=none; pct=101; adkim=x", &r), 1);
    assert_int_equal(r.pct, 100);
    assert_false(r.adkim_strict);
    /* a broken tag after v=: an error, not a guess */
    assert_int_equal(parse("v=DMARC1; p=reject; junk", &r), -1);
}

static int from(const char *v, char *d)
{
    char    why[200];

    return dmarc_from_domain(v, strlen(v), d, DMARC_DOMAIN_MAX + 1, why, sizeof(why));
}

static void test_from(void **state)
{
    char    d[DMARC_DOMAIN_MAX + 1];

    (void) state;
    assert_int_equal(from(" Joe <joe@Example.COM>", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" joe@example.com. (Joe)", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" \"a@evil.example, <x@y>\" <joe@example.com>", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" (a@evil.example) joe@example.com", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" \"odd@local\"@example.com", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" a@example.com, b@EXAMPLE.com", d), 0);
    assert_string_equal(d, "example.com");
    assert_int_equal(from(" <@relay.example:joe@example.com>", d), 0);
    assert_string_equal(d, "example.com");
    /* never a domain that could give "none" */
    assert_int_equal(from(" a@example.com, b@example.net", d), -1);
    assert_int_equal(from(" undisclosed-recipients:;", d), -1);
    assert_int_equal(from(" joe", d), -1);
    assert_int_equal(from("", d), -1);
    assert_int_equal(from(" joe@[192.0.2.1]", d), -1);
    assert_int_equal(from(" <joe@example.com", d), -1);
    assert_int_equal(from(" \"unterminated <joe@example.com>", d), -1);
    assert_int_equal(from(" joe@-bad!.com", d), -1);
}

static void test_walk(void **state)
{
    const char *n[DMARC_WALK_MAX];

    (void) state;
    assert_int_equal(dmarc_walk_names("a.b.example.com", n), 4);
    assert_string_equal(n[0], "a.b.example.com");
    assert_string_equal(n[1], "b.example.com");
    assert_string_equal(n[3], "com");
    /* eight labels or more: on from the last seven */
    assert_int_equal(dmarc_walk_names("1.2.3.4.5.6.7.8.9.example.com", n), 8);
    assert_string_equal(n[1], "5.6.7.8.9.example.com");
    assert_string_equal(n[7], "com");
    assert_int_equal(dmarc_walk_names("com", n), 1);
}

static void test_alignment(void **state)
{
    struct dmarc_conf bis, psl;
    struct lookupset *ls = lookupset_new(NULL);	/* every answer a temporary failure */
    char    why[200];

    (void) state;
    assert_int_equal(dmarc_conf_init(&bis, "dmarcbis", "", why, sizeof(why)), 0);
    assert_int_equal(dmarc_conf_init(&psl, "rfc7489",
				     "/usr/share/publicsuffix/public_suffix_list.dat",
				     why, sizeof(why)), 0);
    assert_int_equal(dmarc_conf_init(&bis, "dmarc", "", why, sizeof(why)), -1);
    assert_int_equal(dmarc_conf_init(&bis, "dmarcbis", "", why, sizeof(why)), 0);
    /* identical names align in both modes, without DNS */
    assert_int_equal(dmarc_aligned(ls, &bis, "Example.COM", "example.com", 1, why, sizeof(why)), 1);
    /* strict: a subdomain does not */
    assert_int_equal(dmarc_aligned(ls, &bis, "mail.example.com", "example.com", 1, why,
				   sizeof(why)), 0);
    /* no shared parent of two labels: not aligned, and no lookup made */
    assert_int_equal(dmarc_aligned(ls, &bis, "example.org", "example.com", 0, why, sizeof(why)), 0);
    assert_int_equal(dmarc_aligned(ls, &bis, "aexample.com", "bexample.com", 0, why, sizeof(why)), 0);
    /* relaxed needs the tree walk: a failing DNS is a temporary failure,
     * never "not aligned" */
    assert_int_equal(dmarc_aligned(ls, &bis, "mail.example.com", "example.com", 0, why,
				   sizeof(why)), DMARC_TEMPFAIL);
    /* RFC 7489: the Public Suffix List decides, no DNS */
    assert_int_equal(dmarc_aligned(ls, &psl, "mail.example.co.uk", "example.co.uk", 0, why,
				   sizeof(why)), 1);
    assert_int_equal(dmarc_aligned(ls, &psl, "a.co.uk", "b.co.uk", 0, why, sizeof(why)), 0);
    dmarc_conf_free(&bis);
    dmarc_conf_free(&psl);
    lookupset_free(ls);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_records),
	cmocka_unit_test(test_from),
	cmocka_unit_test(test_walk),
	cmocka_unit_test(test_alignment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
