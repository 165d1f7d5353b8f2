/*
 * test_greylist.c - postgrey's algorithm with a controllable clock, its
 * key normalisation, reply texts and whitelist file formats; the stored
 * records' bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greylist/greylist.h"

static const struct gl_conf conf = {
    .delay = 300, .max_age = 35 * 86400, .retry_window = 2 * 86400,
    .awl_clients = 5, .ipv4_prefix = 24, .ipv6_prefix = 64,
};

/* attempt - one delivery attempt; the records are updated as stored */
static enum gl_verdict attempt(struct gl_triplet *t, int *have_t, struct gl_client *c,
			               int *have_c, int64_t now, struct gl_decision *d)
{
    gl_decide(&conf, now, *have_t ? t : NULL, *have_c ? c : NULL, d);
    if (d->write_triplet) {
	*t = d->triplet;
	*have_t = 1;
    }
    if (d->write_client) {
	*c = d->client;
	*have_c = 1;
    }
    return d->verdict;
}

static void test_delay_and_retry(void **state)
{
    struct gl_triplet t;
    struct gl_client c;
    struct gl_decision d;
    int     ht = 0, hc = 0;
    int64_t t0 = 1700000000;

    (void) state;
    /* first attempt: deferred for the whole delay */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0, &d), GL_GREYLIST);
    assert_int_equal(d.wait, 300);
    /* too early: the rest of the delay */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0 + 120, &d), GL_GREYLIST);
    assert_int_equal(d.wait, 180);
    assert_int_equal(t.first, t0);
    /* after the delay: passes, first time with the delay for the header */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0 + 301, &d), GL_PASS_FIRST);
    assert_int_equal(d.delayed, 301);
    /* and then plainly */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0 + 400, &d), GL_PASS);
    /* the first success counted for the client */
    assert_true(hc);
    assert_int_equal(c.count, 1);
}

static void test_retry_window(void **state)
{
    struct gl_triplet t;
    struct gl_client c;
    struct gl_decision d;
    int     ht = 0, hc = 0;
    int64_t t0 = 1700000000;

    (void) state;
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0, &d), GL_GREYLIST);
    /* the first retry comes after the two-day window: start over */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t0 + 2 * 86400 + 1, &d), GL_GREYLIST);
    assert_int_equal(d.wait, 300);
    assert_int_equal(t.first, t0 + 2 * 86400 + 1);
    /* a passed triplet is not subject to the window */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t.first + 300, &d), GL_PASS_FIRST);
    assert_int_equal(attempt(&t, &ht, &c, &hc, t.first + 20 * 86400, &d), GL_PASS);
    /* but is forgotten after max-age without a visit */
    assert_int_equal(attempt(&t, &ht, &c, &hc, t.last + 36 * 86400, &d), GL_GREYLIST);
}

static void test_auto_whitelist(void **state)
{
    struct gl_client c;
    struct gl_decision d;
    int     hc = 0;
    int64_t now = 1700000000;

    (void) state;
    /* five successful new triplets, an hour or more apart */
    for (int i = 0; i < 5; i++) {
	struct gl_triplet t;
	int     ht = 0;

	assert_int_equal(attempt(&t, &ht, &c, &hc, now, &d), GL_GREYLIST);
	assert_int_equal(attempt(&t, &ht, &c, &hc, now + 300, &d), GL_PASS_FIRST);
	assert_int_equal(c.count, i + 1);
	assert_int_equal(d.newly_whitelisted, i == 4);
	now += 3600;
    }
    /* now any triplet from the client passes at once */
    struct gl_triplet t;
    int     ht = 0;

    assert_int_equal(attempt(&t, &ht, &c, &hc, now, &d), GL_PASS_AWL);
    assert_false(ht);
}

static void test_awl_counts_once_an_hour(void **state)
{
    struct gl_client c;
    struct gl_decision d;
    int     hc = 0;
    int64_t now = 1700000000;

    (void) state;
    for (int i = 0; i < 10; i++) {
	struct gl_triplet t;
	int     ht = 0;

	attempt(&t, &ht, &c, &hc, now, &d);
	attempt(&t, &ht, &c, &hc, now + 300, &d);
	now += 60;			/* ten within the same hour */
    }
    assert_int_equal(c.count, 1);
}

