/*
 * check_router: the router plugin's pure logic with a fake clock, a seeded
 * random source and fake health probes: configuration and its checks,
 * every match kind, strategies and their distributions, capacity and
 * reservations, fallback, health and circuit state machines, reload
 * carry-over and the "router" service.  No sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "hyproxd.h"
#include "router.h"

static struct router	 R;
static uint64_t		 fake_now = 1000000000;	/* us */
static uint64_t		 rng = 0x9e3779b97f4a7c15ULL;
static int		 probes_started;
static int		 probes_cancelled;
static int		 probe_rc;

/* Fake clock. */
static uint64_t
t_now(struct router *r)
{
	(void)r;
	return (fake_now);
}

/* splitmix64: a seeded, reproducible generator. */
static uint64_t
t_next(void)
{
	uint64_t	z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Seeded uniform random number below upper. */
static uint32_t
t_rand(struct router *r, uint32_t upper)
{
	(void)r;
	return (upper > 1 ? (uint32_t)(t_next() % upper) : 0);
}

/* Fake probe launcher: counts, answers probe_rc. */
static int
t_probe(struct router *r, struct rt_backend *b)
{
	(void)r;
	(void)b;
	if (probe_rc == 0)
		probes_started++;
	return (probe_rc);
}

/* Fake probe cancel. */
static void
t_cancel(struct router *r, struct rt_backend *b)
{
	(void)r;
	probes_cancelled++;
	b->probing = 0;
}

/* Load YAML text against the plugin schema through the host's loader. */
static int
load_text(const char *text, struct rt_conf **out)
{
	char	 path[] = "/tmp/check_router_XXXXXX";
	char	*err = NULL;
	void	*conf = NULL;
	int	 fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = hypd_plugin_conf_load(path, &rt_conf_schema, &conf, &err);
	unlink(path);
	free(err);
	*out = conf;
	return (rc);
}

/* Check text; returns the code, the message in err. */
static int
check_text(const char *text, char *err, size_t errlen)
{
	struct rt_conf	*c = NULL;
	int		 rc;

	err[0] = '\0';
	if ((rc = load_text(text, &c)) != 0)
		return (rc);
	rc = rt_conf_check(c, err, errlen);
	hypd_plugin_conf_free(&rt_conf_schema, c);
	return (rc);
}

/* Set R up from text: fake env, health on, probes due now. */
static void
setup_text(const char *text, int health)
{
	struct rt_conf	*c = NULL;
	char		 err[512];
	size_t		 i;

	ck_assert_int_eq(sodium_init() >= 0, 1);
	rt_router_init(&R, NULL);
	R.now = t_now;
	R.rand = t_rand;
	if (health) {
		R.probe_start = t_probe;
		R.probe_cancel = t_cancel;
	}
	ck_assert_int_eq(load_text(text, &c), 0);
	if (rt_table_build(c, &R.cur, err, sizeof(err)) != 0)
		ck_abort_msg("build: %s", err);
	hypd_plugin_conf_free(&rt_conf_schema, c);
	rt_metrics_init(&R);
	ck_assert_int_eq(rt_table_activate(&R, R.cur), 0);
	R.health_on = health && R.cur->set.health_enabled;
	for (i = 0; i < R.cur->nb; i++) {
		rt_health_fresh(&R, R.cur->all[i], fake_now);
		R.cur->all[i]->next_probe_us = fake_now;
		rt_sync(&R, R.cur->all[i], fake_now);
	}
}

/* Free R. */
static void
teardown(void)
{
	rt_router_free(&R);
	hypd_metrics_reset();
}

/* A session from an IPv4 or IPv6 address. */
static hyp_session_t *
sess(const char *addr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	hyp_session_t		*s;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(40000);
		s = hyp_session_new(NULL, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(40000);
		s = hyp_session_new(NULL, (struct sockaddr *)&sin6,
		    sizeof(sin6));
	}
	ck_assert_ptr_nonnull(s);
	return (s);
}

/* A V2 Connect with the given fields (username may be NULL). */
static void
set_connect(hyp_session_t *s, int layout, int type, int32_t crc,
    int32_t build, const uint8_t *uuid, const char *user, const char *refhost,
    uint16_t refport)
{
	struct hyp_connect	c;

	memset(&c, 0, sizeof(c));
	c.layout = (enum hyp_connect_layout)layout;
	c.client_type = (uint8_t)type;
	c.protocol_crc = crc;
	c.build = build;
	if (uuid != NULL) {
		c.has_uuid = 1;
		memcpy(c.uuid, uuid, 16);
	}
	if (user != NULL) {
		c.username.ptr = (const uint8_t *)user;
		c.username.len = strlen(user);
	}
	if (refhost != NULL) {
		c.has_referral_source = 1;
		c.referral_source.host.ptr = (const uint8_t *)refhost;
		c.referral_source.host.len = strlen(refhost);
		c.referral_source.port = refport;
	}
	ck_assert_int_eq(hyp_session_set_connect(s, &c), 0);
}

/* Route s and return the chosen backend id ("" none, "DENY" denied). */
static const char *
route(hyp_session_t *s)
{
	enum hyp_hook_rc	rc = rt_route_session(&R, s);

	if (rc == HYP_DENY) {
		ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_DENY);
		return ("DENY");
	}
	if (rc == HYP_CONTINUE)
		return ("");
	ck_assert_int_eq(rc, HYP_DONE);
	ck_assert_ptr_nonnull(hyp_session_backend(s));
	return (hyp_backend_id(hyp_session_backend(s)));
}

/* Route a fresh session from addr; returns a static copy of the result. */
static const char *
route_addr(const char *addr)
{
	static char	 out[RT_ID_MAX + 1];
	hyp_session_t	*s = sess(addr);

	snprintf(out, sizeof(out), "%s", route(s));
	hyp_session_end(s, "test");
	return (out);
}

/* The index of backend id in the table. */
static struct rt_backend *
B(const char *id)
{
	struct rt_backend	*b = rt_find(R.cur, id);

	ck_assert_msg(b != NULL, "no backend %s", id);
	return (b);
}

/* ---- configuration ---- */

START_TEST(conf_defaults)
{
	setup_text("pools:\n  - id: lobby\n    backends:\n"
	    "      - {id: l1, host: 10.0.0.1}\n", 1);
	ck_assert_uint_eq(R.cur->set.ttl_ms, 30000);
	ck_assert_uint_eq(R.cur->set.interval_ms, 5000);
	ck_assert_uint_eq(R.cur->set.timeout_ms, 2000);
	ck_assert_uint_eq(R.cur->set.rise, 2);
	ck_assert_uint_eq(R.cur->set.fall, 3);
	ck_assert_uint_eq(R.cur->set.cb_failures, 5);
	ck_assert_uint_eq(R.cur->set.open_ms, 30000);
	ck_assert_int_eq(R.cur->set.health_enabled, 1);
	ck_assert_str_eq(R.cur->set.alpn, "hytale/2,hytale/1");
	ck_assert_str_eq(R.cur->set.full_message, RT_DEF_FULL_MSG);
	ck_assert_int_eq(R.cur->set.default_pool, -1);
	ck_assert_int_eq(R.cur->pools[0].strategy, RT_S_LEAST_LOADED);
	ck_assert_int_eq(R.cur->pools[0].mode, RT_MODE_REDIRECT);
	ck_assert_uint_eq(B("l1")->port, 5520);
	ck_assert_uint_eq(B("l1")->weight, 1);
	ck_assert_uint_eq(B("l1")->max_players, 0);
	ck_assert_str_eq(hyp_backend_pool(B("l1")->hb), "lobby");
	teardown();
}
END_TEST

