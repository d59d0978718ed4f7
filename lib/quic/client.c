/*
 * client.c: one client connection on its own connected UDP socket.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "quic_int.h"

#define HQ_CLIENT_SCIDLEN	16

struct hq_client {
	struct hq_ep	 ep;	/* first: conn->ep casts back */
	struct hq_sock	 sock;
	struct hq_conn	 conn;
	uint8_t		*token;
	size_t		 tokenlen;
};

static void	client_release(struct hq_conn *c);
static void	client_destroy(void *owner);

static const struct hq_ep_ops client_ops = {
	.release = client_release,
	.destroy = client_destroy,
};

/* ngtcp2_crypto_conn_ref: the ngtcp2 connection of a TLS session. */
static ngtcp2_conn *
client_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return (((struct hq_conn *)ref->user_data)->qc);
}

/* Socket readable: feed every datagram, then write once. */
static void
client_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct hq_client	*cl = arg;
	struct hq_conn		*c = &cl->conn;
	int			 i, n, round;

	(void)fd;
	(void)what;
	hq_ep_enter(&cl->ep);
	for (round = 0; round < HQ_RX_ROUNDS; round++) {
		n = hq_sock_recv(&cl->sock, &cl->ep.rx);
		for (i = 0; i < n; i++) {
			if (c->state == HQ_CS_DEAD || c->qc == NULL)
				continue;
			(void)hq_conn_read(c, &cl->ep.rx.pkt[i]);
		}
		if (n < HQ_RX_BATCH)
			break;
	}
	(void)hq_ep_leave(&cl->ep);
}

/* The connection is over: free its QUIC/TLS state, keep the facts. */
static void
client_release(struct hq_conn *c)
{
	struct hq_client	*cl = (struct hq_client *)(void *)c->ep;

	hq_conn_teardown(c);
	if (cl->sock.ev != NULL)
		event_del(cl->sock.ev);
}

/* Free everything. */
static void
client_destroy(void *owner)
{
	struct hq_client	*cl = owner;

	if (cl->conn.ep != NULL) {
		if (cl->conn.queued == 1)
			TAILQ_REMOVE(&cl->ep.dirty, &cl->conn, qentry);
		else if (cl->conn.queued == 2)
			TAILQ_REMOVE(&cl->ep.dead, &cl->conn, qentry);
		hq_conn_teardown(&cl->conn);
		hq_conn_free_facts(&cl->conn);
	}
	hq_sock_close(&cl->sock);
	hq_tls_free(&cl->ep.tls);
	hq_ep_free_bufs(&cl->ep);
	free(cl->token);
	free(cl);
}

