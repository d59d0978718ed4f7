/*
 * Unit tests of the network-free parts of "hyproxctl probe"
 * (tools/probe_util.c): HOST[:PORT] forms, hex and durations, the command
 * line, Connect building against HYTALE-PROTOCOL.md §7, reply decoding,
 * exit codes, JSON escaping and the JSON output.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "hyproxctl.h"

/* §7 vectors, frames including the 8-byte header. */
static const char vec_connect1[] =
    "4e 00 00 00 00 00 00 00 00 84 ef 2b af 14 00 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 12 3e 45 67 e8 9b 12 d3 a4 56"
    " 42 66 14 17 40 00 00 00 00 00 ff ff ff ff 06 00 00 00 ff ff ff ff ff ff"
    " ff ff 05 53 74 65 76 65 05 65 6e 2d 55 53";
static const char vec_connect2[] =
    "59 00 00 00 00 00 00 00 06 84 ef 2b af 14 00 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 12 3e 45 67 e8 9b 12 d3 a4 56"
    " 42 66 14 17 40 00 00 00 00 00 ff ff ff ff 06 00 00 00 0c 00 00 00 0f 00"
    " 00 00 05 53 74 65 76 65 05 65 6e 2d 55 53 02 01 02 90 15 05 6c 6f 62 62"
    " 79";
static const char vec_referral2[] =
    "19 00 00 00 12 00 00 00 03 00 00 00 00 0b 00 00 00 91 15 08 31 30 2e 30"
    " 2e 30 2e 32 04 48 59 52 50";
static const char vec_disconnect[] = "05 00 00 00 01 00 00 00 01 00 02 6e 6f";

/* Decode a vector with the function under test; fails the test on error. */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	ssize_t	n = probe_parse_hex(s, out, cap);

	ck_assert_int_ge(n, 0);
	return ((size_t)n);
}

/* Run probe_parse_args on a NULL-terminated list. */
static int
parse(struct probe_opts *o, char *err, size_t errlen, ...)
{
	char	*argv[64];
	va_list	 ap;
	int	 argc = 0;

	argv[argc++] = "probe";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
		ck_assert_int_lt(argc, 64);
	}
	va_end(ap);
	err[0] = '\0';
	return (probe_parse_args(argc, argv, o, err, errlen));
}

/* Put a frame (header + payload) into a hop as if it was received. */
static void
hop_from_frame(struct probe_hop *h, const char *hex)
{
	uint8_t	buf[512];
	size_t	n = unhex(hex, buf, sizeof(buf));

	memset(h, 0, sizeof(*h));
	h->have_packet = 1;
	h->pkt_len = (uint32_t)buf[0] | (uint32_t)buf[1] << 8;
	h->pkt_id = (uint32_t)buf[4];
	ck_assert_uint_eq(h->pkt_len, n - 8);
	h->pkt = malloc(n - 8);
	ck_assert_ptr_nonnull(h->pkt);
	memcpy(h->pkt, buf + 8, n - 8);
	h->pktread = n - 8;
	probe_classify(h);
}

