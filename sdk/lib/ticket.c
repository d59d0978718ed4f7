/*
 * Referral tickets, format v1 (see sdk/hyprox/ticket.h and doc/ticket.md):
 * encoding and signing, decoding, the keyring, the nonce replay cache and
 * verification.  HMAC-SHA256, constant-time comparison and wiping come from
 * libsodium.  Nothing here allocates after hyp_keyring_add() and
 * hyp_replay_new(); nothing reads past the length it is given.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <hyprox/error.h>
#include <hyprox/ticket.h>

#include "lib.h"

#define TICKET_KEYS_MAX		16	/* keys in one keyring */
#define TICKET_HDR_LEN		7	/* magic, version, flags, K */
#define TICKET_FIXED_LEN	28	/* issued_at, ttl, nonce */
#define TICKET_F_KNOWN		(HYP_TICKET_F_ADDR | HYP_TICKET_F_EXT)
#define REPLAY_CAP_MAX		(1u << 24)	/* live nonces in one cache */
#define REPLAY_EMPTY		UINT32_MAX

/* One key of a keyring. */
struct ticket_key {
	char		 kid[HYP_TICKET_KID_MAX + 1];
	uint8_t		*secret;
	size_t		 len;
	uint64_t	 valid_from;	/* 0: unbounded */
	uint64_t	 valid_to;	/* 0: unbounded */
};

struct hyp_keyring {
	struct ticket_key	 keys[TICKET_KEYS_MAX];
	size_t			 nkeys;		/* in the order added */
};

/* One recorded nonce. */
struct replay_ent {
	uint8_t		 nonce[HYP_TICKET_NONCE_LEN];
	uint64_t	 expires;	/* live while expires >= now */
	uint32_t	 slot;		/* its index in the hash table */
	uint32_t	 heap;		/* its index in the expiry heap */
};

/*
 * Open addressing (linear probing, backward-shift deletion) over entry
 * indices, and a min-heap of entry indices by expiry.  Entries never move;
 * free ones are kept on a stack.
 */
struct hyp_replay {
	size_t			 cap;		/* live entries at most */
	size_t			 count;
	size_t			 mask;		/* table size - 1 */
	uint32_t		*table;		/* entry index or REPLAY_EMPTY */
	uint32_t		*heap;		/* count entry indices */
	uint32_t		*freelist;	/* cap - count entry indices */
	struct replay_ent	*ent;
};

static void	ticket_init(void);
static int	ticket_id_ok(const char *, size_t, size_t);
static int	ticket_ext_ok(const uint8_t *, size_t);
static void	ticket_put_u64(uint8_t *, uint64_t);
static void	ticket_put_u32(uint8_t *, uint32_t);
static uint64_t	ticket_get_u64(const uint8_t *);
static uint32_t	ticket_get_u32(const uint8_t *);
static int	ticket_mac(const uint8_t *, size_t, const uint8_t *, size_t,
		    uint8_t *);
static uint64_t	ticket_sat_add(uint64_t, uint64_t);
static int	ticket_addr_norm(int, const uint8_t *, uint8_t *);
static int	ticket_peer_norm(const struct sockaddr *, uint8_t *);
static const struct ticket_key *keyring_find(const hyp_keyring_t *,
		    const char *);
static int	key_valid_at(const struct ticket_key *, uint64_t);
static size_t	replay_home(const hyp_replay_t *, const uint8_t *);
static int	replay_lookup(const hyp_replay_t *, const uint8_t *);
static void	replay_heap_swap(hyp_replay_t *, size_t, size_t);
static void	replay_heap_up(hyp_replay_t *, size_t);
static void	replay_heap_down(hyp_replay_t *, size_t);
static void	replay_remove_top(hyp_replay_t *);
static void	replay_purge(hyp_replay_t *, uint64_t);
static int	replay_insert(hyp_replay_t *, const uint8_t *, uint64_t,
		    uint64_t);

/* Whether sodium_init() has run; a racing second call is harmless. */
static volatile int	ticket_sodium_ready;

/* Initialise libsodium once, on first use. */
static void
ticket_init(void)
{
	if (ticket_sodium_ready)
		return;
	if (sodium_init() >= 0)
		ticket_sodium_ready = 1;
}

