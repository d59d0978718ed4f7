/*
 * check_tracer: the tracer plugin compiled in, its pure parts tested
 * directly (JSON lines and escaping, truncation, CIDR and allowlist
 * matching, configuration checks, the ring and its wrap-around) and the
 * whole plugin driven through its descriptor with the daemon core (real
 * sessions, hooks, metrics, a libevent base for SIGUSR1/SIGUSR2): every
 * event of one session with one id, the trace id in the ticket's
 * extensions, packet events only for allowlisted players, and redaction:
 * the identity token, the referral data and the ticket never reach a line.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hyproxd.h"
#include "tracer.h"

extern const struct hyp_plugin_desc hyp_plugin;

#define TOKEN		"SECRET_TOKEN_XYZ.eyJhbGciOi"
#define REFDATA		"REFDATA-4f1c9e-do-not-log"
#define UUID_ALICE	"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define UUID_BOB	"11111111-2222-4333-8444-555555555555"

/* Per-test state (fork mode: every test starts from zero). */
static char			 dir[64];
static struct hyp_plugin	*plug;
static void			*conf;
static struct event_base	*base;

/* ---- helpers ---- */

/* Write a file under dir. */
static void
write_file(const char *name, const void *data, size_t len)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Read a file under dir into a static buffer ("" when missing). */
static const char *
read_file(const char *name)
{
	static char	buf[262144];
	char		path[256];
	ssize_t		n;
	int		fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) < 0)
		return (buf);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return (buf);
}

/* Load YAML text as the plugin's configuration. */
static int
load_conf(const char *yaml, void **out)
{
	char	 path[256];
	char	*err = NULL;
	int	 rc;

	write_file("60-tracer.yaml", yaml, strlen(yaml));
	snprintf(path, sizeof(path), "%s/60-tracer.yaml", dir);
	*out = NULL;
	rc = hypd_plugin_conf_load(path, hyp_plugin.conf_schema, out, &err);
	free(err);
	return (rc);
}

/* conf_check of YAML text; err gets the sentence. */
static int
check_yaml(const char *yaml, char *err, size_t errlen)
{
	void	*c;
	int	 rc;

	ck_assert_int_eq(load_conf(yaml, &c), 0);
	err[0] = '\0';
	rc = hyp_plugin.conf_check(c, err, errlen);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	return (rc);
}

/* Load and start the plugin with YAML text. */
static void
plugin_up(const char *yaml)
{
	ck_assert_int_eq(load_conf(yaml, &conf), 0);
	ck_assert_int_eq(hyp_plugin.load(plug, conf), 0);
	ck_assert_int_eq(hyp_plugin.start(plug), 0);
}

/* Fresh directory, fake plugin, event base. */
static void
setup(void)
{
	hypd_metrics_reset();
	snprintf(dir, sizeof(dir), "/tmp/check_tracer_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	plug = calloc(1, sizeof(*plug));
	ck_assert_ptr_nonnull(plug);
	plug->name = strdup("tracer");
	plug->conf_dir = strdup(dir);
	LIST_INIT(&plug->timers);
	LIST_INIT(&plug->watches);
	LIST_INIT(&plug->deferred);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	hypd_event_init(base);
}

/* Unload the plugin and free what setup() made. */
static void
teardown(void)
{
	char	cmd[128];

	if (hyp_plugin_ctx(plug) != NULL) {
		hyp_plugin.stop(plug);
		hyp_plugin.unload(plug);
	}
	hypd_hook_release(plug);
	hypd_metrics_release(plug);
	if (conf != NULL)
		hypd_plugin_conf_free(hyp_plugin.conf_schema, conf);
	conf = NULL;
	free(plug->conf_dir);
	free(plug->name);
	free(plug);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A session from an IPv4 address. */
static hyp_session_t *
sess4(const char *addr)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return (hyp_session_new(NULL, (struct sockaddr *)&sin, sizeof(sin)));
}

/* A V2 Connect with an identity token and referral data. */
static void
connect_fill(struct hyp_connect *c, const char *user, const char *uuid)
{
	memset(c, 0, sizeof(*c));
	c->layout = HYP_CONNECT_V2;
	c->protocol_crc = 12345;
	c->build = 7;
	snprintf(c->client_version, sizeof(c->client_version), "2026.02.17");
	c->has_uuid = 1;
	ck_assert_int_eq(hyp_uuid_parse(uuid, c->uuid), 0);
	c->username.ptr = (const uint8_t *)user;
	c->username.len = strlen(user);
	c->identity_token.ptr = (const uint8_t *)TOKEN;
	c->identity_token.len = strlen(TOKEN);
	c->language.ptr = (const uint8_t *)"en-US";
	c->language.len = 5;
	c->referral_data.ptr = (const uint8_t *)REFDATA;
	c->referral_data.len = strlen(REFDATA);
	c->has_referral_source = 1;
	c->referral_source.port = 5520;
	c->referral_source.host.ptr = (const uint8_t *)"hub.example";
	c->referral_source.host.len = 11;
}

/* Lowercase hex of a string into out. */
static const char *
hexof(const char *s, char *out, size_t cap)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
	return (out);
}

