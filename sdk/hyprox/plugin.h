/*
 * Host API for plugins: identity, per-plugin context, logging, the event
 * loop (timers, fd watches, deferred calls) and draining.
 *
 * These functions live in hyproxd and are resolved when the plugin is
 * loaded; call them only from the loop thread.
 */
#ifndef HYPROX_PLUGIN_H
#define HYPROX_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hyprox/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct hyp_session hyp_session_t;

/** Log levels, syslog order. */
enum hyp_log_level {
	HYP_LOG_ERR = 3,
	HYP_LOG_WARNING = 4,
	HYP_LOG_NOTICE = 5,
	HYP_LOG_INFO = 6,
	HYP_LOG_DEBUG = 7,
};

/** The plugin's name as in its descriptor; owned by the host. */
const char	*hyp_plugin_name(const hyp_plugin_t *p);

/** Attach the plugin's private state; the plugin keeps ownership. */
void		 hyp_plugin_set_ctx(hyp_plugin_t *p, void *ctx);

/** The pointer given to hyp_plugin_set_ctx(), or NULL. */
void		*hyp_plugin_ctx(const hyp_plugin_t *p);

/**
 * Directory of the plugin's conf.d file; relative paths in its
 * configuration are resolved against it.  Owned by the host.
 */
const char	*hyp_plugin_conf_dir(const hyp_plugin_t *p);

/**
 * Report that a stop() which returned HYP_EAGAIN has finished draining.
 */
void		 hyp_plugin_drained(hyp_plugin_t *p);

/**
 * Log one line.  The host prefixes the plugin name (p may be NULL for the
 * core) and writes it to the configured sink (text or JSON lines).
 */
void		 hyp_log(hyp_plugin_t *p, int level, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/** Log one line about a session: as hyp_log() plus the session id. */
void		 hyp_log_session(hyp_plugin_t *p, const hyp_session_t *s,
		    int level, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/** va_list form of hyp_log_session(); s may be NULL. */
void		 hyp_vlog(hyp_plugin_t *p, const hyp_session_t *s, int level,
		    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/** Whether a line at this level would be written (skip costly formatting). */
int		 hyp_log_enabled(int level);

/**
 * The host's libevent base, for plugins that run libevent servers of their
 * own (evhttp).  Owned by the host; never free it or run it.
 */
struct event_base *hyp_event_base(void);

/** Monotonic clock in microseconds. */
uint64_t	 hyp_now_us(void);

/** Opaque timer handle. */
typedef struct hyp_timer hyp_timer_t;
/** Timer callback. */
typedef void	(*hyp_timer_fn)(hyp_plugin_t *p, void *arg);

/**
 * Create a stopped timer.  The plugin owns it and frees it with
 * hyp_timer_free(); any left at unload() are freed by the host with a
 * warning.  Returns NULL when out of memory.
 */
hyp_timer_t	*hyp_timer_new(hyp_plugin_t *p, hyp_timer_fn fn, void *arg);

/** Arm (or re-arm) the timer to fire after ms milliseconds, once or repeatedly. */
int		 hyp_timer_start(hyp_timer_t *t, uint64_t ms, int repeat);

/** Disarm the timer; it may be started again. */
void		 hyp_timer_stop(hyp_timer_t *t);

/** Disarm and free the timer; NULL is ignored. */
void		 hyp_timer_free(hyp_timer_t *t);

/** fd readiness bits. */
#define HYP_WATCH_READ	0x02
#define HYP_WATCH_WRITE	0x04

/** Opaque fd watch handle. */
typedef struct hyp_watch hyp_watch_t;
/** fd watch callback; what holds the HYP_WATCH_* bits that are ready. */
typedef void	(*hyp_watch_fn)(hyp_plugin_t *p, int fd, int what, void *arg);

/**
 * Watch fd persistently for the HYP_WATCH_* bits in what.  The plugin keeps
 * owning fd (the host never closes it) and frees the watch with
 * hyp_watch_free(); leftovers are freed at unload() with a warning.
 */
hyp_watch_t	*hyp_watch_new(hyp_plugin_t *p, int fd, int what,
		    hyp_watch_fn fn, void *arg);

/** Stop watching and free; NULL is ignored. */
void		 hyp_watch_free(hyp_watch_t *w);

/**
 * A readiness check: return 1 when ready, 0 when not, then writing one
 * sentence into why (at most whylen bytes).  Runs on the loop thread.
 */
typedef int	(*hyp_ready_fn)(void *arg, char *why, size_t whylen);

/**
 * Register a readiness check named name (copied), e.g. the transport's
 * "listener" or the router's "backends" (ABI 1.2).  Withdrawn at unload.
 * @return 0, HYP_EINVAL, HYP_ENOSPC (64 checks), HYP_ENOMEM.
 */
int		 hyp_ready_register(hyp_plugin_t *p, const char *name,
		    hyp_ready_fn fn, void *arg);

/**
 * Evaluate readiness: every plugin started (not stopping) and every
 * registered check ready.  report (may be NULL) is called once per item
 * with its plugin, name, result and reason (borrowed for the call); the
 * plugins' own state is reported as name "started".
 * @return 1 ready, 0 not ready (ABI 1.2).
 */
int		 hyp_ready_evaluate(void (*report)(void *arg, const char *plugin,
		    const char *name, int ok, const char *why), void *arg);

/**
 * Run fn(p, arg) once from the loop, after the current callback returns.
 * Deferred calls still pending when the plugin unloads are dropped.
 */
int		 hyp_defer(hyp_plugin_t *p, hyp_timer_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_PLUGIN_H */
