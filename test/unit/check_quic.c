/*
 * Unit tests of lib/quic: a real server endpoint and real clients on one
 * event_base over loopback.  Handshake (ALPN, SNI, client-cert fingerprint),
 * 100 KB echo through small windows and send buffers, Retry and NEW_TOKEN,
 * application close, handshake timeout, server verification (pin, SAN, CA
 * file, insecure), uni streams, DATAGRAM, and bad datagrams; transport
 * error close, admission binding (admit()'s user pointer and the closed()
 * guarantee), per-connection counters and max_udp_payload; the CID map's
 * lazy pool, bucket growth and bounds (internal API, quic_int.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* struct mmsghdr in quic_int.h */
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "quic.h"
#include "quic_int.h"

#define ECHO_TOTAL	(100 * 1024)
#define PEND_CAP	(1024 * 1024)
#define BYE		"Your game client needs to be updated."

/* What a test server does with a connection. */
enum srv_mode {
	SRV_ECHO = 0,		/* echo every bidi stream */
	SRV_CLOSE5,		/* on data: send "bye", close app 5 + flush */
	SRV_UNI2,		/* on established: open 2 uni streams */
	SRV_PV			/* on data: transport close PROTOCOL_VIOLATION */
};

struct tsrv {
	hq_server_t	*srv;
	enum srv_mode	 mode;
	int		 established;
	int		 closed;
	char		 alpn[40];
	char		 sni[64];
	char		 fp[HQ_FP_LEN + 1];
	int		 have_fp;
	enum hq_validation validated;
	hq_conn_t	*conn;
	int64_t		 sid;
	uint8_t		*pend;
	size_t		 plen;
	int		 pfin;
	int		 fin_sent;
	int		 dgram_rx;
	uint64_t	 echoed;
	/* admission binding */
	int		 admits;
	int		 user_ok;	/* established() saw the admit pointer */
	int		 closed_user;	/* closed() calls that saw it */
	enum hq_close_kind close_kind;
	int		 close_app;
	uint64_t	 close_code;
	struct hq_conn_stats cst;	/* of the last closed connection */
};

struct tcli {
	hq_client_t	*cl;
	struct tsrv	*ts;
	int		 send_echo;	/* open a stream and send the pattern */
	int		 send_hello;	/* open a stream and send "hello" */
	int		 send_dgram;
	int		 established;
	int		 closed;
	enum hq_close_kind kind;
	int		 app;
	uint64_t	 code;
	char		 reason[128];
	int		 hs_done_at_close;
	int64_t		 sid;
	size_t		 sent;
	size_t		 recvd;
	int		 fin_recv;
	int		 mismatch;
	int		 done;
	char		 bidi_rx[64];
	size_t		 bidi_rxlen;
	int		 uni_open;
	int64_t		 uni_sid[4];
	char		 uni_rx[2][32];
	size_t		 uni_rxlen[2];
	int		 dgram_rx;
	uint8_t		 token[256];
	size_t		 tokenlen;
	int		 got_token;
	struct timespec	 t0, t1;	/* start, first echo byte */
};

static int	timed_out;

/* Pattern byte at offset i (period 251 catches offset slips). */
static uint8_t
pat(size_t i)
{
	return ((uint8_t)(i % 251));
}

/* Optional log sink: HQ_TEST_LOG=1. */
static void
tlog(void *arg, int level, const char *msg)
{
	(void)arg;
	if (getenv("HQ_TEST_LOG") != NULL)
		fprintf(stderr, "[%d] %s\n", level, msg);
}

/* Loop timeout callback. */
static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timed_out = 1;
}

/* Run the loop until *flag is set or ms elapse; returns *flag. */
static int
run(struct event_base *b, const int *flag, int ms)
{
	struct event	*t = evtimer_new(b, timeout_cb, NULL);
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	timed_out = 0;
	evtimer_add(t, &tv);
	while (!*flag && !timed_out)
		event_base_loop(b, EVLOOP_ONCE);
	event_free(t);
	return (*flag);
}

/* A base with precise timers. */
static struct event_base *
new_base(void)
{
	struct event_config	*cfg = event_config_new();
	struct event_base	*b;

	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	ck_assert_ptr_nonnull(b);
	return (b);
}

/* ---- test server callbacks ---- */

/* Push pending echo bytes into the library; return credit for them. */
static void
srv_pump(struct tsrv *ts, hq_conn_t *c)
{
	ssize_t	n;

	if (ts->fin_sent)
		return;
	n = hq_stream_send(c, ts->sid, ts->pend, ts->plen, ts->pfin);
	ck_assert_int_ge(n, 0);
	if (n > 0) {
		memmove(ts->pend, ts->pend + n, ts->plen - (size_t)n);
		ts->plen -= (size_t)n;
		ts->echoed += (uint64_t)n;
		ck_assert_int_eq(hq_stream_consume(c, ts->sid, (size_t)n), 0);
	}
	if (ts->pfin && ts->plen == 0)
		ts->fin_sent = 1;
}

static int
srv_established(hq_conn_t *c, void *arg)
{
	struct tsrv	*ts = arg;
	int64_t		 sid;

	ts->established++;
	ts->conn = c;
	snprintf(ts->alpn, sizeof(ts->alpn), "%s", hq_conn_alpn(c));
	snprintf(ts->sni, sizeof(ts->sni), "%s", hq_conn_sni(c));
	if (hq_conn_peer_fp(c) != NULL) {
		snprintf(ts->fp, sizeof(ts->fp), "%s", hq_conn_peer_fp(c));
		ts->have_fp = 1;
	}
	ts->validated = hq_conn_validation(c);
	if (ts->admits > 0 && hq_conn_user(c) == (void *)&ts->admits)
		ts->user_ok++;
	if (ts->mode == SRV_UNI2) {
		ck_assert_int_eq(hq_stream_open_uni(c, &sid), 0);
		ck_assert_int_eq(hq_stream_send(c, sid, "chunks", 6, 1), 6);
		ck_assert_int_eq(hq_stream_open_uni(c, &sid), 0);
		ck_assert_int_eq(hq_stream_send(c, sid, "worldmap", 8, 1), 8);
	}
	return (0);
}

