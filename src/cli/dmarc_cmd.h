/*
 * dmarc_cmd.h - `mxshield dmarc`: SPF, DKIM, ARC and DMARC of one message
 * as the milter would evaluate them, and the header it would add.
 */
#ifndef MX_CLI_DMARC_CMD_H
#define MX_CLI_DMARC_CMD_H

struct config;

/* cmd_dmarc - the command after "dmarc" (and -c); the exit status */
int     cmd_dmarc(const struct config *conf, int argc, char **argv);

#endif
