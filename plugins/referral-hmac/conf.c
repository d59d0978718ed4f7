/*
 * conf.c: the referral-hmac plugin's configuration schema, its defaults
 * and its semantic checks.  libcyaml 1.3 has neither defaults nor ranges,
 * so every optional value is a pointer (NULL when absent) checked here.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "referral.h"

static const cyaml_schema_field_t key_fields[] = {
	CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER, struct rh_conf_key,
	    id, 1, HYP_TICKET_KID_MAX),
	CYAML_FIELD_STRING_PTR("secret", CYAML_FLAG_POINTER, struct rh_conf_key,
	    secret, 1, RH_SECRET_REF_MAX),
	CYAML_FIELD_STRING_PTR("valid_from", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct rh_conf_key, valid_from, 1, RH_TIME_MAX),
	CYAML_FIELD_STRING_PTR("valid_to", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct rh_conf_key, valid_to, 1, RH_TIME_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t key_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct rh_conf_key, key_fields),
};

#define RH_STR(k, m, max)						\
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    struct rh_conf, m, 1, max)

static const cyaml_schema_field_t rh_fields[] = {
	CYAML_FIELD_SEQUENCE("keys", CYAML_FLAG_POINTER, struct rh_conf, keys,
	    &key_schema, 1, RH_KEYS_MAX),
	RH_STR("ttl", ttl, 32),
	RH_STR("scope", scope, 16),
	CYAML_FIELD_BOOL_PTR("bind_address", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct rh_conf, bind_address),
	RH_STR("encoding", encoding, 16),
	CYAML_FIELD_END
};

const cyaml_schema_value_t rh_conf_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct rh_conf, rh_fields),
};

/* Parse exactly n decimal digits at s. */
static int
digits(const char *s, int n, int *out)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (HYP_EINVAL);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (UTC only) into unix seconds. */
int
rh_time_parse(const char *s, uint64_t *out)
{
	struct tm	tm, back;
	time_t		t;
	int		y, mo, d, h, mi, sec;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    (s[19] != 'Z' && s[19] != 'z'))
		return (HYP_EINVAL);
	if (digits(s, 4, &y) != 0 || digits(s + 5, 2, &mo) != 0 ||
	    digits(s + 8, 2, &d) != 0 || digits(s + 11, 2, &h) != 0 ||
	    digits(s + 14, 2, &mi) != 0 || digits(s + 17, 2, &sec) != 0)
		return (HYP_EINVAL);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		return (HYP_EINVAL);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return (HYP_EINVAL);
	/* Refuse dates that do not exist (February 30th). */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d ||
	    back.tm_mon != mo - 1)
		return (HYP_EINVAL);
	*out = (uint64_t)t;
	return (0);
}

/* Name of a ticket scope. */
const char *
rh_scope_name(uint8_t scope)
{
	switch (scope) {
	case HYP_TICKET_SCOPE_GLOBAL:
		return ("global");
	case HYP_TICKET_SCOPE_POOL:
		return ("pool");
	default:
		return ("backend");
	}
}

/* Whether a key id uses only [A-Za-z0-9._-]. */
static int
kid_ok(const char *id)
{
	const char	*c;

	for (c = id; *c != '\0'; c++) {
		if ((*c < 'a' || *c > 'z') && (*c < 'A' || *c > 'Z') &&
		    (*c < '0' || *c > '9') && *c != '.' && *c != '_' &&
		    *c != '-')
			return (0);
	}
	return (c != id && c - id <= HYP_TICKET_KID_MAX);
}

/* Check one timestamp key of keys[i]. */
static int
conf_time(unsigned i, const char *key, const char *s, uint64_t *out,
    char *err, size_t errlen)
{
	*out = 0;
	if (s == NULL)
		return (0);
	if (rh_time_parse(s, out) != 0) {
		snprintf(err, errlen, "keys[%u].%s: '%s' is not an RFC 3339 "
		    "UTC timestamp like 2026-11-22T00:00:00Z", i, key, s);
		return (HYP_ECONFIG);
	}
	if (*out == 0) {
		snprintf(err, errlen, "keys[%u].%s: '%s' is the epoch; leave "
		    "the key out for an unbounded window", i, key, s);
		return (HYP_ECONFIG);
	}
	return (0);
}

