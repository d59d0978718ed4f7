/*
 * Unit tests: the plugin loader's checks and the set lifecycle, against the
 * test plugins built in test/plugins/ (some broken on purpose).
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lifecycle.h"

static char	plugdir[4096];
static char	tmpdir[256];
static struct hypd_core	core;

/* Find the directory where libtool put the test plugins. */
static void
setup(void)
{
	const char	*b = getenv("top_builddir");

	snprintf(plugdir, sizeof plugdir, "%s/test/plugins/.libs",
	    b != NULL ? b : ".");
	strcpy(tmpdir, "/tmp/check_loader.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	memset(&core, 0, sizeof core);
	TAILQ_INIT(&core.plugins);
	core.base = event_base_new();
	hypd_event_init(core.base);
	hypd = &core;
}

/* Remove the temporary conf.d. */
static void
teardown(void)
{
	char	cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	event_base_free(core.base);
	hypd = NULL;
}

/* Open one test plugin, expecting rc and a reason containing needle. */
static void
expect_open(const char *name, int rc, const char *needle)
{
	hyp_plugin_t	*p = NULL;
	char		 why[1024] = "";
	int		 got;

	got = hypd_plugin_open(plugdir, name, &p, why, sizeof why);
	ck_assert_msg(got == rc, "%s: rc %d, want %d (%s)", name, got, rc, why);
	if (rc == 0) {
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(hyp_plugin_name(p), name);
		hypd_plugin_close(p);
	} else {
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(why, needle) != NULL, "%s: reason '%s' "
		    "lacks '%s'", name, why, needle);
		ck_assert_msg(strstr(why, name) != NULL, "%s: reason '%s' "
		    "does not name the file", name, why);
	}
}

START_TEST(open_good)
{
	expect_open("good", 0, NULL);
}
END_TEST

START_TEST(open_refusals)
{
	expect_open("badmajor", HYP_EABI, "major differs");
	expect_open("newminor", HYP_EABI, "newer than this hyproxd");
	expect_open("nosym", HYP_EABI, "no 'hyp_plugin' symbol");
	expect_open("wrongname", HYP_EINVAL, "'somethingelse'");
	expect_open("missing", HYP_ENOENT, "No such file");
}
END_TEST

START_TEST(open_not_elf)
{
	char	path[4200];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/garbage.so", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("not an ELF file\n", fp);
	fclose(fp);
	strcpy(plugdir, tmpdir);
	expect_open("garbage", HYP_EINVAL, "cannot load");
}
END_TEST

