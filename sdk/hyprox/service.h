/*
 * Services: versioned vtables that one plugin provides under a name
 * ("router", "referral", "connector") and others look up.
 */
#ifndef HYPROX_SERVICE_H
#define HYPROX_SERVICE_H

#include <hyprox/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Provide a service.  vtable (and ctx) stay owned by the provider and must
 * stay valid until it unloads, when the host withdraws the service.  A
 * service's version grows when functions are appended to its vtable.
 * @return 0, HYP_EEXIST when the name is already provided, HYP_EINVAL,
 * HYP_ENOMEM.
 */
int	hyp_service_provide(hyp_plugin_t *p, const char *name,
	    unsigned version, const void *vtable, void *ctx);

/**
 * Look a service up.  Returns its vtable when it exists with a version of
 * at least min_version, else NULL.  When ctx is not NULL it receives the
 * provider's ctx; when version is not NULL, the provided version.  The
 * result is borrowed: valid until the provider unloads (plugins are
 * unloaded in reverse start order, so a service looked up in start() is
 * valid until the consumer's own unload()).
 */
const void *hyp_service_get(const char *name, unsigned min_version,
	    void **ctx, unsigned *version);

/**
 * As hyp_service_get(), but a missing service is logged as a start-up
 * error naming p and the service; returns NULL then.
 */
const void *hyp_service_require(hyp_plugin_t *p, const char *name,
	    unsigned min_version, void **ctx);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_SERVICE_H */
