/*
 * check_referral_hmac: the referral-hmac plugin compiled in, driven
 * through its descriptor with the daemon core (config loader, sessions,
 * hooks, services, metrics) and checked with libhyprox's verifier:
 * configuration checks, tickets for each scope, address binding,
 * extensions from the referral hook and the trace id, key rotation,
 * refused secrets, phased reload and the failure paths.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hyproxd.h"
#include "referral.h"

extern const struct hyp_plugin_desc hyp_plugin;

#define PEER4		"203.0.113.7"
#define BACKEND_ID	"lobby-1"
#define POOL_ID		"lobby"

static const uint8_t	uuid1[16] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
	0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
};

/* Per-test state (fork mode: every test starts from zero). */
static char			 dir[64];
static struct hyp_plugin	*plug;
static void			*conf;
static void			*conf2;
static const struct hyp_referral_v1 *svc;
static void			*svc_ctx;
static hyp_session_t		*sess;
static hyp_backend_t		*be;
static uint8_t			 key1[32], key2[40];
static int			 saved_stderr = -1;
static FILE			*capture_fp;

/* ---- helpers ---- */

/* Start capturing what is written to fd 2. */
static void
capture_start(void)
{
	fflush(stderr);
	capture_fp = tmpfile();
	ck_assert_ptr_nonnull(capture_fp);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fileno(capture_fp), STDERR_FILENO), 0);
}

/* Stop capturing and return what was written (static buffer). */
static const char *
capture_end(void)
{
	static char	buf[16384];
	size_t		n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(capture_fp);
	n = fread(buf, 1, sizeof(buf) - 1, capture_fp);
	buf[n] = '\0';
	fclose(capture_fp);
	capture_fp = NULL;
	return (buf);
}

/* Write a file under dir with the given mode. */
static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Load YAML text as the plugin's configuration; the loader's code. */
static int
load_conf(const char *yaml, void **out)
{
	char	 path[256];
	char	*err = NULL;
	int	 rc;

	write_file("30-referral-hmac.yaml", yaml, strlen(yaml), 0600);
	snprintf(path, sizeof(path), "%s/30-referral-hmac.yaml", dir);
	*out = NULL;
	rc = hypd_plugin_conf_load(path, hyp_plugin.conf_schema, out, &err);
	free(err);
	return (rc);
}

/* conf_check of YAML text; err gets the sentence. */
static int
check_text(const char *yaml, char *err, size_t errlen)
{
	void	*c;
	int	 rc;

	ck_assert_int_eq(load_conf(yaml, &c), 0);
	err[0] = '\0';
	rc = hyp_plugin.conf_check(c, err, errlen);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	return (rc);
}

