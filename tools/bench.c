/*
 * bench.c: hyprox-bench, an open-loop (or closed-loop) QUIC connection load
 * generator on lib/quic.  One process, one libevent loop, one hq_client_t
 * per connection, one client certificate shared by all of them.
 *
 * Open loop: a timer starts connections at the target rate whatever the
 * server does; each attempt's latency runs from its intended start time,
 * so a slow server (or a late generator) shows up as latency rather than
 * as fewer samples (no coordinated omission).  Closed loop
 * (--concurrency): N connections are kept going, each latency runs from
 * its actual start.  Attempts whose start falls in the measurement window
 * are counted, and drained after it.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <gnutls/crypto.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "bench.h"
#include "quic.h"
#include "tmpcert.h"

_Static_assert(BENCH_MAX_ALPN == HQ_MAX_ALPN, "ALPN limit");

#define BENCH_TICK_MAX_US	1000	/* arrival timer period, at most */
#define BENCH_SWEEP_MS		20	/* timeout sweep period */
#define BENCH_CLOSE_GUARD_MS	1000	/* closed() after our close */
#define BENCH_REFILL_BATCH	32	/* closed loop: starts per event */
#define BENCH_ARRIVALS_MAX	100000	/* open loop: starts per tick */
#define BENCH_CONNECT_CAP	512
#define BENCH_FD_SPARE		64

/*
 * The library default, offering one key share (X25519) instead of two: a
 * second (P-256) key generation per ClientHello costs the generator about
 * 0.2 ms and the server nothing (it picks X25519 either way).
 */
#define BENCH_PRIORITY							\
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"	\
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"	\
	"+AES-128-CCM:-GROUP-ALL:+GROUP-X25519"

/* State of one connection slot. */
enum bconn_state {
	BC_FREE = 0,
	BC_CONNECTING,		/* handshake in progress */
	BC_WAITING,		/* Connect sent, waiting for the answer */
	BC_HOLDING,		/* completed, kept open (--hold) */
	BC_CLOSING		/* we closed; waiting for closed() */
};

struct bench;

/* One connection slot (preallocated; max_inflight of them). */
struct bconn {
	struct bench		*b;
	hq_client_t		*cl;
	hq_conn_t		*conn;
	enum bconn_state	 state;
	int			 in_window;	/* counted in the results */
	int			 done;		/* outcome recorded */
	uint64_t		 t0;		/* intended start, ns */
	uint64_t		 deadline;	/* ns */
	int64_t			 sid;
	uint8_t			 hdr[HYP_FRAME_HEADER_LEN];
	size_t			 hdrlen;
	uint32_t		 pkt_id;
	uint32_t		 pkt_len;
	uint32_t		 pktread;
	TAILQ_ENTRY(bconn)	 entry;	/* free or active list */
};

TAILQ_HEAD(bconn_list, bconn);

/* The whole run. */
struct bench {
	struct bench_opts	 o;
	struct event_base	*base;
	struct event		*ev_tick;
	struct event		*ev_refill;
	struct event		*ev_sweep;
	struct event		*ev_phase;
	struct event		*ev_progress;
	struct event		*ev_sigint;
	struct event		*ev_sigterm;
	struct bconn		*slots;
	struct bconn_list	 free;
	struct bconn_list	 active;
	size_t			 nactive;
	struct hq_client_config	 cfg;
	uint8_t			 connect[BENCH_CONNECT_CAP];
	size_t			 connectlen;
	uint64_t		 t_begin;	/* ns: first arrival */
	uint64_t		 t_start;	/* window */
	uint64_t		 t_end;
	uint64_t		 issued;	/* open-loop arrivals so far */
	int			 phase;		/* 0 warmup, 1 window, 2 drain */
	uint64_t		 window_inflight; /* in-window, not done */
	uint64_t		 started;	/* all attempts, for progress */
	uint64_t		 finished;
	uint64_t		 holding;
	struct rusage		 ru0;
	struct bench_hist	 lag;
	struct bench_result	 r;
	struct tool_tmpcert	 tc;		/* the one client certificate */
	char			 lasterr[200];
};

