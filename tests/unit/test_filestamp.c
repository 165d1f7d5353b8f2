/*
 * test_filestamp.c - file-change detection: a rewrite that keeps the size
 * and puts the mtime back (touch -d) is still noticed, by tables and by
 * the greylist whitelists alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "greylist/greylist.h"
#include "maps/map.h"
#include "util/filestamp.h"
#include "tmpdir.h"

static char dir[] = "/tmp/mxstamp.XXXXXX";
static char path[64];

/* put - write text to path (in place, keeping the inode) */
static void put(const char *file, const char *text)
{
    FILE   *fp = fopen(file, "r+");

    if (fp == NULL)
	fp = fopen(file, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* rewrite_same_stamp - new contents of the same size, mtime put back */
static void rewrite_same_stamp(const char *file, const char *text)
{
    struct stat before, after;
    struct timespec times[2];
    struct timespec pause = {0, 30 * 1000 * 1000};	/* past a clock tick */

    assert_int_equal(stat(file, &before), 0);
    nanosleep(&pause, NULL);
    put(file, text);
    times[0] = before.st_atim;
    times[1] = before.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, file, times, 0), 0);
    assert_int_equal(stat(file, &after), 0);
    /* what the old whitelist check compared is unchanged */
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_size, before.st_size);
    assert_true(after.st_mtim.tv_sec == before.st_mtim.tv_sec
		&& after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

static int setup(void **state)
{
    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    return tmpdir_remove(dir);
}

static void test_stamp(void **state)
{
    struct filestamp a, b, none1, none2;
    char    other[80];

    (void) state;
    unlink(path);
    assert_int_equal(filestamp_get(path, &none1), -1);
    assert_int_equal(filestamp_get(path, &none2), -1);
    assert_true(filestamp_same(&none1, &none2));
    put(path, "one\n");
    assert_int_equal(filestamp_get(path, &a), 0);
    assert_false(filestamp_same(&a, &none1));
    assert_int_equal(filestamp_get(path, &b), 0);
    assert_true(filestamp_same(&a, &b));

    /* in place, same size, mtime put back: the ctime moved */
    rewrite_same_stamp(path, "two\n");
    assert_int_equal(filestamp_get(path, &b), 0);
    assert_false(filestamp_same(&a, &b));

    /* an editor's rename-over, same size and mtime: a new inode */
    struct stat st;
    struct timespec times[2];

    assert_int_equal(filestamp_get(path, &a), 0);
    assert_int_equal(stat(path, &st), 0);
    snprintf(other, sizeof(other), "%s/new", dir);
    put(other, "six\n");
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, other, times, 0), 0);
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(filestamp_get(path, &b), 0);
    assert_false(filestamp_same(&a, &b));
}

static void test_table_notices(void **state)
{
    char    spec[96], err[256];
    const char *v;
    struct map *m;

    (void) state;
    unlink(path);
    put(path, "k one\n");
    snprintf(spec, sizeof(spec), "texthash:%s", path);
    m = map_open(spec, err, sizeof(err));
    assert_non_null(m);
    assert_int_equal(map_get(m, "k", &v), MAP_FOUND);
    assert_string_equal(v, "one");
    assert_int_equal(map_refresh(m), 0);
    rewrite_same_stamp(path, "k two\n");
    assert_int_equal(map_refresh(m), 1);
    assert_int_equal(map_get(m, "k", &v), MAP_FOUND);
    assert_string_equal(v, "two");
    map_free(m);
}

static void test_whitelist_notices(void **state)
{
    char    err[256];
    struct gl_whitelist *w;

    (void) state;
    unlink(path);
    put(path, "192.0.2.1\n");
    w = gl_whitelist_load(path, "", err, sizeof(err));
    assert_non_null(w);
    assert_non_null(gl_whitelist_match(w, "unknown", "192.0.2.1", "a@b.c"));
    assert_null(gl_whitelist_match(w, "unknown", "192.0.2.9", "a@b.c"));
    rewrite_same_stamp(path, "192.0.2.9\n");
    gl_whitelist_refresh(w);
    assert_null(gl_whitelist_match(w, "unknown", "192.0.2.1", "a@b.c"));
    assert_non_null(gl_whitelist_match(w, "unknown", "192.0.2.9", "a@b.c"));
    gl_whitelist_free(w);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_stamp),
	cmocka_unit_test(test_table_notices),
	cmocka_unit_test(test_whitelist_notices),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