/* Fresh directory, keys, fake plugin, session and backend. */
static void
setup(void)
{
	struct sockaddr_in	sin;
	struct hyp_connect	c;
	size_t			i;

	ck_assert_int_ge(sodium_init(), 0);
	hypd_metrics_reset();	/* counters start at zero without fork too */
	snprintf(dir, sizeof(dir), "/tmp/check_referral_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < sizeof(key1); i++)
		key1[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < sizeof(key2); i++)
		key2[i] = (uint8_t)(0x10 + i);
	write_file("k1.key", key1, sizeof(key1), 0600);
	write_file("k2.key", key2, sizeof(key2), 0600);

	plug = calloc(1, sizeof(*plug));
	ck_assert_ptr_nonnull(plug);
	plug->name = strdup("referral-hmac");
	plug->conf_dir = strdup(dir);
	LIST_INIT(&plug->timers);
	LIST_INIT(&plug->watches);
	LIST_INIT(&plug->deferred);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	inet_pton(AF_INET, PEER4, &sin.sin_addr);
	sess = hyp_session_new(plug, (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_ptr_nonnull(sess);
	memset(&c, 0, sizeof(c));
	c.layout = HYP_CONNECT_V2;
	c.has_uuid = 1;
	memcpy(c.uuid, uuid1, sizeof(uuid1));
	c.username.ptr = (const uint8_t *)"alice";
	c.username.len = 5;
	ck_assert_int_eq(hyp_session_set_connect(sess, &c), 0);

	be = hyp_backend_new(BACKEND_ID, "127.0.0.1", 5521);
	ck_assert_ptr_nonnull(be);
	ck_assert_int_eq(hyp_backend_set_pool(be, POOL_ID), 0);
}

/* Unload the plugin and free what setup() made. */
static void
teardown(void)
{
	char	cmd[128];

	if (hyp_plugin_ctx(plug) != NULL)
		hyp_plugin.unload(plug);
	hypd_service_release(plug);
	hypd_hook_release(plug);
	hypd_metrics_release(plug);
	if (conf != NULL)
		hypd_plugin_conf_free(hyp_plugin.conf_schema, conf);
	if (conf2 != NULL)
		hypd_plugin_conf_free(hyp_plugin.conf_schema, conf2);
	conf = conf2 = NULL;
	hyp_session_end(sess, "test");
	hyp_backend_unref(be);
	free(plug->conf_dir);
	free(plug->name);
	free(plug);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Load and start the plugin with yaml; the service is looked up. */
static void
start_with(const char *yaml)
{
	ck_assert_int_eq(load_conf(yaml, &conf), 0);
	ck_assert_int_eq(hyp_plugin.conf_check(conf, (char[256]){ 0 }, 256),
	    0);
	ck_assert_int_eq(hyp_plugin.load(plug, conf), 0);
	ck_assert_int_eq(hyp_plugin.start(plug), 0);
	svc = hyp_service_get(HYP_REFERRAL_SERVICE, HYP_REFERRAL_VERSION,
	    &svc_ctx, NULL);
	ck_assert_ptr_nonnull(svc);
	ck_assert_uint_ge(svc->size, sizeof(struct hyp_referral_v1));
}

/* A keyring holding k1 and k2 without windows. */
static hyp_keyring_t *
verifier_keys(void)
{
	hyp_keyring_t	*kr = hyp_keyring_new();

	ck_assert_ptr_nonnull(kr);
	ck_assert_int_eq(hyp_keyring_add(kr, "k1", key1, sizeof(key1), 0, 0),
	    0);
	ck_assert_int_eq(hyp_keyring_add(kr, "k2", key2, sizeof(key2), 0, 0),
	    0);
	return (kr);
}

/* Verify buf as backend lobby-1 of pool lobby with the test uuid. */
static int
verify_as(const uint8_t *buf, size_t len, const char *backend,
    const char *pool, const struct sockaddr *peer, struct hyp_ticket *t)
{
	struct hyp_ticket_verify_opts	 o;
	hyp_keyring_t			*kr = verifier_keys();
	int				 rc;

	memset(&o, 0, sizeof(o));
	o.backend_id = backend;
	o.pool_id = pool;
	o.uuid = uuid1;
	o.peer = peer;
	o.skew = 5;
	rc = hyp_ticket_verify(buf, len, kr, NULL, &o, t);
	hyp_keyring_free(kr);
	return (rc);
}

/* Whether the rendered metrics contain line. */
static int
metrics_have(const char *line)
{
	char	*out = NULL;
	int	 found;

	ck_assert_int_eq(hyp_metrics_render(&out, NULL), 0);
	found = strstr(out, line) != NULL;
	free(out);
	return (found);
}

static const char *const yaml_k1 =
    "keys:\n"
    "  - id: k1\n"
    "    secret: file:k1.key\n";

/* ---- configuration ---- */

START_TEST(conf_defaults)
{
	struct rh_settings	 s;
	char			 err[256];
	void			*c;

	ck_assert_int_eq(load_conf(yaml_k1, &c), 0);
	ck_assert_int_eq(rh_settings_make(c, 1700000000, &s, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(s.nkeys, 1);
	ck_assert_str_eq(s.keys[0].id, "k1");
	ck_assert_str_eq(s.keys[0].secret, "file:k1.key");
	ck_assert_uint_eq(s.keys[0].valid_from, 0);
	ck_assert_uint_eq(s.keys[0].valid_to, 0);
	ck_assert_uint_eq(s.ttl, 30);
	ck_assert_uint_eq(s.scope, HYP_TICKET_SCOPE_BACKEND);
	ck_assert_int_eq(s.bind_address, 0);
	ck_assert_int_eq(s.encoding, RH_ENC_RAW);
	ck_assert_uint_eq(s.valid_now, 1);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
}
END_TEST

START_TEST(conf_values)
{
	struct rh_settings	 s;
	char			 err[256];
	void			*c;

	ck_assert_int_eq(load_conf(
	    "keys:\n"
	    "  - id: old.key_1\n"
	    "    secret: env:HYP_TEST_KEY\n"
	    "    valid_to: 2027-01-01T00:00:00Z\n"
	    "  - id: k2\n"
	    "    secret: file:/etc/hyprox/k2.key\n"
	    "    valid_from: 2026-11-22T12:30:15Z\n"
	    "ttl: 2m\n"
	    "scope: pool\n"
	    "bind_address: true\n"
	    "encoding: base64\n", &c), 0);
	ck_assert_int_eq(rh_settings_make(c, 1700000000, &s, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(s.nkeys, 2);
	ck_assert_uint_eq(s.keys[0].valid_to, 1798761600);
	ck_assert_uint_eq(s.keys[1].valid_from, 1795350615);
	ck_assert_uint_eq(s.ttl, 120);
	ck_assert_uint_eq(s.scope, HYP_TICKET_SCOPE_POOL);
	ck_assert_int_eq(s.bind_address, 1);
	ck_assert_int_eq(s.encoding, RH_ENC_BASE64);
	/* At 1700000000 only old.key_1 is valid; k2 lies in the future. */
	ck_assert_uint_eq(s.valid_now, 1);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
}
END_TEST

START_TEST(conf_time_parse)
{
	uint64_t	t;

	ck_assert_int_eq(rh_time_parse("1970-01-01T00:00:01Z", &t), 0);
	ck_assert_uint_eq(t, 1);
	ck_assert_int_eq(rh_time_parse("2024-02-29T23:59:59Z", &t), 0);
	ck_assert_uint_eq(t, 1709251199);
	ck_assert_int_ne(rh_time_parse("2023-02-29T00:00:00Z", &t), 0);
	ck_assert_int_ne(rh_time_parse("2026-11-22T00:00:00", &t), 0);
	ck_assert_int_ne(rh_time_parse("2026-11-22T00:00:00+01:00", &t), 0);
	ck_assert_int_ne(rh_time_parse("2026-11-22 00:00:00Z", &t), 0);
	ck_assert_int_ne(rh_time_parse("2026-13-01T00:00:00Z", &t), 0);
	ck_assert_int_ne(rh_time_parse("2026-11-22T24:00:00Z", &t), 0);
	ck_assert_int_ne(rh_time_parse("1969-12-31T23:59:59Z", &t), 0);
	ck_assert_int_ne(rh_time_parse("", &t), 0);
}
END_TEST

START_TEST(conf_bad)
{
	static const struct {
		const char	*yaml;
		const char	*msg;
	} bad[] = {
	    { "keys: []\n", NULL },
	    { "keys:\n  - id: k1\n    secret: file:a\n"
	      "  - id: k1\n    secret: file:b\n", "keys[1].id: 'k1' is already" },
	    { "keys:\n  - id: 'a b'\n    secret: file:a\n", "keys[0].id:" },
	    { "keys:\n  - id: k1\n    secret: file:a\n"
	      "    valid_from: 2026-11-22T00:00:00Z\n"
	      "    valid_to: 2026-11-22T00:00:00Z\n", "keys[0].valid_to:" },
	    { "keys:\n  - id: k1\n    secret: file:a\n"
	      "    valid_from: tomorrow\n", "keys[0].valid_from: 'tomorrow'" },
	    { "keys:\n  - id: k1\n    secret: file:a\n"
	      "    valid_to: 2001-01-01T00:00:00Z\n", "keys: every key" },
	    { "keys:\n  - id: k1\n    secret: file:a\nttl: 0s\n", "ttl:" },
	    { "keys:\n  - id: k1\n    secret: file:a\nttl: 2h\n", "ttl:" },
	    { "keys:\n  - id: k1\n    secret: file:a\nttl: 500ms\n", "ttl:" },
	    { "keys:\n  - id: k1\n    secret: file:a\nscope: world\n",
	      "scope: unknown value 'world'" },
	    { "keys:\n  - id: k1\n    secret: file:a\nencoding: hex\n",
	      "encoding: unknown value 'hex'" },
	};
	char	err[256];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void	*c = NULL;
		int	 rc = load_conf(bad[i].yaml, &c);

		if (bad[i].msg == NULL) {
			/* Refused by the schema (fewer than one key). */
			ck_assert_msg(rc != 0, "case %zu loaded", i);
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu: schema refused", i);
		rc = hyp_plugin.conf_check(c, err, sizeof(err));
		ck_assert_msg(rc < 0, "case %zu accepted", i);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
		hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	}
}
END_TEST

START_TEST(conf_unknown_keys)
{
	void	*c = NULL;

	ck_assert_int_ne(load_conf("keys:\n  - id: k1\n    secret: file:a\n"
	    "colour: blue\n", &c), 0);
	ck_assert_int_ne(load_conf("keys:\n  - id: k1\n    secret: file:a\n"
	    "    algorithm: sha1\n", &c), 0);
	ck_assert_int_ne(load_conf("ttl: 30s\n", &c), 0);
	ck_assert_int_ne(load_conf("keys:\n  - id: k1\n", &c), 0);
}
END_TEST

START_TEST(conf_inline_secret)
{
	char		 err[256];
	const char	*log;
	void		*c;

	ck_assert_int_eq(check_text("keys:\n  - id: k1\n    secret: "
	    "hunter2hunter2hunter2hunter2hunter2\n", err, sizeof(err)),
	    HYP_ESECRET);
	ck_assert_ptr_nonnull(strstr(err, "keys[0].secret: must be a secret "
	    "reference"));
	ck_assert_ptr_null(strstr(err, "hunter2"));
	/* load() refuses it too, without repeating it. */
	ck_assert_int_eq(load_conf("keys:\n  - id: k1\n    secret: "
	    "hunter2hunter2hunter2hunter2hunter2\n", &c), 0);
	capture_start();
	ck_assert_int_eq(hyp_plugin.load(plug, c), HYP_ESECRET);
	log = capture_end();
	ck_assert_ptr_null(strstr(log, "hunter2"));
	ck_assert_ptr_null(hyp_plugin_ctx(plug));
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
}
END_TEST

START_TEST(conf_warns_no_key_now)
{
	char		 err[256];
	const char	*log;

	capture_start();
	ck_assert_int_eq(check_text("keys:\n  - id: k1\n    secret: file:a\n"
	    "    valid_from: 2099-01-01T00:00:00Z\n", err, sizeof(err)), 0);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "no key is valid now"));
	capture_start();
	ck_assert_int_eq(check_text(yaml_k1, err, sizeof(err)), 0);
	log = capture_end();
	ck_assert_ptr_null(strstr(log, "no key is valid now"));
}
END_TEST

/* ---- issuing ---- */

START_TEST(issue_backend_scope)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	const uint8_t		*d;
	size_t			 dl;
	int			 n;
	uint64_t		 now = (uint64_t)time(NULL);

	start_with(yaml_k1);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, HYP_TICKET_MAX);
	ck_assert_int_eq(memcmp(out, HYP_TICKET_MAGIC, 4), 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, POOL_ID, NULL,
	    &t), 0);
	ck_assert_str_eq(t.kid, "k1");
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_BACKEND);
	ck_assert_str_eq(t.scope_id, BACKEND_ID);
	ck_assert_str_eq(t.target, BACKEND_ID);
	ck_assert_uint_eq(t.ttl, 30);
	ck_assert_uint_ge(t.issued_at, now);
	ck_assert_uint_le(t.issued_at, now + 2);
	ck_assert_int_eq(memcmp(t.uuid, uuid1, 16), 0);
	ck_assert_int_eq(t.has_addr, 0);
	/* The session id rides along as the trace id. */
	ck_assert_int_eq(hyp_ticket_ext_find(t.ext, t.ext_len,
	    HYP_TICKET_EXT_TRACE_ID, &d, &dl), 0);
	ck_assert_uint_eq(dl, strlen(hyp_session_id_str(sess)));
	ck_assert_int_eq(memcmp(d, hyp_session_id_str(sess), dl), 0);
	/* Another backend of the same pool is refused. */
	ck_assert_int_eq(verify_as(out, (size_t)n, "lobby-2", POOL_ID, NULL,
	    NULL), HYP_ETICKET_SCOPE);
	/* A flipped byte breaks the signature. */
	out[n / 2] ^= 1;
	ck_assert_int_lt(verify_as(out, (size_t)n, BACKEND_ID, POOL_ID, NULL,
	    NULL), 0);
	/* The reason names the key, nothing more. */
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(sess), "ticket=k1"));
	ck_assert(metrics_have(
	    "hyprox_referral_tickets_issued_total{key=\"k1\"} 1\n"));
	ck_assert(metrics_have("hyprox_referral_signing_key_valid 1\n"));
}
END_TEST

