/*
 * bench_util.c: hyprox-bench's command line and report (text and JSON).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BENCH_DEFAULT_ALPN	"hytale/2,hytale/1"

static const char *const bench_err_names[BENCH_E_COUNT] = {
	[BENCH_E_HANDSHAKE] = "handshake_failed",
	[BENCH_E_TIMEOUT] = "timeout",
	[BENCH_E_NOPACKET] = "closed_without_packet",
	[BENCH_E_OTHER] = "other",
	[BENCH_E_SKIPPED] = "skipped_max_inflight",
};

/* Print the usage to fp. */
void
bench_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hyprox-bench [options] ADDR:PORT\n"
	    "load:\n"
	    "  -m, --mode handshake|referral   what one connection does "
	    "(default referral)\n"
	    "  -r, --rate N          open loop: N new connections/s (default "
	    "100)\n"
	    "  -c, --concurrency N   closed loop: keep N connections going\n"
	    "  -d, --duration DUR    measurement window (default 10s)\n"
	    "  -w, --warmup DUR      before the window (default 1s)\n"
	    "  --max-inflight N      bound on open connections (default "
	    "4096)\n"
	    "  --timeout DUR         per connection (default 5s)\n"
	    "  --hold DUR            keep each connection open idle this long "
	    "after it completed\n"
	    "connection:\n"
	    "  --alpn LIST           ALPN offer (default " BENCH_DEFAULT_ALPN
	    ")\n"
	    "  --sni NAME            server name (default none)\n"
	    "  --priority STR        GnuTLS priority string\n"
	    "  --cert FILE --key FILE  client certificate (default: one "
	    "generated at start)\n"
	    "  --no-client-cert      present no client certificate\n"
	    "  --layout v1|v2|v3     Connect layout (default v2)\n"
	    "output:\n"
	    "  -j, --json            one JSON object on stdout\n"
	    "  -p, --progress        a status line per second on stderr\n"
	    "  -h, --help, -V, --version\n");
}

/* Parse "500ms", "10s", "2m", "1h" or bare seconds into milliseconds. */
int
bench_parse_duration(const char *s, uint64_t *ms)
{
	char		*end;
	double		 v, mult;

	if (s == NULL || *s == '\0' || *s == '-')
		return (-1);
	v = strtod(s, &end);
	if (end == s || v < 0)
		return (-1);
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000.0;
	else if (strcmp(end, "ms") == 0)
		mult = 1.0;
	else if (strcmp(end, "m") == 0)
		mult = 60000.0;
	else if (strcmp(end, "h") == 0)
		mult = 3600000.0;
	else
		return (-1);
	v *= mult;
	if (v > 86400000.0)
		return (-1);
	*ms = (uint64_t)(v + 0.5);
	return (0);
}

/* Parse "ADDR:PORT" or "[V6]:PORT" with a numeric address. */
int
bench_parse_target(const char *s, char *addr, size_t cap, uint16_t *port)
{
	const char	*colon, *a = s;
	char		*end;
	unsigned long	 p;
	size_t		 alen;
	uint8_t		 buf[16];

	if (*s == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':')
			return (-1);
		a = s + 1;
		alen = (size_t)(colon - a);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return (-1);
		alen = (size_t)(colon - s);
	}
	if (alen == 0 || alen >= cap)
		return (-1);
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, buf) != 1 &&
	    inet_pton(AF_INET6, addr, buf) != 1)
		return (-1);
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
		return (-1);
	*port = (uint16_t)p;
	return (0);
}

/* Split a comma-separated ALPN list into o->alpn. */
static int
parse_alpn(const char *list, struct bench_opts *o)
{
	char	*p, *tok, *save = NULL;

	if (strlen(list) >= sizeof(o->alpnbuf))
		return (-1);
	snprintf(o->alpnbuf, sizeof(o->alpnbuf), "%s", list);
	o->nalpn = 0;
	for (p = o->alpnbuf; (tok = strtok_r(p, ",", &save)) != NULL;
	    p = NULL) {
		if (o->nalpn == BENCH_MAX_ALPN || strlen(tok) > 255)
			return (-1);
		o->alpn[o->nalpn++] = tok;
	}
	return (o->nalpn > 0 ? 0 : -1);
}

