/*
 * test_str.c - growable buffers: decimal numbers without printf, and the
 * printf path they replace on hot paths giving the same text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/str.h"

static void test_put_long(void **state)
{
    static const long v[] = {0, 7, -7, 10, 300, -86400, 2147483647L, LONG_MAX, LONG_MIN};
    struct buf a, b;

    (void) state;
    buf_init(&a);
    buf_init(&b);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
	buf_reset(&a);
	buf_reset(&b);
	buf_puts(&a, "x=");
	buf_put_long(&a, v[i]);
	buf_printf(&b, "x=%ld", v[i]);
	assert_string_equal(a.s, b.s);
	assert_int_equal(a.len, b.len);
    }
    buf_free(&a);
    buf_free(&b);
}

/* str_ulong - digits checked against max before each step, never overflowing */
/* a lone LF becomes CRLF; CRLF, a lone CR and other bytes stay */
static void test_append_crlf(void **state)
{
    struct buf b;

    (void) state;
    buf_init(&b);
    buf_append_crlf(&b, "\na\r\nb\nc\rd\n", 10);
    assert_int_equal(b.len, 13);
    assert_memory_equal(b.s, "\r\na\r\nb\r\nc\rd\r\n", 14);
    buf_reset(&b);
    buf_append_crlf(&b, "", 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_ulong(void **state)
{
    unsigned long v = 7;
    const char *end;

    (void) state;
    assert_int_equal(str_ulong("86400s", &end, 86400, &v), 0);
    assert_int_equal(v, 86400);
    assert_string_equal(end, "s");
    v = 7;
    assert_int_equal(str_ulong("86401", &end, 86400, &v), -2);
    assert_int_equal(v, 7);
    assert_string_equal(end, "");
    assert_int_equal(str_ulong("x1", &end, 10, &v), -1);
    assert_int_equal(str_ulong("", NULL, 10, &v), -1);
    assert_int_equal(str_ulong("18446744073709551615", NULL, ULONG_MAX, &v), 0);
    assert_true(v == ULONG_MAX);
    assert_int_equal(str_ulong("18446744073709551616", NULL, ULONG_MAX, &v), -2);
    assert_int_equal(str_ulong("999999999999999999999999999999w", &end, ULONG_MAX, &v), -2);
    assert_string_equal(end, "w");
    assert_int_equal(str_ulong("0", NULL, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(str_ulong("1", NULL, 0, &v), -2);
    assert_int_equal(str_ulong("0009", NULL, 9, &v), 0);
    assert_int_equal(v, 9);
}

/* every byte value at every position of every length up to 40, against
 * the byte-at-a-time rule, in both modes, copied and in place */
static void test_copy_visible(void **state)
{
    char    src[48], dst[48], want[48];

    (void) state;
    for (int high_ok = 0; high_ok <= 1; high_ok++) {
	for (size_t len = 0; len <= 40; len++) {
	    for (int c = 0; c < 256; c++) {
		for (size_t pos = 0; pos < len; pos++) {
		    for (size_t i = 0; i < len; i++)
			src[i] = (char) ('a' + i % 26);
		    src[pos] = (char) c;
		    for (size_t i = 0; i < len; i++) {
			unsigned char u = (unsigned char) src[i];

			want[i] = u < 0x20 || u == 0x7f || (!high_ok && u > 0x7f) ? '#' : src[i];
		    }
		    memset(dst, 'z', sizeof(dst));
		    str_copy_visible(dst, src, len, high_ok, '#');
		    assert_memory_equal(dst, want, len);
		    assert_int_equal(dst[len], 'z');	/* not a byte more */
		    str_copy_visible(src, src, len, high_ok, '#');
		    assert_memory_equal(src, want, len);
		}
	    }
	}
    }
}

/* buf_json_lines: one string per line, the last newline ends a line, an
 * empty line stays, and each line is escaped as buf_json_str escapes it */
static void test_json_lines(void **state)
{
    static const struct {
	const char *in, *want;
    } c[] = {
	{"", "[]"},
	{"one", "[\"one\"]"},
	{"one\n", "[\"one\"]"},
	{"one\ntwo", "[\"one\",\"two\"]"},
	{"\n\nx\n", "[\"\",\"\",\"x\"]"},
	{"a \"q\" \\\t\nb", "[\"a \\\"q\\\" \\\\\\u0009\",\"b\"]"},
    };
    struct buf b;

    (void) state;
    buf_init(&b);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
	buf_reset(&b);
	buf_json_lines(&b, c[i].in);
	assert_string_equal(b.s, c[i].want);
    }
    buf_free(&b);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_put_long),
	cmocka_unit_test(test_ulong),
	cmocka_unit_test(test_append_crlf),
	cmocka_unit_test(test_copy_visible),
	cmocka_unit_test(test_json_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