static void test_expiry_rules(void **state)
{
    struct gl_triplet pending = {1000, 1000}, passed = {1000, 1400};
    struct gl_client cl = {3, 1000};

    (void) state;
    assert_false(gl_triplet_expired(&conf, 1000 + 2 * 86400, &pending));
    assert_true(gl_triplet_expired(&conf, 1000 + 2 * 86400 + 1, &pending));
    assert_false(gl_triplet_expired(&conf, 1400 + 35 * 86400, &passed));
    assert_true(gl_triplet_expired(&conf, 1400 + 35 * 86400 + 1, &passed));
    assert_false(gl_client_expired(&conf, 1000 + 35 * 86400, &cl));
    assert_true(gl_client_expired(&conf, 1000 + 35 * 86400 + 1, &cl));
}

static void test_sender_normalisation(void **state)
{
    static const char *cases[][2] = {
	{"Alice@Example.ORG", "alice@example.org"},
	{"bounce+list=123@lists.example", "bounce@lists.example"},
	{"prvs=1234567890=alice@example.org", "alice@example.org"},
	{"prvs=alice=1234567890@example.org", "alice@example.org"},
	{"user-12345-67@example.org", "user-#-#@example.org"},
	{"abc123@example.org", "abc123@example.org"},
	{"123@example.org", "#@example.org"},
	{"", ""},
	{"no-at-sign", "no-at-sign"},
	/* spans of the sender, not copies: each edge of them */
	{"PRVS=1234567890=Alice@Example.ORG", "alice@example.org"},
	{"prvs=Alice=ABCDEFGHIJ@example.org", "alice@example.org"},
	{"prvs=short=alice@example.org", "alice@example.org"},
	{"prvs=a=b=c@example.org", "prvs=a=b=c@example.org"},
	{"prvs=@example.org", "prvs=@example.org"},
	{"7+12@example.org", "#@example.org"},
	{"a_1 2b 3@x@example.org", "a_1 2b #@x@example.org"},
	{"12-34_5x.6@example.org", "#-34_5x.#@example.org"},
	{"+123@example.org", "@example.org"},
    };
    struct buf b;

    (void) state;
    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	gl_sender_normalise(cases[i][0], &b);
	assert_string_equal(b.s, cases[i][1]);
    }
    buf_free(&b);
}

