/*
 * hyproxd internals shared by the daemon's modules.  Nothing here crosses
 * the plugin ABI: plugins see only sdk/hyprox/.
 */
#ifndef HYPROXD_H
#define HYPROXD_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hyprox/hyprox.h>

struct event_base;

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif
#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST((head));				\
	    (var) && ((tvar) = LIST_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

/* ---- config.c: the core file and conf.d ---- */

enum hypd_log_format { HYPD_LOG_TEXT = 0, HYPD_LOG_JSON };
enum hypd_log_output { HYPD_LOG_STDERR = 0, HYPD_LOG_FILE, HYPD_LOG_SYSLOG };

/** The core configuration file (hyproxd.yaml), after defaults. */
struct hypd_core_conf {
	char		*plugin_dir;	/* default: configure's plugindir */
	char		*conf_dir;	/* default: "conf.d" beside the core file */
	struct {
		int	 level;		/* HYP_LOG_*; default info */
		int	 format;	/* enum hypd_log_format; default text */
		int	 output;	/* enum hypd_log_output; default stderr */
		char	*file;		/* for output: file */
		char	*ident;		/* for output: syslog; default "hyproxd" */
		int	 facility;	/* syslog LOG_*; default LOG_DAEMON */
	} log;
	uint32_t	 drain_timeout_ms;	/* default 10000 */
	char		*pid_file;	/* NULL: none */
	char		**optional;	/* plugin names whose refusal is not fatal */
	unsigned	 optional_count;
	uint32_t	 max_sessions;	/* default 100000 */
	char		*path;		/* the core file itself (absolute) */
	char		*dir;		/* its directory */
};

/** One conf.d entry: "NN-name.yaml". */
struct hypd_conf_entry {
	char		*name;		/* plugin name from the file name */
	char		*file;		/* absolute path of the yaml file */
	char		*dir;		/* its directory */
	unsigned	 order;		/* NN */
	char		*text;		/* the file's bytes (to detect changes on reload) */
	size_t		 textlen;
};

/**
 * Load and validate the core file; relative paths in it are resolved
 * against its directory; conf_dir_override (may be NULL) replaces conf_dir.
 * On failure *err gets a malloc'd message naming file, line and key.
 */
int	hypd_core_conf_load(const char *path, const char *conf_dir_override,
	    struct hypd_core_conf **out, char **err);
void	hypd_core_conf_free(struct hypd_core_conf *c);

/**
 * List conf.d: files matching NN-name.yaml (others ignored with a debug
 * line; "*.yaml.disabled" ignored), sorted by NN then name.  Duplicated
 * plugin names are an error.
 */
int	hypd_confdir_scan(const char *dir, struct hypd_conf_entry **out,
	    size_t *n, char **err);
void	hypd_confdir_free(struct hypd_conf_entry *e, size_t n);

/**
 * Load a plugin's file against its schema (NULL schema: file must be
 * empty/null).  Unknown keys are errors.  On failure *err (malloc'd) names
 * the file, line, column and key path.
 */
int	hypd_plugin_conf_load(const char *file, const cyaml_schema_value_t *schema,
	    void **out, char **err);
void	hypd_plugin_conf_free(const cyaml_schema_value_t *schema, void *conf);

/**
 * Find the value of a dotted key path ("log.level", "pools[1].name", ""
 * for the document) in a YAML file; *line and *col are 1-based.  Returns
 * 0, HYP_ENOENT when the path is absent, or another negative code.
 */
int	hypd_conf_locate(const char *file, const char *path, unsigned *line,
	    unsigned *col);

/** The libcyaml config used for every load/save/free (logs captured). */
const cyaml_config_t *hypd_cyaml_config(void);

/**
 * Print the effective configuration as one YAML document:
 *   core: {…}   plugins: {name: {…}, …}
 * values of secret-looking keys (secret, password, token, key, *_secret,
 * *_password, *_token, *_key) shown as <redacted>.
 */
int	hypd_config_print(FILE *fp, const struct hypd_core_conf *core,
	    const char *const *names, const cyaml_schema_value_t *const *schemas,
	    void *const *confs, size_t n);

/* ---- log.c ---- */

/** Configure the log sink from the core conf; NULL: stderr, text, info. */
int	hypd_log_configure(const struct hypd_core_conf *c, char **err);
/** Reopen the log file (SIGUSR1). */
void	hypd_log_reopen(void);
/** Set only the level (from -l / --log-level). */
void	hypd_log_set_level(int level);
/** Close the sink. */
void	hypd_log_close(void);
/** Parse "err|warning|notice|info|debug"; -1 when unknown. */
int	hypd_log_level_parse(const char *s);

/* ---- event.c: timers, watches, deferred calls ---- */

struct hyp_timer;
struct hyp_watch;
struct hypd_deferred;

/** Set the base every timer/watch uses. */
void	hypd_event_init(struct event_base *base);
/** Free every timer, watch and deferred call p still owns (warns). */
void	hypd_event_release(hyp_plugin_t *p);

/* ---- plugin objects (loader.c) ---- */

enum hypd_plugin_state {
	HYPD_PL_OPENED = 0,	/* dlopen'ed and checked */
	HYPD_PL_LOADED,		/* load() ok */
	HYPD_PL_STARTED,	/* start() ok */
	HYPD_PL_STOPPING,	/* stop() returned HYP_EAGAIN */
	HYPD_PL_STOPPED,	/* drained */
};

struct hyp_plugin {
	TAILQ_ENTRY(hyp_plugin)	 entry;
	char			*name;
	char			*so_path;
	char			*conf_file;
	char			*conf_dir;
	char			*conf_text;	/* file bytes, for change detection */
	size_t			 conf_textlen;
	void			*dl;
	struct hyp_plugin_desc	 d;		/* copy of the first desc_size bytes, rest zero */
	void			*conf;		/* loaded with d.conf_schema; host-owned */
	void			*ctx;
	int			 optional;
	enum hypd_plugin_state	 state;
	LIST_HEAD(, hyp_timer)	 timers;
	LIST_HEAD(, hyp_watch)	 watches;
	LIST_HEAD(, hypd_deferred) deferred;
	struct event		*retire_ev;	/* removed on reload, draining */
};
TAILQ_HEAD(hypd_plugin_list, hyp_plugin);

/**
 * Open plugin `name` from dir/name.so and check its descriptor.  On
 * refusal logs nothing and returns a negative code with *why (static or
 * malloc'd into whybuf) describing it in one sentence.
 */
int	hypd_plugin_open(const char *dir, const char *name, hyp_plugin_t **out,
	    char *why, size_t whylen);
/** dlclose and free a plugin in state OPENED (after unload()). */
void	hypd_plugin_close(hyp_plugin_t *p);

/* ---- hook.c, service.c ---- */

/** Drop every hook handler p registered. */
void	hypd_hook_release(hyp_plugin_t *p);
/** Drop every service p provides. */
void	hypd_service_release(hyp_plugin_t *p);

/* ---- session.c ---- */

/** Set the cap on concurrent sessions (0 = unlimited). */
void	hypd_session_set_max(unsigned max);
/** Drop every session-data slot p attached (called before p unloads). */
void	hypd_session_release(hyp_plugin_t *p);

/* ---- metrics.c ---- */

/** Drop the render-time gauges p registered. */
void	hypd_metrics_release(hyp_plugin_t *p);
/** Free the whole registry (tests, exit). */
void	hypd_metrics_reset(void);

/* ---- ready.c ---- */

/** Drop the readiness checks p registered. */
void	hypd_ready_release(hyp_plugin_t *p);

/* ---- core.c: the one core object ---- */

struct hypd_core {
	struct event_base	*base;
	struct hypd_core_conf	*conf;
	struct hypd_plugin_list	 plugins;	/* in start order */
};

/** The core; NULL until main() set it up (tests set their own). */
extern struct hypd_core *hypd;

#endif /* HYPROXD_H */
