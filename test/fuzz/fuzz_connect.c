/*
 * libFuzzer target: Connect decode (auto-detected and each explicit layout),
 * re-encode, decode again and compare.  Aborts on any mismatch.
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

/* Whether two decoded Connects are equal. */
static int
fz_connect_eq(const struct hyp_connect *a, const struct hyp_connect *b)
{
	if (a->layout != b->layout || a->client_type != b->client_type ||
	    a->has_uuid != b->has_uuid ||
	    a->has_referral_source != b->has_referral_source)
		return (0);
	if (a->layout == HYP_CONNECT_V1) {
		if (strcmp(a->protocol_hash, b->protocol_hash) != 0)
			return (0);
	} else if (a->protocol_crc != b->protocol_crc ||
	    a->build != b->build ||
	    strcmp(a->client_version, b->client_version) != 0)
		return (0);
	if (a->has_uuid && memcmp(a->uuid, b->uuid, 16) != 0)
		return (0);
	if (a->has_referral_source &&
	    (a->referral_source.port != b->referral_source.port ||
	    !fz_bytes_eq(&a->referral_source.host, &b->referral_source.host)))
		return (0);
	return (fz_bytes_eq(&a->username, &b->username) &&
	    fz_bytes_eq(&a->identity_token, &b->identity_token) &&
	    fz_bytes_eq(&a->language, &b->language) &&
	    fz_bytes_eq(&a->referral_data, &b->referral_data));
}

/* Maximum payload of a layout. */
static size_t
fz_max(enum hyp_connect_layout layout)
{
	switch (layout) {
	case HYP_CONNECT_V1:
		return (HYP_CONNECT_V1_MAX);
	case HYP_CONNECT_V2:
		return (HYP_CONNECT_V2_MAX);
	case HYP_CONNECT_V3:
		return (HYP_CONNECT_V3_MAX);
	}
	abort();
}

/* Re-encode a decoded Connect and check it decodes back equal. */
static void
fz_roundtrip(const struct hyp_connect *c)
{
	static uint8_t		buf1[HYP_CONNECT_V1_MAX], buf2[HYP_CONNECT_V1_MAX];
	struct hyp_connect	d;
	uint8_t			*exact;
	int			n1, n2;

	n1 = hyp_connect_encode(c, buf1, sizeof(buf1));
	if (n1 <= 0 || (size_t)n1 > fz_max(c->layout))
		abort();
	/* Decode from an exact-size copy so ASan sees any overread. */
	if ((exact = malloc((size_t)n1)) == NULL)
		abort();
	memcpy(exact, buf1, (size_t)n1);
	if (hyp_connect_decode_layout(exact, (size_t)n1, c->layout, &d) != 0)
		abort();
	if (!fz_connect_eq(c, &d))
		abort();
	/* The encoding is canonical: encoding again gives the same bytes. */
	n2 = hyp_connect_encode(&d, buf2, sizeof(buf2));
	if (n2 != n1 || memcmp(buf1, buf2, (size_t)n1) != 0)
		abort();
	/* Too small a buffer is always HYP_ENOSPC. */
	if (hyp_connect_encode(c, buf2, (size_t)n1 - 1) != HYP_ENOSPC)
		abort();
	free(exact);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum hyp_connect_layout layouts[] = {
		HYP_CONNECT_V1, HYP_CONNECT_V2, HYP_CONNECT_V3
	};
	struct hyp_connect	c;
	size_t			i;
	int			rc;

	rc = hyp_connect_decode(data, size, &c);
	if (rc == 0)
		fz_roundtrip(&c);
	else if (rc > 0 || hyp_strerror(rc) == NULL)
		abort();
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		rc = hyp_connect_decode_layout(data, size, layouts[i], &c);
		if (rc == 0) {
			if (c.layout != layouts[i])
				abort();
			fz_roundtrip(&c);
		} else if (rc > 0)
			abort();
	}
	return (0);
}
