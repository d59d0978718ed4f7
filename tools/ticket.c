/*
 * ticket.c: "hyproxctl ticket sign | verify | inspect": referral tickets
 * (sdk/hyprox/ticket.h, doc/ticket.md) from the shell, for operators and
 * for backends written in other languages.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>
#include <hyprox/secret.h>
#include <hyprox/ticket.h>
#include <hyprox/util.h>

#include "hyproxctl.h"

#define TICKET_EXIT_REJECTED	3
#define TICKET_KEYS_MAX		16	/* --key in verify */
#define TICKET_STDIN_MAX	(4 * HYP_TICKET_MAX + 64)	/* hex + blanks */

/* Options of ticket sign. */
struct tk_sign_opts {
	struct hyp_ticket	 t;
	const char		*key_ref;
	int			 have_kid, have_target, have_scope_id;
	int			 have_nonce;
	enum { TK_HEX, TK_BASE64, TK_RAW } out;
	uint8_t			 ext[HYP_TICKET_MAX];
	size_t			 extlen;
};

/* One --key of ticket verify. */
struct tk_key {
	char		 kid[HYP_TICKET_KID_MAX + 1];
	const char	*ref;
	uint64_t	 from, to;
};

static void	tk_usage(FILE *);
static const char *tk_code_name(int);
static int	tk_parse_u64(const char *, uint64_t *);
static int	tk_parse_seconds(const char *, uint64_t, uint64_t *);
static int	tk_parse_id(const char *, char *, size_t);
static int	tk_parse_ext(const char *, uint8_t *, size_t, size_t *);
static int	tk_parse_addr(const char *, struct sockaddr_storage *);
static int	tk_read_ticket(const char *, uint8_t *, size_t *);
static int	tk_read_key(const char *, uint8_t **, size_t *);
static void	tk_hex(FILE *, const uint8_t *, size_t);
static const char *tk_scope_name(int);
static void	tk_time(uint64_t, char *, size_t);
static void	tk_print_text(FILE *, const struct hyp_ticket *, size_t);
static void	tk_print_json(FILE *, const struct hyp_ticket *, size_t);
static int	tk_sign(int, char **);
static int	tk_verify(int, char **);
static int	tk_inspect(int, char **);

/* Print usage of ticket to fp. */
static void
tk_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hyproxctl ticket sign --key-id ID --key env:NAME|file:PATH "
	    "--target ID\n"
	    "           [--scope backend|pool|global] [--scope-id ID] "
	    "[--ttl 30s] [--uuid UUID]\n"
	    "           [--addr IP] [--ext TYPE:HEX]... [--now SECONDS] "
	    "[--nonce HEX]\n"
	    "           [--base64 | --raw]\n"
	    "       hyproxctl ticket verify --key ID=env:NAME|file:PATH... "
	    "[--valid ID=FROM..TO]...\n"
	    "           --backend ID [--pool ID] [--uuid UUID] [--peer IP] "
	    "[--skew 5s]\n"
	    "           [--now SECONDS] [--json] TICKET_HEX|-\n"
	    "       hyproxctl ticket inspect [--json] TICKET_HEX|-\n"
	    "exit status: 0 ok, 3 ticket rejected, 2 usage, 1 other errors\n");
}

