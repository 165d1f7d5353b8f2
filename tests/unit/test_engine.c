/*
 * test_engine.c - restrictions, actions and list semantics, table-driven.
 *
 * Each case is a configuration, a request and the exact policy action
 * Postfix's smtpd would produce for it.  Table files are written to a
 * temporary directory; "@DIR@" in a configuration names that directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/config.h"
#include "policy/request.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "util/log.h"

static char dir[64];

/* write_file - create a table file under the temporary directory */
static void write_file(const char *name, const char *text)
{
    char    path[256];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* subst_dir - replace @DIR@ with the temporary directory */
static char *subst_dir(const char *text)
{
    struct buf b;
    const char *cp = text, *hit;

    buf_init(&b);
    while ((hit = strstr(cp, "@DIR@")) != NULL) {
	buf_append(&b, cp, (size_t) (hit - cp));
	buf_puts(&b, dir);
	cp = hit + 5;
    }
    buf_puts(&b, cp);
    return buf_steal(&b);
}

/* compile - a policy from configuration text, or fail */
static struct policy *compile(const char *text)
{
    struct buf err;
    char   *t = subst_dir(text);
    struct config *c;
    struct policy *p;

    buf_init(&err);
    c = config_parse_text(t, "test.cf", &err);
    if (c == NULL)
	fail_msg("config: %s", err.s);
    p = policy_compile(c, &err);
    if (p == NULL)
	fail_msg("compile: %s", err.s);
    buf_free(&err);
    free(t);
    return p;
}

/* compile_err - expect a compile error containing want */
static void compile_err(const char *text, const char *want)
{
    struct buf err;
    char   *t = subst_dir(text);
    struct config *c;
    struct policy *p;

    buf_init(&err);
    c = config_parse_text(t, "test.cf", &err);
    assert_non_null(c);
    p = policy_compile(c, &err);
    assert_null(p);
    config_free(c);
    if (strstr(err.s, want) == NULL)
	fail_msg("error \"%s\" lacks \"%s\"", err.s, want);
    buf_free(&err);
    free(t);
}

/* action - evaluate "name=value|name=value" against a policy */
static char *action(struct policy *p, const char *attrs)
{
    struct request req;
    char   *copy = strdup(attrs), *save = NULL, *tok;
    char   *a;

    request_init(&req);
    request_add_line(&req, "protocol_state=RCPT", 19);
    request_add_line(&req, "protocol_name=ESMTP", 19);
    request_add_line(&req, "client_address=192.0.2.10", 25);
    request_add_line(&req, "client_name=mail.example.net", 28);
    request_add_line(&req, "helo_name=mail.example.net", 26);
    request_add_line(&req, "sender=alice@example.net", 24);
    request_add_line(&req, "recipient=bob@our.example", 25);
    for (tok = strtok_r(copy, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
	request_add_line(&req, tok, strlen(tok));
    a = eval_request(p, &req, NULL);
    request_free(&req);
    free(copy);
    return a;
}

#define EXPECT(p, attrs, want) do { \
	char *got_ = action((p), (attrs)); \
	if (strcmp(got_, (want)) != 0) \
	    fail_msg("%s:%d: request [%s]\n  want: %s\n  got:  %s", \
		     __FILE__, __LINE__, (attrs), (want), got_); \
	free(got_); \
    } while (0)

#define BASE "myhostname = mx.our.example\nmydestination = our.example, $myhostname\n" \
	     "myorigin = our.example\n"

static void test_nothing_decides(void **state)
{
    (void) state;
    struct policy *p = compile(BASE);

    EXPECT(p, "", "DUNNO");
    policy_unref(p);
}

static void test_relay(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "relay_domains = relay.example\n"
			       "relay_restrictions = permit_mynetworks, reject_unauth_destination\n");

    EXPECT(p, "recipient=bob@our.example", "DUNNO");
    EXPECT(p, "recipient=bob@OUR.EXAMPLE.", "DUNNO");
    EXPECT(p, "recipient=x@relay.example", "DUNNO");
    EXPECT(p, "recipient=x@sub.relay.example", "DUNNO");
    EXPECT(p, "recipient=x@elsewhere.example",
	   "554 5.7.1 <x@elsewhere.example>: Relay access denied");
    EXPECT(p, "recipient=x@elsewhere.example|client_address=127.0.0.1", "DUNNO");
    /* the classic relay tricks */
    EXPECT(p, "recipient=user%elsewhere.example@our.example",
	   "554 5.7.1 <user%elsewhere.example@our.example>: Relay access denied");
    EXPECT(p, "recipient=elsewhere.example!user@our.example",
	   "554 5.7.1 <elsewhere.example!user@our.example>: Relay access denied");
    EXPECT(p, "recipient=user@elsewhere.example@our.example",
	   "554 5.7.1 <user@elsewhere.example@our.example>: Relay access denied");
    EXPECT(p, "recipient=user%elsewhere.example@relay.example",
	   "554 5.7.1 <user%elsewhere.example@relay.example>: Relay access denied");
    /* an unqualified recipient is ours (@$myorigin) */
    EXPECT(p, "recipient=bob", "DUNNO");
    policy_unref(p);

    p = compile(BASE "allow_percent_hack = no\nrelay_restrictions = reject_unauth_destination\n");
    EXPECT(p, "recipient=user%elsewhere.example@our.example", "DUNNO");
    policy_unref(p);

    p = compile(BASE "relay_domains = relay.example\nallow_untrusted_routing = yes\n"
		"relay_restrictions = reject_unauth_destination\n");
    EXPECT(p, "recipient=user%elsewhere.example@relay.example", "DUNNO");
    policy_unref(p);

    p = compile(BASE "relay_restrictions = defer_unauth_destination\n");
    EXPECT(p, "recipient=x@elsewhere.example",
	   "450 4.7.1 <x@elsewhere.example>: Relay access denied");
    policy_unref(p);
}

static void test_permit_ends_only_its_list(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "client_restrictions = permit_mynetworks, reject\n"
			       "sender_restrictions = reject_non_fqdn_sender\n");

    EXPECT(p, "client_address=127.0.0.1|sender=joe",
	   "504 5.5.2 <joe>: Sender address rejected: need fully-qualified address");
    EXPECT(p, "client_address=127.0.0.1", "DUNNO");
    EXPECT(p, "client_address=192.0.2.1",
	   "554 5.7.1 <mail.example.net[192.0.2.1]>: Client host rejected: Access denied");
    EXPECT(p, "client_address=192.0.2.1|client_name=",
	   "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied");
    policy_unref(p);

    p = compile(BASE "recipient_restrictions = permit_mynetworks, reject\npolicy_permit_action = OK\n");
    EXPECT(p, "client_address=127.0.0.1", "OK");
    EXPECT(p, "client_address=::1", "OK");
    EXPECT(p, "client_address=192.0.2.1",
	   "554 5.7.1 <bob@our.example>: Recipient address rejected: Access denied");
    policy_unref(p);
}

