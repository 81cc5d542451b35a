/* util_str.c — string helpers of util.h: argv and list splitting, string vectors, "did you mean".
 */
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [*b, *e) is s without its surrounding blanks; 0 when nothing is left. */
static int span(const char *s, const char **b, const char **e)
{
	while (isspace((unsigned char)*s))
		s++;
	const char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*b = s;
	*e = end;
	return end > s;
}

/* A growable string, for the splitters. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		char *n = realloc(b->s, b->cap);
		if (!n)
			abort();
		b->s = n;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

static char *sb_take(struct sbuf *b)
{
	char *s = b->s ? b->s : util_xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

struct strv {
	char **v;
	size_t n, cap;
};

static void sv_push(struct strv *v, char *s)
{
	if (v->n + 2 > v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		char **n = realloc(v->v, v->cap * sizeof(*n));
		if (!n)
			abort();
		v->v = n;
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

static char **sv_take(struct strv *v)
{
	if (!v->v)
		return util_xcalloc(1, sizeof(char *));
	return v->v;
}

char **util_split_argv(const char *s, char *err, size_t errlen)
{
	struct strv v = {0};
	struct sbuf w = {0};
	const char *why = NULL;
	int inword = 0;
	const char *p = s ? s : "";
	while (*p && !why) {
		char c = *p;
		if (isspace((unsigned char)c)) {
			if (inword) {
				sv_push(&v, sb_take(&w));
				inword = 0;
			}
			p++;
			continue;
		}
		inword = 1;
		if (c == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q) {
				why = "unterminated single quote";
				break;
			}
			for (p++; p < q; p++)
				sb_putc(&w, *p);
			p++; /* '' alone is an empty word: inword makes sb_take() push "" */
		} else if (c == '"') {
			p++;
			while (*p && *p != '"') {
				/* As in sh: inside "..", a backslash escapes only these. */
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				sb_putc(&w, *p++);
			}
			if (*p != '"') {
				why = "unterminated double quote";
				break;
			}
			p++;
		} else if (c == '\\') {
			if (!p[1]) {
				why = "trailing backslash";
				break;
			}
			sb_putc(&w, p[1]);
			p += 2;
		} else {
			sb_putc(&w, c);
			p++;
		}
	}
	if (!why && inword)
		sv_push(&v, sb_take(&w));
	if (!why && v.n == 0)
		why = "empty command";
	if (why) {
		free(w.s);
		util_strv_free(v.v);
		if (err && errlen)
			snprintf(err, errlen, "%s", why);
		return NULL;
	}
	return sv_take(&v);
}

char **util_split_list(const char *s)
{
	struct strv v = {0};
	const char *p = s ? s : "";
	for (;;) {
		/* Find the end of this item: a comma outside double quotes. */
		const char *q = p;
		int inq = 0;
		while (*q && (inq || *q != ',')) {
			if (*q == '"')
				inq = !inq;
			q++;
		}
		const char *b, *e;
		char *item = util_xmalloc((size_t)(q - p) + 1);
		memcpy(item, p, (size_t)(q - p));
		item[q - p] = '\0';
		if (span(item, &b, &e)) {
			/* A wholly quoted item loses its quotes; KEY="a b" keeps them for the
			 * caller. */
			if (e - b >= 2 && *b == '"' && e[-1] == '"' &&
			    !memchr(b + 1, '"', (size_t)(e - b - 2))) {
				b++;
				e--;
			}
			char *t = util_xmalloc((size_t)(e - b) + 1);
			memcpy(t, b, (size_t)(e - b));
			t[e - b] = '\0';
			sv_push(&v, t);
		}
		free(item);
		if (!*q)
			break;
		p = q + 1;
	}
	return sv_take(&v);
}

size_t util_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **util_strv_dup(char *const *v)
{
	size_t n = util_strv_len(v);
	char **d = util_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		d[i] = util_xstrdup(v[i]);
	return d;
}

void util_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int util_strv_eq(char *const *a, char *const *b)
{
	size_t n = util_strv_len(a);
	if (n != util_strv_len(b))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

size_t util_levenshtein(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n < m) { /* keep the row short */
		const char *t = a;
		a = b;
		b = t;
		size_t u = n;
		n = m;
		m = u;
	}
	size_t *row = util_xcalloc(m + 1, sizeof(size_t));
	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[m];
	free(row);
	return d;
}

/* Like util_levenshtein, but swapping two adjacent letters is one edit, not two: that is
 * the commonest typo ("TREM" is one edit from TERM and two from TRAP). */
static size_t typo_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t *d = util_xcalloc((n + 1) * (m + 1), sizeof(size_t));
#define D(i, j) d[(i) * (m + 1) + (j)]
	for (size_t i = 0; i <= n; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= m; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			size_t best = D(i - 1, j - 1) + (a[i - 1] != b[j - 1]);
			if (D(i - 1, j) + 1 < best)
				best = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < best)
				best = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    D(i - 2, j - 2) + 1 < best)
				best = D(i - 2, j - 2) + 1;
			D(i, j) = best;
		}
	}
	size_t r = D(n, m);
#undef D
	free(d);
	return r;
}

const char *util_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	/* Short words tolerate one typo, longer ones a few: "progam", "autostrat". */
	size_t max = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i])
			continue;
		size_t d = typo_distance(word, candidates[i]);
		if (d < bestd) {
			bestd = d;
			best = candidates[i];
		}
	}
	if (!best || bestd == 0)
		return best;
	return bestd > max || bestd >= len ? NULL : best;
}
