/*
 * fuzz_logprefix.c - libFuzzer target: mail log lines through the syslog
 * prefix parser auto-ban and mxshield report share.  Each line is read
 * from an exact-size copy (a byte past it is caught), with and without
 * the mktime cache (in UTC both must agree), as a tag alone and as a
 * --since time; every span must lie inside the line, the message end it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/logprefix.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - the invariants of a parsed line */
static void check(const char *line, size_t len, const struct logprefix *p)
{
    if (p->prog < line || p->prog_len == 0 || p->prog + p->prog_len > line + len
	|| p->msg + p->msg_len != line + len || p->msg <= p->prog
	|| memchr(p->prog, 0, p->prog_len) != NULL || memchr(p->prog, ' ', p->prog_len) != NULL
	|| p->pid < 0 || p->pid > 9999999999LL || (!p->has_pid && p->pid != 0)
	|| (p->has_time && (p->host <= line || p->host_len == 0
			    || p->host + p->host_len >= p->prog))
	|| (!p->has_time && p->host != NULL))
	abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct logprefix_clock clk;
    static int init;
    const char *d = (const char *) data, *end = d + size;

    if (!init) {
	setenv("TZ", "UTC", 1);
	tzset();
	logprefix_clock_init(&clk);
	init = 1;
    }
    while (d < end) {
	const char *nl = memchr(d, '\n', (size_t) (end - d));
	size_t  len = nl ? (size_t) (nl - d) : (size_t) (end - d);
	char   *line = malloc(len ? len : 1);
	struct logprefix p, q;
	int64_t t;
	int     rc;

	memcpy(line, d, len);
	rc = logprefix_parse(&clk, line, len, 1796450400, &p);
	if (rc != logprefix_parse(NULL, line, len, 1796450400, &q) || p.has_time != q.has_time
	    || p.time != q.time)
	    abort();
	if (rc == 0)
	    check(line, len, &p);
	memset(&q, 0, sizeof(q));
	if (logprefix_tag(line, len, &q) > 0)
	    check(line, len, &q);
	if (logprefix_rfc3339(NULL, line, len, LOGPREFIX_LOOSE, &t) > len)
	    abort();
	free(line);
	d += len + (nl != NULL);
    }
    return 0;
}
