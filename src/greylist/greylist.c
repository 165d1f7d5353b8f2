/*
 * greylist.c - postgrey's algorithm and file formats (postgrey 1.37).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
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
#include "util/version.h"

#define AWL_INTERVAL	3600		/* one successful delivery per hour counts */

/* gl_decide - postgrey's smtpd_access_policy() without the I/O */
void    gl_decide(const struct gl_conf *c, int64_t now,
		          const struct gl_triplet *t, const struct gl_client *cl,
		          struct gl_decision *d)
{
    int64_t first;
    int     last_ok = 0;

    memset(d, 0, sizeof(*d));
    if (c->awl_clients > 0 && cl && cl->count >= c->awl_clients) {
	/* whitelisted; keep last-seen fresh, at most once an hour */
	if (now >= cl->last + AWL_INTERVAL || cl->last > now) {
	    d->write_client = 1;
	    d->client.count = cl->count + 1;
	    d->client.last = now;
	}
	d->verdict = GL_PASS_AWL;
	return;
    }
    if (t && now - t->last <= c->max_age) {
	first = t->first;
	if (t->last - t->first >= c->delay)
	    last_ok = 1;
	else if (now - first > c->retry_window)
	    first = now;			/* retried too late: start over */
	if (first > now)
	    first = now;			/* a clock that went back */
    } else {
	first = now;
    }
    d->write_triplet = 1;
    d->triplet.first = first;
    d->triplet.last = now;

    long    diff = c->delay - (long) (now - first);

    if (c->awl_clients > 0 && diff <= 0 && !last_ok
	&& (cl == NULL || now >= cl->last + AWL_INTERVAL)) {
	d->write_client = 1;
	d->client.count = (cl ? cl->count : 0) + 1;
	d->client.last = now;
	d->newly_whitelisted = d->client.count == c->awl_clients;
    }
    if (diff > 0) {
	d->verdict = GL_GREYLIST;
	d->wait = diff;
    } else if (!last_ok) {
	d->verdict = GL_PASS_FIRST;
	d->delayed = (long) (now - first);
    } else {
	d->verdict = GL_PASS;
    }
}

/* gl_triplet_expired - postgrey's clean-up rule */
int     gl_triplet_expired(const struct gl_conf *c, int64_t now, const struct gl_triplet *t)
{
    if (now - t->last > c->max_age)
	return 1;
    /* never passed and not retried within the retry window */
    return t->last - t->first < c->delay && now - t->last > c->retry_window;
}

int     gl_client_expired(const struct gl_conf *c, int64_t now, const struct gl_client *cl)
{
    return now - cl->last > c->max_age;
}

/* gl_triplet_ttl - when gl_triplet_expired() will first say yes */
long    gl_triplet_ttl(const struct gl_conf *c, int64_t now, const struct gl_triplet *t)
{
    long    keep = c->max_age;

    if (t->last - t->first < c->delay && c->retry_window < keep)
	keep = c->retry_window;		/* not passed yet: kept for a retry */
    return (long) (t->last + keep + 1 - now);
}

long    gl_client_ttl(const struct gl_conf *c, int64_t now, const struct gl_client *cl)
{
    return (long) (cl->last + c->max_age + 1 - now);
}

/* gl_triplet_encode - first, last */
size_t  gl_triplet_encode(const struct gl_triplet *t, unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[2] = {t->first, t->last};

    return store_value_encode(out, STORE_KIND_TRIPLET, f, 2);
}

/* gl_triplet_encode_client - first, last, then the client address */
size_t  gl_triplet_encode_client(const struct gl_triplet *t, const struct inet_addr *client,
				         unsigned char out[STORE_VALUE_MAX])
{
    size_t  n = gl_triplet_encode(t, out);
    int     fam = client->family == AF_INET ? 4 : client->family == AF_INET6 ? 6 : 0;

    return n + store_addr_encode(fam, client->b, out + n);
}

