/*
 * conf.c: the router's configuration schema, its defaults and checks, and
 * the translation of a loaded configuration into an rt_table.  libcyaml
 * 1.3 has neither defaults nor ranges, so optional values are pointers
 * (NULL when absent) checked here; every message starts with its key path.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "router.h"

/* ---- schema ---- */

static const cyaml_schema_value_t str_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, RT_HOST_MAX),
};

static const cyaml_schema_value_t int_entry = {
	CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int32_t),
};

#define RT_OPT		(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define RT_STR(k, t, m, max)						\
	CYAML_FIELD_STRING_PTR(k, RT_OPT, t, m, 1, max)
#define RT_UINT(k, t, m)	CYAML_FIELD_UINT_PTR(k, RT_OPT, t, m)
#define RT_LIST(k, t, m, e, max)					\
	CYAML_FIELD_SEQUENCE(k, RT_OPT, t, m, e, 0, max)

static const cyaml_schema_field_t backend_fields[] = {
	RT_STR("id", struct rt_conf_backend, id, RT_ID_MAX),
	RT_STR("host", struct rt_conf_backend, host, RT_HOST_MAX),
	RT_UINT("port", struct rt_conf_backend, port),
	RT_UINT("weight", struct rt_conf_backend, weight),
	RT_UINT("max_players", struct rt_conf_backend, max_players),
	RT_LIST("tags", struct rt_conf_backend, tags, &str_entry, RT_MAX_TAGS),
	CYAML_FIELD_BOOL_PTR("drain", RT_OPT, struct rt_conf_backend, drain),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t backend_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct rt_conf_backend,
	    backend_fields),
};

static const cyaml_schema_field_t pool_fields[] = {
	RT_STR("id", struct rt_conf_pool, id, RT_ID_MAX),
	RT_STR("mode", struct rt_conf_pool, mode, 16),
	RT_STR("strategy", struct rt_conf_pool, strategy, 32),
	RT_LIST("fallback", struct rt_conf_pool, fallback, &str_entry,
	    RT_MAX_FALLBACK),
	RT_LIST("backends", struct rt_conf_pool, backends, &backend_schema,
	    RT_MAX_BACKENDS),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t pool_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct rt_conf_pool,
	    pool_fields),
};

