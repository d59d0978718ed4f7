/*
 * Utilities: the duration and address parsers shared by the daemon, the
 * plugins and the tools.  Syntax is checked before size, so an input
 * that is not a duration is HYP_EINVAL however many digits it has.
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
