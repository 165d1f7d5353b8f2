/*
 * txn.c - one mail transaction: clearing it, recording what the checks
 * established.
 */
#include <string.h>

#include "mail/txn.h"

/* txn_clear - every fact unknown */
void    txn_clear(struct txn *t)
{
    t->protocol_state = t->protocol_name = t->client_address = "";
    t->client_name = t->reverse_client_name = t->helo_name = t->stress = "";
    t->queue_id = t->instance = t->sender = t->recipient = t->size = "";
    t->sasl_method = t->sasl_username = t->sasl_sender = "";
    t->ccert_fingerprint = t->encryption_protocol = t->test_time = "";
    t->server_port = t->policy_context = "";
    t->seen_helo = 0;
    for (int i = 0; i < TXN_SPF_COUNT; i++) {
	t->spf[i].known = 0;
	t->spf[i].domain[0] = 0;
    }
}

/* txn_set_spf - record an SPF result; a domain too long for DNS is not kept */
void    txn_set_spf(struct txn *t, enum txn_spf_identity id, enum spf_result result,
		            const char *domain)
{
    struct txn_spf *s = &t->spf[id];
    size_t  len = strlen(domain);

    s->known = 1;
    s->result = result;
    if (len > TXN_DOMAIN_MAX)
	len = 0;
    memcpy(s->domain, domain, len);
    s->domain[len] = 0;
}
