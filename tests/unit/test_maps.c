/*
 * test_maps.c - every table type, its file format and its errors, and
 * map_refresh().
 *
 * Table files are written to a temporary directory.  Every write gives the
 * file a modification time of its own, so that a rewrite of the same size
 * within one clock tick is still a change that map_refresh() can see.  In
 * expected messages "@F@" stands for the table file's path.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "maps/map.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/str.h"

static char dir[64];
static struct buf logged;		/* what the code under test logged */
static time_t stamp = 1000000000;	/* next modification time */

/* capture - collect log lines */
static void capture(const char *level, const char *text, void *ctx)
{
    (void) ctx;
    buf_printf(&logged, "%s%s%s\n", level, *level ? ": " : "", text);
}

/* count_logged - how many log lines contain text */
static int count_logged(const char *text)
{
    int     n = 0;

    for (const char *cp = logged.s; (cp = strstr(cp, text)) != NULL; cp++)
	n++;
    return n;
}

/* file - the path of a table file (valid until the next call) */
static const char *file(const char *name)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

/* write_bytes - (re)write a table file with a modification time of its own */
static void write_bytes(const char *name, const char *data, size_t len)
{
    const char *path = file(name);
    struct timespec ts[2];
    FILE   *fp;

    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    ts[0].tv_sec = ts[1].tv_sec = stamp;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    stamp += 10;
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void write_file(const char *name, const char *text)
{
    write_bytes(name, text, strlen(text));
}

/* subst - replace @F@ with the path of a table file */
static char *subst(const char *text, const char *name)
{
    struct buf b;
    const char *cp = text, *hit;

    buf_init(&b);
    while ((hit = strstr(cp, "@F@")) != NULL) {
	buf_append(&b, cp, (size_t) (hit - cp));
	buf_puts(&b, file(name));
	cp = hit + 3;
    }
    buf_puts(&b, cp);
    return buf_steal(&b);
}

/* open_spec - open "type:name" as given, or fail */
static struct map *open_spec(const char *spec)
{
    char    err[1024];
    struct map *m;

    err[0] = 0;
    if ((m = map_open(spec, err, sizeof(err))) == NULL)
	fail_msg("map_open(\"%s\"): %s", spec, err);
    assert_string_equal(map_spec(m), spec);
    return m;
}

/* open_file - open "type:DIR/name", or fail */
static struct map *open_file(const char *type, const char *name)
{
    char    spec[300];

    snprintf(spec, sizeof(spec), "%s:%s", type, file(name));
    return open_spec(spec);
}

/* spec_err - map_open(spec) must fail with exactly this message */
static void spec_err(const char *spec, const char *want)
{
    char    err[1024];
    struct map *m;

    err[0] = 0;
    m = map_open(spec, err, sizeof(err));
    if (m != NULL)
	fail_msg("map_open(\"%s\") succeeded, expected \"%s\"", spec, want);
    assert_string_equal(err, want);
}

/* table_err - a table file with this text is refused with this message */
static void table_err(const char *type, const char *text, const char *want)
{
    char    spec[300];
    char   *w;

    write_file("bad", text);
    snprintf(spec, sizeof(spec), "%s:%s", type, file("bad"));
    w = subst(want, "bad");
    spec_err(spec, w);
    free(w);
}

/* expect - look up key: want is the value, or NULL for not found */
static void expect(struct map *m, const char *key, const char *want)
{
    const char *value = NULL;
    enum map_result r = map_get(m, key, &value);

    if (want == NULL) {
	if (r != MAP_NOTFOUND)
	    fail_msg("%s: \"%s\": expected not found, got %d \"%s\"",
		     map_spec(m), key, r, r == MAP_FOUND ? value : "");
	return;
    }
    if (r != MAP_FOUND)
	fail_msg("%s: \"%s\": expected \"%s\", got %d", map_spec(m), key, want, r);
    assert_string_equal(value, want);
}

/* one_table - write text as a table of this type, look up key */
static void one_table(const char *type, const char *text, const char *key,
		              const char *want)
{
    struct map *m;

    write_file("one", text);
    m = open_file(type, "one");
    expect(m, key, want);
    map_free(m);
}

 /*
  * Fixed-string tables.
  */
static void test_texthash_format(void **state)
{
    (void) state;
    struct map *m;
    char   *w;

    write_file("text",
	       "# a comment\n"				/* 1 */
	       "   # an indented comment\n"		/* 2 */
	       "\n"					/* 3 */
	       "KEY1\tvalue one\n"			/* 4 */
	       "Mixed.Example.COM   spaced value   with  inner  blanks   \t\n"
	       "cont\tfirst part\n"			/* 6 */
	       "\tsecond part\n"			/* 7 */
	       "# a comment inside a continued line\n"	/* 8 */
	       "  third part\n"				/* 9 */
	       "dup\tfirst\n"				/* 10 */
	       "DUP\tsecond\n"				/* 11 */
	       "novalue\n"				/* 12 */
	       "tab\tvalue\twith tab\n"			/* 13 */
	       "crlf value\r\n"				/* 14 */
	       "last no-newline");			/* 15 */
    buf_reset(&logged);
    m = open_file("texthash", "text");
    assert_false(map_is_pattern(m));

    /* keys are folded to lower case, on load and on lookup */
    expect(m, "key1", "value one");
    expect(m, "KEY1", "value one");
    expect(m, "Key1", "value one");
    expect(m, "mixed.example.com", "spaced value   with  inner  blanks");
    expect(m, "MIXED.example.Com", "spaced value   with  inner  blanks");
    /* continuation lines, with a comment in between */
    expect(m, "cont", "first part second part third part");
    /* the first of duplicate keys is kept, and the second reported */
    expect(m, "dup", "first");
    assert_int_equal(count_logged("warning:"), 2);
    w = subst("warning: @F@, line 11: duplicate entry: \"dup\"; keeping the first",
	      "text");
    assert_int_equal(count_logged(w), 1);
    free(w);
    /* a key without value is skipped, with a warning */
    expect(m, "novalue", NULL);
    w = subst("warning: @F@, line 12: expected format: key whitespace value; "
	      "ignoring this line", "text");
    assert_int_equal(count_logged(w), 1);
    free(w);
    expect(m, "tab", "value\twith tab");
    expect(m, "crlf", "value");
    expect(m, "last", "no-newline");
    /* no partial, prefix or comment matches */
    expect(m, "key", NULL);
    expect(m, "key1 ", NULL);
    expect(m, "#", NULL);
    expect(m, "", NULL);
    expect(m, "second", NULL);
    map_free(m);
}

static void test_texthash_size(void **state)
{
    (void) state;
    struct buf text;
    char    key[400], value[32];
    struct map *m;

    /* enough keys to grow the table several times, and a long key */
    buf_init(&text);
    for (int i = 0; i < 2000; i++)
	buf_printf(&text, "Key%d value%d\n", i, i);
    memset(key, 'K', 300);
    key[300] = 0;
    buf_printf(&text, "%s long\n", key);
    write_file("big", text.s);
    buf_free(&text);
    m = open_file("texthash", "big");
    for (int i = 0; i < 2000; i++) {
	snprintf(key, sizeof(key), "KEY%d", i);
	snprintf(value, sizeof(value), "value%d", i);
	expect(m, key, value);
    }
    expect(m, "key2000", NULL);
    expect(m, "key-1", NULL);
    memset(key, 'k', 300);
    key[300] = 0;
    expect(m, key, "long");
    key[299] = 0;
    expect(m, key, NULL);
    map_free(m);

    /* an empty table is a table */
    write_file("empty", "");
    m = open_file("texthash", "empty");
    expect(m, "anything", NULL);
    map_free(m);
}

static void test_texthash_errors(void **state)
{
    (void) state;
    char   *spec, *want;

    spec = subst("texthash:@F@", "missing");
    want = subst("table texthash:@F@: open @F@: No such file or directory", "missing");
    spec_err(spec, want);
    free(spec);
    free(want);
    write_bytes("bad", "a b\nc d\0e\n", 10);
    spec = subst("texthash:@F@", "bad");
    want = subst("table texthash:@F@: @F@, line 2: NUL character in text", "bad");
    spec_err(spec, want);
    free(spec);
    free(want);
}

/* a table line one byte past LINES_LENGTH_LIMIT is refused, naming the line */
static void test_line_limit(void **state)
{
    struct buf text;
    struct map *m;
    char    err[512];
    char   *spec, *want;

    (void) state;
    buf_init(&text);
    buf_puts(&text, "a b\nk ");
    while (text.len < 4 + LINES_LENGTH_LIMIT)
	buf_putc(&text, 'v');
    buf_putc(&text, '\n');
    write_file("long", text.s);
    spec = subst("texthash:@F@", "long");
    m = map_open(spec, err, sizeof(err));
    assert_non_null(m);
    map_free(m);
    buf_reset(&text);
    buf_puts(&text, "a b\nk ");
    while (text.len < 4 + LINES_LENGTH_LIMIT + 1)
	buf_putc(&text, 'v');
    write_file("long", text.s);
    want = subst("table texthash:@F@: @F@, line 2: line too long (more than 65536 bytes)",
		 "long");
    spec_err(spec, want);
    free(spec);
    free(want);
    buf_free(&text);
}

static void test_source_in(void **state)
{
    (void) state;
    static const char *const types[] = {"hash", "btree", "lmdb"};
    char    spec[300];
    char   *w;
    struct map *m;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
	/* FILE absent: FILE.in, the source a postmap step would read */
	unlink(file("src"));
	write_file("src.in", "Key from-in\n");
	m = open_file(types[i], "src");
	assert_false(map_is_pattern(m));
	expect(m, "KEY", "from-in");
	/* ... and that is the file watched */
	assert_int_equal(map_refresh(m), 0);
	write_file("src.in", "key changed-in\n");
	assert_int_equal(map_refresh(m), 1);
	expect(m, "key", "changed-in");
	map_free(m);

	/* FILE present: FILE, not FILE.in */
	write_file("src", "key from-file\n");
	m = open_file(types[i], "src");
	expect(m, "key", "from-file");
	map_free(m);

	/* neither: the error names FILE */
	snprintf(spec, sizeof(spec), "%s:@F@", types[i]);
	w = subst(spec, "none");
	snprintf(spec, sizeof(spec), "table %s: open %s: No such file or directory",
		 w, file("none"));
	spec_err(w, spec);
	free(w);
    }

    /* texthash reads FILE only */
    unlink(file("src"));
    w = subst("texthash:@F@", "src");
    snprintf(spec, sizeof(spec), "table %s: open %s: No such file or directory",
	     w, file("src"));
    spec_err(w, spec);
    free(w);
}

