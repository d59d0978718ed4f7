/*
 * probe.c: "hyproxctl probe": connect to a Hytale server (or hyproxd) as a
 * client would, send Connect on the first bidirectional stream, and report
 * the first framed packet that comes back and how the connection closed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "hyproxctl.h"
#include "quic.h"
#include "tmpcert.h"

#define PROBE_LINGER_MS		1000	/* wait for the server's close */
#define PROBE_GUARD_MS		4000	/* after our close: give up */
#define PROBE_SPLIT_MS		1	/* pause between --split chunks */
#define PROBE_CONNECT_CAP	(HYP_CONNECT_V1_MAX + HYP_FRAME_HEADER_LEN)

_Static_assert(PROBE_MAX_ALPN == HQ_MAX_ALPN, "ALPN limit");
_Static_assert(PROBE_MAX_PINS == HQ_MAX_PINS, "pin limit");
_Static_assert(PROBE_MAX_SANS == HQ_MAX_SANS, "SAN limit");
_Static_assert(PROBE_FP_LEN == HQ_FP_LEN, "fingerprint length");

/* State of the hop being run. */
struct probe_run {
	struct event_base		*base;
	const struct probe_opts		*o;
	const struct probe_target	*t;
	struct probe_hop		*h;
	hq_client_t			*cl;
	hq_conn_t			*conn;		/* until closed() */
	int64_t				 sid;
	int				 have_sid;
	const uint8_t			*out;		/* first stream data */
	size_t				 outlen;
	size_t				 outoff;
	uint8_t				 hdr[HYP_FRAME_HEADER_LEN];
	size_t				 hdrlen;
	int				 got_packet;
	int				 timed_out;
	int				 we_closed;
	int				 done;
	struct event			*ev_timeout;
	struct event			*ev_split;
	struct event			*ev_linger;
	struct event			*ev_guard;
	char				 lastmsg[256];
	uint8_t				 connect[PROBE_CONNECT_CAP];
};

/* Print usage of probe to fp. */
static void
probe_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hyproxctl probe [options] HOST[:PORT]\n"
	    "connection:\n"
	    "  --sni NAME | --no-sni    server name (default HOST if a name)\n"
	    "  --alpn LIST              ALPN offer (default hytale/2,hytale/1)\n"
	    "  --cert FILE --key FILE   client certificate (default: "
	    "generated)\n"
	    "  --ca FILE, --pin FP, --san NAME\n"
	    "                           verify the server (default: not "
	    "verified)\n"
	    "  -t, --timeout DUR        until the first packet (default 10s)\n"
	    "Connect:\n"
	    "  --layout v1|v2|v3        (default v2)\n"
	    "  --user NAME --uuid UUID --language LANG --editor\n"
	    "  --crc N --build N --client-version STR --protocol-hash STR\n"
	    "  --identity-token STR\n"
	    "  --referral-data HEX|@FILE --referral-source HOST[:PORT]\n"
	    "tests:\n"
	    "  --raw-first HEX|@FILE    send these bytes instead of Connect\n"
	    "  --split N                send in chunks of N bytes\n"
	    "  --no-connect             send nothing after the handshake\n"
	    "output:\n"
	    "  -f, --follow             follow ClientReferral\n"
	    "  --max-follow N           at most N referrals (default 3)\n"
	    "  -j, --json               one JSON object per hop\n"
	    "  -v, --verbose            log to stderr\n"
	    "  -h, --help               this help\n");
}

/* Log sink of lib/quic: print with -v, keep the last warning. */
static void
probe_log(void *arg, int level, const char *msg)
{
	struct probe_run	*r = arg;
	size_t			 n;

	if (level <= HQ_LOG_WARN) {
		snprintf(r->lastmsg, sizeof(r->lastmsg), "%s", msg);
		n = strlen(r->lastmsg);
		while (n > 0 && (r->lastmsg[n - 1] == ' ' ||
		    r->lastmsg[n - 1] == '\n'))
			r->lastmsg[--n] = '\0';
	}
	if (r->o->verbose > (level >= HQ_LOG_DEBUG ? 1 : 0))
		fprintf(stderr, "hyproxctl: quic: %s\n", msg);
}

