/* util.c — the small value parsers (numbers, durations, sizes, signals), formatters, xalloc. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Trims blanks on both sides into [*b, *e); returns 0 when nothing is left. */
static int span(const char *s, const char **b, const char **e)
{
	if (!s)
		return 0;
	while (isspace((unsigned char)*s))
		s++;
	const char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*b = s;
	*e = end;
	return end > s;
}

int util_parse_int(const char *s, int64_t *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	const char *p = b;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p == e)
		return -EINVAL;
	uint64_t v = 0;
	/* The magnitude of INT64_MIN is one more than INT64_MAX. */
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	int range = 0;
	for (; p < e; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (lim - d) / 10)
			range = 1;
		else
			v = v * 10 + d;
	}
	if (range)
		return -ERANGE;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int util_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	size_t n = (size_t)(e - b);
	for (size_t i = 0; i < 4; i++) {
		if (strlen(yes[i]) == n && strncasecmp(b, yes[i], n) == 0) {
			*out = 1;
			return 0;
		}
		if (strlen(no[i]) == n && strncasecmp(b, no[i], n) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parses "12", "1.5" at *p (no sign) as whole + frac/10^fdigits; advances *p. */
static int parse_decimal(const char **p, const char *e, uint64_t *whole, uint64_t *frac,
                         uint64_t *fscale)
{
	const char *q = *p;
	uint64_t w = 0, f = 0, sc = 1;
	int digits = 0, range = 0;
	while (q < e && isdigit((unsigned char)*q)) {
		unsigned d = (unsigned)(*q++ - '0');
		if (w > (UINT64_MAX - d) / 10)
			range = 1;
		else
			w = w * 10 + d;
		digits++;
	}
	if (q < e && *q == '.') {
		q++;
		int fd = 0;
		while (q < e && isdigit((unsigned char)*q)) {
			if (sc < 1000000000ULL) { /* finer than 1e-9 is noise for ms and bytes */
				f = f * 10 + (uint64_t)(*q - '0');
				sc *= 10;
			}
			q++;
			fd++;
		}
		if (fd == 0)
			return -EINVAL;
		digits += fd;
	}
	if (digits == 0)
		return -EINVAL;
	*p = q;
	*whole = w;
	*frac = f;
	*fscale = sc;
	return range ? -ERANGE : 0;
}

/* whole.frac * unit, into *acc, with overflow checks against INT64_MAX. */
static int scale_add(uint64_t whole, uint64_t frac, uint64_t fscale, uint64_t unit, int64_t *acc)
{
	if (whole > (uint64_t)INT64_MAX / unit)
		return -ERANGE;
	uint64_t v = whole * unit;
	/* frac < fscale <= 1e9 and unit <= 2^40 would overflow: split the unit. */
	uint64_t fpart = (unit / fscale) * frac + ((unit % fscale) * frac) / fscale;
	if (v > (uint64_t)INT64_MAX - fpart)
		return -ERANGE;
	v += fpart;
	if ((uint64_t)*acc > (uint64_t)INT64_MAX - v)
		return -ERANGE;
	*acc += (int64_t)v;
	return 0;
}

int util_parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	int neg = 0;
	if (*b == '-' || *b == '+')
		neg = *b++ == '-';
	int64_t acc = 0;
	int parts = 0, range = 0;
	size_t last_unit = sizeof(units) / sizeof(units[0]);
	while (b < e) {
		uint64_t w, f, sc;
		int r = parse_decimal(&b, e, &w, &f, &sc);
		if (r == -EINVAL)
			return r;
		if (r == -ERANGE)
			range = 1;
		size_t u = sizeof(units) / sizeof(units[0]);
		if (b == e) {
			if (parts > 0) /* "1m30" is ambiguous */
				return -EINVAL;
			u = 1; /* a bare number is seconds */
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].u);
				if ((size_t)(e - b) >= n && strncmp(b, units[i].u, n) == 0 &&
				    !(n == 1 && b + 1 < e && isalpha((unsigned char)b[1]))) {
					u = i;
					b += n;
					break;
				}
			}
			if (u == sizeof(units) / sizeof(units[0]))
				return -EINVAL;
			/* Components go from large to small, each once: "1h30m", not "30m1h". */
			if (parts > 0 && units[u].ms >= units[last_unit].ms)
				return -EINVAL;
		}
		if (!range && scale_add(w, f, sc, units[u].ms, &acc) < 0)
			range = 1;
		last_unit = u;
		parts++;
	}
	if (range || (neg && acc != 0))
		return -ERANGE;
	*out = acc;
	return 0;
}

