/*
 * report_cmd.c - mxshield report [-c FILE] [--since TIME] [LOGFILE]
 *
 * Summarises a mail log (stdin without LOGFILE) with src/report/.  The
 * configuration says what mxshield's lines are called (syslog_name) and
 * what greylisting takes for a client's network (greylist_ipv4_prefix,
 * greylist_ipv6_prefix, greylist_lookup_by_host).  Exit 0, or 2 for a
 * usage error or a file that cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/report_cmd.h"
#include "conf/config.h"
#include "report/logline.h"
#include "report/report.h"

/* cmd_report - print the report of a log */
int     cmd_report(const struct config *conf, int argc, char **argv)
{
    struct report_opts o;
    const char *path = NULL;
    FILE   *fp = stdin;
    char    chunk[65536];
    size_t  n;

    memset(&o, 0, sizeof(o));
    o.now = (int64_t) time(NULL);
    o.syslog_name = config_str(conf, P_SYSLOG_NAME);
    o.ipv4_prefix = (int) config_int(conf, P_GL_IPV4_PREFIX);
    o.ipv6_prefix = (int) config_int(conf, P_GL_IPV6_PREFIX);
    if (config_bool(conf, P_GL_BY_HOST)) {
	o.ipv4_prefix = 32;
	o.ipv6_prefix = 128;
    }
    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
	    if (logline_since(argv[++i], o.now, &o.since) < 0) {
		fprintf(stderr, "mxshield report: --since %s: expected a time such as"
			" 2026-12-01, \"2026-12-01 08:00\", 2026-12-01T08:00:00Z or an age"
			" such as 24h, 7d\n", argv[i]);
		return 2;
	    }
	    o.has_since = 1;
	} else if (argv[i][0] == '-' && argv[i][1] != 0) {
	    fprintf(stderr, "usage: mxshield report [-c FILE] [--since TIME] [LOGFILE]\n");
	    return 2;
	} else if (path == NULL) {
	    path = argv[i];
	} else {
	    fprintf(stderr, "usage: mxshield report [-c FILE] [--since TIME] [LOGFILE]\n");
	    return 2;
	}
    }
    if (path && strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
	fprintf(stderr, "mxshield report: %s: %s\n", path, strerror(errno));
	return 2;
    }
    struct report *r = report_new(&o);

    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
	report_feed(r, chunk, n);
    if (ferror(fp)) {
	fprintf(stderr, "mxshield report: %s: read error\n", path ? path : "stdin");
	report_free(r);
	if (fp != stdin)
	    fclose(fp);
	return 2;
    }
    if (fp != stdin)
	fclose(fp);
    report_end(r);
    report_print(r, stdout);
    report_free(r);
    return 0;
}
