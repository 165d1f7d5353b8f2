/*
 * dkim_cmd.c - `mxshield dkim`: verify every DKIM signature and the ARC
 * chain of one message, as the milter would.
 *
 *   mxshield dkim [-c FILE] [--resolver HOST:PORT] [--json] [--trace] [MESSAGE]
 *
 * The message is read from MESSAGE or standard input, with CRLF or LF
 * line ends (LF becomes CRLF, as Postfix hands it to a milter).  Header
 * fields are unfolded into (name, value) the way Postfix sends them with
 * HDR_LEADSPC; a line that is no header field ends the headers, as in
 * Postfix's cleanup.  The body goes to the verifier in chunks.
 * The exit status is 0 whatever the results; 2 for a usage or read error.
 *
 *   mxshield dkim keygen DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--dir DIR]
 *
 * writes DIR/SELECTOR.private (as opendkim-genkey names it; DIR defaults
 * to the current directory; never an existing file) and prints the TXT
 * record to publish, in zone-file form.  Exit 0, or 1 when the key could
 * not be made or written, 2 for a usage error.
 *
 *   mxshield dkim sign [-c FILE] [MESSAGE]
 *
 * signs the message as the milter would, with the keys that
 * dkim_signing_table and dkim_key_table give its From: address, and
 * prints it with the DKIM-Signature fields on top (in the message's own
 * line ends).  Exit 0 signed, 1 no key for the address (the message is
 * printed unchanged), 2 a usage or read error or a key that cannot be
 * used (nothing printed).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "cli/dkim_cmd.h"
#include "dns/dns.h"
#include "dkim/arcseal.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "dns/lookupset.h"
#include "util/mem.h"
#include "util/str.h"

/* header_name_len - the name's length if line starts a header field, else 0 */
static size_t header_name_len(const char *line, size_t len, size_t *colon)
{
    size_t  n = 0, p;

    while (n < len && line[n] > ' ' && line[n] < 0x7f && line[n] != ':')
	n++;
    p = n;
    while (p < len && (line[p] == ' ' || line[p] == '\t'))
	p++;
    if (n == 0 || p >= len || line[p] != ':')
	return 0;
    *colon = p;
    return n;
}

/* body_crlf - feed body bytes, each bare LF made CRLF */
static void body_crlf(struct dkim_verify *v, const char *p, size_t n, int *prev_cr)
{
    char    out[16384];
    size_t  o = 0;

    for (size_t i = 0; i < n; i++) {
	if (o + 2 > sizeof(out)) {
	    dkim_verify_body(v, out, o);
	    o = 0;
	}
	if (p[i] == '\n' && !*prev_cr)
	    out[o++] = '\r';
	out[o++] = p[i];
	*prev_cr = p[i] == '\r';
    }
    if (o)
	dkim_verify_body(v, out, o);
}

/* dkim_feed_message - headers, end of headers, then the body in chunks */
int     dkim_feed_message(FILE *fp, struct dkim_verify *v)
{
    struct buf name, value;
    char   *line = NULL;
    size_t  cap = 0;
    ssize_t got;
    int     have = 0, first = 1, prev_cr = 0, rc = 0;

    buf_init(&name);
    buf_init(&value);
    while ((got = getline(&line, &cap, fp)) > 0) {
	size_t  len = (size_t) got, colon = 0, nl;

	if (line[len - 1] == '\n')
	    len--;
	if (len > 0 && line[len - 1] == '\r')
	    len--;
	if (have && len > 0 && (line[0] == ' ' || line[0] == '\t')) {
	    buf_append(&value, "\r\n", 2);	/* a folded line */
	    buf_append(&value, line, len);
	    continue;
	}
	if (have) {
	    dkim_verify_header(v, name.s, name.len, value.s, value.len);
	    have = 0;
	}
	if (first && len >= 5 && memcmp(line, "From ", 5) == 0) {
	    first = 0;			/* an mbox From_ line */
	    continue;
	}
	first = 0;
	if (len == 0)
	    break;			/* the empty line ends the headers */
	if ((nl = header_name_len(line, len, &colon)) == 0) {
	    /* no header field: the body starts here (Postfix's cleanup) */
	    dkim_verify_eoh(v);
	    body_crlf(v, line, (size_t) got, &prev_cr);
	    break;
	}
	buf_reset(&name);
	buf_append(&name, line, nl);
	buf_reset(&value);
	buf_append(&value, line + colon + 1, len - colon - 1);
	have = 1;
    }
    if (have)
	dkim_verify_header(v, name.s, name.len, value.s, value.len);
    dkim_verify_eoh(v);
    if (got > 0) {
	char    chunk[16384];
	size_t  n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
	    body_crlf(v, chunk, n, &prev_cr);
    }
    if (ferror(fp))
	rc = -1;
    free(line);
    buf_free(&name);
    buf_free(&value);
    return rc;
}

