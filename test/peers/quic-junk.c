/*
 * quic-junk: send bad or abusive UDP datagrams to a QUIC server for the
 * bad-input tests, and report what came back, one line per action.
 *
 *   quic-junk [--window MS] [--hold S] ADDR:PORT ACTION...
 *
 * Actions run in the order given:
 *   --empty, --one-byte, --twenty-bytes   tiny datagrams (expect silence)
 *   --garbage-long-header                 long headers with broken fields
 *   --short-initial                       a well-formed Initial header in a
 *                                         datagram under 1200 bytes
 *   --unknown-version                     version 0x1a2a3a4a: expect Version
 *                                         Negotiation, report its versions
 *   --random-short N                      N random short-header packets;
 *                                         count stateless resets in the window
 *   --half-open N                         N real client Initials (ngtcp2 +
 *                                         GnuTLS), each from a fresh UDP port,
 *                                         never continued; hold the sockets
 *                                         --hold seconds, classify replies
 * Loopback only: the target must be a 127/8 or ::1 address.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <hyprox/util.h>

#include "peer.h"

#define QJ_MAX_HALF_OPEN	4096
#define QJ_MAX_SHORT		100000
#define QJ_PKT_MAX		1500
#define QJ_UNKNOWN_VERSION	0x1a2a3a4aU
#define QJ_PRIORITY							\
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"	\
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"	\
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"

struct qj {
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	int			 fd;		/* socket of the simple actions */
	unsigned		 window_ms;
	unsigned		 hold_s;
	const char		*alpn;
};

/* One half-open attempt. */
struct qj_half {
	int				 fd;
	ngtcp2_conn			*conn;
	gnutls_session_t		 tls;
	ngtcp2_crypto_conn_ref		 ref;
	struct sockaddr_storage		 local;
	socklen_t			 locallen;
	int				 seen;		/* first reply classified */
};

/* Monotonic milliseconds. */
static uint64_t
qj_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Monotonic nanoseconds (ngtcp2 timestamps). */
static ngtcp2_tstamp
qj_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec);
}

/* Random bytes (not secret). */
static void
qj_rand(void *p, size_t n)
{
	(void)gnutls_rnd(GNUTLS_RND_NONCE, p, n);
}

/* Whether the target is a loopback address. */
static int
qj_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((ntohl(((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr) >> 24) == 127);
	if (sa->sa_family == AF_INET6)
		return (IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr));
	return (0);
}

