/*
 * Test plugin "slowstop": stop() drains in the background for drain_ms
 * milliseconds (0: never reports drained).
 */
#include <stdlib.h>

#include <hyprox/hyprox.h>

struct slowstop_conf {
	uint32_t	drain_ms;
};

struct slowstop {
	const struct slowstop_conf	*conf;
	hyp_timer_t			*timer;
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
	struct slowstop	*s = arg;

	hyp_timer_free(s->timer);
	s->timer = NULL;
	hyp_log(p, HYP_LOG_INFO, "drain finished");
	hyp_plugin_drained(p);
}

/* Keep the configuration. */
static int
slowstop_load(hyp_plugin_t *p, const void *conf)
{
	struct slowstop	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (HYP_ENOMEM);
	s->conf = conf;
	hyp_plugin_set_ctx(p, s);
	return (0);
}

/* Free the state. */
static void
slowstop_unload(hyp_plugin_t *p)
{
	struct slowstop	*s = hyp_plugin_ctx(p);

	hyp_timer_free(s->timer);
	free(s);
}

/* Start draining. */
static int
slowstop_stop(hyp_plugin_t *p)
{
	struct slowstop	*s = hyp_plugin_ctx(p);

	if (s->conf->drain_ms == 0) {
		hyp_log(p, HYP_LOG_INFO, "draining forever");
		return (HYP_EAGAIN);
	}
	if ((s->timer = hyp_timer_new(p, slowstop_done, s)) == NULL)
		return (HYP_ENOMEM);
	hyp_timer_start(s->timer, s->conf->drain_ms, 0);
	hyp_log(p, HYP_LOG_INFO, "draining for %u ms", s->conf->drain_ms);
	return (HYP_EAGAIN);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "slowstop",
	.version = "1.0",
	.conf_schema = &slowstop_schema,
	.load = slowstop_load,
	.stop = slowstop_stop,
	.unload = slowstop_unload,
);
