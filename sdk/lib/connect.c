/*
 * Connect (packet id 0) in its three layouts: V1 (2026.01.13-01.17),
 * V2 (01.24-02.17) and V3 (build 100).  See doc/protocol.md.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "lib.h"
#include "wire.h"

/* Variable-size fields of a Connect. */
enum hyp_connect_field {
	HYP_CF_USERNAME,
	HYP_CF_IDENTITY,
	HYP_CF_LANGUAGE,
	HYP_CF_REFDATA,
	HYP_CF_REFSRC,
};

/* One offset slot: which field, where, and its null bit (0: not nullable). */
struct hyp_connect_slot {
	enum hyp_connect_field	field;
	uint8_t			slot;
	uint8_t			bit;
};

/* Layout of one Connect version. */
struct hyp_connect_desc {
	size_t			varblock;	/* Fixed block size. */
	uint8_t			mask;		/* Defined null bits. */
	size_t			language_max;
	size_t			nslots;
	struct hyp_connect_slot	slots[5];	/* In declaration order. */
};

static const struct hyp_connect_desc hyp_connect_v1 = {
	102, 0x0f, HYP_LANGUAGE_V1_MAX, 5, {
		{ HYP_CF_LANGUAGE, 82, 0x01 },
		{ HYP_CF_IDENTITY, 86, 0x02 },
		{ HYP_CF_USERNAME, 90, 0 },
		{ HYP_CF_REFDATA, 94, 0x04 },
		{ HYP_CF_REFSRC, 98, 0x08 },
	}
};

static const struct hyp_connect_desc hyp_connect_v2 = {
	66, 0x07, HYP_LANGUAGE_MAX, 5, {
		{ HYP_CF_USERNAME, 46, 0 },
		{ HYP_CF_IDENTITY, 50, 0x01 },
		{ HYP_CF_LANGUAGE, 54, 0 },
		{ HYP_CF_REFDATA, 58, 0x02 },
		{ HYP_CF_REFSRC, 62, 0x04 },
	}
};

static const struct hyp_connect_desc hyp_connect_v3 = {
	46, 0x07, HYP_LANGUAGE_MAX, 4, {
		{ HYP_CF_IDENTITY, 30, 0x01 },
		{ HYP_CF_LANGUAGE, 34, 0 },
		{ HYP_CF_REFDATA, 38, 0x02 },
		{ HYP_CF_REFSRC, 42, 0x04 },
	}
};

/* Layout descriptor of a layout, or NULL. */
static const struct hyp_connect_desc *
hyp_connect_desc(enum hyp_connect_layout layout)
{
	switch (layout) {
	case HYP_CONNECT_V1:
		return (&hyp_connect_v1);
	case HYP_CONNECT_V2:
		return (&hyp_connect_v2);
	case HYP_CONNECT_V3:
		return (&hyp_connect_v3);
	}
	return (NULL);
}

/* Offset in struct hyp_connect of a byte-string field (not referralSource). */
static size_t
hyp_connect_view_off(enum hyp_connect_field f)
{
	switch (f) {
	case HYP_CF_USERNAME:
		return (offsetof(struct hyp_connect, username));
	case HYP_CF_IDENTITY:
		return (offsetof(struct hyp_connect, identity_token));
	case HYP_CF_LANGUAGE:
		return (offsetof(struct hyp_connect, language));
	case HYP_CF_REFDATA:
	case HYP_CF_REFSRC:
		break;
	}
	return (offsetof(struct hyp_connect, referral_data));
}

/* The byte-string view of field f in c. */
static struct hyp_bytes *
hyp_connect_view(struct hyp_connect *c, enum hyp_connect_field f)
{
	return ((struct hyp_bytes *)((char *)c + hyp_connect_view_off(f)));
}

/* The byte-string view of field f in a const c. */
static const struct hyp_bytes *
hyp_connect_cview(const struct hyp_connect *c, enum hyp_connect_field f)
{
	return ((const struct hyp_bytes *)((const char *)c +
	    hyp_connect_view_off(f)));
}

/* Maximum length and content rule of a byte-string field. */
static void
hyp_connect_rule(const struct hyp_connect_desc *d, enum hyp_connect_field f,
    size_t *max, enum hyp_wire_kind *kind)
{
	*max = 0;
	*kind = HYP_WIRE_RAW;
	switch (f) {
	case HYP_CF_USERNAME:
		*max = HYP_USERNAME_MAX;
		*kind = HYP_WIRE_ASCII;
		break;
	case HYP_CF_IDENTITY:
		*max = HYP_IDENTITY_TOKEN_MAX;
		*kind = HYP_WIRE_UTF8;
		break;
	case HYP_CF_LANGUAGE:
		*max = d->language_max;
		*kind = HYP_WIRE_ASCII;
		break;
	case HYP_CF_REFDATA:
	case HYP_CF_REFSRC:	/* Not a byte string; not used. */
		*max = HYP_REFERRAL_DATA_MAX;
		*kind = HYP_WIRE_RAW;
		break;
	}
}

