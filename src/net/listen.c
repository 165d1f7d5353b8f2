/*
 * listen.c - parse and open listener specifications.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "net/listen.h"
#include "util/log.h"
#include "util/mem.h"

#define LISTEN_BACKLOG	1024

/* host_ok - a host name (LDH labels) or a dotted IPv4 address */
static int host_ok(const char *h)
{
    size_t  label = 0;

    if (*h == 0 || strlen(h) > 253)
	return 0;
    for (const char *p = h; *p; p++) {
	if (*p == '.') {
	    if (label == 0)
		return 0;
	    label = 0;
	} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		   || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
	    if (++label > 63)
		return 0;
	} else {
	    return 0;
	}
    }
    return 1;
}

/* listen_parse - one listener word */
int     listen_parse(const char *word, struct listen_spec *out, struct buf *err)
{
    const char *usage = "expected inet:HOST:PORT, inet:[IPv6]:PORT or unix:/path";

    memset(out, 0, sizeof(*out));
    if (strlen(word) > LISTEN_TEXT_MAX) {
	buf_printf(err, "listener \"%.40s...\" longer than %d bytes", word, LISTEN_TEXT_MAX);
	return -1;
    }
    strcpy(out->text, word);
    if (strncmp(word, "unix:", 5) == 0) {
	const char *path = word + 5;

	out->type = LISTEN_UNIX;
	if (path[0] != '/') {
	    buf_printf(err, "bad listener \"%s\": a unix socket needs an absolute path", word);
	    return -1;
	}
	if (strlen(path) >= sizeof(out->path)) {
	    buf_printf(err, "bad listener \"%s\": path longer than %zu bytes", word,
		       sizeof(out->path) - 1);
	    return -1;
	}
	strcpy(out->path, path);
	return 0;
    }
    if (strncmp(word, "inet:", 5) != 0) {
	buf_printf(err, "bad listener \"%s\" (%s)", word, usage);
	return -1;
    }
    out->type = LISTEN_INET;

    const char *host = word + 5;
    const char *colon = strrchr(host, ':');
    size_t  hlen;

    if (colon == NULL || colon == host || !str_is_digits(colon + 1) || colon[1] == 0
	|| strlen(colon + 1) > 5 || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535) {
	buf_printf(err, "bad listener \"%s\": %s, PORT from 1 to 65535", word, usage);
	return -1;
    }
    out->port = (unsigned) atoi(colon + 1);
    hlen = (size_t) (colon - host);
    if (host[0] == '[') {
	struct in6_addr a6;

	if (hlen < 3 || host[hlen - 1] != ']' || hlen - 2 >= sizeof(out->host)) {
	    buf_printf(err, "bad listener \"%s\": %s", word, usage);
	    return -1;
	}
	memcpy(out->host, host + 1, hlen - 2);
	out->host[hlen - 2] = 0;
	if (inet_pton(AF_INET6, out->host, &a6) != 1) {
	    buf_printf(err, "bad listener \"%s\": \"%s\" is not an IPv6 address", word, out->host);
	    return -1;
	}
	return 0;
    }
    if (hlen >= sizeof(out->host)) {
	buf_printf(err, "bad listener \"%s\": host name too long", word);
	return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    if (!host_ok(out->host)) {
	buf_printf(err, "bad listener \"%s\": \"%s\" is neither a host name nor an address"
		   " (IPv6 goes in brackets)", word, out->host);
	return -1;
    }
    return 0;
}

/* listen_parse_list - every word of a list value */
int     listen_parse_list(const char *value, struct listen_spec **out, struct buf *err)
{
    struct strlist w;
    int     n;

    strlist_init(&w);
    strlist_split(&w, value, LIST_SEPS);
    *out = xcalloc(w.n + 1, sizeof(**out));
    for (size_t i = 0; i < w.n; i++) {
	if (listen_parse(w.v[i], &(*out)[i], err) < 0) {
	    free(*out);
	    *out = NULL;
	    strlist_free(&w);
	    return -1;
	}
    }
    n = (int) w.n;
    strlist_free(&w);
    return n;
}

/* listen_unix_parse - mode, owner and group of unix sockets */
int     listen_unix_parse(const char *mode, const char *owner, const char *group,
			          struct listen_unix *u, struct buf *err)
{
    char   *end;
    long    m;

    m = strtol(mode, &end, 8);
    if (*mode == 0 || *end || m < 0 || m > 0777) {
	buf_printf(err, "unix_socket_mode: bad mode \"%s\" (octal, 0 to 0777)", mode);
	return -1;
    }
    u->mode = (mode_t) m;
    u->uid = (uid_t) -1;
    u->gid = (gid_t) -1;
    if (*owner) {
	struct passwd *pw = getpwnam(owner);

	if (pw == NULL) {
	    buf_printf(err, "unix_socket_owner: unknown user \"%s\"", owner);
	    return -1;
	}
	u->uid = pw->pw_uid;
    }
    if (*group) {
	struct group *gr = getgrnam(group);

	if (gr == NULL) {
	    buf_printf(err, "unix_socket_group: unknown group \"%s\"", group);
	    return -1;
	}
	u->gid = gr->gr_gid;
    }
    return 0;
}

/* set_listen_flags - non-blocking and close-on-exec, checked */
static int set_listen_flags(int fd, const char *text, struct buf *err)
{
    int     fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0
	|| fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
	buf_printf(err, "listen %s: fcntl: %s", text, strerror(errno));
	return -1;
    }
    return 0;
}

