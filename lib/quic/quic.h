/*
 * quic.h: lib/quic, hyprox's internal QUIC endpoint library (ngtcp2 + GnuTLS
 * + libevent).  Used by the transport plugin, hyproxctl probe and the mock
 * Hytale backend.  It does not depend on hyproxd: give it an event_base.
 *
 * Threading: none.  Every handle belongs to the event_base it was created
 * with and must only be used from that loop's thread.
 *
 * Ownership rules:
 * - Config structs and the strings they point to are only read during the
 *   *_new() call; the library copies what it keeps.
 * - hq_server_t and hq_client_t are owned by the caller (hq_*_free()).
 * - hq_conn_t is owned by the library.  It is valid from the moment it is
 *   first passed to a callback until its closed() callback returns; after
 *   that the caller must not touch it.  A server frees its connections
 *   itself; a client's connection lives until hq_client_free().
 * - Every connection a server admitted (admit() returned 0) gets exactly
 *   one closed() call, whatever ends it: a close, a timeout, an error
 *   while it is created, hq_server_close_all() or hq_server_free().  So
 *   whatever admit() reserved can always be released in closed().
 * - Data passed to callbacks is only valid during the callback.
 * - Data passed to hq_stream_send()/hq_conn_send_datagram() is copied.
 * - Every function may be called from inside a callback; work that ngtcp2
 *   forbids there (writing packets, closing) is deferred to the end of the
 *   current event.  hq_client_free() inside its own callback is deferred too.
 *
 * Errors: 0 or a positive count on success, negative HYP_E* codes
 * (hyprox/error.h) on failure.
 */
#ifndef HQ_QUIC_H
#define HQ_QUIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <hyprox/error.h>

struct event_base;

typedef struct hq_server hq_server_t;
typedef struct hq_client hq_client_t;
typedef struct hq_conn hq_conn_t;

/* Limits. */
#define HQ_MAX_ALPN		8	/* ALPN entries per list */
#define HQ_MAX_LISTEN		8	/* UDP sockets per server */
#define HQ_MAX_PINS		8	/* pinned fingerprints per client */
#define HQ_MAX_SANS		8	/* SAN allowlist entries per client */
#define HQ_FP_LEN		43	/* base64url(SHA-256), no padding */
#define HQ_SECRET_LEN		32	/* token key, reset secret */
#define HQ_SCID_LEN		18	/* server connection ID length (fixed) */

/* Log levels given to hq_log_fn. */
#define HQ_LOG_ERR		0
#define HQ_LOG_WARN		1
#define HQ_LOG_INFO		2
#define HQ_LOG_DEBUG		3

/** Log sink: one line without newline; msg is only valid during the call. */
typedef void	(*hq_log_fn)(void *arg, int level, const char *msg);

/** How a connection ended, as given to the closed() callback. */
enum hq_close_kind {
	HQ_CLOSE_LOCAL = 1,	/* we closed (hq_conn_close or endpoint free) */
	HQ_CLOSE_PEER,		/* peer sent CONNECTION_CLOSE */
	HQ_CLOSE_IDLE,		/* idle timeout, silently */
	HQ_CLOSE_HANDSHAKE_TIMEOUT,	/* handshake did not finish in time */
	HQ_CLOSE_RESET,		/* stateless reset received */
	HQ_CLOSE_ERROR		/* protocol, TLS or internal error (we closed) */
};

/** Close details; reason points into library memory, valid during the call. */
struct hq_close_info {
	enum hq_close_kind	 kind;
	int			 app;		/* 1: error_code is an app code */
	uint64_t		 error_code;	/* QUIC transport or app code */
	const char		*reason;	/* not NUL-terminated; may be NULL */
	size_t			 reasonlen;
	int			 handshake_done; /* 1 if established() fired */
	uint8_t			 tls_alert;	/* TLS alert on crypto error, or 0 */
};

/** How the server validated the client's address. */
enum hq_validation {
	HQ_VALID_NONE = 0,	/* no token (amplification limit applies) */
	HQ_VALID_RETRY,		/* valid Retry token */
	HQ_VALID_NEW_TOKEN	/* valid NEW_TOKEN token from an earlier visit */
};

/**
 * Callbacks shared by servers and clients; NULL members are skipped.  arg is
 * the cb_arg of the config.  Return values other than void: 0 is ok, a
 * negative value closes the connection with INTERNAL_ERROR.
 */
