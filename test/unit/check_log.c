/*
 * Unit tests for the daemon's logging (daemon/log.c), through a file sink.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <hyprox/hyprox.h>

#include "hyproxd.h"

#define TS_RE	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* One private directory per test (each test runs in its own process). */
static char	tdir[64];
static char	tlog[128];
static char	tbuf[65536];

/* Create the test's directory and the log file name in it. */
static void
tdir_make(void)
{
	snprintf(tdir, sizeof tdir, "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(tlog, sizeof tlog, "%s/hyproxd.log", tdir);
}

/* Remove the test's directory. */
static void
tdir_remove(void)
{
	char	cmd[128];

	hypd_log_close();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tdir);
}

/* Point the log at file with the given format and level. */
static void
use_file(const char *file, int format, int level)
{
	struct hypd_core_conf	c;
	char			*err = (char *)"unset";

	memset(&c, 0, sizeof c);
	c.log.level = level;
	c.log.format = format;
	c.log.output = HYPD_LOG_FILE;
	c.log.file = (char *)file;
	ck_assert_int_eq(hypd_log_configure(&c, &err), 0);
	ck_assert_ptr_null(err);
}

/* Read a whole file into tbuf; returns its length. */
static size_t
slurp(const char *path)
{
	FILE	*fp;
	size_t	 n;

	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	n = fread(tbuf, 1, sizeof tbuf - 1, fp);
	fclose(fp);
	tbuf[n] = '\0';
	return (n);
}

/* Count the newlines in s. */
static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

/* Assert that s matches the extended regular expression re. */
static void
assert_match(const char *s, const char *re)
{
	regex_t	r;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&r, s, 0, NULL, 0) == 0, "'%s' !~ /%s/", s, re);
	regfree(&r);
}

START_TEST(text_format)
{
	struct hyp_plugin	pl;

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_DEBUG);
	memset(&pl, 0, sizeof pl);
	pl.name = (char *)"router";
	hyp_log(NULL, HYP_LOG_INFO, "hello %d", 42);
	hyp_log(&pl, HYP_LOG_ERR, "boom");
	hyp_log(&pl, HYP_LOG_DEBUG, "dbg");
	slurp(tlog);
	assert_match(tbuf, "^" TS_RE " info  \\[core\\] hello 42\n"
	    TS_RE " err   \\[router\\] boom\n"
	    TS_RE " debug \\[router\\] dbg\n$");
	tdir_remove();
}
END_TEST

START_TEST(text_session)
{
	struct hyp_plugin	 pl;
	hyp_session_t		*s;
	char			 want[128];

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	memset(&pl, 0, sizeof pl);
	pl.name = (char *)"transport";
	s = hyp_session_new(NULL, NULL, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(hyp_session_id_str(s)), 16);
	hyp_log_session(&pl, s, HYP_LOG_WARNING, "slow %s", "client");
	hyp_log_session(NULL, s, HYP_LOG_NOTICE, "core line");
	hyp_log_session(&pl, NULL, HYP_LOG_INFO, "no session");
	slurp(tlog);
	snprintf(want, sizeof want, " warning [transport] [sess=%s] slow "
	    "client\n", hyp_session_id_str(s));
	ck_assert_ptr_nonnull(strstr(tbuf, want));
	snprintf(want, sizeof want, " notice [core] [sess=%s] core line\n",
	    hyp_session_id_str(s));
	ck_assert_ptr_nonnull(strstr(tbuf, want));
	ck_assert_ptr_nonnull(strstr(tbuf, " info  [transport] no session\n"));
	ck_assert_int_eq(count_lines(tbuf), 3);
	hyp_session_end(s, "test");
	tdir_remove();
}
END_TEST

