/*
 * Test plugin "testroute": a route hook whose decision comes from its
 * configuration, for the transport integration tests.
 *
 *   mode: refer | deny | proxy | none
 *   backend_host, backend_port, backend_id   where refer/proxy send players
 *   deny_message                             the DENY message
 *   referral_data_hex                        when set, also provide the
 *                                            "referral" service (v1) that
 *                                            returns these bytes
 *   referral_fail                            the service fails instead
 *   metrics_file, metrics_interval_ms        write hyp_metrics_render()
 *                                            to a file periodically (the
 *                                            tests read transport metrics
 *                                            without a metrics plugin)
 *
 * Every route decision and every session end is logged on one line so the
 * tests can assert on the session the transport filled in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/hyprox.h>
#include <hyprox/referral.h>

enum testroute_mode {
	TESTROUTE_REFER = 0,
	TESTROUTE_DENY,
	TESTROUTE_PROXY,
	TESTROUTE_NONE
};

struct testroute_conf {
	char		*backend_host;
	uint16_t	 backend_port;
	char		*backend_id;
	enum testroute_mode mode;
	char		*deny_message;
	char		*referral_data_hex;
	int		 referral_fail;
	char		*metrics_file;
	uint32_t	 metrics_interval_ms;
};

struct testroute {
	const struct testroute_conf	*conf;
	uint8_t				 data[HYP_REFERRAL_DATA_MAX];
	size_t				 datalen;
	int				 provide;
	hyp_timer_t			*metrics;
	unsigned			 routed;
	unsigned			 issued;
};

static const cyaml_strval_t testroute_modes[] = {
	{ "refer", TESTROUTE_REFER },
	{ "deny", TESTROUTE_DENY },
	{ "proxy", TESTROUTE_PROXY },
	{ "none", TESTROUTE_NONE },
};

static const cyaml_schema_field_t testroute_fields[] = {
	CYAML_FIELD_STRING_PTR("backend_host", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct testroute_conf, backend_host, 1, 255),
	CYAML_FIELD_UINT("backend_port", CYAML_FLAG_OPTIONAL,
	    struct testroute_conf, backend_port),
	CYAML_FIELD_STRING_PTR("backend_id", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct testroute_conf, backend_id, 1, 63),
	CYAML_FIELD_ENUM("mode", CYAML_FLAG_STRICT, struct testroute_conf,
	    mode, testroute_modes, CYAML_ARRAY_LEN(testroute_modes)),
	CYAML_FIELD_STRING_PTR("deny_message", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct testroute_conf, deny_message, 0, 4096),
	CYAML_FIELD_STRING_PTR("referral_data_hex", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct testroute_conf, referral_data_hex, 0,
	    2 * HYP_REFERRAL_DATA_MAX),
	CYAML_FIELD_BOOL("referral_fail", CYAML_FLAG_OPTIONAL,
	    struct testroute_conf, referral_fail),
	CYAML_FIELD_STRING_PTR("metrics_file", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct testroute_conf, metrics_file, 1, 4095),
	CYAML_FIELD_UINT("metrics_interval_ms", CYAML_FLAG_OPTIONAL,
	    struct testroute_conf, metrics_interval_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t testroute_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct testroute_conf,
	    testroute_fields),
};

/* Value of one hex digit, or -1. */
static int
testroute_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Decode hex into out; returns the length or -1. */
static int
testroute_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t	n = strlen(s), i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > cap)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = testroute_hexval(s[2 * i])) < 0 ||
		    (lo = testroute_hexval(s[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ((int)(n / 2));
}

/* Check the cross-field rules. */
static int
testroute_conf_check(const void *conf, char *err, size_t errlen)
{
	const struct testroute_conf	*c = conf;
	uint8_t				 tmp[HYP_REFERRAL_DATA_MAX];

	if ((c->mode == TESTROUTE_REFER || c->mode == TESTROUTE_PROXY) &&
	    (c->backend_host == NULL || c->backend_port == 0)) {
		snprintf(err, errlen, "mode refer and proxy need backend_host "
		    "and backend_port");
		return (HYP_EINVAL);
	}
	if (c->referral_data_hex != NULL &&
	    testroute_unhex(c->referral_data_hex, tmp, sizeof tmp) < 0) {
		snprintf(err, errlen, "referral_data_hex: not an even number of "
		    "hex digits (at most %d bytes)", HYP_REFERRAL_DATA_MAX);
		return (HYP_EINVAL);
	}
	if (c->metrics_interval_ms != 0 && c->metrics_interval_ms < 10) {
		snprintf(err, errlen, "metrics_interval_ms: %u is below the "
		    "minimum of 10", c->metrics_interval_ms);
		return (HYP_ERANGE);
	}
	return (0);
}

/* Referral service: the configured static bytes. */
static int
testroute_issue(void *ctx, hyp_session_t *s, hyp_backend_t *b, uint8_t *out,
    size_t cap)
{
	struct testroute	*t = ctx;

	(void)s;
	(void)b;
	if (t->conf->referral_fail)
		return (HYP_EINVAL);
	if (t->datalen > cap)
		return (HYP_ENOSPC);
	memcpy(out, t->data, t->datalen);
	t->issued++;
	return ((int)t->datalen);
}

static const struct hyp_referral_v1 testroute_referral = {
	.size = sizeof(struct hyp_referral_v1),
	.issue = testroute_issue,
};

/* Name of a decision for the log. */
static const char *
testroute_decision_name(enum hyp_decision d)
{
	switch (d) {
	case HYP_DECISION_REFER:
		return ("refer");
	case HYP_DECISION_PROXY:
		return ("proxy");
	case HYP_DECISION_DENY:
		return ("deny");
	default:
		return ("none");
	}
}

/* The route hook: decide as configured and log what the session holds. */
static enum hyp_hook_rc
testroute_route(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct testroute		*t = ud;
	const struct testroute_conf	*c = t->conf;
	const struct hyp_connect	*cn = hyp_session_connect(s);
	hyp_backend_t			*b = NULL;
	enum hyp_decision		 d = HYP_DECISION_NONE;
	int				 rv = 0;

	(void)arg;
	t->routed++;
	switch (c->mode) {
	case TESTROUTE_REFER:
	case TESTROUTE_PROXY:
		b = hyp_backend_new(c->backend_id != NULL ? c->backend_id :
		    "test-backend", c->backend_host, c->backend_port);
		if (b == NULL)
			return (HYP_ERROR);
		d = c->mode == TESTROUTE_REFER ? HYP_DECISION_REFER :
		    HYP_DECISION_PROXY;
		rv = hyp_session_decide(s, d, b, NULL);
		hyp_backend_unref(b);	/* the session holds its own ref */
		break;
	case TESTROUTE_DENY:
		d = HYP_DECISION_DENY;
		rv = hyp_session_decide(s, d, NULL, c->deny_message != NULL ?
		    c->deny_message : "denied by testroute");
		break;
	case TESTROUTE_NONE:
		break;
	}
	if (rv < 0) {
		hyp_log_session(p, s, HYP_LOG_ERR, "decide failed: %s",
		    hyp_strerror(rv));
		return (HYP_ERROR);
	}
	hyp_session_add_reason(s, "route", "testroute");
	hyp_log_session(p, s, HYP_LOG_INFO, "route: decision=%s user=%s "
	    "uuid=%s layout=%d sni=%s alpn=%s cert_fp=%s peer=%s",
	    testroute_decision_name(d),
	    hyp_session_username(s) != NULL ? hyp_session_username(s) : "-",
	    hyp_session_uuid_str(s) != NULL ? hyp_session_uuid_str(s) : "-",
	    cn != NULL ? (int)cn->layout : 0,
	    hyp_session_sni(s) != NULL ? hyp_session_sni(s) : "-",
	    hyp_session_alpn(s) != NULL ? hyp_session_alpn(s) : "-",
	    hyp_session_cert_fp(s) != NULL ? hyp_session_cert_fp(s) : "-",
	    hyp_session_peer_str(s));
	return (d == HYP_DECISION_NONE ? HYP_CONTINUE : HYP_DONE);
}

/* Session end: log the outcome. */
static enum hyp_hook_rc
testroute_end(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	(void)arg;
	(void)ud;
	hyp_log_session(p, s, HYP_LOG_INFO, "session-end: outcome=%s "
	    "reason=%s", hyp_session_outcome(s) != NULL ?
	    hyp_session_outcome(s) : "-", hyp_session_reason(s));
	return (HYP_CONTINUE);
}

/* Write the rendered metrics to metrics_file atomically. */
static void
testroute_dump(hyp_plugin_t *p, void *arg)
{
	struct testroute	*t = arg;
	char			 tmp[4200];
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*f;
	int			 rv;

	if ((rv = hyp_metrics_render(&out, &len)) < 0) {
		hyp_log(p, HYP_LOG_WARNING, "metrics render failed: %s",
		    hyp_strerror(rv));
		return;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", t->conf->metrics_file);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fwrite(out, 1, len, f) != len || fclose(f) != 0 ||
	    rename(tmp, t->conf->metrics_file) != 0)
		hyp_log(p, HYP_LOG_WARNING, "%s: %s", t->conf->metrics_file,
		    strerror(errno));
	free(out);
}

/* Decode the configuration; provide the referral service when asked. */
static int
testroute_load(hyp_plugin_t *p, const void *conf)
{
	struct testroute	*t;
	int			 n, rv;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return (HYP_ENOMEM);
	t->conf = conf;
	if (t->conf->referral_data_hex != NULL) {
		n = testroute_unhex(t->conf->referral_data_hex, t->data,
		    sizeof t->data);
		if (n < 0) {
			free(t);
			return (HYP_EINVAL);
		}
		t->datalen = (size_t)n;
		t->provide = 1;
	}
	hyp_plugin_set_ctx(p, t);
	if (t->provide && (rv = hyp_service_provide(p, HYP_REFERRAL_SERVICE,
	    HYP_REFERRAL_VERSION, &testroute_referral, t)) < 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot provide the referral service: "
		    "%s", hyp_strerror(rv));
		free(t);
		hyp_plugin_set_ctx(p, NULL);
		return (rv);
	}
	if ((rv = hyp_hook_register(p, HYP_HOOK_ROUTE, 0, testroute_route,
	    t)) < 0 || (rv = hyp_hook_register(p, HYP_HOOK_SESSION_END, 0,
	    testroute_end, t)) < 0) {
		free(t);
		hyp_plugin_set_ctx(p, NULL);
		return (rv);
	}
	hyp_log(p, HYP_LOG_INFO, "loaded: mode=%s backend=%s:%u referral=%s",
	    testroute_modes[t->conf->mode].str, t->conf->backend_host != NULL ?
	    t->conf->backend_host : "-", t->conf->backend_port,
	    t->provide ? t->conf->referral_data_hex : "-");
	return (0);
}

/* Start the metrics dump timer. */
static int
testroute_start(hyp_plugin_t *p)
{
	struct testroute	*t = hyp_plugin_ctx(p);

	if (t->conf->metrics_file != NULL) {
		if ((t->metrics = hyp_timer_new(p, testroute_dump, t)) == NULL)
			return (HYP_ENOMEM);
		hyp_timer_start(t->metrics, t->conf->metrics_interval_ms != 0 ?
		    t->conf->metrics_interval_ms : 200, 1);
	}
	hyp_log(p, HYP_LOG_INFO, "serving");
	return (0);
}

/* Final metrics dump. */
static int
testroute_stop(hyp_plugin_t *p)
{
	struct testroute	*t = hyp_plugin_ctx(p);

	if (t->metrics != NULL) {
		hyp_timer_stop(t->metrics);
		testroute_dump(p, t);
	}
	hyp_log(p, HYP_LOG_INFO, "stopped: routed=%u issued=%u", t->routed,
	    t->issued);
	return (0);
}

/* Free the state. */
static void
testroute_unload(hyp_plugin_t *p)
{
	struct testroute	*t = hyp_plugin_ctx(p);

	if (t == NULL)
		return;
	hyp_timer_free(t->metrics);
	free(t);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "testroute",
	.version = "1.0",
	.summary = "route hook driven by its configuration (tests)",
	.conf_schema = &testroute_schema,
	.conf_check = testroute_conf_check,
	.load = testroute_load,
	.start = testroute_start,
	.stop = testroute_stop,
	.unload = testroute_unload,
);
