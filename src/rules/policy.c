/*
 * policy.c - compile a configuration into lists, tables and networks.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "ban/ban.h"
#include "rules/rate.h"
#include "rules/eval.h"
#include "greylist/greylist.h"
#include "net/listen.h"
#include "rules/policy.h"
#include "dmarc/msgauth.h"
#include "util/log.h"
#include "util/mem.h"

static const enum param_id stage_params[STAGE_COUNT] = {
    P_CLIENT_RESTR, P_HELO_RESTR, P_SENDER_RESTR, P_RELAY_RESTR, P_RCPT_RESTR,
    P_DATA_RESTR,
};

/* rlist_free - release a compiled list */
void    rlist_free(struct rlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
	free(l->v[i].arg);
	rate_spec_free(l->v[i].rate);
	if (l->v[i].xl)
	    dnsxl_free(l->v[i].xl);
    }
    free(l->v);
    free(l->name);
    l->v = NULL;
    l->n = 0;
    l->name = NULL;
}

/* find_class - a compiled restriction class by name */
static const struct rlist *find_class(const struct policy *p, const char *name)
{
    for (size_t i = 0; i < p->nclasses; i++)
	if (p->classes[i].name && strcmp(p->classes[i].name, name) == 0)
	    return &p->classes[i];
    return NULL;
}

/*
 * check_process_params - what `serve` would refuse, reported by `config`
 * and `check` too: listener syntax, log destination, the run-as user.
 */
static int check_process_params(const struct config *conf, struct buf *err)
{
    struct listen_spec *ls;
    struct listen_unix lu;
    struct buf why;
    const char *v;
    int     n;

    /* the parsers `serve` uses: what passes here binds there */
    buf_init(&why);
    if ((n = listen_parse_list(config_str(conf, P_LISTEN), &ls, &why)) <= 0) {
	buf_printf(err, "%s: listen: %s", config_where(conf, P_LISTEN),
		   n < 0 ? why.s : "no sockets to listen on");
	buf_free(&why);
	return -1;
    }
    free(ls);
    if ((n = listen_parse_list(config_str(conf, P_METRICS_LISTEN), &ls, &why)) < 0) {
	buf_printf(err, "%s: metrics_listen: %s", config_where(conf, P_METRICS_LISTEN), why.s);
	buf_free(&why);
	return -1;
    }
    free(ls);
    if ((n = listen_parse_list(config_str(conf, P_MILTER_LISTEN), &ls, &why)) < 0) {
	buf_printf(err, "%s: milter_listen: %s", config_where(conf, P_MILTER_LISTEN), why.s);
	buf_free(&why);
	return -1;
    }
    free(ls);
    if (*config_str(conf, P_MILTER_LISTEN)) {
	/* the milter's settings (DMARC mode, actions): refused here, with
	 * FILE:LINE, by config, check and reload alike */
	struct msgauth_conf *mac = msgauth_conf_new(conf, err);

	if (mac == NULL) {
	    buf_free(&why);
	    return -1;
	}
	msgauth_conf_free(mac);
    }
    if (listen_unix_parse(config_str(conf, P_UNIX_MODE), config_str(conf, P_UNIX_OWNER),
			  config_str(conf, P_UNIX_GROUP), &lu, &why) < 0) {
	buf_printf(err, "%s: %s", config_where(conf, P_UNIX_MODE), why.s);
	buf_free(&why);
	return -1;
    }
    buf_free(&why);
    v = config_str(conf, P_LOG_DEST);
    if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0) {
	buf_printf(err, "%s: log_destination: bad value \"%s\" (expected stderr or syslog)",
		   config_where(conf, P_LOG_DEST), v);
	return -1;
    }
    v = config_str(conf, P_RUN_USER);
    if (*v && getpwnam(v) == NULL) {
	buf_printf(err, "%s: user: unknown user \"%s\"", config_where(conf, P_RUN_USER), v);
	return -1;
    }
    return 0;
}

/*
 * builtin_replacement - for a check_policy_service line pasted from a
 * main.cf that calls postgrey or policyd-spf, the restriction that does
 * the same job inside mxshield; NULL for any other service.  Postgrey is
 * known by its port (10023) or socket name, policyd-spf by "spf" in the
 * service name (private/policyd-spf, private/policy-spf, spfpolicy).
 */