static int
srv_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct tsrv	*ts = arg;

	if (ts->mode == SRV_CLOSE5) {
		ck_assert_int_eq(hq_stream_send(c, sid, "bye", 3, 0), 3);
		ck_assert_int_eq(hq_conn_close(c, 5, BYE, HQ_CLOSE_FLUSH), 0);
		return (0);
	}
	if (ts->mode == SRV_PV) {
		ck_assert_int_eq(hq_conn_close_transport(c,
		    HQ_ERR_PROTOCOL_VIOLATION, ""), 0);
		/* A second close request is ignored. */
		ck_assert_int_eq(hq_conn_close(c, 0, "late", 0), 0);
		return (0);
	}
	ts->sid = sid;
	ck_assert_uint_le(ts->plen + len, PEND_CAP);
	memcpy(ts->pend + ts->plen, data, len);
	ts->plen += len;
	if (fin)
		ts->pfin = 1;
	srv_pump(ts, c);
	return (HQ_DEFER);
}

static void
srv_writable(hq_conn_t *c, int64_t sid, void *arg)
{
	struct tsrv	*ts = arg;

	(void)sid;
	srv_pump(ts, c);
}

static void
srv_datagram(hq_conn_t *c, const uint8_t *data, size_t len, void *arg)
{
	struct tsrv	*ts = arg;

	ts->dgram_rx++;
	ck_assert_int_eq(hq_conn_send_datagram(c, data, len), 0);
}

static void
srv_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct tsrv	*ts = arg;

	ts->closed++;
	ts->close_kind = ci->kind;
	ts->close_app = ci->app;
	ts->close_code = ci->error_code;
	hq_conn_stats(c, &ts->cst);
	if (ts->admits > 0 && hq_conn_user(c) == (void *)&ts->admits)
		ts->closed_user++;
	if (ts->conn == c)
		ts->conn = NULL;
}

/* admit() that accepts and binds the connection to &ts->admits. */
static int
srv_admit(void *arg, const struct sockaddr *peer, socklen_t len,
    int validated, void **user)
{
	struct tsrv	*ts = arg;

	(void)peer;
	(void)len;
	(void)validated;
	ck_assert_ptr_null(*user);
	ts->admits++;
	*user = &ts->admits;
	return (0);
}

/* A server config on 127.0.0.1:0 with the echo callbacks. */
static void
srv_config(struct hq_server_config *cfg, struct tsrv *ts)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen[0].addr = "127.0.0.1";
	cfg->nlisten = 1;
	cfg->cert.cert_file = "auto";
	cfg->alpn[0] = "hytale/2";
	cfg->alpn[1] = "hytale/1";
	cfg->nalpn = 2;
	/* Small windows and buffers: flow control and ring wrap get used. */
	cfg->tp.max_stream_data = 16 * 1024;
	cfg->tp.max_data = 32 * 1024;
	cfg->tp.stream_sndbuf = 8 * 1024;
	cfg->tp.datagrams = 1;
	cfg->cb.established = srv_established;
	cfg->cb.stream_data = srv_stream_data;
	cfg->cb.stream_writable = srv_writable;
	cfg->cb.datagram = srv_datagram;
	cfg->cb.closed = srv_closed;
	cfg->cb_arg = ts;
	cfg->log = tlog;
}

/* Create a test server per cfg. */
static void
srv_start(struct event_base *b, struct hq_server_config *cfg, struct tsrv *ts)
{
	ts->pend = malloc(PEND_CAP);
	ck_assert_ptr_nonnull(ts->pend);
	ck_assert_int_eq(hq_server_new(b, cfg, &ts->srv), 0);
	ck_assert_uint_ne(hq_server_port(ts->srv, 0), 0);
}

static void
srv_stop(struct tsrv *ts)
{
	hq_server_free(ts->srv);
	free(ts->pend);
}

/* ---- test client callbacks ---- */

/* Queue as much of the pattern as fits. */
static void
cli_pump(struct tcli *tc, hq_conn_t *c)
{
	uint8_t	buf[4096];
	size_t	i, k;
	ssize_t	n;

	while (tc->sent < ECHO_TOTAL) {
		k = ECHO_TOTAL - tc->sent;
		if (k > sizeof(buf))
			k = sizeof(buf);
		for (i = 0; i < k; i++)
			buf[i] = pat(tc->sent + i);
		n = hq_stream_send(c, tc->sid, buf, k,
		    tc->sent + k == ECHO_TOTAL);
		ck_assert_int_ge(n, 0);
		tc->sent += (size_t)n;
		if ((size_t)n < k)
			break;
	}
}

static int
cli_established(hq_conn_t *c, void *arg)
{
	struct tcli	*tc = arg;

	tc->established++;
	if (tc->send_echo || tc->send_hello)
		ck_assert_int_eq(hq_stream_open_bidi(c, &tc->sid), 0);
	if (tc->send_echo)
		cli_pump(tc, c);
	if (tc->send_hello)
		ck_assert_int_eq(hq_stream_send(c, tc->sid, "hello", 5, 0), 5);
	if (tc->send_dgram)
		ck_assert_int_eq(hq_conn_send_datagram(c, "ping", 4), 0);
	return (0);
}

static int
cli_stream_open(hq_conn_t *c, int64_t sid, void *arg)
{
	struct tcli	*tc = arg;

	(void)c;
	ck_assert_int_lt(tc->uni_open, 4);
	tc->uni_sid[tc->uni_open++] = sid;
	return (0);
}

