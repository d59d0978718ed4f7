/*
 * Referral tickets (libhyprox): format v1, signing, and verification for
 * backends.  The byte layout is documented in doc/ticket.md; every
 * multi-byte integer is big-endian (network order).
 *
 *   off  size      field
 *   0    4         magic "HYPT"
 *   4    1         version (1)
 *   5    1         flags: 0x01 address bound, 0x02 extensions; others 0
 *   6    1         key id length K (1..32)
 *   7    K         key id, ASCII [A-Za-z0-9._-]
 *   +0   8         issued_at, unix seconds (u64)
 *   +8   4         ttl, seconds (u32, 1..86400)
 *   +12  16        nonce (random)
 *   +28  1         scope: 0 global, 1 pool, 2 backend
 *   +29  1         scope id length S (0 for global, else 1..64)
 *   +30  S         scope id
 *   ..   1         target backend id length T (1..64)
 *   ..   T         target backend id
 *   ..   16        client uuid (as in Connect; all zero when unknown)
 *   ..   1+4|1+16  [flags 0x01] address family (4 or 6) and address
 *   ..   2+E       [flags 0x02] extension length E (u16, ≥ 1) and bytes:
 *                  TLV entries (u8 type, u8 length, data)
 *   ..   32        HMAC-SHA256(key, every byte before it)
 *
 * Total ≤ HYP_TICKET_MAX (4096, the ClientReferral data limit).
 */
#ifndef HYPROX_TICKET_H
#define HYPROX_TICKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_TICKET_MAGIC	"HYPT"
#define HYP_TICKET_VERSION	1
#define HYP_TICKET_MAX		4096
#define HYP_TICKET_MAC_LEN	32
#define HYP_TICKET_NONCE_LEN	16
#define HYP_TICKET_KID_MAX	32
#define HYP_TICKET_ID_MAX	64	/**< Scope id and target backend id. */
#define HYP_TICKET_TTL_MAX	86400
#define HYP_TICKET_KEY_MIN	32	/**< Shorter HMAC keys are refused. */

#define HYP_TICKET_F_ADDR	0x01
#define HYP_TICKET_F_EXT	0x02

/** Ticket scopes. */
enum hyp_ticket_scope {
	HYP_TICKET_SCOPE_GLOBAL = 0,	/**< Any backend with the key. */
	HYP_TICKET_SCOPE_POOL = 1,	/**< Any backend of pool scope_id. */
	HYP_TICKET_SCOPE_BACKEND = 2,	/**< Only backend scope_id. */
};

/* Extension TLV types. */
#define HYP_TICKET_EXT_TRACE_ID	1	/**< Correlation (session) id, for logs. */
#define HYP_TICKET_EXT_PRIVATE	0x80	/**< 0x80..0xff: private use. */

/* Verification failures: each has its own code and hyp_strerror() text. */
#define HYP_ETICKET_FORMAT	(-1100)	/**< Malformed or truncated ticket. */
#define HYP_ETICKET_MAGIC	(-1101)	/**< Not a hyprox ticket (bad magic). */
#define HYP_ETICKET_VERSION	(-1102)	/**< Unsupported ticket version. */
#define HYP_ETICKET_KEY_UNKNOWN	(-1103)	/**< Key id not in the keyring. */
#define HYP_ETICKET_KEY_RETIRED	(-1104)	/**< Key outside its validity window. */
#define HYP_ETICKET_MAC		(-1105)	/**< Signature mismatch (tampered or wrong key). */
#define HYP_ETICKET_NOT_YET	(-1106)	/**< Issued in the future beyond the skew. */
#define HYP_ETICKET_EXPIRED	(-1107)	/**< issued_at + ttl (+ skew) has passed. */
#define HYP_ETICKET_SCOPE	(-1108)	/**< Scope does not include this backend/pool. */
#define HYP_ETICKET_TARGET	(-1109)	/**< Issued for another backend. */
#define HYP_ETICKET_UUID	(-1110)	/**< Issued for another player. */
#define HYP_ETICKET_ADDRESS	(-1111)	/**< Bound to another client address. */
#define HYP_ETICKET_REPLAYED	(-1112)	/**< Nonce already used. */
#define HYP_ETICKET_REPLAY_FULL	(-1113)	/**< Replay cache full: refused, fail closed. */
#define HYP_ETICKET_KEY_SHORT	(-1114)	/**< HMAC key shorter than 32 bytes. */
#define HYP_ETICKET_TOO_BIG	(-1115)	/**< Encoded ticket would exceed 4096 bytes. */

/** A ticket's fields (decoded, or to be signed). */
struct hyp_ticket {
	char		 kid[HYP_TICKET_KID_MAX + 1];
	uint64_t	 issued_at;
	uint32_t	 ttl;
	uint8_t		 nonce[HYP_TICKET_NONCE_LEN];
	uint8_t		 scope;				/**< enum hyp_ticket_scope */
	char		 scope_id[HYP_TICKET_ID_MAX + 1];
	char		 target[HYP_TICKET_ID_MAX + 1];
	uint8_t		 uuid[16];
	int		 has_addr;
	uint8_t		 addr_family;			/**< 4 or 6 */
	uint8_t		 addr[16];
	const uint8_t	*ext;		/**< View (decode: into the ticket buffer); NULL: none. */
	size_t		 ext_len;
};

