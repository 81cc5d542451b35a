/* conf_scan.c — reads one config file: a line scan finds what iniparser hides, iniparser gives
 * values. */
#include "conf_int.h"
#include "namemap.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* iniparser reads into a 1024-byte buffer, continuation lines included: stay well below it. */
#define CONF_LINE_MAX 1000

struct scan {
	const char *file;
	char *dir;
	struct conf_section *secs;
	size_t n, cap;
	size_t first; /* index of this file's first section in secs */
	int cur;      /* index of the current section, -1 before the first */
	int *rewrite; /* physical lines that need "[name]" alone for iniparser */
	size_t nrewrite;
	struct conf_error *err;
	struct namemap names; /* this file's sections: name -> 1 + index in secs */
};

static char *strip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A short, quoted excerpt of user text for a message. */
static const char *excerpt(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n + 1 <= len)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%.*s...", (int)(len - 4), s);
	return buf;
}

static int add_section(struct scan *sc, const char *name, int line)
{
	/* iniparser merges repeated sections: catch them here, before asking it for values. */
	uintptr_t seen = (uintptr_t)namemap_get(&sc->names, name);
	if (seen) {
		conf_errf(sc->err, sc->file, line, name, NULL,
		          "duplicate section: [%s] is already at line %d; merge them", name,
		          sc->secs[seen - 1].line);
		return -1;
	}
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		struct conf_section *p = realloc(sc->secs, sc->cap * sizeof(*p));
		if (!p)
			abort();
		sc->secs = p;
	}
	struct conf_section *s = &sc->secs[sc->n];
	memset(s, 0, sizeof(*s));
	s->name = util_xstrdup(name);
	s->file = util_xstrdup(sc->file);
	s->dir = util_xstrdup(sc->dir);
	s->line = line;
	sc->cur = (int)sc->n++;
	if (namemap_put(&sc->names, s->name, (void *)(uintptr_t)sc->n) < 0)
		abort();
	return 0;
}

static void add_kv(struct conf_section *s, const char *key, const char *value, int line)
{
	struct conf_kv *p = realloc(s->kv, (s->nkv + 1) * sizeof(*p));
	if (!p)
		abort();
	s->kv = p;
	p[s->nkv].key = util_xstrdup(key);
	p[s->nkv].value = util_xstrdup(value);
	p[s->nkv].line = line;
	s->nkv++;
}

static int scan_section(struct scan *sc, char *s, int line, int joined)
{
	char ex[80];
	char *close = strchr(s, ']');
	if (!close) {
		conf_errf(sc->err, sc->file, line, NULL, NULL,
		          "the section header '%s' has no closing ']'", excerpt(s, ex, sizeof(ex)));
		return -1;
	}
	*close = '\0';
	char *after = close + 1;
	while (isspace((unsigned char)*after))
		after++;
	char *name = strip(s + 1);
	lower(name);
	if (*after && *after != ';' && *after != '#') {
		conf_errf(sc->err, sc->file, line, NULL, NULL,
		          "unexpected text '%s' after the section header [%s]",
		          excerpt(after, ex, sizeof(ex)), name);
		return -1;
	}
	if (!*name) {
		conf_errf(sc->err, sc->file, line, NULL, NULL, "empty section name '[]'");
		return -1;
	}
	if (*after) {
		/* iniparser rejects "[x] ; comment": it is handed "[x]" alone on this line. */
		if (joined) {
			conf_errf(sc->err, sc->file, line, name, NULL,
			          "a section header cannot be continued with '\\'");
			return -1;
		}
		int *p = realloc(sc->rewrite, (sc->nrewrite + 1) * sizeof(*p));
		if (!p)
			abort();
		sc->rewrite = p;
		p[sc->nrewrite++] = line;
	}
	return add_section(sc, name, line);
}

/* The value as iniparser will read it from `v` (the text after '='), or -1 when iniparser
 * would silently read something other than what the line says. */
