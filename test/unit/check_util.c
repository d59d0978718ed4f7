/*
 * Unit tests for the libhyprox utilities (sdk/lib/util.c): durations,
 * numeric addresses and prefixes, the union of the cases the plugins' own
 * parsers were tested with before they moved here.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <hyprox/error.h>
#include <hyprox/util.h>

START_TEST(duration_good)
{
	static const struct {
		const char	*s;
		uint32_t	 ms;
	} good[] = {
		{ "10s", 10000 }, { "250ms", 250 }, { "100ms", 100 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "7", 7000 },
		{ "10", 10000 }, { "0", 0 }, { "0ms", 0 }, { "007s", 7000 },
		{ "4294967295ms", UINT32_MAX }, { "1193h", 4294800000U },
	};
	uint32_t	ms;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 1;
		ck_assert_msg(hyp_duration_parse(good[i].s, UINT32_MAX, &ms) ==
		    0, "refused '%s'", good[i].s);
		ck_assert_uint_eq(ms, good[i].ms);
	}
	/* A bound is inclusive; above UINT32_MAX it is UINT32_MAX. */
	ck_assert_int_eq(hyp_duration_parse("1h", 3600000, &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(hyp_duration_parse("4294967295ms", UINT64_MAX, &ms),
	    0);
	ck_assert_uint_eq(ms, UINT32_MAX);
}
END_TEST

START_TEST(duration_bad)
{
	static const char *const syntax[] = {
		"", "s", "ms", "1.5s", "5d", "-1s", "-1", "+1s", " 1s", "1s ",
		"1 s", "1S", "1sec", "1hh", "0x10", "10x", "99999999999999x",
	};
	uint32_t	ms = 42;
	size_t		i;

	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		ck_assert_msg(hyp_duration_parse(syntax[i], UINT32_MAX, &ms) ==
		    HYP_EINVAL, "accepted '%s'", syntax[i]);
	ck_assert_int_eq(hyp_duration_parse(NULL, UINT32_MAX, &ms),
	    HYP_EINVAL);
	/* Too large, by the bound or by uint32_t milliseconds. */
	ck_assert_int_eq(hyp_duration_parse("5000000h", UINT32_MAX, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("5000000m", UINT32_MAX, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("99999999999", UINT32_MAX, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("99999999999h", UINT32_MAX, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("99999999999999999999",
	    UINT32_MAX, &ms), HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("4294967296ms", UINT64_MAX, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("3601s", 3600000, &ms),
	    HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("61m", 3600000, &ms), HYP_ERANGE);
	ck_assert_int_eq(hyp_duration_parse("1ms", 0, &ms), HYP_ERANGE);
	/* Nothing written on failure. */
	ck_assert_uint_eq(ms, 42);
}
END_TEST

/* Parse s and return the numeric host and port it names. */
static int
addr(const char *s, int def, char *host, uint16_t *port, int *fam)
{
	struct sockaddr_storage	ss;
	socklen_t		len = 0;
	int			rc;

	if ((rc = hyp_addr_parse(s, def, &ss, &len)) != 0)
		return (rc);
	ck_assert_uint_eq(len, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	*fam = ss.ss_family;
	return (hyp_addr_numeric((struct sockaddr *)&ss, host,
	    INET6_ADDRSTRLEN, port));
}

START_TEST(addr_good)
{
	static const struct {
		const char	*s;
		int		 def;
		const char	*host;
		uint16_t	 port;
		int		 fam;
	} good[] = {
		{ "127.0.0.1:9520", -1, "127.0.0.1", 9520, AF_INET },
		{ "[::1]:80", -1, "::1", 80, AF_INET6 },
		{ "0.0.0.0:0", -1, "0.0.0.0", 0, AF_INET },
		{ "[2001:db8::1]:65535", -1, "2001:db8::1", 65535, AF_INET6 },
		{ "127.0.0.1:00080", -1, "127.0.0.1", 80, AF_INET },
		{ "[::0001]:9521", -1, "::1", 9521, AF_INET6 },
		{ "10.0.0.1", 5520, "10.0.0.1", 5520, AF_INET },
		{ "10.0.0.1:7", 5520, "10.0.0.1", 7, AF_INET },
		{ "[::1]", 5520, "::1", 5520, AF_INET6 },
		{ "::1", 0, "::1", 0, AF_INET6 },
		{ "2001:db8::5", 5520, "2001:db8::5", 5520, AF_INET6 },
		{ "::ffff:10.0.0.1", 1, "::ffff:10.0.0.1", 1, AF_INET6 },
	};
	char		host[INET6_ADDRSTRLEN];
	uint16_t	port;
	size_t		i;
	int		fam;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(addr(good[i].s, good[i].def, host, &port,
		    &fam) == 0, "refused '%s'", good[i].s);
		ck_assert_str_eq(host, good[i].host);
		ck_assert_uint_eq(port, good[i].port);
		ck_assert_int_eq(fam, good[i].fam);
	}
}
END_TEST

START_TEST(addr_bad)
{
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":9520", "localhost:9520",
		"::1:9520", "[::1]", "[::1]9520", "[127.0.0.1]:80",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
		"127.0.0.1:000000080", "[::1:80", "300.1.1.1:80",
		"[fe80::1%eth0]:80", "127.0.0.1: 80", "[]:80", "[::1]:",
		"[::1]]:80", "1.2.3.4:5:6", "1.2.3:80", "[::1]:+80",
		"[0000:0000:0000:0000:0000:0000:0000:0000:1]:80",
	};
	struct sockaddr_storage	ss;
	socklen_t		len = 7;
	size_t			i;

	memset(&ss, 0xa5, sizeof(ss));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hyp_addr_parse(bad[i], -1, &ss, &len) ==
		    HYP_EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(hyp_addr_parse(NULL, -1, &ss, &len), HYP_EINVAL);
	/* With a default port: still no names, no port after a bare IPv6. */
	ck_assert_int_eq(hyp_addr_parse("localhost", 80, &ss, &len),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_addr_parse("1.2.3.4", 65536, &ss, &len),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_addr_parse("::1:9520", 80, &ss, NULL), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	/* Nothing written on failure. */
	memset(&ss, 0xa5, sizeof(ss));
	ck_assert_int_eq(hyp_addr_parse("1.2.3.4:x", 1, &ss, &len),
	    HYP_EINVAL);
	ck_assert_uint_eq(((unsigned char *)&ss)[0], 0xa5);
	ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(addr_numeric)
{
	struct sockaddr_in	sin;
	struct sockaddr_storage	ss;
	char			host[INET6_ADDRSTRLEN];
	uint16_t		port = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5520);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(hyp_addr_numeric((struct sockaddr *)&sin, NULL, 0,
	    &port), 0);
	ck_assert_uint_eq(port, 5520);
	ck_assert_int_eq(hyp_addr_numeric((struct sockaddr *)&sin, host, 5,
	    &port), HYP_ENOSPC);
	ck_assert_int_eq(hyp_addr_numeric((struct sockaddr *)&sin, host,
	    sizeof(host), NULL), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(hyp_addr_numeric((struct sockaddr *)&ss, host,
	    sizeof(host), &port), HYP_EINVAL);
	ck_assert_int_eq(hyp_addr_numeric(NULL, host, sizeof(host), &port),
	    HYP_EINVAL);
}
END_TEST

/* Fill ss with the numeric address a (port 0). */
static const struct sockaddr *
sa_of(const char *a, struct sockaddr_storage *ss)
{
	ck_assert_int_eq(hyp_addr_parse(a, 0, ss, NULL), 0);
	return ((const struct sockaddr *)ss);
}

START_TEST(cidr_parse_good)
{
	static const struct {
		const char	*s;
		int		 family;
		unsigned	 bits;
		const char	*addr;		/* addr as IPv6 text */
	} good[] = {
		{ "10.1.0.0/16", AF_INET, 112, "::ffff:10.1.0.0" },
		{ "10.0.0.0/8", AF_INET, 104, "::ffff:10.0.0.0" },
		{ "10.1.2.3", AF_INET, 128, "::ffff:10.1.2.3" },
		{ "10.1.2.3/16", AF_INET, 112, "::ffff:10.1.2.3" },
		{ "0.0.0.0/0", AF_INET, 96, "::ffff:0.0.0.0" },
		{ "10.0.0.0/08", AF_INET, 104, "::ffff:10.0.0.0" },
		{ "2001:db8::1", AF_INET6, 128, "2001:db8::1" },
		{ "2001:db8::/32", AF_INET6, 32, "2001:db8::" },
		{ "::1", AF_INET6, 128, "::1" },
		{ "::/0", AF_INET6, 0, "::" },
		{ "::/96", AF_INET6, 96, "::" },
		{ "::ffff:0:0/95", AF_INET6, 95, "::ffff:0.0.0.0" },
		/* Inside ::ffff:0:0/96: the IPv4 prefix it maps. */
		{ "::ffff:10.0.0.0/104", AF_INET, 104, "::ffff:10.0.0.0" },
		{ "::ffff:0:0/96", AF_INET, 96, "::ffff:0.0.0.0" },
		{ "::ffff:10.1.2.3", AF_INET, 128, "::ffff:10.1.2.3" },
	};
	struct hyp_cidr	c;
	char		a[INET6_ADDRSTRLEN];
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		ck_assert_msg(hyp_cidr_parse(good[i].s, &c) == 0,
		    "refused '%s'", good[i].s);
		ck_assert_int_eq(c.family, good[i].family);
		ck_assert_uint_eq(c.bits, good[i].bits);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, c.addr, a,
		    sizeof(a)));
		ck_assert_str_eq(a, good[i].addr);
	}
}
END_TEST

START_TEST(cidr_parse_bad)
{
	static const char *const bad[] = {
		"", "/8", "10.1.0.0/", "10.1.0.0/-1", "10.0.0.0/33",
		"10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/8 ",
		"10.0.0.0/8x", "10.0.0.0/8/8", "10.0.0.0/0008",
		"10.0.0.0/99999999999999999999", "::/129", "::ffff:1.2.3.4/129",
		"host/8", "nope", "localhost", "10.0.0", "10.0.0.256/8",
		"010.0.0.1", "[::1]", "[::1]/128", "fe80::1%eth0/64",
		"10.0.0.1:80", "2001:db8:::1/64",
		"0000:0000:0000:0000:0000:0000:0000:0000:0001/128",
	};
	struct hyp_cidr	c, zero;
	size_t		i;

	memset(&c, 0xa5, sizeof(c));
	memset(&zero, 0xa5, sizeof(zero));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hyp_cidr_parse(bad[i], &c) == HYP_EINVAL,
		    "accepted '%s'", bad[i]);
	ck_assert_int_eq(hyp_cidr_parse(NULL, &c), HYP_EINVAL);
	/* Nothing written on failure. */
	ck_assert_int_eq(memcmp(&c, &zero, sizeof(c)), 0);
}
END_TEST

START_TEST(cidr_match)
{
	static const struct {
		const char	*cidr;
		const char	*addr;
		int		 in;
	} cases[] = {
		{ "10.1.0.0/16", "10.1.2.3", 1 },
		{ "10.1.0.0/16", "10.2.2.3", 0 },
		{ "10.1.0.0/16", "2001:db8::5", 0 },
		{ "10.1.2.4/31", "10.1.2.3", 0 },
		{ "10.1.2.4/31", "10.1.2.5", 1 },
		{ "10.1.2.3", "10.1.2.3", 1 },
		{ "10.1.2.3", "10.1.2.2", 0 },
		{ "10.0.0.0/8", "10.200.3.4", 1 },
		{ "10.0.0.0/16", "10.200.3.4", 0 },
		{ "0.0.0.0/0", "10.1.2.3", 1 },
		{ "0.0.0.0/0", "2001:db8::5", 0 },
		/* IPv4-mapped IPv6 addresses match IPv4 prefixes... */
		{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
		{ "10.200.0.0/15", "::ffff:10.200.3.4", 1 },
		{ "10.200.0.0/15", "::ffff:10.202.3.4", 0 },
		{ "0.0.0.0/0", "::ffff:1.2.3.4", 1 },
		{ "::ffff:10.0.0.0/104", "10.9.9.9", 1 },
		{ "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1 },
		{ "::ffff:10.0.0.0/104", "11.9.9.9", 0 },
		/* ...and no IPv6 prefix, whatever it covers. */
		{ "::/0", "::ffff:10.1.2.3", 0 },
		{ "::/0", "10.1.2.3", 0 },
		{ "::ffff:0:0/95", "::ffff:10.1.2.3", 0 },
		{ "::/0", "2001:db8::5", 1 },
		{ "::/0", "::", 1 },
		{ "2001:db8::/32", "2001:db8::5", 1 },
		{ "2001:db8::/32", "2001:db9::5", 0 },
		{ "2001:db8::/32", "10.1.2.3", 0 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
		{ "::1", "::1", 1 },
		{ "::1/128", "::2", 0 },
		{ "::/127", "::1", 1 },
		{ "::/96", "::10.1.2.3", 1 },
		{ "::/96", "10.1.2.3", 0 },
	};
	struct sockaddr_storage	ss;
	struct hyp_cidr		c;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(hyp_cidr_parse(cases[i].cidr, &c), 0);
		ck_assert_msg(hyp_cidr_match(&c, sa_of(cases[i].addr, &ss)) ==
		    cases[i].in, "%s in %s: not %d", cases[i].addr,
		    cases[i].cidr, cases[i].in);
	}
	/* Not an IPv4 or IPv6 address: never inside. */
	ck_assert_int_eq(hyp_cidr_parse("0.0.0.0/0", &c), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(hyp_cidr_match(&c, (struct sockaddr *)&ss), 0);
	ck_assert_int_eq(hyp_cidr_match(&c, NULL), 0);
	ck_assert_int_eq(hyp_cidr_match(NULL, sa_of("1.2.3.4", &ss)), 0);
	/* A prefix longer than an address never matches. */
	c.bits = 129;
	ck_assert_int_eq(hyp_cidr_match(&c, sa_of("1.2.3.4", &ss)), 0);
}
END_TEST

/* The suite. */
static Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc;

	tc = tcase_create("duration");
	tcase_add_test(tc, duration_good);
	tcase_add_test(tc, duration_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_test(tc, addr_good);
	tcase_add_test(tc, addr_bad);
	tcase_add_test(tc, addr_numeric);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr");
	tcase_add_test(tc, cidr_parse_good);
	tcase_add_test(tc, cidr_parse_bad);
	tcase_add_test(tc, cidr_match);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(util_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
