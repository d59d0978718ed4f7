/*
 * check_registry.c: the registry-http plugin's pure logic with a fake
 * clock, a fake router and a fake activation prober: the canonical string
 * and signature, replay and skew, the strict JSON parser (every rejection
 * class), allowlists and address classes, the rate limit, the endpoints,
 * the expiry and drain state machine, activation, pagination, metrics,
 * audit events, and the state file round trip.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "registry.h"

#define K1	"0123456789abcdef0123456789abcdef"
#define K2	"fedcba9876543210fedcba9876543210"

/* ---- fake router ---- */

struct fr_backend {
	int		used;
	char		id[REG_ID_MAX + 1];
	char		pool[REG_ID_MAX + 1];
	char		host[64];
	uint16_t	port;
	uint32_t	max_players;
	size_t		ntags;
	int		drain;
	uint32_t	players;
};

static struct fr_backend	fr[64];
static int64_t			fake_now;
static int			n_probes, n_cancels, n_dirty, n_audit;
static char			last_audit[256];

/* Find a fake backend. */
static struct fr_backend *
fr_find(const char *id)
{
	size_t	i;

	for (i = 0; i < 64; i++) {
		if (fr[i].used && strcmp(fr[i].id, id) == 0)
			return (&fr[i]);
	}
	return (NULL);
}

/* upsert(): pool "ghost" is unknown, id "k8s-static" is configured. */
static int
fr_upsert(void *ctx, const struct hyp_router_backend *b)
{
	struct fr_backend	*f;
	size_t			 i;

	(void)ctx;
	if (strcmp(b->pool, "ghost") == 0)
		return (HYP_ENOENT);
	if (strcmp(b->id, "k8s-static") == 0)
		return (HYP_EEXIST);
	if ((f = fr_find(b->id)) == NULL) {
		for (i = 0; i < 64 && fr[i].used; i++)
			;
		ck_assert_uint_lt(i, 64);
		f = &fr[i];
		memset(f, 0, sizeof(*f));
		f->used = 1;
	}
	snprintf(f->id, sizeof(f->id), "%s", b->id);
	snprintf(f->pool, sizeof(f->pool), "%s", b->pool);
	snprintf(f->host, sizeof(f->host), "%s", b->host);
	f->port = b->port;
	f->max_players = b->max_players;
	f->ntags = b->ntags;
	return (0);
}

/* drain(). */
static int
fr_drain(void *ctx, const char *id, int drain)
{
	struct fr_backend	*f = fr_find(id);

	(void)ctx;
	if (f == NULL)
		return (HYP_ENOENT);
	f->drain = drain;
	return (0);
}

/* remove(). */
static int
fr_remove(void *ctx, const char *id)
{
	struct fr_backend	*f = fr_find(id);

	(void)ctx;
	if (f == NULL)
		return (HYP_ENOENT);
	f->used = 0;
	return (0);
}

/* report_players(). */
static int
fr_players(void *ctx, const char *id, uint32_t players)
{
	struct fr_backend	*f = fr_find(id);

	(void)ctx;
	if (f == NULL)
		return (HYP_ENOENT);
	f->players = players;
	return (0);
}

static const struct hyp_router_v1 fake_router = {
	.size = sizeof(struct hyp_router_v1),
	.upsert = fr_upsert,
	.drain = fr_drain,
	.remove = fr_remove,
	.report_players = fr_players,
};

/* The fake clock. */
static int64_t
fake_clock(struct registry *r)
{
	(void)r;
	return (fake_now);
}

/* The fake prober: counts; results are delivered by the test. */
static int
fake_probe(struct registry *r, struct reg_entry *e)
{
	(void)r;
	(void)e;
	n_probes++;
	return (0);
}

/* The fake cancel. */
static void
fake_cancel(struct registry *r, struct reg_entry *e)
{
	(void)r;
	n_cancels++;
	e->probing = 0;
}

/* Persistence trigger. */
static void
fake_dirty(struct registry *r)
{
	(void)r;
	n_dirty++;
}

/* Audit hook: remember the last event. */
static enum hyp_hook_rc
audit_hook(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	const struct hyp_audit_event	*ev = arg;

	(void)p;
	(void)s;
	(void)ud;
	n_audit++;
	snprintf(last_audit, sizeof(last_audit), "%s %s %s %d %s", ev->actor,
	    ev->action, ev->object, ev->ok, ev->detail != NULL ? ev->detail :
	    "");
	return (HYP_CONTINUE);
}

/* ---- configuration ---- */

static const char base_conf[] =
    "listen: \"127.0.0.1:9521\"\n"
    "orchestrators:\n"
    "  - id: op1\n"
    "    secret: env:REG_T_K1\n"
    "    cidrs: [10.0.0.0/8, \"::1/128\"]\n"
    "    pools: [lobby, ghost]\n"
    "    id_prefixes: [k8s-]\n"
    "    ports: [\"5520-5600\"]\n"
    "    allow_loopback: true\n"
    "    rate: {per_second: 1000, burst: 1000}\n"
    "  - id: op2\n"
    "    secret: env:REG_T_K2\n"
    "    cidrs: [192.168.0.0/16]\n"
    "    pools: [lobby]\n"
    "    rate: {per_second: 1, burst: 2}\n"
    "max_entries: 4\n"
    "default_ttl: 1s\n"
    "grace: 1s\n"
    "skew: 30s\n";

static const cyaml_config_t test_cfg = {
	.log_fn = NULL,
	.mem_fn = cyaml_mem,
	.log_level = CYAML_LOG_ERROR,
	.flags = CYAML_CFG_DEFAULT,
};

/* Build settings from YAML text; returns the code, err filled. */
static int
settings_from(const char *yaml, struct reg_settings **out, char *err,
    size_t errlen)
{
	struct reg_conf	*c = NULL;
	int		 rc;

	setenv("REG_T_K1", K1, 1);
	setenv("REG_T_K2", K2, 1);
	setenv("REG_T_SHORT", "short", 1);
	ck_assert_int_eq(cyaml_load_data((const uint8_t *)yaml, strlen(yaml),
	    &test_cfg, &reg_conf_schema, (cyaml_data_t **)&c, NULL), CYAML_OK);
	rc = reg_settings_build(c, "/tmp", 1, out, err, errlen);
	cyaml_free(&test_cfg, &reg_conf_schema, c, 0);
	return (rc);
}

