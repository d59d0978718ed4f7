/*
 * Unit tests of the Hytale wire codec (sdk/lib/{wire,connect,packets,error}.c).
 * Vectors from HYTALE-PROTOCOL.md §7.  Every decode runs on an exact-size
 * heap copy so that ASan catches any read past len.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

/* §7 vectors, frames including the 8-byte header. */
static const char vec_referral1[] =
    "1b 00 00 00 12 00 00 00 01 00 00 00 00 ff ff ff ff 90 15 0f 70 6c 61 79"
    " 2e 68 79 76 61 6e 65 2e 63 6f 6d";
static const char vec_referral2[] =
    "19 00 00 00 12 00 00 00 03 00 00 00 00 0b 00 00 00 91 15 08 31 30 2e 30"
    " 2e 30 2e 32 04 48 59 52 50";
static const char vec_disconnect[] =
    "05 00 00 00 01 00 00 00 01 00 02 6e 6f";
static const char vec_connect1[] =
    "4e 00 00 00 00 00 00 00 00 84 ef 2b af 14 00 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 12 3e 45 67 e8 9b 12 d3 a4 56 42 66 14 17 40 00 00 00 00"
    " 00 ff ff ff ff 06 00 00 00"
    " ff ff ff ff ff ff ff ff 05 53 74 65 76 65 05 65 6e 2d 55 53";
static const char vec_connect2[] =
    "59 00 00 00 00 00 00 00 06 84 ef 2b af 14 00 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 12 3e 45 67 e8 9b 12 d3 a4 56 42 66 14 17 40 00 00 00 00"
    " 00 ff ff ff ff 06 00 00 00"
    " 0c 00 00 00 0f 00 00 00 05 53 74 65 76 65 05 65 6e 2d 55 53 02 01 02 90"
    " 15 05 6c 6f 62 62 79";
static const char vec_server_disconnect[] =
    "2d 00 00 00 02 00 00 00 01 00 10 00 00 00 00 00 00 00 00 00 00 ff ff ff"
    " ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff"
    " ff 03 62 79 65";

static const uint8_t uuid_bytes[16] = {
	0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
	0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00
};

static const char v1_hash[] =
    "6708f121966c1c443f4b0eb525b2f81d0a8dc61f5003a692a8fa157e5e02cea9";

/* Parse a hex string with optional spaces into out; return its length. */
static size_t
unhex(const char *s, uint8_t *out)
{
	size_t		n = 0;
	unsigned int	b;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &b) != 1)
			abort();
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return (n);
}

/* An exact-size heap copy of p[0..n) (so ASan sees overreads). */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t	*q;

	q = malloc(n);
	ck_assert_ptr_nonnull(q);
	if (n > 0)
		memcpy(q, p, n);
	return (q);
}

/* Whether two views are equal (both null, or same bytes). */
static int
bytes_eq(const struct hyp_bytes *a, const struct hyp_bytes *b)
{
	if ((a->ptr == NULL) != (b->ptr == NULL))
		return (0);
	if (a->ptr == NULL)
		return (1);
	return (a->len == b->len && (a->len == 0 ||
	    memcmp(a->ptr, b->ptr, a->len) == 0));
}

/* Whether a view holds the C string s. */
static int
bytes_is(const struct hyp_bytes *a, const char *s)
{
	return (a->ptr != NULL && a->len == strlen(s) &&
	    memcmp(a->ptr, s, a->len) == 0);
}

/* Whether two decoded Connects are equal. */
static int
connect_eq(const struct hyp_connect *a, const struct hyp_connect *b)
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
	    !bytes_eq(&a->referral_source.host, &b->referral_source.host)))
		return (0);
	return (bytes_eq(&a->username, &b->username) &&
	    bytes_eq(&a->identity_token, &b->identity_token) &&
	    bytes_eq(&a->language, &b->language) &&
	    bytes_eq(&a->referral_data, &b->referral_data));
}

/* Decoders with a common signature for the truncation sweeps. */
typedef int (*decode_fn)(const uint8_t *, size_t);

/* Auto-detecting Connect decoder. */
static int
dec_connect(const uint8_t *p, size_t n)
{
	struct hyp_connect	c;

	return (hyp_connect_decode(p, n, &c));
}

/* V1-only Connect decoder. */
static int
dec_connect_v1(const uint8_t *p, size_t n)
{
	struct hyp_connect	c;

	return (hyp_connect_decode_layout(p, n, HYP_CONNECT_V1, &c));
}

/* V2-only Connect decoder. */
static int
dec_connect_v2(const uint8_t *p, size_t n)
{
	struct hyp_connect	c;

	return (hyp_connect_decode_layout(p, n, HYP_CONNECT_V2, &c));
}

/* V3-only Connect decoder. */
static int
dec_connect_v3(const uint8_t *p, size_t n)
{
	struct hyp_connect	c;

	return (hyp_connect_decode_layout(p, n, HYP_CONNECT_V3, &c));
}

/* Old-form Disconnect decoder. */
static int
dec_disc_old(const uint8_t *p, size_t n)
{
	struct hyp_disconnect	d;

	return (hyp_disconnect_decode(p, n, HYP_DISCONNECT_OLD, &d));
}

/* New-form (ServerDisconnect) decoder. */
static int
dec_disc_new(const uint8_t *p, size_t n)
{
	struct hyp_disconnect	d;

	return (hyp_disconnect_decode(p, n, HYP_DISCONNECT_NEW, &d));
}

/* ClientReferral decoder. */
static int
dec_referral(const uint8_t *p, size_t n)
{
	struct hyp_client_referral	r;

	return (hyp_client_referral_decode(p, n, &r));
}

/* ConnectAccept decoder. */
static int
dec_accept(const uint8_t *p, size_t n)
{
	struct hyp_connect_accept	a;

	return (hyp_connect_accept_decode(p, n, &a));
}

/* HostAddress decoder. */
static int
dec_host(const uint8_t *p, size_t n)
{
	struct hyp_host_address	h;

	return (hyp_host_address_decode(p, n, &h));
}

/* Decode p[0..n) from an exact-size copy. */
static int
dec_exact(decode_fn fn, const uint8_t *p, size_t n)
{
	uint8_t	*q;
	int	 rc;

	q = dup_exact(p, n);
	rc = fn(q, n);
	free(q);
	return (rc);
}

/* Every strict prefix of p[0..n) must fail to decode. */
static void
truncations_fail(decode_fn fn, const uint8_t *p, size_t n)
{
	size_t	i;
	int	rc;

	for (i = 0; i < n; i++) {
		rc = dec_exact(fn, p, i);
		ck_assert_msg(rc < 0, "prefix %zu of %zu decoded (%d)", i, n,
		    rc);
	}
}

/* Every capacity below the needed one must give HYP_ENOSPC. */
#define ENOSPC_SWEEP(call, need) do {					\
	size_t	 cap_;							\
	uint8_t	*o_;							\
	for (cap_ = 0; cap_ < (need); cap_++) {				\
		o_ = malloc(cap_ > 0 ? cap_ : 1);			\
		ck_assert_int_eq(call(o_, cap_), HYP_ENOSPC);		\
		free(o_);						\
	}								\
} while (0)

/* Write a VarInt-prefixed string; return bytes written. */
static size_t
vs(uint8_t *out, const void *s, size_t n)
{
	int	c;

	c = hyp_varint_encode((uint32_t)n, out, 5);
	ck_assert_int_gt(c, 0);
	memcpy(out + c, s, n);
	return ((size_t)c + n);
}

/* A raw variable field for build_struct(); p NULL = slot -1. */
struct raw_field {
	const uint8_t	*p;
	size_t		 len;
};

/* Build fixed bytes + slots at slot_at + variable fields in order. */
static size_t
build_struct(uint8_t *out, const uint8_t *fixed, size_t fixed_len,
    size_t slot_at, size_t nslots, const struct raw_field *f)
{
	size_t		n = fixed_len, i;
	uint32_t	off;

	memcpy(out, fixed, fixed_len);
	for (i = 0; i < nslots; i++) {
		if (f[i].p == NULL)
			off = UINT32_MAX;
		else {
			off = (uint32_t)(n - fixed_len);
			memcpy(out + n, f[i].p, f[i].len);
			n += f[i].len;
		}
		out[slot_at + 4 * i] = off & 0xff;
		out[slot_at + 4 * i + 1] = (off >> 8) & 0xff;
		out[slot_at + 4 * i + 2] = (off >> 16) & 0xff;
		out[slot_at + 4 * i + 3] = (off >> 24) & 0xff;
	}
	return (n);
}

/* Store an i32le at p. */
static void
put_le32(uint8_t *p, int32_t v)
{
	uint32_t	u = (uint32_t)v;

	p[0] = u & 0xff;
	p[1] = (u >> 8) & 0xff;
	p[2] = (u >> 16) & 0xff;
	p[3] = (u >> 24) & 0xff;
}

