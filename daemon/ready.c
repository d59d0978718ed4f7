/*
 * Readiness: plugins register checks ("listener", "backends"); the metrics
 * plugin's /readyz evaluates them together with every plugin's state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "hyproxd.h"

#define READY_MAX	64
#define READY_NAME_MAX	32

/* One registered check. */
struct ready_check {
	hyp_plugin_t	*owner;
	char		 name[READY_NAME_MAX];
	hyp_ready_fn	 fn;
	void		*arg;
};

static struct ready_check	ready_checks[READY_MAX];
static size_t			ready_n;

/* Register a readiness check. */
int
hyp_ready_register(hyp_plugin_t *p, const char *name, hyp_ready_fn fn,
    void *arg)
{
	size_t	len;

	if (name == NULL || fn == NULL || (len = strlen(name)) == 0 ||
	    len >= READY_NAME_MAX)
		return (HYP_EINVAL);
	if (ready_n == READY_MAX)
		return (HYP_ENOSPC);
	ready_checks[ready_n].owner = p;
	memcpy(ready_checks[ready_n].name, name, len + 1);
	ready_checks[ready_n].fn = fn;
	ready_checks[ready_n].arg = arg;
	ready_n++;
	return (0);
}

/* Evaluate every plugin's state and every check. */
int
hyp_ready_evaluate(void (*report)(void *, const char *, const char *, int,
    const char *), void *arg)
{
	const hyp_plugin_t	*p;
	char			 why[256];
	size_t			 i;
	int			 ok, all = 1;

	if (hypd != NULL) {
		TAILQ_FOREACH(p, &hypd->plugins, entry) {
			ok = p->state == HYPD_PL_STARTED;
			all &= ok;
			if (report != NULL)
				report(arg, p->name, "started", ok, ok ? "" :
				    "not started or stopping");
		}
	}
	for (i = 0; i < ready_n; i++) {
		why[0] = '\0';
		ok = ready_checks[i].fn(ready_checks[i].arg, why,
		    sizeof(why)) == 1;
		why[sizeof(why) - 1] = '\0';
		all &= ok;
		if (report != NULL)
			report(arg, hyp_plugin_name(ready_checks[i].owner),
			    ready_checks[i].name, ok, why);
	}
	return (all);
}

/* Drop the checks p registered. */
void
hypd_ready_release(hyp_plugin_t *p)
{
	size_t	i = 0;

	while (i < ready_n) {
		if (ready_checks[i].owner == p) {
			ready_checks[i] = ready_checks[--ready_n];
			continue;
		}
		i++;
	}
}
