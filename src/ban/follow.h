/*
 * follow.h - read a mail log as it grows: a file across rotation, or the
 * systemd journal; one callback per complete line.
 *
 * SYNOPSIS
 *	struct follow *f = follow_file(base, "/var/log/mail.log",
 *				       "/var/lib/mxshield/follow.state", 0,
 *				       on_line, arg, &err);
 *	struct follow *f = follow_journal(base, NULL, state, 0, on_line, arg, &err);
 *	daemon_source(d, &follow_handler_ops, f);	the loop owns it now
 *
 *	on_line(arg, line, len, when): line without its newline, not
 *	NUL-terminated; when is the journal's time of the entry, 0 for a
 *	file (the line carries its own).
 *
 * DESCRIPTION
 *	A file is watched with inotify (its directory: changes, renames,
 *	creation) and polled once a second besides.  Rotation by rename:
 *	the old file is read to its end, and kept open for a while in case
 *	the writer appends before it reopens, then the new one is read from
 *	its start.  Rotation by copytruncate: what was not yet read is
 *	read from the copy (the sibling whose first bytes and size show it
 *	is the copy: NAME.1 or NAME-DATE), then the truncated file from its
 *	start.  A partial last line is held until its newline; a line longer
 *	than LOGEV_LINE_MAX is dropped whole (and counted).  A backlog is
 *	read FOLLOW_POLL_BYTES (journal: entries) per turn of the loop, so
 *	that a first start on a large log does not hold up policy requests;
 *	the work is labelled "log follower" for the loop's stall warning.
 *
 *	The state file records the file's identity (inode and a hash of its
 *	first FOLLOW_HEAD_BYTES) and the offset after the last line handed
 *	out, written (to a temporary name, then renamed) after every read
 *	that handed out lines.  At start the same file resumes there; when
 *	it was rotated meanwhile, the rest of the old one is read from its
 *	rotated name first.  Without a state, from_start chooses between
 *	the whole file and only what comes next.
 *
 *	The journal: sd_journal with its descriptor on the loop, matching
 *	_SYSTEMD_UNIT= each of units (default: Postfix's units as Debian 12
 *	names them, postfix@-.service, and postfix.service), the entry's
 *	cursor saved as the state.  A line is "IDENTIFIER[PID]: MESSAGE".
 *	follow_journal_files() reads given journal files (tests).
 *
 * DIAGNOSTICS
 *	Start-up: NULL with the reason in err.  Later problems (a file that
 *	vanished, an unreadable state) are warnings; following goes on.
 */
#ifndef MX_BAN_FOLLOW_H
#define MX_BAN_FOLLOW_H

#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "util/str.h"

#define FOLLOW_HEAD_BYTES	1024	/* the identity hash covers this much */
#define FOLLOW_SERVICE		"follow"	/* its log lines: mxshield/follow */

typedef void (*follow_line_fn) (void *arg, const char *line, size_t len, time_t when);

struct follow;

struct follow *follow_file(struct event_base *base, const char *path, const char *state_path,
			           int from_start, follow_line_fn fn, void *arg, struct buf *err);
struct follow *follow_journal(struct event_base *base, const char *const *units,
			              const char *state_path, int from_start,
			              follow_line_fn fn, void *arg, struct buf *err);
struct follow *follow_journal_files(struct event_base *base, const char *const *files,
				            const char *const *units, const char *state_path,
				            int from_start, follow_line_fn fn, void *arg,
				            struct buf *err);

/* follow_poll - read whatever is new now (the loop does this by itself) */
void    follow_poll(struct follow *f);

/* follow_free - save the state and close */
void    follow_free(struct follow *f);

/* lines handed out, and lines dropped as too long */
unsigned long follow_lines(const struct follow *f);
unsigned long follow_dropped(const struct follow *f);

/* for daemon_source(): ctx is the struct follow; close frees it */
struct daemon_handler_ops;
extern const struct daemon_handler_ops follow_handler_ops;

#endif
