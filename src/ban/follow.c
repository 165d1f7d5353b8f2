/*
 * follow.c - read a mail log as it grows: a file across rotation (inotify),
 * or the systemd journal (sd_journal, in follow_journal.c); see follow.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ban/event.h"
#include "ban/follow_impl.h"
#include "daemon/daemon.h"
#include "util/log.h"
#include "util/mem.h"

static void src_init(struct fsrc *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

static void src_close(struct fsrc *s)
{
    if (s->fd >= 0)
	close(s->fd);
    free(s->pend);
    src_init(s);
}

/* head_hash - FNV-1a of the first n bytes of fd; 0 and *h, or -1 */
static int head_hash(int fd, size_t n, unsigned long long *h)
{
    char    b[FOLLOW_HEAD_BYTES];
    ssize_t got;

    if (n > sizeof(b))
	n = sizeof(b);
    if ((got = pread(fd, b, n, 0)) < 0 || (size_t) got != n)
	return -1;
    *h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
	*h = (*h ^ (unsigned char) b[i]) * 1099511628211ULL;
    return 0;
}

/* src_head - (re)compute the identity of a source from what it holds */
static void src_head(struct fsrc *s)
{
    struct stat st;

    if (s->fd < 0 || fstat(s->fd, &st) < 0)
	return;
    size_t  n = st.st_size < FOLLOW_HEAD_BYTES ? (size_t) st.st_size : FOLLOW_HEAD_BYTES;

    if (n > s->hlen && head_hash(s->fd, n, &s->hash) == 0)
	s->hlen = n;
}

/* src_open - open a file for reading at offset; 0 or -1 (errno) */
static int src_open(struct fsrc *s, const char *path, off_t off)
{
    struct stat st;
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
	return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || lseek(fd, off, SEEK_SET) < 0) {
	close(fd);
	errno = EINVAL;
	return -1;
    }
    src_init(s);
    s->fd = fd;
    s->pend = xmalloc(LOGEV_LINE_MAX + 1);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->off = s->line_off = off;
    s->last_data = time(NULL);
    src_head(s);
    return 0;
}

/* follow_emit - hand one complete line out */
void    follow_emit(struct follow *f, const char *line, size_t len, time_t when)
{
    f->lines++;
    f->fn(f->arg, line, len, when);
}

/* feed - split bytes into lines; the partial end is kept in s->pend.
 * Returns the number of bytes up to and including the last newline. */
static size_t feed(struct follow *f, struct fsrc *s, const char *p, size_t n)
{
    const char *e = p + n, *start = p, *nl;
    size_t  upto = 0;

    while ((nl = memchr(p, '\n', (size_t) (e - p))) != NULL) {
	size_t  len = (size_t) (nl - p);

	if (s->skipping) {
	    s->skipping = 0;
	    f->dropped++;
	} else if (s->plen) {
	    if (s->plen + len > LOGEV_LINE_MAX) {
		f->dropped++;
	    } else {
		memcpy(s->pend + s->plen, p, len);
		follow_emit(f, s->pend, s->plen + len, 0);
	    }
	} else if (len > LOGEV_LINE_MAX) {
	    f->dropped++;
	} else {
	    follow_emit(f, p, len, 0);
	}
	s->plen = 0;
	p = nl + 1;
	upto = (size_t) (p - start);
    }
    if (p < e && !s->skipping) {
	size_t  len = (size_t) (e - p);

	if (s->plen + len > LOGEV_LINE_MAX) {
	    s->skipping = 1;
	    s->plen = 0;
	} else {
	    memcpy(s->pend + s->plen, p, len);
	    s->plen += len;
	}
    }
    return upto;
}

#define DRAIN_NONE	0		/* nothing new */
#define DRAIN_END	1		/* read up to the end */
#define DRAIN_MORE	2		/* this turn's budget spent: more to read */

/* drain - read a source to its end, or until this turn's budget is
 * spent (limited: a long backlog must not stall the loop) */
