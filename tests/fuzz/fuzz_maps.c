/*
 * fuzz_maps.c - libFuzzer target: lookup tables and postgrey whitelist files
 * as an operator could write them.  The first byte picks the format; the
 * rest is the file (or the inline:{...} text), loaded and then asked for
 * addresses, names and mail addresses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greylist/greylist.h"
#include "maps/map.h"
#include "util/mem.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1",
    "user@example.com", "User+tag@Example.COM", "example.com", "mail.example.com",
"a.b.c.d.e.f.example.org", "", "@", "user@", "[192.0.2.1]", "10.0.0.255"};

/* ask - every key; what is found is read back whole */
static void ask(struct map *m)
{
    volatile size_t sink = 0;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
	const char *v = NULL;

	if (map_get(m, keys[i], &v) == MAP_FOUND && v)
	    sink += strlen(v);
    }
    (void) sink;
    map_free(m);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"texthash", "cidr", "regexp", "pcre", "inline",
    "whitelist"};
    static char path[64];
    char    err[512], spec[128];
    volatile size_t sink = 0;

    if (size < 1 || size > 16384)
	return 0;
    if (*path == 0)
	snprintf(path, sizeof(path), "/tmp/mxshield-fuzz-map.%ld", (long) getpid());
    const char *type = types[data[0] % (sizeof(types) / sizeof(types[0]))];

    if (strcmp(type, "inline") == 0) {
	char   *s = xmalloc(size + 16);

	memcpy(s, "inline:", 7);
	memcpy(s + 7, data + 1, size - 1);
	s[size + 6] = 0;
	struct map *m = map_open(s, err, sizeof(err));

	if (m)
	    ask(m);
	free(s);
	return 0;
    }
    FILE   *fp = fopen(path, "w");

    if (fp == NULL)
	abort();
    fwrite(data + 1, 1, size - 1, fp);
    fclose(fp);
    if (strcmp(type, "whitelist") == 0) {
	struct gl_whitelist *w = gl_whitelist_load(path, path, err, sizeof(err));

	if (w) {
	    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *why = gl_whitelist_match(w, keys[i], "192.0.2.1", keys[i]);

		if (why)
		    sink += strlen(why);
	    }
	    gl_whitelist_free(w);
	}
	return 0;
    }
    snprintf(spec, sizeof(spec), "%s:%s", type, path);
    struct map *m = map_open(spec, err, sizeof(err));

    if (m)
	ask(m);
    (void) sink;
    return 0;
}