/* A fully populated Connect of the given layout. */
static void
sample_connect(struct hyp_connect *c, enum hyp_connect_layout layout)
{
	static const uint8_t	refdata[] = { 'H', 'Y', 'R', 'P', 1, 0, 0xff };

	memset(c, 0, sizeof(*c));
	c->layout = layout;
	c->protocol_crc = 1316766548;
	c->build = 100;
	strcpy(c->protocol_hash, v1_hash);
	strcpy(c->client_version, "2026.02.17-255364b8e");
	c->client_type = HYP_CLIENT_EDITOR;
	if (layout != HYP_CONNECT_V3) {
		c->has_uuid = 1;
		memcpy(c->uuid, uuid_bytes, 16);
		c->username.ptr = (const uint8_t *)"Steve";
		c->username.len = 5;
	}
	c->identity_token.ptr = (const uint8_t *)"eyJhbGciOiJFZERTQSJ9.e30.sig";
	c->identity_token.len = strlen((const char *)c->identity_token.ptr);
	c->language.ptr = (const uint8_t *)"en-US";
	c->language.len = 5;
	c->referral_data.ptr = refdata;
	c->referral_data.len = sizeof(refdata);
	c->has_referral_source = 1;
	c->referral_source.port = 5520;
	c->referral_source.host.ptr = (const uint8_t *)"lobby.example.org";
	c->referral_source.host.len = 17;
}

/* Encode c, decode it back with fn-style layout and auto-detection. */
static size_t
connect_roundtrip(const struct hyp_connect *c, uint8_t *buf, size_t cap)
{
	struct hyp_connect	 d;
	uint8_t			*q;
	int			 n;

	n = hyp_connect_encode(c, buf, cap);
	ck_assert_int_gt(n, 0);
	q = dup_exact(buf, (size_t)n);
	ck_assert_int_eq(hyp_connect_decode_layout(q, (size_t)n, c->layout,
	    &d), 0);
	ck_assert(connect_eq(c, &d));
	ck_assert_int_eq(hyp_connect_decode(q, (size_t)n, &d), 0);
	ck_assert_int_eq(d.layout, c->layout);
	ck_assert(connect_eq(c, &d));
	free(q);
	return ((size_t)n);
}


/* VarInt decoder. */
static int
dec_varint(const uint8_t *p, size_t n)
{
	uint32_t	v;

	return (hyp_varint_decode(p, n, &v));
}

/* VarInt vectors of §7 and more: exact bytes, sizes, ENOSPC, ERANGE. */
START_TEST(test_varint)
{
	static const struct {
		uint32_t	 v;
		const char	*hex;
	} vec[] = {
		{ 0, "00" }, { 1, "01" }, { 127, "7f" }, { 128, "80 01" },
		{ 300, "ac 02" }, { 4096, "80 20" }, { 16383, "ff 7f" },
		{ 16384, "80 80 01" }, { INT32_MAX, "ff ff ff ff 07" },
	};
	uint8_t		want[8], got[8];
	uint32_t	v;
	size_t		i, n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = unhex(vec[i].hex, want);
		ck_assert_uint_eq(hyp_varint_size(vec[i].v), n);
		ck_assert_int_eq(hyp_varint_encode(vec[i].v, got, sizeof(got)),
		    (int)n);
		ck_assert_mem_eq(got, want, n);
		ck_assert_int_eq(hyp_varint_encode(vec[i].v, got, n - 1),
		    HYP_ENOSPC);
		ck_assert_int_eq(dec_exact(dec_varint, want, n), (int)n);
		ck_assert_int_eq(hyp_varint_decode(want, n, &v), (int)n);
		ck_assert_uint_eq(v, vec[i].v);
		truncations_fail(dec_varint, want, n);
	}
	ck_assert_int_eq(hyp_varint_encode((uint32_t)INT32_MAX + 1, got,
	    sizeof(got)), HYP_ERANGE);
	ck_assert_int_eq(hyp_varint_encode(UINT32_MAX, got, sizeof(got)),
	    HYP_ERANGE);
}
END_TEST

/* Negative, over-5-byte and truncated VarInts fail; non-canonical ones decode. */
START_TEST(test_varint_bad)
{
	uint8_t		b[8];
	uint32_t	v;
	size_t		n;

	/* Negative (0xffffffff as i32 = -1) and INT32_MAX + 1. */
	n = unhex("ff ff ff ff 0f", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_EVARINT);
	n = unhex("80 80 80 80 08", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_EVARINT);
	/* Six bytes (continuation on the fifth). */
	n = unhex("ff ff ff ff ff 01", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_EVARINT);
	n = unhex("80 80 80 80 80 00", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_EVARINT);
	n = unhex("80 80 80 80 80", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_EVARINT);
	/* Truncated. */
	n = unhex("80", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_ETRUNC);
	n = unhex("ff ff ff ff", b);
	ck_assert_int_eq(dec_exact(dec_varint, b, n), HYP_ETRUNC);
	ck_assert_int_eq(dec_exact(dec_varint, b, 0), HYP_ETRUNC);
	/* Non-canonical (≤ 5 bytes) is accepted; see doc/protocol.md. */
	n = unhex("80 00", b);
	ck_assert_int_eq(hyp_varint_decode(b, n, &v), 2);
	ck_assert_uint_eq(v, 0);
	n = unhex("ff 80 80 80 00", b);
	ck_assert_int_eq(hyp_varint_decode(b, n, &v), 5);
	ck_assert_uint_eq(v, 127);
	/* Trailing bytes after the VarInt are not consumed. */
	n = unhex("05 ff", b);
	ck_assert_int_eq(hyp_varint_decode(b, n, NULL), 1);
}
END_TEST

/* Frame header round trip, truncation and per-id maxima. */
START_TEST(test_frame_header)
{
	uint8_t		h[HYP_FRAME_HEADER_LEN], b[64];
	uint32_t	plen, id;
	size_t		n, i;

	hyp_frame_header_encode(h, 27, HYP_PKT_CLIENT_REFERRAL);
	n = unhex(vec_referral1, b);
	ck_assert_mem_eq(h, b, HYP_FRAME_HEADER_LEN);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, 27);
	ck_assert_uint_eq(id, HYP_PKT_CLIENT_REFERRAL);
	for (i = 0; i < HYP_FRAME_HEADER_LEN; i++) {
		uint8_t	*q = dup_exact(b, i);

		ck_assert_int_eq(hyp_frame_header_decode(q, i, &plen, &id),
		    HYP_ETRUNC);
		free(q);
	}
	/* Absolute maximum and (as i32) negative lengths. */
	hyp_frame_header_encode(h, HYP_MAX_PACKET_SIZE, 9999);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id), 0);
	hyp_frame_header_encode(h, HYP_MAX_PACKET_SIZE + 1, 9999);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	hyp_frame_header_encode(h, 0x80000000u, 9999);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	hyp_frame_header_encode(h, UINT32_MAX, 0);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	/* Per-id maxima. */
	hyp_frame_header_encode(h, HYP_CLIENT_REFERRAL_MAX,
	    HYP_PKT_CLIENT_REFERRAL);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id), 0);
	hyp_frame_header_encode(h, HYP_CLIENT_REFERRAL_MAX + 1,
	    HYP_PKT_CLIENT_REFERRAL);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	hyp_frame_header_encode(h, HYP_CONNECT_V1_MAX + 1, HYP_PKT_CONNECT);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	hyp_frame_header_encode(h, HYP_CONNECT_V1_MAX, HYP_PKT_CONNECT);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id), 0);
	hyp_frame_header_encode(h, HYP_CONNECT_ACCEPT_MAX + 1,
	    HYP_PKT_CONNECT_ACCEPT);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id),
	    HYP_ETOOBIG);
	hyp_frame_header_encode(h, HYP_DISCONNECT_MAX + 1, HYP_PKT_DISCONNECT);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), NULL, NULL),
	    HYP_ETOOBIG);
	/* Unknown ids: only the absolute limit applies. */
	hyp_frame_header_encode(h, 100000000, 0x7fffffff);
	ck_assert_int_eq(hyp_frame_header_decode(h, sizeof(h), &plen, &id), 0);
	ck_assert_uint_eq(id, 0x7fffffff);
}
END_TEST

