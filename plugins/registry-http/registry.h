/*
 * registry.h: internals of the registry-http plugin.
 *
 *   conf.c      libcyaml schema of the plugin's file, defaults, checks,
 *               orchestrators (secrets, CIDRs, pools, prefixes, ports)
 *   sign.c      canonical request string, HMAC-SHA256, nonce replay cache
 *   json.c      strict JSON: syntax check, schema pass over libyaml
 *               events, libcyaml decode of request bodies and state file
 *   store.c     entries sorted by id, expiry, listing, JSON output,
 *               the state file's text
 *   api.c       one HTTP request in, one response out: authentication,
 *               rate limits, allowlists, changes, audit events, metrics
 *   registry.c  descriptor, lifecycle, evhttp glue, timers, activation
 *               probes through the "connector" service, state file I/O
 *
 * Everything but registry.c is pure logic: the clock, the router, the
 * activation launcher and the persistence trigger are pointers in struct
 * registry, so the unit test drives them.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <hyprox/hyprox.h>
#include <hyprox/router.h>

#define REG_ID_MAX		64	/* backend, pool, orchestrator ids */
#define REG_HOST_MAX		45	/* numeric address (INET6_ADDRSTRLEN - 1) */
#define REG_MAX_TAGS		16
#define REG_TAG_MAX		64
#define REG_MAX_ORCH		32
#define REG_LIST_MAX		64	/* cidrs, pools, prefixes, ports, sans */
#define REG_NONCE_MIN		16
#define REG_NONCE_MAX		64
#define REG_TS_MAX		12	/* digits of a timestamp */
#define REG_SIG_HEX		64
#define REG_SECRET_MIN		32	/* bytes of an orchestrator secret */
#define REG_MAX_DEPTH		4	/* JSON nesting refused beyond this */
#define REG_RATE_SOURCES	256	/* (orchestrator, address) buckets */
#define REG_LIST_DEF		100	/* GET limit default */
#define REG_LIST_LIMIT		500	/* GET limit maximum */
#define REG_URI_MAX		1024
#define REG_ERRMSG_MAX		256
#define REG_DEF_LISTEN		"127.0.0.1:9521"
#define REG_DEF_MAX_BODY	16384
#define REG_DEF_MAX_ENTRIES	1024
#define REG_DEF_NONCES		65536
#define REG_PREFIX		"HYPROX-HMAC-SHA256"

/* ---- configuration as loaded by libcyaml (absent = NULL) ---- */

struct reg_conf_rate {
	uint32_t	*per_second;
	uint32_t	*burst;
};

struct reg_conf_orch {
	char			 *id;
	char			 *secret;
	char			**cidrs;
	unsigned		  cidrs_count;
	char			**pools;
	unsigned		  pools_count;
	char			**id_prefixes;
	unsigned		  id_prefixes_count;
	char			**ports;
	unsigned		  ports_count;
	int			 *allow_public;
	int			 *allow_loopback;
	struct reg_conf_rate	 *rate;
};

struct reg_conf_activation {
	int		 *enabled;
	char		**sans;
	unsigned	  sans_count;
	char		 *timeout;
	char		 *retry;
};

struct reg_conf {
	char				*listen;
	struct reg_conf_orch		*orchestrators;
	unsigned			 orchestrators_count;
	uint32_t			*max_body;
	uint32_t			*max_entries;
	uint32_t			*nonce_cache;
	char				*default_ttl;
	char				*max_ttl;
	char				*grace;
	char				*skew;
	char				*state_file;
	char				*state_delay;
	struct reg_conf_activation	*activation;
};

extern const cyaml_schema_value_t reg_conf_schema;

/* ---- effective settings ---- */

struct reg_range {
	uint16_t	lo;
	uint16_t	hi;
};

struct reg_orch {
	char		 id[REG_ID_MAX + 1];
	uint8_t		*secret;
	size_t		 secretlen;
	struct hyp_cidr	 cidrs[REG_LIST_MAX];
	size_t		 ncidrs;
	char		 pools[REG_LIST_MAX][REG_ID_MAX + 1];
	size_t		 npools;
	char		 prefixes[REG_LIST_MAX][REG_ID_MAX + 1];
	size_t		 nprefixes;	/* 0: any id */
	struct reg_range ports[REG_LIST_MAX];
	size_t		 nports;
	int		 allow_public;
	int		 allow_loopback;
	uint32_t	 rate;		/* requests per second */
	uint32_t	 burst;
};

struct reg_settings {
	char		 listen_host[REG_HOST_MAX + 1];
	uint16_t	 listen_port;
	struct reg_orch	*orch;
	size_t		 norch;
	uint32_t	 max_body;
	uint32_t	 max_entries;
	uint32_t	 nonce_cache;
	uint32_t	 default_ttl_ms;
	uint32_t	 max_ttl_ms;
	uint32_t	 grace_ms;
	uint32_t	 skew_ms;
	char		*state_file;	/* resolved; NULL: not persisted */
	uint32_t	 state_delay_ms;
	int		 act_enabled;
	char		 sans[REG_LIST_MAX][REG_TAG_MAX + 1];
	size_t		 nsans;
	uint32_t	 act_timeout_ms;
	uint32_t	 act_retry_ms;
};

