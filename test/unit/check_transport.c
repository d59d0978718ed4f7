/*
 * check_transport: the transport plugin's pure logic — configuration
 * schema, defaults and checks; token buckets; the per-IP table; reading
 * one framed Connect from pieces.  No sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "hyproxd.h"
#include "transport.h"

/* Load YAML text against the plugin schema through the host's loader. */
static int
load_text(const char *text, struct tp_conf **out)
{
	char	 path[] = "/tmp/check_transport_XXXXXX";
	char	*err = NULL;
	void	*conf = NULL;
	int	 fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = hypd_plugin_conf_load(path, &tp_conf_schema, &conf, &err);
	unlink(path);
	free(err);
	*out = conf;
	return (rc);
}

/* Load text and build settings; returns the settings' code, err filled. */
static struct tp_conf *loaded;

static int
settings_of(const char *text, struct tp_settings *set, char *err,
    size_t errlen)
{
	int	rc;

	ck_assert_int_eq(load_text(text, &loaded), 0);
	rc = tp_conf_check(loaded, err, errlen);
	ck_assert_int_eq(rc, tp_settings_make(loaded, set, err, errlen));
	return (rc);
}

/* Free what settings_of() loaded (the settings point into it). */
static void
conf_teardown(void)
{
	if (loaded != NULL)
		hypd_plugin_conf_free(&tp_conf_schema, loaded);
	loaded = NULL;
}

