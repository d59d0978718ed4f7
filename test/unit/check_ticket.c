/*
 * Unit tests of libhyprox referral tickets (sdk/lib/ticket.c): every vector
 * and verification case of test/vectors/tickets.txt, tampering and
 * truncation, keyring rotation, the replay cache, address binding, limits
 * and the extension TLV helpers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>
#include <hyprox/ticket.h>

#define VEC_FILE	"test/vectors/tickets.txt"
#define VEC_CASES_MAX	64
#define VEC_LINE_MAX	(2 * HYP_TICKET_MAX + 1024)

/* One verification case of the vector file. */
struct vec_case {
	int	line;
	char	text[VEC_LINE_MAX];
};

/* One vector of the vector file, as read. */
struct vec {
	int		 line;
	char		 name[64];
	char		 key_id[64];
	uint8_t		 key[256];
	size_t		 keylen;
	struct hyp_ticket t;
	uint8_t		 ext[HYP_TICKET_MAX + 8];
	uint8_t		 ticket[HYP_TICKET_MAX];
	size_t		 ticketlen;
	char		 sign_error[64];
	size_t		 replay_cap;
	struct vec_case	 cases[VEC_CASES_MAX];
	size_t		 ncases;
};

static int	counted_vectors, counted_cases;

/* Key 0x00..0x1f, the vectors' "k1". */
static const uint8_t	key1[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

/* Map a code name of the vector file to its value; 1 for "ok". */
static int
code_value(const char *name)
{
	static const struct {
		const char	*name;
		int		 code;
	} codes[] = {
		{ "ok", 0 },
		{ "HYP_ETICKET_FORMAT", HYP_ETICKET_FORMAT },
		{ "HYP_ETICKET_MAGIC", HYP_ETICKET_MAGIC },
		{ "HYP_ETICKET_VERSION", HYP_ETICKET_VERSION },
		{ "HYP_ETICKET_KEY_UNKNOWN", HYP_ETICKET_KEY_UNKNOWN },
		{ "HYP_ETICKET_KEY_RETIRED", HYP_ETICKET_KEY_RETIRED },
		{ "HYP_ETICKET_MAC", HYP_ETICKET_MAC },
		{ "HYP_ETICKET_NOT_YET", HYP_ETICKET_NOT_YET },
		{ "HYP_ETICKET_EXPIRED", HYP_ETICKET_EXPIRED },
		{ "HYP_ETICKET_SCOPE", HYP_ETICKET_SCOPE },
		{ "HYP_ETICKET_TARGET", HYP_ETICKET_TARGET },
		{ "HYP_ETICKET_UUID", HYP_ETICKET_UUID },
		{ "HYP_ETICKET_ADDRESS", HYP_ETICKET_ADDRESS },
		{ "HYP_ETICKET_REPLAYED", HYP_ETICKET_REPLAYED },
		{ "HYP_ETICKET_REPLAY_FULL", HYP_ETICKET_REPLAY_FULL },
		{ "HYP_ETICKET_KEY_SHORT", HYP_ETICKET_KEY_SHORT },
		{ "HYP_ETICKET_TOO_BIG", HYP_ETICKET_TOO_BIG },
	};
	size_t	i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, name) == 0)
			return (codes[i].code);
	ck_abort_msg("unknown code name %s", name);
	return (1);
}

/* Decode hex into out (at most cap bytes); abort on bad input. */
static size_t
hex_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t	n = strlen(s);

	ck_assert_msg(n % 2 == 0 && n / 2 <= cap, "bad hex length %zu", n);
	ck_assert_int_eq(sodium_hex2bin(out, cap, s, n, NULL, &n, NULL), 0);
	return (n);
}

/* Parse an address into a socket address; return its length. */
static socklen_t
addr_to_sa(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return (sizeof(*sin));
	}
	ck_assert_msg(inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1,
	    "bad address %s", s);
	sin6->sin6_family = AF_INET6;
	return (sizeof(*sin6));
}