/* Symbolic name of a ticket error code. */
static const char *
tk_code_name(int code)
{
	switch (code) {
	case 0:
		return ("ok");
	case HYP_ETICKET_FORMAT:
		return ("HYP_ETICKET_FORMAT");
	case HYP_ETICKET_MAGIC:
		return ("HYP_ETICKET_MAGIC");
	case HYP_ETICKET_VERSION:
		return ("HYP_ETICKET_VERSION");
	case HYP_ETICKET_KEY_UNKNOWN:
		return ("HYP_ETICKET_KEY_UNKNOWN");
	case HYP_ETICKET_KEY_RETIRED:
		return ("HYP_ETICKET_KEY_RETIRED");
	case HYP_ETICKET_MAC:
		return ("HYP_ETICKET_MAC");
	case HYP_ETICKET_NOT_YET:
		return ("HYP_ETICKET_NOT_YET");
	case HYP_ETICKET_EXPIRED:
		return ("HYP_ETICKET_EXPIRED");
	case HYP_ETICKET_SCOPE:
		return ("HYP_ETICKET_SCOPE");
	case HYP_ETICKET_TARGET:
		return ("HYP_ETICKET_TARGET");
	case HYP_ETICKET_UUID:
		return ("HYP_ETICKET_UUID");
	case HYP_ETICKET_ADDRESS:
		return ("HYP_ETICKET_ADDRESS");
	case HYP_ETICKET_REPLAYED:
		return ("HYP_ETICKET_REPLAYED");
	case HYP_ETICKET_REPLAY_FULL:
		return ("HYP_ETICKET_REPLAY_FULL");
	case HYP_ETICKET_KEY_SHORT:
		return ("HYP_ETICKET_KEY_SHORT");
	case HYP_ETICKET_TOO_BIG:
		return ("HYP_ETICKET_TOO_BIG");
	}
	return ("HYP_EINVAL");
}

/* Parse a decimal u64 with nothing after it. */
static int
tk_parse_u64(const char *s, uint64_t *v)
{
	unsigned long long	n;
	char			*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (HYP_EINVAL);
	*v = n;
	return (0);
}

/* Parse N, Ns, Nm or Nh into seconds, at most max. */
static int
tk_parse_seconds(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long	n;
	uint64_t		mul;
	char			*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return (HYP_EINVAL);
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else
		return (HYP_EINVAL);
	if (n > max / mul)
		return (HYP_ERANGE);
	*v = n * mul;
	return (0);
}

/* Copy an id of at most cap - 1 chars into out. */
static int
tk_parse_id(const char *s, char *out, size_t cap)
{
	size_t	len = strlen(s);

	if (len == 0 || len >= cap)
		return (HYP_EINVAL);
	memcpy(out, s, len + 1);
	return (0);
}

/* Parse TYPE:HEX and append it as a TLV to ext. */
static int
tk_parse_ext(const char *s, uint8_t *ext, size_t cap, size_t *len)
{
	uint8_t		data[256];
	unsigned long	type;
	ssize_t		n;
	char		*end;

	errno = 0;
	type = strtoul(s, &end, 0);
	if (end == s || *end != ':' || errno != 0 || type > 255)
		return (HYP_EINVAL);
	if ((n = probe_parse_hex(end + 1, data, 255)) < 0)
		return ((int)n);
	return (hyp_ticket_ext_add(ext, cap, len, (uint8_t)type, data,
	    (size_t)n));
}

/* Parse a numeric IPv4 or IPv6 address (a port would be ignored) into ss. */
static int
tk_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	uint16_t	port = 0;

	if (hyp_addr_parse(s, 0, ss, NULL) != 0 ||
	    hyp_addr_numeric((struct sockaddr *)ss, NULL, 0, &port) != 0 ||
	    port != 0)
		return (HYP_EINVAL);
	return (0);
}

/* Read a ticket from hex, or from standard input ("-": hex or raw). */
static int
tk_read_ticket(const char *arg, uint8_t *out, size_t *len)
{
	static char	text[TICKET_STDIN_MAX + 1];
	size_t		n;
	ssize_t		r;

	if (strcmp(arg, "-") == 0) {
		n = fread(text, 1, TICKET_STDIN_MAX + 1, stdin);
		if (ferror(stdin) || n > TICKET_STDIN_MAX)
			return (HYP_ETOOBIG);
		if (n >= 4 && memcmp(text, HYP_TICKET_MAGIC, 4) == 0) {
			if (n > HYP_TICKET_MAX)
				return (HYP_ETOOBIG);
			memcpy(out, text, n);
			*len = n;
			return (0);
		}
		text[n] = '\0';
		arg = text;
	}
	if ((r = probe_parse_hex(arg, out, HYP_TICKET_MAX)) < 0)
		return ((int)r);
	*len = (size_t)r;
	return (0);
}

