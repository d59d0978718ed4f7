/*
 * Unit tests for daemon/metrics.c: registration and validation, series,
 * overflow folding, render-time gauges and the exact text format 0.0.4.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyproxd.h"

#define NL	"\n"

static struct hyp_plugin	 test_pl1 = { .name = "one" };
static struct hyp_plugin	 test_pl2 = { .name = "two" };

static int	 test_validate(const char *, char *, size_t);

/* Render the registry, failing the test on error. */
static char *
test_render(void)
{
	char	*out = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = hyp_metrics_render(&out, &len);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), len);
	return (out);
}

/* Whether the rendered text contains this exact line. */
static int
test_has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return (1);
		p++;
	}
	return (0);
}

/* Free the registry after each test (so LeakSanitizer sees the rest). */
static void
test_teardown(void)
{
	hypd_metrics_reset();
}

/* A render-time gauge callback returning *(double *)arg and counting calls. */
static int	test_fn_calls;
static double
test_fn(void *arg)
{
	test_fn_calls++;
	return (*(double *)arg);
}

START_TEST(test_register_types)
{
	static const char *const lbl[] = { "kind", NULL };
	static const char *const v[] = { "a" };
	hyp_metric_t	*c, *g, *h;
	hyp_series_t	*s;
	int		 err = 1;
	char		*out;

	c = hyp_metric_new(NULL, HYP_METRIC_COUNTER, "t_c_total", "C.", NULL,
	    0, NULL, 0, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(err, 0);
	g = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "t_g", "G.", lbl, 0, NULL,
	    0, &err);
	ck_assert_ptr_nonnull(g);
	h = hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "t_h_seconds", "H.",
	    NULL, 0, NULL, 0, NULL);
	ck_assert_ptr_nonnull(h);

	/* Counter: label-less series exists; negatives and NaN ignored. */
	s = hyp_metric_series(c, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert(hyp_metric_series(c, NULL) == s);
	hyp_counter_inc(c, 2);
	hyp_series_add(s, 0.5);
	hyp_series_add(s, -10);
	hyp_series_add(s, NAN);
	ck_assert(hyp_series_value(s) == 2.5);
	/* Wrong-type operations are ignored. */
	hyp_series_set(s, 100);
	hyp_series_observe(s, 1);
	ck_assert(hyp_series_value(s) == 2.5);

	/* Gauge: set and add (negative allowed). */
	s = hyp_metric_series(g, v);
	ck_assert_ptr_nonnull(s);
	ck_assert(hyp_metric_series(g, v) == s);
	hyp_series_set(s, 10);
	hyp_series_gauge_add(s, -12.5);
	ck_assert(hyp_series_value(s) == -2.5);
	hyp_series_add(s, 1);
	ck_assert(hyp_series_value(s) == -2.5);
	/* Bad args. */
	ck_assert_ptr_null(hyp_metric_series(g, NULL));
	ck_assert_ptr_null(hyp_metric_series(NULL, v));
	{
		const char *const nv[] = { NULL };
		ck_assert_ptr_null(hyp_metric_series(g, nv));
	}
	hyp_series_add(NULL, 1);
	hyp_series_set(NULL, 1);
	hyp_series_observe(NULL, 1);
	hyp_counter_inc(NULL, 1);
	hyp_counter_inc(g, 1);
	ck_assert(hyp_series_value(NULL) == 0);

	/* Histogram: count is the value; NaN ignored. */
	s = hyp_metric_series(h, NULL);
	hyp_series_observe(s, 0.003);
	hyp_series_observe(s, 100);
	hyp_series_observe(s, NAN);
	ck_assert(hyp_series_value(s) == 2);

	out = test_render();
	ck_assert(test_has_line(out, "t_c_total 2.5"));
	ck_assert(test_has_line(out, "t_g{kind=\"a\"} -2.5"));
	ck_assert(test_has_line(out, "t_h_seconds_bucket{le=\"0.0025\"} 0"));
	ck_assert(test_has_line(out, "t_h_seconds_bucket{le=\"0.005\"} 1"));
	ck_assert(test_has_line(out, "t_h_seconds_bucket{le=\"10\"} 1"));
	ck_assert(test_has_line(out, "t_h_seconds_bucket{le=\"+Inf\"} 2"));
	ck_assert(test_has_line(out, "t_h_seconds_sum 100.003"));
	ck_assert(test_has_line(out, "t_h_seconds_count 2"));
	free(out);
}
END_TEST

