/*
 * test_dkim.c - the DKIM verifier's parts: tag-lists (RFC 6376 3.2),
 * canonicalisation with RFC 6376 3.4.5's examples and the streaming body
 * canonicaliser fed in every split, DKIM-Signature and key record parsing
 * (RFC 8301: rsa-sha1 and short keys refused), base64, and RFC 8463's
 * signed example (Appendix A) verified with its published keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim_impl.h"
#include "dkim_fixture.h"

/* tags ---------------------------------------------------------------- */

static void test_tags_basic(void **state)
{
    const char *s = " v=1; a = rsa-sha256 ;\r\n\th=from : to;\r\n b=ab cd\r\n ef ; z=;";
    struct dkim_tags tl;
    const struct dkim_tag *t;
    const char *why = NULL;

    (void) state;
    assert_int_equal(dkim_tags_parse(s, strlen(s), &tl, &why), 0);
    assert_int_equal(tl.n, 5);
    t = dkim_tags_get(&tl, "a");
    assert_non_null(t);
    assert_int_equal(t->vlen, 10);
    assert_memory_equal(t->val, "rsa-sha256", 10);
    t = dkim_tags_get(&tl, "h");
    assert_int_equal(t->vlen, 9);
    t = dkim_tags_get(&tl, "b");
    char   *b = dkim_tag_str(t, 1);

    assert_string_equal(b, "abcdef");
    free(b);
    /* the raw span of b= runs from after "=" to the ";" */
    assert_int_equal(s[t->raw_start - 1], '=');
    assert_int_equal(s[t->raw_end], ';');
    t = dkim_tags_get(&tl, "z");
    assert_non_null(t);
    assert_int_equal(t->vlen, 0);
    assert_null(dkim_tags_get(&tl, "bh"));
    assert_null(dkim_tags_get(&tl, "V"));	/* names are case-sensitive */
}

static void test_tags_bad(void **state)
{
    static const char *const bad[] = {
	"v=1; v=1",			/* twice */
	"1v=1",				/* name starts with a digit */
	"v",				/* no "=" */
	"v=1; a",			/* no "=" at the end */
	"v=a;b",			/* "b" without "=" */
	"v=x\x01y",			/* control character */
	"v=\xc3\xa9",			/* 8-bit */
	"-=1",
    };
    struct dkim_tags tl;
    const char *why;

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	why = NULL;
	assert_int_equal(dkim_tags_parse(bad[i], strlen(bad[i]), &tl, &why), -1);
	assert_non_null(why);
    }
    /* tolerated: empty elements, a final ";", nothing at all */
    assert_int_equal(dkim_tags_parse("a=1;;b=2;", 9, &tl, &why), 0);
    assert_int_equal(tl.n, 2);
    assert_int_equal(dkim_tags_parse("", 0, &tl, &why), 0);
    assert_int_equal(tl.n, 0);
}

static void test_tags_limit(void **state)
{
    struct buf b;
    struct dkim_tags tl;
    const char *why;

    (void) state;
    buf_init(&b);
    for (int i = 0; i < DKIM_MAX_TAGS; i++)
	buf_printf(&b, "t%d=%d;", i, i);
    assert_int_equal(dkim_tags_parse(b.s, b.len, &tl, &why), 0);
    assert_int_equal(tl.n, DKIM_MAX_TAGS);
    buf_puts(&b, "one=more");
    assert_int_equal(dkim_tags_parse(b.s, b.len, &tl, &why), -1);
    assert_string_equal(why, "too many tags");
    buf_free(&b);
}

/* canonicalisation ----------------------------------------------------- */

static void test_canon_header_rfc(void **state)
{
    struct buf b;

    (void) state;
    /* RFC 6376 3.4.5: "A: X" and "B : Y<TAB><CRLF><SP>Z  " */
    buf_init(&b);
    dkim_canon_header(&b, 1, "A", 1, " X", 2);
    dkim_canon_header(&b, 1, "B ", 2, " Y\t\r\n\tZ  ", 9);
    assert_string_equal(b.s, "a:X\r\nb:Y Z\r\n");
    buf_reset(&b);
    dkim_canon_header(&b, 0, "A", 1, " X", 2);
    dkim_canon_header(&b, 0, "B ", 2, " Y\t\r\n\tZ  ", 9);
    assert_string_equal(b.s, "A: X\r\nB : Y\t\r\n\tZ  \r\n");
    /* relaxed: an empty value, white space only */
    buf_reset(&b);
    dkim_canon_header(&b, 1, "Subject", 7, "", 0);
    dkim_canon_header(&b, 1, "X-Empty", 7, " \t \r\n ", 6);
    assert_string_equal(b.s, "subject:\r\nx-empty:\r\n");
    buf_free(&b);
}