/*
 * unix_probe - what is at the socket path: 0 nothing (or a stale file,
 * now removed), -1 with err when it is in use or cannot be told.
 */
static int unix_probe(const struct listen_spec *s, struct buf *err)
{
    struct sockaddr_un sun;
    struct stat st;
    int     fd, rc, e;

    if (lstat(s->path, &st) < 0) {
	if (errno == ENOENT)
	    return 0;
	buf_printf(err, "listen %s: %s", s->text, strerror(errno));
	return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
	buf_printf(err, "listen %s: exists and is not a socket", s->text);
	return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, s->path);
    /* non-blocking: a blocking connect to a listener that does not
     * accept (its queue full) would wait for it forever */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
	buf_printf(err, "socket: %s", strerror(errno));
	return -1;
    }
    rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
    e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN) {
	/* EAGAIN: a listener whose queue is full is still a listener */
	buf_printf(err, "listen %s: address already in use: another process accepts"
		   " connections on this socket", s->text);
	return -1;
    }
    if (e == ENOENT)
	return 0;
    if (e != ECONNREFUSED) {
	buf_printf(err, "listen %s: cannot tell whether the socket is in use: connect: %s",
		   s->text, strerror(e));
	return -1;
    }
    /* nobody listens: a file left by a process that is gone */
    if (unlink(s->path) < 0 && errno != ENOENT) {
	buf_printf(err, "listen %s: remove stale socket: %s", s->text, strerror(errno));
	return -1;
    }
    return 0;
}

/*
 * unix_bind - create the socket file with its final mode and owner: under
 * a umask that leaves exactly the mode, with the effective group and user
 * of its owner, so that nothing is changed by name afterwards (where the
 * directory's other writers could have swapped the file for a link).
 */
static int unix_bind(int fd, const struct listen_spec *s, const struct listen_unix *u,
		             struct buf *err)
{
    struct sockaddr_un sun;
    uid_t   euid = geteuid();
    gid_t   egid = getegid();
    int     rc, e;
    mode_t  old;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, s->path);
    if (u->gid != (gid_t) -1 && u->gid != egid && setegid(u->gid) < 0) {
	buf_printf(err, "listen %s: cannot take group %ld for the socket: %s", s->text,
		   (long) u->gid, strerror(errno));
	return -1;
    }
    if (u->uid != (uid_t) -1 && u->uid != euid && seteuid(u->uid) < 0) {
	buf_printf(err, "listen %s: cannot take user %ld for the socket: %s", s->text,
		   (long) u->uid, strerror(errno));
	if (getegid() != egid && setegid(egid) < 0)
	    msg_fatal("setegid(%ld): %s", (long) egid, strerror(errno));
	return -1;
    }
    old = umask((mode_t) (~u->mode & 0777));
    rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    e = errno;
    umask(old);
    if (geteuid() != euid && seteuid(euid) < 0)
	msg_fatal("seteuid(%ld): %s", (long) euid, strerror(errno));
    if (getegid() != egid && setegid(egid) < 0)
	msg_fatal("setegid(%ld): %s", (long) egid, strerror(errno));
    if (rc < 0) {
	buf_printf(err, "listen %s: bind: %s%s", s->text, strerror(e),
		   e == EACCES && u->uid != (uid_t) -1 && u->uid != euid
		   ? " (the socket is created as unix_socket_owner, who must be able to"
		   " write its directory)" : "");
	return -1;
    }
    return 0;
}

