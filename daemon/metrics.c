/*
 * The host's metrics registry: counter, gauge and histogram families with
 * bounded label sets, and render-time gauges, rendered in the Prometheus
 * text exposition format 0.0.4.
 *
 * Families are kept in one array sorted by name (at most
 * HYPD_METRICS_MAX_FAMILIES of them, plus the core overflow counter).
 * Each family holds its series in creation order, which is also the order
 * they are rendered in, and in a small chained hash table keyed by the
 * label values.  A family and its series are never freed before
 * hypd_metrics_reset(): plugins may keep the pointers across reloads.
 * Render-time gauges withdrawn by hypd_metrics_release() stay allocated
 * (without their callback, not rendered) and are reused if the name is
 * registered again; registering a render-time gauge that exists takes it
 * over (new fn, arg and owner), so a plugin swapped in on reload keeps it.
 *
 * Choices made here:
 *   - label-less families (histograms too) get their one series when
 *     registered and always render it; labelled families with no series
 *     render HELP and TYPE only; an empty HELP text omits the HELP line;
 *   - a labelled family allocates its overflow series (all values "other")
 *     up front, so hyp_metric_series() never fails for want of memory; it
 *     is linked (and rendered) on first use, and a caller asking for the
 *     all-"other" combination gets it without counting an overflow;
 *   - hyprox_metrics_label_overflow_total{metric=...} counts lookups that
 *     were folded (hot paths keep the pointer, so usually once per new
 *     combination); it has a reserved family slot and one series per
 *     family, so it cannot overflow itself;
 *   - max_series may not exceed HYPD_METRICS_MAX_SERIES (HYP_EINVAL);
 *     label values are cut to HYPD_METRICS_VALUE_MAX bytes on a UTF-8
 *     boundary before lookup, so longer values sharing a prefix share a
 *     series;
 *   - series operations check the family type and ignore a mismatch;
 *     counters ignore negative and NaN adds, histograms ignore NaN;
 *   - a histogram "x" and a family named x_bucket, x_sum or x_count clash
 *     (HYP_EEXIST), since their samples would share names;
 *   - registering or rendering from a render-time callback fails with
 *     HYP_EAGAIN.
 *
 * Everything here runs on the loop thread; nothing is locked.
 */
#include <sys/queue.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "hyproxd.h"

#define HYPD_METRICS_MAX_FAMILIES	1024	/* not counting the overflow counter */
#define HYPD_METRICS_MAX_SERIES		65536	/* largest max_series accepted */
#define HYPD_METRICS_DEFAULT_SERIES	64
#define HYPD_METRICS_MAX_BUCKETS	32
#define HYPD_METRICS_NAME_MAX		256	/* metric and label names, bytes */
#define HYPD_METRICS_HELP_MAX		1024	/* longer HELP texts are truncated */
#define HYPD_METRICS_VALUE_MAX		128	/* longer label values are truncated */
#define HYPD_METRICS_RENDER_MAX		(16u * 1024 * 1024)
#define HYPD_METRICS_OVERFLOW_NAME	"hyprox_metrics_label_overflow_total"
#define HYPD_METRICS_OTHER		"other"

/* metrics_register() flags. */
#define METRICS_FN	0x1	/* render-time gauge */
#define METRICS_CORE	0x2	/* the overflow counter itself */

struct hyp_series {
	hyp_metric_t		*m;
	TAILQ_ENTRY(hyp_series)	 entry;		/* creation order */
	struct hyp_series	*hnext;		/* hash chain */
	uint64_t		 hash;
	double			 value;		/* counter, gauge */
	double			 sum;		/* histogram */
	uint64_t		 count;		/* histogram */
	uint64_t		*counts;	/* histogram: per bucket, +Inf last; not cumulative */
	char			**values;	/* m->nlabels copied values */
	int			 linked;	/* in the list and the hash */
};
TAILQ_HEAD(metrics_series_list, hyp_series);

struct hyp_metric {
	char			*name;
	char			*help;
	enum hyp_metric_type	 type;
	unsigned		 nlabels;
	char			*labels[HYP_METRIC_MAX_LABELS];
	unsigned		 max_series;
	unsigned		 nseries;	/* linked series, overflow excluded */
	double			*bounds;	/* histogram upper bounds, +Inf implied */
	size_t			 nbounds;
	struct metrics_series_list series;
	struct hyp_series	**htab;
	unsigned		 hsize;		/* power of two */
	struct hyp_series	*other;		/* preallocated overflow series */
	hyp_series_t		*overflow_ctr;	/* our series in the overflow counter */
	int			 warned;	/* overflow already logged */
	int			 is_fn;		/* render-time gauge */
	double			(*fn)(void *);	/* NULL once withdrawn */
	void			*fn_arg;
	hyp_plugin_t		*fn_owner;
};

