/*
 * greylist_cmd.c - `mxshield greylist`: look at and manage the greylisting
 * database, also while the daemon runs (LMDB allows several processes).
 *
 *   mxshield greylist [-c FILE] list [--client ADDR] [--sender S] [--recipient R]
 *   mxshield greylist [-c FILE] stats
 *   mxshield greylist [-c FILE] whitelist add|del ADDR|NET/LEN
 *   mxshield greylist [-c FILE] whitelist list
 *   mxshield greylist [-c FILE] purge [--all]
 *   mxshield greylist [-c FILE] import-postgrey DIR
 *   mxshield greylist [-c FILE] migrate --to redis|lmdb
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/greylist_cmd.h"
#include "cli/greylist_migrate.h"
#include "cli/import_postgrey.h"
#include "cli/load.h"
#include "cli/scan.h"
#include "conf/config.h"
#include "greylist/greylist.h"
#include "rules/policy.h"
#include "store/store.h"
#include "util/inet.h"
#include "util/log.h"
#include "util/mem.h"

struct list_ctx {
    const struct gl_conf *g;
    const char *client, *sender, *recipient;
    struct buf net, snd;
    long    shown;
};

/* iso_time - a stored time as an ISO 8601 date in UTC */
static void iso_time(int64_t when, char *out, size_t len)
{
    time_t  t = (time_t) when;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	snprintf(out, len, "%lld", (long long) when);
}

static int list_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct list_ctx *x = arg;
    struct gl_triplet t;
    struct inet_addr client;
    char    k[1024], first[32], last[32], who[1024] = "";
    struct buf net;

    if (gl_triplet_decode_client(val, vlen, &t, &client) == STORE_VALUE_BAD
	|| klen >= sizeof(k))
	return 0;
    memcpy(k, key, klen);
    k[klen] = 0;
    if (client.family)			/* kept by an SPF-domain key */
	inet_format(&client, who, sizeof(who));

    /* net/sender/recipient (the sender has no '/' once normalised) */
    char   *s1 = strchr(k, '/');
    char   *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

    if (s1 && s2) {
	*s1 = *s2 = 0;
	if (*who == 0 && strncmp(k, "spf:", 4) != 0)
	    snprintf(who, sizeof(who), "%s", k);	/* the key's network */
	if (x->client) {
	    /* the network of the client kept, else the key's own */
	    buf_init(&net);
	    if (client.family == 0 || gl_client_net(x->g, who, &net) < 0)
		buf_puts(&net, k);
	    int     same = strcmp(net.s, x->net.s) == 0;

	    buf_free(&net);
	    if (!same)
		return 0;
	}
	if ((x->sender && strcmp(s1 + 1, x->snd.s) != 0)
	    || (x->recipient && strcasecmp(s2 + 1, x->recipient) != 0))
	    return 0;
	printf("%s %s %s", k, s1 + 1, s2 + 1);
    } else {
	if (x->sender || x->recipient)
	    return 0;			/* hashed keys (greylist_privacy) */
	if (x->client) {
	    buf_init(&net);
	    int     same = client.family && gl_client_net(x->g, who, &net) == 0
	    && strcmp(net.s, x->net.s) == 0;

	    buf_free(&net);
	    if (!same)
		return 0;
	}
	printf("%s", k);
    }
    iso_time(t.first, first, sizeof(first));
    iso_time(t.last, last, sizeof(last));
    printf(" first=%s last=%s %s", first, last,
	   t.last - t.first >= x->g->delay ? "passed" : "pending");
    if (*who)
	printf(" client=%s", who);
    putchar('\n');
    x->shown++;
    return 0;
}

struct stats_ctx {
    const struct gl_conf *g;
    int64_t now;
    long    triplets, pending, passed, never_retried, awl, clients;
    struct strlist pairs;		/* "sender/recipient net" */
};

static int stats_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct stats_ctx *x = arg;
    struct gl_triplet t;

    if (gl_triplet_decode(val, vlen, &t) == STORE_VALUE_BAD)
	return 0;
    x->triplets++;
    if (t.last - t.first >= x->g->delay) {
	x->passed++;
    } else {
	x->pending++;
	if (t.first == t.last && x->now - t.last > x->g->delay)
	    x->never_retried++;
    }
    const char *k = key, *slash = memchr(k, '/', klen);

    if (slash) {
	struct buf b;

	buf_init(&b);
	buf_append(&b, slash + 1, klen - (size_t) (slash + 1 - k));
	buf_putc(&b, ' ');
	buf_append(&b, k, (size_t) (slash - k));
	strlist_add(&x->pairs, b.s);
	buf_free(&b);
    }
    return 0;
}

