/*
 * test_follow.c - the log follower: a burst across rotation by rename and
 * by copytruncate loses and repeats no line; a restart resumes where it
 * stopped, also when the file was rotated meanwhile; a partial line waits
 * for its newline; the journal, on files written by Debian's
 * systemd-journal-remote, with Postfix's units and a saved cursor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <cmocka.h>

#include <event2/event.h>

#include "ban/event.h"
#include "ban/follow.h"
#include "util/str.h"

#define JOURNAL_REMOTE	"/lib/systemd/systemd-journal-remote"

struct got {
    char  **v;
    size_t  n, cap;
    time_t  last_when;
};

static void on_line(void *arg, const char *line, size_t len, time_t when)
{
    struct got *g = arg;

    if (g->n == g->cap) {
	g->cap = g->cap ? 2 * g->cap : 1024;
	g->v = realloc(g->v, g->cap * sizeof(*g->v));
    }
    g->v[g->n++] = strndup(line, len);
    g->last_when = when;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
	free(g->v[i]);
    free(g->v);
    memset(g, 0, sizeof(*g));
}

/* pump_ms - run the loop until want lines came (or ms passed), then 50 ms more */
static void pump_ms(struct event_base *base, struct got *g, size_t want, long ms)
{
    struct timeval tick = {0, 20000}, t0, now;

    gettimeofday(&t0, NULL);
    for (;;) {
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	gettimeofday(&now, NULL);
	if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_usec - t0.tv_usec) / 1000 >= ms)
	    break;
	if (g->n >= want) {
	    /* a little more: nothing further may come */
	    struct timeval more = {0, 50000};

	    event_base_loopexit(base, &more);
	    event_base_dispatch(base);
	    break;
	}
    }
}

/* pump - until want lines came, or 5 s */
static void pump(struct event_base *base, struct got *g, size_t want)
{
    pump_ms(base, g, want, 5000);
}

/* pump_none - 300 ms for what must not come (the loop reads at once) */
static void pump_none(struct event_base *base, struct got *g, size_t want)
{
    pump_ms(base, g, want, 300);
}

static char dir[64];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* put - write "line N\n" for N in [from, to) with one write each */
static void put(int fd, int from, int to)
{
    char    b[64];

    for (int i = from; i < to; i++) {
	int     n = snprintf(b, sizeof(b), "line %d\n", i);

	assert_int_equal(write(fd, b, (size_t) n), n);
    }
}

static int open_log(const char *path)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

    assert_true(fd >= 0);
    return fd;
}

/* expect_lines - got holds exactly "line N" for N in [from, to), in order,
 * with any exceptions given as (index, text) pairs ending in -1 */
static void expect_lines(const struct got *g, int from, int to, ...)
{
    va_list ap;
    int     ex = -1;
    const char *ext = NULL;
    char    b[64];

    va_start(ap, to);
    ex = va_arg(ap, int);
    if (ex >= 0)
	ext = va_arg(ap, const char *);
    if (g->n != (size_t) (to - from))
	fail_msg("got %zu lines, want %d (first %s, last %s)", g->n, to - from,
		 g->n ? g->v[0] : "-", g->n ? g->v[g->n - 1] : "-");
    for (int i = from; i < to; i++) {
	if (i == ex) {
	    assert_string_equal(g->v[i - from], ext);
	    ex = va_arg(ap, int);
	    if (ex >= 0)
		ext = va_arg(ap, const char *);
	    continue;
	}
	snprintf(b, sizeof(b), "line %d", i);
	if (strcmp(g->v[i - from], b) != 0)
	    fail_msg("line %d: got \"%s\", want \"%s\"", i - from, g->v[i - from], b);
    }
    va_end(ap);
}

static int setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/test_follow.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

/* test_rename_burst - logrotate's default: rename, late writes to the old
 * file, a partial line completed there, then the new file; twice */