struct hq_callbacks {
	/**
	 * Server only: a new connection is about to be created (validated:
	 * enum hq_validation).  Return 0 to accept, negative to refuse
	 * (stateless CONNECTION_REFUSED, counted in admissions_refused).
	 * On accept, *user (NULL on entry) becomes the connection's user
	 * pointer before any other callback sees it, and closed() is
	 * guaranteed to follow for it (see the ownership rules).
	 */
	int	(*admit)(void *arg, const struct sockaddr *peer, socklen_t len,
		    int validated, void **user);
	/** Handshake done: ALPN, SNI and client-cert fingerprint are known. */
	int	(*established)(hq_conn_t *c, void *arg);
	/** The peer opened a stream. */
	int	(*stream_open)(hq_conn_t *c, int64_t sid, void *arg);
	/**
	 * In-order stream data (len may be 0 with fin).  Return 0 when the
	 * bytes are consumed (flow-control credit goes back at once),
	 * HQ_DEFER to return it later with hq_stream_consume() (backpressure),
	 * or negative to close the connection.
	 */
	int	(*stream_data)(hq_conn_t *c, int64_t sid, const uint8_t *data,
		    size_t len, int fin, void *arg);
	/** Stream send space was freed after ACKs (after a short send). */
	void	(*stream_writable)(hq_conn_t *c, int64_t sid, void *arg);
	/** The stream is fully closed (app_error set if it was reset). */
	void	(*stream_close)(hq_conn_t *c, int64_t sid, uint64_t app_error,
		    void *arg);
	/** A DATAGRAM frame arrived (only when datagrams are enabled). */
	void	(*datagram)(hq_conn_t *c, const uint8_t *data, size_t len,
		    void *arg);
	/** The connection is over; c is invalid once this returns. */
	void	(*closed)(hq_conn_t *c, const struct hq_close_info *ci,
		    void *arg);
	/** Client only: the server sent a NEW_TOKEN token (save for later). */
	void	(*new_token)(hq_conn_t *c, const uint8_t *tok, size_t len,
		    void *arg);
};

#define HQ_DEFER	1	/* stream_data(): credit returned later */

/** Transport settings shared by both sides; 0 means "use the default". */
struct hq_transport {
	uint64_t	idle_timeout_ms;	/* default 30000; never 0 */
	uint64_t	handshake_timeout_ms;	/* default 10000 */
	uint64_t	max_streams_bidi;	/* peer may open; srv 16, cli 4 */
	uint64_t	max_streams_uni;	/* peer may open; default 4 (>= 2) */
	uint64_t	max_stream_data;	/* per-stream receive window 256 KiB */
	uint64_t	max_data;		/* connection window, default 1 MiB */
	size_t		stream_sndbuf;		/* per-stream send buffer 256 KiB */
	int		datagrams;		/* 1: enable DATAGRAM frames */
	size_t		datagram_queue;		/* queued outgoing, default 16 */
	int		disable_migration;	/* 1: disable_active_migration */
	size_t		max_udp_payload;	/* largest UDP payload we send
						   and advertise (transport
						   parameter); default 1472,
						   clamped to 1200..65527 */
};

#define HQ_UDP_PAYLOAD_DEFAULT	1472
#define HQ_UDP_PAYLOAD_MIN	1200
#define HQ_UDP_PAYLOAD_MAX	65527

/** Certificate source: files, or auto-generated (ephemeral ECDSA P-256). */
struct hq_cert {
	const char	*cert_file;	/* PEM; NULL or "auto" = generate */
	const char	*key_file;	/* PEM; ignored when auto */
	const char	*auto_cn;	/* CN/SAN of the generated cert */
};

/** Retry policy of a server. */
enum hq_retry_policy {
	HQ_RETRY_NEVER = 0,
	HQ_RETRY_ALWAYS,
	HQ_RETRY_ON_LOAD	/* when half-open handshakes >= threshold */
};

/** Client-certificate request mode of a server. */
enum hq_client_cert_mode {
	HQ_CCERT_REQUEST = 0,	/* ask, accept none or any (fingerprint) */
	HQ_CCERT_NONE,		/* do not ask */
	HQ_CCERT_REQUIRE	/* ask; no certificate fails the handshake */
};

