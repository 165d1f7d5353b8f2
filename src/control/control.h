/*
 * control.h - the local control socket, a handler of the daemon skeleton.
 *
 * control_attach() binds control_socket (a unix socket created mode 0600
 * by the daemon's starting user: owner-only) and answers one command per
 * connection, then closes it:
 *
 *	client:  "status\n"
 *	daemon:  "mxshield-control 1\n" then one "name{labels} value" line
 *	         per series of the statistics registry (stats_render)
 *
 * Anything else, or a command line longer than CONTROL_LINE_MAX, is
 * answered "error: ..." on the same first line.  A missing directory or
 * a socket another daemon serves leaves the daemon without a control
 * socket, with a warning: the policy service never depends on it.
 *
 * control_query() is the client side used by `mxshield status`.
 */
#ifndef MX_CONTROL_CONTROL_H
#define MX_CONTROL_CONTROL_H

#include "util/str.h"

#define CONTROL_VERSION_LINE	"mxshield-control 1"
#define CONTROL_LINE_MAX	256	/* longest command line */

struct daemon;

void    control_attach(struct daemon *d);

/* control_query - send one command to path; the reply after the version
 * line in out; 0, or -1 with a reason in err */
int     control_query(const char *path, const char *command, struct buf *out,
		              struct buf *err);

#endif
