/* dkim_cmd.h - `mxshield dkim` */
#ifndef MX_CLI_DKIM_CMD_H
#define MX_CLI_DKIM_CMD_H

#include <stdio.h>

#include "conf/config.h"
#include "dkim/dkim.h"

int     cmd_dkim(const struct config *conf, int argc, char **argv);

/* dkim_feed_message - read a message (CRLF or LF line ends) into v:
 * headers, end of headers, body in chunks; 0, or -1 on a read error */
int     dkim_feed_message(FILE *fp, struct dkim_verify *v);

#endif
