/*
 * Plugin set lifecycle: open, load, start, stop and drain, unload, and the
 * all-or-nothing SIGHUP reload.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lifecycle.h"

static void	(*drain_cb)(void);

/* Plugins removed by a reload that are still draining. */
static struct hypd_plugin_list retiring = TAILQ_HEAD_INITIALIZER(retiring);

/* Tell HYP_HOOK_PLUGIN_STATE handlers (the tracer) what a plugin did. */
static void
plugin_event(const char *name, const char *state, const char *detail)
{
	struct hyp_plugin_event	ev = { name, state, detail };

	(void)hyp_hook_run(HYP_HOOK_PLUGIN_STATE, NULL, &ev);
}

/* Whether name is listed in optional_plugins. */
static int
is_optional(const struct hypd_core_conf *c, const char *name)
{
	unsigned	i;

	for (i = 0; i < c->optional_count; i++)
		if (strcmp(c->optional[i], name) == 0)
			return (1);
	return (0);
}

/* Copy a conf.d entry's identity and bytes onto a plugin. */
static int
entry_attach(hyp_plugin_t *p, const struct hypd_conf_entry *e)
{
	char	*text;

	if ((text = malloc(e->textlen + 1)) == NULL)
		return (HYP_ENOMEM);
	memcpy(text, e->text, e->textlen);
	text[e->textlen] = '\0';
	free(p->conf_file);
	free(p->conf_dir);
	free(p->conf_text);
	p->conf_file = strdup(e->file);
	p->conf_dir = strdup(e->dir);
	p->conf_text = text;
	p->conf_textlen = e->textlen;
	if (p->conf_file == NULL || p->conf_dir == NULL)
		return (HYP_ENOMEM);
	return (0);
}

/*
 * Log a conf_check() failure; when the message starts with "key.path: ",
 * prefix the key's line and column in file.
 */
static void
report_check(const char *file, const char *msg)
{
	char		key[128];
	unsigned	line, col;
	size_t		n;

	n = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_.[]-");
	if (n > 0 && n < sizeof key && msg[n] == ':') {
		memcpy(key, msg, n);
		key[n] = '\0';
		if (hypd_conf_locate(file, key, &line, &col) == 0) {
			hyp_log(NULL, HYP_LOG_ERR, "%s:%u:%u: %s", file, line,
			    col, msg);
			return;
		}
	}
	hyp_log(NULL, HYP_LOG_ERR, "%s: %s", file, msg);
}

/* Load a configuration file against p's schema and run its conf_check. */
static int
conf_load_checked(hyp_plugin_t *p, const char *file, void **conf)
{
	char	 buf[512], *err = NULL;
	int	 rc;

	rc = hypd_plugin_conf_load(file, p->d.conf_schema, conf, &err);
	if (rc != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    hyp_strerror(rc));
		free(err);
		return (rc);
	}
	if (p->d.conf_check != NULL) {
		buf[0] = '\0';
		rc = p->d.conf_check(*conf, buf, sizeof buf);
		if (rc != 0) {
			report_check(file, buf[0] != '\0' ? buf :
			    hyp_strerror(rc));
			hypd_plugin_conf_free(p->d.conf_schema, *conf);
			*conf = NULL;
			return (rc < 0 ? rc : HYP_ECONFIG);
		}
	}
	return (0);
}

/* Open the plugin of one conf.d entry and load its configuration. */
static int
entry_open(const struct hypd_core_conf *c, const struct hypd_conf_entry *e,
    hyp_plugin_t **out)
{
	hyp_plugin_t	*p;
	char		 why[1024];
	int		 rc;

	*out = NULL;
	rc = hypd_plugin_open(c->plugin_dir, e->name, &p, why, sizeof why);
	if (rc != 0) {
		hyp_log(NULL, is_optional(c, e->name) ? HYP_LOG_WARNING :
		    HYP_LOG_ERR, "plugin '%s' (%s) refused: %s%s", e->name,
		    e->file, why, is_optional(c, e->name) ?
		    " (optional: skipped)" : "");
		plugin_event(e->name, "refused", why);
		return (is_optional(c, e->name) ? 1 : rc);
	}
	p->optional = is_optional(c, e->name);
	if ((rc = entry_attach(p, e)) != 0 ||
	    (rc = conf_load_checked(p, e->file, &p->conf)) != 0) {
		hypd_plugin_close(p);
		return (rc);
	}
	*out = p;
	return (0);
}

