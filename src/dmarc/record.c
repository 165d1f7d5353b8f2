/*
 * record.c - DMARC record tag-lists and the From header's author domain.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc/record.h"

#define WSP(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

const char *dmarc_policy_name(enum dmarc_policy p)
{
    switch (p) {
    case DMARC_POLICY_QUARANTINE:
	return "quarantine";
    case DMARC_POLICY_REJECT:
	return "reject";
    default:
	return "none";
    }
}

/* policy_word - p=/sp=/np= value; UNSET when not one of the three */
static enum dmarc_policy policy_word(const char *v, size_t n)
{
    if (n == 4 && strncasecmp(v, "none", 4) == 0)
	return DMARC_POLICY_NONE;
    if (n == 10 && strncasecmp(v, "quarantine", 10) == 0)
	return DMARC_POLICY_QUARANTINE;
    if (n == 6 && strncasecmp(v, "reject", 6) == 0)
	return DMARC_POLICY_REJECT;
    return DMARC_POLICY_UNSET;
}

/* tag_is - compare a tag name */
static int tag_is(const char *t, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(t, name, n) == 0;
}

/* dmarc_record_parse - one TXT string into r */
int     dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
			           char *why, size_t whylen)
{
    const char *cp = txt, *end = txt + len;
    int     first = 1, p_valid = 0;

    memset(r, 0, sizeof(*r));
    r->pct = 100;
    why[0] = 0;
    while (cp < end) {
	const char *tag, *val, *semi;
	size_t  tlen, vlen;

	/* one "tag = value" up to the next ';' */
	while (cp < end && WSP(*cp))
	    cp++;
	if (cp == end)
	    break;
	semi = memchr(cp, ';', (size_t) (end - cp));
	if (semi == NULL)
	    semi = end;
	tag = cp;
	while (cp < semi && (isalnum((unsigned char) *cp) || *cp == '_'))
	    cp++;
	tlen = (size_t) (cp - tag);
	while (cp < semi && WSP(*cp))
	    cp++;
	if (tlen == 0 || cp == semi || *cp != '=') {
	    if (first)
		return 0;
	    snprintf(why, whylen, "malformed tag \"%.*s\"", (int) (semi - tag > 40 ? 40 : semi - tag), tag);
	    return -1;
	}
	cp++;
	while (cp < semi && WSP(*cp))
	    cp++;
	val = cp;
	vlen = (size_t) (semi - val);
	while (vlen > 0 && WSP(val[vlen - 1]))
	    vlen--;
	cp = semi < end ? semi + 1 : end;

	if (first) {
	    /* RFC 7489 6.3: v=DMARC1 first, exactly */
	    if (!(tlen == 1 && tag[0] == 'v' && vlen == 6 && memcmp(val, "DMARC1", 6) == 0))
		return 0;
	    first = 0;
	    continue;
	}
	if (tag_is(tag, tlen, "p")) {
	    r->p = policy_word(val, vlen);
	    p_valid = r->p != DMARC_POLICY_UNSET;
	} else if (tag_is(tag, tlen, "sp")) {
	    r->sp = policy_word(val, vlen);
	} else if (tag_is(tag, tlen, "np")) {
	    r->np = policy_word(val, vlen);
	} else if (tag_is(tag, tlen, "adkim") || tag_is(tag, tlen, "aspf")) {
	    int     strict;

	    if (vlen == 1 && (val[0] == 's' || val[0] == 'S'))
		strict = 1;
	    else if (vlen == 1 && (val[0] == 'r' || val[0] == 'R'))
		strict = 0;
	    else
		continue;			/* invalid: the default, relaxed */
	    if (tlen == 5)
		r->adkim_strict = strict;
	    else
		r->aspf_strict = strict;
	} else if (tag_is(tag, tlen, "pct")) {
	    int     n = 0;
	    size_t  i;

	    for (i = 0; i < vlen && i < 4 && isdigit((unsigned char) val[i]); i++)
		n = n * 10 + (val[i] - '0');
	    if (i == vlen && vlen > 0 && n <= 100)
		r->pct = n;
	} else if (tag_is(tag, tlen, "t")) {
	    r->testing = vlen == 1 && (val[0] == 'y' || val[0] == 'Y');
	} else if (tag_is(tag, tlen, "psd")) {
	    if (vlen == 1 && (val[0] == 'y' || val[0] == 'Y'))
		r->psd = DMARC_PSD_YES;
	    else if (vlen == 1 && (val[0] == 'n' || val[0] == 'N'))
		r->psd = DMARC_PSD_NO;
	}
	/* rua, ruf, fo, rf, ri and unknown tags: not ours to act on */
    }
    if (first)
	return 0;
    if (!p_valid)
	r->p = DMARC_POLICY_NONE;	/* DMARCbis: absent or invalid p is none */
    return 1;
}

