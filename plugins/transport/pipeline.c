/*
 * pipeline.c: one client connection from admission to its end.
 *
 *   admit()       limits, session, accept hook     -> PENDING
 *   established() SNI/ALPN/fingerprint, handshake hook -> WAIT_CONNECT
 *   stream_data() first client bidi stream: exactly one framed Connect,
 *                 bounded in size (tp_frame) and time (connect_timeout)
 *   decision      connect-decoded and route hooks, then ClientReferral or
 *                 Disconnect, FIN, close with code 0 once acknowledged
 *   closed()      the session ends with its outcome
 *
 * admit() hands lib/quic the record as the new connection's user pointer,
 * and lib/quic calls closed() for every admitted connection (timeouts,
 * creation errors and hq_server_free() included), so the per-IP slot and
 * the session are always released there.
 */
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "transport.h"

#define TP_MSG_DENY		"You are not allowed to join this server."
#define TP_MSG_ERROR		"Something went wrong. Please try again."
#define TP_MSG_PROXY		"full proxy mode is not available yet"
#define TP_MSG_RESTART		"Server is restarting"

/* QUIC application close codes (HYTALE-PROTOCOL.md §1). */
#define TP_CLOSE_OK		0
#define TP_CLOSE_TIMEOUT	4

/* Remove tc from the Connect deadline queue if it is there. */
static void
unqueue(struct transport *tp, struct tp_conn *tc)
{
	if (tc->queue)
		TAILQ_REMOVE(&tp->connect_q, tc, qentry);
	tc->queue = 0;
}

/* Create a connection record with its session; NULL when refused. */
static struct tp_conn *
conn_new(struct tp_server *srv, const struct sockaddr *sa, socklen_t len)
{
	struct transport	*tp = srv->tp;
	struct tp_conn		*tc;

	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return (NULL);
	if ((tc->s = hyp_session_new(tp->p, sa, len)) == NULL) {
		free(tc);
		return (NULL);
	}
	tc->srv = srv;
	tc->sid = -1;
	tp_ipkey_from_sa(sa, &tc->ip);
	hyp_session_mark(tc->s, HYP_MARK_FIRST_PACKET);
	TAILQ_INSERT_TAIL(&srv->conns, tc, sentry);
	srv->nconns++;
	tp->nconns++;
	return (tc);
}

/* Copy s into out, replacing anything but [A-Za-z0-9._:/@+-] with '?'. */
static const char *
clean(const char *s, char *out, size_t len)
{
	size_t	i;

	if (s == NULL || *s == '\0')
		return ("-");
	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		unsigned char	ch = (unsigned char)s[i];

		out[i] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("._:/@+-", ch) != NULL) &&
		    ch != '\0' ? (char)ch : '?';
	}
	out[i] = '\0';
	return (out);
}

/* Log the one line that closes a session. */
static void
log_end(struct transport *tp, struct tp_conn *tc, const char *outcome)
{
	hyp_session_t	*s = tc->s;
	hyp_backend_t	*b = hyp_session_backend(s);
	char		 u[64], sni[300], alpn[64], bid[160];
	int		 lvl;

	lvl = hyp_session_mark_us(s, HYP_MARK_HANDSHAKE_DONE) != 0 ?
	    HYP_LOG_INFO : HYP_LOG_DEBUG;
	if (!hyp_log_enabled(lvl))
		return;
	hyp_log_session(tp->p, s, lvl, "session end outcome=%s peer=%s "
	    "user=%s uuid=%s sni=%s alpn=%s reason=\"%s\" backend=%s "
	    "datagrams_in=%llu bytes_in=%llu datagrams_out=%llu "
	    "bytes_out=%llu", outcome,
	    hyp_session_peer_str(s), clean(hyp_session_username(s), u,
	    sizeof(u)), hyp_session_uuid_str(s) != NULL ?
	    hyp_session_uuid_str(s) : "-", clean(hyp_session_sni(s), sni,
	    sizeof(sni)), clean(hyp_session_alpn(s), alpn, sizeof(alpn)),
	    hyp_session_reason(s), b != NULL ? clean(hyp_backend_id(b), bid,
	    sizeof(bid)) : "-",
	    (unsigned long long)hyp_session_counter(s, HYP_CTR_PACKETS_IN),
	    (unsigned long long)hyp_session_counter(s, HYP_CTR_BYTES_IN),
	    (unsigned long long)hyp_session_counter(s, HYP_CTR_PACKETS_OUT),
	    (unsigned long long)hyp_session_counter(s, HYP_CTR_BYTES_OUT));
}

