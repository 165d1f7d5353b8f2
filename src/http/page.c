/*
 * page.c - the dashboard page and the JSON document it polls.
 *
 * The page (src/http/dashboard.html: HTML with its script and style
 * inline, nothing fetched from elsewhere) is assembled into the binary
 * as it is, so that the daemon serves it without a file to install.
 */
#include <string.h>
#include <time.h>

#include "http/history.h"
#include "http/page.h"
#include "stats/stats.h"
#include "stats/topn.h"
#include "util/str.h"

__asm__(".pushsection .rodata\n"
	".global mx_dashboard_html\n"
	"mx_dashboard_html:\n"
	".incbin \"src/http/dashboard.html\"\n"
	".global mx_dashboard_html_end\n"
	"mx_dashboard_html_end:\n"
	".popsection\n");

extern const char mx_dashboard_html[];
extern const char mx_dashboard_html_end[];

/* http_page - the embedded page */
const char *http_page(size_t *len)
{
    *len = (size_t) (mx_dashboard_html_end - mx_dashboard_html);
    return mx_dashboard_html;
}

#define TOP_SHOWN	10

/* put_top - the largest entries of a top-N table as a JSON array */
static void put_top(const struct topn *t, struct buf *out)
{
    struct topn_entry e[TOP_SHOWN];
    size_t  n = topn_top(t, e, TOP_SHOWN);

    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
	buf_puts(out, i ? ",{\"key\":" : "{\"key\":");
	buf_json_str(out, e[i].key);
	buf_printf(out, ",\"count\":%llu,\"error\":%llu}", (unsigned long long) e[i].count,
		   (unsigned long long) e[i].error);
    }
    buf_putc(out, ']');
}

/* put_dnslists - each DNS list's health and answers */
static void put_dnslists(struct buf *out)
{
    static const char *const results[] = {"listed", "not_listed", "tempfail", "refused"};
    const char *v[STAT_MAX_LABELS];
    int64_t up;

    buf_puts(out, "[");
    for (size_t i = 0; stat_series(STAT_DNSLIST_UP, i, v, &up); i++) {
	const char *list = v[0];

	buf_puts(out, i ? ",{\"list\":" : "{\"list\":");
	buf_json_str(out, list);
	buf_printf(out, ",\"up\":%lld", (long long) up);
	for (size_t r = 0; r < sizeof(results) / sizeof(results[0]); r++)
	    buf_printf(out, ",\"%s\":%lld", results[r],
		       (long long) stat_get_l(STAT_DNSLIST_CHECKS,
					      (const char *const[]) {list, results[r]}));
	buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

/* http_dashboard_json - everything the page shows */
void    http_dashboard_json(struct history *h, struct buf *out)
{
    time_t  now = time(NULL);

    buf_puts(out, "{\"version\":1,");
    history_json(h, now, out);
    buf_puts(out, ",\"dnslists\":");
    put_dnslists(out);
    buf_puts(out, ",\"top_clients\":");
    put_top(&top_rejected_clients, out);
    buf_puts(out, ",\"top_senders\":");
    put_top(&top_rejected_senders, out);
    buf_printf(out, ",\"totals\":{\"connections\":%lld,\"answers\":%lld,"
	       "\"dns_queries\":%lld,\"dns_cache_hits\":%lld}}\n",
	       (long long) stat_get(STAT_CONNECTIONS), (long long) stat_get(STAT_ANSWERS),
	       (long long) stat_get(STAT_DNS_QUERIES), (long long) stat_get(STAT_DNS_CACHE_HITS));
}
