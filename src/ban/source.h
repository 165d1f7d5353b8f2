/*
 * source.h - the auto-ban's place in the daemon: Postfix's log in,
 * classified (logev_line), counted and banned (the engine), out to the
 * log and nftables.
 *
 * ban_source_attach() registers the source when ban_log is not "none":
 * the follower of src/ban/follow.h (a file across rotation, or the
 * journal; its position in data_directory) feeds ban_source_line(),
 * which classifies the line (logev_line) and hands the event to the
 * engine (src/ban/engine.c).
 */
#ifndef MX_BAN_SOURCE_H
#define MX_BAN_SOURCE_H

#include <stddef.h>
#include <time.h>

struct daemon;
struct ban_source;

void    ban_source_attach(struct daemon *d);
void    ban_source_line(struct ban_source *bs, const char *line, size_t len, time_t when);

#endif
