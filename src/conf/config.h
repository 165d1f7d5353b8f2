/*
 * config.h - main.cf-syntax configuration.
 *
 * config_load() reads "name = value" lines: a line that begins with white
 * space continues the previous one, lines whose first non-blank is "#" are
 * comments, $name / ${name} / $(name) expand (recursively, when the value
 * is used), and so do Postfix's ${name?text} / ${name:text} (util/mac.c).
 * Lines are read by util/lines.c (at most LINES_LENGTH_LIMIT bytes each).  Names are those of params.h (plus Postfix's smtpd_* aliases)
 * and the restriction classes named in smtpd_restriction_classes; any
 * other name, or a value of the wrong type or out of range, is an error
 * "FILE:LINE: ..." naming the word, and nothing is loaded.
 *
 * Typed values are checked and cached at load time; config_str() returns
 * the expanded text.
 */
#ifndef MX_CONF_CONFIG_H
#define MX_CONF_CONFIG_H

#include <stdio.h>

#include "conf/params.h"
#include "util/str.h"

struct config;

/* config_load - parse path, or the embedded default when path is NULL */
struct config *config_load(const char *path, struct buf *err);

/* config_parse_text - parse text as if read from a file named origin */
struct config *config_parse_text(const char *text, const char *origin,
				         struct buf *err);
void    config_free(struct config *c);

const char *config_str(const struct config *c, enum param_id id);
long    config_int(const struct config *c, enum param_id id);	/* INT TIME CODE */
int     config_bool(const struct config *c, enum param_id id);
int     config_is_set(const struct config *c, enum param_id id);

/* Where a parameter was set, for error messages: "FILE:LINE" or "default" */
const char *config_where(const struct config *c, enum param_id id);

/* Restriction classes: expanded value of a class, or NULL */
const char *config_class(const struct config *c, const char *name,
			         const char **where);

/* config_expand - expand $name references in text */
char   *config_expand(const struct config *c, const char *text);

/* config_print - like postconf -n (set only) or postconf -d (defaults) */
void    config_print(const struct config *c, FILE *fp, int defaults);

/* config_keep - set parameter id of c to its value in old (reload) */
void    config_keep(struct config *c, const struct config *old, enum param_id id);

/* config_origin - the file this configuration came from */
const char *config_origin(const struct config *c);

/* config_override - a name=value setting applied after the file, every load */
void    config_override(const char *setting);

/* The embedded default configuration (mxshield --embedded-default). */
extern const char config_embedded_default[];

#endif
