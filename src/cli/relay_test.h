/* relay_test.h - `mxshield relay-test` */
#ifndef MX_CLI_RELAY_TEST_H
#define MX_CLI_RELAY_TEST_H

#include "conf/config.h"

int     cmd_relay_test(const struct config *conf, int argc, char **argv);

/* relay_test_replies - SMTP replies read from fd until a bad one or the
 * end: how many were whole (the reply parser, for the fuzzer) */
int     relay_test_replies(int fd);

#endif
