/*
 * relay_test.c - `mxshield relay-test`: is the named SMTP server an open
 * relay?
 *
 *   mxshield relay-test [-c FILE] HOST[:PORT] [--domain OURS] [--target DOMAIN]
 *                       [--helo NAME] [--timeout SECONDS]
 *
 * The classic open-relay attempts (seed 004): a plain relay, the null
 * sender, a sender in our own domain, the percent hack, bang paths,
 * quoted local parts, source routes, unqualified recipients and an
 * address literal, each addressed to victim@TARGET (default example.net)
 * through OURS (default: the server's greeting name less its first
 * label).  One connection per attempt: greeting, EHLO, MAIL FROM, RCPT
 * TO, then RSET and QUIT: no message is ever sent (no DATA).
 * One line per attempt: "RELAYED" when the server accepted the recipient
 * (2xx at RCPT), "refused" (5xx), "inconclusive" (4xx, a dropped
 * connection, a timeout: never counted as refused).
 * Exit 0 every attempt refused, 1 a relay accepted, 3 none accepted but
 * some inconclusive, 2 a usage error or the server cannot be reached.
 * Replies are read up to RELAY_MAX_LINE bytes a line and RELAY_MAX_LINES
 * lines a reply; past that the attempt is inconclusive.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli/relay_test.h"
#include "util/mem.h"
#include "util/str.h"

#define RELAY_MAX_LINE	2048		/* bytes in one reply line */
#define RELAY_MAX_LINES	100		/* lines in one reply */

struct conn {
    int     fd;
    char    buf[4096];
    size_t  len;
};

