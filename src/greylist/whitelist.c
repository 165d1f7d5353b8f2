/*
 * whitelist.c - the greylist whitelist files in postgrey's formats:
 * loaded at start, reloaded when one changes, matched per request.
 *
 * SYNOPSIS
 *	w = gl_whitelist_load(client_files, recipient_files, err, errlen);
 *	gl_whitelist_refresh(w);	(a file changed: read them all again)
 *	why = gl_whitelist_match_entry(w, name, addr, recipient, &entry);
 *	gl_whitelist_free(w);
 *
 * DESCRIPTION
 *	Clients: /regexp/ (against the client name), IPv4 and IPv6
 *	addresses and networks, partial IPv4 addresses (a.b.c is /24, a.b is
 *	/16), and host names, which match themselves and their subdomains.
 *	Recipients: /regexp/, user@domain, user@ (both also with +extension),
 *	and domain (and its subdomains).  Each entry remembers its
 *	"file:line pattern", for the log line that says why a request
 *	passed.
 *
 * DIAGNOSTICS
 *	A bad regular expression or an unreadable file fails the load (a
 *	missing *.local file is fine, as in postgrey); a reload that fails
 *	keeps the previous contents and says so.  Lines that are not an
 *	entry are logged and ignored.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "greylist/greylist.h"
#include "util/filestamp.h"
#include "util/inet.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/mem.h"

struct wl_file {
    char   *path;
    struct filestamp st;		/* when last read */
};

struct wl_set {
    pcre2_code **client_re;
    char  **client_re_src;		/* "file:line pattern" of each, to log */
    size_t  nclient_re;
    char  **names;
    char  **names_src;
    size_t  nnames;
    struct cidr *nets;
    char  **nets_src;
    size_t  nnets;
    pcre2_code **rcpt_re;
    char  **rcpt_re_src;
    size_t  nrcpt_re;
};

/* wl_src - remember where an entry came from, at index n of *v */
static void wl_src(char ***v, size_t n, const char *path, int line, const char *pattern)
{
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "%s:%d %s", path, line, pattern);
    *v = xrealloc(*v, (n + 1) * sizeof(**v));
    (*v)[n] = buf_steal(&b);
}

/* wl_src_free - the sources of n entries */
static void wl_src_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
	free(v[i]);
    free(v);
}

struct gl_whitelist {
    struct wl_file *files;
    size_t  nfiles;
    size_t  nclient_files;
    struct wl_set set;
    pcre2_match_data *md;
};

static void wl_set_free(struct wl_set *s)
{
    for (size_t i = 0; i < s->nclient_re; i++)
	pcre2_code_free(s->client_re[i]);
    for (size_t i = 0; i < s->nrcpt_re; i++)
	pcre2_code_free(s->rcpt_re[i]);
    for (size_t i = 0; i < s->nnames; i++)
	free(s->names[i]);
    wl_src_free(s->client_re_src, s->nclient_re);
    wl_src_free(s->names_src, s->nnames);
    wl_src_free(s->nets_src, s->nnets);
    wl_src_free(s->rcpt_re_src, s->nrcpt_re);
    free(s->client_re);
    free(s->rcpt_re);
    free(s->names);
    free(s->nets);
    memset(s, 0, sizeof(*s));
}

static pcre2_code *wl_compile(const char *pat, size_t len, const char *path, int line,
			              char *err, size_t errlen)
{
    int     ecode;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR) pat, len, PCRE2_CASELESS, &ecode, &eoff, NULL);

    if (re == NULL) {
	PCRE2_UCHAR msg[200];

	pcre2_get_error_message(ecode, msg, sizeof(msg));
	snprintf(err, errlen, "%s, line %d: bad regular expression: %s", path, line, msg);
    }
    return re;
}

static void wl_add_re(pcre2_code ***v, size_t *n, pcre2_code *re)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = re;
}

/* wl_net - an address or network, host bits allowed (postgrey's NetAddr::IP) */
static int wl_net(const char *text, int default_len, struct cidr *c)
{
    char    host[80];
    const char *slash = strchr(text, '/');
    size_t  hl = slash ? (size_t) (slash - text) : strlen(text);

    if (hl >= sizeof(host))
	return -1;
    memcpy(host, text, hl);
    host[hl] = 0;
    if (inet_parse(host, &c->net) < 0)
	return -1;
    int     max = c->net.family == AF_INET ? 32 : 128;

    if (slash) {
	unsigned long len;
	const char *end;

	/* digits only, checked against the family's width as they are read */
	if (str_ulong(slash + 1, &end, (unsigned long) max, &len) < 0 || *end)
	    return -1;
	c->len = (int) len;
    } else {
	c->len = default_len ? default_len : max;
    }
    for (int bit = c->len; bit < max; bit++)
	c->net.b[bit / 8] &= (unsigned char) ~(0x80 >> (bit % 8));
    return 0;
}