/** One UDP socket to bind (numeric address). */
struct hq_listen {
	const char	*addr;		/* "0.0.0.0", "::", "127.0.0.1"... */
	uint16_t	 port;		/* 0 = ephemeral (see hq_server_port) */
	int		 dual_stack;	/* IPv6 socket also accepts IPv4 */
};

/** Server endpoint configuration. */
struct hq_server_config {
	struct hq_listen	 listen[HQ_MAX_LISTEN];
	size_t			 nlisten;
	struct hq_cert		 cert;
	const char		*alpn[HQ_MAX_ALPN];	/* preference order */
	size_t			 nalpn;
	/**
	 * Optional ALPN choice: offered[] is the client's list in its order;
	 * return an index into offered, or -1 to refuse.  Default: the
	 * highest-preference entry of alpn[] the client offered.
	 */
	int			(*alpn_select)(void *arg,
				    const char *const *offered, size_t n);
	const char		*priority;	/* GnuTLS priority; NULL = default */
	enum hq_client_cert_mode client_cert;
	struct hq_transport	 tp;
	size_t			 max_conns;	/* default 4096 */
	enum hq_retry_policy	 retry;
	size_t			 retry_threshold; /* ON_LOAD: default 64 */
	const uint8_t		*token_key;	/* HQ_SECRET_LEN; NULL = random */
	const uint8_t		*reset_secret;	/* HQ_SECRET_LEN; NULL = random */
	uint64_t		 new_token_lifetime_s;	/* default 3600 */
	int			 no_new_token;	/* 1: issue no NEW_TOKEN */
	uint64_t		 retry_token_lifetime_s; /* default 10 */
	uint32_t		 reset_rate;	/* resets/s, default 10 */
	uint32_t		 reset_burst;	/* default 20 */
	int			 no_gso;	/* 1: never use UDP_SEGMENT */
	struct hq_callbacks	 cb;
	void			*cb_arg;
	hq_log_fn		 log;
	void			*log_arg;
	/**
	 * Optional qlog: called once for every admitted connection, after
	 * admit() (user: the pointer admit() set; odcid: the client's
	 * original destination connection ID, the qlog group id), with
	 * cb_arg.  Return a file descriptor that receives the connection's
	 * qlog as ngtcp2 writes it (JSON text sequences, RFC 7464), or -1
	 * for none.  The library owns the descriptor from then on: it writes
	 * at most HQ_QLOG_MAX bytes and closes it when the connection is
	 * freed.  Writes are plain write(2) calls on the loop thread: give
	 * it a regular file on a local disk, for a few connections.
	 */
	int			(*qlog_open)(void *arg, void *user,
				    const uint8_t *odcid, size_t odcidlen);
};

#define HQ_QLOG_MAX	(64u << 20)	/* qlog bytes per connection */

/** How the client verifies the server. */
struct hq_verify {
	int		 insecure;	/* 1: verify nothing (explicit choice) */
	const char	*ca_file;	/* PEM trust anchors (+ hostname check) */
	const char	*hostname;	/* name checked with ca_file; def. SNI */
	const char	*pin[HQ_MAX_PINS];	/* base64url SHA-256 of leaf DER */
	size_t		 npin;
	const char	*san[HQ_MAX_SANS];	/* leaf must match one name */
	size_t		 nsan;
};

/** Client connection configuration. */
struct hq_client_config {
	const char		*addr;		/* numeric server address */
	uint16_t		 port;
	const char		*sni;		/* NULL: no SNI */
	const char		*alpn[HQ_MAX_ALPN];	/* offer order */
	size_t			 nalpn;
	const char		*priority;	/* GnuTLS priority; NULL = default */
	struct hq_cert		 cert;		/* cert_file NULL and !use_cert:
						   no client cert */
	int			 use_cert;	/* 1: present cert (auto if no file) */
	struct hq_verify	 verify;
	struct hq_transport	 tp;
	const uint8_t		*token;		/* NEW_TOKEN from an earlier visit */
	size_t			 tokenlen;
	struct hq_callbacks	 cb;
	void			*cb_arg;
	hq_log_fn		 log;
	void			*log_arg;
};