START_TEST(conf_full)
{
	setup_text(
	    "pools:\n"
	    "  - id: lobby\n    mode: full\n    strategy: weighted\n"
	    "    fallback: [overflow]\n"
	    "    backends:\n"
	    "      - {id: l1, host: a.example, port: 6000, weight: 3, "
	    "max_players: 50, tags: [eu, fast], drain: true}\n"
	    "  - id: overflow\n    strategy: p2c\n"
	    "routes:\n  - name: r\n    match: {sni: [A.Example.COM.]}\n"
	    "    pool: lobby\n"
	    "default_pool: overflow\n"
	    "capacity: {reservation_ttl: 250ms}\n"
	    "health: {interval: 100ms, timeout: 100ms, rise: 1, fall: 1, "
	    "alpn: hytale/3, enabled: false}\n"
	    "circuit: {failures: 2, open_for: 2m}\n"
	    "full_message: Full!\nunavailable_message: Down!\n", 1);
	ck_assert_int_eq(R.cur->pools[0].mode, RT_MODE_FULL);
	ck_assert_int_eq(R.cur->pools[0].strategy, RT_S_WEIGHTED);
	ck_assert_int_eq(R.cur->pools[0].fallback[0], 1);
	ck_assert_uint_eq(B("l1")->port, 6000);
	ck_assert_uint_eq(B("l1")->weight, 3);
	ck_assert_uint_eq(B("l1")->max_players, 50);
	ck_assert_uint_eq(B("l1")->ntags, 2);
	ck_assert_str_eq(B("l1")->tags[1], "fast");
	ck_assert_int_eq(B("l1")->drain_conf, 1);
	ck_assert_str_eq(R.cur->routes[0].m.sni[0], "a.example.com");
	ck_assert_int_eq(R.cur->set.default_pool, 1);
	ck_assert_uint_eq(R.cur->set.ttl_ms, 250);
	ck_assert_uint_eq(R.cur->set.interval_ms, 100);
	ck_assert_uint_eq(R.cur->set.open_ms, 120000);
	ck_assert_int_eq(R.cur->set.health_enabled, 0);
	ck_assert_int_eq(R.health_on, 0);
	ck_assert_str_eq(R.cur->set.full_message, "Full!");
	ck_assert_str_eq(R.cur->set.unavail_message, "Down!");
	teardown();
}
END_TEST

static const struct {
	const char	*yaml;
	const char	*prefix;	/* NULL: the schema loader refuses */
} bad_confs[] = {
	{ "bogus: 1\n", NULL },
	{ "pools:\n  - id: a\n    colour: red\n", NULL },
	{ "pools:\n  - {id: a, strategy: fastest}\n", "pools[0].strategy: " },
	{ "pools:\n  - {id: a, mode: tunnel}\n", "pools[0].mode: " },
	{ "pools:\n  - {id: 'a b'}\n", "pools[0].id: " },
	{ "pools:\n  - {id: a}\n  - {id: a}\n", "pools[1].id: " },
	{ "pools:\n  - {id: a}\n  - {id: b, backends: [{id: x, host: h}, "
	    "{id: x, host: h}]}\n", "pools[1].backends[1].id: " },
	{ "pools:\n  - {id: a, backends: [{id: x}]}\n",
	    "pools[0].backends[0].host: " },
	{ "pools:\n  - {id: a, backends: [{id: x, host: h, port: 70000}]}\n",
	    "pools[0].backends[0].port: " },
	{ "pools:\n  - {id: a, backends: [{id: x, host: h, weight: 0}]}\n",
	    "pools[0].backends[0].weight: " },
	{ "pools:\n  - {id: a, fallback: [zz]}\n", "pools[0].fallback[0]: " },
	{ "pools:\n  - {id: a, fallback: [b]}\n  - {id: b, fallback: [c]}\n"
	    "  - {id: c, fallback: [a]}\n", "pools[0].fallback: " },
	{ "pools:\n  - {id: a, fallback: [a]}\n", "pools[0].fallback: " },
	{ "routes:\n  - {name: r}\n", "routes[0]: " },
	{ "pools:\n  - {id: a}\nroutes:\n  - {pool: a, deny: no}\n",
	    "routes[0]: " },
	{ "routes:\n  - {pool: nope}\n", "routes[0].pool: " },
	{ "routes:\n  - {deny: x, match: {cidr: [10.0.0.0/33]}}\n",
	    "routes[0].match.cidr[0]: " },
	{ "routes:\n  - {deny: x, match: {cidr: [fe80::/129]}}\n",
	    "routes[0].match.cidr[0]: " },
	{ "routes:\n  - {deny: x, match: {uuid: [not-a-uuid]}}\n",
	    "routes[0].match.uuid[0]: " },
	{ "routes:\n  - {deny: x, match: {build: {min: 5, max: 4}}}\n",
	    "routes[0].match.build: " },
	{ "routes:\n  - {deny: x, match: {build: {}}}\n",
	    "routes[0].match.build: " },
	{ "routes:\n  - {deny: x, match: {sni: ['*foo.com']}}\n",
	    "routes[0].match.sni[0]: " },
	{ "routes:\n  - {deny: x, match: {sni: ['a.*.com']}}\n",
	    "routes[0].match.sni[0]: " },
	{ "routes:\n  - {deny: x, match: {client_type: server}}\n",
	    "routes[0].match.client_type: " },
	{ "routes:\n  - {deny: x, match: {referral_source: ['h:99999']}}\n",
	    "routes[0].match.referral_source[0]: " },
	{ "routes:\n  - {deny: x, match: {username: [abcdefghijklmnopq]}}\n",
	    "routes[0].match.username[0]: " },
	{ "default_pool: nope\n", "default_pool: " },
	{ "capacity: {reservation_ttl: soon}\n", "capacity.reservation_ttl: " },
	{ "health: {interval: 50ms}\n", "health.interval: " },
	{ "health: {rise: 0}\n", "health.rise: " },
	{ "health: {alpn: 'a,,b'}\n", "health.alpn: " },
	{ "circuit: {failures: 0}\n", "circuit.failures: " },
	{ "circuit: {open_for: 10x}\n", "circuit.open_for: " },
};

START_TEST(conf_bad)
{
	char	err[512];
	int	rc;

	rc = check_text(bad_confs[_i].yaml, err, sizeof(err));
	ck_assert_msg(rc != 0, "accepted: %s", bad_confs[_i].yaml);
	if (bad_confs[_i].prefix != NULL)
		ck_assert_msg(strncmp(err, bad_confs[_i].prefix,
		    strlen(bad_confs[_i].prefix)) == 0, "%s -> '%s'",
		    bad_confs[_i].yaml, err);
}
END_TEST

START_TEST(conf_limits)
{
	char	*y;
	size_t	 cap = 1 << 20, at;
	char	 err[512];
	int	 i;

	/* 1025 backends over two pools are refused with the path. */
	y = malloc(cap);
	at = (size_t)snprintf(y, cap, "pools:\n  - id: a\n    backends:\n");
	for (i = 0; i < 1000; i++)
		at += (size_t)snprintf(y + at, cap - at, "      - {id: a%d, "
		    "host: h}\n", i);
	at += (size_t)snprintf(y + at, cap - at, "  - id: b\n    backends:\n");
	for (i = 0; i < 25; i++)
		at += (size_t)snprintf(y + at, cap - at, "      - {id: b%d, "
		    "host: h}\n", i);
	ck_assert_int_ne(check_text(y, err, sizeof(err)), 0);
	ck_assert_msg(strncmp(err, "pools[1].backends[24]: ", 23) == 0, "%s",
	    err);
	free(y);
	ck_assert_int_eq(check_text("", err, sizeof(err)), 0);
}
END_TEST

START_TEST(parsers)
{
	uint8_t		u[16];

	ck_assert_int_eq(rt_parse_uuid("0123ABCD-4567-89ab-cdef-0123456789AB",
	    u), 0);
	ck_assert_uint_eq(u[0], 0x01);
	ck_assert_uint_eq(u[15], 0xab);
	ck_assert_int_ne(rt_parse_uuid("0123abcd04567-89ab-cdef-0123456789ab",
	    u), 0);
	ck_assert_int_ne(rt_parse_uuid("0123abcd-4567-89ab-cdef-0123456789a",
	    u), 0);
	ck_assert_int_ne(rt_parse_uuid("0123abcd-4567-89ab-cdef-0123456789ag",
	    u), 0);
	ck_assert_int_eq(rt_sni_match("*.example.com", "a.b.EXAMPLE.com."), 1);
	ck_assert_int_eq(rt_sni_match("*.example.com", "example.com"), 0);
	ck_assert_int_eq(rt_sni_match("*.example.com", "badexample.com"), 0);
	ck_assert_int_eq(rt_sni_match("play.example.com", "PLAY.example.com."),
	    1);
	ck_assert_int_eq(rt_sni_match("play.example.com", "play.example.co"),
	    0);
}
END_TEST

