/*
 * tracer.c: the tracer plugin's descriptor and lifecycle: a handler at
 * every hook point, the output file (reopened on SIGUSR1), the ring
 * (dumped on SIGUSR2), metrics and the phased reload.
 *
 * Every event is formatted into one fixed buffer (tr->line) and written
 * with one write(2): nothing is allocated per event.  Per session the
 * tracer keeps a few flag bits in the session's data slot (the pointer
 * value itself, no allocation).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tracer.h"

/* Per-session flag bits (kept as the session data pointer's value). */
#define TR_S_SEEN	0x1u	/* never 0: NULL means "no data" */
#define TR_S_DECISION	0x2u	/* decision event written */
#define TR_S_REFERRAL	0x4u	/* referral event written */
#define TR_S_REF_HOOK	0x8u	/* the referral hook ran */

/* Event kinds, for the metric's label. */
enum tr_kind {
	TR_K_ACCEPT = 0, TR_K_HANDSHAKE, TR_K_CONNECT, TR_K_DECISION,
	TR_K_REFERRAL, TR_K_SESSION_END, TR_K_PACKET, TR_K_AUDIT,
	TR_K_PLUGIN, TR_K_RELOAD, TR_K__COUNT
};

static const char *const tr_kind_names[TR_K__COUNT] = {
	"accept", "handshake", "connect", "decision", "referral",
	"session-end", "packet", "audit", "plugin", "reload",
};

/* The plugin's state. */
struct tracer {
	hyp_plugin_t		*p;
	struct tr_settings	 set;
	int			 fd;		/* -1: none */
	char			 path[TR_PATH_MAX];	/* resolved output */
	char			 dump[TR_PATH_MAX];	/* resolved ring_dump */
	struct tr_ring		 ring;
	struct event		*ev_usr1, *ev_usr2;
	hyp_series_t		*m_events[TR_K__COUNT];
	hyp_series_t		*m_dropped;
	/* reload preparation */
	int			 prep;
	struct tr_settings	 prep_set;
	int			 prep_fd;
	char			 prep_path[TR_PATH_MAX];
	char			 prep_dump[TR_PATH_MAX];
	struct tr_ring		 prep_ring;
	int			 prep_has_ring;
	char			 line[TR_LINE_MAX];
};

/* Wall-clock time in microseconds. */
static uint64_t
unix_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Resolve path against the plugin's conf.d directory into out. */
static int
resolve(struct tracer *tr, const char *path, char *out, size_t len)
{
	int	n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else
		n = snprintf(out, len, "%s/%s", hyp_plugin_conf_dir(tr->p),
		    path);
	return (n < 0 || (size_t)n >= len ? HYP_ENOSPC : 0);
}

/* Open the output of set into *fd (stderr: 2, none: -1). */
static int
output_open(struct tracer *tr, const struct tr_settings *set, char *path,
    int *fd)
{
	int	rc;

	*fd = -1;
	path[0] = '\0';
	switch (set->output) {
	case TR_OUT_STDERR:
		*fd = STDERR_FILENO;
		return (0);
	case TR_OUT_NONE:
		return (0);
	default:
		break;
	}
	if ((rc = resolve(tr, set->path, path, TR_PATH_MAX)) != 0) {
		hyp_log(tr->p, HYP_LOG_ERR, "output: path too long");
		return (rc);
	}
	*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (*fd < 0) {
		rc = -errno;
		hyp_log(tr->p, HYP_LOG_ERR, "output: cannot open %s: %s", path,
		    strerror(errno));
		return (rc);
	}
	return (0);
}