/* Packet names and maximum sizes, known and unknown ids. */
START_TEST(test_packet_names)
{
	ck_assert_str_eq(hyp_packet_name(0), "Connect");
	ck_assert_str_eq(hyp_packet_name(1), "Disconnect");
	ck_assert_str_eq(hyp_packet_name(2), "Ping");
	ck_assert_str_eq(hyp_packet_name(11), "AuthGrant");
	ck_assert_str_eq(hyp_packet_name(14), "ConnectAccept");
	ck_assert_str_eq(hyp_packet_name(17), "PasswordRejected");
	ck_assert_str_eq(hyp_packet_name(18), "ClientReferral");
	ck_assert_str_eq(hyp_packet_name(20), "WorldSettings");
	ck_assert_str_eq(hyp_packet_name(223), "ServerInfo");
	ck_assert_str_eq(hyp_packet_name(302), "AssetEditorInitialize");
	ck_assert_str_eq(hyp_packet_name(425), "BuilderToolSetEntityCollision");
	ck_assert_str_eq(hyp_packet_name(4), "Unknown");
	ck_assert_str_eq(hyp_packet_name(10), "Unknown");	/* Gone in 02.17. */
	ck_assert_str_eq(hyp_packet_name(19), "Unknown");
	ck_assert_str_eq(hyp_packet_name(424), "Unknown");
	ck_assert_str_eq(hyp_packet_name(426), "Unknown");
	ck_assert_str_eq(hyp_packet_name(UINT32_MAX), "Unknown");
	ck_assert_uint_eq(hyp_packet_max_size(HYP_PKT_CONNECT),
	    HYP_CONNECT_V1_MAX);
	ck_assert_uint_eq(hyp_packet_max_size(HYP_PKT_DISCONNECT),
	    HYP_DISCONNECT_MAX);
	ck_assert_uint_eq(hyp_packet_max_size(HYP_PKT_CLIENT_REFERRAL),
	    HYP_CLIENT_REFERRAL_MAX);
	ck_assert_uint_eq(hyp_packet_max_size(HYP_PKT_CONNECT_ACCEPT),
	    HYP_CONNECT_ACCEPT_MAX);
	ck_assert_uint_eq(hyp_packet_max_size(12), 49171);
	ck_assert_uint_eq(hyp_packet_max_size(9999), 0);
	ck_assert_uint_eq(hyp_packet_max_size(UINT32_MAX), 0);
}
END_TEST

/* §7 ClientReferral host-only vector. */
START_TEST(test_vec_referral1)
{
	struct hyp_client_referral	r;
	uint8_t				b[64], out[64];
	const uint8_t			*p;
	size_t				n;
	uint32_t			plen, id;

	n = unhex(vec_referral1, b);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, 27);
	ck_assert_uint_eq(plen, n - 8);
	ck_assert_uint_eq(id, HYP_PKT_CLIENT_REFERRAL);
	p = b + 8;
	ck_assert_int_eq(dec_exact(dec_referral, p, plen), 0);
	ck_assert_int_eq(hyp_client_referral_decode(p, plen, &r), 0);
	ck_assert_int_eq(r.has_host, 1);
	ck_assert_uint_eq(r.host_to.port, 5520);
	ck_assert(bytes_is(&r.host_to.host, "play.hyvane.com"));
	ck_assert_ptr_null(r.data.ptr);
	ck_assert_int_eq(hyp_client_referral_encode(&r, out, sizeof(out)),
	    (int)plen);
	ck_assert_mem_eq(out, p, plen);
	truncations_fail(dec_referral, p, plen);

	/* The same from scratch. */
	memset(&r, 0, sizeof(r));
	r.has_host = 1;
	r.host_to.port = 5520;
	r.host_to.host.ptr = (const uint8_t *)"play.hyvane.com";
	r.host_to.host.len = 15;
	ck_assert_int_eq(hyp_client_referral_encode(&r, out, sizeof(out)),
	    (int)plen);
	ck_assert_mem_eq(out, p, plen);
#define ENC(o, c) hyp_client_referral_encode(&r, (o), (c))
	ENOSPC_SWEEP(ENC, plen);
#undef ENC
}
END_TEST

/* §7 ClientReferral host + data vector, and the null variants. */
START_TEST(test_vec_referral2)
{
	struct hyp_client_referral	r;
	uint8_t				b[64], out[64];
	const uint8_t			*p;
	size_t				n;
	uint32_t			plen, id;

	n = unhex(vec_referral2, b);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, 25);
	ck_assert_uint_eq(plen, n - 8);
	ck_assert_uint_eq(id, HYP_PKT_CLIENT_REFERRAL);
	p = b + 8;
	ck_assert_int_eq(dec_exact(dec_referral, p, plen), 0);
	ck_assert_int_eq(hyp_client_referral_decode(p, plen, &r), 0);
	ck_assert_int_eq(r.has_host, 1);
	ck_assert_uint_eq(r.host_to.port, 5521);
	ck_assert(bytes_is(&r.host_to.host, "10.0.0.2"));
	ck_assert(bytes_is(&r.data, "HYRP"));
	ck_assert_int_eq(hyp_client_referral_encode(&r, out, sizeof(out)),
	    (int)plen);
	ck_assert_mem_eq(out, p, plen);
	truncations_fail(dec_referral, p, plen);
#define ENC(o, c) hyp_client_referral_encode(&r, (o), (c))
	ENOSPC_SWEEP(ENC, plen);
#undef ENC

	/* Data only; empty but present data; neither. */
	r.has_host = 0;
	n = (size_t)hyp_client_referral_encode(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 9 + 5);
	ck_assert_int_eq(hyp_client_referral_decode(out, n, &r), 0);
	ck_assert_int_eq(r.has_host, 0);
	ck_assert(bytes_is(&r.data, "HYRP"));
	r.data.len = 0;
	n = (size_t)hyp_client_referral_encode(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(hyp_client_referral_decode(out, n, &r), 0);
	ck_assert_ptr_nonnull(r.data.ptr);
	ck_assert_uint_eq(r.data.len, 0);
	r.data.ptr = NULL;
	n = (size_t)hyp_client_referral_encode(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 9);
	ck_assert_mem_eq(out, "\0\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	ck_assert_int_eq(hyp_client_referral_decode(out, n, &r), 0);
	ck_assert_ptr_null(r.data.ptr);
	ck_assert_int_eq(r.has_host, 0);
}
END_TEST

/* §7 old-form Disconnect vector. */
START_TEST(test_vec_disconnect)
{
	struct hyp_disconnect	d;
	uint8_t			b[64], out[64];
	const uint8_t		*p;
	size_t			n;
	uint32_t		plen, id;

	n = unhex(vec_disconnect, b);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, 5);
	ck_assert_uint_eq(plen, n - 8);
	ck_assert_uint_eq(id, HYP_PKT_DISCONNECT);
	p = b + 8;
	ck_assert_int_eq(dec_exact(dec_disc_old, p, plen), 0);
	ck_assert_int_eq(hyp_disconnect_decode(p, plen, HYP_DISCONNECT_OLD,
	    &d), 0);
	ck_assert_int_eq(d.form, HYP_DISCONNECT_OLD);
	ck_assert_uint_eq(d.type, HYP_DISCONNECT_TYPE_DISCONNECT);
	ck_assert(bytes_is(&d.reason, "no"));
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    (int)plen);
	ck_assert_mem_eq(out, p, plen);
	truncations_fail(dec_disc_old, p, plen);
#define ENC(o, c) hyp_disconnect_encode(&d, (o), (c))
	ENOSPC_SWEEP(ENC, plen);
#undef ENC

	/* HR: no reason = 00 00; crash type. */
	memset(&d, 0, sizeof(d));
	d.form = HYP_DISCONNECT_OLD;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)), 2);
	ck_assert_mem_eq(out, "\0\0", 2);
	d.type = HYP_DISCONNECT_TYPE_CRASH;
	d.reason.ptr = (const uint8_t *)"";
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)), 3);
	ck_assert_mem_eq(out, "\x01\x01\x00", 3);
	ck_assert_int_eq(hyp_disconnect_decode(out, 3, HYP_DISCONNECT_OLD,
	    &d), 0);
	ck_assert_uint_eq(d.type, HYP_DISCONNECT_TYPE_CRASH);
	ck_assert_ptr_nonnull(d.reason.ptr);
	ck_assert_uint_eq(d.reason.len, 0);
}
END_TEST

/* §7 build-100 ServerDisconnect vector. */
START_TEST(test_vec_server_disconnect)
{
	struct hyp_disconnect	d;
	uint8_t			b[128], out[128];
	const uint8_t		*p;
	size_t			n;
	uint32_t		plen, id;

	n = unhex(vec_server_disconnect, b);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, 45);
	ck_assert_uint_eq(plen, n - 8);
	ck_assert_uint_eq(id, HYP_PKT_SERVER_DISCONNECT);
	p = b + 8;
	ck_assert_int_eq(dec_exact(dec_disc_new, p, plen), 0);
	ck_assert_int_eq(hyp_disconnect_decode(p, plen, HYP_DISCONNECT_NEW,
	    &d), 0);
	ck_assert_int_eq(d.form, HYP_DISCONNECT_NEW);
	ck_assert_uint_eq(d.type, HYP_DISCONNECT_TYPE_DISCONNECT);
	ck_assert(bytes_is(&d.reason, "bye"));
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    (int)plen);
	ck_assert_mem_eq(out, p, plen);
	truncations_fail(dec_disc_new, p, plen);
#define ENC(o, c) hyp_disconnect_encode(&d, (o), (c))
	ENOSPC_SWEEP(ENC, plen);
#undef ENC
	/* The old-form decoder must not accept it as a 1-byte reason. */
	ck_assert_int_lt(dec_exact(dec_disc_old, p, plen), 0);

	/* No reason at all. */
	d.reason.ptr = NULL;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)), 2);
	ck_assert_mem_eq(out, "\0\0", 2);
	ck_assert_int_eq(dec_exact(dec_disc_new, out, 2), 0);
}
END_TEST

