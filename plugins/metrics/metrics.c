/*
 * metrics.c: the metrics plugin's descriptor and lifecycle: an HTTP
 * listener on the host's libevent base (evhttp) serving /metrics (the
 * host's registry in the Prometheus text format 0.0.4), /healthz and
 * /readyz (JSON), with an optional bearer token.
 *
 * libevent 2.1 has no connection cap for evhttp, so connections are
 * counted when their first request arrives (and forgotten by the close
 * callback): past max_connections a new connection is answered 503 and
 * closed.  A connection that never sends a request is closed by the
 * timeout.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "mx.h"

/* The HTTP status codes this plugin answers with: the "code" label. */
enum mx_code {
	MX_C_200 = 0,
	MX_C_401,
	MX_C_404,
	MX_C_405,
	MX_C_500,
	MX_C_503,
	MX_C__COUNT
};

static const int	 mx_code_num[MX_C__COUNT] = {
	200, 401, 404, 405, 500, 503
};
static const char *const mx_code_name[MX_C__COUNT] = {
	"200", "401", "404", "405", "500", "503"
};
static const char *const mx_code_reason[MX_C__COUNT] = {
	"OK", "Unauthorized", "Not Found", "Method Not Allowed",
	"Internal Server Error", "Service Unavailable"
};

/* The plugin's state. */
struct mx {
	hyp_plugin_t			*p;
	struct mx_settings		 set;
	struct evhttp			*http;
	struct evhttp_bound_socket	*sock;
	uint16_t			 port;		/* bound */
	uint8_t				*token;
	size_t				 tokenlen;
	struct mx_process		*pm;
	uint64_t			 start_us;
	/* connections seen, at most set.max_connections */
	struct evhttp_connection	**conns;
	unsigned			 nconns;
	/* metrics */
	hyp_metric_t			*m_requests;
	hyp_series_t			*m_scrapes[MX_C__COUNT];
	hyp_series_t			*m_req[MX_EP__COUNT][MX_C__COUNT];
	hyp_series_t			*m_conns;
	hyp_series_t			*m_refused;
	/* reload preparation */
	int				 prep;
	struct mx_settings		 prep_set;
	struct evhttp_bound_socket	*prep_sock;
	uint16_t			 prep_port;
	uint8_t				*prep_token;
	size_t				 prep_tokenlen;
};

/* What a /readyz report callback collects. */
struct mx_ready {
	struct mx_buf	 checks;
	unsigned	 n;
	int		 listener;	/* a "listener" check was reported */
};

/* Read the bearer token of set into *tok; 0 with NULL when none is set. */
static int
read_token(struct mx *mx, const struct mx_settings *set, uint8_t **tok,
    size_t *len)
{
	char	err[256] = "";
	int	warn = 0, rc;

	*tok = NULL;
	*len = 0;
	if (set->bearer_token == NULL)
		return (0);
	rc = hyp_secret_read(set->bearer_token, hyp_plugin_conf_dir(mx->p),
	    tok, len, &warn, err, sizeof(err));
	if (rc != 0) {
		hyp_log(mx->p, HYP_LOG_ERR, "bearer_token: %s", err[0] != '\0' ?
		    err : hyp_strerror(rc));
		return (rc);
	}
	if (warn)
		hyp_log(mx->p, HYP_LOG_WARNING, "bearer_token: the secret file "
		    "is readable by group or others");
	if (*len > MX_TOKEN_MAX || memchr(*tok, '\0', *len) != NULL ||
	    memchr(*tok, '\n', *len) != NULL) {
		hyp_log(mx->p, HYP_LOG_ERR, "bearer_token: must be one line "
		    "of at most %d bytes", MX_TOKEN_MAX);
		hyp_secret_free(*tok, *len);
		*tok = NULL;
		*len = 0;
		return (HYP_ESECRET);
	}
	return (0);
}