START_TEST(conf_defaults)
{
	struct tp_settings	s;
	char			err[256];

	ck_assert_int_eq(settings_of("", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.nlisten, 1);
	ck_assert_str_eq(s.listen[0].addr, "0.0.0.0");
	ck_assert_uint_eq(s.listen[0].port, 5520);
	ck_assert_ptr_null(s.cert);
	ck_assert_uint_eq(s.nalpn, 2);
	ck_assert_str_eq(s.alpn[0], "hytale/2");
	ck_assert_str_eq(s.alpn[1], "hytale/1");
	ck_assert_ptr_nonnull(strstr(s.priority, "+AES-128-GCM:+AES-256-GCM"));
	ck_assert_int_eq(s.ccert, HQ_CCERT_REQUEST);
	ck_assert_uint_eq(s.idle_ms, 30000);
	ck_assert_uint_eq(s.handshake_ms, 10000);
	ck_assert_uint_eq(s.connect_ms, 10000);
	ck_assert_uint_eq(s.lim.rate, 20);
	ck_assert_uint_eq(s.lim.burst, 40);
	ck_assert_uint_eq(s.lim.max_per_ip, 16);
	ck_assert_uint_eq(s.lim.max_half_open, 1024);
	ck_assert_uint_eq(s.lim.max_connections, 10000);
	ck_assert_int_eq(s.retry, HQ_RETRY_ON_LOAD);
	ck_assert_uint_eq(s.retry_threshold, 256);
	ck_assert_str_eq(s.no_route_message,
	    "No server is available for you right now.");
	ck_assert_ptr_null(s.token_key);
	ck_assert_ptr_null(s.reset_secret);
	ck_assert_uint_eq(s.max_udp_payload, 1472);
	ck_assert_uint_eq(s.reset_rate, 10);
	ck_assert_uint_eq(s.reset_burst, 20);
	ck_assert_uint_eq(s.new_token_ms, 3600000);
}
END_TEST

START_TEST(conf_full)
{
	struct tp_settings	s;
	char			err[256];

	ck_assert_int_eq(settings_of(
	    "listeners:\n"
	    "  - {address: 127.0.0.1, port: 0}\n"
	    "  - {address: '::', port: 5521, dual_stack: true}\n"
	    "certificate: cert.pem\nkey: key.pem\n"
	    "alpn: [hytale/3, hytale/2]\n"
	    "client_certificate: require\n"
	    "idle_timeout: 2m\nhandshake_timeout: 500ms\nconnect_timeout: 3\n"
	    "max_streams_bidi: 2\nmax_stream_data: 8192\nmax_data: 16384\n"
	    "admission: {rate: 0, burst: 1, max_per_ip: 0, max_half_open: 10,"
	    " max_connections: 20}\n"
	    "retry: always\nretry_threshold: 50\n"
	    "no_route_message: Go away\n"
	    "token_key: env:TK\nreset_secret: file:reset.key\n"
	    "max_udp_payload: 1350\n"
	    "stateless_reset: {rate: 3, burst: 7}\n"
	    "new_token_lifetime: 0\n",
	    &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.max_udp_payload, 1350);
	ck_assert_uint_eq(s.reset_rate, 3);
	ck_assert_uint_eq(s.reset_burst, 7);
	ck_assert_uint_eq(s.new_token_ms, 0);
	ck_assert_uint_eq(s.nlisten, 2);
	ck_assert_uint_eq(s.listen[0].port, 0);
	ck_assert_int_eq(s.listen[1].dual_stack, 1);
	ck_assert_str_eq(s.cert, "cert.pem");
	ck_assert_str_eq(s.alpn[0], "hytale/3");
	ck_assert_int_eq(s.ccert, HQ_CCERT_REQUIRE);
	ck_assert_uint_eq(s.idle_ms, 120000);
	ck_assert_uint_eq(s.handshake_ms, 500);
	ck_assert_uint_eq(s.connect_ms, 3000);
	ck_assert_uint_eq(s.lim.rate, 0);
	ck_assert_uint_eq(s.lim.max_connections, 20);
	ck_assert_int_eq(s.retry, HQ_RETRY_ALWAYS);
	ck_assert_str_eq(s.no_route_message, "Go away");
	ck_assert_str_eq(s.token_key, "env:TK");
}
END_TEST

START_TEST(conf_unknown_key)
{
	struct tp_conf	*c = NULL;

	ck_assert_int_ne(load_text("listen: 5520\n", &c), 0);
	ck_assert_ptr_null(c);
	ck_assert_int_ne(load_text("admission: {rat: 1}\n", &c), 0);
	ck_assert_int_ne(load_text("max_data: 12abc\n", &c), 0);
	ck_assert_int_ne(load_text("stateless_reset: {rates: 1}\n", &c), 0);
}
END_TEST

/* Bad configurations and the key path their message must start with. */
static const struct {
	const char	*text;
	const char	*prefix;
} bad_confs[] = {
	{ "listeners: [{address: localhost}]\n", "listeners[0].address: " },
	{ "listeners: [{address: 1.2.3.4, dual_stack: true}]\n",
	    "listeners[0].dual_stack: " },
	{ "listeners: [{address: 1.2.3.4, port: 70000}]\n",
	    "listeners[0].port: " },
	{ "listeners: [{port: 1}, {port: 1}]\n", "listeners[1]: " },
	{ "key: k.pem\n", "key: " },
	{ "certificate: c.pem\n", "certificate: " },
	{ "alpn: [a, a]\n", "alpn[1]: " },
	{ "alpn: ['a b']\n", "alpn[0]: " },
	{ "client_certificate: maybe\n", "client_certificate: " },
	{ "idle_timeout: 0\n", "idle_timeout: " },
	{ "idle_timeout: 10x\n", "idle_timeout: " },
	{ "handshake_timeout: -1s\n", "handshake_timeout: " },
	{ "connect_timeout: 99999999999\n", "connect_timeout: " },
	{ "max_streams_bidi: 0\n", "max_streams_bidi: " },
	{ "max_stream_data: 65536\nmax_data: 4096\n", "max_data: " },
	{ "admission: {burst: 0}\n", "admission.burst: " },
	{ "admission: {max_half_open: 0}\n", "admission.max_half_open: " },
	{ "admission: {max_connections: 2000000}\n",
	    "admission.max_connections: " },
	{ "retry: sometimes\n", "retry: " },
	{ "admission: {max_half_open: 10}\n", "retry_threshold: " },
	{ "token_key: hunter2hunter2hunter2\n", "token_key: " },
	{ "reset_secret: abc\n", "reset_secret: " },
	{ "max_udp_payload: 1199\n", "max_udp_payload: " },
	{ "max_udp_payload: 65528\n", "max_udp_payload: " },
	{ "stateless_reset: {rate: 0}\n", "stateless_reset.rate: " },
	{ "stateless_reset: {burst: 0}\n", "stateless_reset.burst: " },
	{ "new_token_lifetime: 500ms\n", "new_token_lifetime: " },
	{ "new_token_lifetime: 8d\n", "new_token_lifetime: " },
	{ "new_token_lifetime: 200h\n", "new_token_lifetime: " },
	{ "qlog: {dir: /tmp, clients: [10.0.0.0/33]}\n", "qlog.clients[0]: " },
	{ "qlog: {dir: /tmp, clients: ['::1', host.example]}\n",
	    "qlog.clients[1]: " },
	{ "qlog: {dir: /tmp, clients: ['[::1]']}\n", "qlog.clients[0]: " },
};

START_TEST(conf_bad)
{
	struct tp_settings	s;
	char			err[256];
	int			rc;

	err[0] = '\0';
	rc = settings_of(bad_confs[_i].text, &s, err, sizeof(err));
	ck_assert_msg(rc < 0, "accepted: %s", bad_confs[_i].text);
	ck_assert_msg(strncmp(err, bad_confs[_i].prefix,
	    strlen(bad_confs[_i].prefix)) == 0, "'%s' gave '%s'",
	    bad_confs[_i].text, err);
}
END_TEST

/* Whether the settings' qlog list picks address a. */
static int
qlog_picks(const struct tp_settings *set, const char *a)
{
	struct sockaddr_storage	ss;
	size_t			i;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, a,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	for (i = 0; i < set->nqlog_clients; i++)
		if (hyp_cidr_match(&set->qlog_clients[i],
		    (struct sockaddr *)&ss))
			return (1);
	return (0);
}

START_TEST(conf_qlog_clients)
{
	struct tp_settings	s;
	char			err[256];

	ck_assert_int_eq(settings_of("qlog: {dir: /tmp, clients: "
	    "[10.1.0.0/16, '2001:db8::/32']}\n", &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.qlog_dir, "/tmp");
	ck_assert_uint_eq(s.nqlog_clients, 2);
	ck_assert_int_eq(qlog_picks(&s, "10.1.2.3"), 1);
	ck_assert_int_eq(qlog_picks(&s, "::ffff:10.1.2.3"), 1);
	ck_assert_int_eq(qlog_picks(&s, "10.2.0.1"), 0);
	ck_assert_int_eq(qlog_picks(&s, "2001:db8:5::1"), 1);
	ck_assert_int_eq(qlog_picks(&s, "2001:db9::1"), 0);
	conf_teardown();

	/* An IPv6 prefix outside ::ffff:0:0/96 never picks IPv4 clients. */
	ck_assert_int_eq(settings_of("qlog: {dir: /tmp, clients: ['::/0']}\n",
	    &s, err, sizeof(err)), 0);
	ck_assert_int_eq(qlog_picks(&s, "::1"), 1);
	ck_assert_int_eq(qlog_picks(&s, "10.1.2.3"), 0);
	ck_assert_int_eq(qlog_picks(&s, "::ffff:10.1.2.3"), 0);
	conf_teardown();

	/* One inside it is the IPv4 prefix it maps. */
	ck_assert_int_eq(settings_of("qlog: {dir: /tmp, clients: "
	    "['::ffff:10.0.0.0/104']}\n", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(qlog_picks(&s, "10.200.0.1"), 1);
	ck_assert_int_eq(qlog_picks(&s, "11.0.0.1"), 0);
}
END_TEST

START_TEST(bucket)
{
	double		tok = 5;
	uint64_t	last = 1000000;
	int		i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(tp_bucket_take(&tok, &last, 1000000, 10, 5), 1);
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 1000000, 10, 5), 0);
	/* 10/s: 50 ms is half a token, 100 ms one. */
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 1050000, 10, 5), 0);
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 1100000, 10, 5), 1);
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 1100000, 10, 5), 0);
	/* A long pause refills to the burst, not beyond. */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(tp_bucket_take(&tok, &last, 100000000, 10, 5),
		    1);
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 100000000, 10, 5), 0);
	/* A clock going backwards gives nothing. */
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 5, 10, 5), 0);
	/* rate 0: unlimited. */
	ck_assert_int_eq(tp_bucket_take(&tok, &last, 5, 0, 5), 1);
}
END_TEST