/* FormattedMessage slots: other fields, bit/slot mismatches, bad offsets. */
START_TEST(test_server_disconnect_fmsg)
{
	struct hyp_disconnect	d;
	struct raw_field	f[8];
	uint8_t			fixed[39], fm[256], pl[300], s1[16], s2[16];
	size_t			n, fl;

	/* messageId + rawText + color, written out of order. */
	memset(fixed, 0, sizeof(fixed));
	fixed[0] = 0x10 | 0x20 | 0x01;	/* rawText, messageId, bold */
	fixed[1] = 0x02;		/* color */
	fixed[2] = 1;
	memset(f, 0, sizeof(f));
	f[1].p = s1;
	f[1].len = vs(s1, "server.kick", 11);
	f[0].p = s2;
	f[0].len = vs(s2, "Kicked \xc3\xa9", 9);
	f[5].p = (const uint8_t *)"\x07#ff0000";
	f[5].len = 8;
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	pl[0] = 0x01;
	pl[1] = HYP_DISCONNECT_TYPE_CRASH;
	memcpy(pl + 2, fm, fl);
	n = 2 + fl;
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), 0);
	ck_assert_int_eq(hyp_disconnect_decode(pl, n, HYP_DISCONNECT_NEW, &d),
	    0);
	ck_assert(bytes_is(&d.reason, "Kicked \xc3\xa9"));
	ck_assert_uint_eq(d.type, HYP_DISCONNECT_TYPE_CRASH);
	/*
	 * Prefixes: anything that cuts the header, a slot or rawText fails;
	 * cutting only the (unparsed) color string still decodes.
	 */
	for (fl = 0; fl < n; fl++) {
		int	rc = dec_exact(dec_disc_new, pl, fl);

		if (fl < 2 + 39 + f[0].len + f[1].len + 1)
			ck_assert_int_lt(rc, 0);
		else
			ck_assert_int_eq(rc, 0);
	}

	/* rawText null, messageId set: decodes, reason absent. */
	f[0].p = NULL;
	fixed[0] &= ~0x10;
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	memcpy(pl + 2, fm, fl);
	n = 2 + fl;
	ck_assert_int_eq(hyp_disconnect_decode(pl, n, HYP_DISCONNECT_NEW, &d),
	    0);
	ck_assert_ptr_null(d.reason.ptr);

	/* Bit clear but slot set; bit set but slot -1. */
	fixed[0] |= 0x40;	/* children: slot 2 is -1. */
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	memcpy(pl + 2, fm, fl);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, 2 + fl), HYP_EMALFORMED);
	fixed[0] &= ~0x40;
	fixed[0] &= ~0x20;	/* messageId slot set, bit clear. */
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	memcpy(pl + 2, fm, fl);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, 2 + fl), HYP_EMALFORMED);
	fixed[0] |= 0x20;
	/* Unknown bit in byte 1. */
	fixed[1] |= 0x10;
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	memcpy(pl + 2, fm, fl);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, 2 + fl), HYP_EMALFORMED);
	fixed[1] &= ~0x10;

	/* Out-of-range and negative offsets in each slot. */
	fl = build_struct(fm, fixed, 39, 7, 8, f);
	memcpy(pl + 2, fm, fl);
	n = 2 + fl;
	put_le32(pl + 2 + 7 + 4 * 1, (int32_t)(fl - 39));
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);
	put_le32(pl + 2 + 7 + 4 * 1, INT32_MAX);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);
	put_le32(pl + 2 + 7 + 4 * 1, -2);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);
	put_le32(pl + 2 + 7 + 4 * 1, INT32_MIN);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);
	put_le32(pl + 2 + 7 + 4 * 1, 0);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), 0);
	put_le32(pl + 2 + 7 + 4 * 5, (int32_t)(fl - 39));
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);
	put_le32(pl + 2 + 7 + 4 * 5, -100);
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, n), HYP_EOFFSET);

	/* Type out of range; unknown ServerDisconnect null bit. */
	pl[0] = 0x00;
	pl[1] = 2;
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, 2), HYP_ERANGE);
	ck_assert_int_eq(dec_exact(dec_disc_old, pl, 2), HYP_ERANGE);
	pl[0] = 0x02;
	pl[1] = 0;
	ck_assert_int_eq(dec_exact(dec_disc_new, pl, 2), HYP_EMALFORMED);
	ck_assert_int_eq(dec_exact(dec_disc_old, pl, 2), HYP_EMALFORMED);
}
END_TEST

/* Disconnect limits and invalid arguments. */
START_TEST(test_disconnect_invalid)
{
	struct hyp_disconnect	d;
	uint8_t			b[16], out[16], *big;
	size_t			n;

	/* Reason length over the maximum is caught before truncation. */
	b[0] = 0x01;
	b[1] = 0;
	n = 2 + (size_t)hyp_varint_encode(HYP_DISCONNECT_REASON_MAX + 1,
	    b + 2, 5);
	ck_assert_int_eq(dec_exact(dec_disc_old, b, n), HYP_ETOOBIG);
	n = 2 + (size_t)hyp_varint_encode(HYP_DISCONNECT_REASON_MAX, b + 2, 5);
	ck_assert_int_eq(dec_exact(dec_disc_old, b, n), HYP_ETRUNC);
	/* Invalid UTF-8 reason. */
	memcpy(b, "\x01\x00\x02\xc3\x28", 5);
	ck_assert_int_eq(dec_exact(dec_disc_old, b, 5), HYP_EUTF8);
	/* Bad form. */
	ck_assert_int_eq(hyp_disconnect_decode(b, 5, (enum hyp_disconnect_form)3,
	    &d), HYP_EINVAL);

	memset(&d, 0, sizeof(d));
	d.form = HYP_DISCONNECT_OLD;
	d.type = 2;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_EINVAL);
	d.type = 0;
	d.form = (enum hyp_disconnect_form)0;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_EINVAL);
	d.form = HYP_DISCONNECT_NEW;
	d.reason.ptr = (const uint8_t *)"\xff";
	d.reason.len = 1;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_EINVAL);
	big = malloc(HYP_DISCONNECT_REASON_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', HYP_DISCONNECT_REASON_MAX + 1);
	d.reason.ptr = big;
	d.reason.len = HYP_DISCONNECT_REASON_MAX + 1;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_ETOOBIG);
	d.form = HYP_DISCONNECT_OLD;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_ETOOBIG);
	d.reason.len = HYP_DISCONNECT_REASON_MAX;
	ck_assert_int_eq(hyp_disconnect_encode(&d, out, sizeof(out)),
	    HYP_ENOSPC);
	free(big);
}
END_TEST

/* Check a §7 Connect V2 vector: header, decode, fields, encode, truncation. */
static void
check_connect_vector(const char *hex, size_t want_plen, int with_referral)
{
	struct hyp_connect	c, c2;
	uint8_t			b[128], out[128];
	const uint8_t		*p;
	size_t			n;
	uint32_t		plen, id;

	n = unhex(hex, b);
	ck_assert_int_eq(hyp_frame_header_decode(b, n, &plen, &id), 0);
	ck_assert_uint_eq(plen, want_plen);
	ck_assert_uint_eq(plen, n - 8);
	ck_assert_uint_eq(id, HYP_PKT_CONNECT);
	p = b + 8;
	ck_assert_int_eq(dec_exact(dec_connect, p, plen), 0);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, plen), 0);
	ck_assert_int_lt(dec_exact(dec_connect_v1, p, plen), 0);
	ck_assert_int_lt(dec_exact(dec_connect_v3, p, plen), 0);
	ck_assert_int_eq(hyp_connect_decode(p, plen, &c), 0);
	ck_assert_int_eq(c.layout, HYP_CONNECT_V2);
	ck_assert_int_eq(c.protocol_crc, -1356075132);
	ck_assert_int_eq(c.build, 20);
	ck_assert_str_eq(c.client_version, "");
	ck_assert_uint_eq(c.client_type, HYP_CLIENT_GAME);
	ck_assert_int_eq(c.has_uuid, 1);
	ck_assert_mem_eq(c.uuid, uuid_bytes, 16);
	ck_assert(bytes_is(&c.username, "Steve"));
	ck_assert_ptr_null(c.identity_token.ptr);
	ck_assert(bytes_is(&c.language, "en-US"));
	if (with_referral) {
		ck_assert_uint_eq(c.referral_data.len, 2);
		ck_assert_mem_eq(c.referral_data.ptr, "\x01\x02", 2);
		ck_assert_int_eq(c.has_referral_source, 1);
		ck_assert_uint_eq(c.referral_source.port, 5520);
		ck_assert(bytes_is(&c.referral_source.host, "lobby"));
	} else {
		ck_assert_ptr_null(c.referral_data.ptr);
		ck_assert_int_eq(c.has_referral_source, 0);
	}
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), (int)plen);
	ck_assert_mem_eq(out, p, plen);
	ck_assert_int_eq(hyp_connect_decode_layout(out, plen, HYP_CONNECT_V2,
	    &c2), 0);
	ck_assert(connect_eq(&c, &c2));
	truncations_fail(dec_connect, p, plen);
	truncations_fail(dec_connect_v2, p, plen);
