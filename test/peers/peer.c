/*
 * peer.c: helpers shared by the test peers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* Print one event line to stdout and flush it. */
void
peer_out(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Print a diagnostic line to stderr. */
void
peer_err(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Split HOST:PORT (brackets around IPv6) into its parts. */
int
peer_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char	*colon, *h;
	size_t		 hl;
	char		*end;
	unsigned long	 v;

	if (s[0] == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':')
			return (-1);
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return (-1);
		h = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return (-1);
	memcpy(host, h, hl);
	host[hl] = '\0';
	v = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || v > 65535)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* Format an address with its port. */
void
peer_addr_str(const struct sockaddr *sa, char out[PEER_ADDR_MAX])
{
	char	a[INET6_ADDRSTRLEN];

	if (sa == NULL) {
		snprintf(out, PEER_ADDR_MAX, "-");
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(out, PEER_ADDR_MAX, "%s:%u", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(out, PEER_ADDR_MAX, "[%s]:%u", a,
		    ntohs(sin6->sin6_port));
	} else
		snprintf(out, PEER_ADDR_MAX, "?");
}

/* Hex-encode bytes, truncating to what fits. */
void
peer_hex(const uint8_t *p, size_t len, char *out, size_t cap)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	if (cap == 0)
		return;
	if (p == NULL) {
		snprintf(out, cap, "-");
		return;
	}
	for (i = 0; i < len && 2 * i + 2 < cap; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * i] = '\0';
}

/* Value of one hex digit or -1. */
static int
peer_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Decode a hex string. */
ssize_t
peer_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t	n = strlen(s), i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > cap)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = peer_hexval((unsigned char)s[2 * i])) < 0 ||
		    (lo = peer_hexval((unsigned char)s[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ((ssize_t)(n / 2));
}

/* Start with an empty buffer. */
void
peer_frames_init(struct peer_frames *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->max = max;
}

/* Release the buffer. */
void
peer_frames_free(struct peer_frames *f)
{
	free(f->buf);
	memset(f, 0, sizeof *f);
}

/* Append bytes, compacting first; growth is bounded by max + one read. */
int
peer_frames_push(struct peer_frames *f, const uint8_t *d, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*nb;

	if (f->off > 0) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
	need = f->len + n;
	if (need > f->cap) {
		ncap = f->cap != 0 ? f->cap : 4096;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(f->buf, ncap)) == NULL)
			return (-1);
		f->buf = nb;
		f->cap = ncap;
	}
	if (n > 0)
		memcpy(f->buf + f->len, d, n);
	f->len += n;
	return (0);
}

/* Little-endian u32 at p. */
static uint32_t
peer_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/* Return the next complete frame, if any. */
int
peer_frames_next(struct peer_frames *f, uint32_t *id, const uint8_t **payload,
    size_t *plen)
{
	const uint8_t	*p = f->buf + f->off;
	size_t		 avail = f->len - f->off;
	uint32_t	 n;

	if (avail < 8)
		return (0);
	n = peer_le32(p);
	*id = peer_le32(p + 4);
	*plen = n;
	if ((uint64_t)n + 8 > f->max)
		return (-1);
	if (avail < (size_t)n + 8)
		return (0);
	*payload = p + 8;
	f->off += (size_t)n + 8;
	return (1);
}

/* Bytes not yet consumed. */
size_t
peer_frames_pending(const struct peer_frames *f)
{
	return (f->len - f->off);
}
