/*
 * redis_config.h - store options from the configuration.
 */
#ifndef MX_STORE_REDIS_CONFIG_H
#define MX_STORE_REDIS_CONFIG_H

#include "store/store.h"

struct config;

/* redis_config_opts - o's backend (parameter store) and Redis settings;
 * event_base: the daemon's loop, NULL for a tool (blocking) */
void    redis_config_opts(const struct config *c, struct store_opts *o, void *event_base);

#endif
