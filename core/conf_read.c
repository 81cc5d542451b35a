/* conf_read.c — the main config file, its [vigil] section, includes, ${VAR} and path helpers. */
#include "conf_int.h"
#include "namemap.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void conf_buf_put(struct conf_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			abort();
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void conf_buf_puts(struct conf_buf *b, const char *s)
{
	conf_buf_put(b, s, strlen(s));
}

char *conf_buf_take(struct conf_buf *b)
{
	char *s = b->s ? b->s : util_xstrdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

void conf_errf(struct conf_error *err, const char *file, int line, const char *section,
               const char *key, const char *fmt, ...)
{
	if (!err)
		return;
	char msg[CONF_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Each piece is clamped: a long path must not push the message out. */
	size_t n = 0, cap = sizeof(err->msg);
	int w = 0;
	if (file && line > 0)
		w = snprintf(err->msg, cap, "%s:%d: ", file, line);
	else if (file)
		w = snprintf(err->msg, cap, "%s: ", file);
	n = w > 0 ? (size_t)w : 0;
	if (section && n < cap) {
		w = snprintf(err->msg + n, cap - n, key ? "[%s] " : "[%s]: ", section);
		n += w > 0 ? (size_t)w : 0;
	}
	if (key && n < cap) {
		w = snprintf(err->msg + n, cap - n, "%s: ", key);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < cap)
		snprintf(err->msg + n, cap - n, "%s", msg);
}

int conf_valid_name(const char *s)
{
	if (!s || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	for (s++; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

const struct conf_kv *conf_section_get(const struct conf_section *sec, const char *key)
{
	for (size_t i = 0; sec && i < sec->nkv; i++)
		if (strcmp(sec->kv[i].key, key) == 0)
			return &sec->kv[i];
	return NULL;
}

void conf_section_free(struct conf_section *sec)
{
	if (!sec)
		return;
	for (size_t i = 0; i < sec->nkv; i++) {
		free(sec->kv[i].key);
		free(sec->kv[i].value);
	}
	free(sec->kv);
	free(sec->name);
	free(sec->file);
	free(sec->dir);
}

void conf_raw_free(struct conf_raw *raw)
{
	for (size_t i = 0; raw->sections && i < raw->nsections; i++)
		conf_section_free(&raw->sections[i]);
	free(raw->sections);
	free(raw->file);
	free(raw->dir);
	free(raw->state_dir);
	memset(raw, 0, sizeof(*raw));
}

char *conf_abspath(const char *dir, const char *path)
{
	struct conf_buf in = {0}, out = {0};
	if (path[0] != '/') {
		conf_buf_puts(&in, dir);
		conf_buf_puts(&in, "/");
	}
	conf_buf_puts(&in, path);
	/* Fold components lexically: the directory may not exist yet (state_dir). */
	size_t *stack = util_xcalloc(in.len + 1, sizeof(size_t));
	size_t depth = 0;
	char *save = NULL;
	for (char *c = strtok_r(in.s, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (depth > 0)
				out.len = stack[--depth], out.s[out.len] = '\0';
			continue;
		}
		stack[depth++] = out.len;
		conf_buf_puts(&out, "/");
		conf_buf_puts(&out, c);
	}
	free(stack);
	free(in.s);
	if (!out.len)
		conf_buf_puts(&out, "/");
	return conf_buf_take(&out);
}

static const char *lookup_var(const char *name, const struct conf_section *vars,
                              const char *state_dir)
{
	if (state_dir && strcmp(name, "state_dir") == 0)
		return state_dir;
	const struct conf_kv *kv = conf_section_get(vars, name);
	if (kv)
		return kv->value;
	return getenv(name);
}

int conf_expand(const char *in, const struct conf_section *vars, const char *state_dir, char **out,
                char *why, size_t whylen)
{
	struct conf_buf b = {0};
	conf_buf_puts(&b, "");
	for (const char *p = in; *p;) {
		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			/* A lone $ stays: "sh -c 'echo $HOME'" means the shell's variable. */
			conf_buf_put(&b, p++, 1);
			continue;
		}
		if (p[1] == '$') {
			conf_buf_put(&b, "$", 1);
			p += 2;
			continue;
		}
		const char *close = strchr(p + 2, '}');
		if (!close) {
			snprintf(why, whylen, "unterminated '${' (write $$ for a literal $)");
			goto fail;
		}
		size_t n = (size_t)(close - p - 2);
		char name[128];
		int ok = n > 0 && n < sizeof(name) && (isalpha((unsigned char)p[2]) || p[2] == '_');
		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char)p[2 + i]) || p[2 + i] == '_';
		if (!ok) {
			snprintf(why, whylen,
			         "'%.*s' is not a variable name like ${state_dir} or ${HOME}",
			         (int)(n + 3 > 64 ? 64 : n + 3), p);
			goto fail;
		}
		memcpy(name, p + 2, n);
		name[n] = '\0';
		const char *v = lookup_var(name, vars, state_dir);
		if (!v && strcmp(name, "state_dir") == 0) {
			snprintf(why, whylen, "state_dir cannot refer to ${state_dir}");
			goto fail;
		}
		if (!v) {
			snprintf(why, whylen,
			         "unknown variable ${%s}: not a [vigil] key and not set in the "
			         "environment "
			         "(write $$ for a literal $)",
			         name);
			goto fail;
		}
		conf_buf_puts(&b, v);
		p = close + 1;
	}
	*out = conf_buf_take(&b);
	return 0;
fail:
	free(b.s);
	return -1;
}

static int glob_failed_errno;
static char glob_failed_path[512];

static int glob_error(const char *path, int eerrno)
{
	/* A missing include directory matches nothing, which is fine. */
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return 0;
	glob_failed_errno = eerrno;
	snprintf(glob_failed_path, sizeof(glob_failed_path), "%s", path);
	return 1;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the files that `pattern` (the include key, at `line` of the main file) matches. */
static int read_includes(struct conf_raw *raw, const char *pattern, int line,
                         struct conf_error *err)
{
	struct conf_buf pat = {0};
	if (pattern[0] != '/') {
		/* The directory is literal text, not part of the pattern. */
		for (const char *c = raw->dir; *c; c++) {
			if (strchr("*?[\\", *c))
				conf_buf_put(&pat, "\\", 1);
			conf_buf_put(&pat, c, 1);
		}
		conf_buf_puts(&pat, "/");
	}
	conf_buf_puts(&pat, pattern);
	glob_t g;
	glob_failed_errno = 0;
	/* glob sorts with strcoll; byte order keeps the include order the same in every locale. */
	int r = glob(pat.s, GLOB_NOSORT, glob_error, &g);
	free(pat.s);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r == GLOB_NOSPACE) {
		conf_errf(err, raw->file, line, "vigil", "include", "out of memory");
		return -2;
	}
	if (r != 0) {
		conf_errf(err, raw->file, line, "vigil", "include", "cannot read %s: %s",
		          glob_failed_path, strerror(glob_failed_errno ? glob_failed_errno : EIO));
		return -1;
	}
	qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_path);
	int rc = 0;
	char **seen = util_xcalloc(g.gl_pathc + 1, sizeof(char *));
	size_t nseen = 0;
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		char *real = realpath(g.gl_pathv[i], NULL);
		if (!real) {
			conf_errf(err, raw->file, line, "vigil", "include", "cannot read %s: %s",
			          g.gl_pathv[i], strerror(errno));
			rc = -1;
			break;
		}
		if (strcmp(real, raw->file) == 0) {
			conf_errf(err, raw->file, line, "vigil", "include",
			          "include loop: '%s' matches %s, the file that includes it",
			          pattern, real);
			free(real);
			rc = -1;
			break;
		}
		int again = 0;
		for (size_t k = 0; k < nseen; k++)
			again |= strcmp(seen[k], real) == 0;
		if (again) { /* the same file through a symlink */
			free(real);
			continue;
		}
		seen[nseen++] = real;
		size_t from = raw->nsections;
		rc = conf_scan_file(raw, real, err);
		for (size_t k = from; rc == 0 && k < raw->nsections; k++) {
			if (strcmp(raw->sections[k].name, "vigil") == 0) {
				conf_errf(err, real, raw->sections[k].line, "vigil", NULL,
				          "only the main file (%s) may hold a [vigil] section",
				          raw->file);
				rc = -1;
			}
		}
	}
	for (size_t k = 0; k < nseen; k++)
		free(seen[k]);
	free(seen);
	globfree(&g);
	return rc;
}

