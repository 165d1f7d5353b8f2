/*
 * migrate.c - `mxshield migrate`: print the mxshield.conf lines that do
 * what an existing postgrey or postfix-policyd-spf-python configuration
 * did.
 *
 * SYNOPSIS
 *	mxshield migrate postgrey [FILE]	(default /etc/default/postgrey)
 *	mxshield migrate policyd-spf [FILE]
 *		(default /etc/postfix-policyd-spf-python/policyd-spf.conf)
 *
 * DESCRIPTION
 *	postgrey: Debian's /etc/default/postgrey is a shell fragment;
 *	POSTGREY_OPTS holds the command line options and POSTGREY_TEXT the
 *	--greylist-text.  policyd-spf.conf(5): "Name = value" lines.  Each
 *	option found becomes a comment naming it, then the parameter lines;
 *	an option without an equivalent becomes a comment saying why.
 *	Nothing is written anywhere: the output is for the administrator
 *	to read and append.
 *
 * DIAGNOSTICS
 *	Exit 0; 2 for a file that cannot be read, or a usage error.  An
 *	unknown option is printed as a comment, never dropped silently.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/migrate.h"
#include "util/lines.h"
#include "util/str.h"

#define PG_DEFAULTS	"/etc/default/postgrey"
#define SPF_DEFAULTS	"/etc/postfix-policyd-spf-python/policyd-spf.conf"

/* shell_words - split a shell word list (quotes, backslashes; no expansion) */
static void shell_words(const char *s, struct strlist *out)
{
    struct buf w;

    buf_init(&w);
    while (*s) {
	int     any = 0;

	while (*s && isspace((unsigned char) *s))
	    s++;
	buf_reset(&w);
	while (*s && !isspace((unsigned char) *s)) {
	    any = 1;
	    if (*s == '\'' || *s == '"') {
		char    q = *s++;

		while (*s && *s != q) {
		    if (q == '"' && *s == '\\' && s[1])
			s++;
		    buf_putc(&w, *s++);
		}
		if (*s)
		    s++;
	    } else if (*s == '\\' && s[1]) {
		buf_putc(&w, s[1]);
		s += 2;
	    } else {
		buf_putc(&w, *s++);
	    }
	}
	if (any)
	    strlist_add(out, w.s);
    }
    buf_free(&w);
}

/* shell_value - the value of NAME=... on a line of a shell fragment, or NULL */
static char *shell_value(const char *line, const char *name, struct buf *out)
{
    size_t  n = strlen(name);
    struct strlist words;

    while (isspace((unsigned char) *line))
	line++;
    if (strncmp(line, "export ", 7) == 0)
	line += 7;
    if (strncmp(line, name, n) != 0 || line[n] != '=')
	return NULL;
    strlist_init(&words);
    shell_words(line + n + 1, &words);
    buf_reset(out);
    if (words.n > 0)
	buf_puts(out, words.v[0]);
    strlist_free(&words);
    return out->s;
}

/* pg_takes_value - does this postgrey option take an argument? */
static int pg_takes_value(const char *name)
{
    static const char *const with[] = {
	"unix", "u", "inet", "i", "socketmode", "user", "group", "dbdir", "pidfile",
	"delay", "max-age", "ipv4cidr", "ipv6cidr", "whitelist-clients",
	"whitelist-recipients", "syslogfacility", "syslog-facility", "facility",
	"retry-window", "greylist-action", "greylist-text", "hostname",
	"listen-queue-size", "x-greylist-header",
    };

    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++)
	if (strcmp(name, with[i]) == 0)
	    return 1;
    return 0;
}