/* json_opt - a string or null */
static void json_opt(struct buf *b, const char *s)
{
    if (s)
	buf_json_str(b, s);
    else
	buf_puts(b, "null");
}

static void json_line(FILE *fp, const struct dkim_verify *v, const struct buf *trace)
{
    struct buf b;
    const char *sealer, *reason;
    enum arc_result arc = dkim_verify_arc(v, &sealer, &reason);

    buf_init(&b);
    buf_puts(&b, "{\"dkim\":[");
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
	const struct dkim_sig_result *r = dkim_verify_result(v, i);

	buf_printf(&b, "%s{\"index\":%d,\"result\":", i ? "," : "", r->index);
	buf_json_str(&b, dkim_result_name(r->result));
	buf_puts(&b, ",\"d\":");
	json_opt(&b, r->d);
	buf_puts(&b, ",\"s\":");
	json_opt(&b, r->s);
	buf_puts(&b, ",\"a\":");
	json_opt(&b, r->a);
	buf_puts(&b, ",\"i\":");
	json_opt(&b, r->i);
	buf_puts(&b, ",\"b\":");
	json_opt(&b, r->b);
	buf_puts(&b, ",\"reason\":");
	json_opt(&b, r->reason);
	buf_putc(&b, '}');
    }
    buf_puts(&b, "],\"arc\":{\"result\":");
    buf_json_str(&b, arc_result_name(arc));
    buf_puts(&b, ",\"sealer\":");
    json_opt(&b, sealer);
    buf_puts(&b, ",\"reason\":");
    json_opt(&b, reason);
    buf_printf(&b, ",\"temporary\":%s}", dkim_verify_arc_temporary(v) ? "true" : "false");
    if (trace) {
	buf_puts(&b, ",\"trace\":");
	buf_json_lines(&b, trace->s);
    }
    buf_puts(&b, "}\n");
    fputs(b.s, fp);
    buf_free(&b);
}

static void text_out(FILE *fp, const struct dkim_verify *v)
{
    const char *sealer, *reason;
    enum arc_result arc = dkim_verify_arc(v, &sealer, &reason);

    if (dkim_verify_count(v) == 0)
	fprintf(fp, "dkim: none (no signature)\n");
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
	const struct dkim_sig_result *r = dkim_verify_result(v, i);

	fprintf(fp, "dkim[%d]: %s d=%s s=%s a=%s i=%s b=%s (%s)\n", r->index,
		dkim_result_name(r->result), r->d ? r->d : "-", r->s ? r->s : "-",
		r->a ? r->a : "-", r->i ? r->i : "-", r->b ? r->b : "-", r->reason);
    }
    fprintf(fp, "arc: %s%s%s (%s)\n", arc_result_name(arc), sealer ? " sealer=" : "",
	    sealer ? sealer : "", reason);
}

static void woken(void *ctx)
{
    (void) ctx;
}

/* dns_name_ok - name is letters, digits, '-', '_' and dots (no '/') */
static int dns_name_ok(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > 253 || name[0] == '.' || name[0] == '-')
	return 0;
    for (const char *cp = name; *cp; cp++)
	if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
	      || (*cp >= '0' && *cp <= '9') || *cp == '-' || *cp == '_'
	      || (*cp == '.' && cp[1] != '.')))
	    return 0;
    return 1;
}

