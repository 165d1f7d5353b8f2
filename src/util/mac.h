/*
 * mac.h - the one $name expander: main.cf values, reply templates and
 * regexp table results.
 *
 * mac_parse() is the tokenizer, after Postfix's mac_parse(): it splits a
 * text into literal runs and expressions and hands each to a callback.
 * "$$" is a literal "$"; "$name" (letters, digits, '_'), "${text}" and
 * "$(text)" are expressions (the braces nest, so "${a?${b}}" is one).
 * A '$' followed by nothing that makes a name, or an unclosed brace, is a
 * syntax error.
 *
 * mac_expand() gives expressions Postfix's mac_expand() meaning: the
 * caller's lookup() says what a name is worth (NULL: undefined);
 * "${name?text}" is text (itself expanded) when name is non-empty,
 * "${name:text}" when it is empty or undefined.  With MAC_EXP_RECURSE a
 * looked-up value is expanded in turn, as main.cf values are.  Postfix
 * 3.x's ${name?{a}:{b}} and relational forms are not supported.
 *
 * Bounds: every byte of input is scanned at most once per nesting level;
 * nesting (braces plus recursion) is at most depth_limit deep, at most
 * MAC_STEP_LIMIT names are expanded in one call (so values that refer to
 * each other cannot multiply the work), and the output stops at
 * out_limit bytes.
 */
#ifndef MX_UTIL_MAC_H
#define MX_UTIL_MAC_H

#include <stddef.h>

#include "util/str.h"

enum mac_token { MAC_LITERAL, MAC_EXPR };

/* most names expanded by one mac_expand() call */
#define MAC_STEP_LIMIT	10000

/* longest name looked up */
#define MAC_NAME_MAX	127

/*
 * mac_parse - call fn for each literal run and expression of text[0..len):
 * 0, fn's first non-zero return, or MAC_ERR_SYNTAX with *why set.
 */
typedef int (*mac_parse_fn) (enum mac_token kind, const char *text, size_t len,
			             void *ctx);
int     mac_parse(const char *text, size_t len, mac_parse_fn fn, void *ctx,
		          const char **why);

enum mac_status {
    MAC_OK = 0,
    MAC_ERR_SYNTAX = -1,		/* bad reference */
    MAC_ERR_UNDEF = -2,			/* lookup() said NULL for $name */
    MAC_ERR_DEPTH = -3,			/* nested deeper than depth_limit */
    MAC_ERR_LIMIT = -4,			/* output cut at out_limit */
    MAC_ERR_STEPS = -5,			/* more than MAC_STEP_LIMIT names */
};

#define MAC_EXP_RECURSE	(1<<0)		/* expand looked-up values too */

struct mac_expander {
    const char *(*lookup) (const char *name, void *ctx);
    void   *ctx;
    int     flags;
    int     depth_limit;
    size_t  out_limit;
    const char *what;			/* "parameter": for messages */
};

/*
 * mac_expand - append text with its expressions expanded to out.
 * MAC_OK, or an error with a message in why (when not NULL); after
 * MAC_ERR_LIMIT out holds the first out_limit bytes.
 */
int     mac_expand(struct buf *out, const char *text, const struct mac_expander *x,
		           struct buf *why);

#endif
