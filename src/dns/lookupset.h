/*
 * lookupset.h - the DNS lookups of one evaluation, shared by every check
 * that needs them.
 *
 * A check asks lookupset_get() for (name, type).  The answer may be in
 * the set already (started earlier by lookupset_start(), or asked by an
 * earlier check), in the resolver's cache, or not yet known: then the
 * lookup is started (or joined), lookupset_get() returns NULL, and the set
 * calls its wakeup function when that answer arrives, so that the caller
 * runs the check again.  Starting, at the beginning, every lookup the
 * configured checks could need makes an evaluation cost about one DNS
 * round trip.  Each (name, type) is asked once per set, whoever asks.
 *
 * Used by the restriction engine (src/rules/), `mxshield check`,
 * `mxshield spf` and the DKIM/DMARC verifier; it knows nothing of them.
 * Without a resolver every answer is a temporary failure.
 * lookupset_describe() is the one text of an answer in a trace.
 */
#ifndef MX_DNS_LOOKUPSET_H
#define MX_DNS_LOOKUPSET_H

#include <stddef.h>

#include "dns/dns.h"
#include "util/str.h"

struct lookupset;

/* lookupset_new - an empty set over a resolver (NULL: none configured) */
struct lookupset *lookupset_new(struct dns *dns);

/* lookupset_free - cancel what is outstanding, release every answer */
void    lookupset_free(struct lookupset *ls);

/* lookupset_set_wakeup - called when an answer lookupset_get() missed
 * arrives, under the log service name in force now; it may free the set */
void    lookupset_set_wakeup(struct lookupset *ls, void (*fn) (void *), void *ctx);

/* lookupset_start - begin (or join) a lookup a later check may need */
void    lookupset_start(struct lookupset *ls, const char *name, int type);

/* lookupset_get - the answer (owned by the set), or NULL while waiting;
 * *cached (may be NULL) tells whether the resolver's cache answered */
struct dns_answer *lookupset_get(struct lookupset *ls, const char *name, int type,
				         int *cached);

/* lookupset_outstanding - lookups started and not answered yet */
size_t  lookupset_outstanding(const struct lookupset *ls);

/* lookupset_describe - "DNS TYPE name: answers (ttl N, cached | N ms)" */
void    lookupset_describe(struct buf *out, const char *name, int type,
			           const struct dns_answer *a, int cached);

#endif