#define ENC(o, k) hyp_connect_encode(&c, (o), (k))
	ENOSPC_SWEEP(ENC, plen);
#undef ENC
}

/* §7 Connect V2 vector without referral. */
START_TEST(test_vec_connect1)
{
	check_connect_vector(vec_connect1, 78, 0);
}
END_TEST

/* §7 Connect V2 vector with referral, also built from scratch. */
START_TEST(test_vec_connect2)
{
	struct hyp_connect	c;
	uint8_t			out[128];

	check_connect_vector(vec_connect2, 89, 1);

	/* Build it from scratch too. */
	memset(&c, 0, sizeof(c));
	c.layout = HYP_CONNECT_V2;
	c.protocol_crc = -1356075132;
	c.build = 20;
	c.has_uuid = 1;
	ck_assert_int_eq(hyp_uuid_parse("123e4567-e89b-12d3-a456-426614174000",
	    c.uuid), 0);
	c.username.ptr = (const uint8_t *)"Steve";
	c.username.len = 5;
	c.language.ptr = (const uint8_t *)"en-US";
	c.language.len = 5;
	c.referral_data.ptr = (const uint8_t *)"\x01\x02";
	c.referral_data.len = 2;
	c.has_referral_source = 1;
	c.referral_source.port = 5520;
	c.referral_source.host.ptr = (const uint8_t *)"lobby";
	c.referral_source.host.len = 5;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), 89);
	{
		uint8_t	b[128];

		unhex(vec_connect2, b);
		ck_assert_mem_eq(out, b + 8, 89);
	}
}
END_TEST

/* All three layouts with every combination of nullable fields. */
START_TEST(test_connect_roundtrip)
{
	static const enum hyp_connect_layout layouts[] = {
		HYP_CONNECT_V1, HYP_CONNECT_V2, HYP_CONNECT_V3
	};
	struct hyp_connect	c;
	uint8_t			buf[HYP_CONNECT_V1_MAX];
	size_t			i, mask, n;

	for (i = 0; i < 3; i++) {
		/* Every combination of the nullable fields. */
		for (mask = 0; mask < 16; mask++) {
			sample_connect(&c, layouts[i]);
			if (mask & 1)
				c.identity_token.ptr = NULL;
			if (mask & 2)
				c.referral_data.ptr = NULL;
			if (mask & 4)
				c.has_referral_source = 0;
			if ((mask & 8) && layouts[i] == HYP_CONNECT_V1)
				c.language.ptr = NULL;
			n = connect_roundtrip(&c, buf, sizeof(buf));
			ck_assert_uint_le(n, layouts[i] == HYP_CONNECT_V1 ?
			    HYP_CONNECT_V1_MAX : layouts[i] == HYP_CONNECT_V2 ?
			    HYP_CONNECT_V2_MAX : HYP_CONNECT_V3_MAX);
			truncations_fail(dec_connect, buf, n);
			truncations_fail(layouts[i] == HYP_CONNECT_V1 ?
			    dec_connect_v1 : layouts[i] == HYP_CONNECT_V2 ?
			    dec_connect_v2 : dec_connect_v3, buf, n);
		}
	}
}
END_TEST

/* Field positions of the V1 and V3 encodings. */
START_TEST(test_connect_layout_bytes)
{
	struct hyp_connect	c;
	uint8_t			buf[512];
	int			n;

	/* V1: hash @1, type @65, uuid @66, slots @82.., var @102. */
	sample_connect(&c, HYP_CONNECT_V1);
	n = hyp_connect_encode(&c, buf, sizeof(buf));
	ck_assert_int_gt(n, 102);
	ck_assert_uint_eq(buf[0], 0x0f);
	ck_assert_mem_eq(buf + 1, v1_hash, 64);
	ck_assert_uint_eq(buf[65], 1);
	ck_assert_mem_eq(buf + 66, uuid_bytes, 16);
	ck_assert_mem_eq(buf + 82, "\0\0\0\0", 4);	/* language first */
	ck_assert_mem_eq(buf + 102, "\x05" "en-US", 6);
	ck_assert_mem_eq(buf + 86, "\x06\0\0\0", 4);	/* then identity */

	/* V3: crc @1, build @5, version @9, type @29, slots @30, var @46. */
	sample_connect(&c, HYP_CONNECT_V3);
	c.referral_data.ptr = NULL;
	c.has_referral_source = 0;
	c.identity_token.ptr = NULL;
	n = hyp_connect_encode(&c, buf, sizeof(buf));
	ck_assert_int_eq(n, 46 + 6);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_mem_eq(buf + 1, "\x54\x43\x7c\x4e", 4);
	ck_assert_mem_eq(buf + 5, "\x64\0\0\0", 4);
	ck_assert_mem_eq(buf + 9, "2026.02.17-255364b8e", 20);
	ck_assert_uint_eq(buf[29], 1);
	ck_assert_mem_eq(buf + 30, "\xff\xff\xff\xff\0\0\0\0", 8);
	ck_assert_mem_eq(buf + 38, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	ck_assert_mem_eq(buf + 46, "\x05" "en-US", 6);
	/* uuid and username are ignored in V3. */
	c.has_uuid = 1;
	c.username.ptr = (const uint8_t *)"x";
	c.username.len = 1;
	ck_assert_int_eq(hyp_connect_encode(&c, buf, sizeof(buf)), 52);
}
END_TEST

/* V1/V2/V3 detection and which error is reported. */
START_TEST(test_connect_autodetect)
{
	struct hyp_connect	c, d;
	uint8_t			buf[1024];
	size_t			n;

	/* V1 with a non-hex hash is not auto-detected as V1. */
	sample_connect(&c, HYP_CONNECT_V1);
	memcpy(c.protocol_hash, "zz", 2);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	ck_assert_int_eq(hyp_connect_decode_layout(buf, n, HYP_CONNECT_V1, &d),
	    0);
	ck_assert_int_lt(hyp_connect_decode(buf, n, &d), 0);
	/* A NUL-padded (short) hash still counts as V1. */
	sample_connect(&c, HYP_CONNECT_V1);
	c.protocol_hash[10] = '\0';
	n = connect_roundtrip(&c, buf, sizeof(buf));
	ck_assert_int_eq(hyp_connect_decode(buf, n, &d), 0);
	ck_assert_int_eq(d.layout, HYP_CONNECT_V1);
	ck_assert_str_eq(d.protocol_hash, "6708f12196");
	/* An upper-case hash is V1 too. */
	sample_connect(&c, HYP_CONNECT_V1);
	memcpy(c.protocol_hash, "ABCDEF", 6);
	n = connect_roundtrip(&c, buf, sizeof(buf));
	/* A short V1 (< 102) is not V1. */
	ck_assert_int_lt(hyp_connect_decode(buf, 101, &d), 0);

	/* Smallest V2 and V3. */
	sample_connect(&c, HYP_CONNECT_V2);
	c.identity_token.ptr = NULL;
	c.referral_data.ptr = NULL;
	c.has_referral_source = 0;
	c.username.len = 0;
	c.language.len = 0;
	n = connect_roundtrip(&c, buf, sizeof(buf));
	ck_assert_uint_eq(n, 68);
	sample_connect(&c, HYP_CONNECT_V3);
	c.identity_token.ptr = NULL;
	c.referral_data.ptr = NULL;
	c.has_referral_source = 0;
	c.language.len = 0;
	n = connect_roundtrip(&c, buf, sizeof(buf));
	ck_assert_uint_eq(n, 47);

	/* A plausible V2 with a bad field reports the V2 error. */
	sample_connect(&c, HYP_CONNECT_V2);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	buf[66] = 6;		/* username length 5 -> 6 ("Steve" + 0x1c) */
	ck_assert_int_eq(hyp_connect_decode(buf, n, &d), HYP_EUTF8);
	ck_assert_int_eq(d.layout, HYP_CONNECT_V2);
	/* A V3 with a bad field reports the V3 error. */
	sample_connect(&c, HYP_CONNECT_V3);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	buf[29] = 7;		/* clientType */
	ck_assert_int_eq(hyp_connect_decode(buf, n, &d), HYP_ERANGE);
	ck_assert_int_eq(d.layout, HYP_CONNECT_V3);
	/* Too short for anything. */
	ck_assert_int_eq(dec_exact(dec_connect, buf, 45), HYP_ETRUNC);
	ck_assert_int_eq(dec_exact(dec_connect, buf, 0), HYP_ETRUNC);
	/* Bad explicit layout. */
	ck_assert_int_eq(hyp_connect_decode_layout(buf, n,
	    (enum hyp_connect_layout)4, &d), HYP_EINVAL);
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, 0), HYP_ETRUNC);
}
END_TEST

