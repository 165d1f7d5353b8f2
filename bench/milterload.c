/*
 * milterload.c - mxshield-milterload, a milter load generator that drives
 *	milters the way Postfix 3.7 does.
 *
 * SYNOPSIS
 *	mxshield-milterload [-c CONNS] [-d SECONDS] [-m MSGS_PER_SESSION]
 *		[--fast] [--json] -M MESSAGE_DIR TARGET [TARGET...]
 *
 * DESCRIPTION
 *	TARGET is inet:127.0.0.1:PORT (loopback only).  Several TARGETs are
 *	a chain, as smtpd_milters = A, B: every SMTP event goes to each
 *	milter in turn, and the message goes to the second milter with the
 *	headers the first one added (OpenDMARC reads OpenDKIM's results
 *	that way).  CONNS threads each run SMTP sessions for SECONDS: a
 *	milter connection and option negotiation per session (Postfix opens
 *	one per SMTP session), MSGS_PER_SESSION messages, QUIT.
 *
 *	The messages (the .eml files of MESSAGE_DIR, CRLF) are sent as Postfix sends
 *	them: macros before each event, no reply read for the steps the
 *	milter negotiated away, SMFIR_SKIP honoured, body chunks of 65535
 *	bytes, headers without the leading space unless the milter asked
 *	for HDR_LEADSPC.  Writes are Postfix's too: a 4096-byte output
 *	buffer (VSTREAM_BUFSIZE) written when full and before every read of
 *	a reply, and no TCP_NODELAY, so a milter that answers in several
 *	writes meets Nagle and delayed ACKs as it does behind Postfix.
 *	--fast writes everything due at once, sets TCP_NODELAY and
 *	acknowledges every read at once (TCP_QUICKACK): the transport never
 *	stalls, whatever the milter's writes.
 *
 *	Reported: messages per second and the latency of a message (MAIL to
 *	the end-of-message reply of the last milter) at p50, p90, p99, max.
 *
 * DIAGNOSTICS
 *	Exit 1 when a milter closed a connection or answered out of
 *	protocol; 2 on a usage error.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TARGETS	4
#define MAX_MSGS	256
#define MAX_HDRS	200
#define CHUNK		65535
#define VSTREAM_BUF	4096

#define NR_CONN 0x1000
#define NR_HELO 0x2000
#define NR_MAIL 0x4000
#define NR_RCPT 0x8000
#define NR_DATA 0x10000
#define NR_EOH  0x40000
#define NR_BODY 0x80000
#define NR_HDR  0x80
#define NO_CONN 0x1
#define NO_HELO 0x2
#define NO_MAIL 0x4
#define NO_RCPT 0x8
#define NO_BODY 0x10
#define NO_HDRS 0x20
#define NO_EOH  0x40
#define NO_DATA 0x200
#define LEADSPC 0x100000

struct hdr {
    char   *name;
    char   *value;			/* after the colon, LF-folded, leading space kept */
};

struct msg {
    struct hdr h[MAX_HDRS];
    int     nh;
    char   *body;			/* CRLF */
    size_t  blen;
};

static struct msg msgs[MAX_MSGS];
static int nmsgs;
static int ntargets;
static int ports[MAX_TARGETS];
static int fast, seconds = 10, per_session = 1;
static volatile int stop_now;

struct conn {
    int     fd;
    uint32_t proto;
    char    out[1 << 17];
    size_t  olen;
    char    in[1 << 16];
    size_t  ilen;
};