/* Key of IPv4 address a.b.c.d. */
static struct tp_ipkey
key4(uint32_t host)
{
	struct sockaddr_in	sin;
	struct tp_ipkey		k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(host);
	tp_ipkey_from_sa((struct sockaddr *)&sin, &k);
	return (k);
}

START_TEST(ipkey)
{
	struct sockaddr_in6	a, b;
	struct tp_ipkey		k4, km, ka, kb;

	k4 = key4(0x7f000001);
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	tp_ipkey_from_sa((struct sockaddr *)&a, &km);
	ck_assert_mem_eq(k4.b, km.b, 16);
	/* Same /64: same key; another /64: another. */
	inet_pton(AF_INET6, "2001:db8:1:2::1", &a.sin6_addr);
	b = a;
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b.sin6_addr);
	tp_ipkey_from_sa((struct sockaddr *)&a, &ka);
	tp_ipkey_from_sa((struct sockaddr *)&b, &kb);
	ck_assert_mem_eq(ka.b, kb.b, 16);
	inet_pton(AF_INET6, "2001:db8:1:3::1", &b.sin6_addr);
	tp_ipkey_from_sa((struct sockaddr *)&b, &kb);
	ck_assert_int_ne(memcmp(ka.b, kb.b, 16), 0);
}
END_TEST