static void test_inline(void **state)
{
    (void) state;
    struct map *m;

    m = open_spec("inline:{a=b, {c = d e}}");
    assert_false(map_is_pattern(m));
    expect(m, "a", "b");
    expect(m, "A", "b");
    expect(m, "c", "d e");
    expect(m, "d", NULL);
    expect(m, "c ", NULL);
    assert_int_equal(map_refresh(m), 0);
    map_free(m);

    m = open_spec("inline:{ Key1=Value1 , key2=value2,{ key3 = with, comma } ,{k4=x}}");
    expect(m, "key1", "Value1");
    expect(m, "KEY2", "value2");
    expect(m, "key3", "with, comma");
    expect(m, "k4", "x");
    map_free(m);

    /* the first of duplicate keys wins here too */
    buf_reset(&logged);
    m = open_spec("inline:{dup=1, DUP=2}");
    expect(m, "dup", "1");
    assert_int_equal(count_logged("warning: inline table, line 1: "
				  "duplicate entry: \"dup\""), 1);
    map_free(m);

    m = open_spec("inline:{}");
    expect(m, "a", NULL);
    map_free(m);

    spec_err("inline:a=b", "inline table: expected {key=value, ...}");
    spec_err("inline:{a=b", "inline table: expected {key=value, ...}");
    spec_err("inline:{a}", "inline table: missing '=' after \"a\"");
    spec_err("inline:{a=b, c}", "inline table: missing '=' after \"c\"");
    spec_err("inline:{{a=b}", "inline table: missing '}' in \"{{a=b}\"");
    spec_err("inline:{=b}", "inline table: bad key in \"=b\"");
    spec_err("inline:{{a b = c}}", "inline table: bad key in \"a b = c\"");
}

