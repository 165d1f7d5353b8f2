/*
 * test_bancache.c - the local cache of known bans (ban/bancache.c), and
 * the counter's tolerance of a clock a little behind, which the Redis
 * counter script (store/redis_counter.c) repeats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ban/ban.h"
#include "ban/bancache.h"
#include "store/redis_impl.h"

static void test_put_get_del(void **state)
{
    struct ban_record r = {2000, 1000, 1, 0}, got;

    (void) state;
    ban_cache_clear();
    assert_int_equal(ban_cache_get("192.0.2.9/32", 1500, &got), 0);
    ban_cache_put("192.0.2.9/32", &r);
    assert_int_equal(ban_cache_get("192.0.2.9/32", 1500, &got), 1);
    assert_int_equal(got.expires, 2000);
    assert_int_equal(ban_cache_get("192.0.2.90/32", 1500, &got), 0);
    /* expired: not a ban, and forgotten */
    assert_int_equal(ban_cache_get("192.0.2.9/32", 2000, &got), 0);
    assert_int_equal(ban_cache_get("192.0.2.9/32", 1500, &got), 0);
    /* updated in place, then lifted */
    ban_cache_put("192.0.2.9/32", &r);
    r.expires = 3000;
    ban_cache_put("192.0.2.9/32", &r);
    assert_int_equal(ban_cache_get("192.0.2.9/32", 2500, &got), 1);
    ban_cache_del("192.0.2.9/32");
    assert_int_equal(ban_cache_get("192.0.2.9/32", 1500, &got), 0);
    /* nothing too long or empty is kept */
    char    longnet[BAN_NET_MAX + 8];

    memset(longnet, '1', sizeof(longnet) - 1);
    longnet[sizeof(longnet) - 1] = 0;
    ban_cache_put(longnet, &r);
    ban_cache_put("", &r);
    assert_int_equal(ban_cache_get("", 1500, &got), 0);
}

static void test_bounded_keeps_the_longest(void **state)
{
    char    net[BAN_NET_MAX];
    struct ban_record r = {0, 1000, 1, 0}, got;
    long    kept = 0, late = 0;
    const long n = 4 * BAN_CACHE_SLOTS;

    (void) state;
    ban_cache_clear();
    /* four times as many bans as slots: the table stays bounded, and a
     * full probe run gives up the ban that ends first */
    for (long i = 0; i < n; i++) {
	snprintf(net, sizeof(net), "10.%ld.%ld.%ld/32", i >> 16, (i >> 8) & 255, i & 255);
	r.expires = 10000 + i;
	ban_cache_put(net, &r);
    }
    for (long i = 0; i < n; i++) {
	snprintf(net, sizeof(net), "10.%ld.%ld.%ld/32", i >> 16, (i >> 8) & 255, i & 255);
	if (ban_cache_get(net, 5000, &got)) {
	    kept++;
	    late += i >= n - BAN_CACHE_SLOTS;
	}
    }
    assert_true(kept <= BAN_CACHE_SLOTS);
    assert_true(kept > BAN_CACHE_SLOTS / 2);
    assert_true(late > kept / 2);	/* mostly the ones that end last */
}

static void test_counter_clock_skew(void **state)
{
    struct ban_counter c = {0, 5000, 4, 0};

    (void) state;
    /* another host's clock a second behind: the same window */
    assert_int_equal(ban_counter_hit(&c, 4999, 600, 1), 5);
    assert_int_equal(c.start, 5000);
    assert_int_equal(ban_counter_peek(&c, 5000 - BAN_SKEW_MAX, 600), 5);
    /* further back: the clock went back, counting starts again */
    assert_int_equal(ban_counter_peek(&c, 5000 - BAN_SKEW_MAX - 1, 600), 0);
    /* the Redis script has the same tolerance */
    assert_int_equal(atoi(REDIS_SKEW_MAX_TEXT), BAN_SKEW_MAX);
    assert_int_equal(strlen(redis_counter_sha()), 40);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_put_get_del),
	cmocka_unit_test(test_bounded_keeps_the_longest),
	cmocka_unit_test(test_counter_clock_skew),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
