/*
 * conf.c: the registry's configuration schema, defaults and checks, the
 * orchestrators (secrets, source CIDRs, pools, id prefixes, ports) and
 * the address rules of registered backends.  libcyaml 1.3 has neither
 * defaults nor ranges, so optional values are pointers (NULL when absent)
 * checked here; every message starts with its key path.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* ---- schema ---- */

static const cyaml_schema_value_t str_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 255),
};

#define RG_OPT		(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define RG_STR(k, t, m, max)						\
	CYAML_FIELD_STRING_PTR(k, RG_OPT, t, m, 1, max)
#define RG_UINT(k, t, m)	CYAML_FIELD_UINT_PTR(k, RG_OPT, t, m)
#define RG_BOOL(k, t, m)	CYAML_FIELD_BOOL_PTR(k, RG_OPT, t, m)
#define RG_LIST(k, t, m, e, max)					\
	CYAML_FIELD_SEQUENCE(k, RG_OPT, t, m, e, 0, max)

static const cyaml_schema_field_t rate_fields[] = {
	RG_UINT("per_second", struct reg_conf_rate, per_second),
	RG_UINT("burst", struct reg_conf_rate, burst),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t orch_fields[] = {
	RG_STR("id", struct reg_conf_orch, id, REG_ID_MAX),
	RG_STR("secret", struct reg_conf_orch, secret, 4096),
	RG_LIST("cidrs", struct reg_conf_orch, cidrs, &str_entry, REG_LIST_MAX),
	RG_LIST("pools", struct reg_conf_orch, pools, &str_entry, REG_LIST_MAX),
	RG_LIST("id_prefixes", struct reg_conf_orch, id_prefixes, &str_entry,
	    REG_LIST_MAX),
	RG_LIST("ports", struct reg_conf_orch, ports, &str_entry, REG_LIST_MAX),
	RG_BOOL("allow_public", struct reg_conf_orch, allow_public),
	RG_BOOL("allow_loopback", struct reg_conf_orch, allow_loopback),
	CYAML_FIELD_MAPPING_PTR("rate", RG_OPT, struct reg_conf_orch, rate,
	    rate_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t orch_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct reg_conf_orch,
	    orch_fields),
};

static const cyaml_schema_field_t act_fields[] = {
	RG_BOOL("enabled", struct reg_conf_activation, enabled),
	RG_LIST("sans", struct reg_conf_activation, sans, &str_entry,
	    REG_LIST_MAX),
	RG_STR("timeout", struct reg_conf_activation, timeout, 32),
	RG_STR("retry", struct reg_conf_activation, retry, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t reg_fields[] = {
	RG_STR("listen", struct reg_conf, listen, 80),
	RG_LIST("orchestrators", struct reg_conf, orchestrators, &orch_schema,
	    REG_MAX_ORCH),
	RG_UINT("max_body", struct reg_conf, max_body),
	RG_UINT("max_entries", struct reg_conf, max_entries),
	RG_UINT("nonce_cache", struct reg_conf, nonce_cache),
	RG_STR("default_ttl", struct reg_conf, default_ttl, 32),
	RG_STR("max_ttl", struct reg_conf, max_ttl, 32),
	RG_STR("grace", struct reg_conf, grace, 32),
	RG_STR("skew", struct reg_conf, skew, 32),
	RG_STR("state_file", struct reg_conf, state_file, 4096),
	RG_STR("state_delay", struct reg_conf, state_delay, 32),
	CYAML_FIELD_MAPPING_PTR("activation", RG_OPT, struct reg_conf,
	    activation, act_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t reg_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reg_conf, reg_fields),
};

/* ---- small parsers ---- */

/* Whether s is a valid id: 1..64 of [A-Za-z0-9._-]. */
int
reg_id_valid(const char *s)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		return (0);
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= REG_ID_MAX || !(isalnum((unsigned char)s[n]) ||
		    s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return (0);
	}
	return (1);
}

/* Whether s is a valid tag: 1..64 of [A-Za-z0-9._:=/-]. */
int
reg_tag_valid(const char *s)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		return (0);
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= REG_TAG_MAX || !(isalnum((unsigned char)s[n]) ||
		    strchr("._:=/-", s[n]) != NULL))
			return (0);
	}
	return (1);
}

/* Parse "5520" or "5520-5600" (1..65535, lo <= hi). */
int
reg_parse_range(const char *s, struct reg_range *out)
{
	unsigned long	 lo, hi;
	char		*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return (HYP_EINVAL);
		hi = strtoul(end + 1, &end, 10);
	}
	if (*end != '\0' || lo == 0 || hi > 65535 || lo > hi)
		return (HYP_EINVAL);
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return (0);
}

