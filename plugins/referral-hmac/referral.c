/*
 * referral.c: the referral-hmac plugin.  Provides the "referral" service:
 * for every player sent to a backend it signs a ticket (sdk/hyprox/
 * ticket.h, doc/ticket.md) with the current key of its keyring and puts
 * it into ClientReferral.data, so the backend can check who sent the
 * player, to whom, for whom and until when.
 *
 * Keys come from env:/file: references, are read at load and at every
 * reload (that is how keys rotate), and never appear in logs.  issue()
 * allocates nothing: the ticket and its extensions are built in buffers
 * of the plugin's context.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "referral.h"

#define RH_FAIL_LOG_US		(10ULL * 1000 * 1000)	/* one failure line per 10 s */
#define RH_B64_VARIANT		sodium_base64_VARIANT_ORIGINAL
#define RH_B64_MAX		sodium_base64_ENCODED_LEN(HYP_TICKET_MAX, \
				    RH_B64_VARIANT)

/* Failure reasons (label values of hyprox_referral_ticket_failures_total). */
enum rh_fail {
	RH_FAIL_NO_KEY = 0,	/* no key valid now */
	RH_FAIL_DENIED,		/* a referral hook handler denied */
	RH_FAIL_TOO_BIG,	/* the ticket does not fit */
	RH_FAIL_BAD_FIELD,	/* an id too long, no address to bind */
	RH_FAIL__COUNT
};

static const char *const rh_fail_names[RH_FAIL__COUNT] = {
	"no_signing_key", "denied", "too_big", "bad_field"
};

/* The keys of one configuration, with their metric series. */
struct rh_keyset {
	hyp_keyring_t	*kr;
	unsigned	 n;
	char		 ids[RH_KEYS_MAX][HYP_TICKET_KID_MAX + 1];
	hyp_series_t	*issued[RH_KEYS_MAX];
};

/* The plugin's state. */
struct rh_ctx {
	hyp_plugin_t		*p;
	const struct rh_conf	*conf;
	struct rh_settings	 set;
	struct rh_keyset	 ks;

	/* A reload in preparation. */
	int			 prep;
	const struct rh_conf	*prep_conf;
	struct rh_settings	 prep_set;
	struct rh_keyset	 prep_ks;

	hyp_metric_t		*m_issued;
	hyp_series_t		*m_fail[RH_FAIL__COUNT];

	const char		*last_kid;	/* borrowed from ks.kr */
	int			 pool_fallback_logged;
	uint64_t		 fail_log_us;	/* when a failure was last logged */
	unsigned		 fail_quiet;	/* failures not logged since */

	uint8_t			 ext[RH_EXT_CAP];
	uint8_t			 tbuf[HYP_TICKET_MAX];
	char			 b64[RH_B64_MAX];
};

static int	rh_issue(void *, hyp_session_t *, hyp_backend_t *, uint8_t *,
		    size_t);
static int	rh_fail(struct rh_ctx *, hyp_session_t *, enum rh_fail, int,
		    const char *, ...) __attribute__((format(printf, 5, 6)));

static const struct hyp_referral_v1 rh_vtable = {
	.size = sizeof(struct hyp_referral_v1),
	.issue = rh_issue,
};

/* Free a keyset's keyring (wiping the secrets) and clear it. */
static void
keyset_free(struct rh_keyset *ks)
{
	hyp_keyring_free(ks->kr);
	memset(ks, 0, sizeof(*ks));
}

/* Read one key's secret and add it to ks. */
static int
keyset_add(struct rh_ctx *c, const struct rh_key *k, unsigned i,
    struct rh_keyset *ks)
{
	uint8_t		*buf = NULL;
	size_t		 len = 0;
	char		 err[256] = "";
	int		 warn = 0, rc;

