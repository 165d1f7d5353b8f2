/*
 * log.h - Postfix-style logging: "mxshield/policy[1234]: warning: text",
 * "mxshield/milter[1234]: ..." (the service: log_service_enter).
 *
 * log_init() chooses syslog (facility mail) or stderr.  msg_info and
 * msg_warn are for run time; msg_fatal is for start-up errors and exits 1;
 * msg_panic is for broken invariants and aborts.  log_capture() lets unit
 * tests read what was logged.
 */
#ifndef MX_UTIL_LOG_H
#define MX_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

void    log_init(const char *ident, int use_syslog);
void    log_set_service(const char *service);

/*
 * log_service_enter - the lines that follow are this handler's ("milter",
 * as Postfix's programs log as postfix/smtpd, postfix/cleanup): the code
 * that dispatches to a handler (the daemon skeleton, the stream, the
 * lookup set's wakeup, the pool, the store's replies) names it and puts
 * the previous name back with log_service_leave(previous) when the handler
 * returns.  NULL is the process's name (log_set_service).  service must
 * stay valid while used (a constant).  Two stores: the line prefix is
 * made again only when a line is logged under another name.
 * log_service_current - the name in force, for a dispatcher to keep with
 * a callback it registers and enter when it calls it.
 */
const char *log_service_enter(const char *service);
void    log_service_leave(const char *previous);
const char *log_service_current(void);
void    log_set_verbose(int level);
extern int msg_verbose;

/*
 * log_hold_lines - hold stderr lines in memory until log_flush() (the
 * daemon flushes within milliseconds, or when 64 KB have gathered);
 * 0 writes each line.  log_held - bytes held.
 */
void    log_hold_lines(int on);
void    log_flush(void);
size_t  log_held(void);

/* Tests: send every formatted line (without prefix) to fn instead. */
void    log_capture(void (*fn) (const char *level, const char *text, void *ctx),
		            void *ctx);

/*
 * log_defer - lines logged by this thread go into b (NULL: logged again);
 * log_replay - the loop logs them.  A worker thread (the reload compile)
 * thus never touches the log state of the loop; fatal and panic lines are
 * never deferred.
 */
struct buf;
void    log_defer(struct buf *b);
void    log_replay(const struct buf *b);

void    msg_info(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void    msg_info_text(const char *text);	/* msg_info("%s", text), cheaper */
void    msg_warn(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void    msg_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void    msg_fatal(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
void    msg_panic(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

#endif