static void test_static(void **state)
{
    (void) state;
    struct map *m;

    m = open_spec("static:REJECT not from here");
    assert_false(map_is_pattern(m));
    expect(m, "anything", "REJECT not from here");
    expect(m, "", "REJECT not from here");
    expect(m, "user@example.com", "REJECT not from here");
    assert_int_equal(map_refresh(m), 0);
    map_free(m);
    spec_err("static:", "table \"static:\": missing table name");
    /* braces hold a value with spaces, as in Postfix */
    m = open_spec("static:{ REJECT go away }");
    expect(m, "anything", "REJECT go away");
    map_free(m);
    spec_err("static:{ }", "table \"static:{ }\": empty value");
}

static void test_types_and_names(void **state)
{
    (void) state;
    static const char *const known[] = {
	"texthash", "hash", "btree", "lmdb", "cidr", "regexp", "pcre", "inline",
	"static",
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	assert_true(map_type_known(known[i]));
    assert_false(map_type_known("mysql"));
    assert_false(map_type_known("proxy"));
    assert_false(map_type_known("hashx"));
    assert_false(map_type_known("has"));
    assert_false(map_type_known(""));

    spec_err("nocolon", "table \"nocolon\": expected type:name");
    spec_err(":name", "table \":name\": expected type:name");
    spec_err("mysql:/etc/postfix/mysql.cf",
	     "table \"mysql:/etc/postfix/mysql.cf\": unsupported table type \"mysql\"");
    spec_err("proxy:hash:/etc/postfix/access",
	     "table \"proxy:hash:/etc/postfix/access\": unsupported table type \"proxy\"");
    spec_err("hash:", "table \"hash:\": missing table name");
    spec_err("cidr:", "table \"cidr:\": missing table name");
}

 /*
  * cidr_table(5).
  */
static void test_cidr(void **state)
{
    (void) state;
    struct map *m;

    write_file("c",
	       "# first match wins\n"
	       "192.0.2.0/24\tnet\n"
	       "192.0.2.1\thost-shadowed\n"
	       "if 10.0.0.0/8\n"
	       "if !10.1.2.0/24\n"
	       "10.1.0.0/16\tten-one-not-two\n"
	       "endif\n"
	       "10.0.0.0/8\tten\n"
	       "endif\n"
	       "10.1.3.4\tafter-the-block\n"
	       "[2001:db8::]/32\tv6-net\n"
	       "[2001:db8:1::1]\tv6-shadowed\n"
	       "::ffff:198.51.100.0/120\tmapped\n"
	       "203.0.113.0/24\tmulti\n"
	       "  line result\n"
	       "0.0.0.0/0\tany-v4\n");
    m = open_file("cidr", "c");
    assert_true(map_is_pattern(m));

    expect(m, "192.0.2.1", "net");
    expect(m, "192.0.2.255", "net");
    /* if / if ! / endif */
    expect(m, "10.1.3.4", "ten-one-not-two");
    expect(m, "10.1.2.4", "ten");
    expect(m, "10.9.9.9", "ten");
    expect(m, "11.0.0.1", "any-v4");
    /* IPv6, brackets in the table */
    expect(m, "2001:db8:1::1", "v6-net");
    expect(m, "2001:DB8:0:0:0:0:0:7", "v6-net");
    expect(m, "2001:db9::1", NULL);
    expect(m, "::1", NULL);
    /* an IPv4-mapped network or key is IPv4 */
    expect(m, "198.51.100.7", "mapped");
    expect(m, "::ffff:192.0.2.1", "net");
    expect(m, "203.0.113.9", "multi line result");
    map_free(m);

    write_file("c", "2001:db8:ffff::1/128  v6 host  with blanks  \n");
    m = open_file("cidr", "c");
    expect(m, "2001:db8:ffff::1", "v6 host  with blanks");
    map_free(m);
}

static void test_cidr_negation_and_family(void **state)
{
    (void) state;
    struct map *m;

    /* an "if" never admits an address of the other family, as in Postfix */
    write_file("c",
	       "IF !192.0.2.0/24\n"
	       "::/0\tv6-never\n"
	       "203.0.113.0/24\tv4-outside\n"
	       "ENDIF\n"
	       "192.0.2.0/24\tv4-inside\n"
	       "::/0\tv6-fallback\n");
    m = open_file("cidr", "c");
    expect(m, "203.0.113.1", "v4-outside");
    expect(m, "192.0.2.9", "v4-inside");
    expect(m, "2001:db8::1", "v6-fallback");
    expect(m, "198.51.100.1", NULL);
    map_free(m);

    /* "!network result" (Postfix 3.2): same family, outside the network */
    write_file("c",
	       "!198.51.100.0/24\tnot-198\n"
	       "::/0\tv6\n");
    m = open_file("cidr", "c");
    expect(m, "192.0.2.1", "not-198");
    expect(m, "198.51.100.1", NULL);
    expect(m, "2001:db8::1", "v6");
    map_free(m);

    /* "if ! net" with a blank, and "!!" cancelling out */
    write_file("c",
	       "if ! 10.0.0.0/8\n"
	       "0.0.0.0/0\tnot-ten\n"
	       "endif\n"
	       "!!10.0.0.0/8\tten\n");
    m = open_file("cidr", "c");
    expect(m, "11.1.1.1", "not-ten");
    expect(m, "10.1.1.1", "ten");
    map_free(m);
}

static void test_cidr_keys(void **state)
{
    (void) state;
    struct map *m;

    write_file("c", "0.0.0.0/0\tv4\n::/0\tv6\n");
    m = open_file("cidr", "c");
    expect(m, "192.0.2.1", "v4");
    expect(m, "2001:db8::1", "v6");
    /* a key that is not a bare address is not found (Postfix: inet_pton) */
    expect(m, "example.com", NULL);
    expect(m, "unknown", NULL);
    expect(m, "", NULL);
    expect(m, "192.0.2", NULL);
    expect(m, "192.0.2.1 ", NULL);
    expect(m, "[192.0.2.1]", NULL);
    expect(m, "[2001:db8::1]", NULL);
    expect(m, "IPv6:2001:db8::1", NULL);
    expect(m, "user@192.0.2.1", NULL);
    map_free(m);
}

static void test_cidr_errors(void **state)
{
    (void) state;
    table_err("cidr", "192.0.2.0/24 ok\n# comment\n192.0.2.1/24 bad\n",
	      "table cidr:@F@: @F@, line 3: non-null host address bits in "
	      "\"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\" instead");
    table_err("cidr", "192.0.2.0/33 x\n",
	      "table cidr:@F@: @F@, line 1: bad network mask length: \"192.0.2.0/33\"");
    table_err("cidr", "::/0 x\n2001:db8::/129 x\n",
	      "table cidr:@F@: @F@, line 2: bad network mask length: \"2001:db8::/129\"");
    table_err("cidr", "example.com x\n",
	      "table cidr:@F@: @F@, line 1: bad network address: \"example.com\"");
    table_err("cidr", "192.0.2.0/24\n",
	      "table cidr:@F@: @F@, line 1: no lookup result after \"192.0.2.0/24\"");
    table_err("cidr", "[2001:db8::1 x\n",
	      "table cidr:@F@: @F@, line 1: bad network address \"[2001:db8::1\"");
    table_err("cidr", "[2001:db8::1]x y\n",
	      "table cidr:@F@: @F@, line 1: bad network address \"[2001:db8::1]x\"");
    /* the line a continued logical line started on */
    table_err("cidr", "10.0.0.0/8\n  ten\n\n10.0.0.1/8\n  x\n",
	      "table cidr:@F@: @F@, line 4: non-null host address bits in "
	      "\"10.0.0.1/8\", perhaps you should use \"10.0.0.0/8\" instead");
    table_err("cidr", "if 10.0.0.0/8\n10.0.0.0/8 x\n",
	      "table cidr:@F@: @F@: IF has no matching ENDIF");
    table_err("cidr", "if 10.0.0.0/8\nif 10.1.0.0/16\nendif\n",
	      "table cidr:@F@: @F@: IF has no matching ENDIF");
    table_err("cidr", "0.0.0.0/0 x\nendif\n",
	      "table cidr:@F@: @F@, line 2: ignoring ENDIF without matching IF");
    table_err("cidr", "if\nendif\n",
	      "table cidr:@F@: @F@, line 1: expected: if [!]network/length");
    table_err("cidr", "if 10.0.0.0/8 junk\nendif\n",
	      "table cidr:@F@: @F@, line 1: expected: if [!]network/length");
    table_err("cidr", "if 10.0.0.1/8\nendif\n",
	      "table cidr:@F@: @F@, line 1: non-null host address bits in "
	      "\"10.0.0.1/8\", perhaps you should use \"10.0.0.0/8\" instead");
}

 /*
  * regexp_table(5), pcre_table(5).
  */
static void test_regexp_case(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    struct map *m;

    for (size_t i = 0; i < 2; i++) {
	write_file("re",
		   "/^abc$/\tdefault\n"
		   "/^XyZ$/i\tsensitive\n"
		   "/^Two$/ii\ttoggled twice\n");
	m = open_file(types[i], "re");
	assert_true(map_is_pattern(m));
	expect(m, "abc", "default");
	expect(m, "ABC", "default");
	expect(m, "aBc", "default");
	expect(m, "XyZ", "sensitive");
	expect(m, "xyz", NULL);
	expect(m, "XYZ", NULL);
	expect(m, "tWO", "toggled twice");
	expect(m, "abcd", NULL);
	map_free(m);
    }
}

static void test_regexp_negation_and_if(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    struct map *m;

    for (size_t i = 0; i < 2; i++) {
	write_file("re",
		   "if /@example\\.com$/\n"
		   "if !/^postmaster@/\n"
		   "/^([^@]*)@/\tuser $1\n"
		   "ENDIF\n"
		   "/./\tpostmaster-example\n"
		   "endif\n"
		   "!/@/\tno at-sign\n"
		   "/./\tother\n");
	m = open_file(types[i], "re");
	expect(m, "joe@example.com", "user joe");
	expect(m, "JOE@EXAMPLE.COM", "user JOE");
	expect(m, "postmaster@example.com", "postmaster-example");
	expect(m, "joe@example.com.evil", "other");
	expect(m, "joe@other.org", "other");
	expect(m, "local", "no at-sign");
	expect(m, "", "no at-sign");
	map_free(m);
    }
}

static void test_regexp_substitution(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    struct map *m;

    for (size_t i = 0; i < 2; i++) {
	write_file("re",
		   "/^([^@]+)@([^@]+)$/\tlocal=$1 domain=${2} cost=$$5 $(1)x\n"
		   "/^(a)(b)?c$/\t[$2]\n"
		   "/^(x)(y)(z)(w)(v)(u)(t)(s)(r)(q)(p)$/\t$11-$1-${10}\n"
		   "/^lit$/\tprice $$9, $$$$ plain\n"
		   "/^(dot)$/\t$1.example\n");
	m = open_file(types[i], "re");
	expect(m, "Joe@Example.COM", "local=Joe domain=Example.COM cost=$5 Joex");
	expect(m, "ac", "[]");
	expect(m, "abc", "[b]");
	expect(m, "xyzwvutsrqp", "p-x-q");
	expect(m, "lit", "price $9, $$ plain");
	expect(m, "dot", "dot.example");
	/* the result of one lookup does not leak into the next */
	expect(m, "AC", "[]");
	map_free(m);
    }
}

/* a substituted result longer than 64 KiB fails the lookup, never cut short */
static void test_regexp_result_limit(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    struct buf key;
    const char *v;
    struct map *m;

    buf_init(&key);
    for (size_t i = 0; i < 2; i++) {
	/* 64 copies of the key: at most 1024 bytes of key fit */
	write_file("re", "/^(.*)$/ $1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1"
		   "$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1\n");
	m = open_file(types[i], "re");
	buf_reset(&key);
	while (key.len < 1024)
	    buf_putc(&key, 'k');
	assert_int_equal(map_get(m, key.s, &v), MAP_FOUND);
	assert_int_equal(strlen(v), 64 * 1024);
	buf_putc(&key, 'k');
	assert_int_equal(map_get(m, key.s, &v), MAP_ERROR);
	assert_int_equal(count_logged("longer than 65536 bytes"), (int) i + 1);
	assert_int_equal(map_get(m, "k", &v), MAP_FOUND);
	assert_int_equal(strlen(v), 64);
	map_free(m);
    }
    buf_free(&key);
}

static void test_regexp_errors(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    char    want[300];

    for (size_t i = 0; i < 2; i++) {
	const char *t = types[i];

#define RE_ERR(text, msg) do { \
	snprintf(want, sizeof(want), "table %s:@F@: @F@, %s", t, (msg)); \
	table_err(t, (text), want); \
    } while (0)

	RE_ERR("# comment\n/ok/ fine\n\n/(a)/ $2\n",
	       "line 4: out of range replacement index \"2\"");
	RE_ERR("/(a)/ $0\n", "line 1: out of range replacement index \"0\"");
	RE_ERR("/(a)(b)/ ${3}\n", "line 1: out of range replacement index \"3\"");
	RE_ERR("/(a)/ ${99999}\n", "line 1: out of range replacement index \"99999\"");
	RE_ERR("/(a)/ $18446744073709551617\n",
	       "line 1: out of range replacement index \"18446744073709551617\"");
	RE_ERR("/a/q x\n", "line 1: unknown pattern flag 'q'");
	RE_ERR("/a/\n", "line 1: no lookup result after the pattern");
	RE_ERR("/abc x\n", "line 1: missing closing delimiter '/'");
	RE_ERR("!/(a)/ $1\n", "line 1: $number in result of a negated pattern");
	RE_ERR("/(a)/ ${1\n", "line 1: bad $ substitution in \"${1\"");
	RE_ERR("/(a)/ $(1\n", "line 1: bad $ substitution in \"$(1\"");
	RE_ERR("/(a)/ ${}\n", "line 1: bad $ substitution in \"${}\"");
	RE_ERR("/(a)/ $ 1\n", "line 1: bad $ substitution in \"$ 1\"");
	RE_ERR("/(a)/ cost $\n", "line 1: bad $ substitution in \"cost $\"");
	RE_ERR("/(a)/ $x\n", "line 1: bad $ substitution in \"$x\"");
	RE_ERR("/(a)/ $1x\n", "line 1: bad $ substitution in \"$1x\"");
	RE_ERR("/(a)/ $-1\n", "line 1: bad $ substitution in \"$-1\"");
	RE_ERR("/(a)/ ${+1}\n", "line 1: bad $ substitution in \"${+1}\"");
	RE_ERR("if /a/ junk\nendif\n", "line 1: text after IF pattern: \"junk\"");
	RE_ERR("/a/ x\nendif\n", "line 2: ENDIF without matching IF");
	RE_ERR("\\a\\ x\n", "line 1: expected /pattern/");
	snprintf(want, sizeof(want), "table %s:@F@: @F@: IF has no matching ENDIF", t);
	table_err(t, "if /a/\n/b/ x\n", want);
	snprintf(want, sizeof(want), "table %s:@F@: @F@, line 2: bad pattern \"a(\": "
		 "missing closing parenthesis at offset 2", t);
	table_err(t, "/ok/ x\n/a(/ x\n", want);
#undef RE_ERR
    }
    /* flags only pcre has */
    for (const char *f = "sAEUX"; *f; f++) {
	char    text[32];

	snprintf(text, sizeof(text), "/a/%c x\n", *f);
	snprintf(want, sizeof(want),
		 "table regexp:@F@: @F@, line 1: unknown pattern flag '%c'", *f);
	table_err("regexp", text, want);
    }
}