START_TEST(issue_nonces_differ)
{
	uint8_t			a[HYP_REFERRAL_DATA_MAX], b[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	ta, tb;
	int			na, nb;

	start_with(yaml_k1);
	na = svc->issue(svc_ctx, sess, be, a, sizeof(a));
	nb = svc->issue(svc_ctx, sess, be, b, sizeof(b));
	ck_assert_int_gt(na, 0);
	ck_assert_int_eq(na, nb);
	ck_assert_int_eq(hyp_ticket_parse(a, (size_t)na, &ta), 0);
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)nb, &tb), 0);
	ck_assert_int_ne(memcmp(ta.nonce, tb.nonce, sizeof(ta.nonce)), 0);
	ck_assert(metrics_have(
	    "hyprox_referral_tickets_issued_total{key=\"k1\"} 2\n"));
}
END_TEST

START_TEST(issue_pool_scope)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	hyp_backend_t		*lone;
	int			 n;

	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "scope: pool\nttl: 1m\n");
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	/* Any backend of the pool accepts it. */
	ck_assert_int_eq(verify_as(out, (size_t)n, "lobby-2", POOL_ID, NULL,
	    &t), 0);
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_POOL);
	ck_assert_str_eq(t.scope_id, POOL_ID);
	ck_assert_str_eq(t.target, BACKEND_ID);
	ck_assert_uint_eq(t.ttl, 60);
	ck_assert_int_eq(verify_as(out, (size_t)n, "game-1", "game", NULL,
	    NULL), HYP_ETICKET_SCOPE);

	/* A backend without a pool gets a backend-scoped ticket. */
	lone = hyp_backend_new("solo", "127.0.0.1", 5530);
	ck_assert_ptr_nonnull(lone);
	n = svc->issue(svc_ctx, sess, lone, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, "solo", NULL, NULL, &t), 0);
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_BACKEND);
	ck_assert_str_eq(t.scope_id, "solo");
	hyp_backend_unref(lone);
}
END_TEST

