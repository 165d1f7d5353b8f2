/* ban_cmd.h - `mxshield ban`: scan (this file's), list/add/del/stats */
#ifndef MX_CLI_BAN_CMD_H
#define MX_CLI_BAN_CMD_H

/* cmd_ban - argv after "ban" (argv[0] the subcommand), config_path the
 * configuration chosen (-c, or NULL for the embedded default); the exit
 * status */
int     cmd_ban(const char *config_path, int argc, char **argv);

#endif
