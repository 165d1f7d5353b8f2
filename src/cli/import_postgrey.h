/*
 * import_postgrey.h - `mxshield greylist import-postgrey DIR`: postgrey's
 * postgrey.db and postgrey_clients.db into mxshield's database, keyed as
 * mxshield keys them (see import_postgrey.c).
 */
#ifndef MX_CLI_IMPORT_POSTGREY_H
#define MX_CLI_IMPORT_POSTGREY_H

#include "conf/config.h"
#include "greylist/greylist.h"
#include "store/store.h"

/* greylist_import_postgrey - import DIR's databases into s; exit status */
int     greylist_import_postgrey(const struct config *c, const struct gl_conf *g,
				         struct store *s, const char *dir);

#endif
