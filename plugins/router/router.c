/*
 * router.c: the router plugin's descriptor and lifecycle: the route hook,
 * the "router" service, the tick timer and active health probes through
 * the transport's "connector" service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "router.h"

#define RT_TICK_MAX_MS		1000
#define RT_TICK_MIN_MS		20

/* What only the running plugin has: timer and connector. */
struct rt_env {
	hyp_timer_t			*tick;
	uint32_t			 tick_ms;
	const struct hyp_connector_v1	*cn;
	void				*cn_ctx;
};

/* One probe in flight; found again by backend id and sequence. */
struct rt_probe {
	struct router	*r;
	uint64_t	 seq;
	uint64_t	 cid;
	char		 id[RT_ID_MAX + 1];
};

/* The host's monotonic clock. */
static uint64_t
real_now(struct router *r)
{
	(void)r;
	return (hyp_now_us());
}

/* A uniform random number below upper (libsodium). */
static uint32_t
real_rand(struct router *r, uint32_t upper)
{
	(void)r;
	return (upper > 1 ? randombytes_uniform(upper) : 0);
}

/* The connector calls back: feed the result to the backend, if still there. */
static void
probe_done(void *arg, const struct hyp_probe_result *res)
{
	struct rt_probe		*pr = arg;
	struct router		*r = pr->r;
	struct rt_backend	*b;
	const char		*detail;
	int			 timeout = res->rc == HYP_ETIMEDOUT;

	b = rt_find(r->cur, pr->id);
	if (b != NULL && b->probing && b->probe == pr &&
	    b->probe_seq == pr->seq) {
		detail = timeout ? "timeout" : res->detail != NULL ?
		    res->detail : hyp_strerror(res->rc);
		if (res->rc != 0 && hyp_log_enabled(HYP_LOG_DEBUG))
			hyp_log(r->p, HYP_LOG_DEBUG, "probe of %s failed: %s",
			    b->id, detail);
		rt_health_result(r, b, res->rc == 0, timeout, detail,
		    r->now(r));
	}
	free(pr);
}

/* Start a QUIC handshake probe of b through the connector. */
static int
probe_start(struct router *r, struct rt_backend *b)
{
	struct rt_env		*e = r->env;
	struct hyp_probe_opts	 o;
	struct rt_probe		*pr;
	int			 rc;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return (HYP_ENOMEM);
	pr->r = r;
	pr->seq = b->probe_seq;
	memcpy(pr->id, b->id, sizeof(pr->id));
	memset(&o, 0, sizeof(o));
	o.host = b->host;
	o.port = b->port;
	o.alpn = r->cur->set.alpn;
	o.timeout_ms = r->cur->set.timeout_ms;
	o.verify = 0;
	if ((rc = e->cn->probe(e->cn_ctx, &o, probe_done, pr,
	    &pr->cid)) != 0) {
		free(pr);
		return (rc);
	}
	b->probe = pr;
	return (0);
}

/* Cancel b's probe in flight. */
static void
probe_cancel(struct router *r, struct rt_backend *b)
{
	struct rt_env	*e = r->env;
	struct rt_probe	*pr = b->probe;

	if (pr != NULL) {
		e->cn->cancel(e->cn_ctx, pr->cid);
		free(pr);
	}
	b->probe = NULL;
	b->probing = 0;
}

/* Cancel every probe in flight. */
static void
cancel_all(struct router *r)
{
	size_t	i;

	if (r->cur == NULL || r->probe_cancel == NULL)
		return;
	for (i = 0; i < r->cur->nb; i++) {
		if (r->cur->all[i]->probing)
			r->probe_cancel(r, r->cur->all[i]);
	}
}

/* The route hook. */
static enum hyp_hook_rc
route_hook(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	(void)p;
	(void)arg;
	return (rt_route_session(ud, s));
}

/* The tick timer. */
static void
tick_fire(hyp_plugin_t *p, void *arg)
{
	struct router	*r = arg;

	(void)p;
	rt_tick(r, r->now(r));
}

/* Tick often enough for the health interval, at least once a second. */
static uint32_t
tick_ms_for(const struct rt_settings *set)
{
	uint32_t	ms = set->interval_ms / 4;

	if (ms > RT_TICK_MAX_MS)
		ms = RT_TICK_MAX_MS;
	if (ms < RT_TICK_MIN_MS)
		ms = RT_TICK_MIN_MS;
	return (ms);
}

/* Free everything; safe on a partly loaded router. */
static void
router_free(struct router *r)
{
	struct rt_env	*e;

	if (r == NULL)
		return;
	e = r->env;
	cancel_all(r);
	rt_router_free(r);
	if (e != NULL) {
		hyp_timer_free(e->tick);
		free(e);
	}
	free(r);
}

