/*
 * signmsg.c - signing one message as a milter sees it: the keys are
 * chosen from its From: address (dkim_signing_table) only when the
 * message is complete, so that the caller can feed it before knowing.
 *
 *	dkim_msgsign_new(), dkim_msgsign_header() per field,
 *	dkim_msgsign_body() per chunk, dkim_msgsign_finish(): 1 signed (the
 *	values by dkim_msgsign_value()), 0 no key for the From: address (or
 *	no From: address: the message goes out unsigned), -1 a table or key
 *	failed, or a limit was passed (why says which; the caller logs it
 *	and sends the message unsigned or defers it, its choice).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "util/mem.h"

struct dkim_msgsign {
    struct dkim_signer *g;
    struct dkim_sign *s;
    char   *from;			/* the first From: address, or NULL */
    int     froms;			/* From: fields seen */
};

struct dkim_msgsign *dkim_msgsign_new(struct dkim_signer *g)
{
    struct dkim_msgsign *m = xcalloc(1, sizeof(*m));

    m->g = g;
    m->s = dkim_signer_start(g);
    return m;
}

/* dkim_msgsign_header - one field (value with its leading space) */
void    dkim_msgsign_header(struct dkim_msgsign *m, const char *name, size_t nlen,
			            const char *value, size_t vlen)
{
    dkim_sign_header(m->s, name, nlen, value, vlen);
    if (nlen == 4 && strncasecmp(name, "from", 4) == 0 && m->froms++ == 0) {
	char   *v = xstrndup(value, vlen);

	m->from = dkim_from_address(v);
	free(v);
    }
}

void    dkim_msgsign_body(struct dkim_msgsign *m, const void *data, size_t len)
{
    dkim_sign_body(m->s, data, len);
}

/* dkim_msgsign_finish - choose the keys and sign: 1, 0 or -1 (see above) */
int     dkim_msgsign_finish(struct dkim_msgsign *m, long long now, char *why, size_t whylen)
{
    const struct dkim_signkey *keys[DKIM_SIGN_MAX_KEYS];
    size_t  n = 0;
    enum map_result r;

    if (m->from == NULL || m->froms != 1)
	return 0;			/* RFC 5322: exactly one From: */
    if ((r = dkim_signer_keys(m->g, m->from, keys, &n, why, whylen)) != MAP_FOUND)
	return r == MAP_NOTFOUND ? 0 : -1;
    for (size_t i = 0; i < n; i++)
	dkim_sign_add_key(m->s, keys[i]);
    return dkim_sign_finish(m->s, now, why, whylen) < 0 ? -1 : 1;
}

/* dkim_msgsign_from - the From: address (lower case), NULL unless the
 * message has exactly one From: field with an address */
const char *dkim_msgsign_from(const struct dkim_msgsign *m)
{
    return m->froms == 1 ? m->from : NULL;
}

size_t  dkim_msgsign_count(const struct dkim_msgsign *m)
{
    return dkim_sign_count(m->s);
}

/* dkim_msgsign_value - the i-th DKIM-Signature value after finish gave 1 */
const char *dkim_msgsign_value(const struct dkim_msgsign *m, size_t i)
{
    return dkim_sign_value(m->s, i);
}

void    dkim_msgsign_free(struct dkim_msgsign *m)
{
    if (m == NULL)
	return;
    dkim_sign_free(m->s);
    free(m->from);
    free(m);
}