static int
cli_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct tcli	*tc = arg;
	size_t		 i;
	int		 u;

	(void)c;
	if (sid != tc->sid) {
		u = sid == tc->uni_sid[0] ? 0 : 1;
		ck_assert_uint_le(tc->uni_rxlen[u] + len, 31);
		memcpy(tc->uni_rx[u] + tc->uni_rxlen[u], data, len);
		tc->uni_rxlen[u] += len;
		if (fin && tc->uni_rxlen[0] == 6 && tc->uni_rxlen[1] == 8)
			tc->done = 1;
		return (0);
	}
	if (!tc->send_echo) {
		if (tc->bidi_rxlen + len < sizeof(tc->bidi_rx)) {
			memcpy(tc->bidi_rx + tc->bidi_rxlen, data, len);
			tc->bidi_rxlen += len;
		}
		return (0);
	}
	if (tc->recvd == 0 && len > 0)
		clock_gettime(CLOCK_MONOTONIC, &tc->t1);
	for (i = 0; i < len; i++) {
		if (data[i] != pat(tc->recvd + i))
			tc->mismatch = 1;
	}
	tc->recvd += len;
	if (fin) {
		tc->fin_recv = 1;
		tc->done = 1;
	}
	return (0);
}

static void
cli_writable(hq_conn_t *c, int64_t sid, void *arg)
{
	struct tcli	*tc = arg;

	if (sid == tc->sid && tc->send_echo)
		cli_pump(tc, c);
}

static void
cli_datagram(hq_conn_t *c, const uint8_t *data, size_t len, void *arg)
{
	struct tcli	*tc = arg;

	(void)c;
	if (len == 4 && memcmp(data, "ping", 4) == 0) {
		tc->dgram_rx++;
		tc->done = 1;
	}
}

static void
cli_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct tcli	*tc = arg;

	(void)c;
	tc->closed++;
	tc->kind = ci->kind;
	tc->app = ci->app;
	tc->code = ci->error_code;
	tc->hs_done_at_close = ci->handshake_done;
	snprintf(tc->reason, sizeof(tc->reason), "%.*s", (int)ci->reasonlen,
	    ci->reason != NULL ? ci->reason : "");
}

static void
cli_new_token(hq_conn_t *c, const uint8_t *tok, size_t len, void *arg)
{
	struct tcli	*tc = arg;

	(void)c;
	if (len <= sizeof(tc->token)) {
		memcpy(tc->token, tok, len);
		tc->tokenlen = len;
		tc->got_token = 1;
	}
}

/* A client config toward the test server, offering hytale/1,hytale/2. */
static void
cli_config(struct hq_client_config *cfg, struct tcli *tc, struct tsrv *ts)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(tc, 0, sizeof(*tc));
	tc->ts = ts;
	tc->sid = -1;
	cfg->addr = "127.0.0.1";
	cfg->port = ts->srv != NULL ? hq_server_port(ts->srv, 0) : 0;
	cfg->sni = "localhost";
	cfg->alpn[0] = "hytale/1";
	cfg->alpn[1] = "hytale/2";
	cfg->nalpn = 2;
	cfg->use_cert = 1;		/* auto client certificate */
	cfg->verify.insecure = 1;
	cfg->tp.max_stream_data = 16 * 1024;
	cfg->tp.max_data = 32 * 1024;
	cfg->tp.stream_sndbuf = 8 * 1024;
	cfg->tp.datagrams = 1;
	cfg->cb.established = cli_established;
	cfg->cb.stream_open = cli_stream_open;
	cfg->cb.stream_data = cli_stream_data;
	cfg->cb.stream_writable = cli_writable;
	cfg->cb.datagram = cli_datagram;
	cfg->cb.closed = cli_closed;
	cfg->cb.new_token = cli_new_token;
	cfg->cb_arg = tc;
	cfg->log = tlog;
}

/* ---- tests ---- */

