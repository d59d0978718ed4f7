/*
 * Service "router" (provided by the router plugin): change backends at run
 * time (the registry uses it) and report what the router knows.  Calls are
 * idempotent: upserting the same backend twice changes nothing the second
 * time.  Strings are copied; nothing returned needs freeing.
 */
#ifndef HYPROX_ROUTER_H
#define HYPROX_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_ROUTER_SERVICE	"router"
#define HYP_ROUTER_VERSION	1

/** A backend as another plugin describes it. */
struct hyp_router_backend {
	const char		*id;		/**< Unique across pools, ≤ 64 chars [A-Za-z0-9._-]. */
	const char		*pool;		/**< Must name a configured pool. */
	const char		*host;		/**< Address the client is referred to. */
	uint16_t		 port;
	uint32_t		 weight;	/**< 0: the default (1). */
	uint32_t		 max_players;	/**< 0: unlimited. */
	const char *const	*tags;		/**< ntags strings, may be NULL. */
	size_t			 ntags;
};

/** Backend states. */
enum hyp_router_state {
	HYP_BACKEND_UP = 0,
	HYP_BACKEND_DOWN,	/**< Health probes failing (fall reached). */
	HYP_BACKEND_OPEN,	/**< Circuit breaker open (passive failures). */
	HYP_BACKEND_HALF_OPEN,	/**< Breaker trial: one player at a time. */
	HYP_BACKEND_DRAINING,	/**< No new players. */
};

/** What the router reports about one backend (valid during the callback). */
struct hyp_router_backend_info {
	struct hyp_router_backend	 b;
	enum hyp_router_state		 state;
	uint32_t			 players;	/**< Reported. */
	uint32_t			 reserved;	/**< Recent referrals not yet expired. */
	int				 dynamic;	/**< Added at run time (not from config). */
};

/** Version 1 of the router service. */
struct hyp_router_v1 {
	size_t	size;	/**< sizeof(struct hyp_router_v1) of the provider. */
	/** Add or update a backend.  @return 0, HYP_ENOENT (unknown pool), HYP_EINVAL, HYP_ENOSPC. */
	int	(*upsert)(void *ctx, const struct hyp_router_backend *b);
	/** Start (drain = 1) or stop draining a backend.  @return 0 or HYP_ENOENT. */
	int	(*drain)(void *ctx, const char *id, int drain);
	/** Remove a backend (players already referred are unaffected).  @return 0 or HYP_ENOENT. */
	int	(*remove)(void *ctx, const char *id);
	/** Report a backend's current player count.  @return 0 or HYP_ENOENT. */
	int	(*report_players)(void *ctx, const char *id, uint32_t players);
	/** Passive failure report (e.g. a connect through the proxy failed). */
	int	(*report_failure)(void *ctx, const char *id);
	/** Call fn for every backend, pools in config order.  @return the count. */
	int	(*list)(void *ctx, void (*fn)(void *arg,
		    const struct hyp_router_backend_info *i), void *arg);
};

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_ROUTER_H */
