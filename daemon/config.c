/*
 * Configuration: the core file hyproxd.yaml, the conf.d directory and the
 * plugins' files, loaded with libcyaml.  Every error names the file, the
 * line and column and the dotted key path, on one line.  libcyaml's own
 * messages are captured through its log function and rewritten; the
 * positions come from a libyaml pass over the same bytes, which also
 * reports syntax errors and serves semantic checks done after loading.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* asprintf, memmem */
#endif
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <yaml.h>

#include "hyproxd.h"

#ifndef HYP_PLUGINDIR
#define HYP_PLUGINDIR	"/usr/local/lib/hyprox/plugins"
#endif

#define CONF_MAX_BYTES		(1024 * 1024)	/* any one file */
#define CONF_MAX_FILES		256		/* conf.d entries */
#define CONF_MAX_NODES		65536		/* nodes indexed per file */
#define CONF_MAX_DEPTH		64		/* nesting */
#define CONF_MAX_PATH		512		/* dotted key path */
#define CONF_MAX_OPTIONAL	64		/* optional_plugins */
#define CONF_CAPTURE_SIZE	4096		/* captured libcyaml lines */
#define CONF_DRAIN_MAX_MS	3600000U
#define CONF_SESSIONS_MIN	1U
#define CONF_SESSIONS_MAX	10000000U
#define CONF_SESSIONS_DEF	100000U
#define CONF_NAME_MAX		32
#define CONF_REDACTED		"<redacted>"

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
static void
conf_capture_reset(void)
{
	conf_cap.len = 0;
	conf_cap.buf[0] = '\0';
}

/* ---- small helpers ---- */

/* Format a malloc'd message (NULL when out of memory). */
static char * __attribute__((format(printf, 1, 2)))
conf_errf(const char *fmt, ...)
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
static void
conf_seterr(char **err, char *msg)
{
	if (err != NULL)
		*err = msg;
	else
		free(msg);
}

/* Whether s is a plugin name: [a-z0-9][a-z0-9_-]{0,31}. */
static int
conf_valid_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > CONF_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (i > 0 && (s[i] == '_' || s[i] == '-'))
			continue;
		return (0);
	}
	return (1);
}