static struct buf canon_out;

static void collect(void *ctx, const char *p, size_t n)
{
    (void) ctx;
    buf_append(&canon_out, p, n);
}

/* body - canonicalise s in chunks of every size from 1 to its length;
 * each must give want */
static void body_all_splits(int relaxed, const char *s, const char *want)
{
    size_t  len = strlen(s);

    for (size_t chunk = 1; chunk <= len + 1; chunk++) {
	struct dkim_bodycanon c;

	buf_reset(&canon_out);
	dkim_bodycanon_init(&c, relaxed, collect, NULL);
	for (size_t p = 0; p < len; p += chunk)
	    dkim_bodycanon_feed(&c, s + p, len - p < chunk ? len - p : chunk);
	dkim_bodycanon_end(&c);
	if (strcmp(canon_out.s, want) != 0)
	    fail_msg("%s body \"%s\" in chunks of %zu: got \"%s\"",
		     relaxed ? "relaxed" : "simple", s, chunk, canon_out.s);
    }
}

static void test_canon_body(void **state)
{
    (void) state;
    buf_init(&canon_out);
    /* RFC 6376 3.4.5 */
    body_all_splits(1, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
    body_all_splits(0, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n");
    /* empty bodies: simple is one CRLF, relaxed nothing (erratum 3986) */
    body_all_splits(0, "", "\r\n");
    body_all_splits(1, "", "");
    body_all_splits(0, "\r\n\r\n", "\r\n");
    body_all_splits(1, "\r\n \r\n\t\r\n", "");
    /* a last line without CRLF gets one */
    body_all_splits(0, "abc", "abc\r\n");
    body_all_splits(1, "abc  ", "abc\r\n");
    /* empty lines inside stay, white space only lines become empty */
    body_all_splits(1, "a\r\n \r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n");
    body_all_splits(0, "a\r\n \r\n\r\nb\r\n\r\n", "a\r\n \r\n\r\nb\r\n");
    /* a lone CR is an ordinary character; a lone LF too */
    body_all_splits(0, "a\rb\r\n", "a\rb\r\n");
    body_all_splits(1, "a \r b\r\n", "a \r b\r\n");
    body_all_splits(0, "a\nb\r\n", "a\nb\r\n");
    body_all_splits(0, "a\r", "a\r\r\n");
    /* relaxed: leading white space is one SP, not none */
    body_all_splits(1, "\t\t x\r\n", " x\r\n");
    /* the fast path's edges: runs passed in place end at empty lines,
     * changed white space and a CR that a chunk may split from its LF */
    body_all_splits(0, "a\r\n\r\nb\r\n\r\n\r\n", "a\r\n\r\nb\r\n");
    body_all_splits(0, "x\r\n\r\ny\r", "x\r\n\r\ny\r\r\n");
    body_all_splits(0, "a\r\r\nb\r\r\r\n", "a\r\r\nb\r\r\r\n");
    body_all_splits(1, "a  b\tc \r\nd\r\n\r\ne\r\n \r\n", "a b c\r\nd\r\n\r\ne\r\n");
    body_all_splits(1, "a\r\r\nb \r\r\n", "a\r\r\nb \r\r\n");
    body_all_splits(1, "one two\r\nthree four\r\n five\r\n",
		    "one two\r\nthree four\r\n five\r\n");
    body_all_splits(1, "ab \t", "ab\r\n");
    body_all_splits(1, "a\nb \n c\r\n", "a\nb \n c\r\n");
    buf_free(&canon_out);
}

/* a body of many empty lines costs a counter, not memory */
static void test_canon_body_many_empty_lines(void **state)
{
    struct dkim_bodycanon c;
    static char crlf[2 * 4096];

    (void) state;
    for (size_t i = 0; i < sizeof(crlf); i += 2)
	memcpy(crlf + i, "\r\n", 2);
    buf_init(&canon_out);
    dkim_bodycanon_init(&c, 0, collect, NULL);
    for (int i = 0; i < 256; i++)
	dkim_bodycanon_feed(&c, crlf, sizeof(crlf));
    assert_int_equal(canon_out.len, 0);	/* all held back as a count */
    dkim_bodycanon_feed(&c, "x", 1);
    dkim_bodycanon_end(&c);
    assert_int_equal(canon_out.len, 256 * 4096 * 2 + 3);
    buf_free(&canon_out);
}

/* base64 --------------------------------------------------------------- */

static void test_base64(void **state)
{
    unsigned char out[16];

    (void) state;
    assert_int_equal(dkim_base64("aGVsbG8=", 8, out, sizeof(out)), 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(dkim_base64(" aGV\r\n sbG8 ", 12, out, sizeof(out)), 5);
    assert_int_equal(dkim_base64("aGVsbG8", 7, out, sizeof(out)), 5);	/* unpadded */
    assert_int_equal(dkim_base64("aGV=sbG8", 8, out, sizeof(out)), -1);	/* data after = */
    assert_int_equal(dkim_base64("aGVs*G8=", 8, out, sizeof(out)), -1);
    assert_int_equal(dkim_base64("a", 1, out, sizeof(out)), -1);
    assert_int_equal(dkim_base64("aGVsbG8=", 8, out, 4), -1);	/* too long */
}

/* signatures ----------------------------------------------------------- */

#define GOOD_SIG " v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=AAAA; b=BBBB"

static enum dkim_result parse(enum dkim_sig_kind kind, const char *v, char *why)
{
    struct dkim_sig s;
    enum dkim_result r = dkim_sig_parse(&s, kind, v, strlen(v), why, 160);

    dkim_sig_free(&s);
    return r;
}

static void test_sig_parse(void **state)
{
    struct dkim_sig s;
    char    why[160];
    const char *v = " v=1; a=ed25519-sha256; c=relaxed; d=Example.COM; s=sel;\r\n"
	" i=joe@sub.example.com; h=From : To:subject; l=100; t=10; x=20; q=dns/txt;\r\n"
	" bh=AAAA; b=BBBB\r\n CCCC; z=x";

    (void) state;
    assert_int_equal(dkim_sig_parse(&s, DKIM_KIND_DKIM, v, strlen(v), why, sizeof(why)),
		     DKIM_PASS);
    assert_int_equal(s.alg, DKIM_ALG_ED25519_SHA256);
    assert_int_equal(s.hrelaxed, 1);
    assert_int_equal(s.brelaxed, 0);	/* "relaxed" alone: relaxed/simple */
    assert_string_equal(s.d, "example.com");
    assert_string_equal(s.i, "joe@sub.example.com");
    assert_string_equal(s.b8, "BBBBCCCC");
    assert_int_equal(s.nh, 3);
    assert_string_equal(s.h[0], "from");
    assert_string_equal(s.h[2], "subject");
    assert_int_equal(s.l, 100);
    assert_int_equal(s.x, 20);
    assert_int_equal(s.siglen, 6);
    /* b= emptied, the rest as it came */
    assert_non_null(strstr(s.value_nob, "bh=AAAA; b=; z=x"));
    dkim_sig_free(&s);

    /* i= defaults to @d */
    assert_int_equal(dkim_sig_parse(&s, DKIM_KIND_DKIM, GOOD_SIG, strlen(GOOD_SIG), why,
				    sizeof(why)), DKIM_PASS);
    assert_string_equal(s.i, "@example.com");
    assert_int_equal(s.hrelaxed + s.brelaxed, 0);	/* simple/simple */
    dkim_sig_free(&s);
}

static void test_sig_parse_refused(void **state)
{
    static const struct {
	const char *value;
	enum dkim_result r;
	const char *why;
    }       cases[] = {
	{" v=1; a=rsa-sha1; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_POLICY,
	"rsa-sha1 is not accepted (RFC 8301)"},
	{" v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_NEUTRAL,
	"unknown version"},
	{" a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_NEUTRAL,
	"no v= tag"},
	{" v=1; a=rsa-md5; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_NEUTRAL,
	"unknown algorithm"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=to; bh=AAAA; b=BBBB", DKIM_NEUTRAL,
	"From is not signed"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA", DKIM_NEUTRAL,
	"no b= tag"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=BBBB", DKIM_NEUTRAL,
	"no bh= tag"},
	{" v=1; a=rsa-sha256; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_NEUTRAL, "no d= tag"},
	{" v=1; a=rsa-sha256; d=exa mple..com; s=sel; h=from; bh=AAAA; b=BBBB", DKIM_NEUTRAL,
	"bad d= domain"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; i=a@example.org",
	DKIM_NEUTRAL, "i= is not within d="},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; i=a@xexample.com",
	DKIM_NEUTRAL, "i= is not within d="},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; c=fancy",
	DKIM_NEUTRAL, "unknown canonicalization"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; c=simple/x",
	DKIM_NEUTRAL, "unknown canonicalization"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; q=http",
	DKIM_NEUTRAL, "q= without dns/txt"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; l=-1",
	DKIM_NEUTRAL, "bad l= tag"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB; t=20; x=10",
	DKIM_NEUTRAL, "x= before t="},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=B*BB", DKIM_NEUTRAL,
	"b= is not base64 or too long"},
	{" v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; bh=AAAA; b=BBBB",
	DKIM_NEUTRAL, "bad h= list (or more than 128 names)"},
	{" v=1; v=1; a=rsa-sha256", DKIM_NEUTRAL, "bad tag-list: tag given twice"},
    };
    char    why[160];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	enum dkim_result r = parse(DKIM_KIND_DKIM, cases[i].value, why);

	if (r != cases[i].r || strcmp(why, cases[i].why) != 0)
	    fail_msg("\"%s\": %s \"%s\", expected %s \"%s\"", cases[i].value,
		     dkim_result_name(r), why, dkim_result_name(cases[i].r), cases[i].why);
    }
    /* an l= of more digits than any counter: kept as the largest value */
    struct dkim_sig s;
    const char *huge = GOOD_SIG "; l=99999999999999999999999999999";

    assert_int_equal(dkim_sig_parse(&s, DKIM_KIND_DKIM, huge, strlen(huge), why, 160),
		     DKIM_PASS);
    assert_true(s.l > 1000000000000000000LL);
    dkim_sig_free(&s);
}