/* Read a key from an env:/file: reference; print why not. */
static int
tk_read_key(const char *ref, uint8_t **key, size_t *len)
{
	char	err[512];
	int	rv, warn = 0;

	err[0] = '\0';
	if ((rv = hyp_secret_read(ref, NULL, key, len, &warn, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "hyproxctl ticket: %s\n", err[0] != '\0' ? err :
		    hyp_strerror(rv));
		return (rv);
	}
	if (warn)
		fprintf(stderr, "hyproxctl ticket: warning: %s is readable by "
		    "group or others\n", ref);
	if (*len < HYP_TICKET_KEY_MIN) {
		fprintf(stderr, "hyproxctl ticket: %s: %s: %s (%zu bytes)\n",
		    ref, tk_code_name(HYP_ETICKET_KEY_SHORT),
		    hyp_strerror(HYP_ETICKET_KEY_SHORT), *len);
		hyp_secret_free(*key, *len);
		*key = NULL;
		return (HYP_ETICKET_KEY_SHORT);
	}
	return (0);
}

/* Print len bytes as lowercase hex. */
static void
tk_hex(FILE *fp, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		fprintf(fp, "%02x", p[i]);
}

/* Name of a scope. */
static const char *
tk_scope_name(int scope)
{
	switch (scope) {
	case HYP_TICKET_SCOPE_GLOBAL:
		return ("global");
	case HYP_TICKET_SCOPE_POOL:
		return ("pool");
	case HYP_TICKET_SCOPE_BACKEND:
		return ("backend");
	}
	return ("unknown");
}

/* Format unix seconds as UTC ISO 8601, or "-" when out of range. */
static void
tk_time(uint64_t s, char *out, size_t cap)
{
	struct tm	tm;
	time_t		t = (time_t)s;

	if (s > (uint64_t)253402300799ULL || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "-");
}

/* Print a ticket's fields as "key value" lines. */
static void
tk_print_text(FILE *fp, const struct hyp_ticket *t, size_t len)
{
	char		uuid[37], addr[INET6_ADDRSTRLEN], ts[32];
	const uint8_t	*e;
	size_t		off;
	uint64_t	exp = t->issued_at + t->ttl;

	fprintf(fp, "  length      %zu\n", len);
	fprintf(fp, "  key-id      %s\n", t->kid);
	tk_time(t->issued_at, ts, sizeof(ts));
	fprintf(fp, "  issued-at   %" PRIu64 " (%s)\n", t->issued_at, ts);
	fprintf(fp, "  ttl         %" PRIu32 "\n", t->ttl);
	if (exp < t->issued_at)
		exp = UINT64_MAX;
	tk_time(exp, ts, sizeof(ts));
	fprintf(fp, "  expires-at  %" PRIu64 " (%s)\n", exp, ts);
	fprintf(fp, "  nonce       ");
	tk_hex(fp, t->nonce, sizeof(t->nonce));
	fprintf(fp, "\n  scope       %s\n", tk_scope_name(t->scope));
	fprintf(fp, "  scope-id    %s\n", t->scope == HYP_TICKET_SCOPE_GLOBAL ?
	    "-" : t->scope_id);
	fprintf(fp, "  target      %s\n", t->target);
	hyp_uuid_format(t->uuid, uuid);
	fprintf(fp, "  uuid        %s\n", uuid);
	if (t->has_addr) {
		inet_ntop(t->addr_family == 4 ? AF_INET : AF_INET6, t->addr,
		    addr, sizeof(addr));
		fprintf(fp, "  address     %s\n", addr);
	} else
		fprintf(fp, "  address     -\n");
	if (t->ext == NULL) {
		fprintf(fp, "  ext         -\n");
		return;
	}
	fprintf(fp, "  ext         %zu bytes ", t->ext_len);
	tk_hex(fp, t->ext, t->ext_len);
	fprintf(fp, "\n");
	for (off = 0; off < t->ext_len; off += 2 + (size_t)e[1]) {
		e = t->ext + off;
		fprintf(fp, "  ext-tlv     type %u%s length %u ", e[0],
		    e[0] == HYP_TICKET_EXT_TRACE_ID ? " (trace-id)" :
		    e[0] >= HYP_TICKET_EXT_PRIVATE ? " (private)" : "", e[1]);
		tk_hex(fp, e + 2, e[1]);
		fprintf(fp, "\n");
	}
}

/* Print a ticket's fields as the members of a JSON object. */
static void
tk_print_json(FILE *fp, const struct hyp_ticket *t, size_t len)
{
	char		uuid[37], addr[INET6_ADDRSTRLEN];
	const uint8_t	*e;
	size_t		off;

	/* Ids are [A-Za-z0-9._-]: nothing to escape. */
	fprintf(fp, "\"length\":%zu,\"key_id\":\"%s\",\"issued_at\":%" PRIu64
	    ",\"ttl\":%" PRIu32 ",\"nonce\":\"", len, t->kid, t->issued_at,
	    t->ttl);
	tk_hex(fp, t->nonce, sizeof(t->nonce));
	fprintf(fp, "\",\"scope\":\"%s\",\"scope_id\":", tk_scope_name(t->scope));
	if (t->scope == HYP_TICKET_SCOPE_GLOBAL)
		fprintf(fp, "null");
	else
		fprintf(fp, "\"%s\"", t->scope_id);
	hyp_uuid_format(t->uuid, uuid);
	fprintf(fp, ",\"target\":\"%s\",\"uuid\":\"%s\",\"address\":", t->target,
	    uuid);
	if (t->has_addr) {
		inet_ntop(t->addr_family == 4 ? AF_INET : AF_INET6, t->addr,
		    addr, sizeof(addr));
		fprintf(fp, "\"%s\"", addr);
	} else
		fprintf(fp, "null");
	fprintf(fp, ",\"ext\":");
	if (t->ext == NULL) {
		fprintf(fp, "null");
		return;
	}
	fprintf(fp, "[");
	for (off = 0; off < t->ext_len; off += 2 + (size_t)e[1]) {
		e = t->ext + off;
		fprintf(fp, "%s{\"type\":%u,\"data\":\"", off == 0 ? "" : ",",
		    e[0]);
		tk_hex(fp, e + 2, e[1]);
		fprintf(fp, "\"}");
	}
	fprintf(fp, "]");
}

/* hyproxctl ticket sign. */
static int
tk_sign(int argc, char **argv)
{
	enum { O_KID = 256, O_KEY, O_TTL, O_SCOPE, O_SCOPE_ID, O_TARGET,
	    O_UUID, O_ADDR, O_EXT, O_NOW, O_NONCE, O_B64, O_RAW };
	static const struct option longopts[] = {
		{ "key-id", required_argument, NULL, O_KID },
		{ "key", required_argument, NULL, O_KEY },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "scope", required_argument, NULL, O_SCOPE },
		{ "scope-id", required_argument, NULL, O_SCOPE_ID },
		{ "target", required_argument, NULL, O_TARGET },
		{ "uuid", required_argument, NULL, O_UUID },
		{ "addr", required_argument, NULL, O_ADDR },
		{ "ext", required_argument, NULL, O_EXT },
		{ "now", required_argument, NULL, O_NOW },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "base64", no_argument, NULL, O_B64 },
		{ "raw", no_argument, NULL, O_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct tk_sign_opts	 o;
	struct sockaddr_storage		 ss;
	uint8_t				 out[HYP_TICKET_MAX], *key = NULL;
	char				 b64[HYP_TICKET_MAX * 2];
	uint64_t			 v;
	size_t				 keylen = 0;
	ssize_t				 n;
	int				 ch, rv;

	memset(&o, 0, sizeof(o));
	o.t.ttl = 30;
	o.t.scope = HYP_TICKET_SCOPE_BACKEND;
	o.t.issued_at = (uint64_t)time(NULL);
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_KID:
			if (tk_parse_id(optarg, o.t.kid, sizeof(o.t.kid)) != 0)
				goto bad;
			o.have_kid = 1;
			break;
		case O_KEY:
			o.key_ref = optarg;
			break;
		case O_TTL:
			if (tk_parse_seconds(optarg, HYP_TICKET_TTL_MAX, &v) != 0
			    || v == 0)
				goto bad;
			o.t.ttl = (uint32_t)v;
			break;
		case O_SCOPE:
			if (strcmp(optarg, "backend") == 0)
				o.t.scope = HYP_TICKET_SCOPE_BACKEND;
			else if (strcmp(optarg, "pool") == 0)
				o.t.scope = HYP_TICKET_SCOPE_POOL;
			else if (strcmp(optarg, "global") == 0)
				o.t.scope = HYP_TICKET_SCOPE_GLOBAL;
			else
				goto bad;
			break;
		case O_SCOPE_ID:
			if (tk_parse_id(optarg, o.t.scope_id,
			    sizeof(o.t.scope_id)) != 0)
				goto bad;
			o.have_scope_id = 1;
			break;
		case O_TARGET:
			if (tk_parse_id(optarg, o.t.target,
			    sizeof(o.t.target)) != 0)
				goto bad;
			o.have_target = 1;
			break;
		case O_UUID:
			if (hyp_uuid_parse(optarg, o.t.uuid) != 0)
				goto bad;
			break;
		case O_ADDR:
			if (tk_parse_addr(optarg, &ss) != 0)
				goto bad;
			o.t.has_addr = 1;
			if (ss.ss_family == AF_INET) {
				o.t.addr_family = 4;
				memcpy(o.t.addr, &((struct sockaddr_in *)&ss)->
				    sin_addr, 4);
			} else {
				o.t.addr_family = 6;
				memcpy(o.t.addr, &((struct sockaddr_in6 *)&ss)->
				    sin6_addr, 16);
			}
			break;
		case O_EXT:
			if (tk_parse_ext(optarg, o.ext, sizeof(o.ext),
			    &o.extlen) != 0)
				goto bad;
			break;
		case O_NOW:
			if (tk_parse_u64(optarg, &o.t.issued_at) != 0)
				goto bad;
			break;
		case O_NONCE:
			n = probe_parse_hex(optarg, o.t.nonce,
			    sizeof(o.t.nonce));
			if (n != HYP_TICKET_NONCE_LEN)
				goto bad;
			o.have_nonce = 1;
			break;
		case O_B64:
			o.out = TK_BASE64;
			break;
		case O_RAW:
			o.out = TK_RAW;
			break;
		case 'h':
			tk_usage(stdout);
			return (CTL_EXIT_OK);
		case ':':
			fprintf(stderr, "hyproxctl ticket sign: %s needs a "
			    "value\n", argv[optind - 1]);
			return (CTL_EXIT_USAGE);
		default:
			fprintf(stderr, "hyproxctl ticket sign: unknown "
			    "option: %s\n", argv[optind - 1]);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind != argc || !o.have_kid || o.key_ref == NULL ||
	    !o.have_target) {
		fprintf(stderr, "hyproxctl ticket sign: --key-id, --key and "
		    "--target are required, and nothing else\n");
		return (CTL_EXIT_USAGE);
	}
	if (o.t.scope == HYP_TICKET_SCOPE_BACKEND && !o.have_scope_id)
		memcpy(o.t.scope_id, o.t.target, sizeof(o.t.scope_id));
	if ((o.t.scope == HYP_TICKET_SCOPE_POOL && !o.have_scope_id) ||
	    (o.t.scope == HYP_TICKET_SCOPE_GLOBAL && o.have_scope_id)) {
		fprintf(stderr, "hyproxctl ticket sign: --scope pool needs "
		    "--scope-id, --scope global takes none\n");
		return (CTL_EXIT_USAGE);
	}
	if (o.extlen > 0) {
		o.t.ext = o.ext;
		o.t.ext_len = o.extlen;
	}
	if (!o.have_nonce) {
		if (sodium_init() < 0) {
			fprintf(stderr, "hyproxctl ticket sign: libsodium "
			    "failed to initialise\n");
			return (CTL_EXIT_ERROR);
		}
		randombytes_buf(o.t.nonce, sizeof(o.t.nonce));
	}
	if (tk_read_key(o.key_ref, &key, &keylen) != 0)
		return (CTL_EXIT_ERROR);
	rv = hyp_ticket_sign(&o.t, key, keylen, out, sizeof(out));
	hyp_secret_free(key, keylen);
	if (rv < 0) {
		fprintf(stderr, "hyproxctl ticket sign: %s: %s\n",
		    tk_code_name(rv), hyp_strerror(rv));
		return (rv == HYP_EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_ERROR);
	}
	switch (o.out) {
	case TK_HEX:
		tk_hex(stdout, out, (size_t)rv);
		printf("\n");
		break;
	case TK_BASE64:
		sodium_bin2base64(b64, sizeof(b64), out, (size_t)rv,
		    sodium_base64_VARIANT_ORIGINAL);
		printf("%s\n", b64);
		break;
	case TK_RAW:
		fwrite(out, 1, (size_t)rv, stdout);
		break;
	}
	return (fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR);
bad:
	fprintf(stderr, "hyproxctl ticket sign: bad value for %s: %s\n",
	    argv[optind - 1], optarg);
	return (CTL_EXIT_USAGE);
}