static void test_helo(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "helo_restrictions = reject_invalid_helo_hostname,"
			       " reject_non_fqdn_helo_hostname\n");

    EXPECT(p, "helo_name=mail.example.net.", "DUNNO");
    EXPECT(p, "helo_name=foo",
	   "504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname");
    EXPECT(p, "helo_name=bad_host!",
	   "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name");
    EXPECT(p, "helo_name=-bad.example",
	   "501 5.5.2 <-bad.example>: Helo command rejected: Invalid name");
    EXPECT(p, "helo_name=192.0.2.1", "504 5.5.2 <192.0.2.1>: Helo command rejected: need fully-qualified hostname");
    EXPECT(p, "helo_name=[192.0.2.1]", "DUNNO");
    EXPECT(p, "helo_name=[IPv6:2001:db8::1]", "DUNNO");
    EXPECT(p, "helo_name=[300.1.1.1]",
	   "501 5.5.2 <[300.1.1.1]>: Helo command rejected: invalid ip address");
    /* no HELO at all: the helo list is skipped, as in Postfix */
    EXPECT(p, "helo_name=", "DUNNO");
    policy_unref(p);

    p = compile(BASE "smtpd_helo_required = yes\n");
    EXPECT(p, "helo_name=", "503 5.5.1 Error: send HELO/EHLO first");
    EXPECT(p, "helo_name=x", "DUNNO");
    policy_unref(p);
}

