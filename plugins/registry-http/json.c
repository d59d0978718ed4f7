/*
 * json.c: strict JSON request bodies.  YAML is a superset of JSON, so a
 * body goes through three passes: an RFC 8259 syntax check (which also
 * refuses everything YAML would add: comments, anchors, aliases, tags,
 * single quotes, trailing commas, unquoted keys, raw control characters
 * in strings, NUL escapes, bad UTF-8, nesting beyond REG_MAX_DEPTH); a
 * pass over libyaml's events that checks them against the libcyaml schema
 * (types as JSON sees them, unknown and duplicate fields, required
 * fields, lengths); then libcyaml's own load into the C structure.  Pure
 * logic: also compiled into the unit test and the fuzz target.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "registry.h"

/* ---- request body schemas ---- */

static const cyaml_schema_value_t tag_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, REG_TAG_MAX),
};

#define RB_OPT		(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)

static const cyaml_schema_field_t register_fields[] = {
	CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER,
	    struct reg_body_register, id, 1, REG_ID_MAX),
	CYAML_FIELD_STRING_PTR("pool", CYAML_FLAG_POINTER,
	    struct reg_body_register, pool, 1, REG_ID_MAX),
	CYAML_FIELD_STRING_PTR("host", CYAML_FLAG_POINTER,
	    struct reg_body_register, host, 1, REG_HOST_MAX),
	CYAML_FIELD_UINT_PTR("port", CYAML_FLAG_POINTER,
	    struct reg_body_register, port),
	CYAML_FIELD_UINT_PTR("weight", RB_OPT, struct reg_body_register,
	    weight),
	CYAML_FIELD_UINT_PTR("max_players", RB_OPT, struct reg_body_register,
	    max_players),
	CYAML_FIELD_SEQUENCE("tags", RB_OPT, struct reg_body_register, tags,
	    &tag_entry, 0, REG_MAX_TAGS),
	CYAML_FIELD_UINT_PTR("ttl_seconds", RB_OPT, struct reg_body_register,
	    ttl_seconds),
	CYAML_FIELD_END
};

const cyaml_schema_value_t reg_register_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reg_body_register,
	    register_fields),
};

static const cyaml_schema_field_t heartbeat_fields[] = {
	CYAML_FIELD_UINT_PTR("players", CYAML_FLAG_POINTER,
	    struct reg_body_heartbeat, players),
	CYAML_FIELD_UINT_PTR("max_players", RB_OPT, struct reg_body_heartbeat,
	    max_players),
	CYAML_FIELD_STRING_PTR("state", RB_OPT, struct reg_body_heartbeat,
	    state, 1, 16),
	CYAML_FIELD_END
};

const cyaml_schema_value_t reg_heartbeat_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reg_body_heartbeat,
	    heartbeat_fields),
};

static const cyaml_schema_field_t empty_fields[] = {
	CYAML_FIELD_END
};

const cyaml_schema_value_t reg_empty_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reg_body_empty,
	    empty_fields),
};

static const cyaml_schema_field_t file_entry_fields[] = {
	CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER,
	    struct reg_file_entry, id, 1, REG_ID_MAX),
	CYAML_FIELD_STRING_PTR("pool", CYAML_FLAG_POINTER,
	    struct reg_file_entry, pool, 1, REG_ID_MAX),
	CYAML_FIELD_STRING_PTR("host", CYAML_FLAG_POINTER,
	    struct reg_file_entry, host, 1, REG_HOST_MAX),
	CYAML_FIELD_UINT_PTR("port", CYAML_FLAG_POINTER,
	    struct reg_file_entry, port),
	CYAML_FIELD_UINT_PTR("weight", RB_OPT, struct reg_file_entry, weight),
	CYAML_FIELD_UINT_PTR("max_players", RB_OPT, struct reg_file_entry,
	    max_players),
	CYAML_FIELD_SEQUENCE("tags", RB_OPT, struct reg_file_entry, tags,
	    &tag_entry, 0, REG_MAX_TAGS),
	CYAML_FIELD_UINT_PTR("ttl_ms", CYAML_FLAG_POINTER,
	    struct reg_file_entry, ttl_ms),
	CYAML_FIELD_UINT_PTR("expires_ms", CYAML_FLAG_POINTER,
	    struct reg_file_entry, expires_ms),
	CYAML_FIELD_STRING_PTR("owner", CYAML_FLAG_POINTER,
	    struct reg_file_entry, owner, 1, REG_ID_MAX),
	CYAML_FIELD_BOOL_PTR("drain", RB_OPT, struct reg_file_entry, drain),
	CYAML_FIELD_BOOL_PTR("starting", RB_OPT, struct reg_file_entry,
	    starting),
	CYAML_FIELD_BOOL_PTR("quarantined", RB_OPT, struct reg_file_entry,
	    quarantined),
	CYAML_FIELD_UINT_PTR("players", RB_OPT, struct reg_file_entry,
	    players),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t file_entry_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct reg_file_entry,
	    file_entry_fields),
};

