/*
 * connector.c: service "connector" v2: open a QUIC client connection to a
 * backend, report whether the handshake succeeded, close it.  Host names
 * are resolved with evdns on the host's loop, never blocking; at most
 * TP_PROBES_MAX probes are in flight.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include <hyprox/connector.h>

#include "transport.h"

#define TP_PROBES_MAX		64
#define TP_PROBE_DEF_MS		3000
#define TP_PROBE_MAX_MS		60000

enum probe_state { PR_RESOLVING, PR_CONNECTING, PR_DONE };

struct tp_probe {
	struct tp_connector	*cn;
	uint64_t		 id;
	enum probe_state	 state;
	hyp_probe_done_fn	 done;
	void			*arg;
	char			 host[HYP_HOST_MAX + 1];
	char			 sni[HYP_HOST_MAX + 1];
	int			 has_sni;
	char			 alpnbuf[256];
	const char		*alpn[HQ_MAX_ALPN];
	size_t			 nalpn;
	uint16_t		 port;
	int			 verify;
	char			*ca_file;
	char			*pin;
	char			*san[HQ_MAX_SANS];	/* v2 probe_ext */
	size_t			 nsan;
	uint64_t		 start_us;
	hyp_timer_t		*timer;
	struct evdns_getaddrinfo_request *dns;
	hq_client_t		*cl;
	int			 rc;
	int			 listed;
	uint64_t		 hs_us;
	char			 alpn_got[64];
	char			 detail[192];
	TAILQ_ENTRY(tp_probe)	 entry;
};

struct tp_connector {
	struct transport	*tp;
	struct evdns_base	*dns;
	TAILQ_HEAD(, tp_probe)	 probes;
	unsigned		 n;
	uint64_t		 next_id;
};

/* Stop the resolver request and the client of pr. */
static void
probe_teardown(struct tp_probe *pr)
{
	if (pr->dns != NULL) {
		struct evdns_getaddrinfo_request *r = pr->dns;

		pr->dns = NULL;
		evdns_getaddrinfo_cancel(r);
	}
	if (pr->cl != NULL) {
		hq_client_free(pr->cl);
		pr->cl = NULL;
	}
}

/* Free pr without calling done(). */
static void
probe_free(struct tp_probe *pr)
{
	probe_teardown(pr);
	if (pr->listed) {
		TAILQ_REMOVE(&pr->cn->probes, pr, entry);
		pr->cn->n--;
		pr->listed = 0;
	}
	hyp_timer_free(pr->timer);
	free(pr->ca_file);
	free(pr->pin);
	while (pr->nsan > 0)
		free(pr->san[--pr->nsan]);
	free(pr);
}

