/*
 * logline.h - the syslog frame of one mail log line.
 *
 * A line is "[TIME HOST ]PROGRAM[PID]: MESSAGE".  TIME is one of
 *	2026-12-05T05:58:34.123456+00:00	RFC 3339 (rsyslog on Debian 12)
 *	Dec  5 05:58:34				traditional syslog, no year
 *	Dec 05 05:58:34[.uuuuuu]		Postfix maillog_file, journalctl
 * or absent (mxshield's own stderr, as a test captures it).  A journal
 * line "host mxshield[12]: mxshield/policy[12]: ..." names the program
 * twice; the inner tag wins.  A year-less time takes the year that puts it
 * no later than a day after "now".
 *
 * The frame is read by util/logprefix.c, shared with auto-ban's
 * classifier; the rules here are report's (a pid required, the inner tag).
 * logline_parse() is linear in the line and never allocates; the parts it
 * returns point into the line.  It returns -1 for a line without a
 * "PROGRAM[PID]: " tag.  logline_since() parses --since: a date and time
 * (RFC 3339, or "YYYY-MM-DD[ HH:MM[:SS]]" in local time) or an age ("2h",
 * "7d", "30m", "45s", "1w"); -1 when it is neither.
 */
#ifndef MX_REPORT_LOGLINE_H
#define MX_REPORT_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

struct logline {
    int     has_time;
    int64_t time;			/* seconds since the epoch, UTC */
    const char *prog;			/* "postfix/smtpd", "mxshield/policy" */
    size_t  prog_len;
    const char *msg;			/* the rest of the line */
    size_t  msg_len;
};

int     logline_parse(const char *line, size_t len, int64_t now, struct logline *out);
int     logline_since(const char *text, int64_t now, int64_t *out);

#endif
