/*
 * postfix_config.c - `mxshield postfix-config`: the main.cf lines that put
 * mxshield behind Postfix, and `--check DIR`: what in a Postfix
 * configuration undoes the guides' advice, an open relay first.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/postfix_config.h"
#include "conf/config.h"
#include "net/listen.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/mac.h"
#include "util/mem.h"
#include "util/str.h"

/* policy_target - check_policy_service argument for a listen value,
 * read by the listener parser that `serve` uses */
static void policy_target(const char *listen, struct buf *out)
{
    struct listen_spec *ls;
    struct buf err;
    const char *pick = NULL;
    int     n;

    buf_init(&err);
    if ((n = listen_parse_list(listen, &ls, &err)) < 0)
	msg_fatal("%s", err.s);
    buf_free(&err);
    /* prefer a unix socket inside Postfix's queue directory */
    for (int i = 0; i < n && pick == NULL; i++)
	if (ls[i].type == LISTEN_UNIX)
	    pick = ls[i].text;
    if (pick == NULL && n > 0)
	pick = ls[0].text;
    if (pick == NULL)
	pick = "inet:127.0.0.1:10023";
    const char *spool = "unix:/var/spool/postfix/";

    if (strncmp(pick, spool, strlen(spool)) == 0)
	buf_printf(out, "unix:%s", pick + strlen(spool));	/* relative: works in the chroot */
    else
	buf_puts(out, pick);
    free(ls);
}

/* sh_quote - text as one shell word in single quotes */
static void sh_quote(struct buf *out, const char *text)
{
    buf_putc(out, '\'');
    for (const char *p = text; *p; p++)
	if (*p == '\'')
	    buf_puts(out, "'\\''");
	else
	    buf_putc(out, *p);
    buf_putc(out, '\'');
}

/* postconf_line - print one "postconf -e 'name = value'" command */
static void postconf_line(FILE *fp, const char *name, const char *value)
{
    struct buf setting, cmd;

    buf_init(&setting);
    buf_init(&cmd);
    buf_printf(&setting, "%s = %s", name, value);
    sh_quote(&cmd, setting.s);
    fprintf(fp, "postconf -e %s\n", cmd.s);
    buf_free(&setting);
    buf_free(&cmd);
}