/* Growing output buffer of hyp_metrics_render(). */
struct metrics_buf {
	char			*p;
	size_t			 len;
	size_t			 cap;
	int			 err;
};

static hyp_metric_t	**metrics_families;	/* sorted by name */
static size_t		  metrics_nfamilies;	/* including the overflow counter */
static hyp_metric_t	 *metrics_overflow;	/* the core overflow counter */
static int		  metrics_rendering;

static const double	 metrics_default_buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
};

static const char	*metrics_type_name(enum hyp_metric_type);
static int		 metrics_valid_name(const char *);
static int		 metrics_valid_label(const char *, enum hyp_metric_type);
static size_t		 metrics_value_len(const char *);
static uint64_t		 metrics_hash(const char *const *, unsigned);
static hyp_metric_t	*metrics_find(const char *, size_t *);
static int		 metrics_suffix_clash(const char *, enum hyp_metric_type);
static int		 metrics_same_shape(const hyp_metric_t *,
			    enum hyp_metric_type, const char *const *, unsigned,
			    const double *, size_t, int);
static struct hyp_series *metrics_series_alloc(hyp_metric_t *,
			    const char *const *);
static void		 metrics_series_link(hyp_metric_t *, struct hyp_series *);
static void		 metrics_family_free(hyp_metric_t *);
static hyp_metric_t	*metrics_register(hyp_plugin_t *, enum hyp_metric_type,
			    const char *, const char *, const char *const *,
			    unsigned, const double *, size_t, int, int *);
static hyp_series_t	*metrics_overflowed(hyp_metric_t *);
static void		 metrics_buf_add(struct metrics_buf *, const char *,
			    size_t);
static void		 metrics_buf_adds(struct metrics_buf *, const char *);
static void		 metrics_buf_escaped(struct metrics_buf *, const char *,
			    int);
static const char	*metrics_fmt_double(char *, size_t, double);
static void		 metrics_buf_double(struct metrics_buf *, double);
static void		 metrics_buf_u64(struct metrics_buf *, uint64_t);
static void		 metrics_buf_labels(struct metrics_buf *,
			    const hyp_metric_t *, const struct hyp_series *,
			    const char *);
static void		 metrics_render_family(struct metrics_buf *,
			    hyp_metric_t *);

/* Name of a type as written on the TYPE line. */
static const char *
metrics_type_name(enum hyp_metric_type type)
{
	switch (type) {
	case HYP_METRIC_COUNTER:
		return ("counter");
	case HYP_METRIC_GAUGE:
		return ("gauge");
	case HYP_METRIC_HISTOGRAM:
		return ("histogram");
	}
	return ("untyped");
}

/* Whether s is a metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, bounded. */
static int
metrics_valid_name(const char *s)
{
	size_t	i;
	char	c;

	if (s == NULL || *s == '\0')
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= HYPD_METRICS_NAME_MAX)
			return (0);
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c == ':')
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return (0);
	}
	return (1);
}

/* Whether s is a label name usable in a family of this type. */
static int
metrics_valid_label(const char *s, enum hyp_metric_type type)
{
	size_t	i;
	char	c;

	if (s == NULL || *s == '\0')
		return (0);
	if (s[0] == '_' && s[1] == '_')
		return (0);
	if (type == HYP_METRIC_HISTOGRAM && strcmp(s, "le") == 0)
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= HYPD_METRICS_NAME_MAX)
			return (0);
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_')
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return (0);
	}
	return (1);
}

/* Length a label value is stored with: at most the bound, cut on a UTF-8 boundary. */
static size_t
metrics_value_len(const char *v)
{
	size_t	n;

	n = strnlen(v, HYPD_METRICS_VALUE_MAX + 1);
	if (n <= HYPD_METRICS_VALUE_MAX)
		return (n);
	n = HYPD_METRICS_VALUE_MAX;
	while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
		n--;
	return (n);
}

/* FNV-1a over the (truncated) label values, each followed by a NUL. */
static uint64_t
metrics_hash(const char *const *values, unsigned n)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i, len;
	unsigned	k;

	for (k = 0; k < n; k++) {
		len = metrics_value_len(values[k]);
		for (i = 0; i < len; i++) {
			h ^= (unsigned char)values[k][i];
			h *= 0x100000001b3ULL;
		}
		h *= 0x100000001b3ULL;	/* the NUL separator */
	}
	return (h);
}

