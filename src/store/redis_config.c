/*
 * redis_config.c - the store's backend and Redis settings from the
 * configuration (store, redis_*), for the daemon and the tools alike.
 */
#include <strings.h>

#include "conf/config.h"
#include "store/redis_config.h"

void    redis_config_opts(const struct config *c, struct store_opts *o, void *event_base)
{
    struct store_redis_opts *r = &o->redis;

    o->backend = strcasecmp(config_str(c, P_STORE), "redis") == 0
	? STORE_BACKEND_REDIS : STORE_BACKEND_LMDB;
    r->servers = config_str(c, P_REDIS_SERVERS);
    r->sentinels = config_str(c, P_REDIS_SENTINELS);
    r->master_name = config_str(c, P_REDIS_MASTER_NAME);
    r->database = config_int(c, P_REDIS_DATABASE);
    r->user = config_str(c, P_REDIS_USER);
    r->password = config_str(c, P_REDIS_PASSWORD);
    r->prefix = config_str(c, P_REDIS_PREFIX);
    r->connect_timeout_ms = config_int(c, P_REDIS_CONNECT_TIMEOUT);
    r->command_timeout_ms = config_int(c, P_REDIS_COMMAND_TIMEOUT);
    r->event_base = event_base;
}