static int expand_kv(struct conf_kv *kv, const struct conf_section *sec,
                     const struct conf_section *vars, const char *state_dir, struct conf_error *err)
{
	char why[512];
	char *v;
	if (conf_expand(kv->value, vars, state_dir, &v, why, sizeof(why)) < 0) {
		conf_errf(err, sec->file, kv->line, sec->name, kv->key, "%s", why);
		return -1;
	}
	free(kv->value);
	kv->value = v;
	return 0;
}

int conf_expand_section(const struct conf_raw *raw, struct conf_section *sec,
                        struct conf_error *err)
{
	for (size_t k = 0; k < sec->nkv; k++)
		if (expand_kv(&sec->kv[k], sec, raw->vigil, raw->state_dir, err) < 0)
			return -1;
	return 0;
}

int conf_read(const char *path, struct conf_raw *raw, struct conf_error *err)
{
	memset(raw, 0, sizeof(*raw));
	char *abs = realpath(path, NULL);
	if (!abs) {
		int e = errno;
		conf_errf(err, NULL, 0, NULL, NULL, "cannot read %s: %s", path, strerror(e));
		return e == ENOMEM ? -2 : -1;
	}
	raw->file = abs;
	const char *slash = strrchr(abs, '/');
	raw->dir = slash == abs ? util_xstrdup("/") : strndup(abs, (size_t)(slash - abs));
	if (!raw->dir)
		abort();
	int rc = conf_scan_file(raw, abs, err);
	if (rc < 0)
		return rc;

	size_t nmain = raw->nsections;
	struct conf_section *vigil = NULL;
	for (size_t i = 0; i < nmain && !vigil; i++)
		if (strcmp(raw->sections[i].name, "vigil") == 0)
			vigil = &raw->sections[i];

	/* state_dir first: every other value may refer to it as ${state_dir}. */
	struct conf_kv *sd = (struct conf_kv *)conf_section_get(vigil, "state_dir");
	if (sd) {
		if (expand_kv(sd, vigil, NULL, NULL, err) < 0)
			return -1;
		if (!sd->value[0]) {
			conf_errf(err, vigil->file, sd->line, "vigil", "state_dir",
			          "expected a directory; got ''");
			return -1;
		}
	}
	raw->state_dir = conf_abspath(raw->dir, sd ? sd->value : "./state");
	for (size_t k = 0; vigil && k < vigil->nkv; k++)
		if (&vigil->kv[k] != sd &&
		    expand_kv(&vigil->kv[k], vigil, NULL, raw->state_dir, err))
			return -1;

	const struct conf_kv *inc = conf_section_get(vigil, "include");
	if (inc && inc->value[0]) {
		/* Reading the includes moves raw->sections: copy what is needed, find [vigil]
		 * again. */
		char *pattern = util_xstrdup(inc->value);
		int line = inc->line;
		vigil = NULL;
		rc = read_includes(raw, pattern, line, err);
		free(pattern);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < nmain && !vigil; i++)
		if (strcmp(raw->sections[i].name, "vigil") == 0)
			vigil = &raw->sections[i];
	raw->vigil = vigil;

	/* Each file's scan refuses a section it repeats; this finds one repeated across files. */
	struct namemap seen = {0};
	for (size_t i = 0; i < raw->nsections && rc == 0; i++) {
		const struct conf_section *b = &raw->sections[i];
		const struct conf_section *a = namemap_get(&seen, b->name);
		if (!a) {
			if (namemap_put(&seen, b->name, (void *)b) < 0)
				abort();
			continue;
		}
		conf_errf(err, b->file, b->line, b->name, NULL,
		          "duplicate section: [%s] is already at %s:%d; merge them", b->name, a->file,
		          a->line);
		rc = -1;
	}
	namemap_clear(&seen);
	if (rc < 0)
		return rc;
	return 0;
}
