/*
 * Unit tests of daemon/config.c: the core file, conf.d, plugin files and
 * the printed effective configuration.  Each test runs in a fresh
 * temporary directory (the working directory), so file names in error
 * messages are short and exact.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* nftw */
#endif
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <yaml.h>

#include "hyproxd.h"

static char	tmpdir[PATH_MAX];
static char	cwd[PATH_MAX];
static char	srcdir[PATH_MAX];	/* $top_srcdir, else where we started */

/* Make and enter a private directory. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/check_config.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
}

/* Remove one file or directory of the private tree. */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

/* Leave and remove the private directory. */
static void
teardown(void)
{
	if (chdir("/") == 0)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file (creating its directory) with the given text. */
static void
wfile(const char *path, const char *text)
{
	char	 dir[PATH_MAX], *slash;
	FILE	*fp;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Load text as hyproxd.yaml and expect failure; returns the message. */
static char *
core_err(const char *text)
{
	struct hypd_core_conf	*c = NULL;
	char			*err = NULL;
	int			 rc;

	wfile("hyproxd.yaml", text);
	rc = hypd_core_conf_load("hyproxd.yaml", NULL, &c, &err);
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(strchr(err, '\n'));
	return (err);
}

/* Expect text as hyproxd.yaml to fail with exactly msg. */
static void
core_err_is(const char *text, const char *msg)
{
	char	*err = core_err(text);

	ck_assert_str_eq(err, msg);
	free(err);
}

/* Load text as hyproxd.yaml and expect success. */
static struct hypd_core_conf *
core_ok(const char *text)
{
	struct hypd_core_conf	*c = NULL;
	char			*err = NULL;
	int			 rc;

	wfile("hyproxd.yaml", text);
	rc = hypd_core_conf_load("hyproxd.yaml", NULL, &c, &err);
	if (rc != 0)
		ck_abort_msg("load failed: %s", err != NULL ? err : "?");
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(c);
	return (c);
}

/* Check every default value of a core configuration. */
static void
assert_defaults(const struct hypd_core_conf *c)
{
	char	buf[PATH_MAX + 16];

	ck_assert_str_eq(c->plugin_dir, HYP_PLUGINDIR);
	snprintf(buf, sizeof buf, "%s/conf.d", cwd);
	ck_assert_str_eq(c->conf_dir, buf);
	ck_assert_int_eq(c->log.level, HYP_LOG_INFO);
	ck_assert_int_eq(c->log.format, HYPD_LOG_TEXT);
	ck_assert_int_eq(c->log.output, HYPD_LOG_STDERR);
	ck_assert_ptr_null(c->log.file);
	ck_assert_str_eq(c->log.ident, "hyproxd");
	ck_assert_int_eq(c->log.facility, LOG_DAEMON);
	ck_assert_uint_eq(c->drain_timeout_ms, 10000);
	ck_assert_ptr_null(c->pid_file);
	ck_assert_uint_eq(c->optional_count, 0);
	ck_assert_uint_eq(c->max_sessions, 100000);
	snprintf(buf, sizeof buf, "%s/hyproxd.yaml", cwd);
	ck_assert_str_eq(c->path, buf);
	ck_assert_str_eq(c->dir, cwd);
}

/* ---- the core file ---- */

START_TEST(test_core_defaults)
{
	static const char	*const texts[] = {
		"", "# only a comment\n\n", "{}\n", "~\n", "log: ~\n",
		"log: {}\noptional_plugins: ~\npid_file:\n",
	};
	struct hypd_core_conf	*c;
	size_t			 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		c = core_ok(texts[i]);
		assert_defaults(c);
		hypd_core_conf_free(c);
	}
	hypd_core_conf_free(NULL);
}
END_TEST

START_TEST(test_core_every_key)
{
	struct hypd_core_conf	*c;
	char			 buf[PATH_MAX + 32];

	c = core_ok(
	    "plugin_dir: plugins\n"
	    "conf_dir: /etc/hyprox/./x/../conf.d/\n"
	    "log:\n"
	    "  level: debug\n"
	    "  format: json\n"
	    "  output: file\n"
	    "  file: log/hyproxd.log\n"
	    "  ident: edge\n"
	    "  facility: local3\n"
	    "drain_timeout: 2m\n"
	    "pid_file: run/hyproxd.pid\n"
	    "optional_plugins: [metrics, tracer, registry-http]\n"
	    "max_sessions: 2500\n");
	snprintf(buf, sizeof buf, "%s/plugins", cwd);
	ck_assert_str_eq(c->plugin_dir, buf);
	ck_assert_str_eq(c->conf_dir, "/etc/hyprox/conf.d");
	ck_assert_int_eq(c->log.level, HYP_LOG_DEBUG);
	ck_assert_int_eq(c->log.format, HYPD_LOG_JSON);
	ck_assert_int_eq(c->log.output, HYPD_LOG_FILE);
	snprintf(buf, sizeof buf, "%s/log/hyproxd.log", cwd);
	ck_assert_str_eq(c->log.file, buf);
	ck_assert_str_eq(c->log.ident, "edge");
	ck_assert_int_eq(c->log.facility, LOG_LOCAL3);
	ck_assert_uint_eq(c->drain_timeout_ms, 120000);
	snprintf(buf, sizeof buf, "%s/run/hyproxd.pid", cwd);
	ck_assert_str_eq(c->pid_file, buf);
	ck_assert_uint_eq(c->optional_count, 3);
	ck_assert_str_eq(c->optional[0], "metrics");
	ck_assert_str_eq(c->optional[1], "tracer");
	ck_assert_str_eq(c->optional[2], "registry-http");
	ck_assert_uint_eq(c->max_sessions, 2500);
	hypd_core_conf_free(c);

	c = core_ok("log:\n  level: err\n  output: syslog\n"
	    "  facility: user\nmax_sessions: 10000000\n");
	ck_assert_int_eq(c->log.level, HYP_LOG_ERR);
	ck_assert_int_eq(c->log.output, HYPD_LOG_SYSLOG);
	ck_assert_int_eq(c->log.facility, LOG_USER);
	ck_assert_uint_eq(c->max_sessions, 10000000);
	hypd_core_conf_free(c);
}
END_TEST

START_TEST(test_core_paths_relative_to_file)
{
	struct hypd_core_conf	*c = NULL;
	char			*err = NULL, buf[PATH_MAX + 32];

	wfile("etc/hyproxd.yaml", "pid_file: ../run/h.pid\n");
	ck_assert_int_eq(hypd_core_conf_load("etc/hyproxd.yaml", NULL, &c,
	    &err), 0);
	snprintf(buf, sizeof buf, "%s/etc", cwd);
	ck_assert_str_eq(c->dir, buf);
	snprintf(buf, sizeof buf, "%s/etc/conf.d", cwd);
	ck_assert_str_eq(c->conf_dir, buf);
	snprintf(buf, sizeof buf, "%s/run/h.pid", cwd);
	ck_assert_str_eq(c->pid_file, buf);
	hypd_core_conf_free(c);

	/* The override wins and is relative to the working directory. */
	wfile("etc/hyproxd.yaml", "conf_dir: elsewhere\n");
	ck_assert_int_eq(hypd_core_conf_load("etc/hyproxd.yaml", "mine.d",
	    &c, &err), 0);
	snprintf(buf, sizeof buf, "%s/mine.d", cwd);
	ck_assert_str_eq(c->conf_dir, buf);
	hypd_core_conf_free(c);
}
END_TEST

START_TEST(test_core_durations)
{
	static const struct {
		const char	*text;
		uint32_t	 ms;
	} good[] = {
		{ "10", 10000 }, { "0", 0 }, { "500ms", 500 }, { "10s", 10000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "3600", 3600000 },
		{ "3600000ms", 3600000 }, { "0ms", 0 }, { "'7'", 7000 },
	};
	static const char	*const bad[] = {
		"10x", "-1", "1.5s", "s", "ms10", "10 s", "1e3", "0x10",
	};
	static const char	*const range[] = {
		"3601", "3601s", "61m", "2h", "3600001ms", "99999999999999999999",
	};
	struct hypd_core_conf	*c;
	char			 text[128], msg[256], *err;
	size_t			 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "drain_timeout: %s\n", good[i].text);
		c = core_ok(text);
		ck_assert_msg(c->drain_timeout_ms == good[i].ms, "%s: %u",
		    good[i].text, c->drain_timeout_ms);
		hypd_core_conf_free(c);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "drain_timeout: %s\n", bad[i]);
		snprintf(msg, sizeof msg, "hyproxd.yaml:1:16: drain_timeout: "
		    "invalid duration '%s' (expected e.g. 10s, 500ms, 2m or a "
		    "number of seconds)", bad[i]);
		core_err_is(text, msg);
	}
	for (i = 0; i < sizeof range / sizeof range[0]; i++) {
		snprintf(text, sizeof text, "# x\ndrain_timeout: %s\n",
		    range[i]);
		snprintf(msg, sizeof msg, "hyproxd.yaml:2:16: drain_timeout: "
		    "value '%s' out of range (0s..3600s)", range[i]);
		err = core_err(text);
		ck_assert_str_eq(err, msg);
		free(err);
	}
}
END_TEST

