/*
 * conf.c: the transport plugin's configuration schema, its defaults and its
 * semantic checks.  libcyaml 1.3 has neither defaults nor ranges, so every
 * optional value is a pointer (NULL when absent) and is checked here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define TP_DEF_PORT		5520
#define TP_DEF_PRIORITY		"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:" \
				"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
#define TP_DEF_NO_ROUTE		"No server is available for you right now."

static const cyaml_schema_field_t listener_fields[] = {
	CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf_listener, address, 1, 64),
	CYAML_FIELD_UINT_PTR("port", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf_listener, port),
	CYAML_FIELD_BOOL_PTR("dual_stack", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf_listener, dual_stack),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t listener_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct tp_conf_listener,
	    listener_fields),
};

static const cyaml_schema_value_t alpn_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 255),
};

static const cyaml_schema_field_t admission_fields[] = {
	CYAML_FIELD_UINT_PTR("rate", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf_admission, rate),
	CYAML_FIELD_UINT_PTR("burst", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf_admission, burst),
	CYAML_FIELD_UINT_PTR("max_per_ip", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf_admission, max_per_ip),
	CYAML_FIELD_UINT_PTR("max_half_open", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf_admission, max_half_open),
	CYAML_FIELD_UINT_PTR("max_connections", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf_admission, max_connections),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t reset_fields[] = {
	CYAML_FIELD_UINT_PTR("rate", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf_reset, rate),
	CYAML_FIELD_UINT_PTR("burst", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf_reset, burst),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t qlog_client_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 64),
};

static const cyaml_schema_field_t qlog_fields[] = {
	CYAML_FIELD_STRING_PTR("dir", CYAML_FLAG_POINTER, struct tp_conf_qlog,
	    dir, 1, 4096),
	CYAML_FIELD_SEQUENCE("clients", CYAML_FLAG_POINTER, struct tp_conf_qlog,
	    clients, &qlog_client_schema, 1, TP_QLOG_CLIENTS_MAX),
	CYAML_FIELD_END
};

#define TP_STR(k, m, max)						\
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct tp_conf, m, 1, max)
#define TP_UINT(k, m)							\
	CYAML_FIELD_UINT_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct tp_conf, m)

static const cyaml_schema_field_t tp_fields[] = {
	CYAML_FIELD_SEQUENCE("listeners", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf, listeners, &listener_schema,
	    1, HQ_MAX_LISTEN),
	TP_STR("certificate", certificate, 4096),
	TP_STR("key", key, 4096),
	CYAML_FIELD_SEQUENCE("alpn", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct tp_conf, alpn, &alpn_schema, 1, HQ_MAX_ALPN),
	TP_STR("priority", priority, 1024),
	TP_STR("client_certificate", client_certificate, 16),
	TP_STR("idle_timeout", idle_timeout, 32),
	TP_STR("handshake_timeout", handshake_timeout, 32),
	TP_STR("connect_timeout", connect_timeout, 32),
	TP_UINT("max_streams_bidi", max_streams_bidi),
	TP_UINT("max_stream_data", max_stream_data),
	TP_UINT("max_data", max_data),
	TP_UINT("max_udp_payload", max_udp_payload),
	CYAML_FIELD_MAPPING_PTR("admission", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf, admission, admission_fields),
	CYAML_FIELD_MAPPING_PTR("stateless_reset", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf, stateless_reset, reset_fields),
	TP_STR("new_token_lifetime", new_token_lifetime, 32),
	TP_STR("retry", retry, 16),
	TP_UINT("retry_threshold", retry_threshold),
	TP_STR("no_route_message", no_route_message, TP_MESSAGE_MAX),
	TP_STR("token_key", token_key, 4096),
	TP_STR("reset_secret", reset_secret, 4096),
	CYAML_FIELD_MAPPING_PTR("qlog", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tp_conf, qlog, qlog_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t tp_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct tp_conf, tp_fields),
};

/* Apply a duration key with its default and range. */
static int
conf_dur(const char *key, const char *s, uint32_t def, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	if (s == NULL) {
		*out = def;
		return (0);
	}
	if (hyp_duration_parse(s, UINT32_MAX, out) != 0) {
		snprintf(err, errlen, "%s: invalid duration '%s' (expected "
		    "e.g. 500ms, 10s, 2m)", key, s);
		return (HYP_ECONFIG);
	}
	if (*out < min || *out > max) {
		snprintf(err, errlen, "%s: %s is outside %ums .. %ums", key, s,
		    min, max);
		return (HYP_ERANGE);
	}
	return (0);
}

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

