/*
 * mock-backend: a minimal Hytale-like server on lib/quic for tests.
 *
 * It listens like a 02.17 server (ALPN hytale/2,hytale/1, client
 * certificate requested), reads one framed Connect from the first client
 * bidirectional stream, answers ConnectAccept (or Disconnect with
 * --reject-reason), then runs a scripted exchange.  Every event is one line
 * on stdout so that the integration tests can assert on it:
 *
 *   listening addr=127.0.0.1:PORT fp=FP
 *   established conn=N peer=A alpn=hytale/2 sni=S client_fp=FP|-
 *   connect conn=N layout=2 user=Steve uuid=U language=en-US ...
 *       referral_data=HEX|- referral_source=host:port|-
 *   referral conn=N verify=none detail=TEXT        (no --ticket-key)
 *   referral conn=N verify=ok kid=K scope=S target=T trace=ID
 *   referral conn=N verify=HYP_ETICKET_... reason=TEXT
 *   referral conn=N verify=absent|no-source reason=TEXT
 *   accept conn=N | reject conn=N reason=TEXT
 *   packet conn=N sid=0 id=ID len=L
 *   echo conn=N id=ID len=L
 *   uni conn=N sid=S channel=Chunks|WorldMap id=ID len=L
 *   sent conn=N frames=F payload=N
 *   disconnect conn=N reason=TEXT
 *   closed conn=N kind=K app=0|1 code=C reason=TEXT handshake=0|1
 *
 * Script steps (comma-separated, run in order after ConnectAccept):
 *   echo       echo every framed packet on the main stream, for ever
 *   echo:N     echo the next N packets, then go on
 *   uni        open two unidirectional streams (Chunks, then WorldMap) and
 *              write one framed packet on each, as 02.17 does
 *   send:N     send N payload bytes as framed filler packets (id 255)
 *   wait:MS    pause
 *   disconnect:TEXT  send Disconnect(TEXT), end the stream, close with 0
 *   close:CODE close with an application code, nothing sent first
 *
 * Referral tickets (sdk/hyprox/ticket.h): with --ticket-key the backend
 * verifies Connect.referralData with hyp_ticket_verify() against its own id
 * (--backend-id), pool (--pool), the Connect's uuid and the QUIC peer
 * address, with a replay cache that lives as long as the process.  A bad
 * ticket is answered with Disconnect(hyp_strerror text); a Connect without
 * referral data with Disconnect(MB_DIRECT_MSG) unless --allow-direct.
 * Referral data without a non-empty referral source is always refused, as
 * the Hytale server does (HYTALE-PROTOCOL.md section 3.1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>
#include <hyprox/secret.h>
#include <hyprox/ticket.h>

#include "quic.h"
#include "peer.h"

#define MB_MAX_STEPS		32
#define MB_MAX_CONNS		256
#define MB_FRAME_MAX		(1U << 20)	/* largest frame echoed */
#define MB_OUTQ_MAX		(8U << 20)	/* queued output per conn */
#define MB_FILLER_ID		255
#define MB_FILLER_CHUNK		16384
#define MB_CHUNKS_ID		131		/* a Chunks-channel packet */
#define MB_WORLDMAP_ID		241		/* a WorldMap-channel packet */
#define MB_MAX_KEYS		16		/* --ticket-key, as the keyring */
#define MB_REPLAY_DEFAULT	4096
#define MB_DIRECT_MSG		"This server only accepts players referred " \
				"by hyprox"
#define MB_NO_SOURCE_MSG	"Referral data without a referral source"

enum mb_step_kind {
	MB_ECHO = 1,
	MB_UNI,
	MB_SEND,
	MB_WAIT,
	MB_DISCONNECT,
	MB_CLOSE
};

struct mb_step {
	enum mb_step_kind	 kind;
	uint64_t		 n;	/* echo count (0 = for ever), bytes, ms, code */
	char			*text;
};

/* One --ticket-key ID=REF[@FROM..TO]. */
struct mb_key {
	char			 kid[HYP_TICKET_KID_MAX + 1];
	const char		*ref;
	uint64_t		 from, to;
};

struct mb_opts {
	struct hq_listen	 listen[HQ_MAX_LISTEN];
	size_t			 nlisten;
	char			 hosts[HQ_MAX_LISTEN][64];
	const char		*cert;
	const char		*key;
	const char		*alpn[HQ_MAX_ALPN];
	size_t			 nalpn;
	const char		*reject;
	int			 no_answer;
	int			 require_cert;
	struct mb_step		 steps[MB_MAX_STEPS];
	size_t			 nsteps;
	uint64_t		 connect_timeout_ms;
	unsigned		 exit_after;
	const char		*port_file;
	int			 verbose;
	struct mb_key		 keys[MB_MAX_KEYS];
	size_t			 nkeys;
	const char		*backend_id;
	const char		*pool_id;
	uint32_t		 skew;
	size_t			 replay_cap;
	int			 allow_direct;
};

enum mb_state {
	MB_WAIT_CONNECT = 0,
	MB_SCRIPT,
	MB_DONE
};

struct mb_conn {
	struct mb		*mb;
	struct mb_conn		*next;		/* list of live connections */
	struct mb_conn		*prev;
	hq_conn_t		*c;
	unsigned		 id;
	enum mb_state		 state;
	int64_t			 sid;		/* main stream, -1 before */
	struct peer_frames	 in;
	uint8_t			*out;		/* queued main-stream output */
	size_t			 outlen;
	size_t			 outoff;
	size_t			 outcap;
	int			 fin_queued;	/* end the stream after out */
	int			 fin_sent;
	int			 close_after;	/* close once out is flushed */
	size_t			 step;
	int			 echo_on;
	uint64_t		 echo_left;	/* 0 with echo_on: for ever */
	uint64_t		 send_left;
	uint64_t		 sent_payload;
	uint64_t		 sent_frames;
	struct event		*timer;		/* connect timeout / wait */
};

struct mb {
	struct mb_opts		 o;
	struct event_base	*base;
	hq_server_t		*srv;
	struct event		*sigint;
	struct event		*sigterm;
	unsigned		 nconn;
	unsigned		 nclosed;
	unsigned		 alive;
	struct mb_conn		*conns;
	hyp_keyring_t		*kr;		/* NULL: no verification */
	hyp_replay_t		*replay;
};

