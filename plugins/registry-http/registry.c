/*
 * registry.c: the registry-http plugin's descriptor and lifecycle: the
 * evhttp server on the host's loop, the tick timer (expiry, activation
 * retries), activation probes through the "connector" service (v2), the
 * "router" service, and the state file (loaded at start; written from a
 * timer that coalesces changes, temp file + fsync + rename).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <sodium.h>

#include "registry.h"

#define REG_TICK_MS		250
#define REG_HTTP_TIMEOUT_S	10
#define REG_HEADERS_MAX		8192
#define REG_STATE_FILE_MAX	(8u << 20)

/* What only the running plugin has. */
struct reg_env {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	hyp_timer_t			*tick;
	hyp_timer_t			*save;
	int				 save_armed;
	int				 dirty;
	int				 save_failing;
	const struct hyp_connector_v2	*cn;
	void				*cn_ctx;
	struct reg_settings		*prep;
};

/* One activation probe in flight; found again by entry id and sequence. */
struct reg_probe {
	struct registry	*r;
	uint64_t	 seq;
	uint64_t	 cid;
	char		 id[REG_ID_MAX + 1];
};

/* Wall clock in unix milliseconds (expiries survive restarts). */
static int64_t
real_now(struct registry *r)
{
	struct timespec	ts;

	(void)r;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ---- state file ---- */

/* path + suffix in a new string, or NULL. */
static char *
path_plus(const char *path, const char *suffix)
{
	size_t	n = strlen(path) + strlen(suffix) + 1;
	char	*s;

	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s%s", path, suffix);
	return (s);
}

/* Write the state file now: temp file, fsync, rename, fsync the directory. */
static int
state_write(struct registry *r)
{
	const char	*path = r->set->state_file;
	char		*text = NULL, *tmp = NULL, *dcopy = NULL;
	size_t		 len, off = 0;
	ssize_t		 n;
	int		 fd = -1, dfd, rc;

	if ((rc = reg_state_text(&r->st, &text, &len)) != 0)
		return (rc);
	if ((tmp = path_plus(path, ".tmp")) == NULL) {
		rc = HYP_ENOMEM;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		goto out;
	}
	if ((dcopy = strdup(path)) != NULL &&
	    (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(dcopy);
	free(tmp);
	free(text);
	return (rc);
}

/* Write the state if it changed; log failures once per streak. */
static void
state_flush(struct registry *r)
{
	struct reg_env	*e = r->env;
	int		 rc;

	if (!e->dirty || r->set->state_file == NULL)
		return;
	if ((rc = state_write(r)) != 0) {
		if (!e->save_failing)
			hyp_log(r->p, HYP_LOG_ERR, "cannot write the state file "
			    "%s: %s (registrations are kept in memory; retrying "
			    "on the next change)", r->set->state_file,
			    hyp_strerror(rc));
		e->save_failing = 1;
		return;
	}
	if (e->save_failing)
		hyp_log(r->p, HYP_LOG_NOTICE, "state file %s written again",
		    r->set->state_file);
	e->save_failing = 0;
	e->dirty = 0;
}

/* The save timer: one write for every change since it was armed. */
static void
save_fire(hyp_plugin_t *p, void *arg)
{
	struct registry	*r = arg;
	struct reg_env	*e = r->env;

	(void)p;
	e->save_armed = 0;
	state_flush(r);
}

/* The registry changed: arm the save timer unless it is armed. */
static void
mark_dirty(struct registry *r)
{
	struct reg_env	*e = r->env;

	e->dirty = 1;
	if (r->set->state_file == NULL || e->save_armed || e->save == NULL)
		return;
	if (hyp_timer_start(e->save, r->set->state_delay_ms, 0) == 0)
		e->save_armed = 1;
}

/* Read the state file at start; a bad file is moved aside. */
static int
state_load(struct registry *r)
{
	const char	*path = r->set->state_file;
	struct reg_file	*f = NULL;
	struct stat	 sb;
	uint8_t		*buf = NULL;
	char		 msg[REG_ERRMSG_MAX], *bad = NULL;
	size_t		 kept, dropped, off = 0;
	ssize_t		 n;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return (0);
		hyp_log(r->p, HYP_LOG_ERR, "cannot open the state file %s: %s",
		    path, strerror(errno));
		return (-errno);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > REG_STATE_FILE_MAX) {
		close(fd);
		snprintf(msg, sizeof(msg), "not a regular file of at most %u "
		    "bytes", REG_STATE_FILE_MAX);
		goto bad;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return (HYP_ENOMEM);
	}
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, (size_t)sb.st_size - off)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	rc = reg_file_load(buf, off, &f, msg, sizeof(msg));
	free(buf);
	if (rc != REG_P_OK)
		goto bad;
	if (*f->version != 1) {
		snprintf(msg, sizeof(msg), "version %u is not 1", *f->version);
		reg_file_free(f);
		goto bad;
	}
	rc = reg_restore(r, f, &kept, &dropped);
	reg_file_free(f);
	if (rc != 0)
		return (rc);
	hyp_log(r->p, HYP_LOG_INFO, "state file %s: %zu entries restored, %zu "
	    "dropped", path, kept, dropped);
	if (dropped > 0)
		mark_dirty(r);
	return (0);
bad:
	if ((bad = path_plus(path, ".bad")) != NULL) {
		(void)rename(path, bad);
		hyp_log(r->p, HYP_LOG_ERR, "state file %s is unusable (%s); "
		    "starting with no registrations, the file is kept as %s",
		    path, msg, bad);
		free(bad);
	}
	return (0);
}

/* ---- activation probes ---- */

/* The connector calls back: feed the result to the entry, if still there. */
static void
probe_done(void *arg, const struct hyp_probe_result *res)
{
	struct reg_probe	*pr = arg;
	struct registry		*r = pr->r;
	struct reg_entry	*e;

	e = reg_store_find(&r->st, pr->id);
	if (e != NULL && e->probing && e->probe == pr &&
	    e->probe_seq == pr->seq)
		reg_activation_result(r, e, res->rc == 0, res->rc == 0 ?
		    "certificate matches the SAN allowlist" : res->detail != NULL ?
		    res->detail : hyp_strerror(res->rc));
	free(pr);
}

/* Start an activation probe of e through the connector. */
static int
probe_start(struct registry *r, struct reg_entry *e)
{
	struct reg_env		*env = r->env;
	struct hyp_probe_opts	 o;
	struct hyp_probe_ext	 x;
	const char		*sans[REG_LIST_MAX];
	struct reg_probe	*pr;
	size_t			 i;
	int			 rc;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return (HYP_ENOMEM);
	pr->r = r;
	pr->seq = e->probe_seq;
	memcpy(pr->id, e->id, sizeof(pr->id));
	memset(&o, 0, sizeof(o));
	o.host = e->host;
	o.port = e->port;
	o.timeout_ms = r->set->act_timeout_ms;
	o.verify = 1;
	memset(&x, 0, sizeof(x));
	for (i = 0; i < r->set->nsans && i < 8; i++)
		sans[i] = r->set->sans[i];
	x.size = sizeof(x);
	x.san = sans;
	x.nsan = i;
	if ((rc = env->cn->probe_ext(env->cn_ctx, &o, &x, probe_done, pr,
	    &pr->cid)) != 0) {
		free(pr);
		return (rc);
	}
	e->probe = pr;
	return (0);
}

/* Cancel e's probe in flight. */
static void
probe_cancel(struct registry *r, struct reg_entry *e)
{
	struct reg_env		*env = r->env;
	struct reg_probe	*pr = e->probe;

	if (pr != NULL) {
		env->cn->cancel(env->cn_ctx, pr->cid);
		free(pr);
	}
	e->probe = NULL;
	e->probing = 0;
}

/* ---- HTTP ---- */

/* Reason phrase of a status. */
static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 201:
		return ("Created");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 409:
		return ("Conflict");
	case 413:
		return ("Payload Too Large");
	case 414:
		return ("URI Too Long");
	case 415:
		return ("Unsupported Media Type");
	case 422:
		return ("Unprocessable Entity");
	case 429:
		return ("Too Many Requests");
	case 503:
		return ("Service Unavailable");
	case 507:
		return ("Insufficient Storage");
	default:
		return ("Internal Server Error");
	}
}

