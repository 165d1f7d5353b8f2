/*
 * tmpdir.h - a unit test's temporary directory: made under /tmp from a
 * name, then removed with all it holds (for cmocka setup/teardown).
 */
#ifndef MX_TEST_TMPDIR_H
#define MX_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/* tmpdir_make - /tmp/NAME.XXXXXX made into dir; 0, or -1 */
static inline int tmpdir_make(char *dir, size_t size, const char *name)
{
    if ((size_t) snprintf(dir, size, "/tmp/%s.XXXXXX", name) >= size)
	return -1;
    return mkdtemp(dir) ? 0 : -1;
}

/* tmpdir_remove - dir and everything in it; 0, or -1 */
static inline int tmpdir_remove(const char *dir)
{
    char    cmd[256];

    if ((size_t) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= sizeof(cmd))
	return -1;
    return system(cmd) == 0 ? 0 : -1;
}

#endif