enum store_decoded gl_triplet_decode(const void *val, size_t len, struct gl_triplet *t)
{
    struct inet_addr ignored;

    return gl_triplet_decode_client(val, len, t, &ignored);
}

enum store_decoded gl_triplet_decode_client(const void *val, size_t len, struct gl_triplet *t,
					            struct inet_addr *client)
{
    int64_t f[2];
    size_t  n = 2 + 8 * 2;		/* the fields of an encoded triplet */
    enum store_decoded rc;
    int     fam = 0;

    memset(client, 0, sizeof(*client));
    if (val != NULL && len > n) {	/* the client address follows */
	if (store_addr_decode((const unsigned char *) val + n, len - n, &fam, client->b) < 0)
	    return STORE_VALUE_BAD;
	len = n;
    }
    if ((rc = store_value_decode(val, len, STORE_KIND_TRIPLET, f, 2)) == STORE_VALUE_BAD
	|| (fam && rc != STORE_VALUE_OK)) {
	memset(client, 0, sizeof(*client));
	return STORE_VALUE_BAD;
    }
    client->family = fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : 0;
    t->first = f[0];
    t->last = f[1];
    return rc;
}

/* gl_client_encode - count, last */
size_t  gl_client_encode(const struct gl_client *cl, unsigned char out[STORE_VALUE_MAX])
{
    int64_t f[2] = {cl->count, cl->last};

    return store_value_encode(out, STORE_KIND_CLIENT, f, 2);
}

enum store_decoded gl_client_decode(const void *val, size_t len, struct gl_client *cl)
{
    int64_t f[2];
    enum store_decoded rc = store_value_decode(val, len, STORE_KIND_CLIENT, f, 2);

    if (rc != STORE_VALUE_BAD) {
	cl->count = f[0];
	cl->last = f[1];
    }
    return rc;
}

/* gl_wl_entry_encode - when a manual whitelist entry was added */
size_t  gl_wl_entry_encode(int64_t added, unsigned char out[STORE_VALUE_MAX])
{
    return store_value_encode(out, STORE_KIND_WHITELIST, &added, 1);
}

enum store_decoded gl_wl_entry_decode(const void *val, size_t len, int64_t *added)
{
    return store_value_decode(val, len, STORE_KIND_WHITELIST, added, 1);
}

/* batv_tag - at least 10 of [0-9a-z] (either case) at the start */
static int batv_tag(const char *s, size_t len)
{
    size_t  n = 0;

    while (n < len && (isdigit((unsigned char) s[n]) || isalpha((unsigned char) s[n])))
	n++;
    return n >= 10;
}

/* word_char - Perl's \w for ASCII */
static int word_char(int c)
{
    return isalnum((unsigned char) c) || c == '_';
}

/*
 * sender_append - postgrey's do_sender_substitutions() of sender, appended
 * to out as it is (the caller folds case).  No copy of the local part is
 * made: the BATV pick and the +extension cut are spans of the sender.
 */
