/*
 * test_dkim_msgs.c - whole messages through the verifier: the fixtures
 * python3-dkim signed (tests/data/dkim/make.py) with their keys, fed in
 * chunks of several sizes; l=; x= against the clock; DNS outcomes;
 * the signature and header limits one past; ARC chains (pass, a changed
 * body, a changed sealed header, broken structure, a temporary key
 * failure); the lookupset without a resolver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"
#include "dns/lookupset.h"
#include "dkim_fixture.h"
#include "util/str.h"

#define T_SIGNED 1764900000LL		/* make.py's signing time */

static struct keytab keys;

static int setup(void **state)
{
    (void) state;
    memset(&keys, 0, sizeof(keys));
    keytab_load(&keys);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    keytab_free(&keys);
    return 0;
}

/* verify - a message (text) through a new verifier; the caller frees */
static struct dkim_verify *verify_text(const char *msg, size_t len, size_t chunk,
				               long long now)
{
    struct dkim_conf c;
    struct dkim_verify *v;

    dkim_conf_default(&c);
    v = dkim_verify_new(&c, NULL);
    dkim_verify_set_keys(v, keytab_get, &keys);
    dkim_verify_set_time(v, now);
    feed(v, msg, len, chunk);
    assert_int_equal(dkim_verify_finish(v), 1);
    return v;
}

static struct dkim_verify *verify_file(const char *name, size_t chunk, long long now)
{
    char    path[256];
    size_t  len;
    char   *msg;
    struct dkim_verify *v;

    snprintf(path, sizeof(path), "tests/data/dkim/%s", name);
    msg = read_file(path, &len);
    v = verify_text(msg, len, chunk, now);
    free(msg);
    return v;
}

/* the fixtures and what each must give, signature 0 */
static const struct {
    const char *file;
    const char *result;
    const char *reason;			/* a prefix */
} fixtures[] = {
    {"rsa-simple-simple.eml", "pass", "good signature"},
    {"rsa-simple-relaxed.eml", "pass", "good signature"},
    {"rsa-relaxed-simple.eml", "pass", "good signature"},
    {"rsa-relaxed-relaxed.eml", "pass", "good signature"},
    {"ed25519-simple-simple.eml", "pass", "good signature"},
    {"ed25519-simple-relaxed.eml", "pass", "good signature"},
    {"ed25519-relaxed-simple.eml", "pass", "good signature"},
    {"ed25519-relaxed-relaxed.eml", "pass", "good signature"},
    {"empty-body.eml", "pass", "good signature"},
    {"rsa1024.eml", "pass", "good signature"},
    {"testing.eml", "pass", "good signature, key in testing mode (t=y)"},
    {"length.eml", "pass", "good signature"},
    {"length-appended.eml", "pass", "good signature, 25 body bytes not signed (l=)"},
    {"tampered-body.eml", "fail", "body hash did not verify"},
    {"tampered-header.eml", "fail", "signature did not verify"},
    {"nokey.eml", "permerror", "no key for signature (nokey._domainkey.dkim.test does not exist)"},
    {"revoked.eml", "permerror", "key revoked (empty p=)"},
    {"multi.eml", "permerror", "2 key records at multi._domainkey.dkim.test"},
    {"wrongtype.eml", "permerror", "key wrongtype._domainkey.dkim.test does not allow rsa-sha256"},
    {"short.eml", "policy", "RSA key of 512 bits, fewer than 1024 (RFC 8301)"},
    {"sha1.eml", "policy", "rsa-sha1 is not accepted (RFC 8301)"},
    {"expired.eml", "policy", "signature expired (x=1764900100)"},
};

