/*
 * peer.h: helpers shared by the test peers (mock-backend, mock-client,
 * quic-junk): event output, address and hex parsing, and a bounded
 * reassembly buffer for framed Hytale packets.
 */
#ifndef HYP_TEST_PEER_H
#define HYP_TEST_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#define PEER_ADDR_MAX	64	/* "[v6]:port" text, bytes */

/** Print one event line to stdout (newline added) and flush it. */
void	peer_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Print a diagnostic to stderr (newline added). */
void	peer_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Split "1.2.3.4:5520", "[::1]:5520" or "host:5520" into host (copied into
 * host[hostlen]) and port.  Returns 0 or -1.
 */
int	peer_split_hostport(const char *s, char *host, size_t hostlen,
	    uint16_t *port);

/** Format an address as "1.2.3.4:5520" or "[::1]:5520" into out. */
void	peer_addr_str(const struct sockaddr *sa, char out[PEER_ADDR_MAX]);

/** Lowercase hex of len bytes into out (2*len+1 bytes); "-" when ptr NULL. */
void	peer_hex(const uint8_t *p, size_t len, char *out, size_t cap);

/** Parse hex into out (cap bytes).  Returns the byte count or -1. */
ssize_t	peer_unhex(const char *s, uint8_t *out, size_t cap);

/** Reassembly of framed packets from one stream, bounded by max. */
struct peer_frames {
	uint8_t	*buf;
	size_t	 len;
	size_t	 off;	/* start of the unparsed bytes */
	size_t	 cap;
	size_t	 max;	/* largest frame (header + payload) accepted */
};

/** Initialise with a limit on one frame's size. */
void	peer_frames_init(struct peer_frames *f, size_t max);

/** Free the buffer. */
void	peer_frames_free(struct peer_frames *f);

/** Append stream bytes.  Returns 0, or -1 when out of memory. */
int	peer_frames_push(struct peer_frames *f, const uint8_t *d, size_t n);

/**
 * Take the next complete frame: 1 with *id, *payload, *plen set (valid until
 * the next push), 0 when more bytes are needed, -1 when the declared length
 * exceeds the limit (*plen then holds the declared length).
 */
int	peer_frames_next(struct peer_frames *f, uint32_t *id,
	    const uint8_t **payload, size_t *plen);

/** Bytes buffered but not yet returned as frames. */
size_t	peer_frames_pending(const struct peer_frames *f);

#endif /* HYP_TEST_PEER_H */