START_TEST(text_escape)
{
	const char	*nl;

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	/* A forged second line must stay on the first one. */
	hyp_log(NULL, HYP_LOG_INFO, "user=%s", "bob\n2026-01-01T00:00:00.000Z "
	    "err   [core] forged");
	hyp_log(NULL, HYP_LOG_INFO, "a\rb\tc\x1b[31md\x7f \"q\" \\ e");
	/* Invalid UTF-8, valid UTF-8, C1 control, U+2028. */
	hyp_log(NULL, HYP_LOG_INFO, "x\xffy \xc3\xa9 \xc2\x85 \xe2\x80\xa8 "
	    "\xed\xa0\x80 \xc0\xaf");
	slurp(tlog);
	ck_assert_int_eq(count_lines(tbuf), 3);
	ck_assert_ptr_nonnull(strstr(tbuf, "[core] user=bob\\n2026-01-01T00:00:"
	    "00.000Z err   [core] forged\n"));
	ck_assert_ptr_nonnull(strstr(tbuf,
	    "[core] a\\rb\\tc\\x1b[31md\\x7f \"q\" \\ e\n"));
	nl = strstr(tbuf, "[core] x\\xffy \xc3\xa9 \\u0085 \\u2028 "
	    "\\xed\\xa0\\x80 \\xc0\\xaf\n");
	ck_assert_msg(nl != NULL, "%s", tbuf);
	tdir_remove();
}
END_TEST

START_TEST(json_format)
{
	struct hyp_plugin	 pl;
	hyp_session_t		*s;
	char			 re[512];

	tdir_make();
	use_file(tlog, HYPD_LOG_JSON, HYP_LOG_INFO);
	memset(&pl, 0, sizeof pl);
	pl.name = (char *)"router";
	s = hyp_session_new(NULL, NULL, 0);
	ck_assert_ptr_nonnull(s);
	hyp_log(NULL, HYP_LOG_INFO, "hello");
	hyp_log_session(&pl, s, HYP_LOG_ERR, "denied %u", 3u);
	slurp(tlog);
	snprintf(re, sizeof re, "^\\{\"ts\":\"" TS_RE "\",\"level\":\"info\","
	    "\"plugin\":\"core\",\"msg\":\"hello\"\\}\n"
	    "\\{\"ts\":\"" TS_RE "\",\"level\":\"err\",\"plugin\":\"router\","
	    "\"session\":\"%s\",\"msg\":\"denied 3\"\\}\n$",
	    hyp_session_id_str(s));
	assert_match(tbuf, re);
	hyp_session_end(s, "test");
	tdir_remove();
}
END_TEST

START_TEST(json_escape)
{
	struct hyp_plugin	pl;

	tdir_make();
	use_file(tlog, HYPD_LOG_JSON, HYP_LOG_INFO);
	memset(&pl, 0, sizeof pl);
	pl.name = (char *)"we\"ird";
	hyp_log(&pl, HYP_LOG_INFO, "q\"b\\s\nn\rr\tt\bb\ff\x01 \x1f \x7f "
	    "\xff \xc3\xa9 \xc2\x85 \xe2\x80\xa9 \xf0\x9f\x98\x80 \xf4\x90\x80"
	    "\x80");
	slurp(tlog);
	ck_assert_int_eq(count_lines(tbuf), 1);
	ck_assert_msg(strstr(tbuf, "\"plugin\":\"we\\\"ird\",\"msg\":\"q\\\"b"
	    "\\\\s\\nn\\rr\\tt\\bb\\ff\\u0001 \\u001f \\u007f \\ufffd "
	    "\xc3\xa9 \\u0085 \\u2029 \xf0\x9f\x98\x80 "
	    "\\ufffd\\ufffd\\ufffd\\ufffd\"}\n") != NULL, "%s", tbuf);
	tdir_remove();
}
END_TEST