/* A registry on the fake router and clock. */
static struct registry *
mk_registry(const char *yaml)
{
	struct registry	*r;
	char		 err[256];

	ck_assert_int_eq(sodium_init() >= 0, 1);
	ck_assert_ptr_nonnull(r = calloc(1, sizeof(*r)));
	reg_init(r, NULL);
	ck_assert_msg(settings_from(yaml, &r->set, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(reg_nonces_init(&r->nonces, r->set->nonce_cache), 0);
	r->now_ms = fake_clock;
	r->dirty = fake_dirty;
	r->rt = &fake_router;
	reg_metrics_init(r);
	memset(fr, 0, sizeof(fr));
	fake_now = 1700000000000LL;
	n_probes = n_cancels = n_dirty = n_audit = 0;
	return (r);
}

/* Free a test registry. */
static void
rm_registry(struct registry *r)
{
	reg_free(r);
	free(r);
}

/* ---- signed requests ---- */

struct call_opts {
	const char	*key;		/* default op1 */
	const char	*secret;	/* default K1 */
	const char	*src;		/* default 10.1.2.3 */
	int64_t		 ts;		/* 0: now */
	const char	*nonce;		/* NULL: fresh */
	const char	*sig;		/* NULL: computed */
	const char	*ctype;
};

static struct reg_response	resp;

/* Send one request; leaves the answer in resp and returns its status. */
static int
call(struct registry *r, const char *method, const char *uri,
    const char *body, const struct call_opts *co)
{
	static unsigned long		 seq;
	static const struct call_opts	 none;
	struct reg_request		 q;
	struct sockaddr_in		*s4;
	struct sockaddr_in6		*s6;
	char				 ts[32], nonce[64], canon[2048];
	char				 sig[REG_SIG_HEX + 1];
	const char			*src, *secret;

	if (co == NULL)
		co = &none;
	src = co->src != NULL ? co->src : "10.1.2.3";
	secret = co->secret != NULL ? co->secret : K1;
	snprintf(ts, sizeof(ts), "%lld", (long long)(co->ts != 0 ? co->ts :
	    fake_now / 1000));
	if (co->nonce != NULL)
		snprintf(nonce, sizeof(nonce), "%s", co->nonce);
	else
		snprintf(nonce, sizeof(nonce), "test-nonce-%08lu", ++seq);
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.uri = uri;
	q.key = co->key != NULL ? co->key : "op1";
	q.timestamp = ts;
	q.nonce = nonce;
	q.body = (const uint8_t *)body;
	q.bodylen = body != NULL ? strlen(body) : 0;
	q.content_type = co->ctype;
	ck_assert_int_gt(reg_canonical(method, uri, ts, nonce, q.body,
	    q.bodylen, canon, sizeof(canon)), 0);
	reg_sign((const uint8_t *)secret, strlen(secret), canon, sig);
	q.signature = co->sig != NULL ? co->sig : sig;
	if (strchr(src, ':') != NULL) {
		s6 = (struct sockaddr_in6 *)&q.src;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, src, &s6->sin6_addr), 1);
	} else {
		s4 = (struct sockaddr_in *)&q.src;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, src, &s4->sin_addr), 1);
	}
	free(resp.body);
	reg_handle(r, &q, &resp);
	ck_assert_ptr_nonnull(resp.body);
	return (resp.status);
}

/* Expect status and error code of the last answer. */
#define EXPECT_ERR(st, code) do {					\
	char	want_[64];						\
	snprintf(want_, sizeof(want_), "\"error\":\"%s\"", (code));	\
	ck_assert_int_eq(resp.status, (st));				\
	ck_assert_msg(strstr(resp.body, want_) != NULL &&		\
	    strstr(resp.body, "\"message\":") != NULL,			\
	    "body %s lacks %s", resp.body, want_);			\
} while (0)

#define REG_BODY(id, pool, host, port)					\
	"{\"id\":\"" id "\",\"pool\":\"" pool "\",\"host\":\"" host	\
	"\",\"port\":" #port "}"

/* ---- signing ---- */