/* hyproxctl ticket verify. */
static int
tk_verify(int argc, char **argv)
{
	enum { O_KEY = 256, O_VALID, O_BACKEND, O_POOL, O_UUID, O_PEER,
	    O_SKEW, O_NOW, O_JSON };
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, O_KEY },
		{ "valid", required_argument, NULL, O_VALID },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "pool", required_argument, NULL, O_POOL },
		{ "uuid", required_argument, NULL, O_UUID },
		{ "peer", required_argument, NULL, O_PEER },
		{ "skew", required_argument, NULL, O_SKEW },
		{ "now", required_argument, NULL, O_NOW },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tk_key			 keys[TICKET_KEYS_MAX];
	struct hyp_ticket_verify_opts	 vo;
	struct hyp_ticket		 t;
	struct sockaddr_storage		 peer;
	hyp_keyring_t			*kr = NULL;
	uint8_t				 buf[HYP_TICKET_MAX], uuid[16], *key;
	const char			*eq, *dots;
	char				 kid[HYP_TICKET_KID_MAX + 1];
	uint64_t			 v;
	size_t				 nkeys = 0, i, len, keylen;
	int				 ch, rv, json = 0, ret;

	memset(&vo, 0, sizeof(vo));
	vo.skew = 5;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_KEY:
			if ((eq = strchr(optarg, '=')) == NULL ||
			    (size_t)(eq - optarg) > HYP_TICKET_KID_MAX ||
			    eq == optarg || nkeys == TICKET_KEYS_MAX)
				goto bad;
			memset(&keys[nkeys], 0, sizeof(keys[nkeys]));
			memcpy(keys[nkeys].kid, optarg, (size_t)(eq - optarg));
			keys[nkeys].ref = eq + 1;
			for (i = 0; i < nkeys; i++)
				if (strcmp(keys[i].kid, keys[nkeys].kid) == 0)
					goto bad;
			nkeys++;
			break;
		case O_VALID:
			/* ID=FROM..TO, either side may be empty (unbounded). */
			if ((eq = strchr(optarg, '=')) == NULL ||
			    (size_t)(eq - optarg) > HYP_TICKET_KID_MAX ||
			    (dots = strstr(eq + 1, "..")) == NULL)
				goto bad;
			memset(kid, 0, sizeof(kid));
			memcpy(kid, optarg, (size_t)(eq - optarg));
			for (i = 0; i < nkeys; i++)
				if (strcmp(keys[i].kid, kid) == 0)
					break;
			if (i == nkeys) {
				fprintf(stderr, "hyproxctl ticket verify: "
				    "--valid %s: give --key %s=... first\n",
				    optarg, kid);
				return (CTL_EXIT_USAGE);
			}
			keys[i].from = keys[i].to = 0;
			if (dots > eq + 1) {
				char	from[24];

				if ((size_t)(dots - eq - 1) >= sizeof(from))
					goto bad;
				memcpy(from, eq + 1, (size_t)(dots - eq - 1));
				from[dots - eq - 1] = '\0';
				if (tk_parse_u64(from, &keys[i].from) != 0)
					goto bad;
			}
			if (dots[2] != '\0' &&
			    tk_parse_u64(dots + 2, &keys[i].to) != 0)
				goto bad;
			break;
		case O_BACKEND:
			vo.backend_id = optarg;
			break;
		case O_POOL:
			vo.pool_id = optarg;
			break;
		case O_UUID:
			if (hyp_uuid_parse(optarg, uuid) != 0)
				goto bad;
			vo.uuid = uuid;
			break;
		case O_PEER:
			if (tk_parse_addr(optarg, &peer) != 0)
				goto bad;
			vo.peer = (struct sockaddr *)&peer;
			break;
		case O_SKEW:
			if (tk_parse_seconds(optarg, HYP_TICKET_TTL_MAX, &v) != 0)
				goto bad;
			vo.skew = (uint32_t)v;
			break;
		case O_NOW:
			if (tk_parse_u64(optarg, &vo.now) != 0 || vo.now == 0)
				goto bad;
			break;
		case O_JSON:
			json = 1;
			break;
		case 'h':
			tk_usage(stdout);
			return (CTL_EXIT_OK);
		case ':':
			fprintf(stderr, "hyproxctl ticket verify: %s needs a "
			    "value\n", argv[optind - 1]);
			return (CTL_EXIT_USAGE);
		default:
			fprintf(stderr, "hyproxctl ticket verify: unknown "
			    "option: %s\n", argv[optind - 1]);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind != argc - 1 || nkeys == 0 || vo.backend_id == NULL) {
		fprintf(stderr, "hyproxctl ticket verify: --key and --backend "
		    "are required, and one TICKET_HEX or -\n");
		return (CTL_EXIT_USAGE);
	}
	if (tk_read_ticket(argv[optind], buf, &len) != 0) {
		fprintf(stderr, "hyproxctl ticket verify: the ticket is not "
		    "hex (or raw bytes on stdin) of at most %d bytes\n",
		    HYP_TICKET_MAX);
		return (CTL_EXIT_USAGE);
	}
	if ((kr = hyp_keyring_new()) == NULL) {
		fprintf(stderr, "hyproxctl ticket verify: out of memory\n");
		return (CTL_EXIT_ERROR);
	}
	for (i = 0; i < nkeys; i++) {
		if (tk_read_key(keys[i].ref, &key, &keylen) != 0) {
			hyp_keyring_free(kr);
			return (CTL_EXIT_ERROR);
		}
		rv = hyp_keyring_add(kr, keys[i].kid, key, keylen,
		    keys[i].from, keys[i].to);
		hyp_secret_free(key, keylen);
		if (rv != 0) {
			fprintf(stderr, "hyproxctl ticket verify: key %s: %s\n",
			    keys[i].kid, hyp_strerror(rv));
			hyp_keyring_free(kr);
			return (rv == HYP_EINVAL ? CTL_EXIT_USAGE :
			    CTL_EXIT_ERROR);
		}
	}
	rv = hyp_ticket_verify(buf, len, kr, NULL, &vo, &t);
	hyp_keyring_free(kr);
	if (rv == 0) {
		ret = CTL_EXIT_OK;
		if (json) {
			printf("{\"result\":\"ok\",");
			tk_print_json(stdout, &t, len);
			printf("}\n");
		} else {
			printf("ok\n");
			tk_print_text(stdout, &t, len);
		}
	} else if (rv == HYP_EINVAL) {
		fprintf(stderr, "hyproxctl ticket verify: %s\n",
		    hyp_strerror(rv));
		return (CTL_EXIT_ERROR);
	} else {
		ret = TICKET_EXIT_REJECTED;
		if (json)
			printf("{\"result\":\"rejected\",\"code\":\"%s\","
			    "\"errno\":%d,\"message\":\"%s\"}\n",
			    tk_code_name(rv), rv, hyp_strerror(rv));
		else
			printf("%s %s\n", tk_code_name(rv), hyp_strerror(rv));
	}
	return (fflush(stdout) == 0 ? ret : CTL_EXIT_ERROR);
