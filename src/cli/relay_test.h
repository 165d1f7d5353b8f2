/* relay_test.h - `mxshield relay-test` */
#ifndef MX_CLI_RELAY_TEST_H
#define MX_CLI_RELAY_TEST_H

#include "conf/config.h"

int     cmd_relay_test(const struct config *conf, int argc, char **argv);

#endif
