/*
 * compat.h: the one place that hides ngtcp2 0.12 versus 1.x API differences.
 *
 * lib/quic is written against the ngtcp2 1.x names; on 0.12 (Debian 12) this
 * header maps them back.  Anything that differs in a signature gets an
 * hq_compat_* wrapper or a parameter-list macro.  Switch: NGTCP2_VERSION_NUM.
 * Only lib/quic sources include it (it is not part of the quic.h API).
 */
#ifndef HQ_COMPAT_H
#define HQ_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/version.h>

#if NGTCP2_VERSION_NUM < 0x010000	/* ---------------- 0.x ---------------- */

#define HQ_NGTCP2_V0	1

typedef ngtcp2_connection_close_error ngtcp2_ccerr;
#define ngtcp2_ccerr_default	ngtcp2_connection_close_error_default
#define ngtcp2_ccerr_set_liberr	\
	ngtcp2_connection_close_error_set_transport_error_liberr
#define ngtcp2_ccerr_set_tls_alert \
	ngtcp2_connection_close_error_set_transport_error_tls_alert
#define ngtcp2_ccerr_set_application_error \
	ngtcp2_connection_close_error_set_application_error
#define ngtcp2_ccerr_set_transport_error \
	ngtcp2_connection_close_error_set_transport_error
#define NGTCP2_CCERR_TYPE_TRANSPORT \
	NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT
#define NGTCP2_CCERR_TYPE_APPLICATION \
	NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION
#define NGTCP2_CCERR_TYPE_VERSION_NEGOTIATION \
	NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_VERSION_NEGOTIATION
#define NGTCP2_CCERR_TYPE_IDLE_CLOSE \
	NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE

#define ngtcp2_conn_in_closing_period	ngtcp2_conn_is_in_closing_period
#define ngtcp2_conn_in_draining_period	ngtcp2_conn_is_in_draining_period

/* Copy the peer's CONNECTION_CLOSE error into *out. */
static inline void
hq_compat_get_ccerr(ngtcp2_conn *conn, ngtcp2_ccerr *out)
{
	ngtcp2_conn_get_connection_close_error(conn, out);
}

/* Token carried by a received long header. */
#define HQ_HD_TOKEN(hd)		((hd)->token.base)
#define HQ_HD_TOKENLEN(hd)	((hd)->token.len)

/* 1.x added a flags argument to the shutdown_stream family. */
#define hq_compat_shutdown_stream(c, sid, err) \
	ngtcp2_conn_shutdown_stream((c), (sid), (err))
#define hq_compat_shutdown_stream_write(c, sid, err) \
	ngtcp2_conn_shutdown_stream_write((c), (sid), (err))

/* recv_new_token: 0.12 passes an ngtcp2_vec, 1.x a pointer and a length. */
#define HQ_RECV_NEW_TOKEN_PARAMS \
	ngtcp2_conn *conn, const ngtcp2_vec *hq_tokv, void *user_data
#define HQ_RECV_NEW_TOKEN_PTR	(hq_tokv->base)
#define HQ_RECV_NEW_TOKEN_LEN	(hq_tokv->len)

/* Put a validated token into the settings (the address counts as validated). */
static inline void
hq_compat_settings_set_token(ngtcp2_settings *s, const uint8_t *tok,
    size_t len, int is_retry)
{
	(void)is_retry;
	s->token.base = (uint8_t *)(uintptr_t)tok;
	s->token.len = len;
}

/* Set original_dcid (1.x also needs the presence flag). */
static inline void
hq_compat_params_set_odcid(ngtcp2_transport_params *p, const ngtcp2_cid *odcid)
{
	p->original_dcid = *odcid;
}

/*
 * 0.12 paces the first packets with its 333 ms initial RTT, stalling the
 * first post-handshake flight by ~22 ms on loopback (fixed upstream in
 * 0.14.0).  Only tell ngtcp2 about the burst once there is an RTT sample.
 */
