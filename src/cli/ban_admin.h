/* ban_admin.h - `mxshield ban list|add|del|stats` */
#ifndef MX_CLI_BAN_ADMIN_H
#define MX_CLI_BAN_ADMIN_H

#include "rules/policy.h"

/* cmd_ban_admin - argv after "ban" and its -c option; argv[0] is the
 * subcommand.  Exit status; 2 for a subcommand it does not know. */
int     cmd_ban_admin(struct policy *pol, int argc, char **argv);

#endif