static void test_non_fqdn_addresses(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "sender_restrictions = reject_non_fqdn_sender\n"
			       "recipient_restrictions = reject_non_fqdn_recipient\n");

    EXPECT(p, "sender=", "DUNNO");
    EXPECT(p, "sender=joe@[192.0.2.1]", "DUNNO");
    EXPECT(p, "sender=joe@localhost",
	   "504 5.5.2 <joe@localhost>: Sender address rejected: need fully-qualified address");
    EXPECT(p, "recipient=bob",
	   "504 5.5.2 <bob>: Recipient address rejected: need fully-qualified address");
    /* RFC 5321: postmaster needs no domain, and is never refused */
    EXPECT(p, "recipient=postmaster", "DUNNO");
    EXPECT(p, "recipient=PostMaster", "DUNNO");
    policy_unref(p);
}

static void test_access_actions(void **state)
{
    (void) state;
    write_file("sender",
	       "user@example.com   REJECT we do not want email from this guy\n"
	       "plain@example.com  REJECT\n"
	       "dsn@example.com    REJECT 5.7.26 Unauthenticated\n"
	       "later@example.com  DEFER\n"
	       "code@example.com   550 No such luck\n"
	       "code4@example.com  421 4.4.2 Busy\n"
	       "friend@example.com OK\n"
	       "num@example.com    12345\n"
	       "skip@example.com   DUNNO\n"
	       "fqdn@example.com   reject_non_fqdn_recipient\n"
	       "cls@example.com    strict\n"
	       "tbl@example.com    check_client_access hash:/etc/postfix/x\n"
	       "bogus@example.com  no_such_restriction\n"
	       "pp@example.com     PREPEND X-Checked: yes\n"
	       "dip@example.com    DEFER_IF_PERMIT Try later please\n"
	       "dir@example.com    DEFER_IF_REJECT Maybe later\n"
	       "hold@example.com   HOLD\n"
	       "<>                 REJECT no bounces here\n"
	       "spammer.example    REJECT domain-wide\n"
	       "lonely@            REJECT any domain\n"
	       "joe@our.example    REJECT canonical form\n");
    struct policy *p = compile(BASE "smtpd_restriction_classes = strict\n"
			       "strict = reject_non_fqdn_recipient, reject\n"
			       "sender_restrictions = check_sender_access hash:@DIR@/sender\n"
			       "recipient_restrictions = reject_unauth_destination\n");

    EXPECT(p, "sender=user@example.com",
	   "554 5.7.1 <user@example.com>: Sender address rejected: we do not want email from this guy");
    EXPECT(p, "sender=USER@Example.COM",
	   "554 5.7.1 <USER@Example.COM>: Sender address rejected: we do not want email from this guy");
    EXPECT(p, "sender=plain@example.com",
	   "554 5.7.1 <plain@example.com>: Sender address rejected: Access denied");
    EXPECT(p, "sender=dsn@example.com",
	   "554 5.7.26 <dsn@example.com>: Sender address rejected: Unauthenticated");
    EXPECT(p, "sender=later@example.com",
	   "450 4.7.1 <later@example.com>: Sender address rejected: Access denied");
    EXPECT(p, "sender=code@example.com",
	   "550 5.7.1 <code@example.com>: Sender address rejected: No such luck");
    EXPECT(p, "sender=code4@example.com",
	   "421 4.4.2 <code4@example.com>: Sender address rejected: Busy");
    /* OK ends the sender list only; relay control still applies */
    EXPECT(p, "sender=friend@example.com", "DUNNO");
    EXPECT(p, "sender=friend@example.com|recipient=x@elsewhere.example",
	   "554 5.7.1 <x@elsewhere.example>: Relay access denied");
    EXPECT(p, "sender=num@example.com", "DUNNO");
    EXPECT(p, "sender=skip@example.com", "DUNNO");
    EXPECT(p, "sender=fqdn@example.com|recipient=bob",
	   "504 5.5.2 <bob>: Recipient address rejected: need fully-qualified address");
    EXPECT(p, "sender=cls@example.com",
	   "554 5.7.1 <cls@example.com>: Sender address rejected: Access denied");
    EXPECT(p, "sender=tbl@example.com", "451 4.3.5 Server configuration error");
    EXPECT(p, "sender=bogus@example.com", "451 4.3.5 Server configuration error");
    EXPECT(p, "sender=pp@example.com", "PREPEND X-Checked: yes");
    EXPECT(p, "sender=dip@example.com",
	   "450 4.7.1 <dip@example.com>: Sender address rejected: Try later please");
    /* a later 5xx turns into the remembered 4xx */
    EXPECT(p, "sender=dir@example.com", "DUNNO");
    EXPECT(p, "sender=hold@example.com", "HOLD");
    EXPECT(p, "sender=", "554 5.7.1 <>: Sender address rejected: no bounces here");
    EXPECT(p, "sender=x@spammer.example",
	   "554 5.7.1 <x@spammer.example>: Sender address rejected: domain-wide");
    EXPECT(p, "sender=x@mail.spammer.example",
	   "554 5.7.1 <x@mail.spammer.example>: Sender address rejected: domain-wide");
    EXPECT(p, "sender=lonely@anywhere.example",
	   "554 5.7.1 <lonely@anywhere.example>: Sender address rejected: any domain");
    /* unqualified sender is looked up as smtpd canonicalises it */
    EXPECT(p, "sender=joe", "554 5.7.1 <joe>: Sender address rejected: canonical form");
    policy_unref(p);
}

