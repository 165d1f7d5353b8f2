/*
 * dnscache.c - the DNS answer cache under a unique-name load: insertions
 * and lookups timed in windows while the cache fills and then evicts, so
 * that a cliff (a scan, a flush) shows as a slow window or a drop in hits.
 *
 *   make build/mxshield-dnscache
 *   build/mxshield-dnscache [BYTES [NAMES [WINDOW]]]
 *
 * Each step inserts the answer (one A record) of a new name, then looks up
 * the name inserted 1,000 steps before (a hit) and one never inserted (a
 * miss).  Prints one line per window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dns/cache.h"
#include "dns/dns.h"
#include "util/mem.h"

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

int     main(int argc, char **argv)
{
    size_t  bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : 32u << 20;
    long    names = argc > 2 ? atol(argv[2]) : 1000000;
    long    window = argc > 3 ? atol(argv[3]) : 100000;
    struct dns_cache *c = dns_cache_new(bytes);
    double  worst = 0, total = 0;
    char    key[96];

    printf("cache of %zu bytes, %ld unique names, windows of %ld\n", bytes, names, window);
    printf("%10s %10s %12s %10s %10s %14s\n", "names", "entries", "bytes", "ns/step", "hits",
	   "slowest (us)");
    for (long w = 0; w < names / window; w++) {
	long    hits = 0;
	double  t0 = now_ns(), slowest = 0;

	for (long i = w * window; i < (w + 1) * window; i++) {
	    struct dns_answer *a;
	    double  s0 = now_ns();

	    snprintf(key, sizeof(key), "1/%ld.bench.example", i);
	    a = dns_answer_new(key + 2, DNS_T_A, DNS_OK, NULL);
	    a->ttl = 3600;
	    a->rr = xcalloc(1, sizeof(*a->rr));
	    a->rr[0].addr.family = AF_INET;
	    a->n = 1;
	    dns_cache_put(c, key, a, 1000);
	    dns_answer_unref(a);
	    snprintf(key, sizeof(key), "1/%ld.bench.example", i - 1000);
	    hits += dns_cache_get(c, key, 1000) != NULL;
	    snprintf(key, sizeof(key), "1/%ld.miss.example", i);
	    hits += dns_cache_get(c, key, 1000) != NULL;
	    if (now_ns() - s0 > slowest)
		slowest = now_ns() - s0;
	}
	double  ns = (now_ns() - t0) / (double) window;

	total += ns;
	if (ns > worst)
	    worst = ns;
	printf("%10ld %10zu %12zu %10.0f %10ld %14.1f\n", (w + 1) * window, dns_cache_count(c),
	       dns_cache_bytes(c), ns, hits, slowest / 1e3);
    }
    printf("mean %.0f ns/step, slowest window %.0f ns/step\n",
	   total / (double) (names / window), worst);
    dns_cache_free(c);
    return 0;
}
