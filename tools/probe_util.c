/*
 * probe_util.c: the parts of "hyproxctl probe" that do no I/O on the
 * network: command line, Connect building, reply decoding and output.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>
#include <hyprox/util.h>

#include "hyproxctl.h"

/* Protocol identification of build 2026.02.17 and of 01.13–01.17 (V1). */
#define PROBE_DEFAULT_CRC	(-1356075132)
#define PROBE_DEFAULT_BUILD	20
#define PROBE_DEFAULT_HASH \
	"6708f121966c1c443f4b0eb525b2f81d0a8dc61f5003a692a8fa157e5e02cea9"
#define PROBE_DEFAULT_ALPN	"hytale/2,hytale/1"
#define PROBE_MAX_FOLLOW	16
#define PROBE_MAX_TIMEOUT_MS	(24ull * 3600 * 1000)

/* Byte sink: a bounded buffer (snprintf-like) or a stdio stream. */
struct probe_sink {
	char	*buf;
	size_t	 cap;
	size_t	 n;
	FILE	*fp;
};

/* Set err to a formatted message. */
static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append one byte to a sink. */
static void
sink_putc(struct probe_sink *k, char ch)
{
	if (k->fp != NULL)
		putc(ch, k->fp);
	else if (k->n + 1 < k->cap)
		k->buf[k->n] = ch;
	k->n++;
}

/* Append a NUL-terminated string to a sink. */
static void
sink_puts(struct probe_sink *k, const char *s)
{
	while (*s != '\0')
		sink_putc(k, *s++);
}

/* Length of the valid UTF-8 sequence at p (1–4), or 0 if invalid. */
static size_t
utf8_seq(const uint8_t *p, size_t len)
{
	uint32_t	cp;
	size_t		n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

/* Write s as a JSON string body (json) or a terminal-safe text (!json). */
static void
sink_escape(struct probe_sink *k, const void *s, size_t len, int json)
{
	const uint8_t	*p = s;
	char		 tmp[8];
	size_t		 i, n, j;

	for (i = 0; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			/* Not UTF-8: U+FFFD in JSON, \xNN in text. */
			if (json)
				sink_puts(k, "\\ufffd");
			else {
				snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
				sink_puts(k, tmp);
			}
			n = 1;
			continue;
		}
		if (n > 1) {
			for (j = 0; j < n; j++)
				sink_putc(k, (char)p[i + j]);
			continue;
		}
		switch (p[i]) {
		case '"':
			sink_puts(k, json ? "\\\"" : "\"");
			break;
		case '\\':
			sink_puts(k, "\\\\");
			break;
		case '\n':
			sink_puts(k, "\\n");
			break;
		case '\r':
			sink_puts(k, "\\r");
			break;
		case '\t':
			sink_puts(k, "\\t");
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f) {
				snprintf(tmp, sizeof(tmp), json ? "\\u%04x" :
				    "\\x%02x", p[i]);
				sink_puts(k, tmp);
			} else
				sink_putc(k, (char)p[i]);
			break;
		}
	}
}

/* JSON-escape s[0..len) into out (NUL-ended); returns the full length. */
size_t
probe_json_escape(char *out, size_t cap, const void *s, size_t len)
{
	struct probe_sink	k = { out, cap, 0, NULL };

	sink_escape(&k, s, len, 1);
	if (cap > 0)
		out[k.n < cap ? k.n : cap - 1] = '\0';
	return (k.n);
}

/* 1 if host is a numeric IPv4 or IPv6 address. */
int
probe_is_numeric_host(const char *host)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	return (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1);
}

/* Parse a decimal port 1–65535. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long	v;
	char		*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return (HYP_EINVAL);
	*port = (uint16_t)v;
	return (0);
}

/* Parse HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 literal. */
int
probe_parse_hostport(const char *s, uint16_t defport, char *host,
    size_t cap, uint16_t *port)
{
	const char	*h, *colon, *end;
	size_t		 hlen;

	*port = defport;
	if (s == NULL || *s == '\0')
		return (HYP_EINVAL);
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (HYP_EINVAL);
		h = s + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':') {
			if (parse_port(end + 2, port) != 0)
				return (HYP_EINVAL);
		} else if (end[1] != '\0')
			return (HYP_EINVAL);
	} else {
		h = s;
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			if (parse_port(colon + 1, port) != 0)
				return (HYP_EINVAL);
		} else
			hlen = strlen(s);	/* no port, or bare IPv6 */
	}
	if (hlen == 0 || hlen >= cap || hlen > HYP_HOST_MAX)
		return (HYP_EINVAL);
	if (memchr(h, '[', hlen) != NULL || memchr(h, ']', hlen) != NULL)
		return (HYP_EINVAL);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return (0);
}

/* Format host and port as HOST:PORT, bracketing IPv6 literals. */
void
probe_format_hostport(const char *host, uint16_t port, char *out, size_t cap)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, cap, "[%s]:%u", host, (unsigned)port);
	else
		snprintf(out, cap, "%s:%u", host, (unsigned)port);
}