/* Add the connection's datagram counters to the session. */
static void
count_datagrams(struct tp_conn *tc)
{
	struct hq_conn_stats	st;

	hq_conn_stats(tc->c, &st);
	hyp_session_count(tc->s, HYP_CTR_BYTES_IN, st.bytes_in);
	hyp_session_count(tc->s, HYP_CTR_BYTES_OUT, st.bytes_out);
	hyp_session_count(tc->s, HYP_CTR_PACKETS_IN, st.dgrams_in);
	hyp_session_count(tc->s, HYP_CTR_PACKETS_OUT, st.dgrams_out);
}

/* End tc's session with outcome o and free tc. */
void
tp_conn_end(struct tp_conn *tc, enum tp_outcome o)
{
	struct tp_server	*srv = tc->srv;
	struct transport	*tp = srv->tp;

	if (tc->state == TP_ST_PENDING)
		tp->npending--;
	unqueue(tp, tc);
	if (tc->s != NULL) {
		if (tc->c != NULL)
			count_datagrams(tc);
		log_end(tp, tc, tp_outcome_names[o]);
		if (tp->m.sessions[o] != NULL)
			hyp_series_add(tp->m.sessions[o], 1);
		hyp_session_end(tc->s, tp_outcome_names[o]);
	}
	if (tc->reserved)
		tp_ip_release(&tp->ipt, &tc->ip);
	if (tc->c != NULL)
		hq_conn_set_user(tc->c, NULL);
	tp_frame_free(&tc->fr);
	free(tc->rest);
	TAILQ_REMOVE(&srv->conns, tc, sentry);
	srv->nconns--;
	tp->nconns--;
	free(tc);
}

/* Count a refused admission. */
static int
refuse(struct transport *tp, enum tp_refusal r)
{
	if (tp->m.refused[r] != NULL)
		hyp_series_add(tp->m.refused[r], 1);
	return (-1);
}

/*
 * hq admit(): apply the limits, create the session, run the accept hook;
 * the record becomes the connection's user pointer.
 */
static int
cb_admit(void *arg, const struct sockaddr *sa, socklen_t len, int validated,
    void **user)
{
	struct tp_server	*srv = arg;
	struct transport	*tp = srv->tp;
	const struct tp_limits	*l = &tp->set.lim;
	struct tp_ipkey		 k;
	struct tp_conn		*tc;
	enum hyp_hook_rc	 rc;
	int			 reserved = 0;

	(void)validated;
	if (tp->stopping || srv->draining)
		return (refuse(tp, TP_REF_DRAINING));
	if (tp->nconns >= l->max_connections)
		return (refuse(tp, TP_REF_MAX_CONNS));
	if (tp->npending >= l->max_half_open)
		return (refuse(tp, TP_REF_HALF_OPEN));
	tp_ipkey_from_sa(sa, &k);
	if (l->rate != 0 || l->max_per_ip != 0) {
		switch (tp_ip_admit(&tp->ipt, &k, hyp_now_us(), l)) {
		case TP_ADMIT_OK:
			reserved = 1;
			break;
		case TP_ADMIT_RATE:
			return (refuse(tp, TP_REF_RATE));
		case TP_ADMIT_PER_IP:
			return (refuse(tp, TP_REF_PER_IP));
		default:
			return (refuse(tp, TP_REF_MAX_CONNS));
		}
	}
	if ((tc = conn_new(srv, sa, len)) == NULL) {
		if (reserved)
			tp_ip_release(&tp->ipt, &k);
		return (refuse(tp, TP_REF_MAX_CONNS));
	}
	tc->reserved = reserved;
	tc->state = TP_ST_PENDING;
	tp->npending++;
	rc = hyp_hook_run(HYP_HOOK_ACCEPT, tc->s, NULL);
	if (rc == HYP_DENY || rc == HYP_ERROR) {
		tp_conn_end(tc, TP_OUT_REFUSED);
		return (refuse(tp, TP_REF_DENIED));
	}
	*user = tc;
	return (0);
}

