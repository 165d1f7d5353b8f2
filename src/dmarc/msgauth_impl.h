/*
 * msgauth_impl.h - one message's authentication state, shared by
 * dmarc/msgauth.c (the evaluation: SPF, DKIM, DMARC, the action) and
 * dmarc/msgauth_ar.c (the Authentication-Results headers: foreign ones
 * listed for removal, ours written; the JSON report).
 */
#ifndef MX_DMARC_MSGAUTH_IMPL_H
#define MX_DMARC_MSGAUTH_IMPL_H

#include "dkim/dkim.h"
#include "dmarc/dmarc.h"
#include "dmarc/msgauth.h"
#include "spf/spf.h"
#include "util/str.h"

#define FROM_KEEP	2		/* From values kept: one is right */
#define NSINGLE		11		/* msgauth.c's single_headers[] */

struct msgauth_conf {
    char   *authserv_id;
    struct strlist trusted;		/* authserv-ids kept (ours first) */
    struct strlist sealers;		/* arc_trusted_sealers */
    char   *receiver;			/* SPF %{r} */
    struct dmarc_conf dmarc;
    struct dkim_conf dkim;
    int     reject_failures;
    int     hold_quarantine;
    int     required_headers;
    enum msgauth_action temperror_action;
    enum msgauth_action permerror_action;
};

enum dmarc_outcome {
    DM_NONE, DM_PASS, DM_FAIL, DM_TEMPERROR, DM_PERMERROR,
};

struct del {
    const char *name;			/* "Authentication-Results" or "Received-SPF" */
    unsigned index;
};

struct msgauth {
    const struct msgauth_conf *c;
    struct lookupset *ls;
    struct dkim_verify *dkim;
    char   *ip, *helo, *sender;
    /* headers */
    unsigned nar, nrspf;		/* A-R and Received-SPF seen */
    struct del *dels;
    size_t  ndels;
    unsigned single[NSINGLE];
    char   *from[FROM_KEEP];
    struct buf scratch;			/* a header value with CRLF folding */
    /* results */
    int     spf_done;
    struct spf_outcome spf;
    int     dkim_done;
    int     decided;
    enum dmarc_outcome dm;
    char    from_domain[DMARC_DOMAIN_MAX + 1];
    char    dm_why[200];
    struct dmarc_found found;
    int     have_policy;
    enum dmarc_policy disposition;
    int     arc_override;
    enum arc_result arc;
    const char *arc_sealer;
    enum msgauth_action action;
    char    reply[700];
    char    reason[700];
    struct buf trace;
    int     tracing;			/* msgauth_set_trace was called */
};

/* msgauth_ar_seen - an Authentication-Results or Received-SPF header:
 * listed for deletion unless its authserv-id (receiver=) is trusted */
void    msgauth_ar_seen(struct msgauth *m, const char *name, const char *value, size_t vlen);

/* msgauth_sanitize - text fit for a comment and an SMTP reply, in place */
void    msgauth_sanitize(char *s);

#endif