static void sender_append(const char *sender, struct buf *out)
{
    const char *at = strrchr(sender, '@');

    if (at == NULL) {
	buf_puts(out, sender);
	return;
    }
    const char *user = sender;
    size_t  ulen = (size_t) (at - sender);

    /* BATV: prvs=tag=user or prvs=user=tag; the tag starts with 10 [0-9a-z] */
    if (ulen >= 5 && strncasecmp(user, "prvs=", 5) == 0) {
	const char *a1 = user + 5, *end = user + ulen;
	const char *eq = memchr(a1, '=', (size_t) (end - a1));

	if (eq && memchr(eq + 1, '=', (size_t) (end - eq - 1)) == NULL) {
	    const char *a2 = eq + 1;
	    size_t  l1 = (size_t) (eq - a1), l2 = (size_t) (end - a2);
	    int     t1 = batv_tag(a1, l1), t2 = batv_tag(a2, l2);

	    if (t2 && !t1) {
		user = a1;
		ulen = l1;
	    } else {
		user = a2;		/* the standard order, or a coin */
		ulen = l2;
	    }
	}
    }
    /* +extension (mailing-list VERP) */
    const char *plus = memchr(user, '+', ulen);

    if (plus)
	ulen = (size_t) (plus - user);

    /* digit runs that are whole words become '#' (Perl's \b\d+\b) */
    const char *cp = user, *end = user + ulen, *run = user;

    while (cp < end) {
	if (!isdigit((unsigned char) *cp)) {
	    cp++;
	    continue;
	}
	const char *d = cp;

	while (d < end && isdigit((unsigned char) *d))
	    d++;
	if ((cp == user || !word_char(cp[-1])) && (d == end || !word_char(*d))) {
	    buf_append(out, run, (size_t) (cp - run));
	    buf_putc(out, '#');
	    run = d;
	}
	cp = d;
    }
    buf_append(out, run, (size_t) (end - run));
    buf_putc(out, '@');
    buf_puts(out, at + 1);
}

/* gl_sender_normalise - postgrey's do_sender_substitutions(), lower case */
void    gl_sender_normalise(const char *sender, struct buf *out)
{
    buf_reset(out);
    sender_append(sender, out);
    str_lower(out->s);
}

/* client_net - the network (or host) part of a key, of a parsed address */
static void client_net(const struct gl_conf *c, struct inet_addr a, struct buf *out)
{
    char    text[64];

    if (!c->by_host) {
	int     len = a.family == AF_INET ? c->ipv4_prefix : c->ipv6_prefix;
	int     max = a.family == AF_INET ? 32 : 128;

	for (int bit = len; bit < max; bit++)
	    a.b[bit / 8] &= (unsigned char) ~(0x80 >> (bit % 8));
    }
    inet_format(&a, text, sizeof(text));
    buf_puts(out, text);
}

/* gl_client_net - the network (or host) part of the key */
int     gl_client_net(const struct gl_conf *c, const char *addr, struct buf *out)
{
    struct inet_addr a;

    if (inet_parse(addr, &a) < 0)
	return -1;
    client_net(c, a, out);
    return 0;
}

/* hash_key - SHA-1 hex of the key, as postgrey --privacy does */
static void hash_key(struct buf *key)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(key->s, key->len, md, &mdlen, EVP_sha1(), NULL) != 1)
	msg_fatal("greylist: SHA-1 failed");
    buf_reset(key);
    for (unsigned i = 0; i < mdlen; i++) {
	buf_putc(key, hex[md[i] >> 4]);
	buf_putc(key, hex[md[i] & 15]);
    }
}

/* gl_triplet_key_addr - gl_triplet_key of a parsed client address */
void    gl_triplet_key_addr(const struct gl_conf *c, const struct inet_addr *a,
			            const char *auth_domain, const char *sender,
			            const char *recipient, struct buf *out)
{
    buf_reset(out);
    if (auth_domain) {
	/* any server the domain's SPF authorises is the same sender */
	buf_puts(out, "spf:");
	buf_puts(out, auth_domain);
    } else {
	client_net(c, *a, out);
    }
    buf_putc(out, '/');
    sender_append(sender, out);
    buf_putc(out, '/');
    buf_puts(out, recipient);
    str_lower(out->s);
    if (c->privacy || out->len > GL_KEY_MAX)
	hash_key(out);
}

/* gl_triplet_key - "net/sender/recipient", lower case (hashed with privacy) */
int     gl_triplet_key(const struct gl_conf *c, const char *addr, const char *auth_domain,
		               const char *sender, const char *recipient, struct buf *out)
{
    struct inet_addr a;

    buf_reset(out);
    if (inet_parse(addr, &a) < 0)
	return -1;
    gl_triplet_key_addr(c, &a, auth_domain, sender, recipient, out);
    return 0;
}