/* cmd_dkim_keygen - mxshield dkim keygen DOMAIN SELECTOR [options] */
static int cmd_dkim_keygen(int argc, char **argv)
{
    const char *domain = NULL, *selector = NULL, *dir = ".";
    enum dkim_keytype type = DKIM_KEY_RSA;
    int     bits = DKIM_KEYGEN_DEF_BITS, have_bits = 0;
    struct buf rec, path, line;
    char    why[512];
    char   *end;

    for (int i = 0; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--type") == 0) {
	    a = argv[++i];
	    if (strcmp(a, "rsa") == 0)
		type = DKIM_KEY_RSA;
	    else if (strcmp(a, "ed25519") == 0)
		type = DKIM_KEY_ED25519;
	    else
		goto usage;
	} else if (i + 1 < argc && strcmp(a, "--bits") == 0) {
	    errno = 0;
	    bits = (int) strtol(argv[++i], &end, 10);
	    if (errno || *end || end == argv[i])
		goto usage;
	    have_bits = 1;
	} else if (i + 1 < argc && strcmp(a, "--dir") == 0) {
	    dir = argv[++i];
	} else if (a[0] != '-' && domain == NULL) {
	    domain = a;
	} else if (a[0] != '-' && selector == NULL) {
	    selector = a;
	} else {
	    goto usage;
	}
    }
    if (selector == NULL)
	goto usage;
    if (!dns_name_ok(domain) || !dns_name_ok(selector)) {
	fprintf(stderr, "mxshield dkim keygen: bad domain or selector: %s %s\n", domain,
		selector);
	return 2;
    }
    if (type == DKIM_KEY_ED25519 && have_bits) {
	fprintf(stderr, "mxshield dkim keygen: --bits is for RSA keys only\n");
	return 2;
    }
    buf_init(&rec);
    buf_init(&path);
    buf_init(&line);
    buf_printf(&path, "%s/%s.private", dir, selector);
    if (dkim_keygen(path.s, type, bits, &rec, why, sizeof(why)) < 0) {
	fprintf(stderr, "mxshield dkim keygen: %s\n", why);
	buf_free(&rec);
	buf_free(&path);
	buf_free(&line);
	return 1;
    }
    buf_printf(&line, "%s._domainkey.%s. IN TXT ( ", selector, domain);
    dkim_txt_zone(&line, rec.s);
    buf_puts(&line, " )\n");
    fputs(line.s, stdout);
    fprintf(stderr, "mxshield dkim keygen: private key written to %s; publish the record"
	    " above, then name the key in dkim_key_table\n", path.s);
    buf_free(&rec);
    buf_free(&path);
    buf_free(&line);
    return 0;
usage:
    fprintf(stderr, "usage: mxshield dkim keygen DOMAIN SELECTOR [--type rsa|ed25519]"
	    " [--bits N] [--dir DIR]\n");
    return 2;
}

/* read_crlf - all of fp, bare LF made CRLF; *had_cr: the input had CRs */
static int read_crlf(FILE *fp, struct buf *m, int *had_cr)
{
    char    chunk[16384];
    size_t  n;
    int     prev_cr = 0;

    *had_cr = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
	for (size_t i = 0; i < n; i++) {
	    if (chunk[i] == '\n' && !prev_cr)
		buf_putc(m, '\r');
	    buf_putc(m, chunk[i]);
	    prev_cr = chunk[i] == '\r';
	    *had_cr |= prev_cr;
	}
    }
    return ferror(fp) ? -1 : 0;
}

/* a header field of a CRLF message in memory */
struct field {
    const char *name, *value;
    size_t  nlen, vlen;
};

/* next_field - the header field at *p into f and *p past it: 1; or 0 with
 * *p at the body (past the empty line that ends the header, if any) */
static int next_field(const char **p, const char *end, struct field *f)
{
    const char *s = *p, *e = s, *eol;
    size_t  colon = 0, nl;

    if (end - s >= 2 && s[0] == '\r' && s[1] == '\n') {
	*p = s + 2;
	return 0;
    }
    if (s >= end)
	return 0;
    eol = memchr(s, '\n', (size_t) (end - s));
    if ((nl = header_name_len(s, eol ? (size_t) (eol - s) : (size_t) (end - s), &colon)) == 0)
	return 0;				/* no header field: the body starts here */
    /* the field ends at a CRLF not followed by white space */
    while (e < end && !(e + 1 < end && e[0] == '\r' && e[1] == '\n'
			&& (e + 2 >= end || (e[2] != ' ' && e[2] != '\t'))))
	e++;
    f->name = s;
    f->nlen = nl;
    f->value = s + colon + 1;
    f->vlen = (size_t) (e - s - colon - 1);
    *p = e + 2 > end ? end : e + 2;
    return 1;
}

