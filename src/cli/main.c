/*
 * main.c - the mxshield command: serve (default), check, config, map, status.
 *
 * SYNOPSIS
 *	mxshield [serve] [-c FILE | --embedded-default] [-o name=value] [-v]
 *	mxshield check [-c FILE | --embedded-default] [-o name=value] [--json] [name=value ...]
 *	mxshield config [-c FILE | --embedded-default] [-o name=value] [-d]
 *	mxshield map query TYPE:NAME KEY...
 *	mxshield migrate postgrey|policyd-spf [FILE]
 *	mxshield report [-c FILE] [--since TIME] [LOGFILE]
 *
 * Without -c, /etc/mxshield/mxshield.conf (or the file $MXSHIELD_CONFIG
 * names, as Postfix's MAIL_CONFIG does) is read when it exists, else the
 * embedded default configuration is used; --embedded-default uses the
 * embedded default whatever exists (make run).  serve's first log line
 * says which and why.  -o settings win over the file, on reloads too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ban/source.h"
#include "cli/ban_cmd.h"
#include "cli/check.h"
#include "cli/dkim_cmd.h"
#include "cli/domain_check.h"
#include "cli/relay_test.h"
#include "cli/greylist_cmd.h"
#include "cli/load.h"
#include "cli/migrate.h"
#include "cli/postfix_config.h"
#include "cli/report_cmd.h"
#include "cli/spf_cmd.h"
#include "util/version.h"
#include "conf/config.h"
#include "maps/map.h"
#include "control/control.h"
#include "milter/milter.h"
#include "cli/dmarc_cmd.h"
#include "http/http.h"
#include "daemon/daemon.h"
#include "policy/service.h"
#include "rules/engine.h"
#include "rules/policy.h"
#include "util/log.h"
#include "util/mem.h"

#define DEFAULT_CONFIG	"/etc/mxshield/mxshield.conf"

/* usage_to - print the synopsis and exit: 0 when asked for (--help), else 2 */
static void usage_to(int status)
{
    fprintf(status == 0 ? stdout : stderr,
	    "usage: mxshield [serve] [-c FILE | --embedded-default] [-o name=value] [-v]\n"
	    "       mxshield check [-c FILE | --embedded-default] [-o name=value] [--json]\n"
	    "                      [name=value ...]\n"
	    "       mxshield config [-c FILE | --embedded-default] [-o name=value] [-d]\n"
	    "       mxshield map query TYPE:NAME KEY...\n"
	    "       mxshield greylist [-c FILE] list [--client A] [--sender S] [--recipient R]\n"
	    "       mxshield greylist [-c FILE] stats | purge [--all]\n"
	    "       mxshield greylist [-c FILE] whitelist add|del ADDR|NET/LEN | whitelist list\n"
	    "       mxshield greylist [-c FILE] import-postgrey POSTGREY_DBDIR\n"
	    "       mxshield greylist [-c FILE] migrate --to redis|lmdb\n"
	    "       mxshield migrate postgrey [/etc/default/postgrey]\n"
	    "       mxshield migrate policyd-spf [policyd-spf.conf]\n"
	    "       mxshield postfix-config [-c FILE] [--socket inet:HOST:PORT|unix:PATH]\n"
	    "       mxshield postfix-config [-c FILE] --check POSTFIX_CONFIG_DIR\n"
	    "       mxshield dkim [-c FILE] [--resolver HOST:PORT] [--json] [--trace] [MESSAGE]\n"
	    "       mxshield dkim keygen DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--dir DIR]\n"
	    "       mxshield dkim sign [-c FILE] [MESSAGE]\n"
	    "       mxshield dkim arc-seal [-c FILE] [--resolver HOST:PORT] [MESSAGE]\n"
	    "       mxshield domain [-c FILE] check DOMAIN [--resolver HOST:PORT] [--address IP]... [--json]\n"
	    "       mxshield relay-test [-c FILE] HOST[:PORT] [--domain OURS] [--target DOMAIN] [--helo NAME]\n"
	    "       mxshield spf [-c FILE] --ip ADDR --sender ADDR --helo NAME [--receiver NAME]\n"
	    "                    [--resolver HOST:PORT] [--helo-identity] [--json] [--trace]\n"
	    "       mxshield dmarc [-c FILE] [--resolver HOST:PORT] --ip ADDR --helo NAME\n"
	    "                      --mailfrom ADDR [--json] [--trace] [MESSAGE]\n"
	    "       mxshield status [-c FILE | --embedded-default] [-o name=value]\n"
	    "       mxshield ban [-c FILE] scan [--json] [LOGFILE]\n"
	    "       mxshield ban [-c FILE] follow [--json] [--state FILE] [--from-start]\n"
	    "                    LOGFILE | --journal [--unit UNIT]...\n"
	    "       mxshield ban [-c FILE] list [--json] | stats\n"
	    "       mxshield ban [-c FILE] add|del ADDR|NET/LEN [--time DURATION]\n"
	    "       mxshield report [-c FILE] [--since TIME] [LOGFILE]\n");
    exit(status);
}