/* The record admit() attached to c (NULL: none, or already ended). */
static struct tp_conn *
claim(hq_conn_t *c)
{
	struct tp_conn	*tc;

	if ((tc = hq_conn_user(c)) != NULL)
		tc->c = c;
	return (tc);
}

/* Close c with an application code and remember the outcome. */
static void
close_with(struct tp_conn *tc, uint64_t code, const char *reason,
    enum tp_outcome o)
{
	unqueue(tc->srv->tp, tc);
	tc->outcome = o;
	tc->has_outcome = 1;
	tc->state = TP_ST_CLOSING;
	(void)hq_conn_close(tc->c, code, reason, 0);
}

/* hq established(): record the handshake facts, run the handshake hook. */
static int
cb_established(hq_conn_t *c, void *arg)
{
	struct tp_server	*srv = arg;
	struct transport	*tp = srv->tp;
	struct tp_conn		*tc;
	const char		*v;
	enum hyp_hook_rc	 rc;

	if (tp->m.hs[TP_HS_OK] != NULL)
		hyp_series_add(tp->m.hs[TP_HS_OK], 1);
	if (tp->m.hs_dur != NULL)
		hyp_series_observe(tp->m.hs_dur,
		    (double)hq_conn_handshake_ns(c) / 1e9);
	if ((tc = claim(c)) == NULL) {
		(void)hq_conn_close(c, TP_CLOSE_OK, "", 0);
		return (0);
	}
	if (tc->state == TP_ST_PENDING)
		tp->npending--;
	tc->state = TP_ST_WAIT_CONNECT;
	if ((v = hq_conn_sni(c)) != NULL && *v != '\0')
		(void)hyp_session_set_sni(tc->s, v);
	if ((v = hq_conn_alpn(c)) != NULL && *v != '\0')
		(void)hyp_session_set_alpn(tc->s, v);
	if ((v = hq_conn_peer_fp(c)) != NULL)
		(void)hyp_session_set_cert_fp(tc->s, v);
	hyp_session_mark(tc->s, HYP_MARK_HANDSHAKE_DONE);
	rc = hyp_hook_run(HYP_HOOK_HANDSHAKE, tc->s, NULL);
	if (rc == HYP_DENY)
		tc->deny_pending = 1;
	else if (rc == HYP_ERROR) {
		close_with(tc, TP_CLOSE_OK, "", TP_OUT_ERROR);
		return (0);
	}
	if (tp->stopping || srv->draining) {
		close_with(tc, TP_CLOSE_OK, "server is restarting",
		    TP_OUT_SHUTDOWN);
		return (0);
	}
	tp_frame_init(&tc->fr, hyp_packet_max_size(HYP_PKT_CONNECT));
	tc->deadline_us = hyp_now_us() + (uint64_t)tp->set.connect_ms * 1000;
	TAILQ_INSERT_TAIL(&tp->connect_q, tc, qentry);
	tc->queue = 1;
	tp_deadline_arm(tp);
	return (0);
}

/* Tell HYP_HOOK_PACKET handlers (the tracer) about a framed packet. */
static void
packet_hook(struct tp_conn *tc, int outbound, uint32_t id, uint32_t len,
    const uint8_t *payload, size_t have)
{
	struct hyp_packet_info	pi;

	if (hyp_hook_count(HYP_HOOK_PACKET) == 0)
		return;
	memset(&pi, 0, sizeof(pi));
	pi.outbound = outbound;
	pi.stream = tc->sid;
	pi.packet_id = id;
	pi.length = len;
	pi.payload = payload;
	pi.payload_len = payload != NULL ? have : 0;
	(void)hyp_hook_run(HYP_HOOK_PACKET, tc->s, &pi);
}