struct worker {
    pthread_t t;
    unsigned id;
    unsigned long done;
    double *lat;
    size_t  nlat, cap;
    int     failed;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* out_flush - write what is buffered */
static int out_flush(struct conn *c)
{
    size_t  off = 0;

    while (off < c->olen) {
	ssize_t n = write(c->fd, c->out + off, c->olen - off);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return -1;
	off += (size_t) n;
    }
    c->olen = 0;
    return 0;
}

/* out_put - buffer bytes; Postfix's VSTREAM writes a full buffer at once */
static int out_put(struct conn *c, const void *p, size_t len)
{
    const char *s = p;

    while (len > 0) {
	size_t  room = (fast ? sizeof(c->out) : VSTREAM_BUF) - c->olen;
	size_t  n = len < room ? len : room;

	memcpy(c->out + c->olen, s, n);
	c->olen += n;
	s += n;
	len -= n;
	if (c->olen == (fast ? sizeof(c->out) : VSTREAM_BUF) && out_flush(c) < 0)
	    return -1;
    }
    return 0;
}

/* packet - one packet from pieces */
static int packet(struct conn *c, int cmd, const void *a, size_t al, const void *b, size_t bl)
{
    unsigned char hdr[5];
    uint32_t len = htonl((uint32_t) (al + bl + 1));

    memcpy(hdr, &len, 4);
    hdr[4] = (unsigned char) cmd;
    if (out_put(c, hdr, 5) < 0 || (al && out_put(c, a, al) < 0) || (bl && out_put(c, b, bl) < 0))
	return -1;
    return 0;
}

/* reply - read one packet; its command, data in *d (len *dl); -1 on error */
static int reply(struct conn *c, const char **d, size_t *dl)
{
    static __thread char pkt[1 << 16];
    uint32_t len;

    if (c->olen && out_flush(c) < 0)
	return -1;
    for (;;) {
	if (c->ilen >= 4) {
	    memcpy(&len, c->in, 4);
	    len = ntohl(len);
	    if (len == 0 || len > sizeof(pkt))
		return -1;
	    if (c->ilen >= 4 + len) {
		memcpy(pkt, c->in + 4, len);
		memmove(c->in, c->in + 4 + len, c->ilen - 4 - len);
		c->ilen -= 4 + len;
		*d = pkt + 1;
		*dl = len - 1;
		return (unsigned char) pkt[0];
	    }
	}
	ssize_t n = read(c->fd, c->in + c->ilen, sizeof(c->in) - c->ilen);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return -1;
	c->ilen += (size_t) n;
	if (fast) {
	    /* our ACKs at once: a milter's second reply write never waits */
	    int     one = 1;

	    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
    }
}

/* macros - one SMFIC_MACRO packet */
static int macros(struct conn *c, int stage, const char *pairs, size_t plen)
{
    char    s = (char) stage;

    return packet(c, 'D', &s, 1, pairs, plen);
}

#define M(s) s, sizeof(s) - 1

/* event - macros, the event, and its reply unless negotiated away; the
 * reply command ('c' when none is read), or -1 */
static int event(struct conn *c, int cmd, const char *mac, size_t ml, const void *a, size_t al,
		         const void *b, size_t bl, uint32_t no, uint32_t nr)
{
    const char *d;
    size_t  dl;

    if (mac && macros(c, cmd, mac, ml) < 0)
	return -1;
    if (c->proto & no)
	return 'c';
    if (packet(c, cmd, a, al, b, bl) < 0)
	return -1;
    if (c->proto & nr)
	return 'c';
    return reply(c, &d, &dl);
}

static int conn_open(struct conn *c, int port)
{
    struct sockaddr_in sa;
    int     one = 1;
    uint32_t w[3];
    const char *d;
    size_t  dl;

    memset(c, 0, sizeof(*c));
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
	return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fast)
	(void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
	return -1;
    w[0] = htonl(6);
    w[1] = htonl(0x1ff);
    w[2] = htonl(0x1fffff);
    if (packet(c, 'O', w, 12, NULL, 0) < 0 || reply(c, &d, &dl) != 'O' || dl < 12)
	return -1;
    memcpy(w, d, 12);
    c->proto = ntohl(w[2]);
    return 0;
}

/* content - headers (with the extra ones first), EOH, body, EOM to one
 * milter; headers it inserts are added to extra; the final reply */
static int content(struct conn *c, const struct msg *m, struct hdr *extra, int *nextra)
{
    const char *d;
    size_t  dl;
    int     r, nx = *nextra;
    static const char mi[] = "i\0" "4A5B6C7D8E\0";

    for (int i = 0; i < nx + m->nh; i++) {
	const struct hdr *h = i < nx ? &extra[i] : &m->h[i - nx];
	const char *v = h->value;

	if (!(c->proto & LEADSPC) && *v == ' ')
	    v++;
	if (event(c, 'L', mi, sizeof(mi) - 1, h->name, strlen(h->name) + 1, v, strlen(v) + 1,
		  NO_HDRS, NR_HDR) < 0)
	    return -1;
    }
    if (event(c, 'N', mi, sizeof(mi) - 1, NULL, 0, NULL, 0, NO_EOH, NR_EOH) < 0)
	return -1;
    for (size_t off = 0; off < m->blen && !(c->proto & NO_BODY); off += CHUNK) {
	size_t  n = m->blen - off < CHUNK ? m->blen - off : CHUNK;

	if ((r = event(c, 'B', mi, sizeof(mi) - 1, m->body + off, n, NULL, 0, NO_BODY, NR_BODY)) < 0)
	    return -1;
	if (r == 's')
	    break;
    }
    if (macros(c, 'E', mi, sizeof(mi) - 1) < 0 || packet(c, 'E', NULL, 0, NULL, 0) < 0)
	return -1;
    for (;;) {
	if ((r = reply(c, &d, &dl)) < 0)
	    return -1;
	if ((r == 'i' || r == 'h') && *nextra < MAX_HDRS) {
	    const char *p = d + (r == 'i' ? 4 : 0);
	    const char *name = p, *val = p + strlen(p) + 1;

	    if (val < d + dl) {
		memmove(extra + 1, extra, sizeof(*extra) * (size_t) *nextra);
		extra[0].name = strdup(name);
		extra[0].value = malloc(strlen(val) + 2);
		sprintf(extra[0].value, "%s%s", (c->proto & LEADSPC) ? "" : " ", val);
		(*nextra)++;
	    }
	}
	if (strchr("acdrty", r))
	    return r;
    }
}

/* session - one SMTP session through every milter; 0 or -1 */
static int session(struct worker *w, unsigned *seq)
{
    struct conn cs[MAX_TARGETS];
    static const char mc[] = "j\0mx.bench.test\0{daemon_name}\0smtpd\0v\0Postfix 3.7\0";
    static const char mh[] = "{tls_version}\0\0";
    static const char mm[] = "i\0" "4A5B6C7D8E\0{auth_authen}\0\0{mail_addr}\0x@nopolicy.dmarc.test\0";
    static const char mr[] = "{rcpt_addr}\0bob@our.test\0";
    static const char conn_data[] = "client.example\0" "4\0\x19" "198.51.100.7";
    int     rc = 0;

    for (int t = 0; t < ntargets; t++)
	if (conn_open(&cs[t], ports[t]) < 0) {
	    for (int u = 0; u < t; u++)
		close(cs[u].fd);
	    return -1;
	}
    for (int t = 0; t < ntargets && rc == 0; t++) {
	if (event(&cs[t], 'C', M(mc), conn_data, sizeof(conn_data), NULL, 0, NO_CONN, NR_CONN) < 0
	    || event(&cs[t], 'H', M(mh), "client.example", 15, NULL, 0, NO_HELO, NR_HELO) < 0)
	    rc = -1;
    }
    for (int k = 0; k < per_session && rc == 0 && !stop_now; k++) {
	const struct msg *m = &msgs[(*seq)++ % (unsigned) nmsgs];
	struct hdr extra[MAX_HDRS];
	int     nextra = 0, r = 'c';
	double  t0 = now();

	for (int t = 0; t < ntargets && rc == 0; t++) {
	    if ((r = event(&cs[t], 'M', M(mm), "<x@nopolicy.dmarc.test>", 24, NULL, 0,
			   NO_MAIL, NR_MAIL)) < 0
		|| event(&cs[t], 'R', M(mr), "<bob@our.test>", 15, NULL, 0, NO_RCPT, NR_RCPT) < 0
		|| event(&cs[t], 'T', "i\0" "4A5B6C7D8E\0", 13, NULL, 0, NULL, 0, NO_DATA, NR_DATA) < 0)
		rc = -1;
	}
	for (int t = 0; t < ntargets && rc == 0; t++)
	    if ((r = content(&cs[t], m, extra, &nextra)) < 0)
		rc = -1;
	for (int i = 0; i < nextra; i++) {
	    free(extra[i].name);
	    free(extra[i].value);
	}
	if (rc == 0) {
	    if (w->nlat == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4096;
		w->lat = realloc(w->lat, w->cap * sizeof(double));
	    }
	    w->lat[w->nlat++] = now() - t0;
	    w->done++;
	}
	/* Postfix aborts the milters between messages of one session */
	for (int t = 0; t < ntargets && rc == 0; t++)
	    if (packet(&cs[t], 'A', NULL, 0, NULL, 0) < 0)
		rc = -1;
    }
    for (int t = 0; t < ntargets; t++) {
	(void) packet(&cs[t], 'Q', NULL, 0, NULL, 0);
	(void) out_flush(&cs[t]);
	close(cs[t].fd);
    }
    return rc;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    unsigned seq = w->id * 7;

    while (!stop_now)
	if (session(w, &seq) < 0) {
	    w->failed = 1;
	    break;
	}
    return NULL;
}

/* load_msg - one .eml file into headers (as Postfix sends them) and body */
static int load_msg(const char *path, struct msg *m)
{
    FILE   *fp = fopen(path, "rb");
    char   *buf, *cp, *end;
    long    len;

    if (fp == NULL || fseek(fp, 0, SEEK_END) < 0 || (len = ftell(fp)) < 0)
	return -1;
    rewind(fp);
    buf = malloc((size_t) len + 1);
    if (fread(buf, 1, (size_t) len, fp) != (size_t) len)
	return -1;
    fclose(fp);
    buf[len] = 0;
    end = buf + len;
    cp = buf;
    memset(m, 0, sizeof(*m));
    while (cp < end) {
	char   *eol = strstr(cp, "\r\n");

	if (eol == NULL)
	    eol = end;
	if (eol == cp) {		/* the empty line */
	    cp += 2;
	    break;
	}
	if ((*cp == ' ' || *cp == '\t') && m->nh > 0) {
	    struct hdr *h = &m->h[m->nh - 1];
	    size_t  ol = strlen(h->value);

	    h->value = realloc(h->value, ol + (size_t) (eol - cp) + 2);
	    h->value[ol] = '\n';
	    memcpy(h->value + ol + 1, cp, (size_t) (eol - cp));
	    h->value[ol + 1 + (eol - cp)] = 0;
	} else if (m->nh < MAX_HDRS) {
	    char   *colon = memchr(cp, ':', (size_t) (eol - cp));

	    if (colon == NULL)
		return -1;
	    m->h[m->nh].name = strndup(cp, (size_t) (colon - cp));
	    m->h[m->nh].value = strndup(colon + 1, (size_t) (eol - colon - 1));
	    m->nh++;
	}
	cp = eol + 2;
    }
    m->body = cp;
    m->blen = cp < end ? (size_t) (end - cp) : 0;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: mxshield-milterload [-c CONNS] [-d SECONDS] [-m MSGS_PER_SESSION]"
	    " [--fast] [--json] -M MESSAGE_DIR inet:127.0.0.1:PORT...\n");
    exit(2);
}

int     main(int argc, char **argv)
{
    int     conns = 8, json = 0;
    const char *dir = NULL;
    struct worker *w;
    double  t0, el;
    size_t  total = 0;
    unsigned long done = 0;
    int     failed = 0;

    for (int i = 1; i < argc; i++) {
	if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
	    conns = atoi(argv[++i]);
	else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
	    seconds = atoi(argv[++i]);
	else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
	    per_session = atoi(argv[++i]);
	else if (strcmp(argv[i], "-M") == 0 && i + 1 < argc)
	    dir = argv[++i];
	else if (strcmp(argv[i], "--fast") == 0)
	    fast = 1;
	else if (strcmp(argv[i], "--json") == 0)
	    json = 1;
	else if (strncmp(argv[i], "inet:127.0.0.1:", 15) == 0 && ntargets < MAX_TARGETS)
	    ports[ntargets++] = atoi(argv[i] + 15);
	else
	    usage();
    }
    if (dir == NULL || ntargets == 0 || conns < 1 || seconds < 1 || per_session < 1)
	usage();
    DIR    *dp = opendir(dir);
    struct dirent *de;

    if (dp == NULL) {
	perror(dir);
	return 2;
    }
    while ((de = readdir(dp)) != NULL && nmsgs < MAX_MSGS) {
	char    path[4096];
	size_t  n = strlen(de->d_name);

	if (n < 5 || strcmp(de->d_name + n - 4, ".eml") != 0)
	    continue;
	snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	if (load_msg(path, &msgs[nmsgs]) == 0)
	    nmsgs++;
    }
    closedir(dp);
    if (nmsgs == 0) {
	fprintf(stderr, "%s: no .eml messages\n", dir);
	return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    w = calloc((size_t) conns, sizeof(*w));
    t0 = now();
    for (int i = 0; i < conns; i++) {
	w[i].id = (unsigned) i;
	pthread_create(&w[i].t, NULL, run, &w[i]);
    }
    sleep((unsigned) seconds);
    stop_now = 1;
    for (int i = 0; i < conns; i++) {
	pthread_join(w[i].t, NULL);
	done += w[i].done;
	total += w[i].nlat;
	failed |= w[i].failed;
    }
    el = now() - t0;
    double *all = malloc((total + 1) * sizeof(double));
    size_t  k = 0;

    for (int i = 0; i < conns; i++)
	for (size_t j = 0; j < w[i].nlat; j++)
	    all[k++] = w[i].lat[j];
    qsort(all, total, sizeof(double), cmp);
#define PCT(p) (total ? all[(size_t) ((p) * (total - 1))] * 1000 : 0)
    if (json)
	printf("{\"messages\": %lu, \"seconds\": %.2f, \"per_second\": %.1f, \"p50_ms\": %.2f,"
	       " \"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"failed\": %d}\n",
	       done, el, done / el, PCT(0.5), PCT(0.9), PCT(0.99),
	       total ? all[total - 1] * 1000 : 0, failed);
    else
	printf("%lu messages in %.2fs: %.1f/s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms,"
	       " max %.2f ms%s\n", done, el, done / el, PCT(0.5), PCT(0.9), PCT(0.99),
	       total ? all[total - 1] * 1000 : 0, failed ? " (a milter failed)" : "");
    return failed;
}
