/*
 * Configuration errors and positions: a libyaml pass indexes every key of
 * a file with its line and column (and reports syntax errors), libcyaml's
 * log is captured and rewritten into one "file:line:col: key: message"
 * line, and integers are checked strictly before libcyaml sees them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* vasprintf, memmem, reallocarray */
#endif
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "hyproxd.h"
#include "confint.h"

#define CONF_MAX_NODES		65536		/* nodes indexed per file */
#define CONF_MAX_PATH		512		/* dotted key path */
#define CONF_CAPTURE_SIZE	4096		/* captured libcyaml lines */

/* ---- libcyaml configuration and log capture ---- */

/* What libcyaml logged during the current load. */
static struct conf_capture {
	char	buf[CONF_CAPTURE_SIZE];
	size_t	len;
} conf_cap;

/* Append one libcyaml log message to the capture buffer (bounded). */
static void __attribute__((format(printf, 3, 0)))
conf_capture_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct conf_capture	*c = ctx;
	size_t			 room;
	int			 r;

	if (level < CYAML_LOG_ERROR || c->len >= sizeof c->buf - 1)
		return;
	room = sizeof c->buf - c->len;
	r = vsnprintf(c->buf + c->len, room, fmt, ap);
	if (r < 0)
		return;
	c->len += (size_t)r < room ? (size_t)r : room - 1;
}

static const cyaml_config_t conf_cyaml = {
	.log_fn = conf_capture_fn,
	.log_ctx = &conf_cap,
	.mem_fn = cyaml_mem,
	.mem_ctx = NULL,
	.log_level = CYAML_LOG_ERROR,
	.flags = CYAML_CFG_DEFAULT,
};

/* The libcyaml config used for every load, save and free. */
const cyaml_config_t *
hypd_cyaml_config(void)
{
	return (&conf_cyaml);
}

/* Forget what libcyaml logged before. */
void
hypd_conf_capture_reset(void)
{
	conf_cap.len = 0;
	conf_cap.buf[0] = '\0';
}

/* ---- small helpers ---- */

/* Format a malloc'd message (NULL when out of memory). */
char *
hypd_conf_errf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	return (s);
}

/* Store a message for the caller, or drop it when err is NULL. */
void
hypd_conf_seterr(char **err, char *msg)
{
	if (err != NULL)
		*err = msg;
	else
		free(msg);
}

/* ---- the libyaml pass: syntax errors and key positions ---- */


/* One open collection while indexing. */
struct conf_frame {
	char		*path;
	int		 is_map;
	int		 expect_key;
	int		 entries;
	char		*key;
	unsigned	 key_line;
	unsigned	 key_col;
};

/* Free an index. */
void
hypd_conf_doc_clear(struct conf_doc *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->nodes[i].path);
		free(d->nodes[i].scalar);
	}
	free(d->nodes);
	memset(d, 0, sizeof *d);
}

/* Add a node to the index. */
static int
conf_doc_add(struct conf_doc *d, const char *path, unsigned kl, unsigned kc,
    unsigned l, unsigned c)
{
	struct conf_node	*nn;
	size_t			 ncap;

	if (d->n == d->cap) {
		if (d->cap >= CONF_MAX_NODES)
			return (HYP_ENOSPC);
		ncap = d->cap == 0 ? 32 : d->cap * 2;
		if ((nn = reallocarray(d->nodes, ncap, sizeof *nn)) == NULL)
			return (HYP_ENOMEM);
		d->nodes = nn;
		d->cap = ncap;
	}
	if ((d->nodes[d->n].path = strdup(path)) == NULL)
		return (HYP_ENOMEM);
	d->nodes[d->n].key_line = kl;
	d->nodes[d->n].key_col = kc;
	d->nodes[d->n].line = l;
	d->nodes[d->n].col = c;
	d->nodes[d->n].scalar = NULL;
	d->n++;
	return (0);
}

/* The last node indexed under path, or NULL. */
static const struct conf_node *
conf_doc_find(const struct conf_doc *d, const char *path)
{
	size_t	i;

	if (d == NULL)
		return (NULL);
	for (i = d->n; i > 0; i--) {
		if (strcmp(d->nodes[i - 1].path, path) == 0)
			return (&d->nodes[i - 1]);
	}
	return (NULL);
}