/* ---- matching ---- */

#define MATCH_POOLS							\
	"pools:\n"							\
	"  - {id: hit, backends: [{id: h1, host: 10.0.0.1}]}\n"		\
	"  - {id: miss, backends: [{id: m1, host: 10.0.0.2}]}\n"	\
	"default_pool: miss\n"

/* Route one session through a single-route config; 1 when it hit. */
static int
hits(const char *match, hyp_session_t *s)
{
	char		 y[2048];
	const char	*r;

	snprintf(y, sizeof(y), MATCH_POOLS "routes:\n  - name: t\n"
	    "    match: %s\n    pool: hit\n", match);
	setup_text(y, 0);
	r = route(s);
	ck_assert_msg(strcmp(r, "h1") == 0 || strcmp(r, "m1") == 0, "%s", r);
	teardown();
	return (strcmp(r, "h1") == 0);
}

/* A fresh session with SNI and ALPN. */
static hyp_session_t *
sess_sni(const char *sni, const char *alpn)
{
	hyp_session_t	*s = sess("192.0.2.7");

	if (sni != NULL)
		ck_assert_int_eq(hyp_session_set_sni(s, sni), 0);
	if (alpn != NULL)
		ck_assert_int_eq(hyp_session_set_alpn(s, alpn), 0);
	set_connect(s, HYP_CONNECT_V2, HYP_CLIENT_GAME, 1234, 20, NULL,
	    "Steve", NULL, 0);
	return (s);
}

/* Check one match against a session and release the session. */
static int
hits1(const char *match, hyp_session_t *s)
{
	int	h = hits(match, s);

	hyp_session_end(s, "test");
	return (h);
}

START_TEST(match_sni)
{
	const char	*m = "{sni: [play.example.com, '*.mini.example.com']}";

	ck_assert_int_eq(hits1(m, sess_sni("play.example.com", NULL)), 1);
	ck_assert_int_eq(hits1(m, sess_sni("PLAY.Example.Com", NULL)), 1);
	ck_assert_int_eq(hits1(m, sess_sni("play.example.com.", NULL)), 1);
	ck_assert_int_eq(hits1(m, sess_sni("a.mini.example.com", NULL)), 1);
	ck_assert_int_eq(hits1(m, sess_sni("x.y.MINI.example.com.", NULL)),
	    1);
	ck_assert_int_eq(hits1(m, sess_sni("mini.example.com", NULL)), 0);
	ck_assert_int_eq(hits1(m, sess_sni("other.example.com", NULL)), 0);
	ck_assert_int_eq(hits1(m, sess_sni(NULL, NULL)), 0);
	ck_assert_int_eq(hits1("{sni: [play.example.com.]}",
	    sess_sni("play.example.com", NULL)), 1);
}
END_TEST

START_TEST(match_connect_fields)
{
	hyp_session_t	*s;

	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V2, HYP_CLIENT_EDITOR, 7, 20, NULL, "A",
	    NULL, 0);
	ck_assert_int_eq(hits("{client_type: editor}", s), 1);
	ck_assert_int_eq(hits("{client_type: game}", s), 0);
	ck_assert_int_eq(hits("{protocol_crc: [1, 7, -3]}", s), 1);
	ck_assert_int_eq(hits("{protocol_crc: [8]}", s), 0);
	ck_assert_int_eq(hits("{build: {min: 20, max: 20}}", s), 1);
	ck_assert_int_eq(hits("{build: {min: 21}}", s), 0);
	ck_assert_int_eq(hits("{build: {max: 19}}", s), 0);
	ck_assert_int_eq(hits("{build: {max: 100}}", s), 1);
	/* All conditions must hold. */
	ck_assert_int_eq(hits("{client_type: editor, protocol_crc: [8]}", s),
	    0);
	hyp_session_end(s, "test");

	/* A negative CRC, as the wire's int32 allows. */
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V3, HYP_CLIENT_GAME, -3, 100, NULL, NULL,
	    NULL, 0);
	ck_assert_int_eq(hits("{protocol_crc: [1, 7, -3]}", s), 1);
	ck_assert_int_eq(hits("{username: [a]}", s), 0);
	hyp_session_end(s, "test");

	/* V1 has neither CRC nor build. */
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V1, HYP_CLIENT_GAME, 7, 20, NULL, "A",
	    NULL, 0);
	ck_assert_int_eq(hits("{protocol_crc: [7]}", s), 0);
	ck_assert_int_eq(hits("{build: {min: 0}}", s), 0);
	ck_assert_int_eq(hits("{client_type: game}", s), 1);
	hyp_session_end(s, "test");

	/* No Connect at all: connect conditions fail, SNI-free ones hold. */
	s = sess("192.0.2.7");
	ck_assert_int_eq(hits("{client_type: game}", s), 0);
	ck_assert_int_eq(hits("{cidr: [192.0.2.0/24]}", s), 1);
	hyp_session_end(s, "test");
}
END_TEST

START_TEST(match_alpn)
{
	const char	*m = "{alpn: [hytale/2]}";

	ck_assert_int_eq(hits1(m, sess_sni(NULL, "hytale/2")), 1);
	ck_assert_int_eq(hits1(m, sess_sni(NULL, "hytale/1")), 0);
	ck_assert_int_eq(hits1(m, sess_sni(NULL, NULL)), 0);
}
END_TEST

START_TEST(match_referral_source)
{
	const char	*m = "{referral_source: [hub.example.com, "
			    "'lobby.example.com:5521', '[2001:db8::1]:5520', "
			    "'2001:db8::2']}";
	hyp_session_t	*s;
	static const struct {
		const char	*host;
		uint16_t	 port;
		int		 hit;
	} c[] = {
		{ "hub.example.com", 1, 1 },
		{ "HUB.example.com.", 5520, 1 },
		{ "lobby.example.com", 5521, 1 },
		{ "lobby.example.com", 5520, 0 },
		{ "2001:db8::1", 5520, 1 },
		{ "2001:db8::1", 5521, 0 },
		{ "2001:db8::2", 9, 1 },
		{ "other.example.com", 5520, 0 },
	};
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s = sess("192.0.2.7");
		set_connect(s, HYP_CONNECT_V2, 0, 0, 0, NULL, "A", c[i].host,
		    c[i].port);
		ck_assert_msg(hits(m, s) == c[i].hit, "%s:%u", c[i].host,
		    c[i].port);
		hyp_session_end(s, "test");
	}
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, NULL, "A", NULL, 0);
	ck_assert_int_eq(hits(m, s), 0);
	hyp_session_end(s, "test");
}
END_TEST

START_TEST(match_uuid_username)
{
	static const uint8_t	u1[16] = { 0x01, 0x23, 0xab, 0xcd, 0x45, 0x67,
				    0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45,
				    0x67, 0x89, 0xab };
	uint8_t			u2[16];
	const char		*mu = "{uuid: ['0123ABCD-4567-89ab-cdef-"
				    "0123456789ab']}";
	const char		*mn = "{username: [Notch, jeb_]}";
	hyp_session_t		*s;

	memset(u2, 7, sizeof(u2));
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, u1, "NOTCH", NULL, 0);
	ck_assert_int_eq(hits(mu, s), 1);
	ck_assert_int_eq(hits(mn, s), 1);
	hyp_session_end(s, "test");
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, u2, "Notchy", NULL, 0);
	ck_assert_int_eq(hits(mu, s), 0);
	ck_assert_int_eq(hits(mn, s), 0);
	hyp_session_end(s, "test");
	/* V3: no uuid, no username. */
	s = sess("192.0.2.7");
	set_connect(s, HYP_CONNECT_V3, 0, 0, 0, NULL, NULL, NULL, 0);
	ck_assert_int_eq(hits(mu, s), 0);
	ck_assert_int_eq(hits(mn, s), 0);
	hyp_session_end(s, "test");
}
END_TEST

