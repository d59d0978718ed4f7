/*
 * event.c: the fields of every event kind, read from the host's session.
 *
 * Redaction is by construction: no function here ever writes the identity
 * token, the referral data, ticket bytes or any secret.  The Connect gives
 * has_identity_token (true/false) and referral_data_len only; a referral
 * gives the ticket's length only; payload hex is never written for the
 * packet ids whose payload carries credentials (tr_hex_forbidden()).
 */
#include <stdio.h>
#include <string.h>

#include "tracer.h"

static const char *const tr_decision_names[] = {
	"none", "refer", "proxy", "deny",
};

/* The decision's name. */
static const char *
decision_name(enum hyp_decision d)
{
	if ((unsigned)d >= sizeof(tr_decision_names) /
	    sizeof(tr_decision_names[0]))
		return ("none");
	return (tr_decision_names[d]);
}

/*
 * The value of key in a "k=v k=v" reason into out (at most outlen - 1
 * bytes), or NULL when absent.
 */
const char *
tr_reason_value(const char *reason, const char *k, char *out, size_t outlen)
{
	const char	*p = reason;
	size_t		 kl = strlen(k), n;

	if (reason == NULL || outlen == 0)
		return (NULL);
	while ((p = strstr(p, k)) != NULL) {
		if ((p == reason || p[-1] == ' ') && p[kl] == '=') {
			p += kl + 1;
			n = strcspn(p, " ");
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return (out);
		}
		p += kl;
	}
	return (NULL);
}

/* Backend id, pool, host and port of the session's backend (or nulls). */
static void
backend_fields(struct tr_buf *b, hyp_session_t *s)
{
	hyp_backend_t	*be = hyp_session_backend(s);

	if (be == NULL) {
		tr_jnull(b, "backend");
		return;
	}
	tr_jstr(b, "backend", hyp_backend_id(be));
	tr_jstr(b, "pool", hyp_backend_pool(be));
	tr_jstr(b, "host", hyp_backend_host(be));
	tr_ju64(b, "port", hyp_backend_port(be));
}

/* accept: a client connection was admitted. */
void
tr_ev_accept(struct tr_buf *b, uint64_t ts, hyp_session_t *s)
{
	tr_begin(b, ts, "accept", hyp_session_id_str(s));
	tr_jstr(b, "peer", hyp_session_peer_str(s));
}

/* handshake: TLS is done; SNI, ALPN and the client certificate are known. */
void
tr_ev_handshake(struct tr_buf *b, uint64_t ts, hyp_session_t *s)
{
	tr_begin(b, ts, "handshake", hyp_session_id_str(s));
	tr_jstr(b, "peer", hyp_session_peer_str(s));
	tr_jstr(b, "sni", hyp_session_sni(s));
	tr_jstr(b, "alpn", hyp_session_alpn(s));
	tr_jstr(b, "client_cert_fp", hyp_session_cert_fp(s));
	tr_jms(b, "handshake_ms", hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET),
	    hyp_session_mark_us(s, HYP_MARK_HANDSHAKE_DONE));
}

/* connect: the Connect's identity fields; never the token or the data. */
void
tr_ev_connect(struct tr_buf *b, uint64_t ts, hyp_session_t *s)
{
	const struct hyp_connect	*c = hyp_session_connect(s);
	char				 src[HYP_HOST_MAX * 6 + 16];
	int				 n;

	tr_begin(b, ts, "connect", hyp_session_id_str(s));
	if (c == NULL) {
		tr_jnull(b, "layout");
		return;
	}
	tr_ju64(b, "layout", (uint64_t)c->layout);
	tr_jbytes(b, "username", c->username.ptr, c->username.len);
	tr_jstr(b, "uuid", hyp_session_uuid_str(s));
	tr_ju64(b, "client_type", c->client_type);
	if (c->layout == HYP_CONNECT_V1)
		tr_jstr(b, "protocol_hash", c->protocol_hash);
	else {
		tr_ji64(b, "crc", c->protocol_crc);
		tr_ji64(b, "build", c->build);
		tr_jstr(b, "version", c->client_version);
	}
	tr_jbytes(b, "language", c->language.ptr, c->language.len);
	tr_jbool(b, "has_identity_token", c->identity_token.ptr != NULL);
	if (c->has_referral_source && c->referral_source.host.ptr != NULL) {
		n = snprintf(src, sizeof(src), "%.*s:%u",
		    (int)c->referral_source.host.len,
		    (const char *)c->referral_source.host.ptr,
		    (unsigned)c->referral_source.port);
		tr_jbytes(b, "referral_source", (const uint8_t *)src,
		    n > 0 && (size_t)n < sizeof(src) ? (size_t)n : 0);
	} else
		tr_jnull(b, "referral_source");
	if (c->referral_data.ptr != NULL)
		tr_ju64(b, "referral_data_len", c->referral_data.len);
	else
		tr_jnull(b, "referral_data_len");
}

/* decision: what the route decided and why. */
void
tr_ev_decision(struct tr_buf *b, uint64_t ts, hyp_session_t *s)
{
	enum hyp_decision	d = hyp_session_decision(s);

	tr_begin(b, ts, "decision", hyp_session_id_str(s));
	tr_jstr(b, "decision", decision_name(d));
	backend_fields(b, s);
	tr_jstr(b, "reason", hyp_session_reason(s));
	if (d == HYP_DECISION_DENY || hyp_session_deny_message(s) != NULL)
		tr_jstr(b, "deny_message", hyp_session_deny_message(s));
	tr_jms(b, "decision_ms", hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET),
	    hyp_session_mark_us(s, HYP_MARK_DECISION));
}