/* Value of one hex digit, or -1. */
static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* Parse hex ("0x" prefix and blanks allowed) into out; returns the count. */
ssize_t
probe_parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t	n = 0;
	int	hi = -1, v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			if (hi != -1)
				return (HYP_EINVAL);	/* split byte */
			continue;
		}
		if ((v = hexval((unsigned char)*s)) < 0)
			return (HYP_EINVAL);
		if (hi == -1) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return (HYP_ENOSPC);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi != -1)
		return (HYP_EINVAL);
	return ((ssize_t)n);
}

/* Read HEX or @FILE (at most max bytes) into a new heap buffer. */
int
probe_load_bytes(const char *arg, size_t max, uint8_t **out, size_t *len,
    char *err, size_t errlen)
{
	uint8_t	*buf;
	FILE	*fp;
	size_t	 n;
	ssize_t	 r;

	*out = NULL;
	*len = 0;
	if ((buf = malloc(max + 1)) == NULL) {
		errf(err, errlen, "out of memory");
		return (HYP_ENOMEM);
	}
	if (arg[0] == '@') {
		if ((fp = fopen(arg + 1, "rb")) == NULL) {
			errf(err, errlen, "%s: %s", arg + 1, strerror(errno));
			free(buf);
			return (HYP_ENOENT);
		}
		n = fread(buf, 1, max + 1, fp);
		if (ferror(fp)) {
			errf(err, errlen, "%s: read error", arg + 1);
			fclose(fp);
			free(buf);
			return (HYP_EINVAL);
		}
		fclose(fp);
		if (n > max) {
			errf(err, errlen, "%s: more than %zu bytes", arg + 1,
			    max);
			free(buf);
			return (HYP_ETOOBIG);
		}
	} else {
		if ((r = probe_parse_hex(arg, buf, max)) < 0) {
			errf(err, errlen, r == HYP_ENOSPC ? "more than %zu "
			    "bytes" : "invalid hex (max %zu bytes)", max);
			free(buf);
			return ((int)r);
		}
		n = (size_t)r;
	}
	*out = buf;
	*len = n;
	return (0);
}

/* Parse a duration: N (seconds), Nms, Ns or Nm; > 0 and at most a day. */
int
probe_parse_duration(const char *s, uint64_t *ms)
{
	uint32_t	v;
	int		rc;

	if (strchr(s, 'h') != NULL)	/* hyproxctl(1): ms, s or m */
		return (HYP_EINVAL);
	if ((rc = hyp_duration_parse(s, PROBE_MAX_TIMEOUT_MS, &v)) != 0)
		return (rc);
	if (v == 0)
		return (HYP_ERANGE);
	*ms = v;
	return (0);
}

/* Parse a comma-separated ALPN list into o (copied into o->alpnbuf). */
int
probe_parse_alpn(const char *list, struct probe_opts *o)
{
	size_t	len = strlen(list), i, start;

	if (len == 0 || len >= sizeof(o->alpnbuf))
		return (HYP_EINVAL);
	memcpy(o->alpnbuf, list, len + 1);
	o->nalpn = 0;
	for (start = 0, i = 0; i <= len; i++) {
		if (o->alpnbuf[i] != ',' && o->alpnbuf[i] != '\0')
			continue;
		if (i == start || i - start > 255 ||
		    o->nalpn == PROBE_MAX_ALPN)
			return (HYP_EINVAL);
		o->alpnbuf[i] = '\0';
		o->alpn[o->nalpn++] = o->alpnbuf + start;
		start = i + 1;
	}
	return (0);
}

/* Parse a signed 32-bit value (decimal, or 0x hex as a bit pattern). */
static int
parse_i32(const char *s, int32_t *out)
{
	long long	v;
	char		*end;

	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		v = strtoll(s + 2, &end, 16);
		if (s[2] == '\0' || s[2] == '-' || s[2] == '+' ||
		    errno != 0 || *end != '\0' || v < 0 || v > UINT32_MAX)
			return (HYP_EINVAL);
		*out = (int32_t)(uint32_t)v;
		return (0);
	}
	v = strtoll(s, &end, 10);
	if (*s == '\0' || errno != 0 || *end != '\0' || v < INT32_MIN ||
	    v > INT32_MAX)
		return (HYP_EINVAL);
	*out = (int32_t)v;
	return (0);
}

/* Parse a non-negative int in [min, max]. */
static int
parse_uint(const char *s, long min, long max, long *out)
{
	long	v;
	char	*end;

	if (*s < '0' || *s > '9')
		return (HYP_EINVAL);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return (HYP_EINVAL);
	*out = v;
	return (0);
}

/* 1 if s is printable ASCII only. */
static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return (0);
	}
	return (1);
}

/* 1 if s looks like a base64url SHA-256 (43 chars, optional '='). */
static int
is_fp(const char *s)
{
	size_t	n = strlen(s), i;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n != PROBE_FP_LEN)
		return (0);
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return (0);
	}
	return (1);
}

