/*
 * admission.c: per-IP handshake rate (token bucket) and concurrent
 * connection caps in a bounded hash table.  Entries that hold connections
 * are pinned; idle ones sit on an LRU list and are evicted oldest first,
 * or expire once their bucket would be full again.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "transport.h"

/* Make the key of an address: IPv4 (also v4-mapped) or an IPv6 /64. */
void
tp_ipkey_from_sa(const struct sockaddr *sa, struct tp_ipkey *k)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)sa;
		k->b[10] = 0xff;
		k->b[11] = 0xff;
		memcpy(&k->b[12], &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			memcpy(k->b, &s6->sin6_addr, 16);
		else
			memcpy(k->b, &s6->sin6_addr, 8);
	}
}

/*
 * Refill a token bucket for the time since *last_us and take one token;
 * 1 when taken, 0 when empty.  rate 0 means unlimited.
 */
int
tp_bucket_take(double *tokens, uint64_t *last_us, uint64_t now_us,
    uint32_t rate, uint32_t burst)
{
	double	t;

	if (rate == 0)
		return (1);
	if (now_us > *last_us) {
		t = *tokens + (double)(now_us - *last_us) * rate / 1e6;
		*tokens = t > burst ? burst : t;
	}
	*last_us = now_us;
	if (*tokens < 1.0)
		return (0);
	*tokens -= 1.0;
	return (1);
}

/* The table size for a set of limits: every connection plus slack. */
uint32_t
tp_iptable_size_for(const struct tp_limits *l)
{
	uint64_t	n;

	n = (uint64_t)l->max_connections + l->max_half_open + 4096;
	return (n > (1u << 22) ? (1u << 22) : (uint32_t)n);
}

/*
 * Allocate a table of cap entries; they are handed out in order, so the
 * pages of entries never used are never written.
 */
int
tp_iptable_init(struct tp_iptable *t, uint32_t cap)
{
	uint32_t	i;

	memset(t, 0, sizeof(*t));
	if (cap == 0)
		return (HYP_EINVAL);
	t->nbuckets = 16;
	while (t->nbuckets < cap)
		t->nbuckets <<= 1;
	t->ents = calloc(cap, sizeof(*t->ents));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	if (t->ents == NULL || t->buckets == NULL) {
		tp_iptable_free(t);
		return (HYP_ENOMEM);
	}
	t->cap = cap;
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = TP_NIL;
	t->free_head = TP_NIL;
	t->next_unused = 0;
	t->lru_head = t->lru_tail = TP_NIL;
	randombytes_buf(t->hkey, sizeof(t->hkey));
	return (0);
}

