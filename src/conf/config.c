/*
 * config.c - main.cf-syntax configuration parser.
 *
 * DIAGNOSTICS
 *	Every problem is reported as "FILE:LINE: text" in err and the whole
 *	configuration is refused, so that a reload never half-applies.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "util/lines.h"
#include "util/mac.h"
#include "util/mem.h"

#define EXPAND_DEPTH	20		/* values within values */
#define EXPAND_LIMIT	(1024 * 1024)	/* longest expanded value, in bytes */

struct class_def {
    char   *name;
    char   *raw;
    char   *value;			/* expanded */
    char   *where;
};

struct config {
    char   *origin;
    char   *raw[P_COUNT];		/* as written, NULL: default */
    char   *where[P_COUNT];		/* "FILE:LINE" */
    char   *value[P_COUNT];		/* expanded */
    long    num[P_COUNT];		/* INT, TIME, CODE, BOOL */
    struct class_def *classes;
    size_t  nclasses;
    /* unknown names seen, checked against smtpd_restriction_classes */
    struct strlist pending_names;
    struct strlist pending_raw;
    struct strlist pending_where;
};

/*
 * The embedded default: what a newcomer replacing postgrey gets on
 * postgrey's port - postgrey's greylisting plus the checks every guide
 * applies to all mail without warning of false positives (README,
 * "The embedded default", says why each is here and what it costs).
 * Relay control stays in Postfix (smtpd_relay_restrictions), which knows
 * its own domains; nothing here needs a table or a server of its own.
 */
const char config_embedded_default[] =
"# mxshield embedded default: postgrey's greylisting plus the guides'\n"
"# low-risk checks.  Relay control stays in Postfix.\n"
"listen = inet:127.0.0.1:10023\n"
"helo_restrictions = permit_mynetworks, permit_sasl_authenticated,\n"
"    reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname\n"
"sender_restrictions = permit_mynetworks, permit_sasl_authenticated,\n"
"    reject_non_fqdn_sender, reject_unknown_sender_domain\n"
"recipient_restrictions = reject_non_fqdn_recipient,\n"
"    permit_mynetworks, permit_sasl_authenticated, greylist\n";

/* Settings given on the command line (-o name=value), applied after the
 * file on every load, reloads included, as Postfix's -o is. */
static struct buf overrides;
static int overrides_n;

/* config_override - add one name=value setting that wins over the file */
void    config_override(const char *setting)
{
    if (overrides_n++ == 0)
	buf_init(&overrides);
    buf_puts(&overrides, setting);
    buf_puts(&overrides, "\n");
}

/* raw_value - the raw text of a parameter, default when unset */
static const char *raw_value(const struct config *c, int id)
{
    return c->raw[id] ? c->raw[id] : param_table[id].def;
}

/* lookup_raw - raw text of a parameter or class by name, NULL if none */
static const char *lookup_raw(const struct config *c, const char *name)
{
    int     id = param_find(name);

    if (id >= 0)
	return raw_value(c, id);
    for (size_t i = 0; i < c->nclasses; i++)
	if (strcmp(c->classes[i].name, name) == 0)
	    return c->classes[i].raw;
    for (size_t i = 0; i < c->pending_names.n; i++)
	if (strcmp(c->pending_names.v[i], name) == 0)
	    return c->pending_raw.v[i];
    return NULL;
}

/* lookup_name - mac_expand() callback: the raw text of a parameter or class */
static const char *lookup_name(const char *name, void *ctx)
{
    return lookup_raw(ctx, name);
}

/* expand - append text with $name references expanded, recursively */
static int expand(const struct config *c, const char *text, struct buf *out,
		          struct buf *err)
{
    struct mac_expander x;

    x.lookup = lookup_name;
    x.ctx = (void *) c;
    x.flags = MAC_EXP_RECURSE;
    x.depth_limit = EXPAND_DEPTH + 1;	/* the text itself, then EXPAND_DEPTH values */
    x.out_limit = EXPAND_LIMIT;
    x.what = "parameter";
    return mac_expand(out, text, &x, err) == MAC_OK ? 0 : -1;
}

/* config_expand - expand $name references in text (errors leave text) */
char   *config_expand(const struct config *c, const char *text)
{
    struct buf out, err;

    buf_init(&out);
    buf_init(&err);
    if (expand(c, text, &out, &err) < 0) {
	buf_reset(&out);
	buf_puts(&out, text);
    }
    buf_free(&err);
    return buf_steal(&out);
}

/*
 * parse_number - an INT, CODE or TIME value: [+-]digits, and for a TIME one
 * of Postfix's unit suffixes s m h d w.  Digits are accumulated and the
 * unit multiplied only while the result stays within [min..max], so no
 * text can overflow.  NUM_SYNTAX: not a number; NUM_RANGE: outside.
 */
