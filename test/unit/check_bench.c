/*
 * check_bench.c: hyprox-bench's histogram, durations, targets, arguments
 * and report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "bench.h"

/* Values below 64 us are exact; larger ones within 1/64 (rounded up). */
START_TEST(hist_buckets)
{
	uint64_t	v, up;
	size_t		i, prev = 0;

	for (v = 0; v < 64; v++) {
		ck_assert_uint_eq(bench_hist_index(v), v);
		ck_assert_uint_eq(bench_hist_upper(bench_hist_index(v)), v);
	}
	for (v = 64; v < (1ULL << 40); v = v * 17 / 16 + 1) {
		i = bench_hist_index(v);
		ck_assert_uint_lt(i, BH_BUCKETS);
		ck_assert_uint_ge(i, prev);
		prev = i;
		up = bench_hist_upper(i);
		ck_assert_uint_ge(up, v);
		ck_assert_uint_le(up - v, v / 64 + 1);
		if (i > 0)
			ck_assert_uint_lt(bench_hist_upper(i - 1), v);
	}
	/* Beyond the range: the last bucket, no overflow. */
	ck_assert_uint_eq(bench_hist_index(UINT64_MAX), BH_BUCKETS - 1);
	ck_assert_uint_eq(bench_hist_index(1ULL << 42), BH_BUCKETS - 1);
}
END_TEST

/* Percentiles of a known distribution, ordered, and clamped to max. */
START_TEST(hist_percentiles)
{
	static struct bench_hist	h;
	uint64_t			p50, p90, p99, v;

	bench_hist_reset(&h);
	ck_assert_uint_eq(bench_hist_percentile(&h, 50), 0);
	ck_assert(bench_hist_mean(&h) == 0.0);
	for (v = 1; v <= 10000; v++)
		bench_hist_add(&h, v);
	p50 = bench_hist_percentile(&h, 50);
	p90 = bench_hist_percentile(&h, 90);
	p99 = bench_hist_percentile(&h, 99);
	ck_assert_uint_ge(p50, 5000);
	ck_assert_uint_le(p50, 5000 + 5000 / 64 + 1);
	ck_assert_uint_ge(p90, 9000);
	ck_assert_uint_le(p90, 9000 + 9000 / 64 + 1);
	ck_assert_uint_ge(p99, 9900);
	ck_assert_uint_le(p99, 10000);
	ck_assert_uint_le(p50, p90);
	ck_assert_uint_le(p90, p99);
	ck_assert_uint_eq(bench_hist_percentile(&h, 100), 10000);
	ck_assert_uint_eq(h.min, 1);
	ck_assert_uint_eq(h.max, 10000);
	ck_assert_uint_eq(h.count, 10000);
	ck_assert(bench_hist_mean(&h) > 5000.4 && bench_hist_mean(&h) < 5000.6);
	/* One sample: every percentile is that sample. */
	bench_hist_reset(&h);
	bench_hist_add(&h, 777);
	ck_assert_uint_eq(bench_hist_percentile(&h, 1), 777);
	ck_assert_uint_eq(bench_hist_percentile(&h, 99), 777);
}
END_TEST