/* Whether s[0..len) is an id of 1..max chars [A-Za-z0-9._-]. */
static int
ticket_id_ok(const char *s, size_t len, size_t max)
{
	size_t	i;
	char	c;

	if (len < 1 || len > max)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		return (0);
	}
	return (1);
}

/* Whether ext[0..len) is a sequence of complete TLV entries. */
static int
ticket_ext_ok(const uint8_t *ext, size_t len)
{
	size_t	off = 0;

	while (off < len) {
		if (len - off < 2 || len - off - 2 < ext[off + 1])
			return (0);
		off += 2 + (size_t)ext[off + 1];
	}
	return (1);
}

/* Store v big-endian in 8 bytes. */
static void
ticket_put_u64(uint8_t *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Store v big-endian in 4 bytes. */
static void
ticket_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Load 8 bytes big-endian. */
static uint64_t
ticket_get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

/* Load 4 bytes big-endian. */
static uint32_t
ticket_get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* HMAC-SHA256 of msg under a key of any length into mac[32]. */
static int
ticket_mac(const uint8_t *key, size_t keylen, const uint8_t *msg,
    size_t len, uint8_t *mac)
{
	crypto_auth_hmacsha256_state	st;
	int				rv = 0;

	if (crypto_auth_hmacsha256_init(&st, key, keylen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, msg, len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, mac) != 0)
		rv = HYP_EINVAL;
	sodium_memzero(&st, sizeof(st));
	return (rv);
}

/* a + b, saturating at UINT64_MAX. */
static uint64_t
ticket_sat_add(uint64_t a, uint64_t b)
{
	return (a > UINT64_MAX - b ? UINT64_MAX : a + b);
}

/*
 * Canonical form of a ticket address into out[16]: 4 (IPv4, also for an
 * IPv4-mapped IPv6 address; out[0..4)) or 6.
 */
static int
ticket_addr_norm(int family, const uint8_t *a, uint8_t *out)
{
	static const uint8_t	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };

	memset(out, 0, 16);
	if (family == 4) {
		memcpy(out, a, 4);
		return (4);
	}
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		memcpy(out, a + 12, 4);
		return (4);
	}
	memcpy(out, a, 16);
	return (6);
}

/* Canonical form of a socket address (as ticket_addr_norm()), or 0. */
static int
ticket_peer_norm(const struct sockaddr *sa, uint8_t *out)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ticket_addr_norm(4, (const uint8_t *)&sin->sin_addr,
		    out));
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return (ticket_addr_norm(6, sin6->sin6_addr.s6_addr, out));
	}
	return (0);
}

