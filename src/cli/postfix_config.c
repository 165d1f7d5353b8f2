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

void    postfix_config_print(const struct config *c, const char *socket, FILE *fp)
{
    struct buf t;

    buf_init(&t);
    /* a socket inside Postfix's queue directory is named relative to it,
     * which is what a chrooted smtpd can reach */
    policy_target(socket ? socket : config_str(c, P_LISTEN), &t);
    fprintf(fp,
	    "# --- main.cf: add (postconf -e), or merge with your own lists ---\n"
	    "# The policy service comes after permit_sasl_authenticated and\n"
	    "# reject_unauth_destination, so it never sees (or permits) relaying.\n"
	    "smtpd_relay_restrictions =\n"
	    "    permit_mynetworks,\n"
	    "    permit_sasl_authenticated,\n"
	    "    reject_unauth_destination\n"
	    "smtpd_recipient_restrictions =\n"
	    "    permit_mynetworks,\n"
	    "    permit_sasl_authenticated,\n"
	    "    reject_unauth_destination,\n"
	    "    check_policy_service %s\n"
	    "# Only Postfix can see pipelining: keep this check in Postfix.\n"
	    "smtpd_data_restrictions = reject_unauth_pipelining\n"
	    "smtpd_helo_required = yes\n"
	    "disable_vrfy_command = yes\n"
	    "# When mxshield cannot answer: a temporary error, never a pass.\n"
	    "smtpd_policy_service_default_action = 451 4.3.5 Server configuration problem\n"
	    "smtpd_policy_service_timeout = 100s\n"
	    "smtpd_policy_service_max_idle = 300s\n"
	    "smtpd_policy_service_max_ttl = 1000s\n"
	    "smtpd_policy_service_try_limit = 2\n"
	    "smtpd_policy_service_retry_delay = 1s\n"
	    "#\n"
	    "# --- master.cf: nothing to add ---\n"
	    "# mxshield is its own service (etc/mxshield.service), not spawned by\n"
	    "# master(8).  On submission/smtps, \"-o smtpd_*_restrictions=\" overrides\n"
	    "# must name parameters defined in main.cf (mua_*_restrictions), or the\n"
	    "# service runs without those restrictions.\n", t.s);
    buf_free(&t);
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

int     postfix_config_check(const char *dir)
{
    struct pf_conf c;
    char    path[4096];
    int     open_relay = 0, n = 0;
    struct strlist relay, rcpt;

    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    if (pf_read_main(path, &c) < 0) {
	fprintf(stderr, "mxshield postfix-config: %s: %s\n", path, strerror(errno));
	return 2;
    }
    const char *relay_v = pf_get(&c, "smtpd_relay_restrictions");

    /* Postfix >= 2.10's default relay list refuses relaying */
    words(relay_v ? relay_v : "permit_mynetworks, permit_sasl_authenticated, "
	  "defer_unauth_destination", &relay);
    words(pf_get(&c, "smtpd_recipient_restrictions"), &rcpt);
    int     g1 = relay_guarded(&relay), g2 = relay_guarded(&rcpt);

    if (g1 != 1 && g2 != 1) {
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

    /* master.cf: -o overrides of the restrictions */
    snprintf(path, sizeof(path), "%s/master.cf", dir);
    FILE   *fp = fopen(path, "r");

    if (fp) {
	char   *line = NULL;
	size_t  cap = 0;
	int     ln = 0;
	char    service[256] = "";

	while (getline(&line, &cap, fp) >= 0) {
	    ln++;
	    if (line[0] == '#' || line[strspn(line, " \t")] == '#')
		continue;
	    if (!isspace((unsigned char) line[0]))
		sscanf(line, "%255s", service);
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
		*eq = 0;
		const char *val = eq + 1;
		char    what[4096];

		if (*val == '$') {
		    char    name[256] = "";
		    const char *why;

		    (void) mac_parse(val, strlen(val), first_name, name, &why);
		    if (pf_get(&c, name) == NULL) {
			snprintf(what, sizeof(what), "master.cf line %d (%s): -o %s=%s names a "
				 "parameter that main.cf does not define, so the service runs "
				 "with no %s", ln, service, setting, val, setting);
			n += finding(what, "define it in main.cf or remove the -o line");
		    }
		    continue;
		}
		struct strlist l;

		words(val, &l);
		if ((strcmp(setting, "smtpd_relay_restrictions") == 0
		     || strcmp(setting, "smtpd_recipient_restrictions") == 0)
		    && relay_guarded(&l) == 0) {
		    snprintf(what, sizeof(what), "master.cf line %d (%s): -o %s=%s: open relay: "
			     "this service permits before refusing relaying", ln, service, setting, val);
		    open_relay = 1;
		    n += finding(what, "permit only authenticated clients: "
				 "permit_sasl_authenticated,reject");
		}
		strlist_free(&l);
	    }
	}
	free(line);
	fclose(fp);
    }
    if (n == 0)
	printf("no findings\n");
    strlist_free(&relay);
    strlist_free(&rcpt);
    for (size_t i = 0; i < c.n; i++) {
	free(c.v[i].name);
	free(c.v[i].value);
    }
    free(c.v);
    return open_relay ? 1 : 0;
}
