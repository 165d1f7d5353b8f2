/*
 * regexp.c - regexp_table(5) and pcre_table(5), both through PCRE2.
 *
 *   /pattern/flags result       first match wins; $1 ${1} substitute
 *   !/pattern/flags result      matches when the pattern does not
 *   if [!]/pattern/flags  ...  endif
 *
 * The delimiter is the first character of the pattern ('/' by custom);
 * a backslash before it makes it part of the pattern, and, as in Postfix,
 * the backslash stays there: "|a\|b|" matches the text "a|b".  Matching
 * ignores case unless the 'i' flag toggles that off.  regexp: flags are i,
 * m, x (x selects POSIX basic syntax in Postfix and is accepted here
 * without effect); pcre: flags are i, m, s, x, A, E, U, X.  A result may
 * refer to at most the groups its pattern has, as $n, ${n} or $(n) with
 * n >= 1; as in Postfix's mac_parse() (here util/mac.c), "$1x" names
 * "1x", which is no number.  The substituted value stays valid until the
 * next lookup in the same table; one longer than RE_RESULT_LIMIT fails the
 * lookup (MAP_ERROR).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map_impl.h"
#include "util/log.h"
#include "util/mac.h"
#include "util/mem.h"
#include "util/str.h"

/* longest substituted result, in bytes: past it the lookup fails (a 4xx) */
#define RE_RESULT_LIMIT	(64 * 1024)

enum re_op { RE_MATCH, RE_IF, RE_ENDIF };

struct re_rule {
    enum re_op op;
    int     negate;
    pcre2_code *re;
    char   *result;			/* RE_MATCH */
    int     subst;			/* result contains $ */
    size_t  skip;			/* RE_IF: index of its endif */
};

struct re_map {
    struct re_rule *v;
    size_t  n;
    size_t *open;
    size_t  nopen;
    pcre2_match_data *md;
    uint32_t max_groups;
    struct buf out;			/* substituted result */
    const char *path;
    int     pcre;			/* pcre: flags, else regexp: flags */
    int     last_rc;			/* pcre2_match() of the last hit */
};

/* re_pattern - parse [!]/pat/flags at *cpp and compile it */
static int re_pattern(struct re_map *t, char **cpp, int lineno, struct re_rule *r,
		              char *err, size_t errlen)
{
    char   *cp = *cpp;
    char    delim;
    struct buf pat;
    uint32_t opts = PCRE2_CASELESS;
    int     ecode;
    PCRE2_SIZE eoff;

    if (*cp == '!') {
	r->negate = 1;
	cp++;
    }
    delim = *cp;
    if (delim == 0 || delim == ' ' || delim == '\t' || delim == '\\') {
	snprintf(err, errlen, "%s, line %d: expected /pattern/", t->path, lineno);
	return -1;
    }
    buf_init(&pat);
    for (cp++; *cp && *cp != delim; cp++) {
	/* a backslash escapes the delimiter, and stays (as in Postfix) */
	if (*cp == '\\' && cp[1])
	    buf_putc(&pat, *cp++);
	buf_putc(&pat, *cp);
    }
    if (*cp != delim) {
	snprintf(err, errlen, "%s, line %d: missing closing delimiter '%c'",
		 t->path, lineno, delim);
	buf_free(&pat);
	return -1;
    }
    for (cp++; *cp && *cp != ' ' && *cp != '\t'; cp++) {
	switch (*cp) {
	case 'i':
	    opts ^= PCRE2_CASELESS;
	    break;
	case 'm':
	    opts ^= PCRE2_MULTILINE;
	    break;
	case 'x':
	    if (t->pcre)
		opts ^= PCRE2_EXTENDED;
	    break;
	case 's':
	case 'A':
	case 'E':
	case 'U':
	case 'X':
	    if (!t->pcre)
		goto bad_flag;
	    opts ^= *cp == 's' ? PCRE2_DOTALL : *cp == 'A' ? PCRE2_ANCHORED
		: *cp == 'E' ? PCRE2_DOLLAR_ENDONLY : *cp == 'U' ? PCRE2_UNGREEDY : 0;
	    break;
	default:
    bad_flag:
	    snprintf(err, errlen, "%s, line %d: unknown pattern flag '%c'",
		     t->path, lineno, *cp);
	    buf_free(&pat);
	    return -1;
	}
    }
    r->re = pcre2_compile((PCRE2_SPTR) pat.s, pat.len, opts, &ecode, &eoff, NULL);
    if (r->re == NULL) {
	PCRE2_UCHAR msg[256];

	pcre2_get_error_message(ecode, msg, sizeof(msg));
	snprintf(err, errlen, "%s, line %d: bad pattern \"%s\": %s at offset %zu",
		 t->path, lineno, pat.s, (char *) msg, (size_t) eoff);
	buf_free(&pat);
	return -1;
    }
    buf_free(&pat);
    (void) pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    *cpp = cp;
    return 0;
}