/* Check the parsed options against each other and the field limits. */
static int
check_opts(struct probe_opts *o, char *err, size_t errlen)
{
	size_t	langmax;

	if ((o->cert_file == NULL) != (o->key_file == NULL)) {
		errf(err, errlen, "--cert and --key go together");
		return (-1);
	}
	if (o->sni != NULL && o->no_sni) {
		errf(err, errlen, "--sni and --no-sni exclude each other");
		return (-1);
	}
	if (o->has_raw && o->no_connect) {
		errf(err, errlen, "--raw-first and --no-connect exclude "
		    "each other");
		return (-1);
	}
	if (strlen(o->user) > HYP_USERNAME_MAX || !is_ascii(o->user)) {
		errf(err, errlen, "--user: ASCII, at most %d bytes",
		    HYP_USERNAME_MAX);
		return (-1);
	}
	langmax = o->layout == HYP_CONNECT_V1 ? HYP_LANGUAGE_V1_MAX :
	    HYP_LANGUAGE_MAX;
	if (strlen(o->language) > langmax || !is_ascii(o->language)) {
		errf(err, errlen, "--language: ASCII, at most %zu bytes",
		    langmax);
		return (-1);
	}
	if (strlen(o->client_version) > HYP_CLIENT_VERSION_LEN ||
	    !is_ascii(o->client_version)) {
		errf(err, errlen, "--client-version: ASCII, at most %d bytes",
		    HYP_CLIENT_VERSION_LEN);
		return (-1);
	}
	if (strlen(o->protocol_hash) > HYP_PROTOCOL_HASH_LEN ||
	    !is_ascii(o->protocol_hash)) {
		errf(err, errlen, "--protocol-hash: ASCII, at most %d bytes",
		    HYP_PROTOCOL_HASH_LEN);
		return (-1);
	}
	if (o->identity_token != NULL &&
	    strlen(o->identity_token) > HYP_IDENTITY_TOKEN_MAX) {
		errf(err, errlen, "--identity-token: at most %d bytes",
		    HYP_IDENTITY_TOKEN_MAX);
		return (-1);
	}
	return (0);
}

