/*
 * bench.h: hyprox-bench, the load generator of bench/: options and the
 * helpers its unit-free parts share (parsing, output).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_hist.h"

#define BENCH_MAX_ALPN		8		/* == HQ_MAX_ALPN */
#define BENCH_MAX_INFLIGHT	65536		/* hard bound of --max-inflight */
#define BENCH_MAX_RATE		1000000		/* connections per second */
#define BENCH_MAX_REPLY		(16u << 20)	/* first packet payload */
#define BENCH_SATURATED		90.0		/* % of one core */
#define BENCH_BEHIND_US		10000		/* start lag p99: behind */

/* What one attempt does. */
enum bench_mode {
	BENCH_HANDSHAKE = 0,	/* connect, complete the handshake, close */
	BENCH_REFERRAL		/* ... send Connect, wait for the answer */
};

/* How an attempt that did not complete failed. */
enum bench_err {
	BENCH_E_HANDSHAKE = 0,	/* handshake_failed */
	BENCH_E_TIMEOUT,	/* timeout */
	BENCH_E_NOPACKET,	/* closed_without_packet */
	BENCH_E_OTHER,		/* other (unexpected packet, local error) */
	BENCH_E_SKIPPED,	/* skipped_max_inflight (open loop only) */
	BENCH_E_COUNT
};

/* Command line. */
struct bench_opts {
	char			 addr[64];	/* numeric */
	uint16_t		 port;
	enum bench_mode		 mode;
	uint64_t		 rate;		/* open loop, per second */
	uint64_t		 concurrency;	/* closed loop */
	uint64_t		 duration_ms;
	uint64_t		 warmup_ms;
	uint64_t		 timeout_ms;
	uint64_t		 hold_ms;
	size_t			 max_inflight;
	char			 alpnbuf[256];
	const char		*alpn[BENCH_MAX_ALPN];
	size_t			 nalpn;
	const char		*sni;
	const char		*priority;
	const char		*cert_file;
	const char		*key_file;
	int			 no_client_cert;
	int			 layout;	/* 1, 2, 3 */
	int			 json;
	int			 progress;
};

/* Results of the measurement window. */
struct bench_result {
	uint64_t		 attempted;	/* intended start in the window */
	uint64_t		 completed;
	uint64_t		 errors[BENCH_E_COUNT];
	uint64_t		 referrals;	/* referral mode replies */
	uint64_t		 disconnects;
	uint64_t		 other_replies;
	double			 window_s;
	double			 cpu_user_s;
	double			 cpu_sys_s;
	double			 cpu_pct;	/* of one core, over the window */
	uint64_t		 lag_p99_us;	/* open loop: start - intended */
	uint64_t		 lag_max_us;
	uint64_t		 peak_inflight;
	int			 interrupted;
	struct bench_hist	 lat;		/* microseconds */
};

/* bench_util.c */
int		bench_parse_args(int argc, char **argv, struct bench_opts *o,
		    char *err, size_t errlen);
int		bench_parse_duration(const char *s, uint64_t *ms);
int		bench_parse_target(const char *s, char *addr, size_t cap,
		    uint16_t *port);
const char	*bench_err_name(enum bench_err e);
const char	*bench_mode_name(enum bench_mode m);
int		bench_saturated(const struct bench_result *r);
int		bench_behind(const struct bench_result *r);
void		bench_print_text(FILE *fp, const struct bench_opts *o,
		    const struct bench_result *r);
void		bench_print_json(FILE *fp, const struct bench_opts *o,
		    const struct bench_result *r);
void		bench_usage(FILE *fp);

#endif /* BENCH_H */