/* Set one field of a vector from a "key=value" line. */
static void
vec_set(struct vec *v, const char *k, const char *val)
{
	struct sockaddr_storage	ss;

	if (strcmp(k, "key_id") == 0) {
		snprintf(v->key_id, sizeof(v->key_id), "%s", val);
		snprintf(v->t.kid, sizeof(v->t.kid), "%s", val);
	} else if (strcmp(k, "key_hex") == 0)
		v->keylen = hex_decode(val, v->key, sizeof(v->key));
	else if (strcmp(k, "issued_at") == 0)
		v->t.issued_at = strtoull(val, NULL, 10);
	else if (strcmp(k, "ttl") == 0)
		v->t.ttl = (uint32_t)strtoul(val, NULL, 10);
	else if (strcmp(k, "nonce_hex") == 0)
		ck_assert_uint_eq(hex_decode(val, v->t.nonce,
		    sizeof(v->t.nonce)), 16);
	else if (strcmp(k, "scope") == 0)
		v->t.scope = strcmp(val, "global") == 0 ? 0 :
		    strcmp(val, "pool") == 0 ? 1 : 2;
	else if (strcmp(k, "scope_id") == 0)
		snprintf(v->t.scope_id, sizeof(v->t.scope_id), "%s", val);
	else if (strcmp(k, "target") == 0)
		snprintf(v->t.target, sizeof(v->t.target), "%s", val);
	else if (strcmp(k, "uuid") == 0)
		ck_assert_int_eq(hyp_uuid_parse(val, v->t.uuid), 0);
	else if (strcmp(k, "addr") == 0) {
		if (strcmp(val, "-") == 0)
			return;
		v->t.has_addr = 1;
		if (addr_to_sa(val, &ss) == sizeof(struct sockaddr_in)) {
			v->t.addr_family = 4;
			memcpy(v->t.addr, &((struct sockaddr_in *)&ss)->sin_addr,
			    4);
		} else {
			v->t.addr_family = 6;
			memcpy(v->t.addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		}
	} else if (strcmp(k, "ext_hex") == 0) {
		if (strcmp(val, "-") == 0)
			return;
		v->t.ext_len = hex_decode(val, v->ext, sizeof(v->ext));
		v->t.ext = v->ext;
	} else if (strcmp(k, "ticket_hex") == 0)
		v->ticketlen = hex_decode(val, v->ticket, sizeof(v->ticket));
	else if (strcmp(k, "sign_error") == 0)
		snprintf(v->sign_error, sizeof(v->sign_error), "%s", val);
	else if (strcmp(k, "replay_cap") == 0)
		v->replay_cap = strtoul(val, NULL, 10);
	else
		ck_abort_msg("line %d: unknown key %s", v->line, k);
}

/* Run one verification case against a vector. */
static void
vec_run_case(const struct vec *v, const struct vec_case *c, hyp_replay_t *rc)
{
	struct hyp_ticket_verify_opts	 o;
	struct hyp_ticket		 out;
	struct sockaddr_storage		 peer;
	hyp_keyring_t			*kr;
	static uint8_t			 buf[HYP_TICKET_MAX], *tb;
	uint8_t				 key[256], uuid[16];
	char				 text[VEC_LINE_MAX], *tok, *save, *eq;
	char				 kid[64], pool[80], backend[80];
	const uint8_t			*kp = v->key;
	uint64_t			 from = 0, to = 0;
	size_t				 keylen = v->keylen, len = v->ticketlen;
	int				 expect = 1, use_rc = 0, rv;

	memset(&o, 0, sizeof(o));
	snprintf(kid, sizeof(kid), "%s", v->key_id);
	memcpy(buf, v->ticket, v->ticketlen);
	snprintf(text, sizeof(text), "%s", c->text);
	for (tok = strtok_r(text, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		ck_assert_msg((eq = strchr(tok, '=')) != NULL, "line %d: %s",
		    c->line, tok);
		*eq++ = '\0';
		if (strcmp(tok, "now") == 0)
			o.now = strtoull(eq, NULL, 10);
		else if (strcmp(tok, "backend") == 0) {
			snprintf(backend, sizeof(backend), "%s", eq);
			o.backend_id = backend;
		} else if (strcmp(tok, "pool") == 0) {
			snprintf(pool, sizeof(pool), "%s", eq);
			o.pool_id = pool;
		} else if (strcmp(tok, "uuid") == 0) {
			ck_assert_int_eq(hyp_uuid_parse(eq, uuid), 0);
			o.uuid = uuid;
		} else if (strcmp(tok, "peer") == 0) {
			addr_to_sa(eq, &peer);
			o.peer = (struct sockaddr *)&peer;
		} else if (strcmp(tok, "skew") == 0)
			o.skew = (uint32_t)strtoul(eq, NULL, 10);
		else if (strcmp(tok, "valid") == 0) {
			from = strtoull(eq, NULL, 10);
			ck_assert_ptr_nonnull(strstr(eq, ".."));
			to = strtoull(strstr(eq, "..") + 2, NULL, 10);
		} else if (strcmp(tok, "keyring_id") == 0)
			snprintf(kid, sizeof(kid), "%s", eq);
		else if (strcmp(tok, "key_hex") == 0) {
			keylen = hex_decode(eq, key, sizeof(key));
			kp = key;
		} else if (strcmp(tok, "replay") == 0)
			use_rc = strcmp(eq, "yes") == 0;
		else if (strcmp(tok, "ticket_hex") == 0)
			len = hex_decode(eq, buf, sizeof(buf));
		else if (strcmp(tok, "expect") == 0)
			expect = code_value(eq);
		else
			ck_abort_msg("line %d: unknown key %s", c->line, tok);
	}
	ck_assert_msg(expect != 1 && o.now != 0 && o.backend_id != NULL,
	    "line %d: now, backend and expect are required", c->line);
	ck_assert_ptr_nonnull(kr = hyp_keyring_new());
	ck_assert_int_eq(hyp_keyring_add(kr, kid, kp, keylen, from, to), 0);
	/* An exact-size copy: ASan reports any read past len. */
	ck_assert_ptr_nonnull(tb = malloc(len > 0 ? len : 1));
	memcpy(tb, buf, len);
	rv = hyp_ticket_verify(tb, len, kr, use_rc ? rc : NULL, &o, &out);
	ck_assert_msg(rv == expect, "line %d (%s): got %d (%s), want %d (%s)",
	    c->line, v->name, rv, hyp_strerror(rv), expect,
	    hyp_strerror(expect));
	if (rv == 0) {
		ck_assert_str_eq(out.kid, v->key_id);
		ck_assert_mem_eq(out.nonce, buf + 7 + strlen(out.kid) + 12, 16);
	}
	free(tb);
	hyp_keyring_free(kr);
	counted_cases++;
}

/* Check one vector: signing byte exact, decoding, its verification cases. */
static void
vec_check(struct vec *v)
{
	struct hyp_ticket	 d;
	hyp_replay_t		*rc;
	uint8_t			 out[HYP_TICKET_MAX];
	size_t			 i;
	int			 rv;

	rv = hyp_ticket_sign(&v->t, v->key, v->keylen, out, sizeof(out));
	if (v->sign_error[0] != '\0') {
		ck_assert_msg(rv == code_value(v->sign_error),
		    "%s: sign returned %d", v->name, rv);
		ck_assert_uint_eq(v->ncases, 0);
		counted_vectors++;
		return;
	}
	ck_assert_msg(rv > 0 && (size_t)rv == v->ticketlen,
	    "%s: sign returned %d, want %zu", v->name, rv, v->ticketlen);
	ck_assert_msg(memcmp(out, v->ticket, v->ticketlen) == 0,
	    "%s: bytes differ", v->name);
	/* Exactly the size needed is enough; one byte less is not. */
	ck_assert_int_eq(hyp_ticket_sign(&v->t, v->key, v->keylen, out,
	    v->ticketlen), rv);
	ck_assert_int_eq(hyp_ticket_sign(&v->t, v->key, v->keylen, out,
	    v->ticketlen - 1), HYP_ENOSPC);

	ck_assert_int_eq(hyp_ticket_parse(v->ticket, v->ticketlen, &d), 0);
	ck_assert_str_eq(d.kid, v->t.kid);
	ck_assert_uint_eq(d.issued_at, v->t.issued_at);
	ck_assert_uint_eq(d.ttl, v->t.ttl);
	ck_assert_mem_eq(d.nonce, v->t.nonce, 16);
	ck_assert_uint_eq(d.scope, v->t.scope);
	ck_assert_str_eq(d.scope_id, v->t.scope_id);
	ck_assert_str_eq(d.target, v->t.target);
	ck_assert_mem_eq(d.uuid, v->t.uuid, 16);
	ck_assert_int_eq(d.has_addr, v->t.has_addr);
	if (d.has_addr) {
		ck_assert_uint_eq(d.addr_family, v->t.addr_family);
		ck_assert_mem_eq(d.addr, v->t.addr, d.addr_family == 4 ? 4 : 16);
	}
	ck_assert_uint_eq(d.ext_len, v->t.ext_len);
	if (d.ext_len > 0) {
		ck_assert_ptr_eq(d.ext, v->ticket + v->ticketlen - 32 -
		    d.ext_len);
		ck_assert_mem_eq(d.ext, v->t.ext, d.ext_len);
	} else
		ck_assert_ptr_null(d.ext);

	ck_assert_ptr_nonnull(rc = hyp_replay_new(v->replay_cap));
	for (i = 0; i < v->ncases; i++)
		vec_run_case(v, &v->cases[i], rc);
	hyp_replay_free(rc);
	counted_vectors++;
}

/* Read the vector file and check every vector; returns the count. */
static int
vec_run_file(void)
{
	static struct vec	 v;
	const char		*top = getenv("top_srcdir");
	char			 path[4096], *line = NULL, *eq;
	size_t			 cap = 0;
	ssize_t			 n;
	FILE			*fp;
	int			 ln = 0, in = 0;

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".",
	    VEC_FILE);
	ck_assert_msg((fp = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	counted_vectors = counted_cases = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		ln++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "vector ", 7) == 0) {
			ck_assert_msg(!in, "line %d: nested vector", ln);
			memset(&v, 0, sizeof(v));
			v.line = ln;
			v.replay_cap = 16;
			snprintf(v.name, sizeof(v.name), "%s", line + 7);
			in = 1;
		} else if (strcmp(line, "end") == 0) {
			ck_assert_msg(in, "line %d: end outside a vector", ln);
			vec_check(&v);
			in = 0;
		} else if (strncmp(line, "verify ", 7) == 0) {
			ck_assert(in && v.ncases < VEC_CASES_MAX);
			ck_assert((size_t)n < VEC_LINE_MAX);
			v.cases[v.ncases].line = ln;
			memcpy(v.cases[v.ncases].text, line + 7, (size_t)n - 6);
			v.ncases++;
		} else {
			ck_assert_msg(in && (eq = strchr(line, '=')) != NULL,
			    "line %d: not key=value", ln);
			*eq = '\0';
			vec_set(&v, line, eq + 1);
		}
	}
	ck_assert_msg(!in, "unterminated vector");
	free(line);
	fclose(fp);
	return (counted_vectors);
}