/* Whether a plain scalar spells null. */
static int
conf_is_null(const yaml_event_t *ev)
{
	const char	*v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return (0);
	return (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

/* Index every node of text with its path and position. */
int
hypd_conf_doc_parse(struct conf_doc *d, const char *file, const char *text,
    size_t len, char **err)
{
	struct conf_frame	 st[CONF_MAX_DEPTH], *top;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	char			 path[CONF_MAX_PATH];
	unsigned		 line, col, kl, kc;
	int			 depth = 0, docs = 0, done = 0, rc = 0, r, i;
	int			 is_key;

	memset(d, 0, sizeof *d);
	if (!yaml_parser_initialize(&parser))
		return (HYP_ENOMEM);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			hypd_conf_seterr(err, hypd_conf_errf("%s:%zu:%zu: invalid YAML: "
			    "%s%s%s%s", file, parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem != NULL ? parser.problem : "error",
			    parser.context != NULL ? " (" : "",
			    parser.context != NULL ? parser.context : "",
			    parser.context != NULL ? ")" : ""));
			rc = HYP_ECONFIG;
			break;
		}
		line = (unsigned)ev.start_mark.line + 1;
		col = (unsigned)ev.start_mark.column + 1;
		top = depth > 0 ? &st[depth - 1] : NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				hypd_conf_seterr(err, hypd_conf_errf("%s:%u:%u: more than "
				    "one YAML document", file, line, col));
				rc = HYP_ECONFIG;
			}
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			kl = kc = 0;
			is_key = top != NULL && top->is_map && top->expect_key;
			if (is_key) {
				/* A key: remember it for its value. */
				free(top->key);
				top->key = strdup(ev.type == YAML_SCALAR_EVENT ?
				    (const char *)ev.data.scalar.value : "?");
				if (top->key == NULL) {
					rc = HYP_ENOMEM;
					break;
				}
				top->key_line = line;
				top->key_col = col;
				top->expect_key = 0;
				top->entries++;
				r = snprintf(path, sizeof path, "%s%s?",
				    top->path, top->path[0] != '\0' ? "." : "");
			} else if (top == NULL) {
				r = snprintf(path, sizeof path, "%s", "");
				if (ev.type == YAML_SCALAR_EVENT)
					d->root = conf_is_null(&ev) ?
					    CONF_ROOT_NULL : CONF_ROOT_OTHER;
				else if (ev.type == YAML_MAPPING_START_EVENT)
					d->root = CONF_ROOT_EMPTY;
				else
					d->root = CONF_ROOT_OTHER;
			} else if (top->is_map) {
				r = snprintf(path, sizeof path, "%s%s%s",
				    top->path, top->path[0] != '\0' ? "." : "",
				    top->key);
				kl = top->key_line;
				kc = top->key_col;
				top->expect_key = 1;
			} else {
				r = snprintf(path, sizeof path, "%s[%d]",
				    top->path, top->entries++);
			}
			if (r < 0 || (size_t)r >= sizeof path) {
				hypd_conf_seterr(err, hypd_conf_errf("%s:%u:%u: key path "
				    "too long", file, line, col));
				rc = HYP_ECONFIG;
				break;
			}
			if (!is_key && (rc = conf_doc_add(d, path, kl, kc,
			    line, col)) != 0) {
				if (rc == HYP_ENOSPC) {
					hypd_conf_seterr(err, hypd_conf_errf("%s:%u:%u: "
					    "too many nodes (at most %d)", file,
					    line, col, CONF_MAX_NODES));
					rc = HYP_ECONFIG;
				}
				break;
			}
			if (ev.type == YAML_SCALAR_EVENT && !is_key &&
			    (d->nodes[d->n - 1].scalar = strdup((const char *)
			    ev.data.scalar.value)) == NULL) {
				rc = HYP_ENOMEM;
				break;
			}
			if (ev.type != YAML_MAPPING_START_EVENT &&
			    ev.type != YAML_SEQUENCE_START_EVENT)
				break;
			if (depth == CONF_MAX_DEPTH) {
				hypd_conf_seterr(err, hypd_conf_errf("%s:%u:%u: nested "
				    "too deeply (at most %d levels)", file, line,
				    col, CONF_MAX_DEPTH));
				rc = HYP_ECONFIG;
				break;
			}
			top = &st[depth];
			memset(top, 0, sizeof *top);
			if ((top->path = strdup(path)) == NULL) {
				rc = HYP_ENOMEM;
				break;
			}
			depth++;
			top->is_map = ev.type == YAML_MAPPING_START_EVENT;
			top->expect_key = top->is_map;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (top == NULL)
				break;
			if (depth == 1 && top->is_map && top->entries > 0)
				d->root = CONF_ROOT_MAP;
			free(top->path);
			free(top->key);
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	for (i = 0; i < depth; i++) {
		free(st[i].path);
		free(st[i].key);
	}
	yaml_parser_delete(&parser);
	if (rc != 0)
		hypd_conf_doc_clear(d);
	return (rc);
}

