/*
 * server.c: the server endpoint: listening sockets, packet dispatch by
 * connection ID, version negotiation, Retry and NEW_TOKEN validation,
 * admission, stateless resets and stateless refusals.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "quic_int.h"

struct hq_server {
	struct hq_ep		 ep;	/* first: conn->ep casts back */
	struct hq_sock		 socks[HQ_MAX_LISTEN];
	size_t			 nsocks;
	struct hq_cidmap	 map;
	struct hq_tokens	 tok;
	struct hq_connq		 conns;
	size_t			 nconns;
	size_t			 max_conns;
	enum hq_retry_policy	 retry;
	size_t			 retry_threshold;
	int			 no_new_token;
	struct hq_conn		*spare;	/* allocated before admit() */
	int			(*qlog_open)(void *, void *, const uint8_t *,
				    size_t);
};

static void	server_release(struct hq_conn *c);
static void	server_destroy(void *owner);

static const struct hq_ep_ops server_ops = {
	.release = server_release,
	.destroy = server_destroy,
};

/* The server that owns c. */
static struct hq_server *
conn_server(struct hq_conn *c)
{
	return ((struct hq_server *)(void *)c->ep);
}

/* ngtcp2_crypto_conn_ref: the ngtcp2 connection of a TLS session. */
static ngtcp2_conn *
server_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return (((struct hq_conn *)ref->user_data)->qc);
}

/* Send a stateless packet back to where pkt came from. */
static void
reply(struct hq_sock *sock, const struct hq_rxpkt *pkt, const uint8_t *buf,
    ngtcp2_ssize n)
{
	if (n > 0)
		(void)hq_sock_send(sock, (const struct sockaddr *)&pkt->from,
		    pkt->fromlen, 0, buf, (size_t)n, 0, NULL);
}

/* Answer an unsupported version with Version Negotiation (rate-limited). */
static void
send_vn(struct hq_server *srv, struct hq_sock *sock,
    const struct hq_rxpkt *pkt, const ngtcp2_version_cid *vc)
{
	uint8_t		buf[256];
	uint32_t	sv[2];
	uint8_t		unused;
	ngtcp2_ssize	n;

	if (pkt->len < NGTCP2_MAX_UDP_PAYLOAD_SIZE ||
	    !hq_reset_allow(&srv->tok, hq_now())) {
		srv->ep.stats.dgrams_dropped++;
		return;
	}
	if (hq_random(sv, sizeof(sv[0])) != 0 ||
	    hq_random(&unused, 1) != 0)
		return;
	sv[0] = (sv[0] & 0xf0f0f0f0u) | 0x0a0a0a0au;	/* grease */
	sv[1] = NGTCP2_PROTO_VER_V1;
	/* The DCID of a VN is the client's SCID and vice versa. */
	n = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), unused,
	    vc->scid, vc->scidlen, vc->dcid, vc->dcidlen, sv, 2);
	if (n > 0) {
		srv->ep.stats.vn_sent++;
		reply(sock, pkt, buf, n);
	}
}