void    postfix_config_print(const struct config *c, const char *socket, FILE *fp)
{
    struct buf t, v;

    buf_init(&t);
    buf_init(&v);
    /* a socket inside Postfix's queue directory is named relative to it,
     * which is what a chrooted smtpd can reach */
    policy_target(socket ? socket : config_str(c, P_LISTEN), &t);
    fprintf(fp,
	    "# --- main.cf: run these commands as root, then: postfix reload ---\n"
	    "# postconf -e replaces each parameter's line in /etc/postfix/main.cf\n"
	    "# (Debian's own smtpd_relay_restrictions among them) instead of adding\n"
	    "# a second one; if your lists hold more, merge them into these first.\n"
	    "# The policy service comes after permit_sasl_authenticated and\n"
	    "# reject_unauth_destination, so it never sees (or permits) relaying.\n");
    postconf_line(fp, "smtpd_relay_restrictions",
		  "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination");
    buf_printf(&v, "permit_mynetworks, permit_sasl_authenticated, "
	       "reject_unauth_destination, check_policy_service %s", t.s);
    postconf_line(fp, "smtpd_recipient_restrictions", v.s);
    /* mxshield's data_restrictions run only when Postfix asks at DATA */
    buf_reset(&v);
    buf_puts(&v, "reject_unauth_pipelining");
    if (*config_str(c, P_DATA_RESTR)) {
	fprintf(fp, "# mxshield.conf has data_restrictions: Postfix asks again at DATA.\n");
	buf_printf(&v, ", check_policy_service %s", t.s);
    } else {
	fprintf(fp, "# Only Postfix can see pipelining: keep this check in Postfix.\n");
    }
    postconf_line(fp, "smtpd_data_restrictions", v.s);
    if (strstr(config_str(c, P_CLIENT_RESTR), "reject_banned_client")) {
	fprintf(fp,
		"# Auto-ban: client_restrictions has reject_banned_client.  Postfix asks\n"
		"# at connect, before AUTH, only with the policy service here and\n"
		"# smtpd_delay_reject = no: a banned client gets 554 for its greeting\n"
		"# and cannot try a password.  The trade-off: every client restriction\n"
		"# of Postfix's own then rejects at once too, before the log has the\n"
		"# sender and recipients, and before a recipient exception such as\n"
		"# postmaster@ can apply; with yes, a banned client is refused only at\n"
		"# RCPT, after its AUTH attempts.\n");
	buf_reset(&v);
	buf_printf(&v, "permit_mynetworks, check_policy_service %s", t.s);
	postconf_line(fp, "smtpd_client_restrictions", v.s);
	postconf_line(fp, "smtpd_delay_reject", "no");
    }
    postconf_line(fp, "smtpd_helo_required", "yes");
    postconf_line(fp, "disable_vrfy_command", "yes");
    fprintf(fp, "# When mxshield cannot answer: a temporary error, never a pass.\n");
    postconf_line(fp, "smtpd_policy_service_default_action", "451 4.3.5 Server configuration problem");
    postconf_line(fp, "smtpd_policy_service_timeout", "100s");
    postconf_line(fp, "smtpd_policy_service_max_idle", "300s");
    postconf_line(fp, "smtpd_policy_service_max_ttl", "1000s");
    postconf_line(fp, "smtpd_policy_service_try_limit", "2");
    postconf_line(fp, "smtpd_policy_service_retry_delay", "1s");
    if (*config_str(c, P_MILTER_LISTEN)) {
	buf_reset(&v);
	policy_target(config_str(c, P_MILTER_LISTEN), &v);
	fprintf(fp, "# The milter (DKIM, ARC, DMARC); when mxshield cannot answer, a\n"
		"# temporary error, never an unchecked accept.\n");
	postconf_line(fp, "smtpd_milters", v.s);
	postconf_line(fp, "non_smtpd_milters", "$smtpd_milters");
	postconf_line(fp, "milter_default_action", "tempfail");
	postconf_line(fp, "milter_protocol", "6");
    }
    fprintf(fp,
	    "#\n"
	    "# --- master.cf: nothing to add ---\n"
	    "# mxshield is its own service (etc/mxshield.service), not spawned by\n"
	    "# master(8).  On submission/smtps, \"-o smtpd_*_restrictions=\" overrides\n"
	    "# must name parameters defined in main.cf (mua_*_restrictions), or the\n"
	    "# service runs without those restrictions.\n");
    buf_free(&t);
    buf_free(&v);
}

/* A Postfix configuration file, read as postconf reads main.cf. */
struct pf_param {
    char   *name;
    char   *value;
    int     line;
};

struct pf_conf {
    struct pf_param *v;
    size_t  n;
};

static const char *pf_get(const struct pf_conf *c, const char *name)
{
    for (size_t i = c->n; i-- > 0;)		/* the last setting wins */
	if (strcmp(c->v[i].name, name) == 0)
	    return c->v[i].value;
    return NULL;
}

static int pf_read_main(const char *path, struct pf_conf *c)
{
    struct lines l;
    char   *line;
    int     lineno, rc;

    if (lines_open(&l, path, LINES_JOIN) < 0) {
	lines_close(&l);
	return -1;
    }
    /* as Postfix: text before any parameter is skipped, the rest read */
    while ((rc = lines_next(&l, &line, &lineno)) > 0 || l.error == LINES_E_LEADING) {
	char   *eq = rc > 0 ? strchr(line, '=') : NULL;

	if (eq) {
	    *eq = 0;
	    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	    c->v[c->n].name = xstrdup(str_trim(line));
	    c->v[c->n].value = xstrdup(str_trim(eq + 1));
	    c->v[c->n].line = lineno;
	    c->n++;
	}
    }
    if (rc < 0) {
	/* a NUL byte, an overlong line or a read error: nothing half-read */
	fprintf(stderr, "mxshield postfix-config: %s, line %d: %s\n", path, l.errline, l.why);
	lines_close(&l);
	errno = EINVAL;
	return -1;
    }
    lines_close(&l);
    return 0;
}

/* first_name - mac_parse() callback: the name in the first $name or ${name...} */
static int first_name(enum mac_token kind, const char *text, size_t len, void *ctx)
{
    size_t  n = 0;

    if (kind != MAC_EXPR)
	return 0;
    while (n < len && (isalnum((unsigned char) text[n]) || text[n] == '_'))
	n++;
    snprintf(ctx, 256, "%.*s", (int) n, text);
    return 1;
}

