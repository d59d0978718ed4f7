/*
 * udp.c: UDP sockets: bind/connect, recvmmsg batches, GSO sends, ECN bits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "quic_int.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef SOL_UDP
#define SOL_UDP		17
#endif

static int	hq_no_recvmmsg;	/* set once if the kernel lacks recvmmsg */

/* Ask the kernel to report the TOS/traffic class (ECN) of received packets. */
static void
sock_recv_ecn(int fd, int family)
{
	int	on = 1;

	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on,
		    sizeof(on));
	}
	/* Also for dual-stack sockets receiving IPv4. */
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
}

/* Open, configure and bind (or connect) a non-blocking UDP socket. */
int
hq_sock_open(struct hq_sock *s, const struct sockaddr *addr, socklen_t len,
    int dual_stack, int connect_to, int no_gso)
{
	int	fd, on = 1, off = 0, bufsz = 4 * 1024 * 1024, seg = 0;
	socklen_t slen = sizeof(seg);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-errno);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (addr->sa_family == AF_INET6 && !connect_to) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    dual_stack ? &off : &on, sizeof(on)) == -1)
			goto fail;
	}
	sock_recv_ecn(fd, addr->sa_family);
	if (connect_to) {
		if (connect(fd, addr, len) == -1)
			goto fail;
		s->connected = 1;
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, addr, len) == -1)
			goto fail;
	}
	s->locallen = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->locallen) == -1)
		goto fail;
	/* GSO is usable if the kernel knows the option. */
	if (!no_gso && getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &slen) == 0)
		s->gso = 1;
	s->fd = fd;
	s->family = addr->sa_family;
	return (0);
fail:
	on = -errno;
	close(fd);
	return (on);
}

/* Stop watching and close the socket. */
void
hq_sock_close(struct hq_sock *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Extract the ECN bits from the control messages of one datagram. */
static unsigned
msg_ecn(struct msghdr *msg)
{
	struct cmsghdr	*cm;
	int		 tclass;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS &&
		    cm->cmsg_len >= CMSG_LEN(1))
			return (*(uint8_t *)CMSG_DATA(cm) & NGTCP2_ECN_MASK);
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_TCLASS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&tclass, CMSG_DATA(cm), sizeof(tclass));
			return ((unsigned)tclass & NGTCP2_ECN_MASK);
		}
	}
	return (0);
}

/* Prepare message header i of the batch. */
static void
rx_prepare(struct hq_rx *rx, int i)
{
	struct msghdr	*m = &rx->msgs[i].msg_hdr;

	rx->iov[i].iov_base = rx->data + (size_t)i * rx->slot;
	rx->iov[i].iov_len = rx->slot;
	memset(m, 0, sizeof(*m));
	m->msg_name = &rx->addr[i];
	m->msg_namelen = sizeof(rx->addr[i]);
	m->msg_iov = &rx->iov[i];
	m->msg_iovlen = 1;
	m->msg_control = rx->ctrl[i].buf;
	m->msg_controllen = sizeof(rx->ctrl[i].buf);
}

/* Read up to HQ_RX_BATCH datagrams; returns the count (0: nothing). */
int
hq_sock_recv(struct hq_sock *s, struct hq_rx *rx)
{
	int	i, n, k;
	ssize_t	r;

	for (i = 0; i < HQ_RX_BATCH; i++)
		rx_prepare(rx, i);
	n = -1;
	if (!hq_no_recvmmsg) {
		n = recvmmsg(s->fd, rx->msgs, HQ_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1 && errno == ENOSYS)
			hq_no_recvmmsg = 1;
	}
	if (hq_no_recvmmsg) {
		for (n = 0; n < HQ_RX_BATCH; n++) {
			r = recvmsg(s->fd, &rx->msgs[n].msg_hdr, MSG_DONTWAIT);
			if (r == -1)
				break;
			rx->msgs[n].msg_len = (unsigned)r;
		}
		if (n == 0)
			n = -1;
	}
	if (n <= 0)
		return (0);
	for (i = 0, k = 0; i < n; i++) {
		struct msghdr	*m = &rx->msgs[i].msg_hdr;
		struct hq_rxpkt	*p = &rx->pkt[k];

		s->ep->stats.dgrams_in++;
		s->ep->stats.bytes_in += rx->msgs[i].msg_len;
		if (m->msg_flags & MSG_TRUNC) {
			s->ep->stats.dgrams_dropped++;
			continue;
		}
		p->data = rx->data + (size_t)i * rx->slot;
		p->len = rx->msgs[i].msg_len;
		memcpy(&p->from, &rx->addr[i], m->msg_namelen);
		p->fromlen = m->msg_namelen;
		p->ecn = msg_ecn(m);
		k++;
	}
	return (k);
}