START_TEST(test_name_validation)
{
	static const char *const bad_names[] = {
		"", "1abc", "a-b", "a b", "a.b", "caf\xc3\xa9", "a\nb", "a{",
	};
	static const char *const good_names[] = {
		"a", "_a", ":a:b", "A1_:z", "hyprox_x_total",
	};
	static const char *const bad_labels[][3] = {
		{ "__x", NULL }, { "1a", NULL }, { "a:b", NULL }, { "", NULL },
		{ "a-b", NULL }, { "dup", "dup", NULL },
	};
	static const char *const nine[] = {
		"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", NULL,
	};
	static const char *const le[] = { "le", NULL };
	static const char *const okl[] = { "_x", "a1", "B", NULL };
	char		 longname[400];
	size_t		 i;
	int		 err;

	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER, NULL,
	    "h", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		err = 0;
		ck_assert_msg(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
		    bad_names[i], "h", NULL, 0, NULL, 0, &err) == NULL,
		    "accepted name #%zu", i);
		ck_assert_int_eq(err, HYP_EINVAL);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, longname,
	    "h", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	for (i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++) {
		ck_assert_msg(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
		    good_names[i], "h", NULL, 0, NULL, 0, &err) != NULL,
		    "refused name %s", good_names[i]);
	}
	for (i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		err = 0;
		ck_assert_msg(hyp_metric_new(NULL, HYP_METRIC_COUNTER,
		    "lbl_total", "h", bad_labels[i], 0, NULL, 0, &err) == NULL,
		    "accepted labels #%zu", i);
		ck_assert_int_eq(err, HYP_EINVAL);
	}
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER,
	    "lbl_total", "h", nine, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_COUNTER,
	    "lbl_total", "h", nine + 1, 0, NULL, 0, &err));
	/* "le" is reserved for histograms only. */
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM,
	    "le_hist", "h", le, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
	    "le_gauge", "h", le, 0, NULL, 0, &err));
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
	    "ok_labels", "h", okl, 0, NULL, 0, &err));
	/* Unknown type, bad max_series. */
	ck_assert_ptr_null(hyp_metric_new(NULL, (enum hyp_metric_type)9,
	    "t9", "h", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "big",
	    "h", okl, 1000000, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	/* A render-time gauge needs a function and a valid name. */
	ck_assert_ptr_null(hyp_gauge_fn_new(NULL, "fn_x", "h", NULL, NULL,
	    &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	ck_assert_ptr_null(hyp_gauge_fn_new(NULL, "fn-x", "h", test_fn, NULL,
	    &err));
	ck_assert_int_eq(err, HYP_EINVAL);
}
END_TEST

START_TEST(test_reregister)
{
	static const char *const ab[] = { "a", "b", NULL };
	static const char *const ba[] = { "b", "a", NULL };
	static const char *const a[] = { "a", NULL };
	static const double b1[] = { 1, 2 };
	static const double b2[] = { 1, 3 };
	static const double def[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	hyp_metric_t	*m, *h, *d;
	int		 err;

	m = hyp_metric_new(NULL, HYP_METRIC_COUNTER, "r_total", "R.", ab, 0,
	    NULL, 0, &err);
	ck_assert_ptr_nonnull(m);
	ck_assert(hyp_metric_new(&test_pl1, HYP_METRIC_COUNTER, "r_total",
	    "Other help.", ab, 10, NULL, 0, &err) == m);
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "r_total",
	    "R.", ab, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER, "r_total",
	    "R.", ba, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER, "r_total",
	    "R.", a, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER, "r_total",
	    "R.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);

	h = hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_h", "H.", a, 0, b1,
	    2, &err);
	ck_assert_ptr_nonnull(h);
	ck_assert(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_h", "H.", a, 0,
	    b1, 2, &err) == h);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_h",
	    "H.", a, 0, b2, 2, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_h",
	    "H.", a, 0, b1, 1, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_h",
	    "H.", a, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	/* Explicit default buckets are the default buckets. */
	d = hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_d", "D.", NULL, 0,
	    NULL, 0, &err);
	ck_assert_ptr_nonnull(d);
	ck_assert(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "r_d", "D.", NULL,
	    0, def, sizeof(def) / sizeof(def[0]), &err) == d);

	/* Histogram sample names are taken. */
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER,
	    "r_h_count", "X.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "r_h_bucket",
	    "X.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "x_sum",
	    "X.", NULL, 0, NULL, 0, &err));
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "x",
	    "X.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);

	/* Ordinary gauge and render-time gauge do not mix. */
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "r_g",
	    "G.", NULL, 0, NULL, 0, &err));
	ck_assert_ptr_null(hyp_gauge_fn_new(NULL, "r_g", "G.", test_fn, NULL,
	    &err));
	ck_assert_int_eq(err, HYP_EEXIST);
	ck_assert_ptr_nonnull(hyp_gauge_fn_new(NULL, "r_fn", "G.", test_fn,
	    NULL, &err));
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "r_fn",
	    "G.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_EEXIST);

	/* The overflow counter's name is reserved with its shape. */
	{
		static const char *const ml[] = { "metric", NULL };
		hyp_metric_t *o;

		ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
		    "hyprox_metrics_label_overflow_total", "X.", NULL, 0,
		    NULL, 0, &err));
		ck_assert_int_eq(err, HYP_EEXIST);
		o = hyp_metric_new(NULL, HYP_METRIC_COUNTER,
		    "hyprox_metrics_label_overflow_total", "X.", ml, 0, NULL, 0,
		    &err);
		ck_assert_ptr_nonnull(o);
	}
}
END_TEST

