/*
 * Metrics registry (host): counters, gauges and histograms with bounded
 * label sets, rendered in the Prometheus text exposition format 0.0.4.
 *
 * Metric names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*), label
 * names [a-zA-Z_][a-zA-Z0-9_]* and never start with "__".  Registering the
 * same name twice with the same type and labels returns the existing
 * metric (so reloads and restarts are idempotent); with a different shape
 * it fails with HYP_EEXIST.  Metrics live until the process exits: a
 * plugin may keep pointers across reloads and restarts.
 */
#ifndef HYPROX_METRICS_H
#define HYPROX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hyp_metric hyp_metric_t;	/**< One metric family; owned by the host. */
typedef struct hyp_series hyp_series_t;	/**< One label combination; owned by the host. */

/** Metric types. */
enum hyp_metric_type {
	HYP_METRIC_COUNTER = 1,
	HYP_METRIC_GAUGE,
	HYP_METRIC_HISTOGRAM,
};

/** Maximum number of label names per metric. */
#define HYP_METRIC_MAX_LABELS	8

/**
 * Register a metric family.
 * @param p       registering plugin (NULL for the core); used in logs only.
 * @param type    counter, gauge or histogram.
 * @param name    full name, e.g. "hyprox_transport_datagrams_total"; copied.
 * @param help    HELP text; copied.
 * @param labels  NULL-terminated label names (NULL for none); copied.
 * @param max_series  bound on distinct label combinations (0 = 64).  Past
 *                it, new combinations fold into one series whose label
 *                values are all "other", and the core counter
 *                hyprox_metrics_label_overflow_total is incremented.
 * @param buckets histogram upper bounds, strictly increasing, +Inf implied
 *                (NULL for the default seconds buckets); copied.
 * @param nbuckets number of buckets (≤ 32).
 * @return the metric, or NULL with errno-style code in *err when err is
 * not NULL (HYP_EINVAL bad name, HYP_EEXIST shape clash, HYP_ENOMEM).
 */
hyp_metric_t	*hyp_metric_new(hyp_plugin_t *p, enum hyp_metric_type type,
		    const char *name, const char *help, const char *const *labels,
		    unsigned max_series, const double *buckets, size_t nbuckets,
		    int *err);

/**
 * The series for these label values (count must equal the metric's label
 * count; NULL for none), created on first use.  Resolve once and keep the
 * pointer on hot paths.  Never NULL for a valid metric: an over-bound
 * combination gets the overflow series.  Returns NULL only for bad args.
 */
hyp_series_t	*hyp_metric_series(hyp_metric_t *m, const char *const *values);

/** Add v (≥ 0) to a counter series; negative v is ignored. */
void		 hyp_series_add(hyp_series_t *s, double v);

/** Set a gauge series. */
void		 hyp_series_set(hyp_series_t *s, double v);

/** Add v (may be negative) to a gauge series. */
void		 hyp_series_gauge_add(hyp_series_t *s, double v);

/** Observe v in a histogram series. */
void		 hyp_series_observe(hyp_series_t *s, double v);

/** Current value of a counter or gauge series (count for a histogram). */
double		 hyp_series_value(const hyp_series_t *s);

/** Convenience: add to the label-less series of a counter. */
void		 hyp_counter_inc(hyp_metric_t *m, double v);

/**
 * Register a gauge whose value is read by fn(arg) at render time (process
 * CPU, RSS, open fds).  fn runs on the loop thread.  The registration is
 * withdrawn when p unloads (p NULL: lives for the process).
 */
hyp_metric_t	*hyp_gauge_fn_new(hyp_plugin_t *p, const char *name,
		    const char *help, double (*fn)(void *arg), void *arg, int *err);

/**
 * Call fn(arg) at the start of every hyp_metrics_render(), so a plugin can
 * copy counters it keeps elsewhere (e.g. its QUIC endpoint's) into the
 * registry and scrapes are exact (ABI 1.2).  fn must not render or
 * register metrics.  Withdrawn when p unloads.
 * @return 0, HYP_EINVAL, HYP_ENOSPC (64 callbacks), HYP_ENOMEM.
 */
int		 hyp_metrics_on_render(hyp_plugin_t *p, void (*fn)(void *arg),
		    void *arg);

/**
 * Render every metric in the Prometheus text format 0.0.4, families sorted
 * by name.  *out is malloc'd and NUL-terminated; the caller frees it with
 * free().  *len (when not NULL) gets its length without the NUL.
 */
int		 hyp_metrics_render(char **out, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_METRICS_H */