static void	probe_finish(struct tp_probe *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Record the result and deliver it from the loop, not from here. */
static void
probe_finish(struct tp_probe *pr, int rc, const char *fmt, ...)
{
	va_list	ap;

	if (pr->state == PR_DONE)
		return;
	pr->state = PR_DONE;
	pr->rc = rc;
	va_start(ap, fmt);
	vsnprintf(pr->detail, sizeof(pr->detail), fmt, ap);
	va_end(ap);
	if (pr->cl != NULL)
		(void)hq_conn_close(hq_client_conn(pr->cl), 0, "probe", 0);
	hyp_timer_start(pr->timer, 0, 0);
}

/* Timer: deliver a finished probe, or time it out. */
static void
probe_timer(hyp_plugin_t *p, void *arg)
{
	struct tp_probe		*pr = arg;
	struct hyp_probe_result	 r;

	(void)p;
	if (pr->state != PR_DONE) {
		pr->state = PR_DONE;
		pr->rc = HYP_ETIMEDOUT;
		snprintf(pr->detail, sizeof(pr->detail), "no handshake within "
		    "the timeout");
	}
	probe_teardown(pr);
	memset(&r, 0, sizeof(r));
	r.rc = pr->rc;
	r.handshake_us = pr->hs_us;
	r.alpn = pr->rc == 0 ? pr->alpn_got : NULL;
	r.detail = pr->detail;
	/* Unlisted first: done() may cancel its own id or start probes. */
	TAILQ_REMOVE(&pr->cn->probes, pr, entry);
	pr->cn->n--;
	pr->listed = 0;
	pr->done(pr->arg, &r);
	probe_free(pr);
}

/* Client: handshake done. */
static int
probe_established(hq_conn_t *c, void *arg)
{
	struct tp_probe	*pr = arg;

	pr->hs_us = hq_conn_handshake_ns(c) / 1000;
	snprintf(pr->alpn_got, sizeof(pr->alpn_got), "%s", hq_conn_alpn(c));
	probe_finish(pr, 0, "handshake completed");
	return (0);
}

/* Client: the connection ended. */
static void
probe_closed(hq_conn_t *c, const struct hq_close_info *ci, void *arg)
{
	struct tp_probe	*pr = arg;
	char		 why[96];

	(void)c;
	if (pr->state == PR_DONE)
		return;
	if (ci->kind == HQ_CLOSE_HANDSHAKE_TIMEOUT) {
		probe_finish(pr, HYP_ETIMEDOUT, "handshake timed out");
		return;
	}
	snprintf(why, sizeof(why), "%s code %llu%s%u",
	    ci->app ? "application" : "transport",
	    (unsigned long long)ci->error_code,
	    ci->tls_alert != 0 ? ", TLS alert " : "", ci->tls_alert);
	if (ci->tls_alert == 0)
		why[strlen(why) - 1] = '\0';
	probe_finish(pr, -ECONNREFUSED, "handshake failed: %s", why);
}

/* Start the QUIC client toward a numeric address. */
static void
probe_connect(struct tp_probe *pr, const char *addr)
{
	struct hq_client_config	cfg;
	int			rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = addr;
	cfg.port = pr->port;
	cfg.sni = pr->has_sni ? pr->sni : NULL;
	memcpy(cfg.alpn, pr->alpn, sizeof(cfg.alpn));
	cfg.nalpn = pr->nalpn;
	cfg.use_cert = 1;	/* Hytale servers require a client cert */
	cfg.verify.insecure = !pr->verify;
	cfg.verify.ca_file = pr->ca_file;
	if (pr->pin != NULL) {
		cfg.verify.pin[0] = pr->pin;
		cfg.verify.npin = 1;
	}
	memcpy(cfg.verify.san, pr->san, sizeof(cfg.verify.san));
	cfg.verify.nsan = pr->nsan;
	cfg.cb.established = probe_established;
	cfg.cb.closed = probe_closed;
	cfg.cb_arg = pr;
	pr->state = PR_CONNECTING;
	if ((rc = hq_client_new(hyp_event_base(), &cfg, &pr->cl)) != 0) {
		pr->cl = NULL;
		probe_finish(pr, rc, "cannot start the client: %s",
		    hyp_strerror(rc));
	}
}

/* evdns: the name resolved (or not). */
static void
probe_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct tp_probe	*pr = arg;
	char		 addr[INET6_ADDRSTRLEN];
	const void	*src;

	if (result == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	pr->dns = NULL;
	if (result != 0 || res == NULL) {
		probe_finish(pr, HYP_ENOENT, "cannot resolve the host: %s",
		    evutil_gai_strerror(result));
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	src = res->ai_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	if (inet_ntop(res->ai_family, src, addr, sizeof(addr)) == NULL) {
		evutil_freeaddrinfo(res);
		probe_finish(pr, HYP_ENOENT, "unusable address");
		return;
	}
	evutil_freeaddrinfo(res);
	if (pr->state == PR_RESOLVING)
		probe_connect(pr, addr);
}

/* Split a comma-separated ALPN list into pr. */
static int
probe_alpn(struct tp_probe *pr, const char *list)
{
	char	*q, *save = NULL;

	if (list == NULL)
		list = "hytale/2,hytale/1";
	if (strlen(list) >= sizeof(pr->alpnbuf))
		return (HYP_EINVAL);
	strcpy(pr->alpnbuf, list);
	for (q = strtok_r(pr->alpnbuf, ",", &save); q != NULL;
	    q = strtok_r(NULL, ",", &save)) {
		if (pr->nalpn == HQ_MAX_ALPN)
			return (HYP_EINVAL);
		pr->alpn[pr->nalpn++] = q;
	}
	return (pr->nalpn == 0 ? HYP_EINVAL : 0);
}

/* Whether s is a numeric address. */
static int
is_numeric(const char *s)
{
	unsigned char	b[16];

	return (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

/* connector v2 probe_ext(): probe() with a SAN allowlist. */
static int
cn_probe_ext(void *ctx, const struct hyp_probe_opts *o,
    const struct hyp_probe_ext *x, hyp_probe_done_fn done, void *arg,
    uint64_t *id)
{
	struct tp_connector		*cn = ctx;
	struct tp_probe			*pr;
	struct evutil_addrinfo		 hints;
	uint32_t			 ms;
	int				 rc;
	size_t				 i;

	if (o == NULL || done == NULL || o->host == NULL || o->port == 0 ||
	    strlen(o->host) > HYP_HOST_MAX ||
	    (o->sni != NULL && strlen(o->sni) > HYP_HOST_MAX))
		return (HYP_EINVAL);
	if (x != NULL && (x->size < sizeof(*x) || x->nsan > HQ_MAX_SANS ||
	    (x->nsan > 0 && (x->san == NULL || !o->verify))))
		return (HYP_EINVAL);
	if (cn->n >= TP_PROBES_MAX)
		return (HYP_ENOSPC);
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return (HYP_ENOMEM);
	pr->cn = cn;
	pr->done = done;
	pr->arg = arg;
	pr->port = o->port;
	pr->verify = o->verify;
	strcpy(pr->host, o->host);
	if (o->sni != NULL) {
		strcpy(pr->sni, o->sni);
		pr->has_sni = 1;
	} else if (!is_numeric(o->host)) {
		strcpy(pr->sni, o->host);
		pr->has_sni = 1;
	}
	if ((rc = probe_alpn(pr, o->alpn)) != 0) {
		free(pr);
		return (rc);
	}
	for (i = 0; x != NULL && i < x->nsan; i++) {
		if (x->san[i] == NULL ||
		    (pr->san[pr->nsan] = strdup(x->san[i])) == NULL) {
			rc = x->san[i] == NULL ? HYP_EINVAL : HYP_ENOMEM;
			while (pr->nsan > 0)
				free(pr->san[--pr->nsan]);
			free(pr);
			return (rc);
		}
		pr->nsan++;
	}
	if ((o->ca_file != NULL && (pr->ca_file = strdup(o->ca_file)) == NULL) ||
	    (o->pin_sha256 != NULL && (pr->pin = strdup(o->pin_sha256)) ==
	    NULL) || (pr->timer = hyp_timer_new(cn->tp->p, probe_timer,
	    pr)) == NULL) {
		hyp_timer_free(pr->timer);
		free(pr->ca_file);
		free(pr->pin);
		while (pr->nsan > 0)
			free(pr->san[--pr->nsan]);
		free(pr);
		return (HYP_ENOMEM);
	}
	pr->id = ++cn->next_id;
	pr->start_us = hyp_now_us();
	TAILQ_INSERT_TAIL(&cn->probes, pr, entry);
	pr->listed = 1;
	cn->n++;
	if (id != NULL)
		*id = pr->id;
	ms = o->timeout_ms == 0 ? TP_PROBE_DEF_MS : o->timeout_ms;
	if (ms > TP_PROBE_MAX_MS)
		ms = TP_PROBE_MAX_MS;
	hyp_timer_start(pr->timer, ms, 0);

	if (is_numeric(pr->host)) {
		probe_connect(pr, pr->host);
		return (0);
	}
	if (cn->dns == NULL && (cn->dns = evdns_base_new(hyp_event_base(),
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		probe_finish(pr, HYP_ENOENT, "no DNS resolver available");
		return (0);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	pr->state = PR_RESOLVING;
	/* The callback may run before evdns_getaddrinfo() returns. */
	pr->dns = evdns_getaddrinfo(cn->dns, pr->host, NULL, &hints,
	    probe_resolved, pr);
	if (pr->state != PR_RESOLVING)
		pr->dns = NULL;
	return (0);
}

/* connector v1 probe(). */
static int
cn_probe(void *ctx, const struct hyp_probe_opts *o, hyp_probe_done_fn done,
    void *arg, uint64_t *id)
{
	return (cn_probe_ext(ctx, o, NULL, done, arg, id));
}

/* connector v1 cancel(). */
static void
cn_cancel(void *ctx, uint64_t id)
{
	struct tp_connector	*cn = ctx;
	struct tp_probe		*pr;

	TAILQ_FOREACH(pr, &cn->probes, entry) {
		if (pr->id == id) {
			probe_free(pr);
			return;
		}
	}
}

static const struct hyp_connector_v2 tp_connector_v2 = {
	.size = sizeof(struct hyp_connector_v2),
	.probe = cn_probe,
	.cancel = cn_cancel,
	.probe_ext = cn_probe_ext,
};

/* Create the connector and provide the service. */
int
tp_connector_init(struct transport *tp)
{
	struct tp_connector	*cn;
	int			 rc;

	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return (HYP_ENOMEM);
	cn->tp = tp;
	TAILQ_INIT(&cn->probes);
	rc = hyp_service_provide(tp->p, HYP_CONNECTOR_SERVICE,
	    HYP_CONNECTOR_VERSION, &tp_connector_v2, cn);
	if (rc != 0) {
		hyp_log(tp->p, HYP_LOG_ERR, "cannot provide service '%s': %s",
		    HYP_CONNECTOR_SERVICE, hyp_strerror(rc));
		free(cn);
		return (rc);
	}
	tp->cn = cn;
	return (0);
}

/* Cancel every probe and free the connector. */
void
tp_connector_free(struct transport *tp)
{
	struct tp_connector	*cn = tp->cn;
	struct tp_probe		*pr;

	if (cn == NULL)
		return;
	while ((pr = TAILQ_FIRST(&cn->probes)) != NULL)
		probe_free(pr);
	if (cn->dns != NULL)
		evdns_base_free(cn->dns, 0);
	free(cn);
	tp->cn = NULL;
}