/* words - a restriction list as lower-case words, "," and space split */
static void words(const char *value, struct strlist *l)
{
    strlist_init(l);
    if (value)
	strlist_split(l, value, ", \t\r\n");
    for (size_t i = 0; i < l->n; i++)
	str_lower(l->v[i]);
}

static long find_word(const struct strlist *l, const char *w)
{
    for (size_t i = 0; i < l->n; i++)
	if (strcmp(l->v[i], w) == 0)
	    return (long) i;
    return -1;
}

/*
 * relay_guarded - does this list refuse relaying before it could permit?
 * 1 yes, 0 no (a permit comes first), -1 it does not decide relaying.
 */
static int relay_guarded(const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
	const char *w = l->v[i];

	if (strcmp(w, "reject_unauth_destination") == 0 || strcmp(w, "defer_unauth_destination") == 0
	    || strcmp(w, "reject") == 0 || strcmp(w, "defer") == 0)
	    return 1;
	/* an unconditional permit before the guard: anything is relayed */
	if (strcmp(w, "permit") == 0)
	    return 0;
    }
    return -1;
}

static int finding(const char *what, const char *fix)
{
    printf("%s; fix: %s\n", what, fix);
    return 1;
}

/* Postfix >= 2.10's default relay list refuses relaying */
#define PF_DEFAULT_RELAY "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"

/* One restriction list as a service sees it: where it came from, its text. */
struct pf_list {
    const char *value;			/* NULL: unset (empty) */
    int     line;			/* master.cf line of its -o; 0: main.cf */
    char    setting[1040];		/* "-o name=value" as written, when line > 0 */
};

/*
 * pf_value - the value a master.cf -o gives: a bare $name or ${name} is
 * main.cf's parameter (NULL when main.cf does not define it)
 */
static const char *pf_value(const struct pf_conf *c, const char *val, char *name, size_t len)
{
    const char *why;

    *name = 0;
    if (*val != '$')
	return val;
    (void) mac_parse(val, strlen(val), first_name, name, &why);
    (void) len;
    return pf_get(c, name);
}

/*
 * relay_open - Postfix runs smtpd_relay_restrictions, then (unless the first
 * rejected) smtpd_recipient_restrictions, each list on its own (smtpd_check.c,
 * smtpd_check_rcpt()): a recipient is relayed when neither list rejects it.
 * So relaying is open exactly when neither list refuses it before a permit.
 */
static int relay_open(const char *relay, const char *rcpt)
{
    struct strlist a, b;
    int     open;

    words(relay, &a);
    words(rcpt, &b);
    open = relay_guarded(&a) != 1 && relay_guarded(&b) != 1;
    strlist_free(&a);
    strlist_free(&b);
    return open;
}

/* describe - "main.cf" or "master.cf line N: -o name=value" for a list */
static void describe(struct buf *out, const char *name, const struct pf_list *l)
{
    if (l->line)
	buf_printf(out, "%s (master.cf line %d: %s)", name, l->line, l->setting);
    else
	buf_printf(out, "%s (%s)", name, l->value ? "main.cf" : "empty");
}

/*
 * service_relay_check - a master.cf service that overrides either relay
 * list: combine what it overrides with main.cf's other list; 1 open relay
 */
