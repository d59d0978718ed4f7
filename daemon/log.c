/*
 * Logging: one event is one line, written to stderr (the default), a file
 * (reopened on SIGUSR1 for logrotate) or syslog, as text or JSON lines.
 *
 *   text: 2026-11-22T05:54:45.123Z info  [plugin] [sess=0123456789abcdef] msg
 *   json: {"ts":"…","level":"info","plugin":"core","session":"…","msg":"…"}
 *
 * Syslog lines carry no timestamp (syslog adds its own).  Each line is
 * formatted into fixed stack buffers of LOG_LINE_MAX bytes; longer lines
 * are cut and end with "…".  Nothing is allocated per line.
 *
 * Escaping, so that a message can never forge a line or a field:
 * - text: "\n", "\r", "\t" become \n, \r, \t; other C0 controls and DEL
 *   become \xHH; a byte that is not part of valid UTF-8 becomes \xHH (the
 *   byte stays visible); backslashes and quotes are left as they are.
 * - json: '"' and '\\' are escaped, "\n", "\r", "\t", "\b", "\f" as usual,
 *   other C0 controls and DEL as \u00XX; a byte that is not part of valid
 *   UTF-8 becomes \ufffd (the output stays valid UTF-8 JSON).
 * - both: C1 controls (U+0080..U+009F) and U+2028/U+2029 are written as
 *   \u escapes, since terminals and JavaScript treat them as controls or
 *   line breaks.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <hyprox/hyprox.h>

#include "hyproxd.h"

/* Longest line written, newline included. */
#define LOG_LINE_MAX	4096
/* Longest message before escaping. */
#define LOG_MSG_MAX	4096
/* The truncation marker, U+2026. */
#define LOG_ELLIPSIS	"\xe2\x80\xa6"
/* Bytes kept back for the marker, the closing "\"}", the newline and NUL. */
#define LOG_TAIL	(sizeof(LOG_ELLIPSIS) - 1 + 2 + 1 + 1)

/* A bounded line being built; full is set once something did not fit. */
struct log_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 full;
};

/* The sink; the initial values are the defaults (stderr, text, info). */
static struct {
	int	 level;
	int	 format;
	int	 output;
	int	 fd;		/* stderr or the log file; unused for syslog */
	char	*path;		/* the log file, for reopening */
	char	*ident;		/* syslog keeps this pointer while open */
} log_sink = {
	HYP_LOG_INFO, HYPD_LOG_TEXT, HYPD_LOG_STDERR, STDERR_FILENO, NULL, NULL
};

static void	log_seterr(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	log_teardown(void);
static int	log_open_file(const char *);
static int	log_clamp(int);
static const char *log_level_name(int);
static int	log_syslog_prio(int);
static int	log_add(struct log_buf *, const void *, size_t);
static int	log_utf8(const unsigned char *, size_t, unsigned *);
static void	log_escape(struct log_buf *, const char *, size_t, int);
static void	log_timestamp(char *, size_t);
static void	log_write(const char *, size_t);

/* Store a malloc'd message in *err when err is not NULL. */
static void
log_seterr(char **err, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[512];

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	*err = strdup(tmp);
}

/* Close the current sink and go back to the defaults. */
static void
log_teardown(void)
{
	if (log_sink.output == HYPD_LOG_SYSLOG)
		closelog();
	if (log_sink.output == HYPD_LOG_FILE && log_sink.fd > STDERR_FILENO)
		close(log_sink.fd);
	free(log_sink.path);
	free(log_sink.ident);
	log_sink.level = HYP_LOG_INFO;
	log_sink.format = HYPD_LOG_TEXT;
	log_sink.output = HYPD_LOG_STDERR;
	log_sink.fd = STDERR_FILENO;
	log_sink.path = NULL;
	log_sink.ident = NULL;
}

/* Open the log file for appending; -1 with errno set on failure. */
static int
log_open_file(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640));
}