START_TEST(t_canonical_vector)
{
	char	canon[512], sig[REG_SIG_HEX + 1];
	int	n;

	n = reg_canonical("POST", "/v1/backends", "1700000000",
	    "abcdefghijklmnop", (const uint8_t *)"{\"id\":\"a\"}", 10, canon,
	    sizeof(canon));
	ck_assert_int_eq(n, (int)strlen(canon));
	ck_assert_str_eq(canon, "HYPROX-HMAC-SHA256\nPOST\n/v1/backends\n"
	    "1700000000\nabcdefghijklmnop\n"
	    "8489a5deb454a360345c7868bca8672de92b446caf3d3b014af6a56e3d549d30");
	/* Same value as: openssl dgst -sha256 -hmac KEY -hex canon.txt */
	reg_sign((const uint8_t *)K1, 32, canon, sig);
	ck_assert_str_eq(sig, "b34b8aaf384242e1b83e4ba087642ea0480d82d157a27bfc"
	    "ba1ae6d939345250");
	/* An empty body hashes the empty string. */
	reg_canonical("GET", "/v1/backends?pool=lobby", "1", "abcdefghijklmnop",
	    NULL, 0, canon, sizeof(canon));
	ck_assert_ptr_nonnull(strstr(canon, "\n/v1/backends?pool=lobby\n"));
	ck_assert_ptr_nonnull(strstr(canon, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"));
	ck_assert_int_eq(reg_canonical("GET", "/x", "1", "n", NULL, 0, canon,
	    20), HYP_ENOSPC);
}
END_TEST

START_TEST(t_sig_compare)
{
	const char	*good = "b34b8aaf384242e1b83e4ba087642ea0480d82d157a27bfc"
			    "ba1ae6d939345250";

	ck_assert(reg_sig_equal(good, good));
	ck_assert(reg_sig_equal("B34B8AAF384242E1B83E4BA087642EA0480D82D157A27"
	    "BFCBA1AE6D939345250", good));
	ck_assert(!reg_sig_equal("b34b8aaf384242e1b83e4ba087642ea0480d82d157a27"
	    "bfcba1ae6d939345251", good));
	ck_assert(!reg_sig_equal("b34b", good));
	ck_assert(!reg_sig_equal(NULL, good));
	ck_assert(!reg_sig_equal("g34b8aaf384242e1b83e4ba087642ea0480d82d157a27"
	    "bfcba1ae6d939345250", good));
	ck_assert(reg_nonce_valid("abcdefghijklmnop"));
	ck_assert(reg_nonce_valid("A-b_0123456789xyzABC"));
	ck_assert(!reg_nonce_valid("short"));
	ck_assert(!reg_nonce_valid("abcdefghijklmnop!"));
	ck_assert(!reg_nonce_valid(NULL));
}
END_TEST

START_TEST(t_timestamps)
{
	int64_t	v;

	ck_assert_int_eq(reg_ts_parse("1700000000", &v), 0);
	ck_assert_int_eq(v, 1700000000);
	ck_assert_int_eq(reg_ts_parse("-1", &v), HYP_EINVAL);
	ck_assert_int_eq(reg_ts_parse("", &v), HYP_EINVAL);
	ck_assert_int_eq(reg_ts_parse("17e8", &v), HYP_EINVAL);
	ck_assert_int_eq(reg_ts_parse("1234567890123", &v), HYP_EINVAL);
	ck_assert_int_eq(reg_ts_parse(NULL, &v), HYP_EINVAL);
}
END_TEST

START_TEST(t_nonce_cache)
{
	struct reg_nonces	c;
	char			n[32];
	int			i;

	ck_assert_int_eq(sodium_init() >= 0, 1);
	ck_assert_int_eq(reg_nonces_init(&c, 64), 0);
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "nonce-aaaaaaaaaaaa",
	    2000, 1000), 0);
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "nonce-aaaaaaaaaaaa",
	    2000, 1500), HYP_EEXIST);
	/* Another key: not a replay. */
	ck_assert_int_eq(reg_nonce_check_add(&c, "k2", "nonce-aaaaaaaaaaaa",
	    10000, 1500), 0);
	/* Forgotten once past its window. */
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "nonce-aaaaaaaaaaaa",
	    5000, 2001), 0);
	/* Full with live nonces: fail closed. */
	for (i = 0; i < 62; i++) {
		snprintf(n, sizeof(n), "fill-%011d", i);
		ck_assert_int_eq(reg_nonce_check_add(&c, "k", n, 10000, 2001), 0);
	}
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "one-too-many-xxxx",
	    10000, 2001), HYP_ENOSPC);
	/* Once they expire, room again, and old ones are still refused. */
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "after-expiry-xxxx",
	    20000, 10001), 0);
	ck_assert_int_eq(reg_nonce_check_add(&c, "k", "after-expiry-xxxx",
	    20000, 10002), HYP_EEXIST);
	reg_nonces_free(&c);
}
END_TEST

/* ---- parser ---- */

/* Decode body against the register schema; returns the class. */
static int
parse_reg(const char *body)
{
	void	*out = NULL;
	char	 msg[REG_ERRMSG_MAX];
	int	 rc;

	rc = reg_json_decode((const uint8_t *)body, strlen(body),
	    &reg_register_schema, &out, msg, sizeof(msg));
	reg_json_free(&reg_register_schema, out);
	return (rc);
}

START_TEST(t_parser_ok)
{
	struct reg_body_register	*b = NULL;
	const char			*s = "{\"id\":\"k8s-a\",\"pool\":\"lobby\","
		"\"host\":\"10.0.0.5\",\"port\":5520,\"weight\":3,"
		"\"max_players\":50,\"tags\":[\"eu\",\"a\\/b\"],"
		"\"ttl_seconds\":30}";
	char				 msg[REG_ERRMSG_MAX];

	ck_assert_int_eq(reg_json_decode((const uint8_t *)s, strlen(s),
	    &reg_register_schema, (void **)&b, msg, sizeof(msg)), REG_P_OK);
	ck_assert_str_eq(b->id, "k8s-a");
	ck_assert_uint_eq(*b->port, 5520);
	ck_assert_uint_eq(*b->weight, 3);
	ck_assert_uint_eq(b->tags_count, 2);
	ck_assert_str_eq(b->tags[1], "a/b");
	ck_assert_uint_eq(*b->ttl_seconds, 30);
	reg_json_free(&reg_register_schema, b);
	ck_assert_int_eq(parse_reg(" \r\n{ \"id\" : \"a\" , \"pool\":\"p\","
	    "\"host\":\"h\",\"port\":1 }\n"), REG_P_OK);
}
END_TEST

