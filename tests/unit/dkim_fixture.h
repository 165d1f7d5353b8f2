/*
 * dkim_fixture.h - for the DKIM unit tests: a table of key records (from
 * tests/data/dkim/keys.txt or given), answered without DNS, with names
 * that fail on purpose; and a message feeder that splits a message into
 * header fields and body chunks of any size, as a milter receives it.
 */
#ifndef MX_TESTS_DKIM_FIXTURE_H
#define MX_TESTS_DKIM_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"
#include "dns/dns.h"
#include "util/mem.h"

#define FIX_MAX	64

struct keytab {
    char   *name[FIX_MAX];
    char   *text[FIX_MAX];
    size_t  n;
    struct dns_answer *made[4096];
    size_t  nmade;
    size_t  asked;
    const char *tempfail;		/* this name: a temporary failure */
};

static void keytab_add(struct keytab *t, const char *name, const char *text)
{
    t->name[t->n] = xstrdup(name);
    t->text[t->n++] = xstrdup(text);
}

/* keytab_load - tests/data/dkim/keys.txt (run from the repository's top) */
static void keytab_load(struct keytab *t)
{
    FILE   *fp = fopen("tests/data/dkim/keys.txt", "r");
    char    line[4096];

    if (fp == NULL) {
	perror("tests/data/dkim/keys.txt");
	abort();
    }
    while (fgets(line, sizeof(line), fp)) {
	char   *tab = strchr(line, '\t');

	line[strcspn(line, "\n")] = 0;
	if (tab == NULL)
	    continue;
	*tab = 0;
	keytab_add(t, line, tab + 1);
    }
    fclose(fp);
}

/* keytab_get - the key source given to dkim_verify_set_keys() */
static struct dns_answer *keytab_get(void *ctx, const char *name)
{
    struct keytab *t = ctx;
    struct dns_answer *a;

    t->asked++;
    if (t->tempfail && strcmp(name, t->tempfail) == 0)
	a = dns_answer_new(name, DNS_T_TXT, DNS_TEMPFAIL, "timed out");
    else
	a = dns_answer_new(name, DNS_T_TXT, DNS_NXDOMAIN, NULL);
    for (size_t i = 0; i < t->n; i++) {
	if (strcasecmp(t->name[i], name) != 0 || a->status == DNS_TEMPFAIL)
	    continue;
	a->status = DNS_OK;
	a->rr = xrealloc(a->rr, (a->n + 1) * sizeof(*a->rr));
	memset(&a->rr[a->n], 0, sizeof(a->rr[0]));
	a->rr[a->n].text = xstrdup(t->text[i]);
	a->n++;
    }
    if (t->nmade < sizeof(t->made) / sizeof(t->made[0]))
	t->made[t->nmade++] = a;
    return a;
}

static void keytab_free(struct keytab *t)
{
    for (size_t i = 0; i < t->n; i++) {
	free(t->name[i]);
	free(t->text[i]);
    }
    for (size_t i = 0; i < t->nmade; i++)
	dns_answer_unref(t->made[i]);
    memset(t, 0, sizeof(*t));
}

/* read_file - a whole file, NUL-terminated */
static char *read_file(const char *path, size_t *len)
{
    FILE   *fp = fopen(path, "rb");
    char   *s;
    long    n;

    if (fp == NULL) {
	perror(path);
	abort();
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    s = xmalloc((size_t) n + 1);
    if (fread(s, 1, (size_t) n, fp) != (size_t) n)
	abort();
    s[n] = 0;
    fclose(fp);
    *len = (size_t) n;
    return s;
}

/*
 * feed - a CRLF message into v: header fields (folded lines kept, value
 * as it follows the colon), end of headers, the body in chunks of chunk
 * bytes (0: all at once)
 */
static void feed(struct dkim_verify *v, const char *msg, size_t len, size_t chunk)
{
    const char *p = msg, *end = msg + len;

    while (p < end && !(p + 1 < end && p[0] == '\r' && p[1] == '\n')) {
	const char *colon = memchr(p, ':', (size_t) (end - p)), *e = colon;

	if (colon == NULL)
	    abort();
	/* the field ends at a CRLF not followed by white space */
	while (e + 2 < end && !(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
	    e++;
	dkim_verify_header(v, p, (size_t) (colon - p), colon + 1, (size_t) (e - colon - 1));
	p = e + 2;
    }
    dkim_verify_eoh(v);
    p += 2;
    if (p > end)
	p = end;
    if (chunk == 0)
	chunk = (size_t) (end - p) + 1;
    while (p < end) {
	size_t  n = (size_t) (end - p) < chunk ? (size_t) (end - p) : chunk;

	dkim_verify_body(v, p, n);
	p += n;
    }
}

#endif