static int scan_value(struct scan *sc, const char *sec, const char *key, char *v, int line,
                      char **out)
{
	char ex[80];
	char q = *v;
	if (q == '"' || q == '\'') {
		char *close = strchr(v + 1, q);
		if (!close) {
			conf_errf(sc->err, sc->file, line, sec, key,
			          "unterminated %s quote in the value %s",
			          q == '"' ? "double" : "single", excerpt(v, ex, sizeof(ex)));
			return -1;
		}
		char *rest = close + 1;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest && *rest != ';' && *rest != '#') {
			conf_errf(
			    sc->err, sc->file, line, sec, key,
			    "text after the closing quote would be ignored (only %.*s would be "
			    "read); quote the whole value or none of it",
			    (int)(close - v + 1), v);
			return -1;
		}
		*close = '\0';
		*out = v + 1;
		return 0;
	}
	char inq = 0;
	char *p;
	for (p = v; *p; p++) {
		if (*p == ';' || *p == '#') {
			if (!inq && (p == v || isspace((unsigned char)p[-1])))
				break;
			/* iniparser cuts here anyway: "sh -c 'a; b'" would become "sh -c 'a". */
			char whole[CONF_LINE_MAX + 1];
			snprintf(whole, sizeof(whole), "%s", v);
			strip(whole);
			char quote = strchr(whole, '\'') ? '"' : '\'';
			conf_errf(
			    sc->err, sc->file, line, sec, key,
			    "'%c' starts a comment, even %s, so the value would end at '%.*s'; "
			    "to keep it, quote the whole value: %s = %c%s%c",
			    *p, inq ? "inside quotes" : "inside a word", (int)(p - v), v, key,
			    quote, whole, quote);
			return -1;
		}
		if (inq && *p == inq)
			inq = 0;
		else if (!inq && (*p == '"' || *p == '\''))
			inq = *p;
	}
	*p = '\0';
	v = strip(v);
	if (strcmp(v, "\"\"") == 0 || strcmp(v, "''") == 0)
		v[0] = '\0';
	*out = v;
	return 0;
}