/** Endpoint counters, read by the metrics layer (monotonic except gauges). */
struct hq_stats {
	uint64_t	dgrams_in;
	uint64_t	bytes_in;
	uint64_t	dgrams_out;
	uint64_t	bytes_out;
	uint64_t	dgrams_dropped;		/* undecodable / unexpected */
	uint64_t	send_errors;		/* sendmsg failures incl. EAGAIN */
	uint64_t	handshakes_ok;
	uint64_t	handshakes_failed;
	uint64_t	retries_sent;
	uint64_t	retry_tokens_ok;
	uint64_t	new_tokens_ok;
	uint64_t	tokens_invalid;
	uint64_t	vn_sent;
	uint64_t	resets_sent;
	uint64_t	resets_suppressed;	/* rate limit */
	uint64_t	admissions_refused;	/* admit() or max_conns */
	uint64_t	conns_active;		/* gauge */
	uint64_t	conns_half_open;	/* gauge: handshake in progress */
};

/** Per-connection counters (datagrams as seen on the socket). */
struct hq_conn_stats {
	uint64_t	dgrams_in;	/* read for this connection */
	uint64_t	bytes_in;
	uint64_t	dgrams_out;	/* sent for it (incl. its CLOSE) */
	uint64_t	bytes_out;
	uint64_t	max_dgram_in;	/* largest datagram read */
	uint64_t	max_dgram_out;	/* largest datagram sent */
};

/* ---- server ---- */

/** Create a server on base and bind its sockets; *out owned by the caller. */
int		 hq_server_new(struct event_base *base,
		    const struct hq_server_config *cfg, hq_server_t **out);
/**
 * Drop every connection (no CONNECTION_CLOSE is sent; closed() is called,
 * kind HQ_CLOSE_LOCAL, for each one that did not have it yet), close the
 * sockets, and free.  Inside a callback all of it happens at the end of
 * the current event.
 */
void		 hq_server_free(hq_server_t *s);
/** Counters (live pointer into the server). */
const struct hq_stats *hq_server_stats(const hq_server_t *s);
/** Bound port of listen socket i (useful with port 0), or 0. */
uint16_t	 hq_server_port(const hq_server_t *s, size_t i);
/** Install a new token key; the old one keeps validating until the next. */
int		 hq_server_set_token_key(hq_server_t *s, const uint8_t *key);
/** Change the Retry policy at runtime. */
void		 hq_server_set_retry(hq_server_t *s, enum hq_retry_policy p,
		    size_t threshold);
/** The server certificate's fingerprint (base64url SHA-256, NUL-ended). */
const char	*hq_server_cert_fp(const hq_server_t *s);
/** Send CONNECTION_CLOSE (app code) to every connection; for draining. */
void		 hq_server_close_all(hq_server_t *s, uint64_t app_code,
		    const char *reason);

/* ---- client ---- */

/** Start connecting (handshake runs on base); *out owned by the caller. */
int		 hq_client_new(struct event_base *base,
		    const struct hq_client_config *cfg, hq_client_t **out);
/** Free the client (no CONNECTION_CLOSE: call hq_conn_close first). */
void		 hq_client_free(hq_client_t *cl);
/** The client's connection (valid until hq_client_free). */
hq_conn_t	*hq_client_conn(hq_client_t *cl);
/** Counters. */
const struct hq_stats *hq_client_stats(const hq_client_t *cl);
/** The client certificate's fingerprint, or NULL without a certificate. */
const char	*hq_client_cert_fp(const hq_client_t *cl);

/* ---- connection ---- */

/** Caller's pointer for this connection (NULL at start). */
void		 hq_conn_set_user(hq_conn_t *c, void *user);
void		*hq_conn_user(const hq_conn_t *c);
/** 1 once the handshake completed (established() fired). */
int		 hq_conn_established(const hq_conn_t *c);
/** Negotiated ALPN (NUL-ended) or "" before the handshake. */
const char	*hq_conn_alpn(const hq_conn_t *c);
/** Server name sent by the client (NUL-ended) or "". */
const char	*hq_conn_sni(const hq_conn_t *c);
/** Peer certificate fingerprint (base64url SHA-256), or NULL if none. */
const char	*hq_conn_peer_fp(const hq_conn_t *c);
/** Peer address as the last packet saw it. */
const struct sockaddr *hq_conn_peer(const hq_conn_t *c, socklen_t *len);
/** How the server validated this client (server side only). */
enum hq_validation hq_conn_validation(const hq_conn_t *c);
/** Nanoseconds from the first packet to handshake completion (or 0). */
uint64_t	 hq_conn_handshake_ns(const hq_conn_t *c);
/** Smoothed RTT in nanoseconds. */
uint64_t	 hq_conn_rtt_ns(const hq_conn_t *c);
/** Copy the connection's counters into *out. */
void		 hq_conn_stats(const hq_conn_t *c, struct hq_conn_stats *out);

