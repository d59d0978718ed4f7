/*
 * libFuzzer target: ConnectAccept decode, re-encode, decode again and
 * compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t				buf[HYP_CONNECT_ACCEPT_MAX];
	struct hyp_connect_accept	a, b;
	int				rc, n;

	rc = hyp_connect_accept_decode(data, size, &a);
	if (rc > 0)
		abort();
	if (rc != 0)
		return (0);
	n = hyp_connect_accept_encode(&a, buf, sizeof(buf));
	if (n <= 0 || (size_t)n > size)
		abort();
	if (hyp_connect_accept_encode(&a, buf, (size_t)n - 1) != HYP_ENOSPC)
		abort();
	if (hyp_connect_accept_decode(buf, (size_t)n, &b) != 0)
		abort();
	if ((a.password_challenge.ptr == NULL) !=
	    (b.password_challenge.ptr == NULL))
		abort();
	if (a.password_challenge.ptr != NULL &&
	    (a.password_challenge.len != b.password_challenge.len ||
	    memcmp(a.password_challenge.ptr, b.password_challenge.ptr,
	    a.password_challenge.len) != 0))
		abort();
	return (0);
}
