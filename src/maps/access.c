/*
 * access.c - the order in which Postfix's smtpd looks up access(5) keys.
 *
 * Mirrors smtpd_check.c: check_domain_access() for names, check_addr_access()
 * for addresses, check_namadr_access() for clients, and
 * mail_addr_find_strategy() with FULL|NOEXT|DOMAIN|LOCALPART_AT for
 * mail addresses.  The first key is a "full" lookup that every table sees;
 * the partial keys that follow (parent domains, shorter networks, the
 * address without extension, user@) are given to fixed-string tables
 * only, as Postfix does with DICT_FLAG_FIXED.  A parent domain longer
 * than a hostname can be (RFC 5321: 255) is not tried: no table key is
 * that long, and skipping it keeps the walk over a long name linear.
 *
 * Case: smtpd folds a mail address to lower case before its lookups
 * (smtpd_resolve_addr), so access_address() does too, for every table
 * type: a regexp/pcre line whose 'i' flag makes it case-sensitive still
 * sees the folded address.  Names and client addresses are not folded:
 * fixed-string tables fold them (DICT_FLAG_FOLD_FIX), pattern tables see
 * them as given (Postfix opens access tables without DICT_FLAG_FOLD_MUL).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maps/access.h"
#include "util/mailaddr.h"
#include "util/mem.h"

/* try - one lookup; full=0 skips pattern tables */
static enum map_result try(struct map *m, const char *key, int full,
			           const char **value, struct buf *matched)
{
    enum map_result r;

    if (!full && map_is_pattern(m))
	return MAP_NOTFOUND;
    r = map_get(m, key, value);
    if (r == MAP_FOUND && matched) {
	buf_reset(matched);
	buf_puts(matched, key);
    }
    return r;
}

/* numeric - the name is an IPv4 or IPv6 address (no subdomain magic) */
static int numeric(const char *name)
{
    unsigned char b[16];

    return inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1;
}

/* domain_keys - the name, then parent domains */
static enum map_result domain_keys(struct map *m, const struct access_opts *o,
				           const char *domain, int full,
				           const char **value, struct buf *matched)
{
    const char *name, *next;
    enum map_result r;
    size_t  len = strlen(domain);

    for (name = domain; *name != 0; name = next) {
	/* no parent longer than a hostname can be (RFC 5321: 255): a long
	 * name's walk would hash every one of its suffixes, quadratic */
	if ((name == domain || len - (size_t) (name - domain) <= ADDR_DOMAIN_MAX)
	    && (r = try(m, name, full, value, matched)) != MAP_NOTFOUND)
	    return r;
	if (name == domain && numeric(domain))
	    break;
	if ((next = strchr(name + 1, '.')) == NULL)
	    break;
	if (o->parent_matches_subdomains)
	    next += 1;
	full = 0;
    }
    return MAP_NOTFOUND;
}

/* access_domain - check_helo_access and friends */
enum map_result access_domain(struct map *m, const struct access_opts *o,
			              const char *domain,
			              const char **value, struct buf *matched)
{
    return domain_keys(m, o, domain, 1, value, matched);
}

/* access_client - hostname and parents, then address and shorter nets */
enum map_result access_client(struct map *m, const struct access_opts *o,
			              const char *name, const char *addr,
			              const char **value, struct buf *matched)
{
    enum map_result r;
    char    small[128];
    char   *key, *cut;
    int     full = 1;
    int     delim;

    if ((r = domain_keys(m, o, name, 1, value, matched)) != MAP_NOTFOUND)
	return r;
    if (*addr == 0)
	return MAP_NOTFOUND;
    key = strlen(addr) < sizeof(small) ? strcpy(small, addr) : xstrdup(addr);
    delim = strchr(key, ':') ? ':' : '.';
    do {
	if ((r = try(m, key, full, value, matched)) != MAP_NOTFOUND)
	    break;
	full = 0;
	if ((cut = strrchr(key, delim)) != NULL)
	    *cut = 0;
    } while (cut != NULL);
    if (key != small)
	free(key);
    return r;
}

