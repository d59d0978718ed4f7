/*
 * conn.c: the connection engine shared by servers and clients: ngtcp2
 * callbacks, stream send buffers, the write loop (GSO batching, pacing),
 * timers, closing/draining, and the deferred-work discipline.
 *
 * Deferred work: every entry from libevent or from the caller brackets its
 * work with hq_ep_enter()/hq_ep_leave().  Inside, connections are only
 * marked dirty (to be written) or dead (to be released); the outermost
 * hq_ep_leave() writes dirty connections once per batch (ACK coalescing,
 * and no ngtcp2 write from inside ngtcp2 callbacks) and then releases dead
 * ones, so no callback ever sees freed memory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "quic_int.h"

static void	conn_flush(struct hq_conn *c);
static void	conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void	conn_send_close(struct hq_conn *c, enum hq_close_kind kind);

/* ---- endpoint ---- */

/* Initialise the part every endpoint shares and its packet buffers. */
int
hq_ep_init(struct hq_ep *ep, struct event_base *base, int server,
    const struct hq_callbacks *cb, void *cb_arg, hq_log_fn log,
    void *log_arg, const struct hq_transport *tp)
{
	ep->base = base;
	ep->server = server;
	if (cb != NULL)
		ep->cb = *cb;
	ep->cb_arg = cb_arg;
	ep->log = log;
	ep->log_arg = log_arg;
	if (tp != NULL)
		ep->tp = *tp;
	hq_transport_defaults(&ep->tp, server);
	TAILQ_INIT(&ep->dirty);
	TAILQ_INIT(&ep->dead);
	/* Allocated once: the receive batch and one GSO train. */
	ep->rx.slot = ep->tp.max_udp_payload > HQ_RX_SLOT ?
	    ep->tp.max_udp_payload : HQ_RX_SLOT;
	ep->rx.data = malloc(HQ_RX_BATCH * ep->rx.slot);
	ep->tx = malloc(HQ_TX_BATCH * ep->tp.max_udp_payload);
	if (ep->rx.data == NULL || ep->tx == NULL)
		return (HYP_ENOMEM);
	return (0);
}

/* Free the packet buffers of hq_ep_init(). */
void
hq_ep_free_bufs(struct hq_ep *ep)
{
	free(ep->rx.data);
	free(ep->tx);
	ep->rx.data = NULL;
	ep->tx = NULL;
}

/* Begin a unit of work on ep. */
void
hq_ep_enter(struct hq_ep *ep)
{
	ep->busy++;
}

/*
 * End a unit of work: the outermost level writes dirty connections and
 * releases dead ones.  Returns 1 if the endpoint itself was freed.
 */
int
hq_ep_leave(struct hq_ep *ep)
{
	struct hq_conn	*c;

	if (ep->busy == 1) {
		for (;;) {
			if ((c = TAILQ_FIRST(&ep->dirty)) != NULL) {
				TAILQ_REMOVE(&ep->dirty, c, qentry);
				c->queued = 0;
				conn_flush(c);
			} else if ((c = TAILQ_FIRST(&ep->dead)) != NULL) {
				TAILQ_REMOVE(&ep->dead, c, qentry);
				c->queued = 0;
				ep->ops->release(c);
			} else
				break;
		}
	}
	ep->busy--;
	if (ep->busy == 0 && ep->free_pending) {
		ep->ops->destroy(ep->owner);
		return (1);
	}
	return (0);
}

/* ---- streams ---- */

/* Find a stream of c by id. */
static struct hq_stream *
stream_find(struct hq_conn *c, int64_t sid)
{
	struct hq_stream	*s;

	TAILQ_FOREACH(s, &c->streams, entry) {
		if (s->id == sid)
			return (s);
	}
	return (NULL);
}

/* Add stream state for sid (the send buffer is allocated on first send). */
static struct hq_stream *
stream_add(struct hq_conn *c, int64_t sid)
{
	struct hq_stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->id = sid;
	TAILQ_INSERT_TAIL(&c->streams, s, entry);
	c->nstreams++;
	if (c->qc != NULL)
		(void)ngtcp2_conn_set_stream_user_data(c->qc, sid, s);
	return (s);
}

/* Drop stream state. */
static void
stream_del(struct hq_conn *c, struct hq_stream *s)
{
	TAILQ_REMOVE(&c->streams, s, entry);
	c->nstreams--;
	free(s->buf);
	free(s);
}

/* Bytes the caller may still queue on s. */
static size_t
stream_space(const struct hq_conn *c, const struct hq_stream *s)
{
	size_t	cap = s->buf != NULL ? s->cap : c->ep->tp.stream_sndbuf;

	return (cap - (size_t)(s->queued - s->acked));
}

/* Describe the unsent part of the ring (at most two pieces). */
static size_t
stream_unsent(const struct hq_stream *s, ngtcp2_vec *v)
{
	uint64_t	len = s->queued - s->sent;
	size_t		off, first;

	if (len == 0)
		return (0);
	off = (size_t)(s->sent % s->cap);
	first = s->cap - off;
	if (first > len)
		first = (size_t)len;
	v[0].base = s->buf + off;
	v[0].len = first;
	if (len == first)
		return (1);
	v[1].base = s->buf;
	v[1].len = (size_t)len - first;
	return (2);
}

/* 1 if the stream has something to write. */
static int
stream_wants_write(const struct hq_conn *c, const struct hq_stream *s)
{
	if (s->shut || s->blocked || s->skip == c->wround)
		return (0);
	return (s->sent < s->queued || (s->fin_queued && !s->fin_sent));
}

/* ---- ngtcp2 callbacks ---- */

