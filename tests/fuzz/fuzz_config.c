/*
 * fuzz_config.c - libFuzzer target: a configuration file, as an operator
 * could mistype it: parsed, every parameter read back and $names expanded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/params.h"
#include "util/mem.h"
#include "util/str.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err;
    char   *text = xmalloc(size + 1);
    volatile size_t sink = 0;

    memcpy(text, data, size);
    text[size] = 0;
    buf_init(&err);
    struct config *c = config_parse_text(text, "fuzz.conf", &err);

    if (c != NULL) {
	for (int id = 0; id < P_COUNT; id++) {
	    const char *s = config_str(c, (enum param_id) id);

	    if (s)
		sink += strlen(s);
	}
	char   *x = config_expand(c, text);

	sink += strlen(x);
	free(x);
	config_free(c);
    } else {
	sink += err.len;
    }
    (void) sink;
    buf_free(&err);
    free(text);
    return 0;
}
