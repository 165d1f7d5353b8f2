/*
 * test_config.c - main.cf syntax, types, limits, classes, documentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "conf/config.h"
#include "util/lines.h"

/* parse - parse text, expecting success */
static struct config *parse(const char *text)
{
    struct buf err;
    struct config *c;

    buf_init(&err);
    c = config_parse_text(text, "test.cf", &err);
    if (c == NULL)
	fail_msg("unexpected error: %s", err.s);
    buf_free(&err);
    return c;
}

/* parse_err - parse text, expecting an error containing want */
static void parse_err(const char *text, const char *want)
{
    struct buf err;
    struct config *c;

    buf_init(&err);
    c = config_parse_text(text, "test.cf", &err);
    assert_null(c);
    if (strstr(err.s, want) == NULL)
	fail_msg("error \"%s\" does not contain \"%s\"", err.s, want);
    buf_free(&err);
}

static void test_defaults(void **state)
{
    (void) state;
    struct config *c = parse("");

    assert_string_equal(config_str(c, P_LISTEN), "inet:127.0.0.1:10023");
    assert_int_equal(config_int(c, P_ACCESS_REJECT_CODE), 554);
    assert_int_equal(config_int(c, P_NON_FQDN_CODE), 504);
    assert_int_equal(config_int(c, P_IDLE_TIMEOUT), 1200);
    assert_true(config_bool(c, P_PERCENT_HACK));
    assert_false(config_bool(c, P_HELO_REQUIRED));
    assert_string_equal(config_str(c, P_NULL_KEY), "<>");
    assert_false(config_is_set(c, P_LISTEN));
    config_free(c);
}

static void test_continuation_comments_expansion(void **state)
{
    (void) state;
    struct config *c = parse(
	"# comment\n"
	"myhostname = mx.example.com\n"
	"mydestination = $myhostname,\n"
	"    localhost.${mydomain}\n"
	"# a comment inside does not end the value\n"
	"    $(mydomain)\n"
	"\n"
	"recipient_restrictions =\n"
	"\tpermit_mynetworks\n"
	"\treject_unauth_destination\n");

    assert_string_equal(config_str(c, P_MYDOMAIN), "example.com");
    assert_string_equal(config_str(c, P_MYDEST),
			"mx.example.com, localhost.example.com example.com");
    assert_string_equal(config_str(c, P_RCPT_RESTR),
			"permit_mynetworks reject_unauth_destination");
    assert_string_equal(config_where(c, P_RCPT_RESTR), "test.cf:8");
    config_free(c);
}

static void test_postfix_aliases(void **state)
{
    (void) state;
    struct config *c = parse("smtpd_recipient_restrictions = reject\n"
			     "smtpd_helo_restrictions = permit\n");

    assert_string_equal(config_str(c, P_RCPT_RESTR), "reject");
    assert_string_equal(config_str(c, P_HELO_RESTR), "permit");
    config_free(c);
}

static void test_types(void **state)
{
    (void) state;
    struct config *c = parse("policy_idle_timeout = 2h\n"
			     "smtpd_helo_required = yes\n"
			     "access_map_reject_code = 550\n");

    assert_int_equal(config_int(c, P_IDLE_TIMEOUT), 7200);
    assert_true(config_bool(c, P_HELO_REQUIRED));
    assert_int_equal(config_int(c, P_ACCESS_REJECT_CODE), 550);
    config_free(c);
}

static void test_errors(void **state)
{
    (void) state;
    parse_err("myhostname = a.example\nno_such_thing = 1\n",
	      "test.cf:2: unknown parameter \"no_such_thing\"");
    parse_err("policy_idle_timeout = 5x\n", "test.cf:1: policy_idle_timeout: bad time value \"5x\"");
    parse_err("smtpd_helo_required = maybe\n", "bad boolean value \"maybe\"");
    parse_err("access_map_reject_code = 650\n", "out of range [400..599]");
    parse_err("policy_line_length_limit = 63\n", "out of range");
    parse_err("  continued = x\n", "test.cf:1: continuation line without a parameter");
    parse_err("just some words\n", "test.cf:1: missing '='");
    parse_err("mydestination = $nonesuch\n", "undefined parameter \"$nonesuch\"");
    parse_err("myorigin = $myorigin\n", "nested too deep");
    parse_err("smtpd_restriction_classes = ghost\n", "restriction class \"ghost\" is not defined");
}

/* parse_one - "name = value" alone: 0 loaded (value in *v), -1 refused */
static int parse_one(const char *name, const char *value, long *v, struct buf *err)
{
    struct buf text;
    struct config *c;

    buf_init(&text);
    buf_printf(&text, "%s = %s\n", name, value);
    buf_reset(err);
    c = config_parse_text(text.s, "test.cf", err);
    buf_free(&text);
    if (c == NULL)
	return -1;
    *v = config_int(c, (enum param_id) param_find(name));
    config_free(c);
    return 0;
}

