/*
 * transport.c: the transport plugin's descriptor and lifecycle: load the
 * settings and secrets, start the QUIC endpoint, reload in phases, drain
 * on stop and free everything at unload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "transport.h"

#define TP_SECRET_MIN		16	/* bytes of a token key or reset secret */
#define TP_TICK_MS		1000
#define TP_DRAIN_TICK_MS	100
#define TP_OLD_GRACE_MS		5000

/* Derive a 32-byte key from a secret reference (BLAKE2b with a label). */
static int
read_key(struct transport *tp, const char *what, const char *ref,
    uint8_t out[HQ_SECRET_LEN])
{
	crypto_generichash_state	 st;
	uint8_t				*buf = NULL;
	size_t				 len = 0;
	char				 err[256] = "";
	int				 warn = 0, rc;

	rc = hyp_secret_read(ref, hyp_plugin_conf_dir(tp->p), &buf, &len,
	    &warn, err, sizeof(err));
	if (rc != 0) {
		hyp_log(tp->p, HYP_LOG_ERR, "%s: %s", what, err[0] != '\0' ?
		    err : hyp_strerror(rc));
		return (rc);
	}
	if (warn)
		hyp_log(tp->p, HYP_LOG_WARNING, "%s: the secret file is "
		    "readable by group or others", what);
	if (len < TP_SECRET_MIN) {
		hyp_log(tp->p, HYP_LOG_ERR, "%s: the secret has %zu bytes, "
		    "at least %d are needed", what, len, TP_SECRET_MIN);
		hyp_secret_free(buf, len);
		return (HYP_ESECRET);
	}
	crypto_generichash_init(&st, NULL, 0, HQ_SECRET_LEN);
	crypto_generichash_update(&st, (const uint8_t *)what, strlen(what) + 1);
	crypto_generichash_update(&st, buf, len);
	crypto_generichash_final(&st, out, HQ_SECRET_LEN);
	hyp_secret_free(buf, len);
	return (0);
}

/* Read both secrets of set into tk/rs; *have_* tell which were given. */
static int
read_secrets(struct transport *tp, const struct tp_settings *set,
    uint8_t tk[HQ_SECRET_LEN], int *have_tk, uint8_t rs[HQ_SECRET_LEN],
    int *have_rs)
{
	int	rc;

	*have_tk = *have_rs = 0;
	if (set->token_key != NULL) {
		if ((rc = read_key(tp, "token_key", set->token_key, tk)) != 0)
			return (rc);
		*have_tk = 1;
	}
	if (set->reset_secret != NULL) {
		if ((rc = read_key(tp, "reset_secret", set->reset_secret,
		    rs)) != 0)
			return (rc);
		*have_rs = 1;
	}
	return (0);
}

