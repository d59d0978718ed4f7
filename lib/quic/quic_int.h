/*
 * quic_int.h: lib/quic internals shared by its .c files (not an API).
 */
#ifndef HQ_QUIC_INT_H
#define HQ_QUIC_INT_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdarg.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sodium.h>

#include "compat.h"
#include "quic.h"

#define HQ_RX_SLOT		2048	/* min. receive buffer per datagram */
#define HQ_RX_BATCH		32	/* recvmmsg batch */
#define HQ_RX_ROUNDS		4	/* batches per wakeup (fairness) */
#define HQ_TX_BATCH		64	/* packets per GSO send / burst */
#define HQ_DGRAM_MAX		1200	/* DATAGRAM payload we queue */
#define HQ_CLOSEBUF		1280	/* stored CONNECTION_CLOSE packet */
#define HQ_ALPN_MAX		32	/* one ALPN id, bytes */
#define HQ_SNI_MAX		256
#define HQ_REASON_MAX		1000	/* CONNECTION_CLOSE reason we send */
#define HQ_FLUSH_TIMEOUT_NS	(3ULL * NGTCP2_SECONDS)
#define HQ_CONN_CIDS		16	/* CIDs mapped per connection (bound) */

struct hq_ep;
struct hq_conn;

/* ---- util.c ---- */
uint64_t	 hq_now(void);
uint64_t	 hq_wallclock(void);
int		 hq_random(void *p, size_t n);
void		 hq_rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx);
void		 hq_fp_encode(const uint8_t *sha256, char out[HQ_FP_LEN + 1]);
void		 hq_logf(struct hq_ep *ep, int level, const char *fmt, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
int		 hq_parse_addr(const char *addr, uint16_t port,
		    struct sockaddr_storage *ss, socklen_t *len);
void		 hq_transport_defaults(struct hq_transport *tp, int server);

/* ---- udp.c ---- */
struct hq_sock {
	int			 fd;
	int			 family;
	int			 connected;	/* client: connect()ed */
	int			 gso;		/* UDP_SEGMENT usable */
	unsigned		 ecn;		/* TOS currently set */
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
	struct event		*ev;
	struct hq_ep		*ep;
};

/* One received datagram. */
struct hq_rxpkt {
	uint8_t			*data;
	size_t			 len;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	unsigned		 ecn;
};

/* Preallocated receive batch. */
struct hq_rx {
	struct mmsghdr		 msgs[HQ_RX_BATCH];
	struct iovec		 iov[HQ_RX_BATCH];
	struct sockaddr_storage	 addr[HQ_RX_BATCH];
	union {
		char		 buf[CMSG_SPACE(sizeof(int)) * 2];
		struct cmsghdr	 align;
	}			 ctrl[HQ_RX_BATCH];
	uint8_t			*data;	/* HQ_RX_BATCH slots */
	size_t			 slot;	/* max(HQ_RX_SLOT, max_udp_payload) */
	struct hq_rxpkt		 pkt[HQ_RX_BATCH];
};

int	 hq_sock_open(struct hq_sock *s, const struct sockaddr *addr,
	    socklen_t len, int dual_stack, int connect_to, int no_gso);
void	 hq_sock_close(struct hq_sock *s);
int	 hq_sock_recv(struct hq_sock *s, struct hq_rx *rx);
int	 hq_sock_send(struct hq_sock *s, const struct sockaddr *to,
	    socklen_t tolen, unsigned ecn, const uint8_t *data, size_t len,
	    size_t gso, struct hq_conn_stats *cs);

/* ---- cidmap.c: CID -> connection, keyed SipHash, preallocated pool ---- */
#define HQ_CIDMAP_MINB		256	/* initial buckets (doubles) */

struct hq_cident {
	struct hq_cident	*next;		/* bucket chain / free list */
	struct hq_cident	*cnext;		/* same-connection list */
	struct hq_conn		*conn;
	uint8_t			 len;
	uint8_t			 cid[NGTCP2_MAX_CIDLEN];
};

struct hq_cidmap {
	struct hq_cident	**b;
	size_t			  mask;
	size_t			  maxb;		/* bucket array bound */
	struct hq_cident	 *pool;
	struct hq_cident	 *free;		/* returned entries */
	size_t			  used;		/* pool entries ever used */
	size_t			  count;
	size_t			  cap;
	uint8_t			  key[crypto_shorthash_KEYBYTES];
};

int		 hq_cidmap_init(struct hq_cidmap *m, size_t cap);
void		 hq_cidmap_free(struct hq_cidmap *m);
int		 hq_cidmap_add(struct hq_cidmap *m, const uint8_t *cid,
		    size_t len, struct hq_conn *c);
struct hq_conn	*hq_cidmap_get(const struct hq_cidmap *m, const uint8_t *cid,
		    size_t len);
void		 hq_cidmap_del(struct hq_cidmap *m, const uint8_t *cid,
		    size_t len);
void		 hq_cidmap_del_conn(struct hq_cidmap *m, struct hq_conn *c);

/* ---- token.c: Retry/NEW_TOKEN keys, stateless reset secret and limit ---- */
struct hq_tokens {
	uint8_t		 cur[HQ_SECRET_LEN];
	uint8_t		 prev[HQ_SECRET_LEN];
	int		 have_prev;
	uint8_t		 reset[HQ_SECRET_LEN];
	uint64_t	 retry_life_ns;
	uint64_t	 regular_life_ns;
	double		 bucket;
	uint64_t	 bucket_ts;
	uint32_t	 rate;
	uint32_t	 burst;
};

int	 hq_tokens_init(struct hq_tokens *t, const uint8_t *key,
	    const uint8_t *reset);
void	 hq_tokens_rotate(struct hq_tokens *t, const uint8_t *key);
void	 hq_tokens_wipe(struct hq_tokens *t);
ngtcp2_ssize hq_token_retry_new(struct hq_tokens *t, uint8_t *out,
	    uint32_t version, const struct sockaddr *sa, socklen_t salen,
	    const ngtcp2_cid *retry_scid, const ngtcp2_cid *odcid);
int	 hq_token_retry_check(struct hq_tokens *t, ngtcp2_cid *odcid,
	    const uint8_t *tok, size_t len, uint32_t version,
	    const struct sockaddr *sa, socklen_t salen, const ngtcp2_cid *dcid);
ngtcp2_ssize hq_token_regular_new(struct hq_tokens *t, uint8_t *out,
	    const struct sockaddr *sa, socklen_t salen);
int	 hq_token_regular_check(struct hq_tokens *t, const uint8_t *tok,
	    size_t len, const struct sockaddr *sa, socklen_t salen);
int	 hq_reset_token(struct hq_tokens *t, uint8_t *out,
	    const ngtcp2_cid *cid);
int	 hq_reset_allow(struct hq_tokens *t, uint64_t now);

/* ---- tls.c ---- */
struct hq_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t	 prio;
	int			 have_cert;
	char			 fp[HQ_FP_LEN + 1];
	gnutls_datum_t		 alpn[HQ_MAX_ALPN];
	size_t			 nalpn;
	char			 alpnbuf[HQ_MAX_ALPN][HQ_ALPN_MAX + 1];
	/* client verification */
	int			 insecure;
	int			 use_ca;	/* ca_file or system trust */
	char			*hostname;
	char			 pin[HQ_MAX_PINS][HQ_FP_LEN + 1];
	size_t			 npin;
	char			*san[HQ_MAX_SANS];
	size_t			 nsan;
	enum hq_client_cert_mode ccert;
	int			(*alpn_select)(void *, const char *const *,
				    size_t);
	void			*alpn_arg;
};