/* Record peer facts, count, and tell the caller the handshake is done. */
static int
cb_handshake_completed(ngtcp2_conn *qc, void *ud)
{
	struct hq_conn	*c = ud;
	struct hq_ep	*ep = c->ep;

	(void)qc;
	if (hq_tls_peer_info(c) != 0) {
		hq_logf(ep, HQ_LOG_WARN, "no memory for the handshake facts");
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	}
	c->hs_done = 1;
	c->t_hs = hq_now();
	if (c->state == HQ_CS_HANDSHAKE)
		c->state = HQ_CS_OPEN;
	if (c->half_open) {
		c->half_open = 0;
		ep->stats.conns_half_open--;
	}
	ep->stats.handshakes_ok++;
	if (ep->server)
		hq_server_hs_done(c);
	c->hs_fired = 1;
	if (ep->cb.established != NULL &&
	    ep->cb.established(c, ep->cb_arg) < 0)
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	hq_conn_dirty(c);
	return (0);
}

/* A peer-initiated stream appeared. */
static int
cb_stream_open(ngtcp2_conn *qc, int64_t sid, void *ud)
{
	struct hq_conn	*c = ud;

	(void)qc;
	if (stream_add(c, sid) == NULL)
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	if (c->ep->cb.stream_open != NULL &&
	    c->ep->cb.stream_open(c, sid, c->ep->cb_arg) < 0)
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	return (0);
}

