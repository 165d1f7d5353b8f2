/*
 * dkimbench.c - verifications per second of the DKIM verifier, in process.
 *
 *   mxshield-dkimbench [-n COUNT] [-c CHUNK] KEYS MESSAGE...
 *
 * KEYS is a file of "NAME<TAB>TXT record" lines (tests/data/dkim/keys.txt)
 * answered without DNS, so the figure is the verifier's own work: header
 * parsing, canonicalisation, the streaming body hash, the key record
 * parsed into OpenSSL and the signature check.  Each MESSAGE is read once
 * and verified COUNT times (default 2000), its body fed in CHUNK-byte
 * pieces (default 65535, what a milter receives); every signature must
 * pass.  One line per message: its size, signatures, verifications per
 * second of wall-clock time and per second of this process's CPU time
 * (the figure that holds on a shared machine), and CPU microseconds per
 * verification.  Exit 1 if a signature does not pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim/dkim.h"
#include "dns/dns.h"
#include "util/mem.h"

#define MAX_KEYS 64

static char *key_name[MAX_KEYS], *key_text[MAX_KEYS];
static size_t nkeys;
static struct dns_answer *answers[MAX_KEYS];

/* get - the key table's answer (made once, kept) */
static struct dns_answer *get(void *ctx, const char *name)
{
    (void) ctx;
    for (size_t i = 0; i < nkeys; i++)
	if (strcasecmp(key_name[i], name) == 0) {
	    if (answers[i] == NULL) {
		answers[i] = dns_answer_new(name, DNS_T_TXT, DNS_OK, NULL);
		answers[i]->rr = xcalloc(1, sizeof(struct dns_rr));
		answers[i]->rr[0].text = xstrdup(key_text[i]);
		answers[i]->n = 1;
	    }
	    return answers[i];
	}
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE   *fp = fopen(path, "rb");
    char   *s;
    long    n;

    if (fp == NULL) {
	perror(path);
	exit(2);
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    s = xmalloc((size_t) n + 1);
    if (fread(s, 1, (size_t) n, fp) != (size_t) n) {
	perror(path);
	exit(2);
    }
    s[n] = 0;
    fclose(fp);
    *len = (size_t) n;
    return s;
}

/* verify_once - headers as the milter gives them, then the body */
static int verify_once(const char *msg, size_t len, size_t chunk, size_t *nsig)
{
    struct dkim_verify *v = dkim_verify_new(NULL, NULL);
    const char *p = msg, *end = msg + len;
    int     ok = 1;

    dkim_verify_set_keys(v, get, NULL);
    while (p + 1 < end && !(p[0] == '\r' && p[1] == '\n')) {
	const char *colon = memchr(p, ':', (size_t) (end - p)), *e;

	if (colon == NULL)
	    break;
	for (e = colon; e + 2 < end; e++)
	    if (e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t')
		break;
	dkim_verify_header(v, p, (size_t) (colon - p), colon + 1, (size_t) (e - colon - 1));
	p = e + 2;
    }
    dkim_verify_eoh(v);
    for (p += 2; p < end; p += chunk)
	dkim_verify_body(v, p, (size_t) (end - p) < chunk ? (size_t) (end - p) : chunk);
    if (dkim_verify_finish(v) != 1)
	ok = 0;
    *nsig = dkim_verify_count(v);
    for (size_t i = 0; i < *nsig; i++)
	if (dkim_verify_result(v, i)->result != DKIM_PASS) {
	    fprintf(stderr, "signature %zu: %s (%s)\n", i,
		    dkim_result_name(dkim_verify_result(v, i)->result),
		    dkim_verify_result(v, i)->reason);
	    ok = 0;
	}
    dkim_verify_free(v);
    return ok && *nsig > 0;
}

int     main(int argc, char **argv)
{
    long    count = 2000;
    size_t  chunk = 65535;
    int     i = 1;
    char    line[8192];
    FILE   *fp;

    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
	if (strcmp(argv[i], "-n") == 0)
	    count = atol(argv[i + 1]);
	else if (strcmp(argv[i], "-c") == 0)
	    chunk = (size_t) atol(argv[i + 1]);
	else
	    break;
    }
    if (argc - i < 2 || count < 1 || chunk < 1) {
	fprintf(stderr, "usage: mxshield-dkimbench [-n COUNT] [-c CHUNK] KEYS MESSAGE...\n");
	return 2;
    }
    if ((fp = fopen(argv[i], "r")) == NULL) {
	perror(argv[i]);
	return 2;
    }
    while (nkeys < MAX_KEYS && fgets(line, sizeof(line), fp)) {
	char   *tab = strchr(line, '\t');

	if (tab == NULL)
	    continue;
	*tab = 0;
	tab[strcspn(tab + 1, "\n") + 1] = 0;
	key_name[nkeys] = xstrdup(line);
	key_text[nkeys++] = xstrdup(tab + 1);
    }
    fclose(fp);
    printf("%-28s %8s %5s %10s %12s %10s\n", "message", "bytes", "sigs", "verif./s",
	   "verif./CPU-s", "CPU-us");
    for (i++; i < argc; i++) {
	size_t  len, nsig = 0;
	char   *msg = slurp(argv[i], &len);
	struct timespec t0, t1, c0, c1;

	if (!verify_once(msg, len, chunk, &nsig)) {	/* warm-up and check */
	    fprintf(stderr, "%s: does not verify\n", argv[i]);
	    return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (long k = 0; k < count; k++)
	    if (!verify_once(msg, len, chunk, &nsig))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double  s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	double  cpu = (double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9;
	const char *base = strrchr(argv[i], '/');

	printf("%-28s %8zu %5zu %10.0f %12.0f %10.1f\n", base ? base + 1 : argv[i], len, nsig,
	       (double) count / s, (double) count / cpu, cpu * 1e6 / (double) count);
	free(msg);
    }
    return 0;
}
