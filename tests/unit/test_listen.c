/*
 * test_listen.c - the one listener parser: what it accepts, what it
 * refuses, and its limits one byte past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "net/listen.h"

static void test_accepted(void **state)
{
    static const struct {
	const char *word;
	enum listen_type type;
	const char *host;
	unsigned port;
	const char *path;
    } ok[] = {
	{"inet:127.0.0.1:10023", LISTEN_INET, "127.0.0.1", 10023, ""},
	{"inet:localhost:1", LISTEN_INET, "localhost", 1, ""},
	{"inet:mx-1.example.org:65535", LISTEN_INET, "mx-1.example.org", 65535, ""},
	{"inet:[::1]:10023", LISTEN_INET, "::1", 10023, ""},
	{"inet:[2001:db8::1]:25", LISTEN_INET, "2001:db8::1", 25, ""},
	{"inet:0.0.0.0:10023", LISTEN_INET, "0.0.0.0", 10023, ""},
	{"unix:/var/spool/postfix/private/mxshield", LISTEN_UNIX, "", 0,
	 "/var/spool/postfix/private/mxshield"},
    };
    struct listen_spec s;
    struct buf err;

    (void) state;
    buf_init(&err);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
	assert_int_equal(listen_parse(ok[i].word, &s, &err), 0);
	assert_int_equal(s.type, ok[i].type);
	assert_string_equal(s.host, ok[i].host);
	assert_int_equal(s.port, ok[i].port);
	assert_string_equal(s.path, ok[i].path);
	assert_string_equal(s.text, ok[i].word);
    }
    assert_int_equal(err.len, 0);
    buf_free(&err);
}

static void test_refused(void **state)
{
    static const char *const bad[] = {
	"", "inet:", "inet:127.0.0.1", "inet:127.0.0.1:", "inet::10023",
	"inet:127.0.0.1:0", "inet:127.0.0.1:65536", "inet:127.0.0.1:99999999",
	"inet:127.0.0.1:+25", "inet:127.0.0.1:2x", "inet:[::1:10023", "inet:[]:10023",
	"inet:[no.v6]:10023", "inet:::1:10023", "inet:bad_host!:10023",
	"inet:a..b:10023", "inet:.a:10023", "tcp:127.0.0.1:10023", "unix:",
	"unix:relative/path", "127.0.0.1:10023",
    };
    struct listen_spec s;
    struct buf err;

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	buf_init(&err);
	assert_int_equal(listen_parse(bad[i], &s, &err), -1);
	assert_true(err.len > 0);
	buf_free(&err);
    }
}

/* limits: a unix path of 107 bytes fits sun_path, 108 does not; a word
 * of LISTEN_TEXT_MAX bytes is read, one more is refused */
static void test_limits(void **state)
{
    struct listen_spec s;
    struct buf err;
    char    word[LISTEN_TEXT_MAX + 2];

    (void) state;
    buf_init(&err);
    strcpy(word, "unix:/");
    memset(word + 6, 'p', 106);
    word[112] = 0;				/* path: 107 bytes */
    assert_int_equal(listen_parse(word, &s, &err), 0);
    assert_int_equal(strlen(s.path), 107);
    word[112] = 'p';
    word[113] = 0;				/* 108 */
    assert_int_equal(listen_parse(word, &s, &err), -1);
    assert_non_null(strstr(err.s, "path longer than 107 bytes"));

    memset(word, 'a', sizeof(word));
    memcpy(word, "inet:", 5);
    memcpy(word + LISTEN_TEXT_MAX - 6, ".a:25", 5);	/* host too long anyway */
    word[LISTEN_TEXT_MAX + 1] = 0;
    buf_reset(&err);
    assert_int_equal(listen_parse(word, &s, &err), -1);
    assert_non_null(strstr(err.s, "longer than 300 bytes"));
    buf_free(&err);
}

static void test_list_and_unix_options(void **state)
{
    struct listen_spec *v;
    struct listen_unix u;
    struct buf err;

    (void) state;
    buf_init(&err);
    assert_int_equal(listen_parse_list("inet:127.0.0.1:1, unix:/a\tinet:[::1]:2", &v, &err), 3);
    assert_int_equal(v[1].type, LISTEN_UNIX);
    assert_string_equal(v[2].host, "::1");
    free(v);
    assert_int_equal(listen_parse_list("inet:127.0.0.1:1, bogus", &v, &err), -1);
    assert_null(v);
    assert_non_null(strstr(err.s, "bogus"));

    buf_reset(&err);
    assert_int_equal(listen_unix_parse("0660", "", "", &u, &err), 0);
    assert_int_equal(u.mode, 0660);
    assert_int_equal(u.uid, (uid_t) -1);
    assert_int_equal(listen_unix_parse("root", "root", "", &u, &err), -1);
    assert_int_equal(listen_unix_parse("01777", "", "", &u, &err), -1);
    assert_int_equal(listen_unix_parse("0600", "no-such-user-here", "", &u, &err), -1);
    assert_int_equal(listen_unix_parse("0600", "root", "root", &u, &err), 0);
    assert_int_equal(u.uid, 0);
    buf_free(&err);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_accepted),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_list_and_unix_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