/* Verbose message on stderr. */
static void __attribute__((format(printf, 2, 3)))
probe_verbose(const struct probe_run *r, const char *fmt, ...)
{
	va_list	ap;

	if (!r->o->verbose)
		return;
	fprintf(stderr, "hyproxctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* Arm a one-shot timer for ms milliseconds. */
static void
timer_arm(struct event *ev, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

/* The hop is over: leave the loop. */
static void
run_finish(struct probe_run *r)
{
	r->done = 1;
	event_base_loopbreak(r->base);
}

/* Close the connection ourselves and bound the wait for closed(). */
static void
run_close(struct probe_run *r, const char *reason)
{
	if (r->conn != NULL && !r->we_closed) {
		r->we_closed = 1;
		(void)hq_conn_close(r->conn, 0, reason, 0);
	}
	timer_arm(r->ev_guard, PROBE_GUARD_MS);
}

/* Queue first-stream data: all of it, or one --split chunk per call. */
static void
run_send(struct probe_run *r)
{
	size_t	n;
	ssize_t	sent;

	if (r->conn == NULL || !r->have_sid || r->outoff >= r->outlen)
		return;
	n = r->outlen - r->outoff;
	if (r->o->split > 0 && n > r->o->split)
		n = r->o->split;
	sent = hq_stream_send(r->conn, r->sid, r->out + r->outoff, n, 0);
	if (sent < 0) {
		snprintf(r->h->error, sizeof(r->h->error), "stream send: %s",
		    hyp_strerror((int)sent));
		run_close(r, "probe error");
		return;
	}
	r->outoff += (size_t)sent;
	if (r->o->split > 0 && r->outoff < r->outlen && (size_t)sent == n)
		timer_arm(r->ev_split, PROBE_SPLIT_MS);
	/* A short send continues from stream_writable(). */
	if (r->outoff == r->outlen)
		probe_verbose(r, "sent %zu bytes on stream %lld", r->outlen,
		    (long long)r->sid);
}

/* --split pause over. */
static void
run_split_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_send(arg);
}

/* No packet within --timeout. */
static void
run_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_run	*r = arg;

	(void)fd;
	(void)what;
	if (r->got_packet)
		return;
	r->timed_out = 1;
	probe_verbose(r, "timeout after %llu ms",
	    (unsigned long long)r->o->timeout_ms);
	if (r->conn == NULL) {
		run_finish(r);
		return;
	}
	run_close(r, "probe timeout");
}

/* The server did not close after its answer: close ourselves. */
static void
run_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_run	*r = arg;

	(void)fd;
	(void)what;
	probe_verbose(r, "server kept the connection open; closing");
	run_close(r, "probe done");
}

/* closed() did not follow our close in time. */
static void
run_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_finish(arg);
}

/* Handshake done: record peer facts, open stream 0, send Connect. */
static int
cb_established(hq_conn_t *c, void *arg)
{
	struct probe_run	*r = arg;
	struct probe_hop	*h = r->h;
	const char		*fp;
	int			 rv;

	h->handshake_done = 1;
	h->handshake_ns = hq_conn_handshake_ns(c);
	snprintf(h->alpn, sizeof(h->alpn), "%s", hq_conn_alpn(c));
	if ((fp = hq_conn_peer_fp(c)) != NULL)
		snprintf(h->server_fp, sizeof(h->server_fp), "%s", fp);
	probe_verbose(r, "handshake done in %.3f ms, ALPN %s",
	    (double)h->handshake_ns / 1e6, h->alpn);
	if (r->o->no_connect)
		return (0);
	if ((rv = hq_stream_open_bidi(c, &r->sid)) != 0) {
		snprintf(h->error, sizeof(h->error), "cannot open a stream: %s",
		    hyp_strerror(rv));
		run_close(r, "probe error");
		return (0);
	}
	r->have_sid = 1;
	run_send(r);
	return (0);
}