static void test_keys(void **state)
{
    struct buf b;
    struct gl_conf host = conf, priv = conf;

    (void) state;
    host.by_host = 1;
    priv.privacy = 1;
    buf_init(&b);
    assert_int_equal(gl_triplet_key(&conf, "192.0.2.77", NULL, "A+x@Ex.ORG", "Bob@Our.Test", &b), 0);
    assert_string_equal(b.s, "192.0.2.0/a@ex.org/bob@our.test");
    assert_int_equal(gl_triplet_key(&conf, "2001:db8:1:2:3::9", NULL, "a@b", "c@d", &b), 0);
    assert_string_equal(b.s, "2001:db8:1:2::/a@b/c@d");
    assert_int_equal(gl_triplet_key(&host, "192.0.2.77", NULL, "a@b", "c@d", &b), 0);
    assert_string_equal(b.s, "192.0.2.77/a@b/c@d");
    assert_int_equal(gl_triplet_key(&priv, "192.0.2.77", NULL, "a@b", "c@d", &b), 0);
    assert_int_equal(b.len, 40);		/* SHA-1 hex */
    assert_null(strchr(b.s, '@'));
    assert_int_equal(gl_triplet_key(&conf, "not-an-address", NULL, "a@b", "c@d", &b), -1);
    /* SPF passed: the authorised domain replaces the network */
    assert_int_equal(gl_triplet_key(&conf, "192.0.2.77", "big.example", "a@big.example", "c@d", &b), 0);
    assert_string_equal(b.s, "spf:big.example/a@big.example/c@d");
    assert_int_equal(gl_client_key(&conf, "::ffff:192.0.2.77", &b), 0);
    assert_string_equal(b.s, "192.0.2.77");

    /* a key LMDB could not hold is stored as its hash */
    char    longuser[600];

    memset(longuser, 'u', sizeof(longuser));
    strcpy(longuser + 500, "@example.org");
    assert_int_equal(gl_triplet_key(&conf, "192.0.2.77", NULL, longuser, "c@d", &b), 0);
    assert_int_equal(b.len, 40);
    longuser[GL_KEY_MAX - 40] = 0;		/* well below: kept as it is */
    strcat(longuser, "@example.org");
    assert_int_equal(gl_triplet_key(&conf, "192.0.2.77", NULL, longuser, "c@d", &b), 0);
    assert_non_null(strstr(b.s, "@example.org/c@d"));

    /* the manual whitelist's network key: the configured prefix, whatever
     * the triplets key on; hashed with privacy; IPv4-mapped is IPv4 */
    assert_int_equal(gl_whitelist_net_key(&conf, "192.0.2.77", &b), 0);
    assert_string_equal(b.s, "192.0.2.0/24");
    assert_int_equal(gl_whitelist_net_key(&host, "192.0.2.77", &b), 0);
    assert_string_equal(b.s, "192.0.2.0/24");
    assert_int_equal(gl_whitelist_net_key(&conf, "::ffff:192.0.2.77", &b), 0);
    assert_string_equal(b.s, "192.0.2.0/24");
    assert_int_equal(gl_whitelist_net_key(&conf, "2001:db8:1:2:3::9", &b), 0);
    assert_string_equal(b.s, "2001:db8:1:2::/64");
    assert_int_equal(gl_whitelist_net_key(&priv, "192.0.2.77", &b), 0);
    assert_int_equal(b.len, 40);
    assert_int_equal(gl_whitelist_net_key(&conf, "nonsense", &b), -1);
    buf_free(&b);
}

