/*
 * sign.c: request signing (hyprox-registry-http(5), SIGNING): the
 * canonical string, HMAC-SHA256 in lowercase hex, a constant-time
 * comparison, header syntax, and the bounded nonce replay cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "registry.h"

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
static void
hex(const uint8_t *b, size_t n, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * The canonical string: REG_PREFIX "\n" METHOD "\n" URI "\n" TIMESTAMP
 * "\n" NONCE "\n" hex(SHA-256(body)), no trailing newline.  Returns its
 * length, or HYP_ENOSPC when it does not fit cap.
 */
int
reg_canonical(const char *method, const char *uri, const char *ts,
    const char *nonce, const uint8_t *body, size_t bodylen, char *out,
    size_t cap)
{
	uint8_t	h[crypto_hash_sha256_BYTES];
	char	hx[2 * crypto_hash_sha256_BYTES + 1];
	int	n;

	crypto_hash_sha256(h, body != NULL ? body : (const uint8_t *)"",
	    bodylen);
	hex(h, sizeof(h), hx);
	n = snprintf(out, cap, "%s\n%s\n%s\n%s\n%s\n%s", REG_PREFIX, method,
	    uri, ts, nonce, hx);
	if (n < 0 || (size_t)n >= cap)
		return (HYP_ENOSPC);
	return (n);
}

/* HMAC-SHA256 of the canonical string under key, as lowercase hex. */
void
reg_sign(const uint8_t *key, size_t keylen, const char *canonical,
    char out[REG_SIG_HEX + 1])
{
	crypto_auth_hmacsha256_state	st;
	uint8_t				mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)canonical,
	    strlen(canonical));
	crypto_auth_hmacsha256_final(&st, mac);
	hex(mac, sizeof(mac), out);
	sodium_memzero(&st, sizeof(st));
}

/*
 * Whether the signature a (from the request) equals the expected b, in
 * time independent of where they differ; a is compared case-insensitively
 * and must be exactly REG_SIG_HEX hex digits.
 */
int
reg_sig_equal(const char *a, const char *b)
{
	char	low[REG_SIG_HEX];
	size_t	i;

	if (a == NULL || strlen(a) != REG_SIG_HEX || strlen(b) != REG_SIG_HEX)
		return (0);
	for (i = 0; i < REG_SIG_HEX; i++) {
		if (strchr("0123456789abcdefABCDEF", a[i]) == NULL)
			return (0);
		low[i] = (char)(a[i] >= 'A' && a[i] <= 'F' ? a[i] + 32 : a[i]);
	}
	return (sodium_memcmp(low, b, REG_SIG_HEX) == 0);
}

/* Whether n is a nonce: 16..64 characters of [A-Za-z0-9_-]. */
int
reg_nonce_valid(const char *n)
{
	size_t	len;

	if (n == NULL)
		return (0);
	len = strlen(n);
	if (len < REG_NONCE_MIN || len > REG_NONCE_MAX)
		return (0);
	return (strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == len);
}

/* Parse a timestamp: 1..12 decimal digits, no sign; 0 or HYP_EINVAL. */
int
reg_ts_parse(const char *s, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	if (s == NULL || *s == '\0' || strlen(s) > REG_TS_MAX)
		return (HYP_EINVAL);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (HYP_EINVAL);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

/* ---- nonce cache ---- */

/* Size the cache for max live nonces (open addressing, load <= 1/2). */
int
reg_nonces_init(struct reg_nonces *c, size_t max)
{
	size_t	cap = 64;

	memset(c, 0, sizeof(*c));
	while (cap < max * 2)
		cap *= 2;
	if ((c->slot = calloc(cap, sizeof(*c->slot))) == NULL)
		return (HYP_ENOMEM);
	c->cap = cap;
	c->max = max;
	randombytes_buf(c->salt, sizeof(c->salt));
	return (0);
}

/* Free the cache. */
void
reg_nonces_free(struct reg_nonces *c)
{
	free(c->slot);
	memset(c, 0, sizeof(*c));
}

/* Rehash the live entries, dropping the expired ones. */
static int
nonces_rebuild(struct reg_nonces *c, int64_t now_ms, size_t *live)
{
	struct reg_nonce	*old = c->slot, *ns;
	size_t			 i, j, mask = c->cap - 1;
	uint64_t		 h;

	if ((ns = calloc(c->cap, sizeof(*ns))) == NULL)
		return (HYP_ENOMEM);
	*live = 0;
	for (i = 0; i < c->cap; i++) {
		if (old[i].until_ms == 0 || old[i].until_ms < now_ms)
			continue;
		memcpy(&h, old[i].key, sizeof(h));
		for (j = h & mask; ns[j].until_ms != 0; j = (j + 1) & mask)
			;
		ns[j] = old[i];
		(*live)++;
	}
	free(old);
	c->slot = ns;
	c->used = *live;
	return (0);
}

/*
 * Check and remember (key, nonce) until until_ms.  Returns 0 when new,
 * HYP_EEXIST when seen and still remembered, HYP_ENOSPC when max live
 * nonces are remembered (fail closed), HYP_ENOMEM.
 */
int
reg_nonce_check_add(struct reg_nonces *c, const char *key, const char *nonce,
    int64_t until_ms, int64_t now_ms)
{
	crypto_generichash_state	st;
	uint8_t				k[16];
	uint64_t			h;
	size_t				i, mask, live, free_at = SIZE_MAX;
	int				rc;

	crypto_generichash_init(&st, c->salt, sizeof(c->salt), sizeof(k));
	crypto_generichash_update(&st, (const uint8_t *)key, strlen(key) + 1);
	crypto_generichash_update(&st, (const uint8_t *)nonce, strlen(nonce));
	crypto_generichash_final(&st, k, sizeof(k));
	memcpy(&h, k, sizeof(h));
	mask = c->cap - 1;
	for (i = h & mask; c->slot[i].until_ms != 0; i = (i + 1) & mask) {
		if (memcmp(c->slot[i].key, k, sizeof(k)) == 0) {
			if (c->slot[i].until_ms >= now_ms)
				return (HYP_EEXIST);
			c->slot[i].until_ms = until_ms;	/* expired: reuse */
			return (0);
		}
		if (c->slot[i].until_ms < now_ms && free_at == SIZE_MAX)
			free_at = i;
	}
	if (free_at != SIZE_MAX) {
		memcpy(c->slot[free_at].key, k, sizeof(k));
		c->slot[free_at].until_ms = until_ms;
		return (0);
	}
	if (c->used + 1 > c->max) {
		if ((rc = nonces_rebuild(c, now_ms, &live)) != 0)
			return (rc);
		if (live + 1 > c->max)
			return (HYP_ENOSPC);
		for (i = h & mask; c->slot[i].until_ms != 0; i = (i + 1) & mask)
			;
	}
	memcpy(c->slot[i].key, k, sizeof(k));
	c->slot[i].until_ms = until_ms;
	c->used++;
	return (0);
}
