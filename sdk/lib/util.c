/*
 * Utilities: the duration, address and prefix parsers shared by the
 * daemon, the plugins and the tools.  Syntax is checked before size, so
 * an input that is not a duration is HYP_EINVAL however many digits it
 * has.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <hyprox/error.h>
#include <hyprox/util.h>

#include "lib.h"

/* Parse digits and an optional unit (ms, s, m, h; bare = seconds). */
HYP_API int
hyp_duration_parse(const char *s, uint64_t max_ms, uint32_t *ms)
{
	uint64_t	 v = 0, mult;
	const char	*p = s;
	int		 big = 0;

	if (s == NULL || *p < '0' || *p > '9')
		return (HYP_EINVAL);
	if (max_ms > UINT32_MAX)
		max_ms = UINT32_MAX;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max_ms) {
			big = 1;	/* keep reading: syntax decides first */
			v = max_ms + 1;
		}
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mult = 3600 * 1000;
	else
		return (HYP_EINVAL);
	if (big || v * mult > max_ms)
		return (HYP_ERANGE);
	*ms = (uint32_t)(v * mult);
	return (0);
}

/* Parse a numeric address with an optional port into a sockaddr. */
HYP_API int
hyp_addr_parse(const char *s, int default_port, struct sockaddr_storage *out,
    socklen_t *len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*h, *port = NULL, *end;
	size_t			 hl, i;
	long			 v = default_port;

	if (s == NULL)
		return (HYP_EINVAL);
	memset(&ss, 0, sizeof(ss));
	h = s;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (HYP_EINVAL);
		h = s + 1;
		hl = (size_t)(end - h);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return (HYP_EINVAL);
	} else if ((end = strchr(s, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		hl = (size_t)(end - s);		/* a.b.c.d:port */
		port = end + 1;
	} else
		hl = strlen(s);			/* a.b.c.d or bare IPv6 */
	if (hl == 0 || hl >= sizeof(host))
		return (HYP_EINVAL);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port != NULL) {
		for (i = 0, v = 0; port[i] >= '0' && port[i] <= '9'; i++)
			v = v * 10 + (port[i] - '0');
		if (i == 0 || i > 5 || port[i] != '\0' || v > 65535)
			return (HYP_EINVAL);
	} else if (v < 0 || v > 65535)
		return (HYP_EINVAL);
	if (s[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)v);
		hl = sizeof(*sin);
	} else if ((s[0] == '[' || port == NULL) &&
	    inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)v);
		hl = sizeof(*sin6);
	} else
		return (HYP_EINVAL);
	memcpy(out, &ss, sizeof(ss));
	if (len != NULL)
		*len = (socklen_t)hl;
	return (0);
}

/* Write the numeric host and the port of an IPv4 or IPv6 address. */
HYP_API int
hyp_addr_numeric(const struct sockaddr *sa, char *host, size_t hostlen,
    uint16_t *port)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	const void			*a;
	uint16_t			 p;

	if (sa == NULL)
		return (HYP_EINVAL);
	if (sa->sa_family == AF_INET) {
		a = &sin->sin_addr;
		p = sin->sin_port;
	} else if (sa->sa_family == AF_INET6) {
		a = &sin6->sin6_addr;
		p = sin6->sin6_port;
	} else
		return (HYP_EINVAL);
	if (host != NULL && inet_ntop(sa->sa_family, a, host,
	    (socklen_t)hostlen) == NULL)
		return (HYP_ENOSPC);
	if (port != NULL)
		*port = ntohs(p);
	return (0);
}

/* Parse an address with an optional prefix length; IPv4 is kept mapped. */
HYP_API int
hyp_cidr_parse(const char *s, struct hyp_cidr *out)
{
	static const uint8_t	 v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	struct hyp_cidr		 c;
	char			 host[INET6_ADDRSTRLEN];
	const char		*slash;
	size_t			 hl, n, i;
	unsigned		 v, max;

	if (s == NULL)
		return (HYP_EINVAL);
	slash = strchr(s, '/');
	hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return (HYP_EINVAL);
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, host, c.addr + 12) == 1) {
		memcpy(c.addr, v4mapped, sizeof(v4mapped));
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else
		return (HYP_EINVAL);
	v = max;
	if (slash != NULL) {
		n = strspn(slash + 1, "0123456789");
		if (n == 0 || n > 3 || slash[1 + n] != '\0')
			return (HYP_EINVAL);
		for (i = 1, v = 0; i <= n; i++)
			v = v * 10 + (unsigned)(slash[i] - '0');
		if (v > max)
			return (HYP_EINVAL);
	}
	c.bits = (c.family == AF_INET ? 96 : 0) + v;
	/* "::ffff:10.0.0.0/104" says 10.0.0.0/8: match it as IPv4. */
	if (c.family == AF_INET6 && c.bits >= 96 &&
	    memcmp(c.addr, v4mapped, sizeof(v4mapped)) == 0)
		c.family = AF_INET;
	memcpy(out, &c, sizeof(c));
	return (0);
}

/* Whether sa lies inside c; an IPv4-mapped sa counts as its IPv4. */
HYP_API int
hyp_cidr_match(const struct hyp_cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	uint8_t				 a[16];
	unsigned			 full, rest;
	int				 fam;

	if (c == NULL || sa == NULL || c->bits > 128)
		return (0);
	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &sin->sin_addr, 4);
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a, &sin6->sin6_addr, 16);
		fam = IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) ? AF_INET :
		    AF_INET6;
	} else
		return (0);
	if (fam != c->family)
		return (0);
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full) != 0)
		return (0);
	return (rest == 0 ||
	    ((a[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0);
}