START_TEST(test_render_exact)
{
	static const char *const pc[] = { "path", "code", NULL };
	static const char *const op[] = { "op", NULL };
	static const char *const v1[] = { "/a\"b", "200" };
	static const char *const v2[] = { "back\\slash\nnl", "500" };
	static const char *const get[] = { "get" };
	static const double bk[] = { 0.5, 1, 2.5 };
	static const double one[] = { 1 };
	static const char *const expect =
	    "# HELP aa_temp Temp." NL
	    "# TYPE aa_temp gauge" NL
	    "aa_temp -1.5" NL
	    "# HELP bb_fn Fn." NL
	    "# TYPE bb_fn gauge" NL
	    "bb_fn 0.1" NL
	    "# TYPE cc_nohelp gauge" NL
	    "cc_nohelp 0" NL
	    "# HELP mm_latency_seconds Latency." NL
	    "# TYPE mm_latency_seconds histogram" NL
	    "mm_latency_seconds_bucket{op=\"get\",le=\"0.5\"} 1" NL
	    "mm_latency_seconds_bucket{op=\"get\",le=\"1\"} 3" NL
	    "mm_latency_seconds_bucket{op=\"get\",le=\"2.5\"} 3" NL
	    "mm_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4" NL
	    "mm_latency_seconds_sum{op=\"get\"} 5.25" NL
	    "mm_latency_seconds_count{op=\"get\"} 4" NL
	    "# HELP mm_size Size." NL
	    "# TYPE mm_size histogram" NL
	    "mm_size_bucket{le=\"1\"} 0" NL
	    "mm_size_bucket{le=\"+Inf\"} 0" NL
	    "mm_size_sum 0" NL
	    "mm_size_count 0" NL
	    "# HELP nn_empty_total Empty." NL
	    "# TYPE nn_empty_total counter" NL
	    "# HELP zz_requests_total Requests with \\\\ and\\nnewline." NL
	    "# TYPE zz_requests_total counter" NL
	    "zz_requests_total{path=\"/a\\\"b\",code=\"200\"} 3" NL
	    "zz_requests_total{path=\"back\\\\slash\\nnl\",code=\"500\"} 0.25" NL;
	hyp_metric_t	*m;
	hyp_series_t	*s;
	double		 fv = 0.1;
	char		*out;

	/* Registered out of order: rendering sorts by name. */
	m = hyp_metric_new(NULL, HYP_METRIC_COUNTER, "zz_requests_total",
	    "Requests with \\ and\nnewline.", pc, 0, NULL, 0, NULL);
	hyp_series_add(hyp_metric_series(m, v1), 3);
	hyp_series_add(hyp_metric_series(m, v2), 0.25);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_COUNTER,
	    "nn_empty_total", "Empty.", op, 0, NULL, 0, NULL));
	m = hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "mm_latency_seconds",
	    "Latency.", op, 0, bk, 3, NULL);
	s = hyp_metric_series(m, get);
	hyp_series_observe(s, 0.5);
	hyp_series_observe(s, 0.75);
	hyp_series_observe(s, 3);
	hyp_series_observe(s, 1);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM,
	    "mm_size", "Size.", NULL, 0, one, 1, NULL));
	ck_assert_ptr_nonnull(hyp_gauge_fn_new(NULL, "bb_fn", "Fn.", test_fn,
	    &fv, NULL));
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
	    "cc_nohelp", NULL, NULL, 0, NULL, 0, NULL));
	m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "aa_temp", "Temp.", NULL,
	    0, NULL, 0, NULL);
	hyp_series_set(hyp_metric_series(m, NULL), -1.5);

	out = test_render();
	ck_assert_str_eq(out, expect);
	free(out);
}
END_TEST

START_TEST(test_number_format)
{
	static const struct {
		double		 v;
		const char	*text;
	} cases[] = {
		{ 42, "42" }, { -3, "-3" }, { 0, "0" }, { -0.0, "0" },
		{ 0.1, "0.1" }, { 1.5, "1.5" }, { 1e-05, "1e-05" },
		{ 123456789.125, "123456789.125" },
		{ 9007199254740991.0, "9007199254740991" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 1e20, "1e+20" }, { 1.0 / 3, "0.3333333333333333" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 4294967296.0, "4294967296" }, { -2.5e-300, "-2.5e-300" },
		{ INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { NAN, "NaN" },
	};
	static const char *const lbl[] = { "i", NULL };
	hyp_metric_t	*m;
	char		*out, idx[16], line[128];
	const char	*v[1];
	size_t		 i;

	m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "num", "N.", lbl, 0, NULL,
	    0, NULL);
	ck_assert_ptr_nonnull(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		v[0] = idx;
		hyp_series_set(hyp_metric_series(m, v), cases[i].v);
	}
	out = test_render();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "num{i=\"%zu\"} %s", i,
		    cases[i].text);
		ck_assert_msg(test_has_line(out, line), "missing %s in\n%s",
		    line, out);
		/* Fractional values round-trip exactly. */
		if (isfinite(cases[i].v))
			ck_assert(strtod(cases[i].text, NULL) == cases[i].v);
	}
	free(out);
}
END_TEST

START_TEST(test_sorted)
{
	static const char *const names[] = {
		"b_z", "a_b", "B_upper", "a_a", "_under", ":colon", "a",
	};
	static const char *const order[] = {
		":colon", "B_upper", "_under", "a", "a_a", "a_b", "b_z",
	};
	const char	*p;
	char		*out, needle[64];
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE,
		    names[i], "x", NULL, 0, NULL, 0, NULL));
	}
	out = test_render();
	p = out;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		snprintf(needle, sizeof(needle), "# TYPE %s gauge\n", order[i]);
		p = strstr(p, needle);
		ck_assert_msg(p != NULL, "%s out of order", order[i]);
	}
	free(out);
}
END_TEST

START_TEST(test_gauge_fn)
{
	hyp_metric_t	*m, *m2;
	double		 a = 7, b = 0.25;
	char		*out;
	int		 err;

	test_fn_calls = 0;
	m = hyp_gauge_fn_new(&test_pl1, "proc_fds", "Open fds.", test_fn, &a,
	    &err);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_null(hyp_metric_series(m, NULL));
	ck_assert_ptr_nonnull(hyp_gauge_fn_new(NULL, "core_fn", "Core.",
	    test_fn, &b, NULL));
	ck_assert_int_eq(test_fn_calls, 0);
	out = test_render();
	ck_assert_int_eq(test_fn_calls, 2);
	ck_assert(test_has_line(out, "proc_fds 7"));
	ck_assert(test_has_line(out, "core_fn 0.25"));
	free(out);
	a = 8;
	out = test_render();
	ck_assert(test_has_line(out, "proc_fds 8"));
	free(out);

	/* Another plugin's release does not withdraw it, nor does NULL's. */
	hypd_metrics_release(&test_pl2);
	hypd_metrics_release(NULL);
	out = test_render();
	ck_assert(test_has_line(out, "proc_fds 8"));
	ck_assert(test_has_line(out, "core_fn 0.25"));
	free(out);

	/* The owner's release withdraws it: no HELP, TYPE nor sample. */
	test_fn_calls = 0;
	hypd_metrics_release(&test_pl1);
	out = test_render();
	ck_assert_int_eq(test_fn_calls, 1);
	ck_assert_ptr_null(strstr(out, "proc_fds"));
	ck_assert(test_has_line(out, "core_fn 0.25"));
	free(out);

	/* Registering again (a reload) brings it back in the same object. */
	m2 = hyp_gauge_fn_new(&test_pl1, "proc_fds", "Open fds.", test_fn, &b,
	    &err);
	ck_assert(m2 == m);
	out = test_render();
	ck_assert(test_has_line(out, "proc_fds 0.25"));
	free(out);

	/* A new instance takes it over; the old one's release keeps it. */
	ck_assert(hyp_gauge_fn_new(&test_pl2, "proc_fds", "Open fds.", test_fn,
	    &a, &err) == m);
	hypd_metrics_release(&test_pl1);
	out = test_render();
	ck_assert(test_has_line(out, "proc_fds 8"));
	free(out);
	hypd_metrics_release(&test_pl2);
	out = test_render();
	ck_assert_ptr_null(strstr(out, "proc_fds"));
	free(out);
}
END_TEST

