/*
 * dkim_pending.c - stands in for the DKIM/ARC verifier (src/dkim/) until
 * it is merged: no signature is verified (every message is dkim=none,
 * arc=none).  Deleted when the verifier lands.
 */
#include <stdlib.h>

#include "dkim/dkim.h"
#include "util/mem.h"

struct dkim_verify {
    int     unused;
};

const char *dkim_result_name(enum dkim_result r)
{
    static const char *const n[] = {"none", "pass", "fail", "neutral", "policy",
    "temperror", "permerror"};

    return n[r];
}

const char *arc_result_name(enum arc_result r)
{
    return r == ARC_PASS ? "pass" : r == ARC_FAIL ? "fail" : "none";
}

void    dkim_conf_default(struct dkim_conf *c)
{
    c->min_rsa_bits = 1024;
    c->max_signatures = 8;
}

struct dkim_verify *dkim_verify_new(const struct dkim_conf *c, struct lookupset *ls)
{
    (void) c;
    (void) ls;
    return xcalloc(1, sizeof(struct dkim_verify));
}

void    dkim_verify_header(struct dkim_verify *v, const char *name, size_t nlen,
			           const char *value, size_t vlen)
{
    (void) v;
    (void) name;
    (void) nlen;
    (void) value;
    (void) vlen;
}

void    dkim_verify_eoh(struct dkim_verify *v)
{
    (void) v;
}

void    dkim_verify_body(struct dkim_verify *v, const void *data, size_t len)
{
    (void) v;
    (void) data;
    (void) len;
}

int     dkim_verify_finish(struct dkim_verify *v)
{
    (void) v;
    return 1;
}

size_t  dkim_verify_count(const struct dkim_verify *v)
{
    (void) v;
    return 0;
}

const struct dkim_sig_result *dkim_verify_result(const struct dkim_verify *v, size_t i)
{
    (void) v;
    (void) i;
    return NULL;
}

enum arc_result dkim_verify_arc(const struct dkim_verify *v, const char **sealer,
				        const char **reason)
{
    (void) v;
    *sealer = NULL;
    if (reason)
	*reason = NULL;
    return ARC_NONE;
}

void    dkim_verify_free(struct dkim_verify *v)
{
    free(v);
}