/* Find the value of a dotted key path in a YAML file (1-based position). */
int
hypd_conf_locate(const char *file, const char *path, unsigned *line,
    unsigned *col)
{
	struct conf_doc		 d;
	const struct conf_node	*n;
	char			*text;
	size_t			 len;
	int			 rc;

	if ((rc = hypd_conf_read_file(file, &text, &len, NULL)) != 0)
		return (rc);
	rc = hypd_conf_doc_parse(&d, file, text, len, NULL);
	free(text);
	if (rc != 0)
		return (rc);
	if ((n = conf_doc_find(&d, path)) == NULL)
		rc = HYP_ENOENT;
	else {
		*line = n->line;
		*col = n->col;
	}
	hypd_conf_doc_clear(&d);
	return (rc);
}

/* An error at the value of path (or the file when it is not found). */
char *
hypd_conf_err_at(const char *file, const struct conf_doc *d, const char *path,
    const char *fmt, ...)
{
	const struct conf_node	*n;
	va_list			 ap;
	char			*msg, *s;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return (NULL);
	if ((n = conf_doc_find(d, path)) != NULL)
		s = hypd_conf_errf("%s:%u:%u: %s", file, n->line, n->col, msg);
	else
		s = hypd_conf_errf("%s: %s", file, msg);
	free(msg);
	return (s);
}

/* ---- turning libcyaml's log into one line ---- */

#define CONF_BT_MAX	CONF_MAX_DEPTH

/* One backtrace step from libcyaml's log. */
struct conf_bt {
	char		name[128];	/* field name, "[N]", or "" for a mapping */
	unsigned	line;
	unsigned	col;
};

/* Parse "  in mapping field 'x' (line: N, column: M)" and its kin. */
static int
conf_bt_parse(const char *s, size_t len, struct conf_bt *bt)
{
	const char	*pos, *q1, *q2;
	char		 tail[64];
	size_t		 nlen;
	unsigned long	 l, c;

	memset(bt, 0, sizeof *bt);
	if (len < 5 || strncmp(s, "  in ", 5) != 0)
		return (-1);
	/* The position is the last " (line: " of the line. */
	pos = NULL;
	for (q1 = s; (q1 = memmem(q1, len - (size_t)(q1 - s), " (line: ",
	    8)) != NULL; q1++)
		pos = q1;
	if (pos == NULL || (size_t)(s + len - pos) >= sizeof tail)
		return (-1);
	memcpy(tail, pos, (size_t)(s + len - pos));
	tail[s + len - pos] = '\0';
	if (sscanf(tail, " (line: %lu, column: %lu)", &l, &c) != 2)
		return (-1);
	bt->line = (unsigned)l;
	bt->col = (unsigned)c;
	q1 = memchr(s, '\'', (size_t)(pos - s));
	if (q1 == NULL)
		return (0);	/* "in mapping": no name */
	q2 = pos - 1;
	if (q2 <= q1 || *q2 != '\'')
		return (-1);
	nlen = (size_t)(q2 - q1 - 1);
	if (nlen + 3 > sizeof bt->name)
		nlen = sizeof bt->name - 3;
	if (strncmp(s, "  in sequence entry", 19) == 0)
		snprintf(bt->name, sizeof bt->name, "[%.*s]", (int)nlen, q1 + 1);
	else
		snprintf(bt->name, sizeof bt->name, "%.*s", (int)nlen, q1 + 1);
	return (0);
}

