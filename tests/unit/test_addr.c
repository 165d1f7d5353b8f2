/*
 * test_addr.c - envelope address resolution and RFC 5321's path size:
 * an address of 254 octets is resolved, one of 255 is a temporary
 * failure (never a relay permission, never a 5xx), and the loop's
 * cost stays bounded for the worst address of the longest line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/addr.h"
#include "util/mailaddr.h"
#include "util/mem.h"

static struct addr_ctx ctx(struct domain_list *local)
{
    struct addr_ctx c;

    memset(&c, 0, sizeof(c));
    c.myorigin = "our.test";
    c.myhostname = "mx.our.test";
    c.percent_hack = 1;
    c.swap_bangpath = 1;
    c.local = local;
    return c;
}

/* address - local@our.test of exactly len octets */
static char *address(size_t len)
{
    char   *a = xmalloc(len + 1);
    size_t  dl = strlen("@our.test");

    memset(a, 'u', len - dl);
    memcpy(a + len - dl, "@our.test", dl + 1);
    return a;
}

static void test_path_size(void **state)
{
    struct buf err;
    struct domain_list *local;
    struct resolved r;

    (void) state;
    buf_init(&err);
    local = domain_list_new("our.test", 0, NULL, &err);
    assert_non_null(local);
    struct addr_ctx c = ctx(local);

    buf_init(&r.addr);
    char   *a = address(ADDR_TEXT_MAX);

    assert_int_equal(addr_resolve(&c, a, &r), 0);
    assert_int_equal(r.cls, RESOLVE_LOCAL);
    assert_string_equal(r.addr.s, a);
    free(a);
    a = address(ADDR_TEXT_MAX + 1);
    assert_int_equal(addr_resolve(&c, a, &r), -1);
    free(a);
    buf_free(&r.addr);
    domain_list_free(local);
    buf_free(&err);
}

/* x@our.test@our.test@...: one turn of the loop per local domain */
static void test_worst_address_is_cheap(void **state)
{
    struct buf err, big;
    struct domain_list *local;
    struct resolved r;
    struct timespec t0, t1;

    (void) state;
    buf_init(&err);
    buf_init(&big);
    local = domain_list_new("our.test", 0, NULL, &err);
    struct addr_ctx c = ctx(local);

    buf_puts(&big, "x");
    while (big.len < 100000)
	buf_puts(&big, "@our.test");
    buf_init(&r.addr);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    assert_int_equal(addr_resolve(&c, big.s, &r), -1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < 10.0);
    buf_free(&r.addr);
    buf_free(&big);
    domain_list_free(local);
    buf_free(&err);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_path_size),
	cmocka_unit_test(test_worst_address_is_cheap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
