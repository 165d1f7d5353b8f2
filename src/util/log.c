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
#include "util/str.h"

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
static char log_prefix_text[200];
static size_t log_prefix_len;
static const char *log_current;		/* a handler's name, or NULL */
static const char *log_prefix_for;	/* the name in log_prefix_text */
static void (*log_capture_fn) (const char *, const char *, void *);
static void *log_capture_ctx;

/* A worker thread's lines wait in its own buffer: "P" level NUL text NUL. */
static __thread struct buf *log_deferred;

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
    log_prefix_len = 0;
    if (log_syslog) {
	snprintf(log_syslog_ident, sizeof(log_syslog_ident), "%s%s%s", log_ident,
		 *log_service ? "/" : "", log_service);
	openlog(log_syslog_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* log_service_enter - a handler's lines follow; the previous name back */
const char *log_service_enter(const char *service)
{
    const char *previous = log_current;

    log_current = service;
    return previous;
}

/* log_service_leave - the name in force before log_service_enter */
void    log_service_leave(const char *previous)
{
    log_current = previous;
}

/* log_service_current - the name in force (NULL: the process's) */
const char *log_service_current(void)
{
    return log_current;
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
static size_t log_held_len;
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
    if (log_held_len > 0) {
	log_write(log_hold, log_held_len);
	log_held_len = 0;
    }
}

/* log_held - bytes of lines held */
size_t  log_held(void)
{
    return log_held_len;
}

/* log_hold_lines - hold stderr lines until log_flush() (0: write each) */
void    log_hold_lines(int on)
{
    if (!on)
	log_flush();
    log_holding = on;
}


/* log_prefix_make - "mxshield/policy[1234]: ", made when the names change;
 * syslog's ident follows (openlog keeps its socket, only the tag changes) */
static void log_prefix_make(const char *service)
{
    int     n = snprintf(log_prefix_text, sizeof(log_prefix_text), "%s%s%s[%ld]: ", log_ident,
			 *service ? "/" : "", service, (long) log_pid());

    log_prefix_len = n < 0 ? 0 : (size_t) n < sizeof(log_prefix_text) ? (size_t) n
	: sizeof(log_prefix_text) - 1;
    log_prefix_for = service;
    if (log_syslog) {
	char    ident[sizeof(log_syslog_ident)];

	snprintf(ident, sizeof(ident), "%s%s%s", log_ident, *service ? "/" : "", service);
	if (strcmp(ident, log_syslog_ident) != 0) {
	    memcpy(log_syslog_ident, ident, sizeof(ident));
	    openlog(log_syslog_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
    }
}

static void log_emit_text(int prio, const char *level, const char *msg);

/* log_defer - this thread's lines go to b until log_defer(NULL) */
void    log_defer(struct buf *b)
{
    log_deferred = b;
}

/* log_replay - log the lines a worker thread deferred */
void    log_replay(const struct buf *b)
{
    size_t  off = 0;

    while (off + 1 < b->len) {
	int     prio = b->s[off] - '0';
	const char *level = b->s + off + 1;
	const char *text = level + strlen(level) + 1;

	log_emit_text(prio, level, text);
	off = (size_t) (text - b->s) + strlen(text) + 1;
    }
}

/* log_emit_text - write one line of text (at most 2047 bytes of it) */
static void log_emit_text(int prio, const char *level, const char *msg)
{
    char    line[2300];
    char   *text;
    size_t  pre, len;

    if (log_deferred) {
	buf_putc(log_deferred, '0' + prio);
	buf_append(log_deferred, level, strlen(level) + 1);
	buf_append(log_deferred, msg, strlen(msg) + 1);
	return;
    }
    const char *service = log_current ? log_current : log_service;

    /* the same name as the prefix's (a handler's "policy" and the
     * process's are two strings): not made again */
    if (log_prefix_len == 0
	|| (service != log_prefix_for && strcmp(service, log_prefix_for) != 0))
	log_prefix_make(service);
    /* prefix, "warning: ", then the text with control characters made '?' */
    memcpy(line, log_prefix_text, log_prefix_len);
    pre = log_prefix_len;
    if (*level) {
	size_t  ll = strlen(level);

	memcpy(line + pre, level, ll);
	memcpy(line + pre + ll, ": ", 2);
	pre += ll + 2;
    }
    text = line + pre;
    len = strnlen(msg, 2047);
    str_copy_visible(text, msg, len, 1, '?');
    text[len] = 0;
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
    if (log_held_len + len > sizeof(log_hold))
	log_flush();
    memcpy(log_hold + log_held_len, line, len);
    log_held_len += len;
}

/* log_emit - format and write one line */
static void log_emit(int prio, const char *level, const char *fmt, va_list ap)
{
    char    text[2048];

    vsnprintf(text, sizeof(text), fmt, ap);
    log_emit_text(prio, level, text);
}

/* msg_info_text - msg_info of a finished text, without formatting it */
void    msg_info_text(const char *text)
{
    log_emit_text(LOG_INFO, "", text);
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
    log_deferred = NULL;
    LOG_BODY(LOG_CRIT, "fatal");
    log_flush();
    exit(1);
}

/* msg_panic - broken invariant: log and abort */
void    msg_panic(const char *fmt,...)
{
    log_deferred = NULL;
    LOG_BODY(LOG_CRIT, "panic");
    log_flush();
    abort();
}