/* Open every plugin named in conf.d. */
int
hypd_set_open(const struct hypd_core_conf *c, struct hypd_plugin_list *out)
{
	struct hypd_conf_entry	*e;
	hyp_plugin_t		*p;
	size_t			 n, i;
	char			*err = NULL;
	int			 errors = 0;

	TAILQ_INIT(out);
	if (hypd_confdir_scan(c->conf_dir, &e, &n, &err) != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    "cannot read conf.d");
		free(err);
		return (1);
	}
	for (i = 0; i < n; i++) {
		if (entry_open(c, &e[i], &p) < 0)
			errors++;
		else if (p != NULL)
			TAILQ_INSERT_TAIL(out, p, entry);
	}
	hypd_confdir_free(e, n);
	return (errors);
}

/* Release everything the host tracks for p. */
static void
release(hyp_plugin_t *p)
{
	hypd_hook_release(p);
	hypd_service_release(p);
	hypd_metrics_release(p);
	hypd_ready_release(p);
	hypd_event_release(p);
}

/* unload() one plugin and release what it left behind. */
static void
unload_one(hyp_plugin_t *p)
{
	if (p->state >= HYPD_PL_LOADED) {
		plugin_event(p->name, "unloaded", NULL);
		hypd_session_release(p);
		if (p->d.unload != NULL)
			p->d.unload(p);
		hyp_log(NULL, HYP_LOG_DEBUG, "plugin '%s' unloaded", p->name);
	}
	release(p);
	p->state = HYPD_PL_OPENED;
}

/* load() every plugin in order. */
int
hypd_set_load(struct hypd_plugin_list *l)
{
	hyp_plugin_t	*p, *next;
	int		 rc, opt;

	TAILQ_FOREACH_SAFE(p, l, entry, next) {
		rc = p->d.load != NULL ? p->d.load(p, p->conf) : 0;
		if (rc == 0) {
			p->state = HYPD_PL_LOADED;
			plugin_event(p->name, "loaded", NULL);
			continue;
		}
		hyp_log(NULL, p->optional ? HYP_LOG_WARNING : HYP_LOG_ERR,
		    "plugin '%s' (%s) refused: load() failed: %s%s", p->name,
		    p->conf_file, hyp_strerror(rc), p->optional ?
		    " (optional: skipped)" : "");
		opt = p->optional;
		plugin_event(p->name, "refused", "load() failed");
		release(p);
		TAILQ_REMOVE(l, p, entry);
		hypd_plugin_close(p);
		if (!opt)
			return (rc < 0 ? rc : HYP_EINVAL);
	}
	return (0);
}

/* start() every loaded plugin in order. */
int
hypd_set_start(struct hypd_plugin_list *l)
{
	hyp_plugin_t	*p, *next;
	int		 rc, opt;

	TAILQ_FOREACH_SAFE(p, l, entry, next) {
		if (p->state != HYPD_PL_LOADED)
			continue;
		rc = p->d.start != NULL ? p->d.start(p) : 0;
		if (rc == 0) {
			p->state = HYPD_PL_STARTED;
			hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' %s started",
			    p->name, p->d.version != NULL ? p->d.version : "");
			plugin_event(p->name, "started", NULL);
			continue;
		}
		hyp_log(NULL, p->optional ? HYP_LOG_WARNING : HYP_LOG_ERR,
		    "plugin '%s' failed to start: %s%s", p->name,
		    hyp_strerror(rc), p->optional ? " (optional: skipped)" : "");
		opt = p->optional;
		unload_one(p);
		TAILQ_REMOVE(l, p, entry);
		hypd_plugin_close(p);
		if (!opt)
			return (rc < 0 ? rc : HYP_EINVAL);
	}
	return (0);
}

/* Whether any plugin of l is still draining. */
static int
any_draining(const struct hypd_plugin_list *l)
{
	const hyp_plugin_t	*p;

	TAILQ_FOREACH(p, l, entry)
		if (p->state == HYPD_PL_STOPPING)
			return (1);
	return (0);
}