/* Check keys[] and fill out->keys. */
static int
conf_keys(const struct rh_conf *c, uint64_t now, struct rh_settings *out,
    char *err, size_t errlen)
{
	const struct rh_conf_key	*ck;
	struct rh_key			*k;
	unsigned			 i, j, usable = 0;
	int				 rc;

	if (c->keys == NULL || c->keys_count == 0) {
		snprintf(err, errlen, "keys: at least one key is needed");
		return (HYP_ECONFIG);
	}
	if (c->keys_count > RH_KEYS_MAX) {
		snprintf(err, errlen, "keys: %u keys, at most %d are allowed",
		    c->keys_count, RH_KEYS_MAX);
		return (HYP_ERANGE);
	}
	for (i = 0; i < c->keys_count; i++) {
		ck = &c->keys[i];
		k = &out->keys[i];
		if (!kid_ok(ck->id)) {
			snprintf(err, errlen, "keys[%u].id: '%s' must be 1 to "
			    "%d characters of A-Z a-z 0-9 . _ -", i, ck->id,
			    HYP_TICKET_KID_MAX);
			return (HYP_ECONFIG);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(out->keys[j].id, ck->id) == 0) {
				snprintf(err, errlen, "keys[%u].id: '%s' is "
				    "already used by keys[%u]", i, ck->id, j);
				return (HYP_EEXIST);
			}
		}
		if (!hyp_secret_is_ref(ck->secret)) {
			/* Never repeat the value: it may be the secret. */
			snprintf(err, errlen, "keys[%u].secret: must be a "
			    "secret reference (env:NAME or file:PATH), never "
			    "inline", i);
			return (HYP_ESECRET);
		}
		k->id = ck->id;
		k->secret = ck->secret;
		if ((rc = conf_time(i, "valid_from", ck->valid_from,
		    &k->valid_from, err, errlen)) != 0 ||
		    (rc = conf_time(i, "valid_to", ck->valid_to, &k->valid_to,
		    err, errlen)) != 0)
			return (rc);
		if (k->valid_from != 0 && k->valid_to != 0 &&
		    k->valid_from >= k->valid_to) {
			snprintf(err, errlen, "keys[%u].valid_to: %s is not "
			    "after valid_from (%s)", i, ck->valid_to,
			    ck->valid_from);
			return (HYP_ECONFIG);
		}
		if (k->valid_to == 0 || k->valid_to >= now) {
			usable++;
			if (k->valid_from <= now)
				out->valid_now++;
		}
	}
	out->nkeys = c->keys_count;
	if (usable == 0) {
		snprintf(err, errlen, "keys: every key's valid_to has passed; "
		    "add a key valid now or in the future");
		return (HYP_ECONFIG);
	}
	return (0);
}

/* Build the effective settings from a loaded configuration. */
int
rh_settings_make(const struct rh_conf *c, uint64_t now,
    struct rh_settings *out, char *err, size_t errlen)
{
	uint32_t	ms;
	int		rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if ((rc = conf_keys(c, now, out, err, errlen)) != 0)
		return (rc);
	out->ttl = RH_TTL_DEF;
	if (c->ttl != NULL) {
		/* Whole seconds only: a ticket's ttl is in seconds. */
		rc = hyp_duration_parse(c->ttl, RH_TTL_MAX * 1000, &ms);
		if (rc == HYP_EINVAL || (rc == 0 && ms % 1000 != 0)) {
			snprintf(err, errlen, "ttl: invalid duration '%s' "
			    "(expected e.g. 30s, 2m, 1h)", c->ttl);
			return (HYP_ECONFIG);
		}
		if (rc != 0 || ms < RH_TTL_MIN * 1000) {
			snprintf(err, errlen, "ttl: %s is outside 1s .. 1h",
			    c->ttl);
			return (HYP_ERANGE);
		}
		out->ttl = ms / 1000;
	}
	if (c->scope == NULL || strcmp(c->scope, "backend") == 0)
		out->scope = HYP_TICKET_SCOPE_BACKEND;
	else if (strcmp(c->scope, "pool") == 0)
		out->scope = HYP_TICKET_SCOPE_POOL;
	else if (strcmp(c->scope, "global") == 0)
		out->scope = HYP_TICKET_SCOPE_GLOBAL;
	else {
		snprintf(err, errlen, "scope: unknown value '%s' (expected "
		    "backend, pool or global)", c->scope);
		return (HYP_ECONFIG);
	}
	out->bind_address = c->bind_address != NULL && *c->bind_address;
	if (c->encoding == NULL || strcmp(c->encoding, "raw") == 0)
		out->encoding = RH_ENC_RAW;
	else if (strcmp(c->encoding, "base64") == 0)
		out->encoding = RH_ENC_BASE64;
	else {
		snprintf(err, errlen, "encoding: unknown value '%s' (expected "
		    "raw or base64)", c->encoding);
		return (HYP_ECONFIG);
	}
	return (0);
}

/* The descriptor's conf_check: build the settings, warn, discard them. */
int
rh_conf_check(const void *conf, char *err, size_t errlen)
{
	struct rh_settings	set;
	int			rc;

	if ((rc = rh_settings_make(conf, (uint64_t)time(NULL), &set, err,
	    errlen)) != 0)
		return (rc);
	if (set.valid_now == 0)
		hyp_log(NULL, HYP_LOG_WARNING, "referral-hmac: keys: no key "
		    "is valid now, so no ticket can be issued (players are "
		    "disconnected) until a key's valid_from is reached");
	return (0);
}
