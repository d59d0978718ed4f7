/*
 * mock-client: a small Hytale-like client on lib/quic, the test peers' own
 * check of mock-backend (and of any server that answers Connect).
 *
 * It connects, sends one Connect on a new bidirectional stream, prints every
 * packet that comes back, and after ConnectAccept runs its own expectations:
 * --frames N sends N test frames and waits for each echo byte-for-byte,
 * --expect-uni N waits for N unidirectional streams with one frame each,
 * --expect-bytes N waits for N filler payload bytes.  Exit codes follow
 * hyproxctl probe: 0 accepted (and every expectation met), 10 referral,
 * 11 disconnect, 12 closed, 13 other, 20 handshake failed, 21 timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "quic.h"
#include "peer.h"

#define MC_FRAME_MAX	(1U << 20)
#define MC_TEST_ID	200
#define MC_FILLER_ID	255
#define MC_MAX_UNI	8

enum mc_rc {
	MC_ACCEPT = 0,
	MC_REFERRAL = 10,
	MC_DISCONNECT = 11,
	MC_CLOSED = 12,
	MC_OTHER = 13,
	MC_HANDSHAKE = 20,
	MC_TIMEOUT = 21
};

struct mc_uni {
	int64_t			 sid;
	struct peer_frames	 in;
};

struct mc {
	struct event_base	*base;
	hq_client_t		*cl;
	struct event		*timer;
	int64_t			 sid;
	struct peer_frames	 in;
	struct mc_uni		 uni[MC_MAX_UNI];
	size_t			 nuni;
	unsigned		 uni_frames;
	struct hyp_connect	 connect;
	uint8_t			 refdata[HYP_REFERRAL_DATA_MAX];
	char			 refhost[HYP_HOST_MAX + 1];
	unsigned		 frames;	/* to send after accept */
	size_t			 frame_size;
	unsigned		 echoes;
	unsigned		 expect_uni;
	uint64_t		 expect_bytes;
	uint64_t		 filler;
	int			 accepted;
	int			 done;
	int			 rc;
	int			 verbose;
};

/* Print usage and exit. */
static void __attribute__((noreturn))
mc_usage(int rc)
{
	fprintf(rc == 0 ? stdout : stderr,
	    "usage: mock-client --connect ADDR:PORT [--sni NAME] [--alpn LIST]"
	    " [--layout 1|2|3]\n"
	    "           [--user NAME] [--uuid UUID] [--referral-data HEX "
	    "--referral-source HOST:PORT]\n"
	    "           [--frames N] [--frame-size B] [--expect-uni N] "
	    "[--expect-bytes N]\n"
	    "           [--timeout MS] [-v]\n");
	exit(rc);
}

/* Test frame i's payload byte j. */
static uint8_t
mc_pattern(unsigned i, size_t j)
{
	return ((uint8_t)(i * 31 + j * 13 + 5));
}

/* Finish: record the exit code and leave the loop (close first). */
static void
mc_finish(struct mc *m, int rc, int close)
{
	if (m->done)
		return;
	m->done = 1;
	m->rc = rc;
	if (close)
		hq_conn_close(hq_client_conn(m->cl), 0, "", 0);
	else
		event_base_loopbreak(m->base);
}

/* All expectations after ConnectAccept met? */
static void
mc_check_done(struct mc *m)
{
	if (m->accepted && m->echoes >= m->frames &&
	    m->uni_frames >= m->expect_uni && m->filler >= m->expect_bytes) {
		peer_out("done echoes=%u uni_frames=%u filler=%llu", m->echoes,
		    m->uni_frames, (unsigned long long)m->filler);
		mc_finish(m, MC_ACCEPT, 1);
	}
}

/* Send the test frames. */
static int
mc_send_frames(struct mc *m, hq_conn_t *c)
{
	uint8_t	*buf;
	size_t	 j, n = HYP_FRAME_HEADER_LEN + m->frame_size;
	unsigned i;
	ssize_t	 w;

	if ((buf = malloc(n)) == NULL)
		return (HYP_ENOMEM);
	for (i = 0; i < m->frames; i++) {
		hyp_frame_header_encode(buf, (uint32_t)m->frame_size,
		    MC_TEST_ID);
		for (j = 0; j < m->frame_size; j++)
			buf[HYP_FRAME_HEADER_LEN + j] = mc_pattern(i, j);
		w = hq_stream_send(c, m->sid, buf, n, 0);
		if (w != (ssize_t)n) {
			free(buf);
			peer_out("error send-frames short=%zd", w);
			return (HYP_ENOSPC);
		}
	}
	free(buf);
	return (0);
}