int util_parse_size(const char *s, int64_t *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	int neg = 0;
	if (*b == '-' || *b == '+')
		neg = *b++ == '-';
	uint64_t w, f, sc;
	int r = parse_decimal(&b, e, &w, &f, &sc);
	if (r == -EINVAL)
		return r;
	uint64_t unit = 1;
	if (b < e) {
		const char *units = "KMGT";
		const char *u = strchr(units, toupper((unsigned char)*b));
		if (u && *b) {
			unit = 1ULL << (10 * (u - units + 1));
			b++;
			if (b < e && *b == 'i' && b + 1 < e && toupper((unsigned char)b[1]) == 'B')
				b++;
		}
		if (b < e && toupper((unsigned char)*b) == 'B')
			b++;
		if (b != e)
			return -EINVAL;
	}
	if (unit == 1 && f != 0)
		return -EINVAL; /* a fraction of a byte */
	int64_t acc = 0;
	if (r == -ERANGE || scale_add(w, f, sc, unit, &acc) < 0)
		return -ERANGE;
	if (neg && acc != 0)
		return -ERANGE;
	*out = acc;
	return 0;
}

/* A plain decimal number: [+-]digits[.digits][e[+-]digits], no hex, inf or nan. */
static int parse_real(const char *b, const char *e, double *out)
{
	const char *p = b;
	if (p < e && (*p == '+' || *p == '-'))
		p++;
	int digits = 0;
	while (p < e && isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (p < e && *p == '.') {
		p++;
		while (p < e && isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
	}
	if (!digits)
		return -EINVAL;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e || !isdigit((unsigned char)*p))
			return -EINVAL;
		while (p < e && isdigit((unsigned char)*p))
			p++;
	}
	if (p != e)
		return -EINVAL;
	char buf[128];
	size_t n = (size_t)(e - b);
	if (n >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, b, n);
	buf[n] = '\0';
	errno = 0;
	double v = strtod(buf, NULL);
	if ((errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) || !isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_double(const char *s, double *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	return parse_real(b, e, out);
}

int util_parse_percent(const char *s, double *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	if (e[-1] != '%')
		return -EINVAL;
	e--;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	double v;
	int r = parse_real(b, e, &v);
	if (r < 0)
		return r;
	if (v < 0)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_mode(const char *s, int64_t *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	int64_t v = 0;
	int range = 0;
	for (const char *p = b; p < e; p++) {
		if (*p < '0' || *p > '7')
			return -EINVAL;
		v = v * 8 + (*p - '0');
		if (v > 07777)
			range = 1, v = 07777;
	}
	if (range)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	int signo;
} signals[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
#ifdef SIGIO
    {"IO", SIGIO},
#endif
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},
    /* Aliases last, so util_signal_name() finds the usual name first. */
    {"IOT", SIGABRT},
    {"CLD", SIGCHLD},
#ifdef SIGPOLL
    {"POLL", SIGPOLL},
#endif
};

int util_parse_signal(const char *s, int *out)
{
	const char *b, *e;
	if (!span(s, &b, &e))
		return -EINVAL;
	if (isdigit((unsigned char)*b)) {
		int64_t v;
		char buf[32];
		size_t n = (size_t)(e - b);
		if (n >= sizeof(buf))
			return -ERANGE;
		memcpy(buf, b, n);
		buf[n] = '\0';
		int r = util_parse_int(buf, &v);
		if (r < 0)
			return r;
#ifdef SIGRTMAX
		int max = SIGRTMAX;
#else
		int max = 31;
#endif
		if (v < 1 || v > max)
			return -ERANGE;
		*out = (int)v;
		return 0;
	}
	if ((size_t)(e - b) > 3 && strncasecmp(b, "SIG", 3) == 0)
		b += 3;
	size_t n = (size_t)(e - b);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strlen(signals[i].name) == n && strncasecmp(b, signals[i].name, n) == 0) {
			*out = signals[i].signo;
			return 0;
		}
	}
	return -EINVAL;
}

const char *util_signal_name(int signo)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return "?";
}

void util_fmt_duration(char *buf, size_t len, int64_t ms)
{
	static const struct {
		int64_t ms;
		char u;
	} u[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
	const char *sign = "";
	uint64_t v = (uint64_t)ms;
	if (ms < 0) {
		sign = "-";
		v = -(uint64_t)ms;
	}
	if (v < 1000) {
		snprintf(buf, len, "%s%llums", sign, (unsigned long long)v);
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t big = (uint64_t)u[i].ms;
		if (v < big)
			continue;
		uint64_t hi = v / big;
		if (i == 3 || (v % big) / (uint64_t)u[i + 1].ms == 0) {
			snprintf(buf, len, "%s%llu%c", sign, (unsigned long long)hi, u[i].u);
		} else {
			uint64_t lo = (v % big) / (uint64_t)u[i + 1].ms;
			snprintf(buf, len, "%s%llu%c%llu%c", sign, (unsigned long long)hi, u[i].u,
			         (unsigned long long)lo, u[i + 1].u);
		}
		return;
	}
}

void util_fmt_size(char *buf, size_t len, int64_t bytes)
{
	static const char units[] = "KMGTPE";
	if (bytes < 1024) {
		snprintf(buf, len, "%lldB", (long long)bytes);
		return;
	}
	double v = (double)bytes;
	size_t i = 0;
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(units) - 1) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f%c", v, units[i]);
}

void *util_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *util_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		abort();
	return p;
}

char *util_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}
