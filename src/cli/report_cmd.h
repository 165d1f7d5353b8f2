/*
 * report_cmd.h - mxshield report [-c FILE] [--since TIME] [LOGFILE]
 */
#ifndef MX_CLI_REPORT_CMD_H
#define MX_CLI_REPORT_CMD_H

struct config;

/* cmd_report - print the report of a log (stdin without LOGFILE); exit status */
int     cmd_report(const struct config *conf, int argc, char **argv);

#endif
