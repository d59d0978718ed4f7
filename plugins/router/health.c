/*
 * health.c: per backend, the active health state (rise/fall over probe
 * results), the passive circuit breaker (CLOSED -> OPEN after `failures`
 * consecutive failures -> HALF_OPEN after open_for -> CLOSED on a good
 * probe, OPEN again on a failure) and the derived hyp_router_state.  Time
 * comes from the caller, probes go through r->probe_start: no sockets.
 */
#include <stdio.h>
#include <string.h>

#include "router.h"

static const char *const rt_state_names[] = {
	"up", "down", "open", "half_open", "draining",
};

/* Name of a backend state, as in logs and metric labels. */
const char *
rt_state_name(enum hyp_router_state st)
{
	return ((unsigned)st <= HYP_BACKEND_DRAINING ? rt_state_names[st] :
	    "?");
}

/* Apply the timed circuit transitions and derive the state. */
enum hyp_router_state
rt_state(const struct router *r, struct rt_backend *b, uint64_t now)
{
	if (b->circuit == RT_C_OPEN && now >= b->open_until) {
		b->circuit = RT_C_HALF_OPEN;
		b->trial_until = 0;
		snprintf(b->why, sizeof(b->why), "circuit half-open: one trial "
		    "player allowed");
	}
	if (b->circuit == RT_C_HALF_OPEN && !r->health_on &&
	    b->trial_until != 0 && now >= b->trial_until) {
		/* Without probes, a trial that drew no failure closes it. */
		b->circuit = RT_C_CLOSED;
		b->c_fail = 0;
		b->trial_until = 0;
		snprintf(b->why, sizeof(b->why), "circuit closed: no failure "
		    "reported for the trial player");
	}
	if (b->drain_conf || b->drain_rt)
		return (HYP_BACKEND_DRAINING);
	if (r->health_on && b->health == RT_H_DOWN)
		return (HYP_BACKEND_DOWN);
	if (b->circuit == RT_C_OPEN)
		return (HYP_BACKEND_OPEN);
	if (b->circuit == RT_C_HALF_OPEN)
		return (HYP_BACKEND_HALF_OPEN);
	return (HYP_BACKEND_UP);
}

/* Whether b is healthy as far as the up gauge is concerned. */
static int
is_up(const struct router *r, const struct rt_backend *b)
{
	return ((!r->health_on || b->health == RT_H_UP) &&
	    b->circuit != RT_C_OPEN);
}

/* Recompute b's state; log and count a change. */
void
rt_sync(struct router *r, struct rt_backend *b, uint64_t now)
{
	enum hyp_router_state	st = rt_state(r, b, now);

	if (b->m_up != NULL)
		hyp_series_set(b->m_up, is_up(r, b) ? 1 : 0);
	if (b->state == (int)st)
		return;
	if (b->state >= 0) {
		hyp_log(r->p, HYP_LOG_NOTICE, "backend %s %s: %s", b->id,
		    rt_state_name(st), b->why[0] != '\0' ? b->why :
		    "state changed");
		rt_metrics_state_change(r, b, st);
	}
	b->state = (int)st;
}

/* Whether b may take a new player now; *full is set when only capacity stops it. */
int
rt_eligible(struct router *r, struct rt_backend *b, uint64_t now,
    int *full)
{
	enum hyp_router_state	st;

	rt_sync(r, b, now);
	st = (enum hyp_router_state)b->state;
	if (st == HYP_BACKEND_DRAINING || st == HYP_BACKEND_DOWN ||
	    st == HYP_BACKEND_OPEN)
		return (0);
	if (st == HYP_BACKEND_HALF_OPEN && b->trial_until > now)
		return (0);
	rt_resv_expire(b, now);
	if (b->max_players > 0 &&
	    (uint64_t)b->players + b->reserved >= b->max_players) {
		if (full != NULL)
			*full = 1;
		return (0);
	}
	return (1);
}

/* Reset the health state of a new (or moved) backend; probe soon. */
void
rt_health_fresh(struct router *r, struct rt_backend *b, uint64_t now)
{
	uint32_t	ivl = r->cur != NULL ? r->cur->set.interval_ms : 1000;

	b->health = RT_H_UP;
	b->h_ok = b->h_fail = 0;
	b->circuit = RT_C_CLOSED;
	b->c_fail = 0;
	b->open_until = b->trial_until = 0;
	b->players = 0;
	b->reserved = 0;
	b->rhead = b->rcount = 0;
	b->cw = 0;
	b->why[0] = '\0';
	/* Spread the first probes over one interval. */
	b->next_probe_us = now + (uint64_t)(r->rand != NULL && ivl > 1 ?
	    r->rand(r, ivl) : 0) * 1000;
}