/* Name of an evhttp method. */
static const char *
http_method(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	default:
		return ("OTHER");
	}
}

/* One request from evhttp. */
static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct registry			*r = arg;
	struct evhttp_connection	*con = evhttp_request_get_connection(req);
	struct evkeyvalq		*h = evhttp_request_get_input_headers(req);
	struct evbuffer			*in = evhttp_request_get_input_buffer(req);
	struct evbuffer			*out;
	const struct sockaddr		*sa;
	struct reg_request		 q;
	struct reg_response		 res;
	char				 ra[16];

	memset(&q, 0, sizeof(q));
	q.method = http_method(evhttp_request_get_command(req));
	q.uri = evhttp_request_get_uri(req);
	q.key = evhttp_find_header(h, "X-Hyprox-Key");
	q.timestamp = evhttp_find_header(h, "X-Hyprox-Timestamp");
	q.nonce = evhttp_find_header(h, "X-Hyprox-Nonce");
	q.signature = evhttp_find_header(h, "X-Hyprox-Signature");
	q.content_type = evhttp_find_header(h, "Content-Type");
	q.bodylen = evbuffer_get_length(in);
	q.body = q.bodylen > 0 ? evbuffer_pullup(in, -1) : NULL;
	sa = con != NULL ? evhttp_connection_get_addr(con) : NULL;
	if (sa != NULL && sa->sa_family == AF_INET)
		memcpy(&q.src, sa, sizeof(struct sockaddr_in));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		memcpy(&q.src, sa, sizeof(struct sockaddr_in6));
	reg_handle(r, &q, &res);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (res.retry_after > 0) {
		snprintf(ra, sizeof(ra), "%" PRIu32, res.retry_after);
		evhttp_add_header(h, "Retry-After", ra);
	}
	if ((out = evbuffer_new()) != NULL && res.body != NULL)
		evbuffer_add(out, res.body, res.len);
	evhttp_send_reply(req, res.status, http_reason(res.status), out);
	if (out != NULL)
		evbuffer_free(out);
	free(res.body);
}

