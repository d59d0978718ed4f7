/*
 * Test plugin "slowstop": stop() drains in the background for drain_ms
 * milliseconds (0: never reports drained).
 */
#include <hyprox/hyprox.h>

struct slowstop_conf {
	uint32_t	drain_ms;
};

static const cyaml_schema_field_t slowstop_fields[] = {
	CYAML_FIELD_UINT("drain_ms", CYAML_FLAG_OPTIONAL,
	    struct slowstop_conf, drain_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t slowstop_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct slowstop_conf,
	    slowstop_fields),
};

/* Report drained. */
static void
slowstop_done(hyp_plugin_t *p, void *arg)
{
	hyp_log(p, HYP_LOG_INFO, "drain finished");
	hyp_plugin_drained(p);
}

/* Keep the configuration. */
static int
slowstop_load(hyp_plugin_t *p, const void *conf)
{
	hyp_plugin_set_ctx(p, (void *)conf);
	return (0);
}

/* Start draining. */
static int
slowstop_stop(hyp_plugin_t *p)
{
	const struct slowstop_conf	*c = hyp_plugin_ctx(p);
	hyp_timer_t			*t;

	if (c->drain_ms == 0) {
		hyp_log(p, HYP_LOG_INFO, "draining forever");
		return (HYP_EAGAIN);
	}
	if ((t = hyp_timer_new(p, slowstop_done, NULL)) == NULL)
		return (HYP_ENOMEM);
	hyp_timer_start(t, c->drain_ms, 0);
	hyp_log(p, HYP_LOG_INFO, "draining for %u ms", c->drain_ms);
	return (HYP_EAGAIN);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "slowstop",
	.version = "1.0",
	.conf_schema = &slowstop_schema,
	.load = slowstop_load,
	.stop = slowstop_stop,
);
