/*
 * privs.h - the privilege drop of the daemon skeleton.
 *
 * privs_drop() hands data_directory and its database files to the
 * configured "user" (through descriptors, never by name: see privs.c),
 * then sets the groups, the group and the user, checks every step and
 * that root cannot be regained.  It returns 1 when privileges were
 * dropped, 0 when there was nothing to do (no user, or already him);
 * every failure is fatal.
 */
#ifndef MX_DAEMON_PRIVS_H
#define MX_DAEMON_PRIVS_H

#include "conf/config.h"

int     privs_drop(const struct config *conf);

/* privs_prepare - before binding: create data_directory, 0700 (root's when
 * a user is configured and we are root: privs_drop hands it over) */
void    privs_prepare(const struct config *conf);

#endif