/* Register the plugin's own metrics. */
static void
metrics_init(struct mx *mx)
{
	static const char *const code[] = { "code", NULL };
	static const char *const ep_code[] = { "endpoint", "code", NULL };
	hyp_metric_t	*sc, *rq, *m;
	const char	*v[1];
	int		 err = 0, c;

	sc = hyp_metric_new(mx->p, HYP_METRIC_COUNTER,
	    "hyprox_metrics_scrapes_total", "Requests for /metrics by HTTP "
	    "status code.", code, MX_C__COUNT, NULL, 0, &err);
	rq = hyp_metric_new(mx->p, HYP_METRIC_COUNTER,
	    "hyprox_metrics_http_requests_total", "Requests to the metrics "
	    "listener by endpoint (metrics, healthz, readyz, other) and HTTP "
	    "status code.", ep_code, MX_EP__COUNT * MX_C__COUNT, NULL, 0, &err);
	/* Every scrape code shows from the start; requests on first use. */
	for (c = 0; c < MX_C__COUNT; c++) {
		v[0] = mx_code_name[c];
		mx->m_scrapes[c] = sc != NULL ? hyp_metric_series(sc, v) : NULL;
	}
	mx->m_requests = rq;
	m = hyp_metric_new(mx->p, HYP_METRIC_GAUGE,
	    "hyprox_metrics_http_connections", "Connections to the metrics "
	    "listener that have sent a request and are still open.", NULL, 0,
	    NULL, 0, &err);
	mx->m_conns = m != NULL ? hyp_metric_series(m, NULL) : NULL;
	m = hyp_metric_new(mx->p, HYP_METRIC_COUNTER,
	    "hyprox_metrics_http_connections_refused_total", "Connections "
	    "answered 503 and closed because max_connections were open.",
	    NULL, 0, NULL, 0, &err);
	mx->m_refused = m != NULL ? hyp_metric_series(m, NULL) : NULL;
	if (err != 0)
		hyp_log(mx->p, HYP_LOG_WARNING, "metrics: %s", hyp_strerror(err));
}

/* The close callback: forget the connection. */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct mx	*mx = arg;
	unsigned	 i;

	for (i = 0; i < mx->nconns; i++) {
		if (mx->conns[i] == evcon) {
			mx->conns[i] = mx->conns[--mx->nconns];
			hyp_series_set(mx->m_conns, mx->nconns);
			return;
		}
	}
}

/* Count a request's connection; 0 when it is over the cap. */
static int
conn_admit(struct mx *mx, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	unsigned			 i;

	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return (1);
	for (i = 0; i < mx->nconns; i++) {
		if (mx->conns[i] == evcon)
			return (1);
	}
	if (mx->nconns >= mx->set.max_connections)
		return (0);
	mx->conns[mx->nconns++] = evcon;
	evhttp_connection_set_closecb(evcon, conn_closed, mx);
	hyp_series_set(mx->m_conns, mx->nconns);
	return (1);
}

/* Free a rendered body once libevent has sent it. */
static void
free_body(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

/* Count a request by endpoint and code. */
static void
count(struct mx *mx, enum mx_endpoint ep, enum mx_code c)
{
	const char	*v[2];

	if (mx->m_req[ep][c] == NULL && mx->m_requests != NULL) {
		v[0] = mx_endpoint_name(ep);
		v[1] = mx_code_name[c];
		mx->m_req[ep][c] = hyp_metric_series(mx->m_requests, v);
	}
	hyp_series_add(mx->m_req[ep][c], 1);
	if (ep == MX_EP_METRICS)
		hyp_series_add(mx->m_scrapes[c], 1);
}

/* Send a reply with a body and count it. */
static void
reply(struct mx *mx, struct evhttp_request *req, enum mx_endpoint ep,
    enum mx_code c, const char *ctype, struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, mx_code_num[c], mx_code_reason[c], body);
	count(mx, ep, c);
}

/* Send a JSON body held in b (or a fixed error when b failed). */
static void
reply_json(struct mx *mx, struct evhttp_request *req, enum mx_endpoint ep,
    enum mx_code c, struct mx_buf *b)
{
	static const char	 oom[] = "{\"error\":\"internal\",\"message\":"
	    "\"the response could not be built\"}\n";
	struct evbuffer		*body;

	if ((body = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		count(mx, ep, MX_C_500);
		return;
	}
	if (b->err != 0) {
		c = MX_C_500;
		evbuffer_add(body, oom, sizeof(oom) - 1);
	} else {
		evbuffer_add(body, b->p, b->len);
		evbuffer_add(body, "\n", 1);
	}
	reply(mx, req, ep, c, "application/json", body);
	evbuffer_free(body);
}

/* Send {"error":code,"message":msg}. */
static void
reply_error(struct mx *mx, struct evhttp_request *req, enum mx_endpoint ep,
    enum mx_code c, const char *error, const char *msg)
{
	struct mx_buf	b = { 0 };