static void test_regexp_delimiters(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    struct map *m;

    for (size_t i = 0; i < 2; i++) {
	write_file("re",
		   "@^a/b$@\tslash inside\n"
		   "|^x\\|y$|\tescaped delimiter\n"
		   "/^c\\/d$/\tescaped slash\n"
		   "%^p\\%q$%\tescaped percent\n"
		   ".^d\\.t$.\tescaped dot\n"
		   "/^back\\\\slash$/\tbackslash\n"
		   "/^has space$/\tspace in pattern\n");
	m = open_file(types[i], "re");
	expect(m, "a/b", "slash inside");
	/* an escaped delimiter is a literal character, as in Postfix */
	expect(m, "x|y", "escaped delimiter");
	expect(m, "x", NULL);
	expect(m, "y", NULL);
	expect(m, "c/d", "escaped slash");
	expect(m, "p%q", "escaped percent");
	expect(m, "d.t", "escaped dot");
	expect(m, "dot", NULL);
	expect(m, "back\\slash", "backslash");
	expect(m, "has space", "space in pattern");
	map_free(m);
    }
    /* a line that starts with '#' is a comment, whatever follows */
    one_table("regexp", "#^a#\tcomment\n/^a$/\tpattern\n", "a", "pattern");
}

static void test_regexp_flags(void **state)
{
    (void) state;
    /* m: ^ and $ at line ends (both types) */
    one_table("regexp", "/^two$/m x\n", "one\ntwo", "x");
    one_table("regexp", "/^two$/ x\n", "one\ntwo", NULL);
    one_table("pcre", "/^two$/m x\n", "one\ntwo", "x");
    one_table("pcre", "/^two$/ x\n", "one\ntwo", NULL);
    /* regexp's x (POSIX basic syntax) is accepted without effect */
    one_table("regexp", "/^a b$/x x\n", "a b", "x");
    /* pcre: s, x, A, E, U, X */
    one_table("pcre", "/^one.two$/s x\n", "one\ntwo", "x");
    one_table("pcre", "/^one.two$/ x\n", "one\ntwo", NULL);
    one_table("pcre", "/^a b$/x x\n", "ab", "x");
    one_table("pcre", "/^a b$/x x\n", "a b", NULL);
    one_table("pcre", "/b/A x\n", "bc", "x");
    one_table("pcre", "/b/A x\n", "ab", NULL);
    one_table("pcre", "/b/ x\n", "ab", "x");
    one_table("pcre", "/^a$/E x\n", "a\n", NULL);
    one_table("pcre", "/^a$/ x\n", "a\n", "x");
    one_table("pcre", "/^(a+)/U $1\n", "aaa", "a");
    one_table("pcre", "/^(a+)/ $1\n", "aaa", "aaa");
    one_table("pcre", "/^a/X x\n", "a", "x");
    /* flags combine: case-sensitive and ungreedy */
    one_table("pcre", "/^(A+)/iU $1\n", "AAA", "A");
    one_table("pcre", "/^(A+)/iU $1\n", "aaa", NULL);
}