static void	mb_run(struct mb_conn *m);
static int	mb_flush(struct mb_conn *m);

/* Print the usage and exit. */
static void __attribute__((noreturn))
mb_usage(int rc)
{
	fprintf(rc == 0 ? stdout : stderr,
	    "usage: mock-backend --listen ADDR:PORT [--listen ...] "
	    "[--cert auto|FILE --key FILE]\n"
	    "           [--alpn LIST] [--reject-reason TEXT] [--no-answer] "
	    "[--require-cert]\n"
	    "           [--script STEPS] [--connect-timeout MS] "
	    "[--exit-after N]\n"
	    "           [--port-file FILE] [-v]\n"
	    "           [--ticket-key ID=env:NAME|file:PATH[@FROM..TO]]... "
	    "--backend-id ID\n"
	    "           [--pool ID] [--skew DUR] [--replay-capacity N]\n"
	    "           [--require-ticket | --allow-direct]\n"
	    "       mock-backend --gen-cert CERT KEY [--cn NAME]\n"
	    "steps: echo[:N] uni send:N wait:MS disconnect:TEXT close:CODE\n");
	exit(rc);
}

/* Parse one unsigned number or exit. */
static uint64_t
mb_num(const char *s, const char *what)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		peer_err("mock-backend: %s: not a number: '%s'", what, s);
		exit(2);
	}
	return (v);
}

/* Parse the comma-separated script; disconnect:TEXT takes the rest. */
static void
mb_parse_script(struct mb_opts *o, const char *s)
{
	char		 tok[64];
	const char	*p = s, *comma, *arg;
	struct mb_step	*st;
	size_t		 n;

	while (*p != '\0') {
		if (o->nsteps == MB_MAX_STEPS) {
			peer_err("mock-backend: more than %d script steps",
			    MB_MAX_STEPS);
			exit(2);
		}
		st = &o->steps[o->nsteps++];
		memset(st, 0, sizeof *st);
		if (strncmp(p, "disconnect:", 11) == 0) {
			st->kind = MB_DISCONNECT;
			if ((st->text = strdup(p + 11)) == NULL)
				exit(2);
			return;
		}
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n >= sizeof tok) {
			peer_err("mock-backend: script step too long");
			exit(2);
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n + (comma != NULL ? 1 : 0);
		if ((arg = strchr(tok, ':')) != NULL)
			tok[arg++ - tok] = '\0';
		if (strcmp(tok, "echo") == 0) {
			st->kind = MB_ECHO;
			st->n = arg != NULL ? mb_num(arg, "echo:N") : 0;
		} else if (strcmp(tok, "uni") == 0 && arg == NULL)
			st->kind = MB_UNI;
		else if (strcmp(tok, "send") == 0 && arg != NULL) {
			st->kind = MB_SEND;
			st->n = mb_num(arg, "send:N");
		} else if (strcmp(tok, "wait") == 0 && arg != NULL) {
			st->kind = MB_WAIT;
			st->n = mb_num(arg, "wait:MS");
		} else if (strcmp(tok, "close") == 0 && arg != NULL) {
			st->kind = MB_CLOSE;
			st->n = mb_num(arg, "close:CODE");
		} else if (strcmp(tok, "disconnect") == 0 && arg == NULL) {
			st->kind = MB_DISCONNECT;
			if ((st->text = strdup("")) == NULL)
				exit(2);
		} else {
			peer_err("mock-backend: unknown script step '%s'", tok);
			exit(2);
		}
	}
}

/* Append bytes to the main-stream output queue. */
static int
mb_queue(struct mb_conn *m, const void *d, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*nb;

	if (m->outoff > 0) {
		memmove(m->out, m->out + m->outoff, m->outlen - m->outoff);
		m->outlen -= m->outoff;
		m->outoff = 0;
	}
	need = m->outlen + n;
	if (need > MB_OUTQ_MAX)
		return (HYP_ENOSPC);
	if (need > m->outcap) {
		ncap = m->outcap != 0 ? m->outcap : 4096;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(m->out, ncap)) == NULL)
			return (HYP_ENOMEM);
		m->out = nb;
		m->outcap = ncap;
	}
	memcpy(m->out + m->outlen, d, n);
	m->outlen += n;
	return (0);
}

/* Queue one framed packet on the main stream. */
static int
mb_queue_frame(struct mb_conn *m, uint32_t id, const void *payload, size_t n)
{
	uint8_t	hdr[HYP_FRAME_HEADER_LEN];
	int	rv;

	hyp_frame_header_encode(hdr, (uint32_t)n, id);
	if ((rv = mb_queue(m, hdr, sizeof hdr)) < 0)
		return (rv);
	return (n > 0 ? mb_queue(m, payload, n) : 0);
}

/* Queue a Disconnect (old form) with a reason. */
static int
mb_queue_disconnect(struct mb_conn *m, const char *reason)
{
	struct hyp_disconnect	 d;
	uint8_t			 buf[8192];
	int			 n;

	memset(&d, 0, sizeof d);
	d.form = HYP_DISCONNECT_OLD;
	d.type = HYP_DISCONNECT_TYPE_DISCONNECT;
	d.reason.ptr = (const uint8_t *)reason;
	d.reason.len = strlen(reason);
	if ((n = hyp_disconnect_encode(&d, buf, sizeof buf)) < 0)
		return (n);
	return (mb_queue_frame(m, HYP_PKT_DISCONNECT, buf, (size_t)n));
}

/* Generate more filler frames while the queue is short. */
static int
mb_fill(struct mb_conn *m)
{
	static uint8_t	 filler[MB_FILLER_CHUNK];
	size_t		 n, i;
	int		 rv;

	if (filler[1] == 0)
		for (i = 0; i < sizeof filler; i++)
			filler[i] = (uint8_t)(i * 7 + 1);
	while (m->send_left > 0 && m->outlen - m->outoff < 4 * MB_FILLER_CHUNK) {
		n = m->send_left < MB_FILLER_CHUNK ? m->send_left :
		    MB_FILLER_CHUNK;
		if ((rv = mb_queue_frame(m, MB_FILLER_ID, filler, n)) < 0)
			return (rv);
		m->send_left -= n;
		m->sent_payload += n;
		m->sent_frames++;
	}
	return (0);
}

