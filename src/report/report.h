/*
 * report.h - mxshield report: a summary of a period of the mail log.
 *
 * SYNOPSIS
 *	struct report *r = report_new(&opts);
 *	report_feed(r, data, len);	(any number of times, any chunking)
 *	report_end(r);
 *	report_print(r, stdout);
 *	report_free(r);
 *
 * DESCRIPTION
 *	Reads mxshield's decision lines (reject, reject_warning, the
 *	greylisting pass line) and Postfix smtpd's own reject lines, and
 *	counts decisions by restriction and reply, the clients and senders
 *	rejected most, greylisting's effect, and what warn_if_reject and
 *	dry_run would have rejected.  A Postfix line that repeats an answer
 *	mxshield gave (Postfix logs the policy service's reject too) is
 *	counted once, as mxshield's.
 *
 *	Work is linear in the input: a line longer than REPORT_LINE_LIMIT is
 *	skipped (and counted), and each table keeps at most REPORT_KEY_LIMIT
 *	distinct keys (more are counted as not tracked).
 */
#ifndef MX_REPORT_REPORT_H
#define MX_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* the longest log line read, in bytes (rsyslog's default maximum is 8k) */
#define REPORT_LINE_LIMIT	8192
/* distinct clients, senders, triplets ... kept per table */
#define REPORT_KEY_LIMIT	1000000
/* recent rejects searched for a Postfix line that repeats mxshield's */
#define REPORT_MATCH_WINDOW	256
/* rows in each top list */
#define REPORT_TOP		10

struct report_opts {
    const char *syslog_name;		/* mxshield's program name */
    int     ipv4_prefix;		/* greylisting's client networks */
    int     ipv6_prefix;
    int     has_since;
    int64_t since;
    int64_t now;			/* for years of year-less times */
    size_t  key_limit;			/* 0: REPORT_KEY_LIMIT */
};

struct report;

struct report *report_new(const struct report_opts *opts);
void    report_feed(struct report *r, const char *data, size_t len);
void    report_end(struct report *r);
void    report_print(const struct report *r, FILE *fp);
void    report_free(struct report *r);

/* counters for tests */
struct report_totals {
    unsigned long lines, too_long, mxshield, postfix, repeats, no_time, before;
};
void    report_totals(const struct report *r, struct report_totals *t);

#endif
