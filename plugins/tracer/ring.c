/*
 * ring.c: the last N events in memory, in fixed-size slots allocated
 * once, dumped oldest first on demand.  A line longer than a slot keeps
 * its header (ts, event, session) and is marked "truncated":true.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer.h"

/* Allocate n slots (n ≤ TR_RING_MAX); n 0 leaves the ring empty. */
int
tr_ring_init(struct tr_ring *r, uint32_t n)
{
	memset(r, 0, sizeof(*r));
	if (n == 0)
		return (0);
	if (n > TR_RING_MAX)
		return (HYP_ERANGE);
	if ((r->slots = malloc((size_t)n * TR_SLOT)) == NULL ||
	    (r->lens = calloc(n, sizeof(*r->lens))) == NULL) {
		free(r->slots);
		r->slots = NULL;
		return (HYP_ENOMEM);
	}
	r->n = n;
	return (0);
}

/* Free the slots. */
void
tr_ring_free(struct tr_ring *r)
{
	free(r->slots);
	free(r->lens);
	memset(r, 0, sizeof(*r));
}

/* Copy one line (ending in "}\n"; hdr: end of its header) into the ring. */
void
tr_ring_push(struct tr_ring *r, const char *line, size_t len, size_t hdr)
{
	static const char	 trunc[] = ",\"truncated\":true}\n";
	char			*slot;

	if (r->n == 0)
		return;
	slot = r->slots + (size_t)r->head * TR_SLOT;
	if (len <= TR_SLOT)
		memcpy(slot, line, len);
	else {
		if (hdr + sizeof(trunc) - 1 > TR_SLOT)
			hdr = 0;
		memcpy(slot, line, hdr);
		memcpy(slot + hdr, trunc, sizeof(trunc) - 1);
		len = hdr + sizeof(trunc) - 1;
		if (hdr == 0) {
			memcpy(slot, "{\"truncated\":true}\n", 19);
			len = 19;
		}
	}
	r->lens[r->head] = (uint16_t)len;
	r->head = (r->head + 1) % r->n;
	if (r->count < r->n)
		r->count++;
	r->total++;
}

/* Write every event held, oldest first, to fd; 0 or -EIO. */
int
tr_ring_dump(const struct tr_ring *r, int fd)
{
	uint32_t	 i, k;
	const char	*p;
	size_t		 left;
	ssize_t		 w;

	for (i = 0; i < r->count; i++) {
		k = (r->head + r->n - r->count + i) % r->n;
		p = r->slots + (size_t)k * TR_SLOT;
		left = r->lens[k];
		while (left > 0) {
			w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return (-EIO);
			p += w;
			left -= (size_t)w;
		}
	}
	return (0);
}