/* Push queued output into the stream; close when asked and drained. */
static int
mb_flush(struct mb_conn *m)
{
	ssize_t	n;
	int	rv;

	if (m->sid < 0 || m->fin_sent)
		return (0);
	for (;;) {
		if ((rv = mb_fill(m)) < 0)
			return (rv);
		if (m->outoff == m->outlen)
			break;
		n = hq_stream_send(m->c, m->sid, m->out + m->outoff,
		    m->outlen - m->outoff, 0);
		if (n < 0)
			return ((int)n);
		m->outoff += (size_t)n;
		if (n == 0 || m->outoff < m->outlen)
			return (0);	/* stream_writable() resumes */
	}
	if (m->fin_queued && !m->fin_sent) {
		if ((n = hq_stream_send(m->c, m->sid, NULL, 0, 1)) < 0)
			return ((int)n);
		m->fin_sent = 1;
	}
	if (m->close_after) {
		m->close_after = 0;
		m->state = MB_DONE;
		hq_conn_close(m->c, 0, "", HQ_CLOSE_FLUSH);
	}
	return (0);
}

/* Write one framed packet on a new unidirectional stream. */
static int
mb_uni(struct mb_conn *m, const char *channel, uint32_t id)
{
	uint8_t	frame[64];
	int64_t	sid;
	size_t	n = strlen(channel);
	ssize_t	w;
	int	rv;

	if ((rv = hq_stream_open_uni(m->c, &sid)) < 0) {
		peer_out("uni conn=%u error=%s", m->id, hyp_strerror(rv));
		return (rv);
	}
	hyp_frame_header_encode(frame, (uint32_t)n, id);
	memcpy(frame + HYP_FRAME_HEADER_LEN, channel, n);
	w = hq_stream_send(m->c, sid, frame, HYP_FRAME_HEADER_LEN + n, 0);
	if (w != (ssize_t)(HYP_FRAME_HEADER_LEN + n)) {
		peer_out("uni conn=%u sid=%lld error=short-send", m->id,
		    (long long)sid);
		return (HYP_EAGAIN);
	}
	peer_out("uni conn=%u sid=%lld channel=%s id=%u len=%zu", m->id,
	    (long long)sid, channel, id, n);
	return (0);
}

/* Advance the script until a step blocks. */
static void
mb_run(struct mb_conn *m)
{
	const struct mb_step	*st;
	struct timeval		 tv;
	int			 rv;

	while (m->state == MB_SCRIPT && m->step < m->mb->o.nsteps) {
		if (m->echo_on || m->send_left > 0)
			return;
		if (m->sent_frames > 0) {
			peer_out("sent conn=%u frames=%llu payload=%llu", m->id,
			    (unsigned long long)m->sent_frames,
			    (unsigned long long)m->sent_payload);
			m->sent_frames = 0;
			m->sent_payload = 0;
		}
		st = &m->mb->o.steps[m->step++];
		switch (st->kind) {
		case MB_ECHO:
			m->echo_on = 1;
			m->echo_left = st->n;
			return;
		case MB_UNI:
			if (mb_uni(m, "Chunks", MB_CHUNKS_ID) < 0 ||
			    mb_uni(m, "WorldMap", MB_WORLDMAP_ID) < 0) {
				hq_conn_close(m->c, 0, "uni failed", 0);
				m->state = MB_DONE;
				return;
			}
			break;
		case MB_SEND:
			m->send_left = st->n;
			if ((rv = mb_flush(m)) < 0)
				goto fail;
			if (m->send_left > 0)
				return;
			break;
		case MB_WAIT:
			tv.tv_sec = (time_t)(st->n / 1000);
			tv.tv_usec = (suseconds_t)(st->n % 1000) * 1000;
			evtimer_add(m->timer, &tv);
			return;
		case MB_DISCONNECT:
			peer_out("disconnect conn=%u reason=%s", m->id,
			    st->text);
			if ((rv = mb_queue_disconnect(m, st->text)) < 0)
				goto fail;
			m->fin_queued = 1;
			m->close_after = 1;
			m->state = MB_DONE;
			if ((rv = mb_flush(m)) < 0)
				goto fail;
			return;
		case MB_CLOSE:
			peer_out("close conn=%u code=%llu", m->id,
			    (unsigned long long)st->n);
			m->state = MB_DONE;
			hq_conn_close(m->c, st->n, "", 0);
			return;
		}
	}
	if (m->state == MB_SCRIPT && m->step == m->mb->o.nsteps &&
	    m->sent_frames > 0) {
		peer_out("sent conn=%u frames=%llu payload=%llu", m->id,
		    (unsigned long long)m->sent_frames,
		    (unsigned long long)m->sent_payload);
		m->sent_frames = 0;
	}
	return;
fail:
	peer_out("error conn=%u what=%s", m->id, hyp_strerror(rv));
	m->state = MB_DONE;
	hq_conn_close(m->c, 0, "mock-backend error", 0);
}

