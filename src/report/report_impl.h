/*
 * report_impl.h - the report's state, shared by report.c (reading),
 * greylist.c (greylisting's effect) and print.c (the output).
 * Not a public API.
 */
#ifndef MX_REPORT_IMPL_H
#define MX_REPORT_IMPL_H

#include "report/event.h"
#include "report/report.h"
#include "report/tally.h"
#include "util/str.h"

/* a recent reject kept for matching (its own copy of the message) */
struct pending {
    char   *msg;
    struct event ev;
    uint64_t match;			/* hash of what a repetition shares */
    int64_t time;
    int     has_time;
};

struct ring {
    struct pending v[REPORT_MATCH_WINDOW];
    size_t  head, n;			/* oldest at head */
};

struct gl_stats {
    struct tally triplets;		/* net \t sender \t rcpt: v0 deferrals, v1 passed */
    struct tally pairs;			/* sender \t rcpt: note first net, v0 moved */
    struct tally moved;			/* sender domain: v0 pairs that moved */
    unsigned long passes, moved_pairs;
    long    delay_min, delay_max;
    double  delay_sum;
};

struct report {
    struct report_opts o;
    size_t  name_len;

    /* reading */
    struct buf line;
    int     skipping;			/* the rest of a line too long */
    struct report_totals tot;
    int     has_first;
    int64_t first, last;

    /* what was decided */
    struct tally decisions;		/* source \t restriction \t action \t reply code */
    struct tally clients;		/* name[addr]: v0 5xx, v1 4xx, v2 both */
    struct tally senders;
    struct tally warnings;		/* reject_warning, keyed as decisions */
    struct tally warn_clients;
    struct tally warn_senders;
    struct gl_stats gl;

    struct ring mx_recent;		/* mxshield rejects Postfix may repeat */
    struct ring pf_recent;		/* Postfix rejects that may be mxshield's */

    struct buf scratch, key;
};

/* greylist.c */
void    gl_stats_init(struct gl_stats *g, size_t limit);
void    gl_stats_free(struct gl_stats *g);
void    gl_stats_defer(struct report *r, const struct event *ev);
void    gl_stats_pass(struct report *r, const struct event *ev, long delay);
void    gl_stats_print(const struct report *r, FILE *fp);

/* report.c */
void    report_key(struct buf *b, const char *const *parts, const size_t *lens, int n);

#endif
