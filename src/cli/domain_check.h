/* domain_check.h - `mxshield domain check` */
#ifndef MX_CLI_DOMAIN_CHECK_H
#define MX_CLI_DOMAIN_CHECK_H

#include "conf/config.h"

int     cmd_domain(const struct config *conf, int argc, char **argv);

#endif