START_TEST(test_hostport_forms)
{
	char		host[HYP_HOST_MAX + 1];
	uint16_t	port;

	ck_assert_int_eq(probe_parse_hostport("example.org", 5520, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "example.org");
	ck_assert_uint_eq(port, 5520);
	ck_assert_int_eq(probe_parse_hostport("example.org:5521", 5520, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "example.org");
	ck_assert_uint_eq(port, 5521);
	ck_assert_int_eq(probe_parse_hostport("127.0.0.1:65535", 5520, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 65535);
	ck_assert_int_eq(probe_parse_hostport("[::1]:5520", 1, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 5520);
	ck_assert_int_eq(probe_parse_hostport("[2001:db8::2]", 5520, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "2001:db8::2");
	ck_assert_uint_eq(port, 5520);
	/* A bare IPv6 literal has no port. */
	ck_assert_int_eq(probe_parse_hostport("fe80::1", 5520, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "fe80::1");
	ck_assert_uint_eq(port, 5520);
}
END_TEST

START_TEST(test_hostport_bad)
{
	static const char *const bad[] = {
		"", ":5520", "host:", "host:0", "host:65536", "host:12a",
		"host:-1", "host:+1", "[::1", "[::1]x", "[::1]:", "[]:5520",
		"[::1]:99999", "a]b", "[a[b]:1"
	};
	char		host[HYP_HOST_MAX + 1], longname[300];
	uint16_t	port;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(probe_parse_hostport(bad[i], 5520, host,
		    sizeof(host), &port) == HYP_EINVAL, "accepted '%s'",
		    bad[i]);
	ck_assert_int_eq(probe_parse_hostport(NULL, 5520, host, sizeof(host),
	    &port), HYP_EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(probe_parse_hostport(longname, 5520, host,
	    sizeof(host), &port), HYP_EINVAL);
	longname[HYP_HOST_MAX] = '\0';		/* exactly 256: fits */
	ck_assert_int_eq(probe_parse_hostport(longname, 5520, host,
	    sizeof(host), &port), 0);
	/* A caller buffer smaller than the host is refused, not overrun. */
	ck_assert_int_eq(probe_parse_hostport("example.org", 5520, host, 5,
	    &port), HYP_EINVAL);
}
END_TEST

START_TEST(test_hostport_format)
{
	char	buf[PROBE_TARGET_MAX];

	probe_format_hostport("::1", 5520, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:5520");
	probe_format_hostport("lobby", 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "lobby:1");
	ck_assert_int_eq(probe_is_numeric_host("10.0.0.2"), 1);
	ck_assert_int_eq(probe_is_numeric_host("::1"), 1);
	ck_assert_int_eq(probe_is_numeric_host("lobby.example"), 0);
}
END_TEST

START_TEST(test_hex)
{
	uint8_t	buf[4];

	ck_assert_int_eq(probe_parse_hex("0102ff", buf, sizeof(buf)), 3);
	ck_assert_uint_eq(buf[0], 1);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_int_eq(probe_parse_hex("0xAB cd", buf, sizeof(buf)), 2);
	ck_assert_uint_eq(buf[0], 0xab);
	ck_assert_uint_eq(buf[1], 0xcd);
	ck_assert_int_eq(probe_parse_hex("", buf, sizeof(buf)), 0);
	ck_assert_int_eq(probe_parse_hex("0x", buf, sizeof(buf)), 0);
	ck_assert_int_eq(probe_parse_hex("0", buf, sizeof(buf)), HYP_EINVAL);
	ck_assert_int_eq(probe_parse_hex("zz", buf, sizeof(buf)), HYP_EINVAL);
	ck_assert_int_eq(probe_parse_hex("0 1", buf, sizeof(buf)),
	    HYP_EINVAL);
	ck_assert_int_eq(probe_parse_hex("01-02", buf, sizeof(buf)),
	    HYP_EINVAL);
	ck_assert_int_eq(probe_parse_hex("0102030405", buf, sizeof(buf)),
	    HYP_ENOSPC);
	ck_assert_int_eq(probe_parse_hex("01020304", buf, sizeof(buf)), 4);
}
END_TEST

START_TEST(test_load_bytes)
{
	char	 path[] = "/tmp/check_probe.XXXXXX", arg[64], err[128];
	uint8_t	*buf;
	size_t	 len;
	int	 fd;

	ck_assert_int_eq(probe_load_bytes("48595250", 8, &buf, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(buf, "HYRP", 4), 0);
	free(buf);
	ck_assert_int_lt(probe_load_bytes("4859525", 8, &buf, &len, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(buf);
	ck_assert_int_lt(probe_load_bytes("010203", 2, &buf, &len, err,
	    sizeof(err)), 0);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abcdef", 6), 6);
	close(fd);
	snprintf(arg, sizeof(arg), "@%s", path);
	ck_assert_int_eq(probe_load_bytes(arg, 6, &buf, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(memcmp(buf, "abcdef", 6), 0);
	free(buf);
	ck_assert_int_eq(probe_load_bytes(arg, 5, &buf, &len, err,
	    sizeof(err)), HYP_ETOOBIG);
	ck_assert_ptr_null(buf);
	unlink(path);
	ck_assert_int_eq(probe_load_bytes(arg, 5, &buf, &len, err,
	    sizeof(err)), HYP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(test_duration)
{
	uint64_t	ms;

	ck_assert_int_eq(probe_parse_duration("10s", &ms), 0);
	ck_assert_uint_eq(ms, 10000);
	ck_assert_int_eq(probe_parse_duration("10", &ms), 0);
	ck_assert_uint_eq(ms, 10000);
	ck_assert_int_eq(probe_parse_duration("250ms", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(probe_parse_duration("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_ne(probe_parse_duration("0", &ms), 0);
	ck_assert_int_ne(probe_parse_duration("", &ms), 0);
	ck_assert_int_ne(probe_parse_duration("-1", &ms), 0);
	ck_assert_int_ne(probe_parse_duration("5h", &ms), 0);
	ck_assert_int_ne(probe_parse_duration("1441m", &ms), 0);
	ck_assert_int_ne(probe_parse_duration("99999999999999999999", &ms),
	    0);
}
END_TEST

START_TEST(test_alpn)
{
	struct probe_opts	o;
	char			big[300];

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(probe_parse_alpn("h3", &o), 0);
	ck_assert_uint_eq(o.nalpn, 1);
	ck_assert_str_eq(o.alpn[0], "h3");
	ck_assert_int_eq(probe_parse_alpn("hytale/3,hytale/2", &o), 0);
	ck_assert_uint_eq(o.nalpn, 2);
	ck_assert_str_eq(o.alpn[1], "hytale/2");
	ck_assert_int_ne(probe_parse_alpn("", &o), 0);
	ck_assert_int_ne(probe_parse_alpn("a,,b", &o), 0);
	ck_assert_int_ne(probe_parse_alpn(",a", &o), 0);
	ck_assert_int_ne(probe_parse_alpn("a,", &o), 0);
	ck_assert_int_ne(probe_parse_alpn("1,2,3,4,5,6,7,8,9", &o), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_ne(probe_parse_alpn(big, &o), 0);
}
END_TEST

START_TEST(test_args_defaults)
{
	struct probe_opts	o;
	struct probe_target	t;
	char			err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "play.example", NULL),
	    0);
	ck_assert_str_eq(o.host, "play.example");
	ck_assert_uint_eq(o.port, 5520);
	ck_assert_int_eq(o.layout, HYP_CONNECT_V2);
	ck_assert_str_eq(o.user, "Probe");
	ck_assert_str_eq(o.language, "en-US");
	ck_assert_int_eq(o.crc, -1356075132);
	ck_assert_int_eq(o.build, 20);
	ck_assert_uint_eq(o.nalpn, 2);
	ck_assert_str_eq(o.alpn[0], "hytale/2");
	ck_assert_str_eq(o.alpn[1], "hytale/1");
	ck_assert_uint_eq(o.timeout_ms, 10000);
	ck_assert_int_eq(o.max_follow, 3);
	ck_assert_int_eq(o.follow | o.json | o.no_connect | o.has_raw, 0);
	probe_first_target(&o, &t);
	ck_assert_str_eq(t.sni, "play.example");	/* a name: SNI */
	ck_assert_int_eq(t.has_rdata | t.has_rsrc, 0);
	probe_opts_free(&o);

	ck_assert_int_eq(parse(&o, err, sizeof(err), "[::1]:5521", NULL), 0);
	ck_assert_str_eq(o.host, "::1");
	ck_assert_uint_eq(o.port, 5521);
	probe_first_target(&o, &t);
	ck_assert_str_eq(t.sni, "");			/* numeric: none */
	probe_opts_free(&o);

	ck_assert_int_eq(parse(&o, err, sizeof(err), "-h", NULL), 1);
}
END_TEST

START_TEST(test_args_all)
{
	struct probe_opts	o;
	struct probe_target	t;
	char			err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--json", "-f",
	    "--max-follow", "5", "--sni", "lobby", "--alpn", "h3",
	    "--layout", "v3", "--user", "Steve", "--uuid",
	    "123e4567-e89b-12d3-a456-426614174000", "--crc", "0x4e7c4354",
	    "--build", "100", "--editor", "--referral-data", "0102",
	    "--referral-source", "[::1]:7", "--identity-token", "a.b.c",
	    "--split", "3", "-t", "500ms", "127.0.0.1:9", "-v", NULL), 0);
	ck_assert_int_eq(o.json, 1);
	ck_assert_int_eq(o.follow, 1);
	ck_assert_int_eq(o.max_follow, 5);
	ck_assert_int_eq(o.verbose, 1);		/* after the host, too */
	ck_assert_str_eq(o.alpn[0], "h3");
	ck_assert_int_eq(o.layout, HYP_CONNECT_V3);
	ck_assert_int_eq(o.crc, 1316766548);
	ck_assert_int_eq(o.build, 100);
	ck_assert_int_eq(o.have_uuid, 1);
	ck_assert_uint_eq(o.uuid[0], 0x12);
	ck_assert_uint_eq(o.referral_len, 2);
	ck_assert_str_eq(o.rsrc_host, "::1");
	ck_assert_uint_eq(o.rsrc_port, 7);
	ck_assert_uint_eq(o.split, 3);
	ck_assert_uint_eq(o.timeout_ms, 500);
	probe_first_target(&o, &t);
	ck_assert_str_eq(t.sni, "lobby");
	ck_assert_int_eq(t.has_rdata, 1);
	ck_assert_int_eq(t.has_rsrc, 1);
	probe_opts_free(&o);

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--no-sni", "lobby",
	    NULL), 0);
	probe_first_target(&o, &t);
	ck_assert_str_eq(t.sni, "");
	probe_opts_free(&o);
}
END_TEST

START_TEST(test_args_bad)
{
	static const char *const bad[][4] = {
		{ NULL },
		{ "a", "b", NULL },
		{ "--cert", "c.pem", "h", NULL },
		{ "--sni", "x", "--no-sni", "h" },
		{ "--layout", "v4", "h", NULL },
		{ "--uuid", "nope", "h", NULL },
		{ "--user", "ThisNameIsTooLong", "h", NULL },
		{ "--raw-first", "00", "--no-connect", "h" },
		{ "--raw-first", "0", "h", NULL },
		{ "--pin", "abc", "h", NULL },
		{ "--split", "0", "h", NULL },
		{ "--max-follow", "17", "h", NULL },
		{ "--timeout", "0", "h", NULL },
		{ "--crc", "4294967296", "h", NULL },
		{ "--build", "1x", "h", NULL },
		{ "--referral-data", "zz", "h", NULL },
		{ "--referral-source", "h:0", "h", NULL },
		{ "--client-version", "012345678901234567890", "h", NULL },
		{ "--bogus", "h", NULL },
		{ "h:99999", NULL },
		{ "--timeout", NULL },
	};
	struct probe_opts	o;
	char			err[256], *argv[8];
	size_t			i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[0] = "probe";
		for (j = 0; j < 4 && bad[i][j] != NULL; j++)
			argv[j + 1] = (char *)bad[i][j];
		argv[j + 1] = NULL;
		err[0] = '\0';
		ck_assert_msg(probe_parse_args((int)j + 1, argv, &o, err,
		    sizeof(err)) == -1, "case %zu accepted", i);
		ck_assert_msg(err[0] != '\0', "case %zu: no message", i);
		probe_opts_free(&o);
	}
}
END_TEST

START_TEST(test_connect_vectors)
{
	struct probe_opts	o;
	struct probe_target	t;
	uint8_t			want[256], got[HYP_CONNECT_V1_MAX + 8];
	size_t			wlen;
	char			err[256];
	int			n;

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--user", "Steve",
	    "--uuid", "123e4567-e89b-12d3-a456-426614174000", "10.0.0.1",
	    NULL), 0);
	probe_first_target(&o, &t);
	n = probe_build_connect(&o, &t, got, sizeof(got));
	wlen = unhex(vec_connect1, want, sizeof(want));
	ck_assert_int_eq(n, (int)wlen);
	ck_assert_int_eq(memcmp(got, want, wlen), 0);
	/* Too small a buffer is an error, never an overrun. */
	ck_assert_int_lt(probe_build_connect(&o, &t, got, 40), 0);
	ck_assert_int_lt(probe_build_connect(&o, &t, got, 4), 0);
	probe_opts_free(&o);

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--user", "Steve",
	    "--uuid", "123e4567-e89b-12d3-a456-426614174000",
	    "--referral-data", "0102", "--referral-source", "lobby",
	    "10.0.0.1", NULL), 0);
	probe_first_target(&o, &t);
	n = probe_build_connect(&o, &t, got, sizeof(got));
	wlen = unhex(vec_connect2, want, sizeof(want));
	ck_assert_int_eq(n, (int)wlen);
	ck_assert_int_eq(memcmp(got, want, wlen), 0);
	probe_opts_free(&o);
}
END_TEST

START_TEST(test_connect_layouts)
{
	struct probe_opts	o;
	struct probe_target	t;
	struct hyp_connect	c;
	uint8_t			got[HYP_CONNECT_V1_MAX + 8];
	char			err[256];
	const char		*layouts[] = { "v1", "v2", "v3" };
	int			i, n;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(parse(&o, err, sizeof(err), "--layout",
		    layouts[i], "--editor", "--identity-token", "tok",
		    "--referral-data", "", "--referral-source", "src:9", "h",
		    NULL), 0);
		probe_first_target(&o, &t);
		n = probe_build_connect(&o, &t, got, sizeof(got));
		ck_assert_int_gt(n, 8);
		ck_assert_int_eq(hyp_connect_decode_layout(got + 8,
		    (size_t)n - 8, (enum hyp_connect_layout)(i + 1), &c), 0);
		ck_assert_uint_eq(c.client_type, HYP_CLIENT_EDITOR);
		ck_assert_uint_eq(c.identity_token.len, 3);
		/* Empty referral data is present, not null. */
		ck_assert_ptr_nonnull(c.referral_data.ptr);
		ck_assert_uint_eq(c.referral_data.len, 0);
		ck_assert_int_eq(c.has_referral_source, 1);
		ck_assert_uint_eq(c.referral_source.port, 9);
		ck_assert_int_eq(c.has_uuid, i < 2);
		probe_opts_free(&o);
	}
}
END_TEST

START_TEST(test_classify)
{
	struct probe_hop	h;

	hop_from_frame(&h, vec_referral2);
	ck_assert_int_eq(h.result, PROBE_R_REFERRAL);
	ck_assert_uint_eq(h.ref.host_to.port, 5521);
	ck_assert_uint_eq(h.ref.host_to.host.len, 8);
	ck_assert_int_eq(memcmp(h.ref.data.ptr, "HYRP", 4), 0);
	probe_hop_reset(&h);

	hop_from_frame(&h, vec_disconnect);
	ck_assert_int_eq(h.result, PROBE_R_DISCONNECT);
	ck_assert_int_eq(memcmp(h.disc.reason.ptr, "no", 2), 0);
	probe_hop_reset(&h);

	/* A truncated referral is "other", with the reason. */
	hop_from_frame(&h, "03 00 00 00 12 00 00 00 03 00 00");
	ck_assert_int_eq(h.result, PROBE_R_OTHER);
	ck_assert_ptr_nonnull(strstr(h.error, "ClientReferral"));
	probe_hop_reset(&h);

	hop_from_frame(&h, "01 00 00 00 0e 00 00 00 00");
	ck_assert_int_eq(h.result, PROBE_R_ACCEPT);
	ck_assert_ptr_null(h.acc.password_challenge.ptr);
	probe_hop_reset(&h);

	hop_from_frame(&h, "00 00 00 00 63 00 00 00");
	ck_assert_int_eq(h.result, PROBE_R_OTHER);
	ck_assert_str_eq(h.error, "");
	probe_hop_reset(&h);

	/* A frame over the limit is not read: "other", with the reason. */
	memset(&h, 0, sizeof(h));
	h.have_packet = 1;
	h.pkt_id = HYP_PKT_DISCONNECT;
	h.pkt_len = 0x80000000u;
	probe_classify(&h);
	ck_assert_int_eq(h.result, PROBE_R_OTHER);
	ck_assert_ptr_nonnull(strstr(h.error, "2147483648"));
}
END_TEST

START_TEST(test_next_target)
{
	struct probe_opts	o;
	struct probe_target	t0, t1;
	struct probe_hop	h;
	char			err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "-f", "lobby:5520",
	    NULL), 0);
	probe_first_target(&o, &t0);
	hop_from_frame(&h, vec_referral2);
	ck_assert_int_eq(probe_next_target(&o, &h, &t0, &t1), 0);
	ck_assert_str_eq(t1.host, "10.0.0.2");
	ck_assert_uint_eq(t1.port, 5521);
	ck_assert_str_eq(t1.sni, "");		/* numeric target */
	ck_assert_int_eq(t1.has_rdata, 1);
	ck_assert_uint_eq(t1.rdatalen, 4);
	ck_assert_int_eq(t1.has_rsrc, 1);
	ck_assert_str_eq(t1.rsrc_host, "lobby");
	ck_assert_uint_eq(t1.rsrc_port, 5520);
	h.result = PROBE_R_DISCONNECT;
	ck_assert_int_ne(probe_next_target(&o, &h, &t0, &t1), 0);
	probe_hop_reset(&h);
	probe_opts_free(&o);
}
END_TEST

START_TEST(test_exit_codes)
{
	ck_assert_int_eq(probe_exit_code(PROBE_R_ACCEPT), 0);
	ck_assert_int_eq(probe_exit_code(PROBE_R_REFERRAL), 10);
	ck_assert_int_eq(probe_exit_code(PROBE_R_DISCONNECT), 11);
	ck_assert_int_eq(probe_exit_code(PROBE_R_CLOSED), 12);
	ck_assert_int_eq(probe_exit_code(PROBE_R_OTHER), 13);
	ck_assert_int_eq(probe_exit_code(PROBE_R_HANDSHAKE_FAILED), 20);
	ck_assert_int_eq(probe_exit_code(PROBE_R_TIMEOUT), 21);
	ck_assert_int_eq(probe_exit_code(PROBE_R_ERROR), 1);
	ck_assert_str_eq(probe_result_name(PROBE_R_HANDSHAKE_FAILED),
	    "handshake_failed");
	ck_assert_str_eq(probe_app_code_name(5), "ClientOutdated");
	ck_assert_ptr_null(probe_app_code_name(7));
	ck_assert_str_eq(probe_transport_code_name(0xa),
	    "PROTOCOL_VIOLATION");
	ck_assert_str_eq(probe_transport_code_name(0x178), "CRYPTO_ERROR");
}
END_TEST

START_TEST(test_json_escape)
{
	char	out[64];
	size_t	n;

	n = probe_json_escape(out, sizeof(out), "a\"b\\c", 5);
	ck_assert_str_eq(out, "a\\\"b\\\\c");
	ck_assert_uint_eq(n, 7);
	probe_json_escape(out, sizeof(out), "\n\r\t\x01\x1f\x7f", 6);
	ck_assert_str_eq(out, "\\n\\r\\t\\u0001\\u001f\\u007f");
	/* A NUL inside the bytes is escaped, not a terminator. */
	probe_json_escape(out, sizeof(out), "a\0b", 3);
	ck_assert_str_eq(out, "a\\u0000b");
	/* Valid UTF-8 passes; invalid bytes become U+FFFD. */
	probe_json_escape(out, sizeof(out), "\xc3\xa9\xe2\x82\xac", 5);
	ck_assert_str_eq(out, "\xc3\xa9\xe2\x82\xac");
	probe_json_escape(out, sizeof(out), "\xff", 1);
	ck_assert_str_eq(out, "\\ufffd");
	probe_json_escape(out, sizeof(out), "\xc0\x80", 2);	/* overlong */
	ck_assert_str_eq(out, "\\ufffd\\ufffd");
	probe_json_escape(out, sizeof(out), "\xed\xa0\x80", 3);	/* surrogate */
	ck_assert_str_eq(out, "\\ufffd\\ufffd\\ufffd");
	probe_json_escape(out, sizeof(out), "\xe2\x82", 2);	/* truncated */
	ck_assert_str_eq(out, "\\ufffd\\ufffd");
	probe_json_escape(out, sizeof(out), "\xf4\x90\x80\x80", 4); /* >10FFFF */
	ck_assert_str_eq(out, "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* Small buffer: truncated and NUL-ended, full length returned. */
	n = probe_json_escape(out, 4, "\"\"\"", 3);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(out, "\\\"\\");
	ck_assert_uint_eq(probe_json_escape(out, sizeof(out), "", 0), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_print_json)
{
	struct probe_hop	 h;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;

	memset(&h, 0, sizeof(h));
	h.hop = 2;
	snprintf(h.target, sizeof(h.target), "[::1]:5520");
	snprintf(h.addr, sizeof(h.addr), "::1");
	h.handshake_done = 1;
	h.handshake_ns = 1500000;
	snprintf(h.alpn, sizeof(h.alpn), "hytale/2");
	h.have_packet = 1;
	h.pkt_id = 1;
	h.pkt_len = 9;
	h.pkt = malloc(9);
	ck_assert_ptr_nonnull(h.pkt);
	memcpy(h.pkt, "\x01\x00\x06\"\n\\\x01\xc3\xa9", 9);
	h.pktread = 9;
	probe_classify(&h);
	ck_assert_int_eq(h.result, PROBE_R_DISCONNECT);
	h.have_close = 1;
	h.close.how = "peer";
	h.close.app = 1;
	memcpy(h.close.reason, "x\"", 2);
	h.close.reasonlen = 2;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	probe_print_json(fp, &h);
	fclose(fp);
	ck_assert_str_eq(buf, "{\"hop\":2,\"target\":\"[::1]:5520\","
	    "\"address\":\"::1\",\"sni\":null,\"handshake_ms\":1.500,"
	    "\"alpn\":\"hytale/2\",\"server_fp\":null,"
	    "\"result\":\"disconnect\",\"packet\":{\"id\":1,"
	    "\"name\":\"Disconnect\",\"length\":9},\"disconnect\":{\"type\":0,"
	    "\"reason\":\"\\\"\\n\\\\\\u0001\xc3\xa9\"},\"close\":{\"by\":\"peer\","
	    "\"app\":true,\"code\":0,\"reason\":\"x\\\"\"}}\n");
	free(buf);
	probe_hop_reset(&h);
}
END_TEST

/* Assemble the suite. */
static Suite *
probe_suite(void)
{
	Suite	*s = suite_create("probe");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_hostport_forms);
	tcase_add_test(tc, test_hostport_bad);
	tcase_add_test(tc, test_hostport_format);
	tcase_add_test(tc, test_hex);
	tcase_add_test(tc, test_load_bytes);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_alpn);
	tcase_add_test(tc, test_args_defaults);
	tcase_add_test(tc, test_args_all);
	tcase_add_test(tc, test_args_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("wire");
	tcase_add_test(tc, test_connect_vectors);
	tcase_add_test(tc, test_connect_layouts);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_next_target);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_json_escape);
	tcase_add_test(tc, test_print_json);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(probe_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