START_TEST(test_core_unknown_keys)
{
	core_err_is("# hyproxd\n\nlog:\n  level: info\ncolour: red\n",
	    "hyproxd.yaml:5:1: unknown key 'colour'");
	core_err_is("colour: red\n", "hyproxd.yaml:1:1: unknown key 'colour'");
	core_err_is("log:\n  level: info\n  colour: red\n",
	    "hyproxd.yaml:3:3: unknown key 'log.colour'");
	core_err_is("log:\n  colour: red\n",
	    "hyproxd.yaml:2:3: unknown key 'log.colour'");
	core_err_is("log: {level: info, colour: red}\n",
	    "hyproxd.yaml:1:20: unknown key 'log.colour'");
	core_err_is("log:\n  level: info\n  level: debug\n",
	    "hyproxd.yaml:3:3: duplicate key 'log.level'");
}
END_TEST

START_TEST(test_core_enums)
{
	core_err_is("# c\nlog:\n level: verbose\n",
	    "hyproxd.yaml:3:9: log.level: unknown value 'verbose' (expected "
	    "err, warning, notice, info, debug)");
	core_err_is("log:\n  format: xml\n",
	    "hyproxd.yaml:2:11: log.format: unknown value 'xml' (expected "
	    "text, json)");
	core_err_is("log:\n  output: journald\n",
	    "hyproxd.yaml:2:11: log.output: unknown value 'journald' "
	    "(expected stderr, file, syslog)");
	core_err_is("log:\n  facility: local8\n",
	    "hyproxd.yaml:2:13: log.facility: unknown value 'local8' "
	    "(expected daemon, user, local0, local1, local2, local3, local4, "
	    "local5, local6, local7)");
	core_err_is("log:\n  level: INFO\n",
	    "hyproxd.yaml:2:10: log.level: unknown value 'INFO' (expected "
	    "err, warning, notice, info, debug)");
}
END_TEST

