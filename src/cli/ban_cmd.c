/*
 * ban_cmd.c - `mxshield ban`: the auto-ban commands.
 *
 * SYNOPSIS
 *	mxshield ban [-c FILE] scan [--json] [LOGFILE]
 *	mxshield ban [-c FILE] follow [--json] [--state FILE] [--from-start]
 *				      LOGFILE | --journal [--unit UNIT]...
 *
 * DESCRIPTION
 *	scan classifies a Postfix log offline (standard input without a
 *	file), the way the log follower does: one line per event,
 *
 *	    LINE TIME EVENT HOST [reject=CLASS] [user=NAME]
 *
 *	or with --json one object per line,
 *
 *	    {"line": N, "time": "2026-12-05T06:00:00Z", "host": "192.0.2.1",
 *	     "event": "auth-failed", "user": null}
 *
 *	TIME is UTC ("-", null in JSON, when the line had none).  A line
 *	longer than LOGEV_LINE_MAX is no event, and counted as a line.
 *
 *	follow does the same on a log as it grows, the way the daemon reads
 *	it (src/ban/follow.h): a file across rotation, or the journal's
 *	Postfix units; LINE counts the lines read since the start.  With
 *	--state FILE the position is kept there across runs; without one,
 *	and without --from-start, only lines written from now on count.
 *	SIGINT or SIGTERM stops it (exit 0).
 *	Subcommands are rows of subcommands[] below.
 *
 * DIAGNOSTICS
 *	Exit 0; 1 when the file cannot be read; 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>

#include <event2/event.h>

#include "ban/event.h"
#include "ban/follow.h"
#include "cli/ban_cmd.h"
#include "util/mem.h"
#include "util/str.h"

#define SCAN_READ	(1 << 20)		/* bytes read at a time */

struct scan_out {
    FILE   *fp;
    int     json;
    struct buf b;
};

/* iso_time - "YYYY-MM-DDThh:mm:ssZ" */
static void iso_time(time_t t, char *out, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* print_event - one event in the chosen form */
static void print_event(struct scan_out *o, unsigned long lineno, const struct ban_event *ev)
{
    char    when[32];

    if (ev->when)
	iso_time(ev->when, when, sizeof(when));
    buf_reset(&o->b);
    if (o->json) {
	buf_printf(&o->b, "{\"line\": %lu, \"time\": ", lineno);
	if (ev->when)
	    buf_json_str(&o->b, when);
	else
	    buf_puts(&o->b, "null");
	buf_puts(&o->b, ", \"host\": ");
	buf_json_str(&o->b, ev->host);
	buf_puts(&o->b, ", \"event\": ");
	buf_json_str(&o->b, ban_event_name(ev->kind));
	buf_puts(&o->b, ", \"user\": ");
	if (ev->has_user)
	    buf_json_str(&o->b, ev->user);
	else
	    buf_puts(&o->b, "null");
	buf_puts(&o->b, "}\n");
    } else {
	buf_printf(&o->b, "%lu %s %s %s", lineno, ev->when ? when : "-",
		   ban_event_name(ev->kind), ev->host);
	if (ev->kind == BEV_REJECT)
	    buf_printf(&o->b, " reject=%s", ban_reject_name(ev->reject));
	if (ev->has_user)
	    buf_printf(&o->b, " user=%s", ev->user);
	buf_putc(&o->b, '\n');
    }
    fwrite(o->b.s, 1, o->b.len, o->fp);
}

/* scan_fd - classify every line of fd; 0, or -1 on a read error */
static int scan_fd(int fd, struct scan_out *o)
{
    struct logev *l = logev_new();
    char   *buf = xmalloc(SCAN_READ + LOGEV_LINE_MAX + 1);
    size_t  have = 0;			/* bytes of an unfinished line kept */
    int     skipping = 0;		/* in a line past the limit */
    unsigned long lineno = 0;
    time_t  now = time(NULL);
    struct ban_event ev;
    ssize_t n;

    for (;;) {
	n = read(fd, buf + have, SCAN_READ);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0)
	    break;
	size_t  end = have + (size_t) n;
	char   *p = buf, *e = buf + end, *nl;

	if (n == 0 && end > 0 && !skipping) {
	    /* the last line without its newline */
	    lineno++;
	    if (logev_line(l, p, end, now, &ev))
		print_event(o, lineno, &ev);
	}
	if (n == 0) {
	    if (skipping)
		lineno++;
	    break;
	}
	while ((nl = memchr(p, '\n', (size_t) (e - p))) != NULL) {
	    if (skipping) {
		skipping = 0;			/* the rest of a long line */
	    } else if (logev_line(l, p, (size_t) (nl - p), now, &ev)) {
		print_event(o, lineno + 1, &ev);
	    }
	    lineno++;
	    p = nl + 1;
	}
	/* keep an unfinished line, unless it is already too long */
	have = (size_t) (e - p);
	if (have > LOGEV_LINE_MAX || skipping) {
	    skipping = 1;
	    have = 0;
	} else {
	    memmove(buf, p, have);
	}
    }
    free(buf);
    logev_free(l);
    return n < 0 ? -1 : 0;
}

