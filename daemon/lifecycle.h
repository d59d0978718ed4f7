/*
 * Plugin set lifecycle: open, load, start, stop/drain, unload, reload.
 */
#ifndef HYPROXD_LIFECYCLE_H
#define HYPROXD_LIFECYCLE_H

#include "hyproxd.h"

/**
 * Scan c->conf_dir, open every plugin and load and check its file.  Every
 * problem is logged as one line; a plugin listed in optional_plugins that
 * cannot be opened is skipped with a warning.  Returns the number of
 * errors (0: *out holds every plugin, state OPENED, in conf.d order).
 */
int	hypd_set_open(const struct hypd_core_conf *c, struct hypd_plugin_list *out);

/** load() every plugin in order; an optional plugin that fails is dropped. */
int	hypd_set_load(struct hypd_plugin_list *l);

/** start() every plugin in order; on failure stops and unloads the rest. */
int	hypd_set_start(struct hypd_plugin_list *l);

/**
 * stop() every started plugin in reverse order.  Returns 1 when all are
 * drained now, 0 when some drain in the background (then cb runs once when
 * the last one reports drained).
 */
int	hypd_set_stop(struct hypd_plugin_list *l, void (*cb)(void));

/** Names of plugins still draining, comma-separated, into buf. */
void	hypd_set_draining(const struct hypd_plugin_list *l, char *buf, size_t len);

/** unload() every loaded plugin in reverse order, release and close all. */
void	hypd_set_unload(struct hypd_plugin_list *l);

/** Unload plugins removed by a reload that are still draining (at exit). */
void	hypd_set_retire_flush(void);

/**
 * SIGHUP: re-read the core file at path (conf_dir_override as at start),
 * validate everything and swap all-or-nothing.  Returns 0 when applied,
 * a negative code when the old configuration keeps running.
 */
int	hypd_reload(struct hypd_core *core, const char *path,
	    const char *conf_dir_override);

#endif /* HYPROXD_LIFECYCLE_H */
