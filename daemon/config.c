/*
 * Configuration: the core file hyproxd.yaml, the conf.d directory and the
 * plugins' files, loaded with libcyaml.  Every error names the file, the
 * line and column and the dotted key path, on one line; confdoc.c builds
 * those messages from a libyaml pass over the same bytes and libcyaml's
 * captured log.  The core file's scalars are loaded as text and checked
 * and converted here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* asprintf, reallocarray */
#endif
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "hyproxd.h"
#include "confint.h"

#ifndef HYP_PLUGINDIR
#define HYP_PLUGINDIR	"/usr/local/lib/hyprox/plugins"
#endif

#define CONF_MAX_BYTES		(1024 * 1024)	/* any one file */
#define CONF_MAX_FILES		256		/* conf.d entries */
#define CONF_MAX_OPTIONAL	64		/* optional_plugins */
#define CONF_DRAIN_MAX_MS	3600000U
#define CONF_SESSIONS_MIN	1U
#define CONF_SESSIONS_MAX	10000000U
#define CONF_SESSIONS_DEF	100000U
#define CONF_NAME_MAX		32

/* ---- small helpers ---- */

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
int
hypd_conf_read_file(const char *file, char **text, size_t *textlen, char **err)
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
		hypd_conf_seterr(err, hypd_conf_errf("%s: cannot open: %s", file,
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
		hypd_conf_seterr(err, hypd_conf_errf("%s: cannot open: %s", file,
		    e > 0 ? strerror(e) : "not a regular file"));
		return (e > 0 ? -e : HYP_EINVAL);
	}
	if (st.st_size > CONF_MAX_BYTES) {
		close(fd);
		hypd_conf_seterr(err, hypd_conf_errf("%s: too large (%lld bytes, at most "
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
		hypd_conf_seterr(err, hypd_conf_errf("%s: cannot read: %s", file,
		    strerror(e)));
		return (-e);
	}
	if (len > CONF_MAX_BYTES) {
		free(buf);
		hypd_conf_seterr(err, hypd_conf_errf("%s: too large (more than %d bytes)",
		    file, CONF_MAX_BYTES));
		return (HYP_ETOOBIG);
	}
	buf[len] = '\0';
	*text = buf;
	*textlen = len;
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

const struct conf_word hypd_conf_levels[] = {
	{ "err", HYP_LOG_ERR },
	{ "warning", HYP_LOG_WARNING },
	{ "notice", HYP_LOG_NOTICE },
	{ "info", HYP_LOG_INFO },
	{ "debug", HYP_LOG_DEBUG },
	{ NULL, 0 }
};

const struct conf_word hypd_conf_formats[] = {
	{ "text", HYPD_LOG_TEXT },
	{ "json", HYPD_LOG_JSON },
	{ NULL, 0 }
};

const struct conf_word hypd_conf_outputs[] = {
	{ "stderr", HYPD_LOG_STDERR },
	{ "file", HYPD_LOG_FILE },
	{ "syslog", HYPD_LOG_SYSLOG },
	{ NULL, 0 }
};

const struct conf_word hypd_conf_facilities[] = {
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
	hypd_conf_seterr(err, hypd_conf_err_at(file, d, path, "%s: unknown value '%s' "
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
		hypd_conf_seterr(err, hypd_conf_err_at(file, d, key, "%s: must not be "
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
			hypd_conf_seterr(err, hypd_conf_errf("conf_dir override must "
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
		    hypd_conf_levels, l->level, &c->log.level, err)) != 0)
			return (rc);
		if (l->format != NULL && (rc = conf_word(file, d, "log.format",
		    hypd_conf_formats, l->format, &c->log.format, err)) != 0)
			return (rc);
		if (l->output != NULL && (rc = conf_word(file, d, "log.output",
		    hypd_conf_outputs, l->output, &c->log.output, err)) != 0)
			return (rc);
		if (l->facility != NULL && (rc = conf_word(file, d,
		    "log.facility", hypd_conf_facilities, l->facility,
		    &c->log.facility, err)) != 0)
			return (rc);
		if ((rc = conf_path(file, d, "log.file", c->dir, l->file,
		    &c->log.file, err)) != 0)
			return (rc);
		if (l->ident != NULL) {
			if (l->ident[0] == '\0' || strlen(l->ident) > 64) {
				hypd_conf_seterr(err, hypd_conf_err_at(file, d,
				    "log.ident", "log.ident: must be 1 to 64 "
				    "characters"));
				return (HYP_ECONFIG);
			}
			if ((c->log.ident = strdup(l->ident)) == NULL)
				return (HYP_ENOMEM);
		}
	}
	if (c->log.output == HYPD_LOG_FILE && c->log.file == NULL) {
		hypd_conf_seterr(err, hypd_conf_err_at(file, d, "log.output", "log.file: "
		    "required when log.output is file"));
		return (HYP_ECONFIG);
	}
	if (c->log.ident == NULL && (c->log.ident = strdup("hyproxd")) == NULL)
		return (HYP_ENOMEM);

	if ((s = r->drain_timeout) != NULL) {
		rc = hyp_duration_parse(s, CONF_DRAIN_MAX_MS,
		    &c->drain_timeout_ms);
		if (rc == HYP_ERANGE) {
			hypd_conf_seterr(err, hypd_conf_err_at(file, d, "drain_timeout",
			    "drain_timeout: value '%s' out of range (0s..3600s)", s));
			return (HYP_ECONFIG);
		}
		if (rc != 0) {
			hypd_conf_seterr(err, hypd_conf_err_at(file, d, "drain_timeout",
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
			hypd_conf_seterr(err, hypd_conf_err_at(file, d, key, "%s: invalid "
			    "plugin name '%s'", key, s));
			return (HYP_ECONFIG);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(s, c->optional[j]) == 0) {
				hypd_conf_seterr(err, hypd_conf_err_at(file, d, key,
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
			hypd_conf_seterr(err, hypd_conf_err_at(file, d, "max_sessions",
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
	if ((rc = hypd_conf_read_file(path, &text, &len, err)) != 0) {
		hypd_core_conf_free(c);
		return (rc);
	}
	rc = hypd_conf_load_text(path, text, len, &conf_raw_schema, (void **)&raw,
	    &d, err);
	free(text);
	if (rc != 0) {
		hypd_core_conf_free(c);
		return (rc);
	}
	rc = conf_core_convert(path, &d, raw, c, conf_dir_override, err);
	cyaml_free(hypd_cyaml_config(), &conf_raw_schema, raw, 0);
	hypd_conf_doc_clear(&d);
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
		hypd_conf_seterr(err, hypd_conf_errf("%s: cannot open: %s", dir,
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
			hypd_conf_seterr(err, hypd_conf_errf("%s: too many files (at most "
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
		if ((rc = hypd_conf_read_file(ne->file, &ne->text, &ne->textlen,
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
			hypd_conf_seterr(err, hypd_conf_errf("%s and %s both configure "
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
	if ((rc = hypd_conf_read_file(file, &text, &len, err)) != 0)
		return (rc);
	if (schema == NULL) {
		rc = hypd_conf_doc_parse(&d, file, text, len, err);
		free(text);
		if (rc != 0)
			return (rc);
		if (d.root != CONF_ROOT_NONE && d.root != CONF_ROOT_NULL &&
		    d.root != CONF_ROOT_EMPTY) {
			hypd_conf_seterr(err, hypd_conf_err_at(file, &d, "",
			    "plugin takes no configuration"));
			rc = HYP_ECONFIG;
		}
		hypd_conf_doc_clear(&d);
		return (rc);
	}
	rc = hypd_conf_load_text(file, text, len, schema, out, &d, err);
	free(text);
	if (rc == 0)
		hypd_conf_doc_clear(&d);
	return (rc);
}

/* Free a plugin configuration loaded with schema. */
void
hypd_plugin_conf_free(const cyaml_schema_value_t *schema, void *conf)
{
	if (schema == NULL || conf == NULL)
		return;
	cyaml_free(hypd_cyaml_config(), schema, conf, 0);
}