#define HQ_CLOSE_FLUSH	0x1	/* wait until sent stream data is ACKed */

/**
 * Close with an application error code and reason (truncated to 1000 bytes).
 * With HQ_CLOSE_FLUSH, first wait (at most 3 s) for stream data to be
 * acknowledged.  closed() follows with HQ_CLOSE_LOCAL.
 */
int		 hq_conn_close(hq_conn_t *c, uint64_t app_code,
		    const char *reason, int flags);

/* QUIC transport error codes for hq_conn_close_transport() (RFC 9000). */
#define HQ_ERR_NO_ERROR			0x00
#define HQ_ERR_INTERNAL_ERROR		0x01
#define HQ_ERR_CONNECTION_REFUSED	0x02
#define HQ_ERR_PROTOCOL_VIOLATION	0x0a
#define HQ_ERR_APPLICATION_ERROR	0x0c

/**
 * Close with a QUIC transport error code (CONNECTION_CLOSE type 0x1c), as
 * servers do for framing and decoding errors (e.g. PROTOCOL_VIOLATION).
 * Queued stream data gets one write attempt first (no flush wait).  The
 * reason (may be NULL) is truncated to 1000 bytes.  closed() follows with
 * HQ_CLOSE_LOCAL, app 0.
 */
int		 hq_conn_close_transport(hq_conn_t *c, uint64_t error_code,
		    const char *reason);

/** Open a local bidirectional stream; HYP_EAGAIN if out of stream credit. */
int		 hq_stream_open_bidi(hq_conn_t *c, int64_t *sid);
/** Open a local unidirectional stream; HYP_EAGAIN if out of credit. */
int		 hq_stream_open_uni(hq_conn_t *c, int64_t *sid);
/**
 * Copy up to len bytes into the stream's bounded send buffer; fin ends the
 * stream once every byte was accepted.  Returns the count accepted (may be
 * short, then stream_writable() follows), or a negative error.
 */
ssize_t		 hq_stream_send(hq_conn_t *c, int64_t sid, const void *data,
		    size_t len, int fin);
/** Free space in the stream's send buffer. */
size_t		 hq_stream_send_space(hq_conn_t *c, int64_t sid);
/** Return n bytes of flow-control credit after stream_data() deferred. */
int		 hq_stream_consume(hq_conn_t *c, int64_t sid, size_t n);
/** Abort both directions of a stream with an application error code. */
int		 hq_stream_reset(hq_conn_t *c, int64_t sid, uint64_t app_code);
/** Queue one DATAGRAM (copied); HYP_ENOTSUP if not negotiated, HYP_ENOMEM
 *  if its ring (allocated by the first call) cannot be allocated. */
int		 hq_conn_send_datagram(hq_conn_t *c, const void *data,
		    size_t len);

/* ---- certificates (tests, probes, mock peers) ---- */

/** Parameters for hq_cert_generate(). */
struct hq_certgen {
	const char	*cn;		/* subject CN, also a DNS SAN */
	const char	*ip_san;	/* optional IP SAN ("127.0.0.1") */
	int		 is_ca;		/* 1: CA certificate (cert signing) */
	const char	*issuer_cert_pem; /* NULL: self-signed */
	const char	*issuer_key_pem;
	unsigned	 days;		/* validity, default 30 */
};

/**
 * Generate an ECDSA P-256 key and certificate; *cert_pem and *key_pem are
 * NUL-ended and freed by the caller with free().
 */
int		 hq_cert_generate(const struct hq_certgen *g, char **cert_pem,
		    char **key_pem);
/** Fingerprint (base64url SHA-256, no padding) of a PEM cert into out[44]. */
int		 hq_cert_fp_pem(const char *cert_pem, char out[HQ_FP_LEN + 1]);

#endif /* HQ_QUIC_H */
