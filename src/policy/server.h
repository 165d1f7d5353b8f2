/*
 * server.h - the policy service: listeners, connections, reload, stop.
 *
 * server_run() binds every "listen" socket, serves the Postfix SMTPD
 * access policy delegation protocol on one libevent loop, reloads the
 * configuration on SIGHUP (a broken one is refused and the old one stays)
 * and stops on SIGTERM/SIGINT after answering requests in flight.  It
 * returns the process exit status.
 */
#ifndef MX_POLICY_SERVER_H
#define MX_POLICY_SERVER_H

#include "rules/policy.h"

/* config_path NULL: the embedded default */
int     server_run(const char *config_path, struct policy *pol);

#endif
