/*
 * Configuration internals shared by config.c (loading), confdoc.c (key
 * positions and error messages) and confprint.c (printing).  Private to
 * the daemon; not installed.
 */
#ifndef HYPD_CONFINT_H
#define HYPD_CONFINT_H

#include <stddef.h>

#include <cyaml/cyaml.h>

#define CONF_MAX_DEPTH		64		/* nesting */

/* What a file's top level turned out to be. */
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

/* A name and its value, for the enumerated settings. */
struct conf_word {
	const char	*name;
	int		 value;
};

/* The enumerated settings of the core file (config.c). */
extern const struct conf_word hypd_conf_levels[];
extern const struct conf_word hypd_conf_formats[];
extern const struct conf_word hypd_conf_outputs[];
extern const struct conf_word hypd_conf_facilities[];

/* config.c */
int	 hypd_conf_read_file(const char *file, char **text, size_t *textlen,
	    char **err);

/* confdoc.c */
char	*hypd_conf_errf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 hypd_conf_seterr(char **err, char *msg);
void	 hypd_conf_capture_reset(void);
void	 hypd_conf_doc_clear(struct conf_doc *d);
int	 hypd_conf_doc_parse(struct conf_doc *d, const char *file,
	    const char *text, size_t len, char **err);
char	*hypd_conf_err_at(const char *file, const struct conf_doc *d,
	    const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int	 hypd_conf_load_text(const char *file, const char *text, size_t len,
	    const cyaml_schema_value_t *schema, void **out, struct conf_doc *d,
	    char **err);

#endif /* HYPD_CONFINT_H */
