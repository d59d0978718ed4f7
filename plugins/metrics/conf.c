/*
 * conf.c: the metrics plugin's configuration schema, its defaults and its
 * semantic checks.  libcyaml 1.3 has neither defaults nor ranges, so every
 * optional value is a pointer (NULL when absent) and is checked here.
 */
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx.h"

#define MX_STR(k, m, max)						\
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct mx_conf, m, 1, max)
#define MX_UINT(k, m)							\
	CYAML_FIELD_UINT_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct mx_conf, m)

static const cyaml_schema_field_t mx_fields[] = {
	MX_STR("listen", listen, MX_LISTEN_MAX),
	MX_STR("bearer_token", bearer_token, 4096),
	CYAML_FIELD_BOOL_PTR("process_metrics", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct mx_conf, process_metrics),
	MX_UINT("max_connections", max_connections),
	MX_STR("timeout", timeout, 32),
	MX_UINT("max_headers_size", max_headers_size),
	MX_UINT("max_body_size", max_body_size),
	CYAML_FIELD_END
};

const cyaml_schema_value_t mx_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct mx_conf, mx_fields),
};

/* Apply an integer key with its default and range. */
static int
conf_num(const char *key, const uint32_t *v, uint32_t def, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	*out = v != NULL ? *v : def;
	if (*out < min || *out > max) {
		snprintf(err, errlen, "%s: %u is outside %u .. %u", key, *out,
		    min, max);
		return (HYP_ERANGE);
	}
	return (0);
}

/* Check a configuration and fill out with defaults applied. */
int
mx_settings_make(const struct mx_conf *c, struct mx_settings *out,
    char *err, size_t errlen)
{
	static const struct mx_conf	 empty;
	struct sockaddr_storage		 ss;
	const char			*listen;
	int				 rc;

	if (c == NULL)
		c = &empty;
	memset(out, 0, sizeof(*out));
	listen = c->listen != NULL ? c->listen : MX_DEF_LISTEN;
	if (hyp_addr_parse(listen, -1, &ss, NULL) != 0 ||
	    hyp_addr_numeric((struct sockaddr *)&ss, out->addr,
	    sizeof(out->addr), &out->port) != 0) {
		snprintf(err, errlen, "listen: '%s' is not a numeric "
		    "address and port (e.g. 127.0.0.1:9520 or [::1]:9520)",
		    listen);
		return (HYP_ECONFIG);
	}
	out->family = ss.ss_family == AF_INET6 ? 6 : 4;
	if (c->bearer_token != NULL && !hyp_secret_is_ref(c->bearer_token)) {
		snprintf(err, errlen, "bearer_token: must be a secret "
		    "reference, env:NAME or file:PATH");
		return (HYP_ECONFIG);
	}
	out->bearer_token = c->bearer_token;
	out->process_metrics = c->process_metrics != NULL ?
	    *c->process_metrics != 0 : 1;
	/* hyprox-metrics(5) documents ms, s and m: "1h" stays invalid. */
	if (c->timeout == NULL)
		out->timeout_ms = MX_DEF_TIMEOUT_MS;
	else if (hyp_duration_parse(c->timeout, UINT32_MAX,
	    &out->timeout_ms) != 0 || strchr(c->timeout, 'h') != NULL) {
		snprintf(err, errlen, "timeout: invalid duration '%s' "
		    "(expected e.g. 500ms, 10s, 1m)", c->timeout);
		return (HYP_ECONFIG);
	} else if (out->timeout_ms < 100 || out->timeout_ms > 300000) {
		snprintf(err, errlen, "timeout: %s is outside 100ms .. 5m",
		    c->timeout);
		return (HYP_ERANGE);
	}
	if ((rc = conf_num("max_connections", c->max_connections,
	    MX_DEF_MAX_CONNS, 1, MX_MAX_CONNS, &out->max_connections, err,
	    errlen)) != 0 ||
	    (rc = conf_num("max_headers_size", c->max_headers_size,
	    MX_DEF_HEADERS, 1024, 65536, &out->max_headers_size, err,
	    errlen)) != 0 ||
	    (rc = conf_num("max_body_size", c->max_body_size, MX_DEF_BODY, 0,
	    65536, &out->max_body_size, err, errlen)) != 0)
		return (rc);
	return (0);
}

/* The descriptor's conf_check: the same checks, touching nothing. */
int
mx_conf_check(const void *conf, char *err, size_t errlen)
{
	struct mx_settings	set;

	return (mx_settings_make(conf, &set, err, errlen));
}