START_TEST(level_filter)
{
	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_WARNING);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_ERR), 1);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_WARNING), 1);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_NOTICE), 0);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 0);
	hyp_log(NULL, HYP_LOG_DEBUG, "no-debug");
	hyp_log(NULL, HYP_LOG_INFO, "no-info");
	hyp_log(NULL, HYP_LOG_NOTICE, "no-notice");
	hyp_log(NULL, HYP_LOG_WARNING, "yes-warning");
	hyp_log(NULL, HYP_LOG_ERR, "yes-err");
	/* Out-of-range levels are clamped: 0 (emerg) as err, 9 as debug. */
	hyp_log(NULL, 0, "yes-emerg");
	hyp_log(NULL, 9, "no-nine");
	hypd_log_set_level(HYP_LOG_DEBUG);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 1);
	hyp_log(NULL, HYP_LOG_DEBUG, "yes-debug");
	hypd_log_set_level(99);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 1);
	hypd_log_set_level(-5);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_WARNING), 0);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_ERR), 1);
	slurp(tlog);
	ck_assert_ptr_null(strstr(tbuf, "no-"));
	ck_assert_ptr_nonnull(strstr(tbuf, "warning [core] yes-warning\n"));
	ck_assert_ptr_nonnull(strstr(tbuf, "err   [core] yes-err\n"));
	ck_assert_ptr_nonnull(strstr(tbuf, "err   [core] yes-emerg\n"));
	ck_assert_ptr_nonnull(strstr(tbuf, "debug [core] yes-debug\n"));
	ck_assert_int_eq(count_lines(tbuf), 4);
	tdir_remove();
}
END_TEST

START_TEST(truncation)
{
	static char	big[10000];
	size_t		n;
	char		*e;

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	memset(big, 'x', sizeof big - 1);
	hyp_log(NULL, HYP_LOG_INFO, "%s", big);
	n = slurp(tlog);
	ck_assert_uint_le(n, 4096);
	ck_assert_uint_ge(n, 4000);
	ck_assert_int_eq(count_lines(tbuf), 1);
	ck_assert_str_eq(tbuf + n - 6, "xx\xe2\x80\xa6\n");
	ck_assert_int_eq(unlink(tlog), 0);

	/* Escapes are never cut in half. */
	hypd_log_reopen();
	memset(big, '\n', 3000);
	big[3000] = '\0';
	hyp_log(NULL, HYP_LOG_INFO, "%s", big);
	n = slurp(tlog);
	ck_assert_uint_le(n, 4096);
	ck_assert_int_eq(count_lines(tbuf), 1);
	e = strstr(tbuf, "\xe2\x80\xa6\n");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e[-1], 'n');
	ck_assert_int_eq(e[-2], '\\');
	ck_assert_int_ne(e[-3], '\\');
	ck_assert_int_eq(unlink(tlog), 0);
	tdir_remove();
}
END_TEST