/* Monotonic clock in nanoseconds. */
static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Arm a one-shot timer in ns from now. */
static void
timer_in(struct event *ev, uint64_t ns)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ns / 1000000000ULL);
	tv.tv_usec = (suseconds_t)((ns % 1000000000ULL) / 1000);
	evtimer_add(ev, &tv);
}

/* lib/quic log sink: keep the last warning for the report. */
static void
bench_log(void *arg, int level, const char *msg)
{
	struct bconn	*bc = arg;

	if (level <= HQ_LOG_WARN && strstr(msg, "insecure") == NULL)
		snprintf(bc->b->lasterr, sizeof(bc->b->lasterr), "%s", msg);
}

/* Move a slot from the active list back to the free list. */
static void
slot_release(struct bench *b, struct bconn *bc)
{
	TAILQ_REMOVE(&b->active, bc, entry);
	b->nactive--;
	bc->state = BC_FREE;
	bc->cl = NULL;
	bc->conn = NULL;
	TAILQ_INSERT_HEAD(&b->free, bc, entry);
	b->finished++;
	if (b->o.concurrency > 0 && b->phase < 2)
		event_active(b->ev_refill, EV_TIMEOUT, 0);
}

/* Record the outcome of an attempt (once). */
static void
record(struct bench *b, struct bconn *bc, int err, uint64_t now)
{
	if (bc->done)
		return;
	bc->done = 1;
	if (!bc->in_window)
		return;
	if (err < 0) {
		b->r.completed++;
		bench_hist_add(&b->r.lat, now > bc->t0 ? (now - bc->t0) / 1000 :
		    0);
	} else
		b->r.errors[err]++;
	b->window_inflight--;
}

/* Close our side; closed() frees the slot (guarded by the sweep). */
static void
bconn_close(struct bconn *bc, uint64_t now)
{
	bc->state = BC_CLOSING;
	bc->deadline = now + BENCH_CLOSE_GUARD_MS * 1000000ULL;
	if (bc->conn != NULL)
		(void)hq_conn_close(bc->conn, 0, NULL, 0);
}

/* The attempt completed: close now, or hold the connection. */
static void
bconn_complete(struct bconn *bc, uint64_t now)
{
	struct bench	*b = bc->b;

	record(b, bc, -1, now);
	if (b->o.hold_ms > 0 && b->phase < 2) {
		bc->state = BC_HOLDING;
		bc->deadline = now + b->o.hold_ms * 1000000ULL;
		b->holding++;
		return;
	}
	bconn_close(bc, now);
}

/* Handshake done: complete (handshake mode) or send Connect. */
static int
cb_established(hq_conn_t *c, void *arg)
{
	struct bconn	*bc = arg;
	struct bench	*b = bc->b;
	uint64_t	 now = now_ns();
	ssize_t		 n;

	if (bc->state != BC_CONNECTING)
		return (0);
	if (b->o.mode == BENCH_HANDSHAKE) {
		bconn_complete(bc, now);
		return (0);
	}
	if (hq_stream_open_bidi(c, &bc->sid) != 0 ||
	    (n = hq_stream_send(c, bc->sid, b->connect, b->connectlen, 0)) !=
	    (ssize_t)b->connectlen) {
		snprintf(b->lasterr, sizeof(b->lasterr), "cannot send Connect");
		record(b, bc, BENCH_E_OTHER, now);
		bconn_close(bc, now);
		return (0);
	}
	bc->state = BC_WAITING;
	return (0);
}

/* The answer frame is complete: classify it. */
static void
reply_done(struct bconn *bc, uint64_t now)
{
	struct bench	*b = bc->b;

	if (bc->pkt_id == HYP_PKT_CLIENT_REFERRAL ||
	    bc->pkt_id == HYP_PKT_DISCONNECT ||
	    bc->pkt_id == HYP_PKT_SERVER_DISCONNECT) {
		if (bc->in_window && !bc->done) {
			if (bc->pkt_id == HYP_PKT_CLIENT_REFERRAL)
				b->r.referrals++;
			else
				b->r.disconnects++;
		}
		bconn_complete(bc, now);
		return;
	}
	if (bc->in_window && !bc->done)
		b->r.other_replies++;
	snprintf(b->lasterr, sizeof(b->lasterr), "unexpected packet id %"
	    PRIu32, bc->pkt_id);
	record(b, bc, BENCH_E_OTHER, now);
	bconn_close(bc, now);
}

