/*
 * follow_impl.h - what the file follower (follow.c) and the journal
 * follower (follow_journal.c) share: the follower itself, its state file
 * and the turn-taking.  Not an interface: see follow.h.
 */
#ifndef MX_BAN_FOLLOW_IMPL_H
#define MX_BAN_FOLLOW_IMPL_H

#include <sys/types.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-journal.h>

#include "ban/follow.h"

#define FOLLOW_READ		(64 * 1024)	/* bytes read at a time */
#define FOLLOW_POLL_MS		1000		/* the poll besides inotify */
#define FOLLOW_OLD_GRACE	5		/* seconds a rotated file stays open */
#define FOLLOW_STATE_VERSION	1
#define FOLLOW_POLL_BYTES	(4 * 1024 * 1024)	/* read per turn of the loop */
#define FOLLOW_POLL_ENTRIES	10000		/* journal entries per turn */

 /*
  * One open file and where we are in it.  off counts the bytes read;
  * line_off is the offset after the last newline (what the state saves).
  * The head identifies the file: a hash of its first hlen bytes.
  */
struct fsrc {
    int     fd;
    dev_t   dev;
    ino_t   ino;
    off_t   off;
    off_t   line_off;
    size_t  hlen;
    unsigned long long hash;
    time_t  last_data;			/* for the grace of a rotated file */
    char   *pend;			/* its partial last line */
    size_t  plen;
    int     skipping;			/* inside a line past the limit */
};

enum follow_kind {
    FOLLOW_FILE,
    FOLLOW_JOURNAL,
};

struct follow {
    enum follow_kind kind;
    struct event_base *base;
    char   *state_path;
    follow_line_fn fn;
    void   *arg;
    struct event *timer;
    struct event *kick;			/* more to read: again soon */
    size_t  budget;			/* bytes left in this turn */
    unsigned long lines, dropped;

    char   *pend;			/* the journal's line */
    char   *rbuf;

    /* a file */
    char   *path;
    char   *dir;
    const char *name;			/* last component of path */
    int     ino_fd;
    struct event *ino_ev;
    struct fsrc cur;
    struct fsrc old;

    /* the journal */
    sd_journal *j;
    struct event *j_ev;
    char   *cursor;
};

struct saved {
    unsigned long long ino, hash;
    size_t  hlen;
    long long off;
    char    cursor[512];
};

/* follow.c */
struct follow *follow_new(enum follow_kind kind, struct event_base *base,
			          const char *state_path, follow_line_fn fn, void *arg);
void    follow_emit(struct follow *f, const char *line, size_t len, time_t when);
void    follow_kick(struct follow *f);
void    follow_save_state(struct follow *f);
int     follow_load_state(struct follow *f, struct saved *sv);

/* follow_journal.c */
void    follow_poll_journal(struct follow *f);

#endif
