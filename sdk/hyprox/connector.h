/*
 * Service "connector" (provided by the transport plugin): open a QUIC
 * client connection to a backend and report whether the handshake
 * succeeded.  Routers use it for active health probes.
 *
 *   void *ctx;
 *   const struct hyp_connector_v1 *cn = hyp_service_get(HYP_CONNECTOR_SERVICE,
 *       1, &ctx, NULL);
 *   cn->probe(ctx, &opts, done, arg, &id);
 *
 * VERSIONS
 *   1  probe(), cancel().
 *   2  probe_ext(): a probe with struct hyp_probe_ext (a SAN allowlist for
 *      the leaf certificate), for the registry's activation check.  The
 *      v2 vtable starts with the v1 members, so v1 consumers keep working.
 */
#ifndef HYPROX_CONNECTOR_H
#define HYPROX_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_CONNECTOR_SERVICE	"connector"
#define HYP_CONNECTOR_VERSION	2

/** What to connect to and how; strings are only read during probe(). */
struct hyp_probe_opts {
	const char	*host;		/**< Numeric address or host name. */
	uint16_t	 port;
	const char	*sni;		/**< NULL: host when it is a name. */
	const char	*alpn;		/**< Comma-separated offer; NULL: "hytale/2,hytale/1". */
	uint32_t	 timeout_ms;	/**< Whole attempt incl. resolution; 0: 3000. */
	int		 verify;	/**< 0: accept any certificate (Hytale servers are self-signed). */
	const char	*ca_file;	/**< With verify: trust anchors. */
	const char	*pin_sha256;	/**< With verify: base64url SHA-256 of the leaf. */
};

/**
 * Extra probe options (connector version 2); read only during
 * probe_ext().  size lets later versions append members.
 */
struct hyp_probe_ext {
	size_t			 size;	/**< sizeof(struct hyp_probe_ext) of the caller. */
	/**
	 * With verify: the leaf certificate must match one of these names
	 * (DNS names, "*.example.net" wildcards, or numeric addresses matched
	 * against IP SANs); without ca_file and pin_sha256 this is the only
	 * check.  At most 8; nsan 0: no SAN check.
	 */
	const char *const	*san;
	size_t			 nsan;
};

/** Outcome of a probe. */
struct hyp_probe_result {
	int		 rc;		/**< 0 handshake ok; else HYP_ETIMEDOUT, HYP_ENOENT (resolution), ... */
	uint64_t	 handshake_us;	/**< Time to handshake completion when rc == 0. */
	const char	*alpn;		/**< Negotiated ALPN when rc == 0. */
	const char	*detail;	/**< One sentence; valid during the callback. */
};

/** Called once per probe from the loop (never from inside probe()). */
typedef void	(*hyp_probe_done_fn)(void *arg, const struct hyp_probe_result *r);

/** Version 1 of the connector service. */
struct hyp_connector_v1 {
	size_t	size;	/**< sizeof(struct hyp_connector_v1) of the provider. */
	/**
	 * Start a probe; done(arg, …) runs exactly once unless cancelled.
	 * *id (may be NULL) receives a handle for cancel().
	 * @return 0, HYP_EINVAL, HYP_ENOSPC (too many probes in flight).
	 */
	int	(*probe)(void *ctx, const struct hyp_probe_opts *o,
		    hyp_probe_done_fn done, void *arg, uint64_t *id);
	/** Cancel a probe in flight: done() will not run.  Unknown ids are ignored. */
	void	(*cancel)(void *ctx, uint64_t id);
};

/** Version 2 of the connector service: v1's members, then probe_ext. */
struct hyp_connector_v2 {
	size_t	size;	/**< sizeof(struct hyp_connector_v2) of the provider. */
	/** As in v1. */
	int	(*probe)(void *ctx, const struct hyp_probe_opts *o,
		    hyp_probe_done_fn done, void *arg, uint64_t *id);
	/** As in v1. */
	void	(*cancel)(void *ctx, uint64_t id);
	/**
	 * probe() with extra options x (may be NULL: same as probe()).
	 * @return 0, HYP_EINVAL (bad options, more than 8 SANs, SANs
	 * without verify), HYP_ENOSPC, HYP_ENOMEM.
	 */
	int	(*probe_ext)(void *ctx, const struct hyp_probe_opts *o,
		    const struct hyp_probe_ext *x, hyp_probe_done_fn done,
		    void *arg, uint64_t *id);
};

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_CONNECTOR_H */