enum { NUM_OK, NUM_SYNTAX, NUM_RANGE };

static int parse_number(const char *s, int is_time, long min, long max, long *out)
{
    static const struct {
	char    suffix;
	unsigned long mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    unsigned long mult = 1, mag, bound;
    const char *end;
    int     neg = 0, rc;

    if (*s == '-' || *s == '+')
	neg = *s++ == '-';
    /* the largest magnitude any value of the parameter can have */
    bound = neg ? (min < 0 ? 0UL - (unsigned long) min : 0) : (max > 0 ? (unsigned long) max : 0);
    rc = str_ulong(s, &end, bound, &mag);
    if (rc == -1)
	return NUM_SYNTAX;
    if (is_time && *end) {
	size_t  i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	    if (*end == units[i].suffix)
		break;
	if (i == sizeof(units) / sizeof(units[0]))
	    return NUM_SYNTAX;
	mult = units[i].mult;
	end++;
    }
    if (*end)
	return NUM_SYNTAX;
    if (rc == -2 || mag > bound / mult)
	return NUM_RANGE;
    mag *= mult;
    *out = neg ? (mag == 0 ? 0 : -(long) (mag - 1) - 1) : (long) mag;
    return *out < min || *out > max ? NUM_RANGE : NUM_OK;
}

/* parse_bool - yes/no as Postfix spells them */
static int parse_bool(const char *s, long *out)
{
    if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0) {
	*out = 1;
	return 0;
    }
    if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0) {
	*out = 0;
	return 0;
    }
    return -1;
}

/* check_value - validate and cache the typed value of one parameter */
static int check_value(struct config *c, int id, struct buf *err)
{
    const struct param_def *p = &param_table[id];
    const char *where = c->where[id] ? c->where[id] : "default";
    struct buf val, why;
    long    v = 0;

    buf_init(&val);
    buf_init(&why);
    if (p->type == PT_RAW) {
	/* a reply template: its $names are expanded per request */
	buf_puts(&val, raw_value(c, id));
    } else if (expand(c, raw_value(c, id), &val, &why) < 0) {
	buf_printf(err, "%s: %s: %s", where, p->name, why.s);
	goto bad;
    }
    char   *s = str_trim(val.s);

    switch (p->type) {
    case PT_INT:
    case PT_CODE:
    case PT_TIME:
	switch (parse_number(s, p->type == PT_TIME, p->min, p->max, &v)) {
	case NUM_SYNTAX:
	    if (p->type == PT_TIME)
		buf_printf(err, "%s: %s: bad time value \"%s\" (use e.g. 300s, 5m, 1h, 2d)",
			   where, p->name, s);
	    else
		buf_printf(err, "%s: %s: bad %s value \"%s\"", where, p->name,
			   param_type_name(p->type), s);
	    goto bad;
	case NUM_RANGE:
	    buf_printf(err, "%s: %s: value \"%s\" out of range [%ld..%ld]",
		       where, p->name, s, p->min, p->max);
	    goto bad;
	}
	break;
    case PT_BOOL:
	if (parse_bool(s, &v) < 0) {
	    buf_printf(err, "%s: %s: bad boolean value \"%s\" (use yes or no)",
		       where, p->name, s);
	    goto bad;
	}
	break;
    default:
	break;
    }
    c->num[id] = v;
    free(c->value[id]);
    c->value[id] = xstrdup(s);
    buf_free(&val);
    buf_free(&why);
    return 0;

bad:
    buf_free(&val);
    buf_free(&why);
    return -1;
}

/* default_hostname - myhostname default: the FQDN from gethostname */
static char *default_hostname(void)
{
    char    name[256];

    if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == 0)
	return xstrdup("localhost.localdomain");
    name[sizeof(name) - 1] = 0;
    if (strchr(name, '.') == NULL) {
	/* Postfix insists on an FQDN; fall back as postconf would suggest */
	size_t  len = strlen(name);

	if (len + sizeof(".localdomain") < sizeof(name))
	    strcat(name, ".localdomain");
    }
    str_lower(name);
    return xstrdup(name);
}

/* set_param - record one name = value line */
static int set_param(struct config *c, const char *name, const char *value,
		             const char *where, struct buf *err)
{
    int     id = param_find(name);

    if (id < 0) {
	/* maybe a restriction class; decided once all lines are read */
	strlist_add(&c->pending_names, name);
	strlist_add(&c->pending_raw, value);
	strlist_add(&c->pending_where, where);
	return 0;
    }
    (void) err;
    free(c->raw[id]);
    free(c->where[id]);
    c->raw[id] = xstrdup(value);
    c->where[id] = xstrdup(where);
    return 0;
}