	rc = hyp_secret_read(k->secret, hyp_plugin_conf_dir(c->p), &buf, &len,
	    &warn, err, sizeof(err));
	if (rc != 0) {
		hyp_log(c->p, HYP_LOG_ERR, "keys[%u].secret: key '%s': %s", i,
		    k->id, err[0] != '\0' ? err : hyp_strerror(rc));
		return (rc);
	}
	if (warn)
		hyp_log(c->p, HYP_LOG_WARNING, "keys[%u].secret: key '%s': the "
		    "secret file is readable by group or others (chmod 600 "
		    "it)", i, k->id);
	if (len < HYP_TICKET_KEY_MIN) {
		hyp_log(c->p, HYP_LOG_ERR, "keys[%u].secret: key '%s' has %zu "
		    "bytes, at least %d are needed (e.g. head -c 64 "
		    "/dev/urandom)", i, k->id, len, HYP_TICKET_KEY_MIN);
		hyp_secret_free(buf, len);
		return (HYP_ETICKET_KEY_SHORT);
	}
	rc = hyp_keyring_add(ks->kr, k->id, buf, len, k->valid_from,
	    k->valid_to);
	hyp_secret_free(buf, len);
	if (rc != 0) {
		hyp_log(c->p, HYP_LOG_ERR, "keys[%u]: key '%s' refused by the "
		    "keyring: %s", i, k->id, hyp_strerror(rc));
		return (rc);
	}
	snprintf(ks->ids[ks->n], sizeof(ks->ids[ks->n]), "%s", k->id);
	if (c->m_issued != NULL) {
		const char	*v[1] = { k->id };

		ks->issued[ks->n] = hyp_metric_series(c->m_issued, v);
	}
	ks->n++;
	return (0);
}

/* Read every key of set into a new keyset. */
static int
keyset_load(struct rh_ctx *c, const struct rh_settings *set,
    struct rh_keyset *ks)
{
	const char	*kid;
	const uint8_t	*sec;
	size_t		 len;
	unsigned	 i;
	int		 rc;

	memset(ks, 0, sizeof(*ks));
	if ((ks->kr = hyp_keyring_new()) == NULL)
		return (HYP_ENOMEM);
	for (i = 0; i < set->nkeys; i++) {
		if ((rc = keyset_add(c, &set->keys[i], i, ks)) != 0) {
			keyset_free(ks);
			return (rc);
		}
	}
	if (hyp_keyring_signing_key(ks->kr, (uint64_t)time(NULL), &kid, &sec,
	    &len) == 0)
		hyp_log(c->p, HYP_LOG_INFO, "%u key%s loaded; signing with "
		    "'%s'; tickets valid %us, scope %s%s", ks->n,
		    ks->n == 1 ? "" : "s", kid, set->ttl,
		    rh_scope_name(set->scope), set->bind_address ?
		    ", bound to the client address" : "");
	else
		hyp_log(c->p, HYP_LOG_WARNING, "%u key%s loaded but none is "
		    "valid now: players cannot be referred until one is",
		    ks->n, ks->n == 1 ? "" : "s");
	return (0);
}

/* Gauge: whether a key can sign now. */
static double
gauge_key_valid(void *arg)
{
	struct rh_ctx	*c = arg;
	const char	*kid;
	const uint8_t	*sec;
	size_t		 len;

	if (c->ks.kr == NULL)
		return (0);
	return (hyp_keyring_signing_key(c->ks.kr, (uint64_t)time(NULL), &kid,
	    &sec, &len) == 0 ? 1 : 0);
}

