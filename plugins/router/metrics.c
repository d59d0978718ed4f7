/*
 * metrics.c: the router's metric families.  Labels are bounded: pools by
 * the configuration (64), backends by RT_MAX_BACKENDS plus headroom for
 * run-time churn; past the bound the host folds series into "other".
 */
#include <stdio.h>

#include "router.h"

#define RT_SERIES_POOLS		((RT_MAX_POOLS + 1) * RT_R__COUNT * 2)
#define RT_SERIES_BACKENDS	(RT_MAX_BACKENDS * 2)

static const char *const rt_result_names[RT_R__COUNT] = {
	"refer", "proxy", "deny", "fallback",
};

/* Register a family; log and return NULL on failure. */
static hyp_metric_t *
family(struct router *r, enum hyp_metric_type type, const char *name,
    const char *help, const char *const *labels, unsigned max)
{
	hyp_metric_t	*m;
	int		 err = 0;

	m = hyp_metric_new(r->p, type, name, help, labels, max, NULL, 0, &err);
	if (m == NULL)
		hyp_log(r->p, HYP_LOG_WARNING, "metric %s: %s", name,
		    hyp_strerror(err));
	return (m);
}

/* Register every family and the label-less series. */
void
rt_metrics_init(struct router *r)
{
	static const char *const pool_result[] = { "pool", "result", NULL };
	static const char *const backend[] = { "backend", NULL };
	static const char *const backend_state[] = { "backend", "state", NULL };
	static const char *const result[] = { "result", NULL };
	const char	*v[2];
	int		 i;

	r->m.decisions = family(r, HYP_METRIC_COUNTER,
	    "hyprox_router_decisions_total", "Routing decisions by pool and "
	    "result (fallback: the pool's chain was used).", pool_result,
	    RT_SERIES_POOLS);
	r->m.up = family(r, HYP_METRIC_GAUGE, "hyprox_router_backend_up",
	    "1 when the backend passes health checks and its circuit is not "
	    "open.", backend, RT_SERIES_BACKENDS);
	r->m.players = family(r, HYP_METRIC_GAUGE,
	    "hyprox_router_backend_players", "Players reported for the "
	    "backend.", backend, RT_SERIES_BACKENDS);
	r->m.reserved = family(r, HYP_METRIC_GAUGE,
	    "hyprox_router_backend_reserved", "Players referred to the backend "
	    "whose reservation has not expired.", backend, RT_SERIES_BACKENDS);
	r->m.changes = family(r, HYP_METRIC_COUNTER,
	    "hyprox_router_backend_state_changes_total", "Backend state "
	    "changes by the state entered.", backend_state,
	    RT_SERIES_BACKENDS * 5);
	r->m.probes = family(r, HYP_METRIC_COUNTER,
	    "hyprox_router_health_probes_total", "Active health probes by "
	    "result.", result, 8);
	if (r->m.decisions != NULL) {
		for (i = 0; i < RT_R__COUNT; i++) {
			v[0] = "none";
			v[1] = rt_result_names[i];
			r->m.nopool[i] = hyp_metric_series(r->m.decisions, v);
		}
	}
	if (r->m.probes != NULL) {
		v[0] = "ok";
		r->m.probe_ok = hyp_metric_series(r->m.probes, v);
		v[0] = "fail";
		r->m.probe_fail = hyp_metric_series(r->m.probes, v);
		v[0] = "timeout";
		r->m.probe_timeout = hyp_metric_series(r->m.probes, v);
	}
	r->have_metrics = 1;
}

/* Resolve a pool's decision series. */
void
rt_metrics_pool(struct router *r, struct rt_pool *pl)
{
	const char	*v[2];
	int		 i;

	if (r->m.decisions == NULL)
		return;
	for (i = 0; i < RT_R__COUNT; i++) {
		v[0] = pl->id;
		v[1] = rt_result_names[i];
		pl->m_dec[i] = hyp_metric_series(r->m.decisions, v);
	}
}

/* Resolve a backend's gauges and set them. */
void
rt_metrics_backend(struct router *r, struct rt_backend *b)
{
	const char	*v[1] = { b->id };

	if (r->m.up != NULL)
		b->m_up = hyp_metric_series(r->m.up, v);
	if (r->m.players != NULL)
		b->m_players = hyp_metric_series(r->m.players, v);
	if (r->m.reserved != NULL)
		b->m_reserved = hyp_metric_series(r->m.reserved, v);
	rt_metrics_load(b);
}

/* Publish a backend's players and reservations. */
void
rt_metrics_load(struct rt_backend *b)
{
	if (b->m_players != NULL)
		hyp_series_set(b->m_players, b->players);
	if (b->m_reserved != NULL)
		hyp_series_set(b->m_reserved, b->reserved);
}

/* Count a state change of b into st. */
void
rt_metrics_state_change(struct router *r, struct rt_backend *b,
    enum hyp_router_state st)
{
	const char	*v[2] = { b->id, rt_state_name(st) };
	hyp_series_t	*s;

	if (r->m.changes != NULL &&
	    (s = hyp_metric_series(r->m.changes, v)) != NULL)
		hyp_series_add(s, 1);
}

/* A backend left the table: zero its gauges (series live on). */
void
rt_metrics_gone(struct rt_backend *b)
{
	if (b->m_up != NULL)
		hyp_series_set(b->m_up, 0);
	if (b->m_players != NULL)
		hyp_series_set(b->m_players, 0);
	if (b->m_reserved != NULL)
		hyp_series_set(b->m_reserved, 0);
}