/* dmarc_valid_domain - LDH labels */
int     dmarc_valid_domain(const char *d)
{
    size_t  label = 0, total = 0;

    if (*d == 0)
	return 0;
    for (const char *cp = d; *cp; cp++, total++) {
	if (*cp == '.') {
	    if (label == 0)
		return 0;
	    label = 0;
	    continue;
	}
	if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != '_')
	    return 0;
	if (++label > 63)
	    return 0;
    }
    return label > 0 && total <= DMARC_DOMAIN_MAX;
}

/*
 * From parsing.  One pass over the value: comments are skipped (nested,
 * with quoted-pairs), quoted strings kept as opaque text of the local
 * part or display name, '<' ... '>' delimits an addr-spec, ',' separates
 * mailboxes, ':' ... ';' a group.  For each mailbox the addr-spec is the
 * text inside the angle brackets when there are any, else the whole
 * mailbox; its domain is what follows its last '@' outside quotes.
 */
struct from_scan {
    char   *domain;
    size_t  dlen;
    int     found;			/* domains seen */
    char   *why;
    size_t  whylen;
};

/* take_domain - the domain of one addr-spec [s, e) (already uncommented) */
static int take_domain(struct from_scan *fs, const char *s, const char *e)
{
    const char *at = NULL;
    int     inq = 0;
    char    d[DMARC_DOMAIN_MAX + 2];
    size_t  n = 0;

    /* an obsolete source route "@a,@b:" before the address */
    for (const char *cp = s; cp < e; cp++) {
	if (*cp == '\\' && cp + 1 < e) {
	    cp++;
	    continue;
	}
	if (*cp == '"')
	    inq = !inq;
	else if (!inq && *cp == ':' && s < e && *s == '@')
	    s = cp + 1;
    }
    inq = 0;
    for (const char *cp = s; cp < e; cp++) {
	if (*cp == '\\' && cp + 1 < e) {
	    cp++;
	    continue;
	}
	if (*cp == '"')
	    inq = !inq;
	else if (!inq && *cp == '@')
	    at = cp;
    }
    if (at == NULL) {
	snprintf(fs->why, fs->whylen, "an address without a domain");
	return -1;
    }
    for (const char *cp = at + 1; cp < e; cp++) {
	if (WSP(*cp))
	    continue;
	if (*cp == '[') {
	    snprintf(fs->why, fs->whylen, "a domain literal");
	    return -1;
	}
	if (n > DMARC_DOMAIN_MAX) {
	    snprintf(fs->why, fs->whylen, "a domain longer than %d bytes", DMARC_DOMAIN_MAX);
	    return -1;
	}
	d[n++] = (char) tolower((unsigned char) *cp);
    }
    while (n > 0 && d[n - 1] == '.')
	n--;
    d[n] = 0;
    if (!dmarc_valid_domain(d)) {
	snprintf(fs->why, fs->whylen, "an invalid domain \"%.64s\"", d);
	return -1;
    }
    if (fs->found && strcmp(fs->domain, d) != 0) {
	snprintf(fs->why, fs->whylen, "addresses in more than one domain (%.64s, %.64s)",
		 fs->domain, d);
	return -1;
    }
    if (n + 1 > fs->dlen) {
	snprintf(fs->why, fs->whylen, "domain too long");
	return -1;
    }
    memcpy(fs->domain, d, n + 1);
    fs->found++;
    return 0;
}

