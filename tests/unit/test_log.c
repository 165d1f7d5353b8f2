/*
 * test_log.c - the service name in a line's prefix: the process's name
 * (log_set_service), a handler's while it is entered (log_service_enter),
 * the previous one back after log_service_leave, nested entries, and the
 * held lines written as they were made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* logged - what fn wrote to standard error, with "[pid]" made "[N]" */
static char *logged(void (*fn) (void))
{
    static char out[4096];
    char    path[] = "/tmp/test_log.XXXXXX";
    char    pid[32];
    int     fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;
    char   *p;

    assert_true(fd >= 0 && saved >= 0);
    unlink(path);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    fn();
    log_flush();
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    n = pread(fd, out, sizeof(out) - 1, 0);
    close(fd);
    assert_true(n >= 0);
    out[n] = 0;
    snprintf(pid, sizeof(pid), "[%ld]", (long) getpid());
    while ((p = strstr(out, pid)) != NULL) {
	memmove(p + 3, p + strlen(pid), strlen(p + strlen(pid)) + 1);
	memcpy(p, "[N]", 3);
    }
    return out;
}

static void nested(void)
{
    const char *outer, *inner;

    log_init("mxshield", 0);
    log_set_service("policy");
    msg_info("before");
    outer = log_service_enter("milter");
    assert_null(outer);
    assert_string_equal(log_service_current(), "milter");
    msg_warn("in the milter");
    inner = log_service_enter("ban");
    msg_info("a ban from the milter's work");
    log_service_leave(inner);
    msg_info("the milter again");
    log_service_leave(outer);
    assert_null(log_service_current());
    msg_info("after");
}

static void test_enter_leave(void **state)
{
    (void) state;
    assert_string_equal(logged(nested),
			"mxshield/policy[N]: before\n"
			"mxshield/milter[N]: warning: in the milter\n"
			"mxshield/ban[N]: a ban from the milter's work\n"
			"mxshield/milter[N]: the milter again\n"
			"mxshield/policy[N]: after\n");
}

/* held lines keep the name they were logged under */
static void held(void)
{
    const char *previous;

    log_hold_lines(1);
    previous = log_service_enter("milter");
    msg_info("one");
    log_service_leave(previous);
    msg_info("two");
    previous = log_service_enter("metrics");
    msg_info("three");
    log_service_leave(previous);
    log_hold_lines(0);
}

static void test_held(void **state)
{
    (void) state;
    assert_string_equal(logged(held),
			"mxshield/milter[N]: one\n"
			"mxshield/policy[N]: two\n"
			"mxshield/metrics[N]: three\n");
}

/* the process's name changed under an entered one comes back after it */
static void renamed(void)
{
    const char *previous = log_service_enter("milter");

    log_set_service("check");
    msg_info("still the milter's");
    log_service_leave(previous);
    msg_info("the process's new name");
    log_set_service("policy");
}

static void test_process_name_changed(void **state)
{
    (void) state;
    assert_string_equal(logged(renamed),
			"mxshield/milter[N]: still the milter's\n"
			"mxshield/check[N]: the process's new name\n");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_enter_leave),
	cmocka_unit_test(test_held),
	cmocka_unit_test(test_process_name_changed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