/* parse_lines - split text into logical lines and record them */
static int parse_lines(struct config *c, const char *text, struct buf *err)
{
    struct lines l;
    char   *line;
    int     lineno, rc;

    lines_text(&l, text, LINES_JOIN);
    while ((rc = lines_next(&l, &line, &lineno)) > 0) {
	char   *eq = strchr(line, '=');
	char    where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%d", c->origin, lineno);
	if (eq == NULL) {
	    buf_printf(err, "%s: missing '=' after \"%s\"", where, str_trim(line));
	    rc = -1;
	    break;
	}
	*eq = 0;
	char   *name = str_trim(line);
	char   *value = str_trim(eq + 1);

	if (*name == 0 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
	    != strlen(name)) {
	    buf_printf(err, "%s: bad parameter name \"%s\"", where, name);
	    rc = -1;
	    break;
	}
	if ((rc = set_param(c, name, value, where, err)) < 0)
	    break;
    }
    if (rc < 0 && l.error == LINES_E_LEADING)
	buf_printf(err, "%s:%d: continuation line without a parameter: \"%s\"",
		   c->origin, l.errline, line);
    else if (rc < 0 && l.error == LINES_E_LONG)
	buf_printf(err, "%s:%d: %s (more than %d bytes)", c->origin, l.errline,
		   l.why, LINES_LENGTH_LIMIT);
    else if (rc < 0 && l.error != LINES_OK)
	buf_printf(err, "%s:%d: %s", c->origin, l.errline, l.why);
    lines_close(&l);
    return rc < 0 ? -1 : 0;
}

/* resolve_classes - every unknown name must be a restriction class */
static int resolve_classes(struct config *c, struct buf *err)
{
    struct strlist names;
    int     rc = 0;

    strlist_init(&names);
    {
	struct buf v, why;

	buf_init(&v);
	buf_init(&why);
	if (expand(c, raw_value(c, P_CLASSES), &v, &why) == 0)
	    strlist_split(&names, v.s, LIST_SEPS);
	buf_free(&v);
	buf_free(&why);
    }
    for (size_t i = 0; i < c->pending_names.n; i++) {
	const char *name = c->pending_names.v[i];
	size_t  j;

	for (j = 0; j < names.n; j++)
	    if (strcmp(names.v[j], name) == 0)
		break;
	if (j == names.n) {
	    buf_printf(err, "%s: unknown parameter \"%s\"",
		       c->pending_where.v[i], name);
	    rc = -1;
	    break;
	}
	c->classes = xrealloc(c->classes, (c->nclasses + 1) * sizeof(*c->classes));
	struct class_def *cd = &c->classes[c->nclasses++];

	cd->name = xstrdup(name);
	cd->raw = xstrdup(c->pending_raw.v[i]);
	cd->where = xstrdup(c->pending_where.v[i]);
	cd->value = NULL;
    }
    /* A class named in the list but never defined is an error, too. */
    for (size_t j = 0; rc == 0 && j < names.n; j++) {
	if (param_find(names.v[j]) >= 0) {
	    buf_printf(err, "%s: smtpd_restriction_classes: \"%s\" is a parameter name",
		       config_where(c, P_CLASSES), names.v[j]);
	    rc = -1;
	    break;
	}
	size_t  k;

	for (k = 0; k < c->nclasses; k++)
	    if (strcmp(c->classes[k].name, names.v[j]) == 0)
		break;
	if (k == c->nclasses) {
	    buf_printf(err, "%s: restriction class \"%s\" is not defined",
		       config_where(c, P_CLASSES), names.v[j]);
	    rc = -1;
	}
    }
    strlist_free(&names);
    return rc;
}

/* config_parse_text - parse a whole configuration text */
struct config *config_parse_text(const char *text, const char *origin,
				         struct buf *err)
{
    struct config *c = xcalloc(1, sizeof(*c));

    c->origin = xstrdup(origin);
    strlist_init(&c->pending_names);
    strlist_init(&c->pending_raw);
    strlist_init(&c->pending_where);
    if (parse_lines(c, text, err) < 0)
	goto bad;
    if (overrides_n > 0) {
	char   *file = c->origin;
	int     rc;

	c->origin = "command line -o";		/* "command line -o:2": the second -o */
	rc = parse_lines(c, overrides.s, err);
	c->origin = file;
	if (rc < 0)
	    goto bad;
    }
    if (resolve_classes(c, err) < 0)
	goto bad;