/* Print the whole frame (header + payload) as hex. */
static void
mc_print_frame(uint32_t id, const uint8_t *p, size_t n)
{
	uint8_t	 hdr[HYP_FRAME_HEADER_LEN];
	char	 h[2 * HYP_FRAME_HEADER_LEN + 1], *hex;

	if ((hex = malloc(2 * n + 2)) == NULL)
		return;
	hyp_frame_header_encode(hdr, (uint32_t)n, id);
	peer_hex(hdr, sizeof hdr, h, sizeof h);
	peer_hex(p, n, hex, 2 * n + 2);
	peer_out("frame id=%u hex=%s%s", id, h, hex);
	free(hex);
}

/* One frame on the main stream. */
static int
mc_on_frame(struct mc *m, hq_conn_t *c, uint32_t id, const uint8_t *p,
    size_t n)
{
	struct hyp_disconnect		 d;
	struct hyp_client_referral	 r;
	struct hyp_connect_accept	 a;
	char				 hex[2 * HYP_REFERRAL_DATA_MAX + 2];
	size_t				 j;
	int				 rv;

	if (id != MC_TEST_ID && id != MC_FILLER_ID && n <= 65536)
		mc_print_frame(id, p, n);
	switch (id) {
	case HYP_PKT_CONNECT_ACCEPT:
		if ((rv = hyp_connect_accept_decode(p, n, &a)) < 0) {
			peer_out("recv ConnectAccept error=%s",
			    hyp_strerror(rv));
			mc_finish(m, MC_OTHER, 1);
			return (0);
		}
		peer_out("accept challenge=%s", a.password_challenge.ptr !=
		    NULL ? "present" : "none");
		m->accepted = 1;
		if (m->frames > 0 && (rv = mc_send_frames(m, c)) < 0)
			return (rv);
		mc_check_done(m);
		return (0);
	case HYP_PKT_DISCONNECT:
		if ((rv = hyp_disconnect_decode(p, n, HYP_DISCONNECT_OLD,
		    &d)) < 0) {
			peer_out("recv Disconnect error=%s", hyp_strerror(rv));
			mc_finish(m, MC_OTHER, 1);
			return (0);
		}
		peer_out("disconnect reason=%.*s", (int)d.reason.len,
		    d.reason.ptr != NULL ? (const char *)d.reason.ptr : "");
		m->rc = MC_DISCONNECT;
		return (0);
	case HYP_PKT_CLIENT_REFERRAL:
		if ((rv = hyp_client_referral_decode(p, n, &r)) < 0) {
			peer_out("recv ClientReferral error=%s",
			    hyp_strerror(rv));
			mc_finish(m, MC_OTHER, 1);
			return (0);
		}
		peer_hex(r.data.ptr, r.data.len, hex, sizeof hex);
		peer_out("referral host=%.*s port=%u data=%s",
		    r.has_host ? (int)r.host_to.host.len : 1,
		    r.has_host ? (const char *)r.host_to.host.ptr : "-",
		    r.has_host ? r.host_to.port : 0, hex);
		m->rc = MC_REFERRAL;
		return (0);
	case MC_TEST_ID:
		if (n != m->frame_size) {
			peer_out("echo-mismatch len=%zu", n);
			mc_finish(m, MC_OTHER, 1);
			return (0);
		}
		for (j = 0; j < n; j++)
			if (p[j] != mc_pattern(m->echoes, j)) {
				peer_out("echo-mismatch frame=%u byte=%zu",
				    m->echoes, j);
				mc_finish(m, MC_OTHER, 1);
				return (0);
			}
		m->echoes++;
		peer_out("echo n=%u len=%zu", m->echoes, n);
		mc_check_done(m);
		return (0);
	case MC_FILLER_ID:
		m->filler += n;
		if (m->verbose)
			peer_out("recv id=255 len=%zu", n);
		mc_check_done(m);
		return (0);
	default:
		peer_out("recv id=%u name=%s len=%zu", id, hyp_packet_name(id),
		    n);
		return (0);
	}
}

/* Handshake complete: send Connect. */
static int
mc_established(hq_conn_t *c, void *arg)
{
	struct mc	*m = arg;
	uint8_t		 buf[HYP_FRAME_HEADER_LEN + HYP_CONNECT_V1_MAX];
	int		 n, rv;
	ssize_t		 w;

	peer_out("established alpn=%s server_fp=%s", hq_conn_alpn(c),
	    hq_conn_peer_fp(c) != NULL ? hq_conn_peer_fp(c) : "-");
	if ((rv = hq_stream_open_bidi(c, &m->sid)) < 0)
		return (rv);
	n = hyp_connect_encode(&m->connect, buf + HYP_FRAME_HEADER_LEN,
	    sizeof buf - HYP_FRAME_HEADER_LEN);
	if (n < 0) {
		peer_out("error encode-connect %s", hyp_strerror(n));
		return (n);
	}
	hyp_frame_header_encode(buf, (uint32_t)n, HYP_PKT_CONNECT);
	w = hq_stream_send(c, m->sid, buf, HYP_FRAME_HEADER_LEN + (size_t)n, 0);
	if (w != HYP_FRAME_HEADER_LEN + n)
		return (HYP_ENOSPC);
	peer_out("sent connect layout=%d len=%d", (int)m->connect.layout, n);
	return (0);
}