	mx_buf_adds(&b, "{\"error\":");
	mx_buf_json_str(&b, error);
	mx_buf_adds(&b, ",\"message\":");
	mx_buf_json_str(&b, msg);
	mx_buf_adds(&b, "}");
	reply_json(mx, req, ep, c, &b);
	mx_buf_free(&b);
}

/* GET /metrics: the registry in the text format 0.0.4. */
static void
serve_metrics(struct mx *mx, struct evhttp_request *req)
{
	struct evbuffer	*body;
	char		*out = NULL;
	size_t		 len = 0;
	int		 rc;

	if ((rc = hyp_metrics_render(&out, &len)) != 0) {
		hyp_log(mx->p, HYP_LOG_WARNING, "cannot render the metrics: %s",
		    hyp_strerror(rc));
		reply_error(mx, req, MX_EP_METRICS, MX_C_500, "render_failed",
		    hyp_strerror(rc));
		return;
	}
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add_reference(body, out, len, free_body, NULL) != 0) {
		free(out);
		if (body != NULL)
			evbuffer_free(body);
		reply_error(mx, req, MX_EP_METRICS, MX_C_500, "internal",
		    "out of memory");
		return;
	}
	reply(mx, req, MX_EP_METRICS, MX_C_200,
	    "text/plain; version=0.0.4; charset=utf-8", body);
	evbuffer_free(body);
}

/* GET /healthz: the process is alive and its loop answers. */
static void
serve_healthz(struct mx *mx, struct evhttp_request *req)
{
	struct mx_buf	b = { 0 };
	double		up, start = mx_process_start_time(mx->pm);
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	up = start > 0 ? (double)tv.tv_sec + tv.tv_usec / 1e6 - start :
	    (double)(hyp_now_us() - mx->start_us) / 1e6;
	if (up < 0)
		up = 0;
	mx_buf_printf(&b, "{\"status\":\"ok\",\"uptime_seconds\":%.3f}", up);
	reply_json(mx, req, MX_EP_HEALTHZ, MX_C_200, &b);
	mx_buf_free(&b);
}

/* One item of hyp_ready_evaluate(): append it to the checks array. */
static void
ready_item(void *arg, const char *plugin, const char *name, int ok,
    const char *why)
{
	struct mx_ready	*r = arg;

	if (r->n++ > 0)
		mx_buf_add(&r->checks, ",", 1);
	mx_buf_adds(&r->checks, "{\"plugin\":");
	mx_buf_json_str(&r->checks, plugin != NULL ? plugin : "core");
	mx_buf_adds(&r->checks, ",\"name\":");
	mx_buf_json_str(&r->checks, name);
	mx_buf_adds(&r->checks, ok ? ",\"ok\":true" : ",\"ok\":false");
	mx_buf_adds(&r->checks, ",\"reason\":");
	mx_buf_json_str(&r->checks, why != NULL ? why : "");
	mx_buf_adds(&r->checks, "}");
	if (strcmp(name, "listener") == 0)
		r->listener = 1;
}

/* GET /readyz: every plugin started and every readiness check ready. */
static void
serve_readyz(struct mx *mx, struct evhttp_request *req)
{
	struct mx_ready	r;
	struct mx_buf	b = { 0 };
	int		ready;

	memset(&r, 0, sizeof(r));
	ready = hyp_ready_evaluate(ready_item, &r) == 1;
	if (!r.listener) {
		/* Nothing takes players without a listener. */
		ready_item(&r, hyp_plugin_name(mx->p), "listener", 0,
		    "no plugin reports a listener (is the transport loaded?)");
		ready = 0;
	}
	mx_buf_adds(&b, ready ? "{\"ready\":true,\"checks\":[" :
	    "{\"ready\":false,\"checks\":[");
	if (r.checks.err != 0)
		b.err = r.checks.err;
	else if (r.checks.len > 0)
		mx_buf_add(&b, r.checks.p, r.checks.len);
	mx_buf_adds(&b, "]}");
	reply_json(mx, req, MX_EP_READYZ, ready ? MX_C_200 : MX_C_503, &b);
	mx_buf_free(&b);
	mx_buf_free(&r.checks);
}

