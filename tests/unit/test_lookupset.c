/*
 * test_lookupset.c - the DNS lookups of one evaluation: each (name, type)
 * is started once whoever asks (names compare case-insensitively), a
 * missed answer wakes the caller once when it arrives, freeing the set
 * cancels what is outstanding, and without a resolver every answer is a
 * temporary failure.  The resolver here is a loopback socket that never
 * answers, so every lookup ends in its timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <event2/event.h>

#include "dns/lookupset.h"

static int wakeups;

static void woken(void *arg)
{
    wakeups++;
    event_base_loopbreak(arg);
}

/* silent_server - a UDP socket on loopback that never answers */
static int silent_server(char *spec, size_t len)
{
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    int     fd = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &slen), 0);
    snprintf(spec, len, "127.0.0.1:%d", ntohs(sin.sin_port));
    return fd;
}

static void test_no_resolver(void **state)
{
    struct lookupset *ls = lookupset_new(NULL);
    struct dns_answer *a, *b;
    struct buf t;
    int     cached = -1;

    (void) state;
    a = lookupset_get(ls, "example.net", DNS_T_MX, &cached);
    assert_non_null(a);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    assert_string_equal(a->why, "no resolver configured");
    assert_int_equal(cached, 0);
    b = lookupset_get(ls, "EXAMPLE.net", DNS_T_MX, NULL);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, lookupset_get(ls, "example.net", DNS_T_A, NULL));
    buf_init(&t);
    lookupset_describe(&t, "example.net", DNS_T_MX, a, 1);
    assert_string_equal(t.s, "DNS MX example.net: temporary failure: no resolver configured (cached)");
    buf_free(&t);
    assert_int_equal(lookupset_outstanding(ls), 0);
    lookupset_free(ls);
}

static void test_started_once_woken_once(void **state)
{
    struct event_base *base = event_base_new();
    char    spec[64], why[256];
    int     fd = silent_server(spec, sizeof(spec));
    struct dns *dns = dns_new(base, spec, 300, 0, why, sizeof(why));
    struct lookupset *ls;
    struct dns_answer *a;

    (void) state;
    assert_non_null(dns);
    ls = lookupset_new(dns);
    lookupset_set_wakeup(ls, woken, base);
    lookupset_start(ls, "mail.example.net", DNS_T_A);
    lookupset_start(ls, "MAIL.example.NET", DNS_T_A);
    lookupset_start(ls, "", DNS_T_A);	/* nothing to ask */
    assert_int_equal(lookupset_outstanding(ls), 1);
    /* started, not asked for: its answer wakes nobody */
    lookupset_start(ls, "other.example.net", DNS_T_TXT);
    assert_int_equal(lookupset_outstanding(ls), 2);
    wakeups = 0;
    assert_null(lookupset_get(ls, "mail.example.net", DNS_T_A, NULL));
    while (lookupset_outstanding(ls) > 0)
	event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(wakeups, 1);
    a = lookupset_get(ls, "mail.example.net", DNS_T_A, NULL);
    assert_non_null(a);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    lookupset_free(ls);

    /* freed while waiting: the answer goes nowhere */
    ls = lookupset_new(dns);
    lookupset_set_wakeup(ls, woken, base);
    assert_null(lookupset_get(ls, "gone.example.net", DNS_T_A, NULL));
    lookupset_free(ls);
    wakeups = 0;
    struct timeval tv = {0, 500000};

    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    assert_int_equal(wakeups, 0);
    dns_free(dns);
    event_base_free(base);
    close(fd);
}

/* fill - n copies of ch, then suffix */
static char *fill(char *out, int ch, size_t n, const char *suffix)
{
    memset(out, ch, n);
    strcpy(out + n, suffix);
    return out;
}

/* answer - wait for (name, A) and return its answer */
static struct dns_answer *answer(struct event_base *base, struct lookupset *ls, const char *name)
{
    struct dns_answer *a;

    while ((a = lookupset_get(ls, name, DNS_T_A, NULL)) == NULL)
	event_base_loop(base, EVLOOP_ONCE);
    return a;
}

/*
 * A name that cannot be a DNS name (over 253 characters, a label over 63
 * or empty) does not exist, as Postfix's dns_lookup() says: NXDOMAIN at
 * once, never a temporary failure that a client's long HELO name could
 * cause.  One byte less is asked (here: times out); escaping does not
 * count ('\\' travels as \092 but is one byte of the name).
 */
static void test_invalid_names(void **state)
{
    struct event_base *base = event_base_new();
    char    spec[64], why[256], n[400], lab[100], last[100];
    int     fd = silent_server(spec, sizeof(spec));
    struct dns *dns = dns_new(base, spec, 300, 0, why, sizeof(why));
    struct lookupset *ls;
    struct dns_answer *a;
    const char *bad[4];

    (void) state;
    assert_non_null(dns);
    ls = lookupset_new(dns);
    lookupset_set_wakeup(ls, woken, base);

    /* 63 + 1 + 63 + 1 + 63 + 1 + 62 = 254 characters: too long */
    fill(lab, 'a', 63, "");
    snprintf(n, sizeof(n), "%s.%s.%s.%s", lab, lab, lab, fill(last, 'b', 62, ""));
    assert_int_equal(strlen(n), 254);
    a = answer(base, ls, n);
    assert_int_equal(a->status, DNS_NXDOMAIN);
    /* 253 with a trailing dot is the same name, 253 long: asked */
    n[253] = '.';
    a = answer(base, ls, n);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    assert_non_null(strstr(a->why, "timed out"));

    bad[0] = fill(n, 'x', 64, ".test");	/* a label of 64 */
    bad[1] = "a..test";
    bad[2] = ".test";
    bad[3] = "..";
    for (int i = 0; i < 4; i++) {
	a = answer(base, ls, bad[i]);
	assert_int_equal(a->status, DNS_NXDOMAIN);
    }

    /* 63 and 253 bytes of backslashes: 4 times as long escaped, yet asked */
    a = answer(base, ls, fill(n, 'y', 63, ".test"));
    assert_int_equal(a->status, DNS_TEMPFAIL);
    fill(lab, '\\', 63, "");
    snprintf(n, sizeof(n), "%s.%s.%s.%s", lab, lab, lab, fill(last, '\\', 61, ""));
    assert_int_equal(strlen(n), 253);
    a = answer(base, ls, n);
    assert_int_equal(a->status, DNS_TEMPFAIL);
    assert_non_null(strstr(a->why, "timed out"));
    lookupset_free(ls);
    dns_free(dns);
    event_base_free(base);
    close(fd);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_no_resolver),
	cmocka_unit_test(test_started_once_woken_once),
	cmocka_unit_test(test_invalid_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