/* Fail when text holds the secret, raw or as hex. */
static void
assert_no_secret(const char *text, const char *secret)
{
	char	hex[512];

	ck_assert_msg(strstr(text, secret) == NULL, "'%s' leaked", secret);
	ck_assert_msg(strstr(text, hexof(secret, hex, sizeof(hex))) == NULL,
	    "hex of '%s' leaked", secret);
}

/* The number of lines of text containing needle. */
static int
count_lines(const char *text, const char *needle)
{
	const char	*p = text, *nl;
	int		 n = 0;
	char		 line[TR_LINE_MAX];
	size_t		 len;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strstr(line, needle) != NULL)
			n++;
		p += len + (nl != NULL);
	}
	return (n);
}

/* Every line is one object: starts with {"ts":" and ends with }. */
static void
assert_lines_json(const char *text)
{
	const char	*p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(strncmp(p, "{\"ts\":\"", 7) == 0, "bad line %.80s",
		    p);
		ck_assert_int_eq(nl[-1], '}');
		p = nl + 1;
	}
}

/* ---- json.c ---- */

START_TEST(json_format)
{
	char		mem[512];
	struct tr_buf	b;
	size_t		len;

	tr_buf_init(&b, mem, sizeof(mem));
	tr_begin(&b, 1764000000123456ULL, "accept", "00112233aabbccdd");
	tr_jstr(&b, "s", "q\"b\\n\nt\tc\x01z");
	tr_jbytes(&b, "u", (const uint8_t *)"h\xc3\xa9\xff!", 5);
	tr_ju64(&b, "n", 18446744073709551615ULL);
	tr_ji64(&b, "i", -42);
	tr_jbool(&b, "t", 1);
	tr_jstr(&b, "nul", NULL);
	tr_jhex(&b, "x", (const uint8_t *)"\x00\xab", 2);
	tr_jms(&b, "ms", 1000, 2500);
	tr_jms(&b, "unset", 0, 5);
	len = tr_end(&b);
	mem[len] = '\0';
	ck_assert_str_eq(mem, "{\"ts\":\"2025-11-24T16:00:00.123456Z\","
	    "\"event\":\"accept\",\"session\":\"00112233aabbccdd\","
	    "\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001z\","
	    "\"u\":\"h\xc3\xa9\\ufffd!\",\"n\":18446744073709551615,"
	    "\"i\":-42,\"t\":true,\"nul\":null,\"x\":\"00ab\","
	    "\"ms\":1.500,\"unset\":null}\n");
	ck_assert_int_eq(b.overflow, 0);
}
END_TEST

START_TEST(json_truncate)
{
	char		mem[160];
	char		big[400];
	struct tr_buf	b;
	size_t		len;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tr_buf_init(&b, mem, sizeof(mem));
	tr_begin(&b, 0, "packet", "0123456789abcdef");
	tr_jstr(&b, "small", "ok");
	tr_jstr(&b, "big", big);
	len = tr_end(&b);
	ck_assert_uint_le(len, sizeof(mem));
	mem[len < sizeof(mem) ? len : sizeof(mem) - 1] = '\0';
	ck_assert_int_eq(b.overflow, 1);
	ck_assert_str_eq(mem, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
	    "\"event\":\"packet\",\"session\":\"0123456789abcdef\","
	    "\"truncated\":true}\n");
	/* Overlong UTF-8 and surrogates are not passed through. */
	tr_buf_init(&b, big, sizeof(big));
	tr_begin(&b, 0, "x", NULL);
	tr_jstr(&b, "v", "\xc0\xaf\xed\xa0\x80");
	len = tr_end(&b);
	big[len] = '\0';
	ck_assert_ptr_nonnull(strstr(big, "\"v\":\"\\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\"}"));
	ck_assert_ptr_null(strstr(big, "session"));
}
END_TEST

