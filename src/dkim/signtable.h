/*
 * signtable.h - which keys sign a message (dkim_signing_table,
 * dkim_key_table: OpenDKIM's SigningTable and KeyTable as Postfix
 * tables), and the signing options of the configuration.
 */
#ifndef MX_DKIM_SIGNTABLE_H
#define MX_DKIM_SIGNTABLE_H

#include <stddef.h>

#include "conf/config.h"
#include "maps/map.h"

struct dkim_signer;
struct dkim_signkey;
struct dkim_sign;

/* dkim_signer_open - tables and options of conf; NULL and why */
struct dkim_signer *dkim_signer_open(const struct config *conf, char *why, size_t whylen);
int     dkim_signer_enabled(const struct dkim_signer *g);

/* dkim_signer_keys - keys (at most DKIM_SIGN_MAX_KEYS) for the From:
 * address addr (lower case): MAP_FOUND with *n >= 1, MAP_NOTFOUND (do
 * not sign), MAP_ERROR with why (a table or a key failed) */
enum map_result dkim_signer_keys(struct dkim_signer *g, const char *addr,
				         const struct dkim_signkey **keys, size_t *n,
				         char *why, size_t whylen);

/* dkim_signer_start - dkim_sign_new() with the configured options */
struct dkim_sign *dkim_signer_start(const struct dkim_signer *g);

/* dkim_from_address - the address in a From: value, lower case, owned
 * by the caller; NULL when it has none */
char   *dkim_from_address(const char *value);

void    dkim_signer_free(struct dkim_signer *g);

#endif