/* Uni stream state for sid (allocated on first use). */
static struct mc_uni *
mc_uni_get(struct mc *m, int64_t sid)
{
	size_t	i;

	for (i = 0; i < m->nuni; i++)
		if (m->uni[i].sid == sid)
			return (&m->uni[i]);
	if (m->nuni == MC_MAX_UNI)
		return (NULL);
	m->uni[m->nuni].sid = sid;
	peer_frames_init(&m->uni[m->nuni].in, MC_FRAME_MAX);
	peer_out("uni-open sid=%lld n=%zu", (long long)sid, m->nuni + 1);
	return (&m->uni[m->nuni++]);
}

/* Stream data. */
static int
mc_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct mc		*m = arg;
	struct peer_frames	*f;
	struct mc_uni		*u = NULL;
	const uint8_t		*p;
	size_t			 plen;
	uint32_t		 id;
	int			 rv;

	if (sid == m->sid)
		f = &m->in;
	else if ((sid & 0x3) == 0x3) {
		if ((u = mc_uni_get(m, sid)) == NULL)
			return (HYP_ENOSPC);
		f = &u->in;
	} else {
		peer_out("data sid=%lld len=%zu", (long long)sid, len);
		return (0);
	}
	if (peer_frames_push(f, data, len) < 0)
		return (HYP_ENOMEM);
	while ((rv = peer_frames_next(f, &id, &p, &plen)) == 1) {
		if (u != NULL) {
			peer_out("uni sid=%lld id=%u len=%zu payload=%.*s",
			    (long long)sid, id, plen, (int)plen,
			    (const char *)p);
			m->uni_frames++;
			mc_check_done(m);
		} else if ((rv = mc_on_frame(m, c, id, p, plen)) < 0)
			return (rv);
		if (m->done)
			return (0);
	}
	if (rv < 0) {
		peer_out("too-big sid=%lld declared=%zu", (long long)sid, plen);
		mc_finish(m, MC_OTHER, 1);
	}
	if (fin && sid == m->sid)
		peer_out("fin sid=%lld", (long long)sid);
	return (0);
}

/* Connection over: print the close and leave the loop. */
static void
mc_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct mc	*m = arg;

	(void)c;
	peer_out("closed kind=%d app=%d code=%llu reason=%.*s handshake=%d",
	    (int)ci->kind, ci->app, (unsigned long long)ci->error_code,
	    ci->reason != NULL ? (int)ci->reasonlen : 0,
	    ci->reason != NULL ? ci->reason : "", ci->handshake_done);
	if (!m->done) {
		m->done = 1;
		if (!ci->handshake_done)
			m->rc = MC_HANDSHAKE;
		else if (m->rc == 0)
			m->rc = m->accepted ? MC_OTHER : MC_CLOSED;
	}
	event_base_loopbreak(m->base);
}

/* Overall timeout. */
static void
mc_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mc	*m = arg;
	struct timeval	 tv;

	(void)fd;
	(void)what;
	peer_out("timeout accepted=%d echoes=%u uni_frames=%u filler=%llu",
	    m->accepted, m->echoes, m->uni_frames,
	    (unsigned long long)m->filler);
	m->done = 1;
	m->rc = MC_TIMEOUT;
	/* Tell the server (closed() ends the loop), but wait 200 ms at most. */
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	hq_conn_close(hq_client_conn(m->cl), 0, "mock-client timeout", 0);
	event_base_loopexit(m->base, &tv);
}