/* More send space on our stream. */
static void
cb_stream_writable(hq_conn_t *c, int64_t sid, void *arg)
{
	struct probe_run	*r = arg;

	(void)c;
	if (r->have_sid && sid == r->sid && !evtimer_pending(r->ev_split,
	    NULL))
		run_send(r);
}

/* The first packet is complete: decode it and wait for the close. */
static void
run_packet_done(struct probe_run *r)
{
	r->got_packet = 1;
	probe_classify(r->h);
	probe_verbose(r, "received %s (id %u, %u bytes)",
	    hyp_packet_name(r->h->pkt_id), (unsigned)r->h->pkt_id,
	    (unsigned)r->h->pkt_len);
	evtimer_del(r->ev_timeout);
	timer_arm(r->ev_linger, PROBE_LINGER_MS);
}

/* Bytes on a stream: reassemble the first frame of our stream. */
static int
cb_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct probe_run	*r = arg;
	struct probe_hop	*h = r->h;
	size_t			 n;

	(void)c;
	if (!r->have_sid || sid != r->sid || r->got_packet)
		return (0);
	if (r->hdrlen < HYP_FRAME_HEADER_LEN) {
		n = HYP_FRAME_HEADER_LEN - r->hdrlen;
		if (n > len)
			n = len;
		memcpy(r->hdr + r->hdrlen, data, n);
		r->hdrlen += n;
		data += n;
		len -= n;
		if (r->hdrlen == HYP_FRAME_HEADER_LEN) {
			h->have_packet = 1;
			h->pkt_len = (uint32_t)r->hdr[0] |
			    (uint32_t)r->hdr[1] << 8 |
			    (uint32_t)r->hdr[2] << 16 |
			    (uint32_t)r->hdr[3] << 24;
			h->pkt_id = (uint32_t)r->hdr[4] |
			    (uint32_t)r->hdr[5] << 8 |
			    (uint32_t)r->hdr[6] << 16 |
			    (uint32_t)r->hdr[7] << 24;
			if (h->pkt_len > PROBE_MAX_REPLY) {
				run_packet_done(r);
				return (0);
			}
			if ((h->pkt = malloc(h->pkt_len > 0 ? h->pkt_len :
			    1)) == NULL) {
				snprintf(h->error, sizeof(h->error),
				    "out of memory");
				run_close(r, "probe error");
				return (0);
			}
		}
	}
	if (h->have_packet) {
		n = h->pkt_len - h->pktread;
		if (n > len)
			n = len;
		memcpy(h->pkt + h->pktread, data, n);
		h->pktread += n;
		if (h->pktread == h->pkt_len) {
			run_packet_done(r);
			return (0);
		}
	}
	if (fin) {
		snprintf(h->error, sizeof(h->error), "stream ended after %zu "
		    "bytes, before a complete frame", r->hdrlen + h->pktread);
		timer_arm(r->ev_linger, PROBE_LINGER_MS);
	}
	return (0);
}

/* A stream closed; a reset of ours before any packet is worth noting. */
static void
cb_stream_close(hq_conn_t *c, int64_t sid, uint64_t app_error, void *arg)
{
	struct probe_run	*r = arg;

	(void)c;
	if (!r->have_sid || sid != r->sid || r->got_packet)
		return;
	if (app_error != 0) {
		r->h->stream_reset = 1;
		r->h->stream_reset_code = app_error;
		probe_verbose(r, "stream %lld reset, code %llu",
		    (long long)sid, (unsigned long long)app_error);
	}
	timer_arm(r->ev_linger, PROBE_LINGER_MS);
}