/* stop() every started plugin in reverse order. */
int
hypd_set_stop(struct hypd_plugin_list *l, void (*cb)(void))
{
	hyp_plugin_t	*p;
	int		 rc;

	drain_cb = cb;
	TAILQ_FOREACH_REVERSE(p, l, hypd_plugin_list, entry) {
		if (p->state != HYPD_PL_STARTED)
			continue;
		rc = p->d.stop != NULL ? p->d.stop(p) : 0;
		if (rc == HYP_EAGAIN) {
			p->state = HYPD_PL_STOPPING;
			hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' draining",
			    p->name);
			plugin_event(p->name, "draining", NULL);
			continue;
		}
		if (rc != 0)
			hyp_log(NULL, HYP_LOG_WARNING, "plugin '%s': stop() "
			    "failed: %s", p->name, hyp_strerror(rc));
		p->state = HYPD_PL_STOPPED;
		plugin_event(p->name, "stopped", NULL);
	}
	return (!any_draining(l));
}

/* A plugin reports that it has drained. */
void
hyp_plugin_drained(hyp_plugin_t *p)
{
	if (p->state != HYPD_PL_STOPPING)
		return;
	p->state = HYPD_PL_STOPPED;
	hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' drained", p->name);
	plugin_event(p->name, "stopped", "drained");
	if (p->retire_ev != NULL) {
		/* Unload from the loop, not from inside the plugin's code. */
		event_active(p->retire_ev, EV_TIMEOUT, 0);
		return;
	}
	if (hypd != NULL && !any_draining(&hypd->plugins) && drain_cb != NULL)
		drain_cb();
}

/* Unload a removed plugin once drained or when its drain time is up. */
static void
retire_done(evutil_socket_t fd, short what, void *arg)
{
	hyp_plugin_t	*p = arg;

	if (p->state == HYPD_PL_STOPPING)
		hyp_log(NULL, HYP_LOG_WARNING, "plugin '%s' did not drain "
		    "within the drain timeout; unloading it anyway", p->name);
	TAILQ_REMOVE(&retiring, p, entry);
	event_free(p->retire_ev);
	p->retire_ev = NULL;
	unload_one(p);
	hypd_plugin_close(p);
}

/* Let a removed plugin drain in the background, bounded by ms. */
static void
retire(hyp_plugin_t *p, uint32_t ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	if (hypd == NULL || hypd->base == NULL ||
	    (p->retire_ev = evtimer_new(hypd->base, retire_done, p)) == NULL ||
	    evtimer_add(p->retire_ev, &tv) != 0) {
		if (p->retire_ev != NULL)
			event_free(p->retire_ev);
		p->retire_ev = NULL;
		unload_one(p);
		hypd_plugin_close(p);
		return;
	}
	TAILQ_INSERT_TAIL(&retiring, p, entry);
}

/* Unload every removed plugin still draining (at exit). */
void
hypd_set_retire_flush(void)
{
	hyp_plugin_t	*p;

	while ((p = TAILQ_FIRST(&retiring)) != NULL)
		retire_done(-1, 0, p);
}

/* Names of the plugins still draining. */
void
hypd_set_draining(const struct hypd_plugin_list *l, char *buf, size_t len)
{
	const hyp_plugin_t	*p;
	size_t			 off = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(p, l, entry) {
		if (p->state != HYPD_PL_STOPPING || off >= len)
			continue;
		off += snprintf(buf + off, len - off, "%s%s",
		    off > 0 ? ", " : "", p->name);
	}
}

/* unload() every plugin in reverse order and close them. */
void
hypd_set_unload(struct hypd_plugin_list *l)
{
	hyp_plugin_t	*p;

	while ((p = TAILQ_LAST(l, hypd_plugin_list)) != NULL) {
		unload_one(p);
		TAILQ_REMOVE(l, p, entry);
		hypd_plugin_close(p);
	}
}

/* One plugin's part in a reload. */
struct change {
	hyp_plugin_t	*p;		/* existing or newly opened */
	void		*conf;		/* new configuration (changed) */
	int		 kind;		/* CH_* */
	int		 prepared;
	unsigned	 order;
};
#define CH_KEEP		0
#define CH_CHANGED	1
#define CH_ADDED	2

/* Compare two possibly-NULL strings. */
static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	return (strcmp(a, b) != 0);
}

