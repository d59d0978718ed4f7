/* Test plugin "wrongname": its descriptor names another plugin. */
#include <hyprox/hyprox.h>

HYP_PLUGIN_DESCRIPTOR(
	.name = "somethingelse",
	.version = "1.0",
);