/* ---- request bodies, decoded by libcyaml (absent = NULL) ---- */

struct reg_body_register {
	char		 *id;
	char		 *pool;
	char		 *host;
	uint32_t	 *port;
	uint32_t	 *weight;
	uint32_t	 *max_players;
	char		**tags;
	unsigned	  tags_count;
	uint32_t	 *ttl_seconds;
};

struct reg_body_heartbeat {
	uint32_t	*players;
	uint32_t	*max_players;
	char		*state;
};

/* The empty body of drain (an object with no keys, or nothing). */
struct reg_body_empty {
	int	unused;
};

/* The state file. */
struct reg_file_entry {
	char		 *id;
	char		 *pool;
	char		 *host;
	uint32_t	 *port;
	uint32_t	 *weight;
	uint32_t	 *max_players;
	char		**tags;
	unsigned	  tags_count;
	uint32_t	 *ttl_ms;
	uint64_t	 *expires_ms;
	char		 *owner;
	int		 *drain;
	int		 *starting;
	int		 *quarantined;
	uint32_t	 *players;
};

struct reg_file {
	uint32_t		*version;
	struct reg_file_entry	*entries;
	unsigned		 entries_count;
};

extern const cyaml_schema_value_t reg_register_schema;
extern const cyaml_schema_value_t reg_heartbeat_schema;
extern const cyaml_schema_value_t reg_empty_schema;
extern const cyaml_schema_value_t reg_file_schema;

/* Rejection classes of the body parser (the "error" member). */
enum reg_perr {
	REG_P_OK = 0,
	REG_P_MALFORMED,	/* not RFC 8259 JSON, or not an object */
	REG_P_TOO_DEEP,		/* nesting beyond REG_MAX_DEPTH or the schema */
	REG_P_BAD_TYPE,		/* a JSON value of the wrong type */
	REG_P_UNKNOWN_FIELD,
	REG_P_DUPLICATE_FIELD,
	REG_P_MISSING_FIELD,
	REG_P_BAD_VALUE,	/* right type, out of range or bad characters */
	REG_P_NOMEM,
};

/* ---- entries ---- */

struct reg_entry {
	char		 id[REG_ID_MAX + 1];
	char		 pool[REG_ID_MAX + 1];
	char		 host[REG_HOST_MAX + 1];
	uint16_t	 port;
	uint32_t	 weight;
	uint32_t	 max_players;
	char		 tags[REG_MAX_TAGS][REG_TAG_MAX + 1];
	size_t		 ntags;
	uint32_t	 ttl_ms;
	int64_t		 expires_ms;	/* unix ms: last heartbeat + ttl */
	char		 owner[REG_ID_MAX + 1];
	int		 drain;		/* drain requested: sticky */
	int		 starting;	/* heartbeat state "starting" */
	int		 quarantined;	/* activation probe not passed yet */
	int		 in_router;	/* upserted into the router */
	uint32_t	 players;
	/* Activation. */
	int		 probing;
	uint64_t	 probe_seq;
	void		*probe;		/* launcher's handle */
	int64_t		 next_probe_ms;
	char		 why[128];	/* last activation result */
};

struct reg_store {
	struct reg_entry	**e;	/* sorted by id */
	size_t			  n;
	size_t			  cap;
};

/* ---- nonce replay cache ---- */

struct reg_nonce {
	uint8_t		key[16];	/* keyed hash of key id and nonce */
	int64_t		until_ms;	/* 0: empty slot */
};

struct reg_nonces {
	struct reg_nonce	*slot;
	size_t			 cap;		/* power of two */
	size_t			 used;		/* live + expired slots */
	size_t			 max;		/* live entries allowed */
	uint8_t			 salt[16];
};

/* ---- rate limiter ---- */

struct reg_bucket {
	int		orch;		/* -1: free */
	uint8_t		addr[16];
	double		tokens;
	int64_t		last_ms;
};

/* ---- one HTTP exchange, independent of evhttp ---- */

struct reg_request {
	const char		*method;	/* "GET", "POST", "DELETE", ... */
	const char		*uri;		/* path and query as sent */
	const char		*key;		/* X-Hyprox-Key, or NULL */
	const char		*timestamp;	/* X-Hyprox-Timestamp */
	const char		*nonce;		/* X-Hyprox-Nonce */
	const char		*signature;	/* X-Hyprox-Signature */
	const char		*content_type;
	const uint8_t		*body;
	size_t			 bodylen;
	struct sockaddr_storage	 src;
};

struct reg_response {
	int		 status;
	char		*body;		/* malloc'd JSON, or NULL */
	size_t		 len;
	uint32_t	 retry_after;	/* seconds; 0: no header */
};

/* ---- metrics ---- */

