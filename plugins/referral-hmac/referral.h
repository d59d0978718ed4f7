/*
 * referral.h: internal interfaces of the referral-hmac plugin (signed
 * tickets in ClientReferral.data).  Nothing here crosses the ABI.
 */
#ifndef REFERRAL_HMAC_H
#define REFERRAL_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/hyprox.h>

/* ---- conf.c: schema, defaults and checks ---- */

#define RH_KEYS_MAX		16	/* keys[] entries (the keyring's bound) */
#define RH_TTL_DEF		30	/* seconds */
#define RH_TTL_MIN		1
#define RH_TTL_MAX		3600
#define RH_EXT_CAP		1024	/* extension bytes offered to the hook */
#define RH_TIME_MAX		32	/* characters of an RFC 3339 timestamp */
#define RH_SECRET_REF_MAX	4096	/* characters of a secret reference */

/** Encodings of the ticket in referralData. */
enum rh_encoding {
	RH_ENC_RAW = 0,		/* the ticket bytes as they are */
	RH_ENC_BASE64,		/* standard base64 with padding (RFC 4648 §4) */
};

/** One keys[] entry as libcyaml loads it (NULL: key absent). */
struct rh_conf_key {
	char		*id;
	char		*secret;
	char		*valid_from;
	char		*valid_to;
};

/** The plugin's file as libcyaml loads it. */
struct rh_conf {
	struct rh_conf_key	*keys;
	unsigned		 keys_count;
	char			*ttl;
	char			*scope;
	int			*bind_address;
	char			*encoding;
};

/** One key after checks (strings point into the loaded conf). */
struct rh_key {
	const char	*id;
	const char	*secret;	/* the reference, never the bytes */
	uint64_t	 valid_from;	/* unix seconds; 0: unbounded */
	uint64_t	 valid_to;	/* unix seconds; 0: unbounded */
};

/** Effective settings of one configuration. */
struct rh_settings {
	struct rh_key	 keys[RH_KEYS_MAX];
	unsigned	 nkeys;
	uint32_t	 ttl;		/* seconds */
	uint8_t		 scope;		/* enum hyp_ticket_scope */
	int		 bind_address;
	int		 encoding;	/* enum rh_encoding */
	unsigned	 valid_now;	/* keys valid at the time of the check */
};

extern const cyaml_schema_value_t rh_conf_schema;

/**
 * Build the settings of c as of time now; 0, or a negative code with one
 * sentence in err starting with the key path.
 */
int	rh_settings_make(const struct rh_conf *c, uint64_t now,
	    struct rh_settings *out, char *err, size_t errlen);

/** The descriptor's conf_check. */
int	rh_conf_check(const void *conf, char *err, size_t errlen);

/**
 * Parse an RFC 3339 UTC timestamp "2026-11-22T00:00:00Z" into unix
 * seconds; 0 or HYP_EINVAL.
 */
int	rh_time_parse(const char *s, uint64_t *out);

/** Name of a scope ("backend", "pool", "global"). */
const char *rh_scope_name(uint8_t scope);

#endif /* REFERRAL_HMAC_H */