START_TEST(test_vectors)
{
	ck_assert_int_ge(vec_run_file(), 11);
	ck_assert_int_ge(counted_cases, 60);
}
END_TEST

/* A ticket with an address and extensions, signed with key1 as "k1". */
static int
sample_ticket(uint8_t *out, size_t cap, struct hyp_ticket *t, uint8_t *ext,
    size_t *extlen)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->kid, "k1");
	t->issued_at = 1000;
	t->ttl = 60;
	memset(t->nonce, 0xa5, sizeof(t->nonce));
	t->scope = HYP_TICKET_SCOPE_BACKEND;
	strcpy(t->scope_id, "b1");
	strcpy(t->target, "b1");
	memset(t->uuid, 0x11, sizeof(t->uuid));
	t->has_addr = 1;
	t->addr_family = 4;
	memcpy(t->addr, "\xc0\x00\x02\x01", 4);
	*extlen = 0;
	ck_assert_int_eq(hyp_ticket_ext_add(ext, 64, extlen,
	    HYP_TICKET_EXT_TRACE_ID, "trace-123", 9), 0);
	t->ext = ext;
	t->ext_len = *extlen;
	return (hyp_ticket_sign(t, key1, sizeof(key1), out, cap));
}

/* A keyring holding key1 as "k1", unbounded. */
static hyp_keyring_t *
keyring_k1(void)
{
	hyp_keyring_t	*kr;

	ck_assert_ptr_nonnull(kr = hyp_keyring_new());
	ck_assert_int_eq(hyp_keyring_add(kr, "k1", key1, sizeof(key1), 0, 0),
	    0);
	return (kr);
}

