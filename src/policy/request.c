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
	if (fields[i].len == len && fields[i].name[0] == name[0]
	    && memcmp(fields[i].name, name, len) == 0)
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
    buf_init(&r->arena);
    request_clear_fields(r);
}

/* request_reset - forget attributes, keep the storage */
void    request_reset(struct request *r)
{
    r->nattrs = 0;
    buf_reset(&r->arena);
    request_clear_fields(r);
}

/* request_free - release everything */
void    request_free(struct request *r)
{
    free(r->attrs);
    r->attrs = NULL;
    r->nattrs = r->cap = 0;
    buf_free(&r->arena);
    request_clear_fields(r);
}

/* request_rebase - the arena moved: point the fields at the new copy */
static void request_rebase(struct request *r)
{
    const char **field;

    request_clear_fields(r);
    for (size_t i = 0; i < r->nattrs; i++) {
	const char *n = r->arena.s + r->attrs[i].name;

	if ((field = field_of(r, n, strlen(n))) != NULL)
	    *field = r->arena.s + r->attrs[i].value;
	if (strcmp(n, "helo_name") == 0)
	    r->seen_helo = 1;
    }
}

/* request_add - store one attribute */
void    request_add(struct request *r, const char *name, size_t nlen,
		            const char *value, size_t vlen)
{
    const char *base = r->arena.s;
    const char **field;
    struct request_attr *a;

    if (r->nattrs == r->cap) {
	r->cap = r->cap ? r->cap * 2 : 32;
	r->attrs = xrealloc(r->attrs, r->cap * sizeof(*r->attrs));
    }
    a = &r->attrs[r->nattrs++];
    a->name = r->arena.len;
    buf_append(&r->arena, name, nlen);
    buf_putc(&r->arena, 0);
    a->value = r->arena.len;
    buf_append(&r->arena, value, vlen);
    buf_putc(&r->arena, 0);
    if (r->arena.s != base) {
	request_rebase(r);
	return;
    }
    if ((field = field_of(r, name, nlen)) != NULL)
	*field = r->arena.s + a->value;
    if (nlen == 9 && memcmp(name, "helo_name", 9) == 0)
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
	if (strcmp(r->arena.s + r->attrs[i].name, name) == 0)
	    return r->arena.s + r->attrs[i].value;
    return NULL;
}
