/*
 * registry.c: "hyproxctl registry register | heartbeat | drain | remove |
 * list": signed requests to the registry-http plugin's API, the way an
 * orchestrator sends them (hyprox-registry-http(5), SIGNING).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <sodium.h>

#include <hyprox/error.h>
#include <hyprox/secret.h>
#include <hyprox/util.h>

#include "hyproxctl.h"

#define RG_EXIT_REFUSED		3	/* the API answered 4xx or 5xx */
#define RG_BODY_MAX		16384
#define RG_URI_MAX		1024
#define RG_SIG_HEX		64
#define RG_DEF_URL		"http://127.0.0.1:9521"
#define RG_DEF_SECRET		"env:HYPROX_REGISTRY_SECRET"
#define RG_PREFIX		"HYPROX-HMAC-SHA256"
#define RG_TIMEOUT_MAX_MS	(24ull * 3600 * 1000)	/* a day */

/* The options common to every registry command. */
struct rg_opts {
	const char	*url;
	const char	*key_id;
	const char	*secret_ref;
	const char	*now;		/* --now: fixed timestamp */
	const char	*nonce;		/* --nonce: fixed nonce */
	uint32_t	 timeout_ms;
	int		 verbose;
};

/* One exchange. */
struct rg_call {
	int		 done;
	int		 status;
	char		*body;
	size_t		 len;
	const char	*error;
};