/* wl_load_file - one file into the set; a missing .local file is fine */
static int wl_load_file(struct wl_set *s, const char *path, int clients, char *err, size_t errlen)
{
    struct lines l;
    char   *line;
    int     n, rc = 0;

    if (lines_open(&l, path, LINES_HASH_ANYWHERE) < 0) {
	size_t  pl = strlen(path);
	int     saved = errno;

	lines_close(&l);
	if (saved == ENOENT && pl > 6 && strcmp(path + pl - 6, ".local") == 0)
	    return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	return -1;
    }
    while (rc == 0 && (rc = lines_next(&l, &line, &n)) > 0) {
	char   *w = str_trim(line);

	rc = 0;
	size_t  wl = strlen(w);

	if (strpbrk(w, " \t")) {
	    msg_warn("%s line %d: doesn't look like a %s; ignored", path, n,
		     clients ? "hostname" : "address");
	    continue;
	}
	if (wl > 2 && w[0] == '/' && w[wl - 1] == '/') {
	    pcre2_code *re = wl_compile(w + 1, wl - 2, path, n, err, errlen);

	    if (re == NULL) {
		rc = -1;
		break;
	    }
	    if (clients) {
		wl_src(&s->client_re_src, s->nclient_re, path, n, w);
		wl_add_re(&s->client_re, &s->nclient_re, re);
	    } else {
		wl_src(&s->rcpt_re_src, s->nrcpt_re, path, n, w);
		wl_add_re(&s->rcpt_re, &s->nrcpt_re, re);
	    }
	    continue;
	}
	if (!clients) {
	    /* access(5)-like recipient forms, as anchored expressions */
	    struct buf pat;
	    const char *at = strchr(w, '@');

	    buf_init(&pat);
	    if (at && at[1]) {
		buf_puts(&pat, "^\\Q");
		buf_append(&pat, w, (size_t) (at - w));
		buf_puts(&pat, "\\E(?:\\+[^@]+)?@\\Q");
		buf_puts(&pat, at + 1);
		buf_puts(&pat, "\\E$");
	    } else if (at) {
		buf_puts(&pat, "^\\Q");
		buf_append(&pat, w, (size_t) (at - w));
		buf_puts(&pat, "\\E(?:\\+[^@]+)?@");
	    } else {
		buf_puts(&pat, "(?:@|\\.)\\Q");
		buf_puts(&pat, w);
		buf_puts(&pat, "\\E$");
	    }
	    pcre2_code *re = wl_compile(pat.s, pat.len, path, n, err, errlen);

	    buf_free(&pat);
	    if (re == NULL) {
		rc = -1;
		break;
	    }
	    wl_src(&s->rcpt_re_src, s->nrcpt_re, path, n, w);
	    wl_add_re(&s->rcpt_re, &s->nrcpt_re, re);
	    continue;
	}
	/* clients: addresses, partial addresses, networks, host names */
	struct cidr c;
	int     dots = 0, digits = 1;

	for (const char *cp = w; *cp; cp++) {
	    if (*cp == '.')
		dots++;
	    else if (!isdigit((unsigned char) *cp) && *cp != '/')
		digits = 0;
	}
	int     is_net = (digits && (dots == 3 || dots == 2 || dots == 1) && w[0] != '.')
	    || (strchr(w, ':') != NULL);

	if (is_net) {
	    int     def = digits && !strchr(w, '/') ? (dots == 2 ? 24 : dots == 1 ? 16 : 0) : 0;
	    struct buf full;

	    buf_init(&full);
	    buf_puts(&full, w);
	    /* a.b.c and a.b are networks: complete the address */
	    if (digits && dots < 3 && !strchr(w, '/'))
		for (int i = dots; i < 3; i++)
		    buf_puts(&full, ".0");
	    if (wl_net(full.s, def, &c) < 0) {
		msg_warn("%s line %d: bad address \"%s\"; ignored", path, n, w);
	    } else {
		s->nets = xrealloc(s->nets, (s->nnets + 1) * sizeof(*s->nets));
		wl_src(&s->nets_src, s->nnets, path, n, w);
		s->nets[s->nnets++] = c;
	    }
	    buf_free(&full);
	    continue;
	}
	s->names = xrealloc(s->names, (s->nnames + 1) * sizeof(*s->names));
	wl_src(&s->names_src, s->nnames, path, n, w);
	s->names[s->nnames] = xstrdup(w);
	str_lower(s->names[s->nnames++]);
    }
    if (rc < 0 && l.error != LINES_OK)
	snprintf(err, errlen, "%s, line %d: %s", path, l.errline, l.why);
    lines_close(&l);
    return rc < 0 ? -1 : 0;
}