static const cyaml_schema_field_t file_fields[] = {
	CYAML_FIELD_UINT_PTR("version", CYAML_FLAG_POINTER, struct reg_file,
	    version),
	CYAML_FIELD_SEQUENCE("entries", CYAML_FLAG_POINTER, struct reg_file,
	    entries, &file_entry_schema, 0, REG_DEF_MAX_ENTRIES),
	CYAML_FIELD_END
};

const cyaml_schema_value_t reg_file_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reg_file, file_fields),
};

/* The "error" member for a parser rejection. */
const char *
reg_perr_code(int e)
{
	switch (e) {
	case REG_P_OK:
		return ("ok");
	case REG_P_MALFORMED:
		return ("malformed_json");
	case REG_P_TOO_DEEP:
		return ("too_deep");
	case REG_P_BAD_TYPE:
		return ("bad_type");
	case REG_P_UNKNOWN_FIELD:
		return ("unknown_field");
	case REG_P_DUPLICATE_FIELD:
		return ("duplicate_field");
	case REG_P_MISSING_FIELD:
		return ("missing_field");
	case REG_P_BAD_VALUE:
		return ("bad_value");
	default:
		return ("internal");
	}
}

/* ---- pass 1: RFC 8259 syntax ---- */

struct js {
	const uint8_t	*s;
	size_t		 len;
	size_t		 i;
	int		 maxdepth;
};

