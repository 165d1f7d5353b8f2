/*
 * test_mac.c - the one $name expander: Postfix's mac_parse() tokens, the
 * ${name?text} / ${name:text} forms, recursion, and the bounds on depth,
 * output and work that keep hostile text cheap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mac.h"

/* tok - mac_parse() callback: "L[text]" / "E[text]" */
static int tok(enum mac_token kind, const char *text, size_t len, void *ctx)
{
    buf_printf(ctx, "%c[%.*s]", kind == MAC_LITERAL ? 'L' : 'E', (int) len, text);
    return 0;
}

/* tokens - the tokens of text, or "ERR:why" */
static const char *tokens(const char *text, struct buf *b)
{
    const char *why = NULL;

    buf_reset(b);
    if (mac_parse(text, strlen(text), tok, b, &why) != 0) {
	buf_reset(b);
	buf_printf(b, "ERR:%s", why);
    }
    return b->s;
}

static void test_parse(void **state)
{
    struct buf b;

    (void) state;
    buf_init(&b);
    assert_string_equal(tokens("", &b), "");
    assert_string_equal(tokens("plain", &b), "L[plain]");
    assert_string_equal(tokens("a$$b$c${d}$(e)f", &b), "L[a$]L[b]E[c]E[d]E[e]L[f]");
    assert_string_equal(tokens("$$$$", &b), "L[$]L[$]");
    assert_string_equal(tokens("$1x.$a_b-c", &b), "E[1x]L[.]E[a_b]L[-c]");
    /* braces nest, each kind on its own */
    assert_string_equal(tokens("${g?${h}}!", &b), "E[g?${h}]L[!]");
    assert_string_equal(tokens("$(a{)b)", &b), "E[a{]L[b)]");
    assert_string_equal(tokens("${a(}", &b), "E[a(]");
    /* Postfix: a '$' must start a name */
    assert_string_equal(tokens("$", &b), "ERR:empty name after '$'");
    assert_string_equal(tokens("a $ b", &b), "ERR:empty name after '$'");
    assert_string_equal(tokens("${}", &b), "ERR:empty name after '$'");
    assert_string_equal(tokens("$-", &b), "ERR:empty name after '$'");
    assert_string_equal(tokens("x${abc", &b), "ERR:missing '}'");
    assert_string_equal(tokens("$(a}", &b), "ERR:missing ')'");
    assert_string_equal(tokens("${a${b}", &b), "ERR:missing '}'");
    buf_free(&b);
}

/* lookup - a small table; "loop" refers to itself, "fan" to itself twice */
static const char *lookup(const char *name, void *ctx)
{
    static const char *const tab[][2] = {
	{"a", "A"}, {"b", "$a-$a"}, {"empty", ""}, {"loop", "x$loop"},
	{"fan", "$fan$fan"}, {"nothing", "$empty$empty"}, {"dollar", "$$"},
    };

    static char dag[30][32];

    /* d0 = $d1$d1, d1 = $d2$d2, ... d29 = "": 2^29 names, no loop */
    if (name[0] == 'd' && name[1] >= '0' && name[1] <= '9') {
	int     n = atoi(name + 1);

	if (n >= 29)
	    return "";
	snprintf(dag[n], sizeof(dag[n]), "$d%d$d%d", n + 1, n + 1);
	return dag[n];
    }
    (void) ctx;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
	if (strcmp(tab[i][0], name) == 0)
	    return tab[i][1];
    return NULL;
}

/* expand - mac_expand() text; the status, the output in b, message in why */
static int expand(const char *text, int flags, int depth, size_t limit, struct buf *b,
		          struct buf *why)
{
    struct mac_expander x = {lookup, NULL, flags, depth, limit, "parameter"};

    buf_reset(b);
    buf_reset(why);
    return mac_expand(b, text, &x, why);
}