/* Close an output descriptor we own. */
static void
output_close(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Count, store in the ring and write the line in tr->line. */
static void
emit(struct tracer *tr, struct tr_buf *b, enum tr_kind k)
{
	size_t	len = tr_end(b), off = 0;
	ssize_t	w;

	if (tr->m_events[k] != NULL)
		hyp_series_add(tr->m_events[k], 1);
	tr_ring_push(&tr->ring, b->p, len, b->hdr);
	if (tr->fd < 0)
		return;
	while (off < len) {
		w = write(tr->fd, b->p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (tr->m_dropped != NULL)
				hyp_series_add(tr->m_dropped, 1);
			return;
		}
		off += (size_t)w;
	}
}

/* A line buffer for the next event. */
static struct tr_buf *
line(struct tracer *tr, struct tr_buf *b)
{
	tr_buf_init(b, tr->line, sizeof(tr->line));
	return (b);
}

/* The session's flag bits. */
static unsigned
flags(struct tracer *tr, hyp_session_t *s)
{
	return ((unsigned)(uintptr_t)hyp_session_data(s, tr->p));
}

/* Set flag bits on the session. */
static void
flags_set(struct tracer *tr, hyp_session_t *s, unsigned f)
{
	f |= flags(tr, s) | TR_S_SEEN;
	(void)hyp_session_set_data(s, tr->p, (void *)(uintptr_t)f, NULL);
}

/* Write the decision event once, after the route decided. */
static void
decision_once(struct tracer *tr, hyp_session_t *s)
{
	struct tr_buf	b;

	if ((flags(tr, s) & TR_S_DECISION) ||
	    hyp_session_mark_us(s, HYP_MARK_DECISION) == 0)
		return;
	flags_set(tr, s, TR_S_DECISION);
	tr_ev_decision(line(tr, &b), unix_us(), s);
	emit(tr, &b, TR_K_DECISION);
}

/* HYP_HOOK_ACCEPT. */
static enum hyp_hook_rc
on_accept(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)arg;
	if (s != NULL) {
		flags_set(tr, s, 0);
		tr_ev_accept(line(tr, &b), unix_us(), s);
		emit(tr, &b, TR_K_ACCEPT);
	}
	return (HYP_CONTINUE);
}

/* HYP_HOOK_HANDSHAKE. */
static enum hyp_hook_rc
on_handshake(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)arg;
	if (s != NULL) {
		tr_ev_handshake(line(tr, &b), unix_us(), s);
		emit(tr, &b, TR_K_HANDSHAKE);
	}
	return (HYP_CONTINUE);
}

/* HYP_HOOK_CONNECT_DECODED. */
static enum hyp_hook_rc
on_connect(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)arg;
	if (s != NULL) {
		tr_ev_connect(line(tr, &b), unix_us(), s);
		emit(tr, &b, TR_K_CONNECT);
	}
	return (HYP_CONTINUE);
}

/* HYP_HOOK_REFERRAL: log the decision, add the trace id extension. */
static enum hyp_hook_rc
on_referral(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer		*tr = ud;
	struct hyp_referral_ext	*ext = arg;
	const uint8_t		*d;
	const char		*sid;
	size_t			 dlen;

	(void)p;
	if (s == NULL)
		return (HYP_CONTINUE);
	decision_once(tr, s);
	flags_set(tr, s, TR_S_REF_HOOK);
	sid = hyp_session_id_str(s);
	if (ext != NULL && ext->buf != NULL && ext->len <= ext->cap &&
	    hyp_ticket_ext_find(ext->buf, ext->len, HYP_TICKET_EXT_TRACE_ID,
	    &d, &dlen) == HYP_ENOENT &&
	    hyp_ticket_ext_add(ext->buf, ext->cap, &ext->len,
	    HYP_TICKET_EXT_TRACE_ID, sid, strlen(sid)) != 0)
		hyp_log_session(tr->p, s, HYP_LOG_DEBUG, "no room for the "
		    "trace id extension");
	return (HYP_CONTINUE);
}

/* HYP_HOOK_PACKET: decision and referral from replies; allowlisted packets. */
static enum hyp_hook_rc
on_packet(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer			*tr = ud;
	const struct hyp_packet_info	*pi = arg;
	struct tr_buf			 b;

	(void)p;
	if (s == NULL || pi == NULL)
		return (HYP_CONTINUE);
	if (pi->outbound) {
		decision_once(tr, s);
		if (pi->packet_id == HYP_PKT_CLIENT_REFERRAL &&
		    !(flags(tr, s) & TR_S_REFERRAL)) {
			flags_set(tr, s, TR_S_REFERRAL);
			tr_ev_referral(line(tr, &b), unix_us(), s, pi);
			emit(tr, &b, TR_K_REFERRAL);
		}
	}
	if (!tr_allow_id(&tr->set.allow, pi->packet_id) ||
	    !tr_allow_session(&tr->set.allow, s))
		return (HYP_CONTINUE);
	tr_ev_packet(line(tr, &b), unix_us(), s, pi, &tr->set.allow);
	emit(tr, &b, TR_K_PACKET);
	return (HYP_CONTINUE);
}

