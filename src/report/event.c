/*
 * event.c - take a Postfix-style decision line apart.
 *
 * The text of a reply may contain "; " and the sender, recipient and HELO
 * name may contain nearly anything, so the fields are found from the last
 * "; from=<" on, and each <value> ends at the first '>' that is followed
 * by the next field's name or by the end of the line.  Every byte is
 * looked at a bounded number of times.
 */
#include <string.h>

#include "report/event.h"

/* span_eq - does the span hold exactly s? */
int     span_eq(struct span sp, const char *s)
{
    return strlen(s) == sp.len && memcmp(sp.s, s, sp.len) == 0;
}

/* word - up to the next separator: its length */
static size_t word(const char *s, size_t len, char sep)
{
    size_t  i = 0;

    while (i < len && s[i] != sep)
	i++;
    return i;
}

/* starts - does s[0..len) start with the text? */
static int starts(const char *s, size_t len, const char *text)
{
    size_t  n = strlen(text);

    return len >= n && memcmp(s, text, n) == 0;
}

/* field_end - is s the end of a <value>: ">" then the end or " name=" */
static int field_end(const char *s, size_t len)
{
    static const char *const next[] = {"> to=<", "> proto=", "> helo=<", "> restriction=", NULL};

    if (len == 0 || *s != '>')
	return 0;
    if (len == 1)
	return 1;
    for (int i = 0; next[i]; i++)
	if (starts(s, len, next[i]))
	    return 1;
    return 0;
}

/* angle - "<value>" at s: the value, and the length used (0: none) */
static size_t angle(const char *s, size_t len, struct span *v)
{
    size_t  i;

    if (len == 0 || *s != '<')
	return 0;
    for (i = 1; i < len && !field_end(s + i, len - i); i++)
	;
    if (i >= len)
	return 0;
    v->s = s + 1;
    v->len = i - 1;
    return i + 1;
}

/* reply - "CODE DSN text" into the event */
static void reply(const char *s, size_t len, struct event *ev)
{
    size_t  i;

    ev->reply.s = s;
    ev->reply.len = len;
    ev->text = ev->reply;
    if (len < 4 || (s[0] != '4' && s[0] != '5') || s[1] < '0' || s[1] > '9'
	|| s[2] < '0' || s[2] > '9' || s[3] != ' ')
	return;
    ev->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    s += 4;
    len -= 4;
    /* d.d.d */
    for (i = 0; i < len && i < 12 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
	;
    if (i >= 5 && i < len && s[i] == ' ' && s[1] == '.') {
	ev->dsn.s = s;
	ev->dsn.len = i;
	s += i + 1;
	len -= i + 1;
    }
    ev->text.s = s;
    ev->text.len = len;
}

/* event_parse - the parts of a decision line */
int     event_parse(const char *m, size_t len, struct event *ev)
{
    size_t  i, n;
    const char *tail = NULL;

    memset(ev, 0, sizeof(*ev));
    /* "ID: " */
    n = word(m, len, ':');
    if (n == 0 || n > 64 || !starts(m + n, len - n, ": "))
	return -1;
    i = n + 2;
    /* "WHAT: " */
    n = word(m + i, len - i, ':');
    if (n == 0 || n > 32 || !starts(m + i + n, len - i - n, ": "))
	return -1;
    ev->what.s = m + i;
    ev->what.len = n;
    i += n + 2;
    /* "STAGE from " */
    n = word(m + i, len - i, ' ');
    if (n == 0 || n > 16 || !starts(m + i + n, len - i - n, " from "))
	return -1;
    ev->stage.s = m + i;
    ev->stage.len = n;
    i += n + 6;
    /* "NAME[ADDR]: " */
    n = word(m + i, len - i, '[');
    if (i + n >= len)
	return -1;
    ev->name.s = m + i;
    ev->name.len = n;
    i += n + 1;
    n = word(m + i, len - i, ']');
    if (!starts(m + i + n, len - i - n, "]: "))
	return -1;
    ev->addr.s = m + i;
    ev->addr.len = n;
    i += n + 3;

    /* the reply, up to the last "; from=<" (or "; proto=", "; helo=<" of
     * a reject before MAIL FROM, which Postfix logs without from=) */
    for (size_t j = i; j + 8 <= len; j++)
	if (m[j] == ';' && m[j + 1] == ' '
	    && (memcmp(m + j + 2, "from=<", 6) == 0 || memcmp(m + j + 2, "proto=", 6) == 0
		|| memcmp(m + j + 2, "helo=<", 6) == 0))
	    tail = m + j;
    if (tail == NULL)
	return -1;
    reply(m + i, (size_t) (tail - m) - i, ev);
    i = (size_t) (tail - m) + 1;
    if (starts(m + i, len - i, " from=<")) {
	if ((n = angle(m + i + 6, len - i - 6, &ev->from)) == 0)
	    return -1;
	i += 6 + n;
    }
    if (starts(m + i, len - i, " to=<")) {
	if ((n = angle(m + i + 4, len - i - 4, &ev->to)) == 0)
	    return -1;
	ev->has_to = 1;
	i += 4 + n;
    }
    if (starts(m + i, len - i, " proto=")) {
	i += 7;
	i += word(m + i, len - i, ' ');
    }
    if (starts(m + i, len - i, " helo=<")) {
	if ((n = angle(m + i + 6, len - i - 6, &ev->helo)) == 0)
	    return -1;
	i += 6 + n;
    }
    if (starts(m + i, len - i, " restriction=")) {
	i += 13;
	ev->restriction.s = m + i;
	ev->restriction.len = word(m + i, len - i, ' ');
	i += ev->restriction.len;
    }
    return 0;
}