/* sign_feed - header fields and body of the CRLF message m into ms */
static void sign_feed(struct dkim_msgsign *ms, const struct buf *m)
{
    const char *p = m->s, *end = m->s + m->len;
    struct field f;

    while (next_field(&p, end, &f))
	dkim_msgsign_header(ms, f.name, f.nlen, f.value, f.vlen);
    if (p < end)
	dkim_msgsign_body(ms, p, (size_t) (end - p));
}

/* print_message - the added header fields (CRLF), then the message, in
 * the input's own line ends */
static void print_message(struct buf *out, const struct buf *m, int had_cr)
{
    buf_append(out, m->s, m->len);
    for (size_t i = 0; i < out->len; i++)
	if (had_cr || out->s[i] != '\r' || i + 1 >= out->len || out->s[i + 1] != '\n')
	    putchar(out->s[i]);
}

/* open_message - fp for MESSAGE (none or "-": standard input); -1 after
 * saying why, after the command's name ("mxshield dkim sign") */
static int open_message(const char *cmd, const char *file, FILE **fp)
{
    *fp = stdin;
    if (file && strcmp(file, "-") != 0 && (*fp = fopen(file, "rb")) == NULL) {
	fprintf(stderr, "%s: %s: %s\n", cmd, file, strerror(errno));
	return -1;
    }
    return 0;
}

/* read_message - all of fp into m (read_crlf), then fp closed unless it is
 * standard input; -1 after saying why */
static int read_message(const char *cmd, const char *file, FILE *fp, struct buf *m,
			        int *had_cr)
{
    int     rc = read_crlf(fp, m, had_cr);

    if (rc < 0)
	fprintf(stderr, "%s: %s: read error\n", cmd, file ? file : "standard input");
    if (fp != stdin)
	fclose(fp);
    return rc;
}

/* cmd_dkim_sign - mxshield dkim sign [-c FILE] [MESSAGE] */
static int cmd_dkim_sign(const struct config *conf, int argc, char **argv)
{
    const char *file = NULL;
    struct dkim_signer *g;
    struct dkim_msgsign *ms = NULL;
    struct buf m, out;
    FILE   *fp;
    char    why[512];
    int     had_cr, rc = 2;

    if (argc > 1 || (argc == 1 && argv[0][0] == '-' && strcmp(argv[0], "-") != 0)) {
	fprintf(stderr, "usage: mxshield dkim sign [-c FILE] [MESSAGE]\n");
	return 2;
    }
    file = argc ? argv[0] : NULL;
    if (open_message("mxshield dkim sign", file, &fp) < 0)
	return 2;
    if ((g = dkim_signer_open(conf, why, sizeof(why))) == NULL) {
	fprintf(stderr, "mxshield dkim sign: %s\n", why);
	if (fp != stdin)
	    fclose(fp);
	return 2;
    }
    buf_init(&m);
    buf_init(&out);
    if (read_message("mxshield dkim sign", file, fp, &m, &had_cr) < 0)
	goto done;
    ms = dkim_msgsign_new(g);
    sign_feed(ms, &m);
    switch (dkim_msgsign_finish(ms, (long long) time(NULL), why, sizeof(why))) {
    case 1:
	for (size_t i = 0; i < dkim_msgsign_count(ms); i++)
	    buf_printf(&out, "DKIM-Signature:%s\r\n", dkim_msgsign_value(ms, i));
	rc = 0;
	break;
    case 0:
	fprintf(stderr, "mxshield dkim sign: no key for %s: not signed\n",
		dkim_msgsign_from(ms) ? dkim_msgsign_from(ms)
		: "a message without exactly one From: address");
	rc = 1;
	break;
    default:
	fprintf(stderr, "mxshield dkim sign: %s\n", why);
	break;
    }
    if (rc != 2)
	print_message(&out, &m, had_cr);
done:
    dkim_msgsign_free(ms);
    dkim_signer_free(g);
    buf_free(&m);
    buf_free(&out);
    return rc;
}

/* both: the verifier and the sealer, fed one message */
struct arc_both {
    struct dkim_verify *v;
    struct arc_seal *a;
};