/* Symbolic name of a ticket verification code. */
static const char *
mb_code_name(int code)
{
	switch (code) {
	case HYP_ETICKET_FORMAT:
		return ("HYP_ETICKET_FORMAT");
	case HYP_ETICKET_MAGIC:
		return ("HYP_ETICKET_MAGIC");
	case HYP_ETICKET_VERSION:
		return ("HYP_ETICKET_VERSION");
	case HYP_ETICKET_KEY_UNKNOWN:
		return ("HYP_ETICKET_KEY_UNKNOWN");
	case HYP_ETICKET_KEY_RETIRED:
		return ("HYP_ETICKET_KEY_RETIRED");
	case HYP_ETICKET_MAC:
		return ("HYP_ETICKET_MAC");
	case HYP_ETICKET_NOT_YET:
		return ("HYP_ETICKET_NOT_YET");
	case HYP_ETICKET_EXPIRED:
		return ("HYP_ETICKET_EXPIRED");
	case HYP_ETICKET_SCOPE:
		return ("HYP_ETICKET_SCOPE");
	case HYP_ETICKET_TARGET:
		return ("HYP_ETICKET_TARGET");
	case HYP_ETICKET_UUID:
		return ("HYP_ETICKET_UUID");
	case HYP_ETICKET_ADDRESS:
		return ("HYP_ETICKET_ADDRESS");
	case HYP_ETICKET_REPLAYED:
		return ("HYP_ETICKET_REPLAYED");
	case HYP_ETICKET_REPLAY_FULL:
		return ("HYP_ETICKET_REPLAY_FULL");
	case HYP_ETICKET_KEY_SHORT:
		return ("HYP_ETICKET_KEY_SHORT");
	case HYP_ETICKET_TOO_BIG:
		return ("HYP_ETICKET_TOO_BIG");
	}
	return ("HYP_EOTHER");
}

/* Name of a ticket scope, with its id. */
static void
mb_scope_str(const struct hyp_ticket *t, char *out, size_t cap)
{
	switch (t->scope) {
	case HYP_TICKET_SCOPE_GLOBAL:
		snprintf(out, cap, "global");
		break;
	case HYP_TICKET_SCOPE_POOL:
		snprintf(out, cap, "pool:%s", t->scope_id);
		break;
	case HYP_TICKET_SCOPE_BACKEND:
		snprintf(out, cap, "backend:%s", t->scope_id);
		break;
	default:
		snprintf(out, cap, "unknown");
		break;
	}
}

/* The trace id extension as text ("-" when absent, 0x... when binary). */
static void
mb_trace_str(const struct hyp_ticket *t, char *out, size_t cap)
{
	const uint8_t	*d;
	size_t		 dlen, i;

	snprintf(out, cap, "-");
	if (t->ext == NULL || hyp_ticket_ext_find(t->ext, t->ext_len,
	    HYP_TICKET_EXT_TRACE_ID, &d, &dlen) != 0 || dlen == 0)
		return;
	for (i = 0; i < dlen; i++)
		if (d[i] <= ' ' || d[i] >= 0x7f)
			break;
	if (i == dlen && dlen < cap) {
		memcpy(out, d, dlen);
		out[dlen] = '\0';
		return;
	}
	if (cap > 2) {
		memcpy(out, "0x", 3);
		peer_hex(d, dlen, out + 2, cap - 2);
	}
}

/*
 * Referral checks before ConnectAccept: referral data needs a non-empty
 * source (as the Hytale server demands); with a keyring it must be a valid
 * ticket, and without one the player must be allowed to come directly.
 * Prints one referral line; returns 1 to accept, or 0 with why set.
 */
static int
mb_verify_referral(struct mb_conn *m, const struct hyp_connect *c, char *why,
    size_t whylen)
{
	struct mb			*mb = m->mb;
	struct hyp_ticket_verify_opts	 vo;
	struct hyp_ticket		 t;
	socklen_t			 plen;
	char				 scope[HYP_TICKET_ID_MAX + 16];
	char				 trace[2 * 255 + 3];
	int				 rv;

	if (c->referral_data.ptr != NULL && (!c->has_referral_source ||
	    c->referral_source.host.len == 0)) {
		snprintf(why, whylen, "%s", MB_NO_SOURCE_MSG);
		peer_out("referral conn=%u verify=no-source reason=%s", m->id,
		    why);
		return (0);
	}
	if (mb->kr == NULL) {
		if (c->referral_data.ptr != NULL)
			peer_out("referral conn=%u verify=none detail=no "
			    "verifier configured", m->id);
		return (1);
	}
	if (c->referral_data.ptr == NULL || c->referral_data.len == 0) {
		if (mb->o.allow_direct) {
			peer_out("referral conn=%u verify=absent action=accept",
			    m->id);
			return (1);
		}
		snprintf(why, whylen, "%s", MB_DIRECT_MSG);
		peer_out("referral conn=%u verify=absent reason=%s", m->id,
		    why);
		return (0);
	}
	memset(&vo, 0, sizeof vo);
	vo.backend_id = mb->o.backend_id;
	vo.pool_id = mb->o.pool_id;
	vo.uuid = c->has_uuid ? c->uuid : NULL;
	vo.peer = hq_conn_peer(m->c, &plen);
	vo.skew = mb->o.skew;
	rv = hyp_ticket_verify(c->referral_data.ptr, c->referral_data.len,
	    mb->kr, mb->replay, &vo, &t);
	if (rv != 0) {
		snprintf(why, whylen, "%s", hyp_strerror(rv));
		peer_out("referral conn=%u verify=%s reason=%s", m->id,
		    mb_code_name(rv), why);
		return (0);
	}
	mb_scope_str(&t, scope, sizeof scope);
	mb_trace_str(&t, trace, sizeof trace);
	peer_out("referral conn=%u verify=ok kid=%s scope=%s target=%s "
	    "trace=%s issued_at=%" PRIu64 " ttl=%" PRIu32, m->id, t.kid, scope,
	    t.target, trace, t.issued_at, t.ttl);
	return (1);
}