/* Stream bytes: read the first frame's header and skip its payload. */
static int
cb_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct bconn	*bc = arg;
	size_t		 n;

	(void)c;
	(void)fin;
	if (bc->state != BC_WAITING || sid != bc->sid)
		return (0);
	if (bc->hdrlen < HYP_FRAME_HEADER_LEN) {
		n = HYP_FRAME_HEADER_LEN - bc->hdrlen;
		if (n > len)
			n = len;
		memcpy(bc->hdr + bc->hdrlen, data, n);
		bc->hdrlen += n;
		len -= n;
		if (bc->hdrlen < HYP_FRAME_HEADER_LEN)
			return (0);
		bc->pkt_len = (uint32_t)bc->hdr[0] | (uint32_t)bc->hdr[1] << 8 |
		    (uint32_t)bc->hdr[2] << 16 | (uint32_t)bc->hdr[3] << 24;
		bc->pkt_id = (uint32_t)bc->hdr[4] | (uint32_t)bc->hdr[5] << 8 |
		    (uint32_t)bc->hdr[6] << 16 | (uint32_t)bc->hdr[7] << 24;
		if (bc->pkt_len > BENCH_MAX_REPLY) {
			bc->pkt_id = UINT32_MAX;
			reply_done(bc, now_ns());
			return (0);
		}
	}
	n = bc->pkt_len - bc->pktread;
	bc->pktread += (uint32_t)(len < n ? len : n);
	if (bc->pktread == bc->pkt_len)
		reply_done(bc, now_ns());
	return (0);
}

/* The connection is over: record a failure if nothing completed. */
static void
cb_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct bconn	*bc = arg;
	struct bench	*b = bc->b;
	uint64_t	 now = now_ns();
	int		 err;

	(void)c;
	bc->conn = NULL;
	if (!bc->done) {
		if (!ci->handshake_done)
			err = ci->kind == HQ_CLOSE_HANDSHAKE_TIMEOUT ||
			    ci->kind == HQ_CLOSE_IDLE ? BENCH_E_TIMEOUT :
			    BENCH_E_HANDSHAKE;
		else
			err = BENCH_E_NOPACKET;
		record(b, bc, err, now);
	}
	if (bc->state == BC_HOLDING)
		b->holding--;
	hq_client_free(bc->cl);		/* deferred: we are in its callback */
	slot_release(b, bc);
}

/* Start one attempt with intended start time t0; -1 if none is free. */
static int
bconn_start(struct bench *b, uint64_t t0, uint64_t now)
{
	struct bconn	*bc;
	hq_client_t	*cl = NULL;
	int		 rv;

	if ((bc = TAILQ_FIRST(&b->free)) == NULL)
		return (-1);
	TAILQ_REMOVE(&b->free, bc, entry);
	TAILQ_INSERT_TAIL(&b->active, bc, entry);
	b->nactive++;
	if (b->nactive > b->r.peak_inflight && b->phase == 1)
		b->r.peak_inflight = b->nactive;
	bc->state = BC_CONNECTING;
	bc->done = 0;
	bc->t0 = t0;
	bc->deadline = t0 + b->o.timeout_ms * 1000000ULL;
	bc->hdrlen = 0;
	bc->pktread = 0;
	bc->pkt_len = 0;
	bc->sid = -1;
	bc->in_window = t0 >= b->t_start && t0 < b->t_end;
	if (bc->in_window) {
		b->r.attempted++;
		b->window_inflight++;
	}
	b->started++;
	b->cfg.cb_arg = bc;
	b->cfg.log_arg = bc;
	rv = hq_client_new(b->base, &b->cfg, &cl);
	if (rv == 0 && bc->state == BC_FREE) {
		/* closed() ran inside hq_client_new: the slot is released. */
		hq_client_free(cl);
		return (0);
	}
	bc->cl = cl;
	if (rv != 0) {
		snprintf(b->lasterr, sizeof(b->lasterr), "cannot start a "
		    "connection: %s", hyp_strerror(rv));
		record(b, bc, BENCH_E_OTHER, now);
		bc->cl = NULL;
		TAILQ_REMOVE(&b->active, bc, entry);
		b->nactive--;
		bc->state = BC_FREE;
		TAILQ_INSERT_HEAD(&b->free, bc, entry);
		b->finished++;
		return (-2);
	}
	bc->conn = hq_client_conn(bc->cl);
	return (0);
}