/* Print usage of registry to fp. */
static void
rg_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hyproxctl registry [--url URL] [--key-id ID] "
	    "[--secret env:NAME|file:PATH]\n"
	    "           [--timeout 10s] [--now SECONDS] [--nonce NONCE] [-v] "
	    "COMMAND ARGS\n"
	    "commands:\n"
	    "  register --id ID --pool POOL --host ADDR --port PORT "
	    "[--weight N]\n"
	    "           [--max-players N] [--tag TAG]... [--ttl SECONDS]\n"
	    "  heartbeat ID --players N [--max-players N] "
	    "[--state ready|starting|draining]\n"
	    "  drain ID\n"
	    "  remove ID\n"
	    "  list [--pool POOL] [--state STATE] [--tag TAG] [--limit N] "
	    "[--cursor C]\n"
	    "defaults: --url $HYPROX_REGISTRY_URL or " RG_DEF_URL ", --key-id "
	    "$HYPROX_REGISTRY_KEY_ID,\n"
	    "          --secret " RG_DEF_SECRET "\n"
	    "exit status: 0 done (2xx), 3 refused (4xx/5xx, the JSON error on "
	    "stdout),\n"
	    "             2 usage, 1 other errors\n");
}

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
static void
rg_hex(const uint8_t *b, size_t n, char *out)
{
	static const char	d[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Parse a decimal number at most max. */
static int
rg_num(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long	n;
	char			*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return (HYP_EINVAL);
	*v = n;
	return (0);
}

/* Whether s is a safe id/tag for a JSON string without escapes. */
static int
rg_token(const char *s, size_t max)
{
	size_t	n = strlen(s);

	return (n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:=/-") == n);
}

/* Append s percent-encoded (RFC 3986 unreserved kept) to out. */
static int
rg_pct(char *out, size_t cap, const char *s)
{
	static const char	hx[] = "0123456789ABCDEF";
	size_t			n = strlen(out);

	for (; *s != '\0'; s++) {
		if (n + 4 >= cap)
			return (HYP_ENOSPC);
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			out[n++] = *s;
		else {
			out[n++] = '%';
			out[n++] = hx[(unsigned char)*s >> 4];
			out[n++] = hx[*s & 15];
		}
	}
	out[n] = '\0';
	return (0);
}

/* The response arrived (or the connection failed: req NULL or code 0). */
static void
rg_done(struct evhttp_request *req, void *arg)
{
	struct rg_call	*c = arg;
	struct evbuffer	*in;

	c->done = 1;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		c->error = "no response (connection refused, reset or timed "
		    "out)";
		return;
	}
	c->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	c->len = evbuffer_get_length(in);
	if ((c->body = malloc(c->len + 1)) == NULL) {
		c->error = "out of memory";
		return;
	}
	evbuffer_remove(in, c->body, c->len);
	c->body[c->len] = '\0';
}

/* Sign and send one request; print the answer; return the exit status. */
static int
rg_send(const struct rg_opts *o, const char *method, const char *path,
    const char *body)
{
	struct event_base		*base = NULL;
	struct evhttp_connection	*con = NULL;
	struct evhttp_request		*req;
	struct evhttp_uri		*u = NULL;
	struct evkeyvalq		*h;
	struct rg_call			 call;
	crypto_auth_hmacsha256_state	 st;
	uint8_t				*secret = NULL, hash[32], mac[32], nb[24];
	size_t				 secretlen = 0, blen = strlen(body);
	char				 canon[RG_URI_MAX + 256], hexh[65];
	char				 sig[RG_SIG_HEX + 1], ts[24], nonce[80];
	char				 err[512], hostport[300];
	const char			*host, *upath;
	enum evhttp_cmd_type		 type;
	int				 port, rv, warn = 0, ret = CTL_EXIT_ERROR;

	memset(&call, 0, sizeof(call));
	if (o->key_id == NULL) {
		fprintf(stderr, "hyproxctl registry: --key-id (or "
		    "HYPROX_REGISTRY_KEY_ID) is required\n");
		return (CTL_EXIT_USAGE);
	}
	if ((u = evhttp_uri_parse(o->url)) == NULL ||
	    evhttp_uri_get_scheme(u) == NULL ||
	    strcmp(evhttp_uri_get_scheme(u), "http") != 0 ||
	    (host = evhttp_uri_get_host(u)) == NULL || *host == '\0' ||
	    ((upath = evhttp_uri_get_path(u)) != NULL && *upath != '\0' &&
	    strcmp(upath, "/") != 0) || evhttp_uri_get_query(u) != NULL) {
		fprintf(stderr, "hyproxctl registry: --url %s: expected "
		    "http://HOST:PORT\n", o->url);
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
	err[0] = '\0';
	if ((rv = hyp_secret_read(o->secret_ref, NULL, &secret, &secretlen,
	    &warn, err, sizeof(err))) != 0) {
		fprintf(stderr, "hyproxctl registry: %s\n", err[0] != '\0' ?
		    err : hyp_strerror(rv));
		goto out;
	}
	if (warn)
		fprintf(stderr, "hyproxctl registry: warning: %s is readable by "
		    "group or others\n", o->secret_ref);
	if (sodium_init() < 0)
		goto out;
	if (o->now != NULL)
		snprintf(ts, sizeof(ts), "%s", o->now);
	else
		snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (o->nonce != NULL)
		snprintf(nonce, sizeof(nonce), "%s", o->nonce);
	else {
		randombytes_buf(nb, sizeof(nb));
		sodium_bin2base64(nonce, sizeof(nonce), nb, sizeof(nb),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	}
	crypto_hash_sha256(hash, (const uint8_t *)body, blen);
	rg_hex(hash, sizeof(hash), hexh);
	rv = snprintf(canon, sizeof(canon), "%s\n%s\n%s\n%s\n%s\n%s", RG_PREFIX,
	    method, path, ts, nonce, hexh);
	if (rv < 0 || (size_t)rv >= sizeof(canon)) {
		fprintf(stderr, "hyproxctl registry: request path too long\n");
		goto out;
	}
	crypto_auth_hmacsha256_init(&st, secret, secretlen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)canon,
	    strlen(canon));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	rg_hex(mac, sizeof(mac), sig);
	if (o->verbose)
		fprintf(stderr, "canonical string:\n%s\nsignature: %s\n", canon,
		    sig);

	if ((base = event_base_new()) == NULL ||
	    (con = evhttp_connection_base_new(base, NULL, host,
	    (uint16_t)port)) == NULL ||
	    (req = evhttp_request_new(rg_done, &call)) == NULL) {
		fprintf(stderr, "hyproxctl registry: cannot set up HTTP\n");
		goto out;
	}
	evhttp_connection_set_timeout(con, (int)((o->timeout_ms + 999) / 1000));
	evhttp_connection_set_retries(con, 0);
	snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "X-Hyprox-Key", o->key_id);
	evhttp_add_header(h, "X-Hyprox-Timestamp", ts);
	evhttp_add_header(h, "X-Hyprox-Nonce", nonce);
	evhttp_add_header(h, "X-Hyprox-Signature", sig);
	evhttp_add_header(h, "Connection", "close");
	if (blen > 0) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, blen);
	}
	type = strcmp(method, "GET") == 0 ? EVHTTP_REQ_GET :
	    strcmp(method, "DELETE") == 0 ? EVHTTP_REQ_DELETE : EVHTTP_REQ_POST;
	if (evhttp_make_request(con, req, type, path) != 0) {
		fprintf(stderr, "hyproxctl registry: cannot send the request\n");
		goto out;
	}
	event_base_dispatch(base);
	if (call.error != NULL || !call.done) {
		fprintf(stderr, "hyproxctl registry: %s: %s\n", o->url,
		    call.error != NULL ? call.error : "no response");
		goto out;
	}
	if (call.body != NULL)
		fwrite(call.body, 1, call.len, stdout);
	if (call.status >= 200 && call.status < 300)
		ret = CTL_EXIT_OK;
	else {
		fprintf(stderr, "hyproxctl registry: HTTP %d\n", call.status);
		ret = RG_EXIT_REFUSED;
	}
out:
	free(call.body);
	if (con != NULL)
		evhttp_connection_free(con);
	if (base != NULL)
		event_base_free(base);
	if (u != NULL)
		evhttp_uri_free(u);
	hyp_secret_free(secret, secretlen);
	return (ret);
}

