/*
 * nft.h - banned networks in an nftables table of mxshield's own.
 *
 * SYNOPSIS
 *	struct ban_nft *n = ban_nft_new("nft", "25 465 587");
 *	ban_nft_setup(n, err, len);		table, sets, chain (idempotent)
 *	ban_nft_add(n, net, seconds);		queued in the batch
 *	ban_nft_del(n, net);
 *	ban_nft_flush(n);			one `nft -f -` for the batch
 *
 * DESCRIPTION
 *	table inet mxshield holds sets with timeouts: host4 and host6 of
 *	addresses, net4/net6 (interval sets) of the banned prefixes
 *	(ban_ipv6_prefix, /64) and wide4/wide6 of the escalations (two
 *	sets: intervals of one set may not overlap), and a chain on the
 *	input hook that drops their packets (to ban_nftables_ports, or
 *	all).  Nothing else in the host's ruleset is touched.
 *
 *	The batch is text piped to `nft -f -` (one process per batch, one
 *	kernel transaction): mxshield links no nftables library (libnftables
 *	is GPL-2.0-only).  A ban's timeout is refreshed by adding the element
 *	(a no-op if present), deleting it and adding it with the new timeout,
 *	in one batch: re-adding alone does not refresh a timeout before
 *	Linux 6.12 (Debian 12 runs 6.1).
 *
 * DIAGNOSTICS
 *	A failed nft run is a warning with its error output; the bans stay
 *	in the store and reject_banned_client still refuses them.  So is a
 *	run that has not ended within 10 s (a hung nft, a wrapper waiting
 *	for a password): its process group is killed.  In the daemon a run
 *	goes on in the background: the policy service never waits for nft.
 */
#ifndef MX_BAN_NFT_H
#define MX_BAN_NFT_H

#include <stddef.h>

#include "util/inet.h"

struct ban_nft;

/* prefix lengths: v4 and v6 bans (ban_ipv*_prefix) go to the net sets,
 * full-length ones to the host sets, others (escalations) to wide4/6 */
struct ban_nft *ban_nft_new(const char *command, const char *ports, int v4prefix, int v6prefix);
int     ban_nft_setup(struct ban_nft *n, char *err, size_t errlen);
void    ban_nft_add(struct ban_nft *n, const struct cidr *net, long seconds);
void    ban_nft_del(struct ban_nft *n, const struct cidr *net);
/* ban_nft_flush - run the batch; 0, or -1 (warned).  A run that takes
 * longer than the timeout (10 s; tests set less with ban_nft_timeout) is
 * killed and fails.  After ban_nft_async() a run goes on in the
 * background of that loop and ban_nft_flush() returns 0 at once (its
 * failure is still warned); batches flushed while one is out wait for
 * it and go in order, in one run.  ban_nft_free() gives a run that is
 * out one more second to end, then kills it (the bans are in the store:
 * the next start puts them back). */
int     ban_nft_flush(struct ban_nft *n);
struct event_base;
void    ban_nft_async(struct ban_nft *n, struct event_base *base);
int     ban_nft_busy(const struct ban_nft *n);	/* a background run is out */
void    ban_nft_timeout(struct ban_nft *n, long ms);
/* ban_nft_script - the batch so far (tests) */
const char *ban_nft_script(const struct ban_nft *n);
void    ban_nft_free(struct ban_nft *n);

#endif
