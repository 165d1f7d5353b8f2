/*
 * access.h - access(5) lookup order, exactly as Postfix's smtpd applies it.
 *
 * Each function tries the keys that Postfix's smtpd tries for one kind of
 * check, in Postfix's order, and stops at the first key that is found or at
 * the first lookup error.  Pattern tables (map_is_pattern) get only the
 * full key, as in Postfix.  The matched key is copied into *matched (when
 * not NULL) for tracing.
 *
 *   access_client      check_client_access: hostname, parent domains
 *                      (when the name is not "unknown"), then the address,
 *                      then shorter octet prefixes (IPv4 "1.2.3", "1.2",
 *                      "1"; IPv6 shorter ":"-field prefixes)
 *   access_domain      check_helo_access, reverse client name: the name
 *                      and its parent domains
 *   access_address     check_sender_access / check_recipient_access:
 *                      user@domain (also without +extension), domain and
 *                      parent domains, then user@ ; "<>" lookups for the
 *                      null address use opts->null_key; the address is
 *                      folded to lower case first, for every table type,
 *                      as smtpd's address resolution does
 */
#ifndef MX_MAPS_ACCESS_H
#define MX_MAPS_ACCESS_H

#include "maps/map.h"
#include "util/str.h"

struct access_opts {
    int     parent_matches_subdomains;	/* parent_domain_matches_subdomains
					 * includes smtpd_access_maps */
    const char *recipient_delimiter;	/* "" for none; each char is one */
    const char *null_key;		/* smtpd_null_access_lookup_key "<>" */
};

enum map_result access_client(struct map *m, const struct access_opts *o,
			              const char *name, const char *addr,
			              const char **value, struct buf *matched);
enum map_result access_domain(struct map *m, const struct access_opts *o,
			              const char *domain,
			              const char **value, struct buf *matched);
enum map_result access_address(struct map *m, const struct access_opts *o,
			               const char *address,
			               const char **value, struct buf *matched);

#endif
