/*
 * bancache.h - the active bans this daemon has seen, for when the store
 * cannot answer.
 *
 * SYNOPSIS
 *	ban_cache_put(net, &record);	a ban read or made here
 *	ban_cache_del(net);		read as not banned, or unbanned here
 *	ban_cache_get(net, now, &record);	1: known banned at now
 *
 * DESCRIPTION
 *	reject_banned_client consults the store first and remembers what it
 *	reads here; the engine adds the bans it makes and removes the ones
 *	it lifts; the daemon's start-up restore (Redis with ban_nftables)
 *	adds the bans it reads.  When a read fails (Redis down), a client
 *	known here to be banned is still refused: "bans keep enforcing what
 *	is known locally".  Anything else is still a temporary failure.
 *
 *	BAN_CACHE_SLOTS entries in one static table (no allocation), found
 *	by hashing the network text and probing BAN_CACHE_PROBE slots; a
 *	full probe run gives up the entry that expires first.  A ban lifted
 *	on another host while the store is down is enforced here until it
 *	expires or the store answers again.  The daemon's event loop is its
 *	only user (no locking).
 */
#ifndef MX_BAN_BANCACHE_H
#define MX_BAN_BANCACHE_H

#include <stdint.h>

#include "ban/ban.h"

#define BAN_CACHE_SLOTS	4096		/* a power of two */
#define BAN_CACHE_PROBE	8

void    ban_cache_put(const char *net, const struct ban_record *r);
void    ban_cache_del(const char *net);
int     ban_cache_get(const char *net, int64_t now, struct ban_record *r);
/* ban_cache_clear - forget everything (tests) */
void    ban_cache_clear(void);

#endif