/* arc_feed - header fields and body of the CRLF message m (as sign_feed) */
static void arc_feed(struct arc_both *t, const struct buf *m)
{
    const char *p = m->s, *end = m->s + m->len;
    struct field f;

    while (next_field(&p, end, &f)) {
	dkim_verify_header(t->v, f.name, f.nlen, f.value, f.vlen);
	arc_seal_header(t->a, f.name, f.nlen, f.value, f.vlen);
    }
    dkim_verify_eoh(t->v);
    if (p < end) {
	dkim_verify_body(t->v, p, (size_t) (end - p));
	arc_seal_body(t->a, p, (size_t) (end - p));
    }
}

/* plain_value - a result property value that needs no quoting */
static int plain_value(const char *s)
{
    if (s == NULL || *s == 0)
	return 0;
    for (; *s; s++)
	if (!isalnum((unsigned char) *s) && strchr(".-_@+", *s) == NULL)
	    return 0;
    return 1;
}

/* arc_results - " authserv-id; dkim=...; arc=..." of verifier v */
static void arc_results(const struct dkim_verify *v, const char *id, struct buf *ar)
{
    size_t  n = dkim_verify_count(v);

    buf_printf(ar, " %s;", id);
    if (n == 0)
	buf_puts(ar, "\r\n\tdkim=none;");
    for (size_t i = 0; i < n; i++) {
	const struct dkim_sig_result *r = dkim_verify_result(v, i);

	buf_printf(ar, "\r\n\tdkim=%s", dkim_result_name(r->result));
	if (plain_value(r->d))
	    buf_printf(ar, " header.d=%s", r->d);
	if (plain_value(r->s))
	    buf_printf(ar, " header.s=%s", r->s);
	buf_putc(ar, ';');
    }
    buf_printf(ar, "\r\n\tarc=%s", arc_result_name(dkim_verify_arc(v, NULL, NULL)));
}

