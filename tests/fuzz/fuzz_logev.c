/*
 * fuzz_logev.c - libFuzzer target: log lines, as a Postfix client can
 * shape them (names, HELO, commands and SASL usernames reach the log),
 * through one classifier with its state across lines; every event must
 * carry a canonical address, a known kind and a terminated user name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ban/event.h"
#include "util/inet.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct logev *l;
    const char *p = (const char *) data, *end = p + size;
    struct ban_event ev;
    struct inet_addr a;

    if (l == NULL)
	l = logev_new();
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t  len = nl ? (size_t) (nl - p) : (size_t) (end - p);
	/* an exact copy, so that reading past the line is caught */
	char   *line = malloc(len ? len : 1);

	memcpy(line, p, len);
	if (logev_line(l, line, len, 1796450400, &ev)) {
	    if (ban_event_name(ev.kind) == NULL || ban_reject_name(ev.reject) == NULL
		|| memchr(ev.host, 0, sizeof(ev.host)) == NULL || inet_parse(ev.host, &a) != 0
		|| memchr(ev.user, 0, sizeof(ev.user)) == NULL
		|| (ev.kind != BEV_REJECT && ev.reject != BRJ_NONE))
		abort();
	}
	free(line);
	p += len + (nl != NULL);
    }
    return 0;
}