/* Answer a token-less Initial with a Retry carrying a sealed token. */
static void
send_retry(struct hq_server *srv, struct hq_sock *sock,
    const struct hq_rxpkt *pkt, const ngtcp2_pkt_hd *hd)
{
	uint8_t		tok[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	uint8_t		buf[HQ_CLOSEBUF];
	ngtcp2_cid	scid;
	ngtcp2_ssize	toklen, n;
	size_t		max = sizeof(buf);

	scid.datalen = HQ_SCID_LEN;
	if (hq_random(scid.data, scid.datalen) != 0)
		return;
	toklen = hq_token_retry_new(&srv->tok, tok, hd->version,
	    (const struct sockaddr *)&pkt->from, pkt->fromlen, &scid,
	    &hd->dcid);
	if (toklen < 0)
		return;
	if (max > 3 * pkt->len)	/* anti-amplification */
		max = 3 * pkt->len;
	n = ngtcp2_crypto_write_retry(buf, max, hd->version, &hd->scid, &scid,
	    &hd->dcid, tok, (size_t)toklen);
	if (n > 0) {
		srv->ep.stats.retries_sent++;
		reply(sock, pkt, buf, n);
	}
}

/* Refuse an Initial without creating state (CONNECTION_CLOSE in Initial). */
static void
send_refusal(struct hq_sock *sock, const struct hq_rxpkt *pkt,
    const ngtcp2_pkt_hd *hd, uint64_t err)
{
	uint8_t		buf[HQ_CLOSEBUF];
	ngtcp2_ssize	n;

	n = ngtcp2_crypto_write_connection_close(buf, sizeof(buf), hd->version,
	    &hd->scid, &hd->dcid, err, NULL, 0);
	reply(sock, pkt, buf, n);
}

/* Answer a short-header packet for an unknown CID with a stateless reset. */
static void
send_reset(struct hq_server *srv, struct hq_sock *sock,
    const struct hq_rxpkt *pkt, const uint8_t *dcid, size_t dcidlen)
{
	uint8_t		token[NGTCP2_STATELESS_RESET_TOKENLEN];
	uint8_t		rnd[NGTCP2_MAX_CIDLEN + 22];
	uint8_t		buf[64];
	ngtcp2_cid	cid;
	size_t		randlen;
	ngtcp2_ssize	n;

	if (!hq_reset_allow(&srv->tok, hq_now())) {
		srv->ep.stats.resets_suppressed++;
		return;
	}
	ngtcp2_cid_init(&cid, dcid, dcidlen);
	if (hq_reset_token(&srv->tok, token, &cid) != 0)
		return;
	/* Shorter than the trigger, so two endpoints cannot loop. */
	if (pkt->len <= 43)
		randlen = pkt->len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
	else
		randlen = NGTCP2_MAX_CIDLEN + 22 - NGTCP2_STATELESS_RESET_TOKENLEN;
	if (randlen < NGTCP2_MIN_STATELESS_RESET_RANDLEN ||
	    hq_random(rnd, randlen) != 0)
		return;
	n = ngtcp2_pkt_write_stateless_reset(buf, sizeof(buf), token, rnd,
	    randlen);
	if (n > 0) {
		srv->ep.stats.resets_sent++;
		reply(sock, pkt, buf, n);
	}
}

/* Ask the owner whether c writes qlog; enable it in set if so. */
static void
qlog_setup(struct hq_server *srv, struct hq_conn *c, ngtcp2_settings *set,
    const ngtcp2_cid *odcid)
{
	int	fd;

	fd = srv->qlog_open(srv->ep.cb_arg, c->user, odcid->data,
	    odcid->datalen);
	if (fd < 0)
		return;
	c->qlog_fd = fd;
	c->qlog_on = 1;
	hq_compat_settings_set_qlog(set, hq_conn_qlog_write, odcid);
}

/*
 * Create the state of an admitted connection from its first Initial in c
 * (zeroed, allocated before admit()).  On failure closed() is called, as
 * for every admitted connection, and c is freed.
 */
static struct hq_conn *
conn_create(struct hq_server *srv, struct hq_conn *c, struct hq_sock *sock,
    const struct hq_rxpkt *pkt, const ngtcp2_pkt_hd *hd,
    enum hq_validation validated, const ngtcp2_cid *odcid, void *user)
{
	ngtcp2_callbacks	 cb;
	ngtcp2_settings		 set;
	ngtcp2_transport_params	 p;
	ngtcp2_path		 path;
	ngtcp2_cid		 scid;
	int			 rv;

	c->user = user;
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	if (hq_conn_setup(c, &srv->ep, sock) != 0)
		goto fail;
	c->ref.get_conn = server_get_conn;
	c->validated = validated;
	hq_conn_set_peer(c, (const struct sockaddr *)&pkt->from, pkt->fromlen);
	scid.datalen = HQ_SCID_LEN;
	if (hq_random(scid.data, scid.datalen) != 0)
		goto fail;

	hq_conn_settings(c, &set, &p);
	if (validated != HQ_VALID_NONE)
		hq_compat_settings_set_token(&set, HQ_HD_TOKEN(hd),
		    HQ_HD_TOKENLEN(hd), validated == HQ_VALID_RETRY);
	p.stateless_reset_token_present = 1;
	if (hq_reset_token(&srv->tok, p.stateless_reset_token, &scid) != 0)
		goto fail;
	if (validated == HQ_VALID_RETRY) {
		hq_compat_params_set_odcid(&p, odcid);
		p.retry_scid = hd->dcid;
		p.retry_scid_present = 1;
	} else
		hq_compat_params_set_odcid(&p, &hd->dcid);
	if (srv->qlog_open != NULL)
		qlog_setup(srv, c, &set, validated == HQ_VALID_RETRY ? odcid :
		    &hd->dcid);

	hq_conn_callbacks(&cb, 1);
	hq_conn_path(c, &path, (const struct sockaddr *)&pkt->from,
	    pkt->fromlen);
	rv = ngtcp2_conn_server_new(&c->qc, &hd->scid, &scid, &path,
	    hd->version, &cb, &set, &p, NULL, c);
	if (rv != 0) {
		hq_logf(&srv->ep, HQ_LOG_WARN, "ngtcp2_conn_server_new: %s",
		    ngtcp2_strerror(rv));
		c->qc = NULL;
		goto fail;
	}
	if (hq_tls_session_server(c) != 0)
		goto fail;
	ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);
	/* The client's chosen DCID and our first SCID route to c. */
	if (hq_cidmap_add(&srv->map, hd->dcid.data, hd->dcid.datalen, c) != 0 ||
	    hq_cidmap_add(&srv->map, scid.data, scid.datalen, c) != 0)
		goto fail;
	return (c);
fail:
	/* Admitted: the caller hears of it (DEAD first: no API works now). */
	c->state = HQ_CS_DEAD;
	hq_conn_notify_local(c, HQ_CLOSE_ERROR);
	server_release(c);
	return (NULL);
}