/* Whether s is a numeric IPv4 or IPv6 address; 6 or 4, else 0. */
static int
conf_addr_family(const char *s)
{
	unsigned char	buf[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		return (4);
	if (inet_pton(AF_INET6, s, buf) == 1)
		return (6);
	return (0);
}

/* Check the listeners and fill out->listen. */
static int
conf_listeners(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	const struct tp_conf_listener	*l;
	struct hq_listen		*h;
	unsigned			 i, j;
	int				 fam;

	if (c->listeners == NULL || c->listeners_count == 0) {
		out->listen[0].addr = "0.0.0.0";
		out->listen[0].port = TP_DEF_PORT;
		out->listen[0].dual_stack = 0;
		out->nlisten = 1;
		return (0);
	}
	for (i = 0; i < c->listeners_count; i++) {
		l = &c->listeners[i];
		h = &out->listen[i];
		h->addr = l->address != NULL ? l->address : "0.0.0.0";
		if ((fam = conf_addr_family(h->addr)) == 0) {
			snprintf(err, errlen, "listeners[%u].address: '%s' is "
			    "not a numeric IPv4 or IPv6 address", i, h->addr);
			return (HYP_ECONFIG);
		}
		if (l->port != NULL && *l->port > 65535) {
			snprintf(err, errlen, "listeners[%u].port: %u is "
			    "outside 0 .. 65535", i, *l->port);
			return (HYP_ERANGE);
		}
		h->port = l->port != NULL ? (uint16_t)*l->port : TP_DEF_PORT;
		h->dual_stack = l->dual_stack != NULL && *l->dual_stack;
		if (h->dual_stack && fam != 6) {
			snprintf(err, errlen, "listeners[%u].dual_stack: only "
			    "an IPv6 address can be dual-stack", i);
			return (HYP_ECONFIG);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(out->listen[j].addr, h->addr) == 0 &&
			    out->listen[j].port == h->port && h->port != 0) {
				snprintf(err, errlen, "listeners[%u]: %s port "
				    "%u is listed twice", i, h->addr, h->port);
				return (HYP_EEXIST);
			}
		}
	}
	out->nlisten = c->listeners_count;
	return (0);
}

/* Check the ALPN list (printable ASCII, no duplicates). */
static int
conf_alpn(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	const char	*a, *q;
	unsigned	 i, j;

	if (c->alpn == NULL || c->alpn_count == 0) {
		out->alpn[0] = "hytale/2";
		out->alpn[1] = "hytale/1";
		out->nalpn = 2;
		return (0);
	}
	for (i = 0; i < c->alpn_count; i++) {
		a = c->alpn[i];
		for (q = a; *q != '\0'; q++) {
			if (*q <= ' ' || *q > '~') {
				snprintf(err, errlen, "alpn[%u]: '%s' must be "
				    "printable ASCII without spaces", i, a);
				return (HYP_ECONFIG);
			}
		}
		for (j = 0; j < i; j++) {
			if (strcmp(c->alpn[j], a) == 0) {
				snprintf(err, errlen, "alpn[%u]: '%s' is "
				    "listed twice", i, a);
				return (HYP_EEXIST);
			}
		}
		out->alpn[i] = a;
	}
	out->nalpn = c->alpn_count;
	return (0);
}

/* Check the certificate, key and client certificate mode. */
static int
conf_tls(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	const char	*m = c->client_certificate;

	if (c->certificate == NULL || strcmp(c->certificate, "auto") == 0) {
		if (c->key != NULL) {
			snprintf(err, errlen, "key: given without a "
			    "certificate file (certificate is auto)");
			return (HYP_ECONFIG);
		}
		out->cert = NULL;
		out->key = NULL;
	} else {
		if (c->key == NULL) {
			snprintf(err, errlen, "certificate: a certificate "
			    "file needs its key file (key)");
			return (HYP_ECONFIG);
		}
		out->cert = c->certificate;
		out->key = c->key;
	}
	out->priority = c->priority != NULL ? c->priority : TP_DEF_PRIORITY;
	if (m == NULL || strcmp(m, "request") == 0)
		out->ccert = HQ_CCERT_REQUEST;
	else if (strcmp(m, "none") == 0)
		out->ccert = HQ_CCERT_NONE;
	else if (strcmp(m, "require") == 0)
		out->ccert = HQ_CCERT_REQUIRE;
	else {
		snprintf(err, errlen, "client_certificate: unknown value '%s' "
		    "(expected request, none or require)", m);
		return (HYP_ECONFIG);
	}
	return (0);
}

