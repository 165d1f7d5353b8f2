/*
 * request.c - storage for one policy request's attributes.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/request.h"
#include "util/mem.h"

/* field_of - the well-known field pointer for an attribute name */
static const char **field_of(struct request *r, const char *name, size_t len)
{
    static const struct {
	const char *name;
	size_t  len;
	size_t  off;
    } fields[] = {
#define F(n) { #n, sizeof(#n) - 1, offsetof(struct request, n) }
	F(request), F(protocol_state), F(protocol_name), F(helo_name),
	F(queue_id), F(sender), F(recipient), F(client_address),
	F(client_name), F(reverse_client_name), F(instance),
	F(sasl_method), F(sasl_username), F(sasl_sender),
	F(ccert_fingerprint), F(encryption_protocol), F(stress), F(size),
#undef F
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
	if (fields[i].len == len && memcmp(fields[i].name, name, len) == 0)
	    return (const char **) ((char *) r + fields[i].off);
    return NULL;
}

/* request_clear_fields - every well-known field to "" */
static void request_clear_fields(struct request *r)
{
    r->request = r->protocol_state = r->protocol_name = r->helo_name = "";
    r->queue_id = r->sender = r->recipient = r->client_address = "";
    r->client_name = r->reverse_client_name = r->instance = "";
    r->sasl_method = r->sasl_username = r->sasl_sender = "";
    r->ccert_fingerprint = r->encryption_protocol = r->stress = r->size = "";
    r->seen_helo = 0;
}

/* request_init - empty request */
void    request_init(struct request *r)
{
    r->attrs = NULL;
    r->nattrs = r->cap = 0;
    request_clear_fields(r);
}

/* request_reset - forget attributes, keep the array */
void    request_reset(struct request *r)
{
    for (size_t i = 0; i < r->nattrs; i++) {
	free(r->attrs[i].name);
	free(r->attrs[i].value);
    }
    r->nattrs = 0;
    request_clear_fields(r);
}

/* request_free - release everything */
void    request_free(struct request *r)
{
    request_reset(r);
    free(r->attrs);
    r->attrs = NULL;
    r->cap = 0;
}

/* request_add - store one attribute */
void    request_add(struct request *r, const char *name, size_t nlen,
		            const char *value, size_t vlen)
{
    char   *n = xstrndup(name, nlen);
    char   *v = xstrndup(value, vlen);
    const char **field;

    if (r->nattrs == r->cap) {
	r->cap = r->cap ? r->cap * 2 : 32;
	r->attrs = xrealloc(r->attrs, r->cap * sizeof(*r->attrs));
    }
    r->attrs[r->nattrs].name = n;
    r->attrs[r->nattrs].value = v;
    r->nattrs++;
    if ((field = field_of(r, n, nlen)) != NULL)
	*field = v;
    if (strcmp(n, "helo_name") == 0)
	r->seen_helo = 1;
}

/* request_add_line - store "name=value" */
int     request_add_line(struct request *r, const char *line, size_t len)
{
    const char *eq = memchr(line, '=', len);

    if (eq == NULL || eq == line)
	return -1;
    request_add(r, line, (size_t) (eq - line), eq + 1, len - (size_t) (eq - line) - 1);
    return 0;
}

/* request_get - value of any attribute, NULL if absent */
const char *request_get(const struct request *r, const char *name)
{
    for (size_t i = r->nattrs; i-- > 0;)
	if (strcmp(r->attrs[i].name, name) == 0)
	    return r->attrs[i].value;
    return NULL;
}