/* Check the fixed block size, null bits and every slot; fill pos[]. */
static int
hyp_connect_structure(const uint8_t *p, size_t len,
    const struct hyp_connect_desc *d, size_t pos[5])
{
	const struct hyp_connect_slot	*s;
	size_t				 i;
	int				 error;

	if (len < d->varblock)
		return (HYP_ETRUNC);
	if ((p[0] & ~d->mask) != 0)
		return (HYP_EMALFORMED);
	for (i = 0; i < d->nslots; i++) {
		s = &d->slots[i];
		error = hyp_wire_slot(p, len, s->slot, d->varblock,
		    s->bit != 0, s->bit == 0 || (p[0] & s->bit) != 0, &pos[i]);
		if (error != 0)
			return (error);
	}
	return (0);
}

/* Copy a NUL-padded fixed ASCII string of n bytes into out[n + 1]. */
static int
hyp_connect_fixed_decode(const uint8_t *p, size_t n, char *out)
{
	size_t	i;

	for (i = 0; i < n && p[i] != '\0'; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return (HYP_EUTF8);
		out[i] = (char)p[i];
	}
	out[i] = '\0';
	return (0);
}

/* Length of s, looking at no more than max bytes. */
static size_t
hyp_connect_strnlen(const char *s, size_t max)
{
	const char	*z;

	z = memchr(s, '\0', max);
	return (z != NULL ? (size_t)(z - s) : max);
}

/* Check a NUL-terminated fixed string for encoding into n bytes. */
static int
hyp_connect_fixed_check(const char *s, size_t n)
{
	size_t	len;

	len = hyp_connect_strnlen(s, n + 1);
	if (len > n)
		return (HYP_ETOOBIG);
	if (hyp_wire_check_kind((const uint8_t *)s, len, HYP_WIRE_ASCII) != 0)
		return (HYP_EINVAL);
	return (0);
}

/* Write a fixed string NUL-padded to n bytes. */
static void
hyp_connect_fixed_put(struct hyp_wbuf *w, const char *s, size_t n)
{
	size_t	len = hyp_connect_strnlen(s, n);

	hyp_wire_put(w, s, len);
	while (len++ < n)
		hyp_wire_put_u8(w, 0);
}

/* Decode the fixed block of c->layout. */
static int
hyp_connect_fixed(const uint8_t *p, struct hyp_connect *c)
{
	size_t	ct;
	int	error;

	if (c->layout == HYP_CONNECT_V1) {
		error = hyp_connect_fixed_decode(p + 1, HYP_PROTOCOL_HASH_LEN,
		    c->protocol_hash);
		if (error != 0)
			return (error);
		ct = 65;
		c->has_uuid = 1;
		memcpy(c->uuid, p + 66, 16);
	} else {
		c->protocol_crc = (int32_t)hyp_wire_le32(p + 1);
		c->build = (int32_t)hyp_wire_le32(p + 5);
		error = hyp_connect_fixed_decode(p + 9, HYP_CLIENT_VERSION_LEN,
		    c->client_version);
		if (error != 0)
			return (error);
		ct = 29;
		if (c->layout == HYP_CONNECT_V2) {
			c->has_uuid = 1;
			memcpy(c->uuid, p + 30, 16);
		}
	}
	c->client_type = p[ct];
	if (c->client_type > HYP_CLIENT_EDITOR)
		return (HYP_ERANGE);
	return (0);
}

/* Decode a Connect payload in one given layout. */
HYP_API int
hyp_connect_decode_layout(const uint8_t *payload, size_t len,
    enum hyp_connect_layout layout, struct hyp_connect *out)
{
	const struct hyp_connect_desc	*d;
	struct hyp_bytes		*view;
	size_t				 pos[5], max, i;
	enum hyp_wire_kind		 kind;
	int				 c;

	memset(out, 0, sizeof(*out));
	out->layout = layout;
	if ((d = hyp_connect_desc(layout)) == NULL)
		return (HYP_EINVAL);
	if ((c = hyp_connect_structure(payload, len, d, pos)) != 0)
		return (c);
	if ((c = hyp_connect_fixed(payload, out)) != 0)
		return (c);
	for (i = 0; i < d->nslots; i++) {
		if (pos[i] == (size_t)-1)
			continue;
		if (d->slots[i].field == HYP_CF_REFSRC) {
			c = hyp_host_address_decode(payload + pos[i],
			    len - pos[i], &out->referral_source);
			out->has_referral_source = 1;
		} else {
			view = hyp_connect_view(out, d->slots[i].field);
			hyp_connect_rule(d, d->slots[i].field, &max, &kind);
			c = hyp_wire_bytes_decode(payload, len, pos[i], max,
			    kind, view);
		}
		if (c < 0)
			return (c);
	}
	return (0);
}