/* Print the decoded Connect as one line. */
static void
mb_print_connect(struct mb_conn *m, const struct hyp_connect *c)
{
	char	user[HYP_USERNAME_MAX + 1] = "-", lang[HYP_LANGUAGE_V1_MAX + 1] = "-";
	char	uuid[37] = "-", data[2 * HYP_REFERRAL_DATA_MAX + 2];
	char	src[HYP_HOST_MAX + 16] = "-", ver[HYP_CLIENT_VERSION_LEN + 1];
	size_t	n;

	if (c->username.ptr != NULL) {
		n = c->username.len < HYP_USERNAME_MAX ? c->username.len :
		    HYP_USERNAME_MAX;
		memcpy(user, c->username.ptr, n);
		user[n] = '\0';
	}
	if (c->language.ptr != NULL) {
		n = c->language.len < HYP_LANGUAGE_V1_MAX ? c->language.len :
		    HYP_LANGUAGE_V1_MAX;
		memcpy(lang, c->language.ptr, n);
		lang[n] = '\0';
	}
	if (c->has_uuid)
		hyp_uuid_format(c->uuid, uuid);
	peer_hex(c->referral_data.ptr, c->referral_data.len, data, sizeof data);
	if (c->has_referral_source)
		snprintf(src, sizeof src, "%.*s:%u",
		    (int)c->referral_source.host.len,
		    (const char *)c->referral_source.host.ptr,
		    c->referral_source.port);
	snprintf(ver, sizeof ver, "%s", c->layout == HYP_CONNECT_V1 ?
	    "-" : (c->client_version[0] != '\0' ? c->client_version : "\"\""));
	peer_out("connect conn=%u layout=%d user=%s uuid=%s language=%s "
	    "client_type=%u build=%d crc=%d version=%s identity_token=%s "
	    "referral_data=%s referral_source=%s", m->id, (int)c->layout, user,
	    uuid, lang, c->client_type, c->layout == HYP_CONNECT_V1 ? 0 :
	    c->build, c->layout == HYP_CONNECT_V1 ? 0 : c->protocol_crc, ver,
	    c->identity_token.ptr != NULL ? "present" : "none", data, src);
}

/* Handle the first packet: it must be a Connect. */
static int
mb_on_connect(struct mb_conn *m, uint32_t id, const uint8_t *p, size_t n)
{
	struct hyp_connect	 c;
	struct hyp_connect_accept a;
	uint8_t			 buf[HYP_CONNECT_ACCEPT_MAX];
	char			 why[256];
	const char		*reject;
	int			 rv;

	evtimer_del(m->timer);
	if (id != HYP_PKT_CONNECT) {
		peer_out("bad-first conn=%u id=%u len=%zu", m->id, id, n);
		m->state = MB_DONE;
		hq_conn_close(m->c, 0, "expected Connect", 0);
		return (0);
	}
	if ((rv = hyp_connect_decode(p, n, &c)) < 0) {
		peer_out("bad-connect conn=%u len=%zu error=%s", m->id, n,
		    hyp_strerror(rv));
		m->state = MB_DONE;
		hq_conn_close(m->c, 0, "bad Connect", 0);
		return (0);
	}
	mb_print_connect(m, &c);
	reject = NULL;
	if (!mb_verify_referral(m, &c, why, sizeof why))
		reject = why;
	if (reject == NULL && m->mb->o.no_answer) {
		peer_out("silent conn=%u", m->id);
		m->state = MB_DONE;
		return (0);
	}
	if (reject == NULL)
		reject = m->mb->o.reject;
	if (reject != NULL) {
		peer_out("reject conn=%u reason=%s", m->id, reject);
		if ((rv = mb_queue_disconnect(m, reject)) < 0)
			return (rv);
		m->fin_queued = 1;
		m->close_after = 1;
		m->state = MB_DONE;
		return (mb_flush(m));
	}
	memset(&a, 0, sizeof a);
	if ((rv = hyp_connect_accept_encode(&a, buf, sizeof buf)) < 0)
		return (rv);
	if ((rv = mb_queue_frame(m, HYP_PKT_CONNECT_ACCEPT, buf,
	    (size_t)rv)) < 0)
		return (rv);
	peer_out("accept conn=%u", m->id);
	m->state = MB_SCRIPT;
	if ((rv = mb_flush(m)) < 0)
		return (rv);
	mb_run(m);
	return (0);
}

/* Handle one framed packet on the main stream. */
static int
mb_on_frame(struct mb_conn *m, uint32_t id, const uint8_t *p, size_t n)
{
	int	rv;

	switch (m->state) {
	case MB_WAIT_CONNECT:
		return (mb_on_connect(m, id, p, n));
	case MB_SCRIPT:
		peer_out("packet conn=%u sid=%lld id=%u len=%zu", m->id,
		    (long long)m->sid, id, n);
		if (!m->echo_on)
			return (0);
		if ((rv = mb_queue_frame(m, id, p, n)) < 0)
			return (rv);
		peer_out("echo conn=%u id=%u len=%zu", m->id, id, n);
		if (m->echo_left > 0 && --m->echo_left == 0)
			m->echo_on = 0;
		if ((rv = mb_flush(m)) < 0)
			return (rv);
		if (!m->echo_on)
			mb_run(m);
		return (0);
	default:
		peer_out("packet conn=%u sid=%lld id=%u len=%zu late=1", m->id,
		    (long long)m->sid, id, n);
		return (0);
	}
}

/* Connection count and exit check. */
static void
mb_maybe_exit(struct mb *mb)
{
	if (mb->o.exit_after != 0 && mb->nclosed >= mb->o.exit_after)
		event_base_loopbreak(mb->base);
}

/* Connection-timeout timer (before Connect). */
static void
mb_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mb_conn	*m = arg;

	(void)fd;
	(void)what;
	if (m->state == MB_WAIT_CONNECT) {
		peer_out("timeout conn=%u", m->id);
		m->state = MB_DONE;
		hq_conn_close(m->c, 4, "", 0);
	} else if (m->state == MB_SCRIPT)
		mb_run(m);
}

