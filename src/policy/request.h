/*
 * request.h - one Postfix policy delegation request.
 *
 * A request is a list of name=value attributes.  request_add() copies each
 * attribute into one arena that keeps its storage from request to request
 * (no allocation per attribute once a connection is warm); the well-known
 * ones are also reachable by field.  Unknown
 * attributes are kept (for tracing) and otherwise ignored.  Every field is
 * a string, "" when absent.
 */
#ifndef MX_POLICY_REQUEST_H
#define MX_POLICY_REQUEST_H

#include <stddef.h>

#include "util/str.h"

struct request_attr {
    size_t  name;			/* offsets into the arena */
    size_t  value;
};

struct request {
    struct buf arena;			/* "name\0value\0" ... */
    struct request_attr *attrs;
    size_t  nattrs;
    size_t  cap;
    /* well-known attributes ("" when absent) */
    const char *request;
    const char *protocol_state;
    const char *protocol_name;
    const char *helo_name;
    const char *queue_id;
    const char *sender;
    const char *recipient;
    const char *client_address;
    const char *client_name;
    const char *reverse_client_name;
    const char *instance;
    const char *sasl_method;
    const char *sasl_username;
    const char *sasl_sender;
    const char *ccert_fingerprint;
    const char *encryption_protocol;
    const char *stress;
    const char *size;
    int     seen_helo;			/* helo_name attribute present */
};

void    request_init(struct request *r);
void    request_reset(struct request *r);	/* keep storage */
void    request_free(struct request *r);
/* request_add - add name=value; a repeated name: the last one counts */
void    request_add(struct request *r, const char *name, size_t nlen,
		            const char *value, size_t vlen);
/* request_add_line - add "name=value"; -1 when there is no '=' */
int     request_add_line(struct request *r, const char *line, size_t len);
const char *request_get(const struct request *r, const char *name);

#endif
