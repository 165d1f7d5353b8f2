/*
 * test_request.c - a policy request's attributes: every well-known name
 * lands in its field, near misses do not, the last of a repeated name
 * counts, and fields survive the storage growing under them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "policy/request.h"

#define FIELD(n) { #n, offsetof(struct request, txn.n) }
static const struct {
    const char *name;
    size_t  off;
} fields[] = {
    { "request", offsetof(struct request, request) }, FIELD(protocol_state), FIELD(protocol_name), FIELD(helo_name),
    FIELD(queue_id), FIELD(sender), FIELD(recipient), FIELD(client_address),
    FIELD(client_name), FIELD(reverse_client_name), FIELD(instance),
    FIELD(sasl_method), FIELD(sasl_username), FIELD(sasl_sender),
    FIELD(ccert_fingerprint), FIELD(encryption_protocol), FIELD(stress), FIELD(size),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *field(const struct request *r, size_t i)
{
    return *(const char *const *) ((const char *) r + fields[i].off);
}

static void test_every_field(void **state)
{
    struct request r;
    char    line[128];

    (void) state;
    request_init(&r);
    for (size_t i = 0; i < NFIELDS; i++) {
	snprintf(line, sizeof(line), "%s=v-%s", fields[i].name, fields[i].name);
	assert_int_equal(request_add_line(&r, line, strlen(line)), 0);
    }
    for (size_t i = 0; i < NFIELDS; i++) {
	snprintf(line, sizeof(line), "v-%s", fields[i].name);
	assert_string_equal(field(&r, i), line);
    }
    assert_int_equal(r.txn.seen_helo, 1);
    request_free(&r);
}

static void test_near_misses(void **state)
{
    static const char *const lines[] = {
	"senders=x", "Sender=x", "sende=x", "client_addresS=x", "sizes=x", "siz=x",
	"recipient_count=1", "client_port=25", "xsender=x", "helo_names=x",
    };
    struct request r;

    (void) state;
    request_init(&r);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
	assert_int_equal(request_add_line(&r, lines[i], strlen(lines[i])), 0);
    for (size_t i = 0; i < NFIELDS; i++)
	assert_string_equal(field(&r, i), "");
    assert_int_equal(r.txn.seen_helo, 0);
    /* every attribute is kept all the same */
    assert_string_equal(request_get(&r, "client_port"), "25");
    request_free(&r);
}

static void test_last_wins_and_growth(void **state)
{
    struct request r;
    char    line[64];

    (void) state;
    request_init(&r);
    assert_int_equal(request_add_line(&r, "sender=a@x", 10), 0);
    /* enough attributes to move the storage several times */
    for (int i = 0; i < 500; i++) {
	snprintf(line, sizeof(line), "x%d=%0*d", i, 40, i);
	assert_int_equal(request_add_line(&r, line, strlen(line)), 0);
    }
    assert_string_equal(r.txn.sender, "a@x");
    assert_int_equal(request_add_line(&r, "sender=b@y", 10), 0);
    assert_string_equal(r.txn.sender, "b@y");
    assert_int_equal(request_add_line(&r, "=nameless", 9), -1);
    assert_int_equal(request_add_line(&r, "noequals", 8), -1);
    request_free(&r);
}

/* policy_test_time fills the transaction's test clock; reset clears it */
static void test_test_time(void **state)
{
    struct request r;

    (void) state;
    request_init(&r);
    assert_string_equal(r.txn.test_time, "");
    assert_int_equal(request_add_line(&r, "policy_test_time=1700000000", 27), 0);
    assert_string_equal(r.txn.test_time, "1700000000");
    assert_int_equal(request_add_line(&r, "policy_test_times=1", 19), 0);
    assert_string_equal(r.txn.test_time, "1700000000");
    request_reset(&r);
    assert_string_equal(r.txn.test_time, "");
    request_free(&r);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_every_field),
	cmocka_unit_test(test_near_misses),
	cmocka_unit_test(test_last_wins_and_growth),
	cmocka_unit_test(test_test_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