/* Find a family by name; *at gets its index or where it would be inserted. */
static hyp_metric_t *
metrics_find(const char *name, size_t *at)
{
	size_t	lo = 0, hi = metrics_nfamilies, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, metrics_families[mid]->name);
		if (c == 0) {
			if (at != NULL)
				*at = mid;
			return (metrics_families[mid]);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (at != NULL)
		*at = lo;
	return (NULL);
}

/* Whether name would collide with a histogram's _bucket/_sum/_count lines. */
static int
metrics_suffix_clash(const char *name, enum hyp_metric_type type)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	hyp_metric_t	*m;
	char		 buf[HYPD_METRICS_NAME_MAX + 16];
	size_t		 len, slen, i;

	len = strlen(name);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		slen = strlen(suffixes[i]);
		/* A histogram "name" would render name_bucket etc. */
		if (type == HYP_METRIC_HISTOGRAM) {
			snprintf(buf, sizeof(buf), "%s%s", name, suffixes[i]);
			if (metrics_find(buf, NULL) != NULL)
				return (1);
		}
		/* "base_bucket" clashes with a histogram "base". */
		if (len > slen && strcmp(name + len - slen, suffixes[i]) == 0) {
			memcpy(buf, name, len - slen);
			buf[len - slen] = '\0';
			m = metrics_find(buf, NULL);
			if (m != NULL && m->type == HYP_METRIC_HISTOGRAM)
				return (1);
		}
	}
	return (0);
}

/* Whether an existing family has exactly the shape asked for. */
static int
metrics_same_shape(const hyp_metric_t *m, enum hyp_metric_type type,
    const char *const *labels, unsigned nlabels, const double *bounds,
    size_t nbounds, int is_fn)
{
	unsigned	i;
	size_t		j;

	if (m->type != type || m->nlabels != nlabels || m->is_fn != is_fn)
		return (0);
	for (i = 0; i < nlabels; i++) {
		if (strcmp(m->labels[i], labels[i]) != 0)
			return (0);
	}
	if (type == HYP_METRIC_HISTOGRAM) {
		if (m->nbounds != nbounds)
			return (0);
		for (j = 0; j < nbounds; j++) {
			if (m->bounds[j] != bounds[j])
				return (0);
		}
	}
	return (1);
}

/* Allocate an unlinked series with copied (truncated) values, in one block. */
static struct hyp_series *
metrics_series_alloc(hyp_metric_t *m, const char *const *values)
{
	struct hyp_series	*s;
	size_t			 size, ncounts, len[HYP_METRIC_MAX_LABELS];
	char			*p;
	unsigned		 k;

	ncounts = m->type == HYP_METRIC_HISTOGRAM ? m->nbounds + 1 : 0;
	size = sizeof(*s) + ncounts * sizeof(uint64_t) +
	    m->nlabels * sizeof(char *);
	for (k = 0; k < m->nlabels; k++) {
		len[k] = metrics_value_len(values[k]);
		size += len[k] + 1;
	}
	if ((s = calloc(1, size)) == NULL)
		return (NULL);
	s->m = m;
	s->counts = ncounts != 0 ? (uint64_t *)(s + 1) : NULL;
	s->values = (char **)((char *)(s + 1) + ncounts * sizeof(uint64_t));
	p = (char *)(s->values + m->nlabels);
	for (k = 0; k < m->nlabels; k++) {
		memcpy(p, values[k], len[k]);
		p[len[k]] = '\0';
		s->values[k] = p;
		p += len[k] + 1;
	}
	s->hash = metrics_hash(values, m->nlabels);
	return (s);
}

/* Append a series to its family's list and hash, growing the table if it can. */
static void
metrics_series_link(hyp_metric_t *m, struct hyp_series *s)
{
	struct hyp_series	**nt, *e, *next;
	unsigned		  nsize, i;

	if (m->nseries + 1 > m->hsize && m->hsize < HYPD_METRICS_MAX_SERIES) {
		nsize = m->hsize * 2;
		if ((nt = calloc(nsize, sizeof(*nt))) != NULL) {
			for (i = 0; i < m->hsize; i++) {
				for (e = m->htab[i]; e != NULL; e = next) {
					next = e->hnext;
					e->hnext = nt[e->hash & (nsize - 1)];
					nt[e->hash & (nsize - 1)] = e;
				}
			}
			free(m->htab);
			m->htab = nt;
			m->hsize = nsize;
		}
	}
	s->hnext = m->htab[s->hash & (m->hsize - 1)];
	m->htab[s->hash & (m->hsize - 1)] = s;
	TAILQ_INSERT_TAIL(&m->series, s, entry);
	s->linked = 1;
}