/* cmd_dkim_arcseal - mxshield dkim arc-seal [-c FILE] [--resolver HOST:PORT] [MESSAGE] */
static int cmd_dkim_arcseal(const struct config *conf, int argc, char **argv)
{
    const char *file = NULL, *resolver = NULL, *id;
    struct dkim_signer *g;
    const struct dkim_signkey *k;
    struct dkim_conf dc;
    struct arc_both t = {NULL, NULL};
    struct event_base *base = NULL;
    struct dns *dns = NULL;
    struct lookupset *ls = NULL;
    struct buf m, ar, out;
    FILE   *fp;
    char    why[512];
    int     had_cr, rc = 2;

    for (int i = 0; i < argc; i++) {
	if (i + 1 < argc && strcmp(argv[i], "--resolver") == 0)
	    resolver = argv[++i];
	else if (i == argc - 1 && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
	    file = argv[i];
	else {
	    fprintf(stderr, "usage: mxshield dkim arc-seal [-c FILE] [--resolver HOST:PORT]"
		    " [MESSAGE]\n");
	    return 2;
	}
    }
    if (config_str(conf, P_ARC_SIGN)[0] == 0) {
	fprintf(stderr, "mxshield dkim arc-seal: arc_sign is not set\n");
	return 2;
    }
    if ((g = dkim_signer_open(conf, why, sizeof(why))) == NULL
	|| (k = arc_seal_key(g, config_str(conf, P_ARC_SIGN), why, sizeof(why))) == NULL) {
	fprintf(stderr, "mxshield dkim arc-seal: arc_sign: %s\n", why);
	dkim_signer_free(g);
	return 2;
    }
    if (open_message("mxshield dkim arc-seal", file, &fp) < 0) {
	dkim_signer_free(g);
	return 2;
    }
    buf_init(&m);
    buf_init(&ar);
    buf_init(&out);
    if (read_message("mxshield dkim arc-seal", file, fp, &m, &had_cr) < 0)
	goto done;
    if ((base = event_base_new()) == NULL
	|| (dns = dns_new(base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
			  (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why,
			  sizeof(why))) == NULL) {
	fprintf(stderr, "mxshield dkim arc-seal: %s\n", base ? why : "cannot create event base");
	goto done;
    }
    ls = lookupset_new(dns);
    lookupset_set_wakeup(ls, woken, NULL);
    dkim_conf_default(&dc);
    t.v = dkim_verify_new(&dc, ls);
    t.a = arc_seal_new(k, dkim_signer_conf(g));
    arc_feed(&t, &m);
    while (dkim_verify_finish(t.v) == 0)
	event_base_loop(base, EVLOOP_ONCE);	/* until the keys arrive */
    id = config_str(conf, P_AUTHSERV_ID)[0] ? config_str(conf, P_AUTHSERV_ID)
	: config_str(conf, P_MYHOSTNAME);
    arc_results(t.v, id, &ar);
    switch (arc_seal_finish(t.a, t.v, ar.s, (long long) time(NULL), why, sizeof(why))) {
    case 1:
	for (int f = ARC_SEAL_AS; f >= ARC_SEAL_AAR; f--)
	    buf_printf(&out, "%s:%s\r\n", arc_seal_name(f), arc_seal_value(t.a, f));
	rc = 0;
	break;
    case 0:
	fprintf(stderr, "mxshield dkim arc-seal: %s\n", why);
	rc = 1;
	break;
    default:
	fprintf(stderr, "mxshield dkim arc-seal: %s\n", why);
	break;
    }
    if (rc != 2)
	print_message(&out, &m, had_cr);
done:
    arc_seal_free(t.a);
    if (t.v)
	dkim_verify_free(t.v);
    if (ls)
	lookupset_free(ls);
    if (dns)
	dns_free(dns);
    if (base)
	event_base_free(base);
    dkim_signer_free(g);
    buf_free(&m);
    buf_free(&ar);
    buf_free(&out);
    return rc;
}

int     cmd_dkim(const struct config *conf, int argc, char **argv)
{
    const char *resolver = NULL, *file = NULL;
    int     json = 0, with_trace = 0;
    struct dkim_conf dc;
    struct dkim_verify *v;
    struct dns *dns;
    struct lookupset *ls;
    struct event_base *base;
    struct buf trace;
    FILE   *fp = stdin;
    char    why[256];

    if (argc > 0 && strcmp(argv[0], "keygen") == 0)
	return cmd_dkim_keygen(argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "sign") == 0)
	return cmd_dkim_sign(conf, argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "arc-seal") == 0)
	return cmd_dkim_arcseal(conf, argc - 1, argv + 1);
    for (int i = 0; i < argc; i++) {
	const char *a = argv[i];

	if (i + 1 < argc && strcmp(a, "--resolver") == 0)
	    resolver = argv[++i];
	else if (strcmp(a, "--json") == 0)
	    json = 1;
	else if (strcmp(a, "--trace") == 0)
	    with_trace = 1;
	else if (i == argc - 1 && (a[0] != '-' || strcmp(a, "-") == 0))
	    file = a;
	else
	    goto usage;
    }
    if (open_message("mxshield dkim", file, &fp) < 0)
	return 2;
    if ((base = event_base_new()) == NULL) {
	fprintf(stderr, "mxshield dkim: cannot create event base\n");
	return 2;
    }
    dns = dns_new(base, resolver ? resolver : config_str(conf, P_DNS_RESOLVER),
		  (int) config_int(conf, P_DNS_TIMEOUT) * 1000, 0, why, sizeof(why));
    if (dns == NULL) {
	fprintf(stderr, "mxshield dkim: %s\n", why);
	return 2;
    }
    ls = lookupset_new(dns);
    lookupset_set_wakeup(ls, woken, NULL);
    dkim_conf_default(&dc);
    v = dkim_verify_new(&dc, ls);
    buf_init(&trace);
    if (with_trace)
	dkim_verify_set_trace(v, &trace);
    if (dkim_feed_message(fp, v) < 0) {
	fprintf(stderr, "mxshield dkim: %s: read error\n", file ? file : "standard input");
	return 2;
    }
    if (fp != stdin)
	fclose(fp);
    while (dkim_verify_finish(v) == 0)
	event_base_loop(base, EVLOOP_ONCE);	/* until the keys arrive */
    if (json) {
	json_line(stdout, v, with_trace ? &trace : NULL);
    } else {
	if (with_trace)
	    fputs(trace.s, stdout);
	text_out(stdout, v);
    }
    buf_free(&trace);
    dkim_verify_free(v);
    lookupset_free(ls);
    dns_free(dns);
    event_base_free(base);
    return 0;
usage:
    fprintf(stderr, "usage: mxshield dkim [-c FILE] [--resolver HOST:PORT] [--json] [--trace]"
	    " [MESSAGE]\n");
    return 2;
}
