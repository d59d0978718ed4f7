/*
 * conf.c: the tracer's configuration schema, its defaults and checks, and
 * the packet allowlist (client prefixes, uuids, usernames, packet ids).
 * libcyaml 1.3 has neither defaults nor ranges: optional values are
 * pointers (NULL when absent) checked here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer.h"

static const cyaml_schema_value_t str_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 128),
};

static const cyaml_schema_value_t id_entry = {
	CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, uint32_t),
};

#define TR_SEQ(k, m, e)							\
	CYAML_FIELD_SEQUENCE(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct tr_conf_packets, m, e, 0, TR_LIST_MAX)

static const cyaml_schema_field_t packets_fields[] = {
	TR_SEQ("clients", clients, &str_entry),
	TR_SEQ("uuids", uuids, &str_entry),
	TR_SEQ("usernames", usernames, &str_entry),
	TR_SEQ("packet_ids", packet_ids, &id_entry),
	CYAML_FIELD_BOOL_PTR("payload_hex", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf_packets, payload_hex),
	CYAML_FIELD_UINT_PTR("payload_hex_max", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf_packets, payload_hex_max),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t tr_fields[] = {
	CYAML_FIELD_STRING_PTR("output", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf, output, 1, TR_PATH_MAX),
	CYAML_FIELD_UINT_PTR("ring_size", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf, ring_size),
	CYAML_FIELD_STRING_PTR("ring_dump", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf, ring_dump, 1, TR_PATH_MAX),
	CYAML_FIELD_MAPPING_PTR("packets", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct tr_conf, packets, packets_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t tr_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct tr_conf, tr_fields),
};

/* Write one sentence into err and return rc. */
static int __attribute__((format(printf, 4, 5)))
fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (rc);
}

/* Whether the session's address, uuid or username is on the allowlist. */
int
tr_allow_session(const struct tr_allow *a, const hyp_session_t *s)
{
	const struct hyp_connect	*c;
	const struct sockaddr		*sa;
	socklen_t			 len;
	unsigned			 i;

	sa = hyp_session_peer(s, &len);
	for (i = 0; i < a->nclients; i++)
		if (hyp_cidr_match(&a->clients[i], sa))
			return (1);
	if ((c = hyp_session_connect(s)) == NULL)
		return (0);
	if (c->has_uuid)
		for (i = 0; i < a->nuuids; i++)
			if (memcmp(a->uuids[i], c->uuid, 16) == 0)
				return (1);
	if (c->username.ptr != NULL)
		for (i = 0; i < a->nusernames; i++)
			if (strlen(a->usernames[i]) == c->username.len &&
			    strncasecmp(a->usernames[i],
			    (const char *)c->username.ptr,
			    c->username.len) == 0)
				return (1);
	return (0);
}

/* Whether packet id is traced (an empty packet_ids list traces every id). */
int
tr_allow_id(const struct tr_allow *a, uint32_t id)
{
	unsigned	i;

	if (a->nids == 0)
		return (1);
	for (i = 0; i < a->nids; i++)
		if (a->ids[i] == id)
			return (1);
	return (0);
}

/*
 * Whether a packet id's payload carries credentials or referral data and
 * is never written as hex: Connect (identity token, referral data),
 * AuthGrant, AuthToken, ServerAuthToken (grants and tokens),
 * PasswordResponse and ClientReferral (the ticket).
 */
int
tr_hex_forbidden(uint32_t id)
{
	switch (id) {
	case HYP_PKT_CONNECT:
	case 11:	/* AuthGrant */
	case 12:	/* AuthToken */
	case 13:	/* ServerAuthToken */
	case 15:	/* PasswordResponse */
	case HYP_PKT_CLIENT_REFERRAL:
		return (1);
	default:
		return (0);
	}
}

