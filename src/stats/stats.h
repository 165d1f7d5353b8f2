/*
 * stats.h - the statistics registry: every counter of the daemon, one row each.
 *
 * X(id, "name", KIND, nlabels, "label,names", "help")
 *
 * KIND is COUNTER (only goes up; the name ends in _total), GAUGE (a level
 * that goes up and down) or HISTOGRAM (observations in seconds, counted in
 * the fixed buckets of stat_hist_bounds[]; unlabelled only).  Names follow
 * Prometheus's conventions, so that the metrics endpoint can print them as
 * they are.  A family with labels keeps one series per distinct set of
 * label values, at most STAT_MAX_SERIES of them: later label sets are
 * counted in one series whose values are all "other", so a peer can never
 * grow the registry.  Label values are copied when a series is created.
 *
 * The daemon is single-threaded: an update is a plain increment (inline
 * for unlabelled families; a hash lookup for labelled ones, allocating
 * only when a new series appears).  Updates from other threads are not
 * supported.
 *
 * stats_render() writes one "name{label="v",...} value" line per series;
 * stats_render_prometheus() adds # HELP and # TYPE lines (the text
 * exposition format); stats_iter_*() walks the same series for other
 * formats.  stats_reset() sets everything back to zero (tests).
 */
#ifndef MX_STATS_STATS_H
#define MX_STATS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define MX_STATS(X) \
    /* Policy service (src/policy, src/daemon) */ \
    X(CONNECTIONS, "mxshield_connections_total", COUNTER, 0, "", \
      "Policy client connections accepted") \
    X(CONNECTIONS_OPEN, "mxshield_connections_open", GAUGE, 0, "", \
      "Policy client connections open now") \
    X(CONNECTIONS_REFUSED, "mxshield_connections_refused_total", COUNTER, 0, "", \
      "Policy client connections refused at policy_connection_limit") \
    X(LIMIT_DROPS, "mxshield_limit_drops_total", COUNTER, 1, "limit", \
      "Connections closed because a client went past a limit, by the limit's parameter name") \
    X(ANSWERS, "mxshield_answers_total", COUNTER, 0, "", \
      "Policy answers written to clients") \
    /* Milter (src/milter) */ \
    X(MILTER_CONNECTIONS, "mxshield_milter_connections_total", COUNTER, 0, "", \
      "Milter connections accepted") \
    X(MILTER_CONNECTIONS_OPEN, "mxshield_milter_connections_open", GAUGE, 0, "", \
      "Milter connections open now") \
    X(MILTER_MESSAGES, "mxshield_milter_messages_total", COUNTER, 1, "action", \
      "Messages decided by the milter, by action (accept, quarantine, reject, tempfail, skipped)") \
    X(MILTER_DMARC, "mxshield_milter_dmarc_total", COUNTER, 1, "result", \
      "DMARC results of the milter (pass, fail, none, temperror, permerror)") \
    /* Restriction engine (src/rules/engine.c) */ \
    X(REQUESTS, "mxshield_requests_total", COUNTER, 2, "protocol_state,action", \
      "Policy requests evaluated, by Postfix's protocol_state (CONNECT, HELO, MAIL, RCPT, DATA, ...) and the kind of the final action (ok, dunno, reject, defer, ...)") \
    X(DECISIONS, "mxshield_decisions_total", COUNTER, 3, "stage,restriction,action", \
      "Definitive answers of a restriction (permit, reject, defer), by stage and restriction") \
    X(DECISION_SECONDS, "mxshield_decision_seconds", HISTOGRAM, 0, "", \
      "Time a policy decision waited (DNS, store) before its answer, in seconds; one made at once counts as 0") \
    /* Greylisting (src/rules/greylisting.c) */ \
    X(GREYLIST_RESULTS, "mxshield_greylist_results_total", COUNTER, 1, "result", \
      "Greylisting verdicts, by result (deferred, passed_first, passed, auto_whitelisted)") \
    X(GREYLIST_PENDING, "mxshield_greylist_pending_triplets", GAUGE, 0, "", \
      "Greylisted triplets not yet retried after greylist_delay, as of the last full expiry pass") \
    /* DNS (src/dns) */ \
    X(DNS_QUERIES, "mxshield_dns_queries_total", COUNTER, 0, "", \
      "DNS queries sent to the resolver") \
    X(DNS_SHARED, "mxshield_dns_shared_total", COUNTER, 0, "", \
      "DNS lookups that joined an identical query already in flight") \
    X(DNS_CACHE_HITS, "mxshield_dns_cache_hits_total", COUNTER, 0, "", \
      "DNS lookups answered from the daemon's cache") \
    X(DNS_TIMEOUTS, "mxshield_dns_timeouts_total", COUNTER, 0, "", \
      "DNS queries without an answer after dns_timeout") \
    X(DNS_SERVFAILS, "mxshield_dns_servfails_total", COUNTER, 0, "", \
      "DNS queries answered SERVFAIL") \
    X(DNS_ANSWERS, "mxshield_dns_answers_total", COUNTER, 1, "status", \
      "DNS queries finished, by outcome (ok, nxdomain, nodata, tempfail)") \
    X(DNS_INFLIGHT, "mxshield_dns_queries_inflight", GAUGE, 0, "", \
      "DNS queries waiting for an answer now") \
    X(DNS_QUERY_SECONDS, "mxshield_dns_query_seconds", HISTOGRAM, 0, "", \
      "Time from a DNS query sent to its answer or timeout, in seconds") \
    /* DNS lists (src/rules/dnslists.c) */ \
    X(DNSLIST_CHECKS, "mxshield_dnslist_checks_total", COUNTER, 2, "list,result", \
      "DNS list answers read, by list and result (listed, not_listed, tempfail, refused)") \
    X(DNSLIST_UP, "mxshield_dnslist_up", GAUGE, 1, "list", \
      "1 when the last answer of a DNS list was usable (listed or not), 0 after a temporary failure or a refusal") \
    /* Store (src/store) */ \
    X(STORE_WRITES, "mxshield_store_writes_total", COUNTER, 0, "", \
      "Store writes and deletes requested") \
    X(STORE_COMMITS, "mxshield_store_commits_total", COUNTER, 0, "", \
      "Store transactions committed") \
    X(STORE_ERRORS, "mxshield_store_errors_total", COUNTER, 0, "", \
      "Store writes or commits that failed") \
    X(STORE_COMMIT_SECONDS, "mxshield_store_commit_seconds", HISTOGRAM, 0, "", \
      "Time one store commit took, in seconds") \
    /* Auto-ban and rate limits (src/ban, src/rules/banrestr.c) */ \
    X(BAN_EVENTS, "mxshield_ban_events_total", COUNTER, 1, "event", \
      "Log events counted towards bans, by event (ban_events)") \
    X(BANS, "mxshield_bans_total", COUNTER, 1, "reason", \
      "Bans made, by reason (an event name, manual, escalation)") \
    X(UNBANS, "mxshield_unbans_total", COUNTER, 0, "", \
      "Bans that expired and were removed") \
    X(RATE_LIMITED, "mxshield_rate_limited_total", COUNTER, 1, "what", \
      "Requests over a check_rate limit, by what was counted") \
    X(STORE_REDIS_UP, "mxshield_store_redis_up", GAUGE, 0, "", \
      "1 while the Redis store is connected and answering, 0 while it is not") \
    X(STORE_REDIS_DOWN_SINCE, "mxshield_store_redis_down_since", GAUGE, 0, "", \
      "When the Redis store went down (Unix time), 0 while it is up") \
    X(STORE_REDIS_FAILURES, "mxshield_store_redis_failures_total", COUNTER, 0, "", \
      "Redis connections lost and connection attempts failed (each retried with backoff)") \
    X(STORE_REDIS_TIMEOUTS, "mxshield_store_redis_timeouts_total", COUNTER, 0, "", \
      "Redis commands without a reply within redis_command_timeout (the connection is dropped)") \
    X(STORE_REDIS_FAILED_OPS, "mxshield_store_redis_failed_operations_total", COUNTER, 0, "", \
      "Store reads and writes answered as temporary failures because Redis was down or refused them")

