/*
 * offload.c - a signature's header hash and public-key check on a pool
 * thread (src/daemon/pool.h), so that the loop serves other connections
 * meanwhile.
 *
 *	dkim_offload() is called by dkim_vsig_check() once the key, the
 *	body hash and the canonical header data are known; the checks of
 *	one pass of dkim_verify_finish() are gathered and go out as one job
 *	(dkim_offload_flush): each hand-over to a thread and back costs
 *	context switches, so a message pays for one, not one per signature.
 *	The job holds its own copy of everything it reads (a reference to
 *	the key, the header data, the signature bytes), so the thread never
 *	looks at the verifier, which may be freed while the job is out.
 *	Back on the loop the results are written into the signatures, and
 *	when the message's last job is back the verifier's wakeup is called.
 *	dkim_offload_forget() (the verifier is being freed) cuts the jobs
 *	out from their signatures: they are freed when they come back.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/pool.h"
#include "dkim/verify_impl.h"
#include "util/log.h"
#include "util/mem.h"

#define OFFLOAD_LABEL	"DKIM and ARC signature check results"

/* one signature's check */
struct dkim_centry {
    size_t  vsig;			/* the signature's index in v->vs */
    struct dkim_key key;		/* holds its own key reference */
    int     hashed;			/* h is the digest already (ARC-Seal) */
    unsigned char h[32];
    struct buf data;			/* else: the header data to hash */
    unsigned char sig[DKIM_MAX_SIGLEN];
    size_t  siglen;
    int     ok;
};

/* the checks of one message that went out together: one job */
struct dkim_cjob {
    struct dkim_verify *v;		/* NULL: the verifier is gone */
    size_t  n, cap;
    struct dkim_centry e[];
};

/* cjob_run - on a pool thread: only the job's own memory */
static void cjob_run(void *arg)
{
    struct dkim_cjob *j = arg;

    for (size_t i = 0; i < j->n; i++) {
	struct dkim_centry *e = &j->e[i];

	if (!e->hashed)
	    dkim_sha256(e->data.s, e->data.len, e->h);
	e->ok = dkim_crypto_verify(&e->key, e->h, e->sig, e->siglen);
    }
}

/* cjob_done - on the loop: the results into their signatures, if still there */
static void cjob_done(void *arg, int discard)
{
    struct dkim_cjob *j = arg;
    struct dkim_verify *v = j->v;

    for (size_t i = 0; i < j->n; i++) {
	struct dkim_centry *e = &j->e[i];

	if (v != NULL) {
	    struct dkim_vsig *vs = &v->vs[e->vsig];

	    vs->job = NULL;
	    if (discard)
		dkim_vsig_result(vs, DKIM_TEMPERROR, "signature check abandoned (stopping)");
	    else
		dkim_vsig_conclude(v, vs, e->ok);
	}
	dkim_key_free(&e->key);
	buf_free(&e->data);
    }
    free(j);
    if (v == NULL)
	return;				/* its message is gone */
    if (--v->jobs_out == 0 && !discard && v->wakeup)
	v->wakeup(v->wakeup_ctx);	/* may free v: nothing after it */
}

/* dkim_offload - a signature's check joins the message's next job; key
 * and data are taken (data NULL: digest is what the signature signs) */
void    dkim_offload(struct dkim_verify *v, struct dkim_vsig *vs, struct dkim_key *key,
		             struct buf *data, const unsigned char digest[32])
{
    struct dkim_cjob *j = v->batch;
    struct dkim_centry *e;

    if (j == NULL) {
	/* room for every signature of the message: never grown */
	j = v->batch = xmalloc(sizeof(*j) + v->nvs * sizeof(j->e[0]));
	j->v = v;
	j->n = 0;
	j->cap = v->nvs;
    }
    if (j->n >= j->cap)
	msg_panic("dkim_offload: more checks than signatures");
    e = &j->e[j->n++];
    e->vsig = (size_t) (vs - v->vs);
    e->key = *key;
    e->hashed = data == NULL;
    if (e->hashed) {
	memcpy(e->h, digest, sizeof(e->h));
	buf_init(&e->data);
    } else {
	e->data = *data;		/* the buffer changes hands */
    }
    e->siglen = vs->sig.siglen;
    memcpy(e->sig, vs->sig.sig, e->siglen);
    e->ok = 0;
    vs->job = j;
    vs->state = VSIG_CRYPTO;
}

/* dkim_offload_flush - the checks gathered go out as one job */
void    dkim_offload_flush(struct dkim_verify *v)
{
    struct dkim_cjob *j = v->batch;

    if (j == NULL)
	return;
    v->batch = NULL;
    v->jobs_out++;
    pool_submit(v->pool, OFFLOAD_LABEL, cjob_run, cjob_done, j);
}

/* dkim_offload_forget - the verifier goes: its jobs out forget it */
void    dkim_offload_forget(struct dkim_verify *v)
{
    if (v->batch)
	dkim_offload_flush(v);		/* (never left gathered; for safety) */
    for (size_t i = 0; i < v->nvs && v->jobs_out > 0; i++)
	if (v->vs[i].job) {
	    v->vs[i].job->v = NULL;
	    v->vs[i].job = NULL;
	}
    v->jobs_out = 0;
}
