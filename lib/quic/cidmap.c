/*
 * cidmap.c: connection ID -> connection map.  Buckets are chosen with keyed
 * SipHash (crypto_shorthash) so peers cannot aim at one bucket; entries come
 * from a pool allocated once, so the map is bounded and never allocates
 * after hq_cidmap_init().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <stdlib.h>
#include <string.h>

#include "quic_int.h"

/* Bucket index of a CID. */
static size_t
cid_bucket(const struct hq_cidmap *m, const uint8_t *cid, size_t len)
{
	uint8_t		h[crypto_shorthash_BYTES];
	uint64_t	v;

	crypto_shorthash(h, cid, len, m->key);
	memcpy(&v, h, sizeof(v));
	return ((size_t)v & m->mask);
}

/* Allocate a map holding at most cap CIDs. */
int
hq_cidmap_init(struct hq_cidmap *m, size_t cap)
{
	size_t	nb = 16, i;

	memset(m, 0, sizeof(*m));
	if (cap == 0)
		return (HYP_EINVAL);
	while (nb < cap && nb < ((size_t)1 << 30))
		nb <<= 1;
	m->b = calloc(nb, sizeof(*m->b));
	m->pool = calloc(cap, sizeof(*m->pool));
	if (m->b == NULL || m->pool == NULL) {
		hq_cidmap_free(m);
		return (HYP_ENOMEM);
	}
	m->mask = nb - 1;
	m->cap = cap;
	for (i = 0; i < cap; i++) {
		m->pool[i].next = m->free;
		m->free = &m->pool[i];
	}
	crypto_shorthash_keygen(m->key);
	return (0);
}

/* Free the map's memory. */
void
hq_cidmap_free(struct hq_cidmap *m)
{
	free(m->b);
	free(m->pool);
	memset(m, 0, sizeof(*m));
}

/* Find the entry slot pointing at cid, or NULL. */
static struct hq_cident **
cid_find(const struct hq_cidmap *m, const uint8_t *cid, size_t len)
{
	struct hq_cident	**pp;

	for (pp = &m->b[cid_bucket(m, cid, len)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if ((*pp)->len == len && memcmp((*pp)->cid, cid, len) == 0)
			return (pp);
	}
	return (NULL);
}

/* Map cid to c; HYP_EEXIST if taken, HYP_ENOSPC if full or c has too many. */
int
hq_cidmap_add(struct hq_cidmap *m, const uint8_t *cid, size_t len,
    struct hq_conn *c)
{
	struct hq_cident	*e;
	size_t			 b;

	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return (HYP_EINVAL);
	if (cid_find(m, cid, len) != NULL)
		return (HYP_EEXIST);
	if (m->free == NULL || c->ncids >= HQ_CONN_CIDS)
		return (HYP_ENOSPC);
	e = m->free;
	m->free = e->next;
	e->len = (uint8_t)len;
	memcpy(e->cid, cid, len);
	e->conn = c;
	b = cid_bucket(m, cid, len);
	e->next = m->b[b];
	m->b[b] = e;
	e->cnext = c->cids;
	c->cids = e;
	c->ncids++;
	m->count++;
	return (0);
}

/* Look cid up. */
struct hq_conn *
hq_cidmap_get(const struct hq_cidmap *m, const uint8_t *cid, size_t len)
{
	struct hq_cident	**pp;

	if (len == 0 || len > NGTCP2_MAX_CIDLEN || m->b == NULL)
		return (NULL);
	pp = cid_find(m, cid, len);
	return (pp != NULL ? (*pp)->conn : NULL);
}

/* Unlink e from its bucket and its connection, and return it to the pool. */
static void
cid_release(struct hq_cidmap *m, struct hq_cident **pp)
{
	struct hq_cident	*e = *pp, **cp;
	struct hq_conn		*c = e->conn;

	*pp = e->next;
	for (cp = &c->cids; *cp != NULL; cp = &(*cp)->cnext) {
		if (*cp == e) {
			*cp = e->cnext;
			break;
		}
	}
	c->ncids--;
	m->count--;
	e->conn = NULL;
	e->next = m->free;
	m->free = e;
}

/* Remove one CID if present. */
void
hq_cidmap_del(struct hq_cidmap *m, const uint8_t *cid, size_t len)
{
	struct hq_cident	**pp;

	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return;
	if ((pp = cid_find(m, cid, len)) != NULL)
		cid_release(m, pp);
}

/* Remove every CID of c. */
void
hq_cidmap_del_conn(struct hq_cidmap *m, struct hq_conn *c)
{
	struct hq_cident	**pp;

	while (c->cids != NULL) {
		pp = cid_find(m, c->cids->cid, c->cids->len);
		if (pp == NULL) {	/* cannot happen; do not loop */
			c->cids = NULL;
			c->ncids = 0;
			break;
		}
		cid_release(m, pp);
	}
}