/* Render-time callback that tries to re-enter the registry. */
static int	test_reenter_new_err, test_reenter_render_rc;
static double
test_reenter_fn(void *arg)
{
	char	*out = NULL;

	(void)arg;
	if (hyp_metric_new(NULL, HYP_METRIC_GAUGE, "late", "L.", NULL, 0,
	    NULL, 0, &test_reenter_new_err) != NULL)
		test_reenter_new_err = 1;
	test_reenter_render_rc = hyp_metrics_render(&out, NULL);
	free(out);
	return (1);
}

START_TEST(test_render_reentry)
{
	char	*out;
	int	 err;

	ck_assert_ptr_nonnull(hyp_gauge_fn_new(NULL, "reenter", "R.",
	    test_reenter_fn, NULL, &err));
	out = test_render();
	ck_assert_int_eq(test_reenter_new_err, HYP_EAGAIN);
	ck_assert_int_eq(test_reenter_render_rc, HYP_EAGAIN);
	ck_assert(test_has_line(out, "reenter 1"));
	free(out);
	/* After rendering, registration works again. */
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "late",
	    "L.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(hyp_metrics_render(NULL, NULL), HYP_EINVAL);
}
END_TEST

START_TEST(test_overflow)
{
	static const char *const lbl[] = { "peer", "kind", NULL };
	static const char *const a[] = { "1.1.1.1", "x" };
	static const char *const b[] = { "2.2.2.2", "x" };
	static const char *const c[] = { "3.3.3.3", "x" };
	static const char *const d[] = { "4.4.4.4", "y" };
	static const char *const oth[] = { "other", "other" };
	static const char *const half[] = { "other", "x" };
	hyp_metric_t	*m, *m2;
	hyp_series_t	*sa, *sb, *sc, *sd, *so;
	char		*out;

	m = hyp_metric_new(&test_pl1, HYP_METRIC_COUNTER, "conn_total", "C.",
	    lbl, 2, NULL, 0, NULL);
	ck_assert_ptr_nonnull(m);
	sa = hyp_metric_series(m, a);
	sb = hyp_metric_series(m, b);
	ck_assert(sa != sb);
	/* No overflow yet: the core counter does not exist. */
	out = test_render();
	ck_assert_ptr_null(strstr(out, "hyprox_metrics_label_overflow_total"));
	ck_assert_ptr_null(strstr(out, "other"));
	free(out);

	sc = hyp_metric_series(m, c);
	sd = hyp_metric_series(m, d);
	ck_assert_ptr_nonnull(sc);
	ck_assert(sc == sd);
	ck_assert(sc != sa && sc != sb);
	/* Existing series still resolve to themselves. */
	ck_assert(hyp_metric_series(m, a) == sa);
	/* Asking for the all-"other" set is not an overflow. */
	so = hyp_metric_series(m, oth);
	ck_assert(so == sc);
	/* A partly-"other" set is an ordinary, over-bound combination. */
	ck_assert(hyp_metric_series(m, half) == sc);
	hyp_series_add(sa, 1);
	hyp_series_add(sc, 5);
	hyp_series_add(sd, 1);

	/* A second family overflowing gets its own counter series. */
	m2 = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "peers", "P.", lbl, 1,
	    NULL, 0, NULL);
	hyp_series_set(hyp_metric_series(m2, a), 1);
	hyp_series_set(hyp_metric_series(m2, b), 2);

	out = test_render();
	ck_assert_str_eq(out,
	    "# HELP conn_total C." NL
	    "# TYPE conn_total counter" NL
	    "conn_total{peer=\"1.1.1.1\",kind=\"x\"} 1" NL
	    "conn_total{peer=\"2.2.2.2\",kind=\"x\"} 0" NL
	    "conn_total{peer=\"other\",kind=\"other\"} 6" NL
	    "# HELP hyprox_metrics_label_overflow_total Label combinations "
	    "folded into the \"other\" series because a metric reached its "
	    "max_series." NL
	    "# TYPE hyprox_metrics_label_overflow_total counter" NL
	    "hyprox_metrics_label_overflow_total{metric=\"conn_total\"} 3" NL
	    "hyprox_metrics_label_overflow_total{metric=\"peers\"} 1" NL
	    "# HELP peers P." NL
	    "# TYPE peers gauge" NL
	    "peers{peer=\"1.1.1.1\",kind=\"x\"} 1" NL
	    "peers{peer=\"other\",kind=\"other\"} 2" NL);
	free(out);
}
END_TEST

START_TEST(test_overflow_first_is_other)
{
	static const char *const lbl[] = { "k", NULL };
	static const char *const oth[] = { "other" };
	static const char *const a[] = { "a" };
	hyp_metric_t	*m;
	hyp_series_t	*so, *sa;
	char		*out;

	/* A legitimate "other" value shares the overflow series, no count. */
	m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "o", "O.", lbl, 1, NULL,
	    0, NULL);
	so = hyp_metric_series(m, oth);
	sa = hyp_metric_series(m, a);
	ck_assert(so != sa);
	hyp_series_set(so, 1);
	hyp_series_set(sa, 2);
	out = test_render();
	ck_assert_str_eq(out,
	    "# HELP o O." NL
	    "# TYPE o gauge" NL
	    "o{k=\"other\"} 1" NL
	    "o{k=\"a\"} 2" NL);
	free(out);
}
END_TEST