static void test_fixtures(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
	static const size_t chunks[] = {0, 1, 7, 4096};

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
	    struct dkim_verify *v = verify_file(fixtures[i].file, chunks[c], T_SIGNED + 86400 * 365);
	    const struct dkim_sig_result *r = dkim_verify_result(v, 0);

	    assert_int_equal(dkim_verify_count(v), 1);
	    if (strcmp(dkim_result_name(r->result), fixtures[i].result) != 0
		|| strncmp(r->reason, fixtures[i].reason, strlen(fixtures[i].reason)) != 0)
		fail_msg("%s (chunks of %zu): %s (%s), expected %s (%s)", fixtures[i].file,
			 chunks[c], dkim_result_name(r->result), r->reason, fixtures[i].result,
			 fixtures[i].reason);
	    assert_string_equal(r->d, "dkim.test");
	    assert_int_equal(strlen(r->b), 8);
	    dkim_verify_free(v);
	}
    }
}

static void test_two_signatures(void **state)
{
    struct dkim_verify *v = verify_file("two.eml", 3, T_SIGNED);

    (void) state;
    assert_int_equal(dkim_verify_count(v), 2);
    assert_int_equal(dkim_verify_result(v, 0)->index, 0);
    assert_string_equal(dkim_verify_result(v, 0)->a, "ed25519-sha256");
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_PASS);
    assert_int_equal(dkim_verify_result(v, 1)->index, 1);
    assert_string_equal(dkim_verify_result(v, 1)->a, "rsa-sha256");
    assert_int_equal(dkim_verify_result(v, 1)->result, DKIM_PASS);
    dkim_verify_free(v);
}

/* x= against the clock: before it pass, after it policy */
static void test_expiry(void **state)
{
    struct dkim_verify *v = verify_file("expired.eml", 0, T_SIGNED + 100);

    (void) state;
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_PASS);
    dkim_verify_free(v);
    v = verify_file("expired.eml", 0, T_SIGNED + 101);
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_POLICY);
    dkim_verify_free(v);
}

/* l= longer than the body that arrived: fail */
static void test_length_longer_than_body(void **state)
{
    size_t  len;
    char   *msg = read_file("tests/data/dkim/length.eml", &len);
    char   *cut = strstr(msg, "and\ttabs");

    (void) state;
    assert_non_null(cut);
    memcpy(cut, "\r\n", 2);		/* the body ends early */
    len = (size_t) (cut - msg) + 2;
    struct dkim_verify *v = verify_text(msg, len, 0, T_SIGNED);

    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_FAIL);
    assert_non_null(strstr(dkim_verify_result(v, 0)->reason, "is longer than the body"));
    dkim_verify_free(v);
    free(msg);
}

/* a key lookup's temporary failure is temperror, never pass or fail;
 * without any key source every key is a temporary failure */
static void test_dns_outcomes(void **state)
{
    struct dkim_verify *v;
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rsa-relaxed-relaxed.eml", &len);
    struct lookupset *ls = lookupset_new(NULL);

    (void) state;
    keys.tempfail = "rsa._domainkey.dkim.test";
    v = verify_text(msg, len, 0, T_SIGNED);
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_TEMPERROR);
    assert_string_equal(dkim_verify_result(v, 0)->reason,
			"key lookup rsa._domainkey.dkim.test: temporary failure: timed out");
    dkim_verify_free(v);
    keys.tempfail = NULL;

    v = dkim_verify_new(NULL, ls);
    feed(v, msg, len, 0);
    assert_int_equal(dkim_verify_finish(v), 1);
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_TEMPERROR);
    assert_non_null(strstr(dkim_verify_result(v, 0)->reason, "no resolver configured"));
    dkim_verify_free(v);
    lookupset_free(ls);
    free(msg);
}

/* header fields whose folds come joined by a bare LF verify as with CRLF */
static void test_lf_folded_headers(void **state)
{
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rsa-simple-simple.eml", &len);
    const char *eoh = strstr(msg, "\r\n\r\n") + 2;
    struct buf m;

    (void) state;
    buf_init(&m);
    for (const char *p = msg; p < eoh; p++) {
	/* a CRLF inside a field (a fold) loses its CR */
	if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
	    continue;
	buf_putc(&m, *p);
    }
    buf_puts(&m, eoh);
    assert_true(m.len < len);
    struct dkim_verify *v = verify_text(m.s, m.len, 0, T_SIGNED);

    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_PASS);
    dkim_verify_free(v);
    buf_free(&m);
    free(msg);
}

