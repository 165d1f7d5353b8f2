/* greylist_migrate.h - `mxshield greylist migrate --to redis|lmdb` */
#ifndef MX_CLI_GREYLIST_MIGRATE_H
#define MX_CLI_GREYLIST_MIGRATE_H

#include "greylist/greylist.h"

struct config;

/* greylist_migrate - argv from "migrate"; an exit status */
int     greylist_migrate(const struct config *c, const struct gl_conf *g, int argc, char **argv);

#endif