static void test_rename_burst(void **state)
{
    char    log[128], log1[128], log2[128], st[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "mail.log");
    path_of(log1, sizeof(log1), "mail.log.1");
    path_of(log2, sizeof(log2), "mail.log.2");
    path_of(st, sizeof(st), "rename.state");
    buf_init(&err);
    w = open_log(log);
    struct follow *f = follow_file(base, log, st, 1, on_line, &g, &err);

    assert_non_null(f);
    put(w, 0, 300);
    pump(base, &g, 300);
    assert_int_equal(g.n, 300);

    /* the burst: the follower does not run until it is all written */
    put(w, 300, 800);
    assert_int_equal(write(w, "line 800 half", 13), 13);
    assert_int_equal(rename(log, log1), 0);
    assert_int_equal(write(w, "-rest\n", 6), 6);
    put(w, 801, 850);			/* before the writer reopens */
    pump(base, &g, 850);			/* the follower saw the rename */
    put(w, 850, 900);			/* still before the reopen */
    close(w);
    w = open_log(log);
    put(w, 900, 2000);
    pump(base, &g, 2000);

    /* and again, with the older file shifted */
    assert_int_equal(rename(log1, log2), 0);
    assert_int_equal(rename(log, log1), 0);
    put(w, 2000, 2100);
    close(w);
    w = open_log(log);
    put(w, 2100, 3000);
    pump(base, &g, 3000);
    expect_lines(&g, 0, 3000, 800, "line 800 half-rest", -1);
    assert_int_equal(follow_dropped(f), 0);
    close(w);
    follow_free(f);
    got_free(&g);
    event_base_free(base);
    buf_free(&err);
}

/* copy_truncate - logrotate's copytruncate: copy, then truncate in place */
static void copy_truncate(const char *from, const char *to)
{
    char    b[65536];
    int     in = open(from, O_RDWR), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;

    assert_true(in >= 0 && out >= 0);
    while ((n = read(in, b, sizeof(b))) > 0)
	assert_int_equal(write(out, b, (size_t) n), n);
    close(out);
    assert_int_equal(ftruncate(in, 0), 0);
    close(in);
}

/* test_copytruncate_burst - the unread part is taken from the copy, then
 * the truncated file from its start: whether it has grown past the old
 * read position by then or not */
static void test_copytruncate_burst(void **state)
{
    char    log[128], log1[128], st[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "ct.log");
    path_of(log1, sizeof(log1), "ct.log.1");
    path_of(st, sizeof(st), "ct.state");
    buf_init(&err);
    w = open_log(log);
    /* no state file: the identity of the file is tracked all the same */
    struct follow *f = follow_file(base, log, NULL, 1, on_line, &g, &err);

    assert_non_null(f);
    put(w, 0, 200);
    pump(base, &g, 200);
    put(w, 200, 700);				/* unread at the rotation */
    copy_truncate(log, log1);
    put(w, 700, 1000);				/* fewer bytes than were read */
    pump(base, &g, 1000);
    expect_lines(&g, 0, 1000, -1);

    put(w, 1000, 1100);
    pump(base, &g, 1100);
    put(w, 1100, 1200);
    copy_truncate(log, log1);
    put(w, 1200, 3000);				/* past the old read position */
    pump(base, &g, 3000);
    expect_lines(&g, 0, 3000, -1);
    close(w);
    follow_free(f);
    got_free(&g);
    event_base_free(base);
    buf_free(&err);
}

/* test_restart - resume at the saved position; a partial line waits; a
 * rotation while stopped is read from the rotated file first */