/* pg_option - the mxshield.conf lines of one postgrey option */
static void pg_option(const char *name, const char *val, struct buf *o,
		              struct strlist *wl_clients, struct strlist *wl_rcpts)
{
    if (strcmp(name, "delay") == 0) {
	buf_printf(o, "greylist_delay = %ss\n", val);
    } else if (strcmp(name, "max-age") == 0) {
	buf_printf(o, "greylist_max_age = %sd\n", val);
    } else if (strcmp(name, "retry-window") == 0) {
	size_t  n = strlen(val);

	if (n > 1 && (val[n - 1] == 'h' || val[n - 1] == 'H'))
	    buf_printf(o, "greylist_retry_window = %.*sh\n", (int) (n - 1), val);
	else
	    buf_printf(o, "greylist_retry_window = %sd\n", val);
    } else if (strcmp(name, "auto-whitelist-clients") == 0) {
	buf_printf(o, "greylist_auto_whitelist_clients = %s\n", *val ? val : "5");
    } else if (strcmp(name, "lookup-by-subnet") == 0) {
	buf_puts(o, "greylist_lookup_by_host = no\n");
    } else if (strcmp(name, "lookup-by-host") == 0) {
	buf_puts(o, "greylist_lookup_by_host = yes\n");
    } else if (strcmp(name, "ipv4cidr") == 0) {
	buf_printf(o, "greylist_ipv4_prefix = %s\n", val);
    } else if (strcmp(name, "ipv6cidr") == 0) {
	buf_printf(o, "greylist_ipv6_prefix = %s\n", val);
    } else if (strcmp(name, "privacy") == 0) {
	buf_puts(o, "greylist_privacy = yes\n");
    } else if (strcmp(name, "whitelist-clients") == 0) {
	strlist_add(wl_clients, val);
	buf_puts(o, "# (greylist_whitelist_clients below)\n");
    } else if (strcmp(name, "whitelist-recipients") == 0) {
	strlist_add(wl_rcpts, val);
	buf_puts(o, "# (greylist_whitelist_recipients below)\n");
    } else if (strcmp(name, "greylist-text") == 0) {
	buf_printf(o, "greylist_text = %s\n", val);
    } else if (strcmp(name, "greylist-action") == 0) {
	if (strcasecmp(val, "DEFER_IF_PERMIT") == 0 || strcasecmp(val, "DEFER") == 0) {
	    struct buf l;

	    buf_init(&l);
	    buf_puts(&l, val);
	    str_lower(l.s);
	    buf_printf(o, "greylist_action = %s\n", l.s);
	    buf_free(&l);
	} else {
	    buf_puts(o, "# no equivalent: greylist_action is defer_if_permit or defer\n");
	}
    } else if (strcmp(name, "x-greylist-header") == 0) {
	buf_printf(o, "greylist_header = %s\n", val);
    } else if (strcmp(name, "inet") == 0 || strcmp(name, "i") == 0) {
	const char *colon = strrchr(val, ':');

	if (colon == NULL)		/* postgrey binds localhost then */
	    buf_printf(o, "listen = inet:127.0.0.1:%s\n", val);
	else if (strncmp(val, "localhost:", 10) == 0)
	    buf_printf(o, "listen = inet:127.0.0.1:%s\n", colon + 1);
	else
	    buf_printf(o, "listen = inet:%s\n", val);
    } else if (strcmp(name, "unix") == 0 || strcmp(name, "u") == 0) {
	buf_printf(o, "listen = unix:%s\n", val);
    } else if (strcmp(name, "socketmode") == 0) {
	buf_printf(o, "unix_socket_mode = %s\n", val);
    } else if (strcmp(name, "user") == 0) {
	buf_printf(o, "user = %s\n", val);
    } else if (strcmp(name, "group") == 0) {
	buf_puts(o, "# no equivalent: mxshield runs with the user's own group (user)\n");
    } else if (strcmp(name, "dbdir") == 0) {
	buf_printf(o, "# keep data_directory; import the old database with:\n"
		   "#   mxshield greylist import-postgrey %s\n", val);
    } else if (strcmp(name, "hostname") == 0) {
	buf_printf(o, "# the X-Greylist header's %%h is myhostname:\nmyhostname = %s\n", val);
    } else if (strcmp(name, "syslogfacility") == 0 || strcmp(name, "syslog-facility") == 0
	       || strcmp(name, "facility") == 0) {
	buf_puts(o, "# no equivalent: log_destination = syslog logs to the mail facility\n");
    } else if (strcmp(name, "daemonize") == 0 || strcmp(name, "d") == 0
	       || strcmp(name, "pidfile") == 0) {
	buf_puts(o, "# not needed: mxshield runs in the foreground under systemd\n");
    } else if (strcmp(name, "verbose") == 0 || strcmp(name, "v") == 0
	       || strcmp(name, "quiet") == 0 || strcmp(name, "q") == 0) {
	buf_puts(o, "# no equivalent: verbosity is mxshield -v\n");
    } else if (strcmp(name, "listen-queue-size") == 0) {
	buf_puts(o, "# no equivalent: the listen queue is the system's maximum\n");
    } else if (strcmp(name, "exim") == 0) {
	buf_puts(o, "# no equivalent: mxshield answers Postfix's policy protocol, "
		 "one request or many per connection\n");
    } else {
	buf_puts(o, "# unknown postgrey option: not converted\n");
    }
}