/* Free a family, its series and its strings. */
static void
metrics_family_free(hyp_metric_t *m)
{
	struct hyp_series	*s;
	unsigned		 i;

	if (m == NULL)
		return;
	while ((s = TAILQ_FIRST(&m->series)) != NULL) {
		TAILQ_REMOVE(&m->series, s, entry);
		if (s != m->other)
			free(s);
	}
	free(m->other);
	free(m->htab);
	for (i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->bounds);
	free(m->help);
	free(m->name);
	free(m);
}

/* Register (or find) a family; see hyp_metric_new(). */
static hyp_metric_t *
metrics_register(hyp_plugin_t *p, enum hyp_metric_type type, const char *name,
    const char *help, const char *const *labels, unsigned max_series,
    const double *buckets, size_t nbuckets, int flags, int *err)
{
	const char	*other[HYP_METRIC_MAX_LABELS] = { NULL };
	hyp_metric_t	*m;
	size_t		 at, j, hlen;
	unsigned	 nlabels = 0, i, k;
	int		 error = HYP_EINVAL, is_fn = (flags & METRICS_FN) != 0;

	if (!metrics_valid_name(name)) {
		hyp_log(p, HYP_LOG_WARNING, "metrics: invalid metric name");
		goto fail;
	}
	if (type != HYP_METRIC_COUNTER && type != HYP_METRIC_GAUGE &&
	    type != HYP_METRIC_HISTOGRAM) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: unknown type %d",
		    name, (int)type);
		goto fail;
	}
	if (metrics_rendering) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: registered while "
		    "rendering", name);
		error = HYP_EAGAIN;
		goto fail;
	}
	for (i = 0; labels != NULL && labels[i] != NULL; i++) {
		if (i >= HYP_METRIC_MAX_LABELS) {
			hyp_log(p, HYP_LOG_WARNING, "metric %s: more than %d "
			    "labels", name, HYP_METRIC_MAX_LABELS);
			goto fail;
		}
		if (!metrics_valid_label(labels[i], type)) {
			hyp_log(p, HYP_LOG_WARNING, "metric %s: invalid label "
			    "name #%u", name, i + 1);
			goto fail;
		}
		for (k = 0; k < i; k++) {
			if (strcmp(labels[k], labels[i]) == 0) {
				hyp_log(p, HYP_LOG_WARNING, "metric %s: label "
				    "%s twice", name, labels[i]);
				goto fail;
			}
		}
	}
	nlabels = i;
	if (type == HYP_METRIC_HISTOGRAM) {
		if (buckets == NULL) {
			buckets = metrics_default_buckets;
			nbuckets = sizeof(metrics_default_buckets) /
			    sizeof(metrics_default_buckets[0]);
		}
		if (nbuckets == 0 || nbuckets > HYPD_METRICS_MAX_BUCKETS) {
			hyp_log(p, HYP_LOG_WARNING, "metric %s: %zu buckets "
			    "(1 to %d allowed)", name, nbuckets,
			    HYPD_METRICS_MAX_BUCKETS);
			goto fail;
		}
		for (j = 0; j < nbuckets; j++) {
			if (!isfinite(buckets[j]) ||
			    (j > 0 && !(buckets[j] > buckets[j - 1]))) {
				hyp_log(p, HYP_LOG_WARNING, "metric %s: buckets "
				    "must be finite and strictly increasing",
				    name);
				goto fail;
			}
		}
	} else if (buckets != NULL || nbuckets != 0) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: buckets given for a "
		    "%s", name, metrics_type_name(type));
		goto fail;
	} else
		nbuckets = 0;
	if (max_series > HYPD_METRICS_MAX_SERIES) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: max_series %u over %d",
		    name, max_series, HYPD_METRICS_MAX_SERIES);
		goto fail;
	}
	if (max_series == 0)
		max_series = HYPD_METRICS_DEFAULT_SERIES;

	/* The core overflow counter's name is reserved: make it exist first. */
	if (!(flags & METRICS_CORE) && metrics_overflow == NULL &&
	    strcmp(name, HYPD_METRICS_OVERFLOW_NAME) == 0 &&
	    metrics_overflowed(NULL) == NULL) {
		error = HYP_ENOMEM;
		goto fail;
	}

	if ((m = metrics_find(name, &at)) != NULL) {
		if (!metrics_same_shape(m, type, labels, nlabels, buckets,
		    nbuckets, is_fn)) {
			hyp_log(p, HYP_LOG_WARNING, "metric %s: already "
			    "registered with another type, labels or buckets",
			    name);
			error = HYP_EEXIST;
			goto fail;
		}
		if (err != NULL)
			*err = 0;
		return (m);
	}
	if (metrics_suffix_clash(name, type)) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: clashes with a "
		    "histogram's _bucket, _sum or _count", name);
		error = HYP_EEXIST;
		goto fail;
	}
	if (metrics_nfamilies - (metrics_overflow != NULL ? 1 : 0) >=
	    HYPD_METRICS_MAX_FAMILIES &&
	    strcmp(name, HYPD_METRICS_OVERFLOW_NAME) != 0) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: registry full (%d "
		    "families)", name, HYPD_METRICS_MAX_FAMILIES);
		error = HYP_ENOSPC;
		goto fail;
	}

	error = HYP_ENOMEM;
	if (metrics_families == NULL) {
		metrics_families = calloc(HYPD_METRICS_MAX_FAMILIES + 1,
		    sizeof(*metrics_families));
		if (metrics_families == NULL)
			goto fail;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto fail;
	TAILQ_INIT(&m->series);
	m->type = type;
	m->is_fn = is_fn;
	m->max_series = nlabels == 0 ? 1 : max_series;
	m->nlabels = nlabels;
	if (help == NULL)
		help = "";
	hlen = strnlen(help, HYPD_METRICS_HELP_MAX + 1);
	if (hlen > HYPD_METRICS_HELP_MAX) {
		hlen = HYPD_METRICS_HELP_MAX;
		while (hlen > 0 && ((unsigned char)help[hlen] & 0xc0) == 0x80)
			hlen--;
	}
	if ((m->name = strdup(name)) == NULL ||
	    (m->help = strndup(help, hlen)) == NULL)
		goto fail_free;
	for (i = 0; i < nlabels; i++) {
		if ((m->labels[i] = strdup(labels[i])) == NULL)
			goto fail_free;
	}
	if (nbuckets != 0) {
		if ((m->bounds = calloc(nbuckets, sizeof(double))) == NULL)
			goto fail_free;
		memcpy(m->bounds, buckets, nbuckets * sizeof(double));
		m->nbounds = nbuckets;
	}
	if (!is_fn) {
		m->hsize = nlabels == 0 ? 1 : 16;
		if ((m->htab = calloc(m->hsize, sizeof(*m->htab))) == NULL)
			goto fail_free;
		for (i = 0; i < nlabels; i++)
			other[i] = HYPD_METRICS_OTHER;
		/* Label-less: the one series; labelled: the overflow series. */
		if ((m->other = metrics_series_alloc(m, other)) == NULL)
			goto fail_free;
		if (nlabels == 0)
			metrics_series_link(m, m->other);
	}

	memmove(metrics_families + at + 1, metrics_families + at,
	    (metrics_nfamilies - at) * sizeof(*metrics_families));
	metrics_families[at] = m;
	metrics_nfamilies++;
	if (err != NULL)
		*err = 0;
	return (m);

fail_free:
	hyp_log(p, HYP_LOG_WARNING, "metric %s: out of memory", name);
	metrics_family_free(m);
fail:
	if (err != NULL)
		*err = error;
	return (NULL);
}