/* usage - a usage error: the synopsis on stderr, exit 2 */
static void usage(void)
{
    usage_to(2);
}

/* wants_help - is --help or -h among the arguments? */
static int wants_help(int argc, char **argv)
{
    /* the keys of map query are data, not options */
    if (argc > 2 && strcmp(argv[1], "map") == 0)
	argc = 3;
    for (int i = 1; i < argc; i++)
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
	    return 1;
    return 0;
}

/* take_config - remove "-c FILE" (or --config FILE) wherever it is among
 * argv[1..]; the FILE, or NULL */
static const char *take_config(int *argc, char **argv)
{
    const char *path = NULL;
    int     i = 1, j = 1;

    while (i < *argc) {
	if (i + 1 < *argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)) {
	    path = argv[i + 1];
	    i += 2;
	} else {
	    argv[j++] = argv[i++];
	}
    }
    *argc = j;
    argv[j] = NULL;
    return path;
}

/* The file used without -c, when it exists. */
static const char *standard_config(void)
{
    const char *env = getenv("MXSHIELD_CONFIG");

    return env && *env ? env : DEFAULT_CONFIG;
}

static int use_embedded;			/* --embedded-default */
static char choice_why[512];			/* how choose_config() chose */

/* choose_config - -c FILE; else --embedded-default; else the standard
 * file if present; else NULL (the embedded default) */
static const char *choose_config(const char *given)
{
    const char *std = standard_config();

    if (given && use_embedded)
	msg_fatal("-c %s and --embedded-default: choose one", given);
    if (given) {
	snprintf(choice_why, sizeof(choice_why), "%s (-c)", given);
	return given;
    }
    if (use_embedded) {
	snprintf(choice_why, sizeof(choice_why), "embedded default (--embedded-default)");
	return NULL;
    }
    if (access(std, F_OK) == 0) {
	snprintf(choice_why, sizeof(choice_why), "%s (found, no -c given;"
		 " --embedded-default uses the embedded default)", std);
	return std;
    }
    snprintf(choice_why, sizeof(choice_why), "embedded default (no -c, no %s)", std);
    return NULL;
}

/* config_option - the options every configuration-reading command takes;
 * 1 taken, 0 not one of them */
static int config_option(int ch, const char **path)
{
    switch (ch) {
    case 'c':
	*path = optarg;
	return 1;
    case 'E':
	use_embedded = 1;
	return 1;
    case 'o':
	if (strchr(optarg, '=') == NULL)
	    msg_fatal("-o %s: expected name=value", optarg);
	config_override(optarg);
	return 1;
    }
    return 0;
}

/* cmd_serve - run the policy service */
static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
	{"embedded-default", no_argument, NULL, 'E'},
	{NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int     ch;

    while ((ch = getopt_long(argc, argv, "c:o:v", opts, NULL)) != -1) {
	if (config_option(ch, &path))
	    continue;
	if (ch != 'v')
	    usage();
	log_set_verbose(msg_verbose + 1);
    }
    if (optind != argc)
	usage();
    path = choose_config(path);
    struct policy *pol = load_policy(path);

    if (strcmp(config_str(pol->conf, P_LOG_DEST), "syslog") == 0)
	log_init(config_str(pol->conf, P_SYSLOG_NAME), 1);
    else if (strcmp(config_str(pol->conf, P_LOG_DEST), "stderr") == 0)
	log_init(config_str(pol->conf, P_SYSLOG_NAME), 0);
    else
	msg_fatal("%s: log_destination: \"%s\" is neither stderr nor syslog",
		  config_where(pol->conf, P_LOG_DEST), config_str(pol->conf, P_LOG_DEST));
    log_set_service("policy");
    msg_info("configuration: %s", choice_why);
    struct daemon *d = daemon_new(path, pol);

    policy_service_attach(d);
    ban_source_attach(d);
    milter_service_attach(d);
    control_attach(d);
    http_attach(d);
    return daemon_run(d);
}