START_TEST(truncation_json)
{
	static char	big[9000];
	size_t		i, n;

	tdir_make();
	use_file(tlog, HYPD_LOG_JSON, HYP_LOG_INFO);
	/* Two-byte characters: the cut must fall between them. */
	for (i = 0; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	hyp_log(NULL, HYP_LOG_INFO, "%s", big);
	n = slurp(tlog);
	ck_assert_uint_le(n, 4096);
	ck_assert_int_eq(count_lines(tbuf), 1);
	ck_assert_str_eq(tbuf + n - 8, "\xc3\xa9\xe2\x80\xa6\"}\n");
	ck_assert_ptr_null(strstr(tbuf, "ufffd"));
	tdir_remove();
}
END_TEST

START_TEST(reopen)
{
	char	old[160];

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	hyp_log(NULL, HYP_LOG_INFO, "before rotation");
	snprintf(old, sizeof old, "%s.1", tlog);
	ck_assert_int_eq(rename(tlog, old), 0);
	hyp_log(NULL, HYP_LOG_INFO, "still old");
	hypd_log_reopen();
	hyp_log(NULL, HYP_LOG_INFO, "after rotation");
	slurp(old);
	ck_assert_ptr_nonnull(strstr(tbuf, "before rotation\n"));
	ck_assert_ptr_nonnull(strstr(tbuf, "still old\n"));
	ck_assert_ptr_null(strstr(tbuf, "after rotation"));
	slurp(tlog);
	ck_assert_ptr_null(strstr(tbuf, "rotation\n" "before"));
	ck_assert_ptr_nonnull(strstr(tbuf, "after rotation\n"));
	ck_assert_int_eq(count_lines(tbuf), 1);
	tdir_remove();
}
END_TEST

START_TEST(reopen_fails)
{
	char	sub[128], file[160], moved[160];

	tdir_make();
	snprintf(sub, sizeof sub, "%s/logs", tdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(file, sizeof file, "%s/h.log", sub);
	snprintf(moved, sizeof moved, "%s/moved.log", tdir);
	use_file(file, HYPD_LOG_TEXT, HYP_LOG_INFO);
	hyp_log(NULL, HYP_LOG_INFO, "one");
	/* The directory is gone: reopening cannot work. */
	ck_assert_int_eq(rename(file, moved), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	hypd_log_reopen();
	hyp_log(NULL, HYP_LOG_INFO, "two");
	slurp(moved);
	ck_assert_ptr_nonnull(strstr(tbuf, "one\n"));
	ck_assert_ptr_nonnull(strstr(tbuf, "err   [core] cannot reopen log "
	    "file "));
	ck_assert_ptr_nonnull(strstr(tbuf, "two\n"));
	ck_assert_int_eq(count_lines(tbuf), 3);
	tdir_remove();
}
END_TEST

/* Whether some open fd of ours refers to path; its fd flags in *flags. */
static int
find_fd(const char *path, int *flags)
{
	DIR		*d;
	struct dirent	*de;
	char		 link[64], target[PATH_MAX];
	ssize_t		 n;
	int		 found = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) > 16)
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%.16s", de->d_name);
		n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0) {
			*flags = fcntl(atoi(de->d_name), F_GETFD);
			found = 1;
		}
	}
	closedir(d);
	return (found);
}

START_TEST(file_mode)
{
	struct stat	st;
	int		flags = 0;

	tdir_make();
	umask(022);
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	ck_assert_int_eq(stat(tlog, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(find_fd(tlog, &flags), 1);
	ck_assert_int_ne(flags & FD_CLOEXEC, 0);
	/* Appends, never truncates. */
	hyp_log(NULL, HYP_LOG_INFO, "first");
	hypd_log_close();
	ck_assert_int_eq(find_fd(tlog, &flags), 0);
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	hyp_log(NULL, HYP_LOG_INFO, "second");
	slurp(tlog);
	ck_assert_int_eq(count_lines(tbuf), 2);
	tdir_remove();
}
END_TEST

START_TEST(configure_errors)
{
	struct hypd_core_conf	 c;
	char			*err, path[160];

	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);

	memset(&c, 0, sizeof c);
	c.log.level = HYP_LOG_INFO;
	c.log.output = HYPD_LOG_FILE;
	ck_assert_int_eq(hypd_log_configure(&c, &err), HYP_EINVAL);
	ck_assert_ptr_nonnull(err);
	free(err);

	snprintf(path, sizeof path, "%s/no/such/dir.log", tdir);
	c.log.file = path;
	ck_assert_int_eq(hypd_log_configure(&c, &err), HYP_ENOENT);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, path));
	free(err);

	c.log.file = tlog;
	c.log.level = 8;
	ck_assert_int_eq(hypd_log_configure(&c, &err), HYP_EINVAL);
	free(err);
	c.log.level = HYP_LOG_INFO;
	c.log.format = 7;
	ck_assert_int_eq(hypd_log_configure(&c, &err), HYP_EINVAL);
	free(err);
	c.log.format = HYPD_LOG_TEXT;
	c.log.output = 9;
	ck_assert_int_eq(hypd_log_configure(&c, &err), HYP_EINVAL);
	free(err);
	c.log.output = HYPD_LOG_SYSLOG;
	c.log.facility = 3;
	ck_assert_int_eq(hypd_log_configure(&c, NULL), HYP_EINVAL);

	/* Every failure kept the old sink. */
	hyp_log(NULL, HYP_LOG_INFO, "still here");
	slurp(tlog);
	ck_assert_ptr_nonnull(strstr(tbuf, "info  [core] still here\n"));
	tdir_remove();
}
END_TEST

