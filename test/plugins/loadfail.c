/* Test plugin "loadfail": load() always fails. */
#include <hyprox/hyprox.h>

/* Refuse to load. */
static int
loadfail_load(hyp_plugin_t *p, const void *conf)
{
	hyp_log(p, HYP_LOG_ERR, "refusing to load on purpose");
	return (HYP_EINVAL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "loadfail",
	.version = "1.0",
	.load = loadfail_load,
);
