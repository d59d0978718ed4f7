/* Test plugin "badmajor": built for a future major ABI. */
#include <hyprox/hyprox.h>

HYP_EXPORT const struct hyp_plugin_desc hyp_plugin = {
	.abi_major = HYP_ABI_MAJOR + 1,
	.abi_minor = 0,
	.desc_size = sizeof(struct hyp_plugin_desc),
	.name = "badmajor",
};
