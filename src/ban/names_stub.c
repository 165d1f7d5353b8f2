/*
 * names_stub.c - event names until src/ban/logev.c (branch wt-logev) is
 * merged; removed then.  Weak: the classifier's own definitions win.
 */
#include <string.h>

#include "ban/event.h"

static const char *const names[BEV_COUNT] = {
    "auth-failed", "lost-after-auth", "lost-connection", "too-many-errors",
    "improper-pipelining", "reject", "pregreet", "dnsbl", "command-pipelining",
    "hangup", "non-smtp-command", "rate-limit",
};

__attribute__((weak)) const char *ban_event_name(enum ban_event_kind k)
{
    return (unsigned) k < BEV_COUNT ? names[k] : NULL;
}

__attribute__((weak)) int ban_event_lookup(const char *name)
{
    for (int k = 0; k < BEV_COUNT; k++)
	if (strcmp(names[k], name) == 0)
	    return k;
    return -1;
}

/* no classifier yet: nothing is an event */
struct logev {
    int     unused;
};

__attribute__((weak)) struct logev *logev_new(void)
{
    static struct logev none;

    return &none;
}

__attribute__((weak)) void logev_free(struct logev *l)
{
    (void) l;
}

__attribute__((weak)) int logev_line(struct logev *l, const char *line, size_t len, time_t now,
				             struct ban_event *ev)
{
    (void) l, (void) line, (void) len, (void) now, (void) ev;
    return 0;
}
