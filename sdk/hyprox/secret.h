/*
 * Secrets and paths (libhyprox): resolving "env:NAME" and "file:PATH"
 * references and config-relative paths.  Usable by plugins and tools.
 */
#ifndef HYPROX_SECRET_H
#define HYPROX_SECRET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest secret accepted, in bytes. */
#define HYP_SECRET_MAX	65536

/**
 * Read a secret from a reference: "env:NAME" (the environment variable's
 * value) or "file:PATH" (the file's contents, one trailing newline
 * stripped; a relative PATH is taken relative to basedir).  Anything else
 * is refused: secrets are never inline.
 * @param warn  set to 1 when the file is group- or world-readable (the
 *              caller logs it); may be NULL.
 * @param err   receives one sentence on failure (may be NULL).
 * @return 0 with *out malloc'd (free with hyp_secret_free()) and *len set;
 * HYP_ESECRET (bad form, unset variable, empty), HYP_ENOENT, HYP_EACCES,
 * HYP_ETOOBIG.
 */
int	hyp_secret_read(const char *ref, const char *basedir, uint8_t **out,
	    size_t *len, int *warn, char *err, size_t errlen);

/** Wipe and free a secret from hyp_secret_read(); NULL is ignored. */
void	hyp_secret_free(uint8_t *secret, size_t len);

/** Whether s looks like a secret reference ("env:" or "file:" prefix). */
int	hyp_secret_is_ref(const char *s);

/**
 * Resolve path against basedir unless absolute.  Returns a malloc'd string
 * (free with free()), or NULL when out of memory.
 */
char	*hyp_path_resolve(const char *basedir, const char *path);

/**
 * Whether a key/cert/secret file is group- or world-readable: 1 yes, 0 no,
 * negative code when it cannot be stat'ed.
 */
int	hyp_path_too_open(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_SECRET_H */