/* Free a table. */
void
tp_iptable_free(struct tp_iptable *t)
{
	free(t->ents);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Keyed hash (SipHash) of a key: flooding a chain needs the secret key. */
static uint32_t
ipt_hash(const struct tp_iptable *t, const struct tp_ipkey *k)
{
	uint8_t		h[crypto_shorthash_BYTES];
	uint32_t	v;

	crypto_shorthash(h, k->b, sizeof(k->b), t->hkey);
	memcpy(&v, h, sizeof(v));
	return (v & (t->nbuckets - 1));
}

/* Unlink entry i from the idle LRU list. */
static void
lru_unlink(struct tp_iptable *t, uint32_t i)
{
	struct tp_ipent	*e = &t->ents[i];

	if (e->lprev != TP_NIL)
		t->ents[e->lprev].lnext = e->lnext;
	else
		t->lru_head = e->lnext;
	if (e->lnext != TP_NIL)
		t->ents[e->lnext].lprev = e->lprev;
	else
		t->lru_tail = e->lprev;
	e->lprev = e->lnext = TP_NIL;
}

/* Append entry i to the idle LRU list (most recent last). */
static void
lru_append(struct tp_iptable *t, uint32_t i)
{
	struct tp_ipent	*e = &t->ents[i];

	e->lnext = TP_NIL;
	e->lprev = t->lru_tail;
	if (t->lru_tail != TP_NIL)
		t->ents[t->lru_tail].lnext = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

/* Index of the entry for k, or TP_NIL. */
static uint32_t
ipt_lookup(struct tp_iptable *t, const struct tp_ipkey *k)
{
	uint32_t	i;

	for (i = t->buckets[ipt_hash(t, k)]; i != TP_NIL; i = t->ents[i].hnext)
		if (memcmp(t->ents[i].key.b, k->b, sizeof(k->b)) == 0)
			return (i);
	return (TP_NIL);
}

/* Take an entry: a returned one, else the next never-used one, or TP_NIL. */
static uint32_t
ipt_take(struct tp_iptable *t)
{
	uint32_t	i;

	if ((i = t->free_head) != TP_NIL) {
		t->free_head = t->ents[i].hnext;
		return (i);
	}
	if (t->next_unused < t->cap)
		return (t->next_unused++);
	return (TP_NIL);
}

/* Remove entry i from its chain and the LRU list and free it. */
static void
ipt_remove(struct tp_iptable *t, uint32_t i)
{
	uint32_t	*pp;

	pp = &t->buckets[ipt_hash(t, &t->ents[i].key)];
	while (*pp != i)
		pp = &t->ents[*pp].hnext;
	*pp = t->ents[i].hnext;
	if (t->ents[i].conns == 0)
		lru_unlink(t, i);
	memset(&t->ents[i], 0, sizeof(t->ents[i]));
	t->ents[i].hnext = t->free_head;
	t->free_head = i;
	t->nused--;
}

/* Insert k (absent) with a full bucket; evicts the oldest idle entry if full. */
static uint32_t
ipt_insert(struct tp_iptable *t, const struct tp_ipkey *k, uint64_t now_us,
    uint32_t burst)
{
	struct tp_ipent	*e;
	uint32_t	 i, h;

	if ((i = ipt_take(t)) == TP_NIL) {
		if (t->lru_head == TP_NIL)
			return (TP_NIL);
		ipt_remove(t, t->lru_head);
		i = ipt_take(t);
	}
	e = &t->ents[i];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->tokens = burst;
	e->last_us = now_us;
	e->used = 1;
	h = ipt_hash(t, k);
	e->hnext = t->buckets[h];
	t->buckets[h] = i;
	e->lprev = e->lnext = TP_NIL;
	lru_append(t, i);
	t->nused++;
	return (i);
}

/* The entry for k, or NULL. */
struct tp_ipent *
tp_iptable_find(struct tp_iptable *t, const struct tp_ipkey *k)
{
	uint32_t	i = ipt_lookup(t, k);

	return (i == TP_NIL ? NULL : &t->ents[i]);
}

/*
 * Admit one handshake from k: take a token and reserve a connection slot.
 * On TP_ADMIT_OK the caller must tp_ip_release() the slot later.
 */
enum tp_admit
tp_ip_admit(struct tp_iptable *t, const struct tp_ipkey *k, uint64_t now_us,
    const struct tp_limits *l)
{
	struct tp_ipent	*e;
	uint32_t	 i;

	if ((i = ipt_lookup(t, k)) == TP_NIL &&
	    (i = ipt_insert(t, k, now_us, l->burst)) == TP_NIL)
		return (TP_ADMIT_FULL);
	e = &t->ents[i];
	if (e->conns == 0) {
		/* Refresh its LRU position: it was just used. */
		lru_unlink(t, i);
		lru_append(t, i);
	}
	if (l->max_per_ip != 0 && e->conns >= l->max_per_ip)
		return (TP_ADMIT_PER_IP);
	if (!tp_bucket_take(&e->tokens, &e->last_us, now_us, l->rate,
	    l->burst))
		return (TP_ADMIT_RATE);
	if (e->conns++ == 0)
		lru_unlink(t, i);
	return (TP_ADMIT_OK);
}

/* Give back a slot reserved by tp_ip_admit(). */
void
tp_ip_release(struct tp_iptable *t, const struct tp_ipkey *k)
{
	uint32_t	i;

	if ((i = ipt_lookup(t, k)) == TP_NIL || t->ents[i].conns == 0)
		return;
	if (--t->ents[i].conns == 0)
		lru_append(t, i);
}

/*
 * Drop idle entries whose bucket has refilled completely (they carry no
 * state any more); returns how many were dropped.
 */
unsigned
tp_iptable_expire(struct tp_iptable *t, uint64_t now_us,
    const struct tp_limits *l)
{
	struct tp_ipent	*e;
	uint64_t	 full_us;
	unsigned	 n = 0;

	full_us = l->rate == 0 ? 0 :
	    (uint64_t)l->burst * 1000000 / l->rate;
	while (t->lru_head != TP_NIL) {
		e = &t->ents[t->lru_head];
		if (now_us < e->last_us || now_us - e->last_us < full_us)
			break;
		ipt_remove(t, t->lru_head);
		n++;
	}
	return (n);
}

/*
 * Move every entry of src into dst (at least as large, empty) and free
 * src; allocation-free so a reload commit cannot fail.
 */
void
tp_iptable_move(struct tp_iptable *dst, struct tp_iptable *src)
{
	struct tp_ipent	*e, *d;
	uint32_t	 i, j, h;

	/* Idle entries in LRU order first, so the order survives. */
	for (i = src->lru_head; i != TP_NIL; i = src->ents[i].lnext) {
		j = ipt_insert(dst, &src->ents[i].key, 0, 0);
		if (j == TP_NIL)
			break;
		dst->ents[j].tokens = src->ents[i].tokens;
		dst->ents[j].last_us = src->ents[i].last_us;
	}
	for (i = 0; i < src->next_unused; i++) {
		e = &src->ents[i];
		if (!e->used || e->conns == 0 || (j = ipt_take(dst)) == TP_NIL)
			continue;
		d = &dst->ents[j];
		*d = *e;
		d->lprev = d->lnext = TP_NIL;
		h = ipt_hash(dst, &d->key);
		d->hnext = dst->buckets[h];
		dst->buckets[h] = j;
		dst->nused++;
	}
	tp_iptable_free(src);
}