/* The 16 address bytes of sa (IPv4 as ::ffff:a.b.c.d); 0 or HYP_EINVAL. */
int
reg_addr_bytes(const struct sockaddr *sa, uint8_t out[16], int *fam)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &s4->sin_addr, 4);
		*fam = AF_INET;
		return (0);
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out, &s6->sin6_addr, 16);
		*fam = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			*fam = AF_INET;
		return (0);
	}
	return (HYP_EINVAL);
}

/* Whether the first len bits of a and b agree. */
static int
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned	full = len / 8, rest = len % 8;
	uint8_t		mask;

	if (memcmp(a, b, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] & mask) == (b[full] & mask));
}

/* Whether the IPv4 address a (network order bytes) is in net/len. */
static int
v4_in(const uint8_t *a, uint32_t net, unsigned len)
{
	uint8_t	n[4];

	n[0] = (uint8_t)(net >> 24);
	n[1] = (uint8_t)(net >> 16);
	n[2] = (uint8_t)(net >> 8);
	n[3] = (uint8_t)net;
	return (prefix_eq(a, n, len));
}

/*
 * Classify a backend host: NULL when allowed, else the reason.  Only
 * numeric addresses are accepted (names would be resolved later by
 * someone else, outside these checks).  Private ranges (10/8,
 * 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed; loopback only
 * with allow_loopback; other public addresses only with allow_public;
 * unspecified, link-local, multicast, broadcast and reserved never.
 */
const char *
reg_addr_class(const char *host, int allow_public, int allow_loopback,
    int *fam)
{
	uint8_t		a[16];
	const uint8_t	*v4;

	if (inet_pton(AF_INET, host, a) == 1) {
		*fam = AF_INET;
		v4 = a;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		*fam = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)a))
			return ("IPv4-mapped IPv6 addresses are refused; "
			    "use the IPv4 form");
		if (IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)(void *)a))
			return ("the unspecified address is refused");
		if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)(void *)a))
			return (allow_loopback ? NULL :
			    "loopback addresses are refused");
		if (IN6_IS_ADDR_LINKLOCAL((struct in6_addr *)(void *)a))
			return ("link-local addresses are refused");
		if (IN6_IS_ADDR_MULTICAST((struct in6_addr *)(void *)a))
			return ("multicast addresses are refused");
		if ((a[0] & 0xfe) == 0xfc)	/* fc00::/7 */
			return (NULL);
		if (IN6_IS_ADDR_SITELOCAL((struct in6_addr *)(void *)a))
			return ("site-local addresses are refused");
		return (allow_public ? NULL : "public addresses are refused "
		    "for this orchestrator");
	} else {
		*fam = 0;
		return ("the host must be a numeric IPv4 or IPv6 address");
	}
	if (v4_in(v4, 0x00000000, 8))
		return ("addresses in 0.0.0.0/8 are refused");
	if (v4_in(v4, 0x7f000000, 8))
		return (allow_loopback ? NULL : "loopback addresses are refused");
	if (v4_in(v4, 0xa9fe0000, 16))
		return ("link-local addresses are refused");
	if (v4_in(v4, 0xe0000000, 4))
		return ("multicast addresses are refused");
	if (v4_in(v4, 0xf0000000, 4))
		return ("reserved and broadcast addresses are refused");
	if (v4_in(v4, 0x0a000000, 8) || v4_in(v4, 0xac100000, 12) ||
	    v4_in(v4, 0xc0a80000, 16) || v4_in(v4, 0x64400000, 10))
		return (NULL);
	return (allow_public ? NULL : "public addresses are refused for this "
	    "orchestrator");
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
		    "'%s' (expected e.g. 500ms, 30s, 2m)", key, s));
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

/* Parse listen "host:port" or "[v6]:port" (numeric host, port 1..65535). */
static int
conf_listen(const char *s, struct reg_settings *set, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;

	if (hyp_addr_parse(s, -1, &ss, NULL) != 0 ||
	    hyp_addr_numeric((struct sockaddr *)&ss, set->listen_host,
	    sizeof(set->listen_host), &set->listen_port) != 0 ||
	    set->listen_port == 0)
		return (fail(HYP_ECONFIG, err, errlen, "listen: '%s' must be a "
		    "numeric address and a port, e.g. 127.0.0.1:9521 or "
		    "[::1]:9521", s));
	return (0);
}

