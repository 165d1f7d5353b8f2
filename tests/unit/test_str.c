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

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_put_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