/* 1 if a token-less Initial must be answered with Retry. */
static int
need_retry(const struct hq_server *srv)
{
	switch (srv->retry) {
	case HQ_RETRY_ALWAYS:
		return (1);
	case HQ_RETRY_ON_LOAD:
		return (srv->ep.stats.conns_half_open >= srv->retry_threshold);
	default:
		return (0);
	}
}

/* A datagram for no known connection: maybe a new one. */
static void
server_accept(struct hq_server *srv, struct hq_sock *sock,
    const struct hq_rxpkt *pkt, const ngtcp2_version_cid *vc)
{
	struct hq_stats		*st = &srv->ep.stats;
	const struct sockaddr	*sa = (const struct sockaddr *)&pkt->from;
	enum hq_validation	 validated = HQ_VALID_NONE;
	ngtcp2_pkt_hd		 hd;
	ngtcp2_cid		 odcid;
	const uint8_t		*tok;
	size_t			 toklen;
	struct hq_conn		*c;
	void			*user = NULL;

	if (ngtcp2_accept(&hd, pkt->data, pkt->len) != 0) {
		if (!(pkt->data[0] & 0x80) && pkt->len >= HQ_SCID_LEN + 22)
			send_reset(srv, sock, pkt, vc->dcid, vc->dcidlen);
		else
			st->dgrams_dropped++;
		return;
	}
	if (hd.type != NGTCP2_PKT_INITIAL) {	/* 0-RTT first: no 0-RTT */
		st->dgrams_dropped++;
		return;
	}
	if (srv->nconns >= srv->max_conns) {
		st->admissions_refused++;
		send_refusal(sock, pkt, &hd, NGTCP2_CONNECTION_REFUSED);
		return;
	}
	tok = HQ_HD_TOKEN(&hd);
	toklen = HQ_HD_TOKENLEN(&hd);
	if (toklen > 0 && tok[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		if (hq_token_retry_check(&srv->tok, &odcid, tok, toklen,
		    hd.version, sa, pkt->fromlen, &hd.dcid) != 0) {
			st->tokens_invalid++;
			send_refusal(sock, pkt, &hd, NGTCP2_INVALID_TOKEN);
			return;
		}
		validated = HQ_VALID_RETRY;
		st->retry_tokens_ok++;
	} else if (toklen > 0) {
		if (tok[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR &&
		    hq_token_regular_check(&srv->tok, tok, toklen, sa,
		    pkt->fromlen) == 0) {
			validated = HQ_VALID_NEW_TOKEN;
			st->new_tokens_ok++;
		} else
			st->tokens_invalid++;
	}
	if (validated == HQ_VALID_NONE && need_retry(srv)) {
		send_retry(srv, sock, pkt, &hd);
		return;
	}
	/*
	 * The connection's memory exists before admit(): once admitted it
	 * always gets its closed().  A refusal keeps it for the next one.
	 */
	if (srv->spare == NULL &&
	    (srv->spare = calloc(1, sizeof(*srv->spare))) == NULL) {
		st->dgrams_dropped++;
		return;
	}
	if (srv->ep.cb.admit != NULL && srv->ep.cb.admit(srv->ep.cb_arg, sa,
	    pkt->fromlen, (int)validated, &user) < 0) {
		st->admissions_refused++;
		send_refusal(sock, pkt, &hd, NGTCP2_CONNECTION_REFUSED);
		return;
	}
	c = srv->spare;
	srv->spare = NULL;
	if ((c = conn_create(srv, c, sock, pkt, &hd, validated, &odcid,
	    user)) == NULL) {
		st->dgrams_dropped++;
		return;
	}
	(void)hq_conn_read(c, pkt);
}

/* Dispatch one datagram. */
static void
server_packet(struct hq_server *srv, struct hq_sock *sock,
    const struct hq_rxpkt *pkt)
{
	ngtcp2_version_cid	 vc;
	struct hq_conn		*c;
	int			 rv;

	if (pkt->len == 0) {
		srv->ep.stats.dgrams_dropped++;
		return;
	}
	rv = ngtcp2_pkt_decode_version_cid(&vc, pkt->data, pkt->len,
	    HQ_SCID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		send_vn(srv, sock, pkt, &vc);
		return;
	}
	if (rv != 0) {
		srv->ep.stats.dgrams_dropped++;
		return;
	}
	c = hq_cidmap_get(&srv->map, vc.dcid, vc.dcidlen);
	if (c == NULL) {
		server_accept(srv, sock, pkt, &vc);
		return;
	}
	if (c->state == HQ_CS_DEAD)
		return;
	(void)hq_conn_read(c, pkt);
}

/* Listening socket readable: read batches, then write once per batch. */
static void
server_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct hq_sock		*sock = arg;
	struct hq_server	*srv = (struct hq_server *)(void *)sock->ep;
	int			 i, n, round;

	(void)fd;
	(void)what;
	hq_ep_enter(&srv->ep);
	for (round = 0; round < HQ_RX_ROUNDS; round++) {
		n = hq_sock_recv(sock, &srv->ep.rx);
		for (i = 0; i < n; i++)
			server_packet(srv, sock, &srv->ep.rx.pkt[i]);
		if (n < HQ_RX_BATCH)
			break;
	}
	(void)hq_ep_leave(&srv->ep);
}

/* ---- hooks from conn.c ---- */

/* Issue a mapped server CID with its derived reset token. */
int
hq_server_new_cid(struct hq_conn *c, ngtcp2_cid *cid, uint8_t *token,
    size_t cidlen)
{
	struct hq_server	*srv = conn_server(c);
	int			 tries;

	for (tries = 0; tries < 4; tries++) {
		if (hq_random(cid->data, cidlen) != 0)
			return (HYP_EAGAIN);
		cid->datalen = cidlen;
		if (hq_cidmap_add(&srv->map, cid->data, cidlen, c) == 0)
			return (hq_reset_token(&srv->tok, token, cid));
	}
	return (HYP_ENOSPC);
}

/* Unmap a retired CID. */
void
hq_server_del_cid(struct hq_conn *c, const ngtcp2_cid *cid)
{
	hq_cidmap_del(&conn_server(c)->map, cid->data, cid->datalen);
}

/* Send a NEW_TOKEN token after the handshake. */
void
hq_server_hs_done(struct hq_conn *c)
{
	struct hq_server	*srv = conn_server(c);
	uint8_t			 tok[NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN];
	const ngtcp2_path	*path;
	ngtcp2_ssize		 n;

	if (srv->no_new_token || srv->tok.regular_life_ns == 0)
		return;
	path = ngtcp2_conn_get_path(c->qc);
	n = hq_token_regular_new(&srv->tok, tok,
	    (const struct sockaddr *)path->remote.addr, path->remote.addrlen);
	if (n > 0)
		(void)ngtcp2_conn_submit_new_token(c->qc, tok, (size_t)n);
}

/* Free a dead connection: unmap, unlink, free. */
static void
server_release(struct hq_conn *c)
{
	struct hq_server	*srv = conn_server(c);

	hq_cidmap_del_conn(&srv->map, c);
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	hq_conn_teardown(c);
	hq_conn_free_facts(c);
	free(c);
}

/*
 * Free the server and every connection.  Connections whose closed() has
 * not fired yet get it now (HQ_CLOSE_LOCAL), after all of them were made
 * DEAD so that nothing a callback calls can queue work.
 */
static void
server_destroy(void *owner)
{
	struct hq_server	*srv = owner;
	struct hq_conn		*c;
	size_t			 i;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (c->queued == 1)
			TAILQ_REMOVE(&srv->ep.dirty, c, qentry);
		else if (c->queued == 2)
			TAILQ_REMOVE(&srv->ep.dead, c, qentry);
		c->queued = 0;
		c->state = HQ_CS_DEAD;
		if (c->timer != NULL)
			evtimer_del(c->timer);
	}
	srv->ep.busy++;		/* a nested hq_server_free() only marks */
	TAILQ_FOREACH(c, &srv->conns, entry)
		hq_conn_notify_local(c, HQ_CLOSE_LOCAL);
	srv->ep.busy--;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		server_release(c);
	free(srv->spare);
	for (i = 0; i < srv->nsocks; i++)
		hq_sock_close(&srv->socks[i]);
	hq_tls_free(&srv->ep.tls);
	hq_cidmap_free(&srv->map);
	hq_tokens_wipe(&srv->tok);
	hq_ep_free_bufs(&srv->ep);
	free(srv);
}