/* Count a probe outcome in the metrics. */
static void
count_probe(struct router *r, int ok, int timeout)
{
	hyp_series_t	*s;

	s = ok ? r->m.probe_ok : timeout ? r->m.probe_timeout :
	    r->m.probe_fail;
	if (s != NULL)
		hyp_series_add(s, 1);
}

/* Feed one probe result into the rise/fall counters and the breaker. */
void
rt_health_result(struct router *r, struct rt_backend *b, int ok,
    int timeout, const char *detail, uint64_t now)
{
	const struct rt_settings	*set = &r->cur->set;

	b->probing = 0;
	b->probe = NULL;
	if (b->next_probe_us < now)
		b->next_probe_us = now;
	if (!r->health_on)
		return;
	count_probe(r, ok, timeout);
	rt_state(r, b, now);
	if (ok) {
		b->h_fail = 0;
		if (b->h_ok < UINT32_MAX)
			b->h_ok++;
		if (b->health == RT_H_DOWN && b->h_ok >= set->rise) {
			b->health = RT_H_UP;
			snprintf(b->why, sizeof(b->why), "%u probes succeeded",
			    b->h_ok);
		}
		if (b->circuit == RT_C_HALF_OPEN) {
			b->circuit = RT_C_CLOSED;
			b->c_fail = 0;
			b->trial_until = 0;
			snprintf(b->why, sizeof(b->why), "circuit closed: a "
			    "probe succeeded");
		} else if (b->circuit == RT_C_CLOSED)
			b->c_fail = 0;
	} else {
		b->h_ok = 0;
		if (b->h_fail < UINT32_MAX)
			b->h_fail++;
		if (b->health == RT_H_UP && b->h_fail >= set->fall) {
			b->health = RT_H_DOWN;
			snprintf(b->why, sizeof(b->why), "%u probes failed "
			    "(last: %s)", b->h_fail, detail != NULL ? detail :
			    timeout ? "timeout" : "failed");
		}
	}
	rt_sync(r, b, now);
}

/* A passive failure report (a player could not reach b). */
void
rt_circuit_failure(struct router *r, struct rt_backend *b, uint64_t now)
{
	const struct rt_settings	*set = &r->cur->set;
	uint64_t			 open_us = (uint64_t)set->open_ms * 1000;

	rt_state(r, b, now);
	switch (b->circuit) {
	case RT_C_HALF_OPEN:
		b->circuit = RT_C_OPEN;
		b->open_until = now + open_us;
		b->trial_until = 0;
		snprintf(b->why, sizeof(b->why), "circuit open again: the "
		    "trial failed, for %ums", set->open_ms);
		break;
	case RT_C_CLOSED:
		/* Failures count as consecutive within open_for of each other. */
		if (b->c_fail > 0 && now > b->open_until + open_us)
			b->c_fail = 0;
		b->c_fail++;
		b->open_until = now;	/* time of the last failure */
		if (b->c_fail >= set->cb_failures) {
			b->circuit = RT_C_OPEN;
			b->open_until = now + open_us;
			snprintf(b->why, sizeof(b->why), "circuit open: %u "
			    "consecutive failures, for %ums", b->c_fail,
			    set->open_ms);
		}
		break;
	case RT_C_OPEN:
		break;
	}
	rt_sync(r, b, now);
}

/* A player was sent to a HALF_OPEN backend: that is its one trial. */
void
rt_trial_begin(struct router *r, struct rt_backend *b, uint64_t now)
{
	uint32_t	ms = r->cur->set.ttl_ms > 0 ? r->cur->set.ttl_ms :
			    r->cur->set.open_ms;

	if (b->circuit == RT_C_HALF_OPEN)
		b->trial_until = now + (uint64_t)ms * 1000;
}

/* Periodic work: expire reservations, timed transitions, due probes. */
void
rt_tick(struct router *r, uint64_t now)
{
	struct rt_table		*t = r->cur;
	struct rt_backend	*b;
	size_t			 i;
	int			 rc;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb; i++) {
		b = t->all[i];
		rt_resv_expire(b, now);
		rt_metrics_load(b);
		rt_sync(r, b, now);
		if (!r->health_on || r->probe_start == NULL || b->probing ||
		    now < b->next_probe_us)
			continue;
		b->probe_seq = ++r->probe_seq;
		b->probing = 1;
		b->next_probe_us = now + (uint64_t)t->set.interval_ms * 1000;
		if ((rc = r->probe_start(r, b)) == 0)
			continue;
		b->probing = 0;
		if (rc == HYP_ENOSPC) {
			/* Connector busy: try again at the next tick. */
			b->next_probe_us = now;
			continue;
		}
		rt_health_result(r, b, 0, 0, hyp_strerror(rc), now);
	}
}