/* Parse "probe" arguments (argv[0] = "probe"); 0 ok, 1 help, -1 usage. */
int
probe_parse_args(int argc, char **argv, struct probe_opts *o, char *err,
    size_t errlen)
{
	enum {
		O_SNI = 256, O_NOSNI, O_ALPN, O_CERT, O_KEY, O_CA, O_PIN,
		O_SAN, O_LAYOUT, O_USER, O_UUID, O_LANG, O_CRC, O_BUILD,
		O_CVER, O_HASH, O_EDITOR, O_RDATA, O_RSRC, O_TOKEN, O_RAW,
		O_SPLIT, O_NOCONNECT, O_MAXFOLLOW
	};
	static const struct option longopts[] = {
		{ "sni", required_argument, NULL, O_SNI },
		{ "no-sni", no_argument, NULL, O_NOSNI },
		{ "alpn", required_argument, NULL, O_ALPN },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "ca", required_argument, NULL, O_CA },
		{ "pin", required_argument, NULL, O_PIN },
		{ "san", required_argument, NULL, O_SAN },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "user", required_argument, NULL, O_USER },
		{ "uuid", required_argument, NULL, O_UUID },
		{ "language", required_argument, NULL, O_LANG },
		{ "crc", required_argument, NULL, O_CRC },
		{ "build", required_argument, NULL, O_BUILD },
		{ "client-version", required_argument, NULL, O_CVER },
		{ "protocol-hash", required_argument, NULL, O_HASH },
		{ "editor", no_argument, NULL, O_EDITOR },
		{ "referral-data", required_argument, NULL, O_RDATA },
		{ "referral-source", required_argument, NULL, O_RSRC },
		{ "identity-token", required_argument, NULL, O_TOKEN },
		{ "raw-first", required_argument, NULL, O_RAW },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "no-connect", no_argument, NULL, O_NOCONNECT },
		{ "follow", no_argument, NULL, 'f' },
		{ "max-follow", required_argument, NULL, O_MAXFOLLOW },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*name;
	long		 v;
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->port = PROBE_DEFAULT_PORT;
	o->layout = HYP_CONNECT_V2;
	o->user = "Probe";
	o->language = "en-US";
	o->crc = PROBE_DEFAULT_CRC;
	o->build = PROBE_DEFAULT_BUILD;
	o->client_version = "";
	o->protocol_hash = PROBE_DEFAULT_HASH;
	o->max_follow = 3;
	o->timeout_ms = 10000;
	(void)probe_parse_alpn(PROBE_DEFAULT_ALPN, o);

	optind = 0;	/* GNU: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fjt:vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case O_SNI:
			if (*optarg == '\0' || strlen(optarg) > HYP_HOST_MAX) {
				errf(err, errlen, "--sni: bad name");
				return (-1);
			}
			o->sni = optarg;
			break;
		case O_NOSNI:
			o->no_sni = 1;
			break;
		case O_ALPN:
			if (probe_parse_alpn(optarg, o) != 0) {
				errf(err, errlen, "--alpn: 1 to %d names of 1 "
				    "to 255 bytes, comma-separated",
				    PROBE_MAX_ALPN);
				return (-1);
			}
			break;
		case O_CERT:
			o->cert_file = optarg;
			break;
		case O_KEY:
			o->key_file = optarg;
			break;
		case O_CA:
			o->ca_file = optarg;
			break;
		case O_PIN:
			if (!is_fp(optarg) || o->npin == PROBE_MAX_PINS) {
				errf(err, errlen, "--pin: base64url SHA-256 "
				    "(43 characters), at most %d",
				    PROBE_MAX_PINS);
				return (-1);
			}
			o->pin[o->npin++] = optarg;
			break;
		case O_SAN:
			if (*optarg == '\0' || o->nsan == PROBE_MAX_SANS) {
				errf(err, errlen, "--san: a name, at most %d",
				    PROBE_MAX_SANS);
				return (-1);
			}
			o->san[o->nsan++] = optarg;
			break;
		case O_LAYOUT:
			if (strcmp(optarg, "v1") == 0)
				o->layout = HYP_CONNECT_V1;
			else if (strcmp(optarg, "v2") == 0)
				o->layout = HYP_CONNECT_V2;
			else if (strcmp(optarg, "v3") == 0)
				o->layout = HYP_CONNECT_V3;
			else {
				errf(err, errlen, "--layout: v1, v2 or v3");
				return (-1);
			}
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_UUID:
			if (hyp_uuid_parse(optarg, o->uuid) != 0) {
				errf(err, errlen, "--uuid: bad UUID: %s",
				    optarg);
				return (-1);
			}
			o->have_uuid = 1;
			break;
		case O_LANG:
			o->language = optarg;
			break;
		case O_CRC:
			if (parse_i32(optarg, &o->crc) != 0) {
				errf(err, errlen, "--crc: a 32-bit integer");
				return (-1);
			}
			break;
		case O_BUILD:
			if (parse_i32(optarg, &o->build) != 0) {
				errf(err, errlen, "--build: a 32-bit integer");
				return (-1);
			}
			break;
		case O_CVER:
			o->client_version = optarg;
			break;
		case O_HASH:
			o->protocol_hash = optarg;
			break;
		case O_EDITOR:
			o->editor = 1;
			break;
		case O_RDATA:
			free(o->referral_data);
			if (probe_load_bytes(optarg, HYP_REFERRAL_DATA_MAX,
			    &o->referral_data, &o->referral_len, err,
			    errlen) != 0) {
				name = "--referral-data";
				goto bad_bytes;
			}
			o->has_referral_data = 1;
			break;
		case O_RSRC:
			if (probe_parse_hostport(optarg, PROBE_DEFAULT_PORT,
			    o->rsrc_host, sizeof(o->rsrc_host),
			    &o->rsrc_port) != 0) {
				errf(err, errlen, "--referral-source: bad "
				    "HOST[:PORT]: %s", optarg);
				return (-1);
			}
			o->has_rsrc = 1;
			break;
		case O_TOKEN:
			o->identity_token = optarg;
			break;
		case O_RAW:
			free(o->raw);
			if (probe_load_bytes(optarg, PROBE_MAX_RAW, &o->raw,
			    &o->rawlen, err, errlen) != 0) {
				name = "--raw-first";
				goto bad_bytes;
			}
			o->has_raw = 1;
			break;
		case O_SPLIT:
			if (parse_uint(optarg, 1, 65536, &v) != 0) {
				errf(err, errlen, "--split: 1 to 65536");
				return (-1);
			}
			o->split = (size_t)v;
			break;
		case O_NOCONNECT:
			o->no_connect = 1;
			break;
		case 'f':
			o->follow = 1;
			break;
		case O_MAXFOLLOW:
			if (parse_uint(optarg, 0, PROBE_MAX_FOLLOW, &v) != 0) {
				errf(err, errlen, "--max-follow: 0 to %d",
				    PROBE_MAX_FOLLOW);
				return (-1);
			}
			o->max_follow = (int)v;
			break;
		case 'j':
			o->json = 1;
			break;
		case 't':
			if (probe_parse_duration(optarg, &o->timeout_ms) != 0) {
				errf(err, errlen, "--timeout: a duration such "
				    "as 10s, 500ms or 1m (at most a day)");
				return (-1);
			}
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			return (1);
		case ':':
			errf(err, errlen, "option %s needs a value",
			    argv[optind - 1]);
			return (-1);
		default:
			errf(err, errlen, "unknown option %s",
			    argv[optind - 1]);
			return (-1);
		}
	}
	if (optind != argc - 1) {
		errf(err, errlen, optind == argc ? "missing HOST[:PORT]" :
		    "too many arguments");
		return (-1);
	}
	if (probe_parse_hostport(argv[optind], PROBE_DEFAULT_PORT, o->host,
	    sizeof(o->host), &o->port) != 0) {
		errf(err, errlen, "bad HOST[:PORT]: %s", argv[optind]);
		return (-1);
	}
	return (check_opts(o, err, errlen));

bad_bytes:
	if (err != NULL && errlen > 0) {
		char	tmp[256];

		snprintf(tmp, sizeof(tmp), "%s: %s", name, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return (-1);
}

/* Free what probe_parse_args allocated. */
void
probe_opts_free(struct probe_opts *o)
{
	free(o->referral_data);
	free(o->raw);
	o->referral_data = o->raw = NULL;
}

