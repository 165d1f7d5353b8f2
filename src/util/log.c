/*
 * log.c - Postfix-style log lines to stderr or syslog.
 *
 * Each line is "mxshield/SERVICE[pid]: [level: ]text", one line per call,
 * control characters replaced, so that grep, logwatch and fail2ban filters
 * written for Postfix keep working.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* log_pid - the process id, asked once (the daemon does not fork) */
static pid_t log_pid(void)
{
    static pid_t pid;

    if (pid == 0)
	pid = getpid();
    return pid;
}

int     msg_verbose;

static int log_syslog;
static char log_ident[64] = "mxshield";
static char log_service[32] = "";
static char log_syslog_ident[100] = "mxshield";
static void (*log_capture_fn) (const char *, const char *, void *);
static void *log_capture_ctx;

/* log_init - choose the destination */
void    log_init(const char *ident, int use_syslog)
{
    snprintf(log_ident, sizeof(log_ident), "%s", ident);
    log_syslog = use_syslog;
    log_set_service(log_service);
}

/* log_set_service - name the part that is logging ("policy", "check") */
void    log_set_service(const char *service)
{
    if (service != log_service)
	snprintf(log_service, sizeof(log_service), "%s", service ? service : "");
    if (log_syslog) {
	snprintf(log_syslog_ident, sizeof(log_syslog_ident), "%s%s%s", log_ident,
		 *log_service ? "/" : "", log_service);
	openlog(log_syslog_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* log_set_verbose - set the debug level */
void    log_set_verbose(int level)
{
    msg_verbose = level;
}

/* log_capture - send formatted lines to a callback as well */
void    log_capture(void (*fn) (const char *, const char *, void *), void *ctx)
{
    log_capture_fn = fn;
    log_capture_ctx = ctx;
}

/*
 * Lines to stderr may be held in memory until log_flush(): the daemon
 * flushes once per pass of its event loop, so a burst of decisions costs
 * one write instead of one per line.  Nothing waits longer than that pass.
 */
#define LOG_HOLD_MAX	65536
static char log_hold[LOG_HOLD_MAX];
static size_t log_held;
static int log_holding;

/* log_write - all of a line (or of the held lines) to stderr */
static void log_write(const char *s, size_t len)
{
    while (len > 0) {
	ssize_t n = write(STDERR_FILENO, s, len);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return;				/* nowhere to complain */
	s += n;
	len -= (size_t) n;
    }
}

/* log_flush - write out the held lines */
void    log_flush(void)
{
    if (log_held > 0) {
	log_write(log_hold, log_held);
	log_held = 0;
    }
}

/* log_hold_lines - hold stderr lines until log_flush() (0: write each) */
void    log_hold_lines(int on)
{
    if (!on)
	log_flush();
    log_holding = on;
}

/* log_emit - format and write one line */
static void log_emit(int prio, const char *level, const char *fmt, va_list ap)
{
    char    line[2300];
    char   *text;
    size_t  pre, len;
    int     n;

    /* "mxshield/policy[1234]: warning: " then the text */
    n = snprintf(line, sizeof(line), "%s%s%s[%ld]: %s%s", log_ident,
		 *log_service ? "/" : "", log_service, (long) log_pid(),
		 level, *level ? ": " : "");
    pre = n < 0 ? 0 : (size_t) n < 200 ? (size_t) n : 200;
    text = line + pre;
    n = vsnprintf(text, 2048, fmt, ap);
    len = n < 0 ? 0 : (size_t) n < 2047 ? (size_t) n : 2047;
    for (size_t i = 0; i < len; i++)
	if ((unsigned char) text[i] < 0x20 || text[i] == 0x7f)
	    text[i] = '?';
    if (log_capture_fn) {
	log_capture_fn(level, text, log_capture_ctx);
	return;
    }
    if (log_syslog) {
	syslog(prio, "%s%s%s", level, *level ? ": " : "", text);
	return;
    }
    text[len++] = '\n';
    len += pre;
    if (!log_holding) {
	log_write(line, len);
	return;
    }
    if (log_held + len > sizeof(log_hold))
	log_flush();
    memcpy(log_hold + log_held, line, len);
    log_held += len;
}

#define LOG_BODY(prio, level) do { \
	va_list ap; \
	va_start(ap, fmt); \
	log_emit(prio, level, fmt, ap); \
	va_end(ap); \
    } while (0)

/* msg_info - routine information */
void    msg_info(const char *fmt,...)
{
    LOG_BODY(LOG_INFO, "");
}

/* msg_warn - recoverable problem */
void    msg_warn(const char *fmt,...)
{
    LOG_BODY(LOG_WARNING, "warning");
}

/* msg_error - error that does not stop the program */
void    msg_error(const char *fmt,...)
{
    LOG_BODY(LOG_ERR, "error");
}

/* msg_fatal - start-up error: log and exit 1 */
void    msg_fatal(const char *fmt,...)
{
    LOG_BODY(LOG_CRIT, "fatal");
    log_flush();
    exit(1);
}

/* msg_panic - broken invariant: log and abort */
void    msg_panic(const char *fmt,...)
{
    LOG_BODY(LOG_CRIT, "panic");
    log_flush();
    abort();
}
