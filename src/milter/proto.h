/*
 * proto.h - the Sendmail milter protocol, version 6, as Postfix 3.x speaks
 * it (Postfix src/milter/milter8.c): packet framing and field decoding,
 * no state and no I/O, so that it can be fuzzed alone.
 *
 * A packet is a 4-byte length in network order (counting the command
 * byte), one command byte, then the command's data: NUL-terminated
 * strings, 4-byte words in network order, 2-byte ports.
 *
 * milter_packet() takes the next packet from the front of the input: >0
 * the packet's whole size (consume that much), 0 more input is needed,
 * -1 a length of 0 or past the limit (the connection must end: a milter
 * cannot resynchronise).  The field readers return -1 on a truncated or
 * unterminated field: a malformed packet, which also ends the connection.
 */
#ifndef MX_MILTER_PROTO_H
#define MX_MILTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define MILTER_VERSION		6

/* commands from the MTA */
#define SMFIC_ABORT	'A'
#define SMFIC_BODY	'B'
#define SMFIC_CONNECT	'C'
#define SMFIC_MACRO	'D'
#define SMFIC_BODYEOB	'E'
#define SMFIC_HELO	'H'
#define SMFIC_QUIT_NC	'K'
#define SMFIC_HEADER	'L'
#define SMFIC_MAIL	'M'
#define SMFIC_EOH	'N'
#define SMFIC_OPTNEG	'O'
#define SMFIC_QUIT	'Q'
#define SMFIC_RCPT	'R'
#define SMFIC_DATA	'T'
#define SMFIC_UNKNOWN	'U'

/* replies */
#define SMFIR_ACCEPT	'a'
#define SMFIR_CONTINUE	'c'
#define SMFIR_CHGHEADER	'm'
#define SMFIR_ADDHEADER	'h'
#define SMFIR_INSHEADER	'i'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REPLYCODE	'y'
#define SMFIR_SKIP	's'

/* actions the milter may take (SMFIF_) */
#define SMFIF_ADDHDRS	0x001
#define SMFIF_CHGHDRS	0x010
#define SMFIF_QUARANTINE 0x020
#define SMFIF_SETSYMLIST 0x100

/* protocol steps and options (SMFIP_) */
#define SMFIP_NOCONNECT	0x000001
#define SMFIP_NOHELO	0x000002
#define SMFIP_NOMAIL	0x000004
#define SMFIP_NORCPT	0x000008
#define SMFIP_NOBODY	0x000010
#define SMFIP_NOHDRS	0x000020
#define SMFIP_NOEOH	0x000040
#define SMFIP_NR_HDR	0x000080
#define SMFIP_NOUNKNOWN	0x000100
#define SMFIP_NODATA	0x000200
#define SMFIP_SKIP	0x000400
#define SMFIP_RCPT_REJ	0x000800
#define SMFIP_NR_CONN	0x001000
#define SMFIP_NR_HELO	0x002000
#define SMFIP_NR_MAIL	0x004000
#define SMFIP_NR_RCPT	0x008000
#define SMFIP_NR_DATA	0x010000
#define SMFIP_NR_UNKN	0x020000
#define SMFIP_NR_EOH	0x040000
#define SMFIP_NR_BODY	0x080000
#define SMFIP_HDR_LEADSPC 0x100000

/* macro stages of SETSYMLIST */
#define SMFIM_CONNECT	0
#define SMFIM_HELO	1
#define SMFIM_ENVFROM	2
#define SMFIM_ENVRCPT	3
#define SMFIM_DATA	4
#define SMFIM_EOM	5
#define SMFIM_EOH	6

/* milter_packet - the next packet in [in, in+len); see above */
long    milter_packet(const char *in, size_t len, size_t limit, int *cmd,
		              const char **data, size_t *dlen);

/* a cursor over one packet's data */
struct milter_rd {
    const char *p;
    const char *end;
};

/* milter_rd_str - the next NUL-terminated string; 0 or -1 */
int     milter_rd_str(struct milter_rd *r, const char **s, size_t *len);
/* milter_rd_u32 / u16 / u8 - the next word; 0 or -1 */
int     milter_rd_u32(struct milter_rd *r, uint32_t *v);
int     milter_rd_u16(struct milter_rd *r, uint16_t *v);
int     milter_rd_u8(struct milter_rd *r, int *v);

/* milter_put - append one packet: cmd, then len bytes of data */
void    milter_put(struct buf *out, int cmd, const void *data, size_t len);
/* milter_put_u32 - a 4-byte word in network order to raw data */
void    milter_put_u32(struct buf *out, uint32_t v);

#endif
