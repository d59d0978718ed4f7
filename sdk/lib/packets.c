/*
 * Disconnect (old id 1 and build-100 ServerDisconnect id 2),
 * ClientReferral (id 18) and ConnectAccept (id 14).  See doc/protocol.md.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "lib.h"
#include "wire.h"

/* FormattedMessage: 2 null-bit bytes, 5 fixed bytes, 8 offset slots. */
#define HYP_FMSG_SLOTS		7
#define HYP_FMSG_NSLOTS		8
#define HYP_FMSG_VARBLOCK	39
#define HYP_FMSG_RAWTEXT	0x10	/* byte 0; slot 0. */

/* Null bit (byte index, mask) of each FormattedMessage slot, in slot order. */
static const uint8_t hyp_fmsg_bits[HYP_FMSG_NSLOTS][2] = {
	{ 0, 0x10 },	/* rawText */
	{ 0, 0x20 },	/* messageId */
	{ 0, 0x40 },	/* children */
	{ 0, 0x80 },	/* params */
	{ 1, 0x01 },	/* messageParams */
	{ 1, 0x02 },	/* color */
	{ 1, 0x04 },	/* link */
	{ 1, 0x08 },	/* image */
};

/* Decode a FormattedMessage at p[0..len), keeping only rawText. */
static int
hyp_fmsg_decode(const uint8_t *p, size_t len, struct hyp_bytes *raw)
{
	size_t	pos[HYP_FMSG_NSLOTS], i;
	int	present, error, c;

	if (len < HYP_FMSG_VARBLOCK)
		return (HYP_ETRUNC);
	if ((p[1] & 0xf0) != 0)
		return (HYP_EMALFORMED);
	for (i = 0; i < HYP_FMSG_NSLOTS; i++) {
		present = (p[hyp_fmsg_bits[i][0]] & hyp_fmsg_bits[i][1]) != 0;
		error = hyp_wire_slot(p, len, HYP_FMSG_SLOTS + 4 * i,
		    HYP_FMSG_VARBLOCK, 1, present, &pos[i]);
		if (error != 0)
			return (error);
	}
	if (pos[0] == (size_t)-1)
		return (0);
	c = hyp_wire_bytes_decode(p, len, pos[0], HYP_DISCONNECT_REASON_MAX,
	    HYP_WIRE_UTF8, raw);
	return (c < 0 ? c : 0);
}

/* Write a FormattedMessage holding only rawText. */
static void
hyp_fmsg_put(struct hyp_wbuf *w, const struct hyp_bytes *raw)
{
	static const uint8_t	fixed[HYP_FMSG_SLOTS] = { HYP_FMSG_RAWTEXT };
	size_t			start, slot[HYP_FMSG_NSLOTS], i;

	start = w->len;
	hyp_wire_put(w, fixed, sizeof(fixed));
	for (i = 0; i < HYP_FMSG_NSLOTS; i++)
		slot[i] = hyp_wire_slot_reserve(w);
	hyp_wire_slot_here(w, slot[0], start + HYP_FMSG_VARBLOCK);
	hyp_wire_put_bytes(w, raw);
}

/* Decode a Disconnect payload of the given form. */
HYP_API int
hyp_disconnect_decode(const uint8_t *payload, size_t len,
    enum hyp_disconnect_form form, struct hyp_disconnect *out)
{
	int	c;

	memset(out, 0, sizeof(*out));
	out->form = form;
	if (form != HYP_DISCONNECT_OLD && form != HYP_DISCONNECT_NEW)
		return (HYP_EINVAL);
	if (len < 2)
		return (HYP_ETRUNC);
	if ((payload[0] & ~0x01) != 0)
		return (HYP_EMALFORMED);
	out->type = payload[1];
	if (out->type > HYP_DISCONNECT_TYPE_CRASH)
		return (HYP_ERANGE);
	if ((payload[0] & 0x01) == 0)
		return (0);
	if (form == HYP_DISCONNECT_NEW)
		return (hyp_fmsg_decode(payload + 2, len - 2, &out->reason));
	c = hyp_wire_bytes_decode(payload, len, 2, HYP_DISCONNECT_REASON_MAX,
	    HYP_WIRE_UTF8, &out->reason);
	return (c < 0 ? c : 0);
}