static const cyaml_schema_field_t build_fields[] = {
	CYAML_FIELD_INT_PTR("min", RT_OPT, struct rt_conf_build, min),
	CYAML_FIELD_INT_PTR("max", RT_OPT, struct rt_conf_build, max),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t match_fields[] = {
	RT_LIST("sni", struct rt_conf_match, sni, &str_entry, RT_LIST_MAX),
	RT_STR("client_type", struct rt_conf_match, client_type, 16),
	RT_LIST("protocol_crc", struct rt_conf_match, protocol_crc, &int_entry,
	    RT_LIST_MAX),
	CYAML_FIELD_MAPPING_PTR("build", RT_OPT, struct rt_conf_match, build,
	    build_fields),
	RT_LIST("alpn", struct rt_conf_match, alpn, &str_entry, RT_LIST_MAX),
	RT_LIST("referral_source", struct rt_conf_match, referral_source,
	    &str_entry, RT_LIST_MAX),
	RT_LIST("uuid", struct rt_conf_match, uuid, &str_entry, RT_IDLIST_MAX),
	RT_LIST("username", struct rt_conf_match, username, &str_entry,
	    RT_IDLIST_MAX),
	RT_LIST("cidr", struct rt_conf_match, cidr, &str_entry, RT_LIST_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t route_fields[] = {
	RT_STR("name", struct rt_conf_route, name, RT_NAME_MAX),
	CYAML_FIELD_MAPPING_PTR("match", RT_OPT, struct rt_conf_route, match,
	    match_fields),
	RT_STR("pool", struct rt_conf_route, pool, RT_ID_MAX),
	RT_STR("deny", struct rt_conf_route, deny, RT_MSG_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t route_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct rt_conf_route,
	    route_fields),
};

static const cyaml_schema_field_t capacity_fields[] = {
	RT_STR("reservation_ttl", struct rt_conf_capacity, reservation_ttl, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t health_fields[] = {
	RT_STR("interval", struct rt_conf_health, interval, 32),
	RT_STR("timeout", struct rt_conf_health, timeout, 32),
	RT_UINT("rise", struct rt_conf_health, rise),
	RT_UINT("fall", struct rt_conf_health, fall),
	RT_STR("alpn", struct rt_conf_health, alpn, RT_ALPN_MAX),
	CYAML_FIELD_BOOL_PTR("enabled", RT_OPT, struct rt_conf_health, enabled),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t circuit_fields[] = {
	RT_UINT("failures", struct rt_conf_circuit, failures),
	RT_STR("open_for", struct rt_conf_circuit, open_for, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t rt_fields[] = {
	RT_LIST("pools", struct rt_conf, pools, &pool_schema, RT_MAX_POOLS),
	RT_LIST("routes", struct rt_conf, routes, &route_schema, RT_MAX_ROUTES),
	RT_STR("default_pool", struct rt_conf, default_pool, RT_ID_MAX),
	CYAML_FIELD_MAPPING_PTR("capacity", RT_OPT, struct rt_conf, capacity,
	    capacity_fields),
	RT_STR("full_message", struct rt_conf, full_message, RT_MSG_MAX),
	RT_STR("unavailable_message", struct rt_conf, unavailable_message,
	    RT_MSG_MAX),
	CYAML_FIELD_MAPPING_PTR("health", RT_OPT, struct rt_conf, health,
	    health_fields),
	CYAML_FIELD_MAPPING_PTR("circuit", RT_OPT, struct rt_conf, circuit,
	    circuit_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t rt_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct rt_conf, rt_fields),
};

/* ---- small parsers ---- */

static const char *const rt_strategy_names[RT_S__COUNT] = {
	"round_robin", "weighted", "random", "least_loaded", "p2c",
	"consistent", "ip_hash",
};

/* Name of a strategy. */
const char *
rt_strategy_name(enum rt_strategy s)
{
	return ((unsigned)s < RT_S__COUNT ? rt_strategy_names[s] : "?");
}

/* Whether s is a valid id: 1..64 of [A-Za-z0-9._-]. */
int
rt_id_valid(const char *s)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		return (0);
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= RT_ID_MAX || !(isalnum((unsigned char)s[n]) ||
		    s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return (0);
	}
	return (1);
}

/* Parse a uuid "8-4-4-4-12" (either case) into 16 big-endian bytes. */
int
rt_parse_uuid(const char *s, uint8_t out[16])
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*h1, *h2;
	size_t			 i, o = 0;

	if (strlen(s) != 36)
		return (HYP_EINVAL);
	for (i = 0; i < 36; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (HYP_EINVAL);
			i++;
			continue;
		}
		h1 = strchr(hex, tolower((unsigned char)s[i]));
		h2 = strchr(hex, tolower((unsigned char)s[i + 1]));
		if (s[i] == '\0' || s[i + 1] == '\0' || h1 == NULL ||
		    h2 == NULL)
			return (HYP_EINVAL);
		out[o++] = (uint8_t)(((h1 - hex) << 4) | (h2 - hex));
		i += 2;
	}
	return (o == 16 ? 0 : HYP_EINVAL);
}

/* Lowercase copy of s without one trailing dot. */
static char *
dup_host(const char *s)
{
	size_t	 n = strlen(s), i;
	char	*d;

	if (n > 1 && s[n - 1] == '.')
		n--;
	if ((d = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return (d);
}

/* Whether s is printable ASCII without spaces. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s > '~')
			return (0);
	}
	return (1);
}

/* Write an error message and return code. */
static int __attribute__((format(printf, 4, 5)))
fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (code);
}

/* Apply a duration key with its default and range. */
static int
conf_dur(const char *key, const char *s, uint32_t def, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	if (s == NULL) {
		*out = def;
		return (0);
	}
	if (hyp_duration_parse(s, UINT32_MAX, out) != 0)
		return (fail(HYP_ECONFIG, err, errlen, "%s: invalid duration "
		    "'%s' (expected e.g. 100ms, 5s, 2m)", key, s));
	if (*out < min || *out > max)
		return (fail(HYP_ERANGE, err, errlen, "%s: %s is outside "
		    "%ums .. %ums", key, s, min, max));
	return (0);
}

/* Apply an integer key with its default and range. */
static int
conf_num(const char *key, const uint32_t *v, uint32_t def, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	*out = v != NULL ? *v : def;
	if (*out < min || *out > max)
		return (fail(HYP_ERANGE, err, errlen, "%s: %u is outside "
		    "%u .. %u", key, *out, min, max));
	return (0);
}

/* Copy a message (1..RT_MSG_MAX bytes, no control characters). */
static int
conf_msg(const char *key, const char *s, const char *def, char *out,
    char *err, size_t errlen)
{
	const char	*q;

	if (s == NULL)
		s = def;
	for (q = s; *q != '\0'; q++) {
		if ((unsigned char)*q < ' ' || *q == 0x7f)
			return (fail(HYP_ECONFIG, err, errlen, "%s: control "
			    "characters are not allowed", key));
	}
	if (strlen(s) > RT_MSG_MAX)
		return (fail(HYP_ERANGE, err, errlen, "%s: longer than %d "
		    "bytes", key, RT_MSG_MAX));
	memcpy(out, s, strlen(s) + 1);
	return (0);
}

/* ---- settings ---- */

/* Fill the global settings (everything but default_pool). */
static int
build_settings(const struct rt_conf *c, struct rt_settings *set, char *err,
    size_t errlen)
{
	static const struct rt_conf_health	 noh;
	static const struct rt_conf_circuit	 noc;
	const struct rt_conf_health		*h = c->health ? c->health : &noh;
	const struct rt_conf_circuit		*cb = c->circuit ? c->circuit : &noc;
	const char				*alpn;
	int					 rc;

	if ((rc = conf_dur("capacity.reservation_ttl", c->capacity != NULL ?
	    c->capacity->reservation_ttl : NULL, 30000, 0, 3600000,
	    &set->ttl_ms, err, errlen)) != 0 ||
	    (rc = conf_msg("full_message", c->full_message, RT_DEF_FULL_MSG,
	    set->full_message, err, errlen)) != 0 ||
	    (rc = conf_msg("unavailable_message", c->unavailable_message,
	    RT_DEF_UNAVAIL_MSG, set->unavail_message, err, errlen)) != 0 ||
	    (rc = conf_dur("health.interval", h->interval, 5000, 100,
	    3600000, &set->interval_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("health.timeout", h->timeout, 2000, 10, 60000,
	    &set->timeout_ms, err, errlen)) != 0 ||
	    (rc = conf_num("health.rise", h->rise, 2, 1, 100, &set->rise,
	    err, errlen)) != 0 ||
	    (rc = conf_num("health.fall", h->fall, 3, 1, 100, &set->fall,
	    err, errlen)) != 0 ||
	    (rc = conf_num("circuit.failures", cb->failures, 5, 1, 10000,
	    &set->cb_failures, err, errlen)) != 0 ||
	    (rc = conf_dur("circuit.open_for", cb->open_for, 30000, 100,
	    3600000, &set->open_ms, err, errlen)) != 0)
		return (rc);
	set->health_enabled = h->enabled == NULL || *h->enabled;
	alpn = h->alpn != NULL ? h->alpn : "hytale/2,hytale/1";
	if (!printable(alpn) || alpn[0] == ',' || strstr(alpn, ",,") != NULL ||
	    alpn[strlen(alpn) - 1] == ',')
		return (fail(HYP_ECONFIG, err, errlen, "health.alpn: '%s' must "
		    "be a comma-separated list of protocol names", alpn));
	memcpy(set->alpn, alpn, strlen(alpn) + 1);
	return (0);
}

/* ---- pools and backends ---- */

/* Parse a pool's mode and strategy. */
static int
build_pool_kind(const struct rt_conf_pool *cp, unsigned i, struct rt_pool *pl,
    char *err, size_t errlen)
{
	unsigned	s;

	if (cp->mode == NULL || strcmp(cp->mode, "redirect") == 0)
		pl->mode = RT_MODE_REDIRECT;
	else if (strcmp(cp->mode, "full") == 0)
		pl->mode = RT_MODE_FULL;
	else
		return (fail(HYP_ECONFIG, err, errlen, "pools[%u].mode: unknown "
		    "value '%s' (expected redirect or full)", i, cp->mode));
	pl->strategy = RT_S_LEAST_LOADED;
	if (cp->strategy != NULL) {
		for (s = 0; s < RT_S__COUNT; s++) {
			if (strcmp(cp->strategy, rt_strategy_names[s]) == 0)
				break;
		}
		if (s == RT_S__COUNT)
			return (fail(HYP_ECONFIG, err, errlen, "pools[%u]."
			    "strategy: unknown value '%s' (expected "
			    "round_robin, weighted, random, least_loaded, p2c, "
			    "consistent or ip_hash)", i, cp->strategy));
		pl->strategy = (enum rt_strategy)s;
	}
	return (0);
}

/* Build one configured backend. */
static int
build_backend(const struct rt_conf_backend *cb, unsigned i, unsigned j,
    struct rt_table *t, struct rt_pool *pl, char *err, size_t errlen)
{
	struct rt_backend	*b;
	uint32_t		 port, weight, maxp;
	char			 key[64];
	unsigned		 k;
	int			 rc;

	snprintf(key, sizeof(key), "pools[%u].backends[%u]", i, j);
	if (cb->id == NULL || !rt_id_valid(cb->id))
		return (fail(HYP_ECONFIG, err, errlen, "%s.id: %s", key,
		    cb->id == NULL ? "missing" : "must be 1-64 characters of "
		    "A-Z a-z 0-9 . _ -"));
	if (rt_find(t, cb->id) != NULL)
		return (fail(HYP_EEXIST, err, errlen, "%s.id: '%s' is used "
		    "twice (backend ids are unique across pools)", key,
		    cb->id));
	if (cb->host == NULL || !printable(cb->host))
		return (fail(HYP_ECONFIG, err, errlen, "%s.host: %s", key,
		    cb->host == NULL ? "missing" : "must be printable ASCII "
		    "without spaces"));
	if ((rc = conf_num("port", cb->port, RT_DEF_PORT, 1, 65535, &port,
	    err, errlen)) != 0 ||
	    (rc = conf_num("weight", cb->weight, 1, 1, 10000, &weight, err,
	    errlen)) != 0 ||
	    (rc = conf_num("max_players", cb->max_players, 0, 0, 10000000,
	    &maxp, err, errlen)) != 0) {
		/* Prefix the path to the bare key conf_num wrote. */
		char	tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%s.%s", key, tmp);
		return (rc);
	}
	if (t->nb >= RT_MAX_BACKENDS)
		return (fail(HYP_ENOSPC, err, errlen, "%s: more than %d "
		    "backends in all pools", key, RT_MAX_BACKENDS));
	for (k = 0; k < cb->tags_count; k++) {
		if (strlen(cb->tags[k]) > RT_TAG_MAX || !printable(cb->tags[k]))
			return (fail(HYP_ECONFIG, err, errlen, "%s.tags[%u]: "
			    "must be 1-%d printable characters", key, k,
			    RT_TAG_MAX));
	}
	if ((b = rt_backend_new(cb->id, cb->host, (uint16_t)port)) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "%s: out of memory", key));
	b->weight = weight;
	b->max_players = maxp;
	for (k = 0; k < cb->tags_count; k++)
		snprintf(b->tags[k], sizeof(b->tags[k]), "%s", cb->tags[k]);
	b->ntags = cb->tags_count;
	b->drain_conf = cb->drain != NULL && *cb->drain;
	t->all[t->nb++] = b;
	if ((rc = rt_pool_add(pl, b)) != 0)
		return (fail(rc, err, errlen, "%s: out of memory", key));
	return (0);
}

/* Depth-first search for a fallback cycle through pool i. */
static int
fallback_cycle(const struct rt_table *t, size_t i, uint8_t *mark)
{
	size_t	k;

	if (mark[i] == 1)
		return (1);
	if (mark[i] == 2)
		return (0);
	mark[i] = 1;
	for (k = 0; k < t->pools[i].nfallback; k++) {
		if (fallback_cycle(t, (size_t)t->pools[i].fallback[k], mark))
			return (1);
	}
	mark[i] = 2;
	return (0);
}

/* Build every pool with its backends, then resolve the fallbacks. */
static int
build_pools(const struct rt_conf *c, struct rt_table *t, char *err,
    size_t errlen)
{
	const struct rt_conf_pool	*cp;
	struct rt_pool			*pl;
	uint8_t				 mark[RT_MAX_POOLS];
	unsigned			 i, j;
	int				 rc, f;

	if (c->pools_count == 0)
		return (0);
	if ((t->pools = calloc(c->pools_count, sizeof(*t->pools))) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "pools: out of memory"));
	for (i = 0; i < c->pools_count; i++) {
		cp = &c->pools[i];
		pl = &t->pools[i];
		t->npools = i + 1;
		if (cp->id == NULL || !rt_id_valid(cp->id))
			return (fail(HYP_ECONFIG, err, errlen, "pools[%u].id: "
			    "%s", i, cp->id == NULL ? "missing" : "must be "
			    "1-64 characters of A-Z a-z 0-9 . _ -"));
		if (rt_pool_find(t, cp->id) >= 0 &&
		    (size_t)rt_pool_find(t, cp->id) < i)
			return (fail(HYP_EEXIST, err, errlen, "pools[%u].id: "
			    "'%s' is used twice", i, cp->id));
		snprintf(pl->id, sizeof(pl->id), "%s", cp->id);
		if ((rc = build_pool_kind(cp, i, pl, err, errlen)) != 0)
			return (rc);
		for (j = 0; j < cp->backends_count; j++) {
			if ((rc = build_backend(&cp->backends[j], i, j, t, pl,
			    err, errlen)) != 0)
				return (rc);
		}
	}
	for (i = 0; i < c->pools_count; i++) {
		cp = &c->pools[i];
		for (j = 0; j < cp->fallback_count; j++) {
			if ((f = rt_pool_find(t, cp->fallback[j])) < 0)
				return (fail(HYP_ENOENT, err, errlen, "pools[%u]."
				    "fallback[%u]: no pool '%s'", i, j,
				    cp->fallback[j]));
			t->pools[i].fallback[j] = f;
		}
		t->pools[i].nfallback = cp->fallback_count;
	}
	for (i = 0; i < t->npools; i++) {
		memset(mark, 0, sizeof(mark));
		if (fallback_cycle(t, i, mark))
			return (fail(HYP_ECONFIG, err, errlen, "pools[%u]."
			    "fallback: the chain from '%s' comes back to a "
			    "pool it already tried (cycle)", i, t->pools[i].id));
	}
	return (0);
}

/* ---- routes ---- */

/* Copy a list of host names (lowercased, no trailing dot). */
static int
build_hosts(const char *key, char **in, unsigned n, int wild, char ***out,
    size_t *nout, char *err, size_t errlen)
{
	unsigned	i;

	if (n == 0)
		return (0);
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "%s: out of memory", key));
	for (i = 0; i < n; i++) {
		if (!printable(in[i]) || strcmp(in[i], ".") == 0 ||
		    (!wild && strchr(in[i], '*') != NULL) ||
		    (wild && strchr(in[i], '*') != NULL &&
		    (strncmp(in[i], "*.", 2) != 0 ||
		    strchr(in[i] + 1, '*') != NULL || in[i][2] == '\0')))
			return (fail(HYP_ECONFIG, err, errlen, "%s[%u]: '%s' is "
			    "not a host name%s", key, i, in[i], wild ?
			    " or a '*.' wildcard" : ""));
		if (((*out)[i] = dup_host(in[i])) == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "%s: out of "
			    "memory", key));
		*nout = i + 1;
	}
	return (0);
}

/* Parse the referral sources: "host" or "host:port" or "[v6]:port". */
static int
build_refsrc(const char *key, const struct rt_conf_match *cm,
    struct rt_match *m, char *err, size_t errlen)
{
	const char	*s, *colon, *host;
	char		 buf[RT_HOST_MAX + 1], *end, *h;
	unsigned long	 port;
	size_t		 hl;
	unsigned	 i;

	if (cm->referral_source_count == 0)
		return (0);
	m->ref = calloc(cm->referral_source_count, sizeof(*m->ref));
	if (m->ref == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "%s: out of memory", key));
	for (i = 0; i < cm->referral_source_count; i++) {
		s = cm->referral_source[i];
		m->ref[i].port = -1;
		host = s;
		hl = strlen(s);
		if (s[0] == '[') {
			if ((end = strchr(s, ']')) == NULL)
				goto bad;
			host = s + 1;
			hl = (size_t)(end - host);
			colon = end[1] == ':' ? end + 1 : NULL;
			if (end[1] != '\0' && colon == NULL)
				goto bad;
		} else if ((colon = strchr(s, ':')) != NULL &&
		    strchr(colon + 1, ':') == NULL)
			hl = (size_t)(colon - s);
		else
			colon = NULL;	/* bare IPv6 or plain host */
		if (colon != NULL) {
			port = strtoul(colon + 1, &end, 10);
			if (colon[1] < '0' || colon[1] > '9' || *end != '\0' ||
			    port > 65535)
				goto bad;
			m->ref[i].port = (int)port;
		}
		if (hl == 0 || hl >= sizeof(buf) || !printable(s))
			goto bad;
		memcpy(buf, host, hl);
		buf[hl] = '\0';
		if ((h = dup_host(buf)) == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "%s: out of "
			    "memory", key));
		snprintf(m->ref[i].host, sizeof(m->ref[i].host), "%s", h);
		free(h);
		m->nref = i + 1;
	}
	return (0);
bad:
	return (fail(HYP_ECONFIG, err, errlen, "%s[%u]: '%s' is not host, "
	    "host:port or [address]:port", key, i, s));
}