static int drain(struct follow *f, struct fsrc *s, int limited)
{
    ssize_t n = 0;
    int     any = 0;

    if (s->fd < 0)
	return DRAIN_NONE;
    for (;;) {
	if (limited && f->budget == 0) {
	    if (any)
		s->last_data = time(NULL);
	    return DRAIN_MORE;
	}
	if ((n = read(s->fd, f->rbuf, FOLLOW_READ)) <= 0)
	    break;
	size_t  upto = feed(f, s, f->rbuf, (size_t) n);

	if (upto)
	    s->line_off = s->off + (off_t) upto;
	s->off += n;
	f->budget = (size_t) n >= f->budget ? 0 : f->budget - (size_t) n;
	any = 1;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
	msg_warn("follow: read %s: %m", f->path);
    if (any)
	s->last_data = time(NULL);
    return any ? DRAIN_END : DRAIN_NONE;
}

/* follow_kick - come back soon, after the loop has looked at other events */
void    follow_kick(struct follow *f)
{
    struct timeval now = {0, 0};

    evtimer_add(f->kick, &now);
}

/* drop_partial - a file ends: its unfinished line is no line */
static void drop_partial(struct follow *f, struct fsrc *s)
{
    if (s->plen || s->skipping)
	f->dropped++;
    s->plen = 0;
    s->skipping = 0;
}

 /*
  * The state file: "mxshield-follow 1", then "file INO HLEN HASH OFFSET"
  * or "journal CURSOR".
  */

/* follow_save_state - write the state (temporary file, then rename).  The
 * directory (data_directory) may belong to the run-as user while this
 * runs as root (mxshield ban follow --state): whatever sits at the
 * temporary name, a symbolic link included, is removed and the file made
 * anew (O_EXCL | O_NOFOLLOW), never written through. */
void    follow_save_state(struct follow *f)
{
    char    tmp[PATH_MAX];
    FILE   *fp = NULL;
    int     fd;

    if (f->state_path == NULL)
	return;
    if (f->kind == FOLLOW_FILE && f->cur.fd < 0)
	return;
    if (f->kind == FOLLOW_JOURNAL && f->cursor == NULL)
	return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->state_path);
    (void) unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0
	|| (fp = fdopen(fd, "w")) == NULL) {
	msg_warn("follow: create %s: %m", tmp);
	if (fd >= 0)
	    close(fd);
	return;
    }
    fprintf(fp, "mxshield-follow %d\n", FOLLOW_STATE_VERSION);
    if (f->kind == FOLLOW_FILE) {
	src_head(&f->cur);
	fprintf(fp, "file %llu %zu %llx %lld\n", (unsigned long long) f->cur.ino, f->cur.hlen,
		f->cur.hash, (long long) f->cur.line_off);
    } else {
	fprintf(fp, "journal %s\n", f->cursor);
    }
    if (fclose(fp) != 0 || rename(tmp, f->state_path) < 0)
	msg_warn("follow: write %s: %m", f->state_path);
}