START_TEST(iptable_caps)
{
	struct tp_iptable	t;
	struct tp_limits	l = { .rate = 0, .burst = 1, .max_per_ip = 2,
	    .max_half_open = 1, .max_connections = 1 };
	struct tp_ipkey		k = key4(1);

	ck_assert_int_eq(tp_iptable_init(&t, 4), 0);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 1, &l), TP_ADMIT_OK);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 1, &l), TP_ADMIT_OK);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 1, &l), TP_ADMIT_PER_IP);
	tp_ip_release(&t, &k);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 1, &l), TP_ADMIT_OK);
	ck_assert_uint_eq(tp_iptable_find(&t, &k)->conns, 2);
	tp_ip_release(&t, &k);
	tp_ip_release(&t, &k);
	tp_ip_release(&t, &k);	/* extra release is harmless */
	ck_assert_uint_eq(tp_iptable_find(&t, &k)->conns, 0);
	ck_assert_uint_eq(t.nused, 1);
	/* Rate: burst 2 at 1/s. */
	l.rate = 1;
	l.burst = 2;
	l.max_per_ip = 0;
	k = key4(2);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 10, &l), TP_ADMIT_OK);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 10, &l), TP_ADMIT_OK);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 10, &l), TP_ADMIT_RATE);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 1000010, &l), TP_ADMIT_OK);
	tp_iptable_free(&t);
}
END_TEST

START_TEST(iptable_lru)
{
	struct tp_iptable	t;
	struct tp_limits	l = { .rate = 1, .burst = 1, .max_per_ip = 0,
	    .max_half_open = 1, .max_connections = 1 };
	struct tp_ipkey		k;
	uint32_t		i;

	ck_assert_int_eq(tp_iptable_init(&t, 3), 0);
	/* Three idle entries (admitted, then released) fill the table. */
	for (i = 1; i <= 3; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, i, &l), TP_ADMIT_OK);
		tp_ip_release(&t, &k);
	}
	ck_assert_uint_eq(t.nused, 3);
	/* Touch 1 so that 2 is the oldest idle one. */
	k = key4(1);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 5, &l), TP_ADMIT_RATE);
	k = key4(4);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 6, &l), TP_ADMIT_OK);
	ck_assert_uint_eq(t.nused, 3);
	k = key4(2);
	ck_assert_ptr_null(tp_iptable_find(&t, &k));
	k = key4(1);
	ck_assert_ptr_nonnull(tp_iptable_find(&t, &k));
	/* Entries holding connections are never evicted. */
	for (i = 5; i <= 6; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 7, &l), TP_ADMIT_OK);
	}
	k = key4(7);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 8, &l), TP_ADMIT_FULL);
	ck_assert_uint_eq(t.nused, 3);
	tp_iptable_free(&t);
}
END_TEST

START_TEST(iptable_expire_move)
{
	struct tp_iptable	t, u;
	struct tp_limits	l = { .rate = 10, .burst = 10, .max_per_ip = 0,
	    .max_half_open = 1, .max_connections = 1 };
	struct tp_ipkey		k;
	uint32_t		i;

	ck_assert_int_eq(tp_iptable_init(&t, 100), 0);
	for (i = 0; i < 50; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 1000000 + i, &l),
		    TP_ADMIT_OK);
		if (i % 2 == 0)
			tp_ip_release(&t, &k);
	}
	/* Full after burst/rate = 1 s: only idle entries go. */
	ck_assert_uint_eq(tp_iptable_expire(&t, 1500000, &l), 0);
	ck_assert_uint_eq(tp_iptable_expire(&t, 3000000, &l), 25);
	ck_assert_uint_eq(t.nused, 25);
	k = key4(3);
	ck_assert_ptr_nonnull(tp_iptable_find(&t, &k));
	/* Grow: busy entries keep their counts. */
	ck_assert_int_eq(tp_iptable_init(&u, 200), 0);
	tp_iptable_move(&u, &t);
	ck_assert_ptr_null(t.ents);
	ck_assert_uint_eq(u.nused, 25);
	ck_assert_uint_eq(tp_iptable_find(&u, &k)->conns, 1);
	tp_ip_release(&u, &k);
	ck_assert_uint_eq(tp_iptable_find(&u, &k)->conns, 0);
	ck_assert_uint_eq(tp_iptable_expire(&u, 9000000, &l), 1);
	tp_iptable_free(&u);
}
END_TEST