static int service_relay_check(const char *service, const struct pf_list *relay,
			               const struct pf_list *rcpt)
{
    const struct pf_list *first = relay->line ? relay : rcpt;
    const struct pf_list *other = relay->line ? rcpt : relay;
    struct buf what;

    if (!relay->line && !rcpt->line)
	return 0;
    if (!relay_open(relay->value, rcpt->value))
	return 0;
    buf_init(&what);
    buf_printf(&what, "master.cf line %d (%s): %s: open relay: ", first->line, service,
	       first->setting);
    describe(&what, relay->line ? "smtpd_recipient_restrictions" : "smtpd_relay_restrictions",
	     other);
    buf_puts(&what, " does not refuse relaying either");
    finding(what.s, "permit only authenticated clients: "
	    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject");
    buf_free(&what);
    return 1;
}

/* is_postgrey, is_policyd_spf - what a check_policy_service target calls */
static int is_postgrey(const char *target)
{
    const char *colon = strrchr(target, ':');

    return strstr(target, "postgrey") != NULL
	|| (strncmp(target, "inet:", 5) == 0 && colon && strcmp(colon, ":10023") == 0);
}

static int is_policyd_spf(const char *target)
{
    return strstr(target, "spf") != NULL;
}

/*
 * old_services - main.cf lists that still ask postgrey or policyd-spf
 * instead of mxshield (whose own target, mine, is never reported)
 */
static int old_services(const struct pf_conf *c, const char *mine)
{
    int     n = 0;

    for (size_t i = 0; i < c->n; i++) {
	struct strlist l;

	words(c->v[i].value, &l);
	for (size_t j = 0; j + 1 < l.n; j++) {
	    const char *t = l.v[j + 1];
	    char    what[1024], fix[1024];

	    if (strcmp(l.v[j], "check_policy_service") != 0 || strcasecmp(t, mine) == 0)
		continue;
	    if (is_postgrey(t)) {
		snprintf(what, sizeof(what), "main.cf line %d: %s: check_policy_service %s "
			 "still asks postgrey", c->v[i].line, c->v[i].name, t);
		snprintf(fix, sizeof(fix), "replace it by check_policy_service %s and put "
			 "greylist in mxshield's recipient_restrictions, then stop postgrey "
			 "(systemctl disable --now postgrey)", mine);
		n += finding(what, fix);
	    } else if (is_policyd_spf(t)) {
		snprintf(what, sizeof(what), "main.cf line %d: %s: check_policy_service %s "
			 "still asks policyd-spf", c->v[i].line, c->v[i].name, t);
		snprintf(fix, sizeof(fix), "remove it (mxshield at check_policy_service %s "
			 "does SPF) and put check_spf in mxshield's recipient_restrictions",
			 mine);
		n += finding(what, fix);
	    }
	}
	strlist_free(&l);
    }
    return n;
}

/* pf_lookup - mac_expand() callback: main.cf's value, or Postfix's default */
struct pf_expand {
    const struct pf_conf *c;
    const struct config *mx;
};

static const char *pf_lookup(const char *name, void *ctx)
{
    struct pf_expand *x = ctx;
    const char *v = pf_get(x->c, name);

    if (v)
	return v;
    /* the defaults a mydestination or mynetworks value may refer to */
    if (strcmp(name, "myhostname") == 0)
	return config_str(x->mx, P_MYHOSTNAME);
    if (strcmp(name, "mydomain") == 0)
	return config_str(x->mx, P_MYDOMAIN);
    if (strcmp(name, "myorigin") == 0)
	return "$myhostname";
    return NULL;
}

/* same_set - two lists hold the same words, in any order and case */
static int same_set(const char *a, const char *b)
{
    struct strlist x, y;
    int     same = 1;

    words(a, &x);
    words(b, &y);
    for (size_t i = 0; i < x.n && same; i++)
	same = find_word(&y, x.v[i]) >= 0;
    for (size_t i = 0; i < y.n && same; i++)
	same = find_word(&x, y.v[i]) >= 0;
    strlist_free(&x);
    strlist_free(&y);
    return same;
}

/*
 * compare_domains - mxshield.conf's mydestination, relay_domains and
 * mynetworks against main.cf's (Postfix's default when main.cf has none,
 * except mynetworks, which Postfix computes from the interfaces)
 */
static int compare_domains(const struct pf_conf *c, const struct config *mx)
{
    static const struct {
	enum param_id id;
	const char *pf_default;
    } params[] = {
	{P_MYDEST, "$myhostname, localhost.$mydomain, localhost"},
	{P_RELAY_DOMAINS, ""},
	{P_MYNETWORKS, NULL},
    };
    struct pf_expand ctx = {c, mx};
    struct mac_expander x = {pf_lookup, &ctx, MAC_EXP_RECURSE, 20, 65536, "parameter"};
    int     n = 0;

    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
	const char *name = param_table[params[i].id].name;
	const char *pf = pf_get(c, name);
	struct buf pfv, what, fix;

	if (pf == NULL && (pf = params[i].pf_default) == NULL)
	    continue;
	buf_init(&pfv);
	if (mac_expand(&pfv, pf, &x, NULL) == MAC_OK
	    && !same_set(pfv.s, config_str(mx, params[i].id))) {
	    buf_init(&what);
	    buf_init(&fix);
	    buf_printf(&what, "%s: mxshield.conf (%s) has \"%s\", main.cf has \"%s\": "
		       "mxshield's %s decide otherwise than Postfix", name,
		       config_where(mx, params[i].id), config_str(mx, params[i].id), pfv.s,
		       params[i].id == P_MYNETWORKS ? "permit_mynetworks"
		       : "reject_unauth_destination and permit_auth_destination");
	    buf_printf(&fix, "%s = %s in mxshield.conf", name, pfv.s);
	    n += finding(what.s, fix.s);
	    buf_free(&what);
	    buf_free(&fix);
	}
	buf_free(&pfv);
    }
    return n;
}