/* Build one orchestrator; secrets are read only when read_secrets. */
static int
conf_orch(const struct reg_conf_orch *co, unsigned i, const char *basedir,
    int read_secrets, struct reg_orch *o, char *err, size_t errlen)
{
	char		 serr[256];
	unsigned	 j;
	int		 warn = 0, rc;

	if (co->id == NULL || !reg_id_valid(co->id))
		return (fail(HYP_ECONFIG, err, errlen, "orchestrators[%u].id: "
		    "required, 1-64 characters of A-Z a-z 0-9 . _ -", i));
	snprintf(o->id, sizeof(o->id), "%s", co->id);
	if (co->secret == NULL || !hyp_secret_is_ref(co->secret))
		return (fail(HYP_ECONFIG, err, errlen, "orchestrators[%u]."
		    "secret: required, an env:NAME or file:PATH reference", i));
	if (co->cidrs_count == 0)
		return (fail(HYP_ECONFIG, err, errlen, "orchestrators[%u].cidrs: "
		    "at least one source CIDR is required", i));
	for (j = 0; j < co->cidrs_count; j++) {
		if (hyp_cidr_parse(co->cidrs[j], &o->cidrs[j]) != 0)
			return (fail(HYP_ECONFIG, err, errlen, "orchestrators"
			    "[%u].cidrs[%u]: '%s' is not a CIDR", i, j,
			    co->cidrs[j]));
	}
	o->ncidrs = co->cidrs_count;
	if (co->pools_count == 0)
		return (fail(HYP_ECONFIG, err, errlen, "orchestrators[%u].pools: "
		    "at least one pool is required", i));
	for (j = 0; j < co->pools_count; j++) {
		if (!reg_id_valid(co->pools[j]))
			return (fail(HYP_ECONFIG, err, errlen, "orchestrators"
			    "[%u].pools[%u]: '%s' is not a pool id", i, j,
			    co->pools[j]));
		snprintf(o->pools[j], sizeof(o->pools[j]), "%s", co->pools[j]);
	}
	o->npools = co->pools_count;
	for (j = 0; j < co->id_prefixes_count; j++) {
		if (!reg_id_valid(co->id_prefixes[j]))
			return (fail(HYP_ECONFIG, err, errlen, "orchestrators"
			    "[%u].id_prefixes[%u]: '%s' is not an id prefix", i,
			    j, co->id_prefixes[j]));
		snprintf(o->prefixes[j], sizeof(o->prefixes[j]), "%s",
		    co->id_prefixes[j]);
	}
	o->nprefixes = co->id_prefixes_count;
	for (j = 0; j < co->ports_count; j++) {
		if (reg_parse_range(co->ports[j], &o->ports[j]) != 0)
			return (fail(HYP_ECONFIG, err, errlen, "orchestrators"
			    "[%u].ports[%u]: '%s' is not a port or a range "
			    "like 5520-5600", i, j, co->ports[j]));
	}
	o->nports = co->ports_count;
	if (o->nports == 0) {
		o->ports[0].lo = 1024;
		o->ports[0].hi = 65535;
		o->nports = 1;
	}
	o->allow_public = co->allow_public != NULL && *co->allow_public;
	o->allow_loopback = co->allow_loopback != NULL && *co->allow_loopback;
	o->rate = 10;
	o->burst = 20;
	if (co->rate != NULL) {
		char	key[64];

		snprintf(key, sizeof(key), "orchestrators[%u].rate.per_second",
		    i);
		if ((rc = conf_num(key, co->rate->per_second, 10, 1, 100000,
		    &o->rate, err, errlen)) != 0)
			return (rc);
		snprintf(key, sizeof(key), "orchestrators[%u].rate.burst", i);
		if ((rc = conf_num(key, co->rate->burst, o->rate * 2, 1,
		    1000000, &o->burst, err, errlen)) != 0)
			return (rc);
	}
	if (!read_secrets)
		return (0);
	if ((rc = hyp_secret_read(co->secret, basedir, &o->secret,
	    &o->secretlen, &warn, serr, sizeof(serr))) != 0)
		return (fail(HYP_ESECRET, err, errlen, "orchestrators[%u].secret: "
		    "%s", i, serr));
	if (o->secretlen < REG_SECRET_MIN)
		return (fail(HYP_ESECRET, err, errlen, "orchestrators[%u].secret: "
		    "%zu bytes is too short (at least %d)", i, o->secretlen,
		    REG_SECRET_MIN));
	return (0);
}

/* Free settings and wipe their secrets; NULL is ignored. */
void
reg_settings_free(struct reg_settings *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->norch; i++)
		hyp_secret_free(s->orch[i].secret, s->orch[i].secretlen);
	free(s->orch);
	free(s->state_file);
	free(s);
}

