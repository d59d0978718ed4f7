/*
 * check_metrics_http: the metrics plugin's pure logic: settings with
 * defaults and ranges, JSON escaping and its bound, the endpoint table and
 * the bearer token check.  Listen addresses and durations are parsed by
 * libhyprox (check_util).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mx.h"

START_TEST(settings_defaults)
{
	struct mx_conf		c;
	struct mx_settings	s;
	char			err[256];

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mx_settings_make(&c, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.addr, "127.0.0.1");
	ck_assert_uint_eq(s.port, MX_DEF_PORT);
	ck_assert_ptr_null(s.bearer_token);
	ck_assert_int_eq(s.process_metrics, 1);
	ck_assert_uint_eq(s.max_connections, 64);
	ck_assert_uint_eq(s.timeout_ms, 10000);
	ck_assert_uint_eq(s.max_headers_size, MX_DEF_HEADERS);
	ck_assert_uint_eq(s.max_body_size, MX_DEF_BODY);
	ck_assert_int_eq(mx_settings_make(NULL, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(mx_conf_check(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(settings_values)
{
	struct mx_conf		c;
	struct mx_settings	s;
	char			err[256], listen[] = "[::1]:9100",
				tok[] = "file:token", to[] = "1500ms";
	uint32_t		mc = 2, hs = 2048, bs = 0;
	int			pm = 0;

	memset(&c, 0, sizeof(c));
	c.listen = listen;
	c.bearer_token = tok;
	c.timeout = to;
	c.max_connections = &mc;
	c.max_headers_size = &hs;
	c.max_body_size = &bs;
	c.process_metrics = &pm;
	ck_assert_int_eq(mx_settings_make(&c, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.addr, "::1");
	ck_assert_int_eq(s.family, 6);
	ck_assert_uint_eq(s.port, 9100);
	ck_assert_str_eq(s.bearer_token, "file:token");
	ck_assert_int_eq(s.process_metrics, 0);
	ck_assert_uint_eq(s.max_connections, 2);
	ck_assert_uint_eq(s.timeout_ms, 1500);
	ck_assert_uint_eq(s.max_headers_size, 2048);
	ck_assert_uint_eq(s.max_body_size, 0);
}
END_TEST

/* Expect mx_conf_check to fail with code and an error starting with key. */
static void
expect_bad(const struct mx_conf *c, int code, const char *key)
{
	char	err[256] = "";

	ck_assert_int_eq(mx_conf_check(c, err, sizeof(err)), code);
	ck_assert_msg(strncmp(err, key, strlen(key)) == 0,
	    "error '%s' does not start with '%s'", err, key);
}

START_TEST(settings_bad)
{
	struct mx_conf	c;
	char		listen[] = "localhost:9520", tok[] = "hunter2",
			to1[] = "10 s", to2[] = "50ms", to3[] = "1h";
	uint32_t	zero = 0, big = 5000, hs = 100, bs = 70000;

	memset(&c, 0, sizeof(c));
	c.listen = listen;
	expect_bad(&c, HYP_ECONFIG, "listen: 'localhost:9520'");
	memset(&c, 0, sizeof(c));
	c.bearer_token = tok;
	expect_bad(&c, HYP_ECONFIG, "bearer_token:");
	memset(&c, 0, sizeof(c));
	c.timeout = to1;
	expect_bad(&c, HYP_ECONFIG, "timeout: invalid duration");
	c.timeout = to2;
	expect_bad(&c, HYP_ERANGE, "timeout: 50ms is outside");
	c.timeout = to3;
	expect_bad(&c, HYP_ECONFIG, "timeout:");
	memset(&c, 0, sizeof(c));
	c.max_connections = &zero;
	expect_bad(&c, HYP_ERANGE, "max_connections: 0 is outside 1 .. 4096");
	c.max_connections = &big;
	expect_bad(&c, HYP_ERANGE, "max_connections: 5000");
	memset(&c, 0, sizeof(c));
	c.max_headers_size = &hs;
	expect_bad(&c, HYP_ERANGE, "max_headers_size: 100");
	memset(&c, 0, sizeof(c));
	c.max_body_size = &bs;
	expect_bad(&c, HYP_ERANGE, "max_body_size: 70000");
}
END_TEST

