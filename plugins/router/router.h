/*
 * router.h: internals of the router plugin.
 *
 *   conf.c     libcyaml schema, defaults, checks; builds an rt_table
 *   table.c    tables, backends, reservations, reload carry-over
 *   health.c   health (rise/fall) and circuit breaker state machines
 *   select.c   route matching, strategies, fallback, the decision
 *   service.c  service "router" v1
 *   metrics.c  metric families and series
 *   router.c   descriptor, lifecycle, hook, timers, connector glue
 *
 * Everything but router.c is pure logic: the clock, the random source and
 * the probe launcher are function pointers in struct router, so the unit
 * test drives them.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/hyprox.h>
#include <hyprox/router.h>

#define RT_MAX_BACKENDS		1024	/* in all pools together */
#define RT_MAX_POOLS		64
#define RT_MAX_ROUTES		256
#define RT_MAX_FALLBACK		16	/* pool ids in one fallback list */
#define RT_ID_MAX		64	/* backend and pool ids */
#define RT_NAME_MAX		64	/* route names */
#define RT_HOST_MAX		255
#define RT_MSG_MAX		1024	/* deny, full and unavailable messages */
#define RT_MAX_TAGS		16
#define RT_TAG_MAX		64
#define RT_LIST_MAX		64	/* sni, alpn, crc, referral_source, cidr */
#define RT_IDLIST_MAX		4096	/* uuid, username */
#define RT_ALPN_MAX		255
#define RT_RESV_SLOTS		128	/* (expiry, count) pairs per backend */
#define RT_RESV_GRAIN		64	/* ttl / grain: coalescing step */
#define RT_DEF_PORT		5520
#define RT_PRIORITY		100	/* route hook priority */

#define RT_DEF_FULL_MSG		"All servers are full. Please try again later."
#define RT_DEF_UNAVAIL_MSG	"No server is available right now. Please " \
				"try again later."

enum rt_mode {
	RT_MODE_REDIRECT = 0,
	RT_MODE_FULL,
};

enum rt_strategy {
	RT_S_ROUND_ROBIN = 0,
	RT_S_WEIGHTED,
	RT_S_RANDOM,
	RT_S_LEAST_LOADED,
	RT_S_P2C,
	RT_S_CONSISTENT,
	RT_S_IP_HASH,
	RT_S__COUNT
};

enum rt_health {
	RT_H_UP = 0,
	RT_H_DOWN,
};

enum rt_circuit {
	RT_C_CLOSED = 0,
	RT_C_OPEN,
	RT_C_HALF_OPEN,
};

/* Decision results, the "result" label. */
enum rt_result {
	RT_R_REFER = 0,
	RT_R_PROXY,
	RT_R_DENY,
	RT_R_FALLBACK,
	RT_R__COUNT
};

/* ---- configuration as loaded by libcyaml (absent = NULL) ---- */

struct rt_conf_backend {
	char		 *id;
	char		 *host;
	uint32_t	 *port;
	uint32_t	 *weight;
	uint32_t	 *max_players;
	char		**tags;
	unsigned	  tags_count;
	int		 *drain;
};

struct rt_conf_pool {
	char			 *id;
	char			 *mode;
	char			 *strategy;
	char			**fallback;
	unsigned		  fallback_count;
	struct rt_conf_backend	 *backends;
	unsigned		  backends_count;
};

struct rt_conf_build {
	int32_t		*min;
	int32_t		*max;
};

struct rt_conf_match {
	char			**sni;
	unsigned		  sni_count;
	char			 *client_type;
	int32_t			 *protocol_crc;
	unsigned		  protocol_crc_count;
	struct rt_conf_build	 *build;
	char			**alpn;
	unsigned		  alpn_count;
	char			**referral_source;
	unsigned		  referral_source_count;
	char			**uuid;
	unsigned		  uuid_count;
	char			**username;
	unsigned		  username_count;
	char			**cidr;
	unsigned		  cidr_count;
};

struct rt_conf_route {
	char			*name;
	struct rt_conf_match	*match;
	char			*pool;
	char			*deny;
};

struct rt_conf_capacity {
	char	*reservation_ttl;
};

struct rt_conf_health {
	char		*interval;
	char		*timeout;
	uint32_t	*rise;
	uint32_t	*fall;
	char		*alpn;
	int		*enabled;
};

struct rt_conf_circuit {
	uint32_t	*failures;
	char		*open_for;
};

