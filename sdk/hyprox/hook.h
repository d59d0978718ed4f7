/*
 * Hooks: named points in a session's life where plugins chain handlers.
 */
#ifndef HYPROX_HOOK_H
#define HYPROX_HOOK_H

#include <hyprox/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hyp_session hyp_session_t;

/**
 * Hook points.  The meaning of a handler's arg is fixed per point; it is
 * NULL unless stated.  New points are appended (ABI minor).
 */
enum hyp_hook_point {
	HYP_HOOK_ACCEPT = 0,		/**< New client connection admitted. */
	HYP_HOOK_HANDSHAKE,		/**< TLS handshake completed. */
	HYP_HOOK_CONNECT_DECODED,	/**< Connect decoded into the session. */
	HYP_HOOK_ROUTE,			/**< Pick a backend or deny. */
	HYP_HOOK_REFERRAL,		/**< A ticket is about to be issued; arg = struct hyp_referral_ext * (ABI 1.1). */
	HYP_HOOK_SESSION_END,		/**< Session over; outcome is set. */
	HYP_HOOK_PACKET,		/**< A framed packet seen; arg NULL in ABI 1.0. */
	HYP_HOOK_RELOAD,		/**< Configuration reloaded; s is NULL. */
	HYP_HOOK__COUNT
};

/** What a handler tells the chain. */
enum hyp_hook_rc {
	HYP_CONTINUE = 0,	/**< Not handled (or handled additively): run the next handler. */
	HYP_DONE = 1,		/**< Handled: stop the chain, success. */
	HYP_DENY = 2,		/**< Refuse the session: stop the chain. */
	HYP_ERROR = 3,		/**< Handler failed: stop the chain. */
};

/** A hook handler; ud is what was given at registration. */
typedef enum hyp_hook_rc (*hyp_hook_fn)(hyp_plugin_t *p, hyp_session_t *s,
    void *arg, void *ud);

/**
 * Register a handler.  Handlers run in ascending priority order, ties in
 * registration order.  Handlers are removed automatically when the plugin
 * unloads.
 * @return 0, HYP_EINVAL for an unknown point, HYP_ENOSPC past 64 handlers
 * per point, HYP_ENOMEM.
 */
int	hyp_hook_register(hyp_plugin_t *p, enum hyp_hook_point point,
	    int priority, hyp_hook_fn fn, void *ud);

/** Remove a handler registered with the same p, point, fn and ud. */
int	hyp_hook_unregister(hyp_plugin_t *p, enum hyp_hook_point point,
	    hyp_hook_fn fn, void *ud);

/**
 * Run a hook point's chain: stop at the first handler that does not
 * return HYP_CONTINUE and return its code; HYP_CONTINUE when every handler
 * continued or none is registered.
 */
enum hyp_hook_rc hyp_hook_run(enum hyp_hook_point point, hyp_session_t *s,
	    void *arg);

/** Number of handlers registered at a point (a transport checks for a router). */
int	hyp_hook_count(enum hyp_hook_point point);

/** Name of a hook point ("route", "session-end", ...); static string. */
const char *hyp_hook_name(enum hyp_hook_point point);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_HOOK_H */