START_TEST(test_value_truncation)
{
	static const char *const lbl[] = { "v", NULL };
	char		 v1[300], v2[300], v3[300], expect[400];
	const char	*vals[1];
	hyp_metric_t	*m;
	hyp_series_t	*s1, *s2, *s3;
	char		*out;

	m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "trunc", "T.", lbl, 0, NULL,
	    0, NULL);
	memset(v1, 'a', 200);
	v1[200] = '\0';
	memcpy(v2, v1, sizeof(v1));
	v2[150] = 'b';		/* differs only past the bound */
	vals[0] = v1;
	s1 = hyp_metric_series(m, vals);
	vals[0] = v2;
	s2 = hyp_metric_series(m, vals);
	ck_assert(s1 == s2);
	v1[128] = '\0';		/* exactly the bound: the same series */
	vals[0] = v1;
	ck_assert(hyp_metric_series(m, vals) == s1);
	/* A two-byte UTF-8 character across the bound is dropped whole. */
	memset(v3, 'c', 127);
	memcpy(v3 + 127, "\xc3\xa9zzz", 6);
	vals[0] = v3;
	s3 = hyp_metric_series(m, vals);
	ck_assert(s3 != s1);
	hyp_series_set(s1, 1);
	hyp_series_set(s3, 2);
	out = test_render();
	memset(expect, 0, sizeof(expect));
	strcat(expect, "trunc{v=\"");
	memset(expect + strlen(expect), 'a', 128);
	strcat(expect, "\"} 1");
	ck_assert(test_has_line(out, expect));
	memset(expect, 0, sizeof(expect));
	strcat(expect, "trunc{v=\"");
	memset(expect + strlen(expect), 'c', 127);
	strcat(expect, "\"} 2");
	ck_assert(test_has_line(out, expect));
	free(out);
}
END_TEST

START_TEST(test_buckets)
{
	static const double dec[] = { 1, 0.5 };
	static const double eq[] = { 1, 1 };
	static const double nan[] = { 1, NAN };
	static const double inf[] = { 1, INFINITY };
	static const double ninf[] = { -INFINITY, 1 };
	static const double neg[] = { -5, -1, 0, 2 };
	double		 many[33];
	hyp_metric_t	*m;
	hyp_series_t	*s;
	char		*out;
	size_t		 i;
	int		 err;

	for (i = 0; i < 33; i++)
		many[i] = (double)i;
#define BAD(b, n) do {							\
	err = 0;							\
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM,	\
	    "bad_h", "B.", NULL, 0, (b), (n), &err));			\
	ck_assert_int_eq(err, HYP_EINVAL);				\
} while (0)
	BAD(dec, 2);
	BAD(eq, 2);
	BAD(nan, 2);
	BAD(inf, 2);
	BAD(ninf, 2);
	BAD(many, 33);
	BAD(many, 0);
#undef BAD
	/* Buckets on a counter are refused. */
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_COUNTER, "c_total",
	    "C.", NULL, 0, neg, 4, &err));
	ck_assert_int_eq(err, HYP_EINVAL);
	ck_assert_ptr_nonnull(hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM,
	    "ok32", "B.", NULL, 0, many, 32, &err));

	m = hyp_metric_new(NULL, HYP_METRIC_HISTOGRAM, "neg_h", "N.", NULL, 0,
	    neg, 4, &err);
	ck_assert_ptr_nonnull(m);
	s = hyp_metric_series(m, NULL);
	hyp_series_observe(s, -10);	/* le=-5 */
	hyp_series_observe(s, -5);	/* le=-5: bounds are inclusive */
	hyp_series_observe(s, -4.5);	/* le=-1 */
	hyp_series_observe(s, 0);	/* le=0 */
	hyp_series_observe(s, 3);	/* +Inf */
	hyp_series_observe(s, INFINITY);	/* +Inf */
	out = test_render();
	ck_assert_msg(strstr(out,
	    "# HELP neg_h N." NL
	    "# TYPE neg_h histogram" NL
	    "neg_h_bucket{le=\"-5\"} 2" NL
	    "neg_h_bucket{le=\"-1\"} 3" NL
	    "neg_h_bucket{le=\"0\"} 4" NL
	    "neg_h_bucket{le=\"2\"} 4" NL
	    "neg_h_bucket{le=\"+Inf\"} 6" NL
	    "neg_h_sum +Inf" NL
	    "neg_h_count 6" NL) != NULL, "got\n%s", out);
	free(out);
}
END_TEST

START_TEST(test_reset)
{
	static const char *const lbl[] = { "k", NULL };
	static const char *const a[] = { "a" };
	static const char *const b[] = { "b" };
	hyp_metric_t	*m;
	char		*out;
	size_t		 len;
	int		 err;

	m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, "x", "X.", lbl, 1, NULL, 0,
	    NULL);
	hyp_metric_series(m, a);
	hyp_metric_series(m, b);	/* creates the overflow counter */
	hyp_gauge_fn_new(&test_pl1, "f", "F.", test_fn, NULL, NULL);
	hypd_metrics_reset();
	ck_assert_int_eq(hyp_metrics_render(&out, &len), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(len, 0);
	free(out);
	/* Names are free again, with any shape. */
	m = hyp_metric_new(NULL, HYP_METRIC_COUNTER, "x", "X.", NULL, 0, NULL,
	    0, &err);
	ck_assert_ptr_nonnull(m);
	hyp_counter_inc(m, 1);
	out = test_render();
	ck_assert_str_eq(out, "# HELP x X." NL "# TYPE x counter" NL "x 1" NL);
	free(out);
	hypd_metrics_reset();
	hypd_metrics_reset();
}
END_TEST

