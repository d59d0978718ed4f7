/*
 * json.c: a bounded writer of one JSON object per line.  Nothing is
 * allocated: the line lives in a caller-owned buffer.  When a line would
 * not fit, everything after the header (ts, event, session) is dropped
 * and the line ends with "truncated":true, so it is still valid JSON.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tracer.h"

/* Room kept at the end of every buffer for the truncation marker. */
#define TR_RESERVE	sizeof(",\"truncated\":true}\n")

/* Start writing into mem (cap bytes, at least TR_RESERVE + 96). */
void
tr_buf_init(struct tr_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	b->len = 0;
	b->hdr = 0;
	b->overflow = 0;
}

/* Append n raw bytes, or mark the line truncated. */
static void
put(struct tr_buf *b, const char *s, size_t n)
{
	if (b->overflow)
		return;
	if (b->len + n + TR_RESERVE > b->cap) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Append a C string raw. */
static void
puts_raw(struct tr_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Append ,"key": (the first key of an object has no comma). */
static void
key(struct tr_buf *b, const char *k)
{
	if (b->len > 0 && b->p[b->len - 1] != '{')
		put(b, ",", 1);
	put(b, "\"", 1);
	puts_raw(b, k);
	put(b, "\":", 2);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	size_t	need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n < need)
		return (0);
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (need);
}

/* Append a quoted, escaped string; invalid UTF-8 becomes U+FFFD. */
static void
quoted(struct tr_buf *b, const uint8_t *s, size_t n)
{
	char	esc[8];
	size_t	i, l;

	put(b, "\"", 1);
	for (i = 0; i < n && !b->overflow; i += l) {
		l = 1;
		switch (s[i]) {
		case '"':
			put(b, "\\\"", 2);
			continue;
		case '\\':
			put(b, "\\\\", 2);
			continue;
		case '\n':
			put(b, "\\n", 2);
			continue;
		case '\r':
			put(b, "\\r", 2);
			continue;
		case '\t':
			put(b, "\\t", 2);
			continue;
		default:
			break;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(b, esc, 6);
		} else if ((l = utf8_len(s + i, n - i)) == 0) {
			put(b, "\\ufffd", 6);
			l = 1;
		} else
			put(b, (const char *)s + i, l);
	}
	put(b, "\"", 1);
}

/* Begin an event: {"ts":"…","event":"…"[,"session":"…"]. */
void
tr_begin(struct tr_buf *b, uint64_t unix_us, const char *event,
    const char *session)
{
	struct tm	tm;
	time_t		t = (time_t)(unix_us / 1000000);
	char		ts[64];

	b->len = 0;
	b->overflow = 0;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(unix_us % 1000000));
	put(b, "{", 1);
	tr_jstr(b, "ts", ts);
	tr_jstr(b, "event", event);
	if (session != NULL)
		tr_jstr(b, "session", session);
	b->hdr = b->len;
}

/* Close the object and the line; returns its length. */
size_t
tr_end(struct tr_buf *b)
{
	static const char	trunc[] = ",\"truncated\":true}\n";

	if (!b->overflow && b->len + 2 <= b->cap) {
		memcpy(b->p + b->len, "}\n", 2);
		b->len += 2;
		return (b->len);
	}
	/* The header always fits: the reserve holds the marker. */
	b->len = b->hdr;
	memcpy(b->p + b->len, trunc, sizeof(trunc) - 1);
	b->len += sizeof(trunc) - 1;
	b->overflow = 1;
	return (b->len);
}

/* "key":"v" (null when v is NULL). */
void
tr_jstr(struct tr_buf *b, const char *k, const char *v)
{
	if (v == NULL) {
		tr_jnull(b, k);
		return;
	}
	tr_jbytes(b, k, (const uint8_t *)v, strlen(v));
}

/* "key":"…" from bytes (null when v is NULL). */
void
tr_jbytes(struct tr_buf *b, const char *k, const uint8_t *v, size_t len)
{
	key(b, k);
	if (v == NULL)
		puts_raw(b, "null");
	else
		quoted(b, v, len);
}

/* "key":v unsigned. */
void
tr_ju64(struct tr_buf *b, const char *k, uint64_t v)
{
	char	num[24];

	key(b, k);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	puts_raw(b, num);
}

/* "key":v signed. */
void
tr_ji64(struct tr_buf *b, const char *k, int64_t v)
{
	char	num[24];

	key(b, k);
	snprintf(num, sizeof(num), "%lld", (long long)v);
	puts_raw(b, num);
}

/* "key":true|false. */
void
tr_jbool(struct tr_buf *b, const char *k, int v)
{
	key(b, k);
	puts_raw(b, v ? "true" : "false");
}

/* "key":null. */
void
tr_jnull(struct tr_buf *b, const char *k)
{
	key(b, k);
	puts_raw(b, "null");
}

/* "key":"lowercase hex of v". */
void
tr_jhex(struct tr_buf *b, const char *k, const uint8_t *v, size_t len)
{
	static const char	digits[] = "0123456789abcdef";
	char			pair[2];
	size_t			i;

	key(b, k);
	put(b, "\"", 1);
	for (i = 0; i < len && !b->overflow; i++) {
		pair[0] = digits[v[i] >> 4];
		pair[1] = digits[v[i] & 15];
		put(b, pair, 2);
	}
	put(b, "\"", 1);
}

/* "key":milliseconds between two marks with 3 decimals, null if unset. */
void
tr_jms(struct tr_buf *b, const char *k, uint64_t from_us, uint64_t to_us)
{
	char	num[32];

	if (from_us == 0 || to_us == 0 || to_us < from_us) {
		tr_jnull(b, k);
		return;
	}
	key(b, k);
	snprintf(num, sizeof(num), "%llu.%03u",
	    (unsigned long long)((to_us - from_us) / 1000),
	    (unsigned)((to_us - from_us) % 1000));
	puts_raw(b, num);
}