/* Queue a framed packet on the Connect stream with FIN, then close. */
static void
send_frame(struct tp_conn *tc, uint32_t id, size_t plen, enum tp_outcome o)
{
	struct transport	*tp = tc->srv->tp;
	size_t			 len = HYP_FRAME_HEADER_LEN + plen;
	ssize_t			 n;

	unqueue(tp, tc);
	tc->outcome = o;
	tc->has_outcome = 1;
	tc->state = TP_ST_REPLYING;
	hyp_frame_header_encode(tp->out, (uint32_t)plen, id);
	packet_hook(tc, 1, id, (uint32_t)plen, tp->out + HYP_FRAME_HEADER_LEN,
	    plen);
	n = hq_stream_send(tc->c, tc->sid, tp->out, len, 1);
	if (n < 0) {
		close_with(tc, TP_CLOSE_OK, "", TP_OUT_ERROR);
		return;
	}
	if ((size_t)n < len) {
		/* Rare: the stream's send buffer is short; keep the rest. */
		if ((tc->rest = malloc(len - (size_t)n)) == NULL) {
			close_with(tc, TP_CLOSE_OK, "", TP_OUT_ERROR);
			return;
		}
		memcpy(tc->rest, tp->out + n, len - (size_t)n);
		tc->restlen = len - (size_t)n;
		return;
	}
	(void)hq_conn_close(tc->c, TP_CLOSE_OK, "", HQ_CLOSE_FLUSH);
}

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t max)
{
	size_t	n = strlen(s);

	if (n <= max)
		return (n);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (n);
}

/* Send Disconnect(msg) in the form the client's Connect layout expects. */
static void
send_disconnect(struct tp_conn *tc, const char *msg, enum tp_outcome o)
{
	struct transport		*tp = tc->srv->tp;
	const struct hyp_connect	*cn = hyp_session_connect(tc->s);
	struct hyp_disconnect		 d;
	int				 n;

	memset(&d, 0, sizeof(d));
	d.form = cn != NULL && cn->layout == HYP_CONNECT_V3 ?
	    HYP_DISCONNECT_NEW : HYP_DISCONNECT_OLD;
	d.type = HYP_DISCONNECT_TYPE_DISCONNECT;
	d.reason.ptr = (const uint8_t *)msg;
	d.reason.len = utf8_cut(msg, TP_MESSAGE_MAX);
	n = hyp_disconnect_encode(&d, tp->out + HYP_FRAME_HEADER_LEN,
	    sizeof(tp->out) - HYP_FRAME_HEADER_LEN);
	if (n < 0) {
		hyp_log_session(tp->p, tc->s, HYP_LOG_WARNING, "cannot encode "
		    "Disconnect: %s", hyp_strerror(n));
		close_with(tc, TP_CLOSE_OK, "", TP_OUT_ERROR);
		return;
	}
	send_frame(tc, d.form == HYP_DISCONNECT_NEW ?
	    HYP_PKT_SERVER_DISCONNECT : HYP_PKT_DISCONNECT, (size_t)n, o);
}

/*
 * Without a referral service nobody issues a ticket, but HYP_HOOK_REFERRAL
 * still runs (so a plugin may deny the referral) with an extension buffer
 * whose contents are dropped.
 */
static enum hyp_hook_rc
referral_hook(hyp_session_t *s, hyp_backend_t *b)
{
	struct hyp_referral_ext	ext;
	uint8_t			buf[256];

	memset(&ext, 0, sizeof(ext));
	ext.buf = buf;
	ext.cap = sizeof(buf);
	ext.backend = b;
	return (hyp_hook_run(HYP_HOOK_REFERRAL, s, &ext));
}