/* Parse the configuration, build the tables, provide the service. */
static int
rt_load(hyp_plugin_t *p, const void *conf)
{
	struct router	*r;
	char		 err[512];
	int		 rc;

	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (HYP_ENOMEM);
	rt_router_init(r, p);
	r->now = real_now;
	r->rand = real_rand;
	if ((r->env = calloc(1, sizeof(struct rt_env))) == NULL) {
		router_free(r);
		return (HYP_ENOMEM);
	}
	if ((rc = rt_table_build(conf, &r->cur, err, sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		router_free(r);
		return (rc);
	}
	rt_metrics_init(r);
	if ((rc = rt_table_activate(r, r->cur)) != 0 ||
	    (rc = hyp_service_provide(p, HYP_ROUTER_SERVICE, HYP_ROUTER_VERSION,
	    &rt_service_v1, r)) != 0 ||
	    (rc = hyp_hook_register(p, HYP_HOOK_ROUTE, RT_PRIORITY, route_hook,
	    r)) != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot set up: %s", hyp_strerror(rc));
		router_free(r);
		return (rc);
	}
	hyp_plugin_set_ctx(p, r);
	return (0);
}

/* Readiness "backends": a backend up, not draining, circuit not open. */
static int
ready_backends(void *arg, char *why, size_t whylen)
{
	struct router		*r = arg;
	struct rt_backend	*b;
	uint64_t		 now = r->now(r);
	size_t			 i;

	for (i = 0; i < r->cur->nb; i++) {
		b = r->cur->all[i];
		rt_sync(r, b, now);
		if (b->state == HYP_BACKEND_UP ||
		    b->state == HYP_BACKEND_HALF_OPEN)
			return (1);
	}
	if (r->cur->nb == 0)
		snprintf(why, whylen, "no backend is configured");
	else
		snprintf(why, whylen, "none of %zu backends is eligible "
		    "(%s: %s%s%s)", r->cur->nb, r->cur->all[0]->id,
		    rt_state_name((enum hyp_router_state)r->cur->all[0]->state),
		    r->cur->all[0]->why[0] != '\0' ? ", " : "",
		    r->cur->all[0]->why);
	return (0);
}

/* Find the connector, seed the health state, start the tick. */
static int
rt_start(hyp_plugin_t *p)
{
	struct router	*r = hyp_plugin_ctx(p);
	struct rt_env	*e = r->env;
	uint64_t	 now = r->now(r);
	size_t		 i;

	e->cn = hyp_service_get(HYP_CONNECTOR_SERVICE, 1, &e->cn_ctx, NULL);
	if (e->cn != NULL && (e->cn->size < sizeof(*e->cn) ||
	    e->cn->probe == NULL || e->cn->cancel == NULL))
		e->cn = NULL;
	if (e->cn != NULL) {
		r->probe_start = probe_start;
		r->probe_cancel = probe_cancel;
	} else
		hyp_log(p, HYP_LOG_WARNING, "no \"connector\" service (is the "
		    "transport plugin loaded?): health checks are disabled and "
		    "every backend counts as up");
	r->health_on = r->probe_start != NULL && r->cur->set.health_enabled;
	for (i = 0; i < r->cur->nb; i++) {
		rt_health_fresh(r, r->cur->all[i], now);
		rt_sync(r, r->cur->all[i], now);
	}
	e->tick_ms = tick_ms_for(&r->cur->set);
	if ((e->tick = hyp_timer_new(p, tick_fire, r)) == NULL ||
	    hyp_timer_start(e->tick, e->tick_ms, 1) != 0)
		return (HYP_ENOMEM);
	if (hyp_ready_register(p, "backends", ready_backends, r) != 0)
		hyp_log(p, HYP_LOG_WARNING, "cannot register the readiness "
		    "check");
	hyp_log(p, HYP_LOG_INFO, "%zu pools, %zu routes, %zu backends; health "
	    "checks %s (every %ums, timeout %ums, rise %u, fall %u)",
	    r->cur->npools, r->cur->nroutes, r->cur->nb, r->health_on ? "on" :
	    "off", r->cur->set.interval_ms, r->cur->set.timeout_ms,
	    r->cur->set.rise, r->cur->set.fall);
	return (0);
}

/* Phased reload. */
static int
rt_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct router	*r = hyp_plugin_ctx(p);
	struct rt_env	*e = r->env;
	char		 err[512];
	uint32_t	 ms;
	int		 rc;

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		if ((rc = rt_reload_prepare(r, new_conf, err,
		    sizeof(err))) != 0)
			hyp_log(p, HYP_LOG_ERR, "reload refused: %s", err);
		return (rc);
	case HYP_RELOAD_COMMIT:
		rt_reload_commit(r);
		ms = tick_ms_for(&r->cur->set);
		if (e->tick != NULL && ms != e->tick_ms) {
			e->tick_ms = ms;
			hyp_timer_start(e->tick, ms, 1);
		}
		return (0);
	case HYP_RELOAD_ABORT:
		rt_reload_abort(r);
		return (0);
	default:
		return (HYP_EINVAL);
	}
}

/* Stop probing; decisions need no draining. */
static int
rt_stop(hyp_plugin_t *p)
{
	struct router	*r = hyp_plugin_ctx(p);
	struct rt_env	*e = r->env;

	if (e->tick != NULL)
		hyp_timer_stop(e->tick);
	cancel_all(r);
	r->health_on = 0;
	return (0);
}

/* Free everything. */
static void
rt_unload(hyp_plugin_t *p)
{
	router_free(hyp_plugin_ctx(p));
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "router",
	.version = "1.0.0",
	.summary = "pools, routes, strategies, health, capacity and fallback",
	.conf_schema = &rt_conf_schema,
	.conf_check = rt_conf_check,
	.load = rt_load,
	.start = rt_start,
	.reload = rt_reload,
	.stop = rt_stop,
	.unload = rt_unload,
);