static void test_restart(void **state)
{
    char    log[128], log1[128], st[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "rs.log");
    path_of(log1, sizeof(log1), "rs.log.1");
    path_of(st, sizeof(st), "rs.state");
    buf_init(&err);
    w = open_log(log);
    put(w, 0, 100);
    /* no state, not from the start: only what comes next */
    struct follow *f = follow_file(base, log, st, 0, on_line, &g, &err);

    assert_non_null(f);
    put(w, 100, 150);
    pump(base, &g, 50);
    expect_lines(&g, 100, 150, -1);
    assert_int_equal(write(w, "line 150 pa", 11), 11);
    pump_none(base, &g, 51);
    assert_int_equal(g.n, 50);			/* the partial line waits */
    follow_free(f);
    got_free(&g);

    /* stopped: the line is finished, more come */
    assert_int_equal(write(w, "rt\n", 3), 3);
    put(w, 151, 200);
    f = follow_file(base, log, st, 0, on_line, &g, &err);
    pump(base, &g, 50);
    expect_lines(&g, 150, 200, 150, "line 150 part", -1);
    follow_free(f);
    got_free(&g);

    /* stopped: more lines, rotated by rename, a new file */
    put(w, 200, 230);
    close(w);
    assert_int_equal(rename(log, log1), 0);
    w = open_log(log);
    put(w, 230, 240);
    f = follow_file(base, log, st, 0, on_line, &g, &err);
    pump(base, &g, 40);
    expect_lines(&g, 200, 240, -1);
    follow_free(f);
    got_free(&g);

    /* a restart with nothing new hands out nothing */
    f = follow_file(base, log, st, 0, on_line, &g, &err);
    pump_none(base, &g, 1);
    assert_int_equal(g.n, 0);
    follow_free(f);
    close(w);
    event_base_free(base);
    buf_free(&err);
}

/* test_backlog_in_turns - a long backlog is read a bounded piece per turn
 * of the loop, and a rotation while it is read loses nothing */
static void test_backlog_in_turns(void **state)
{
    char    log[128], log1[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "backlog.log");
    path_of(log1, sizeof(log1), "backlog.log.1");
    buf_init(&err);
    w = open_log(log);
    put(w, 0, 700000);				/* about 9 MB */
    struct follow *f = follow_file(base, log, NULL, 1, on_line, &g, &err);

    assert_non_null(f);
    follow_poll(f);				/* one turn: a part only */
    assert_true(g.n > 100000 && g.n < 500000);
    assert_int_equal(rename(log, log1), 0);
    put(w, 700000, 700100);
    close(w);
    w = open_log(log);
    put(w, 700100, 701000);
    pump(base, &g, 701000);
    expect_lines(&g, 0, 701000, -1);
    close(w);
    follow_free(f);
    got_free(&g);
    event_base_free(base);
    buf_free(&err);
}

/* test_copytruncate_backlog_in_turns - a copytruncate while a long
 * backlog is read: the copy's rest is read a bounded piece per turn too,
 * before the truncated file's new lines, none lost or repeated */
static void test_copytruncate_backlog_in_turns(void **state)
{
    char    log[128], log1[128], cmd[300];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    size_t  first;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "ctb.log");
    path_of(log1, sizeof(log1), "ctb.log.1");
    buf_init(&err);
    w = open_log(log);
    put(w, 0, 1400000);				/* about 19 MB */
    struct follow *f = follow_file(base, log, NULL, 1, on_line, &g, &err);

    assert_non_null(f);
    follow_poll(f);				/* one turn: a part only */
    first = g.n;
    assert_true(first > 100000 && first < 600000);
    snprintf(cmd, sizeof(cmd), "cp %s %s", log, log1);	/* logrotate's copytruncate */
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ftruncate(w, 0), 0);
    put(w, 1400000, 1401000);
    follow_poll(f);				/* the next turn: a part again */
    assert_true(g.n - first <= first + 10000);	/* no more than a turn's worth */
    pump(base, &g, 1401000);
    expect_lines(&g, 0, 1401000, -1);
    close(w);
    follow_free(f);
    got_free(&g);
    event_base_free(base);
    buf_free(&err);
}

