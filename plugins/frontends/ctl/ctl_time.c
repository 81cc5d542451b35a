/* ctl_time.c — the times of ps and stats: durations back from now, RFC 3339, JSON timestamps. */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/vjson.h"

/* The same grammar as the configuration's durations (SPEC §2), so `--since 90s` reads as
 * `stop_timeout = 90s` does: components from large to small, each once. */
int ctl_parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	const size_t nunits = sizeof units / sizeof units[0];
	size_t last = nunits;
	double acc = 0;
	int parts = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -EINVAL;
	while (*s && !isspace((unsigned char)*s)) {
		double whole = 0, frac = 0, scale = 1;
		size_t u = nunits, i;
		int digits = 0;

		for (; isdigit((unsigned char)*s); s++, digits++)
			whole = whole * 10 + (*s - '0');
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++, digits++)
				frac += (*s - '0') / (scale *= 10);
		if (!digits)
			return -EINVAL;
		if (!*s || isspace((unsigned char)*s)) {
			if (parts)
				return -EINVAL; /* "1m30" is ambiguous */
			u = 1;                  /* a bare number is seconds */
		} else {
			for (i = 0; i < nunits; i++) {
				size_t n = strlen(units[i].u);

				if (strncmp(s, units[i].u, n) == 0 &&
				    !(n == 1 && isalpha((unsigned char)s[1]))) {
					u = i;
					s += n;
					break;
				}
			}
			if (u == nunits || (parts && units[u].ms >= units[last].ms))
				return -EINVAL;
		}
		acc += (whole + frac) * (double)units[u].ms;
		last = u;
		parts++;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -EINVAL;
	if (acc > 9.2e15)
		return -ERANGE;
	*out = (int64_t)(acc + 0.5);
	return 0;
}

static int digits_at(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int ctl_parse_rfc3339(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	while (isspace((unsigned char)*s))
		s++;
	if (digits_at(s, 4, &y) || s[4] != '-' || digits_at(s + 5, 2, &mo) || s[7] != '-' ||
	    digits_at(s + 8, 2, &d))
		return -EINVAL;
	s += 10;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		if (digits_at(s + 1, 2, &h) || s[3] != ':' || digits_at(s + 4, 2, &mi))
			return -EINVAL;
		s += 6;
		if (*s == ':') {
			if (digits_at(s + 1, 2, &sec))
				return -EINVAL;
			s += 3;
			if (*s == '.' || *s == ',') {
				int scale = 100;

				if (!isdigit((unsigned char)s[1]))
					return -EINVAL;
				for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
					ms += (*s - '0') * scale;
			}
		}
		/* no offset: UTC, as every time vigil prints is */
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int oh, om, sign = *s == '-' ? -1 : 1;

			if (digits_at(s + 1, 2, &oh) || s[3] != ':' || digits_at(s + 4, 2, &om) ||
			    oh > 23 || om > 59)
				return -EINVAL;
			off = sign * (oh * 3600 + om * 60);
			s += 6;
		}
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* timegm normalises 2026-02-31 */
		return -EINVAL;
	*out = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

int ctl_parse_when(const json_t *v, int64_t now_ms, int64_t *out, char *err, size_t errlen)
{
	const char *s;
	int64_t d;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "expected a duration like 2h or an RFC 3339 time");
		return -EINVAL;
	}
	s = json_string_value(v);
	if (ctl_parse_duration_ms(s, &d) == 0) {
		*out = d < now_ms ? now_ms - d : 0;
		return 0;
	}
	if (ctl_parse_rfc3339(s, out) == 0)
		return 0;
	snprintf(err, errlen,
	         "expected a duration back from now (2h, 30m, 1h30m) or an RFC 3339 time "
	         "(2026-11-27T03:04:05Z), got '%.64s'",
	         s);
	return -EINVAL;
}

json_t *ctl_time_json(int64_t unix_ms)
{
	char buf[40];

	if (unix_ms <= 0)
		return json_null();
	vjson_time(buf, sizeof buf, unix_ms * 1000);
	return json_string(buf);
}
