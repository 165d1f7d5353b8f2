/*
 * logprefix.c - the time stamp, host and program tag of a mail log line.
 *
 * See logprefix.h for the forms accepted.  Each part is matched once,
 * forward from the start of the line; every index is checked against the
 * length before the byte is read, so a line need not be terminated and may
 * hold NUL bytes (they match nothing).
 */
#include <string.h>
#include <time.h>

#include "util/logprefix.h"

#define IS_DIGIT(ch)	((ch) >= '0' && (ch) <= '9')

/* at - 1 when s[i] exists and is ch */
static int at(const char *s, size_t len, size_t i, char ch)
{
    return i < len && s[i] == ch;
}

/* num - exactly n (<= 4) digits at s[i]: their value, -1 when not */
static long num(const char *s, size_t len, size_t i, size_t n)
{
    long    v = 0;

    if (i > len || len - i < n)
	return -1;
    for (size_t k = 0; k < n; k++) {
	if (!IS_DIGIT(s[i + k]))
	    return -1;
	v = v * 10 + (s[i + k] - '0');
    }
    return v;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

/* logprefix_clock_init - a clock with no hour cached */
void    logprefix_clock_init(struct logprefix_clock *clk)
{
    memset(clk, 0, sizeof(*clk));
    clk->year = -1;
}

/* local_time - a local date and time as UTC seconds; mktime() once per
 * hour through clk, every time without one */
static int64_t local_time(struct logprefix_clock *clk, int y, int mo, int d, long secs)
{
    int     h = (int) (secs / 3600);
    struct tm tm;

    if (clk && y == clk->year && mo == clk->mon && d == clk->mday && h == clk->hour)
	return clk->base + secs % 3600;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_isdst = -1;
    if (clk == NULL) {
	tm.tm_min = (int) (secs / 60 % 60);
	tm.tm_sec = (int) (secs % 60);
	return (int64_t) mktime(&tm);
    }
    clk->base = (int64_t) mktime(&tm);
    clk->year = y, clk->mon = mo, clk->mday = d, clk->hour = h;
    return clk->base + secs % 3600;
}

/* hms - "hh:mm:ss" at s[i] then an optional ".digits": the index after
 * it and *secs of the day, 0 when not one */
static size_t hms(const char *s, size_t len, size_t i, long *secs)
{
    long    h = num(s, len, i, 2), m = num(s, len, i + 3, 2), sec = num(s, len, i + 6, 2);

    /* the three numbers read, s[i + 2] and s[i + 5] are inside the line */
    if (h < 0 || m < 0 || sec < 0 || s[i + 2] != ':' || s[i + 5] != ':'
	|| h > 23 || m > 59 || sec > 60)
	return 0;
    *secs = h * 3600 + m * 60 + sec;
    i += 8;
    if (i + 1 < len && s[i] == '.' && IS_DIGIT(s[i + 1]))
	for (i++; i < len && IS_DIGIT(s[i]); i++)
	    ;
    return i;
}

/* logprefix_rfc3339 - "YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm|+hhmm]" (no zone:
 * local time); the length read and *t, 0 when not one */
size_t  logprefix_rfc3339(struct logprefix_clock *clk, const char *s, size_t len, int flags,
			          int64_t *t)
{
    long    y = num(s, len, 0, 4), mo, d, h, m, secs = 0;
    size_t  i = 10, e;
    int     sep;

    if (y < 0 || !at(s, len, 4, '-') || !at(s, len, 7, '-'))
	return 0;
    mo = num(s, len, 5, 2);
    d = num(s, len, 8, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
	return 0;
    sep = at(s, len, 10, 'T') || at(s, len, 10, 't') || at(s, len, 10, ' ');
    if (sep && (e = hms(s, len, 11, &secs)) > 0) {
	i = e;
    } else if (!(flags & LOGPREFIX_LOOSE)) {
	return 0;
    } else if (sep && (h = num(s, len, 11, 2)) >= 0 && at(s, len, 13, ':')
	       && (m = num(s, len, 14, 2)) >= 0) {
	if (h > 23 || m > 59)
	    return 0;
	secs = h * 3600 + m * 60;
	i = 16;
    }
    /* else a date alone: midnight */

    if (at(s, len, i, 'Z') || at(s, len, i, 'z')) {
	*t = days_from_civil(y, (int) mo, (int) d) * 86400 + secs;
	return i + 1;
    }
    if (at(s, len, i, '+') || at(s, len, i, '-')) {
	int     colon = at(s, len, i + 3, ':');
	long    oh = num(s, len, i + 1, 2), om = num(s, len, i + 3 + colon, 2);

	if (oh < 0 || om < 0 || oh > 23 || om > 59)
	    return 0;
	*t = days_from_civil(y, (int) mo, (int) d) * 86400 + secs
	    - (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return i + 5 + colon;
    }
    *t = local_time(clk, (int) y, (int) mo, (int) d, secs);
    return i;
}

/* traditional - "Mmm dd hh:mm:ss[.f]", "Mmm  d ...", "Mmm d ..." in local
 * time, the year the one that puts it at most a day after now; the length
 * read and *t, 0 when not one */
static size_t traditional(struct logprefix_clock *clk, const char *s, size_t len, int64_t now,
			          int64_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int     mon = 0;
    long    d, secs;
    size_t  i = 4;

    if (len < 4 || s[3] != ' ')
	return 0;
    for (int m = 0; m < 12; m++)
	if (memcmp(s, months + 3 * m, 3) == 0) {
	    mon = m + 1;
	    break;
	}
    if (mon == 0)
	return 0;
    if (at(s, len, i, ' '))
	i++;					/* "Jun  1" */
    if ((d = num(s, len, i, 1)) < 0)
	return 0;
    if (++i < len && IS_DIGIT(s[i]))
	d = d * 10 + (s[i++] - '0');
    if (d < 1 || d > 31 || !at(s, len, i, ' ') || (i = hms(s, len, i + 1, &secs)) == 0)
	return 0;

    struct tm tm;
    time_t  tnow = (time_t) now;
    int     year;

    localtime_r(&tnow, &tm);
    year = tm.tm_year + 1900;
    *t = local_time(clk, year, mon, (int) d, secs);
    /* December's lines read in January belong to last year */
    if (*t > now + 86400)
	*t = local_time(clk, year - 1, mon, (int) d, secs);
    return i;
}

/* logprefix_tag - "PROGRAM[PID]: " or "PROGRAM: " at s: the length read
 * with prog, pid and msg set in out; 0 (out unchanged) when not one */
size_t  logprefix_tag(const char *s, size_t len, struct logprefix *out)
{
    size_t  i = 0, plen, d0;
    int64_t pid = 0;
    int     has_pid = 0;

    /* a program name is printable: no space, control byte or NUL */
    while (i < len && (unsigned char) s[i] > ' ' && s[i] != '[' && s[i] != ':')
	i++;
    if (i == 0 || i >= len)
	return 0;
    plen = i;
    if (s[i] == '[') {
	for (d0 = ++i; i < len && IS_DIGIT(s[i]) && i - d0 < LOGPREFIX_PID_DIGITS; i++)
	    pid = pid * 10 + (s[i] - '0');
	if (i == d0 || !at(s, len, i, ']'))
	    return 0;
	i++;
	has_pid = 1;
    }
    if (!at(s, len, i, ':'))
	return 0;
    i++;
    if (at(s, len, i, ' '))
	i++;
    out->prog = s;
    out->prog_len = plen;
    out->has_pid = has_pid;
    out->pid = pid;
    out->msg = s + i;
    out->msg_len = len - i;
    return i;
}

/* logprefix_parse - split a line into time, host, tag and message */
int     logprefix_parse(struct logprefix_clock *clk, const char *s, size_t len, int64_t now,
			        struct logprefix *out)
{
    size_t  i, h0;

    memset(out, 0, sizeof(*out));
    if ((i = logprefix_rfc3339(clk, s, len, 0, &out->time)) > 0
	|| (i = traditional(clk, s, len, now, &out->time)) > 0) {
	out->has_time = 1;
	/* " HOST " */
	if (!at(s, len, i, ' '))
	    return -1;
	while (at(s, len, i, ' '))
	    i++;
	for (h0 = i; i < len && s[i] != ' '; i++)
	    ;
	if (i == h0 || i >= len)
	    return -1;
	out->host = s + h0;
	out->host_len = i - h0;
	i++;
    } else {
	i = 0;
    }
    return logprefix_tag(s + i, len - i, out) > 0 ? 0 : -1;
}