/* Encode and sign t with key into out. */
HYP_API int
hyp_ticket_sign(const struct hyp_ticket *t, const uint8_t *key,
    size_t keylen, uint8_t *out, size_t cap)
{
	size_t	klen, slen, tlen, extlen, total, off;
	uint8_t	flags = 0;
	int	rv;

	if (keylen < HYP_TICKET_KEY_MIN)
		return (HYP_ETICKET_KEY_SHORT);
	if (t == NULL || key == NULL || (out == NULL && cap > 0))
		return (HYP_EINVAL);
	klen = strnlen(t->kid, sizeof(t->kid));
	slen = strnlen(t->scope_id, sizeof(t->scope_id));
	tlen = strnlen(t->target, sizeof(t->target));
	if (!ticket_id_ok(t->kid, klen, HYP_TICKET_KID_MAX) ||
	    !ticket_id_ok(t->target, tlen, HYP_TICKET_ID_MAX) ||
	    t->ttl < 1 || t->ttl > HYP_TICKET_TTL_MAX)
		return (HYP_EINVAL);
	switch (t->scope) {
	case HYP_TICKET_SCOPE_GLOBAL:
		if (slen != 0)
			return (HYP_EINVAL);
		break;
	case HYP_TICKET_SCOPE_POOL:
	case HYP_TICKET_SCOPE_BACKEND:
		if (!ticket_id_ok(t->scope_id, slen, HYP_TICKET_ID_MAX))
			return (HYP_EINVAL);
		break;
	default:
		return (HYP_EINVAL);
	}
	if (t->has_addr && t->addr_family != 4 && t->addr_family != 6)
		return (HYP_EINVAL);
	extlen = t->ext != NULL ? t->ext_len : 0;
	if (t->ext == NULL && t->ext_len != 0)
		return (HYP_EINVAL);
	if (extlen > HYP_TICKET_MAX)
		return (HYP_ETICKET_TOO_BIG);
	if (!ticket_ext_ok(t->ext, extlen))
		return (HYP_EINVAL);

	total = TICKET_HDR_LEN + klen + TICKET_FIXED_LEN + 2 + slen + 1 +
	    tlen + 16 + HYP_TICKET_MAC_LEN;
	if (t->has_addr) {
		flags |= HYP_TICKET_F_ADDR;
		total += 1 + (t->addr_family == 4 ? 4 : 16);
	}
	if (extlen > 0) {
		flags |= HYP_TICKET_F_EXT;
		total += 2 + extlen;
	}
	if (total > HYP_TICKET_MAX)
		return (HYP_ETICKET_TOO_BIG);
	if (total > cap)
		return (HYP_ENOSPC);

	memcpy(out, HYP_TICKET_MAGIC, 4);
	out[4] = HYP_TICKET_VERSION;
	out[5] = flags;
	out[6] = (uint8_t)klen;
	off = TICKET_HDR_LEN;
	memcpy(out + off, t->kid, klen);
	off += klen;
	ticket_put_u64(out + off, t->issued_at);
	ticket_put_u32(out + off + 8, t->ttl);
	memcpy(out + off + 12, t->nonce, HYP_TICKET_NONCE_LEN);
	off += TICKET_FIXED_LEN;
	out[off++] = t->scope;
	out[off++] = (uint8_t)slen;
	memcpy(out + off, t->scope_id, slen);
	off += slen;
	out[off++] = (uint8_t)tlen;
	memcpy(out + off, t->target, tlen);
	off += tlen;
	memcpy(out + off, t->uuid, 16);
	off += 16;
	if (t->has_addr) {
		out[off++] = t->addr_family;
		memcpy(out + off, t->addr, t->addr_family == 4 ? 4 : 16);
		off += t->addr_family == 4 ? 4 : 16;
	}
	if (extlen > 0) {
		out[off++] = (uint8_t)(extlen >> 8);
		out[off++] = (uint8_t)extlen;
		memcpy(out + off, t->ext, extlen);
		off += extlen;
	}
	if ((rv = ticket_mac(key, keylen, out, off, out + off)) != 0)
		return (rv);
	return ((int)total);
}