static void test_defer_flags(void **state)
{
    (void) state;
    write_file("client",
	       "192.0.2.66 DEFER_IF_REJECT temp problem\n"
	       "192.0.2.77 DEFER_IF_PERMIT temp problem\n");
    struct policy *p;

    p = compile(BASE "client_restrictions = hash:@DIR@/client, reject\n");
    /* defer_if_reject then reject in the same list: 450 with the saved text */
    EXPECT(p, "client_address=192.0.2.66",
	   "450 4.7.1 <mail.example.net[192.0.2.66]>: Client host rejected: temp problem");
    policy_unref(p);

    p = compile(BASE "client_restrictions = hash:@DIR@/client\n"
		"recipient_restrictions = permit\n");
    /* defer_if_permit, then permit: 450 */
    EXPECT(p, "client_address=192.0.2.77",
	   "450 4.7.1 <mail.example.net[192.0.2.77]>: Client host rejected: temp problem");
    EXPECT(p, "client_address=192.0.2.78", "DUNNO");
    policy_unref(p);

    p = compile(BASE "client_restrictions = hash:@DIR@/client\n"
		"recipient_restrictions = reject\n");
    /* defer_if_permit, then a reject: the reject stands */
    EXPECT(p, "client_address=192.0.2.77",
	   "554 5.7.1 <bob@our.example>: Recipient address rejected: Access denied");
    policy_unref(p);

    p = compile(BASE "helo_restrictions = defer_if_permit\n");
    EXPECT(p, "", "450 4.7.0 <mail.example.net>: Helo command rejected: defer_if_permit requested");
    policy_unref(p);
    p = compile(BASE "recipient_restrictions = defer_if_reject, reject\n");
    EXPECT(p, "", "450 4.7.0 <bob@our.example>: Recipient address rejected: defer_if_reject requested");
    policy_unref(p);
    p = compile(BASE "recipient_restrictions = defer\n");
    EXPECT(p, "", "450 4.3.2 <bob@our.example>: Recipient address rejected: Try again later");
    policy_unref(p);
}

static void test_warn_dry_run_soft_bounce(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "recipient_restrictions = warn_if_reject reject_non_fqdn_recipient,"
			       " reject_unauth_destination\n");

    EXPECT(p, "recipient=bob", "DUNNO");
    EXPECT(p, "recipient=x@elsewhere.example",
	   "554 5.7.1 <x@elsewhere.example>: Relay access denied");
    policy_unref(p);

    p = compile(BASE "dry_run = yes\nrecipient_restrictions = reject\n");
    EXPECT(p, "", "DUNNO");
    policy_unref(p);

    p = compile(BASE "soft_bounce = yes\nrecipient_restrictions = reject\n");
    EXPECT(p, "", "454 4.7.1 <bob@our.example>: Recipient address rejected: Access denied");
    policy_unref(p);
}

