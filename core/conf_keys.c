/* conf_keys.c — checks a core section's keys against its table and stores the typed values. */
#include "conf_int.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* Where a value came from, for messages. */
struct at {
	const struct conf_section *sec;
	const struct conf_keydef *k;
	int line;
	struct conf_error *err;
};

#define FAIL(a, ...)                                                                               \
	do {                                                                                       \
		conf_errf((a)->err, (a)->sec->file, (a)->line, (a)->sec->name, (a)->k->name,       \
		          __VA_ARGS__);                                                            \
		return -1;                                                                         \
	} while (0)

#define FIELD(base, off, type) (*(type *)(void *)((char *)(base) + (off)))

/* " (did you mean 'x'?)" or "" */
static const char *hint(char *buf, size_t len, const char *word, const char *const *cands, size_t n)
{
	const char *c = util_closest(word, cands, n);
	if (c && strcmp(c, word) != 0)
		snprintf(buf, len, " (did you mean '%s'?)", c);
	else
		buf[0] = '\0';
	return buf;
}

static int parse_enum(const struct at *a, const char *v, int *out)
{
	const char *cands[16];
	size_t n = 0;
	char choices[256];
	snprintf(choices, sizeof(choices), "%s", a->k->choices);
	char *save = NULL;
	for (char *c = strtok_r(choices, "|", &save); c && n < 16; c = strtok_r(NULL, "|", &save))
		cands[n++] = c;
	char word[128];
	snprintf(word, sizeof(word), "%s", v);
	char *w = word;
	while (isspace((unsigned char)*w))
		w++;
	for (size_t i = strlen(w); i > 0 && isspace((unsigned char)w[i - 1]); i--)
		w[i - 1] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(w, cands[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	char list[300] = "", h[160];
	for (size_t i = 0; i < n; i++) {
		strncat(list, cands[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < n)
			strncat(list, i + 2 == n ? " or " : ", ", sizeof(list) - strlen(list) - 1);
	}
	for (char *c = w; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	FAIL(a, "expected %s; got '%s'%s", list, v, hint(h, sizeof(h), w, cands, n));
}

static int parse_signal(const struct at *a, const char *v, int *out)
{
	if (util_parse_signal(v, out) == 0)
		return 0;
	const char *cands[64];
	size_t n = 0;
	for (int s = 1; s < 32 && n < 64; s++)
		if (strcmp(util_signal_name(s), "?") != 0)
			cands[n++] = util_signal_name(s);
	char up[64], h[160];
	const char *p = v;
	if (strncasecmp(p, "sig", 3) == 0)
		p += 3;
	size_t i = 0;
	for (; p[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)p[i]);
	up[i] = '\0';
	FAIL(a, "expected a signal name or number like TERM, SIGINT or 9; got '%s'%s", v,
	     hint(h, sizeof(h), up, cands, n));
}

static int valid_env_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static int parse_env(const struct at *a, const char *v, char ***out)
{
	char **items = util_split_list(v);
	*out = items;
	for (size_t i = 0; items[i]; i++) {
		char *it = items[i];
		char *eq = strchr(it, '=');
		if (!eq)
			FAIL(a,
			     "expected KEY=value items like environment = A=1, B=\"x y\"; got '%s'",
			     it);
		if (!valid_env_name(it, (size_t)(eq - it)))
			FAIL(
			    a,
			    "'%.*s' is not an environment variable name (letters, digits, '_'; not "
			    "starting with a digit)",
			    (int)(eq - it), it);
		char *val = eq + 1;
		size_t n = strlen(val);
		if (val[0] == '"') {
			if (n < 2 || val[n - 1] != '"')
				FAIL(a, "unterminated double quote in '%s'", it);
			memmove(val, val + 1, n - 2);
			val[n - 2] = '\0';
		}
		for (size_t k = 0; k < i; k++) {
			size_t kn = (size_t)(eq - it);
			if (strncmp(items[k], it, kn) == 0 && items[k][kn] == '=')
				FAIL(a, "%.*s is set twice", (int)kn, it);
		}
	}
	return 0;
}

static int parse_names(const struct at *a, const char *v, char ***out)
{
	char **items = util_split_list(v);
	*out = items;
	for (size_t i = 0; items[i]; i++) {
		for (char *c = items[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!conf_valid_name(items[i]))
			FAIL(
			    a,
			    "'%s' is not a valid name: names start with a letter or digit and hold "
			    "only letters, digits, '_' and '-'",
			    items[i]);
		for (size_t k = 0; k < i; k++)
			if (strcmp(items[k], items[i]) == 0)
				FAIL(a, "'%s' is listed twice", items[i]);
	}
	return 0;
}

static int parse_codes(const struct at *a, const char *v, void *base)
{
	char **items = util_split_list(v);
	size_t n = util_strv_len(items);
	int *codes = util_xcalloc(n ? n : 1, sizeof(int));
	FIELD(base, a->k->off, int *) = codes;
	FIELD(base, a->k->off2, size_t) = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t c;
		if (util_parse_int(items[i], &c) < 0 || c < 0 || c > 255) {
			conf_errf(a->err, a->sec->file, a->line, a->sec->name, a->k->name,
			          "expected exit codes between 0 and 255, like 0, 2; got '%s'",
			          items[i]);
			rc = -1;
			break;
		}
		codes[i] = (int)c;
		FIELD(base, a->k->off2, size_t) = i + 1;
	}
	if (rc == 0 && n == 0) {
		conf_errf(a->err, a->sec->file, a->line, a->sec->name, a->k->name,
		          "expected at least one exit code, like 0");
		rc = -1;
	}
	util_strv_free(items);
	return rc;
}

/* tcp:PORT, tcp:HOST:PORT or tcp:[IPV6]:PORT; v is what follows "tcp:". Only numeric
 * addresses (and localhost): a name would need a DNS lookup, which blocks. */
static int parse_tcp(const struct at *a, const char *v, struct conf_check *c)
{
	char host[64] = "127.0.0.1";
	const char *port = v;
	if (v[0] == '[') {
		const char *e = strchr(v, ']');
		if (!e || e[1] != ':' || (size_t)(e - v - 1) >= sizeof(host))
			FAIL(a, "expected tcp:[IPV6]:PORT like tcp:[::1]:8080; got 'tcp:%s'", v);
		snprintf(host, sizeof(host), "%.*s", (int)(e - v - 1), v + 1);
		port = e + 2;
	} else if (strchr(v, ':')) {
		const char *colon = strrchr(v, ':');
		if ((size_t)(colon - v) >= sizeof(host) || memchr(v, ':', (size_t)(colon - v)))
			FAIL(a, "write an IPv6 address in brackets, like tcp:[::1]:8080; got 'tcp:%s'",
			     v);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
		port = colon + 1;
	}
	if (strcasecmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		FAIL(a,
		     "'%s' is not an IP address: tcp checks take a numeric address (a host name "
		     "would need a DNS lookup); tcp:PORT means 127.0.0.1",
		     host);
	int64_t n;
	if (util_parse_int(port, &n) < 0 || n < 1 || n > 65535)
		FAIL(a, "expected a TCP port between 1 and 65535, like tcp:8080; got 'tcp:%s'", v);
	c->kind = CHECK_TCP;
	c->target = util_xstrdup(v);
	c->host = util_xstrdup(host);
	c->port = (int)n;
	return 0;
}

/* http://HOST[:PORT][/PATH] (or https://): only the shape is checked here; libcurl does the
 * rest when the check runs. */
static int parse_http(const struct at *a, const char *v, struct conf_check *c)
{
	const char *rest = strchr(v, ':') + 3;
	size_t hl = strcspn(rest, "/?#");
	const char *port = NULL;
	for (const char *s = v; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			FAIL(a, "a URL holds no blanks (write %%20); got '%s'", v);
	if (rest[0] == '[') {
		const char *e = memchr(rest, ']', hl);
		if (!e)
			FAIL(a, "unterminated [IPv6] address in '%s'", v);
		if (e[1] == ':')
			port = e + 2;
	} else {
		const char *colon = memchr(rest, ':', hl);
		if (colon)
			port = colon + 1;
	}
	size_t namelen = port ? (size_t)(port - 1 - rest) : hl;
	if (namelen == 0 || memchr(rest, '@', hl))
		FAIL(a, "expected http://HOST:PORT/PATH like http://127.0.0.1:8080/health; got '%s'",
		     v);
	if (port) {
		char num[16];
		size_t pl = hl - (size_t)(port - rest);
		int64_t n;
		snprintf(num, sizeof(num), "%.*s", (int)(pl < 15 ? pl : 15), port);
		if (pl == 0 || pl > 5 || util_parse_int(num, &n) < 0 || n < 1 || n > 65535)
			FAIL(a, "expected a port between 1 and 65535 in '%s'", v);
	}
	c->kind = CHECK_HTTP;
	c->target = util_xstrdup(v);
	return 0;
}

/* A check value: tcp:..., http(s)://..., exec:CMD. Returns 1 when v is none of these (the
 * caller says what was expected), 0 when parsed, -1 on a malformed one (err filled). */
static int parse_check(const struct at *a, const char *v, struct conf_check *c)
{
	if (strncasecmp(v, "tcp:", 4) == 0)
		return parse_tcp(a, v + 4, c);
	if (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0)
		return parse_http(a, v, c);
	if (strncasecmp(v, "exec:", 5) == 0) {
		char why[128];
		char **argv = util_split_argv(v + 5, why, sizeof(why));
		if (!argv)
			FAIL(a, "exec:CMD: %s (the command is split like `command`); got '%s'",
			     strcmp(why, "empty command") == 0 ? "no command given" : why, v);
		c->kind = CHECK_EXEC;
		c->target = util_xstrdup(v + 5);
		c->argv = argv;
		return 0;
	}
	return 1;
}

static int parse_ready(const struct at *a, const char *v, void *base)
{
	while (isspace((unsigned char)*v))
		v++;
	if (strcasecmp(v, "none") == 0) {
		FIELD(base, a->k->off, int) = READY_NONE;
		return 0;
	}
	if (strcasecmp(v, "notify") == 0) {
		FIELD(base, a->k->off, int) = READY_NOTIFY;
		return 0;
	}
	if (strncasecmp(v, "delay:", 6) == 0) {
		int64_t ms;
		if (util_parse_duration_ms(v + 6, &ms) < 0)
			FAIL(a, "expected delay:DURATION like delay:2s or delay:500ms; got '%s'",
			     v);
		FIELD(base, a->k->off, int) = READY_DELAY;
		FIELD(base, a->k->off2, int64_t) = ms;
		return 0;
	}
	int r = parse_check(a, v, &FIELD(base, a->k->off3, struct conf_check));
	if (r <= 0) {
		if (r == 0)
			FIELD(base, a->k->off, int) = READY_CHECK;
		return r;
	}
	FAIL(a,
	     "expected none, notify, delay:DURATION, tcp:PORT, http://HOST:PORT/PATH or "
	     "exec:CMD; got '%s'",
	     v);
}

static int parse_health_check(const struct at *a, const char *v, void *base)
{
	while (isspace((unsigned char)*v))
		v++;
	if (strcasecmp(v, "none") == 0)
		return 0;
	int r = parse_check(a, v, &FIELD(base, a->k->off, struct conf_check));
	if (r <= 0)
		return r;
	FAIL(a, "expected none, tcp:PORT, http://HOST:PORT/PATH or exec:CMD; got '%s'", v);
}

static int parse_one(const struct at *a, const char *v, void *base)
{
	const struct conf_keydef *k = a->k;
	int64_t i64;
	int r;
	switch (k->type) {
	case CK_STR:
	case CK_PATH:
	case CK_NAME:
	case CK_LOGFILE: {
		char *s = NULL;
		if (k->type == CK_LOGFILE && strcmp(v, "-") == 0)
			s = NULL;
		else if (k->type == CK_LOGFILE && !*v)
			FAIL(a, "expected a file path, or '-' for stderr; got ''");
		else if (*v && (k->type == CK_PATH || k->type == CK_LOGFILE))
			s = conf_abspath(a->sec->dir, v);
		else if (*v)
			s = util_xstrdup(v);
		if (s && k->type == CK_NAME) {
			for (char *c = s; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (!conf_valid_name(s)) {
				free(s);
				FAIL(a,
				     "'%s' is not a valid name: names start with a letter or digit "
				     "and "
				     "hold only letters, digits, '_' and '-'",
				     v);
			}
		}
		FIELD(base, k->off, char *) = s;
		return 0;
	}
	case CK_INT:
	case CK_I64:
		r = util_parse_int(v, &i64);
		if (r == -EINVAL)
			FAIL(a, "expected a whole number; got '%s'", v);
		if (r < 0 || i64 < k->min || i64 > k->max) {
			/* "between 0 and 2147483647" reads badly: name only the bound that was
			 * missed */
			int huge = k->max >= INT32_MAX;
			if (huge && r == 0 && i64 < k->min)
				FAIL(a, "must be %lld or more; got '%s'", (long long)k->min, v);
			if (huge)
				FAIL(a, "must be at most %lld; got '%s'", (long long)k->max, v);
			FAIL(a, "must be between %lld and %lld; got '%s'", (long long)k->min,
			     (long long)k->max, v);
		}
		if (k->type == CK_INT)
			FIELD(base, k->off, int) = (int)i64;
		else
			FIELD(base, k->off, int64_t) = i64;
		return 0;
	case CK_BOOL:
		if (util_parse_bool(v, &FIELD(base, k->off, int)) < 0)
			FAIL(a, "expected true or false (or yes/no, on/off, 1/0); got '%s'", v);
		return 0;
	case CK_DURATION:
		r = util_parse_duration_ms(v, &FIELD(base, k->off, int64_t));
		if (r == -ERANGE)
			FAIL(a, "duration out of range (it must be 0 or more); got '%s'", v);
		if (r < 0)
			FAIL(a, "expected a duration like 10s, 1500ms, 5m; got '%s'", v);
		if (k->min > 0 && FIELD(base, k->off, int64_t) < k->min)
			FAIL(a, "must be at least %lldms; got '%s'", (long long)k->min, v);
		return 0;
	case CK_PERCENT:
		r = util_parse_percent(v, &FIELD(base, k->off, double));
		if (r < 0 || FIELD(base, k->off, double) < 0)
			FAIL(a, "expected a percentage of one core like 50%% or 150%%; got '%s'", v);
		return 0;
	case CK_SIZE:
	case CK_CORE:
		if (k->type == CK_CORE && strcasecmp(v, "inherit") == 0) {
			FIELD(base, k->off, int64_t) = -1;
			return 0;
		}
		r = util_parse_size(v, &FIELD(base, k->off, int64_t));
		if (r == -ERANGE)
			FAIL(a, "size out of range (it must be 0 or more); got '%s'", v);
		if (r < 0)
			FAIL(a, "expected a size like 512, 64K, 10M, 1G%s; got '%s'",
			     k->type == CK_CORE ? " (or inherit)" : "", v);
		return 0;
	case CK_ENUM:
		return parse_enum(a, v, &FIELD(base, k->off, int));
	case CK_SIGNAL:
		return parse_signal(a, v, &FIELD(base, k->off, int));
	case CK_UMASK:
		r = util_parse_mode(v, &i64);
		if (r < 0 || i64 > 0777)
			FAIL(a, "expected an octal umask like 022 or 027; got '%s'", v);
		FIELD(base, k->off, mode_t) = (mode_t)i64;
		return 0;
	case CK_LIST:
		FIELD(base, k->off, char **) = util_split_list(v);
		return 0;
	case CK_NAMES:
		return parse_names(a, v, &FIELD(base, k->off, char **));
	case CK_ENV:
		return parse_env(a, v, &FIELD(base, k->off, char **));
	case CK_CODES:
		return parse_codes(a, v, base);
	case CK_READY:
		return parse_ready(a, v, base);
	case CK_CHECK:
		return parse_health_check(a, v, base);
	case CK_ARGV: {
		char why[128];
		char **argv = util_split_argv(v, why, sizeof(why));
		if (!argv) {
			if (strcmp(why, "empty command") == 0)
				FAIL(
				    a,
				    "empty command: expected the program to run and its arguments");
			FAIL(a,
			     "cannot split the command: %s (quote with '...' or \"...\", escape "
			     "with "
			     "\\)",
			     why);
		}
		FIELD(base, k->off, char *) = util_xstrdup(v);
		FIELD(base, k->off2, char **) = argv;
		return 0;
	}
	case CK_PATHLIST:
	case CK_PATHLIST_COMMA: {
		const char *sep = k->type == CK_PATHLIST ? ":" : ",";
		char **dirs = util_xcalloc(strlen(v) + 2, sizeof(char *));
		FIELD(base, k->off, char **) = dirs;
		size_t n = 0;
		char *copy = util_xstrdup(v), *save = NULL;
		for (char *d = strtok_r(copy, sep, &save); d; d = strtok_r(NULL, sep, &save)) {
			while (isspace((unsigned char)*d))
				d++;
			for (size_t e = strlen(d); e > 0 && isspace((unsigned char)d[e - 1]); e--)
				d[e - 1] = '\0';
			if (*d)
				dirs[n++] = conf_abspath(a->sec->dir, d);
		}
		free(copy);
		return 0;
	}
	case CK_EARLY:
	case CK_LATER:
		return 0;
	}
	return 0;
}

int conf_apply(const struct conf_section *sec, const struct conf_keydef *keys, size_t nkeys,
               void *base, struct conf_error *err)
{
	for (size_t i = 0; i < sec->nkv; i++) {
		const struct conf_kv *kv = &sec->kv[i];
		const struct conf_keydef *k = NULL;
		for (size_t j = 0; j < nkeys && !k; j++)
			if (strcmp(keys[j].name, kv->key) == 0)
				k = &keys[j];
		if (!k) {
			const char *cands[64];
			size_t n = 0;
			for (size_t j = 0; j < nkeys && n < 64; j++)
				cands[n++] = keys[j].name;
			char h[512];
			hint(h, sizeof(h), kv->key, cands, n);
			const char *home = conf_key_home(kv->key);
			if (!h[0] && home) {
				snprintf(h, sizeof(h), " (%s belongs in %s)", kv->key, home);
			} else if (!h[0] && n <= 8) {
				size_t len =
				    (size_t)snprintf(h, sizeof(h), "; [%s] takes ", sec->name);
				for (size_t j = 0; j < n && len < sizeof(h); j++)
					len += (size_t)snprintf(h + len, sizeof(h) - len, "%s%s",
					                        j == 0       ? ""
					                        : j + 1 == n ? " and "
					                                     : ", ",
					                        cands[j]);
			} else if (!h[0]) {
				snprintf(h, sizeof(h),
				         " (docs/configuration.md lists the keys of [%s])",
				         sec->name);
			}
			conf_errf(err, sec->file, kv->line, sec->name, kv->key, "unknown key%s", h);
			return -1;
		}
		if (k->type == CK_LATER) {
			conf_errf(
			    err, sec->file, kv->line, sec->name, kv->key,
			    "%s is not supported yet (it is planned: see docs/configuration.md)",
			    kv->key);
			return -1;
		}
	}
	for (size_t j = 0; j < nkeys; j++) {
		const struct conf_keydef *k = &keys[j];
		if (k->type == CK_LATER || k->type == CK_EARLY)
			continue;
		const struct conf_kv *kv = conf_section_get(sec, k->name);
		if (!kv && k->required) {
			conf_errf(err, sec->file, sec->line, sec->name, NULL,
			          "missing required key '%s' (%s)", k->name, k->doc);
			return -1;
		}
		const char *v = kv ? kv->value : k->def;
		if (!v) {
			if (k->type == CK_UMASK)
				FIELD(base, k->off, mode_t) = (mode_t)-1;
			continue;
		}
		struct at a = {sec, k, kv ? kv->line : sec->line, err};
		if (parse_one(&a, v, base) < 0)
			return -1;
	}
	return 0;
}