/* Parse an unsigned count in [lo, hi]. */
static int
parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (*s == '\0' || *s == '-')
		return (-1);
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return (-1);
	*out = v;
	return (0);
}

enum {
	O_MAXIN = 256, O_TIMEOUT, O_HOLD, O_ALPN, O_SNI, O_PRIO, O_CERT,
	O_KEY, O_NOCERT, O_LAYOUT
};

/*
 * Parse argv into o.  Returns 0, 1 for --help, 2 for --version, or -1
 * with a message in err.
 */
int
bench_parse_args(int argc, char **argv, struct bench_opts *o, char *err,
    size_t errlen)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "max-inflight", required_argument, NULL, O_MAXIN },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "alpn", required_argument, NULL, O_ALPN },
		{ "sni", required_argument, NULL, O_SNI },
		{ "priority", required_argument, NULL, O_PRIO },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "no-client-cert", no_argument, NULL, O_NOCERT },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t	v;
	int		ch, have_rate = 0;

	memset(o, 0, sizeof(*o));
	o->mode = BENCH_REFERRAL;
	o->rate = 100;
	o->duration_ms = 10000;
	o->warmup_ms = 1000;
	o->timeout_ms = 5000;
	o->max_inflight = 4096;
	o->layout = 2;
	(void)parse_alpn(BENCH_DEFAULT_ALPN, o);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:r:c:d:w:jphV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "handshake") == 0)
				o->mode = BENCH_HANDSHAKE;
			else if (strcmp(optarg, "referral") == 0)
				o->mode = BENCH_REFERRAL;
			else {
				snprintf(err, errlen, "--mode: handshake or "
				    "referral, not '%s'", optarg);
				return (-1);
			}
			break;
		case 'r':
			if (parse_count(optarg, 1, BENCH_MAX_RATE, &o->rate)) {
				snprintf(err, errlen, "--rate: 1 to %u",
				    BENCH_MAX_RATE);
				return (-1);
			}
			have_rate = 1;
			break;
		case 'c':
			if (parse_count(optarg, 1, BENCH_MAX_INFLIGHT,
			    &o->concurrency)) {
				snprintf(err, errlen, "--concurrency: 1 to %u",
				    BENCH_MAX_INFLIGHT);
				return (-1);
			}
			break;
		case 'd':
		case 'w':
		case O_TIMEOUT:
		case O_HOLD:
			if (bench_parse_duration(optarg, &v) != 0) {
				snprintf(err, errlen, "bad duration '%s' "
				    "(e.g. 500ms, 10s, 2m)", optarg);
				return (-1);
			}
			if (ch == 'd')
				o->duration_ms = v;
			else if (ch == 'w')
				o->warmup_ms = v;
			else if (ch == O_TIMEOUT)
				o->timeout_ms = v;
			else
				o->hold_ms = v;
			break;
		case O_MAXIN:
			if (parse_count(optarg, 1, BENCH_MAX_INFLIGHT, &v)) {
				snprintf(err, errlen, "--max-inflight: 1 to "
				    "%u", BENCH_MAX_INFLIGHT);
				return (-1);
			}
			o->max_inflight = (size_t)v;
			break;
		case O_ALPN:
			if (parse_alpn(optarg, o) != 0) {
				snprintf(err, errlen, "--alpn: 1 to %u "
				    "comma-separated names", BENCH_MAX_ALPN);
				return (-1);
			}
			break;
		case O_SNI:
			o->sni = optarg;
			break;
		case O_PRIO:
			o->priority = optarg;
			break;
		case O_CERT:
			o->cert_file = optarg;
			break;
		case O_KEY:
			o->key_file = optarg;
			break;
		case O_NOCERT:
			o->no_client_cert = 1;
			break;
		case O_LAYOUT:
			if (strcmp(optarg, "v1") == 0)
				o->layout = 1;
			else if (strcmp(optarg, "v2") == 0)
				o->layout = 2;
			else if (strcmp(optarg, "v3") == 0)
				o->layout = 3;
			else {
				snprintf(err, errlen, "--layout: v1, v2 or v3");
				return (-1);
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			o->progress = 1;
			break;
		case 'h':
			return (1);
		case 'V':
			return (2);
		case ':':
			snprintf(err, errlen, "option %s needs a value",
			    argv[optind - 1]);
			return (-1);
		default:
			snprintf(err, errlen, "unknown option %s",
			    argv[optind - 1]);
			return (-1);
		}
	}
	if (o->concurrency > 0 && have_rate) {
		snprintf(err, errlen, "--rate and --concurrency exclude each "
		    "other");
		return (-1);
	}
	if ((o->cert_file == NULL) != (o->key_file == NULL)) {
		snprintf(err, errlen, "--cert and --key go together");
		return (-1);
	}
	if (o->no_client_cert && o->cert_file != NULL) {
		snprintf(err, errlen, "--no-client-cert excludes --cert");
		return (-1);
	}
	if (o->duration_ms == 0 || o->timeout_ms < 10) {
		snprintf(err, errlen, "--duration must be > 0 and --timeout "
		    ">= 10ms");
		return (-1);
	}
	if (o->concurrency > o->max_inflight)
		o->max_inflight = (size_t)o->concurrency;
	if (optind != argc - 1) {
		snprintf(err, errlen, "expected one ADDR:PORT");
		return (-1);
	}
	if (bench_parse_target(argv[optind], o->addr, sizeof(o->addr),
	    &o->port) != 0) {
		snprintf(err, errlen, "bad target '%s' (numeric ADDR:PORT or "
		    "[V6]:PORT)", argv[optind]);
		return (-1);
	}
	return (0);
}