/* list_line - "name = a, b" */
static void list_line(struct buf *o, const char *name, const struct strlist *l)
{
    buf_printf(o, "%s = ", name);
    for (size_t i = 0; i < l->n; i++)
	buf_printf(o, "%s%s", i ? ", " : "", l->v[i]);
    buf_putc(o, '\n');
}

/* migrate_postgrey - the lines for Debian's /etc/default/postgrey */
static int migrate_postgrey(const char *path, FILE *out)
{
    struct lines l;
    struct strlist words, wl_clients, wl_rcpts;
    struct buf opts, text, v, o;
    char   *line;
    int     lineno, have_text = 0;

    if (lines_open(&l, path, 0) < 0) {
	fprintf(stderr, "mxshield migrate: %s: %s\n", path, strerror(errno));
	return 2;
    }
    buf_init(&opts);
    buf_init(&text);
    buf_init(&v);
    while (lines_next(&l, &line, &lineno) > 0) {
	if (shell_value(line, "POSTGREY_OPTS", &v)) {
	    buf_reset(&opts);
	    buf_puts(&opts, v.s);
	} else if (shell_value(line, "POSTGREY_TEXT", &v)) {
	    buf_reset(&text);
	    buf_puts(&text, v.s);
	    have_text = *v.s != 0;
	}
    }
    lines_close(&l);

    strlist_init(&words);
    strlist_init(&wl_clients);
    strlist_init(&wl_rcpts);
    buf_init(&o);
    shell_words(opts.s, &words);
    buf_printf(&o, "# mxshield.conf lines for postgrey's options in %s\n", path);
    for (size_t i = 0; i < words.n; i++) {
	const char *w = words.v[i];
	const char *name, *eq, *val = "";
	struct buf nm;

	if (w[0] != '-' || w[1] == 0) {
	    buf_printf(&o, "# %s: not an option: not converted\n", w);
	    continue;
	}
	name = w[1] == '-' ? w + 2 : w + 1;
	buf_init(&nm);
	if ((eq = strchr(name, '=')) != NULL) {
	    buf_append(&nm, name, (size_t) (eq - name));
	    val = eq + 1;
	} else {
	    buf_puts(&nm, name);
	    if (pg_takes_value(nm.s) && i + 1 < words.n)
		val = words.v[++i];
	}
	if (eq || *val)
	    buf_printf(&o, "# %s%s%s%s\n", w[1] == '-' ? "--" : "-", nm.s,
		       nm.len > 1 ? "=" : " ", val);
	else
	    buf_printf(&o, "# %s\n", w);
	pg_option(nm.s, val, &o, &wl_clients, &wl_rcpts);
	buf_free(&nm);
    }
    if (have_text)
	buf_printf(&o, "# POSTGREY_TEXT\ngreylist_text = %s\n", text.s);

    /* postgrey reads its whitelists even when no option names them */
    if (wl_clients.n == 0) {
	strlist_add(&wl_clients, "/etc/postgrey/whitelist_clients");
	strlist_add(&wl_clients, "/etc/postgrey/whitelist_clients.local");
    }
    if (wl_rcpts.n == 0) {
	strlist_add(&wl_rcpts, "/etc/postgrey/whitelist_recipients");
	strlist_add(&wl_rcpts, "/etc/postgrey/whitelist_recipients.local");
    }
    buf_puts(&o, "# postgrey's whitelist files, read in postgrey's format\n");
    list_line(&o, "greylist_whitelist_clients", &wl_clients);
    list_line(&o, "greylist_whitelist_recipients", &wl_rcpts);
    buf_puts(&o, "# postgrey keyed on the client network only; mxshield keys on the sender's\n"
	     "# domain instead when check_spf passed it earlier in the same list\n"
	     "# (greylist_spf_key = no keeps postgrey's keys)\n");
    buf_puts(&o, "# greylisting applies where a restriction list names it, where main.cf\n"
	     "# had check_policy_service for postgrey, e.g.\n"
	     "# recipient_restrictions = permit_mynetworks, reject_unauth_destination, greylist\n");
    fputs(o.s, out);
    buf_free(&o);
    buf_free(&opts);
    buf_free(&text);
    buf_free(&v);
    strlist_free(&words);
    strlist_free(&wl_clients);
    strlist_free(&wl_rcpts);
    return 0;
}