START_TEST(match_cidr)
{
	const char	*m = "{cidr: [10.1.0.0/16, 192.0.2.9, "
			    "'2001:db8:aa00::/40']}";

	ck_assert_int_eq(hits1(m, sess("10.1.200.3")), 1);
	ck_assert_int_eq(hits1(m, sess("10.2.0.1")), 0);
	ck_assert_int_eq(hits1(m, sess("192.0.2.9")), 1);
	ck_assert_int_eq(hits1(m, sess("192.0.2.8")), 0);
	ck_assert_int_eq(hits1(m, sess("::ffff:10.1.0.1")), 1);
	ck_assert_int_eq(hits1(m, sess("2001:db8:aaff::1")), 1);
	ck_assert_int_eq(hits1(m, sess("2001:db8:ab00::1")), 0);
	ck_assert_int_eq(hits1("{cidr: [0.0.0.0/0]}", sess("203.0.113.1")),
	    1);
	ck_assert_int_eq(hits1("{cidr: [0.0.0.0/0]}", sess("2001:db8::1")),
	    0);
	ck_assert_int_eq(hits1("{cidr: ['::/0']}", sess("2001:db8::1")), 1);
}
END_TEST

START_TEST(first_match_wins)
{
	hyp_session_t	*s;

	setup_text(
	    "pools:\n"
	    "  - {id: a, backends: [{id: a1, host: h}]}\n"
	    "  - {id: b, backends: [{id: b1, host: h}]}\n"
	    "  - {id: c, backends: [{id: c1, host: h}]}\n"
	    "routes:\n"
	    "  - {name: vip, match: {username: [vip]}, pool: a}\n"
	    "  - {name: banned, match: {cidr: [10.9.0.0/16]}, deny: Banned.}\n"
	    "  - {name: sni, match: {sni: ['*.example.com']}, pool: b}\n"
	    "  - {name: all, pool: c}\n", 0);
	s = sess("10.9.0.1");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, NULL, "VIP", NULL, 0);
	hyp_session_set_sni(s, "x.example.com");
	ck_assert_str_eq(route(s), "a1");
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s), "route=vip"));
	hyp_session_end(s, "test");

	s = sess("10.9.0.1");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, NULL, "bob", NULL, 0);
	hyp_session_set_sni(s, "x.example.com");
	ck_assert_str_eq(route(s), "DENY");
	ck_assert_str_eq(hyp_session_deny_message(s), "Banned.");
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s), "route=banned"));
	hyp_session_end(s, "test");

	s = sess("10.8.0.1");
	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, NULL, "bob", NULL, 0);
	hyp_session_set_sni(s, "x.example.com");
	ck_assert_str_eq(route(s), "b1");
	hyp_session_end(s, "test");

	ck_assert_str_eq(route_addr("10.8.0.1"), "c1");
	ck_assert_double_eq(hyp_series_value(R.m.nopool[RT_R_DENY]), 1);
	ck_assert_double_eq(hyp_series_value(R.cur->pools[2].m_dec[RT_R_REFER]),
	    1);
	teardown();
}
END_TEST

START_TEST(no_route)
{
	hyp_session_t	*s;

	setup_text("pools:\n  - {id: a, backends: [{id: a1, host: h}]}\n"
	    "routes:\n  - {match: {sni: [x.com]}, pool: a}\n", 0);
	s = sess("10.0.0.1");
	ck_assert_int_eq(rt_route_session(&R, s), HYP_CONTINUE);
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_NONE);
	ck_assert_str_eq(hyp_session_reason(s), "route=none");
	hyp_session_end(s, "test");
	teardown();
}
END_TEST

START_TEST(decision_reason_mode)
{
	hyp_session_t	*s;

	setup_text("pools:\n"
	    "  - {id: game, mode: full, backends: [{id: g1, host: 10.0.0.5, "
	    "port: 5600, max_players: 50}]}\n"
	    "default_pool: game\n", 0);
	B("g1")->players = 12;
	s = sess("10.0.0.1");
	ck_assert_str_eq(route(s), "g1");
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_PROXY);
	ck_assert_str_eq(hyp_session_reason(s), "route=default pool=game "
	    "strategy=least_loaded backend=g1 load=12/50");
	ck_assert_str_eq(hyp_backend_host(hyp_session_backend(s)), "10.0.0.5");
	ck_assert_uint_eq(hyp_backend_port(hyp_session_backend(s)), 5600);
	ck_assert_str_eq(hyp_backend_pool(hyp_session_backend(s)), "game");
	ck_assert_uint_eq(B("g1")->reserved, 1);
	ck_assert_double_eq(hyp_series_value(B("g1")->m_reserved), 1);
	ck_assert_double_eq(hyp_series_value(R.cur->pools[0].m_dec[RT_R_PROXY]),
	    1);
	hyp_session_end(s, "test");
	teardown();
}
END_TEST

/* ---- capacity, fallback, drain ---- */

#define FB_CONF								\
	"pools:\n"							\
	"  - id: lobby\n    fallback: [overflow]\n"			\
	"    backends: [{id: l1, host: h, max_players: 2}]\n"		\
	"  - id: overflow\n    fallback: [limbo]\n"			\
	"    backends: [{id: o1, host: h, max_players: 1}]\n"		\
	"  - id: limbo\n    backends: [{id: z1, host: h, max_players: 1}]\n" \
	"routes:\n  - {name: main, pool: lobby}\n"			\
	"capacity: {reservation_ttl: 10s}\n"

START_TEST(pool_full_fallback)
{
	hyp_session_t	*s;

	setup_text(FB_CONF, 0);
	ck_assert_str_eq(route_addr("10.0.0.1"), "l1");
	ck_assert_str_eq(route_addr("10.0.0.1"), "l1");
	s = sess("10.0.0.1");
	ck_assert_str_eq(route(s), "o1");
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s),
	    "fallback=lobby>overflow"));
	hyp_session_end(s, "test");
	ck_assert_str_eq(route_addr("10.0.0.1"), "z1");
	s = sess("10.0.0.1");
	ck_assert_str_eq(route(s), "DENY");
	ck_assert_str_eq(hyp_session_deny_message(s), RT_DEF_FULL_MSG);
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s),
	    "fallback=lobby>overflow>limbo result=full"));
	hyp_session_end(s, "test");
	ck_assert_double_eq(hyp_series_value(
	    R.cur->pools[0].m_dec[RT_R_FALLBACK]), 2);
	ck_assert_double_eq(hyp_series_value(R.cur->pools[0].m_dec[RT_R_DENY]),
	    1);
	/* Reservations expire: the lobby takes players again. */
	fake_now += 10 * 1000000ULL;
	ck_assert_str_eq(route_addr("10.0.0.1"), "l1");
	/* Reported players count too. */
	ck_assert_int_eq(rt_service_v1.report_players(&R, "l1", 1), 0);
	ck_assert_str_eq(route_addr("10.0.0.1"), "o1");
	teardown();
}
END_TEST

START_TEST(all_down_deny)
{
	hyp_session_t	*s;
	size_t		 i;

	setup_text(FB_CONF "health: {fall: 1}\n", 1);
	for (i = 0; i < R.cur->nb; i++)
		rt_health_result(&R, R.cur->all[i], 0, 1, "timeout", fake_now);
	s = sess("10.0.0.1");
	ck_assert_str_eq(route(s), "DENY");
	ck_assert_str_eq(hyp_session_deny_message(s), RT_DEF_UNAVAIL_MSG);
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s),
	    "result=unavailable"));
	hyp_session_end(s, "test");
	/* One full and the rest down: the full message. */
	rt_health_result(&R, B("l1"), 1, 0, NULL, fake_now);
	rt_health_result(&R, B("l1"), 1, 0, NULL, fake_now);
	ck_assert_int_eq(B("l1")->state, HYP_BACKEND_UP);
	ck_assert_int_eq(rt_service_v1.report_players(&R, "l1", 2), 0);
	s = sess("10.0.0.1");
	ck_assert_str_eq(route(s), "DENY");
	ck_assert_str_eq(hyp_session_deny_message(s), RT_DEF_FULL_MSG);
	hyp_session_end(s, "test");
	teardown();
}
END_TEST