/* Encode a Disconnect payload in d->form. */
HYP_API int
hyp_disconnect_encode(const struct hyp_disconnect *d, uint8_t *out, size_t cap)
{
	struct hyp_wbuf	w = { out, cap, 0, 0 };
	int		error;

	if (d->form != HYP_DISCONNECT_OLD && d->form != HYP_DISCONNECT_NEW)
		return (HYP_EINVAL);
	if (d->type > HYP_DISCONNECT_TYPE_CRASH)
		return (HYP_EINVAL);
	if ((error = hyp_wire_bytes_check(&d->reason,
	    HYP_DISCONNECT_REASON_MAX, HYP_WIRE_UTF8)) != 0)
		return (error);
	hyp_wire_put_u8(&w, d->reason.ptr != NULL ? 0x01 : 0x00);
	hyp_wire_put_u8(&w, d->type);
	if (d->reason.ptr != NULL) {
		if (d->form == HYP_DISCONNECT_NEW)
			hyp_fmsg_put(&w, &d->reason);
		else
			hyp_wire_put_bytes(&w, &d->reason);
	}
	return (hyp_wire_result(&w));
}

/* Decode a ClientReferral payload. */
HYP_API int
hyp_client_referral_decode(const uint8_t *payload, size_t len,
    struct hyp_client_referral *out)
{
	size_t	hpos, dpos;
	int	error, c;

	memset(out, 0, sizeof(*out));
	if (len < 9)
		return (HYP_ETRUNC);
	if ((payload[0] & ~0x03) != 0)
		return (HYP_EMALFORMED);
	if ((error = hyp_wire_slot(payload, len, 1, 9, 1,
	    (payload[0] & 0x01) != 0, &hpos)) != 0)
		return (error);
	if ((error = hyp_wire_slot(payload, len, 5, 9, 1,
	    (payload[0] & 0x02) != 0, &dpos)) != 0)
		return (error);
	if (hpos != (size_t)-1) {
		c = hyp_host_address_decode(payload + hpos, len - hpos,
		    &out->host_to);
		if (c < 0)
			return (c);
		if (out->host_to.port == 0)
			return (HYP_ERANGE);
		out->has_host = 1;
	}
	if (dpos != (size_t)-1) {
		c = hyp_wire_bytes_decode(payload, len, dpos,
		    HYP_REFERRAL_DATA_MAX, HYP_WIRE_RAW, &out->data);
		if (c < 0)
			return (c);
	}
	return (0);
}

/* Encode a ClientReferral payload. */
HYP_API int
hyp_client_referral_encode(const struct hyp_client_referral *r, uint8_t *out,
    size_t cap)
{
	struct hyp_wbuf	w = { out, cap, 0, 0 };
	size_t		hslot, dslot;
	int		error;

	if (r->has_host) {
		if ((error = hyp_wire_host_check(&r->host_to)) != 0)
			return (error);
		if (r->host_to.port == 0)
			return (HYP_EINVAL);
	}
	if ((error = hyp_wire_bytes_check(&r->data, HYP_REFERRAL_DATA_MAX,
	    HYP_WIRE_RAW)) != 0)
		return (error);
	hyp_wire_put_u8(&w, (r->has_host ? 0x01 : 0) |
	    (r->data.ptr != NULL ? 0x02 : 0));
	hslot = hyp_wire_slot_reserve(&w);
	dslot = hyp_wire_slot_reserve(&w);
	if (r->has_host) {
		hyp_wire_slot_here(&w, hslot, 9);
		hyp_wire_put_host(&w, &r->host_to);
	}
	if (r->data.ptr != NULL) {
		hyp_wire_slot_here(&w, dslot, 9);
		hyp_wire_put_bytes(&w, &r->data);
	}
	return (hyp_wire_result(&w));
}

/* Decode a ConnectAccept payload. */
HYP_API int
hyp_connect_accept_decode(const uint8_t *payload, size_t len,
    struct hyp_connect_accept *out)
{
	int	c;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return (HYP_ETRUNC);
	if ((payload[0] & ~0x01) != 0)
		return (HYP_EMALFORMED);
	if ((payload[0] & 0x01) == 0)
		return (0);
	c = hyp_wire_bytes_decode(payload, len, 1, HYP_PASSWORD_CHALLENGE_MAX,
	    HYP_WIRE_RAW, &out->password_challenge);
	return (c < 0 ? c : 0);
}

/* Encode a ConnectAccept payload. */
HYP_API int
hyp_connect_accept_encode(const struct hyp_connect_accept *a, uint8_t *out,
    size_t cap)
{
	struct hyp_wbuf	w = { out, cap, 0, 0 };
	int		error;

	if ((error = hyp_wire_bytes_check(&a->password_challenge,
	    HYP_PASSWORD_CHALLENGE_MAX, HYP_WIRE_RAW)) != 0)
		return (error);
	hyp_wire_put_u8(&w, a->password_challenge.ptr != NULL ? 0x01 : 0x00);
	if (a->password_challenge.ptr != NULL)
		hyp_wire_put_bytes(&w, &a->password_challenge);
	return (hyp_wire_result(&w));
}