START_TEST(test_handshake_alpn_fp)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	hq_conn_t		*c;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ccfg.sni = "play.example.test";
	/* Verification on: pin the server's (ephemeral) certificate. */
	ccfg.verify.insecure = 0;
	ccfg.verify.pin[0] = hq_server_cert_fp(ts.srv);
	ccfg.verify.npin = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert_ptr_nonnull(hq_client_cert_fp(tc.cl));
	ck_assert(run(b, &tc.established, 5000));
	ck_assert(run(b, &ts.established, 2000));
	c = hq_client_conn(tc.cl);
	ck_assert_str_eq(hq_conn_alpn(c), "hytale/2");
	ck_assert_str_eq(ts.alpn, "hytale/2");
	ck_assert_str_eq(ts.sni, "play.example.test");
	ck_assert(ts.have_fp);
	ck_assert_uint_eq(strlen(ts.fp), HQ_FP_LEN);
	ck_assert_str_eq(ts.fp, hq_client_cert_fp(tc.cl));
	ck_assert_str_eq(hq_conn_peer_fp(c), hq_server_cert_fp(ts.srv));
	ck_assert_int_eq(ts.validated, HQ_VALID_NONE);
	ck_assert_uint_gt(hq_conn_handshake_ns(c), 0);
	fprintf(stderr, "check_quic: loopback handshake %.2f ms (1-RTT, no "
	    "Retry)\n", (double)hq_conn_handshake_ns(c) / 1e6);
	ck_assert_uint_eq(hq_server_stats(ts.srv)->handshakes_ok, 1);
	ck_assert_uint_eq(hq_client_stats(tc.cl)->handshakes_ok, 1);
	ck_assert_uint_eq(hq_server_stats(ts.srv)->conns_half_open, 0);
	ck_assert_uint_eq(hq_server_stats(ts.srv)->conns_active, 1);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_echo_100k)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	const struct hq_stats	*st;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	tc.send_echo = 1;
	clock_gettime(CLOCK_MONOTONIC, &tc.t0);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.done, 10000));
	/* 0.12's pre-RTT pacing stall would add ~22 ms here (compat.h). */
	fprintf(stderr, "check_quic: connect to first echoed byte %.2f ms\n",
	    (double)(tc.t1.tv_sec - tc.t0.tv_sec) * 1e3 +
	    (double)(tc.t1.tv_nsec - tc.t0.tv_nsec) / 1e6);
	ck_assert_uint_eq(tc.sent, ECHO_TOTAL);
	ck_assert_uint_eq(tc.recvd, ECHO_TOTAL);
	ck_assert(tc.fin_recv);
	ck_assert(!tc.mismatch);
	ck_assert_uint_eq(ts.echoed, ECHO_TOTAL);
	st = hq_server_stats(ts.srv);
	ck_assert_uint_gt(st->dgrams_in, 20);
	ck_assert_uint_gt(st->bytes_out, ECHO_TOTAL);
	/* A normal close reaches the server as a peer close. */
	ck_assert_int_eq(hq_conn_close(hq_client_conn(tc.cl), 0, "done", 0), 0);
	ck_assert_int_eq(tc.kind, HQ_CLOSE_LOCAL);
	ck_assert(run(b, &ts.closed, 2000));
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_retry_and_new_token)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc, tc2;
	const struct hq_stats	*st;
	uint8_t			 tok[256];
	size_t			 toklen;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.retry = HQ_RETRY_ALWAYS;
	srv_start(b, &scfg, &ts);
	st = hq_server_stats(ts.srv);
	cli_config(&ccfg, &tc, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.established, 5000));
	ck_assert(run(b, &ts.established, 2000));
	ck_assert_uint_eq(st->retries_sent, 1);
	ck_assert_uint_eq(st->retry_tokens_ok, 1);
	ck_assert_int_eq(ts.validated, HQ_VALID_RETRY);
	fprintf(stderr, "check_quic: loopback handshake %.2f ms (with Retry)\n",
	    (double)hq_conn_handshake_ns(hq_client_conn(tc.cl)) / 1e6);
	/* The server issued a NEW_TOKEN token after the handshake. */
	ck_assert(run(b, &tc.got_token, 2000));
	toklen = tc.tokenlen;
	memcpy(tok, tc.token, toklen);
	hq_client_free(tc.cl);

	/* Returning client: the token skips Retry. */
	ts.established = 0;
	cli_config(&ccfg, &tc2, &ts);
	ccfg.token = tok;
	ccfg.tokenlen = toklen;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc2.cl), 0);
	ck_assert(run(b, &ts.established, 5000));
	ck_assert_int_eq(ts.validated, HQ_VALID_NEW_TOKEN);
	ck_assert_uint_eq(st->retries_sent, 1);
	ck_assert_uint_eq(st->new_tokens_ok, 1);
	fprintf(stderr, "check_quic: loopback handshake %.2f ms (NEW_TOKEN)\n",
	    (double)hq_conn_handshake_ns(hq_client_conn(tc2.cl)) / 1e6);
	hq_client_free(tc2.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_token_key_rotation)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	uint8_t			 k1[HQ_SECRET_LEN], k2[HQ_SECRET_LEN];
	uint8_t			 k3[HQ_SECRET_LEN], tok[256];
	size_t			 toklen;

	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	memset(k3, 3, sizeof(k3));
	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.retry = HQ_RETRY_ALWAYS;
	scfg.token_key = k1;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.got_token, 5000));
	toklen = tc.tokenlen;
	memcpy(tok, tc.token, toklen);
	hq_client_free(tc.cl);

	/* One rotation: the token (key 1) is still accepted. */
	ck_assert_int_eq(hq_server_set_token_key(ts.srv, k2), 0);
	ts.established = 0;
	cli_config(&ccfg, &tc, &ts);
	ccfg.token = tok;
	ccfg.tokenlen = toklen;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &ts.established, 5000));
	ck_assert_int_eq(ts.validated, HQ_VALID_NEW_TOKEN);
	hq_client_free(tc.cl);

	/* Two rotations: key 1 is gone, so Retry again, still connects. */
	ck_assert_int_eq(hq_server_set_token_key(ts.srv, k3), 0);
	ts.established = 0;
	cli_config(&ccfg, &tc, &ts);
	ccfg.token = tok;
	ccfg.tokenlen = toklen;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &ts.established, 5000));
	ck_assert_int_eq(ts.validated, HQ_VALID_RETRY);
	ck_assert_uint_ge(hq_server_stats(ts.srv)->tokens_invalid, 1);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_close_app_code)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	ts.mode = SRV_CLOSE5;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	tc.send_hello = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.closed, 5000));
	ck_assert_int_eq(tc.kind, HQ_CLOSE_PEER);
	ck_assert_int_eq(tc.app, 1);
	ck_assert_uint_eq(tc.code, 5);
	ck_assert_str_eq(tc.reason, BYE);
	ck_assert(tc.hs_done_at_close);
	/* HQ_CLOSE_FLUSH: the stream data arrived before the close. */
	ck_assert_uint_eq(tc.bidi_rxlen, 3);
	ck_assert(memcmp(tc.bidi_rx, "bye", 3) == 0);
	ck_assert_int_eq(ts.closed, 1);
	/* The closed connection refuses new work. */
	ck_assert_int_lt(hq_stream_send(hq_client_conn(tc.cl), tc.sid, "x", 1,
	    0), 0);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_handshake_timeout)
{
	struct event_base	*b = new_base();
	struct hq_client_config	 ccfg;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct tsrv		 ts;
	struct tcli		 tc;
	int			 fd;

	/* A bound UDP port that never answers. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memset(&ts, 0, sizeof(ts));
	cli_config(&ccfg, &tc, &ts);
	ccfg.port = ntohs(sin.sin_port);
	ccfg.tp.handshake_timeout_ms = 300;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.closed, 3000));
	ck_assert_int_eq(tc.kind, HQ_CLOSE_HANDSHAKE_TIMEOUT);
	ck_assert(!tc.established);
	ck_assert_uint_eq(hq_client_stats(tc.cl)->handshakes_failed, 1);
	ck_assert_int_eq(hq_conn_established(hq_client_conn(tc.cl)), 0);
	hq_client_free(tc.cl);
	close(fd);
	event_base_free(b);
}
END_TEST

/* Connect with a verify setting; return 1 if established, 0 if it failed. */
static int
try_verify(struct event_base *b, struct tsrv *ts, const struct hq_verify *v,
    const char *sni)
{
	struct hq_client_config	ccfg;
	struct tcli		tc;
	int			ok;

	cli_config(&ccfg, &tc, ts);
	ccfg.verify = *v;
	ccfg.sni = sni;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.closed, 5000) || tc.established);
	if (!tc.established) {
		ck_assert_int_eq(tc.kind, HQ_CLOSE_ERROR);
		ck_assert(!tc.hs_done_at_close);
		ck_assert_uint_eq(hq_client_stats(tc.cl)->handshakes_failed, 1);
	}
	ok = tc.established;
	hq_client_free(tc.cl);
	return (ok);
}