/* Check the admission limits and the Retry policy. */
static int
conf_admission(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	const struct tp_conf_admission	*a = c->admission;
	static const struct tp_conf_admission none;
	struct tp_limits		*l = &out->lim;
	int				 rc;

	if (a == NULL)
		a = &none;
	if ((rc = conf_num("admission.rate", a->rate, 20, 0, 1000000,
	    &l->rate, err, errlen)) != 0 ||
	    (rc = conf_num("admission.burst", a->burst, 40, 1, 1000000,
	    &l->burst, err, errlen)) != 0 ||
	    (rc = conf_num("admission.max_per_ip", a->max_per_ip, 16, 0,
	    1000000, &l->max_per_ip, err, errlen)) != 0 ||
	    (rc = conf_num("admission.max_half_open", a->max_half_open, 1024, 1,
	    1000000, &l->max_half_open, err, errlen)) != 0 ||
	    (rc = conf_num("admission.max_connections", a->max_connections,
	    10000, 1, 1000000, &l->max_connections, err, errlen)) != 0)
		return (rc);
	if (c->retry == NULL || strcmp(c->retry, "on-load") == 0)
		out->retry = HQ_RETRY_ON_LOAD;
	else if (strcmp(c->retry, "always") == 0)
		out->retry = HQ_RETRY_ALWAYS;
	else if (strcmp(c->retry, "never") == 0)
		out->retry = HQ_RETRY_NEVER;
	else {
		snprintf(err, errlen, "retry: unknown value '%s' (expected "
		    "always, never or on-load)", c->retry);
		return (HYP_ECONFIG);
	}
	if ((rc = conf_num("retry_threshold", c->retry_threshold, 256, 1,
	    1000000, &out->retry_threshold, err, errlen)) != 0)
		return (rc);
	if (out->retry == HQ_RETRY_ON_LOAD &&
	    out->retry_threshold > l->max_half_open) {
		snprintf(err, errlen, "retry_threshold: %u exceeds "
		    "admission.max_half_open (%u), so Retry would never be sent",
		    out->retry_threshold, l->max_half_open);
		return (HYP_ERANGE);
	}
	return (0);
}

/* Check the stateless reset limit and the NEW_TOKEN lifetime. */
static int
conf_tokens(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	const struct tp_conf_reset	*r = c->stateless_reset;
	static const struct tp_conf_reset none;
	int				 rc;

	if (r == NULL)
		r = &none;
	if ((rc = conf_num("stateless_reset.rate", r->rate, 10, 1, 1000000,
	    &out->reset_rate, err, errlen)) != 0 ||
	    (rc = conf_num("stateless_reset.burst", r->burst, 20, 1, 1000000,
	    &out->reset_burst, err, errlen)) != 0)
		return (rc);
	if ((rc = conf_dur("new_token_lifetime", c->new_token_lifetime,
	    3600000, 0, 7 * 24 * 3600000U, &out->new_token_ms, err,
	    errlen)) != 0)
		return (rc);
	if (out->new_token_ms != 0 && out->new_token_ms < 1000) {
		snprintf(err, errlen, "new_token_lifetime: %s is neither 0 "
		    "(off) nor at least 1s", c->new_token_lifetime);
		return (HYP_ERANGE);
	}
	return (0);
}

/* qlog: the directory and the client prefixes whose connections write qlog. */
static int
conf_qlog(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	unsigned	i;

	if (c->qlog == NULL)
		return (0);
	for (i = 0; i < c->qlog->clients_count; i++) {
		if (hyp_cidr_parse(c->qlog->clients[i],
		    &out->qlog_clients[i]) != 0) {
			snprintf(err, errlen, "qlog.clients[%u]: '%s' is not an "
			    "address or address/prefix", i,
			    c->qlog->clients[i]);
			return (HYP_ECONFIG);
		}
	}
	out->nqlog_clients = c->qlog->clients_count;
	out->qlog_dir = c->qlog->dir;
	return (0);
}