START_TEST(iptable_lazy)
{
	struct tp_iptable	t;
	struct tp_limits	l = { .rate = 10, .burst = 10, .max_per_ip = 0,
	    .max_half_open = 1, .max_connections = 1 };
	struct tp_ipkey		k;
	uint32_t		i;

	/* Entries are handed out in order, on demand. */
	ck_assert_int_eq(tp_iptable_init(&t, 8), 0);
	ck_assert_uint_eq(t.next_unused, 0);
	for (i = 0; i < 3; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 1000000, &l), TP_ADMIT_OK);
		tp_ip_release(&t, &k);
	}
	ck_assert_uint_eq(t.next_unused, 3);
	/* Expired entries are reused before any never-used one. */
	ck_assert_uint_eq(tp_iptable_expire(&t, 5000000, &l), 3);
	ck_assert_uint_eq(t.nused, 0);
	for (i = 10; i < 13; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 5000000, &l), TP_ADMIT_OK);
		tp_ip_release(&t, &k);
	}
	ck_assert_uint_eq(t.next_unused, 3);
	/* Past the bound the oldest idle entry is evicted. */
	for (i = 20; i < 40; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 5000000, &l), TP_ADMIT_OK);
		tp_ip_release(&t, &k);
	}
	ck_assert_uint_eq(t.next_unused, 8);
	ck_assert_uint_eq(t.nused, 8);
	k = key4(31);
	ck_assert_ptr_null(tp_iptable_find(&t, &k));
	k = key4(32);
	ck_assert_ptr_nonnull(tp_iptable_find(&t, &k));
	k = key4(10);
	ck_assert_ptr_null(tp_iptable_find(&t, &k));
	/* All pinned: a new address is refused, nothing is lost. */
	for (i = 32; i < 40; i++) {
		k = key4(i);
		ck_assert_int_eq(tp_ip_admit(&t, &k, 5000000, &l), TP_ADMIT_OK);
	}
	k = key4(99);
	ck_assert_int_eq(tp_ip_admit(&t, &k, 5000000, &l), TP_ADMIT_FULL);
	ck_assert_uint_eq(t.nused, 8);
	tp_iptable_free(&t);
}
END_TEST

/* A framed Connect V2 in buf; returns its length. */
static size_t
connect_frame(uint8_t *buf, size_t cap)
{
	struct hyp_connect	c;
	int			n;

	memset(&c, 0, sizeof(c));
	c.layout = HYP_CONNECT_V2;
	c.build = 20;
	strcpy(c.client_version, "2026.02.17");
	c.has_uuid = 1;
	c.username.ptr = (const uint8_t *)"Alice";
	c.username.len = 5;
	c.language.ptr = (const uint8_t *)"en";
	c.language.len = 2;
	n = hyp_connect_encode(&c, buf + 8, cap - 8);
	ck_assert_int_gt(n, 0);
	hyp_frame_header_encode(buf, (uint32_t)n, HYP_PKT_CONNECT);
	return ((size_t)n + 8);
}

START_TEST(frame_bytewise)
{
	struct tp_frame		f;
	struct hyp_connect	c;
	uint8_t			buf[512];
	size_t			len, i, used;
	int			rc = TP_FRAME_MORE;

	len = connect_frame(buf, sizeof(buf));
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(rc, TP_FRAME_MORE);
		rc = tp_frame_feed(&f, buf + i, 1, &used);
		ck_assert_uint_eq(used, 1);
		if (i < 7)
			ck_assert_ptr_null(f.buf);
	}
	ck_assert_int_eq(rc, TP_FRAME_DONE);
	ck_assert_uint_eq(f.plen, len - 8);
	ck_assert_mem_eq(f.buf, buf + 8, len - 8);
	ck_assert_int_eq(hyp_connect_decode(f.buf, f.plen, &c), 0);
	ck_assert_uint_eq(c.username.len, 5);
	tp_frame_free(&f);
}
END_TEST