static void test_texts(void **state)
{
    struct buf b;

    (void) state;
    buf_init(&b);
    gl_expand_text("Greylisted, see http://postgrey.schweikert.ch/help/%r.html", 300,
		   "bob@our.test", &b);
    assert_string_equal(b.s, "Greylisted, see http://postgrey.schweikert.ch/help/our.test.html");
    gl_expand_text("wait %s seconds (%s) for %r", 42, "x@y.z", &b);
    assert_string_equal(b.s, "wait 42 seconds (%s) for y.z");
    gl_expand_header("X-Greylist: delayed %t seconds by mxshield-%v at %h; %d", 305,
		     "mx.our.test", 0, &b);
    assert_non_null(strstr(b.s, "X-Greylist: delayed 305 seconds by mxshield-"));
    assert_non_null(strstr(b.s, " at mx.our.test; "));
    assert_non_null(strstr(b.s, "1970"));
    buf_free(&b);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char   *path = malloc(strlen(dir) + strlen(name) + 2);
    FILE   *fp;

    sprintf(path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void test_whitelist_formats(void **state)
{
    char    dir[] = "/tmp/mxgltest.XXXXXX";
    char    err[512], files[1024], rfiles[1024];
    struct gl_whitelist *w;

    (void) state;
    assert_non_null(mkdtemp(dir));
    char   *clients = write_file(dir, "clients",
				 "# postgrey whitelist\n"
				 "example.org   # a host name and its subdomains\n"
				 "/^mail[0-9]+\\.bulk\\.test$/\n"
				 "198.51.100.7\n"
				 "203.0.113.0/25\n"
				 "192.0.2\n"
				 "10.20\n"
				 "2001:db8:5::/48\n");
    char   *rcpts = write_file(dir, "recipients",
			       "postmaster@\nabuse@our.test\nlists.test\n/^noreply-.*@/\n");

    snprintf(files, sizeof(files), "%s, %s/clients.local", clients, dir);
    snprintf(rfiles, sizeof(rfiles), "%s %s/recipients.local", rcpts, dir);
    w = gl_whitelist_load(files, rfiles, err, sizeof(err));
    assert_non_null(w);
    const char *C = "client whitelist", *R = "recipient whitelist";

    assert_string_equal(gl_whitelist_match(w, "mx1.example.org", "203.0.113.200", "a@b.c"), C);
    assert_string_equal(gl_whitelist_match(w, "example.org", "203.0.113.200", "a@b.c"), C);
    assert_null(gl_whitelist_match(w, "badexample.org", "203.0.113.200", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "MAIL12.bulk.test", "203.0.113.200", "a@b.c"), C);
    assert_null(gl_whitelist_match(w, "mailx.bulk.test", "203.0.113.200", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "198.51.100.7", "a@b.c"), C);
    assert_null(gl_whitelist_match(w, "unknown", "198.51.100.8", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "203.0.113.127", "a@b.c"), C);
    assert_null(gl_whitelist_match(w, "unknown", "203.0.113.128", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "192.0.2.250", "a@b.c"), C);
    assert_string_equal(gl_whitelist_match(w, "unknown", "10.20.30.40", "a@b.c"), C);
    assert_null(gl_whitelist_match(w, "unknown", "10.21.30.40", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "2001:db8:5:ffff::1", "a@b.c"), C);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "Postmaster@any.test"), R);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "abuse+x@our.test"), R);
    assert_null(gl_whitelist_match(w, "unknown", "9.9.9.9", "abuse@other.test"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "x@lists.test"), R);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "x@a.lists.test"), R);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "noreply-7@x.test"), R);
    assert_null(gl_whitelist_match(w, "unknown", "9.9.9.9", "bob@x.test"));

    /* which entry matched, to log: file:line and the pattern */
    const char *entry = NULL;
    char    want[1200];

    assert_string_equal(gl_whitelist_match_entry(w, "MAIL12.bulk.test", "203.0.113.200",
						 "a@b.c", &entry), C);
    snprintf(want, sizeof(want), "%s:3 /^mail[0-9]+\\.bulk\\.test$/", clients);
    assert_string_equal(entry, want);
    assert_string_equal(gl_whitelist_match_entry(w, "unknown", "203.0.113.127", "a@b.c",
						 &entry), C);
    snprintf(want, sizeof(want), "%s:5 203.0.113.0/25", clients);
    assert_string_equal(entry, want);
    assert_string_equal(gl_whitelist_match_entry(w, "x.example.org", "9.9.9.9", "a@b.c",
						 &entry), C);
    snprintf(want, sizeof(want), "%s:2 example.org", clients);
    assert_string_equal(entry, want);
    assert_string_equal(gl_whitelist_match_entry(w, "unknown", "9.9.9.9", "x@a.lists.test",
						 &entry), R);
    snprintf(want, sizeof(want), "%s:3 lists.test", rcpts);
    assert_string_equal(entry, want);

    /* the .local file appears: reloaded */
    sleep(1);
    free(write_file(dir, "clients.local", "9.9.9.9\n"));
    gl_whitelist_refresh(w);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "bob@x.test"), C);
    /* a broken edit keeps the old contents */
    free(write_file(dir, "clients.local", "/(unclosed/\n"));
    gl_whitelist_refresh(w);
    assert_string_equal(gl_whitelist_match(w, "unknown", "9.9.9.9", "bob@x.test"), C);
    gl_whitelist_free(w);

    /* a missing file that is not .local is an error */
    snprintf(files, sizeof(files), "%s/nonexistent", dir);
    assert_null(gl_whitelist_load(files, "", err, sizeof(err)));
    assert_non_null(strstr(err, "nonexistent"));

    char    cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(clients);
    free(rcpts);
}

