/*
 * api.c: the registry API, independent of evhttp: one struct reg_request
 * in, one struct reg_response out.  Order of checks: source CIDR, key id,
 * rate limit, route, body size, signature headers, clock skew, HMAC,
 * nonce, content type, then the endpoint (schema, allowlists, change,
 * audit event).  Every response carries JSON; errors {error, message}.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "registry.h"

#define REG_ACTOR_MAX	(REG_ID_MAX + INET6_ADDRSTRLEN + 2)

/* What one request is about, once authenticated. */
struct reg_ctx {
	struct registry			*r;
	const struct reg_request	*q;
	struct reg_response		*out;
	const struct reg_orch		*o;
	int				 oi;
	enum reg_endpoint		 ep;
	char				 id[REG_ID_MAX + 1];	/* path id */
	const char			*query;		/* after '?', or NULL */
	char				 actor[REG_ACTOR_MAX];
	const char			*error;		/* last error code */
	int64_t				 now;
};

static const char *const reg_ep_names[REG_EP__COUNT] = {
	"register", "heartbeat", "drain", "remove", "list", "other",
};

/* ---- metrics and audit ---- */

/* Register the metric families (idempotent). */
void
reg_metrics_init(struct registry *r)
{
	static const char *const	ep_labels[] = { "endpoint", "code", NULL };
	static const char *const	rs_labels[] = { "reason", NULL };

	r->m.requests = hyp_metric_new(r->p, HYP_METRIC_COUNTER,
	    "hyprox_registry_requests_total", "Registry API requests by "
	    "endpoint and HTTP status.", ep_labels, 128, NULL, 0, NULL);
	r->m.entries = hyp_metric_new(r->p, HYP_METRIC_GAUGE,
	    "hyprox_registry_entries", "Backends registered through the "
	    "registry.", NULL, 1, NULL, 0, NULL);
	r->m.expired = hyp_metric_new(r->p, HYP_METRIC_COUNTER,
	    "hyprox_registry_expired_total", "Registry entries removed "
	    "because no heartbeat came within ttl plus grace.", NULL, 1, NULL,
	    0, NULL);
	r->m.rejected = hyp_metric_new(r->p, HYP_METRIC_COUNTER,
	    "hyprox_registry_rejected_total", "Registry API requests refused, "
	    "by reason.", rs_labels, 64, NULL, 0, NULL);
	if (r->m.entries != NULL)
		r->m.s_entries = hyp_metric_series(r->m.entries, NULL);
	r->have_metrics = r->m.requests != NULL && r->m.expired != NULL &&
	    r->m.rejected != NULL && r->m.s_entries != NULL;
}

/* Update the entries gauge. */
static void
metric_entries(struct registry *r)
{
	if (r->have_metrics)
		hyp_series_set(r->m.s_entries, (double)r->st.n);
}