static void test_stages_by_protocol_state(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "client_restrictions = reject\n"
			       "data_restrictions = reject_unauth_pipelining, defer\n");

    EXPECT(p, "protocol_state=DATA", "450 4.3.2 <DATA>: Data command rejected: Try again later");
    EXPECT(p, "protocol_state=CONNECT",
	   "554 5.7.1 <mail.example.net[192.0.2.10]>: Client host rejected: Access denied");
    EXPECT(p, "protocol_state=END-OF-MESSAGE", "DUNNO");
    policy_unref(p);
}

static void test_classes_and_recursion(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "smtpd_restriction_classes = a, b\n"
			       "a = b\nb = a\n"
			       "recipient_restrictions = a\n");

    EXPECT(p, "", "451 4.3.5 Server configuration error");
    policy_unref(p);
}

static void test_compile_errors(void **state)
{
    (void) state;
    compile_err("recipient_restrictions = permit_mynetworks,\n  frobnicate\n",
		"test.cf:1: recipient_restrictions: unknown restriction \"frobnicate\"");
    compile_err("client_restrictions = check_client_mx_access hash:/nonexistent\n",
		"\"check_client_mx_access\" is not yet supported");
    compile_err("recipient_restrictions = check_helo_ns_access hash:/x\n", "not yet supported");
    compile_err("client_restrictions = reject_rbl_client\n", "requires a domain name argument");
    compile_err("client_restrictions = reject_rbl_client zen.spamhaus.org=127.0.0.[2..300]\n",
		"bad reply filter");
    compile_err("client_restrictions = score 3\n", "at the end of the list");
    compile_err("client_restrictions = score x reject\n", "must be followed by a weight");
    compile_err("client_restrictions = score 2 warn_if_reject reject\n",
		"must be followed by a restriction");
    compile_err("sender_restrictions = check_sender_access\n", "must be followed by type:table");
    compile_err("sender_restrictions = check_sender_access hash:@DIR@/missing\n",
		"missing");
    compile_err("sender_restrictions = check_sender_access nosuch:@DIR@/x\n", "nosuch");
    compile_err("data_restrictions = hash:@DIR@/sender\n", "needs a check_*_access");
    compile_err("mynetworks = 10.0.0.0/33\n", "mynetworks");
    compile_err("policy_permit_action = MAYBE\n", "neither OK nor DUNNO");
}

static void test_trace(void **state)
{
    (void) state;
    struct policy *p = compile(BASE "sender_restrictions = check_sender_access hash:@DIR@/sender\n");
    struct request req;
    struct trace t;
    char   *a;
    int     found = 0;

    request_init(&req);
    request_add_line(&req, "sender=user@example.com", 23);
    trace_init(&t);
    a = eval_request(p, &req, &t);
    for (size_t i = 0; i < t.n; i++)
	if (strcmp(t.v[i].what, "check_sender_access") == 0
	    && strstr(t.v[i].detail, "user@example.com") && strstr(t.v[i].result, "554 5.7.1"))
	    found = 1;
    assert_true(found);
    assert_string_equal(t.v[t.n - 1].what, "result");
    assert_string_equal(t.v[t.n - 1].result, a);
    free(a);
    trace_free(&t);
    request_free(&req);
    policy_unref(p);
}

static void quiet(const char *level, const char *text, void *ctx)
{
    (void) level;
    (void) text;
    (void) ctx;
}

static int setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/mxshield-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
	return -1;
    write_file("sender", "");
    log_capture(quiet, NULL);
    return 0;
}

static int teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_nothing_decides),
	cmocka_unit_test(test_relay),
	cmocka_unit_test(test_permit_ends_only_its_list),
	cmocka_unit_test(test_helo),
	cmocka_unit_test(test_non_fqdn_addresses),
	cmocka_unit_test(test_access_actions),
	cmocka_unit_test(test_defer_flags),
	cmocka_unit_test(test_warn_dry_run_soft_bounce),
	cmocka_unit_test(test_stages_by_protocol_state),
	cmocka_unit_test(test_classes_and_recursion),
	cmocka_unit_test(test_compile_errors),
	cmocka_unit_test(test_trace),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
