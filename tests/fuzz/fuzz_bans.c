/*
 * fuzz_bans.c - libFuzzer target: the auto-ban's stored records and keys
 * are outside data (a database from disk, a shared server's answers).
 * The first byte picks what the rest is: a ban, offender or counter value
 * (decoded, re-encoded, then run through the decision and the counters:
 * UBSan catches overflow, a hang shows a loop bounded by stored data), a
 * stored network key, a check_rate argument, a time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ban/ban.h"
#include "rules/rate.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void records(const uint8_t *p, size_t n, int64_t now)
{
    static const struct ban_conf c = {
	.def = {5, 600, 600}, .increment = 1, .factor = 2, .maxtime = 7 * 86400,
	.history = 86400, .ipv4_prefix = 32, .ipv6_prefix = 64, .escalate_count = 3,
	.escalate_v4 = 24, .escalate_v6 = 48, .escalate_window = 3600,
    };
    struct ban_conf cc = c;
    unsigned char out[STORE_VALUE_MAX];
    struct ban_reads in;
    struct ban_decision d;
    struct ban_record r, r2;
    struct ban_offender o, o2;
    struct ban_counter k, k2;

    for (int i = 0; i < BEV_COUNT; i++)
	cc.cls[i] = c.def;
    memset(&in, 0, sizeof(in));
    if (ban_record_decode(p, n, &r) == 0) {
	if (ban_record_decode(out, ban_record_encode(&r, out), &r2) != 0
	    || memcmp(&r, &r2, sizeof(r)) != 0)
	    abort();
	in.have_ban = in.have_wide = 1;
	in.ban = in.wide = r;
	(void) ban_reason_name(r.reason);
    }
    if (ban_offender_decode(p, n, &o) == 0) {
	if (ban_offender_decode(out, ban_offender_encode(&o, out), &o2) != 0
	    || memcmp(&o, &o2, sizeof(o)) != 0)
	    abort();
	in.have_off = 1;
	in.off = o;
	(void) ban_duration(&cc, 600, (long) (o.bans + 1));
    }
    if (ban_counter_decode(p, n, &k) == 0) {
	if (ban_counter_decode(out, ban_counter_encode(&k, out), &k2) != 0
	    || memcmp(&k, &k2, sizeof(k)) != 0)
	    abort();
	in.have_hits = in.have_pfx = 1;
	in.hits = in.pfx = k;
	(void) ban_counter_peek(&k, now, 86400);
    }
    in.wide_valid = 1;
    ban_decide(&cc, now, BEV_AUTH_FAILED, &in, &d);
    in.have_ban = in.have_wide = 0;
    ban_decide(&cc, now, BEV_AUTH_FAILED, &in, &d);
    if (d.verdict == BAN_V_BAN && (d.ban.expires < now || d.ban.expires - now > cc.maxtime))
	abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text;
    struct cidr net, again;
    char    key[BAN_NET_MAX];
    struct buf err;
    struct rate_spec *rs;

    if (size < 1)
	return 0;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    switch (data[0] & 3) {
    case 0:
	records(data + 1, size - 1, 1796450400 + (int64_t) (data[0] >> 2) * 1000003);
	break;
    case 1:
	/* a network key: what parses prints back to a key that parses the same */
	if (ban_net_parse(text, &net) == 0) {
	    ban_net_text(&net, key);
	    if (ban_net_parse(key, &again) != 0 || again.len != net.len
		|| memcmp(&again.net, &net.net, sizeof(net.net)) != 0)
		abort();
	}
	break;
    case 2:
	buf_init(&err);
	if ((rs = rate_spec_parse(text, &err)) != NULL) {
	    if (rs->limit < 1 || rs->window < 1)
		abort();
	    rate_spec_free(rs);
	}
	buf_free(&err);
	break;
    case 3:
	(void) ban_parse_time(text);
	break;
    }
    free(text);
    return 0;
}