START_TEST(issue_global_scope)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	int			n;

	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "scope: global\n");
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, "game-9", NULL, NULL, &t),
	    0);
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_GLOBAL);
	ck_assert_str_eq(t.scope_id, "");
	ck_assert_str_eq(t.target, BACKEND_ID);
}
END_TEST

START_TEST(issue_bind_address)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	struct sockaddr_in	 same, other;
	struct sockaddr_in6	 mapped;
	hyp_session_t		*s6;
	int			 n;

	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "bind_address: true\n");
	memset(&same, 0, sizeof(same));
	same.sin_family = AF_INET;
	same.sin_port = htons(1);	/* the port is not bound */
	inet_pton(AF_INET, PEER4, &same.sin_addr);
	other = same;
	inet_pton(AF_INET, "198.51.100.1", &other.sin_addr);

	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL,
	    (struct sockaddr *)&same, &t), 0);
	ck_assert_int_eq(t.has_addr, 1);
	ck_assert_uint_eq(t.addr_family, 4);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL,
	    (struct sockaddr *)&other, NULL), HYP_ETICKET_ADDRESS);

	/* A v4-mapped peer (dual-stack listener) is bound as IPv4. */
	memset(&mapped, 0, sizeof(mapped));
	mapped.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:" PEER4, &mapped.sin6_addr);
	s6 = hyp_session_new(plug, (struct sockaddr *)&mapped, sizeof(mapped));
	ck_assert_ptr_nonnull(s6);
	n = svc->issue(svc_ctx, s6, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(hyp_ticket_parse(out, (size_t)n, &t), 0);
	ck_assert_int_eq(t.has_addr, 1);
	ck_assert_uint_eq(t.addr_family, 4);
	/* No Connect stored: the uuid is all zero. */
	ck_assert_int_eq(memcmp(t.uuid, (uint8_t[16]){ 0 }, 16), 0);
	hyp_session_end(s6, "test");
}
END_TEST