/* re_group - the group number an expression names; -1 if not a number */
static long re_group(const char *text, size_t len)
{
    unsigned long n;
    const char *end;
    int     rc = str_ulong(text, &end, 65535, &n);

    if (rc == -1 || (size_t) (end - text) != len)
	return -1;
    /* more than any pattern has groups: out of range, whatever its size */
    return rc == -2 ? 65536 : (long) n;
}

struct re_scan {
    struct re_map *t;
    struct re_rule *r;
    int     lineno;
    uint32_t groups;
    char   *err;
    size_t  errlen;
};

/* re_scan_token - mac_parse() callback: validate one $n of a result (1: bad) */
static int re_scan_token(enum mac_token kind, const char *text, size_t len, void *ctx)
{
    struct re_scan *sc = ctx;
    long    n;

    if (kind == MAC_LITERAL) {
	/* "$$" comes as a literal ending in '$': the result needs expanding */
	if (text[len - 1] == '$')
	    sc->r->subst = 1;
	return 0;
    }
    if ((n = re_group(text, len)) < 0) {
	snprintf(sc->err, sc->errlen, "%s, line %d: bad $ substitution in \"%s\"",
		 sc->t->path, sc->lineno, sc->r->result);
	return 1;
    }
    if (sc->r->negate) {
	snprintf(sc->err, sc->errlen, "%s, line %d: $number in result of a negated pattern",
		 sc->t->path, sc->lineno);
	return 1;
    }
    if (n < 1 || (unsigned long) n > sc->groups) {
	snprintf(sc->err, sc->errlen, "%s, line %d: out of range replacement index \"%.*s\"",
		 sc->t->path, sc->lineno, (int) len, text);
	return 1;
    }
    sc->r->subst = 1;
    return 0;
}

/* re_check_subst - validate $n references in a result */
static int re_check_subst(struct re_map *t, struct re_rule *r, int lineno,
			          char *err, size_t errlen)
{
    struct re_scan sc = {t, r, lineno, 0, err, errlen};
    const char *why = NULL;

    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &sc.groups);
    switch (mac_parse(r->result, strlen(r->result), re_scan_token, &sc, &why)) {
    case 0:
	break;
    case MAC_ERR_SYNTAX:
	snprintf(err, errlen, "%s, line %d: bad $ substitution in \"%s\"",
		 t->path, lineno, r->result);
	return -1;
    default:
	return -1;
    }
    if (sc.groups + 1 > t->max_groups)
	t->max_groups = sc.groups + 1;
    return 0;
}

/* re_add - append a rule */
static void re_add(struct re_map *t, const struct re_rule *r)
{
    t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    t->v[t->n++] = *r;
}

/* re_line - one logical line */
static int re_line(void *ctx, char *line, int lineno, char *err, size_t errlen)
{
    struct re_map *t = ctx;
    struct re_rule r;
    char   *cp = line;

    memset(&r, 0, sizeof(r));
    if (strncasecmp(cp, "endif", 5) == 0 && (cp[5] == 0 || cp[5] == ' ' || cp[5] == '\t')) {
	if (t->nopen == 0) {
	    snprintf(err, errlen, "%s, line %d: ENDIF without matching IF", t->path, lineno);
	    return -1;
	}
	r.op = RE_ENDIF;
	re_add(t, &r);
	t->v[t->open[--t->nopen]].skip = t->n - 1;
	return 0;
    }
    if (strncasecmp(cp, "if", 2) == 0 && (cp[2] == ' ' || cp[2] == '\t')) {
	for (cp += 2; *cp == ' ' || *cp == '\t'; cp++)
	     /* void */ ;
	r.op = RE_IF;
	if (re_pattern(t, &cp, lineno, &r, err, errlen) < 0)
	    return -1;
	while (*cp == ' ' || *cp == '\t')
	    cp++;
	if (*cp) {
	    snprintf(err, errlen, "%s, line %d: text after IF pattern: \"%s\"",
		     t->path, lineno, cp);
	    pcre2_code_free(r.re);
	    return -1;
	}
	re_add(t, &r);
	t->open = xrealloc(t->open, (t->nopen + 1) * sizeof(*t->open));
	t->open[t->nopen++] = t->n - 1;
	return 0;
    }
    r.op = RE_MATCH;
    if (re_pattern(t, &cp, lineno, &r, err, errlen) < 0)
	return -1;
    r.result = xstrdup(str_trim(cp));
    if (*r.result == 0) {
	snprintf(err, errlen, "%s, line %d: no lookup result after the pattern",
		 t->path, lineno);
    } else if (re_check_subst(t, &r, lineno, err, errlen) == 0) {
	re_add(t, &r);
	return 0;
    }
    pcre2_code_free(r.re);
    free(r.result);
    return -1;
}