/* Find a plugin by name. */
static hyp_plugin_t *
find_plugin(struct hypd_plugin_list *l, const char *name)
{
	hyp_plugin_t	*p;

	TAILQ_FOREACH(p, l, entry)
		if (strcmp(p->name, name) == 0)
			return (p);
	return (NULL);
}

/* Undo a failed reload: drop prepared state, unload new plugins. */
static void
reload_undo(struct change *ch, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (ch[i].kind == CH_CHANGED) {
			if (ch[i].prepared)
				ch[i].p->d.reload(ch[i].p, ch[i].conf,
				    HYP_RELOAD_ABORT);
			hypd_plugin_conf_free(ch[i].p->d.conf_schema,
			    ch[i].conf);
		} else if (ch[i].kind == CH_ADDED) {
			unload_one(ch[i].p);
			hypd_plugin_close(ch[i].p);
		}
	}
}

/* Validate a new configuration set: what changes, what is added. */
static int
reload_plan(struct hypd_core *core, const struct hypd_core_conf *nc,
    struct hypd_conf_entry *e, size_t n, struct change *ch)
{
	hyp_plugin_t	*p;
	size_t		 i;
	int		 errors = 0, rc;

	for (i = 0; i < n; i++) {
		ch[i].order = i;
		p = find_plugin(&core->plugins, e[i].name);
		if (p == NULL) {
			rc = entry_open(nc, &e[i], &ch[i].p);
			if (rc < 0)
				errors++;
			else if (ch[i].p != NULL)
				ch[i].kind = CH_ADDED;
			continue;
		}
		ch[i].p = p;
		if (p->conf_textlen == e[i].textlen &&
		    memcmp(p->conf_text, e[i].text, e[i].textlen) == 0 &&
		    strcmp(p->conf_file, e[i].file) == 0)
			continue;
		if (conf_load_checked(p, e[i].file, &ch[i].conf) != 0) {
			errors++;
			continue;
		}
		ch[i].kind = CH_CHANGED;
		if (p->d.reload == NULL) {
			hyp_log(NULL, HYP_LOG_ERR, "plugin '%s' cannot reload "
			    "its configuration (%s changed): restart hyproxd "
			    "to apply it", p->name, e[i].file);
			errors++;
		}
	}
	return (errors);
}

/* Apply a validated plan: prepare everything, then commit or undo. */
static int
reload_apply(struct hypd_core *core, struct change *ch, size_t n,
    struct hypd_conf_entry *e, uint32_t drain_ms)
{
	struct hypd_plugin_list	 next, gone;
	hyp_plugin_t		*p, *tmp;
	size_t			 i;
	void			*old;
	int			 rc;

	for (i = 0; i < n; i++) {
		if (ch[i].kind == CH_ADDED) {
			rc = ch[i].p->d.load != NULL ?
			    ch[i].p->d.load(ch[i].p, ch[i].p->conf) : 0;
			if (rc != 0) {
				hyp_log(NULL, HYP_LOG_ERR, "plugin '%s': "
				    "load() failed: %s", ch[i].p->name,
				    hyp_strerror(rc));
				return (rc < 0 ? rc : HYP_EINVAL);
			}
			ch[i].p->state = HYPD_PL_LOADED;
		} else if (ch[i].kind == CH_CHANGED) {
			rc = ch[i].p->d.reload(ch[i].p, ch[i].conf,
			    HYP_RELOAD_PREPARE);
			if (rc != 0) {
				hyp_log(NULL, HYP_LOG_ERR, "plugin '%s' refused "
				    "the new configuration: %s", ch[i].p->name,
				    hyp_strerror(rc));
				return (rc < 0 ? rc : HYP_EINVAL);
			}
			ch[i].prepared = 1;
		}
	}