    /* Computed defaults, as Postfix computes them. */
    if (c->raw[P_MYHOSTNAME] == NULL) {
	c->raw[P_MYHOSTNAME] = default_hostname();
    }
    if (c->raw[P_MYDOMAIN] == NULL) {
	char   *h = config_expand(c, c->raw[P_MYHOSTNAME]);
	char   *dot = strchr(h, '.');

	c->raw[P_MYDOMAIN] = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
	free(h);
    }
    for (int id = 0; id < P_COUNT; id++)
	if (check_value(c, id, err) < 0)
	    goto bad;
    for (size_t i = 0; i < c->nclasses; i++) {
	struct buf v, why;

	buf_init(&v);
	buf_init(&why);
	if (expand(c, c->classes[i].raw, &v, &why) < 0) {
	    buf_printf(err, "%s: %s: %s", c->classes[i].where, c->classes[i].name, why.s);
	    buf_free(&v);
	    buf_free(&why);
	    goto bad;
	}
	c->classes[i].value = buf_steal(&v);
	buf_free(&v);
	buf_free(&why);
    }
    return c;

bad:
    config_free(c);
    return NULL;
}

/* config_load - read a file, or the embedded default when path is NULL */
struct config *config_load(const char *path, struct buf *err)
{
    if (path == NULL)
	return config_parse_text(config_embedded_default, "(embedded default)", err);

    FILE   *fp = fopen(path, "r");

    if (fp == NULL) {
	buf_printf(err, "open %s: %s", path, strerror(errno));
	return NULL;
    }
    struct buf text;
    char    chunk[8192];
    size_t  n;

    buf_init(&text);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
	buf_append(&text, chunk, n);
    if (ferror(fp)) {
	buf_printf(err, "read %s: %s", path, strerror(errno));
	fclose(fp);
	buf_free(&text);
	return NULL;
    }
    fclose(fp);
    if (strlen(text.s) != text.len) {
	buf_printf(err, "%s: file contains a NUL byte", path);
	buf_free(&text);
	return NULL;
    }
    struct config *c = config_parse_text(text.s, path, err);

    buf_free(&text);
    return c;
}

/* config_free - release everything */
void    config_free(struct config *c)
{
    if (c == NULL)
	return;
    for (int i = 0; i < P_COUNT; i++) {
	free(c->raw[i]);
	free(c->where[i]);
	free(c->value[i]);
    }
    for (size_t i = 0; i < c->nclasses; i++) {
	free(c->classes[i].name);
	free(c->classes[i].raw);
	free(c->classes[i].value);
	free(c->classes[i].where);
    }
    free(c->classes);
    strlist_free(&c->pending_names);
    strlist_free(&c->pending_raw);
    strlist_free(&c->pending_where);
    free(c->origin);
    free(c);
}

/* config_str - expanded value */
const char *config_str(const struct config *c, enum param_id id)
{
    return c->value[id] ? c->value[id] : "";
}

/* config_int - numeric value of INT, TIME, CODE */
long    config_int(const struct config *c, enum param_id id)
{
    return c->num[id];
}

/* config_bool - boolean value */
int     config_bool(const struct config *c, enum param_id id)
{
    return c->num[id] != 0;
}

/* config_is_set - set in the file (not default) */
int     config_is_set(const struct config *c, enum param_id id)
{
    return c->where[id] != NULL;
}

/* config_where - FILE:LINE where set, or "default" */
const char *config_where(const struct config *c, enum param_id id)
{
    return c->where[id] ? c->where[id] : "default";
}

/* config_class - expanded value of a restriction class, NULL if none */
const char *config_class(const struct config *c, const char *name,
			         const char **where)
{
    for (size_t i = 0; i < c->nclasses; i++)
	if (strcmp(c->classes[i].name, name) == 0) {
	    if (where)
		*where = c->classes[i].where;
	    return c->classes[i].value;
	}
    return NULL;
}

/* config_origin - file name */
const char *config_origin(const struct config *c)
{
    return c->origin;
}

/* config_print - postconf -n / -d style listing */
void    config_print(const struct config *c, FILE *fp, int defaults)
{
    for (int i = 0; i < P_COUNT; i++) {
	const struct param_def *p = &param_table[i];

	if (defaults) {
	    fprintf(fp, "# %s (%s%s)\n%s = %s\n\n", p->doc, param_type_name(p->type),
		    p->reloadable ? "" : ", needs restart", p->name, p->def);
	} else if (c->where[i]) {
	    fprintf(fp, "%s = %s\n", p->name, c->raw[i]);
	}
    }
    if (!defaults)
	for (size_t i = 0; i < c->nclasses; i++)
	    fprintf(fp, "%s = %s\n", c->classes[i].name, c->classes[i].raw);
}

/* config_keep - give parameter id of c the value it has in old (a reload
 * keeps in force what needs a restart) */
void    config_keep(struct config *c, const struct config *old, enum param_id id)
{
    free(c->raw[id]);
    free(c->where[id]);
    free(c->value[id]);
    c->raw[id] = old->raw[id] ? xstrdup(old->raw[id]) : NULL;
    c->where[id] = old->where[id] ? xstrdup(old->where[id]) : NULL;
    c->value[id] = old->value[id] ? xstrdup(old->value[id]) : NULL;
    c->num[id] = old->num[id];
}
