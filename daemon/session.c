/*
 * Sessions and backends: the host objects every plugin shares.
 *
 * Live sessions are kept in one list so that a plugin's per-session data
 * can be dropped when it unloads.  Everything a session stores is copied
 * and bounded; a decoded Connect is deep-copied into one block.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hyproxd.h"

/* Bounds of the strings a session and a backend store. */
#define HYPD_SNI_MAX		255
#define HYPD_ALPN_MAX		255
#define HYPD_CERT_FP_MAX	64
#define HYPD_DENY_MAX		4096
#define HYPD_REASON_MAX		1024	/* including the NUL */
#define HYPD_OUTCOME_MAX	64	/* including the NUL; longer is cut */
#define HYPD_BACKEND_ID_MAX	64
#define HYPD_BACKEND_HOST_MAX	255
#define HYPD_POOL_MAX		255
/* Per-plugin data slots in a session. */
#define HYPD_SESSION_SLOTS	16
/* "[" INET6_ADDRSTRLEN "]:65535". */
#define HYPD_PEER_STR_MAX	(INET6_ADDRSTRLEN + 8)

struct hypd_slot {
	hyp_plugin_t	*p;
	void		*data;
	void		(*free_fn)(void *);
};

struct hyp_session {
	LIST_ENTRY(hyp_session)	 entry;
	hyp_plugin_t		*owner;
	uint64_t		 id;
	char			 id_str[17];
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 peer_str[HYPD_PEER_STR_MAX];

	char			*sni;
	char			*alpn;
	char			*cert_fp;

	struct hyp_connect	*connect;	/* one block; views point into it */
	const char		*username;	/* inside connect's block */
	int			 has_uuid;
	char			 uuid_str[37];

	enum hyp_decision	 decision;
	hyp_backend_t		*backend;
	char			*deny_message;
	char			*reason;	/* HYPD_REASON_MAX, on first use */
	size_t			 reasonlen;

	int			 ended;
	char			 outcome[HYPD_OUTCOME_MAX];
	uint64_t		 marks[HYP_MARK__COUNT];
	uint64_t		 counters[HYP_CTR__COUNT];

	struct hypd_slot	 slots[HYPD_SESSION_SLOTS];
	unsigned		 nslots;
};

struct hyp_backend {
	unsigned	 refs;
	char		 id[HYPD_BACKEND_ID_MAX + 1];
	char		 host[HYPD_BACKEND_HOST_MAX + 1];
	uint16_t	 port;
	char		*pool;
};

static LIST_HEAD(, hyp_session)	hypd_sessions =
    LIST_HEAD_INITIALIZER(hypd_sessions);
static unsigned			hypd_session_alive;
static unsigned			hypd_session_max;
static uint64_t			hypd_session_next_id;
static int			hypd_session_seeded;

static int	hypd_session_seed(void);
static void	hypd_session_format_peer(struct hyp_session *);
static int	hypd_session_strset(char **, const char *, size_t);
static int	hypd_bytes_ok(const struct hyp_bytes *, size_t);
static void	hypd_bytes_copy(struct hyp_bytes *, uint8_t **);
static void	hypd_slot_drop(struct hyp_session *, unsigned);

/* Seed the id counter from libsodium once. */
static int
hypd_session_seed(void)
{
	if (hypd_session_seeded)
		return (0);
	if (sodium_init() < 0)
		return (-1);
	randombytes_buf(&hypd_session_next_id, sizeof(hypd_session_next_id));
	hypd_session_seeded = 1;
	return (0);
}

/* Set the cap on concurrent sessions. */
void
hypd_session_set_max(unsigned max)
{
	hypd_session_max = max;
}

/* Format the peer address once. */
static void
hypd_session_format_peer(struct hyp_session *s)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 a[INET6_ADDRSTRLEN];

	switch (s->peer.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&s->peer;
		if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) == NULL)
			break;
		snprintf(s->peer_str, sizeof(s->peer_str), "%s:%u", a,
		    (unsigned)ntohs(sin->sin_port));
		return;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&s->peer;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)) == NULL)
			break;
		snprintf(s->peer_str, sizeof(s->peer_str), "[%s]:%u", a,
		    (unsigned)ntohs(sin6->sin6_port));
		return;
	}
	strcpy(s->peer_str, "-");
}