/* dmarc_from_domain - the author domain */
int     dmarc_from_domain(const char *value, size_t len, char *domain, size_t dlen,
			          char *why, size_t whylen)
{
    struct from_scan fs = {domain, dlen, 0, why, whylen};
    char    tmp[1024];			/* one mailbox without comments */
    size_t  tn = 0;
    const char *angle = NULL;		/* start of <...> content in tmp */
    size_t  angle_s = 0, angle_e = 0;
    int     inq = 0, depth = 0, inangle = 0, ingroup = 0, any = 0;
    const char *end = value + len;

    why[0] = 0;
    domain[0] = 0;
    for (const char *cp = value;; cp++) {
	int     c = cp < end ? (unsigned char) *cp : ',';
	int     last = cp >= end;

	if (!last && c == 0) {
	    snprintf(why, whylen, "a NUL byte");
	    return -1;
	}
	if (!last && depth > 0) {		/* inside a comment */
	    if (c == '\\' && cp + 1 < end)
		cp++;
	    else if (c == '(')
		depth++;
	    else if (c == ')')
		depth--;
	    continue;
	}
	if (!last && inq) {
	    if (c == '\\' && cp + 1 < end) {
		if (tn + 2 < sizeof(tmp)) {
		    tmp[tn++] = (char) c;
		    tmp[tn++] = cp[1];
		}
		cp++;
		continue;
	    }
	    if (c == '"')
		inq = 0;
	    if (tn + 1 < sizeof(tmp))
		tmp[tn++] = (char) c;
	    continue;
	}
	if (last && (inq || depth > 0 || inangle)) {
	    snprintf(why, whylen, "an unterminated %s",
		     inq ? "quoted string" : depth ? "comment" : "angle address");
	    return -1;
	}
	if (c == '(') {
	    depth = 1;
	    continue;
	}
	if (c == '"') {
	    inq = 1;
	    if (tn + 1 < sizeof(tmp))
		tmp[tn++] = (char) c;
	    continue;
	}
	if (c == '<') {
	    if (inangle || angle) {
		snprintf(why, whylen, "nested angle brackets");
		return -1;
	    }
	    inangle = 1;
	    angle_s = tn;
	    continue;
	}
	if (c == '>') {
	    if (!inangle) {
		snprintf(why, whylen, "a stray '>'");
		return -1;
	    }
	    inangle = 0;
	    angle_e = tn;
	    angle = tmp;
	    continue;
	}
	if (!inangle && c == ':' && !ingroup && !angle) {
	    /* "display-name:" of a group: what came before is its name;
	     * a source route only appears inside angle brackets */
	    ingroup = 1;
	    tn = 0;
	    continue;
	}
	if (!inangle && (c == ',' || c == ';')) {
	    /* the end of one mailbox */
	    const char *s, *e;

	    if (angle) {
		s = tmp + angle_s;
		e = tmp + angle_e;
	    } else {
		s = tmp;
		e = tmp + tn;
	    }
	    while (s < e && WSP(*s))
		s++;
	    if (s < e) {
		if (tn >= sizeof(tmp) - 2) {
		    snprintf(why, whylen, "an address longer than %zu bytes", sizeof(tmp) - 2);
		    return -1;
		}
		if (take_domain(&fs, s, e) < 0)
		    return -1;
		any = 1;
	    }
	    if (c == ';')
		ingroup = 0;
	    tn = 0;
	    angle = NULL;
	    if (last)
		break;
	    continue;
	}
	if (tn + 1 < sizeof(tmp))
	    tmp[tn++] = (char) c;
	else
	    tn = sizeof(tmp) - 1;		/* too long: caught at the end */
    }
    if (!any) {
	snprintf(why, whylen, "no address");
	return -1;
    }
    return 0;
}
