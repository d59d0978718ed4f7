/*
 * Printing the effective configuration: the core settings and every
 * plugin's configuration as one YAML document, with the values of
 * secret-looking keys redacted.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "hyproxd.h"
#include "confint.h"

#define CONF_REDACTED		"<redacted>"

/* ---- printing the effective configuration ---- */

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
	    !conf_emit_kv(em, "level", conf_word_name(hypd_conf_levels,
	    c->log.level)) ||
	    !conf_emit_kv(em, "format", conf_word_name(hypd_conf_formats,
	    c->log.format)) ||
	    !conf_emit_kv(em, "output", conf_word_name(hypd_conf_outputs,
	    c->log.output)) ||
	    !conf_emit_kv(em, "file", c->log.file) ||
	    !conf_emit_kv(em, "ident", c->log.ident) ||
	    !conf_emit_kv(em, "facility", conf_word_name(hypd_conf_facilities,
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
	const cyaml_config_t	*cfg = hypd_cyaml_config();
	struct conf_rframe	 st[CONF_MAX_DEPTH], *top;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	cyaml_err_t		 e;
	uint8_t			*yaml = NULL;
	size_t			 len = 0;
	int			 depth = 0, done = 0, ok = 1, secret, is_key;

	if (schema == NULL || conf == NULL)
		return (conf_emit_start(em, 1) && conf_emit_end(em, 1));
	hypd_conf_capture_reset();
	e = cyaml_save_data((char **)&yaml, &len, cfg, schema, conf, 0);
	if (e != CYAML_OK)
		return (0);
	if (!yaml_parser_initialize(&parser)) {
		cfg->mem_fn(cfg->mem_ctx, yaml, 0);
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
	cfg->mem_fn(cfg->mem_ctx, yaml, 0);
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
