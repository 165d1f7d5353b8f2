/*
 * request.c - storage for one policy request's attributes, and the mail
 * transaction they describe.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/request.h"
#include "util/mem.h"

/*
 * field_of - the well-known field pointer for an attribute name.  Every
 * attribute of every request comes through here (Postfix sends about 30),
 * so the length picks the candidates and one memcmp decides.
 */
static const char **field_of(struct request *r, const char *name, size_t len)
{
    struct txn *t = &r->txn;

#define IS(lit) (memcmp(name, lit, sizeof(lit) - 1) == 0)
    switch (len) {
    case 4:
	return IS("size") ? &t->size : NULL;
    case 6:
	return IS("sender") ? &t->sender : IS("stress") ? &t->stress : NULL;
    case 7:
	return IS("request") ? &r->request : NULL;
    case 8:
	return IS("queue_id") ? &t->queue_id : IS("instance") ? &t->instance : NULL;
    case 9:
	return IS("recipient") ? &t->recipient : IS("helo_name") ? &t->helo_name : NULL;
    case 11:
	return IS("client_name") ? &t->client_name : IS("sasl_method") ? &t->sasl_method
	    : IS("sasl_sender") ? &t->sasl_sender : IS("server_port") ? &t->server_port : NULL;
    case 13:
	return IS("protocol_name") ? &t->protocol_name
	    : IS("sasl_username") ? &t->sasl_username : NULL;
    case 14:
	return IS("protocol_state") ? &t->protocol_state
	    : IS("client_address") ? &t->client_address
	    : IS("policy_context") ? &t->policy_context : NULL;
    case 16:
	return IS("policy_test_time") ? &t->test_time : NULL;
    case 17:
	return IS("ccert_fingerprint") ? &t->ccert_fingerprint : NULL;
    case 19:
	return IS("reverse_client_name") ? &t->reverse_client_name
	    : IS("encryption_protocol") ? &t->encryption_protocol : NULL;
    default:
	return NULL;
    }
#undef IS
}

/* request_clear_fields - every well-known field to "" */
static void request_clear_fields(struct request *r)
{
    r->request = "";
    txn_clear(&r->txn);
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
	    r->txn.seen_helo = 1;
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
	r->txn.seen_helo = 1;
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

/* eval_new - start evaluating a request's transaction */
struct eval *eval_new(struct policy *p, struct request *req, struct trace *trace)
{
    return eval_start(p, &req->txn, trace);
}

/* eval_request - evaluate a request that needs no lookups */
char   *eval_request(struct policy *p, struct request *req, struct trace *trace)
{
    return eval_sync(p, &req->txn, trace);
}