static int scan_kv(struct scan *sc, char *s, int line)
{
	char ex[80];
	char *eq = strchr(s, '=');
	if (!eq) {
		conf_errf(sc->err, sc->file, line, NULL, NULL,
		          "expected 'key = value', a [section] or a comment; got '%s'",
		          excerpt(s, ex, sizeof(ex)));
		return -1;
	}
	*eq = '\0';
	char *key = strip(s);
	lower(key);
	if (!*key) {
		conf_errf(sc->err, sc->file, line, NULL, NULL, "missing key name before '='");
		return -1;
	}
	for (const char *k = key; *k; k++) {
		if (!(islower((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '_' ||
		      *k == '-' || *k == '.')) {
			conf_errf(sc->err, sc->file, line, NULL, NULL,
			          "'%s' is not a key name (letters, digits and '_')",
			          excerpt(key, ex, sizeof(ex)));
			return -1;
		}
	}
	if (sc->cur < 0) {
		conf_errf(sc->err, sc->file, line, NULL, key,
		          "key outside any section; put it under a section such as [vigil]");
		return -1;
	}
	struct conf_section *sec = &sc->secs[sc->cur];
	const struct conf_kv *dup = conf_section_get(sec, key);
	if (dup) {
		conf_errf(sc->err, sc->file, line, sec->name, key,
		          "duplicate key: already set at line %d; keep one of them", dup->line);
		return -1;
	}
	char *v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	char *value;
	if (scan_value(sc, sec->name, key, v, line, &value) < 0)
		return -1;
	add_kv(sec, key, value, line);
	return 0;
}

static int scan_line(struct scan *sc, char *s, int line, int joined)
{
	s = strip(s);
	if (!*s)
		return 0;
	if (*s == '#' || *s == ';') {
		if (joined) {
			conf_errf(sc->err, sc->file, line, NULL, NULL,
			          "this comment ends with '\\', which joins the next line into the "
			          "comment; remove the backslash");
			return -1;
		}
		return 0;
	}
	if (*s == '[')
		return scan_section(sc, s, line, joined);
	return scan_kv(sc, s, line);
}

/* Splits text into iniparser's logical lines (a trailing '\' joins the next line). */
static int scan_text(struct scan *sc, char *text, size_t len)
{
	struct conf_buf logical = {0};
	int lineno = 0, first = 0, joined = 0, rc = 0;
	char *p = text, *end = text + len;
	while (p < end && rc == 0) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		lineno++;
		if (memchr(p, '\0', (size_t)(e - p))) {
			conf_errf(sc->err, sc->file, lineno, NULL, NULL, "NUL byte in a text file");
			rc = -1;
			break;
		}
		size_t n = (size_t)(e - p);
		if (logical.len + n + 1 > CONF_LINE_MAX) {
			conf_errf(sc->err, sc->file, lineno, NULL, NULL,
			          "line too long: at most %d characters (continuations included)",
			          CONF_LINE_MAX);
			rc = -1;
			break;
		}
		if (!logical.len) {
			first = lineno;
			joined = 0;
		} else if (n) {
			joined = 1;
		}
		conf_buf_put(&logical, p, n);
		while (logical.len && isspace((unsigned char)logical.s[logical.len - 1]))
			logical.s[--logical.len] = '\0';
		p = nl ? nl + 1 : end;
		if (logical.len && logical.s[logical.len - 1] == '\\') {
			logical.s[--logical.len] = '\0';
			if (p >= end) {
				conf_errf(sc->err, sc->file, first, NULL, NULL,
				          "the last line ends with '\\' but no line follows");
				rc = -1;
			}
			/* An empty continuation still keeps the buffer open. */
			if (!logical.len)
				conf_buf_put(&logical, " ", 1);
			continue;
		}
		if (logical.len)
			rc = scan_line(sc, logical.s, first, joined);
		logical.len = 0;
		if (logical.s)
			logical.s[0] = '\0';
	}
	free(logical.s);
	return rc;
}

static int silent(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

/* iniparser reads every file too, and what vigil acts on must be what iniparser read: the scan
 * predicts iniparser exactly, so a difference would mean acting on a value the user did not
 * write — refuse rather than guess. iniparser's dictionary finds a key by a linear search, so
 * one load of a file of N sections costs N²: it is fed the file a slice of sections at a time
 * (a section never spans two slices), and its entries are matched against the scan through a
 * hash table, which keeps the whole check linear. */
#define INI_SLICE 32 /* sections per iniparser load */

struct ini_check {
	struct namemap map; /* "section:key" -> struct ini_want */
	struct ini_want {
		struct conf_kv *kv;
		const char *section;
		char *name;
		int seen;
	} *want;
	size_t nwant;
	int memfd;
	char path[64];
};

/* Loads text[from, to) (whole lines; "[x] ; comment" lines listed in sc->rewrite trimmed to
 * "[x]") into iniparser and checks what it read against the scan. 0, -1 or -2 (out of memory). */
static int ini_slice(struct scan *sc, struct ini_check *c, const char *from, const char *to,
                     int lineno, size_t *r)
{
	struct conf_buf b = {0};
	for (const char *p = from; p < to; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(to - p));
		const char *e = nl ? nl + 1 : to;
		while (*r < sc->nrewrite && sc->rewrite[*r] < lineno)
			(*r)++;
		if (*r < sc->nrewrite && sc->rewrite[*r] == lineno) {
			const char *close = memchr(p, ']', (size_t)(e - p));
			conf_buf_put(&b, p, (size_t)(close - p + 1));
			conf_buf_puts(&b, "\n");
		} else {
			conf_buf_put(&b, p, (size_t)(e - p));
		}
		p = e;
	}
	int rc = 0;
	if (ftruncate(c->memfd, 0) < 0 ||
	    (b.len && pwrite(c->memfd, b.s, b.len, 0) != (ssize_t)b.len)) {
		conf_errf(sc->err, sc->file, 0, NULL, NULL, "cannot copy the file for iniparser: %s",
		          strerror(errno));
		free(b.s);
		return errno == ENOMEM ? -2 : -1;
	}
	free(b.s);
	errno = 0;
	dictionary *d = iniparser_load(c->path);
	if (!d) {
		conf_errf(sc->err, sc->file, 0, NULL, NULL, "iniparser could not load this file (%s)",
		          errno ? strerror(errno) : "syntax");
		return errno == ENOMEM ? -2 : -1;
	}
	for (ssize_t i = 0; i < d->size && rc == 0; i++) {
		if (!d->key[i] || !strchr(d->key[i], ':'))
			continue; /* a section's own entry, or a free slot */
		struct ini_want *w = namemap_get(&c->map, d->key[i]);
		if (!w)
			continue;
		w->seen = 1;
		const char *v = d->val[i];
		if (!v || strcmp(v, w->kv->value) != 0) {
			conf_errf(sc->err, sc->file, w->kv->line, w->section, w->kv->key,
			          "iniparser read '%s' where vigil read '%s'; please report this",
			          v ? v : "(nothing)", w->kv->value);
			rc = -1;
		}
	}
	iniparser_freedict(d);
	return rc;
}

static int ini_check(struct scan *sc, const char *text, size_t len)
{
	struct ini_check c = {.memfd = -1};
	int rc = 0;
	for (size_t i = sc->first; i < sc->n; i++)
		c.nwant += sc->secs[i].nkv;
	c.want = util_xcalloc(c.nwant ? c.nwant : 1, sizeof *c.want);
	size_t k = 0;
	for (size_t i = sc->first; i < sc->n; i++) {
		struct conf_section *sec = &sc->secs[i];
		for (size_t j = 0; j < sec->nkv; j++, k++) {
			struct ini_want *w = &c.want[k];
			struct conf_buf name = {0};
			conf_buf_puts(&name, sec->name);
			conf_buf_puts(&name, ":");
			conf_buf_puts(&name, sec->kv[j].key);
			w->kv = &sec->kv[j];
			w->section = sec->name;
			w->name = conf_buf_take(&name);
			if (namemap_put(&c.map, w->name, w) < 0)
				rc = -2;
		}
	}
	iniparser_set_error_callback(silent);
	c.memfd = rc == 0 ? memfd_create("vigil-conf", MFD_CLOEXEC) : -1;
	if (rc == 0 && c.memfd < 0) {
		conf_errf(sc->err, sc->file, 0, NULL, NULL, "cannot copy the file for iniparser: %s",
		          strerror(errno));
		rc = -1;
	}
	snprintf(c.path, sizeof c.path, "/proc/self/fd/%d", c.memfd);
	/* Slices end where a section header starts (its line, from the scan). */
	const char *p = text, *end = text + len;
	int lineno = 1;
	size_t r = 0;
	for (size_t i = sc->first; rc == 0 && p < end; i += INI_SLICE) {
		int stop_line = i + INI_SLICE < sc->n ? sc->secs[i + INI_SLICE].line : 0;
		const char *q = p;
		int l = lineno;
		while (q < end && (!stop_line || l < stop_line)) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			q = nl ? nl + 1 : end;
			l++;
		}
		rc = ini_slice(sc, &c, p, q, lineno, &r);
		p = q;
		lineno = l;
	}
	for (k = 0; k < c.nwant; k++) {
		if (rc == 0 && !c.want[k].seen) {
			struct ini_want *w = &c.want[k];
			conf_errf(sc->err, sc->file, w->kv->line, w->section, w->kv->key,
			          "iniparser read '(nothing)' where vigil read '%s'; please report this",
			          w->kv->value);
			rc = -1;
		}
		free(c.want[k].name);
	}
	free(c.want);
	namemap_clear(&c.map);
	if (c.memfd >= 0)
		close(c.memfd);
	return rc;
}

