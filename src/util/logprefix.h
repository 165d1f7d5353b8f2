/*
 * logprefix.h - the syslog prefix of a mail log line: time, host, tag.
 *
 * A line is "[TIME HOST ]PROGRAM[[PID]]: MESSAGE".  TIME is one of
 *	2026-12-05T05:58:34.123456+00:00	RFC 3339 (rsyslog on Debian 12;
 *						 also "t" or " " for "T", a
 *						 zone "+hhmm" as journalctl
 *						 -o short-iso writes it, or
 *						 no zone: local time)
 *	Dec  5 05:58:34				traditional syslog, no year
 *	Dec 05 05:58:34[.uuuuuu]		Postfix maillog_file, journalctl
 *	Dec 5 05:58:34				(one space, one digit)
 * or absent (a journal MESSAGE with its identifier, stderr).  A year-less
 * time takes the year that puts it no later than a day after "now".
 *
 * SYNOPSIS
 *	struct logprefix_clock clk;	(optional: caches mktime per hour)
 *	logprefix_clock_init(&clk);
 *	if (logprefix_parse(&clk, line, len, now, &p) == 0)
 *	    ... p.has_time, p.time, p.host, p.prog, p.has_pid, p.pid, p.msg ...
 *
 * DESCRIPTION
 *	logprefix_parse() reads the time stamp (if any), the host after it,
 *	and the tag; 0 with all of them, -1 when there is no tag where one
 *	must be (has_time then says whether a stamp was read).  Which
 *	programs count, whether a pid is required and what a line without a
 *	tag means are the callers' rules (src/ban/logev.c,
 *	src/report/logline.c).  logprefix_tag() reads a tag alone, for a
 *	journal line that names its program twice.  logprefix_rfc3339()
 *	reads an RFC 3339 time; LOGPREFIX_LOOSE also takes a date alone and
 *	"HH:MM" without seconds (command-line arguments, never log lines).
 *
 *	Linear in the line, no allocation; every span points into the line.
 *	A program name has no space, control byte or NUL; a pid has 1 to
 *	LOGPREFIX_PID_DIGITS digits; else it is no tag.
 *	The clock may be NULL: each local time is then one mktime().
 */
#ifndef MX_UTIL_LOGPREFIX_H
#define MX_UTIL_LOGPREFIX_H

#include <stddef.h>
#include <stdint.h>

#define LOGPREFIX_PID_DIGITS	10

struct logprefix_clock {
    /* the last local hour converted: year, month, day, hour -> UTC */
    int     year, mon, mday, hour;
    int64_t base;
};

struct logprefix {
    int     has_time;
    int64_t time;			/* seconds since the epoch, UTC */
    const char *host;			/* NULL without a time */
    size_t  host_len;
    const char *prog;			/* "postfix/smtpd", "mxshield/policy" */
    size_t  prog_len;
    int     has_pid;
    int64_t pid;
    const char *msg;			/* after ":" and one optional space */
    size_t  msg_len;
};

#define LOGPREFIX_LOOSE	1

void    logprefix_clock_init(struct logprefix_clock *clk);
int     logprefix_parse(struct logprefix_clock *clk, const char *s, size_t len, int64_t now,
			        struct logprefix *out);
size_t  logprefix_tag(const char *s, size_t len, struct logprefix *out);
size_t  logprefix_rfc3339(struct logprefix_clock *clk, const char *s, size_t len, int flags,
			          int64_t *t);

#endif