/* Skip JSON whitespace. */
static void
js_ws(struct js *j)
{
	while (j->i < j->len && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

/* Whether c is a hex digit. */
static int
js_hex(uint8_t c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* One UTF-8 sequence starting at j->i (not ASCII): shortest form only. */
static int
js_utf8(struct js *j)
{
	const uint8_t	*p = j->s + j->i;
	size_t		 left = j->len - j->i, n, k;
	uint32_t	 cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (REG_P_MALFORMED);
	if (left < n)
		return (REG_P_MALFORMED);
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return (REG_P_MALFORMED);
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (REG_P_MALFORMED);
	j->i += n;
	return (REG_P_OK);
}

/* A string; j->i is at its opening quote. */
static int
js_string(struct js *j)
{
	uint8_t	c;
	int	k, rc;

	j->i++;
	while (j->i < j->len) {
		c = j->s[j->i];
		if (c == '"') {
			j->i++;
			return (REG_P_OK);
		}
		if (c < 0x20)
			return (REG_P_MALFORMED);
		if (c >= 0x80) {
			if ((rc = js_utf8(j)) != REG_P_OK)
				return (rc);
			continue;
		}
		if (c != '\\') {
			j->i++;
			continue;
		}
		if (j->i + 1 >= j->len)
			return (REG_P_MALFORMED);
		c = j->s[j->i + 1];
		if (c == 'u') {
			if (j->i + 6 > j->len)
				return (REG_P_MALFORMED);
			for (k = 2; k < 6; k++) {
				if (!js_hex(j->s[j->i + (size_t)k]))
					return (REG_P_MALFORMED);
			}
			/* NUL would cut a C string short: refused. */
			if (memcmp(j->s + j->i + 2, "0000", 4) == 0)
				return (REG_P_MALFORMED);
			j->i += 6;
			continue;
		}
		if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return (REG_P_MALFORMED);
		j->i += 2;
	}
	return (REG_P_MALFORMED);
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
js_number(struct js *j)
{
	size_t	d;

	if (j->i < j->len && j->s[j->i] == '-')
		j->i++;
	if (j->i >= j->len)
		return (REG_P_MALFORMED);
	if (j->s[j->i] == '0')
		j->i++;
	else if (j->s[j->i] >= '1' && j->s[j->i] <= '9') {
		while (j->i < j->len && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	} else
		return (REG_P_MALFORMED);
	if (j->i < j->len && j->s[j->i] == '.') {
		j->i++;
		for (d = 0; j->i < j->len && j->s[j->i] >= '0' &&
		    j->s[j->i] <= '9'; d++)
			j->i++;
		if (d == 0)
			return (REG_P_MALFORMED);
	}
	if (j->i < j->len && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->len && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		for (d = 0; j->i < j->len && j->s[j->i] >= '0' &&
		    j->s[j->i] <= '9'; d++)
			j->i++;
		if (d == 0)
			return (REG_P_MALFORMED);
	}
	return (REG_P_OK);
}

/* A literal true, false or null. */
static int
js_literal(struct js *j, const char *lit)
{
	size_t	n = strlen(lit);

	if (j->len - j->i < n || memcmp(j->s + j->i, lit, n) != 0)
		return (REG_P_MALFORMED);
	j->i += n;
	return (REG_P_OK);
}

/* One value at nesting depth (0 outside any container). */
static int
js_value(struct js *j, int depth)
{
	uint8_t	open, close;
	int	rc, first;

	js_ws(j);
	if (j->i >= j->len)
		return (REG_P_MALFORMED);
	switch (j->s[j->i]) {
	case '{':
	case '[':
		break;
	case '"':
		return (js_string(j));
	case 't':
		return (js_literal(j, "true"));
	case 'f':
		return (js_literal(j, "false"));
	case 'n':
		return (js_literal(j, "null"));
	default:
		if (j->s[j->i] == '-' || (j->s[j->i] >= '0' &&
		    j->s[j->i] <= '9'))
			return (js_number(j));
		return (REG_P_MALFORMED);
	}
	if (depth + 1 > j->maxdepth)
		return (REG_P_TOO_DEEP);
	open = j->s[j->i++];
	close = open == '{' ? '}' : ']';
	for (first = 1;; first = 0) {
		js_ws(j);
		if (j->i >= j->len)
			return (REG_P_MALFORMED);
		if (first && j->s[j->i] == close) {
			j->i++;
			return (REG_P_OK);
		}
		if (open == '{') {
			if (j->s[j->i] != '"')
				return (REG_P_MALFORMED);
			if ((rc = js_string(j)) != REG_P_OK)
				return (rc);
			js_ws(j);
			if (j->i >= j->len || j->s[j->i] != ':')
				return (REG_P_MALFORMED);
			j->i++;
		}
		if ((rc = js_value(j, depth + 1)) != REG_P_OK)
			return (rc);
		js_ws(j);
		if (j->i >= j->len)
			return (REG_P_MALFORMED);
		if (j->s[j->i] == close) {
			j->i++;
			return (REG_P_OK);
		}
		if (j->s[j->i] != ',')
			return (REG_P_MALFORMED);
		j->i++;
	}
}

/*
 * Check that s is one JSON object (RFC 8259, UTF-8, nothing after it)
 * nested at most maxdepth deep.  Returns REG_P_OK, REG_P_MALFORMED or
 * REG_P_TOO_DEEP; *where (may be NULL) gets the byte offset of the error.
 */
int
reg_json_syntax(const uint8_t *s, size_t len, int maxdepth, size_t *where)
{
	struct js	j = { s, len, 0, maxdepth };
	int		rc;

	js_ws(&j);
	if (j.i >= len || s[j.i] != '{')
		rc = REG_P_MALFORMED;
	else if ((rc = js_value(&j, 0)) == REG_P_OK) {
		js_ws(&j);
		if (j.i != len)
			rc = REG_P_MALFORMED;
	}
	if (where != NULL)
		*where = j.i;
	return (rc);
}

/* ---- pass 2: libyaml events against the schema ---- */

struct sp {
	yaml_parser_t	 p;
	char		*msg;
	size_t		 msglen;
};

static int	sp_fail(struct sp *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Write "path: message" and return code. */
static int
sp_fail(struct sp *sp, int code, const char *path, const char *fmt, ...)
{
	char	buf[REG_ERRMSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sp->msg != NULL)
		snprintf(sp->msg, sp->msglen, "%s%s%s", path, *path != '\0' ?
		    ": " : "", buf);
	return (code);
}

/* Next event; libyaml errors are malformed input. */
static int
sp_next(struct sp *sp, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&sp->p, ev))
		return (sp_fail(sp, REG_P_MALFORMED, "", "not JSON: %s",
		    sp->p.problem != NULL ? sp->p.problem : "parse error"));
	if (ev->type == YAML_ALIAS_EVENT ||
	    (ev->type == YAML_SCALAR_EVENT && (ev->data.scalar.anchor != NULL ||
	    ev->data.scalar.tag != NULL)) ||
	    (ev->type == YAML_MAPPING_START_EVENT &&
	    (ev->data.mapping_start.anchor != NULL ||
	    ev->data.mapping_start.tag != NULL)) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT &&
	    (ev->data.sequence_start.anchor != NULL ||
	    ev->data.sequence_start.tag != NULL))) {
		yaml_event_delete(ev);
		return (sp_fail(sp, REG_P_MALFORMED, "", "anchors, aliases and "
		    "tags are not JSON"));
	}
	return (REG_P_OK);
}

/* Copy a key for a message: printable ASCII, at most 40 characters. */
static void
sp_key(char *out, size_t cap, const char *k)
{
	size_t	i;

	for (i = 0; k[i] != '\0' && i < 40 && i + 1 < cap; i++)
		out[i] = k[i] >= ' ' && k[i] <= '~' && k[i] != '"' ? k[i] : '?';
	out[i] = '\0';
}

/* JSON's name of what an event holds. */
static const char *
sp_kind(const yaml_event_t *ev)
{
	const char	*v;

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return ("an object");
	case YAML_SEQUENCE_START_EVENT:
		return ("an array");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return ("a string");
		v = (const char *)ev->data.scalar.value;
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
			return ("a boolean");
		if (strcmp(v, "null") == 0)
			return ("null");
		return ("a number");
	default:
		return ("something else");
	}
}

static int	sp_value(struct sp *, const cyaml_schema_value_t *,
		    yaml_event_t *, const char *, int);

/* An integer scalar of data_size bytes, signed or not. */
static int
sp_int(struct sp *sp, const cyaml_schema_value_t *v, const yaml_event_t *ev,
    const char *path)
{
	const char		*s = (const char *)ev->data.scalar.value;
	unsigned long long	 max, val = 0;
	size_t			 i = 0;
	int			 neg = 0;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "null") == 0 || strpbrk(s, ".eE") != NULL)
		return (sp_fail(sp, REG_P_BAD_TYPE, path, "expected an integer, "
		    "got %s", sp_kind(ev)));
	if (s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (strlen(s + i) > 19)
		return (sp_fail(sp, REG_P_BAD_VALUE, path, "out of range"));
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (sp_fail(sp, REG_P_MALFORMED, path, "not a "
			    "JSON number"));
		val = val * 10 + (unsigned long long)(s[i] - '0');
	}
	max = v->data_size >= 8 ? ~0ULL : (1ULL << (8 * v->data_size)) - 1;
	if (v->type == CYAML_INT)
		max >>= 1;
	if ((neg && v->type == CYAML_UINT && val != 0) || val > max)
		return (sp_fail(sp, REG_P_BAD_VALUE, path, "out of range"));
	return (REG_P_OK);
}