static void test_debian_whitelist_loads(void **state)
{
    char    err[512];
    struct gl_whitelist *w;
    const char *path = "/etc/postgrey/whitelist_clients";

    (void) state;
    if (access(path, R_OK) != 0)
	skip();
    w = gl_whitelist_load(path, "/etc/postgrey/whitelist_recipients", err, sizeof(err));
    assert_non_null(w);
    /* entries of Debian's file: a host name and a regular expression */
    assert_non_null(gl_whitelist_match(w, "mx.debian.org", "198.51.100.1", "a@b.c"));
    assert_null(gl_whitelist_match(w, "mx.nowhere.test", "198.51.100.1", "a@b.c"));
    assert_non_null(gl_whitelist_match(w, "unknown", "198.51.100.1", "postmaster@our.test"));
    gl_whitelist_free(w);
}

/* the stored bytes: fixed, whatever the host; format 1 read by length;
 * anything else refused */
static void test_record_with_client(void **state)
{
    struct gl_triplet t = {1700000000, 1700000300}, t2;
    struct inet_addr a, b;
    unsigned char out[STORE_VALUE_MAX];
    size_t  n;

    (void) state;
    /* IPv4: the 18 bytes of the fields, then 4 and the address */
    assert_int_equal(inet_parse("192.0.2.9", &a), 0);
    n = gl_triplet_encode_client(&t, &a, out);
    assert_int_equal(n, 23);
    assert_int_equal(out[18], 4);
    assert_memory_equal(out + 19, "\xc0\x00\x02\x09", 4);
    assert_int_equal(gl_triplet_decode_client(out, n, &t2, &b), STORE_VALUE_OK);
    assert_true(t2.first == t.first && t2.last == t.last);
    assert_int_equal(b.family, a.family);
    assert_memory_equal(b.b, a.b, 4);
    /* the plain decoder reads it too (greylisting, expiry) */
    assert_int_equal(gl_triplet_decode(out, n, &t2), STORE_VALUE_OK);
    assert_true(t2.last == t.last);

    /* IPv6: 6 and 16 bytes */
    assert_int_equal(inet_parse("2001:db8::1", &a), 0);
    n = gl_triplet_encode_client(&t, &a, out);
    assert_int_equal(n, 35);
    assert_int_equal(gl_triplet_decode_client(out, n, &t2, &b), STORE_VALUE_OK);
    assert_int_equal(b.family, a.family);
    assert_memory_equal(b.b, a.b, 16);

    /* without a client: the 18 bytes, family 0 */
    assert_int_equal(gl_triplet_decode_client(out, 18, &t2, &b), STORE_VALUE_OK);
    assert_int_equal(b.family, 0);

    /* refused: a wrong tag or a truncated address */
    out[18] = 4;
    assert_int_equal(gl_triplet_decode_client(out, 35, &t2, &b), STORE_VALUE_BAD);
    out[18] = 6;
    assert_int_equal(gl_triplet_decode_client(out, 34, &t2, &b), STORE_VALUE_BAD);
    assert_int_equal(gl_triplet_decode_client(out, 19, &t2, &b), STORE_VALUE_BAD);
}

