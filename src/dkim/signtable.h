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
struct dkim_sign_conf;

/* dkim_signer_open - tables and options of conf; NULL and why */
struct dkim_signer *dkim_signer_open(const struct config *conf, char *why, size_t whylen);
int     dkim_signer_enabled(const struct dkim_signer *g);

/* dkim_signer_keys - keys (at most DKIM_SIGN_MAX_KEYS) for the From:
 * address addr (lower case): MAP_FOUND with *n >= 1, MAP_NOTFOUND (do
 * not sign), MAP_ERROR with why (a table or a key failed) */
enum map_result dkim_signer_keys(struct dkim_signer *g, const char *addr,
				         const struct dkim_signkey **keys, size_t *n,
				         char *why, size_t whylen);

/* dkim_signer_key - the key of that name in dkim_key_table (loaded once,
 * owned by g); NULL and why.  dkim_signer_conf - the configured options */
const struct dkim_signkey *dkim_signer_key(struct dkim_signer *g, const char *name,
					           char *why, size_t whylen);
const struct dkim_sign_conf *dkim_signer_conf(const struct dkim_signer *g);

/* dkim_signer_start - dkim_sign_new() with the configured options */
struct dkim_sign *dkim_signer_start(const struct dkim_signer *g);

/* dkim_from_address - the address in a From: value, lower case, owned
 * by the caller; NULL when it has none */
char   *dkim_from_address(const char *value);

void    dkim_signer_free(struct dkim_signer *g);

/*
 * One message as a milter sees it (signmsg.c): the keys are chosen from
 * its single From: address at the end.  finish: 1 signed (values by
 * dkim_msgsign_value(), after "DKIM-Signature:", folded CRLF TAB), 0 no
 * key or not exactly one From: (send unsigned), -1 a table, key or limit
 * failed (why).  g must outlive the message.
 */
struct dkim_msgsign;
struct dkim_msgsign *dkim_msgsign_new(struct dkim_signer *g);
void    dkim_msgsign_header(struct dkim_msgsign *m, const char *name, size_t nlen,
			            const char *value, size_t vlen);
void    dkim_msgsign_body(struct dkim_msgsign *m, const void *data, size_t len);
int     dkim_msgsign_finish(struct dkim_msgsign *m, long long now, char *why, size_t whylen);
const char *dkim_msgsign_from(const struct dkim_msgsign *m);
size_t  dkim_msgsign_count(const struct dkim_msgsign *m);
const char *dkim_msgsign_value(const struct dkim_msgsign *m, size_t i);
void    dkim_msgsign_free(struct dkim_msgsign *m);

#endif
