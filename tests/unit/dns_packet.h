/*
 * dns_packet.h - a tiny DNS packet builder for the unit tests (test_dns.c,
 * test_dns_result.c): bytes, 16- and 32-bit fields, names as labels.
 */
#ifndef MX_TEST_DNS_PACKET_H
#define MX_TEST_DNS_PACKET_H

#include <stdint.h>
#include <string.h>

struct pkt {
    unsigned char b[1024];
    size_t  n;
};

static inline void put8(struct pkt *p, unsigned v)
{
    p->b[p->n++] = (unsigned char) v;
}

static inline void put16(struct pkt *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v & 0xff);
}

static inline void put32(struct pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}

static inline void putname(struct pkt *p, const char *name)
{
    while (*name) {
	const char *dot = strchr(name, '.');
	size_t  len = dot ? (size_t) (dot - name) : strlen(name);

	put8(p, (unsigned) len);
	memcpy(p->b + p->n, name, len);
	p->n += len;
	name += len + (dot != NULL);
    }
    put8(p, 0);
}

#endif
