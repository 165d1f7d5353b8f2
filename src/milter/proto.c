/*
 * proto.c - milter packet framing and field decoding.
 */
#include <string.h>

#include "milter/proto.h"

/* milter_packet - frame the next packet */
long    milter_packet(const char *in, size_t len, size_t limit, int *cmd,
		              const char **data, size_t *dlen)
{
    const unsigned char *u = (const unsigned char *) in;
    uint32_t plen;

    if (len < 4)
	return 0;
    plen = ((uint32_t) u[0] << 24) | ((uint32_t) u[1] << 16) | ((uint32_t) u[2] << 8) | u[3];
    if (plen == 0 || plen > limit)
	return -1;
    if (len - 4 < plen)
	return 0;
    *cmd = u[4];
    *data = in + 5;
    *dlen = plen - 1;
    return (long) plen + 4;
}

int     milter_rd_str(struct milter_rd *r, const char **s, size_t *len)
{
    const char *nul;

    if (r->p >= r->end || (nul = memchr(r->p, 0, (size_t) (r->end - r->p))) == NULL)
	return -1;
    *s = r->p;
    *len = (size_t) (nul - r->p);
    r->p = nul + 1;
    return 0;
}

int     milter_rd_u32(struct milter_rd *r, uint32_t *v)
{
    const unsigned char *u = (const unsigned char *) r->p;

    if (r->end - r->p < 4)
	return -1;
    *v = ((uint32_t) u[0] << 24) | ((uint32_t) u[1] << 16) | ((uint32_t) u[2] << 8) | u[3];
    r->p += 4;
    return 0;
}

int     milter_rd_u16(struct milter_rd *r, uint16_t *v)
{
    const unsigned char *u = (const unsigned char *) r->p;

    if (r->end - r->p < 2)
	return -1;
    *v = (uint16_t) ((u[0] << 8) | u[1]);
    r->p += 2;
    return 0;
}

int     milter_rd_u8(struct milter_rd *r, int *v)
{
    if (r->p >= r->end)
	return -1;
    *v = (unsigned char) *r->p++;
    return 0;
}

void    milter_put_u32(struct buf *out, uint32_t v)
{
    char    b[4];

    b[0] = (char) (v >> 24);
    b[1] = (char) (v >> 16);
    b[2] = (char) (v >> 8);
    b[3] = (char) v;
    buf_append(out, b, 4);
}

void    milter_put(struct buf *out, int cmd, const void *data, size_t len)
{
    char    c = (char) cmd;

    milter_put_u32(out, (uint32_t) len + 1);
    buf_append(out, &c, 1);
    if (len)
	buf_append(out, data, len);
}
