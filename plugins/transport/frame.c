/*
 * frame.c: read exactly one framed packet (u32le length, u32le id,
 * payload) from stream data arriving in pieces of any size.  The header is
 * checked before anything is buffered: only a Connect (id 0) no larger than
 * the limit gets a buffer, of exactly its declared size.
 */
#include <stdlib.h>
#include <string.h>

#include "transport.h"

/* Start reading a frame whose payload may be at most max bytes. */
void
tp_frame_init(struct tp_frame *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

/* Free the payload buffer. */
void
tp_frame_free(struct tp_frame *f)
{
	free(f->buf);
	f->buf = NULL;
	f->have = 0;
}

/*
 * Feed len bytes; *used gets how many were taken.  Returns TP_FRAME_MORE,
 * TP_FRAME_DONE (f->buf holds f->plen bytes of packet f->id), or
 * HYP_EPACKETID (not a Connect), HYP_ETOOBIG (declared size over the
 * limit), HYP_ENOMEM.
 */
int
tp_frame_feed(struct tp_frame *f, const uint8_t *data, size_t len,
    size_t *used)
{
	size_t	n, off = 0;

	*used = 0;
	if (f->hdrlen < HYP_FRAME_HEADER_LEN) {
		n = HYP_FRAME_HEADER_LEN - f->hdrlen;
		if (n > len)
			n = len;
		memcpy(f->hdr + f->hdrlen, data, n);
		f->hdrlen += n;
		off = n;
		*used = off;
		if (f->hdrlen < HYP_FRAME_HEADER_LEN)
			return (TP_FRAME_MORE);
		f->plen = (uint32_t)f->hdr[0] | (uint32_t)f->hdr[1] << 8 |
		    (uint32_t)f->hdr[2] << 16 | (uint32_t)f->hdr[3] << 24;
		f->id = (uint32_t)f->hdr[4] | (uint32_t)f->hdr[5] << 8 |
		    (uint32_t)f->hdr[6] << 16 | (uint32_t)f->hdr[7] << 24;
		if (f->id != HYP_PKT_CONNECT)
			return (HYP_EPACKETID);
		if (f->plen > f->max)
			return (HYP_ETOOBIG);
		if (f->plen > 0 && (f->buf = malloc(f->plen)) == NULL)
			return (HYP_ENOMEM);
		f->have = 0;
	}
	if (f->have < f->plen) {
		n = f->plen - f->have;
		if (n > len - off)
			n = len - off;
		memcpy(f->buf + f->have, data + off, n);
		f->have += n;
		off += n;
		*used = off;
	}
	return (f->have == f->plen ? TP_FRAME_DONE : TP_FRAME_MORE);
}
