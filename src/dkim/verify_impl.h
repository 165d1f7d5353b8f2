/*
 * verify_impl.h - the verifier's state, shared by verify.c (DKIM) and
 * arc.c (ARC).  Nothing else includes it.
 */
#ifndef MX_DKIM_VERIFY_IMPL_H
#define MX_DKIM_VERIFY_IMPL_H

#include "dkim/dkim_impl.h"

struct dkim_hdr {
    char   *name;
    size_t  nlen;
    char   *value;
    size_t  vlen;
    int     prev_same;			/* previous field of this name, or -1 */
};

/* one body hash: (sha256, canonicalisation, l=) */
struct dkim_bodyhash {
    int     relaxed;
    long long limit;			/* -1: the whole body */
    unsigned long long hashed;
    unsigned long long seen;		/* canonical body length */
    EVP_MD_CTX *md;
    unsigned char digest[32];
};

enum vsig_state {
    VSIG_DONE,				/* result known */
    VSIG_KEY,				/* waiting for its key */
    VSIG_CRYPTO,			/* its check is out on the pool */
};

struct dkim_cjob;

/* one signature being verified: DKIM-Signature, ARC-Message-Signature
 * or ARC-Seal */
struct dkim_vsig {
    struct dkim_sig sig;
    int     hdr;			/* its header field */
    int     index;			/* DKIM: among DKIM-Signatures */
    enum vsig_state state;
    enum dkim_result result;
    char    reason[200];
    int     bh;				/* its body hash, or -1 */
    char    keyname[DKIM_MAX_DOMAIN * 2 + 16];
    int     testing;			/* key t=y */
    struct dkim_cjob *job;		/* VSIG_CRYPTO: the job out */
};

struct dkim_verify {
    struct dkim_conf conf;
    struct lookupset *ls;
    struct dns_answer *(*keyfn) (void *, const char *);
    void   *keyctx;
    struct buf *trace;
    long long now;
    struct pool *pool;			/* checks off the loop, or NULL */
    void    (*wakeup) (void *);		/* the last job out is back */
    void   *wakeup_ctx;
    size_t  jobs_out;
    struct dkim_cjob *batch;		/* checks gathered, not yet out */

    struct dkim_hdr *h;
    size_t  nh, hcap, hbytes;
    int     overflow;			/* a header limit was passed */
    int    *tab;			/* name hash table: last field, or -1 */
    size_t  tabsz;

    struct dkim_vsig *vs;		/* DKIM-Signatures, then ARC */
    size_t  nvs, ndkim;
    struct dkim_sig_result *res;

    struct dkim_bodyhash *bhs;
    size_t  nbh;
    struct dkim_bodycanon canon[2];	/* simple, relaxed */
    int     canon_used[2];

    int     eoh, body_done, finished;

    /* ARC */
    int     arc_n;			/* newest instance, 0: no chain */
    int     arc_top;			/* highest i= read, even of a broken chain */
    int     arc_ams[ARC_MAX_INSTANCES + 1];	/* vsig index per instance */
    int     arc_as[ARC_MAX_INSTANCES + 1];
    int     arc_aar[ARC_MAX_INSTANCES + 1];	/* header index */
    unsigned char arc_digest[ARC_MAX_INSTANCES + 1][32];	/* what each seal signs */
    int     arc_digested;
    enum arc_result arc;
    int     arc_temp;
    const char *sealer;
    char    arc_reason[400];
};

void    dkim_vtrace(struct dkim_verify *v, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));
void    dkim_vsig_result(struct dkim_vsig *vs, enum dkim_result r, const char *fmt,...)
    __attribute__((format(printf, 3, 4)));
int     dkim_vsig_add(struct dkim_verify *v, enum dkim_sig_kind kind, int hdr);
void    dkim_vsig_prepare(struct dkim_verify *v, struct dkim_vsig *vs);
int     dkim_vsig_check(struct dkim_verify *v, struct dkim_vsig *vs);
int     dkim_last_header(const struct dkim_verify *v, const char *name);
void    dkim_vsig_conclude(struct dkim_verify *v, struct dkim_vsig *vs, int ok);

/* offload.c: a signature's header hash and check on the pool */
void    dkim_offload(struct dkim_verify *v, struct dkim_vsig *vs, struct dkim_key *key,
		             struct buf *data, const unsigned char digest[32]);
void    dkim_offload_flush(struct dkim_verify *v);
void    dkim_offload_forget(struct dkim_verify *v);

/* arc.c */
void    dkim_arc_eoh(struct dkim_verify *v);
void    dkim_arc_conclude(struct dkim_verify *v);
void    dkim_arc_seal_digests(struct dkim_verify *v);

#endif
