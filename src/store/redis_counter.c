/*
 * redis_counter.c - store_counter_hit on the server: one Lua script that
 * reads a STORE_KIND_COUNTER record, counts, and writes it back with its
 * TTL, atomically (Redis runs a script alone), so that MX hosts sharing
 * a rate counter never lose a count to each other's read-modify-write.
 *
 * The script keeps store/encode.h's bytes (version 1, kind 6, four
 * big-endian 64-bit fields: expires, window start, count, previous
 * count) and src/ban/ban.c's arithmetic (skew, roll, the count capped at
 * 2^32); Lua's numbers are doubles, exact for every valid field (below
 * 2^48, STORE_FIELD_MAX).  A value that does not decode starts again,
 * as in C.  It returns the record as written; the caller estimates from
 * it in C (ban_counter_peek), so the sliding-window estimate exists once.
 *
 * The daemon sends EVALSHA with the script's SHA-1 (computed here);
 * the connection's handshake loads the script (SCRIPT LOAD), and a
 * NOSCRIPT reply (SCRIPT FLUSH by an operator) drops the connection so
 * that the next handshake loads it again.  The tools send EVAL.
 */
#include <openssl/sha.h>
#include <stdio.h>

#include "store/redis_impl.h"

const char redis_counter_script[] =
    "local now, w, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t0, cmax, fmax = now, 4294967296, 281474976710656\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "local f = {0, 0, 0, 0}\n"
    "if v and #v == 34 and string.byte(v, 1) == 1 and string.byte(v, 2) == 6 then\n"
    "  for i = 0, 3 do\n"
    "    local x = 0\n"
    "    for j = 1, 8 do x = x * 256 + string.byte(v, 2 + 8 * i + j) end\n"
    "    if x > fmax then f = {0, 0, 0, 0} break end\n"
    "    f[i + 1] = x\n"
    "  end\n"
    "end\n"
    "local st, c, p = f[2], f[3], f[4]\n"
    "if now < st and st - now <= " REDIS_SKEW_MAX_TEXT " then now = st end\n"
    "if c > cmax then c = cmax end\n"
    "if p > cmax then p = cmax end\n"
    "if st == 0 or now < st or now >= st + 2 * w then p, c, st = 0, 0, now\n"
    "elseif now >= st + w then p, c, st = c, 0, st + w end\n"
    "if c + n <= cmax then c = c + n end\n"
    "local out = {string.char(1, 6)}\n"
    "for _, x in ipairs({st + 2 * w, st, c, p}) do\n"
    "  for j = 7, 0, -1 do out[#out + 1] = string.char(math.floor(x / 2 ^ (8 * j)) % 256) end\n"
    "end\n"
    "local val = table.concat(out)\n"
    "local ttl = st + 2 * w - t0\n"
    "if ttl < 1 then ttl = 1 end\n"
    "redis.call('SET', KEYS[1], val, 'EX', ttl)\n"
    "return val\n";

/* redis_counter_sha - the script's SHA-1 in hex, as EVALSHA wants it */
const char *redis_counter_sha(void)
{
    static char hex[2 * SHA_DIGEST_LENGTH + 1];
    unsigned char md[SHA_DIGEST_LENGTH];

    if (hex[0] == 0) {
	SHA1((const unsigned char *) redis_counter_script, sizeof(redis_counter_script) - 1, md);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
	    snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return hex;
}