/*
 * referral: a ClientReferral is sent (pi: the outbound packet, or NULL
 * when only the referral hook was seen).  The ticket's length only.
 */
void
tr_ev_referral(struct tr_buf *b, uint64_t ts, hyp_session_t *s,
    const struct hyp_packet_info *pi)
{
	struct hyp_client_referral	 r;
	char				 kid[HYP_TICKET_KID_MAX + 1];
	char				 to[HYP_HOST_MAX + 8];

	tr_begin(b, ts, "referral", hyp_session_id_str(s));
	backend_fields(b, s);
	if (pi != NULL && pi->payload != NULL &&
	    hyp_client_referral_decode(pi->payload, pi->payload_len, &r) == 0) {
		if (r.has_host && r.host_to.host.ptr != NULL) {
			snprintf(to, sizeof(to), "%.*s:%u",
			    (int)r.host_to.host.len,
			    (const char *)r.host_to.host.ptr,
			    (unsigned)r.host_to.port);
			tr_jstr(b, "to", to);
		}
		if (r.data.ptr != NULL)
			tr_ju64(b, "ticket_len", r.data.len);
		else
			tr_jnull(b, "ticket_len");
	} else
		tr_jnull(b, "ticket_len");
	tr_jstr(b, "kid", tr_reason_value(hyp_session_reason(s), "ticket", kid,
	    sizeof(kid)));
	tr_jstr(b, "trace_id", hyp_session_id_str(s));
}

/* session-end: outcome, decision, counters and timings. */
void
tr_ev_session_end(struct tr_buf *b, uint64_t ts, hyp_session_t *s)
{
	uint64_t	t0 = hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET);

	tr_begin(b, ts, "session-end", hyp_session_id_str(s));
	tr_jstr(b, "outcome", hyp_session_outcome(s));
	tr_jstr(b, "peer", hyp_session_peer_str(s));
	tr_jstr(b, "username", hyp_session_username(s));
	tr_jstr(b, "uuid", hyp_session_uuid_str(s));
	tr_jstr(b, "decision", decision_name(hyp_session_decision(s)));
	backend_fields(b, s);
	tr_jstr(b, "reason", hyp_session_reason(s));
	tr_ju64(b, "bytes_in", hyp_session_counter(s, HYP_CTR_BYTES_IN));
	tr_ju64(b, "bytes_out", hyp_session_counter(s, HYP_CTR_BYTES_OUT));
	tr_ju64(b, "packets_in", hyp_session_counter(s, HYP_CTR_PACKETS_IN));
	tr_ju64(b, "packets_out", hyp_session_counter(s, HYP_CTR_PACKETS_OUT));
	tr_jms(b, "handshake_ms", t0,
	    hyp_session_mark_us(s, HYP_MARK_HANDSHAKE_DONE));
	tr_jms(b, "connect_ms", t0,
	    hyp_session_mark_us(s, HYP_MARK_CONNECT_DECODED));
	tr_jms(b, "decision_ms", t0, hyp_session_mark_us(s, HYP_MARK_DECISION));
	tr_jms(b, "duration_ms", t0, hyp_session_mark_us(s, HYP_MARK_END));
}

/*
 * packet: one framed packet of an allowlisted session.  Payload hex only
 * when configured, bounded, and never for credential-carrying ids.
 */
void
tr_ev_packet(struct tr_buf *b, uint64_t ts, hyp_session_t *s,
    const struct hyp_packet_info *pi, const struct tr_allow *a)
{
	size_t	n;

	tr_begin(b, ts, "packet", hyp_session_id_str(s));
	tr_jstr(b, "dir", pi->outbound ? "out" : "in");
	tr_ji64(b, "stream", pi->stream);
	tr_ju64(b, "id", pi->packet_id);
	tr_jstr(b, "name", hyp_packet_name(pi->packet_id));
	tr_ju64(b, "length", pi->length);
	if (!a->payload_hex || pi->payload == NULL)
		return;
	if (tr_hex_forbidden(pi->packet_id)) {
		tr_jstr(b, "payload_hex", "<redacted>");
		return;
	}
	n = pi->payload_len < a->payload_hex_max ? pi->payload_len :
	    a->payload_hex_max;
	tr_jhex(b, "payload_hex", pi->payload, n);
	if (n < pi->length)
		tr_jbool(b, "payload_cut", 1);
}

/* audit: a change made through an API (the registry). */
void
tr_ev_audit(struct tr_buf *b, uint64_t ts, const struct hyp_audit_event *ev)
{
	tr_begin(b, ts, "audit", NULL);
	tr_jstr(b, "actor", ev->actor);
	tr_jstr(b, "action", ev->action);
	tr_jstr(b, "object", ev->object);
	tr_jstr(b, "detail", ev->detail);
	tr_jbool(b, "ok", ev->ok);
}

/* plugin: a plugin changed state. */
void
tr_ev_plugin(struct tr_buf *b, uint64_t ts, const struct hyp_plugin_event *ev)
{
	tr_begin(b, ts, "plugin", NULL);
	tr_jstr(b, "plugin", ev->plugin);
	tr_jstr(b, "state", ev->state);
	tr_jstr(b, "detail", ev->detail);
}

/* reload: the configuration was reloaded. */
void
tr_ev_reload(struct tr_buf *b, uint64_t ts)
{
	tr_begin(b, ts, "reload", NULL);
}
