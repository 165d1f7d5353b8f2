/*
 * follow_journal.c - the follower on the systemd journal (see follow.h):
 * Postfix's units, entries made into syslog-style lines, resumed at the
 * saved cursor.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ban/event.h"
#include "ban/follow_impl.h"
#include "util/log.h"
#include "util/mem.h"


/* journal_field - the value of a field of the current entry */
static int journal_field(sd_journal *j, const char *name, const char **v, size_t *len)
{
    const void *d;
    size_t  l, nl = strlen(name);

    if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= nl || ((const char *) d)[nl] != '=')
	return -1;
    *v = (const char *) d + nl + 1;
    *len = l - nl - 1;
    return 0;
}

/* follow_poll_journal - every new entry */
void    follow_poll_journal(struct follow *f)
{
    char   *line = f->pend;
    int     r = 0, moved = 0;

    int     budget = FOLLOW_POLL_ENTRIES;

    (void) sd_journal_process(f->j);
    while (budget-- > 0 && (r = sd_journal_next(f->j)) > 0) {
	const char *id = "", *pid = "", *msg;
	size_t  idl = 0, pidl = 0, msgl;
	uint64_t usec = 0;

	if (journal_field(f->j, "MESSAGE", &msg, &msgl) == 0) {
	    (void) journal_field(f->j, "SYSLOG_IDENTIFIER", &id, &idl);
	    if (journal_field(f->j, "_PID", &pid, &pidl) < 0)
		(void) journal_field(f->j, "SYSLOG_PID", &pid, &pidl);
	    (void) sd_journal_get_realtime_usec(f->j, &usec);
	    if (idl + pidl + msgl + 4 > LOGEV_LINE_MAX || idl > 256 || pidl > 32) {
		f->dropped++;
	    } else {
		size_t  n = 0;

		memcpy(line, id, idl);
		n = idl;
		if (pidl) {
		    line[n++] = '[';
		    memcpy(line + n, pid, pidl);
		    n += pidl;
		    line[n++] = ']';
		}
		line[n++] = ':';
		line[n++] = ' ';
		memcpy(line + n, msg, msgl);
		n += msgl;
		follow_emit(f, line, n, (time_t) (usec / 1000000));
	    }
	}
	char   *c = NULL;

	moved = 1;
	if (sd_journal_get_cursor(f->j, &c) >= 0) {
	    free(f->cursor);
	    f->cursor = c;
	}
    }
    if (r < 0)
	msg_warn("follow: journal: %s", strerror(-r));
    if (moved)
	follow_save_state(f);
    if (budget < 0)				/* spent: there may be more */
	follow_kick(f);
}

static void on_journal(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    follow_poll(arg);
}

/* journal_start - matches, the saved cursor or an end, the fd on the loop */
static struct follow *journal_start(struct follow *f, const char *const *units,
				            int from_start, struct buf *err)
{
    static const char *const debian[] = {"postfix@-.service", "postfix.service", NULL};
    struct saved sv;
    char    m[300];
    int     r, fd;

    for (const char *const *u = units ? units : debian; *u; u++) {
	snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", *u);
	if ((u != (units ? units : debian) && (r = sd_journal_add_disjunction(f->j)) < 0)
	    || (r = sd_journal_add_match(f->j, m, 0)) < 0) {
	    buf_printf(err, "journal match %s: %s", m, strerror(-r));
	    follow_free(f);
	    return NULL;
	}
    }
    if (follow_load_state(f, &sv) && sd_journal_seek_cursor(f->j, sv.cursor) >= 0) {
	/* the saved entry was handed out already */
	if (sd_journal_next(f->j) > 0 && sd_journal_test_cursor(f->j, sv.cursor) <= 0)
	    (void) sd_journal_previous(f->j);
	f->cursor = xstrdup(sv.cursor);
    } else if (from_start) {
	(void) sd_journal_seek_head(f->j);
    } else {
	(void) sd_journal_seek_tail(f->j);
	(void) sd_journal_previous(f->j);
    }
    if ((fd = sd_journal_get_fd(f->j)) < 0) {
	buf_printf(err, "journal: %s", strerror(-fd));
	follow_free(f);
	return NULL;
    }
    f->j_ev = event_new(f->base, fd, EV_READ | EV_PERSIST, on_journal, f);
    event_add(f->j_ev, NULL);
    event_active(f->timer, EV_TIMEOUT, 0);
    return f;
}

/* follow_journal - follow the system journal */
struct follow *follow_journal(struct event_base *base, const char *const *units,
			              const char *state_path, int from_start,
			              follow_line_fn fn, void *arg, struct buf *err)
{
    struct follow *f = follow_new(FOLLOW_JOURNAL, base, state_path, fn, arg);
    int     r;

    if ((r = sd_journal_open(&f->j, SD_JOURNAL_LOCAL_ONLY)) < 0) {
	buf_printf(err, "journal: open: %s", strerror(-r));
	f->j = NULL;
	follow_free(f);
	return NULL;
    }
    return journal_start(f, units, from_start, err);
}

/* follow_journal_files - follow given journal files */
struct follow *follow_journal_files(struct event_base *base, const char *const *files,
				            const char *const *units, const char *state_path,
				            int from_start, follow_line_fn fn, void *arg,
				            struct buf *err)
{
    struct follow *f = follow_new(FOLLOW_JOURNAL, base, state_path, fn, arg);
    int     r;

    if ((r = sd_journal_open_files(&f->j, (const char **) files, 0)) < 0) {
	buf_printf(err, "journal: open files: %s", strerror(-r));
	f->j = NULL;
	follow_free(f);
	return NULL;
    }
    return journal_start(f, units, from_start, err);
}

