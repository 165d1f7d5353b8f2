/*
 * fuzz_dmarc.c - libFuzzer target: DMARC records (DNS TXT from anyone)
 * and From header values (from any sender).  The first byte picks which;
 * a From domain that is returned must be a valid, lower-case DNS name.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc/record.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    why[200], d[DMARC_DOMAIN_MAX + 1];
    struct dmarc_record r;

    if (size < 1)
	return 0;
    if (data[0] & 1) {
	if (dmarc_record_parse((const char *) data + 1, size - 1, &r, why, sizeof(why)) == 1
	    && (r.p == DMARC_POLICY_UNSET || r.pct < 0 || r.pct > 100))
	    abort();
    } else if (dmarc_from_domain((const char *) data + 1, size - 1, d, sizeof(d),
				 why, sizeof(why)) == 0) {
	if (!dmarc_valid_domain(d))
	    abort();
	for (const char *cp = d; *cp; cp++)
	    if (isupper((unsigned char) *cp))
		abort();
    }
    return 0;
}
