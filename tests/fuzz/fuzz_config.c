/*
 * fuzz_config.c - libFuzzer target: a configuration file, as an operator
 * could mistype it: parsed, every parameter read back and $names expanded,
 * and the listener words and unix socket options parsed as serve does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/params.h"
#include "net/listen.h"
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
	struct listen_spec *ls = NULL;
	struct listen_unix lu;
	struct buf lerr;

	buf_init(&lerr);
	if (listen_parse_list(config_str(c, P_LISTEN), &ls, &lerr) > 0)
	    sink += ls[0].port;
	free(ls);
	(void) listen_unix_parse(config_str(c, P_UNIX_MODE), "", "", &lu, &lerr);
	sink += lerr.len;
	buf_free(&lerr);
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