	/* Commit: nothing below may fail the reload any more. */
	TAILQ_INIT(&next);
	for (i = 0; i < n; i++) {
		p = ch[i].p;
		if (p == NULL)
			continue;
		if (ch[i].kind != CH_ADDED)
			TAILQ_REMOVE(&core->plugins, p, entry);
		TAILQ_INSERT_TAIL(&next, p, entry);
		if (ch[i].kind == CH_CHANGED) {
			p->d.reload(p, ch[i].conf, HYP_RELOAD_COMMIT);
			old = p->conf;
			p->conf = ch[i].conf;
			ch[i].conf = NULL;
			hypd_plugin_conf_free(p->d.conf_schema, old);
			entry_attach(p, &e[i]);
			hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' reloaded",
			    p->name);
			plugin_event(p->name, "reloaded", NULL);
		}
	}
	/* What is left in core->plugins was removed from conf.d. */
	TAILQ_INIT(&gone);
	TAILQ_FOREACH_SAFE(p, &core->plugins, entry, tmp) {
		TAILQ_REMOVE(&core->plugins, p, entry);
		TAILQ_INSERT_TAIL(&gone, p, entry);
	}
	while ((p = TAILQ_LAST(&gone, hypd_plugin_list)) != NULL) {
		TAILQ_REMOVE(&gone, p, entry);
		hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' removed", p->name);
		if (p->state == HYPD_PL_STARTED && p->d.stop != NULL &&
		    p->d.stop(p) == HYP_EAGAIN) {
			p->state = HYPD_PL_STOPPING;
			retire(p, drain_ms);
			continue;
		}
		unload_one(p);
		hypd_plugin_close(p);
	}
	TAILQ_CONCAT(&core->plugins, &next, entry);
	for (i = 0; i < n; i++) {
		if (ch[i].kind != CH_ADDED)
			continue;
		p = ch[i].p;
		rc = p->d.start != NULL ? p->d.start(p) : 0;
		if (rc == 0) {
			p->state = HYPD_PL_STARTED;
			hyp_log(NULL, HYP_LOG_INFO, "plugin '%s' added and "
			    "started", p->name);
			plugin_event(p->name, "started", "added on reload");
			continue;
		}
		hyp_log(NULL, HYP_LOG_ERR, "plugin '%s' failed to start after "
		    "reload: %s; unloading it", p->name, hyp_strerror(rc));
		TAILQ_REMOVE(&core->plugins, p, entry);
		unload_one(p);
		hypd_plugin_close(p);
	}
	return (0);
}

/* Re-read everything and swap all-or-nothing. */
int
hypd_reload(struct hypd_core *core, const char *path,
    const char *conf_dir_override)
{
	struct hypd_core_conf	*nc = NULL;
	struct hypd_conf_entry	*e = NULL;
	struct change		*ch = NULL;
	size_t			 n = 0;
	char			*err = NULL;
	int			 rc;

	hyp_log(NULL, HYP_LOG_NOTICE, "reloading configuration from %s", path);
	rc = hypd_core_conf_load(path, conf_dir_override, &nc, &err);
	if (rc != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    hyp_strerror(rc));
		goto fail;
	}
	if (str_differs(nc->plugin_dir, core->conf->plugin_dir) ||
	    str_differs(nc->pid_file, core->conf->pid_file)) {
		hyp_log(NULL, HYP_LOG_ERR, "%s: plugin_dir and pid_file cannot "
		    "change on reload: restart hyproxd to apply them", path);
		rc = HYP_EINVAL;
		goto fail;
	}
	rc = hypd_confdir_scan(nc->conf_dir, &e, &n, &err);
	if (rc != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    hyp_strerror(rc));
		goto fail;
	}
	if ((ch = calloc(n + 1, sizeof *ch)) == NULL) {
		rc = HYP_ENOMEM;
		goto fail;
	}
	if (reload_plan(core, nc, e, n, ch) != 0) {
		rc = HYP_ECONFIG;
		goto undo;
	}
	if ((rc = hypd_log_configure(nc, &err)) != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    hyp_strerror(rc));
		goto undo;
	}
	if ((rc = reload_apply(core, ch, n, e, nc->drain_timeout_ms)) != 0) {
		hypd_log_configure(core->conf, NULL);
		goto undo;
	}
	hypd_session_set_max(nc->max_sessions);
	hypd_core_conf_free(core->conf);
	core->conf = nc;
	free(ch);
	hypd_confdir_free(e, n);
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	hyp_log(NULL, HYP_LOG_NOTICE, "reload complete");
	return (0);
undo:
	reload_undo(ch, n);
fail:
	free(ch);
	free(err);
	hypd_confdir_free(e, n);
	hypd_core_conf_free(nc);
	hyp_log(NULL, HYP_LOG_ERR, "reload failed; keeping the previous "
	    "configuration");
	return (rc < 0 ? rc : HYP_EINVAL);
}
