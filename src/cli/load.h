/*
 * load.h - what every command-line tool loads first: the configuration,
 * its compiled policy, the configured store.  Each fails the way a tool
 * should at start-up: a message with file:line or the system error on
 * stderr and exit 1 (msg_fatal).
 */
#ifndef MX_CLI_LOAD_H
#define MX_CLI_LOAD_H

struct config;
struct policy;
struct store;

/* the backend as store_backend says (and Redis's settings with it) */
#define LOAD_STORE_CONFIGURED	(-1)

/* load_config - the configuration at path (NULL: the embedded default) */
struct config *load_config(const char *path);

/* load_policy - the configuration and its compiled policy */
struct policy *load_policy(const char *path);

/* load_store - the store of c (data_directory, store_map_size; Redis
 * blocking, as a tool), backend LOAD_STORE_CONFIGURED or a store_backend;
 * a damaged database is refused, never moved aside */
struct store *load_store(const struct config *c, int backend, int readonly);

#endif