/* Limits of the evhttp server for the current settings. */
static void
http_limits(struct registry *r)
{
	struct reg_env	*e = r->env;

	/* Room above max_body so that our own JSON 413 answers. */
	evhttp_set_max_body_size(e->http, (ev_ssize_t)r->set->max_body * 2 +
	    1024);
	evhttp_set_max_headers_size(e->http, REG_HEADERS_MAX);
	evhttp_set_timeout(e->http, REG_HTTP_TIMEOUT_S);
}

/* ---- lifecycle ---- */

/* The tick timer. */
static void
tick_fire(hyp_plugin_t *p, void *arg)
{
	(void)p;
	reg_tick(arg);
}

/* Free everything; safe on a partly loaded registry. */
static void
registry_free(struct registry *r)
{
	struct reg_env	*e;

	if (r == NULL)
		return;
	e = r->env;
	if (e != NULL && e->http != NULL)
		evhttp_free(e->http);
	reg_free(r);
	if (e != NULL) {
		hyp_timer_free(e->tick);
		hyp_timer_free(e->save);
		reg_settings_free(e->prep);
		free(e);
	}
	free(r);
}

/* Read the secrets and settings; no sockets yet. */
static int
rg_load(hyp_plugin_t *p, const void *conf)
{
	struct registry	*r;
	char		 err[512];
	int		 rc;

	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (HYP_ENOMEM);
	reg_init(r, p);
	r->now_ms = real_now;
	r->dirty = mark_dirty;
	if ((r->env = calloc(1, sizeof(struct reg_env))) == NULL) {
		registry_free(r);
		return (HYP_ENOMEM);
	}
	if ((rc = reg_settings_build(conf, hyp_plugin_conf_dir(p), 1, &r->set,
	    err, sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		registry_free(r);
		return (rc);
	}
	if ((rc = reg_nonces_init(&r->nonces, r->set->nonce_cache)) != 0) {
		registry_free(r);
		return (rc);
	}
	reg_metrics_init(r);
	hyp_plugin_set_ctx(p, r);
	return (0);
}

/* Find the router (and the connector), restore the state, listen. */
static int
rg_start(hyp_plugin_t *p)
{
	struct registry	*r = hyp_plugin_ctx(p);
	struct reg_env	*e = r->env;
	int		 rc;

	r->rt = hyp_service_require(p, HYP_ROUTER_SERVICE, 1, &r->rt_ctx);
	if (r->rt == NULL)
		return (HYP_ENOENT);
	if (r->rt->size < sizeof(*r->rt)) {
		hyp_log(p, HYP_LOG_ERR, "the \"router\" service is too old");
		r->rt = NULL;
		return (HYP_ENOTSUP);
	}
	if (r->set->act_enabled) {
		e->cn = hyp_service_get(HYP_CONNECTOR_SERVICE, 2, &e->cn_ctx,
		    NULL);
		if (e->cn == NULL || e->cn->size < sizeof(*e->cn) ||
		    e->cn->probe_ext == NULL) {
			hyp_log(p, HYP_LOG_ERR, "activation needs the "
			    "\"connector\" service version 2 (the transport "
			    "plugin)");
			return (HYP_ENOENT);
		}
		r->probe_start = probe_start;
		r->probe_cancel = probe_cancel;
	}
	if ((e->tick = hyp_timer_new(p, tick_fire, r)) == NULL ||
	    (e->save = hyp_timer_new(p, save_fire, r)) == NULL)
		return (HYP_ENOMEM);
	if (r->set->state_file != NULL && (rc = state_load(r)) != 0)
		return (rc);
	if ((e->http = evhttp_new(hyp_event_base())) == NULL)
		return (HYP_ENOMEM);
	http_limits(r);
	evhttp_set_allowed_methods(e->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(e->http, http_cb, r);
	if ((e->bound = evhttp_bind_socket_with_handle(e->http,
	    r->set->listen_host, r->set->listen_port)) == NULL) {
		rc = errno != 0 ? -errno : HYP_EINVAL;
		hyp_log(p, HYP_LOG_ERR, "cannot listen on %s port %u: %s",
		    r->set->listen_host, r->set->listen_port, hyp_strerror(rc));
		return (rc);
	}
	if (hyp_timer_start(e->tick, REG_TICK_MS, 1) != 0)
		return (HYP_ENOMEM);
	hyp_log(p, HYP_LOG_INFO, "listening on %s port %u (HTTP); %zu "
	    "orchestrators, %zu entries, activation %s, state file %s",
	    r->set->listen_host, r->set->listen_port, r->set->norch, r->st.n,
	    r->probe_start != NULL ? "on" : "off", r->set->state_file != NULL ?
	    r->set->state_file : "none");
	return (0);
}

/* Phased reload: new orchestrators, limits and durations; same listener. */
static int
rg_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct registry	*r = hyp_plugin_ctx(p);
	struct reg_env	*e = r->env;
	char		 err[512];
	size_t		 i;
	int		 rc;

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		reg_settings_free(e->prep);
		e->prep = NULL;
		if ((rc = reg_settings_build(new_conf, hyp_plugin_conf_dir(p), 1,
		    &e->prep, err, sizeof(err))) != 0) {
			hyp_log(p, HYP_LOG_ERR, "reload refused: %s", err);
			return (rc);
		}
		if (strcmp(e->prep->listen_host, r->set->listen_host) != 0 ||
		    e->prep->listen_port != r->set->listen_port ||
		    e->prep->act_enabled != r->set->act_enabled ||
		    (e->prep->state_file == NULL) != (r->set->state_file ==
		    NULL) || (e->prep->state_file != NULL &&
		    strcmp(e->prep->state_file, r->set->state_file) != 0)) {
			hyp_log(p, HYP_LOG_ERR, "reload refused: listen, "
			    "activation.enabled and state_file change only with "
			    "a restart");
			reg_settings_free(e->prep);
			e->prep = NULL;
			return (HYP_ECONFIG);
		}
		return (0);
	case HYP_RELOAD_COMMIT:
		if (e->prep == NULL)
			return (0);
		reg_settings_free(r->set);
		r->set = e->prep;
		e->prep = NULL;
		for (i = 0; i < REG_RATE_SOURCES; i++)
			r->buckets[i].orch = -1;
		if (e->http != NULL)
			http_limits(r);
		hyp_log(p, HYP_LOG_INFO, "reloaded: %zu orchestrators",
		    r->set->norch);
		return (0);
	case HYP_RELOAD_ABORT:
		reg_settings_free(e->prep);
		e->prep = NULL;
		return (0);
	default:
		return (HYP_EINVAL);
	}
}

/* Stop serving and write the state. */
static int
rg_stop(hyp_plugin_t *p)
{
	struct registry	*r = hyp_plugin_ctx(p);
	struct reg_env	*e = r->env;
	size_t		 i;

	r->stopping = 1;
	if (e->tick != NULL)
		hyp_timer_stop(e->tick);
	if (e->save != NULL)
		hyp_timer_stop(e->save);
	e->save_armed = 0;
	if (e->http != NULL && e->bound != NULL) {
		evhttp_del_accept_socket(e->http, e->bound);
		e->bound = NULL;
	}
	for (i = 0; i < r->st.n; i++) {
		if (r->st.e[i]->probing && r->probe_cancel != NULL)
			r->probe_cancel(r, r->st.e[i]);
	}
	state_flush(r);
	return (0);
}

/* Free everything. */
static void
rg_unload(hyp_plugin_t *p)
{
	registry_free(hyp_plugin_ctx(p));
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "registry-http",
	.version = "1.0.0",
	.summary = "signed HTTP API for orchestrators to register backends",
	.conf_schema = &reg_conf_schema,
	.conf_check = reg_conf_check,
	.load = rg_load,
	.start = rg_start,
	.reload = rg_reload,
	.stop = rg_stop,
	.unload = rg_unload,
);