/* Decode a ticket without checking its signature. */
HYP_API int
hyp_ticket_parse(const uint8_t *buf, size_t len, struct hyp_ticket *out)
{
	size_t	off, n, body;
	uint8_t	flags;

	if (out == NULL)
		return (HYP_EINVAL);
	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < 4 || len > HYP_TICKET_MAX)
		return (HYP_ETICKET_FORMAT);
	if (memcmp(buf, HYP_TICKET_MAGIC, 4) != 0)
		return (HYP_ETICKET_MAGIC);
	if (len < 5)
		return (HYP_ETICKET_FORMAT);
	if (buf[4] != HYP_TICKET_VERSION)
		return (HYP_ETICKET_VERSION);
	if (len < TICKET_HDR_LEN + HYP_TICKET_MAC_LEN)
		return (HYP_ETICKET_FORMAT);
	/* Everything but the MAC; every read below stays below body. */
	body = len - HYP_TICKET_MAC_LEN;
	flags = buf[5];
	if ((flags & ~TICKET_F_KNOWN) != 0)
		return (HYP_ETICKET_FORMAT);
	n = buf[6];
	off = TICKET_HDR_LEN;
	if (n > body - off || !ticket_id_ok((const char *)buf + off, n,
	    HYP_TICKET_KID_MAX))
		return (HYP_ETICKET_FORMAT);
	memcpy(out->kid, buf + off, n);
	off += n;
	if (body - off < TICKET_FIXED_LEN + 2)
		return (HYP_ETICKET_FORMAT);
	out->issued_at = ticket_get_u64(buf + off);
	out->ttl = ticket_get_u32(buf + off + 8);
	if (out->ttl < 1 || out->ttl > HYP_TICKET_TTL_MAX)
		return (HYP_ETICKET_FORMAT);
	memcpy(out->nonce, buf + off + 12, HYP_TICKET_NONCE_LEN);
	off += TICKET_FIXED_LEN;
	out->scope = buf[off++];
	n = buf[off++];
	if (out->scope > HYP_TICKET_SCOPE_BACKEND ||
	    (out->scope == HYP_TICKET_SCOPE_GLOBAL && n != 0))
		return (HYP_ETICKET_FORMAT);
	if (out->scope != HYP_TICKET_SCOPE_GLOBAL && (n > body - off ||
	    !ticket_id_ok((const char *)buf + off, n, HYP_TICKET_ID_MAX)))
		return (HYP_ETICKET_FORMAT);
	memcpy(out->scope_id, buf + off, n);
	off += n;
	if (body - off < 1)
		return (HYP_ETICKET_FORMAT);
	n = buf[off++];
	if (n > body - off || !ticket_id_ok((const char *)buf + off, n,
	    HYP_TICKET_ID_MAX))
		return (HYP_ETICKET_FORMAT);
	memcpy(out->target, buf + off, n);
	off += n;
	if (body - off < 16)
		return (HYP_ETICKET_FORMAT);
	memcpy(out->uuid, buf + off, 16);
	off += 16;
	if (flags & HYP_TICKET_F_ADDR) {
		if (body - off < 1)
			return (HYP_ETICKET_FORMAT);
		out->addr_family = buf[off++];
		n = out->addr_family == 4 ? 4 : 16;
		if ((out->addr_family != 4 && out->addr_family != 6) ||
		    body - off < n)
			return (HYP_ETICKET_FORMAT);
		memcpy(out->addr, buf + off, n);
		out->has_addr = 1;
		off += n;
	}
	if (flags & HYP_TICKET_F_EXT) {
		if (body - off < 2)
			return (HYP_ETICKET_FORMAT);
		n = (size_t)buf[off] << 8 | buf[off + 1];
		off += 2;
		if (n < 1 || n > body - off || !ticket_ext_ok(buf + off, n))
			return (HYP_ETICKET_FORMAT);
		out->ext = buf + off;
		out->ext_len = n;
		off += n;
	}
	if (off != body)
		return (HYP_ETICKET_FORMAT);	/* trailing bytes */
	return (0);
}

/* A new, empty keyring. */
HYP_API hyp_keyring_t *
hyp_keyring_new(void)
{
	ticket_init();
	return (calloc(1, sizeof(struct hyp_keyring)));
}

/* The key named kid, or NULL. */
static const struct ticket_key *
keyring_find(const hyp_keyring_t *kr, const char *kid)
{
	size_t	i;

	for (i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].kid, kid) == 0)
			return (&kr->keys[i]);
	return (NULL);
}

/* Whether now lies within the key's validity window. */
static int
key_valid_at(const struct ticket_key *k, uint64_t now)
{
	return ((k->valid_from == 0 || now >= k->valid_from) &&
	    (k->valid_to == 0 || now <= k->valid_to));
}

/* Add a key to the keyring. */
HYP_API int
hyp_keyring_add(hyp_keyring_t *kr, const char *kid, const uint8_t *secret,
    size_t len, uint64_t valid_from, uint64_t valid_to)
{
	struct ticket_key	*k;
	size_t			 klen;

	if (kr == NULL || kid == NULL || secret == NULL)
		return (HYP_EINVAL);
	if (len < HYP_TICKET_KEY_MIN)
		return (HYP_ETICKET_KEY_SHORT);
	klen = strnlen(kid, HYP_TICKET_KID_MAX + 1);
	if (!ticket_id_ok(kid, klen, HYP_TICKET_KID_MAX) ||
	    (valid_from != 0 && valid_to != 0 && valid_to < valid_from))
		return (HYP_EINVAL);
	if (keyring_find(kr, kid) != NULL)
		return (HYP_EEXIST);
	if (kr->nkeys == TICKET_KEYS_MAX)
		return (HYP_ENOSPC);
	k = &kr->keys[kr->nkeys];
	if ((k->secret = malloc(len)) == NULL)
		return (HYP_ENOMEM);
	memcpy(k->secret, secret, len);
	memcpy(k->kid, kid, klen);
	k->kid[klen] = '\0';
	k->len = len;
	k->valid_from = valid_from;
	k->valid_to = valid_to;
	kr->nkeys++;
	return (0);
}