int	 hq_tls_init(struct hq_tls *t, struct hq_ep *ep, const char *priority,
	    const char *const *alpn, size_t nalpn);
int	 hq_tls_load_cert(struct hq_tls *t, struct hq_ep *ep,
	    const struct hq_cert *cert);
int	 hq_tls_set_verify(struct hq_tls *t, struct hq_ep *ep,
	    const struct hq_verify *v, const char *sni);
void	 hq_tls_free(struct hq_tls *t);
int	 hq_tls_session_server(struct hq_conn *c);
int	 hq_tls_session_client(struct hq_conn *c, const char *sni);
int	 hq_tls_peer_info(struct hq_conn *c);

/* ---- conn.c: endpoint glue and connection engine ---- */
TAILQ_HEAD(hq_connq, hq_conn);

/* An address of ours or a peer's (lib/quic sockets are IPv4 or IPv6). */
union hq_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

/* What the handshake told (allocated when it completes; client: at start). */
struct hq_peerinfo {
	char			 alpn[HQ_ALPN_MAX + 1];
	char			 sni[HQ_SNI_MAX];
	char			 fp[HQ_FP_LEN + 1];
	int			 have_fp;
};

struct hq_ep_ops {
	void	(*release)(struct hq_conn *c);	/* connection is dead */
	void	(*destroy)(void *owner);	/* deferred owner free */
};

/* What servers and clients have in common. */
struct hq_ep {
	struct event_base	*base;
	int			 server;
	struct hq_callbacks	 cb;
	void			*cb_arg;
	hq_log_fn		 log;
	void			*log_arg;
	struct hq_stats		 stats;
	struct hq_transport	 tp;
	struct hq_tls		 tls;
	const struct hq_ep_ops	*ops;
	void			*owner;
	int			 busy;
	int			 free_pending;
	struct hq_connq		 dirty;
	struct hq_connq		 dead;
	struct hq_rx		 rx;
	uint8_t			*tx;	/* HQ_TX_BATCH * tp.max_udp_payload */
};

struct hq_stream {
	TAILQ_ENTRY(hq_stream)	 entry;
	int64_t			 id;
	uint8_t			*buf;		/* ring, cap bytes, lazy */
	size_t			 cap;
	uint64_t		 acked;		/* offsets below are acked */
	uint64_t		 sent;		/* handed to ngtcp2 */
	uint64_t		 queued;	/* written by the caller */
	int			 fin_queued;
	int			 fin_sent;
	int			 blocked;
	int			 want_writable;
	int			 shut;		/* write side gone */
	uint64_t		 skip;		/* write round to skip */
};
TAILQ_HEAD(hq_streamq, hq_stream);