START_TEST(reason_value)
{
	char	v[16];

	ck_assert_str_eq(tr_reason_value("route=a pool=b ticket=k1", "ticket",
	    v, sizeof(v)), "k1");
	ck_assert_str_eq(tr_reason_value("xticket=no ticket=yes", "ticket", v,
	    sizeof(v)), "yes");
	ck_assert_ptr_null(tr_reason_value("route=a", "ticket", v, sizeof(v)));
	ck_assert_str_eq(tr_reason_value("k=0123456789abcdefXYZ", "k", v,
	    sizeof(v)), "0123456789abcde");
}
END_TEST

/* ---- conf.c ---- */

START_TEST(conf_errors)
{
	static const struct {
		const char	*yaml;
		const char	*err;
	} bad[] = {
		{ "ring_size: 100001\nring_dump: r\n", "ring_size: 100001 is "
		    "out of range" },
		{ "ring_size: 10\n", "ring_dump: required" },
		{ "output: none\n", "output: 'none' without a ring_size" },
		{ "packets: {clients: [10.0.0.0/40]}\n", "packets.clients[0]: "
		    "'10.0.0.0/40'" },
		{ "packets: {uuids: [not-a-uuid]}\n", "packets.uuids[0]: " },
		{ "packets: {usernames: [abcdefghijklmnopq]}\n",
		    "packets.usernames[0]: longer than 16" },
		{ "packets: {payload_hex_max: 0}\n", "packets.payload_hex_max: "
		    "0 is out of range" },
		{ "packets: {payload_hex_max: 4097}\n",
		    "packets.payload_hex_max: 4097" },
		{ "packets: {packet_ids: [4294967295]}\n",
		    "packets.packet_ids[0]: " },
	};
	char	err[256];
	void	*c;
	size_t	i;

	setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_ne(check_yaml(bad[i].yaml, err, sizeof(err)), 0);
		ck_assert_msg(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0,
		    "%s: got '%s'", bad[i].yaml, err);
	}
	ck_assert_int_eq(check_yaml("output: trace.jsonl\nring_size: 5\n"
	    "ring_dump: ring.jsonl\npackets: {clients: [10.0.0.0/8, '::1'], "
	    "uuids: [" UUID_ALICE "], usernames: [Alice], packet_ids: [0, 1, "
	    "18], payload_hex: true, payload_hex_max: 64}\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(check_yaml("{}\n", err, sizeof(err)), 0);
	/* Unknown keys and too long lists are the schema's refusals. */
	ck_assert_int_ne(load_conf("outptu: x\n", &c), 0);
	teardown();
}
END_TEST

START_TEST(allowlist)
{
	struct tr_settings	 set;
	struct hyp_connect	 cn;
	hyp_session_t		*a, *b, *net;
	void			*c;
	char			 err[256];

	setup();
	ck_assert_int_eq(load_conf("packets: {clients: [192.0.2.0/24], "
	    "uuids: [" UUID_ALICE "], usernames: [carol], packet_ids: [0, 18]}"
	    "\n", &c), 0);
	ck_assert_int_eq(tr_settings_make(c, &set, err, sizeof(err)), 0);
	a = sess4("203.0.113.1");
	b = sess4("203.0.113.2");
	net = sess4("192.0.2.77");
	/* Before the Connect only the address can match. */
	ck_assert_int_eq(tr_allow_session(&set.allow, a), 0);
	ck_assert_int_eq(tr_allow_session(&set.allow, net), 1);
	connect_fill(&cn, "alice", UUID_ALICE);
	ck_assert_int_eq(hyp_session_set_connect(a, &cn), 0);
	connect_fill(&cn, "bob", UUID_BOB);
	ck_assert_int_eq(hyp_session_set_connect(b, &cn), 0);
	ck_assert_int_eq(tr_allow_session(&set.allow, a), 1);
	ck_assert_int_eq(tr_allow_session(&set.allow, b), 0);
	/* Usernames match without regard to case. */
	connect_fill(&cn, "CaRoL", UUID_BOB);
	ck_assert_int_eq(hyp_session_set_connect(b, &cn), 0);
	ck_assert_int_eq(tr_allow_session(&set.allow, b), 1);
	connect_fill(&cn, "caro", UUID_BOB);
	ck_assert_int_eq(hyp_session_set_connect(b, &cn), 0);
	ck_assert_int_eq(tr_allow_session(&set.allow, b), 0);
	ck_assert_int_eq(tr_allow_id(&set.allow, 0), 1);
	ck_assert_int_eq(tr_allow_id(&set.allow, 18), 1);
	ck_assert_int_eq(tr_allow_id(&set.allow, 1), 0);
	hyp_session_end(a, "test");
	hyp_session_end(b, "test");
	hyp_session_end(net, "test");
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	/* An empty allowlist traces no session, every id. */
	ck_assert_int_eq(load_conf("{}\n", &c), 0);
	ck_assert_int_eq(tr_settings_make(c, &set, err, sizeof(err)), 0);
	a = sess4("192.0.2.77");
	ck_assert_int_eq(tr_allow_session(&set.allow, a), 0);
	ck_assert_int_eq(tr_allow_id(&set.allow, 99), 1);
	hyp_session_end(a, "test");
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	teardown();
}
END_TEST

/* ---- redaction of the Connect ---- */

START_TEST(redact_connect)
{
	struct tr_allow		 allow;
	struct hyp_connect	 cn;
	struct hyp_packet_info	 pi;
	struct tr_buf		 b;
	hyp_session_t		*s;
	uint8_t			 payload[2048];
	char			 mem[TR_LINE_MAX], all[4 * TR_LINE_MAX];
	size_t			 len;
	int			 n;

	s = sess4("192.0.2.1");
	connect_fill(&cn, "alice", UUID_ALICE);
	ck_assert_int_eq(hyp_session_set_connect(s, &cn), 0);
	tr_buf_init(&b, mem, sizeof(mem));
	tr_ev_connect(&b, 0, s);
	len = tr_end(&b);
	mem[len] = '\0';
	ck_assert_ptr_nonnull(strstr(mem, "\"username\":\"alice\",\"uuid\":\""
	    UUID_ALICE "\",\"client_type\":0,\"crc\":12345,\"build\":7,"
	    "\"version\":\"2026.02.17\",\"language\":\"en-US\","
	    "\"has_identity_token\":true,\"referral_source\":"
	    "\"hub.example:5520\",\"referral_data_len\":25}"));
	snprintf(all, sizeof(all), "%s", mem);

	/* The Connect as the client sent it, with payload hex on. */
	n = hyp_connect_encode(&cn, payload, sizeof(payload));
	ck_assert_int_gt(n, 0);
	memset(&allow, 0, sizeof(allow));
	allow.payload_hex = 1;
	allow.payload_hex_max = TR_HEX_MAX;
	memset(&pi, 0, sizeof(pi));
	pi.packet_id = HYP_PKT_CONNECT;
	pi.length = (uint32_t)n;
	pi.payload = payload;
	pi.payload_len = (size_t)n;
	tr_ev_packet(&b, 0, s, &pi, &allow);
	len = tr_end(&b);
	mem[len] = '\0';
	ck_assert_ptr_nonnull(strstr(mem, "\"name\":\"Connect\""));
	ck_assert_ptr_nonnull(strstr(mem, "\"payload_hex\":\"<redacted>\""));
	strncat(all, mem, sizeof(all) - strlen(all) - 1);
	/* Every credential-carrying id is redacted; others are written. */
	pi.packet_id = 12;
	tr_ev_packet(&b, 0, s, &pi, &allow);
	len = tr_end(&b);
	mem[len] = '\0';
	ck_assert_ptr_nonnull(strstr(mem, "<redacted>"));
	strncat(all, mem, sizeof(all) - strlen(all) - 1);
	ck_assert_int_eq(tr_hex_forbidden(11), 1);
	ck_assert_int_eq(tr_hex_forbidden(13), 1);
	ck_assert_int_eq(tr_hex_forbidden(15), 1);
	ck_assert_int_eq(tr_hex_forbidden(18), 1);
	ck_assert_int_eq(tr_hex_forbidden(1), 0);
	pi.packet_id = 255;
	pi.payload = (const uint8_t *)"\x01\x02\x03\x04";
	pi.payload_len = 4;
	pi.length = 10;
	allow.payload_hex_max = 3;
	tr_ev_packet(&b, 0, s, &pi, &allow);
	len = tr_end(&b);
	mem[len] = '\0';
	ck_assert_ptr_nonnull(strstr(mem, "\"payload_hex\":\"010203\","
	    "\"payload_cut\":true}"));
	assert_no_secret(all, TOKEN);
	assert_no_secret(all, REFDATA);
	hyp_session_end(s, "test");
}
END_TEST

/* ---- ring.c ---- */

START_TEST(ring_wrap)
{
	struct tr_ring	r;
	char		line[64], big[TR_SLOT + 100];
	char		out[8192];
	FILE		*fp;
	size_t		n;
	int		i;

	ck_assert_int_eq(tr_ring_init(&r, TR_RING_MAX + 1), HYP_ERANGE);
	ck_assert_int_eq(tr_ring_init(&r, 0), 0);
	tr_ring_push(&r, "{}\n", 3, 0);		/* no ring: ignored */
	ck_assert_uint_eq(r.count, 0);
	ck_assert_int_eq(tr_ring_init(&r, 3), 0);
	for (i = 1; i <= 5; i++) {
		n = (size_t)snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
		tr_ring_push(&r, line, n, 1);
	}
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.total, 5);
	fp = tmpfile();
	ck_assert_int_eq(tr_ring_dump(&r, fileno(fp)), 0);
	rewind(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	ck_assert_str_eq(out, "{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n");
	fclose(fp);
	/* A line longer than a slot keeps its header. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"ts\":\"t\",\"event\":\"e\"", 21);
	tr_ring_push(&r, big, sizeof(big), 21);
	fp = tmpfile();
	ck_assert_int_eq(tr_ring_dump(&r, fileno(fp)), 0);
	rewind(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	ck_assert_str_eq(out, "{\"n\":4}\n{\"n\":5}\n{\"ts\":\"t\",\"event\":"
	    "\"e\",\"truncated\":true}\n");
	fclose(fp);
	/* A bad descriptor is an error, not a crash. */
	ck_assert_int_ne(tr_ring_dump(&r, -1), 0);
	tr_ring_free(&r);
}
END_TEST

/* ---- the whole plugin ---- */

/* Run one session through every hook like the transport does. */
static hyp_session_t *
run_session(const char *addr, const char *user, const char *uuid,
    uint8_t *ext, size_t *extlen, size_t extcap)
{
	struct hyp_connect	 cn;
	struct hyp_referral_ext	 re;
	struct hyp_packet_info	 pi;
	struct hyp_client_referral cr;
	hyp_session_t		*s;
	hyp_backend_t		*be;
	uint8_t			 payload[2048], ticket[200];
	int			 n;

	s = sess4(addr);
	ck_assert_ptr_nonnull(s);
	hyp_session_mark(s, HYP_MARK_FIRST_PACKET);
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_ACCEPT, s, NULL), HYP_CONTINUE);
	hyp_session_set_sni(s, "play.example");
	hyp_session_set_alpn(s, "hytale/2");
	hyp_session_mark(s, HYP_MARK_HANDSHAKE_DONE);
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_HANDSHAKE, s, NULL),
	    HYP_CONTINUE);
	connect_fill(&cn, user, uuid);
	ck_assert_int_eq(hyp_session_set_connect(s, &cn), 0);
	n = hyp_connect_encode(&cn, payload, sizeof(payload));
	ck_assert_int_gt(n, 0);
	memset(&pi, 0, sizeof(pi));
	pi.packet_id = HYP_PKT_CONNECT;
	pi.length = (uint32_t)n;
	pi.payload = payload;
	pi.payload_len = (size_t)n;
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_PACKET, s, &pi), HYP_CONTINUE);
	hyp_session_mark(s, HYP_MARK_CONNECT_DECODED);
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_CONNECT_DECODED, s, NULL),
	    HYP_CONTINUE);
	/* The route decides (as the router would). */
	be = hyp_backend_new("lobby-1", "127.0.0.1", 5521);
	hyp_backend_set_pool(be, "lobby");
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_REFER, be, NULL),
	    0);
	hyp_backend_unref(be);
	hyp_session_add_reason(s, "route", "everyone");
	hyp_session_add_reason(s, "backend", "lobby-1");
	hyp_session_mark(s, HYP_MARK_DECISION);
	/* The issuer runs the referral hook, then signs. */
	memset(&re, 0, sizeof(re));
	re.buf = ext;
	re.cap = extcap;
	re.backend = hyp_session_backend(s);
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_REFERRAL, s, &re), HYP_CONTINUE);
	*extlen = re.len;
	hyp_session_add_reason(s, "ticket", "k1");
	/* The transport sends ClientReferral with a "ticket". */
	memset(ticket, 0xee, sizeof(ticket));
	memcpy(ticket, REFDATA, strlen(REFDATA));
	memset(&cr, 0, sizeof(cr));
	cr.has_host = 1;
	cr.host_to.port = 5521;
	cr.host_to.host.ptr = (const uint8_t *)"127.0.0.1";
	cr.host_to.host.len = 9;
	cr.data.ptr = ticket;
	cr.data.len = sizeof(ticket);
	n = hyp_client_referral_encode(&cr, payload, sizeof(payload));
	ck_assert_int_gt(n, 0);
	memset(&pi, 0, sizeof(pi));
	pi.outbound = 1;
	pi.packet_id = HYP_PKT_CLIENT_REFERRAL;
	pi.length = (uint32_t)n;
	pi.payload = payload;
	pi.payload_len = (size_t)n;
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_PACKET, s, &pi), HYP_CONTINUE);
	hyp_session_count(s, HYP_CTR_BYTES_IN, 1234);
	return (s);
}

