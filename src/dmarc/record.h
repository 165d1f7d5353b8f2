/*
 * record.h - DMARC policy records (RFC 7489 section 6.3, DMARCbis) and
 * the From header's author domain (RFC 5322 mailbox-list), parsed once
 * into structs.
 *
 * dmarc_record_parse() reads one TXT string: 1 a DMARC record, 0 not one
 * (no leading v=DMARC1: ignored, as both RFCs say), -1 a record with a
 * syntax error the RFCs do not let us repair (the reason in why).  Unknown
 * tags are ignored; a missing or invalid p= is "none" when the rest is
 * valid (DMARCbis 4.7), so a typo never turns a policy into a reject.
 *
 * dmarc_from_domain() finds the one domain of a From header value: it
 * returns 0 with the domain (lower case, no final dot), or -1 with why:
 * no address, an address without a domain, a domain literal, or
 * addresses in more than one domain.  Comments, quoted strings, display
 * names and angle brackets are understood; work is linear in the input.
 */
#ifndef MX_DMARC_RECORD_H
#define MX_DMARC_RECORD_H

#include <stddef.h>

#define DMARC_DOMAIN_MAX 253		/* longest domain name accepted */

enum dmarc_policy {
    DMARC_POLICY_UNSET,			/* tag absent */
    DMARC_POLICY_NONE,
    DMARC_POLICY_QUARANTINE,
    DMARC_POLICY_REJECT,
};

enum dmarc_psd {
    DMARC_PSD_UNSET,			/* psd=u or absent */
    DMARC_PSD_YES,
    DMARC_PSD_NO,
};

struct dmarc_record {
    enum dmarc_policy p;		/* never UNSET after parsing */
    enum dmarc_policy sp;		/* UNSET: as p */
    enum dmarc_policy np;		/* UNSET: as sp */
    int     adkim_strict;
    int     aspf_strict;
    int     pct;			/* RFC 7489 pct=, 0..100 (100 absent) */
    int     testing;			/* DMARCbis t=y */
    enum dmarc_psd psd;
};

/* dmarc_record_parse - 1 record, 0 not DMARC, -1 invalid (why) */
int     dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
			           char *why, size_t whylen);

/* dmarc_policy_name - "none", "quarantine", "reject" ("none" for UNSET) */
const char *dmarc_policy_name(enum dmarc_policy p);

/* dmarc_from_domain - the author domain of a From value; 0 or -1 (why) */
int     dmarc_from_domain(const char *value, size_t len, char *domain, size_t dlen,
			          char *why, size_t whylen);

/* dmarc_valid_domain - a DNS name of LDH labels, 1..63 each, at most 253 */
int     dmarc_valid_domain(const char *d);

#endif