/* The first hop's target: the command line's host, SNI and referral. */
void
probe_first_target(const struct probe_opts *o, struct probe_target *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", o->host);
	t->port = o->port;
	if (o->sni != NULL)
		snprintf(t->sni, sizeof(t->sni), "%s", o->sni);
	else if (!o->no_sni && !probe_is_numeric_host(o->host))
		snprintf(t->sni, sizeof(t->sni), "%s", o->host);
	if (o->has_referral_data) {
		t->rdata = o->referral_data;
		t->rdatalen = o->referral_len;
		t->has_rdata = 1;
	}
	if (o->has_rsrc) {
		snprintf(t->rsrc_host, sizeof(t->rsrc_host), "%s",
		    o->rsrc_host);
		t->rsrc_port = o->rsrc_port;
		t->has_rsrc = 1;
	}
}

/*
 * The target a ClientReferral in h points to, presenting its data and
 * prev (the referring server) as source.  t->rdata points into h->pkt.
 */
int
probe_next_target(const struct probe_opts *o, const struct probe_hop *h,
    const struct probe_target *prev, struct probe_target *t)
{
	const struct hyp_host_address	*a = &h->ref.host_to;

	if (h->result != PROBE_R_REFERRAL || !h->ref.has_host ||
	    a->host.ptr == NULL || a->host.len == 0 ||
	    a->host.len > HYP_HOST_MAX || a->port == 0 ||
	    memchr(a->host.ptr, '\0', a->host.len) != NULL)
		return (HYP_EINVAL);
	memset(t, 0, sizeof(*t));
	memcpy(t->host, a->host.ptr, a->host.len);
	t->host[a->host.len] = '\0';
	t->port = a->port;
	/* A name is sent as SNI unless --no-sni. */
	if (!o->no_sni && !probe_is_numeric_host(t->host))
		snprintf(t->sni, sizeof(t->sni), "%s", t->host);
	if (h->ref.data.ptr != NULL) {
		t->rdata = h->ref.data.ptr;
		t->rdatalen = h->ref.data.len;
		t->has_rdata = 1;
	}
	snprintf(t->rsrc_host, sizeof(t->rsrc_host), "%s", prev->host);
	t->rsrc_port = prev->port;
	t->has_rsrc = 1;
	return (0);
}

/* Encode the Connect frame (header + payload) for t into out. */
int
probe_build_connect(const struct probe_opts *o, const struct probe_target *t,
    uint8_t *out, size_t cap)
{
	struct hyp_connect	c;
	int			n;

	if (cap < HYP_FRAME_HEADER_LEN)
		return (HYP_ENOSPC);
	memset(&c, 0, sizeof(c));
	c.layout = o->layout;
	c.protocol_crc = o->crc;
	c.build = o->build;
	snprintf(c.protocol_hash, sizeof(c.protocol_hash), "%s",
	    o->protocol_hash);
	snprintf(c.client_version, sizeof(c.client_version), "%s",
	    o->client_version);
	c.client_type = o->editor ? HYP_CLIENT_EDITOR : HYP_CLIENT_GAME;
	if (o->layout != HYP_CONNECT_V3) {
		c.has_uuid = 1;
		memcpy(c.uuid, o->uuid, sizeof(c.uuid));
		c.username.ptr = (const uint8_t *)o->user;
		c.username.len = strlen(o->user);
	}
	if (o->identity_token != NULL) {
		c.identity_token.ptr = (const uint8_t *)o->identity_token;
		c.identity_token.len = strlen(o->identity_token);
	}
	c.language.ptr = (const uint8_t *)o->language;
	c.language.len = strlen(o->language);
	if (t->has_rdata) {
		/* An empty view still needs a non-NULL pointer. */
		c.referral_data.ptr = t->rdata != NULL ? t->rdata :
		    (const uint8_t *)"";
		c.referral_data.len = t->rdatalen;
	}
	if (t->has_rsrc) {
		c.has_referral_source = 1;
		c.referral_source.port = t->rsrc_port;
		c.referral_source.host.ptr = (const uint8_t *)t->rsrc_host;
		c.referral_source.host.len = strlen(t->rsrc_host);
	}
	n = hyp_connect_encode(&c, out + HYP_FRAME_HEADER_LEN,
	    cap - HYP_FRAME_HEADER_LEN);
	if (n < 0)
		return (n);
	hyp_frame_header_encode(out, (uint32_t)n, HYP_PKT_CONNECT);
	return (n + HYP_FRAME_HEADER_LEN);
}