/* Open loop: start every arrival that is due by now. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	uint64_t	 now = now_ns(), due, t0, n = 0;

	(void)fd;
	(void)what;
	if (b->phase >= 2)
		return;
	due = (uint64_t)((double)(now - b->t_begin) * (double)b->o.rate / 1e9)
	    + 1;
	while (b->issued < due && n++ < BENCH_ARRIVALS_MAX) {
		t0 = b->t_begin + (uint64_t)((double)b->issued * 1e9 /
		    (double)b->o.rate);
		if (t0 >= b->t_end)
			break;
		b->issued++;
		if (t0 >= b->t_start)
			bench_hist_add(&b->lag, (now - t0) / 1000);
		if (bconn_start(b, t0, now) == -1 && t0 >= b->t_start) {
			b->r.attempted++;
			b->r.errors[BENCH_E_SKIPPED]++;
		}
	}
}

/* Closed loop: bring the number of connections back to --concurrency. */
static void
refill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	uint64_t	 now = now_ns();
	int		 n = 0, rv;

	(void)fd;
	(void)what;
	while (b->phase < 2 && b->nactive < b->o.concurrency) {
		if (n++ == BENCH_REFILL_BATCH) {
			event_active(b->ev_refill, EV_TIMEOUT, 0);
			return;
		}
		if ((rv = bconn_start(b, now, now)) == -2) {
			/* Local failure (fds?): retry a little later. */
			timer_in(b->ev_refill, 10000000ULL);
			return;
		}
		if (rv != 0)
			return;
		now = now_ns();
	}
}

/* Timeouts, hold expiry and close guards. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	struct bconn	*bc, *next;
	uint64_t	 now = now_ns();

	(void)fd;
	(void)what;
	for (bc = TAILQ_FIRST(&b->active); bc != NULL; bc = next) {
		next = TAILQ_NEXT(bc, entry);
		if (now < bc->deadline)
			continue;
		switch (bc->state) {
		case BC_CONNECTING:
		case BC_WAITING:
			record(b, bc, BENCH_E_TIMEOUT, now);
			bconn_close(bc, now);
			break;
		case BC_HOLDING:
			b->holding--;
			bconn_close(bc, now);
			bc->state = BC_CLOSING;
			break;
		case BC_CLOSING:
			/* closed() never came: drop the client. */
			hq_client_free(bc->cl);
			slot_release(b, bc);
			break;
		default:
			break;
		}
	}
}

/* Read the generator's CPU time into r. */
static void
cpu_window(struct bench *b)
{
	struct rusage	ru;
	double		u, s;

	getrusage(RUSAGE_SELF, &ru);
	u = (double)(ru.ru_utime.tv_sec - b->ru0.ru_utime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec - b->ru0.ru_utime.tv_usec) / 1e6;
	s = (double)(ru.ru_stime.tv_sec - b->ru0.ru_stime.tv_sec) +
	    (double)(ru.ru_stime.tv_usec - b->ru0.ru_stime.tv_usec) / 1e6;
	b->r.cpu_user_s = u;
	b->r.cpu_sys_s = s;
	b->r.cpu_pct = b->r.window_s > 0 ? 100.0 * (u + s) / b->r.window_s :
	    0.0;
}

/* Enter the drain phase: no new attempts; close held connections. */
static void
enter_drain(struct bench *b, uint64_t now)
{
	struct bconn	*bc;

	b->phase = 2;
	b->r.window_s = (double)((now < b->t_end ? now : b->t_end) -
	    b->t_start) / 1e9;
	if (now < b->t_start)
		b->r.window_s = 0;
	cpu_window(b);
	if (b->ev_tick != NULL)
		event_del(b->ev_tick);
	TAILQ_FOREACH(bc, &b->active, entry) {
		if (bc->state == BC_HOLDING) {
			b->holding--;
			bconn_close(bc, now);
		}
	}
}