/* Build a V2 Connect from raw var fields (NULL = slot -1). */
static size_t
raw_v2(uint8_t *out, uint8_t nulls, const struct raw_field f[5])
{
	uint8_t		fixed[66];
	uint8_t		b[128];

	unhex(vec_connect1, b);
	memcpy(fixed, b + 8, 66);
	fixed[0] = nulls;
	return (build_struct(out, fixed, 66, 46, 5, f));
}

/* V2 offset slots: out of range, negative, null mismatches. */
START_TEST(test_connect_offsets)
{
	struct hyp_connect	c;
	uint8_t			b[128], p[128];
	size_t			n;

	n = unhex(vec_connect2, b) - 8;
	memcpy(p, b + 8, n);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), 0);

	/* Username slot (non-nullable): past the end, -1, -2, INT32_MIN. */
	put_le32(p + 46, (int32_t)(n - 66));
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	ck_assert_int_lt(dec_exact(dec_connect, p, n), 0);
	put_le32(p + 46, INT32_MAX);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	put_le32(p + 46, -1);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	put_le32(p + 46, -2);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	put_le32(p + 46, INT32_MIN);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	/* Pointing at the last byte (0x79 'y' as length): too long. */
	put_le32(p + 46, (int32_t)(n - 66 - 1));
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_ETOOBIG);
	/* Pointing at language instead: fine (shared bytes are legal). */
	put_le32(p + 46, 6);
	ck_assert_int_eq(hyp_connect_decode(p, n, &c), 0);
	ck_assert(bytes_is(&c.username, "en-US"));
	put_le32(p + 46, 0);

	/* Language slot (non-nullable) -1. */
	put_le32(p + 54, -1);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	put_le32(p + 54, 6);

	/* referralData: bit set, slot -1; then bit clear, slot set. */
	put_le32(p + 58, -1);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	put_le32(p + 58, 12);
	p[0] &= ~0x02;
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	p[0] |= 0x02;
	/* referralSource negative / past the end. */
	put_le32(p + 62, -7);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	put_le32(p + 62, 23);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EOFFSET);
	/* Pointing inside the host: host length runs past the end. */
	put_le32(p + 62, 17);
	ck_assert_int_lt(dec_exact(dec_connect_v2, p, n), 0);
	put_le32(p + 62, 15);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), 0);
	/* identityToken bit clear but slot 0. */
	put_le32(p + 50, 0);
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	/* ... and set: the token is then "Steve". */
	p[0] |= 0x01;
	ck_assert_int_eq(hyp_connect_decode(p, n, &c), 0);
	ck_assert(bytes_is(&c.identity_token, "Steve"));
	put_le32(p + 50, -1);
	p[0] &= ~0x01;
	/* Unknown null bit. */
	p[0] |= 0x08;
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EMALFORMED);
	p[0] &= ~0x08;
	/* Client type out of range. */
	p[29] = 2;
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_ERANGE);
	p[29] = 0;
	/* Non-ASCII client version. */
	p[9] = 0x80;
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EUTF8);
	p[9] = '\n';
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n), HYP_EUTF8);
	/* Bytes after the first NUL are ignored. */
	p[9] = '1';
	p[11] = '3';
	ck_assert_int_eq(hyp_connect_decode(p, n, &c), 0);
	ck_assert_str_eq(c.client_version, "1");
	p[9] = p[11] = 0;

	/* Trailing bytes after the last field are accepted. */
	p[n] = 0xee;
	ck_assert_int_eq(dec_exact(dec_connect_v2, p, n + 1), 0);
}
END_TEST

/* V1 and V3 offset slots and null bits. */
START_TEST(test_connect_v1_v3_offsets)
{
	struct hyp_connect	c;
	uint8_t			buf[1024], *q;
	size_t			n;

	sample_connect(&c, HYP_CONNECT_V1);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), 0);
	/* Username (non-nullable in V1) slot @90. */
	put_le32(buf + 90, -1);
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_EMALFORMED);
	ck_assert_int_eq(dec_exact(dec_connect, buf, n), HYP_EMALFORMED);
	put_le32(buf + 90, -3);
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_EOFFSET);
	put_le32(buf + 90, (int32_t)(n - 102));
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_EOFFSET);
	/* Language (nullable in V1): bit clear and slot -1 is fine. */
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	buf[0] &= ~0x01;
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_EMALFORMED);
	put_le32(buf + 82, -1);
	ck_assert_int_eq(hyp_connect_decode(buf, n, &c), 0);
	ck_assert_ptr_null(c.language.ptr);
	buf[0] |= 0x10;
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_EMALFORMED);
	buf[0] &= ~0x10;
	buf[65] = 3;
	ck_assert_int_eq(dec_exact(dec_connect_v1, buf, n), HYP_ERANGE);

	/* V3: language (non-nullable) slot @34, unknown null bit. */
	sample_connect(&c, HYP_CONNECT_V3);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, n), 0);
	put_le32(buf + 34, -1);
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, n), HYP_EMALFORMED);
	put_le32(buf + 34, -1000);
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, n), HYP_EOFFSET);
	ck_assert_int_eq(dec_exact(dec_connect, buf, n), HYP_EOFFSET);
	n = (size_t)hyp_connect_encode(&c, buf, sizeof(buf));
	buf[0] |= 0x80;
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, n), HYP_EMALFORMED);
	buf[0] &= ~0x80;
	put_le32(buf + 42, (int32_t)(n - 46));
	ck_assert_int_eq(dec_exact(dec_connect_v3, buf, n), HYP_EOFFSET);

	/* An all-zero 102-byte buffer looks like V1 and fails as such. */
	q = calloc(1, 102);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(hyp_connect_decode(q, 102, &c), HYP_EMALFORMED);
	ck_assert_int_eq(c.layout, HYP_CONNECT_V1);
	free(q);
}
END_TEST

/* Connect field maxima on decode and encode. */
START_TEST(test_connect_oversize)
{
	struct hyp_connect	c;
	struct raw_field	f[5];
	uint8_t			*big, *pl, s1[32], s2[32];
	size_t			n;

	big = malloc(9000);
	pl = malloc(20000);
	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(pl);
	memset(big, 'a', 9000);

	/* Decode: username 17 vs 16. */
	memset(f, 0, sizeof(f));
	f[0].p = s1;
	f[0].len = vs(s1, "ABCDEFGHIJKLMNOPQ", 17);
	f[2].p = s2;
	f[2].len = vs(s2, "en-US", 5);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_ETOOBIG);
	ck_assert_int_eq(dec_exact(dec_connect, pl, n), HYP_ETOOBIG);
	f[0].len = vs(s1, "ABCDEFGHIJKLMNOP", 16);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect, pl, n), 0);
	/* Language 17. */
	f[2].len = vs(s2, "en-USen-USen-USen", 17);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_ETOOBIG);
	f[2].len = vs(s2, "en-US", 5);
	/* Identity token 8193 vs 8192. */
	f[1].p = pl + 10000;
	f[1].len = vs(pl + 10000, big, 8193);
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_ETOOBIG);
	f[1].len = vs(pl + 10000, big, 8192);
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), 0);
	f[1].p = NULL;
	/* Referral data 4097 vs 4096. */
	f[3].p = pl + 10000;
	f[3].len = vs(pl + 10000, big, 4097);
	n = raw_v2(pl, 0x02, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_ETOOBIG);
	f[3].len = vs(pl + 10000, big, 4096);
	n = raw_v2(pl, 0x02, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), 0);
	f[3].p = NULL;
	/* Referral source host 257 vs 256. */
	pl[10000] = 0x90;
	pl[10001] = 0x15;
	f[4].p = pl + 10000;
	f[4].len = 2 + vs(pl + 10002, big, 257);
	n = raw_v2(pl, 0x04, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_ETOOBIG);
	f[4].len = 2 + vs(pl + 10002, big, 256);
	n = raw_v2(pl, 0x04, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), 0);
	/* Port 0 in a Connect referralSource is accepted. */
	pl[10000] = pl[10001] = 0;
	n = raw_v2(pl, 0x04, f);
	ck_assert_int_eq(hyp_connect_decode(pl, n, &c), 0);
	ck_assert_uint_eq(c.referral_source.port, 0);
	ck_assert_int_gt(hyp_connect_encode(&c, pl + 10000, 10000), 0);

	/* Encode limits. */
	sample_connect(&c, HYP_CONNECT_V2);
	c.username.ptr = big;
	c.username.len = 17;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	c.username.len = 16;
	ck_assert_int_gt(hyp_connect_encode(&c, pl, 20000), 0);
	c.identity_token.ptr = big;
	c.identity_token.len = 8193;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	c.identity_token.len = 8192;
	ck_assert_int_gt(hyp_connect_encode(&c, pl, 20000), 0);
	c.referral_data.ptr = big;
	c.referral_data.len = 4097;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	c.referral_data.len = 4096;
	ck_assert_int_gt(hyp_connect_encode(&c, pl, 20000), 0);
	c.referral_source.host.ptr = big;
	c.referral_source.host.len = 257;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	c.referral_source.host.len = 256;
	c.language.ptr = big;
	c.language.len = 17;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	c.language.len = 16;
	n = (size_t)hyp_connect_encode(&c, pl, 20000);
	ck_assert_uint_le(n, HYP_CONNECT_V2_MAX);
	ck_assert_int_eq(dec_exact(dec_connect, pl, n), 0);
	/* V1 language up to 128. */
	c.layout = HYP_CONNECT_V1;
	c.language.len = 128;
	n = (size_t)hyp_connect_encode(&c, pl, 20000);
	ck_assert_uint_le(n, HYP_CONNECT_V1_MAX);
	ck_assert_int_eq(dec_exact(dec_connect, pl, n), 0);
	c.language.len = 129;
	ck_assert_int_eq(hyp_connect_encode(&c, pl, 20000), HYP_ETOOBIG);
	free(big);
	free(pl);
}
END_TEST

