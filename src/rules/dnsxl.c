/*
 * dnsxl.c - DNS list arguments and replies.
 *
 * "zen.spamhaus.org" or "zen.spamhaus.org=127.0.0.[2..11]": a list domain
 * and an optional filter on the A record it answers, in Postfix's syntax:
 * four octets, each a number or a bracketed set of numbers and ranges
 * separated by ';' ("127.0.[0..255].[1;3..5]").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "rules/dnsxl.h"
#include "util/mac.h"
#include "util/mem.h"

/* parse_octet - one octet pattern into a 256-bit set */
static int parse_octet(const char *cp, const char **endp, unsigned char set[32])
{
    char   *end;
    long    lo, hi;

    memset(set, 0, 32);
    if (*cp != '[') {
	if (*cp < '0' || *cp > '9')
	    return -1;
	lo = strtol(cp, &end, 10);
	if (lo > 255)
	    return -1;
	set[lo / 8] |= (unsigned char) (1 << (lo % 8));
	*endp = end;
	return 0;
    }
    cp++;
    for (;;) {
	if (*cp < '0' || *cp > '9')
	    return -1;
	lo = strtol(cp, &end, 10);
	hi = lo;
	cp = end;
	if (cp[0] == '.' && cp[1] == '.') {
	    if (cp[2] < '0' || cp[2] > '9')
		return -1;
	    hi = strtol(cp + 2, &end, 10);
	    cp = end;
	}
	if (lo > 255 || hi > 255 || lo > hi)
	    return -1;
	for (long v = lo; v <= hi; v++)
	    set[v / 8] |= (unsigned char) (1 << (v % 8));
	if (*cp == ']')
	    break;
	if (*cp != ';')
	    return -1;
	cp++;
    }
    *endp = cp + 1;
    return 0;
}

/* dnsxl_parse - "domain[=filter]" */
struct dnsxl *dnsxl_parse(const char *spec, struct buf *err)
{
    const char *eq = strchr(spec, '=');
    struct dnsxl *xl = xcalloc(1, sizeof(*xl));

    xl->spec = xstrdup(spec);
    xl->domain = eq ? xstrndup(spec, (size_t) (eq - spec)) : xstrdup(spec);
    if (*xl->domain == 0 || strchr(xl->domain, '.') == NULL) {
	buf_printf(err, "\"%s\" is not a DNS list domain", xl->domain);
	dnsxl_free(xl);
	return NULL;
    }
    if (eq) {
	const char *cp = eq + 1;

	xl->filter = 1;
	for (int i = 0; i < 4; i++) {
	    if (parse_octet(cp, &cp, xl->octets[i]) < 0
		|| (i < 3 && *cp++ != '.')) {
		buf_printf(err, "bad reply filter \"%s\" (expected e.g. 127.0.0.[2..11])", eq + 1);
		dnsxl_free(xl);
		return NULL;
	    }
	}
	if (*cp != 0) {
	    buf_printf(err, "bad reply filter \"%s\" (expected e.g. 127.0.0.[2..11])", eq + 1);
	    dnsxl_free(xl);
	    return NULL;
	}
    }
    return xl;
}

void    dnsxl_free(struct dnsxl *xl)
{
    free(xl->spec);
    free(xl->domain);
    free(xl);
}

/* dnsxl_match - does one answer address pass the filter? */
int     dnsxl_match(const struct dnsxl *xl, const struct inet_addr *a)
{
    if (a->family != AF_INET)
	return 0;
    if (!xl->filter)
	return 1;
    for (int i = 0; i < 4; i++)
	if (!(xl->octets[i][a->b[i] / 8] & (1 << (a->b[i] % 8))))
	    return 0;
    return 1;
}

/*
 * dnsxl_error_code - an answer that means "the list refused or failed",
 * not "listed": 127.255.255.x (Spamhaus: public resolver, over quota,
 * typing error), 127.0.0.255 (dnswl.org: over quota), or anything outside
 * 127.0.0.0/8 (a resolver that rewrites NXDOMAIN to an address).
 */
int     dnsxl_error_code(const struct inet_addr *a)
{
    if (a->family != AF_INET || a->b[0] != 127)
	return 1;
    if (a->b[1] == 255 && a->b[2] == 255)
	return 1;
    if (a->b[1] == 0 && a->b[2] == 0 && a->b[3] == 255)
	return 1;
    return 0;
}

/*
 * template_expand - $name, ${name}, ${name?text}, ${name:text}, $$ through
 * util/mac.c.  lookup() gives a value or NULL for an unknown name; -1 on
 * bad syntax or an unknown name, as Postfix's smtpd treats a template.
 * The text is cut at TEMPLATE_LIMIT, past the 510 bytes a reply keeps.
 */
#define TEMPLATE_DEPTH	6		/* the template and 5 nested ?text */
#define TEMPLATE_LIMIT	4096		/* longest expansion kept, in bytes */

int     template_expand(const char *tpl, struct buf *out,
			        const char *(*lookup) (const char *name, void *ctx),
			        void *ctx, int depth)
{
    struct mac_expander x;
    size_t  start = out->len;
    int     rc;

    if (depth >= TEMPLATE_DEPTH)
	return -1;
    x.lookup = lookup;
    x.ctx = ctx;
    x.flags = 0;
    x.depth_limit = TEMPLATE_DEPTH - depth;
    x.out_limit = start + TEMPLATE_LIMIT;
    x.what = "template";
    rc = mac_expand(out, tpl, &x, NULL);
    return rc == MAC_OK || rc == MAC_ERR_LIMIT ? 0 : -1;
}