/* Register the counters and resolve the fixed series. */
static void
metrics_init(struct rh_ctx *c)
{
	static const char *const key[] = { "key", NULL };
	static const char *const reason[] = { "reason", NULL };
	hyp_metric_t		*m;
	int			 err = 0, i;

	/* Keys change across reloads: room for several generations. */
	c->m_issued = hyp_metric_new(c->p, HYP_METRIC_COUNTER,
	    "hyprox_referral_tickets_issued_total", "Tickets signed, by key "
	    "id.", key, 4 * RH_KEYS_MAX, NULL, 0, &err);
	m = hyp_metric_new(c->p, HYP_METRIC_COUNTER,
	    "hyprox_referral_ticket_failures_total", "Referrals refused "
	    "because no ticket could be issued, by reason.", reason,
	    RH_FAIL__COUNT, NULL, 0, &err);
	for (i = 0; m != NULL && i < RH_FAIL__COUNT; i++) {
		const char	*v[1] = { rh_fail_names[i] };

		c->m_fail[i] = hyp_metric_series(m, v);
	}
	if (c->m_issued == NULL || m == NULL)
		hyp_log(c->p, HYP_LOG_WARNING, "metrics: %s",
		    hyp_strerror(err));
}

/* Count a failure and log it, at most one line per 10 seconds. */
static int
rh_fail(struct rh_ctx *c, hyp_session_t *s, enum rh_fail why, int rc,
    const char *fmt, ...)
{
	char		msg[256];
	va_list		ap;
	uint64_t	now = hyp_now_us();

	hyp_series_add(c->m_fail[why], 1);
	if (c->fail_log_us != 0 && now - c->fail_log_us < RH_FAIL_LOG_US) {
		c->fail_quiet++;
		return (rc);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->fail_quiet > 0)
		hyp_log_session(c->p, s, HYP_LOG_ERR, "cannot issue a ticket: "
		    "%s (%u more failures in the last seconds)", msg,
		    c->fail_quiet);
	else
		hyp_log_session(c->p, s, HYP_LOG_ERR, "cannot issue a ticket: "
		    "%s", msg);
	c->fail_log_us = now;
	c->fail_quiet = 0;
	return (rc);
}

/* Copy an id into a ticket field of HYP_TICKET_ID_MAX + 1 bytes. */
static int
copy_id(char *dst, const char *src)
{
	size_t	len;

	if (src == NULL || (len = strlen(src)) == 0 || len > HYP_TICKET_ID_MAX)
		return (HYP_EINVAL);
	memcpy(dst, src, len + 1);
	return (0);
}

/* Fill the ticket's client address from the session's peer. */
static int
fill_addr(hyp_session_t *s, struct hyp_ticket *t)
{
	const struct sockaddr		*sa;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	socklen_t			 len = 0;

	if ((sa = hyp_session_peer(s, &len)) == NULL || len == 0)
		return (HYP_EINVAL);
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		t->addr_family = 4;
		memcpy(t->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			/* A dual-stack listener: the client is IPv4. */
			t->addr_family = 4;
			memcpy(t->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			t->addr_family = 6;
			memcpy(t->addr, &sin6->sin6_addr, 16);
		}
	} else
		return (HYP_EINVAL);
	t->has_addr = 1;
	return (0);
}

/* Whether ext[0..len) is a well-formed sequence of TLV entries. */
static int
ext_well_formed(const uint8_t *ext, size_t len)
{
	size_t	off = 0;

	while (off < len) {
		if (len - off < 2 || (size_t)ext[off + 1] > len - off - 2)
			return (0);
		off += 2 + (size_t)ext[off + 1];
	}
	return (1);
}

