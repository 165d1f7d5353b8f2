/* greylist_cmd.h - `mxshield greylist` */
#ifndef MX_CLI_GREYLIST_CMD_H
#define MX_CLI_GREYLIST_CMD_H

#include "rules/policy.h"

/* cmd_greylist - argv after "greylist" and its -c option */
int     cmd_greylist(struct policy *pol, int argc, char **argv);

#endif
