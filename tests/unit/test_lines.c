/*
 * test_lines.c - the one reader of configuration and table files: comments,
 * blank lines, continuation lines, line numbers and the length limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/lines.h"
#include "util/mem.h"

/* collect - every logical line of text as "N:line|" */
static int collect(const char *text, int flags, struct buf *out, struct lines *l)
{
    char   *line;
    int     lineno, rc;

    buf_reset(out);
    lines_text(l, text, flags);
    while ((rc = lines_next(l, &line, &lineno)) > 0)
	buf_printf(out, "%d:%s|", lineno, line);
    return rc;
}

static void test_join(void **state)
{
    struct buf out;
    struct lines l;

    (void) state;
    buf_init(&out);
    assert_int_equal(collect("# comment\n"
			     "a = 1\n"
			     "\n"
			     "b = x,\n"
			     "    y\n"
			     "# a comment inside\n"
			     "   \n"
			     "\tz  \n"
			     "c = last", LINES_JOIN, &out, &l), 0);
    assert_string_equal(out.s, "2:a = 1|4:b = x, y z  |9:c = last|");
    lines_close(&l);

    /* CR LF endings; a '#' after text is text */
    assert_int_equal(collect("k v # not a comment\r\n  more\r\n\r\n", LINES_JOIN, &out, &l), 0);
    assert_string_equal(out.s, "1:k v # not a comment more|");
    lines_close(&l);

    assert_int_equal(collect("", LINES_JOIN, &out, &l), 0);
    assert_string_equal(out.s, "");
    lines_close(&l);
    assert_int_equal(collect("\n# only\n  \n", LINES_JOIN, &out, &l), 0);
    assert_string_equal(out.s, "");
    lines_close(&l);
    buf_free(&out);
}

static void test_leading_space(void **state)
{
    struct buf out;
    struct lines l;
    char   *line = NULL;
    int     lineno;

    (void) state;
    buf_init(&out);
    lines_text(&l, "# c\n  starts = here\nx y\n", LINES_JOIN);
    assert_int_equal(lines_next(&l, &line, &lineno), -1);
    assert_int_equal(l.error, LINES_E_LEADING);
    assert_int_equal(l.errline, 2);
    assert_string_equal(line, "starts = here");
    /* who wants to can skip it, as Postfix does */
    assert_int_equal(lines_next(&l, &line, &lineno), 1);
    assert_string_equal(line, "x y");
    assert_int_equal(lineno, 3);
    assert_int_equal(lines_next(&l, &line, &lineno), 0);
    lines_close(&l);

    /* without LINES_JOIN every line stands alone; '#' anywhere */
    assert_int_equal(collect("  a # note\n#\nb#c\n   # x\n\tc\n", LINES_HASH_ANYWHERE,
			     &out, &l), 0);
    assert_string_equal(out.s, "1:  a |3:b|5:\tc|");
    lines_close(&l);
    buf_free(&out);
}

static void test_length_limit(void **state)
{
    struct buf text, out;
    struct lines l;

    (void) state;
    buf_init(&text);
    buf_init(&out);

    /* exactly the limit, then one byte more */
    for (int i = 0; i < LINES_LENGTH_LIMIT; i++)
	buf_putc(&text, 'a');
    buf_puts(&text, "\r\n");
    assert_int_equal(collect(text.s, LINES_JOIN, &out, &l), 0);
    assert_int_equal(out.len, 2 + LINES_LENGTH_LIMIT + 1);
    lines_close(&l);
    buf_reset(&text);
    buf_puts(&text, "ok\n");
    for (int i = 0; i <= LINES_LENGTH_LIMIT; i++)
	buf_putc(&text, 'a');
    assert_int_equal(collect(text.s, LINES_JOIN, &out, &l), -1);
    assert_int_equal(l.error, LINES_E_LONG);
    assert_int_equal(l.errline, 2);
    lines_close(&l);

    /* a logical line made long by its continuations */
    buf_reset(&text);
    for (int i = 0; i < LINES_LENGTH_LIMIT - 2; i++)
	buf_putc(&text, 'a');
    buf_puts(&text, "\n b\n");
    assert_int_equal(collect(text.s, LINES_JOIN, &out, &l), 0);
    lines_close(&l);
    buf_puts(&text, " c\n");
    assert_int_equal(collect(text.s, LINES_JOIN, &out, &l), -1);
    assert_int_equal(l.error, LINES_E_LONG);
    assert_int_equal(l.errline, 3);
    lines_close(&l);
    buf_free(&text);
    buf_free(&out);
}

static void test_file(void **state)
{
    char    path[] = "/tmp/mxlines.XXXXXX";
    int     fd = mkstemp(path);
    struct lines l;
    char   *line;
    int     lineno;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k v\n  w\nx\0y\n", 12), 12);
    close(fd);
    assert_int_equal(lines_open(&l, path, LINES_HASH_ANYWHERE), 0);
    assert_int_equal(lines_next(&l, &line, &lineno), 1);
    assert_string_equal(line, "k v");
    assert_int_equal(lineno, 1);
    assert_int_equal(lines_next(&l, &line, &lineno), 1);
    assert_string_equal(line, "  w");
    assert_int_equal(lineno, 2);
    assert_int_equal(lines_next(&l, &line, &lineno), -1);
    assert_int_equal(l.error, LINES_E_NUL);
    lines_close(&l);
    /* the NUL is met while looking for a continuation of line 1 */
    assert_int_equal(lines_open(&l, path, LINES_JOIN), 0);
    assert_int_equal(lines_next(&l, &line, &lineno), -1);
    assert_int_equal(l.error, LINES_E_NUL);
    assert_int_equal(l.errline, 3);
    lines_close(&l);
    unlink(path);
    assert_int_equal(lines_open(&l, path, LINES_JOIN), -1);
    lines_close(&l);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_join),
	cmocka_unit_test(test_leading_space),
	cmocka_unit_test(test_length_limit),
	cmocka_unit_test(test_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