/**
 * Encode and sign t with key (≥ 32 bytes) into out.  The nonce is taken
 * from t as is (callers fill it with randombytes_buf()).
 * @return the ticket length, HYP_ETICKET_KEY_SHORT, HYP_EINVAL for a field
 * out of its limits, HYP_ETICKET_TOO_BIG, HYP_ENOSPC.
 */
int	hyp_ticket_sign(const struct hyp_ticket *t, const uint8_t *key,
	    size_t keylen, uint8_t *out, size_t cap);

/**
 * Decode a ticket without checking its signature (for inspection).
 * Views in out point into buf.  @return 0 or HYP_ETICKET_FORMAT/MAGIC/VERSION.
 */
int	hyp_ticket_parse(const uint8_t *buf, size_t len, struct hyp_ticket *out);

/** Opaque set of verification keys; owned by its creator. */
typedef struct hyp_keyring hyp_keyring_t;

/** A new, empty keyring, or NULL when out of memory. */
hyp_keyring_t	*hyp_keyring_new(void);

/**
 * Add a key (secret copied, wiped on free).  valid_from/valid_to are unix
 * seconds; 0 means unbounded on that side.  Tickets are accepted only while
 * now lies within [valid_from, valid_to]; the same window decides which key
 * signs (the valid one with the latest valid_from).
 * @return 0, HYP_ETICKET_KEY_SHORT, HYP_EINVAL (bad id or window),
 * HYP_EEXIST, HYP_ENOSPC (more than 16 keys), HYP_ENOMEM.
 */
int		 hyp_keyring_add(hyp_keyring_t *kr, const char *kid,
		    const uint8_t *secret, size_t len, uint64_t valid_from,
		    uint64_t valid_to);

/**
 * The key that signs at time now: its id and secret are borrowed from the
 * keyring.  @return 0 or HYP_ENOENT when no key is valid now.
 */
int		 hyp_keyring_signing_key(const hyp_keyring_t *kr, uint64_t now,
		    const char **kid, const uint8_t **secret, size_t *len);

/** Wipe and free; NULL is ignored. */
void		 hyp_keyring_free(hyp_keyring_t *kr);

/** Opaque bounded nonce replay cache; owned by its creator. */
typedef struct hyp_replay hyp_replay_t;

/**
 * A replay cache for up to capacity live nonces.  Entries expire when
 * their ticket does (plus skew).  When full of live entries it refuses new
 * tickets (HYP_ETICKET_REPLAY_FULL) rather than forget one: size it as
 * tickets per second × ttl.
 */
hyp_replay_t	*hyp_replay_new(size_t capacity);

/** Free; NULL is ignored. */
void		 hyp_replay_free(hyp_replay_t *rc);

/** Live entries now. */
size_t		 hyp_replay_count(const hyp_replay_t *rc);

/** What a backend checks. */
struct hyp_ticket_verify_opts {
	const char		*backend_id;	/**< This backend's id (required). */
	const char		*pool_id;	/**< Its pool, for pool-scoped tickets (may be NULL). */
	const uint8_t		*uuid;		/**< Connect's uuid; NULL: not checked. */
	const struct sockaddr	*peer;		/**< Client address; NULL: binding not checked. */
	uint64_t		 now;		/**< Unix seconds; 0: time(NULL). */
	uint32_t		 skew;		/**< Clock skew allowance in seconds. */
};

/**
 * Verify a ticket: format, key, signature (constant time), validity window
 * with skew, scope, target, uuid, address, then single use (the nonce is
 * recorded in rc only when every other check passed; rc may be NULL to skip
 * replay protection, e.g. for `hyproxctl ticket verify`).
 * @return 0 with out filled (when not NULL), or the HYP_ETICKET_* code of
 * the first failed check.
 */
int	hyp_ticket_verify(const uint8_t *buf, size_t len, const hyp_keyring_t *kr,
	    hyp_replay_t *rc, const struct hyp_ticket_verify_opts *o,
	    struct hyp_ticket *out);

/**
 * Append one TLV (type, len ≤ 255) to an extension buffer of cap bytes
 * holding *len bytes.  @return 0 or HYP_ENOSPC.
 */
int	hyp_ticket_ext_add(uint8_t *buf, size_t cap, size_t *len, uint8_t type,
	    const void *data, size_t dlen);

/**
 * Find the first TLV of type in an extension block.
 * @return 0 with *data and *dlen set, HYP_ENOENT, or HYP_ETICKET_FORMAT.
 */
int	hyp_ticket_ext_find(const uint8_t *ext, size_t len, uint8_t type,
	    const uint8_t **data, size_t *dlen);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_TICKET_H */
