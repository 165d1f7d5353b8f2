/*
 * stats.c - the statistics registry (see stats.h for the table and the API).
 *
 * Unlabelled counters and gauges are one array indexed by id.  A labelled
 * family keeps its series in an array of pointers (a series never moves
 * once created) and an open-addressing index of STAT_INDEX_SIZE slots,
 * both allocated when the family's first series appears.  A series holds
 * its label values NUL-separated, for comparison, and the label text as
 * printed, built once.  When a family has STAT_MAX_SERIES series, new
 * label sets go to one series whose values are all "other" (logged once).
 *
 * DIAGNOSTICS: a call with the wrong kind of family (stat_observe on a
 * counter, labels on an unlabelled family) is a bug: msg_panic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define STAT_INDEX_SIZE	(2 * STAT_MAX_SERIES)	/* power of two, half full at most */

uint64_t stat_value[STAT_COUNT];

const double stat_hist_bounds[STAT_HIST_BUCKETS] = {
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5,
};

struct stat_def {
    const char *name;
    enum stat_kind kind;
    int     nlabels;
    const char *labels;
    const char *help;
};

#define STAT_DEF(id, name, kind, nl, labels, help) \
    {name, STAT_KIND_##kind, nl, labels, help},
static const struct stat_def defs[STAT_COUNT] = {
    MX_STATS(STAT_DEF)
};
#undef STAT_DEF

struct series {
    uint64_t value;
    uint32_t hash;
    char   *values;			/* v1 NUL v2 NUL ... */
    size_t  values_len;
    char   *text;			/* a="v1",b="v2" */
};

struct hist {
    uint64_t bucket[STAT_HIST_BUCKETS];	/* not cumulative */
    uint64_t count;
    double  sum;
};

struct family {
    struct series **v;
    size_t  n;
    uint32_t *index;			/* series number + 1; 0: empty */
    struct series *other;		/* the overflow series, once used */
    int     other_extra;		/* ... not one of v[] */
    int     warned;
    struct hist *hist;			/* histograms */
};

static struct family fam[STAT_COUNT];

/* kind_check - a call that does not fit the family's row is a bug */
static void kind_check(enum stat_id id, int labelled, const char *what)
{
    if ((unsigned) id >= STAT_COUNT)
	msg_panic("stats: %s: bad id %d", what, (int) id);
    if (labelled != (defs[id].nlabels > 0))
	msg_panic("stats: %s: %s %s labels", what, defs[id].name,
		  labelled ? "has no" : "needs");
}

/* hash_values - FNV-1a over the values, each followed by a NUL */
static uint32_t hash_values(int n, const char *const *values, size_t *len)
{
    uint32_t h = 2166136261u;
    size_t  total = 0;

    for (int i = 0; i < n; i++) {
	const unsigned char *cp = (const unsigned char *) (values[i] ? values[i] : "");

	for (; *cp; cp++, total++)
	    h = (h ^ *cp) * 16777619u;
	h = (h ^ 0) * 16777619u;
	total++;
    }
    *len = total;
    return h;
}

/* same_values - does a series carry exactly these values? */
static int same_values(const struct series *s, int n, const char *const *values)
{
    const char *cp = s->values;

    for (int i = 0; i < n; i++) {
	const char *v = values[i] ? values[i] : "";
	size_t  len = strlen(v);

	if (strncmp(cp, v, len + 1) != 0)
	    return 0;
	cp += len + 1;
    }
    return 1;
}

/* label_text - 'name="value",...' with Prometheus's escapes */
static char *label_text(const struct stat_def *d, const char *const *values)
{
    struct buf b;
    const char *ln = d->labels;

    buf_init(&b);
    for (int i = 0; i < d->nlabels; i++) {
	size_t  nl = strcspn(ln, ",");
	const char *v = values[i] ? values[i] : "";

	if (i > 0)
	    buf_putc(&b, ',');
	buf_append(&b, ln, nl);
	buf_puts(&b, "=\"");
	for (; *v; v++) {
	    if (*v == '\\' || *v == '"')
		buf_putc(&b, '\\');
	    if (*v == '\n')
		buf_puts(&b, "\\n");
	    else
		buf_putc(&b, *v);
	}
	buf_putc(&b, '"');
	ln += nl;
	if (*ln == ',')
	    ln++;
    }
    return buf_steal(&b);
}

/* series_new - a series for these values (the caller checked the cap) */
static struct series *series_new(const struct stat_def *d, const char *const *values,
				         uint32_t hash, size_t len)
{
    struct series *s = xcalloc(1, sizeof(*s));
    char   *cp;

    s->hash = hash;
    s->values = cp = xmalloc(len ? len : 1);
    s->values_len = len;
    for (int i = 0; i < d->nlabels; i++) {
	const char *v = values[i] ? values[i] : "";
	size_t  vl = strlen(v) + 1;

	memcpy(cp, v, vl);
	cp += vl;
    }
    s->text = label_text(d, values);
    return s;
}

/* series_find - the series of a label set, created on first use */
static struct series *series_find(enum stat_id id, const char *const *values, int create)
{
    const struct stat_def *d = &defs[id];
    struct family *f = &fam[id];
    size_t  len;
    uint32_t h = hash_values(d->nlabels, values, &len);
    size_t  slot;

    if (f->index == NULL) {
	if (!create)
	    return NULL;
	f->index = xcalloc(STAT_INDEX_SIZE, sizeof(*f->index));
	f->v = xcalloc(STAT_MAX_SERIES, sizeof(*f->v));
    }
    for (slot = h & (STAT_INDEX_SIZE - 1); f->index[slot] != 0;
	 slot = (slot + 1) & (STAT_INDEX_SIZE - 1)) {
	struct series *s = f->v[f->index[slot] - 1];

	if (s->hash == h && s->values_len == len && same_values(s, d->nlabels, values))
	    return s;
    }
    if (f->other && f->other_extra && same_values(f->other, d->nlabels, values))
	return f->other;
    if (!create)
	return NULL;
    if (f->n >= STAT_MAX_SERIES) {
	if (f->other == NULL) {
	    const char *other[STAT_MAX_LABELS] = {0};

	    for (int i = 0; i < d->nlabels; i++)
		other[i] = "other";
	    /* a caller may have used "other" itself: one series, not two */
	    if ((f->other = series_find(id, other, 0)) == NULL) {
		h = hash_values(d->nlabels, other, &len);
		f->other = series_new(d, other, h, len);
		f->other_extra = 1;
	    }
	}
	if (!f->warned) {
	    msg_warn("stats: %s has %d label sets; more are counted as \"other\"",
		     d->name, STAT_MAX_SERIES);
	    f->warned = 1;
	}
	return f->other;
    }
    f->v[f->n] = series_new(d, values, h, len);
    f->index[slot] = (uint32_t) ++f->n;
    return f->v[f->n - 1];
}

/* stat_get - an unlabelled value */
int64_t stat_get(enum stat_id id)
{
    kind_check(id, 0, "stat_get");
    if (defs[id].kind == STAT_KIND_HISTOGRAM)
	return fam[id].hist ? (int64_t) fam[id].hist->count : 0;
    return (int64_t) stat_value[id];
}

/* stat_add_l - add to a labelled counter */
void    stat_add_l(enum stat_id id, uint64_t n, const char *const *values)
{
    kind_check(id, 1, "stat_add_l");
    series_find(id, values, 1)->value += n;
}

unsigned stats_generation = 1;

/* stat_cell_l - where a labelled counter's series keeps its value */
uint64_t *stat_cell_l(enum stat_id id, const char *const *values)
{
    kind_check(id, 1, "stat_cell_l");
    return &series_find(id, values, 1)->value;
}

/* stat_set_l - set a labelled gauge */
void    stat_set_l(enum stat_id id, int64_t v, const char *const *values)
{
    kind_check(id, 1, "stat_set_l");
    series_find(id, values, 1)->value = (uint64_t) v;
}

/* stat_get_l - a labelled value; 0 when the series does not exist */
int64_t stat_get_l(enum stat_id id, const char *const *values)
{
    struct series *s;

    kind_check(id, 1, "stat_get_l");
    s = series_find(id, values, 0);
    return s ? (int64_t) s->value : 0;
}

/* stat_series - the label values and value of series i */
int     stat_series(enum stat_id id, size_t i, const char **values, int64_t *value)
{
    struct family *f = &fam[id];
    struct series *s;
    const char *cp;

    kind_check(id, 1, "stat_series");
    if (i < f->n)
	s = f->v[i];
    else if (i == f->n && f->other_extra)
	s = f->other;
    else
	return 0;
    cp = s->values;
    for (int k = 0; k < defs[id].nlabels; k++) {
	values[k] = cp;
	cp += strlen(cp) + 1;
    }
    *value = (int64_t) s->value;
    return 1;
}

/* stat_observe - count one observation in its bucket */
void    stat_observe(enum stat_id id, double seconds)
{
    struct hist *h;
    int     i;

    kind_check(id, 0, "stat_observe");
    if (defs[id].kind != STAT_KIND_HISTOGRAM)
	msg_panic("stats: stat_observe: %s is not a histogram", defs[id].name);
    if ((h = fam[id].hist) == NULL)
	h = fam[id].hist = xcalloc(1, sizeof(*h));
    if (!(seconds >= 0))			/* NaN, negative (clock steps) */
	seconds = 0;
    for (i = 0; i < STAT_HIST_BUCKETS && seconds > stat_hist_bounds[i]; i++)
	 /* void */ ;
    if (i < STAT_HIST_BUCKETS)
	h->bucket[i]++;
    h->count++;
    h->sum += seconds;
}

/* Metadata */
const char *stat_name(enum stat_id id)
{
    return defs[id].name;
}

const char *stat_help(enum stat_id id)
{
    return defs[id].help;
}

enum stat_kind stat_kind(enum stat_id id)
{
    return defs[id].kind;
}

int     stat_nlabels(enum stat_id id)
{
    return defs[id].nlabels;
}

const char *stat_kind_name(enum stat_kind kind)
{
    switch (kind) {
    case STAT_KIND_COUNTER:
	return "counter";
    case STAT_KIND_GAUGE:
	return "gauge";
    case STAT_KIND_HISTOGRAM:
	return "histogram";
    }
    return "untyped";
}

size_t  stat_series_count(enum stat_id id)
{
    return fam[id].n + (size_t) fam[id].other_extra;
}

/* stats_iter_init - before the first family */
void    stats_iter_init(struct stats_iter *it)
{
    memset(it, 0, sizeof(*it));
}

/* series_value - a stored value as the kind reads it */
static double series_value(enum stat_kind kind, uint64_t v)
{
    return kind == STAT_KIND_GAUGE ? (double) (int64_t) v : (double) v;
}

/* hist_sample - part it->part of a histogram; 0 when past the end */
static int hist_sample(struct stats_iter *it, const struct hist *h, struct stat_sample *out)
{
    static const struct hist empty;
    uint64_t cum = 0;

    if (h == NULL)
	h = &empty;
    if (it->part <= STAT_HIST_BUCKETS) {
	for (int i = 0; i < it->part && i < STAT_HIST_BUCKETS; i++)
	    cum += h->bucket[i];
	if (it->part < STAT_HIST_BUCKETS) {
	    cum += h->bucket[it->part];
	    snprintf(it->le, sizeof(it->le), "le=\"%g\"", stat_hist_bounds[it->part]);
	} else {
	    cum = h->count;
	    snprintf(it->le, sizeof(it->le), "le=\"+Inf\"");
	}
	out->suffix = "_bucket";
	out->labels = it->le;
	out->value = (double) cum;
    } else if (it->part == STAT_HIST_BUCKETS + 1) {
	out->suffix = "_sum";
	out->labels = "";
	out->value = h->sum;
    } else if (it->part == STAT_HIST_BUCKETS + 2) {
	out->suffix = "_count";
	out->labels = "";
	out->value = (double) h->count;
    } else {
	return 0;
    }
    it->part++;
    return 1;
}

/* stats_iter_next - the next sample; 0 at the end */
int     stats_iter_next(struct stats_iter *it, struct stat_sample *out)
{
    for (; it->family < STAT_COUNT; it->family++, it->series = 0, it->part = 0) {
	const struct stat_def *d = &defs[it->family];
	struct family *f = &fam[it->family];

	out->id = (enum stat_id) it->family;
	out->name = d->name;
	out->kind = d->kind;
	out->help = d->help;
	out->suffix = "";
	if (d->kind == STAT_KIND_HISTOGRAM) {
	    if (hist_sample(it, f->hist, out))
		return 1;
	    continue;
	}
	if (d->nlabels == 0) {
	    if (it->series++ > 0)
		continue;
	    out->labels = "";
	    out->value = series_value(d->kind, stat_value[it->family]);
	    return 1;
	}
	if (it->series < f->n || (it->series == f->n && f->other_extra)) {
	    struct series *s = it->series < f->n ? f->v[it->series] : f->other;

	    it->series++;
	    out->labels = s->text;
	    out->value = series_value(d->kind, s->value);
	    return 1;
	}
    }
    return 0;
}

/* put_sample - one line */
static void put_sample(struct buf *out, const struct stat_sample *s)
{
    buf_puts(out, s->name);
    buf_puts(out, s->suffix);
    if (*s->labels) {
	buf_putc(out, '{');
	buf_puts(out, s->labels);
	buf_putc(out, '}');
    }
    buf_putc(out, ' ');
    if (s->value >= -9e15 && s->value <= 9e15
	&& s->value == (double) (long long) s->value)
	buf_put_long(out, (long) s->value);
    else
	buf_printf(out, "%.6f", s->value);
    buf_putc(out, '\n');
}

/* render - every sample, with HELP and TYPE before each family if asked */
static void render(struct buf *out, int meta)
{
    struct stats_iter it;
    struct stat_sample s;
    int     last = -1;

    stats_iter_init(&it);
    while (stats_iter_next(&it, &s)) {
	if (meta && (int) s.id != last) {
	    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s.name, s.help,
		       s.name, stat_kind_name(s.kind));
	    last = (int) s.id;
	}
	put_sample(out, &s);
    }
}