/* Name of an error kind as printed. */
const char *
bench_err_name(enum bench_err e)
{
	return ((unsigned)e < BENCH_E_COUNT ? bench_err_names[e] : "?");
}

/* Name of a mode as printed. */
const char *
bench_mode_name(enum bench_mode m)
{
	return (m == BENCH_HANDSHAKE ? "handshake" : "referral");
}

/* Whether the generator's own CPU makes the figures a lower bound. */
int
bench_saturated(const struct bench_result *r)
{
	return (r->cpu_pct >= BENCH_SATURATED);
}

/* Whether an open-loop generator started connections late (p99 > 10 ms). */
int
bench_behind(const struct bench_result *r)
{
	return (r->lag_p99_us > BENCH_BEHIND_US);
}

/* Completed attempts per second of window. */
static double
rate_of(const struct bench_result *r)
{
	return (r->window_s > 0 ? (double)r->completed / r->window_s : 0.0);
}

/* Human-readable report. */
void
bench_print_text(FILE *fp, const struct bench_opts *o,
    const struct bench_result *r)
{
	int	i;

	if (o->concurrency > 0)
		fprintf(fp, "hyprox-bench: %s %s:%u, closed loop, concurrency "
		    "%" PRIu64 ", %.1f s window\n", bench_mode_name(o->mode),
		    o->addr, o->port, o->concurrency, r->window_s);
	else
		fprintf(fp, "hyprox-bench: %s %s:%u, open loop %" PRIu64
		    "/s, %.1f s window\n", bench_mode_name(o->mode), o->addr,
		    o->port, o->rate, r->window_s);
	fprintf(fp, "attempted   %" PRIu64 "\ncompleted   %" PRIu64
	    " (%.1f/s)\n", r->attempted, r->completed, rate_of(r));
	fprintf(fp, "latency us  p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %"
	    PRIu64 "  max %" PRIu64 "  mean %.0f\n",
	    bench_hist_percentile(&r->lat, 50), bench_hist_percentile(&r->lat,
	    90), bench_hist_percentile(&r->lat, 99), r->lat.max,
	    bench_hist_mean(&r->lat));
	fprintf(fp, "errors     ");
	for (i = 0; i < BENCH_E_COUNT; i++)
		fprintf(fp, " %s %" PRIu64, bench_err_names[i], r->errors[i]);
	fprintf(fp, "\n");
	if (o->mode == BENCH_REFERRAL)
		fprintf(fp, "replies     referral %" PRIu64 "  disconnect %"
		    PRIu64 "  other %" PRIu64 "\n", r->referrals,
		    r->disconnects, r->other_replies);
	if (o->concurrency == 0)
		fprintf(fp, "start lag   p99 %" PRIu64 " us  max %" PRIu64
		    " us\n", r->lag_p99_us, r->lag_max_us);
	fprintf(fp, "in flight   peak %" PRIu64 "\n", r->peak_inflight);
	fprintf(fp, "client CPU  user %.2f s  sys %.2f s  = %.1f %% of one "
	    "core\n", r->cpu_user_s, r->cpu_sys_s, r->cpu_pct);
	if (r->interrupted)
		fprintf(fp, "note: interrupted before the end of the window\n");
	if (bench_saturated(r))
		fprintf(fp, "WARNING: generator CPU saturated — results are a "
		    "lower bound\n");
	if (bench_behind(r))
		fprintf(fp, "WARNING: generator fell behind its schedule (start "
		    "lag p99 %.1f ms) — latencies include its own delay\n",
		    (double)r->lag_p99_us / 1000.0);
}