/* Bring a level into the HYP_LOG_ERR..HYP_LOG_DEBUG range. */
static int
log_clamp(int level)
{
	if (level < HYP_LOG_ERR)
		return (HYP_LOG_ERR);
	if (level > HYP_LOG_DEBUG)
		return (HYP_LOG_DEBUG);
	return (level);
}

/* The name of a (clamped) level, as hypd_log_level_parse() accepts it. */
static const char *
log_level_name(int level)
{
	switch (level) {
	case HYP_LOG_ERR:
		return ("err");
	case HYP_LOG_WARNING:
		return ("warning");
	case HYP_LOG_NOTICE:
		return ("notice");
	case HYP_LOG_INFO:
		return ("info");
	default:
		return ("debug");
	}
}

/* Map a (clamped) level to a syslog priority. */
static int
log_syslog_prio(int level)
{
	switch (level) {
	case HYP_LOG_ERR:
		return (LOG_ERR);
	case HYP_LOG_WARNING:
		return (LOG_WARNING);
	case HYP_LOG_NOTICE:
		return (LOG_NOTICE);
	case HYP_LOG_INFO:
		return (LOG_INFO);
	default:
		return (LOG_DEBUG);
	}
}

/* Append n bytes whole, or nothing and mark the line full. */
static int
log_add(struct log_buf *b, const void *data, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = 1;
		return (-1);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return (0);
}

/*
 * Decode one UTF-8 sequence starting at a byte >= 0x80: its length (2-4),
 * or 0 when invalid (overlong, surrogate, above U+10FFFF, bad or missing
 * continuation byte).
 */
static int
log_utf8(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	int		k, i;

	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	for (i = 1; i < k; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return (k);
}

/*
 * Append s (n bytes) escaped for text or JSON, one whole character or
 * escape at a time, until the first one that does not fit.
 */
static void
log_escape(struct log_buf *b, const char *s, size_t n, int json)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[8];
	const char		*rep;
	unsigned		 cp;
	size_t			 i = 0;
	int			 k;

	while (i < n && !b->full) {
		rep = NULL;
		if (u[i] < 0x80) {
			switch (u[i]) {
			case '\n':
				rep = "\\n";
				break;
			case '\r':
				rep = "\\r";
				break;
			case '\t':
				rep = "\\t";
				break;
			case '"':
				rep = json ? "\\\"" : NULL;
				break;
			case '\\':
				rep = json ? "\\\\" : NULL;
				break;
			case '\b':
				rep = json ? "\\b" : NULL;
				break;
			case '\f':
				rep = json ? "\\f" : NULL;
				break;
			}
			if (rep == NULL && (u[i] < 0x20 || u[i] == 0x7f)) {
				snprintf(esc, sizeof esc, json ? "\\u%04x" :
				    "\\x%02x", u[i]);
				rep = esc;
			}
			if (rep != NULL)
				log_add(b, rep, strlen(rep));
			else
				log_add(b, &u[i], 1);
			i++;
			continue;
		}
		if ((k = log_utf8(u + i, n - i, &cp)) == 0) {
			if (json)
				log_add(b, "\\ufffd", 6);
			else {
				snprintf(esc, sizeof esc, "\\x%02x", u[i]);
				log_add(b, esc, 4);
			}
			i++;
			continue;
		}
		if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
			snprintf(esc, sizeof esc, "\\u%04x", cp);
			log_add(b, esc, 6);
		} else
			log_add(b, u + i, (size_t)k);
		i += (size_t)k;
	}
}

