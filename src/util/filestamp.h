/*
 * filestamp.h - has a file changed since it was read?
 *
 * A filestamp is a file's identity when it was read: device, inode, size,
 * modification and change times, or its absence.  Comparing all of them
 * notices an editor's rename-over (new inode), a rewrite in place whose
 * mtime was put back (touch -d, rsync -t: the ctime still moves) and a
 * file that appears or goes.  Tables and the greylist whitelists use it;
 * nothing else decides whether to re-read a file.
 */
#ifndef MX_UTIL_FILESTAMP_H
#define MX_UTIL_FILESTAMP_H

#include <sys/stat.h>
#include <time.h>

struct filestamp {
    int     present;			/* stat() succeeded */
    dev_t   dev;
    ino_t   ino;
    off_t   size;
    struct timespec mtim;
    struct timespec ctim;
};

/* filestamp_get - stamp path now; -1 (errno set, present 0) if stat fails */
int     filestamp_get(const char *path, struct filestamp *fs);

/* filestamp_same - 1 when both stamps describe the same file contents */
int     filestamp_same(const struct filestamp *a, const struct filestamp *b);

#endif
