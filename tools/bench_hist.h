/*
 * bench_hist.h: a bounded log-linear latency histogram (HDR-like) for
 * hyprox-bench: exact below 64 us, then 64 sub-buckets per power of two
 * (relative error under 1.6 %), up to 2^42 us; fixed memory, no allocation.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define BH_SUB_BITS	6			/* 64 sub-buckets */
#define BH_SUB		(1u << BH_SUB_BITS)
#define BH_MAX_EXP	42			/* values < 2^42 us */
#define BH_BUCKETS	(BH_SUB + (BH_MAX_EXP - BH_SUB_BITS) * BH_SUB)

/* Counts per bucket plus exact count, sum, min and max. */
struct bench_hist {
	uint64_t	b[BH_BUCKETS];
	uint64_t	count;
	uint64_t	sum;
	uint64_t	min;
	uint64_t	max;
};

void		bench_hist_reset(struct bench_hist *h);
size_t		bench_hist_index(uint64_t v);
uint64_t	bench_hist_upper(size_t idx);
void		bench_hist_add(struct bench_hist *h, uint64_t v);
uint64_t	bench_hist_percentile(const struct bench_hist *h, double p);
double		bench_hist_mean(const struct bench_hist *h);

#endif /* BENCH_HIST_H */
