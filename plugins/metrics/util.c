/*
 * util.c: pure helpers of the metrics plugin: a bounded buffer for JSON
 * bodies with string escaping, the endpoint table and the bearer token
 * check (constant time once the lengths match).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "mx.h"

static const char *const mx_endpoint_names[MX_EP__COUNT] = {
	"metrics", "healthz", "readyz", "other"
};

/* Append n bytes, failing (sticky) past MX_JSON_MAX. */
void
mx_buf_add(struct mx_buf *b, const char *s, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (b->err != 0)
		return;
	if (n >= MX_JSON_MAX - b->len) {
		b->err = HYP_ENOSPC;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap != 0 ? b->cap : 512;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = HYP_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a NUL-terminated string. */
void
mx_buf_adds(struct mx_buf *b, const char *s)
{
	mx_buf_add(b, s, strlen(s));
}

/* Append formatted text (short: at most 255 bytes). */
void
mx_buf_printf(struct mx_buf *b, const char *fmt, ...)
{
	char	tmp[256];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (b->err == 0)
			b->err = HYP_ENOSPC;
		return;
	}
	mx_buf_add(b, tmp, (size_t)n);
}

/* Append s as a JSON string: quotes, escapes, control characters as \u00XX. */
void
mx_buf_json_str(struct mx_buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*start;
	char			 esc[8];

	mx_buf_add(b, "\"", 1);
	for (start = s; *p != '\0'; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
			continue;
		mx_buf_add(b, start, (size_t)((const char *)p - start));
		switch (*p) {
		case '"':
			mx_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			mx_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			mx_buf_add(b, "\\n", 2);
			break;
		case '\r':
			mx_buf_add(b, "\\r", 2);
			break;
		case '\t':
			mx_buf_add(b, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			mx_buf_add(b, esc, 6);
			break;
		}
		start = (const char *)p + 1;
	}
	mx_buf_add(b, start, (size_t)((const char *)p - start));
	mx_buf_add(b, "\"", 1);
}

/* Free the buffer's memory and reset it. */
void
mx_buf_free(struct mx_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The endpoint a request path (without the query) names. */
enum mx_endpoint
mx_endpoint_of(const char *path)
{
	if (path == NULL)
		return (MX_EP_OTHER);
	if (strcmp(path, "/metrics") == 0)
		return (MX_EP_METRICS);
	if (strcmp(path, "/healthz") == 0)
		return (MX_EP_HEALTHZ);
	if (strcmp(path, "/readyz") == 0)
		return (MX_EP_READYZ);
	return (MX_EP_OTHER);
}

/* The "endpoint" label value. */
const char *
mx_endpoint_name(enum mx_endpoint ep)
{
	if ((unsigned)ep >= MX_EP__COUNT)
		ep = MX_EP_OTHER;
	return (mx_endpoint_names[ep]);
}

/*
 * Whether an Authorization header value is "Bearer <token>" with exactly
 * this token (scheme case-insensitive, spaces around the token ignored).
 */
int
mx_auth_ok(const char *header, const uint8_t *token, size_t tokenlen)
{
	const char	*t;
	size_t		 n;

	if (header == NULL || token == NULL || tokenlen == 0)
		return (0);
	if (strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\t'))
		return (0);
	for (t = header + 6; *t == ' ' || *t == '\t'; t++)
		;
	n = strlen(t);
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (n != tokenlen)
		return (0);
	return (sodium_memcmp(t, token, n) == 0);
}