/* Create the per-connection state at the first callback. */
static struct mb_conn *
mb_conn_get(struct mb *mb, hq_conn_t *c)
{
	struct mb_conn	*m;
	struct timeval	 tv;

	if ((m = hq_conn_user(c)) != NULL)
		return (m);
	if (mb->alive >= MB_MAX_CONNS || (m = calloc(1, sizeof *m)) == NULL)
		return (NULL);
	m->mb = mb;
	m->c = c;
	m->id = ++mb->nconn;
	m->sid = -1;
	peer_frames_init(&m->in, MB_FRAME_MAX);
	if ((m->timer = evtimer_new(mb->base, mb_on_timeout, m)) == NULL) {
		free(m);
		return (NULL);
	}
	tv.tv_sec = (time_t)(mb->o.connect_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(mb->o.connect_timeout_ms % 1000) * 1000;
	evtimer_add(m->timer, &tv);
	hq_conn_set_user(c, m);
	m->next = mb->conns;
	if (mb->conns != NULL)
		mb->conns->prev = m;
	mb->conns = m;
	mb->alive++;
	return (m);
}

/* Unlink and free one connection's state. */
static void
mb_conn_free(struct mb *mb, struct mb_conn *m)
{
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		mb->conns = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	event_free(m->timer);
	peer_frames_free(&m->in);
	free(m->out);
	free(m);
	mb->alive--;
}

/* Handshake done. */
static int
mb_established(hq_conn_t *c, void *arg)
{
	struct mb	*mb = arg;
	struct mb_conn	*m;
	socklen_t	 len;
	char		 peer[PEER_ADDR_MAX];
	const char	*fp;

	if ((m = mb_conn_get(mb, c)) == NULL)
		return (HYP_ENOMEM);
	peer_addr_str(hq_conn_peer(c, &len), peer);
	fp = hq_conn_peer_fp(c);
	peer_out("established conn=%u peer=%s alpn=%s sni=%s client_fp=%s",
	    m->id, peer, hq_conn_alpn(c), hq_conn_sni(c)[0] != '\0' ?
	    hq_conn_sni(c) : "-", fp != NULL ? fp : "-");
	return (0);
}

/* Stream data: frames on the main stream, counts elsewhere. */
static int
mb_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct mb	*mb = arg;
	struct mb_conn	*m;
	const uint8_t	*p;
	size_t		 plen;
	uint32_t	 id;
	int		 rv;

	if ((m = mb_conn_get(mb, c)) == NULL)
		return (HYP_ENOMEM);
	if (m->sid < 0 && (sid & 0x3) == 0)
		m->sid = sid;
	if (sid != m->sid) {
		peer_out("data conn=%u sid=%lld len=%zu fin=%d", m->id,
		    (long long)sid, len, fin);
		return (0);
	}
	if (peer_frames_push(&m->in, data, len) < 0)
		return (HYP_ENOMEM);
	while ((rv = peer_frames_next(&m->in, &id, &p, &plen)) == 1) {
		if ((rv = mb_on_frame(m, id, p, plen)) < 0)
			return (rv);
		if (m->state == MB_DONE && m->fin_sent)
			break;
	}
	if (rv < 0) {
		peer_out("too-big conn=%u declared=%zu", m->id, plen);
		m->state = MB_DONE;
		hq_conn_close(c, 0, "frame too big", 0);
		return (0);
	}
	if (fin)
		peer_out("fin conn=%u sid=%lld pending=%zu", m->id,
		    (long long)sid, peer_frames_pending(&m->in));
	return (0);
}

/* Send space freed: continue the queue. */
static void
mb_stream_writable(hq_conn_t *c, int64_t sid, void *arg)
{
	struct mb_conn	*m = hq_conn_user(c);
	int		 rv;

	(void)arg;
	if (m == NULL || sid != m->sid)
		return;
	if ((rv = mb_flush(m)) < 0) {
		peer_out("error conn=%u what=%s", m->id, hyp_strerror(rv));
		hq_conn_close(c, 0, "", 0);
		return;
	}
	if (m->state == MB_SCRIPT && m->send_left == 0)
		mb_run(m);
}

/* Kind name for the closed line. */
static const char *
mb_kind(enum hq_close_kind k)
{
	switch (k) {
	case HQ_CLOSE_LOCAL:
		return ("local");
	case HQ_CLOSE_PEER:
		return ("peer");
	case HQ_CLOSE_IDLE:
		return ("idle");
	case HQ_CLOSE_HANDSHAKE_TIMEOUT:
		return ("handshake-timeout");
	case HQ_CLOSE_RESET:
		return ("reset");
	case HQ_CLOSE_ERROR:
		return ("error");
	}
	return ("?");
}

/* Connection over: print and free. */
static void
mb_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct mb	*mb = arg;
	struct mb_conn	*m = hq_conn_user(c);

	peer_out("closed conn=%u kind=%s app=%d code=%llu reason=%.*s "
	    "handshake=%d", m != NULL ? m->id : 0, mb_kind(ci->kind), ci->app,
	    (unsigned long long)ci->error_code,
	    ci->reason != NULL ? (int)ci->reasonlen : 0,
	    ci->reason != NULL ? ci->reason : "", ci->handshake_done);
	if (m != NULL) {
		hq_conn_set_user(c, NULL);
		mb_conn_free(mb, m);
	}
	mb->nclosed++;
	mb_maybe_exit(mb);
}

/* lib/quic log lines (with -v). */
static void
mb_log(void *arg, int level, const char *msg)
{
	struct mb	*mb = arg;

	if (mb->o.verbose || level <= HQ_LOG_WARN)
		peer_err("mock-backend: quic: %s", msg);
}

/* SIGINT/SIGTERM: leave the loop. */
static void
mb_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct mb	*mb = arg;

	(void)what;
	peer_out("signal %d", (int)sig);
	event_base_loopbreak(mb->base);
}

/* Write a generated certificate and key and exit. */
static int
mb_gen_cert(const char *certf, const char *keyf, const char *cn)
{
	struct hq_certgen	 g;
	char			*cert = NULL, *key = NULL;
	FILE			*f;
	int			 rv;

	memset(&g, 0, sizeof g);
	g.cn = cn;
	g.ip_san = "127.0.0.1";
	g.days = 30;
	if ((rv = hq_cert_generate(&g, &cert, &key)) < 0) {
		peer_err("mock-backend: cannot generate a certificate: %s",
		    hyp_strerror(rv));
		return (1);
	}
	if ((f = fopen(certf, "w")) == NULL || fputs(cert, f) == EOF ||
	    fclose(f) != 0) {
		peer_err("mock-backend: %s: %s", certf, strerror(errno));
		rv = -1;
	}
	if (rv == 0 && ((f = fopen(keyf, "w")) == NULL ||
	    fputs(key, f) == EOF || fclose(f) != 0)) {
		peer_err("mock-backend: %s: %s", keyf, strerror(errno));
		rv = -1;
	}
	free(cert);
	free(key);
	return (rv < 0 ? 1 : 0);
}

