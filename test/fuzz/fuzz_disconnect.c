/*
 * libFuzzer target: Disconnect decode in both forms (old id 1 and build-100
 * ServerDisconnect), re-encode, decode again and compare.
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

/* Decode data in one form and round-trip it when that succeeds. */
static void
fz_form(const uint8_t *data, size_t size, enum hyp_disconnect_form form)
{
	struct hyp_disconnect	 d, e;
	uint8_t			*buf;
	size_t			 cap;
	int			 rc, n;

	rc = hyp_disconnect_decode(data, size, form, &d);
	if (rc > 0)
		abort();
	if (rc != 0)
		return;
	if (d.form != form)
		abort();
	/* The re-encoding holds at most the reason and a fixed overhead. */
	cap = 2 + HYP_FRAME_HEADER_LEN + 39 + 5 + d.reason.len;
	if ((buf = malloc(cap)) == NULL)
		abort();
	n = hyp_disconnect_encode(&d, buf, cap);
	if (n <= 0 || (size_t)n > HYP_DISCONNECT_MAX)
		abort();
	if (hyp_disconnect_encode(&d, buf, (size_t)n - 1) != HYP_ENOSPC)
		abort();
	n = hyp_disconnect_encode(&d, buf, (size_t)n);
	if (hyp_disconnect_decode(buf, (size_t)n, form, &e) != 0)
		abort();
	if (e.form != d.form || e.type != d.type ||
	    !fz_bytes_eq(&e.reason, &d.reason))
		abort();
	free(buf);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_form(data, size, HYP_DISCONNECT_OLD);
	fz_form(data, size, HYP_DISCONNECT_NEW);
	return (0);
}
