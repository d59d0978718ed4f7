/*
 * Hytale wire codec (libhyprox): framing, VarInt, strings, HostAddress and
 * the packets a proxy needs.  See doc/protocol.md and HYTALE-PROTOCOL.md.
 *
 * Every decoder takes (buf, len), never reads past len, enforces every
 * documented maximum and returns 0 or a negative HYP_E* code.  Decoded
 * variable-size fields are views (struct hyp_bytes) into the caller's
 * buffer: valid only while that buffer is.  A view with ptr == NULL is an
 * absent (null) field; ptr != NULL with len == 0 is an empty one.
 */
#ifndef HYPROX_CODEC_H
#define HYPROX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_FRAME_HEADER_LEN	8		/**< u32le length + u32le id. */
#define HYP_MAX_PACKET_SIZE	1677721600u	/**< Absolute frame payload limit. */

/* Packet ids (build 2026.02.17 unless noted). */
#define HYP_PKT_CONNECT			0
#define HYP_PKT_DISCONNECT		1	/**< Old form; ClientDisconnect in build 100. */
#define HYP_PKT_SERVER_DISCONNECT	2	/**< New form, build 100 (id 2 is Ping before). */
#define HYP_PKT_CONNECT_ACCEPT		14
#define HYP_PKT_CLIENT_REFERRAL		18

/* Maximum payload sizes. */
#define HYP_CONNECT_V1_MAX		38161
#define HYP_CONNECT_V2_MAX		38013
#define HYP_CONNECT_V3_MAX		37972
#define HYP_DISCONNECT_MAX		16384007
#define HYP_CLIENT_REFERRAL_MAX		5141
#define HYP_CONNECT_ACCEPT_MAX		70

/* Field limits (bytes). */
#define HYP_USERNAME_MAX		16
#define HYP_LANGUAGE_MAX		16	/**< V2 and V3. */
#define HYP_LANGUAGE_V1_MAX		128
#define HYP_IDENTITY_TOKEN_MAX		8192
#define HYP_REFERRAL_DATA_MAX		4096
#define HYP_HOST_MAX			256
#define HYP_HOST_ADDRESS_MAX		1031
#define HYP_CLIENT_VERSION_LEN		20
#define HYP_PROTOCOL_HASH_LEN		64
#define HYP_PASSWORD_CHALLENGE_MAX	64
#define HYP_DISCONNECT_REASON_MAX	4096000

/** A view of bytes inside a caller-owned buffer. */
struct hyp_bytes {
	const uint8_t	*ptr;	/**< NULL: field absent. */
	size_t		 len;
};

/** HostAddress: u16le port then a UTF-8 VarString host (≤ 256 bytes). */
struct hyp_host_address {
	uint16_t		port;
	struct hyp_bytes	host;
};

/** Connect layouts; see HYTALE-PROTOCOL.md §3.1, §3.7, §5. */
enum hyp_connect_layout {
	HYP_CONNECT_V1 = 1,	/**< 2026.01.13–01.17: protocolHash, ALPN hytale/1. */
	HYP_CONNECT_V2 = 2,	/**< 2026.01.24–02.17: protocolCrc + uuid + username. */
	HYP_CONNECT_V3 = 3,	/**< build 100: no uuid, no username. */
};

/** Client types. */
#define HYP_CLIENT_GAME		0
#define HYP_CLIENT_EDITOR	1

/** A decoded (or to-be-encoded) Connect packet. */
struct hyp_connect {
	enum hyp_connect_layout	layout;
	int32_t			protocol_crc;	/**< V2, V3. */
	int32_t			build;		/**< V2, V3. */
	char			protocol_hash[HYP_PROTOCOL_HASH_LEN + 1]; /**< V1, NUL-terminated. */
	char			client_version[HYP_CLIENT_VERSION_LEN + 1]; /**< V2, V3, NUL-terminated. */
	uint8_t			client_type;
	int			has_uuid;	/**< V1, V2. */
	uint8_t			uuid[16];	/**< Big-endian, as on the wire. */
	struct hyp_bytes	username;	/**< ASCII ≤ 16; V1, V2 (always present there). */
	struct hyp_bytes	identity_token;	/**< UTF-8 ≤ 8192, nullable. */
	struct hyp_bytes	language;	/**< ASCII, nullable in V1 only (V2, V3: always present). */
	struct hyp_bytes	referral_data;	/**< ≤ 4096, nullable. */
	int			has_referral_source;
	struct hyp_host_address	referral_source;
};

/** Disconnect forms. */
enum hyp_disconnect_form {
	HYP_DISCONNECT_OLD = 1,	/**< id 1 ≤ 02.17: nullBits, type, VarString reason. */
	HYP_DISCONNECT_NEW = 2,	/**< id 2 build 100 ServerDisconnect: reason is a FormattedMessage. */
};

/** Disconnect types. */
#define HYP_DISCONNECT_TYPE_DISCONNECT	0
#define HYP_DISCONNECT_TYPE_CRASH	1

