/*
 * test_dkim_sign.c - DKIM signing (src/dkim/sign.c) and key generation
 * (src/dkim/keygen.c): what we sign verifies with our verifier, for RSA,
 * Ed25519 and both at once, in both canonicalisations and any chunking;
 * From is oversigned; key files readable by others are refused by name;
 * the header limit; TXT strings of at most 255 bytes.  (python3-dkim
 * checks the same signatures independently: tests/proto/test_dkim_sign.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkim/dkim_impl.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "dkim_fixture.h"

static const char MSG[] =
    "Received: from a by b; Sat, 5 Dec 2026 06:00:00 +0000\r\n"
    "From: Alice <alice@sign.test>\r\n"
    "To: bob@example.net,\r\n\t carol@example.net\r\n"
    "Subject:  signed   by us\r\n"
    "Date: Sat, 5 Dec 2026 06:00:00 +0000\r\n"
    "Message-ID: <1@sign.test>\r\n"
    "X-Unsigned: whatever\r\n"
    "\r\n"
    "Hello  Bob,\r\n\r\nthe body, with trailing space  \r\n\r\n\r\n";

struct keys {
    char    dir[64];
    char    rsa[128], ed[128];
    struct keytab t;
};

static void make_keys(struct keys *k)
{
    struct buf rec;
    char    why[256];

    memset(k, 0, sizeof(*k));
    strcpy(k->dir, "/tmp/mxsign.XXXXXX");
    assert_non_null(mkdtemp(k->dir));
    snprintf(k->rsa, sizeof(k->rsa), "%s/rsa.private", k->dir);
    snprintf(k->ed, sizeof(k->ed), "%s/ed.private", k->dir);
    buf_init(&rec);
    assert_int_equal(dkim_keygen(k->rsa, DKIM_KEY_RSA, 1024, &rec, why, sizeof(why)), 0);
    keytab_add(&k->t, "rsa._domainkey.sign.test", rec.s);
    buf_reset(&rec);
    assert_int_equal(dkim_keygen(k->ed, DKIM_KEY_ED25519, 0, &rec, why, sizeof(why)), 0);
    keytab_add(&k->t, "ed._domainkey.sign.test", rec.s);
    buf_free(&rec);
}

static void drop_keys(struct keys *k)
{
    unlink(k->rsa);
    unlink(k->ed);
    rmdir(k->dir);
    keytab_free(&k->t);
}

/* sign_msg - msg signed with the named keys (fed in chunks); a new string */
static char *sign_msg(const char *msg, const struct dkim_sign_conf *c,
		              struct dkim_signkey **keys, size_t nkeys, size_t chunk)
{
    struct dkim_sign *s = dkim_sign_new(c);
    const char *p = msg, *end = msg + strlen(msg);
    struct buf out;
    char    why[256];

    for (size_t i = 0; i < nkeys; i++)
	assert_int_equal(dkim_sign_add_key(s, keys[i]), 0);
    while (!(p[0] == '\r' && p[1] == '\n')) {
	const char *colon = strchr(p, ':'), *e = colon;

	while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
	    e++;
	dkim_sign_header(s, p, (size_t) (colon - p), colon + 1, (size_t) (e - colon - 1));
	p = e + 2;
    }
    p += 2;
    if (chunk == 0)
	chunk = (size_t) (end - p) + 1;
    for (; p < end; p += chunk)
	dkim_sign_body(s, p, (size_t) (end - p) < chunk ? (size_t) (end - p) : chunk);
    assert_int_equal(dkim_sign_finish(s, 1796450400, why, sizeof(why)), 0);
    assert_int_equal(dkim_sign_count(s), nkeys);
    buf_init(&out);
    for (size_t i = 0; i < nkeys; i++)
	buf_printf(&out, "DKIM-Signature:%s\r\n", dkim_sign_value(s, i));
    buf_puts(&out, msg);
    dkim_sign_free(s);
    return buf_steal(&out);
}

/* verify - the results of every signature, as "pass,fail" */
static void verify(struct keys *k, const char *msg, size_t chunk, char *res, size_t len)
{
    struct dkim_conf c;
    struct dkim_verify *v;

    dkim_conf_default(&c);
    v = dkim_verify_new(&c, NULL);
    dkim_verify_set_keys(v, keytab_get, &k->t);
    feed(v, msg, strlen(msg), chunk);
    assert_int_equal(dkim_verify_finish(v), 1);
    res[0] = 0;
    for (size_t i = 0; i < dkim_verify_count(v); i++)
	snprintf(res + strlen(res), len - strlen(res), "%s%s", i ? "," : "",
		 dkim_result_name(dkim_verify_result(v, i)->result));
    dkim_verify_free(v);
}