static const char *builtin_replacement(const struct rdef *d, const char *target)
{
    char    lower[256];

    if (strcasecmp(d->name, "check_policy_service") != 0)
	return NULL;
    snprintf(lower, sizeof(lower), "%s", target);
    str_lower(lower);
    if (strstr(lower, "postgrey") || (strncmp(lower, "inet:", 5) == 0
				      && strcmp(strrchr(lower, ':'), ":10023") == 0))
	return "postgrey is built in: write \"greylist\" instead (postgrey's options are"
	    " the greylist_* parameters)";
    if (strstr(lower, "spf"))
	return "policyd-spf is built in: write \"check_spf\" instead (policyd-spf.conf's"
	    " options are the spf_* parameters)";
    return NULL;
}

/* rlist_compile - words of a restriction list into rules */
int     rlist_compile(struct policy *p, struct rlist *out, const char *name,
		              const char *value, const char *where, int def_acl,
		              int allow_tables, struct buf *err)
{
    struct strlist w;
    size_t  i;

    int     scored = 0, score = 0;

    strlist_init(&w);
    if (strlist_split_braces(&w, value, ", \t\r\n") < 0) {
	buf_printf(err, "%s: %s: unbalanced { } in \"%s\"", where, name, value);
	strlist_free(&w);
	return -1;
    }
    out->v = xcalloc(w.n + 1, sizeof(*out->v));
    out->n = 0;
    out->name = xstrdup(name);
    for (i = 0; i < w.n; i++) {
	const char *word = w.v[i];
	struct rule *r = &out->v[out->n];
	const struct rdef *d;

	memset(r, 0, sizeof(*r));
	r->name = word;
	if (scored && (strcasecmp(word, "warn_if_reject") == 0
		       || strcasecmp(word, "score") == 0)) {
	    buf_printf(err, "%s: %s: \"score %d\" must be followed by a restriction, "
		       "not \"%s\"", where, name, score, word);
	    goto bad;
	}
	if (strcasecmp(word, "warn_if_reject") == 0) {
	    out->n++;
	    continue;
	}
	if (strcasecmp(word, "score") == 0) {
	    char   *end;
	    long    n = i + 1 < w.n ? strtol(w.v[i + 1], &end, 10) : 0;

	    if (i + 1 >= w.n || *w.v[i + 1] == 0 || *end || n < -1000 || n > 1000) {
		buf_printf(err, "%s: %s: \"score\" must be followed by a weight "
			   "from -1000 to 1000 and a restriction", where, name);
		goto bad;
	    }
	    scored = 1;
	    score = (int) n;
	    i++;
	    continue;
	}
	r->scored = scored;
	r->score = score;
	scored = 0;
	if (strchr(word, ':') != NULL) {
	    /* Postfix's short-hand: a table alone means this list's check */
	    if ((d = def_acl >= 0 ? rdef_default_acl(def_acl) : NULL) == NULL) {
		buf_printf(err, "%s: %s: table \"%s\" needs a check_*_access restriction before it",
			   where, name, word);
		goto bad;
	    }
	    i--;			/* the word is the table argument */
	} else if ((d = rdef_find(word)) == NULL) {
	    const struct rlist *cl = p ? find_class(p, word) : NULL;

	    if (cl == NULL) {
		buf_printf(err, "%s: %s: unknown restriction \"%s\"", where, name, word);
		goto bad;
	    }
	    r->class_list = cl;
	    out->n++;
	    continue;
	}
	if (d->unsupported) {
	    const char *repl = i + 1 < w.n ? builtin_replacement(d, w.v[i + 1]) : NULL;

	    if (repl)
		buf_printf(err, "%s: %s: \"%s %s\": %s", where, name, word, w.v[i + 1], repl);
	    else
		buf_printf(err, "%s: %s: restriction \"%s\" is %s", where, name, word,
			   d->unsupported);
	    goto bad;
	}
	r->def = d;
	r->name = d->name;
	if (d->fn == r_greylist && p)
	    p->uses_greylist = 1;
	if ((d->fn == r_reject_banned_client || d->fn == r_check_rate) && p)
	    p->uses_store = 1;
	if (d->needs_map == RDEF_ARG_RATE) {
	    struct buf why;

	    if (i + 1 >= w.n) {
		buf_printf(err, "%s: %s: restriction \"%s\" requires an argument"
			   " WHAT=LIMIT/WINDOW[/ACTION]", where, name, word);
		goto bad;
	    }
	    buf_init(&why);
	    if ((r->rate = rate_spec_parse(w.v[++i], &why)) == NULL) {
		buf_printf(err, "%s: %s: %s %s: %s", where, name, d->name, w.v[i], why.s);
		buf_free(&why);
		goto bad;
	    }
	    buf_free(&why);
	} else if (d->needs_map == RDEF_ARG_DNSXL) {
	    if (i + 1 >= w.n) {
		buf_printf(err, "%s: %s: restriction \"%s\" requires a domain name argument",
			   where, name, word);
		goto bad;
	    }
	    struct buf why;

	    buf_init(&why);
	    if ((r->xl = dnsxl_parse(w.v[++i], &why)) == NULL) {
		buf_printf(err, "%s: %s: %s %s: %s", where, name, d->name, w.v[i], why.s);
		buf_free(&why);
		goto bad;
	    }
	    buf_free(&why);
	} else if (d->needs_map) {
	    if (i + 1 >= w.n || strchr(w.v[i + 1], ':') == NULL) {
		buf_printf(err, "%s: %s: restriction \"%s\" must be followed by type:table",
			   where, name, word);
		goto bad;
	    }
	    if (!allow_tables) {
		buf_printf(err, "restriction \"%s\" names a table: not allowed here", word);
		goto bad;
	    }
	    struct buf why;

	    buf_init(&why);
	    r->map = tables_open(p->tables, w.v[++i], &why);
	    if (r->map == NULL) {
		buf_printf(err, "%s: %s: %s %s: %s", where, name, d->name, w.v[i], why.s);
		buf_free(&why);
		goto bad;
	    }
	    buf_free(&why);
	}
	out->n++;
    }
    if (scored) {
	buf_printf(err, "%s: %s: \"score %d\" at the end of the list", where, name, score);
	goto bad;
    }
    /* rule names point into w: give each its own copy via arg storage */
    for (size_t k = 0; k < out->n; k++) {
	struct rule *r = &out->v[k];

	if (r->def == NULL) {
	    r->arg = xstrdup(r->name);
	    r->name = r->arg;
	}
    }
    strlist_free(&w);
    return 0;

bad:
    strlist_free(&w);
    rlist_free(out);
    return -1;
}