/* lib/quic log lines with -v. */
static void
mc_log(void *arg, int level, const char *msg)
{
	struct mc	*m = arg;

	if (m->verbose || level <= HQ_LOG_WARN)
		peer_err("mock-client: quic: %s", msg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'C' },
		{ "sni", required_argument, NULL, 'S' },
		{ "alpn", required_argument, NULL, 'a' },
		{ "layout", required_argument, NULL, 'L' },
		{ "user", required_argument, NULL, 'u' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "referral-data", required_argument, NULL, 'd' },
		{ "referral-source", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "frame-size", required_argument, NULL, 'z' },
		{ "expect-uni", required_argument, NULL, 'n' },
		{ "expect-bytes", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct mc		 m;
	struct hq_client_config	 cfg;
	struct hyp_connect	*c = &m.connect;
	struct timeval		 tv;
	char			 host[PEER_ADDR_MAX], alpnbuf[256];
	char			*tok, *save = NULL;
	const char		*user = "Steve", *uuid =
	    "123e4567-e89b-12d3-a456-426614174000";
	unsigned long		 timeout_ms = 5000;
	uint16_t		 port = 0;
	ssize_t			 n;
	size_t			 i;
	int			 ch, rv, have_addr = 0;

	memset(&m, 0, sizeof m);
	memset(&cfg, 0, sizeof cfg);
	snprintf(alpnbuf, sizeof alpnbuf, "hytale/2,hytale/1");
	c->layout = HYP_CONNECT_V2;
	m.frame_size = 64;
	m.sid = -1;
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			if (peer_split_hostport(optarg, host, sizeof host,
			    &port) < 0)
				mc_usage(2);
			have_addr = 1;
			break;
		case 'S':
			cfg.sni = optarg;
			break;
		case 'a':
			snprintf(alpnbuf, sizeof alpnbuf, "%s", optarg);
			break;
		case 'L':
			c->layout = (enum hyp_connect_layout)atoi(optarg);
			if (c->layout < HYP_CONNECT_V1 ||
			    c->layout > HYP_CONNECT_V3)
				mc_usage(2);
			break;
		case 'u':
			user = optarg;
			break;
		case 'U':
			uuid = optarg;
			break;
		case 'd':
			if ((n = peer_unhex(optarg, m.refdata,
			    sizeof m.refdata)) < 0)
				mc_usage(2);
			c->referral_data.ptr = m.refdata;
			c->referral_data.len = (size_t)n;
			break;
		case 's':
			if (peer_split_hostport(optarg, m.refhost,
			    sizeof m.refhost, &c->referral_source.port) < 0)
				mc_usage(2);
			c->has_referral_source = 1;
			c->referral_source.host.ptr = (uint8_t *)m.refhost;
			c->referral_source.host.len = strlen(m.refhost);
			break;
		case 'f':
			m.frames = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			m.frame_size = strtoul(optarg, NULL, 10);
			if (m.frame_size > 65536)
				mc_usage(2);
			break;
		case 'n':
			m.expect_uni = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			m.expect_bytes = strtoull(optarg, NULL, 10);
			break;
		case 't':
			timeout_ms = strtoul(optarg, NULL, 10);
			break;
		case 'v':
			m.verbose = 1;
			break;
		case 'h':
			mc_usage(0);
		default:
			mc_usage(2);
		}
	}
	if (optind != argc || !have_addr)
		mc_usage(2);

	/* The Connect. */
	if (c->layout == HYP_CONNECT_V1)
		memset(c->protocol_hash, 'a', HYP_PROTOCOL_HASH_LEN);
	else {
		c->protocol_crc = -1356075132;
		c->build = 20;
		snprintf(c->client_version, sizeof c->client_version,
		    "mock-client");
	}
	c->client_type = HYP_CLIENT_GAME;
	if (c->layout != HYP_CONNECT_V3) {
		c->has_uuid = 1;
		if (hyp_uuid_parse(uuid, c->uuid) < 0)
			mc_usage(2);
		c->username.ptr = (const uint8_t *)user;
		c->username.len = strlen(user);
	}
	c->language.ptr = (const uint8_t *)"en-US";
	c->language.len = 5;

	signal(SIGPIPE, SIG_IGN);
	if ((m.base = event_base_new()) == NULL)
		return (MC_OTHER);
	cfg.addr = host;
	cfg.port = port;
	for (tok = strtok_r(alpnbuf, ",", &save); tok != NULL &&
	    cfg.nalpn < HQ_MAX_ALPN; tok = strtok_r(NULL, ",", &save))
		cfg.alpn[cfg.nalpn++] = tok;
	cfg.use_cert = 1;	/* auto-generated, as the game does */
	cfg.cert.auto_cn = "mock-client";
	cfg.verify.insecure = 1;
	cfg.tp.max_streams_uni = 4;
	cfg.tp.idle_timeout_ms = 10000;
	cfg.cb.established = mc_established;
	cfg.cb.stream_data = mc_stream_data;
	cfg.cb.closed = mc_closed;
	cfg.cb_arg = &m;
	cfg.log = mc_log;
	cfg.log_arg = &m;
	if ((m.timer = evtimer_new(m.base, mc_on_timeout, &m)) == NULL)
		return (MC_OTHER);
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	evtimer_add(m.timer, &tv);
	peer_frames_init(&m.in, MC_FRAME_MAX);
	if ((rv = hq_client_new(m.base, &cfg, &m.cl)) < 0) {
		peer_out("error client %s", hyp_strerror(rv));
		return (MC_HANDSHAKE);
	}
	event_base_dispatch(m.base);
	peer_out("exit rc=%d", m.rc);
	hq_client_free(m.cl);
	event_free(m.timer);
	peer_frames_free(&m.in);
	for (i = 0; i < m.nuni; i++)
		peer_frames_free(&m.uni[i].in);
	event_base_free(m.base);
	return (m.rc);
}
