/*
 * Unit tests for libhyprox secrets and paths (sdk/lib/secret.c).
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hyprox/error.h>
#include <hyprox/secret.h>

/* One private directory per test (each test runs in its own process). */
static char	tdir[64];

/* Create the test's private directory. */
static void
tdir_make(void)
{
	snprintf(tdir, sizeof tdir, "/tmp/check_secrets.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

/* Remove the test's directory and what the tests put in it. */
static void
tdir_remove(void)
{
	char	cmd[128];

	if (tdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tdir);
	tdir[0] = '\0';
}

/* Write len bytes to tdir/name with mode; returns the absolute path. */
static char *
put_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char	*path;
	size_t	 n;
	int	 fd;

	n = strlen(tdir) + 1 + strlen(name) + 1;
	ck_assert_ptr_nonnull(path = malloc(n));
	snprintf(path, n, "%s/%s", tdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return (path);
}

/* Read ref and expect rc; on success the secret must equal want. */
static void
expect_secret(const char *ref, const char *basedir, int rc, const void *want,
    size_t wantlen, char *err, size_t errlen)
{
	static uint8_t	 sentinel[1];
	uint8_t		*out = sentinel;
	size_t		 len = 99;
	int		 got;

	got = hyp_secret_read(ref, basedir, &out, &len, NULL, err, errlen);
	ck_assert_msg(got == rc, "%s: got %d (%s), want %d", ref, got, err, rc);
	if (rc != 0) {
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(len, 0);
		ck_assert_str_ne(err, "");
		return;
	}
	ck_assert_uint_eq(len, wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	ck_assert_uint_eq(out[len], 0);
	hyp_secret_free(out, len);
}

START_TEST(env_ok)
{
	char	err[256];

	ck_assert_int_eq(setenv("HYP_T_SECRET", "s3cr3t value", 1), 0);
	expect_secret("env:HYP_T_SECRET", NULL, 0, "s3cr3t value", 12, err,
	    sizeof err);
	ck_assert_int_eq(setenv("_x9", "a", 1), 0);
	expect_secret("env:_x9", "/ignored", 0, "a", 1, err, sizeof err);
}
END_TEST

START_TEST(env_unset)
{
	char	err[256];

	unsetenv("HYP_T_NOPE");
	expect_secret("env:HYP_T_NOPE", NULL, HYP_ESECRET, NULL, 0, err,
	    sizeof err);
	ck_assert_ptr_nonnull(strstr(err, "HYP_T_NOPE"));
	ck_assert_ptr_nonnull(strstr(err, "not set"));
}
END_TEST

START_TEST(env_empty)
{
	char	err[256];

	ck_assert_int_eq(setenv("HYP_T_EMPTY", "", 1), 0);
	expect_secret("env:HYP_T_EMPTY", NULL, HYP_ESECRET, NULL, 0, err,
	    sizeof err);
	ck_assert_ptr_nonnull(strstr(err, "HYP_T_EMPTY"));
	ck_assert_ptr_nonnull(strstr(err, "empty"));
}
END_TEST

START_TEST(env_bad_name)
{
	static const char	*bad[] = {
		"env:", "env:1ABC", "env:A-B", "env:A B", "env:pa$$word",
		"env:A=B", "env:\xc3\xa9t\xc3\xa9",
	};
	char			 err[256];
	size_t			 i;

	/* Even a variable by that (odd) name must not be consulted. */
	setenv("A-B", "leaked", 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_secret(bad[i], NULL, HYP_ESECRET, NULL, 0, err,
		    sizeof err);
		/* The bad name could be an inline value: never echoed. */
		if (bad[i][4] != '\0')
			ck_assert_ptr_null(strstr(err, bad[i] + 4));
		ck_assert_ptr_null(strstr(err, "leaked"));
	}
}
END_TEST

START_TEST(env_too_big)
{
	char	*big, err[256];

	big = malloc(HYP_SECRET_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', HYP_SECRET_MAX + 1);
	big[HYP_SECRET_MAX + 1] = '\0';
	ck_assert_int_eq(setenv("HYP_T_BIG", big, 1), 0);
	expect_secret("env:HYP_T_BIG", NULL, HYP_ETOOBIG, NULL, 0, err,
	    sizeof err);
	big[HYP_SECRET_MAX] = '\0';
	ck_assert_int_eq(setenv("HYP_T_BIG", big, 1), 0);
	expect_secret("env:HYP_T_BIG", NULL, 0, big, HYP_SECRET_MAX, err,
	    sizeof err);
	free(big);
}
END_TEST

START_TEST(file_ok)
{
	uint8_t	*out;
	size_t	 len;
	char	*path, ref[256], err[256];
	int	 warn = 7;

	tdir_make();
	path = put_file("key", "hunter2", 7, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	ck_assert_int_eq(hyp_secret_read(ref, NULL, &out, &len, &warn, err,
	    sizeof err), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(out, "hunter2", 7);
	ck_assert_int_eq(warn, 0);
	hyp_secret_free(out, len);
	/* Binary content, NUL bytes included, is kept as is. */
	free(path);
	path = put_file("bin", "a\0b\xff", 4, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "a\0b\xff", 4, err, sizeof err);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_newline)
{
	char	*path, ref[256], err[256];

	tdir_make();
	path = put_file("k1", "abc\n", 4, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "abc", 3, err, sizeof err);
	free(path);
	/* Only one newline goes. */
	path = put_file("k2", "abc\n\n", 5, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "abc\n", 4, err, sizeof err);
	free(path);
	/* Leading and inner newlines stay. */
	path = put_file("k3", "\na\nb\n", 5, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "\na\nb", 4, err, sizeof err);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_crlf)
{
	char	*path, ref[256], err[256];

	tdir_make();
	path = put_file("k1", "abc\r\n", 5, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "abc", 3, err, sizeof err);
	free(path);
	path = put_file("k2", "abc\r\n\r\n", 7, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "abc\r\n", 5, err, sizeof err);
	free(path);
	/* A lone CR is not a line ending. */
	path = put_file("k3", "abc\r", 4, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, "abc\r", 4, err, sizeof err);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_relative)
{
	char	*path, sub[128], err[256];

	tdir_make();
	snprintf(sub, sizeof sub, "%s/secrets", tdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	path = put_file("secrets/token", "tok\n", 4, 0600);
	expect_secret("file:secrets/token", tdir, 0, "tok", 3, err, sizeof err);
	/* Trailing slashes on basedir are fine. */
	snprintf(sub, sizeof sub, "%s//", tdir);
	expect_secret("file:secrets/token", sub, 0, "tok", 3, err, sizeof err);
	/* The wrong basedir: not found, and the message names the path. */
	expect_secret("file:secrets/token", "/nonexistent-hyp", HYP_ENOENT,
	    NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(strstr(err,
	    "/nonexistent-hyp/secrets/token"));
	/* An absolute path ignores basedir. */
	snprintf(sub, sizeof sub, "file:%s", path);
	expect_secret(sub, "/nonexistent-hyp", 0, "tok", 3, err, sizeof err);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_missing)
{
	char	ref[256], err[256];

	tdir_make();
	snprintf(ref, sizeof ref, "file:%s/none", tdir);
	expect_secret(ref, NULL, HYP_ENOENT, NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(strstr(err, ref + 5));
	/* A file in place of a directory. */
	free(put_file("f", "x", 1, 0600));
	snprintf(ref, sizeof ref, "file:%s/f/none", tdir);
	expect_secret(ref, NULL, HYP_ENOENT, NULL, 0, err, sizeof err);
	expect_secret("file:", NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	tdir_remove();
}
END_TEST

START_TEST(file_unreadable)
{
	char	*path, ref[256], err[256];

	tdir_make();
	path = put_file("key", "topsecret", 9, 0000);
	snprintf(ref, sizeof ref, "file:%s", path);
	/* root reads mode 000 files anyway. */
	if (geteuid() != 0) {
		expect_secret(ref, NULL, HYP_EACCES, NULL, 0, err, sizeof err);
		ck_assert_ptr_nonnull(strstr(err, path));
	}
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_not_regular)
{
	char	ref[256], err[256];

	tdir_make();
	snprintf(ref, sizeof ref, "file:%s", tdir);
	expect_secret(ref, NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(strstr(err, "regular"));
	/* A FIFO must be refused, not waited on. */
	snprintf(ref, sizeof ref, "%s/fifo", tdir);
	ck_assert_int_eq(mkfifo(ref, 0600), 0);
	snprintf(ref, sizeof ref, "file:%s/fifo", tdir);
	expect_secret(ref, NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	tdir_remove();
}
END_TEST

START_TEST(file_too_big)
{
	char	*data, *path, ref[256], err[256];

	tdir_make();
	data = malloc(HYP_SECRET_MAX + 3);
	ck_assert_ptr_nonnull(data);
	memset(data, 'Q', HYP_SECRET_MAX + 3);
	memcpy(data, "TOPSECRET", 9);

	/* One byte over. */
	path = put_file("big", data, HYP_SECRET_MAX + 1, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, HYP_ETOOBIG, NULL, 0, err, sizeof err);
	ck_assert_ptr_null(strstr(err, "TOPSECRET"));
	free(path);
	/* Far over. */
	path = put_file("huge", data, HYP_SECRET_MAX + 3, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, HYP_ETOOBIG, NULL, 0, err, sizeof err);
	free(path);
	/* Exactly the maximum, with and without a line ending. */
	path = put_file("max", data, HYP_SECRET_MAX, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, data, HYP_SECRET_MAX, err, sizeof err);
	free(path);
	data[HYP_SECRET_MAX] = '\r';
	data[HYP_SECRET_MAX + 1] = '\n';
	path = put_file("maxcrlf", data, HYP_SECRET_MAX + 2, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, 0, data, HYP_SECRET_MAX, err, sizeof err);
	free(path);
	free(data);
	tdir_remove();
}
END_TEST

START_TEST(file_empty)
{
	char	*path, ref[256], err[256];

	tdir_make();
	path = put_file("e1", "", 0, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	free(path);
	path = put_file("e2", "\r\n", 2, 0600);
	snprintf(ref, sizeof ref, "file:%s", path);
	expect_secret(ref, NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(file_warn)
{
	static const struct {
		mode_t	mode;
		int	warn;
	} cases[] = {
		{ 0600, 0 }, { 0400, 0 }, { 0700, 0 }, { 0620, 0 },
		{ 0602, 0 }, { 0640, 1 }, { 0644, 1 }, { 0604, 1 },
	};
	uint8_t	*out;
	size_t	 len, i;
	char	*path, ref[256], err[256];
	int	 warn;

	tdir_make();
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		path = put_file("key", "k", 1, cases[i].mode);
		snprintf(ref, sizeof ref, "file:%s", path);
		warn = -1;
		ck_assert_int_eq(hyp_secret_read(ref, NULL, &out, &len, &warn,
		    err, sizeof err), 0);
		ck_assert_msg(warn == cases[i].warn, "mode %03o: warn %d",
		    (unsigned)cases[i].mode, warn);
		hyp_secret_free(out, len);
		ck_assert_int_eq(hyp_path_too_open(path), cases[i].warn);
		ck_assert_int_eq(unlink(path), 0);
		free(path);
	}
	tdir_remove();
}
END_TEST

START_TEST(inline_refused)
{
	static const char	*bad[] = {
		"hunter2", "ENV:HOME", "File:/etc/passwd", "env", "file",
		" env:HOME", "sk_live_abcdef",
	};
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_secret(bad[i], NULL, HYP_ESECRET, NULL, 0, err,
		    sizeof err);
		ck_assert_str_eq(err,
		    "secrets must be env:NAME or file:PATH references");
	}
	expect_secret("", NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
	expect_secret(NULL, NULL, HYP_ESECRET, NULL, 0, err, sizeof err);
}
END_TEST

START_TEST(bad_args)
{
	uint8_t	*out;
	size_t	 len;
	char	 err[8];

	setenv("HYP_T_SECRET", "value", 1);
	ck_assert_int_eq(hyp_secret_read("env:HYP_T_SECRET", NULL, NULL, &len,
	    NULL, NULL, 0), HYP_EINVAL);
	ck_assert_int_eq(hyp_secret_read("env:HYP_T_SECRET", NULL, &out, NULL,
	    NULL, NULL, 0), HYP_EINVAL);
	/* No error buffer, or a tiny one: still fine. */
	ck_assert_int_eq(hyp_secret_read("hunter2", NULL, &out, &len, NULL,
	    NULL, 0), HYP_ESECRET);
	ck_assert_int_eq(hyp_secret_read("hunter2", NULL, &out, &len, NULL,
	    err, sizeof err), HYP_ESECRET);
	ck_assert_uint_eq(strlen(err), sizeof err - 1);
	ck_assert_int_eq(hyp_secret_read("env:HYP_T_SECRET", NULL, &out, &len,
	    NULL, NULL, 0), 0);
	hyp_secret_free(out, len);
}
END_TEST

START_TEST(is_ref)
{
	ck_assert_int_eq(hyp_secret_is_ref("env:X"), 1);
	ck_assert_int_eq(hyp_secret_is_ref("file:/x"), 1);
	ck_assert_int_eq(hyp_secret_is_ref("env:"), 1);
	ck_assert_int_eq(hyp_secret_is_ref("environment"), 0);
	ck_assert_int_eq(hyp_secret_is_ref("filename"), 0);
	ck_assert_int_eq(hyp_secret_is_ref("hunter2"), 0);
	ck_assert_int_eq(hyp_secret_is_ref(""), 0);
	ck_assert_int_eq(hyp_secret_is_ref(NULL), 0);
}
END_TEST

/* Resolve and compare, freeing the result. */
static void
expect_path(const char *base, const char *path, const char *want)
{
	char	*got;

	got = hyp_path_resolve(base, path);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(path_resolve)
{
	expect_path("/etc/hyprox", "/abs/key.pem", "/abs/key.pem");
	expect_path("/etc/hyprox", "keys/k.pem", "/etc/hyprox/keys/k.pem");
	expect_path("/etc/hyprox/", "k.pem", "/etc/hyprox/k.pem");
	expect_path("/etc/hyprox///", "k.pem", "/etc/hyprox/k.pem");
	expect_path("/", "k.pem", "/k.pem");
	expect_path("rel/dir", "k.pem", "rel/dir/k.pem");
	expect_path("/etc", "../k.pem", "/etc/../k.pem");
	expect_path(NULL, "k.pem", "k.pem");
	expect_path("", "k.pem", "k.pem");
	expect_path("/etc", "", "");
	ck_assert_ptr_null(hyp_path_resolve("/etc", NULL));
}
END_TEST

START_TEST(path_too_open)
{
	char	*path;

	tdir_make();
	path = put_file("k", "x", 1, 0600);
	ck_assert_int_eq(hyp_path_too_open(path), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(hyp_path_too_open(path), 1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(hyp_path_too_open(path), HYP_ENOENT);
	ck_assert_int_eq(hyp_path_too_open(NULL), HYP_EINVAL);
	free(path);
	tdir_remove();
}
END_TEST

START_TEST(secret_free)
{
	uint8_t	*p;

	hyp_secret_free(NULL, 0);
	hyp_secret_free(NULL, 100);
	p = malloc(16);
	ck_assert_ptr_nonnull(p);
	memset(p, 'S', 16);
	hyp_secret_free(p, 16);
	p = malloc(1);
	ck_assert_ptr_nonnull(p);
	hyp_secret_free(p, 0);
}
END_TEST

/* Build the suite. */
static Suite *
secrets_suite(void)
{
	Suite	*s = suite_create("secrets");
	TCase	*tc;

	tc = tcase_create("env");
	tcase_add_test(tc, env_ok);
	tcase_add_test(tc, env_unset);
	tcase_add_test(tc, env_empty);
	tcase_add_test(tc, env_bad_name);
	tcase_add_test(tc, env_too_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, file_ok);
	tcase_add_test(tc, file_newline);
	tcase_add_test(tc, file_crlf);
	tcase_add_test(tc, file_relative);
	tcase_add_test(tc, file_missing);
	tcase_add_test(tc, file_unreadable);
	tcase_add_test(tc, file_not_regular);
	tcase_add_test(tc, file_too_big);
	tcase_add_test(tc, file_empty);
	tcase_add_test(tc, file_warn);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, inline_refused);
	tcase_add_test(tc, bad_args);
	tcase_add_test(tc, is_ref);
	tcase_add_test(tc, path_resolve);
	tcase_add_test(tc, path_too_open);
	tcase_add_test(tc, secret_free);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(secrets_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
