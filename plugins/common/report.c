/* report.c — the report's shared pieces: clean text, formatting, names, freeing. */
#include "report.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------- clean text ---------------------------------- */

/* The Char production of XML 1.0 (surrogates never get here). */
static int rep_xml_char(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0a || cp == 0x0d;
	return cp != 0xfffe && cp != 0xffff;
}

char *report_text_clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i = 0, o = 0;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	/* one bad byte becomes 3 bytes at most */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	while (i < len) {
		uint32_t cp = 0;
		size_t n = vigil_utf8_decode(u + i, len - i, &cp);

		if (n && rep_xml_char(cp)) {
			memcpy(out + o, u + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += n ? n : 1;
		}
	}
	out[o] = '\0';
	return out;
}

/* ---------------------------------- formatting ---------------------------------- */

/* RFC 3339 UTC with milliseconds; 0 when ms cannot be one (unknown, or past year 9999). */
int report_time(char *buf, size_t len, int64_t ms)
{
	time_t secs;
	struct tm tm;
	size_t n;

	if (ms <= 0 || ms > INT64_C(253402300799999))
		return 0;
	secs = (time_t)(ms / 1000);
	if (!gmtime_r(&secs, &tm))
		return 0;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n)
		return 0;
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
	return 1;
}

/* A decimal with `places` digits, independent of the locale (xs:decimal has no exponent and
 * always a dot). 0 for values the report leaves out (negative = unknown, not finite). */
int report_decimal(char *buf, size_t len, double v, int places)
{
	double scale = places == 4 ? 1e4 : 1e3;
	long long whole, frac;

	if (!isfinite(v) || v < 0)
		return 0;
	if (v >= 1e15) {
		snprintf(buf, len, "%.0f", v);
		return 1;
	}
	whole = (long long)v;
	frac = llround((v - (double)whole) * scale);
	if (frac >= (long long)scale) {
		whole++;
		frac -= (long long)scale;
	}
	snprintf(buf, len, "%lld.%0*lld", whole, places, frac);
	return 1;
}

const char *report_health_level(int32_t score)
{
	return score >= 70   ? "healthy"
	       : score >= 40 ? "degraded"
	       : score >= 20 ? "unhealthy"
	                     : "critical";
}

const char *report_task_state_name(enum vigil_task_state s)
{
	return (unsigned)s < VIGIL_TASK_STATE_COUNT ? vigil_task_state_name(s) : "unknown";
}

const char *report_history_name(enum report_history h)
{
	static const char *const names[] = {"included", "unavailable", "failed"};

	return (unsigned)h < 3 ? names[h] : "failed";
}

/* ---------------------------------- freeing ---------------------------------- */

static void rep_free_instance(struct report_instance *in)
{
	free(in->name);
	free(in->last_reason);
	free(in->stdout_log);
	free(in->stderr_log);
	for (size_t i = 0; i < in->nalerts; i++) {
		free(in->alerts[i].id);
		free(in->alerts[i].severity);
		free(in->alerts[i].message);
	}
	free(in->alerts);
	free(in->violations); /* the names are static */
}

void report_free(struct report *r)
{
	size_t i, j;

	if (!r)
		return;
	free(r->host);
	free(r->version);
	free(r->state_dir);
	for (i = 0; i < r->nplugins; i++) {
		struct report_plugin *p = &r->plugins[i];

		free(p->kind);
		free(p->plugin);
		free(p->instance);
		free(p->section);
		free(p->version);
		free(p->description);
		free(p->file);
	}
	free(r->plugins);
	for (i = 0; i < r->nprograms; i++) {
		struct report_program *p = &r->programs[i];

		free(p->name);
		free(p->command);
		for (j = 0; j < p->ntags; j++)
			free(p->tags[j]);
		free(p->tags);
		for (j = 0; j < p->ninst; j++)
			rep_free_instance(&p->inst[j]);
		free(p->inst);
	}
	free(r->programs);
	for (i = 0; i < r->ntasks; i++) {
		struct report_task *t = &r->tasks[i];

		free(t->id);
		free(t->name);
		free(t->type);
		free(t->pool);
		free(t->command);
		free(t->reason);
		free(t->error);
	}
	free(r->tasks);
	for (i = 0; i < r->nstats; i++)
		free(r->stats[i].key);
	free(r->stats);
	free(r);
}

/* ---------------------------------- formats ---------------------------------- */

int report_format_parse(const char *s, enum report_format *out)
{
	if (s && strcmp(s, "xml") == 0)
		*out = REPORT_XML;
	else if (s && strcmp(s, "json") == 0)
		*out = REPORT_JSON;
	else
		return -EINVAL;
	return 0;
}