/* One JSON object. */
void
bench_print_json(FILE *fp, const struct bench_opts *o,
    const struct bench_result *r)
{
	int	i;

	fprintf(fp, "{\"tool\":\"hyprox-bench\",\"mode\":\"%s\","
	    "\"target\":\"%s:%u\",\"loop\":\"%s\",\"rate\":%" PRIu64 ","
	    "\"concurrency\":%" PRIu64 ",\"window_s\":%.3f,"
	    "\"attempted\":%" PRIu64 ",\"completed\":%" PRIu64 ","
	    "\"completed_per_s\":%.2f,", bench_mode_name(o->mode), o->addr,
	    o->port, o->concurrency > 0 ? "closed" : "open",
	    o->concurrency > 0 ? 0 : o->rate, o->concurrency, r->window_s,
	    r->attempted, r->completed, rate_of(r));
	fprintf(fp, "\"latency_us\":{\"p50\":%" PRIu64 ",\"p90\":%" PRIu64
	    ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 ",\"min\":%" PRIu64
	    ",\"mean\":%.1f,\"count\":%" PRIu64 "},",
	    bench_hist_percentile(&r->lat, 50), bench_hist_percentile(&r->lat,
	    90), bench_hist_percentile(&r->lat, 99), r->lat.max,
	    r->lat.count > 0 ? r->lat.min : 0, bench_hist_mean(&r->lat),
	    r->lat.count);
	fprintf(fp, "\"errors\":{");
	for (i = 0; i < BENCH_E_COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i > 0 ? "," : "",
		    bench_err_names[i], r->errors[i]);
	fprintf(fp, "},\"replies\":{\"referral\":%" PRIu64 ",\"disconnect\":%"
	    PRIu64 ",\"other\":%" PRIu64 "},", r->referrals, r->disconnects,
	    r->other_replies);
	fprintf(fp, "\"start_lag_us\":{\"p99\":%" PRIu64 ",\"max\":%" PRIu64
	    "},\"peak_inflight\":%" PRIu64 ",", r->lag_p99_us, r->lag_max_us,
	    r->peak_inflight);
	fprintf(fp, "\"client_cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,"
	    "\"percent_of_core\":%.1f},\"generator_saturated\":%s,"
	    "\"generator_behind\":%s,\"interrupted\":%s}\n", r->cpu_user_s,
	    r->cpu_sys_s, r->cpu_pct, bench_saturated(r) ? "true" : "false",
	    bench_behind(r) ? "true" : "false",
	    r->interrupted ? "true" : "false");
}
