/*
 * Services: a bounded table of named, versioned vtables provided by
 * plugins and looked up by others.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <string.h>

#include "hyproxd.h"

/* Services in the table. */
#define HYPD_SERVICE_MAX	64
/* Longest service name. */
#define HYPD_SERVICE_NAME_MAX	63

struct hypd_service {
	hyp_plugin_t	*p;
	char		 name[HYPD_SERVICE_NAME_MAX + 1];
	unsigned	 version;
	const void	*vtable;
	void		*ctx;
};

static struct hypd_service	hypd_services[HYPD_SERVICE_MAX];
static unsigned			hypd_nservices;

static int			 hypd_service_name_ok(const char *);
static struct hypd_service	*hypd_service_find(const char *);

/* Whether name is 1 to 63 characters of [a-z0-9_-]. */
static int
hypd_service_name_ok(const char *name)
{
	size_t	i;

	if (name == NULL || name[0] == '\0')
		return (0);
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= HYPD_SERVICE_NAME_MAX)
			return (0);
		if ((name[i] < 'a' || name[i] > 'z') &&
		    (name[i] < '0' || name[i] > '9') &&
		    name[i] != '_' && name[i] != '-')
			return (0);
	}
	return (1);
}

/* Find a service by name. */
static struct hypd_service *
hypd_service_find(const char *name)
{
	unsigned	i;

	for (i = 0; i < hypd_nservices; i++) {
		if (strcmp(hypd_services[i].name, name) == 0)
			return (&hypd_services[i]);
	}
	return (NULL);
}

/* Provide a service under a name. */
int
hyp_service_provide(hyp_plugin_t *p, const char *name, unsigned version,
    const void *vtable, void *ctx)
{
	struct hypd_service	*sv;

	if (!hypd_service_name_ok(name) || vtable == NULL)
		return (HYP_EINVAL);
	if (hypd_service_find(name) != NULL)
		return (HYP_EEXIST);
	if (hypd_nservices >= HYPD_SERVICE_MAX)
		return (HYP_ENOSPC);
	sv = &hypd_services[hypd_nservices++];
	sv->p = p;
	strcpy(sv->name, name);	/* length checked above */
	sv->version = version;
	sv->vtable = vtable;
	sv->ctx = ctx;
	return (0);
}

/* Look a service up with a minimum version. */
const void *
hyp_service_get(const char *name, unsigned min_version, void **ctx,
    unsigned *version)
{
	struct hypd_service	*sv;

	if (name == NULL || (sv = hypd_service_find(name)) == NULL ||
	    sv->version < min_version)
		return (NULL);
	if (ctx != NULL)
		*ctx = sv->ctx;
	if (version != NULL)
		*version = sv->version;
	return (sv->vtable);
}

/* Look a service up and log a start-up error naming p when it is missing. */
const void *
hyp_service_require(hyp_plugin_t *p, const char *name, unsigned min_version,
    void **ctx)
{
	struct hypd_service	*sv;
	const void		*vt;

	if ((vt = hyp_service_get(name, min_version, ctx, NULL)) != NULL)
		return (vt);
	if (name == NULL) {
		hyp_log(p, HYP_LOG_ERR, "required service with no name");
		return (NULL);
	}
	if ((sv = hypd_service_find(name)) != NULL) {
		hyp_log(p, HYP_LOG_ERR, "required service '%s' (version >= %u) "
		    "is provided by plugin '%s' only at version %u", name,
		    min_version, sv->p != NULL && sv->p->name != NULL ?
		    sv->p->name : "core", sv->version);
	} else {
		hyp_log(p, HYP_LOG_ERR, "required service '%s' (version >= %u) "
		    "is not provided by any loaded plugin", name, min_version);
	}
	return (NULL);
}

/* Withdraw every service p provides. */
void
hypd_service_release(hyp_plugin_t *p)
{
	unsigned	i, j;

	for (i = 0, j = 0; i < hypd_nservices; i++) {
		if (hypd_services[i].p != p)
			hypd_services[j++] = hypd_services[i];
	}
	hypd_nservices = j;
	memset(&hypd_services[j], 0,
	    (HYPD_SERVICE_MAX - j) * sizeof(hypd_services[0]));
}
