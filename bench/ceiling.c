/*
 * ceiling.c - the fastest possible policy "server", to measure what the
 * machine and the load generator allow: it answers every request with
 * action=DUNNO without looking at it (one read, one write, epoll).
 *
 *	mxshield-ceiling PORT		listen on 127.0.0.1:PORT
 *	mxshield-ceiling /path		listen on a unix socket
 *
 * Benchmarks of mxshield are reported next to this number.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char answer[] = "action=DUNNO\n\n";

/* listener - bound, listening socket for PORT or /path */
static int listener(const char *where)
{
    int     fd, one = 1;

    if (where[0] == '/') {
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(where) >= sizeof(sun.sun_path))
	    return -1;
	strcpy(sun.sun_path, where);
	unlink(where);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	    return -1;
    } else {
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short) atoi(where));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
	    return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
	    return -1;
    }
    return listen(fd, 512) < 0 ? -1 : fd;
}

int     main(int argc, char **argv)
{
    static char buf[65536];
    struct epoll_event ev, evs[64];
    int     ls, ep;

    if (argc != 2 || (ls = listener(argv[1])) < 0) {
	fprintf(stderr, "usage: mxshield-ceiling PORT|/path (%s)\n", strerror(errno));
	return 2;
    }
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = ls;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
	int     n = epoll_wait(ep, evs, 64, -1);

	for (int i = 0; i < n; i++) {
	    int     fd = evs[i].data.fd;

	    if (fd == ls) {
		int     c = accept(ls, NULL, NULL);

		if (c >= 0) {
		    fcntl(c, F_SETFL, O_NONBLOCK);
		    ev.events = EPOLLIN;
		    ev.data.fd = c;
		    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
		}
		continue;
	    }
	    ssize_t r = read(fd, buf, sizeof(buf));

	    if (r <= 0) {
		close(fd);
		continue;
	    }
	    /* one answer per empty line (a request's end) */
	    for (ssize_t j = 1; j < r; j++)
		if (buf[j] == '\n' && buf[j - 1] == '\n'
		    && write(fd, answer, sizeof(answer) - 1) < 0)
		    break;
	}
    }
}