START_TEST(t_parser_rejects)
{
	static const struct {
		const char	*body;
		int		 want;
	} v[] = {
		{ "", REG_P_MALFORMED },
		{ "[1]", REG_P_MALFORMED },
		{ "\"s\"", REG_P_MALFORMED },
		{ "{\"id\":\"a\",}", REG_P_MALFORMED },
		{ "{'id':'a'}", REG_P_MALFORMED },
		{ "{id: a}", REG_P_MALFORMED },
		{ "{\"id\":\"a\"} # comment", REG_P_MALFORMED },
		{ "{\"id\":&x \"a\"}", REG_P_MALFORMED },
		{ "{\"id\":*x}", REG_P_MALFORMED },
		{ "{\"id\":!!str 1}", REG_P_MALFORMED },
		{ "{\"id\":\"a\"}{}", REG_P_MALFORMED },
		{ "{\"id\":\"a\"}\n---\n{}", REG_P_MALFORMED },
		{ "{\"id\":\"a\\u0000b\"}", REG_P_MALFORMED },
		{ "{\"id\":\"a\\x41\"}", REG_P_MALFORMED },
		{ "{\"id\":\"a\tb\"}", REG_P_MALFORMED },
		{ "{\"id\":\"\xc0\xaf\"}", REG_P_MALFORMED },
		{ "{\"id\":\"\xed\xa0\x80\"}", REG_P_MALFORMED },
		{ "{\"port\":01}", REG_P_MALFORMED },
		{ "{\"port\":0x10}", REG_P_MALFORMED },
		{ "{\"port\":+1}", REG_P_MALFORMED },
		{ "{\"port\":1.}", REG_P_MALFORMED },
		{ "{\"port\":tru}", REG_P_MALFORMED },
		{ "{\"a\":[[[[1]]]]}", REG_P_TOO_DEEP },
		{ "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", REG_P_TOO_DEEP },
		{ "{\"tags\":[[\"a\"]]}", REG_P_BAD_TYPE },
		{ "{\"id\":1,\"pool\":\"p\",\"host\":\"h\",\"port\":1}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":\"1\"}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":1.5}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":true}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":null}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":{},\"port\":1}",
		    REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":1,"
		    "\"tags\":\"x\"}", REG_P_BAD_TYPE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":1,"
		    "\"Port\":1}", REG_P_UNKNOWN_FIELD },
		{ "{\"id\":\"a\",\"id\":\"b\",\"pool\":\"p\",\"host\":\"h\","
		    "\"port\":1}", REG_P_DUPLICATE_FIELD },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\"}",
		    REG_P_MISSING_FIELD },
		{ "{}", REG_P_MISSING_FIELD },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":-1}",
		    REG_P_BAD_VALUE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":"
		    "4294967296}", REG_P_BAD_VALUE },
		{ "{\"id\":\"\",\"pool\":\"p\",\"host\":\"h\",\"port\":1}",
		    REG_P_BAD_VALUE },
		{ "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":1,"
		    "\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
		    "\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\","
		    "\"17\"]}", REG_P_BAD_VALUE },
	};
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(parse_reg(v[i].body) == v[i].want, "case %zu (%s): "
		    "got %s, want %s", i, v[i].body,
		    reg_perr_code(parse_reg(v[i].body)),
		    reg_perr_code(v[i].want));
}
END_TEST

START_TEST(t_parser_depth_bomb)
{
	char	*s;
	size_t	 i, n = 10000;

	ck_assert_ptr_nonnull(s = malloc(2 * n + 8));
	s[0] = '{';
	memcpy(s + 1, "\"a\":", 4);
	for (i = 0; i < n; i++)
		s[5 + i] = '[';
	for (i = 0; i < n; i++)
		s[5 + n + i] = ']';
	s[5 + 2 * n] = '}';
	s[6 + 2 * n] = '\0';
	ck_assert_int_eq(parse_reg(s), REG_P_TOO_DEEP);
	free(s);
}
END_TEST

START_TEST(t_parser_messages)
{
	char	msg[REG_ERRMSG_MAX];
	void	*out = NULL;
	const char *s = "{\"id\":\"a\",\"pool\":\"p\",\"host\":\"h\",\"port\":1,"
	    "\"tags\":[\"ok\",7]}";

	ck_assert_int_eq(reg_json_decode((const uint8_t *)s, strlen(s),
	    &reg_register_schema, &out, msg, sizeof(msg)), REG_P_BAD_TYPE);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(msg, "tags[1]: expected a string, got a number");
	s = "{\"players\":1,\"sneaky\\\"key\":1}";
	ck_assert_int_eq(reg_json_decode((const uint8_t *)s, strlen(s),
	    &reg_heartbeat_schema, &out, msg, sizeof(msg)), REG_P_UNKNOWN_FIELD);
	ck_assert_str_eq(msg, "sneaky?key: unknown field");
	ck_assert_int_eq(reg_json_decode((const uint8_t *)"{}", 2,
	    &reg_empty_schema, NULL, msg, sizeof(msg)), REG_P_OK);
	ck_assert_int_eq(reg_json_decode((const uint8_t *)"{\"a\":1}", 7,
	    &reg_empty_schema, NULL, msg, sizeof(msg)), REG_P_UNKNOWN_FIELD);
}
END_TEST

/* ---- configuration and allowlists ---- */

