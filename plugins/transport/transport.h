/*
 * transport.h: internal interfaces of the transport plugin (QUIC listener,
 * session pipeline, backend connector).  Nothing here crosses the ABI.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include <hyprox/hyprox.h>

#include "quic.h"

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

/* ---- conf.c: schema, defaults and checks ---- */

#define TP_MESSAGE_MAX		1024	/* bytes of a Disconnect message we send */

/** One listeners[] entry as libcyaml loads it (NULL: key absent). */
struct tp_conf_listener {
	char		*address;
	uint32_t	*port;
	int		*dual_stack;
};

/** stateless_reset: as loaded. */
struct tp_conf_reset {
	uint32_t	*rate;
	uint32_t	*burst;
};

/** admission: as loaded. */
struct tp_conf_admission {
	uint32_t	*rate;
	uint32_t	*burst;
	uint32_t	*max_per_ip;
	uint32_t	*max_half_open;
	uint32_t	*max_connections;
};

/** qlog: as loaded. */
struct tp_conf_qlog {
	char		*dir;
	char		**clients;
	unsigned	 clients_count;
};

#define TP_QLOG_CLIENTS_MAX	16

/** The conf.d file as libcyaml loads it; owned by the host. */
struct tp_conf {
	struct tp_conf_listener	*listeners;
	unsigned		 listeners_count;
	char			*certificate;
	char			*key;
	char			**alpn;
	unsigned		 alpn_count;
	char			*priority;
	char			*client_certificate;
	char			*idle_timeout;
	char			*handshake_timeout;
	char			*connect_timeout;
	uint32_t		*max_streams_bidi;
	uint32_t		*max_stream_data;
	uint32_t		*max_data;
	uint32_t		*max_udp_payload;
	struct tp_conf_admission *admission;
	struct tp_conf_reset	*stateless_reset;
	char			*new_token_lifetime;
	char			*retry;
	uint32_t		*retry_threshold;
	char			*no_route_message;
	char			*token_key;
	char			*reset_secret;
	struct tp_conf_qlog	*qlog;
};

/** Admission limits after defaults. */
struct tp_limits {
	uint32_t	rate;		/* handshakes/s per IP; 0 = unlimited */
	uint32_t	burst;
	uint32_t	max_per_ip;	/* concurrent per IP; 0 = unlimited */
	uint32_t	max_half_open;
	uint32_t	max_connections;
};

/** The effective configuration; strings point into the tp_conf. */
struct tp_settings {
	struct hq_listen	 listen[HQ_MAX_LISTEN];
	size_t			 nlisten;
	const char		*cert;		/* NULL: auto */
	const char		*key;
	const char		*alpn[HQ_MAX_ALPN];
	size_t			 nalpn;
	const char		*priority;
	enum hq_client_cert_mode ccert;
	uint32_t		 idle_ms;
	uint32_t		 handshake_ms;
	uint32_t		 connect_ms;
	uint32_t		 max_streams_bidi;
	uint32_t		 max_stream_data;
	uint32_t		 max_data;
	uint32_t		 max_udp_payload;
	uint32_t		 reset_rate;	/* stateless resets (and VN) /s */
	uint32_t		 reset_burst;
	uint32_t		 new_token_ms;	/* 0: issue no NEW_TOKEN */
	struct tp_limits	 lim;
	enum hq_retry_policy	 retry;
	uint32_t		 retry_threshold;
	const char		*no_route_message;
	const char		*token_key;	/* secret reference or NULL */
	const char		*reset_secret;	/* secret reference or NULL */
	const char		*qlog_dir;	/* NULL: no qlog */
	struct hyp_cidr		 qlog_clients[TP_QLOG_CLIENTS_MAX];
	size_t			 nqlog_clients;
};

extern const cyaml_schema_value_t tp_conf_schema;

int	tp_settings_make(const struct tp_conf *c, struct tp_settings *out,
	    char *err, size_t errlen);
int	tp_conf_check(const void *conf, char *err, size_t errlen);
int	tp_settings_same_server(const struct tp_settings *a,
	    const struct tp_settings *b);

/* ---- admission.c: per-IP token buckets and concurrency caps ---- */

/** An address key: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64 prefix. */
struct tp_ipkey {
	uint8_t		b[16];
};

#define TP_NIL		UINT32_MAX

