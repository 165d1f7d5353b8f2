/*
 * map_impl.h - what the table backends share (private to src/maps).
 *
 * map_read_lines() reads a Postfix table source file as logical lines
 * (util/lines.c with LINES_JOIN): blank lines and lines whose first
 * non-blank character is '#' are skipped, a line that starts with white
 * space continues the previous logical line.
 * fn() gets each logical line (writable, without the newline) and the
 * number of the physical line it started on; a non-zero return stops the
 * reading and is returned, with fn's message in err.
 */
#ifndef MX_MAPS_MAP_IMPL_H
#define MX_MAPS_MAP_IMPL_H

#include <stddef.h>

#include "maps/map.h"

typedef int (*map_line_fn) (void *ctx, char *line, int lineno,
			            char *err, size_t errlen);

int     map_read_lines(const char *path, map_line_fn fn, void *ctx,
		               char *err, size_t errlen);

extern const struct map_ops map_text_ops;	/* texthash, hash, btree, lmdb */
extern const struct map_ops map_cidr_ops;
extern const struct map_ops map_regexp_ops;
extern const struct map_ops map_pcre_ops;
extern const struct map_ops map_inline_ops;	/* "path" is the {...} text */
extern const struct map_ops map_static_ops;	/* "path" is the value */

#endif