/* cmd_check - evaluate one request and explain it */
static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
	{"json", no_argument, NULL, 'j'},
	{"config", required_argument, NULL, 'c'},
	{"embedded-default", no_argument, NULL, 'E'},
	{NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int     json = 0, ch;
    struct request req;
    struct trace trace;

    while ((ch = getopt_long(argc, argv, "c:o:j", opts, NULL)) != -1) {
	if (config_option(ch, &path))
	    continue;
	if (ch != 'j')
	    usage();
	json = 1;
    }
    path = choose_config(path);
    log_set_service("check");
    struct policy *pol = load_policy(path);

    request_init(&req);
    if (optind < argc) {
	for (int i = optind; i < argc; i++)
	    if (request_add_line(&req, argv[i], strlen(argv[i])) < 0)
		msg_fatal("expected name=value, got \"%s\"", argv[i]);
    } else {
	char    err[256];

	if (check_read_request(stdin, &req, err, sizeof(err)) < 0)
	    msg_fatal("%s", err);
    }
    trace_init(&trace);
    char   *action = check_evaluate(pol, &req.txn, &trace);

    check_print(stdout, action, &trace, json);
    free(action);
    trace_free(&trace);
    request_free(&req);
    policy_unref(pol);
    return 0;
}

/* cmd_config - postconf -n / -d */
static int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
	{"embedded-default", no_argument, NULL, 'E'},
	{NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int     defaults = 0, ch;

    while ((ch = getopt_long(argc, argv, "c:o:d", opts, NULL)) != -1) {
	if (config_option(ch, &path))
	    continue;
	if (ch != 'd')
	    usage();
	defaults = 1;
    }
    path = choose_config(path);
    struct policy *pol = load_policy(path);

    config_print(pol->conf, stdout, defaults);
    policy_unref(pol);
    return 0;
}

/* cmd_map - map query TYPE:NAME KEY...: postmap -q */
static int cmd_map(int argc, char **argv)
{
    char    err[512];
    struct map *m;
    int     status = 1;

    if (argc < 4 || strcmp(argv[1], "query") != 0)
	usage();
    if ((m = map_open(argv[2], err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 2;			/* like a lookup error, not "not found" */
    }
    for (int i = 3; i < argc; i++) {
	const char *value;

	switch (map_get(m, argv[i], &value)) {
	case MAP_FOUND:
	    if (argc > 4)
		printf("%s\t%s\n", argv[i], value);
	    else
		printf("%s\n", value);
	    if (status == 1)
		status = 0;
	    break;
	case MAP_NOTFOUND:
	    break;
	case MAP_ERROR:
	    msg_warn("%s: lookup error for \"%s\"", argv[2], argv[i]);
	    status = 2;
	    break;
	}
    }
    map_free(m);
    return status;
}

/* cmd_greylist_main - mxshield greylist [-c FILE] ... (-c anywhere) */
static int cmd_greylist_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("greylist");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_greylist(pol, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_ban_main - mxshield ban [-c FILE] SUBCOMMAND ... (-c anywhere) */
static int cmd_ban_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);

    log_set_service("ban");
    return cmd_ban(choose_config(path), argc - 1, argv + 1);
}

/* cmd_postfix_config - mxshield postfix-config [-c FILE] [--socket S] [--check DIR] */
static int cmd_postfix_config(int argc, char **argv)
{
    const char *path = NULL, *socket = NULL, *check = NULL;

    for (int i = 1; i < argc; i++) {
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0)
	    path = argv[++i];
	else if (i + 1 < argc && strcmp(argv[i], "--socket") == 0)
	    socket = argv[++i];
	else if (i + 1 < argc && strcmp(argv[i], "--check") == 0)
	    check = argv[++i];
	else
	    usage();
    }
    path = choose_config(path);
    if (check) {
	struct buf err;
	struct config *mx;
	int     rc;

	/* the configuration alone: its tables need not open here */
	buf_init(&err);
	if ((mx = config_load(path, &err)) == NULL) {
	    fprintf(stderr, "mxshield postfix-config: %s\n", err.s);
	    return 2;
	}
	buf_free(&err);
	rc = postfix_config_check(check, mx, path != NULL);
	config_free(mx);
	return rc;
    }
    struct policy *pol = load_policy(path);

    postfix_config_print(pol->conf, socket, stdout);
    policy_unref(pol);
    return 0;
}