START_TEST(t_conf)
{
	struct reg_settings	*s;
	char			 err[256], *y;

	ck_assert_int_eq(settings_from(base_conf, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->norch, 2);
	ck_assert_uint_eq(s->listen_port, 9521);
	ck_assert_uint_eq(s->orch[0].secretlen, 32);
	ck_assert_uint_eq(s->orch[0].ports[0].lo, 5520);
	ck_assert_uint_eq(s->orch[0].ports[0].hi, 5600);
	ck_assert_uint_eq(s->orch[1].nports, 1);	/* default 1024-65535 */
	ck_assert_uint_eq(s->orch[1].ports[0].lo, 1024);
	ck_assert_uint_eq(s->max_body, REG_DEF_MAX_BODY);
	ck_assert_uint_eq(s->default_ttl_ms, 1000);
	ck_assert_uint_eq(s->skew_ms, 30000);
	ck_assert_ptr_null(s->state_file);
	reg_settings_free(s);

	/* Each broken key names itself. */
	y = "orchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/33], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "orchestrators[0].cidrs[0]"));
	y = "orchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p], ports: [\"600-500\"]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "orchestrators[0].ports[0]"));
	y = "orchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "orchestrators[0].pools"));
	y = "orchestrators:\n  - {id: a, secret: inline-secret, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "orchestrators[0].secret"));
	y = "orchestrators:\n  - {id: a, secret: env:REG_T_SHORT, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_eq(settings_from(y, &s, err, sizeof(err)), HYP_ESECRET);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	y = "listen: localhost:80\norchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "listen"));
	y = "skew: 1y\norchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "skew"));
	y = "activation: {enabled: true}\norchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "activation.sans"));
	y = "orchestrators:\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p]}\n  - {id: a, secret: env:REG_T_K1, cidrs: [10.0.0.0/8], pools: [p]}\n";
	ck_assert_int_ne(settings_from(y, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "used twice"));
	/* conf_check does not need the secrets. */
	ck_assert_int_ne(reg_conf_check(NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(t_addresses)
{
	int	fam;

	ck_assert_ptr_null(reg_addr_class("10.1.2.3", 0, 0, &fam));
	ck_assert_int_eq(fam, AF_INET);
	ck_assert_ptr_null(reg_addr_class("172.16.0.1", 0, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("192.168.1.1", 0, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("100.64.0.1", 0, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("fd00::1", 0, 0, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("127.0.0.1", 0, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("127.0.0.1", 0, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("::1", 1, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("::1", 0, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("169.254.1.1", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("fe80::1", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("224.0.0.1", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("ff02::1", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("0.0.0.0", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("::", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("255.255.255.255", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("::ffff:10.0.0.1", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("8.8.8.8", 0, 1, &fam));
	ck_assert_ptr_null(reg_addr_class("8.8.8.8", 1, 0, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("2001:db8::1", 0, 0, &fam));
	ck_assert_ptr_null(reg_addr_class("2001:db8::1", 1, 0, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("game.example.net", 1, 1, &fam));
	ck_assert_ptr_nonnull(reg_addr_class("10.0.0.1 ", 1, 1, &fam));
}
END_TEST

START_TEST(t_range)
{
	struct reg_range	g;

	ck_assert_int_eq(reg_parse_range("5520", &g), 0);
	ck_assert_uint_eq(g.lo, 5520);
	ck_assert_uint_eq(g.hi, 5520);
	ck_assert_int_eq(reg_parse_range("1-65535", &g), 0);
	ck_assert_int_ne(reg_parse_range("0-10", &g), 0);
	ck_assert_int_ne(reg_parse_range("10-65536", &g), 0);
	ck_assert_int_ne(reg_parse_range("10-", &g), 0);
	ck_assert_int_ne(reg_parse_range("-10", &g), 0);
}
END_TEST

/* ---- the API ---- */

START_TEST(t_api_register_flow)
{
	struct registry		*r = mk_registry(base_conf);
	struct fr_backend	*f;

	hyp_hook_register(NULL, HYP_HOOK_AUDIT, 0, audit_hook, NULL);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\","
	    "\"pool\":\"lobby\",\"host\":\"127.0.0.1\",\"port\":5520,"
	    "\"max_players\":10,\"tags\":[\"eu\"]}", NULL), 201);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"state\":\"active\""));
	ck_assert_ptr_nonnull(f = fr_find("k8s-a"));
	ck_assert_str_eq(f->pool, "lobby");
	ck_assert_uint_eq(f->port, 5520);
	ck_assert_uint_eq(f->max_players, 10);
	ck_assert_str_eq(last_audit, "op1@10.1.2.3 register k8s-a 1 pool=lobby "
	    "host=127.0.0.1 port=5520 ttl=1s");
	ck_assert_int_gt(n_dirty, 0);
	/* Idempotent update: 200, same router entry. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\","
	    "\"pool\":\"lobby\",\"host\":\"127.0.0.1\",\"port\":5521}", NULL),
	    200);
	ck_assert_uint_eq(fr_find("k8s-a")->port, 5521);
	/* Heartbeat feeds players; "starting" drains in the router. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":7,\"state\":\"starting\"}", NULL), 200);
	ck_assert_uint_eq(fr_find("k8s-a")->players, 7);
	ck_assert_int_eq(fr_find("k8s-a")->drain, 1);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"state\":\"starting\""));
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":7,\"state\":\"ready\"}", NULL), 200);
	ck_assert_int_eq(fr_find("k8s-a")->drain, 0);
	/* Drain with players: stays, draining; empty heartbeat removes it. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/drain", NULL,
	    NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"state\":\"draining\""));
	ck_assert_int_eq(fr_find("k8s-a")->drain, 1);
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":3,\"state\":\"ready\"}", NULL), 200);
	ck_assert_int_eq(fr_find("k8s-a")->drain, 1);	/* drain is sticky */
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":0}", NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"state\":\"removed\""));
	ck_assert_ptr_null(fr_find("k8s-a"));
	ck_assert_ptr_null(reg_store_find(&r->st, "k8s-a"));
	/* Register again and DELETE. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-b",
	    "lobby", "10.0.0.9", 5530), NULL), 201);
	ck_assert_int_eq(call(r, "DELETE", "/v1/backends/k8s-b", NULL, NULL),
	    200);
	ck_assert_ptr_null(fr_find("k8s-b"));
	ck_assert_int_eq(call(r, "DELETE", "/v1/backends/k8s-b", NULL, NULL),
	    404);
	EXPECT_ERR(404, "not_found");
	hyp_hook_unregister(NULL, HYP_HOOK_AUDIT, audit_hook, NULL);
	rm_registry(r);
}
END_TEST

START_TEST(t_api_auth_rejections)
{
	struct registry		*r = mk_registry(base_conf);
	struct call_opts	 co;
	const char		*body = REG_BODY("k8s-a", "lobby", "10.0.0.5",
				    5520);

	memset(&co, 0, sizeof(co));
	co.secret = K2;
	call(r, "POST", "/v1/backends", body, &co);
	EXPECT_ERR(401, "bad_signature");
	memset(&co, 0, sizeof(co));
	co.sig = "zz";
	call(r, "POST", "/v1/backends", body, &co);
	EXPECT_ERR(401, "bad_signature");
	memset(&co, 0, sizeof(co));
	co.ts = fake_now / 1000 - 31;
	call(r, "POST", "/v1/backends", body, &co);
	EXPECT_ERR(401, "stale_timestamp");
	co.ts = fake_now / 1000 + 31;
	call(r, "POST", "/v1/backends", body, &co);
	EXPECT_ERR(401, "stale_timestamp");
	co.ts = fake_now / 1000 - 29;
	ck_assert_int_eq(call(r, "POST", "/v1/backends", body, &co), 201);
	memset(&co, 0, sizeof(co));
	co.nonce = "replay-me-0000000";
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(401, "replayed_nonce");
	co.nonce = "bad nonce";
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(401, "bad_auth_header");
	memset(&co, 0, sizeof(co));
	co.key = "nobody";
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(401, "unknown_key");
	memset(&co, 0, sizeof(co));
	co.src = "203.0.113.9";
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(403, "forbidden_source");
	co.src = "192.168.1.1";		/* op2's network, op1's key */
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(403, "forbidden_source");
	/* A signature over another path does not carry over. */
	memset(&co, 0, sizeof(co));
	co.ctype = "text/plain";
	call(r, "POST", "/v1/backends", body, &co);
	EXPECT_ERR(415, "unsupported_media_type");
	co.ctype = "application/json; charset=utf-8";
	ck_assert_int_eq(call(r, "POST", "/v1/backends", body, &co), 200);
	rm_registry(r);
}
END_TEST

START_TEST(t_api_body_rejections)
{
	struct registry	*r = mk_registry(base_conf);
	char		*big;

	ck_assert_ptr_nonnull(big = malloc(20000));
	memset(big, ' ', 19999);
	big[0] = '{';
	big[19998] = '}';
	big[19999] = '\0';
	call(r, "POST", "/v1/backends", big, NULL);
	EXPECT_ERR(413, "body_too_large");
	free(big);
	call(r, "POST", "/v1/backends", "{\"id\":", NULL);
	EXPECT_ERR(400, "malformed_json");
	call(r, "POST", "/v1/backends", "{\"a\":[[[[[[[[[]]]]]]]]]}", NULL);
	EXPECT_ERR(400, "too_deep");
	call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\",\"pool\":\"lobby\","
	    "\"host\":\"10.0.0.5\",\"port\":\"5520\"}", NULL);
	EXPECT_ERR(400, "bad_type");
	call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\",\"pool\":\"lobby\","
	    "\"host\":\"10.0.0.5\",\"port\":5520,\"admin\":true}", NULL);
	EXPECT_ERR(400, "unknown_field");
	call(r, "POST", "/v1/backends", "{\"id\":\"k8s a\",\"pool\":\"lobby\","
	    "\"host\":\"10.0.0.5\",\"port\":5520}", NULL);
	EXPECT_ERR(400, "bad_value");
	call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\",\"pool\":\"lobby\","
	    "\"host\":\"10.0.0.5\",\"port\":5520,\"ttl_seconds\":999999}", NULL);
	EXPECT_ERR(400, "bad_value");
	call(r, "POST", "/v1/backends/k8s-a/heartbeat", "{}", NULL);
	EXPECT_ERR(400, "missing_field");
	call(r, "POST", "/v1/backends/k8s-a/drain", "{\"now\":true}", NULL);
	EXPECT_ERR(400, "unknown_field");
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-a",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	call(r, "POST", "/v1/backends/k8s-a/heartbeat", "{\"players\":1,"
	    "\"state\":\"sleeping\"}", NULL);
	EXPECT_ERR(400, "bad_value");
	rm_registry(r);
}
END_TEST

START_TEST(t_api_policy_rejections)
{
	struct registry		*r = mk_registry(base_conf);
	struct call_opts	 co;

	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "minigames",
	    "10.0.0.5", 5520), NULL);
	EXPECT_ERR(403, "forbidden_pool");
	call(r, "POST", "/v1/backends", REG_BODY("nomad-a", "lobby",
	    "10.0.0.5", 5520), NULL);
	EXPECT_ERR(403, "forbidden_prefix");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby",
	    "10.0.0.5", 22), NULL);
	EXPECT_ERR(403, "forbidden_port");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby",
	    "8.8.8.8", 5520), NULL);
	EXPECT_ERR(403, "forbidden_address");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby",
	    "169.254.169.254", 5520), NULL);
	EXPECT_ERR(403, "forbidden_address");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby",
	    "224.1.1.1", 5520), NULL);
	EXPECT_ERR(403, "forbidden_address");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby",
	    "lobby.example.net", 5520), NULL);
	EXPECT_ERR(403, "forbidden_address");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "ghost",
	    "10.0.0.5", 5520), NULL);
	EXPECT_ERR(422, "unknown_pool");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-static", "lobby",
	    "10.0.0.5", 5520), NULL);
	EXPECT_ERR(409, "conflict");
	ck_assert_uint_eq(r->st.n, 0);
	/* Owner: op2 may not touch op1's entry. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-a",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	memset(&co, 0, sizeof(co));
	co.key = "op2";
	co.secret = K2;
	co.src = "192.168.7.7";
	call(r, "DELETE", "/v1/backends/k8s-a", NULL, &co);
	EXPECT_ERR(403, "not_owner");
	call(r, "POST", "/v1/backends", REG_BODY("k8s-a", "lobby", "10.0.0.6",
	    5520), &co);
	EXPECT_ERR(403, "not_owner");
	/* op2 does not even see it (after its bucket refilled). */
	fake_now += 3000;
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"count\":0"));
	/* Routes and methods. */
	call(r, "PUT", "/v1/backends", NULL, NULL);
	EXPECT_ERR(405, "method_not_allowed");
	call(r, "GET", "/v1/backends/k8s-a", NULL, NULL);
	EXPECT_ERR(405, "method_not_allowed");
	call(r, "GET", "/v2/backends", NULL, NULL);
	EXPECT_ERR(404, "not_found");
	call(r, "POST", "/v1/backends/k8s-a/reboot", NULL, NULL);
	EXPECT_ERR(404, "not_found");
	call(r, "POST", "/v1/backends/a%2Fb/drain", NULL, NULL);
	EXPECT_ERR(404, "not_found");
	/* max_entries (4). */
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-b",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-c",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-d",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	call(r, "POST", "/v1/backends", REG_BODY("k8s-e", "lobby", "10.0.0.5",
	    5520), NULL);
	EXPECT_ERR(507, "too_many_entries");
	rm_registry(r);
}
END_TEST