static void test_regexp_match_error(void **state)
{
    (void) state;
    static const char *const types[] = {"regexp", "pcre"};
    char    key[80];
    const char *value;
    struct map *m;

    /* catastrophic backtracking hits PCRE2's match limit: an error, not a miss */
    memset(key, 'a', 60);
    strcpy(key + 60, "!");
    for (size_t i = 0; i < 2; i++) {
	write_file("re", "/^(a|aa)+$/\tboom\n/./\tany\n");
	m = open_file(types[i], "re");
	value = NULL;
	assert_int_equal(map_get(m, key, &value), MAP_ERROR);
	assert_null(value);
	expect(m, "b", "any");
	expect(m, "aaaa", "boom");
	map_free(m);
    }
}

 /*
  * map_refresh().
  */
static void test_refresh(void **state)
{
    (void) state;
    struct map *m;
    char   *w;

    write_file("r", "a one\n");
    m = open_file("texthash", "r");
    buf_reset(&logged);
    assert_int_equal(map_refresh(m), 0);
    assert_int_equal(map_refresh(m), 0);
    expect(m, "a", "one");

    /* a different size */
    write_file("r", "a two\nb three\n");
    assert_int_equal(map_refresh(m), 1);
    expect(m, "a", "two");
    expect(m, "b", "three");
    assert_int_equal(map_refresh(m), 0);

    /* the same size, another modification time */
    write_file("r", "a six\nb three\n");
    assert_int_equal(map_refresh(m), 1);
    expect(m, "a", "six");
    assert_int_equal(map_refresh(m), 0);
    w = subst("table texthash:@F@: reloaded @F@", "r");
    assert_int_equal(count_logged(w), 2);
    free(w);
    map_free(m);
}