/* The key that signs at time now. */
HYP_API int
hyp_keyring_signing_key(const hyp_keyring_t *kr, uint64_t now,
    const char **kid, const uint8_t **secret, size_t *len)
{
	const struct ticket_key	*best = NULL;
	size_t			 i;

	if (kr == NULL)
		return (HYP_EINVAL);
	for (i = 0; i < kr->nkeys; i++) {
		if (!key_valid_at(&kr->keys[i], now))
			continue;
		/* ">=": among equal valid_from the one added last wins. */
		if (best == NULL || kr->keys[i].valid_from >= best->valid_from)
			best = &kr->keys[i];
	}
	if (best == NULL)
		return (HYP_ENOENT);
	if (kid != NULL)
		*kid = best->kid;
	if (secret != NULL)
		*secret = best->secret;
	if (len != NULL)
		*len = best->len;
	return (0);
}

/* Wipe and free a keyring. */
HYP_API void
hyp_keyring_free(hyp_keyring_t *kr)
{
	size_t	i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->nkeys; i++) {
		sodium_memzero(kr->keys[i].secret, kr->keys[i].len);
		free(kr->keys[i].secret);
	}
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

/* A replay cache for up to capacity live nonces. */
HYP_API hyp_replay_t *
hyp_replay_new(size_t capacity)
{
	hyp_replay_t	*rc;
	size_t		 size = 8, i;

	if (capacity < 1 || capacity > REPLAY_CAP_MAX)
		return (NULL);
	while (size < 2 * capacity)	/* load factor at most 1/2 */
		size <<= 1;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return (NULL);
	rc->cap = capacity;
	rc->mask = size - 1;
	rc->table = malloc(size * sizeof(*rc->table));
	rc->heap = malloc(capacity * sizeof(*rc->heap));
	rc->freelist = malloc(capacity * sizeof(*rc->freelist));
	rc->ent = calloc(capacity, sizeof(*rc->ent));
	if (rc->table == NULL || rc->heap == NULL || rc->freelist == NULL ||
	    rc->ent == NULL) {
		hyp_replay_free(rc);
		return (NULL);
	}
	for (i = 0; i < size; i++)
		rc->table[i] = REPLAY_EMPTY;
	for (i = 0; i < capacity; i++)
		rc->freelist[i] = (uint32_t)(capacity - 1 - i);
	return (rc);
}

/* Free a replay cache. */
HYP_API void
hyp_replay_free(hyp_replay_t *rc)
{
	if (rc == NULL)
		return;
	free(rc->table);
	free(rc->heap);
	free(rc->freelist);
	free(rc->ent);
	free(rc);
}

/* Entries held (expired ones are dropped by the next insert). */
HYP_API size_t
hyp_replay_count(const hyp_replay_t *rc)
{
	return (rc == NULL ? 0 : rc->count);
}

/* Home slot of a nonce: its first 8 bytes, mixed (nonces are random). */
static size_t
replay_home(const hyp_replay_t *rc, const uint8_t *nonce)
{
	uint64_t	h;

	memcpy(&h, nonce, sizeof(h));
	h *= UINT64_C(0x9e3779b97f4a7c15);
	return ((size_t)(h >> 32 ^ h) & rc->mask);
}

/* Entry index holding nonce, or -1. */
static int
replay_lookup(const hyp_replay_t *rc, const uint8_t *nonce)
{
	size_t		i;
	uint32_t	e;

	for (i = replay_home(rc, nonce); (e = rc->table[i]) != REPLAY_EMPTY;
	    i = (i + 1) & rc->mask)
		if (memcmp(rc->ent[e].nonce, nonce, HYP_TICKET_NONCE_LEN) == 0)
			return ((int)e);
	return (-1);
}