START_TEST(t_api_rate_limit)
{
	struct registry		*r = mk_registry(base_conf);
	struct call_opts	 co;

	memset(&co, 0, sizeof(co));
	co.key = "op2";
	co.secret = K2;
	co.src = "192.168.7.7";
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(429, "rate_limited");
	ck_assert_uint_ge(resp.retry_after, 1);
	/* Another source has its own bucket. */
	co.src = "192.168.7.8";
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	/* One second later: one more token. */
	fake_now += 1000;
	co.src = "192.168.7.7";
	ck_assert_int_eq(call(r, "GET", "/v1/backends", NULL, &co), 200);
	call(r, "GET", "/v1/backends", NULL, &co);
	EXPECT_ERR(429, "rate_limited");
	rm_registry(r);
}
END_TEST

START_TEST(t_expiry)
{
	struct registry	*r = mk_registry(base_conf);
	char		*text = NULL;
	size_t		 len;

	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-a",
	    "lobby", "10.0.0.5", 5520), NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-b\","
	    "\"pool\":\"lobby\",\"host\":\"10.0.0.6\",\"port\":5520,"
	    "\"ttl_seconds\":10}", NULL), 201);
	/* ttl 1s + grace 1s: still there at 1.9s. */
	fake_now += 1900;
	reg_tick(r);
	ck_assert_ptr_nonnull(fr_find("k8s-a"));
	/* A heartbeat at 1.9s renews it. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":2}", NULL), 200);
	fake_now += 1900;
	reg_tick(r);
	ck_assert_ptr_nonnull(fr_find("k8s-a"));
	fake_now += 200;
	reg_tick(r);
	ck_assert_ptr_null(fr_find("k8s-a"));
	ck_assert_ptr_null(reg_store_find(&r->st, "k8s-a"));
	ck_assert_ptr_nonnull(fr_find("k8s-b"));
	call(r, "POST", "/v1/backends/k8s-a/heartbeat", "{\"players\":2}",
	    NULL);
	EXPECT_ERR(404, "not_found");
	/* Metrics: expired_total and the entries gauge. */
	ck_assert_int_eq(hyp_metrics_render(&text, &len), 0);
	ck_assert_ptr_nonnull(strstr(text, "hyprox_registry_entries 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "hyprox_registry_expired_total "));
	ck_assert_ptr_nonnull(strstr(text, "hyprox_registry_requests_total{"
	    "endpoint=\"register\",code=\"201\"}"));
	ck_assert_ptr_nonnull(strstr(text, "hyprox_registry_rejected_total{"
	    "reason=\"not_found\"}"));
	free(text);
	rm_registry(r);
}
END_TEST

START_TEST(t_activation)
{
	struct registry		*r;
	struct reg_entry	*e;
	char			 y[2048];

	snprintf(y, sizeof(y), "%sactivation: {enabled: true, sans: "
	    "[localhost], retry: 2s}\n", base_conf);
	r = mk_registry(y);
	r->probe_start = fake_probe;
	r->probe_cancel = fake_cancel;
	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\","
	    "\"pool\":\"lobby\",\"host\":\"10.0.0.5\",\"port\":5520,"
	    "\"ttl_seconds\":60}", NULL), 201);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"state\":\"quarantined\""));
	ck_assert_ptr_null(fr_find("k8s-a"));
	ck_assert_int_eq(n_probes, 1);
	ck_assert_ptr_nonnull(e = reg_store_find(&r->st, "k8s-a"));
	ck_assert(e->probing);
	/* Failure: retried after 2s, not before. */
	reg_activation_result(r, e, 0, "server certificate matches no "
	    "allowed name");
	fake_now += 1000;
	reg_tick(r);
	ck_assert_int_eq(n_probes, 1);
	fake_now += 1001;
	reg_tick(r);
	ck_assert_int_eq(n_probes, 2);
	/* Success: in the router. */
	reg_activation_result(r, e, 1, "ok");
	ck_assert_ptr_nonnull(fr_find("k8s-a"));
	ck_assert_int_eq(e->quarantined, 0);
	/* A new address quarantines again. */
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-a",
	    "lobby", "10.0.0.7", 5520), NULL), 200);
	ck_assert_ptr_null(fr_find("k8s-a"));
	ck_assert_int_eq(n_probes, 3);
	/* Removal cancels the probe in flight. */
	ck_assert_int_eq(call(r, "DELETE", "/v1/backends/k8s-a", NULL, NULL),
	    200);
	ck_assert_int_eq(n_cancels, 1);
	rm_registry(r);
}
END_TEST

