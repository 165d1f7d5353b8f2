/*
 * mem.c - allocation wrappers that never return NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mem.h"

/* xmalloc - allocate or abort */
void   *xmalloc(size_t len)
{
    void   *p = malloc(len ? len : 1);

    if (p == NULL)
	msg_panic("out of memory allocating %zu bytes", len);
    return p;
}

/* xcalloc - allocate zeroed memory or abort */
void   *xcalloc(size_t n, size_t len)
{
    void   *p = calloc(n ? n : 1, len ? len : 1);

    if (p == NULL)
	msg_panic("out of memory allocating %zu x %zu bytes", n, len);
    return p;
}

/* xrealloc - resize or abort */
void   *xrealloc(void *ptr, size_t len)
{
    void   *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
	msg_panic("out of memory reallocating %zu bytes", len);
    return p;
}

/* xstrdup - copy a string or abort */
char   *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most len bytes of a string or abort */
char   *xstrndup(const char *s, size_t len)
{
    size_t  n = strnlen(s, len);
    char   *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