/* Send ClientReferral to the chosen backend with the referral data. */
static void
send_referral(struct tp_conn *tc)
{
	struct transport		*tp = tc->srv->tp;
	const struct hyp_referral_v1	*rs;
	struct hyp_client_referral	 r;
	hyp_backend_t			*b = hyp_session_backend(tc->s);
	uint8_t				 data[HYP_REFERRAL_DATA_MAX];
	void				*ctx = NULL;
	int				 n = 0;

	if (b == NULL || hyp_backend_host(b) == NULL) {
		hyp_log_session(tp->p, tc->s, HYP_LOG_WARNING, "route decided "
		    "to refer without a backend");
		send_disconnect(tc, TP_MSG_ERROR, TP_OUT_ERROR);
		return;
	}
	rs = hyp_service_get(HYP_REFERRAL_SERVICE, 1, &ctx, NULL);
	if (rs != NULL && rs->size >= offsetof(struct hyp_referral_v1, issue) +
	    sizeof(rs->issue) && rs->issue != NULL) {
		/* The issuer runs HYP_HOOK_REFERRAL with its ticket's extensions. */
		n = rs->issue(ctx, tc->s, b, data, sizeof(data));
		if (n < 0 || (size_t)n > sizeof(data)) {
			hyp_log_session(tp->p, tc->s, HYP_LOG_WARNING,
			    "referral service failed: %s", hyp_strerror(n < 0 ?
			    n : HYP_ETOOBIG));
			send_disconnect(tc, TP_MSG_ERROR, TP_OUT_ERROR);
			return;
		}
	} else if (referral_hook(tc->s, b) == HYP_DENY) {
		send_disconnect(tc, hyp_session_deny_message(tc->s) != NULL ?
		    hyp_session_deny_message(tc->s) : TP_MSG_DENY,
		    TP_OUT_DENIED);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.has_host = 1;
	r.host_to.port = hyp_backend_port(b);
	r.host_to.host.ptr = (const uint8_t *)hyp_backend_host(b);
	r.host_to.host.len = strlen(hyp_backend_host(b));
	if (rs != NULL && n > 0) {
		r.data.ptr = data;
		r.data.len = (size_t)n;
	}
	n = hyp_client_referral_encode(&r, tp->out + HYP_FRAME_HEADER_LEN,
	    sizeof(tp->out) - HYP_FRAME_HEADER_LEN);
	sodium_memzero(data, sizeof(data));
	if (n < 0) {
		hyp_log_session(tp->p, tc->s, HYP_LOG_WARNING, "cannot encode "
		    "ClientReferral: %s", hyp_strerror(n));
		send_disconnect(tc, TP_MSG_ERROR, TP_OUT_ERROR);
		return;
	}
	send_frame(tc, HYP_PKT_CLIENT_REFERRAL, (size_t)n, TP_OUT_REFERRED);
}

/*
 * A bad first packet: log it and close without an answer, with the QUIC
 * transport error PROTOCOL_VIOLATION and no reason, as the Hytale server
 * does for framing and decoding errors.
 */
static void
bad_connect(struct tp_conn *tc, int err)
{
	hyp_log_session(tc->srv->tp->p, tc->s, HYP_LOG_INFO, "bad Connect "
	    "from %s: %s", hyp_session_peer_str(tc->s), hyp_strerror(err));
	tp_frame_free(&tc->fr);
	unqueue(tc->srv->tp, tc);
	tc->outcome = TP_OUT_BAD_CONNECT;
	tc->has_outcome = 1;
	tc->state = TP_ST_CLOSING;
	(void)hq_conn_close_transport(tc->c, HQ_ERR_PROTOCOL_VIOLATION, "");
}

/* Record the decision time. */
static void
decided(struct tp_conn *tc)
{
	struct transport	*tp = tc->srv->tp;
	uint64_t		 t0, t1;

	hyp_session_mark(tc->s, HYP_MARK_DECISION);
	t0 = hyp_session_mark_us(tc->s, HYP_MARK_FIRST_PACKET);
	t1 = hyp_session_mark_us(tc->s, HYP_MARK_DECISION);
	if (tp->m.dec_dur != NULL && t0 != 0 && t1 >= t0)
		hyp_series_observe(tp->m.dec_dur, (double)(t1 - t0) / 1e6);
}

/* The Connect is complete: decode, run the hooks, answer. */
static void
connect_done(struct tp_conn *tc)
{
	struct transport	*tp = tc->srv->tp;
	struct hyp_connect	 cn;
	static const uint8_t	 empty[1];
	enum hyp_hook_rc	 rc;
	const char		*msg;
	int			 err;

	unqueue(tp, tc);
	err = hyp_connect_decode(tc->fr.buf != NULL ? tc->fr.buf : empty,
	    tc->fr.plen, &cn);
	if (err == 0)
		err = hyp_session_set_connect(tc->s, &cn);
	packet_hook(tc, 0, tc->fr.id, tc->fr.plen, tc->fr.buf, tc->fr.have);
	tp_frame_free(&tc->fr);
	if (err != 0) {
		bad_connect(tc, err);
		return;
	}
	hyp_session_mark(tc->s, HYP_MARK_CONNECT_DECODED);
	rc = hyp_hook_run(HYP_HOOK_CONNECT_DECODED, tc->s, NULL);
	if (rc == HYP_CONTINUE || rc == HYP_DONE) {
		if (!tc->deny_pending && hyp_hook_count(HYP_HOOK_ROUTE) > 0)
			rc = hyp_hook_run(HYP_HOOK_ROUTE, tc->s, NULL);
	}
	decided(tc);
	if (rc == HYP_ERROR) {
		send_disconnect(tc, TP_MSG_ERROR, TP_OUT_ERROR);
		return;
	}
	if (rc == HYP_DENY || tc->deny_pending ||
	    hyp_session_decision(tc->s) == HYP_DECISION_DENY) {
		msg = hyp_session_deny_message(tc->s);
		send_disconnect(tc, msg != NULL ? msg : TP_MSG_DENY,
		    TP_OUT_DENIED);
		return;
	}
	switch (hyp_session_decision(tc->s)) {
	case HYP_DECISION_REFER:
		send_referral(tc);
		break;
	case HYP_DECISION_PROXY:
		send_disconnect(tc, TP_MSG_PROXY, TP_OUT_PROXY_UNSUPPORTED);
		break;
	default:
		send_disconnect(tc, tp->set.no_route_message, TP_OUT_NO_ROUTE);
		break;
	}
}

/* hq stream_data(): feed the first client bidi stream to the frame reader. */
static int
cb_stream_data(hq_conn_t *c, int64_t sid, const uint8_t *data, size_t len,
    int fin, void *arg)
{
	struct tp_conn	*tc = hq_conn_user(c);
	size_t		 used;
	int		 rc;

	(void)arg;
	if (tc == NULL || tc->state != TP_ST_WAIT_CONNECT || (sid & 3) != 0)
		return (0);
	if (tc->sid == -1)
		tc->sid = sid;
	else if (sid != tc->sid)
		return (0);
	rc = len > 0 ? tp_frame_feed(&tc->fr, data, len, &used) : TP_FRAME_MORE;
	if (rc < 0)
		bad_connect(tc, rc);
	else if (rc == TP_FRAME_DONE)
		connect_done(tc);
	else if (fin)
		bad_connect(tc, HYP_ETRUNC);
	return (0);
}

/* hq stream_writable(): send what did not fit. */
static void
cb_stream_writable(hq_conn_t *c, int64_t sid, void *arg)
{
	struct tp_conn	*tc = hq_conn_user(c);
	ssize_t		 n;

	(void)arg;
	if (tc == NULL || tc->rest == NULL || sid != tc->sid)
		return;
	n = hq_stream_send(c, sid, tc->rest, tc->restlen, 1);
	if (n < 0) {
		free(tc->rest);
		tc->rest = NULL;
		close_with(tc, TP_CLOSE_OK, "", TP_OUT_ERROR);
		return;
	}
	memmove(tc->rest, tc->rest + n, tc->restlen - (size_t)n);
	tc->restlen -= (size_t)n;
	if (tc->restlen == 0) {
		free(tc->rest);
		tc->rest = NULL;
		(void)hq_conn_close(c, TP_CLOSE_OK, "", HQ_CLOSE_FLUSH);
	}
}

/* hq closed(): end the session with what happened. */
static void
cb_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct tp_server	*srv = arg;
	struct transport	*tp = srv->tp;
	struct tp_conn		*tc;
	enum tp_outcome		 o;

	if (!ci->handshake_done && !srv->freeing) {
		enum tp_hs_outcome h = ci->kind == HQ_CLOSE_HANDSHAKE_TIMEOUT ?
		    TP_HS_TIMEOUT : TP_HS_FAILED;

		if (tp->m.hs[h] != NULL)
			hyp_series_add(tp->m.hs[h], 1);
	}
	if ((tc = claim(c)) == NULL)
		return;
	if (srv->freeing)
		o = srv->free_outcome;
	else if (tc->has_outcome)
		o = tc->outcome;
	else if (!ci->handshake_done)
		o = ci->kind == HQ_CLOSE_HANDSHAKE_TIMEOUT ? TP_OUT_TIMEOUT :
		    TP_OUT_HANDSHAKE_FAILED;
	else if (ci->kind == HQ_CLOSE_ERROR)
		o = TP_OUT_ERROR;
	else
		o = TP_OUT_CLOSED;
	tp_conn_end(tc, o);
}