/* HYP_HOOK_SESSION_END. */
static enum hyp_hook_rc
on_session_end(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)arg;
	if (s == NULL)
		return (HYP_CONTINUE);
	decision_once(tr, s);
	if ((flags(tr, s) & (TR_S_REF_HOOK | TR_S_REFERRAL)) ==
	    TR_S_REF_HOOK && hyp_session_decision(s) == HYP_DECISION_REFER &&
	    strcmp(hyp_session_outcome(s) != NULL ? hyp_session_outcome(s) :
	    "", "referred") == 0) {
		tr_ev_referral(line(tr, &b), unix_us(), s, NULL);
		emit(tr, &b, TR_K_REFERRAL);
	}
	tr_ev_session_end(line(tr, &b), unix_us(), s);
	emit(tr, &b, TR_K_SESSION_END);
	return (HYP_CONTINUE);
}

/* HYP_HOOK_AUDIT. */
static enum hyp_hook_rc
on_audit(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)s;
	if (arg != NULL) {
		tr_ev_audit(line(tr, &b), unix_us(), arg);
		emit(tr, &b, TR_K_AUDIT);
	}
	return (HYP_CONTINUE);
}

/* HYP_HOOK_PLUGIN_STATE. */
static enum hyp_hook_rc
on_plugin(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)s;
	if (arg != NULL) {
		tr_ev_plugin(line(tr, &b), unix_us(), arg);
		emit(tr, &b, TR_K_PLUGIN);
	}
	return (HYP_CONTINUE);
}

/* HYP_HOOK_RELOAD. */
static enum hyp_hook_rc
on_reload(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct tracer	*tr = ud;
	struct tr_buf	 b;

	(void)p;
	(void)s;
	(void)arg;
	tr_ev_reload(line(tr, &b), unix_us());
	emit(tr, &b, TR_K_RELOAD);
	return (HYP_CONTINUE);
}

/* Reopen the output file (SIGUSR1, after logrotate moved it). */
static void
reopen(struct tracer *tr)
{
	int	fd;

	if (tr->set.output != TR_OUT_FILE)
		return;
	fd = open(tr->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		hyp_log(tr->p, HYP_LOG_WARNING, "cannot reopen %s: %s; still "
		    "writing to the old file", tr->path, strerror(errno));
		return;
	}
	output_close(tr->fd);
	tr->fd = fd;
	hyp_log(tr->p, HYP_LOG_INFO, "reopened %s", tr->path);
}

/* Dump the ring into ring_dump (SIGUSR2); a bounded, operator-asked write. */
static void
dump(struct tracer *tr)
{
	int	fd, rc;

	if (tr->ring.n == 0) {
		hyp_log(tr->p, HYP_LOG_INFO, "SIGUSR2: no ring to dump "
		    "(ring_size is 0)");
		return;
	}
	fd = open(tr->dump, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		hyp_log(tr->p, HYP_LOG_WARNING, "cannot dump the ring to %s: "
		    "%s", tr->dump, strerror(errno));
		return;
	}
	rc = tr_ring_dump(&tr->ring, fd);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		hyp_log(tr->p, HYP_LOG_WARNING, "ring dump to %s failed: %s",
		    tr->dump, hyp_strerror(rc));
	else
		hyp_log(tr->p, HYP_LOG_INFO, "dumped %u events (of %llu) to "
		    "%s", tr->ring.count, (unsigned long long)tr->ring.total,
		    tr->dump);
}

/* libevent signal callback for SIGUSR1 and SIGUSR2. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGUSR1)
		reopen(arg);
	else
		dump(arg);
}

/* Register the metric families. */
static void
metrics_init(struct tracer *tr)
{
	static const char *const labels[] = { "event", NULL };
	hyp_metric_t	*m;
	const char	*v[1];
	int		 err = 0, i;

	m = hyp_metric_new(tr->p, HYP_METRIC_COUNTER,
	    "hyprox_tracer_events_total", "Events the tracer wrote, by kind.",
	    labels, TR_K__COUNT + 1, NULL, 0, &err);
	for (i = 0; m != NULL && i < TR_K__COUNT; i++) {
		v[0] = tr_kind_names[i];
		tr->m_events[i] = hyp_metric_series(m, v);
	}
	m = hyp_metric_new(tr->p, HYP_METRIC_COUNTER,
	    "hyprox_tracer_dropped_total", "Event lines lost to write errors "
	    "(the ring still holds them).", NULL, 0, NULL, 0, &err);
	if (m != NULL)
		tr->m_dropped = hyp_metric_series(m, NULL);
	if (err != 0)
		hyp_log(tr->p, HYP_LOG_WARNING, "metrics: %s",
		    hyp_strerror(err));
}

