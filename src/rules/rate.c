/*
 * rate.c - check_rate's argument (see rate.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ban/ban.h"
#include "rules/rate.h"
#include "util/mem.h"

static const char *const whats[] = {
    "client", "client_net", "sasl_username", "sender", "recipient_domain",
};

const char *rate_what_name(enum rate_what w)
{
    return (unsigned) w < sizeof(whats) / sizeof(whats[0]) ? whats[w] : "?";
}

/* rate_spec_parse - WHAT=LIMIT/WINDOW[/ACTION] */
struct rate_spec *rate_spec_parse(const char *text, struct buf *err)
{
    struct rate_spec rs;
    char   *copy = xstrdup(text), *eq, *f[3] = {NULL, NULL, NULL};
    int     nf = 0, found = 0;

    memset(&rs, 0, sizeof(rs));
    if ((eq = strchr(copy, '=')) == NULL) {
	buf_printf(err, "expected WHAT=LIMIT/WINDOW[/ACTION], not \"%s\"", text);
	goto bad;
    }
    *eq = 0;
    for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
	if (strcmp(copy, whats[i]) == 0)
	    rs.what = (enum rate_what) i, found = 1;
    if (!found) {
	buf_printf(err, "\"%s\": count client, client_net, sasl_username, sender or"
		   " recipient_domain", copy);
	goto bad;
    }
    for (char *p = eq + 1; p && nf < 3; nf++) {
	f[nf] = p;
	if ((p = strchr(p, '/')) != NULL)
	    *p++ = 0;
    }
    if (nf < 2 || !str_is_digits(f[0]) || (rs.limit = atol(f[0])) < 1 || rs.limit > 100000000
	|| (rs.window = ban_parse_time(f[1])) < 1) {
	buf_printf(err, "\"%s\": expected LIMIT/WINDOW, e.g. 100/1h", text);
	goto bad;
    }
    if (f[2] == NULL || strcmp(f[2], "defer") == 0)
	rs.action = RATE_DEFER;
    else if (strcmp(f[2], "reject") == 0)
	rs.action = RATE_REJECT;
    else if (strcmp(f[2], "warn") == 0)
	rs.action = RATE_WARN;
    else {
	buf_printf(err, "\"%s\": the action is defer, reject or warn", text);
	goto bad;
    }
    free(copy);
    struct rate_spec *out = xcalloc(1, sizeof(*out));

    *out = rs;
    out->text = xstrdup(text);
    if ((eq = strchr(out->text, '/')) != NULL && (eq = strchr(eq + 1, '/')) != NULL)
	*eq = 0;			/* the action is not part of the key */
    return out;
bad:
    free(copy);
    return NULL;
}

void    rate_spec_free(struct rate_spec *rs)
{
    if (rs == NULL)
	return;
    free(rs->text);
    free(rs);
}