/* Fire the deadlines that are due and re-arm the timer. */
static void
deadline_fire(hyp_plugin_t *p, void *arg)
{
	struct transport	*tp = arg;
	struct tp_conn		*tc;
	uint64_t		 now = hyp_now_us();

	(void)p;
	while ((tc = TAILQ_FIRST(&tp->connect_q)) != NULL &&
	    tc->deadline_us <= now) {
		tp_frame_free(&tc->fr);
		close_with(tc, TP_CLOSE_TIMEOUT, "timeout", TP_OUT_TIMEOUT);
	}
	tp_deadline_arm(tp);
}

/* Arm the deadline timer for the earliest Connect deadline, or stop it. */
void
tp_deadline_arm(struct transport *tp)
{
	struct tp_conn	*a = TAILQ_FIRST(&tp->connect_q);
	uint64_t	 d, now;

	if (tp->deadline == NULL &&
	    (tp->deadline = hyp_timer_new(tp->p, deadline_fire, tp)) == NULL)
		return;
	if (a == NULL) {
		hyp_timer_stop(tp->deadline);
		return;
	}
	d = a->deadline_us;
	now = hyp_now_us();
	hyp_timer_start(tp->deadline, d > now ? (d - now) / 1000 + 1 : 1, 0);
}

/* Log lines from lib/quic. */
static void
hq_log(void *arg, int level, const char *msg)
{
	static const int map[] = { HYP_LOG_ERR, HYP_LOG_WARNING, HYP_LOG_INFO,
	    HYP_LOG_DEBUG };
	struct transport	*tp = arg;

	if (level < 0 || level > HQ_LOG_DEBUG)
		level = HQ_LOG_DEBUG;
	hyp_log(tp->p, map[level], "quic: %s", msg);
}

