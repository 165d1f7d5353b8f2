/* scan.h - every record of a store table, for the command-line tools */
#ifndef MX_CLI_SCAN_H
#define MX_CLI_SCAN_H

#include "store/store.h"

/* scan_all - visit every record of table in batches (fn as store_scan's);
 * the records visited; a read error is fatal */
long    scan_all(struct store *s, const char *table, store_scan_fn fn, void *arg);

#endif