static void test_record_encoding(void **state)
{
    static const unsigned char trip[18] = {
	1, 1, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0, 0x65, 0x53, 0xf2, 0x2c,
    };
    static const unsigned char client[18] = {
	1, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
    };
    static const unsigned char wl[10] = {1, 3, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00};
    struct gl_triplet t = {1700000000, 1700000300}, t2;
    struct gl_client c = {7, 1700000000}, c2;
    unsigned char out[STORE_VALUE_MAX], bad[18];
    int64_t when = 0;

    (void) state;
    assert_int_equal(gl_triplet_encode(&t, out), 18);
    assert_memory_equal(out, trip, 18);
    assert_int_equal(gl_triplet_decode(out, 18, &t2), STORE_VALUE_OK);
    assert_true(t2.first == t.first && t2.last == t.last);
    assert_int_equal(gl_client_encode(&c, out), 18);
    assert_memory_equal(out, client, 18);
    assert_int_equal(gl_client_decode(out, 18, &c2), STORE_VALUE_OK);
    assert_true(c2.count == 7 && c2.last == c.last);
    assert_int_equal(gl_wl_entry_encode(1700000000, out), 10);
    assert_memory_equal(out, wl, 10);
    assert_int_equal(gl_wl_entry_decode(out, 10, &when), STORE_VALUE_OK);
    assert_true(when == 1700000000);

    /* format 1: the host's struct */
    memset(&t2, 0, sizeof(t2));
    assert_int_equal(gl_triplet_decode(&t, sizeof(t), &t2), STORE_VALUE_LEGACY);
    assert_true(t2.first == t.first && t2.last == t.last);
    assert_int_equal(gl_client_decode(&c, sizeof(c), &c2), STORE_VALUE_LEGACY);
    assert_true(c2.count == 7);
    assert_int_equal(gl_wl_entry_decode(&t.first, 8, &when), STORE_VALUE_LEGACY);

    /* refused: another kind, version or length; a negative or huge field */
    assert_int_equal(gl_client_decode(trip, 18, &c2), STORE_VALUE_BAD);
    assert_int_equal(gl_triplet_decode(trip, 17, &t2), STORE_VALUE_BAD);
    assert_int_equal(gl_triplet_decode(trip, 0, &t2), STORE_VALUE_BAD);
    assert_int_equal(gl_triplet_decode(NULL, 0, &t2), STORE_VALUE_BAD);
    memcpy(bad, trip, 18);
    bad[0] = 2;
    assert_int_equal(gl_triplet_decode(bad, 18, &t2), STORE_VALUE_BAD);
    memcpy(bad, trip, 18);
    bad[2] = 0x80;			/* first < 0 */
    assert_int_equal(gl_triplet_decode(bad, 18, &t2), STORE_VALUE_BAD);
    memcpy(bad, trip, 18);
    bad[3] = 0x01;			/* first = 2^48 + ...: past STORE_FIELD_MAX */
    assert_int_equal(gl_triplet_decode(bad, 18, &t2), STORE_VALUE_BAD);
    t2.first = INT64_MIN;
    t2.last = 0;
    assert_int_equal(gl_triplet_decode(&t2, 16, &t), STORE_VALUE_BAD);
}

/* a prefix length is digits within the family's width, or the line is ignored */
static void test_whitelist_bad_lengths(void **state)
{
    char    dir[] = "/tmp/mxgltest.XXXXXX";
    char    err[512], cmd[128];
    struct gl_whitelist *w;

    (void) state;
    assert_non_null(mkdtemp(dir));
    char   *clients = write_file(dir, "clients",
				 "2001:db8::/x\n"
				 "2001:db8::/4294967296\n"
				 "10.0.0.0/4294967304\n"
				 "172.16.0.0/-8\n"
				 "198.51.100.0/99999999999999999999999\n"
				 "192.0.2.0/33\n"
				 "203.0.113.0/24\n");

    w = gl_whitelist_load(clients, "", err, sizeof(err));
    assert_non_null(w);
    assert_null(gl_whitelist_match(w, "unknown", "2001:db9::1", "a@b.c"));
    assert_null(gl_whitelist_match(w, "unknown", "10.1.2.3", "a@b.c"));
    assert_null(gl_whitelist_match(w, "unknown", "172.17.0.1", "a@b.c"));
    assert_null(gl_whitelist_match(w, "unknown", "198.51.100.1", "a@b.c"));
    assert_null(gl_whitelist_match(w, "unknown", "192.0.2.1", "a@b.c"));
    assert_string_equal(gl_whitelist_match(w, "unknown", "203.0.113.9", "a@b.c"),
			"client whitelist");
    gl_whitelist_free(w);
    free(clients);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_delay_and_retry),
	cmocka_unit_test(test_retry_window),
	cmocka_unit_test(test_auto_whitelist),
	cmocka_unit_test(test_awl_counts_once_an_hour),
	cmocka_unit_test(test_expiry_rules),
	cmocka_unit_test(test_sender_normalisation),
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_texts),
	cmocka_unit_test(test_whitelist_formats),
	cmocka_unit_test(test_whitelist_bad_lengths),
	cmocka_unit_test(test_debian_whitelist_loads),
	cmocka_unit_test(test_record_encoding),
	cmocka_unit_test(test_record_with_client),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