START_TEST(test_tamper_every_byte)
{
	static const uint8_t		 masks[] = { 0x01, 0x80, 0xff, 0x20 };
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1",
					    .now = 1010 };
	struct hyp_ticket		 t;
	hyp_keyring_t			*kr = keyring_k1();
	uint8_t				 tk[HYP_TICKET_MAX], ext[64], *b;
	size_t				 extlen, i, m;
	int				 len, rv;

	ck_assert_int_gt(len = sample_ticket(tk, sizeof(tk), &t, ext,
	    &extlen), 0);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	ck_assert_ptr_nonnull(b = malloc((size_t)len));
	for (i = 0; i < (size_t)len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(b, tk, (size_t)len);
			b[i] ^= masks[m];
			rv = hyp_ticket_verify(b, (size_t)len, kr, NULL, &o,
			    NULL);
			ck_assert_msg(rv == HYP_ETICKET_MAC ||
			    rv == HYP_ETICKET_FORMAT ||
			    rv == HYP_ETICKET_MAGIC ||
			    rv == HYP_ETICKET_VERSION ||
			    rv == HYP_ETICKET_KEY_UNKNOWN,
			    "byte %zu ^ %02x: %d (%s)", i, masks[m], rv,
			    hyp_strerror(rv));
		}
	}
	free(b);
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_truncate_every_length)
{
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1",
					    .now = 1010 };
	struct hyp_ticket		 t, d;
	hyp_keyring_t			*kr = keyring_k1();
	uint8_t				 tk[HYP_TICKET_MAX], ext[64], *b;
	size_t				 extlen, n;
	int				 len, rv;

	ck_assert_int_gt(len = sample_ticket(tk, sizeof(tk), &t, ext,
	    &extlen), 0);
	for (n = 0; n < (size_t)len; n++) {
		/* Exact-size heap copies: ASan catches any over-read. */
		ck_assert_ptr_nonnull(b = malloc(n > 0 ? n : 1));
		memcpy(b, tk, n);
		rv = hyp_ticket_verify(b, n, kr, NULL, &o, NULL);
		ck_assert_msg(rv == HYP_ETICKET_FORMAT, "length %zu: %d", n,
		    rv);
		ck_assert_int_eq(hyp_ticket_parse(b, n, &d),
		    HYP_ETICKET_FORMAT);
		free(b);
	}
	/* Longer than the maximum. */
	ck_assert_ptr_nonnull(b = calloc(1, HYP_TICKET_MAX + 1));
	memcpy(b, tk, (size_t)len);
	ck_assert_int_eq(hyp_ticket_parse(b, HYP_TICKET_MAX + 1, &d),
	    HYP_ETICKET_FORMAT);
	free(b);
	ck_assert_int_eq(hyp_ticket_parse(NULL, 0, &d), HYP_ETICKET_FORMAT);
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_parse_rejects)
{
	struct hyp_ticket	 t, d;
	uint8_t			 tk[HYP_TICKET_MAX], ext[64], b[HYP_TICKET_MAX];
	size_t			 extlen, off;
	int			 len;

	ck_assert_int_gt(len = sample_ticket(tk, sizeof(tk), &t, ext,
	    &extlen), 0);
	ck_assert_int_eq(hyp_ticket_parse(tk, (size_t)len, &d), 0);
	/* Trailing byte. */
	memcpy(b, tk, (size_t)len);
	b[len] = 0;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len + 1, &d),
	    HYP_ETICKET_FORMAT);
	/* Unknown flag bits, one at a time. */
	for (off = 2; off < 8; off++) {
		memcpy(b, tk, (size_t)len);
		b[5] |= (uint8_t)(1u << off);
		ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
		    HYP_ETICKET_FORMAT);
	}
	/* Key id length 0 and 33. */
	memcpy(b, tk, (size_t)len);
	b[6] = 0;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	b[6] = 33;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* Key id with a byte outside [A-Za-z0-9._-]. */
	memcpy(b, tk, (size_t)len);
	b[7] = ' ';
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* Scope 3; global with a scope id (offset 7 + 2 + 28). */
	off = 7 + 2 + 28;
	memcpy(b, tk, (size_t)len);
	b[off] = 3;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	b[off] = 0;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* ttl 86401. */
	memcpy(b, tk, (size_t)len);
	memcpy(b + 7 + 2 + 8, "\x00\x01\x51\x81", 4);
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* Address family 5 (offset after uuid). */
	off = 7 + 2 + 28 + 2 + 2 + 1 + 2 + 16;
	memcpy(b, tk, (size_t)len);
	ck_assert_uint_eq(b[off], 4);
	b[off] = 5;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* Extension length 0, and a TLV longer than its block. */
	off += 5;
	memcpy(b, tk, (size_t)len);
	ck_assert_uint_eq(b[off + 1], extlen);
	b[off + 1] = 0;
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	memcpy(b, tk, (size_t)len);
	b[off + 3] = 10;	/* TLV length 10, 9 bytes follow */
	ck_assert_int_eq(hyp_ticket_parse(b, (size_t)len, &d),
	    HYP_ETICKET_FORMAT);
	/* Magic checked before version, version before the rest. */
	memcpy(b, "HYPX", 4);
	ck_assert_int_eq(hyp_ticket_parse(b, 4, &d), HYP_ETICKET_MAGIC);
	memcpy(b, "HYPT\x02", 5);
	ck_assert_int_eq(hyp_ticket_parse(b, 5, &d), HYP_ETICKET_VERSION);
	ck_assert_int_eq(hyp_ticket_parse(b, 4, &d), HYP_ETICKET_FORMAT);
}
END_TEST