/* Parse the configuration, read the secrets, size the tables. */
static int
tp_load(hyp_plugin_t *p, const void *conf)
{
	struct transport	*tp;
	char			 err[512];
	int			 rc;

	if ((tp = calloc(1, sizeof(*tp))) == NULL)
		return (HYP_ENOMEM);
	tp->p = p;
	tp->conf = conf;
	TAILQ_INIT(&tp->old);
	TAILQ_INIT(&tp->connect_q);
	hyp_plugin_set_ctx(p, tp);
	if (sodium_init() < 0) {
		rc = HYP_ENOMEM;
		goto fail;
	}
	if ((rc = tp_settings_make(conf, &tp->set, err, sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		goto fail;
	}
	if ((rc = read_secrets(tp, &tp->set, tp->token_key,
	    &tp->have_token_key, tp->reset_secret,
	    &tp->have_reset_secret)) != 0)
		goto fail;
	if (!tp->have_token_key || !tp->have_reset_secret)
		hyp_log(p, HYP_LOG_NOTICE, "%s%s%s not set: using random "
		    "keys, so %s will not survive a restart",
		    !tp->have_token_key ? "token_key" : "",
		    !tp->have_token_key && !tp->have_reset_secret ? " and " : "",
		    !tp->have_reset_secret ? "reset_secret" : "",
		    !tp->have_reset_secret ? "stateless resets (and tokens)" :
		    "address validation tokens");
	if ((rc = tp_iptable_init(&tp->ipt,
	    tp_iptable_size_for(&tp->set.lim))) != 0)
		goto fail;
	if ((rc = tp_connector_init(tp)) != 0)
		goto fail;
	return (0);
fail:
	tp_iptable_free(&tp->ipt);
	sodium_memzero(tp, sizeof(*tp));
	free(tp);
	hyp_plugin_set_ctx(p, NULL);
	return (rc);
}

/* The tick timer. */
static void
tick_fire(hyp_plugin_t *p, void *arg)
{
	struct transport	*tp = arg;

	tp_tick(tp);
	if (tp->stopping && tp->started != 2 && tp_drained(tp)) {
		tp->started = 2;	/* drained reported */
		hyp_timer_stop(tp->tick);
		hyp_plugin_drained(p);
	}
}

/* Log where the endpoint listens. */
static void
log_listening(struct transport *tp, const struct tp_settings *set,
    const struct tp_server *srv)
{
	size_t	i;

	for (i = 0; i < set->nlisten; i++)
		hyp_log(tp->p, HYP_LOG_INFO, "listening on %s port %u%s "
		    "(alpn %s%s, certificate %s, fingerprint %s)",
		    set->listen[i].addr, hq_server_port(srv->hq, i),
		    set->listen[i].dual_stack ? " dual-stack" : "",
		    set->alpn[0], set->nalpn > 1 ? ",…" : "",
		    set->cert != NULL ? set->cert : "auto",
		    hq_server_cert_fp(srv->hq));
}

/* Readiness check "listener": a bound endpoint and not draining. */
static int
ready_listener(void *arg, char *why, size_t whylen)
{
	struct transport	*tp = arg;

	if (tp->stopping) {
		snprintf(why, whylen, "draining");
		return (0);
	}
	if (tp->started != 1 || tp->cur == NULL || tp->set.nlisten == 0) {
		snprintf(why, whylen, "no QUIC listener is bound");
		return (0);
	}
	return (1);
}

/* Bind the listeners and start the timers. */
static int
tp_start(hyp_plugin_t *p)
{
	struct transport	*tp = hyp_plugin_ctx(p);
	int			 rc;

	if ((rc = tp_metrics_init(tp)) != 0)
		hyp_log(p, HYP_LOG_WARNING, "metrics: %s", hyp_strerror(rc));
	rc = tp_server_new(tp, &tp->set, tp->have_token_key ? tp->token_key :
	    NULL, tp->have_reset_secret ? tp->reset_secret : NULL, &tp->cur);
	if (rc != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot start the QUIC listener: %s",
		    hyp_strerror(rc));
		return (rc);
	}
	if ((tp->tick = hyp_timer_new(p, tick_fire, tp)) == NULL ||
	    hyp_timer_start(tp->tick, TP_TICK_MS, 1) != 0)
		return (HYP_ENOMEM);
	tp->started = 1;
	if ((rc = hyp_ready_register(p, "listener", ready_listener, tp)) != 0)
		hyp_log(p, HYP_LOG_WARNING, "readiness check: %s",
		    hyp_strerror(rc));
	log_listening(tp, &tp->set, tp->cur);
	return (0);
}

/* Drop a reload preparation. */
static void
prep_clear(struct transport *tp)
{
	if (tp->prep_srv != NULL)
		tp_server_free(tp->prep_srv, "shutdown");
	if (tp->prep_has_ipt)
		tp_iptable_free(&tp->prep_ipt);
	sodium_memzero(tp->prep_token_key, sizeof(tp->prep_token_key));
	sodium_memzero(tp->prep_reset_secret, sizeof(tp->prep_reset_secret));
	tp->prep_srv = NULL;
	tp->prep_has_ipt = 0;
	tp->prep = 0;
}

/* Validate a new configuration and bind what it needs. */
static int
reload_prepare(struct transport *tp, const struct tp_conf *conf)
{
	char		err[512];
	uint32_t	size;
	int		rc;

	prep_clear(tp);
	if ((rc = tp_settings_make(conf, &tp->prep_set, err,
	    sizeof(err))) != 0) {
		hyp_log(tp->p, HYP_LOG_ERR, "reload refused: %s", err);
		return (rc);
	}
	if ((rc = read_secrets(tp, &tp->prep_set, tp->prep_token_key,
	    &tp->prep_have_tk, tp->prep_reset_secret,
	    &tp->prep_have_rs)) != 0)
		return (rc);
	size = tp_iptable_size_for(&tp->prep_set.lim);
	if (size > tp->ipt.cap) {
		if ((rc = tp_iptable_init(&tp->prep_ipt, size)) != 0)
			return (rc);
		tp->prep_has_ipt = 1;
	}
	if (tp->started == 1 &&
	    !tp_settings_same_server(&tp->set, &tp->prep_set)) {
		rc = tp_server_new(tp, &tp->prep_set, tp->prep_have_tk ?
		    tp->prep_token_key : NULL, tp->prep_have_rs ?
		    tp->prep_reset_secret : NULL, &tp->prep_srv);
		if (rc != 0) {
			hyp_log(tp->p, HYP_LOG_ERR, "reload refused: cannot "
			    "start the new listener: %s", hyp_strerror(rc));
			prep_clear(tp);
			return (rc);
		}
	}
	tp->prep_conf = conf;
	tp->prep = 1;
	return (0);
}

/* Switch to the prepared configuration; cannot fail. */
static void
reload_commit(struct transport *tp)
{
	struct tp_server	*old;

	tp->conf = tp->prep_conf;
	tp->set = tp->prep_set;
	if (tp->prep_has_ipt) {
		tp_iptable_move(&tp->prep_ipt, &tp->ipt);
		tp->ipt = tp->prep_ipt;
		tp->prep_has_ipt = 0;
	}
	if (tp->prep_srv != NULL) {
		old = tp->cur;
		old->draining = 1;
		old->drain_deadline_us = hyp_now_us() +
		    ((uint64_t)tp->set.handshake_ms + tp->set.connect_ms +
		    TP_OLD_GRACE_MS) * 1000;
		TAILQ_INSERT_TAIL(&tp->old, old, entry);
		tp->cur = tp->prep_srv;
		tp->prep_srv = NULL;
		log_listening(tp, &tp->set, tp->cur);
	} else if (tp->cur != NULL) {
		hq_server_set_retry(tp->cur->hq, tp->set.retry,
		    tp->set.retry_threshold);
		if (tp->prep_have_tk && (!tp->have_token_key ||
		    sodium_memcmp(tp->prep_token_key, tp->token_key,
		    HQ_SECRET_LEN) != 0))
			(void)hq_server_set_token_key(tp->cur->hq,
			    tp->prep_token_key);
	}
	memcpy(tp->token_key, tp->prep_token_key, HQ_SECRET_LEN);
	memcpy(tp->reset_secret, tp->prep_reset_secret, HQ_SECRET_LEN);
	tp->have_token_key = tp->prep_have_tk;
	tp->have_reset_secret = tp->prep_have_rs;
	prep_clear(tp);
	hyp_log(tp->p, HYP_LOG_INFO, "configuration reloaded");
}

/* Apply a new configuration in phases (see hyprox-transport(5)). */
static int
tp_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct transport	*tp = hyp_plugin_ctx(p);

	switch (phase) {
	case HYP_RELOAD_PREPARE:
		return (reload_prepare(tp, new_conf));
	case HYP_RELOAD_COMMIT:
		if (tp->prep)
			reload_commit(tp);
		return (0);
	default:
		prep_clear(tp);
		return (0);
	}
}