struct tp_ipent {
	struct tp_ipkey	 key;
	double		 tokens;
	uint64_t	 last_us;
	uint32_t	 conns;		/* admitted and not yet closed */
	uint32_t	 hnext;		/* hash chain, or free list */
	uint32_t	 lprev, lnext;	/* idle LRU list (conns == 0) */
	uint8_t		 used;
};

/** A bounded table of per-IP state; idle entries are evicted LRU first. */
struct tp_iptable {
	struct tp_ipent	*ents;
	uint32_t	 cap;
	uint32_t	*buckets;
	uint32_t	 nbuckets;	/* power of two */
	uint32_t	 nused;
	uint32_t	 lru_head, lru_tail;	/* oldest idle first */
	uint32_t	 free_head;	/* returned entries */
	uint32_t	 next_unused;	/* ents[next_unused..cap) never used */
	uint8_t		 hkey[16];
};

/** Admission verdicts of tp_ip_admit(). */
enum tp_admit {
	TP_ADMIT_OK = 0,
	TP_ADMIT_RATE,		/* token bucket empty */
	TP_ADMIT_PER_IP,	/* concurrent cap reached */
	TP_ADMIT_FULL		/* no evictable entry (should not happen) */
};

void	tp_ipkey_from_sa(const struct sockaddr *sa, struct tp_ipkey *k);
int	tp_bucket_take(double *tokens, uint64_t *last_us, uint64_t now_us,
	    uint32_t rate, uint32_t burst);
uint32_t tp_iptable_size_for(const struct tp_limits *l);
int	tp_iptable_init(struct tp_iptable *t, uint32_t cap);
void	tp_iptable_free(struct tp_iptable *t);
void	tp_iptable_move(struct tp_iptable *dst, struct tp_iptable *src);
struct tp_ipent *tp_iptable_find(struct tp_iptable *t,
	    const struct tp_ipkey *k);
enum tp_admit tp_ip_admit(struct tp_iptable *t, const struct tp_ipkey *k,
	    uint64_t now_us, const struct tp_limits *l);
void	tp_ip_release(struct tp_iptable *t, const struct tp_ipkey *k);
unsigned tp_iptable_expire(struct tp_iptable *t, uint64_t now_us,
	    const struct tp_limits *l);

/* ---- frame.c: reassembly of the first framed packet ---- */

/** State of reading one framed packet (Connect) from a stream. */
struct tp_frame {
	uint8_t		 hdr[HYP_FRAME_HEADER_LEN];
	size_t		 hdrlen;
	uint32_t	 plen;
	uint32_t	 id;
	uint8_t		*buf;		/* plen bytes, allocated at the header */
	size_t		 have;
	size_t		 max;		/* payload limit */
};

#define TP_FRAME_MORE	0
#define TP_FRAME_DONE	1

void	tp_frame_init(struct tp_frame *f, size_t max);
int	tp_frame_feed(struct tp_frame *f, const uint8_t *data, size_t len,
	    size_t *used);
void	tp_frame_free(struct tp_frame *f);

/* ---- metrics.c ---- */

enum tp_refusal {
	TP_REF_RATE = 0, TP_REF_PER_IP, TP_REF_HALF_OPEN, TP_REF_MAX_CONNS,
	TP_REF_DENIED, TP_REF_DRAINING, TP_REF__COUNT
};

enum tp_outcome {
	TP_OUT_REFERRED = 0, TP_OUT_DENIED, TP_OUT_NO_ROUTE,
	TP_OUT_PROXY_UNSUPPORTED, TP_OUT_TIMEOUT, TP_OUT_BAD_CONNECT,
	TP_OUT_CLOSED, TP_OUT_HANDSHAKE_FAILED, TP_OUT_REFUSED,
	TP_OUT_SHUTDOWN, TP_OUT_ERROR, TP_OUT__COUNT
};

enum tp_hs_outcome { TP_HS_OK = 0, TP_HS_FAILED, TP_HS_TIMEOUT, TP_HS__COUNT };

struct tp_metrics {
	hyp_series_t	*dgrams[2], *bytes[2];	/* in, out */
	hyp_series_t	*hs[TP_HS__COUNT];
	hyp_series_t	*retry, *vn, *resets;
	hyp_series_t	*refused[TP_REF__COUNT];
	hyp_series_t	*sessions[TP_OUT__COUNT];
	hyp_series_t	*hs_dur, *dec_dur;
};