/* Decide what the first packet in h is and decode it (views into h->pkt). */
void
probe_classify(struct probe_hop *h)
{
	const uint8_t	*p = h->pkt != NULL ? h->pkt : (const uint8_t *)"";
	size_t		 len = h->pktread;
	int		 rv;

	h->result = PROBE_R_OTHER;
	if (h->pkt_len > PROBE_MAX_REPLY || len != h->pkt_len) {
		snprintf(h->error, sizeof(h->error), "payload of %" PRIu32
		    " bytes not read (limit %u)", h->pkt_len,
		    PROBE_MAX_REPLY);
		return;
	}
	switch (h->pkt_id) {
	case HYP_PKT_CLIENT_REFERRAL:
		rv = hyp_client_referral_decode(p, len, &h->ref);
		if (rv == 0) {
			h->result = PROBE_R_REFERRAL;
			return;
		}
		break;
	case HYP_PKT_DISCONNECT:
		rv = hyp_disconnect_decode(p, len, HYP_DISCONNECT_OLD,
		    &h->disc);
		if (rv == 0) {
			h->result = PROBE_R_DISCONNECT;
			return;
		}
		break;
	case HYP_PKT_SERVER_DISCONNECT:
		/* Id 2 is Ping (29 bytes) up to 02.17, ServerDisconnect after. */
		if (len == 29)
			return;
		rv = hyp_disconnect_decode(p, len, HYP_DISCONNECT_NEW,
		    &h->disc);
		if (rv == 0) {
			h->result = PROBE_R_DISCONNECT;
			return;
		}
		break;
	case HYP_PKT_CONNECT_ACCEPT:
		rv = hyp_connect_accept_decode(p, len, &h->acc);
		if (rv == 0) {
			h->result = PROBE_R_ACCEPT;
			return;
		}
		break;
	default:
		return;
	}
	snprintf(h->error, sizeof(h->error), "malformed %s: %s",
	    hyp_packet_name(h->pkt_id), hyp_strerror(rv));
}

/* Free a hop's packet and clear it. */
void
probe_hop_reset(struct probe_hop *h)
{
	free(h->pkt);
	memset(h, 0, sizeof(*h));
}

/* Exit status for a final outcome. */
int
probe_exit_code(enum probe_result r)
{
	switch (r) {
	case PROBE_R_ACCEPT:
		return (PROBE_EXIT_ACCEPT);
	case PROBE_R_REFERRAL:
		return (PROBE_EXIT_REFERRAL);
	case PROBE_R_DISCONNECT:
		return (PROBE_EXIT_DISCONNECT);
	case PROBE_R_CLOSED:
		return (PROBE_EXIT_CLOSED);
	case PROBE_R_OTHER:
		return (PROBE_EXIT_OTHER);
	case PROBE_R_HANDSHAKE_FAILED:
		return (PROBE_EXIT_HANDSHAKE);
	case PROBE_R_TIMEOUT:
		return (PROBE_EXIT_TIMEOUT);
	case PROBE_R_ERROR:
		break;
	}
	return (CTL_EXIT_ERROR);
}

/* Name of an outcome as printed and in JSON. */
const char *
probe_result_name(enum probe_result r)
{
	static const char *const names[] = {
		[PROBE_R_ACCEPT] = "accept",
		[PROBE_R_REFERRAL] = "referral",
		[PROBE_R_DISCONNECT] = "disconnect",
		[PROBE_R_OTHER] = "other",
		[PROBE_R_CLOSED] = "closed",
		[PROBE_R_TIMEOUT] = "timeout",
		[PROBE_R_HANDSHAKE_FAILED] = "handshake_failed",
		[PROBE_R_ERROR] = "error",
	};

	if ((size_t)r >= sizeof(names) / sizeof(names[0]))
		return ("error");
	return (names[r]);
}

/* Name of a Hytale QUIC application close code, or NULL. */
const char *
probe_app_code_name(uint64_t code)
{
	static const char *const names[] = {
		"NoError", "RateLimited", "AuthFailed", "InvalidVersion",
		"Timeout", "ClientOutdated", "ServerOutdated"
	};

	return (code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL);
}

/* Name of a QUIC transport error code, or NULL. */
const char *
probe_transport_code_name(uint64_t code)
{
	static const char *const names[] = {
		"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED",
		"FLOW_CONTROL_ERROR", "STREAM_LIMIT_ERROR",
		"STREAM_STATE_ERROR", "FINAL_SIZE_ERROR",
		"FRAME_ENCODING_ERROR", "TRANSPORT_PARAMETER_ERROR",
		"CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION",
		"INVALID_TOKEN", "APPLICATION_ERROR",
		"CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR",
		"AEAD_LIMIT_REACHED", "NO_VIABLE_PATH"
	};

	if (code < sizeof(names) / sizeof(names[0]))
		return (names[code]);
	if (code >= 0x100 && code <= 0x1ff)
		return ("CRYPTO_ERROR");
	return (NULL);
}