enum reg_endpoint {
	REG_EP_REGISTER = 0,
	REG_EP_HEARTBEAT,
	REG_EP_DRAIN,
	REG_EP_REMOVE,
	REG_EP_LIST,
	REG_EP_OTHER,
	REG_EP__COUNT
};

struct reg_metrics {
	hyp_metric_t	*requests;
	hyp_metric_t	*entries;
	hyp_metric_t	*expired;
	hyp_metric_t	*rejected;
	hyp_series_t	*s_entries;
};

/* ---- the registry ---- */

struct registry;

typedef int64_t	(*reg_clock_fn)(struct registry *r);
typedef int	(*reg_probe_fn)(struct registry *r, struct reg_entry *e);
typedef void	(*reg_cancel_fn)(struct registry *r, struct reg_entry *e);
typedef void	(*reg_dirty_fn)(struct registry *r);

struct registry {
	hyp_plugin_t			*p;
	struct reg_settings		*set;
	struct reg_store		 st;
	struct reg_nonces		 nonces;
	struct reg_bucket		 buckets[REG_RATE_SOURCES];
	const struct hyp_router_v1	*rt;
	void				*rt_ctx;
	reg_clock_fn			 now_ms;	/* unix milliseconds */
	reg_probe_fn			 probe_start;	/* NULL: no activation */
	reg_cancel_fn			 probe_cancel;
	reg_dirty_fn			 dirty;		/* state changed */
	void				*env;		/* registry.c / test */
	uint64_t			 probe_seq;
	int				 stopping;
	struct reg_metrics		 m;
	int				 have_metrics;
};

/* conf.c */
int	reg_conf_check(const void *conf, char *err, size_t errlen);
int	reg_settings_build(const struct reg_conf *c, const char *basedir,
	    int read_secrets, struct reg_settings **out, char *err,
	    size_t errlen);
void	reg_settings_free(struct reg_settings *s);
int	reg_parse_range(const char *s, struct reg_range *out);
int	reg_id_valid(const char *s);
int	reg_tag_valid(const char *s);
int	reg_addr_bytes(const struct sockaddr *sa, uint8_t out[16], int *fam);
const char *reg_addr_class(const char *host, int allow_public,
	    int allow_loopback, int *fam);

/* sign.c */
int	reg_canonical(const char *method, const char *uri, const char *ts,
	    const char *nonce, const uint8_t *body, size_t bodylen, char *out,
	    size_t cap);
void	reg_sign(const uint8_t *key, size_t keylen, const char *canonical,
	    char hex[REG_SIG_HEX + 1]);
int	reg_sig_equal(const char *a, const char *b);
int	reg_nonce_valid(const char *n);
int	reg_ts_parse(const char *s, int64_t *out);
int	reg_nonces_init(struct reg_nonces *c, size_t max);
void	reg_nonces_free(struct reg_nonces *c);
int	reg_nonce_check_add(struct reg_nonces *c, const char *key,
	    const char *nonce, int64_t until_ms, int64_t now_ms);

/* json.c */
int	reg_json_syntax(const uint8_t *s, size_t len, int maxdepth,
	    size_t *where);
int	reg_json_decode(const uint8_t *s, size_t len,
	    const cyaml_schema_value_t *schema, void **out, char *msg,
	    size_t msglen);
void	reg_json_free(const cyaml_schema_value_t *schema, void *data);
const char *reg_perr_code(int e);
int	reg_file_load(const uint8_t *s, size_t len, struct reg_file **out,
	    char *msg, size_t msglen);
void	reg_file_free(struct reg_file *f);

/* store.c */
struct reg_entry *reg_store_find(const struct reg_store *st, const char *id);
int	reg_store_add(struct reg_store *st, struct reg_entry *e);
void	reg_store_del(struct reg_store *st, struct reg_entry *e);
void	reg_store_free(struct reg_store *st);
size_t	reg_store_after(const struct reg_store *st, const char *cursor);
const char *reg_entry_state(const struct reg_entry *e);
int	reg_entry_json(char *out, size_t cap, const struct reg_entry *e,
	    int64_t now_ms);
size_t	reg_json_str(char *out, size_t cap, const char *s);
int	reg_state_text(const struct reg_store *st, char **out, size_t *len);

/* api.c */
void	reg_init(struct registry *r, hyp_plugin_t *p);
void	reg_free(struct registry *r);
void	reg_handle(struct registry *r, const struct reg_request *q,
	    struct reg_response *out);
void	reg_tick(struct registry *r);
void	reg_activation_result(struct registry *r, struct reg_entry *e,
	    int ok, const char *detail);
int	reg_restore(struct registry *r, const struct reg_file *f,
	    size_t *kept, size_t *dropped);
int	reg_router_sync(struct registry *r, struct reg_entry *e);
void	reg_metrics_init(struct registry *r);
void	reg_audit(struct registry *r, const char *actor, const char *action,
	    const char *object, int ok, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

#endif /* REGISTRY_H */