static void test_sig_parse_limits(void **state)
{
    struct buf b;
    char    why[160];

    (void) state;
    /* h= of DKIM_MAX_SIGNED_HEADERS names, then one more */
    buf_init(&b);
    buf_puts(&b, " v=1; a=rsa-sha256; d=example.com; s=sel; bh=AAAA; b=BBBB; h=from");
    for (int i = 1; i < DKIM_MAX_SIGNED_HEADERS; i++)
	buf_puts(&b, ":x");
    assert_int_equal(parse(DKIM_KIND_DKIM, b.s, why), DKIM_PASS);
    buf_puts(&b, ":x");
    assert_int_equal(parse(DKIM_KIND_DKIM, b.s, why), DKIM_NEUTRAL);
    /* a value of DKIM_MAX_SIG_SIZE bytes, then one more */
    buf_reset(&b);
    buf_puts(&b, GOOD_SIG "; z=");
    while (b.len < DKIM_MAX_SIG_SIZE)
	buf_putc(&b, 'x');
    assert_int_equal(parse(DKIM_KIND_DKIM, b.s, why), DKIM_PASS);
    buf_putc(&b, 'x');
    assert_int_equal(parse(DKIM_KIND_DKIM, b.s, why), DKIM_PERMERROR);
    assert_string_equal(why, "signature longer than 16384 bytes");
    buf_free(&b);
}