static void test_sign_verifies(void **state)
{
    struct keys k;
    struct dkim_signkey *rsa, *ed, *both[2];
    char    why[256], res[64];

    (void) state;
    make_keys(&k);
    assert_int_equal(dkim_signkey_load(k.rsa, "sign.test", "rsa", &rsa, why, sizeof(why)), 0);
    assert_int_equal(dkim_signkey_load(k.ed, "sign.test", "ed", &ed, why, sizeof(why)), 0);
    assert_string_equal(dkim_signkey_domain(ed), "sign.test");
    both[0] = rsa;
    both[1] = ed;
    for (int canon = 0; canon < 4; canon++) {
	struct dkim_sign_conf c = {.hrelaxed = canon & 1,.brelaxed = canon >> 1 };

	for (size_t chunk = 0; chunk < 4; chunk += 3) {
	    char   *m = sign_msg(MSG, &c, &rsa, 1, chunk);

	    verify(&k, m, 1, res, sizeof(res));
	    assert_string_equal(res, "pass");
	    free(m);
	    m = sign_msg(MSG, &c, &ed, 1, chunk);
	    verify(&k, m, 0, res, sizeof(res));
	    assert_string_equal(res, "pass");
	    free(m);
	    /* RFC 8463 dual signing: both verify */
	    m = sign_msg(MSG, &c, both, 2, chunk);
	    assert_non_null(strstr(m, "a=rsa-sha256"));
	    assert_non_null(strstr(m, "a=ed25519-sha256"));
	    verify(&k, m, 7, res, sizeof(res));
	    assert_string_equal(res, "pass,pass");
	    free(m);
	}
    }
    dkim_signkey_free(rsa);
    dkim_signkey_free(ed);
    drop_keys(&k);
}

static void test_oversign_and_header_list(void **state)
{
    struct keys k;
    struct dkim_signkey *ed;
    struct dkim_sign_conf c = {.hrelaxed = 1,.brelaxed = 1 };
    char    why[256], res[64];
    char   *m, *h, *bad;
    struct buf b;

    (void) state;
    make_keys(&k);
    assert_int_equal(dkim_signkey_load(k.ed, "sign.test", "ed", &ed, why, sizeof(why)), 0);
    m = sign_msg(MSG, &c, &ed, 1, 0);
    /* the default list: what the message has, From once more; no Received */
    h = strstr(m, " h=");
    assert_non_null(h);
    assert_int_equal(strncmp(h, " h=from:from:subject:date:to:message-id;", 40), 0);
    assert_null(strstr(m, "received"));
    assert_null(strstr(m, "x-unsigned"));
    assert_non_null(strstr(m, "c=relaxed/relaxed; d=sign.test; s=ed;"));
    /* a second From added after signing breaks it; a Received does not */
    buf_init(&b);
    buf_puts(&b, "From: mallory@evil.example\r\n");
    buf_puts(&b, m);
    verify(&k, b.s, 0, res, sizeof(res));
    assert_string_equal(res, "fail");
    buf_reset(&b);
    buf_puts(&b, "Received: from c by d\r\n");
    buf_puts(&b, m);
    verify(&k, b.s, 0, res, sizeof(res));
    assert_string_equal(res, "pass");
    bad = xstrdup(m);
    memcpy(strstr(bad, "signed   by"), "Signed", 6);
    verify(&k, bad, 0, res, sizeof(res));
    assert_string_equal(res, "fail");
    free(bad);
    free(m);
    /* a list of our own, with an oversigned name the message lacks */
    struct dkim_sign_conf c2 = {.hrelaxed = 1,.brelaxed = 1,.headers = "From, X-Unsigned,subject",
	.oversign = "from:subject:reply-to"
    };

    m = sign_msg(MSG, &c2, &ed, 1, 0);
    assert_non_null(strstr(m, " h=from:from:x-unsigned:subject:subject;"));
    verify(&k, m, 0, res, sizeof(res));
    assert_string_equal(res, "pass");
    free(m);
    buf_free(&b);
    dkim_signkey_free(ed);
    drop_keys(&k);
}