/* Set the ECN codepoint for the next sends if it changed. */
static void
sock_set_ecn(struct hq_sock *s, unsigned ecn)
{
	int	tos = (int)(ecn & NGTCP2_ECN_MASK);

	if (s->ecn == ecn)
		return;
	s->ecn = ecn;
	if (s->family == AF_INET6)
		(void)setsockopt(s->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
		    sizeof(tos));
	(void)setsockopt(s->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

/* One sendmsg, optionally with a UDP_SEGMENT size. */
static int
sock_sendmsg(struct hq_sock *s, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *data, size_t len, size_t gso)
{
	struct iovec	 iov;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	align;
	}		 u;
	uint16_t	 seg = (uint16_t)gso;
	ssize_t		 n;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	memset(&msg, 0, sizeof(msg));
	if (!s->connected) {
		msg.msg_name = (void *)(uintptr_t)to;
		msg.msg_namelen = tolen;
	}
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (gso != 0 && len > gso) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	}
	do
		n = sendmsg(s->fd, &msg, 0);
	while (n == -1 && errno == EINTR);
	return (n == -1 ? -errno : 0);
}

/* Count n datagrams of total bytes (the largest is max) on a connection. */
static void
conn_count_out(struct hq_conn_stats *cs, size_t n, size_t bytes, size_t max)
{
	if (cs == NULL)
		return;
	cs->dgrams_out += n;
	cs->bytes_out += bytes;
	if (max > cs->max_dgram_out)
		cs->max_dgram_out = max;
}

/*
 * Send len bytes to `to`: one datagram, or a train of gso-sized datagrams
 * (the last may be shorter) with UDP_SEGMENT, falling back to one sendmsg
 * per datagram.  EAGAIN counts as loss (QUIC recovers it).  cs, if not
 * NULL, is the connection's counters.
 */
int
hq_sock_send(struct hq_sock *s, const struct sockaddr *to, socklen_t tolen,
    unsigned ecn, const uint8_t *data, size_t len, size_t gso,
    struct hq_conn_stats *cs)
{
	struct hq_stats	*st = &s->ep->stats;
	size_t		 off, n, npkt;
	int		 rv;

	if (len == 0)
		return (0);
	if (gso == 0 || gso > len)
		gso = len;
	npkt = (len + gso - 1) / gso;
	sock_set_ecn(s, ecn);
	if (npkt > 1 && s->gso) {
		rv = sock_sendmsg(s, to, tolen, data, len, gso);
		if (rv == 0) {
			st->dgrams_out += npkt;
			st->bytes_out += len;
			conn_count_out(cs, npkt, len, gso);
			return (0);
		}
		if (rv != -EIO && rv != -EINVAL) {
			st->send_errors++;
			return (rv);
		}
		/* No GSO on this path/device: never try again. */
		s->gso = 0;
	}
	rv = 0;
	for (off = 0; off < len; off += n) {
		n = len - off < gso ? len - off : gso;
		if ((rv = sock_sendmsg(s, to, tolen, data + off, n, 0)) != 0) {
			st->send_errors++;
			continue;
		}
		st->dgrams_out++;
		st->bytes_out += n;
		conn_count_out(cs, 1, n, n);
	}
	return (rv);
}
