/*
 * hello: the example hyprox plugin.
 *
 * It logs a greeting when it starts, optionally ticks a timer that counts
 * in the metric hyprox_hello_ticks_total, and logs every session that ends
 * (at debug level).  It shows the descriptor, a libcyaml schema with
 * defaults applied in code, conf_check(), the lifecycle including the
 * reload phases, timers, a hook and a metric.  See hyprox-plugin(3).
 *
 * Build: make (or cc -shared -fPIC -fvisibility=hidden
 * $(pkg-config --cflags hyprox-sdk) -o hello.so hello.c).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/hyprox.h>

#define HELLO_GREETING_DEFAULT	"hello"
#define HELLO_GREETING_MAX	256
#define HELLO_INTERVAL_MAX	86400	/* one day, in seconds */

/* The conf.d file, as libcyaml loads it; the host owns it. */
struct hello_conf {
	char		*greeting;	/* NULL when absent: "hello" */
	unsigned int	 interval;	/* seconds; 0 (or absent): no timer */
};

static const cyaml_schema_field_t hello_conf_fields[] = {
	CYAML_FIELD_STRING_PTR("greeting", CYAML_FLAG_OPTIONAL,
	    struct hello_conf, greeting, 0, HELLO_GREETING_MAX),
	CYAML_FIELD_UINT("interval", CYAML_FLAG_OPTIONAL,
	    struct hello_conf, interval),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t hello_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct hello_conf,
	    hello_conf_fields),
};

/* Per-instance state; allocated by load(), freed by unload(). */
struct hello_ctx {
	const struct hello_conf	*conf;		/* borrowed from the host */
	hyp_timer_t		*timer;
	hyp_metric_t		*ticks;
	uint64_t		 nticks;
};

/* The greeting to use, with the default applied. */
static const char *
hello_greeting(const struct hello_conf *conf)
{
	if (conf == NULL || conf->greeting == NULL)
		return (HELLO_GREETING_DEFAULT);
	return (conf->greeting);
}

/* The timer interval in seconds, with the default applied. */
static unsigned int
hello_interval(const struct hello_conf *conf)
{
	return (conf == NULL ? 0 : conf->interval);
}

/* Check what the schema cannot express; touches no state. */
static int
hello_conf_check(const void *v, char *err, size_t errlen)
{
	const struct hello_conf	*conf = v;

	if (hello_interval(conf) > HELLO_INTERVAL_MAX) {
		snprintf(err, errlen, "interval: %u is more than %u seconds",
		    hello_interval(conf), HELLO_INTERVAL_MAX);
		return (HYP_ERANGE);
	}
	if (*hello_greeting(conf) == '\0') {
		snprintf(err, errlen, "greeting: must not be empty");
		return (HYP_EINVAL);
	}
	return (0);
}

/* Count and log one tick. */
static void
hello_tick(hyp_plugin_t *p, void *arg)
{
	struct hello_ctx	*ctx = arg;

	ctx->nticks++;
	hyp_counter_inc(ctx->ticks, 1);
	hyp_log(p, HYP_LOG_INFO, "%s (tick %llu)", hello_greeting(ctx->conf),
	    (unsigned long long)ctx->nticks);
}

/* Log the end of every session; never changes the chain's outcome. */
static enum hyp_hook_rc
hello_session_end(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	const char	*outcome;

	(void)arg;	/* NULL at this point */
	(void)ud;
	if (!hyp_log_enabled(HYP_LOG_DEBUG))
		return (HYP_CONTINUE);
	outcome = hyp_session_outcome(s);
	hyp_log_session(p, s, HYP_LOG_DEBUG, "session %s ended: %s",
	    hyp_session_id_str(s), outcome != NULL ? outcome : "unknown");
	return (HYP_CONTINUE);
}

/* Arm the timer for the configured interval, or leave it stopped. */
static int
hello_arm(struct hello_ctx *ctx)
{
	unsigned int	interval = hello_interval(ctx->conf);

	hyp_timer_stop(ctx->timer);
	if (interval == 0)
		return (0);
	return (hyp_timer_start(ctx->timer, (uint64_t)interval * 1000, 1));
}

/* Keep the configuration and allocate; no timers yet. */
static int
hello_load(hyp_plugin_t *p, const void *conf)
{
	struct hello_ctx	*ctx;
	int			 error = 0;

	if ((ctx = calloc(1, sizeof *ctx)) == NULL)
		return (HYP_ENOMEM);
	ctx->conf = conf;
	ctx->ticks = hyp_metric_new(p, HYP_METRIC_COUNTER,
	    "hyprox_hello_ticks_total", "Timer ticks of the hello plugin.",
	    NULL, 0, NULL, 0, &error);
	if (ctx->ticks == NULL) {
		hyp_log(p, HYP_LOG_ERR, "cannot register metric: %s",
		    hyp_strerror(error));
		free(ctx);
		return (error != 0 ? error : HYP_ENOMEM);
	}
	hyp_plugin_set_ctx(p, ctx);
	return (0);
}

/* Greet, start the timer and hook session ends. */
static int
hello_start(hyp_plugin_t *p)
{
	struct hello_ctx	*ctx = hyp_plugin_ctx(p);
	int			 error;

	if ((ctx->timer = hyp_timer_new(p, hello_tick, ctx)) == NULL)
		return (HYP_ENOMEM);
	error = hyp_hook_register(p, HYP_HOOK_SESSION_END, 0,
	    hello_session_end, ctx);
	if (error != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot hook session-end: %s",
		    hyp_strerror(error));
		return (error);
	}
	if ((error = hello_arm(ctx)) != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot start timer: %s",
		    hyp_strerror(error));
		return (error);
	}
	hyp_log(p, HYP_LOG_NOTICE, "%s", hello_greeting(ctx->conf));
	return (0);
}

/* Switch to a new configuration on SIGHUP. */
static int
hello_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct hello_ctx	*ctx = hyp_plugin_ctx(p);

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		/* conf_check() already ran; nothing to allocate. */
		return (0);
	case HYP_RELOAD_COMMIT:
		ctx->conf = new_conf;
		if (hello_arm(ctx) != 0)
			hyp_log(p, HYP_LOG_WARNING, "cannot restart timer");
		hyp_log(p, HYP_LOG_INFO, "reloaded: %s every %us",
		    hello_greeting(ctx->conf), hello_interval(ctx->conf));
		return (0);
	case HYP_RELOAD_ABORT:
	default:
		return (0);
	}
}

/* Stop ticking; nothing to drain. */
static int
hello_stop(hyp_plugin_t *p)
{
	struct hello_ctx	*ctx = hyp_plugin_ctx(p);

	hyp_timer_stop(ctx->timer);
	return (0);
}

/* Free what load() and start() allocated. */
static void
hello_unload(hyp_plugin_t *p)
{
	struct hello_ctx	*ctx = hyp_plugin_ctx(p);

	if (ctx == NULL)
		return;
	hyp_timer_free(ctx->timer);
	free(ctx);
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "hello",
	.version = "1.0",
	.summary = "example plugin: greets, ticks, logs session ends",
	.conf_schema = &hello_conf_schema,
	.conf_check = hello_conf_check,
	.load = hello_load,
	.start = hello_start,
	.reload = hello_reload,
	.stop = hello_stop,
	.unload = hello_unload,
);