/* ---- public ---- */

/* Create the server: TLS, CID map, tokens, sockets. */
int
hq_server_new(struct event_base *base, const struct hq_server_config *cfg,
    hq_server_t **out)
{
	struct hq_server	*srv;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct hq_sock		*s;
	size_t			 i;
	int			 rv;

	*out = NULL;
	if (base == NULL || cfg == NULL || cfg->nlisten == 0 ||
	    cfg->nlisten > HQ_MAX_LISTEN)
		return (HYP_EINVAL);
	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (HYP_ENOMEM);
	rv = hq_ep_init(&srv->ep, base, 1, &cfg->cb, cfg->cb_arg, cfg->log,
	    cfg->log_arg, &cfg->tp);
	srv->ep.ops = &server_ops;
	srv->ep.owner = srv;
	TAILQ_INIT(&srv->conns);
	for (i = 0; i < HQ_MAX_LISTEN; i++)
		srv->socks[i].fd = -1;
	if (rv != 0)
		goto fail;
	srv->no_new_token = cfg->no_new_token;
	srv->qlog_open = cfg->qlog_open;
	srv->max_conns = cfg->max_conns != 0 ? cfg->max_conns : 4096;
	srv->retry = cfg->retry;
	srv->retry_threshold = cfg->retry_threshold != 0 ?
	    cfg->retry_threshold : 64;

	if ((rv = hq_tls_init(&srv->ep.tls, &srv->ep, cfg->priority, cfg->alpn,
	    cfg->nalpn)) != 0)
		goto fail;
	srv->ep.tls.ccert = cfg->client_cert;
	srv->ep.tls.alpn_select = cfg->alpn_select;
	srv->ep.tls.alpn_arg = cfg->cb_arg;
	if ((rv = hq_tls_load_cert(&srv->ep.tls, &srv->ep, &cfg->cert)) != 0)
		goto fail;
	if ((rv = hq_cidmap_init(&srv->map, srv->max_conns * 10)) != 0)
		goto fail;
	if ((rv = hq_tokens_init(&srv->tok, cfg->token_key,
	    cfg->reset_secret)) != 0)
		goto fail;
	if (cfg->new_token_lifetime_s != 0)
		srv->tok.regular_life_ns = cfg->new_token_lifetime_s *
		    NGTCP2_SECONDS;
	if (cfg->retry_token_lifetime_s != 0)
		srv->tok.retry_life_ns = cfg->retry_token_lifetime_s *
		    NGTCP2_SECONDS;
	if (cfg->reset_rate != 0)
		srv->tok.rate = cfg->reset_rate;
	if (cfg->reset_burst != 0)
		srv->tok.burst = srv->tok.bucket = cfg->reset_burst;

	for (i = 0; i < cfg->nlisten; i++) {
		s = &srv->socks[i];
		if ((rv = hq_parse_addr(cfg->listen[i].addr,
		    cfg->listen[i].port, &ss, &sslen)) != 0)
			goto fail;
		if ((rv = hq_sock_open(s, (struct sockaddr *)&ss, sslen,
		    cfg->listen[i].dual_stack, 0, cfg->no_gso)) != 0) {
			hq_logf(&srv->ep, HQ_LOG_ERR, "bind %s:%u: %s",
			    cfg->listen[i].addr, cfg->listen[i].port,
			    strerror(-rv));
			goto fail;
		}
		srv->nsocks = i + 1;
		s->ep = &srv->ep;
		s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST,
		    server_on_read, s);
		if (s->ev == NULL || event_add(s->ev, NULL) != 0) {
			rv = HYP_ENOMEM;
			goto fail;
		}
	}
	*out = srv;
	return (0);