/* Make p absolute against base (or the working directory) and tidy it. */
static char *
conf_abspath(const char *base, const char *p)
{
	char	 cwd[PATH_MAX], *joined, *out, *seg, *save;
	size_t	 len, o;

	if (p[0] == '/')
		joined = strdup(p);
	else {
		if (base == NULL) {
			if (getcwd(cwd, sizeof cwd) == NULL)
				return (NULL);
			base = cwd;
		}
		if (asprintf(&joined, "%s/%s", base, p) == -1)
			joined = NULL;
	}
	if (joined == NULL)
		return (NULL);
	len = strlen(joined);
	if ((out = malloc(len + 2)) == NULL) {
		free(joined);
		return (NULL);
	}
	/* Drop "." and empty segments, let ".." eat the previous one. */
	o = 0;
	for (seg = strtok_r(joined, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		len = strlen(seg);
		memcpy(out + o, seg, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(joined);
	return (out);
}

/* The directory part of an absolute path, malloc'd. */
static char *
conf_dirname(const char *abs)
{
	const char	*slash;

	slash = strrchr(abs, '/');
	if (slash == NULL || slash == abs)
		return (strdup("/"));
	return (strndup(abs, (size_t)(slash - abs)));
}

/* Read a whole file of at most CONF_MAX_BYTES into a NUL-terminated buffer. */
static int
conf_read_file(const char *file, char **text, size_t *textlen, char **err)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, e;

	*text = NULL;
	*textlen = 0;
	/* O_NONBLOCK: a FIFO must not hang us; regular files ignore it. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		e = errno;
		conf_seterr(err, conf_errf("%s: cannot open: %s", file,
		    strerror(e)));
		return (-e);
	}
	if (fstat(fd, &st) == -1)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (!S_ISREG(st.st_mode))
		e = -1;
	else
		e = 0;
	if (e != 0) {
		close(fd);
		conf_seterr(err, conf_errf("%s: cannot open: %s", file,
		    e > 0 ? strerror(e) : "not a regular file"));
		return (e > 0 ? -e : HYP_EINVAL);
	}
	if (st.st_size > CONF_MAX_BYTES) {
		close(fd);
		conf_seterr(err, conf_errf("%s: too large (%lld bytes, at most "
		    "%d)", file, (long long)st.st_size, CONF_MAX_BYTES));
		return (HYP_ETOOBIG);
	}
	if ((buf = malloc(CONF_MAX_BYTES + 1)) == NULL) {
		close(fd);
		return (HYP_ENOMEM);
	}
	/* The file may grow while we read: read one byte past the limit. */
	for (;;) {
		r = read(fd, buf + len, CONF_MAX_BYTES + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > CONF_MAX_BYTES)
			break;
	}
	e = errno;
	close(fd);
	if (r == -1) {
		free(buf);
		conf_seterr(err, conf_errf("%s: cannot read: %s", file,
		    strerror(e)));
		return (-e);
	}
	if (len > CONF_MAX_BYTES) {
		free(buf);
		conf_seterr(err, conf_errf("%s: too large (more than %d bytes)",
		    file, CONF_MAX_BYTES));
		return (HYP_ETOOBIG);
	}
	buf[len] = '\0';
	*text = buf;
	*textlen = len;
	return (0);
}

/* ---- the libyaml pass: syntax errors and key positions ---- */

enum conf_root {
	CONF_ROOT_NONE = 0,	/* no document at all */
	CONF_ROOT_NULL,		/* "", "~" or "null" */
	CONF_ROOT_EMPTY,	/* {} */
	CONF_ROOT_MAP,
	CONF_ROOT_OTHER,	/* scalar or sequence */
};

/* One node of a file and where it is (1-based). */
struct conf_node {
	char		*path;		/* "log.level", "list[2]", "" for the root */
	unsigned	 key_line;	/* the key; 0 for roots and entries */
	unsigned	 key_col;
	unsigned	 line;		/* the value */
	unsigned	 col;
	char		*scalar;	/* a scalar value's text, else NULL */
};

/* A parsed file's index. */
struct conf_doc {
	struct conf_node	*nodes;
	size_t			 n;
	size_t			 cap;
	enum conf_root		 root;
};

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
static void
conf_doc_clear(struct conf_doc *d)
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
static int
conf_doc_parse(struct conf_doc *d, const char *file, const char *text,
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
			conf_seterr(err, conf_errf("%s:%zu:%zu: invalid YAML: "
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
				conf_seterr(err, conf_errf("%s:%u:%u: more than "
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
				conf_seterr(err, conf_errf("%s:%u:%u: key path "
				    "too long", file, line, col));
				rc = HYP_ECONFIG;
				break;
			}
			if (!is_key && (rc = conf_doc_add(d, path, kl, kc,
			    line, col)) != 0) {
				if (rc == HYP_ENOSPC) {
					conf_seterr(err, conf_errf("%s:%u:%u: "
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
				conf_seterr(err, conf_errf("%s:%u:%u: nested "
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
		conf_doc_clear(d);
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

	if ((rc = conf_read_file(file, &text, &len, NULL)) != 0)
		return (rc);
	rc = conf_doc_parse(&d, file, text, len, NULL);
	free(text);
	if (rc != 0)
		return (rc);
	if ((n = conf_doc_find(&d, path)) == NULL)
		rc = HYP_ENOENT;
	else {
		*line = n->line;
		*col = n->col;
	}
	conf_doc_clear(&d);
	return (rc);
}

/* An error at the value of path (or the file when it is not found). */
static char * __attribute__((format(printf, 4, 5)))
conf_err_at(const char *file, const struct conf_doc *d, const char *path,
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
		s = conf_errf("%s:%u:%u: %s", file, n->line, n->col, msg);
	else
		s = conf_errf("%s: %s", file, msg);
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
			return (conf_errf("%s:%u:%u: %s: %s", file, line, col,
			    path, text));
		return (conf_errf("%s: %s: %s", file, path, text));
	}
	if (line != 0)
		return (conf_errf("%s:%u:%u: %s", file, line, col, text));
	return (conf_errf("%s: %s", file, text));
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
		conf_seterr(err, conf_errf("%s:%u:%u: %s: invalid value '%s'%s",
		    file, d->nodes[i].line, d->nodes[i].col, d->nodes[i].path,
		    d->nodes[i].scalar, expect));
		return (HYP_ECONFIG);
	}
	return (0);
}

/* Load text against schema; an empty or null document loads as {}. */
static int
conf_load_text(const char *file, const char *text, size_t len,
    const cyaml_schema_value_t *schema, void **out, struct conf_doc *d,
    char **err)
{
	cyaml_err_t	 e;
	cyaml_data_t	*data = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = conf_doc_parse(d, file, text, len, err)) != 0)
		return (rc);
	if ((rc = conf_check_ints(file, d, schema, err)) != 0) {
		conf_doc_clear(d);
		return (rc);
	}
	conf_capture_reset();
	if (d->root == CONF_ROOT_NONE || d->root == CONF_ROOT_NULL)
		e = cyaml_load_data((const uint8_t *)"{}", 2, &conf_cyaml,
		    schema, &data, NULL);
	else
		e = cyaml_load_data((const uint8_t *)text, len, &conf_cyaml,
		    schema, &data, NULL);
	if (e == CYAML_ERR_OOM) {
		conf_doc_clear(d);
		return (HYP_ENOMEM);
	}
	if (e != CYAML_OK || data == NULL) {
		conf_seterr(err, conf_cyaml_error(file, d, schema, e));
		conf_doc_clear(d);
		return (HYP_ECONFIG);
	}
	*out = data;
	return (0);
}

/* ---- the core file ---- */

/* hyproxd.yaml as libcyaml loads it: scalars kept as text, checked later. */
struct conf_raw_log {
	char	*level;
	char	*format;
	char	*output;
	char	*file;
	char	*ident;
	char	*facility;
};

struct conf_raw {
	char			*plugin_dir;
	char			*conf_dir;
	struct conf_raw_log	*log;
	char			*drain_timeout;
	char			*pid_file;
	char			**optional_plugins;
	unsigned		 optional_plugins_count;
	char			*max_sessions;
};

#define CONF_STR(k, s, m)						\
	CYAML_FIELD_STRING_PTR(k,					\
	    CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR, s, m,	\
	    0, CYAML_UNLIMITED)

static const cyaml_schema_field_t conf_raw_log_fields[] = {
	CONF_STR("level", struct conf_raw_log, level),
	CONF_STR("format", struct conf_raw_log, format),
	CONF_STR("output", struct conf_raw_log, output),
	CONF_STR("file", struct conf_raw_log, file),
	CONF_STR("ident", struct conf_raw_log, ident),
	CONF_STR("facility", struct conf_raw_log, facility),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t conf_raw_name = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t conf_raw_fields[] = {
	CONF_STR("plugin_dir", struct conf_raw, plugin_dir),
	CONF_STR("conf_dir", struct conf_raw, conf_dir),
	CYAML_FIELD_MAPPING_PTR("log",
	    CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR,
	    struct conf_raw, log, conf_raw_log_fields),
	CONF_STR("drain_timeout", struct conf_raw, drain_timeout),
	CONF_STR("pid_file", struct conf_raw, pid_file),
	CYAML_FIELD_SEQUENCE("optional_plugins",
	    CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR,
	    struct conf_raw, optional_plugins, &conf_raw_name,
	    0, CONF_MAX_OPTIONAL),
	CONF_STR("max_sessions", struct conf_raw, max_sessions),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t conf_raw_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct conf_raw,
	    conf_raw_fields),
};

/* A name and its value, for the enumerated settings. */
struct conf_word {
	const char	*name;
	int		 value;
};

static const struct conf_word conf_levels[] = {
	{ "err", HYP_LOG_ERR },
	{ "warning", HYP_LOG_WARNING },
	{ "notice", HYP_LOG_NOTICE },
	{ "info", HYP_LOG_INFO },
	{ "debug", HYP_LOG_DEBUG },
	{ NULL, 0 }
};

static const struct conf_word conf_formats[] = {
	{ "text", HYPD_LOG_TEXT },
	{ "json", HYPD_LOG_JSON },
	{ NULL, 0 }
};

static const struct conf_word conf_outputs[] = {
	{ "stderr", HYPD_LOG_STDERR },
	{ "file", HYPD_LOG_FILE },
	{ "syslog", HYPD_LOG_SYSLOG },
	{ NULL, 0 }
};

static const struct conf_word conf_facilities[] = {
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

/* The name of a value in a word table, or "?". */
static const char *
conf_word_name(const struct conf_word *w, int value)
{
	for (; w->name != NULL; w++) {
		if (w->value == value)
			return (w->name);
	}
	return ("?");
}

/* Look s up in a word table; on failure build the "expected" message. */
static int
conf_word(const char *file, const struct conf_doc *d, const char *path,
    const struct conf_word *table, const char *s, int *value, char **err)
{
	const struct conf_word	*w;
	char			 list[256];
	size_t			 len;

	list[0] = '\0';
	for (w = table; w->name != NULL; w++) {
		if (strcmp(w->name, s) == 0) {
			*value = w->value;
			return (0);
		}
		len = strlen(list);
		snprintf(list + len, sizeof list - len, "%s%s",
		    w == table ? "" : ", ", w->name);
	}
	conf_seterr(err, conf_err_at(file, d, path, "%s: unknown value '%s' "
	    "(expected %s)", path, s, list));
	return (HYP_ECONFIG);
}

/* Parse a decimal unsigned number within [min, max]. */
static int
conf_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long long	 v = 0;
	const char		*p;

	if (*s == '\0')
		return (HYP_EINVAL);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (HYP_EINVAL);
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > max)
			return (HYP_ERANGE);
	}
	if (v < min)
		return (HYP_ERANGE);
	*out = (unsigned long)v;
	return (0);
}

/* Resolve a non-empty path setting against base; NULL in, NULL out. */
static int
conf_path(const char *file, const struct conf_doc *d, const char *key,
    const char *base, const char *value, char **out, char **err)
{
	*out = NULL;
	if (value == NULL)
		return (0);
	if (value[0] == '\0') {
		conf_seterr(err, conf_err_at(file, d, key, "%s: must not be "
		    "empty", key));
		return (HYP_ECONFIG);
	}
	if ((*out = conf_abspath(base, value)) == NULL)
		return (HYP_ENOMEM);
	return (0);
}

/* Turn the raw file into the effective core configuration. */
static int
conf_core_convert(const char *file, const struct conf_doc *d,
    const struct conf_raw *r, struct hypd_core_conf *c,
    const char *conf_dir_override, char **err)
{
	const struct conf_raw_log	*l = r->log;
	const char			*s;
	char				 key[64];
	unsigned long			 v;
	unsigned			 i, j;
	int				 rc;

	c->log.level = HYP_LOG_INFO;
	c->log.format = HYPD_LOG_TEXT;
	c->log.output = HYPD_LOG_STDERR;
	c->log.facility = LOG_DAEMON;
	c->drain_timeout_ms = 10000;
	c->max_sessions = CONF_SESSIONS_DEF;

	if ((rc = conf_path(file, d, "plugin_dir", c->dir, r->plugin_dir,
	    &c->plugin_dir, err)) != 0)
		return (rc);
	if (c->plugin_dir == NULL &&
	    (c->plugin_dir = strdup(HYP_PLUGINDIR)) == NULL)
		return (HYP_ENOMEM);

	if (conf_dir_override != NULL) {
		if (conf_dir_override[0] == '\0') {
			conf_seterr(err, conf_errf("conf_dir override must "
			    "not be empty"));
			return (HYP_EINVAL);
		}
		c->conf_dir = conf_abspath(NULL, conf_dir_override);
	} else {
		if ((rc = conf_path(file, d, "conf_dir", c->dir, r->conf_dir,
		    &c->conf_dir, err)) != 0)
			return (rc);
		if (c->conf_dir == NULL)
			c->conf_dir = conf_abspath(c->dir, "conf.d");
	}
	if (c->conf_dir == NULL)
		return (HYP_ENOMEM);

	if (l != NULL) {
		if (l->level != NULL && (rc = conf_word(file, d, "log.level",
		    conf_levels, l->level, &c->log.level, err)) != 0)
			return (rc);
		if (l->format != NULL && (rc = conf_word(file, d, "log.format",
		    conf_formats, l->format, &c->log.format, err)) != 0)
			return (rc);
		if (l->output != NULL && (rc = conf_word(file, d, "log.output",
		    conf_outputs, l->output, &c->log.output, err)) != 0)
			return (rc);
		if (l->facility != NULL && (rc = conf_word(file, d,
		    "log.facility", conf_facilities, l->facility,
		    &c->log.facility, err)) != 0)
			return (rc);
		if ((rc = conf_path(file, d, "log.file", c->dir, l->file,
		    &c->log.file, err)) != 0)
			return (rc);
		if (l->ident != NULL) {
			if (l->ident[0] == '\0' || strlen(l->ident) > 64) {
				conf_seterr(err, conf_err_at(file, d,
				    "log.ident", "log.ident: must be 1 to 64 "
				    "characters"));
				return (HYP_ECONFIG);
			}
			if ((c->log.ident = strdup(l->ident)) == NULL)
				return (HYP_ENOMEM);
		}
	}
	if (c->log.output == HYPD_LOG_FILE && c->log.file == NULL) {
		conf_seterr(err, conf_err_at(file, d, "log.output", "log.file: "
		    "required when log.output is file"));
		return (HYP_ECONFIG);
	}
	if (c->log.ident == NULL && (c->log.ident = strdup("hyproxd")) == NULL)
		return (HYP_ENOMEM);

	if ((s = r->drain_timeout) != NULL) {
		rc = hyp_duration_parse(s, CONF_DRAIN_MAX_MS,
		    &c->drain_timeout_ms);
		if (rc == HYP_ERANGE) {
			conf_seterr(err, conf_err_at(file, d, "drain_timeout",
			    "drain_timeout: value '%s' out of range (0s..3600s)", s));
			return (HYP_ECONFIG);
		}
		if (rc != 0) {
			conf_seterr(err, conf_err_at(file, d, "drain_timeout",
			    "drain_timeout: invalid duration '%s' (expected "
			    "e.g. 10s, 500ms, 2m or a number of seconds)", s));
			return (HYP_ECONFIG);
		}
	}

	if ((rc = conf_path(file, d, "pid_file", c->dir, r->pid_file,
	    &c->pid_file, err)) != 0)
		return (rc);

	if (r->optional_plugins_count > 0) {
		c->optional = calloc(r->optional_plugins_count,
		    sizeof *c->optional);
		if (c->optional == NULL)
			return (HYP_ENOMEM);
	}
	for (i = 0; i < r->optional_plugins_count; i++) {
		s = r->optional_plugins[i];
		snprintf(key, sizeof key, "optional_plugins[%u]", i);
		if (!conf_valid_name(s, strlen(s))) {
			conf_seterr(err, conf_err_at(file, d, key, "%s: invalid "
			    "plugin name '%s'", key, s));
			return (HYP_ECONFIG);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(s, c->optional[j]) == 0) {
				conf_seterr(err, conf_err_at(file, d, key,
				    "%s: plugin '%s' listed twice", key, s));
				return (HYP_ECONFIG);
			}
		}
		if ((c->optional[i] = strdup(s)) == NULL)
			return (HYP_ENOMEM);
		c->optional_count++;
	}

	if ((s = r->max_sessions) != NULL) {
		rc = conf_uint(s, CONF_SESSIONS_MIN, CONF_SESSIONS_MAX, &v);
		if (rc != 0) {
			conf_seterr(err, conf_err_at(file, d, "max_sessions",
			    "max_sessions: %svalue '%s'%s (expected an integer "
			    "in %u..%u)", rc == HYP_ERANGE ? "" : "invalid ", s,
			    rc == HYP_ERANGE ? " out of range" : "",
			    CONF_SESSIONS_MIN,
			    CONF_SESSIONS_MAX));
			return (HYP_ECONFIG);
		}
		c->max_sessions = (uint32_t)v;
	}
	return (0);
}

/* Load and validate the core file. */
int
hypd_core_conf_load(const char *path, const char *conf_dir_override,
    struct hypd_core_conf **out, char **err)
{
	struct hypd_core_conf	*c;
	struct conf_raw		*raw = NULL;
	struct conf_doc		 d;
	char			*text = NULL;
	size_t			 len;
	int			 rc;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return (HYP_ENOMEM);
	if ((c->path = conf_abspath(NULL, path)) == NULL ||
	    (c->dir = conf_dirname(c->path)) == NULL) {
		hypd_core_conf_free(c);
		return (HYP_ENOMEM);
	}
	if ((rc = conf_read_file(path, &text, &len, err)) != 0) {
		hypd_core_conf_free(c);
		return (rc);
	}
	rc = conf_load_text(path, text, len, &conf_raw_schema, (void **)&raw,
	    &d, err);
	free(text);
	if (rc != 0) {
		hypd_core_conf_free(c);
		return (rc);
	}
	rc = conf_core_convert(path, &d, raw, c, conf_dir_override, err);
	cyaml_free(&conf_cyaml, &conf_raw_schema, raw, 0);
	conf_doc_clear(&d);
	if (rc != 0) {
		hypd_core_conf_free(c);
		return (rc);
	}
	*out = c;
	return (0);
}

/* Free a core configuration. */
void
hypd_core_conf_free(struct hypd_core_conf *c)
{
	unsigned	i;

	if (c == NULL)
		return;
	free(c->plugin_dir);
	free(c->conf_dir);
	free(c->log.file);
	free(c->log.ident);
	free(c->pid_file);
	for (i = 0; i < c->optional_count; i++)
		free(c->optional[i]);
	free(c->optional);
	free(c->path);
	free(c->dir);
	free(c);
}

/* ---- conf.d ---- */

/* Split "NN-name.yaml" into its order and name; 0 if it does not match. */
static int
conf_entry_name(const char *fn, unsigned *order, char *name, size_t size)
{
	size_t	len = strlen(fn), nlen;

	if (len < 3 + 1 + 5 || fn[0] < '0' || fn[0] > '9' || fn[1] < '0' ||
	    fn[1] > '9' || fn[2] != '-' || strcmp(fn + len - 5, ".yaml") != 0)
		return (0);
	nlen = len - 3 - 5;
	if (!conf_valid_name(fn + 3, nlen) || nlen >= size)
		return (0);
	memcpy(name, fn + 3, nlen);
	name[nlen] = '\0';
	*order = (unsigned)((fn[0] - '0') * 10 + (fn[1] - '0'));
	return (1);
}

/* Order conf.d entries by NN, then by name. */
static int
conf_entry_cmp(const void *a, const void *b)
{
	const struct hypd_conf_entry	*x = a, *y = b;

	if (x->order != y->order)
		return (x->order < y->order ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* List conf.d's NN-name.yaml files with their bytes, sorted. */
int
hypd_confdir_scan(const char *dir, struct hypd_conf_entry **out, size_t *n,
    char **err)
{
	struct hypd_conf_entry	*e = NULL, *ne;
	struct dirent		*de;
	DIR			*dp;
	char			*adir, name[CONF_NAME_MAX + 1];
	size_t			 cnt = 0, cap = 0, i, j;
	unsigned		 order;
	int			 rc = 0, saved;

	*out = NULL;
	*n = 0;
	if (err != NULL)
		*err = NULL;
	if ((adir = conf_abspath(NULL, dir)) == NULL)
		return (HYP_ENOMEM);
	if ((dp = opendir(adir)) == NULL) {
		saved = errno;
		conf_seterr(err, conf_errf("%s: cannot open: %s", dir,
		    strerror(saved)));
		free(adir);
		return (-saved);
	}
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!conf_entry_name(de->d_name, &order, name, sizeof name)) {
			hyp_log(NULL, HYP_LOG_DEBUG, "%s: ignoring %s (not "
			    "NN-name.yaml)", dir, de->d_name);
			continue;
		}
		if (cnt == CONF_MAX_FILES) {
			conf_seterr(err, conf_errf("%s: too many files (at most "
			    "%d)", dir, CONF_MAX_FILES));
			rc = HYP_ECONFIG;
			break;
		}
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((ne = reallocarray(e, cap, sizeof *e)) == NULL) {
				rc = HYP_ENOMEM;
				break;
			}
			e = ne;
		}
		ne = &e[cnt];
		memset(ne, 0, sizeof *ne);
		cnt++;
		ne->order = order;
		ne->name = strdup(name);
		ne->dir = strdup(adir);
		if (asprintf(&ne->file, "%s/%s", adir, de->d_name) == -1)
			ne->file = NULL;
		if (ne->name == NULL || ne->dir == NULL || ne->file == NULL) {
			rc = HYP_ENOMEM;
			break;
		}
		if ((rc = conf_read_file(ne->file, &ne->text, &ne->textlen,
		    err)) != 0)
			break;
	}
	closedir(dp);
	free(adir);
	if (rc == 0 && cnt > 1)
		qsort(e, cnt, sizeof *e, conf_entry_cmp);
	for (i = 0; rc == 0 && i < cnt; i++) {
		for (j = i + 1; rc == 0 && j < cnt; j++) {
			if (strcmp(e[i].name, e[j].name) != 0)
				continue;
			conf_seterr(err, conf_errf("%s and %s both configure "
			    "plugin '%s'", e[i].file, e[j].file, e[i].name));
			rc = HYP_EEXIST;
		}
	}
	if (rc != 0) {
		hypd_confdir_free(e, cnt);
		return (rc);
	}
	*out = e;
	*n = cnt;
	return (0);
}

/* Free a conf.d listing. */
void
hypd_confdir_free(struct hypd_conf_entry *e, size_t n)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].file);
		free(e[i].dir);
		free(e[i].text);
	}
	free(e);
}