/* follow_load_state - 1 and *sv for a state of kind, 0 when none or unusable */
int     follow_load_state(struct follow *f, struct saved *sv)
{
    FILE   *fp;
    int     version, ok = 0, fd;
    char    kind[16];
    struct stat st;

    memset(sv, 0, sizeof(*sv));
    if (f->state_path == NULL)
	return 0;
    /* read as root before the drop, from the run-as user's directory: a
     * regular file only (a FIFO put there would block the start for good) */
    if ((fd = open(f->state_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
	return 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (fp = fdopen(fd, "r")) == NULL) {
	msg_warn("follow: %s: not a regular file; starting afresh", f->state_path);
	close(fd);
	return 0;
    }
    if (fscanf(fp, "mxshield-follow %d %15s", &version, kind) == 2
	&& version == FOLLOW_STATE_VERSION) {
	if (f->kind == FOLLOW_FILE && strcmp(kind, "file") == 0)
	    ok = fscanf(fp, "%llu %zu %llx %lld", &sv->ino, &sv->hlen, &sv->hash, &sv->off) == 4
		&& sv->off >= 0 && sv->hlen <= FOLLOW_HEAD_BYTES;
	else if (f->kind == FOLLOW_JOURNAL && strcmp(kind, "journal") == 0)
	    ok = fscanf(fp, " %511s", sv->cursor) == 1;
    }
    fclose(fp);
    if (!ok)
	msg_warn("follow: %s: not a state of this follower; starting afresh", f->state_path);
    return ok;
}

 /*
  * Files.
  */

/* same_head - does fd begin with the bytes a hash identifies? */
static int same_head(int fd, size_t hlen, unsigned long long hash)
{
    unsigned long long h;

    if (hlen == 0)				/* it was empty: nothing to compare */
	return 1;
    return head_hash(fd, hlen, &h) == 0 && h == hash;
}

/* find_copy - the rotated sibling (NAME.1, NAME-DATE, NAME.N) that begins
 * as the followed file did and holds at least off bytes; 0 and s opened
 * at off, or -1 */
static int find_copy(struct follow *f, ino_t not_ino, size_t hlen, unsigned long long hash,
		             off_t off, struct fsrc *s)
{
    DIR    *d = opendir(f->dir);
    struct dirent *de;
    size_t  nl = strlen(f->name);
    char    p[PATH_MAX];
    int     found = -1;

    if (d == NULL)
	return -1;
    while (found < 0 && (de = readdir(d)) != NULL) {
	const char *n = de->d_name;
	const char *dot = strrchr(n, '.');
	struct stat st;

	if (strncmp(n, f->name, nl) != 0 || (n[nl] != '.' && n[nl] != '-') || n[nl + 1] == 0)
	    continue;
	if (dot && (strcmp(dot, ".gz") == 0 || strcmp(dot, ".xz") == 0 || strcmp(dot, ".bz2") == 0
		    || strcmp(dot, ".zst") == 0 || strcmp(dot, ".tmp") == 0))
	    continue;
	snprintf(p, sizeof(p), "%s/%s", f->dir, n);
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino == not_ino || st.st_size < off)
	    continue;
	if (src_open(s, p, off) < 0)
	    continue;
	if (same_head(s->fd, hlen, hash))
	    found = 0;
	else
	    src_close(s);
    }
    closedir(d);
    return found;
}

/* old_copy - a rotated copy still to be read becomes the old source, read
 * a turn's budget at a time before the new file (a backlog in it must not
 * stall the loop); a rotated file still open goes first, whole */
static void old_copy(struct follow *f, struct fsrc *c)
{
    if (f->old.fd >= 0) {
	drain(f, &f->old, 0);
	drop_partial(f, &f->old);
	src_close(&f->old);
    }
    f->old = *c;
    f->old.last_data = time(NULL);
}

/* read_copy - after a copytruncate, the part of the copy not yet read
 * (the partial line read from the original goes on in the copy): it is
 * read from the old source, before the truncated file */
static void read_copy(struct follow *f, struct fsrc *was)
{
    struct fsrc c;

    if (find_copy(f, was->ino, was->hlen, was->hash, was->off, &c) == 0) {
	memcpy(c.pend, was->pend, was->plen);
	c.plen = was->plen;
	c.skipping = was->skipping;
	old_copy(f, &c);
    } else if (was->off > 0) {
	msg_warn("follow: %s was truncated and no copy of it found: lines may be lost",
		 f->path);
	drop_partial(f, was);
    }
    was->plen = 0;
    was->skipping = 0;
}

/* poll_file - what is new in the followed file and a rotated one */
static void poll_file(struct follow *f)
{
    unsigned long before = f->lines;
    struct stat st;
    int     more = 0;

    f->budget = FOLLOW_POLL_BYTES;

    /* a file rotated by rename: read what is still appended to it,
     * unless it was rewritten meanwhile (then it is not ours any more) */
    if (f->old.fd >= 0 && (fstat(f->old.fd, &st) < 0 || st.st_size < f->old.off
			   || !same_head(f->old.fd, f->old.hlen, f->old.hash))) {
	drop_partial(f, &f->old);
	src_close(&f->old);
    }
    if (f->old.fd >= 0) {
	if (drain(f, &f->old, 1) == DRAIN_MORE)
	    more = 1;
	else if (time(NULL) - f->old.last_data >= FOLLOW_OLD_GRACE) {
	    drop_partial(f, &f->old);
	    src_close(&f->old);
	}
    }

    if (f->cur.fd < 0) {
	if (src_open(&f->cur, f->path, 0) < 0) {
	    if (errno != ENOENT)
		msg_warn("follow: open %s: %m", f->path);
	    goto out;
	}
    }

    /* copytruncate: the file is shorter than what was read, or begins
     * otherwise (truncated and written again since the last look) */
    if (fstat(f->cur.fd, &st) == 0
	&& (st.st_size < f->cur.off || !same_head(f->cur.fd, f->cur.hlen, f->cur.hash))) {
	read_copy(f, &f->cur);
	f->cur.off = f->cur.line_off = 0;
	f->cur.hlen = 0;
	(void) lseek(f->cur.fd, 0, SEEK_SET);
	src_head(&f->cur);
	/* the copy's lines come first */
	if (drain(f, &f->old, 1) == DRAIN_MORE) {
	    more = 1;
	    goto out;
	}
    }
    if (drain(f, &f->cur, 1) == DRAIN_MORE) {
	more = 1;				/* rotation is looked at once read */
	goto out;
    }
    src_head(&f->cur);				/* the identity grows to its size */

    /* rename: the name is another file now (or none yet); the little
     * written since the drain above is read whole */
    if (stat(f->path, &st) < 0 ? errno == ENOENT
	: (st.st_ino != f->cur.ino || st.st_dev != f->cur.dev)) {
	drain(f, &f->cur, 0);
	if (f->old.fd >= 0) {			/* rotated twice in its grace */
	    drain(f, &f->old, 0);
	    drop_partial(f, &f->old);
	}
	src_close(&f->old);
	f->old = f->cur;
	f->old.last_data = time(NULL);
	src_init(&f->cur);
	if (src_open(&f->cur, f->path, 0) == 0 && drain(f, &f->cur, 1) == DRAIN_MORE)
	    more = 1;
    }
  out:
    if (f->lines != before)
	follow_save_state(f);
    if (more)
	follow_kick(f);
}

/* resume_file - start where the state says, or at the start or end */
static void resume_file(struct follow *f, int from_start)
{
    struct saved sv;
    struct fsrc c;
    struct stat st;

    if (!follow_load_state(f, &sv)) {
	if (src_open(&f->cur, f->path, 0) == 0 && !from_start && fstat(f->cur.fd, &st) == 0) {
	    /* only what comes next: from the end of the last whole line */
	    off_t   end = st.st_size;
	    char    ch;

	    while (end > 0 && pread(f->cur.fd, &ch, 1, end - 1) == 1 && ch != '\n')
		end--;
	    f->cur.off = f->cur.line_off = end;
	    (void) lseek(f->cur.fd, end, SEEK_SET);
	}
	return;
    }
    /* the same file: resume */
    if (src_open(&f->cur, f->path, 0) == 0 && f->cur.ino == sv.ino
	&& fstat(f->cur.fd, &st) == 0 && st.st_size >= sv.off
	&& same_head(f->cur.fd, sv.hlen, sv.hash)) {
	f->cur.off = f->cur.line_off = (off_t) sv.off;
	(void) lseek(f->cur.fd, (off_t) sv.off, SEEK_SET);
	return;
    }
    /* rotated while we were away: the rest of the old one first */
    if (find_copy(f, f->cur.fd >= 0 ? f->cur.ino : 0, sv.hlen, sv.hash, (off_t) sv.off, &c) == 0) {
	old_copy(f, &c);		/* read first, in turns */
    } else {
	msg_warn("follow: %s is not the file of %s and its rotated copy was not found;"
		 " reading it from its start", f->path, f->state_path);
    }
    if (f->cur.fd >= 0) {
	f->cur.off = f->cur.line_off = 0;
	(void) lseek(f->cur.fd, 0, SEEK_SET);
    }
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
    struct follow *f = arg;
    char    b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void) what;
    while (read(fd, b, sizeof(b)) > 0)
	;
    follow_poll(f);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    follow_poll(arg);
}

