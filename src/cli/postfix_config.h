/* postfix_config.h - `mxshield postfix-config` */
#ifndef MX_CLI_POSTFIX_CONFIG_H
#define MX_CLI_POSTFIX_CONFIG_H

#include <stdio.h>

#include "conf/config.h"

/* the main.cf / master.cf lines; socket NULL: from the listen parameter */
void    postfix_config_print(const struct config *c, const char *socket, FILE *fp);

/*
 * findings in DIR/main.cf and DIR/master.cf, given mxshield's configuration
 * mx (mx_is_file: read from a file, whose mydestination, relay_domains and
 * mynetworks must agree with main.cf's); 1 open relay, 0 not, 2 error
 */
int     postfix_config_check(const char *dir, const struct config *mx, int mx_is_file);

#endif