/* keep - split_addr(): may the local part be split at all? */
static int keep(const char *local, size_t llen, const char *delims)
{
    /* Postfix never splits these */
    if (strcasecmp(local, "postmaster") == 0 || strcasecmp(local, "mailer-daemon") == 0
	|| strcasecmp(local, "double-bounce") == 0)
	return 1;
    if (strchr(delims, '-') != NULL) {
	if (strncasecmp(local, "owner-", 6) == 0)
	    return 1;
	if (llen > 8 && strcasecmp(local + llen - 8, "-request") == 0)
	    return 1;
    }
    return 0;
}

/* strip_ext - user+ext@domain to user@domain; 0 if nothing to strip */
static char *strip_ext(const char *addr, const char *delims)
{
    const char *at = strrchr(addr, '@');
    size_t  llen = at ? (size_t) (at - addr) : strlen(addr);
    char    small[256];
    char   *local;
    size_t  cut;
    int     no;

    if (*delims == 0 || llen == 0)
	return NULL;
    /* a local part of any length, as Postfix */
    local = llen < sizeof(small) ? small : xmalloc(llen + 1);
    memcpy(local, addr, llen);
    local[llen] = 0;
    cut = strcspn(local, delims);
    no = keep(local, llen, delims) || cut == 0 || cut == llen;
    if (local != small)
	free(local);
    if (no)
	return NULL;
    struct buf b;

    buf_init(&b);
    buf_append(&b, addr, cut);
    if (at)
	buf_puts(&b, at);
    return buf_steal(&b);
}

/* access_address - check_sender_access / check_recipient_access */
enum map_result access_address(struct map *m, const struct access_opts *o,
			               const char *address_in,
			               const char **value, struct buf *matched)
{
    enum map_result r;
    char    small[256];
    char   *address, *bare;
    const char *at;
    size_t  alen;

    if (*address_in == 0)
	return try(m, o->null_key, 1, value, matched);

    /*
     * smtpd folds the resolved address to lower case before any lookup
     * (smtpd_resolve_addr's casefold), so every table type, regexp and
     * pcre included, sees "admin@s.example" for "ADMIN@s.example".
     */
    alen = strlen(address_in);
    address = alen < sizeof(small) ? small : xmalloc(alen + 1);
    for (size_t i = 0; i <= alen; i++)
	address[i] = (char) tolower((unsigned char) address_in[i]);
    bare = strip_ext(address, o->recipient_delimiter ? o->recipient_delimiter : "");

    /* user+ext@domain, then user@domain */
    if ((r = try(m, address, 1, value, matched)) != MAP_NOTFOUND)
	goto done;
    if (bare && (r = try(m, bare, 0, value, matched)) != MAP_NOTFOUND)
	goto done;

    /* domain and its parent domains (or .parent forms) */
    if ((at = strrchr(address, '@')) != NULL && at[1] != 0) {
	const char *name, *next;
	size_t  len = strlen(at + 1);

	for (name = at + 1; *name != 0; name = next) {
	    /* as in domain_keys: no key longer than a hostname */
	    if (len - (size_t) (name - at - 1) <= ADDR_DOMAIN_MAX
		&& (r = try(m, name, 0, value, matched)) != MAP_NOTFOUND)
		goto done;
	    if ((next = strchr(name + 1, '.')) == NULL)
		break;
	    if (o->parent_matches_subdomains)
		next++;
	}
    }

    /* user+ext@, then user@ */
    if (at != NULL) {
	struct buf k;

	buf_init(&k);
	buf_append(&k, address, (size_t) (at - address) + 1);
	r = try(m, k.s, 0, value, matched);
	if (r == MAP_NOTFOUND && bare) {
	    buf_reset(&k);
	    buf_append(&k, bare, (size_t) (strrchr(bare, '@') - bare) + 1);
	    r = try(m, k.s, 0, value, matched);
	}
	buf_free(&k);
    }
done:
    free(bare);
    if (address != small)
	free(address);
    return r;
}