/* Let other plugins add extensions, then add the trace id; *len is set. */
static int
build_ext(struct rh_ctx *c, hyp_session_t *s, hyp_backend_t *b, size_t *len)
{
	struct hyp_referral_ext	 ext;
	const uint8_t		*d;
	const char		*sid;
	size_t			 dlen;
	enum hyp_hook_rc	 hrc;

	ext.buf = c->ext;
	ext.cap = sizeof(c->ext);
	ext.len = 0;
	ext.backend = b;
	hrc = hyp_hook_run(HYP_HOOK_REFERRAL, s, &ext);
	if (hrc == HYP_DENY)
		return (HYP_EACCES);
	if (hrc == HYP_ERROR)
		hyp_log_session(c->p, s, HYP_LOG_WARNING, "a referral hook "
		    "handler failed; the ticket keeps the extensions added so "
		    "far");
	*len = ext.len;
	if (*len > sizeof(c->ext) || !ext_well_formed(c->ext, *len)) {
		hyp_log_session(c->p, s, HYP_LOG_WARNING, "referral hook "
		    "handlers left malformed extensions (%zu bytes); the "
		    "ticket carries none of them", *len);
		*len = 0;
	}
	/* The session id, so the backend's logs join hyprox's. */
	if (hyp_ticket_ext_find(c->ext, *len, HYP_TICKET_EXT_TRACE_ID, &d,
	    &dlen) == HYP_ENOENT && (sid = hyp_session_id_str(s)) != NULL &&
	    hyp_ticket_ext_add(c->ext, sizeof(c->ext), len,
	    HYP_TICKET_EXT_TRACE_ID, sid, strlen(sid)) != 0)
		hyp_log_session(c->p, s, HYP_LOG_DEBUG, "no room left for the "
		    "trace id extension");
	return (0);
}

/* Fill the scope of t for backend b. */
static int
fill_scope(struct rh_ctx *c, hyp_backend_t *b, struct hyp_ticket *t)
{
	const char	*pool;

	t->scope = c->set.scope;
	switch (t->scope) {
	case HYP_TICKET_SCOPE_GLOBAL:
		t->scope_id[0] = '\0';
		return (0);
	case HYP_TICKET_SCOPE_POOL:
		pool = hyp_backend_pool(b);
		if (pool != NULL && pool[0] != '\0')
			return (copy_id(t->scope_id, pool));
		if (!c->pool_fallback_logged) {
			hyp_log(c->p, HYP_LOG_DEBUG, "backend '%s' has no pool: "
			    "its tickets are scoped to the backend (logged "
			    "once)", hyp_backend_id(b));
			c->pool_fallback_logged = 1;
		}
		t->scope = HYP_TICKET_SCOPE_BACKEND;
		/* FALLTHROUGH */
	default:
		return (copy_id(t->scope_id, hyp_backend_id(b)));
	}
}

/* Write the signed ticket (raw or base64) into out; the length or a code. */
static int
sign_into(struct rh_ctx *c, const struct hyp_ticket *t, const uint8_t *key,
    size_t keylen, uint8_t *out, size_t cap)
{
	size_t	blen;
	int	n;

	if (c->set.encoding == RH_ENC_RAW)
		return (hyp_ticket_sign(t, key, keylen, out,
		    cap < HYP_TICKET_MAX ? cap : HYP_TICKET_MAX));
	n = hyp_ticket_sign(t, key, keylen, c->tbuf, sizeof(c->tbuf));
	if (n < 0)
		return (n);
	blen = sodium_base64_ENCODED_LEN((size_t)n, RH_B64_VARIANT) - 1;
	if (blen > cap || blen > HYP_REFERRAL_DATA_MAX) {
		sodium_memzero(c->tbuf, (size_t)n);
		return (HYP_ETICKET_TOO_BIG);
	}
	sodium_bin2base64(c->b64, sizeof(c->b64), c->tbuf, (size_t)n,
	    RH_B64_VARIANT);
	memcpy(out, c->b64, blen);
	sodium_memzero(c->tbuf, (size_t)n);
	sodium_memzero(c->b64, blen);
	return ((int)blen);
}

/* The series counting tickets signed with kid. */
static hyp_series_t *
issued_series(struct rh_ctx *c, const char *kid)
{
	unsigned	i;

	for (i = 0; i < c->ks.n; i++)
		if (strcmp(c->ks.ids[i], kid) == 0)
			return (c->ks.issued[i]);
	return (NULL);
}

