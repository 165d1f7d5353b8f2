/*
 * print.c - the report's text: the period, decisions by restriction and
 * reply, the clients and senders rejected most, greylisting, and what
 * warn_if_reject and dry_run would have rejected.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_impl.h"

/* when - a time as local ISO 8601 */
static const char *when(int64_t t, char *out, size_t len)
{
    struct tm tm;
    time_t  tt = (time_t) t;

    localtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S %z", &tm);
    return out;
}

/* field - the i-th tab-separated field of key into out */
static const char *field(const char *key, int i, char *out, size_t len)
{
    const char *s = key, *t;

    while (i-- > 0 && (t = strchr(s, '\t')) != NULL)
	s = t + 1;
    t = strchr(s, '\t');
    snprintf(out, len, "%.*s", (int) (t ? (size_t) (t - s) : strlen(s)), s);
    return out;
}

/* decisions - a table of decisions (or warnings) by restriction and reply */
static void decisions(const struct tally *t, FILE *fp, const char *none)
{
    struct tally_entry **v = tally_sorted(t, 0);
    char    src[16], restr[300], act[32], code[32];

    if (t->n == 0)
	fprintf(fp, "  %s\n", none);
    else
	fprintf(fp, "  %8s  %-8s  %-7s  %-9s  %s\n", "count", "by", "action", "reply",
		"restriction");
    for (size_t i = 0; v[i]; i++)
	fprintf(fp, "  %8ld  %-8s  %-7s  %-9s  %s\n", v[i]->v[0],
		field(v[i]->key, 0, src, sizeof(src)), field(v[i]->key, 2, act, sizeof(act)),
		field(v[i]->key, 3, code, sizeof(code)), field(v[i]->key, 1, restr, sizeof(restr)));
    if (t->dropped)
	fprintf(fp, "  %8lu  not tracked (more than %zu kinds)\n", t->dropped, t->limit);
    free(v);
}

/* top - the keys with the most rejects */
static void top(const struct tally *t, FILE *fp, const char *title, const char *what,
		        const char *c0, const char *c1)
{
    struct tally_entry **v = tally_sorted(t, 2);

    fprintf(fp, "%s\n", title);
    if (t->n == 0)
	fprintf(fp, "  none\n");
    else
	fprintf(fp, "  %8s  %8s  %s\n", c0, c1, what);
    for (size_t i = 0; v[i] && i < REPORT_TOP; i++)
	fprintf(fp, "  %8ld  %8ld  %s\n", v[i]->v[0], v[i]->v[1], v[i]->key);
    if (t->n > REPORT_TOP)
	fprintf(fp, "  (%zu more)\n", t->n - REPORT_TOP);
    if (t->dropped)
	fprintf(fp, "  %lu not tracked (more than %zu)\n", t->dropped, t->limit);
    fputc('\n', fp);
    free(v);
}

/* report_print - the whole report */
void    report_print(const struct report *r, FILE *fp)
{
    char    a[64], b[64];

    fprintf(fp, "mxshield report\n");
    if (r->has_first)
	fprintf(fp, "  period: %s to %s\n", when(r->first, a, sizeof(a)), when(r->last, b, sizeof(b)));
    if (r->o.has_since)
	fprintf(fp, "  since:  %s (%lu earlier lines skipped)\n", when(r->o.since, a, sizeof(a)),
		r->tot.before);
    fprintf(fp, "  %lu lines: %lu mxshield decisions, %lu Postfix rejects"
	    " (%lu of them repeating mxshield's answer)\n",
	    r->tot.lines, r->tot.mxshield, r->tot.postfix, r->tot.repeats);
    if (r->tot.too_long)
	fprintf(fp, "  %lu lines longer than %d bytes skipped\n", r->tot.too_long,
		REPORT_LINE_LIMIT);
    if (r->tot.no_time)
	fprintf(fp, "  %lu decision lines without a time stamp (counted whatever --since says)\n",
		r->tot.no_time);
    fputc('\n', fp);

    fprintf(fp, "Decisions by restriction and reply\n");
    decisions(&r->decisions, fp, "none");
    fputc('\n', fp);
    top(&r->clients, fp, "Clients rejected most (greylisting not counted)", "client",
	"rejected", "deferred");
    top(&r->senders, fp, "Senders rejected most (greylisting not counted)", "sender",
	"rejected", "deferred");
    gl_stats_print(r, fp);
    fprintf(fp, "Would have been rejected (warn_if_reject, dry_run: reject_warning)\n");
    decisions(&r->warnings, fp, "nothing");
    fputc('\n', fp);
    if (r->warnings.n) {
	top(&r->warn_clients, fp, "Clients that would have been rejected", "client",
	    "reject", "defer");
	top(&r->warn_senders, fp, "Senders that would have been rejected", "sender",
	    "reject", "defer");
    }
}