/* Name of an HTTP/3 error code (RFC 9114 §8.1), or NULL. */
static const char *
h3_code_name(uint64_t code)
{
	static const char *const names[] = {
		"H3_NO_ERROR", "H3_GENERAL_PROTOCOL_ERROR",
		"H3_INTERNAL_ERROR", "H3_STREAM_CREATION_ERROR",
		"H3_CLOSED_CRITICAL_STREAM", "H3_FRAME_UNEXPECTED",
		"H3_FRAME_ERROR", "H3_EXCESSIVE_LOAD", "H3_ID_ERROR",
		"H3_SETTINGS_ERROR", "H3_MISSING_SETTINGS",
		"H3_REQUEST_REJECTED", "H3_REQUEST_CANCELLED",
		"H3_REQUEST_INCOMPLETE", "H3_MESSAGE_ERROR",
		"H3_CONNECT_ERROR", "H3_VERSION_FALLBACK"
	};

	if (code >= 0x100 && code - 0x100 < sizeof(names) / sizeof(names[0]))
		return (names[code - 0x100]);
	return (NULL);
}

/* Write bytes as lowercase hex. */
static void
sink_hex(struct probe_sink *k, const uint8_t *p, size_t len)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		sink_putc(k, digits[p[i] >> 4]);
		sink_putc(k, digits[p[i] & 0xf]);
	}
}

/* Write a JSON string value, or null when s is NULL. */
static void
json_str(struct probe_sink *k, const void *s, size_t len)
{
	if (s == NULL) {
		sink_puts(k, "null");
		return;
	}
	sink_putc(k, '"');
	sink_escape(k, s, len, 1);
	sink_putc(k, '"');
}

/* Write a JSON string value from a C string; "" becomes null. */
static void
json_cstr_or_null(struct probe_sink *k, const char *s)
{
	json_str(k, s[0] != '\0' ? s : NULL, strlen(s));
}

/* Write a quoted, terminal-safe text value. */
static void
text_str(struct probe_sink *k, const void *s, size_t len)
{
	sink_putc(k, '"');
	sink_escape(k, s, len, 0);
	sink_putc(k, '"');
}

/* Describe a close code ("application 0 (NoError)"). */
static void
close_code(char *buf, size_t cap, const struct probe_hop *h)
{
	const struct probe_close	*c = &h->close;
	const char			*name;

	if (c->app && strcmp(h->alpn, "h3") == 0)
		name = h3_code_name(c->code);
	else
		name = c->app ? probe_app_code_name(c->code) :
		    probe_transport_code_name(c->code);
	if (name == NULL)
		name = "unknown";
	if (c->app)
		snprintf(buf, cap, "application %" PRIu64 " (%s)", c->code,
		    name);
	else
		snprintf(buf, cap, "transport 0x%" PRIx64 " (%s)", c->code,
		    name);
}

/* Print one hop in the text format. */
void
probe_print_text(FILE *fp, const struct probe_hop *h)
{
	struct probe_sink	 k = { NULL, 0, 0, fp };
	char			 buf[128];
	const char		*name;

	fprintf(fp, "hop %d: %s", h->hop, h->target);
	if (h->addr[0] != '\0')
		fprintf(fp, " (%s)", h->addr);
	fprintf(fp, "\n");
	fprintf(fp, "  sni         %s\n", h->sni[0] != '\0' ? h->sni :
	    "(none)");
	if (h->handshake_done) {
		fprintf(fp, "  handshake   %.3f ms\n",
		    (double)h->handshake_ns / 1e6);
		fprintf(fp, "  alpn        %s\n", h->alpn[0] != '\0' ?
		    h->alpn : "(none)");
		fprintf(fp, "  server-fp   %s\n", h->server_fp[0] != '\0' ?
		    h->server_fp : "(none)");
	}
	fprintf(fp, "  result      %s\n", probe_result_name(h->result));
	if (h->have_packet) {
		name = hyp_packet_name(h->pkt_id);
		fprintf(fp, "  packet      id %" PRIu32 " (%s), %" PRIu32
		    " bytes\n", h->pkt_id, name, h->pkt_len);
	}
	switch (h->result) {
	case PROBE_R_REFERRAL:
		fprintf(fp, "  referral    ");
		if (h->ref.has_host) {
			sink_escape(&k, h->ref.host_to.host.ptr,
			    h->ref.host_to.host.len, 0);
			fprintf(fp, " port %u", (unsigned)h->ref.host_to.port);
		} else
			fprintf(fp, "(no host)");
		fprintf(fp, "\n  data        ");
		if (h->ref.data.ptr != NULL) {
			fprintf(fp, "%zu bytes ", h->ref.data.len);
			sink_hex(&k, h->ref.data.ptr, h->ref.data.len);
		} else
			fprintf(fp, "(none)");
		fprintf(fp, "\n");
		break;
	case PROBE_R_DISCONNECT:
		fprintf(fp, "  disconnect  type %u (%s), reason ",
		    (unsigned)h->disc.type, h->disc.type ==
		    HYP_DISCONNECT_TYPE_CRASH ? "Crash" : h->disc.type ==
		    HYP_DISCONNECT_TYPE_DISCONNECT ? "Disconnect" : "unknown");
		if (h->disc.reason.ptr != NULL)
			text_str(&k, h->disc.reason.ptr, h->disc.reason.len);
		else
			fprintf(fp, "(none)");
		fprintf(fp, "\n");
		break;
	case PROBE_R_ACCEPT:
		if (h->acc.password_challenge.ptr != NULL)
			fprintf(fp, "  password    challenge present (%zu "
			    "bytes)\n", h->acc.password_challenge.len);
		else
			fprintf(fp, "  password    no challenge\n");
		break;
	default:
		break;
	}
	if (h->stream_reset)
		fprintf(fp, "  stream      reset by server, code %" PRIu64 "\n",
		    h->stream_reset_code);
	if (h->have_close) {
		close_code(buf, sizeof(buf), h);
		fprintf(fp, "  close       %s, %s, reason ", h->close.how, buf);
		text_str(&k, h->close.reason, h->close.reasonlen);
		if (h->close.tls_alert != 0)
			fprintf(fp, ", TLS alert %u",
			    (unsigned)h->close.tls_alert);
		fprintf(fp, "\n");
	}
	if (h->error[0] != '\0') {
		fprintf(fp, "  error       ");
		sink_escape(&k, h->error, strlen(h->error), 0);
		fprintf(fp, "\n");
	}
}