/* Fill the allowlist from packets:. */
static int
allow_make(const struct tr_conf_packets *p, struct tr_allow *a, char *err,
    size_t errlen)
{
	unsigned	i;

	a->payload_hex_max = TR_HEX_DEF;
	if (p == NULL)
		return (0);
	for (i = 0; i < p->clients_count; i++)
		if (hyp_cidr_parse(p->clients[i], &a->clients[i]) != 0)
			return (fail(HYP_ECONFIG, err, errlen, "packets.clients"
			    "[%u]: '%s' is not an address or address/prefix",
			    i, p->clients[i]));
	a->nclients = p->clients_count;
	for (i = 0; i < p->uuids_count; i++)
		if (strlen(p->uuids[i]) != 36 ||
		    hyp_uuid_parse(p->uuids[i], a->uuids[i]) != 0)
			return (fail(HYP_ECONFIG, err, errlen, "packets.uuids"
			    "[%u]: '%s' is not a uuid (8-4-4-4-12 hex digits)",
			    i, p->uuids[i]));
	a->nuuids = p->uuids_count;
	for (i = 0; i < p->usernames_count; i++) {
		if (strlen(p->usernames[i]) > HYP_USERNAME_MAX)
			return (fail(HYP_ECONFIG, err, errlen, "packets."
			    "usernames[%u]: longer than %d bytes", i,
			    HYP_USERNAME_MAX));
		a->usernames[i] = p->usernames[i];
	}
	a->nusernames = p->usernames_count;
	for (i = 0; i < p->packet_ids_count; i++) {
		if (p->packet_ids[i] > INT32_MAX)
			return (fail(HYP_ECONFIG, err, errlen, "packets."
			    "packet_ids[%u]: %u is not a packet id", i,
			    p->packet_ids[i]));
		a->ids[i] = p->packet_ids[i];
	}
	a->nids = p->packet_ids_count;
	a->payload_hex = p->payload_hex != NULL && *p->payload_hex;
	if (p->payload_hex_max != NULL) {
		if (*p->payload_hex_max < 1 || *p->payload_hex_max > TR_HEX_MAX)
			return (fail(HYP_ECONFIG, err, errlen, "packets."
			    "payload_hex_max: %u is out of range 1..%d",
			    *p->payload_hex_max, TR_HEX_MAX));
		a->payload_hex_max = *p->payload_hex_max;
	}
	return (0);
}

/* Build the effective settings of c; 0 or a code with one sentence. */
int
tr_settings_make(const struct tr_conf *c, struct tr_settings *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL || c->output == NULL || strcmp(c->output, "stderr") == 0)
		out->output = TR_OUT_STDERR;
	else if (strcmp(c->output, "none") == 0)
		out->output = TR_OUT_NONE;
	else {
		out->output = TR_OUT_FILE;
		out->path = c->output;
	}
	if (c != NULL && c->ring_size != NULL) {
		if (*c->ring_size > TR_RING_MAX)
			return (fail(HYP_ECONFIG, err, errlen, "ring_size: %u "
			    "is out of range 0..%d", *c->ring_size,
			    TR_RING_MAX));
		out->ring_size = *c->ring_size;
	}
	if (c != NULL)
		out->ring_dump = c->ring_dump;
	if (out->ring_size > 0 && out->ring_dump == NULL)
		return (fail(HYP_ECONFIG, err, errlen, "ring_dump: required "
		    "when ring_size is set (the file SIGUSR2 dumps the ring "
		    "into)"));
	if (out->output == TR_OUT_NONE && out->ring_size == 0)
		return (fail(HYP_ECONFIG, err, errlen, "output: 'none' without "
		    "a ring_size keeps no event at all"));
	return (allow_make(c != NULL ? c->packets : NULL, &out->allow, err,
	    errlen));
}

/* The descriptor's conf_check. */
int
tr_conf_check(const void *conf, char *err, size_t errlen)
{
	struct tr_settings	*set;
	int			 rc;

	if ((set = malloc(sizeof(*set))) == NULL)
		return (HYP_ENOMEM);
	rc = tr_settings_make(conf, set, err, errlen);
	free(set);
	return (rc);
}
