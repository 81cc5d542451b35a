/* conf_plugin.c — a plugin section checked against the plugin's key table; the ctl socket path. */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The validated view of one plugin section that configure() reads through the host. */
struct vigil_config {
	size_t n;
	char **keys; /* declared keys that have a value (given or default), table order */
	char **values;
};

static const char *type_expect(const struct vigil_config_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case VIGIL_KEY_INT:
		return "a whole number";
	case VIGIL_KEY_BOOL:
		return "true or false (or yes/no, on/off, 1/0)";
	case VIGIL_KEY_DURATION:
		return "a duration like 10s, 1500ms, 5m";
	case VIGIL_KEY_SIZE:
		return "a size like 512, 64K, 10M, 1G";
	case VIGIL_KEY_PERCENT:
		return "a percentage like 50% or 150%";
	case VIGIL_KEY_DOUBLE:
		return "a number like 2 or 0.25";
	case VIGIL_KEY_MODE:
		return "an octal file mode like 0660";
	case VIGIL_KEY_PATH:
		return "a path";
	case VIGIL_KEY_ENUM:
		snprintf(buf, len, "one of %s", k->choices ? k->choices : "(none)");
		for (char *c = buf; *c; c++)
			if (*c == '|')
				*c = ',';
		return buf;
	default:
		return "a value";
	}
}

/* Checks v against k's type; on success *norm is the value to keep (malloc'd). */
static int check_value(const struct vigil_config_key *k, const char *v, const char *dir,
                       char **norm)
{
	int64_t i;
	int b;
	double d;
	int r = 0;
	switch (k->type) {
	case VIGIL_KEY_STRING:
	case VIGIL_KEY_LIST:
		break;
	case VIGIL_KEY_INT:
		r = util_parse_int(v, &i);
		break;
	case VIGIL_KEY_BOOL:
		r = util_parse_bool(v, &b);
		break;
	case VIGIL_KEY_DURATION:
		r = util_parse_duration_ms(v, &i);
		break;
	case VIGIL_KEY_SIZE:
		r = util_parse_size(v, &i);
		break;
	case VIGIL_KEY_PERCENT:
		r = util_parse_percent(v, &d);
		break;
	case VIGIL_KEY_DOUBLE:
		r = util_parse_double(v, &d);
		break;
	case VIGIL_KEY_MODE:
		r = util_parse_mode(v, &i);
		break;
	case VIGIL_KEY_PATH:
		if (!*v)
			return -EINVAL;
		*norm = conf_abspath(dir, v);
		return 0;
	case VIGIL_KEY_ENUM: {
		r = -EINVAL;
		char *choices = util_xstrdup(k->choices ? k->choices : ""), *save = NULL;
		for (char *c = strtok_r(choices, "|", &save); c; c = strtok_r(NULL, "|", &save)) {
			if (strcasecmp(c, v) == 0) {
				*norm = util_xstrdup(c);
				r = 0;
				break;
			}
		}
		free(choices);
		return r;
	}
	default:
		return -EINVAL;
	}
	if (r == 0)
		*norm = util_xstrdup(v);
	return r;
}

static void cfg_add(struct vigil_config *cfg, const char *key, char *value)
{
	char **k = realloc(cfg->keys, (cfg->n + 1) * sizeof(char *));
	if (!k)
		abort();
	cfg->keys = k;
	char **v = realloc(cfg->values, (cfg->n + 1) * sizeof(char *));
	if (!v)
		abort();
	cfg->values = v;
	cfg->keys[cfg->n] = util_xstrdup(key);
	cfg->values[cfg->n] = value;
	cfg->n++;
}

