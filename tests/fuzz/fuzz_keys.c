/*
 * fuzz_keys.c - libFuzzer target: what a client controls on its way into a
 * greylisting key or reply: the address, the sender, the recipient (split
 * from the input at NUL bytes); plus address and network parsing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greylist/greylist.h"
#include "util/inet.h"
#include "util/mem.h"
#include "util/str.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text, *f[4] = {"", "", "", ""};
    size_t  nf = 0;
    struct buf out;
    struct inet_addr a;
    struct cidr c;
    struct cidr_list l;
    char    err[256], fmt[64];

    if (size < 1 || size > 4096)
	return 0;
    text = xmalloc(size + 1);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    text[size] = 0;
    for (char *p = text; nf < 4 && p <= text + size - 1; p += strlen(p) + 1)
	f[nf++] = p;

    struct gl_conf g = {
	.delay = 300, .max_age = 35 * 86400, .retry_window = 2 * 86400, .awl_clients = 5,
	.ipv4_prefix = data[0] & 1 ? 32 : 24 - (data[0] >> 4),
	.ipv6_prefix = data[0] & 1 ? 128 : 64 - (data[0] >> 3),
	.by_host = (data[0] & 2) != 0, .privacy = (data[0] & 4) != 0,
    };

    buf_init(&out);
    gl_sender_normalise(f[1], &out);
    buf_reset(&out);
    gl_client_net(&g, f[0], &out);
    buf_reset(&out);
    gl_triplet_key(&g, f[0], data[0] & 8 ? f[3] : NULL, f[1], f[2], &out);
    buf_reset(&out);
    gl_client_key(&g, f[0], &out);
    buf_reset(&out);
    gl_whitelist_net_key(&g, f[0], &out);
    buf_reset(&out);
    gl_expand_text(f[3], 299, f[2], &out);
    buf_reset(&out);
    gl_expand_header(f[3], 301, f[0], 1700000000, &out);
    buf_free(&out);

    if (inet_parse(f[0], &a) == 0)
	inet_format(&a, fmt, sizeof(fmt));
    if (cidr_parse(f[0], &c, err, sizeof(err)) == 0 && inet_parse(f[1], &a) == 0)
	(void) cidr_match(&c, &a);
    if (cidr_list_parse(f[2], &l, err, sizeof(err)) == 0) {
	(void) cidr_list_match(&l, f[0]);
	cidr_list_free(&l);
    }
    free(text);
    return 0;
}