static void test_arc_parse(void **state)
{
    char    why[160];
    struct dkim_sig s;
    const char *as = " i=2; cv=pass; a=rsa-sha256; d=example.org; s=seal; t=1; b=QUFB";

    (void) state;
    assert_int_equal(dkim_sig_parse(&s, DKIM_KIND_AS, as, strlen(as), why, 160), DKIM_PASS);
    assert_int_equal(s.instance, 2);
    assert_int_equal(s.cv, ARC_CV_PASS);
    assert_int_equal(s.hrelaxed, 1);
    dkim_sig_free(&s);
    assert_int_equal(parse(DKIM_KIND_AS, " i=1; cv=maybe; a=rsa-sha256; d=e.org; s=x; b=QUFB",
			   why), DKIM_NEUTRAL);
    assert_int_equal(parse(DKIM_KIND_AS, " i=51; cv=none; a=rsa-sha256; d=e.org; s=x; b=QUFB",
			   why), DKIM_NEUTRAL);
    assert_int_equal(parse(DKIM_KIND_AS, " i=0; cv=none; a=rsa-sha256; d=e.org; s=x; b=QUFB",
			   why), DKIM_NEUTRAL);
    assert_int_equal(parse(DKIM_KIND_AS,
			   " i=1; cv=none; a=rsa-sha256; d=e.org; s=x; h=from; b=QUFB", why),
		     DKIM_NEUTRAL);
    assert_string_equal(why, "h= in an ARC-Seal");
    /* an AMS has no v=, an instance i=, and never signs ARC-Seal */
    assert_int_equal(parse(DKIM_KIND_AMS,
		     " i=1; a=rsa-sha256; d=e.org; s=x; h=from; bh=AAAA; b=QUFB", why),
		     DKIM_PASS);
    assert_int_equal(parse(DKIM_KIND_AMS,
	     " i=1; a=rsa-sha256; d=e.org; s=x; h=from:arc-seal; bh=AAAA; b=QUFB", why),
		     DKIM_NEUTRAL);
}