/* Register a handler at every hook point. */
static int
hooks_register(struct tracer *tr)
{
	static const struct {
		enum hyp_hook_point	 pt;
		hyp_hook_fn		 fn;
	} h[] = {
		{ HYP_HOOK_ACCEPT, on_accept },
		{ HYP_HOOK_HANDSHAKE, on_handshake },
		{ HYP_HOOK_CONNECT_DECODED, on_connect },
		{ HYP_HOOK_REFERRAL, on_referral },
		{ HYP_HOOK_SESSION_END, on_session_end },
		{ HYP_HOOK_PACKET, on_packet },
		{ HYP_HOOK_RELOAD, on_reload },
		{ HYP_HOOK_AUDIT, on_audit },
		{ HYP_HOOK_PLUGIN_STATE, on_plugin },
	};
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if ((rc = hyp_hook_register(tr->p, h[i].pt, TR_PRIORITY,
		    h[i].fn, tr)) != 0)
			return (rc);
	return (0);
}

/* Free everything; safe on a partly loaded tracer. */
static void
tracer_free(struct tracer *tr)
{
	if (tr == NULL)
		return;
	if (tr->ev_usr1 != NULL)
		event_free(tr->ev_usr1);
	if (tr->ev_usr2 != NULL)
		event_free(tr->ev_usr2);
	output_close(tr->fd);
	output_close(tr->prep_fd);
	tr_ring_free(&tr->ring);
	tr_ring_free(&tr->prep_ring);
	free(tr);
}