#define STAT_ID(id, name, kind, nl, labels, help) STAT_##id,
enum stat_id {
    MX_STATS(STAT_ID)
    STAT_COUNT
};
#undef STAT_ID

enum stat_kind {
    STAT_KIND_COUNTER,
    STAT_KIND_GAUGE,
    STAT_KIND_HISTOGRAM,
};

#define STAT_MAX_LABELS		4
#define STAT_MAX_SERIES		512	/* per labelled family */
#define STAT_HIST_BUCKETS	10	/* finite bounds; +Inf is implied */

extern const double stat_hist_bounds[STAT_HIST_BUCKETS];

/* The unlabelled counters and gauges (gauges stored as two's complement). */
extern uint64_t stat_value[STAT_COUNT];

/* stat_add - add n to an unlabelled counter; stat_inc - add one */
static inline void stat_add(enum stat_id id, uint64_t n)
{
    stat_value[id] += n;
}

static inline void stat_inc(enum stat_id id)
{
    stat_value[id]++;
}

/* stat_set - set an unlabelled gauge */
static inline void stat_set(enum stat_id id, int64_t v)
{
    stat_value[id] = (uint64_t) v;
}

/* stat_get - an unlabelled counter or gauge (histogram: its count) */
int64_t stat_get(enum stat_id id);