/* The connection is over: record the close and settle the outcome. */
static void
cb_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	static const char *const how[] = {
		[HQ_CLOSE_LOCAL] = "local",
		[HQ_CLOSE_PEER] = "peer",
		[HQ_CLOSE_IDLE] = "idle",
		[HQ_CLOSE_HANDSHAKE_TIMEOUT] = "handshake-timeout",
		[HQ_CLOSE_RESET] = "stateless-reset",
		[HQ_CLOSE_ERROR] = "error",
	};
	struct probe_run	*r = arg;
	struct probe_hop	*h = r->h;
	struct probe_close	*pc = &h->close;
	const char		*alert;

	(void)c;
	r->conn = NULL;
	h->have_close = 1;
	pc->how = (size_t)ci->kind < sizeof(how) / sizeof(how[0]) &&
	    how[ci->kind] != NULL ? how[ci->kind] : "unknown";
	pc->by_peer = ci->kind == HQ_CLOSE_PEER;
	pc->app = ci->app;
	pc->code = ci->error_code;
	pc->tls_alert = ci->tls_alert;
	pc->reasonlen = ci->reason != NULL ? ci->reasonlen : 0;
	if (pc->reasonlen > PROBE_REASON_MAX)
		pc->reasonlen = PROBE_REASON_MAX;
	if (pc->reasonlen > 0)
		memcpy(pc->reason, ci->reason, pc->reasonlen);
	probe_verbose(r, "connection closed (%s)", pc->how);

	if (r->got_packet)
		;	/* outcome already decided by the packet */
	else if (!ci->handshake_done) {
		if (r->timed_out || ci->kind == HQ_CLOSE_HANDSHAKE_TIMEOUT ||
		    ci->kind == HQ_CLOSE_IDLE)
			h->result = PROBE_R_TIMEOUT;
		else {
			h->result = PROBE_R_HANDSHAKE_FAILED;
			if (h->error[0] == '\0' && r->lastmsg[0] != '\0')
				snprintf(h->error, sizeof(h->error), "%s",
				    r->lastmsg);
			if (h->error[0] == '\0' && !ci->app &&
			    ci->error_code >= 0x100 &&
			    ci->error_code <= 0x1ff &&
			    (alert = gnutls_alert_get_strname(
			    (gnutls_alert_description_t)(ci->error_code -
			    0x100))) != NULL)
				snprintf(h->error, sizeof(h->error),
				    "TLS alert %u: %s",
				    (unsigned)(ci->error_code - 0x100), alert);
		}
	} else if (r->timed_out)
		h->result = PROBE_R_TIMEOUT;
	else
		h->result = PROBE_R_CLOSED;
	run_finish(r);
}

/* Resolve t->host into a numeric address string in h->addr. */
static int
run_resolve(struct probe_run *r)
{
	struct addrinfo	 hints, *res;
	int		 rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	if ((rv = getaddrinfo(r->t->host, NULL, &hints, &res)) != 0) {
		snprintf(r->h->error, sizeof(r->h->error), "%s: %s",
		    r->t->host, gai_strerror(rv));
		return (-1);
	}
	rv = getnameinfo(res->ai_addr, res->ai_addrlen, r->h->addr,
	    sizeof(r->h->addr), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rv != 0) {
		snprintf(r->h->error, sizeof(r->h->error), "%s: %s",
		    r->t->host, gai_strerror(rv));
		return (-1);
	}
	probe_verbose(r, "%s is %s", r->t->host, r->h->addr);
	return (0);
}

/* Fill the client configuration for this hop. */
static void
run_config(struct probe_run *r, struct hq_client_config *cfg)
{
	const struct probe_opts	*o = r->o;
	size_t			 i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = r->h->addr;
	cfg->port = r->t->port;
	cfg->sni = r->t->sni[0] != '\0' ? r->t->sni : NULL;
	for (i = 0; i < o->nalpn; i++)
		cfg->alpn[i] = o->alpn[i];
	cfg->nalpn = o->nalpn;
	cfg->use_cert = 1;
	cfg->cert.cert_file = o->cert_file;
	cfg->cert.key_file = o->key_file;
	cfg->cert.auto_cn = "hyproxctl-probe";
	if (o->ca_file == NULL && o->npin == 0 && o->nsan == 0)
		cfg->verify.insecure = 1;
	cfg->verify.ca_file = o->ca_file;
	for (i = 0; i < o->npin; i++)
		cfg->verify.pin[i] = o->pin[i];
	cfg->verify.npin = o->npin;
	for (i = 0; i < o->nsan; i++)
		cfg->verify.san[i] = o->san[i];
	cfg->verify.nsan = o->nsan;
	cfg->tp.handshake_timeout_ms = o->timeout_ms;
	cfg->cb.established = cb_established;
	cfg->cb.stream_data = cb_stream_data;
	cfg->cb.stream_writable = cb_stream_writable;
	cfg->cb.stream_close = cb_stream_close;
	cfg->cb.closed = cb_closed;
	cfg->cb_arg = r;
	cfg->log = probe_log;
	cfg->log_arg = r;
}