/* gl_client_key_addr - gl_client_key of a parsed client address */
void    gl_client_key_addr(const struct gl_conf *c, const struct inet_addr *a, struct buf *out)
{
    char    text[64];

    buf_reset(out);
    inet_format(a, text, sizeof(text));
    buf_puts(out, text);
    if (c->privacy)
	hash_key(out);
}

/* gl_client_key - the auto-whitelist key: the exact address */
int     gl_client_key(const struct gl_conf *c, const char *addr, struct buf *out)
{
    struct inet_addr a;

    buf_reset(out);
    if (inet_parse(addr, &a) < 0)
	return -1;
    gl_client_key_addr(c, &a, out);
    return 0;
}

/* gl_whitelist_net_key_addr - gl_whitelist_net_key of a parsed address */
void    gl_whitelist_net_key_addr(const struct gl_conf *c, const struct inet_addr *a,
				          struct buf *out)
{
    struct gl_conf net = *c;

    net.by_host = 0;			/* the network, whatever the triplets use */
    buf_reset(out);
    client_net(&net, *a, out);
    buf_putc(out, '/');
    buf_put_long(out, a->family == AF_INET6 ? c->ipv6_prefix : c->ipv4_prefix);
    if (c->privacy)
	hash_key(out);
}

/* gl_whitelist_net_key - "net/len" at the configured prefix */
int     gl_whitelist_net_key(const struct gl_conf *c, const char *addr, struct buf *out)
{
    struct inet_addr a;

    buf_reset(out);
    if (inet_parse(addr, &a) < 0)
	return -1;
    gl_whitelist_net_key_addr(c, &a, out);
    return 0;
}

/* gl_expand_text - the first %s and the first %r, as postgrey */
void    gl_expand_text(const char *tpl, long wait, const char *recipient, struct buf *out)
{
    const char *dom = strrchr(recipient, '@');
    int     did_s = 0, did_r = 0;
    const char *cp = tpl, *pct;

    dom = dom ? dom + 1 : recipient;
    buf_reset(out);
    while ((pct = strchr(cp, '%')) != NULL) {
	buf_append(out, cp, (size_t) (pct - cp));
	if (pct[1] == 's' && !did_s) {
	    buf_put_long(out, wait);
	    did_s = 1;
	    cp = pct + 2;
	} else if (pct[1] == 'r' && !did_r) {
	    buf_puts(out, dom);
	    did_r = 1;
	    cp = pct + 2;
	} else {
	    buf_putc(out, '%');
	    cp = pct + 1;
	}
    }
    buf_puts(out, cp);
}

/* gl_expand_header - X-Greylist: %t %v %h %d */
void    gl_expand_header(const char *tpl, long delayed, const char *host, time_t now,
			         struct buf *out)
{
    char    date[64];
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %T %Z", &tm);
    buf_reset(out);
    for (const char *cp = tpl; *cp; cp++) {
	if (cp[0] != '%' || (cp[1] != 't' && cp[1] != 'v' && cp[1] != 'h' && cp[1] != 'd')) {
	    buf_putc(out, *cp);
	    continue;
	}
	cp++;
	switch (*cp) {
	case 't':
	    buf_printf(out, "%ld", delayed);
	    break;
	case 'v':
	    buf_puts(out, MXSHIELD_VERSION);
	    break;
	case 'h':
	    buf_puts(out, host);
	    break;
	case 'd':
	    buf_puts(out, date);
	    break;
	}
    }
}

/*
 * Whitelists.  Clients: /regexp/ (against the client name), IPv4 and IPv6
 * addresses and networks, partial IPv4 addresses (a.b.c is /24, a.b is
 * /16), and host names, which match themselves and their subdomains.
 * Recipients: /regexp/, user@domain, user@ (both also with +extension),
 * and domain (and its subdomains).
 */
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