/* wl_build - load every file into a new set */
static int wl_build(struct gl_whitelist *w, struct wl_set *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < w->nfiles; i++) {
	struct wl_file *f = &w->files[i];

	(void) filestamp_get(f->path, &f->st);
	if (wl_load_file(s, f->path, i < w->nclient_files, err, errlen) < 0) {
	    wl_set_free(s);
	    return -1;
	}
    }
    return 0;
}

static void wl_add_files(struct gl_whitelist *w, const char *list)
{
    struct strlist l;

    strlist_init(&l);
    strlist_split(&l, list, LIST_SEPS);
    for (size_t i = 0; i < l.n; i++) {
	w->files = xrealloc(w->files, (w->nfiles + 1) * sizeof(*w->files));
	memset(&w->files[w->nfiles], 0, sizeof(*w->files));
	w->files[w->nfiles++].path = xstrdup(l.v[i]);
    }
    strlist_free(&l);
}

struct gl_whitelist *gl_whitelist_load(const char *client_files, const char *recipient_files,
				               char *err, size_t errlen)
{
    struct gl_whitelist *w = xcalloc(1, sizeof(*w));

    wl_add_files(w, client_files);
    w->nclient_files = w->nfiles;
    wl_add_files(w, recipient_files);
    if (wl_build(w, &w->set, err, errlen) < 0) {
	gl_whitelist_free(w);
	return NULL;
    }
    w->md = pcre2_match_data_create(4, NULL);
    return w;
}

/* gl_whitelist_refresh - reload when a file changed */
void    gl_whitelist_refresh(struct gl_whitelist *w)
{
    int     changed = 0;
    struct filestamp st;
    char    err[512];
    struct wl_set s;

    for (size_t i = 0; i < w->nfiles && !changed; i++) {
	(void) filestamp_get(w->files[i].path, &st);
	changed = !filestamp_same(&st, &w->files[i].st);
    }
    if (!changed)
	return;
    if (wl_build(w, &s, err, sizeof(err)) < 0) {
	msg_warn("greylist whitelist reload failed: %s; keeping the previous contents", err);
	return;
    }
    wl_set_free(&w->set);
    w->set = s;
    msg_info("greylist whitelists reloaded");
}

/* re_which - the first expression that matches, or -1 */
static long re_which(pcre2_code *const *v, size_t n, const char *subject, pcre2_match_data *md)
{
    size_t  len = strlen(subject);

    for (size_t i = 0; i < n; i++)
	if (pcre2_match(v[i], (PCRE2_SPTR) subject, len, 0, 0, md, NULL) >= 0)
	    return (long) i;
    return -1;
}

const char *gl_whitelist_match(const struct gl_whitelist *w, const char *client_name,
			               const char *client_addr, const char *recipient)
{
    return gl_whitelist_match_entry(w, client_name, client_addr, recipient, NULL);
}

const char *gl_whitelist_match_entry(const struct gl_whitelist *w, const char *client_name,
				             const char *client_addr, const char *recipient,
				             const char **entry)
{
    const struct wl_set *s = &w->set;
    struct inet_addr a;
    const char *dummy;
    long    i;

    if (entry == NULL)
	entry = &dummy;
    if (*client_name && (i = re_which(s->client_re, s->nclient_re, client_name, w->md)) >= 0) {
	*entry = s->client_re_src[i];
	return "client whitelist";
    }
    if (*client_name && strcasecmp(client_name, "unknown") != 0) {
	size_t  cl = strlen(client_name);

	for (size_t i = 0; i < s->nnames; i++) {
	    size_t  nl = strlen(s->names[i]);

	    if (nl <= cl && strcasecmp(client_name + cl - nl, s->names[i]) == 0
		&& (nl == cl || client_name[cl - nl - 1] == '.')) {
		*entry = s->names_src[i];
		return "client whitelist";
	    }
	}
    }
    if (inet_parse(client_addr, &a) == 0)
	for (size_t j = 0; j < s->nnets; j++)
	    if (cidr_match(&s->nets[j], &a)) {
		*entry = s->nets_src[j];
		return "client whitelist";
	    }
    if ((i = re_which(s->rcpt_re, s->nrcpt_re, recipient, w->md)) >= 0) {
	*entry = s->rcpt_re_src[i];
	return "recipient whitelist";
    }
    return NULL;
}

void    gl_whitelist_free(struct gl_whitelist *w)
{
    if (w == NULL)
	return;
    wl_set_free(&w->set);
    for (size_t i = 0; i < w->nfiles; i++)
	free(w->files[i].path);
    free(w->files);
    if (w->md)
	pcre2_match_data_free(w->md);
    free(w);
}
