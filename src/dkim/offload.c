/*
 * offload.c - a signature's header hash and public-key check on a pool
 * thread (src/daemon/pool.h), so that the loop serves other connections
 * meanwhile.
 *
 *	dkim_offload() is called by dkim_vsig_check() once the key, the
 *	body hash and the canonical header data are known: the job takes
 *	its own copy of everything it reads (a reference to the key, the
 *	header data, the signature bytes), so the thread never looks at the
 *	verifier, which may be freed while the job is out.  Back on the
 *	loop the result is written into the signature, and when the last
 *	job of the message is back the verifier's wakeup is called.
 *	dkim_offload_forget() (the verifier is being freed) cuts the jobs
 *	out from their signatures: they are freed when they come back.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/pool.h"
#include "dkim/verify_impl.h"
#include "util/mem.h"

#define OFFLOAD_LABEL	"DKIM and ARC signature check results"

struct dkim_cjob {
    struct dkim_verify *v;		/* NULL: the verifier is gone */
    size_t  vsig;			/* the signature's index in v->vs */
    struct dkim_key key;		/* holds its own key reference */
    int     hashed;			/* h is the digest already (ARC-Seal) */
    unsigned char h[32];
    struct buf data;			/* else: the header data to hash */
    unsigned char sig[DKIM_MAX_SIGLEN];
    size_t  siglen;
    int     ok;
};

/* cjob_run - on a pool thread: only the job's own memory */
static void cjob_run(void *arg)
{
    struct dkim_cjob *j = arg;

    if (!j->hashed)
	dkim_sha256(j->data.s, j->data.len, j->h);
    j->ok = dkim_crypto_verify(&j->key, j->h, j->sig, j->siglen);
}

/* cjob_done - on the loop: the result into its signature, if still there */
static void cjob_done(void *arg, int discard)
{
    struct dkim_cjob *j = arg;
    struct dkim_verify *v = j->v;
    int     ok = j->ok;
    size_t  k = j->vsig;

    dkim_key_free(&j->key);
    buf_free(&j->data);
    free(j);
    if (v == NULL)
	return;				/* its message is gone */
    struct dkim_vsig *vs = &v->vs[k];

    vs->job = NULL;
    v->jobs_out--;
    if (discard) {
	dkim_vsig_result(vs, DKIM_TEMPERROR, "signature check abandoned (stopping)");
	return;
    }
    dkim_vsig_conclude(v, vs, ok);
    if (v->jobs_out == 0 && v->wakeup)
	v->wakeup(v->wakeup_ctx);	/* may free v: nothing after it */
}

/* dkim_offload - send a signature's check out; key and data are taken
 * (data NULL: digest is what the signature signs) */
void    dkim_offload(struct dkim_verify *v, struct dkim_vsig *vs, struct dkim_key *key,
		             struct buf *data, const unsigned char digest[32])
{
    struct dkim_cjob *j = xmalloc(sizeof(*j));

    j->v = v;
    j->vsig = (size_t) (vs - v->vs);
    j->key = *key;
    j->hashed = data == NULL;
    if (j->hashed) {
	memcpy(j->h, digest, sizeof(j->h));
	buf_init(&j->data);
    } else {
	j->data = *data;		/* the buffer changes hands */
    }
    j->siglen = vs->sig.siglen;
    memcpy(j->sig, vs->sig.sig, j->siglen);
    j->ok = 0;
    vs->job = j;
    vs->state = VSIG_CRYPTO;
    v->jobs_out++;
    pool_submit(v->pool, OFFLOAD_LABEL, cjob_run, cjob_done, j);
}

/* dkim_offload_forget - the verifier goes: its jobs out forget it */
void    dkim_offload_forget(struct dkim_verify *v)
{
    for (size_t i = 0; i < v->nvs && v->jobs_out > 0; i++)
	if (v->vs[i].job) {
	    v->vs[i].job->v = NULL;
	    v->vs[i].job = NULL;
	    v->jobs_out--;
	}
}
