/*
 * libFuzzer target: frame header, VarInt, HostAddress, UUID and the small
 * helpers (packet names, error strings).  Round-trips what decodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frame header: decode, re-encode, compare bytes. */
static void
fz_frame(const uint8_t *data, size_t size)
{
	uint8_t		h[HYP_FRAME_HEADER_LEN];
	uint32_t	plen, id;
	size_t		max;
	int		rc;

	rc = hyp_frame_header_decode(data, size, &plen, &id);
	if (rc == HYP_ETRUNC) {
		if (size >= HYP_FRAME_HEADER_LEN)
			abort();
		return;
	}
	if (size < HYP_FRAME_HEADER_LEN)
		abort();
	max = hyp_packet_max_size(id);
	if (rc == 0) {
		if (plen > HYP_MAX_PACKET_SIZE || (max != 0 && plen > max))
			abort();
	} else if (rc != HYP_ETOOBIG ||
	    (plen <= HYP_MAX_PACKET_SIZE && (max == 0 || plen <= max)))
		abort();
	hyp_frame_header_encode(h, plen, id);
	if (memcmp(h, data, sizeof(h)) != 0)
		abort();
	if (strlen(hyp_packet_name(id)) == 0)
		abort();
}

/* VarInt: decode, re-encode canonically, decode again. */
static void
fz_varint(const uint8_t *data, size_t size)
{
	uint8_t		b[5];
	uint32_t	v, w;
	int		n, m;

	n = hyp_varint_decode(data, size, &v);
	if (n < 0) {
		if (n != HYP_ETRUNC && n != HYP_EVARINT)
			abort();
		return;
	}
	if (n < 1 || n > 5 || (size_t)n > size || v > INT32_MAX)
		abort();
	m = hyp_varint_encode(v, b, sizeof(b));
	if (m < 1 || m > n || (size_t)m != hyp_varint_size(v))
		abort();
	if (hyp_varint_decode(b, (size_t)m, &w) != m || w != v)
		abort();
	/* Canonical input re-encodes to the same bytes. */
	if (m == n && memcmp(b, data, (size_t)n) != 0)
		abort();
}

/* HostAddress: decode, re-encode, decode again. */
static void
fz_host(const uint8_t *data, size_t size)
{
	uint8_t			buf[HYP_HOST_ADDRESS_MAX];
	struct hyp_host_address	a, b;
	int			n, m;

	n = hyp_host_address_decode(data, size, &a);
	if (n < 0)
		return;
	if ((size_t)n > size || a.host.ptr == NULL || a.host.len > HYP_HOST_MAX)
		abort();
	m = hyp_host_address_encode(&a, buf, sizeof(buf));
	if (m <= 0 || m > n)
		abort();
	if (hyp_host_address_encode(&a, buf, (size_t)m - 1) != HYP_ENOSPC)
		abort();
	if (hyp_host_address_decode(buf, (size_t)m, &b) != m)
		abort();
	if (a.port != b.port || a.host.len != b.host.len ||
	    (a.host.len > 0 && memcmp(a.host.ptr, b.host.ptr, a.host.len) != 0))
		abort();
}

/* UUID: format the first 16 bytes and parse them back; parse the input. */
static void
fz_uuid(const uint8_t *data, size_t size)
{
	char	s[64], f[37];
	uint8_t	u[16];

	if (size >= 16) {
		hyp_uuid_format(data, f);
		if (strlen(f) != 36 || hyp_uuid_parse(f, u) != 0 ||
		    memcmp(u, data, 16) != 0)
			abort();
	}
	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		if (hyp_uuid_parse(s, u) == 0) {
			hyp_uuid_format(u, f);
			if (hyp_uuid_parse(f, u) != 0)
				abort();
		}
	}
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t	e;

	fz_frame(data, size);
	fz_varint(data, size);
	fz_host(data, size);
	fz_uuid(data, size);
	if (size >= 4) {
		memcpy(&e, data, sizeof(e));
		if (hyp_strerror(e) == NULL)
			abort();
	}
	return (0);
}