/* Split an ALPN list into o->alpn. */
static void
mb_parse_alpn(struct mb_opts *o, char *list)
{
	char	*tok, *save = NULL;

	o->nalpn = 0;
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->nalpn == HQ_MAX_ALPN)
			mb_usage(2);
		o->alpn[o->nalpn++] = tok;
	}
	if (o->nalpn == 0)
		mb_usage(2);
}

/* Parse one --ticket-key ID=REF[@FROM..TO] into o->keys, or exit. */
static void
mb_parse_key(struct mb_opts *o, char *arg)
{
	struct mb_key	*k;
	char		*eq, *at, *dots;
	size_t		 i;

	if (o->nkeys == MB_MAX_KEYS) {
		peer_err("mock-backend: more than %d --ticket-key", MB_MAX_KEYS);
		exit(2);
	}
	k = &o->keys[o->nkeys];
	memset(k, 0, sizeof *k);
	if ((eq = strchr(arg, '=')) == NULL || eq == arg ||
	    (size_t)(eq - arg) > HYP_TICKET_KID_MAX) {
		peer_err("mock-backend: --ticket-key %s: expected "
		    "ID=env:NAME|file:PATH[@FROM..TO]", arg);
		exit(2);
	}
	memcpy(k->kid, arg, (size_t)(eq - arg));
	k->ref = eq + 1;
	/* A window is the text after the last '@' when it holds "..". */
	if ((at = strrchr(eq + 1, '@')) != NULL &&
	    (dots = strstr(at + 1, "..")) != NULL) {
		*at = '\0';
		*dots = '\0';
		if (at[1] != '\0')
			k->from = mb_num(at + 1, "--ticket-key FROM");
		if (dots[2] != '\0')
			k->to = mb_num(dots + 2, "--ticket-key TO");
	}
	for (i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i].kid, k->kid) == 0) {
			peer_err("mock-backend: --ticket-key %s given twice",
			    k->kid);
			exit(2);
		}
	o->nkeys++;
}