/* Build the effective settings from a loaded configuration. */
int
reg_settings_build(const struct reg_conf *c, const char *basedir,
    int read_secrets, struct reg_settings **out, char *err, size_t errlen)
{
	const struct reg_conf_activation	*a = c->activation;
	struct reg_settings			*s;
	unsigned				 i, j;
	int					 rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (fail(HYP_ENOMEM, err, errlen, "out of memory"));
	if ((rc = conf_listen(c->listen != NULL ? c->listen : REG_DEF_LISTEN,
	    s, err, errlen)) != 0)
		goto bad;
	if (c->orchestrators_count == 0) {
		rc = fail(HYP_ECONFIG, err, errlen, "orchestrators: at least "
		    "one orchestrator is required");
		goto bad;
	}
	if ((s->orch = calloc(c->orchestrators_count, sizeof(*s->orch))) ==
	    NULL) {
		rc = fail(HYP_ENOMEM, err, errlen, "out of memory");
		goto bad;
	}
	for (i = 0; i < c->orchestrators_count; i++) {
		for (j = 0; j < i; j++) {
			if (c->orchestrators[i].id != NULL &&
			    strcmp(s->orch[j].id, c->orchestrators[i].id) == 0) {
				rc = fail(HYP_ECONFIG, err, errlen,
				    "orchestrators[%u].id: '%s' is used twice",
				    i, c->orchestrators[i].id);
				goto bad;
			}
		}
		s->norch = i + 1;
		if ((rc = conf_orch(&c->orchestrators[i], i, basedir,
		    read_secrets, &s->orch[i], err, errlen)) != 0)
			goto bad;
	}
	if ((rc = conf_num("max_body", c->max_body, REG_DEF_MAX_BODY, 256,
	    1048576, &s->max_body, err, errlen)) != 0 ||
	    (rc = conf_num("max_entries", c->max_entries, REG_DEF_MAX_ENTRIES,
	    1, 1024, &s->max_entries, err, errlen)) != 0 ||
	    (rc = conf_num("nonce_cache", c->nonce_cache, REG_DEF_NONCES, 64,
	    1048576, &s->nonce_cache, err, errlen)) != 0 ||
	    (rc = conf_dur("default_ttl", c->default_ttl, 30000, 1000,
	    86400000, &s->default_ttl_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("max_ttl", c->max_ttl, 3600000, 1000, 86400000,
	    &s->max_ttl_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("grace", c->grace, 10000, 0, 3600000,
	    &s->grace_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("skew", c->skew, 30000, 1000, 600000,
	    &s->skew_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("state_delay", c->state_delay, 1000, 0, 60000,
	    &s->state_delay_ms, err, errlen)) != 0)
		goto bad;
	if (s->default_ttl_ms > s->max_ttl_ms) {
		rc = fail(HYP_ECONFIG, err, errlen, "default_ttl: longer than "
		    "max_ttl");
		goto bad;
	}
	if (c->state_file != NULL && (s->state_file = hyp_path_resolve(
	    basedir != NULL ? basedir : ".", c->state_file)) == NULL) {
		rc = fail(HYP_ENOMEM, err, errlen, "out of memory");
		goto bad;
	}
	if (a != NULL) {
		s->act_enabled = a->enabled != NULL && *a->enabled;
		for (i = 0; i < a->sans_count; i++) {
			if (strlen(a->sans[i]) > REG_TAG_MAX ||
			    strspn(a->sans[i], "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*:") !=
			    strlen(a->sans[i])) {
				rc = fail(HYP_ECONFIG, err, errlen, "activation."
				    "sans[%u]: '%s' is not a DNS name, wildcard "
				    "or address", i, a->sans[i]);
				goto bad;
			}
			snprintf(s->sans[i], sizeof(s->sans[i]), "%s",
			    a->sans[i]);
		}
		s->nsans = a->sans_count;
		if (s->act_enabled && s->nsans == 0) {
			rc = fail(HYP_ECONFIG, err, errlen, "activation.sans: "
			    "required when activation is enabled");
			goto bad;
		}
		if ((rc = conf_dur("activation.timeout", a->timeout, 3000, 100,
		    60000, &s->act_timeout_ms, err, errlen)) != 0 ||
		    (rc = conf_dur("activation.retry", a->retry, 5000, 100,
		    3600000, &s->act_retry_ms, err, errlen)) != 0)
			goto bad;
	} else {
		s->act_timeout_ms = 3000;
		s->act_retry_ms = 5000;
	}
	*out = s;
	return (0);
bad:
	reg_settings_free(s);
	return (rc);
}

/* descriptor conf_check: everything but reading the secrets. */
int
reg_conf_check(const void *conf, char *err, size_t errlen)
{
	struct reg_settings	*s;
	int			 rc;

	if (conf == NULL)
		return (fail(HYP_ECONFIG, err, errlen, "orchestrators: at least "
		    "one orchestrator is required"));
	if ((rc = reg_settings_build(conf, NULL, 0, &s, err, errlen)) != 0)
		return (rc);
	reg_settings_free(s);
	return (0);
}