/* Run the audit hook for one change (ok = 1 applied, 0 refused). */
void
reg_audit(struct registry *r, const char *actor, const char *action,
    const char *object, int ok, const char *fmt, ...)
{
	struct hyp_audit_event	ev;
	char			detail[256];
	va_list			ap;

	detail[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	memset(&ev, 0, sizeof(ev));
	ev.actor = actor;
	ev.action = action;
	ev.object = object;
	ev.detail = detail[0] != '\0' ? detail : NULL;
	ev.ok = ok;
	(void)hyp_hook_run(HYP_HOOK_AUDIT, NULL, &ev);
	hyp_log(r->p, ok ? HYP_LOG_INFO : HYP_LOG_NOTICE, "%s %s %s by %s%s%s",
	    action, object, ok ? "applied" : "refused", actor,
	    detail[0] != '\0' ? ": " : "", detail);
}

/* ---- responses ---- */

static int	reply_error(struct reg_ctx *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* Set a JSON error response and count the rejection. */
static int
reply_error(struct reg_ctx *c, int status, const char *code, const char *fmt,
    ...)
{
	char	msg[REG_ERRMSG_MAX], esc[2 * REG_ERRMSG_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reg_json_str(esc, sizeof(esc), msg);
	free(c->out->body);
	c->out->body = NULL;
	c->out->status = status;
	c->error = code;
	n = snprintf(NULL, 0, "{\"error\":\"%s\",\"message\":%s}\n", code, esc);
	if (n > 0 && (c->out->body = malloc((size_t)n + 1)) != NULL) {
		snprintf(c->out->body, (size_t)n + 1, "{\"error\":\"%s\","
		    "\"message\":%s}\n", code, esc);
		c->out->len = (size_t)n;
	} else
		c->out->len = 0;
	if (c->r->have_metrics) {
		const char	*v[1] = { code };

		hyp_series_add(hyp_metric_series(c->r->m.rejected, v), 1);
	}
	return (status);
}

/* Set a response holding one entry (or a removal notice when e is NULL). */
static int
reply_entry(struct reg_ctx *c, int status, const struct reg_entry *e,
    const char *removed_id)
{
	char	*buf;
	int	 n;

	if (e != NULL)
		n = reg_entry_json(NULL, 0, e, c->now);
	else
		n = (int)reg_json_str(NULL, 0, removed_id) + 32;
	if ((buf = malloc((size_t)n + 2)) == NULL)
		return (reply_error(c, 500, "internal", "out of memory"));
	if (e != NULL)
		reg_entry_json(buf, (size_t)n + 1, e, c->now);
	else {
		strcpy(buf, "{\"id\":");
		reg_json_str(buf + 6, (size_t)n - 6, removed_id);
		strcat(buf, ",\"state\":\"removed\"}");
	}
	strcat(buf, "\n");
	free(c->out->body);
	c->out->body = buf;
	c->out->len = strlen(buf);
	c->out->status = status;
	return (status);
}

/* ---- helpers ---- */

/* Printable form of an address. */
static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	uint8_t	b[16];
	int	fam;

	if (reg_addr_bytes((const struct sockaddr *)ss, b, &fam) != 0 ||
	    inet_ntop(fam, fam == AF_INET ? b + 12 : b, out,
	    (socklen_t)cap) == NULL)
		snprintf(out, cap, "?");
}

/* Whether the source is in one of o's CIDRs. */
static int
orch_source_ok(const struct reg_orch *o, const struct sockaddr_storage *ss)
{
	size_t	i;

	for (i = 0; i < o->ncidrs; i++) {
		if (hyp_cidr_match(&o->cidrs[i], (const struct sockaddr *)ss))
			return (1);
	}
	return (0);
}

/* Whether the pool is allowed to o. */
static int
orch_pool_ok(const struct reg_orch *o, const char *pool)
{
	size_t	i;

	for (i = 0; i < o->npools; i++) {
		if (strcmp(o->pools[i], pool) == 0)
			return (1);
	}
	return (0);
}

/* Whether the backend id has one of o's prefixes (or o has none). */
static int
orch_prefix_ok(const struct reg_orch *o, const char *id)
{
	size_t	i;

	if (o->nprefixes == 0)
		return (1);
	for (i = 0; i < o->nprefixes; i++) {
		if (strncmp(id, o->prefixes[i], strlen(o->prefixes[i])) == 0)
			return (1);
	}
	return (0);
}

/* Whether the port is in one of o's ranges. */
static int
orch_port_ok(const struct reg_orch *o, uint32_t port)
{
	size_t	i;

	for (i = 0; i < o->nports; i++) {
		if (port >= o->ports[i].lo && port <= o->ports[i].hi)
			return (1);
	}
	return (0);
}

/* Index of the orchestrator with this key id, or -1. */
static int
orch_find(const struct reg_settings *s, const char *key)
{
	size_t	i;

	if (key == NULL)
		return (-1);
	for (i = 0; i < s->norch; i++) {
		if (strcmp(s->orch[i].id, key) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Token bucket of (orchestrator, source); 0 allowed, else seconds to wait. */
static uint32_t
rate_take(struct registry *r, int oi, const struct sockaddr_storage *ss,
    int64_t now)
{
	const struct reg_orch	*o = &r->set->orch[oi];
	struct reg_bucket	*b = NULL, *victim = NULL;
	uint8_t			 a[16];
	double			 el;
	size_t			 i;
	int			 fam;

	if (reg_addr_bytes((const struct sockaddr *)ss, a, &fam) != 0)
		return (1);
	for (i = 0; i < REG_RATE_SOURCES; i++) {
		struct reg_bucket	*x = &r->buckets[i];

		if (x->orch == oi && memcmp(x->addr, a, 16) == 0) {
			b = x;
			break;
		}
		if (x->orch < 0 && victim == NULL)
			victim = x;
	}
	if (b != NULL) {
		el = now > b->last_ms ? (double)(now - b->last_ms) : 0;
		b->tokens += el * o->rate / 1000.0;
		if (b->tokens > o->burst)
			b->tokens = o->burst;
		b->last_ms = now;
	} else {
		if (victim == NULL) {
			/* Reuse a bucket that has refilled: it forgot nothing. */
			for (i = 0; i < REG_RATE_SOURCES; i++) {
				struct reg_bucket	*x = &r->buckets[i];
				const struct reg_orch	*xo;

				if ((size_t)x->orch >= r->set->norch) {
					victim = x;
					break;
				}
				xo = &r->set->orch[x->orch];
				if (x->tokens + (double)(now - x->last_ms) *
				    xo->rate / 1000.0 >= xo->burst) {
					victim = x;
					break;
				}
			}
		}
		if (victim == NULL)
			return (1);
		b = victim;
		b->orch = oi;
		memcpy(b->addr, a, 16);
		b->tokens = o->burst;
		b->last_ms = now;
	}
	if (b->tokens < 1.0)
		return ((uint32_t)((1.0 - b->tokens) / o->rate) + 1);
	b->tokens -= 1.0;
	return (0);
}

/* Split the path: endpoint and id; 0, or an HTTP status (404, 405). */
static int
route(struct reg_ctx *c, const char *method, const char *uri)
{
	static const char	 base[] = "/v1/backends";
	const char		*q = strchr(uri, '?'), *rest, *slash;
	size_t			 plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	size_t			 idlen;

	c->query = q != NULL ? q + 1 : NULL;
	c->ep = REG_EP_OTHER;
	if (plen < sizeof(base) - 1 || memcmp(uri, base, sizeof(base) - 1) != 0)
		return (404);
	rest = uri + sizeof(base) - 1;
	plen -= sizeof(base) - 1;
	if (plen == 0) {
		if (strcmp(method, "POST") == 0)
			c->ep = REG_EP_REGISTER;
		else if (strcmp(method, "GET") == 0)
			c->ep = REG_EP_LIST;
		else
			return (405);
		return (0);
	}
	if (*rest != '/')
		return (404);
	rest++;
	plen--;
	slash = memchr(rest, '/', plen);
	idlen = slash != NULL ? (size_t)(slash - rest) : plen;
	if (idlen == 0 || idlen > REG_ID_MAX)
		return (404);
	memcpy(c->id, rest, idlen);
	c->id[idlen] = '\0';
	if (!reg_id_valid(c->id))
		return (404);
	if (slash == NULL) {
		if (strcmp(method, "DELETE") != 0)
			return (405);
		c->ep = REG_EP_REMOVE;
		return (0);
	}
	plen -= idlen + 1;
	if (plen == 9 && memcmp(slash + 1, "heartbeat", 9) == 0)
		c->ep = REG_EP_HEARTBEAT;
	else if (plen == 5 && memcmp(slash + 1, "drain", 5) == 0)
		c->ep = REG_EP_DRAIN;
	else
		return (404);
	return (strcmp(method, "POST") == 0 ? 0 : 405);
}

/* ---- the router ---- */

/* Make the router agree with e: upserted (or not, when quarantined). */
int
reg_router_sync(struct registry *r, struct reg_entry *e)
{
	struct hyp_router_backend	 b;
	const char			*tags[REG_MAX_TAGS];
	size_t				 i;
	int				 rc;

	if (r->rt == NULL)
		return (HYP_ENOTSUP);
	if (e->quarantined) {
		if (e->in_router)
			(void)r->rt->remove(r->rt_ctx, e->id);
		e->in_router = 0;
		return (0);
	}
	memset(&b, 0, sizeof(b));
	for (i = 0; i < e->ntags; i++)
		tags[i] = e->tags[i];
	b.id = e->id;
	b.pool = e->pool;
	b.host = e->host;
	b.port = e->port;
	b.weight = e->weight;
	b.max_players = e->max_players;
	b.tags = e->ntags > 0 ? tags : NULL;
	b.ntags = e->ntags;
	if ((rc = r->rt->upsert(r->rt_ctx, &b)) != 0)
		return (rc);
	e->in_router = 1;
	(void)r->rt->drain(r->rt_ctx, e->id, e->drain || e->starting);
	(void)r->rt->report_players(r->rt_ctx, e->id, e->players);
	return (0);
}

/* Take e out of the router and the store; it is freed. */
static void
entry_remove(struct registry *r, struct reg_entry *e)
{
	if (e->probing && r->probe_cancel != NULL)
		r->probe_cancel(r, e);
	if (e->in_router && r->rt != NULL)
		(void)r->rt->remove(r->rt_ctx, e->id);
	reg_store_del(&r->st, e);
	metric_entries(r);
	if (r->dirty != NULL)
		r->dirty(r);
}

/* Start an activation probe of e now (or schedule a retry). */
static void
entry_probe(struct registry *r, struct reg_entry *e, int64_t now)
{
	int	rc;

	if (r->probe_start == NULL || e->probing)
		return;
	e->probe_seq = ++r->probe_seq;
	if ((rc = r->probe_start(r, e)) != 0) {
		snprintf(e->why, sizeof(e->why), "probe not started: %s",
		    hyp_strerror(rc));
		e->next_probe_ms = now + r->set->act_retry_ms;
		return;
	}
	e->probing = 1;
}

/* HTTP status for a router error. */
static int
router_status(struct reg_ctx *c, int rc, const char *pool)
{
	switch (rc) {
	case HYP_ENOENT:
		return (reply_error(c, 422, "unknown_pool", "the router has no "
		    "pool '%s'", pool));
	case HYP_EEXIST:
		return (reply_error(c, 409, "conflict", "a configured backend "
		    "already has this id"));
	case HYP_ENOSPC:
		return (reply_error(c, 507, "too_many_entries", "the router's "
		    "backend table is full"));
	case HYP_ENOTSUP:
		return (reply_error(c, 503, "unavailable", "no router"));
	default:
		return (reply_error(c, 500, "internal", "router: %s",
		    hyp_strerror(rc)));
	}
}

/* ---- endpoints ---- */

/* Decode the body against schema, answering 400/500 on failure. */
static int
body_decode(struct reg_ctx *c, const cyaml_schema_value_t *schema, void **out)
{
	char	msg[REG_ERRMSG_MAX];
	int	rc;

	rc = reg_json_decode(c->q->body, c->q->bodylen, schema, out, msg,
	    sizeof(msg));
	if (rc == REG_P_OK)
		return (0);
	if (rc == REG_P_NOMEM)
		return (reply_error(c, 500, "internal", "out of memory"));
	return (reply_error(c, 400, reg_perr_code(rc), "%s", msg));
}

/* Check a register body's values and the orchestrator's allowlists. */
static int
register_check(struct reg_ctx *c, const struct reg_body_register *b,
    uint32_t *ttl_ms)
{
	const struct reg_orch	*o = c->o;
	const char		*why;
	unsigned		 i;
	int			 fam;

	if (!reg_id_valid(b->id))
		return (reply_error(c, 400, "bad_value", "id: 1-64 characters "
		    "of A-Z a-z 0-9 . _ -"));
	if (!reg_id_valid(b->pool))
		return (reply_error(c, 400, "bad_value", "pool: 1-64 characters "
		    "of A-Z a-z 0-9 . _ -"));
	if (*b->port == 0 || *b->port > 65535)
		return (reply_error(c, 400, "bad_value", "port: 1 .. 65535"));
	if (b->weight != NULL && *b->weight > 10000)
		return (reply_error(c, 400, "bad_value", "weight: 0 .. 10000"));
	if (b->max_players != NULL && *b->max_players > 10000000)
		return (reply_error(c, 400, "bad_value", "max_players: 0 .. "
		    "10000000"));
	for (i = 0; i < b->tags_count; i++) {
		if (!reg_tag_valid(b->tags[i]))
			return (reply_error(c, 400, "bad_value", "tags[%u]: "
			    "1-64 characters of A-Z a-z 0-9 . _ : = / -", i));
	}
	*ttl_ms = c->r->set->default_ttl_ms;
	if (b->ttl_seconds != NULL) {
		if (*b->ttl_seconds == 0 || (uint64_t)*b->ttl_seconds * 1000 >
		    c->r->set->max_ttl_ms)
			return (reply_error(c, 400, "bad_value", "ttl_seconds: "
			    "1 .. %u", c->r->set->max_ttl_ms / 1000));
		*ttl_ms = *b->ttl_seconds * 1000;
	}
	if (!orch_pool_ok(o, b->pool))
		return (reply_error(c, 403, "forbidden_pool", "pool '%s' is not "
		    "allowed to %s", b->pool, o->id));
	if (!orch_prefix_ok(o, b->id))
		return (reply_error(c, 403, "forbidden_prefix", "id '%s' has "
		    "none of the prefixes allowed to %s", b->id, o->id));
	if (!orch_port_ok(o, *b->port))
		return (reply_error(c, 403, "forbidden_port", "port %u is not "
		    "allowed to %s", *b->port, o->id));
	if ((why = reg_addr_class(b->host, o->allow_public, o->allow_loopback,
	    &fam)) != NULL)
		return (reply_error(c, 403, "forbidden_address", "host '%s': %s",
		    b->host, why));
	return (0);
}

/* Copy a register body into e. */
static void
entry_fill(struct reg_entry *e, const struct reg_body_register *b,
    uint32_t ttl_ms)
{
	unsigned	i;

	snprintf(e->id, sizeof(e->id), "%s", b->id);
	snprintf(e->pool, sizeof(e->pool), "%s", b->pool);
	snprintf(e->host, sizeof(e->host), "%s", b->host);
	e->port = (uint16_t)*b->port;
	e->weight = b->weight != NULL ? *b->weight : 0;
	e->max_players = b->max_players != NULL ? *b->max_players : 0;
	memset(e->tags, 0, sizeof(e->tags));
	for (i = 0; i < b->tags_count; i++)
		snprintf(e->tags[i], sizeof(e->tags[i]), "%s", b->tags[i]);
	e->ntags = b->tags_count;
	e->ttl_ms = ttl_ms;
}

/* POST /v1/backends */
static int
ep_register(struct reg_ctx *c)
{
	struct registry			*r = c->r;
	struct reg_body_register	*b = NULL;
	struct reg_entry		*e, old;
	uint32_t			 ttl_ms = 0;
	int				 rc, moved, status;

	if ((rc = body_decode(c, &reg_register_schema, (void **)&b)) != 0)
		return (rc);
	if ((rc = register_check(c, b, &ttl_ms)) != 0)
		goto refused;
	if ((e = reg_store_find(&r->st, b->id)) != NULL) {
		if (strcmp(e->owner, c->o->id) != 0) {
			rc = reply_error(c, 403, "not_owner", "'%s' belongs to "
			    "another orchestrator", b->id);
			goto refused;
		}
		old = *e;
		moved = strcmp(e->host, b->host) != 0 || e->port != *b->port;
		entry_fill(e, b, ttl_ms);
		e->expires_ms = c->now + ttl_ms;
		if (moved && r->set->act_enabled && r->probe_start != NULL) {
			if (e->probing && r->probe_cancel != NULL)
				r->probe_cancel(r, e);
			e->probing = 0;
			e->quarantined = 1;
		}
		if ((rc = reg_router_sync(r, e)) != 0) {
			*e = old;
			rc = router_status(c, rc, b->pool);
			goto refused;
		}
		if (e->quarantined)
			entry_probe(r, e, c->now);
		status = 200;
		reg_audit(r, c->actor, "update", e->id, 1, "pool=%s host=%s "
		    "port=%u ttl=%us%s", e->pool, e->host, e->port,
		    e->ttl_ms / 1000, e->quarantined ? " quarantined" : "");
	} else {
		if (r->st.n >= r->set->max_entries) {
			rc = reply_error(c, 507, "too_many_entries", "at most "
			    "%u entries", r->set->max_entries);
			goto refused;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			rc = reply_error(c, 500, "internal", "out of memory");
			goto out;
		}
		entry_fill(e, b, ttl_ms);
		snprintf(e->owner, sizeof(e->owner), "%s", c->o->id);
		e->expires_ms = c->now + ttl_ms;
		e->quarantined = r->set->act_enabled && r->probe_start != NULL;
		if ((rc = reg_router_sync(r, e)) != 0 ||
		    (rc = reg_store_add(&r->st, e)) != 0) {
			if (e->in_router)
				(void)r->rt->remove(r->rt_ctx, e->id);
			free(e);
			rc = router_status(c, rc, b->pool);
			goto refused;
		}
		if (e->quarantined)
			entry_probe(r, e, c->now);
		status = 201;
		reg_audit(r, c->actor, "register", e->id, 1, "pool=%s host=%s "
		    "port=%u ttl=%us%s", e->pool, e->host, e->port,
		    e->ttl_ms / 1000, e->quarantined ? " quarantined" : "");
	}
	metric_entries(r);
	if (r->dirty != NULL)
		r->dirty(r);
	rc = reply_entry(c, status, e, NULL);
	goto out;
refused:
	reg_audit(r, c->actor, "register", b->id, 0, "status=%d error=%s",
	    c->out->status, c->error != NULL ? c->error : "?");
out:
	reg_json_free(&reg_register_schema, b);
	return (rc);
}

/* The entry named in the path, owned by the caller; NULL after a reply. */
static struct reg_entry *
owned_entry(struct reg_ctx *c, const char *action)
{
	struct reg_entry	*e = reg_store_find(&c->r->st, c->id);

	if (e == NULL) {
		reply_error(c, 404, "not_found", "no registered backend '%s'",
		    c->id);
		return (NULL);
	}
	if (strcmp(e->owner, c->o->id) != 0) {
		reply_error(c, 403, "not_owner", "'%s' belongs to another "
		    "orchestrator", c->id);
		reg_audit(c->r, c->actor, action, c->id, 0, "not the owner");
		return (NULL);
	}
	return (e);
}

/* Remove a draining entry once it reports no players; 1 when removed. */
static int
drained_out(struct reg_ctx *c, struct reg_entry *e)
{
	if (!e->drain || e->players != 0)
		return (0);
	reg_audit(c->r, c->actor, "remove", e->id, 1, "drained: no players "
	    "left");
	entry_remove(c->r, e);
	return (1);
}

/* POST /v1/backends/{id}/heartbeat */
static int
ep_heartbeat(struct reg_ctx *c)
{
	struct registry			*r = c->r;
	struct reg_body_heartbeat	*b = NULL;
	struct reg_entry		*e, old;
	int				 rc, starting = -1, drain = 0;

	if ((rc = body_decode(c, &reg_heartbeat_schema, (void **)&b)) != 0)
		return (rc);
	if ((e = owned_entry(c, "heartbeat")) == NULL) {
		rc = c->out->status;
		goto out;
	}
	if (b->state != NULL) {
		if (strcmp(b->state, "ready") == 0)
			starting = 0;
		else if (strcmp(b->state, "starting") == 0)
			starting = 1;
		else if (strcmp(b->state, "draining") == 0)
			drain = 1;
		else {
			rc = reply_error(c, 400, "bad_value", "state: one of "
			    "ready, starting, draining");
			goto out;
		}
	}
	if (*b->players > 10000000 || (b->max_players != NULL &&
	    *b->max_players > 10000000)) {
		rc = reply_error(c, 400, "bad_value", "players and max_players: "
		    "0 .. 10000000");
		goto out;
	}
	old = *e;
	e->players = *b->players;
	if (b->max_players != NULL)
		e->max_players = *b->max_players;
	if (starting >= 0)
		e->starting = starting;
	if (drain)
		e->drain = 1;
	e->expires_ms = c->now + e->ttl_ms;
	if ((rc = reg_router_sync(r, e)) != 0) {
		*e = old;
		rc = router_status(c, rc, e->pool);
		goto out;
	}
	if (r->dirty != NULL)
		r->dirty(r);
	if (drain && !old.drain)
		reg_audit(r, c->actor, "drain", e->id, 1, "by heartbeat state");
	else if (starting >= 0 && starting != old.starting)
		reg_audit(r, c->actor, "heartbeat", e->id, 1, "state=%s",
		    b->state);
	if (drained_out(c, e)) {
		rc = reply_entry(c, 200, NULL, c->id);
		goto out;
	}
	rc = reply_entry(c, 200, e, NULL);
out:
	reg_json_free(&reg_heartbeat_schema, b);
	return (rc);
}

/* POST /v1/backends/{id}/drain */
static int
ep_drain(struct reg_ctx *c)
{
	struct registry		*r = c->r;
	struct reg_entry	*e;
	int			 rc;

	if (c->q->bodylen > 0 && (rc = body_decode(c, &reg_empty_schema,
	    NULL)) != 0)
		return (rc);
	if ((e = owned_entry(c, "drain")) == NULL)
		return (c->out->status);
	if (!e->drain) {
		e->drain = 1;
		if ((rc = reg_router_sync(r, e)) != 0) {
			e->drain = 0;
			return (router_status(c, rc, e->pool));
		}
		reg_audit(r, c->actor, "drain", e->id, 1, "players=%" PRIu32,
		    e->players);
		if (r->dirty != NULL)
			r->dirty(r);
	}
	if (drained_out(c, e))
		return (reply_entry(c, 200, NULL, c->id));
	return (reply_entry(c, 200, e, NULL));
}

/* DELETE /v1/backends/{id} */
static int
ep_remove(struct reg_ctx *c)
{
	struct reg_entry	*e;

	if (c->q->bodylen > 0)
		return (reply_error(c, 400, "malformed_json", "DELETE takes no "
		    "body"));
	if ((e = owned_entry(c, "remove")) == NULL)
		return (c->out->status);
	reg_audit(c->r, c->actor, "remove", e->id, 1, "pool=%s", e->pool);
	entry_remove(c->r, e);
	return (reply_entry(c, 200, NULL, c->id));
}

/* Percent-decode s[0..n) into out (cap); -1 on bad escapes or NUL. */
static int
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= cap)
			return (-1);
		if (s[i] == '%') {
			if (i + 2 >= n)
				return (-1);
			hi = s[i + 1];
			lo = s[i + 2];
			hi = hi >= '0' && hi <= '9' ? hi - '0' : (hi | 32) >= 'a' &&
			    (hi | 32) <= 'f' ? (hi | 32) - 'a' + 10 : -1;
			lo = lo >= '0' && lo <= '9' ? lo - '0' : (lo | 32) >= 'a' &&
			    (lo | 32) <= 'f' ? (lo | 32) - 'a' + 10 : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return (-1);
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return (0);
}

/* Query of a list request. */
struct list_q {
	char		pool[REG_ID_MAX + 1];
	char		state[REG_TAG_MAX + 1];
	char		tag[REG_TAG_MAX + 1];
	char		cursor[REG_ID_MAX + 1];
	uint32_t	limit;
	unsigned	seen;
};

/* Parse the query string; 0 or a reply. */
static int
list_query(struct reg_ctx *c, struct list_q *l)
{
	static const char *const	 names[] = { "pool", "state", "tag",
					    "limit", "cursor" };
	const char			*s = c->query, *amp, *eq;
	char				 val[REG_TAG_MAX + 1];
	size_t				 n, k;
	unsigned long			 v;
	char				*end;

	memset(l, 0, sizeof(*l));
	l->limit = REG_LIST_DEF;
	while (s != NULL && *s != '\0') {
		amp = strchr(s, '&');
		n = amp != NULL ? (size_t)(amp - s) : strlen(s);
		eq = memchr(s, '=', n);
		if (eq == NULL)
			return (reply_error(c, 400, "bad_query", "parameters "
			    "are name=value"));
		for (k = 0; k < 5; k++) {
			if (strlen(names[k]) == (size_t)(eq - s) &&
			    memcmp(names[k], s, (size_t)(eq - s)) == 0)
				break;
		}
		if (k == 5)
			return (reply_error(c, 400, "bad_query", "unknown "
			    "parameter (pool, state, tag, limit, cursor)"));
		if (l->seen & (1u << k))
			return (reply_error(c, 400, "bad_query", "%s given "
			    "twice", names[k]));
		l->seen |= 1u << k;
		if (pct_decode(eq + 1, n - (size_t)(eq - s) - 1, val,
		    sizeof(val)) != 0)
			return (reply_error(c, 400, "bad_query", "%s: bad value",
			    names[k]));
		switch (k) {
		case 0:
			if (!reg_id_valid(val))
				return (reply_error(c, 400, "bad_query", "pool: "
				    "not a pool id"));
			snprintf(l->pool, sizeof(l->pool), "%s", val);
			break;
		case 1:
			if (strcmp(val, "active") != 0 && strcmp(val,
			    "quarantined") != 0 && strcmp(val, "draining") != 0 &&
			    strcmp(val, "starting") != 0)
				return (reply_error(c, 400, "bad_query", "state: "
				    "active, starting, draining or quarantined"));
			snprintf(l->state, sizeof(l->state), "%s", val);
			break;
		case 2:
			if (!reg_tag_valid(val))
				return (reply_error(c, 400, "bad_query", "tag: "
				    "not a tag"));
			snprintf(l->tag, sizeof(l->tag), "%s", val);
			break;
		case 3:
			v = strtoul(val, &end, 10);
			if (val[0] < '0' || val[0] > '9' || *end != '\0' ||
			    v < 1 || v > REG_LIST_LIMIT)
				return (reply_error(c, 400, "bad_query", "limit: "
				    "1 .. %d", REG_LIST_LIMIT));
			l->limit = (uint32_t)v;
			break;
		default:
			if (!reg_id_valid(val))
				return (reply_error(c, 400, "bad_query", "cursor: "
				    "not a cursor from next_cursor"));
			snprintf(l->cursor, sizeof(l->cursor), "%s", val);
			break;
		}
		s = amp != NULL ? amp + 1 : NULL;
	}
	return (0);
}

/* Whether e is the caller's and passes the list filters. */
static int
list_match(const struct reg_ctx *c, const struct list_q *l,
    const struct reg_entry *e)
{
	size_t	i;

	if (strcmp(e->owner, c->o->id) != 0)
		return (0);
	if (l->pool[0] != '\0' && strcmp(l->pool, e->pool) != 0)
		return (0);
	if (l->state[0] != '\0' && strcmp(l->state, reg_entry_state(e)) != 0)
		return (0);
	if (l->tag[0] == '\0')
		return (1);
	for (i = 0; i < e->ntags; i++) {
		if (strcmp(e->tags[i], l->tag) == 0)
			return (1);
	}
	return (0);
}

/* GET /v1/backends */
static int
ep_list(struct reg_ctx *c)
{
	struct registry		*r = c->r;
	struct list_q		 l;
	const struct reg_entry	*last = NULL;
	char			*buf, *nb;
	size_t			 i, cap = 4096, n = 0, need;
	uint32_t		 count = 0;
	int			 rc, more = 0;

	if (c->q->bodylen > 0)
		return (reply_error(c, 400, "malformed_json", "GET takes no "
		    "body"));
	if ((rc = list_query(c, &l)) != 0)
		return (rc);
	if ((buf = malloc(cap)) == NULL)
		return (reply_error(c, 500, "internal", "out of memory"));
	n = (size_t)snprintf(buf, cap, "{\"backends\":[");
	for (i = reg_store_after(&r->st, l.cursor); i < r->st.n; i++) {
		if (!list_match(c, &l, r->st.e[i]))
			continue;
		if (count == l.limit) {
			more = 1;
			break;
		}
		need = (size_t)reg_entry_json(NULL, 0, r->st.e[i], c->now) + 2;
		if (n + need + 256 > cap) {
			cap = (n + need + 256) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return (reply_error(c, 500, "internal", "out of "
				    "memory"));
			}
			buf = nb;
		}
		if (count > 0)
			buf[n++] = ',';
		n += (size_t)reg_entry_json(buf + n, cap - n, r->st.e[i],
		    c->now);
		last = r->st.e[i];
		count++;
	}
	n += (size_t)snprintf(buf + n, cap - n, "],\"count\":%" PRIu32
	    ",\"next_cursor\":", count);
	if (more && last != NULL)
		n += reg_json_str(buf + n, cap - n, last->id);
	else
		n += (size_t)snprintf(buf + n, cap - n, "null");
	n += (size_t)snprintf(buf + n, cap - n, "}\n");
	free(c->out->body);
	c->out->body = buf;
	c->out->len = n;
	c->out->status = 200;
	return (200);
}

/* Check the signature headers, the skew, the HMAC and the nonce. */
static int
authenticate(struct reg_ctx *c)
{
	const struct reg_request	*q = c->q;
	char				 canon[REG_URI_MAX + 256];
	char				 sig[REG_SIG_HEX + 1];
	int64_t				 ts, skew = c->r->set->skew_ms;
	int				 rc;

	if (reg_ts_parse(q->timestamp, &ts) != 0)
		return (reply_error(c, 401, "bad_auth_header", "X-Hyprox-"
		    "Timestamp must be unix seconds"));
	if (!reg_nonce_valid(q->nonce))
		return (reply_error(c, 401, "bad_auth_header", "X-Hyprox-Nonce "
		    "must be %d-%d characters of A-Z a-z 0-9 _ -", REG_NONCE_MIN,
		    REG_NONCE_MAX));
	if (q->signature == NULL)
		return (reply_error(c, 401, "bad_auth_header", "X-Hyprox-"
		    "Signature is missing"));
	if (ts * 1000 < c->now - skew || ts * 1000 > c->now + skew)
		return (reply_error(c, 401, "stale_timestamp", "timestamp "
		    "%" PRId64 " is more than %" PRId64 "s away from the "
		    "server's clock", ts, skew / 1000));
	if (reg_canonical(q->method, q->uri, q->timestamp, q->nonce, q->body,
	    q->bodylen, canon, sizeof(canon)) < 0)
		return (reply_error(c, 414, "uri_too_long", "at most %d bytes",
		    REG_URI_MAX));
	reg_sign(c->o->secret, c->o->secretlen, canon, sig);
	rc = reg_sig_equal(q->signature, sig);
	sodium_memzero(sig, sizeof(sig));
	if (!rc)
		return (reply_error(c, 401, "bad_signature", "the signature "
		    "does not match (see hyprox-registry-http(5), SIGNING)"));
	rc = reg_nonce_check_add(&c->r->nonces, c->o->id, q->nonce,
	    ts * 1000 + skew, c->now);
	if (rc == HYP_EEXIST)
		return (reply_error(c, 401, "replayed_nonce", "this nonce was "
		    "already used"));
	if (rc != 0)
		return (reply_error(c, 503, "busy", "the nonce cache is full; "
		    "retry later"));
	return (0);
}

/* Whether a Content-Type is JSON (parameters allowed). */
static int
json_type(const char *ct)
{
	size_t	n = strlen("application/json");

	return (strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '));
}

/* Count the request. */
static void
count_request(struct registry *r, enum reg_endpoint ep, int status)
{
	const char	*v[2];
	char		 code[8];

	if (!r->have_metrics)
		return;
	snprintf(code, sizeof(code), "%d", status);
	v[0] = reg_ep_names[ep];
	v[1] = code;
	hyp_series_add(hyp_metric_series(r->m.requests, v), 1);
}

/* Answer one request; out->body is malloc'd (the caller frees it). */
void
reg_handle(struct registry *r, const struct reg_request *q,
    struct reg_response *out)
{
	struct reg_ctx	c;
	char		addr[INET6_ADDRSTRLEN];
	size_t		i;
	int		st;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.q = q;
	c.out = out;
	c.ep = REG_EP_OTHER;
	c.now = r->now_ms(r);
	c.oi = -1;
	for (i = 0; i < r->set->norch; i++) {
		if (orch_source_ok(&r->set->orch[i], &q->src))
			break;
	}
	if (i == r->set->norch) {
		reply_error(&c, 403, "forbidden_source", "this address may not "
		    "use the registry");
		goto done;
	}
	if ((c.oi = orch_find(r->set, q->key)) < 0) {
		reply_error(&c, 401, "unknown_key", "X-Hyprox-Key names no "
		    "orchestrator");
		goto done;
	}
	c.o = &r->set->orch[c.oi];
	if (!orch_source_ok(c.o, &q->src)) {
		reply_error(&c, 403, "forbidden_source", "this address may not "
		    "use key %s", c.o->id);
		goto done;
	}
	addr_str(&q->src, addr, sizeof(addr));
	snprintf(c.actor, sizeof(c.actor), "%s@%s", c.o->id, addr);
	if ((out->retry_after = rate_take(r, c.oi, &q->src, c.now)) != 0) {
		reply_error(&c, 429, "rate_limited", "more than %u requests per "
		    "second (burst %u)", c.o->rate, c.o->burst);
		goto done;
	}
	if (q->uri == NULL || strlen(q->uri) > REG_URI_MAX) {
		reply_error(&c, 414, "uri_too_long", "at most %d bytes",
		    REG_URI_MAX);
		goto done;
	}
	if ((st = route(&c, q->method, q->uri)) != 0) {
		if (st == 404)
			reply_error(&c, 404, "not_found", "no such resource");
		else
			reply_error(&c, 405, "method_not_allowed", "%s is not "
			    "allowed here", q->method);
		goto done;
	}
	if (q->bodylen > r->set->max_body) {
		reply_error(&c, 413, "body_too_large", "at most %u bytes",
		    r->set->max_body);
		goto done;
	}
	if (authenticate(&c) != 0)
		goto done;
	if (q->bodylen > 0 && q->content_type != NULL &&
	    !json_type(q->content_type)) {
		reply_error(&c, 415, "unsupported_media_type", "send "
		    "Content-Type: application/json");
		goto done;
	}
	if (r->rt == NULL || r->stopping) {
		reply_error(&c, 503, "unavailable", "the registry is not "
		    "serving");
		goto done;
	}
	switch (c.ep) {
	case REG_EP_REGISTER:
		ep_register(&c);
		break;
	case REG_EP_HEARTBEAT:
		ep_heartbeat(&c);
		break;
	case REG_EP_DRAIN:
		ep_drain(&c);
		break;
	case REG_EP_REMOVE:
		ep_remove(&c);
		break;
	case REG_EP_LIST:
		ep_list(&c);
		break;
	default:
		reply_error(&c, 404, "not_found", "no such resource");
		break;
	}
done:
	if (out->status != 429)
		out->retry_after = 0;
	count_request(r, c.ep, out->status);
}

/* ---- time ---- */

/* Expire entries past ttl plus grace; retry activation probes. */
void
reg_tick(struct registry *r)
{
	struct reg_entry	*e;
	int64_t			 now = r->now_ms(r);
	size_t			 i;

	for (i = 0; i < r->st.n; ) {
		e = r->st.e[i];
		if (now > e->expires_ms + (int64_t)r->set->grace_ms) {
			reg_audit(r, "registry", "expire", e->id, 1, "no "
			    "heartbeat for %" PRId64 "ms (ttl %" PRIu32 "ms, "
			    "grace %" PRIu32 "ms)", now - e->expires_ms +
			    e->ttl_ms, e->ttl_ms, r->set->grace_ms);
			if (r->have_metrics)
				hyp_counter_inc(r->m.expired, 1);
			entry_remove(r, e);
			continue;
		}
		if (e->quarantined && !e->probing && now >= e->next_probe_ms)
			entry_probe(r, e, now);
		i++;
	}
}

/* An activation probe finished: release e from quarantine or retry. */
void
reg_activation_result(struct registry *r, struct reg_entry *e, int ok,
    const char *detail)
{
	int64_t	now = r->now_ms(r);
	int	rc;

	e->probing = 0;
	e->probe = NULL;
	snprintf(e->why, sizeof(e->why), "%s", detail != NULL ? detail : "");
	if (!ok) {
		e->next_probe_ms = now + r->set->act_retry_ms;
		reg_audit(r, "registry", "activate", e->id, 0, "%s", e->why);
		return;
	}
	e->quarantined = 0;
	if ((rc = reg_router_sync(r, e)) != 0) {
		e->quarantined = 1;
		e->next_probe_ms = now + r->set->act_retry_ms;
		reg_audit(r, "registry", "activate", e->id, 0, "router: %s",
		    hyp_strerror(rc));
		return;
	}
	reg_audit(r, "registry", "activate", e->id, 1, "certificate accepted");
	if (r->dirty != NULL)
		r->dirty(r);
}

/* ---- state file ---- */

/* Whether a stored entry still passes the current configuration. */
static const char *
restore_check(struct registry *r, const struct reg_file_entry *f,
    const struct reg_orch **op)
{
	const struct reg_orch	*o;
	unsigned		 i;
	int			 oi, fam;

	if (!reg_id_valid(f->id) || !reg_id_valid(f->pool) ||
	    *f->port == 0 || *f->port > 65535 || *f->ttl_ms == 0)
		return ("invalid");
	for (i = 0; i < f->tags_count; i++) {
		if (!reg_tag_valid(f->tags[i]))
			return ("invalid tag");
	}
	if ((oi = orch_find(r->set, f->owner)) < 0)
		return ("its orchestrator is no longer configured");
	o = &r->set->orch[oi];
	if (!orch_pool_ok(o, f->pool) || !orch_prefix_ok(o, f->id) ||
	    !orch_port_ok(o, *f->port))
		return ("no longer allowed to its orchestrator");
	if (reg_addr_class(f->host, o->allow_public, o->allow_loopback,
	    &fam) != NULL)
		return ("its address is no longer allowed");
	*op = o;
	return (NULL);
}

/*
 * Load entries from the state file into the store and the router: those
 * expired (past ttl plus grace), invalid or no longer allowed are
 * dropped.  Entries keep their expiry.
 */
int
reg_restore(struct registry *r, const struct reg_file *f, size_t *kept,
    size_t *dropped)
{
	const struct reg_file_entry	*fe;
	const struct reg_orch		*o;
	struct reg_entry		*e;
	const char			*why;
	int64_t				 now = r->now_ms(r);
	unsigned			 i, j;
	int				 rc;

	*kept = *dropped = 0;
	for (i = 0; i < f->entries_count; i++) {
		fe = &f->entries[i];
		why = restore_check(r, fe, &o);
		if (why == NULL && (int64_t)*fe->expires_ms +
		    (int64_t)r->set->grace_ms < now)
			why = "expired while hyproxd was down";
		if (why == NULL && reg_store_find(&r->st, fe->id) != NULL)
			why = "listed twice";
		if (why == NULL && r->st.n >= r->set->max_entries)
			why = "max_entries reached";
		if (why != NULL) {
			hyp_log(r->p, HYP_LOG_NOTICE, "state file: entry %.64s "
			    "dropped: %s", fe->id, why);
			(*dropped)++;
			continue;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return (HYP_ENOMEM);
		snprintf(e->id, sizeof(e->id), "%s", fe->id);
		snprintf(e->pool, sizeof(e->pool), "%s", fe->pool);
		snprintf(e->host, sizeof(e->host), "%s", fe->host);
		snprintf(e->owner, sizeof(e->owner), "%s", o->id);
		e->port = (uint16_t)*fe->port;
		e->weight = fe->weight != NULL && *fe->weight <= 10000 ?
		    *fe->weight : 0;
		e->max_players = fe->max_players != NULL ? *fe->max_players : 0;
		for (j = 0; j < fe->tags_count; j++)
			snprintf(e->tags[j], sizeof(e->tags[j]), "%s",
			    fe->tags[j]);
		e->ntags = fe->tags_count;
		e->ttl_ms = *fe->ttl_ms;
		e->expires_ms = (int64_t)*fe->expires_ms;
		e->drain = fe->drain != NULL && *fe->drain;
		e->starting = fe->starting != NULL && *fe->starting;
		e->players = fe->players != NULL ? *fe->players : 0;
		e->quarantined = fe->quarantined != NULL && *fe->quarantined &&
		    r->set->act_enabled && r->probe_start != NULL;
		if ((rc = reg_router_sync(r, e)) != 0 ||
		    (rc = reg_store_add(&r->st, e)) != 0) {
			hyp_log(r->p, HYP_LOG_NOTICE, "state file: entry %s "
			    "dropped: %s", e->id, hyp_strerror(rc));
			if (e->in_router)
				(void)r->rt->remove(r->rt_ctx, e->id);
			free(e);
			(*dropped)++;
			continue;
		}
		reg_audit(r, "registry", "restore", e->id, 1, "pool=%s host=%s "
		    "port=%u expires_in=%" PRId64 "ms", e->pool, e->host,
		    e->port, e->expires_ms - now);
		(*kept)++;
	}
	metric_entries(r);
	return (0);
}

/* ---- life ---- */

/* Zero a registry for plugin p. */
void
reg_init(struct registry *r, hyp_plugin_t *p)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->p = p;
	for (i = 0; i < REG_RATE_SOURCES; i++)
		r->buckets[i].orch = -1;
}

/* Free entries, caches and settings (the router is not told). */
void
reg_free(struct registry *r)
{
	size_t	i;

	for (i = 0; i < r->st.n; i++) {
		if (r->st.e[i]->probing && r->probe_cancel != NULL)
			r->probe_cancel(r, r->st.e[i]);
	}
	reg_store_free(&r->st);
	reg_nonces_free(&r->nonces);
	reg_settings_free(r->set);
	r->set = NULL;
}