/* An object against a mapping schema; ev is its MAPPING_START. */
static int
sp_mapping(struct sp *sp, const cyaml_schema_value_t *v, const char *path,
    int depth)
{
	const cyaml_schema_field_t	*f;
	yaml_event_t			 ev, kev;
	uint64_t			 seen = 0;
	char				 sub[160], key[48];
	size_t				 i;
	int				 rc;

	for (;;) {
		if ((rc = sp_next(sp, &kev)) != REG_P_OK)
			return (rc);
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (kev.type != YAML_SCALAR_EVENT ||
		    kev.data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			yaml_event_delete(&kev);
			return (sp_fail(sp, REG_P_MALFORMED, path, "object keys "
			    "must be strings"));
		}
		sp_key(key, sizeof(key), (const char *)kev.data.scalar.value);
		for (i = 0, f = v->mapping.fields; f->key != NULL; f++, i++) {
			if (strlen(f->key) == kev.data.scalar.length &&
			    strcmp(f->key, (const char *)kev.data.scalar.value)
			    == 0)
				break;
		}
		yaml_event_delete(&kev);
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path != '\0' ?
		    "." : "", key);
		if (f->key == NULL)
			return (sp_fail(sp, REG_P_UNKNOWN_FIELD, sub, "unknown "
			    "field"));
		if (i >= 64)
			return (sp_fail(sp, REG_P_BAD_TYPE, sub, "schema too "
			    "large"));
		if (seen & (1ULL << i))
			return (sp_fail(sp, REG_P_DUPLICATE_FIELD, sub, "given "
			    "twice"));
		seen |= 1ULL << i;
		if ((rc = sp_next(sp, &ev)) != REG_P_OK)
			return (rc);
		rc = sp_value(sp, &f->value, &ev, sub, depth + 1);
		yaml_event_delete(&ev);
		if (rc != REG_P_OK)
			return (rc);
	}
	for (i = 0, f = v->mapping.fields; f->key != NULL; f++, i++) {
		if (!(f->value.flags & CYAML_FLAG_OPTIONAL) &&
		    !(seen & (1ULL << i))) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path != '\0' ?
			    "." : "", f->key);
			return (sp_fail(sp, REG_P_MISSING_FIELD, sub, "required"));
		}
	}
	return (REG_P_OK);
}