START_TEST(test_verify_pin_san_insecure)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_verify	 v;
	struct tsrv		 ts;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.cert.auto_cn = "backend.test";
	srv_start(b, &scfg, &ts);

	memset(&v, 0, sizeof(v));
	v.insecure = 1;
	ck_assert(try_verify(b, &ts, &v, "localhost"));

	memset(&v, 0, sizeof(v));
	v.pin[0] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	v.npin = 1;
	ck_assert(!try_verify(b, &ts, &v, "localhost"));
	/* A second, matching pin is accepted. */
	v.pin[1] = hq_server_cert_fp(ts.srv);
	v.npin = 2;
	ck_assert(try_verify(b, &ts, &v, "localhost"));

	memset(&v, 0, sizeof(v));
	v.san[0] = "other.test";
	v.nsan = 1;
	ck_assert(!try_verify(b, &ts, &v, "localhost"));
	v.san[1] = "backend.test";
	v.nsan = 2;
	ck_assert(try_verify(b, &ts, &v, "localhost"));

	/* Pin right but SAN wrong: both must pass. */
	v.pin[0] = hq_server_cert_fp(ts.srv);
	v.npin = 1;
	v.san[0] = "nope.test";
	v.nsan = 1;
	ck_assert(!try_verify(b, &ts, &v, "localhost"));
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

/* Write s to dir/name; return the path (static buffer per slot). */
static const char *
write_file(const char *dir, const char *name, const char *s, char *path,
    size_t pathlen)
{
	FILE	*f;

	snprintf(path, pathlen, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(s, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return (path);
}

START_TEST(test_verify_ca_file)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_certgen	 g;
	struct hq_verify	 v;
	struct tsrv		 ts;
	char			 dir[] = "/tmp/check_quic.XXXXXX";
	char			*ca, *cakey, *leaf, *leafkey, *ca2, *ca2key;
	char			 p_ca[256], p_ca2[256], p_leaf[256], p_key[256];
	char			 fp[HQ_FP_LEN + 1];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&g, 0, sizeof(g));
	g.cn = "Test CA";
	g.is_ca = 1;
	ck_assert_int_eq(hq_cert_generate(&g, &ca, &cakey), 0);
	ck_assert_int_eq(hq_cert_generate(&g, &ca2, &ca2key), 0);
	memset(&g, 0, sizeof(g));
	g.cn = "hq.test";
	g.ip_san = "127.0.0.1";
	g.issuer_cert_pem = ca;
	g.issuer_key_pem = cakey;
	ck_assert_int_eq(hq_cert_generate(&g, &leaf, &leafkey), 0);
	write_file(dir, "ca.pem", ca, p_ca, sizeof(p_ca));
	write_file(dir, "ca2.pem", ca2, p_ca2, sizeof(p_ca2));
	write_file(dir, "leaf.pem", leaf, p_leaf, sizeof(p_leaf));
	write_file(dir, "leaf.key", leafkey, p_key, sizeof(p_key));

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.cert.cert_file = p_leaf;
	scfg.cert.key_file = p_key;
	srv_start(b, &scfg, &ts);
	ck_assert_int_eq(hq_cert_fp_pem(leaf, fp), 0);
	ck_assert_str_eq(fp, hq_server_cert_fp(ts.srv));

	memset(&v, 0, sizeof(v));
	v.ca_file = p_ca;
	ck_assert(try_verify(b, &ts, &v, "hq.test"));
	/* Chain fine, name wrong. */
	ck_assert(!try_verify(b, &ts, &v, "evil.test"));
	/* Explicit hostname overrides SNI. */
	v.hostname = "hq.test";
	ck_assert(try_verify(b, &ts, &v, "evil.test"));
	/* Another CA does not vouch for it. */
	memset(&v, 0, sizeof(v));
	v.ca_file = p_ca2;
	ck_assert(!try_verify(b, &ts, &v, "hq.test"));

	srv_stop(&ts);
	event_base_free(b);
	unlink(p_ca);
	unlink(p_ca2);
	unlink(p_leaf);
	unlink(p_key);
	rmdir(dir);
	free(ca);
	free(cakey);
	free(ca2);
	free(ca2key);
	free(leaf);
	free(leafkey);
}
END_TEST

START_TEST(test_config_errors)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	hq_server_t		*s = NULL;
	hq_client_t		*cl = NULL;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.nalpn = 0;
	ck_assert_int_eq(hq_server_new(b, &scfg, &s), HYP_EINVAL);
	srv_config(&scfg, &ts);
	scfg.listen[0].addr = "not-an-address";
	ck_assert_int_eq(hq_server_new(b, &scfg, &s), HYP_EINVAL);
	srv_config(&scfg, &ts);
	scfg.cert.cert_file = "/nonexistent/cert.pem";
	scfg.cert.key_file = "/nonexistent/key.pem";
	ck_assert_int_lt(hq_server_new(b, &scfg, &s), 0);
	srv_config(&scfg, &ts);
	scfg.priority = "NOT-A-PRIORITY";
	ck_assert_int_eq(hq_server_new(b, &scfg, &s), HYP_EINVAL);
	ck_assert_ptr_null(s);

	cli_config(&ccfg, &tc, &ts);
	ccfg.addr = "localhost";	/* numeric only: the caller resolves */
	ck_assert_int_eq(hq_client_new(b, &ccfg, &cl), HYP_EINVAL);
	cli_config(&ccfg, &tc, &ts);
	ccfg.port = 9;
	ccfg.verify.insecure = 0;
	ccfg.verify.pin[0] = "short";
	ccfg.verify.npin = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &cl), HYP_EINVAL);
	cli_config(&ccfg, &tc, &ts);
	ccfg.port = 9;
	ccfg.verify.insecure = 0;
	ccfg.verify.ca_file = "/nonexistent/ca.pem";
	ck_assert_int_lt(hq_client_new(b, &ccfg, &cl), 0);
	ck_assert_ptr_null(cl);
	event_base_free(b);
}
END_TEST

