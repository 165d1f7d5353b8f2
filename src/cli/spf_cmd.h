/* spf_cmd.h - `mxshield spf` */
#ifndef MX_CLI_SPF_CMD_H
#define MX_CLI_SPF_CMD_H

#include "conf/config.h"

int     cmd_spf(const struct config *conf, int argc, char **argv);

#endif