/*
 * Labelled series: values[] holds one value per label of the family, in
 * the order of its row.  stat_inc_l(STAT_DECISIONS, "client", "permit",
 * "permit") is the short form.
 */
void    stat_add_l(enum stat_id id, uint64_t n, const char *const *values);
void    stat_set_l(enum stat_id id, int64_t v, const char *const *values);
int64_t stat_get_l(enum stat_id id, const char *const *values);	/* 0: none */

#define stat_inc_l(id, ...) \
    stat_add_l((id), 1, (const char *const[]) {__VA_ARGS__})

/*
 * A labelled series looked up once and then counted directly, for label
 * sets fixed by the caller (a compiled rule, a fixed word): no hashing of
 * the label values per increment.  A reference is good while
 * stats_generation has not changed (stats_free() starts a new one); a
 * zeroed one is empty.
 */
struct stat_ref {
    uint64_t *cell;
    unsigned gen;
};

extern unsigned stats_generation;

/* stat_cell_l - the value of a labelled counter's series, created on first use */
uint64_t *stat_cell_l(enum stat_id id, const char *const *values);

/* stat_ref_add - add n through ref, finding the series when ref is stale */
static inline void stat_ref_add(struct stat_ref *ref, enum stat_id id, uint64_t n,
				        const char *const *values)
{
    if (ref->cell == NULL || ref->gen != stats_generation) {
	ref->cell = stat_cell_l(id, values);
	ref->gen = stats_generation;
    }
    *ref->cell += n;
}

/* stat_series - series i (from 0, in order of creation) of a labelled
 * family: its label values into values[STAT_MAX_LABELS] and its value;
 * 0 past the last.  Strings valid until stats_free(). */
int     stat_series(enum stat_id id, size_t i, const char **values, int64_t *value);

/* stat_observe - one observation of a histogram, in seconds */
void    stat_observe(enum stat_id id, double seconds);

/* Registry metadata */
const char *stat_name(enum stat_id id);
const char *stat_help(enum stat_id id);
enum stat_kind stat_kind(enum stat_id id);
int     stat_nlabels(enum stat_id id);
const char *stat_kind_name(enum stat_kind kind);	/* counter gauge histogram */
size_t  stat_series_count(enum stat_id id);	/* labelled: series existing */

/*
 * The iterator: one sample per printed line, families in table order,
 * series in order of creation.  A histogram gives its buckets (suffix
 * "_bucket", le in the labels), then "_sum" and "_count".  A labelled
 * family without series gives nothing.  The strings stay valid until the
 * next update of the registry.
 */
struct stat_sample {
    enum stat_id id;
    const char *name;			/* family name */
    const char *suffix;			/* "", "_bucket", "_sum", "_count" */
    enum stat_kind kind;
    const char *help;
    const char *labels;			/* 'a="x",b="y"' or "" (escaped) */
    double  value;
};

struct stats_iter {
    int     family;
    size_t  series;
    int     part;			/* histogram: bucket index, then sum, count */
    char    le[80];			/* histogram label text */
};

void    stats_iter_init(struct stats_iter *it);
int     stats_iter_next(struct stats_iter *it, struct stat_sample *out);

/* stats_render - 'name{labels} value' lines; _prometheus adds HELP/TYPE */
void    stats_render(struct buf *out);
void    stats_render_prometheus(struct buf *out);

void    stats_reset(void);		/* every value back to zero, series kept */
void    stats_free(void);		/* release every series (tests, exit) */

#endif
