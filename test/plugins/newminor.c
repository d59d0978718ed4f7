/* Test plugin "newminor": built against a newer minor than the host's. */
#include <hyprox/hyprox.h>

HYP_EXPORT const struct hyp_plugin_desc hyp_plugin = {
	.abi_major = HYP_ABI_MAJOR,
	.abi_minor = HYP_ABI_MINOR + 1,
	.desc_size = sizeof(struct hyp_plugin_desc),
	.name = "newminor",
};
