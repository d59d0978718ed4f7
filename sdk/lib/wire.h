/*
 * Private helpers shared by the wire codec files (wire.c, connect.c,
 * packets.c).  Not installed; not part of the SDK ABI.
 */
#ifndef HYPROX_LIB_WIRE_H
#define HYPROX_LIB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/codec.h>

/* Content rules for a variable-size field. */
enum hyp_wire_kind {
	HYP_WIRE_RAW,		/* byte[]: anything. */
	HYP_WIRE_UTF8,		/* Well-formed UTF-8 (RFC 3629). */
	HYP_WIRE_ASCII,		/* Printable ASCII 0x20..0x7e. */
};

/* A bounded output buffer; the first overflow sets err to HYP_ENOSPC. */
struct hyp_wbuf {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	int		 err;
};

/* Read a little-endian u16 / u32. */
uint16_t	hyp_wire_le16(const uint8_t *p);
uint32_t	hyp_wire_le32(const uint8_t *p);

/* Check that s[0..len) obeys kind; 0 or HYP_EUTF8. */
int	hyp_wire_check_kind(const uint8_t *s, size_t len, enum hyp_wire_kind kind);

/*
 * Validate the i32le offset slot at buf[slot] of a struct whose variable
 * block starts at varblock (len >= varblock is the caller's check).
 * present: the field's null bit (1 for a non-nullable field).
 * On success *pos is varblock + offset, or (size_t)-1 for a null field.
 */
int	hyp_wire_slot(const uint8_t *buf, size_t len, size_t slot,
	    size_t varblock, int nullable, int present, size_t *pos);

/*
 * Decode a VarInt-prefixed byte string at buf[pos] (pos <= len) of at most
 * max bytes obeying kind.  Returns bytes consumed or a negative code.
 */
int	hyp_wire_bytes_decode(const uint8_t *buf, size_t len, size_t pos,
	    size_t max, enum hyp_wire_kind kind, struct hyp_bytes *out);

/* Validate a view to encode: 0, HYP_ETOOBIG or HYP_EINVAL (bad content). */
int	hyp_wire_bytes_check(const struct hyp_bytes *b, size_t max,
	    enum hyp_wire_kind kind);

/* Validate a HostAddress to encode (host present, ≤ 256 bytes, UTF-8). */
int	hyp_wire_host_check(const struct hyp_host_address *a);

/* Writers: each appends to w or sets w->err. */
void	hyp_wire_put(struct hyp_wbuf *w, const void *p, size_t n);
void	hyp_wire_put_u8(struct hyp_wbuf *w, uint8_t v);
void	hyp_wire_put_le16(struct hyp_wbuf *w, uint16_t v);
void	hyp_wire_put_le32(struct hyp_wbuf *w, uint32_t v);
void	hyp_wire_put_varint(struct hyp_wbuf *w, uint32_t v);
void	hyp_wire_put_bytes(struct hyp_wbuf *w, const struct hyp_bytes *b);
void	hyp_wire_put_host(struct hyp_wbuf *w, const struct hyp_host_address *a);

/* Reserve a 4-byte offset slot holding -1; returns its position. */
size_t	hyp_wire_slot_reserve(struct hyp_wbuf *w);

/* Fill a reserved slot (initially -1, null) with the current offset. */
void	hyp_wire_slot_here(struct hyp_wbuf *w, size_t slot, size_t varblock);

/* Result of a writer: bytes written or w->err. */
int	hyp_wire_result(const struct hyp_wbuf *w);

#endif /* HYPROX_LIB_WIRE_H */