START_TEST(test_sign_limits)
{
	struct hyp_ticket	t;
	static uint8_t		ext[HYP_TICKET_MAX + 16];
	uint8_t			out[HYP_TICKET_MAX], ebuf[64];
	size_t			extlen, n;
	int			len;

	ck_assert_int_gt(len = sample_ticket(out, sizeof(out), &t, ebuf,
	    &extlen), 0);
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 31, out, sizeof(out)),
	    HYP_ETICKET_KEY_SHORT);
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 0, out, sizeof(out)),
	    HYP_ETICKET_KEY_SHORT);
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, 10), HYP_ENOSPC);
	t.ttl = 0;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.ttl = HYP_TICKET_TTL_MAX + 1;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.ttl = HYP_TICKET_TTL_MAX;
	ck_assert_int_gt(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)), 0);
	t.scope = 3;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.scope = HYP_TICKET_SCOPE_GLOBAL;	/* with a scope id */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.scope_id[0] = '\0';
	ck_assert_int_gt(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)), 0);
	t.scope = HYP_TICKET_SCOPE_POOL;	/* without one */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	strcpy(t.scope_id, "pool 1");		/* bad character */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	strcpy(t.scope_id, "p1");
	t.target[0] = '\0';
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	memset(t.target, 'x', sizeof(t.target));	/* not terminated */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	memset(t.target, 'x', HYP_TICKET_ID_MAX);
	t.target[HYP_TICKET_ID_MAX] = '\0';
	ck_assert_int_gt(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)), 0);
	memset(t.kid, 'k', sizeof(t.kid));	/* 33 chars */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	strcpy(t.kid, "k/1");
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	strcpy(t.kid, "k1");
	t.addr_family = 5;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.addr_family = 6;
	ck_assert_int_gt(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)), 0);
	/* Malformed extension block, and a length without a buffer. */
	ebuf[1] = 200;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	t.ext = NULL;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
	/* Too big: extensions of 4096 bytes, and just over the limit. */
	t.has_addr = 0;
	t.ext = ext;
	for (n = 0; n + 257 <= HYP_TICKET_MAX; n += 257) {
		ext[n] = 0x90;
		ext[n + 1] = 255;
	}
	memset(ext + n, 0, sizeof(ext) - n);
	t.ext_len = HYP_TICKET_MAX + 16;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_ETICKET_TOO_BIG);
	ext[n] = 0x91;			/* one more TLV of 100 bytes */
	ext[n + 1] = 100;
	t.ext_len = n + 102;		/* 3957: 4113 bytes in all */
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_ETICKET_TOO_BIG);
	t.ext_len = n + 102 - 17;	/* 4096 exactly */
	ext[n + 1] = 100 - 17;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_TICKET_MAX);
	t.ext_len++;
	ext[n + 1]++;
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, sizeof(out)),
	    HYP_ETICKET_TOO_BIG);
	ck_assert_int_eq(hyp_ticket_sign(&t, key1, 32, out, 100),
	    HYP_ETICKET_TOO_BIG);
	ck_assert_int_eq(hyp_ticket_sign(NULL, key1, 32, out, sizeof(out)),
	    HYP_EINVAL);
}
END_TEST