/* Parse a duration N, Ns or Nm into seconds, or exit. */
static uint32_t
mb_seconds(const char *s, const char *what)
{
	char		 num[32];
	size_t		 n = strlen(s);
	uint64_t	 mul = 1, v;

	if (n > 0 && (s[n - 1] == 's' || s[n - 1] == 'm')) {
		mul = s[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	if (n == 0 || n >= sizeof num) {
		peer_err("mock-backend: %s: not a duration: '%s'", what, s);
		exit(2);
	}
	memcpy(num, s, n);
	num[n] = '\0';
	v = mb_num(num, what) * mul;
	if (v > HYP_TICKET_TTL_MAX) {
		peer_err("mock-backend: %s: at most %d s", what,
		    HYP_TICKET_TTL_MAX);
		exit(2);
	}
	return ((uint32_t)v);
}

/* Read every --ticket-key into a keyring and make the replay cache. */
static int
mb_load_keys(struct mb *mb)
{
	struct mb_key	*k;
	uint8_t		*secret;
	size_t		 len, i;
	char		 err[256];
	int		 rv, warn;

	if (mb->o.nkeys == 0)
		return (0);
	if (mb->o.backend_id == NULL) {
		peer_err("mock-backend: --ticket-key needs --backend-id");
		return (-1);
	}
	if ((mb->kr = hyp_keyring_new()) == NULL ||
	    (mb->replay = hyp_replay_new(mb->o.replay_cap)) == NULL) {
		peer_err("mock-backend: out of memory");
		return (-1);
	}
	for (i = 0; i < mb->o.nkeys; i++) {
		k = &mb->o.keys[i];
		err[0] = '\0';
		warn = 0;
		if ((rv = hyp_secret_read(k->ref, NULL, &secret, &len, &warn,
		    err, sizeof err)) != 0) {
			peer_err("mock-backend: key %s: %s", k->kid,
			    err[0] != '\0' ? err : hyp_strerror(rv));
			return (-1);
		}
		if (warn)
			peer_err("mock-backend: warning: key %s: %s is readable "
			    "by group or others", k->kid, k->ref);
		rv = hyp_keyring_add(mb->kr, k->kid, secret, len, k->from,
		    k->to);
		hyp_secret_free(secret, len);
		if (rv != 0) {
			peer_err("mock-backend: key %s: %s", k->kid,
			    hyp_strerror(rv));
			return (-1);
		}
		peer_out("ticket-key kid=%s from=%" PRIu64 " to=%" PRIu64,
		    k->kid, k->from, k->to);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "alpn", required_argument, NULL, 'a' },
		{ "reject-reason", required_argument, NULL, 'r' },
		{ "no-answer", no_argument, NULL, 'N' },
		{ "require-cert", no_argument, NULL, 'R' },
		{ "script", required_argument, NULL, 's' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "gen-cert", no_argument, NULL, 'G' },
		{ "cn", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "ticket-key", required_argument, NULL, 'K' },
		{ "backend-id", required_argument, NULL, 'B' },
		{ "pool", required_argument, NULL, 'P' },
		{ "skew", required_argument, NULL, 'S' },
		{ "replay-capacity", required_argument, NULL, 'C' },
		{ "require-ticket", no_argument, NULL, 'Q' },
		{ "allow-direct", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct mb		 mb;
	struct hq_server_config	 cfg;
	char			 alpnbuf[256] = "hytale/2,hytale/1";
	char			 addr[PEER_ADDR_MAX];
	const char		*cn = "localhost";
	FILE			*f;
	size_t			 i;
	int			 ch, gen = 0, rv, rc = 0;

	memset(&mb, 0, sizeof mb);
	mb.o.cert = "auto";
	mb.o.connect_timeout_ms = 15000;
	mb.o.skew = 5;
	mb.o.replay_cap = MB_REPLAY_DEFAULT;
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (mb.o.nlisten == HQ_MAX_LISTEN ||
			    peer_split_hostport(optarg,
			    mb.o.hosts[mb.o.nlisten],
			    sizeof mb.o.hosts[0],
			    &mb.o.listen[mb.o.nlisten].port) < 0)
				mb_usage(2);
			mb.o.listen[mb.o.nlisten].addr =
			    mb.o.hosts[mb.o.nlisten];
			mb.o.nlisten++;
			break;
		case 'c':
			mb.o.cert = optarg;
			break;
		case 'k':
			mb.o.key = optarg;
			break;
		case 'a':
			snprintf(alpnbuf, sizeof alpnbuf, "%s", optarg);
			break;
		case 'r':
			mb.o.reject = optarg;
			break;
		case 'N':
			mb.o.no_answer = 1;
			break;
		case 'R':
			mb.o.require_cert = 1;
			break;
		case 's':
			mb_parse_script(&mb.o, optarg);
			break;
		case 't':
			mb.o.connect_timeout_ms = mb_num(optarg,
			    "--connect-timeout");
			break;
		case 'x':
			mb.o.exit_after = (unsigned)mb_num(optarg,
			    "--exit-after");
			break;
		case 'p':
			mb.o.port_file = optarg;
			break;
		case 'G':
			gen = 1;
			break;
		case 'n':
			cn = optarg;
			break;
		case 'v':
			mb.o.verbose = 1;
			break;
		case 'h':
			mb_usage(0);
		case 'K':
			mb_parse_key(&mb.o, optarg);
			break;
		case 'B':
			mb.o.backend_id = optarg;
			break;
		case 'P':
			mb.o.pool_id = optarg;
			break;
		case 'S':
			mb.o.skew = mb_seconds(optarg, "--skew");
			break;
		case 'C':
			mb.o.replay_cap = (size_t)mb_num(optarg,
			    "--replay-capacity");
			if (mb.o.replay_cap == 0)
				mb_usage(2);
			break;
		case 'Q':
			mb.o.allow_direct = 0;
			break;
		case 'D':
			mb.o.allow_direct = 1;
			break;
		default:
			mb_usage(2);
		}
	}
	if (gen) {
		if (argc - optind != 2)
			mb_usage(2);
		return (mb_gen_cert(argv[optind], argv[optind + 1], cn));
	}
	if (optind != argc || mb.o.nlisten == 0)
		mb_usage(2);
	mb_parse_alpn(&mb.o, alpnbuf);
	signal(SIGPIPE, SIG_IGN);
	if (mb_load_keys(&mb) < 0) {
		hyp_keyring_free(mb.kr);
		hyp_replay_free(mb.replay);
		return (2);
	}

	if ((mb.base = event_base_new()) == NULL) {
		peer_err("mock-backend: event_base_new failed");
		hyp_keyring_free(mb.kr);
		hyp_replay_free(mb.replay);
		return (1);
	}
	memset(&cfg, 0, sizeof cfg);
	memcpy(cfg.listen, mb.o.listen, sizeof cfg.listen);
	cfg.nlisten = mb.o.nlisten;
	cfg.cert.cert_file = mb.o.cert;
	cfg.cert.key_file = mb.o.key;
	cfg.cert.auto_cn = "localhost";
	for (i = 0; i < mb.o.nalpn; i++)
		cfg.alpn[i] = mb.o.alpn[i];
	cfg.nalpn = mb.o.nalpn;
	cfg.client_cert = mb.o.require_cert ? HQ_CCERT_REQUIRE :
	    HQ_CCERT_REQUEST;
	cfg.tp.max_streams_bidi = 1;	/* as 02.17 */
	cfg.tp.idle_timeout_ms = 30000;
	cfg.retry = HQ_RETRY_NEVER;
	cfg.cb.established = mb_established;
	cfg.cb.stream_data = mb_stream_data;
	cfg.cb.stream_writable = mb_stream_writable;
	cfg.cb.closed = mb_closed;
	cfg.cb_arg = &mb;
	cfg.log = mb_log;
	cfg.log_arg = &mb;
	if ((rv = hq_server_new(mb.base, &cfg, &mb.srv)) < 0) {
		peer_err("mock-backend: cannot listen: %s", hyp_strerror(rv));
		peer_out("listen-failed error=%s", hyp_strerror(rv));
		event_base_free(mb.base);
		hyp_keyring_free(mb.kr);
		hyp_replay_free(mb.replay);
		return (1);
	}
	for (i = 0; i < mb.o.nlisten; i++) {
		snprintf(addr, sizeof addr, strchr(mb.o.hosts[i], ':') != NULL ?
		    "[%s]:%u" : "%s:%u", mb.o.hosts[i],
		    hq_server_port(mb.srv, i));
		peer_out("listening addr=%s fp=%s", addr,
		    hq_server_cert_fp(mb.srv));
	}
	if (mb.o.port_file != NULL) {
		if ((f = fopen(mb.o.port_file, "w")) == NULL) {
			peer_err("mock-backend: %s: %s", mb.o.port_file,
			    strerror(errno));
			rc = 1;
			goto out;
		}
		fprintf(f, "%u\n", hq_server_port(mb.srv, 0));
		fclose(f);
	}
	mb.sigint = evsignal_new(mb.base, SIGINT, mb_on_signal, &mb);
	mb.sigterm = evsignal_new(mb.base, SIGTERM, mb_on_signal, &mb);
	if (mb.sigint == NULL || mb.sigterm == NULL ||
	    evsignal_add(mb.sigint, NULL) < 0 ||
	    evsignal_add(mb.sigterm, NULL) < 0) {
		peer_err("mock-backend: cannot install signal handlers");
		rc = 1;
		goto out;
	}
	event_base_dispatch(mb.base);
	peer_out("exit conns=%u closed=%u", mb.nconn, mb.nclosed);
out:
	/* hq_server_free runs no callbacks: free what is left ourselves. */
	hq_server_close_all(mb.srv, 0, "mock-backend exiting");
	hq_server_free(mb.srv);
	while (mb.conns != NULL)
		mb_conn_free(&mb, mb.conns);
	if (mb.sigint != NULL)
		event_free(mb.sigint);
	if (mb.sigterm != NULL)
		event_free(mb.sigterm);
	event_base_free(mb.base);
	for (i = 0; i < mb.o.nsteps; i++)
		free(mb.o.steps[i].text);
	hyp_keyring_free(mb.kr);
	hyp_replay_free(mb.replay);
	return (rc);
}