/* ban_scan - mxshield ban scan [--json] [LOGFILE] */
static int ban_scan(const char *config_path, int argc, char **argv)
{
    struct scan_out o = {.fp = stdout};
    const char *file = NULL;
    int     fd = 0, rc;

    (void) config_path;
    for (int i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    o.json = 1;
	} else if (argv[i][0] == '-' && argv[i][1] != 0) {
	    fprintf(stderr, "mxshield ban scan: unknown option \"%s\"\n", argv[i]);
	    return 2;
	} else if (file == NULL) {
	    file = argv[i];
	} else {
	    fprintf(stderr, "usage: mxshield ban scan [-c FILE] [--json] [LOGFILE]\n");
	    return 2;
	}
    }
    if (file && strcmp(file, "-") != 0 && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
	fprintf(stderr, "mxshield ban scan: open %s: %s\n", file, strerror(errno));
	return 1;
    }
    buf_init(&o.b);
    rc = scan_fd(fd, &o);
    if (rc < 0)
	fprintf(stderr, "mxshield ban scan: read %s: %s\n", file ? file : "standard input",
		strerror(errno));
    if (fd > 0)
	close(fd);
    buf_free(&o.b);
    if (fflush(stdout) != 0)
	return 1;
    return rc < 0 ? 1 : 0;
}

struct follow_ctx {
    struct logev *l;
    struct scan_out o;
    struct follow *f;
};

/* follow_line - a line from the follower: print it if an event */
static void follow_line(void *arg, const char *line, size_t len, time_t when)
{
    struct follow_ctx *c = arg;
    struct ban_event ev;

    if (!logev_line(c->l, line, len, time(NULL), &ev))
	return;
    if (ev.when == 0)
	ev.when = when;
    print_event(&c->o, follow_lines(c->f), &ev);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void) sig;
    (void) what;
    event_base_loopbreak(arg);
}

/* ban_follow - mxshield ban follow [--json] [--state FILE] [--from-start]
 * LOGFILE | --journal [--unit UNIT]... */
static int ban_follow(const char *config_path, int argc, char **argv)
{
    struct follow_ctx c = {.o = {.fp = stdout}};
    const char *file = NULL, *state = NULL;
    const char *units[17];
    int     journal = 0, from_start = 0, nunits = 0;
    struct buf err;

    (void) config_path;
    for (int i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    c.o.json = 1;
	} else if (strcmp(argv[i], "--journal") == 0) {
	    journal = 1;
	} else if (strcmp(argv[i], "--from-start") == 0) {
	    from_start = 1;
	} else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
	    state = argv[++i];
	} else if (strcmp(argv[i], "--unit") == 0 && i + 1 < argc && nunits < 16) {
	    units[nunits++] = argv[++i];
	} else if (argv[i][0] != '-' && file == NULL) {
	    file = argv[i];
	} else {
	    fprintf(stderr, "usage: mxshield ban follow [--json] [--state FILE] [--from-start]"
		    " LOGFILE | --journal [--unit UNIT]...\n");
	    return 2;
	}
    }
    if ((file == NULL) == (journal == 0)) {
	fprintf(stderr, "mxshield ban follow: a LOGFILE or --journal\n");
	return 2;
    }
    units[nunits] = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    buf_init(&err);
    buf_init(&c.o.b);
    c.l = logev_new();

    struct event_base *base = event_base_new();
    struct event *sigint = evsignal_new(base, SIGINT, on_stop, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_stop, base);

    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    c.f = journal ? follow_journal(base, nunits ? units : NULL, state, from_start, follow_line,
				   &c, &err)
	: follow_file(base, file, state, from_start, follow_line, &c, &err);
    if (c.f == NULL) {
	fprintf(stderr, "mxshield ban follow: %s\n", err.s);
    } else {
	event_base_dispatch(base);
	follow_free(c.f);
    }
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    logev_free(c.l);
    buf_free(&c.o.b);
    int     rc = c.f ? 0 : 1;

    buf_free(&err);
    return rc;
}

 /*
  * The subcommands: name, function (argv[0] is the name).
  */
static const struct {
    const char *name;
    int     (*fn) (const char *config_path, int argc, char **argv);
} subcommands[] = {
    {"scan", ban_scan},
    {"follow", ban_follow},
};

/* cmd_ban - dispatch a subcommand */
int     cmd_ban(const char *config_path, int argc, char **argv)
{
    if (argc >= 1)
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
	    if (strcmp(argv[0], subcommands[i].name) == 0)
		return subcommands[i].fn(config_path, argc, argv);
    fprintf(stderr, "usage: mxshield ban [-c FILE] scan [--json] [LOGFILE]\n"
	    "       mxshield ban [-c FILE] follow [--json] [--state FILE] [--from-start]\n"
	    "                    LOGFILE | --journal [--unit UNIT]...\n");
    return 2;
}