/* Every request: admission, authentication, routing, method. */
static void
handle(struct evhttp_request *req, void *arg)
{
	struct mx		*mx = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	enum mx_endpoint	 ep;

	ep = mx_endpoint_of(uri != NULL ? evhttp_uri_get_path(uri) : NULL);
	if (!conn_admit(mx, req)) {
		hyp_series_add(mx->m_refused, 1);
		evhttp_add_header(out, "Connection", "close");
		reply_error(mx, req, ep, MX_C_503, "too_many_connections",
		    "the metrics listener has max_connections open");
		return;
	}
	if (mx->token != NULL && ep != MX_EP_HEALTHZ &&
	    !mx_auth_ok(evhttp_find_header(in, "Authorization"), mx->token,
	    mx->tokenlen)) {
		evhttp_add_header(out, "WWW-Authenticate",
		    "Bearer realm=\"hyprox\"");
		reply_error(mx, req, ep, MX_C_401, "unauthorized",
		    "a valid \"Authorization: Bearer\" header is required");
		return;
	}
	if (ep == MX_EP_OTHER) {
		reply_error(mx, req, ep, MX_C_404, "not_found",
		    "no such endpoint; try /metrics, /healthz or /readyz");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(out, "Allow", "GET, HEAD");
		reply_error(mx, req, ep, MX_C_405, "method_not_allowed",
		    "only GET and HEAD are allowed");
		return;
	}
	switch (ep) {
	case MX_EP_METRICS:
		serve_metrics(mx, req);
		break;
	case MX_EP_HEALTHZ:
		serve_healthz(mx, req);
		break;
	default:
		serve_readyz(mx, req);
		break;
	}
}

/* Apply the limits of set to the server. */
static void
apply_limits(struct mx *mx, const struct mx_settings *set)
{
	struct timeval	tv;

	tv.tv_sec = set->timeout_ms / 1000;
	tv.tv_usec = (set->timeout_ms % 1000) * 1000;
	evhttp_set_timeout_tv(mx->http, &tv);
	evhttp_set_max_headers_size(mx->http, set->max_headers_size);
	evhttp_set_max_body_size(mx->http, set->max_body_size);
}

/* Bind set's address on the server; *port gets the bound port. */
static int
bind_listener(struct mx *mx, const struct mx_settings *set,
    struct evhttp_bound_socket **out, uint16_t *port)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	int				 fd, e;

	errno = 0;
	bs = evhttp_bind_socket_with_handle(mx->http, set->addr, set->port);
	if (bs == NULL) {
		e = errno;
		hyp_log(mx->p, HYP_LOG_ERR, "cannot listen on %s%s%s:%u: %s",
		    set->family == 6 ? "[" : "", set->addr,
		    set->family == 6 ? "]" : "", set->port, e != 0 ?
		    strerror(e) : "bind failed");
		return (e > 0 ? -e : HYP_EINVAL);
	}
	*port = set->port;
	fd = evhttp_bound_socket_get_fd(bs);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)hyp_addr_numeric((struct sockaddr *)&ss, NULL, 0, port);
	*out = bs;
	return (0);
}

/* Log where the endpoints are. */
static void
log_listening(struct mx *mx, const struct mx_settings *set, uint16_t port,
    int have_token)
{
	hyp_log(mx->p, HYP_LOG_INFO, "listening on http://%s%s%s:%u "
	    "(/metrics, /healthz, /readyz; %s)", set->family == 6 ? "[" : "",
	    set->addr, set->family == 6 ? "]" : "", port, have_token ?
	    "bearer token required" : "no token");
	if (!have_token && strcmp(set->addr, "127.0.0.1") != 0 &&
	    strcmp(set->addr, "::1") != 0)
		hyp_log(mx->p, HYP_LOG_NOTICE, "the metrics listener is not on "
		    "loopback and has no bearer_token");
}

/* Free the prepared reload. */
static void
prep_clear(struct mx *mx)
{
	if (mx->prep_sock != NULL && mx->http != NULL)
		evhttp_del_accept_socket(mx->http, mx->prep_sock);
	mx->prep_sock = NULL;
	hyp_secret_free(mx->prep_token, mx->prep_tokenlen);
	mx->prep_token = NULL;
	mx->prep_tokenlen = 0;
	mx->prep = 0;
}

/* Free everything; safe on a partly loaded plugin. */
static void
mx_free(struct mx *mx)
{
	if (mx == NULL)
		return;
	prep_clear(mx);
	if (mx->http != NULL)
		evhttp_free(mx->http);
	mx->http = NULL;
	hyp_secret_free(mx->token, mx->tokenlen);
	mx_process_free(mx->pm);
	free(mx->conns);
	free(mx);
}

