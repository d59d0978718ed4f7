/*
 * service.c: service "router" v1: backends added, drained, removed and
 * reported on at run time (the registry uses it).  ctx is the struct
 * router.  Run-time backends are "dynamic": a reload keeps them while
 * their pool exists.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "router.h"

/* Whether s is 1..max printable ASCII characters without spaces. */
static int
token_ok(const char *s, size_t max)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		return (0);
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= max || s[n] <= ' ' || s[n] > '~')
			return (0);
	}
	return (1);
}

/* Check a backend description from another plugin. */
static int
upsert_valid(const struct hyp_router_backend *d)
{
	size_t	i;

	if (d == NULL || !rt_id_valid(d->id) || d->pool == NULL ||
	    !token_ok(d->host, RT_HOST_MAX) || d->port == 0 ||
	    d->weight > 10000 || d->max_players > 10000000 ||
	    d->ntags > RT_MAX_TAGS || (d->ntags > 0 && d->tags == NULL))
		return (0);
	for (i = 0; i < d->ntags; i++) {
		if (!token_ok(d->tags[i], RT_TAG_MAX))
			return (0);
	}
	return (1);
}

/* Copy the non-address fields of d into b. */
static void
upsert_fields(struct rt_backend *b, const struct hyp_router_backend *d)
{
	size_t	i;

	b->weight = d->weight == 0 ? 1 : d->weight;
	b->max_players = d->max_players;
	memset(b->tags, 0, sizeof(b->tags));
	for (i = 0; i < d->ntags; i++)
		snprintf(b->tags[i], sizeof(b->tags[i]), "%s", d->tags[i]);
	b->ntags = d->ntags;
}

/* upsert(): add a backend or update a run-time one. */
static int
svc_upsert(void *ctx, const struct hyp_router_backend *d)
{
	struct router		*r = ctx;
	struct rt_table		*t = r->cur;
	struct rt_backend	*b;
	struct rt_pool		*op;
	hyp_backend_t		*hb;
	uint64_t		 now;
	int			 pi, rc;

	if (t == NULL || !upsert_valid(d))
		return (HYP_EINVAL);
	if ((pi = rt_pool_find(t, d->pool)) < 0)
		return (HYP_ENOENT);
	now = r->now(r);
	if ((b = rt_find(t, d->id)) != NULL) {
		if (!b->dynamic)
			return (HYP_EEXIST);
		if (strcmp(b->host, d->host) != 0 || b->port != d->port ||
		    b->pool != &t->pools[pi]) {
			if ((hb = hyp_backend_new(d->id, d->host, d->port)) ==
			    NULL || hyp_backend_set_pool(hb, d->pool) != 0) {
				hyp_backend_unref(hb);
				return (HYP_ENOMEM);
			}
			if ((op = b->pool) != &t->pools[pi]) {
				if ((rc = rt_pool_add(&t->pools[pi], b)) != 0) {
					hyp_backend_unref(hb);
					return (rc);
				}
				rt_pool_del(op, b);
			}
			if (strcmp(b->host, d->host) != 0 ||
			    b->port != d->port) {
				if (b->probing && r->probe_cancel != NULL)
					r->probe_cancel(r, b);
				b->probing = 0;
				snprintf(b->host, sizeof(b->host), "%s", d->host);
				b->port = d->port;
				rt_health_fresh(r, b, now);
				snprintf(b->why, sizeof(b->why), "address "
				    "changed to %.80s port %u", b->host, b->port);
			}
			hyp_backend_unref(b->hb);
			b->hb = hb;
		}
		upsert_fields(b, d);
		rt_metrics_load(b);
		rt_sync(r, b, now);
		return (0);
	}
	if (t->nb >= RT_MAX_BACKENDS)
		return (HYP_ENOSPC);
	if ((b = rt_backend_new(d->id, d->host, d->port)) == NULL)
		return (HYP_ENOMEM);
	upsert_fields(b, d);
	b->dynamic = 1;
	if ((rc = rt_pool_add(&t->pools[pi], b)) != 0) {
		rt_backend_free(r, b);
		return (rc);
	}
	if ((b->hb = hyp_backend_new(b->id, b->host, b->port)) == NULL ||
	    hyp_backend_set_pool(b->hb, d->pool) != 0) {
		rt_pool_del(&t->pools[pi], b);
		rt_backend_free(r, b);
		return (HYP_ENOMEM);
	}
	t->all[t->nb++] = b;
	rt_health_fresh(r, b, now);
	rt_metrics_backend(r, b);
	rt_sync(r, b, now);
	hyp_log(r->p, HYP_LOG_INFO, "backend %s added to pool %s at run time "
	    "(%s port %u)", b->id, d->pool, b->host, b->port);
	return (0);
}