START_TEST(drain)
{
	setup_text("pools:\n  - id: p\n    strategy: round_robin\n"
	    "    backends:\n      - {id: a, host: h}\n"
	    "      - {id: b, host: h, drain: true}\n      - {id: c, host: h}\n"
	    "default_pool: p\n", 0);
	ck_assert_int_eq(B("b")->state, HYP_BACKEND_DRAINING);
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_str_eq(route_addr("10.0.0.1"), "c");
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_int_eq(rt_service_v1.drain(&R, "a", 1), 0);
	ck_assert_int_eq(B("a")->state, HYP_BACKEND_DRAINING);
	ck_assert_str_eq(route_addr("10.0.0.1"), "c");
	ck_assert_str_eq(route_addr("10.0.0.1"), "c");
	ck_assert_int_eq(rt_service_v1.drain(&R, "c", 1), 0);
	ck_assert_str_eq(route_addr("10.0.0.1"), "DENY");
	ck_assert_int_eq(rt_service_v1.drain(&R, "a", 0), 0);
	ck_assert_int_eq(B("a")->state, HYP_BACKEND_UP);
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	/* Lifting a run-time drain leaves a configured one. */
	ck_assert_int_eq(rt_service_v1.drain(&R, "b", 0), 0);
	ck_assert_int_eq(B("b")->state, HYP_BACKEND_DRAINING);
	ck_assert_int_eq(rt_service_v1.drain(&R, "nope", 1), HYP_ENOENT);
	teardown();
}
END_TEST

START_TEST(reservations)
{
	struct rt_backend	*b;
	int			 i;

	b = rt_backend_new("x", "h", 1);
	ck_assert_ptr_nonnull(b);
	rt_resv_add(b, 1000000, 1000);
	rt_resv_add(b, 1500000, 1000);
	ck_assert_uint_eq(b->reserved, 2);
	rt_resv_expire(b, 2000000);
	ck_assert_uint_eq(b->reserved, 1);
	rt_resv_expire(b, 2500000);
	ck_assert_uint_eq(b->reserved, 0);
	/* 10 000 referrals within one TTL: counted exactly, slots bounded. */
	for (i = 0; i < 10000; i++)
		rt_resv_add(b, 10000000 + (uint64_t)i * 100, 30000);
	ck_assert_uint_eq(b->reserved, 10000);
	ck_assert_uint_le(b->rcount, RT_RESV_SLOTS);
	rt_resv_expire(b, 10000000 + 30000000 - 1);
	ck_assert_uint_eq(b->reserved, 10000);
	rt_resv_expire(b, 10000000 + 30000000 + 10000 * 100 +
	    30000000 / RT_RESV_GRAIN);
	ck_assert_uint_eq(b->reserved, 0);
	ck_assert_uint_eq(b->rcount, 0);
	/* A TTL of 0 reserves nothing. */
	rt_resv_add(b, 1, 0);
	ck_assert_uint_eq(b->reserved, 0);
	rt_backend_free(NULL, b);
}
END_TEST

START_TEST(reservations_tick)
{
	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}]}\n"
	    "default_pool: p\ncapacity: {reservation_ttl: 2s}\n", 0);
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_double_eq(hyp_series_value(B("a")->m_reserved), 2);
	fake_now += 2000001;
	rt_tick(&R, fake_now);
	ck_assert_uint_eq(B("a")->reserved, 0);
	ck_assert_double_eq(hyp_series_value(B("a")->m_reserved), 0);
	teardown();
}
END_TEST

/* ---- strategies ---- */

/* Route n sessions from addresses of a /16 and count per backend a, b, c. */
static void
distribute(int n, int cnt[3])
{
	char		 addr[32];
	const char	*r;
	int		 i;

	cnt[0] = cnt[1] = cnt[2] = 0;
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		r = route_addr(addr);
		ck_assert_msg(strlen(r) == 1 && r[0] >= 'a' && r[0] <= 'c',
		    "%s", r);
		cnt[r[0] - 'a']++;
	}
}

#define W_CONF(strategy)						\
	"pools:\n  - id: p\n    strategy: " strategy "\n"		\
	"    backends:\n      - {id: a, host: h, weight: 5}\n"		\
	"      - {id: b, host: h, weight: 3}\n"				\
	"      - {id: c, host: h, weight: 2}\n"				\
	"default_pool: p\ncapacity: {reservation_ttl: 0s}\n"

START_TEST(weighted_exact)
{
	char		 got[11];
	int		 cnt[3], i;

	setup_text(W_CONF("weighted"), 0);
	distribute(10000, cnt);
	/* Smooth WRR is exact over whole cycles: 5000/3000/2000. */
	ck_assert_int_eq(cnt[0], 5000);
	ck_assert_int_eq(cnt[1], 3000);
	ck_assert_int_eq(cnt[2], 2000);
	/* And smooth: one cycle of 10 interleaves (no run of 3). */
	for (i = 0; i < 10; i++)
		got[i] = route_addr("10.0.0.1")[0];
	got[10] = '\0';
	ck_assert_ptr_null(strstr(got, "aaa"));
	ck_assert_ptr_nonnull(strchr(got, 'c'));
	printf("weighted 5:3:2 over 10000: %d/%d/%d (error 0.00%%)\n", cnt[0],
	    cnt[1], cnt[2]);
	teardown();
}
END_TEST

START_TEST(random_weighted)
{
	int	cnt[3];
	double	e[3] = { 0.5, 0.3, 0.2 }, d, worst = 0;
	int	i;

	/*
	 * Seeded generator: reproducible.  Even unseeded, n = 10000 gives a
	 * standard deviation of at most sqrt(n/4) = 50 (0.5 %), so ±3 % is
	 * six sigma.
	 */
	setup_text(W_CONF("random"), 0);
	distribute(10000, cnt);
	for (i = 0; i < 3; i++) {
		d = fabs(cnt[i] / 10000.0 - e[i]);
		if (d > worst)
			worst = d;
		ck_assert_msg(d <= 0.03, "backend %d: %d", i, cnt[i]);
	}
	printf("random 5:3:2 over 10000: %d/%d/%d (worst error %.2f%%)\n",
	    cnt[0], cnt[1], cnt[2], worst * 100);
	teardown();
}
END_TEST

START_TEST(least_loaded_and_p2c)
{
	int	cnt[3];

	setup_text("pools:\n  - id: p\n    strategy: least_loaded\n"
	    "    backends:\n      - {id: a, host: h, max_players: 100}\n"
	    "      - {id: b, host: h, max_players: 10, weight: 2}\n"
	    "      - {id: c, host: h}\n"
	    "default_pool: p\ncapacity: {reservation_ttl: 0s}\n", 0);
	/* Ties (all 0) go to the heavier backend, then the first. */
	ck_assert_str_eq(route_addr("10.0.0.1"), "b");
	rt_service_v1.report_players(&R, "a", 10);	/* 0.10 */
	rt_service_v1.report_players(&R, "b", 2);	/* 0.20 */
	rt_service_v1.report_players(&R, "c", 1);	/* 1 raw */
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	rt_service_v1.report_players(&R, "a", 30);	/* 0.30 */
	ck_assert_str_eq(route_addr("10.0.0.1"), "b");
	teardown();

	/* p2c: the least loaded of two distinct random picks. */
	setup_text("pools:\n  - id: p\n    strategy: p2c\n"
	    "    backends:\n      - {id: a, host: h, max_players: 100}\n"
	    "      - {id: b, host: h, max_players: 100}\n"
	    "      - {id: c, host: h, max_players: 100}\n"
	    "default_pool: p\ncapacity: {reservation_ttl: 0s}\n", 0);
	rt_service_v1.report_players(&R, "a", 0);
	rt_service_v1.report_players(&R, "b", 50);
	rt_service_v1.report_players(&R, "c", 99);
	distribute(9000, cnt);
	/* The most loaded never wins a pair; a wins 2 pairs of 3. */
	ck_assert_int_eq(cnt[2], 0);
	ck_assert_msg(fabs(cnt[0] / 9000.0 - 2.0 / 3) <= 0.03, "%d", cnt[0]);
	printf("p2c loads 0/50/99 over 9000: %d/%d/%d (a expected 66.7%%)\n",
	    cnt[0], cnt[1], cnt[2]);
	teardown();
}
END_TEST

