/*
 * fuzz_report.c - libFuzzer target: mail log text, as anyone who can write
 * to the log (a client's HELO name, sender or recipient) shapes it, fed to
 * mxshield report in two chunks cut at the first byte's value, with a tiny
 * key limit so that the "not tracked" paths run; then the report is
 * printed to /dev/null.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/logline.h"
#include "report/report.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    struct report_opts o = {
	.syslog_name = "mxshield", .ipv4_prefix = 24, .ipv6_prefix = 64,
	.now = 1796450000, .key_limit = 8,
    };
    size_t  cut = size ? data[0] % (size + 1) : 0;
    int64_t t;

    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
	return 0;
    if (size > 0 && size < 64) {
	char    text[64];

	for (size_t i = 0; i < size; i++)
	    text[i] = (char) data[i];
	text[size] = 0;
	(void) logline_since(text, o.now, &t);
    }
    struct report *r = report_new(&o);

    report_feed(r, (const char *) data, cut);
    report_feed(r, (const char *) data + cut, size - cut);
    report_end(r);
    report_print(r, devnull);
    report_free(r);
    return 0;
}