/* registry register. */
static int
rg_register(const struct rg_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "weight", required_argument, NULL, 'w' },
		{ "max-players", required_argument, NULL, 'm' },
		{ "tag", required_argument, NULL, 't' },
		{ "ttl", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*id = NULL, *pool = NULL, *host = NULL;
	char		 body[RG_BODY_MAX], tags[1200] = "";
	uint64_t	 port = 0, weight = 0, maxp = 0, ttl = 0;
	int		 ch, have_w = 0, have_m = 0, have_t = 0, ntags = 0, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			id = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'P':
			if (rg_num(optarg, 65535, &port) != 0 || port == 0)
				goto usage;
			break;
		case 'w':
			if (rg_num(optarg, 10000, &weight) != 0)
				goto usage;
			have_w = 1;
			break;
		case 'm':
			if (rg_num(optarg, 10000000, &maxp) != 0)
				goto usage;
			have_m = 1;
			break;
		case 't':
			if (!rg_token(optarg, 64) || ntags == 16)
				goto usage;
			n = (int)strlen(tags);
			snprintf(tags + n, sizeof(tags) - (size_t)n, "%s\"%s\"",
			    ntags > 0 ? "," : "", optarg);
			ntags++;
			break;
		case 'T':
			if (rg_num(optarg, 86400, &ttl) != 0 || ttl == 0)
				goto usage;
			have_t = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || id == NULL || pool == NULL || host == NULL ||
	    port == 0 || !rg_token(id, 64) || !rg_token(pool, 64) ||
	    !rg_token(host, 45))
		goto usage;
	n = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"pool\":\"%s\","
	    "\"host\":\"%s\",\"port\":%" PRIu64, id, pool, host, port);
	if (have_w)
		n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"weight\":%"
		    PRIu64, weight);
	if (have_m)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"max_players\":%" PRIu64, maxp);
	if (ntags > 0)
		n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"tags\":[%s]",
		    tags);
	if (have_t)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"ttl_seconds\":%" PRIu64, ttl);
	snprintf(body + n, sizeof(body) - (size_t)n, "}");
	return (rg_send(o, "POST", "/v1/backends", body));
usage:
	fprintf(stderr, "hyproxctl registry register: --id, --pool, --host and "
	    "--port are required; ids and tags are 1-64 of A-Z a-z 0-9 . _ : = "
	    "/ -\n");
	rg_usage(stderr);
	return (CTL_EXIT_USAGE);
}

/* registry heartbeat. */
static int
rg_heartbeat(const struct rg_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "players", required_argument, NULL, 'p' },
		{ "max-players", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*state = NULL;
	char		 body[256], path[RG_URI_MAX];
	uint64_t	 players = 0, maxp = 0;
	int		 ch, have_p = 0, have_m = 0, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (rg_num(optarg, 10000000, &players) != 0)
				goto usage;
			have_p = 1;
			break;
		case 'm':
			if (rg_num(optarg, 10000000, &maxp) != 0)
				goto usage;
			have_m = 1;
			break;
		case 's':
			if (strcmp(optarg, "ready") != 0 && strcmp(optarg,
			    "starting") != 0 && strcmp(optarg, "draining") != 0)
				goto usage;
			state = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || !have_p || !rg_token(argv[optind], 64))
		goto usage;
	n = snprintf(body, sizeof(body), "{\"players\":%" PRIu64, players);
	if (have_m)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"max_players\":%" PRIu64, maxp);
	if (state != NULL)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"state\":\"%s\"", state);
	snprintf(body + n, sizeof(body) - (size_t)n, "}");
	snprintf(path, sizeof(path), "/v1/backends/");
	if (rg_pct(path, sizeof(path), argv[optind]) != 0 ||
	    strlen(path) + 11 >= sizeof(path))
		goto usage;
	strcat(path, "/heartbeat");
	return (rg_send(o, "POST", path, body));