/* spf_bool - policyd-spf's True/False/1/0 as yes/no; NULL if neither */
static const char *spf_bool(const char *v)
{
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
	return "yes";
    if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
	return "no";
    return NULL;
}

/* spf_lower_line - "name = value in lower case" if value is one of allowed */
static void spf_choice(struct buf *o, const char *param, const char *val,
		               const char *const *allowed)
{
    for (; *allowed; allowed++) {
	if (strcasecmp(val, *allowed) == 0) {
	    buf_printf(o, "%s = %s\n", param, *allowed);
	    return;
	}
    }
    buf_printf(o, "# \"%s\": not a value mxshield knows for %s: not converted\n", val, param);
}

/* spf_option - the mxshield.conf lines of one policyd-spf.conf setting */
static void spf_option(const char *name, const char *val, struct buf *o)
{
    static const char *const helo[] = {
	"fail", "softfail", "spf_not_pass", "null", "false", "no_check", NULL,
    };
    static const char *const mail[] = {
	"fail", "softfail", "spf_not_pass", "false", "no_check", NULL,
    };
    static const char *const hdr[] = {"spf", "ar", "none", NULL};
    static const struct {
	const char *name, *param;
    } lists[] = {
	{"skip_addresses", "spf_skip_addresses"},
	{"Mail_From_pass_restriction", "spf_mail_from_pass_restriction"},
	{"HELO_pass_restriction", "spf_helo_pass_restriction"},
	{"Whitelist", "spf_whitelist"},
	{"HELO_Whitelist", "spf_helo_whitelist"},
	{"Domain_Whitelist", "spf_domain_whitelist"},
	{"Domain_Whitelist_PTR", "spf_domain_whitelist_ptr"},
	{"Reject_Not_Pass_Domains", "spf_reject_not_pass_domains"},
    };
    static const struct {
	const char *name, *why;
    } none[] = {
	{"debugLevel", "verbosity is mxshield -v"},
	{"Void_Limit", "mxshield applies RFC 7208's limit of two void lookups"},
	{"Mock", "for policyd-spf's own tests"},
	{"Prospective", "mxshield checks the client that connected"},
	{"Hide_Receiver", "not needed: the headers name this host (myhostname) as the "
	 "receiver, never a recipient's domain"},
	{"No_Mail", "not supported: it rejects only for v=spf1 -all; "
	 "spf_mail_from_reject = fail rejects those and every other fail"},
    };

    if (strcasecmp(name, "HELO_reject") == 0) {
	spf_choice(o, "spf_helo_reject", val, helo);
    } else if (strcasecmp(name, "Mail_From_reject") == 0) {
	spf_choice(o, "spf_mail_from_reject", val, mail);
    } else if (strcasecmp(name, "PermError_reject") == 0
	       || strcasecmp(name, "TempError_Defer") == 0) {
	const char *b = spf_bool(val);
	const char *p = strcasecmp(name, "PermError_reject") == 0 ?
	    "spf_permerror_reject" : "spf_temperror_defer";

	if (b)
	    buf_printf(o, "%s = %s\n", p, b);
	else
	    buf_printf(o, "# \"%s\" is neither True nor False: not converted\n", val);
    } else if (strcasecmp(name, "TestOnly") == 0) {
	if (strcmp(val, "1") == 0)
	    buf_puts(o, "# normal operation: nothing to convert\n");
	else
	    buf_puts(o, "# test mode: dry_run = yes logs each reject instead of answering it\n"
		     "dry_run = yes\n");
    } else if (strcasecmp(name, "SPF_Enhanced_Status_Codes") == 0) {
	/* policyd-spf turns them off only for exactly "No" */
	buf_printf(o, "spf_enhanced_status_codes = %s\n", strcmp(val, "No") == 0 ? "no" : "yes");
    } else if (strcasecmp(name, "Header_Type") == 0) {
	spf_choice(o, "spf_header_type", val, hdr);
    } else if (strcasecmp(name, "Authserv_Id") == 0) {
	buf_printf(o, "# the Authentication-Results authserv-id is myhostname:\n"
		   "myhostname = %s\n", val);
    } else if (strcasecmp(name, "Lookup_Time") == 0) {
	buf_printf(o, "# the longest wait for one DNS answer\ndns_timeout = %ss\n", val);
    } else {
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
	    if (strcasecmp(name, lists[i].name) == 0) {
		if (strstr(lists[i].param, "_pass_restriction"))
		    buf_printf(o, "# define the class %s in mxshield.conf too "
			       "(smtpd_restriction_classes), as in main.cf\n", val);
		buf_printf(o, "%s = %s\n", lists[i].param, val);
		return;
	    }
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
	    if (strcasecmp(name, none[i].name) == 0) {
		buf_printf(o, "# no equivalent: %s\n", none[i].why);
		return;
	    }
	}
	buf_puts(o, "# unknown policyd-spf option: not converted\n");
    }
}

