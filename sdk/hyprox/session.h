/*
 * Sessions and backends: host objects every plugin sees the same way.
 *
 * A session is one player connection.  The transport creates it, fills in
 * what it learns, runs the hooks and ends it; routers, metrics and tracers
 * read and annotate it.  Strings passed to setters are copied; strings
 * returned by getters are owned by the session and valid until the next
 * setter of that field or the session's end.
 */
#ifndef HYPROX_SESSION_H
#define HYPROX_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <hyprox/abi.h>
#include <hyprox/codec.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hyp_session hyp_session_t;
typedef struct hyp_backend hyp_backend_t;

/** Timestamps a session records (hyp_now_us() values, 0 = not yet). */
enum hyp_session_mark {
	HYP_MARK_FIRST_PACKET = 0,
	HYP_MARK_HANDSHAKE_DONE,
	HYP_MARK_CONNECT_DECODED,
	HYP_MARK_DECISION,
	HYP_MARK_END,
	HYP_MARK__COUNT
};

/** Per-session counters. */
enum hyp_session_counter {
	HYP_CTR_BYTES_IN = 0,
	HYP_CTR_BYTES_OUT,
	HYP_CTR_PACKETS_IN,
	HYP_CTR_PACKETS_OUT,
	HYP_CTR__COUNT
};

/** What the route decided. */
enum hyp_decision {
	HYP_DECISION_NONE = 0,	/**< Nothing decided yet. */
	HYP_DECISION_REFER,	/**< Send a ClientReferral to the backend. */
	HYP_DECISION_PROXY,	/**< Proxy to the backend (full mode). */
	HYP_DECISION_DENY,	/**< Disconnect with the deny message. */
};

/**
 * Create a session for a client at peer.  The creator (normally the
 * transport) owns it and must end it with hyp_session_end().  The id is
 * unique within the process and random across restarts.  Returns NULL when
 * out of memory or when the host's session cap is reached.
 */
hyp_session_t	*hyp_session_new(hyp_plugin_t *owner, const struct sockaddr *peer,
		    socklen_t peerlen);

/**
 * Record the outcome ("referred", "denied", "timeout", …; copied), stamp
 * HYP_MARK_END, run the session-end hook and free the session, its copies
 * and its per-plugin data (through their free functions).
 */
void		 hyp_session_end(hyp_session_t *s, const char *outcome);

/** The session id as a number. */
uint64_t	 hyp_session_id(const hyp_session_t *s);

/** The session id as 16 lowercase hex digits; owned by the session. */
const char	*hyp_session_id_str(const hyp_session_t *s);

/** The client's address; owned by the session. */
const struct sockaddr *hyp_session_peer(const hyp_session_t *s, socklen_t *len);

/** The client's address as "1.2.3.4:5520" or "[::1]:5520"; owned by the session. */
const char	*hyp_session_peer_str(const hyp_session_t *s);

/** Set/get the TLS SNI (NULL when none). */
int		 hyp_session_set_sni(hyp_session_t *s, const char *sni);
const char	*hyp_session_sni(const hyp_session_t *s);

/** Set/get the negotiated ALPN protocol. */
int		 hyp_session_set_alpn(hyp_session_t *s, const char *alpn);
const char	*hyp_session_alpn(const hyp_session_t *s);

/** Set/get the client certificate's SHA-256 fingerprint (base64url, no padding). */
int		 hyp_session_set_cert_fp(hyp_session_t *s, const char *fp);
const char	*hyp_session_cert_fp(const hyp_session_t *s);

/**
 * Store a deep copy of a decoded Connect; views in the stored copy point
 * into session-owned memory.
 */
int		 hyp_session_set_connect(hyp_session_t *s, const struct hyp_connect *c);

/** The stored Connect, or NULL before hyp_session_set_connect(). */
const struct hyp_connect *hyp_session_connect(const hyp_session_t *s);

/** The username from Connect as a C string, or NULL. */
const char	*hyp_session_username(const hyp_session_t *s);

/** The uuid from Connect as a 36-char string, or NULL. */
const char	*hyp_session_uuid_str(const hyp_session_t *s);

/**
 * Decide: refer or proxy to backend b (the session takes a reference), or
 * deny with message (b NULL).
 */
int		 hyp_session_decide(hyp_session_t *s, enum hyp_decision d,
		    hyp_backend_t *b, const char *message);

/** The decision so far. */
enum hyp_decision hyp_session_decision(const hyp_session_t *s);

/** The chosen backend (borrowed), or NULL. */
hyp_backend_t	*hyp_session_backend(const hyp_session_t *s);

/** The deny message, or NULL. */
const char	*hyp_session_deny_message(const hyp_session_t *s);

/**
 * Append "key=value" to the decision reason ("route=lobby pool=lobby
 * strategy=p2c backend=lobby-1 load=0.40"); bounded at 1 KiB, excess dropped.
 */
int		 hyp_session_add_reason(hyp_session_t *s, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** The accumulated reason ("" when none); owned by the session. */
const char	*hyp_session_reason(const hyp_session_t *s);

/** The outcome given to hyp_session_end(), or NULL before it. */
const char	*hyp_session_outcome(const hyp_session_t *s);

/** Stamp a mark with the current time (or keep the first stamp). */
void		 hyp_session_mark(hyp_session_t *s, enum hyp_session_mark m);

/** A mark's timestamp in microseconds (hyp_now_us() clock), 0 when unset. */
uint64_t	 hyp_session_mark_us(const hyp_session_t *s, enum hyp_session_mark m);

/** Add to a counter. */
void		 hyp_session_count(hyp_session_t *s, enum hyp_session_counter c,
		    uint64_t n);

/** A counter's value. */
uint64_t	 hyp_session_counter(const hyp_session_t *s, enum hyp_session_counter c);

/**
 * Attach plugin-private data to a session; free_fn (may be NULL) is called
 * on it when replaced or when the session ends.
 */
int		 hyp_session_set_data(hyp_session_t *s, hyp_plugin_t *p, void *data,
		    void (*free_fn)(void *));

/** The data p attached, or NULL. */
void		*hyp_session_data(const hyp_session_t *s, const hyp_plugin_t *p);

/** Number of sessions alive now. */
unsigned	 hyp_session_count_alive(void);

/**
 * Create a backend (refcount 1, owned by the caller).  id, host are copied.
 */
hyp_backend_t	*hyp_backend_new(const char *id, const char *host, uint16_t port);

/** Take a reference. */
hyp_backend_t	*hyp_backend_ref(hyp_backend_t *b);

/** Drop a reference; frees at zero.  NULL is ignored. */
void		 hyp_backend_unref(hyp_backend_t *b);

/** Backend id, host (owned by the backend) and port. */
const char	*hyp_backend_id(const hyp_backend_t *b);
const char	*hyp_backend_host(const hyp_backend_t *b);
uint16_t	 hyp_backend_port(const hyp_backend_t *b);

/** Set/get the pool the backend belongs to (copied; NULL clears). */
int		 hyp_backend_set_pool(hyp_backend_t *b, const char *pool);
const char	*hyp_backend_pool(const hyp_backend_t *b);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_SESSION_H */