START_TEST(issue_no_bind_by_default)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	struct sockaddr_in	other;
	int			n;

	start_with(yaml_k1);
	memset(&other, 0, sizeof(other));
	other.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.1", &other.sin_addr);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL,
	    (struct sockaddr *)&other, &t), 0);
	ck_assert_int_eq(t.has_addr, 0);
}
END_TEST

START_TEST(issue_base64)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	uint8_t			bin[HYP_TICKET_MAX];
	struct hyp_ticket	t;
	size_t			blen;
	int			n, i;

	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "encoding: base64\n");
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n % 4, 0);
	for (i = 0; i < n; i++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789+/=", out[i]) != NULL);
	ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), (char *)out,
	    (size_t)n, NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_int_eq(verify_as(bin, blen, BACKEND_ID, NULL, NULL, &t), 0);
	ck_assert_str_eq(t.kid, "k1");
	/* Too small a buffer for the text: a failure, nothing written past. */
	ck_assert_int_lt(svc->issue(svc_ctx, sess, be, out, 64), 0);
}
END_TEST

START_TEST(issue_small_buffer)
{
	uint8_t	out[HYP_REFERRAL_DATA_MAX];

	start_with(yaml_k1);
	memset(out, 0x5a, sizeof(out));
	ck_assert_int_lt(svc->issue(svc_ctx, sess, be, out, 32), 0);
	ck_assert_uint_eq(out[32], 0x5a);
	ck_assert(metrics_have("hyprox_referral_ticket_failures_total"
	    "{reason=\"too_big\"} 1\n"));
}
END_TEST

START_TEST(issue_env_secret)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	const char		*text = "0123456789abcdef0123456789abcdef-env";
	hyp_keyring_t		*kr;
	struct hyp_ticket_verify_opts o;
	int			n;

	setenv("HYP_TEST_TICKET_KEY", text, 1);
	start_with("keys:\n  - id: envkey\n    secret: env:HYP_TEST_TICKET_KEY\n");
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	kr = hyp_keyring_new();
	ck_assert_int_eq(hyp_keyring_add(kr, "envkey", (const uint8_t *)text,
	    strlen(text), 0, 0), 0);
	memset(&o, 0, sizeof(o));
	o.backend_id = BACKEND_ID;
	ck_assert_int_eq(hyp_ticket_verify(out, (size_t)n, kr, NULL, &o, &t),
	    0);
	ck_assert_str_eq(t.kid, "envkey");
	hyp_keyring_free(kr);
}
END_TEST

/* ---- the referral hook ---- */

/* Add a private TLV "hello". */
static enum hyp_hook_rc
hook_add_private(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct hyp_referral_ext	*e = arg;

	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(e->backend);
	ck_assert_str_eq(hyp_backend_id(e->backend), BACKEND_ID);
	ck_assert_uint_eq(e->len, 0);
	ck_assert_uint_ge(e->cap, 256);
	ck_assert_int_eq(hyp_ticket_ext_add(e->buf, e->cap, &e->len,
	    HYP_TICKET_EXT_PRIVATE, "hello", 5), 0);
	return (HYP_CONTINUE);
}