static int read_file(const char *file, char **text, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct conf_buf b = {0};
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free(b.s);
			return -e;
		}
		if (n == 0)
			break;
		conf_buf_put(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	*text = conf_buf_take(&b);
	return 0;
}

int conf_scan_file(struct conf_raw *raw, const char *file, struct conf_error *err)
{
	char *text;
	size_t len;
	int r = read_file(file, &text, &len);
	if (r < 0) {
		conf_errf(err, NULL, 0, NULL, NULL, "cannot read %s: %s", file, strerror(-r));
		return r == -ENOMEM ? -2 : -1;
	}
	struct scan sc = {.file = file,
	                  .secs = raw->sections,
	                  .n = raw->nsections,
	                  .cap = raw->nsections,
	                  .first = raw->nsections,
	                  .cur = -1,
	                  .err = err};
	const char *slash = strrchr(file, '/');
	sc.dir = slash == file ? util_xstrdup("/") : strndup(file, (size_t)(slash - file));
	if (!sc.dir)
		abort();
	/* scan_text cuts the text up; iniparser's copy needs the original lines. */
	char *work = util_xmalloc(len + 1);
	memcpy(work, text, len);
	work[len] = '\0';
	int rc = scan_text(&sc, work, len);
	free(work);
	if (rc == 0)
		rc = ini_check(&sc, text, len);
	raw->sections = sc.secs;
	raw->nsections = sc.n;
	free(sc.dir);
	free(sc.rewrite);
	namemap_clear(&sc.names);
	free(text);
	return rc;
}