/* Translate one route's match block. */
static int
build_match(const struct rt_conf_match *cm, unsigned r, struct rt_match *m,
    char *err, size_t errlen)
{
	char		key[64];
	unsigned	i;
	int		rc;

	m->client_type = -1;
	if (cm == NULL)
		return (0);
	snprintf(key, sizeof(key), "routes[%u].match.sni", r);
	if ((rc = build_hosts(key, cm->sni, cm->sni_count, 1, &m->sni,
	    &m->nsni, err, errlen)) != 0)
		return (rc);
	if (cm->client_type != NULL) {
		if (strcmp(cm->client_type, "game") == 0)
			m->client_type = HYP_CLIENT_GAME;
		else if (strcmp(cm->client_type, "editor") == 0)
			m->client_type = HYP_CLIENT_EDITOR;
		else
			return (fail(HYP_ECONFIG, err, errlen, "routes[%u].match."
			    "client_type: unknown value '%s' (expected game or "
			    "editor)", r, cm->client_type));
	}
	if (cm->protocol_crc_count > 0) {
		m->crc = calloc(cm->protocol_crc_count, sizeof(*m->crc));
		if (m->crc == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
		memcpy(m->crc, cm->protocol_crc, cm->protocol_crc_count *
		    sizeof(*m->crc));
		m->ncrc = cm->protocol_crc_count;
	}
	if (cm->build != NULL) {
		m->has_build = 1;
		m->build_min = cm->build->min != NULL ? *cm->build->min :
		    INT32_MIN;
		m->build_max = cm->build->max != NULL ? *cm->build->max :
		    INT32_MAX;
		if (cm->build->min == NULL && cm->build->max == NULL)
			return (fail(HYP_ECONFIG, err, errlen, "routes[%u].match."
			    "build: give min, max or both", r));
		if (m->build_min > m->build_max)
			return (fail(HYP_ERANGE, err, errlen, "routes[%u].match."
			    "build: min %d is above max %d", r,
			    (int)m->build_min, (int)m->build_max));
	}
	if (cm->alpn_count > 0) {
		if ((m->alpn = calloc(cm->alpn_count, sizeof(*m->alpn))) == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
		for (i = 0; i < cm->alpn_count; i++) {
			if (!printable(cm->alpn[i]))
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".match.alpn[%u]: must be printable ASCII "
				    "without spaces", r, i));
			if ((m->alpn[i] = strdup(cm->alpn[i])) == NULL)
				return (fail(HYP_ENOMEM, err, errlen, "out of "
				    "memory"));
			m->nalpn = i + 1;
		}
	}
	snprintf(key, sizeof(key), "routes[%u].match.referral_source", r);
	if ((rc = build_refsrc(key, cm, m, err, errlen)) != 0)
		return (rc);
	if (cm->uuid_count > 0) {
		if ((m->uuid = calloc(cm->uuid_count, 16)) == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
		for (i = 0; i < cm->uuid_count; i++) {
			if (rt_parse_uuid(cm->uuid[i], m->uuid[i]) != 0)
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".match.uuid[%u]: '%s' is not a uuid "
				    "(8-4-4-4-12 hex digits)", r, i, cm->uuid[i]));
		}
		m->nuuid = cm->uuid_count;
	}
	if (cm->username_count > 0) {
		if ((m->user = calloc(cm->username_count, sizeof(*m->user))) ==
		    NULL)
			return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
		for (i = 0; i < cm->username_count; i++) {
			if (strlen(cm->username[i]) > HYP_USERNAME_MAX ||
			    !printable(cm->username[i]))
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".match.username[%u]: must be 1-%d printable "
				    "characters", r, i, HYP_USERNAME_MAX));
			if ((m->user[i] = dup_host(cm->username[i])) == NULL)
				return (fail(HYP_ENOMEM, err, errlen, "out of "
				    "memory"));
			/* dup_host drops a trailing dot; usernames keep it. */
			if (strlen(m->user[i]) != strlen(cm->username[i])) {
				free(m->user[i]);
				m->user[i] = NULL;
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".match.username[%u]: '%s' is not a Hytale "
				    "username", r, i, cm->username[i]));
			}
			m->nuser = i + 1;
		}
	}
	if (cm->cidr_count > 0) {
		if ((m->cidr = calloc(cm->cidr_count, sizeof(*m->cidr))) == NULL)
			return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
		for (i = 0; i < cm->cidr_count; i++) {
			if (hyp_cidr_parse(cm->cidr[i], &m->cidr[i]) != 0)
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".match.cidr[%u]: '%s' is not an address or "
				    "address/prefix", r, i, cm->cidr[i]));
		}
		m->ncidr = cm->cidr_count;
	}
	return (0);
}