void    stats_render(struct buf *out)
{
    render(out, 0);
}

void    stats_render_prometheus(struct buf *out)
{
    render(out, 1);
}

/* stats_reset - zero every value; series stay */
void    stats_reset(void)
{
    memset(stat_value, 0, sizeof(stat_value));
    for (int id = 0; id < STAT_COUNT; id++) {
	struct family *f = &fam[id];

	for (size_t i = 0; i < f->n; i++)
	    f->v[i]->value = 0;
	if (f->other_extra)
	    f->other->value = 0;
	if (f->hist)
	    memset(f->hist, 0, sizeof(*f->hist));
    }
}

/* series_free - one series */
static void series_free(struct series *s)
{
    if (s == NULL)
	return;
    free(s->values);
    free(s->text);
    free(s);
}

/* stats_free - release every series and zero everything */
void    stats_free(void)
{
    for (int id = 0; id < STAT_COUNT; id++) {
	struct family *f = &fam[id];

	for (size_t i = 0; i < f->n; i++)
	    series_free(f->v[i]);
	if (f->other_extra)
	    series_free(f->other);
	free(f->v);
	free(f->index);
	free(f->hist);
	memset(f, 0, sizeof(*f));
    }
    memset(stat_value, 0, sizeof(stat_value));
    stats_generation++;		/* every struct stat_ref is stale now */
}