/* Durations: units, bare seconds, bad input. */
START_TEST(durations)
{
	uint64_t	ms;

	ck_assert_int_eq(bench_parse_duration("500ms", &ms), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(bench_parse_duration("2", &ms), 0);
	ck_assert_uint_eq(ms, 2000);
	ck_assert_int_eq(bench_parse_duration("1.5s", &ms), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(bench_parse_duration("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(bench_parse_duration("", &ms), -1);
	ck_assert_int_eq(bench_parse_duration("-1s", &ms), -1);
	ck_assert_int_eq(bench_parse_duration("10x", &ms), -1);
	ck_assert_int_eq(bench_parse_duration("s", &ms), -1);
	ck_assert_int_eq(bench_parse_duration("48h", &ms), -1);
}
END_TEST

/* Targets: numeric v4 and [v6] with a port; names and bad ports refused. */
START_TEST(targets)
{
	char		addr[64];
	uint16_t	port;

	ck_assert_int_eq(bench_parse_target("127.0.0.1:5520", addr,
	    sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "127.0.0.1");
	ck_assert_uint_eq(port, 5520);
	ck_assert_int_eq(bench_parse_target("[::1]:443", addr, sizeof(addr),
	    &port), 0);
	ck_assert_str_eq(addr, "::1");
	ck_assert_uint_eq(port, 443);
	ck_assert_int_eq(bench_parse_target("localhost:5520", addr,
	    sizeof(addr), &port), -1);
	ck_assert_int_eq(bench_parse_target("127.0.0.1", addr, sizeof(addr),
	    &port), -1);
	ck_assert_int_eq(bench_parse_target("127.0.0.1:0", addr, sizeof(addr),
	    &port), -1);
	ck_assert_int_eq(bench_parse_target("127.0.0.1:70000", addr,
	    sizeof(addr), &port), -1);
	ck_assert_int_eq(bench_parse_target("[::1]443", addr, sizeof(addr),
	    &port), -1);
}
END_TEST

/* Run the parser on a NULL-terminated list. */
static int
parse(struct bench_opts *o, char *err, const char **args)
{
	char	*argv[32];
	int	 argc = 0;

	argv[argc++] = (char *)"hyprox-bench";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	err[0] = '\0';
	return (bench_parse_args(argc, argv, o, err, 256));
}

/* Defaults, a full command line, and refusals. */
START_TEST(arguments)
{
	struct bench_opts	 o;
	char			 err[256];
	const char		*a1[] = { "127.0.0.1:9", NULL };
	const char		*a2[] = { "-m", "handshake", "-c", "8",
	    "--hold", "2s", "-d", "3s", "-w", "0", "--alpn", "h3",
	    "--max-inflight", "4", "--json", "[::1]:10", NULL };
	const char		*bad1[] = { "-r", "5", "-c", "5", "127.0.0.1:9",
	    NULL };
	const char		*bad2[] = { "-m", "session", "127.0.0.1:9",
	    NULL };
	const char		*bad3[] = { "--cert", "x", "127.0.0.1:9", NULL };
	const char		*bad4[] = { "-r", "0", "127.0.0.1:9", NULL };
	const char		*bad5[] = { NULL };
	const char		*bad6[] = { "--bogus", "127.0.0.1:9", NULL };
	const char		*bad7[] = { "-d", "0", "127.0.0.1:9", NULL };
	const char		*help[] = { "-h", NULL };

	ck_assert_int_eq(parse(&o, err, a1), 0);
	ck_assert_int_eq(o.mode, BENCH_REFERRAL);
	ck_assert_uint_eq(o.rate, 100);
	ck_assert_uint_eq(o.concurrency, 0);
	ck_assert_uint_eq(o.duration_ms, 10000);
	ck_assert_uint_eq(o.warmup_ms, 1000);
	ck_assert_uint_eq(o.nalpn, 2);
	ck_assert_str_eq(o.alpn[0], "hytale/2");
	ck_assert_int_eq(o.layout, 2);

	ck_assert_int_eq(parse(&o, err, a2), 0);
	ck_assert_int_eq(o.mode, BENCH_HANDSHAKE);
	ck_assert_uint_eq(o.concurrency, 8);
	ck_assert_uint_eq(o.max_inflight, 8);	/* raised to concurrency */
	ck_assert_uint_eq(o.hold_ms, 2000);
	ck_assert_uint_eq(o.warmup_ms, 0);
	ck_assert_uint_eq(o.nalpn, 1);
	ck_assert_str_eq(o.alpn[0], "h3");
	ck_assert_str_eq(o.addr, "::1");
	ck_assert_uint_eq(o.port, 10);
	ck_assert_int_eq(o.json, 1);

	ck_assert_int_eq(parse(&o, err, bad1), -1);
	ck_assert_ptr_nonnull(strstr(err, "exclude"));
	ck_assert_int_eq(parse(&o, err, bad2), -1);
	ck_assert_ptr_nonnull(strstr(err, "--mode"));
	ck_assert_int_eq(parse(&o, err, bad3), -1);
	ck_assert_int_eq(parse(&o, err, bad4), -1);
	ck_assert_int_eq(parse(&o, err, bad5), -1);
	ck_assert_int_eq(parse(&o, err, bad6), -1);
	ck_assert_ptr_nonnull(strstr(err, "--bogus"));
	ck_assert_int_eq(parse(&o, err, bad7), -1);
	ck_assert_int_eq(parse(&o, err, help), 1);
}
END_TEST

/* The report: JSON fields, and the saturation warning at >= 90 %. */
START_TEST(report)
{
	static struct bench_result	 r;
	struct bench_opts		 o;
	char				 err[256], *buf = NULL;
	size_t				 len = 0;
	FILE				*fp;
	const char			*a[] = { "127.0.0.1:9", NULL };

	ck_assert_int_eq(parse(&o, err, a), 0);
	memset(&r, 0, sizeof(r));
	r.attempted = 10;
	r.completed = 8;
	r.errors[BENCH_E_TIMEOUT] = 2;
	r.window_s = 2.0;
	r.cpu_pct = 95.0;
	bench_hist_add(&r.lat, 100);
	bench_hist_add(&r.lat, 300);
	ck_assert(bench_saturated(&r));
	fp = open_memstream(&buf, &len);
	bench_print_json(fp, &o, &r);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf, "\"completed\":8,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"completed_per_s\":4.00,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"timeout\":2,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"p99\":300,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"generator_saturated\":true"));
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	bench_print_text(fp, &o, &r);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf, "WARNING: generator CPU saturated"));
	free(buf);
	buf = NULL;
	r.cpu_pct = 40.0;
	ck_assert(!bench_saturated(&r));
	fp = open_memstream(&buf, &len);
	bench_print_text(fp, &o, &r);
	fclose(fp);
	ck_assert_ptr_null(strstr(buf, "WARNING"));
	free(buf);
}
END_TEST

/* The suite. */
static Suite *
bench_suite(void)
{
	Suite	*s = suite_create("bench");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, hist_buckets);
	tcase_add_test(tc, hist_percentiles);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, targets);
	tcase_add_test(tc, arguments);
	tcase_add_test(tc, report);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(bench_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