/* follow_new - what every follower has */
struct follow *follow_new(enum follow_kind kind, struct event_base *base,
				         const char *state_path, follow_line_fn fn, void *arg)
{
    struct follow *f = xcalloc(1, sizeof(*f));
    struct timeval tv = {FOLLOW_POLL_MS / 1000, (FOLLOW_POLL_MS % 1000) * 1000};

    f->kind = kind;
    f->base = base;
    f->state_path = state_path ? xstrdup(state_path) : NULL;
    f->fn = fn;
    f->arg = arg;
    f->pend = xmalloc(LOGEV_LINE_MAX + 1);
    f->rbuf = xmalloc(FOLLOW_READ);
    f->ino_fd = -1;
    src_init(&f->cur);
    src_init(&f->old);
    f->timer = event_new(base, -1, EV_PERSIST, on_timer, f);
    event_add(f->timer, &tv);
    f->kick = evtimer_new(base, on_timer, f);
    return f;
}

/* follow_file - follow a log file */
struct follow *follow_file(struct event_base *base, const char *path, const char *state_path,
			           int from_start, follow_line_fn fn, void *arg, struct buf *err)
{
    struct follow *f;
    const char *slash = strrchr(path, '/');

    f = follow_new(FOLLOW_FILE, base, state_path, fn, arg);
    f->path = xstrdup(path);
    f->dir = slash ? xstrndup(path, slash == path ? 1 : (size_t) (slash - path)) : xstrdup(".");
    f->name = slash ? f->path + (slash - path) + 1 : f->path;
    if ((f->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0
	|| inotify_add_watch(f->ino_fd, f->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO
			     | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
	buf_printf(err, "follow %s: inotify on %s: %s", path, f->dir, strerror(errno));
	follow_free(f);
	return NULL;
    }
    f->ino_ev = event_new(base, f->ino_fd, EV_READ | EV_PERSIST, on_inotify, f);
    event_add(f->ino_ev, NULL);
    resume_file(f, from_start);
    event_active(f->timer, EV_TIMEOUT, 0);	/* what is there already: soon */
    return f;
}

/* follow_poll - read what is new now (at most a turn's budget; the rest
 * comes on the next turn of the loop), as labelled work for the loop's
 * stall warning */
void    follow_poll(struct follow *f)
{
    struct daemon_work w;
    const char *previous = log_service_enter(FOLLOW_SERVICE);

    daemon_work_begin(&w, "log follower");
    if (f->kind == FOLLOW_FILE)
	poll_file(f);
    else
	follow_poll_journal(f);
    daemon_work_end(&w);
    log_service_leave(previous);
}

unsigned long follow_lines(const struct follow *f)
{
    return f->lines;
}

unsigned long follow_dropped(const struct follow *f)
{
    return f->dropped;
}

/* follow_free - save the state and close */
void    follow_free(struct follow *f)
{
    if (f == NULL)
	return;
    follow_save_state(f);
    if (f->timer)
	event_free(f->timer);
    if (f->kick)
	event_free(f->kick);
    if (f->ino_ev)
	event_free(f->ino_ev);
    if (f->ino_fd >= 0)
	close(f->ino_fd);
    if (f->j_ev)
	event_free(f->j_ev);
    if (f->j)
	sd_journal_close(f->j);
    src_close(&f->cur);
    src_close(&f->old);
    free(f->cursor);
    free(f->path);
    free(f->dir);
    free(f->state_path);
    free(f->pend);
    free(f->rbuf);
    free(f);
}

 /*
  * A source on the daemon's loop: nothing to accept, nothing in flight.
  */
static void follow_drain(void *ctx)
{
    follow_save_state(ctx);
}

static size_t follow_busy(void *ctx)
{
    (void) ctx;
    return 0;
}

static void follow_close(void *ctx)
{
    follow_free(ctx);
}

const struct daemon_handler_ops follow_handler_ops = {
    .name = FOLLOW_SERVICE,
    .accept = NULL,
    .reload = NULL,
    .drain = follow_drain,
    .busy = follow_busy,
    .close = follow_close,
};