static void test_refresh_broken(void **state)
{
    (void) state;
    struct map *m;
    char   *w;

    write_file("r", "192.0.2.0/24 old\n");
    m = open_file("cidr", "r");
    expect(m, "192.0.2.1", "old");
    buf_reset(&logged);

    /* a broken edit: the old contents stay, the failure is logged once */
    write_file("r", "192.0.2.0/24 new\n192.0.2.1/24 broken\n");
    assert_int_equal(map_refresh(m), -1);
    expect(m, "192.0.2.1", "old");
    assert_int_equal(map_refresh(m), -1);
    expect(m, "192.0.2.1", "old");
    w = subst("warning: table cidr:@F@: reload failed: @F@, line 2: non-null host "
	      "address bits in \"192.0.2.1/24\", perhaps you should use "
	      "\"192.0.2.0/24\" instead; keeping the previous contents", "r");
    assert_int_equal(count_logged(w), 1);
    assert_int_equal(count_logged("warning:"), 1);
    free(w);

    /* another broken edit is reported again */
    write_file("r", "if 10.0.0.0/8\n");
    assert_int_equal(map_refresh(m), -1);
    assert_int_equal(count_logged("reload failed"), 2);
    expect(m, "192.0.2.1", "old");

    /* the repair is loaded */
    write_file("r", "192.0.2.0/24 new\n");
    assert_int_equal(map_refresh(m), 1);
    expect(m, "192.0.2.1", "new");
    assert_int_equal(map_refresh(m), 0);

    /* and a later good edit too */
    write_file("r", "192.0.2.0/24 newer\n");
    assert_int_equal(map_refresh(m), 1);
    expect(m, "192.0.2.1", "newer");
    map_free(m);
}