/* Add a trace id of its own (a tracer). */
static enum hyp_hook_rc
hook_add_trace(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct hyp_referral_ext	*e = arg;

	ck_assert_int_eq(hyp_ticket_ext_add(e->buf, e->cap, &e->len,
	    HYP_TICKET_EXT_TRACE_ID, "trace-xyz", 9), 0);
	return (HYP_CONTINUE);
}

/* Leave a TLV whose length runs past the block. */
static enum hyp_hook_rc
hook_malformed(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct hyp_referral_ext	*e = arg;

	e->buf[0] = 0x81;
	e->buf[1] = 200;
	e->len = 3;
	return (HYP_CONTINUE);
}

/* Refuse the referral. */
static enum hyp_hook_rc
hook_deny(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	return (HYP_DENY);
}

/* Count the TLVs of type in an extension block. */
static int
count_tlv(const uint8_t *ext, size_t len, uint8_t type)
{
	size_t	off;
	int	n = 0;

	for (off = 0; off + 2 <= len; off += 2 + (size_t)ext[off + 1])
		if (ext[off] == type)
			n++;
	return (n);
}

START_TEST(hook_extension)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	const uint8_t		*d;
	size_t			 dl;
	int			 n;

	start_with(yaml_k1);
	ck_assert_int_eq(hyp_hook_register(plug, HYP_HOOK_REFERRAL, 0,
	    hook_add_private, NULL), 0);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL, NULL, &t),
	    0);
	ck_assert_int_eq(hyp_ticket_ext_find(t.ext, t.ext_len,
	    HYP_TICKET_EXT_PRIVATE, &d, &dl), 0);
	ck_assert_uint_eq(dl, 5);
	ck_assert_int_eq(memcmp(d, "hello", 5), 0);
	ck_assert_int_eq(hyp_ticket_ext_find(t.ext, t.ext_len,
	    HYP_TICKET_EXT_TRACE_ID, &d, &dl), 0);
	ck_assert_int_eq(memcmp(d, hyp_session_id_str(sess), dl), 0);
}
END_TEST

START_TEST(hook_trace_kept)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	const uint8_t		*d;
	size_t			 dl;
	int			 n;

	start_with(yaml_k1);
	ck_assert_int_eq(hyp_hook_register(plug, HYP_HOOK_REFERRAL, 0,
	    hook_add_trace, NULL), 0);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL, NULL, &t),
	    0);
	ck_assert_int_eq(count_tlv(t.ext, t.ext_len, HYP_TICKET_EXT_TRACE_ID),
	    1);
	ck_assert_int_eq(hyp_ticket_ext_find(t.ext, t.ext_len,
	    HYP_TICKET_EXT_TRACE_ID, &d, &dl), 0);
	ck_assert_uint_eq(dl, 9);
	ck_assert_int_eq(memcmp(d, "trace-xyz", 9), 0);
}
END_TEST

START_TEST(hook_malformed_dropped)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	const char		*log;
	int			 n;

	start_with(yaml_k1);
	ck_assert_int_eq(hyp_hook_register(plug, HYP_HOOK_REFERRAL, 0,
	    hook_malformed, NULL), 0);
	capture_start();
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	log = capture_end();
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(log, "malformed"));
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL, NULL, &t),
	    0);
	ck_assert_int_eq(count_tlv(t.ext, t.ext_len, 0x81), 0);
	ck_assert_int_eq(count_tlv(t.ext, t.ext_len, HYP_TICKET_EXT_TRACE_ID),
	    1);
}
END_TEST

START_TEST(hook_denies)
{
	uint8_t	out[HYP_REFERRAL_DATA_MAX];

	start_with(yaml_k1);
	ck_assert_int_eq(hyp_hook_register(plug, HYP_HOOK_REFERRAL, 0,
	    hook_deny, NULL), 0);
	capture_start();
	ck_assert_int_lt(svc->issue(svc_ctx, sess, be, out, sizeof(out)), 0);
	(void)capture_end();
	ck_assert(metrics_have("hyprox_referral_ticket_failures_total"
	    "{reason=\"denied\"} 1\n"));
	ck_assert_ptr_null(strstr(hyp_session_reason(sess), "ticket="));
}
END_TEST

/* ---- keys ---- */

START_TEST(rotation_newer_signs)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	int			n;

	/* Overlap: both valid now; k2 started later, so k2 signs. */
	start_with("keys:\n"
	    "  - id: k1\n    secret: file:k1.key\n"
	    "    valid_from: 2020-01-01T00:00:00Z\n"
	    "  - id: k2\n    secret: file:k2.key\n"
	    "    valid_from: 2021-01-01T00:00:00Z\n"
	    "    valid_to: 2099-01-01T00:00:00Z\n"
	    "  - id: k3\n    secret: file:k2.key\n"
	    "    valid_from: 2098-01-01T00:00:00Z\n");
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL, NULL, &t),
	    0);
	ck_assert_str_eq(t.kid, "k2");
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(sess), "ticket=k2"));
	ck_assert(metrics_have(
	    "hyprox_referral_tickets_issued_total{key=\"k2\"} 1\n"));
}
END_TEST