/* ---- plugin files ---- */

/* Load a plugin's file against its schema. */
int
hypd_plugin_conf_load(const char *file, const cyaml_schema_value_t *schema,
    void **out, char **err)
{
	struct conf_doc	 d;
	char		*text;
	size_t		 len;
	int		 rc;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	if ((rc = conf_read_file(file, &text, &len, err)) != 0)
		return (rc);
	if (schema == NULL) {
		rc = conf_doc_parse(&d, file, text, len, err);
		free(text);
		if (rc != 0)
			return (rc);
		if (d.root != CONF_ROOT_NONE && d.root != CONF_ROOT_NULL &&
		    d.root != CONF_ROOT_EMPTY) {
			conf_seterr(err, conf_err_at(file, &d, "",
			    "plugin takes no configuration"));
			rc = HYP_ECONFIG;
		}
		conf_doc_clear(&d);
		return (rc);
	}
	rc = conf_load_text(file, text, len, schema, out, &d, err);
	free(text);
	if (rc == 0)
		conf_doc_clear(&d);
	return (rc);
}

/* Free a plugin configuration loaded with schema. */
void
hypd_plugin_conf_free(const cyaml_schema_value_t *schema, void *conf)
{
	if (schema == NULL || conf == NULL)
		return;
	cyaml_free(&conf_cyaml, schema, conf, 0);
}

