/*
 * logline.c - mxshield report's view of a mail log line, and --since.
 *
 * The time stamp, host and tag are read by util/logprefix.c (the parser
 * auto-ban shares); here are report's own rules: a tag must carry a pid,
 * and a journal line naming its program twice ("mxshield[12]:
 * mxshield/policy[12]: ...") is the inner program's.  --since reuses the
 * RFC 3339 reader, loosely (a date alone, or minutes without seconds).
 */
#include <string.h>

#include "report/logline.h"
#include "util/logprefix.h"

/* logline_parse - split a line into time, program and message */
int     logline_parse(const char *s, size_t len, int64_t now, struct logline *out)
{
    struct logprefix p;
    struct logprefix inner;

    memset(out, 0, sizeof(*out));
    if (logprefix_parse(NULL, s, len, now, &p) < 0 || !p.has_pid)
	return -1;
    /* the journal names the unit's program, then the line names itself */
    if (logprefix_tag(p.msg, p.msg_len, &inner) > 0 && inner.has_pid) {
	p.prog = inner.prog;
	p.prog_len = inner.prog_len;
	p.msg = inner.msg;
	p.msg_len = inner.msg_len;
    }
    out->has_time = p.has_time;
    out->time = p.time;
    out->prog = p.prog;
    out->prog_len = p.prog_len;
    out->msg = p.msg;
    out->msg_len = p.msg_len;
    return 0;
}

/* logline_since - an absolute time or an age before now */
int     logline_since(const char *text, int64_t now, int64_t *out)
{
    size_t  len = strlen(text), i;
    int64_t v = 0;

    for (i = 0; i < len && i < 12 && text[i] >= '0' && text[i] <= '9'; i++)
	v = v * 10 + (text[i] - '0');
    if (i > 0 && i + 1 == len) {
	static const char units[] = "smhdw";
	static const int64_t secs[] = {1, 60, 3600, 86400, 7 * 86400};
	const char *u = strchr(units, text[i]);

	if (u == NULL || text[i] == 0)
	    return -1;
	*out = now - v * secs[u - units];
	return 0;
    }
    if ((i = logprefix_rfc3339(NULL, text, len, LOGPREFIX_LOOSE, out)) == 0 || i != len)
	return -1;
    return 0;
}
