/*
 * listen.h - one listener syntax, one way to open it.
 *
 * Every socket the daemon serves (the policy service today; milter, HTTP
 * and the control socket next) is written the same way and read by one
 * parser, which the configuration check, `serve` and `postfix-config`
 * share:
 *
 *	inet:HOST:PORT		HOST a name (resolved when the socket is
 *				opened: every address it has is bound), a
 *				dotted IPv4 address, or [IPv6]
 *	unix:/absolute/path	mode and owner from struct listen_unix
 *
 * listen_parse() checks one word; listen_parse_list() a list value.
 * listen_open() binds and listens.  A unix socket file that exists is
 * probed with connect(2): refused means a stale file (removed), accepted
 * means another process serves it, which is refused like a TCP port in
 * use.  A unix socket is created with its final mode and owner (under a
 * umask and the owner's effective ids): nothing is chmod-ed or chown-ed
 * by name.  listen_unlink() removes a unix socket file at exit only if it
 * is still the one this process bound.
 *
 * DIAGNOSTICS
 *	Every function that can fail returns -1 with one line in err that
 *	names the listener as written and the system error.
 */
#ifndef MX_NET_LISTEN_H
#define MX_NET_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

#include "util/str.h"

enum listen_type {
    LISTEN_INET,
    LISTEN_UNIX,
};

#define LISTEN_TEXT_MAX	300		/* longest listener word accepted */

struct listen_spec {
    enum listen_type type;
    char    text[LISTEN_TEXT_MAX + 1];	/* as written, for messages */
    char    host[256];			/* inet: name or address, no [] */
    unsigned port;			/* inet: 1..65535 */
    char    path[108];			/* unix: absolute path */
};

/* listen_parse - one listener word; 0, or -1 with the reason in err */
int     listen_parse(const char *word, struct listen_spec *out, struct buf *err);

/* listen_parse_list - every word of a list value into *out (caller
 * frees); the number of listeners, or -1 with the bad word in err */
int     listen_parse_list(const char *value, struct listen_spec **out, struct buf *err);

/* What a unix socket is created with. */
struct listen_unix {
    mode_t  mode;			/* permission bits, 0..0777 */
    uid_t   uid;			/* owner; (uid_t) -1: as the process */
    gid_t   gid;			/* group; (gid_t) -1: as the process */
};

/* listen_unix_parse - mode (octal text), owner and group names ("" for
 * none) into u; 0, or -1 with a reason in err */
int     listen_unix_parse(const char *mode, const char *owner, const char *group,
			          struct listen_unix *u, struct buf *err);

/* One bound socket. */
struct listen_fd {
    int     fd;				/* listening, non-blocking, close-on-exec */
    dev_t   dev;			/* unix: the socket file we created */
    ino_t   ino;
};

#define LISTEN_MAX_ADDRS 8		/* addresses bound for one host name */

/* listen_open - bind and listen on every address of spec; the number of
 * sockets in fds (at most LISTEN_MAX_ADDRS), or -1 with err */
int     listen_open(const struct listen_spec *spec, const struct listen_unix *u,
		            struct listen_fd *fds, struct buf *err);

/* listen_unlink - remove a unix socket file if it is still ours */
void    listen_unlink(const struct listen_spec *spec, const struct listen_fd *lf);

/* listen_peer_name - printable name of an accepted peer: "ADDR:PORT",
 * "[ADDR]:PORT" or "unix" */
void    listen_peer_name(const void *sockaddr, char *out, size_t len);

#endif