/*
 * hq qlog_open(): a qlog file "<session id>.sqlog" in qlog.dir for clients
 * in qlog.clients (the current settings, so a reload applies at once).
 */
static int
cb_qlog(void *arg, void *user, const uint8_t *odcid, size_t odcidlen)
{
	struct tp_server	*srv = arg;
	struct transport	*tp = srv->tp;
	struct tp_conn		*tc = user;
	const struct sockaddr	*sa;
	socklen_t		 len;
	char			 path[4096];
	size_t			 i;
	int			 fd, n;

	(void)odcid;
	(void)odcidlen;
	if (tp->set.qlog_dir == NULL || tc == NULL || tc->s == NULL)
		return (-1);
	sa = hyp_session_peer(tc->s, &len);
	for (i = 0; i < tp->set.nqlog_clients; i++)
		if (hyp_cidr_match(&tp->set.qlog_clients[i], sa))
			break;
	if (i == tp->set.nqlog_clients)
		return (-1);
	n = snprintf(path, sizeof(path), "%s%s%s/%s.sqlog",
	    tp->set.qlog_dir[0] == '/' ? "" : hyp_plugin_conf_dir(tp->p),
	    tp->set.qlog_dir[0] == '/' ? "" : "/", tp->set.qlog_dir,
	    hyp_session_id_str(tc->s));
	if (n < 0 || (size_t)n >= sizeof(path))
		return (-1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		hyp_log_session(tp->p, tc->s, HYP_LOG_WARNING, "qlog: cannot "
		    "create %s: %s", path, strerror(errno));
	return (fd);
}

/* Create and bind an hq_server for settings set. */
int
tp_server_new(struct transport *tp, const struct tp_settings *set,
    const uint8_t *token_key, const uint8_t *reset_secret,
    struct tp_server **out)
{
	struct hq_server_config	 cfg;
	struct tp_server	*srv;
	size_t			 i;
	int			 rc;

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (HYP_ENOMEM);
	srv->tp = tp;
	TAILQ_INIT(&srv->conns);
	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < set->nlisten; i++)
		cfg.listen[i] = set->listen[i];
	cfg.nlisten = set->nlisten;
	cfg.cert.cert_file = set->cert;
	cfg.cert.key_file = set->key;
	cfg.cert.auto_cn = "localhost";
	for (i = 0; i < set->nalpn; i++)
		cfg.alpn[i] = set->alpn[i];
	cfg.nalpn = set->nalpn;
	cfg.priority = set->priority;
	cfg.client_cert = set->ccert;
	cfg.tp.idle_timeout_ms = set->idle_ms;
	cfg.tp.handshake_timeout_ms = set->handshake_ms;
	cfg.tp.max_streams_bidi = set->max_streams_bidi;
	cfg.tp.max_stream_data = set->max_stream_data;
	cfg.tp.max_data = set->max_data;
	cfg.tp.max_udp_payload = set->max_udp_payload;
	cfg.tp.disable_migration = 1;
	cfg.max_conns = (size_t)set->lim.max_connections +
	    set->lim.max_half_open;
	cfg.retry = set->retry;
	cfg.retry_threshold = set->retry_threshold;
	cfg.token_key = token_key;
	cfg.reset_secret = reset_secret;
	cfg.reset_rate = set->reset_rate;
	cfg.reset_burst = set->reset_burst;
	if (set->new_token_ms == 0)
		cfg.no_new_token = 1;
	else
		cfg.new_token_lifetime_s = set->new_token_ms / 1000;
	cfg.cb.admit = cb_admit;
	cfg.cb.established = cb_established;
	cfg.cb.stream_data = cb_stream_data;
	cfg.cb.stream_writable = cb_stream_writable;
	cfg.cb.closed = cb_closed;
	cfg.qlog_open = cb_qlog;
	cfg.cb_arg = srv;
	cfg.log = hq_log;
	cfg.log_arg = tp;
	if ((rc = hq_server_new(hyp_event_base(), &cfg, &srv->hq)) != 0) {
		free(srv);
		return (rc);
	}
	*out = srv;
	return (0);
}