START_TEST(configure_reset)
{
	struct hypd_core_conf	c;

	tdir_make();
	use_file(tlog, HYPD_LOG_JSON, HYP_LOG_DEBUG);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 1);
	ck_assert_int_eq(hypd_log_configure(NULL, NULL), 0);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 0);
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_INFO), 1);
	hyp_log(NULL, HYP_LOG_ERR, "to stderr");
	slurp(tlog);
	ck_assert_str_eq(tbuf, "");

	/* Syslog and stderr sinks configure and take lines. */
	memset(&c, 0, sizeof c);
	c.log.level = HYP_LOG_DEBUG;
	c.log.output = HYPD_LOG_SYSLOG;
	c.log.facility = LOG_LOCAL3;
	ck_assert_int_eq(hypd_log_configure(&c, NULL), 0);
	hyp_log(NULL, HYP_LOG_DEBUG, "check_log syslog test line");
	c.log.ident = (char *)"check_log";
	c.log.format = HYPD_LOG_JSON;
	ck_assert_int_eq(hypd_log_configure(&c, NULL), 0);
	hyp_log(NULL, HYP_LOG_DEBUG, "check_log syslog json line");
	c.log.output = HYPD_LOG_STDERR;
	ck_assert_int_eq(hypd_log_configure(&c, NULL), 0);
	hypd_log_reopen();
	hyp_log(NULL, HYP_LOG_DEBUG, "check_log stderr json line");
	hypd_log_close();
	ck_assert_int_eq(hyp_log_enabled(HYP_LOG_DEBUG), 0);
	tdir_remove();
}
END_TEST

START_TEST(errno_kept)
{
	tdir_make();
	use_file(tlog, HYPD_LOG_TEXT, HYP_LOG_INFO);
	errno = ENOENT;
	hyp_log(NULL, HYP_LOG_INFO, "open: %m");
	ck_assert_int_eq(errno, ENOENT);
	errno = EPERM;
	hyp_log(NULL, HYP_LOG_DEBUG, "filtered");
	ck_assert_int_eq(errno, EPERM);
	slurp(tlog);
	ck_assert_ptr_nonnull(strstr(tbuf, "open: No such file or directory\n"));
	tdir_remove();
}
END_TEST

START_TEST(level_parse)
{
	ck_assert_int_eq(hypd_log_level_parse("err"), HYP_LOG_ERR);
	ck_assert_int_eq(hypd_log_level_parse("warning"), HYP_LOG_WARNING);
	ck_assert_int_eq(hypd_log_level_parse("notice"), HYP_LOG_NOTICE);
	ck_assert_int_eq(hypd_log_level_parse("info"), HYP_LOG_INFO);
	ck_assert_int_eq(hypd_log_level_parse("debug"), HYP_LOG_DEBUG);
	ck_assert_int_eq(hypd_log_level_parse("INFO"), -1);
	ck_assert_int_eq(hypd_log_level_parse("info "), -1);
	ck_assert_int_eq(hypd_log_level_parse("inf"), -1);
	ck_assert_int_eq(hypd_log_level_parse(""), -1);
	ck_assert_int_eq(hypd_log_level_parse(NULL), -1);
}
END_TEST

/* Build the suite. */
static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_test(tc, text_format);
	tcase_add_test(tc, text_session);
	tcase_add_test(tc, text_escape);
	tcase_add_test(tc, json_format);
	tcase_add_test(tc, json_escape);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, truncation_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("sink");
	tcase_add_test(tc, level_filter);
	tcase_add_test(tc, reopen);
	tcase_add_test(tc, reopen_fails);
	tcase_add_test(tc, file_mode);
	tcase_add_test(tc, configure_errors);
	tcase_add_test(tc, configure_reset);
	tcase_add_test(tc, errno_kept);
	tcase_add_test(tc, level_parse);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(log_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