START_TEST(frame_whole_and_trailing)
{
	struct tp_frame	f;
	uint8_t		buf[600];
	size_t		len, used;

	len = connect_frame(buf, sizeof(buf));
	memset(buf + len, 0xaa, 16);
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	ck_assert_int_eq(tp_frame_feed(&f, buf, len + 16, &used),
	    TP_FRAME_DONE);
	ck_assert_uint_eq(used, len);	/* nothing past the frame is taken */
	tp_frame_free(&f);
	/* Header in two pieces then the payload. */
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	ck_assert_int_eq(tp_frame_feed(&f, buf, 3, &used), TP_FRAME_MORE);
	ck_assert_int_eq(tp_frame_feed(&f, buf + 3, 10, &used), TP_FRAME_MORE);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(f.have, 5);
	ck_assert_int_eq(tp_frame_feed(&f, buf + 13, len - 13, &used),
	    TP_FRAME_DONE);
	tp_frame_free(&f);
}
END_TEST

START_TEST(frame_oversize)
{
	struct tp_frame	f;
	uint8_t		hdr[8];
	size_t		used;

	hyp_frame_header_encode(hdr, 0x80000000u, HYP_PKT_CONNECT);
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	ck_assert_int_eq(tp_frame_feed(&f, hdr, 8, &used), HYP_ETOOBIG);
	ck_assert_ptr_null(f.buf);
	tp_frame_free(&f);
	/* One byte over the documented maximum. */
	hyp_frame_header_encode(hdr, (uint32_t)hyp_packet_max_size(
	    HYP_PKT_CONNECT) + 1, HYP_PKT_CONNECT);
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	ck_assert_int_eq(tp_frame_feed(&f, hdr, 8, &used), HYP_ETOOBIG);
	ck_assert_ptr_null(f.buf);
	tp_frame_free(&f);
}
END_TEST

START_TEST(frame_not_connect)
{
	struct tp_frame	f;
	uint8_t		hdr[12] = { 0 };
	size_t		used, i;
	int		rc = TP_FRAME_MORE;

	hyp_frame_header_encode(hdr, 4, HYP_PKT_CLIENT_REFERRAL);
	tp_frame_init(&f, hyp_packet_max_size(HYP_PKT_CONNECT));
	for (i = 0; i < 8 && rc == TP_FRAME_MORE; i++)
		rc = tp_frame_feed(&f, hdr + i, 1, &used);
	ck_assert_int_eq(rc, HYP_EPACKETID);
	ck_assert_uint_eq(i, 8);
	ck_assert_ptr_null(f.buf);
	tp_frame_free(&f);
}
END_TEST

START_TEST(frame_empty_payload)
{
	struct tp_frame	f;
	uint8_t		hdr[8];
	size_t		used;

	hyp_frame_header_encode(hdr, 0, HYP_PKT_CONNECT);
	tp_frame_init(&f, 100);
	ck_assert_int_eq(tp_frame_feed(&f, hdr, 8, &used), TP_FRAME_DONE);
	ck_assert_uint_eq(f.plen, 0);
	tp_frame_free(&f);
}
END_TEST

/* The suite. */
static Suite *
transport_suite(void)
{
	Suite	*s = suite_create("transport");
	TCase	*tc;

	tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, NULL, conf_teardown);
	tcase_add_test(tc, conf_defaults);
	tcase_add_test(tc, conf_full);
	tcase_add_test(tc, conf_unknown_key);
	tcase_add_test(tc, conf_qlog_clients);
	tcase_add_loop_test(tc, conf_bad, 0,
	    (int)(sizeof(bad_confs) / sizeof(bad_confs[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("admission");
	tcase_add_test(tc, bucket);
	tcase_add_test(tc, ipkey);
	tcase_add_test(tc, iptable_caps);
	tcase_add_test(tc, iptable_lru);
	tcase_add_test(tc, iptable_expire_move);
	tcase_add_test(tc, iptable_lazy);
	suite_add_tcase(s, tc);
	tc = tcase_create("frame");
	tcase_add_test(tc, frame_bytewise);
	tcase_add_test(tc, frame_whole_and_trailing);
	tcase_add_test(tc, frame_oversize);
	tcase_add_test(tc, frame_not_connect);
	tcase_add_test(tc, frame_empty_payload);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (sodium_init() < 0)
		return (1);
	sr = srunner_create(transport_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