/* Write tmpdir/name with text. */
static void
put(const char *name, const char *text)
{
	char	path[4200];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* A core configuration pointing at tmpdir and the test plugins. */
static struct hypd_core_conf *
core_conf(const char *optional)
{
	struct hypd_core_conf	*c;

	c = calloc(1, sizeof *c);
	c->plugin_dir = strdup(plugdir);
	c->conf_dir = strdup(tmpdir);
	c->drain_timeout_ms = 1000;
	if (optional != NULL) {
		c->optional = calloc(1, sizeof *c->optional);
		c->optional[0] = strdup(optional);
		c->optional_count = 1;
	}
	return (c);
}

/* Free what core_conf() built. */
static void
core_conf_free(struct hypd_core_conf *c)
{
	if (c->optional_count)
		free(c->optional[0]);
	free(c->optional);
	free(c->plugin_dir);
	free(c->conf_dir);
	free(c);
}

START_TEST(set_lifecycle)
{
	struct hypd_core_conf	*c = core_conf(NULL);
	hyp_plugin_t		*p;

	put("10-good.yaml", "message: hi\n");
	put("20-slowstop.yaml", "drain_ms: 10\n");
	put("README", "ignored\n");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	p = TAILQ_FIRST(&core.plugins);
	ck_assert_str_eq(p->name, "good");
	ck_assert_str_eq(TAILQ_NEXT(p, entry)->name, "slowstop");
	ck_assert_int_eq(hypd_set_load(&core.plugins), 0);
	ck_assert_int_eq(hypd_set_start(&core.plugins), 0);
	ck_assert_int_eq(p->state, HYPD_PL_STARTED);
	/* slowstop drains in the background: not all drained at once. */
	ck_assert_int_eq(hypd_set_stop(&core.plugins, NULL), 0);
	ck_assert_int_eq(TAILQ_NEXT(p, entry)->state, HYPD_PL_STOPPING);
	event_base_dispatch(core.base);
	ck_assert_int_eq(TAILQ_NEXT(p, entry)->state, HYPD_PL_STOPPED);
	hypd_set_unload(&core.plugins);
	ck_assert(TAILQ_EMPTY(&core.plugins));
	core_conf_free(c);
}
END_TEST

START_TEST(set_refusal_fatal)
{
	struct hypd_core_conf	*c = core_conf(NULL);

	put("10-good.yaml", "");
	put("20-badmajor.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 1);
	hypd_set_unload(&core.plugins);
	core_conf_free(c);
}
END_TEST

START_TEST(set_refusal_optional)
{
	struct hypd_core_conf	*c = core_conf("badmajor");

	put("10-good.yaml", "");
	put("20-badmajor.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_str_eq(TAILQ_FIRST(&core.plugins)->name, "good");
	ck_assert_ptr_null(TAILQ_NEXT(TAILQ_FIRST(&core.plugins), entry));
	hypd_set_unload(&core.plugins);
	core_conf_free(c);
}
END_TEST

START_TEST(set_loadfail)
{
	struct hypd_core_conf	*c = core_conf(NULL);

	put("10-good.yaml", "");
	put("20-loadfail.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_int_ne(hypd_set_load(&core.plugins), 0);
	hypd_set_unload(&core.plugins);
	core_conf_free(c);

	c = core_conf("loadfail");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_int_eq(hypd_set_load(&core.plugins), 0);
	ck_assert_str_eq(TAILQ_LAST(&core.plugins, hypd_plugin_list)->name,
	    "good");
	hypd_set_unload(&core.plugins);
	core_conf_free(c);
}
END_TEST

START_TEST(set_conf_errors)
{
	struct hypd_core_conf	*c = core_conf(NULL);

	put("10-good.yaml", "colour: blue\n");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 1);
	put("10-good.yaml", "tick_ms: 5\n");	/* conf_check refuses */
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 1);
	put("10-good.yaml", "tick_ms: 50\n");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	hypd_set_unload(&core.plugins);
	core_conf_free(c);
}
END_TEST

/* Plugin-state events seen by a core hook handler. */
static char	events[1024];

/* Record "plugin:state " for each HYP_HOOK_PLUGIN_STATE event. */
static enum hyp_hook_rc
record_event(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	const struct hyp_plugin_event	*ev = arg;
	size_t				 n = strlen(events);

	snprintf(events + n, sizeof events - n, "%s:%s ", ev->plugin,
	    ev->state);
	return (HYP_CONTINUE);
}

START_TEST(plugin_state_events)
{
	struct hypd_core_conf	*c = core_conf(NULL);

	events[0] = '\0';
	ck_assert_int_eq(hyp_hook_register(NULL, HYP_HOOK_PLUGIN_STATE, 0,
	    record_event, NULL), 0);
	put("10-good.yaml", "");
	put("20-badmajor.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 1);
	ck_assert_str_eq(events, "badmajor:refused ");
	hypd_set_unload(&core.plugins);
	unlink(strcat(strcpy((char [300]){0}, tmpdir), "/20-badmajor.yaml"));
	events[0] = '\0';
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_int_eq(hypd_set_load(&core.plugins), 0);
	ck_assert_int_eq(hypd_set_start(&core.plugins), 0);
	ck_assert_int_eq(hypd_set_stop(&core.plugins, NULL), 1);
	hypd_set_unload(&core.plugins);
	ck_assert_str_eq(events, "good:loaded good:started good:stopped "
	    "good:unloaded ");
	core_conf_free(c);
}
END_TEST

/* A readiness check whose result the test sets. */
static int
fake_ready(void *arg, char *why, size_t len)
{
	if (*(int *)arg)
		return (1);
	snprintf(why, len, "no listener bound");
	return (0);
}

/* Collect readiness reports. */
static void
ready_report(void *arg, const char *plugin, const char *name, int ok,
    const char *why)
{
	char	*buf = arg;
	size_t	 n = strlen(buf);

	snprintf(buf + n, 512 - n, "%s/%s=%d(%s) ", plugin, name, ok, why);
}

START_TEST(readiness)
{
	struct hypd_core_conf	*c = core_conf(NULL);
	hyp_plugin_t		*p;
	char			 buf[512] = "";
	int			 flag = 0;

	put("10-good.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_int_eq(hypd_set_load(&core.plugins), 0);
	/* Loaded but not started: not ready. */
	ck_assert_int_eq(hyp_ready_evaluate(NULL, NULL), 0);
	ck_assert_int_eq(hypd_set_start(&core.plugins), 0);
	ck_assert_int_eq(hyp_ready_evaluate(NULL, NULL), 1);
	p = TAILQ_FIRST(&core.plugins);
	ck_assert_int_eq(hyp_ready_register(p, "listener", fake_ready, &flag),
	    0);
	ck_assert_int_eq(hyp_ready_register(p, "", fake_ready, &flag),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_ready_evaluate(ready_report, buf), 0);
	ck_assert_str_eq(buf, "good/started=1() "
	    "good/listener=0(no listener bound) ");
	flag = 1;
	ck_assert_int_eq(hyp_ready_evaluate(NULL, NULL), 1);
	flag = 0;
	/* The check goes away with its plugin. */
	hypd_set_stop(&core.plugins, NULL);
	hypd_set_unload(&core.plugins);
	ck_assert_int_eq(hyp_ready_evaluate(NULL, NULL), 1);
	core_conf_free(c);
}
END_TEST

/* Count pre-render calls. */
static void
count_render(void *arg)
{
	(*(int *)arg)++;
}

START_TEST(metrics_prerender)
{
	struct hypd_core_conf	*c = core_conf(NULL);
	hyp_plugin_t		*p;
	char			*out;
	int			 n = 0;

	put("10-good.yaml", "");
	ck_assert_int_eq(hypd_set_open(c, &core.plugins), 0);
	ck_assert_int_eq(hypd_set_load(&core.plugins), 0);
	p = TAILQ_FIRST(&core.plugins);
	ck_assert_int_eq(hyp_metrics_on_render(p, count_render, &n), 0);
	ck_assert_int_eq(hyp_metrics_on_render(p, NULL, &n), HYP_EINVAL);
	ck_assert_int_eq(hyp_metrics_render(&out, NULL), 0);
	free(out);
	ck_assert_int_eq(n, 1);
	hypd_set_unload(&core.plugins);
	ck_assert_int_eq(hyp_metrics_render(&out, NULL), 0);
	free(out);
	ck_assert_int_eq(n, 1);
	core_conf_free(c);
}
END_TEST

/* The suite. */
static Suite *
loader_suite(void)
{
	Suite	*s = suite_create("loader");
	TCase	*tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_good);
	tcase_add_test(tc, open_refusals);
	tcase_add_test(tc, open_not_elf);
	tcase_add_test(tc, set_lifecycle);
	tcase_add_test(tc, set_refusal_fatal);
	tcase_add_test(tc, set_refusal_optional);
	tcase_add_test(tc, set_loadfail);
	tcase_add_test(tc, set_conf_errors);
	tcase_add_test(tc, plugin_state_events);
	tcase_add_test(tc, readiness);
	tcase_add_test(tc, metrics_prerender);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(loader_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