START_TEST(test_family_bound)
{
	static const char *const lbl[] = { "k", NULL };
	static const char *const a[] = { "a" };
	static const char *const b[] = { "b" };
	hyp_metric_t	*first = NULL, *m;
	char		 name[32], *out;
	int		 i, err;

	for (i = 0; i < 1024; i++) {
		snprintf(name, sizeof(name), "g%04d", i);
		m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, name, "G.",
		    i == 0 ? lbl : NULL, 1, NULL, 0, &err);
		ck_assert_msg(m != NULL, "family %d refused: %d", i, err);
		if (i == 0)
			first = m;
	}
	ck_assert_ptr_null(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "g9999",
	    "G.", NULL, 0, NULL, 0, &err));
	ck_assert_int_eq(err, HYP_ENOSPC);
	/* Re-registering an existing one still works when full. */
	ck_assert(hyp_metric_new(NULL, HYP_METRIC_GAUGE, "g0000", "G.", lbl, 1,
	    NULL, 0, &err) == first);
	/* The overflow counter has a reserved slot. */
	hyp_metric_series(first, a);
	hyp_metric_series(first, b);
	out = test_render();
	ck_assert(test_has_line(out,
	    "hyprox_metrics_label_overflow_total{metric=\"g0000\"} 1"));
	ck_assert(test_validate(out, NULL, 0) > 0);
	free(out);
}
END_TEST

START_TEST(test_render_bound)
{
	static const char *const lbl[] = { "k", NULL };
	hyp_metric_t	*m;
	char		 v[128], *out = (char *)1;
	const char	*vals[1] = { v };
	size_t		 len = 99;
	int		 f, i;

	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	for (f = 0; f < 2; f++) {
		snprintf(v, sizeof(v), "big%d", f);
		m = hyp_metric_new(NULL, HYP_METRIC_GAUGE, v, "B.", lbl, 65536,
		    NULL, 0, NULL);
		ck_assert_ptr_nonnull(m);
		memset(v, 'v', sizeof(v) - 1);
		for (i = 0; i < 65536; i++) {
			snprintf(v, 16, "%08d", i);
			v[8] = 'v';
			ck_assert_ptr_nonnull(hyp_metric_series(m, vals));
		}
	}
	ck_assert_int_eq(hyp_metrics_render(&out, &len), HYP_ENOSPC);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* Whether s[0..n) is a valid metric name. */
static int
test_is_name(const char *s, size_t n, int label)
{
	size_t	i;

	if (n == 0)
		return (0);
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || s[i] == '_' || (!label && s[i] == ':'))
			continue;
		if (i > 0 && s[i] >= '0' && s[i] <= '9')
			continue;
		return (0);
	}
	return (1);
}

/* Parse a sample value; 0 when malformed. */
static int
test_parse_value(const char *s, size_t n, double *v)
{
	char	buf[64], *end;
	size_t	i;

	if (n == 4 && strncmp(s, "+Inf", 4) == 0) {
		*v = INFINITY;
		return (1);
	}
	if (n == 4 && strncmp(s, "-Inf", 4) == 0) {
		*v = -INFINITY;
		return (1);
	}
	if (n == 3 && strncmp(s, "NaN", 3) == 0) {
		*v = NAN;
		return (1);
	}
	if (n == 0 || n >= sizeof(buf))
		return (0);
	for (i = 0; i < n; i++) {
		if (strchr("0123456789.eE+-", s[i]) == NULL)
			return (0);
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, &end);
	return (*end == '\0');
}

#define TEST_FAIL(...) do {						\
	if (why != NULL)						\
		snprintf(why, whylen, __VA_ARGS__);			\
	goto fail;							\
} while (0)

/*
 * Check text against the 0.0.4 grammar as this registry writes it: HELP
 * then TYPE per family, families sorted and unique, samples named after
 * their family, labels well formed and unique per family, values parsable,
 * histogram buckets cumulative with le last and ascending to +Inf, _count
 * equal to the +Inf bucket.  Returns the number of samples, -1 on error.
 */