static void test_refresh_removed(void **state)
{
    (void) state;
    struct map *m;
    char   *w;

    write_file("r", "/^a$/ old\n");
    m = open_file("regexp", "r");
    buf_reset(&logged);

    /* an editor replacing the file: keep serving, say so once */
    assert_int_equal(unlink(file("r")), 0);
    assert_int_equal(map_refresh(m), -1);
    assert_int_equal(map_refresh(m), -1);
    expect(m, "a", "old");
    w = subst("warning: table regexp:@F@: @F@: No such file or directory; "
	      "keeping the previous contents", "r");
    assert_int_equal(count_logged(w), 1);
    free(w);

    write_file("r", "/^a$/ back\n");
    assert_int_equal(map_refresh(m), 1);
    expect(m, "a", "back");
    assert_int_equal(map_refresh(m), 0);
    map_free(m);
}

static int setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/mxshield-maps-XXXXXX");
    if (mkdtemp(dir) == NULL)
	return -1;
    buf_init(&logged);
    log_capture(capture, NULL);
    return 0;
}

static int teardown(void **state)
{
    char    cmd[128];

    (void) state;
    log_capture(NULL, NULL);
    buf_free(&logged);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_texthash_format),
	cmocka_unit_test(test_texthash_size),
	cmocka_unit_test(test_texthash_errors),
	cmocka_unit_test(test_line_limit),
	cmocka_unit_test(test_source_in),
	cmocka_unit_test(test_inline),
	cmocka_unit_test(test_static),
	cmocka_unit_test(test_types_and_names),
	cmocka_unit_test(test_cidr),
	cmocka_unit_test(test_cidr_negation_and_family),
	cmocka_unit_test(test_cidr_keys),
	cmocka_unit_test(test_cidr_errors),
	cmocka_unit_test(test_regexp_case),
	cmocka_unit_test(test_regexp_negation_and_if),
	cmocka_unit_test(test_regexp_substitution),
	cmocka_unit_test(test_regexp_errors),
	cmocka_unit_test(test_regexp_result_limit),
	cmocka_unit_test(test_regexp_delimiters),
	cmocka_unit_test(test_regexp_flags),
	cmocka_unit_test(test_regexp_match_error),
	cmocka_unit_test(test_refresh),
	cmocka_unit_test(test_refresh_broken),
	cmocka_unit_test(test_refresh_removed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