struct rt_conf {
	struct rt_conf_pool	*pools;
	unsigned		 pools_count;
	struct rt_conf_route	*routes;
	unsigned		 routes_count;
	char			*default_pool;
	struct rt_conf_capacity	*capacity;
	char			*full_message;
	char			*unavailable_message;
	struct rt_conf_health	*health;
	struct rt_conf_circuit	*circuit;
};

extern const cyaml_schema_value_t rt_conf_schema;

/* ---- effective tables ---- */

struct rt_settings {
	uint32_t	ttl_ms;
	char		full_message[RT_MSG_MAX + 1];
	char		unavail_message[RT_MSG_MAX + 1];
	int		default_pool;		/* index, -1: none */
	int		health_enabled;
	uint32_t	interval_ms;
	uint32_t	timeout_ms;
	uint32_t	rise;
	uint32_t	fall;
	char		alpn[RT_ALPN_MAX + 1];
	uint32_t	cb_failures;
	uint32_t	open_ms;
};

struct rt_resv {
	uint64_t	until;		/* expiry, us */
	uint32_t	n;
};

struct rt_pool;

struct rt_backend {
	char			 id[RT_ID_MAX + 1];
	char			 host[RT_HOST_MAX + 1];
	uint16_t		 port;
	uint32_t		 weight;
	uint32_t		 max_players;	/* 0: unlimited */
	char			 tags[RT_MAX_TAGS][RT_TAG_MAX + 1];
	size_t			 ntags;
	int			 drain_conf;
	int			 drain_rt;	/* service drain() */
	int			 dynamic;
	struct rt_pool		*pool;
	hyp_backend_t		*hb;		/* handed to sessions */

	/* Health: consecutive probe results. */
	enum rt_health		 health;
	uint32_t		 h_ok;
	uint32_t		 h_fail;
	uint64_t		 next_probe_us;
	int			 probing;
	uint64_t		 probe_seq;
	void			*probe;		/* launcher's handle */

	/* Circuit breaker. */
	enum rt_circuit		 circuit;
	uint32_t		 c_fail;
	uint64_t		 open_until;
	uint64_t		 trial_until;	/* HALF_OPEN trial in flight */

	/* Load. */
	uint32_t		 players;
	uint32_t		 reserved;
	struct rt_resv		 resv[RT_RESV_SLOTS];
	unsigned		 rhead;
	unsigned		 rcount;
	int64_t			 cw;		/* smooth WRR current weight */

	/* Reporting. */
	int			 state;		/* last hyp_router_state, -1 new */
	char			 why[128];
	int			 carry;		/* reload: state to copy */
	hyp_series_t		*m_up;
	hyp_series_t		*m_players;
	hyp_series_t		*m_reserved;
};

struct rt_pool {
	char			 id[RT_ID_MAX + 1];
	enum rt_mode		 mode;
	enum rt_strategy	 strategy;
	int			 fallback[RT_MAX_FALLBACK];
	size_t			 nfallback;
	struct rt_backend	**b;
	size_t			 nb;
	size_t			 cap;
	uint32_t		 rr;
	hyp_series_t		*m_dec[RT_R__COUNT];
};

struct rt_refsrc {
	char		host[RT_HOST_MAX + 1];
	int		port;		/* -1: any */
};

struct rt_match {
	char		**sni;		/* lowercased, no trailing dot */
	size_t		  nsni;
	int		  client_type;	/* -1: any */
	int32_t		 *crc;
	size_t		  ncrc;
	int		  has_build;
	int32_t		  build_min;
	int32_t		  build_max;
	char		**alpn;
	size_t		  nalpn;
	struct rt_refsrc *ref;
	size_t		  nref;
	uint8_t		(*uuid)[16];
	size_t		  nuuid;
	char		**user;		/* lowercased */
	size_t		  nuser;
	struct hyp_cidr	 *cidr;
	size_t		  ncidr;
};

struct rt_route {
	char		 name[RT_NAME_MAX + 1];
	struct rt_match	 m;
	int		 pool;		/* index, -1 with deny */
	char		*deny;
};

struct rt_table {
	struct rt_settings	 set;
	struct rt_pool		*pools;
	size_t			 npools;
	struct rt_route		*routes;
	size_t			 nroutes;
	struct rt_backend	*all[RT_MAX_BACKENDS];
	size_t			 nb;
	int			 active;	/* hb and series created */
};