START_TEST(t_list_pagination)
{
	struct registry	*r = mk_registry(base_conf);
	char		 cursor[80];
	const char	*p, *q;

	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-c\","
	    "\"pool\":\"lobby\",\"host\":\"10.0.0.5\",\"port\":5520,\"tags\":"
	    "[\"eu\"]}", NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-a",
	    "lobby", "10.0.0.5", 5521), NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-b\","
	    "\"pool\":\"lobby\",\"host\":\"10.0.0.5\",\"port\":5522,\"tags\":"
	    "[\"eu\"]}", NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-b/heartbeat",
	    "{\"players\":2}", NULL), 200);
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-b/drain", NULL,
	    NULL), 200);
	ck_assert_int_eq(call(r, "GET", "/v1/backends?limit=2", NULL, NULL),
	    200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"count\":2"));
	p = strstr(resp.body, "\"next_cursor\":\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"next_cursor\":\"");
	q = strchr(p, '"');
	snprintf(cursor, sizeof(cursor), "/v1/backends?limit=2&cursor=%.*s",
	    (int)(q - p), p);
	ck_assert_str_eq(cursor, "/v1/backends?limit=2&cursor=k8s-b");
	ck_assert_int_eq(call(r, "GET", cursor, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"count\":1"));
	ck_assert_ptr_nonnull(strstr(resp.body, "\"id\":\"k8s-c\""));
	ck_assert_ptr_nonnull(strstr(resp.body, "\"next_cursor\":null"));
	ck_assert_int_eq(call(r, "GET", "/v1/backends?tag=eu&state=draining",
	    NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"count\":1"));
	ck_assert_ptr_nonnull(strstr(resp.body, "\"id\":\"k8s-b\""));
	ck_assert_int_eq(call(r, "GET", "/v1/backends?pool=lobby&tag=e%75",
	    NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"count\":2"));
	call(r, "GET", "/v1/backends?limit=0", NULL, NULL);
	EXPECT_ERR(400, "bad_query");
	call(r, "GET", "/v1/backends?limit=1&limit=2", NULL, NULL);
	EXPECT_ERR(400, "bad_query");
	call(r, "GET", "/v1/backends?colour=red", NULL, NULL);
	EXPECT_ERR(400, "bad_query");
	call(r, "GET", "/v1/backends?state=dead", NULL, NULL);
	EXPECT_ERR(400, "bad_query");
	call(r, "GET", "/v1/backends?tag=%00", NULL, NULL);
	EXPECT_ERR(400, "bad_query");
	rm_registry(r);
}
END_TEST