START_TEST(no_valid_key)
{
	uint8_t		 out[HYP_REFERRAL_DATA_MAX];
	const char	*log;
	int		 i;

	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "    valid_from: 2099-01-01T00:00:00Z\n");
	ck_assert(metrics_have("hyprox_referral_signing_key_valid 0\n"));
	capture_start();
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(svc->issue(svc_ctx, sess, be, out,
		    sizeof(out)), HYP_ENOENT);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "no key is valid now"));
	/* One line for the burst, not one per player. */
	ck_assert_ptr_null(strstr(strstr(log, "no key is valid now") + 1,
	    "no key is valid now"));
	ck_assert(metrics_have("hyprox_referral_ticket_failures_total"
	    "{reason=\"no_signing_key\"} 3\n"));
}
END_TEST

START_TEST(short_secret_refused)
{
	const char	*log;

	write_file("short.key", key1, 31, 0600);
	ck_assert_int_eq(load_conf("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "  - id: tiny\n    secret: file:short.key\n", &conf), 0);
	ck_assert_int_eq(hyp_plugin.conf_check(conf, (char[256]){ 0 }, 256),
	    0);
	capture_start();
	ck_assert_int_eq(hyp_plugin.load(plug, conf), HYP_ETICKET_KEY_SHORT);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "key 'tiny' has 31 bytes, at least "
	    "32"));
	ck_assert_ptr_null(hyp_plugin_ctx(plug));
}
END_TEST

START_TEST(missing_secret_refused)
{
	const char	*log;

	unsetenv("HYP_TEST_UNSET_KEY");
	ck_assert_int_eq(load_conf("keys:\n  - id: gone\n"
	    "    secret: env:HYP_TEST_UNSET_KEY\n", &conf), 0);
	capture_start();
	ck_assert_int_lt(hyp_plugin.load(plug, conf), 0);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "key 'gone'"));
	ck_assert_int_eq(load_conf("keys:\n  - id: gone\n"
	    "    secret: file:nope.key\n", &conf2), 0);
	capture_start();
	ck_assert_int_lt(hyp_plugin.load(plug, conf2), 0);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "key 'gone'"));
}
END_TEST

START_TEST(open_secret_warned)
{
	const char	*log;
	uint8_t		 out[HYP_REFERRAL_DATA_MAX];
	const char	*text = "text-secret-0123456789-0123456789-xyz";
	int		 n;

	write_file("open.key", text, strlen(text), 0644);
	ck_assert_int_eq(load_conf("keys:\n  - id: k1\n"
	    "    secret: file:open.key\n", &conf), 0);
	capture_start();
	ck_assert_int_eq(hyp_plugin.load(plug, conf), 0);
	ck_assert_int_eq(hyp_plugin.start(plug), 0);
	svc = hyp_service_get(HYP_REFERRAL_SERVICE, 1, &svc_ctx, NULL);
	ck_assert_ptr_nonnull(svc);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	log = capture_end();
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(log, "key 'k1': the secret file is "
	    "readable by group or others"));
	/* Secrets never reach the log. */
	ck_assert_ptr_null(strstr(log, "text-secret"));
}
END_TEST

/* ---- reload ---- */

START_TEST(reload_swaps_keys)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	int			n;

	start_with(yaml_k1);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(hyp_ticket_parse(out, (size_t)n, &t), 0);
	ck_assert_str_eq(t.kid, "k1");

	/* The operator adds k2 (file and entry) and sends SIGHUP. */
	ck_assert_int_eq(load_conf("keys:\n"
	    "  - id: k1\n    secret: file:k1.key\n"
	    "  - id: k2\n    secret: file:k2.key\n"
	    "    valid_from: 2021-01-01T00:00:00Z\n"
	    "scope: global\n", &conf2), 0);
	ck_assert_int_eq(hyp_plugin.reload(plug, conf2, HYP_RELOAD_PREPARE),
	    0);
	/* Prepared, not yet committed: k1 still signs. */
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_eq(hyp_ticket_parse(out, (size_t)n, &t), 0);
	ck_assert_str_eq(t.kid, "k1");
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_BACKEND);
	ck_assert_int_eq(hyp_plugin.reload(plug, conf2, HYP_RELOAD_COMMIT), 0);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(verify_as(out, (size_t)n, BACKEND_ID, NULL, NULL, &t),
	    0);
	ck_assert_str_eq(t.kid, "k2");
	ck_assert_uint_eq(t.scope, HYP_TICKET_SCOPE_GLOBAL);
	/* The host frees the old configuration after a commit. */
	hypd_plugin_conf_free(hyp_plugin.conf_schema, conf);
	conf = NULL;
}
END_TEST