/* ASCII and UTF-8 content rules, bad length VarInts, encoder checks. */
START_TEST(test_connect_strings)
{
	struct hyp_connect	c;
	struct raw_field	f[5];
	uint8_t			pl[256], s1[32], s2[32], s3[32];
	uint8_t			out[512];
	size_t			n;

	memset(f, 0, sizeof(f));
	f[2].p = s2;
	f[2].len = vs(s2, "en-US", 5);
	f[0].p = s1;
	/* Non-ASCII username (UTF-8 é), control char, DEL. */
	f[0].len = vs(s1, "St\xc3\xa9ve", 6);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	ck_assert_int_eq(dec_exact(dec_connect, pl, n), HYP_EUTF8);
	f[0].len = vs(s1, "Ste\x01", 4);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[0].len = vs(s1, "Ste\x7f", 4);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[0].len = vs(s1, "St ~", 4);
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), 0);
	/* Identity token: valid multi-byte UTF-8 accepted, bad ones not. */
	f[1].p = s3;
	f[1].len = vs(s3, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(hyp_connect_decode(pl, n, &c), 0);
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), (int)n);
	ck_assert_mem_eq(out, pl, n);
	f[1].len = vs(s3, "\xc0\x80", 2);		/* overlong NUL */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].len = vs(s3, "\xed\xa0\x80", 3);		/* surrogate */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].len = vs(s3, "\xf4\x90\x80\x80", 4);	/* > U+10FFFF */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].len = vs(s3, "\xe2\x82", 2);		/* cut sequence */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].len = vs(s3, "\xe0\x80\xaf", 3);		/* overlong '/' */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].len = vs(s3, "\x80", 1);			/* stray continuation */
	n = raw_v2(pl, 0x01, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EUTF8);
	f[1].p = NULL;
	/* A VarString length VarInt that is negative or 6 bytes long. */
	memcpy(s1, "\xff\xff\xff\xff\x0f", 5);
	f[0].len = 5;
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EVARINT);
	memcpy(s1, "\x85\x80\x80\x80\x80\x00", 6);
	f[0].len = 6;
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(dec_exact(dec_connect_v2, pl, n), HYP_EVARINT);
	/* Non-canonical length VarInt is accepted. */
	memcpy(s1, "\x85\x00Steve", 7);
	f[0].len = 7;
	n = raw_v2(pl, 0, f);
	ck_assert_int_eq(hyp_connect_decode(pl, n, &c), 0);
	ck_assert(bytes_is(&c.username, "Steve"));

	/* Encoder content checks. */
	sample_connect(&c, HYP_CONNECT_V2);
	c.username.ptr = (const uint8_t *)"St\xc3\xa9ve";
	c.username.len = 6;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V2);
	c.username.ptr = NULL;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V2);
	c.language.ptr = NULL;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	c.layout = HYP_CONNECT_V3;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	c.layout = HYP_CONNECT_V1;
	ck_assert_int_gt(hyp_connect_encode(&c, out, sizeof(out)), 0);
	sample_connect(&c, HYP_CONNECT_V2);
	c.identity_token.ptr = (const uint8_t *)"\xff";
	c.identity_token.len = 1;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V2);
	c.referral_source.host.ptr = NULL;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V2);
	c.client_type = 2;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V2);
	memset(c.client_version, 'x', sizeof(c.client_version));
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)),
	    HYP_ETOOBIG);
	c.client_version[5] = '\t';
	c.client_version[6] = '\0';
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	sample_connect(&c, HYP_CONNECT_V1);
	c.protocol_hash[3] = (char)0xe9;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	memset(c.protocol_hash, 'a', sizeof(c.protocol_hash));
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)),
	    HYP_ETOOBIG);
	sample_connect(&c, HYP_CONNECT_V2);
	c.layout = (enum hyp_connect_layout)0;
	ck_assert_int_eq(hyp_connect_encode(&c, out, sizeof(out)), HYP_EINVAL);
	/* Missing uuid in V1/V2 is written as zeros. */
	sample_connect(&c, HYP_CONNECT_V2);
	c.has_uuid = 0;
	n = (size_t)hyp_connect_encode(&c, out, sizeof(out));
	ck_assert_mem_eq(out + 30, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}
END_TEST

/* ClientReferral maxima, port 0, bad offsets and encoder checks. */
START_TEST(test_referral_invalid)
{
	struct hyp_client_referral	r;
	struct raw_field		f[2];
	uint8_t				fixed[9], *pl, *big, *h;
	size_t				n;

	pl = malloc(10000);
	big = malloc(5000);
	h = malloc(5000);
	ck_assert_ptr_nonnull(pl);
	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(h);
	memset(big, 'b', 5000);
	memset(fixed, 0, sizeof(fixed));

	/* Data 4097 vs 4096. */
	fixed[0] = 0x02;
	f[0].p = NULL;
	f[1].p = h;
	f[1].len = vs(h, big, 4097);
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_ETOOBIG);
	f[1].len = vs(h, big, 4096);
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), 0);
	ck_assert_uint_le(n, HYP_CLIENT_REFERRAL_MAX);
	/* Host 257 vs 256; port 0. */
	fixed[0] = 0x01;
	f[1].p = NULL;
	h[0] = 0x90;
	h[1] = 0x15;
	f[0].p = h;
	f[0].len = 2 + vs(h + 2, big, 257);
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_ETOOBIG);
	f[0].len = 2 + vs(h + 2, big, 256);
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), 0);
	ck_assert_int_eq(dec_exact(dec_host, h, f[0].len), (int)f[0].len);
	truncations_fail(dec_host, h, f[0].len);
	h[0] = h[1] = 0;
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_ERANGE);
	ck_assert_int_eq(dec_exact(dec_host, h, f[0].len), (int)f[0].len);
	h[0] = h[1] = 0xff;	/* 65535 */
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(hyp_client_referral_decode(pl, n, &r), 0);
	ck_assert_uint_eq(r.host_to.port, 65535);
	/* Host not UTF-8. */
	memcpy(h + 2, "\x02\xc3\x28", 3);
	f[0].len = 5;
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EUTF8);
	/* Offsets: negative, past end, bit/slot mismatch, unknown bit. */
	memcpy(h + 2, "\x01x", 2);
	f[0].len = 4;
	n = build_struct(pl, fixed, 9, 1, 2, f);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), 0);
	put_le32(pl + 1, -2);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EOFFSET);
	put_le32(pl + 1, 4);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EOFFSET);
	put_le32(pl + 1, 3);	/* 1 byte left: port truncated */
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_ETRUNC);
	put_le32(pl + 1, -1);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EMALFORMED);
	put_le32(pl + 1, 0);
	put_le32(pl + 5, 0);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EMALFORMED);
	put_le32(pl + 5, -1);
	pl[0] |= 0x04;
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), HYP_EMALFORMED);
	pl[0] = 0x01;
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), 0);
	ck_assert_int_eq(dec_exact(dec_referral, pl, 8), HYP_ETRUNC);

	/* Encoder limits. */
	memset(&r, 0, sizeof(r));
	r.has_host = 1;
	r.host_to.port = 5520;
	r.host_to.host.ptr = big;
	r.host_to.host.len = 257;
	ck_assert_int_eq(hyp_client_referral_encode(&r, pl, 10000),
	    HYP_ETOOBIG);
	r.host_to.host.len = 256;
	r.data.ptr = big;
	r.data.len = 4097;
	ck_assert_int_eq(hyp_client_referral_encode(&r, pl, 10000),
	    HYP_ETOOBIG);
	r.data.len = 4096;
	n = (size_t)hyp_client_referral_encode(&r, pl, 10000);
	ck_assert_uint_eq(n, 9 + 2 + 2 + 256 + 2 + 4096);
	ck_assert_uint_le(n, HYP_CLIENT_REFERRAL_MAX);
	ck_assert_int_eq(dec_exact(dec_referral, pl, n), 0);
	r.host_to.port = 0;
	ck_assert_int_eq(hyp_client_referral_encode(&r, pl, 10000),
	    HYP_EINVAL);
	r.host_to.port = 1;
	r.host_to.host.ptr = NULL;
	ck_assert_int_eq(hyp_client_referral_encode(&r, pl, 10000),
	    HYP_EINVAL);
	r.host_to.host.ptr = (const uint8_t *)"\xff";
	r.host_to.host.len = 1;
	ck_assert_int_eq(hyp_client_referral_encode(&r, pl, 10000),
	    HYP_EINVAL);
	free(pl);
	free(big);
	free(h);
}
END_TEST