fail:
	server_destroy(srv);
	return (rv);
}

/* Free the server now, or at the end of the current event if busy. */
void
hq_server_free(hq_server_t *s)
{
	if (s == NULL)
		return;
	if (s->ep.busy > 0) {
		s->ep.free_pending = 1;
		return;
	}
	server_destroy(s);
}

/* The server's counters. */
const struct hq_stats *
hq_server_stats(const hq_server_t *s)
{
	return (&s->ep.stats);
}

/* Bound port of listen socket i. */
uint16_t
hq_server_port(const hq_server_t *s, size_t i)
{
	const struct sockaddr_storage	*ss;

	if (i >= s->nsocks)
		return (0);
	ss = &s->socks[i].local;
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
}

/* Rotate the token key. */
int
hq_server_set_token_key(hq_server_t *s, const uint8_t *key)
{
	if (key == NULL)
		return (HYP_EINVAL);
	hq_tokens_rotate(&s->tok, key);
	return (0);
}

/* Change the Retry policy. */
void
hq_server_set_retry(hq_server_t *s, enum hq_retry_policy p,
    size_t threshold)
{
	s->retry = p;
	if (threshold != 0)
		s->retry_threshold = threshold;
}

/* Fingerprint of the server certificate. */
const char *
hq_server_cert_fp(const hq_server_t *s)
{
	return (s->ep.tls.fp);
}

/* Close every connection with an application code. */
void
hq_server_close_all(hq_server_t *s, uint64_t app_code,
    const char *reason)
{
	struct hq_conn	*c;

	hq_ep_enter(&s->ep);
	TAILQ_FOREACH(c, &s->conns, entry)
		(void)hq_conn_close(c, app_code, reason, 0);
	(void)hq_ep_leave(&s->ep);
}