/* compile_classes - every smtpd_restriction_classes entry */
static int compile_classes(struct policy *p, struct buf *err)
{
    struct strlist names;

    strlist_init(&names);
    strlist_split(&names, config_str(p->conf, P_CLASSES), LIST_SEPS);
    p->classes = xcalloc(names.n + 1, sizeof(*p->classes));
    /* Names first, so that classes may refer to each other. */
    for (size_t i = 0; i < names.n; i++)
	p->classes[i].name = xstrdup(names.v[i]);
    p->nclasses = names.n;
    for (size_t i = 0; i < names.n; i++) {
	const char *where = NULL;
	const char *value = config_class(p->conf, names.v[i], &where);
	struct rlist tmp;

	if (rlist_compile(p, &tmp, names.v[i], value ? value : "",
			  where ? where : "default", -1, 1, err) < 0) {
	    strlist_free(&names);
	    return -1;
	}
	free(p->classes[i].name);
	p->classes[i] = tmp;
    }
    strlist_free(&names);
    return 0;
}

/* is_table_spec - "type:name" with a known table type */
static int is_table_spec(const char *t)
{
    size_t  n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_");
    char    type[32];

    if (n == 0 || n >= sizeof(type) || t[n] != ':')
	return 0;
    memcpy(type, t, n);
    type[n] = 0;
    return map_type_known(type);
}

