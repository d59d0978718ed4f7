/*
 * libFuzzer target: the registry's strict JSON request parser
 * (plugins/registry-http/json.c): the syntax check, the schema pass over
 * libyaml's events and the libcyaml decode, for every request schema and
 * the state file.  A decode that succeeds must have passed the syntax
 * check and must fill every required field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode with one schema; abort() on a broken invariant. */
static void
fz_one(const uint8_t *data, size_t size, const cyaml_schema_value_t *schema,
    int which)
{
	struct reg_body_register	*rb;
	struct reg_body_heartbeat	*hb;
	struct reg_file			*f;
	void				*out = NULL;
	char				 msg[REG_ERRMSG_MAX];
	unsigned			 i;
	int				 rc;

	rc = reg_json_decode(data, size, schema, &out, msg, sizeof(msg));
	if (rc < REG_P_OK || rc > REG_P_NOMEM)
		abort();
	if (rc != REG_P_OK) {
		if (out != NULL || strlen(msg) >= sizeof(msg))
			abort();
		return;
	}
	if (out == NULL || reg_json_syntax(data, size, REG_MAX_DEPTH,
	    NULL) != REG_P_OK)
		abort();
	switch (which) {
	case 0:
		rb = out;
		if (rb->id == NULL || rb->pool == NULL || rb->host == NULL ||
		    rb->port == NULL || strlen(rb->id) > REG_ID_MAX ||
		    strlen(rb->host) > REG_HOST_MAX || rb->tags_count >
		    REG_MAX_TAGS)
			abort();
		for (i = 0; i < rb->tags_count; i++) {
			if (rb->tags[i] == NULL || strlen(rb->tags[i]) == 0 ||
			    strlen(rb->tags[i]) > REG_TAG_MAX)
				abort();
		}
		break;
	case 1:
		hb = out;
		if (hb->players == NULL)
			abort();
		break;
	case 3:
		f = out;
		if (f->version == NULL || (f->entries_count > 0 &&
		    f->entries == NULL))
			abort();
		for (i = 0; i < f->entries_count; i++) {
			if (f->entries[i].id == NULL ||
			    f->entries[i].expires_ms == NULL ||
			    f->entries[i].owner == NULL)
				abort();
		}
		break;
	default:
		break;
	}
	reg_json_free(schema, out);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*exact;
	size_t	 where;
	int	 rc;

	if (size > 65536)
		return (0);
	/* An exact-size copy, so a read past the end is caught. */
	if ((exact = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(exact, data, size);
	rc = reg_json_syntax(exact, size, REG_MAX_DEPTH, &where);
	if ((rc != REG_P_OK && rc != REG_P_MALFORMED && rc != REG_P_TOO_DEEP) ||
	    where > size)
		abort();
	fz_one(exact, size, &reg_register_schema, 0);
	fz_one(exact, size, &reg_heartbeat_schema, 1);
	if (reg_json_decode(exact, size, &reg_empty_schema, NULL, NULL, 0) ==
	    REG_P_OK && rc != REG_P_OK)
		abort();
	fz_one(exact, size, &reg_file_schema, 3);
	free(exact);
	return (0);
}