/* test_long_line - a line past LOGEV_LINE_MAX is dropped whole */
static void test_long_line(void **state)
{
    char    log[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    char   *big = malloc(LOGEV_LINE_MAX + 2);
    int     w;

    (void) state;
    path_of(log, sizeof(log), "long.log");
    buf_init(&err);
    w = open_log(log);
    struct follow *f = follow_file(base, log, NULL, 1, on_line, &g, &err);

    memset(big, 'x', LOGEV_LINE_MAX + 1);
    big[LOGEV_LINE_MAX] = '\n';			/* exactly the limit: kept */
    assert_int_equal(write(w, big, LOGEV_LINE_MAX + 1), LOGEV_LINE_MAX + 1);
    big[LOGEV_LINE_MAX] = 'x';
    big[LOGEV_LINE_MAX + 1] = '\n';		/* one more: dropped */
    assert_int_equal(write(w, big, LOGEV_LINE_MAX + 2), LOGEV_LINE_MAX + 2);
    put(w, 0, 1);
    pump(base, &g, 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(strlen(g.v[0]), LOGEV_LINE_MAX);
    assert_string_equal(g.v[1], "line 0");
    assert_int_equal(follow_dropped(f), 1);
    follow_free(f);
    close(w);
    free(big);
    got_free(&g);
    event_base_free(base);
    buf_free(&err);
}

/* export_entries - journal export format: entries [from, to) of Postfix,
 * each 1 s after 2026-12-05T06:00:00Z, and one of sshd among them */
static void export_entries(const char *path, int from, int to)
{
    FILE   *fp = fopen(path, "w");

    assert_non_null(fp);
    for (int i = from; i < to; i++) {
	const char *unit = i % 4 == 3 ? "ssh.service" : i % 4 == 2 ? "postfix.service"
	    : "postfix@-.service";

	fprintf(fp, "__CURSOR=s=0;i=%d\n__REALTIME_TIMESTAMP=%lld\n__MONOTONIC_TIMESTAMP=%d\n"
		"_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=%s\n"
		"SYSLOG_IDENTIFIER=%s\n_PID=%d\nPRIORITY=6\n"
		"MESSAGE=lost connection after AUTH from unknown[192.0.2.%d]\n\n",
		i + 1, (1796450400LL + i) * 1000000LL, i + 1, unit,
		i % 4 == 3 ? "sshd" : "postfix/smtpd", 100 + i, i);
    }
    fclose(fp);
}

static void journal_remote(const char *export, const char *journal)
{
    char    cmd[512];

    if (access(JOURNAL_REMOTE, X_OK) != 0)
	fail_msg("%s is missing: install systemd-journal-remote (scripts/deps test)",
		 JOURNAL_REMOTE);
    snprintf(cmd, sizeof(cmd), "%s -o %s - < %s 2>/dev/null", JOURNAL_REMOTE, journal, export);
    assert_int_equal(system(cmd), 0);
}

/* test_journal - Postfix's units only, in order, with their time; the
 * cursor saved: a restart reads only what came since */
static void test_journal(void **state)
{
    char    ex[128], jf[128], st[128], want[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    struct logev *l = logev_new();
    struct ban_event ev;

    (void) state;
    path_of(ex, sizeof(ex), "a.export");
    path_of(jf, sizeof(jf), "remote.journal");
    path_of(st, sizeof(st), "journal.state");
    buf_init(&err);
    export_entries(ex, 0, 8);
    journal_remote(ex, jf);
    const char *files[] = {jf, NULL};
    struct follow *f = follow_journal_files(base, files, NULL, st, 1, on_line, &g, &err);

    if (f == NULL)
	fail_msg("%s", err.s);
    pump(base, &g, 6);
    assert_int_equal(g.n, 6);			/* 8 less two of sshd */
    for (int i = 0, k = 0; i < 8; i++) {
	if (i % 4 == 3)
	    continue;
	snprintf(want, sizeof(want), "postfix/smtpd[%d]: lost connection after AUTH from"
		 " unknown[192.0.2.%d]", 100 + i, i);
	assert_string_equal(g.v[k], want);
	/* what the classifier makes of it */
	assert_int_equal(logev_line(l, g.v[k], strlen(g.v[k]), 0, &ev), 1);
	assert_int_equal(ev.kind, BEV_LOST_AFTER_AUTH);
	k++;
    }
    assert_int_equal(g.last_when, 1796450400 + 6);
    follow_free(f);
    got_free(&g);

    /* more entries appended to the same file; a new follower resumes */
    export_entries(ex, 8, 12);
    journal_remote(ex, jf);
    f = follow_journal_files(base, files, NULL, st, 1, on_line, &g, &err);
    assert_non_null(f);
    pump(base, &g, 3);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.v[0], "postfix/smtpd[108]: lost connection after AUTH from unknown[192.0.2.8]");
    assert_string_equal(g.v[2], "postfix/smtpd[110]: lost connection after AUTH from unknown[192.0.2.10]");
    follow_free(f);
    got_free(&g);

    /* only the units asked for */
    const char *units[] = {"postfix.service", NULL};

    unlink(st);
    f = follow_journal_files(base, files, units, st, 1, on_line, &g, &err);
    assert_non_null(f);
    pump(base, &g, 3);
    assert_int_equal(g.n, 3);			/* entries 2, 6, 10 */
    assert_string_equal(g.v[1], "postfix/smtpd[106]: lost connection after AUTH from unknown[192.0.2.6]");
    follow_free(f);
    got_free(&g);
    logev_free(l);
    event_base_free(base);
    buf_free(&err);
}

/* test_state_symlink - the state directory may be the run-as user's while
 * the follower runs as root: a symbolic link planted at the state's
 * temporary name is replaced, never written through */
static void test_state_symlink(void **state)
{
    char    log[128], st[128], tmp[140], victim[128], b[64];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    struct stat sb;
    FILE   *fp;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "sl.log");
    path_of(st, sizeof(st), "sl.state");
    path_of(victim, sizeof(victim), "victim");
    snprintf(tmp, sizeof(tmp), "%s.tmp", st);
    assert_non_null(fp = fopen(victim, "w"));
    fputs("precious\n", fp);
    fclose(fp);
    assert_int_equal(symlink(victim, tmp), 0);
    buf_init(&err);
    w = open_log(log);
    put(w, 0, 3);
    struct follow *f = follow_file(base, log, st, 1, on_line, &g, &err);

    assert_non_null(f);
    pump(base, &g, 3);
    expect_lines(&g, 0, 3, -1);
    follow_free(f);
    assert_non_null(fp = fopen(victim, "r"));
    assert_non_null(fgets(b, sizeof(b), fp));
    fclose(fp);
    assert_string_equal(b, "precious\n");
    assert_int_equal(lstat(st, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_non_null(fp = fopen(st, "r"));
    assert_non_null(fgets(b, sizeof(b), fp));
    fclose(fp);
    assert_string_equal(b, "mxshield-follow 1\n");
    assert_int_equal(lstat(tmp, &sb), -1);
    got_free(&g);
    close(w);
    event_base_free(base);
    buf_free(&err);
}

/* test_state_fifo - a FIFO (or a link) at the state's name is no state: the
 * follower starts afresh at once instead of waiting on it for ever */
static void test_state_fifo(void **state)
{
    char    log[128], st[128];
    struct event_base *base = event_base_new();
    struct got g = {0};
    struct buf err;
    int     w;

    (void) state;
    path_of(log, sizeof(log), "fifo.log");
    path_of(st, sizeof(st), "fifo.state");
    assert_int_equal(mkfifo(st, 0644), 0);
    buf_init(&err);
    w = open_log(log);
    put(w, 0, 3);
    alarm(5);					/* blocked in open: a failure */
    struct follow *f = follow_file(base, log, st, 1, on_line, &g, &err);

    alarm(0);
    assert_non_null(f);
    pump(base, &g, 3);
    expect_lines(&g, 0, 3, -1);
    unlink(st);
    follow_free(f);
    got_free(&g);
    close(w);
    event_base_free(base);
    buf_free(&err);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rename_burst),
	cmocka_unit_test(test_copytruncate_burst),
	cmocka_unit_test(test_restart),
	cmocka_unit_test(test_backlog_in_turns),
	cmocka_unit_test(test_copytruncate_backlog_in_turns),
	cmocka_unit_test(test_long_line),
	cmocka_unit_test(test_journal),
	cmocka_unit_test(test_state_symlink),
	cmocka_unit_test(test_state_fifo),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