/* Append one path component (".name" or "[N]") to a path buffer. */
static void
conf_path_push(char *path, size_t size, const char *comp)
{
	size_t	len = strlen(path);

	if (comp[0] == '\0')
		return;
	if (comp[0] != '[' && len > 0)
		snprintf(path + len, size - len, ".%s", comp);
	else
		snprintf(path + len, size - len, "%s", comp);
}

/* The schema of the value at the backtrace's path, or NULL. */
static const cyaml_schema_value_t *
conf_schema_at(const cyaml_schema_value_t *s, const struct conf_bt *bt,
    int nbt)
{
	const cyaml_schema_field_t	*f;
	int				 i;

	for (i = nbt - 1; i >= 0 && s != NULL; i--) {
		if (bt[i].name[0] == '\0')
			continue;
		if (bt[i].name[0] == '[') {
			if (s->type != CYAML_SEQUENCE &&
			    s->type != CYAML_SEQUENCE_FIXED)
				return (NULL);
			s = s->sequence.entry;
			continue;
		}
		if (s->type != CYAML_MAPPING)
			return (NULL);
		for (f = s->mapping.fields; f->key != NULL; f++) {
			if (strcmp(f->key, bt[i].name) == 0)
				break;
		}
		s = f->key != NULL ? &f->value : NULL;
	}
	return (s);
}

/* Describe what a scalar schema accepts, for "invalid value" messages. */
static void
conf_schema_expect(const cyaml_schema_value_t *s, char *buf, size_t size)
{
	const cyaml_strval_t	*sv;
	uint32_t		 i, count;
	size_t			 len;
	unsigned long long	 umax;
	long long		 imax;

	buf[0] = '\0';
	if (s == NULL)
		return;
	switch (s->type) {
	case CYAML_ENUM:
	case CYAML_FLAGS:
		sv = s->enumeration.strings;
		count = s->enumeration.count;
		snprintf(buf, size, " (expected ");
		for (i = 0; i < count; i++) {
			len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "",
			    sv[i].str);
		}
		len = strlen(buf);
		snprintf(buf + len, size - len, ")");
		break;
	case CYAML_UINT:
		umax = s->data_size >= 8 ? ~0ULL :
		    (1ULL << (s->data_size * 8)) - 1;
		snprintf(buf, size, " (expected an integer in 0..%llu)", umax);
		break;
	case CYAML_INT:
		imax = s->data_size >= 8 ? (long long)(~0ULL >> 1) :
		    (long long)((1ULL << (s->data_size * 8 - 1)) - 1);
		snprintf(buf, size, " (expected an integer in %lld..%lld)",
		    -imax - 1, imax);
		break;
	case CYAML_BOOL:
		snprintf(buf, size, " (expected true or false)");
		break;
	case CYAML_FLOAT:
		snprintf(buf, size, " (expected a number)");
		break;
	default:
		break;
	}
}

/* Name a libcyaml event type as a YAML kind. */
static const char *
conf_kind(const char *ev)
{
	if (strncmp(ev, "MAPPING", 7) == 0)
		return ("a mapping");
	if (strncmp(ev, "SEQUENCE", 8) == 0)
		return ("a sequence");
	if (strncmp(ev, "ALIAS", 5) == 0)
		return ("an alias");
	return ("a scalar");
}

/* Copy a value out of "…: 'v'" or "…: v" into buf, unquoted. */
static void
conf_value_of(const char *msg, const char *after, char *buf, size_t size)
{
	const char	*v;
	size_t		 len;

	buf[0] = '\0';
	if ((v = strstr(msg, after)) == NULL)
		return;
	v += strlen(after);
	len = strlen(v);
	if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
		v++;
		len -= 2;
	}
	if (len >= size)
		len = size - 1;
	memcpy(buf, v, len);
	buf[len] = '\0';
}

