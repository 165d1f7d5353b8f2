/*
 * fuzz_dkim_sign.c - libFuzzer target: a message through the signer
 * (src/dkim/sign.c) as the milter would hand it over, then through our
 * verifier.  Lines up to the first empty one are header fields ("name:
 * value", lines starting with white space continue the field, joined by
 * CRLF); the rest is the body, LF made CRLF.  The From: value goes
 * through dkim_from_address().  An Ed25519 key made once at start signs
 * with relaxed/relaxed; unless the input holds a NUL or a bare CR, the
 * signature must verify (pass): what we sign, we must be able to check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dkim/dkim.h"
#include "dkim/sign.h"
#include "dkim/signtable.h"
#include "dns/dns.h"
#include "util/mem.h"
#include "util/str.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dkim_signkey *key;
static char *record;
static struct dns_answer *answer;

static void setup(void)
{
    char    dir[] = "/tmp/fuzzsign.XXXXXX", path[64], why[256];
    struct buf rec;

    if (mkdtemp(dir) == NULL)
	abort();
    snprintf(path, sizeof(path), "%s/k.private", dir);
    buf_init(&rec);
    if (dkim_keygen(path, DKIM_KEY_ED25519, 0, &rec, why, sizeof(why)) < 0
	|| dkim_signkey_load(path, "sign.test", "f", &key, why, sizeof(why)) < 0)
	abort();
    unlink(path);
    rmdir(dir);
    record = buf_steal(&rec);
    answer = dns_answer_new("f._domainkey.sign.test", DNS_T_TXT, DNS_OK, NULL);
    answer->rr = xcalloc(1, sizeof(*answer->rr));
    answer->rr[0].text = xstrdup(record);
    answer->n = 1;
}

static struct dns_answer *get(void *ctx, const char *name)
{
    (void) ctx;
    (void) name;
    return answer;			/* stays ours: the verifier does not free it */
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size;
    struct dkim_sign_conf c = {.hrelaxed = 1,.brelaxed = 1 };
    struct dkim_sign *s;
    struct dkim_verify *v;
    struct buf name, value, body, msg;
    int     have = 0, clean = memchr(data, 0, size) == NULL;
    char    why[256];

    if (size > 100000)
	return 0;
    if (key == NULL)
	setup();
    s = dkim_sign_new(&c);
    dkim_sign_add_key(s, key);
    v = dkim_verify_new(NULL, NULL);
    dkim_verify_set_keys(v, get, NULL);
    buf_init(&name);
    buf_init(&value);
    buf_init(&body);
    buf_init(&msg);
    /* header fields, as the verifier and the signer take them */
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p)), *e = nl ? nl : end, *colon;

	if (memchr(p, '\r', (size_t) (e - p)))
	    clean = 0;
	if (e == p) {
	    p = e + 1;
	    break;
	}
	if (have && (*p == ' ' || *p == '\t')) {
	    buf_append(&value, "\r\n", 2);
	    buf_append(&value, p, (size_t) (e - p));
	} else if (*p == ' ' || *p == '\t') {
	    ;				/* continues nothing: no field (a milter never sees one) */
	} else {
	    if (have) {
		dkim_sign_header(s, name.s, name.len, value.s, value.len);
		buf_printf(&msg, "%s:%s\r\n", name.s, value.s);
		if (name.len == 4 && strncasecmp(name.s, "from", 4) == 0)
		    free(dkim_from_address(value.s));
	    }
	    have = 0;
	    if ((colon = memchr(p, ':', (size_t) (e - p))) != NULL && colon > p) {
		buf_reset(&name);
		buf_append(&name, p, (size_t) (colon - p));
		buf_reset(&value);
		buf_append(&value, colon + 1, (size_t) (e - colon - 1));
		have = 1;
	    }
	}
	p = nl ? nl + 1 : end;
    }
    if (have) {
	dkim_sign_header(s, name.s, name.len, value.s, value.len);
	buf_printf(&msg, "%s:%s\r\n", name.s, value.s);
    }
    for (; p < end; p++) {
	if (*p == '\n')
	    buf_putc(&body, '\r');
	buf_putc(&body, *p);
    }
    dkim_sign_body(s, body.s, body.len);
    if (dkim_sign_finish(s, 1764900000, why, sizeof(why)) == 0 && clean) {
	/* the signed message through the verifier: it must pass */
	const char *sv = dkim_sign_value(s, 0);

	dkim_verify_header(v, "DKIM-Signature", 14, sv, strlen(sv));
	for (const char *q = msg.s; *q;) {
	    const char *colon = strchr(q, ':'), *e = colon;

	    while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
		e++;
	    dkim_verify_header(v, q, (size_t) (colon - q), colon + 1, (size_t) (e - colon - 1));
	    q = e + 2;
	}
	dkim_verify_eoh(v);
	dkim_verify_body(v, body.s, body.len);
	if (dkim_verify_finish(v) != 1 || dkim_verify_count(v) < 1)
	    abort();
	if (dkim_verify_result(v, 0)->result != DKIM_PASS) {
	    fprintf(stderr, "our signature did not verify: %s\n", dkim_verify_result(v, 0)->reason);
	    abort();
	}
    }
    dkim_verify_free(v);
    dkim_sign_free(s);
    buf_free(&name);
    buf_free(&value);
    buf_free(&body);
    buf_free(&msg);
    return 0;
}
