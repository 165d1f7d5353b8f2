/*
 * test_compiled.c - compile once, evaluate many.  Evaluating a transaction
 * reads the compiled policy, never the configuration: a policy whose
 * configuration is swapped for another after compiling answers as before.
 * Restriction lists from access table answers are compiled once per
 * policy: the same answer gives the same compiled list, the key is
 * (table, stage, text), a bad answer is an error every time, and past the
 * bound an answer is compiled for its request alone.  The SPF result a
 * check establishes is kept in the transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/config.h"
#include "mail/txn.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "util/log.h"

static struct policy *compile(const char *text)
{
    struct buf err;
    struct config *c;
    struct policy *p;

    buf_init(&err);
    if ((c = config_parse_text(text, "test.cf", &err)) == NULL)
	fail_msg("config: %s", err.s);
    if ((p = policy_compile(c, &err)) == NULL)
	fail_msg("compile: %s", err.s);
    buf_free(&err);
    return p;
}

static struct config *parse(const char *text)
{
    struct buf err;
    struct config *c;

    buf_init(&err);
    if ((c = config_parse_text(text, "test.cf", &err)) == NULL)
	fail_msg("config: %s", err.s);
    buf_free(&err);
    return c;
}

/* answer - evaluate a RCPT transaction (no protocol involved) */
static char *answer(struct policy *p, const char *helo, const char *rcpt)
{
    struct txn t;

    txn_clear(&t);
    t.protocol_state = "RCPT";
    t.client_address = "192.0.2.10";
    t.client_name = "mail.example.net";
    t.helo_name = helo;
    t.sender = "alice@example.net";
    t.recipient = rcpt;
    return eval_sync(p, &t, NULL);
}

static const char *const conf_a =
    "recipient_restrictions = reject_non_fqdn_recipient, reject\n"
    "smtpd_helo_required = yes\n"
    "policy_permit_action = DUNNO\n";
static const char *const conf_b =
    "recipient_restrictions = reject_non_fqdn_recipient, reject\n"
    "non_fqdn_reject_code = 550\nreject_code = 521\nsoft_bounce = yes\n"
    "smtpd_helo_required = no\n";

static void test_evaluation_reads_no_configuration(void **state)
{
    static const char *const cases[][2] = {
	{"mail.example.net", "bob"},
	{"mail.example.net", "bob@example.com"},
	{"", "bob@example.com"},
    };
    struct policy *a = compile(conf_a), *b = compile(conf_b);
    struct config *conf_of_a = a->conf;
    char   *want[3], *got, *other;

    (void) state;
    for (size_t i = 0; i < 3; i++)
	want[i] = answer(a, cases[i][0], cases[i][1]);
    /* the other configuration answers differently ... */
    for (size_t i = 0; i < 3; i++) {
	other = answer(b, cases[i][0], cases[i][1]);
	if (strcmp(other, want[i]) == 0)
	    fail_msg("case %zu: both configurations answer \"%s\"", i, other);
	free(other);
    }
    /* ... and a's compiled policy does not look at it */
    a->conf = parse(conf_b);
    for (size_t i = 0; i < 3; i++) {
	got = answer(a, cases[i][0], cases[i][1]);
	assert_string_equal(got, want[i]);
	free(got);
	free(want[i]);
    }
    config_free(a->conf);
    a->conf = conf_of_a;
    policy_unref(a);
    policy_unref(b);
}

