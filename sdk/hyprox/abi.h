/*
 * hyprox plugin ABI: the descriptor every plugin exports as `hyp_plugin`.
 *
 * ABI RULE
 *   Adding a function, a hook point, a descriptor field at the end, or an
 *   enum value at the end bumps HYP_ABI_MINOR.  Changing or removing anything
 *   bumps HYP_ABI_MAJOR and resets the minor to 0.  The host refuses a plugin
 *   whose major differs from its own or whose minor is newer than its own.
 *   The first three descriptor fields (abi_major, abi_minor, desc_size) never
 *   move; the host reads the rest only up to desc_size, so a plugin built
 *   against an older minor keeps loading.
 *
 * CHANGELOG
 *   1.0  2026-11-22  First stable ABI: descriptor, lifecycle, logging,
 *                    timers/watches/deferred calls, hooks, services,
 *                    sessions, backends, metrics registry, secrets, paths.
 *   1.1  2026-11-22  HYP_HOOK_REFERRAL carries struct hyp_referral_ext
 *                    (referral.h); services "connector", "referral",
 *                    "router" contracts (connector.h, referral.h, router.h).
 *   1.2  2026-11-22  Hook points HYP_HOOK_AUDIT and HYP_HOOK_PLUGIN_STATE;
 *                    HYP_HOOK_PACKET carries struct hyp_packet_info;
 *                    readiness checks (hyp_ready_register/evaluate);
 *                    hyp_metrics_on_render().
 */
#ifndef HYPROX_ABI_H
#define HYPROX_ABI_H

#include <stddef.h>
#include <stdint.h>

#include <cyaml/cyaml.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major ABI version: plugins must match it exactly. */
#define HYP_ABI_MAJOR	1
/** Minor ABI version: plugins may be built against this one or an older one. */
#define HYP_ABI_MINOR	2

/** Marks the one symbol a plugin exports; everything else stays hidden. */
#define HYP_EXPORT	__attribute__((visibility("default")))

/** Phases of the reload() callback. */
enum hyp_reload_phase {
	HYP_RELOAD_PREPARE = 0,
	HYP_RELOAD_COMMIT = 1,
	HYP_RELOAD_ABORT = 2,
};

/** Opaque handle of one loaded plugin instance; owned by the host. */
typedef struct hyp_plugin hyp_plugin_t;

/**
 * The plugin descriptor.  Read-only, exported under the symbol `hyp_plugin`
 * and built with HYP_PLUGIN_DESCRIPTOR() so that the version fields are
 * filled in by the compiler.
 *
 * Every callback receives the plugin handle; per-plugin state lives behind
 * hyp_plugin_set_ctx().  Callbacks return 0 or a negative HYP_E* code.
 */
struct hyp_plugin_desc {
	/* These three fields come first and never move. */
	uint16_t	abi_major;	/**< HYP_ABI_MAJOR at build time. */
	uint16_t	abi_minor;	/**< HYP_ABI_MINOR at build time. */
	uint32_t	desc_size;	/**< sizeof(struct hyp_plugin_desc) at build time. */

	const char	*name;		/**< Must equal the conf.d file's and the .so's name. */
	const char	*version;	/**< The plugin's own version string. */
	const char	*summary;	/**< One line for --version and logs. */

	/**
	 * libcyaml schema of the plugin's conf.d file (a top-level mapping
	 * with CYAML_FLAG_POINTER).  The host loads and validates the file
	 * against it before load(), owns the resulting struct and frees it
	 * with the same schema after the plugin stops using it (after
	 * unload(), or after a reload replaced it).  NULL: the plugin takes no
	 * configuration and its file must be empty.
	 */
	const cyaml_schema_value_t *conf_schema;

	/**
	 * Optional semantic check of a loaded configuration (ranges,
	 * cross-field rules) beyond what the schema enforces.  Called by
	 * --check, before load() and before reload().  Must not touch any
	 * state.  On failure writes one sentence to err (NUL-terminated, at
	 * most errlen bytes) and returns a negative code.
	 */
	int	(*conf_check)(const void *conf, char *err, size_t errlen);

	/** Parse the configuration and allocate; no sockets, no timers yet. */
	int	(*load)(hyp_plugin_t *p, const void *conf);
	/** Open sockets, start timers, begin serving. */
	int	(*start)(hyp_plugin_t *p);
	/**
	 * Optional: apply a new configuration on SIGHUP, all-or-nothing.
	 * The host calls every plugin whose configuration changed with
	 * HYP_RELOAD_PREPARE (validate and prepare; may refuse with a
	 * negative code and a log line); when all accepted, with
	 * HYP_RELOAD_COMMIT (switch to new_conf; must not fail), else with
	 * HYP_RELOAD_ABORT those that prepared (drop the preparation).  The
	 * host frees the configuration that is not in use afterwards.  A
	 * plugin without reload() refuses any change to its file: the reload
	 * is rejected and the old configuration keeps running.
	 */
	int	(*reload)(hyp_plugin_t *p, const void *new_conf, int phase);
	/**
	 * Stop accepting new work.  Return 0 when already drained, or
	 * HYP_EAGAIN to keep draining and call hyp_plugin_drained() later;
	 * the host waits at most the configured drain timeout.
	 */
	int	(*stop)(hyp_plugin_t *p);
	/** Free everything load() and start() allocated. */
	void	(*unload)(hyp_plugin_t *p);
};

/**
 * Declare the descriptor: HYP_PLUGIN_DESCRIPTOR(.name = "hello", .load = …).
 * Fills abi_major, abi_minor and desc_size.
 */
#define HYP_PLUGIN_DESCRIPTOR(...)					\
	HYP_EXPORT const struct hyp_plugin_desc hyp_plugin = {		\
		.abi_major = HYP_ABI_MAJOR,				\
		.abi_minor = HYP_ABI_MINOR,				\
		.desc_size = sizeof(struct hyp_plugin_desc),		\
		__VA_ARGS__						\
	}

/** The symbol the loader looks up. */
#define HYP_PLUGIN_SYMBOL	"hyp_plugin"

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_ABI_H */