/* key records ---------------------------------------------------------- */

static enum dkim_result key(const char *text, char *why, struct dkim_key *k)
{
    return dkim_key_parse(k, text, strlen(text), 1024, why, 160);
}

static void test_key_records(void **state)
{
    struct keytab t;
    struct dkim_key k;
    char    why[160];
    const char *rsa = NULL, *ed = NULL, *shortkey = NULL, *b8192 = NULL, *b8193 = NULL;

    (void) state;
    memset(&t, 0, sizeof(t));
    keytab_load(&t);
    for (size_t i = 0; i < t.n; i++) {
	if (strcmp(t.name[i], "rsa._domainkey.dkim.test") == 0)
	    rsa = strstr(t.text[i], "p=") + 2;
	if (strcmp(t.name[i], "ed._domainkey.dkim.test") == 0)
	    ed = strstr(t.text[i], "p=") + 2;
	if (strcmp(t.name[i], "short._domainkey.dkim.test") == 0)
	    shortkey = strstr(t.text[i], "p=") + 2;
	if (strcmp(t.name[i], "bits8192._domainkey.dkim.test") == 0)
	    b8192 = strstr(t.text[i], "p=") + 2;
	if (strcmp(t.name[i], "bits8193._domainkey.dkim.test") == 0)
	    b8193 = strstr(t.text[i], "p=") + 2;
    }
    assert_non_null(b8192);
    assert_non_null(b8193);
    assert_non_null(rsa);
    assert_non_null(ed);
    assert_non_null(shortkey);

    struct buf b;

    buf_init(&b);
#define KEY(...) (buf_reset(&b), buf_printf(&b, __VA_ARGS__), key(b.s, why, &k))
    assert_int_equal(KEY("v=DKIM1; k=rsa; p=%s", rsa), DKIM_PASS);
    assert_int_equal(k.type, DKIM_ALG_RSA_SHA256);
    assert_int_equal(k.bits, 2048);
    assert_int_equal(k.flags, 0);
    assert_true(k.hash_sha256);
    dkim_key_free(&k);
    /* no v=, no k=: RSA; t= flags; s=email; h= without sha256 */
    assert_int_equal(KEY("p=%s; t=y:s; s=email; h=sha1", rsa), DKIM_PASS);
    assert_int_equal(k.flags, DKIM_KEY_FLAG_TESTING | DKIM_KEY_FLAG_STRICT);
    assert_false(k.hash_sha256);
    dkim_key_free(&k);
    assert_int_equal(KEY("v=DKIM1; k=ed25519; p=%s", ed), DKIM_PASS);
    assert_int_equal(k.type, DKIM_ALG_ED25519_SHA256);
    dkim_key_free(&k);
    /* unknown tags are ignored */
    assert_int_equal(KEY("v=DKIM1; g=*; n=notes here; p=%s", rsa), DKIM_PASS);
    dkim_key_free(&k);

    /* refused */
    assert_int_equal(KEY("v=DKIM1; k=rsa; p=%s", shortkey), DKIM_POLICY);
    assert_string_equal(why, "RSA key of 512 bits, fewer than 1024 (RFC 8301)");
    dkim_key_free(&k);
    assert_int_equal(KEY("v=DKIM1; k=rsa; p="), DKIM_PERMERROR);
    assert_string_equal(why, "key revoked (empty p=)");
    assert_int_equal(KEY("k=rsa; v=DKIM1; p=%s", rsa), DKIM_PERMERROR);	/* v= not first */
    assert_int_equal(KEY("v=DKIM2; p=%s", rsa), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1; k=dsa; p=%s", rsa), DKIM_PERMERROR);
    assert_string_equal(why, "unknown key type k=");
    assert_int_equal(KEY("v=DKIM1; s=web; p=%s", rsa), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1; k=rsa"), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1; p=%s", "not*base64"), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1; p=%s", "AAAAAAAA"), DKIM_PERMERROR);	/* no key */
    assert_int_equal(KEY("v=DKIM1; k=ed25519; p=%s", rsa), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1; k=rsa; p=%s", ed), DKIM_PERMERROR);
    assert_int_equal(KEY("v=DKIM1 p=%s", rsa), DKIM_PERMERROR);

    /* DKIM_MAX_RSA_BITS, then one bit more */
    assert_int_equal(KEY("v=DKIM1; p=%s", b8192), DKIM_PASS);
    assert_int_equal(k.bits, DKIM_MAX_RSA_BITS);
    dkim_key_free(&k);
    assert_int_equal(KEY("v=DKIM1; p=%s", b8193), DKIM_POLICY);
    assert_string_equal(why, "RSA key of 8193 bits, more than 8192");
    dkim_key_free(&k);

    /* a record of DKIM_MAX_KEY_SIZE bytes, then one more */
    buf_reset(&b);
    buf_printf(&b, "v=DKIM1; p=%s; n=", rsa);
    while (b.len < DKIM_MAX_KEY_SIZE)
	buf_putc(&b, 'x');
    assert_int_equal(key(b.s, why, &k), DKIM_PASS);
    dkim_key_free(&k);
    buf_putc(&b, 'x');
    assert_int_equal(key(b.s, why, &k), DKIM_PERMERROR);
    assert_string_equal(why, "key record longer than 2048 bytes");
#undef KEY
    buf_free(&b);
    keytab_free(&t);
}

/* the key cache hands out keys that outlive the cache's own copy, never
 * keeps a refusal, and tells minimum sizes apart */
static void test_key_cache(void **state)
{
    struct keytab t;
    struct dkim_key a, b;
    char    why[160];
    const char *rec = NULL, *shortrec = NULL;

    (void) state;
    memset(&t, 0, sizeof(t));
    keytab_load(&t);
    for (size_t i = 0; i < t.n; i++) {
	if (strcmp(t.name[i], "rsa._domainkey.dkim.test") == 0)
	    rec = t.text[i];
	if (strcmp(t.name[i], "short._domainkey.dkim.test") == 0)
	    shortrec = t.text[i];
    }
    dkim_key_cache_flush();
    assert_int_equal(dkim_key_get(&a, rec, strlen(rec), 1024, why, 160), DKIM_PASS);
    assert_int_equal(dkim_key_get(&b, rec, strlen(rec), 1024, why, 160), DKIM_PASS);
    assert_ptr_equal(a.pkey, b.pkey);	/* the second from the cache */
    dkim_key_cache_flush();
    dkim_key_free(&a);
    assert_int_equal(EVP_PKEY_get_bits(b.pkey), 2048);	/* still held */
    dkim_key_free(&b);
    /* a stricter minimum is another entry */
    assert_int_equal(dkim_key_get(&a, rec, strlen(rec), 1024, why, 160), DKIM_PASS);
    dkim_key_free(&a);
    assert_int_equal(dkim_key_get(&a, rec, strlen(rec), 4096, why, 160), DKIM_POLICY);
    dkim_key_free(&a);
    /* refusals are not kept: the same answer every time */
    for (int i = 0; i < 2; i++) {
	assert_int_equal(dkim_key_get(&a, shortrec, strlen(shortrec), 1024, why, 160),
			 DKIM_POLICY);
	dkim_key_free(&a);
    }
    /* more records than the cache holds: evicted ones are made again */
    for (int i = 0; i < DKIM_KEY_CACHE + 3; i++) {
	struct buf r;

	buf_init(&r);
	buf_printf(&r, "%s; n=%d", rec, i);
	assert_int_equal(dkim_key_get(&a, r.s, r.len, 1024, why, 160), DKIM_PASS);
	dkim_key_free(&a);
	buf_free(&r);
    }
    dkim_key_cache_flush();
    keytab_free(&t);
}

/* RFC 8463 Appendix A --------------------------------------------------- */

static void test_rfc8463_example(void **state)
{
    struct keytab t;
    size_t  len;
    char   *msg = read_file("tests/data/dkim/rfc8463.eml", &len);
    struct dkim_conf c;

    (void) state;
    memset(&t, 0, sizeof(t));
    /* RFC 8463 A.2's published keys */
    keytab_add(&t, "brisbane._domainkey.football.example.com",
	       "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    keytab_add(&t, "test._domainkey.football.example.com",
	       "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6"
	       "Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj"
	       "+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
    dkim_conf_default(&c);
    for (size_t chunk = 0; chunk < 4; chunk++) {
	struct dkim_verify *v = dkim_verify_new(&c, NULL);

	dkim_verify_set_keys(v, keytab_get, &t);
	feed(v, msg, len, chunk);
	assert_int_equal(dkim_verify_finish(v), 1);
	assert_int_equal(dkim_verify_count(v), 2);
	const struct dkim_sig_result *r = dkim_verify_result(v, 0);

	assert_int_equal(r->index, 0);
	assert_string_equal(dkim_result_name(r->result), "pass");
	assert_string_equal(r->a, "ed25519-sha256");
	assert_string_equal(r->s, "brisbane");
	assert_string_equal(r->d, "football.example.com");
	assert_string_equal(r->i, "@football.example.com");
	assert_string_equal(r->b, "9/dsDChY");
	r = dkim_verify_result(v, 1);
	assert_string_equal(dkim_result_name(r->result), "pass");
	assert_string_equal(r->a, "rsa-sha256");
	assert_string_equal(r->reason, "good signature");
	assert_null(dkim_verify_result(v, 2));
	dkim_verify_free(v);
    }
    /* one byte of the body changed: both fail, on the body hash */
    char   *p = strstr(msg, "hungry");

    p[0] = 'H';
    struct dkim_verify *v = dkim_verify_new(&c, NULL);

    dkim_verify_set_keys(v, keytab_get, &t);
    feed(v, msg, len, 0);
    assert_int_equal(dkim_verify_finish(v), 1);
    for (size_t i = 0; i < 2; i++) {
	assert_int_equal(dkim_verify_result(v, i)->result, DKIM_FAIL);
	assert_string_equal(dkim_verify_result(v, i)->reason, "body hash did not verify");
    }
    dkim_verify_free(v);
    free(msg);
    keytab_free(&t);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_tags_basic),
	cmocka_unit_test(test_tags_bad),
	cmocka_unit_test(test_tags_limit),
	cmocka_unit_test(test_canon_header_rfc),
	cmocka_unit_test(test_canon_body),
	cmocka_unit_test(test_canon_body_many_empty_lines),
	cmocka_unit_test(test_base64),
	cmocka_unit_test(test_sig_parse),
	cmocka_unit_test(test_sig_parse_refused),
	cmocka_unit_test(test_sig_parse_limits),
	cmocka_unit_test(test_arc_parse),
	cmocka_unit_test(test_key_records),
	cmocka_unit_test(test_key_cache),
	cmocka_unit_test(test_rfc8463_example),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