/* Build every route. */
static int
build_routes(const struct rt_conf *c, struct rt_table *t, char *err,
    size_t errlen)
{
	const struct rt_conf_route	*cr;
	struct rt_route			*ro;
	unsigned			 i;
	int				 rc;

	if (c->routes_count == 0)
		return (0);
	if ((t->routes = calloc(c->routes_count, sizeof(*t->routes))) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "routes: out of memory"));
	for (i = 0; i < c->routes_count; i++) {
		cr = &c->routes[i];
		ro = &t->routes[i];
		t->nroutes = i + 1;
		ro->pool = -1;
		if (cr->name != NULL) {
			if (!printable(cr->name))
				return (fail(HYP_ECONFIG, err, errlen, "routes[%u]"
				    ".name: must be printable ASCII without "
				    "spaces", i));
			snprintf(ro->name, sizeof(ro->name), "%s", cr->name);
		} else
			snprintf(ro->name, sizeof(ro->name), "route%u", i);
		if ((cr->pool == NULL) == (cr->deny == NULL))
			return (fail(HYP_ECONFIG, err, errlen, "routes[%u]: give "
			    "exactly one of pool and deny", i));
		if (cr->pool != NULL &&
		    (ro->pool = rt_pool_find(t, cr->pool)) < 0)
			return (fail(HYP_ENOENT, err, errlen, "routes[%u].pool: "
			    "no pool '%s'", i, cr->pool));
		if (cr->deny != NULL) {
			if ((ro->deny = malloc(RT_MSG_MAX + 1)) == NULL)
				return (fail(HYP_ENOMEM, err, errlen, "out of "
				    "memory"));
			if ((rc = conf_msg("deny", cr->deny, NULL, ro->deny, err,
			    errlen)) != 0) {
				char	tmp[256];

				snprintf(tmp, sizeof(tmp), "%s", err);
				return (fail(rc, err, errlen, "routes[%u].%s", i,
				    tmp));
			}
		}
		if ((rc = build_match(cr->match, i, &ro->m, err, errlen)) != 0)
			return (rc);
	}
	return (0);
}