/* Phase timer: warm-up over, window over, drain over. */
static void
phase_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	struct bconn	*bc;
	uint64_t	 now = now_ns();

	(void)fd;
	(void)what;
	if (b->phase == 0) {
		b->phase = 1;
		getrusage(RUSAGE_SELF, &b->ru0);
		timer_in(b->ev_phase, b->t_end > now ? b->t_end - now : 0);
		return;
	}
	if (b->phase == 1) {
		enter_drain(b, now);
		timer_in(b->ev_phase, 20000000ULL);
		return;
	}
	/* Draining: done when nothing is in flight, or at the guard. */
	if (b->nactive > 0) {
		if (now < b->t_end + (b->o.timeout_ms + 2 *
		    BENCH_CLOSE_GUARD_MS) * 1000000ULL) {
			timer_in(b->ev_phase, 20000000ULL);
			return;
		}
		while ((bc = TAILQ_FIRST(&b->active)) != NULL) {
			record(b, bc, BENCH_E_TIMEOUT, now);
			hq_client_free(bc->cl);
			slot_release(b, bc);
		}
	}
	event_base_loopbreak(b->base);
}

/* SIGINT/SIGTERM: end the window now and report. */
static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	uint64_t	 now = now_ns();

	(void)fd;
	(void)what;
	if (b->phase >= 2) {
		event_base_loopbreak(b->base);
		return;
	}
	b->r.interrupted = 1;
	if (b->phase == 0) {
		b->phase = 1;
		getrusage(RUSAGE_SELF, &b->ru0);
		b->t_start = now;
	}
	if (now < b->t_end)
		b->t_end = now;
	enter_drain(b, now);
	timer_in(b->ev_phase, 20000000ULL);
}

/* Once a second on stderr with --progress. */
static void
progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "hyprox-bench: t=%.1fs phase=%s started=%" PRIu64
	    " finished=%" PRIu64 " inflight=%zu held=%" PRIu64
	    " completed=%" PRIu64 "\n",
	    (double)(now_ns() - b->t_begin) / 1e9,
	    b->phase == 0 ? "warmup" : b->phase == 1 ? "window" : "drain",
	    b->started, b->finished, b->nactive, b->holding, b->r.completed);
}

/* Encode the Connect every referral attempt sends. */
static int
build_connect(struct bench *b)
{
	struct hyp_connect	c;
	uint8_t			uuid[16];
	int			n;

	memset(&c, 0, sizeof(c));
	c.layout = (enum hyp_connect_layout)b->o.layout;
	c.protocol_crc = -1356075132;
	c.build = 20;
	snprintf(c.protocol_hash, sizeof(c.protocol_hash), "%064d", 0);
	c.client_type = HYP_CLIENT_GAME;
	if (gnutls_rnd(GNUTLS_RND_NONCE, uuid, sizeof(uuid)) < 0)
		return (-1);
	uuid[6] = (uuid[6] & 0x0f) | 0x40;
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	if (c.layout != HYP_CONNECT_V3) {
		c.has_uuid = 1;
		memcpy(c.uuid, uuid, sizeof(uuid));
		c.username.ptr = (const uint8_t *)"Bench";
		c.username.len = 5;
	}
	c.language.ptr = (const uint8_t *)"en-US";
	c.language.len = 5;
	n = hyp_connect_encode(&c, b->connect + HYP_FRAME_HEADER_LEN,
	    sizeof(b->connect) - HYP_FRAME_HEADER_LEN);
	if (n < 0)
		return (-1);
	hyp_frame_header_encode(b->connect, (uint32_t)n, HYP_PKT_CONNECT);
	b->connectlen = (size_t)n + HYP_FRAME_HEADER_LEN;
	return (0);
}