/* ---- printing the effective configuration ---- */

/* Whether a key names a secret: secret, password, token, key, *_<those>. */
static int
conf_secret_key(const char *k)
{
	static const char	*const words[] = {
		"secret", "password", "token", "key", NULL
	};
	const char		*const *w;
	size_t			 kl = strlen(k), wl;

	for (w = words; *w != NULL; w++) {
		wl = strlen(*w);
		if (strcasecmp(k, *w) == 0)
			return (1);
		if (kl > wl + 1 && k[kl - wl - 1] == '_' &&
		    strcasecmp(k + kl - wl, *w) == 0)
			return (1);
	}
	return (0);
}

/* Emit one plain scalar. */
static int
conf_emit_scalar(yaml_emitter_t *em, const char *s)
{
	yaml_event_t	ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)s, -1, 1, 1, YAML_ANY_SCALAR_STYLE))
		return (0);
	return (yaml_emitter_emit(em, &ev));
}

/* Emit a mapping or sequence start (block style). */
static int
conf_emit_start(yaml_emitter_t *em, int map)
{
	yaml_event_t	ev;
	int		ok;

	if (map)
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
	else
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_SEQUENCE_STYLE);
	return (ok && yaml_emitter_emit(em, &ev));
}

/* Emit a mapping or sequence end. */
static int
conf_emit_end(yaml_emitter_t *em, int map)
{
	yaml_event_t	ev;
	int		ok;

	if (map)
		ok = yaml_mapping_end_event_initialize(&ev);
	else
		ok = yaml_sequence_end_event_initialize(&ev);
	return (ok && yaml_emitter_emit(em, &ev));
}

