/*
 * encode.h - the bytes of every stored value, the same on every host and
 * in every backend.
 *
 * SYNOPSIS
 *	n = store_value_encode(out, STORE_KIND_TRIPLET, fields, 2);
 *	rc = store_value_decode(val, len, STORE_KIND_TRIPLET, fields, 2);
 *
 * DESCRIPTION
 *	A value is one byte of encoding version (STORE_VALUE_VERSION), one
 *	byte naming the kind of record, then the record's fields: each a
 *	signed 64-bit integer, big-endian.  The kinds and their fields:
 *
 *	STORE_KIND_TRIPLET	first seen, last seen (greylist "triplets")
 *	STORE_KIND_CLIENT	deliveries counted, last counted ("clients")
 *	STORE_KIND_WHITELIST	when added ("whitelist")
 *	STORE_KIND_BAN		expires, since, level, reason ("bans")
 *	STORE_KIND_OFFENDER	expires, bans, last ban ("offenders")
 *	STORE_KIND_COUNTER	expires, window start, count, previous
 *				window's count ("banhits", "banprefix", "rates")
 *
 *	The auto-ban and rate kinds (src/ban/ban.c) carry their expiry as
 *	their first field, in seconds since the epoch: a record is dead from
 *	then on whatever the backend, and a backend with expiry of its own
 *	(Redis) may set the key's TTL from it.
 *
 *	A triplet's fields may be followed by the client address that
 *	wrote it (greylisting keyed on an SPF domain has no network in its
 *	key): one byte, 4 or 6, then the 4 or 16 bytes of the IPv4 or IPv6
 *	address (store_addr_encode, store_addr_decode).  A triplet without
 *	it is the 18 bytes it always was, and reads as before.
 *
 *	A database moved to another machine, or the same records in another
 *	backend, read the same.  The database's format version (meta
 *	"version", STORE_FORMAT_VERSION) says which encoding its values use.
 *
 *	Values written by format 1 (mxshield 0.3 and before) are the host's
 *	struct: the fields in native byte order, no header, 8 bytes each.
 *	Their lengths (8 and 16) are never those of an encoded value (10 and
 *	18), so they are told apart by length and read as this host's
 *	integers.  A backend upgrades them (store_value_upgrade) when it
 *	first opens a format 1 database for writing; until then (read-only
 *	tools, an upgrade cut short) they are read as they are.
 *
 * DIAGNOSTICS
 *	Values come from disk or from a server: store_value_decode() refuses
 *	(STORE_VALUE_BAD) any other length, version or kind, and any field
 *	outside 0..STORE_FIELD_MAX, so that arithmetic on decoded times and
 *	counts cannot overflow.
 */
#ifndef MX_STORE_ENCODE_H
#define MX_STORE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_VALUE_VERSION	1
#define STORE_FIELDS_MAX	4
#define STORE_ADDR_MAX		17	/* a client address after a triplet's fields */
#define STORE_VALUE_MAX		(2 + 8 * STORE_FIELDS_MAX + STORE_ADDR_MAX)	/* longest value */
#define STORE_FIELD_MAX		((int64_t) 1 << 48)	/* seconds: year 8.9 million */

enum store_kind {
    STORE_KIND_TRIPLET = 1,
    STORE_KIND_CLIENT = 2,
    STORE_KIND_WHITELIST = 3,
    STORE_KIND_BAN = 4,
    STORE_KIND_OFFENDER = 5,
    STORE_KIND_COUNTER = 6,
};

enum store_decoded {
    STORE_VALUE_BAD = -1,		/* not a value of this kind: ignore or delete */
    STORE_VALUE_OK = 0,
    STORE_VALUE_LEGACY = 1,		/* format 1: read; rewrite when convenient */
};

/* store_kind_of_table - what a table holds; 0: a table of no known kind */
enum store_kind store_kind_of_table(const char *table);

/* store_value_upgrade - a format 1 value in format 2, into out; its
 * length, or 0 if val is not a format 1 value of that kind */
size_t  store_value_upgrade(enum store_kind kind, const void *val, size_t len,
			            unsigned char out[STORE_VALUE_MAX]);

/* store_value_encode - the bytes of a record into out; their number */
size_t  store_value_encode(unsigned char out[STORE_VALUE_MAX], enum store_kind kind,
			           const int64_t *fields, size_t n);

/* store_value_decode - the fields of a record of this kind, if it is one */
enum store_decoded store_value_decode(const void *val, size_t len, enum store_kind kind,
				              int64_t *fields, size_t n);

/* store_addr_encode - family (4 or 6) and address bytes into out; their
 * number (5 or 17), 0 for no address (family 0) */
size_t  store_addr_encode(int family, const unsigned char *addr, unsigned char *out);

/* store_addr_decode - the address after a value's fields: family 4 or 6
 * and bytes into addr[16]; -1 if len is not 5 or 17 or the tag is wrong */
int     store_addr_decode(const unsigned char *p, size_t len, int *family, unsigned char *addr);

#endif
