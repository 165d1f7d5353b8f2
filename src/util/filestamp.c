/*
 * filestamp.c - a file's identity, to tell whether it changed (see .h).
 */
#include <string.h>

#include "util/filestamp.h"

/* filestamp_get - stamp path now; -1 (errno set, present 0) if stat fails */
int     filestamp_get(const char *path, struct filestamp *fs)
{
    struct stat st;

    memset(fs, 0, sizeof(*fs));
    if (stat(path, &st) < 0)
	return -1;
    fs->present = 1;
    fs->dev = st.st_dev;
    fs->ino = st.st_ino;
    fs->size = st.st_size;
    fs->mtim = st.st_mtim;
    fs->ctim = st.st_ctim;
    return 0;
}

/* filestamp_same - 1 when both stamps describe the same file contents */
int     filestamp_same(const struct filestamp *a, const struct filestamp *b)
{
    if (a->present != b->present)
	return 0;
    if (!a->present)
	return 1;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
	&& a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec
	&& a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}