/* one_ok, one_err - a value is loaded as want / refused naming the problem */
static void one_ok(const char *name, const char *value, long want)
{
    struct buf err;
    long    v = 0;

    buf_init(&err);
    if (parse_one(name, value, &v, &err) < 0)
	fail_msg("%s = %s: unexpected error: %s", name, value, err.s);
    if (v != want)
	fail_msg("%s = %s: got %ld, want %ld", name, value, v, want);
    buf_free(&err);
}

static void one_err(const char *name, const char *value, const char *want)
{
    struct buf err, exp;
    long    v = 0;

    buf_init(&err);
    buf_init(&exp);
    buf_printf(&exp, "test.cf:1: %s: ", name);
    if (parse_one(name, value, &v, &err) == 0)
	fail_msg("%s = %s: loaded as %ld", name, value, v);
    if (strncmp(err.s, exp.s, exp.len) != 0 || strstr(err.s, want) == NULL)
	fail_msg("%s = %s: error \"%s\" is not \"%s...%s\"", name, value, err.s, exp.s, want);
    buf_free(&err);
    buf_free(&exp);
}

/* every number and time: one past each edge, huge, negative, empty, garbage */
static void test_number_limits(void **state)
{
    static const char *units[] = {"", "s", "m", "h", "d", "w"};
    char    val[64], range[96];

    (void) state;
    for (int id = 0; id < P_COUNT; id++) {
	const struct param_def *p = &param_table[id];
	int     is_time = p->type == PT_TIME;

	if (p->type != PT_INT && p->type != PT_TIME && p->type != PT_CODE)
	    continue;
	snprintf(range, sizeof(range), "out of range [%ld..%ld]", p->min, p->max);
	snprintf(val, sizeof(val), "%ld", p->max);
	one_ok(p->name, val, p->max);
	snprintf(val, sizeof(val), "%ld", p->min);
	one_ok(p->name, val, p->min);
	snprintf(val, sizeof(val), "%ld", p->max + 1);
	one_err(p->name, val, range);
	snprintf(val, sizeof(val), "%ld", p->min - 1);
	one_err(p->name, val, range);
	snprintf(val, sizeof(val), "%ld", p->min < 0 ? p->min : -1L);
	if (p->min >= 0)
	    one_err(p->name, val, range);
	one_err(p->name, "9223372036854775808", range);
	one_err(p->name, "-9223372036854775809", range);
	one_err(p->name, "99999999999999999999999999999999999999", range);
	one_err(p->name, "", "bad ");
	one_err(p->name, "12x", "bad ");
	one_err(p->name, "1 2", "bad ");
	one_err(p->name, "0x10", "bad ");
	one_err(p->name, "-", "bad ");
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
	    snprintf(val, sizeof(val), "177777777777777%s", units[u]);
	    if (is_time || *units[u] == 0)
		one_err(p->name, val, range);
	    else
		one_err(p->name, val, "bad ");
	    snprintf(val, sizeof(val), "9223372036854775807%s", units[u]);
	    if (is_time || *units[u] == 0)
		one_err(p->name, val, range);
	}
	if (is_time) {
	    one_err(p->name, "5ss", "bad time value \"5ss\"");
	    one_err(p->name, "s", "bad time value");
	    /* the largest value in a unit, and the next one */
	    if (p->max % 60 == 0 && p->max / 60 >= p->min) {
		snprintf(val, sizeof(val), "%ldm", p->max / 60);
		one_ok(p->name, val, p->max);
		snprintf(val, sizeof(val), "%ldm", p->max / 60 + 1);
		one_err(p->name, val, range);
	    }
	    if (p->max >= 7 * 86400) {
		snprintf(val, sizeof(val), "%ldw", p->max / (7 * 86400) + 1);
		one_err(p->name, val, range);
	    }
	}
    }
}

/* fuzz_config's find: a week count whose seconds overflow a long (UBSan) */
static void test_time_overflow(void **state)
{
    (void) state;
    one_err("greylist_delay", "177777777777777w", "out of range [0..86400]");
    one_ok("greylist_delay", "1d", 86400);
    one_err("greylist_delay", "1441m", "out of range [0..86400]");
    one_ok("greylist_min_score", "-100000", -100000);
    one_ok("greylist_min_score", "+7", 7);
    one_ok("greylist_delay", "-0", 0);
}

/* a logical line one byte past LINES_LENGTH_LIMIT is refused, naming it */
static void test_line_limit(void **state)
{
    struct buf text;
    struct config *c;

    (void) state;
    buf_init(&text);
    buf_puts(&text, "# long\nmydestination = a");
    while (text.len < 7 + LINES_LENGTH_LIMIT)
	buf_putc(&text, 'b');
    c = parse(text.s);
    config_free(c);
    buf_putc(&text, 'c');
    parse_err(text.s, "test.cf:2: ");
    parse_err(text.s, ": line too long (more than 65536 bytes)");
    buf_free(&text);
}