/* Prepare what goes first on the stream (Connect or --raw-first). */
static int
run_payload(struct probe_run *r)
{
	int	n;

	if (r->o->has_raw) {
		r->out = r->o->raw;
		r->outlen = r->o->rawlen;
		return (0);
	}
	if (r->o->no_connect)
		return (0);
	n = probe_build_connect(r->o, r->t, r->connect, sizeof(r->connect));
	if (n < 0) {
		snprintf(r->h->error, sizeof(r->h->error), "cannot encode "
		    "Connect: %s", hyp_strerror(n));
		return (-1);
	}
	r->out = r->connect;
	r->outlen = (size_t)n;
	return (0);
}

/* Run one hop against t, filling h. */
static void
run_hop(struct event_base *base, const struct probe_opts *o,
    const struct probe_target *t, struct probe_hop *h)
{
	struct hq_client_config	 cfg;
	struct probe_run	*r;
	int			 rv;

	probe_format_hostport(t->host, t->port, h->target, sizeof(h->target));
	snprintf(h->sni, sizeof(h->sni), "%s", t->sni);
	h->result = PROBE_R_ERROR;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(h->error, sizeof(h->error), "out of memory");
		return;
	}
	r->base = base;
	r->o = o;
	r->t = t;
	r->h = h;
	if (run_resolve(r) != 0 || run_payload(r) != 0)
		goto out;
	r->ev_timeout = evtimer_new(base, run_timeout_cb, r);
	r->ev_split = evtimer_new(base, run_split_cb, r);
	r->ev_linger = evtimer_new(base, run_linger_cb, r);
	r->ev_guard = evtimer_new(base, run_guard_cb, r);
	if (r->ev_timeout == NULL || r->ev_split == NULL ||
	    r->ev_linger == NULL || r->ev_guard == NULL) {
		snprintf(h->error, sizeof(h->error), "out of memory");
		goto out;
	}
	run_config(r, &cfg);
	if ((rv = hq_client_new(base, &cfg, &r->cl)) != 0) {
		snprintf(h->error, sizeof(h->error), "%s%s%s",
		    r->lastmsg[0] != '\0' ? r->lastmsg : "", r->lastmsg[0] !=
		    '\0' ? ": " : "", hyp_strerror(rv));
		goto out;
	}
	r->lastmsg[0] = '\0';	/* keep only handshake-time warnings */
	r->conn = hq_client_conn(r->cl);
	probe_verbose(r, "connecting to %s (%s), SNI %s, client cert %s",
	    h->target, h->addr, t->sni[0] != '\0' ? t->sni : "(none)",
	    hq_client_cert_fp(r->cl) != NULL ? hq_client_cert_fp(r->cl) :
	    "(none)");
	timer_arm(r->ev_timeout, o->timeout_ms);
	while (!r->done)
		if (event_base_dispatch(base) != 0)
			break;
	hq_client_free(r->cl);
	if (!r->got_packet && !h->have_close) {
		/* The guard ended the hop before closed() came. */
		if (r->timed_out)
			h->result = PROBE_R_TIMEOUT;
		else if (h->handshake_done)
			h->result = PROBE_R_CLOSED;
		else
			h->result = PROBE_R_HANDSHAKE_FAILED;
	}