/* Emit "key: value", value "~" when NULL. */
static int
conf_emit_kv(yaml_emitter_t *em, const char *k, const char *v)
{
	return (conf_emit_scalar(em, k) &&
	    conf_emit_scalar(em, v != NULL ? v : "~"));
}

/* Emit the core section. */
static int
conf_emit_core(yaml_emitter_t *em, const struct hypd_core_conf *c)
{
	char		buf[32];
	unsigned	i;

	if (!conf_emit_scalar(em, "core") || !conf_emit_start(em, 1) ||
	    !conf_emit_kv(em, "plugin_dir", c->plugin_dir) ||
	    !conf_emit_kv(em, "conf_dir", c->conf_dir) ||
	    !conf_emit_scalar(em, "log") || !conf_emit_start(em, 1) ||
	    !conf_emit_kv(em, "level", conf_word_name(conf_levels,
	    c->log.level)) ||
	    !conf_emit_kv(em, "format", conf_word_name(conf_formats,
	    c->log.format)) ||
	    !conf_emit_kv(em, "output", conf_word_name(conf_outputs,
	    c->log.output)) ||
	    !conf_emit_kv(em, "file", c->log.file) ||
	    !conf_emit_kv(em, "ident", c->log.ident) ||
	    !conf_emit_kv(em, "facility", conf_word_name(conf_facilities,
	    c->log.facility)) ||
	    !conf_emit_end(em, 1))
		return (0);
	if (c->drain_timeout_ms % 1000 == 0)
		snprintf(buf, sizeof buf, "%us", c->drain_timeout_ms / 1000);
	else
		snprintf(buf, sizeof buf, "%ums", c->drain_timeout_ms);
	if (!conf_emit_kv(em, "drain_timeout", buf) ||
	    !conf_emit_kv(em, "pid_file", c->pid_file) ||
	    !conf_emit_scalar(em, "optional_plugins") ||
	    !conf_emit_start(em, 0))
		return (0);
	for (i = 0; i < c->optional_count; i++) {
		if (!conf_emit_scalar(em, c->optional[i]))
			return (0);
	}
	snprintf(buf, sizeof buf, "%u", c->max_sessions);
	return (conf_emit_end(em, 0) && conf_emit_kv(em, "max_sessions", buf) &&
	    conf_emit_end(em, 1));
}