/* Count one folded lookup of m (NULL: only make sure the counter exists). */
static hyp_series_t *
metrics_overflowed(hyp_metric_t *m)
{
	static const char *const labels[] = { "metric", NULL };
	const char	*values[1];
	int		 error;

	if (metrics_overflow == NULL) {
		/* One series per family: it can never overflow itself. */
		metrics_overflow = metrics_register(NULL, HYP_METRIC_COUNTER,
		    HYPD_METRICS_OVERFLOW_NAME, "Label combinations folded "
		    "into the \"other\" series because a metric reached its "
		    "max_series.", labels, HYPD_METRICS_MAX_FAMILIES + 1,
		    NULL, 0, METRICS_CORE, &error);
		if (metrics_overflow == NULL)
			return (NULL);
	}
	if (m == NULL || m == metrics_overflow)
		return (metrics_overflow->other);
	if (m->overflow_ctr == NULL) {
		values[0] = m->name;
		m->overflow_ctr = hyp_metric_series(metrics_overflow, values);
	}
	hyp_series_add(m->overflow_ctr, 1);
	return (m->overflow_ctr);
}

/* Register a counter, gauge or histogram family. */
hyp_metric_t *
hyp_metric_new(hyp_plugin_t *p, enum hyp_metric_type type, const char *name,
    const char *help, const char *const *labels, unsigned max_series,
    const double *buckets, size_t nbuckets, int *err)
{
	return (metrics_register(p, type, name, help, labels, max_series,
	    buckets, nbuckets, 0, err));
}