START_TEST(test_uni_streams_and_datagram)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	ts.mode = SRV_UNI2;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.done, 5000));
	ck_assert_int_eq(tc.uni_open, 2);
	ck_assert_int_eq(tc.uni_sid[0], 3);	/* server uni: 3, 7 */
	ck_assert_int_eq(tc.uni_sid[1], 7);
	ck_assert(memcmp(tc.uni_rx[0], "chunks", 6) == 0);
	ck_assert(memcmp(tc.uni_rx[1], "worldmap", 8) == 0);
	/* DATAGRAM round trip. */
	tc.done = 0;
	ck_assert_int_eq(hq_conn_send_datagram(hq_client_conn(tc.cl), "ping",
	    4), 0);
	ck_assert_int_eq(hq_conn_send_datagram(hq_client_conn(tc.cl), "x",
	    2000), HYP_ERANGE);
	ck_assert(run(b, &tc.done, 5000));
	ck_assert_int_eq(ts.dgram_rx, 1);
	ck_assert_int_eq(tc.dgram_rx, 1);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

/* Send raw bytes to the server from fd. */
static void
raw_send(int fd, const struct sockaddr_in *to, const uint8_t *p, size_t n)
{
	ck_assert_int_eq(sendto(fd, p, n, 0, (const struct sockaddr *)to,
	    sizeof(*to)), (ssize_t)n);
}

START_TEST(test_bad_datagrams)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct sockaddr_in	 to;
	struct tsrv		 ts;
	struct tcli		 tc;
	const struct hq_stats	*st;
	uint8_t			 pkt[1300];
	size_t			 i;
	int			 fd;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	srv_start(b, &scfg, &ts);
	st = hq_server_stats(ts.srv);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(hq_server_port(ts.srv, 0));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);

	/* A real handshake runs alongside. */
	cli_config(&ccfg, &tc, &ts);
	tc.send_echo = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);

	raw_send(fd, &to, pkt, 0);			/* empty */
	pkt[0] = 0xc0;
	raw_send(fd, &to, pkt, 1);			/* 1 byte */
	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 37 + 11);
	pkt[0] = 0x40;
	raw_send(fd, &to, pkt, 20);			/* 20 bytes, short hdr */
	/* Garbage long header claiming v1 with absurd CID lengths. */
	pkt[0] = 0xc0;
	pkt[1] = 0; pkt[2] = 0; pkt[3] = 0; pkt[4] = 1;
	pkt[5] = 0xff;
	raw_send(fd, &to, pkt, 1200);
	/* A plausible v1 Initial, but only 200 bytes (< 1200). */
	pkt[5] = 8;
	pkt[14] = 8;
	pkt[23] = 0;	/* token length */
	pkt[24] = 0x40; pkt[25] = 0xb0;	/* length 176 */
	raw_send(fd, &to, pkt, 200);
	/* The same, full size, but undecryptable garbage. */
	pkt[24] = 0x44; pkt[25] = 0x96;	/* length 1174 */
	raw_send(fd, &to, pkt, 1200);
	/* An unknown version: Version Negotiation. */
	pkt[1] = 0x1a; pkt[2] = 0x2a; pkt[3] = 0x3a; pkt[4] = 0x4a;
	raw_send(fd, &to, pkt, 1200);
	/* An unknown short-header connection: stateless reset. */
	pkt[0] = 0x41;
	raw_send(fd, &to, pkt, 60);

	ck_assert(run(b, &tc.done, 10000));
	ck_assert(!tc.mismatch);
	ck_assert_uint_eq(tc.recvd, ECHO_TOTAL);
	ck_assert_uint_ge(st->dgrams_dropped, 4);
	ck_assert_uint_eq(st->vn_sent, 1);
	ck_assert_uint_eq(st->resets_sent, 1);
	ck_assert_uint_eq(st->handshakes_ok, 1);
	/* Nothing was left behind by the garbage Initial. */
	ck_assert_uint_eq(st->conns_active, 1);
	ck_assert_uint_eq(st->conns_half_open, 0);
	close(fd);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

/* Admission callback that refuses everything. */
static int
refuse_all(void *arg, const struct sockaddr *peer, socklen_t len, int validated,
    void **user)
{
	(void)arg;
	(void)len;
	(void)validated;
	*user = arg;	/* must not stick: refused */
	ck_assert_int_eq(peer->sa_family, AF_INET);
	return (-1);
}

START_TEST(test_admission_refused)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.cb.admit = refuse_all;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.closed, 5000));
	ck_assert(!tc.established);
	ck_assert_int_eq(tc.kind, HQ_CLOSE_PEER);
	ck_assert_uint_eq(tc.code, 0x2);	/* CONNECTION_REFUSED */
	ck_assert_uint_eq(hq_server_stats(ts.srv)->admissions_refused, 1);
	ck_assert_uint_eq(hq_server_stats(ts.srv)->conns_active, 0);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_dual_stack)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	int			 fd;

	/* Skip quietly where the host has no IPv6 loopback. */
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) < 0) {
		event_base_free(b);
		return;
	}
	close(fd);
	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.listen[0].addr = "::";
	scfg.listen[0].dual_stack = 1;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ccfg.addr = "::1";
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.established, 5000));
	hq_client_free(tc.cl);
	cli_config(&ccfg, &tc, &ts);
	ccfg.addr = "127.0.0.1";	/* IPv4 on the dual-stack socket */
	tc.send_echo = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.done, 10000));
	ck_assert_uint_eq(tc.recvd, ECHO_TOTAL);
	ck_assert(!tc.mismatch);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_close_transport)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	ts.mode = SRV_PV;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	tc.send_hello = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.closed, 5000));
	ck_assert_int_eq(tc.kind, HQ_CLOSE_PEER);
	ck_assert_int_eq(tc.app, 0);
	ck_assert_uint_eq(tc.code, HQ_ERR_PROTOCOL_VIOLATION);
	ck_assert_str_eq(tc.reason, "");
	ck_assert(tc.hs_done_at_close);
	ck_assert(run(b, &ts.closed, 2000));
	ck_assert_int_eq(ts.close_kind, HQ_CLOSE_LOCAL);
	ck_assert_int_eq(ts.close_app, 0);
	ck_assert_uint_eq(ts.close_code, HQ_ERR_PROTOCOL_VIOLATION);
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
}
END_TEST