/* HostAddress round trip, truncation and port 0. */
START_TEST(test_host_address)
{
	struct hyp_host_address	a, b;
	uint8_t			out[300];
	int			n;

	memset(&a, 0, sizeof(a));
	a.port = 25565;
	a.host.ptr = (const uint8_t *)"m\xc3\xbcnchen.example";
	a.host.len = 16;
	n = hyp_host_address_encode(&a, out, sizeof(out));
	ck_assert_int_eq(n, 2 + 1 + 16);
	ck_assert_mem_eq(out, "\xdd\x63\x10", 3);
	ck_assert_int_eq(dec_exact(dec_host, out, (size_t)n), n);
	ck_assert_int_eq(hyp_host_address_decode(out, (size_t)n, &b), n);
	ck_assert_uint_eq(b.port, 25565);
	ck_assert(bytes_eq(&a.host, &b.host));
	truncations_fail(dec_host, out, (size_t)n);
#define ENC(o, c) hyp_host_address_encode(&a, (o), (c))
	ENOSPC_SWEEP(ENC, (size_t)n);
#undef ENC
	a.port = 0;
	a.host.len = 0;
	ck_assert_int_eq(hyp_host_address_encode(&a, out, sizeof(out)), 3);
	ck_assert_int_eq(hyp_host_address_decode(out, 3, &b), 3);
	ck_assert_uint_eq(b.port, 0);
	ck_assert_ptr_nonnull(b.host.ptr);
	a.host.ptr = NULL;
	ck_assert_int_eq(hyp_host_address_encode(&a, out, sizeof(out)),
	    HYP_EINVAL);
}
END_TEST

/* ConnectAccept round trip, maxima and truncation. */
START_TEST(test_connect_accept)
{
	struct hyp_connect_accept	a;
	uint8_t				ch[65], out[80], b[80];
	size_t				i;
	int				n;

	for (i = 0; i < sizeof(ch); i++)
		ch[i] = (uint8_t)(i * 37);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(hyp_connect_accept_encode(&a, out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_int_eq(dec_exact(dec_accept, out, 1), 0);
	ck_assert_int_eq(dec_exact(dec_accept, out, 0), HYP_ETRUNC);
	a.password_challenge.ptr = ch;
	a.password_challenge.len = 32;
	n = hyp_connect_accept_encode(&a, out, sizeof(out));
	ck_assert_int_eq(n, 34);
	ck_assert_mem_eq(out, "\x01\x20", 2);
	ck_assert_mem_eq(out + 2, ch, 32);
	ck_assert_int_eq(hyp_connect_accept_decode(out, (size_t)n, &a), 0);
	ck_assert_ptr_eq(a.password_challenge.ptr, out + 2);
	ck_assert_uint_eq(a.password_challenge.len, 32);
	truncations_fail(dec_accept, out, (size_t)n);
#define ENC(o, c) hyp_connect_accept_encode(&a, (o), (c))
	ENOSPC_SWEEP(ENC, (size_t)n);
#undef ENC
	a.password_challenge.ptr = ch;
	a.password_challenge.len = 64;
	n = hyp_connect_accept_encode(&a, out, sizeof(out));
	ck_assert_int_eq(n, 66);
	ck_assert_uint_le((size_t)n, HYP_CONNECT_ACCEPT_MAX);
	ck_assert_int_eq(dec_exact(dec_accept, out, (size_t)n), 0);
	a.password_challenge.len = 65;
	ck_assert_int_eq(hyp_connect_accept_encode(&a, out, sizeof(out)),
	    HYP_ETOOBIG);
	b[0] = 0x01;
	b[1] = 65;
	memcpy(b + 2, ch, 65);
	ck_assert_int_eq(dec_exact(dec_accept, b, 67), HYP_ETOOBIG);
	b[0] = 0x03;
	ck_assert_int_eq(dec_exact(dec_accept, b, 67), HYP_EMALFORMED);
	/* Empty present challenge. */
	memcpy(b, "\x01\x00", 2);
	ck_assert_int_eq(hyp_connect_accept_decode(b, 2, &a), 0);
	ck_assert_ptr_nonnull(a.password_challenge.ptr);
	ck_assert_uint_eq(a.password_challenge.len, 0);
	/* Bad length VarInt. */
	memcpy(b, "\x01\xff\xff\xff\xff\x0f", 6);
	ck_assert_int_eq(dec_exact(dec_accept, b, 6), HYP_EVARINT);
}
END_TEST

/* UUID formatting and parsing. */
START_TEST(test_uuid)
{
	uint8_t	u[16];
	char	s[37];

	hyp_uuid_format(uuid_bytes, s);
	ck_assert_str_eq(s, "123e4567-e89b-12d3-a456-426614174000");
	ck_assert_int_eq(hyp_uuid_parse(s, u), 0);
	ck_assert_mem_eq(u, uuid_bytes, 16);
	memset(u, 0, sizeof(u));
	ck_assert_int_eq(hyp_uuid_parse("123E4567E89B12D3A456426614174000", u),
	    0);
	ck_assert_mem_eq(u, uuid_bytes, 16);
	ck_assert_int_eq(hyp_uuid_parse("123e4567-e89b-12d3-a456-42661417400",
	    u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse("123e4567-e89b-12d3-a456-4266141740000",
	    u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse("123e4567e-89b-12d3-a456-426614174000",
	    u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse("123e4567-e89b-12d3-a456-42661417400g",
	    u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse("123e4567-e89b-12d3-a456+426614174000",
	    u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse("", u), HYP_EINVAL);
	ck_assert_int_eq(hyp_uuid_parse(NULL, u), HYP_EINVAL);
	memset(u, 0xff, sizeof(u));
	hyp_uuid_format(u, s);
	ck_assert_str_eq(s, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}
END_TEST

/* Every error code has its own string. */
START_TEST(test_strerror)
{
	static const int codes[] = {
		HYP_OK, HYP_EINVAL, HYP_ENOMEM, HYP_ENOENT, HYP_EEXIST,
		HYP_EAGAIN, HYP_ERANGE, HYP_ENOSPC, HYP_EACCES, HYP_ENOTSUP,
		HYP_ETIMEDOUT, HYP_ETRUNC, HYP_EVARINT, HYP_EOFFSET,
		HYP_ETOOBIG, HYP_EMALFORMED, HYP_EPACKETID, HYP_EABI,
		HYP_ECONFIG, HYP_ESECRET, HYP_EUTF8,
	};
	size_t	i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ck_assert_ptr_nonnull(hyp_strerror(codes[i]));
		ck_assert_str_ne(hyp_strerror(codes[i]), "Unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hyp_strerror(codes[i]),
			    hyp_strerror(codes[j]));
	}
	ck_assert_str_eq(hyp_strerror(-EPIPE), strerror(EPIPE));
	ck_assert_str_eq(hyp_strerror(1), "Unknown error");
	ck_assert_str_eq(hyp_strerror(-1010), "Unknown error");
	ck_assert_ptr_nonnull(hyp_strerror(INT_MIN));
	ck_assert_ptr_nonnull(hyp_strerror(INT_MAX));
}
END_TEST

/* The codec test suite. */
static Suite *
codec_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("codec");
	tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_varint);
	tcase_add_test(tc, test_varint_bad);
	tcase_add_test(tc, test_frame_header);
	tcase_add_test(tc, test_packet_names);
	tcase_add_test(tc, test_vec_referral1);
	tcase_add_test(tc, test_vec_referral2);
	tcase_add_test(tc, test_vec_disconnect);
	tcase_add_test(tc, test_vec_server_disconnect);
	tcase_add_test(tc, test_server_disconnect_fmsg);
	tcase_add_test(tc, test_disconnect_invalid);
	tcase_add_test(tc, test_vec_connect1);
	tcase_add_test(tc, test_vec_connect2);
	tcase_add_test(tc, test_connect_roundtrip);
	tcase_add_test(tc, test_connect_layout_bytes);
	tcase_add_test(tc, test_connect_autodetect);
	tcase_add_test(tc, test_connect_offsets);
	tcase_add_test(tc, test_connect_v1_v3_offsets);
	tcase_add_test(tc, test_connect_oversize);
	tcase_add_test(tc, test_connect_strings);
	tcase_add_test(tc, test_referral_invalid);
	tcase_add_test(tc, test_host_address);
	tcase_add_test(tc, test_connect_accept);
	tcase_add_test(tc, test_uuid);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the codec suite; exit status 1 on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failures;

	sr = srunner_create(codec_suite());
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failures != 0);
}