static void re_free(void *priv);

/* re_load - read and compile the table */
static void *re_load_common(const char *path, int pcre, char *err, size_t errlen)
{
    struct re_map *t = xcalloc(1, sizeof(*t));

    t->path = path;
    t->pcre = pcre;
    t->max_groups = 1;
    buf_init(&t->out);
    if (map_read_lines(path, re_line, t, err, errlen) != 0) {
	re_free(t);
	return NULL;
    }
    if (t->nopen) {
	snprintf(err, errlen, "%s: IF has no matching ENDIF", path);
	re_free(t);
	return NULL;
    }
    t->md = pcre2_match_data_create(t->max_groups, NULL);
    t->path = NULL;
    return t;
}

static void *regexp_load(const char *path, char *err, size_t errlen)
{
    return re_load_common(path, 0, err, errlen);
}

static void *pcre_load(const char *path, char *err, size_t errlen)
{
    return re_load_common(path, 1, err, errlen);
}

struct re_subst {
    struct re_map *t;
    const char *key;
};

/* re_subst_token - mac_parse() callback: a literal, or group $n of the match */
static int re_subst_token(enum mac_token kind, const char *text, size_t len, void *ctx)
{
    struct re_subst *sb = ctx;
    struct re_map *t = sb->t;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
    long    n;

    if (kind == MAC_EXPR) {
	n = re_group(text, len);		/* checked when loaded */
	if (n < 1 || n >= t->last_rc || ov[2 * n] == PCRE2_UNSET)
	    return 0;				/* pairs set; 0: ovector too small */
	text = sb->key + ov[2 * n];
	len = ov[2 * n + 1] - ov[2 * n];
    }
    if (t->out.len + len > RE_RESULT_LIMIT)
	return MAC_ERR_LIMIT;
    buf_append(&t->out, text, len);
    return 0;
}

/* re_expand - substitute $n from the last match; NULL past RE_RESULT_LIMIT */
static const char *re_expand(struct re_map *t, const struct re_rule *r, const char *key)
{
    struct re_subst sb = {t, key};
    const char *why = NULL;

    buf_reset(&t->out);
    if (mac_parse(r->result, strlen(r->result), re_subst_token, &sb, &why) != 0)
	return NULL;
    return t->out.s;
}

/* re_get - first rule that matches the key */
static enum map_result re_get(void *priv, const char *key, const char **value)
{
    struct re_map *t = priv;
    size_t  klen = strlen(key);

    for (size_t i = 0; i < t->n; i++) {
	struct re_rule *r = &t->v[i];
	int     rc, hit;

	if (r->op == RE_ENDIF)
	    continue;
	rc = pcre2_match(r->re, (PCRE2_SPTR) key, klen, 0, 0, t->md, NULL);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
	    return MAP_ERROR;		/* e.g. match limit: not a miss */
	hit = rc >= 0;
	t->last_rc = rc;
	if (r->op == RE_IF) {
	    if (hit == r->negate)
		i = r->skip;
	    continue;
	}
	if (hit != r->negate) {
	    if ((*value = r->subst ? re_expand(t, r, key) : r->result) == NULL) {
		msg_warn("%s table: the result for \"%.100s\" is longer than %d bytes",
			 t->pcre ? "pcre" : "regexp", key, RE_RESULT_LIMIT);
		return MAP_ERROR;
	    }
	    return MAP_FOUND;
	}
    }
    return MAP_NOTFOUND;
}

/* re_free - release */
static void re_free(void *priv)
{
    struct re_map *t = priv;

    for (size_t i = 0; i < t->n; i++) {
	pcre2_code_free(t->v[i].re);
	free(t->v[i].result);
    }
    free(t->v);
    free(t->open);
    if (t->md)
	pcre2_match_data_free(t->md);
    buf_free(&t->out);
    free(t);
}

const struct map_ops map_regexp_ops = {"regexp", 1, regexp_load, re_get, re_free};
const struct map_ops map_pcre_ops = {"pcre", 1, pcre_load, re_get, re_free};
