/*
 * history.h - the last hour of the daemon's traffic, for the dashboard.
 *
 * Every HISTORY_STEP seconds history_tick() reads the statistics registry
 * and keeps what changed since the last tick as one sample of a ring of
 * HISTORY_SAMPLES (one hour): requests, rejects, defers, greylisting's
 * deferred and passed verdicts, and rejects and defers by restriction (the
 * first HISTORY_NAMES - 1 restriction names seen; later ones add up under
 * "other"; greylisting's defers are its deferred verdicts, as most go
 * out through defer_if_permit, which no restriction is counted for).
 * Memory is fixed: nothing is allocated after history_init().
 *
 * history_json() writes the ring, oldest first, plus the samples since
 * the last tick as a last, partial one, so that a page polling it sees
 * traffic at once.  A counter that went down (stats_reset) starts again
 * from its new value.
 */
#ifndef MX_HTTP_HISTORY_H
#define MX_HTTP_HISTORY_H

#include <stdint.h>
#include <time.h>

#include "util/str.h"

#define HISTORY_STEP	10		/* seconds per sample */
#define HISTORY_SAMPLES	360		/* one hour */
#define HISTORY_NAMES	16		/* restrictions kept apart, "other" last */
#define HISTORY_NAME_MAX 63

enum history_series {
    HS_REQUESTS,
    HS_REJECTS,
    HS_DEFERS,
    HS_GL_DEFERRED,
    HS_GL_PASSED,
    HS_FIXED,				/* then reject and defer per name */
    HS_COUNT = HS_FIXED + 2 * HISTORY_NAMES,
};

struct history {
    int64_t t[HISTORY_SAMPLES];		/* end of each sample (unix time) */
    uint32_t v[HISTORY_SAMPLES][HS_COUNT];
    size_t  head;			/* next slot to write */
    size_t  n;				/* samples kept */
    int64_t last_t;			/* time of the last tick */
    uint64_t last[HS_COUNT];		/* counters at the last tick */
    char    names[HISTORY_NAMES][HISTORY_NAME_MAX + 1];
    int     nnames;
};

/* history_init - empty; the current counters are the base */
void    history_init(struct history *h, time_t now);

/* history_tick - close a sample at now */
void    history_tick(struct history *h, time_t now);

/* history_json - the ring as a JSON object's members (no braces) */
void    history_json(struct history *h, time_t now, struct buf *out);

#endif
