/*
 * encode.c - stored values as explicit bytes (see encode.h).
 */
#include <string.h>

#include "store/encode.h"
#include "util/log.h"

/* fields_of - how many fields a kind has; 0: no such kind */
static size_t fields_of(enum store_kind kind)
{
    switch (kind) {
    case STORE_KIND_TRIPLET:
    case STORE_KIND_CLIENT:
	return 2;
    case STORE_KIND_WHITELIST:
	return 1;
    case STORE_KIND_OFFENDER:
	return 3;
    case STORE_KIND_BAN:
    case STORE_KIND_COUNTER:
	return 4;
    }
    return 0;
}

enum store_kind store_kind_of_table(const char *table)
{
    static const struct {
	const char *table;
	enum store_kind kind;
    } kinds[] = {
	{"triplets", STORE_KIND_TRIPLET},
	{"clients", STORE_KIND_CLIENT},
	{"whitelist", STORE_KIND_WHITELIST},
	{"bans", STORE_KIND_BAN},
	{"offenders", STORE_KIND_OFFENDER},
	{"banhits", STORE_KIND_COUNTER},
	{"banprefix", STORE_KIND_COUNTER},
	{"rates", STORE_KIND_COUNTER},
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
	if (strcmp(kinds[i].table, table) == 0)
	    return kinds[i].kind;
    return 0;
}

size_t  store_value_upgrade(enum store_kind kind, const void *val, size_t len,
			            unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[STORE_FIELDS_MAX];
    size_t  n = fields_of(kind);

    if (n == 0 || store_value_decode(val, len, kind, f, n) != STORE_VALUE_LEGACY)
	return 0;
    return store_value_encode(out, kind, f, n);
}

size_t  store_value_encode(unsigned char out[STORE_VALUE_MAX], enum store_kind kind,
			           const int64_t *fields, size_t n)
{
    unsigned char *p = out;

    if (n != fields_of(kind))
	msg_panic("store_value_encode: kind %d has %zu fields, not %zu",
		  (int) kind, fields_of(kind), n);
    *p++ = STORE_VALUE_VERSION;
    *p++ = (unsigned char) kind;
    for (size_t i = 0; i < n; i++) {
	uint64_t u = (uint64_t) fields[i];

	for (int b = 7; b >= 0; b--)
	    *p++ = (unsigned char) (u >> (8 * b));
    }
    return (size_t) (p - out);
}

enum store_decoded store_value_decode(const void *val, size_t len, enum store_kind kind,
				              int64_t *fields, size_t n)
{
    const unsigned char *p = val;
    enum store_decoded rc;

    if (n != fields_of(kind))
	msg_panic("store_value_decode: kind %d has %zu fields, not %zu",
		  (int) kind, fields_of(kind), n);
    if (val != NULL && len == 8 * n && kind <= STORE_KIND_WHITELIST) {
	/* format 1: the host's struct of int64_t (the first three kinds) */
	memcpy(fields, p, 8 * n);
	rc = STORE_VALUE_LEGACY;
    } else if (val != NULL && len == 2 + 8 * n && p[0] == STORE_VALUE_VERSION
	       && p[1] == (unsigned char) kind) {
	p += 2;
	for (size_t i = 0; i < n; i++) {
	    uint64_t u = 0;

	    for (int b = 0; b < 8; b++)
		u = u << 8 | *p++;
	    fields[i] = (int64_t) u;	/* two's complement, as encoded */
	}
	rc = STORE_VALUE_OK;
    } else {
	return STORE_VALUE_BAD;
    }
    for (size_t i = 0; i < n; i++)
	if (fields[i] < 0 || fields[i] > STORE_FIELD_MAX)
	    return STORE_VALUE_BAD;
    return rc;
}

size_t  store_addr_encode(int family, const unsigned char *addr, unsigned char *out)
{
    size_t  n = family == 4 ? 4 : family == 6 ? 16 : 0;

    if (n == 0)
	return 0;
    out[0] = (unsigned char) family;
    memcpy(out + 1, addr, n);
    return n + 1;
}

int     store_addr_decode(const unsigned char *p, size_t len, int *family, unsigned char *addr)
{
    if (!((len == 5 && p[0] == 4) || (len == 17 && p[0] == 6)))
	return -1;
    *family = p[0];
    memset(addr, 0, 16);
    memcpy(addr, p + 1, len - 1);
    return 0;
}