START_TEST(test_rotation)
{
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1" };
	struct hyp_ticket		 t;
	hyp_keyring_t			*kr;
	const char			*kid;
	const uint8_t			*sec;
	uint8_t				 key2[40], old_t[512], new_t[512];
	size_t				 len;
	int				 lo, ln;

	memset(key2, 0x42, sizeof(key2));
	ck_assert_ptr_nonnull(kr = hyp_keyring_new());
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 100, &kid, &sec, &len),
	    HYP_ENOENT);
	ck_assert_int_eq(hyp_keyring_add(kr, "old", key1, 32, 100, 1000), 0);
	ck_assert_int_eq(hyp_keyring_add(kr, "new", key2, 40, 500, 0), 0);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 99, &kid, &sec, &len),
	    HYP_ENOENT);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 300, &kid, &sec, &len),
	    0);
	ck_assert_str_eq(kid, "old");
	ck_assert_uint_eq(len, 32);
	ck_assert_mem_eq(sec, key1, 32);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 500, &kid, &sec, &len),
	    0);
	ck_assert_str_eq(kid, "new");
	ck_assert_uint_eq(len, 40);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 5000, &kid, NULL, NULL),
	    0);
	ck_assert_str_eq(kid, "new");

	/* One ticket per key; during the overlap both verify. */
	memset(&t, 0, sizeof(t));
	t.issued_at = 600;
	t.ttl = 30;
	t.scope = HYP_TICKET_SCOPE_BACKEND;
	strcpy(t.scope_id, "b1");
	strcpy(t.target, "b1");
	strcpy(t.kid, "old");
	ck_assert_int_gt(lo = hyp_ticket_sign(&t, key1, 32, old_t,
	    sizeof(old_t)), 0);
	strcpy(t.kid, "new");
	ck_assert_int_gt(ln = hyp_ticket_sign(&t, key2, 40, new_t,
	    sizeof(new_t)), 0);
	o.now = 610;
	ck_assert_int_eq(hyp_ticket_verify(old_t, (size_t)lo, kr, NULL, &o,
	    NULL), 0);
	ck_assert_int_eq(hyp_ticket_verify(new_t, (size_t)ln, kr, NULL, &o,
	    NULL), 0);
	/* A ticket of one key presented under the other's id fails the MAC. */
	memcpy(new_t + 7, "old", 3);
	ck_assert_int_eq(hyp_ticket_verify(new_t, (size_t)ln, kr, NULL, &o,
	    NULL), HYP_ETICKET_MAC);
	/* After its window the old key is retired, even for fresh tickets. */
	t.issued_at = 1001;
	strcpy(t.kid, "old");
	ck_assert_int_gt(lo = hyp_ticket_sign(&t, key1, 32, old_t,
	    sizeof(old_t)), 0);
	o.now = 1001;
	ck_assert_int_eq(hyp_ticket_verify(old_t, (size_t)lo, kr, NULL, &o,
	    NULL), HYP_ETICKET_KEY_RETIRED);
	/* Before its window too. */
	o.now = 99;
	t.issued_at = 99;
	ck_assert_int_gt(lo = hyp_ticket_sign(&t, key1, 32, old_t,
	    sizeof(old_t)), 0);
	ck_assert_int_eq(hyp_ticket_verify(old_t, (size_t)lo, kr, NULL, &o,
	    NULL), HYP_ETICKET_KEY_RETIRED);
	/* Unknown key id. */
	strcpy(t.kid, "other");
	ck_assert_int_gt(lo = hyp_ticket_sign(&t, key1, 32, old_t,
	    sizeof(old_t)), 0);
	ck_assert_int_eq(hyp_ticket_verify(old_t, (size_t)lo, kr, NULL, &o,
	    NULL), HYP_ETICKET_KEY_UNKNOWN);

	/* Equal valid_from: the one added last signs. */
	ck_assert_int_eq(hyp_keyring_add(kr, "new2", key1, 32, 500, 0), 0);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 700, &kid, NULL, NULL),
	    0);
	ck_assert_str_eq(kid, "new2");
	/* An unbounded key (valid_from 0) never beats a dated one. */
	ck_assert_int_eq(hyp_keyring_add(kr, "any", key1, 32, 0, 0), 0);
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 700, &kid, NULL, NULL),
	    0);
	ck_assert_str_eq(kid, "new2");
	ck_assert_int_eq(hyp_keyring_signing_key(kr, 1, &kid, NULL, NULL), 0);
	ck_assert_str_eq(kid, "any");
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_keyring_add_errors)
{
	hyp_keyring_t	*kr;
	uint8_t		 big[64];
	char		 kid[40];
	int		 i;

	memset(big, 1, sizeof(big));
	ck_assert_ptr_nonnull(kr = hyp_keyring_new());
	ck_assert_int_eq(hyp_keyring_add(kr, "k", big, 31, 0, 0),
	    HYP_ETICKET_KEY_SHORT);
	ck_assert_int_eq(hyp_keyring_add(kr, "", big, 32, 0, 0), HYP_EINVAL);
	ck_assert_int_eq(hyp_keyring_add(kr, "a b", big, 32, 0, 0),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_keyring_add(kr, "k\xc3\xa9", big, 32, 0, 0),
	    HYP_EINVAL);
	memset(kid, 'a', 33);
	kid[33] = '\0';
	ck_assert_int_eq(hyp_keyring_add(kr, kid, big, 32, 0, 0), HYP_EINVAL);
	kid[32] = '\0';
	ck_assert_int_eq(hyp_keyring_add(kr, kid, big, 32, 0, 0), 0);
	ck_assert_int_eq(hyp_keyring_add(kr, "w", big, 32, 20, 10),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_keyring_add(kr, "w", big, 32, 10, 10), 0);
	ck_assert_int_eq(hyp_keyring_add(kr, "w", big, 64, 0, 0), HYP_EEXIST);
	ck_assert_int_eq(hyp_keyring_add(kr, NULL, big, 32, 0, 0),
	    HYP_EINVAL);
	for (i = 2; i < 16; i++) {
		snprintf(kid, sizeof(kid), "key-%d", i);
		ck_assert_int_eq(hyp_keyring_add(kr, kid, big, 64, 0, 0), 0);
	}
	ck_assert_int_eq(hyp_keyring_add(kr, "seventeen", big, 32, 0, 0),
	    HYP_ENOSPC);
	hyp_keyring_free(kr);
	hyp_keyring_free(NULL);
}
END_TEST

/* Sign a backend ticket for b1 with key1 and nonce n. */
static int
nonce_ticket(uint8_t *out, size_t cap, uint32_t n, uint64_t at, uint32_t ttl)
{
	struct hyp_ticket	t;

	memset(&t, 0, sizeof(t));
	strcpy(t.kid, "k1");
	t.issued_at = at;
	t.ttl = ttl;
	randombytes_buf(t.nonce, sizeof(t.nonce));
	memcpy(t.nonce, &n, sizeof(n));
	t.scope = HYP_TICKET_SCOPE_BACKEND;
	strcpy(t.scope_id, "b1");
	strcpy(t.target, "b1");
	return (hyp_ticket_sign(&t, key1, 32, out, cap));
}

