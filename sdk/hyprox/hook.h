/*
 * Hooks: named points in a session's life where plugins chain handlers.
 */
#ifndef HYPROX_HOOK_H
#define HYPROX_HOOK_H

#include <stddef.h>
#include <stdint.h>

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
	HYP_HOOK_PACKET,		/**< A framed packet seen; arg = const struct hyp_packet_info * (ABI 1.2). */
	HYP_HOOK_RELOAD,		/**< Configuration reloaded; s is NULL. */
	HYP_HOOK_AUDIT,			/**< A change made through an API (registry); s NULL; arg = const struct hyp_audit_event * (ABI 1.2). */
	HYP_HOOK_PLUGIN_STATE,		/**< A plugin changed state; s NULL; arg = const struct hyp_plugin_event * (ABI 1.2). */
	HYP_HOOK__COUNT			/**< Not a hook point; grows with the minor. */
};

/** Argument of HYP_HOOK_PACKET: one framed Hytale packet (ABI 1.2). */
struct hyp_packet_info {
	int		 outbound;	/**< 0: from the client, 1: to the client. */
	int64_t		 stream;	/**< QUIC stream id. */
	uint32_t	 packet_id;
	uint32_t	 length;	/**< Payload length from the frame header. */
	const uint8_t	*payload;	/**< Payload bytes held now (may be fewer than length); borrowed. */
	size_t		 payload_len;
};

/** Argument of HYP_HOOK_AUDIT (ABI 1.2); strings borrowed for the call. */
struct hyp_audit_event {
	const char	*actor;		/**< Who: key id, address ("k8s-operator@10.0.0.5"). */
	const char	*action;	/**< "register", "update", "heartbeat", "drain", "remove", "expire", ... */
	const char	*object;	/**< What: a backend id. */
	const char	*detail;	/**< One line, never secrets; may be NULL. */
	int		 ok;		/**< 1 applied, 0 refused. */
};

/** Argument of HYP_HOOK_PLUGIN_STATE (ABI 1.2); strings borrowed. */
struct hyp_plugin_event {
	const char	*plugin;
	const char	*state;		/**< "loaded", "started", "draining", "stopped", "unloaded", "refused", "reloaded". */
	const char	*detail;	/**< May be NULL. */
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
