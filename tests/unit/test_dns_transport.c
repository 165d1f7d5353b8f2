/*
 * test_dns_transport.c - dns_set_transport(): the two transports are
 * accepted in any case, anything else is refused with a message naming
 * the parameter and the value.  That "tcp" reaches the server over TCP is
 * tested against a TCP-only server in tests/proto/test_dns_transport.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "dns/dns.h"

static struct dns *resolver(struct event_base *base)
{
    char    why[256];
    struct dns *d = dns_new(base, "127.0.0.1:53", 300, 0, why, sizeof(why));

    if (d == NULL)
	fail_msg("dns_new: %s", why);
    return d;
}

static void test_accepted(void **state)
{
    static const char *const ok[] = {"udp", "tcp", "UDP", "Tcp"};
    struct event_base *base = event_base_new();
    char    why[256];

    (void) state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
	struct dns *d = resolver(base);

	why[0] = 0;
	assert_int_equal(dns_set_transport(d, ok[i], why, sizeof(why)), 0);
	assert_string_equal(why, "");
	dns_free(d);
    }
    event_base_free(base);
}

static void test_refused(void **state)
{
    static const char *const bad[] = {"", "quic", "tcp ", "udp,tcp", "dot"};
    struct event_base *base = event_base_new();
    char    why[256], want[300];

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	struct dns *d = resolver(base);

	assert_int_equal(dns_set_transport(d, bad[i], why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "dns_transport: \"%s\" is neither udp nor tcp", bad[i]);
	assert_string_equal(why, want);
	dns_free(d);
    }
    event_base_free(base);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_accepted),
	cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