out:
	if (r->ev_timeout != NULL)
		event_free(r->ev_timeout);
	if (r->ev_split != NULL)
		event_free(r->ev_split);
	if (r->ev_linger != NULL)
		event_free(r->ev_linger);
	if (r->ev_guard != NULL)
		event_free(r->ev_guard);
	free(r);
}

/* Entry point of "hyproxctl probe". */
int
probe_main(int argc, char **argv)
{
	struct probe_opts	 o;
	struct probe_target	 t[2];
	struct probe_hop	 hops[2];
	struct probe_hop	*h = NULL;
	struct event_base	*base;
	struct tool_tmpcert	 tc;
	char			 err[512], uuid[37];
	int			 rv, i, follows = 0;

	err[0] = '\0';
	rv = probe_parse_args(argc, argv, &o, err, sizeof(err));
	if (rv != 0) {
		probe_opts_free(&o);
		if (rv > 0) {
			probe_usage(stdout);
			return (CTL_EXIT_OK);
		}
		fprintf(stderr, "hyproxctl probe: %s\n", err);
		probe_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (!o.have_uuid) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, o.uuid, sizeof(o.uuid)) < 0) {
			fprintf(stderr, "hyproxctl probe: no randomness\n");
			probe_opts_free(&o);
			return (CTL_EXIT_ERROR);
		}
		o.uuid[6] = (o.uuid[6] & 0x0f) | 0x40;	/* version 4 */
		o.uuid[8] = (o.uuid[8] & 0x3f) | 0x80;	/* RFC 4122 */
	}
	if (o.verbose) {
		hyp_uuid_format(o.uuid, uuid);
		fprintf(stderr, "hyproxctl: Connect layout v%d, user %s, uuid "
		    "%s\n", (int)o.layout, o.user, uuid);
		if (o.ca_file == NULL && o.npin == 0 && o.nsan == 0)
			fprintf(stderr, "hyproxctl: note: server certificate "
			    "not verified (Hytale servers are self-signed); "
			    "use --ca, --pin or --san to verify\n");
	}
	/* A client keeps its certificate when it follows a referral. */
	memset(&tc, 0, sizeof(tc));
	if (o.follow && o.max_follow > 0 && o.cert_file == NULL) {
		if (tool_tmpcert_make(&tc, "hyproxctl-probe", "hyproxctl") != 0) {
			fprintf(stderr, "hyproxctl probe: cannot write a "
			    "temporary client certificate in %s\n", tc.dir);
			tool_tmpcert_remove(&tc);
			probe_opts_free(&o);
			return (CTL_EXIT_ERROR);
		}
		o.cert_file = tc.cert;
		o.key_file = tc.key;
	}
	if ((base = event_base_new()) == NULL) {
		tool_tmpcert_remove(&tc);
		fprintf(stderr, "hyproxctl probe: event_base_new failed\n");
		probe_opts_free(&o);
		return (CTL_EXIT_ERROR);
	}
	memset(hops, 0, sizeof(hops));
	probe_first_target(&o, &t[0]);
	for (i = 0;; i++) {
		/* hops[i % 2] frees hop i - 2, which no target refers to. */
		h = &hops[i % 2];
		probe_hop_reset(h);
		h->hop = i + 1;
		run_hop(base, &o, &t[i % 2], h);
		if (o.json)
			probe_print_json(stdout, h);
		else {
			if (i > 0)
				printf("\n");
			probe_print_text(stdout, h);
		}
		fflush(stdout);
		if (!o.follow || h->result != PROBE_R_REFERRAL ||
		    follows == o.max_follow)
			break;
		if (probe_next_target(&o, h, &t[i % 2], &t[(i + 1) % 2]) != 0) {
			fprintf(stderr, "hyproxctl probe: cannot follow a "
			    "referral without a usable host\n");
			break;
		}
		follows++;
	}
	rv = probe_exit_code(h->result);
	probe_hop_reset(&hops[0]);
	probe_hop_reset(&hops[1]);
	event_base_free(base);
	tool_tmpcert_remove(&tc);
	probe_opts_free(&o);
	return (rv);
}