static void test_key_files(void **state)
{
    struct keys k;
    struct dkim_signkey *key;
    char    why[512], link[160], junk[160];

    (void) state;
    make_keys(&k);
    /* group- or world-readable: refused, naming the file */
    assert_int_equal(chmod(k.rsa, 0640), 0);
    assert_int_equal(dkim_signkey_load(k.rsa, "sign.test", "rsa", &key, why, sizeof(why)), -1);
    assert_null(key);
    assert_non_null(strstr(why, k.rsa));
    assert_non_null(strstr(why, "accessible to group or others (mode 0640): refused"));
    assert_int_equal(chmod(k.rsa, 0604), 0);
    assert_int_equal(dkim_signkey_load(k.rsa, "sign.test", "rsa", &key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "(mode 0604)"));
    assert_int_equal(chmod(k.rsa, 0400), 0);
    assert_int_equal(dkim_signkey_load(k.rsa, "sign.test", "rsa", &key, why, sizeof(why)), 0);
    dkim_signkey_free(key);
    /* a symbolic link, a missing file, a file that holds no key */
    snprintf(link, sizeof(link), "%s/link.private", k.dir);
    assert_int_equal(symlink(k.ed, link), 0);
    assert_int_equal(dkim_signkey_load(link, "sign.test", "ed", &key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "link.private"));
    unlink(link);
    assert_int_equal(dkim_signkey_load(link, "sign.test", "ed", &key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "No such file"));
    snprintf(junk, sizeof(junk), "%s/junk.private", k.dir);
    FILE   *fp = fopen(junk, "w");

    fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", fp);
    fclose(fp);
    assert_int_equal(chmod(junk, 0600), 0);
    assert_int_equal(dkim_signkey_load(junk, "sign.test", "x", &key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no PEM private key"));
    unlink(junk);
    drop_keys(&k);
}

static void test_limits(void **state)
{
    struct keys k;
    struct dkim_signkey *ed;
    struct dkim_sign_conf c = {.hrelaxed = 1,.brelaxed = 1 };
    struct dkim_sign *s;
    char    why[256];

    (void) state;
    make_keys(&k);
    assert_int_equal(dkim_signkey_load(k.ed, "sign.test", "ed", &ed, why, sizeof(why)), 0);
    /* DKIM_MAX_HEADERS fields sign; one more does not */
    for (int extra = 0; extra < 2; extra++) {
	s = dkim_sign_new(&c);
	dkim_sign_add_key(s, ed);
	for (int i = 0; i < DKIM_MAX_HEADERS + extra; i++)
	    dkim_sign_header(s, "X-N", 3, " 1", 2);
	assert_int_equal(dkim_sign_finish(s, 0, why, sizeof(why)), extra ? -1 : 0);
	if (extra)
	    assert_non_null(strstr(why, "past the limit"));
	dkim_sign_free(s);
    }
    s = dkim_sign_new(&c);
    for (int i = 0; i < DKIM_SIGN_MAX_KEYS; i++)
	assert_int_equal(dkim_sign_add_key(s, ed), 0);
    assert_int_equal(dkim_sign_add_key(s, ed), -1);
    dkim_sign_free(s);
    dkim_signkey_free(ed);
    drop_keys(&k);
}

static void test_from_address(void **state)
{
    static const char *const cases[][2] = {
	{" Alice <Alice@Example.COM>", "alice@example.com"},
	{" bob@example.net", "bob@example.net"},
	{" \"Doe, J\" <j@d.example> (comment)", "j@d.example"},
	{"\r\n\tcarol@example.org (Carol)", "carol@example.org"},
	{" undisclosed-recipients:;", NULL},
	{" <>", NULL},
	{"", NULL},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	char   *a = dkim_from_address(cases[i][0]);

	if (cases[i][1] == NULL) {
	    assert_null(a);
	} else {
	    assert_non_null(a);
	    assert_string_equal(a, cases[i][1]);
	}
	free(a);
    }
}

static void test_txt_zone(void **state)
{
    struct buf b;
    char    v[601];

    (void) state;
    buf_init(&b);
    dkim_txt_zone(&b, "v=DKIM1; p=");
    assert_string_equal(b.s, "\"v=DKIM1; p=\"");
    memset(v, 'A', 600);
    v[600] = 0;
    buf_reset(&b);
    dkim_txt_zone(&b, v);
    assert_int_equal(b.len, 255 + 255 + 90 + 6 + 2);
    assert_int_equal(b.s[256], '"');
    assert_int_equal(b.s[257], ' ');
    assert_int_equal(b.s[258], '"');
    buf_reset(&b);
    dkim_txt_zone(&b, "a\"b\\c");
    assert_string_equal(b.s, "\"a\\\"b\\\\c\"");
    buf_free(&b);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sign_verifies),
	cmocka_unit_test(test_oversign_and_header_list),
	cmocka_unit_test(test_key_files),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_from_address),
	cmocka_unit_test(test_txt_zone),
    };

    (void) read_file;			/* dkim_fixture.h helpers not needed here */
    (void) keytab_load;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
