/*
 * mx.h: internals of the metrics plugin.
 *
 *   conf.c     libcyaml schema, defaults and checks; parses "host:port"
 *   util.c     bounded JSON buffer, Authorization header check, endpoints
 *   process.c  build info and process_* metrics (read at render time)
 *   metrics.c  descriptor, lifecycle, the evhttp listener and its handlers
 *
 * conf.c and util.c are pure logic, compiled into check_metrics_http too.
 */
#ifndef MX_H
#define MX_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/hyprox.h>

#define MX_DEF_LISTEN		"127.0.0.1:9520"
#define MX_DEF_PORT		9520
#define MX_ADDR_MAX		64	/* numeric address, no brackets */
#define MX_LISTEN_MAX		80	/* "[addr]:port" */
#define MX_DEF_MAX_CONNS	64
#define MX_MAX_CONNS		4096
#define MX_DEF_TIMEOUT_MS	10000
#define MX_DEF_HEADERS		8192
#define MX_DEF_BODY		1024
#define MX_TOKEN_MAX		4096
#define MX_JSON_MAX		(64u * 1024)	/* largest JSON body */

/* The configuration as libcyaml loads it (absent = NULL). */
struct mx_conf {
	char		*listen;
	char		*bearer_token;
	int		*process_metrics;
	uint32_t	*max_connections;
	char		*timeout;
	uint32_t	*max_headers_size;
	uint32_t	*max_body_size;
};

/* Settings after defaults and checks. */
struct mx_settings {
	char		 addr[MX_ADDR_MAX + 1];	/* numeric, no brackets */
	int		 family;		/* 4 or 6 */
	uint16_t	 port;			/* 0: any (tests) */
	const char	*bearer_token;		/* reference, or NULL */
	int		 process_metrics;
	uint32_t	 max_connections;
	uint32_t	 timeout_ms;
	uint32_t	 max_headers_size;
	uint32_t	 max_body_size;
};

/* Endpoints, the "endpoint" label. */
enum mx_endpoint {
	MX_EP_METRICS = 0,
	MX_EP_HEALTHZ,
	MX_EP_READYZ,
	MX_EP_OTHER,
	MX_EP__COUNT
};

/* A bounded growing buffer for JSON bodies. */
struct mx_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
	int		 err;		/* HYP_ENOMEM or HYP_ENOSPC, sticky */
};

/* conf.c */
extern const cyaml_schema_value_t mx_conf_schema;
int	mx_conf_check(const void *conf, char *err, size_t errlen);
int	mx_settings_make(const struct mx_conf *c, struct mx_settings *out,
	    char *err, size_t errlen);

/* util.c */
void	mx_buf_add(struct mx_buf *b, const char *s, size_t n);
void	mx_buf_adds(struct mx_buf *b, const char *s);
void	mx_buf_printf(struct mx_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	mx_buf_json_str(struct mx_buf *b, const char *s);
void	mx_buf_free(struct mx_buf *b);
enum mx_endpoint mx_endpoint_of(const char *path);
const char *mx_endpoint_name(enum mx_endpoint ep);
int	mx_auth_ok(const char *header, const uint8_t *token, size_t tokenlen);

/* process.c */
struct mx_process;
struct mx_process *mx_process_new(hyp_plugin_t *p, int process_metrics);
void	mx_process_free(struct mx_process *pm);
double	mx_process_start_time(const struct mx_process *pm);

#endif /* MX_H */