START_TEST(test_replay)
{
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1" };
	hyp_keyring_t			*kr = keyring_k1();
	hyp_replay_t			*rc;
	uint8_t				 tk[5][256];
	int				 len[5], i;

	ck_assert_ptr_null(hyp_replay_new(0));
	ck_assert_ptr_nonnull(rc = hyp_replay_new(4));
	for (i = 0; i < 5; i++)
		ck_assert_int_gt(len[i] = nonce_ticket(tk[i], sizeof(tk[i]),
		    (uint32_t)i, 1000 + (uint64_t)i, 10), 0);
	o.now = 1004;
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(hyp_ticket_verify(tk[i], (size_t)len[i], kr,
		    rc, &o, NULL), 0);
	ck_assert_uint_eq(hyp_replay_count(rc), 4);
	ck_assert_int_eq(hyp_ticket_verify(tk[2], (size_t)len[2], kr, rc, &o,
	    NULL), HYP_ETICKET_REPLAYED);
	ck_assert_int_eq(hyp_ticket_verify(tk[4], (size_t)len[4], kr, rc, &o,
	    NULL), HYP_ETICKET_REPLAY_FULL);
	/* A rejected ticket is not recorded, a skipped cache records none. */
	ck_assert_uint_eq(hyp_replay_count(rc), 4);
	ck_assert_int_eq(hyp_ticket_verify(tk[4], (size_t)len[4], kr, NULL,
	    &o, NULL), 0);
	/* Ticket 0 expires at 1010: at 1011 its slot is free again. */
	o.now = 1010;
	ck_assert_int_eq(hyp_ticket_verify(tk[4], (size_t)len[4], kr, rc, &o,
	    NULL), HYP_ETICKET_REPLAY_FULL);
	o.now = 1011;
	ck_assert_int_eq(hyp_ticket_verify(tk[4], (size_t)len[4], kr, rc, &o,
	    NULL), 0);
	ck_assert_uint_eq(hyp_replay_count(rc), 4);
	ck_assert_int_eq(hyp_ticket_verify(tk[4], (size_t)len[4], kr, rc, &o,
	    NULL), HYP_ETICKET_REPLAYED);
	/* Everything expired: one insert purges them all. */
	o.now = 1100;
	ck_assert_int_eq(hyp_ticket_verify(tk[0], (size_t)len[0], kr, rc, &o,
	    NULL), HYP_ETICKET_EXPIRED);
	o.skew = 100;
	ck_assert_int_eq(hyp_ticket_verify(tk[0], (size_t)len[0], kr, rc, &o,
	    NULL), 0);
	ck_assert_uint_eq(hyp_replay_count(rc), 1);
	hyp_replay_free(rc);
	hyp_replay_free(NULL);
	ck_assert_uint_eq(hyp_replay_count(NULL), 0);
	hyp_keyring_free(kr);
}
END_TEST

/* Naive model of the replay cache: nonce id and expiry. */
struct model_ent {
	uint32_t	id;
	uint64_t	expires;
};

START_TEST(test_replay_stress)
{
	enum { CAP = 257, ROUNDS = 20000, IDS = 1500 };
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1" };
	static struct model_ent		 model[CAP];
	static uint8_t			 tk[IDS][128];
	static int			 len[IDS];
	static uint64_t			 issued[IDS];
	hyp_keyring_t			*kr = keyring_k1();
	hyp_replay_t			*rc;
	size_t				 nmodel = 0, j;
	uint64_t			 now = 100000;
	uint32_t			 id, ttl;
	int				 i, rv, want, found;

	ck_assert_ptr_nonnull(rc = hyp_replay_new(CAP));
	for (i = 0; i < ROUNDS; i++) {
		now += randombytes_uniform(3);
		id = randombytes_uniform(IDS);
		if (len[id] == 0 || issued[id] + 50 < now) {
			/* A fresh ticket for this id (a new nonce). */
			ttl = 1 + randombytes_uniform(40);
			issued[id] = now;
			/* The old nonce (if any) has expired by now. */
			ck_assert_int_gt(len[id] = nonce_ticket(tk[id],
			    sizeof(tk[id]), id, now, ttl), 0);
		}
		ttl = (uint32_t)tk[id][7 + 2 + 8] << 24 |
		    (uint32_t)tk[id][7 + 2 + 9] << 16 |
		    (uint32_t)tk[id][7 + 2 + 10] << 8 | tk[id][7 + 2 + 11];
		o.now = now;
		rv = hyp_ticket_verify(tk[id], (size_t)len[id], kr, rc, &o,
		    NULL);
		/* The model: drop expired, then look up, then insert. */
		if (issued[id] + ttl < now)
			want = HYP_ETICKET_EXPIRED;
		else {
			for (j = 0; j < nmodel; )
				if (model[j].expires < now)
					model[j] = model[--nmodel];
				else
					j++;
			found = 0;
			for (j = 0; j < nmodel; j++)
				if (model[j].id == id)
					found = 1;
			if (found)
				want = HYP_ETICKET_REPLAYED;
			else if (nmodel == CAP)
				want = HYP_ETICKET_REPLAY_FULL;
			else {
				want = 0;
				model[nmodel].id = id;
				model[nmodel].expires = issued[id] + ttl;
				nmodel++;
			}
		}
		ck_assert_msg(rv == want, "round %d id %u: %d, want %d", i,
		    id, rv, want);
		if (want != HYP_ETICKET_EXPIRED)
			ck_assert_uint_eq(hyp_replay_count(rc), nmodel);
	}
	hyp_replay_free(rc);
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_address_binding)
{
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1",
					    .now = 1010 };
	struct sockaddr_storage		 ss;
	struct sockaddr_un		 sun;
	struct hyp_ticket		 t;
	hyp_keyring_t			*kr = keyring_k1();
	uint8_t				 tk[HYP_TICKET_MAX], ext[64];
	size_t				 extlen;
	int				 len;

	/* IPv4 binding 192.0.2.1. */
	ck_assert_int_gt(len = sample_ticket(tk, sizeof(tk), &t, ext,
	    &extlen), 0);
	o.peer = (struct sockaddr *)&ss;
	addr_to_sa("192.0.2.1", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	addr_to_sa("::ffff:192.0.2.1", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	addr_to_sa("::192.0.2.1", &ss);		/* compatible, not mapped */
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_ADDRESS);
	addr_to_sa("192.0.2.2", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_ADDRESS);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	o.peer = (struct sockaddr *)&sun;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_ADDRESS);

	/* A mapped IPv6 binding equals the IPv4 peer. */
	o.peer = (struct sockaddr *)&ss;
	t.addr_family = 6;
	memset(t.addr, 0, 16);
	memcpy(t.addr + 10, "\xff\xff\xc0\x00\x02\x01", 6);
	ck_assert_int_gt(len = hyp_ticket_sign(&t, key1, 32, tk, sizeof(tk)),
	    0);
	addr_to_sa("192.0.2.1", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	addr_to_sa("::ffff:192.0.2.1", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);

	/* A plain IPv6 binding. */
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", t.addr), 1);
	ck_assert_int_gt(len = hyp_ticket_sign(&t, key1, 32, tk, sizeof(tk)),
	    0);
	addr_to_sa("2001:db8::7", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	addr_to_sa("2001:db8::8", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_ADDRESS);
	addr_to_sa("192.0.2.1", &ss);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_ADDRESS);
	o.peer = NULL;		/* not checked */
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_time_overflow)
{
	struct hyp_ticket_verify_opts	 o = { .backend_id = "b1" };
	struct hyp_ticket		 t;
	hyp_keyring_t			*kr = keyring_k1();
	uint8_t				 tk[HYP_TICKET_MAX], ext[64];
	size_t				 extlen;
	int				 len;

	ck_assert_int_gt(sample_ticket(tk, sizeof(tk), &t, ext, &extlen), 0);
	t.has_addr = 0;
	t.issued_at = UINT64_MAX - 10;
	t.ttl = HYP_TICKET_TTL_MAX;
	ck_assert_int_gt(len = hyp_ticket_sign(&t, key1, 32, tk, sizeof(tk)),
	    0);
	o.now = 1000;
	o.skew = UINT32_MAX;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_NOT_YET);
	o.now = UINT64_MAX;	/* sums saturate instead of wrapping */
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), 0);
	o.now = UINT64_MAX - 20;
	o.skew = 5;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_NOT_YET);
	/* issued_at 0 is far in the past. */
	t.issued_at = 0;
	ck_assert_int_gt(len = hyp_ticket_sign(&t, key1, 32, tk, sizeof(tk)),
	    0);
	o.now = 1000000;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_EXPIRED);
	/* now = 0 means the wall clock: far past issued_at + ttl. */
	o.now = 0;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_ETICKET_EXPIRED);
	/* Required arguments. */
	o.backend_id = NULL;
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, &o,
	    NULL), HYP_EINVAL);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, NULL, NULL, &o,
	    NULL), HYP_EINVAL);
	ck_assert_int_eq(hyp_ticket_verify(tk, (size_t)len, kr, NULL, NULL,
	    NULL), HYP_EINVAL);
	hyp_keyring_free(kr);
}
END_TEST

