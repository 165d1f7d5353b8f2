/*
 * fuzz_dns.c - libFuzzer target: dns_parse() on any bytes a resolver might
 * hand back.  The first byte picks the type asked for; the rest is the
 * packet.  Every record decoded is read back, so a bad length shows.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_PTR, DNS_T_TXT,
    DNS_T_CNAME, DNS_T_SOA};
    volatile size_t sink = 0;

    if (size < 1)
	return 0;
    int     type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
    struct dns_answer *a = dns_parse(data + 1, size - 1, "example.com", type);

    if (a == NULL)
	return 0;
    for (size_t i = 0; i < a->n; i++) {
	if (a->rr[i].name)
	    sink += strlen(a->rr[i].name);
	if (a->rr[i].text)
	    sink += strlen(a->rr[i].text);
    }
    sink += strlen(a->why) + strlen(a->qname);
    (void) sink;
    dns_answer_unref(a);
    return 0;
}