static int clients_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct stats_ctx *x = arg;
    struct gl_client c;

    (void) key;
    (void) klen;
    if (gl_client_decode(val, vlen, &c) == STORE_VALUE_BAD)
	return 0;
    x->clients++;
    if (x->g->awl_clients > 0 && c.count >= x->g->awl_clients)
	x->awl++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* other_networks - sender/recipient pairs seen from more than one network */
static long other_networks(struct strlist *pairs)
{
    long    n = 0;

    if (pairs->n < 2)
	return 0;
    qsort(pairs->v, pairs->n, sizeof(*pairs->v), cmp_str);
    for (size_t i = 0; i < pairs->n;) {
	const char *sp = strrchr(pairs->v[i], ' ');
	size_t  plen = (size_t) (sp - pairs->v[i]);
	size_t  j = i + 1;

	while (j < pairs->n && strncmp(pairs->v[j], pairs->v[i], plen + 1) == 0)
	    j++;
	if (j - i > 1)
	    n++;
	i = j;
    }
    return n;
}

static int print_key(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void) arg;
    (void) val;
    (void) vlen;
    printf("%.*s\n", (int) klen, (const char *) key);
    return 0;
}

struct purge_ctx {
    int     all;
    long    n;
};

static int purge_all_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct purge_ctx *x = arg;

    (void) key;
    (void) klen;
    (void) val;
    (void) vlen;
    x->n++;
    return 1;
}

/* status_cb - what a write came to */
static void status_cb(void *arg, enum store_status st, const void *val, size_t len)
{
    (void) val;
    (void) len;
    *(enum store_status *) arg = st;
}

/* whitelist_key - an address, or the client network as the keys use it */
static int whitelist_key(const struct gl_conf *g, const char *entry, struct buf *out)
{
    const char *slash = strchr(entry, '/');

    if (slash == NULL)
	return gl_client_key(g, entry, out);
    struct cidr c;
    char    why[256], text[64];

    if (cidr_parse(entry, &c, why, sizeof(why)) < 0) {
	fprintf(stderr, "mxshield greylist: %s\n", why);
	return -1;
    }
    int     want = c.net.family == AF_INET ? g->ipv4_prefix : g->ipv6_prefix;

    if (c.len != want) {
	fprintf(stderr, "mxshield greylist: a network must be the /%d that greylisting "
		"keys on (greylist_ipv%d_prefix)\n", want, c.net.family == AF_INET ? 4 : 6);
	return -1;
    }
    inet_format(&c.net, text, sizeof(text));
    return gl_whitelist_net_key(g, text, out);	/* as greylisting looks it up */
}

