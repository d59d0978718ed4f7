/*
 * token.c: address-validation tokens and stateless resets.
 *
 * Retry and NEW_TOKEN tokens are ngtcp2_crypto's AEAD-sealed tokens (they
 * bind the client address, the version, the CIDs for Retry, and a wall-clock
 * timestamp), keyed by a 32-byte token key.  The key can be replaced at run
 * time: the previous key keeps validating until the next rotation.
 * Stateless reset tokens are derived from a separate persistent secret that
 * is never rotated (rotating it would orphan live connections' tokens).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <string.h>

#include "quic_int.h"

/* Set the keys (random when NULL) and limits. */
int
hq_tokens_init(struct hq_tokens *t, const uint8_t *key, const uint8_t *reset)
{
	int	rv;

	memset(t, 0, sizeof(*t));
	if (key != NULL)
		memcpy(t->cur, key, HQ_SECRET_LEN);
	else if ((rv = hq_random(t->cur, HQ_SECRET_LEN)) != 0)
		return (rv);
	if (reset != NULL)
		memcpy(t->reset, reset, HQ_SECRET_LEN);
	else if ((rv = hq_random(t->reset, HQ_SECRET_LEN)) != 0)
		return (rv);
	t->retry_life_ns = 10 * NGTCP2_SECONDS;
	t->regular_life_ns = 3600 * NGTCP2_SECONDS;
	t->rate = 10;
	t->burst = 20;
	t->bucket = t->burst;
	t->bucket_ts = hq_now();
	return (0);
}

/* Make key the current token key; the current one becomes the previous. */
void
hq_tokens_rotate(struct hq_tokens *t, const uint8_t *key)
{
	memcpy(t->prev, t->cur, HQ_SECRET_LEN);
	t->have_prev = 1;
	memcpy(t->cur, key, HQ_SECRET_LEN);
}

/* Wipe every secret. */
void
hq_tokens_wipe(struct hq_tokens *t)
{
	sodium_memzero(t, sizeof(*t));
}

/* Seal a Retry token for this Initial. */
ngtcp2_ssize
hq_token_retry_new(struct hq_tokens *t, uint8_t *out, uint32_t version,
    const struct sockaddr *sa, socklen_t salen, const ngtcp2_cid *retry_scid,
    const ngtcp2_cid *odcid)
{
	return (ngtcp2_crypto_generate_retry_token(out, t->cur, HQ_SECRET_LEN,
	    version, sa, salen, retry_scid, odcid, hq_wallclock()));
}

/* Open a Retry token with the current key, then the previous one. */
int
hq_token_retry_check(struct hq_tokens *t, ngtcp2_cid *odcid,
    const uint8_t *tok, size_t len, uint32_t version,
    const struct sockaddr *sa, socklen_t salen, const ngtcp2_cid *dcid)
{
	uint64_t	now = hq_wallclock();

	if (ngtcp2_crypto_verify_retry_token(odcid, tok, len, t->cur,
	    HQ_SECRET_LEN, version, sa, salen, dcid, t->retry_life_ns,
	    now) == 0)
		return (0);
	if (t->have_prev && ngtcp2_crypto_verify_retry_token(odcid, tok, len,
	    t->prev, HQ_SECRET_LEN, version, sa, salen, dcid,
	    t->retry_life_ns, now) == 0)
		return (0);
	return (HYP_EACCES);
}

/* Seal a NEW_TOKEN token for this address. */
ngtcp2_ssize
hq_token_regular_new(struct hq_tokens *t, uint8_t *out,
    const struct sockaddr *sa, socklen_t salen)
{
	return (ngtcp2_crypto_generate_regular_token(out, t->cur,
	    HQ_SECRET_LEN, sa, salen, hq_wallclock()));
}

/* Open a NEW_TOKEN token with the current key, then the previous one. */
int
hq_token_regular_check(struct hq_tokens *t, const uint8_t *tok, size_t len,
    const struct sockaddr *sa, socklen_t salen)
{
	uint64_t	now = hq_wallclock();

	if (t->regular_life_ns == 0)
		return (HYP_EACCES);
	if (ngtcp2_crypto_verify_regular_token(tok, len, t->cur,
	    HQ_SECRET_LEN, sa, salen, t->regular_life_ns, now) == 0)
		return (0);
	if (t->have_prev && ngtcp2_crypto_verify_regular_token(tok, len,
	    t->prev, HQ_SECRET_LEN, sa, salen, t->regular_life_ns, now) == 0)
		return (0);
	return (HYP_EACCES);
}

/* Derive the stateless reset token of cid from the persistent secret. */
int
hq_reset_token(struct hq_tokens *t, uint8_t *out, const ngtcp2_cid *cid)
{
	if (ngtcp2_crypto_generate_stateless_reset_token(out, t->reset,
	    HQ_SECRET_LEN, cid) != 0)
		return (HYP_EINVAL);
	return (0);
}

/* Token bucket for stateless responses: 1 if one may be sent now. */
int
hq_reset_allow(struct hq_tokens *t, uint64_t now)
{
	if (now > t->bucket_ts) {
		t->bucket += (double)(now - t->bucket_ts) * t->rate /
		    (double)NGTCP2_SECONDS;
		if (t->bucket > t->burst)
			t->bucket = t->burst;
	}
	t->bucket_ts = now;
	if (t->bucket < 1.0)
		return (0);
	t->bucket -= 1.0;
	return (1);
}