START_TEST(reload_abort_keeps_keys)
{
	uint8_t			out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	t;
	int			n;

	start_with(yaml_k1);
	ck_assert_int_eq(load_conf("keys:\n"
	    "  - id: k2\n    secret: file:k2.key\n", &conf2), 0);
	ck_assert_int_eq(hyp_plugin.reload(plug, conf2, HYP_RELOAD_PREPARE),
	    0);
	ck_assert_int_eq(hyp_plugin.reload(plug, conf2, HYP_RELOAD_ABORT), 0);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(hyp_ticket_parse(out, (size_t)n, &t), 0);
	ck_assert_str_eq(t.kid, "k1");
}
END_TEST

START_TEST(reload_refused_bad_key)
{
	uint8_t			 out[HYP_REFERRAL_DATA_MAX];
	struct hyp_ticket	 t;
	const char		*log;
	int			 n;

	start_with(yaml_k1);
	write_file("short.key", key2, 16, 0600);
	ck_assert_int_eq(load_conf("keys:\n"
	    "  - id: k1\n    secret: file:k1.key\n"
	    "  - id: k9\n    secret: file:short.key\n"
	    "    valid_from: 2021-01-01T00:00:00Z\n", &conf2), 0);
	capture_start();
	ck_assert_int_lt(hyp_plugin.reload(plug, conf2, HYP_RELOAD_PREPARE), 0);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "key 'k9' has 16 bytes"));
	ck_assert_ptr_nonnull(strstr(log, "reload refused"));
	ck_assert_int_eq(hyp_plugin.reload(plug, conf2, HYP_RELOAD_ABORT), 0);
	n = svc->issue(svc_ctx, sess, be, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(hyp_ticket_parse(out, (size_t)n, &t), 0);
	ck_assert_str_eq(t.kid, "k1");
}
END_TEST

START_TEST(bad_ids_fail_cleanly)
{
	uint8_t		 out[HYP_REFERRAL_DATA_MAX];
	hyp_backend_t	*lng;
	char		 pool[80];

	/* Pools may be longer than a ticket's scope id (64 bytes). */
	start_with("keys:\n  - id: k1\n    secret: file:k1.key\n"
	    "scope: pool\n");
	memset(pool, 'p', sizeof(pool) - 1);
	pool[sizeof(pool) - 1] = '\0';
	lng = hyp_backend_new("long-pool-1", "127.0.0.1", 5521);
	ck_assert_ptr_nonnull(lng);
	ck_assert_int_eq(hyp_backend_set_pool(lng, pool), 0);
	capture_start();
	ck_assert_int_eq(svc->issue(svc_ctx, sess, lng, out, sizeof(out)),
	    HYP_EINVAL);
	(void)capture_end();
	ck_assert(metrics_have("hyprox_referral_ticket_failures_total"
	    "{reason=\"bad_field\"} 1\n"));
	ck_assert_int_gt(svc->issue(svc_ctx, sess, be, out, sizeof(out)), 0);
	ck_assert_int_eq(svc->issue(NULL, sess, be, out, sizeof(out)),
	    HYP_EINVAL);
	ck_assert_int_eq(svc->issue(svc_ctx, sess, NULL, out, sizeof(out)),
	    HYP_EINVAL);
	hyp_backend_unref(lng);
}
END_TEST

/* Build the suite. */
static Suite *
referral_suite(void)
{
	Suite	*s = suite_create("referral-hmac");
	TCase	*tc;

	tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, conf_defaults);
	tcase_add_test(tc, conf_values);
	tcase_add_test(tc, conf_time_parse);
	tcase_add_test(tc, conf_bad);
	tcase_add_test(tc, conf_unknown_keys);
	tcase_add_test(tc, conf_inline_secret);
	tcase_add_test(tc, conf_warns_no_key_now);
	suite_add_tcase(s, tc);

	tc = tcase_create("issue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, issue_backend_scope);
	tcase_add_test(tc, issue_nonces_differ);
	tcase_add_test(tc, issue_pool_scope);
	tcase_add_test(tc, issue_global_scope);
	tcase_add_test(tc, issue_bind_address);
	tcase_add_test(tc, issue_no_bind_by_default);
	tcase_add_test(tc, issue_base64);
	tcase_add_test(tc, issue_small_buffer);
	tcase_add_test(tc, issue_env_secret);
	tcase_add_test(tc, bad_ids_fail_cleanly);
	suite_add_tcase(s, tc);

	tc = tcase_create("hook");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hook_extension);
	tcase_add_test(tc, hook_trace_kept);
	tcase_add_test(tc, hook_malformed_dropped);
	tcase_add_test(tc, hook_denies);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rotation_newer_signs);
	tcase_add_test(tc, no_valid_key);
	tcase_add_test(tc, short_secret_refused);
	tcase_add_test(tc, missing_secret_refused);
	tcase_add_test(tc, open_secret_warned);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reload_swaps_keys);
	tcase_add_test(tc, reload_abort_keeps_keys);
	tcase_add_test(tc, reload_refused_bad_key);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run every test in fork mode; nonzero exit when one failed. */
int
main(void)
{
	SRunner	*sr = srunner_create(referral_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