/* dial - a TCP connection with send and receive timeouts; -1 and why */
static int dial(const char *host, const char *port, int timeout, char *why, size_t whylen)
{
    struct addrinfo hints, *res, *ai;
    struct timeval tv = {timeout, 0};
    int     fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
	snprintf(why, whylen, "%s: %s", host, gai_strerror(rc));
	return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
	    continue;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
	    break;
	snprintf(why, whylen, "%s port %s: %s", host, port, strerror(errno));
	close(fd);
	fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* get_line - one CRLF line into out (without it); 0, or -1 */
static int get_line(struct conn *c, struct buf *out)
{
    buf_reset(out);
    for (;;) {
	for (size_t i = 0; i < c->len; i++) {
	    if (c->buf[i] == '\n') {
		size_t  n = i > 0 && c->buf[i - 1] == '\r' ? i - 1 : i;

		buf_append(out, c->buf, n);
		memmove(c->buf, c->buf + i + 1, c->len - i - 1);
		c->len -= i + 1;
		return out->len > RELAY_MAX_LINE ? -1 : 0;
	    }
	}
	buf_append(out, c->buf, c->len);
	c->len = 0;
	if (out->len > RELAY_MAX_LINE)
	    return -1;
	ssize_t n = read(c->fd, c->buf, sizeof(c->buf));

	if (n <= 0)
	    return -1;
	c->len = (size_t) n;
    }
}

/* reply - the server's reply: its code (text: the last line), -1 lost */
static int reply(struct conn *c, struct buf *text)
{
    for (int lines = 0; lines < RELAY_MAX_LINES; lines++) {
	if (get_line(c, text) < 0 || text->len < 3 || text->s[0] < '2' || text->s[0] > '5'
	    || !isdigit((unsigned char) text->s[1]) || !isdigit((unsigned char) text->s[2]))
	    return -1;			/* not a reply: "2yz" .. "5yz" */
	if (text->len == 3 || text->s[3] != '-')
	    return atoi(text->s);
    }
    return -1;
}

/* relay_test_replies - read SMTP replies from fd until one is bad or the
 * input ends: how many were whole (for the fuzzer) */
int     relay_test_replies(int fd)
{
    struct conn c;
    struct buf text;
    int     n = 0;

    memset(&c, 0, sizeof(c));
    c.fd = fd;
    buf_init(&text);
    while (reply(&c, &text) >= 200)
	n++;
    buf_free(&text);
    return n;
}

/* command - send one command line, read its reply */
static int command(struct conn *c, struct buf *text, const char *fmt, const char *arg)
{
    struct buf cmd;
    ssize_t n;
    int     ok;

    buf_init(&cmd);
    buf_printf(&cmd, fmt, arg);
    buf_puts(&cmd, "\r\n");
    n = write(c->fd, cmd.s, cmd.len);
    ok = n >= 0 && (size_t) n == cmd.len;
    buf_free(&cmd);
    return ok ? reply(c, text) : -1;
}

enum verdict {
    V_REFUSED,
    V_RELAYED,
    V_INCONCLUSIVE,
};

/* attempt - one session: MAIL FROM:<sender>, RCPT TO:<rcpt>, RSET, QUIT */
static enum verdict attempt(const char *host, const char *port, int timeout, const char *helo,
			            const char *sender, const char *rcpt, struct buf *why,
			            struct buf *greeting)
{
    struct conn c;
    struct buf text;
    char    err[256];
    int     code;
    enum verdict v = V_INCONCLUSIVE;

    memset(&c, 0, sizeof(c));
    buf_init(&text);
    buf_reset(why);
    if ((c.fd = dial(host, port, timeout, err, sizeof(err))) < 0) {
	buf_puts(why, err);
	buf_free(&text);
	return V_INCONCLUSIVE;
    }
    if ((code = reply(&c, &text)) != 220) {
	buf_printf(why, "greeting: %s", code < 0 ? "no reply (connection lost, or a line past 2048 bytes)" : text.s);
	goto out;
    }
    if (greeting)
	buf_puts(greeting, text.s);
    if ((code = command(&c, &text, "EHLO %s", helo)) != 250
	&& (code = command(&c, &text, "HELO %s", helo)) != 250) {
	buf_printf(why, "HELO: %s", code < 0 ? "no reply (connection lost, or a line past 2048 bytes)" : text.s);
	goto out;
    }
    if ((code = command(&c, &text, "MAIL FROM:<%s>", sender)) / 100 != 2) {
	buf_printf(why, "MAIL FROM: %s", code < 0 ? "no reply (connection lost, or a line past 2048 bytes)" : text.s);
	v = code / 100 == 5 ? V_REFUSED : V_INCONCLUSIVE;
	goto out;
    }
    code = command(&c, &text, "RCPT TO:<%s>", rcpt);
    buf_printf(why, "%s", code < 0 ? "no reply (connection lost, or a line past 2048 bytes)" : text.s);
    v = code / 100 == 2 ? V_RELAYED : code / 100 == 5 ? V_REFUSED : V_INCONCLUSIVE;
    (void) command(&c, &text, "RSET", NULL);
    (void) command(&c, &text, "QUIT", NULL);
out:
    close(c.fd);
    buf_free(&text);
    return v;
}

int     cmd_relay_test(const struct config *conf, int argc, char **argv)
{
    const char *server = NULL, *ours = NULL, *target = "example.net", *helo = NULL;
    char    host[256], port[16] = "25", *colon;
    int     timeout = 30, relayed = 0, unsure = 0;
    struct buf why, greeting, snd, rcp;
    enum verdict v;

    for (int i = 0; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--domain") == 0)
	    ours = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--target") == 0)
	    target = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--helo") == 0)
	    helo = argv[++i];
	else if (i + 1 < argc && strcmp(a, "--timeout") == 0 && (timeout = atoi(argv[i + 1])) > 0)
	    i++;
	else if (a[0] != '-' && server == NULL)
	    server = a;
	else
	    goto usage;
    }
    if (server == NULL || strlen(server) >= sizeof(host))
	goto usage;
    snprintf(host, sizeof(host), "%s", server);
    if (host[0] == '[' && (colon = strchr(host, ']')) != NULL) {	/* [v6]:port */
	if (colon[1] == ':')
	    snprintf(port, sizeof(port), "%s", colon + 2);
	*colon = 0;
	memmove(host, host + 1, strlen(host));
    } else if ((colon = strchr(host, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
	snprintf(port, sizeof(port), "%s", colon + 1);
	*colon = 0;
    }
    if (helo == NULL)
	helo = config_str(conf, P_MYHOSTNAME)[0] ? config_str(conf, P_MYHOSTNAME)
	    : "relay-test.invalid";
    buf_init(&why);
    buf_init(&greeting);
    buf_init(&snd);
    buf_init(&rcp);

    /* the first attempt also tells the server's name */
    v = attempt(host, port, timeout, helo, "", "postmaster", &why, &greeting);
    if (greeting.len == 0) {
	fprintf(stderr, "mxshield relay-test: %s: %s\n", server, why.s);
	buf_free(&why);
	buf_free(&greeting);
	buf_free(&snd);
	buf_free(&rcp);
	return 2;
    }
    char   *dom = NULL;

    if (ours == NULL) {
	/* "220 mx.example.com ESMTP ...": example.com */
	const char *p = greeting.s + 4, *dot;
	size_t  n = strcspn(p, " ");

	dom = xstrndup(p, n);
	ours = (dot = strchr(dom, '.')) != NULL && strchr(dot + 1, '.') ? dot + 1 : dom;
    }
    printf("server %s:%s, our domain %s, relay target %s\n", host, port, ours, target);

    const struct {
	const char *name, *sender, *rcpt;	/* %1$s: ours, %2$s: target */
    }       tests[] = {
	{"plain relay", "relay-test@%2$s", "victim@%2$s"},
	{"null sender", "", "victim@%2$s"},
	{"sender in our domain", "postmaster@%1$s", "victim@%2$s"},
	{"percent hack", "postmaster@%1$s", "victim%%%2$s@%1$s"},
	{"percent hack, unqualified", "postmaster@%1$s", "victim%%%2$s"},
	{"bang path", "postmaster@%1$s", "%2$s!victim@%1$s"},
	{"bang path, unqualified", "postmaster@%1$s", "%2$s!victim"},
	{"quoted local part", "postmaster@%1$s", "\"victim@%2$s\"@%1$s"},
	{"quoted local part, unqualified", "postmaster@%1$s", "\"victim@%2$s\""},
	{"quoted percent hack", "postmaster@%1$s", "\"victim%%%2$s\"@%1$s"},
	{"source route", "postmaster@%1$s", "@%1$s:victim@%2$s"},
	{"source route, two hops", "postmaster@%1$s", "@%1$s,@%2$s:victim@%2$s"},
	{"address literal", "postmaster@%1$s", "victim@[192.0.2.1]"},
	{"target with a trailing dot", "postmaster@%1$s", "victim@%2$s."},
    };

    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
	buf_reset(&snd);
	buf_reset(&rcp);
	buf_printf(&snd, tests[i].sender, ours, target);
	buf_printf(&rcp, tests[i].rcpt, ours, target);
	v = attempt(host, port, timeout, helo, snd.s, rcp.s, &why, NULL);
	relayed += v == V_RELAYED;
	unsure += v == V_INCONCLUSIVE;
	printf("%s %s: MAIL FROM:<%s> RCPT TO:<%s>: %s\n", v == V_RELAYED ? "RELAYED"
	       : v == V_REFUSED ? "refused" : "inconclusive", tests[i].name, snd.s, rcp.s,
	       why.s);
    }
    printf("%s\n", relayed ? "OPEN RELAY: the server accepted recipients it must not"
	   : unsure ? "no relay accepted, but some attempts were inconclusive"
	   : "not an open relay: every attempt refused");
    free(dom);
    buf_free(&why);
    buf_free(&greeting);
    buf_free(&snd);
    buf_free(&rcp);
    return relayed ? 1 : unsure ? 3 : 0;
usage:
    fprintf(stderr, "usage: mxshield relay-test [-c FILE] HOST[:PORT] [--domain OURS]"
	    " [--target DOMAIN] [--helo NAME] [--timeout SECONDS]\n");
    return 2;
}