/* Fill the client configuration template. */
static void
build_config(struct bench *b)
{
	struct hq_client_config	*cfg = &b->cfg;
	size_t			 i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = b->o.addr;
	cfg->port = b->o.port;
	cfg->sni = b->o.sni;
	for (i = 0; i < b->o.nalpn; i++)
		cfg->alpn[i] = b->o.alpn[i];
	cfg->nalpn = b->o.nalpn;
	cfg->priority = b->o.priority != NULL ? b->o.priority :
	    BENCH_PRIORITY;
	if (!b->o.no_client_cert) {
		cfg->use_cert = 1;
		cfg->cert.cert_file = b->o.cert_file != NULL ? b->o.cert_file :
		    b->tc.cert;
		cfg->cert.key_file = b->o.key_file != NULL ? b->o.key_file :
		    b->tc.key;
	}
	cfg->verify.insecure = 1;
	cfg->tp.handshake_timeout_ms = b->o.timeout_ms;
	cfg->tp.idle_timeout_ms = b->o.timeout_ms + b->o.hold_ms + 5000;
	/* An HTTP/3 server (gtlsserver) opens 3 uni streams at once. */
	cfg->tp.max_streams_uni = 4;
	cfg->tp.max_streams_bidi = 4;
	cfg->cb.established = cb_established;
	cfg->cb.stream_data = cb_stream_data;
	cfg->cb.closed = cb_closed;
	cfg->log = bench_log;
}

/* Raise the open-file limit; bound max_inflight by it. */
static void
fd_limit(struct bench *b)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > BENCH_FD_SPARE &&
	    b->o.max_inflight > rl.rlim_cur - BENCH_FD_SPARE) {
		fprintf(stderr, "hyprox-bench: --max-inflight lowered to %zu "
		    "(open-file limit %llu)\n",
		    (size_t)(rl.rlim_cur - BENCH_FD_SPARE),
		    (unsigned long long)rl.rlim_cur);
		b->o.max_inflight = (size_t)(rl.rlim_cur - BENCH_FD_SPARE);
	}
}

/* Create the loop, the slots and the timers. */
static int
bench_setup(struct bench *b)
{
	struct timeval	tv;
	size_t		i;
	uint64_t	period;

	TAILQ_INIT(&b->free);
	TAILQ_INIT(&b->active);
	if ((b->base = event_base_new()) == NULL)
		return (-1);
	if ((b->slots = calloc(b->o.max_inflight, sizeof(*b->slots))) == NULL)
		return (-1);
	for (i = 0; i < b->o.max_inflight; i++) {
		b->slots[i].b = b;
		TAILQ_INSERT_TAIL(&b->free, &b->slots[i], entry);
	}
	b->ev_refill = evtimer_new(b->base, refill_cb, b);
	b->ev_sweep = event_new(b->base, -1, EV_PERSIST, sweep_cb, b);
	b->ev_phase = evtimer_new(b->base, phase_cb, b);
	b->ev_progress = event_new(b->base, -1, EV_PERSIST, progress_cb, b);
	b->ev_sigint = evsignal_new(b->base, SIGINT, signal_cb, b);
	b->ev_sigterm = evsignal_new(b->base, SIGTERM, signal_cb, b);
	if (b->ev_refill == NULL || b->ev_sweep == NULL ||
	    b->ev_phase == NULL || b->ev_progress == NULL ||
	    b->ev_sigint == NULL || b->ev_sigterm == NULL)
		return (-1);
	if (b->o.concurrency == 0) {
		b->ev_tick = event_new(b->base, -1, EV_PERSIST, tick_cb, b);
		if (b->ev_tick == NULL)
			return (-1);
		period = 1000000ULL / b->o.rate;
		if (period > BENCH_TICK_MAX_US)
			period = BENCH_TICK_MAX_US;
		if (period == 0)
			period = 1;
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)period;
		event_add(b->ev_tick, &tv);
	}
	tv.tv_sec = 0;
	tv.tv_usec = BENCH_SWEEP_MS * 1000;
	event_add(b->ev_sweep, &tv);
	if (b->o.progress) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		event_add(b->ev_progress, &tv);
	}
	event_add(b->ev_sigint, NULL);
	event_add(b->ev_sigterm, NULL);
	return (0);
}