bad:
	fprintf(stderr, "hyproxctl ticket verify: bad value for %s: %s\n",
	    argv[optind - 1], optarg);
	return (CTL_EXIT_USAGE);
}

/* hyproxctl ticket inspect. */
static int
tk_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct hyp_ticket	t;
	uint8_t			buf[HYP_TICKET_MAX];
	size_t			len;
	int			ch, rv, json = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			tk_usage(stdout);
			return (CTL_EXIT_OK);
		default:
			fprintf(stderr, "hyproxctl ticket inspect: unknown "
			    "option: %s\n", argv[optind - 1]);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hyproxctl ticket inspect: one TICKET_HEX "
		    "or - expected\n");
		return (CTL_EXIT_USAGE);
	}
	if (tk_read_ticket(argv[optind], buf, &len) != 0) {
		fprintf(stderr, "hyproxctl ticket inspect: the ticket is not "
		    "hex (or raw bytes on stdin) of at most %d bytes\n",
		    HYP_TICKET_MAX);
		return (CTL_EXIT_USAGE);
	}
	if ((rv = hyp_ticket_parse(buf, len, &t)) != 0) {
		if (json)
			printf("{\"result\":\"malformed\",\"code\":\"%s\","
			    "\"errno\":%d,\"message\":\"%s\"}\n",
			    tk_code_name(rv), rv, hyp_strerror(rv));
		else
			printf("%s %s\n", tk_code_name(rv), hyp_strerror(rv));
		return (TICKET_EXIT_REJECTED);
	}
	if (json) {
		printf("{\"result\":\"unverified\",\"version\":%d,",
		    HYP_TICKET_VERSION);
		tk_print_json(stdout, &t, len);
		printf(",\"mac\":\"");
		tk_hex(stdout, buf + len - HYP_TICKET_MAC_LEN,
		    HYP_TICKET_MAC_LEN);
		printf("\",\"mac_verified\":false}\n");
	} else {
		printf("unverified\n  version     %d\n", HYP_TICKET_VERSION);
		tk_print_text(stdout, &t, len);
		printf("  mac         ");
		tk_hex(stdout, buf + len - HYP_TICKET_MAC_LEN,
		    HYP_TICKET_MAC_LEN);
		printf(" (unverified)\n");
	}
	return (fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR);
}

/* Dispatch hyproxctl ticket ACTION. */
int
ticket_main(int argc, char **argv)
{
	if (argc < 2) {
		tk_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		tk_usage(stdout);
		return (CTL_EXIT_OK);
	}
	if (strcmp(argv[1], "sign") == 0)
		return (tk_sign(argc - 1, argv + 1));
	if (strcmp(argv[1], "verify") == 0)
		return (tk_verify(argc - 1, argv + 1));
	if (strcmp(argv[1], "inspect") == 0)
		return (tk_inspect(argc - 1, argv + 1));
	fprintf(stderr, "hyproxctl ticket: unknown action: %s\n", argv[1]);
	tk_usage(stderr);
	return (CTL_EXIT_USAGE);
}