/* Swap two heap positions, keeping the entries' back-links. */
static void
replay_heap_swap(hyp_replay_t *rc, size_t a, size_t b)
{
	uint32_t	t = rc->heap[a];

	rc->heap[a] = rc->heap[b];
	rc->heap[b] = t;
	rc->ent[rc->heap[a]].heap = (uint32_t)a;
	rc->ent[rc->heap[b]].heap = (uint32_t)b;
}

/* Restore the heap order upwards from position i. */
static void
replay_heap_up(hyp_replay_t *rc, size_t i)
{
	size_t	p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (rc->ent[rc->heap[p]].expires <= rc->ent[rc->heap[i]].expires)
			break;
		replay_heap_swap(rc, i, p);
		i = p;
	}
}

/* Restore the heap order downwards from position i. */
static void
replay_heap_down(hyp_replay_t *rc, size_t i)
{
	size_t	l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < rc->count && rc->ent[rc->heap[l]].expires <
		    rc->ent[rc->heap[m]].expires)
			m = l;
		if (l + 1 < rc->count && rc->ent[rc->heap[l + 1]].expires <
		    rc->ent[rc->heap[m]].expires)
			m = l + 1;
		if (m == i)
			return;
		replay_heap_swap(rc, i, m);
		i = m;
	}
}

/* Remove the entry expiring first from the heap and the table. */
static void
replay_remove_top(hyp_replay_t *rc)
{
	uint32_t	e = rc->heap[0], moved;
	size_t		i, j, home;

	/* Backward-shift deletion keeps every probe sequence unbroken. */
	i = rc->ent[e].slot;
	rc->table[i] = REPLAY_EMPTY;
	for (j = (i + 1) & rc->mask; (moved = rc->table[j]) != REPLAY_EMPTY;
	    j = (j + 1) & rc->mask) {
		home = replay_home(rc, rc->ent[moved].nonce);
		/* Move it into the hole unless its home lies in (i, j]. */
		if (((j - home) & rc->mask) >= ((j - i) & rc->mask)) {
			rc->table[i] = moved;
			rc->ent[moved].slot = (uint32_t)i;
			rc->table[j] = REPLAY_EMPTY;
			i = j;
		}
	}
	rc->count--;
	if (rc->count > 0) {
		replay_heap_swap(rc, 0, rc->count);
		replay_heap_down(rc, 0);
	}
	rc->freelist[rc->cap - rc->count - 1] = e;
}

/* Drop every entry that expired before now. */
static void
replay_purge(hyp_replay_t *rc, uint64_t now)
{
	while (rc->count > 0 && rc->ent[rc->heap[0]].expires < now)
		replay_remove_top(rc);
}

/* Record a nonce live until expires, or say why not. */
static int
replay_insert(hyp_replay_t *rc, const uint8_t *nonce, uint64_t expires,
    uint64_t now)
{
	uint32_t	e;
	size_t		i;

	replay_purge(rc, now);
	if (replay_lookup(rc, nonce) >= 0)
		return (HYP_ETICKET_REPLAYED);
	if (rc->count == rc->cap)
		return (HYP_ETICKET_REPLAY_FULL);
	e = rc->freelist[rc->cap - rc->count - 1];
	memcpy(rc->ent[e].nonce, nonce, HYP_TICKET_NONCE_LEN);
	rc->ent[e].expires = expires;
	for (i = replay_home(rc, nonce); rc->table[i] != REPLAY_EMPTY;
	    i = (i + 1) & rc->mask)
		;
	rc->table[i] = e;
	rc->ent[e].slot = (uint32_t)i;
	rc->heap[rc->count] = e;
	rc->ent[e].heap = (uint32_t)rc->count;
	rc->count++;
	replay_heap_up(rc, rc->count - 1);
	return (0);
}

/* Verify a ticket; see ticket.h and doc/ticket.md for the order. */
HYP_API int
hyp_ticket_verify(const uint8_t *buf, size_t len, const hyp_keyring_t *kr,
    hyp_replay_t *rc, const struct hyp_ticket_verify_opts *o,
    struct hyp_ticket *out)
{
	struct hyp_ticket	 t;
	const struct ticket_key	*k;
	uint8_t			 mac[HYP_TICKET_MAC_LEN];
	uint8_t			 ta[16], pa[16];
	uint64_t		 now, expires;
	size_t			 blen;
	int			 rv, fam;