static inline void
hq_compat_update_pkt_tx_time(ngtcp2_conn *conn, ngtcp2_tstamp ts)
{
#if NGTCP2_VERSION_NUM < 0x000e00
	ngtcp2_conn_stat st;

	ngtcp2_conn_get_conn_stat(conn, &st);
	if (st.first_rtt_sample_ts == UINT64_MAX)
		return;
#endif
	ngtcp2_conn_update_pkt_tx_time(conn, ts);
}

/* Enable qlog: 0.12 also wants the original DCID as the group id. */
static inline void
hq_compat_settings_set_qlog(ngtcp2_settings *s, ngtcp2_qlog_write w,
    const ngtcp2_cid *odcid)
{
	s->qlog.odcid = *odcid;
	s->qlog.write = w;
}

/* Smoothed RTT in nanoseconds. */
static inline uint64_t
hq_compat_smoothed_rtt(ngtcp2_conn *conn)
{
	ngtcp2_conn_stat st;

	ngtcp2_conn_get_conn_stat(conn, &st);
	return (st.smoothed_rtt);
}

#else	/* ---------------------------- 1.x ---------------------------- */

#define HQ_NGTCP2_V0	0

/* Copy the peer's CONNECTION_CLOSE error into *out. */
static inline void
hq_compat_get_ccerr(ngtcp2_conn *conn, ngtcp2_ccerr *out)
{
	*out = *ngtcp2_conn_get_ccerr(conn);
}

#define HQ_HD_TOKEN(hd)		((hd)->token)
#define HQ_HD_TOKENLEN(hd)	((hd)->tokenlen)

#define hq_compat_shutdown_stream(c, sid, err) \
	ngtcp2_conn_shutdown_stream((c), 0, (sid), (err))
#define hq_compat_shutdown_stream_write(c, sid, err) \
	ngtcp2_conn_shutdown_stream_write((c), 0, (sid), (err))

#define HQ_RECV_NEW_TOKEN_PARAMS \
	ngtcp2_conn *conn, const uint8_t *hq_tok, size_t hq_toklen, \
	void *user_data
#define HQ_RECV_NEW_TOKEN_PTR	hq_tok
#define HQ_RECV_NEW_TOKEN_LEN	hq_toklen

/* Put a validated token into the settings (the address counts as validated). */
static inline void
hq_compat_settings_set_token(ngtcp2_settings *s, const uint8_t *tok,
    size_t len, int is_retry)
{
	s->token = tok;
	s->tokenlen = len;
	s->token_type = is_retry ? NGTCP2_TOKEN_TYPE_RETRY :
	    NGTCP2_TOKEN_TYPE_NEW_TOKEN;
}

/* Set original_dcid (1.x also needs the presence flag). */
static inline void
hq_compat_params_set_odcid(ngtcp2_transport_params *p, const ngtcp2_cid *odcid)
{
	p->original_dcid = *odcid;
	p->original_dcid_present = 1;
}

/* 1.x paces correctly before the first RTT sample. */
static inline void
hq_compat_update_pkt_tx_time(ngtcp2_conn *conn, ngtcp2_tstamp ts)
{
	ngtcp2_conn_update_pkt_tx_time(conn, ts);
}

/* Enable qlog (1.x takes the group id from the transport parameters). */
static inline void
hq_compat_settings_set_qlog(ngtcp2_settings *s, ngtcp2_qlog_write w,
    const ngtcp2_cid *odcid)
{
	(void)odcid;
	s->qlog.write = w;
}

/* Smoothed RTT in nanoseconds. */
static inline uint64_t
hq_compat_smoothed_rtt(ngtcp2_conn *conn)
{
	ngtcp2_conn_info ci;

	ngtcp2_conn_get_conn_info(conn, &ci);
	return (ci.smoothed_rtt);
}

#endif	/* NGTCP2_VERSION_NUM */

#endif	/* HQ_COMPAT_H */