/* drain(): start or stop draining a backend. */
static int
svc_drain(void *ctx, const char *id, int drain)
{
	struct router		*r = ctx;
	struct rt_backend	*b;

	if ((b = rt_find(r->cur, id)) == NULL)
		return (HYP_ENOENT);
	if (b->drain_rt != (drain != 0))
		snprintf(b->why, sizeof(b->why), "%s", drain ? "drain "
		    "requested" : "drain lifted");
	b->drain_rt = drain != 0;
	rt_sync(r, b, r->now(r));
	return (0);
}

/* remove(): forget a backend. */
static int
svc_remove(void *ctx, const char *id)
{
	struct router		*r = ctx;
	struct rt_table		*t = r->cur;
	struct rt_backend	*b;
	size_t			 i;

	if ((b = rt_find(t, id)) == NULL)
		return (HYP_ENOENT);
	for (i = 0; i < t->nb; i++) {
		if (t->all[i] == b) {
			memmove(&t->all[i], &t->all[i + 1],
			    (t->nb - i - 1) * sizeof(t->all[0]));
			t->nb--;
			break;
		}
	}
	if (b->pool != NULL)
		rt_pool_del(b->pool, b);
	hyp_log(r->p, HYP_LOG_INFO, "backend %s removed", b->id);
	rt_metrics_gone(b);
	rt_backend_free(r, b);
	return (0);
}

/* report_players(): the backend's current player count. */
static int
svc_report_players(void *ctx, const char *id, uint32_t players)
{
	struct router		*r = ctx;
	struct rt_backend	*b;

	if ((b = rt_find(r->cur, id)) == NULL)
		return (HYP_ENOENT);
	b->players = players;
	rt_resv_expire(b, r->now(r));
	rt_metrics_load(b);
	return (0);
}

/* report_failure(): a passive failure for the circuit breaker. */
static int
svc_report_failure(void *ctx, const char *id)
{
	struct router		*r = ctx;
	struct rt_backend	*b;

	if ((b = rt_find(r->cur, id)) == NULL)
		return (HYP_ENOENT);
	rt_circuit_failure(r, b, r->now(r));
	return (0);
}

/* list(): every backend, pools in configuration order. */
static int
svc_list(void *ctx, void (*fn)(void *, const struct hyp_router_backend_info *),
    void *arg)
{
	struct router			*r = ctx;
	struct rt_table			*t = r->cur;
	struct rt_backend		*b;
	struct hyp_router_backend_info	 info;
	const char			*tags[RT_MAX_TAGS];
	uint64_t			 now = r->now(r);
	size_t				 i, j, k;
	int				 n = 0;

	if (t == NULL || fn == NULL)
		return (0);
	for (i = 0; i < t->npools; i++) {
		for (j = 0; j < t->pools[i].nb; j++) {
			b = t->pools[i].b[j];
			rt_resv_expire(b, now);
			memset(&info, 0, sizeof(info));
			for (k = 0; k < b->ntags; k++)
				tags[k] = b->tags[k];
			info.b.id = b->id;
			info.b.pool = t->pools[i].id;
			info.b.host = b->host;
			info.b.port = b->port;
			info.b.weight = b->weight;
			info.b.max_players = b->max_players;
			info.b.tags = b->ntags > 0 ? tags : NULL;
			info.b.ntags = b->ntags;
			info.state = rt_state(r, b, now);
			info.players = b->players;
			info.reserved = b->reserved;
			info.dynamic = b->dynamic;
			fn(arg, &info);
			n++;
		}
	}
	return (n);
}

const struct hyp_router_v1 rt_service_v1 = {
	.size = sizeof(struct hyp_router_v1),
	.upsert = svc_upsert,
	.drain = svc_drain,
	.remove = svc_remove,
	.report_players = svc_report_players,
	.report_failure = svc_report_failure,
	.list = svc_list,
};
