/*
 * table.c: the router's tables: backends and pools, reservations, and the
 * phased reload that carries live state over to unchanged backends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

/* Allocate a backend with its identity; state starts UP and empty. */
struct rt_backend *
rt_backend_new(const char *id, const char *host, uint16_t port)
{
	struct rt_backend	*b;

	if (strlen(id) > RT_ID_MAX || strlen(host) > RT_HOST_MAX)
		return (NULL);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	memcpy(b->id, id, strlen(id) + 1);
	memcpy(b->host, host, strlen(host) + 1);
	b->port = port;
	b->weight = 1;
	b->health = RT_H_UP;
	b->circuit = RT_C_CLOSED;
	b->state = -1;
	return (b);
}

/* Free a backend: cancel its probe, drop its host object. */
void
rt_backend_free(struct router *r, struct rt_backend *b)
{
	if (b == NULL)
		return;
	if (b->probing && r != NULL && r->probe_cancel != NULL)
		r->probe_cancel(r, b);
	b->probing = 0;
	hyp_backend_unref(b->hb);
	free(b);
}

/* Append b to a pool's member list. */
int
rt_pool_add(struct rt_pool *pl, struct rt_backend *b)
{
	struct rt_backend	**nb;
	size_t			  cap;

	if (pl->nb == pl->cap) {
		cap = pl->cap == 0 ? 8 : pl->cap * 2;
		if (cap > RT_MAX_BACKENDS)
			cap = RT_MAX_BACKENDS;
		if (cap <= pl->nb)
			return (HYP_ENOSPC);
		if ((nb = realloc(pl->b, cap * sizeof(*nb))) == NULL)
			return (HYP_ENOMEM);
		pl->b = nb;
		pl->cap = cap;
	}
	pl->b[pl->nb++] = b;
	b->pool = pl;
	return (0);
}

/* Remove b from a pool's member list, keeping the order. */
void
rt_pool_del(struct rt_pool *pl, struct rt_backend *b)
{
	size_t	i;

	for (i = 0; i < pl->nb; i++) {
		if (pl->b[i] == b) {
			memmove(&pl->b[i], &pl->b[i + 1],
			    (pl->nb - i - 1) * sizeof(pl->b[0]));
			pl->nb--;
			break;
		}
	}
	if (b->pool == pl)
		b->pool = NULL;
}

/* Free the match lists of a route. */
static void
match_free(struct rt_match *m)
{
	size_t	i;

	for (i = 0; i < m->nsni; i++)
		free(m->sni[i]);
	free(m->sni);
	for (i = 0; i < m->nalpn; i++)
		free(m->alpn[i]);
	free(m->alpn);
	for (i = 0; i < m->nuser; i++)
		free(m->user[i]);
	free(m->user);
	free(m->crc);
	free(m->ref);
	free(m->uuid);
	free(m->cidr);
}

/* Free a table and every backend it still owns. */
void
rt_table_free(struct router *r, struct rt_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb; i++)
		rt_backend_free(r, t->all[i]);
	for (i = 0; i < t->npools; i++)
		free(t->pools[i].b);
	free(t->pools);
	for (i = 0; i < t->nroutes; i++) {
		match_free(&t->routes[i].m);
		free(t->routes[i].deny);
	}
	free(t->routes);
	free(t);
}

/* The backend with this id, or NULL. */
struct rt_backend *
rt_find(const struct rt_table *t, const char *id)
{
	size_t	i;

	if (t == NULL || id == NULL)
		return (NULL);
	for (i = 0; i < t->nb; i++) {
		if (strcmp(t->all[i]->id, id) == 0)
			return (t->all[i]);
	}
	return (NULL);
}

