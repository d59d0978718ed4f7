/*
 * Secrets and paths: "env:NAME" and "file:PATH" references, resolved
 * against the configuration file's directory.
 *
 * Error messages name the variable or the file, never the value.  A
 * secret is returned in a malloc'd buffer of len + 1 bytes whose last byte
 * is NUL (so text secrets can be used as C strings); every copy made here
 * is wiped before it is freed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <hyprox/error.h>
#include <hyprox/secret.h>

#include "lib.h"

#define SECRET_ENV	"env:"
#define SECRET_FILE	"file:"

static void	secret_init(void);
static void	secret_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	secret_env_name_ok(const char *);
static int	secret_copy(const void *, size_t, uint8_t **, size_t *);
static int	secret_read_env(const char *, uint8_t **, size_t *, char *,
		    size_t);
static int	secret_read_file(const char *, const char *, uint8_t **,
		    size_t *, int *, char *, size_t);

/* Whether sodium_init() has run; a racing second call is harmless. */
static volatile int	secret_sodium_ready;

/* Initialise libsodium once, on first use. */
static void
secret_init(void)
{
	if (secret_sodium_ready)
		return;
	if (sodium_init() >= 0)
		secret_sodium_ready = 1;
}

/* Write one sentence into the caller's error buffer, if any. */
static void
secret_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Whether name is a portable environment variable name. */
static int
secret_env_name_ok(const char *name)
{
	const char	*c;

	if (*name == '\0' || (*name >= '0' && *name <= '9'))
		return (0);
	for (c = name; *c != '\0'; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '_')
			continue;
		return (0);
	}
	return (1);
}

/* Copy len bytes into a new NUL-terminated buffer. */
static int
secret_copy(const void *src, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t	*p;

	if ((p = malloc(len + 1)) == NULL)
		return (HYP_ENOMEM);
	memcpy(p, src, len);
	p[len] = '\0';
	*out = p;
	*outlen = len;
	return (0);
}

/* Read the secret held by environment variable name. */
static int
secret_read_env(const char *name, uint8_t **out, size_t *len, char *err,
    size_t errlen)
{
	const char	*v;
	size_t		 n;

	/* An invalid name may be a mistyped inline value: do not echo it. */
	if (!secret_env_name_ok(name)) {
		secret_err(err, errlen, "invalid variable name in env: secret "
		    "reference (must match [A-Za-z_][A-Za-z0-9_]*)");
		return (HYP_ESECRET);
	}
	if ((v = getenv(name)) == NULL) {
		secret_err(err, errlen, "secret variable %s is not set", name);
		return (HYP_ESECRET);
	}
	if ((n = strlen(v)) == 0) {
		secret_err(err, errlen, "secret variable %s is empty", name);
		return (HYP_ESECRET);
	}
	if (n > HYP_SECRET_MAX) {
		secret_err(err, errlen, "secret variable %s is longer than %d "
		    "bytes", name, HYP_SECRET_MAX);
		return (HYP_ETOOBIG);
	}
	if (secret_copy(v, n, out, len) != 0) {
		secret_err(err, errlen, "out of memory reading secret variable "
		    "%s", name);
		return (HYP_ENOMEM);
	}
	return (0);
}

/*
 * Read the secret held in file path (relative to basedir): a regular
 * file of at most HYP_SECRET_MAX bytes once one trailing newline is gone.
 */