/* Build a table from a loaded configuration (no host objects yet). */
int
rt_table_build(const struct rt_conf *c, struct rt_table **out, char *err,
    size_t errlen)
{
	static const struct rt_conf	 empty;
	struct rt_table			*t;
	int				 rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (c == NULL)
		c = &empty;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
	t->set.default_pool = -1;
	if ((rc = build_settings(c, &t->set, err, errlen)) != 0 ||
	    (rc = build_pools(c, t, err, errlen)) != 0 ||
	    (rc = build_routes(c, t, err, errlen)) != 0)
		goto fail;
	if (c->default_pool != NULL &&
	    (t->set.default_pool = rt_pool_find(t, c->default_pool)) < 0) {
		rc = fail(HYP_ENOENT, err, errlen, "default_pool: no pool "
		    "'%s'", c->default_pool);
		goto fail;
	}
	*out = t;
	return (0);
fail:
	rt_table_free(NULL, t);
	return (rc);
}

/* The descriptor's conf_check: build a table and discard it. */
int
rt_conf_check(const void *conf, char *err, size_t errlen)
{
	struct rt_table	*t;
	int		 rc;

	if ((rc = rt_table_build(conf, &t, err, errlen)) != 0)
		return (rc);
	rt_table_free(NULL, t);
	return (0);
}