/*
 * Replace libcyaml's sequence entry numbers (which are off by one while an
 * entry loads) by the index of the last entry starting at or before the
 * innermost position.
 */
static void
conf_bt_fix_indexes(const struct conf_doc *d, struct conf_bt *bt, int nbt)
{
	char		 prefix[CONF_MAX_PATH];
	const char	*p, *q;
	size_t		 plen, k;
	unsigned	 line, col;
	long		 best;
	int		 i;

	if (nbt == 0 || d == NULL)
		return;
	line = bt[0].line;
	col = bt[0].col;
	prefix[0] = '\0';
	for (i = nbt - 1; i >= 0; i--) {
		if (bt[i].name[0] == '[') {
			plen = strlen(prefix);
			best = -1;
			for (k = 0; k < d->n; k++) {
				p = d->nodes[k].path;
				if (strncmp(p, prefix, plen) != 0 ||
				    p[plen] != '[' ||
				    (q = strchr(p + plen, ']')) == NULL ||
				    q[1] != '\0')
					continue;
				if (d->nodes[k].line > line ||
				    (d->nodes[k].line == line &&
				    d->nodes[k].col > col))
					continue;
				best = strtol(p + plen + 1, NULL, 10);
			}
			if (best >= 0)
				snprintf(bt[i].name, sizeof bt[i].name, "[%ld]",
				    best);
		}
		conf_path_push(prefix, sizeof prefix, bt[i].name);
	}
}