START_TEST(test_core_ranges)
{
	core_err_is("max_sessions: 0\n", "hyproxd.yaml:1:15: max_sessions: "
	    "value '0' out of range (expected an integer in 1..10000000)");
	core_err_is("max_sessions: 10000001\n", "hyproxd.yaml:1:15: "
	    "max_sessions: value '10000001' out of range (expected an "
	    "integer in 1..10000000)");
	core_err_is("max_sessions: -3\n", "hyproxd.yaml:1:15: max_sessions: "
	    "invalid value '-3' (expected an integer in 1..10000000)");
	core_err_is("max_sessions: lots\n", "hyproxd.yaml:1:15: max_sessions: "
	    "invalid value 'lots' (expected an integer in 1..10000000)");
	core_err_is("log:\n  ident: "
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm\n",
	    "hyproxd.yaml:2:10: log.ident: must be 1 to 64 characters");
}
END_TEST

START_TEST(test_core_empty_values)
{
	struct hypd_core_conf	*c;

	/* An empty or null value means "unset": the default applies. */
	c = core_ok("plugin_dir: ''\nconf_dir: ~\nlog:\n  ident: \"\"\n"
	    "  level: null\ndrain_timeout:\nmax_sessions:\n");
	assert_defaults(c);
	hypd_core_conf_free(c);
}
END_TEST

START_TEST(test_core_types)
{
	core_err_is("log: 5\n",
	    "hyproxd.yaml:1:6: log: expected a mapping, got a scalar");
	core_err_is("log:\n  level: [info]\n",
	    "hyproxd.yaml:2:10: log.level: expected a scalar, got a sequence");
	core_err_is("- a\n- b\n",
	    "hyproxd.yaml:1:1: expected a mapping, got a sequence");
	core_err_is("just text\n",
	    "hyproxd.yaml:1:1: expected a mapping, got a scalar");
	core_err_is("optional_plugins: metrics\n", "hyproxd.yaml:1:19: "
	    "optional_plugins: expected a sequence, got a scalar");
	core_err_is("optional_plugins:\n  - metrics\n  - {x: 1}\n",
	    "hyproxd.yaml:3:5: optional_plugins[1]: expected a scalar, got a "
	    "mapping");
}
END_TEST

START_TEST(test_core_optional_plugins)
{
	char	text[2048];
	size_t	len, i;

	core_err_is("optional_plugins: [metrics, Tracer]\n",
	    "hyproxd.yaml:1:29: optional_plugins[1]: invalid plugin name "
	    "'Tracer'");
	core_err_is("optional_plugins:\n  - metrics\n  - metrics\n",
	    "hyproxd.yaml:3:5: optional_plugins[1]: plugin 'metrics' listed "
	    "twice");
	len = (size_t)snprintf(text, sizeof text, "optional_plugins:\n");
	for (i = 0; i < 65; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
		    "  - p%zu\n", i);
	/* Entry 64 (the 65th) is on line 66. */
	core_err_is(text, "hyproxd.yaml:66:5: optional_plugins: too many "
	    "entries (at most 64)");
}
END_TEST

START_TEST(test_core_log_file_required)
{
	core_err_is("log:\n  level: info\n  output: file\n",
	    "hyproxd.yaml:3:11: log.file: required when log.output is file");
}
END_TEST

START_TEST(test_core_syntax)
{
	core_err_is("log:\n  level: info\n bad: [x\n",
	    "hyproxd.yaml:3:2: invalid YAML: did not find expected key (while "
	    "parsing a block mapping)");
	core_err_is("log: [a\nx: 1\n",
	    "hyproxd.yaml:2:2: invalid YAML: did not find expected ',' or ']' "
	    "(while parsing a flow sequence)");
	core_err_is("\tlog: x\n",
	    "hyproxd.yaml:1:1: invalid YAML: found character that cannot start "
	    "any token (while scanning for the next token)");
	core_err_is("pid_file: \"x\n",
	    "hyproxd.yaml:2:1: invalid YAML: found unexpected end of stream "
	    "(while scanning a quoted scalar)");
	core_err_is("log: {}\n---\nlog: {}\n",
	    "hyproxd.yaml:2:1: more than one YAML document");
	core_err_is("log: *nowhere\n",
	    "hyproxd.yaml:1:6: log: unknown alias 'nowhere'");
}
END_TEST

