/*
 * cidr.c - cidr_table(5).
 *
 *   network/len   result
 *   address       result         (a host: /32 or /128)
 *   [ipv6::]/len  result         (brackets allowed around IPv6)
 *   !network/len  result         (matches an address of the same family
 *                                 outside the network; Postfix 3.2)
 *   if [!]network/len  ...  endif
 *
 * The first matching rule wins.  As in Postfix, a rule (or "if") never
 * matches an address of the other family, negated or not.  A key that is
 * not a bare address ("[1.2.3.4]" and "IPv6:..." included, as Postfix
 * converts keys with inet_pton()) is not found.  Errors in the file (a bad
 * address, host bits set beyond the prefix, an unbalanced if/endif) refuse
 * the table, naming file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map_impl.h"
#include "util/inet.h"
#include "util/mem.h"

enum cidr_op { CIDR_MATCH, CIDR_IF, CIDR_ENDIF };

struct cidr_rule {
    enum cidr_op op;
    int     negate;			/* "if !net" */
    struct cidr net;
    char   *result;			/* CIDR_MATCH */
    size_t  skip;			/* CIDR_IF: index of its endif */
};

struct cidr_map {
    struct cidr_rule *v;
    size_t  n;
    size_t *open;			/* stack of unclosed "if" rules */
    size_t  nopen;
    const char *path;
};

/* cidr_net - parse one network, allowing [ipv6] brackets */
static int cidr_net(struct cidr_map *t, char *word, struct cidr *c, int lineno,
		            char *err, size_t errlen)
{
    char    why[256];
    char    tmp[128];

    if (word[0] == '[') {
	char   *close = strchr(word, ']');

	if (close == NULL || (close[1] != 0 && close[1] != '/')
	    || strlen(word) >= sizeof(tmp)) {
	    snprintf(err, errlen, "%s, line %d: bad network address \"%s\"",
		     t->path, lineno, word);
	    return -1;
	}
	snprintf(tmp, sizeof(tmp), "%.*s%s", (int) (close - word - 1), word + 1, close + 1);
	word = tmp;
    }
    if (cidr_parse(word, c, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "%s, line %d: %s", t->path, lineno, why);
	return -1;
    }
    return 0;
}

/* cidr_add - append a rule */
static struct cidr_rule *cidr_add(struct cidr_map *t)
{
    t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    memset(&t->v[t->n], 0, sizeof(*t->v));
    return &t->v[t->n++];
}

/* cidr_line - one logical line */
static int cidr_line(void *ctx, char *line, int lineno, char *err, size_t errlen)
{
    struct cidr_map *t = ctx;
    char   *word = line, *rest;
    size_t  wlen = strcspn(line, " \t");

    rest = line + wlen;
    if (*rest)
	*rest++ = 0;
    while (*rest == ' ' || *rest == '\t')
	rest++;
    for (char *end = rest + strlen(rest); end > rest && (end[-1] == ' ' || end[-1] == '\t');)
	*--end = 0;

    if (strcasecmp(word, "endif") == 0) {
	if (t->nopen == 0) {
	    snprintf(err, errlen, "%s, line %d: ignoring ENDIF without matching IF",
		     t->path, lineno);
	    return -1;
	}
	cidr_add(t)->op = CIDR_ENDIF;
	t->v[t->open[--t->nopen]].skip = t->n - 1;
	return 0;
    }
    if (strcasecmp(word, "if") == 0) {
	struct cidr_rule r;
	char   *net = rest;

	memset(&r, 0, sizeof(r));
	r.op = CIDR_IF;
	for (; *net == '!' || *net == ' ' || *net == '\t'; net++)
	    if (*net == '!')
		r.negate = !r.negate;
	if (*net == 0 || strpbrk(net, " \t") != NULL) {
	    snprintf(err, errlen, "%s, line %d: expected: if [!]network/length",
		     t->path, lineno);
	    return -1;
	}
	if (cidr_net(t, net, &r.net, lineno, err, errlen) < 0)
	    return -1;
	*cidr_add(t) = r;
	t->open = xrealloc(t->open, (t->nopen + 1) * sizeof(*t->open));
	t->open[t->nopen++] = t->n - 1;
	return 0;
    }
    struct cidr_rule r;

    memset(&r, 0, sizeof(r));
    r.op = CIDR_MATCH;
    for (; *word == '!'; word++)
	r.negate = !r.negate;
    if (cidr_net(t, word, &r.net, lineno, err, errlen) < 0)
	return -1;
    if (*rest == 0) {
	snprintf(err, errlen, "%s, line %d: no lookup result after \"%s\"",
		 t->path, lineno, word);
	return -1;
    }
    r.result = xstrdup(rest);
    *cidr_add(t) = r;
    return 0;
}

static void cidr_free(void *priv);

/* cidr_load - read the table */
static void *cidr_load(const char *path, char *err, size_t errlen)
{
    struct cidr_map *t = xcalloc(1, sizeof(*t));

    t->path = path;
    if (map_read_lines(path, cidr_line, t, err, errlen) != 0) {
	cidr_free(t);
	return NULL;
    }
    if (t->nopen) {
	snprintf(err, errlen, "%s: IF has no matching ENDIF", path);
	cidr_free(t);
	return NULL;
    }
    free(t->open);
    t->open = NULL;
    t->path = NULL;
    return t;
}

/* cidr_get - first rule whose network holds the key */
static enum map_result cidr_get(void *priv, const char *key, const char **value)
{
    struct cidr_map *t = priv;
    struct inet_addr a;

    if (key[0] == '[' || strncasecmp(key, "IPv6:", 5) == 0
	|| inet_parse(key, &a) < 0)
	return MAP_NOTFOUND;
    for (size_t i = 0; i < t->n; i++) {
	struct cidr_rule *r = &t->v[i];
	int     same = r->net.net.family == a.family;

	switch (r->op) {
	case CIDR_MATCH:
	    if (same && cidr_match(&r->net, &a) != r->negate) {
		*value = r->result;
		return MAP_FOUND;
	    }
	    break;
	case CIDR_IF:
	    if (!same || cidr_match(&r->net, &a) == r->negate)
		i = r->skip;
	    break;
	case CIDR_ENDIF:
	    break;
	}
    }
    return MAP_NOTFOUND;
}

/* cidr_free - release */
static void cidr_free(void *priv)
{
    struct cidr_map *t = priv;

    for (size_t i = 0; i < t->n; i++)
	free(t->v[i].result);
    free(t->v);
    free(t->open);
    free(t);
}

const struct map_ops map_cidr_ops = {"cidr", 1, cidr_load, cidr_get, cidr_free};
