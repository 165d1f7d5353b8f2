/*
 * dkim.h - DKIM (RFC 6376, RFC 8301, RFC 8463) and ARC (RFC 8617)
 * verification of one message, fed as a milter receives it.
 *
 * The caller (the milter, `mxshield dkim`, `mxshield dmarc`) gives each
 * header as it arrives, then the body in chunks, then asks for the
 * results.  Body hashes are computed as the chunks arrive: the body is
 * never kept.  Key records are asked through the caller's lookupset
 * (src/dns/lookupset.h): dkim_verify_finish() returns 0 while a key is
 * still on its way; the lookupset's wakeup function then fires and the
 * caller calls dkim_verify_finish() again.
 *
 * Every signature up to DKIM_MAX_SIGNATURES is verified (later ones are
 * reported as policy, "too many signatures"); header and value sizes
 * past the named limits make that signature a permerror, never more
 * work.  Results use RFC 8601's words.
 */
#ifndef MX_DKIM_DKIM_H
#define MX_DKIM_DKIM_H

#include <stddef.h>

struct lookupset;
struct dns_answer;
struct buf;

/* Named limits (per message) */
#define DKIM_MAX_SIGNATURES	10		/* DKIM-Signatures verified */
#define DKIM_MAX_HEADERS	1000		/* header fields kept */
#define DKIM_MAX_HEADER_BYTES	(1024 * 1024)	/* names and values kept */
#define ARC_MAX_INSTANCES	50		/* RFC 8617 section 4.2.1 */

enum dkim_result {
    DKIM_NONE,				/* no signature */
    DKIM_PASS,
    DKIM_FAIL,
    DKIM_NEUTRAL,
    DKIM_POLICY,
    DKIM_TEMPERROR,
    DKIM_PERMERROR,
};

enum arc_result {
    ARC_NONE,
    ARC_PASS,
    ARC_FAIL,
};

/* dkim_result_name - "pass", "fail", ... (RFC 8601) */
const char *dkim_result_name(enum dkim_result r);
const char *arc_result_name(enum arc_result r);

/* one DKIM-Signature header's outcome; strings owned by the verifier,
 * NULL when the tag is absent or the header could not be parsed */
struct dkim_sig_result {
    int     index;			/* among DKIM-Signature headers, 0 topmost */
    enum dkim_result result;
    const char *d;			/* signing domain (header.d) */
    const char *s;			/* selector (header.s) */
    const char *a;			/* algorithm (header.a) */
    const char *i;			/* identity (header.i) */
    const char *b;			/* the first 8 characters of b= (header.b) */
    const char *reason;			/* one line, for Authentication-Results */
};

struct dkim_conf {
    int     min_rsa_bits;		/* RFC 8301: at least 1024 */
    size_t  max_signatures;		/* verified per message */
};

/* the defaults: 1024 bits, DKIM_MAX_SIGNATURES */
void    dkim_conf_default(struct dkim_conf *c);

struct dkim_verify;

/* dkim_verify_new - a verifier for one message; ls is the caller's */
struct dkim_verify *dkim_verify_new(const struct dkim_conf *c, struct lookupset *ls);

/* dkim_verify_header - one header field: name without the colon, value
 * exactly as it follows the colon (leading space kept, as Postfix sends
 * it with HDR_LEADSPC), folded lines joined by CRLF, no final CRLF */
void    dkim_verify_header(struct dkim_verify *v, const char *name, size_t nlen,
			           const char *value, size_t vlen);

/* dkim_verify_eoh - the headers are complete: key lookups start */
void    dkim_verify_eoh(struct dkim_verify *v);

/* dkim_verify_body - the next body bytes, lines ending in CRLF */
void    dkim_verify_body(struct dkim_verify *v, const void *data, size_t len);

/* dkim_verify_finish - after the last body chunk: 1 results ready, 0
 * waiting for DNS (call again on the lookupset's wakeup) */
int     dkim_verify_finish(struct dkim_verify *v);

/* the DKIM-Signature results, in header order (valid after finish) */
size_t  dkim_verify_count(const struct dkim_verify *v);
const struct dkim_sig_result *dkim_verify_result(const struct dkim_verify *v, size_t i);

/* dkim_verify_arc - the ARC chain's result (valid after finish); *sealer
 * the d= of the newest ARC-Seal (NULL when none), *reason one line */
enum arc_result dkim_verify_arc(const struct dkim_verify *v, const char **sealer,
				        const char **reason);

/* for the sealer (arcseal.c), after finish: dkim_verify_arc_instance -
 * the newest ARC instance (0 none); dkim_verify_arc_sets - append the
 * sets 1..N, relaxed, as the next ARC-Seal signs them (only on pass) */
int     dkim_verify_arc_instance(const struct dkim_verify *v);
void    dkim_verify_arc_sets(const struct dkim_verify *v, struct buf *out);

/* dkim_verify_free - also while checks are out on a pool: their results
 * are then dropped when they come back */
void    dkim_verify_free(struct dkim_verify *v);

/*
 * dkim_verify_set_pool - each signature's header hash and public-key
 * check run on p's threads (src/daemon/pool.h), all of a message's at
 * once; dkim_verify_finish() returns 0 while any is out, and wakeup(ctx)
 * is called on the loop when the last is back (call finish again; it may
 * free the verifier).  Set before the end of the body; NULL: on the loop.
 */
struct pool;
void    dkim_verify_set_pool(struct dkim_verify *v, struct pool *p,
			             void (*wakeup) (void *), void *ctx);

/*
 * Added for tests, fuzzers and --trace (compatible additions):
 * dkim_verify_set_keys - keys from fn(ctx, name) instead of the lookupset
 *	(the answer stays owned by fn's side; NULL counts as a temporary
 *	failure); dkim_verify_set_time - "now" for x= (default time(NULL));
 * dkim_verify_set_trace - append one line per step to trace;
 * dkim_verify_arc_temporary - 1 when the ARC result is fail only because
 *	a key lookup failed temporarily (never to be read as a failed chain).
 */
void    dkim_verify_set_keys(struct dkim_verify *v,
		           struct dns_answer *(*fn) (void *ctx, const char *name), void *ctx);
void    dkim_verify_set_time(struct dkim_verify *v, long long now);
void    dkim_verify_set_trace(struct dkim_verify *v, struct buf *trace);
int     dkim_verify_arc_temporary(const struct dkim_verify *v);

#endif