static void test_same_answer_same_list(void **state)
{
    struct policy *p = compile("smtpd_restriction_classes = cls\ncls = permit\n");
    const struct rlist *a, *b, *c;
    struct rlist *owned;
    struct buf err;

    (void) state;
    buf_init(&err);
    assert_int_equal(result_list_get(p, "texthash:/t", "reject_non_fqdn_helo_hostname, cls",
				     STAGE_SENDER, &a, &owned, &err), 0);
    assert_null(owned);
    assert_int_equal(a->n, 2);
    assert_string_equal(a->v[0].name, "reject_non_fqdn_helo_hostname");
    assert_non_null(a->v[1].class_list);
    assert_int_equal(result_list_get(p, "texthash:/t", "reject_non_fqdn_helo_hostname, cls",
				     STAGE_SENDER, &b, &owned, &err), 0);
    assert_null(owned);
    assert_ptr_equal(a, b);
    /* another stage or another table: another list */
    assert_int_equal(result_list_get(p, "texthash:/t", "reject_non_fqdn_helo_hostname, cls",
				     STAGE_RCPT, &c, &owned, &err), 0);
    assert_ptr_not_equal(a, c);
    assert_int_equal(result_list_get(p, "texthash:/u", "reject_non_fqdn_helo_hostname, cls",
				     STAGE_SENDER, &c, &owned, &err), 0);
    assert_ptr_not_equal(a, c);
    buf_free(&err);
    policy_unref(p);
}

static void test_bad_answer_every_time(void **state)
{
    struct policy *p = compile("");
    const struct rlist *l;
    struct rlist *owned;
    struct buf err;

    (void) state;
    for (int i = 0; i < 2; i++) {
	buf_init(&err);
	assert_int_equal(result_list_get(p, "texthash:/t", "permit, no_such_restriction",
					 STAGE_CLIENT, &l, &owned, &err), -1);
	assert_non_null(strstr(err.s, "unknown restriction \"no_such_restriction\""));
	buf_free(&err);
    }
    buf_init(&err);
    assert_int_equal(result_list_get(p, "texthash:/t", "check_client_access",
				     STAGE_CLIENT, &l, &owned, &err), -1);
    buf_free(&err);
    policy_unref(p);
}

static void test_bounded(void **state)
{
    struct policy *p = compile("");
    const struct rlist *l;
    struct rlist *owned;
    struct buf err;
    char    table[32];
    int     cached = 0, own = 0;

    (void) state;
    buf_init(&err);
    for (int i = 0; i < 1100; i++) {
	snprintf(table, sizeof(table), "texthash:/t%d", i);
	assert_int_equal(result_list_get(p, table, "permit", STAGE_CLIENT, &l, &owned, &err), 0);
	assert_int_equal(l->n, 1);
	if (owned) {
	    own++;
	    rlist_free(owned);
	    free(owned);
	} else {
	    cached++;
	}
    }
    assert_int_equal(cached, 1024);
    assert_int_equal(own, 1100 - 1024);
    /* the ones kept are still found */
    assert_int_equal(result_list_get(p, "texthash:/t5", "permit", STAGE_CLIENT, &l, &owned, &err), 0);
    assert_null(owned);
    buf_free(&err);
    policy_unref(p);
}

static void test_txn_spf_fact(void **state)
{
    struct txn t;
    char    longname[300];

    (void) state;
    txn_clear(&t);
    assert_int_equal(t.spf[TXN_SPF_MAIL_FROM].known, 0);
    assert_string_equal(t.sender, "");
    txn_set_spf(&t, TXN_SPF_MAIL_FROM, SPF_PASS, "example.net");
    assert_int_equal(t.spf[TXN_SPF_MAIL_FROM].known, 1);
    assert_int_equal(t.spf[TXN_SPF_MAIL_FROM].result, SPF_PASS);
    assert_string_equal(t.spf[TXN_SPF_MAIL_FROM].domain, "example.net");
    assert_int_equal(t.spf[TXN_SPF_HELO].known, 0);
    /* longer than any DNS name: the result is kept, the domain is not */
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    txn_set_spf(&t, TXN_SPF_HELO, SPF_FAIL, longname);
    assert_int_equal(t.spf[TXN_SPF_HELO].result, SPF_FAIL);
    assert_string_equal(t.spf[TXN_SPF_HELO].domain, "");
    txn_clear(&t);
    assert_int_equal(t.spf[TXN_SPF_HELO].known, 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_evaluation_reads_no_configuration),
	cmocka_unit_test(test_same_answer_same_list),
	cmocka_unit_test(test_bad_answer_every_time),
	cmocka_unit_test(test_bounded),
	cmocka_unit_test(test_txn_spf_fact),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
