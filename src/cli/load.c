/*
 * load.c - configuration, policy and store for the command-line tools.
 *
 * The daemon loads the same things its own way (src/daemon/: reload,
 * moving a damaged database aside); the tools share this one, so that
 * `mxshield greylist`, `ban`, `report`, `status` ... read a configuration
 * and open the database alike.  See load.h.
 */
#include <string.h>

#include "cli/load.h"
#include "conf/config.h"
#include "rules/policy.h"
#include "store/redis_config.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"

/* load_config - the configuration, or a fatal error */
struct config *load_config(const char *path)
{
    struct buf err;
    struct config *conf;

    buf_init(&err);
    if ((conf = config_load(path, &err)) == NULL)
	msg_fatal("%s", err.s);
    buf_free(&err);
    return conf;
}

/* load_policy - configuration and policy, or a fatal error */
struct policy *load_policy(const char *path)
{
    struct buf err;
    struct config *conf = load_config(path);
    struct policy *pol;

    buf_init(&err);
    if ((pol = policy_compile(conf, &err)) == NULL) {
	config_free(conf);
	msg_fatal("%s", err.s);
    }
    buf_free(&err);
    return pol;
}

/* load_store - the database of c, or a fatal error */
struct store *load_store(const struct config *c, int backend, int readonly)
{
    struct store_opts o;
    char    why[512];
    struct store *s;

    memset(&o, 0, sizeof(o));
    o.path = config_str(c, P_DATA_DIR);
    o.map_size = (size_t) config_int(c, P_STORE_MAP_SIZE) << 20;
    o.readonly = readonly;
    o.on_corrupt = STORE_CORRUPT_REFUSE;
    redis_config_opts(c, &o, NULL);
    if (backend != LOAD_STORE_CONFIGURED)
	o.backend = (enum store_backend) backend;
    if ((s = store_open(&o, why, sizeof(why))) == NULL)
	msg_fatal("%s", why);
    return s;
}