/* Create a session for a client at peer. */
hyp_session_t *
hyp_session_new(hyp_plugin_t *owner, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct hyp_session	*s;

	if (peer != NULL) {
		if (peerlen > sizeof(s->peer) ||
		    (peer->sa_family == AF_INET &&
		    peerlen < sizeof(struct sockaddr_in)) ||
		    (peer->sa_family == AF_INET6 &&
		    peerlen < sizeof(struct sockaddr_in6)))
			return (NULL);
	} else
		peerlen = 0;
	if (hypd_session_max != 0 && hypd_session_alive >= hypd_session_max)
		return (NULL);
	if (hypd_session_seed() != 0)
		return (NULL);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);

	s->owner = owner;
	s->id = hypd_session_next_id++;
	snprintf(s->id_str, sizeof(s->id_str), "%016llx",
	    (unsigned long long)s->id);
	if (peer != NULL)
		memcpy(&s->peer, peer, peerlen);
	s->peerlen = peerlen;
	hypd_session_format_peer(s);

	LIST_INSERT_HEAD(&hypd_sessions, s, entry);
	hypd_session_alive++;
	return (s);
}

/* Call a slot's free function and remove the slot. */
static void
hypd_slot_drop(struct hyp_session *s, unsigned i)
{
	struct hypd_slot	sl = s->slots[i];

	s->slots[i] = s->slots[--s->nslots];
	memset(&s->slots[s->nslots], 0, sizeof(s->slots[0]));
	if (sl.free_fn != NULL && sl.data != NULL)
		sl.free_fn(sl.data);
}

/* End a session: outcome, mark, session-end hook, then free. */
void
hyp_session_end(hyp_session_t *s, const char *outcome)
{
	if (s == NULL || s->ended)
		return;
	s->ended = 1;
	snprintf(s->outcome, sizeof(s->outcome), "%s",
	    outcome != NULL ? outcome : "unknown");
	hyp_session_mark(s, HYP_MARK_END);
	/* Over: the session-end hook already sees it as no longer alive. */
	hypd_session_alive--;

	hyp_hook_run(HYP_HOOK_SESSION_END, s, NULL);

	while (s->nslots > 0)
		hypd_slot_drop(s, s->nslots - 1);
	hyp_backend_unref(s->backend);
	LIST_REMOVE(s, entry);
	free(s->sni);
	free(s->alpn);
	free(s->cert_fp);
	free(s->connect);
	free(s->deny_message);
	free(s->reason);
	free(s);
}

/* Return the id. */
uint64_t
hyp_session_id(const hyp_session_t *s)
{
	return (s->id);
}

/* Return the id as 16 hex digits. */
const char *
hyp_session_id_str(const hyp_session_t *s)
{
	return (s->id_str);
}

/* Return the peer address, or NULL when none was given. */
const struct sockaddr *
hyp_session_peer(const hyp_session_t *s, socklen_t *len)
{
	if (len != NULL)
		*len = s->peerlen;
	if (s->peerlen == 0)
		return (NULL);
	return ((const struct sockaddr *)&s->peer);
}

/* Return the formatted peer address. */
const char *
hyp_session_peer_str(const hyp_session_t *s)
{
	return (s->peer_str);
}

/* Replace *dst with a copy of src (NULL clears); at most max bytes. */
static int
hypd_session_strset(char **dst, const char *src, size_t max)
{
	char	*copy = NULL;
	size_t	 len;

	if (src != NULL) {
		if ((len = strnlen(src, max + 1)) > max)
			return (HYP_ETOOBIG);
		if ((copy = malloc(len + 1)) == NULL)
			return (HYP_ENOMEM);
		memcpy(copy, src, len + 1);
	}
	free(*dst);
	*dst = copy;
	return (0);
}

/* Set the TLS SNI. */
int
hyp_session_set_sni(hyp_session_t *s, const char *sni)
{
	return (hypd_session_strset(&s->sni, sni, HYPD_SNI_MAX));
}

/* Return the TLS SNI. */
const char *
hyp_session_sni(const hyp_session_t *s)
{
	return (s->sni);
}

/* Set the ALPN protocol. */
int
hyp_session_set_alpn(hyp_session_t *s, const char *alpn)
{
	return (hypd_session_strset(&s->alpn, alpn, HYPD_ALPN_MAX));
}

