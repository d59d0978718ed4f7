/*
 * bench_hist.c: the log-linear latency histogram of hyprox-bench.
 */
#include <string.h>

#include "bench_hist.h"

/* Empty the histogram. */
void
bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Bucket of value v (clamped to the last bucket). */
size_t
bench_hist_index(uint64_t v)
{
	unsigned	e;

	if (v < BH_SUB)
		return ((size_t)v);
	e = 63 - (unsigned)__builtin_clzll(v);
	if (e >= BH_MAX_EXP)
		return (BH_BUCKETS - 1);
	return (BH_SUB + (size_t)(e - BH_SUB_BITS) * BH_SUB +
	    (size_t)((v >> (e - BH_SUB_BITS)) - BH_SUB));
}

/* Largest value that falls into bucket idx. */
uint64_t
bench_hist_upper(size_t idx)
{
	unsigned	e;
	uint64_t	sub;

	if (idx < BH_SUB)
		return ((uint64_t)idx);
	if (idx >= BH_BUCKETS)
		idx = BH_BUCKETS - 1;
	e = (unsigned)((idx - BH_SUB) / BH_SUB) + BH_SUB_BITS;
	sub = (uint64_t)((idx - BH_SUB) % BH_SUB);
	return (((BH_SUB + sub + 1) << (e - BH_SUB_BITS)) - 1);
}

/* Record one value. */
void
bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->b[bench_hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

/*
 * The value at percentile p (0..100): the upper bound of the bucket that
 * holds it, never above the exact maximum; 0 when empty.
 */
uint64_t
bench_hist_percentile(const struct bench_hist *h, double p)
{
	uint64_t	want, seen = 0, v;
	size_t		i;

	if (h->count == 0)
		return (0);
	if (p >= 100.0)
		return (h->max);
	if (p < 0.0)
		p = 0.0;
	want = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < BH_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = bench_hist_upper(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return (v);
		}
	}
	return (h->max);
}

/* Arithmetic mean, 0 when empty. */
double
bench_hist_mean(const struct bench_hist *h)
{
	return (h->count > 0 ? (double)h->sum / (double)h->count : 0.0);
}
