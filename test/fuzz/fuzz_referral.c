/*
 * libFuzzer target: ClientReferral decode, re-encode, decode again and
 * compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether two views are equal (both null, or same bytes). */
static int
fz_bytes_eq(const struct hyp_bytes *a, const struct hyp_bytes *b)
{
	if ((a->ptr == NULL) != (b->ptr == NULL))
		return (0);
	if (a->ptr == NULL)
		return (1);
	return (a->len == b->len && (a->len == 0 ||
	    memcmp(a->ptr, b->ptr, a->len) == 0));
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t			buf[HYP_CLIENT_REFERRAL_MAX];
	struct hyp_client_referral	r, s;
	uint8_t				*exact;
	int				rc, n;

	rc = hyp_client_referral_decode(data, size, &r);
	if (rc > 0)
		abort();
	if (rc != 0)
		return (0);
	if (r.has_host && r.host_to.port == 0)
		abort();
	n = hyp_client_referral_encode(&r, buf, sizeof(buf));
	if (n <= 0)
		abort();
	if (hyp_client_referral_encode(&r, buf, (size_t)n - 1) != HYP_ENOSPC)
		abort();
	n = hyp_client_referral_encode(&r, buf, (size_t)n);
	if ((exact = malloc((size_t)n)) == NULL)
		abort();
	memcpy(exact, buf, (size_t)n);
	if (hyp_client_referral_decode(exact, (size_t)n, &s) != 0)
		abort();
	if (s.has_host != r.has_host || !fz_bytes_eq(&s.data, &r.data))
		abort();
	if (r.has_host && (s.host_to.port != r.host_to.port ||
	    !fz_bytes_eq(&s.host_to.host, &r.host_to.host)))
		abort();
	free(exact);
	return (0);
}