int     cmd_greylist(struct policy *pol, int argc, char **argv)
{
    const struct config *c = pol->conf;
    struct gl_conf g;
    struct store *s;

    greylist_conf(c, &g);
    if (argc < 1) {
	fprintf(stderr, "usage: mxshield greylist [-c FILE] list|stats|whitelist|purge|import-postgrey|migrate ...\n");
	return 2;
    }
    if (strcmp(argv[0], "list") == 0) {
	struct list_ctx x;

	memset(&x, 0, sizeof(x));
	x.g = &g;
	buf_init(&x.net);
	buf_init(&x.snd);
	for (int i = 1; i < argc; i++) {
	    if (i + 1 < argc && strcmp(argv[i], "--client") == 0) {
		x.client = argv[++i];
		if (gl_client_net(&g, x.client, &x.net) < 0) {
		    fprintf(stderr, "mxshield greylist: \"%s\" is not an address\n", x.client);
		    return 2;
		}
	    } else if (i + 1 < argc && strcmp(argv[i], "--sender") == 0) {
		x.sender = argv[++i];
		gl_sender_normalise(x.sender, &x.snd);
	    } else if (i + 1 < argc && strcmp(argv[i], "--recipient") == 0) {
		x.recipient = argv[++i];
	    } else {
		fprintf(stderr, "usage: mxshield greylist list [--client ADDR] [--sender S] [--recipient R]\n");
		return 2;
	    }
	}
	s = load_store(c, LOAD_STORE_CONFIGURED, 1);
	scan_all(s, "triplets", list_fn, &x);
	store_close(s);
	buf_free(&x.net);
	buf_free(&x.snd);
	return 0;
    }
    if (strcmp(argv[0], "stats") == 0) {
	struct stats_ctx x;

	memset(&x, 0, sizeof(x));
	x.g = &g;
	x.now = time(NULL);
	strlist_init(&x.pairs);
	s = load_store(c, LOAD_STORE_CONFIGURED, 1);
	scan_all(s, "triplets", stats_fn, &x);
	scan_all(s, "clients", clients_fn, &x);
	store_close(s);
	printf("triplets: %ld\n", x.triplets);
	printf("pending: %ld\n", x.pending);
	printf("passed: %ld\n", x.passed);
	printf("never retried: %ld\n", x.never_retried);
	if (g.privacy)
	    printf("retried from another network: unknown (greylist_privacy)\n");
	else
	    printf("retried from another network: %ld\n", other_networks(&x.pairs));
	printf("clients counted: %ld\n", x.clients);
	printf("auto-whitelisted clients: %ld\n", x.awl);
	strlist_free(&x.pairs);
	return 0;
    }
    if (strcmp(argv[0], "whitelist") == 0) {
	struct buf key;
	int     rc = 0;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
	    s = load_store(c, LOAD_STORE_CONFIGURED, 1);
	    scan_all(s, "whitelist", print_key, NULL);
	    store_close(s);
	    return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0)) {
	    fprintf(stderr, "usage: mxshield greylist whitelist add|del ADDR|NET/LEN, "
		    "or whitelist list\n");
	    return 2;
	}
	buf_init(&key);
	if (whitelist_key(&g, argv[2], &key) < 0) {
	    if (!strchr(argv[2], '/'))
		fprintf(stderr, "mxshield greylist: \"%s\" is not an address\n", argv[2]);
	    buf_free(&key);
	    return 2;
	}
	s = load_store(c, LOAD_STORE_CONFIGURED, 0);
	enum store_status st = STORE_ERROR;

	if (strcmp(argv[1], "add") == 0) {
	    unsigned char val[STORE_VALUE_MAX];

	    store_put(s, "whitelist", key.s, key.len, val,
		      gl_wl_entry_encode((int64_t) time(NULL), val), status_cb, &st);
	} else {
	    store_del(s, "whitelist", key.s, key.len, status_cb, &st);
	}
	store_close(s);			/* commits whatever is pending */
	if (st == STORE_OK) {
	    printf("%s: %s\n", strcmp(argv[1], "add") == 0 ? "whitelisted" : "removed", key.s);
	} else if (st == STORE_NOTFOUND) {
	    fprintf(stderr, "mxshield greylist: not whitelisted: %s\n", argv[2]);
	    rc = 1;
	} else {
	    fprintf(stderr, "mxshield greylist: %s %s: database write failed\n", argv[1], argv[2]);
	    rc = 1;
	}
	buf_free(&key);
	return rc;
    }
    if (strcmp(argv[0], "import-postgrey") == 0) {
	int     rc;

	if (argc != 2) {
	    fprintf(stderr, "usage: mxshield greylist import-postgrey POSTGREY_DBDIR\n");
	    return 2;
	}
	s = load_store(c, LOAD_STORE_CONFIGURED, 0);
	rc = greylist_import_postgrey(c, &g, s, argv[1]);
	store_sync(s);
	store_close(s);
	return rc;
    }
    if (strcmp(argv[0], "migrate") == 0)
	return greylist_migrate(c, &g, argc, argv);
    if (strcmp(argv[0], "purge") == 0) {
	int     all = argc == 2 && strcmp(argv[1], "--all") == 0;

	if (argc > 2 || (argc == 2 && !all)) {
	    fprintf(stderr, "usage: mxshield greylist purge [--all]\n");
	    return 2;
	}
	s = load_store(c, LOAD_STORE_CONFIGURED, 0);
	if (all) {
	    struct purge_ctx x = {1, 0};

	    scan_all(s, "triplets", purge_all_fn, &x);
	    scan_all(s, "clients", purge_all_fn, &x);
	    printf("purged: %ld records\n", x.n);
	} else {
	    struct greylist_cursor cur;
	    long    n, total = 0;
	    int     done[2] = {0, 0};

	    /* each step goes on in both tables; stop once each has reached
	     * its end (a table that has wraps around, its records kept) */
	    memset(&cur, 0, sizeof(cur));
	    do {
		n = greylist_expire_step(s, c, (long long) time(NULL), &cur, 10000);
		if (n < 0)
		    msg_fatal("purge failed");
		total += n;
		for (int i = 0; i < 2; i++)
		    done[i] |= cur.len[i] == 0;
	    } while (!done[0] || !done[1]);
	    printf("expired: %ld records\n", total);
	}
	store_sync(s);
	store_close(s);
	return 0;
    }
    fprintf(stderr, "usage: mxshield greylist [-c FILE] list|stats|whitelist|purge|import-postgrey|migrate ...\n");
    return 2;
}