static int
test_validate(const char *text, char *why, size_t whylen)
{
	char		  family[300] = "", type[16] = "", help_for[300] = "";
	char		  sname[300], key[2048], bkey[2048] = "", lname[300];
	char		**seen = NULL;
	size_t		  nseen = 0, n, i, j, lineno = 0;
	const char	 *line, *end, *p, *q, *sp;
	double		  v, last_le = 0, last_cnt = 0, inf_cnt = -1;
	int		  samples = 0, in_bucket = 0, nl;
	char		  lnames[16][300];

	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		TEST_FAIL("no final newline");
	for (line = text; *line != '\0'; line = end + 1) {
		lineno++;
		end = strchr(line, '\n');
		n = end - line;
		if (n == 0)
			TEST_FAIL("line %zu: empty", lineno);
		if (line[0] == '#') {
			if (n > 7 && strncmp(line, "# HELP ", 7) == 0) {
				p = line + 7;
				sp = memchr(p, ' ', end - p);
				if (sp == NULL || !test_is_name(p, sp - p, 0))
					TEST_FAIL("line %zu: bad HELP", lineno);
				for (q = sp + 1; q < end; q++) {
					if (*q == '\\' && (q + 1 == end ||
					    (q[1] != '\\' && q[1] != 'n')))
						TEST_FAIL("line %zu: bad escape",
						    lineno);
					if (*q == '\\')
						q++;
				}
				snprintf(help_for, sizeof(help_for), "%.*s",
				    (int)(sp - p), p);
				continue;
			}
			if (n > 7 && strncmp(line, "# TYPE ", 7) == 0) {
				p = line + 7;
				sp = memchr(p, ' ', end - p);
				if (sp == NULL || !test_is_name(p, sp - p, 0))
					TEST_FAIL("line %zu: bad TYPE", lineno);
				snprintf(sname, sizeof(sname), "%.*s",
				    (int)(sp - p), p);
				if (help_for[0] != '\0' &&
				    strcmp(help_for, sname) != 0)
					TEST_FAIL("line %zu: HELP for another "
					    "family", lineno);
				if (family[0] != '\0' &&
				    strcmp(family, sname) >= 0)
					TEST_FAIL("line %zu: %.60s not after %.60s",
					    lineno, sname, family);
				if (in_bucket)
					TEST_FAIL("line %zu: buckets without "
					    "_count", lineno);
				snprintf(family, sizeof(family), "%s", sname);
				snprintf(type, sizeof(type), "%.*s",
				    (int)(end - sp - 1), sp + 1);
				if (strcmp(type, "counter") != 0 &&
				    strcmp(type, "gauge") != 0 &&
				    strcmp(type, "histogram") != 0)
					TEST_FAIL("line %zu: type %s", lineno,
					    type);
				help_for[0] = '\0';
				for (i = 0; i < nseen; i++)
					free(seen[i]);
				nseen = 0;
				continue;
			}
			TEST_FAIL("line %zu: unknown comment", lineno);
		}
		if (family[0] == '\0' || help_for[0] != '\0')
			TEST_FAIL("line %zu: sample before TYPE", lineno);

		/* name */
		for (p = line; p < end && *p != '{' && *p != ' '; p++)
			;
		if (!test_is_name(line, p - line, 0))
			TEST_FAIL("line %zu: bad sample name", lineno);
		snprintf(sname, sizeof(sname), "%.*s", (int)(p - line), line);

		/* labels: key is the label set without le */
		key[0] = '\0';
		nl = 0;
		v = NAN;
		{
			int	has_le = 0;
			double	le = NAN;

			if (*p == '{') {
				p++;
				if (*p == '}')
					TEST_FAIL("line %zu: empty {}", lineno);
				for (;;) {
					for (q = p; q < end && *q != '='; q++)
						;
					if (q == end || !test_is_name(p, q - p,
					    1) || q[1] != '"')
						TEST_FAIL("line %zu: bad label",
						    lineno);
					if (has_le)
						TEST_FAIL("line %zu: le not "
						    "last", lineno);
					snprintf(lname, sizeof(lname), "%.*s",
					    (int)(q - p), p);
					for (j = 0; j < (size_t)nl; j++) {
						if (strcmp(lnames[j], lname) ==
						    0)
							TEST_FAIL("line %zu: "
							    "label twice",
							    lineno);
					}
					if (nl >= 16)
						TEST_FAIL("too many labels");
					snprintf(lnames[nl++], 300, "%s",
					    lname);
					for (q += 2; q < end && *q != '"'; q++) {
						if (*q != '\\')
							continue;
						if (q + 1 == end || (q[1] !=
						    '\\' && q[1] != '"' &&
						    q[1] != 'n'))
							TEST_FAIL("line %zu: "
							    "bad escape",
							    lineno);
						q++;
					}
					if (q == end)
						TEST_FAIL("line %zu: open "
						    "quote", lineno);
					if (strcmp(lname, "le") == 0) {
						has_le = 1;
						sp = strchr(p, '"') + 1;
						if (!test_parse_value(sp,
						    q - sp, &le))
							TEST_FAIL("line %zu: "
							    "bad le", lineno);
					} else if (strlen(key) + (q - p) + 2 <
					    sizeof(key)) {
						strncat(key, p, q + 1 - p);
						strcat(key, ",");
					}
					p = q + 1;
					if (*p == '}')
						break;
					if (*p != ',')
						TEST_FAIL("line %zu: expected "
						    ", or }", lineno);
					p++;
				}
				p++;
			}
			if (*p != ' ')
				TEST_FAIL("line %zu: no space before value",
				    lineno);
			p++;
			if (!test_parse_value(p, end - p, &v))
				TEST_FAIL("line %zu: bad value '%.*s'", lineno,
				    (int)(end - p), p);

			/* sample name against its family */
			n = strlen(family);
			if (strcmp(type, "histogram") != 0) {
				if (strcmp(sname, family) != 0 || has_le)
					TEST_FAIL("line %zu: %.60s in family %.60s",
					    lineno, sname, family);
			} else if (strncmp(sname, family, n) != 0) {
				TEST_FAIL("line %zu: %.60s in family %.60s", lineno,
				    sname, family);
			} else if (strcmp(sname + n, "_bucket") == 0) {
				if (!has_le)
					TEST_FAIL("line %zu: bucket without "
					    "le", lineno);
				if (!in_bucket || strcmp(bkey, key) != 0) {
					if (in_bucket)
						TEST_FAIL("line %zu: new series "
						    "before +Inf", lineno);
					snprintf(bkey, sizeof(bkey), "%s",
					    key);
					in_bucket = 1;
					last_cnt = 0;
				} else if (!(le > last_le))
					TEST_FAIL("line %zu: le not "
					    "ascending", lineno);
				if (v < last_cnt || v != floor(v))
					TEST_FAIL("line %zu: bucket not "
					    "cumulative", lineno);
				last_le = le;
				last_cnt = v;
				if (isinf(le) && le > 0) {
					in_bucket = 0;
					inf_cnt = v;
				}
			} else if (strcmp(sname + n, "_sum") == 0) {
				if (in_bucket || strcmp(bkey, key) != 0)
					TEST_FAIL("line %zu: _sum misplaced",
					    lineno);
			} else if (strcmp(sname + n, "_count") == 0) {
				if (in_bucket || strcmp(bkey, key) != 0 ||
				    v != inf_cnt)
					TEST_FAIL("line %zu: _count %g != "
					    "+Inf bucket %g", lineno, v,
					    inf_cnt);
			} else
				TEST_FAIL("line %zu: %.60s in histogram %.60s",
				    lineno, sname, family);
			if (has_le)
				continue;
		}
		/* unique series within the family */
		snprintf(lname, sizeof(lname), "%s", sname);
		for (i = 0; i < nseen; i++) {
			if (strncmp(seen[i], lname, strlen(lname)) == 0 &&
			    strcmp(seen[i] + strlen(lname), key) == 0)
				TEST_FAIL("line %zu: duplicate series",
				    lineno);
		}
		seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		ck_assert_ptr_nonnull(seen);
		seen[nseen] = malloc(strlen(lname) + strlen(key) + 1);
		ck_assert_ptr_nonnull(seen[nseen]);
		strcpy(seen[nseen], lname);
		strcat(seen[nseen], key);
		nseen++;
		samples++;
	}
	if (in_bucket)
		TEST_FAIL("buckets without +Inf at the end");
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	return (samples);
fail:
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	return (-1);
}

