/*
 * test_config.c - main.cf syntax, types, limits, classes, documentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/config.h"

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
    assert_non_null(strstr(config_str(c, P_HELO_RESTR), "reject_non_fqdn_helo_hostname"));
    config_free(c);
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
	cmocka_unit_test(test_classes),
	cmocka_unit_test(test_every_parameter_documented),
	cmocka_unit_test(test_embedded_default_loads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