/* cmd_status - mxshield status [-c FILE | --embedded-default] [-o n=v]: ask the running daemon */
static int cmd_status(int argc, char **argv)
{
    const char *path = NULL;
    struct config *conf;
    struct buf out, err;
    const char *sock;
    int     ch;

    static const struct option opts[] = {
	{"embedded-default", no_argument, NULL, 'E'},
	{NULL, 0, NULL, 0},
    };

    while ((ch = getopt_long(argc, argv, "c:o:", opts, NULL)) != -1)
	if (!config_option(ch, &path))
	    usage();
    if (optind != argc)
	usage();
    buf_init(&out);
    buf_init(&err);
    conf = load_config(choose_config(path));
    sock = config_str(conf, P_CONTROL_SOCKET);
    if (*sock == 0)
	msg_fatal("%s: control_socket is empty: the daemon has no control socket",
		  config_where(conf, P_CONTROL_SOCKET));
    if (control_query(sock, "status", &out, &err) < 0)
	msg_fatal("%s", err.s);
    fputs(out.s, stdout);
    buf_free(&out);
    buf_free(&err);
    config_free(conf);
    return 0;
}

/* cmd_spf_main - mxshield spf [-c FILE] ... (-c anywhere) */
static int cmd_spf_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("spf");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_spf(pol->conf, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_dmarc_main - mxshield dmarc [-c FILE] ... (-c anywhere) */
static int cmd_dmarc_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("dmarc");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_dmarc(pol->conf, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_dkim_main - mxshield dkim [-c FILE] ... (-c anywhere) */
static int cmd_dkim_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("dkim");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_dkim(pol->conf, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_domain_main - mxshield domain [-c FILE] check ... (-c anywhere) */
static int cmd_domain_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("domain");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_domain(pol->conf, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_relay_test_main - mxshield relay-test [-c FILE] ... (-c anywhere) */
static int cmd_relay_test_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    int     rc;

    log_set_service("relay-test");
    struct policy *pol = load_policy(choose_config(path));

    rc = cmd_relay_test(pol->conf, argc - 1, argv + 1);
    policy_unref(pol);
    return rc;
}

/* cmd_report_main - mxshield report [-c FILE] ... (-c anywhere) */
static int cmd_report_main(int argc, char **argv)
{
    const char *path = take_config(&argc, argv);
    struct config *conf = load_config(choose_config(path));
    int     rc;

    rc = cmd_report(conf, argc - 1, argv + 1);
    config_free(conf);
    return rc;
}

int     main(int argc, char **argv)
{
    const char *cmd = "serve";

    log_init("mxshield", 0);
    if (wants_help(argc, argv))
	usage_to(0);			/* asked for: not an error */
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
	printf("mxshield %s\n", MXSHIELD_VERSION);
	return 0;
    }
    if (argc > 1 && argv[1][0] != '-') {
	cmd = argv[1];
	argc--;
	argv++;
    }
    if (strcmp(cmd, "serve") == 0)
	return cmd_serve(argc, argv);
    if (strcmp(cmd, "check") == 0)
	return cmd_check(argc, argv);
    if (strcmp(cmd, "config") == 0)
	return cmd_config(argc, argv);
    if (strcmp(cmd, "map") == 0)
	return cmd_map(argc, argv);
    if (strcmp(cmd, "greylist") == 0)
	return cmd_greylist_main(argc, argv);
    if (strcmp(cmd, "postfix-config") == 0)
	return cmd_postfix_config(argc, argv);
    if (strcmp(cmd, "ban") == 0)
	return cmd_ban_main(argc, argv);
    if (strcmp(cmd, "spf") == 0)
	return cmd_spf_main(argc, argv);
    if (strcmp(cmd, "dkim") == 0)
	return cmd_dkim_main(argc, argv);
    if (strcmp(cmd, "domain") == 0)
	return cmd_domain_main(argc, argv);
    if (strcmp(cmd, "relay-test") == 0)
	return cmd_relay_test_main(argc, argv);
    if (strcmp(cmd, "status") == 0)
	return cmd_status(argc, argv);
    if (strcmp(cmd, "dmarc") == 0)
	return cmd_dmarc_main(argc, argv);
    if (strcmp(cmd, "ban") == 0)
	return cmd_ban_main(argc, argv);
    if (strcmp(cmd, "report") == 0)
	return cmd_report_main(argc, argv);
    if (strcmp(cmd, "migrate") == 0)
	return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0)
	usage_to(0);
    fprintf(stderr, "mxshield: unknown command \"%s\"\n", cmd);
    usage();
}