/* Create the client, its socket and connection, and send the first Initial. */
int
hq_client_new(struct event_base *base, const struct hq_client_config *cfg,
    hq_client_t **out)
{
	struct hq_client	*cl;
	struct hq_conn		*c;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	ngtcp2_callbacks	 cb;
	ngtcp2_settings		 set;
	ngtcp2_transport_params	 p;
	ngtcp2_path		 path;
	ngtcp2_cid		 dcid, scid;
	int			 rv;

	*out = NULL;
	if (base == NULL || cfg == NULL)
		return (HYP_EINVAL);
	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((rv = hq_parse_addr(cfg->addr, cfg->port, &ss, &sslen)) != 0)
		return (rv);
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return (HYP_ENOMEM);
	cl->sock.fd = -1;
	rv = hq_ep_init(&cl->ep, base, 0, &cfg->cb, cfg->cb_arg, cfg->log,
	    cfg->log_arg, &cfg->tp);
	cl->ep.ops = &client_ops;
	cl->ep.owner = cl;
	if (rv != 0)
		goto fail;
	/* Hytale 02.17 servers open two uni streams (Chunks, WorldMap). */
	if (cl->ep.tp.max_streams_uni < 2)
		cl->ep.tp.max_streams_uni = 2;

	if ((rv = hq_tls_init(&cl->ep.tls, &cl->ep, cfg->priority, cfg->alpn,
	    cfg->nalpn)) != 0)
		goto fail;
	if ((cfg->use_cert || cfg->cert.cert_file != NULL) &&
	    (rv = hq_tls_load_cert(&cl->ep.tls, &cl->ep, &cfg->cert)) != 0)
		goto fail;
	if ((rv = hq_tls_set_verify(&cl->ep.tls, &cl->ep, &cfg->verify,
	    cfg->sni)) != 0)
		goto fail;
	if (cfg->token != NULL && cfg->tokenlen > 0) {
		if ((cl->token = malloc(cfg->tokenlen)) == NULL) {
			rv = HYP_ENOMEM;
			goto fail;
		}
		memcpy(cl->token, cfg->token, cfg->tokenlen);
		cl->tokenlen = cfg->tokenlen;
	}

	if ((rv = hq_sock_open(&cl->sock, (struct sockaddr *)&ss, sslen, 0, 1,
	    0)) != 0)
		goto fail;
	cl->sock.ep = &cl->ep;
	cl->sock.ev = event_new(base, cl->sock.fd, EV_READ | EV_PERSIST,
	    client_on_read, cl);
	if (cl->sock.ev == NULL || event_add(cl->sock.ev, NULL) != 0) {
		rv = HYP_ENOMEM;
		goto fail;
	}

	c = &cl->conn;
	if ((rv = hq_conn_setup(c, &cl->ep, &cl->sock)) != 0)
		goto fail;
	c->ref.get_conn = client_get_conn;
	hq_conn_set_peer(c, (struct sockaddr *)&ss, sslen);
	dcid.datalen = HQ_SCID_LEN;
	scid.datalen = HQ_CLIENT_SCIDLEN;
	if (hq_random(dcid.data, dcid.datalen) != 0 ||
	    hq_random(scid.data, scid.datalen) != 0) {
		rv = HYP_EAGAIN;
		goto fail;
	}
	hq_conn_settings(c, &set, &p);
	if (cl->token != NULL)
		hq_compat_settings_set_token(&set, cl->token, cl->tokenlen, 0);
	hq_conn_callbacks(&cb, 0);
	hq_conn_path(c, &path, (struct sockaddr *)&ss, sslen);
	rv = ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &cb, &set, &p, NULL, c);
	if (rv != 0) {
		hq_logf(&cl->ep, HQ_LOG_ERR, "ngtcp2_conn_client_new: %s",
		    ngtcp2_strerror(rv));
		c->qc = NULL;
		rv = HYP_EINVAL;
		goto fail;
	}
	if ((rv = hq_tls_session_client(c, cfg->sni)) != 0)
		goto fail;
	ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);
	if (cfg->sni != NULL) {
		if (hq_conn_peerinfo(c) == NULL) {
			rv = HYP_ENOMEM;
			goto fail;
		}
		(void)snprintf(c->peer->sni, sizeof(c->peer->sni), "%s",
		    cfg->sni);
	}

	/* Send the first Initial now. */
	hq_ep_enter(&cl->ep);
	hq_conn_dirty(c);
	(void)hq_ep_leave(&cl->ep);
	*out = cl;
	return (0);
fail:
	client_destroy(cl);
	return (rv);
}

/* Free the client now, or at the end of the current event if busy. */
void
hq_client_free(hq_client_t *cl)
{
	if (cl == NULL)
		return;
	if (cl->ep.busy > 0) {
		cl->ep.free_pending = 1;
		return;
	}
	client_destroy(cl);
}

/* The client's only connection. */
hq_conn_t *
hq_client_conn(hq_client_t *cl)
{
	return (&cl->conn);
}

/* The client's counters. */
const struct hq_stats *
hq_client_stats(const hq_client_t *cl)
{
	return (&cl->ep.stats);
}

/* Fingerprint of the client certificate, if it has one. */
const char *
hq_client_cert_fp(const hq_client_t *cl)
{
	return (cl->ep.tls.have_cert ? cl->ep.tls.fp : NULL);
}