START_TEST(test_ext_tlv)
{
	uint8_t		 buf[300], big[256];
	const uint8_t	*d;
	size_t		 len = 0, dl;

	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 10, &len, 1, "abcdefgh", 8),
	    0);
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 10, &len, 2, NULL, 0),
	    HYP_ENOSPC);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 11, &len, 2, NULL, 0),
	    HYP_ENOSPC);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 12, &len, 2, NULL, 0), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, sizeof(buf), &len, 3, big,
	    256), HYP_EINVAL);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 12 + 256, &len, 3, big,
	    255), HYP_ENOSPC);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 12 + 257, &len, 3, big,
	    255), 0);
	ck_assert_uint_eq(len, 12 + 257);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, sizeof(buf), &len, 4, NULL,
	    1), HYP_EINVAL);
	ck_assert_int_eq(hyp_ticket_ext_add(buf, 5, &len, 4, NULL, 0),
	    HYP_EINVAL);	/* *len > cap */

	ck_assert_int_eq(hyp_ticket_ext_find(buf, len, 1, &d, &dl), 0);
	ck_assert_uint_eq(dl, 8);
	ck_assert_mem_eq(d, "abcdefgh", 8);
	ck_assert_int_eq(hyp_ticket_ext_find(buf, len, 2, &d, &dl), 0);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(hyp_ticket_ext_find(buf, len, 3, &d, &dl), 0);
	ck_assert_uint_eq(dl, 255);
	ck_assert_ptr_eq(d, buf + 14);
	ck_assert_int_eq(hyp_ticket_ext_find(buf, len, 9, &d, &dl),
	    HYP_ENOENT);
	ck_assert_int_eq(hyp_ticket_ext_find(NULL, 0, 9, &d, &dl),
	    HYP_ENOENT);
	/* Malformed: cut inside the last entry, or inside a header. */
	ck_assert_int_eq(hyp_ticket_ext_find(buf, len - 1, 1, &d, &dl),
	    HYP_ETICKET_FORMAT);
	ck_assert_int_eq(hyp_ticket_ext_find(buf, 11, 1, &d, &dl),
	    HYP_ETICKET_FORMAT);
	ck_assert_int_eq(hyp_ticket_ext_find(buf, 1, 1, &d, &dl),
	    HYP_ETICKET_FORMAT);
}
END_TEST

START_TEST(test_strerror)
{
	int		 c, d;
	const char	*s;

	for (c = HYP_ETICKET_TOO_BIG; c <= HYP_ETICKET_FORMAT; c++) {
		s = hyp_strerror(c);
		ck_assert_str_ne(s, "Unknown error");
		for (d = HYP_ETICKET_TOO_BIG; d < c; d++)
			ck_assert_str_ne(s, hyp_strerror(d));
	}
}
END_TEST

/* Build the test suite. */
static Suite *
ticket_suite(void)
{
	Suite	*s = suite_create("ticket");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_tamper_every_byte);
	tcase_add_test(tc, test_truncate_every_length);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_sign_limits);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_keyring_add_errors);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_stress);
	tcase_add_test(tc, test_address_binding);
	tcase_add_test(tc, test_time_overflow);
	tcase_add_test(tc, test_ext_tlv);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (sodium_init() < 0)
		return (1);
	sr = srunner_create(ticket_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