/* Format the current UTC time as 2026-11-22T05:54:45.123Z. */
static void
log_timestamp(char *out, size_t outlen)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, outlen, "?");
		return;
	}
	snprintf(out + n, outlen - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* Write one finished line to the fd sink; errors are dropped. */
static void
log_write(const char *line, size_t len)
{
	ssize_t	r;

	while (len > 0) {
		r = write(log_sink.fd, line, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		line += r;
		len -= (size_t)r;
	}
}

/* Log one line about a session (s may be NULL) from a va_list. */
void
hyp_vlog(hyp_plugin_t *p, const hyp_session_t *s, int level, const char *fmt,
    va_list ap)
{
	char		 msg[LOG_MSG_MAX], line[LOG_LINE_MAX], ts[40];
	struct log_buf	 b = { line, 0, sizeof line - LOG_TAIL, 0 };
	const char	*name, *sid = NULL;
	int		 saved = errno, json, sys, n, cut;
	size_t		 msglen;

	level = log_clamp(level);
	if (level > log_sink.level || fmt == NULL)
		return;
	json = log_sink.format == HYPD_LOG_JSON;
	sys = log_sink.output == HYPD_LOG_SYSLOG;

	/* errno is still the caller's here, so %m works. */
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		n = 0;
	cut = (size_t)n >= sizeof msg;
	msglen = cut ? sizeof msg - 1 : (size_t)n;

	name = p == NULL ? "core" : (p->name != NULL ? p->name : "?");
	if (s != NULL && (sid = hyp_session_id_str(s)) == NULL)
		sid = "?";
	if (!sys)
		log_timestamp(ts, sizeof ts);

	if (json) {
		log_add(&b, "{", 1);
		if (!sys) {
			log_add(&b, "\"ts\":\"", 6);
			log_add(&b, ts, strlen(ts));
			log_add(&b, "\",", 2);
		}
		log_add(&b, "\"level\":\"", 9);
		log_add(&b, log_level_name(level),
		    strlen(log_level_name(level)));
		log_add(&b, "\",\"plugin\":\"", 12);
		log_escape(&b, name, strlen(name), 1);
		if (sid != NULL) {
			log_add(&b, "\",\"session\":\"", 13);
			log_escape(&b, sid, strlen(sid), 1);
		}
		log_add(&b, "\",\"msg\":\"", 9);
	} else {
		if (!sys) {
			log_add(&b, ts, strlen(ts));
			log_add(&b, " ", 1);
		}
		/* Pad to 5: "info  [", "debug [", "err   [". */
		n = snprintf(ts, sizeof ts, "%-5s [", log_level_name(level));
		log_add(&b, ts, (size_t)n);
		log_escape(&b, name, strlen(name), 0);
		log_add(&b, "] ", 2);
		if (sid != NULL) {
			log_add(&b, "[sess=", 6);
			log_escape(&b, sid, strlen(sid), 0);
			log_add(&b, "] ", 2);
		}
	}
	/*
	 * A message longer than msg cannot fit the line once its prefix is
	 * there, so the line is cut (and marked) before the message is.
	 */
	log_escape(&b, msg, msglen, json);

	/* The tail always fits: LOG_TAIL bytes were kept back for it. */
	if (b.full || cut) {
		memcpy(line + b.len, LOG_ELLIPSIS, sizeof(LOG_ELLIPSIS) - 1);
		b.len += sizeof(LOG_ELLIPSIS) - 1;
	}
	if (json) {
		memcpy(line + b.len, "\"}", 2);
		b.len += 2;
	}
	if (sys) {
		line[b.len] = '\0';
		syslog(log_syslog_prio(level), "%s", line);
	} else {
		line[b.len++] = '\n';
		log_write(line, b.len);
	}
	errno = saved;
}

/* Log one line. */
void
hyp_log(hyp_plugin_t *p, int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	hyp_vlog(p, NULL, level, fmt, ap);
	va_end(ap);
}

/* Log one line about a session. */
void
hyp_log_session(hyp_plugin_t *p, const hyp_session_t *s, int level,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	hyp_vlog(p, s, level, fmt, ap);
	va_end(ap);
}

/* Whether a line at level would be written. */
int
hyp_log_enabled(int level)
{
	return (log_clamp(level) <= log_sink.level);
}

/*
 * Configure the sink from the core conf (NULL: stderr, text, info).  All
 * or nothing: on failure the previous sink stays in place.
 */
int
hypd_log_configure(const struct hypd_core_conf *c, char **err)
{
	char	*path = NULL, *ident = NULL;
	int	 fd = -1, facility, saved;

	if (err != NULL)
		*err = NULL;
	if (c == NULL) {
		log_teardown();
		return (0);
	}
	if (c->log.level < HYP_LOG_ERR || c->log.level > HYP_LOG_DEBUG) {
		log_seterr(err, "log level %d is out of range", c->log.level);
		return (HYP_EINVAL);
	}
	if (c->log.format != HYPD_LOG_TEXT && c->log.format != HYPD_LOG_JSON) {
		log_seterr(err, "unknown log format %d", c->log.format);
		return (HYP_EINVAL);
	}
	/* 0 (LOG_KERN, unusable from user space) means unset: LOG_DAEMON. */
	facility = c->log.facility == 0 ? LOG_DAEMON : c->log.facility;

	switch (c->log.output) {
	case HYPD_LOG_STDERR:
		break;
	case HYPD_LOG_FILE:
		if (c->log.file == NULL || *c->log.file == '\0') {
			log_seterr(err, "log output is file but no log file "
			    "is set");
			return (HYP_EINVAL);
		}
		if ((path = strdup(c->log.file)) == NULL) {
			log_seterr(err, "out of memory");
			return (HYP_ENOMEM);
		}
		if ((fd = log_open_file(path)) == -1) {
			saved = errno;
			log_seterr(err, "cannot open log file %s: %s", path,
			    strerror(saved));
			free(path);
			return (-saved);
		}
		break;
	case HYPD_LOG_SYSLOG:
		if ((facility & ~LOG_FACMASK) != 0 ||
		    LOG_FAC(facility) >= LOG_NFACILITIES) {
			log_seterr(err, "invalid syslog facility %d",
			    c->log.facility);
			return (HYP_EINVAL);
		}
		ident = strdup(c->log.ident != NULL && *c->log.ident != '\0' ?
		    c->log.ident : "hyproxd");
		if (ident == NULL) {
			log_seterr(err, "out of memory");
			return (HYP_ENOMEM);
		}
		break;
	default:
		log_seterr(err, "unknown log output %d", c->log.output);
		return (HYP_EINVAL);
	}

	log_teardown();
	log_sink.level = c->log.level;
	log_sink.format = c->log.format;
	log_sink.output = c->log.output;
	if (fd != -1)
		log_sink.fd = fd;
	log_sink.path = path;
	log_sink.ident = ident;
	if (ident != NULL)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	return (0);
}

/* Reopen the log file (logrotate); on failure keep writing to the old one. */
void
hypd_log_reopen(void)
{
	int	fd, old, saved;

	if (log_sink.output != HYPD_LOG_FILE || log_sink.path == NULL)
		return;
	if ((fd = log_open_file(log_sink.path)) == -1) {
		saved = errno;
		hyp_log(NULL, HYP_LOG_ERR, "cannot reopen log file %s: %s; "
		    "still writing to the old one", log_sink.path,
		    strerror(saved));
		return;
	}
	old = log_sink.fd;
	log_sink.fd = fd;
	if (old > STDERR_FILENO)
		close(old);
	hyp_log(NULL, HYP_LOG_DEBUG, "reopened log file %s", log_sink.path);
}

/* Set the level only; out-of-range values are clamped. */
void
hypd_log_set_level(int level)
{
	log_sink.level = log_clamp(level);
}

/* Close the sink; later lines go to stderr as text at info. */
void
hypd_log_close(void)
{
	log_teardown();
}

/* Parse a level name; -1 when unknown. */
int
hypd_log_level_parse(const char *s)
{
	static const struct {
		const char	*name;
		int		 level;
	} levels[] = {
		{ "err", HYP_LOG_ERR },
		{ "warning", HYP_LOG_WARNING },
		{ "notice", HYP_LOG_NOTICE },
		{ "info", HYP_LOG_INFO },
		{ "debug", HYP_LOG_DEBUG },
	};
	size_t	i;

	if (s == NULL)
		return (-1);
	for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcmp(s, levels[i].name) == 0)
			return (levels[i].level);
	}
	return (-1);
}
