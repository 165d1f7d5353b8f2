/*
 * import_postgrey.c - `mxshield greylist import-postgrey DIR`: bring
 * postgrey's database over, so that switching does not greylist every
 * known sender again.
 *
 * DESCRIPTION
 *	postgrey keeps two BerkeleyDB btrees in its --dbdir: postgrey.db,
 *	key lc("NET/SENDER/RECIPIENT") (NET the client's network address,
 *	or with --lookup-by-host "ADDR/32"; SENDER already normalised as
 *	greylist.h describes), value "FIRST,LAST[,HOST]"; and
 *	postgrey_clients.db, key the client address, value "COUNT,LAST".
 *	With --privacy both keys are SHA-1 hex digests.  Berkeley DB's own
 *	db_dump (Debian's db-util: db_dump or db5.3_dump) prints them; this
 *	reads its printable (-p) output through a pipe, so mxshield does
 *	not link Berkeley DB.
 *
 *	postgrey writes through a transactional environment: what it
 *	committed may still be only in the environment's log (log.*) when
 *	it stopped without a checkpoint (killed, a crash, or an exit in
 *	which Perl freed the environment before the databases).  So the
 *	databases and logs are copied into a private directory and
 *	db_recover runs there first, as postgrey itself would at its next
 *	start; postgrey's directory is never written.  A postgrey still
 *	running (its postgrey.lock held) is refused: stop it first.
 *
 *	Each triplet is stored under the key mxshield builds for the same
 *	client, sender and recipient with the current configuration (the
 *	network prefix, greylist_lookup_by_host), and, with greylist_spf_key,
 *	also under the key it uses when SPF passes for the sender's domain:
 *	postgrey saw that sender and recipient get through, and mxshield
 *	counts every server the domain authorises as the same sender.  Two
 *	records for one key (or one already in mxshield's database) merge:
 *	a record that passed greylisting wins over one that did not, then
 *	the one seen last.  Hashed keys (postgrey --privacy) can only be
 *	copied as they are, and only with greylist_privacy = yes.
 *
 * DIAGNOSTICS
 *	A record that is not postgrey's is counted and skipped; the counts
 *	are printed.  A missing dump program, a dump that fails, or a write
 *	that fails: exit 1 with the reason.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/import_postgrey.h"
#include "conf/config.h"
#include "greylist/greylist.h"
#include "rules/policy.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

/* the longest dump line taken: far above any postgrey key */
#define PG_LINE_MAX	4096

struct pg_import {
    const struct gl_conf *g;
    int     spf_key;
    struct store *s;
    long    triplets, spf_keys, clients, kept, bad, hashed, failed;
};

/* find_tool - the first of names found on PATH, into out; -1 if none */
static int find_tool(const char *const *names, size_t n, struct buf *out)
{
    const char *path = getenv("PATH");

    if (path == NULL || *path == 0)
	path = "/usr/local/bin:/usr/bin:/bin";
    for (size_t i = 0; i < n; i++) {
	for (const char *p = path; *p;) {
	    const char *colon = strchr(p, ':');
	    size_t  len = colon ? (size_t) (colon - p) : strlen(p);

	    buf_reset(out);
	    buf_append(out, p, len);
	    buf_printf(out, "/%s", names[i]);
	    if (len > 0 && access(out->s, X_OK) == 0)
		return 0;
	    p += len + (colon != NULL);
	}
    }
    return -1;
}

/* is_db_file - the files of postgrey's directory that recovery needs */
static int is_db_file(const char *name)
{
    return strcmp(name, "postgrey.db") == 0 || strcmp(name, "postgrey_clients.db") == 0
	|| (strncmp(name, "log.", 4) == 0 && strspn(name + 4, "0123456789") == strlen(name + 4)
	    && name[4] != 0);
}