START_TEST(json_escape)
{
	struct mx_buf	b = { 0 };

	mx_buf_json_str(&b, "a\"b\\c\nd\te\r\x01\x1f\x7f" "\xc3\xa9z");
	ck_assert_int_eq(b.err, 0);
	ck_assert_str_eq(b.p, "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u001f"
	    "\\u007f\xc3\xa9z\"");
	mx_buf_free(&b);
	mx_buf_json_str(&b, "");
	ck_assert_str_eq(b.p, "\"\"");
	mx_buf_printf(&b, "%d", 42);
	ck_assert_str_eq(b.p, "\"\"42");
	ck_assert_uint_eq(b.len, 4);
	mx_buf_free(&b);
	ck_assert_ptr_null(b.p);
}
END_TEST

START_TEST(json_bound)
{
	struct mx_buf	 b = { 0 };
	char		*big;
	size_t		 i;

	if ((big = malloc(4096)) == NULL)
		ck_abort_msg("out of memory");
	memset(big, 'x', 4095);
	big[4095] = '\0';
	for (i = 0; i < MX_JSON_MAX / 4095 + 2; i++)
		mx_buf_adds(&b, big);
	ck_assert_int_eq(b.err, HYP_ENOSPC);
	ck_assert_uint_lt(b.len, MX_JSON_MAX);
	/* Sticky: nothing is added after the failure. */
	i = b.len;
	mx_buf_adds(&b, "y");
	ck_assert_uint_eq(b.len, i);
	mx_buf_free(&b);
	/* A formatted piece too long for the scratch buffer fails too. */
	big[300] = '\0';
	mx_buf_printf(&b, "%s", big);
	ck_assert_int_eq(b.err, HYP_ENOSPC);
	mx_buf_free(&b);
	free(big);
}
END_TEST

START_TEST(endpoints)
{
	ck_assert_int_eq(mx_endpoint_of("/metrics"), MX_EP_METRICS);
	ck_assert_int_eq(mx_endpoint_of("/healthz"), MX_EP_HEALTHZ);
	ck_assert_int_eq(mx_endpoint_of("/readyz"), MX_EP_READYZ);
	ck_assert_int_eq(mx_endpoint_of("/metrics/"), MX_EP_OTHER);
	ck_assert_int_eq(mx_endpoint_of("/METRICS"), MX_EP_OTHER);
	ck_assert_int_eq(mx_endpoint_of(""), MX_EP_OTHER);
	ck_assert_int_eq(mx_endpoint_of(NULL), MX_EP_OTHER);
	ck_assert_str_eq(mx_endpoint_name(MX_EP_READYZ), "readyz");
	ck_assert_str_eq(mx_endpoint_name((enum mx_endpoint)99), "other");
}
END_TEST

START_TEST(auth)
{
	const uint8_t	*tok = (const uint8_t *)"s3cr3t-token";
	size_t		 n = 12;

	ck_assert_int_eq(mx_auth_ok("Bearer s3cr3t-token", tok, n), 1);
	ck_assert_int_eq(mx_auth_ok("bearer s3cr3t-token", tok, n), 1);
	ck_assert_int_eq(mx_auth_ok("BEARER   s3cr3t-token  ", tok, n), 1);
	ck_assert_int_eq(mx_auth_ok("Bearer\ts3cr3t-token", tok, n), 1);
	ck_assert_int_eq(mx_auth_ok("Bearer s3cr3t-tokeN", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("Bearer s3cr3t-token2", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("Bearer s3cr3t-toke", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("Bearer ", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("Bearers3cr3t-token", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("Basic s3cr3t-token", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("s3cr3t-token", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok("", tok, n), 0);
	ck_assert_int_eq(mx_auth_ok(NULL, tok, n), 0);
	/* No token configured never authenticates. */
	ck_assert_int_eq(mx_auth_ok("Bearer ", tok, 0), 0);
	ck_assert_int_eq(mx_auth_ok("Bearer x", NULL, 1), 0);
}
END_TEST

/* The suite. */
static Suite *
metrics_http_suite(void)
{
	Suite	*s = suite_create("metrics_http");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, settings_defaults);
	tcase_add_test(tc, settings_values);
	tcase_add_test(tc, settings_bad);
	tcase_add_test(tc, json_escape);
	tcase_add_test(tc, json_bound);
	tcase_add_test(tc, endpoints);
	tcase_add_test(tc, auth);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_http_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
