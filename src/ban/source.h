/*
 * source.h - the auto-ban's place in the daemon: Postfix's log in,
 * classified (logev_line), counted and banned (the engine), out to the
 * log and nftables.
 *
 * ban_source_attach() registers the source when ban_log is not "none";
 * ban_source_line() is the one call site a log follower feeds.  Until
 * src/ban/follow.c (the inotify and journal follower) is merged, an
 * interim reader in source.c polls the file every 100 ms: it follows
 * appends, a truncation and a rename, and starts at the end.
 */
#ifndef MX_BAN_SOURCE_H
#define MX_BAN_SOURCE_H

#include <stddef.h>

struct daemon;
struct ban_source;

void    ban_source_attach(struct daemon *d);
void    ban_source_line(struct ban_source *bs, const char *line, size_t len);

#endif