/*
 * End every session of srv with outcome and free the endpoint: lib/quic
 * calls closed() for each connection it still holds; anything left after
 * that (none expected) is ended here.
 */
void
tp_server_free(struct tp_server *srv, const char *outcome)
{
	struct transport	*tp = srv->tp;
	struct tp_conn		*tc;
	enum tp_outcome		 o = TP_OUT_SHUTDOWN;
	int			 i;

	for (i = 0; i < TP_OUT__COUNT; i++)
		if (outcome != NULL && strcmp(outcome, tp_outcome_names[i]) == 0)
			o = (enum tp_outcome)i;
	if (srv->hq != NULL)
		tp_metrics_stats(tp, hq_server_stats(srv->hq), &srv->last);
	srv->freeing = 1;
	srv->free_outcome = o;
	hq_server_free(srv->hq);
	srv->hq = NULL;
	while ((tc = TAILQ_FIRST(&srv->conns)) != NULL) {
		tc->c = NULL;
		tp_conn_end(tc, o);
	}
	free(srv);
}

/* Answer every connection of srv still waiting for its Connect. */
static void
stop_server(struct tp_server *srv)
{
	struct tp_conn	*tc, *next;

	TAILQ_FOREACH_SAFE(tc, &srv->conns, sentry, next) {
		if (tc->state != TP_ST_WAIT_CONNECT || tc->c == NULL)
			continue;
		tp_frame_free(&tc->fr);
		if (tc->sid != -1)
			send_disconnect(tc, TP_MSG_RESTART, TP_OUT_SHUTDOWN);
		else
			close_with(tc, TP_CLOSE_OK, "server is restarting",
			    TP_OUT_SHUTDOWN);
	}
}

/* stop(): answer every connection waiting for its Connect, politely. */
void
tp_stop_conns(struct transport *tp)
{
	struct tp_server	*srv;

	if (tp->cur != NULL)
		stop_server(tp->cur);
	TAILQ_FOREACH(srv, &tp->old, entry)
		stop_server(srv);
}

/* Whether every connection of every endpoint is gone. */
int
tp_drained(struct transport *tp)
{
	struct tp_server	*srv;

	if (tp->nconns != 0)
		return (0);
	if (tp->cur != NULL && hq_server_stats(tp->cur->hq)->conns_active != 0)
		return (0);
	TAILQ_FOREACH(srv, &tp->old, entry)
		if (hq_server_stats(srv->hq)->conns_active != 0)
			return (0);
	return (1);
}

/* Periodic work: per-IP expiry, retiring old endpoints. */
void
tp_tick(struct transport *tp)
{
	struct tp_server	*srv, *next;
	uint64_t		 now = hyp_now_us();

	/* Endpoint counters are copied at render time (tp_metrics_render). */
	TAILQ_FOREACH_SAFE(srv, &tp->old, entry, next) {
		if ((srv->nconns == 0 &&
		    hq_server_stats(srv->hq)->conns_active == 0) ||
		    now >= srv->drain_deadline_us) {
			hyp_log(tp->p, HYP_LOG_INFO, "old listener retired "
			    "(%u sessions cut)", srv->nconns);
			TAILQ_REMOVE(&tp->old, srv, entry);
			tp_server_free(srv, "shutdown");
		}
	}
	(void)tp_iptable_expire(&tp->ipt, now, &tp->set.lim);
}