START_TEST(plugin_session)
{
	hyp_session_t	*s, *s2;
	const uint8_t	*d;
	uint8_t		 ext[256];
	size_t		 extlen, dlen;
	char		 id[17], id2[17], want[128];
	const char	*log;
	char		*metrics;

	setup();
	plugin_up("output: trace.jsonl\npackets:\n  usernames: [alice]\n"
	    "  payload_hex: true\n");
	s = run_session("203.0.113.9", "alice", UUID_ALICE, ext, &extlen,
	    sizeof(ext));
	snprintf(id, sizeof(id), "%s", hyp_session_id_str(s));
	/* The trace id extension carries the session id. */
	ck_assert_int_eq(hyp_ticket_ext_find(ext, extlen,
	    HYP_TICKET_EXT_TRACE_ID, &d, &dlen), 0);
	ck_assert_uint_eq(dlen, 16);
	ck_assert_int_eq(memcmp(d, id, 16), 0);
	hyp_session_end(s, "referred");
	/* Bob is not on the allowlist; his ticket gets the id too. */
	s2 = run_session("203.0.113.10", "bob", UUID_BOB, ext, &extlen,
	    sizeof(ext));
	snprintf(id2, sizeof(id2), "%s", hyp_session_id_str(s2));
	hyp_session_end(s2, "referred");

	log = read_file("trace.jsonl");
	assert_lines_json(log);
	snprintf(want, sizeof(want), "\"session\":\"%s\"", id);
	ck_assert_int_eq(count_lines(log, want), 8);
	ck_assert_int_eq(count_lines(log, "\"event\":\"accept\""), 2);
	ck_assert_int_eq(count_lines(log, "\"event\":\"handshake\""), 2);
	ck_assert_int_eq(count_lines(log, "\"event\":\"connect\""), 2);
	ck_assert_int_eq(count_lines(log, "\"event\":\"decision\""), 2);
	ck_assert_int_eq(count_lines(log, "\"event\":\"referral\""), 2);
	ck_assert_int_eq(count_lines(log, "\"event\":\"session-end\""), 2);
	/* Packets only for alice: her Connect in, her referral out. */
	ck_assert_int_eq(count_lines(log, "\"event\":\"packet\""), 2);
	snprintf(want, sizeof(want), "\"event\":\"packet\",\"session\":\"%s\"",
	    id2);
	ck_assert_int_eq(count_lines(log, want), 0);
	ck_assert_ptr_nonnull(strstr(log, "\"event\":\"referral\",\"session\""
	    ":\"" ));
	ck_assert_ptr_nonnull(strstr(log, "\"backend\":\"lobby-1\",\"pool\":"
	    "\"lobby\",\"host\":\"127.0.0.1\",\"port\":5521,\"to\":"
	    "\"127.0.0.1:5521\",\"ticket_len\":200,\"kid\":\"k1\","
	    "\"trace_id\":\""));
	ck_assert_ptr_nonnull(strstr(log, "\"decision\":\"refer\","
	    "\"backend\":\"lobby-1\""));
	ck_assert_ptr_nonnull(strstr(log, "\"reason\":\"route=everyone "
	    "backend=lobby-1\""));
	ck_assert_ptr_nonnull(strstr(log, "\"outcome\":\"referred\","
	    "\"peer\":\"203.0.113.9:40000\",\"username\":\"alice\""));
	ck_assert_ptr_nonnull(strstr(log, "\"bytes_in\":1234"));
	ck_assert_ptr_nonnull(strstr(log, "\"dir\":\"out\",\"stream\":0,\"id\""
	    ":18,\"name\":\"ClientReferral\",\"length\":"));
	/* Order: accept before session-end of the same session. */
	ck_assert(strstr(log, "\"event\":\"accept\"") <
	    strstr(log, "\"event\":\"session-end\""));
	assert_no_secret(log, TOKEN);
	assert_no_secret(log, REFDATA);
	ck_assert_int_eq(hyp_metrics_render(&metrics, NULL), 0);
	ck_assert_ptr_nonnull(strstr(metrics,
	    "hyprox_tracer_events_total{event=\"accept\"} 2"));
	ck_assert_ptr_nonnull(strstr(metrics,
	    "hyprox_tracer_events_total{event=\"packet\"} 2"));
	ck_assert_ptr_nonnull(strstr(metrics, "hyprox_tracer_dropped_total 0"));
	free(metrics);
	teardown();
}
END_TEST