/* compile_mynetworks - CIDR entries and type:table entries */
static int compile_mynetworks(struct policy *p, struct buf *err)
{
    struct strlist w;
    struct buf tables;

    strlist_init(&w);
    buf_init(&tables);
    strlist_split(&w, config_str(p->conf, P_MYNETWORKS), LIST_SEPS);
    p->mynetworks = xcalloc(w.n + 1, sizeof(*p->mynetworks));
    for (size_t i = 0; i < w.n; i++) {
	char   *t = w.v[i];
	char    why[256] = "";

	if (is_table_spec(t)) {
	    buf_printf(&tables, "%s ", t);
	    continue;
	}
	/* [addr]/len and [addr] forms */
	struct buf c;

	buf_init(&c);
	if (t[0] == '[') {
	    char   *close = strchr(t, ']');

	    if (close == NULL) {
		buf_printf(err, "%s: mynetworks: missing ']' in \"%s\"",
			   config_where(p->conf, P_MYNETWORKS), t);
		buf_free(&c);
		goto bad;
	    }
	    buf_append(&c, t + 1, (size_t) (close - t - 1));
	    buf_puts(&c, close + 1);
	} else {
	    buf_puts(&c, t);
	}
	if (cidr_parse(c.s, &p->mynetworks[p->nmynetworks], why, sizeof(why)) < 0) {
	    buf_printf(err, "%s: mynetworks: bad network \"%s\": %s",
		       config_where(p->conf, P_MYNETWORKS), t, why);
	    buf_free(&c);
	    goto bad;
	}
	p->nmynetworks++;
	buf_free(&c);
    }
    if (tables.len) {
	p->mynetworks_maps = domain_list_new(tables.s, 0, p->tables, err);
	if (p->mynetworks_maps == NULL)
	    goto bad;
    }
    strlist_free(&w);
    buf_free(&tables);
    return 0;
bad:
    strlist_free(&w);
    buf_free(&tables);
    return -1;
}

/* policy_mynetworks - is the client address trusted */
int     policy_mynetworks(const struct policy *p, const char *addr)
{
    struct inet_addr a;

    if (inet_parse(addr, &a) < 0)
	return 0;
    for (size_t i = 0; i < p->nmynetworks; i++)
	if (cidr_match(&p->mynetworks[i], &a))
	    return 1;
    if (p->mynetworks_maps) {
	enum map_result r = domain_list_match(p->mynetworks_maps, addr);

	return r == MAP_ERROR ? -1 : r == MAP_FOUND;
    }
    return 0;
}

/* parent_match - is feature listed in parent_domain_matches_subdomains */
static int parent_match(const struct config *c, const char *feature)
{
    struct strlist w;
    int     found = 0;

    strlist_init(&w);
    strlist_split(&w, config_str(c, P_PARENT_MATCH), LIST_SEPS);
    for (size_t i = 0; i < w.n; i++)
	if (strcmp(w.v[i], feature) == 0)
	    found = 1;
    strlist_free(&w);
    return found;
}

/* policy_compile - the whole configuration */
struct policy *policy_compile(struct config *conf, struct buf *err)
{
    struct policy *p = xcalloc(1, sizeof(*p));

    p->refs = 1;
    p->conf = conf;
    p->tables = tables_new();
    p->results = result_lists_new();
    if (compile_classes(p, err) < 0)
	goto bad;
    for (int s = 0; s < STAGE_COUNT; s++)
	if (rlist_compile(p, &p->stages[s], param_table[stage_params[s]].name,
			  config_str(conf, stage_params[s]),
			  config_where(conf, stage_params[s]),
			  s == STAGE_DATA ? -1 : s, 1, err) < 0)
	    goto bad;
    if (compile_mynetworks(p, err) < 0)
	goto bad;

    /* Destination classes for relay control. */
    if ((p->mydest = domain_list_new(config_str(conf, P_MYDEST), parent_match(conf, "mydestination"), p->tables, err)) == NULL
	|| (p->relay = domain_list_new(config_str(conf, P_RELAY_DOMAINS), parent_match(conf, "relay_domains"), p->tables, err)) == NULL
	|| (p->valias = domain_list_new(config_str(conf, P_VIRT_ALIAS_DOMAINS), parent_match(conf, "virtual_alias_domains"), p->tables, err)) == NULL
	|| (p->vmbox = domain_list_new(config_str(conf, P_VIRT_MBOX_DOMAINS), parent_match(conf, "virtual_mailbox_domains"), p->tables, err)) == NULL)
	goto bad;
    p->addr.myorigin = config_str(conf, P_MYORIGIN);
    p->addr.myhostname = config_str(conf, P_MYHOSTNAME);
    p->addr.percent_hack = config_bool(conf, P_PERCENT_HACK);
    p->addr.swap_bangpath = config_bool(conf, P_SWAP_BANGPATH);
    p->addr.local = p->mydest;
    p->addr.alias = p->valias;
    p->addr.virtual = p->vmbox;
    p->addr.relay = p->relay;
    p->access.parent_matches_subdomains = parent_match(conf, "smtpd_access_maps");
    p->access.recipient_delimiter = config_str(conf, P_RCPT_DELIM);
    p->access.null_key = config_str(conf, P_NULL_KEY);

