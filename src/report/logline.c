/*
 * logline.c - the time stamp, host and program tag of a mail log line.
 *
 * See logline.h for the forms accepted.  Each part is matched once from
 * the start of the line; nothing is searched for twice.
 */
#include <string.h>
#include <time.h>

#include "report/logline.h"

/* digits - n decimal digits at s (n <= 9); -1 when there are not */
static long digits(const char *s, size_t len, size_t n)
{
    long    v = 0;

    if (len < n)
	return -1;
    for (size_t i = 0; i < n; i++) {
	if (s[i] < '0' || s[i] > '9')
	    return -1;
	v = v * 10 + (s[i] - '0');
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

/* hms - "HH:MM:SS" at s: seconds of the day, -1 when not one */
static long hms(const char *s, size_t len)
{
    long    h = digits(s, len, 2), m = digits(s + 3, len > 3 ? len - 3 : 0, 2),
            sec = digits(s + 6, len > 6 ? len - 6 : 0, 2);

    if (h < 0 || m < 0 || sec < 0 || s[2] != ':' || s[5] != ':'
	|| h > 23 || m > 59 || sec > 60)
	return -1;
    return h * 3600 + m * 60 + sec;
}

/* skip_frac - past ".digits" at s[i] */
static size_t skip_frac(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '.')
	for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	    ;
    return i;
}

/* local_time - a local date and time as seconds since the epoch */
static int64_t local_time(int y, int mon, int d, long secs)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = (int) (secs / 3600);
    tm.tm_min = (int) (secs / 60 % 60);
    tm.tm_sec = (int) (secs % 60);
    tm.tm_isdst = -1;
    return (int64_t) mktime(&tm);
}

/* rfc3339 - "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)" (or a space for T;
 * without a zone: local time); the length used, 0 when not one */
static size_t rfc3339(const char *s, size_t len, int64_t *t, int date_only_ok)
{
    long    y = digits(s, len, 4), mo, d, secs = 0;
    size_t  i = 10;

    if (y < 0 || len < 10 || s[4] != '-' || s[7] != '-')
	return 0;
    mo = digits(s + 5, len - 5, 2);
    d = digits(s + 8, len - 8, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
	return 0;
    if (len > 10 && (s[10] == 'T' || s[10] == ' ') && len >= 16
	&& digits(s + 11, len - 11, 2) >= 0 && s[13] == ':') {
	if (len >= 19 && s[16] == ':') {
	    if ((secs = hms(s + 11, len - 11)) < 0)
		return 0;
	    i = skip_frac(s, len, 19);
	} else {
	    long    h = digits(s + 11, len - 11, 2), m = digits(s + 14, len - 14, 2);

	    if (h < 0 || m < 0 || h > 23 || m > 59)
		return 0;
	    secs = h * 3600 + m * 60;
	    i = 16;
	}
    } else if (!date_only_ok) {
	return 0;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
	*t = days_from_civil(y, (int) mo, (int) d) * 86400 + secs;
	return i + 1;
    }
    if (i + 5 <= len && (s[i] == '+' || s[i] == '-')) {
	/* +hh:mm, or +hhmm as journalctl -o short-iso writes it */
	int     colon = i + 6 <= len && s[i + 3] == ':';
	long    oh = digits(s + i + 1, len - i - 1, 2),
	        om = digits(s + i + 3 + colon, len - i - 3 - colon, 2);

	if (oh < 0 || om < 0 || oh > 23 || om > 59)
	    return 0;
	*t = days_from_civil(y, (int) mo, (int) d) * 86400 + secs
	    - (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return i + 5 + colon;
    }
    *t = local_time((int) y, (int) mo, (int) d, secs);
    return i;
}

/* traditional - "Mmm dd HH:MM:SS[.frac]" (day space- or zero-padded) */
static size_t traditional(const char *s, size_t len, int64_t now, int64_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int     mon = 0;
    long    d, secs;
    size_t  i;

    if (len < 15 || s[3] != ' ')
	return 0;
    for (int m = 0; m < 12; m++)
	if (memcmp(s, months + 3 * m, 3) == 0)
	    mon = m + 1;
    if (mon == 0)
	return 0;
    if (s[4] == ' ')
	d = digits(s + 5, len - 5, 1);
    else
	d = digits(s + 4, len - 4, 2);
    if (d < 1 || d > 31 || s[6] != ' ' || (secs = hms(s + 7, len - 7)) < 0)
	return 0;
    i = skip_frac(s, len, 15);

    /* no year: the one that puts the time at most a day after now */
    struct tm tm;
    time_t  tnow = (time_t) now;
    int     year;

    localtime_r(&tnow, &tm);
    year = tm.tm_year + 1900;
    *t = local_time(year, mon, (int) d, secs);
    if (*t > now + 86400)
	*t = local_time(year - 1, mon, (int) d, secs);
    return i;
}

/* tag - "PROGRAM[PID]: " at s: its length, with the program's span */
static size_t tag(const char *s, size_t len, const char **prog, size_t *plen)
{
    size_t  i = 0;

    while (i < len && s[i] != '[' && s[i] != ' ' && s[i] != ':')
	i++;
    if (i == 0 || i >= len || s[i] != '[')
	return 0;
    *prog = s;
    *plen = i;
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	;
    if (i + 2 > len || s[i] != ']' || s[i + 1] != ':')
	return 0;
    i += 2;
    if (i < len && s[i] == ' ')
	i++;
    return i;
}

/* logline_parse - split a line into time, program and message */
int     logline_parse(const char *s, size_t len, int64_t now, struct logline *out)
{
    size_t  i, n;

    memset(out, 0, sizeof(*out));
    if ((i = rfc3339(s, len, &out->time, 0)) > 0 || (i = traditional(s, len, now, &out->time)) > 0) {
	out->has_time = 1;
	/* " HOST " */
	if (i >= len || s[i] != ' ')
	    return -1;
	for (i++; i < len && s[i] == ' '; i++)
	    ;
	while (i < len && s[i] != ' ')
	    i++;
	if (i >= len)
	    return -1;
	i++;
    } else {
	i = 0;
    }
    if ((n = tag(s + i, len - i, &out->prog, &out->prog_len)) == 0)
	return -1;
    i += n;
    /* the journal names the unit's program, then the line names itself */
    const char *inner;
    size_t  ilen;

    if ((n = tag(s + i, len - i, &inner, &ilen)) > 0) {
	out->prog = inner;
	out->prog_len = ilen;
	i += n;
    }
    out->msg = s + i;
    out->msg_len = len - i;
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
    if ((i = rfc3339(text, len, out, 1)) == 0 || i != len)
	return -1;
    return 0;
}