/* Return the ALPN protocol. */
const char *
hyp_session_alpn(const hyp_session_t *s)
{
	return (s->alpn);
}

/* Set the client certificate fingerprint. */
int
hyp_session_set_cert_fp(hyp_session_t *s, const char *fp)
{
	return (hypd_session_strset(&s->cert_fp, fp, HYPD_CERT_FP_MAX));
}

/* Return the client certificate fingerprint. */
const char *
hyp_session_cert_fp(const hyp_session_t *s)
{
	return (s->cert_fp);
}

/* Whether a view is consistent and at most max bytes. */
static int
hypd_bytes_ok(const struct hyp_bytes *b, size_t max)
{
	if (b->ptr == NULL)
		return (b->len == 0 ? 0 : HYP_EINVAL);
	return (b->len <= max ? 0 : HYP_ETOOBIG);
}

/* Copy a view's bytes plus a NUL to *at and point the view there. */
static void
hypd_bytes_copy(struct hyp_bytes *b, uint8_t **at)
{
	if (b->ptr == NULL)
		return;
	if (b->len != 0)
		memcpy(*at, b->ptr, b->len);
	(*at)[b->len] = '\0';
	b->ptr = *at;
	*at += b->len + 1;
}

/* Store a deep copy of a decoded Connect in one block. */
int
hyp_session_set_connect(hyp_session_t *s, const struct hyp_connect *c)
{
	struct hyp_connect	*copy;
	uint8_t			*at;
	size_t			 size;
	int			 error;

	if (c == NULL)
		return (HYP_EINVAL);
	if ((error = hypd_bytes_ok(&c->username, HYP_USERNAME_MAX)) != 0 ||
	    (error = hypd_bytes_ok(&c->identity_token,
	    HYP_IDENTITY_TOKEN_MAX)) != 0 ||
	    (error = hypd_bytes_ok(&c->language, HYP_LANGUAGE_V1_MAX)) != 0 ||
	    (error = hypd_bytes_ok(&c->referral_data,
	    HYP_REFERRAL_DATA_MAX)) != 0 ||
	    (error = hypd_bytes_ok(&c->referral_source.host,
	    HYP_HOST_MAX)) != 0)
		return (error);
	/* The username getter returns a C string: refuse embedded NULs. */
	if (c->username.ptr != NULL &&
	    memchr(c->username.ptr, '\0', c->username.len) != NULL)
		return (HYP_EINVAL);

	/* Each view's bytes plus a NUL; the sum is bounded by the checks. */
	size = sizeof(*copy) + c->username.len + c->identity_token.len +
	    c->language.len + c->referral_data.len +
	    c->referral_source.host.len + 5;
	if ((copy = malloc(size)) == NULL)
		return (HYP_ENOMEM);
	*copy = *c;
	copy->protocol_hash[sizeof(copy->protocol_hash) - 1] = '\0';
	copy->client_version[sizeof(copy->client_version) - 1] = '\0';
	at = (uint8_t *)(copy + 1);
	hypd_bytes_copy(&copy->username, &at);
	hypd_bytes_copy(&copy->identity_token, &at);
	hypd_bytes_copy(&copy->language, &at);
	hypd_bytes_copy(&copy->referral_data, &at);
	hypd_bytes_copy(&copy->referral_source.host, &at);

	free(s->connect);
	s->connect = copy;
	s->username = (const char *)copy->username.ptr;
	s->has_uuid = copy->has_uuid;
	if (copy->has_uuid)
		hyp_uuid_format(copy->uuid, s->uuid_str);
	else
		s->uuid_str[0] = '\0';
	return (0);
}

/* Return the stored Connect. */
const struct hyp_connect *
hyp_session_connect(const hyp_session_t *s)
{
	return (s->connect);
}

/* Return the username as a C string. */
const char *
hyp_session_username(const hyp_session_t *s)
{
	return (s->username);
}

/* Return the uuid as a 36-character string. */
const char *
hyp_session_uuid_str(const hyp_session_t *s)
{
	return (s->has_uuid ? s->uuid_str : NULL);
}