START_TEST(test_validator_rejects)
{
	static const char *const bad[] = {
		"x 1",					/* no newline */
		"# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",	/* dup */
		"# TYPE x gauge\nx{a=\"\\t\"} 1\n",	/* bad escape */
		"# TYPE x gauge\ny 1\n",		/* wrong family */
		"# TYPE b gauge\n# TYPE a gauge\n",	/* unsorted */
		"# TYPE x gauge\nx one\n",		/* bad value */
		"# TYPE x gauge\nx{1a=\"v\"} 1\n",	/* bad label */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\n",
		"x 1\n",				/* no TYPE */
		"# TYPE x gauge\nx  1\n",
	};
	size_t	i;
	char	why[256];

	ck_assert_int_eq(test_validate("# HELP x a\\\\b\\n\n# TYPE x gauge\n"
	    "x{a=\"q\\\"\"} 1e-05\n", why, sizeof(why)), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(test_validate(bad[i], why, sizeof(why)) == -1,
		    "accepted bad #%zu", i);
	}
}
END_TEST

/* Return a fixed awkward value. */
static double
test_fn_nan(void *arg)
{
	(void)arg;
	return (NAN);
}

START_TEST(test_grammar_50)
{
	static const char *const l1[] = { "peer", NULL };
	static const char *const l3[] = { "a", "b_c", "D9", NULL };
	static const char *const nasty[] = {
		"plain", "q\"uote", "back\\slash", "new\nline", "",
		"\xe2\x9c\x93 utf8", "{braces}=,", "trailing\\", "other",
	};
	hyp_metric_t	*m;
	hyp_series_t	*s;
	double		 k = 3.5;
	const char	*vals[3];
	char		 name[64], longv[200], why[256], *out;
	int		 i, j, idx, nsamples;
	enum hyp_metric_type types[] = { HYP_METRIC_COUNTER, HYP_METRIC_GAUGE,
	    HYP_METRIC_HISTOGRAM };

	memset(longv, 'L', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	for (i = 0; i < 50; i++) {
		idx = (i * 7) % 50;	/* registration order differs from name order */
		snprintf(name, sizeof(name), "fam_%02d_%s", idx,
		    idx % 3 == 0 ? "total" : "x");
		if (idx % 10 == 9) {
			ck_assert_ptr_nonnull(hyp_gauge_fn_new(NULL, name,
			    "Render\\time\n gauge.", idx % 20 == 9 ?
			    test_fn_nan : test_fn, &k, NULL));
			continue;
		}
		m = hyp_metric_new(&test_pl1, types[idx % 3], name,
		    idx % 4 == 0 ? NULL : "Help with \"quotes\" and \\.",
		    idx % 2 == 0 ? NULL : (idx % 5 == 1 ? l3 : l1),
		    idx % 7 == 0 ? 3 : 0, NULL, 0, NULL);
		ck_assert_msg(m != NULL, "family %s refused", name);
		for (j = 0; j < 12; j++) {
			vals[0] = nasty[j % 9];
			vals[1] = j == 11 ? longv : nasty[(j + 1) % 9];
			vals[2] = nasty[(j * 5) % 9];
			s = hyp_metric_series(m, vals);
			ck_assert_ptr_nonnull(s);
			hyp_series_add(s, j * 1.25);
			hyp_series_set(s, j % 2 ? -j / 3.0 : j);
			hyp_series_observe(s, j * 0.01);
			hyp_series_observe(s, j * 7.0);
		}
	}
	out = test_render();
	nsamples = test_validate(out, why, sizeof(why));
	ck_assert_msg(nsamples > 0, "%s\n%s", why, out);
	ck_assert(strstr(out, "fam_09_total NaN\n") != NULL);
	ck_assert(strstr(out, "fam_19_x 3.5\n") != NULL);
	ck_assert(strstr(out, "# TYPE hyprox_metrics_label_overflow_total "
	    "counter\n") != NULL);
	/* Every family rendered once, plus the overflow counter. */
	for (i = 0, j = 0; out[i] != '\0'; i++) {
		if (strncmp(out + i, "# TYPE ", 7) == 0 &&
		    (i == 0 || out[i - 1] == '\n'))
			j++;
	}
	ck_assert_int_eq(j, 51);
	free(out);
}
END_TEST

/* Build the suite. */
static Suite *
metrics_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("metrics");
	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, NULL, test_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_register_types);
	tcase_add_test(tc, test_name_validation);
	tcase_add_test(tc, test_reregister);
	tcase_add_test(tc, test_render_exact);
	tcase_add_test(tc, test_number_format);
	tcase_add_test(tc, test_sorted);
	tcase_add_test(tc, test_gauge_fn);
	tcase_add_test(tc, test_render_reentry);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_overflow_first_is_other);
	tcase_add_test(tc, test_value_truncation);
	tcase_add_test(tc, test_buckets);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_family_bound);
	tcase_add_test(tc, test_render_bound);
	tcase_add_test(tc, test_validator_rejects);
	tcase_add_test(tc, test_grammar_50);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