/* The index of the pool with this id, or -1. */
int
rt_pool_find(const struct rt_table *t, const char *id)
{
	size_t	i;

	if (t == NULL || id == NULL)
		return (-1);
	for (i = 0; i < t->npools; i++) {
		if (strcmp(t->pools[i].id, id) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Create the host objects of a table: backends for sessions, series. */
int
rt_table_activate(struct router *r, struct rt_table *t)
{
	struct rt_backend	*b;
	size_t			 i;

	for (i = 0; i < t->npools; i++)
		rt_metrics_pool(r, &t->pools[i]);
	for (i = 0; i < t->nb; i++) {
		b = t->all[i];
		if (b->hb == NULL) {
			if ((b->hb = hyp_backend_new(b->id, b->host,
			    b->port)) == NULL ||
			    hyp_backend_set_pool(b->hb, b->pool->id) != 0)
				return (HYP_ENOMEM);
		}
		rt_metrics_backend(r, b);
	}
	t->active = 1;
	return (0);
}

/* Add a reservation that expires ttl_ms from now (coalesced, bounded). */
void
rt_resv_add(struct rt_backend *b, uint64_t now, uint32_t ttl_ms)
{
	struct rt_resv	*tail;
	uint64_t	 until = now + (uint64_t)ttl_ms * 1000;
	uint64_t	 grain = (uint64_t)ttl_ms * 1000 / RT_RESV_GRAIN;
	unsigned	 at;

	if (ttl_ms == 0)
		return;
	rt_resv_expire(b, now);
	if (b->rcount > 0) {
		tail = &b->resv[(b->rhead + b->rcount - 1) % RT_RESV_SLOTS];
		/* Same grain, or no slot left: extend the newest entry. */
		if (until <= tail->until + grain ||
		    b->rcount == RT_RESV_SLOTS) {
			if (until > tail->until)
				tail->until = until;
			tail->n++;
			b->reserved++;
			return;
		}
	}
	at = (b->rhead + b->rcount) % RT_RESV_SLOTS;
	b->resv[at].until = until;
	b->resv[at].n = 1;
	b->rcount++;
	b->reserved++;
}

/* Drop reservations whose time has passed. */
void
rt_resv_expire(struct rt_backend *b, uint64_t now)
{
	struct rt_resv	*e;

	while (b->rcount > 0) {
		e = &b->resv[b->rhead];
		if (e->until > now)
			break;
		b->reserved -= e->n < b->reserved ? e->n : b->reserved;
		b->rhead = (b->rhead + 1) % RT_RESV_SLOTS;
		b->rcount--;
	}
	if (b->rcount == 0)
		b->reserved = 0;
}

/* Copy the live state of old into b (same id, host and port). */
static void
carry_state(struct rt_backend *b, const struct rt_backend *old)
{
	b->health = old->health;
	b->h_ok = old->h_ok;
	b->h_fail = old->h_fail;
	b->next_probe_us = old->next_probe_us;
	b->circuit = old->circuit;
	b->c_fail = old->c_fail;
	b->open_until = old->open_until;
	b->trial_until = old->trial_until;
	b->players = old->players;
	b->reserved = old->reserved;
	memcpy(b->resv, old->resv, sizeof(b->resv));
	b->rhead = old->rhead;
	b->rcount = old->rcount;
	b->cw = old->cw;
	b->drain_rt = old->drain_rt;
	b->state = old->state;
	memcpy(b->why, old->why, sizeof(b->why));
}

/* Copy a dynamic backend of the running table into the prepared one. */
static int
carry_dynamic(struct rt_table *t, const struct rt_backend *old)
{
	struct rt_backend	*b;
	int			 pi;

	if ((pi = rt_pool_find(t, old->pool->id)) < 0 ||
	    rt_find(t, old->id) != NULL)
		return (0);
	if (t->nb >= RT_MAX_BACKENDS)
		return (HYP_ENOSPC);
	if ((b = rt_backend_new(old->id, old->host, old->port)) == NULL)
		return (HYP_ENOMEM);
	b->weight = old->weight;
	b->max_players = old->max_players;
	memcpy(b->tags, old->tags, sizeof(b->tags));
	b->ntags = old->ntags;
	b->dynamic = 1;
	b->carry = 1;
	t->all[t->nb++] = b;
	return (rt_pool_add(&t->pools[pi], b));
}

/* PREPARE: build the new table and mark what will carry over. */
int
rt_reload_prepare(struct router *r, const struct rt_conf *c, char *err,
    size_t errlen)
{
	struct rt_table		*t;
	struct rt_backend	*b, *old;
	size_t			 i, dropped = 0;
	int			 rc;

	rt_reload_abort(r);
	if ((rc = rt_table_build(c, &t, err, errlen)) != 0)
		return (rc);
	for (i = 0; i < t->nb; i++) {
		b = t->all[i];
		old = rt_find(r->cur, b->id);
		b->carry = old != NULL && strcmp(old->host, b->host) == 0 &&
		    old->port == b->port;
	}
	for (i = 0; r->cur != NULL && i < r->cur->nb; i++) {
		old = r->cur->all[i];
		if (!old->dynamic)
			continue;
		if ((rc = carry_dynamic(t, old)) == HYP_ENOSPC)
			dropped++;
		else if (rc != 0) {
			snprintf(err, errlen, "out of memory");
			rt_table_free(r, t);
			return (rc);
		}
	}
	if (dropped > 0)
		hyp_log(r->p, HYP_LOG_WARNING, "reload: %zu run-time backends "
		    "dropped (more than %d backends)", dropped, RT_MAX_BACKENDS);
	if ((rc = rt_table_activate(r, t)) != 0) {
		snprintf(err, errlen, "out of memory");
		rt_table_free(r, t);
		return (rc);
	}
	r->prep = t;
	return (0);
}

/* COMMIT: copy live state, move probes, swap, free the old table. */
void
rt_reload_commit(struct router *r)
{
	struct rt_table		*t = r->prep, *old = r->cur;
	struct rt_backend	*b, *o;
	uint64_t		 now = r->now(r);
	size_t			 i, kept = 0, reset = 0;

	if (t == NULL)
		return;
	r->prep = NULL;
	r->cur = t;
	r->health_on = r->probe_start != NULL && t->set.health_enabled;
	for (i = 0; i < t->nb; i++) {
		b = t->all[i];
		o = rt_find(old, b->id);
		if (b->carry && o != NULL && strcmp(o->host, b->host) == 0 &&
		    o->port == b->port) {
			carry_state(b, o);
			b->probing = o->probing;
			b->probe_seq = o->probe_seq;
			b->probe = o->probe;
			o->probing = 0;
			o->probe = NULL;
			kept++;
		} else {
			rt_health_fresh(r, b, now);
			if (o != NULL)
				reset++;
		}
		b->carry = 0;
	}
	/* Removed backends: zero their gauges (the series stay). */
	for (i = 0; old != NULL && i < old->nb; i++) {
		if (rt_find(t, old->all[i]->id) == NULL)
			rt_metrics_gone(old->all[i]);
	}
	rt_table_free(r, old);
	for (i = 0; i < t->nb; i++)
		rt_sync(r, t->all[i], now);
	hyp_log(r->p, HYP_LOG_INFO, "configuration reloaded: %zu pools, %zu "
	    "routes, %zu backends (%zu kept their state, %zu changed address)",
	    t->npools, t->nroutes, t->nb, kept, reset);
}

/* ABORT: drop the preparation. */
void
rt_reload_abort(struct router *r)
{
	rt_table_free(r, r->prep);
	r->prep = NULL;
}

/* Zero a router and attach it to p. */
void
rt_router_init(struct router *r, hyp_plugin_t *p)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
}

/* Free both tables (probes are cancelled through probe_cancel). */
void
rt_router_free(struct router *r)
{
	rt_reload_abort(r);
	rt_table_free(r, r->cur);
	r->cur = NULL;
}