/* Build the effective settings from a loaded configuration. */
int
tp_settings_make(const struct tp_conf *c, struct tp_settings *out, char *err,
    size_t errlen)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if ((rc = conf_listeners(c, out, err, errlen)) != 0 ||
	    (rc = conf_alpn(c, out, err, errlen)) != 0 ||
	    (rc = conf_tls(c, out, err, errlen)) != 0 ||
	    (rc = conf_dur("idle_timeout", c->idle_timeout, 30000, 1000,
	    3600000, &out->idle_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("handshake_timeout", c->handshake_timeout, 10000,
	    500, 300000, &out->handshake_ms, err, errlen)) != 0 ||
	    (rc = conf_dur("connect_timeout", c->connect_timeout, 10000, 100,
	    600000, &out->connect_ms, err, errlen)) != 0 ||
	    (rc = conf_num("max_streams_bidi", c->max_streams_bidi, 4, 1, 1000,
	    &out->max_streams_bidi, err, errlen)) != 0 ||
	    (rc = conf_num("max_stream_data", c->max_stream_data, 65536, 4096,
	    16777216, &out->max_stream_data, err, errlen)) != 0 ||
	    (rc = conf_num("max_data", c->max_data, 131072, 4096, 268435456,
	    &out->max_data, err, errlen)) != 0 ||
	    (rc = conf_num("max_udp_payload", c->max_udp_payload,
	    HQ_UDP_PAYLOAD_DEFAULT, HQ_UDP_PAYLOAD_MIN, HQ_UDP_PAYLOAD_MAX,
	    &out->max_udp_payload, err, errlen)) != 0 ||
	    (rc = conf_admission(c, out, err, errlen)) != 0 ||
	    (rc = conf_tokens(c, out, err, errlen)) != 0)
		return (rc);
	if (out->max_data < out->max_stream_data) {
		snprintf(err, errlen, "max_data: %u is below max_stream_data "
		    "(%u)", out->max_data, out->max_stream_data);
		return (HYP_ERANGE);
	}
	out->no_route_message = c->no_route_message != NULL ?
	    c->no_route_message : TP_DEF_NO_ROUTE;
	if (c->token_key != NULL && !hyp_secret_is_ref(c->token_key)) {
		snprintf(err, errlen, "token_key: must be a secret reference "
		    "(env:NAME or file:PATH), never inline");
		return (HYP_ESECRET);
	}
	if (c->reset_secret != NULL && !hyp_secret_is_ref(c->reset_secret)) {
		snprintf(err, errlen, "reset_secret: must be a secret "
		    "reference (env:NAME or file:PATH), never inline");
		return (HYP_ESECRET);
	}
	out->token_key = c->token_key;
	out->reset_secret = c->reset_secret;
	return (conf_qlog(c, out, err, errlen));
}

/* The descriptor's conf_check: build the settings and discard them. */
int
tp_conf_check(const void *conf, char *err, size_t errlen)
{
	struct tp_settings	set;

	return (tp_settings_make(conf, &set, err, errlen));
}

/* Compare two optional strings. */
static int
conf_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Whether a and b can share one hq_server: every setting it copies at
 * creation is equal (the others are swapped at reload).
 */
int
tp_settings_same_server(const struct tp_settings *a,
    const struct tp_settings *b)
{
	size_t	i;

	if (a->nlisten != b->nlisten || a->nalpn != b->nalpn)
		return (0);
	for (i = 0; i < a->nlisten; i++) {
		if (strcmp(a->listen[i].addr, b->listen[i].addr) != 0 ||
		    a->listen[i].port != b->listen[i].port ||
		    a->listen[i].dual_stack != b->listen[i].dual_stack)
			return (0);
	}
	for (i = 0; i < a->nalpn; i++) {
		if (strcmp(a->alpn[i], b->alpn[i]) != 0)
			return (0);
	}
	return (conf_streq(a->cert, b->cert) && conf_streq(a->key, b->key) &&
	    conf_streq(a->priority, b->priority) && a->ccert == b->ccert &&
	    a->idle_ms == b->idle_ms && a->handshake_ms == b->handshake_ms &&
	    a->max_streams_bidi == b->max_streams_bidi &&
	    a->max_stream_data == b->max_stream_data &&
	    a->max_data == b->max_data &&
	    a->max_udp_payload == b->max_udp_payload &&
	    a->reset_rate == b->reset_rate &&
	    a->reset_burst == b->reset_burst &&
	    a->new_token_ms == b->new_token_ms &&
	    a->lim.max_connections == b->lim.max_connections &&
	    a->lim.max_half_open == b->lim.max_half_open &&
	    conf_streq(a->reset_secret, b->reset_secret));
}