START_TEST(round_robin_skip)
{
	int	cnt[3];

	setup_text(W_CONF("round_robin"), 1);
	distribute(300, cnt);
	ck_assert_int_eq(cnt[0], 100);
	ck_assert_int_eq(cnt[1], 100);
	ck_assert_int_eq(cnt[2], 100);
	teardown();
}
END_TEST

/* Backend id chosen for a uuid among the table's backends (consistent). */
static int
pick_uuid(const uint8_t *u)
{
	hyp_session_t	*s = sess("10.0.0.1");
	const char	*r;
	int		 id;

	set_connect(s, HYP_CONNECT_V2, 0, 0, 0, u, "A", NULL, 0);
	r = route(s);
	id = atoi(r + 1);
	hyp_session_end(s, "test");
	return (id);
}

START_TEST(consistent_moves)
{
	static uint8_t	u[10000][16];
	static int	before[10000];
	char		y[1024];
	double		moved, share_change;
	int		i, cnt[5] = { 0 }, nmoved = 0, wrong = 0;

	snprintf(y, sizeof(y), "pools:\n  - id: p\n    strategy: consistent\n"
	    "    backends:\n"
	    "      - {id: b0, host: h}\n      - {id: b1, host: h}\n"
	    "      - {id: b2, host: h}\n      - {id: b3, host: h}\n"
	    "      - {id: b4, host: h}\n"
	    "default_pool: p\ncapacity: {reservation_ttl: 0s}\n");
	setup_text(y, 0);
	for (i = 0; i < 10000; i++) {
		uint64_t	x = t_next(), y2 = t_next();

		memcpy(u[i], &x, 8);
		memcpy(u[i] + 8, &y2, 8);
		before[i] = pick_uuid(u[i]);
		cnt[before[i]]++;
		/* Stable: the same uuid lands on the same backend. */
		ck_assert_int_eq(pick_uuid(u[i]), before[i]);
	}
	for (i = 0; i < 5; i++)
		ck_assert_msg(fabs(cnt[i] / 10000.0 - 0.2) <= 0.03, "%d: %d", i,
		    cnt[i]);
	/* b2's weight 1 -> 2: its share goes from 1/5 to 2/6. */
	B("b2")->weight = 2;
	for (i = 0; i < 10000; i++) {
		int	now = pick_uuid(u[i]);

		if (now != before[i]) {
			nmoved++;
			if (now != 2)
				wrong++;
		}
	}
	moved = nmoved / 10000.0;
	share_change = 2.0 / 6 - 1.0 / 5;
	printf("consistent: weight 1->2 of 1 of 5 moved %.2f%% of 10000 uuids "
	    "(share change %.2f%%), %d moved elsewhere\n", moved * 100,
	    share_change * 100, wrong);
	ck_assert_int_eq(wrong, 0);
	ck_assert_msg(moved <= share_change + 0.02, "moved %.4f", moved);
	/* Taking b2 out moves only b2's keys. */
	B("b2")->drain_rt = 1;
	for (i = 0, wrong = 0; i < 2000; i++) {
		if (before[i] != 2 && pick_uuid(u[i]) != before[i])
			wrong++;
	}
	ck_assert_int_eq(wrong, 0);
	teardown();
}
END_TEST

START_TEST(rendezvous_score)
{
	uint8_t	k[16] = { 1 };
	double	s1 = rt_rendezvous_score(k, 16, "x", 1);
	double	s2 = rt_rendezvous_score(k, 16, "x", 2);

	ck_assert(s1 > 0);
	ck_assert(fabs(s2 - 2 * s1) < 1e-9 * s2);
	ck_assert(rt_rendezvous_score(k, 16, "y", 1) != s1);
}
END_TEST

START_TEST(ip_hash_stable)
{
	char		 first[RT_ID_MAX + 1], addr[64];
	hyp_session_t	*s;
	int		 i, seen[5] = { 0 }, distinct = 0;

	setup_text("pools:\n  - id: p\n    strategy: ip_hash\n    backends:\n"
	    "      - {id: b0, host: h}\n      - {id: b1, host: h}\n"
	    "      - {id: b2, host: h}\n      - {id: b3, host: h}\n"
	    "      - {id: b4, host: h}\n"
	    "  - id: q\n    strategy: consistent\n    backends:\n"
	    "      - {id: q0, host: h}\n      - {id: q1, host: h}\n"
	    "routes:\n  - {match: {sni: [q]}, pool: q}\n"
	    "default_pool: p\n", 0);
	snprintf(first, sizeof(first), "%s", route_addr("198.51.100.7"));
	for (i = 0; i < 100; i++)
		ck_assert_str_eq(route_addr("198.51.100.7"), first);
	/* IPv6: the /64 decides. */
	snprintf(first, sizeof(first), "%s", route_addr("2001:db8:1:2::1"));
	for (i = 0; i < 50; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:1:2:%x::%x", i, i + 7);
		ck_assert_str_eq(route_addr(addr), first);
	}
	for (i = 0; i < 200; i++) {
		snprintf(addr, sizeof(addr), "203.0.%d.%d", i / 50, i);
		seen[atoi(route_addr(addr) + 1)]++;
	}
	for (i = 0; i < 5; i++)
		distinct += seen[i] > 0;
	ck_assert_int_ge(distinct, 4);
	/* consistent without a uuid (V3) hashes the address. */
	s = sess("198.51.100.7");
	hyp_session_set_sni(s, "q");
	set_connect(s, HYP_CONNECT_V3, 0, 0, 0, NULL, NULL, NULL, 0);
	route(s);
	ck_assert_ptr_nonnull(strstr(hyp_session_reason(s),
	    "strategy=consistent(ip)"));
	hyp_session_end(s, "test");
	teardown();
}
END_TEST

/* ---- health and circuit breaker ---- */

/* Run stderr into a file during fn-like blocks; returns its contents. */
static char	logbuf[8192];
static int	saved_fd = -1;
static char	logpath[] = "/tmp/check_router_log_XXXXXX";