/* One open collection while re-emitting a plugin's configuration. */
struct conf_rframe {
	int	is_map;
	int	expect_key;
	int	secret;		/* everything below is redacted */
	int	next_secret;	/* the pending value's key is a secret */
};

/* Re-emit libcyaml's rendering of conf, redacting secret-looking keys. */
static int
conf_emit_plugin(yaml_emitter_t *em, const cyaml_schema_value_t *schema,
    void *conf)
{
	struct conf_rframe	 st[CONF_MAX_DEPTH], *top;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	cyaml_err_t		 e;
	uint8_t			*yaml = NULL;
	size_t			 len = 0;
	int			 depth = 0, done = 0, ok = 1, secret, is_key;

	if (schema == NULL || conf == NULL)
		return (conf_emit_start(em, 1) && conf_emit_end(em, 1));
	conf_capture_reset();
	e = cyaml_save_data((char **)&yaml, &len, &conf_cyaml, schema, conf, 0);
	if (e != CYAML_OK)
		return (0);
	if (!yaml_parser_initialize(&parser)) {
		conf_cyaml.mem_fn(conf_cyaml.mem_ctx, yaml, 0);
		return (0);
	}
	yaml_parser_set_input_string(&parser, yaml, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ok = 0;
			break;
		}
		top = depth > 0 ? &st[depth - 1] : NULL;
		is_key = top != NULL && top->is_map && top->expect_key;
		secret = !is_key && top != NULL && (top->secret ||
		    (top->is_map && top->next_secret));
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			continue;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			done = 1;
			continue;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			if (is_key) {
				top->next_secret = ev.type == YAML_SCALAR_EVENT &&
				    conf_secret_key((const char *)
				    ev.data.scalar.value);
				top->expect_key = 0;
			} else if (top != NULL && top->is_map)
				top->expect_key = 1;
			if (secret) {
				yaml_event_delete(&ev);
				ok = conf_emit_scalar(em, CONF_REDACTED);
				continue;
			}
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == CONF_MAX_DEPTH) {
				yaml_event_delete(&ev);
				ok = 0;
				continue;
			}
			if (is_key) {
				top->next_secret = 0;
				top->expect_key = 0;
			}
			st[depth].is_map = ev.type == YAML_MAPPING_START_EVENT;
			st[depth].expect_key = st[depth].is_map;
			st[depth].secret = secret;
			st[depth].next_secret = 0;
			depth++;
			if (ev.type == YAML_MAPPING_START_EVENT)
				ev.data.mapping_start.style =
				    YAML_BLOCK_MAPPING_STYLE;
			else
				ev.data.sequence_start.style =
				    YAML_BLOCK_SEQUENCE_STYLE;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0)
				depth--;
			if (depth > 0 && st[depth - 1].is_map)
				st[depth - 1].expect_key = 1;
			break;
		default:
			break;
		}
		ok = yaml_emitter_emit(em, &ev);
	}
	yaml_parser_delete(&parser);
	conf_cyaml.mem_fn(conf_cyaml.mem_ctx, yaml, 0);
	return (ok);
}

/* Print the effective configuration as one YAML document. */
int
hypd_config_print(FILE *fp, const struct hypd_core_conf *core,
    const char *const *names, const cyaml_schema_value_t *const *schemas,
    void *const *confs, size_t n)
{
	yaml_emitter_t	em;
	yaml_event_t	ev;
	size_t		i;
	int		ok;

	if (!yaml_emitter_initialize(&em))
		return (HYP_ENOMEM);
	yaml_emitter_set_output_file(&em, fp);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    conf_emit_start(&em, 1);
	if (ok && core != NULL)
		ok = conf_emit_core(&em, core);
	ok = ok && conf_emit_scalar(&em, "plugins") && conf_emit_start(&em, 1);
	for (i = 0; ok && i < n; i++) {
		ok = conf_emit_scalar(&em, names[i]) &&
		    conf_emit_plugin(&em, schemas[i], confs[i]);
	}
	ok = ok && conf_emit_end(&em, 1) && conf_emit_end(&em, 1) &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	if (!ok)
		return (HYP_EINVAL);
	return (fflush(fp) == 0 ? 0 : -errno);
}