/* Record the route's decision. */
int
hyp_session_decide(hyp_session_t *s, enum hyp_decision d, hyp_backend_t *b,
    const char *message)
{
	int	error;

	switch (d) {
	case HYP_DECISION_NONE:
		if (b != NULL)
			return (HYP_EINVAL);
		break;
	case HYP_DECISION_REFER:
	case HYP_DECISION_PROXY:
		if (b == NULL)
			return (HYP_EINVAL);
		break;
	case HYP_DECISION_DENY:
		if (b != NULL)
			return (HYP_EINVAL);
		break;
	default:
		return (HYP_EINVAL);
	}
	error = hypd_session_strset(&s->deny_message,
	    d == HYP_DECISION_DENY ? message : NULL, HYPD_DENY_MAX);
	if (error != 0)
		return (error);
	if (b != NULL)
		hyp_backend_ref(b);
	hyp_backend_unref(s->backend);
	s->backend = b;
	s->decision = d;
	if (d != HYP_DECISION_NONE)
		hyp_session_mark(s, HYP_MARK_DECISION);
	return (0);
}

/* Return the decision. */
enum hyp_decision
hyp_session_decision(const hyp_session_t *s)
{
	return (s->decision);
}

/* Return the chosen backend. */
hyp_backend_t *
hyp_session_backend(const hyp_session_t *s)
{
	return (s->backend);
}

/* Return the deny message. */
const char *
hyp_session_deny_message(const hyp_session_t *s)
{
	return (s->deny_message);
}

/* Append "key=value" to the reason, or drop the whole pair if it does not fit. */
int
hyp_session_add_reason(hyp_session_t *s, const char *key, const char *fmt,
    ...)
{
	char	 pair[HYPD_REASON_MAX];
	va_list	 ap;
	size_t	 room;
	int	 klen, vlen;

	if (key == NULL || key[0] == '\0' || fmt == NULL ||
	    strpbrk(key, " =") != NULL)
		return (HYP_EINVAL);
	/* Space left, keeping the NUL and the separator. */
	room = HYPD_REASON_MAX - 1 - s->reasonlen;
	if (s->reasonlen != 0) {
		if (room == 0)
			return (HYP_ENOSPC);
		room--;
	}
	klen = snprintf(pair, sizeof(pair), "%s=", key);
	if (klen < 0 || (size_t)klen >= sizeof(pair) || (size_t)klen > room)
		return (HYP_ENOSPC);
	va_start(ap, fmt);
	vlen = vsnprintf(pair + klen, sizeof(pair) - (size_t)klen, fmt, ap);
	va_end(ap);
	if (vlen < 0)
		return (HYP_EINVAL);
	if ((size_t)klen + (size_t)vlen > room)
		return (HYP_ENOSPC);
	/* Most sessions never get a reason: allocate on the first pair. */
	if (s->reason == NULL &&
	    (s->reason = malloc(HYPD_REASON_MAX)) == NULL)
		return (HYP_ENOMEM);

	if (s->reasonlen != 0)
		s->reason[s->reasonlen++] = ' ';
	memcpy(s->reason + s->reasonlen, pair, (size_t)(klen + vlen));
	s->reasonlen += (size_t)(klen + vlen);
	s->reason[s->reasonlen] = '\0';
	return (0);
}

/* Return the reason, or "" when none was added. */
const char *
hyp_session_reason(const hyp_session_t *s)
{
	return (s->reason != NULL ? s->reason : "");
}

/* Return the outcome, or NULL before the end. */
const char *
hyp_session_outcome(const hyp_session_t *s)
{
	return (s->ended ? s->outcome : NULL);
}

/* Stamp a mark unless it is already set. */
void
hyp_session_mark(hyp_session_t *s, enum hyp_session_mark m)
{
	uint64_t	now;

	if ((unsigned)m >= HYP_MARK__COUNT || s->marks[m] != 0)
		return;
	if ((now = hyp_now_us()) == 0)
		now = 1;
	s->marks[m] = now;
}

/* Return a mark's timestamp. */
uint64_t
hyp_session_mark_us(const hyp_session_t *s, enum hyp_session_mark m)
{
	if ((unsigned)m >= HYP_MARK__COUNT)
		return (0);
	return (s->marks[m]);
}

/* Add to a counter. */
void
hyp_session_count(hyp_session_t *s, enum hyp_session_counter c, uint64_t n)
{
	if ((unsigned)c < HYP_CTR__COUNT)
		s->counters[c] += n;
}