START_TEST(test_admit_user_close_all_free)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc, tc2;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.cb.admit = srv_admit;
	srv_start(b, &scfg, &ts);

	/* hq_server_close_all(): closed() with the admit pointer. */
	cli_config(&ccfg, &tc, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &ts.established, 5000));
	ck_assert_int_eq(ts.admits, 1);
	ck_assert_int_eq(ts.user_ok, 1);
	hq_server_close_all(ts.srv, 7, "draining");
	ck_assert(run(b, &ts.closed, 2000));
	ck_assert_int_eq(ts.closed_user, 1);
	ck_assert_int_eq(ts.close_kind, HQ_CLOSE_LOCAL);
	ck_assert_int_eq(ts.close_app, 1);
	ck_assert_uint_eq(ts.close_code, 7);
	ck_assert(run(b, &tc.closed, 2000));
	ck_assert_uint_eq(tc.code, 7);
	hq_client_free(tc.cl);

	/* hq_server_free() with an open connection: closed() still comes. */
	ts.established = ts.closed = ts.closed_user = 0;
	cli_config(&ccfg, &tc2, &ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc2.cl), 0);
	ck_assert(run(b, &ts.established, 5000));
	ck_assert_int_eq(ts.admits, 2);
	ck_assert_int_eq(ts.user_ok, 2);
	srv_stop(&ts);
	ck_assert_int_eq(ts.closed, 1);
	ck_assert_int_eq(ts.closed_user, 1);
	ck_assert_int_eq(ts.close_kind, HQ_CLOSE_LOCAL);
	hq_client_free(tc2.cl);
	event_base_free(b);
}
END_TEST

/* Send one Initial from a client that then vanishes. */
static void
vanishing_client(struct event_base *b, struct tsrv *ts)
{
	struct hq_client_config	ccfg;
	struct tcli		tc;

	cli_config(&ccfg, &tc, ts);
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	/* hq_client_new() wrote the first Initial already. */
	ck_assert_uint_ge(hq_client_stats(tc.cl)->dgrams_out, 1);
	hq_client_free(tc.cl);
}

START_TEST(test_admit_handshake_timeout_and_free)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct tsrv		 ts;
	const struct hq_stats	*st;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.cb.admit = srv_admit;
	scfg.tp.handshake_timeout_ms = 300;
	srv_start(b, &scfg, &ts);
	st = hq_server_stats(ts.srv);

	/* Half-open until the handshake timeout: closed() sees the pointer. */
	vanishing_client(b, &ts);
	ck_assert(run(b, &ts.closed, 3000));
	ck_assert_int_eq(ts.admits, 1);
	ck_assert_int_eq(ts.closed_user, 1);
	ck_assert_int_eq(ts.close_kind, HQ_CLOSE_HANDSHAKE_TIMEOUT);
	ck_assert_int_eq(ts.established, 0);
	ck_assert_uint_eq(st->conns_active, 0);
	ck_assert_uint_eq(st->conns_half_open, 0);
	ck_assert_uint_ge(ts.cst.dgrams_in, 1);
	ck_assert_uint_ge(ts.cst.bytes_in, 1200);
	ck_assert_uint_ge(ts.cst.dgrams_out, 1);

	/* Half-open when the server is freed: closed() still comes. */
	ts.admits = ts.closed = ts.closed_user = 0;
	vanishing_client(b, &ts);
	ck_assert(run(b, &ts.admits, 2000));
	ck_assert_uint_eq(st->conns_half_open, 1);
	ck_assert_int_eq(ts.closed, 0);
	srv_stop(&ts);
	ck_assert_int_eq(ts.closed, 1);
	ck_assert_int_eq(ts.closed_user, 1);
	ck_assert_int_eq(ts.close_kind, HQ_CLOSE_LOCAL);
	event_base_free(b);
}
END_TEST

/*
 * Echo 100 KB with the given payload limits; check the counters.  Returns
 * the largest datagram the server sent.
 */
static uint64_t
echo_payload(size_t srv_max, size_t cli_max, size_t bound)
{
	struct event_base	*b = new_base();
	struct hq_server_config	 scfg;
	struct hq_client_config	 ccfg;
	struct tsrv		 ts;
	struct tcli		 tc;
	struct hq_conn_stats	 cs;
	const struct hq_stats	*es;
	uint64_t		 largest;

	memset(&ts, 0, sizeof(ts));
	srv_config(&scfg, &ts);
	scfg.tp.max_udp_payload = srv_max;
	srv_start(b, &scfg, &ts);
	cli_config(&ccfg, &tc, &ts);
	ccfg.tp.max_udp_payload = cli_max;
	tc.send_echo = 1;
	ck_assert_int_eq(hq_client_new(b, &ccfg, &tc.cl), 0);
	ck_assert(run(b, &tc.done, 10000));
	ck_assert_uint_eq(tc.recvd, ECHO_TOTAL);
	ck_assert(!tc.mismatch);
	/* The client's only connection saw every datagram of its endpoint. */
	hq_conn_stats(hq_client_conn(tc.cl), &cs);
	es = hq_client_stats(tc.cl);
	ck_assert_uint_eq(cs.dgrams_in, es->dgrams_in);
	ck_assert_uint_eq(cs.bytes_in, es->bytes_in);
	ck_assert_uint_eq(cs.dgrams_out, es->dgrams_out);
	ck_assert_uint_eq(cs.bytes_out, es->bytes_out);
	ck_assert_uint_gt(cs.bytes_in, ECHO_TOTAL);
	ck_assert_uint_le(cs.max_dgram_in, bound);
	ck_assert_uint_le(cs.max_dgram_out, bound);
	ck_assert_uint_ge(cs.max_dgram_out, 1200);	/* padded Initial */
	ck_assert_int_eq(hq_conn_close(hq_client_conn(tc.cl), 0, "", 0), 0);
	ck_assert(run(b, &ts.closed, 2000));
	ck_assert_uint_gt(ts.cst.bytes_out, ECHO_TOTAL);
	ck_assert_uint_gt(ts.cst.dgrams_in, 20);
	ck_assert_uint_le(ts.cst.dgrams_in, hq_server_stats(ts.srv)->dgrams_in);
	ck_assert_uint_le(ts.cst.max_dgram_out, bound);
	ck_assert_uint_le(ts.cst.max_dgram_in, bound);
	fprintf(stderr, "check_quic: max_udp_payload srv %zu cli %zu: largest "
	    "datagram out %llu (server), %llu (client)\n", srv_max, cli_max,
	    (unsigned long long)ts.cst.max_dgram_out,
	    (unsigned long long)cs.max_dgram_out);
	largest = ts.cst.max_dgram_out;
	hq_client_free(tc.cl);
	srv_stop(&ts);
	event_base_free(b);
	return (largest);
}