/* Postfix's ${name?text} and ${name:text} in main.cf values */
static void test_conditional_expansion(void **state)
{
    (void) state;
    struct config *c = parse("myhostname = mx.example.com\n"
			     "mynetworks =\n"
			     "mydestination = ${myhostname?$myhostname, }localhost\n"
			     "myorigin = ${mynetworks:${myhostname}}x${mynetworks?no}\n");

    assert_string_equal(config_str(c, P_MYDEST), "mx.example.com, localhost");
    assert_string_equal(config_str(c, P_MYORIGIN), "mx.example.comx");
    config_free(c);
    parse_err("myorigin = ${myhostname\n", "test.cf:1: myorigin: missing '}'");
    parse_err("myorigin = ${my hostname}\n", "test.cf:1: myorigin: bad parameter reference");
    parse_err("myorigin = a $ b\n", "test.cf:1: myorigin: empty name after '$'");
}

/* values naming each other twice over: refused at once, not 2^18 expansions */
static void test_expansion_work(void **state)
{
    struct buf text, err;
    struct timespec t0, t1;

    (void) state;
    buf_init(&text);
    buf_init(&err);
    buf_puts(&text, "smtpd_restriction_classes = c0");
    for (int i = 1; i <= 18; i++)
	buf_printf(&text, ", c%d", i);
    buf_puts(&text, "\n");
    for (int i = 0; i < 18; i++)
	buf_printf(&text, "c%d = $c%d$c%d\n", i, i + 1, i + 1);
    buf_puts(&text, "c18 =\nmyorigin = $c0\n");
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    assert_null(config_parse_text(text.s, "test.cf", &err));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    assert_non_null(strstr(err.s, "more than 10000 names to expand"));
    assert_true((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 0.5);
    buf_free(&text);
    buf_free(&err);
}

static void test_classes(void **state)
{
    (void) state;
    struct config *c = parse("smtpd_restriction_classes = strict, lax\n"
			     "strict = reject_non_fqdn_sender, reject\n"
			     "lax = permit\n");
    const char *where = NULL;

    assert_string_equal(config_class(c, "strict", &where),
			"reject_non_fqdn_sender, reject");
    assert_string_equal(where, "test.cf:2");
    assert_string_equal(config_class(c, "lax", NULL), "permit");
    assert_null(config_class(c, "other", NULL));
    config_free(c);
}

static void test_every_parameter_documented(void **state)
{
    (void) state;
    for (int i = 0; i < P_COUNT; i++) {
	assert_non_null(param_table[i].name);
	assert_non_null(param_table[i].doc);
	if (strlen(param_table[i].doc) < 10)
	    fail_msg("parameter %s has no documentation line", param_table[i].name);
	assert_int_equal(param_find(param_table[i].name), i);
    }
}

static void test_embedded_default_loads(void **state)
{
    (void) state;
    struct buf err;
    struct config *c;

    buf_init(&err);
    c = config_load(NULL, &err);
    assert_non_null(c);
    assert_string_equal(config_str(c, P_LISTEN), "inet:127.0.0.1:10023");
    assert_string_equal(config_str(c, P_HELO_RESTR), "permit_mynetworks, "
			"permit_sasl_authenticated, reject_invalid_helo_hostname, "
			"reject_non_fqdn_helo_hostname");
    assert_string_equal(config_str(c, P_SENDER_RESTR), "permit_mynetworks, "
			"permit_sasl_authenticated, reject_non_fqdn_sender, "
			"reject_unknown_sender_domain");
    assert_string_equal(config_str(c, P_RCPT_RESTR), "reject_non_fqdn_recipient, "
			"permit_mynetworks, permit_sasl_authenticated, greylist");
    assert_false(config_is_set(c, P_CLIENT_RESTR));
    assert_false(config_is_set(c, P_RELAY_RESTR));
    assert_false(config_is_set(c, P_DATA_RESTR));
    config_free(c);
    buf_free(&err);
}

/* -o settings win over the file and are named as the command line's;
 * they stay for every later load (a reload), so this test runs last */
static void test_command_line_overrides(void **state)
{
    (void) state;
    struct buf err;
    struct config *c;

    buf_init(&err);
    config_override("policy_attribute_limit = 42");
    config_override("listen=inet:127.0.0.1:2525");
    c = config_parse_text("policy_attribute_limit = 7\n", "f.conf", &err);
    assert_non_null(c);
    assert_int_equal(config_int(c, P_ATTR_LIMIT), 42);
    assert_string_equal(config_where(c, P_ATTR_LIMIT), "command line -o:1");
    assert_string_equal(config_str(c, P_LISTEN), "inet:127.0.0.1:2525");
    assert_string_equal(config_origin(c), "f.conf");
    config_free(c);
    config_override("policy_attribute_limit = lots");
    assert_null(config_load(NULL, &err));
    assert_non_null(strstr(err.s, "command line -o:3: policy_attribute_limit"));
    buf_free(&err);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_continuation_comments_expansion),
	cmocka_unit_test(test_postfix_aliases),
	cmocka_unit_test(test_types),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_time_overflow),
	cmocka_unit_test(test_number_limits),
	cmocka_unit_test(test_line_limit),
	cmocka_unit_test(test_conditional_expansion),
	cmocka_unit_test(test_expansion_work),
	cmocka_unit_test(test_classes),
	cmocka_unit_test(test_every_parameter_documented),
	cmocka_unit_test(test_embedded_default_loads),
	cmocka_unit_test(test_command_line_overrides),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
