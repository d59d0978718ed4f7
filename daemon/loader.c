/*
 * Plugin loader: dlopen a plugin, check its descriptor, and the small host
 * accessors on plugin handles.
 */
#include "config.h"

#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyproxd.h"

/* The smallest descriptor the host accepts: everything up to unload. */
#define HYPD_DESC_MIN	(offsetof(struct hyp_plugin_desc, unload) + \
	sizeof(((struct hyp_plugin_desc *)0)->unload))

static int	refuse(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Refuse with a formatted reason. */
static int
refuse(char *why, size_t whylen, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return (code);
}

/* Open dir/name.so and check it is a plugin this host can run. */
int
hypd_plugin_open(const char *dir, const char *name, hyp_plugin_t **out,
    char *why, size_t whylen)
{
	const struct hyp_plugin_desc	*desc;
	struct stat			 st;
	hyp_plugin_t			*p;
	char				 path[4096];
	void				*dl;
	size_t				 n;
	int				 rc;

	*out = NULL;
	if (snprintf(path, sizeof path, "%s/%s.so", dir, name) >=
	    (int)sizeof path)
		return (refuse(why, whylen, HYP_ERANGE, "path too long"));
	if (stat(path, &st) != 0)
		return (refuse(why, whylen, HYP_ENOENT, "%s: %s", path,
		    strerror(errno)));
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return (refuse(why, whylen, HYP_EINVAL, "%s: cannot load: %s",
		    path, dlerror()));
	desc = dlsym(dl, HYP_PLUGIN_SYMBOL);
	if (desc == NULL) {
		rc = refuse(why, whylen, HYP_EABI, "%s: no '%s' symbol: not "
		    "a hyprox plugin", path, HYP_PLUGIN_SYMBOL);
		goto fail;
	}
	if (desc->abi_major != HYP_ABI_MAJOR) {
		rc = refuse(why, whylen, HYP_EABI, "%s: built for plugin ABI "
		    "%u.%u, this hyproxd has ABI %u.%u (major differs: rebuild "
		    "the plugin)", path, desc->abi_major, desc->abi_minor,
		    HYP_ABI_MAJOR, HYP_ABI_MINOR);
		goto fail;
	}
	if (desc->abi_minor > HYP_ABI_MINOR) {
		rc = refuse(why, whylen, HYP_EABI, "%s: built for plugin ABI "
		    "%u.%u, newer than this hyproxd's %u.%u (upgrade hyproxd)",
		    path, desc->abi_major, desc->abi_minor, HYP_ABI_MAJOR,
		    HYP_ABI_MINOR);
		goto fail;
	}
	if (desc->desc_size < HYPD_DESC_MIN) {
		rc = refuse(why, whylen, HYP_EABI, "%s: descriptor of %u bytes "
		    "is too small (at least %zu)", path, desc->desc_size,
		    (size_t)HYPD_DESC_MIN);
		goto fail;
	}
	if (desc->name == NULL || strcmp(desc->name, name) != 0) {
		rc = refuse(why, whylen, HYP_EINVAL, "%s: descriptor names "
		    "the plugin '%s', expected '%s' (the conf.d file and the "
		    ".so must carry the plugin's name)", path,
		    desc->name != NULL ? desc->name : "(null)", name);
		goto fail;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		rc = refuse(why, whylen, HYP_ENOMEM, "out of memory");
		goto fail;
	}
	n = desc->desc_size < sizeof p->d ? desc->desc_size : sizeof p->d;
	memcpy(&p->d, desc, n);
	p->dl = dl;
	p->state = HYPD_PL_OPENED;
	LIST_INIT(&p->timers);
	LIST_INIT(&p->watches);
	LIST_INIT(&p->deferred);
	if ((p->name = strdup(name)) == NULL ||
	    (p->so_path = strdup(path)) == NULL) {
		hypd_plugin_close(p);
		return (refuse(why, whylen, HYP_ENOMEM, "out of memory"));
	}
	*out = p;
	return (0);
fail:
	dlclose(dl);
	return (rc);
}

/* Free a plugin's host-side state and dlclose it. */
void
hypd_plugin_close(hyp_plugin_t *p)
{
	if (p == NULL)
		return;
	if (p->conf != NULL)
		hypd_plugin_conf_free(p->d.conf_schema, p->conf);
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p->name);
	free(p->so_path);
	free(p->conf_file);
	free(p->conf_dir);
	free(p->conf_text);
	free(p);
}

/* The plugin's name. */
const char *
hyp_plugin_name(const hyp_plugin_t *p)
{
	return (p != NULL ? p->name : "core");
}

/* Attach the plugin's private state. */
void
hyp_plugin_set_ctx(hyp_plugin_t *p, void *ctx)
{
	p->ctx = ctx;
}

/* The plugin's private state. */
void *
hyp_plugin_ctx(const hyp_plugin_t *p)
{
	return (p->ctx);
}

/* Directory of the plugin's conf.d file. */
const char *
hyp_plugin_conf_dir(const hyp_plugin_t *p)
{
	return (p->conf_dir != NULL ? p->conf_dir : ".");
}
