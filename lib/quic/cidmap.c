/*
 * cidmap.c: connection ID -> connection map.  Buckets are chosen with keyed
 * SipHash (crypto_shorthash) so peers cannot aim at one bucket; entries come
 * from a pool allocated once, so the map is bounded.
 *
 * Memory is only touched as it is used: pool entries are handed out in
 * order (the free list only holds returned ones), and the bucket array
 * starts small and doubles, up to one bucket per pool entry, while the map
 * holds more CIDs than buckets.  A map sized for many connections thus
 * costs resident memory in proportion to the connections it really holds
 * (a preallocated array written at random would be resident nearly whole
 * after a few thousand CIDs).  A failed growth keeps the current array.
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

/* Allocate a map holding at most cap CIDs (pool pages untouched). */
int
hq_cidmap_init(struct hq_cidmap *m, size_t cap)
{
	size_t	nb = HQ_CIDMAP_MINB, maxb = 16;

	memset(m, 0, sizeof(*m));
	if (cap == 0)
		return (HYP_EINVAL);
	while (maxb < cap && maxb < ((size_t)1 << 30))
		maxb <<= 1;
	if (nb > maxb)
		nb = maxb;
	m->b = calloc(nb, sizeof(*m->b));
	m->pool = calloc(cap, sizeof(*m->pool));
	if (m->b == NULL || m->pool == NULL) {
		hq_cidmap_free(m);
		return (HYP_ENOMEM);
	}
	m->mask = nb - 1;
	m->maxb = maxb;
	m->cap = cap;
	crypto_shorthash_keygen(m->key);
	return (0);
}

/* Double the bucket array and rehash; on failure keep the current one. */
static void
cid_grow(struct hq_cidmap *m)
{
	struct hq_cident	**nb, *e, *next;
	size_t			  n = m->mask + 1, i, b;

	if (n >= m->maxb || (nb = calloc(2 * n, sizeof(*nb))) == NULL)
		return;
	m->mask = 2 * n - 1;
	for (i = 0; i < n; i++) {
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			b = cid_bucket(m, e->cid, e->len);
			e->next = nb[b];
			nb[b] = e;
		}
	}
	free(m->b);
	m->b = nb;
}

/* Take an entry: a returned one, else the next never-used one. */
static struct hq_cident *
cid_take(struct hq_cidmap *m)
{
	struct hq_cident	*e;

	if ((e = m->free) != NULL) {
		m->free = e->next;
		return (e);
	}
	if (m->used < m->cap)
		return (&m->pool[m->used++]);
	return (NULL);
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
	if (c->ncids >= HQ_CONN_CIDS || (e = cid_take(m)) == NULL)
		return (HYP_ENOSPC);
	if (m->count >= m->mask + 1)
		cid_grow(m);
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