/* a NUL inside a header name or value costs nothing but that field */
static void test_nul_in_header(void **state)
{
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rsa-relaxed-relaxed.eml", &len);
    struct dkim_verify *v = dkim_verify_new(NULL, NULL);

    (void) state;
    dkim_verify_set_keys(v, keytab_get, &keys);
    dkim_verify_set_time(v, T_SIGNED);
    dkim_verify_header(v, "X-Odd\0Name-That-Goes-On", 23, " a\0b", 4);
    dkim_verify_header(v, "DKIM-Signature\0", 15, " v=1; a=rsa\0-sha256", 19);
    feed(v, msg, len, 0);
    assert_int_equal(dkim_verify_finish(v), 1);
    assert_int_equal(dkim_verify_count(v), 2);
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_NEUTRAL);
    assert_int_equal(dkim_verify_result(v, 1)->result, DKIM_PASS);
    dkim_verify_free(v);
    free(msg);
}

/* a message without signatures: no results, ARC none */
static void test_unsigned(void **state)
{
    const char *msg = "From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n";
    struct dkim_verify *v = verify_text(msg, strlen(msg), 0, T_SIGNED);
    const char *sealer = "x", *reason = NULL;

    (void) state;
    assert_int_equal(dkim_verify_count(v), 0);
    assert_null(dkim_verify_result(v, 0));
    assert_int_equal(dkim_verify_arc(v, &sealer, &reason), ARC_NONE);
    assert_null(sealer);
    assert_string_equal(reason, "no ARC sets");
    dkim_verify_free(v);
}

/* signature - the DKIM-Signature field of a fixture, with its name */
static char *signature_field(const char *msg)
{
    const char *e = msg;

    while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
	e++;
    return xstrndup(msg, (size_t) (e - msg) + 2);
}

/* DKIM_MAX_SIGNATURES are verified, the next one is policy, unasked */
static void test_many_signatures(void **state)
{
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rsa-relaxed-relaxed.eml", &len);
    char   *sig = signature_field(msg);
    struct buf m;

    (void) state;
    buf_init(&m);
    for (int i = 0; i < DKIM_MAX_SIGNATURES; i++)
	buf_puts(&m, sig);
    buf_puts(&m, msg);			/* one more */
    keys.asked = 0;
    struct dkim_verify *v = verify_text(m.s, m.len, 0, T_SIGNED);

    assert_int_equal(dkim_verify_count(v), DKIM_MAX_SIGNATURES + 1);
    for (int i = 0; i < DKIM_MAX_SIGNATURES; i++)
	assert_int_equal(dkim_verify_result(v, (size_t) i)->result, DKIM_PASS);
    assert_int_equal(dkim_verify_result(v, DKIM_MAX_SIGNATURES)->result, DKIM_POLICY);
    assert_string_equal(dkim_verify_result(v, DKIM_MAX_SIGNATURES)->reason,
			"too many signatures (10 verified)");
    assert_int_equal(keys.asked, DKIM_MAX_SIGNATURES);
    dkim_verify_free(v);
    buf_free(&m);
    free(sig);
    free(msg);
}

/* DKIM_MAX_HEADERS fields verify; one more makes every signature a
 * permerror; DKIM_MAX_HEADER_BYTES likewise */