/* Check the configuration and read the token; no socket yet. */
static int
mx_load(hyp_plugin_t *p, const void *conf)
{
	struct mx	*mx;
	char		 err[512];
	int		 rc;

	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((mx = calloc(1, sizeof(*mx))) == NULL)
		return (HYP_ENOMEM);
	mx->p = p;
	mx->start_us = hyp_now_us();
	if ((rc = mx_settings_make(conf, &mx->set, err, sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		mx_free(mx);
		return (rc);
	}
	if ((mx->conns = calloc(MX_MAX_CONNS, sizeof(*mx->conns))) == NULL) {
		mx_free(mx);
		return (HYP_ENOMEM);
	}
	if ((rc = read_token(mx, &mx->set, &mx->token, &mx->tokenlen)) != 0) {
		mx_free(mx);
		return (rc);
	}
	hyp_plugin_set_ctx(p, mx);
	return (0);
}

/* Register the metrics, start the HTTP server and bind the listener. */
static int
mx_start(hyp_plugin_t *p)
{
	struct mx	*mx = hyp_plugin_ctx(p);
	int		 rc;

	if (mx->pm == NULL)
		mx->pm = mx_process_new(p, mx->set.process_metrics);
	metrics_init(mx);
	if ((mx->http = evhttp_new(hyp_event_base())) == NULL)
		return (HYP_ENOMEM);
	evhttp_set_allowed_methods(mx->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(mx->http, handle, mx);
	apply_limits(mx, &mx->set);
	if ((rc = bind_listener(mx, &mx->set, &mx->sock, &mx->port)) != 0)
		return (rc);
	log_listening(mx, &mx->set, mx->port, mx->token != NULL);
	return (0);
}

/* Whether two settings listen on the same address (port 0 never rebinds). */
static int
same_listener(const struct mx_settings *a, const struct mx_settings *b)
{
	return (strcmp(a->addr, b->addr) == 0 && a->port == b->port);
}

/* Phased reload: PREPARE binds a new address, COMMIT swaps. */
static int
mx_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct mx	*mx = hyp_plugin_ctx(p);
	char		 err[512];
	int		 rc;

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		prep_clear(mx);
		if ((rc = mx_settings_make(new_conf, &mx->prep_set, err,
		    sizeof(err))) != 0) {
			hyp_log(p, HYP_LOG_ERR, "reload refused: %s", err);
			return (rc);
		}
		if ((rc = read_token(mx, &mx->prep_set, &mx->prep_token,
		    &mx->prep_tokenlen)) != 0)
			return (rc);
		if (mx->http != NULL &&
		    !same_listener(&mx->set, &mx->prep_set) &&
		    (rc = bind_listener(mx, &mx->prep_set, &mx->prep_sock,
		    &mx->prep_port)) != 0) {
			hyp_log(p, HYP_LOG_ERR, "reload refused: cannot bind "
			    "the new listen address");
			prep_clear(mx);
			return (rc);
		}
		mx->prep = 1;
		return (0);
	case HYP_RELOAD_COMMIT:
		if (!mx->prep)
			return (0);
		if (mx->prep_set.process_metrics != mx->set.process_metrics)
			hyp_log(p, HYP_LOG_NOTICE, "process_metrics: the change "
			    "takes effect when hyproxd restarts");
		mx->prep_set.process_metrics = mx->set.process_metrics;
		if (mx->prep_sock != NULL) {
			evhttp_del_accept_socket(mx->http, mx->sock);
			mx->sock = mx->prep_sock;
			mx->port = mx->prep_port;
			mx->prep_sock = NULL;
		}
		hyp_secret_free(mx->token, mx->tokenlen);
		mx->token = mx->prep_token;
		mx->tokenlen = mx->prep_tokenlen;
		mx->prep_token = NULL;
		mx->prep_tokenlen = 0;
		mx->set = mx->prep_set;
		if (mx->http != NULL) {
			apply_limits(mx, &mx->set);
			log_listening(mx, &mx->set, mx->port, mx->token != NULL);
		}
		prep_clear(mx);
		return (0);
	default:
		prep_clear(mx);
		return (0);
	}
}

/* Close the listener and every connection. */
static int
mx_stop(hyp_plugin_t *p)
{
	struct mx	*mx = hyp_plugin_ctx(p);

	prep_clear(mx);
	if (mx->http != NULL)
		evhttp_free(mx->http);
	mx->http = NULL;
	mx->sock = NULL;
	return (0);
}

/* Free everything. */
static void
mx_unload(hyp_plugin_t *p)
{
	mx_free(hyp_plugin_ctx(p));
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "metrics",
	.version = "1.0.0",
	.summary = "Prometheus /metrics, /healthz and /readyz over HTTP",
	.conf_schema = &mx_conf_schema,
	.conf_check = mx_conf_check,
	.load = mx_load,
	.start = mx_start,
	.reload = mx_reload,
	.stop = mx_stop,
	.unload = mx_unload,
);