START_TEST(test_core_missing_file)
{
	struct hypd_core_conf	*c = NULL;
	char			*err = NULL;

	ck_assert_int_eq(hypd_core_conf_load("nope.yaml", NULL, &c, &err),
	    -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "nope.yaml: cannot open: No such file or "
	    "directory");
	free(err);
	mkdir("adir", 0755);
	ck_assert_int_lt(hypd_core_conf_load("adir", NULL, &c, &err), 0);
	ck_assert_str_eq(err, "adir: cannot open: Is a directory");
	free(err);
}
END_TEST

START_TEST(test_core_shipped)
{
	struct hypd_core_conf	*c = NULL;
	char			 path[PATH_MAX + 32], *err = NULL;

	snprintf(path, sizeof path, "%s/conf/hyproxd.yaml", srcdir);
	if (getenv("top_srcdir") == NULL && access(path, R_OK) != 0)
		return;	/* run by hand outside the tree */
	if (hypd_core_conf_load(path, NULL, &c, &err) != 0)
		ck_abort_msg("%s", err);
	ck_assert_str_eq(c->plugin_dir, HYP_PLUGINDIR);
	ck_assert_int_eq(c->log.level, HYP_LOG_INFO);
	ck_assert_int_eq(c->log.format, HYPD_LOG_TEXT);
	ck_assert_int_eq(c->log.output, HYPD_LOG_STDERR);
	ck_assert_uint_eq(c->drain_timeout_ms, 10000);
	ck_assert_ptr_null(c->pid_file);
	ck_assert_uint_eq(c->max_sessions, 100000);
	hypd_core_conf_free(c);
}
END_TEST

START_TEST(test_locate)
{
	unsigned	line = 0, col = 0;

	wfile("x.yaml", "# c\na:\n  b:\n    - 1\n    - {c: 2}\n");
	ck_assert_int_eq(hypd_conf_locate("x.yaml", "a.b[1].c", &line, &col),
	    0);
	ck_assert_uint_eq(line, 5);
	ck_assert_uint_eq(col, 11);
	ck_assert_int_eq(hypd_conf_locate("x.yaml", "a.b", &line, &col), 0);
	ck_assert_uint_eq(line, 4);
	ck_assert_uint_eq(col, 5);
	ck_assert_int_eq(hypd_conf_locate("x.yaml", "a.z", &line, &col),
	    HYP_ENOENT);
	ck_assert_int_eq(hypd_conf_locate("none.yaml", "a", &line, &col),
	    -ENOENT);
}
END_TEST

/* ---- conf.d ---- */