/* In-order stream data: hand it over, return credit unless deferred. */
static int
cb_recv_stream_data(ngtcp2_conn *qc, uint32_t flags, int64_t sid,
    uint64_t offset, const uint8_t *data, size_t len, void *ud, void *sud)
{
	struct hq_conn	*c = ud;
	int		 rv = 0;

	(void)offset;
	(void)sud;
	if (c->state >= HQ_CS_CLOSING)
		return (0);
	if (c->ep->cb.stream_data != NULL)
		rv = c->ep->cb.stream_data(c, sid, data, len,
		    (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0, c->ep->cb_arg);
	if (rv < 0)
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	if (rv != HQ_DEFER && len > 0) {
		ngtcp2_conn_extend_max_stream_offset(qc, sid, len);
		ngtcp2_conn_extend_max_offset(qc, len);
	}
	return (0);
}

/* Sent data was acknowledged: release ring space. */
static int
cb_acked_stream_data_offset(ngtcp2_conn *qc, int64_t sid, uint64_t offset,
    uint64_t len, void *ud, void *sud)
{
	struct hq_conn		*c = ud;
	struct hq_stream	*s = sud;

	(void)qc;
	if (s == NULL)
		return (0);
	if (offset + len > s->acked)
		s->acked = offset + len;
	if (s->want_writable && stream_space(c, s) > 0) {
		s->want_writable = 0;
		if (c->ep->cb.stream_writable != NULL &&
		    c->state < HQ_CS_CLOSING)
			c->ep->cb.stream_writable(c, sid, c->ep->cb_arg);
	}
	if (c->close_req)
		hq_conn_dirty(c);
	return (0);
}

/* The peer raised a stream's flow-control limit. */
static int
cb_extend_max_stream_data(ngtcp2_conn *qc, int64_t sid, uint64_t max,
    void *ud, void *sud)
{
	struct hq_stream	*s = sud;

	(void)qc;
	(void)sid;
	(void)max;
	if (s != NULL)
		s->blocked = 0;
	hq_conn_dirty(ud);
	return (0);
}

/* A stream is fully closed. */
static int
cb_stream_close(ngtcp2_conn *qc, uint32_t flags, int64_t sid,
    uint64_t app_error, void *ud, void *sud)
{
	struct hq_conn		*c = ud;
	struct hq_stream	*s = sud;

	(void)qc;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		app_error = 0;
	if (c->ep->cb.stream_close != NULL && c->state < HQ_CS_CLOSING)
		c->ep->cb.stream_close(c, sid, app_error, c->ep->cb_arg);
	if (s == NULL)
		s = stream_find(c, sid);
	if (s != NULL)
		stream_del(c, s);
	return (0);
}

/* The peer reset its sending side: abort the whole stream. */
static int
cb_stream_reset(ngtcp2_conn *qc, int64_t sid, uint64_t final_size,
    uint64_t app_error, void *ud, void *sud)
{
	struct hq_stream	*s = sud;

	(void)final_size;
	(void)ud;
	if (s != NULL)
		s->shut = 1;
	(void)hq_compat_shutdown_stream(qc, sid, app_error);
	return (0);
}

/* A DATAGRAM frame arrived. */
static int
cb_recv_datagram(ngtcp2_conn *qc, uint32_t flags, const uint8_t *data,
    size_t len, void *ud)
{
	struct hq_conn	*c = ud;

	(void)qc;
	(void)flags;
	if (c->ep->cb.datagram != NULL && c->state < HQ_CS_CLOSING)
		c->ep->cb.datagram(c, data, len, c->ep->cb_arg);
	return (0);
}

/* Issue a new CID (server: derived reset token and map entry). */
static int
cb_get_new_connection_id(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token,
    size_t cidlen, void *ud)
{
	struct hq_conn	*c = ud;

	(void)qc;
	if (c->ep->server)
		return (hq_server_new_cid(c, cid, token, cidlen) == 0 ? 0 :
		    NGTCP2_ERR_CALLBACK_FAILURE);
	if (hq_random(cid->data, cidlen) != 0 ||
	    hq_random(token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
		return (NGTCP2_ERR_CALLBACK_FAILURE);
	cid->datalen = cidlen;
	return (0);
}

/* A CID was retired (server: unmap it). */
static int
cb_remove_connection_id(ngtcp2_conn *qc, const ngtcp2_cid *cid, void *ud)
{
	(void)qc;
	hq_server_del_cid(ud, cid);
	return (0);
}

/* Client: the server gave us a token for the next connection. */
static int
cb_recv_new_token(HQ_RECV_NEW_TOKEN_PARAMS)
{
	struct hq_conn	*c = user_data;

	(void)conn;
	if (c->ep->cb.new_token != NULL)
		c->ep->cb.new_token(c, HQ_RECV_NEW_TOKEN_PTR,
		    HQ_RECV_NEW_TOKEN_LEN, c->ep->cb_arg);
	return (0);
}

/* Client: a stateless reset ended the connection (read_pkt drains next). */
static int
cb_recv_stateless_reset(ngtcp2_conn *qc, const ngtcp2_pkt_stateless_reset *sr,
    void *ud)
{
	(void)qc;
	(void)sr;
	((struct hq_conn *)ud)->got_reset = 1;
	return (0);
}

/* Fill the ngtcp2 callback table (designated: member order differs). */
void
hq_conn_callbacks(ngtcp2_callbacks *cb, int server)
{
	memset(cb, 0, sizeof(*cb));
	cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb->encrypt = ngtcp2_crypto_encrypt_cb;
	cb->decrypt = ngtcp2_crypto_decrypt_cb;
	cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb->update_key = ngtcp2_crypto_update_key_cb;
	cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
	cb->rand = hq_rand_cb;
	cb->get_new_connection_id = cb_get_new_connection_id;
	cb->handshake_completed = cb_handshake_completed;
	cb->stream_open = cb_stream_open;
	cb->recv_stream_data = cb_recv_stream_data;
	cb->acked_stream_data_offset = cb_acked_stream_data_offset;
	cb->extend_max_stream_data = cb_extend_max_stream_data;
	cb->stream_close = cb_stream_close;
	cb->stream_reset = cb_stream_reset;
	cb->recv_datagram = cb_recv_datagram;
	if (server) {
		cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
		cb->remove_connection_id = cb_remove_connection_id;
	} else {
		cb->client_initial = ngtcp2_crypto_client_initial_cb;
		cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
		cb->recv_new_token = cb_recv_new_token;
		cb->recv_stateless_reset = cb_recv_stateless_reset;
	}
}

/* Settings and transport parameters common to both sides. */
void
hq_conn_settings(struct hq_conn *c, ngtcp2_settings *set,
    ngtcp2_transport_params *p)
{
	const struct hq_transport	*tp = &c->ep->tp;

	ngtcp2_settings_default(set);
	set->initial_ts = c->t_start;
	set->handshake_timeout = tp->handshake_timeout_ms * NGTCP2_MILLISECONDS;
	set->max_stream_window = 4 * tp->max_stream_data;
	set->max_window = 4 * tp->max_data;
	set->max_tx_udp_payload_size = tp->max_udp_payload;

	ngtcp2_transport_params_default(p);
	p->initial_max_streams_bidi = tp->max_streams_bidi;
	p->initial_max_streams_uni = tp->max_streams_uni;
	p->initial_max_stream_data_bidi_local = tp->max_stream_data;
	p->initial_max_stream_data_bidi_remote = tp->max_stream_data;
	p->initial_max_stream_data_uni = tp->max_stream_data;
	p->initial_max_data = tp->max_data;
	/* ngtcp2's default is 0 = never: always set it (QUIC-NOTES 10). */
	p->max_idle_timeout = tp->idle_timeout_ms * NGTCP2_MILLISECONDS;
	p->max_udp_payload_size = tp->max_udp_payload;
	p->active_connection_id_limit = 7;
	p->max_datagram_frame_size = tp->datagrams ? HQ_DGRAM_MAX + 64 : 0;
	p->disable_active_migration = tp->disable_migration ? 1 : 0;
}

/* ---- connection life ---- */

/* Common initialisation of a connection object. */
int
hq_conn_setup(struct hq_conn *c, struct hq_ep *ep, struct hq_sock *s)
{
	c->ep = ep;
	c->sock = s;
	c->half_open = 1;
	ep->stats.conns_half_open++;
	ep->stats.conns_active++;
	c->ref.get_conn = NULL;
	c->ref.user_data = c;
	c->t_start = hq_now();
	TAILQ_INIT(&c->streams);
	ngtcp2_ccerr_default(&c->ccerr);
	c->locallen = s->locallen <= sizeof(c->local) ? s->locallen :
	    sizeof(c->local);
	memcpy(&c->local, &s->local, c->locallen);
	if ((c->timer = evtimer_new(ep->base, conn_timer_cb, c)) == NULL)
		return (HYP_ENOMEM);
	/* The DATAGRAM ring comes with the first hq_conn_send_datagram(). */
	return (0);
}

/* The handshake facts of c, allocated on first use; NULL without memory. */
struct hq_peerinfo *
hq_conn_peerinfo(struct hq_conn *c)
{
	if (c->peer == NULL)
		c->peer = calloc(1, sizeof(*c->peer));
	return (c->peer);
}

/* Stop writing qlog and close its file. */
static void
qlog_close(struct hq_conn *c)
{
	if (c->qlog_on)
		close(c->qlog_fd);
	c->qlog_on = 0;
	c->qlog_fd = -1;
}

/*
 * ngtcp2's qlog writer (user_data: the connection): append to the file
 * opened by qlog_open(), at most HQ_QLOG_MAX bytes; an error stops it.
 */
void
hq_conn_qlog_write(void *user_data, uint32_t flags, const void *data,
    size_t len)
{
	struct hq_conn	*c = user_data;
	const uint8_t	*p = data;
	ssize_t		 n;

	(void)flags;
	if (c == NULL || !c->qlog_on)
		return;
	if (c->qlog_bytes + len > HQ_QLOG_MAX) {
		qlog_close(c);
		return;
	}
	c->qlog_bytes += len;
	while (len > 0) {
		n = write(c->qlog_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			qlog_close(c);
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Free everything the connection holds (not the struct itself). */
void
hq_conn_teardown(struct hq_conn *c)
{
	struct hq_stream	*s;

	while ((s = TAILQ_FIRST(&c->streams)) != NULL)
		stream_del(c, s);
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	free(c->dgq);
	free(c->dglen);
	c->dgq = NULL;
	c->dglen = NULL;
	free(c->closebuf);
	c->closebuf = NULL;
	c->closebuflen = 0;
	if (c->qc != NULL) {
		ngtcp2_conn_del(c->qc);
		c->qc = NULL;
	}
	if (c->tls != NULL) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	qlog_close(c);
	if (c->half_open) {
		c->half_open = 0;
		c->ep->stats.conns_half_open--;
	}
	if (!c->torn_down)
		c->ep->stats.conns_active--;
	c->torn_down = 1;
}

/* Free what teardown keeps for later questions: peer facts, close reason. */
void
hq_conn_free_facts(struct hq_conn *c)
{
	free(c->peer);
	c->peer = NULL;
	free(c->close_reason);
	c->close_reason = NULL;
	c->close_reasonlen = 0;
}

/* The path for ngtcp2: our socket's address and the given remote. */
void
hq_conn_path(struct hq_conn *c, ngtcp2_path *path,
    const struct sockaddr *remote, socklen_t remotelen)
{
	path->local.addr = (ngtcp2_sockaddr *)&c->local;
	path->local.addrlen = c->locallen;
	path->remote.addr = (ngtcp2_sockaddr *)(uintptr_t)remote;
	path->remote.addrlen = remotelen;
	path->user_data = NULL;
}

/* Remember the initial peer address. */
void
hq_conn_set_peer(struct hq_conn *c, const struct sockaddr *sa, socklen_t len)
{
	if (len > sizeof(c->remote))	/* not IPv4/IPv6: cannot happen */
		len = sizeof(c->remote);
	memcpy(&c->remote, sa, len);
	c->remotelen = len;
}

/* Queue c to be written at the end of the current unit of work. */
void
hq_conn_dirty(struct hq_conn *c)
{
	if (c->queued != 0 || c->state == HQ_CS_DEAD)
		return;
	TAILQ_INSERT_TAIL(&c->ep->dirty, c, qentry);
	c->queued = 1;
}

/* Queue c for release at the end of the current unit of work. */
static void
conn_to_dead(struct hq_conn *c)
{
	if (c->queued == 2)
		return;
	if (c->queued == 1)
		TAILQ_REMOVE(&c->ep->dirty, c, qentry);
	c->state = HQ_CS_DEAD;
	if (c->timer != NULL)
		evtimer_del(c->timer);
	TAILQ_INSERT_TAIL(&c->ep->dead, c, qentry);
	c->queued = 2;
}

/* Call closed() once. */
static void
conn_notify(struct hq_conn *c, enum hq_close_kind kind, const ngtcp2_ccerr *e)
{
	struct hq_close_info	ci;

	if (c->closed_fired)
		return;
	c->closed_fired = 1;
	if (!c->hs_fired)
		c->ep->stats.handshakes_failed++;
	memset(&ci, 0, sizeof(ci));
	ci.kind = kind;
	ci.handshake_done = c->hs_fired;
	if (e != NULL) {
		ci.app = e->type == NGTCP2_CCERR_TYPE_APPLICATION;
		ci.error_code = e->error_code;
		ci.reason = (const char *)e->reason;
		ci.reasonlen = e->reasonlen;
	}
	if (c->qc != NULL)
		ci.tls_alert = ngtcp2_conn_get_tls_alert(c->qc);
	hq_logf(c->ep, HQ_LOG_DEBUG, "connection closed: kind %d %s code %llu",
	    (int)kind, ci.app ? "app" : "transport",
	    (unsigned long long)ci.error_code);
	if (c->ep->cb.closed != NULL)
		c->ep->cb.closed(c, &ci, c->ep->cb_arg);
}

/* Tell the caller the connection is gone (endpoint freed), once. */
void
hq_conn_notify_local(struct hq_conn *c, enum hq_close_kind kind)
{
	conn_notify(c, kind, NULL);
}

/* Arm the timer that ends the closing or draining period (3 PTO). */
static void
conn_close_timer(struct hq_conn *c)
{
	struct timeval	tv;
	uint64_t	d = 3 * ngtcp2_conn_get_pto(c->qc);

	tv.tv_sec = (time_t)(d / NGTCP2_SECONDS);
	tv.tv_usec = (suseconds_t)((d % NGTCP2_SECONDS) / 1000);
	evtimer_add(c->timer, &tv);
}

/* End the connection silently (idle, handshake timeout, dropped). */
void
hq_conn_kill(struct hq_conn *c, enum hq_close_kind kind)
{
	if (c->state == HQ_CS_DEAD)
		return;
	conn_notify(c, kind, NULL);
	conn_to_dead(c);
}

/* The peer closed or reset: drain for 3 PTO, sending nothing. */
static void
conn_drain(struct hq_conn *c)
{
	ngtcp2_ccerr	e;

	if (c->state >= HQ_CS_CLOSING)
		return;
	c->state = HQ_CS_DRAINING;
	hq_compat_get_ccerr(c->qc, &e);
	conn_notify(c, c->got_reset ? HQ_CLOSE_RESET : HQ_CLOSE_PEER, &e);
	conn_close_timer(c);
}

/* Write and keep CONNECTION_CLOSE with c->ccerr, then enter closing. */
static void
conn_send_close(struct hq_conn *c, enum hq_close_kind kind)
{
	ngtcp2_path_storage	ps;
	ngtcp2_pkt_info		pi;
	ngtcp2_ssize		n;
	uint8_t			buf[HQ_CLOSEBUF];

	if (c->state >= HQ_CS_CLOSING)
		return;
	c->close_kind = kind;
	if (ngtcp2_conn_in_closing_period(c->qc) ||
	    ngtcp2_conn_in_draining_period(c->qc)) {
		c->state = HQ_CS_CLOSING;
		conn_notify(c, kind, &c->ccerr);
		conn_close_timer(c);
		return;
	}
	ngtcp2_path_storage_zero(&ps);
	memset(&pi, 0, sizeof(pi));
	n = ngtcp2_conn_write_connection_close(c->qc, &ps.path, &pi,
	    buf, sizeof(buf), &c->ccerr, hq_now());
	c->state = HQ_CS_CLOSING;
	conn_notify(c, kind, &c->ccerr);
	if (n <= 0) {
		/* Nothing to send (no keys yet): just go away. */
		conn_to_dead(c);
		return;
	}
	/* Kept for repeats while closing; without memory it is sent once. */
	if ((c->closebuf = malloc((size_t)n)) != NULL) {
		memcpy(c->closebuf, buf, (size_t)n);
		c->closebuflen = (size_t)n;
	}
	(void)hq_sock_send(c->sock, (struct sockaddr *)ps.path.remote.addr,
	    ps.path.remote.addrlen, pi.ecn, buf, (size_t)n, 0, &c->cst);
	conn_close_timer(c);
}

/* Handle an ngtcp2 error code from read, write or expiry. */
void
hq_conn_fail_liberr(struct hq_conn *c, int rv)
{
	if (c->state >= HQ_CS_CLOSING)
		return;
	hq_logf(c->ep, HQ_LOG_DEBUG, "ngtcp2: %s", ngtcp2_strerror(rv));
	switch (rv) {
	case NGTCP2_ERR_IDLE_CLOSE:
		hq_conn_kill(c, HQ_CLOSE_IDLE);
		return;
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		hq_conn_kill(c, HQ_CLOSE_HANDSHAKE_TIMEOUT);
		return;
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_RETRY:
		hq_conn_kill(c, HQ_CLOSE_ERROR);
		return;
	case NGTCP2_ERR_DRAINING:
		conn_drain(c);
		return;
	case NGTCP2_ERR_CRYPTO:
		ngtcp2_ccerr_set_tls_alert(&c->ccerr,
		    ngtcp2_conn_get_tls_alert(c->qc), NULL, 0);
		break;
	default:
		ngtcp2_ccerr_set_liberr(&c->ccerr, rv, NULL, 0);
		break;
	}
	conn_send_close(c, HQ_CLOSE_ERROR);
}

/* Count one datagram read for c. */
static void
conn_count_in(struct hq_conn *c, size_t len)
{
	c->cst.dgrams_in++;
	c->cst.bytes_in += len;
	if (len > c->cst.max_dgram_in)
		c->cst.max_dgram_in = len;
}

/* Feed one datagram to ngtcp2. */
int
hq_conn_read(struct hq_conn *c, const struct hq_rxpkt *pkt)
{
	ngtcp2_path	path;
	ngtcp2_pkt_info	pi;
	int		rv;

	conn_count_in(c, pkt->len);
	if (c->state >= HQ_CS_CLOSING) {
		hq_conn_closing_rx(c, pkt);
		return (0);
	}
	hq_conn_path(c, &path, (const struct sockaddr *)&pkt->from,
	    pkt->fromlen);
	memset(&pi, 0, sizeof(pi));
	pi.ecn = (uint8_t)pkt->ecn;
	rv = ngtcp2_conn_read_pkt(c->qc, &path, &pi, pkt->data, pkt->len,
	    hq_now());
	if (rv == 0) {
		hq_conn_dirty(c);
		return (0);
	}
	hq_conn_fail_liberr(c, rv);
	return (rv);
}

/* A packet arrived while closing: resend CONNECTION_CLOSE with backoff. */
void
hq_conn_closing_rx(struct hq_conn *c, const struct hq_rxpkt *pkt)
{
	if (c->state != HQ_CS_CLOSING || c->closebuflen == 0)
		return;
	c->closing_rx++;
	if ((c->closing_rx & (c->closing_rx - 1)) != 0)
		return;		/* only on the 1st, 2nd, 4th, 8th... */
	(void)hq_sock_send(c->sock, (const struct sockaddr *)&pkt->from,
	    pkt->fromlen, 0, c->closebuf, c->closebuflen, 0, &c->cst);
}

/* ---- write path ---- */

/* Account for stream bytes ngtcp2 accepted. */
static void
stream_advance(struct hq_stream *s, ngtcp2_ssize n, uint32_t flags)
{
	if (n > 0)
		s->sent += (uint64_t)n;
	if ((flags & NGTCP2_WRITE_STREAM_FLAG_FIN) && s->sent == s->queued)
		s->fin_sent = 1;
}

/* Send what the batch holds. */
static void
batch_flush(struct hq_conn *c, const ngtcp2_path *path, unsigned ecn,
    const uint8_t *buf, size_t len, size_t gso)
{
	if (len == 0)
		return;
	(void)hq_sock_send(c->sock, (const struct sockaddr *)path->remote.addr,
	    path->remote.addrlen, ecn, buf, len, gso, &c->cst);
}

/* Write packets until ngtcp2 has nothing more or a burst is full. */
static int
conn_write(struct hq_conn *c)
{
	ngtcp2_path_storage	 ps, prev;
	ngtcp2_pkt_info		 pi;
	ngtcp2_conn		*qc = c->qc;
	uint8_t			*buf = c->ep->tx, *p = buf;
	size_t			 max_udp, path_max, max_pkts, npkts = 0;
	size_t			 gso = 0;
	unsigned		 prev_ecn = 0;
	uint64_t		 ts = hq_now();

	max_udp = ngtcp2_conn_get_max_tx_udp_payload_size(qc);
	path_max = ngtcp2_conn_get_path_max_tx_udp_payload_size(qc);
	if (max_udp > c->ep->tp.max_udp_payload)
		max_udp = c->ep->tp.max_udp_payload;
	max_pkts = ngtcp2_conn_get_send_quantum(qc) / max_udp;
	if (max_pkts == 0)
		max_pkts = 1;
	if (max_pkts > HQ_TX_BATCH)
		max_pkts = HQ_TX_BATCH;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_path_storage_zero(&prev);
	c->wround++;

	for (;;) {
		struct hq_stream	*s = NULL;
		ngtcp2_ssize		 n, ndatalen = -1;
		ngtcp2_vec		 v[2];
		size_t			 nv = 0;
		uint32_t		 flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		int64_t			 sid = -1;
		int			 accepted = 0;

		memset(&pi, 0, sizeof(pi));
		if (c->dgn > 0 && c->hs_done) {
			v[0].base = c->dgq + c->dghead * HQ_DGRAM_MAX;
			v[0].len = c->dglen[c->dghead];
			n = ngtcp2_conn_writev_datagram(qc, &ps.path, &pi, p,
			    max_udp, &accepted, NGTCP2_WRITE_DATAGRAM_FLAG_MORE,
			    c->dgid, v, 1, ts);
			if (accepted || n == NGTCP2_ERR_INVALID_ARGUMENT ||
			    n == NGTCP2_ERR_INVALID_STATE) {
				c->dghead = (c->dghead + 1) % c->dgcap;
				c->dgn--;
				c->dgid++;
			}
			if (n == NGTCP2_ERR_WRITE_MORE ||
			    n == NGTCP2_ERR_INVALID_ARGUMENT ||
			    n == NGTCP2_ERR_INVALID_STATE)
				continue;
		} else {
			TAILQ_FOREACH(s, &c->streams, entry) {
				if (stream_wants_write(c, s))
					break;
			}
			if (s != NULL) {
				sid = s->id;
				nv = stream_unsent(s, v);
				if (s->fin_queued)
					flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
			}
			n = ngtcp2_conn_writev_stream(qc, &ps.path, &pi, p,
			    max_udp, &ndatalen, flags, sid, v, nv, ts);
			if (n < 0) {
				switch (n) {
				case NGTCP2_ERR_STREAM_DATA_BLOCKED:
					s->blocked = 1;
					continue;
				case NGTCP2_ERR_STREAM_SHUT_WR:
				case NGTCP2_ERR_STREAM_NOT_FOUND:
					s->shut = 1;
					continue;
				case NGTCP2_ERR_WRITE_MORE:
					if (ndatalen <= 0 && !(flags &
					    NGTCP2_WRITE_STREAM_FLAG_FIN))
						s->skip = c->wround;
					stream_advance(s, ndatalen, flags);
					/* Round robin between streams. */
					TAILQ_REMOVE(&c->streams, s, entry);
					TAILQ_INSERT_TAIL(&c->streams, s, entry);
					continue;
				default:
					break;
				}
			} else if (s != NULL && ndatalen >= 0)
				stream_advance(s, ndatalen, flags);
		}
		if (n < 0) {
			batch_flush(c, &prev.path, prev_ecn, buf,
			    (size_t)(p - buf), gso);
			hq_conn_fail_liberr(c, (int)n);
			return (-1);
		}
		if (n == 0) {
			batch_flush(c, &prev.path, prev_ecn, buf,
			    (size_t)(p - buf), gso);
			hq_compat_update_pkt_tx_time(qc, ts);
			return (0);
		}
		/* A GSO train: same path and ECN, equal sizes (last shorter). */
		if (npkts > 0 && (!ngtcp2_path_eq(&prev.path, &ps.path) ||
		    prev_ecn != pi.ecn || (size_t)n > gso ||
		    (gso > path_max && (size_t)n != gso) || !c->sock->gso)) {
			batch_flush(c, &prev.path, prev_ecn, buf,
			    (size_t)(p - buf), gso);
			memmove(buf, p, (size_t)n);
			p = buf;
			npkts = 0;
		}
		if (npkts == 0) {
			ngtcp2_path_copy(&prev.path, &ps.path);
			prev_ecn = pi.ecn;
			gso = (size_t)n;
		}
		p += n;
		if (++npkts == max_pkts || (size_t)n < gso) {
			batch_flush(c, &prev.path, prev_ecn, buf,
			    (size_t)(p - buf), gso);
			hq_compat_update_pkt_tx_time(qc, ts);
			return (0);
		}
	}
}

/* 1 if every queued stream byte was acknowledged. */
static int
conn_all_acked(struct hq_conn *c)
{
	struct hq_stream	*s;

	TAILQ_FOREACH(s, &c->streams, entry) {
		if (!s->shut && s->acked < s->queued)
			return (0);
	}
	return (1);
}

/* Re-arm the connection timer from ngtcp2's expiry. */
static void
conn_update_timer(struct hq_conn *c)
{
	struct timeval	tv;
	uint64_t	exp, now, d;

	if (c->state >= HQ_CS_CLOSING)
		return;
	exp = ngtcp2_conn_get_expiry(c->qc);
	if (c->close_req && c->close_flush && c->close_deadline < exp)
		exp = c->close_deadline;
	if (exp == UINT64_MAX) {
		evtimer_del(c->timer);
		return;
	}
	now = hq_now();
	d = exp > now ? exp - now : 0;
	tv.tv_sec = (time_t)(d / NGTCP2_SECONDS);
	tv.tv_usec = (suseconds_t)((d % NGTCP2_SECONDS) / 1000);
	evtimer_add(c->timer, &tv);
}

/* Write pending packets, or the requested close, and re-arm the timer. */
static void
conn_flush(struct hq_conn *c)
{
	if (c->state >= HQ_CS_CLOSING)
		return;
	if (c->close_req && (!c->close_flush || conn_all_acked(c) ||
	    hq_now() >= c->close_deadline)) {
		if (c->close_transport)
			ngtcp2_ccerr_set_transport_error(&c->ccerr,
			    c->close_code, (const uint8_t *)c->close_reason,
			    c->close_reasonlen);
		else
			ngtcp2_ccerr_set_application_error(&c->ccerr,
			    c->close_code, (const uint8_t *)c->close_reason,
			    c->close_reasonlen);
		/* Send what is still queued (e.g. a Disconnect) with it. */
		if (!c->close_flush)
			(void)conn_write(c);
		if (c->state < HQ_CS_CLOSING)
			conn_send_close(c, HQ_CLOSE_LOCAL);
		return;
	}
	if (conn_write(c) != 0)
		return;
	conn_update_timer(c);
}

/* Timer: expiry, pacing, or the end of closing/draining. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hq_conn	*c = arg;
	struct hq_ep	*ep = c->ep;
	int		 rv;

	(void)fd;
	(void)what;
	hq_ep_enter(ep);
	switch (c->state) {
	case HQ_CS_CLOSING:
	case HQ_CS_DRAINING:
		conn_to_dead(c);
		break;
	case HQ_CS_DEAD:
		break;
	default:
		rv = ngtcp2_conn_handle_expiry(c->qc, hq_now());
		if (rv != 0)
			hq_conn_fail_liberr(c, rv);
		else
			hq_conn_dirty(c);
		break;
	}
	(void)hq_ep_leave(ep);
}

/* ---- public connection API ---- */

/* Set the caller's pointer. */
void
hq_conn_set_user(hq_conn_t *c, void *user)
{
	c->user = user;
}

/* Get the caller's pointer. */
void *
hq_conn_user(const hq_conn_t *c)
{
	return (c->user);
}

/* 1 once established() was called. */
int
hq_conn_established(const hq_conn_t *c)
{
	return (c->hs_fired);
}

/* Negotiated ALPN or "". */
const char *
hq_conn_alpn(const hq_conn_t *c)
{
	return (c->peer != NULL ? c->peer->alpn : "");
}

/* SNI (server: received; client: sent) or "". */
const char *
hq_conn_sni(const hq_conn_t *c)
{
	return (c->peer != NULL ? c->peer->sni : "");
}

/* Peer certificate fingerprint, or NULL. */
const char *
hq_conn_peer_fp(const hq_conn_t *c)
{
	return (c->peer != NULL && c->peer->have_fp ? c->peer->fp : NULL);
}

/* Current peer address (the path ngtcp2 uses). */
const struct sockaddr *
hq_conn_peer(const hq_conn_t *c, socklen_t *len)
{
	const ngtcp2_path	*path;

	if (c->qc != NULL) {
		path = ngtcp2_conn_get_path(c->qc);
		if (len != NULL)
			*len = path->remote.addrlen;
		return ((const struct sockaddr *)path->remote.addr);
	}
	if (len != NULL)
		*len = c->remotelen;
	return ((const struct sockaddr *)&c->remote);
}

/* How the server validated the client address. */
enum hq_validation
hq_conn_validation(const hq_conn_t *c)
{
	return (c->validated);
}

/* Handshake duration, or 0 before completion. */
uint64_t
hq_conn_handshake_ns(const hq_conn_t *c)
{
	return (c->t_hs != 0 ? c->t_hs - c->t_start : 0);
}

/* Smoothed RTT. */
uint64_t
hq_conn_rtt_ns(const hq_conn_t *c)
{
	return (c->qc != NULL ? hq_compat_smoothed_rtt(c->qc) : 0);
}

/* Copy the counters. */
void
hq_conn_stats(const hq_conn_t *c, struct hq_conn_stats *out)
{
	*out = c->cst;
}

/* Request a close; the work happens in conn_flush(). */
static int
conn_close_req(hq_conn_t *c, int transport, uint64_t code,
    const char *reason, int flags)
{
	size_t	len = reason != NULL ? strlen(reason) : 0;

	if (c->state >= HQ_CS_CLOSING || c->close_req)
		return (0);
	if (len > HQ_REASON_MAX)
		len = HQ_REASON_MAX;
	/* Without memory the close goes out without its reason phrase. */
	if (len > 0 && (c->close_reason = malloc(len)) == NULL)
		len = 0;
	if (len > 0)
		memcpy(c->close_reason, reason, len);
	c->close_reasonlen = len;
	c->close_code = code;
	c->close_transport = transport;
	c->close_req = 1;
	c->close_flush = (flags & HQ_CLOSE_FLUSH) != 0;
	c->close_deadline = hq_now() + HQ_FLUSH_TIMEOUT_NS;
	hq_ep_enter(c->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(c->ep);
	return (0);
}

/* Request an application close. */
int
hq_conn_close(hq_conn_t *c, uint64_t app_code, const char *reason,
    int flags)
{
	return (conn_close_req(c, 0, app_code, reason, flags));
}

/* Request a close with a QUIC transport error code. */
int
hq_conn_close_transport(hq_conn_t *c, uint64_t error_code,
    const char *reason)
{
	return (conn_close_req(c, 1, error_code, reason, 0));
}

/* Open a local stream of either direction. */
static int
stream_open(hq_conn_t *c, int64_t *sid, int bidi)
{
	int	rv;

	if (c->qc == NULL || c->state >= HQ_CS_CLOSING || c->close_req)
		return (HYP_EINVAL);
	rv = bidi ? ngtcp2_conn_open_bidi_stream(c->qc, sid, NULL) :
	    ngtcp2_conn_open_uni_stream(c->qc, sid, NULL);
	if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED)
		return (HYP_EAGAIN);
	if (rv != 0)
		return (HYP_EINVAL);
	if (stream_add(c, *sid) == NULL) {
		(void)hq_compat_shutdown_stream(c->qc, *sid, 0);
		return (HYP_ENOMEM);
	}
	return (0);
}

/* Open a local bidirectional stream. */
int
hq_stream_open_bidi(hq_conn_t *c, int64_t *sid)
{
	return (stream_open(c, sid, 1));
}

/* Open a local unidirectional stream. */
int
hq_stream_open_uni(hq_conn_t *c, int64_t *sid)
{
	return (stream_open(c, sid, 0));
}

/* 1 if we may send on sid (our streams, or the peer's bidi streams). */
static int
stream_sendable(const hq_conn_t *c, int64_t sid)
{
	int	local = ((sid & 0x1) != 0) == (c->ep->server != 0);

	return (local || ngtcp2_is_bidi_stream(sid));
}

/* Copy data into the stream's send ring and schedule a write. */
ssize_t
hq_stream_send(hq_conn_t *c, int64_t sid, const void *data, size_t len,
    int fin)
{
	struct hq_stream	*s;
	size_t			 n, off, first;

	if (c->state >= HQ_CS_CLOSING || c->close_req)
		return (-EPIPE);
	if ((s = stream_find(c, sid)) == NULL || !stream_sendable(c, sid))
		return (HYP_ENOENT);
	if (s->shut)
		return (-EPIPE);
	if (s->fin_queued)
		return (HYP_EINVAL);
	if (s->buf == NULL && len > 0) {
		s->cap = c->ep->tp.stream_sndbuf;
		if ((s->buf = malloc(s->cap)) == NULL)
			return (HYP_ENOMEM);
	}
	n = stream_space(c, s);
	if (n > len)
		n = len;
	if (n > 0) {
		off = (size_t)(s->queued % s->cap);
		first = s->cap - off;
		if (first > n)
			first = n;
		memcpy(s->buf + off, data, first);
		if (n > first)
			memcpy(s->buf, (const uint8_t *)data + first, n - first);
		s->queued += n;
	}
	if (n < len)
		s->want_writable = 1;
	else if (fin)
		s->fin_queued = 1;
	hq_ep_enter(c->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(c->ep);
	return ((ssize_t)n);
}

/* Free bytes in the stream's send ring. */
size_t
hq_stream_send_space(hq_conn_t *c, int64_t sid)
{
	struct hq_stream	*s = stream_find(c, sid);

	if (s == NULL || s->shut || s->fin_queued)
		return (0);
	return (stream_space(c, s));
}

/* Return deferred flow-control credit. */
int
hq_stream_consume(hq_conn_t *c, int64_t sid, size_t n)
{
	if (c->qc == NULL || c->state >= HQ_CS_CLOSING)
		return (HYP_EINVAL);
	ngtcp2_conn_extend_max_stream_offset(c->qc, sid, n);
	ngtcp2_conn_extend_max_offset(c->qc, n);
	hq_ep_enter(c->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(c->ep);
	return (0);
}

/* Abort a stream in both directions. */
int
hq_stream_reset(hq_conn_t *c, int64_t sid, uint64_t app_code)
{
	struct hq_stream	*s = stream_find(c, sid);

	if (c->qc == NULL || c->state >= HQ_CS_CLOSING)
		return (HYP_EINVAL);
	if (s != NULL)
		s->shut = 1;
	if (hq_compat_shutdown_stream(c->qc, sid, app_code) != 0)
		return (HYP_ENOENT);
	hq_ep_enter(c->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(c->ep);
	return (0);
}

/* Queue one DATAGRAM frame. */
int
hq_conn_send_datagram(hq_conn_t *c, const void *data, size_t len)
{
	const ngtcp2_transport_params	*p;
	size_t				 i;

	if (!c->ep->tp.datagrams)
		return (HYP_ENOTSUP);
	if (c->state >= HQ_CS_CLOSING || c->close_req)
		return (-EPIPE);
	if (c->hs_done) {
		p = ngtcp2_conn_get_remote_transport_params(c->qc);
		if (p == NULL || p->max_datagram_frame_size == 0)
			return (HYP_ENOTSUP);
	}
	if (len > HQ_DGRAM_MAX)
		return (HYP_ERANGE);
	if (c->dgq == NULL) {
		c->dgq = malloc(c->ep->tp.datagram_queue * HQ_DGRAM_MAX);
		c->dglen = calloc(c->ep->tp.datagram_queue, sizeof(*c->dglen));
		if (c->dgq == NULL || c->dglen == NULL) {
			free(c->dgq);
			free(c->dglen);
			c->dgq = NULL;
			c->dglen = NULL;
			return (HYP_ENOMEM);
		}
		c->dgcap = c->ep->tp.datagram_queue;
	}
	if (c->dgn == c->dgcap)
		return (HYP_ENOSPC);
	i = (c->dghead + c->dgn) % c->dgcap;
	memcpy(c->dgq + i * HQ_DGRAM_MAX, data, len);
	c->dglen[i] = (uint16_t)len;
	c->dgn++;
	hq_ep_enter(c->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(c->ep);
	return (0);
}