	if (kr == NULL || o == NULL || o->backend_id == NULL)
		return (HYP_EINVAL);
	ticket_init();
	now = o->now != 0 ? o->now : (uint64_t)time(NULL);
	if ((rv = hyp_ticket_parse(buf, len, &t)) != 0)
		return (rv);
	if ((k = keyring_find(kr, t.kid)) == NULL)
		return (HYP_ETICKET_KEY_UNKNOWN);
	if (!key_valid_at(k, now))
		return (HYP_ETICKET_KEY_RETIRED);
	blen = len - HYP_TICKET_MAC_LEN;
	if ((rv = ticket_mac(k->secret, k->len, buf, blen, mac)) != 0)
		return (rv);
	rv = sodium_memcmp(mac, buf + blen, HYP_TICKET_MAC_LEN);
	sodium_memzero(mac, sizeof(mac));
	if (rv != 0)
		return (HYP_ETICKET_MAC);
	if (t.issued_at > ticket_sat_add(now, o->skew))
		return (HYP_ETICKET_NOT_YET);
	expires = ticket_sat_add(ticket_sat_add(t.issued_at, t.ttl), o->skew);
	if (expires < now)
		return (HYP_ETICKET_EXPIRED);
	switch (t.scope) {
	case HYP_TICKET_SCOPE_POOL:
		if (o->pool_id == NULL || strcmp(t.scope_id, o->pool_id) != 0)
			return (HYP_ETICKET_SCOPE);
		break;
	case HYP_TICKET_SCOPE_BACKEND:
		if (strcmp(t.scope_id, o->backend_id) != 0)
			return (HYP_ETICKET_SCOPE);
		/* The target is binding only for backend-scoped tickets. */
		if (strcmp(t.target, o->backend_id) != 0)
			return (HYP_ETICKET_TARGET);
		break;
	}
	if (o->uuid != NULL && memcmp(t.uuid, o->uuid, 16) != 0)
		return (HYP_ETICKET_UUID);
	if (t.has_addr && o->peer != NULL) {
		fam = ticket_addr_norm(t.addr_family, t.addr, ta);
		if (ticket_peer_norm(o->peer, pa) != fam ||
		    memcmp(ta, pa, fam == 4 ? 4 : 16) != 0)
			return (HYP_ETICKET_ADDRESS);
	}
	if (rc != NULL && (rv = replay_insert(rc, t.nonce, expires, now)) != 0)
		return (rv);
	if (out != NULL)
		*out = t;
	return (0);
}

/* Append one TLV to an extension buffer. */
HYP_API int
hyp_ticket_ext_add(uint8_t *buf, size_t cap, size_t *len, uint8_t type,
    const void *data, size_t dlen)
{
	if (len == NULL || *len > cap || dlen > 255 ||
	    (data == NULL && dlen > 0) || (buf == NULL && cap > 0))
		return (HYP_EINVAL);
	if (cap - *len < 2 || cap - *len - 2 < dlen)
		return (HYP_ENOSPC);
	buf[*len] = type;
	buf[*len + 1] = (uint8_t)dlen;
	if (dlen > 0)
		memcpy(buf + *len + 2, data, dlen);
	*len += 2 + dlen;
	return (0);
}

/* Find the first TLV of type in an extension block. */
HYP_API int
hyp_ticket_ext_find(const uint8_t *ext, size_t len, uint8_t type,
    const uint8_t **data, size_t *dlen)
{
	size_t	off;

	if (ext == NULL && len > 0)
		return (HYP_EINVAL);
	if (!ticket_ext_ok(ext, len))
		return (HYP_ETICKET_FORMAT);
	for (off = 0; off < len; off += 2 + (size_t)ext[off + 1]) {
		if (ext[off] != type)
			continue;
		if (data != NULL)
			*data = ext + off + 2;
		if (dlen != NULL)
			*dlen = ext[off + 1];
		return (0);
	}
	return (HYP_ENOENT);
}