static void test_header_limits(void **state)
{
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rsa-relaxed-relaxed.eml", &len);
    const char *eoh = strstr(msg, "\r\n\r\n");
    int     fields = 0;
    struct buf m;

    (void) state;
    for (const char *p = msg; p < eoh + 2; p++)
	if (p[0] == '\n' && p[1] != ' ' && p[1] != '\t')
	    fields++;
    buf_init(&m);
    for (int extra = 0; extra < 2; extra++) {
	buf_reset(&m);
	for (int i = 0; i < DKIM_MAX_HEADERS - fields + extra; i++)
	    buf_puts(&m, "Received: by relay.example\r\n");
	buf_append(&m, msg, len);
	struct dkim_verify *v = verify_text(m.s, m.len, 0, T_SIGNED);

	assert_int_equal(dkim_verify_result(v, 0)->result, extra ? DKIM_PERMERROR : DKIM_PASS);
	if (extra)
	    assert_string_equal(dkim_verify_result(v, 0)->reason,
				"message header past 1000 fields or 1048576 bytes");
	dkim_verify_free(v);
    }
    /* bytes: one field big enough to reach the limit exactly, then one more */
    for (int extra = 0; extra < 2; extra++) {
	size_t  kept = 0;

	for (const char *p = msg; p < eoh + 2;) {
	    const char *e = p, *colon = strchr(p, ':');

	    while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
		e++;
	    kept += (size_t) (e - p) - 1;	/* name and value, no colon */
	    p = e + 2;
	    (void) colon;
	}
	buf_reset(&m);
	buf_puts(&m, "X-Big:");
	for (size_t i = kept + 5; i < DKIM_MAX_HEADER_BYTES + (size_t) extra; i++)
	    buf_putc(&m, 'x');
	buf_puts(&m, "\r\n");
	buf_append(&m, msg, len);
	struct dkim_verify *v = verify_text(m.s, m.len, 0, T_SIGNED);

	assert_int_equal(dkim_verify_result(v, 0)->result, extra ? DKIM_PERMERROR : DKIM_PASS);
	dkim_verify_free(v);
    }
    buf_free(&m);
    free(msg);
}

/* ARC ------------------------------------------------------------------- */

static enum arc_result arc(const char *file, const char **sealer, const char **reason,
			           int *temporary, struct dkim_verify **vp)
{
    struct dkim_verify *v = verify_file(file, 5, T_SIGNED);
    enum arc_result r = dkim_verify_arc(v, sealer, reason);

    *temporary = dkim_verify_arc_temporary(v);
    *vp = v;
    return r;
}

static void test_arc_chains(void **state)
{
    const char *sealer, *reason;
    int     temp;
    struct dkim_verify *v;

    (void) state;
    assert_int_equal(arc("arc-1.eml", &sealer, &reason, &temp, &v), ARC_PASS);
    assert_string_equal(sealer, "dkim.test");
    assert_string_equal(reason, "chain of 1 verified");
    dkim_verify_free(v);
    assert_int_equal(arc("arc-2.eml", &sealer, &reason, &temp, &v), ARC_PASS);
    assert_string_equal(reason, "chain of 2 verified");
    assert_int_equal(dkim_verify_result(v, 0)->result, DKIM_PASS);
    dkim_verify_free(v);
    assert_int_equal(arc("arc-2-tampered.eml", &sealer, &reason, &temp, &v), ARC_FAIL);
    assert_string_equal(reason, "ARC-Message-Signature i=2: fail: body hash did not verify");
    assert_int_equal(temp, 0);
    dkim_verify_free(v);
    assert_int_equal(arc("arc-2-badseal.eml", &sealer, &reason, &temp, &v), ARC_FAIL);
    assert_string_equal(reason, "ARC-Seal i=2: fail: signature did not verify");
    dkim_verify_free(v);

    /* ARC_MAX_INSTANCES hops */
    assert_int_equal(arc("arc-50.eml", &sealer, &reason, &temp, &v), ARC_PASS);
    assert_string_equal(reason, "chain of 50 verified");
    dkim_verify_free(v);

    /* a sealer's key lookup fails temporarily: fail, and said to be temporary */
    keys.tempfail = "rsa._domainkey.dkim.test";
    assert_int_equal(arc("arc-2.eml", &sealer, &reason, &temp, &v), ARC_FAIL);
    assert_int_equal(temp, 1);
    assert_non_null(strstr(reason, "temporary failure"));
    dkim_verify_free(v);
    keys.tempfail = NULL;
}

/* replace - msg with the first "from" replaced by "to" (a new string) */
static char *replace(const char *msg, const char *from, const char *to)
{
    const char *p = strstr(msg, from);
    struct buf b;

    assert_non_null(p);
    buf_init(&b);
    buf_append(&b, msg, (size_t) (p - msg));
    buf_puts(&b, to);
    buf_puts(&b, p + strlen(from));
    return buf_steal(&b);
}