struct rt_metrics {
	hyp_metric_t	*decisions;
	hyp_metric_t	*up;
	hyp_metric_t	*players;
	hyp_metric_t	*reserved;
	hyp_metric_t	*changes;
	hyp_metric_t	*probes;
	hyp_series_t	*nopool[RT_R__COUNT];
	hyp_series_t	*probe_ok;
	hyp_series_t	*probe_fail;
	hyp_series_t	*probe_timeout;
};

struct router;

/* Injectable environment (router.c sets the real ones). */
typedef uint64_t	(*rt_now_fn)(struct router *r);
typedef uint32_t	(*rt_rand_fn)(struct router *r, uint32_t upper);
typedef int		(*rt_probe_fn)(struct router *r, struct rt_backend *b);
typedef void		(*rt_cancel_fn)(struct router *r, struct rt_backend *b);

struct router {
	hyp_plugin_t		*p;
	struct rt_table		*cur;
	struct rt_table		*prep;
	rt_now_fn		 now;
	rt_rand_fn		 rand;
	rt_probe_fn		 probe_start;	/* NULL: health off */
	rt_cancel_fn		 probe_cancel;
	void			*env;		/* router.c / the test */
	uint64_t		 probe_seq;
	int			 health_on;	/* probes run */
	struct rt_metrics	 m;
	int			 have_metrics;
};

/* conf.c */
int	rt_conf_check(const void *conf, char *err, size_t errlen);
int	rt_table_build(const struct rt_conf *c, struct rt_table **out,
	    char *err, size_t errlen);
const char *rt_strategy_name(enum rt_strategy s);
int	rt_parse_uuid(const char *s, uint8_t out[16]);
int	rt_id_valid(const char *s);

/* table.c */
void	rt_table_free(struct router *r, struct rt_table *t);
int	rt_table_activate(struct router *r, struct rt_table *t);
struct rt_backend *rt_find(const struct rt_table *t, const char *id);
int	rt_pool_find(const struct rt_table *t, const char *id);
struct rt_backend *rt_backend_new(const char *id, const char *host,
	    uint16_t port);
void	rt_backend_free(struct router *r, struct rt_backend *b);
int	rt_pool_add(struct rt_pool *pl, struct rt_backend *b);
void	rt_pool_del(struct rt_pool *pl, struct rt_backend *b);
void	rt_resv_add(struct rt_backend *b, uint64_t now, uint32_t ttl_ms);
void	rt_resv_expire(struct rt_backend *b, uint64_t now);
int	rt_reload_prepare(struct router *r, const struct rt_conf *c,
	    char *err, size_t errlen);
void	rt_reload_commit(struct router *r);
void	rt_reload_abort(struct router *r);
void	rt_router_init(struct router *r, hyp_plugin_t *p);
void	rt_router_free(struct router *r);

/* health.c */
enum hyp_router_state rt_state(const struct router *r, struct rt_backend *b,
	    uint64_t now);
const char *rt_state_name(enum hyp_router_state st);
int	rt_eligible(struct router *r, struct rt_backend *b,
	    uint64_t now, int *full);
void	rt_sync(struct router *r, struct rt_backend *b, uint64_t now);
void	rt_health_result(struct router *r, struct rt_backend *b, int ok,
	    int timeout, const char *detail, uint64_t now);
void	rt_circuit_failure(struct router *r, struct rt_backend *b,
	    uint64_t now);
void	rt_trial_begin(struct router *r, struct rt_backend *b, uint64_t now);
void	rt_tick(struct router *r, uint64_t now);
void	rt_health_fresh(struct router *r, struct rt_backend *b, uint64_t now);

/* select.c */
int	rt_match_session(const struct rt_match *m, hyp_session_t *s);
int	rt_sni_match(const char *pattern, const char *name);
struct rt_backend *rt_pick(struct router *r, struct rt_pool *pl,
	    hyp_session_t *s, uint64_t now, int *full);
double	rt_rendezvous_score(const uint8_t *key, size_t keylen,
	    const char *id, uint32_t weight);
enum hyp_hook_rc rt_route_session(struct router *r, hyp_session_t *s);

/* service.c */
extern const struct hyp_router_v1 rt_service_v1;

/* metrics.c */
void	rt_metrics_init(struct router *r);
void	rt_metrics_pool(struct router *r, struct rt_pool *pl);
void	rt_metrics_backend(struct router *r, struct rt_backend *b);
void	rt_metrics_load(struct rt_backend *b);
void	rt_metrics_state_change(struct router *r, struct rt_backend *b,
	    enum hyp_router_state st);
void	rt_metrics_gone(struct rt_backend *b);

#endif /* ROUTER_H */