/* Start capturing stderr. */
static void
capture_begin(void)
{
	int	fd = mkstemp(logpath);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_fd = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Stop capturing; logbuf holds what was written. */
static void
capture_end(void)
{
	FILE	*fp;
	size_t	 n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	fp = fopen(logpath, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, fp);
	logbuf[n] = '\0';
	fclose(fp);
	unlink(logpath);
}

START_TEST(health_rise_fall)
{
	struct rt_backend	*b;

	setup_text("pools:\n  - {id: lobby, backends: [{id: lobby-1, host: h}, "
	    "{id: lobby-2, host: h}]}\ndefault_pool: lobby\n"
	    "health: {interval: 100ms, timeout: 100ms, rise: 2, fall: 3}\n", 1);
	b = B("lobby-1");
	/* Due now: one probe per backend, none twice while in flight. */
	rt_tick(&R, fake_now);
	ck_assert_int_eq(probes_started, 2);
	ck_assert_int_eq(b->probing, 1);
	rt_tick(&R, fake_now + 200000);
	ck_assert_int_eq(probes_started, 2);
	capture_begin();
	rt_health_result(&R, b, 0, 1, "timeout", fake_now);
	rt_health_result(&R, b, 0, 1, "timeout", fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	rt_health_result(&R, b, 0, 1, "timeout", fake_now);
	capture_end();
	ck_assert_int_eq(b->state, HYP_BACKEND_DOWN);
	ck_assert_msg(strstr(logbuf, "backend lobby-1 down: 3 probes failed "
	    "(last: timeout)") != NULL, "%s", logbuf);
	ck_assert_double_eq(hyp_series_value(b->m_up), 0);
	ck_assert_double_eq(hyp_series_value(R.m.probe_timeout), 3);
	/* Down backends get no players. */
	ck_assert_str_eq(route_addr("10.0.0.1"), "lobby-2");
	/* A success, a failure, then two successes: up on the second. */
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	rt_health_result(&R, b, 0, 0, "refused", fake_now);
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_DOWN);
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	ck_assert_double_eq(hyp_series_value(b->m_up), 1);
	{
		const char	*v[2] = { "lobby-1", "down" };

		ck_assert_double_eq(hyp_series_value(hyp_metric_series(
		    R.m.changes, v)), 1);
	}
	/* Probes every interval; a busy connector retries next tick. */
	probes_started = 0;
	b->probing = 0;
	B("lobby-2")->probing = 0;
	fake_now += 100000;
	probe_rc = HYP_ENOSPC;
	rt_tick(&R, fake_now);
	ck_assert_int_eq(b->probing, 0);
	probe_rc = 0;
	rt_tick(&R, fake_now + 25000);
	ck_assert_int_eq(b->probing, 1);
	ck_assert_int_eq(probes_started, 2);
	/* A launcher error counts as a failed probe. */
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	probe_rc = HYP_EINVAL;
	rt_tick(&R, fake_now + 200000);
	ck_assert_uint_eq(b->h_fail, 1);
	probe_rc = 0;
	teardown();
}
END_TEST

START_TEST(health_timing)
{
	struct rt_backend	*b;
	uint64_t		 t0 = fake_now, t;
	int			 n = 0;

	/* A dead backend is down within interval x fall (+ timeout). */
	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}]}\n"
	    "health: {interval: 100ms, timeout: 50ms, fall: 3, rise: 2}\n", 1);
	b = B("a");
	for (t = t0; t <= t0 + 400000 && b->state != HYP_BACKEND_DOWN;
	    t += 20000) {
		rt_tick(&R, t);
		if (b->probing) {
			n++;
			rt_health_result(&R, b, 0, 1, "timeout", t + 50000);
		}
	}
	ck_assert_int_eq(b->state, HYP_BACKEND_DOWN);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_le(t - t0, 3 * 100000 + 50000);
	teardown();
}
END_TEST

START_TEST(circuit_breaker)
{
	struct rt_backend	*b;

	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}, "
	    "{id: b, host: h}]}\ndefault_pool: p\n"
	    "capacity: {reservation_ttl: 1s}\n"
	    "circuit: {failures: 3, open_for: 2s}\n", 1);
	b = B("a");
	ck_assert_int_eq(rt_service_v1.report_failure(&R, "a"), 0);
	ck_assert_int_eq(rt_service_v1.report_failure(&R, "a"), 0);
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	/* A good probe resets the consecutive count. */
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	rt_service_v1.report_failure(&R, "a");
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(b->state, HYP_BACKEND_OPEN);
	ck_assert_double_eq(hyp_series_value(b->m_up), 0);
	ck_assert_int_eq(rt_eligible(&R, b, fake_now, NULL), 0);
	/* A good probe while OPEN does not close it early. */
	rt_health_result(&R, b, 1, 0, NULL, fake_now + 1000000);
	ck_assert_int_eq(b->state, HYP_BACKEND_OPEN);
	/* After open_for: HALF_OPEN, one trial player. */
	fake_now += 2000000;
	rt_tick(&R, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_HALF_OPEN);
	B("b")->drain_rt = 1;
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_str_eq(route_addr("10.0.0.1"), "DENY");
	/* The trial fails: OPEN again. */
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(b->state, HYP_BACKEND_OPEN);
	fake_now += 2000000;
	rt_tick(&R, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_HALF_OPEN);
	/* A good probe while HALF_OPEN closes it. */
	rt_health_result(&R, b, 1, 0, NULL, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_int_eq(rt_service_v1.report_failure(&R, "x"), HYP_ENOENT);
	teardown();
}
END_TEST

START_TEST(circuit_no_health)
{
	struct rt_backend	*b;

	/* Without probes a trial that draws no failure closes the circuit. */
	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}]}\n"
	    "default_pool: p\ncapacity: {reservation_ttl: 1s}\n"
	    "circuit: {failures: 1, open_for: 1s}\n", 0);
	b = B("a");
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(b->state, HYP_BACKEND_OPEN);
	fake_now += 1000000;
	ck_assert_str_eq(route_addr("10.0.0.1"), "a");
	ck_assert_int_eq(b->state, HYP_BACKEND_HALF_OPEN);
	fake_now += 1000000;
	rt_tick(&R, fake_now);
	ck_assert_int_eq(b->state, HYP_BACKEND_UP);
	/* Failures far apart are not consecutive. */
	teardown();
	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}]}\n"
	    "circuit: {failures: 2, open_for: 1s}\n", 0);
	rt_service_v1.report_failure(&R, "a");
	fake_now += 5000000;
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(B("a")->state, HYP_BACKEND_UP);
	rt_service_v1.report_failure(&R, "a");
	ck_assert_int_eq(B("a")->state, HYP_BACKEND_OPEN);
	teardown();
}
END_TEST

/* ---- reload ---- */

/* Prepare and commit text as the new configuration. */
static int
reload_text(const char *text, int commit)
{
	struct rt_conf	*c = NULL;
	char		 err[512];
	int		 rc;

	ck_assert_int_eq(load_text(text, &c), 0);
	rc = rt_reload_prepare(&R, c, err, sizeof(err));
	/* The table copies what it needs: the host may free the conf. */
	hypd_plugin_conf_free(&rt_conf_schema, c);
	if (rc != 0)
		return (rc);
	if (commit)
		rt_reload_commit(&R);
	else
		rt_reload_abort(&R);
	return (0);
}

START_TEST(reload_carry)
{
	struct hyp_router_backend	 d;
	void				*probe_a;

	setup_text("pools:\n  - id: p\n    backends:\n"
	    "      - {id: a, host: h1, max_players: 10}\n"
	    "      - {id: b, host: h2}\n      - {id: c, host: h3}\n"
	    "  - id: q\n"
	    "default_pool: p\nhealth: {fall: 1}\n", 1);
	rt_service_v1.report_players(&R, "a", 4);
	rt_resv_add(B("a"), fake_now, 30000);
	rt_health_result(&R, B("b"), 0, 1, "timeout", fake_now);
	rt_service_v1.report_players(&R, "b", 7);
	ck_assert_int_eq(B("b")->state, HYP_BACKEND_DOWN);
	rt_service_v1.drain(&R, "a", 1);
	memset(&d, 0, sizeof(d));
	d.id = "dyn";
	d.pool = "q";
	d.host = "h9";
	d.port = 5530;
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	rt_service_v1.report_players(&R, "dyn", 3);
	d.id = "dyn2";
	d.pool = "p";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	/* A probe in flight for a moves with it; c's is cancelled. */
	rt_tick(&R, fake_now);
	probe_a = B("a")->probe = (void *)&d;
	B("c")->probe = (void *)&d;
	probes_cancelled = 0;

	/* A bad reload changes nothing. */
	ck_assert_int_ne(reload_text("pools: [{id: p, strategy: x}]\n", 1), 0);
	ck_assert_ptr_null(R.prep);
	ck_assert_uint_eq(B("a")->players, 4);
	/* An aborted one neither. */
	ck_assert_int_eq(reload_text("pools: [{id: z}]\n", 0), 0);
	ck_assert_uint_eq(R.cur->nb, 5);

	ck_assert_int_eq(reload_text("pools:\n  - id: p\n    backends:\n"
	    "      - {id: a, host: h1, max_players: 20, weight: 3}\n"
	    "      - {id: b, host: h2-new}\n      - {id: n, host: h4}\n"
	    "  - id: q\n"
	    "default_pool: p\nhealth: {fall: 1}\n", 1), 0);
	/* a unchanged address: players, reservation, drain, probe kept. */
	ck_assert_uint_eq(B("a")->players, 4);
	ck_assert_uint_eq(B("a")->reserved, 1);
	ck_assert_uint_eq(B("a")->max_players, 20);
	ck_assert_uint_eq(B("a")->weight, 3);
	ck_assert_int_eq(B("a")->state, HYP_BACKEND_DRAINING);
	ck_assert_ptr_eq(B("a")->probe, probe_a);
	ck_assert_int_eq(B("a")->probing, 1);
	/* b moved: its state is reset. */
	ck_assert_int_eq(B("b")->state, HYP_BACKEND_UP);
	ck_assert_uint_eq(B("b")->players, 0);
	/* c removed (its probe cancelled), n new. */
	ck_assert_ptr_null(rt_find(R.cur, "c"));
	/* b's old probe (address changed) and c's (removed) are cancelled. */
	ck_assert_int_eq(probes_cancelled, 2);
	ck_assert_int_eq(B("n")->state, HYP_BACKEND_UP);
	/* Run-time backends stay, with their state. */
	ck_assert_int_eq(B("dyn")->dynamic, 1);
	ck_assert_uint_eq(B("dyn")->players, 3);
	ck_assert_str_eq(B("dyn")->pool->id, "q");
	ck_assert_ptr_nonnull(B("dyn2"));
	ck_assert_uint_eq(R.cur->nb, 5);
	/* A reload without pool q drops dyn. */
	ck_assert_int_eq(reload_text("pools:\n  - id: p\n    backends:\n"
	    "      - {id: a, host: h1}\n", 1), 0);
	ck_assert_ptr_null(rt_find(R.cur, "dyn"));
	ck_assert_ptr_nonnull(rt_find(R.cur, "dyn2"));
	B("a")->probe = NULL;
	B("a")->probing = 0;
	teardown();
}
END_TEST