/* Free everything the run holds. */
static void
bench_teardown(struct bench *b)
{
	struct bconn	*bc;
	struct event	*evs[] = { b->ev_tick, b->ev_refill, b->ev_sweep,
	    b->ev_phase, b->ev_progress, b->ev_sigint, b->ev_sigterm };
	size_t		 i;

	while ((bc = TAILQ_FIRST(&b->active)) != NULL) {
		hq_client_free(bc->cl);
		TAILQ_REMOVE(&b->active, bc, entry);
	}
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	free(b->slots);
	if (b->base != NULL)
		event_base_free(b->base);
	tool_tmpcert_remove(&b->tc);
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct bench	*b;
	char		 err[512];
	uint64_t	 now;
	int		 rv, exitcode = 1;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		fprintf(stderr, "hyprox-bench: out of memory\n");
		return (1);
	}
	err[0] = '\0';
	rv = bench_parse_args(argc, argv, &b->o, err, sizeof(err));
	if (rv != 0) {
		if (rv == 1)
			bench_usage(stdout);
		else if (rv == 2)
			printf("hyprox-bench %s\n", PACKAGE_VERSION);
		else {
			fprintf(stderr, "hyprox-bench: %s\n", err);
			bench_usage(stderr);
		}
		free(b);
		return (rv > 0 ? 0 : 2);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	/*
	 * Every connection mallocs ~160 KiB of packet buffers: keep freed
	 * memory in the heap so the next connection does not page-fault it
	 * in again (generator CPU, not the server's).
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 4 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
	fd_limit(b);
	if (b->o.concurrency > b->o.max_inflight) {
		fprintf(stderr, "hyprox-bench: --concurrency %" PRIu64 " is "
		    "above the open-file limit\n", b->o.concurrency);
		free(b);
		return (2);
	}
	if (!b->o.no_client_cert && b->o.cert_file == NULL &&
	    tool_tmpcert_make(&b->tc, "hyprox-bench", "hyprox-bench") != 0) {
		fprintf(stderr, "hyprox-bench: cannot write a temporary client "
		    "certificate in %s\n", b->tc.dir);
		goto out;
	}
	if (build_connect(b) != 0) {
		fprintf(stderr, "hyprox-bench: cannot encode Connect\n");
		goto out;
	}
	build_config(b);
	if (bench_setup(b) != 0) {
		fprintf(stderr, "hyprox-bench: out of memory\n");
		goto out;
	}
	now = now_ns();
	b->t_begin = now;
	b->t_start = now + b->o.warmup_ms * 1000000ULL;
	b->t_end = b->t_start + b->o.duration_ms * 1000000ULL;
	if (b->o.warmup_ms == 0) {
		b->phase = 1;
		getrusage(RUSAGE_SELF, &b->ru0);
		timer_in(b->ev_phase, b->t_end - now);
	} else
		timer_in(b->ev_phase, b->t_start - now);
	if (b->o.concurrency > 0)
		event_active(b->ev_refill, EV_TIMEOUT, 0);
	else
		tick_cb(-1, 0, b);
	event_base_dispatch(b->base);
	if (b->phase < 2)
		enter_drain(b, now_ns());
	b->r.lag_p99_us = bench_hist_percentile(&b->lag, 99);
	b->r.lag_max_us = b->lag.max;
	if (b->o.json)
		bench_print_json(stdout, &b->o, &b->r);
	else
		bench_print_text(stdout, &b->o, &b->r);
	fflush(stdout);
	if (bench_saturated(&b->r) && b->o.json)
		fprintf(stderr, "WARNING: generator CPU saturated — results "
		    "are a lower bound\n");
	if (bench_behind(&b->r) && b->o.json)
		fprintf(stderr, "WARNING: generator fell behind its schedule — "
		    "latencies include its own delay\n");
	if (b->r.completed == 0 && b->lasterr[0] != '\0')
		fprintf(stderr, "hyprox-bench: last error: %s\n", b->lasterr);
	exitcode = b->r.completed > 0 ? 0 : 1;
out:
	bench_teardown(b);
	free(b);
	return (exitcode);
}