/** A Disconnect; for the new form reason is the FormattedMessage rawText. */
struct hyp_disconnect {
	enum hyp_disconnect_form form;
	uint8_t			type;
	struct hyp_bytes	reason;		/**< UTF-8, nullable. */
};

/** ClientReferral (id 18). */
struct hyp_client_referral {
	int			has_host;
	struct hyp_host_address	host_to;
	struct hyp_bytes	data;		/**< ≤ 4096, nullable. */
};

/** ConnectAccept (id 14). */
struct hyp_connect_accept {
	struct hyp_bytes	password_challenge;	/**< ≤ 64, nullable. */
};

/**
 * Decode an unsigned LEB128 VarInt (≤ 5 bytes, value ≤ INT32_MAX).
 * @return bytes consumed (1–5), HYP_ETRUNC, or HYP_EVARINT.
 */
int	hyp_varint_decode(const uint8_t *buf, size_t len, uint32_t *out);

/** Bytes the canonical encoding of v takes (1–5). */
size_t	hyp_varint_size(uint32_t v);

/**
 * Encode v (≤ INT32_MAX) canonically.
 * @return bytes written, HYP_ERANGE, or HYP_ENOSPC when cap is too small.
 */
int	hyp_varint_encode(uint32_t v, uint8_t *out, size_t cap);

/**
 * Decode a frame header.  Checks len ≥ 8 and payload_len ≤ HYP_MAX_PACKET_SIZE
 * and, for ids with a known maximum (hyp_packet_max_size()), that limit.
 * @return 0, HYP_ETRUNC, HYP_ETOOBIG.
 */
int	hyp_frame_header_decode(const uint8_t *buf, size_t len,
	    uint32_t *payload_len, uint32_t *packet_id);

/** Write an 8-byte frame header into out. */
void	hyp_frame_header_encode(uint8_t out[HYP_FRAME_HEADER_LEN],
	    uint32_t payload_len, uint32_t packet_id);

/** Documented maximum payload size of a client→server or handshake packet id, or 0 when unknown. */
size_t	hyp_packet_max_size(uint32_t packet_id);

/**
 * Decode a HostAddress at the start of buf.
 * @return bytes consumed, or a negative code.
 */
int	hyp_host_address_decode(const uint8_t *buf, size_t len,
	    struct hyp_host_address *out);

/**
 * Encode a HostAddress (host must be present, UTF-8, ≤ HYP_HOST_MAX bytes).
 * @return bytes written, HYP_EINVAL, HYP_ETOOBIG or HYP_ENOSPC.
 */
int	hyp_host_address_encode(const struct hyp_host_address *a, uint8_t *out,
	    size_t cap);

/**
 * Decode a Connect payload, detecting the layout (V1 when the payload is at
 * least 102 bytes and bytes 1..64 are hex digits or NUL; else V2 when its
 * offsets are consistent; else V3).  out->layout reports the layout.
 */
int	hyp_connect_decode(const uint8_t *payload, size_t len,
	    struct hyp_connect *out);

/** Decode a Connect payload in one given layout only. */
int	hyp_connect_decode_layout(const uint8_t *payload, size_t len,
	    enum hyp_connect_layout layout, struct hyp_connect *out);

/**
 * Encode c in c->layout into out (payload only, no frame header).
 * @return payload bytes written, HYP_ENOSPC, or HYP_EINVAL/HYP_ETOOBIG
 * for a field that breaks its limit.
 */
int	hyp_connect_encode(const struct hyp_connect *c, uint8_t *out, size_t cap);

/** Decode a Disconnect payload of the given form. */
int	hyp_disconnect_decode(const uint8_t *payload, size_t len,
	    enum hyp_disconnect_form form, struct hyp_disconnect *out);

/** Encode a Disconnect payload in d->form; returns bytes written or an error. */
int	hyp_disconnect_encode(const struct hyp_disconnect *d, uint8_t *out,
	    size_t cap);

/** Decode a ClientReferral payload. */
int	hyp_client_referral_decode(const uint8_t *payload, size_t len,
	    struct hyp_client_referral *out);

/** Encode a ClientReferral payload; returns bytes written or an error. */
int	hyp_client_referral_encode(const struct hyp_client_referral *r,
	    uint8_t *out, size_t cap);

/** Decode a ConnectAccept payload. */
int	hyp_connect_accept_decode(const uint8_t *payload, size_t len,
	    struct hyp_connect_accept *out);

/** Encode a ConnectAccept payload; returns bytes written or an error. */
int	hyp_connect_accept_encode(const struct hyp_connect_accept *a,
	    uint8_t *out, size_t cap);

/** Name of a 02.17 packet id ("Connect", "ClientReferral", ...) or "Unknown"; static. */
const char *hyp_packet_name(uint32_t packet_id);

/** Format a 16-byte big-endian UUID as 36 chars plus NUL into out[37]. */
void	hyp_uuid_format(const uint8_t uuid[16], char out[37]);

/** Parse "123e4567-e89b-12d3-a456-426614174000" (hyphens optional). */
int	hyp_uuid_parse(const char *s, uint8_t uuid[16]);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_CODEC_H */