/* Refuse new connections, answer waiting ones, drain. */
static int
tp_stop(hyp_plugin_t *p)
{
	struct transport	*tp = hyp_plugin_ctx(p);

	tp->stopping = 1;
	tp_stop_conns(tp);
	if (tp_drained(tp)) {
		hyp_timer_stop(tp->tick);
		tp->started = 2;
		return (0);
	}
	if (tp->tick != NULL)
		hyp_timer_start(tp->tick, TP_DRAIN_TICK_MS, 1);
	hyp_log(p, HYP_LOG_INFO, "draining %u sessions", tp->nconns);
	return (HYP_EAGAIN);
}

/* Free everything. */
static void
tp_unload(hyp_plugin_t *p)
{
	struct transport	*tp = hyp_plugin_ctx(p);
	struct tp_server	*srv;

	if (tp == NULL)
		return;
	prep_clear(tp);
	tp_connector_free(tp);
	while ((srv = TAILQ_FIRST(&tp->old)) != NULL) {
		TAILQ_REMOVE(&tp->old, srv, entry);
		tp_server_free(srv, "shutdown");
	}
	if (tp->cur != NULL)
		tp_server_free(tp->cur, "shutdown");
	tp->cur = NULL;
	hyp_timer_free(tp->tick);
	hyp_timer_free(tp->deadline);
	tp_iptable_free(&tp->ipt);
	sodium_memzero(tp, sizeof(*tp));
	free(tp);
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "transport",
	.version = "0.1",
	.summary = "QUIC listener, session pipeline and backend connector",
	.conf_schema = &tp_conf_schema,
	.conf_check = tp_conf_check,
	.load = tp_load,
	.start = tp_start,
	.reload = tp_reload,
	.stop = tp_stop,
	.unload = tp_unload,
);