/* An array against a sequence schema; ev is its SEQUENCE_START. */
static int
sp_sequence(struct sp *sp, const cyaml_schema_value_t *v, const char *path,
    int depth)
{
	yaml_event_t	ev;
	char		sub[160];
	uint32_t	n;
	int		rc;

	for (n = 0;; n++) {
		if ((rc = sp_next(sp, &ev)) != REG_P_OK)
			return (rc);
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (n >= v->sequence.max) {
			yaml_event_delete(&ev);
			return (sp_fail(sp, REG_P_BAD_VALUE, path, "at most %u "
			    "entries", v->sequence.max));
		}
		snprintf(sub, sizeof(sub), "%s[%u]", path, n);
		rc = sp_value(sp, v->sequence.entry, &ev, sub, depth + 1);
		yaml_event_delete(&ev);
		if (rc != REG_P_OK)
			return (rc);
	}
	if (n < v->sequence.min)
		return (sp_fail(sp, REG_P_BAD_VALUE, path, "at least %u "
		    "entries", v->sequence.min));
	return (REG_P_OK);
}

/* One value (its first event is ev, owned by the caller) against v. */
static int
sp_value(struct sp *sp, const cyaml_schema_value_t *v, yaml_event_t *ev,
    const char *path, int depth)
{
	const char	*s;

	if ((ev->type == YAML_MAPPING_START_EVENT ||
	    ev->type == YAML_SEQUENCE_START_EVENT) && depth > REG_MAX_DEPTH)
		return (sp_fail(sp, REG_P_TOO_DEEP, path, "nested too deep"));
	switch (v->type) {
	case CYAML_MAPPING:
		if (ev->type != YAML_MAPPING_START_EVENT)
			return (sp_fail(sp, REG_P_BAD_TYPE, path, "expected an "
			    "object, got %s", sp_kind(ev)));
		return (sp_mapping(sp, v, path, depth));
	case CYAML_SEQUENCE:
		if (ev->type != YAML_SEQUENCE_START_EVENT)
			return (sp_fail(sp, REG_P_BAD_TYPE, path, "expected an "
			    "array, got %s", sp_kind(ev)));
		return (sp_sequence(sp, v, path, depth));
	case CYAML_STRING:
		if (ev->type != YAML_SCALAR_EVENT ||
		    ev->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			return (sp_fail(sp, REG_P_BAD_TYPE, path, "expected a "
			    "string, got %s", sp_kind(ev)));
		s = (const char *)ev->data.scalar.value;
		if (strlen(s) != ev->data.scalar.length)
			return (sp_fail(sp, REG_P_BAD_VALUE, path, "contains "
			    "NUL"));
		if (ev->data.scalar.length < v->string.min ||
		    ev->data.scalar.length > v->string.max)
			return (sp_fail(sp, REG_P_BAD_VALUE, path, "length must "
			    "be %u .. %u", v->string.min, v->string.max));
		return (REG_P_OK);
	case CYAML_INT:
	case CYAML_UINT:
		return (sp_int(sp, v, ev, path));
	case CYAML_BOOL:
		if (ev->type != YAML_SCALAR_EVENT ||
		    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (strcmp((const char *)ev->data.scalar.value, "true") != 0 &&
		    strcmp((const char *)ev->data.scalar.value, "false") != 0))
			return (sp_fail(sp, REG_P_BAD_TYPE, path, "expected a "
			    "boolean, got %s", sp_kind(ev)));
		return (REG_P_OK);
	default:
		return (sp_fail(sp, REG_P_BAD_TYPE, path, "unsupported type in "
		    "the schema"));
	}
}

/* Pass 2 over a whole document. */
static int
sp_document(const uint8_t *s, size_t len, const cyaml_schema_value_t *schema,
    char *msg, size_t msglen)
{
	struct sp	sp;
	yaml_event_t	ev;
	int		rc, step;

	memset(&sp, 0, sizeof(sp));
	sp.msg = msg;
	sp.msglen = msglen;
	if (!yaml_parser_initialize(&sp.p))
		return (REG_P_NOMEM);
	yaml_parser_set_input_string(&sp.p, s, len);
	rc = REG_P_OK;
	for (step = 0; step < 5 && rc == REG_P_OK; step++) {
		if ((rc = sp_next(&sp, &ev)) != REG_P_OK)
			break;
		switch (step) {
		case 0:
		case 1:
			if (ev.type != (step == 0 ? YAML_STREAM_START_EVENT :
			    YAML_DOCUMENT_START_EVENT))
				rc = sp_fail(&sp, REG_P_MALFORMED, "", "not "
				    "one JSON document");
			break;
		case 2:
			rc = sp_value(&sp, schema, &ev, "", 1);
			break;
		default:
			if (ev.type != (step == 3 ? YAML_DOCUMENT_END_EVENT :
			    YAML_STREAM_END_EVENT))
				rc = sp_fail(&sp, REG_P_MALFORMED, "", "not "
				    "one JSON document");
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&sp.p);
	return (rc);
}

/* ---- pass 3: libcyaml ---- */

static const cyaml_config_t reg_cyaml_cfg = {
	.log_fn = NULL,
	.mem_fn = cyaml_mem,
	.log_level = CYAML_LOG_ERROR,
	.flags = CYAML_CFG_NO_ALIAS,
};

/*
 * Decode a strict JSON object s against schema into *out (free with
 * reg_json_free(); out NULL: check only).  Returns REG_P_OK or a
 * rejection class with one sentence, starting with the field path, in
 * msg.
 */
int
reg_json_decode(const uint8_t *s, size_t len,
    const cyaml_schema_value_t *schema, void **out, char *msg, size_t msglen)
{
	cyaml_data_t	*data = NULL;
	cyaml_err_t	 ce;
	size_t		 where = 0;
	int		 rc;

	if (out != NULL)
		*out = NULL;
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if ((rc = reg_json_syntax(s, len, REG_MAX_DEPTH, &where)) != REG_P_OK) {
		if (msg != NULL && rc == REG_P_TOO_DEEP)
			snprintf(msg, msglen, "nested deeper than %d levels "
			    "(byte %zu)", REG_MAX_DEPTH, where);
		else if (msg != NULL)
			snprintf(msg, msglen, "not a JSON object (error at "
			    "byte %zu)", where);
		return (rc);
	}
	if ((rc = sp_document(s, len, schema, msg, msglen)) != REG_P_OK)
		return (rc);
	if (out == NULL)
		return (REG_P_OK);
	ce = cyaml_load_data(s, len, &reg_cyaml_cfg, schema, &data, NULL);
	if (ce == CYAML_ERR_OOM)
		return (REG_P_NOMEM);
	if (ce != CYAML_OK) {
		if (msg != NULL)
			snprintf(msg, msglen, "rejected: %s", cyaml_strerror(ce));
		return (REG_P_BAD_VALUE);
	}
	*out = data;
	return (REG_P_OK);
}

/* Free what reg_json_decode() returned; NULL is ignored. */
void
reg_json_free(const cyaml_schema_value_t *schema, void *data)
{
	if (data != NULL)
		cyaml_free(&reg_cyaml_cfg, schema, data, 0);
}

/* Load the state file's text. */
int
reg_file_load(const uint8_t *s, size_t len, struct reg_file **out, char *msg,
    size_t msglen)
{
	void	*data;
	int	 rc;

	*out = NULL;
	rc = reg_json_decode(s, len, &reg_file_schema, &data, msg, msglen);
	if (rc == REG_P_OK)
		*out = data;
	return (rc);
}

/* Free a loaded state file. */
void
reg_file_free(struct reg_file *f)
{
	reg_json_free(&reg_file_schema, f);
}
