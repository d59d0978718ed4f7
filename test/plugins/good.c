/*
 * Test plugin "good": a well-behaved plugin whose configuration drives
 * what the integration tests observe in the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/hyprox.h>

struct good_conf {
	char		*message;
	uint32_t	 tick_ms;
	int		 refuse_reload;
	char		*api_token;
};

struct good {
	const struct good_conf	*conf;
	hyp_timer_t		*tick;
	unsigned		 ticks;
};

static const cyaml_schema_field_t good_fields[] = {
	CYAML_FIELD_STRING_PTR("message", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct good_conf, message, 0, 256),
	CYAML_FIELD_UINT("tick_ms", CYAML_FLAG_OPTIONAL, struct good_conf,
	    tick_ms),
	CYAML_FIELD_BOOL("refuse_reload", CYAML_FLAG_OPTIONAL,
	    struct good_conf, refuse_reload),
	CYAML_FIELD_STRING_PTR("api_token", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct good_conf, api_token, 0, 256),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t good_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct good_conf, good_fields),
};

/* Refuse a tick interval below 10 ms. */
static int
good_conf_check(const void *conf, char *err, size_t errlen)
{
	const struct good_conf	*c = conf;

	if (c->tick_ms != 0 && c->tick_ms < 10) {
		snprintf(err, errlen, "tick_ms: %u is below the minimum of 10",
		    c->tick_ms);
		return (HYP_ERANGE);
	}
	return (0);
}

/* Count timer ticks. */
static void
good_tick(hyp_plugin_t *p, void *arg)
{
	struct good	*g = arg;

	g->ticks++;
	hyp_log(p, HYP_LOG_DEBUG, "tick %u", g->ticks);
}

/* Allocate state. */
static int
good_load(hyp_plugin_t *p, const void *conf)
{
	struct good	*g;

	if ((g = calloc(1, sizeof *g)) == NULL)
		return (HYP_ENOMEM);
	g->conf = conf;
	hyp_plugin_set_ctx(p, g);
	hyp_log(p, HYP_LOG_INFO, "loaded: message=%s",
	    g->conf->message != NULL ? g->conf->message : "(none)");
	return (0);
}

/* Start the tick timer. */
static int
good_start(hyp_plugin_t *p)
{
	struct good	*g = hyp_plugin_ctx(p);

	if (g->conf->tick_ms != 0) {
		if ((g->tick = hyp_timer_new(p, good_tick, g)) == NULL)
			return (HYP_ENOMEM);
		hyp_timer_start(g->tick, g->conf->tick_ms, 1);
	}
	hyp_log(p, HYP_LOG_INFO, "serving: message=%s",
	    g->conf->message != NULL ? g->conf->message : "(none)");
	return (0);
}

/* Apply a new configuration in phases. */
static int
good_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct good		*g = hyp_plugin_ctx(p);
	const struct good_conf	*c = new_conf;

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		if (c->refuse_reload) {
			hyp_log(p, HYP_LOG_ERR, "refusing reload on purpose");
			return (HYP_EINVAL);
		}
		return (0);
	case HYP_RELOAD_COMMIT:
		g->conf = c;
		hyp_log(p, HYP_LOG_INFO, "serving: message=%s",
		    c->message != NULL ? c->message : "(none)");
		return (0);
	default:
		return (0);
	}
}

/* Nothing to drain. */
static int
good_stop(hyp_plugin_t *p)
{
	struct good	*g = hyp_plugin_ctx(p);

	hyp_timer_stop(g->tick);
	hyp_log(p, HYP_LOG_INFO, "stopped");
	return (0);
}

/* Free state. */
static void
good_unload(hyp_plugin_t *p)
{
	struct good	*g = hyp_plugin_ctx(p);

	hyp_timer_free(g->tick);
	free(g);
	hyp_log(p, HYP_LOG_INFO, "unloaded");
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "good",
	.version = "1.0",
	.summary = "well-behaved test plugin",
	.conf_schema = &good_schema,
	.conf_check = good_conf_check,
	.load = good_load,
	.start = good_start,
	.reload = good_reload,
	.stop = good_stop,
	.unload = good_unload,
);