/* copy_file - src to a new file dst (mode 0600); -1 with errno */
static int copy_file(const char *src, const char *dst)
{
    char    block[65536];
    ssize_t n = 0;
    int     in, out, saved;

    if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
	return -1;
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
	saved = errno;
	close(in);
	errno = saved;
	return -1;
    }
    while ((n = read(in, block, sizeof(block))) > 0) {
	for (ssize_t off = 0; off < n;) {
	    ssize_t w = write(out, block + off, (size_t) (n - off));

	    if (w < 0 && errno == EINTR)
		continue;
	    if (w < 0) {
		n = -1;
		goto done;
	    }
	    off += w;
	}
    }
done:
    saved = errno;
    close(in);
    if (close(out) < 0 && n == 0)
	n = -1;
    errno = saved;
    return n < 0 ? -1 : 0;
}

/* remove_dir - the private copy and what db_recover made in it */
static void remove_dir(const char *dir)
{
    DIR    *d = opendir(dir);
    struct dirent *e;
    struct buf p;

    buf_init(&p);
    while (d != NULL && (e = readdir(d)) != NULL) {
	if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
	    continue;
	buf_reset(&p);
	buf_printf(&p, "%s/%s", dir, e->d_name);
	(void) unlink(p.s);
    }
    if (d != NULL)
	closedir(d);
    (void) rmdir(dir);
    buf_free(&p);
}