START_TEST(t_persistence)
{
	struct registry	*r = mk_registry(base_conf), *r2;
	struct reg_file	*f = NULL;
	struct reg_entry *e;
	char		*text = NULL, msg[REG_ERRMSG_MAX];
	size_t		 len, kept, dropped;
	int64_t		 exp_a;

	ck_assert_int_eq(call(r, "POST", "/v1/backends", "{\"id\":\"k8s-a\","
	    "\"pool\":\"lobby\",\"host\":\"127.0.0.1\",\"port\":5520,"
	    "\"weight\":4,\"max_players\":9,\"tags\":[\"eu\",\"v=1\"],"
	    "\"ttl_seconds\":60}", NULL), 201);
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/heartbeat",
	    "{\"players\":5}", NULL), 200);
	ck_assert_int_eq(call(r, "POST", "/v1/backends/k8s-a/drain", NULL,
	    NULL), 200);
	ck_assert_int_eq(call(r, "POST", "/v1/backends", REG_BODY("k8s-b",
	    "lobby", "10.0.0.8", 5520), NULL), 201);
	exp_a = reg_store_find(&r->st, "k8s-a")->expires_ms;
	ck_assert_int_eq(reg_state_text(&r->st, &text, &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	rm_registry(r);

	/* Restart 5 s later: k8s-b (ttl 1s + grace 1s) expired meanwhile. */
	r2 = mk_registry(base_conf);
	fake_now += 5000;
	ck_assert_int_eq(reg_file_load((const uint8_t *)text, len, &f, msg,
	    sizeof(msg)), REG_P_OK);
	ck_assert_uint_eq(f->entries_count, 2);
	ck_assert_int_eq(reg_restore(r2, f, &kept, &dropped), 0);
	ck_assert_uint_eq(kept, 1);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_ptr_nonnull(e = reg_store_find(&r2->st, "k8s-a"));
	ck_assert_int_eq(e->expires_ms, exp_a);
	ck_assert_uint_eq(e->weight, 4);
	ck_assert_uint_eq(e->max_players, 9);
	ck_assert_uint_eq(e->ntags, 2);
	ck_assert_str_eq(e->tags[1], "v=1");
	ck_assert_int_eq(e->drain, 1);
	ck_assert_uint_eq(e->players, 5);
	ck_assert_str_eq(e->owner, "op1");
	ck_assert_ptr_nonnull(fr_find("k8s-a"));
	ck_assert_int_eq(fr_find("k8s-a")->drain, 1);
	ck_assert_ptr_null(fr_find("k8s-b"));
	reg_file_free(f);
	rm_registry(r2);

	/* A configuration that no longer allows the entry drops it. */
	r2 = mk_registry("orchestrators:\n  - {id: op1, secret: env:REG_T_K1, "
	    "cidrs: [10.0.0.0/8], pools: [other]}\n");
	ck_assert_int_eq(reg_file_load((const uint8_t *)text, len, &f, msg,
	    sizeof(msg)), REG_P_OK);
	ck_assert_int_eq(reg_restore(r2, f, &kept, &dropped), 0);
	ck_assert_uint_eq(kept, 0);
	ck_assert_uint_eq(dropped, 2);
	reg_file_free(f);
	rm_registry(r2);

	/* A broken file is refused as a whole. */
	text[len / 2] = '\0';
	ck_assert_int_ne(reg_file_load((const uint8_t *)text, strlen(text), &f,
	    msg, sizeof(msg)), REG_P_OK);
	ck_assert_ptr_null(f);
	free(text);
}
END_TEST

START_TEST(t_json_escape)
{
	char	buf[64];

	ck_assert_uint_eq(reg_json_str(buf, sizeof(buf), "a\"b\\c\n\x01"), 21);
	ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	ck_assert_uint_eq(reg_json_str(buf, 4, "abcdef"), 8);
	ck_assert_str_eq(buf, "\"ab");
}
END_TEST

/* Assemble the suite. */
static Suite *
registry_suite(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc;

	tc = tcase_create("signing");
	tcase_add_test(tc, t_canonical_vector);
	tcase_add_test(tc, t_sig_compare);
	tcase_add_test(tc, t_timestamps);
	tcase_add_test(tc, t_nonce_cache);
	suite_add_tcase(s, tc);
	tc = tcase_create("parser");
	tcase_add_test(tc, t_parser_ok);
	tcase_add_test(tc, t_parser_rejects);
	tcase_add_test(tc, t_parser_depth_bomb);
	tcase_add_test(tc, t_parser_messages);
	tcase_add_test(tc, t_json_escape);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_test(tc, t_conf);
	tcase_add_test(tc, t_addresses);
	tcase_add_test(tc, t_range);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, t_api_register_flow);
	tcase_add_test(tc, t_api_auth_rejections);
	tcase_add_test(tc, t_api_body_rejections);
	tcase_add_test(tc, t_api_policy_rejections);
	tcase_add_test(tc, t_api_rate_limit);
	tcase_add_test(tc, t_expiry);
	tcase_add_test(tc, t_activation);
	tcase_add_test(tc, t_list_pagination);
	tcase_add_test(tc, t_persistence);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(registry_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