/* open_unix - a unix listener */
static int open_unix(const struct listen_spec *s, const struct listen_unix *u,
		             struct listen_fd *lf, struct buf *err)
{
    struct stat st;
    int     fd;

    if (unix_probe(s, err) < 0)
	return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
	buf_printf(err, "socket: %s", strerror(errno));
	return -1;
    }
    if (unix_bind(fd, s, u, err) < 0) {
	close(fd);
	return -1;
    }
    if (lstat(s->path, &st) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
	buf_printf(err, "listen %s: %s", s->text, strerror(errno));
	close(fd);
	return -1;
    }
    if (set_listen_flags(fd, s->text, err) < 0) {
	close(fd);
	return -1;
    }
    lf->fd = fd;
    lf->dev = st.st_dev;
    lf->ino = st.st_ino;
    return 1;
}

/* open_addr - one inet listener on one address */
static int open_addr(const struct listen_spec *s, const struct addrinfo *ai,
		             struct listen_fd *lf, struct buf *err)
{
    int     on = 1;
    int     fd;

    if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0) {
	buf_printf(err, "listen %s: socket: %s", s->text, strerror(errno));
	return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	|| (ai->ai_family == AF_INET6
	    && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)) {
	buf_printf(err, "listen %s: setsockopt: %s", s->text, strerror(errno));
	close(fd);
	return -1;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
	char    host[80];

	listen_peer_name(ai->ai_addr, host, sizeof(host));
	buf_printf(err, "listen %s: bind %s: %s", s->text, host, strerror(errno));
	close(fd);
	return -1;
    }
    if (set_listen_flags(fd, s->text, err) < 0) {
	close(fd);
	return -1;
    }
    memset(lf, 0, sizeof(*lf));
    lf->fd = fd;
    return 0;
}

/* open_inet - every address of the host */
static int open_inet(const struct listen_spec *s, struct listen_fd *fds, struct buf *err)
{
    struct addrinfo hints, *res, *ai;
    char    port[8];
    int     n = 0, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", s->port);
    if ((rc = getaddrinfo(s->host, port, &hints, &res)) != 0) {
	buf_printf(err, "listen %s: cannot resolve \"%s\": %s", s->text, s->host,
		   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	return -1;
    }
    for (ai = res; ai != NULL && n < LISTEN_MAX_ADDRS; ai = ai->ai_next) {
	int     dup = 0;

	if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
	    continue;
	for (struct addrinfo *p = res; p != ai; p = p->ai_next)
	    if (p->ai_addrlen == ai->ai_addrlen
		&& memcmp(p->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
		dup = 1;
	if (dup)
	    continue;
	if (open_addr(s, ai, &fds[n], err) < 0) {
	    while (n > 0)
		close(fds[--n].fd);
	    freeaddrinfo(res);
	    return -1;
	}
	n++;
    }
    freeaddrinfo(res);
    if (n == 0) {
	buf_printf(err, "listen %s: \"%s\" has no IPv4 or IPv6 address", s->text, s->host);
	return -1;
    }
    return n;
}

/* listen_open - bind and listen */
int     listen_open(const struct listen_spec *spec, const struct listen_unix *u,
		            struct listen_fd *fds, struct buf *err)
{
    if (spec->type == LISTEN_UNIX)
	return open_unix(spec, u, fds, err);
    return open_inet(spec, fds, err);
}

/* listen_unlink - remove our unix socket file, not one someone else made */
void    listen_unlink(const struct listen_spec *spec, const struct listen_fd *lf)
{
    struct stat st;

    if (spec->type != LISTEN_UNIX)
	return;
    if (lstat(spec->path, &st) == 0 && S_ISSOCK(st.st_mode)
	&& st.st_dev == lf->dev && st.st_ino == lf->ino)
	(void) unlink(spec->path);
}

/* listen_peer_name - printable address of a peer */
void    listen_peer_name(const void *sockaddr, char *out, size_t len)
{
    const struct sockaddr *sa = sockaddr;
    char    host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
	const struct sockaddr_in *in = (const void *) sa;

	inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
	snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
	const struct sockaddr_in6 *in6 = (const void *) sa;

	inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
	snprintf(out, len, "unix");
    }
}