/* The referral service: sign a ticket for session s going to backend b. */
static int
rh_issue(void *ctx, hyp_session_t *s, hyp_backend_t *b, uint8_t *out,
    size_t cap)
{
	struct rh_ctx			*c = ctx;
	const struct hyp_connect	*conn;
	struct hyp_ticket		 t;
	const char			*kid;
	const uint8_t			*key;
	size_t				 keylen, elen = 0;
	uint64_t			 now = (uint64_t)time(NULL);
	int				 n, rc;

	if (c == NULL || s == NULL || b == NULL || out == NULL)
		return (HYP_EINVAL);
	if (c->ks.kr == NULL || hyp_keyring_signing_key(c->ks.kr, now, &kid,
	    &key, &keylen) != 0)
		return (rh_fail(c, s, RH_FAIL_NO_KEY, HYP_ENOENT, "no key is "
		    "valid now (check valid_from/valid_to in keys)"));
	if (c->last_kid != kid) {
		if (c->last_kid != NULL)
			hyp_log(c->p, HYP_LOG_NOTICE, "signing key is now "
			    "'%s'", kid);
		c->last_kid = kid;
	}

	memset(&t, 0, sizeof(t));
	snprintf(t.kid, sizeof(t.kid), "%s", kid);
	t.issued_at = now;
	t.ttl = c->set.ttl;
	randombytes_buf(t.nonce, sizeof(t.nonce));
	if (fill_scope(c, b, &t) != 0 || copy_id(t.target,
	    hyp_backend_id(b)) != 0)
		return (rh_fail(c, s, RH_FAIL_BAD_FIELD, HYP_EINVAL, "backend "
		    "id or pool '%s' is empty or longer than %d bytes",
		    hyp_backend_id(b) != NULL ? hyp_backend_id(b) : "",
		    HYP_TICKET_ID_MAX));
	if ((conn = hyp_session_connect(s)) != NULL && conn->has_uuid)
		memcpy(t.uuid, conn->uuid, sizeof(t.uuid));
	if (c->set.bind_address && fill_addr(s, &t) != 0)
		return (rh_fail(c, s, RH_FAIL_BAD_FIELD, HYP_EINVAL, "the "
		    "session has no IPv4 or IPv6 client address to bind"));
	if ((rc = build_ext(c, s, b, &elen)) != 0)
		return (rh_fail(c, s, RH_FAIL_DENIED, rc, "a referral hook "
		    "handler denied it"));
	if (elen > 0) {
		t.ext = c->ext;
		t.ext_len = elen;
	}

	n = sign_into(c, &t, key, keylen, out, cap);
	sodium_memzero(t.nonce, sizeof(t.nonce));
	if (n < 0)
		return (rh_fail(c, s, n == HYP_ETICKET_TOO_BIG ||
		    n == HYP_ENOSPC ? RH_FAIL_TOO_BIG : RH_FAIL_BAD_FIELD, n,
		    "%s", hyp_strerror(n)));
	hyp_series_add(issued_series(c, kid), 1);
	hyp_session_add_reason(s, "ticket", "%s", kid);
	return (n);
}

/* Parse the configuration and read the keys. */
static int
rh_load(hyp_plugin_t *p, const void *conf)
{
	struct rh_ctx	*c;
	char		 err[512];
	int		 rc;

	if (sodium_init() < 0)
		return (HYP_ENOMEM);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (HYP_ENOMEM);
	c->p = p;
	c->conf = conf;
	hyp_plugin_set_ctx(p, c);
	if ((rc = rh_settings_make(conf, (uint64_t)time(NULL), &c->set, err,
	    sizeof(err))) != 0) {
		hyp_log(p, HYP_LOG_ERR, "%s", err);
		goto fail;
	}
	metrics_init(c);
	if ((rc = keyset_load(c, &c->set, &c->ks)) != 0)
		goto fail;
	return (0);
fail:
	free(c);
	hyp_plugin_set_ctx(p, NULL);
	return (rc);
}