static void test_expand(void **state)
{
    struct buf b, why;

    (void) state;
    buf_init(&b);
    buf_init(&why);
    assert_int_equal(expand("<$a|${a}|$(a)|$$a>", 0, 5, 100, &b, &why), MAC_OK);
    assert_string_equal(b.s, "<A|A|A|$a>");
    /* without recursion a value is taken as it is */
    assert_int_equal(expand("$b $dollar", 0, 5, 100, &b, &why), MAC_OK);
    assert_string_equal(b.s, "$a-$a $$");
    assert_int_equal(expand("$b $dollar", MAC_EXP_RECURSE, 5, 100, &b, &why), MAC_OK);
    assert_string_equal(b.s, "A-A $");
    /* ?text when non-empty, :text when empty or unknown; text expanded */
    assert_int_equal(expand("${a?[$a]}${a:no}${empty?no}${empty:[e]}${none:[u]}${none?no}",
			    0, 5, 100, &b, &why), MAC_OK);
    assert_string_equal(b.s, "[A][e][u]");
    assert_int_equal(expand("${a?${a?${a?deep}}}", 0, 4, 100, &b, &why), MAC_OK);
    assert_string_equal(b.s, "deep");
    assert_int_equal(expand("${a?${a?${a?deep}}}", 0, 3, 100, &b, &why), MAC_ERR_DEPTH);
    /* errors */
    assert_int_equal(expand("x $none y", 0, 5, 100, &b, &why), MAC_ERR_UNDEF);
    assert_string_equal(why.s, "undefined parameter \"$none\"");
    assert_int_equal(expand("${a b}", 0, 5, 100, &b, &why), MAC_ERR_SYNTAX);
    assert_string_equal(why.s, "bad parameter reference \"a b\" in \"${a b}\"");
    assert_int_equal(expand("${a?$}", 0, 5, 100, &b, &why), MAC_ERR_SYNTAX);
    assert_string_equal(why.s, "empty name after '$' in \"$\"");
    assert_int_equal(expand("ok ${a", 0, 5, 100, &b, &why), MAC_ERR_SYNTAX);
    assert_string_equal(why.s, "missing '}' in \"ok ${a\"");
    assert_int_equal(expand("$loop", MAC_EXP_RECURSE, 21, 1000, &b, &why), MAC_ERR_DEPTH);
    assert_non_null(strstr(why.s, "nested too deep"));
    buf_free(&b);
    buf_free(&why);
}

/* the output stops at out_limit: exactly the limit fits, one byte more not */
static void test_output_limit(void **state)
{
    struct buf b, why;

    (void) state;
    buf_init(&b);
    buf_init(&why);
    assert_int_equal(expand("xx$a$a", 0, 5, 4, &b, &why), MAC_OK);
    assert_string_equal(b.s, "xxAA");
    assert_int_equal(expand("xx$a$a$a", 0, 5, 4, &b, &why), MAC_ERR_LIMIT);
    assert_string_equal(b.s, "xxAA");
    assert_non_null(strstr(why.s, "longer than 4 bytes"));
    assert_int_equal(expand("xxxxx", 0, 5, 4, &b, &why), MAC_ERR_LIMIT);
    assert_string_equal(b.s, "xxxx");
    buf_free(&b);
    buf_free(&why);
}

/* cpu - seconds of CPU used so far */
static double cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* hostile text costs time in proportion to its size, and stops at a limit */
static void test_hostile(void **state)
{
    struct buf text, b, why;
    double  t0;

    (void) state;
    buf_init(&text);
    buf_init(&b);
    buf_init(&why);

    /* values that each name another twice: 2^depth names, cut by the step limit */
    t0 = cpu();
    assert_int_equal(expand("$fan", MAC_EXP_RECURSE, 1000, 1 << 20, &b, &why), MAC_ERR_DEPTH);
    assert_int_equal(expand("$d0", MAC_EXP_RECURSE, 100, 1 << 30, &b, &why), MAC_ERR_STEPS);
    assert_non_null(strstr(why.s, "more than 10000 names"));
    assert_true(cpu() - t0 < 1.0);

    /* a megabyte of names that expand to nothing */
    for (int i = 0; i < 250000; i++)
	buf_puts(&text, "$empty");
    t0 = cpu();
    assert_int_equal(expand(text.s, 0, 5, 1 << 20, &b, &why), MAC_ERR_STEPS);
    assert_true(cpu() - t0 < 1.0);

    /* a megabyte of nested, unclosed and closed braces */
    buf_reset(&text);
    for (int i = 0; i < 200000; i++)
	buf_puts(&text, "${a?");
    t0 = cpu();
    assert_int_equal(expand(text.s, 0, 20, 1 << 20, &b, &why), MAC_ERR_SYNTAX);
    for (int i = 0; i < 200000; i++)
	buf_putc(&text, '}');
    assert_int_equal(expand(text.s, 0, 20, 1 << 20, &b, &why), MAC_ERR_DEPTH);
    assert_true(cpu() - t0 < 1.0);

    /* a megabyte of "$$": all literal, cut at the limit */
    buf_reset(&text);
    for (int i = 0; i < 500000; i++)
	buf_puts(&text, "$$");
    t0 = cpu();
    assert_int_equal(expand(text.s, 0, 5, 1000, &b, &why), MAC_ERR_LIMIT);
    assert_int_equal(b.len, 1000);
    assert_true(cpu() - t0 < 1.0);
    buf_free(&text);
    buf_free(&b);
    buf_free(&why);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_expand),
	cmocka_unit_test(test_output_limit),
	cmocka_unit_test(test_hostile),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