extern const char *const tp_outcome_names[TP_OUT__COUNT];
extern const char *const tp_refusal_names[TP_REF__COUNT];

struct transport;
int	tp_metrics_init(struct transport *tp);
void	tp_metrics_stats(struct transport *tp, const struct hq_stats *now,
	    struct hq_stats *last);
void	tp_metrics_render(void *arg);

/* ---- pipeline.c / transport.c ---- */

enum tp_state {
	TP_ST_PENDING = 0,	/* admitted, handshake in progress (npending) */
	TP_ST_WAIT_CONNECT,	/* handshake done, reading Connect */
	TP_ST_REPLYING,		/* answer queued, closing after flush */
	TP_ST_CLOSING		/* closed by us, waiting for closed() */
};

struct tp_server;

/** One client connection from admission to closed(). */
struct tp_conn {
	struct tp_server	*srv;
	hq_conn_t		*c;		/* set at its first callback */
	hyp_session_t		*s;
	struct tp_ipkey		 ip;
	int			 reserved;	/* holds a per-IP slot */
	enum tp_state		 state;
	int			 deny_pending;
	int64_t			 sid;		/* first client bidi, or -1 */
	struct tp_frame		 fr;
	enum tp_outcome		 outcome;
	int			 has_outcome;
	uint8_t			*rest;		/* unsent reply bytes */
	size_t			 restlen;
	uint64_t		 deadline_us;	/* Connect deadline */
	int			 queue;		/* 1: in connect_q */
	TAILQ_ENTRY(tp_conn)	 qentry;
	TAILQ_ENTRY(tp_conn)	 sentry;	/* in srv->conns */
};
TAILQ_HEAD(tp_conn_list, tp_conn);

/** One hq_server and the connections it carries. */
struct tp_server {
	struct transport	*tp;
	hq_server_t		*hq;
	struct hq_stats		 last;		/* stats already counted */
	struct tp_conn_list	 conns;
	unsigned		 nconns;
	int			 draining;	/* replaced by a reload */
	uint64_t		 drain_deadline_us;
	int			 freeing;	/* in tp_server_free() */
	enum tp_outcome		 free_outcome;
	TAILQ_ENTRY(tp_server)	 entry;
};
TAILQ_HEAD(tp_server_list, tp_server);

struct tp_connector;

/** The plugin's state. */
struct transport {
	hyp_plugin_t		*p;
	const struct tp_conf	*conf;
	struct tp_settings	 set;
	struct tp_server	*cur;
	struct tp_server_list	 old;		/* draining after a reload */
	struct tp_iptable	 ipt;
	unsigned		 npending;	/* admitted, handshaking */
	unsigned		 nconns;	/* every tp_conn */
	struct tp_conn_list	 connect_q;
	hyp_timer_t		*deadline;
	hyp_timer_t		*tick;
	uint8_t			 token_key[HQ_SECRET_LEN];
	uint8_t			 reset_secret[HQ_SECRET_LEN];
	int			 have_token_key, have_reset_secret;
	int			 started, stopping;
	struct tp_metrics	 m;
	struct tp_connector	*cn;
	/* reload preparation */
	int			 prep;
	const struct tp_conf	*prep_conf;
	struct tp_settings	 prep_set;
	struct tp_server	*prep_srv;
	struct tp_iptable	 prep_ipt;
	int			 prep_has_ipt;
	uint8_t			 prep_token_key[HQ_SECRET_LEN];
	uint8_t			 prep_reset_secret[HQ_SECRET_LEN];
	int			 prep_have_tk, prep_have_rs;
	uint8_t			 out[16384];	/* reply encoding scratch */
};

int	tp_server_new(struct transport *tp, const struct tp_settings *set,
	    const uint8_t *token_key, const uint8_t *reset_secret,
	    struct tp_server **out);
void	tp_server_free(struct tp_server *srv, const char *outcome);
void	tp_conn_end(struct tp_conn *tc, enum tp_outcome o);
void	tp_deadline_arm(struct transport *tp);
void	tp_stop_conns(struct transport *tp);
int	tp_drained(struct transport *tp);
void	tp_tick(struct transport *tp);

int	tp_connector_init(struct transport *tp);
void	tp_connector_free(struct transport *tp);

#endif /* TRANSPORT_H */