/* Print one hop as one JSON object on one line. */
void
probe_print_json(FILE *fp, const struct probe_hop *h)
{
	struct probe_sink	k = { NULL, 0, 0, fp };

	fprintf(fp, "{\"hop\":%d,\"target\":", h->hop);
	json_str(&k, h->target, strlen(h->target));
	fprintf(fp, ",\"address\":");
	json_cstr_or_null(&k, h->addr);
	fprintf(fp, ",\"sni\":");
	json_cstr_or_null(&k, h->sni);
	if (h->handshake_done)
		fprintf(fp, ",\"handshake_ms\":%.3f",
		    (double)h->handshake_ns / 1e6);
	else
		fprintf(fp, ",\"handshake_ms\":null");
	fprintf(fp, ",\"alpn\":");
	json_cstr_or_null(&k, h->alpn);
	fprintf(fp, ",\"server_fp\":");
	json_cstr_or_null(&k, h->server_fp);
	fprintf(fp, ",\"result\":\"%s\"", probe_result_name(h->result));
	if (h->have_packet) {
		fprintf(fp, ",\"packet\":{\"id\":%" PRIu32 ",\"name\":",
		    h->pkt_id);
		json_str(&k, hyp_packet_name(h->pkt_id),
		    strlen(hyp_packet_name(h->pkt_id)));
		fprintf(fp, ",\"length\":%" PRIu32 "}", h->pkt_len);
	}
	switch (h->result) {
	case PROBE_R_REFERRAL:
		fprintf(fp, ",\"referral\":{\"host\":");
		if (h->ref.has_host) {
			json_str(&k, h->ref.host_to.host.ptr != NULL ?
			    (const void *)h->ref.host_to.host.ptr : "",
			    h->ref.host_to.host.len);
			fprintf(fp, ",\"port\":%u",
			    (unsigned)h->ref.host_to.port);
		} else
			fprintf(fp, "null,\"port\":null");
		fprintf(fp, ",\"data_hex\":");
		if (h->ref.data.ptr != NULL) {
			sink_putc(&k, '"');
			sink_hex(&k, h->ref.data.ptr, h->ref.data.len);
			fprintf(fp, "\",\"data_len\":%zu}", h->ref.data.len);
		} else
			fprintf(fp, "null,\"data_len\":0}");
		break;
	case PROBE_R_DISCONNECT:
		fprintf(fp, ",\"disconnect\":{\"type\":%u,\"reason\":",
		    (unsigned)h->disc.type);
		json_str(&k, h->disc.reason.ptr, h->disc.reason.len);
		fprintf(fp, "}");
		break;
	case PROBE_R_ACCEPT:
		fprintf(fp, ",\"accept\":{\"password_challenge\":%s,"
		    "\"challenge_len\":%zu}",
		    h->acc.password_challenge.ptr != NULL ? "true" : "false",
		    h->acc.password_challenge.len);
		break;
	default:
		break;
	}
	if (h->stream_reset)
		fprintf(fp, ",\"stream_reset\":%" PRIu64, h->stream_reset_code);
	if (h->have_close) {
		fprintf(fp, ",\"close\":{\"by\":\"%s\",\"app\":%s,\"code\":%"
		    PRIu64 ",\"reason\":", h->close.how,
		    h->close.app ? "true" : "false", h->close.code);
		json_str(&k, h->close.reason, h->close.reasonlen);
		if (h->close.tls_alert != 0)
			fprintf(fp, ",\"tls_alert\":%u",
			    (unsigned)h->close.tls_alert);
		fprintf(fp, "}");
	} else
		fprintf(fp, ",\"close\":null");
	if (h->error[0] != '\0') {
		fprintf(fp, ",\"error\":");
		json_str(&k, h->error, strlen(h->error));
	}
	fprintf(fp, "}\n");
}