/* Build the one-line message for a failed cyaml load from its log. */
static char *
conf_cyaml_error(const char *file, const struct conf_doc *d,
    const cyaml_schema_value_t *schema, cyaml_err_t e)
{
	struct conf_bt		 bt[CONF_BT_MAX];
	const struct conf_node	*n;
	char			 msg[512], path[CONF_MAX_PATH], full[CONF_MAX_PATH];
	char			 val[256], expect[512], text[1024];
	char			 locpath[CONF_MAX_PATH];
	const char		*s, *nl, *key;
	size_t			 len;
	unsigned		 line = 0, col = 0, num;
	int			 nbt = 0, i, use_key = 0, have_path = 1;

	msg[0] = '\0';
	locpath[0] = '\0';
	for (s = conf_cap.buf; *s != '\0'; s = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		len = (size_t)(nl - s);
		if (len > 6 && strncmp(s, "Load: ", 6) == 0) {
			if (msg[0] == '\0' && strncmp(s, "Load: Backtrace:",
			    16) != 0) {
				if (len - 6 >= sizeof msg)
					len = sizeof msg + 5;
				memcpy(msg, s + 6, len - 6);
				msg[len - 6] = '\0';
			}
		} else if (nbt < CONF_BT_MAX &&
		    conf_bt_parse(s, len, &bt[nbt]) == 0)
			nbt++;
	}
	if (msg[0] == '\0')
		snprintf(msg, sizeof msg, "%s", cyaml_strerror(e));
	len = strlen(msg);
	if (len > 0 && msg[len - 1] == '.')
		msg[len - 1] = '\0';
	if (nbt > 0) {
		line = bt[0].line;
		col = bt[0].col;
	}

	/* The path, outermost first, with our own sequence indexes. */
	conf_bt_fix_indexes(d, bt, nbt);
	path[0] = '\0';
	for (i = nbt - 1; i >= 0; i--)
		conf_path_push(path, sizeof path, bt[i].name);

	if (strncmp(msg, "Unexpected key: ", 16) == 0 ||
	    strncmp(msg, "Mapping field already seen: ", 28) == 0) {
		key = strchr(msg, ':') + 2;
		/* A repeated field is still the innermost step: drop it. */
		if (nbt > 0 && strcmp(bt[0].name, key) == 0) {
			path[0] = '\0';
			for (i = nbt - 1; i >= 1; i--)
				conf_path_push(path, sizeof path, bt[i].name);
		}
		snprintf(full, sizeof full, "%s", path);
		conf_path_push(full, sizeof full, key);
		snprintf(text, sizeof text, "%s key '%s'", msg[0] == 'U' ?
		    "unknown" : "duplicate", full);
		snprintf(path, sizeof path, "%s", full);
		use_key = 1;
		have_path = 0;
	} else if (strncmp(msg, "Invalid ", 8) == 0 &&
	    strstr(msg, " value: ") != NULL) {
		conf_value_of(msg, " value: ", val, sizeof val);
		conf_schema_expect(conf_schema_at(schema, bt, nbt), expect,
		    sizeof expect);
		snprintf(text, sizeof text, "%s value '%s'%s",
		    strncmp(msg, "Invalid ENUM", 12) == 0 ? "unknown" :
		    "invalid", val, expect);
	} else if (strncmp(msg, "Unknown flag: ", 14) == 0 ||
	    strncmp(msg, "Unknown bit value: ", 19) == 0) {
		conf_value_of(msg, ": ", val, sizeof val);
		conf_schema_expect(conf_schema_at(schema, bt, nbt), expect,
		    sizeof expect);
		snprintf(text, sizeof text, "unknown value '%s'%s", val,
		    expect);
	} else if (strncmp(msg, "Expecting ", 10) == 0 &&
	    (s = strstr(msg, "got event: ")) != NULL) {
		snprintf(text, sizeof text, "expected %s, got %s",
		    conf_kind(msg + 10), conf_kind(s + 11));
	} else if (sscanf(msg, "Excessive entries (%u max)", &num) == 1) {
		/* Point at the first extra entry but name the sequence. */
		snprintf(locpath, sizeof locpath, "%s", path);
		if (nbt > 0 && bt[0].name[0] == '[') {
			path[0] = '\0';
			for (i = nbt - 1; i >= 1; i--)
				conf_path_push(path, sizeof path, bt[i].name);
		}
		snprintf(text, sizeof text, "too many entries (at most %u)",
		    num);
	} else if (sscanf(msg, "Insufficient entries (%*u of %u min)",
	    &num) == 1)
		snprintf(text, sizeof text, "too few entries (at least %u)",
		    num);
	else if (sscanf(msg, "STRING length < %u", &num) == 1)
		snprintf(text, sizeof text, "value too short (at least %u "
		    "characters)", num);
	else if (sscanf(msg, "STRING length > %u", &num) == 1)
		snprintf(text, sizeof text, "value too long (at most %u "
		    "characters)", num);
	else if (strncmp(msg, "Missing required mapping field: ", 32) == 0) {
		/* The innermost step is the mapping's last (or first) field. */
		if (nbt > 0 && bt[0].name[0] != '\0' && bt[0].name[0] != '[') {
			path[0] = '\0';
			for (i = nbt - 1; i >= 1; i--)
				conf_path_push(path, sizeof path, bt[i].name);
		}
		snprintf(text, sizeof text, "missing required key '%s'",
		    msg + 32);
	}
	else if (strncmp(msg, "No anchor found for alias: ", 27) == 0) {
		conf_value_of(msg, "alias: ", val, sizeof val);
		snprintf(text, sizeof text, "unknown alias '%s'", val);
	} else if (strncmp(msg, "libyaml: ", 9) == 0)
		snprintf(text, sizeof text, "invalid YAML: %s", msg + 9);
	else
		snprintf(text, sizeof text, "%s", msg);

	/* Prefer our own index: libcyaml's marks lag behind for keys. */
	if ((n = conf_doc_find(d, locpath[0] != '\0' ? locpath : path)) !=
	    NULL) {
		if (use_key && n->key_line != 0) {
			line = n->key_line;
			col = n->key_col;
		} else {
			line = n->line;
			col = n->col;
		}
	} else if (use_key)
		line = col = 0;
	if (line == 0)
		n = conf_doc_find(d, "");
	if (line == 0 && n != NULL) {
		line = n->line;
		col = n->col;
	}
	if (have_path && path[0] != '\0') {
		if (line != 0)
			return (hypd_conf_errf("%s:%u:%u: %s: %s", file, line, col,
			    path, text));
		return (hypd_conf_errf("%s: %s: %s", file, path, text));
	}
	if (line != 0)
		return (hypd_conf_errf("%s:%u:%u: %s", file, line, col, text));
	return (hypd_conf_errf("%s: %s", file, text));
}