/* Return a counter. */
uint64_t
hyp_session_counter(const hyp_session_t *s, enum hyp_session_counter c)
{
	if ((unsigned)c >= HYP_CTR__COUNT)
		return (0);
	return (s->counters[c]);
}

/* Attach, replace or (data NULL) remove p's data on a session. */
int
hyp_session_set_data(hyp_session_t *s, hyp_plugin_t *p, void *data,
    void (*free_fn)(void *))
{
	struct hypd_slot	*sl;
	unsigned		 i;

	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].p == p)
			break;
	}
	if (i == s->nslots) {
		if (data == NULL)
			return (0);
		if (s->nslots >= HYPD_SESSION_SLOTS)
			return (HYP_ENOSPC);
		sl = &s->slots[s->nslots++];
		sl->p = p;
		sl->data = data;
		sl->free_fn = free_fn;
		return (0);
	}
	if (data == NULL) {
		hypd_slot_drop(s, i);
		return (0);
	}
	sl = &s->slots[i];
	if (sl->data != data && sl->free_fn != NULL)
		sl->free_fn(sl->data);
	/* free_fn may not touch s's slots, but be safe: index again. */
	sl = &s->slots[i];
	sl->data = data;
	sl->free_fn = free_fn;
	return (0);
}

/* Return the data p attached. */
void *
hyp_session_data(const hyp_session_t *s, const hyp_plugin_t *p)
{
	unsigned	i;

	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].p == p)
			return (s->slots[i].data);
	}
	return (NULL);
}

/* Count the sessions alive now. */
unsigned
hyp_session_count_alive(void)
{
	return (hypd_session_alive);
}

/* Drop p's data from every live session and warn about sessions p owns. */
void
hypd_session_release(hyp_plugin_t *p)
{
	struct hyp_session	*s;
	unsigned		 i, owned = 0;

	LIST_FOREACH(s, &hypd_sessions, entry) {
		for (i = 0; i < s->nslots; i++) {
			if (s->slots[i].p == p) {
				hypd_slot_drop(s, i);
				break;
			}
		}
		if (p != NULL && s->owner == p && !s->ended)
			owned++;
	}
	if (owned != 0)
		hyp_log(p, HYP_LOG_WARNING, "%u sessions left open at unload",
		    owned);
}

/* Create a backend with one reference. */
hyp_backend_t *
hyp_backend_new(const char *id, const char *host, uint16_t port)
{
	struct hyp_backend	*b;
	size_t			 idlen, hostlen;

	if (id == NULL || host == NULL)
		return (NULL);
	idlen = strnlen(id, HYPD_BACKEND_ID_MAX + 1);
	hostlen = strnlen(host, HYPD_BACKEND_HOST_MAX + 1);
	if (idlen == 0 || idlen > HYPD_BACKEND_ID_MAX ||
	    hostlen == 0 || hostlen > HYPD_BACKEND_HOST_MAX)
		return (NULL);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->refs = 1;
	memcpy(b->id, id, idlen);
	memcpy(b->host, host, hostlen);
	b->port = port;
	return (b);
}

/* Take a reference. */
hyp_backend_t *
hyp_backend_ref(hyp_backend_t *b)
{
	if (b != NULL)
		b->refs++;
	return (b);
}

/* Drop a reference and free at zero. */
void
hyp_backend_unref(hyp_backend_t *b)
{
	if (b == NULL || --b->refs != 0)
		return;
	free(b->pool);
	free(b);
}

/* Return the backend id. */
const char *
hyp_backend_id(const hyp_backend_t *b)
{
	return (b->id);
}

/* Return the backend host. */
const char *
hyp_backend_host(const hyp_backend_t *b)
{
	return (b->host);
}

/* Return the backend port. */
uint16_t
hyp_backend_port(const hyp_backend_t *b)
{
	return (b->port);
}

/* Set or clear the backend's pool. */
int
hyp_backend_set_pool(hyp_backend_t *b, const char *pool)
{
	return (hypd_session_strset(&b->pool, pool, HYPD_POOL_MAX));
}

/* Return the backend's pool. */
const char *
hyp_backend_pool(const hyp_backend_t *b)
{
	return (b->pool);
}