START_TEST(test_confdir_order)
{
	struct hypd_conf_entry	*e;
	size_t			 n;
	char			*err = NULL, buf[PATH_MAX + 32];

	wfile("conf.d/20-b.yaml", "b: 1\n");
	wfile("conf.d/10-z.yaml", "z\n");
	wfile("conf.d/10-a.yaml", "");
	wfile("conf.d/05-x_y-1.yaml", "x: 2\n");
	wfile("conf.d/99-9.yaml", "");
	ck_assert_int_eq(hypd_confdir_scan("conf.d", &e, &n, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(e[0].name, "x_y-1");
	ck_assert_uint_eq(e[0].order, 5);
	ck_assert_str_eq(e[1].name, "a");
	ck_assert_uint_eq(e[1].order, 10);
	ck_assert_str_eq(e[2].name, "z");
	ck_assert_str_eq(e[3].name, "b");
	ck_assert_uint_eq(e[3].order, 20);
	ck_assert_str_eq(e[4].name, "9");
	ck_assert_uint_eq(e[4].order, 99);
	snprintf(buf, sizeof buf, "%s/conf.d/20-b.yaml", cwd);
	ck_assert_str_eq(e[3].file, buf);
	snprintf(buf, sizeof buf, "%s/conf.d", cwd);
	ck_assert_str_eq(e[3].dir, buf);
	ck_assert_uint_eq(e[3].textlen, 5);
	ck_assert_int_eq(memcmp(e[3].text, "b: 1\n", 5), 0);
	ck_assert_uint_eq(e[1].textlen, 0);
	hypd_confdir_free(e, n);
}
END_TEST

START_TEST(test_confdir_ignored)
{
	static const char	*const names[] = {
		"README", "10-a.yaml.disabled", "10-a.yaml~", ".10-a.yaml.swp",
		"1-a.yaml", "10-A.yaml", "10-.yaml", "100-a.yaml", "10_a.yaml",
		"10-a.yml", "10-_a.yaml", "1a-a.yaml", "10-a.b.yaml",
		"10-abcdefghijklmnopqrstuvwxyz0123456.yaml", "#10-a.yaml#",
	};
	struct hypd_conf_entry	*e;
	size_t			 n, i;
	char			 path[PATH_MAX], *err = NULL;

	mkdir("conf.d", 0755);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "conf.d/%s", names[i]);
		wfile(path, "x: 1\n");
	}
	wfile("conf.d/10-abcdefghijklmnopqrstuvwxyz012345.yaml", "");
	ck_assert_int_eq(hypd_confdir_scan("conf.d", &e, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0].name, "abcdefghijklmnopqrstuvwxyz012345");
	hypd_confdir_free(e, n);

	/* An empty directory is fine. */
	mkdir("empty.d", 0755);
	ck_assert_int_eq(hypd_confdir_scan("empty.d", &e, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	hypd_confdir_free(e, n);
}
END_TEST

START_TEST(test_confdir_errors)
{
	struct hypd_conf_entry	*e = NULL;
	size_t			 n = 7;
	char			*err = NULL, msg[3 * PATH_MAX], *big;
	FILE			*fp;

	ck_assert_int_eq(hypd_confdir_scan("missing.d", &e, &n, &err),
	    -ENOENT);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err, "missing.d: cannot open: No such file or "
	    "directory");
	free(err);

	wfile("dup.d/10-router.yaml", "");
	wfile("dup.d/50-router.yaml", "");
	wfile("dup.d/20-other.yaml", "");
	ck_assert_int_eq(hypd_confdir_scan("dup.d", &e, &n, &err), HYP_EEXIST);
	ck_assert_ptr_null(e);
	snprintf(msg, sizeof msg, "%s/dup.d/10-router.yaml and "
	    "%s/dup.d/50-router.yaml both configure plugin 'router'", cwd, cwd);
	ck_assert_str_eq(err, msg);
	free(err);

	/* A FIFO (or anything not a regular file) is refused, not read. */
	mkdir("fifo.d", 0755);
	ck_assert_int_eq(mkfifo("fifo.d/10-f.yaml", 0644), 0);
	ck_assert_int_eq(hypd_confdir_scan("fifo.d", &e, &n, &err),
	    HYP_EINVAL);
	snprintf(msg, sizeof msg, "%s/fifo.d/10-f.yaml: cannot open: not a "
	    "regular file", cwd);
	ck_assert_str_eq(err, msg);
	free(err);

	/* Exactly 1 MiB is accepted, one byte more is not. */
	big = malloc(1024 * 1024 + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', 1024 * 1024 + 1);
	mkdir("big.d", 0755);
	fp = fopen("big.d/10-big.yaml", "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(big, 1, 1024 * 1024, fp), 1024 * 1024);
	fclose(fp);
	ck_assert_int_eq(hypd_confdir_scan("big.d", &e, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(e[0].textlen, 1024 * 1024);
	hypd_confdir_free(e, n);
	fp = fopen("big.d/10-big.yaml", "a");
	fputc('#', fp);
	fclose(fp);
	free(big);
	ck_assert_int_eq(hypd_confdir_scan("big.d", &e, &n, &err), HYP_ETOOBIG);
	snprintf(msg, sizeof msg, "%s/big.d/10-big.yaml: too large (1048577 "
	    "bytes, at most 1048576)", cwd);
	ck_assert_str_eq(err, msg);
	free(err);
}
END_TEST

/* ---- plugin files ---- */

struct t_pool {
	char		*name;
	unsigned	 weight;
};

struct t_auth {
	char	*user;
	char	*password;
};

enum t_mode { T_REDIRECT, T_FULL };

struct t_conf {
	char		*listen;
	uint16_t	 port;
	enum t_mode	 mode;
	char		**hosts;
	unsigned	 hosts_count;
	struct t_pool	*pools;
	unsigned	 pools_count;
	struct t_auth	*auth;
	char		*secret_key;
	char		**fallback_token;
	unsigned	 fallback_token_count;
};

static const cyaml_strval_t t_modes[] = {
	{ "redirect", T_REDIRECT },
	{ "full", T_FULL },
};

static const cyaml_schema_value_t t_str = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t t_pool_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct t_pool, name,
	    1, 32),
	CYAML_FIELD_UINT("weight", CYAML_FLAG_OPTIONAL, struct t_pool, weight),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t t_pool = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct t_pool, t_pool_fields),
};

static const cyaml_schema_field_t t_auth_fields[] = {
	CYAML_FIELD_STRING_PTR("user", CYAML_FLAG_OPTIONAL, struct t_auth,
	    user, 0, CYAML_UNLIMITED),
	CYAML_FIELD_STRING_PTR("password", CYAML_FLAG_OPTIONAL, struct t_auth,
	    password, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t t_fields[] = {
	CYAML_FIELD_STRING_PTR("listen", CYAML_FLAG_OPTIONAL, struct t_conf,
	    listen, 0, CYAML_UNLIMITED),
	CYAML_FIELD_UINT("port", CYAML_FLAG_OPTIONAL, struct t_conf, port),
	CYAML_FIELD_ENUM("mode", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
	    struct t_conf, mode, t_modes, 2),
	CYAML_FIELD_SEQUENCE("hosts", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct t_conf, hosts, &t_str, 0, 3),
	CYAML_FIELD_SEQUENCE("pools", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct t_conf, pools, &t_pool, 0, 8),
	CYAML_FIELD_MAPPING_PTR("auth", CYAML_FLAG_OPTIONAL, struct t_conf,
	    auth, t_auth_fields),
	CYAML_FIELD_STRING_PTR("secret_key", CYAML_FLAG_OPTIONAL, struct t_conf,
	    secret_key, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("fallback_token",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct t_conf,
	    fallback_token, &t_str, 0, 4),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t t_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct t_conf, t_fields),
};

static const char t_full[] =
    "# test plugin\n"
    "listen: 0.0.0.0\n"
    "port: 5520\n"
    "mode: full\n"
    "hosts: [a.example, b.example]\n"
    "pools:\n"
    "  - name: lobby\n"
    "    weight: 3\n"
    "  - name: survival\n"
    "auth:\n"
    "  user: admin\n"
    "  password: hunter2-PASSWORD\n"
    "secret_key: s3cr3t-KEY-value\n"
    "fallback_token:\n"
    "  - tok-ONE-aaaa\n"
    "  - tok-TWO-bbbb\n";

/* Load a plugin file and expect failure with exactly msg. */
static void
plugin_err_is(const cyaml_schema_value_t *schema, const char *text,
    const char *msg)
{
	void	*conf = (void *)1;
	char	*err = NULL;

	wfile("conf.d/10-t.yaml", text);
	if (hypd_plugin_conf_load("conf.d/10-t.yaml", schema, &conf,
	    &err) == 0)
		ck_abort_msg("plugin load of \"%s\" succeeded", text);
	ck_assert_ptr_null(conf);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, msg);
	free(err);
}

/* Load a plugin file and expect success. */
static void *
plugin_ok(const cyaml_schema_value_t *schema, const char *text)
{
	void	*conf = (void *)1;
	char	*err = NULL;

	wfile("conf.d/10-t.yaml", text);
	if (hypd_plugin_conf_load("conf.d/10-t.yaml", schema, &conf,
	    &err) != 0)
		ck_abort_msg("plugin load failed: %s", err);
	ck_assert_ptr_null(err);
	return (conf);
}

START_TEST(test_plugin_load)
{
	struct t_conf	*c;

	c = plugin_ok(&t_schema, t_full);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->listen, "0.0.0.0");
	ck_assert_uint_eq(c->port, 5520);
	ck_assert_int_eq(c->mode, T_FULL);
	ck_assert_uint_eq(c->hosts_count, 2);
	ck_assert_str_eq(c->hosts[1], "b.example");
	ck_assert_uint_eq(c->pools_count, 2);
	ck_assert_str_eq(c->pools[0].name, "lobby");
	ck_assert_uint_eq(c->pools[0].weight, 3);
	ck_assert_str_eq(c->pools[1].name, "survival");
	ck_assert_uint_eq(c->pools[1].weight, 0);
	ck_assert_str_eq(c->auth->password, "hunter2-PASSWORD");
	ck_assert_str_eq(c->secret_key, "s3cr3t-KEY-value");
	ck_assert_uint_eq(c->fallback_token_count, 2);
	hypd_plugin_conf_free(&t_schema, c);

	c = plugin_ok(&t_schema, "port: 0x1F\npools: [{name: a, weight: 0}]\n");
	ck_assert_uint_eq(c->port, 31);
	ck_assert_uint_eq(c->pools[0].weight, 0);
	hypd_plugin_conf_free(&t_schema, c);
	hypd_plugin_conf_free(&t_schema, NULL);
	hypd_plugin_conf_free(NULL, NULL);
}
END_TEST

START_TEST(test_plugin_empty)
{
	static const char	*const texts[] = {
		"", "\n\n", "# nothing yet\n", "{}\n", "~\n", "null\n", "---\n",
	};
	struct t_conf		*c;
	size_t			 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		c = plugin_ok(&t_schema, texts[i]);
		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_null(c->listen);
		ck_assert_uint_eq(c->port, 0);
		ck_assert_uint_eq(c->hosts_count, 0);
		ck_assert_ptr_null(c->auth);
		hypd_plugin_conf_free(&t_schema, c);
	}
}
END_TEST

START_TEST(test_plugin_no_schema)
{
	static const char	*const texts[] = {
		"", "# nothing\n", "{}\n", "~\n", "--- # x\n",
	};
	size_t			 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
		ck_assert_ptr_null(plugin_ok(NULL, texts[i]));
	plugin_err_is(NULL, "# c\nport: 1\n",
	    "conf.d/10-t.yaml:2:1: plugin takes no configuration");
	plugin_err_is(NULL, "- a\n",
	    "conf.d/10-t.yaml:1:1: plugin takes no configuration");
	plugin_err_is(NULL, "x: [\n",
	    "conf.d/10-t.yaml:2:1: invalid YAML: did not find expected node "
	    "content (while parsing a flow node)");
}
END_TEST

START_TEST(test_plugin_errors)
{
	plugin_err_is(&t_schema, "listen: x\n\n\ncolour: red\n",
	    "conf.d/10-t.yaml:4:1: unknown key 'colour'");
	plugin_err_is(&t_schema, "auth:\n  user: a\n  pass: b\n",
	    "conf.d/10-t.yaml:3:3: unknown key 'auth.pass'");
	plugin_err_is(&t_schema, "pools:\n  - name: a\n  - name: b\n"
	    "    wieght: 2\n",
	    "conf.d/10-t.yaml:4:5: unknown key 'pools[1].wieght'");
	plugin_err_is(&t_schema, "pools:\n  - name: a\n  - wieght: 2\n"
	    "    name: b\n",
	    "conf.d/10-t.yaml:3:5: unknown key 'pools[1].wieght'");
	plugin_err_is(&t_schema, "pools:\n- name: a\n  weight: 1\n"
	    "- {name: b, x: 1}\n",
	    "conf.d/10-t.yaml:4:13: unknown key 'pools[1].x'");
	plugin_err_is(&t_schema, "pools:\n  - name: a\n  - name: b\n"
	    "    weight: heavy\n",
	    "conf.d/10-t.yaml:4:13: pools[1].weight: invalid value 'heavy' "
	    "(expected an integer in 0..4294967295)");
	plugin_err_is(&t_schema, "port: 70000\n",
	    "conf.d/10-t.yaml:1:7: port: invalid value '70000' (expected an "
	    "integer in 0..65535)");
	plugin_err_is(&t_schema, "mode: half\n",
	    "conf.d/10-t.yaml:1:7: mode: unknown value 'half' (expected "
	    "redirect, full)");
	plugin_err_is(&t_schema, "hosts: [a, b, c, d]\n",
	    "conf.d/10-t.yaml:1:18: hosts: too many entries (at most 3)");
	plugin_err_is(&t_schema, "pools:\n  - weight: 1\n",
	    "conf.d/10-t.yaml:2:5: pools[0]: missing required key 'name'");
	plugin_err_is(&t_schema, "pools:\n  - {}\n",
	    "conf.d/10-t.yaml:2:5: pools[0]: missing required key 'name'");
	plugin_err_is(&t_schema, "pools:\n  - name: a\n  - weight: 1\n"
	    "    # no name\n",
	    "conf.d/10-t.yaml:3:5: pools[1]: missing required key 'name'");
	plugin_err_is(&t_schema, "pools:\n  - name: ''\n",
	    "conf.d/10-t.yaml:2:11: pools[0].name: value too short (at least 1 "
	    "characters)");
	plugin_err_is(&t_schema, "auth: [x]\n",
	    "conf.d/10-t.yaml:1:7: auth: expected a mapping, got a sequence");
	plugin_err_is(&t_schema, "listen: x\nlisten: y\n",
	    "conf.d/10-t.yaml:2:1: duplicate key 'listen'");
	plugin_err_is(&t_schema, "port: 1\n  bad: x\n",
	    "conf.d/10-t.yaml:2:6: invalid YAML: mapping values are not "
	    "allowed in this context");
	/* libcyaml alone would take these as 1, 12, 8 and 1. */
	plugin_err_is(&t_schema, "port: 1\n  bad\n",
	    "conf.d/10-t.yaml:1:7: port: invalid value '1 bad' (expected an "
	    "integer in 0..65535)");
	plugin_err_is(&t_schema, "port: 12abc\n",
	    "conf.d/10-t.yaml:1:7: port: invalid value '12abc' (expected an "
	    "integer in 0..65535)");
	plugin_err_is(&t_schema, "port: 010\n",
	    "conf.d/10-t.yaml:1:7: port: invalid value '010' (expected an "
	    "integer in 0..65535)");
	plugin_err_is(&t_schema, "pools:\n  - {name: a, weight: 1.5}\n",
	    "conf.d/10-t.yaml:2:23: pools[0].weight: invalid value '1.5' "
	    "(expected an integer in 0..4294967295)");
	plugin_err_is(&t_schema, "port: -1\n",
	    "conf.d/10-t.yaml:1:7: port: invalid value '-1' (expected an "
	    "integer in 0..65535)");
}
END_TEST

START_TEST(test_plugin_missing_file)
{
	void	*conf = (void *)1;
	char	*err = NULL;

	ck_assert_int_eq(hypd_plugin_conf_load("conf.d/none.yaml", &t_schema,
	    &conf, &err), -ENOENT);
	ck_assert_ptr_null(conf);
	ck_assert_str_eq(err, "conf.d/none.yaml: cannot open: No such file or "
	    "directory");
	free(err);
}
END_TEST

/* ---- printing ---- */

/* Parse YAML text completely; 1 if it is well-formed. */
static int
yaml_ok(const char *text, size_t len)
{
	yaml_parser_t	p;
	yaml_event_t	ev;
	int		done = 0, ok = 1;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = 0;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return (ok);
}

START_TEST(test_print)
{
	struct hypd_core_conf		*core;
	const cyaml_schema_value_t	*schemas[2] = { &t_schema, NULL };
	const char			*names[2] = { "t", "hello" };
	void				*confs[2];
	char				*out = NULL, *p;
	size_t				 len = 0;
	FILE				*fp;

	core = core_ok("drain_timeout: 1500ms\noptional_plugins: [t]\n");
	confs[0] = plugin_ok(&t_schema, t_full);
	confs[1] = NULL;
	fp = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(hypd_config_print(fp, core, names, schemas, confs, 2),
	    0);
	fclose(fp);
	ck_assert_int_eq(yaml_ok(out, len), 1);

	/* Secrets are gone, everything else is there. */
	ck_assert_ptr_null(strstr(out, "hunter2"));
	ck_assert_ptr_null(strstr(out, "s3cr3t"));
	ck_assert_ptr_null(strstr(out, "tok-ONE"));
	ck_assert_ptr_null(strstr(out, "tok-TWO"));
	ck_assert_ptr_nonnull(strstr(out, "password: <redacted>"));
	ck_assert_ptr_nonnull(strstr(out, "secret_key: <redacted>"));
	ck_assert_ptr_nonnull(p = strstr(out, "fallback_token:"));
	ck_assert_ptr_nonnull(strstr(p, "- <redacted>\n"));
	ck_assert_ptr_nonnull(strstr(out, "user: admin"));
	ck_assert_ptr_nonnull(strstr(out, "name: survival"));
	ck_assert_ptr_nonnull(strstr(out, "- a.example"));
	ck_assert_ptr_nonnull(strstr(out, "port: 5520"));
	ck_assert_ptr_nonnull(strstr(out, "mode: full"));

	/* The core section with its effective values. */
	ck_assert_int_eq(strncmp(out, "core:\n", 6), 0);
	ck_assert_ptr_nonnull(strstr(out, "  drain_timeout: 1500ms\n"));
	ck_assert_ptr_nonnull(strstr(out, "  max_sessions: 100000\n"));
	ck_assert_ptr_nonnull(strstr(out, "    level: info\n"));
	ck_assert_ptr_nonnull(strstr(out, "    facility: daemon\n"));
	ck_assert_ptr_nonnull(strstr(out, "  optional_plugins:\n  - t\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nplugins:\n  t:\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n  hello: {}\n"));
	free(out);

	hypd_plugin_conf_free(&t_schema, confs[0]);
	hypd_core_conf_free(core);
}
END_TEST

START_TEST(test_print_roundtrip)
{
	struct hypd_core_conf	*core, *again;
	char			*out = NULL, *err = NULL, *body;
	size_t			 len = 0;
	FILE			*fp;

	core = core_ok("log:\n  level: debug\n  output: file\n"
	    "  file: 'a file: with # odd chars'\ndrain_timeout: 3s\n");
	fp = open_memstream(&out, &len);
	ck_assert_int_eq(hypd_config_print(fp, core, NULL, NULL, NULL, 0), 0);
	fclose(fp);
	/* Cut the "plugins:" part and unindent "core:" into a core file. */
	body = strstr(out, "\nplugins:");
	ck_assert_ptr_nonnull(body);
	*body = '\0';
	fp = fopen("again.yaml", "w");
	for (body = strchr(out, '\n') + 1; *body != '\0'; body++) {
		if (body[-1] == '\n' && body[0] == ' ' && body[1] == ' ')
			body += 2;
		fputc(*body, fp);
	}
	fputc('\n', fp);
	fclose(fp);
	if (hypd_core_conf_load("again.yaml", NULL, &again, &err) != 0)
		ck_abort_msg("%s\n%s", err, out);
	ck_assert_str_eq(again->log.file, core->log.file);
	ck_assert_int_eq(again->log.level, HYP_LOG_DEBUG);
	ck_assert_uint_eq(again->drain_timeout_ms, 3000);
	ck_assert_str_eq(again->conf_dir, core->conf_dir);
	hypd_core_conf_free(again);
	hypd_core_conf_free(core);
	free(out);
}
END_TEST

/* The whole suite. */
static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_core_defaults);
	tcase_add_test(tc, test_core_every_key);
	tcase_add_test(tc, test_core_paths_relative_to_file);
	tcase_add_test(tc, test_core_durations);
	tcase_add_test(tc, test_core_unknown_keys);
	tcase_add_test(tc, test_core_enums);
	tcase_add_test(tc, test_core_ranges);
	tcase_add_test(tc, test_core_empty_values);
	tcase_add_test(tc, test_core_types);
	tcase_add_test(tc, test_core_optional_plugins);
	tcase_add_test(tc, test_core_log_file_required);
	tcase_add_test(tc, test_core_syntax);
	tcase_add_test(tc, test_core_missing_file);
	tcase_add_test(tc, test_core_shipped);
	tcase_add_test(tc, test_locate);
	suite_add_tcase(s, tc);

	tc = tcase_create("confdir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_confdir_order);
	tcase_add_test(tc, test_confdir_ignored);
	tcase_add_test(tc, test_confdir_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("plugin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plugin_load);
	tcase_add_test(tc, test_plugin_empty);
	tcase_add_test(tc, test_plugin_no_schema);
	tcase_add_test(tc, test_plugin_errors);
	tcase_add_test(tc, test_plugin_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_print_roundtrip);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	const char	*top = getenv("top_srcdir");
	SRunner		*sr;
	int		 failed;

	if (top != NULL)
		snprintf(srcdir, sizeof srcdir, "%s", top);
	else if (getcwd(srcdir, sizeof srcdir) == NULL)
		snprintf(srcdir, sizeof srcdir, ".");
	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
