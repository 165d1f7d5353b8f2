/*
 * greylist.c - postgrey's algorithm and record formats (postgrey 1.37):
 * the decision, the stored records, the keys, the reply and header
 * texts.  The whitelist files: greylist/whitelist.c.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "greylist/greylist.h"
#include "util/inet.h"
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
