/*
 * metrics.c: the transport's metrics.  Endpoint counters (datagrams, bytes,
 * Retry, version negotiation, stateless resets) are copied from
 * hq_server_stats() as deltas before every render (and when an endpoint
 * is freed), so scrapes are exact; events the plugin sees itself
 * (handshakes, admissions, sessions, durations) are counted as they
 * happen; the two gauges are read at render time.
 */
#include <stddef.h>

#include "transport.h"

const char *const tp_outcome_names[TP_OUT__COUNT] = {
	"referred", "denied", "no-route", "proxy-unsupported", "timeout",
	"bad-connect", "closed", "handshake-failed", "refused", "shutdown",
	"error"
};

const char *const tp_refusal_names[TP_REF__COUNT] = {
	"rate_limited", "per_ip_cap", "half_open_cap", "max_connections",
	"denied", "draining"
};

static const char *const hs_names[TP_HS__COUNT] = { "ok", "failed", "timeout" };

/* Sum a gauge field over every server of tp. */
static double
tp_sum(struct transport *tp, size_t off)
{
	struct tp_server	*srv;
	double			 v = 0;

	if (tp->cur != NULL)
		v += *(const uint64_t *)(const void *)((const char *)
		    hq_server_stats(tp->cur->hq) + off);
	TAILQ_FOREACH(srv, &tp->old, entry)
		v += *(const uint64_t *)(const void *)((const char *)
		    hq_server_stats(srv->hq) + off);
	return (v);
}

/* Gauge: connections the endpoints hold. */
static double
tp_gauge_conns(void *arg)
{
	return (tp_sum(arg, offsetof(struct hq_stats, conns_active)));
}

/* Gauge: handshakes in progress. */
static double
tp_gauge_half_open(void *arg)
{
	return (tp_sum(arg, offsetof(struct hq_stats, conns_half_open)));
}

/* One series of a labelled metric. */
static hyp_series_t *
series1(hyp_metric_t *m, const char *v)
{
	const char	*vals[1] = { v };

	return (m != NULL ? hyp_metric_series(m, vals) : NULL);
}

/* Register every metric and resolve its series. */
int
tp_metrics_init(struct transport *tp)
{
	static const char *const dir[] = { "direction", NULL };
	static const char *const outc[] = { "outcome", NULL };
	static const char *const reason[] = { "reason", NULL };
	static const double	 hs_b[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	struct tp_metrics	*m = &tp->m;
	hyp_plugin_t		*p = tp->p;
	hyp_metric_t		*x;
	int			 err = 0, i;

	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_datagrams_total", "UDP datagrams by direction.",
	    dir, 2, NULL, 0, &err);
	m->dgrams[0] = series1(x, "in");
	m->dgrams[1] = series1(x, "out");
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_bytes_total", "UDP payload bytes by direction.",
	    dir, 2, NULL, 0, &err);
	m->bytes[0] = series1(x, "in");
	m->bytes[1] = series1(x, "out");
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_handshakes_total",
	    "QUIC handshakes by outcome (ok, failed, timeout).", outc, 3, NULL,
	    0, &err);
	for (i = 0; i < TP_HS__COUNT; i++)
		m->hs[i] = series1(x, hs_names[i]);
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_retry_sent_total", "Retry packets sent.", NULL,
	    0, NULL, 0, &err);
	m->retry = x != NULL ? hyp_metric_series(x, NULL) : NULL;
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_version_negotiation_sent_total",
	    "Version Negotiation packets sent.", NULL, 0, NULL, 0, &err);
	m->vn = x != NULL ? hyp_metric_series(x, NULL) : NULL;
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_stateless_resets_sent_total",
	    "Stateless resets sent (rate-limited).", NULL, 0, NULL, 0, &err);
	m->resets = x != NULL ? hyp_metric_series(x, NULL) : NULL;
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_admissions_refused_total",
	    "New connections refused before the handshake, by reason.",
	    reason, TP_REF__COUNT, NULL, 0, &err);
	for (i = 0; i < TP_REF__COUNT; i++)
		m->refused[i] = series1(x, tp_refusal_names[i]);
	x = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_transport_sessions_total", "Sessions ended, by outcome.",
	    outc, TP_OUT__COUNT, NULL, 0, &err);
	for (i = 0; i < TP_OUT__COUNT; i++)
		m->sessions[i] = series1(x, tp_outcome_names[i]);
	x = hyp_metric_new(p, HYP_METRIC_HISTOGRAM,
	    "hyprox_transport_handshake_duration_seconds",
	    "Time from the first packet to handshake completion.", NULL, 0,
	    hs_b, sizeof(hs_b) / sizeof(hs_b[0]), &err);
	m->hs_dur = x != NULL ? hyp_metric_series(x, NULL) : NULL;
	x = hyp_metric_new(p, HYP_METRIC_HISTOGRAM,
	    "hyprox_transport_decision_duration_seconds",
	    "Time from the first packet to the routing decision.", NULL, 0,
	    hs_b, sizeof(hs_b) / sizeof(hs_b[0]), &err);
	m->dec_dur = x != NULL ? hyp_metric_series(x, NULL) : NULL;
	if (hyp_gauge_fn_new(p, "hyprox_transport_connections",
	    "QUIC connections held (including handshakes and closing ones).",
	    tp_gauge_conns, tp, &err) == NULL ||
	    hyp_gauge_fn_new(p, "hyprox_transport_half_open",
	    "QUIC handshakes in progress.", tp_gauge_half_open, tp,
	    &err) == NULL)
		return (err != 0 ? err : HYP_ENOMEM);
	if ((i = hyp_metrics_on_render(p, tp_metrics_render, tp)) != 0)
		return (i);
	return (err);
}

/* Pre-render callback: copy every endpoint's counters. */
void
tp_metrics_render(void *arg)
{
	struct transport	*tp = arg;
	struct tp_server	*srv;

	if (tp->cur != NULL && tp->cur->hq != NULL)
		tp_metrics_stats(tp, hq_server_stats(tp->cur->hq),
		    &tp->cur->last);
	TAILQ_FOREACH(srv, &tp->old, entry) {
		if (srv->hq != NULL)
			tp_metrics_stats(tp, hq_server_stats(srv->hq),
			    &srv->last);
	}
}

/* Add a counter delta when the series exists. */
static void
add(hyp_series_t *s, uint64_t now, uint64_t last)
{
	if (s != NULL && now > last)
		hyp_series_add(s, (double)(now - last));
}

/* Count what an endpoint did since the last call. */
void
tp_metrics_stats(struct transport *tp, const struct hq_stats *now,
    struct hq_stats *last)
{
	struct tp_metrics	*m = &tp->m;

	add(m->dgrams[0], now->dgrams_in, last->dgrams_in);
	add(m->dgrams[1], now->dgrams_out, last->dgrams_out);
	add(m->bytes[0], now->bytes_in, last->bytes_in);
	add(m->bytes[1], now->bytes_out, last->bytes_out);
	add(m->retry, now->retries_sent, last->retries_sent);
	add(m->vn, now->vn_sent, last->vn_sent);
	add(m->resets, now->resets_sent, last->resets_sent);
	*last = *now;
}