/* Build the settings, open the output, allocate the ring, hook in. */
static int
tr_load(hyp_plugin_t *p, const void *conf)
{
	struct tracer	*tr;
	char		 err[512];
	int		 rc;

	if ((tr = calloc(1, sizeof(*tr))) == NULL)
		return (HYP_ENOMEM);
	tr->p = p;
	tr->fd = tr->prep_fd = -1;
	if ((rc = tr_settings_make(conf, &tr->set, err, sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		goto fail;
	}
	if (tr->set.ring_dump != NULL && (rc = resolve(tr, tr->set.ring_dump,
	    tr->dump, sizeof(tr->dump))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "ring_dump: path too long");
		goto fail;
	}
	if ((rc = output_open(tr, &tr->set, tr->path, &tr->fd)) != 0)
		goto fail;
	if ((rc = tr_ring_init(&tr->ring, tr->set.ring_size)) != 0) {
		hyp_log(p, HYP_LOG_ERR, "ring_size %u: %s", tr->set.ring_size,
		    hyp_strerror(rc));
		goto fail;
	}
	metrics_init(tr);
	if ((rc = hooks_register(tr)) != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot register hooks: %s",
		    hyp_strerror(rc));
		goto fail;
	}
	hyp_plugin_set_ctx(p, tr);
	return (0);
fail:
	tracer_free(tr);
	return (rc);
}

/* Catch SIGUSR1 (reopen) and SIGUSR2 (ring dump) on the host's loop. */
static int
tr_start(hyp_plugin_t *p)
{
	struct tracer		*tr = hyp_plugin_ctx(p);
	struct event_base	*base = hyp_event_base();

	if (base != NULL) {
		tr->ev_usr1 = evsignal_new(base, SIGUSR1, on_signal, tr);
		tr->ev_usr2 = evsignal_new(base, SIGUSR2, on_signal, tr);
		if (tr->ev_usr1 == NULL || tr->ev_usr2 == NULL ||
		    evsignal_add(tr->ev_usr1, NULL) != 0 ||
		    evsignal_add(tr->ev_usr2, NULL) != 0) {
			hyp_log(p, HYP_LOG_ERR, "cannot catch SIGUSR1/SIGUSR2");
			return (HYP_ENOMEM);
		}
	}
	hyp_log(p, HYP_LOG_INFO, "tracing to %s; ring %u events%s%s; packet "
	    "allowlist: %u clients, %u uuids, %u usernames, %s packet ids%s",
	    tr->set.output == TR_OUT_FILE ? tr->path :
	    tr->set.output == TR_OUT_STDERR ? "stderr" : "nothing",
	    tr->set.ring_size, tr->set.ring_size > 0 ? " dumped to " : "",
	    tr->set.ring_size > 0 ? tr->dump : "", tr->set.allow.nclients,
	    tr->set.allow.nuuids, tr->set.allow.nusernames,
	    tr->set.allow.nids == 0 ? "all" : "listed",
	    tr->set.allow.payload_hex ? ", payload hex" : "");
	return (0);
}

/* Drop a reload preparation. */
static void
prep_clear(struct tracer *tr)
{
	output_close(tr->prep_fd);
	tr->prep_fd = -1;
	if (tr->prep_has_ring)
		tr_ring_free(&tr->prep_ring);
	tr->prep_has_ring = 0;
	tr->prep = 0;
}

/* Validate a new configuration, open its output, size its ring. */
static int
reload_prepare(struct tracer *tr, const void *conf)
{
	char	err[512];
	int	rc;

	prep_clear(tr);
	if ((rc = tr_settings_make(conf, &tr->prep_set, err,
	    sizeof(err))) != 0) {
		hyp_log(tr->p, HYP_LOG_ERR, "reload refused: %s", err);
		return (rc);
	}
	tr->prep_dump[0] = '\0';
	if (tr->prep_set.ring_dump != NULL && resolve(tr,
	    tr->prep_set.ring_dump, tr->prep_dump, sizeof(tr->prep_dump)) != 0) {
		hyp_log(tr->p, HYP_LOG_ERR, "reload refused: ring_dump: path "
		    "too long");
		return (HYP_ENOSPC);
	}
	if ((rc = output_open(tr, &tr->prep_set, tr->prep_path,
	    &tr->prep_fd)) != 0)
		return (rc);
	if (tr->prep_set.ring_size != tr->ring.n) {
		if ((rc = tr_ring_init(&tr->prep_ring,
		    tr->prep_set.ring_size)) != 0) {
			hyp_log(tr->p, HYP_LOG_ERR, "reload refused: ring: %s",
			    hyp_strerror(rc));
			prep_clear(tr);
			return (rc);
		}
		tr->prep_has_ring = 1;
	}
	tr->prep = 1;
	return (0);
}

/* Switch to the prepared configuration; cannot fail. */
static void
reload_commit(struct tracer *tr)
{
	output_close(tr->fd);
	tr->fd = tr->prep_fd;
	tr->prep_fd = -1;
	memcpy(tr->path, tr->prep_path, sizeof(tr->path));
	memcpy(tr->dump, tr->prep_dump, sizeof(tr->dump));
	tr->set = tr->prep_set;
	if (tr->prep_has_ring) {
		tr_ring_free(&tr->ring);
		tr->ring = tr->prep_ring;
		memset(&tr->prep_ring, 0, sizeof(tr->prep_ring));
		tr->prep_has_ring = 0;
	}
	tr->prep = 0;
}

/* Apply a new configuration in phases. */
static int
tr_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct tracer	*tr = hyp_plugin_ctx(p);

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		return (reload_prepare(tr, new_conf));
	case HYP_RELOAD_COMMIT:
		if (tr->prep)
			reload_commit(tr);
		return (0);
	default:
		prep_clear(tr);
		return (0);
	}
}

/* Stop catching signals; events keep being written until unload. */
static int
tr_stop(hyp_plugin_t *p)
{
	struct tracer	*tr = hyp_plugin_ctx(p);

	if (tr->ev_usr1 != NULL)
		event_free(tr->ev_usr1);
	if (tr->ev_usr2 != NULL)
		event_free(tr->ev_usr2);
	tr->ev_usr1 = tr->ev_usr2 = NULL;
	return (0);
}

/* Free everything. */
static void
tr_unload(hyp_plugin_t *p)
{
	tracer_free(hyp_plugin_ctx(p));
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "tracer",
	.version = "1.0.0",
	.summary = "structured event log with correlation ids, packet tracing "
	    "with an allowlist and redaction",
	.conf_schema = &tr_conf_schema,
	.conf_check = tr_conf_check,
	.load = tr_load,
	.start = tr_start,
	.reload = tr_reload,
	.stop = tr_stop,
	.unload = tr_unload,
);
