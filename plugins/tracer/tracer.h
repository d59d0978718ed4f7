/*
 * tracer.h: internal interfaces of the tracer plugin (structured event
 * log with correlation ids, packet tracing with an allowlist, an
 * in-memory ring of the last events).  Nothing here crosses the ABI.
 */
#ifndef TRACER_H
#define TRACER_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include <hyprox/hyprox.h>

/* ---- limits ---- */

#define TR_LIST_MAX		64	/* entries of each allowlist */
#define TR_RING_MAX		100000	/* ring_size bound */
#define TR_SLOT			1024	/* bytes of one ring slot */
#define TR_LINE_MAX		16384	/* bytes of one event line */
#define TR_HEX_DEF		256	/* payload_hex_max default */
#define TR_HEX_MAX		4096	/* payload_hex_max bound */
#define TR_PATH_MAX		4096
#define TR_PRIORITY		(-1000)	/* run before deciding handlers */

/* ---- conf.c: schema, defaults and checks ---- */

/** packets: as libcyaml loads it (NULL: key absent). */
struct tr_conf_packets {
	char		**clients;
	unsigned	  clients_count;
	char		**uuids;
	unsigned	  uuids_count;
	char		**usernames;
	unsigned	  usernames_count;
	uint32_t	 *packet_ids;
	unsigned	  packet_ids_count;
	int		 *payload_hex;
	uint32_t	 *payload_hex_max;
};

/** The conf.d file as libcyaml loads it; owned by the host. */
struct tr_conf {
	char			*output;
	uint32_t		*ring_size;
	char			*ring_dump;
	struct tr_conf_packets	*packets;
};

/** Where events go. */
enum tr_output {
	TR_OUT_STDERR = 0,
	TR_OUT_FILE,
	TR_OUT_NONE,
};

/** The packet allowlist after checks; strings point into the tr_conf. */
struct tr_allow {
	struct hyp_cidr	 clients[TR_LIST_MAX];
	unsigned	 nclients;
	uint8_t		 uuids[TR_LIST_MAX][16];
	unsigned	 nuuids;
	const char	*usernames[TR_LIST_MAX];
	unsigned	 nusernames;
	uint32_t	 ids[TR_LIST_MAX];
	unsigned	 nids;		/* 0: every packet id */
	int		 payload_hex;
	uint32_t	 payload_hex_max;
};

/** Effective settings; strings point into the tr_conf. */
struct tr_settings {
	enum tr_output	 output;
	const char	*path;		/* TR_OUT_FILE: as configured */
	uint32_t	 ring_size;	/* 0: no ring */
	const char	*ring_dump;	/* as configured, or NULL */
	struct tr_allow	 allow;
};

extern const cyaml_schema_value_t tr_conf_schema;

int	tr_settings_make(const struct tr_conf *c, struct tr_settings *out,
	    char *err, size_t errlen);
int	tr_conf_check(const void *conf, char *err, size_t errlen);
int	tr_allow_session(const struct tr_allow *a, const hyp_session_t *s);
int	tr_allow_id(const struct tr_allow *a, uint32_t id);
int	tr_hex_forbidden(uint32_t id);

/* ---- json.c: the bounded event line writer ---- */

/** One event line being written into a caller-owned buffer. */
struct tr_buf {
	char	*p;
	size_t	 cap;		/* room for the line and its terminator */
	size_t	 len;
	size_t	 hdr;		/* end of ts, event and session */
	int	 overflow;
};

void	tr_buf_init(struct tr_buf *b, char *mem, size_t cap);
void	tr_begin(struct tr_buf *b, uint64_t unix_us, const char *event,
	    const char *session);
size_t	tr_end(struct tr_buf *b);
void	tr_jstr(struct tr_buf *b, const char *key, const char *v);
void	tr_jbytes(struct tr_buf *b, const char *key, const uint8_t *v,
	    size_t len);
void	tr_ju64(struct tr_buf *b, const char *key, uint64_t v);
void	tr_ji64(struct tr_buf *b, const char *key, int64_t v);
void	tr_jbool(struct tr_buf *b, const char *key, int v);
void	tr_jnull(struct tr_buf *b, const char *key);
void	tr_jhex(struct tr_buf *b, const char *key, const uint8_t *v,
	    size_t len);
void	tr_jms(struct tr_buf *b, const char *key, uint64_t from_us,
	    uint64_t to_us);

/* ---- event.c: one function per event kind ---- */

void	tr_ev_accept(struct tr_buf *b, uint64_t ts, hyp_session_t *s);
void	tr_ev_handshake(struct tr_buf *b, uint64_t ts, hyp_session_t *s);
void	tr_ev_connect(struct tr_buf *b, uint64_t ts, hyp_session_t *s);
void	tr_ev_decision(struct tr_buf *b, uint64_t ts, hyp_session_t *s);
void	tr_ev_referral(struct tr_buf *b, uint64_t ts, hyp_session_t *s,
	    const struct hyp_packet_info *pi);
void	tr_ev_session_end(struct tr_buf *b, uint64_t ts, hyp_session_t *s);
void	tr_ev_packet(struct tr_buf *b, uint64_t ts, hyp_session_t *s,
	    const struct hyp_packet_info *pi, const struct tr_allow *a);
void	tr_ev_audit(struct tr_buf *b, uint64_t ts,
	    const struct hyp_audit_event *ev);
void	tr_ev_plugin(struct tr_buf *b, uint64_t ts,
	    const struct hyp_plugin_event *ev);
void	tr_ev_reload(struct tr_buf *b, uint64_t ts);
const char *tr_reason_value(const char *reason, const char *key, char *out,
	    size_t outlen);

/* ---- ring.c: the last N events in fixed-size slots ---- */

/** A ring of fixed-size slots; the oldest event is overwritten. */
struct tr_ring {
	char		*slots;		/* n * TR_SLOT bytes */
	uint16_t	*lens;
	uint32_t	 n;
	uint32_t	 head;		/* next slot to write */
	uint32_t	 count;		/* events held (≤ n) */
	uint64_t	 total;		/* events ever pushed */
};

int	tr_ring_init(struct tr_ring *r, uint32_t n);
void	tr_ring_free(struct tr_ring *r);
void	tr_ring_push(struct tr_ring *r, const char *line, size_t len,
	    size_t hdr);
int	tr_ring_dump(const struct tr_ring *r, int fd);

#endif /* TRACER_H */