struct vigil_config *conf_plugin_config(const struct conf_section *sec,
                                        const struct vigil_config_key *keys, const char *what,
                                        const char *state_dir, struct conf_error *err)
{
	size_t nkeys = 0;
	while (keys && keys[nkeys].name)
		nkeys++;
	struct vigil_config *cfg = util_xcalloc(1, sizeof(*cfg));
	const char *file = sec ? sec->file : NULL;
	const char *name = sec ? sec->name : NULL;
	char buf[256];

	for (size_t i = 0; sec && i < sec->nkv; i++) {
		const struct conf_kv *kv = &sec->kv[i];
		const struct vigil_config_key *k = NULL;
		for (size_t j = 0; j < nkeys && !k; j++)
			if (strcmp(keys[j].name, kv->key) == 0)
				k = &keys[j];
		if (!k) {
			const char **cands = util_xcalloc(nkeys + 1, sizeof(char *));
			for (size_t j = 0; j < nkeys; j++)
				cands[j] = keys[j].name;
			const char *h = util_closest(kv->key, cands, nkeys);
			free(cands);
			if (!nkeys)
				conf_errf(err, file, kv->line, name, kv->key,
				          "unknown key: %s takes no keys", what);
			else
				conf_errf(err, file, kv->line, name, kv->key,
				          "unknown key for %s%s%s%s", what,
				          h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "");
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(sec->kv[j].key, kv->key) == 0) {
				conf_errf(err, file, kv->line, name, kv->key,
				          "duplicate key: already set at line %d; keep one of them",
				          sec->kv[j].line);
				goto fail;
			}
		}
	}
	for (size_t j = 0; j < nkeys; j++) {
		const struct vigil_config_key *k = &keys[j];
		const struct conf_kv *kv = conf_section_get(sec, k->name);
		char *norm = NULL;
		if (kv) {
			if (check_value(k, kv->value, sec->dir, &norm) < 0) {
				conf_errf(err, file, kv->line, name, kv->key,
				          "expected %s; got '%s'", type_expect(k, buf, sizeof(buf)),
				          kv->value);
				goto fail;
			}
		} else if (k->required) {
			if (sec)
				conf_errf(err, file, sec->line, name, NULL,
				          "missing required key '%s' (%s)", k->name,
				          k->doc ? k->doc : what);
			else
				conf_errf(err, NULL, 0, NULL, NULL,
				          "%s needs the key '%s' (%s): add a section for it", what,
				          k->name, k->doc ? k->doc : "required");
			goto fail;
		} else if (k->def) {
			char why[512], *v;
			if (conf_expand(k->def, NULL, state_dir, &v, why, sizeof(why)) < 0) {
				conf_errf(err, NULL, 0, NULL, NULL, "%s: the default of '%s': %s",
				          what, k->name, why);
				goto fail;
			}
			/* A default instance has no file: its relative paths live in the state dir.
			 */
			int r = check_value(k, v, sec ? sec->dir : state_dir, &norm);
			free(v);
			if (r < 0) {
				conf_errf(
				    err, NULL, 0, NULL, NULL,
				    "%s: the default of '%s' is not %s: '%s' (a bug in the plugin)",
				    what, k->name, type_expect(k, buf, sizeof(buf)), k->def);
				goto fail;
			}
		}
		if (norm)
			cfg_add(cfg, k->name, norm);
	}
	return cfg;
fail:
	conf_plugin_config_free(cfg);
	return NULL;
}

void conf_plugin_config_free(struct vigil_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->keys[i]);
		free(cfg->values[i]);
	}
	free(cfg->keys);
	free(cfg->values);
	free(cfg);
}

const char *conf_plugin_value(const struct vigil_config *cfg, const char *key)
{
	for (size_t i = 0; cfg && key && i < cfg->n; i++)
		if (strcmp(cfg->keys[i], key) == 0)
			return cfg->values[i];
	return NULL;
}

char *conf_socket_path(const char *path, struct conf_error *err)
{
	/* Only the files and their [vigil] section are read: vigilctl must reach a daemon
	 * whatever else a half-edited file says. */
	struct conf_raw raw;
	if (conf_read(path, &raw, err) < 0) {
		conf_raw_free(&raw);
		return NULL;
	}
	char *sock = NULL;
	int rc = 0;
	for (size_t i = 0; i < raw.nsections && !sock && rc == 0; i++) {
		struct conf_section *s = &raw.sections[i];
		if (strcmp(s->name, "frontend.ctl") != 0)
			continue;
		rc = conf_expand_section(&raw, s, err);
		const struct conf_kv *kv = conf_section_get(s, "socket");
		if (rc == 0 && kv && kv->value[0])
			sock = conf_abspath(s->dir, kv->value);
	}
	if (rc < 0) {
		conf_raw_free(&raw);
		return NULL;
	}
	if (!sock) {
		struct conf_buf b = {0};
		conf_buf_puts(&b, raw.state_dir);
		conf_buf_puts(&b, "/vigil.sock");
		sock = conf_buf_take(&b);
	}
	conf_raw_free(&raw);
	return sock;
}