/* The schema of the value at a dotted path ("a.b[2].c"), or NULL. */
static const cyaml_schema_value_t *
conf_schema_path(const cyaml_schema_value_t *s, const char *path)
{
	const cyaml_schema_field_t	*f;
	const char			*p = path;
	size_t				 len;

	while (*p != '\0' && s != NULL) {
		if (*p == '[') {
			if ((p = strchr(p, ']')) == NULL)
				return (NULL);
			p++;
			if (s->type != CYAML_SEQUENCE &&
			    s->type != CYAML_SEQUENCE_FIXED)
				return (NULL);
			s = s->sequence.entry;
			continue;
		}
		if (*p == '.')
			p++;
		len = strcspn(p, ".[");
		if (s->type != CYAML_MAPPING)
			return (NULL);
		for (f = s->mapping.fields; f->key != NULL; f++) {
			if (strlen(f->key) == len && strncmp(f->key, p, len) == 0)
				break;
		}
		s = f->key != NULL ? &f->value : NULL;
		p += len;
	}
	return (s);
}

/*
 * Whether s is a whole integer: libcyaml 1.3 accepts "12abc" as 12 and
 * "010" as 8, so integers are checked here first.
 */
static int
conf_strict_int(const char *s, int is_signed)
{
	const char	*p = s;

	if (is_signed && (*p == '-' || *p == '+'))
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (*p == '\0')
			return (0);
		return (strspn(p, "0123456789abcdefABCDEF") == strlen(p));
	}
	if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
		return (0);
	return (strspn(p, "0123456789") == strlen(p));
}

/* Refuse integer fields whose text is not a whole integer. */
static int
conf_check_ints(const char *file, const struct conf_doc *d,
    const cyaml_schema_value_t *schema, char **err)
{
	const cyaml_schema_value_t	*s;
	char				 expect[512];
	size_t				 i;

	for (i = 0; i < d->n; i++) {
		if (d->nodes[i].scalar == NULL)
			continue;
		s = conf_schema_path(schema, d->nodes[i].path);
		if (s == NULL || (s->type != CYAML_INT && s->type != CYAML_UINT))
			continue;
		if (conf_strict_int(d->nodes[i].scalar, s->type == CYAML_INT))
			continue;
		conf_schema_expect(s, expect, sizeof expect);
		hypd_conf_seterr(err, hypd_conf_errf("%s:%u:%u: %s: invalid value '%s'%s",
		    file, d->nodes[i].line, d->nodes[i].col, d->nodes[i].path,
		    d->nodes[i].scalar, expect));
		return (HYP_ECONFIG);
	}
	return (0);
}

/* Load text against schema; an empty or null document loads as {}. */
int
hypd_conf_load_text(const char *file, const char *text, size_t len,
    const cyaml_schema_value_t *schema, void **out, struct conf_doc *d,
    char **err)
{
	cyaml_err_t	 e;
	cyaml_data_t	*data = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = hypd_conf_doc_parse(d, file, text, len, err)) != 0)
		return (rc);
	if ((rc = conf_check_ints(file, d, schema, err)) != 0) {
		hypd_conf_doc_clear(d);
		return (rc);
	}
	hypd_conf_capture_reset();
	if (d->root == CONF_ROOT_NONE || d->root == CONF_ROOT_NULL)
		e = cyaml_load_data((const uint8_t *)"{}", 2, &conf_cyaml,
		    schema, &data, NULL);
	else
		e = cyaml_load_data((const uint8_t *)text, len, &conf_cyaml,
		    schema, &data, NULL);
	if (e == CYAML_ERR_OOM) {
		hypd_conf_doc_clear(d);
		return (HYP_ENOMEM);
	}
	if (e != CYAML_OK || data == NULL) {
		hypd_conf_seterr(err, conf_cyaml_error(file, d, schema, e));
		hypd_conf_doc_clear(d);
		return (HYP_ECONFIG);
	}
	*out = data;
	return (0);
}