START_TEST(plugin_host_events)
{
	struct hyp_audit_event	 au = { "op@10.0.0.5", "register", "lobby-9",
	    "host 10.0.0.9:5520 \"quoted\"", 1 };
	struct hyp_plugin_event	 pe = { "router", "reloaded", NULL };
	const char		*log;

	setup();
	plugin_up("output: t.jsonl\n");
	hyp_hook_run(HYP_HOOK_AUDIT, NULL, &au);
	hyp_hook_run(HYP_HOOK_PLUGIN_STATE, NULL, &pe);
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	log = read_file("t.jsonl");
	assert_lines_json(log);
	ck_assert_ptr_nonnull(strstr(log, "\"event\":\"audit\",\"actor\":"
	    "\"op@10.0.0.5\",\"action\":\"register\",\"object\":\"lobby-9\","
	    "\"detail\":\"host 10.0.0.9:5520 \\\"quoted\\\"\",\"ok\":true}"));
	ck_assert_ptr_nonnull(strstr(log, "\"event\":\"plugin\",\"plugin\":"
	    "\"router\",\"state\":\"reloaded\",\"detail\":null}"));
	ck_assert_ptr_nonnull(strstr(log, "\"event\":\"reload\"}"));
	teardown();
}
END_TEST

/* Run the loop until the pending signal events ran. */
static void
loop_signals(void)
{
	struct timeval	tv = { 0, 200000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

START_TEST(plugin_signals)
{
	hyp_session_t	*s;
	uint8_t		 ext[64];
	size_t		 extlen;
	char		 old[256], cur[256];
	const char	*log;

	setup();
	plugin_up("output: t.jsonl\nring_size: 4\nring_dump: ring.jsonl\n");
	s = run_session("203.0.113.9", "alice", UUID_ALICE, ext, &extlen,
	    sizeof(ext));
	hyp_session_end(s, "referred");
	/* logrotate: move the file, SIGUSR1, events go to a new file. */
	snprintf(old, sizeof(old), "%s/t.jsonl.1", dir);
	snprintf(cur, sizeof(cur), "%s/t.jsonl", dir);
	ck_assert_int_eq(rename(cur, old), 0);
	raise(SIGUSR1);
	loop_signals();
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	log = read_file("t.jsonl");
	ck_assert_int_eq(count_lines(log, "\"event\""), 1);
	ck_assert_int_eq(count_lines(log, "\"event\":\"reload\""), 1);
	log = read_file("t.jsonl.1");
	ck_assert_int_eq(count_lines(log, "\"event\":\"session-end\""), 1);
	/* SIGUSR2: the last 4 events, oldest first. */
	raise(SIGUSR2);
	loop_signals();
	log = read_file("ring.jsonl");
	assert_lines_json(log);
	ck_assert_int_eq(count_lines(log, "\"event\""), 4);
	ck_assert_ptr_nonnull(strstr(log, "\"event\":\"referral\""));
	ck_assert(strstr(log, "\"event\":\"referral\"") <
	    strstr(log, "\"event\":\"session-end\""));
	ck_assert(strstr(log, "\"event\":\"session-end\"") <
	    strstr(log, "\"event\":\"reload\""));
	assert_no_secret(log, TOKEN);
	assert_no_secret(log, REFDATA);
	teardown();
}
END_TEST

START_TEST(plugin_reload)
{
	void		*c2;
	const char	*log;

	setup();
	plugin_up("output: a.jsonl\n");
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	/* A bad file is refused at prepare and changes nothing. */
	ck_assert_int_eq(load_conf("output: nodir/b.jsonl\n", &c2), 0);
	ck_assert_int_ne(hyp_plugin.reload(plug, c2, HYP_RELOAD_PREPARE), 0);
	hyp_plugin.reload(plug, c2, HYP_RELOAD_ABORT);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c2);
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	ck_assert_int_eq(count_lines(read_file("a.jsonl"), "reload"), 2);
	/* A good one switches the file and the ring. */
	ck_assert_int_eq(load_conf("output: b.jsonl\nring_size: 2\n"
	    "ring_dump: r.jsonl\n", &c2), 0);
	ck_assert_int_eq(hyp_plugin.reload(plug, c2, HYP_RELOAD_PREPARE), 0);
	ck_assert_int_eq(hyp_plugin.reload(plug, c2, HYP_RELOAD_COMMIT), 0);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, conf);
	conf = c2;
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	ck_assert_int_eq(count_lines(read_file("a.jsonl"), "reload"), 2);
	ck_assert_int_eq(count_lines(read_file("b.jsonl"), "reload"), 1);
	raise(SIGUSR2);
	loop_signals();
	log = read_file("r.jsonl");
	ck_assert_int_eq(count_lines(log, "\"event\":\"reload\""), 1);
	teardown();
}
END_TEST

START_TEST(plugin_load_fails)
{
	void	*c;

	setup();
	ck_assert_int_eq(load_conf("output: missing/dir/x.jsonl\n", &c), 0);
	ck_assert_int_ne(hyp_plugin.load(plug, c), 0);
	ck_assert_ptr_null(hyp_plugin_ctx(plug));
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ACCEPT), 0);
	hypd_plugin_conf_free(hyp_plugin.conf_schema, c);
	teardown();
}
END_TEST

/* The suite. */
static Suite *
tracer_suite(void)
{
	Suite	*s = suite_create("tracer");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, json_format);
	tcase_add_test(tc, json_truncate);
	tcase_add_test(tc, reason_value);
	tcase_add_test(tc, conf_errors);
	tcase_add_test(tc, allowlist);
	tcase_add_test(tc, redact_connect);
	tcase_add_test(tc, ring_wrap);
	tcase_add_test(tc, plugin_session);
	tcase_add_test(tc, plugin_host_events);
	tcase_add_test(tc, plugin_signals);
	tcase_add_test(tc, plugin_reload);
	tcase_add_test(tc, plugin_load_fails);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run every test in fork mode; nonzero exit when one failed. */
int
main(void)
{
	SRunner	*sr = srunner_create(tracer_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
