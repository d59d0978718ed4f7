/*
 * util.c: clocks, randomness, fingerprints, logging and address parsing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "quic_int.h"

/* Monotonic nanoseconds, the clock of every ngtcp2 timestamp. */
uint64_t
hq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec);
}

/* Wall-clock nanoseconds, for tokens that must survive restarts. */
uint64_t
hq_wallclock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec);
}

/* Fill p with n secret random bytes. */
int
hq_random(void *p, size_t n)
{
	return (gnutls_rnd(GNUTLS_RND_RANDOM, p, n) == 0 ? 0 : HYP_EAGAIN);
}

/* ngtcp2 rand callback: non-secret randomness (nonce-grade DRBG). */
void
hq_rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

/* Encode a SHA-256 digest as base64url without padding (43 chars). */
void
hq_fp_encode(const uint8_t *sha256, char out[HQ_FP_LEN + 1])
{
	sodium_bin2base64(out, HQ_FP_LEN + 1, sha256, 32,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Format one log line to the endpoint's sink, if it has one. */
void
hq_logf(struct hq_ep *ep, int level, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	if (ep == NULL || ep->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ep->log(ep->log_arg, level, buf);
}

/* Parse a numeric IPv4/IPv6 address and port into a sockaddr. */
int
hq_parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (addr == NULL)
		return (HYP_EINVAL);
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return (0);
	}
	return (HYP_EINVAL);
}

/* Fill zero transport settings with their defaults. */
void
hq_transport_defaults(struct hq_transport *tp, int server)
{
	if (tp->idle_timeout_ms == 0)
		tp->idle_timeout_ms = 30000;
	if (tp->handshake_timeout_ms == 0)
		tp->handshake_timeout_ms = 10000;
	if (tp->max_streams_bidi == 0)
		tp->max_streams_bidi = server ? 16 : 4;
	if (tp->max_streams_uni == 0)
		tp->max_streams_uni = 4;
	if (tp->max_stream_data == 0)
		tp->max_stream_data = 256 * 1024;
	if (tp->max_data == 0)
		tp->max_data = 1024 * 1024;
	if (tp->stream_sndbuf == 0)
		tp->stream_sndbuf = 256 * 1024;
	if (tp->datagram_queue == 0)
		tp->datagram_queue = 16;
	if (tp->datagram_queue > 1024)
		tp->datagram_queue = 1024;
	if (tp->max_udp_payload == 0)
		tp->max_udp_payload = HQ_UDP_PAYLOAD_DEFAULT;
	if (tp->max_udp_payload < HQ_UDP_PAYLOAD_MIN)
		tp->max_udp_payload = HQ_UDP_PAYLOAD_MIN;
	if (tp->max_udp_payload > HQ_UDP_PAYLOAD_MAX)
		tp->max_udp_payload = HQ_UDP_PAYLOAD_MAX;
}