/* ---- the service ---- */

struct listed {
	int	n;
	char	ids[8][RT_ID_MAX + 1];
	int	state[8];
	int	dynamic[8];
	uint32_t players[8];
	uint32_t reserved[8];
	size_t	ntags[8];
};

/* list() callback. */
static void
list_cb(void *arg, const struct hyp_router_backend_info *i)
{
	struct listed	*l = arg;

	if (l->n < 8) {
		snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", i->b.id);
		l->state[l->n] = i->state;
		l->dynamic[l->n] = i->dynamic;
		l->players[l->n] = i->players;
		l->reserved[l->n] = i->reserved;
		l->ntags[l->n] = i->b.ntags;
	}
	l->n++;
}

START_TEST(service_ops)
{
	struct hyp_router_backend	 d;
	struct listed			 l;
	const char			*tags[] = { "eu", "new" };
	char				 id[16];
	int				 i;

	setup_text("pools:\n  - {id: p, backends: [{id: a, host: h}]}\n"
	    "  - {id: q}\ndefault_pool: q\n", 1);
	memset(&d, 0, sizeof(d));
	d.id = "x1";
	d.pool = "q";
	d.host = "10.0.0.9";
	d.port = 5600;
	d.max_players = 5;
	d.tags = tags;
	d.ntags = 2;
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);	/* idempotent */
	ck_assert_uint_eq(R.cur->nb, 2);
	ck_assert_uint_eq(B("x1")->weight, 1);
	ck_assert_int_eq(B("x1")->dynamic, 1);
	ck_assert_str_eq(route_addr("10.0.0.1"), "x1");
	ck_assert_uint_eq(B("x1")->reserved, 1);
	/* Update: weight and capacity change, state stays. */
	d.weight = 4;
	rt_service_v1.report_players(&R, "x1", 2);
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	ck_assert_uint_eq(B("x1")->weight, 4);
	ck_assert_uint_eq(B("x1")->players, 2);
	/* New address: state reset, session objects renewed. */
	d.host = "10.0.0.10";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	ck_assert_uint_eq(B("x1")->players, 0);
	ck_assert_str_eq(hyp_backend_host(B("x1")->hb), "10.0.0.10");
	/* Move to another pool. */
	d.pool = "p";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	ck_assert_uint_eq(R.cur->pools[0].nb, 2);
	ck_assert_uint_eq(R.cur->pools[1].nb, 0);
	ck_assert_str_eq(hyp_backend_pool(B("x1")->hb), "p");
	ck_assert_str_eq(route_addr("10.0.0.1"), "DENY");	/* q is empty */
	/* Bad input. */
	d.pool = "nope";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_ENOENT);
	d.pool = "p";
	d.id = "bad id";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_EINVAL);
	d.id = "y";
	d.port = 0;
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_EINVAL);
	d.port = 1;
	d.host = "has space";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_EINVAL);
	d.host = "h";
	d.ntags = RT_MAX_TAGS + 1;
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_EINVAL);
	d.ntags = 0;
	d.id = "a";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_EEXIST);
	ck_assert_int_eq(rt_service_v1.upsert(&R, NULL), HYP_EINVAL);
	/* list: pools in order, with state and tags. */
	rt_service_v1.drain(&R, "a", 1);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(rt_service_v1.list(&R, list_cb, &l), 2);
	ck_assert_str_eq(l.ids[0], "a");
	ck_assert_int_eq(l.state[0], HYP_BACKEND_DRAINING);
	ck_assert_int_eq(l.dynamic[0], 0);
	ck_assert_str_eq(l.ids[1], "x1");
	ck_assert_int_eq(l.dynamic[1], 1);
	ck_assert_uint_eq(l.ntags[1], 2);
	/* remove. */
	ck_assert_int_eq(rt_service_v1.remove(&R, "x1"), 0);
	ck_assert_int_eq(rt_service_v1.remove(&R, "x1"), HYP_ENOENT);
	ck_assert_int_eq(rt_service_v1.report_players(&R, "x1", 1),
	    HYP_ENOENT);
	ck_assert_uint_eq(R.cur->nb, 1);
	ck_assert_uint_eq(R.cur->pools[0].nb, 1);
	/* The bound: 1024 backends in all. */
	d.pool = "q";
	d.host = "h";
	for (i = 0; i < RT_MAX_BACKENDS - 1; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		d.id = id;
		ck_assert_int_eq(rt_service_v1.upsert(&R, &d), 0);
	}
	d.id = "one-too-many";
	ck_assert_int_eq(rt_service_v1.upsert(&R, &d), HYP_ENOSPC);
	teardown();
}
END_TEST

/* The suite. */
static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc;

	tc = tcase_create("conf");
	tcase_add_test(tc, conf_defaults);
	tcase_add_test(tc, conf_full);
	tcase_add_loop_test(tc, conf_bad, 0,
	    (int)(sizeof(bad_confs) / sizeof(bad_confs[0])));
	tcase_add_test(tc, conf_limits);
	tcase_add_test(tc, parsers);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, match_sni);
	tcase_add_test(tc, match_connect_fields);
	tcase_add_test(tc, match_alpn);
	tcase_add_test(tc, match_referral_source);
	tcase_add_test(tc, match_uuid_username);
	tcase_add_test(tc, match_cidr);
	tcase_add_test(tc, first_match_wins);
	tcase_add_test(tc, no_route);
	tcase_add_test(tc, decision_reason_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("capacity");
	tcase_add_test(tc, pool_full_fallback);
	tcase_add_test(tc, all_down_deny);
	tcase_add_test(tc, drain);
	tcase_add_test(tc, reservations);
	tcase_add_test(tc, reservations_tick);
	suite_add_tcase(s, tc);

	tc = tcase_create("strategy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, weighted_exact);
	tcase_add_test(tc, random_weighted);
	tcase_add_test(tc, least_loaded_and_p2c);
	tcase_add_test(tc, round_robin_skip);
	tcase_add_test(tc, consistent_moves);
	tcase_add_test(tc, rendezvous_score);
	tcase_add_test(tc, ip_hash_stable);
	suite_add_tcase(s, tc);

	tc = tcase_create("health");
	tcase_add_test(tc, health_rise_fall);
	tcase_add_test(tc, health_timing);
	tcase_add_test(tc, circuit_breaker);
	tcase_add_test(tc, circuit_no_health);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_add_test(tc, reload_carry);
	suite_add_tcase(s, tc);

	tc = tcase_create("service");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, service_ops);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(router_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