/* A new UDP socket connected to the target, or -1. */
static int
qj_socket(const struct qj *q)
{
	int	fd;

	if ((fd = socket(q->to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0)
		return (-1);
	if (connect(fd, (const struct sockaddr *)&q->to, q->tolen) < 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Send one datagram on the shared socket. */
static int
qj_send(struct qj *q, const uint8_t *p, size_t n)
{
	if (send(q->fd, p, n, 0) < 0) {
		peer_err("quic-junk: send: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Collect replies on the shared socket for the window; copy the first into
 * first[*firstlen] when asked.  Returns the count; resets counts those that
 * look like stateless resets (short header form, fixed bit set).
 */
static unsigned
qj_collect(struct qj *q, unsigned ms, uint8_t *first, size_t *firstlen,
    unsigned *resets)
{
	struct pollfd	pfd = { .fd = q->fd, .events = POLLIN };
	uint8_t		buf[65536];
	uint64_t	end = qj_ms() + ms, now;
	unsigned	n = 0;
	ssize_t		r;

	if (resets != NULL)
		*resets = 0;
	while ((now = qj_ms()) < end) {
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		while ((r = recv(q->fd, buf, sizeof buf, 0)) >= 0) {
			if (n == 0 && first != NULL) {
				*firstlen = (size_t)r < *firstlen ? (size_t)r :
				    *firstlen;
				memcpy(first, buf, *firstlen);
			}
			n++;
			if (resets != NULL && r >= 21 && !(buf[0] & 0x80) &&
			    (buf[0] & 0x40))
				(*resets)++;
		}
	}
	return (n);
}

/* Tiny datagrams: empty, 1 byte, 20 bytes. */
static int
qj_tiny(struct qj *q, const char *name, size_t n)
{
	uint8_t		buf[20];
	unsigned	r;

	qj_rand(buf, sizeof buf);
	if (n > 0)
		buf[0] |= 0x40;
	if (qj_send(q, buf, n) < 0)
		return (-1);
	r = qj_collect(q, q->window_ms, NULL, NULL, NULL);
	peer_out("%s sent=1 len=%zu replies=%u", name, n, r);
	return (0);
}

/* Append a long header (type, version, CIDs) to p; returns its length. */
static size_t
qj_long_header(uint8_t *p, uint8_t first, uint32_t version, size_t dcidlen,
    size_t scidlen)
{
	size_t	off = 0;

	p[off++] = first;
	p[off++] = (uint8_t)(version >> 24);
	p[off++] = (uint8_t)(version >> 16);
	p[off++] = (uint8_t)(version >> 8);
	p[off++] = (uint8_t)version;
	p[off++] = (uint8_t)dcidlen;
	qj_rand(p + off, dcidlen);
	off += dcidlen;
	p[off++] = (uint8_t)scidlen;
	qj_rand(p + off, scidlen);
	off += scidlen;
	return (off);
}

/* Long headers with broken fields, each padded to 1200 bytes. */
static int
qj_garbage_long(struct qj *q)
{
	uint8_t		 pkt[1200];
	unsigned	 i, replies = 0;
	size_t		 off, len;
	const char	*what[] = {
		"random", "dcid-len-255", "truncated-header",
		"handshake-unknown-cid", "retry-from-client",
		"0rtt-unknown-cid", "initial-length-overflow",
		"initial-token-overflow"
	};

	for (i = 0; i < sizeof what / sizeof what[0]; i++) {
		qj_rand(pkt, sizeof pkt);
		len = sizeof pkt;
		switch (i) {
		case 0:
			pkt[0] |= 0xc0;
			break;
		case 1:
			qj_long_header(pkt, 0xc3, NGTCP2_PROTO_VER_V1, 8, 8);
			pkt[5] = 255;
			break;
		case 2:
			qj_long_header(pkt, 0xc3, NGTCP2_PROTO_VER_V1, 8, 8);
			len = 7;
			break;
		case 3:
			qj_long_header(pkt, 0xe3, NGTCP2_PROTO_VER_V1, 18, 8);
			break;
		case 4:
			qj_long_header(pkt, 0xf0, NGTCP2_PROTO_VER_V1, 8, 8);
			break;
		case 5:
			qj_long_header(pkt, 0xd3, NGTCP2_PROTO_VER_V1, 8, 8);
			break;
		case 6:
			off = qj_long_header(pkt, 0xc3, NGTCP2_PROTO_VER_V1,
			    8, 8);
			pkt[off++] = 0;			/* token length */
			pkt[off++] = 0xbf;		/* length: 2^30-ish */
			pkt[off++] = 0xff;
			pkt[off++] = 0xff;
			pkt[off++] = 0xff;
			break;
		case 7:
			off = qj_long_header(pkt, 0xc3, NGTCP2_PROTO_VER_V1,
			    8, 8);
			pkt[off++] = 0xbf;		/* token length huge */
			pkt[off++] = 0xff;
			pkt[off++] = 0xff;
			pkt[off++] = 0xff;
			break;
		}
		if (qj_send(q, pkt, len) < 0)
			return (-1);
	}
	replies = qj_collect(q, q->window_ms, NULL, NULL, NULL);
	peer_out("garbage-long-header sent=%u replies=%u", i, replies);
	return (0);
}

/* An Initial header with a random payload in a 600-byte datagram. */
static int
qj_short_initial(struct qj *q)
{
	uint8_t		pkt[600];
	size_t		off, rest;
	unsigned	r;

	qj_rand(pkt, sizeof pkt);
	off = qj_long_header(pkt, 0xc3, NGTCP2_PROTO_VER_V1, 8, 8);
	pkt[off++] = 0;				/* no token */
	rest = sizeof pkt - off - 2;		/* 2-byte length field */
	pkt[off++] = (uint8_t)(0x40 | (rest >> 8));
	pkt[off++] = (uint8_t)rest;
	if (qj_send(q, pkt, sizeof pkt) < 0)
		return (-1);
	r = qj_collect(q, q->window_ms, NULL, NULL, NULL);
	peer_out("short-initial sent=1 len=%zu replies=%u", sizeof pkt, r);
	return (0);
}

/* Version 0x1a2a3a4a: expect and parse Version Negotiation. */
static int
qj_unknown_version(struct qj *q)
{
	uint8_t		pkt[1200], reply[QJ_PKT_MAX], dcid[8], scid[8];
	char		list[256];
	size_t		rlen = sizeof reply, off, l = 0;
	unsigned	r;
	int		ok;

	qj_rand(pkt, sizeof pkt);
	qj_long_header(pkt, 0xc3, QJ_UNKNOWN_VERSION, 8, 8);
	memcpy(dcid, pkt + 6, 8);
	memcpy(scid, pkt + 15, 8);
	if (qj_send(q, pkt, sizeof pkt) < 0)
		return (-1);
	r = qj_collect(q, q->window_ms, reply, &rlen, NULL);
	if (r == 0) {
		peer_out("unknown-version sent=1 vn=0 replies=0");
		return (0);
	}
	/* VN: long form, version 0, DCID = our SCID, SCID = our DCID. */
	ok = rlen >= 7 && (reply[0] & 0x80) && reply[1] == 0 &&
	    reply[2] == 0 && reply[3] == 0 && reply[4] == 0;
	if (ok) {
		ok = reply[5] == 8 && rlen >= 6 + 8 + 1 &&
		    memcmp(reply + 6, scid, 8) == 0 && reply[14] == 8 &&
		    rlen >= 15 + 8 && memcmp(reply + 15, dcid, 8) == 0;
	}
	list[0] = '\0';
	for (off = 23; ok && off + 4 <= rlen && l + 10 < sizeof list; off += 4)
		l += (size_t)snprintf(list + l, sizeof list - l, "%s%02x%02x%02x%02x",
		    l > 0 ? "," : "", reply[off], reply[off + 1],
		    reply[off + 2], reply[off + 3]);
	peer_out("unknown-version sent=1 vn=%d replies=%u cids_ok=%d "
	    "versions=%s", ok ? 1 : 0, r, ok, list[0] != '\0' ? list : "-");
	return (0);
}

/* N random short-header packets; count stateless resets. */
static int
qj_random_short(struct qj *q, unsigned n)
{
	uint8_t		pkt[100];
	unsigned	i, r, resets, sent = 0;
	uint64_t	t0 = qj_ms(), t1;

	for (i = 0; i < n; i++) {
		qj_rand(pkt, sizeof pkt);
		pkt[0] = (uint8_t)((pkt[0] & 0x3f) | 0x40);
		if (send(q->fd, pkt, 60 + (pkt[1] & 0x1f), 0) >= 0)
			sent++;
		if (i % 64 == 63)
			usleep(1000);	/* keep the socket buffers sane */
	}
	t1 = qj_ms();
	r = qj_collect(q, q->window_ms, NULL, NULL, &resets);
	peer_out("random-short sent=%u replies=%u resets=%u send_ms=%llu "
	    "elapsed_ms=%llu", sent, r, resets, (unsigned long long)(t1 - t0),
	    (unsigned long long)(qj_ms() - t0));
	return (0);
}

/* ngtcp2_crypto_conn_ref: the attempt's connection. */
static ngtcp2_conn *
qj_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return (((struct qj_half *)ref->user_data)->conn);
}

/* ngtcp2 rand callback. */
static void
qj_rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	qj_rand(dest, len);
}

/* ngtcp2: a new connection ID for the peer. */
static int
qj_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token,
    size_t cidlen, void *ud)
{
	(void)conn;
	(void)ud;
	qj_rand(cid->data, cidlen);
	cid->datalen = cidlen;
	qj_rand(token, NGTCP2_STATELESS_RESET_TOKENLEN);
	return (0);
}

/* Build and send one client Initial from a fresh socket. */
static int
qj_half_start(struct qj *q, struct qj_half *h,
    gnutls_certificate_credentials_t cred)
{
	ngtcp2_callbacks	 cb;
	ngtcp2_settings		 set;
	ngtcp2_transport_params	 tp;
	ngtcp2_cid		 dcid, scid;
	ngtcp2_path		 path;
	ngtcp2_path_storage	 ps;
	ngtcp2_pkt_info		 pi;
	gnutls_datum_t		 alpn;
	uint8_t			 pkt[QJ_PKT_MAX];
	ngtcp2_ssize		 n;

	memset(h, 0, sizeof *h);
	if ((h->fd = qj_socket(q)) < 0)
		return (-1);
	h->locallen = sizeof h->local;
	if (getsockname(h->fd, (struct sockaddr *)&h->local, &h->locallen) < 0)
		return (-1);
	memset(&cb, 0, sizeof cb);
	cb.client_initial = ngtcp2_crypto_client_initial_cb;
	cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb.encrypt = ngtcp2_crypto_encrypt_cb;
	cb.decrypt = ngtcp2_crypto_decrypt_cb;
	cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
	cb.update_key = ngtcp2_crypto_update_key_cb;
	cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
	cb.rand = qj_rand_cb;
	cb.get_new_connection_id = qj_new_cid;
	dcid.datalen = 18;
	qj_rand(dcid.data, dcid.datalen);
	scid.datalen = 16;
	qj_rand(scid.data, scid.datalen);
	ngtcp2_settings_default(&set);
	set.initial_ts = qj_ns();
	ngtcp2_transport_params_default(&tp);
	tp.initial_max_streams_uni = 4;
	tp.initial_max_stream_data_bidi_local = 262144;
	tp.initial_max_data = 1048576;
	tp.max_idle_timeout = 30 * NGTCP2_SECONDS;
	path.local.addr = (ngtcp2_sockaddr *)&h->local;
	path.local.addrlen = h->locallen;
	path.remote.addr = (ngtcp2_sockaddr *)&q->to;
	path.remote.addrlen = q->tolen;
	path.user_data = NULL;
	if (ngtcp2_conn_client_new(&h->conn, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &cb, &set, &tp, NULL, h) != 0)
		return (-1);
	if (gnutls_init(&h->tls, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA |
	    GNUTLS_FORCE_CLIENT_CERT) < 0 ||
	    gnutls_priority_set_direct(h->tls, QJ_PRIORITY, NULL) < 0 ||
	    ngtcp2_crypto_gnutls_configure_client_session(h->tls) != 0 ||
	    gnutls_credentials_set(h->tls, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		return (-1);
	alpn.data = (unsigned char *)(uintptr_t)q->alpn;
	alpn.size = (unsigned)strlen(q->alpn);
	if (gnutls_alpn_set_protocols(h->tls, &alpn, 1,
	    GNUTLS_ALPN_MANDATORY) < 0 ||
	    gnutls_server_name_set(h->tls, GNUTLS_NAME_DNS, "localhost", 9) < 0)
		return (-1);
	h->ref.get_conn = qj_get_conn;
	h->ref.user_data = h;
	gnutls_session_set_ptr(h->tls, &h->ref);
	ngtcp2_conn_set_tls_native_handle(h->conn, h->tls);
	ngtcp2_path_storage_zero(&ps);
	memset(&pi, 0, sizeof pi);
	n = ngtcp2_conn_write_pkt(h->conn, &ps.path, &pi, pkt, sizeof pkt,
	    qj_ns());
	if (n <= 0)
		return (-1);
	if (send(h->fd, pkt, (size_t)n, 0) < 0)
		return (-1);
	return (0);
}

/* Free one attempt. */
static void
qj_half_free(struct qj_half *h)
{
	if (h->conn != NULL)
		ngtcp2_conn_del(h->conn);
	if (h->tls != NULL)
		gnutls_deinit(h->tls);
	if (h->fd > 0)
		close(h->fd);
}

/* Raise the fd limit so that N sockets fit. */
static void
qj_fd_limit(unsigned n)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* N half-open handshakes from N ports; hold them and classify replies. */
static int
qj_half_open(struct qj *q, unsigned n)
{
	gnutls_certificate_credentials_t cred;
	struct qj_half		*h;
	struct pollfd		*pfd;
	ngtcp2_path		 path;
	ngtcp2_pkt_info		 pi;
	uint8_t			 buf[65536];
	unsigned		 i, sent = 0, failed = 0, hs = 0, retry = 0;
	unsigned		 refused = 0, vn = 0, other = 0, dgrams = 0;
	uint64_t		 end, now, t0 = qj_ms();
	ssize_t			 r;
	int			 rv;

	qj_fd_limit(n);
	if ((h = calloc(n, sizeof *h)) == NULL ||
	    (pfd = calloc(n, sizeof *pfd)) == NULL ||
	    gnutls_certificate_allocate_credentials(&cred) < 0) {
		peer_err("quic-junk: out of memory");
		free(h);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (qj_half_start(q, &h[i], cred) == 0)
			sent++;
		else
			failed++;
		pfd[i].fd = h[i].fd > 0 ? h[i].fd : -1;
		pfd[i].events = POLLIN;
		if (i % 16 == 15)
			usleep(1000);	/* do not just overflow rcvbufs */
	}
	peer_out("half-open started=%u failed=%u send_ms=%llu", sent, failed,
	    (unsigned long long)(qj_ms() - t0));
	end = qj_ms() + (uint64_t)q->hold_s * 1000;
	while ((now = qj_ms()) < end) {
		if (poll(pfd, n, (int)(end - now)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((r = recv(h[i].fd, buf, sizeof buf, 0)) > 0) {
				dgrams++;
				if (h[i].seen)
					continue;
				h[i].seen = 1;
				if ((buf[0] & 0x80) && r >= 5 && buf[1] == 0 &&
				    buf[2] == 0 && buf[3] == 0 && buf[4] == 0) {
					vn++;
					continue;
				}
				if ((buf[0] & 0xf0) == 0xf0) {
					retry++;
					continue;
				}
				path.local.addr = (ngtcp2_sockaddr *)&h[i].local;
				path.local.addrlen = h[i].locallen;
				path.remote.addr = (ngtcp2_sockaddr *)&q->to;
				path.remote.addrlen = q->tolen;
				path.user_data = NULL;
				memset(&pi, 0, sizeof pi);
				rv = ngtcp2_conn_read_pkt(h[i].conn, &path,
				    &pi, buf, (size_t)r, qj_ns());
				if (rv == NGTCP2_ERR_DRAINING)
					refused++;
				else if (rv == 0)
					hs++;
				else
					other++;
			}
		}
	}
	peer_out("half-open sent=%u handshake=%u retry=%u refused=%u vn=%u "
	    "other=%u silent=%u dgrams=%u hold_s=%u", sent, hs, retry, refused,
	    vn, other, sent - hs - retry - refused - vn - other, dgrams,
	    q->hold_s);
	for (i = 0; i < n; i++)
		qj_half_free(&h[i]);
	gnutls_certificate_free_credentials(cred);
	free(pfd);
	free(h);
	return (0);
}

/* Print the usage and exit. */
static void __attribute__((noreturn))
qj_usage(int rc)
{
	fprintf(rc == 0 ? stdout : stderr,
	    "usage: quic-junk [--window MS] [--hold S] [--alpn ID] ADDR:PORT "
	    "ACTION...\n"
	    "actions: --empty --one-byte --twenty-bytes --garbage-long-header\n"
	    "         --short-initial --unknown-version --random-short N "
	    "--half-open N\n");
	exit(rc);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "hold", required_argument, NULL, 'H' },
		{ "alpn", required_argument, NULL, 'a' },
		{ "empty", no_argument, NULL, 'e' },
		{ "one-byte", no_argument, NULL, '1' },
		{ "twenty-bytes", no_argument, NULL, '2' },
		{ "garbage-long-header", no_argument, NULL, 'g' },
		{ "short-initial", no_argument, NULL, 's' },
		{ "unknown-version", no_argument, NULL, 'u' },
		{ "random-short", required_argument, NULL, 'r' },
		{ "half-open", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct qj	 q;
	int		 ch, rc = 0;
	unsigned long	 v;

	memset(&q, 0, sizeof q);
	q.window_ms = 500;
	q.hold_s = 3;
	q.alpn = "hytale/2";
	/* First pass: options and the target; second pass: actions. */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			q.window_ms = (unsigned)strtoul(optarg, NULL, 10);
			if (q.window_ms > 60000)
				qj_usage(2);
			break;
		case 'H':
			q.hold_s = (unsigned)strtoul(optarg, NULL, 10);
			if (q.hold_s > 120)
				qj_usage(2);
			break;
		case 'a':
			q.alpn = optarg;
			break;
		case 'r':
			v = strtoul(optarg, NULL, 10);
			if (v == 0 || v > QJ_MAX_SHORT)
				qj_usage(2);
			break;
		case 'o':
			v = strtoul(optarg, NULL, 10);
			if (v == 0 || v > QJ_MAX_HALF_OPEN)
				qj_usage(2);
			break;
		case 'h':
			qj_usage(0);
		case '?':
			qj_usage(2);
		default:
			break;
		}
	}
	if (optind != argc - 1 ||
	    hyp_addr_parse(argv[optind], -1, &q.to, &q.tolen) != 0)
		qj_usage(2);
	if (!qj_loopback((struct sockaddr *)&q.to)) {
		peer_err("quic-junk: %s is not a loopback address",
		    argv[optind]);
		return (2);
	}
	if ((q.fd = qj_socket(&q)) < 0) {
		peer_err("quic-junk: socket: %s", strerror(errno));
		return (1);
	}
	optind = 1;
	while (rc == 0 &&
	    (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			rc = qj_tiny(&q, "empty", 0);
			break;
		case '1':
			rc = qj_tiny(&q, "one-byte", 1);
			break;
		case '2':
			rc = qj_tiny(&q, "twenty-bytes", 20);
			break;
		case 'g':
			rc = qj_garbage_long(&q);
			break;
		case 's':
			rc = qj_short_initial(&q);
			break;
		case 'u':
			rc = qj_unknown_version(&q);
			break;
		case 'r':
			rc = qj_random_short(&q,
			    (unsigned)strtoul(optarg, NULL, 10));
			break;
		case 'o':
			rc = qj_half_open(&q,
			    (unsigned)strtoul(optarg, NULL, 10));
			break;
		default:
			break;
		}
	}
	close(q.fd);
	return (rc < 0 ? 1 : 0);
}