/* Provide the referral service. */
static int
rh_start(hyp_plugin_t *p)
{
	struct rh_ctx	*c = hyp_plugin_ctx(p);
	int		 rc, err = 0;

	/* Registered here: the host withdraws it when p unloads. */
	if (hyp_gauge_fn_new(p, "hyprox_referral_signing_key_valid",
	    "1 when a key is valid for signing now, else 0.",
	    gauge_key_valid, c, &err) == NULL)
		hyp_log(p, HYP_LOG_WARNING, "metrics: %s", hyp_strerror(err));
	if ((rc = hyp_service_provide(p, HYP_REFERRAL_SERVICE,
	    HYP_REFERRAL_VERSION, &rh_vtable, c)) != 0) {
		hyp_log(p, HYP_LOG_ERR, "cannot provide the %s service: %s",
		    HYP_REFERRAL_SERVICE, hyp_strerror(rc));
		return (rc);
	}
	return (0);
}

/* Drop a reload preparation. */
static void
prep_clear(struct rh_ctx *c)
{
	keyset_free(&c->prep_ks);
	memset(&c->prep_set, 0, sizeof(c->prep_set));
	c->prep_conf = NULL;
	c->prep = 0;
}

/* Validate a new configuration and read its keys (secrets re-read). */
static int
reload_prepare(struct rh_ctx *c, const struct rh_conf *conf)
{
	char	err[512];
	int	rc;

	prep_clear(c);
	if ((rc = rh_settings_make(conf, (uint64_t)time(NULL), &c->prep_set,
	    err, sizeof(err))) != 0) {
		hyp_log(c->p, HYP_LOG_ERR, "reload refused: %s", err);
		return (rc);
	}
	if ((rc = keyset_load(c, &c->prep_set, &c->prep_ks)) != 0) {
		hyp_log(c->p, HYP_LOG_ERR, "reload refused: the keys could not "
		    "be read; the old keys stay in use");
		prep_clear(c);
		return (rc);
	}
	c->prep_conf = conf;
	c->prep = 1;
	return (0);
}

/* Switch to the prepared keys; cannot fail. */
static void
reload_commit(struct rh_ctx *c)
{
	keyset_free(&c->ks);
	c->ks = c->prep_ks;
	memset(&c->prep_ks, 0, sizeof(c->prep_ks));
	c->set = c->prep_set;
	c->conf = c->prep_conf;
	c->last_kid = NULL;
	c->pool_fallback_logged = 0;
	prep_clear(c);
	hyp_log(c->p, HYP_LOG_INFO, "configuration reloaded");
}

/* Apply a new configuration in phases (see hyprox-referral-hmac(5)). */
static int
rh_reload(hyp_plugin_t *p, const void *new_conf, int phase)
{
	struct rh_ctx	*c = hyp_plugin_ctx(p);

	if (c == NULL)
		return (HYP_EINVAL);
	switch (phase) {
	case HYP_RELOAD_PREPARE:
		return (reload_prepare(c, new_conf));
	case HYP_RELOAD_COMMIT:
		if (c->prep)
			reload_commit(c);
		return (0);
	default:
		prep_clear(c);
		return (0);
	}
}

/* Nothing to drain: issue() is synchronous. */
static int
rh_stop(hyp_plugin_t *p)
{
	return (0);
}

/* Free everything, wiping the keys. */
static void
rh_unload(hyp_plugin_t *p)
{
	struct rh_ctx	*c = hyp_plugin_ctx(p);

	if (c == NULL)
		return;
	prep_clear(c);
	keyset_free(&c->ks);
	sodium_memzero(c, sizeof(*c));
	free(c);
	hyp_plugin_set_ctx(p, NULL);
}

HYP_PLUGIN_DESCRIPTOR(
	.name = "referral-hmac",
	.version = "0.1",
	.summary = "signed referral tickets (HMAC-SHA256) in ClientReferral",
	.conf_schema = &rh_conf_schema,
	.conf_check = rh_conf_check,
	.load = rh_load,
	.start = rh_start,
	.reload = rh_reload,
	.stop = rh_stop,
	.unload = rh_unload,
);