/* run_wait - run argv, wait; its exit status, -1 when it did not exit */
static int run_wait(char *const argv[])
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) < 0)
	msg_fatal("fork: %m");
    if (pid == 0) {
	int     null = open("/dev/null", O_WRONLY);

	if (null >= 0)
	    dup2(null, 1);		/* its chatter; errors stay on stderr */
	execv(argv[0], argv);
	fprintf(stderr, "mxshield greylist: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* recovered_copy - postgrey's databases and logs copied into a new
 * private directory (into tmp) and recovered there; -1 with a message */
static int recovered_copy(const char *dir, struct buf *tmp)
{
    static const char *const recover[] = {"db_recover", "db5.3_recover"};
    struct buf prog, src, dst;
    DIR    *d;
    struct dirent *e;
    int     rc = -1, lock;
    const char *t = getenv("TMPDIR");
    char   *argv[] = {NULL, "-h", NULL, NULL};

    buf_init(&prog);
    buf_init(&src);
    buf_init(&dst);
    buf_reset(tmp);
    if (find_tool(recover, sizeof(recover) / sizeof(recover[0]), &prog) < 0) {
	fprintf(stderr, "mxshield greylist: neither db_recover nor db5.3_recover is on PATH "
		"(Debian: apt-get install db-util)\n");
	goto out;
    }
    buf_printf(&src, "%s/postgrey.lock", dir);
    if ((lock = open(src.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
	int     busy = flock(lock, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;

	close(lock);
	if (busy) {
	    fprintf(stderr, "mxshield greylist: %s is locked: postgrey is still running "
		    "on %s; stop it first\n", src.s, dir);
	    goto out;
	}
    }
    buf_printf(tmp, "%s/mxshield-postgrey.XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(tmp->s) == NULL) {
	fprintf(stderr, "mxshield greylist: %s: %s\n", tmp->s, strerror(errno));
	buf_reset(tmp);
	goto out;
    }
    if ((d = opendir(dir)) == NULL) {
	fprintf(stderr, "mxshield greylist: %s: %s\n", dir, strerror(errno));
	goto out;
    }
    while ((e = readdir(d)) != NULL) {
	if (!is_db_file(e->d_name))
	    continue;
	buf_reset(&src);
	buf_printf(&src, "%s/%s", dir, e->d_name);
	buf_reset(&dst);
	buf_printf(&dst, "%s/%s", tmp->s, e->d_name);
	if (copy_file(src.s, dst.s) < 0) {
	    fprintf(stderr, "mxshield greylist: copying %s: %s\n", src.s, strerror(errno));
	    closedir(d);
	    goto out;
	}
    }
    closedir(d);
    argv[0] = prog.s;
    argv[2] = tmp->s;
    if (run_wait(argv) != 0) {
	fprintf(stderr, "mxshield greylist: %s -h %s (a copy of %s) failed\n",
		prog.s, tmp->s, dir);
	goto out;
    }
    rc = 0;
out:
    if (rc < 0 && tmp->len > 0) {
	remove_dir(tmp->s);
	buf_reset(tmp);
    }
    buf_free(&prog);
    buf_free(&src);
    buf_free(&dst);
    return rc;
}

/* dump_open - a pipe from `db_dump -p file` */
static FILE *dump_open(const char *prog, const char *file, pid_t *pid)
{
    int     fd[2];

    if (pipe(fd) < 0)
	msg_fatal("pipe: %m");
    if ((*pid = fork()) < 0)
	msg_fatal("fork: %m");
    if (*pid == 0) {
	dup2(fd[1], 1);
	close(fd[0]);
	close(fd[1]);
	execl(prog, prog, "-p", file, (char *) NULL);
	fprintf(stderr, "mxshield greylist: %s: %s\n", prog, strerror(errno));
	_exit(127);
    }
    close(fd[1]);
    return fdopen(fd[0], "r");
}

/* unescape - a db_dump -p data line (after its leading space); -1: bad */
static int unescape(const char *in, struct buf *out)
{
    buf_reset(out);
    for (; *in; in++) {
	if (*in != '\\') {
	    buf_putc(out, *in);
	} else if (in[1] == '\\') {
	    buf_putc(out, '\\');
	    in++;
	} else if (isxdigit((unsigned char) in[1]) && isxdigit((unsigned char) in[2])) {
	    char    hex[3] = {in[1], in[2], 0};
	    int     c = (int) strtol(hex, NULL, 16);

	    if (c == 0)
		return -1;		/* no NUL in a key of ours */
	    buf_putc(out, c);
	    in += 2;
	} else {
	    return -1;
	}
    }
    return 0;
}

/* two_numbers - "A,B[,...]" from postgrey's value */
static int two_numbers(const char *v, int64_t *a, int64_t *b)
{
    char   *end;
    long long x, y;

    if (!isdigit((unsigned char) *v))
	return -1;
    x = strtoll(v, &end, 10);
    if (*end != ',' || !isdigit((unsigned char) end[1]))
	return -1;
    y = strtoll(end + 1, &end, 10);
    if (*end != 0 && *end != ',')
	return -1;
    if (x < 0 || y < 0 || x > STORE_FIELD_MAX || y > STORE_FIELD_MAX)
	return -1;
    *a = x;
    *b = y;
    return 0;
}

/* is_hashed - a SHA-1 hex key (postgrey --privacy) */
static int is_hashed(const char *k)
{
    return strlen(k) == 40 && strspn(k, "0123456789abcdef") == 40;
}

/* status_cb, get_cb - what a store call came to (LMDB answers at once) */
static void status_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    (void) val;
    (void) len;
    *(enum store_status *) arg = st;
}

struct got {
    enum store_status st;
    unsigned char val[STORE_VALUE_MAX];
    size_t  len;
};

static void get_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    struct got *g = arg;

    g->st = st;
    g->len = 0;
    if (st == STORE_OK && len <= sizeof(g->val)) {
	memcpy(g->val, val, len);
	g->len = len;
    }
}

/* put_triplet - store, unless the record already there is the better one */
static void put_triplet(struct pg_import *x, const struct buf *key, const struct gl_triplet *t,
		               const struct inet_addr *client)
{
    struct got old = {STORE_ERROR, {0}, 0};
    struct gl_triplet o;
    unsigned char val[STORE_VALUE_MAX];
    enum store_status st = STORE_ERROR;

    store_get(x->s, "triplets", key->s, key->len, get_cb, &old);
    if (old.st == STORE_OK && gl_triplet_decode(old.val, old.len, &o) != STORE_VALUE_BAD) {
	int     op = o.last - o.first >= x->g->delay, np = t->last - t->first >= x->g->delay;

	if (op > np || (op == np && o.last >= t->last)) {
	    x->kept++;
	    return;
	}
    }
    store_put(x->s, "triplets", key->s, key->len, val,
	      client ? gl_triplet_encode_client(t, client, val) : gl_triplet_encode(t, val),
	      status_cb, &st);
    if (st != STORE_OK)
	x->failed++;
}

/* import_triplet - one record of postgrey.db */
static void import_triplet(struct pg_import *x, char *k, const char *v)
{
    struct gl_triplet t;
    struct buf key;
    char   *s1, *s2, *net = k, *sender, *rcpt;

    if (two_numbers(v, &t.first, &t.last) < 0) {
	x->bad++;
	return;
    }
    buf_init(&key);
    if (is_hashed(k)) {
	if (!x->g->privacy) {
	    x->hashed++;
	    buf_free(&key);
	    return;
	}
	buf_puts(&key, k);		/* the same SHA-1 where the text agrees */
	put_triplet(x, &key, &t, NULL);
	x->triplets++;
	buf_free(&key);
	return;
    }
    /* NET[/LEN]/SENDER/RECIPIENT; the recipient has no '/' */
    if ((s1 = strchr(k, '/')) == NULL || (s2 = strrchr(k, '/')) == s1) {
	x->bad++;
	buf_free(&key);
	return;
    }
    *s1 = 0;
    sender = s1 + 1;
    if (isdigit((unsigned char) *sender)) {	/* --lookup-by-host: ADDR/32 */
	size_t  d = strspn(sender, "0123456789");

	if (d <= 3 && sender[d] == '/' && sender + d != s2)
	    sender += d + 1;
    }
    *s2 = 0;
    rcpt = s2 + 1;
    if (gl_triplet_key(x->g, net, NULL, sender, rcpt, &key) < 0) {
	x->bad++;
	buf_free(&key);
	return;
    }
    put_triplet(x, &key, &t, NULL);
    x->triplets++;

    /* what mxshield looks up once SPF passes for the sender's domain */
    const char *at = strrchr(sender, '@');

    if (x->spf_key && at && at[1]
	&& gl_triplet_key(x->g, net, at + 1, sender, rcpt, &key) == 0) {
	struct inet_addr a;		/* postgrey's network, for list --client */

	put_triplet(x, &key, &t, inet_parse(net, &a) == 0 ? &a : NULL);
	x->spf_keys++;
    }
    buf_free(&key);
}

/* import_client - one record of postgrey_clients.db */
static void import_client(struct pg_import *x, const char *k, const char *v)
{
    struct gl_client c, o;
    struct buf key;
    struct got old = {STORE_ERROR, {0}, 0};
    unsigned char val[STORE_VALUE_MAX];
    enum store_status st = STORE_ERROR;

    if (two_numbers(v, &c.count, &c.last) < 0) {
	x->bad++;
	return;
    }
    buf_init(&key);
    if (is_hashed(k)) {
	if (!x->g->privacy) {
	    x->hashed++;
	    buf_free(&key);
	    return;
	}
	buf_puts(&key, k);
    } else if (gl_client_key(x->g, k, &key) < 0) {
	x->bad++;
	buf_free(&key);
	return;
    }
    store_get(x->s, "clients", key.s, key.len, get_cb, &old);
    if (old.st == STORE_OK && gl_client_decode(old.val, old.len, &o) != STORE_VALUE_BAD
	&& o.count >= c.count) {
	x->kept++;
    } else {
	store_put(x->s, "clients", key.s, key.len, val, gl_client_encode(&c, val),
		  status_cb, &st);
	if (st != STORE_OK)
	    x->failed++;
	x->clients++;
    }
    buf_free(&key);
}

/* import_file - every record of one database file; -1 if it cannot be read */
static int import_file(struct pg_import *x, const char *prog, const char *file, int clients)
{
    pid_t   pid;
    FILE   *fp = dump_open(prog, file, &pid);
    char   *line = NULL;
    size_t  cap = 0;
    ssize_t n;
    int     in_data = 0, status, have_key = 0, done = 0;
    struct buf k, v;

    buf_init(&k);
    buf_init(&v);
    while ((n = getline(&line, &cap, fp)) > 0) {
	if (n > 0 && line[n - 1] == '\n')
	    line[--n] = 0;
	if (!in_data) {
	    in_data = strcmp(line, "HEADER=END") == 0;
	    continue;
	}
	if (strcmp(line, "DATA=END") == 0) {
	    done = 1;
	    break;
	}
	if (line[0] != ' ')
	    continue;
	struct buf *b = have_key ? &v : &k;
	int     ok = n <= PG_LINE_MAX && unescape(line + 1, b) == 0;

	if (!have_key) {
	    have_key = 1;
	    if (!ok)
		buf_reset(&k);
	    continue;
	}
	have_key = 0;
	if (!ok || k.len == 0)
	    x->bad++;
	else if (clients)
	    import_client(x, k.s, v.s);
	else
	    import_triplet(x, k.s, v.s);
    }
    while (getline(&line, &cap, fp) > 0)
	;				/* let the dump finish */
    free(line);
    fclose(fp);
    buf_free(&k);
    buf_free(&v);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0
	|| !done) {
	fprintf(stderr, "mxshield greylist: %s -p %s failed\n", prog, file);
	return -1;
    }
    return 0;
}

int     greylist_import_postgrey(const struct config *c, const struct gl_conf *g,
				         struct store *s, const char *dir)
{
    struct pg_import x;
    static const char *const dump[] = {"db_dump", "db5.3_dump"};
    struct buf prog, file, tmp;
    int     rc = 0;

    memset(&x, 0, sizeof(x));
    x.g = g;
    x.spf_key = config_bool(c, P_GL_SPF_KEY);
    x.s = s;
    buf_init(&prog);
    buf_init(&file);
    buf_init(&tmp);
    if (find_tool(dump, sizeof(dump) / sizeof(dump[0]), &prog) < 0) {
	fprintf(stderr, "mxshield greylist: neither db_dump nor db5.3_dump is on PATH "
		"(Debian: apt-get install db-util)\n");
	rc = 1;
	goto out;
    }
    buf_printf(&file, "%s/postgrey.db", dir);
    if (access(file.s, R_OK) < 0) {
	fprintf(stderr, "mxshield greylist: %s: %s\n", file.s, strerror(errno));
	rc = 1;
	goto out;
    }
    if (recovered_copy(dir, &tmp) < 0) {
	rc = 1;
	goto out;
    }
    buf_reset(&file);
    buf_printf(&file, "%s/postgrey.db", tmp.s);
    if (import_file(&x, prog.s, file.s, 0) < 0)
	rc = 1;
    buf_reset(&file);
    buf_printf(&file, "%s/postgrey_clients.db", tmp.s);
    if (rc == 0 && access(file.s, R_OK) == 0 && import_file(&x, prog.s, file.s, 1) < 0)
	rc = 1;
    printf("imported: %ld triplets (%ld also under the SPF domain's key), %ld clients\n",
	   x.triplets, x.spf_keys, x.clients);
    if (x.kept)
	printf("kept: %ld records already in the database that were newer\n", x.kept);
    if (x.bad)
	printf("skipped: %ld records that are not postgrey's\n", x.bad);
    if (x.hashed)
	printf("skipped: %ld hashed records (postgrey --privacy): they need "
	       "greylist_privacy = yes\n", x.hashed);
    if (x.failed) {
	fprintf(stderr, "mxshield greylist: %ld database writes failed\n", x.failed);
	rc = 1;
    }
out:
    if (tmp.len > 0)
	remove_dir(tmp.s);
    buf_free(&prog);
    buf_free(&file);
    buf_free(&tmp);
    return rc;
}