usage:
	fprintf(stderr, "hyproxctl registry heartbeat: ID and --players are "
	    "required\n");
	rg_usage(stderr);
	return (CTL_EXIT_USAGE);
}

/* registry drain and remove: one id, no options. */
static int
rg_one(const struct rg_opts *o, int argc, char **argv, int remove)
{
	char	path[RG_URI_MAX];

	if (argc != 2 || !rg_token(argv[1], 64)) {
		fprintf(stderr, "hyproxctl registry %s: exactly one ID\n",
		    remove ? "remove" : "drain");
		rg_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	snprintf(path, sizeof(path), "/v1/backends/");
	(void)rg_pct(path, sizeof(path), argv[1]);
	if (!remove)
		strcat(path, "/drain");
	return (rg_send(o, remove ? "DELETE" : "POST", path, ""));
}

/* registry list. */
static int
rg_list(const struct rg_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "tag", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "cursor", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const	 names = "pstlc";
	static const char *const	 keys[] = { "pool", "state", "tag",
					    "limit", "cursor" };
	char				 path[RG_URI_MAX];
	const char			*pos;
	int				 ch, first = 1;

	snprintf(path, sizeof(path), "/v1/backends");
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (ch == '?' || ch == ':' || (pos = strchr(names, ch)) == NULL)
			goto usage;
		if (strlen(path) + strlen(keys[pos - names]) + 3 >= sizeof(path))
			goto usage;
		strcat(path, first ? "?" : "&");
		strcat(path, keys[pos - names]);
		strcat(path, "=");
		if (rg_pct(path, sizeof(path), optarg) != 0)
			goto usage;
		first = 0;
	}
	if (optind != argc)
		goto usage;
	return (rg_send(o, "GET", path, ""));
usage:
	rg_usage(stderr);
	return (CTL_EXIT_USAGE);
}

/* hyproxctl registry. */
int
registry_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "key-id", required_argument, NULL, 'k' },
		{ "secret", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "now", required_argument, NULL, 'N' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rg_opts	 o;
	const char	*cmd;
	int		 ch;

	memset(&o, 0, sizeof(o));
	o.url = getenv("HYPROX_REGISTRY_URL") != NULL ?
	    getenv("HYPROX_REGISTRY_URL") : RG_DEF_URL;
	o.key_id = getenv("HYPROX_REGISTRY_KEY_ID");
	o.secret_ref = RG_DEF_SECRET;
	o.timeout_ms = 10000;
	/* "+": stop at the command; its own options follow. */
	while ((ch = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o.url = optarg;
			break;
		case 'k':
			o.key_id = optarg;
			break;
		case 's':
			o.secret_ref = optarg;
			break;
		case 'T':
			if (hyp_duration_parse(optarg, RG_TIMEOUT_MAX_MS,
			    &o.timeout_ms) != 0 || o.timeout_ms == 0)
				goto usage;
			break;
		case 'N':
			if (strlen(optarg) > 12 || strspn(optarg, "0123456789") !=
			    strlen(optarg) || *optarg == '\0')
				goto usage;
			o.now = optarg;
			break;
		case 'n':
			o.nonce = optarg;
			if (strlen(optarg) > 64)
				goto usage;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			rg_usage(stdout);
			return (CTL_EXIT_OK);
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "register") == 0)
		return (rg_register(&o, argc, argv));
	if (strcmp(cmd, "heartbeat") == 0)
		return (rg_heartbeat(&o, argc, argv));
	if (strcmp(cmd, "drain") == 0)
		return (rg_one(&o, argc, argv, 0));
	if (strcmp(cmd, "remove") == 0)
		return (rg_one(&o, argc, argv, 1));
	if (strcmp(cmd, "list") == 0)
		return (rg_list(&o, argc, argv));
	fprintf(stderr, "hyproxctl registry: unknown command: %s\n", cmd);
usage:
	rg_usage(stderr);
	return (CTL_EXIT_USAGE);
}