static int
secret_read_file(const char *path, const char *basedir, uint8_t **out,
    size_t *len, int *warn, char *err, size_t errlen)
{
	/* Room for the largest secret, "\r\n" and one byte to detect more. */
	const size_t	 cap = HYP_SECRET_MAX + 3;
	struct stat	 st;
	uint8_t		*buf = NULL;
	char		*full;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, rc, saved;

	if (*path == '\0') {
		secret_err(err, errlen, "empty path in file: secret reference");
		return (HYP_ESECRET);
	}
	if ((full = hyp_path_resolve(basedir, path)) == NULL) {
		secret_err(err, errlen, "out of memory resolving secret file "
		    "%s", path);
		return (HYP_ENOMEM);
	}

	/* O_NONBLOCK: a FIFO must not stall the caller before fstat(). */
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		saved = errno;
		secret_err(err, errlen, "cannot open secret file %s: %s", full,
		    strerror(saved));
		if (saved == ENOENT || saved == ENOTDIR)
			rc = HYP_ENOENT;
		else if (saved == EACCES || saved == EPERM)
			rc = HYP_EACCES;
		else
			rc = HYP_ESECRET;
		free(full);
		return (rc);
	}
	if (fstat(fd, &st) == -1) {
		secret_err(err, errlen, "cannot stat secret file %s: %s", full,
		    strerror(errno));
		rc = HYP_ESECRET;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		secret_err(err, errlen, "secret file %s is not a regular file",
		    full);
		rc = HYP_ESECRET;
		goto out;
	}
	if (st.st_size > (off_t)cap) {
		secret_err(err, errlen, "secret file %s is larger than %d bytes",
		    full, HYP_SECRET_MAX);
		rc = HYP_ETOOBIG;
		goto out;
	}
	if ((buf = malloc(cap)) == NULL) {
		secret_err(err, errlen, "out of memory reading secret file %s",
		    full);
		rc = HYP_ENOMEM;
		goto out;
	}
	/* The size may change under us: read until EOF or the cap. */
	while (n < cap) {
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			secret_err(err, errlen, "cannot read secret file %s: %s",
			    full, strerror(saved));
			rc = saved == EACCES ? HYP_EACCES : HYP_ESECRET;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == cap) {
		secret_err(err, errlen, "secret file %s is larger than %d bytes",
		    full, HYP_SECRET_MAX);
		rc = HYP_ETOOBIG;
		goto out;
	}

	/* Strip exactly one trailing "\n" or "\r\n". */
	if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n')
		n -= 2;
	else if (n >= 1 && buf[n - 1] == '\n')
		n -= 1;
	if (n == 0) {
		secret_err(err, errlen, "secret file %s is empty", full);
		rc = HYP_ESECRET;
		goto out;
	}
	if (n > HYP_SECRET_MAX) {
		secret_err(err, errlen, "secret file %s is larger than %d bytes",
		    full, HYP_SECRET_MAX);
		rc = HYP_ETOOBIG;
		goto out;
	}
	if (secret_copy(buf, n, out, len) != 0) {
		secret_err(err, errlen, "out of memory reading secret file %s",
		    full);
		rc = HYP_ENOMEM;
		goto out;
	}
	if (warn != NULL)
		*warn = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	rc = 0;
out:
	if (buf != NULL) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	close(fd);
	free(full);
	return (rc);
}

/* Read a secret from an env: or file: reference. */
HYP_API int
hyp_secret_read(const char *ref, const char *basedir, uint8_t **out,
    size_t *len, int *warn, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (warn != NULL)
		*warn = 0;
	if (out == NULL || len == NULL) {
		secret_err(err, errlen, "no place to store the secret");
		return (HYP_EINVAL);
	}
	*out = NULL;
	*len = 0;
	secret_init();

	if (ref == NULL || *ref == '\0') {
		secret_err(err, errlen, "empty secret reference");
		return (HYP_ESECRET);
	}
	if (strncmp(ref, SECRET_ENV, strlen(SECRET_ENV)) == 0)
		return (secret_read_env(ref + strlen(SECRET_ENV), out, len, err,
		    errlen));
	if (strncmp(ref, SECRET_FILE, strlen(SECRET_FILE)) == 0)
		return (secret_read_file(ref + strlen(SECRET_FILE), basedir, out,
		    len, warn, err, errlen));
	/* An inline value: never repeat it. */
	secret_err(err, errlen,
	    "secrets must be env:NAME or file:PATH references");
	return (HYP_ESECRET);
}

/* Wipe and free a secret; NULL is ignored. */
HYP_API void
hyp_secret_free(uint8_t *secret, size_t len)
{
	if (secret == NULL)
		return;
	secret_init();
	sodium_memzero(secret, len);
	free(secret);
}

/* Whether s starts with "env:" or "file:". */
HYP_API int
hyp_secret_is_ref(const char *s)
{
	if (s == NULL)
		return (0);
	return (strncmp(s, SECRET_ENV, strlen(SECRET_ENV)) == 0 ||
	    strncmp(s, SECRET_FILE, strlen(SECRET_FILE)) == 0);
}

/* Join basedir and path unless path is absolute or basedir is unset. */
HYP_API char *
hyp_path_resolve(const char *basedir, const char *path)
{
	char	*full;
	size_t	 blen, plen;

	if (path == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (path[0] == '/' || path[0] == '\0' || basedir == NULL ||
	    basedir[0] == '\0')
		return (strdup(path));

	blen = strlen(basedir);
	while (blen > 1 && basedir[blen - 1] == '/')
		blen--;
	plen = strlen(path);
	if ((full = malloc(blen + 1 + plen + 1)) == NULL)
		return (NULL);
	memcpy(full, basedir, blen);
	if (basedir[blen - 1] != '/')
		full[blen++] = '/';
	memcpy(full + blen, path, plen + 1);
	return (full);
}

/* Whether path is group- or world-readable; negative when stat fails. */
HYP_API int
hyp_path_too_open(const char *path)
{
	struct stat	st;

	if (path == NULL)
		return (HYP_EINVAL);
	if (stat(path, &st) == -1)
		return (-errno);
	return ((st.st_mode & (S_IRGRP | S_IROTH)) != 0);
}