    const char *pa = config_str(conf, P_PERMIT_ACTION);

    if (strcasecmp(pa, "OK") == 0)
	p->permit_ok = 1;
    else if (strcasecmp(pa, "DUNNO") != 0) {
	buf_printf(err, "%s: policy_permit_action: \"%s\" is neither OK nor DUNNO",
		   config_where(conf, P_PERMIT_ACTION), pa);
	goto bad;
    }
    if (check_process_params(conf, err) < 0)
	goto bad;

    /* every other parameter a request needs, resolved once */
    p->code.reject = (int) config_int(conf, P_REJECT_CODE);
    p->code.defer = (int) config_int(conf, P_DEFER_CODE);
    p->code.relay = (int) config_int(conf, P_RELAY_CODE);
    p->code.bad_name = (int) config_int(conf, P_BAD_NAME_CODE);
    p->code.non_fqdn = (int) config_int(conf, P_NON_FQDN_CODE);
    p->code.access_reject = (int) config_int(conf, P_ACCESS_REJECT_CODE);
    p->code.access_defer = (int) config_int(conf, P_ACCESS_DEFER_CODE);
    p->code.score_reject = (int) config_int(conf, P_SCORE_REJECT_CODE);
    p->code.score_defer = (int) config_int(conf, P_SCORE_DEFER_CODE);
    p->max_recursion = config_int(conf, P_MAX_RECURSION);
    p->helo_required = config_bool(conf, P_HELO_REQUIRED);
    p->dry_run = config_bool(conf, P_DRY_RUN);
    p->soft_bounce = config_bool(conf, P_SOFT_BOUNCE);
    p->untrust_route = config_bool(conf, P_UNTRUST_ROUTE);
    p->myhostname = config_str(conf, P_MYHOSTNAME);
    p->score_reject = config_int(conf, P_SCORE_REJECT);
    p->score_defer = config_int(conf, P_SCORE_DEFER);
    if (dns_policy_compile(p, err) < 0)
	goto bad;
    if (greylist_policy_compile(p, err) < 0)
	goto bad;
    if ((p->ban = ban_conf_compile(conf, p->tables, err)) == NULL)
	goto bad;
    p->rate_code = (int) config_int(conf, P_RATE_CODE);
    if (strcmp(config_str(conf, P_BAN_LOG), "none") != 0)
	p->uses_store = 1;		/* the log follower bans through it */
    if (spf_policy_compile(p, err) < 0)
	goto bad;
    return p;

bad:
    p->conf = NULL;			/* the caller still owns conf on failure */
    policy_unref(p);
    return NULL;
}

/* policy_ref - one more user */
void    policy_ref(struct policy *p)
{
    p->refs++;
}

/* policy_unref - one user less; free at zero */
void    policy_unref(struct policy *p)
{
    if (p == NULL || --p->refs > 0)
	return;
    for (int s = 0; s < STAGE_COUNT; s++)
	rlist_free(&p->stages[s]);
    for (size_t i = 0; i < p->nclasses; i++)
	rlist_free(&p->classes[i]);
    free(p->classes);
    free(p->rbl_maps);
    result_lists_free(p->results);
    spf_policy_free(p);
    ban_conf_free(p->ban);
    cidr_list_free(&p->spf_skip);
    cidr_list_free(&p->spf_whitelist);
    gl_whitelist_free(p->greylist_wl);
    free(p->mynetworks);
    domain_list_free(p->mynetworks_maps);
    domain_list_free(p->mydest);
    domain_list_free(p->relay);
    domain_list_free(p->valias);
    domain_list_free(p->vmbox);
    tables_free(p->tables);
    config_free(p->conf);
    free(p);
}