/* Register a gauge read by fn(arg) at render time; a second call takes it over. */
hyp_metric_t *
hyp_gauge_fn_new(hyp_plugin_t *p, const char *name, const char *help,
    double (*fn)(void *arg), void *arg, int *err)
{
	hyp_metric_t	*m;

	if (fn == NULL) {
		hyp_log(p, HYP_LOG_WARNING, "metrics: render-time gauge "
		    "without a function");
		if (err != NULL)
			*err = HYP_EINVAL;
		return (NULL);
	}
	m = metrics_register(p, HYP_METRIC_GAUGE, name, help, NULL, 0, NULL,
	    0, METRICS_FN, err);
	if (m == NULL)
		return (NULL);
	if (m->fn != NULL && m->fn_owner != p) {
		hyp_log(p, HYP_LOG_NOTICE, "metric %s: render-time gauge taken "
		    "over from another plugin", name);
	}
	m->fn = fn;
	m->fn_arg = arg;
	m->fn_owner = p;
	return (m);
}

/* The series of m for these label values, created on first use. */
hyp_series_t *
hyp_metric_series(hyp_metric_t *m, const char *const *values)
{
	struct hyp_series	*s;
	uint64_t		 h;
	size_t			 len;
	unsigned		 k;
	int			 other;

	if (m == NULL || m->is_fn)
		return (NULL);
	if (m->nlabels == 0)
		return (m->other);
	if (values == NULL)
		return (NULL);
	for (k = 0; k < m->nlabels; k++) {
		if (values[k] == NULL)
			return (NULL);
	}
	h = metrics_hash(values, m->nlabels);
	for (s = m->htab[h & (m->hsize - 1)]; s != NULL; s = s->hnext) {
		if (s->hash != h)
			continue;
		for (k = 0; k < m->nlabels; k++) {
			len = metrics_value_len(values[k]);
			if (strlen(s->values[k]) != len ||
			    memcmp(s->values[k], values[k], len) != 0)
				break;
		}
		if (k == m->nlabels)
			return (s);
	}

	/* Asked for the overflow series itself: not an overflow. */
	other = 1;
	for (k = 0; k < m->nlabels && other; k++)
		other = strcmp(values[k], HYPD_METRICS_OTHER) == 0;
	if (!other && m->nseries < m->max_series &&
	    (s = metrics_series_alloc(m, values)) != NULL) {
		metrics_series_link(m, s);
		m->nseries++;
		return (s);
	}
	if (!m->other->linked)
		metrics_series_link(m, m->other);
	if (!other) {
		if (!m->warned) {
			hyp_log(NULL, HYP_LOG_WARNING, "metric %s: more than "
			    "%u label combinations, folding new ones into "
			    "\"other\"", m->name, m->max_series);
			m->warned = 1;
		}
		metrics_overflowed(m);
	}
	return (m->other);
}

/* Add v (≥ 0) to a counter series. */
void
hyp_series_add(hyp_series_t *s, double v)
{
	if (s == NULL || s->m->type != HYP_METRIC_COUNTER || !(v >= 0))
		return;
	s->value += v;
}

/* Set a gauge series. */
void
hyp_series_set(hyp_series_t *s, double v)
{
	if (s == NULL || s->m->type != HYP_METRIC_GAUGE)
		return;
	s->value = v;
}

/* Add v to a gauge series. */
void
hyp_series_gauge_add(hyp_series_t *s, double v)
{
	if (s == NULL || s->m->type != HYP_METRIC_GAUGE)
		return;
	s->value += v;
}

/* Observe v in a histogram series; NaN is ignored. */
void
hyp_series_observe(hyp_series_t *s, double v)
{
	const hyp_metric_t	*m;
	size_t			 lo, hi, mid;

	if (s == NULL || s->m->type != HYP_METRIC_HISTOGRAM || isnan(v))
		return;
	m = s->m;
	/* First bound ≥ v; nbounds means +Inf. */
	lo = 0;
	hi = m->nbounds;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v <= m->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	s->counts[lo]++;
	s->count++;
	s->sum += v;
}

/* Value of a counter or gauge series, count of a histogram series. */
double
hyp_series_value(const hyp_series_t *s)
{
	if (s == NULL)
		return (0);
	if (s->m->type == HYP_METRIC_HISTOGRAM)
		return ((double)s->count);
	return (s->value);
}

/* Add v to the label-less series of a counter. */
void
hyp_counter_inc(hyp_metric_t *m, double v)
{
	if (m == NULL || m->is_fn || m->nlabels != 0)
		return;
	hyp_series_add(m->other, v);
}

