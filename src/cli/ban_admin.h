/* ban_admin.h - `mxshield ban list|add|del|stats` */
#ifndef MX_CLI_BAN_ADMIN_H
#define MX_CLI_BAN_ADMIN_H

/* cmd_ban_admin - argv after "ban" and its -c option; argv[0] is the
 * subcommand; config_path NULL: the embedded default.  Exit status; 2
 * (with the usage) for a subcommand it does not know. */
int     cmd_ban_admin(const char *config_path, int argc, char **argv);

#endif