START_TEST(test_conn_stats_udp_payload)
{
	/* Defaults (1472): ngtcp2's path MTU probes go beyond 1250. */
	ck_assert_uint_gt(echo_payload(0, 0, 1472), 1250);
	/* Our own send limit, both ways. */
	echo_payload(1250, 1250, 1250);
	/* The advertised limit: the server's default is bigger. */
	echo_payload(0, 1200, 1200);
	/* Out-of-range values are clamped (1200 .. 65527). */
	echo_payload(100, 100, 1200);
}
END_TEST

/* Write n as an 8-byte big-endian CID. */
static void
cid_of(uint8_t cid[8], size_t n)
{
	int	i;

	for (i = 7; i >= 0; i--, n >>= 8)
		cid[i] = (uint8_t)n;
}

/*
 * The CID map touches memory as it is used: no pool entry before the first
 * add, buckets doubling with the count up to the bound; every CID stays
 * findable across growth; the pool and per-connection bounds hold; freed
 * entries are reused before the pool advances.
 */
START_TEST(test_cidmap_lazy_grow)
{
	static struct hq_conn	 conns[512], one;
	struct hq_cidmap	 m;
	uint8_t			 cid[8];
	size_t			 i, cap = 4000;

	ck_assert_int_eq(hq_cidmap_init(&m, 0), HYP_EINVAL);
	ck_assert_int_eq(hq_cidmap_init(&m, cap), 0);
	ck_assert_uint_eq(m.mask + 1, HQ_CIDMAP_MINB);
	ck_assert_uint_eq(m.used, 0);
	ck_assert_ptr_null(m.free);
	for (i = 0; i < cap; i++) {
		cid_of(cid, i);
		ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &conns[i / 8]), 0);
		ck_assert_uint_le(m.count, 2 * (m.mask + 1));
	}
	ck_assert_uint_eq(m.used, cap);
	ck_assert_uint_eq(m.mask + 1, 4096);	/* bound: pow2 >= cap */
	for (i = 0; i < cap; i++) {
		cid_of(cid, i);
		ck_assert_ptr_eq(hq_cidmap_get(&m, cid, 8), &conns[i / 8]);
	}
	cid_of(cid, cap);
	ck_assert_ptr_null(hq_cidmap_get(&m, cid, 8));
	ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &conns[511]), HYP_ENOSPC);
	cid_of(cid, 5);
	ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &conns[511]), HYP_EEXIST);
	ck_assert_int_eq(hq_cidmap_add(&m, cid, 0, &conns[511]), HYP_EINVAL);
	ck_assert_int_eq(hq_cidmap_add(&m, cid, NGTCP2_MAX_CIDLEN + 1,
	    &conns[511]), HYP_EINVAL);

	/* Free one connection's 8 CIDs: they are reused, the pool is not. */
	hq_cidmap_del_conn(&m, &conns[0]);
	ck_assert_uint_eq(conns[0].ncids, 0);
	ck_assert_uint_eq(m.count, cap - 8);
	for (i = 0; i < 8; i++) {
		cid_of(cid, i);
		ck_assert_ptr_null(hq_cidmap_get(&m, cid, 8));
		cid_of(cid, 100000 + i);
		ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &conns[511]), 0);
	}
	ck_assert_uint_eq(m.used, cap);
	cid_of(cid, 100000 + 8);
	ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &conns[511]), HYP_ENOSPC);
	cid_of(cid, 100003);
	hq_cidmap_del(&m, cid, 8);
	ck_assert_ptr_null(hq_cidmap_get(&m, cid, 8));
	ck_assert_uint_eq(conns[511].ncids, 7);
	hq_cidmap_free(&m);

	/* At most HQ_CONN_CIDS per connection. */
	ck_assert_int_eq(hq_cidmap_init(&m, 64), 0);
	for (i = 0; i < HQ_CONN_CIDS; i++) {
		cid_of(cid, i);
		ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &one), 0);
	}
	cid_of(cid, i);
	ck_assert_int_eq(hq_cidmap_add(&m, cid, 8, &one), HYP_ENOSPC);
	ck_assert_uint_eq(m.mask + 1, 64);	/* small caps: pow2 >= cap */
	hq_cidmap_free(&m);
}
END_TEST

static Suite *
quic_suite(void)
{
	Suite	*s = suite_create("quic");
	TCase	*tc = tcase_create("loopback");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_handshake_alpn_fp);
	tcase_add_test(tc, test_echo_100k);
	tcase_add_test(tc, test_retry_and_new_token);
	tcase_add_test(tc, test_token_key_rotation);
	tcase_add_test(tc, test_close_app_code);
	tcase_add_test(tc, test_handshake_timeout);
	tcase_add_test(tc, test_verify_pin_san_insecure);
	tcase_add_test(tc, test_verify_ca_file);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_uni_streams_and_datagram);
	tcase_add_test(tc, test_bad_datagrams);
	tcase_add_test(tc, test_admission_refused);
	tcase_add_test(tc, test_dual_stack);
	tcase_add_test(tc, test_close_transport);
	tcase_add_test(tc, test_admit_user_close_all_free);
	tcase_add_test(tc, test_admit_handshake_timeout_and_free);
	tcase_add_test(tc, test_conn_stats_udp_payload);
	tcase_add_test(tc, test_cidmap_lazy_grow);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(quic_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
