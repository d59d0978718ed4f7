/*
 * store.c: the registry's entries, sorted by id (stable pagination by
 * cursor), their JSON form in responses and the state file's text.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* Index of the first entry whose id is >= id (binary search). */
static size_t
store_lower(const struct reg_store *st, const char *id)
{
	size_t	lo = 0, hi = st->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(st->e[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* The entry with this id, or NULL. */
struct reg_entry *
reg_store_find(const struct reg_store *st, const char *id)
{
	size_t	i = store_lower(st, id);

	return (i < st->n && strcmp(st->e[i]->id, id) == 0 ? st->e[i] : NULL);
}

/* Index of the first entry whose id sorts after cursor ("" = all). */
size_t
reg_store_after(const struct reg_store *st, const char *cursor)
{
	size_t	i = store_lower(st, cursor);

	if (i < st->n && strcmp(st->e[i]->id, cursor) == 0)
		i++;
	return (i);
}

/* Insert e (its id not present); the store takes ownership. */
int
reg_store_add(struct reg_store *st, struct reg_entry *e)
{
	struct reg_entry	**ne;
	size_t			  i, cap;

	if (st->n == st->cap) {
		cap = st->cap == 0 ? 16 : st->cap * 2;
		if ((ne = reallocarray(st->e, cap, sizeof(*ne))) == NULL)
			return (HYP_ENOMEM);
		st->e = ne;
		st->cap = cap;
	}
	i = store_lower(st, e->id);
	memmove(&st->e[i + 1], &st->e[i], (st->n - i) * sizeof(st->e[0]));
	st->e[i] = e;
	st->n++;
	return (0);
}

/* Remove e from the store and free it. */
void
reg_store_del(struct reg_store *st, struct reg_entry *e)
{
	size_t	i = store_lower(st, e->id);

	if (i < st->n && st->e[i] == e) {
		memmove(&st->e[i], &st->e[i + 1],
		    (st->n - i - 1) * sizeof(st->e[0]));
		st->n--;
	}
	free(e);
}

/* Free every entry. */
void
reg_store_free(struct reg_store *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->e[i]);
	free(st->e);
	memset(st, 0, sizeof(*st));
}

/* The state as reported: quarantined, draining, starting or active. */
const char *
reg_entry_state(const struct reg_entry *e)
{
	if (e->quarantined)
		return ("quarantined");
	if (e->drain)
		return ("draining");
	if (e->starting)
		return ("starting");
	return ("active");
}

/*
 * Append s as a JSON string (quotes included) to out; returns the length
 * it needs, like snprintf.  Control and non-ASCII bytes are \u-escaped.
 */
size_t
reg_json_str(char *out, size_t cap, const char *s)
{
	static const char	 hx[] = "0123456789abcdef";
	char			 tmp[8];
	size_t			 n = 0, k, t;
	unsigned char		 c;

	for (k = 0;; k++) {
		if (k == 0) {
			tmp[0] = '"';
			t = 1;
		} else if ((c = (unsigned char)s[k - 1]) == '\0') {
			tmp[0] = '"';
			t = 1;
		} else if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			t = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hx[c >> 4];
			tmp[5] = hx[c & 15];
			t = 6;
		} else {
			tmp[0] = (char)c;
			t = 1;
		}
		if (n + t < cap)
			memcpy(out + n, tmp, t);
		n += t;
		if (k > 0 && s[k - 1] == '\0')
			break;
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return (n);
}

/* Append to a bounded buffer; keeps the total length it would need. */
struct sbuf {
	char	*p;
	size_t	 cap;
	size_t	 n;
};

static void	sb_printf(struct sbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* printf into the buffer. */
static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(b->n < b->cap ? b->p + b->n : NULL, b->n < b->cap ?
	    b->cap - b->n : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->n += (size_t)n;
}

/* A JSON string into the buffer. */
static void
sb_str(struct sbuf *b, const char *s)
{
	b->n += reg_json_str(b->n < b->cap ? b->p + b->n : NULL,
	    b->n < b->cap ? b->cap - b->n : 0, s);
}

/* The tags array of e. */
static void
sb_tags(struct sbuf *b, const struct reg_entry *e)
{
	size_t	i;

	sb_printf(b, "[");
	for (i = 0; i < e->ntags; i++) {
		if (i > 0)
			sb_printf(b, ",");
		sb_str(b, e->tags[i]);
	}
	sb_printf(b, "]");
}

/*
 * One entry as a response object; returns the length it needs (like
 * snprintf; the output is cut at cap).
 */
int
reg_entry_json(char *out, size_t cap, const struct reg_entry *e,
    int64_t now_ms)
{
	struct sbuf	b = { out, cap, 0 };
	int64_t		left = e->expires_ms - now_ms;

	sb_printf(&b, "{\"id\":");
	sb_str(&b, e->id);
	sb_printf(&b, ",\"pool\":");
	sb_str(&b, e->pool);
	sb_printf(&b, ",\"host\":");
	sb_str(&b, e->host);
	sb_printf(&b, ",\"port\":%u,\"weight\":%" PRIu32 ",\"max_players\":%"
	    PRIu32 ",\"tags\":", e->port, e->weight, e->max_players);
	sb_tags(&b, e);
	sb_printf(&b, ",\"ttl_seconds\":%" PRIu32 ",\"expires_in_ms\":%" PRId64
	    ",\"state\":\"%s\",\"players\":%" PRIu32 ",\"owner\":",
	    e->ttl_ms / 1000, left > 0 ? left : 0, reg_entry_state(e),
	    e->players);
	sb_str(&b, e->owner);
	sb_printf(&b, "}");
	if (cap > 0 && b.n >= cap)
		out[cap - 1] = '\0';
	return ((int)b.n);
}

/* One entry of the state file. */
static void
sb_file_entry(struct sbuf *b, const struct reg_entry *e)
{
	sb_printf(b, "{\"id\":");
	sb_str(b, e->id);
	sb_printf(b, ",\"pool\":");
	sb_str(b, e->pool);
	sb_printf(b, ",\"host\":");
	sb_str(b, e->host);
	sb_printf(b, ",\"port\":%u,\"weight\":%" PRIu32 ",\"max_players\":%"
	    PRIu32 ",\"tags\":", e->port, e->weight, e->max_players);
	sb_tags(b, e);
	sb_printf(b, ",\"ttl_ms\":%" PRIu32 ",\"expires_ms\":%" PRId64
	    ",\"owner\":", e->ttl_ms, e->expires_ms > 0 ? e->expires_ms : 0);
	sb_str(b, e->owner);
	sb_printf(b, ",\"drain\":%s,\"starting\":%s,\"quarantined\":%s,"
	    "\"players\":%" PRIu32 "}", e->drain ? "true" : "false",
	    e->starting ? "true" : "false", e->quarantined ? "true" : "false",
	    e->players);
}

/*
 * The state file's text: {"version":1,"entries":[...]} with one entry per
 * line.  *out is malloc'd (free()), NUL-terminated.
 */
int
reg_state_text(const struct reg_store *st, char **out, size_t *len)
{
	struct sbuf	b = { NULL, 0, 0 };
	size_t		i;
	int		pass;

	*out = NULL;
	for (pass = 0; pass < 2; pass++) {
		b.n = 0;
		sb_printf(&b, "{\"version\":1,\"entries\":[\n");
		for (i = 0; i < st->n; i++) {
			sb_file_entry(&b, st->e[i]);
			sb_printf(&b, "%s\n", i + 1 < st->n ? "," : "");
		}
		sb_printf(&b, "]}\n");
		if (pass == 0) {
			b.cap = b.n + 1;
			if ((b.p = malloc(b.cap)) == NULL)
				return (HYP_ENOMEM);
		}
	}
	*out = b.p;
	*len = b.n;
	return (0);
}