static void test_arc_structure(void **state)
{
    static const struct {
	const char *from, *to, *reason;
    }       cases[] = {
	/* a set without its ARC-Authentication-Results */
	{"ARC-Authentication-Results: i=1", "X-Removed: i=1", "ARC set i=1 is incomplete"},
	/* two of the same instance */
	{"ARC-Seal: i=1", "ARC-Seal: i=2", "two ARC-Seal i=2"},
	/* instance 1 must say cv=none */
	{"i=1; cv=none", "i=1; cv=pass", "ARC-Seal i=1 has cv=pass"},
	/* the newest says the chain failed */
	{"i=2; cv=pass", "i=2; cv=fail", "the newest ARC-Seal (i=2) says cv=fail"},
	/* an AAR without a readable instance */
	{"ARC-Authentication-Results: i=2;", "ARC-Authentication-Results: i=x;",
	"ARC-Authentication-Results without a valid i="},
	/* a seal that does not parse */
	{"ARC-Seal: i=2; cv=pass; a=rsa-sha256", "ARC-Seal: i=2; cv=pass; a=rsa-sha1",
	"ARC-Seal does not parse: rsa-sha1 is not accepted (RFC 8301)"},
    };
    size_t  len;
    char   *msg = read_file("tests/data/dkim/arc-2.eml", &len);

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	char   *m = replace(msg, cases[i].from, cases[i].to);
	struct dkim_verify *v = verify_text(m, strlen(m), 0, T_SIGNED);
	const char *sealer, *reason;

	assert_int_equal(dkim_verify_arc(v, &sealer, &reason), ARC_FAIL);
	if (strcmp(reason, cases[i].reason) != 0)
	    fail_msg("case %zu: \"%s\", expected \"%s\"", i, reason, cases[i].reason);
	assert_int_equal(dkim_verify_arc_temporary(v), 0);
	dkim_verify_free(v);
	free(m);
    }
    free(msg);
}

/* a 51st instance, a second set of one instance: fail at once */
static void test_arc_instance_limits(void **state)
{
    struct buf m;

    (void) state;
    buf_init(&m);
    for (int i = 0; i <= 3 * ARC_MAX_INSTANCES; i++)
	buf_printf(&m, "ARC-Authentication-Results: i=%d; x\r\n", i % 50 + 1);
    buf_puts(&m, "From: a@b.example\r\n\r\nbody\r\n");
    struct dkim_verify *v = verify_text(m.s, m.len, 0, T_SIGNED);
    const char *reason;

    assert_int_equal(dkim_verify_arc(v, NULL, &reason), ARC_FAIL);
    assert_string_equal(reason, "two ARC-Authentication-Results i=1");
    dkim_verify_free(v);
    buf_reset(&m);
    for (int i = 0; i <= 3 * ARC_MAX_INSTANCES; i++)
	buf_printf(&m, "ARC-Seal: i=%d; cv=none; a=rsa-sha256; d=x.example; s=s; b=QUFB\r\n",
		   i + 1);
    buf_puts(&m, "From: a@b.example\r\n\r\nbody\r\n");
    v = verify_text(m.s, m.len, 0, T_SIGNED);
    assert_int_equal(dkim_verify_arc(v, NULL, &reason), ARC_FAIL);
    assert_string_equal(reason, "ARC-Seal does not parse: bad or missing instance i=");
    dkim_verify_free(v);
    buf_free(&m);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fixtures),
	cmocka_unit_test(test_two_signatures),
	cmocka_unit_test(test_expiry),
	cmocka_unit_test(test_length_longer_than_body),
	cmocka_unit_test(test_dns_outcomes),
	cmocka_unit_test(test_unsigned),
	cmocka_unit_test(test_nul_in_header),
	cmocka_unit_test(test_lf_folded_headers),
	cmocka_unit_test(test_many_signatures),
	cmocka_unit_test(test_header_limits),
	cmocka_unit_test(test_arc_chains),
	cmocka_unit_test(test_arc_structure),
	cmocka_unit_test(test_arc_instance_limits),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