/* Append n bytes to the output, failing once past the bound. */
static void
metrics_buf_add(struct metrics_buf *b, const char *s, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (b->err != 0)
		return;
	if (n >= HYPD_METRICS_RENDER_MAX - b->len) {
		b->err = HYP_ENOSPC;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap != 0 ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > HYPD_METRICS_RENDER_MAX)
			ncap = HYPD_METRICS_RENDER_MAX;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = HYP_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a NUL-terminated string. */
static void
metrics_buf_adds(struct metrics_buf *b, const char *s)
{
	metrics_buf_add(b, s, strlen(s));
}

/* Append s escaping backslash and newline, and double quote if quote is set. */
static void
metrics_buf_escaped(struct metrics_buf *b, const char *s, int quote)
{
	const char	*start = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
			continue;
		metrics_buf_add(b, start, s - start);
		if (*s == '\n')
			metrics_buf_add(b, "\\n", 2);
		else if (*s == '\\')
			metrics_buf_add(b, "\\\\", 2);
		else
			metrics_buf_add(b, "\\\"", 2);
		start = s + 1;
	}
	metrics_buf_add(b, start, s - start);
}

/* Format a value: integral values plainly, others as the shortest round trip. */
static const char *
metrics_fmt_double(char *buf, size_t size, double v)
{
	char	*c;
	int	 prec;

	if (isnan(v))
		return ("NaN");
	if (isinf(v))
		return (v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return ("0");
	if (fabs(v) < 9007199254740992.0 && v == trunc(v)) {
		snprintf(buf, size, "%.0f", v);
		return (buf);
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, size, "%.17g", v);
	/* Whatever LC_NUMERIC says, the format wants a dot. */
	if ((c = strchr(buf, ',')) != NULL)
		*c = '.';
	return (buf);
}

/* Append a value. */
static void
metrics_buf_double(struct metrics_buf *b, double v)
{
	char	buf[64];

	metrics_buf_adds(b, metrics_fmt_double(buf, sizeof(buf), v));
}

/* Append an unsigned integer. */
static void
metrics_buf_u64(struct metrics_buf *b, uint64_t v)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	metrics_buf_adds(b, buf);
}

/* Append {l1="v1",...} (with le last when given), or nothing when empty. */
static void
metrics_buf_labels(struct metrics_buf *b, const hyp_metric_t *m,
    const struct hyp_series *s, const char *le)
{
	unsigned	k;

	if (m->nlabels == 0 && le == NULL)
		return;
	metrics_buf_add(b, "{", 1);
	for (k = 0; k < m->nlabels; k++) {
		if (k > 0)
			metrics_buf_add(b, ",", 1);
		metrics_buf_adds(b, m->labels[k]);
		metrics_buf_add(b, "=\"", 2);
		metrics_buf_escaped(b, s->values[k], 1);
		metrics_buf_add(b, "\"", 1);
	}
	if (le != NULL) {
		if (m->nlabels > 0)
			metrics_buf_add(b, ",", 1);
		metrics_buf_add(b, "le=\"", 4);
		metrics_buf_adds(b, le);
		metrics_buf_add(b, "\"", 1);
	}
	metrics_buf_add(b, "}", 1);
}

/* Append one family: HELP, TYPE and its samples. */
static void
metrics_render_family(struct metrics_buf *b, hyp_metric_t *m)
{
	const struct hyp_series	*s;
	char			 le[64];
	uint64_t		 cum;
	size_t			 j;
	double			 v;

	if (m->help[0] != '\0') {
		metrics_buf_adds(b, "# HELP ");
		metrics_buf_adds(b, m->name);
		metrics_buf_add(b, " ", 1);
		metrics_buf_escaped(b, m->help, 0);
		metrics_buf_add(b, "\n", 1);
	}
	metrics_buf_adds(b, "# TYPE ");
	metrics_buf_adds(b, m->name);
	metrics_buf_add(b, " ", 1);
	metrics_buf_adds(b, metrics_type_name(m->type));
	metrics_buf_add(b, "\n", 1);

	if (m->is_fn) {
		v = m->fn(m->fn_arg);
		metrics_buf_adds(b, m->name);
		metrics_buf_add(b, " ", 1);
		metrics_buf_double(b, v);
		metrics_buf_add(b, "\n", 1);
		return;
	}
	TAILQ_FOREACH(s, &m->series, entry) {
		if (m->type != HYP_METRIC_HISTOGRAM) {
			metrics_buf_adds(b, m->name);
			metrics_buf_labels(b, m, s, NULL);
			metrics_buf_add(b, " ", 1);
			metrics_buf_double(b, s->value);
			metrics_buf_add(b, "\n", 1);
			continue;
		}
		cum = 0;
		for (j = 0; j <= m->nbounds; j++) {
			cum += s->counts[j];
			metrics_buf_adds(b, m->name);
			metrics_buf_adds(b, "_bucket");
			metrics_buf_labels(b, m, s, j < m->nbounds ?
			    metrics_fmt_double(le, sizeof(le), m->bounds[j]) :
			    "+Inf");
			metrics_buf_add(b, " ", 1);
			metrics_buf_u64(b, cum);
			metrics_buf_add(b, "\n", 1);
		}
		metrics_buf_adds(b, m->name);
		metrics_buf_adds(b, "_sum");
		metrics_buf_labels(b, m, s, NULL);
		metrics_buf_add(b, " ", 1);
		metrics_buf_double(b, s->sum);
		metrics_buf_add(b, "\n", 1);
		metrics_buf_adds(b, m->name);
		metrics_buf_adds(b, "_count");
		metrics_buf_labels(b, m, s, NULL);
		metrics_buf_add(b, " ", 1);
		metrics_buf_u64(b, s->count);
		metrics_buf_add(b, "\n", 1);
	}
}