/* migrate_policyd_spf - the lines for policyd-spf.conf(5) */
static int migrate_policyd_spf(const char *path, FILE *out)
{
    struct lines l;
    struct buf o;
    char   *line;
    int     lineno;

    if (lines_open(&l, path, 0) < 0) {
	fprintf(stderr, "mxshield migrate: %s: %s\n", path, strerror(errno));
	return 2;
    }
    buf_init(&o);
    buf_printf(&o, "# mxshield.conf lines for the settings in %s\n", path);
    while (lines_next(&l, &line, &lineno) > 0) {
	char   *s = str_trim(line), *eq;

	if (*s == 0 || *s == '#')
	    continue;
	if ((eq = strchr(s, '=')) == NULL) {
	    buf_printf(&o, "# line %d: \"%s\" is not Name = value: not converted\n", lineno, s);
	    continue;
	}
	*eq = 0;
	char   *name = str_trim(s), *val = str_trim(eq + 1);

	buf_printf(&o, "# %s = %s\n", name, val);
	spf_option(name, val, &o);
    }
    lines_close(&l);
    buf_puts(&o, "# SPF is checked where a restriction list names check_spf, where main.cf\n"
	     "# had check_policy_service for policyd-spf, e.g.\n"
	     "# recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_spf\n");
    fputs(o.s, out);
    buf_free(&o);
    return 0;
}

int     cmd_migrate(int argc, char **argv)
{
    if (argc >= 1 && argc <= 2 && strcmp(argv[0], "postgrey") == 0)
	return migrate_postgrey(argc == 2 ? argv[1] : PG_DEFAULTS, stdout);
    if (argc >= 1 && argc <= 2 && strcmp(argv[0], "policyd-spf") == 0)
	return migrate_policyd_spf(argc == 2 ? argv[1] : SPF_DEFAULTS, stdout);
    fprintf(stderr, "usage: mxshield migrate postgrey [FILE] | policyd-spf [FILE]\n");
    return 2;
}
