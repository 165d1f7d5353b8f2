/*
 * mem.h - allocation wrappers that never return NULL.
 *
 * On allocation failure they log and abort: a daemon that cannot allocate
 * a few bytes has no safe way to continue answering.
 */
#ifndef MX_UTIL_MEM_H
#define MX_UTIL_MEM_H

#include <stddef.h>

void   *xmalloc(size_t len);
void   *xcalloc(size_t n, size_t len);
void   *xrealloc(void *ptr, size_t len);
char   *xstrdup(const char *s);
char   *xstrndup(const char *s, size_t len);

#endif
