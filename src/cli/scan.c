/*
 * scan.c - walk a whole store table from a command-line tool.
 *
 * store_scan() visits a batch at a time and hands back a cursor; the
 * tools (mxshield greylist list|stats|purge, mxshield ban list|stats)
 * want every record, and stop with a message if the store cannot be read.
 */
#include "cli/scan.h"
#include "util/log.h"

#define SCAN_BATCH	10000

/* scan_all - visit every record of a table in batches */
long    scan_all(struct store *s, const char *table, store_scan_fn fn, void *arg)
{
    char    cursor[512];
    size_t  clen = 0;
    long    total = 0, n;

    do {
	if ((n = store_scan(s, table, cursor, sizeof(cursor), &clen, SCAN_BATCH, fn, arg)) < 0)
	    msg_fatal("cannot read the %s table", table);
	total += n;
    } while (clen > 0);
    return total;
}