/* A callback run before every render. */
struct metrics_prerender {
	hyp_plugin_t	*owner;
	void		(*fn)(void *);
	void		*arg;
};

#define METRICS_MAX_PRERENDER	64

static struct metrics_prerender	metrics_prerender[METRICS_MAX_PRERENDER];
static size_t			metrics_nprerender;

/* Register a callback run at the start of every render. */
int
hyp_metrics_on_render(hyp_plugin_t *p, void (*fn)(void *arg), void *arg)
{
	if (fn == NULL)
		return (HYP_EINVAL);
	if (metrics_nprerender == METRICS_MAX_PRERENDER)
		return (HYP_ENOSPC);
	metrics_prerender[metrics_nprerender].owner = p;
	metrics_prerender[metrics_nprerender].fn = fn;
	metrics_prerender[metrics_nprerender].arg = arg;
	metrics_nprerender++;
	return (0);
}

/* Drop the pre-render callbacks p registered. */
static void
metrics_prerender_release(hyp_plugin_t *p)
{
	size_t	i = 0;

	while (i < metrics_nprerender) {
		if (metrics_prerender[i].owner == p) {
			metrics_prerender[i] =
			    metrics_prerender[--metrics_nprerender];
			continue;
		}
		i++;
	}
}

/* Render every family, sorted by name, in the text format 0.0.4. */
int
hyp_metrics_render(char **out, size_t *len)
{
	struct metrics_buf	b;
	size_t			i;

	if (out == NULL)
		return (HYP_EINVAL);
	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (metrics_rendering)
		return (HYP_EAGAIN);
	metrics_rendering = 1;
	for (i = 0; i < metrics_nprerender; i++)
		metrics_prerender[i].fn(metrics_prerender[i].arg);
	metrics_rendering = 0;
	memset(&b, 0, sizeof(b));
	metrics_buf_add(&b, "", 0);
	metrics_rendering = 1;
	for (i = 0; i < metrics_nfamilies && b.err == 0; i++) {
		if (metrics_families[i]->is_fn &&
		    metrics_families[i]->fn == NULL)
			continue;
		metrics_render_family(&b, metrics_families[i]);
	}
	metrics_rendering = 0;
	if (b.err != 0) {
		free(b.p);
		if (b.err == HYP_ENOSPC)
			hyp_log(NULL, HYP_LOG_WARNING, "metrics: rendering "
			    "exceeds %u bytes", HYPD_METRICS_RENDER_MAX);
		return (b.err);
	}
	*out = b.p;
	if (len != NULL)
		*len = b.len;
	return (0);
}

/* Withdraw the render-time gauges p registered; other families stay. */
void
hypd_metrics_release(hyp_plugin_t *p)
{
	size_t	i;

	if (p == NULL)
		return;
	metrics_prerender_release(p);
	for (i = 0; i < metrics_nfamilies; i++) {
		if (metrics_families[i]->is_fn &&
		    metrics_families[i]->fn_owner == p) {
			metrics_families[i]->fn = NULL;
			metrics_families[i]->fn_arg = NULL;
			metrics_families[i]->fn_owner = NULL;
		}
	}
}

/* Free the whole registry; every metric and series pointer becomes invalid. */
void
hypd_metrics_reset(void)
{
	size_t	i;

	for (i = 0; i < metrics_nfamilies; i++)
		metrics_family_free(metrics_families[i]);
	free(metrics_families);
	metrics_families = NULL;
	metrics_nfamilies = 0;
	metrics_overflow = NULL;
	metrics_rendering = 0;
	metrics_nprerender = 0;
}