enum hq_cstate {
	HQ_CS_HANDSHAKE = 0,
	HQ_CS_OPEN,
	HQ_CS_CLOSING,		/* we sent CONNECTION_CLOSE */
	HQ_CS_DRAINING,		/* peer closed / reset */
	HQ_CS_DEAD
};

struct hq_conn {
	ngtcp2_crypto_conn_ref	 ref;		/* gnutls session ptr */
	ngtcp2_conn		*qc;
	gnutls_session_t	 tls;
	struct hq_ep		*ep;
	struct hq_sock		*sock;
	struct event		*timer;
	union hq_addr		 local;
	socklen_t		 locallen;
	union hq_addr		 remote;
	socklen_t		 remotelen;
	enum hq_cstate		 state;
	void			*user;
	struct hq_conn_stats	 cst;

	TAILQ_ENTRY(hq_conn)	 entry;		/* server's list */
	TAILQ_ENTRY(hq_conn)	 qentry;	/* dirty or dead queue */
	int			 queued;	/* 1 dirty, 2 dead */
	struct hq_cident	*cids;		/* server: mapped CIDs */
	size_t			 ncids;

	struct hq_streamq	 streams;
	size_t			 nstreams;

	/* DATAGRAM send queue (ring). */
	uint8_t			*dgq;
	uint16_t		*dglen;
	size_t			 dgcap;
	size_t			 dghead;
	size_t			 dgn;
	uint64_t		 dgid;

	/* close */
	int			 close_req;	/* hq_conn_close pending */
	int			 close_flush;
	int			 close_transport; /* transport error code */
	uint64_t		 close_deadline;
	uint64_t		 close_code;
	char			*close_reason;	/* malloc'd, <= HQ_REASON_MAX */
	size_t			 close_reasonlen;
	ngtcp2_ccerr		 ccerr;		/* what we send */
	enum hq_close_kind	 close_kind;
	uint8_t			*closebuf;	/* malloc'd when closing */
	size_t			 closebuflen;
	uint64_t		 closing_rx;
	int			 got_reset;
	int			 closed_fired;

	uint64_t		 wround;	/* write rounds */
	int			 half_open;	/* counted in conns_half_open */
	int			 torn_down;
	int			 hs_done;	/* ngtcp2 handshake completed */
	int			 hs_fired;	/* established() called */
	enum hq_validation	 validated;
	uint64_t		 t_start;
	uint64_t		 t_hs;
	struct hq_peerinfo	*peer;		/* NULL until the handshake */

	/* qlog (server connections chosen by qlog_open()) */
	int			 qlog_on;
	int			 qlog_fd;
	uint64_t		 qlog_bytes;
};

int	 hq_ep_init(struct hq_ep *ep, struct event_base *base, int server,
	    const struct hq_callbacks *cb, void *cb_arg, hq_log_fn log,
	    void *log_arg, const struct hq_transport *tp);
void	 hq_ep_free_bufs(struct hq_ep *ep);
void	 hq_conn_notify_local(struct hq_conn *c, enum hq_close_kind kind);
void	 hq_ep_enter(struct hq_ep *ep);
int	 hq_ep_leave(struct hq_ep *ep);

int	 hq_conn_setup(struct hq_conn *c, struct hq_ep *ep, struct hq_sock *s);
struct hq_peerinfo *hq_conn_peerinfo(struct hq_conn *c);
void	 hq_conn_callbacks(ngtcp2_callbacks *cb, int server);
void	 hq_conn_settings(struct hq_conn *c, ngtcp2_settings *set,
	    ngtcp2_transport_params *p);
void	 hq_conn_teardown(struct hq_conn *c);
void	 hq_conn_free_facts(struct hq_conn *c);
void	 hq_conn_qlog_write(void *user_data, uint32_t flags, const void *data,
	    size_t len);
int	 hq_conn_read(struct hq_conn *c, const struct hq_rxpkt *pkt);
void	 hq_conn_dirty(struct hq_conn *c);
void	 hq_conn_kill(struct hq_conn *c, enum hq_close_kind kind);
void	 hq_conn_fail_liberr(struct hq_conn *c, int rv);
void	 hq_conn_closing_rx(struct hq_conn *c, const struct hq_rxpkt *pkt);
void	 hq_conn_set_peer(struct hq_conn *c, const struct sockaddr *sa,
	    socklen_t len);
void	 hq_conn_path(struct hq_conn *c, ngtcp2_path *path,
	    const struct sockaddr *remote, socklen_t remotelen);

/* ---- server.c hooks used by conn.c ---- */
int	 hq_server_new_cid(struct hq_conn *c, ngtcp2_cid *cid, uint8_t *token,
	    size_t cidlen);
void	 hq_server_del_cid(struct hq_conn *c, const ngtcp2_cid *cid);
void	 hq_server_hs_done(struct hq_conn *c);

#endif /* HQ_QUIC_INT_H */