int     postfix_config_check(const char *dir, const struct config *mx, int mx_is_file)
{
    struct pf_conf c;
    char    path[4096];
    int     open_relay = 0, n = 0;
    struct strlist relay, rcpt;
    struct buf mine;

    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    if (pf_read_main(path, &c) < 0) {
	fprintf(stderr, "mxshield postfix-config: %s: %s\n", path, strerror(errno));
	return 2;
    }
    const char *relay_v = pf_get(&c, "smtpd_relay_restrictions");
    const char *main_relay = relay_v ? relay_v : PF_DEFAULT_RELAY;
    const char *main_rcpt = pf_get(&c, "smtpd_recipient_restrictions");

    words(main_relay, &relay);
    words(main_rcpt, &rcpt);
    int     g1 = relay_guarded(&relay);

    if (relay_open(main_relay, main_rcpt)) {
	open_relay = 1;
	n += finding("smtpd_relay_restrictions and smtpd_recipient_restrictions: open relay: "
		     "neither refuses relaying (reject_unauth_destination) before a permit",
		     "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
		     "reject_unauth_destination");
    }
    const char *nets = pf_get(&c, "mynetworks");

    if (nets && (strstr(nets, "0.0.0.0/0") || strstr(nets, "[::]/0") || strstr(nets, "::/0"))) {
	open_relay = 1;
	n += finding("mynetworks: open relay: it includes the whole Internet, and "
		     "permit_mynetworks lets it relay", "list only your own networks, "
		     "e.g. mynetworks = 127.0.0.0/8 [::1]/128");
    }
    /* the policy service should come after reject_unauth_destination */
    for (size_t i = 0; i < rcpt.n; i++) {
	if (strcmp(rcpt.v[i], "check_policy_service") != 0)
	    continue;
	long    r = find_word(&rcpt, "reject_unauth_destination");

	if ((r < 0 || (long) i < r) && g1 != 1) {
	    n += finding("smtpd_recipient_restrictions: check_policy_service comes before "
			 "reject_unauth_destination, so the policy service sees, and may "
			 "permit, relay attempts",
			 "put check_policy_service after reject_unauth_destination");
	}
	break;
    }
    const char *v;

    if ((v = pf_get(&c, "smtpd_helo_required")) == NULL || strcasecmp(v, "yes") != 0)
	n += finding("smtpd_helo_required: not set: clients may skip HELO/EHLO",
		     "smtpd_helo_required = yes");
    if ((v = pf_get(&c, "disable_vrfy_command")) == NULL || strcasecmp(v, "yes") != 0)
	n += finding("disable_vrfy_command: not set: VRFY lets anyone probe for addresses",
		     "disable_vrfy_command = yes");
    {
	static const char *const lists[] = {"smtpd_client_restrictions", "smtpd_helo_restrictions",
	    "smtpd_sender_restrictions", "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions", "smtpd_data_restrictions", NULL};
	int     found = 0;

	for (int i = 0; lists[i] && !found; i++) {
	    struct strlist l;

	    words(pf_get(&c, lists[i]), &l);
	    found = find_word(&l, "reject_unauth_pipelining") >= 0;
	    strlist_free(&l);
	}
	if (!found)
	    n += finding("smtpd_data_restrictions: reject_unauth_pipelining is not used: "
			 "clients that talk before their turn (spamware) are accepted",
			 "smtpd_data_restrictions = reject_unauth_pipelining");
    }

    /* what mxshield is asked as, and what else main.cf still asks */
    buf_init(&mine);
    policy_target(config_str(mx, P_LISTEN), &mine);
    str_lower(mine.s);
    n += old_services(&c, mine.s);
    if (*config_str(mx, P_DATA_RESTR)) {
	struct strlist l;
	int     asks = 0;

	words(pf_get(&c, "smtpd_data_restrictions"), &l);
	for (size_t i = 0; i + 1 < l.n && !asks; i++)
	    asks = strcmp(l.v[i], "check_policy_service") == 0 && strcmp(l.v[i + 1], mine.s) == 0;
	strlist_free(&l);
	if (!asks) {
	    char    fix[1024];

	    snprintf(fix, sizeof(fix), "postconf -e 'smtpd_data_restrictions = "
		     "reject_unauth_pipelining, check_policy_service %s'", mine.s);
	    n += finding("smtpd_data_restrictions: mxshield.conf has data_restrictions, "
			 "but Postfix does not ask mxshield at DATA, so they never run", fix);
	}
    }
    if (mx_is_file)
	n += compare_domains(&c, mx);

    /* master.cf: -o overrides, per service, and spawned policy services */
    snprintf(path, sizeof(path), "%s/master.cf", dir);
    FILE   *fp = fopen(path, "r");

    if (fp) {
	char   *line = NULL;
	size_t  cap = 0;
	int     ln = 0, eof = 0, spf_said = 0;
	char    service[256] = "";
	struct pf_list s_relay, s_rcpt;

	memset(&s_relay, 0, sizeof(s_relay));
	memset(&s_rcpt, 0, sizeof(s_rcpt));
	s_relay.value = main_relay;
	s_rcpt.value = main_rcpt;
	while (!eof) {
	    eof = getline(&line, &cap, fp) < 0;
	    ln++;
	    if (!eof && (line[0] == '#' || line[strspn(line, " \t")] == '#'))
		continue;
	    /* a new service line (or the end) closes the previous service */
	    if (eof || !isspace((unsigned char) line[0])) {
		if (*service && service_relay_check(service, &s_relay, &s_rcpt)) {
		    open_relay = 1;
		    n++;
		}
		free((char *) (s_relay.line ? s_relay.value : NULL));
		free((char *) (s_rcpt.line ? s_rcpt.value : NULL));
		memset(&s_relay, 0, sizeof(s_relay));
		memset(&s_rcpt, 0, sizeof(s_rcpt));
		s_relay.value = main_relay;
		s_rcpt.value = main_rcpt;
		if (eof)
		    break;
		*service = 0;
		sscanf(line, "%255s", service);
		spf_said = 0;
	    }
	    /* a spawned policyd-spf: its name or its argv= (continuation line) */
	    if (!spf_said && (strstr(line, "policyd-spf") || strstr(line, "policyd_spf"))) {
		char    what[512];

		snprintf(what, sizeof(what), "master.cf line %d (%s): runs policyd-spf, "
			 "which mxshield's check_spf replaces", ln, service);
		n += finding(what, "put check_spf in mxshield's recipient_restrictions, "
			     "then remove this service and its check_policy_service");
		spf_said = 1;
	    }
	    /* every -o of the line, the service line's own included */
	    for (char *o = line; (o = strstr(o, "-o")) != NULL; o += 2) {
		if (o > line && !isspace((unsigned char) o[-1]))
		    continue;
		char    setting[1024];

		if (sscanf(o + 2, " %1023s", setting) != 1)
		    continue;
		char   *eq = strchr(setting, '=');

		if (eq == NULL || strncmp(setting, "smtpd_", 6) != 0
		    || strstr(setting, "_restrictions") == NULL)
		    continue;
		char    written[1040];

		snprintf(written, sizeof(written), "-o %s", setting);
		*eq = 0;
		char    name[256];
		const char *val = pf_value(&c, eq + 1, name, sizeof(name));
		char    what[4096];

		if (val == NULL) {
		    snprintf(what, sizeof(what), "master.cf line %d (%s): -o %s=%s names a "
			     "parameter that main.cf does not define, so the service runs "
			     "with no %s", ln, service, setting, eq + 1, setting);
		    n += finding(what, "define it in main.cf or remove the -o line");
		}
		struct pf_list *l = strcmp(setting, "smtpd_relay_restrictions") == 0 ? &s_relay
		    : strcmp(setting, "smtpd_recipient_restrictions") == 0 ? &s_rcpt : NULL;

		if (l) {
		    if (l->line)
			free((char *) l->value);
		    l->value = xstrdup(val ? val : "");
		    l->line = ln;
		    snprintf(l->setting, sizeof(l->setting), "%s", written);
		}
	    }
	}
	free(line);
	fclose(fp);
    }
    if (n == 0)
	printf("no findings\n");
    buf_free(&mine);
    strlist_free(&relay);
    strlist_free(&rcpt);
    for (size_t i = 0; i < c.n; i++) {
	free(c.v[i].name);
	free(c.v[i].value);
    }
    free(c.v);
    return open_relay ? 1 : 0;
}
