/*
 * hashdb_fixture.h - the hash file tests' set-up: a temporary directory
 * with triplets.db in it (dir, file), made and removed around each test,
 * and the file opened or checked with a failure that says why.  Define
 * MAP (the map size) before including it.
 */
#ifndef MX_TEST_HASHDB_FIXTURE_H
#define MX_TEST_HASHDB_FIXTURE_H

#include <stdio.h>

#include "store/hashdb.h"
#include "tmpdir.h"

static char dir[64], file[128];

static inline int setup(void **state)
{
    (void) state;
    if (tmpdir_make(dir, sizeof(dir), "mxhashdb") < 0)
	return -1;
    snprintf(file, sizeof(file), "%s/triplets.db", dir);
    return 0;
}

static inline int teardown(void **state)
{
    (void) state;
    return tmpdir_remove(dir);
}

static inline struct hashdb *open_db(int readonly)
{
    char    err[256];
    struct hashdb *h = hashdb_open(file, MAP, readonly, err, sizeof(err));

    if (h == NULL)
	fail_msg("hashdb_open: %s", err);
    return h;
}

static inline void check(struct hashdb *h)
{
    char    err[256];

    if (hashdb_check(h, err, sizeof(err)) != 0)
	fail_msg("hashdb_check: %s", err);
}

#endif