/* Whether bytes 1..64 of a payload of ≥ 102 bytes are hex digits or NUL. */
static int
hyp_connect_looks_v1(const uint8_t *p, size_t len)
{
	size_t	i;
	uint8_t	b;

	if (len < hyp_connect_v1.varblock)
		return (0);
	for (i = 1; i <= HYP_PROTOCOL_HASH_LEN; i++) {
		b = p[i];
		if (!(b == 0 || (b >= '0' && b <= '9') ||
		    (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')))
			return (0);
	}
	return (1);
}

/* Decode a Connect payload, detecting its layout (V1, then V2, then V3). */
HYP_API int
hyp_connect_decode(const uint8_t *payload, size_t len, struct hyp_connect *out)
{
	size_t	pos[5];
	int	e2, e3, plausible2;

	if (hyp_connect_looks_v1(payload, len))
		return (hyp_connect_decode_layout(payload, len, HYP_CONNECT_V1,
		    out));
	if ((e2 = hyp_connect_decode_layout(payload, len, HYP_CONNECT_V2,
	    out)) == 0)
		return (0);
	plausible2 = hyp_connect_structure(payload, len, &hyp_connect_v2,
	    pos) == 0;
	if ((e3 = hyp_connect_decode_layout(payload, len, HYP_CONNECT_V3,
	    out)) == 0)
		return (0);
	memset(out, 0, sizeof(*out));
	out->layout = plausible2 ? HYP_CONNECT_V2 : HYP_CONNECT_V3;
	return (plausible2 ? e2 : e3);
}

/* Check every field of c against the limits of its layout. */
static int
hyp_connect_check(const struct hyp_connect *c, const struct hyp_connect_desc *d)
{
	const struct hyp_bytes	*view;
	size_t			 max, i;
	enum hyp_wire_kind	 kind;
	int			 error;

	if (c->client_type > HYP_CLIENT_EDITOR)
		return (HYP_EINVAL);
	if (c->layout == HYP_CONNECT_V1)
		error = hyp_connect_fixed_check(c->protocol_hash,
		    HYP_PROTOCOL_HASH_LEN);
	else
		error = hyp_connect_fixed_check(c->client_version,
		    HYP_CLIENT_VERSION_LEN);
	if (error != 0)
		return (error);
	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i].field == HYP_CF_REFSRC) {
			if (c->has_referral_source &&
			    (error = hyp_wire_host_check(&c->referral_source)) != 0)
				return (error);
			continue;
		}
		view = hyp_connect_cview(c, d->slots[i].field);
		if (d->slots[i].bit == 0 && view->ptr == NULL)
			return (HYP_EINVAL);	/* Not nullable. */
		hyp_connect_rule(d, d->slots[i].field, &max, &kind);
		if ((error = hyp_wire_bytes_check(view, max, kind)) != 0)
			return (error);
	}
	return (0);
}

/* Encode a Connect payload in c->layout. */
HYP_API int
hyp_connect_encode(const struct hyp_connect *c, uint8_t *out, size_t cap)
{
	const struct hyp_connect_desc	*d;
	const struct hyp_bytes		*view;
	struct hyp_wbuf			 w = { out, cap, 0, 0 };
	size_t				 slot[5], i;
	uint8_t				 nulls = 0, zero[16] = { 0 };
	int				 present, error;

	if ((d = hyp_connect_desc(c->layout)) == NULL)
		return (HYP_EINVAL);
	if ((error = hyp_connect_check(c, d)) != 0)
		return (error);
	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i].field == HYP_CF_REFSRC)
			present = c->has_referral_source;
		else
			present = hyp_connect_cview(c,
			    d->slots[i].field)->ptr != NULL;
		if (present)
			nulls |= d->slots[i].bit;
	}

	hyp_wire_put_u8(&w, nulls);
	if (c->layout == HYP_CONNECT_V1) {
		hyp_connect_fixed_put(&w, c->protocol_hash,
		    HYP_PROTOCOL_HASH_LEN);
		hyp_wire_put_u8(&w, c->client_type);
	} else {
		hyp_wire_put_le32(&w, (uint32_t)c->protocol_crc);
		hyp_wire_put_le32(&w, (uint32_t)c->build);
		hyp_connect_fixed_put(&w, c->client_version,
		    HYP_CLIENT_VERSION_LEN);
		hyp_wire_put_u8(&w, c->client_type);
	}
	if (c->layout != HYP_CONNECT_V3)
		hyp_wire_put(&w, c->has_uuid ? c->uuid : zero, 16);
	for (i = 0; i < d->nslots; i++)
		slot[i] = hyp_wire_slot_reserve(&w);

	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i].field == HYP_CF_REFSRC) {
			if (!c->has_referral_source)
				continue;
			hyp_wire_slot_here(&w, slot[i], d->varblock);
			hyp_wire_put_host(&w, &c->referral_source);
			continue;
		}
		view = hyp_connect_cview(c, d->slots[i].field);
		if (view->ptr == NULL)
			continue;
		hyp_wire_slot_here(&w, slot[i], d->varblock);
		hyp_wire_put_bytes(&w, view);
	}
	return (hyp_wire_result(&w));
}
