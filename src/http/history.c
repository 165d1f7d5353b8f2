/*
 * history.c - a ring of per-HISTORY_STEP samples of the registry (see history.h).
 */
#include <stdio.h>
#include <string.h>

#include "http/history.h"
#include "stats/stats.h"

/* name_slot - the column of a restriction name, added when new */
static int name_slot(struct history *h, const char *name)
{
    for (int i = 0; i < h->nnames; i++)
	if (strcmp(h->names[i], name) == 0)
	    return i;
    if (h->nnames == HISTORY_NAMES - 1) {
	if (h->names[HISTORY_NAMES - 1][0] == 0)
	    strcpy(h->names[HISTORY_NAMES - 1], "other");
	return HISTORY_NAMES - 1;
    }
    snprintf(h->names[h->nnames], sizeof(h->names[0]), "%s", name);
    return h->nnames++;
}

/* read_now - the counters the ring follows, as they are now */
static void read_now(struct history *h, uint64_t *cur)
{
    const char *v[STAT_MAX_LABELS];
    int64_t n;

    memset(cur, 0, HS_COUNT * sizeof(*cur));
    for (size_t i = 0; stat_series(STAT_REQUESTS, i, v, &n); i++) {
	cur[HS_REQUESTS] += (uint64_t) n;
	if (strcmp(v[1], "reject") == 0)		/* protocol_state, action */
	    cur[HS_REJECTS] += (uint64_t) n;
	else if (strcmp(v[1], "defer") == 0)
	    cur[HS_DEFERS] += (uint64_t) n;
    }
    /* decisions: stage, restriction, action */
    for (size_t i = 0; stat_series(STAT_DECISIONS, i, v, &n); i++) {
	int     reject = strcmp(v[2], "reject") == 0;

	if (!reject && (strcmp(v[2], "defer") != 0 || strcmp(v[1], "greylist") == 0))
	    continue;
	cur[HS_FIXED + 2 * name_slot(h, v[1]) + !reject] += (uint64_t) n;
    }
    /* greylisting defers mostly through Postfix's defer_if_permit, which
     * is no decision of its own: its column counts its verdicts instead */
    for (size_t i = 0; stat_series(STAT_GREYLIST_RESULTS, i, v, &n); i++) {
	if (strcmp(v[0], "deferred") == 0) {
	    cur[HS_GL_DEFERRED] += (uint64_t) n;
	    cur[HS_FIXED + 2 * name_slot(h, "greylist") + 1] += (uint64_t) n;
	} else {
	    cur[HS_GL_PASSED] += (uint64_t) n;
	}
    }
}

/* delta - what a counter added since the base; a counter that went
 * down was reset and counts from zero */
static uint32_t delta(uint64_t now, uint64_t base)
{
    uint64_t d = now >= base ? now - base : now;

    return d > UINT32_MAX ? UINT32_MAX : (uint32_t) d;
}

void    history_init(struct history *h, time_t now)
{
    memset(h, 0, sizeof(*h));
    h->last_t = (int64_t) now;
    read_now(h, h->last);
}

void    history_tick(struct history *h, time_t now)
{
    uint64_t cur[HS_COUNT];

    read_now(h, cur);
    for (int k = 0; k < HS_COUNT; k++)
	h->v[h->head][k] = delta(cur[k], h->last[k]);
    h->t[h->head] = (int64_t) now;
    h->head = (h->head + 1) % HISTORY_SAMPLES;
    if (h->n < HISTORY_SAMPLES)
	h->n++;
    memcpy(h->last, cur, sizeof(cur));
    h->last_t = (int64_t) now;
}

/* put_column - "name":[v0,...,partial] for column k */
static void put_column(const struct history *h, const char *name, int k,
		               uint32_t partial, struct buf *out)
{
    size_t  first = (h->head + HISTORY_SAMPLES - h->n) % HISTORY_SAMPLES;

    buf_json_str(out, name);
    buf_puts(out, ":[");
    for (size_t i = 0; i < h->n; i++) {
	buf_put_long(out, (long) h->v[(first + i) % HISTORY_SAMPLES][k]);
	buf_putc(out, ',');
    }
    buf_put_long(out, (long) partial);
    buf_putc(out, ']');
}

void    history_json(struct history *h, time_t now, struct buf *out)
{
    static const char *const fixed[HS_FIXED] = {
	"requests", "rejects", "defers", "greylist_deferred", "greylist_passed",
    };
    size_t  first = (h->head + HISTORY_SAMPLES - h->n) % HISTORY_SAMPLES;
    uint64_t cur[HS_COUNT];
    int64_t start = h->n ? h->t[first] - HISTORY_STEP : h->last_t;

    read_now(h, cur);
    buf_printf(out, "\"step\":%d,\"now\":%lld,\"start\":%lld,\"t\":[", HISTORY_STEP,
	       (long long) now, (long long) start);
    for (size_t i = 0; i < h->n; i++)
	buf_printf(out, "%lld,", (long long) h->t[(first + i) % HISTORY_SAMPLES]);
    buf_printf(out, "%lld]", (long long) now);
    for (int k = 0; k < HS_FIXED; k++) {
	buf_putc(out, ',');
	put_column(h, fixed[k], k, delta(cur[k], h->last[k]), out);
    }
    buf_puts(out, ",\"restrictions\":[");
    for (int i = 0; i < HISTORY_NAMES; i++) {
	int     k = HS_FIXED + 2 * i;

	if (h->names[i][0] == 0)
	    continue;
	if (out->s[out->len - 1] != '[')
	    buf_putc(out, ',');
	buf_puts(out, "{\"name\":");
	buf_json_str(out, h->names[i]);
	buf_putc(out, ',');
	put_column(h, "reject", k, delta(cur[k], h->last[k]), out);
	buf_putc(out, ',');
	put_column(h, "defer", k + 1, delta(cur[k + 1], h->last[k + 1]), out);
	buf_putc(out, '}');
    }
    buf_putc(out, ']');
}
